//! Create, read, update and delete any fixture collection at
//! `/__doublure/{api}/{collection}[/{id}]` (`/__doublure/logora/users/21`,
//! `/__doublure/wcs/forms`), in the fixture format.
//!
//! A change is applied to the collection as exported, then the whole data
//! set goes through the same validation as fixture files at start-up
//! (types, unknown fields, duplicates, references), all under the store's
//! write lock: a change is accepted whole or refused whole with the
//! problems named, concurrent changes never overwrite each other, and no
//! request sees a half-made change.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde_json::{Map, Value};

use super::error::{AdminError, AdminJson};
use crate::AppState;
use crate::store::{Data, FixtureFiles};

/// Every collection: fixture file and the key that identifies an item.
pub fn all() -> impl Iterator<Item = (&'static str, &'static str)> {
    crate::logora::model::COLLECTIONS
        .iter()
        .chain(crate::wcs::model::COLLECTIONS)
        .copied()
}

/// The file and id key of `/__doublure/{api}/{name}`.
fn collection(api: &str, name: &str) -> Result<(&'static str, &'static str), AdminError> {
    let file = format!("{api}/{name}.json");
    all().find(|(f, _)| *f == file).ok_or_else(|| {
        AdminError::NotFound(format!(
            "no collection {api}/{name}; collections: {}, and wcs/drafts (the drafts of wcs/forms)",
            all()
                .map(|(f, _)| f.trim_end_matches(".json"))
                .collect::<Vec<_>>()
                .join(", ")
        ))
    })
}

/// An item's id as text, as it appears in a URL.
pub(super) fn id_of(item: &Value, key: &str) -> Option<String> {
    match item.get(key)? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

pub(super) fn items(data: &Data, file: &str) -> Vec<Value> {
    data.export()
        .into_iter()
        .find(|(f, _)| *f == file)
        .and_then(|(_, v)| match v {
            Value::Array(items) => Some(items),
            _ => None,
        })
        .unwrap_or_default()
}

/// Applies `change` to the items of `file` and replaces the data if the
/// result is valid. Returns what `change` returned.
pub(super) fn change<R>(
    state: &AppState,
    file: &str,
    change: impl FnOnce(&mut Vec<Value>) -> Result<R, AdminError>,
) -> Result<R, AdminError> {
    state.store.write(|data| {
        let mut files: std::collections::BTreeMap<String, String> = data
            .export()
            .into_iter()
            .map(|(f, v)| (f.to_owned(), v.to_string()))
            .collect();
        let mut list = items(data, file);
        let result = change(&mut list)?;
        files.insert(file.to_owned(), Value::Array(list).to_string());
        let next = Data::load(&FixtureFiles::from_map("state", files))?;
        *data = next;
        Ok(result)
    })
}

pub(super) fn find(list: &[Value], key: &str, id: &str) -> Option<usize> {
    list.iter()
        .position(|item| id_of(item, key).as_deref() == Some(id))
}

fn not_found(api: &str, name: &str, key: &str, id: &str) -> AdminError {
    AdminError::NotFound(format!("no item with {key} {id} in {api}/{name}"))
}

pub(super) fn object(body: Value) -> Result<Map<String, Value>, AdminError> {
    match body {
        Value::Object(map) => Ok(map),
        other => Err(AdminError::BadRequest(format!(
            "expected a JSON object, got {}",
            match other {
                Value::Array(_) => "an array",
                Value::String(_) => "a string",
                Value::Number(_) => "a number",
                Value::Bool(_) => "a boolean",
                _ => "null",
            }
        ))),
    }
}

/// Lists a collection.
#[utoipa::path(get, path = "/__doublure/{api}/{collection}", tag = "collections",
    params(("api" = String, Path, description = "`logora` or `wcs`"), ("collection" = String, Path, description = "e.g. `users`, `clients`, `forms`")),
    responses((status = 200, description = "The items, in the fixture format", body = Vec<Object>), (status = 404, description = "No such collection")))]
pub async fn list(
    State(state): State<AppState>,
    Path((api, name)): Path<(String, String)>,
) -> Result<Json<Vec<Value>>, AdminError> {
    let (file, _) = collection(&api, &name)?;
    Ok(Json(state.store.read(|d| items(d, file))))
}

/// Reads one item.
#[utoipa::path(get, path = "/__doublure/{api}/{collection}/{id}", tag = "collections",
    params(("api" = String, Path), ("collection" = String, Path), ("id" = String, Path, description = "The item's id key: `id`, `client_id`, …")),
    responses((status = 200, description = "The item", body = Object), (status = 404, description = "No such collection or item")))]
pub async fn read(
    State(state): State<AppState>,
    Path((api, name, id)): Path<(String, String, String)>,
) -> Result<Json<Value>, AdminError> {
    let (file, key) = collection(&api, &name)?;
    let list = state.store.read(|d| items(d, file));
    find(&list, key, &id)
        .map(|i| Json(list[i].clone()))
        .ok_or_else(|| not_found(&api, &name, key, &id))
}

