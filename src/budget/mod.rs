//! The server's one memory budget (`--memory-budget`): what calls can make
//! the server keep (journal entries, w.c.s. nonces, live journal streams,
//! the APIs' caches (Logora's verified tokens and answered pages, w.c.s.'s
//! listings), and the data the
//! control plane adds to a namespace: [`DataCharges`]),
//! counted across every namespace together, so that a limit given per
//! namespace cannot multiply by the number of namespaces.
//!
//! Each store charges the bytes it keeps before keeping them and releases
//! them when it forgets them (or is dropped with its namespace). A charge
//! is one compare-and-swap loop on a shared counter plus one add to the
//! counter of its kind: cheap enough for every call of the emulated APIs.
//! When a charge does not fit, the store first forgets what it may (the
//! journal its oldest entries, the nonce store its expired nonces), then
//! the largest journals of the whole server give back their oldest
//! entries ([`MemoryBudget::reclaim`]); a call that would still grow
//! memory is refused with a 503, as an overloaded service answers. A cache
//! that finds no room simply does not keep its answer. No source dictates the figures: they are ours, and
//! `docs/reliability.md` lists them.

use std::collections::BinaryHeap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Weak};

use serde::Serialize;

mod data;

pub use data::{
    DataCharges, FAULTS, NoRoom, dataset_charge, fault_key, item_charge, item_key, token_key,
};

/// What a charge is for, counted apart so that the control plane can say
/// where the memory went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Journal,
    Nonces,
    Streams,
    /// Logora's verified tokens and answered pages, w.c.s.'s listings.
    Caches,
    /// Data the control plane made a namespace keep beyond the seed it
    /// shares: items created or changed (and what structural sharing
    /// copied for them), imported states, fault rules, minted tokens.
    Data,
}

