//! The server's one memory budget (`--memory-budget`): what calls can make
//! the server keep (journal entries, w.c.s. nonces, live journal streams),
//! counted across every namespace together, so that a limit given per
//! namespace cannot multiply by the number of namespaces.
//!
//! Each store charges the bytes it keeps before keeping them and releases
//! them when it forgets them (or is dropped with its namespace). A charge
//! is one compare-and-swap loop on a shared counter plus one add to the
//! counter of its kind: cheap enough for every call of the emulated APIs.
//! When a charge does not fit, the store first forgets what it may (the
//! journal its oldest entries, the nonce store its expired nonces); a call
//! that would still grow memory is refused with a 503, as an overloaded
//! service answers. No source dictates the figures: they are ours, and
//! `docs/reliability.md` lists them.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use serde::Serialize;

/// What a charge is for, counted apart so that the control plane can say
/// where the memory went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Journal,
    Nonces,
    Streams,
}

/// Room kept above the budget for the small entries that journal refused
/// calls, so that a refusal is journaled even when the budget is spent:
/// about 3,000 of them. Past it they are counted, not journaled.
pub const REFUSAL_RESERVE: usize = 1 << 20;

/// What one live journal stream is charged: its task, its reader and its
/// share of the connection's buffers (measured by `bench/soak`, rounded
/// up). The entries it holds are shared with its journal, not copies.
pub const STREAM_CHARGE: usize = 16 << 10;

/// The shared budget. Cloned as an `Arc` into every namespace's journal
/// and nonce store, and into every stream.
#[derive(Debug)]
pub struct MemoryBudget {
    limit: usize,
    used: AtomicUsize,
    journal: AtomicUsize,
    nonces: AtomicUsize,
    streams_bytes: AtomicUsize,
    streams: AtomicUsize,
    max_streams: usize,
    refused: AtomicU64,
    unjournaled: AtomicU64,
}

/// How the budget is used, as `GET /__doublure/memory` shows it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct Usage {
    /// `--memory-budget`, in bytes.
    pub budget_bytes: usize,
    /// Bytes charged now, every kind together.
    pub used_bytes: usize,
    /// Bytes of journal entries, every namespace together.
    pub journal_bytes: usize,
    /// Bytes of w.c.s. nonces remembered, every namespace together.
    pub nonce_bytes: usize,
    /// Bytes charged for live journal streams.
    pub stream_bytes: usize,
    /// Live journal streams.
    pub streams: usize,
    /// `--max-streams`.
    pub max_streams: usize,
    /// Calls refused with a 503 because the budget was spent, since start.
    pub refused_calls: u64,
    /// Refused calls not journaled because even the reserve kept for their
    /// entries was spent, since start.
    pub refusals_not_journaled: u64,
}

/// Why a stream could not open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StreamRefusal {
    /// As many streams live as `--max-streams` allows.
    TooMany(usize),
    /// The budget has no room for one more.
    NoRoom,
}

impl MemoryBudget {
    /// A budget of `limit` bytes, with at most `max_streams` streams.
    pub fn new(limit: usize, max_streams: usize) -> Self {
        Self {
            limit,
            used: AtomicUsize::new(0),
            journal: AtomicUsize::new(0),
            nonces: AtomicUsize::new(0),
            streams_bytes: AtomicUsize::new(0),
            streams: AtomicUsize::new(0),
            max_streams,
            refused: AtomicU64::new(0),
            unjournaled: AtomicU64::new(0),
        }
    }

    /// A budget no test of a single store reaches.
    pub fn unbounded() -> Arc<Self> {
        Arc::new(Self::new(usize::MAX / 2, usize::MAX))
    }

    fn counter(&self, kind: Kind) -> &AtomicUsize {
        match kind {
            Kind::Journal => &self.journal,
            Kind::Nonces => &self.nonces,
            Kind::Streams => &self.streams_bytes,
        }
    }

