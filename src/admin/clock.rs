//! The emulated clock: read, set, frozen or moved forward.

use axum::Json;
use chrono::{DateTime, SecondsFormat, TimeDelta, Utc};
use serde::Deserialize;
use serde_json::{Value, json};

use super::In;
use super::error::{AdminError, AdminJson};
use crate::namespace::Namespace;

fn clock_body(state: &Namespace) -> Json<Value> {
    Json(json!({
        "now": state.clock.now().to_rfc3339_opts(SecondsFormat::Secs, true),
        "frozen": state.clock.is_frozen(),
    }))
}

#[utoipa::path(get, path = "/__doublure/clock", tag = "clock", responses((status = 200, description = "The emulated time", body = Object, example = json!({"now": "2026-01-15T10:00:00Z", "frozen": true}))))]
pub(super) async fn get_clock(In(state): In) -> Json<Value> {
    clock_body(&state)
}

/// A new emulated time and/or whether it stands still.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct SetClock {
    /// RFC 3339 instant.
    now: Option<DateTime<Utc>>,
    /// Whether the clock stands still.
    frozen: Option<bool>,
}

/// Sets the time and/or freezes or unfreezes the clock.
#[utoipa::path(put, path = "/__doublure/clock", tag = "clock", request_body = SetClock, responses((status = 200, description = "The emulated time after the change", body = Object), (status = 400, description = "Bad body")))]
pub(super) async fn put_clock(
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
pub(super) struct Advance {
    /// Seconds, negative to go back; at most a century (3,162,240,000 s)
    /// either way.
    #[schema(minimum = -3162240000.0, maximum = 3162240000.0)]
    seconds: f64,
}

#[utoipa::path(post, path = "/__doublure/clock/advance", tag = "clock", request_body = Advance, responses((status = 200, description = "The emulated time after the move", body = Object), (status = 400, description = "Bad body")))]
pub(super) async fn advance_clock(
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
