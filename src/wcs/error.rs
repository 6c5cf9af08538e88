//! w.c.s.'s error bodies: `{"err": 1, "err_class", "err_code", "err_desc"}`
//! with the statuses of upstream's error classes (spec §1.2,
//! `qommon/errors.py`), including the two errors answered with HTTP 200.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

/// An error answered by the w.c.s. API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WcsError {
    /// 404 `Page not found` / `not-found`, no description.
    NotFound,
    /// 403 `Access denied` / `access-denied` (AccessForbiddenError).
    Forbidden(String),
    /// 403 `unknown-name-id` (UnknownNameIdAccessForbiddenError).
    UnknownNameId,
    /// HTTP **200** `Access denied` with an explicit code
    /// (HttpResponse200Error: `missing-user`, `unknown-name-id`).
    Denied200 { code: &'static str, desc: String },
    /// 401 with `WWW-Authenticate: Basic realm="<realm>"`.
    Unauthorized { realm: String, desc: Option<String> },
    /// 400 `Invalid request`; `None` for `get_int_or_400`'s bare error.
    BadRequest(Option<String>),
    /// 405 `Method not allowed`.
    MethodNotAllowed,
    /// 500 `{"err": 1}` (upstream crashed).
    Internal,
    /// 503 `Service Unavailable` with `Retry-After: 1`, as an injected
    /// 503 fault answers: doublure's memory budget is spent.
    Unavailable,
}

impl WcsError {
    pub fn status(&self) -> StatusCode {
        match self {
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::Forbidden(_) | Self::UnknownNameId => StatusCode::FORBIDDEN,
            Self::Denied200 { .. } => StatusCode::OK,
            Self::Unauthorized { .. } => StatusCode::UNAUTHORIZED,
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::Internal => StatusCode::INTERNAL_SERVER_ERROR,
            Self::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    /// The JSON body, keys in upstream's order.
    pub fn body(&self) -> Value {
        let (class, code, desc): (&str, &str, Option<String>) = match self {
            Self::NotFound => ("Page not found", "not-found", None),
            Self::Forbidden(d) => ("Access denied", "access-denied", Some(d.clone())),
            Self::UnknownNameId => (
                "Access denied",
                "unknown-name-id",
                Some("Unknown NameID.".into()),
            ),
            Self::Denied200 { code, desc } => ("Access denied", code, Some(desc.clone())),
            Self::Unauthorized { desc, .. } => {
                ("Access denied", "access-unauthorized", desc.clone())
            }
            Self::BadRequest(d) => ("Invalid request", "invalid-request", d.clone()),
            Self::MethodNotAllowed => ("Method not allowed", "method-not-allowed", None),
            Self::Unavailable => ("Service Unavailable", "service-unavailable", None),
            Self::Internal => return json!({"err": 1}),
        };
        json!({"err": 1, "err_class": class, "err_code": code, "err_desc": desc})
    }

    /// The error of an unknown NameID on the forms and drafts endpoints.
    pub fn unknown_name_id_200() -> Self {
        Self::Denied200 {
            code: "unknown-name-id",
            desc: "Unknown NameID.".into(),
        }
    }

    /// The error of a missing user on the forms and drafts endpoints.
    pub fn missing_user_200() -> Self {
        Self::Denied200 {
            code: "missing-user",
            desc: "No user specified.".into(),
        }
    }
}

impl IntoResponse for WcsError {
    fn into_response(self) -> Response {
        let body = super::json::dumps(&self.body());
        let mut response = (
            self.status(),
            [(header::CONTENT_TYPE, "application/json")],
            body,
        )
            .into_response();
        if let Self::Unauthorized { realm, .. } = &self
            && let Ok(v) = HeaderValue::from_str(&format!("Basic realm=\"{realm}\""))
        {
            response.headers_mut().insert(header::WWW_AUTHENTICATE, v);
        }
        if let Self::Unavailable = self {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_error_class_has_upstreams_status_and_body() {
        let cases = [
            (
                WcsError::NotFound,
                404,
                json!({"err": 1, "err_class": "Page not found", "err_code": "not-found", "err_desc": null}),
            ),
            (
                WcsError::Forbidden("Invalid orig.".into()),
                403,
                json!({"err": 1, "err_class": "Access denied", "err_code": "access-denied", "err_desc": "Invalid orig."}),
            ),
            (
                WcsError::UnknownNameId,
                403,
                json!({"err": 1, "err_class": "Access denied", "err_code": "unknown-name-id", "err_desc": "Unknown NameID."}),
            ),
            (
                WcsError::missing_user_200(),
                200,
                json!({"err": 1, "err_class": "Access denied", "err_code": "missing-user", "err_desc": "No user specified."}),
            ),
            (
                WcsError::unknown_name_id_200(),
                200,
                json!({"err": 1, "err_class": "Access denied", "err_code": "unknown-name-id", "err_desc": "Unknown NameID."}),
            ),
            (
                WcsError::BadRequest(None),
                400,
                json!({"err": 1, "err_class": "Invalid request", "err_code": "invalid-request", "err_desc": null}),
            ),
            (
                WcsError::MethodNotAllowed,
                405,
                json!({"err": 1, "err_class": "Method not allowed", "err_code": "method-not-allowed", "err_desc": null}),
            ),
            (WcsError::Internal, 500, json!({"err": 1})),
            (
                WcsError::Unavailable,
                503,
                json!({"err": 1, "err_class": "Service Unavailable", "err_code": "service-unavailable", "err_desc": null}),
            ),
        ];
        for (e, status, body) in cases {
            assert_eq!(e.status().as_u16(), status, "{e:?}");
            assert_eq!(e.body(), body, "{e:?}");
        }
    }

    #[test]
    fn a_503_asks_to_retry_after_a_second() {
        let r = WcsError::Unavailable.into_response();
        assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(r.headers()[header::RETRY_AFTER], "1");
    }

    #[test]
    fn a_401_carries_a_basic_challenge() {
        let e = WcsError::Unauthorized {
            realm: "wcs api".into(),
            desc: None,
        };
        assert_eq!(e.body()["err_code"], "access-unauthorized");
        let r = e.into_response();
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(
            r.headers()[header::WWW_AUTHENTICATE],
            "Basic realm=\"wcs api\""
        );
    }
}
