//! Fault injection on the emulated APIs: latency, an error status in the
//! API's own format, or a dropped connection, chosen by rules
//! (`/__doublure/faults`) or, for one call from a browser demo, by the
//! `X-Doublure-Fault` request header.
//!
//! Rules fire in creation order; the first matching rule that fires wins.
//! Probabilities draw from one generator seeded by configuration, so a run
//! that sends the same requests in the same order fails the same way.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::boundary;
use crate::config::Settings;
use crate::logora::Logora;
use crate::outcome::Outcome;
use crate::paths::{Api, api_of};

/// The request header that injects a fault into one call.
pub const FAULT_HEADER: &str = "x-doublure-fault";

/// Largest latency a rule or the header may ask for: a minute is longer
/// than any client timeout worth testing, and keeps a typo from hanging a
/// suite for hours.
pub const MAX_LATENCY_MS: u64 = 60_000;

/// A fault rule as sent by a client: every key optional but one effect.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RuleSpec {
    /// Only this method (any case).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(pattern = "^[A-Za-z]+$")]
    pub method: Option<String>,
    /// Only this path; a final `*` matches any path starting with the rest.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(pattern = "^/")]
    pub path: Option<String>,
    /// Only calls made by this Logora client.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// Only w.c.s. calls signed by this `orig`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub orig: Option<String>,
    /// Answer this status (400–599) with the API's own error body.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "whole"
    )]
    #[schema(minimum = 400, maximum = 599)]
    pub status: Option<u16>,
    /// `Retry-After` seconds sent with the status (0: retry at once).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "whole"
    )]
    pub retry_after: Option<u64>,
    /// Delay before answering, in milliseconds (at most a minute).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "whole"
    )]
    #[schema(maximum = 60000)]
    pub latency_ms: Option<u64>,
    /// With `latency_ms`, and at least as long: the delay is drawn between
    /// the two.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "whole"
    )]
    #[schema(maximum = 60000)]
    pub latency_max_ms: Option<u64>,
    /// Close the connection without an answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub drop: Option<bool>,
    /// Fire on this share of matching calls (0 < p ≤ 1; default 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(exclusive_minimum = 0.0, maximum = 1.0)]
    pub probability: Option<f64>,
    /// Fire on the next N matching calls only.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "whole"
    )]
    #[schema(minimum = 1)]
    pub count: Option<u64>,
}

/// A whole number as JSON may carry it: `5`, or `5.0`, which JSON Schema
/// (and so the document, and any client whose numbers are all floats)
/// counts as the same integer.
fn whole<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: TryFrom<u64>,
{
    use serde::de::Error;
    let Some(number) = Option::<serde_json::Number>::deserialize(deserializer)? else {
        return Ok(None);
    };
    let value = number.as_u64().or_else(|| {
        number
            .as_f64()
            // `u64::MAX as f64` is 2^64 itself, just out of range.
            .filter(|f| f.fract() == 0.0 && *f >= 0.0 && *f < u64::MAX as f64)
            .map(|f| f as u64)
    });
    value
        .and_then(|v| T::try_from(v).ok())
        .map(Some)
        .ok_or_else(|| {
            D::Error::custom(format!(
                "invalid value: {number}, expected a whole number that fits in {}",
                std::any::type_name::<T>()
            ))
        })
}

impl RuleSpec {
    /// Checks the rule; the error says which key is wrong and why.
    pub fn validate(&self) -> Result<(), String> {
        let drop = self.drop.unwrap_or(false);
        if self.status.is_none() && self.latency_ms.is_none() && !drop {
            return Err("a rule needs an effect: status, latency_ms or drop: true".to_owned());
        }
        if let Some(status) = self.status
            && !(400..=599).contains(&status)
        {
            return Err(format!(
                "status {status} is not an error status (400 to 599)"
            ));
        }
        if drop && self.status.is_some() {
            return Err(
                "drop and status exclude each other: a dropped call has no status".to_owned(),
            );
        }
        if self.retry_after.is_some() && self.status.is_none() {
            return Err("retry_after goes with a status".to_owned());
        }
        match (self.latency_ms, self.latency_max_ms) {
            (Some(min), _) if min > MAX_LATENCY_MS => {
                return Err(format!("latency_ms {min} is above {MAX_LATENCY_MS}"));
            }
            (Some(min), Some(max)) if max < min => {
                return Err(format!("latency_max_ms {max} is below latency_ms {min}"));
            }
            (_, Some(max)) if max > MAX_LATENCY_MS => {
                return Err(format!("latency_max_ms {max} is above {MAX_LATENCY_MS}"));
            }
            (None, Some(_)) => return Err("latency_max_ms goes with latency_ms".to_owned()),
            _ => {}
        }
        if let Some(p) = self.probability
            && !(p > 0.0 && p <= 1.0)
        {
            return Err(format!("probability {p} is not in (0, 1]"));
        }
        if self.count == Some(0) {
            return Err("count 0 would never fire; give 1 or more, or leave it out".to_owned());
        }
        if let Some(method) = &self.method
            && (method.is_empty() || !method.bytes().all(|b| b.is_ascii_alphabetic()))
        {
            return Err(format!("method {method:?} is not an HTTP method"));
        }
        if let Some(path) = &self.path
            && !path.starts_with('/')
        {
            return Err(format!("path {path:?} must start with /"));
        }
        Ok(())
    }

