//! `Guarded`, a connection's IO: its phase (idle, reading a head, busy),
//! the two timeouts that follow from it, the write timeout, and the
//! lingering close after a refusal.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::time::{Instant, Sleep};

use super::Timeouts;
use super::activity::Activity;
use super::refusal::replacement;

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
pub(super) struct Guarded<S = TcpStream> {
    /// The socket, or the TLS session over it: `Guarded` sees what hyper
    /// reads and writes.
    stream: S,
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
    /// Set when a write first finds the socket full, at the deadline
    /// `--write-timeout` after; cleared by a write that makes progress.
    /// A client that reads its answers never allocates it.
    write_stall: Option<Pin<Box<Sleep>>>,
    /// Whether `write_stall` counts down (a write is waiting).
    stalled: bool,
}

impl<S: AsyncRead + AsyncWrite + Unpin> Guarded<S> {
    pub(super) fn new(stream: S, activity: Arc<Activity>, timeouts: Timeouts) -> Self {
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
            write_stall: None,
            stalled: false,
        }
    }

    /// After a write to the socket: progress clears the write deadline; a
    /// full socket sets it, and past it the write fails, which ends the
    /// connection and drops the rest of its answer.
    fn on_write<T>(
        &mut self,
        cx: &mut Context<'_>,
        written: Poll<io::Result<T>>,
    ) -> Poll<io::Result<T>> {
        if written.is_ready() {
            self.stalled = false;
            return written;
        }
        let deadline = Instant::now() + self.timeouts.write;
        let stall = self
            .write_stall
            .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(deadline)));
        if !self.stalled {
            stall.as_mut().reset(deadline);
            self.stalled = true;
        }
        ready!(stall.as_mut().poll(cx));
        const WHY: &str = "the client read nothing of its answer for --write-timeout";
        tracing::debug!("closing a connection: {WHY}");
        Poll::Ready(Err(io::Error::new(io::ErrorKind::TimedOut, WHY)))
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
        // Each answer moves the idle deadline later. A timer set to an
        // earlier deadline is left as it is (a reset takes the runtime's
        // timer lock, once per request), and set again when it fires early:
        // the connection still closes at its deadline, not before.
        if self.armed.is_none_or(|armed| armed > deadline) {
            timer.as_mut().reset(deadline);
            self.armed = Some(deadline);
        }
        loop {
            ready!(timer.as_mut().poll(cx));
            if Instant::now() >= deadline {
                break;
            }
            timer.as_mut().reset(deadline);
            self.armed = Some(deadline);
        }
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

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncRead for Guarded<S> {
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

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncWrite for Guarded<S> {
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
        let written = Pin::new(&mut this.stream).poll_write(cx, buf);
        this.on_write(cx, written)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if matches!(this.answer, Answer::Passing) && !matches!(this.phase, Phase::Head { .. }) {
            let written = Pin::new(&mut this.stream).poll_write_vectored(cx, bufs);
            return this.on_write(cx, written);
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
