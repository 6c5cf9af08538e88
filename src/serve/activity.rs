//! What a connection knows of its requests: how many are in flight, and
//! when a response body is done, so that the idle timeout starts only then;
//! and the request body's own timeout, `--body-read-timeout`.

use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker, ready};
use std::time::Duration;

use axum::body::{Body, Bytes};
use hyper::body::Incoming;
use tokio::time::{Instant, Sleep};

use crate::boundary::BodyTimedOut;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

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
/// its end, and fails with [`BodyTimedOut`] once it stops arriving for
/// `--body-read-timeout`.
pub(super) struct Watched {
    pub(super) body: Incoming,
    pub(super) activity: Arc<Activity>,
    pub(super) done: bool,
    pub(super) timeout: Duration,
    /// Set at the first wait for more of the body, reset by each frame:
    /// a body that arrives with its head never allocates one.
    pub(super) stalled: Option<Pin<Box<Sleep>>>,
}

impl http_body::Body for Watched {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, BoxError>>> {
        let this = &mut *self;
        match Pin::new(&mut this.body).poll_frame(cx) {
            Poll::Ready(frame) => {
                if frame.is_none() {
                    this.done = true;
                }
                if let Some(stalled) = &mut this.stalled {
                    stalled.as_mut().reset(Instant::now() + this.timeout);
                }
                Poll::Ready(frame.map(|f| f.map_err(BoxError::from)))
            }
            Poll::Pending => {
                let timeout = this.timeout;
                let stalled = this
                    .stalled
                    .get_or_insert_with(|| Box::pin(tokio::time::sleep(timeout)));
                ready!(stalled.as_mut().poll(cx));
                tracing::debug!("cutting a request: {BodyTimedOut}");
                Poll::Ready(Some(Err(Box::new(BodyTimedOut))))
            }
        }
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
