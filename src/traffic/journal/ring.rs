//! The journal's storage: a ring bounded in entries and in bytes, its
//! filters, and the live readers it feeds.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use serde::Deserialize;

use super::recorded::{JournalEntry, Recorded, Said};
use super::redact::{Redactor, Secrets, known_secrets};
use crate::budget::{Kind, MemoryBudget, Reclaim};
use crate::logora::model::LogoraData;
use crate::wcs::model::WcsData;

/// The bounded journal.
#[derive(Debug)]
pub struct Journal {
    inner: Mutex<Ring>,
    /// The id of the newest entry, for live readers
    /// (`/__doublure/requests/stream`) to wake on: they read the entries
    /// themselves from the ring, shared, so a reader holds no copy and the
    /// journal no per-reader queue.
    newest: tokio::sync::watch::Sender<u64>,
    /// How many live readers there are, so that a push with none, the
    /// usual case, wakes nobody and takes no other lock.
    followers: AtomicUsize,
    /// Tells live readers to end: at shutdown (a graceful stop waits for
    /// every answer to finish, and a stream never would), or when the
    /// journal's namespace is dropped.
    ending: tokio::sync::watch::Sender<Option<Ending>>,
    /// Matchers of the secrets of the data last seen, kept as long as the
    /// data is: rebuilt only when the data changes.
    secrets: std::sync::RwLock<Option<Secrets>>,
    /// Where the entries' memory is charged (`--memory-budget`).
    budget: Arc<MemoryBudget>,
}

/// Why live readers end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ending {
    /// The server stops: streams end with no last word.
    Shutdown,
    /// The namespace was dropped, for the reason given: streams end with a
    /// last event that says it, and let the journal go.
    Dropped(String),
}

#[derive(Debug)]
struct Ring {
    entries: VecDeque<Arc<Recorded>>,
    capacity: usize,
    max_bytes: usize,
    bytes: usize,
    next_id: u64,
    /// The matcher the newest outcome written later keeps alive (weak, so
    /// that its address is not reused while compared).
    last_redactor: std::sync::Weak<Redactor>,
}

impl Ring {
    /// Forgets the oldest entry; its weight, for the caller to give back
    /// to the budget.
    fn pop_weight(&mut self) -> Option<usize> {
        let weight = self.entries.pop_front()?.weight();
        self.bytes -= weight;
        Some(weight)
    }

    /// Forgets the oldest entry, giving its bytes back to the budget.
    fn pop_oldest(&mut self, budget: &MemoryBudget) -> bool {
        let Some(weight) = self.pop_weight() else {
            return false;
        };
        budget.release(Kind::Journal, weight);
        true
    }
}

/// What a call that is refused (the budget spent) keeps of its target in
/// the journal: enough to tell which call it was, small enough that
/// refusals cannot fill memory in turn.
pub(super) const REFUSED_TARGET: usize = 256;

/// The room a call needs left in the budget to be served: about its own
/// journal entry (at most some 17 KiB) and a nonce, with margin.
const HEADROOM: usize = 64 << 10;

/// A live reader of the journal, from [`Journal::follow`].
#[derive(Debug)]
pub struct Follower {
    /// The id of the last entry the reader has seen (or need not see):
    /// the entries after it are its to read.
    pub last: u64,
    /// Changes as entries are recorded.
    pub newest: tokio::sync::watch::Receiver<u64>,
    /// Set when the reader must end.
    pub ending: tokio::sync::watch::Receiver<Option<Ending>>,
    /// The journal it reads.
    pub journal: Arc<Journal>,
}

