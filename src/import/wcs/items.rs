//! The items of w.c.s. answers as the importer reads them: one serde shape
//! per kind of item (directory user, role, form, status), read from the
//! JSON with `serde_path_to_error`, so that every error names the request,
//! the item and the field. Fields upstream writes in more than one way (ids
//! as numbers or text, a key or its older name) are read by the few helpers
//! beside them.

use chrono::NaiveDateTime;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::import::ImportError;
use crate::wcs::model::TIME_FORMAT;

/// One item of an answer, and where it sits for messages: the request and
/// `item N (id X)`.
pub(super) struct Item<'v> {
    pub(super) map: &'v Map<String, Value>,
    value: &'v Value,
    pub(super) what: &'v str,
    pub(super) at: String,
}

impl<'v> Item<'v> {
    /// Item `n` (from 1) of the answer to `what`, named by its `id_key`.
    pub(super) fn new(
        what: &'v str,
        n: usize,
        item: &'v Value,
        id_key: &str,
    ) -> Result<Self, ImportError> {
        let at = match item.get(id_key) {
            Some(Value::String(id)) => format!("item {n} (id {id})"),
            Some(id) => format!("item {n} (id {id})"),
            None => format!("item {n}"),
        };
        match item {
            Value::Object(map) => Ok(Self {
                map,
                value: item,
                what,
                at,
            }),
            other => Err(ImportError::Malformed {
                what: what.to_owned(),
                detail: format!("{at}: expected a JSON object, got {other}"),
            }),
        }
    }

    /// The error of `field` of this item.
    pub(super) fn fail(&self, field: &str, message: impl std::fmt::Display) -> ImportError {
        ImportError::Malformed {
            what: self.what.to_owned(),
            detail: format!("{}: field {field}: {message}", self.at),
        }
    }

    /// The request of the items under `field` of this one, for their
    /// messages.
    pub(super) fn under(&self, field: &str) -> String {
        format!("{}, {}, field {field}", self.what, self.at)
    }

    /// This item read as a `T`; an error names the field by its path.
    pub(super) fn read<T: DeserializeOwned>(&self) -> Result<T, ImportError> {
        serde_path_to_error::deserialize(self.value).map_err(|e| {
            let path = e.path().to_string();
            let inner = e.into_inner();
            if path == "." {
                ImportError::Malformed {
                    what: self.what.to_owned(),
                    detail: format!("{}: {inner}", self.at),
                }
            } else {
                self.fail(&path, inner)
            }
        })
    }

    /// A field that is absent when null.
    pub(super) fn get(&self, key: &str) -> Option<&'v Value> {
        self.map.get(key).filter(|v| !v.is_null())
    }

    /// A text field of a key made at run time (`user_name_identifier_0`).
    pub(super) fn text(&self, key: &str) -> Result<Option<&'v str>, ImportError> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(other) => Err(self.fail(key, format!("expected a string, got {other}"))),
        }
    }

    /// The first of `keys` present, as an integer (w.c.s. writes some ids
    /// as strings); the others are not read.
    pub(super) fn int(&self, keys: &[&str]) -> Result<i64, ImportError> {
        for key in keys {
            match self.get(key) {
                None => continue,
                Some(Value::Number(n)) if n.is_i64() => return Ok(n.as_i64().unwrap_or_default()),
                Some(Value::String(s)) if s.parse::<i64>().is_ok() => {
                    return Ok(s.parse().unwrap_or_default());
                }
                Some(other) => {
                    return Err(self.fail(key, format!("expected an integer, got {other}")));
                }
            }
        }
        Err(self.fail(keys[0], "missing"))
    }

    /// The item's `id` as text (some role stores give integers).
    pub(super) fn id_text(&self) -> Option<String> {
        self.get("id").and_then(id_text)
    }
}

/// A role id as text (some role stores give integers).
pub(super) fn id_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// A w.c.s. time (`2014-03-28 15:36:52`, or ISO `2014-03-28T15:36:52`,
/// with or without microseconds and offset) in the fixture format.
pub(super) fn fixture_time(text: &str) -> Option<String> {
    let head: String = text.chars().take(19).collect::<String>().replace('T', " ");
    NaiveDateTime::parse_from_str(&head, TIME_FORMAT)
        .ok()
        .map(|t| t.format(TIME_FORMAT).to_string())
}

/// A user of the directory (`/api/users/`). Its name identifiers and
/// profile fields have keys made of a number or a variable name, read from
/// the item's map.
#[derive(Debug, Deserialize)]
pub(super) struct DirectoryUser {
    pub(super) user_display_name: Option<String>,
    pub(super) user_email: Option<String>,
    /// Each read as a [`Role`].
    pub(super) user_roles: Option<Vec<Value>>,
    pub(super) user_admin_access: Option<bool>,
}

/// A role: an item of a user's `user_roles` or of a form's concerned
/// roles. Its `id` is read with [`Item::id_text`].
#[derive(Debug, Deserialize)]
pub(super) struct Role {
    pub(super) name: Option<String>,
    pub(super) text: Option<String>,
    pub(super) slug: Option<String>,
    pub(super) allows_backoffice_access: Option<bool>,
    pub(super) emails: Option<Vec<String>>,
    pub(super) details: Option<String>,
    pub(super) emails_to_members: Option<bool>,
}

/// What places a form or draft of a listing: its definition's slug (its
/// id is read with [`Item::int`]). The rest is read only for a form not
/// seen before.
#[derive(Debug, Deserialize)]
pub(super) struct FormKey {
    pub(super) form_slug: Option<String>,
}

/// A form or draft of a listing read with `full=on`; a submitted form's
/// status is read apart, as [`Workflow`] then [`RealStatus`] or
/// [`StatusName`], since a draft has none.
#[derive(Debug, Deserialize)]
pub(super) struct Form {
    pub(super) form_name: Option<String>,
    pub(super) name: Option<String>,
    pub(super) form_number: Option<String>,
    pub(super) category_slug: Option<String>,
    pub(super) category_name: Option<String>,
    pub(super) draft: Option<bool>,
    pub(super) datetime: Option<String>,
    pub(super) form_receipt_datetime: Option<String>,
    pub(super) form_last_update_datetime: Option<String>,
    pub(super) last_update_time: Option<String>,
    pub(super) keywords: Option<Vec<String>>,
    pub(super) form_digest: Option<String>,
    /// Its `concerned` list, each read as a [`Role`].
    pub(super) roles: Option<Map<String, Value>>,
    pub(super) form_tracking_code: Option<String>,
    pub(super) fields: Option<Map<String, Value>>,
    pub(super) form_submission_channel: Option<String>,
    pub(super) form_submission_backoffice: Option<bool>,
}

/// The workflow of a submitted form, read with `full=on`.
#[derive(Debug, Deserialize)]
pub(super) struct Workflow {
    pub(super) workflow: Option<Map<String, Value>>,
}

/// The status of a submitted form without `full=on` support: its name.
#[derive(Debug, Deserialize)]
pub(super) struct StatusName {
    pub(super) form_status: Option<String>,
    pub(super) form_status_is_endpoint: Option<bool>,
    pub(super) status: Option<String>,
}

/// `workflow.real_status` of a submitted form (its `id` is read with
/// [`Item::id_text`]).
#[derive(Debug, Deserialize)]
pub(super) struct RealStatus {
    pub(super) name: Option<String>,
    pub(super) endpoint: Option<bool>,
}
