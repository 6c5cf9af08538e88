//! Serving connections: the accept loop, and each connection's life.
//!
//! hyper reads and writes HTTP/1.1 (through hyper-util's `auto` builder,
//! as `axum::serve` did); around it, doublure adds what hyper cannot be
//! told:
//!
//! - Two timeouts that mean different things. hyper's own head timeout
//!   also runs while a keep-alive connection waits for its next request,
//!   so it cannot keep a slow client from holding a socket for long while
//!   letting an idle one stay longer. `Guarded`, the connection's IO,
//!   knows the connection's phase: idle (nothing read since the last
//!   answer), reading a head (bytes read, no request started yet), or busy
//!   (a request in flight, which the service tells it). An idle connection
//!   is closed after `--idle-timeout`, one still sending its head
//!   `--header-read-timeout` after its first byte; a busy one never.
//! - When `accept` fails because the process is out of file descriptors,
//!   the loop pauses a little longer each time ([`AcceptBackoff`]) and logs
//!   once, then once more when accepts work again.
//! - What hyper refuses itself before any service runs (a request target
//!   or a head over its limits, bytes that are not HTTP/1.1), it answers
//!   with an empty body; `Guarded` sends the same status with a body in
//!   the format of the API the request was for
//!   ([`crate::boundary::raw_refusal`]).
//! - After a refusal that leaves the client still sending, a lingering
//!   close, so that the client reads the answer rather than a reset.

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker, ready};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::http::{Request, StatusCode};
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::time::{Instant, Sleep};
use tower::ServiceExt;

use crate::boundary;

/// How long a connection may take over its request head, and sit idle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// From the first byte of a request head to its end.
    pub header_read: Duration,
    /// Between requests, nothing in flight and nothing read.
    pub idle: Duration,
}

/// Serves `app` on `listener` until `shutdown` completes, then stops
/// accepting and waits for the requests in flight to be answered.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    timeouts: Timeouts,
    shutdown: impl Future<Output = ()>,
) -> io::Result<()> {
    let builder = Builder::new(TokioExecutor::new());
    // Connections watch `stop` to finish gracefully, and hold `alive`
    // until they are done, which the end waits for.
    let (stop_tx, stop_rx) = watch::channel(());
    let (alive_tx, alive_rx) = watch::channel(());
    let mut backoff = AcceptBackoff::default();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let accepted = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => accepted,
        };
        match accepted {
            Ok((stream, _)) => {
                if let Some(recovery) = backoff.accepted(Instant::now()) {
                    tracing::info!(
                        "accepting connections again, after {} failed accepts over {:.1} s",
                        recovery.failures,
                        recovery.over.as_secs_f64()
                    );
                }
                spawn_connection(
                    stream,
                    app.clone(),
                    &builder,
                    timeouts,
                    stop_rx.clone(),
                    alive_rx.clone(),
                );
            }
            Err(error) => {
                let failure = AcceptFailure::of(&error);
                let Some(pause) = backoff.failed(failure, Instant::now()) else {
                    tracing::debug!("a connection failed before it was accepted: {error}");
                    continue;
                };
                if pause.first {
                    warn_accept_failure(&error, failure);
                }
                tokio::select! {
                    () = &mut shutdown => break,
                    () = tokio::time::sleep(pause.wait) => {}
                }
            }
        }
    }
    drop(listener);
    drop(alive_rx);
    let _ = stop_tx.send(());
    alive_tx.closed().await;
    Ok(())
}

fn warn_accept_failure(error: &io::Error, failure: AcceptFailure) {
    let max = AcceptBackoff::MAX_PAUSE.as_secs();
    if failure == AcceptFailure::OutOfDescriptors {
        tracing::warn!(
            "cannot accept connections: {error}. doublure is out of file descriptors: new \
             connections wait in the listen queue, and are refused once it is full, until some \
             close (raise `ulimit -n`, or close idle connections). Retrying with a growing pause \
             of up to {max} s; one line will say when connections are accepted again"
        );
    } else {
        tracing::warn!(
            "cannot accept connections: {error}. Retrying with a growing pause of up to {max} s; \
             one line will say when connections are accepted again"
        );
    }
}

