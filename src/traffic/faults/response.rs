//! What a fired fault answers: an error status in the format of the API
//! the path belongs to, or a connection dropped mid-answer.

use axum::body::{Body, Bytes};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::paths::{Api, api_of};

/// An error answer with `status` in the format of the API `path` belongs to.
pub fn error_response(path: &str, status: StatusCode, retry_after: Option<u64>) -> Response {
    let reason = status.canonical_reason().unwrap_or("Error");
    let body = match api_of(path) {
        // Upstream: Doorkeeper's own error codes for an overloaded or
        // failing authorization server (RFC 6749 §4.1.2.1).
        Api::OAuth => {
            let (error, description) = match status.as_u16() {
                429 | 503 => (
                    "temporarily_unavailable",
                    "The authorization server is temporarily unable to handle the request due to a temporary overloading or maintenance of the server.",
                ),
                500..=599 => (
                    "server_error",
                    "The authorization server encountered an unexpected condition which prevented it from fulfilling the request.",
                ),
                _ => (
                    "invalid_request",
                    "The request is missing a required parameter, includes an unsupported parameter value, or is otherwise malformed.",
                ),
            };
            json!({"error": error, "error_description": description})
        }
        Api::Logora => json!({"success": false, "error": reason}),
        // Upstream: w.c.s. answers an unhandled exception with `{"err": 1}`.
        // Its shape also serves the paths of no API (faults only ever
        // answer what is not the control plane).
        Api::Wcs | Api::Control | Api::Other if status == StatusCode::INTERNAL_SERVER_ERROR => {
            json!({"err": 1})
        }
        Api::Wcs | Api::Control | Api::Other => json!({
            "err": 1,
            "err_class": reason,
            "err_code": reason.to_ascii_lowercase().replace(' ', "-"),
            "err_desc": null,
        }),
    };
    let mut response = (status, axum::Json(body)).into_response();
    let retry_after = retry_after.or((status == StatusCode::TOO_MANY_REQUESTS).then_some(1));
    if let Some(seconds) = retry_after {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
    }
    response
}

/// A body that fails at once: hyper then closes the connection without
/// completing the answer, which a client sees as a dropped connection.
struct Dropped;

impl http_body::Body for Dropped {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        self: std::pin::Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        std::task::Poll::Ready(Some(Err(std::io::Error::new(
            std::io::ErrorKind::ConnectionAborted,
            "doublure fault: connection dropped",
        ))))
    }
}

pub(super) fn dropped_response() -> Response {
    let mut response = Response::new(Body::new(Dropped));
    // What the journal records: no status went out.
    *response.status_mut() =
        StatusCode::from_u16(crate::traffic::DROPPED).unwrap_or(StatusCode::BAD_REQUEST);
    response
}
