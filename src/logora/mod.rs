//! Emulation of Logora's server API: the OAuth 2.0 server (Doorkeeper's
//! client-credentials flow, revocation, introspection and token info) and the
//! users API (list, anonymize, delete). Upstream behaviour:
//! ../shared/spec/logora.md (§3 Doorkeeper, §4 pagination, §5 choices) and
//! the Logora "Données utilisateurs" page (../shared/seeds).
//!
//! The wing stands on the shared ground only: its data lives in a
//! [`Cell`], time comes from the [`Clock`], settings from [`Settings`], and
//! each answer says why through an [`Outcome`]. [`Logora`] is one
//! namespace's Logora, which handlers receive as their state; its
//! "control surface" section is what the control plane may call.

pub mod auth;
pub mod error;
pub mod model;
pub mod pagination;
pub mod token;
pub mod users;

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use serde::Serialize;
use serde_json::{Value, json};
use subtle::ConstantTimeEq;

use crate::clock::Clock;
use crate::config::Settings;
use crate::outcome::Outcome;
use crate::store::Cell;
use error::{LogoraError, TokenProblem, json_response};
use model::{Client, LogoraData, scope_bits, scope_str, scope_text};
use token::{Binding, TokenInfo};

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

/// One namespace's Logora: what its handlers receive. Cloning it is one
/// atomic increment.
#[derive(Debug, Clone)]
pub struct Logora(Arc<Inner>);

/// What [`Logora`] holds.
#[derive(Debug)]
pub struct Inner {
    /// Applications, clients and users.
    pub data: Cell<LogoraData>,
    /// Tokens minted and revoked.
    pub runtime: Runtime,
    pub clock: Arc<Clock>,
    pub settings: Arc<Settings>,
    /// Base of absolute URLs: the public URL, plus the namespace's prefix.
    pub base_url: String,
    /// The users list's URL, which every page's links start with.
    pub users_url: String,
    /// The namespace's identity that tokens are bound to; `None` at the
    /// root.
    realm: Option<Box<[u8]>>,
}

impl std::ops::Deref for Logora {
    type Target = Inner;

    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl Logora {
    /// A Logora serving `data`, with fresh runtime state.
    pub fn new(
        data: Arc<LogoraData>,
        clock: Arc<Clock>,
        settings: Arc<Settings>,
        base_url: String,
        realm: Option<Box<[u8]>>,
    ) -> Self {
        Self(Arc::new(Inner {
            data: Cell::new(data),
            runtime: Runtime::default(),
            clock,
            settings,
            users_url: format!("{base_url}/api/v1/users"),
            base_url,
            realm,
        }))
    }

    fn now(&self) -> i64 {
        self.clock.now().timestamp()
    }

    fn binding(&self) -> Binding<'_> {
        Binding {
            generation: self.runtime.generation(),
            realm: self.realm.as_deref(),
        }
    }

    /// What a token says, when it is one of this namespace's since its
    /// last reset.
    fn decode(&self, token: &str) -> Option<TokenInfo> {
        self.data
            .read(|data| token::decode(data, token, self.binding()))
    }

    /// A token checked as a protected route checks it: revoked first, then
    /// expiry by the emulated clock (Doorkeeper's order).
    pub fn check_token(&self, token: &str) -> Result<TokenInfo, (TokenProblem, String)> {
        let Some(info) = self.decode(token) else {
            return Err((
                TokenProblem::Invalid,
                "no token of any client (unknown, malformed, or signed with another secret)"
                    .to_owned(),
            ));
        };
        let now = self.now();
        if self.runtime.is_revoked(token, now) {
            return Err((
                TokenProblem::Revoked,
                format!("token of {} was revoked", info.client_id),
            ));
        }
        if now > info.expires_at() {
            return Err((
                TokenProblem::Expired,
                format!(
                    "token of {} expired {} s ago",
                    info.client_id,
                    now - info.expires_at()
                ),
            ));
        }
        Ok(info)
    }

    // The control surface: what the control plane and fault injection may
    // call.

    /// The client a bearer token was issued to, for a valid, unexpired,
    /// unrevoked token.
    pub fn client_of_token(&self, token: &str) -> Option<String> {
        self.check_token(token).ok().map(|info| info.client_id)
    }

