//! Logora users, the collection generated data makes a million long, are
//! changed one user at a time on the typed data (same checks, same
//! messages) instead of through a reload of everything.

use serde_json::{Map, Value};

use super::item::{id_of, not_found, taken, updated};
use crate::admin::error::AdminError;
use crate::admin::room;
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

/// The key user `id` is charged under: the id as kept, whatever the URL
/// wrote (`021`).
fn key(id: u64) -> String {
    room::item_key(USERS_FILE, &id.to_string())
}

/// The key of the user in `slot`.
fn stored_key(data: &LogoraData, slot: u32) -> String {
    key(data.record(slot).map_or(0, |r| r.id))
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
            return Err(taken(api, name, "id", id));
        }
        let at = at(data.user_count() as u32, id);
        let user: User = parse_item(&item, &at).map_err(invalid)?;
        let kept = key(user.id);
        let mut next = data.clone();
        next.put_user(None, user, &at)?;
        let shown = next
            .slot_of_id(id.parse().unwrap_or_default())
            .map(|s| user_in(&next, s))
            .unwrap_or(Value::Null);
        room::charge_item(ns, None, &kept, &shown)?;
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
        let new_id = id_of(&item, "id").unwrap_or_else(|| id.to_owned());
        if new_id != id && slot(data, api, name, &new_id).is_ok() {
            return Err(taken(api, name, "id", &new_id));
        }
        let at = at(s, &new_id);
        let user: User = parse_item(&item, &at).map_err(invalid)?;
        let (from, kept) = (stored_key(data, s), key(user.id));
        let mut next = data.clone();
        next.put_user(Some(s), user, &at)?;
        let shown = user_in(&next, s);
        room::charge_item(ns, Some(&from), &kept, &shown)?;
        Ok((next, axum::Json(shown)))
    })
}

pub fn remove(ns: &Namespace, api: &str, name: &str, id: &str) -> Result<(), AdminError> {
    ns.logora.data.update(|data| {
        let s = slot(data, api, name, id)?;
        let gone = stored_key(data, s);
        let mut next = data.clone();
        next.remove_slot(s);
        ns.charges.forget(&gone);
        Ok::<_, AdminError>((next, ()))
    })
}
