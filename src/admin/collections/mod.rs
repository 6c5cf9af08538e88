//! Create, read, update and delete any fixture collection at
//! `/__doublure/{api}/{collection}[/{id}]` (`/__doublure/logora/users/21`,
//! `/__doublure/wcs/forms`), in the fixture format.
//!
//! A change is applied to the collection as exported, then the data of its
//! API goes through the same validation as fixture files at start-up
//! (types, unknown fields, duplicates, references), all under the API's
//! data lock: a change is accepted whole or refused whole with the
//! problems named, concurrent changes never overwrite each other, and no
//! request sees a half-made change. Logora users, w.c.s. users and w.c.s.
//! forms (drafts included), which generated data makes a million, tens of
//! thousands and a hundred thousand long, are checked one by one against
//! the others instead of being exported and loaded again (`users` below,
//! `wcs_users`, `wcs_forms`): a change stays milliseconds at any size, and
//! in a namespace copies only what it touches. A change to another w.c.s.
//! collection reloads the small collections and keeps the users and forms
//! shared, checking them against it.

pub(super) mod item;
mod logora_users;
pub(super) mod wcs_forms;
mod wcs_users;

use axum::Json;
use axum::extract::Path;
use axum::http::StatusCode;
use serde_json::Value;

use super::error::{AdminError, AdminJson};
use super::{In, room};
use crate::logora::model::{LogoraData, USERS_FILE};
use crate::namespace::Namespace;
use crate::store::{FixtureFiles, Problems};
use crate::wcs::model::{USERS_FILE as WCS_USERS_FILE, WcsData};
use item::{find, id_of, not_found, object, taken, updated};

/// The forms' fixture file, changed one form at a time (`wcs_forms`).
const WCS_FORMS_FILE: &str = "wcs/forms.json";

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

/// The items of `file` in the fixture format.
pub(super) fn items(ns: &Namespace, file: &str) -> Vec<Value> {
    if file == USERS_FILE {
        return ns.logora.data.read(|d| d.user_values().collect());
    }
    if file.starts_with("logora/") {
        array_of(ns.logora.data.read(LogoraData::export_settings), file)
    } else {
        match ns.wcs.data.read(|d| d.export_file(file)) {
            Value::Array(items) => items,
            _ => Vec::new(),
        }
    }
}

fn array_of(exported: Vec<(&'static str, Value)>, file: &str) -> Vec<Value> {
    exported
        .into_iter()
        .find(|(f, _)| *f == file)
        .and_then(|(_, v)| match v {
            Value::Array(items) => Some(items),
            _ => None,
        })
        .unwrap_or_default()
}

/// `exported` with `file`'s items replaced by `list`, as fixture files.
fn files_with(exported: Vec<(&'static str, Value)>, file: &str, list: Vec<Value>) -> FixtureFiles {
    let mut files: std::collections::BTreeMap<String, String> = exported
        .into_iter()
        .map(|(f, v)| (f.to_owned(), v.to_string()))
        .collect();
    files.insert(file.to_owned(), Value::Array(list).to_string());
    FixtureFiles::from_map("state", files)
}

/// Applies `change` to the items of `file` and replaces the data of its
/// API if the result is valid and `charge` (run last, on what `change`
/// returned) finds room for it in the memory budget. Returns what
/// `change` returned.
pub(super) fn change<R>(
    ns: &Namespace,
    file: &str,
    change: impl FnOnce(&mut Vec<Value>) -> Result<R, AdminError>,
    charge: impl FnOnce(&R) -> Result<(), AdminError>,
) -> Result<R, AdminError> {
    if file.starts_with("logora/") {
        // Logora's users, which generated data makes a million long, stay
        // as they are: they are changed one by one through `users` below.
        ns.logora.data.update(|data| {
            let exported = data.export_settings();
            let mut list = array_of(exported.clone(), file);
            let result = change(&mut list)?;
            let next = data.with_settings_of(&files_with(exported, file, list))?;
            charge(&result)?;
            Ok((next, result))
        })
    } else {
        // The users and the forms, tens of thousands with generated data
        // and changed one by one elsewhere (`wcs_users`, `wcs_forms`), are
        // kept as they are (shared, not exported and read again), and
        // checked against the changed collection.
        ns.wcs.data.update(|data| {
            let exported = data.export_settings();
            let mut list = array_of(exported.clone(), file);
            let result = change(&mut list)?;
            let mut problems = Problems::default();
            let next =
                WcsData::load_keeping_items(&files_with(exported, file, list), data, &mut problems);
            problems.into_result(())?;
            charge(&result)?;
            Ok((next, result))
        })
    }
}

/// Lists a collection.
#[utoipa::path(get, path = "/__doublure/{api}/{collection}", tag = "collections",
    params(("api" = String, Path, description = "`logora` or `wcs`"), ("collection" = String, Path, description = "e.g. `users`, `clients`, `forms`")),
    responses((status = 200, description = "The items, in the fixture format", body = Vec<Object>), (status = 404, description = "No such collection: the message lists them")))]
