//! The nonces a namespace has seen, each forgotten 30 s after it was
//! seen or once too many are remembered. Upstream: w.c.s.'s api_utils.py
//! refuses a nonce seen before.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use chrono::{DateTime, TimeDelta, Utc};

use super::listed::Memo;
use super::signature;
use super::signatures::Signatures;
use crate::budget::{Kind, MemoryBudget};

/// Used nonces, each forgotten 30 s (emulated clock) after it was seen,
/// or sooner, oldest first, once `--max-nonces` are remembered: a frozen
/// clock never lets one expire, and a test signing in a loop would
/// otherwise grow the store without end.
#[derive(Debug)]
pub struct Runtime {
    nonces: Mutex<Nonces>,
    /// Most nonces remembered (at least one).
    cap: usize,
    /// The namespace, for the log.
    namespace: Box<str>,
    /// Where the nonces' memory is charged (`--memory-budget`).
    budget: Arc<MemoryBudget>,
    /// Signatures computed, for the same signed URL sent again.
    pub signatures: Signatures,
    /// Listings written, for the same listing asked again.
    pub listed: Memo,
}

#[derive(Debug, Default)]
struct Nonces {
    expiry: HashMap<String, DateTime<Utc>>,
    order: VecDeque<(DateTime<Utc>, String)>,
    forgetting: Forgetting,
    /// What the remembered nonces are charged, in bytes.
    charged: usize,
}

/// What remembering a nonce of `len` bytes is charged: its text twice (the
/// map's key and the order's), two instants, and the two collections'
/// slots.
fn weight(len: usize) -> usize {
    2 * len + 112
}

impl Nonces {
    fn pop_oldest(&mut self, budget: &MemoryBudget) -> Option<(DateTime<Utc>, String)> {
        let (at, key) = self.order.pop_front()?;
        let w = weight(key.len());
        self.charged -= w;
        budget.release(Kind::Nonces, w);
        Some((at, key))
    }
}

/// Whether a nonce was fresh.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NonceCheck {
    /// Not used within the window: now remembered, after forgetting this
    /// many older ones to stay within `--max-nonces`.
    Fresh { forgotten: usize },
    /// Already used within the window.
    Used,
    /// Fresh, but the memory budget has no room to remember it.
    NoRoom,
}

impl Runtime {
    /// A store remembering at most `cap` nonces, in the namespace named
    /// `namespace` (for the log).
    pub fn new(cap: usize, namespace: &str, budget: Arc<MemoryBudget>) -> Self {
        Self {
            nonces: Mutex::new(Nonces::default()),
            cap: cap.max(1),
            namespace: namespace.into(),
            listed: Memo::new(Arc::clone(&budget)),
            budget,
            signatures: Signatures::default(),
        }
    }

    /// Forgets everything (control-plane reset).
    pub fn reset(&self) {
        let mut n = self.nonces.lock().unwrap_or_else(|e| e.into_inner());
        n.expiry.clear();
        n.order.clear();
        self.budget
            .release(Kind::Nonces, std::mem::take(&mut n.charged));
    }

    /// Records `nonce` at `now`, unless it was already used within the
    /// window. Expired entries are pruned, and past the cap the oldest are
    /// forgotten, so memory stays bounded; a nonce the memory budget has no
    /// room for is not remembered, and its call is refused.
    pub fn use_nonce(&self, nonce: &str, now: DateTime<Utc>) -> NonceCheck {
        let mut n = self.nonces.lock().unwrap_or_else(|e| e.into_inner());
        while let Some((at, _)) = n.order.front() {
            if *at > now {
                break;
            }
            if let Some((at, key)) = n.pop_oldest(&self.budget)
                && n.expiry.get(&key) == Some(&at)
            {
                n.expiry.remove(&key);
            }
        }
        if n.expiry.get(nonce).is_some_and(|at| *at > now) {
            return NonceCheck::Used;
        }
        // The order also holds entries of nonces seen again after they
        // expired, which a clock moved back may keep from being pruned:
        // bounded too.
        let mut forgotten = 0;
        while n.expiry.len() >= self.cap || n.order.len() >= 2 * self.cap {
            let Some((at, key)) = n.pop_oldest(&self.budget) else {
                break;
            };
            if n.expiry.get(&key) == Some(&at) {
                n.expiry.remove(&key);
                forgotten += 1;
            }
        }
        let w = weight(nonce.len());
        if !self.budget.try_charge(Kind::Nonces, w) {
            return NonceCheck::NoRoom;
        }
        n.charged += w;
        let at = now + TimeDelta::seconds(signature::WINDOW_SECONDS);
        n.expiry.insert(nonce.to_owned(), at);
        n.order.push_back((at, nonce.to_owned()));
        if forgotten > 0
            && let Some(count) = n.forgetting.note(forgotten, std::time::Instant::now())
        {
            drop(n);
            tracing::info!(
                namespace = &*self.namespace,
                forgotten = count,
                "w.c.s. nonce store full (--max-nonces {}): forgot the {count} oldest nonce(s) \
                 since the last such line; the URLs signed with them could be replayed",
                self.cap
            );
        }
        NonceCheck::Fresh { forgotten }
    }

