//! w.c.s.'s error bodies: `{"err": 1, "err_class", "err_code", "err_desc"}`.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// An error answered by the w.c.s. API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WcsError {
    /// 404 `Page not found` / `not-found`, no description.
    NotFound,
}

impl WcsError {
    pub fn status(&self) -> StatusCode {
        match self {
            Self::NotFound => StatusCode::NOT_FOUND,
        }
    }
}

impl IntoResponse for WcsError {
    fn into_response(self) -> Response {
        let body = match self {
            Self::NotFound => json!({
                "err": 1, "err_class": "Page not found", "err_code": "not-found", "err_desc": null
            }),
        };
        (self.status(), Json(body)).into_response()
    }
}