/// Serves one connection in a task of its own.
fn spawn_connection(
    stream: TcpStream,
    app: Router,
    builder: &Builder<TokioExecutor>,
    timeouts: Timeouts,
    mut stop: watch::Receiver<()>,
    alive: watch::Receiver<()>,
) {
    let activity = Arc::new(Activity::default());
    let io = TokioIo::new(Guarded::new(stream, Arc::clone(&activity), timeouts));
    let service = hyper::service::service_fn(move |request: Request<Incoming>| {
        // Counted from the moment hyper hands the request over, until the
        // answer's body is done with (sent, or dropped with the connection).
        let ticket = Ticket::new(&activity);
        let request = request.map(|body| {
            Body::new(Watched {
                body,
                activity: Arc::clone(&activity),
                done: false,
            })
        });
        let answer = app.clone().oneshot(request);
        async move {
            let response = answer.await.unwrap_or_else(|never| match never {});
            Ok::<_, Infallible>(response.map(|body| Tracked {
                body,
                _ticket: ticket,
            }))
        }
    });
    let connection = builder
        .serve_connection_with_upgrades(io, service)
        .into_owned();
    tokio::spawn(async move {
        let mut connection = std::pin::pin!(connection);
        let ended = tokio::select! {
            ended = connection.as_mut() => ended,
            _ = stop.changed() => {
                connection.as_mut().graceful_shutdown();
                connection.await
            }
        };
        if let Err(e) = ended {
            tracing::debug!("connection ended: {e}");
        }
        drop(alive);
    });
}

/// Requests a connection's service started and finished.
#[derive(Debug, Default)]
struct Activity {
    started: AtomicU64,
    finished: AtomicU64,
    /// The connection's task, when it waits to read while a request is in
    /// flight: hyper may not read again once the answer is sent, and the
    /// idle timer must then be set.
    reader: Mutex<Option<Waker>>,
    /// Whether a request was answered before its body was read to the end
    /// (a refusal of a body too large): the client may still be sending.
    unread: AtomicBool,
}

