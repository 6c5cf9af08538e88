//! Loading, checking and exporting the w.c.s. collections, and adding
//! generated users and forms.

use std::collections::BTreeSet;
use std::sync::Arc;

use serde::Serialize;
use serde_json::Value;

use crate::store::{FixtureFiles, Item, ItemRef, Problem, Problems};

use super::{
    ApiAccess, COLLECTIONS, Category, Form, FormDef, Index, Role, USERS_FILE, User, WcsData,
    fresh_cells, parse_time,
};

fn items<T>(v: Vec<Item<T>>) -> Vec<T> {
    v.into_iter().map(|i| i.data).collect()
}

fn shared_users(v: Vec<Item<User>>) -> imbl::Vector<Arc<User>> {
    v.into_iter().map(|i| Arc::new(i.data)).collect()
}

impl WcsData {
    /// Loads and checks the w.c.s. collections of `files`.
    pub fn load(files: &FixtureFiles, problems: &mut Problems) -> Self {
        Self::load_with(files, None, problems)
    }

    /// Loads and checks the collections of `files` but the users and the
    /// forms, which are `kept`'s, shared rather than read again: they are
    /// checked against the new collections as [`Self::load`] would.
    pub fn load_keeping_items(
        files: &FixtureFiles,
        kept: &WcsData,
        problems: &mut Problems,
    ) -> Self {
        Self::load_with(files, Some(kept), problems)
    }

    pub(super) fn load_with(
        files: &FixtureFiles,
        kept: Option<&WcsData>,
        problems: &mut Problems,
    ) -> Self {
        let users = match kept {
            None => files.collection::<User>(USERS_FILE, "id", problems),
            Some(_) => Vec::new(),
        };
        let roles = files.collection::<Role>("wcs/roles.json", "id", problems);
        let categories = files.collection::<Category>("wcs/categories.json", "id", problems);
        let formdefs = files.collection::<FormDef>("wcs/formdefs.json", "id", problems);
        let forms = match kept {
            None => files.collection::<Form>("wcs/forms.json", "id", problems),
            Some(_) => Vec::new(),
        };
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
            users: imbl::Vector::new(),
            roles: items(roles),
            categories: items(categories),
            formdefs: Vec::new(),
            forms: imbl::Vector::new(),
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
        match kept {
            None => {
                for u in &users {
                    for p in data.role_problems("roles", &u.data.roles) {
                        problems.push(u.at.problem(p));
                    }
                }
            }
            Some(kept) => {
                for (n, u) in kept.users.iter().enumerate() {
                    let wrong = data.role_problems("roles", &u.roles);
                    if wrong.is_empty() {
                        continue;
                    }
                    let at = ItemRef {
                        file: files.shown(USERS_FILE),
                        number: n + 1,
                        id: Some(u.id.to_string()),
                    };
                    for p in wrong {
                        problems.push(at.problem(p));
                    }
                }
            }
        }
        data.formdefs = items(formdefs);
        data.api_accesses = items(accesses);
        data.reindex_small();
        match kept {
            None => {
                data.users = shared_users(users);
                data.reindex_users();
            }
            Some(kept) => {
                data.users = kept.users.clone();
                let roles_changed = data.roles != kept.roles;
                data.index.user_by_id = kept.index.user_by_id.clone();
                data.index.users_by_name = kept.index.users_by_name.clone();
                data.index.ascii_names = kept.index.ascii_names.clone();
                data.index.user_by_email = kept.index.user_by_email.clone();
                data.index.user_by_name_id = kept.index.user_by_name_id.clone();
                // A user's directory item names its roles.
                data.index.list_json = if roles_changed {
                    fresh_cells(data.users.len())
                } else {
                    kept.index.list_json.clone()
                };
            }
        }
        for f in &forms {
            for p in data.form_problems(&f.data) {
                problems.push(f.at.problem(p));
            }
        }
        match kept {
            None => {
                data.forms = items(forms).into_iter().map(Arc::new).collect();
                data.reindex_forms();
            }
            Some(kept) => {
                for (n, f) in kept.forms.iter().enumerate() {
                    let wrong = data.form_problems(f);
                    if wrong.is_empty() {
                        continue;
                    }
                    let at = ItemRef {
                        file: files.shown("wcs/forms.json"),
                        number: n + 1,
                        id: Some(f.id.to_string()),
                    };
                    for p in wrong {
                        problems.push(at.problem(p));
                    }
                }
                data.forms = kept.forms.clone();
                data.index.receipt = kept.index.receipt.clone();
                data.index.form_by_id = kept.index.form_by_id.clone();
                data.index.forms_by_user = kept.index.forms_by_user.clone();
                data.index.forms_by_role = kept.index.forms_by_role.clone();
                // A form's listing item names its definition, statuses and
                // category.
                data.index.form_json =
                    if data.formdefs != kept.formdefs || data.categories != kept.categories {
                        (0..data.forms.len()).map(|_| Arc::default()).collect()
                    } else {
                        kept.index.form_json.clone()
                    };
            }
        }
        data
    }

