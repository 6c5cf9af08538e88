//! The helpers every collection's change shares: an item's id as a URL
//! names it, a PUT or PATCH applied to an item, the 404 and the 400 of a
//! body that is no object.

use serde_json::{Map, Value};

use crate::admin::error::AdminError;

/// An item's id as text, as it appears in a URL.
pub fn id_of(item: &Value, key: &str) -> Option<String> {
    match item.get(key)? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// `current` with `fields` merged in (PATCH) or replaced by them (PUT,
/// keeping the id the URL names when the body leaves it out).
pub fn updated(current: &Value, fields: Map<String, Value>, key: &str, merge: bool) -> Value {
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

pub fn find(list: &[Value], key: &str, id: &str) -> Option<usize> {
    list.iter()
        .position(|item| id_of(item, key).as_deref() == Some(id))
}

pub fn not_found(api: &str, name: &str, key: &str, id: &str) -> AdminError {
    AdminError::NotFound(format!("no item with {key} {id} in {api}/{name}"))
}

/// The 409 of a create, or an id change, onto a key another item holds.
pub fn taken(api: &str, name: &str, key: &str, id: &str) -> AdminError {
    AdminError::Conflict(format!("{api}/{name} already has an item with {key} {id}"))
}

pub fn object(body: Value) -> Result<Map<String, Value>, AdminError> {
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
