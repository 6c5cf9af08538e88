//! w.c.s. fixture data: users, roles, categories, form definitions (with
//! their workflow statuses), forms and drafts (drafts are forms whose
//! `status` is `draft`, as upstream stores them) and API accesses.
//!
//! Field names follow upstream w.c.s. (`name_identifiers`, `is_admin`,
//! `access_identifier`, `backoffice_submission_roles`, …) so an item of a
//! real answer maps onto a fixture item. Everything is checked at load;
//! indexes are rebuilt after every change.

use std::collections::{BTreeSet, HashMap};

use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::store::{FixtureFiles, Item, ItemRef, Problems};

/// Collections the control plane can change: fixture file and id key.
pub const COLLECTIONS: &[(&str, &str)] = &[
    ("wcs/users.json", "id"),
    ("wcs/roles.json", "id"),
    ("wcs/categories.json", "id"),
    ("wcs/formdefs.json", "id"),
    ("wcs/forms.json", "id"),
    ("wcs/api_accesses.json", "access_identifier"),
];

/// Fixture files compiled into the binary.
pub const BUILTIN_FILES: &[(&str, &str)] = &[
    (
        "wcs/users.json",
        include_str!("../../fixtures/wcs/users.json"),
    ),
    (
        "wcs/roles.json",
        include_str!("../../fixtures/wcs/roles.json"),
    ),
    (
        "wcs/categories.json",
        include_str!("../../fixtures/wcs/categories.json"),
    ),
    (
        "wcs/formdefs.json",
        include_str!("../../fixtures/wcs/formdefs.json"),
    ),
    (
        "wcs/forms.json",
        include_str!("../../fixtures/wcs/forms.json"),
    ),
    (
        "wcs/api_accesses.json",
        include_str!("../../fixtures/wcs/api_accesses.json"),
    ),
];

/// The fixture format of receipt and update times (site-local, naive).
pub const TIME_FORMAT: &str = "%Y-%m-%d %H:%M:%S";

fn yes() -> bool {
    true
}

fn is_true(b: &bool) -> bool {
    *b
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// A user account.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct User {
    pub id: i64,
    #[serde(default)]
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default)]
    pub name_identifiers: Vec<String>,
    #[serde(default)]
    pub roles: Vec<String>,
    #[serde(default, skip_serializing_if = "is_false")]
    pub is_admin: bool,
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    pub is_active: bool,
    #[serde(default, skip_serializing_if = "is_false")]
    pub deleted: bool,
    /// Password for HTTP Basic (a local PasswordAccount upstream).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
    /// Profile fields, varname to text value, in display order.
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub fields: Map<String, Value>,
}

/// A role (a group of agents).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Role {
    pub id: String,
    pub name: String,
    pub slug: String,
    #[serde(default)]
    pub allows_backoffice_access: bool,
    #[serde(default)]
    pub emails: Vec<String>,
    #[serde(default)]
    pub details: String,
    #[serde(default)]
    pub emails_to_members: bool,
}

/// A form category.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Category {
    pub id: String,
    pub name: String,
    pub slug: String,
}

/// A workflow status of a form definition.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Status {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub endpoint: bool,
    /// Shown to the user; a hidden status gives `status: null`.
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    pub visible: bool,
}

/// A form definition.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FormDef {
    pub id: String,
    pub name: String,
    pub slug: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category_id: Option<String>,
    #[serde(default, skip_serializing_if = "is_false")]
    pub disabled: bool,
    #[serde(default, skip_serializing_if = "is_false")]
    pub skip_from_360_view: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub backoffice_submission_roles: Vec<String>,
    pub statuses: Vec<Status>,
}

/// A submitted form, or a draft (`status: "draft"`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Form {
    pub id: i64,
    pub formdef_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<i64>,
    pub status: String,
    pub receipt_time: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_update_time: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_id: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub keywords: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub concerned_roles: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tracking_code: Option<String>,
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub fields: Map<String, Value>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub related: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub submission_channel: Option<String>,
    #[serde(default, skip_serializing_if = "is_false")]
    pub backoffice_submission: bool,
}

