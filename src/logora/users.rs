//! Logora's users API: `GET /api/v1/users` (seed page; filters from its
//! 2021-12..2023-07 version, pagination from spec §4/§5.7), and
//! `POST /api/v1/users/{uid}/anonymize` and `DELETE /api/v1/users/{uid}`
//! (docs/faq/data.md and rgpd.md; bodies as spec §5.10 recommends).
//!
//! Access is Doorkeeper's `doorkeeper_authorize!` (spec §3, §5.1): a bearer
//! token of one of the application's clients, or on the list the current
//! docs' `api_key=<client_id>`. Each caller sees only its application.

use std::cell::RefCell;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderName, StatusCode, header};
use axum::response::Response;
use bytes::{Bytes, BytesMut};

use crate::extract::Headers;

use super::error::{self, LogoraError, TokenProblem, json_response};
use super::model::{FilterKey, LogoraData};
use super::pages::Listed;
use super::pagination::{self, Page};
use super::{Logora, answer, answer_later, auth, fail};

/// Scope bit of `authentication`, which anonymize and delete need.
const AUTHENTICATION: u8 = 0b010;

/// Who is calling.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub client_id: String,
    pub application_id: u64,
    pub scope_bits: u8,
    /// "token" or "api_key", for outcomes.
    pub via: &'static str,
}

fn query_pairs(query: Option<&str>) -> Vec<(String, String)> {
    query.map(crate::form::parse_owned).unwrap_or_default()
}

/// The caller a bearer token stands for, or its refusal with the reason.
fn authorize_token(logora: &Logora, token: &str) -> Result<Caller, (LogoraError, String)> {
    match logora.check_token(token) {
        Ok(info) => Ok(Caller {
            client_id: info.client_id,
            application_id: info.application_id,
            scope_bits: info.scope_bits,
            via: "token",
        }),
        Err((problem, why)) => Err((LogoraError::Token(problem), why)),
    }
}

/// The caller of a protected route, or its refusal with the reason.
fn authorize(
    logora: &Logora,
    headers: &HeaderMap,
    pairs: &[(String, String)],
    allow_api_key: bool,
) -> Result<Caller, (LogoraError, String)> {
    if let Some(token) = auth::bearer_token(headers, pairs) {
        return authorize_token(logora, &token);
    }
    if allow_api_key && let Some(key) = pagination::last(pairs, "api_key") {
        return match logora.data.read(|d| d.client(key).cloned()) {
            Some(client) => Ok(Caller {
                client_id: client.client_id,
                application_id: client.application_id,
                scope_bits: 0b001,
                via: "api_key",
            }),
            None => Err((
                LogoraError::BadApiKey,
                format!("api_key {key:?} is no client's API key"),
            )),
        };
    }
    let why = if auth::has_authentication_header(headers) {
        tracing::warn!(
            "a Logora request sent `Authentication: Bearer …`: that header is not read, \
             send the token in `Authorization: Bearer …`"
        );
        "no access token: the `Authentication` header is not read (the seed page's typo); \
         send `Authorization: Bearer <token>`"
    } else {
        "no access token (no Authorization: Bearer header, no access_token parameter)"
    };
    Err((LogoraError::Token(TokenProblem::Invalid), why.to_owned()))
}

thread_local! {
    /// Where this worker writes pages: each answer is split off the same
    /// buffer, so one allocation serves several answers. A fresh 14 KB
    /// allocation per answer made glibc consolidate its free lists on every
    /// request.
    static PAGES: RefCell<BytesMut> = RefCell::new(BytesMut::with_capacity(64 * 1024));
}

/// `{"success":true,"data":[…]}` around the pre-rendered JSON of the users
/// in `slots[range]`.
fn page_body(
    data: &LogoraData,
    slots: Option<&super::model::Slots>,
    range: std::ops::Range<usize>,
) -> Bytes {
    const HEAD: &[u8] = b"{\"success\":true,\"data\":[";
    const TAIL: &[u8] = b"]}";
    PAGES.with_borrow_mut(|buffer| {
        buffer.extend_from_slice(HEAD);
        if let Some(slots) = slots {
            let mut first = true;
            data.for_each_in(slots, range, |user| {
                if !first {
                    buffer.extend_from_slice(b",");
                }
                first = false;
                buffer.extend_from_slice(user.as_bytes());
            });
        }
        buffer.extend_from_slice(TAIL);
        buffer.split().freeze()
    })
}

/// The page `params` ask of the caller's users, with its pagination
/// headers.
fn list_page(
    logora: &Logora,
    data: &LogoraData,
    caller: &Caller,
    params: &pagination::ListParams,
    pairs: &[(String, String)],
) -> Listed {
    let sub = match &params.sub_application_name {
        None => Ok(None),
        Some(name) => data
            .sub_key(caller.application_id, name)
            .map(Some)
            .ok_or(()),
    };
    let slots = match sub {
        Ok(sub) => data.matching(
            caller.application_id,
            FilterKey {
                sub,
                expert: params.is_expert,
                selected: params.is_selected,
            },
        ),
        Err(()) => None,
    };
    let total = slots.map_or(0, |s| s.len());
    let page = Page::of(total, params.page, params.per_page);
    let body = page_body(data, slots, page.start..page.end);
    let pagination = pagination::headers(&page, total, params.countless, &logora.users_url, pairs);
    // Room for what the layers add (CORS, the server's date and length)
    // without growing.
    let mut headers = HeaderMap::with_capacity(16);
    headers.insert(header::CONTENT_TYPE, error::JSON_UTF8);
    for (name, value) in pagination {
        headers.insert(HeaderName::from_static(name), value);
    }
    Listed {
        body,
        headers,
        total,
        page,
    }
}