    /// Issues a token to `client_id` as `/oauth/token` does after the
    /// client authenticated; `scope` is the space-separated request (`None`
    /// or blank: the default `public`). Returns the `/oauth/token` success
    /// body.
    pub fn mint(&self, client_id: &str, scope: Option<&str>) -> Result<Value, LogoraError> {
        let client = self
            .data
            .read(|data| data.client(client_id).cloned())
            .ok_or_else(LogoraError::invalid_client)?;
        let issued = self.mint_for(&client, scope).map_err(|(e, _)| e)?;
        Ok(serde_json::to_value(&issued).unwrap_or(Value::Null))
    }

    fn mint_for(
        &self,
        client: &Client,
        scope: Option<&str>,
    ) -> Result<Issued, (LogoraError, String)> {
        let allowed = scope_bits(&client.scopes).unwrap_or(0);
        let bits = match scope.filter(|s| !s.trim().is_empty()) {
            // Doorkeeper's default scope, limited to the client's own.
            None => {
                if allowed & 1 == 0 {
                    return Err((
                        LogoraError::invalid_scope(),
                        format!(
                            "invalid_scope: no scope asked and {} may not have the default scope public (allowed: {})",
                            client.client_id, client.scopes
                        ),
                    ));
                }
                1
            }
            Some(asked) => match scope_bits(asked) {
                Err(unknown) => {
                    return Err((
                        LogoraError::invalid_scope(),
                        format!("invalid_scope: unknown scope {unknown:?}"),
                    ));
                }
                Ok(bits) if bits & !allowed != 0 => {
                    return Err((
                        LogoraError::invalid_scope(),
                        format!(
                            "invalid_scope: {} may only have {:?}, asked {asked:?}",
                            client.client_id, client.scopes
                        ),
                    ));
                }
                Ok(bits) => bits,
            },
        };
        let lifetime = client
            .token_lifetime
            .unwrap_or(self.settings.logora_token_lifetime);
        let created_at = self.now();
        let access_token = token::encode(
            client,
            bits,
            created_at,
            lifetime,
            rand::random(),
            self.binding(),
        );
        let scope = scope_str(bits);
        self.runtime.remember(Minted {
            token: access_token.clone(),
            client_id: client.client_id.clone(),
            scope: scope.to_owned(),
            created_at,
            expires_at: created_at + i64::from(lifetime),
        });
        Ok(Issued {
            access_token,
            token_type: "Bearer",
            expires_in: lifetime,
            scope,
            created_at,
        })
    }

    /// Tokens minted recently (the last [`RECENT_TOKENS`]) that still work:
    /// `{access_token, client_id, scope, created_at, expires_at}` each.
    pub fn live_tokens(&self) -> Vec<Value> {
        let recent: Vec<Minted> = self.runtime.lock().recent.iter().cloned().collect();
        recent
            .into_iter()
            .filter(|m| self.check_token(&m.token).is_ok())
            .map(|m| {
                json!({
                    "access_token": m.token,
                    "client_id": m.client_id,
                    "scope": m.scope,
                    "created_at": m.created_at,
                    "expires_at": m.expires_at,
                })
            })
            .collect()
    }

    /// Revokes a token as Doorkeeper does: only one that is still
    /// accessible; an expired token is left as it is.
    pub fn revoke(&self, token: &str) -> Revocation {
        let Some(info) = self.decode(token) else {
            return Revocation::Unknown;
        };
        let now = self.now();
        if self.runtime.is_revoked(token, now) {
            return Revocation::Revoked(info);
        }
        if now > info.expires_at() {
            return Revocation::Expired(info);
        }
        self.runtime.revoke(token, info.expires_at(), now);
        Revocation::Revoked(info)
    }

    /// Back to a fresh start: revocations and minted tokens forgotten, and
    /// every token issued so far void.
    pub fn reset(&self, data: Arc<LogoraData>) {
        self.data.replace(data);
        self.runtime.reset();
    }
}

/// The `/oauth/token` success body, in Doorkeeper's order: serialized
/// straight from this, rather than through a JSON tree, on every token.
#[derive(Debug, Serialize)]
struct Issued {
    access_token: String,
    token_type: &'static str,
    expires_in: u32,
    scope: &'static str,
    created_at: i64,
}

