//! Namespaces: one running doublure serving many test suites at once, each
//! with its own data, clock, tokens, nonces, journal and faults.
//!
//! Everything served at `/X` is also served at `/__ns/{name}/X` on that
//! namespace's own state. A namespace is made on its first request from
//! the server's [`Seed`], whose data it shares until it changes some (the
//! data types share structure, so a change copies only what it touches).
//! The root, with no prefix, is a namespace too, but never listed, dropped
//! or expired. Settings (listen address, CORS, admin token, limits) are
//! the server's, in the [`Ground`] every namespace stands on.

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;

use crate::budget::{DataCharges, MemoryBudget};
use crate::clock::Clock;
use crate::config::Settings;
use crate::data::{Data, Seed};
use crate::logora::Logora;
use crate::traffic::faults::Faults;
use crate::traffic::journal::{Journal, RefusalLog};
use crate::wcs::Wcs;

pub use crate::paths::PREFIX;
pub use registry::{Namespaces, Refusal, Registry};

mod registry;
pub mod reload;

/// Longest namespace name.
pub const MAX_NAME: usize = 64;

/// Why `name` is no namespace name, if it is not one: 1 to 64 characters
/// from `[A-Za-z0-9._-]`, not only dots (`..` in a URL's path is its
/// parent: `/__ns/../api/v1/users` resolves to the root's).
pub fn check_name(name: &str) -> Result<(), String> {
    if name.is_empty() || name.len() > MAX_NAME {
        return Err(format!(
            "namespace name {name:?} must be 1 to {MAX_NAME} characters long"
        ));
    }
    if let Some(bad) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')))
    {
        return Err(format!(
            "namespace name {name:?} has {bad:?}; use letters, digits, '.', '_' and '-'"
        ));
    }
    if name.bytes().all(|b| b == b'.') {
        return Err(format!(
            "namespace name {name:?} is only dots, which a URL reads as a folder; \
             use a letter, a digit, '_' or '-' as well"
        ));
    }
    Ok(())
}

/// What every namespace shares: the settings, the seed new namespaces
/// start from (and every namespace resets to), and the clock they start
/// with.
#[derive(Debug)]
pub struct Ground {
    pub settings: Arc<Settings>,
    seed: RwLock<Arc<Seed>>,
    /// A new namespace's clock starts in this clock's initial mode.
    clock: Clock,
    /// The server's log of repeated refusals, which its namespaces share.
    pub refusals: Arc<RefusalLog>,
    /// The memory every namespace's journal, nonces and streams share
    /// (`--memory-budget`).
    pub budget: Arc<MemoryBudget>,
}

impl Ground {
    pub fn new(seed: Seed, clock: Clock, settings: Settings) -> Self {
        Self {
            budget: Arc::new(MemoryBudget::new(
                settings.memory_budget,
                settings.max_streams,
            )),
            settings: Arc::new(settings),
            seed: RwLock::new(Arc::new(seed)),
            clock,
            refusals: Arc::default(),
        }
    }

    /// The seed namespaces start from and reset to.
    pub fn seed(&self) -> Arc<Seed> {
        Arc::clone(&self.seed.read().unwrap_or_else(|e| e.into_inner()))
    }

    /// Makes `seed` the one namespaces start from and reset to.
    pub fn set_seed(&self, seed: Arc<Seed>) {
        *self.seed.write().unwrap_or_else(|e| e.into_inner()) = seed;
    }
}

/// One namespace's state, which its routes receive. Cloning it is one
/// atomic increment.
#[derive(Debug, Clone)]
pub struct Namespace(Arc<Inner>);

/// What [`Namespace`] holds.
#[derive(Debug)]
pub struct Inner {
    /// `None` for the root.
    pub name: Option<String>,
    pub ground: Arc<Ground>,
    pub clock: Arc<Clock>,
    pub logora: Logora,
    pub wcs: Wcs,
    pub journal: Arc<Journal>,
    pub faults: Arc<Faults>,
    /// What the control plane made it keep beyond the seed, charged to the
    /// memory budget and given back when it resets or is dropped.
    pub charges: Arc<DataCharges>,
    /// When it was made, by the registry's clock.
    pub created: DateTime<Utc>,
    /// When it was last asked anything, in microseconds since the epoch by
    /// the registry's clock.
    last_used: AtomicI64,
    requests: AtomicU64,
}

impl std::ops::Deref for Namespace {
    type Target = Inner;

    fn deref(&self) -> &Inner {
        &self.0
    }
}

/// How a namespace is listed.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct Info {
    pub name: String,
    /// RFC 3339.
    pub created: String,
    /// RFC 3339: its last request.
    pub last_used: String,
    /// Requests it has answered, control-plane calls included.
    pub requests: u64,
}

