//! w.c.s. fixture data: users, roles, categories, form definitions (with
//! their workflow statuses), forms and drafts (drafts are forms whose
//! `status` is `draft`, as upstream stores them) and API accesses.
//!
//! Field names follow upstream w.c.s. (`name_identifiers`, `is_admin`,
//! `access_identifier`, `backoffice_submission_roles`, …) so an item of a
//! real answer maps onto a fixture item. Everything is checked at load.
//!
//! Users and forms, which generated data makes tens of thousands long,
//! sit in persistent structures (each item behind an `Arc`, their indexes
//! in `imbl` maps and vectors): a namespace starts from the root's data
//! without copying it, and a change to one user or form
//! ([`WcsData::set_user`], [`WcsData::set_form`]) copies that item and a
//! few index nodes, keeping the indexes up to date rather than rebuilding
//! them.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, OnceLock};

use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::store::{FixtureFiles, Item, ItemRef, Problem, Problems};

/// The users' fixture file.
pub const USERS_FILE: &str = "wcs/users.json";

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

/// All w.c.s. data, with lookup indexes. Cloning it shares every user
/// and every form.
#[derive(Debug, Clone, Default)]
pub struct WcsData {
    pub users: imbl::Vector<Arc<User>>,
    pub roles: Vec<Role>,
    pub categories: Vec<Category>,
    pub formdefs: Vec<FormDef>,
    pub forms: imbl::Vector<Arc<Form>>,
    pub api_accesses: Vec<ApiAccess>,
    pub index: Index,
}

/// Lookup tables, kept up to date by each change.
#[derive(Debug, Clone, Default)]
pub struct Index {
    pub user_by_id: imbl::HashMap<i64, usize>,
    pub role_by_id: HashMap<String, usize>,
    pub category_by_id: HashMap<String, usize>,
    pub formdef_by_id: HashMap<String, usize>,
    pub access_by_id: HashMap<String, usize>,
    /// Each form's position by id.
    pub form_by_id: imbl::HashMap<i64, usize>,
    /// Forms of each user, sorted by receipt time then id.
    pub forms_by_user: imbl::HashMap<i64, Vec<usize>>,
    /// Forms by concerned role (`_user:<id>` included).
    pub forms_by_role: imbl::HashMap<String, Vec<usize>>,
    /// Parsed receipt time of each form.
    pub receipt: imbl::Vector<NaiveDateTime>,
    /// Users ordered by unaccented lower-case name, then name, then id.
    pub users_by_name: imbl::Vector<usize>,
    /// Lower-cased, unaccented name of each user.
    pub ascii_names: imbl::Vector<String>,
    /// Lower-cased email to the first active, non-deleted user.
    pub user_by_email: imbl::HashMap<String, usize>,
    /// Name identifier to the first non-deleted user holding it.
    pub user_by_name_id: imbl::HashMap<String, usize>,
    /// Each user's directory item, rendered once on first use (a million
    /// generated users are not all rendered at load), and shared by the
    /// data that still holds the same user with the same roles.
    pub list_json: imbl::Vector<Arc<OnceLock<String>>>,
    /// Each form's listing item without its final `readable` key and
    /// closing brace, rendered once on first use and cut where the base
    /// URL goes, so that every namespace (each with its own base URL)
    /// reads the same pieces.
    pub form_json: imbl::Vector<Arc<OnceLock<Vec<String>>>>,
}

/// The key of `user_by_email` a user holds, if any.
fn email_key(u: &User) -> Option<String> {
    match &u.email {
        Some(e) if u.is_active && !u.deleted => Some(e.to_lowercase()),
        _ => None,
    }
}

/// Whether `email` lower-cases to `key` (itself lower-case), without
/// allocating for an ASCII address.
fn email_is(email: &str, key: &str) -> bool {
    if email.is_ascii() {
        email.eq_ignore_ascii_case(key)
    } else {
        email.to_lowercase() == key
    }
}

/// Where a user goes in `users_by_name`.
fn name_order(ascii: &str, u: &User) -> (String, String, i64) {
    (ascii.to_owned(), u.name.clone(), u.id)
}

