//! The admin token: with `--admin-token`, every control-plane route but
//! health needs it as a bearer token, compared in constant time.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{HeaderMap, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use subtle::ConstantTimeEq;

use super::error::AdminError;
use crate::config::Settings;

/// With `--admin-token`, every route but health needs it as a bearer token.
/// The console's files are not behind it ([`ui`](super::ui)): they hold no data.
pub async fn require_admin_token(
    State(settings): State<Arc<Settings>>,
    request: Request,
    next: Next,
) -> Response {
    if token_given(&settings, request.headers()) {
        next.run(request).await
    } else {
        AdminError::Unauthorized.into_response()
    }
}

/// Whether `headers` carry the admin token, or the server has none.
pub fn token_given(settings: &Settings, headers: &HeaderMap) -> bool {
    let Some(expected) = settings.admin_token.as_deref() else {
        return true;
    };
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim())
        .is_some_and(|token| bool::from(token.as_bytes().ct_eq(expected.as_bytes())))
}
