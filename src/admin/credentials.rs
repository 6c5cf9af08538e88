//! Shortcuts past the emulated protocols, for tests that want a credential
//! without performing the exchange: Logora tokens minted, listed and revoked
//! directly (same code as `/oauth/token` and `/oauth/revoke`), and w.c.s.
//! URLs signed with the reference signer (same code as `doublure sign`).

use axum::Json;
use axum::extract::Path;
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};

use super::In;
use super::error::{AdminError, AdminJson};
use crate::logora::Revocation;
use crate::logora::error::LogoraError;
use crate::wcs::{SignAs, SignRefusal};

/// What to mint.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MintRequest {
    /// A client of `logora/clients.json`.
    pub client_id: String,
    /// Space-separated scopes, within the client's; default `public`.
    #[serde(default)]
    pub scope: Option<String>,
}

/// Mints a Logora token for a client, as a successful `/oauth/token` would.
#[utoipa::path(post, path = "/__doublure/logora/tokens", tag = "credentials", request_body = MintRequest,
    responses((status = 201, description = "The /oauth/token success body", body = Object,
        example = json!({"access_token": "…43 characters…", "token_type": "Bearer", "expires_in": 7200, "scope": "public", "created_at": 1768471200})),
        (status = 400, description = "A scope the client may not have"), (status = 404, description = "No such client")))]
pub async fn mint(
    In(state): In,
    AdminJson(request): AdminJson<MintRequest>,
) -> Result<(StatusCode, Json<Value>), AdminError> {
    // The client and scope are checked first: a token that would be
    // refused gets its 404 or 400 whatever room is left.
    let asked = request.client_id.len() + request.scope.as_ref().map_or(0, String::len);
    let minted = state.logora.mint_admitted(
        &request.client_id,
        request.scope.as_deref(),
        |refusal| refused(&request.client_id, refusal),
        || super::room::charge_token(&state, asked),
    )?;
    Ok((StatusCode::CREATED, Json(minted)))
}

/// The control plane's answer to a token `/oauth/token` would refuse.
fn refused(client_id: &str, refusal: LogoraError) -> AdminError {
    match refusal {
        LogoraError::OAuth {
            code: "invalid_client",
            description,
            ..
        } => AdminError::NotFound(format!(
            "no client {client_id:?} in logora/clients.json ({description})"
        )),
        LogoraError::OAuth {
            code, description, ..
        } => AdminError::BadRequest(format!("{code}: {description}")),
        other => AdminError::BadRequest(format!("{other:?}")),
    }
}

/// Lists the live tokens among the last 1000 minted.
#[utoipa::path(get, path = "/__doublure/logora/tokens", tag = "credentials",
    responses((status = 200, description = "`{\"tokens\": [{access_token, client_id, scope, created_at, expires_at}]}`: unexpired, unrevoked tokens among the last 1000 minted", body = Object)))]
pub async fn list(In(state): In) -> Json<Value> {
    Json(json!({"tokens": state.logora.live_tokens()}))
}

/// Revokes a token, as `/oauth/revoke` would.
#[utoipa::path(delete, path = "/__doublure/logora/tokens/{token}", tag = "credentials",
    params(("token" = String, Path, description = "The access token")),
    responses((status = 200, description = "Revoked: the APIs now answer \"The access token was revoked\"", body = Object),
        (status = 404, description = "Not a token of this namespace, or issued before its last reset"),
        (status = 409, description = "The token has expired: Doorkeeper revokes only tokens still accessible, and the APIs go on answering \"The access token expired\"")))]
pub async fn revoke(In(state): In, Path(token): Path<String>) -> Result<Json<Value>, AdminError> {
    match state.logora.revoke(&token) {
        Revocation::Revoked(_) => Ok(Json(json!({"revoked": token}))),
        Revocation::Expired(info) => Err(AdminError::Conflict(format!(
            "the token of {} expired at {}: Doorkeeper revokes only tokens still accessible, so it stays expired",
            info.client_id,
            info.expires_at()
        ))),
        Revocation::Unknown => Err(AdminError::NotFound(
            "not a token of this namespace, or issued before its last reset".to_owned(),
        )),
    }
}

/// What to sign.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignRequest {
    /// A URL or a path (`/api/user/forms?full=on`); a path is made absolute
    /// with `--public-url`.
    pub url: String,
    /// An API access of `wcs/api_accesses.json`.
    pub orig: String,
    /// Its key; default: the one in the fixtures.
    #[serde(default)]
    pub key: Option<String>,
    /// The user, by e-mail address…
    #[serde(default)]
    pub email: Option<String>,
    /// …or by NameID.
    #[serde(default)]
    pub name_id: Option<String>,
    /// HMAC digest; default `sha256`.
    #[serde(default)]
    pub algo: Option<String>,
    /// Add a random nonce (single use); default true. Without one the URL
    /// can be replayed for 30 seconds.
    #[serde(default)]
    pub nonce: Option<bool>,
}

/// Signs a w.c.s. URL with the reference signer, at the emulated time.
#[utoipa::path(post, path = "/__doublure/wcs/sign", tag = "credentials", request_body = SignRequest,
    responses((status = 200, description = "`{\"url\": \"<signed URL>\"}`, valid for 30 seconds of the emulated clock", body = Object),
        (status = 400, description = "Both email and name_id, or an unknown algo"), (status = 404, description = "No API access with that orig and no key given")))]
pub async fn sign(
    In(state): In,
    AdminJson(request): AdminJson<SignRequest>,
) -> Result<Json<Value>, AdminError> {
    let user = match (request.email.as_deref(), request.name_id.as_deref()) {
        (Some(_), Some(_)) => {
            return Err(AdminError::BadRequest(
                "give email or name_id, not both".to_owned(),
            ));
        }
        (Some(email), None) => SignAs::Email(email),
        (None, Some(name_id)) => SignAs::NameId(name_id),
        (None, None) => SignAs::Nobody,
    };
    let signed = state
        .wcs
        .sign(&crate::wcs::SignRequest {
            url: &request.url,
            orig: &request.orig,
            key: request.key.as_deref(),
            user,
            algo: request.algo.as_deref().unwrap_or("sha256"),
            nonce: request.nonce.unwrap_or(true),
        })
        .map_err(|refusal| match refusal {
            SignRefusal::UnknownOrig(_) => AdminError::NotFound(refusal.to_string()),
            SignRefusal::BadAlgo(why) => AdminError::BadRequest(why),
        })?;
    Ok(Json(json!({"url": signed})))
}