impl Form {
    pub fn is_draft(&self) -> bool {
        self.status == "draft"
    }
}

/// An API access: `orig` and key of signed calls, or Basic credentials.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiAccess {
    pub access_identifier: String,
    pub access_key: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub roles: Vec<String>,
    #[serde(default)]
    pub restrict_to_anonymised_data: bool,
}

/// All w.c.s. data, with lookup indexes.
#[derive(Debug, Clone, Default)]
pub struct WcsData {
    pub users: Vec<User>,
    pub roles: Vec<Role>,
    pub categories: Vec<Category>,
    pub formdefs: Vec<FormDef>,
    pub forms: Vec<Form>,
    pub api_accesses: Vec<ApiAccess>,
    pub index: Index,
}

/// Lookup tables rebuilt after every change.
#[derive(Debug, Clone, Default)]
pub struct Index {
    pub user_by_id: HashMap<i64, usize>,
    pub role_by_id: HashMap<String, usize>,
    pub category_by_id: HashMap<String, usize>,
    pub formdef_by_id: HashMap<String, usize>,
    pub access_by_id: HashMap<String, usize>,
    /// Forms of each user, sorted by receipt time then id.
    pub forms_by_user: HashMap<i64, Vec<usize>>,
    /// Forms by concerned role (`_user:<id>` included).
    pub forms_by_role: HashMap<String, Vec<usize>>,
    /// Parsed receipt time of each form.
    pub receipt: Vec<NaiveDateTime>,
    /// Users ordered by unaccented lower-case name, then name, then id.
    pub users_by_name: Vec<usize>,
    /// Lower-cased, unaccented name of each user.
    pub ascii_names: Vec<String>,
    /// Lower-cased email to the first active, non-deleted user.
    pub user_by_email: HashMap<String, usize>,
    /// Name identifier to the first non-deleted user holding it.
    pub user_by_name_id: HashMap<String, usize>,
    /// Each user's directory item, rendered once on first use (a million
    /// generated users are not all rendered at load).
    pub list_json: Vec<std::sync::OnceLock<String>>,
    /// Each form's listing item without its final `readable` key and
    /// closing brace, rendered once on first use and cut where the base
    /// URL goes, so that every namespace (each with its own base URL)
    /// reads the same pieces.
    pub form_json: Vec<std::sync::OnceLock<Vec<String>>>,
}

fn parse_time(s: &str) -> Option<NaiveDateTime> {
    NaiveDateTime::parse_from_str(s, TIME_FORMAT).ok()
}

fn items<T>(v: Vec<Item<T>>) -> Vec<T> {
    v.into_iter().map(|i| i.data).collect()
}

impl WcsData {
    /// Loads and checks the w.c.s. collections of `files`.
    pub fn load(files: &FixtureFiles, problems: &mut Problems) -> Self {
        let users = files.collection::<User>("wcs/users.json", "id", problems);
        let roles = files.collection::<Role>("wcs/roles.json", "id", problems);
        let categories = files.collection::<Category>("wcs/categories.json", "id", problems);
        let formdefs = files.collection::<FormDef>("wcs/formdefs.json", "id", problems);
        let forms = files.collection::<Form>("wcs/forms.json", "id", problems);
        let accesses =
            files.collection::<ApiAccess>("wcs/api_accesses.json", "access_identifier", problems);
        problems.check_unique(&users, "id", |u| u.id);
        problems.check_unique(&roles, "id", |r| r.id.clone());
        problems.check_unique(&categories, "id", |c| c.id.clone());
        problems.check_unique(&formdefs, "id", |f| f.id.clone());
        problems.check_unique(&formdefs, "slug", |f| f.slug.clone());
        problems.check_unique(&forms, "id", |f| f.id);
        problems.check_unique(&accesses, "access_identifier", |a| {
            a.access_identifier.clone()
        });
        let mut data = Self {
            users: Vec::new(),
            roles: items(roles),
            categories: items(categories),
            formdefs: Vec::new(),
            forms: Vec::new(),
            api_accesses: Vec::new(),
            index: Index::default(),
        };
        data.reindex_small();
        for f in &formdefs {
            for p in data.formdef_problems(&f.data) {
                problems.push(f.at.problem(p));
            }
        }
        for a in &accesses {
            for p in data.role_problems("roles", &a.data.roles) {
                problems.push(a.at.problem(p));
            }
        }
        for u in &users {
            for p in data.role_problems("roles", &u.data.roles) {
                problems.push(u.at.problem(p));
            }
        }
        data.formdefs = items(formdefs);
        data.api_accesses = items(accesses);
        data.users = items(users);
        data.reindex_small();
        data.reindex_users();
        for f in &forms {
            for p in data.form_problems(&f.data) {
                problems.push(f.at.problem(p));
            }
        }
        data.forms = items(forms);
        data.reindex_forms();
        data
    }

