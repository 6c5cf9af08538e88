//! The journal's storage: a ring bounded in entries and in bytes, its
//! filters, and the live readers it feeds.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use serde::Deserialize;

use super::recorded::{JournalEntry, Recorded, Said};
use super::redact::{Redactor, Secrets, known_secrets};
use crate::logora::model::LogoraData;
use crate::wcs::model::WcsData;

/// The bounded journal.
#[derive(Debug)]
pub struct Journal {
    inner: Mutex<Ring>,
    /// Live readers (`/__doublure/requests/stream`): entries are sent to
    /// them under the ring's lock, so they arrive in id order with no gap
    /// between a reader's replay and what follows.
    events: tokio::sync::broadcast::Sender<Arc<JournalEntry>>,
    /// How many live readers there are, kept beside the channel so that a
    /// push with none, the usual case, builds no entry and takes no other
    /// lock.
    followers: AtomicUsize,
    /// Tells live readers to end, at shutdown: a graceful stop waits for
    /// every answer to finish, and a stream never would.
    closing: tokio::sync::watch::Sender<bool>,
    /// Matchers of the secrets of the data last seen, kept as long as the
    /// data is: rebuilt only when the data changes.
    secrets: std::sync::RwLock<Option<Secrets>>,
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

/// Entries a slow live reader may fall behind by before it refills from
/// the ring.
const FOLLOW_BUFFER: usize = 1024;

/// A live reader of the journal, from [`Journal::follow`].
#[derive(Debug)]
pub struct Follower {
    /// The id of the last entry recorded before the reader started.
    pub newest: u64,
    /// Entries recorded before the reader started that it asked for.
    pub backlog: Vec<JournalEntry>,
    /// Entries as they are recorded, in id order.
    pub receiver: tokio::sync::broadcast::Receiver<Arc<JournalEntry>>,
    /// Becomes true when the server stops.
    pub closing: tokio::sync::watch::Receiver<bool>,
    /// The journal, for a reader that fell behind to refill from.
    pub journal: Arc<Journal>,
}

impl Drop for Follower {
    fn drop(&mut self) {
        self.journal.followers.fetch_sub(1, Ordering::AcqRel);
    }
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
    /// Whether `entry` passes every filter but `limit`.
    fn admits(&self, entry: &Recorded, method: Option<&str>) -> bool {
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
    /// A journal keeping at most `capacity` entries and `max_bytes` bytes.
    pub fn new(capacity: usize, max_bytes: usize) -> Self {
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
            events: tokio::sync::broadcast::channel(FOLLOW_BUFFER).0,
            followers: AtomicUsize::new(0),
            closing: tokio::sync::watch::channel(false).0,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Ring> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Records an entry, dropping the oldest past either bound.
    pub(super) fn push(&self, mut entry: Recorded) {
        let mut ring = self.lock();
        if ring.capacity == 0 || ring.max_bytes == 0 {
            return;
        }
        entry.id = ring.next_id;
        ring.next_id += 1;
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
        while !ring.entries.is_empty()
            && (ring.entries.len() >= ring.capacity || ring.bytes + weight > ring.max_bytes)
        {
            if let Some(old) = ring.entries.pop_front() {
                ring.bytes -= old.weight();
            }
        }
        ring.bytes += weight;
        if self.followers.load(Ordering::Acquire) > 0 {
            // No receiver left between the check and the send is fine:
            // the entry is then dropped, as it would have been.
            let _ = self.events.send(Arc::new(entry.entry()));
        }
        ring.entries.push_back(Arc::new(entry));
    }

    /// Starts following the journal: the entries kept after `after` (none
    /// when `None`), then a receiver of every entry recorded from now on,
    /// taken under the same lock so nothing falls between the two. An
    /// `after` this journal has not reached comes from before a restart:
    /// everything kept is new to that reader.
    pub fn follow(self: &Arc<Self>, after: Option<u64>) -> Follower {
        let ring = self.lock();
        self.followers.fetch_add(1, Ordering::AcqRel);
        let newest = ring.next_id - 1;
        let backlog = after.map_or_else(Vec::new, |after| {
            let after = if after > newest { 0 } else { after };
            ring.entries
                .iter()
                .filter(|e| e.id > after)
                .map(|e| e.entry())
                .collect()
        });
        Follower {
            newest,
            backlog,
            receiver: self.events.subscribe(),
            closing: self.closing.subscribe(),
            journal: Arc::clone(self),
        }
    }

    /// Ends every live reader (at shutdown); later ones end at once.
    pub fn close_followers(&self) {
        self.closing.send_replace(true);
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
        ring.bytes = 0;
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
