//! The web console at `/__doublure/ui/`: one page of plain HTML, CSS and
//! JavaScript modules (`src/admin/ui/`), compiled into the binary so it
//! works offline and needs no build step.
//!
//! The files load without the admin token (a browser opening the URL has
//! no way to send one, and nothing in them is secret); the page then asks
//! for the token and sends it on every call it makes, all of them to the
//! control plane of its own origin, relative to its own address so it
//! works unchanged under a namespace prefix.

use std::sync::OnceLock;

use axum::Router;
use axum::extract::Path;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use sha2::{Digest, Sha256};

use super::error::AdminError;

/// Where the console is served.
pub const PATH: &str = "/__doublure/ui/";

/// Self only: no inline script or style, nothing from elsewhere, no
/// framing.
const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
    style-src 'self'; img-src 'self'; connect-src 'self'; base-uri 'none'; \
    form-action 'none'; frame-ancestors 'none'";

/// The console's files: name, content type, content.
const FILES: &[(&str, &str, &[u8])] = &[
    (
        "index.html",
        "text/html; charset=utf-8",
        include_bytes!("ui/index.html"),
    ),
    (
        "style.css",
        "text/css; charset=utf-8",
        include_bytes!("ui/style.css"),
    ),
    ("icon.svg", "image/svg+xml", include_bytes!("ui/icon.svg")),
    (
        "app.js",
        "text/javascript; charset=utf-8",
        include_bytes!("ui/app.js"),
    ),
    (
        "api.js",
        "text/javascript; charset=utf-8",
        include_bytes!("ui/api.js"),
    ),
    (
        "dom.js",
        "text/javascript; charset=utf-8",
        include_bytes!("ui/dom.js"),
    ),
    (
        "journal.js",
        "text/javascript; charset=utf-8",
        include_bytes!("ui/journal.js"),
    ),
    (
        "data.js",
        "text/javascript; charset=utf-8",
        include_bytes!("ui/data.js"),
    ),
    (
        "faults.js",
        "text/javascript; charset=utf-8",
        include_bytes!("ui/faults.js"),
    ),
    (
        "clock.js",
        "text/javascript; charset=utf-8",
        include_bytes!("ui/clock.js"),
    ),
    (
        "credentials.js",
        "text/javascript; charset=utf-8",
        include_bytes!("ui/credentials.js"),
    ),
];

/// The console's routes, open to all (see the module doc).
pub fn router() -> Router {
    Router::new()
        .route("/__doublure/ui", get(redirect))
        .route(PATH, get(index))
        .route("/__doublure/ui/{file}", get(file))
}

/// To the address with the slash, which the page's relative links need.
/// Relative, so it holds under a namespace prefix too.
async fn redirect() -> Response {
    (
        StatusCode::PERMANENT_REDIRECT,
        [(header::LOCATION, HeaderValue::from_static("ui/"))],
    )
        .into_response()
}

async fn index(headers: HeaderMap) -> Response {
    serve("index.html", &headers).unwrap_or_else(IntoResponse::into_response)
}

async fn file(Path(name): Path<String>, headers: HeaderMap) -> Response {
    serve(&name, &headers).unwrap_or_else(IntoResponse::into_response)
}

fn serve(name: &str, request: &HeaderMap) -> Result<Response, AdminError> {
    let index = FILES
        .iter()
        .position(|(file, _, _)| *file == name)
        .ok_or_else(|| AdminError::NotFound(format!("the console has no file {name:?}")))?;
    let (_, content_type, body) = FILES[index];
    let etag = &etags()[index];
    // The files change only with the binary: a browser may keep them but
    // asks each time whether a new binary serves new ones.
    let mut headers = HeaderMap::new();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert(header::ETAG, etag.clone());
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    let fresh = request
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|tag| tag.trim() == "*" || tag.trim() == etag);
    if fresh {
        return Ok((StatusCode::NOT_MODIFIED, headers).into_response());
    }
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    Ok((headers, body).into_response())
}

/// One strong validator per file, from its content.
fn etags() -> &'static [HeaderValue] {
    static TAGS: OnceLock<Vec<HeaderValue>> = OnceLock::new();
    TAGS.get_or_init(|| {
        FILES
            .iter()
            .map(|(_, _, body)| {
                let digest = Sha256::digest(body);
                let hex: String = digest[..12].iter().map(|b| format!("{b:02x}")).collect();
                HeaderValue::from_str(&format!("\"{hex}\""))
                    .unwrap_or(HeaderValue::from_static("\"0\""))
            })
            .collect()
    })
}
