//! The control plane's error body: `{"error": "<what is wrong>"}` with a
//! status that says whose fault it is, plus a `problems` list when fixture
//! validation refused a change.

use axum::Json;
use axum::extract::FromRequest;
use axum::extract::rejection::JsonRejection;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::store::Problems;

/// An error answered under `/__doublure/`.
#[derive(Debug)]
pub enum AdminError {
    /// 400: the request body or a parameter is wrong.
    BadRequest(String),
    /// 400: the change would make the data invalid; nothing was changed.
    Invalid(Problems),
    /// 401: an admin token is configured and this request lacks it.
    Unauthorized,
    /// 403: a web page on another origin called (see `origin`).
    Forbidden(String),
    /// 404: no such thing.
    NotFound(String),
    /// 409: the change clashes with what exists (an id already used).
    Conflict(String),
    /// 413: the body is over `--admin-body-limit`.
    PayloadTooLarge(String),
    /// 408: the body stopped arriving (`--body-read-timeout`); the
    /// connection is closed.
    Timeout,
    /// 429: a limit of the server is reached (`--max-namespaces`).
    TooMany(String),
    /// 503, with `Retry-After`: the memory budget (`--memory-budget`) has
    /// no room for what the call would keep.
    Unavailable(String),
}

impl AdminError {
    pub fn status(&self) -> StatusCode {
        match self {
            Self::BadRequest(_) | Self::Invalid(_) => StatusCode::BAD_REQUEST,
            Self::Unauthorized => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::Timeout => StatusCode::REQUEST_TIMEOUT,
            Self::TooMany(_) => StatusCode::TOO_MANY_REQUESTS,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
        }
    }
}

impl IntoResponse for AdminError {
    fn into_response(self) -> Response {
        let status = self.status();
        if let Self::Timeout = self {
            return crate::boundary::body_timeout_refusal(crate::paths::Api::Control);
        }
        let body = match self {
            Self::BadRequest(message)
            | Self::Forbidden(message)
            | Self::PayloadTooLarge(message)
            | Self::NotFound(message)
            | Self::Conflict(message)
            | Self::TooMany(message)
            | Self::Unavailable(message) => json!({"error": message}),
            Self::Invalid(problems) => json!({
                "error": "invalid data: nothing was changed",
                "problems": problems.0.iter().map(ToString::to_string).collect::<Vec<_>>(),
            }),
            Self::Timeout => json!({"error": crate::boundary::BODY_TIMED_OUT}),
            Self::Unauthorized => json!({
                "error": "this control plane needs Authorization: Bearer <admin token>"
            }),
        };
        let mut response = (status, Json(body)).into_response();
        if status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                axum::http::header::WWW_AUTHENTICATE,
                axum::http::HeaderValue::from_static("Bearer realm=\"doublure\""),
            );
        }
        if status == StatusCode::SERVICE_UNAVAILABLE {
            response.headers_mut().insert(
                axum::http::header::RETRY_AFTER,
                axum::http::HeaderValue::from_static("1"),
            );
        }
        response
    }
}

impl From<Problems> for AdminError {
    fn from(problems: Problems) -> Self {
        Self::Invalid(problems)
    }
}

/// `Json` whose rejections are [`AdminError`]s, so a bad body gets a
/// clear message in the control plane's format.
#[derive(Debug, FromRequest)]
#[from_request(via(axum::Json), rejection(AdminError))]
pub struct AdminJson<T>(pub T);

impl From<JsonRejection> for AdminError {
    fn from(rejection: JsonRejection) -> Self {
        // A body sent without a length is only found too long as it is
        // read; one with a length is refused before (`boundary::guard`).
        if crate::boundary::is_body_timeout(&rejection) {
            Self::Timeout
        } else if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            Self::PayloadTooLarge(
                "request body too large: the body is over the bytes the control plane accepts \
                 (--admin-body-limit)"
                    .to_owned(),
            )
        } else {
            Self::BadRequest(rejection.body_text())
        }
    }
}
