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
//!   `--header-read-timeout` after its first byte; a busy one is cut only
//!   when its request body stops arriving for `--body-read-timeout` (the
//!   body, [`activity::Watched`], fails and the API answers 408), or when
//!   the client stops reading its answer for `--write-timeout` (a write
//!   that makes no progress that long fails, and the connection and the
//!   rest of its answer are dropped).
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

mod activity;
mod backoff;
mod guarded;
mod refusal;
mod secure;

pub use backoff::{AcceptBackoff, AcceptFailure};

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::Request;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::time::Instant;
use tower::ServiceExt;

use activity::{Activity, Ticket, Tracked, Watched};
use guarded::Guarded;
pub use secure::TlsAcceptor;

/// What answers every request.
type App = crate::routing::Dispatcher;

/// How long a connection may take over its request head, and sit idle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// From the first byte of a request head to its end.
    pub header_read: Duration,
    /// Between requests, nothing in flight and nothing read.
    pub idle: Duration,
    /// While a request body is read, between two pieces of it.
    pub body_read: Duration,
    /// While an answer is written, between two writes that made progress.
    pub write: Duration,
}

/// Serves `app` on `listener` until `shutdown` completes, then stops
/// accepting and waits for the requests in flight to be answered; over
/// TLS when `tls` is given.
pub async fn serve(
    listener: TcpListener,
    app: App,
    timeouts: Timeouts,
    tls: Option<TlsAcceptor>,
    shutdown: impl Future<Output = ()>,
) -> io::Result<()> {
    let builder = secure::builder();
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
                    tls.as_ref(),
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

/// Serves one connection in a task of its own, after its TLS handshake
/// when `tls` is given.
fn spawn_connection(
    stream: TcpStream,
    app: App,
    builder: &Builder<TokioExecutor>,
    timeouts: Timeouts,
    tls: Option<&TlsAcceptor>,
    mut stop: watch::Receiver<()>,
    alive: watch::Receiver<()>,
) {
    let builder = builder.clone();
    match tls {
        None => {
            tokio::spawn(serve_connection(
                stream, app, builder, timeouts, stop, alive,
            ));
        }
        Some(acceptor) => {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let handshake = tokio::select! {
                    done = secure::handshake(&acceptor, stream, timeouts.header_read) => done,
                    _ = stop.changed() => None,
                };
                if let Some(stream) = handshake {
                    serve_connection(stream, app, builder, timeouts, stop, alive).await;
                }
            });
        }
    }
}

/// Serves one connection, plain or TLS, HTTP/1.1 or HTTP/2, until it ends
/// or the server stops.
async fn serve_connection<S>(
    stream: S,
    app: App,
    builder: Builder<TokioExecutor>,
    timeouts: Timeouts,
    mut stop: watch::Receiver<()>,
    alive: watch::Receiver<()>,
) where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
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
                timeout: timeouts.body_read,
                stalled: None,
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
    let connection = builder.serve_connection_with_upgrades(io, service);
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
}