/// What a revocation did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Revocation {
    /// No token of ours.
    Unknown,
    /// Expired before it could be revoked: Doorkeeper leaves it so.
    Expired(TokenInfo),
    /// Revoked (now or before).
    Revoked(TokenInfo),
}

/// How many minted tokens [`Logora::live_tokens`] remembers.
pub const RECENT_TOKENS: usize = 1000;

/// Runtime state that is not fixture data: revoked tokens (pruned a day
/// after they expire), a bounded record of recently minted tokens, and the
/// reset count tokens are bound to.
#[derive(Debug, Default)]
pub struct Runtime {
    inner: Mutex<RuntimeInner>,
    /// Resets so far: tokens carry it in their MAC, so a reset voids every
    /// token issued before it, as a wiped Doorkeeper table would.
    generation: AtomicU64,
    /// Whether `revoked` holds anything: the usual answer, no, is read
    /// without taking the lock every protected request would otherwise
    /// contend for.
    any_revoked: AtomicBool,
}

#[derive(Debug, Default)]
struct RuntimeInner {
    /// Revoked token to the epoch second it would have expired at.
    revoked: HashMap<String, i64>,
    recent: VecDeque<Minted>,
}

#[derive(Debug, Clone)]
struct Minted {
    token: String,
    client_id: String,
    scope: String,
    created_at: i64,
    expires_at: i64,
}

impl Runtime {
    /// Forgets everything and voids every token issued so far.
    fn reset(&self) {
        let mut inner = self.lock();
        inner.revoked.clear();
        self.any_revoked.store(false, Ordering::Release);
        inner.recent.clear();
        self.generation.fetch_add(1, Ordering::Relaxed);
    }

    /// Resets so far (see [`token::Binding`]).
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Relaxed)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, RuntimeInner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn remember(&self, minted: Minted) {
        let mut inner = self.lock();
        if inner.recent.len() >= RECENT_TOKENS {
            inner.recent.pop_front();
        }
        inner.recent.push_back(minted);
    }

    /// Whether `token` was revoked and the revocation is still kept at
    /// `now` (see [`REVOKED_KEPT_PAST_EXPIRY`]).
    fn is_revoked(&self, token: &str, now: i64) -> bool {
        if !self.any_revoked.load(Ordering::Acquire) {
            return false;
        }
        self.lock()
            .revoked
            .get(token)
            .is_some_and(|expires_at| expires_at + REVOKED_KEPT_PAST_EXPIRY >= now)
    }

    fn revoke(&self, token: &str, expires_at: i64, now: i64) {
        let mut inner = self.lock();
        // Doorkeeper says "revoked" before "expired", forever; forgetting a
        // revocation a day after the token's expiry keeps the set bounded
        // and the answer right for any test that moves the clock by hours.
        inner
            .revoked
            .retain(|_, expires_at| *expires_at + REVOKED_KEPT_PAST_EXPIRY >= now);
        inner.revoked.insert(token.to_owned(), expires_at);
        self.any_revoked.store(true, Ordering::Release);
    }
}

/// Seconds a revocation is remembered after its token would have expired.
const REVOKED_KEPT_PAST_EXPIRY: i64 = 86_400;

/// Attaches `outcome` and answers.
fn answer(mut response: Response, outcome: impl Into<String>) -> Response {
    Outcome::attach(&mut response, outcome);
    response
}

/// Attaches the outcome `write` writes when someone reads it, and
/// answers: for the answers called by the thousand.
fn answer_later(
    mut response: Response,
    write: impl Fn() -> String + Send + Sync + 'static,
) -> Response {
    Outcome::attach_later(&mut response, write);
    response
}

fn fail(error: LogoraError, outcome: impl Into<String>) -> Response {
    answer(error.into_response(), outcome)
}

/// A Doorkeeper success body with its cache headers as they reach the
/// client: Doorkeeper sets `no-store, no-cache`, and Rails keeps only
/// `no-store` of that (docs/fidelity.md).
fn oauth_ok(body: &impl Serialize) -> Response {
    // Strings, numbers and JSON values always serialize.
    let body = serde_json::to_string(body).unwrap_or_default();
    let mut response = json_response(StatusCode::OK, body);
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, error::NO_STORE);
    headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    response
}

