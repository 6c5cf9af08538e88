//! Emulation of w.c.s.'s user API (Entr'ouvert, Publik): signed query
//! strings, a user's profile, forms and drafts, and the user directory.
//! Upstream behaviour: ../shared/spec/wcs.md and the w.c.s. page
//! "Récupération des données d'un utilisateur".
//!
//! The wing stands on the shared ground only: its data lives in a
//! [`Cell`], time comes from the [`Clock`], settings from [`Settings`], and
//! each answer says why through an [`Outcome`]. [`Wcs`] is one namespace's
//! w.c.s., which handlers receive as their state.

pub mod auth;
pub mod error;
pub mod json;
pub mod model;
pub mod python;
pub mod query;
pub mod render;
pub mod signature;
pub mod text;

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, get, post};
use chrono::{DateTime, TimeDelta, Utc};
use serde_json::{Value, json};

use crate::clock::Clock;
use crate::config::Settings;
use crate::outcome::Outcome;
use crate::store::Cell;
use auth::{Auth, AuthError, Who};
use error::WcsError;
use model::WcsData;

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

fn api<H, T>(handler: H) -> MethodRouter<Wcs>
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

/// One namespace's w.c.s.: what its handlers receive. Cloning it is one
/// atomic increment.
#[derive(Debug, Clone)]
pub struct Wcs(Arc<Inner>);

/// What [`Wcs`] holds.
#[derive(Debug)]
pub struct Inner {
    /// Users, roles, categories, form definitions, forms and API accesses.
    pub data: Cell<WcsData>,
    /// Nonces seen.
    pub runtime: Runtime,
    pub clock: Arc<Clock>,
    pub settings: Arc<Settings>,
    /// Base of absolute URLs: the public URL, plus the namespace's prefix.
    pub base_url: String,
    /// The namespace's path prefix (`/__ns/{name}`), empty at the root, for
    /// relative redirects.
    pub prefix: String,
}

impl std::ops::Deref for Wcs {
    type Target = Inner;

    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl Wcs {
    /// A w.c.s. serving `data`, with no nonce seen yet.
    pub fn new(
        data: Arc<WcsData>,
        clock: Arc<Clock>,
        settings: Arc<Settings>,
        base_url: String,
        prefix: String,
    ) -> Self {
        Self(Arc::new(Inner {
            data: Cell::new(data),
            runtime: Runtime::default(),
            clock,
            settings,
            base_url,
            prefix,
        }))
    }

    /// Back to `data`, every nonce forgotten.
    pub fn reset(&self, data: Arc<WcsData>) {
        self.data.replace(data);
        self.runtime.reset();
    }

    /// The key of the API access `orig`, for signing (control surface).
    pub fn access_key(&self, orig: &str) -> Option<String> {
        self.data
            .read(|d| d.access(orig).map(|a| a.access_key.clone()))
    }
}

/// Used nonces, each forgotten 30 s (emulated clock) after it was seen.
#[derive(Debug, Default)]
pub struct Runtime {
    nonces: Mutex<Nonces>,
}

#[derive(Debug, Default)]
struct Nonces {
    expiry: HashMap<String, DateTime<Utc>>,
    order: VecDeque<(DateTime<Utc>, String)>,
}

impl Runtime {
    /// Forgets everything (control-plane reset).
    pub fn reset(&self) {
        let mut n = self.nonces.lock().unwrap_or_else(|e| e.into_inner());
        n.expiry.clear();
        n.order.clear();
    }

    /// Records `nonce` at `now`; false when it was already used within the
    /// window. Expired entries are pruned so memory stays bounded.
    pub fn use_nonce(&self, nonce: &str, now: DateTime<Utc>) -> bool {
        let mut n = self.nonces.lock().unwrap_or_else(|e| e.into_inner());
        while let Some((at, _)) = n.order.front() {
            if *at > now {
                break;
            }
            if let Some((at, key)) = n.order.pop_front()
                && n.expiry.get(&key) == Some(&at)
            {
                n.expiry.remove(&key);
            }
        }
        if n.expiry.get(nonce).is_some_and(|at| *at > now) {
            return false;
        }
        let at = now + TimeDelta::seconds(signature::WINDOW_SECONDS);
        n.expiry.insert(nonce.to_owned(), at);
        n.order.push_back((at, nonce.to_owned()));
        true
    }

    /// How many nonces are remembered.
    pub fn nonce_count(&self) -> usize {
        self.nonces
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .expiry
            .len()
    }
}

fn respond_json(value: &Value, outcome: impl Into<String>) -> Response {
    respond_body(json::dumps(value), outcome)
}

fn respond_body(body: String, outcome: impl Into<String>) -> Response {
    let mut r = ok_body(body);
    Outcome::attach(&mut r, outcome);
    r
}

/// A 200 with a JSON body, no outcome yet.
fn ok_body(body: String) -> Response {
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json")],
        body,
    )
        .into_response()
}

fn respond_err(e: WcsError, outcome: impl Into<String>) -> Response {
    let mut r = e.into_response();
    Outcome::attach(&mut r, outcome);
    r
}

fn auth_failure(e: AuthError) -> Response {
    let why = e.explain();
    respond_err(e.into_error(), why)
}

/// Runs `f` over the data and the request's authentication.
fn with_auth<R>(
    wcs: &Wcs,
    uri: &Uri,
    headers: &HeaderMap,
    f: impl FnOnce(&WcsData, Result<Auth, AuthError>) -> R,
) -> R {
    let now = wcs.clock.now();
    let raw = uri.query().unwrap_or("");
    wcs.data.read(|d| {
        let auth = auth::authenticate(d, &wcs.runtime, raw, headers, now);
        f(d, auth)
    })
}