    /// The data in the fixture format.
    pub fn export(&self) -> Vec<(&'static str, Value)> {
        fn arr<T: Serialize>(v: &[T]) -> Value {
            serde_json::to_value(v).unwrap_or(Value::Array(Vec::new()))
        }
        vec![
            ("wcs/users.json", arr(&self.users)),
            ("wcs/roles.json", arr(&self.roles)),
            ("wcs/categories.json", arr(&self.categories)),
            ("wcs/formdefs.json", arr(&self.formdefs)),
            ("wcs/forms.json", arr(&self.forms)),
            ("wcs/api_accesses.json", arr(&self.api_accesses)),
        ]
    }

    /// Appends pre-built users and forms (generated data), checking their
    /// references and uniqueness; nothing is added when a problem is found.
    pub fn add_generated(&mut self, users: Vec<User>, forms: Vec<Form>) -> Result<(), Problems> {
        let mut problems = Problems::default();
        let mut new_ids = BTreeSet::new();
        for (n, u) in users.iter().enumerate() {
            let at = generated_ref("wcs/users.json", n, u.id.to_string());
            if self.index.user_by_id.contains_key(&u.id) || !new_ids.insert(u.id) {
                problems.push(at.problem(format!("id {} is already used", u.id)));
            }
            for p in self.role_problems("roles", &u.roles) {
                problems.push(at.problem(p));
            }
        }
        let old_users = self.users.len();
        self.users.extend(users);
        self.reindex_users();
        let mut new_form_ids = BTreeSet::new();
        let existing: BTreeSet<i64> = self.forms.iter().map(|f| f.id).collect();
        for (n, f) in forms.iter().enumerate() {
            let at = generated_ref("wcs/forms.json", n, f.id.to_string());
            if existing.contains(&f.id) || !new_form_ids.insert(f.id) {
                problems.push(at.problem(format!("id {} is already used", f.id)));
            }
            for p in self.form_problems(f) {
                problems.push(at.problem(p));
            }
        }
        if !problems.is_empty() {
            self.users.truncate(old_users);
            self.reindex_users();
            return Err(problems);
        }
        self.forms.extend(forms);
        self.reindex_forms();
        Ok(())
    }

    fn role_problems(&self, field: &str, roles: &[String]) -> Vec<String> {
        roles
            .iter()
            .filter(|r| !self.index.role_by_id.contains_key(*r))
            .map(|r| format!("field {field}: unknown role {r:?} (not in wcs/roles.json)"))
            .collect()
    }

    fn formdef_problems(&self, f: &FormDef) -> Vec<String> {
        let mut out = Vec::new();
        if let Some(c) = &f.category_id
            && !self.index.category_by_id.contains_key(c)
        {
            out.push(format!(
                "field category_id: unknown category {c:?} (not in wcs/categories.json)"
            ));
        }
        out.extend(self.role_problems(
            "backoffice_submission_roles",
            &f.backoffice_submission_roles,
        ));
        let mut seen = BTreeSet::new();
        for s in &f.statuses {
            if s.id == "draft" {
                out.push("field statuses: status id \"draft\" is reserved for drafts".into());
            }
            if !seen.insert(s.id.clone()) {
                out.push(format!("field statuses: status id {:?} is repeated", s.id));
            }
        }
        out
    }