impl Drop for Follower {
    fn drop(&mut self) {
        self.journal.followers.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Entries read from the ring by a live reader, from [`Journal::after`].
#[derive(Debug, Default)]
pub struct Batch {
    /// Entries after the reader's last that the ring no longer holds
    /// (pushed out before the reader got to them, or cleared).
    pub skipped: u64,
    /// The next entries, oldest first, shared with the ring.
    pub entries: VecDeque<Arc<Recorded>>,
}

/// Filters of `GET /__doublure/requests`.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct JournalFilter {
    /// Only paths starting with this.
    pub path: Option<String>,
    /// Only this method (any case).
    pub method: Option<String>,
    /// Only this status.
    pub status: Option<u16>,
    /// Only requests at or after this RFC 3339 instant (emulated clock).
    pub since: Option<DateTime<Utc>>,
    /// Only entries with an id greater than this.
    pub after: Option<u64>,
    /// At most this many, the most recent.
    #[param(value_type = Option<u64>)]
    pub limit: Option<usize>,
}

impl JournalFilter {
    /// Whether `entry` passes every filter but `limit`; `method` is the
    /// filter's, upper-cased.
    pub fn admits(&self, entry: &Recorded, method: Option<&str>) -> bool {
        self.path
            .as_ref()
            .is_none_or(|p| entry.path().starts_with(p.as_str()))
            && method.is_none_or(|m| entry.method.as_str() == m)
            && self.status.is_none_or(|s| entry.status == s)
            && self.since.is_none_or(|s| entry.at >= s)
            && self.after.is_none_or(|a| entry.id > a)
    }
}

impl Journal {
    /// A journal keeping at most `capacity` entries and `max_bytes` bytes,
    /// and no more than what `budget` has left.
    pub fn new(capacity: usize, max_bytes: usize, budget: Arc<MemoryBudget>) -> Self {
        Self {
            inner: Mutex::new(Ring {
                // Grown as calls come: a namespace that is never called
                // costs no ring.
                entries: VecDeque::new(),
                capacity,
                max_bytes,
                bytes: 0,
                next_id: 1,
                last_redactor: std::sync::Weak::new(),
            }),
            secrets: std::sync::RwLock::new(None),
            newest: tokio::sync::watch::channel(0).0,
            followers: AtomicUsize::new(0),
            ending: tokio::sync::watch::channel(None).0,
            budget,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Ring> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Records an entry, dropping the oldest past either bound, and past
    /// what the memory budget has left: this journal's oldest entries go
    /// first. An entry the budget has no room for even then is kept all
    /// the same: its call was admitted while there was room, so the
    /// overshoot is bounded by the calls in flight.
    pub(super) fn push(&self, entry: Recorded) {
        self.keep(entry, false);
    }

    /// Records the small entry of a call refused for the budget: within
    /// the reserve above the budget kept for them, or not at all (counted).
    pub(super) fn push_refusal(&self, entry: Recorded) {
        self.keep(entry, true);
    }

    fn keep(&self, mut entry: Recorded, refusal: bool) {
        let mut ring = self.lock();
        if ring.capacity == 0 || ring.max_bytes == 0 {
            return;
        }
        // Each change of the data makes a new matcher of its secrets, and
        // an outcome written later keeps the one of its time alive: the
        // first entry of each run that shares a matcher carries its memory,
        // so at most the oldest run's matcher is outside the bound.
        if let Some(Said::Later(_, redactor)) = &entry.outcome
            && !std::ptr::eq(ring.last_redactor.as_ptr(), Arc::as_ptr(redactor))
        {
            entry.matcher_bytes = redactor.memory_usage();
            ring.last_redactor = Arc::downgrade(redactor);
        }
        let weight = entry.weight();
        // What the entries pushed out give back is netted against the new
        // entry's charge: once the ring is full, one change of the budget
        // per call rather than one per entry.
        let mut freed = 0;
        while !ring.entries.is_empty()
            && (ring.entries.len() >= ring.capacity || ring.bytes + weight > ring.max_bytes)
        {
            freed += ring.pop_weight().unwrap_or(0);
        }
        loop {
            if freed >= weight {
                self.budget.release(Kind::Journal, freed - weight);
                break;
            }
            let more = weight - freed;
            // A refusal goes to the reserve before it pushes out entries:
            // the budget is spent by then, and the journal's older refusals
            // are what it would push out.
            let charged = if refusal {
                self.budget.charge_refusal(more)
            } else {
                self.budget.try_charge(Kind::Journal, more)
            };
            if charged {
                break;
            }
            if let Some(w) = ring.pop_weight() {
                freed += w;
                continue;
            }
            if refusal {
                self.budget.release(Kind::Journal, freed);
                self.budget.note_unjournaled();
                return;
            }
            self.budget.force_charge(Kind::Journal, more);
            break;
        }
        entry.id = ring.next_id;
        ring.next_id += 1;
        ring.bytes += weight;
        let id = entry.id;
        ring.entries.push_back(Arc::new(entry));
        if self.followers.load(Ordering::Acquire) > 0 {
            self.newest.send_replace(id);
        }
    }

    /// Whether a call must first make room in the budget: one load.
    pub(super) fn budget_short(&self) -> bool {
        self.budget.is_short_of(HEADROOM)
    }

    /// Forgets this journal's oldest entries until the budget has room
    /// for a call again; false, forgetting nothing, when even an empty
    /// journal would leave none (the entries of the calls refused so far
    /// stay).
    pub(super) fn make_room(&self) -> bool {
        let mut ring = self.lock();
        if self.budget.used().saturating_sub(ring.bytes) + HEADROOM > self.budget.limit() {
            return false;
        }
        while self.budget.is_short_of(HEADROOM) {
            if !ring.pop_oldest(&self.budget) {
                return false;
            }
        }
        true
    }

    /// When this journal could not make room: takes it from the largest
    /// journals of the server ([`MemoryBudget::reclaim`]); false when
    /// nothing anywhere can give enough back.
    pub(super) fn reclaim(&self) -> bool {
        self.budget.reclaim(HEADROOM)
    }

    /// The budget the journal charges.
    pub(super) fn budget(&self) -> &MemoryBudget {
        &self.budget
    }

    /// Starts following the journal from the entries kept after `after`
    /// (from the next one recorded when `None`). An `after` this journal
    /// has not reached comes from before a restart: everything kept is new
    /// to that reader.
    pub fn follow(self: &Arc<Self>, after: Option<u64>) -> Follower {
        let ring = self.lock();
        self.followers.fetch_add(1, Ordering::AcqRel);
        let newest = ring.next_id - 1;
        let last = match after {
            None => newest,
            Some(after) if after > newest => 0,
            Some(after) => after,
        };
        Follower {
            last,
            newest: self.newest.subscribe(),
            ending: self.ending.subscribe(),
            journal: Arc::clone(self),
        }
    }

    /// The entries after `last`, oldest first, as many as weigh at most
    /// `max_bytes` (one at least): pointers into the ring, so a reader's
    /// backlog is bounded in bytes and copies nothing.
    pub fn after(&self, last: u64, max_bytes: usize) -> Batch {
        let ring = self.lock();
        let start = ring.entries.partition_point(|e| e.id <= last);
        let first = ring.entries.get(start).map_or(ring.next_id, |e| e.id);
        let mut batch = Batch {
            skipped: first.saturating_sub(last.saturating_add(1)),
            entries: VecDeque::new(),
        };
        let mut bytes = 0;
        for entry in ring.entries.range(start..) {
            bytes += entry.weight();
            if bytes > max_bytes && !batch.entries.is_empty() {
                break;
            }
            batch.entries.push_back(Arc::clone(entry));
        }
        batch
    }

    /// Ends every live reader (at shutdown); later ones end at once.
    pub fn close_followers(&self) {
        self.ending.send_replace(Some(Ending::Shutdown));
    }

    /// Ends every live reader with a last event saying `why` (the
    /// namespace was dropped); later ones end at once.
    pub fn end(&self, why: String) {
        self.ending.send_replace(Some(Ending::Dropped(why)));
    }

    /// Entries matching `filter`, oldest first: shared with the ring, so
    /// that reading the journal copies nothing but pointers.
    pub fn matching(&self, filter: &JournalFilter) -> Vec<Arc<Recorded>> {
        let method = filter.method.as_ref().map(|m| m.to_ascii_uppercase());
        let ring = self.lock();
        let mut matched: Vec<Arc<Recorded>> = ring
            .entries
            .iter()
            .filter(|e| filter.admits(e, method.as_deref()))
            .cloned()
            .collect();
        if let Some(limit) = filter.limit {
            let skip = matched.len().saturating_sub(limit);
            matched.drain(..skip);
        }
        matched
    }

    /// Entries matching `filter`, oldest first.
    pub fn list(&self, filter: &JournalFilter) -> Vec<JournalEntry> {
        self.matching(filter).iter().map(|r| r.entry()).collect()
    }

    /// How many entries are kept now.
    pub fn len(&self) -> usize {
        self.lock().entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The bound in entries.
    pub fn capacity(&self) -> usize {
        self.lock().capacity
    }

    /// The bound in bytes.
    pub fn max_bytes(&self) -> usize {
        self.lock().max_bytes
    }

    /// What the entries weigh now.
    pub fn bytes(&self) -> usize {
        self.lock().bytes
    }

    /// Forgets every entry.
    pub fn clear(&self) {
        let mut ring = self.lock();
        ring.entries.clear();
        self.budget
            .release(Kind::Journal, std::mem::take(&mut ring.bytes));
        ring.last_redactor = std::sync::Weak::new();
    }

    /// The matcher of the secrets of this data, rebuilt when the data
    /// changed since the last call.
    pub(super) fn redactor(
        &self,
        logora: &Arc<LogoraData>,
        wcs: &Arc<WcsData>,
        admin: Option<&str>,
    ) -> Arc<Redactor> {
        let current = |cached: &Option<Secrets>| {
            cached
                .as_ref()
                .filter(|s| Arc::ptr_eq(&s.logora, logora) && Arc::ptr_eq(&s.wcs, wcs))
                .map(|s| Arc::clone(&s.redactor))
        };
        // Every call reads, both workers at once; a change of the data is
        // rare.
        if let Some(redactor) = current(&self.secrets.read().unwrap_or_else(|e| e.into_inner())) {
            return redactor;
        }
        let mut cached = self.secrets.write().unwrap_or_else(|e| e.into_inner());
        if let Some(redactor) = current(&cached) {
            return redactor;
        }
        let redactor = Arc::new(Redactor::new(known_secrets(logora, wcs, admin)));
        *cached = Some(Secrets {
            logora: Arc::clone(logora),
            wcs: Arc::clone(wcs),
            redactor: Arc::clone(&redactor),
        });
        redactor
    }
}

/// What the budget takes from when it is spent and the calling
/// namespace's journal cannot give enough back.
impl Reclaim for Journal {
    fn reclaimable(&self) -> usize {
        self.lock().bytes
    }

    fn shed(&self, bytes: usize) -> usize {
        let mut ring = self.lock();
        let mut freed = 0;
        while freed < bytes {
            let Some(weight) = ring.pop_weight() else {
                break;
            };
            freed += weight;
        }
        self.budget.release(Kind::Journal, freed);
        freed
    }
}

impl Drop for Journal {
    /// A dropped namespace gives its entries' memory back (the entries a
    /// live reader still holds go with it).
    fn drop(&mut self) {
        let ring = self.inner.get_mut().unwrap_or_else(|e| e.into_inner());
        self.budget.release(Kind::Journal, ring.bytes);
    }
}