/// The client a request authenticates as, or why it does not.
fn authenticate(
    logora: &Logora,
    headers: &HeaderMap,
    params: &auth::Params,
) -> Result<Client, String> {
    let Some((id, secret, source)) = auth::client_credentials(headers, params) else {
        return Err("no client authentication (no Basic header, no client_id)".to_owned());
    };
    let how = match source {
        auth::CredentialSource::Basic => "HTTP Basic",
        auth::CredentialSource::Params => "client_id/client_secret parameters",
    };
    let Some(client) = logora.data.read(|d| d.client(&id).cloned()) else {
        return Err(format!("unknown client_id {id:?} (by {how})"));
    };
    if bool::from(client.client_secret.as_bytes().ct_eq(secret.as_bytes())) {
        Ok(client)
    } else if secret.is_empty() {
        Err(format!("no client_secret for {id} (by {how})"))
    } else {
        Err(format!("wrong client_secret for {id} (by {how})"))
    }
}

/// `POST /oauth/token`: the client-credentials grant.
async fn token_endpoint(
    State(logora): State<Logora>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Ok(params) = auth::params(query.as_deref(), &headers, &body) else {
        return fail(
            LogoraError::invalid_request(error::INVALID_REQUEST),
            "invalid_request: the JSON body is not a JSON object",
        );
    };
    match params.present("grant_type") {
        None => {
            return fail(
                LogoraError::invalid_request(error::MISSING_GRANT_TYPE),
                "invalid_request: no grant_type",
            );
        }
        Some("client_credentials") => {}
        Some(other) => {
            return fail(
                LogoraError::unsupported_grant_type(),
                format!(
                    "unsupported_grant_type: {other:?} (doublure emulates client_credentials only)"
                ),
            );
        }
    }
    let client = match authenticate(&logora, &headers, &params) {
        Ok(client) => client,
        Err(why) => {
            return fail(
                LogoraError::invalid_client(),
                format!("invalid_client: {why}"),
            );
        }
    };
    let ignored = if params.get("scopes").is_some() && params.get("scope").is_none() {
        " (the `scopes` parameter is ignored, as Doorkeeper ignores it: send `scope`)"
    } else {
        ""
    };
    match logora.mint_for(&client, params.get("scope")) {
        Ok(issued) => {
            let (scope, expires_in) = (issued.scope, issued.expires_in);
            let client_id = client.client_id;
            answer_later(oauth_ok(&issued), move || {
                format!(
                    "token issued to {client_id}, scope {scope}, expires in {expires_in} s{ignored}"
                )
            })
        }
        Err((error, why)) => fail(error, why),
    }
}

/// `POST /oauth/revoke` (RFC 7009 as Doorkeeper answers it).
async fn revoke_endpoint(
    State(logora): State<Logora>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let params = auth::params(query.as_deref(), &headers, &body).unwrap_or_default();
    let client = match authenticate(&logora, &headers, &params) {
        Ok(client) => client,
        Err(why) => {
            return fail(
                LogoraError::RevokeUnauthorized,
                format!("revoke refused: {why}"),
            );
        }
    };
    let token = params.get("token").unwrap_or("");
    match logora.decode(token) {
        None => answer(
            oauth_ok(&json!({})),
            "revoke: no such token, nothing to do (RFC 7009 answers 200)",
        ),
        Some(info) if info.client_id != client.client_id => fail(
            LogoraError::RevokeUnauthorized,
            format!(
                "revoke refused: the token belongs to {}, not {}",
                info.client_id, client.client_id
            ),
        ),
        Some(_) => match logora.revoke(token) {
            Revocation::Expired(info) => answer(
                oauth_ok(&json!({})),
                format!(
                    "revoke: token of {} had expired, left as it is (Doorkeeper revokes only accessible tokens)",
                    info.client_id
                ),
            ),
            Revocation::Revoked(info) => answer(
                oauth_ok(&json!({})),
                format!("token of {} revoked", info.client_id),
            ),
            Revocation::Unknown => answer(
                oauth_ok(&json!({})),
                "revoke: no such token, nothing to do (RFC 7009 answers 200)",
            ),
        },
    }
}