impl Activity {
    fn wake_reader_when_done(&self, waker: &Waker) {
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
struct Ticket(Arc<Activity>);

impl Ticket {
    fn new(activity: &Arc<Activity>) -> Self {
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
struct Tracked {
    body: Body,
    _ticket: Ticket,
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
struct Watched {
    body: Incoming,
    activity: Arc<Activity>,
    done: bool,
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

/// Where a connection is between requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Nothing read since the last answer (or since it was accepted).
    Idle { since: Instant },
    /// Bytes of a request head read since `since`; no request started.
    Head { since: Instant },
    /// A request is in flight.
    Busy,
}

/// The answer `Guarded` sends instead of hyper's.
#[derive(Debug)]
enum Answer {
    /// None: hyper's bytes go through.
    Passing,
    /// Being written.
    Writing { bytes: Vec<u8>, at: usize },
    /// Written: whatever hyper still writes is dropped.
    Written,
}

/// The longest a lingering close reads what a refused client still sends.
const LINGER: Duration = Duration::from_secs(5);

/// How much of a request head is kept to tell which API it was for.
const HEAD_KEPT: usize = 256;

/// A connection's socket, which knows the connection's phase: it closes
/// the connection when a phase lasts too long, and answers in the API's
/// format when hyper refuses a head.
struct Guarded {
    stream: TcpStream,
    activity: Arc<Activity>,
    timeouts: Timeouts,
    phase: Phase,
    /// `activity.started` when last looked at.
    seen: u64,
    timer: Option<Pin<Box<Sleep>>>,
    /// The deadline `timer` is set to.
    armed: Option<Instant>,
    /// The start of the head being read.
    head: Vec<u8>,
    answer: Answer,
    /// When a lingering close gives up, once started.
    lingering: Option<Instant>,
}

impl Guarded {
    fn new(stream: TcpStream, activity: Arc<Activity>, timeouts: Timeouts) -> Self {
        Self {
            stream,
            activity,
            timeouts,
            phase: Phase::Idle {
                since: Instant::now(),
            },
            seen: 0,
            timer: None,
            armed: None,
            head: Vec::new(),
            answer: Answer::Passing,
            lingering: None,
        }
    }

    /// Catches up with the requests the service started and finished.
    fn refresh(&mut self) {
        let started = self.activity.started.load(Ordering::Acquire);
        if started != self.seen {
            self.seen = started;
            self.phase = Phase::Busy;
        }
        if self.phase == Phase::Busy && self.activity.finished.load(Ordering::Acquire) == started {
            self.phase = Phase::Idle {
                since: Instant::now(),
            };
        }
    }

    fn on_read(&mut self, read: &[u8]) {
        self.refresh();
        if let Phase::Idle { .. } = self.phase {
            self.phase = Phase::Head {
                since: Instant::now(),
            };
            self.head.clear();
        }
        if let Phase::Head { .. } = self.phase
            && self.head.len() < HEAD_KEPT
        {
            let take = (HEAD_KEPT - self.head.len()).min(read.len());
            self.head.extend_from_slice(&read[..take]);
        }
    }

    /// With nothing to read: an error once the phase has lasted too long.
    fn poll_deadline(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.refresh();
        let (deadline, why) = match self.phase {
            Phase::Busy => {
                self.activity.wake_reader_when_done(cx.waker());
                // The last request may have ended in between.
                if self.activity.finished.load(Ordering::Acquire) == self.seen {
                    cx.waker().wake_by_ref();
                }
                return Poll::Pending;
            }
            Phase::Idle { since } => (
                since + self.timeouts.idle,
                "idle between requests for --idle-timeout",
            ),
            Phase::Head { since } => (
                since + self.timeouts.header_read,
                "no complete request head within --header-read-timeout",
            ),
        };
        let timer = self
            .timer
            .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(deadline)));
        if self.armed != Some(deadline) {
            timer.as_mut().reset(deadline);
            self.armed = Some(deadline);
        }
        ready!(timer.as_mut().poll(cx));
        tracing::debug!("closing a connection: {why}");
        Poll::Ready(Err(io::Error::new(io::ErrorKind::TimedOut, why)))
    }

    /// Closes the connection. After a refusal that left the client
    /// sending (a body too large, a head too large), a plain close would
    /// reset the connection, and a client that reads only once it has sent
    /// everything (Python's `urllib` and `requests`, without
    /// `Expect: 100-continue`) would see the reset, not the answer: the
    /// sending side is shut first, then what still comes is read and
    /// dropped, up to [`LINGER`], as nginx's lingering close does.
    fn poll_close(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let linger =
            matches!(self.answer, Answer::Written) || self.activity.unread.load(Ordering::Acquire);
        if !linger {
            return Pin::new(&mut self.stream).poll_shutdown(cx);
        }
        let until = match self.lingering {
            Some(until) => until,
            None => {
                ready!(Pin::new(&mut self.stream).poll_shutdown(cx))?;
                let until = Instant::now() + LINGER;
                self.lingering = Some(until);
                until
            }
        };
        let mut scratch = [0u8; 8192];
        loop {
            if Instant::now() >= until {
                return Poll::Ready(Ok(()));
            }
            let mut buf = ReadBuf::new(&mut scratch);
            match Pin::new(&mut self.stream).poll_read(cx, &mut buf) {
                Poll::Ready(Ok(())) if buf.filled().is_empty() => return Poll::Ready(Ok(())),
                Poll::Ready(Ok(())) => {}
                Poll::Ready(Err(_)) => return Poll::Ready(Ok(())),
                Poll::Pending => {
                    let timer = self
                        .timer
                        .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(until)));
                    if self.armed != Some(until) {
                        timer.as_mut().reset(until);
                        self.armed = Some(until);
                    }
                    ready!(timer.as_mut().poll(cx));
                    return Poll::Ready(Ok(()));
                }
            }
        }
    }

    /// Writes the answer that replaces hyper's.
    fn poll_answer(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if let Answer::Writing { bytes, at } = &mut self.answer {
            while *at < bytes.len() {
                let n = ready!(Pin::new(&mut self.stream).poll_write(cx, &bytes[*at..]))?;
                if n == 0 {
                    return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
                }
                *at += n;
            }
            self.answer = Answer::Written;
        }
        Poll::Ready(Ok(()))
    }
}

impl AsyncRead for Guarded {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        match Pin::new(&mut this.stream).poll_read(cx, buf) {
            Poll::Ready(Ok(())) => {
                let read = &buf.filled()[before..];
                if !read.is_empty() {
                    this.on_read(read);
                }
                Poll::Ready(Ok(()))
            }
            Poll::Pending => this.poll_deadline(cx),
            failed => failed,
        }
    }
}

