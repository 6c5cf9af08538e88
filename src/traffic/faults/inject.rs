//! The step of the emulated APIs' calls that applies faults (run inside the
//! journal's middleware), and how it tells which client (a Logora
//! client_id, a w.c.s. orig) made one.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::Request;
use axum::http::{StatusCode, header};
use axum::response::Response;

use super::FAULT_HEADER;
use super::by_header::parse_header;
use super::response::{dropped_response, error_response};
use super::rules::Call;
use super::set::Faults;
use crate::boundary;
use crate::config::Settings;
use crate::logora::Logora;
use crate::outcome::Outcome;

/// What the fault middleware needs: the rules, whether the header is
/// honoured, and the namespace's Logora to tell whose token a call bears.
#[derive(Debug, Clone)]
pub struct Injector {
    pub faults: Arc<Faults>,
    pub settings: Arc<Settings>,
    pub logora: Logora,
}

/// On the emulated APIs' calls: applies the header's fault or the first
/// rule that fires, else passes the request on to `then`. Run inside the
/// journal's middleware rather than as a layer of its own (a layer boxes
/// the rest of the stack, and its future, per call).
pub async fn inject_then<F, Fut>(state: &Injector, request: Request, then: F) -> Response
where
    F: FnOnce(Request) -> Fut,
    Fut: std::future::Future<Output = Response>,
{
    // A browser's preflight is answered by CORS: failing it would only hide
    // the injected fault from the page behind a CORS error.
    let preflight = request.method() == axum::http::Method::OPTIONS
        && request
            .headers()
            .contains_key("access-control-request-method");
    let no_header = !state.settings.fault_header || !request.headers().contains_key(FAULT_HEADER);
    if preflight || (no_header && state.faults.list_is_empty()) {
        return then(request).await;
    }
    let path = request.uri().path().to_owned();
    let header_effect = if state.settings.fault_header {
        request
            .headers()
            .get(FAULT_HEADER)
            .map(|v| parse_header(v.to_str().unwrap_or("")))
    } else {
        None
    };
    let (effect, request) = match header_effect {
        Some(Err(reason)) => {
            let mut response = error_response(&path, StatusCode::BAD_REQUEST, None);
            Outcome::attach(
                &mut response,
                format!("invalid {FAULT_HEADER} header: {reason}"),
            );
            return response;
        }
        Some(Ok(effect)) => (Some(effect), request),
        None => {
            let method = request.method().to_string();
            if state.faults.list_is_empty() {
                (None, request)
            } else {
                let (client_id, orig, request) = if state.faults.wants_identity(&method, &path) {
                    match identify(state, request).await {
                        Ok(identified) => identified,
                        Err(refused) => return refused,
                    }
                } else {
                    (None, None, request)
                };
                let call = Call {
                    method: &method,
                    path: &path,
                    client_id,
                    orig,
                };
                (state.faults.decide(&call), request)
            }
        }
    };
    let Some(effect) = effect else {
        return then(request).await;
    };
    if let Some(latency) = effect.latency {
        if let Some(delay) = request.extensions().get::<Arc<crate::traffic::Delay>>() {
            delay.holding(format!(
                "of {} ms of injected latency ({})",
                latency.as_millis(),
                effect.source
            ));
        }
        tokio::time::sleep(latency).await;
    }
    let latency_note = effect
        .latency
        .map(|d| format!(" after {} ms", d.as_millis()))
        .unwrap_or_default();
    if effect.drop {
        let mut response = dropped_response();
        Outcome::attach(
            &mut response,
            format!("{} dropped the connection{latency_note}", effect.source),
        );
        return response;
    }
    if let Some(status) = effect.status {
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
        let mut response = error_response(&path, status, effect.retry_after);
        Outcome::attach(
            &mut response,
            format!(
                "{} injected {}{latency_note}",
                effect.source,
                status.as_u16()
            ),
        );
        return response;
    }
    let mut response = then(request).await;
    let previous = response
        .extensions()
        .get::<Outcome>()
        .map(|o| format!("; {}", o.text()))
        .unwrap_or_default();
    Outcome::attach(
        &mut response,
        format!(
            "{} delayed the answer{latency_note}{previous}",
            effect.source
        ),
    );
    response
}

/// The caller's Logora client_id and w.c.s. orig, read from the query,
/// HTTP Basic, a bearer token, or a form or JSON body (read up to the
/// handlers' own limit, then put back whole for the handler); a body over
/// that limit gets the API's 413, as the handler would answer.
async fn identify(
    state: &Injector,
    request: Request,
) -> Result<(Option<String>, Option<String>, Request), Response> {
    let query = request.uri().query().unwrap_or("").to_owned();
    let param = |name: &str| {
        form_urlencoded::parse(query.as_bytes())
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    };
    let orig = param("orig");
    let mut client_id = basic_user(request.headers())
        .or_else(|| param("client_id"))
        .or_else(|| param("api_key"))
        .or_else(|| {
            bearer(request.headers())
                .or_else(|| param("access_token"))
                .and_then(|token| state.logora.client_of_token(&token))
        });
    if client_id.is_some() {
        return Ok((client_id, orig, request));
    }
    let (parts, body) = request.into_parts();
    let bytes = boundary::read_body(body, boundary::API_BODY_LIMIT)
        .await
        .map_err(|e| boundary::body_refusal(parts.uri.path(), boundary::API_BODY_LIMIT, &e))?;
    client_id = form_urlencoded::parse(&bytes)
        .find(|(k, _)| k == "client_id")
        .map(|(_, v)| v.into_owned())
        .or_else(|| {
            serde_json::from_slice::<serde_json::Value>(&bytes)
                .ok()
                .and_then(|v| v.get("client_id")?.as_str().map(str::to_owned))
        });
    Ok((
        client_id,
        orig,
        Request::from_parts(parts, Body::from(bytes)),
    ))
}

fn basic_user(headers: &axum::http::HeaderMap) -> Option<String> {
    use base64::Engine;
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, encoded) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (user, _) = text.split_once(':')?;
    Some(
        percent_encoding::percent_decode_str(user)
            .decode_utf8_lossy()
            .into_owned(),
    )
}

fn bearer(headers: &axum::http::HeaderMap) -> Option<String> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim().to_owned())
}
