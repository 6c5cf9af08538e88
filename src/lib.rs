//! doublure: an emulator of the Logora users API and of the w.c.s. user API,
//! for tests, CI and demos.
//!
//! [`app`] builds the whole router from an [`AppState`], so tests drive the
//! real routes in process; [`startup::Application`] binds and serves it.
//!
//! The emulated APIs (`logora`, `wcs`) stand on a shared ground (`store`,
//! `clock`, `config`, `outcome`); `traffic` (journal, faults) wraps their
//! calls; `namespace` gives each test suite its own state; `admin` is the
//! control plane; `routing` puts it together, behind the limits of
//! `boundary`; `serve` runs the connections.

pub mod admin;
pub mod boundary;
pub mod clock;
pub mod config;
pub mod data;
pub mod generate;
pub mod healthcheck;
pub mod logora;
pub mod namespace;
pub mod outcome;
pub mod routing;
pub mod serve;
pub mod startup;
pub mod state;
pub mod store;
pub mod traffic;
pub mod wcs;

pub use state::AppState;

/// The whole application router of `state`.
pub fn app(state: AppState) -> axum::Router {
    state.router()
}