    /// Charges `bytes` if they fit within `limit + over`.
    fn charge_within(&self, kind: Kind, bytes: usize, over: usize) -> bool {
        let ceiling = self.limit.saturating_add(over);
        let fits = self
            .used
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |used| {
                used.checked_add(bytes).filter(|&after| after <= ceiling)
            })
            .is_ok();
        if fits {
            self.counter(kind).fetch_add(bytes, Ordering::Relaxed);
        }
        fits
    }

    /// Charges `bytes` if they fit in the budget.
    pub fn try_charge(&self, kind: Kind, bytes: usize) -> bool {
        self.charge_within(kind, bytes, 0)
    }

    /// Charges `bytes` if they fit in the budget plus the reserve kept for
    /// the entries of refused calls.
    pub fn charge_refusal(&self, bytes: usize) -> bool {
        self.charge_within(Kind::Journal, bytes, REFUSAL_RESERVE)
    }

    /// Charges `bytes` whatever is left: for what a call already admitted
    /// keeps (its own journal entry), so that the overshoot is bounded by
    /// the calls in flight.
    pub fn force_charge(&self, kind: Kind, bytes: usize) {
        self.used.fetch_add(bytes, Ordering::AcqRel);
        self.counter(kind).fetch_add(bytes, Ordering::Relaxed);
    }

    /// Gives back `bytes` charged before.
    pub fn release(&self, kind: Kind, bytes: usize) {
        if bytes > 0 {
            self.used.fetch_sub(bytes, Ordering::AcqRel);
            self.counter(kind).fetch_sub(bytes, Ordering::Relaxed);
        }
    }

    /// Whether fewer than `headroom` bytes are left: one load, for the
    /// check every call makes before it is served.
    pub fn is_short_of(&self, headroom: usize) -> bool {
        self.used.load(Ordering::Acquire).saturating_add(headroom) > self.limit
    }

    /// Bytes charged now.
    pub fn used(&self) -> usize {
        self.used.load(Ordering::Acquire)
    }

    /// `--memory-budget`.
    pub fn limit(&self) -> usize {
        self.limit
    }

    /// Counts a call refused for the budget.
    pub fn note_refused(&self) {
        self.refused.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts a refusal whose entry found no room even in the reserve.
    pub fn note_unjournaled(&self) {
        self.unjournaled.fetch_add(1, Ordering::Relaxed);
    }

    /// How the budget is used now.
    pub fn usage(&self) -> Usage {
        Usage {
            budget_bytes: self.limit,
            used_bytes: self.used.load(Ordering::Acquire),
            journal_bytes: self.journal.load(Ordering::Relaxed),
            nonce_bytes: self.nonces.load(Ordering::Relaxed),
            stream_bytes: self.streams_bytes.load(Ordering::Relaxed),
            streams: self.streams.load(Ordering::Relaxed),
            max_streams: self.max_streams,
            refused_calls: self.refused.load(Ordering::Relaxed),
            refusals_not_journaled: self.unjournaled.load(Ordering::Relaxed),
        }
    }

    /// A place for one more live stream, held until the stream ends.
    pub fn open_stream(self: &Arc<Self>) -> Result<StreamPermit, StreamRefusal> {
        let counted = self
            .streams
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < self.max_streams).then_some(n + 1)
            })
            .is_ok();
        if !counted {
            return Err(StreamRefusal::TooMany(self.max_streams));
        }
        if !self.try_charge(Kind::Streams, STREAM_CHARGE) {
            self.streams.fetch_sub(1, Ordering::AcqRel);
            return Err(StreamRefusal::NoRoom);
        }
        Ok(StreamPermit {
            budget: Arc::clone(self),
        })
    }
}

/// `bytes` as people write them: `256 MiB`, `1.5 GiB`, `300 KiB`, `12 B`.
pub fn bytes_in_words(bytes: usize) -> String {
    const UNITS: [(&str, usize); 3] = [("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)];
    for (unit, size) in UNITS {
        if bytes >= size {
            let whole = bytes / size;
            let tenths = (bytes % size) * 10 / size;
            return if tenths == 0 {
                format!("{whole} {unit}")
            } else {
                format!("{whole}.{tenths} {unit}")
            };
        }
    }
    format!("{bytes} B")
}

/// One live stream's place in the budget, given back when dropped.
#[derive(Debug)]
pub struct StreamPermit {
    budget: Arc<MemoryBudget>,
}

impl Drop for StreamPermit {
    fn drop(&mut self) {
        self.budget.release(Kind::Streams, STREAM_CHARGE);
        self.budget.streams.fetch_sub(1, Ordering::AcqRel);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_are_said_in_the_largest_unit_with_a_tenth() {
        assert_eq!(bytes_in_words(256 << 20), "256 MiB");
        assert_eq!(bytes_in_words((1 << 30) + (1 << 29)), "1.5 GiB");
        assert_eq!(bytes_in_words(1536), "1.5 KiB");
        assert_eq!(bytes_in_words(12), "12 B");
    }

    #[test]
    fn a_charge_that_does_not_fit_is_refused_and_changes_nothing() {
        let budget = MemoryBudget::new(100, 1);
        assert!(budget.try_charge(Kind::Journal, 60));
        assert!(!budget.try_charge(Kind::Nonces, 41));
        assert!(budget.try_charge(Kind::Nonces, 40));
        budget.release(Kind::Journal, 60);
        let usage = budget.usage();
        assert_eq!(
            (usage.used_bytes, usage.journal_bytes, usage.nonce_bytes),
            (40, 0, 40)
        );
    }

    #[test]
    fn refusals_may_use_the_reserve_above_the_budget_and_no_more() {
        let budget = MemoryBudget::new(10, 1);
        assert!(budget.try_charge(Kind::Journal, 10));
        assert!(budget.is_short_of(1));
        assert!(budget.charge_refusal(REFUSAL_RESERVE));
        assert!(!budget.charge_refusal(1));
    }

    #[test]
    fn streams_past_the_cap_or_the_budget_are_refused_and_a_permit_gives_its_place_back() {
        let budget = Arc::new(MemoryBudget::new(STREAM_CHARGE, 2));
        let first = budget.open_stream().expect("room for one");
        assert_eq!(budget.open_stream().unwrap_err(), StreamRefusal::NoRoom);
        assert_eq!(budget.usage().streams, 1);
        drop(first);
        assert_eq!((budget.usage().streams, budget.usage().used_bytes), (0, 0));

        let roomy = Arc::new(MemoryBudget::new(usize::MAX / 2, 1));
        let _held = roomy.open_stream().expect("room for one");
        assert_eq!(roomy.open_stream().unwrap_err(), StreamRefusal::TooMany(1));
    }
}
