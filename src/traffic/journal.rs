//! The request journal: every call to the emulated APIs, with secrets
//! redacted and the reason for its answer in words, kept in a ring bounded
//! in entries and in bytes, so a test can check what was called and a
//! developer can see why a call failed ("signature mismatch …", "token
//! expired 12 s ago").
//!
//! Handlers say why a request got its answer by attaching an [`Outcome`]
//! to the response's extensions; the middleware reads it there. A call the
//! client gave up on is recorded too (status 499), and one whose
//! connection a fault dropped is recorded as such (status 444), after the
//! conventions nginx logs them with.
//!
//! No secret is kept: secret headers and parameters are redacted by name,
//! and any value equal to a known secret (a Logora client secret, a w.c.s.
//! API access key or user password, the admin token) by value, wherever it
//! appears, outcome included. Long URLs, headers and outcomes are cut with
//! a visible marker, so that no caller can fill memory through the
//! journal.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aho_corasick::AhoCorasick;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method};
use axum::middleware::Next;
use axum::response::Response;
use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};

use super::faults::Faults;
use super::{CLIENT_CLOSED, Delay};
use crate::clock::Clock;
use crate::config::Settings;
use crate::logora::Logora;
use crate::logora::model::LogoraData;
use crate::outcome::{Outcome, redact_query};
use crate::wcs::Wcs;
use crate::wcs::model::WcsData;

/// Longest path and query kept; beyond, the rest is cut.
const MAX_TARGET: usize = 8 << 10;
/// Longest header value kept.
const MAX_HEADER_VALUE: usize = 1 << 10;
/// Most bytes of header lines kept.
const MAX_HEADERS: usize = 8 << 10;
/// Longest outcome kept.
const MAX_OUTCOME: usize = 4 << 10;
/// Shortest secret redacted by value: shorter ones would redact ordinary
/// text.
const MIN_SECRET: usize = 4;

/// Headers whose values are secrets: only the scheme (if any) is kept.
const SECRET_HEADERS: &[&str] = &[
    "authorization",
    "authentication",
    "cookie",
    "proxy-authorization",
];

/// `text`, cut to at most `max` bytes (on a character boundary) with a
/// marker saying how much went.
fn cut(text: &str, max: usize) -> std::borrow::Cow<'_, str> {
    if text.len() <= max {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    std::borrow::Cow::Owned(format!(
        "{}…[cut: {} more bytes]",
        &text[..end],
        text.len() - end
    ))
}

/// A request as the ring keeps it: the request line and headers copied
/// into one string, written once as the call comes in and kept as it is
/// unless a secret must go (one allocation, and nothing that pins the
/// connection's read buffer, as keeping hyper's own `Bytes` would), turned
/// into an [`Entry`] only when someone reads the journal.
#[derive(Debug)]
pub struct Recorded {
    id: u64,
    at: DateTime<Utc>,
    method: Method,
    /// Path and query as received, secrets redacted by value, cut; a line
    /// break; then `name: value` lines, secret values already redacted:
    /// secrets never stay in memory. Neither a request target nor a header
    /// value can hold a line break.
    head: String,
    /// Where the target ends in `head`.
    target_len: usize,
    status: u16,
    duration_ms: f64,
    outcome: Option<Said>,
    /// The memory of the secrets' matcher this entry's outcome keeps alive,
    /// charged to the first entry of each run that shares one (set by the
    /// ring as it records the entry).
    matcher_bytes: usize,
}

/// An outcome as the ring keeps it.
enum Said {
    /// Redacted and cut when recorded.
    Text(String),
    /// Written when read, then redacted with the secrets known when the
    /// call was recorded, and cut.
    Later(Arc<dyn Fn() -> String + Send + Sync>, Arc<Redactor>),
}

impl std::fmt::Debug for Said {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Text(text) => f.debug_tuple("Text").field(text).finish(),
            Self::Later(..) => f.write_str("Later(..)"),
        }
    }
}

/// What an outcome written later weighs in the journal's bound beside its
/// closure: what the closure captured (a client id, a user's e-mail).
const LATER_WEIGHT: usize = 64;

