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

use axum::Json;
use axum::extract::Path;
use axum::http::StatusCode;
use serde_json::{Map, Value};

use super::error::{AdminError, AdminJson};
use super::{In, room};
use crate::logora::model::{LogoraData, USERS_FILE};
use crate::namespace::Namespace;
use crate::store::{FixtureFiles, Problems};
use crate::wcs::model::{USERS_FILE as WCS_USERS_FILE, WcsData};

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

/// An item's id as text, as it appears in a URL.
pub(super) fn id_of(item: &Value, key: &str) -> Option<String> {
    match item.get(key)? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
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

/// `current` with `fields` merged in (PATCH) or replaced by them (PUT,
/// keeping the id the URL names when the body leaves it out).
pub(super) fn updated(
    current: &Value,
    fields: Map<String, Value>,
    key: &str,
    merge: bool,
) -> Value {
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

pub(super) fn not_found(api: &str, name: &str, key: &str, id: &str) -> AdminError {
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
        return users::read(&state, &api, &name, &id).map(Json);
    }
    if file == WCS_USERS_FILE {
        return super::wcs_users::read(&state, &api, &name, &id).map(Json);
    }
    if file == WCS_FORMS_FILE {
        return super::wcs_forms::read(&state, &id, |_| true)
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
        return users::create(&state, &api, &name, &id, item)
            .map(|item| (StatusCode::CREATED, Json(item)));
    }
    if file == WCS_USERS_FILE {
        return super::wcs_users::create(&state, &api, &name, &id, item)
            .map(|item| (StatusCode::CREATED, Json(item)));
    }
    if file == WCS_FORMS_FILE {
        let taken =
            || AdminError::Conflict(format!("{api}/{name} already has an item with {key} {id}"));
        return super::wcs_forms::create(&state, &id, item, taken)
            .map(|item| (StatusCode::CREATED, Json(item)));
    }
    let kept = room::item_key(file, &id);
    let charged = item.clone();
    change(
        &state,
        file,
        |list| {
            if find(list, key, &id).is_some() {
                return Err(AdminError::Conflict(format!(
                    "{api}/{name} already has an item with {key} {id}"
                )));
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
        return users::update(&state, &api, &name, &id, fields, merge);
    }
    if file == WCS_USERS_FILE {
        return super::wcs_users::update(&state, &api, &name, &id, fields, merge).map(Json);
    }
    if file == WCS_FORMS_FILE {
        let change = super::wcs_forms::Change {
            wanted: |_: &crate::wcs::model::Form| true,
            edit: |current: Value| Ok(updated(&current, fields, key, merge)),
            missing: || not_found(&api, &name, key, &id),
            taken: |new_id: &str| {
                AdminError::Conflict(format!(
                    "{api}/{name} already has an item with {key} {new_id}"
                ))
            },
        };
        return super::wcs_forms::update(&state, &id, change).map(Json);
    }
    let (new_id, _) = change(
        &state,
        file,
        |list| {
            let index = find(list, key, &id).ok_or_else(|| not_found(&api, &name, key, &id))?;
            let item = updated(&list[index], fields, key, merge);
            let new_id = id_of(&item, key).unwrap_or_else(|| id.clone());
            if new_id != id && find(list, key, &new_id).is_some() {
                return Err(AdminError::Conflict(format!(
                    "{api}/{name} already has an item with {key} {new_id}"
                )));
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
        users::remove(&state, &api, &name, &id)?;
        return Ok(StatusCode::NO_CONTENT);
    }
    if file == WCS_USERS_FILE {
        super::wcs_users::remove(&state, &api, &name, &id)?;
        return Ok(StatusCode::NO_CONTENT);
    }
    if file == WCS_FORMS_FILE {
        super::wcs_forms::remove(&state, &id, |_| true, || not_found(&api, &name, key, &id))?;
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
        |()| Ok(()),
    )?;
    state.charges.forget(&room::item_key(file, &id));
    Ok(StatusCode::NO_CONTENT)
}

/// Logora users, the collection generated data makes a million long, are
/// changed one user at a time on the typed data (same checks, same
/// messages) instead of through a reload of everything.
mod users {
    use serde_json::{Map, Value};

    use super::{AdminError, not_found, room, updated};
    use crate::logora::model::{LogoraData, USERS_FILE, User};
    use crate::namespace::Namespace;
    use crate::store::{ItemRef, Problems, fixtures::parse_item};

    fn at(slot: u32, id: &str) -> ItemRef {
        ItemRef {
            file: format!("state/{USERS_FILE}"),
            number: slot as usize + 1,
            id: Some(id.to_owned()),
        }
    }

    fn invalid(problem: crate::store::Problem) -> AdminError {
        AdminError::Invalid(Problems(vec![problem]))
    }

    /// The slot of user `id`; a URL's `021` finds user 21, as ids are
    /// numbers here.
    fn slot(data: &LogoraData, api: &str, name: &str, id: &str) -> Result<u32, AdminError> {
        id.parse::<u64>()
            .ok()
            .and_then(|n| data.slot_of_id(n))
            .ok_or_else(|| not_found(api, name, "id", id))
    }

    fn value(user: &User) -> Value {
        serde_json::to_value(user).unwrap_or(Value::Null)
    }

    fn user_in(data: &LogoraData, slot: u32) -> Value {
        data.record(slot)
            .map(|r| value(&r.user()))
            .unwrap_or(Value::Null)
    }

    pub fn read(ns: &Namespace, api: &str, name: &str, id: &str) -> Result<Value, AdminError> {
        ns.logora.data.read(|data| {
            let s = slot(data, api, name, id)?;
            Ok(user_in(data, s))
        })
    }

    pub fn create(
        ns: &Namespace,
        api: &str,
        name: &str,
        id: &str,
        item: Value,
    ) -> Result<Value, AdminError> {
        ns.logora.data.update(|data| {
            if slot(data, api, name, id).is_ok() {
                return Err(AdminError::Conflict(format!(
                    "{api}/{name} already has an item with id {id}"
                )));
            }
            let at = at(data.user_count() as u32, id);
            let user: User = parse_item(&item, &at).map_err(invalid)?;
            let mut next = data.clone();
            next.put_user(None, user, &at)?;
            let shown = next
                .slot_of_id(id.parse().unwrap_or_default())
                .map(|s| user_in(&next, s))
                .unwrap_or(Value::Null);
            room::charge_item(ns, None, &room::item_key(USERS_FILE, id), &shown)?;
            Ok((next, shown))
        })
    }

    pub fn update(
        ns: &Namespace,
        api: &str,
        name: &str,
        id: &str,
        fields: Map<String, Value>,
        merge: bool,
    ) -> Result<axum::Json<Value>, AdminError> {
        ns.logora.data.update(|data| {
            let s = slot(data, api, name, id)?;
            let item = updated(&user_in(data, s), fields, "id", merge);
            let new_id = super::id_of(&item, "id").unwrap_or_else(|| id.to_owned());
            if new_id != id && slot(data, api, name, &new_id).is_ok() {
                return Err(AdminError::Conflict(format!(
                    "{api}/{name} already has an item with id {new_id}"
                )));
            }
            let at = at(s, &new_id);
            let user: User = parse_item(&item, &at).map_err(invalid)?;
            let mut next = data.clone();
            next.put_user(Some(s), user, &at)?;
            let shown = user_in(&next, s);
            let from = room::item_key(USERS_FILE, id);
            room::charge_item(
                ns,
                Some(&from),
                &room::item_key(USERS_FILE, &new_id),
                &shown,
            )?;
            Ok((next, axum::Json(shown)))
        })
    }

    pub fn remove(ns: &Namespace, api: &str, name: &str, id: &str) -> Result<(), AdminError> {
        ns.logora.data.update(|data| {
            let s = slot(data, api, name, id)?;
            let mut next = data.clone();
            next.remove_slot(s);
            Ok::<_, AdminError>((next, ()))
        })?;
        ns.charges.forget(&room::item_key(USERS_FILE, id));
        Ok(())
    }
}
