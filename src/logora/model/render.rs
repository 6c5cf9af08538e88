//! A user's public JSON, rendered once at load in the order of the
//! seed page's example, then read back when the control plane asks.

use std::sync::Arc;

use serde::Serialize;
use serde_json::{Map, Value};

use super::types::{Level, User};

/// The fields the API shows: the 17 of the seed page, in its order, then
/// the extra ones.
#[derive(Serialize)]
struct PublicUser<'a> {
    id: u64,
    uid: &'a Option<String>,
    image_url: &'a Option<String>,
    full_name: &'a str,
    level: &'a Level,
    score: i64,
    slug: &'a str,
    points: i64,
    description: &'a Option<Arc<str>>,
    created_at: &'a str,
    messages_count: u64,
    votes_count: u64,
    email: &'a Option<String>,
    age: Option<u32>,
    city: &'a Option<Arc<str>>,
    occupation: &'a Option<Arc<str>>,
    interests: &'a Option<String>,
    #[serde(flatten)]
    extra: &'a Map<String, Value>,
}

impl User {
    /// The user as the API returns it, written into `buffer` (cleared
    /// first): rendering many users through one buffer saves the
    /// reallocations of a growing string.
    pub(super) fn render_into(&self, buffer: &mut Vec<u8>) -> Box<str> {
        let public = PublicUser {
            id: self.id,
            uid: &self.uid,
            image_url: &self.image_url,
            full_name: &self.full_name,
            level: &self.level,
            score: self.score,
            slug: &self.slug,
            points: self.points,
            description: &self.description,
            created_at: &self.created_at,
            messages_count: self.messages_count,
            votes_count: self.votes_count,
            email: &self.email,
            age: self.age,
            city: &self.city,
            occupation: &self.occupation,
            interests: &self.interests,
            extra: &self.extra,
        };
        buffer.clear();
        // Serializing strings, numbers and JSON values into memory cannot
        // fail, and serde_json writes valid UTF-8.
        if serde_json::to_writer(&mut *buffer, &public).is_err() {
            return Box::from("null");
        }
        Box::from(std::str::from_utf8(buffer).unwrap_or("null"))
    }

    /// The user as the API returns it.
    pub fn render(&self) -> Box<str> {
        self.render_into(&mut Vec::new())
    }
}