    fn form_problems(&self, f: &Form) -> Vec<String> {
        let mut out = Vec::new();
        match self.index.formdef_by_id.get(&f.formdef_id) {
            None => out.push(format!(
                "field formdef_id: unknown form definition {:?} (not in wcs/formdefs.json)",
                f.formdef_id
            )),
            Some(&d) => {
                let def = &self.formdefs[d];
                if !f.is_draft() && !def.statuses.iter().any(|s| s.id == f.status) {
                    out.push(format!(
                        "field status: unknown status {:?} (form definition {} has {}, or \"draft\")",
                        f.status,
                        def.id,
                        def.statuses
                            .iter()
                            .map(|s| format!("{:?}", s.id))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ));
                }
            }
        }
        if let Some(u) = f.user_id
            && !self.index.user_by_id.contains_key(&u)
        {
            out.push(format!(
                "field user_id: unknown user {u} (not in wcs/users.json)"
            ));
        }
        if parse_time(&f.receipt_time).is_none() {
            out.push(format!(
                "field receipt_time: {:?} is not a time like \"2014-03-28 15:36:52\"",
                f.receipt_time
            ));
        }
        if let Some(t) = &f.last_update_time
            && parse_time(t).is_none()
        {
            out.push(format!(
                "field last_update_time: {t:?} is not a time like \"2014-03-28 15:36:52\""
            ));
        }
        for r in &f.concerned_roles {
            let ok = match r.strip_prefix("_user:") {
                Some(id) => id
                    .parse::<i64>()
                    .is_ok_and(|id| self.index.user_by_id.contains_key(&id)),
                None => self.index.role_by_id.contains_key(r),
            };
            if !ok {
                out.push(format!(
                    "field concerned_roles: unknown role {r:?} (a role id, or _user:<user id>)"
                ));
            }
        }
        out
    }

    fn reindex_small(&mut self) {
        let ix = &mut self.index;
        ix.role_by_id = position(&self.roles, |r| r.id.clone());
        ix.category_by_id = position(&self.categories, |c| c.id.clone());
        ix.formdef_by_id = position(&self.formdefs, |f| f.id.clone());
        ix.access_by_id = position(&self.api_accesses, |a| a.access_identifier.clone());
    }

    fn reindex_users(&mut self) {
        let ix = &mut self.index;
        ix.user_by_id = position(&self.users, |u| u.id);
        ix.user_by_email.clear();
        ix.user_by_name_id.clear();
        ix.list_json = (0..self.users.len())
            .map(|_| std::sync::OnceLock::new())
            .collect();
        for (i, u) in self.users.iter().enumerate() {
            if u.deleted {
                continue;
            }
            if u.is_active
                && let Some(e) = &u.email
            {
                ix.user_by_email.entry(e.to_lowercase()).or_insert(i);
            }
            for n in &u.name_identifiers {
                ix.user_by_name_id.entry(n.clone()).or_insert(i);
            }
        }
        ix.ascii_names = self
            .users
            .iter()
            .map(|u| crate::wcs::text::unaccent(&u.name).to_lowercase())
            .collect();
        let mut order: Vec<usize> = (0..self.users.len()).collect();
        // Like a French collation: accents and case only break ties.
        let ascii = &ix.ascii_names;
        order.sort_by(|&a, &b| {
            ascii[a]
                .cmp(&ascii[b])
                .then_with(|| self.users[a].name.cmp(&self.users[b].name))
                .then(self.users[a].id.cmp(&self.users[b].id))
        });
        ix.users_by_name = order;
    }

