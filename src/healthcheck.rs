//! `doublure healthcheck`: asks a running doublure for its health, so a
//! Docker HEALTHCHECK works in an image that has no curl.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use http_body_util::Empty;
use hyper::body::Bytes;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

/// The health URL for a server listening on `listen`, over HTTPS when
/// `tls` says that port serves it: an unspecified address (0.0.0.0, ::)
/// is reached on loopback.
pub fn default_url(listen: SocketAddr, tls: bool) -> String {
    let ip = match listen.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    let scheme = if tls { "https" } else { "http" };
    format!(
        "{scheme}://{}/__doublure/health",
        SocketAddr::new(ip, listen.port())
    )
}

/// `Ok` when `url` answers 200 within five seconds; otherwise why not.
pub async fn check(url: &str) -> Result<(), String> {
    let uri: hyper::Uri = url
        .parse()
        .map_err(|e| format!("invalid URL {url:?}: {e}"))?;
    if uri.scheme_str() == Some("https") {
        return check_https(url).await;
    }
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

/// [`check`] over HTTPS. The probe asks whether doublure answers, not who
/// it is: it runs beside the server (a container's HEALTHCHECK), which
/// may serve a certificate from a CA made in memory, or one for other
/// names (--tls-cert), so the certificate is not checked here, and only
/// here.
async fn check_https(url: &str) -> Result<(), String> {
    let client = reqwest::Client::builder()
        .danger_accept_invalid_certs(true)
        .timeout(Duration::from_secs(5))
        .build()
        .map_err(|e| format!("{url}: {e}"))?;
    let response = client.get(url).send().await.map_err(|e| {
        if e.is_timeout() {
            format!("{url}: no answer within 5 s")
        } else {
            format!("{url}: {e}")
        }
    })?;
    if response.status() == reqwest::StatusCode::OK {
        Ok(())
    } else {
        Err(format!("{url}: HTTP {}", response.status()))
    }
}