impl Recorded {
    /// Why the call got its answer, written now if it was not.
    fn outcome(&self) -> Option<std::borrow::Cow<'_, str>> {
        self.outcome.as_ref().map(|said| match said {
            Said::Text(text) => std::borrow::Cow::Borrowed(text.as_str()),
            Said::Later(write, redactor) => {
                std::borrow::Cow::Owned(redacted(redactor, write(), MAX_OUTCOME))
            }
        })
    }

    fn target(&self) -> &str {
        &self.head[..self.target_len]
    }

    fn headers(&self) -> &str {
        self.head.get(self.target_len + 1..).unwrap_or("")
    }

    fn path(&self) -> &str {
        let target = self.target();
        target.split_once('?').map_or(target, |(p, _)| p)
    }

    /// What the entry weighs against the journal's bound in bytes: what it
    /// holds, spare capacity included.
    fn weight(&self) -> usize {
        std::mem::size_of::<Self>()
            + 16
            + self.head.capacity()
            + self.outcome.as_ref().map_or(0, |said| match said {
                Said::Text(text) => text.capacity(),
                Said::Later(write, _) => std::mem::size_of_val(&**write) + LATER_WEIGHT,
            })
            + self.matcher_bytes
    }

    /// The entry as `GET /__doublure/requests` shows it.
    pub fn entry(&self) -> Entry {
        Entry {
            id: self.id,
            time: self.at.to_rfc3339_opts(SecondsFormat::Millis, true),
            method: self.method.to_string(),
            path: self.path().to_owned(),
            query: self.target().split_once('?').map(|(_, q)| redact_query(q)),
            headers: self
                .headers()
                .lines()
                .filter_map(|line| line.split_once(": "))
                .map(|(name, value)| (name.to_owned(), value.to_owned()))
                .collect(),
            status: self.status,
            duration_ms: self.duration_ms,
            outcome: self.outcome().map(std::borrow::Cow::into_owned),
        }
    }
}

/// One journal entry.
#[derive(Debug, Clone, Serialize, PartialEq, utoipa::ToSchema)]
pub struct Entry {
    /// Increases by one per request since start (not reset by a clear), so
    /// a test can ask for what came after a known entry.
    pub id: u64,
    /// When the request arrived, by the emulated clock.
    pub time: String,
    pub method: String,
    pub path: String,
    /// The query string, secrets redacted.
    pub query: Option<String>,
    /// Request headers, secrets redacted.
    pub headers: Vec<(String, String)>,
    /// The answer's status; 499 when the client closed the connection
    /// first, 444 when a fault dropped it.
    pub status: u16,
    pub duration_ms: f64,
    /// Why the request got this answer.
    pub outcome: Option<String>,
}