    /// The data in the fixture format.
    pub fn export(&self) -> Vec<(&'static str, Value)> {
        COLLECTIONS
            .iter()
            .map(|(file, _)| (*file, self.export_file(file)))
            .collect()
    }

    /// The data in the fixture format, but the users and the forms, which
    /// are kept as they are by [`Self::load_keeping_items`].
    pub fn export_settings(&self) -> Vec<(&'static str, Value)> {
        COLLECTIONS
            .iter()
            .filter(|(file, _)| !matches!(*file, USERS_FILE | "wcs/forms.json"))
            .map(|(file, _)| (*file, self.export_file(file)))
            .collect()
    }

    /// One collection in the fixture format (`Null` for a file that is not
    /// one of w.c.s.'s).
    pub fn export_file(&self, file: &str) -> Value {
        fn arr<'a, T: Serialize + 'a>(v: impl IntoIterator<Item = &'a T>) -> Value {
            Value::Array(
                v.into_iter()
                    .map(|x| serde_json::to_value(x).unwrap_or(Value::Null))
                    .collect(),
            )
        }
        match file {
            USERS_FILE => arr(self.users.iter().map(|u| &**u)),
            "wcs/roles.json" => arr(&self.roles),
            "wcs/categories.json" => arr(&self.categories),
            "wcs/formdefs.json" => arr(&self.formdefs),
            "wcs/forms.json" => arr(self.forms.iter().map(|f| &**f)),
            "wcs/api_accesses.json" => arr(&self.api_accesses),
            _ => Value::Null,
        }
    }

    /// What [`Self::load`] would say of the forms that name user `id` (as
    /// their user or as `_user:<id>`) were that user gone, found from the
    /// indexes alone: the refusal of a change that takes a user its forms
    /// still name, at the cost of those forms rather than a load of
    /// everything. `file` is the forms file as the problems name it.
    pub fn problems_of_forms_losing(&self, id: i64, file: &str) -> Vec<Problem> {
        let role = format!("_user:{id}");
        let mut at: Vec<usize> = self
            .index
            .forms_by_user
            .get(&id)
            .into_iter()
            .chain(self.index.forms_by_role.get(&role))
            .flatten()
            .copied()
            .collect();
        if at.is_empty() {
            return Vec::new();
        }
        at.sort_unstable();
        at.dedup();
        let mut without = self.clone();
        without.index.user_by_id.remove(&id);
        let mut out = Vec::new();
        for n in at {
            let Some(form) = without.forms.get(n) else {
                continue;
            };
            let item = ItemRef {
                file: file.to_owned(),
                number: n + 1,
                id: Some(form.id.to_string()),
            };
            out.extend(
                without
                    .form_problems(form)
                    .into_iter()
                    .map(|p| item.problem(p)),
            );
        }
        out
    }

    /// What is wrong with `user`'s references, as [`Self::load`] says it.
    pub fn user_problems(&self, user: &User) -> Vec<String> {
        self.role_problems("roles", &user.roles)
    }

    /// What is wrong with `form`'s references and times, as
    /// [`Self::load`] says it.
    pub fn form_problems_of(&self, form: &Form) -> Vec<String> {
        self.form_problems(form)
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
        self.users.extend(users.into_iter().map(Arc::new));
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
        self.forms.extend(forms.into_iter().map(Arc::new));
        self.reindex_forms();
        Ok(())
    }

    pub(super) fn role_problems(&self, field: &str, roles: &[String]) -> Vec<String> {
        roles
            .iter()
            .filter(|r| !self.index.role_by_id.contains_key(*r))
            .map(|r| format!("field {field}: unknown role {r:?} (not in wcs/roles.json)"))
            .collect()
    }

    pub(super) fn formdef_problems(&self, f: &FormDef) -> Vec<String> {
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

    pub(super) fn form_problems(&self, f: &Form) -> Vec<String> {
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
}

fn generated_ref(file: &str, n: usize, id: String) -> ItemRef {
    ItemRef {
        file: format!("{file} (generated)"),
        number: n + 1,
        id: Some(id),
    }
}