/// Creates an item.
#[utoipa::path(post, path = "/__doublure/{api}/{collection}", tag = "collections",
    params(("api" = String, Path), ("collection" = String, Path)),
    request_body(content = Object, description = "An item in the fixture format"),
    responses((status = 201, description = "Created; the item as stored", body = Object), (status = 400, description = "Invalid: `problems` names the field"), (status = 409, description = "An item with that id exists")))]
pub async fn create(
    State(state): State<AppState>,
    Path((api, name)): Path<(String, String)>,
    AdminJson(body): AdminJson<Value>,
) -> Result<(StatusCode, Json<Value>), AdminError> {
    let (file, key) = collection(&api, &name)?;
    let item = Value::Object(object(body)?);
    let id = id_of(&item, key)
        .ok_or_else(|| AdminError::BadRequest(format!("the item needs its {key}")))?;
    change(&state, file, |list| {
        if find(list, key, &id).is_some() {
            return Err(AdminError::Conflict(format!(
                "{api}/{name} already has an item with {key} {id}"
            )));
        }
        list.push(item);
        Ok(())
    })?;
    read(State(state), Path((api, name, id)))
        .await
        .map(|item| (StatusCode::CREATED, item))
}

/// Replaces an item (PUT) or changes some of its fields (PATCH).
async fn update(
    state: AppState,
    api: String,
    name: String,
    id: String,
    body: Value,
    merge: bool,
) -> Result<Json<Value>, AdminError> {
    let (file, key) = collection(&api, &name)?;
    let fields = object(body)?;
    let new_id = change(&state, file, |list| {
        let index = find(list, key, &id).ok_or_else(|| not_found(&api, &name, key, &id))?;
        let item = if merge {
            let mut current = match list[index].clone() {
                Value::Object(map) => map,
                _ => Map::new(),
            };
            for (k, v) in fields {
                current.insert(k, v);
            }
            current
        } else {
            let mut replacement = fields;
            // The URL names the item: an id left out of the body is kept.
            if !replacement.contains_key(key) {
                replacement.insert(key.to_owned(), list[index][key].clone());
            }
            replacement
        };
        let item = Value::Object(item);
        let new_id = id_of(&item, key).unwrap_or_else(|| id.clone());
        if new_id != id && find(list, key, &new_id).is_some() {
            return Err(AdminError::Conflict(format!(
                "{api}/{name} already has an item with {key} {new_id}"
            )));
        }
        list[index] = item;
        Ok(new_id)
    })?;
    read(State(state), Path((api, name, new_id))).await
}

/// Replaces an item.
#[utoipa::path(put, path = "/__doublure/{api}/{collection}/{id}", tag = "collections",
    params(("api" = String, Path), ("collection" = String, Path), ("id" = String, Path)),
    request_body(content = Object, description = "The whole item in the fixture format"),
    responses((status = 200, description = "The item as stored", body = Object), (status = 400, description = "Invalid"), (status = 404, description = "No such item")))]
pub async fn replace(
    State(state): State<AppState>,
    Path((api, name, id)): Path<(String, String, String)>,
    AdminJson(body): AdminJson<Value>,
) -> Result<Json<Value>, AdminError> {
    update(state, api, name, id, body, false).await
}

/// Changes some fields of an item.
#[utoipa::path(patch, path = "/__doublure/{api}/{collection}/{id}", tag = "collections",
    params(("api" = String, Path), ("collection" = String, Path), ("id" = String, Path)),
    request_body(content = Object, description = "The fields to change"),
    responses((status = 200, description = "The item as stored", body = Object), (status = 400, description = "Invalid"), (status = 404, description = "No such item")))]
pub async fn patch(
    State(state): State<AppState>,
    Path((api, name, id)): Path<(String, String, String)>,
    AdminJson(body): AdminJson<Value>,
) -> Result<Json<Value>, AdminError> {
    update(state, api, name, id, body, true).await
}

/// Deletes an item; refused when other items still refer to it.
#[utoipa::path(delete, path = "/__doublure/{api}/{collection}/{id}", tag = "collections",
    params(("api" = String, Path), ("collection" = String, Path), ("id" = String, Path)),
    responses((status = 204, description = "Deleted"), (status = 400, description = "Other items refer to it: `problems` names them"), (status = 404, description = "No such item")))]
pub async fn remove(
    State(state): State<AppState>,
    Path((api, name, id)): Path<(String, String, String)>,
) -> Result<StatusCode, AdminError> {
    let (file, key) = collection(&api, &name)?;
    change(&state, file, |list| {
        let index = find(list, key, &id).ok_or_else(|| not_found(&api, &name, key, &id))?;
        list.remove(index);
        Ok(())
    })?;
    Ok(StatusCode::NO_CONTENT)
}
