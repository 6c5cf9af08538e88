//! w.c.s.'s routes, and the 405 answers of their other methods.
//! Upstream: the directories of w.c.s.'s wcs/api.py and root.py, served by
//! Quixote.

use axum::Router;
use axum::http::{Method, header};
use axum::response::Response;
use axum::routing::{MethodRouter, get, post};

use super::directory::users_list;
use super::error::WcsError;
use super::listings::{
    bound_drafts, bound_forms, bound_index, myspace_drafts, user_drafts, user_forms,
};
use super::preferences::{bound_preferences, user_preferences};
use super::profile::{missing_slash, user_alias, user_index};
use super::respond::respond_err;
use super::state::Wcs;

/// w.c.s.'s routes.
pub fn router() -> Router<Wcs> {
    Router::new()
        .route("/api/user/", api(user_index))
        .route("/api/user", api(missing_slash))
        .route("/user", api(user_alias))
        .route("/api/user/forms", api(user_forms))
        .route("/api/user/drafts", api(user_drafts))
        .route("/myspace/drafts", api(myspace_drafts))
        .route("/api/users/", api(users_list))
        .route("/api/users", api(missing_slash))
        .route("/api/users/{x}/", api(bound_index))
        .route("/api/users/{x}", api(missing_slash))
        .route("/api/users/{x}/forms", api(bound_forms))
        .route("/api/users/{x}/drafts", api(bound_drafts))
        .route(
            "/api/user/preferences",
            post(user_preferences).fallback(only_post),
        )
        .route(
            "/api/users/{x}/preferences",
            post(bound_preferences).fallback(only_post),
        )
}

pub(super) fn api<H, T>(handler: H) -> MethodRouter<Wcs>
where
    H: axum::handler::Handler<T, Wcs>,
    T: 'static,
{
    get(handler).fallback(only_get)
}

async fn only_get(method: Method) -> Response {
    method_not_allowed(method, "GET, HEAD")
}

async fn only_post(method: Method) -> Response {
    method_not_allowed(method, "POST")
}

/// A 405 names the methods the path has (RFC 9110 §15.5.6; Quixote's
/// MethodNotAllowedError sends them too).
fn method_not_allowed(method: Method, allow: &'static str) -> Response {
    let mut r = respond_err(
        WcsError::MethodNotAllowed,
        format!("{method} is not allowed here: only {allow}"),
    );
    r.headers_mut()
        .insert(header::ALLOW, axum::http::HeaderValue::from_static(allow));
    r
}
