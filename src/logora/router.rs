//! Logora's routes, and the JSON 404 of any other path under them.

use axum::Router;
use axum::http::Method;
use axum::response::Response;
use axum::routing::{delete, get, post};

use super::error::LogoraError;
use super::oauth::{introspect_endpoint, revoke_endpoint, token_endpoint, token_info_endpoint};
use super::respond::fail;
use super::state::Logora;
use super::users;

/// Logora's routes. A path with another method is, for Rails, a route that
/// does not exist: 404 in the API's format rather than a bare 405.
pub fn router() -> Router<Logora> {
    Router::new()
        .route("/oauth/token", post(token_endpoint).fallback(no_route))
        .route("/oauth/revoke", post(revoke_endpoint).fallback(no_route))
        .route(
            "/oauth/introspect",
            post(introspect_endpoint).fallback(no_route),
        )
        .route(
            "/oauth/token/info",
            get(token_info_endpoint).fallback(no_route),
        )
        .route("/api/v1/users", get(users::list).fallback(no_route))
        .route(
            "/api/v1/users/{uid}/anonymize",
            post(users::anonymize).fallback(no_route),
        )
        .route(
            "/api/v1/users/{uid}",
            delete(users::delete).fallback(no_route),
        )
}

async fn no_route(method: Method, uri: axum::http::Uri) -> Response {
    fail(
        LogoraError::RouteNotFound,
        format!("no route for {method} {}: Rails answers 404", uri.path()),
    )
}
