//! Helpers shared by the integration tests, each defined once: the app in
//! process through the real router ([`app`]), a server on a real socket
//! ([`served`]), and typed calls to each API ([`logora`], [`wcs`]) and to
//! the control plane ([`control`]), and the rule for tests backed by Python
//! ([`python`]).

pub mod app;
pub mod control;
pub mod logora;
pub mod python;
pub mod served;
pub mod wcs;

pub use app::{TestApp, TestResponse};
pub use served::Served;

use axum::http::StatusCode;
use serde_json::Value;

/// Every fixture file, as a full fixture directory holds them, in order.
pub const FIXTURE_FILES: [&str; 9] = [
    "logora/applications.json",
    "logora/clients.json",
    "logora/users.json",
    "wcs/api_accesses.json",
    "wcs/categories.json",
    "wcs/formdefs.json",
    "wcs/forms.json",
    "wcs/roles.json",
    "wcs/users.json",
];

/// An `authorization` header's value for HTTP Basic.
pub fn basic(user: &str, password: &str) -> String {
    use base64::Engine;
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
    )
}

/// `status`, the `content-type` header and exactly `body` as JSON.
pub fn assert_json_as(
    response: &TestResponse,
    status: StatusCode,
    content_type: &str,
    body: Value,
) {
    assert_eq!(response.status, status, "{}", response.text());
    assert_eq!(response.header("content-type"), content_type);
    assert_eq!(response.json(), body);
}