    fn reindex_forms(&mut self) {
        let ix = &mut self.index;
        ix.receipt = self
            .forms
            .iter()
            .map(|f| parse_time(&f.receipt_time).unwrap_or_default())
            .collect();
        ix.form_json = (0..self.forms.len())
            .map(|_| std::sync::OnceLock::new())
            .collect();
        ix.forms_by_user.clear();
        ix.forms_by_role.clear();
        for (i, f) in self.forms.iter().enumerate() {
            if let Some(u) = f.user_id {
                ix.forms_by_user.entry(u).or_default().push(i);
            }
            for r in &f.concerned_roles {
                ix.forms_by_role.entry(r.clone()).or_default().push(i);
            }
        }
        let receipt = &ix.receipt;
        let forms = &self.forms;
        let key = |i: &usize| (receipt[*i], forms[*i].id);
        for v in ix.forms_by_user.values_mut() {
            v.sort_by_key(key);
        }
        for v in ix.forms_by_role.values_mut() {
            v.sort_by_key(key);
        }
    }

    pub fn user(&self, id: i64) -> Option<&User> {
        self.index.user_by_id.get(&id).map(|&i| &self.users[i])
    }

    pub fn role(&self, id: &str) -> Option<&Role> {
        self.index.role_by_id.get(id).map(|&i| &self.roles[i])
    }

    pub fn formdef(&self, id: &str) -> Option<&FormDef> {
        self.index.formdef_by_id.get(id).map(|&i| &self.formdefs[i])
    }

    pub fn category(&self, id: &str) -> Option<&Category> {
        self.index
            .category_by_id
            .get(id)
            .map(|&i| &self.categories[i])
    }

    pub fn access(&self, id: &str) -> Option<&ApiAccess> {
        self.index
            .access_by_id
            .get(id)
            .map(|&i| &self.api_accesses[i])
    }
}

fn generated_ref(file: &str, n: usize, id: String) -> ItemRef {
    ItemRef {
        file: format!("{file} (generated)"),
        number: n + 1,
        id: Some(id),
    }
}