/// The bounded journal.
#[derive(Debug)]
pub struct Journal {
    inner: Mutex<Ring>,
    /// Live readers (`/__doublure/requests/stream`): entries are sent to
    /// them under the ring's lock, so they arrive in id order with no gap
    /// between a reader's replay and what follows.
    events: tokio::sync::broadcast::Sender<Arc<Entry>>,
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
    pub backlog: Vec<Entry>,
    /// Entries as they are recorded, in id order.
    pub receiver: tokio::sync::broadcast::Receiver<Arc<Entry>>,
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
pub struct Filter {
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

impl Filter {
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
    fn push(&self, mut entry: Recorded) {
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
    pub fn matching(&self, filter: &Filter) -> Vec<Arc<Recorded>> {
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
    pub fn list(&self, filter: &Filter) -> Vec<Entry> {
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
    fn redactor(
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

/// The secrets of one version of the data, and their matcher.
#[derive(Debug)]
struct Secrets {
    logora: Arc<LogoraData>,
    wcs: Arc<WcsData>,
    redactor: Arc<Redactor>,
}

/// Every secret value the data holds: Logora client secrets, w.c.s. API
/// access keys and user passwords; and the admin token.
fn known_secrets(logora: &LogoraData, wcs: &WcsData, admin: Option<&str>) -> Vec<String> {
    logora
        .clients()
        .iter()
        .map(|c| c.client_secret.clone())
        .chain(wcs.api_accesses.iter().map(|a| a.access_key.clone()))
        .chain(wcs.users.iter().filter_map(|u| u.password.clone()))
        .chain(admin.map(str::to_owned))
        .collect()
}

/// Replaces every known secret in a text with `[redacted]`.
#[derive(Debug)]
pub struct Redactor {
    matcher: Option<AhoCorasick>,
}

impl Redactor {
    /// The heap memory the matcher holds.
    fn memory_usage(&self) -> usize {
        std::mem::size_of::<Self>() + self.matcher.as_ref().map_or(0, AhoCorasick::memory_usage)
    }

    /// A redactor of `secrets`, as written and as a form or a URL encodes
    /// them (a secret sent in a query string arrives encoded).
    pub fn new(secrets: Vec<String>) -> Self {
        let mut patterns: Vec<String> = Vec::new();
        for secret in secrets.into_iter().filter(|s| s.len() >= MIN_SECRET) {
            let encoded: String = form_urlencoded::byte_serialize(secret.as_bytes()).collect();
            let percent = encoded.replace('+', "%20");
            for variant in [encoded, percent] {
                if variant != secret && !patterns.contains(&variant) {
                    patterns.push(variant);
                }
            }
            if !patterns.contains(&secret) {
                patterns.push(secret);
            }
        }
        let matcher = (!patterns.is_empty())
            .then(|| {
                aho_corasick::AhoCorasick::builder()
                    .match_kind(aho_corasick::MatchKind::LeftmostLongest)
                    .build(&patterns)
                    .ok()
            })
            .flatten();
        Self { matcher }
    }

    /// A path and query with every secret replaced, also one sent
    /// percent-encoded in any way: each segment and each parameter is
    /// decoded to be checked, and one that holds a secret is replaced
    /// whole.
    pub fn redact_target<'a>(&self, target: &'a str) -> std::borrow::Cow<'a, str> {
        let Some(matcher) = &self.matcher else {
            return std::borrow::Cow::Borrowed(target);
        };
        let holds = |raw: &str| {
            let spaced = raw.replace('+', " ");
            let decoded = percent_encoding::percent_decode_str(&spaced).decode_utf8_lossy();
            matcher.is_match(decoded.as_ref())
        };
        let (path, query) = match target.split_once('?') {
            Some((path, query)) => (path, Some(query)),
            None => (target, None),
        };
        let path_holds = path.split('/').any(&holds);
        let query_holds = query.is_some_and(|q| q.split('&').any(&holds));
        if !path_holds && !query_holds {
            return std::borrow::Cow::Borrowed(target);
        }
        let mut out: String = path
            .split('/')
            .map(|segment| {
                if holds(segment) {
                    "[redacted]"
                } else {
                    segment
                }
            })
            .collect::<Vec<_>>()
            .join("/");
        if let Some(query) = query {
            out.push('?');
            let pairs: Vec<String> = query
                .split('&')
                .map(|pair| match pair.split_once('=') {
                    Some((name, value)) if holds(value) && !holds(name) => {
                        format!("{name}=[redacted]")
                    }
                    _ if holds(pair) => "[redacted]".to_owned(),
                    _ => pair.to_owned(),
                })
                .collect();
            out.push_str(&pairs.join("&"));
        }
        std::borrow::Cow::Owned(out)
    }

    /// `text` with every secret replaced.
    pub fn redact<'a>(&self, text: &'a str) -> std::borrow::Cow<'a, str> {
        match &self.matcher {
            Some(m) if m.is_match(text) => {
                std::borrow::Cow::Owned(m.replace_all(text, &vec!["[redacted]"; m.patterns_len()]))
            }
            _ => std::borrow::Cow::Borrowed(text),
        }
    }
}

/// What the journal middleware needs: where to record, the clock that
/// dates entries, and the namespace's APIs, whose data holds the secrets
/// to keep out.
#[derive(Debug, Clone)]
pub struct Recorder {
    pub journal: Arc<Journal>,
    pub clock: Arc<Clock>,
    pub settings: Arc<Settings>,
    pub faults: Arc<Faults>,
    pub logora: Logora,
    pub wcs: Wcs,
}

/// What is known of a call before its answer: enough to record it
/// whether it is answered or abandoned.
struct Pending {
    recorder: Arc<Recorder>,
    started: Instant,
    at: DateTime<Utc>,
    method: Method,
    /// The request's target, a line break, its headers ([`Recorded::head`]
    /// before the redaction of known secrets).
    head: String,
    target_len: usize,
    delay: Option<Arc<Delay>>,
    done: bool,
}

impl Pending {
    fn finish(&mut self, status: u16, outcome: Option<Outcome>) {
        self.done = true;
        let redactor = self.recorder.redactor();
        let (head, target_len) =
            redacted_head(&redactor, std::mem::take(&mut self.head), self.target_len);
        let recorded = Recorded {
            id: 0,
            at: self.at,
            method: self.method.clone(),
            head,
            target_len,
            status,
            duration_ms: millis(self.started.elapsed()),
            outcome: outcome.map(|o| match o {
                Outcome::Text(text) => Said::Text(redacted(&redactor, text, MAX_OUTCOME)),
                Outcome::Later(write) => Said::Later(write, Arc::clone(&redactor)),
            }),
            matcher_bytes: 0,
        };
        log(&recorded);
        self.recorder.journal.push(recorded);
    }
}

impl Drop for Pending {
    /// The client closed the connection before the answer: hyper drops the
    /// call, and this records it.
    fn drop(&mut self) {
        if self.done {
            return;
        }
        let held = self
            .delay
            .as_ref()
            .and_then(|d| d.note())
            .map(|why| format!(" {why}"))
            .unwrap_or_default();
        let outcome = format!(
            "client closed the connection after {} ms{held}",
            self.started.elapsed().as_millis()
        );
        self.finish(CLIENT_CLOSED, Some(Outcome::Text(outcome)));
    }
}

fn millis(elapsed: Duration) -> f64 {
    (elapsed.as_secs_f64() * 1000.0 * 1000.0).round() / 1000.0
}

/// Middleware on the emulated APIs: records each request once answered,
/// or once abandoned by its client.
pub async fn record(
    State(recorder): State<Arc<Recorder>>,
    mut request: Request,
    next: Next,
) -> Response {
    let started = Instant::now();
    let at = recorder.clock.now();
    // Only a call that fault injection may hold back needs a place to say
    // why: the usual call allocates nothing for it.
    let delay = recorder.faults_may_fire(&request).then(|| {
        let delay = Arc::new(Delay::default());
        request.extensions_mut().insert(Arc::clone(&delay));
        delay
    });
    let target = request
        .uri()
        .path_and_query()
        .map_or_else(|| request.uri().path(), |pq| pq.as_str());
    let mut head = String::with_capacity(target.len() + 1 + headers_len(request.headers()));
    head.push_str(target);
    head.push('\n');
    // Values that will be cut are redacted before: a cut can leave the
    // start of a secret that the whole entry's redaction would miss.
    let redactor = cut_header(request.headers()).then(|| recorder.redactor());
    push_redacted_headers(&mut head, request.headers(), redactor.as_deref());
    let mut pending = Pending {
        started,
        at,
        method: request.method().clone(),
        target_len: target.len(),
        head,
        delay,
        recorder,
        done: false,
    };
    let mut response = next.run(request).await;
    let outcome = response.extensions_mut().remove::<Outcome>();
    pending.finish(response.status().as_u16(), outcome);
    response
}

impl Recorder {
    /// The matcher of the secrets the namespace's data holds now.
    fn redactor(&self) -> Arc<Redactor> {
        self.journal.redactor(
            &self.logora.data.get(),
            &self.wcs.data.get(),
            self.settings.admin_token.as_deref(),
        )
    }

