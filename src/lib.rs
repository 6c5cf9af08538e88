//! doublure: an emulator of the Logora users API and of the w.c.s. user API,
//! for tests, CI and demos.
//!
//! In a Rust test, [`Doublure`] starts a server on a free port in the
//! test's runtime, and stops it when dropped:
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! use doublure::{Doublure, SignAs};
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
//!     .sign("/api/user/forms", "demo", SignAs::Email("fred@example.net"))
//!     .unwrap();
//! assert_eq!(reqwest::get(forms).await.unwrap().status(), 200);
//! // Each test of a suite can take a namespace of its own.
//! let mine = doublure.namespace("my_test").unwrap();
//! assert!(mine.url().ends_with("/__ns/my_test"));
//! # }
//! ```
//!
//! [`Application`] is the server the `doublure` binary runs: it loads a
//! [`Config`]'s fixtures, binds, and serves until a shutdown future
//! completes ([`shutdown_signal`] for Ctrl-C and SIGTERM).
//!
//! The `cli` feature, on by default, builds the `doublure` binary: its
//! command line, `fixtures import` and log output. A crate that only
//! embeds doublure in its tests can leave it out
//! (`default-features = false`) and compile none of that.
//!
//! Inside, the emulated APIs (`logora`, `wcs`) stand on a shared ground
//! (`store`, `clock`, `config`, `outcome`); `traffic` (journal, faults)
//! wraps their calls; `namespace` gives each test suite its own state;
//! `admin` is the control plane; `routing` puts it together, behind the
//! limits of `boundary`; `serve` runs the connections (`tls` makes their
//! certificate); `startup` is the one
//! start sequence of the binary, the embedding handle and the tests.

mod admin;
mod boundary;
mod budget;
#[cfg(feature = "cli")]
mod cli;
mod clock;
mod config;
mod cors;
mod data;
mod embed;
mod extract;
mod form;
mod generate;
#[cfg(feature = "cli")]
mod healthcheck;
#[cfg(feature = "cli")]
mod import;
mod logora;
mod namespace;
mod outcome;
mod paths;
mod routing;
mod serve;
mod startup;
mod state;
mod store;
#[cfg(feature = "testcontainers")]
pub mod testcontainers;
#[doc(hidden)]
pub mod testing;
mod tls;
mod traffic;
#[cfg(feature = "cli")]
mod verify;
mod wcs;

pub use config::{Config, LogFormat};
pub use embed::{Builder, Doublure, Error};
pub use startup::{Application, StartupError, shutdown_signal};
pub use store::{Problem, Problems};
pub use traffic::faults::FaultRule;
pub use traffic::journal::{JournalEntry, JournalFilter};
pub use wcs::SignAs;

/// The `doublure` binary's entry point: parses the command line and runs
/// the subcommand, or serves.
#[cfg(feature = "cli")]
#[doc(hidden)]
pub use cli::main as cli_main;