pub async fn list(
    In(state): In,
    Path((api, name)): Path<(String, String)>,
) -> Result<axum::response::Response, AdminError> {
    use axum::response::IntoResponse;
    let (file, _) = collection(&api, &name)?;
    if file == USERS_FILE {
        // A million generated users are written one by one as the client
        // reads, never as one answer in memory.
        let data = state.logora.data.get();
        let users = (0..data.slot_count()).filter_map(move |slot| data.user_json(slot));
        return Ok(super::chunked::json("[".to_owned(), users, "]"));
    }
    if file == WCS_USERS_FILE || file == WCS_FORMS_FILE {
        // So are w.c.s.'s users and forms, tens of thousands long.
        let data = state.wcs.data.get();
        let len = match file {
            WCS_USERS_FILE => data.users.len(),
            _ => data.forms.len(),
        };
        let items = (0..len).map(move |i| match file {
            WCS_USERS_FILE => super::chunked::to_json(&*data.users[i]),
            _ => super::chunked::to_json(&*data.forms[i]),
        });
        return Ok(super::chunked::json("[".to_owned(), items, "]"));
    }
    Ok(Json(items(&state, file)).into_response())
}

/// Reads one item.
#[utoipa::path(get, path = "/__doublure/{api}/{collection}/{id}", tag = "collections",
    params(("api" = String, Path), ("collection" = String, Path), ("id" = String, Path, description = "The item's id key: `id`, `client_id`, …")),
    responses((status = 200, description = "The item", body = Object), (status = 404, description = "No such collection or item")))]
pub async fn read(
    In(state): In,
    Path((api, name, id)): Path<(String, String, String)>,
) -> Result<Json<Value>, AdminError> {
    let (file, key) = collection(&api, &name)?;
    if file == USERS_FILE {
        return logora_users::read(&state, &api, &name, &id).map(Json);
    }
    if file == WCS_USERS_FILE {
        return wcs_users::read(&state, &api, &name, &id).map(Json);
    }
    if file == WCS_FORMS_FILE {
        return wcs_forms::read(&state, &id, |_| true)
            .map(Json)
            .ok_or_else(|| not_found(&api, &name, key, &id));
    }
    let list = items(&state, file);
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
    In(state): In,
    Path((api, name)): Path<(String, String)>,
    AdminJson(body): AdminJson<Value>,
) -> Result<(StatusCode, Json<Value>), AdminError> {
    let (file, key) = collection(&api, &name)?;
    let item = Value::Object(object(body)?);
    let id = id_of(&item, key)
        .ok_or_else(|| AdminError::BadRequest(format!("the item needs its {key}")))?;
    if file == USERS_FILE {
        return logora_users::create(&state, &api, &name, &id, item)
            .map(|item| (StatusCode::CREATED, Json(item)));
    }
    if file == WCS_USERS_FILE {
        return wcs_users::create(&state, &api, &name, &id, item)
            .map(|item| (StatusCode::CREATED, Json(item)));
    }
    if file == WCS_FORMS_FILE {
        let conflict = || taken(&api, &name, key, &id);
        return wcs_forms::create(&state, &id, item, conflict)
            .map(|item| (StatusCode::CREATED, Json(item)));
    }
    let kept = room::item_key(file, &id);
    let charged = item.clone();
    change(
        &state,
        file,
        |list| {
            if find(list, key, &id).is_some() {
                return Err(taken(&api, &name, key, &id));
            }
            list.push(item);
            Ok(())
        },
        |()| room::charge_item(&state, None, &kept, &charged),
    )?;
    read(In(state), Path((api, name, id)))
        .await
        .map(|item| (StatusCode::CREATED, item))
}

