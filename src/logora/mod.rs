//! Emulation of Logora's server API: the OAuth 2.0 server (Doorkeeper's
//! client-credentials flow, revocation, introspection and token info) and the
//! users API (list, anonymize, delete). Upstream behaviour: Doorkeeper's
//! app/controllers/doorkeeper/tokens_controller.rb and Logora's "Données
//! utilisateurs" documentation page.
//!
//! The wing stands on the shared ground only: its data lives in a
//! [`Cell`](crate::store::Cell), time comes from the
//! [`Clock`](crate::clock::Clock), settings from
//! [`Settings`](crate::config::Settings), and each answer says why through an
//! [`Outcome`](crate::outcome::Outcome). [`Logora`] is one namespace's
//! Logora, which handlers receive as their state; its "control surface"
//! section is what the control plane may call.

pub mod auth;
pub mod error;
pub mod model;
pub mod pagination;
pub mod token;
pub mod users;

mod oauth;
mod pages;
mod respond;
mod router;
mod runtime;
mod state;
mod verified;

pub use router::router;
pub use runtime::{RECENT_TOKENS, Revocation};
pub use state::Logora;

// Shared with the handlers of `users`.
use respond::{answer, answer_later, fail};
