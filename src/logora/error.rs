//! Logora's error bodies: `{"success": false, "error": "…"}` for its API.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// An error answered by the Logora API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogoraError {
    /// 404: no route at this path under `/api/v1/`.
    RouteNotFound,
}

impl LogoraError {
    pub fn status(&self) -> StatusCode {
        match self {
            Self::RouteNotFound => StatusCode::NOT_FOUND,
        }
    }

    fn message(&self) -> String {
        match self {
            Self::RouteNotFound => "Not found".to_owned(),
        }
    }
}

impl IntoResponse for LogoraError {
    fn into_response(self) -> Response {
        (
            self.status(),
            Json(json!({"success": false, "error": self.message()})),
        )
            .into_response()
    }
}
