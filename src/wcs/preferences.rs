//! `/api/user/preferences` and `/api/users/<x>/preferences`: a user's
//! preferences, set by POST. Upstream: w.c.s.'s wcs/api.py.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Uri};
use axum::response::Response;
use serde_json::{Value, json};

use super::auth::Who;
use super::error::WcsError;
use super::listings::bind;
use super::model::WcsData;
use super::respond::{
    auth_failure, bound_segment, respond_err, respond_json, who_words, with_auth,
};
use super::state::Wcs;

pub(super) fn can_submit_backoffice(data: &WcsData, roles: &[String]) -> bool {
    data.formdefs.iter().any(|f| {
        f.backoffice_submission_roles
            .iter()
            .any(|r| roles.contains(r))
    })
}

pub(super) async fn user_preferences(
    State(wcs): State<Wcs>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    preferences(&wcs, &uri, &headers, None, &body)
}

pub(super) async fn bound_preferences(
    State(wcs): State<Wcs>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    preferences(&wcs, &uri, &headers, Some(&bound_segment(&uri)), &body)
}

/// `POST …/preferences` (spec §5): upstream merges a JSON object into the
/// user's preferences, which none of the emulated GET endpoints return, so
/// they are checked and acknowledged, not kept.
pub(super) fn preferences(
    wcs: &Wcs,
    uri: &Uri,
    headers: &HeaderMap,
    bound: Option<&str>,
    body: &[u8],
) -> Response {
    with_auth(wcs, uri, headers, |data, auth, _| {
        let auth = match auth {
            Ok(a) => a,
            Err(e) => return auth_failure(e),
        };
        let user = match bound {
            Some(x) => match bind(data, &auth, x) {
                Ok(i) => Some(i),
                Err((e, why)) => return respond_err(e, why),
            },
            None => match auth.who {
                Who::User(i) => Some(i),
                _ => None,
            },
        };
        let Some(user) = user else {
            return respond_err(
                WcsError::Forbidden("User not authenticated.".into()),
                format!("{}: {}", auth.how, who_words(data, &auth.who)),
            );
        };
        if body.len() > 1000 {
            return respond_err(
                WcsError::BadRequest(Some("Too much data.".into())),
                format!("preferences body of {} bytes (at most 1000)", body.len()),
            );
        }
        match serde_json::from_slice::<Value>(body) {
            Ok(Value::Object(_)) => respond_json(
                &json!({"err": 0}),
                format!(
                    "preferences of {} accepted",
                    who_words(data, &Who::User(user))
                ),
            ),
            _ => respond_err(
                WcsError::BadRequest(None),
                "preferences body is not a JSON object",
            ),
        }
    })
}
