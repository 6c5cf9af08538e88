//! doublure: an emulator of the Logora users API and of the w.c.s. user API,
//! for tests, CI and demos.
//!
//! [`app`] builds the whole router from an [`AppState`], so tests drive the
//! real routes in process; [`startup::Application`] binds and serves it.

pub mod admin;
pub mod clock;
pub mod config;
pub mod generate;
pub mod healthcheck;
pub mod import;
pub mod logora;
pub mod startup;
pub mod state;
pub mod store;
pub mod wcs;

pub mod routing;

pub use routing::app;
pub use state::AppState;
