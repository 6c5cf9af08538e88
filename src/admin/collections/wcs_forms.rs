//! `/__doublure/wcs/forms[/{id}]` and the drafts view of them, one form
//! at a time on the typed data: generated data makes forms a hundred
//! thousand long, and a change exported and reloaded every one of them.
//! A change here parses the one item, checks it as the fixture loader
//! would (same messages: a form's references are its own), and puts it in
//! place, sharing every other form and updating the indexes.

use serde_json::Value;

use super::item::id_of;
use crate::admin::error::AdminError;
use crate::admin::room;
use crate::namespace::Namespace;
use crate::store::{ItemRef, Problems, fixtures::parse_item};
use crate::wcs::model::{Form, WcsData};

const FILE: &str = "wcs/forms.json";

/// The position of the form a URL's `id` names: as the other collections
/// compare ids as text, `021` or `+21` names no form.
fn position(data: &WcsData, id: &str) -> Option<usize> {
    let n = id.parse::<i64>().ok().filter(|n| n.to_string() == id)?;
    data.form_position(n)
}

/// A form in the fixture format.
pub fn value(form: &Form) -> Value {
    serde_json::to_value(form).unwrap_or(Value::Null)
}

/// `item` read as a form at `number` (1-based) of the forms, with the
/// loader's checks and messages.
fn checked(data: &WcsData, item: &Value, number: usize) -> Result<Form, AdminError> {
    let at = ItemRef {
        file: format!("state/{FILE}"),
        number,
        id: id_of(item, "id"),
    };
    let form: Form = parse_item(item, &at).map_err(|p| AdminError::Invalid(Problems(vec![p])))?;
    let problems: Vec<_> = data
        .form_problems_of(&form)
        .into_iter()
        .map(|p| at.problem(p))
        .collect();
    if problems.is_empty() {
        Ok(form)
    } else {
        Err(AdminError::Invalid(Problems(problems)))
    }
}

/// Form `id` in the fixture format, when `wanted`.
pub fn read(ns: &Namespace, id: &str, wanted: impl Fn(&Form) -> bool) -> Option<Value> {
    ns.wcs.data.read(|data| {
        position(data, id)
            .map(|i| &data.forms[i])
            .filter(|f| wanted(f))
            .map(|f| value(f))
    })
}

/// The key form `id` is charged under: its id as kept.
fn key(id: i64) -> String {
    room::item_key(FILE, &id.to_string())
}

/// Adds `item`, whose id is `id`; `taken` says why an id already used is
/// refused.
pub fn create(
    ns: &Namespace,
    id: &str,
    item: Value,
    taken: impl FnOnce() -> AdminError,
) -> Result<Value, AdminError> {
    ns.wcs.data.update(|data| {
        if position(data, id).is_some() {
            return Err(taken());
        }
        let form = checked(data, &item, data.forms.len() + 1)?;
        let (shown, kept) = (value(&form), key(form.id));
        let mut next = data.clone();
        next.set_form(next.forms.len(), form);
        room::charge_item(ns, None, &kept, &shown)?;
        Ok((next, shown))
    })
}

/// How to change one form.
pub struct Change<W, E, M, T> {
    /// Whether the form the URL names may be changed here.
    pub wanted: W,
    /// The item that replaces the form, from the form as it is.
    pub edit: E,
    /// The refusal of a form that is not there (or not wanted).
    pub missing: M,
    /// The refusal of a new id another form has.
    pub taken: T,
}

/// Changes form `id` as `change` says.
pub fn update<W, E, M, T>(
    ns: &Namespace,
    id: &str,
    change: Change<W, E, M, T>,
) -> Result<Value, AdminError>
where
    W: Fn(&Form) -> bool,
    E: FnOnce(Value) -> Result<Value, AdminError>,
    M: FnOnce() -> AdminError,
    T: FnOnce(&str) -> AdminError,
{
    ns.wcs.data.update(|data| {
        let Some(at) = position(data, id).filter(|&i| (change.wanted)(&data.forms[i])) else {
            return Err((change.missing)());
        };
        let item = (change.edit)(value(&data.forms[at]))?;
        let new_id = id_of(&item, "id").unwrap_or_else(|| id.to_owned());
        if new_id != id && position(data, &new_id).is_some() {
            return Err((change.taken)(&new_id));
        }
        let form = checked(data, &item, at + 1)?;
        let (shown, from, kept) = (value(&form), key(data.forms[at].id), key(form.id));
        let mut next = data.clone();
        next.set_form(at, form);
        room::charge_item(ns, Some(&from), &kept, &shown)?;
        Ok((next, shown))
    })
}

/// Removes form `id`, when `wanted`; nothing refers to a form.
pub fn remove(
    ns: &Namespace,
    id: &str,
    wanted: impl Fn(&Form) -> bool,
    missing: impl FnOnce() -> AdminError,
) -> Result<(), AdminError> {
    ns.wcs.data.update(|data| {
        let Some(at) = position(data, id).filter(|&i| wanted(&data.forms[i])) else {
            return Err(missing());
        };
        let gone = key(data.forms[at].id);
        let mut next = data.clone();
        next.remove_form(at);
        ns.charges.forget(&gone);
        Ok::<_, AdminError>((next, ()))
    })
}
