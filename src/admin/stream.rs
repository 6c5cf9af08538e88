//! The live journal, `GET /__doublure/requests/stream`: server-sent events,
//! one `request` event per journal entry as it is recorded, so a console or
//! a test can watch calls arrive without reading the whole journal again.
//!
//! Each event carries the entry's id, so a client that reconnects with
//! `Last-Event-ID` first gets what it missed from the ring. A comment line
//! every 15 s keeps proxies from closing a quiet stream. The stream ends
//! when the server shuts down, so a graceful stop never waits for it, and
//! with a last `end` event when its namespace is dropped.
//!
//! A stream reads the ring's own entries a bounded batch at a time, woken
//! by the id of the newest: it holds no copy and the journal no queue per
//! reader, so readers cost little however many there are (`--max-streams`)
//! and however far behind they are; what the ring dropped before a reader
//! got to it is skipped with one `lagged` event.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::Query;
use axum::http::{HeaderMap, HeaderValue};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::Stream;
use serde::Deserialize;

use super::In;
use super::error::AdminError;
use crate::budget::{StreamPermit, StreamRefusal};
use crate::traffic::journal::{Ending, Follower, JournalFilter, Recorded};

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

/// Streams journal entries as server-sent events.
#[utoipa::path(get, path = "/__doublure/requests/stream", tag = "journal",
    params(StreamFilter,
        ("Last-Event-ID" = Option<u64>, Header, description = "The id of the last entry received: the entries kept after it are sent first (all of them when the id is 0, or unknown to this server)")),
    responses(
        (status = 200, content_type = "text/event-stream", body = String,
            description = "Server-sent events, one per journal entry as it is recorded: `event: request`, `id: <entry id>`, `data: <the entry as an item of GET /__doublure/requests>`; a `: keep-alive` comment every 15 s. `event: lagged`, `data: {\"skipped\": <count>, \"after\": <id>}` (no id) when the journal dropped entries before the stream read them; `event: end`, `data: {\"reason\": <text>}` last, when the namespace is dropped",
            example = json!("event: request\nid: 7\ndata: {\"id\":7,\"time\":\"2026-01-15T10:00:00.000Z\",\"method\":\"GET\",\"path\":\"/api/v1/users\",\"query\":null,\"headers\":[],\"status\":401,\"duration_ms\":0.12,\"outcome\":\"…\",\"http_version\":\"HTTP/1.1\"}\n\n")),
        (status = 400, description = "Bad filter, or a Last-Event-ID that is not an entry id"),
        (status = 401, description = "Admin token missing or wrong"),
        (status = 429, description = "As many streams are open as --max-streams allows"),
        (status = 503, description = "The memory budget (--memory-budget) has no room for one more stream; with Retry-After")))]
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
    let permit = state
        .ground
        .budget
        .open_stream()
        .map_err(|refusal| match refusal {
            StreamRefusal::TooMany(max) => AdminError::TooMany(format!(
                "too many journal streams: {max} are open and --max-streams is {max}; close one \
                 (or raise --max-streams)"
            )),
            StreamRefusal::NoRoom => AdminError::Unavailable(
                "the memory budget is spent (--memory-budget): no room for one more journal \
                 stream; retry later"
                    .to_owned(),
            ),
        })?;
    let follower = state.journal.follow(after);
    let method = filter.method.as_ref().map(|m| m.to_ascii_uppercase());
    let reader = Reader {
        last: follower.last,
        pending: VecDeque::new(),
        follower,
        filter: JournalFilter {
            path: filter.path,
            status: filter.status,
            ..JournalFilter::default()
        },
        method,
        done: false,
        _permit: permit,
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

/// Most bytes of entries one stream holds at a time: entries shared with
/// the ring, read from it a batch at a time, so a stream never buffers
/// more than this.
pub const STREAM_BATCH_BYTES: usize = 64 << 10;

/// Where one stream is.
struct Reader {
    follower: Follower,
    /// Entries to send before reading the ring again.
    pending: VecDeque<Arc<Recorded>>,
    /// The id of the newest entry seen, sent or filtered out.
    last: u64,
    filter: JournalFilter,
    /// The method filter, upper-cased.
    method: Option<String>,
    /// The last event is sent.
    done: bool,
    /// Its place among `--max-streams` and in the memory budget.
    _permit: StreamPermit,
}

/// What a stream sends.
enum Item {
    Entry(Arc<Recorded>),
    /// Entries it fell too far behind to read: the ring no longer has them.
    Lagged {
        skipped: u64,
        after: u64,
    },
    /// The namespace is gone, for this reason.
    End(String),
}

fn events(reader: Reader) -> impl Stream<Item = Result<Event, axum::Error>> {
    futures_util::stream::unfold(reader, |mut reader| async move {
        let item = reader.next().await?;
        Some((event(&item), reader))
    })
}

impl Reader {
    /// The next thing to send; `None` ends the stream.
    async fn next(&mut self) -> Option<Item> {
        loop {
            if let Some(entry) = self.pending.pop_front() {
                self.last = self.last.max(entry.id());
                if self.filter.admits(&entry, self.method.as_deref()) {
                    return Some(Item::Entry(entry));
                }
                continue;
            }
            if self.done {
                return None;
            }
            let ending = self.follower.ending.borrow().clone();
            match ending {
                Some(Ending::Shutdown) => return None,
                Some(Ending::Dropped(why)) => {
                    self.done = true;
                    return Some(Item::End(why));
                }
                None => {}
            }
            // Marked seen before the ring is read: an entry recorded after
            // the read wakes the wait below.
            self.follower.newest.borrow_and_update();
            let batch = self.follower.journal.after(self.last, STREAM_BATCH_BYTES);
            self.pending = batch.entries;
            if batch.skipped > 0 {
                let after = self.last;
                self.last += batch.skipped;
                return Some(Item::Lagged {
                    skipped: batch.skipped,
                    after,
                });
            }
            if !self.pending.is_empty() {
                continue;
            }
            tokio::select! {
                changed = self.follower.newest.changed() => if changed.is_err() {
                    return None;
                },
                changed = self.follower.ending.changed() => if changed.is_err() {
                    return None;
                },
            }
        }
    }
}

fn event(item: &Item) -> Result<Event, axum::Error> {
    match item {
        Item::Entry(entry) => Event::default()
            .event("request")
            .id(entry.id().to_string())
            .json_data(entry.entry()),
        Item::Lagged { skipped, after } => Event::default()
            .event("lagged")
            .json_data(serde_json::json!({"skipped": skipped, "after": after})),
        Item::End(why) => Event::default()
            .event("end")
            .json_data(serde_json::json!({"reason": why})),
    }
}
