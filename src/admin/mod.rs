//! The control plane, under the reserved prefix `/__doublure/`: health,
//! reset, the emulated clock, the request journal (and its live stream),
//! fault rules, whole-state export and import, fixture reload, the
//! namespaces, and the web console that drives them all. No emulated path
//! can reach this prefix, and CORS is never applied to it.
//!
//! Its routes receive the [`Namespace`] they are called in (the root, or
//! `/__ns/{name}/…`), and reach each emulated API through that API's
//! control surface (`Logora`'s and `Wcs`'s methods, their data's
//! collection methods).

pub mod chunked;
pub mod collections;
pub mod drafts;
pub mod error;
pub mod namespaces;
pub mod openapi;
pub mod origin;
pub mod reload;
pub mod shortcuts;
pub mod stream;
pub mod ui;

use axum::extract::{Path, Query, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use chrono::{DateTime, SecondsFormat, TimeDelta, Utc};
use serde::Deserialize;
use serde_json::{Value, json};
use std::sync::{Arc, OnceLock};
use subtle::ConstantTimeEq;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::config::Settings;
use crate::data::Data;
use crate::namespace::Namespace;
use crate::traffic::{faults, journal};
use error::{AdminError, AdminJson};

/// The control plane's routes, every route but health behind the admin
/// token when the server has one. One router serves every namespace: each
/// route reads the namespace it is called in with [`In`], which the
/// dispatcher puts in the request (control-plane calls are few; the
/// emulated APIs, which are called a lot, have a router per namespace
/// instead).
pub fn router(namespaces: namespaces::Namespaces, settings: Arc<Settings>) -> Router {
    let (open, protected, _) = parts();
    open.merge(ui::router())
        .merge(protected.route_layer(middleware::from_fn_with_state(
            Arc::clone(&settings),
            require_admin_token,
        )))
        .merge(namespaces::router(namespaces, settings))
        // Unknown control-plane paths: a plain 404, as for any unknown path
        // outside the emulated APIs.
        .fallback(|| async { (StatusCode::NOT_FOUND, "Not Found\n") })
}

/// The namespace a control-plane call was made in.
#[derive(Debug, Clone)]
pub struct In(pub Namespace);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for In {
    type Rejection = AdminError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _: &S,
    ) -> Result<Self, AdminError> {
        parts
            .extensions
            .get::<Namespace>()
            .cloned()
            .map(In)
            .ok_or_else(|| {
                AdminError::Internal("a control-plane call reached no namespace".to_owned())
            })
    }
}

/// The OpenAPI 3.1 document of the control plane, generated from the same
/// handler list as the router, so the two cannot drift apart, then
/// sharpened by `openapi::refine`.
pub fn openapi() -> &'static Value {
    static DOCUMENT: OnceLock<Value> = OnceLock::new();
    DOCUMENT.get_or_init(|| {
        openapi::refine(serde_json::to_value(parts().2).unwrap_or_else(|_| json!({})))
    })
}

/// The open routes (health), the protected ones, and their document.
fn parts() -> (Router, Router, utoipa::openapi::OpenApi) {
    let (open, open_api) = OpenApiRouter::new()
        .routes(routes!(health))
        .split_for_parts();
    let (protected, mut api) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(openapi::control_plane))
        .routes(routes!(openapi::logora))
        .routes(routes!(openapi::wcs))
        .routes(routes!(reset))
        .routes(routes!(reload_now))
        .routes(routes!(get_state, put_state))
        .routes(routes!(get_clock, put_clock))
        .routes(routes!(advance_clock))
        .routes(routes!(list_requests, clear_requests))
        .routes(routes!(stream::stream))
        .routes(routes!(list_faults, add_fault, clear_faults))
        .routes(routes!(remove_fault))
        .routes(routes!(shortcuts::mint, shortcuts::list))
        .routes(routes!(shortcuts::revoke))
        .routes(routes!(shortcuts::sign))
        .routes(routes!(drafts::list, drafts::create))
        .routes(routes!(
            drafts::read,
            drafts::replace,
            drafts::patch,
            drafts::remove
        ))
        .routes(routes!(collections::list, collections::create))
        .routes(routes!(
            collections::read,
            collections::replace,
            collections::patch,
            collections::remove
        ))
        .split_for_parts();
    api.merge(open_api);
    api.merge(namespaces::openapi());
    (open, protected, api)
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "doublure control plane",
        description = "Routes under /__doublure/ that arrange data, move the emulated clock, inject faults and read the request journal. With --admin-token, every route but health needs `Authorization: Bearer <token>` (so do the calls of the web console at /__doublure/ui/, whose files load without it)."
    ),
    components(schemas(
        faults::RuleSpec,
        faults::Rule,
        journal::Entry,
        shortcuts::MintRequest,
        shortcuts::SignRequest,
        crate::namespace::Info
    ))
)]
struct ApiDoc;

