//! The state every handler receives: the store, the emulated clock, the
//! runtime settings and each API's own runtime state (token revocations,
//! used nonces). Cloning it is one atomic increment: every request clones
//! it a few times, and one shared counter bounces between cores less than
//! seven.

use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::admin::faults::Faults;
use crate::admin::journal::Journal;
use crate::clock::Clock;
use crate::config::Settings;
use crate::store::{Problems, Store};

#[derive(Debug, Clone)]
pub struct AppState(Arc<Shared>);

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

/// What [`AppState`] shares.
#[derive(Debug)]
pub struct Shared {
    pub store: Arc<Store>,
    pub clock: Arc<Clock>,
    pub settings: Arc<Settings>,
    pub logora: Arc<crate::logora::Runtime>,
    pub wcs: Arc<crate::wcs::Runtime>,
    pub journal: Arc<Journal>,
    pub faults: Arc<Faults>,
}

impl AppState {
    pub fn new(store: Store, clock: Clock, settings: Settings) -> Self {
        Self(Arc::new(Shared {
            store: Arc::new(store),
            clock: Arc::new(clock),
            journal: Arc::new(Journal::new(settings.journal_size)),
            faults: Arc::new(Faults::new(settings.fault_seed)),
            settings: Arc::new(settings),
            logora: Arc::new(crate::logora::Runtime::default()),
            wcs: Arc::new(crate::wcs::Runtime::default()),
        }))
    }

    /// The built-in fixtures, a clock frozen at [`TEST_NOW`] and
    /// [`Settings::for_tests`]: what most tests start from.
    pub fn for_tests() -> Self {
        Self::for_tests_with(Settings::for_tests())
    }

    /// [`AppState::for_tests`] with other settings.
    pub fn for_tests_with(settings: Settings) -> Self {
        let store = Store::builtin().unwrap_or_else(|p| panic!("built-in fixtures: {p}"));
        Self::new(store, Clock::frozen(test_now()), settings)
    }

    /// Back to the seed: data, API runtime state (tokens, revocations,
    /// nonces), journal, faults and clock.
    pub fn reset(&self) -> Result<(), Problems> {
        self.store.reset()?;
        self.logora.reset();
        self.wcs.reset();
        self.clock.reset();
        self.journal.clear();
        self.faults.clear();
        Ok(())
    }
}

/// The instant the test clock is frozen at.
pub const TEST_NOW: &str = "2026-01-15T10:00:00Z";

/// [`TEST_NOW`] as a time.
pub fn test_now() -> DateTime<Utc> {
    TEST_NOW.parse().unwrap_or_default()
}
