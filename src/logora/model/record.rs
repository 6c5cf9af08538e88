//! A loaded user (its rendered JSON and the fields the indexes read), and
//! the key each slot keeps for scans.

use std::sync::Arc;

use serde_json::{Map, Value};

use super::hasher::hash_of;
use super::types::{Level, User};

/// A loaded user: its public JSON, rendered once, and the few fields the
/// indexes and checks read. The rest lives only in the JSON, read back
/// when the control plane asks for the user: a million users cost their
/// JSON and little else.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub id: u64,
    pub application_id: u64,
    pub sub_application_name: Option<Arc<str>>,
    pub is_expert: bool,
    pub is_selected: bool,
    /// Hashes of the uid (0 without one) and the slug: they are only
    /// compared, and a hash that matches is confirmed from the JSON.
    pub(super) uid_hash: u64,
    pub(super) slug_hash: u64,
    json: Box<str>,
}

/// What uniqueness checks and lookups scan, one per slot, kept apart from
/// the records in a vector of its own: a million of them are 40 MB read in
/// order, where the records would be a million pointers to follow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Key {
    pub(super) id: u64,
    pub(super) app: u64,
    pub(super) uid: u64,
    pub(super) slug: u64,
    /// False for the slot of a removed user.
    pub(super) live: bool,
}

impl Key {
    pub(super) const REMOVED: Key = Key {
        id: 0,
        app: 0,
        uid: 0,
        slug: 0,
        live: false,
    };

    pub(super) fn of(r: &Record) -> Key {
        Key {
            id: r.id,
            app: r.application_id,
            uid: r.uid_hash,
            slug: r.slug_hash,
            live: true,
        }
    }
}

impl Record {
    /// `user`, rendered, in `application_id` (its own, resolved).
    pub(super) fn new(user: &User, application_id: u64, buffer: &mut Vec<u8>) -> Self {
        Self {
            id: user.id,
            application_id,
            sub_application_name: user.sub_application_name.clone(),
            is_expert: user.is_expert,
            is_selected: user.is_selected,
            uid_hash: user.uid.as_deref().map_or(0, hash_of),
            slug_hash: hash_of(&user.slug),
            json: user.render_into(buffer),
        }
    }

    /// The public JSON object the API shows.
    pub fn json(&self) -> &str {
        &self.json
    }

    /// The uid, read from the JSON.
    pub fn uid(&self) -> Option<String> {
        self.field("uid")
    }

    /// The user in the fixture format, read back from the JSON.
    pub fn user(&self) -> User {
        let mut user: User = match serde_json::from_str(&self.json) {
            Ok(user) => user,
            // The JSON was rendered from a `User`: it always reads back.
            Err(e) => unreachable_user(self.id, &e),
        };
        user.application_id = Some(self.application_id);
        user.sub_application_name = self.sub_application_name.clone();
        user.is_expert = self.is_expert;
        user.is_selected = self.is_selected;
        user
    }

    pub(super) fn slug(&self) -> String {
        self.field("slug").unwrap_or_default()
    }

    /// A text field of the JSON (the slow path: hashes are compared first).
    pub(super) fn field(&self, name: &str) -> Option<String> {
        serde_json::from_str::<Value>(&self.json)
            .ok()?
            .get(name)?
            .as_str()
            .map(str::to_owned)
    }
}

/// A user whose rendered JSON does not read back: a bug, shown as an empty
/// user rather than a panic on a request path.
fn unreachable_user(id: u64, error: &serde_json::Error) -> User {
    tracing::error!("user {id}: rendered JSON does not read back: {error}");
    User {
        id,
        uid: None,
        image_url: None,
        full_name: String::new(),
        level: Arc::new(Level {
            id: 0,
            name: String::new(),
            icon_url: String::new(),
        }),
        score: 0,
        slug: String::new(),
        points: 0,
        description: None,
        created_at: String::new(),
        messages_count: 0,
        votes_count: 0,
        email: None,
        age: None,
        city: None,
        occupation: None,
        interests: None,
        extra: Map::new(),
        application_id: None,
        sub_application_name: None,
        is_expert: false,
        is_selected: false,
    }
}
