//! HTTPS and HTTP/2 on a connection: the TLS handshake, bounded by
//! `--header-read-timeout` as the head that follows it is, and hyper's
//! builder for both protocols.
//!
//! HTTP/2 is chosen by ALPN on TLS (rustls offers `h2` first, as nginx
//! and Caddy do), and by its connection preface on a plain port (h2c with
//! prior knowledge, RFC 9113 §3.3); hyper-util's `auto` builder reads the
//! preface either way. Every HTTP/2 stream is one request to the same
//! service as an HTTP/1.1 request, so the body timeouts, the size limits
//! of `boundary` and the journal apply to each stream; the connection's
//! phase (`Guarded`) counts the streams in flight.

use std::sync::Arc;
use std::time::Duration;

use hyper_util::rt::TokioExecutor;
use hyper_util::server::conn::auto::Builder;
use tokio::net::TcpStream;
use tokio_rustls::server::TlsStream;

/// Largest header block of an HTTP/2 request, decoded (RFC 9113 §6.5.2
/// `SETTINGS_MAX_HEADER_LIST_SIZE`): about what hyper's HTTP/1.1 reader
/// takes before it answers 431.
const MAX_HEADER_LIST: u32 = 64 << 10;

/// Streams one HTTP/2 connection may have open at once (nginx's
/// `http2_max_concurrent_streams` default is 128).
const MAX_STREAMS: u32 = 128;

/// Accepts TLS connections with doublure's certificate.
#[derive(Clone)]
pub struct TlsAcceptor(tokio_rustls::TlsAcceptor);

impl TlsAcceptor {
    pub fn new(config: Arc<rustls::ServerConfig>) -> Self {
        Self(tokio_rustls::TlsAcceptor::from(config))
    }
}

impl std::fmt::Debug for TlsAcceptor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TlsAcceptor")
    }
}

/// The TLS session of `stream`, or none when the handshake failed or did
/// not finish within `timeout` (a client that connects and sends nothing,
/// or too slowly, holds no socket longer than a slow head would).
pub(super) async fn handshake(
    acceptor: &TlsAcceptor,
    stream: TcpStream,
    timeout: Duration,
) -> Option<TlsStream<TcpStream>> {
    match tokio::time::timeout(timeout, acceptor.0.accept(stream)).await {
        Ok(Ok(session)) => Some(session),
        Ok(Err(e)) => {
            tracing::debug!("TLS handshake failed: {e}");
            None
        }
        Err(_) => {
            tracing::debug!("closing a connection: no TLS handshake within --header-read-timeout");
            None
        }
    }
}

/// hyper's server for HTTP/1.1 and HTTP/2.
pub(super) fn builder() -> Builder<TokioExecutor> {
    let mut builder = Builder::new(TokioExecutor::new());
    builder
        .http2()
        .max_header_list_size(MAX_HEADER_LIST)
        .max_concurrent_streams(MAX_STREAMS);
    builder
}