fn who_words(data: &WcsData, who: &Who) -> String {
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

async fn user_index(State(wcs): State<Wcs>, uri: Uri, headers: HeaderMap) -> Response {
    with_auth(&wcs, &uri, &headers, |data, auth| {
        let auth = match auth {
            Ok(a) => a,
            Err(e) => return auth_failure(e),
        };
        profile_of(data, &auth.who, &auth)
    })
}

fn profile_of(data: &WcsData, who: &Who, auth: &Auth) -> Response {
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
async fn missing_slash(State(wcs): State<Wcs>, uri: Uri) -> Response {
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

async fn user_alias(State(wcs): State<Wcs>, uri: Uri, headers: HeaderMap) -> Response {
    if is_json_request(&uri, &headers) {
        return user_index(State(wcs), uri, headers).await;
    }
    let to = format!("{}/myspace/", wcs.base_url);
    let mut r = (StatusCode::FOUND, [(header::LOCATION, to.clone())], "").into_response();
    Outcome::attach(
        &mut r,
        format!("/user without JSON asked: redirect to {to}"),
    );
    r
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Listing {
    Forms,
    Drafts,
    Legacy,
}

async fn user_forms(State(wcs): State<Wcs>, uri: Uri, headers: HeaderMap) -> Response {
    listing(&wcs, &uri, &headers, None, Listing::Forms)
}

async fn user_drafts(State(wcs): State<Wcs>, uri: Uri, headers: HeaderMap) -> Response {
    listing(&wcs, &uri, &headers, None, Listing::Drafts)
}

async fn myspace_drafts(State(wcs): State<Wcs>, uri: Uri, headers: HeaderMap) -> Response {
    listing(&wcs, &uri, &headers, None, Listing::Legacy)
}

async fn bound_forms(State(wcs): State<Wcs>, uri: Uri, headers: HeaderMap) -> Response {
    listing(
        &wcs,
        &uri,
        &headers,
        Some(&bound_segment(&uri)),
        Listing::Forms,
    )
}

async fn bound_drafts(State(wcs): State<Wcs>, uri: Uri, headers: HeaderMap) -> Response {
    listing(
        &wcs,
        &uri,
        &headers,
        Some(&bound_segment(&uri)),
        Listing::Drafts,
    )
}

async fn bound_index(State(wcs): State<Wcs>, uri: Uri, headers: HeaderMap) -> Response {
    with_auth(&wcs, &uri, &headers, |data, auth| {
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
fn bind(data: &WcsData, auth: &Auth, x: &str) -> Result<usize, (WcsError, String)> {
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
    with_auth(wcs, uri, headers, |data, auth| {
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
        let params = match query::FormsQuery::parse(uri.query().unwrap_or("")) {
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
        let selected = query::select(data, target, &params, drafts_only, caller_roles.as_deref());
        let user = &data.users[target];
        let mut body = String::from("{\"err\": 0, \"data\": [");
        for (n, (i, readable)) in selected.iter().enumerate() {
            if n > 0 {
                body.push_str(", ");
            }
            match kind {
                Listing::Legacy => json::write(&mut body, &render::legacy_draft(data, base, *i)),
                _ if params.full => json::write(
                    &mut body,
                    &render::form_item(data, base, *i, true, *readable),
                ),
                _ => {
                    // `readable` is the item's last key: the rest is
                    // rendered once per form.
                    body.push_str(&data.form_json_head(*i, base));
                    body.push_str(if *readable {
                        ", \"readable\": true}"
                    } else {
                        ", \"readable\": false}"
                    });
                }
            }
        }
        body.push_str("]}");
        let what = if drafts_only { "drafts" } else { "forms" };
        let (how, count) = (auth.how, selected.len());
        let who = user.email.clone().unwrap_or_else(|| user.id.to_string());
        let mut response = ok_body(body);
        Outcome::attach_later(&mut response, move || {
            format!("{how}: user {who}: {count} {what}")
        });
        response
    })
}

async fn users_list(State(wcs): State<Wcs>, uri: Uri, headers: HeaderMap) -> Response {
    with_auth(&wcs, &uri, &headers, |data, auth| {
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
        let mut body = String::from("{\"data\": [");
        for (n, &i) in found.iter().enumerate() {
            if n > 0 {
                body.push_str(", ");
            }
            body.push_str(data.user_list_json(i));
        }
        body.push_str("], \"err\": 0}");
        respond_body(body, format!("{}: {} users", auth.how, found.len()))
    })
}

fn can_submit_backoffice(data: &WcsData, roles: &[String]) -> bool {
    data.formdefs.iter().any(|f| {
        f.backoffice_submission_roles
            .iter()
            .any(|r| roles.contains(r))
    })
}

async fn user_preferences(
    State(wcs): State<Wcs>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    preferences(&wcs, &uri, &headers, None, &body)
}

async fn bound_preferences(
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
fn preferences(
    wcs: &Wcs,
    uri: &Uri,
    headers: &HeaderMap,
    bound: Option<&str>,
    body: &[u8],
) -> Response {
    with_auth(wcs, uri, headers, |data, auth| {
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

/// The `<x>` of `/api/users/<x>/…`, percent-decoded (lossily, so a
/// malformed escape is a lookup that finds nobody, not a rejection).
fn bound_segment(uri: &Uri) -> String {
    let raw = uri
        .path()
        .strip_prefix("/api/users/")
        .and_then(|rest| rest.split('/').next())
        .unwrap_or("");
    percent_encoding::percent_decode_str(raw)
        .decode_utf8_lossy()
        .into_owned()
}
