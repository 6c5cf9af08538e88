//! Create, read, update and delete any fixture collection at
//! `/__doublure/{api}/{collection}[/{id}]` (`/__doublure/logora/users/21`,
//! `/__doublure/wcs/forms`), in the fixture format.
//!
//! A change is applied to the collection as exported, then the data of its
//! API goes through the same validation as fixture files at start-up
//! (types, unknown fields, duplicates, references), all under the store's
//! write lock: a change is accepted whole or refused whole with the
//! problems named, concurrent changes never overwrite each other, and no
//! request sees a half-made change. Logora users, which generated data
//! makes a million long, are checked one by one against the others instead
//! of being exported and loaded again: a change stays a fraction of a
//! second at any size.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde_json::{Map, Value};

use super::error::{AdminError, AdminJson};
use crate::AppState;
use crate::store::{Data, FixtureFiles, Problems};

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
    // Exports only what holds `file`: the other collections may be a
    // million generated users long.
    let exported = if file == LOGORA_USERS {
        data.logora.export()
    } else if file.starts_with("logora/") {
        data.logora.export_settings()
    } else {
        data.wcs.export()
    };
    exported
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
        // Only the API the file belongs to is exported and loaded again
        // (the two share no references), and Logora's users, which
        // generated data makes a million long, stay as they are: they are
        // changed one by one through `users` below.
        let logora = file.starts_with("logora/");
        let exported = if logora {
            data.logora.export_settings()
        } else {
            data.wcs.export()
        };
        let mut files: std::collections::BTreeMap<String, String> = exported
            .into_iter()
            .map(|(f, v)| (f.to_owned(), v.to_string()))
            .collect();
        let mut list = items(data, file);
        let result = change(&mut list)?;
        files.insert(file.to_owned(), Value::Array(list).to_string());
        let files = FixtureFiles::from_map("state", files);
        let mut problems = Problems::default();
        if logora {
            let mut next = crate::logora::model::LogoraData::load(&files, &mut problems);
            problems.into_result(())?;
            next.adopt_users(&mut data.logora)?;
            data.logora = next;
        } else {
            let next = crate::wcs::model::WcsData::load(&files, &mut problems);
            problems.into_result(())?;
            data.wcs = next;
        }
        Ok(result)
    })
}

/// `current` with `fields` merged in (PATCH) or replaced by them (PUT,
/// keeping the id the URL names when the body leaves it out).
fn updated(current: &Value, fields: Map<String, Value>, key: &str, merge: bool) -> Value {
    let item = if merge {
        let mut item = match current.clone() {
            Value::Object(map) => map,
            _ => Map::new(),
        };
        item.extend(fields);
        item
    } else {
        let mut replacement = fields;
        if !replacement.contains_key(key) {
            replacement.insert(key.to_owned(), current[key].clone());
        }
        replacement
    };
    Value::Object(item)
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
    responses((status = 200, description = "The items, in the fixture format", body = Vec<Object>), (status = 404, description = "No such collection: the message lists them")))]
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
    if file == LOGORA_USERS {
        return users::read(&state, &api, &name, &id).map(Json);
    }
    let list = state.store.read(|d| items(d, file));
    find(&list, key, &id)
        .map(|i| Json(list[i].clone()))
        .ok_or_else(|| not_found(&api, &name, key, &id))
}

/// Creates an item.
#[utoipa::path(post, path = "/__doublure/{api}/{collection}", tag = "collections",
    params(("api" = String, Path), ("collection" = String, Path)),
    request_body(content = Object, description = "An item in the fixture format"),
    responses((status = 201, description = "Created; the item as stored", body = Object), (status = 400, description = "Invalid: `problems` names the field"), (status = 404, description = "No such collection: the message lists them"), (status = 409, description = "An item with that id exists")))]
