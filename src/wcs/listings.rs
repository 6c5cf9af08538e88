//! Forms and drafts: `/api/user/forms`, `/api/user/drafts`,
//! `/myspace/drafts`, and the same for a user bound by path
//! (`/api/users/<x>/…`). Upstream: w.c.s.'s wcs/api.py.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Uri};
use axum::response::Response;

use super::auth::{Auth, AuthError, Who};
use super::error::WcsError;
use super::listed::Listed;
use super::model::WcsData;
use super::profile::profile_of;
use super::respond::{
    auth_failure, bound_segment, ok_body, respond_err, who_words, with_auth, with_auth_versioned,
};
use super::state::Wcs;
use super::{json, query, render};
use crate::extract::Headers;
use crate::outcome::Outcome;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Listing {
    Forms,
    Drafts,
    Legacy,
}

pub(super) async fn user_forms(
    State(wcs): State<Wcs>,
    uri: Uri,
    Headers(headers): Headers,
) -> Response {
    listing(&wcs, &uri, &headers, None, Listing::Forms)
}

pub(super) async fn user_drafts(
    State(wcs): State<Wcs>,
    uri: Uri,
    Headers(headers): Headers,
) -> Response {
    listing(&wcs, &uri, &headers, None, Listing::Drafts)
}

pub(super) async fn myspace_drafts(
    State(wcs): State<Wcs>,
    uri: Uri,
    Headers(headers): Headers,
) -> Response {
    listing(&wcs, &uri, &headers, None, Listing::Legacy)
}

pub(super) async fn bound_forms(
    State(wcs): State<Wcs>,
    uri: Uri,
    Headers(headers): Headers,
) -> Response {
    listing(
        &wcs,
        &uri,
        &headers,
        Some(&bound_segment(&uri)),
        Listing::Forms,
    )
}

pub(super) async fn bound_drafts(
    State(wcs): State<Wcs>,
    uri: Uri,
    Headers(headers): Headers,
) -> Response {
    listing(
        &wcs,
        &uri,
        &headers,
        Some(&bound_segment(&uri)),
        Listing::Drafts,
    )
}

pub(super) async fn bound_index(
    State(wcs): State<Wcs>,
    uri: Uri,
    Headers(headers): Headers,
) -> Response {
    with_auth(&wcs, &uri, &headers, |data, auth, _| {
        let auth = match auth {
            Ok(a) => a,
            Err(e) => return auth_failure(e),
        };
        let i = match bind(data, &auth, &bound_segment(&uri)) {
            Ok(i) => i,
            Err((e, why)) => return respond_err(e, why),
        };
        profile_of(data, &Who::User(i), &auth)
    })
}

/// The access check and lookup of `/api/users/<x>/` (spec §5).
pub(super) fn bind(data: &WcsData, auth: &Auth, x: &str) -> Result<usize, (WcsError, String)> {
    match &auth.who {
        Who::Api(i) if data.api_accesses[*i].restrict_to_anonymised_data => {
            return Err((
                WcsError::Forbidden("Restricted API access.".into()),
                format!(
                    "API access {} is restricted to anonymised data",
                    data.api_accesses[*i].access_identifier
                ),
            ));
        }
        Who::Api(_) => {}
        Who::User(i) if !auth.signed && data.users[*i].is_admin => {}
        _ if auth.signed => {}
        _ => {
            return Err((
                WcsError::Forbidden("Unsigned request or user has no access to backoffice.".into()),
                format!(
                    "{}: {} is not an admin",
                    auth.how,
                    who_words(data, &auth.who)
                ),
            ));
        }
    }
    let by_id = x
        .parse::<i64>()
        .ok()
        .and_then(|id| data.index.user_by_id.get(&id).copied());
    by_id
        .or_else(|| data.index.user_by_name_id.get(x).copied())
        .ok_or_else(|| {
            (
                WcsError::NotFound,
                format!("no user with id or NameID {x:?}"),
            )
        })
}

