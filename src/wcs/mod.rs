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
        let namespace = prefix.rsplit('/').next().filter(|n| !n.is_empty());
        Self(Arc::new(Inner {
            data: Cell::new(data),
            runtime: Runtime::new(settings.max_nonces, namespace.unwrap_or("(root)")),
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

    /// `url` (or a path, made absolute on this namespace's base URL) signed
    /// as w.c.s.'s reference signer does, at the emulated time, acting as
    /// `user`; with the key of `orig` unless one is given; with a random
    /// single-use nonce when `nonce` (control surface).
    pub fn sign(&self, request: &SignRequest<'_>) -> Result<String, SignRefusal> {
        let key = match request.key {
            Some(key) => key.to_owned(),
            None => self
                .access_key(request.orig)
                .ok_or_else(|| SignRefusal::UnknownOrig(request.orig.to_owned()))?,
        };
        let url = if request.url.starts_with('/') {
            format!("{}{}", self.base_url, request.url)
        } else {
            request.url.to_owned()
        };
        let (email, name_id) = match request.user {
            SignAs::Nobody => (None, None),
            SignAs::Email(email) => (Some(email), None),
            SignAs::NameId(name_id) => (None, Some(name_id)),
        };
        let url = signature::with_user(&url, email, name_id);
        signature::sign_url(
            &url,
            request.orig,
            &key,
            request.algo,
            self.clock.now(),
            (!request.nonce).then_some(""),
        )
        .map_err(SignRefusal::BadAlgo)
    }
}

/// Who a signed URL acts for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignAs<'a> {
    /// No user: the API access itself.
    Nobody,
    /// The user with this e-mail address (`email=`).
    Email(&'a str),
    /// The user with this NameID (`NameID=`).
    NameId(&'a str),
}

/// What to sign, for [`Wcs::sign`].
#[derive(Debug, Clone, Copy)]
pub struct SignRequest<'a> {
    /// A URL, or a path made absolute on the namespace's base URL.
    pub url: &'a str,
    /// The API access (`orig`).
    pub orig: &'a str,
    /// Its key; `None`: the one in the fixtures.
    pub key: Option<&'a str>,
    pub user: SignAs<'a>,
    /// HMAC digest (`sha256`, …).
    pub algo: &'a str,
    /// Add a random single-use nonce.
    pub nonce: bool,
}

impl<'a> SignRequest<'a> {
    /// `url` signed by `orig` with its own key, SHA-256 and a nonce.
    pub fn new(url: &'a str, orig: &'a str, user: SignAs<'a>) -> Self {
        Self {
            url,
            orig,
            key: None,
            user,
            algo: "sha256",
            nonce: true,
        }
    }
}

/// Why a URL could not be signed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignRefusal {
    /// No API access with this `orig`, and no key given.
    UnknownOrig(String),
    /// The algorithm is not one w.c.s. knows.
    BadAlgo(String),
}

impl std::fmt::Display for SignRefusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::UnknownOrig(orig) => write!(
                f,
                "no API access {orig:?} in wcs/api_accesses.json; give its key"
            ),
            Self::BadAlgo(why) => f.write_str(why),
        }
    }
}

impl std::error::Error for SignRefusal {}

/// Used nonces, each forgotten 30 s (emulated clock) after it was seen,
/// or sooner, oldest first, once `--max-nonces` are remembered: a frozen
/// clock never lets one expire, and a test signing in a loop would
/// otherwise grow the store without end.
#[derive(Debug)]
pub struct Runtime {
    nonces: Mutex<Nonces>,
    /// Most nonces remembered (at least one).
    cap: usize,
    /// The namespace, for the log.
    namespace: Box<str>,
}

#[derive(Debug, Default)]
struct Nonces {
    expiry: HashMap<String, DateTime<Utc>>,
    order: VecDeque<(DateTime<Utc>, String)>,
    forgetting: Forgetting,
}

/// Whether a nonce was fresh.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NonceCheck {
    /// Not used within the window: now remembered, after forgetting this
    /// many older ones to stay within `--max-nonces`.
    Fresh { forgotten: usize },
    /// Already used within the window.
    Used,
}

impl Runtime {
    /// A store remembering at most `cap` nonces, in the namespace named
    /// `namespace` (for the log).
    pub fn new(cap: usize, namespace: &str) -> Self {
        Self {
            nonces: Mutex::new(Nonces::default()),
            cap: cap.max(1),
            namespace: namespace.into(),
        }
    }

    /// Forgets everything (control-plane reset).
    pub fn reset(&self) {
        let mut n = self.nonces.lock().unwrap_or_else(|e| e.into_inner());
        n.expiry.clear();
        n.order.clear();
    }

