//! doublure: an emulator of the Logora users API and of the w.c.s. user API,
//! for tests, CI and demos.
//!
//! In a Rust test, [`Doublure`] starts a server on a free port in the
//! test's runtime, and stops it when dropped:
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! use doublure::Doublure;
//! use doublure::embed::As;
//!
//! let doublure = Doublure::start().await;
//! // Logora: a token, then the users list.
//! let token = doublure.token("API_KEY", "public").unwrap();
//! let users: serde_json::Value = reqwest::Client::new()
//!     .get(format!("{}/api/v1/users?per_page=5", doublure.url()))
//!     .bearer_auth(token)
//!     .send()
//!     .await
//!     .unwrap()
//!     .json()
//!     .await
//!     .unwrap();
//! assert_eq!(users["data"].as_array().unwrap().len(), 5);
//! // w.c.s.: a URL signed as Publik signs it.
//! let forms = doublure
//!     .sign("/api/user/forms", "demo", As::Email("fred@example.net"))
//!     .unwrap();
//! assert_eq!(reqwest::get(forms).await.unwrap().status(), 200);
//! // Each test of a suite can take a namespace of its own.
//! let mine = doublure.namespace("my_test").unwrap();
//! assert!(mine.url().ends_with("/__ns/my_test"));
//! # }
//! ```
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
pub mod cli;
pub mod clock;
pub mod config;
pub mod data;
pub mod embed;
pub mod generate;
pub mod healthcheck;
pub mod import;
pub mod logora;
pub mod namespace;
pub mod outcome;
pub mod paths;
pub mod routing;
pub mod serve;
pub mod startup;
pub mod state;
pub mod store;
pub mod traffic;
pub mod wcs;

pub use embed::Doublure;
pub use state::AppState;

/// The whole application router of `state`.
pub fn app(state: AppState) -> axum::Router {
    state.router()
}
