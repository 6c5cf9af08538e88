//! A namespace's fault rules, in creation order, and the seeded draws
//! that decide whether one fires.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::FAULT_HEADER;
use super::rules::{Call, Effect, FaultRule, Rule};
use crate::config::Settings;

/// The rule set and its random generator.
#[derive(Debug)]
pub struct Faults {
    inner: Mutex<Inner>,
    seed: u64,
    /// Whether any rule is set, kept beside the list: every API call asks,
    /// and the usual answer, no, needs no lock.
    any: AtomicBool,
}

#[derive(Debug)]
struct Inner {
    rules: Vec<Rule>,
    next_id: u64,
    rng: StdRng,
}

impl Faults {
    pub fn new(seed: u64) -> Self {
        Self {
            inner: Mutex::new(Inner {
                rules: Vec::new(),
                next_id: 1,
                rng: StdRng::seed_from_u64(seed),
            }),
            seed,
            any: AtomicBool::new(false),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Adds a checked rule.
    pub fn add(&self, spec: FaultRule) -> Result<Rule, String> {
        self.add_admitted(spec, |problem| problem, |_| Ok(()))
    }

    /// Adds a rule once checked (its problem made an error by `invalid`)
    /// and once `admit` accepted its id, `admit` running under the rules'
    /// lock (the control plane charges the rule there): no removal or
    /// reset can come between the two. An error of `admit` adds nothing.
    pub fn add_admitted<E>(
        &self,
        spec: FaultRule,
        invalid: impl FnOnce(String) -> E,
        admit: impl FnOnce(u64) -> Result<(), E>,
    ) -> Result<Rule, E> {
        spec.validate().map_err(invalid)?;
        let mut inner = self.lock();
        admit(inner.next_id)?;
        let rule = Rule {
            id: inner.next_id,
            remaining: spec.count,
            spec,
            fired: 0,
        };
        inner.next_id += 1;
        inner.rules.push(rule.clone());
        self.any.store(true, Ordering::Release);
        Ok(rule)
    }

    pub fn list(&self) -> Vec<Rule> {
        self.lock().rules.clone()
    }

    /// Removes one rule; false when there is none with that id.
    pub fn remove(&self, id: u64) -> bool {
        let mut inner = self.lock();
        let before = inner.rules.len();
        inner.rules.retain(|r| r.id != id);
        self.any.store(!inner.rules.is_empty(), Ordering::Release);
        inner.rules.len() != before
    }

    /// Removes every rule and re-seeds the generator.
    pub fn clear(&self) {
        self.clear_then(|| ());
    }

    /// [`Faults::clear`], then `after` under the rules' lock (the control
    /// plane gives the rules' charges back there), so that no rule added
    /// meanwhile loses its own.
    pub fn clear_then(&self, after: impl FnOnce()) {
        let mut inner = self.lock();
        after();
        inner.rules.clear();
        self.any.store(false, Ordering::Release);
        inner.rng = StdRng::seed_from_u64(self.seed);
    }

    /// Whether a rule could need the caller's identity for this call, so
    /// the middleware reads a body only when it must.
    pub fn wants_identity(&self, method: &str, path: &str) -> bool {
        self.lock().rules.iter().any(|r| {
            (r.spec.client_id.is_some() || r.spec.orig.is_some())
                && r.remaining != Some(0)
                && r.spec.matches(&Call {
                    method,
                    path,
                    client_id: r.spec.client_id.clone(),
                    orig: r.spec.orig.clone(),
                })
        })
    }

    /// The effect of the first matching rule that fires, if any.
    pub fn decide(&self, call: &Call<'_>) -> Option<Effect> {
        let mut inner = self.lock();
        let Inner { rules, rng, .. } = &mut *inner;
        for rule in rules.iter_mut() {
            if rule.remaining == Some(0) || !rule.spec.matches(call) {
                continue;
            }
            if let Some(p) = rule.spec.probability
                && p < 1.0
                && rng.random::<f64>() >= p
            {
                continue;
            }
            rule.fired += 1;
            if let Some(left) = rule.remaining.as_mut() {
                *left -= 1;
            }
            let latency = rule.spec.latency_ms.map(|min| {
                let ms = match rule.spec.latency_max_ms {
                    Some(max) if max > min => rng.random_range(min..=max),
                    _ => min,
                };
                Duration::from_millis(ms)
            });
            return Some(Effect {
                latency,
                status: rule.spec.status,
                retry_after: rule.spec.retry_after,
                drop: rule.spec.drop.unwrap_or(false),
                source: format!("fault rule {}", rule.id),
            });
        }
        None
    }
}

impl Faults {
    pub(super) fn list_is_empty(&self) -> bool {
        !self.any.load(Ordering::Acquire)
    }

    /// Whether any rule is set (read without the lock).
    pub fn is_active(&self) -> bool {
        !self.list_is_empty()
    }

    /// Whether a call with these headers may be faulted: a rule is set, or
    /// it asks for a fault by header and the header is honoured.
    pub fn may_act_on(&self, settings: &Settings, headers: &axum::http::HeaderMap) -> bool {
        self.is_active() || (settings.fault_header && headers.contains_key(FAULT_HEADER))
    }
}