    fn matches(&self, call: &Call<'_>) -> bool {
        self.method
            .as_ref()
            .is_none_or(|m| m.eq_ignore_ascii_case(call.method))
            && self
                .path
                .as_ref()
                .is_none_or(|p| match p.strip_suffix('*') {
                    Some(prefix) => call.path.starts_with(prefix),
                    None => call.path == p,
                })
            && self
                .client_id
                .as_ref()
                .is_none_or(|c| call.client_id.as_deref() == Some(c.as_str()))
            && self
                .orig
                .as_ref()
                .is_none_or(|o| call.orig.as_deref() == Some(o.as_str()))
    }
}

/// A stored rule.
#[derive(Debug, Clone, Serialize, PartialEq, utoipa::ToSchema)]
pub struct Rule {
    pub id: u64,
    #[serde(flatten)]
    pub spec: RuleSpec,
    /// How many times it fired.
    pub fired: u64,
    /// Calls left before it stops firing, when it has a count.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remaining: Option<u64>,
}

/// What a request is, for matching.
#[derive(Debug)]
pub struct Call<'a> {
    pub method: &'a str,
    pub path: &'a str,
    pub client_id: Option<String>,
    pub orig: Option<String>,
}

/// The fault to inject into one call.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Effect {
    pub latency: Option<Duration>,
    pub status: Option<u16>,
    pub retry_after: Option<u64>,
    pub drop: bool,
    /// Which rule, or the header, for the journal.
    pub source: String,
}

/// The rule set and its random generator.
#[derive(Debug)]
pub struct Faults {
    inner: Mutex<Inner>,
    seed: u64,
    /// Whether any rule is set, kept beside the list: every API call asks,
    /// and the usual answer, no, needs no lock.
    any: AtomicBool,
}

#[derive(Debug)]
struct Inner {
    rules: Vec<Rule>,
    next_id: u64,
    rng: StdRng,
}

