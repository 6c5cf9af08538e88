//! The request journal: every call to the emulated APIs, with secrets
//! redacted and the reason for its answer in words, kept in a bounded ring
//! so a test can check what was called and a developer can see why a call
//! failed ("signature mismatch …", "token expired 12 s ago").
//!
//! Handlers and extractors say why a request got its answer by attaching an
//! [`Outcome`] to the response's extensions; the middleware reads it there.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::Instant;

use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method};
use axum::middleware::Next;
use axum::response::Response;
use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};

use crate::AppState;

/// Why a request got the answer it got, in words, for the journal and logs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome(pub String);

impl Outcome {
    /// Attaches `text` as the outcome of `response`.
    pub fn attach(response: &mut Response, text: impl Into<String>) {
        let text = text.into();
        tracing::debug!(outcome = %text, "request outcome");
        response.extensions_mut().insert(Outcome(text));
    }
}

/// Default number of entries the journal keeps.
pub const DEFAULT_CAPACITY: usize = 1000;

/// Headers whose values are secrets: only the scheme (if any) is kept.
const SECRET_HEADERS: &[&str] = &[
    "authorization",
    "authentication",
    "cookie",
    "proxy-authorization",
];

/// Query parameters whose values are secrets.
const SECRET_PARAMS: &[&str] = &[
    "client_secret",
    "signature",
    "access_token",
    "bearer_token",
    "token",
    "password",
    "key",
];

/// A request as the ring keeps it: the request line and headers copied
/// into two strings (a handful of allocations, and nothing that pins the
/// connection's read buffer, as keeping hyper's own `Bytes` would), turned
/// into an [`Entry`] only when someone reads the journal.
#[derive(Debug)]
struct Recorded {
    id: u64,
    at: DateTime<Utc>,
    method: Method,
    /// Path and query as received.
    target: Box<str>,
    /// `name: value` lines, secret values already redacted: secrets never
    /// stay in memory. Header values cannot hold a line break.
    headers: Box<str>,
    status: u16,
    duration_ms: f64,
    outcome: Option<String>,
}

impl Recorded {
    fn path(&self) -> &str {
        self.target.split_once('?').map_or(&self.target, |(p, _)| p)
    }

