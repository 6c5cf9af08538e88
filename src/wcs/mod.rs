//! Emulation of w.c.s.'s user API (Entr'ouvert, Publik): signed query
//! strings, a user's profile, forms and drafts, and the user directory.
//! Upstream behaviour: ../shared/spec/wcs.md and the w.c.s. page
//! "Récupération des données d'un utilisateur".

pub mod error;
pub mod model;

use axum::Router;

use crate::AppState;

/// w.c.s.'s routes.
pub fn router() -> Router<AppState> {
    Router::new()
}

/// Runtime state that is not fixture data (used nonces).
#[derive(Debug, Default)]
pub struct Runtime {}

impl Runtime {
    /// Forgets everything (control-plane reset).
    pub fn reset(&self) {}
}
