//! `/api/user/`, `/user` and the paths without their trailing slash: the
//! signed caller's profile. Upstream: w.c.s.'s wcs/api.py and root.py, and
//! Quixote's directory.py for the slash.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};

use super::auth::{Auth, Who};
use super::error::WcsError;
use super::model::WcsData;
use super::render;
use super::respond::{auth_failure, respond_err, respond_json, who_words, with_auth};
use super::state::Wcs;
use crate::extract::Headers;
use crate::outcome::Outcome;

pub(super) async fn user_index(
    State(wcs): State<Wcs>,
    uri: Uri,
    Headers(headers): Headers,
) -> Response {
    with_auth(&wcs, &uri, &headers, |data, auth, _| {
        let auth = match auth {
            Ok(a) => a,
            Err(e) => return auth_failure(e),
        };
        profile_of(data, &auth.who, &auth)
    })
}

pub(super) fn profile_of(data: &WcsData, who: &Who, auth: &Auth) -> Response {
    match who {
        Who::User(i) => {
            let u = &data.users[*i];
            respond_json(
                &render::user_info(data, u),
                format!("{}: profile of {}", auth.how, who_words(data, who)),
            )
        }
        Who::Api(_) => respond_err(
            WcsError::Forbidden("Restricted API access.".into()),
            format!("{} is not a user", who_words(data, who)),
        ),
        Who::Nobody | Who::Anonymous => respond_err(
            WcsError::Forbidden("User not authenticated.".into()),
            format!("{}: {}", auth.how, who_words(data, who)),
        ),
    }
}

/// Quixote's missing trailing slash: 301 without a query string, 404 with.
pub(super) async fn missing_slash(State(wcs): State<Wcs>, uri: Uri) -> Response {
    match uri.query() {
        None => {
            let to = format!("{}{}/", wcs.prefix, uri.path());
            let mut r = (
                StatusCode::MOVED_PERMANENTLY,
                [(header::LOCATION, to.clone())],
                "",
            )
                .into_response();
            Outcome::attach(
                &mut r,
                format!("directory without trailing slash: redirect to {to}"),
            );
            r
        }
        Some(_) => respond_err(
            WcsError::NotFound,
            format!(
                "{} lacks its trailing slash and has a query string: upstream answers 404",
                uri.path()
            ),
        ),
    }
}

/// Whether w.c.s. treats the request as asking for JSON.
pub fn is_json_request(uri: &Uri, headers: &HeaderMap) -> bool {
    let h = |name| headers.get(name).and_then(|v| v.to_str().ok());
    let content_type = h(header::CONTENT_TYPE).map(|v| v.split(';').next().unwrap_or("").trim());
    content_type == Some("application/json")
        || h(header::ACCEPT) == Some("application/json")
        || uri.query() == Some("json")
        || uri.query().is_some_and(|q| {
            form_urlencoded::parse(q.as_bytes()).any(|(k, v)| k == "format" && v == "json")
        })
}

pub(super) async fn user_alias(
    State(wcs): State<Wcs>,
    uri: Uri,
    Headers(headers): Headers,
) -> Response {
    if is_json_request(&uri, &headers) {
        return user_index(State(wcs), uri, Headers(headers)).await;
    }
    let to = format!("{}/myspace/", wcs.base_url);
    let mut r = (StatusCode::FOUND, [(header::LOCATION, to.clone())], "").into_response();
    Outcome::attach(
        &mut r,
        format!("/user without JSON asked: redirect to {to}"),
    );
    r
}
