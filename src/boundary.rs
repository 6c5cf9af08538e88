//! The edge every request crosses before a handler sees it: doublure's
//! limits on the request target, the headers and the body, and refusals in
//! the format of the API the path belongs to: Doorkeeper's JSON on
//! `/oauth/*`, Logora's on `/api/v1/*`, w.c.s.'s on its paths, the control
//! plane's on `/__doublure/*` (a path under `/__ns/{name}/` counts as its
//! tail), plain text elsewhere.
//!
//! [`guard`] enforces the limits in front of the routers, so a refusal is
//! journaled, carries CORS headers and says what was too large. The HTTP
//! layer underneath has its own, higher limits (a 65,534-byte request
//! target, [`MAX_HEADERS`] header fields, about 400 KB of head) and answers
//! past them, or to bytes that are not HTTP, before any router runs and
//! with an empty body; `crate::serve` replaces those answers with
//! [`raw_refusal`]'s.

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http_body::Body as _;
use http_body_util::{BodyExt, LengthLimitError, Limited};
use serde_json::json;

use crate::outcome::Outcome;
use crate::paths::{Api, api_of};

/// Largest request body of the emulated APIs: their bodies are a few
/// OAuth parameters or a w.c.s. preferences object (upstream refuses more
/// than 1000 bytes of it). Fault injection reads bodies up to the same
/// limit.
pub const API_BODY_LIMIT: usize = 2 * 1024 * 1024;

/// Longest request target (path and query): twice what common front
/// servers accept (nginx and Apache: 8 KiB), so that doublure is never the
/// first to refuse a URL.
pub const MAX_TARGET_BYTES: usize = 16 * 1024;

/// Most bytes of request headers, names and values: twice nginx's 32 KiB.
pub const MAX_HEADER_BYTES: usize = 64 * 1024;

/// Most header fields: the HTTP layer's own limit (Apache's too), which it
/// enforces before [`guard`] could.
pub const MAX_HEADERS: usize = 100;

/// The headers and body of a refusal with `status` in `api`'s format,
/// `message` saying what was wrong.
fn parts(
    api: Api,
    status: StatusCode,
    message: &str,
) -> (Vec<(header::HeaderName, HeaderValue)>, Bytes) {
    const JSON: HeaderValue = HeaderValue::from_static("application/json");
    const RAILS_JSON: HeaderValue = HeaderValue::from_static("application/json; charset=utf-8");
    let reason = status.canonical_reason().unwrap_or("Error");
    match api {
        Api::OAuth => (
            vec![
                (header::CONTENT_TYPE, RAILS_JSON),
                (header::CACHE_CONTROL, crate::logora::error::NO_STORE),
            ],
            json!({"error": "invalid_request", "error_description": message})
                .to_string()
                .into(),
        ),
        Api::Logora => (
            vec![(header::CONTENT_TYPE, RAILS_JSON)],
            json!({"success": false, "error": message})
                .to_string()
                .into(),
        ),
        Api::Wcs => {
            // w.c.s.'s own class for what it cannot read is "Invalid
            // request"; the others are the HTTP reason, as for an injected
            // status.
            let (class, code) = if status == StatusCode::BAD_REQUEST {
                ("Invalid request".to_owned(), "invalid-request".to_owned())
            } else {
                (
                    reason.to_owned(),
                    reason.to_ascii_lowercase().replace(' ', "-"),
                )
            };
            let body = json!({"err": 1, "err_class": class, "err_code": code, "err_desc": message});
            (
                vec![(header::CONTENT_TYPE, JSON)],
                crate::wcs::json::dumps(&body).into(),
            )
        }
        Api::Control => (
            vec![(header::CONTENT_TYPE, JSON)],
            json!({"error": message}).to_string().into(),
        ),
        Api::Other => (
            vec![(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/plain; charset=utf-8"),
            )],
            format!("{message}\n").into(),
        ),
    }
}

/// A refusal with `status` in `api`'s format, its outcome `message`.
pub fn refusal(api: Api, status: StatusCode, message: &str) -> Response {
    let (headers, body) = parts(api, status, message);
    let mut response = (status, body).into_response();
    for (name, value) in headers {
        response.headers_mut().insert(name, value);
    }
    Outcome::attach(&mut response, message);
    response
}

