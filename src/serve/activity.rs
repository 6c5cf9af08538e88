//! What a connection knows of its requests: how many are in flight, and
//! when a response body is done, so that the idle timeout starts only then.

use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker, ready};

use axum::body::{Body, Bytes};
use hyper::body::Incoming;

/// Requests a connection's service started and finished.
#[derive(Debug, Default)]
pub(super) struct Activity {
    pub(super) started: AtomicU64,
    pub(super) finished: AtomicU64,
    /// The connection's task, when it waits to read while a request is in
    /// flight: hyper may not read again once the answer is sent, and the
    /// idle timer must then be set.
    reader: Mutex<Option<Waker>>,
    /// Whether a request was answered before its body was read to the end
    /// (a refusal of a body too large): the client may still be sending.
    pub(super) unread: AtomicBool,
}

impl Activity {
    pub(super) fn wake_reader_when_done(&self, waker: &Waker) {
        let mut reader = self.reader.lock().unwrap_or_else(|e| e.into_inner());
        match reader.as_ref() {
            Some(w) if w.will_wake(waker) => {}
            _ => *reader = Some(waker.clone()),
        }
    }
}

/// One request in flight, from the service's call to the end of its
/// answer's body.
#[derive(Debug)]
pub(super) struct Ticket(Arc<Activity>);

impl Ticket {
    pub(super) fn new(activity: &Arc<Activity>) -> Self {
        // A new request: hyper read the last one's body to its end, or it
        // would have closed the connection.
        activity.unread.store(false, Ordering::Release);
        activity.started.fetch_add(1, Ordering::Release);
        Self(Arc::clone(activity))
    }
}

impl Drop for Ticket {
    fn drop(&mut self) {
        let finished = self.0.finished.fetch_add(1, Ordering::AcqRel) + 1;
        if finished == self.0.started.load(Ordering::Acquire) {
            let reader = self
                .0
                .reader
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .take();
            if let Some(reader) = reader {
                reader.wake();
            }
        }
    }
}

/// An answer's body, with the ticket of its request.
pub(super) struct Tracked {
    pub(super) body: Body,
    pub(super) _ticket: Ticket,
}

impl http_body::Body for Tracked {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, axum::Error>>> {
        Pin::new(&mut self.body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.body.size_hint()
    }
}

/// A request's body, which tells the connection when it was not read to
/// its end.
pub(super) struct Watched {
    pub(super) body: Incoming,
    pub(super) activity: Arc<Activity>,
    pub(super) done: bool,
}

impl http_body::Body for Watched {
    type Data = Bytes;
    type Error = hyper::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, hyper::Error>>> {
        let frame = ready!(Pin::new(&mut self.body).poll_frame(cx));
        if frame.is_none() {
            self.done = true;
        }
        Poll::Ready(frame)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.body.size_hint()
    }
}

impl Drop for Watched {
    fn drop(&mut self) {
        if !self.done && !http_body::Body::is_end_stream(&self.body) {
            self.activity.unread.store(true, Ordering::Release);
        }
    }
}
