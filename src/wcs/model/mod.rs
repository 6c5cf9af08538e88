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

mod index;
mod load;
#[cfg(test)]
mod tests;
mod types;

use std::sync::{Arc, OnceLock};

use chrono::NaiveDateTime;

pub use index::Index;
pub use types::{ApiAccess, Category, Form, FormDef, Role, User};

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
        include_str!("../../../fixtures/wcs/users.json"),
    ),
    (
        "wcs/roles.json",
        include_str!("../../../fixtures/wcs/roles.json"),
    ),
    (
        "wcs/categories.json",
        include_str!("../../../fixtures/wcs/categories.json"),
    ),
    (
        "wcs/formdefs.json",
        include_str!("../../../fixtures/wcs/formdefs.json"),
    ),
    (
        "wcs/forms.json",
        include_str!("../../../fixtures/wcs/forms.json"),
    ),
    (
        "wcs/api_accesses.json",
        include_str!("../../../fixtures/wcs/api_accesses.json"),
    ),
];

/// The fixture format of receipt and update times (site-local, naive).
pub const TIME_FORMAT: &str = "%Y-%m-%d %H:%M:%S";

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

fn parse_time(s: &str) -> Option<NaiveDateTime> {
    NaiveDateTime::parse_from_str(s, TIME_FORMAT).ok()
}

impl WcsData {
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