fn rfc3339(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

impl Namespace {
    /// The root namespace, on the ground's current seed.
    pub fn root(ground: Arc<Ground>, now: DateTime<Utc>) -> Self {
        Self::new(None, ground, now)
    }

    /// Namespace `name` (or the root), on the ground's current seed.
    fn new(name: Option<&str>, ground: Arc<Ground>, now: DateTime<Utc>) -> Self {
        let seed = ground.seed();
        let settings = Arc::clone(&ground.settings);
        let clock = Arc::new(ground.clock.fresh());
        let prefix = name.map(|n| format!("{PREFIX}{n}")).unwrap_or_default();
        let base_url = format!("{}{prefix}", settings.public_url);
        // A namespace's tokens are bound to its name and to this very
        // namespace: one dropped and made again under the same name does
        // not take the old one's tokens.
        let realm = name.map(|n| {
            let mut realm = n.as_bytes().to_vec();
            realm.extend(rand::random::<[u8; 16]>());
            realm.into_boxed_slice()
        });
        let journal = Arc::new(Journal::new(
            settings.journal_size,
            settings.journal_bytes,
            Arc::clone(&ground.budget),
        ));
        ground
            .budget
            .enlist(Arc::downgrade(&journal) as std::sync::Weak<dyn crate::budget::Reclaim>);
        let charges = Arc::new(DataCharges::new(Arc::clone(&ground.budget)));
        Self(Arc::new(Inner {
            name: name.map(str::to_owned),
            logora: Logora::new(
                Arc::clone(&seed.logora),
                Arc::clone(&clock),
                Arc::clone(&settings),
                base_url.clone(),
                realm,
                Arc::clone(&ground.budget),
                Arc::clone(&charges),
            ),
            wcs: Wcs::new(
                Arc::clone(&seed.wcs),
                Arc::clone(&clock),
                Arc::clone(&settings),
                base_url,
                prefix,
                Arc::clone(&ground.budget),
            ),
            journal,
            faults: Arc::new(Faults::new(settings.fault_seed)),
            charges,
            clock,
            ground,
            created: now,
            last_used: AtomicI64::new(now.timestamp_micros()),
            requests: AtomicU64::new(0),
        }))
    }

    pub fn settings(&self) -> &Settings {
        &self.ground.settings
    }

    /// The path prefix of its routes: `/__ns/{name}`, or empty at the root.
    pub fn prefix(&self) -> String {
        self.name
            .as_deref()
            .map(|n| format!("{PREFIX}{n}"))
            .unwrap_or_default()
    }

    /// Back to the seed: data, tokens, revocations, nonces, journal, faults
    /// and clock.
    pub fn reset(&self) {
        // The charges go before what they stand for: a change made
        // meanwhile stays charged (until the next reset) rather than kept
        // uncharged. A fault rule's goes with the rules, under their lock.
        self.charges.forget_all_but(&[crate::budget::FAULTS]);
        let seed = self.ground.seed();
        self.logora.reset(Arc::clone(&seed.logora));
        self.wcs.reset(Arc::clone(&seed.wcs));
        self.clock.reset();
        self.journal.clear();
        self.faults
            .clear_then(|| self.charges.forget_all(crate::budget::FAULTS));
    }

    /// Replaces all data (state import) once `charge` found room for it,
    /// `charge` running with both APIs' data locked: an item changed
    /// meanwhile is either replaced with its charge or made afterwards and
    /// charged then. Fault rules and tokens stay.
    pub fn replace_data<E>(
        &self,
        data: Data,
        charge: impl FnOnce() -> Result<(), E>,
    ) -> Result<(), E> {
        let Data { logora, wcs } = data;
        self.logora.data.replace_with(|| {
            self.wcs
                .data
                .replace_with(|| charge().map(|()| (Arc::new(wcs), ())))?;
            Ok((Arc::new(logora), ()))
        })
    }

    /// Makes `seed` the server's seed and this namespace's data (fixture
    /// reload). Other namespaces keep their data until they reset; fault
    /// rules and tokens stay, and so do their charges.
    pub fn reseed(&self, seed: Seed) {
        let seed = Arc::new(seed);
        self.logora
            .data
            .replace_with(|| {
                self.wcs.data.replace_with(|| {
                    // The seed is not what traffic grew: it is charged to
                    // no one.
                    self.charges.forget_data();
                    Ok::<_, std::convert::Infallible>((Arc::clone(&seed.wcs), ()))
                })?;
                Ok::<_, std::convert::Infallible>((Arc::clone(&seed.logora), ()))
            })
            .unwrap_or_else(|never| match never {});
        self.ground.set_seed(seed);
    }

    /// All data, as it is now.
    pub fn data(&self) -> Data {
        Data {
            logora: (*self.logora.data.get()).clone(),
            wcs: (*self.wcs.data.get()).clone(),
        }
    }

    fn touch(&self, now: DateTime<Utc>) {
        self.last_used
            .fetch_max(now.timestamp_micros(), Ordering::Relaxed);
        self.requests.fetch_add(1, Ordering::Relaxed);
    }

    fn last_used(&self) -> DateTime<Utc> {
        DateTime::from_timestamp_micros(self.last_used.load(Ordering::Relaxed)).unwrap_or_default()
    }

    /// How it is listed.
    pub fn info(&self) -> Info {
        Info {
            name: self.name.clone().unwrap_or_default(),
            created: rfc3339(self.created),
            last_used: rfc3339(self.last_used()),
            requests: self.requests.load(Ordering::Relaxed),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_1_to_64_letters_digits_dots_underscores_and_dashes() {
        assert_eq!(check_name("test_a.b-C9"), Ok(()));
        assert_eq!(check_name(&"a".repeat(64)), Ok(()));
        assert!(check_name(&"a".repeat(65)).unwrap_err().contains("1 to 64"));
        assert!(check_name("").is_err());
        assert_eq!(
            check_name("a/b"),
            Err("namespace name \"a/b\" has '/'; use letters, digits, '.', '_' and '-'".into())
        );
        assert!(check_name("é").is_err());
        assert!(check_name("a b").is_err());
        for dots in [".", "..", "..."] {
            assert_eq!(
                check_name(dots),
                Err(format!(
                    "namespace name {dots:?} is only dots, which a URL reads as a folder; \
                     use a letter, a digit, '_' or '-' as well"
                ))
            );
        }
        assert_eq!(check_name(".a."), Ok(()));
    }
}