impl AsyncWrite for Guarded {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        match this.answer {
            Answer::Written => return Poll::Ready(Ok(buf.len())),
            Answer::Writing { .. } => return this.poll_answer(cx).map_ok(|()| buf.len()),
            Answer::Passing => {}
        }
        if let Phase::Head { .. } = this.phase {
            this.refresh();
            // Still no request started: hyper is answering a head it
            // refused.
            if let Phase::Head { .. } = this.phase
                && let Some(bytes) = replacement(buf, &this.head)
            {
                this.answer = Answer::Writing { bytes, at: 0 };
                return this.poll_answer(cx).map_ok(|()| buf.len());
            }
        }
        Pin::new(&mut this.stream).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if matches!(this.answer, Answer::Passing) && !matches!(this.phase, Phase::Head { .. }) {
            return Pin::new(&mut this.stream).poll_write_vectored(cx, bufs);
        }
        // hyper writes the head of an answer in one buffer.
        let first = bufs
            .iter()
            .find(|b| !b.is_empty())
            .map_or(&[][..], |b| &**b);
        Pin::new(this).poll_write(cx, first)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        ready!(this.poll_answer(cx))?;
        Pin::new(&mut this.stream).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        ready!(this.poll_answer(cx))?;
        this.poll_close(cx)
    }
}

/// The answer to send instead of `written`, when `written` is hyper's own
/// refusal of a request head (a 400, 414 or 431 with no body, closing the
/// connection); `head` is the start of that request.
fn replacement(written: &[u8], head: &[u8]) -> Option<Vec<u8>> {
    let rest = written
        .strip_prefix(b"HTTP/1.1 ")
        .or_else(|| written.strip_prefix(b"HTTP/1.0 "))?;
    let code: u16 = std::str::from_utf8(rest.get(..3)?).ok()?.parse().ok()?;
    let status = StatusCode::from_u16(code).ok()?;
    if !matches!(
        status,
        StatusCode::BAD_REQUEST
            | StatusCode::URI_TOO_LONG
            | StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE
    ) {
        return None;
    }
    let end = find(written, b"\r\n\r\n")?;
    let lines = &written[..end + 2];
    if find(lines, b"\r\ncontent-length: 0\r\n").is_none()
        || find(lines, b"\r\nconnection: close\r\n").is_none()
    {
        return None;
    }
    let date = lines
        .split(|&b| b == b'\n')
        .find_map(|line| line.strip_prefix(b"date: "))
        .map(<[u8]>::trim_ascii_end);
    let path = requested_path(head);
    let api = crate::paths::api_of(&path);
    tracing::debug!(
        status = status.as_u16(),
        path,
        "the HTTP layer refused a request head; answering in the API's format"
    );
    Some(boundary::raw_refusal(
        api,
        status,
        &boundary::http_layer_message(status),
        date,
    ))
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// The path of a request line's target, as far as `head` has it.
fn requested_path(head: &[u8]) -> String {
    let line = head
        .split(|&b| b == b'\r' || b == b'\n')
        .next()
        .unwrap_or(b"");
    let target = line.split(|&b| b == b' ').nth(1).unwrap_or(b"");
    let target = String::from_utf8_lossy(target);
    let target = target.split(['?', '#']).next().unwrap_or("");
    // The absolute form (`GET http://host/path`) names the host first.
    match target
        .strip_prefix("http://")
        .or_else(|| target.strip_prefix("https://"))
    {
        Some(rest) => rest.find('/').map_or("/", |at| &rest[at..]).to_owned(),
        None => target.to_owned(),
    }
}

/// Why `accept` failed, for what to do next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AcceptFailure {
    /// One connection's trouble (reset before it was accepted): try the
    /// next at once.
    OneConnection,
    /// The process or the system is out of file descriptors.
    OutOfDescriptors,
    /// Anything else (out of memory or buffers, …).
    Other,
}