fn listing(
    wcs: &Wcs,
    uri: &Uri,
    headers: &HeaderMap,
    bound: Option<&str>,
    kind: Listing,
) -> Response {
    let base = wcs.base_url.as_str();
    with_auth_versioned(wcs, uri, headers, |data, version, auth, pairs| {
        let auth = match (auth, bound) {
            (Ok(a), _) => a,
            (Err(AuthError::UnknownNameId(n)), None) => {
                return respond_err(
                    WcsError::unknown_name_id_200(),
                    format!("no user with NameID {n:?} (answered with HTTP 200 as upstream)"),
                );
            }
            (Err(e), _) => return auth_failure(e),
        };
        let bound_user = match bound {
            Some(x) => match bind(data, &auth, x) {
                Ok(i) => Some(i),
                Err((e, why)) => return respond_err(e, why),
            },
            None => None,
        };
        let target = match (bound_user, &auth.who) {
            (Some(i), _) => i,
            (None, Who::User(i)) => *i,
            (None, Who::Api(_)) => {
                return respond_err(
                    WcsError::Forbidden("Restricted API access.".into()),
                    format!("{} has no forms of its own", who_words(data, &auth.who)),
                );
            }
            (None, Who::Nobody | Who::Anonymous) => {
                return respond_err(
                    WcsError::missing_user_200(),
                    format!(
                        "{}: {} (answered with HTTP 200 as upstream)",
                        auth.how,
                        who_words(data, &auth.who)
                    ),
                );
            }
        };
        if let Who::Api(i) = &auth.who
            && data.api_accesses[*i].restrict_to_anonymised_data
        {
            return respond_err(
                WcsError::Forbidden("Restricted API access.".into()),
                format!(
                    "API access {} is restricted to anonymised data",
                    data.api_accesses[*i].access_identifier
                ),
            );
        }
        let params = match query::FormsQuery::from_pairs(pairs) {
            Ok(p) => p,
            Err((e, why)) => return respond_err(e, why),
        };
        // Cross-user rule: the caller's roles decide what is readable.
        let caller_roles: Option<Vec<String>> = match (&auth.who, bound_user) {
            (Who::User(c), Some(t)) if *c != t => {
                let cu = &data.users[*c];
                if !render::backoffice_access(data, cu) {
                    return respond_err(
                        WcsError::Forbidden(
                            "User not allowed to query data from other users.".into(),
                        ),
                        format!(
                            "{} has no backoffice access to read user {}'s forms",
                            who_words(data, &auth.who),
                            data.users[t].id
                        ),
                    );
                }
                let mut r = cu.roles.clone();
                r.push(format!("_user:{}", cu.id));
                Some(r)
            }
            (Who::Api(a), Some(_)) => Some(data.api_accesses[*a].roles.clone()),
            _ => None,
        };
        let drafts_only = kind != Listing::Forms;
        // Another user's roles decide what is readable: not kept.
        let key = caller_roles
            .is_none()
            .then(|| (target, kind as u8, params.clone()));
        let kept = key
            .as_ref()
            .and_then(|k| wcs.runtime.listed.get(version, k));
        let listed = kept.unwrap_or_else(|| {
            let selected =
                query::select(data, target, &params, drafts_only, caller_roles.as_deref());
            let listed = Listed {
                body: Bytes::from(write_listing(data, base, kind, params.full, &selected)),
                count: selected.len(),
            };
            if let Some(key) = key {
                wcs.runtime.listed.keep(version, key, listed.clone());
            }
            listed
        });
        let user = &data.users[target];
        let what = if drafts_only { "drafts" } else { "forms" };
        let (how, count) = (auth.how, listed.count);
        let who = user.email.clone().unwrap_or_else(|| user.id.to_string());
        let mut response = ok_body(listed.body);
        Outcome::attach_later(&mut response, move || {
            format!("{how}: user {who}: {count} {what}")
        });
        response
    })
}

/// The body of a listing of the forms `selected` (with their `readable`
/// flags).
fn write_listing(
    data: &WcsData,
    base: &str,
    kind: Listing,
    full: bool,
    selected: &[(usize, bool)],
) -> String {
    let mut body = String::from("{\"err\": 0, \"data\": [");
    for (n, (i, readable)) in selected.iter().enumerate() {
        if n > 0 {
            body.push_str(", ");
        }
        match kind {
            Listing::Legacy => json::write(&mut body, &render::legacy_draft(data, base, *i)),
            _ if full => json::write(
                &mut body,
                &render::form_item(data, base, *i, true, *readable),
            ),
            _ => {
                // `readable` is the item's last key: the rest is
                // rendered once per form.
                render::form_json_head(data, *i, base, &mut body);
                body.push_str(if *readable {
                    ", \"readable\": true}"
                } else {
                    ", \"readable\": false}"
                });
            }
        }
    }
    body.push_str("]}");
    body
}
