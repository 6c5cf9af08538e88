//! Fault rules: listed, added, removed one by one or all at once.

use axum::Json;
use axum::extract::Path;
use axum::http::StatusCode;
use serde_json::{Value, json};

use super::error::{AdminError, AdminJson};
use super::{In, room};
use crate::traffic::faults;

#[utoipa::path(get, path = "/__doublure/faults", tag = "faults", responses((status = 200, description = "`{faults: [Rule]}` in firing order", body = Object)))]
pub(super) async fn list_faults(In(state): In) -> Json<Value> {
    Json(json!({"faults": state.faults.list()}))
}

#[utoipa::path(post, path = "/__doublure/faults", tag = "faults", request_body = faults::FaultRule, responses((status = 201, description = "The stored rule with its id", body = faults::Rule), (status = 400, description = "Invalid rule")))]
pub(super) async fn add_fault(
    In(state): In,
    AdminJson(spec): AdminJson<faults::FaultRule>,
) -> Result<(StatusCode, Json<faults::Rule>), AdminError> {
    // A rule that would be refused is refused as invalid, whatever room
    // is left; a valid one is charged under its id before it is kept,
    // under the rules' lock, so that a removal or a reset sees rule and
    // charge together.
    let kept = room::json_len(&spec);
    let rule = state
        .faults
        .add_admitted(spec, AdminError::BadRequest, |id| {
            room::charge_rule(&state, id, kept)
        })?;
    Ok((StatusCode::CREATED, Json(rule)))
}

#[utoipa::path(delete, path = "/__doublure/faults", tag = "faults", responses((status = 204, description = "Every rule removed")))]
pub(super) async fn clear_faults(In(state): In) -> StatusCode {
    state
        .faults
        .clear_then(|| state.charges.forget_all(room::FAULTS));
    StatusCode::NO_CONTENT
}

#[utoipa::path(delete, path = "/__doublure/faults/{id}", tag = "faults", params(("id" = u64, Path, description = "Rule id")), responses((status = 204, description = "Removed"), (status = 404, description = "No such rule")))]
pub(super) async fn remove_fault(
    In(state): In,
    Path(id): Path<String>,
) -> Result<StatusCode, AdminError> {
    let not_found = || AdminError::NotFound(format!("no fault rule {id}"));
    let number: u64 = id.parse().map_err(|_| not_found())?;
    if state.faults.remove(number) {
        state.charges.forget(&room::fault_key(number));
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(not_found())
    }
}
