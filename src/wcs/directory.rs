//! `/api/users/`: the user directory, filtered by the query. Upstream:
//! w.c.s.'s wcs/api.py.

use axum::extract::State;
use axum::http::Uri;
use axum::response::Response;

use super::auth::Who;
use super::error::WcsError;
use super::preferences::can_submit_backoffice;
use super::respond::{auth_failure, respond_body, respond_err, who_words, with_auth};
use super::state::Wcs;
use super::{query, streamed};
use crate::extract::Headers;
use crate::outcome::Outcome;

pub(super) async fn users_list(
    State(wcs): State<Wcs>,
    uri: Uri,
    Headers(headers): Headers,
) -> Response {
    let snapshot = wcs.data.get();
    with_auth(&wcs, &uri, &headers, |data, auth, _| {
        let auth = match auth {
            Ok(a) => a,
            Err(e) => return auth_failure(e),
        };
        if let Who::Api(i) = &auth.who
            && data.api_accesses[*i].restrict_to_anonymised_data
        {
            return respond_err(
                WcsError::Forbidden("Restricted API access.".into()),
                "API access restricted to anonymised data",
            );
        }
        let allowed = match &auth.who {
            _ if auth.signed && !matches!(auth.who, Who::Api(_)) => true,
            Who::User(i) if !auth.signed => {
                let u = &data.users[*i];
                u.is_admin || can_submit_backoffice(data, &u.roles)
            }
            Who::Api(i) if !auth.signed => {
                can_submit_backoffice(data, &data.api_accesses[*i].roles)
            }
            _ => false,
        };
        if !allowed {
            return respond_err(
                WcsError::Forbidden(
                    "Unauthenticated/unsigned request or no access to users.".into(),
                ),
                format!(
                    "{}: {} may not list users (needs a signature without roles, an admin, or a backoffice-submission role)",
                    auth.how,
                    who_words(data, &auth.who)
                ),
            );
        }
        let params = match query::UsersQuery::parse(uri.query().unwrap_or("")) {
            Ok(p) => p,
            Err((e, why)) => return respond_err(e, why),
        };
        let found = query::search_users(data, &params);
        let outcome = format!("{}: {} users", auth.how, found.len());
        let len = streamed::directory_len(data, &found);
        // A large answer is written as the client reads it, from the data
        // it was found in (the snapshot taken before, unless a change came
        // in between).
        if len >= streamed::STREAM_FROM && std::ptr::eq(data, &*snapshot) {
            let mut response =
                streamed::directory_streamed(std::sync::Arc::clone(&snapshot), found, len);
            Outcome::attach(&mut response, outcome);
            return response;
        }
        respond_body(streamed::directory_whole(data, &found, len), outcome)
    })
}