impl AcceptFailure {
    pub fn of(error: &io::Error) -> Self {
        use io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset, Interrupted};
        if matches!(
            error.kind(),
            ConnectionAborted | ConnectionRefused | ConnectionReset | Interrupted
        ) {
            return Self::OneConnection;
        }
        match error.raw_os_error() {
            #[cfg(unix)]
            Some(libc::EMFILE | libc::ENFILE) => Self::OutOfDescriptors,
            _ => Self::Other,
        }
    }
}

/// What to do after an `accept` failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pause {
    /// How long to wait before accepting again.
    pub wait: Duration,
    /// Whether this failure starts a run of them (say so once).
    pub first: bool,
}

/// A run of failed accepts that has ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Recovery {
    /// How many accepts failed.
    pub failures: u64,
    /// From the first failure to the last.
    pub over: Duration,
}

/// The pause between failed accepts, growing while they keep failing: a
/// connection waiting in the listen queue would otherwise make every retry
/// fail at once, spinning a core and writing a log line each time.
///
/// A run of failures is said once, when it starts, and once when it ends:
/// at the first accept that works a second ([`AcceptBackoff::QUIET`]) or
/// more after the last failure. While descriptors free up one by one, an
/// accept works, the next fails, and so on: that is still the same run.
#[derive(Debug, Default)]
pub struct AcceptBackoff {
    run: Option<Run>,
}

#[derive(Debug, Clone, Copy)]
struct Run {
    since: Instant,
    last_failure: Instant,
    failures: u64,
    /// The last pause.
    wait: Duration,
    /// Whether the last accept failed.
    failing: bool,
}

impl AcceptBackoff {
    /// The first pause.
    pub const FIRST_PAUSE: Duration = Duration::from_millis(5);
    /// The longest pause: how late, at most, the loop notices that
    /// descriptors are free again.
    pub const MAX_PAUSE: Duration = Duration::from_secs(1);
    /// How long accepts must go without failing for a run to be over.
    pub const QUIET: Duration = Duration::from_secs(1);

    /// After a failed accept: the pause, or `None` to retry at once.
    pub fn failed(&mut self, failure: AcceptFailure, now: Instant) -> Option<Pause> {
        if failure == AcceptFailure::OneConnection {
            return None;
        }
        let Some(run) = self.run.as_mut() else {
            self.run = Some(Run {
                since: now,
                last_failure: now,
                failures: 1,
                wait: Self::FIRST_PAUSE,
                failing: true,
            });
            return Some(Pause {
                wait: Self::FIRST_PAUSE,
                first: true,
            });
        };
        run.failures += 1;
        run.last_failure = now;
        run.wait = if run.failing {
            (run.wait * 2).min(Self::MAX_PAUSE)
        } else {
            Self::FIRST_PAUSE
        };
        run.failing = true;
        Some(Pause {
            wait: run.wait,
            first: false,
        })
    }

