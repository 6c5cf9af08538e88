//! Logora fixture data: applications (a Logora customer site and its
//! sub-applications), API clients (the key pairs of the admin panel's
//! "Configuration > Général" tab) and users, in the shape of the
//! "Données utilisateurs" page's example in Logora's documentation, plus four
//! doublure-only fields that place a user and drive the list filters.
//!
//! Loading validates everything and keeps what a request needs so that it
//! only slices and concatenates: each user as a compact record around its
//! public JSON, rendered once, and per application the slots of its users
//! sorted by id, for every combination of the three list filters.
//!
//! Users and indexes are persistent vectors (`imbl`): a copy of the data
//! shares every user with the original, and changing one user copies a
//! few tree nodes, not the million others. That is what lets a namespace
//! start from the loaded data for free and change it in milliseconds.

mod checks;
mod clients;
mod edit;
mod hasher;
mod index;
mod load;
mod record;
mod render;
mod scopes;
#[cfg(test)]
mod tests;
mod types;

#[cfg(test)]
pub use checks::count_by_application;
#[cfg(any(test, feature = "cli"))]
pub use checks::is_rails_time;
pub use clients::ClientKey;
pub use index::{FilterKey, Slots};
pub use record::Record;
pub use scopes::{scope_bits, scope_str, scope_text};
pub use types::{Application, Client, Level, User};

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::Value;

use index::AppIndex;
use record::Key;

/// Collections the control plane can change: fixture file and id key.
pub const COLLECTIONS: &[(&str, &str)] = &[
    ("logora/applications.json", "id"),
    ("logora/clients.json", "client_id"),
    ("logora/users.json", "id"),
];

/// The users' fixture file.
pub const USERS_FILE: &str = "logora/users.json";

/// Fixture files compiled into the binary.
pub const BUILTIN_FILES: &[(&str, &str)] = &[
    (
        "logora/applications.json",
        include_str!("../../../fixtures/logora/applications.json"),
    ),
    (
        "logora/clients.json",
        include_str!("../../../fixtures/logora/clients.json"),
    ),
    (
        "logora/users.json",
        include_str!("../../../fixtures/logora/users.json"),
    ),
];

/// The scopes a Logora client may hold, in the order they are written.
pub const SCOPES: &[&str] = &["public", "authentication", "admin"];

/// All Logora data. Cloning it is cheap: users and indexes are shared
/// until one side changes.
#[derive(Debug, Clone, Default)]
pub struct LogoraData {
    // Private: every change goes through a method that keeps the indexes.
    applications: Arc<Vec<Application>>,
    clients: Arc<Vec<Client>>,
    client_index: Arc<clients::ClientIndex>,
    /// Every user in fixture order; a removed user leaves an empty slot, so
    /// that the slots the indexes hold stay valid.
    slots: imbl::Vector<Option<Arc<Record>>>,
    /// Each slot's key, for scans.
    keys: imbl::Vector<Key>,
    /// Users in `slots`.
    live: usize,
    apps: Arc<HashMap<u64, AppIndex>>,
}

impl LogoraData {
    /// Every user, in fixture order.
    pub fn records(&self) -> impl Iterator<Item = &Record> {
        self.slots.iter().filter_map(|s| s.as_deref())
    }

    /// How many users there are.
    pub fn user_count(&self) -> usize {
        self.live
    }
}

impl LogoraData {
    /// How many slots there are (removed users leave theirs empty).
    pub fn slot_count(&self) -> usize {
        self.slots.len()
    }

    /// The user in `slot` in the fixture format, as JSON text.
    pub fn user_json(&self, slot: usize) -> Option<Vec<u8>> {
        let record = self.slots.get(slot)?.as_deref()?;
        serde_json::to_vec(&record.user()).ok()
    }

    /// Each user in the fixture format, in fixture order.
    pub fn user_values(&self) -> impl Iterator<Item = Value> + '_ {
        self.records()
            .map(|r| serde_json::to_value(r.user()).unwrap_or(Value::Null))
    }
}

impl LogoraData {
    /// All applications, in fixture order.
    pub fn applications(&self) -> &[Application] {
        &self.applications
    }

    /// All clients, in fixture order.
    pub fn clients(&self) -> &[Client] {
        &self.clients
    }

    /// The application with this id.
    pub fn application(&self, id: u64) -> Option<&Application> {
        self.applications.iter().find(|a| a.id == id)
    }

    /// The client with this id.
    pub fn client(&self, client_id: &str) -> Option<&Client> {
        self.client_with_key(client_id).map(|(client, _)| client)
    }

    /// The client with this id and its token key.
    pub fn client_with_key(&self, client_id: &str) -> Option<(&Client, &ClientKey)> {
        let at = self.client_index.position(client_id)?;
        Some((&self.clients[at], self.client_index.key(at)))
    }

    /// The clients whose id hashes to `hash` (a token names its client so),
    /// with their token keys.
    pub fn clients_with_hash(&self, hash: [u8; 3]) -> impl Iterator<Item = (&Client, &ClientKey)> {
        self.client_index
            .with_hash(hash)
            .map(|at| (&self.clients[at], self.client_index.key(at)))
    }
}

impl LogoraData {
    /// The user in `slot`.
    pub fn record(&self, slot: u32) -> Option<&Record> {
        self.slots.get(slot as usize)?.as_deref()
    }
}

/// The name an anonymized user is shown with.
pub const ANONYMOUS_NAME: &str = "Utilisateur supprimé";