    /// Records `nonce` at `now`, unless it was already used within the
    /// window. Expired entries are pruned, and past the cap the oldest are
    /// forgotten, so memory stays bounded.
    pub fn use_nonce(&self, nonce: &str, now: DateTime<Utc>) -> NonceCheck {
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
            return NonceCheck::Used;
        }
        // The order also holds entries of nonces seen again after they
        // expired, which a clock moved back may keep from being pruned:
        // bounded too.
        let mut forgotten = 0;
        while n.expiry.len() >= self.cap || n.order.len() >= 2 * self.cap {
            let Some((at, key)) = n.order.pop_front() else {
                break;
            };
            if n.expiry.get(&key) == Some(&at) {
                n.expiry.remove(&key);
                forgotten += 1;
            }
        }
        let at = now + TimeDelta::seconds(signature::WINDOW_SECONDS);
        n.expiry.insert(nonce.to_owned(), at);
        n.order.push_back((at, nonce.to_owned()));
        if forgotten > 0
            && let Some(count) = n.forgetting.note(forgotten, std::time::Instant::now())
        {
            drop(n);
            tracing::info!(
                namespace = &*self.namespace,
                forgotten = count,
                "w.c.s. nonce store full (--max-nonces {}): forgot the {count} oldest nonce(s) \
                 since the last such line; the URLs signed with them could be replayed",
                self.cap
            );
        }
        NonceCheck::Fresh { forgotten }
    }

    /// How many nonces are remembered.
    pub fn nonce_count(&self) -> usize {
        self.nonces
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .expiry
            .len()
    }

    /// The most nonces remembered.
    pub fn cap(&self) -> usize {
        self.cap
    }
}

/// Nonces forgotten early, said in the log at most once a second.
#[derive(Debug, Default)]
struct Forgetting {
    last_line: Option<std::time::Instant>,
    untold: u64,
}

impl Forgetting {
    /// Counts `n` more forgotten at `now`; returns how many to tell when a
    /// line is due (the first ever, or a second after the last).
    fn note(&mut self, n: usize, now: std::time::Instant) -> Option<u64> {
        self.untold += n as u64;
        let due = self
            .last_line
            .is_none_or(|last| now.duration_since(last) >= std::time::Duration::from_secs(1));
        if !due {
            return None;
        }
        self.last_line = Some(now);
        Some(std::mem::take(&mut self.untold))
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

/// Runs `f` over the data and the request's authentication; the outcome
/// says when older nonces had to be forgotten to remember this one.
fn with_auth(
    wcs: &Wcs,
    uri: &Uri,
    headers: &HeaderMap,
    f: impl FnOnce(&WcsData, Result<Auth, AuthError>) -> Response,
) -> Response {
    let now = wcs.clock.now();
    let raw = uri.query().unwrap_or("");
    let mut forgotten = 0;
    let mut response = wcs.data.read(|d| {
        let auth = auth::authenticate(d, &wcs.runtime, raw, headers, now, &mut forgotten);
        f(d, auth)
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
            body.push_str(render::user_list_json(data, i));
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

#[cfg(test)]
mod tests {
    use super::*;

    fn at(seconds: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + seconds, 0).unwrap()
    }

    #[test]
    fn past_the_cap_the_oldest_nonces_are_forgotten_first() {
        let runtime = Runtime::new(3, "t");
        for nonce in ["a", "b", "c"] {
            assert_eq!(
                runtime.use_nonce(nonce, at(0)),
                NonceCheck::Fresh { forgotten: 0 }
            );
        }
        assert_eq!(
            runtime.use_nonce("d", at(0)),
            NonceCheck::Fresh { forgotten: 1 }
        );
        assert_eq!(runtime.nonce_count(), 3);
        assert_eq!(runtime.use_nonce("b", at(0)), NonceCheck::Used);
        assert_eq!(
            runtime.use_nonce("a", at(0)),
            NonceCheck::Fresh { forgotten: 1 }
        );
        assert_eq!(runtime.use_nonce("c", at(0)), NonceCheck::Used);
        assert_eq!(runtime.use_nonce("d", at(0)), NonceCheck::Used);
        assert_eq!(runtime.use_nonce("a", at(0)), NonceCheck::Used);
    }

    #[test]
    fn a_clock_moved_back_and_forth_keeps_the_store_bounded() {
        let runtime = Runtime::new(2, "t");
        for i in 0..1000 {
            // Back and forth by more than the window.
            let now = if i % 2 == 0 { at(0) } else { at(100) };
            let _ = runtime.use_nonce(&format!("n{}", i % 5), now);
            let order = runtime.nonces.lock().unwrap().order.len();
            assert!(order <= 4, "{order} entries in the order after {i} calls");
            assert!(runtime.nonce_count() <= 2);
        }
    }

    #[test]
    fn forgetting_is_told_at_most_once_a_second_with_the_count() {
        let start = std::time::Instant::now();
        let ms = |n| start + std::time::Duration::from_millis(n);
        let mut forgetting = Forgetting::default();
        assert_eq!(forgetting.note(1, ms(0)), Some(1));
        assert_eq!(forgetting.note(1, ms(10)), None);
        assert_eq!(forgetting.note(2, ms(999)), None);
        assert_eq!(forgetting.note(1, ms(1000)), Some(4));
        assert_eq!(forgetting.note(1, ms(1500)), None);
        assert_eq!(forgetting.note(1, ms(3000)), Some(2));
    }
}