fn parse_time(s: &str) -> Option<NaiveDateTime> {
    NaiveDateTime::parse_from_str(s, TIME_FORMAT).ok()
}

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

    fn load_with(files: &FixtureFiles, kept: Option<&WcsData>, problems: &mut Problems) -> Self {
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

    /// The position of user `id`.
    pub fn user_position(&self, id: i64) -> Option<usize> {
        self.index.user_by_id.get(&id).copied()
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

    /// Puts `user` at `position` (a new user: the end), keeping every
    /// index up to date. The caller checked it: its id is not another
    /// user's, its roles exist, and no form loses its user.
    pub fn set_user(&mut self, position: usize, user: User) {
        let user = Arc::new(user);
        let old = self.users.get(position).cloned();
        let ascii = crate::wcs::text::unaccent(&user.name).to_lowercase();
        let ix = &mut self.index;
        match &old {
            Some(old) => {
                let old_ascii = ix.ascii_names.get(position).cloned().unwrap_or_default();
                if name_order(&old_ascii, old) != name_order(&ascii, &user) {
                    let key = name_order(&old_ascii, old);
                    let users = &self.users;
                    let names = &ix.ascii_names;
                    if let Ok(k) = ix
                        .users_by_name
                        .binary_search_by(|&j| name_order(&names[j], &users[j]).cmp(&key))
                    {
                        ix.users_by_name.remove(k);
                    }
                    ix.ascii_names.set(position, ascii);
                    self.users.set(position, Arc::clone(&user));
                    self.insert_in_name_order(position);
                } else {
                    self.users.set(position, Arc::clone(&user));
                }
                if old.id != user.id && self.index.user_by_id.get(&old.id) == Some(&position) {
                    self.index.user_by_id.remove(&old.id);
                }
                self.index.list_json.set(position, Arc::default());
            }
            None => {
                self.users.push_back(Arc::clone(&user));
                ix.ascii_names.push_back(ascii);
                ix.list_json.push_back(Arc::default());
                self.insert_in_name_order(position);
            }
        }
        self.index.user_by_id.insert(user.id, position);
        self.update_email(position, old.as_deref(), &user);
        self.update_name_ids(position, old.as_deref(), &user);
    }

    /// Removes the user at `position`: the users after it move one place
    /// up, and the indexes of positions are rebuilt (from the shared
    /// users, nothing copied but the indexes). The caller checked that no
    /// form names it.
    pub fn remove_user(&mut self, position: usize) {
        if position >= self.users.len() {
            return;
        }
        self.users.remove(position);
        self.index.ascii_names.remove(position);
        self.index.list_json.remove(position);
        self.index.users_by_name = self
            .index
            .users_by_name
            .iter()
            .filter(|&&j| j != position)
            .map(|&j| if j > position { j - 1 } else { j })
            .collect();
        self.reindex_user_keys();
    }

    fn insert_in_name_order(&mut self, position: usize) {
        let ix = &mut self.index;
        let users = &self.users;
        let names = &ix.ascii_names;
        let key = name_order(&names[position], &users[position]);
        let at = ix
            .users_by_name
            .binary_search_by(|&j| name_order(&names[j], &users[j]).cmp(&key))
            .unwrap_or_else(|at| at);
        ix.users_by_name.insert(at, position);
    }

    /// `user_by_email` after the user at `position` went from `old` to
    /// `new`: each key still goes to its first holder.
    fn update_email(&mut self, position: usize, old: Option<&User>, new: &User) {
        let old_key = old.and_then(email_key);
        let new_key = email_key(new);
        if old_key == new_key {
            return;
        }
        if let Some(key) = old_key
            && self.index.user_by_email.get(&key) == Some(&position)
        {
            let holder = self.users.iter().position(|u| {
                u.is_active && !u.deleted && u.email.as_deref().is_some_and(|e| email_is(e, &key))
            });
            match holder {
                Some(j) => self.index.user_by_email.insert(key, j),
                None => self.index.user_by_email.remove(&key),
            };
        }
        if let Some(key) = new_key {
            match self.index.user_by_email.get(&key) {
                Some(&j) if j < position => {}
                _ => {
                    self.index.user_by_email.insert(key, position);
                }
            }
        }
    }

    /// `user_by_name_id` after the user at `position` went from `old` to
    /// `new`.
    fn update_name_ids(&mut self, position: usize, old: Option<&User>, new: &User) {
        let held = |u: Option<&User>| -> Vec<String> {
            u.filter(|u| !u.deleted)
                .map(|u| u.name_identifiers.clone())
                .unwrap_or_default()
        };
        let before = held(old);
        let after = held(Some(new));
        for n in before.iter().filter(|n| !after.contains(n)) {
            if self.index.user_by_name_id.get(n) != Some(&position) {
                continue;
            }
            let holder = self
                .users
                .iter()
                .position(|u| !u.deleted && u.name_identifiers.contains(n));
            match holder {
                Some(j) => self.index.user_by_name_id.insert(n.clone(), j),
                None => self.index.user_by_name_id.remove(n),
            };
        }
        for n in after.into_iter().filter(|n| !before.contains(n)) {
            match self.index.user_by_name_id.get(&n) {
                Some(&j) if j < position => {}
                _ => {
                    self.index.user_by_name_id.insert(n, position);
                }
            }
        }
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
        self.index.list_json = fresh_cells(self.users.len());
        self.index.ascii_names = self
            .users
            .iter()
            .map(|u| crate::wcs::text::unaccent(&u.name).to_lowercase())
            .collect();
        let mut order: Vec<usize> = (0..self.users.len()).collect();
        // Like a French collation: accents and case only break ties.
        let ascii = &self.index.ascii_names;
        let users = &self.users;
        order.sort_by(|&a, &b| {
            ascii[a]
                .cmp(&ascii[b])
                .then_with(|| users[a].name.cmp(&users[b].name))
                .then(users[a].id.cmp(&users[b].id))
        });
        self.index.users_by_name = order.into_iter().collect();
        self.reindex_user_keys();
    }

    /// The maps from a user's id, email and name identifiers to its
    /// position.
    fn reindex_user_keys(&mut self) {
        let mut by_id = imbl::HashMap::new();
        let mut by_email = imbl::HashMap::new();
        let mut by_name_id = imbl::HashMap::new();
        for (i, u) in self.users.iter().enumerate() {
            by_id.entry(u.id).or_insert(i);
            if u.deleted {
                continue;
            }
            if let Some(e) = email_key(u) {
                by_email.entry(e).or_insert(i);
            }
            for n in &u.name_identifiers {
                by_name_id.entry(n.clone()).or_insert(i);
            }
        }
        self.index.user_by_id = by_id;
        self.index.user_by_email = by_email;
        self.index.user_by_name_id = by_name_id;
    }

    fn reindex_forms(&mut self) {
        self.index.receipt = self
            .forms
            .iter()
            .map(|f| parse_time(&f.receipt_time).unwrap_or_default())
            .collect();
        self.index.form_json = (0..self.forms.len()).map(|_| Arc::default()).collect();
        self.reindex_form_positions();
    }

    /// The maps from a form's id, user and concerned roles to its position.
    fn reindex_form_positions(&mut self) {
        let forms = &self.forms;
        let receipt = &self.index.receipt;
        let mut by_id = imbl::HashMap::new();
        let mut by_user: HashMap<i64, Vec<usize>> = HashMap::new();
        let mut by_role: HashMap<String, Vec<usize>> = HashMap::new();
        for (i, f) in forms.iter().enumerate() {
            by_id.entry(f.id).or_insert(i);
            if let Some(u) = f.user_id {
                by_user.entry(u).or_default().push(i);
            }
            for r in &f.concerned_roles {
                by_role.entry(r.clone()).or_default().push(i);
            }
        }
        let key = |i: &usize| (receipt[*i], forms[*i].id);
        for v in by_user.values_mut() {
            v.sort_by_key(key);
        }
        for v in by_role.values_mut() {
            v.sort_by_key(key);
        }
        self.index.form_by_id = by_id;
        self.index.forms_by_user = by_user.into_iter().collect();
        self.index.forms_by_role = by_role.into_iter().collect();
    }

    /// The position of form `id`.
    pub fn form_position(&self, id: i64) -> Option<usize> {
        self.index.form_by_id.get(&id).copied()
    }

    /// What is wrong with `form`'s references and times, as
    /// [`Self::load`] says it.
    pub fn form_problems_of(&self, form: &Form) -> Vec<String> {
        self.form_problems(form)
    }

    /// Puts `form` at `position` (a new form: the end), keeping every
    /// index up to date. The caller checked it: its id is not another
    /// form's, and its references hold.
    pub fn set_form(&mut self, position: usize, form: Form) {
        let form = Arc::new(form);
        let receipt = parse_time(&form.receipt_time).unwrap_or_default();
        let old = self.forms.get(position).cloned();
        if let Some(old) = &old {
            self.unlist_form(position, old);
            self.forms.set(position, Arc::clone(&form));
            self.index.receipt.set(position, receipt);
            self.index.form_json.set(position, Arc::default());
        } else {
            self.forms.push_back(Arc::clone(&form));
            self.index.receipt.push_back(receipt);
            self.index.form_json.push_back(Arc::default());
        }
        self.index.form_by_id.insert(form.id, position);
        let ix = &mut self.index;
        let forms = &self.forms;
        let receipt = &ix.receipt;
        let key = |i: usize| (receipt[i], forms[i].id);
        let place = |v: &mut Vec<usize>| {
            let at = v
                .binary_search_by(|&j| key(j).cmp(&key(position)))
                .unwrap_or_else(|at| at);
            // A role named twice lists the form twice, as a rebuild does.
            let at = v[at..].iter().take_while(|&&j| j == position).count() + at;
            v.insert(at, position);
        };
        if let Some(u) = form.user_id {
            place(ix.forms_by_user.entry(u).or_default());
        }
        for r in &form.concerned_roles {
            place(ix.forms_by_role.entry(r.clone()).or_default());
        }
    }

    /// Takes the form at `position`, which was `old`, out of the lists of
    /// forms by user and by role.
    fn unlist_form(&mut self, position: usize, old: &Form) {
        if self.index.form_by_id.get(&old.id) == Some(&position) {
            self.index.form_by_id.remove(&old.id);
        }
        fn unlist<K: std::hash::Hash + Eq + Clone>(
            map: &mut imbl::HashMap<K, Vec<usize>>,
            key: &K,
            position: usize,
        ) {
            let Some(v) = map.get_mut(key) else {
                return;
            };
            v.retain(|&j| j != position);
            if v.is_empty() {
                map.remove(key);
            }
        }
        if let Some(u) = old.user_id {
            unlist(&mut self.index.forms_by_user, &u, position);
        }
        for r in &old.concerned_roles {
            unlist(&mut self.index.forms_by_role, r, position);
        }
    }

    /// Removes the form at `position`: the forms after it move one place
    /// up, and the indexes of positions are rebuilt from the shared forms.
    pub fn remove_form(&mut self, position: usize) {
        if position >= self.forms.len() {
            return;
        }
        self.forms.remove(position);
        self.index.receipt.remove(position);
        self.index.form_json.remove(position);
        self.reindex_form_positions();
    }

    pub fn user(&self, id: i64) -> Option<&User> {
        self.index.user_by_id.get(&id).map(|&i| &*self.users[i])
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

fn fresh_cells(n: usize) -> imbl::Vector<Arc<OnceLock<String>>> {
    (0..n).map(|_| Arc::default()).collect()
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
        let mut u = (*data.users[0]).clone();
        u.id = 5000;
        let mut f = (*data.forms[0]).clone();
        f.id = 9000;
        f.user_id = Some(5000);
        data.add_generated(vec![u.clone()], vec![f]).unwrap();
        assert_eq!(data.index.forms_by_user[&5000].len(), 1);
        let err = data.add_generated(vec![u.clone()], vec![]).unwrap_err();
        assert_eq!(data.users.len(), 13);
        let mut bad = (*data.forms[0]).clone();
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
        let template = (*data.users[0]).clone();
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

    /// The indexes as a rebuild from scratch makes them.
    fn rebuilt(data: &WcsData) -> WcsData {
        let mut again = data.clone();
        again.reindex_users();
        again
    }

    fn assert_indexes_as_rebuilt(data: &WcsData) {
        let again = rebuilt(data);
        assert_eq!(data.index.user_by_id, again.index.user_by_id);
        assert_eq!(data.index.user_by_email, again.index.user_by_email);
        assert_eq!(data.index.user_by_name_id, again.index.user_by_name_id);
        assert_eq!(data.index.ascii_names, again.index.ascii_names);
        assert_eq!(data.index.users_by_name, again.index.users_by_name);
        assert_eq!(data.index.list_json.len(), data.users.len());
    }

    #[test]
    fn users_changed_one_by_one_keep_the_indexes_a_rebuild_would_make() {
        let mut problems = Problems::default();
        let mut data = WcsData::load(&FixtureFiles::compiled_in(BUILTIN_FILES), &mut problems);
        let template = (*data.users[0]).clone();
        let users: Vec<User> = (0..300)
            .map(|n| User {
                id: 10_000 + n,
                name: format!("Gén {:03}", n % 50),
                email: Some(format!("Gen{}@example.org", n % 40)),
                name_identifiers: vec![format!("gen-{}", n % 30)],
                ..template.clone()
            })
            .collect();
        data.add_generated(users, vec![]).unwrap();
        assert_indexes_as_rebuilt(&data);
        let at = data.user_position(10_005).unwrap();
        type Step = Box<dyn Fn(&mut User)>;
        let steps: Vec<Step> = vec![
            Box::new(|u| u.name = "Zoé Zèbre".into()),
            Box::new(|u| u.email = Some("GEN3@example.org".into())),
            Box::new(|u| u.email = None),
            Box::new(|u| u.name_identifiers = vec!["gen-1".into(), "fresh".into()]),
            Box::new(|u| u.deleted = true),
            Box::new(|u| u.deleted = false),
            Box::new(|u| u.is_active = false),
            Box::new(|u| u.id = 99_999),
            Box::new(|u| u.name = "Aaron".into()),
        ];
        for step in &steps {
            let mut user = (*data.users[at]).clone();
            step(&mut user);
            data.set_user(at, user);
            assert_indexes_as_rebuilt(&data);
        }
        // The first holder of an email changes: the next one takes it.
        let first = data.index.user_by_email["gen7@example.org"];
        let mut user = (*data.users[first]).clone();
        user.email = Some("elsewhere@example.org".into());
        data.set_user(first, user);
        assert_indexes_as_rebuilt(&data);
        let new = User {
            id: 123_456,
            name: "Nouvelle".into(),
            email: Some("gen7@example.org".into()),
            ..template.clone()
        };
        data.set_user(data.users.len(), new);
        assert_indexes_as_rebuilt(&data);
        data.remove_user(at);
        assert_indexes_as_rebuilt(&data);
        data.remove_user(0);
        assert_indexes_as_rebuilt(&data);
    }

    #[test]
    fn a_changed_user_leaves_the_others_shared_with_the_data_before() {
        let mut problems = Problems::default();
        let mut data = WcsData::load(&FixtureFiles::compiled_in(BUILTIN_FILES), &mut problems);
        let template = (*data.users[0]).clone();
        let users: Vec<User> = (0..5000)
            .map(|n| User {
                id: 10_000 + n,
                ..template.clone()
            })
            .collect();
        data.add_generated(users, vec![]).unwrap();
        let before = data.clone();
        let at = data.user_position(10_100).unwrap();
        let mut user = (*data.users[at]).clone();
        user.name = "Autre".into();
        data.set_user(at, user);
        assert_eq!(data.users[at].name, "Autre");
        assert_eq!(before.users[at].name, template.name);
        for i in (0..data.users.len()).filter(|&i| i != at) {
            assert!(Arc::ptr_eq(&data.users[i], &before.users[i]), "user {i}");
            assert!(Arc::ptr_eq(
                &data.index.list_json[i],
                &before.index.list_json[i]
            ));
        }
        for (a, b) in data.forms.iter().zip(before.forms.iter()) {
            assert!(Arc::ptr_eq(a, b));
        }
        for (a, b) in data.index.form_json.iter().zip(&before.index.form_json) {
            assert!(Arc::ptr_eq(a, b));
        }
    }

    fn assert_form_indexes_as_rebuilt(data: &WcsData) {
        let mut again = data.clone();
        again.reindex_forms();
        assert_eq!(data.index.form_by_id, again.index.form_by_id);
        assert_eq!(data.index.forms_by_user, again.index.forms_by_user);
        assert_eq!(data.index.forms_by_role, again.index.forms_by_role);
        assert_eq!(data.index.receipt, again.index.receipt);
        assert_eq!(data.index.form_json.len(), data.forms.len());
    }

    #[test]
    fn forms_changed_one_by_one_keep_the_indexes_a_rebuild_would_make() {
        let mut problems = Problems::default();
        let mut data = WcsData::load(&FixtureFiles::compiled_in(BUILTIN_FILES), &mut problems);
        assert_form_indexes_as_rebuilt(&data);
        let first = data.users[0].id;
        let other = data.users[1].id;
        let at = 3;
        type Step = Box<dyn Fn(&mut Form)>;
        let steps: Vec<Step> = vec![
            Box::new(|f| f.receipt_time = "1999-01-01 00:00:00".into()),
            Box::new(move |f| f.user_id = Some(other)),
            Box::new(|f| f.user_id = None),
            Box::new(move |f| {
                f.concerned_roles = vec!["1".into(), "1".into(), format!("_user:{first}")]
            }),
            Box::new(|f| f.concerned_roles = vec![]),
            Box::new(|f| f.id = 424_242),
            Box::new(move |f| f.user_id = Some(first)),
            Box::new(|f| f.receipt_time = "2030-12-31 23:59:59".into()),
        ];
        for step in &steps {
            let mut form = (*data.forms[at]).clone();
            step(&mut form);
            data.set_form(at, form);
            assert_form_indexes_as_rebuilt(&data);
        }
        let mut new = (*data.forms[0]).clone();
        new.id = 515_151;
        data.set_form(data.forms.len(), new);
        assert_form_indexes_as_rebuilt(&data);
        data.remove_form(at);
        assert_form_indexes_as_rebuilt(&data);
        data.remove_form(0);
        assert_form_indexes_as_rebuilt(&data);
    }

    #[test]
    fn a_change_of_another_collection_keeps_users_and_forms_and_checks_them() {
        let mut problems = Problems::default();
        let data = WcsData::load(&FixtureFiles::compiled_in(BUILTIN_FILES), &mut problems);
        let files = |roles: &str| {
            let mut map: std::collections::BTreeMap<String, String> = data
                .export_settings()
                .into_iter()
                .map(|(f, v)| (f.to_owned(), v.to_string()))
                .collect();
            map.insert("wcs/roles.json".into(), roles.into());
            FixtureFiles::from_map("state", map)
        };
        let roles = data.export_file("wcs/roles.json").to_string();
        let kept = WcsData::load_keeping_items(&files(&roles), &data, &mut problems);
        assert!(problems.is_empty(), "{problems}");
        for (a, b) in kept.users.iter().zip(data.users.iter()) {
            assert!(Arc::ptr_eq(a, b));
        }
        for (a, b) in kept.forms.iter().zip(data.forms.iter()) {
            assert!(Arc::ptr_eq(a, b));
        }
        // Without its roles, the same problems as a whole reload names.
        let kept = WcsData::load_keeping_items(&files("[]"), &data, &mut problems);
        drop(kept);
        let mut whole = Problems::default();
        let mut map: std::collections::BTreeMap<String, String> = data
            .export()
            .into_iter()
            .map(|(f, v)| (f.to_owned(), v.to_string()))
            .collect();
        map.insert("wcs/roles.json".into(), "[]".into());
        WcsData::load(&FixtureFiles::from_map("state", map), &mut whole);
        assert!(!whole.is_empty());
        assert_eq!(problems.to_string(), whole.to_string());
    }
}