/// Replaces an item (PUT) or changes some of its fields (PATCH).
async fn update(
    state: Namespace,
    api: String,
    name: String,
    id: String,
    body: Value,
    merge: bool,
) -> Result<Json<Value>, AdminError> {
    let (file, key) = collection(&api, &name)?;
    let fields = object(body)?;
    if file == USERS_FILE {
        return logora_users::update(&state, &api, &name, &id, fields, merge);
    }
    if file == WCS_USERS_FILE {
        return wcs_users::update(&state, &api, &name, &id, fields, merge).map(Json);
    }
    if file == WCS_FORMS_FILE {
        let change = wcs_forms::Change {
            wanted: |_: &crate::wcs::model::Form| true,
            edit: |current: Value| Ok(updated(&current, fields, key, merge)),
            missing: || not_found(&api, &name, key, &id),
            taken: |new_id: &str| taken(&api, &name, key, new_id),
        };
        return wcs_forms::update(&state, &id, change).map(Json);
    }
    let (new_id, _) = change(
        &state,
        file,
        |list| {
            let index = find(list, key, &id).ok_or_else(|| not_found(&api, &name, key, &id))?;
            let item = updated(&list[index], fields, key, merge);
            let new_id = id_of(&item, key).unwrap_or_else(|| id.clone());
            if new_id != id && find(list, key, &new_id).is_some() {
                return Err(taken(&api, &name, key, &new_id));
            }
            list[index] = item.clone();
            Ok((new_id, item))
        },
        |(new_id, item)| {
            let from = room::item_key(file, &id);
            room::charge_item(&state, Some(&from), &room::item_key(file, new_id), item)
        },
    )?;
    read(In(state), Path((api, name, new_id))).await
}

/// Replaces an item.
#[utoipa::path(put, path = "/__doublure/{api}/{collection}/{id}", tag = "collections",
    params(("api" = String, Path), ("collection" = String, Path), ("id" = String, Path)),
    request_body(content = Object, description = "The whole item in the fixture format"),
    responses((status = 200, description = "The item as stored", body = Object), (status = 400, description = "Invalid"), (status = 404, description = "No such item")))]
pub async fn replace(
    In(state): In,
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
    In(state): In,
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
    In(state): In,
    Path((api, name, id)): Path<(String, String, String)>,
) -> Result<StatusCode, AdminError> {
    let (file, key) = collection(&api, &name)?;
    if file == USERS_FILE {
        logora_users::remove(&state, &api, &name, &id)?;
        return Ok(StatusCode::NO_CONTENT);
    }
    if file == WCS_USERS_FILE {
        wcs_users::remove(&state, &api, &name, &id)?;
        return Ok(StatusCode::NO_CONTENT);
    }
    if file == WCS_FORMS_FILE {
        wcs_forms::remove(&state, &id, |_| true, || not_found(&api, &name, key, &id))?;
        return Ok(StatusCode::NO_CONTENT);
    }
    change(
        &state,
        file,
        |list| {
            let index = find(list, key, &id).ok_or_else(|| not_found(&api, &name, key, &id))?;
            list.remove(index);
            Ok(())
        },
        // Under the data's lock: the same id made again meanwhile keeps
        // its own charge.
        |()| {
            state.charges.forget(&room::item_key(file, &id));
            Ok(())
        },
    )?;
    Ok(StatusCode::NO_CONTENT)
}
