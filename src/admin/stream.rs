//! The live journal, `GET /__doublure/requests/stream`: server-sent events,
//! one `request` event per journal entry as it is recorded, so a console or
//! a test can watch calls arrive without reading the whole journal again.
//!
//! Each event carries the entry's id, so a client that reconnects with
//! `Last-Event-ID` first gets what it missed from the ring. A comment line
//! every 15 s keeps proxies from closing a quiet stream. The stream ends
//! when the server shuts down, so a graceful stop never waits for it.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::Query;
use axum::http::{HeaderMap, HeaderValue};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::Stream;
use serde::Deserialize;
use tokio::sync::broadcast::error::RecvError;

use super::In;
use super::error::AdminError;
use crate::traffic::journal::{Follower, JournalEntry, JournalFilter};

/// How often a quiet stream sends a comment line.
pub const KEEP_ALIVE: Duration = Duration::from_secs(15);

/// Filters of the stream: those of `GET /__doublure/requests` that apply
/// to calls still to come.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct StreamFilter {
    /// Only paths starting with this.
    pub path: Option<String>,
    /// Only this method (any case).
    pub method: Option<String>,
    /// Only this status.
    pub status: Option<u16>,
}

impl StreamFilter {
    fn matches(&self, entry: &JournalEntry) -> bool {
        self.path
            .as_ref()
            .is_none_or(|p| entry.path.starts_with(p.as_str()))
            && self
                .method
                .as_ref()
                .is_none_or(|m| entry.method.eq_ignore_ascii_case(m))
            && self.status.is_none_or(|s| entry.status == s)
    }
}

/// Streams journal entries as server-sent events.
#[utoipa::path(get, path = "/__doublure/requests/stream", tag = "journal",
    params(StreamFilter,
        ("Last-Event-ID" = Option<u64>, Header, description = "The id of the last entry received: the entries kept after it are sent first (all of them when the id is 0, or unknown to this server)")),
    responses(
        (status = 200, content_type = "text/event-stream", body = String,
            description = "Server-sent events, one per journal entry as it is recorded: `event: request`, `id: <entry id>`, `data: <the entry as an item of GET /__doublure/requests>`; a `: keep-alive` comment every 15 s",
            example = json!("event: request\nid: 7\ndata: {\"id\":7,\"time\":\"2026-01-15T10:00:00.000Z\",\"method\":\"GET\",\"path\":\"/api/v1/users\",\"query\":null,\"headers\":[],\"status\":401,\"duration_ms\":0.12,\"outcome\":\"…\",\"http_version\":\"HTTP/1.1\"}\n\n")),
        (status = 400, description = "Bad filter, or a Last-Event-ID that is not an entry id"),
        (status = 401, description = "Admin token missing or wrong")))]
pub async fn stream(
    In(state): In,
    headers: HeaderMap,
    query: Result<Query<StreamFilter>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, AdminError> {
    let Query(filter) = query.map_err(|e| AdminError::BadRequest(e.body_text()))?;
    let after = match headers.get("last-event-id").map(HeaderValue::to_str) {
        None => None,
        Some(Ok(text)) if text.trim().is_empty() => None,
        Some(Ok(text)) => Some(text.trim().parse::<u64>().map_err(|_| {
            AdminError::BadRequest(format!(
                "Last-Event-ID must be a journal entry id (a whole number), got {text:?}"
            ))
        })?),
        Some(Err(_)) => {
            return Err(AdminError::BadRequest(
                "Last-Event-ID must be a journal entry id (a whole number)".to_owned(),
            ));
        }
    };
    let mut follower = state.journal.follow(after);
    let reader = Reader {
        last: after
            .filter(|&a| a <= follower.newest)
            .unwrap_or(follower.newest),
        pending: std::mem::take(&mut follower.backlog).into(),
        follower,
        filter,
    };
    let mut response = Sse::new(events(reader))
        .keep_alive(KeepAlive::new().interval(KEEP_ALIVE).text("keep-alive"))
        .into_response();
    // Proxies such as nginx would otherwise hold events back to fill a
    // buffer.
    response
        .headers_mut()
        .insert("x-accel-buffering", HeaderValue::from_static("no"));
    Ok(response)
}

/// Where one stream is.
struct Reader {
    follower: Follower,
    /// Entries to send before reading the channel again: the replay, or a
    /// refill from the ring after falling behind.
    pending: VecDeque<JournalEntry>,
    /// The id of the newest entry seen, sent or filtered out.
    last: u64,
    filter: StreamFilter,
}

fn events(reader: Reader) -> impl Stream<Item = Result<Event, axum::Error>> {
    futures_util::stream::unfold(reader, |mut reader| async move {
        let entry = reader.next().await?;
        Some((event(&entry), reader))
    })
}

impl Reader {
    /// The next entry to send; `None` ends the stream.
    async fn next(&mut self) -> Option<Arc<JournalEntry>> {
        loop {
            if let Some(entry) = self.pending.pop_front() {
                self.last = self.last.max(entry.id);
                if self.filter.matches(&entry) {
                    return Some(Arc::new(entry));
                }
                continue;
            }
            if *self.follower.closing.borrow() {
                return None;
            }
            tokio::select! {
                received = self.follower.receiver.recv() => match received {
                    Ok(entry) => {
                        // A refill may already have sent it.
                        if entry.id <= self.last {
                            continue;
                        }
                        self.last = entry.id;
                        if self.filter.matches(&entry) {
                            return Some(entry);
                        }
                    }
                    // Fell behind the channel: what was missed is still in
                    // the ring, unless the ring has moved past it too.
                    Err(RecvError::Lagged(_)) => {
                        self.pending = self
                            .follower
                            .journal
                            .list(&JournalFilter {
                                after: Some(self.last),
                                ..JournalFilter::default()
                            })
                            .into();
                    }
                    Err(RecvError::Closed) => return None,
                },
                // Shutdown, or the journal is gone: either way, the end.
                _ = self.follower.closing.changed() => return None,
            }
        }
    }
}

fn event(entry: &JournalEntry) -> Result<Event, axum::Error> {
    Event::default()
        .event("request")
        .id(entry.id.to_string())
        .json_data(entry)
}