pub async fn create(
    State(state): State<AppState>,
    Path((api, name)): Path<(String, String)>,
    AdminJson(body): AdminJson<Value>,
) -> Result<(StatusCode, Json<Value>), AdminError> {
    let (file, key) = collection(&api, &name)?;
    let item = Value::Object(object(body)?);
    let id = id_of(&item, key)
        .ok_or_else(|| AdminError::BadRequest(format!("the item needs its {key}")))?;
    if file == LOGORA_USERS {
        return users::create(&state, &api, &name, &id, item)
            .map(|item| (StatusCode::CREATED, Json(item)));
    }
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
    if file == LOGORA_USERS {
        return users::update(&state, &api, &name, &id, fields, merge);
    }
    let new_id = change(&state, file, |list| {
        let index = find(list, key, &id).ok_or_else(|| not_found(&api, &name, key, &id))?;
        let item = updated(&list[index], fields, key, merge);
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
    if file == LOGORA_USERS {
        users::remove(&state, &api, &name, &id)?;
        return Ok(StatusCode::NO_CONTENT);
    }
    change(&state, file, |list| {
        let index = find(list, key, &id).ok_or_else(|| not_found(&api, &name, key, &id))?;
        list.remove(index);
        Ok(())
    })?;
    Ok(StatusCode::NO_CONTENT)
}

/// Logora users, the collection generated data makes a million long, are
/// changed one user at a time on the typed data (same checks, same
/// messages) instead of through a reload of everything.
const LOGORA_USERS: &str = "logora/users.json";

mod users {
    use serde_json::{Map, Value};

    use super::{AdminError, LOGORA_USERS, not_found, updated};
    use crate::AppState;
    use crate::logora::model::User;
    use crate::store::{ItemRef, Problems, fixtures::parse_item};

    fn at(position: usize, id: &str) -> ItemRef {
        ItemRef {
            file: format!("state/{LOGORA_USERS}"),
            number: position + 1,
            id: Some(id.to_owned()),
        }
    }

    fn invalid(problem: crate::store::Problem) -> AdminError {
        AdminError::Invalid(Problems(vec![problem]))
    }

    fn position(
        data: &crate::store::Data,
        api: &str,
        name: &str,
        id: &str,
    ) -> Result<usize, AdminError> {
        id.parse::<u64>()
            .ok()
            .and_then(|n| data.logora.position_by_id(n))
            .ok_or_else(|| not_found(api, name, "id", id))
    }

    fn value(user: &User) -> Value {
        serde_json::to_value(user).unwrap_or(Value::Null)
    }

    pub fn read(state: &AppState, api: &str, name: &str, id: &str) -> Result<Value, AdminError> {
        state.store.read(|data| {
            let p = position(data, api, name, id)?;
            Ok(value(&data.logora.users()[p]))
        })
    }

    pub fn create(
        state: &AppState,
        api: &str,
        name: &str,
        id: &str,
        item: Value,
    ) -> Result<Value, AdminError> {
        state.store.write(|data| {
            if position(data, api, name, id).is_ok() {
                return Err(AdminError::Conflict(format!(
                    "{api}/{name} already has an item with id {id}"
                )));
            }
            let at = at(data.logora.users().len(), id);
            let user: User = parse_item(&item, &at).map_err(invalid)?;
            let shown = value(&user);
            data.logora.put_user(None, user, &at)?;
            Ok(shown)
        })
    }

    pub fn update(
        state: &AppState,
        api: &str,
        name: &str,
        id: &str,
        fields: Map<String, Value>,
        merge: bool,
    ) -> Result<axum::Json<Value>, AdminError> {
        state.store.write(|data| {
            let p = position(data, api, name, id)?;
            let item = updated(&value(&data.logora.users()[p]), fields, "id", merge);
            let new_id = super::id_of(&item, "id").unwrap_or_else(|| id.to_owned());
            if new_id != id && position(data, api, name, &new_id).is_ok() {
                return Err(AdminError::Conflict(format!(
                    "{api}/{name} already has an item with id {new_id}"
                )));
            }
            let at = at(p, &new_id);
            let user: User = parse_item(&item, &at).map_err(invalid)?;
            let shown = value(&user);
            data.logora.put_user(Some(p), user, &at)?;
            Ok(axum::Json(shown))
        })
    }

    pub fn remove(state: &AppState, api: &str, name: &str, id: &str) -> Result<(), AdminError> {
        state.store.write(|data| {
            let p = position(data, api, name, id)?;
            data.logora.remove_user_at(p);
            Ok(())
        })
    }
}
