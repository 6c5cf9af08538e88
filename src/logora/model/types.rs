//! The fixture shapes: applications, API clients, levels and users, as the
//! files and the control plane write them.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// A Logora application: one customer site, split in sub-applications.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Application {
    pub id: u64,
    pub name: String,
    pub sub_applications: Vec<String>,
    /// The Doorkeeper version its OAuth answers follow (`5.9.0` or
    /// `5.9.6`); absent means `--doorkeeper`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub doorkeeper: Option<String>,
}

/// An API client: the API key (`client_id`) and secret key of one
/// application, and the scopes its tokens may carry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Client {
    pub client_id: String,
    pub client_secret: String,
    pub application_id: u64,
    /// Space-separated, each one of [`SCOPES`](super::SCOPES).
    pub scopes: String,
    /// Seconds; absent means the global `--logora-token-lifetime`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_lifetime: Option<u32>,
}

/// A user's level, as Logora shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Level {
    pub id: u64,
    pub name: String,
    pub icon_url: String,
}

/// A Logora user as fixtures and the control plane write it: the 17 fields
/// the API returns, any other field of a newer API version (`hash_id`,
/// `first_name`, …; served back after the 17, in the order given), then the
/// four that only doublure reads, each with a default, so that a user
/// copied from a real answer loads as it is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct User {
    pub id: u64,
    pub uid: Option<String>,
    pub image_url: Option<String>,
    pub full_name: String,
    /// Shared: a million generated users have six levels between them.
    pub level: Arc<Level>,
    pub score: i64,
    pub slug: String,
    pub points: i64,
    /// The fields below that are `Arc<str>` repeat across users; generated
    /// users share one copy of each value.
    pub description: Option<Arc<str>>,
    /// `2021-11-25T16:15:38.874Z`: milliseconds and `Z`, as Rails renders.
    pub created_at: String,
    pub messages_count: u64,
    pub votes_count: u64,
    pub email: Option<String>,
    pub age: Option<u32>,
    pub city: Option<Arc<str>>,
    pub occupation: Option<Arc<str>>,
    pub interests: Option<String>,
    /// Fields the emulation does not know, kept and served as given.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
    /// Default: the first application.
    #[serde(default)]
    pub application_id: Option<u64>,
    /// Default: none (the user matches no `sub_application_name` filter).
    #[serde(default)]
    pub sub_application_name: Option<Arc<str>>,
    #[serde(default)]
    pub is_expert: bool,
    #[serde(default)]
    pub is_selected: bool,
}