/// 200 once the store is loaded, which is before the listener is bound.
#[utoipa::path(get, path = "/__doublure/health", tag = "health", responses((status = 200, description = "The store is loaded", body = Object, example = json!({"status": "ok"}))))]
async fn health() -> Json<Value> {
    Json(json!({"status": "ok"}))
}

/// With `--admin-token`, every route but health needs it as a bearer token.
/// The console's files are not behind it ([`ui`]): they hold no data.
pub async fn require_admin_token(
    State(settings): State<Arc<Settings>>,
    request: Request,
    next: Next,
) -> Response {
    let Some(expected) = settings.admin_token.as_deref() else {
        return next.run(request).await;
    };
    let given = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim());
    match given {
        Some(token) if bool::from(token.as_bytes().ct_eq(expected.as_bytes())) => {
            next.run(request).await
        }
        _ => AdminError::Unauthorized.into_response(),
    }
}

/// Back to the loaded fixtures: data, tokens, revocations, nonces,
/// journal, faults and clock.
#[utoipa::path(post, path = "/__doublure/reset", tag = "data", responses((status = 200, description = "Back to the loaded fixtures: data, tokens, revocations, nonces, journal, faults and clock", body = Object), (status = 401, description = "Admin token missing or wrong")))]
async fn reset(In(ns): In) -> Json<Value> {
    ns.reset();
    Json(json!({"status": "reset"}))
}

#[utoipa::path(post, path = "/__doublure/reload", tag = "data", responses((status = 200, description = "Fixtures re-read; they are the new reset point", body = Object), (status = 400, description = "Invalid fixtures: `problems` names file, item and field; the previous data keeps serving")))]
async fn reload_now(In(ns): In) -> Result<Json<Value>, AdminError> {
    let source = reload::reload(&ns)?;
    Ok(Json(json!({"status": "reloaded", "fixtures": source})))
}

/// All data in the fixture format: `{"logora/users.json": [...], ...}`.
#[utoipa::path(get, path = "/__doublure/state", tag = "data", responses((status = 200, description = "All data in the fixture format: file name to JSON array; each entry can be saved as that file of a fixture directory", body = Object)))]
async fn get_state(In(ns): In) -> Response {
    let logora = ns.logora.data.get();
    let wcs = ns.wcs.data.get();
    let object = |files: Vec<(&'static str, Value)>| -> String {
        files
            .iter()
            .map(|(name, value)| format!("{}:{value}", Value::from(*name)))
            .collect::<Vec<_>>()
            .join(",")
    };
    // Logora's users, a million of them with generated data, are written
    // one by one as the client reads; the rest is small.
    let head = format!(
        "{{{},\"{}\":[",
        object(logora.export_settings()),
        crate::logora::model::USERS_FILE
    );
    let tail = format!("],{}}}", object(wcs.export()));
    let users = (0..logora.slot_count()).filter_map(move |slot| logora.user_json(slot));
    chunked::json(head, users, tail)
}

/// Replaces all data, after the fixture validation; invalid data leaves
/// the current state serving.
#[utoipa::path(put, path = "/__doublure/state", tag = "data", request_body(content = Object, description = "File name (`logora/users.json`, …) to JSON array, as GET returns"), responses((status = 200, description = "Replaced", body = Object), (status = 400, description = "Invalid: `problems` names file, item and field; nothing changed")))]
async fn put_state(
    In(ns): In,
    AdminJson(body): AdminJson<
        std::collections::BTreeMap<String, Box<serde_json::value::RawValue>>,
    >,
) -> Result<Json<Value>, AdminError> {
    // Each file kept as the text it came as: no tree of a million users'
    // values is built, the loader reads items from the text.
    let files = body
        .into_iter()
        .map(|(name, value)| (name, value.get().to_owned()))
        .collect();
    let files = crate::data::checked_map("state", files)?;
    let data = Data::load(&files)?;
    ns.replace_data(data);
    Ok(Json(json!({"status": "replaced"})))
}

fn clock_body(state: &Namespace) -> Json<Value> {
    Json(json!({
        "now": state.clock.now().to_rfc3339_opts(SecondsFormat::Secs, true),
        "frozen": state.clock.is_frozen(),
    }))
}

#[utoipa::path(get, path = "/__doublure/clock", tag = "clock", responses((status = 200, description = "The emulated time", body = Object, example = json!({"now": "2026-01-15T10:00:00Z", "frozen": true}))))]
async fn get_clock(In(state): In) -> Json<Value> {
    clock_body(&state)
}

/// A new emulated time and/or whether it stands still.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct SetClock {
    /// RFC 3339 instant.
    now: Option<DateTime<Utc>>,
    /// Whether the clock stands still.
    frozen: Option<bool>,
}

