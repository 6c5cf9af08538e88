//! `doublure healthcheck`: asks a running doublure for its health, so a
//! Docker HEALTHCHECK works in an image that has no curl.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use http_body_util::Empty;
use hyper::body::Bytes;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

/// The health URL for a server listening on `listen`: an unspecified
/// address (0.0.0.0, ::) is reached on loopback.
pub fn default_url(listen: SocketAddr) -> String {
    let ip = match listen.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    format!(
        "http://{}/__doublure/health",
        SocketAddr::new(ip, listen.port())
    )
}

/// `Ok` when `url` answers 200 within five seconds; otherwise why not.
pub async fn check(url: &str) -> Result<(), String> {
    let uri: hyper::Uri = url
        .parse()
        .map_err(|e| format!("invalid URL {url:?}: {e}"))?;
    let client = Client::builder(TokioExecutor::new()).build_http::<Empty<Bytes>>();
    let response = tokio::time::timeout(Duration::from_secs(5), client.get(uri))
        .await
        .map_err(|_| format!("{url}: no answer within 5 s"))?
        .map_err(|e| format!("{url}: {e}"))?;
    if response.status() == hyper::StatusCode::OK {
        Ok(())
    } else {
        Err(format!("{url}: HTTP {}", response.status()))
    }
}
