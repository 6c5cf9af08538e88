//! `/__doublure/wcs/drafts[/{id}]`: the drafts of `wcs/forms.json` as a
//! collection of their own. Upstream keeps drafts among the forms (a form
//! whose status is `draft`), and so does the fixture format; this view
//! reads and writes those items of `wcs/forms.json`, so a test arranging
//! drafts need not filter the forms, and cannot touch a submitted form by
//! mistake. Changes go through the same validation as every collection.

use axum::Json;
use axum::extract::Path;
use axum::http::StatusCode;
use serde_json::{Map, Value};

use super::In;
use super::collections::item::{id_of, object, taken};
use super::collections::wcs_forms;
use super::error::{AdminError, AdminJson};
use crate::namespace::Namespace;
use crate::wcs::model::Form;

const KEY: &str = "id";
const DRAFT: &str = "draft";

fn not_found(id: &str) -> AdminError {
    AdminError::NotFound(format!(
        "no draft with id {id} in wcs/drafts (drafts are the items of wcs/forms.json whose status is \"draft\")"
    ))
}

/// A draft body: `status` left out means `draft`; any other status would
/// take the item out of this view, which is what `/wcs/forms` is for.
fn as_draft(mut fields: Map<String, Value>) -> Result<Map<String, Value>, AdminError> {
    match fields.get("status") {
        None => {
            fields.insert("status".into(), Value::String(DRAFT.into()));
            Ok(fields)
        }
        Some(Value::String(s)) if s == DRAFT => Ok(fields),
        Some(other) => Err(AdminError::BadRequest(format!(
            "a draft's status is \"draft\", not {other}; change other forms at /__doublure/wcs/forms"
        ))),
    }
}

fn read_draft(state: &Namespace, id: &str) -> Result<Value, AdminError> {
    wcs_forms::read(state, id, Form::is_draft).ok_or_else(|| not_found(id))
}

/// Lists the drafts.
#[utoipa::path(get, path = "/__doublure/wcs/drafts", tag = "collections",
    responses((status = 200, description = "The items of wcs/forms.json whose status is `draft`, in the fixture format", body = Vec<Object>)))]
pub async fn list(In(state): In) -> axum::response::Response {
    // Written as the client reads, as forms are tens of thousands long
    // with generated data.
    let data = state.wcs.data.get();
    let drafts = (0..data.forms.len()).filter_map(move |i| {
        let form = &data.forms[i];
        form.is_draft().then(|| super::chunked::to_json(&**form))
    });
    super::chunked::json("[".to_owned(), drafts, "]")
}

/// Reads one draft.
#[utoipa::path(get, path = "/__doublure/wcs/drafts/{id}", tag = "collections",
    params(("id" = String, Path, description = "The form's `id`")),
    responses((status = 200, description = "The draft", body = Object), (status = 404, description = "No such form, or not a draft")))]
pub async fn read(In(state): In, Path(id): Path<String>) -> Result<Json<Value>, AdminError> {
    read_draft(&state, &id).map(Json)
}

/// Creates a draft (a form whose status is `draft`).
#[utoipa::path(post, path = "/__doublure/wcs/drafts", tag = "collections",
    request_body(content = Object, description = "A wcs/forms.json item; `status` may be left out (it is `draft`)"),
    responses((status = 201, description = "Created; the draft as stored", body = Object), (status = 400, description = "Invalid, or another status: `problems` names the field"), (status = 409, description = "A form with that id exists")))]
pub async fn create(
    In(state): In,
    AdminJson(body): AdminJson<Value>,
) -> Result<(StatusCode, Json<Value>), AdminError> {
    let item = Value::Object(as_draft(object(body)?)?);
    let id = id_of(&item, KEY)
        .ok_or_else(|| AdminError::BadRequest(format!("the draft needs its {KEY}")))?;
    let conflict = || taken("wcs", "forms", "id", &id);
    let created = wcs_forms::create(&state, &id, item, conflict)?;
    Ok((StatusCode::CREATED, Json(created)))
}

/// Replaces a draft (PUT) or changes some of its fields (PATCH).
fn update(
    state: &Namespace,
    id: &str,
    body: Value,
    merge: bool,
) -> Result<Json<Value>, AdminError> {
    let fields = object(body)?;
    let change = wcs_forms::Change {
        wanted: Form::is_draft,
        edit: |current: Value| {
            let item = if merge {
                let mut current = current.as_object().cloned().unwrap_or_default();
                current.extend(fields);
                as_draft(current)?
            } else {
                let mut replacement = as_draft(fields)?;
                // The URL names the draft: an id left out of the body is kept.
                if !replacement.contains_key(KEY) {
                    replacement.insert(KEY.to_owned(), current[KEY].clone());
                }
                replacement
            };
            Ok(Value::Object(item))
        },
        missing: || not_found(id),
        taken: |new_id: &str| taken("wcs", "forms", "id", new_id),
    };
    wcs_forms::update(state, id, change).map(Json)
}

/// Replaces a draft.
#[utoipa::path(put, path = "/__doublure/wcs/drafts/{id}", tag = "collections",
    params(("id" = String, Path)),
    request_body(content = Object, description = "The whole draft; `status` may be left out"),
    responses((status = 200, description = "The draft as stored", body = Object), (status = 400, description = "Invalid, or another status"), (status = 404, description = "No such form, or not a draft")))]
pub async fn replace(
    In(state): In,
    Path(id): Path<String>,
    AdminJson(body): AdminJson<Value>,
) -> Result<Json<Value>, AdminError> {
    update(&state, &id, body, false)
}

/// Changes some fields of a draft.
#[utoipa::path(patch, path = "/__doublure/wcs/drafts/{id}", tag = "collections",
    params(("id" = String, Path)),
    request_body(content = Object, description = "The fields to change"),
    responses((status = 200, description = "The draft as stored", body = Object), (status = 400, description = "Invalid, or another status"), (status = 404, description = "No such form, or not a draft")))]
pub async fn patch(
    In(state): In,
    Path(id): Path<String>,
    AdminJson(body): AdminJson<Value>,
) -> Result<Json<Value>, AdminError> {
    update(&state, &id, body, true)
}

/// Deletes a draft.
#[utoipa::path(delete, path = "/__doublure/wcs/drafts/{id}", tag = "collections",
    params(("id" = String, Path)),
    responses((status = 204, description = "Deleted"), (status = 400, description = "Other items refer to it"), (status = 404, description = "No such form, or not a draft")))]
pub async fn remove(In(state): In, Path(id): Path<String>) -> Result<StatusCode, AdminError> {
    wcs_forms::remove(&state, &id, Form::is_draft, || not_found(&id))?;
    Ok(StatusCode::NO_CONTENT)
}