/// Sets the time and/or freezes or unfreezes the clock.
#[utoipa::path(put, path = "/__doublure/clock", tag = "clock", request_body = SetClock, responses((status = 200, description = "The emulated time after the change", body = Object), (status = 400, description = "Bad body")))]
async fn put_clock(
    In(state): In,
    AdminJson(body): AdminJson<SetClock>,
) -> Result<Json<Value>, AdminError> {
    if body.now.is_none() && body.frozen.is_none() {
        return Err(AdminError::BadRequest(
            "give now (RFC 3339) and/or frozen (true or false)".to_owned(),
        ));
    }
    let now = body.now.unwrap_or_else(|| state.clock.now());
    let frozen = body.frozen.unwrap_or_else(|| state.clock.is_frozen());
    state.clock.set(now, frozen);
    Ok(clock_body(&state))
}

/// How far to move the emulated clock.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct Advance {
    /// Seconds, negative to go back; at most a century (3,162,240,000 s)
    /// either way.
    #[schema(minimum = -3162240000.0, maximum = 3162240000.0)]
    seconds: f64,
}

#[utoipa::path(post, path = "/__doublure/clock/advance", tag = "clock", request_body = Advance, responses((status = 200, description = "The emulated time after the move", body = Object), (status = 400, description = "Bad body")))]
async fn advance_clock(
    In(state): In,
    AdminJson(body): AdminJson<Advance>,
) -> Result<Json<Value>, AdminError> {
    let millis = body.seconds * 1000.0;
    // A century either way is more than any expiry worth testing, and keeps
    // the date arithmetic far from overflow.
    if !millis.is_finite() || millis.abs() > 100.0 * 366.0 * 86_400_000.0 {
        return Err(AdminError::BadRequest(format!(
            "seconds {:e} is out of range (at most a century either way)",
            body.seconds
        )));
    }
    state
        .clock
        .advance(TimeDelta::milliseconds(millis.round() as i64));
    Ok(clock_body(&state))
}

#[utoipa::path(get, path = "/__doublure/requests", tag = "journal", params(journal::Filter), responses((status = 200, description = "`{capacity, max_bytes, count, requests: [Entry]}`, oldest first; written as it is read, so the answer is never built whole", body = Object), (status = 400, description = "Bad filter")))]
async fn list_requests(
    In(state): In,
    query: Result<Query<journal::Filter>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, AdminError> {
    let Query(filter) = query.map_err(|e| AdminError::BadRequest(e.body_text()))?;
    let entries = state.journal.matching(&filter);
    let head = format!(
        "{{\"capacity\":{},\"max_bytes\":{},\"count\":{},\"requests\":[",
        state.journal.capacity(),
        state.journal.max_bytes(),
        entries.len()
    );
    let items = entries
        .into_iter()
        .map(|entry| chunked::to_json(&entry.entry()));
    Ok(chunked::json(head, items, "]}"))
}

#[utoipa::path(delete, path = "/__doublure/requests", tag = "journal", responses((status = 204, description = "Journal emptied")))]
async fn clear_requests(In(state): In) -> StatusCode {
    state.journal.clear();
    StatusCode::NO_CONTENT
}

#[utoipa::path(get, path = "/__doublure/faults", tag = "faults", responses((status = 200, description = "`{faults: [Rule]}` in firing order", body = Object)))]
async fn list_faults(In(state): In) -> Json<Value> {
    Json(json!({"faults": state.faults.list()}))
}

#[utoipa::path(post, path = "/__doublure/faults", tag = "faults", request_body = faults::RuleSpec, responses((status = 201, description = "The stored rule with its id", body = faults::Rule), (status = 400, description = "Invalid rule")))]
async fn add_fault(
    In(state): In,
    AdminJson(spec): AdminJson<faults::RuleSpec>,
) -> Result<(StatusCode, Json<faults::Rule>), AdminError> {
    let rule = state.faults.add(spec).map_err(AdminError::BadRequest)?;
    Ok((StatusCode::CREATED, Json(rule)))
}

#[utoipa::path(delete, path = "/__doublure/faults", tag = "faults", responses((status = 204, description = "Every rule removed")))]
async fn clear_faults(In(state): In) -> StatusCode {
    state.faults.clear();
    StatusCode::NO_CONTENT
}

#[utoipa::path(delete, path = "/__doublure/faults/{id}", tag = "faults", params(("id" = u64, Path, description = "Rule id")), responses((status = 204, description = "Removed"), (status = 404, description = "No such rule")))]
async fn remove_fault(In(state): In, Path(id): Path<String>) -> Result<StatusCode, AdminError> {
    let not_found = || AdminError::NotFound(format!("no fault rule {id}"));
    let number: u64 = id.parse().map_err(|_| not_found())?;
    if state.faults.remove(number) {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(not_found())
    }
}
