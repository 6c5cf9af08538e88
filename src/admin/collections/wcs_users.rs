//! `/__doublure/wcs/users[/{id}]`, one user at a time on the typed data:
//! generated data makes these users tens of thousands long, and a change
//! exported and reloaded everything (a second and 150 MB for one user of
//! 50,000, copied into each namespace that made it). A change here parses
//! the one item, checks it as the fixture loader would (same messages),
//! and puts it in place, sharing every other user and updating the
//! indexes. What only the whole data can say (a form that would lose its
//! user) goes through the loader, which names each such form.

use serde_json::{Map, Value};

use super::item::{id_of, not_found, taken, updated};
use crate::admin::error::AdminError;
use crate::admin::room;
use crate::namespace::Namespace;
use crate::store::{ItemRef, Problems, fixtures::parse_item};
use crate::wcs::model::{USERS_FILE, User, WcsData};

/// The position of the user a URL's `id` names: as the other collections
/// compare ids as text, `021` or `+21` names no user.
/// The key user `id` is charged under: its id as kept.
fn key(id: i64) -> String {
    room::item_key(USERS_FILE, &id.to_string())
}

fn position(data: &WcsData, id: &str) -> Option<usize> {
    let n = id.parse::<i64>().ok().filter(|n| n.to_string() == id)?;
    data.user_position(n)
}

fn value(user: &User) -> Value {
    serde_json::to_value(user).unwrap_or(Value::Null)
}

/// `item` read as a user at `number` (1-based) of the users, with the
/// loader's checks and messages.
fn checked(data: &WcsData, item: &Value, number: usize) -> Result<User, AdminError> {
    let at = ItemRef {
        file: format!("state/{USERS_FILE}"),
        number,
        id: id_of(item, "id"),
    };
    let user: User = parse_item(item, &at).map_err(|p| AdminError::Invalid(Problems(vec![p])))?;
    let problems: Vec<_> = data
        .user_problems(&user)
        .into_iter()
        .map(|p| at.problem(p))
        .collect();
    if problems.is_empty() {
        Ok(user)
    } else {
        Err(AdminError::Invalid(Problems(problems)))
    }
}

pub fn read(ns: &Namespace, api: &str, name: &str, id: &str) -> Result<Value, AdminError> {
    ns.wcs.data.read(|data| {
        position(data, id)
            .map(|i| value(&data.users[i]))
            .ok_or_else(|| not_found(api, name, "id", id))
    })
}

pub fn create(
    ns: &Namespace,
    api: &str,
    name: &str,
    id: &str,
    item: Value,
) -> Result<Value, AdminError> {
    ns.wcs.data.update(|data| {
        if position(data, id).is_some() {
            return Err(taken(api, name, "id", id));
        }
        let user = checked(data, &item, data.users.len() + 1)?;
        let (shown, kept) = (value(&user), key(user.id));
        let mut next = data.clone();
        next.set_user(next.users.len(), user);
        room::charge_item(ns, None, &kept, &shown)?;
        Ok((next, shown))
    })
}

/// The forms file as a reload of everything names it in its problems
/// (the state exported as the fixture files of a directory `state`).
const FORMS_SHOWN: &str = "state/wcs/forms.json";

/// The refusal of a change that takes user `id` from the forms that name
/// it, in the loader's words for those forms alone: a reload of
/// everything (seconds with generated data, under the write lock) would
/// say the same and nothing more, the rest being as valid as before.
fn forms_losing(data: &WcsData, id: i64) -> Result<(), AdminError> {
    let problems = data.problems_of_forms_losing(id, FORMS_SHOWN);
    if problems.is_empty() {
        Ok(())
    } else {
        Err(AdminError::Invalid(Problems(problems)))
    }
}

pub fn update(
    ns: &Namespace,
    api: &str,
    name: &str,
    id: &str,
    fields: Map<String, Value>,
    merge: bool,
) -> Result<Value, AdminError> {
    ns.wcs.data.update(|data| {
        let at = position(data, id).ok_or_else(|| not_found(api, name, "id", id))?;
        let current = &data.users[at];
        let item = updated(&value(current), fields, "id", merge);
        let new_id = id_of(&item, "id").unwrap_or_else(|| id.to_owned());
        if new_id != id && position(data, &new_id).is_some() {
            return Err(taken(api, name, "id", &new_id));
        }
        let user = checked(data, &item, at + 1)?;
        if user.id != current.id {
            forms_losing(data, current.id)?;
        }
        let (shown, from, kept) = (value(&user), key(current.id), key(user.id));
        let mut next = data.clone();
        next.set_user(at, user);
        room::charge_item(ns, Some(&from), &kept, &shown)?;
        Ok((next, shown))
    })
}

pub fn remove(ns: &Namespace, api: &str, name: &str, id: &str) -> Result<(), AdminError> {
    ns.wcs.data.update(|data| {
        let at = position(data, id).ok_or_else(|| not_found(api, name, "id", id))?;
        forms_losing(data, data.users[at].id)?;
        let gone = key(data.users[at].id);
        let mut next = data.clone();
        next.remove_user(at);
        ns.charges.forget(&gone);
        Ok::<_, AdminError>((next, ()))
    })
}