    fn faults_may_fire(&self, request: &Request) -> bool {
        self.faults.may_act_on(&self.settings, request.headers())
    }
}

/// A refused call is what a developer looks for in the log; a log line per
/// answered call (a tenth of the CPU under load, and contention on stdout)
/// waits for `--log-level debug`. The journal has them all.
fn log(recorded: &Recorded) {
    let (method, path, status) = (&recorded.method, recorded.path(), recorded.status);
    if status < 400 && !tracing::enabled!(tracing::Level::DEBUG) {
        return;
    }
    let outcome = recorded.outcome();
    let outcome = outcome.as_deref().unwrap_or("");
    if status >= 400 {
        let repeats = REFUSALS.lock().unwrap_or_else(|e| e.into_inner()).see(
            method.as_str(),
            path,
            status,
            outcome,
            Instant::now(),
        );
        match repeats {
            Repeats::Repeated => {}
            Repeats::New {
                before: Some((n, last)),
            } => {
                tracing::info!("…and {} more like this: {last}", thousands(n));
                tracing::info!(method = %method, path, status, outcome, "request");
            }
            Repeats::New { before: None } => {
                tracing::info!(method = %method, path, status, outcome, "request");
            }
        }
    } else {
        tracing::debug!(method = %method, path, status, outcome, "request");
    }
}

/// `2341` as `2,341`.
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The refusals logged last, so that a flood of identical ones (a load
/// test using a voided token) is one line and a count, not a line each.
static REFUSALS: Mutex<Refusals> = Mutex::new(Refusals {
    last: None,
    since: None,
    repeated: 0,
});

/// How long identical refusals are folded into one line.
const FOLD: Duration = Duration::from_secs(1);

#[derive(Debug)]
struct Refusals {
    /// The last refusal logged: method, path, status and outcome, as text.
    last: Option<String>,
    since: Option<Instant>,
    repeated: u64,
}

#[derive(Debug, PartialEq, Eq)]
enum Repeats {
    /// The same as the last one logged, within the second: not logged.
    Repeated,
    /// To be logged; `before` counts the ones folded before it.
    New { before: Option<(u64, String)> },
}

impl Refusals {
    fn see(
        &mut self,
        method: &str,
        path: &str,
        status: u16,
        outcome: &str,
        now: Instant,
    ) -> Repeats {
        let key = format!("{method} {path} {status}: {outcome}");
        let same = self.last.as_deref() == Some(key.as_str());
        if same && self.since.is_some_and(|t| now.duration_since(t) < FOLD) {
            self.repeated += 1;
            return Repeats::Repeated;
        }
        let before =
            (self.repeated > 0).then(|| (self.repeated, self.last.clone().unwrap_or_default()));
        self.last = Some(key);
        self.since = Some(now);
        self.repeated = 0;
        Repeats::New { before }
    }
}

/// `text` with every known secret replaced and cut to `max` bytes; the
/// same string, not a copy, in the usual case where there is nothing to do.
fn redacted(redactor: &Redactor, text: String, max: usize) -> String {
    match redactor.redact(&text) {
        std::borrow::Cow::Borrowed(_) if text.len() <= max => text,
        clean => cut(&clean, max).into_owned(),
    }
}

/// [`Recorded::head`] with the known secrets out and the target cut, and
/// the target's new length: the same string, not a copy, in the usual
/// case.
fn redacted_head(redactor: &Redactor, head: String, target_len: usize) -> (String, usize) {
    let (target, headers) = head.split_at(target_len);
    let (clean_target, clean_headers) = (redactor.redact_target(target), redactor.redact(headers));
    if matches!(
        (&clean_target, &clean_headers),
        (std::borrow::Cow::Borrowed(_), std::borrow::Cow::Borrowed(_))
    ) && target_len <= MAX_TARGET
    {
        return (head, target_len);
    }
    let clean_target = cut(&clean_target, MAX_TARGET);
    let mut out = String::with_capacity(clean_target.len() + clean_headers.len());
    out.push_str(&clean_target);
    out.push_str(&clean_headers);
    (out, clean_target.len())
}

/// An upper bound of what [`push_redacted_headers`] writes.
fn headers_len(headers: &HeaderMap) -> usize {
    let all: usize = headers
        .iter()
        .map(|(k, v)| k.as_str().len() + v.len().min(MAX_HEADER_VALUE + 32) + 3)
        .sum();
    all.min(MAX_HEADERS + MAX_HEADER_VALUE + 128)
}

/// Headers as `name: value` lines, in order, secret values reduced to
/// their scheme, each value and the whole cut to a bound.
#[cfg(test)]
fn redacted_headers(headers: &HeaderMap) -> String {
    let mut text = String::with_capacity(headers_len(headers));
    push_redacted_headers(&mut text, headers, None);
    text
}

/// Whether a header value is long enough to be cut, which must not leave
/// the start of a secret behind: such values are redacted whole first.
fn cut_header(headers: &HeaderMap) -> bool {
    headers
        .iter()
        .any(|(name, value)| will_cut(name.as_str(), value.as_bytes()))
}

/// Whether [`push_redacted_headers`] cuts this value: a secret header's
/// scheme past 64 bytes, another header's value past its bound.
fn will_cut(name: &str, value: &[u8]) -> bool {
    if SECRET_HEADERS.contains(&name) {
        value.iter().position(|&b| b == b' ').unwrap_or(0) > SCHEME_KEPT
    } else {
        value.len() > MAX_HEADER_VALUE
    }
}

/// What is kept of a secret header's value: its scheme, up to this.
const SCHEME_KEPT: usize = 64;

/// Headers as `name: value` lines appended to `text`, in order, secret
/// values reduced to their scheme, each value and the whole cut to a
/// bound; a value that will be cut is
/// first redacted by `redactor`, so the cut cannot keep part of a secret
/// that the redaction of the whole entry would no longer recognise.
fn push_redacted_headers(text: &mut String, headers: &HeaderMap, redactor: Option<&Redactor>) {
    let start = text.len();
    for (n, (name, value)) in headers.iter().enumerate() {
        if text.len() - start >= MAX_HEADERS {
            let rest: usize = headers
                .iter()
                .skip(n)
                .map(|(k, v)| k.as_str().len() + v.len() + 3)
                .sum();
            text.push_str(&format!(
                "…: [cut: {} more headers, {rest} bytes]\n",
                headers.len() - n
            ));
            break;
        }
        let value = value.to_str().unwrap_or("[binary]");
        let value = match redactor {
            Some(redactor) if will_cut(name.as_str(), value.as_bytes()) => redactor.redact(value),
            _ => std::borrow::Cow::Borrowed(value),
        };
        let value = value.as_ref();
        text.push_str(name.as_str());
        text.push_str(": ");
        if SECRET_HEADERS.contains(&name.as_str()) {
            match value.split_once(' ') {
                Some((scheme, _)) => {
                    text.push_str(&cut(scheme, SCHEME_KEPT));
                    text.push_str(" [redacted]");
                }
                None => text.push_str("[redacted]"),
            }
        } else {
            text.push_str(&cut(value, MAX_HEADER_VALUE));
        }
        text.push('\n');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(path: &str, status: u16) -> Recorded {
        Recorded {
            id: 0,
            at: DateTime::<Utc>::UNIX_EPOCH,
            method: Method::GET,
            head: format!("{path}\n"),
            target_len: path.len(),
            status,
            duration_ms: 0.0,
            outcome: None,
            matcher_bytes: 0,
        }
    }

    #[test]
    fn the_journal_keeps_only_its_bound_dropping_the_oldest() {
        let journal = Journal::new(3, crate::config::JOURNAL_BYTES);
        for i in 0..5 {
            journal.push(entry(&format!("/p{i}"), 200));
        }
        let paths: Vec<_> = journal
            .list(&Filter::default())
            .into_iter()
            .map(|e| (e.id, e.path))
            .collect();
        assert_eq!(
            paths,
            [(3, "/p2".into()), (4, "/p3".into()), (5, "/p4".into())]
        );
    }

    #[test]
    fn the_journal_keeps_only_its_bound_in_bytes() {
        let one = entry("/p0", 200).weight();
        let journal = Journal::new(1000, one * 3 + one / 2);
        for i in 0..10 {
            journal.push(entry(&format!("/p{i}"), 200));
        }
        let ids: Vec<u64> = journal
            .list(&Filter::default())
            .iter()
            .map(|e| e.id)
            .collect();
        assert_eq!(ids, [8, 9, 10]);
        assert!(journal.bytes() <= journal.max_bytes());
        journal.clear();
        assert_eq!(journal.bytes(), 0);
    }

    #[test]
    fn each_secrets_matcher_kept_alive_by_later_outcomes_is_counted_once_per_run() {
        let later = |redactor: &Arc<Redactor>| {
            let mut e = entry("/api/v1/users", 200);
            e.outcome = Some(Said::Later(
                Arc::new(|| "client API_KEY".to_owned()),
                Arc::clone(redactor),
            ));
            e
        };
        let first = Arc::new(Redactor::new(vec!["API_SECRET".to_owned()]));
        let second = Arc::new(Redactor::new(vec!["OTHER_API_SECRET".to_owned()]));
        let plain = later(&first).weight();
        assert!(first.memory_usage() > std::mem::size_of::<Redactor>());
        let journal = Journal::new(1000, crate::config::JOURNAL_BYTES);
        journal.push(later(&first));
        assert_eq!(journal.bytes(), plain + first.memory_usage());
        journal.push(later(&first));
        assert_eq!(journal.bytes(), 2 * plain + first.memory_usage());
        journal.push(later(&second));
        journal.push(later(&first));
        assert_eq!(
            journal.bytes(),
            4 * plain + 2 * first.memory_usage() + second.memory_usage()
        );
        journal.clear();
        journal.push(later(&first));
        assert_eq!(journal.bytes(), plain + first.memory_usage());
    }

    #[test]
    fn a_journal_of_later_outcomes_stays_within_its_bytes_when_the_secrets_keep_changing() {
        let max = 64 * 1024;
        let journal = Journal::new(1000, max);
        let mut kept = Vec::new();
        for i in 0..200 {
            // A new matcher per call, as when every call changes the data.
            let redactor = Arc::new(Redactor::new(
                (0..50).map(|n| format!("secret-{i}-{n}")).collect(),
            ));
            kept.push(Arc::downgrade(&redactor));
            let mut e = entry("/api/v1/users", 200);
            e.outcome = Some(Said::Later(Arc::new(|| "ok".to_owned()), redactor));
            journal.push(e);
        }
        assert!(journal.bytes() <= max);
        let alive = kept.iter().filter(|w| w.strong_count() > 0).count();
        let alive_bytes: usize = kept
            .iter()
            .filter_map(std::sync::Weak::upgrade)
            .map(|r| r.memory_usage())
            .sum();
        assert!(alive < 200, "{alive} matchers alive");
        assert!(alive_bytes <= max, "{alive_bytes} bytes of matchers alive");
    }

    #[test]
    fn long_texts_are_cut_with_a_marker_on_a_character_boundary() {
        assert_eq!(cut("abc", 3), "abc");
        assert_eq!(cut("abcdef", 3), "abc…[cut: 3 more bytes]");
        assert_eq!(cut("aéé", 2), "a…[cut: 4 more bytes]");
        let mut headers = HeaderMap::new();
        headers.insert("x-big", "v".repeat(5000).parse().unwrap());
        let text = redacted_headers(&headers);
        assert!(text.starts_with("x-big: vvvv"), "{text}");
        assert!(text.ends_with("…[cut: 3976 more bytes]\n"), "{text}");
        let mut many = HeaderMap::new();
        for i in 0..20 {
            many.insert(
                axum::http::HeaderName::from_bytes(format!("x-{i}").as_bytes()).unwrap(),
                "v".repeat(1000).parse().unwrap(),
            );
        }
        let text = redacted_headers(&many);
        assert!(text.len() < MAX_HEADERS + 2000, "{}", text.len());
        assert!(text.contains("…: [cut: 11 more headers"), "{text}");
    }

    #[test]
    fn filters_combine_and_limit_keeps_the_most_recent() {
        let journal = Journal::new(10, crate::config::JOURNAL_BYTES);
        journal.push(entry("/api/v1/users", 200));
        journal.push(entry("/api/user/", 403));
        journal.push(entry("/api/v1/users", 401));
        journal.push(entry("/api/v1/users", 200));
        let filter = Filter {
            path: Some("/api/v1".into()),
            status: Some(200),
            limit: Some(1),
            ..Filter::default()
        };
        let ids: Vec<u64> = journal.list(&filter).iter().map(|e| e.id).collect();
        assert_eq!(ids, [4]);
    }

    #[test]
    fn secret_headers_keep_only_their_scheme() {
        let mut headers = HeaderMap::new();
        headers.insert("authorization", "Bearer abc".parse().unwrap());
        headers.insert("authentication", "xyz".parse().unwrap());
        headers.insert("accept", "application/json".parse().unwrap());
        headers.append("cookie", "a=1".parse().unwrap());
        headers.append("cookie", "b=2".parse().unwrap());
        let mut recorded = entry("/api/user/?email=a%40b.c&signature=xyz", 200);
        recorded.head.push_str(&redacted_headers(&headers));
        assert_eq!(
            recorded.entry().headers,
            [
                ("authorization".to_owned(), "Bearer [redacted]".to_owned()),
                ("authentication".to_owned(), "[redacted]".to_owned()),
                ("accept".to_owned(), "application/json".to_owned()),
                ("cookie".to_owned(), "[redacted]".to_owned()),
                ("cookie".to_owned(), "[redacted]".to_owned()),
            ]
        );
        assert_eq!(recorded.entry().path, "/api/user/");
        assert_eq!(
            recorded.entry().query.as_deref(),
            Some("email=a%40b.c&signature=[redacted]")
        );
    }

    #[test]
    fn known_secrets_are_redacted_as_written_and_as_encoded() {
        let redactor = Redactor::new(vec!["API_SECRET".into(), "pa ss+wörd".into(), "abc".into()]);
        assert_eq!(
            redactor.redact("unknown client_id \"API_SECRET\""),
            "unknown client_id \"[redacted]\""
        );
        assert_eq!(
            redactor.redact("x=pa+ss%2Bw%C3%B6rd&y=pa%20ss%2Bw%C3%B6rd&z=pa ss+wörd"),
            "x=[redacted]&y=[redacted]&z=[redacted]"
        );
        // Too short to redact without redacting ordinary words.
        assert_eq!(redactor.redact("abc"), "abc");
        // In a URL, whatever the encoding.
        assert_eq!(
            redactor.redact_target("/x/API%5FSECRET/y?k=%41PI_SECRET&API%5FSECRET=1&z=2"),
            "/x/[redacted]/y?k=[redacted]&[redacted]&z=2"
        );
        assert_eq!(redactor.redact_target("/x?y=1"), "/x?y=1");
    }

    #[test]
    fn identical_refusals_within_a_second_fold_into_a_count() {
        let mut refusals = Refusals {
            last: None,
            since: None,
            repeated: 0,
        };
        let t0 = Instant::now();
        let see = |r: &mut Refusals, outcome: &str, at: Duration| {
            r.see("GET", "/api/v1/users", 401, outcome, t0 + at)
        };
        assert_eq!(
            see(&mut refusals, "token expired", Duration::ZERO),
            Repeats::New { before: None }
        );
        for ms in 1..=2341 {
            assert_eq!(
                see(
                    &mut refusals,
                    "token expired",
                    Duration::from_micros(ms * 100)
                ),
                Repeats::Repeated
            );
        }
        assert_eq!(
            see(&mut refusals, "token expired", Duration::from_millis(1500)),
            Repeats::New {
                before: Some((2341, "GET /api/v1/users 401: token expired".into()))
            }
        );
        assert_eq!(
            see(&mut refusals, "other", Duration::from_millis(1600)),
            Repeats::New { before: None }
        );
        assert_eq!(thousands(2341), "2,341");
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(thousands(999), "999");
    }
}
