//! The control plane, under the reserved prefix `/__doublure/`: health,
//! reset, the emulated clock, the request journal, fault rules, whole-state
//! export and import, and fixture reload. No emulated path can reach this
//! prefix, and CORS is never applied to it.

pub mod error;
pub mod faults;
pub mod journal;
pub mod reload;

use axum::extract::{Path, Query, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use chrono::{DateTime, SecondsFormat, TimeDelta, Utc};
use serde::Deserialize;
use serde_json::{Map, Value, json};
use subtle::ConstantTimeEq;

use crate::AppState;
use crate::store::{Data, FixtureFiles};
use error::{AdminError, AdminJson};

/// The control plane's routes.
pub fn router(state: &AppState) -> Router<AppState> {
    let protected = Router::new()
        .route("/__doublure/reset", post(reset))
        .route("/__doublure/reload", post(reload_now))
        .route("/__doublure/state", get(get_state).put(put_state))
        .route("/__doublure/clock", get(get_clock).put(put_clock))
        .route("/__doublure/clock/advance", post(advance_clock))
        .route(
            "/__doublure/requests",
            get(list_requests).delete(clear_requests),
        )
        .route(
            "/__doublure/faults",
            get(list_faults).post(add_fault).delete(clear_faults),
        )
        .route("/__doublure/faults/{id}", delete(remove_fault))
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            require_admin_token,
        ));
    Router::new()
        .route("/__doublure/health", get(health))
        .merge(protected)
}

/// 200 once the store is loaded, which is before the listener is bound.
async fn health() -> Json<Value> {
    Json(json!({"status": "ok"}))
}

/// With `--admin-token`, every route but health needs it as a bearer token.
async fn require_admin_token(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let Some(expected) = state.settings.admin_token.as_deref() else {
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
async fn reset(State(state): State<AppState>) -> Result<Json<Value>, AdminError> {
    state.reset()?;
    Ok(Json(json!({"status": "reset"})))
}

async fn reload_now(State(state): State<AppState>) -> Result<Json<Value>, AdminError> {
    let source = reload::reload(&state)?;
    Ok(Json(json!({"status": "reloaded", "fixtures": source})))
}

/// All data in the fixture format: `{"logora/users.json": [...], ...}`.
async fn get_state(State(state): State<AppState>) -> Json<Value> {
    let files = state.store.read(Data::export);
    Json(Value::Object(
        files
            .into_iter()
            .map(|(name, value)| (name.to_owned(), value))
            .collect::<Map<String, Value>>(),
    ))
}

/// Replaces all data, after the fixture validation; invalid data leaves
/// the current state serving.
async fn put_state(
    State(state): State<AppState>,
    AdminJson(body): AdminJson<Map<String, Value>>,
) -> Result<Json<Value>, AdminError> {
    let files = body
        .into_iter()
        .map(|(name, value)| (name, value.to_string()))
        .collect();
    let files = FixtureFiles::checked_map("state", files)?;
    let data = Data::load(&files)?;
    state.store.replace(data);
    Ok(Json(json!({"status": "replaced"})))
}

fn clock_body(state: &AppState) -> Json<Value> {
    Json(json!({
        "now": state.clock.now().to_rfc3339_opts(SecondsFormat::Secs, true),
        "frozen": state.clock.is_frozen(),
    }))
}

async fn get_clock(State(state): State<AppState>) -> Json<Value> {
    clock_body(&state)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SetClock {
    now: Option<DateTime<Utc>>,
    frozen: Option<bool>,
}

/// Sets the time and/or freezes or unfreezes the clock.
async fn put_clock(
    State(state): State<AppState>,
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

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Advance {
    seconds: f64,
}

async fn advance_clock(
    State(state): State<AppState>,
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

async fn list_requests(
    State(state): State<AppState>,
    query: Result<Query<journal::Filter>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Value>, AdminError> {
    let Query(filter) = query.map_err(|e| AdminError::BadRequest(e.body_text()))?;
    let entries = state.journal.list(&filter);
    Ok(Json(json!({
        "capacity": state.journal.capacity(),
        "count": entries.len(),
        "requests": entries,
    })))
}

async fn clear_requests(State(state): State<AppState>) -> StatusCode {
    state.journal.clear();
    StatusCode::NO_CONTENT
}

async fn list_faults(State(state): State<AppState>) -> Json<Value> {
    Json(json!({"faults": state.faults.list()}))
}

async fn add_fault(
    State(state): State<AppState>,
    AdminJson(spec): AdminJson<faults::RuleSpec>,
) -> Result<(StatusCode, Json<faults::Rule>), AdminError> {
    let rule = state.faults.add(spec).map_err(AdminError::BadRequest)?;
    Ok((StatusCode::CREATED, Json(rule)))
}

async fn clear_faults(State(state): State<AppState>) -> StatusCode {
    state.faults.clear();
    StatusCode::NO_CONTENT
}

async fn remove_fault(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<StatusCode, AdminError> {
    let not_found = || AdminError::NotFound(format!("no fault rule {id}"));
    let number: u64 = id.parse().map_err(|_| not_found())?;
    if state.faults.remove(number) {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(not_found())
    }
}
