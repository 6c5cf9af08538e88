//! Cross-site control calls: a web page on another origin must not drive
//! the control plane. A page can send a `text/plain` POST anywhere without
//! a CORS preflight, so without this a page on any site a developer visits
//! could reset, reload or rewrite a local doublure that has no admin token.
//!
//! Browsers put an `Origin` header on every cross-origin call, and on
//! same-origin calls but GET and HEAD; tools (curl, test clients) send none.
//! A control-plane call whose `Origin` is not doublure's own is refused
//! with 403, unless `--admin-cors-origin` lists it. doublure's own origin is
//! its `--public-url`'s, or the one the request's `Host` names: what a
//! browser sends from a page doublure serves (the console at
//! `/__doublure/ui/`), whatever address it was opened at. Health stays
//! open to all.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::error::AdminError;
use crate::config::{CorsOrigins, Settings};

/// Which origins may call the control plane.
#[derive(Debug, Clone)]
pub struct Rules {
    /// `--public-url`'s origin, normalized.
    own: Option<String>,
    /// `--admin-cors-origin`, normalized.
    listed: CorsOrigins,
}

impl Rules {
    pub fn new(settings: &Settings) -> Self {
        let listed = match &settings.admin_cors {
            CorsOrigins::Any => CorsOrigins::Any,
            CorsOrigins::List(list) => {
                CorsOrigins::List(list.iter().filter_map(|o| normalize(o)).collect())
            }
        };
        Self {
            own: origin_of_url(&settings.public_url),
            listed,
        }
    }

    /// Whether a call with `Origin: origin`, to `Host: host`, may go on.
    pub fn allows(&self, origin: &str, host: Option<&str>) -> bool {
        let Some(origin) = normalize(origin) else {
            // `null` (a sandboxed frame, a file), or not an origin at all.
            return false;
        };
        if self.own.as_deref() == Some(origin.as_str()) {
            return true;
        }
        // A page doublure served, at the address the browser used; the
        // scheme is a TLS proxy's business, so either matches.
        let authority = origin.split_once("://").map_or("", |(_, a)| a);
        if let Some(host) = host
            && strip_default_port(&host.trim().to_ascii_lowercase()) == authority
        {
            return true;
        }
        match &self.listed {
            CorsOrigins::Any => true,
            CorsOrigins::List(list) => list.contains(&origin),
        }
    }
}

/// `scheme://host[:port]`, lowercase, without the scheme's default port;
/// `None` when `origin` is not an http(s) origin.
fn normalize(origin: &str) -> Option<String> {
    let origin = origin.trim().trim_end_matches('/').to_ascii_lowercase();
    let (scheme, authority) = origin.split_once("://")?;
    if !matches!(scheme, "http" | "https") || authority.is_empty() || authority.contains('/') {
        return None;
    }
    let authority = match (scheme, authority.rsplit_once(':')) {
        ("http", Some((host, "80"))) | ("https", Some((host, "443"))) => host,
        _ => authority,
    };
    Some(format!("{scheme}://{authority}"))
}

fn strip_default_port(host: &str) -> &str {
    host.strip_suffix(":80")
        .or_else(|| host.strip_suffix(":443"))
        .unwrap_or(host)
}

/// The origin of an absolute URL (`--public-url` may have a path).
fn origin_of_url(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    normalize(&format!("{scheme}://{authority}"))
}

/// Middleware on the control plane: refuses a call from a web page on an
/// origin that is neither doublure's own nor listed.
pub async fn refuse_cross_site(
    State(rules): State<Arc<Rules>>,
    request: Request,
    next: Next,
) -> Response {
    let Some(origin) = request.headers().get(header::ORIGIN) else {
        return next.run(request).await;
    };
    if request.uri().path() == "/__doublure/health" {
        return next.run(request).await;
    }
    let origin = String::from_utf8_lossy(origin.as_bytes()).into_owned();
    let host = request
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(str::to_owned)
        // An HTTP/1.1 request line in absolute form, or HTTP/2, names the
        // host in the URI instead.
        .or_else(|| request.uri().authority().map(|a| a.as_str().to_owned()));
    if rules.allows(&origin, host.as_deref()) {
        return next.run(request).await;
    }
    tracing::info!(
        method = %request.method(),
        path = request.uri().path(),
        origin,
        "cross-site control-plane call refused"
    );
    AdminError::Forbidden(format!(
        "cross-site call refused: pages at {origin} may not drive doublure's control plane; \
         start doublure with --admin-cors-origin {origin} to allow them"
    ))
    .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(public_url: &str, listed: CorsOrigins) -> Rules {
        Rules::new(&Settings {
            public_url: public_url.to_owned(),
            admin_cors: listed,
            ..Settings::for_tests()
        })
    }

    #[test]
    fn doublures_own_origin_is_its_public_urls_or_the_hosts() {
        let r = rules("https://doublure.test/base", CorsOrigins::List(vec![]));
        assert!(r.allows("https://doublure.test", None));
        assert!(r.allows("https://DOUBLURE.test:443", None));
        assert!(!r.allows("http://doublure.test", None));
        assert!(r.allows("http://localhost:8080", Some("localhost:8080")));
        assert!(r.allows("https://proxy.test", Some("proxy.test:443")));
        assert!(r.allows("http://127.0.0.1", Some("127.0.0.1:80")));
        assert!(!r.allows("http://localhost:8081", Some("localhost:8080")));
        assert!(!r.allows("http://evil.test", Some("localhost:8080")));
        assert!(!r.allows("null", Some("localhost:8080")));
        assert!(!r.allows("localhost:8080", Some("localhost:8080")));
    }

    #[test]
    fn listed_origins_and_a_star_let_other_pages_in() {
        let r = rules(
            "http://localhost:8080",
            CorsOrigins::List(vec!["https://demo.test".into()]),
        );
        assert!(r.allows("https://demo.test", Some("localhost:8080")));
        assert!(r.allows("https://demo.test:443", Some("localhost:8080")));
        assert!(!r.allows("http://demo.test", Some("localhost:8080")));
        let any = rules("http://localhost:8080", CorsOrigins::Any);
        assert!(any.allows("http://anywhere.test", Some("localhost:8080")));
        assert!(!any.allows("null", Some("localhost:8080")));
    }
}