/// `POST /oauth/introspect` (RFC 7662 as Doorkeeper answers it).
async fn introspect_endpoint(
    State(logora): State<Logora>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let params = auth::params(query.as_deref(), &headers, &body).unwrap_or_default();
    let token = params.get("token").unwrap_or("").to_owned();
    // The caller is a client (Basic or parameters) or holds another token.
    if let Some(bearer) = auth::bearer_header(&headers) {
        if bearer == token {
            return fail(
                LogoraError::Token(TokenProblem::Invalid),
                "introspect refused: the caller's bearer token is the token introspected",
            );
        }
        let caller = match logora.check_token(&bearer) {
            Ok(info) => info.client_id,
            Err((problem, why)) => {
                return fail(
                    LogoraError::Token(problem),
                    format!("introspect refused: caller's {why}"),
                );
            }
        };
        // Upstream: Doorkeeper's default `allow_token_introspection` lets a
        // bearer introspect only tokens of its own application; any other
        // token, unknown ones included, is `authorize_using_bearer_token!`'s
        // 401.
        return match logora.decode(&token) {
            Some(info) if info.client_id == caller => introspection(&logora, &token, &caller),
            Some(info) => fail(
                LogoraError::Token(TokenProblem::Invalid),
                format!(
                    "introspect refused: the token belongs to {}, and a bearer of {caller} may only introspect {caller}'s tokens",
                    info.client_id
                ),
            ),
            None => fail(
                LogoraError::Token(TokenProblem::Invalid),
                format!(
                    "introspect refused: the token introspected is no token of ours, and a bearer of {caller} may only introspect {caller}'s tokens"
                ),
            ),
        };
    }
    if auth::client_credentials(&headers, &params).is_none() {
        return fail(
            LogoraError::invalid_request(error::INTROSPECT_UNAUTHORIZED),
            "introspect refused: no client credentials and no bearer token",
        );
    }
    match authenticate(&logora, &headers, &params) {
        Ok(client) => introspection(&logora, &token, &client.client_id),
        Err(why) => fail(
            LogoraError::invalid_client(),
            format!("introspect refused: invalid_client: {why}"),
        ),
    }
}

/// The introspection answer of `token` for an authorized `caller`.
fn introspection(logora: &Logora, token: &str, caller: &str) -> Response {
    match logora.check_token(token) {
        Ok(info) if info.client_id == caller => answer(
            oauth_ok(&json!({
                "active": true,
                "scope": scope_text(info.scope_bits),
                "client_id": info.client_id,
                "token_type": "Bearer",
                "exp": info.expires_at(),
                "iat": info.created_at,
            })),
            format!("introspect: active token of {}", info.client_id),
        ),
        Ok(info) => answer(
            oauth_ok(&json!({"active": false})),
            format!(
                "introspect: token of {} asked by {caller}: inactive for them",
                info.client_id
            ),
        ),
        Err((_, why)) => answer(
            oauth_ok(&json!({"active": false})),
            format!("introspect: inactive: {why}"),
        ),
    }
}

/// `GET /oauth/token/info`. Every refusal says "The access token is
/// invalid", as Doorkeeper's `TokenInfoController` answers whatever the
/// cause; the outcome keeps the true reason.
async fn token_info_endpoint(
    State(logora): State<Logora>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let pairs: Vec<(String, String)> = query
        .map(|q| form_urlencoded::parse(q.as_bytes()).into_owned().collect())
        .unwrap_or_default();
    let Some(token) = auth::bearer_token(&headers, &pairs) else {
        return fail(
            LogoraError::Token(TokenProblem::Invalid),
            "token info: no bearer token",
        );
    };
    match logora.check_token(&token) {
        Ok(info) => {
            let text = scope_text(info.scope_bits);
            let scopes: Vec<&str> = text.split_whitespace().collect();
            answer(
                oauth_ok(&json!({
                    "resource_owner_id": null,
                    "scope": scopes,
                    "expires_in": info.expires_at() - logora.now(),
                    "application": {"uid": info.client_id},
                    "created_at": info.created_at,
                })),
                format!("token info for {}", info.client_id),
            )
        }
        Err((_, why)) => fail(
            LogoraError::Token(TokenProblem::Invalid),
            format!("token info: {why}"),
        ),
    }
}
