//! The internals doublure's own integration tests, examples and benchmark
//! reach into, under the paths they have inside the crate
//! (`testing::wcs::signature::sign_url` is `crate::wcs::signature::sign_url`).
//! Hidden from the documentation and not part of the embedding API: these
//! items change whenever the inside does.
//!
//! Each module re-exports exactly what is used, so an item nothing uses
//! any more shows up as dead code.

use chrono::{DateTime, Utc};

pub use crate::state::AppState;

/// The whole application router of `state`.
pub fn app(state: AppState) -> axum::Router {
    state.router()
}

/// The instant the test clock is frozen at.
pub const TEST_NOW: &str = "2026-01-15T10:00:00Z";

/// [`TEST_NOW`] as a time.
pub fn test_now() -> DateTime<Utc> {
    TEST_NOW.parse().unwrap_or_default()
}

impl AppState {
    /// The built-in fixtures, clocks frozen at [`TEST_NOW`] and
    /// [`Settings::for_tests`](config::Settings::for_tests): what most
    /// tests start from.
    pub fn for_tests() -> Self {
        Self::for_tests_with(crate::config::Settings::for_tests())
    }

    /// [`AppState::for_tests`] with other settings.
    pub fn for_tests_with(settings: crate::config::Settings) -> Self {
        let seed =
            crate::data::Seed::builtin().unwrap_or_else(|p| panic!("built-in fixtures: {p}"));
        Self::with_namespace_clock(
            seed,
            crate::clock::Clock::frozen(test_now()),
            settings,
            crate::clock::Clock::frozen(test_now()),
        )
    }
}

impl crate::config::Settings {
    /// Settings for tests: the command line's defaults, served at
    /// `http://localhost:8080`.
    pub fn for_tests() -> Self {
        let config = crate::config::Config {
            public_url: Some("http://localhost:8080".to_owned()),
            ..crate::config::Config::default()
        };
        Self::new(&config, std::net::SocketAddr::from(([127, 0, 0, 1], 8080)))
            .unwrap_or_else(|e| panic!("the default settings: {e}"))
    }
}

pub mod boundary {
    pub use crate::boundary::API_BODY_LIMIT;
}

pub mod budget {
    pub use crate::budget::{dataset_charge, item_charge};
}

#[cfg(feature = "cli")]
pub mod cli {
    pub use crate::cli::{Cli, Command, FixturesCommand};
}

pub mod clock {
    pub use crate::clock::Clock;
}

pub mod config {
    pub use crate::config::{Config, CorsOrigins, Doorkeeper, Generate, LogFormat, Settings};
}

pub mod data {
    pub use crate::data::{
        Data, Seed, builtin, builtin_files, known_files, read_dir, write_generated,
    };
}

#[cfg(feature = "cli")]
pub mod import {
    pub use crate::import::{
        ImportError, ImportSource, Limits, LogoraArgs, OutputArgs, Secret, Summary, WcsArgs, run,
    };
}

pub mod logora {
    pub use crate::logora::Revocation;

    pub mod auth {
        pub use crate::logora::auth::{
            basic, bearer_header, bearer_token, client_credentials, params,
        };
    }

    pub mod pagination {
        pub use crate::logora::pagination::{MAX_PER_PAGE, Page, headers, parse};
    }
}

pub mod namespace {
    pub mod reload {
        pub use crate::namespace::reload::watch;
    }
}

pub mod startup {
    pub use crate::startup::{Application, StartupError, shutdown_signal};
}

pub mod state {
    pub use super::{TEST_NOW, test_now};
}

pub mod store {
    pub use crate::store::FixtureFiles;
}

pub mod traffic {
    pub mod faults {
        pub use crate::traffic::faults::{FaultRule, MAX_LATENCY_MS, parse_header};
    }

    pub mod journal {
        pub use crate::traffic::journal::{JournalEntry, JournalFilter};
    }
}

pub mod wcs {
    pub mod auth {
        pub use crate::wcs::auth::basic_credentials;
    }

    pub mod python {
        pub use crate::wcs::python::{PyInt, int, strptime_timestamp};
    }

    pub mod query {
        pub use crate::wcs::query::{FormsQuery, UsersQuery};
    }

    pub mod signature {
        pub use crate::wcs::signature::{
            SignatureError, is_signed, parse_qs, parse_timestamp, quote, sign_url, signature,
            signed_part, verify, with_user,
        };
    }
}

/// What a change shares with the data before it.
pub mod sharing {
    use std::sync::Arc;

    pub use crate::wcs::model::Form;

    use crate::namespace::Namespace;
    use crate::wcs::model::WcsData;

    /// A namespace's w.c.s. data as it is now, kept as it is.
    pub fn wcs_snapshot(ns: &Namespace) -> Arc<WcsData> {
        ns.wcs.data.get()
    }

    /// How many users `after` holds in the very allocation `before` holds
    /// them in (same position), and how many users `after` holds.
    pub fn wcs_users_shared(before: &WcsData, after: &WcsData) -> (usize, usize) {
        let shared = before
            .users
            .iter()
            .zip(after.users.iter())
            .filter(|(a, b)| Arc::ptr_eq(a, b))
            .count();
        (shared, after.users.len())
    }

    /// How many forms `after` holds in the very allocation `before` holds
    /// them in (same position), and how many forms `after` holds.
    pub fn wcs_forms_shared(before: &WcsData, after: &WcsData) -> (usize, usize) {
        let shared = before
            .forms
            .iter()
            .zip(after.forms.iter())
            .filter(|(a, b)| Arc::ptr_eq(a, b))
            .count();
        (shared, after.forms.len())
    }
}