fn position<T, K: std::hash::Hash + Eq>(v: &[T], key: impl Fn(&T) -> K) -> HashMap<K, usize> {
    let mut m = HashMap::with_capacity(v.len());
    for (i, x) in v.iter().enumerate() {
        m.entry(key(x)).or_insert(i);
    }
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_builtin_fixtures_load_and_export_round_trips() {
        let files = FixtureFiles::compiled_in(BUILTIN_FILES);
        let mut problems = Problems::default();
        let data = WcsData::load(&files, &mut problems);
        assert!(problems.is_empty(), "{problems}");
        let map = data
            .export()
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_string()))
            .collect();
        let again = WcsData::load(&FixtureFiles::from_map("x", map), &mut problems);
        assert!(problems.is_empty(), "{problems}");
        assert_eq!(again.users, data.users);
        assert_eq!(again.forms, data.forms);
        assert_eq!(again.formdefs, data.formdefs);
    }

    #[test]
    fn a_form_of_an_unknown_user_and_status_is_reported() {
        let mut map: std::collections::BTreeMap<String, String> = BUILTIN_FILES
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        map.insert(
            "wcs/forms.json".into(),
            r#"[{"id": 1, "formdef_id": "1", "user_id": 99, "status": "nope", "receipt_time": "2020-01-01 00:00:00"}]"#.into(),
        );
        let mut problems = Problems::default();
        WcsData::load(&FixtureFiles::from_map("d", map), &mut problems);
        let text = problems.to_string();
        assert!(
            text.contains("d/wcs/forms.json: item 1 (id 1): field status: unknown status \"nope\""),
            "{text}"
        );
        assert!(text.contains("field user_id: unknown user 99"), "{text}");
    }

    #[test]
    fn every_broken_reference_and_duplicate_is_reported() {
        let mut map = std::collections::BTreeMap::new();
        map.insert(
            "wcs/roles.json".to_string(),
            r#"[{"id": "1", "name": "A", "slug": "a"}]"#.to_string(),
        );
        map.insert("wcs/categories.json".into(), "[]".into());
        map.insert(
            "wcs/formdefs.json".into(),
            r#"[{"id": "1", "name": "F", "slug": "f", "category_id": "9", "backoffice_submission_roles": ["8"], "statuses": [{"id": "new", "name": "N"}, {"id": "new", "name": "N"}]}]"#.into(),
        );
        map.insert(
            "wcs/users.json".into(),
            r#"[{"id": 1, "roles": ["7"]}, {"id": 1}, {"id": 2, "nickname": "x"}]"#.into(),
        );
        map.insert(
            "wcs/api_accesses.json".into(),
            r#"[{"access_identifier": "a", "access_key": "k", "roles": ["6"]}]"#.into(),
        );
        map.insert(
            "wcs/forms.json".into(),
            r#"[{"id": 1, "formdef_id": "2", "status": "new", "receipt_time": "yesterday", "concerned_roles": ["_user:99", "5"]}]"#.into(),
        );
        let mut problems = Problems::default();
        WcsData::load(&FixtureFiles::from_map("d", map), &mut problems);
        let text = problems.to_string();
        for expected in [
            "d/wcs/users.json: item 2 (id 1): id 1 is already used by item 1",
            "d/wcs/users.json: item 3 (id 2): field nickname: unknown field `nickname`",
            "d/wcs/users.json: item 1 (id 1): field roles: unknown role \"7\"",
            "d/wcs/formdefs.json: item 1 (id 1): field category_id: unknown category \"9\"",
            "field backoffice_submission_roles: unknown role \"8\"",
            "field statuses: status id \"new\" is repeated",
            "d/wcs/api_accesses.json: item 1 (id a): field roles: unknown role \"6\"",
            "d/wcs/forms.json: item 1 (id 1): field formdef_id: unknown form definition \"2\"",
            "field receipt_time: \"yesterday\" is not a time",
            "field concerned_roles: unknown role \"_user:99\"",
            "field concerned_roles: unknown role \"5\"",
        ] {
            assert!(text.contains(expected), "{expected}\n---\n{text}");
        }
    }

    #[test]
    fn generated_users_and_forms_are_added_and_checked() {
        let mut problems = Problems::default();
        let mut data = WcsData::load(&FixtureFiles::compiled_in(BUILTIN_FILES), &mut problems);
        let mut u = data.users[0].clone();
        u.id = 5000;
        let mut f = data.forms[0].clone();
        f.id = 9000;
        f.user_id = Some(5000);
        data.add_generated(vec![u.clone()], vec![f]).unwrap();
        assert_eq!(data.index.forms_by_user[&5000].len(), 1);
        let err = data.add_generated(vec![u.clone()], vec![]).unwrap_err();
        assert_eq!(data.users.len(), 13);
        let mut bad = data.forms[0].clone();
        bad.id = 9001;
        bad.formdef_id = "nope".into();
        let err2 = data.add_generated(vec![], vec![bad]).unwrap_err();
        assert!(
            err2.to_string()
                .contains("unknown form definition \"nope\""),
            "{err2}"
        );
        assert!(err.to_string().contains("id 5000 is already used"));
    }

    #[test]
    fn a_hundred_thousand_generated_users_are_indexed() {
        let mut problems = Problems::default();
        let mut data = WcsData::load(&FixtureFiles::compiled_in(BUILTIN_FILES), &mut problems);
        let template = data.users[0].clone();
        let users: Vec<User> = (0..100_000)
            .map(|n| User {
                id: 100_000 + n,
                name: format!("Gén {n:06}"),
                email: Some(format!("gen{n}@example.org")),
                name_identifiers: vec![format!("gen-{n}")],
                ..template.clone()
            })
            .collect();
        data.add_generated(users, vec![]).unwrap();
        let i = data.index.user_by_email["gen99999@example.org"];
        assert_eq!(data.users[i].name, "Gén 099999");
        assert_eq!(
            data.index.user_by_name_id["gen-5"],
            data.index.user_by_id[&100_005]
        );
    }
}
