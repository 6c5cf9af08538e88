//! Emulation of w.c.s.'s user API (Entr'ouvert, Publik): signed query
//! strings, a user's profile, forms and drafts, and the user directory.
//! Upstream behaviour: w.c.s.'s wcs/api.py and api_utils.py, and the w.c.s.
//! page "Récupération des données d'un utilisateur".
//!
//! The wing stands on the shared ground only: its data lives in a
//! [`Cell`](crate::store::Cell), time comes from the
//! [`Clock`](crate::clock::Clock), settings from
//! [`Settings`](crate::config::Settings), and each answer says why through an
//! [`Outcome`](crate::outcome::Outcome). [`Wcs`] is one namespace's w.c.s.,
//! which handlers receive as their state.

pub mod auth;
pub mod error;
pub mod json;
pub mod model;
pub mod python;
pub mod query;
pub mod render;
pub mod signature;
pub mod text;

mod directory;
mod listed;
mod listings;
mod preferences;
mod profile;
mod respond;
mod router;
mod runtime;
mod signatures;
mod state;
mod streamed;

pub use router::router;
pub use runtime::{NonceCheck, Runtime};
pub use state::{SignAs, SignRefusal, SignRequest, Wcs};
