//! What every w.c.s. handler shares: checking the signed query, describing
//! the caller, and writing answers and refusals with their outcome.

use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use super::auth::{Auth, AuthError, Who};
use super::error::WcsError;
use super::model::WcsData;
use super::state::Wcs;
use super::{auth, json};
use crate::form::Pair;
use crate::outcome::Outcome;

pub(super) fn respond_json(value: &Value, outcome: impl Into<String>) -> Response {
    respond_body(json::dumps(value), outcome)
}

pub(super) fn respond_body(body: String, outcome: impl Into<String>) -> Response {
    let mut r = ok_body(body);
    Outcome::attach(&mut r, outcome);
    r
}

/// A 200 with a JSON body, no outcome yet.
pub(super) fn ok_body(body: impl Into<axum::body::Body>) -> Response {
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json")],
        body.into(),
    )
        .into_response()
}

pub(super) fn respond_err(e: WcsError, outcome: impl Into<String>) -> Response {
    let mut r = e.into_response();
    Outcome::attach(&mut r, outcome);
    r
}

pub(super) fn auth_failure(e: AuthError) -> Response {
    let why = e.explain();
    respond_err(e.into_error(), why)
}

/// Runs `f` over the data, the request's authentication and the query's
/// pairs; the outcome
/// says when older nonces had to be forgotten to remember this one.
pub(super) fn with_auth(
    wcs: &Wcs,
    uri: &Uri,
    headers: &HeaderMap,
    f: impl FnOnce(&WcsData, Result<Auth, AuthError>, &[Pair<'_>]) -> Response,
) -> Response {
    with_auth_versioned(wcs, uri, headers, |data, _, auth, pairs| {
        f(data, auth, pairs)
    })
}

/// [`with_auth`], `f` also given the data's version (the same version is
/// the same data).
pub(super) fn with_auth_versioned(
    wcs: &Wcs,
    uri: &Uri,
    headers: &HeaderMap,
    f: impl FnOnce(&WcsData, u64, Result<Auth, AuthError>, &[Pair<'_>]) -> Response,
) -> Response {
    let now = wcs.clock.now();
    let raw = uri.query().unwrap_or("");
    // Read once, for the signature, the user and the handler's parameters.
    let pairs: Vec<Pair<'_>> = crate::form::parse(raw).collect();
    let mut forgotten = 0;
    let mut response = wcs.data.read_versioned(|d, version| {
        let auth = auth::authenticate(d, &wcs.runtime, raw, &pairs, headers, now, &mut forgotten);
        f(d, version, auth, &pairs)
    });
    if forgotten > 0 {
        let note = match forgotten {
            1 => "the oldest nonce was forgotten, and its URL could now be replayed".to_owned(),
            n => format!(
                "the {n} oldest nonces were forgotten, and their URLs could now be replayed"
            ),
        };
        let note = format!(
            "nonce store full (--max-nonces {}): {note}",
            wcs.runtime.cap()
        );
        let text = match Outcome::of(&response) {
            Some(outcome) => format!("{outcome}; {note}"),
            None => note,
        };
        Outcome::attach(&mut response, text);
    }
    response
}

pub(super) fn who_words(data: &WcsData, who: &Who) -> String {
    match who {
        Who::Nobody => "no user".into(),
        Who::Anonymous => "anonymous (empty email/NameID)".into(),
        Who::User(i) => {
            let u = &data.users[*i];
            format!(
                "user {}",
                u.email.clone().unwrap_or_else(|| u.id.to_string())
            )
        }
        Who::Api(i) => format!(
            "restricted API user {}",
            data.api_accesses[*i].access_identifier
        ),
    }
}

/// The `<x>` of `/api/users/<x>/…`, percent-decoded (lossily, so a
/// malformed escape is a lookup that finds nobody, not a rejection).
pub(super) fn bound_segment(uri: &Uri) -> String {
    let raw = uri
        .path()
        .strip_prefix("/api/users/")
        .and_then(|rest| rest.split('/').next())
        .unwrap_or("");
    percent_encoding::percent_decode_str(raw)
        .decode_utf8_lossy()
        .into_owned()
}