impl Faults {
    pub fn new(seed: u64) -> Self {
        Self {
            inner: Mutex::new(Inner {
                rules: Vec::new(),
                next_id: 1,
                rng: StdRng::seed_from_u64(seed),
            }),
            seed,
            any: AtomicBool::new(false),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Adds a checked rule.
    pub fn add(&self, spec: RuleSpec) -> Result<Rule, String> {
        spec.validate()?;
        let mut inner = self.lock();
        let rule = Rule {
            id: inner.next_id,
            remaining: spec.count,
            spec,
            fired: 0,
        };
        inner.next_id += 1;
        inner.rules.push(rule.clone());
        self.any.store(true, Ordering::Release);
        Ok(rule)
    }

    pub fn list(&self) -> Vec<Rule> {
        self.lock().rules.clone()
    }

    /// Removes one rule; false when there is none with that id.
    pub fn remove(&self, id: u64) -> bool {
        let mut inner = self.lock();
        let before = inner.rules.len();
        inner.rules.retain(|r| r.id != id);
        self.any.store(!inner.rules.is_empty(), Ordering::Release);
        inner.rules.len() != before
    }

    /// Removes every rule and re-seeds the generator.
    pub fn clear(&self) {
        let mut inner = self.lock();
        inner.rules.clear();
        self.any.store(false, Ordering::Release);
        inner.rng = StdRng::seed_from_u64(self.seed);
    }

    /// Whether a rule could need the caller's identity for this call, so
    /// the middleware reads a body only when it must.
    pub fn wants_identity(&self, method: &str, path: &str) -> bool {
        self.lock().rules.iter().any(|r| {
            (r.spec.client_id.is_some() || r.spec.orig.is_some())
                && r.remaining != Some(0)
                && r.spec.matches(&Call {
                    method,
                    path,
                    client_id: r.spec.client_id.clone(),
                    orig: r.spec.orig.clone(),
                })
        })
    }

    /// The effect of the first matching rule that fires, if any.
    pub fn decide(&self, call: &Call<'_>) -> Option<Effect> {
        let mut inner = self.lock();
        let Inner { rules, rng, .. } = &mut *inner;
        for rule in rules.iter_mut() {
            if rule.remaining == Some(0) || !rule.spec.matches(call) {
                continue;
            }
            if let Some(p) = rule.spec.probability
                && p < 1.0
                && rng.random::<f64>() >= p
            {
                continue;
            }
            rule.fired += 1;
            if let Some(left) = rule.remaining.as_mut() {
                *left -= 1;
            }
            let latency = rule.spec.latency_ms.map(|min| {
                let ms = match rule.spec.latency_max_ms {
                    Some(max) if max > min => rng.random_range(min..=max),
                    _ => min,
                };
                Duration::from_millis(ms)
            });
            return Some(Effect {
                latency,
                status: rule.spec.status,
                retry_after: rule.spec.retry_after,
                drop: rule.spec.drop.unwrap_or(false),
                source: format!("fault rule {}", rule.id),
            });
        }
        None
    }
}

/// Parses an `X-Doublure-Fault` header: `status=503`, `latency=800ms`,
/// `retry_after=5`, `drop`, separated by `,` or `;`.
pub fn parse_header(value: &str) -> Result<Effect, String> {
    let mut spec = RuleSpec::default();
    for part in value
        .split([',', ';'])
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        let (key, val) = part
            .split_once('=')
            .map_or((part, None), |(k, v)| (k.trim(), Some(v.trim())));
        let number = |v: Option<&str>| -> Result<u64, String> {
            v.and_then(|v| v.parse().ok())
                .ok_or_else(|| format!("{key} needs a whole number, got {:?}", v.unwrap_or("")))
        };
        match key.to_ascii_lowercase().as_str() {
            "status" => spec.status = Some(u16::try_from(number(val)?).map_err(|e| e.to_string())?),
            "retry_after" | "retry-after" => spec.retry_after = Some(number(val)?),
            "latency" => spec.latency_ms = Some(parse_millis(val.unwrap_or(""))?),
            "drop" => match val {
                None | Some("true") | Some("1") => spec.drop = Some(true),
                Some("false") | Some("0") => spec.drop = Some(false),
                Some(other) => return Err(format!("drop takes true or false, got {other:?}")),
            },
            other => {
                return Err(format!(
                    "unknown key {other:?} (expected status, latency, retry_after or drop)"
                ));
            }
        }
    }
    spec.validate()?;
    Ok(Effect {
        latency: spec.latency_ms.map(Duration::from_millis),
        status: spec.status,
        retry_after: spec.retry_after,
        drop: spec.drop.unwrap_or(false),
        source: format!("header {FAULT_HEADER}: {value}"),
    })
}

/// `800ms`, `1.5s` or a bare number of milliseconds.
fn parse_millis(text: &str) -> Result<u64, String> {
    let bad = || format!("latency {text:?} is not a duration like 800ms or 2s");
    let (number, factor) = if let Some(n) = text.strip_suffix("ms") {
        (n, 1.0)
    } else if let Some(n) = text.strip_suffix('s') {
        (n, 1000.0)
    } else {
        (text, 1.0)
    };
    let value: f64 = number.trim().parse().map_err(|_| bad())?;
    if !(value.is_finite() && value >= 0.0) {
        return Err(bad());
    }
    Ok((value * factor).round() as u64)
}

/// An error answer with `status` in the format of the API `path` belongs to.
pub fn error_response(path: &str, status: StatusCode, retry_after: Option<u64>) -> Response {
    let reason = status.canonical_reason().unwrap_or("Error");
    let body = match api_of(path) {
        // Upstream: Doorkeeper's own error codes for an overloaded or
        // failing authorization server (RFC 6749 §4.1.2.1).
        Api::OAuth => {
            let (error, description) = match status.as_u16() {
                429 | 503 => (
                    "temporarily_unavailable",
                    "The authorization server is temporarily unable to handle the request due to a temporary overloading or maintenance of the server.",
                ),
                500..=599 => (
                    "server_error",
                    "The authorization server encountered an unexpected condition which prevented it from fulfilling the request.",
                ),
                _ => (
                    "invalid_request",
                    "The request is missing a required parameter, includes an unsupported parameter value, or is otherwise malformed.",
                ),
            };
            json!({"error": error, "error_description": description})
        }
        Api::Logora => json!({"success": false, "error": reason}),
        // Upstream: w.c.s. answers an unhandled exception with `{"err": 1}`.
        // Its shape also serves the paths of no API (faults only ever
        // answer what is not the control plane).
        Api::Wcs | Api::Control | Api::Other if status == StatusCode::INTERNAL_SERVER_ERROR => {
            json!({"err": 1})
        }
        Api::Wcs | Api::Control | Api::Other => json!({
            "err": 1,
            "err_class": reason,
            "err_code": reason.to_ascii_lowercase().replace(' ', "-"),
            "err_desc": null,
        }),
    };
    let mut response = (status, axum::Json(body)).into_response();
    let retry_after = retry_after.or((status == StatusCode::TOO_MANY_REQUESTS).then_some(1));
    if let Some(seconds) = retry_after {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
    }
    response
}

/// A body that fails at once: hyper then closes the connection without
/// completing the answer, which a client sees as a dropped connection.
struct Dropped;

impl http_body::Body for Dropped {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        self: std::pin::Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        std::task::Poll::Ready(Some(Err(std::io::Error::new(
            std::io::ErrorKind::ConnectionAborted,
            "doublure fault: connection dropped",
        ))))
    }
}

