//! What every Logora handler shares: answers with their outcome, and the
//! client authentication of the OAuth endpoints.

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use subtle::ConstantTimeEq;

use super::error::{LogoraError, json_response};
use super::model::Client;
use super::state::Logora;
use super::{auth, error};
use crate::outcome::Outcome;

/// Attaches `outcome` and answers.
pub(super) fn answer(mut response: Response, outcome: impl Into<String>) -> Response {
    Outcome::attach(&mut response, outcome);
    response
}

/// Attaches the outcome `write` writes when someone reads it, and
/// answers: for the answers called by the thousand.
pub(super) fn answer_later(
    mut response: Response,
    write: impl Fn() -> String + Send + Sync + 'static,
) -> Response {
    Outcome::attach_later(&mut response, write);
    response
}

pub(super) fn fail(error: LogoraError, outcome: impl Into<String>) -> Response {
    answer(error.into_response(), outcome)
}

/// A Doorkeeper success body with its cache headers as they reach the
/// client: Doorkeeper sets `no-store, no-cache`, and Rails keeps only
/// `no-store` of that (docs/fidelity.md).
pub(super) fn oauth_ok(body: &impl Serialize) -> Response {
    // Strings, numbers and JSON values always serialize.
    let body = serde_json::to_string(body).unwrap_or_default();
    let mut response = json_response(StatusCode::OK, body);
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, error::NO_STORE);
    headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    response
}

/// The client a request authenticates as, or why it does not.
pub(super) fn authenticate(
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
