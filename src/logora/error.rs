//! Logora's error answers. The API's own are `{"success": false, "error":
//! "…"}`; the OAuth ones are Doorkeeper's, byte for byte as its locale file
//! and specs give them (spec §3 and §5.5).

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// Doorkeeper's `invalid_client` description.
pub const INVALID_CLIENT: &str = "Client authentication failed due to unknown client, no client authentication included, or unsupported authentication method.";
/// Doorkeeper's description of a missing `grant_type`.
pub const MISSING_GRANT_TYPE: &str = "Missing required parameter: grant_type.";
/// Doorkeeper's generic `invalid_request` description.
pub const INVALID_REQUEST: &str = "The request is missing a required parameter, includes an unsupported parameter value, or is otherwise malformed.";
/// Doorkeeper's `unsupported_grant_type` description.
pub const UNSUPPORTED_GRANT_TYPE: &str =
    "The authorization grant type is not supported by the authorization server.";
/// Doorkeeper's `invalid_scope` description.
pub const INVALID_SCOPE: &str = "The requested scope is invalid, unknown, or malformed.";
/// Introspection without caller authentication (Doorkeeper 5.9 wording).
pub const INTROSPECT_UNAUTHORIZED: &str = "Request needs to be authorized. Required parameter for authorizing the request is missing or invalid.";
/// Basic and body credentials together, refused from Doorkeeper 5.9.5.
pub const TWO_CLIENT_AUTHENTICATIONS: &str =
    "The request utilizes more than one mechanism for authenticating the client.";
/// Revocation refused.
pub const REVOKE_UNAUTHORIZED: &str = "You are not authorized to revoke this token";

/// `Cache-Control` of Doorkeeper's answers on the wire: Doorkeeper sets
/// `no-store, no-cache`, and Rails' `merge_and_normalize_cache_control!`
/// keeps only `no-store` when it is present (docs/fidelity.md).
pub const NO_STORE: HeaderValue = HeaderValue::from_static("no-store");

/// Why a bearer token was refused, with Doorkeeper's description.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenProblem {
    Invalid,
    Expired,
    Revoked,
}

impl TokenProblem {
    pub fn description(self) -> &'static str {
        match self {
            Self::Invalid => "The access token is invalid",
            Self::Expired => "The access token expired",
            Self::Revoked => "The access token was revoked",
        }
    }
}

/// An error answered by the Logora API or its OAuth server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogoraError {
    /// 404: no route at this path under `/api/v1/`.
    RouteNotFound,
    /// An error of `/oauth/token` or `/oauth/introspect`, Doorkeeper style.
    OAuth {
        status: StatusCode,
        code: &'static str,
        description: &'static str,
    },
    /// 401 on a protected route: no, unknown, expired or revoked token.
    Token(TokenProblem),
    /// 403: a valid token without the scope the route needs; named
    /// `insufficient_scope` (with a `WWW-Authenticate`) from Doorkeeper
    /// 5.9.1, `invalid_scope` before.
    Forbidden {
        scope: &'static str,
        insufficient: bool,
    },
    /// 403 from `/oauth/revoke`.
    RevokeUnauthorized,
    /// 401: an `api_key` that is no client of ours.
    BadApiKey,
    /// 400: a list parameter that cannot be read.
    BadParameter(String),
    /// 404: no user with that uid in the caller's application.
    UserNotFound(String),
}

impl LogoraError {
    pub fn invalid_client() -> Self {
        Self::OAuth {
            status: StatusCode::UNAUTHORIZED,
            code: "invalid_client",
            description: INVALID_CLIENT,
        }
    }

    pub fn invalid_scope() -> Self {
        Self::OAuth {
            status: StatusCode::BAD_REQUEST,
            code: "invalid_scope",
            description: INVALID_SCOPE,
        }
    }

    pub fn invalid_request(description: &'static str) -> Self {
        Self::OAuth {
            status: StatusCode::BAD_REQUEST,
            code: "invalid_request",
            description,
        }
    }

    pub fn unsupported_grant_type() -> Self {
        Self::OAuth {
            status: StatusCode::BAD_REQUEST,
            code: "unsupported_grant_type",
            description: UNSUPPORTED_GRANT_TYPE,
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            Self::RouteNotFound | Self::UserNotFound(_) => StatusCode::NOT_FOUND,
            Self::OAuth { status, .. } => *status,
            Self::Token(_) | Self::BadApiKey => StatusCode::UNAUTHORIZED,
            Self::Forbidden { .. } | Self::RevokeUnauthorized => StatusCode::FORBIDDEN,
            Self::BadParameter(_) => StatusCode::BAD_REQUEST,
        }
    }

    fn body(&self) -> serde_json::Value {
        match self {
            Self::RouteNotFound => json!({"success": false, "error": "Not found"}),
            Self::OAuth {
                code, description, ..
            } => json!({"error": code, "error_description": description}),
            Self::Token(problem) => json!({
                "error": "invalid_token",
                "error_description": problem.description(),
                "state": "unauthorized",
            }),
            Self::Forbidden {
                scope,
                insufficient,
            } => json!({
                "error": if *insufficient { "insufficient_scope" } else { "invalid_scope" },
                "error_description": forbidden_description(scope),
                "state": "forbidden",
            }),
            Self::RevokeUnauthorized => json!({
                "error": "unauthorized_client",
                "error_description": REVOKE_UNAUTHORIZED,
            }),
            Self::BadApiKey => json!({"success": false, "error": "Invalid API key"}),
            Self::BadParameter(message) | Self::UserNotFound(message) => {
                json!({"success": false, "error": message})
            }
        }
    }

    /// Doorkeeper's `WWW-Authenticate` value, when this error has one.
    pub fn www_authenticate(&self) -> Option<String> {
        let forbidden;
        let (code, description) = match self {
            Self::OAuth {
                code, description, ..
            } => (*code, *description),
            Self::Token(problem) => ("invalid_token", problem.description()),
            // Doorkeeper interpolates the description as it is, its inner
            // quotes unescaped.
            Self::Forbidden {
                scope,
                insufficient: true,
            } => {
                forbidden = forbidden_description(scope);
                ("insufficient_scope", forbidden.as_str())
            }
            _ => return None,
        };
        Some(format!(
            "Bearer realm=\"Doorkeeper\", error=\"{code}\", error_description=\"{description}\""
        ))
    }
}

fn forbidden_description(scope: &str) -> String {
    format!("Access to this resource requires scope \"{scope}\".")
}

/// Rails' content type of JSON.
pub const JSON_UTF8: HeaderValue = HeaderValue::from_static("application/json; charset=utf-8");

/// A JSON answer with Rails' content type.
pub fn json_response(status: StatusCode, body: impl Into<axum::body::Body>) -> Response {
    let mut response = (status, body.into()).into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, JSON_UTF8);
    response
}

impl IntoResponse for LogoraError {
    fn into_response(self) -> Response {
        let mut response = json_response(self.status(), self.body().to_string());
        if self == Self::RouteNotFound {
            // The router's fallback answers with axum's plain JSON type.
            response.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
        }
        let headers = response.headers_mut();
        if let Some(value) = self
            .www_authenticate()
            .and_then(|v| HeaderValue::from_str(&v).ok())
        {
            headers.insert(header::WWW_AUTHENTICATE, value);
        }
        if matches!(
            self,
            Self::OAuth { .. } | Self::Token(_) | Self::Forbidden { .. } | Self::RevokeUnauthorized
        ) {
            headers.insert(header::CACHE_CONTROL, NO_STORE);
        }
        response
    }
}
