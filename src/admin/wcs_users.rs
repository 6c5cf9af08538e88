//! `/__doublure/wcs/users[/{id}]`, one user at a time on the typed data:
//! generated data makes these users tens of thousands long, and a change
//! exported and reloaded everything (a second and 150 MB for one user of
//! 50,000, copied into each namespace that made it). A change here parses
//! the one item, checks it as the fixture loader would (same messages),
//! and puts it in place, sharing every other user and updating the
//! indexes. What only the whole data can say (a form that would lose its
//! user) goes through the loader, which names each such form.

use serde_json::{Map, Value};

use super::collections::{change, find, id_of, not_found, updated};
use super::error::AdminError;
use crate::namespace::Namespace;
use crate::store::{ItemRef, Problems, fixtures::parse_item};
use crate::wcs::model::{USERS_FILE, User, WcsData};

/// The position of the user a URL's `id` names: as the other collections
/// compare ids as text, `021` or `+21` names no user.
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
            return Err(AdminError::Conflict(format!(
                "{api}/{name} already has an item with id {id}"
            )));
        }
        let user = checked(data, &item, data.users.len() + 1)?;
        let shown = value(&user);
        let mut next = data.clone();
        next.set_user(next.users.len(), user);
        Ok((next, shown))
    })
}

/// Why a change of one user was not made here.
enum Refused {
    /// It is wrong: said as the loader says it.
    Error(AdminError),
    /// Forms name the user it would take away: the loader, which names
    /// each form, says what is wrong (this item, in place of the user).
    Loader(Map<String, Value>),
}

impl From<AdminError> for Refused {
    fn from(e: AdminError) -> Self {
        Self::Error(e)
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
    let attempt = ns.wcs.data.update(|data| {
        let at = position(data, id).ok_or_else(|| not_found(api, name, "id", id))?;
        let current = &data.users[at];
        let item = updated(&value(current), fields, "id", merge);
        let new_id = id_of(&item, "id").unwrap_or_else(|| id.to_owned());
        if new_id != id && position(data, &new_id).is_some() {
            return Err(Refused::Error(AdminError::Conflict(format!(
                "{api}/{name} already has an item with id {new_id}"
            ))));
        }
        if new_id.parse::<i64>().ok() != Some(current.id) && data.forms_refer_to_user(current.id) {
            return Err(Refused::Loader(match item {
                Value::Object(map) => map,
                _ => Map::new(),
            }));
        }
        let user = checked(data, &item, at + 1)?;
        let shown = value(&user);
        let mut next = data.clone();
        next.set_user(at, user);
        Ok((next, shown))
    });
    let item = match attempt {
        Ok(shown) => return Ok(shown),
        Err(Refused::Error(e)) => return Err(e),
        Err(Refused::Loader(item)) => Value::Object(item),
    };
    let new_id = id_of(&item, "id").unwrap_or_else(|| id.to_owned());
    change(ns, USERS_FILE, |list| {
        let index = find(list, "id", id).ok_or_else(|| not_found(api, name, "id", id))?;
        list[index] = item;
        Ok(())
    })?;
    read(ns, api, name, &new_id)
}

pub fn remove(ns: &Namespace, api: &str, name: &str, id: &str) -> Result<(), AdminError> {
    let attempt = ns.wcs.data.update(|data| {
        let at = position(data, id).ok_or_else(|| not_found(api, name, "id", id))?;
        if data.forms_refer_to_user(data.users[at].id) {
            return Err(Refused::Loader(Map::new()));
        }
        let mut next = data.clone();
        next.remove_user(at);
        Ok((next, ()))
    });
    match attempt {
        Ok(()) => Ok(()),
        Err(Refused::Error(e)) => Err(e),
        Err(Refused::Loader(_)) => change(ns, USERS_FILE, |list| {
            let index = find(list, "id", id).ok_or_else(|| not_found(api, name, "id", id))?;
            list.remove(index);
            Ok(())
        }),
    }
}