fn dropped_response() -> Response {
    let mut response = Response::new(Body::new(Dropped));
    // What the journal records: no status went out.
    *response.status_mut() =
        StatusCode::from_u16(super::DROPPED).unwrap_or(StatusCode::BAD_REQUEST);
    response
}

/// What the fault middleware needs: the rules, whether the header is
/// honoured, and the namespace's Logora to tell whose token a call bears.
#[derive(Debug, Clone)]
pub struct Injector {
    pub faults: Arc<Faults>,
    pub settings: Arc<Settings>,
    pub logora: Logora,
}

/// Middleware on the emulated APIs: applies the header's fault or the first
/// rule that fires.
pub async fn inject(State(state): State<Arc<Injector>>, request: Request, next: Next) -> Response {
    // A browser's preflight is answered by CORS: failing it would only hide
    // the injected fault from the page behind a CORS error.
    let preflight = request.method() == axum::http::Method::OPTIONS
        && request
            .headers()
            .contains_key("access-control-request-method");
    let no_header = !state.settings.fault_header || !request.headers().contains_key(FAULT_HEADER);
    if preflight || (no_header && state.faults.list_is_empty()) {
        return next.run(request).await;
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
                    match identify(&state, request).await {
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
        return next.run(request).await;
    };
    if let Some(latency) = effect.latency {
        if let Some(delay) = request.extensions().get::<Arc<super::Delay>>() {
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
    let mut response = next.run(request).await;
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

impl Faults {
    fn list_is_empty(&self) -> bool {
        !self.any.load(Ordering::Acquire)
    }

    /// Whether any rule is set (read without the lock).
    pub fn is_active(&self) -> bool {
        !self.list_is_empty()
    }

    /// Whether a call with these headers may be faulted: a rule is set, or
    /// it asks for a fault by header and the header is honoured.
    pub fn may_act_on(&self, settings: &Settings, headers: &axum::http::HeaderMap) -> bool {
        self.is_active() || (settings.fault_header && headers.contains_key(FAULT_HEADER))
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn call<'a>(method: &'a str, path: &'a str) -> Call<'a> {
        Call {
            method,
            path,
            client_id: None,
            orig: None,
        }
    }

    fn spec(json: serde_json::Value) -> RuleSpec {
        serde_json::from_value(json).unwrap()
    }

    #[test]
    fn a_rule_with_a_count_fires_exactly_that_many_times() {
        let faults = Faults::new(0);
        faults
            .add(spec(
                json!({"path": "/api/v1/users", "status": 503, "count": 2}),
            ))
            .unwrap();
        let fired: Vec<bool> = (0..4)
            .map(|_| faults.decide(&call("GET", "/api/v1/users")).is_some())
            .collect();
        assert_eq!(fired, [true, true, false, false]);
        assert_eq!(faults.list()[0].remaining, Some(0));
        assert_eq!(faults.list()[0].fired, 2);
    }

    #[test]
    fn a_path_ending_with_a_star_matches_by_prefix_and_method_is_any_case() {
        let faults = Faults::new(0);
        faults
            .add(spec(
                json!({"method": "get", "path": "/api/user*", "status": 500}),
            ))
            .unwrap();
        assert!(faults.decide(&call("GET", "/api/user/forms")).is_some());
        assert!(faults.decide(&call("POST", "/api/user/forms")).is_none());
        assert!(faults.decide(&call("GET", "/api/v1/users")).is_none());
    }

    #[test]
    fn a_seeded_probability_gives_the_same_sequence_after_a_clear() {
        let faults = Faults::new(42);
        let rule = json!({"status": 500, "probability": 0.5});
        faults.add(spec(rule.clone())).unwrap();
        let first: Vec<bool> = (0..32)
            .map(|_| faults.decide(&call("GET", "/x")).is_some())
            .collect();
        faults.clear();
        faults.add(spec(rule)).unwrap();
        let second: Vec<bool> = (0..32)
            .map(|_| faults.decide(&call("GET", "/x")).is_some())
            .collect();
        assert_eq!(first, second);
        assert!(first.contains(&true) && first.contains(&false), "{first:?}");
    }

    #[test]
    fn client_id_and_orig_restrict_a_rule_to_one_caller() {
        let faults = Faults::new(0);
        faults
            .add(spec(
                json!({"client_id": "API_KEY", "orig": "demo", "drop": true}),
            ))
            .unwrap();
        let mut c = call("GET", "/x");
        assert!(faults.decide(&c).is_none());
        c.client_id = Some("API_KEY".into());
        assert!(faults.decide(&c).is_none());
        c.orig = Some("demo".into());
        assert!(faults.decide(&c).unwrap().drop);
    }

    #[test]
    fn invalid_rules_say_which_key_is_wrong() {
        let cases = [
            (
                json!({"path": "/x"}),
                "a rule needs an effect: status, latency_ms or drop: true",
            ),
            (
                json!({"status": 200}),
                "status 200 is not an error status (400 to 599)",
            ),
            (
                json!({"status": 503, "drop": true}),
                "drop and status exclude each other: a dropped call has no status",
            ),
            (
                json!({"latency_ms": 900, "latency_max_ms": 100}),
                "latency_max_ms 100 is below latency_ms 900",
            ),
            (
                json!({"status": 500, "probability": 1.5}),
                "probability 1.5 is not in (0, 1]",
            ),
            (
                json!({"status": 500, "count": 0}),
                "count 0 would never fire; give 1 or more, or leave it out",
            ),
            (
                json!({"status": 500, "path": "api"}),
                "path \"api\" must start with /",
            ),
            (
                json!({"latency_ms": 120000}),
                "latency_ms 120000 is above 60000",
            ),
        ];
        for (rule, message) in cases {
            assert_eq!(
                spec(rule.clone()).validate().unwrap_err(),
                message,
                "{rule}"
            );
        }
    }

    #[test]
    fn whole_numbers_may_be_written_as_floats_and_nothing_else_passes() {
        let rule =
            spec(json!({"status": 503.0, "retry_after": 5, "latency_ms": 1e3, "count": 2.0}));
        assert_eq!(
            (rule.status, rule.retry_after, rule.latency_ms, rule.count),
            (Some(503), Some(5), Some(1000), Some(2))
        );
        for (bad, message) in [
            (
                json!({"status": 503.5}),
                "invalid value: 503.5, expected a whole number that fits in u16",
            ),
            (
                json!({"status": 70000}),
                "invalid value: 70000, expected a whole number that fits in u16",
            ),
            (
                json!({"count": -1}),
                "invalid value: -1, expected a whole number that fits in u64",
            ),
            (
                json!({"retry_after": 18446744073709551616.0_f64}),
                "invalid value: 1.8446744073709552e+19, expected a whole number that fits in u64",
            ),
            (
                json!({"latency_ms": "5"}),
                "invalid type: string \"5\", expected a JSON number",
            ),
        ] {
            let error = serde_json::from_value::<RuleSpec>(bad.clone()).unwrap_err();
            assert_eq!(error.to_string(), message, "{bad}");
        }
    }

    #[test]
    fn the_header_takes_status_latency_retry_after_and_drop() {
        let effect = parse_header("status=429; retry_after=5, latency=1.5s").unwrap();
        assert_eq!(effect.status, Some(429));
        assert_eq!(effect.retry_after, Some(5));
        assert_eq!(effect.latency, Some(Duration::from_millis(1500)));
        assert!(parse_header("drop").unwrap().drop);
        assert_eq!(
            parse_header("latency=800ms").unwrap().latency,
            Some(Duration::from_millis(800))
        );
        assert_eq!(
            parse_header("status=abc").unwrap_err(),
            "status needs a whole number, got \"abc\""
        );
        assert_eq!(
            parse_header("explode=1").unwrap_err(),
            "unknown key \"explode\" (expected status, latency, retry_after or drop)"
        );
    }
}
