//! Health, reset, reload, and the whole state: exported in the fixture
//! format and imported back.

use axum::Json;
use axum::response::Response;
use serde_json::{Value, json};

use super::error::{AdminError, AdminJson};
use super::{In, chunked};
use crate::data::Data;

/// 200 once the store is loaded, which is before the listener is bound.
#[utoipa::path(get, path = "/__doublure/health", tag = "health", responses((status = 200, description = "The store is loaded", body = Object, example = json!({"status": "ok"}))))]
pub(super) async fn health() -> Json<Value> {
    Json(json!({"status": "ok"}))
}

/// Back to the loaded fixtures: data, tokens, revocations, nonces,
/// journal, faults and clock.
#[utoipa::path(post, path = "/__doublure/reset", tag = "data", responses((status = 200, description = "Back to the loaded fixtures: data, tokens, revocations, nonces, journal, faults and clock", body = Object), (status = 401, description = "Admin token missing or wrong")))]
pub(super) async fn reset(In(ns): In) -> Json<Value> {
    ns.reset();
    Json(json!({"status": "reset"}))
}

#[utoipa::path(post, path = "/__doublure/reload", tag = "data", responses((status = 200, description = "Fixtures re-read; they are the new reset point", body = Object), (status = 400, description = "Invalid fixtures: `problems` names file, item and field; the previous data keeps serving")))]
pub(super) async fn reload_now(In(ns): In) -> Result<Json<Value>, AdminError> {
    let source = crate::namespace::reload::reload(&ns)?;
    Ok(Json(json!({"status": "reloaded", "fixtures": source})))
}

/// All data in the fixture format: `{"logora/users.json": [...], ...}`.
#[utoipa::path(get, path = "/__doublure/state", tag = "data", responses((status = 200, description = "All data in the fixture format: file name to JSON array; each entry can be saved as that file of a fixture directory", body = Object)))]
pub(super) async fn get_state(In(ns): In) -> Response {
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
pub(super) async fn put_state(
    In(ns): In,
    AdminJson(body): AdminJson<
        std::collections::BTreeMap<String, Box<serde_json::value::RawValue>>,
    >,
) -> Result<Json<Value>, AdminError> {
    // Each file kept as the text it came as: no tree of a million users'
    // values is built, the loader reads items from the text.
    // Loading a large dataset takes seconds of CPU: on a blocking thread,
    // so that the async workers keep answering other calls meanwhile.
    let data = tokio::task::spawn_blocking(move || -> Result<Data, AdminError> {
        let files = body
            .into_iter()
            .map(|(name, value)| (name, value.get().to_owned()))
            .collect();
        let files = crate::data::checked_map("state", files)?;
        Ok(Data::load(&files)?)
    })
    .await
    .map_err(|e| AdminError::Internal(format!("loading the state failed: {e}")))??;
    ns.replace_data(data);
    Ok(Json(json!({"status": "replaced"})))
}