/// `GET /api/v1/users`.
pub async fn list(
    State(logora): State<Logora>,
    RawQuery(query): RawQuery,
    Headers(headers): Headers,
) -> Response {
    // A bearer header comes first (Doorkeeper's order), and then the
    // query string need not be read to authorize.
    let caller = match auth::bearer_in(&headers) {
        Some(token) => authorize_token(&logora, token),
        None => authorize(&logora, &headers, &query_pairs(query.as_deref()), true),
    };
    let caller = match caller {
        Ok(caller) => caller,
        Err((error, why)) => return fail(error, why),
    };
    let listed = logora.data.read_versioned(|data, version| {
        let raw = query.as_deref().unwrap_or("");
        if let Some(listed) = logora.pages.get(version, caller.application_id, raw) {
            return Ok(listed);
        }
        let pairs = query_pairs(query.as_deref());
        let params = pagination::parse(&pairs)?;
        let listed = Arc::new(list_page(&logora, data, &caller, &params, &pairs));
        logora
            .pages
            .put(version, caller.application_id, raw, Arc::clone(&listed));
        Ok(listed)
    });
    let listed = match listed {
        Ok(listed) => listed,
        Err(message) => {
            let why = format!("bad parameter: {message}");
            return fail(LogoraError::BadParameter(message), why);
        }
    };
    // What `json_response` answers, with the page's headers as written.
    let mut response = Response::new(Body::from(listed.body.clone()));
    *response.headers_mut() = listed.headers.clone();
    let (page, total) = (listed.page, listed.total);
    let Caller { client_id, via, .. } = caller;
    answer_later(response, move || {
        if page.page > page.pages {
            format!(
                "page {} is past the end ({} pages, {total} users): empty page, for {client_id} by {via}",
                page.page, page.pages
            )
        } else {
            format!(
                "page {} of {}, {} users of {total}, for {client_id} by {via}",
                page.page,
                page.pages,
                page.items(),
            )
        }
    })
}

fn needs_authentication(logora: &Logora, caller: &Caller) -> Result<(), (LogoraError, String)> {
    if caller.scope_bits & AUTHENTICATION != 0 {
        Ok(())
    } else {
        Err((
            LogoraError::Forbidden {
                scope: "authentication",
                insufficient: logora.doorkeeper(caller.application_id)
                    != crate::config::Doorkeeper::V5_9_0,
            },
            format!(
                "forbidden: token of {} has scope {:?}, this route needs authentication",
                caller.client_id,
                super::model::scope_text(caller.scope_bits)
            ),
        ))
    }
}

fn success(outcome: String) -> Response {
    answer(
        json_response(StatusCode::OK, "{\"success\":true}".to_owned()),
        outcome,
    )
}

fn not_found(uid: &str, caller: &Caller) -> Response {
    fail(
        LogoraError::UserNotFound(format!("Couldn't find User with 'uid'={uid}")),
        format!(
            "no user with uid {uid:?} in application {} (client {})",
            caller.application_id, caller.client_id
        ),
    )
}

/// `POST /api/v1/users/{uid}/anonymize`.
pub async fn anonymize(
    State(logora): State<Logora>,
    Path(uid): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    change_user(
        &logora,
        &uid,
        query.as_deref(),
        &headers,
        "anonymized",
        |logora, app, uid| logora.data.write(|d| d.anonymize(app, uid)),
    )
}

/// `DELETE /api/v1/users/{uid}`.
pub async fn delete(
    State(logora): State<Logora>,
    Path(uid): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    change_user(
        &logora,
        &uid,
        query.as_deref(),
        &headers,
        "deleted",
        |logora, app, uid| logora.delete_user(app, uid),
    )
}

/// Anonymize and delete alike: a caller with the `authentication` scope,
/// then `change` on the user with that uid in the caller's application
/// (which returns the user's id, or `None` when there is no such user).
fn change_user<I: std::fmt::Display>(
    logora: &Logora,
    uid: &str,
    query: Option<&str>,
    headers: &HeaderMap,
    done: &str,
    change: impl FnOnce(&Logora, u64, &str) -> Option<I>,
) -> Response {
    let pairs = query_pairs(query);
    let caller = match authorize(logora, headers, &pairs, false) {
        Ok(caller) => caller,
        Err((error, why)) => return fail(error, why),
    };
    if let Err((error, why)) = needs_authentication(logora, &caller) {
        return fail(error, why);
    }
    match change(logora, caller.application_id, uid) {
        Some(id) => success(format!("user {id} (uid {uid:?}) {done}")),
        None => not_found(uid, &caller),
    }
}