    fn entry(&self) -> Entry {
        Entry {
            id: self.id,
            time: self.at.to_rfc3339_opts(SecondsFormat::Millis, true),
            method: self.method.to_string(),
            path: self.path().to_owned(),
            query: self.target.split_once('?').map(|(_, q)| redact_query(q)),
            headers: self
                .headers
                .lines()
                .filter_map(|line| line.split_once(": "))
                .map(|(name, value)| (name.to_owned(), value.to_owned()))
                .collect(),
            status: self.status,
            duration_ms: self.duration_ms,
            outcome: self.outcome.clone(),
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
    pub status: u16,
    pub duration_ms: f64,
    /// Why the request got this answer.
    pub outcome: Option<String>,
}

/// The bounded journal.
#[derive(Debug)]
pub struct Journal {
    inner: Mutex<Ring>,
}

#[derive(Debug)]
struct Ring {
    entries: VecDeque<Recorded>,
    capacity: usize,
    next_id: u64,
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

impl Journal {
    pub fn new(capacity: usize) -> Self {
        Self {
            inner: Mutex::new(Ring {
                entries: VecDeque::with_capacity(capacity.min(4096)),
                capacity,
                next_id: 1,
            }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Ring> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Records an entry, dropping the oldest past the bound.
    fn push(&self, mut entry: Recorded) {
        let mut ring = self.lock();
        if ring.capacity == 0 {
            return;
        }
        entry.id = ring.next_id;
        ring.next_id += 1;
        while ring.entries.len() >= ring.capacity {
            ring.entries.pop_front();
        }
        ring.entries.push_back(entry);
    }

    /// Entries matching `filter`, oldest first.
    pub fn list(&self, filter: &Filter) -> Vec<Entry> {
        let ring = self.lock();
        let method = filter.method.as_ref().map(|m| m.to_ascii_uppercase());
        let mut matched: Vec<&Recorded> = ring
            .entries
            .iter()
            .filter(|e| {
                filter
                    .path
                    .as_ref()
                    .is_none_or(|p| e.path().starts_with(p.as_str()))
            })
            .filter(|e| method.as_ref().is_none_or(|m| e.method.as_str() == m))
            .filter(|e| filter.status.is_none_or(|s| e.status == s))
            .filter(|e| filter.since.is_none_or(|s| e.at >= s))
            .filter(|e| filter.after.is_none_or(|a| e.id > a))
            .collect();
        if let Some(limit) = filter.limit {
            let skip = matched.len().saturating_sub(limit);
            matched.drain(..skip);
        }
        matched.into_iter().map(Recorded::entry).collect()
    }

    /// How many entries are kept now.
    pub fn len(&self) -> usize {
        self.lock().entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The bound.
    pub fn capacity(&self) -> usize {
        self.lock().capacity
    }

    /// Forgets every entry.
    pub fn clear(&self) {
        self.lock().entries.clear();
    }
}

/// Middleware on the emulated APIs: records each request once answered.
pub async fn record(State(state): State<AppState>, request: Request, next: Next) -> Response {
    if crate::routing::is_admin_path(request.uri().path()) {
        return next.run(request).await;
    }
    let started = Instant::now();
    let at = state.clock.now();
    let method = request.method().clone();
    let target: Box<str> = request
        .uri()
        .path_and_query()
        .map_or_else(|| request.uri().path().into(), |pq| pq.as_str().into());
    let headers = redacted_headers(request.headers());
    let mut response = next.run(request).await;
    let recorded = Recorded {
        id: 0,
        at,
        method,
        target,
        headers,
        status: response.status().as_u16(),
        duration_ms: (started.elapsed().as_secs_f64() * 1000.0 * 1000.0).round() / 1000.0,
        outcome: response.extensions_mut().remove::<Outcome>().map(|o| o.0),
    };
    // A refused call is what a developer looks for in the log; a log line
    // per answered call (a tenth of the CPU under load, and contention on
    // stdout) waits for `--log-level debug`. The journal has them all.
    let (method, path, status) = (&recorded.method, recorded.path(), recorded.status);
    let outcome = recorded.outcome.as_deref().unwrap_or("");
    if status >= 400 {
        tracing::info!(method = %method, path, status, outcome, "request");
    } else {
        tracing::debug!(method = %method, path, status, outcome, "request");
    }
    state.journal.push(recorded);
    response
}

/// The query string with secret parameters' values replaced, the rest kept
/// byte for byte (w.c.s. signatures are over the raw bytes; a reader wants
/// to see them as sent).
pub fn redact_query(query: &str) -> String {
    query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((name, _)) if is_secret_param(name) => format!("{name}=[redacted]"),
            _ => pair.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("&")
}

fn is_secret_param(raw_name: &str) -> bool {
    let name = percent_encoding::percent_decode_str(raw_name).decode_utf8_lossy();
    SECRET_PARAMS.iter().any(|s| name.eq_ignore_ascii_case(s))
}

/// Headers as `name: value` lines, in order, secret values reduced to
/// their scheme.
pub fn redacted_headers(headers: &HeaderMap) -> Box<str> {
    let mut text = String::with_capacity(256);
    for (name, value) in headers {
        let value = value.to_str().unwrap_or("[binary]");
        text.push_str(name.as_str());
        text.push_str(": ");
        if SECRET_HEADERS.contains(&name.as_str()) {
            match value.split_once(' ') {
                Some((scheme, _)) => {
                    text.push_str(scheme);
                    text.push_str(" [redacted]");
                }
                None => text.push_str("[redacted]"),
            }
        } else {
            text.push_str(value);
        }
        text.push('\n');
    }
    text.into_boxed_str()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(path: &str, status: u16) -> Recorded {
        Recorded {
            id: 0,
            at: DateTime::<Utc>::UNIX_EPOCH,
            method: Method::GET,
            target: path.into(),
            headers: "".into(),
            status,
            duration_ms: 0.0,
            outcome: None,
        }
    }

    #[test]
    fn the_journal_keeps_only_its_bound_dropping_the_oldest() {
        let journal = Journal::new(3);
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
    fn filters_combine_and_limit_keeps_the_most_recent() {
        let journal = Journal::new(10);
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
    fn secret_query_parameters_are_redacted_and_the_rest_kept_as_sent() {
        assert_eq!(
            redact_query("email=fred%40example.net&orig=demo&signature=abc%3D&client_secret=x"),
            "email=fred%40example.net&orig=demo&signature=[redacted]&client_secret=[redacted]"
        );
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
        recorded.headers = redacted_headers(&headers);
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
}