/// What can give memory back to the budget when it is spent: a journal,
/// whose oldest entries go first, or a namespace's Logora caches.
pub trait Reclaim: Send + Sync + std::fmt::Debug {
    /// Bytes it could give back now.
    fn reclaimable(&self) -> usize;
    /// Gives back its oldest entries until `bytes` were freed or nothing
    /// is left; returns what it freed (already released to the budget).
    fn shed(&self, bytes: usize) -> usize;
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
    caches: AtomicUsize,
    data: AtomicUsize,
    max_streams: usize,
    refused: AtomicU64,
    unjournaled: AtomicU64,
    /// Every journal and cache of the server, weakly: what [`Self::reclaim`] takes
    /// from. Only touched when a namespace is made and when the budget is
    /// spent, never on a call that finds room.
    reclaimers: Mutex<Vec<Weak<dyn Reclaim>>>,
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
    /// Bytes of the APIs' caches (Logora's verified tokens and answered
    /// users pages, w.c.s.'s listings),
    /// every namespace together.
    pub cache_bytes: usize,
    /// Bytes charged for data the control plane made namespaces keep
    /// beyond the seed they share (items created or changed, imported
    /// states, fault rules, minted tokens), every namespace together; the
    /// seed itself is not counted.
    pub data_bytes: usize,
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
            caches: AtomicUsize::new(0),
            data: AtomicUsize::new(0),
            max_streams,
            refused: AtomicU64::new(0),
            unjournaled: AtomicU64::new(0),
            reclaimers: Mutex::new(Vec::new()),
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
            Kind::Caches => &self.caches,
            Kind::Data => &self.data,
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
            cache_bytes: self.caches.load(Ordering::Relaxed),
            data_bytes: self.data.load(Ordering::Relaxed),
            max_streams: self.max_streams,
            refused_calls: self.refused.load(Ordering::Relaxed),
            refusals_not_journaled: self.unjournaled.load(Ordering::Relaxed),
        }
    }

    /// Adds `journal` to those [`Self::reclaim`] may take from, for as
    /// long as it lives.
    pub fn enlist(&self, journal: Weak<dyn Reclaim>) {
        let mut list = self.reclaimers.lock().unwrap_or_else(|e| e.into_inner());
        // Pruned when the list would grow: amortized, and the list stays
        // within twice the journals alive.
        if list.len() == list.capacity() {
            list.retain(|w| w.strong_count() > 0);
        }
        list.push(journal);
    }

    /// Makes room for `headroom` bytes when the budget is short of it,
    /// from every journal of the server: the largest give back their
    /// oldest entries first, down to the next largest, until the budget
    /// has `headroom` left plus a slack (a 64th of the budget), so that
    /// the calls after this one find room without coming here again.
    /// False, forgetting nothing, when even empty journals would leave no
    /// room (what is left is in flight, streams, nonces or caches).
    ///
    /// One sweep at a time: the calls waiting for it find room once it is
    /// done. A sweep reads each journal's size once (one lock each).
    pub fn reclaim(&self, headroom: usize) -> bool {
        // What every journal holds together is counted already: when even
        // all of it would leave no room, nothing is walked (a call refused
        // while nonces or streams fill the budget costs two loads here).
        if !self.room_in_journals(headroom) {
            return false;
        }
        let list = self.reclaimers.lock().unwrap_or_else(|e| e.into_inner());
        if !self.is_short_of(headroom) {
            return true;
        }
        let target = self
            .limit
            .saturating_sub(headroom.saturating_add(self.limit / 64));
        let mut heap: BinaryHeap<(usize, usize)> = BinaryHeap::new();
        let mut alive = Vec::with_capacity(list.len());
        let mut total = 0usize;
        for weak in list.iter() {
            if let Some(journal) = weak.upgrade() {
                let bytes = journal.reclaimable();
                if bytes > 0 {
                    total += bytes;
                    heap.push((bytes, alive.len()));
                    alive.push(journal);
                }
            }
        }
        // Nothing is forgotten in vain: the entries of the calls refused
        // so far stay when even empty journals would leave no room.
        if self.used().saturating_sub(total).saturating_add(headroom) > self.limit {
            drop(list);
            drop(alive);
            return false;
        }
        while let Some((bytes, at)) = heap.pop() {
            let used = self.used();
            if used <= target {
                break;
            }
            let next = heap.peek().map_or(0, |&(b, _)| b);
            // Down to the next largest, or to what is still needed, with
            // at least one entry freed so that the sweep ends.
            let want = (used - target).min(bytes - next.min(bytes)).max(1);
            let freed = alive[at].shed(want);
            if freed > 0 && freed < bytes {
                heap.push((bytes - freed, at));
            }
        }
        drop(list);
        // Journals dropped here give their bytes back as they go.
        drop(alive);
        !self.is_short_of(headroom)
    }

    /// Whether emptying every journal and cache would leave `headroom`
    /// bytes.
    fn room_in_journals(&self, headroom: usize) -> bool {
        let journals = self.journal.load(Ordering::Relaxed) + self.caches.load(Ordering::Relaxed);
        self.used()
            .saturating_sub(journals)
            .saturating_add(headroom)
            <= self.limit
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
        // Like a call, a stream takes room from the largest journals'
        // oldest entries before it is refused.
        let charged = self.try_charge(Kind::Streams, STREAM_CHARGE)
            || (self.reclaim(STREAM_CHARGE) && self.try_charge(Kind::Streams, STREAM_CHARGE));
        if !charged {
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

    /// A store of `bytes` held in entries of `entry` bytes each.
    #[derive(Debug)]
    struct Held {
        budget: Arc<MemoryBudget>,
        bytes: Mutex<usize>,
        entry: usize,
    }

    impl Held {
        fn new(budget: &Arc<MemoryBudget>, bytes: usize, entry: usize) -> Arc<Self> {
            assert!(budget.try_charge(Kind::Journal, bytes));
            let held = Arc::new(Self {
                budget: Arc::clone(budget),
                bytes: Mutex::new(bytes),
                entry,
            });
            budget.enlist(Arc::downgrade(&held) as Weak<dyn Reclaim>);
            held
        }

        fn bytes(&self) -> usize {
            *self.bytes.lock().unwrap()
        }
    }

    impl Reclaim for Held {
        fn reclaimable(&self) -> usize {
            self.bytes()
        }

        fn shed(&self, bytes: usize) -> usize {
            let mut held = self.bytes.lock().unwrap();
            let mut freed = 0;
            while freed < bytes && *held > 0 {
                let one = self.entry.min(*held);
                *held -= one;
                freed += one;
            }
            self.budget.release(Kind::Journal, freed);
            freed
        }
    }

    #[test]
    fn a_spent_budget_takes_from_the_largest_stores_first_down_to_the_next_largest() {
        let budget = Arc::new(MemoryBudget::new(6400, 1));
        let big = Held::new(&budget, 4000, 100);
        let small = Held::new(&budget, 2000, 100);
        let dropped = Held::new(&budget, 400, 100);
        drop(dropped);
        budget.release(Kind::Journal, 400);

        assert!(budget.reclaim(1000));

        // 6000 used, room for 1000 and a 64th (100) wanted: 700 freed,
        // all from the largest, which stays the largest.
        assert_eq!((big.bytes(), small.bytes()), (3300, 2000));
        assert_eq!(budget.used(), 5300);
        assert!(budget.reclaim(1000), "room already: nothing more to free");
        assert_eq!(budget.used(), 5300);

        assert!(budget.reclaim(4000));
        // Down to 2300 used: the largest down to the next, then both.
        assert_eq!((big.bytes(), small.bytes()), (1200, 1100));
        budget.force_charge(Kind::Streams, 1000);
        assert!(!budget.reclaim(6000), "what streams hold cannot be freed");
        assert_eq!(
            (big.bytes(), small.bytes()),
            (1200, 1100),
            "and nothing is forgotten in vain"
        );
        assert!(budget.reclaim(4100));
        assert_eq!((big.bytes(), small.bytes()), (600, 600), "levelled");
    }

    #[test]
    fn a_stream_takes_its_room_from_the_journals_before_it_is_refused() {
        let budget = Arc::new(MemoryBudget::new(2 * STREAM_CHARGE, 2));
        let journal = Held::new(&budget, 2 * STREAM_CHARGE, 1024);

        let permit = budget.open_stream().expect("room made");

        // Room for the stream and a 64th of the budget, in whole entries.
        assert_eq!(journal.bytes(), 15 * 1024);
        drop(permit);
    }

    #[test]
    fn the_caches_are_a_kind_of_their_own() {
        let budget = MemoryBudget::new(100, 1);
        assert!(budget.try_charge(Kind::Caches, 30));
        assert_eq!(
            (budget.usage().cache_bytes, budget.usage().used_bytes),
            (30, 30)
        );
        budget.release(Kind::Caches, 30);
        assert_eq!(budget.usage().used_bytes, 0);
    }

    #[test]
    fn data_takes_its_room_from_the_journals_before_it_is_refused() {
        let budget = Arc::new(MemoryBudget::new(6400, 1));
        let journal = Held::new(&budget, 6000, 100);
        let charges = DataCharges::new(Arc::clone(&budget));
        charges.set(None, "a", 1000).unwrap();
        assert_eq!(journal.bytes(), 5300);
        assert_eq!(budget.usage().data_bytes, 1000);
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
