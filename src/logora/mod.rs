//! Emulation of Logora's server API: OAuth 2.0 client-credentials tokens
//! (Doorkeeper) and the users list. Upstream behaviour: ../shared/spec/logora.md
//! and the Logora "Données utilisateurs" page.

pub mod error;
pub mod model;

use axum::Router;

use crate::AppState;

/// Logora's routes.
pub fn router() -> Router<AppState> {
    Router::new()
}

/// The client a bearer token was issued to, if it is one of ours.
pub fn client_id_of_token(_state: &AppState, _token: &str) -> Option<String> {
    None
}

/// Runtime state that is not fixture data (revoked tokens).
#[derive(Debug, Default)]
pub struct Runtime {}

impl Runtime {
    /// Forgets everything (control-plane reset).
    pub fn reset(&self) {}
}