    /// After an accept that worked: the run of failures it ends, if any.
    pub fn accepted(&mut self, now: Instant) -> Option<Recovery> {
        let run = self.run.as_mut()?;
        if now.saturating_duration_since(run.last_failure) < Self::QUIET {
            run.failing = false;
            return None;
        }
        let run = self.run.take()?;
        Some(Recovery {
            failures: run.failures,
            over: run.last_failure.saturating_duration_since(run.since),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn emfile() -> io::Error {
        io::Error::from_raw_os_error(libc::EMFILE)
    }

    #[test]
    fn running_out_of_descriptors_pauses_longer_each_time_and_warns_once() {
        let start = Instant::now();
        let mut backoff = AcceptBackoff::default();
        let failure = AcceptFailure::of(&emfile());
        assert_eq!(failure, AcceptFailure::OutOfDescriptors);
        let pauses: Vec<Pause> = (0..12)
            .map(|i| {
                backoff
                    .failed(failure, start + Duration::from_millis(i))
                    .unwrap()
            })
            .collect();
        let waits: Vec<u64> = pauses.iter().map(|p| p.wait.as_millis() as u64).collect();
        assert_eq!(
            waits,
            [5, 10, 20, 40, 80, 160, 320, 640, 1000, 1000, 1000, 1000]
        );
        let warnings = pauses.iter().filter(|p| p.first).count();
        assert_eq!(warnings, 1);
        assert!(pauses[0].first);
    }

    #[test]
    fn a_run_ends_at_the_first_accept_a_second_after_the_last_failure() {
        let start = Instant::now();
        let at = |ms| start + Duration::from_millis(ms);
        let mut backoff = AcceptBackoff::default();
        assert_eq!(backoff.accepted(start), None);
        for ms in [0, 5, 15] {
            backoff.failed(AcceptFailure::OutOfDescriptors, at(ms));
        }
        // Descriptors free up one by one: accepts and failures alternate,
        // the pause starts small again, and it is all one run.
        assert_eq!(backoff.accepted(at(400)), None);
        assert_eq!(
            backoff.failed(AcceptFailure::OutOfDescriptors, at(401)),
            Some(Pause {
                wait: AcceptBackoff::FIRST_PAUSE,
                first: false
            })
        );
        assert_eq!(backoff.accepted(at(1400)), None);
        assert_eq!(
            backoff.accepted(at(1401)),
            Some(Recovery {
                failures: 4,
                over: Duration::from_millis(401)
            })
        );
        assert_eq!(backoff.accepted(at(1500)), None);
        let again = backoff.failed(AcceptFailure::Other, at(2000)).unwrap();
        assert_eq!(
            again,
            Pause {
                wait: AcceptBackoff::FIRST_PAUSE,
                first: true
            }
        );
    }

    #[test]
    fn one_connections_failure_is_retried_at_once_without_a_word() {
        let mut backoff = AcceptBackoff::default();
        let reset = io::Error::from(io::ErrorKind::ConnectionAborted);
        assert_eq!(AcceptFailure::of(&reset), AcceptFailure::OneConnection);
        assert_eq!(
            backoff.failed(AcceptFailure::OneConnection, Instant::now()),
            None
        );
        assert_eq!(backoff.accepted(Instant::now()), None);
        assert_eq!(
            AcceptFailure::of(&io::Error::from_raw_os_error(libc::ENFILE)),
            AcceptFailure::OutOfDescriptors
        );
        assert_eq!(
            AcceptFailure::of(&io::Error::from_raw_os_error(libc::ENOMEM)),
            AcceptFailure::Other
        );
    }

    #[test]
    fn hypers_own_refusal_is_replaced_in_the_format_of_the_requested_api() {
        let hyper = b"HTTP/1.1 414 URI Too Long\r\nconnection: close\r\ncontent-length: 0\r\ndate: Mon, 30 Nov 2026 15:00:00 GMT\r\n\r\n";
        let head = b"GET /__ns/t1/api/v1/users?aaaaaaaaaaaaaaaaaaaaaaaa";
        let answer = String::from_utf8(replacement(hyper, head).unwrap()).unwrap();
        assert!(
            answer.starts_with(
                "HTTP/1.1 414 URI Too Long\r\ncontent-type: application/json; charset=utf-8\r\n"
            ),
            "{answer}"
        );
        assert!(answer.contains("\r\ndate: Mon, 30 Nov 2026 15:00:00 GMT\r\n"));
        assert!(answer.ends_with(
            "\r\n\r\n{\"success\":false,\"error\":\"URI too long: the request target is longer than the 16384 bytes doublure accepts\"}"
        ));
        // An answer of the service's, even a 400, goes through.
        let ours = b"HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}";
        assert_eq!(replacement(ours, head), None);
        let ok = b"HTTP/1.1 200 OK\r\nconnection: close\r\ncontent-length: 0\r\n\r\n";
        assert_eq!(replacement(ok, head), None);
    }

    #[test]
    fn the_requested_path_is_read_from_whatever_part_of_the_head_arrived() {
        assert_eq!(
            requested_path(b"GET /oauth/token HTTP/1.1\r\nHost: x"),
            "/oauth/token"
        );
        assert_eq!(requested_path(b"POST /api/user/?aaaa"), "/api/user/");
        assert_eq!(
            requested_path(b"GET http://h.test:8080/__doublure/state HTTP/1.1"),
            "/__doublure/state"
        );
        assert_eq!(requested_path(b"\x16\x03\x01 binary"), "binary");
        assert_eq!(requested_path(b""), "");
    }
}
