//! What the ring keeps of a call (the request line and headers in one
//! string, the outcome redacted or written when read), and the entry it
//! becomes when someone reads the journal.

use std::sync::Arc;

use axum::http::{Method, Version};
use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};

use super::redact::{MAX_OUTCOME, Redactor, redacted};
use crate::outcome::redact_query;

/// A request as the ring keeps it: the request line and headers copied
/// into one string, written once as the call comes in and kept as it is
/// unless a secret must go (one allocation, and nothing that pins the
/// connection's read buffer, as keeping hyper's own `Bytes` would), turned
/// into an [`JournalEntry`] only when someone reads the journal.
#[derive(Debug)]
pub struct Recorded {
    pub(super) id: u64,
    pub(super) at: DateTime<Utc>,
    pub(super) method: Method,
    /// HTTP/1.1, HTTP/2…: what the client spoke.
    pub(super) version: Version,
    /// Path and query as received, secrets redacted by value, cut; a line
    /// break; then `name: value` lines, secret values already redacted:
    /// secrets never stay in memory. Neither a request target nor a header
    /// value can hold a line break.
    pub(super) head: String,
    /// Where the target ends in `head`.
    pub(super) target_len: usize,
    pub(super) status: u16,
    pub(super) duration_ms: f64,
    pub(super) outcome: Option<Said>,
    /// The memory of the secrets' matcher this entry's outcome keeps alive,
    /// charged to the first entry of each run that shares one (set by the
    /// ring as it records the entry).
    pub(super) matcher_bytes: usize,
}

/// An outcome as the ring keeps it.
pub(super) enum Said {
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
    pub(super) fn outcome(&self) -> Option<std::borrow::Cow<'_, str>> {
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

    pub(super) fn headers(&self) -> &str {
        self.head.get(self.target_len + 1..).unwrap_or("")
    }

    pub(super) fn path(&self) -> &str {
        let target = self.target();
        target.split_once('?').map_or(target, |(p, _)| p)
    }

    /// What the entry weighs against the journal's bound in bytes: what it
    /// holds, spare capacity included.
    pub(super) fn weight(&self) -> usize {
        std::mem::size_of::<Self>()
            + 16
            + self.head.capacity()
            + self.outcome.as_ref().map_or(0, |said| match said {
                Said::Text(text) => text.capacity(),
                Said::Later(write, _) => std::mem::size_of_val(&**write) + LATER_WEIGHT,
            })
            + self.matcher_bytes
    }

    /// Its id in the journal.
    pub fn id(&self) -> u64 {
        self.id
    }

    /// The entry as `GET /__doublure/requests` shows it.
    pub fn entry(&self) -> JournalEntry {
        JournalEntry {
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
            http_version: version_name(self.version).into(),
        }
    }
}

/// One journal entry.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, utoipa::ToSchema)]
#[schema(as = Entry)]
pub struct JournalEntry {
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
    /// The protocol the request came in: `HTTP/1.1`, `HTTP/2` (over TLS
    /// by ALPN, or h2c), or `HTTP/1.0`.
    #[schema(example = "HTTP/2")]
    pub http_version: std::borrow::Cow<'static, str>,
}

/// A protocol version as RFC 9110 and RFC 9113 spell it.
fn version_name(version: Version) -> &'static str {
    match version {
        Version::HTTP_09 => "HTTP/0.9",
        Version::HTTP_10 => "HTTP/1.0",
        Version::HTTP_2 => "HTTP/2",
        Version::HTTP_3 => "HTTP/3",
        _ => "HTTP/1.1",
    }
}