    /// How many nonces are remembered.
    pub fn nonce_count(&self) -> usize {
        self.nonces
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .expiry
            .len()
    }

    /// The most nonces remembered.
    pub fn cap(&self) -> usize {
        self.cap
    }
}

impl Drop for Runtime {
    /// A dropped namespace gives its nonces' memory back.
    fn drop(&mut self) {
        let n = self.nonces.get_mut().unwrap_or_else(|e| e.into_inner());
        self.budget.release(Kind::Nonces, n.charged);
    }
}

/// Nonces forgotten early, said in the log at most once a second.
#[derive(Debug, Default)]
struct Forgetting {
    last_line: Option<std::time::Instant>,
    untold: u64,
}

impl Forgetting {
    /// Counts `n` more forgotten at `now`; returns how many to tell when a
    /// line is due (the first ever, or a second after the last).
    fn note(&mut self, n: usize, now: std::time::Instant) -> Option<u64> {
        self.untold += n as u64;
        let due = self
            .last_line
            .is_none_or(|last| now.duration_since(last) >= std::time::Duration::from_secs(1));
        if !due {
            return None;
        }
        self.last_line = Some(now);
        Some(std::mem::take(&mut self.untold))
    }
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, Utc};

    use super::*;

    fn at(seconds: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + seconds, 0).unwrap()
    }

    #[test]
    fn past_the_cap_the_oldest_nonces_are_forgotten_first() {
        let runtime = Runtime::new(3, "t", MemoryBudget::unbounded());
        for nonce in ["a", "b", "c"] {
            assert_eq!(
                runtime.use_nonce(nonce, at(0)),
                NonceCheck::Fresh { forgotten: 0 }
            );
        }
        assert_eq!(
            runtime.use_nonce("d", at(0)),
            NonceCheck::Fresh { forgotten: 1 }
        );
        assert_eq!(runtime.nonce_count(), 3);
        assert_eq!(runtime.use_nonce("b", at(0)), NonceCheck::Used);
        assert_eq!(
            runtime.use_nonce("a", at(0)),
            NonceCheck::Fresh { forgotten: 1 }
        );
        assert_eq!(runtime.use_nonce("c", at(0)), NonceCheck::Used);
        assert_eq!(runtime.use_nonce("d", at(0)), NonceCheck::Used);
        assert_eq!(runtime.use_nonce("a", at(0)), NonceCheck::Used);
    }

    #[test]
    fn past_the_memory_budget_expired_nonces_go_first_then_a_fresh_one_finds_no_room() {
        let budget = Arc::new(MemoryBudget::new(2 * weight(1), 1));
        let runtime = Runtime::new(100, "t", Arc::clone(&budget));
        assert_eq!(
            runtime.use_nonce("a", at(0)),
            NonceCheck::Fresh { forgotten: 0 }
        );
        assert_eq!(
            runtime.use_nonce("b", at(10)),
            NonceCheck::Fresh { forgotten: 0 }
        );

        assert_eq!(runtime.use_nonce("c", at(20)), NonceCheck::NoRoom);
        assert_eq!(
            runtime.use_nonce("c", at(31)),
            NonceCheck::Fresh { forgotten: 0 }
        );
        assert_eq!(runtime.use_nonce("c", at(31)), NonceCheck::Used);
        assert_eq!(budget.usage().nonce_bytes, 2 * weight(1));

        drop(runtime);
        assert_eq!(
            budget.usage().used_bytes,
            0,
            "a dropped store gives it all back"
        );
    }

    #[test]
    fn a_clock_moved_back_and_forth_keeps_the_store_bounded() {
        let runtime = Runtime::new(2, "t", MemoryBudget::unbounded());
        for i in 0..1000 {
            // Back and forth by more than the window.
            let now = if i % 2 == 0 { at(0) } else { at(100) };
            let _ = runtime.use_nonce(&format!("n{}", i % 5), now);
            let order = runtime.nonces.lock().unwrap().order.len();
            assert!(order <= 4, "{order} entries in the order after {i} calls");
            assert!(runtime.nonce_count() <= 2);
        }
    }

    #[test]
    fn forgetting_is_told_at_most_once_a_second_with_the_count() {
        let start = std::time::Instant::now();
        let ms = |n| start + std::time::Duration::from_millis(n);
        let mut forgetting = Forgetting::default();
        assert_eq!(forgetting.note(1, ms(0)), Some(1));
        assert_eq!(forgetting.note(1, ms(10)), None);
        assert_eq!(forgetting.note(2, ms(999)), None);
        assert_eq!(forgetting.note(1, ms(1000)), Some(4));
        assert_eq!(forgetting.note(1, ms(1500)), None);
        assert_eq!(forgetting.note(1, ms(3000)), Some(2));
    }
}
