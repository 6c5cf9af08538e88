//! The OAuth 2.0 endpoints: `/oauth/token` (client credentials),
//! `/oauth/revoke`, `/oauth/introspect` and `/oauth/token/info`. Upstream:
//! Doorkeeper's app/controllers/doorkeeper/tokens_controller.rb and
//! token_info_controller.rb.

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::HeaderMap;
use axum::response::Response;
use serde_json::json;

use crate::extract::Headers;

use super::error::{LogoraError, TokenProblem};
use super::model::scope_text;
use super::respond::{answer, answer_later, authenticate, fail, oauth_ok};
use super::runtime::Revocation;
use super::state::Logora;
use super::{auth, error};

/// `POST /oauth/token`: the client-credentials grant.
pub(super) async fn token_endpoint(
    State(logora): State<Logora>,
    RawQuery(query): RawQuery,
    Headers(headers): Headers,
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
    if let Some(why) = two_authentications(&logora, &headers, &params) {
        return fail(
            LogoraError::invalid_request(error::TWO_CLIENT_AUTHENTICATIONS),
            why,
        );
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

/// Why a token request that sends HTTP Basic and `client_id` parameters
/// both is refused, under a Doorkeeper profile (5.9.5 on) that refuses
/// it; the Basic client's application decides, else `--doorkeeper`.
fn two_authentications(
    logora: &Logora,
    headers: &HeaderMap,
    params: &auth::Params,
) -> Option<String> {
    let (id, _) = auth::basic(headers)?;
    params.present("client_id")?;
    let profile = match logora
        .data
        .read(|d| d.client(&id).map(|c| c.application_id))
    {
        Some(app) => logora.doorkeeper(app),
        None => logora.settings.doorkeeper,
    };
    (profile != crate::config::Doorkeeper::V5_9_0).then(|| {
        format!(
            "invalid_request: HTTP Basic and client_id parameters together (Doorkeeper {profile} refuses two client authentications)"
        )
    })
}

/// `POST /oauth/revoke` (RFC 7009 as Doorkeeper answers it).
pub(super) async fn revoke_endpoint(
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
pub(super) async fn introspect_endpoint(
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
pub(super) async fn token_info_endpoint(
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