/// A refusal as the bytes of a whole HTTP/1.1 answer that closes the
/// connection, for what the HTTP layer refuses itself; `date` is the value
/// of the `Date` header it would have sent.
pub fn raw_refusal(api: Api, status: StatusCode, message: &str, date: Option<&[u8]>) -> Vec<u8> {
    let (headers, body) = parts(api, status, message);
    let mut raw = format!(
        "HTTP/1.1 {} {}\r\n",
        status.as_str(),
        status.canonical_reason().unwrap_or("Error")
    )
    .into_bytes();
    for (name, value) in &headers {
        raw.extend_from_slice(name.as_str().as_bytes());
        raw.extend_from_slice(b": ");
        raw.extend_from_slice(value.as_bytes());
        raw.extend_from_slice(b"\r\n");
    }
    raw.extend_from_slice(format!("content-length: {}\r\n", body.len()).as_bytes());
    raw.extend_from_slice(b"connection: close\r\n");
    if let Some(date) = date {
        raw.extend_from_slice(b"date: ");
        raw.extend_from_slice(date);
        raw.extend_from_slice(b"\r\n");
    }
    raw.extend_from_slice(b"\r\n");
    raw.extend_from_slice(&body);
    raw
}

/// What the HTTP layer says when it refuses a request head itself.
pub fn http_layer_message(status: StatusCode) -> String {
    match status {
        StatusCode::URI_TOO_LONG => format!(
            "URI too long: the request target is longer than the {MAX_TARGET_BYTES} bytes \
             doublure accepts"
        ),
        StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE => format!(
            "request headers too large: doublure accepts up to {MAX_HEADERS} header fields and \
             {MAX_HEADER_BYTES} bytes of headers"
        ),
        _ => {
            "malformed request: the request line or a header line is not valid HTTP/1.1".to_owned()
        }
    }
}

/// Why a body could not be had.
#[derive(Debug)]
pub enum BodyError {
    /// Longer than the limit.
    TooLarge,
    /// The client's body broke off or was not valid framing.
    Unreadable(String),
    /// The body stopped arriving for `--body-read-timeout`.
    TimedOut,
}

/// The error a request body gives when it stopped arriving for
/// `--body-read-timeout` (raised by the connection layer, `crate::serve`).
#[derive(Debug, Clone, Copy)]
pub struct BodyTimedOut;

impl std::fmt::Display for BodyTimedOut {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(BODY_TIMED_OUT)
    }
}

impl std::error::Error for BodyTimedOut {}

/// What a client whose body stopped arriving is told.
pub const BODY_TIMED_OUT: &str = "request timeout: the request body stopped arriving before its \
     end (--body-read-timeout); the connection is closed";

/// Whether `error`, or an error it wraps, is a [`BodyTimedOut`].
pub fn is_body_timeout(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut current = Some(error);
    while let Some(e) = current {
        if e.is::<BodyTimedOut>() {
            return true;
        }
        current = e.source();
    }
    false
}

/// Reads `body` whole, up to `limit` bytes.
pub async fn read_body(body: Body, limit: usize) -> Result<Bytes, BodyError> {
    match Limited::new(body, limit).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(e) if e.downcast_ref::<LengthLimitError>().is_some() => Err(BodyError::TooLarge),
        Err(e) if is_body_timeout(&*e) => Err(BodyError::TimedOut),
        Err(e) => Err(BodyError::Unreadable(e.to_string())),
    }
}

/// A 408 for a body that stopped arriving, in `api`'s format, which
/// closes the connection: what is left of the body would otherwise be
/// read as the next request.
pub fn body_timeout_refusal(api: Api) -> Response {
    let mut response = refusal(api, StatusCode::REQUEST_TIMEOUT, BODY_TIMED_OUT);
    response
        .headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    response
}

/// The refusal of a body that [`read_body`] could not have, as the API of
/// `path` answers it.
pub fn body_refusal(path: &str, limit: usize, error: &BodyError) -> Response {
    let api = api_of(path);
    match error {
        BodyError::TooLarge => refusal(
            api,
            StatusCode::PAYLOAD_TOO_LARGE,
            &too_large(api, None, limit),
        ),
        BodyError::Unreadable(why) => refusal(
            api,
            StatusCode::BAD_REQUEST,
            &format!("malformed request: the body could not be read: {why}"),
        ),
        BodyError::TimedOut => body_timeout_refusal(api),
    }
}

fn too_large(api: Api, length: Option<u64>, limit: usize) -> String {
    let length = length.map(|n| format!(" of {n} bytes")).unwrap_or_default();
    if api == Api::Control {
        format!(
            "request body too large: a body{length} is over the {limit} bytes the control plane \
             accepts (--admin-body-limit)"
        )
    } else {
        format!(
            "request body too large: a body{length} is over the {limit} bytes doublure's \
             emulated APIs accept"
        )
    }
}

/// What [`guard`] needs: the control plane's body limit
/// (`--admin-body-limit`).
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub admin_body: usize,
}

/// Middleware in front of the emulated APIs and the control plane: refuses
/// a request target, headers or a body over doublure's limits, and a
/// Logora or control-plane path that is not UTF-8 once percent-decoded
/// (w.c.s. reads such a path lossily, as Python does). A body of the
/// emulated APIs is read here, so that fault matching and the handlers
/// share it.
pub async fn guard(State(limits): State<Limits>, request: Request, next: Next) -> Response {
    guard_then(limits, request, |request| next.run(request)).await
}

/// [`guard`], passing the request on to `then`: the emulated APIs' calls
/// go through it inside the journal's middleware, without a layer of its
/// own (a layer boxes the rest of the stack, and its future, per call).
pub async fn guard_then<F, Fut>(limits: Limits, request: Request, then: F) -> Response
where
    F: FnOnce(Request) -> Fut,
    Fut: Future<Output = Response>,
{
    let path = request.uri().path();
    let api = api_of(path);
    let body_limit = if api == Api::Control {
        limits.admin_body
    } else {
        API_BODY_LIMIT
    };
    if let Some((status, message)) = check_head(&request, api, body_limit) {
        return refusal(api, status, &message);
    }
    if api == Api::Control || request.body().is_end_stream() {
        // The control plane reads its (possibly huge) bodies as it parses
        // them, within the same limit.
        return then(request).await;
    }
    let (parts, body) = request.into_parts();
    match read_body(body, API_BODY_LIMIT).await {
        Ok(bytes) => then(Request::from_parts(parts, Body::from(bytes))).await,
        Err(e) => body_refusal(parts.uri.path(), API_BODY_LIMIT, &e),
    }
}

/// The status and message of a request head over a limit, if it is.
fn check_head(request: &Request, api: Api, body_limit: usize) -> Option<(StatusCode, String)> {
    let uri = request.uri();
    let target = uri
        .path_and_query()
        .map_or(uri.path().len(), |pq| pq.as_str().len());
    if target > MAX_TARGET_BYTES {
        return Some((
            StatusCode::URI_TOO_LONG,
            format!(
                "URI too long: the request target has {target} bytes, and doublure accepts up \
                 to {MAX_TARGET_BYTES}"
            ),
        ));
    }
    // As on the wire: `name: value` and a line break.
    let header_bytes: usize = request
        .headers()
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len() + 4)
        .sum();
    if header_bytes > MAX_HEADER_BYTES {
        return Some((
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            format!(
                "request headers too large: {header_bytes} bytes of headers, and doublure \
                 accepts up to {MAX_HEADER_BYTES}"
            ),
        ));
    }
    let length = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if let Some(length) = length
        && length > body_limit as u64
    {
        return Some((
            StatusCode::PAYLOAD_TOO_LARGE,
            too_large(api, Some(length), body_limit),
        ));
    }
    let path = uri.path();
    if matches!(api, Api::OAuth | Api::Logora | Api::Control)
        && path.contains('%')
        && percent_encoding::percent_decode_str(path)
            .decode_utf8()
            .is_err()
    {
        return Some((
            StatusCode::BAD_REQUEST,
            format!("malformed request: the path {path} is not UTF-8 once percent-decoded"),
        ));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_raw_refusal_is_a_whole_answer_that_closes_the_connection() {
        let raw = raw_refusal(
            Api::Logora,
            StatusCode::URI_TOO_LONG,
            "too long",
            Some(b"Mon, 30 Nov 2026 15:00:00 GMT"),
        );
        assert_eq!(
            String::from_utf8(raw).unwrap(),
            "HTTP/1.1 414 URI Too Long\r\n\
             content-type: application/json; charset=utf-8\r\n\
             content-length: 36\r\n\
             connection: close\r\n\
             date: Mon, 30 Nov 2026 15:00:00 GMT\r\n\
             \r\n\
             {\"success\":false,\"error\":\"too long\"}"
        );
    }
}
