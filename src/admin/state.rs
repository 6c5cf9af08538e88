//! Health, reset, reload, and the whole state: exported in the fixture
//! format and imported back.

use std::sync::Arc;

use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Request};
use axum::response::Response;
use serde_json::{Value, json};

use super::error::AdminError;
use super::{In, chunked};
use crate::data::Data;
use crate::wcs::model::{COLLECTIONS as WCS_COLLECTIONS, USERS_FILE as WCS_USERS_FILE};

const WCS_FORMS_FILE: &str = "wcs/forms.json";

/// 200 once the store is loaded, which is before the listener is bound.
#[utoipa::path(get, path = "/__doublure/health", tag = "health", responses((status = 200, description = "The store is loaded", body = Object, example = json!({"status": "ok"}))))]
pub(super) async fn health() -> Json<Value> {
    Json(json!({"status": "ok"}))
}

/// Back to the loaded fixtures: data, tokens, revocations, nonces,
/// journal, faults and clock.
#[utoipa::path(post, path = "/__doublure/reset", tag = "data", responses((status = 200, description = "Back to the loaded fixtures: data, tokens, revocations, nonces, journal, faults and clock", body = Object), (status = 401, description = "Admin token missing or wrong")))]
pub(super) async fn reset(In(ns): In) -> Json<Value> {
    ns.reset();
    Json(json!({"status": "reset"}))
}

#[utoipa::path(post, path = "/__doublure/reload", tag = "data", responses((status = 200, description = "Fixtures re-read; they are the new reset point", body = Object), (status = 400, description = "Invalid fixtures: `problems` names file, item and field; the previous data keeps serving")))]
pub(super) async fn reload_now(In(ns): In) -> Result<Json<Value>, AdminError> {
    let source = crate::namespace::reload::reload_off_workers(ns).await?;
    Ok(Json(json!({"status": "reloaded", "fixtures": source})))
}

/// All data in the fixture format: `{"logora/users.json": [...], ...}`.
#[utoipa::path(get, path = "/__doublure/state", tag = "data", responses((status = 200, description = "All data in the fixture format: file name to JSON array; each entry can be saved as that file of a fixture directory", body = Object)))]
pub(super) async fn get_state(In(ns): In) -> Response {
    let logora = ns.logora.data.get();
    let wcs = ns.wcs.data.get();
    let object = |files: Vec<(&'static str, Value)>| -> String {
        files
            .iter()
            .map(|(name, value)| format!("{}:{value}", Value::from(*name)))
            .collect::<Vec<_>>()
            .join(",")
    };
    // Logora's users, a million of them with generated data, and w.c.s.'s
    // users and forms, tens of thousands, are written one by one as the
    // client reads, from the data as it was when asked; the rest is small.
    let head = format!(
        "{{{},\"{}\":[",
        object(logora.export_settings()),
        crate::logora::model::USERS_FILE
    );
    let logora_users = (0..logora.slot_count())
        .filter_map(move |slot| logora.user_json(slot))
        .enumerate()
        .map(comma_before);
    // The small collections, in the fixture files' order, between the
    // users and the forms and after the forms.
    let (mut between, mut last) = (String::from("]"), String::from("]"));
    let mut past_forms = false;
    for (file, _) in WCS_COLLECTIONS {
        match *file {
            WCS_USERS_FILE => continue,
            WCS_FORMS_FILE => past_forms = true,
            _ => {
                let target = if past_forms { &mut last } else { &mut between };
                target.push_str(&format!(
                    ",{}:{}",
                    Value::from(*file),
                    wcs.export_file(file)
                ));
            }
        }
    }
    last.push('}');
    let (between, last) = (between.into_bytes(), last.into_bytes());
    let users_data = Arc::clone(&wcs);
    let wcs_users = (0..wcs.users.len())
        .map(move |i| chunked::to_json(&*users_data.users[i]))
        .enumerate()
        .map(comma_before);
    let forms = (0..wcs.forms.len())
        .map(move |i| chunked::to_json(&*wcs.forms[i]))
        .enumerate()
        .map(comma_before);
    let pieces = std::iter::once(head.into_bytes())
        .chain(logora_users)
        .chain(std::iter::once(
            format!("],{}:[", Value::from(WCS_USERS_FILE)).into_bytes(),
        ))
        .chain(wcs_users)
        .chain(std::iter::once(between))
        .chain(std::iter::once(
            format!(",{}:[", Value::from(WCS_FORMS_FILE)).into_bytes(),
        ))
        .chain(forms)
        .chain(std::iter::once(last));
    chunked::pieces(pieces)
}

/// An item of a JSON array, with the comma before it but for the first.
fn comma_before((n, mut item): (usize, Vec<u8>)) -> Vec<u8> {
    if n > 0 {
        item.insert(0, b',');
    }
    item
}

/// Replaces all data, after the fixture validation; invalid data leaves
/// the current state serving.
#[utoipa::path(put, path = "/__doublure/state", tag = "data", request_body(content = Object, description = "File name (`logora/users.json`, …) to JSON array, as GET returns"), responses((status = 200, description = "Replaced", body = Object), (status = 400, description = "Invalid: `problems` names file, item and field; nothing changed")))]
pub(super) async fn put_state(
    In(ns): In,
    StateBody(body): StateBody,
) -> Result<Json<Value>, AdminError> {
    // Parsing hundreds of MB and loading a large dataset take seconds of
    // CPU: on a blocking thread, so that the async workers keep answering
    // other calls meanwhile. Each file is kept as the text it came as: no
    // tree of a million users' values is built, the loader reads items
    // from the text.
    let body_len = body.len();
    let data = tokio::task::spawn_blocking(move || -> Result<Data, AdminError> {
        type Files = std::collections::BTreeMap<String, Box<serde_json::value::RawValue>>;
        let Json(files) = Json::<Files>::from_bytes(&body)?;
        drop(body);
        let files = files
            .into_iter()
            .map(|(name, value)| (name, value.get().to_owned()))
            .collect();
        let files = crate::data::checked_map("state", files)?;
        Ok(Data::load(&files)?)
    })
    .await
    .map_err(|e| {
        // Only a panic of the loader's gets here: a bug, logged as one, and
        // answered as data that could not be taken (nothing was changed).
        tracing::error!("loading the state failed: {e}");
        let mut problems = crate::store::Problems::default();
        problems.push(crate::store::Problem::file(
            "state",
            format!("the state could not be loaded: {e}"),
        ));
        AdminError::Invalid(problems)
    })??;
    // What the state replaces is given back as it is charged: the body's
    // length is the JSON of what is kept, its items each cost their own
    // allocations beside it.
    let items = data.logora.user_count() + data.wcs.users.len() + data.wcs.forms.len();
    ns.replace_data(data, || super::room::charge_dataset(&ns, body_len, items))?;
    Ok(Json(json!({"status": "replaced"})))
}

/// The body of `PUT /__doublure/state`, read whole but not parsed (that
/// is left to a blocking thread), with the refusals of `AdminJson`: the
/// same content-type check first, the same limit, the same messages.
pub(super) struct StateBody(Bytes);

impl<S: Send + Sync> FromRequest<S> for StateBody {
    type Rejection = AdminError;

    async fn from_request(request: Request, state: &S) -> Result<Self, AdminError> {
        // `Json` checks the content type before it reads the body: asked
        // with the headers alone, it says whether they would do.
        let mut probe = Request::new(Body::empty());
        *probe.headers_mut() = request.headers().clone();
        if let Err(JsonRejection::MissingJsonContentType(missing)) =
            Json::<serde::de::IgnoredAny>::from_request(probe, state).await
        {
            return Err(AdminError::from(JsonRejection::MissingJsonContentType(
                missing,
            )));
        }
        Bytes::from_request(request, state)
            .await
            .map(Self)
            .map_err(|rejection| AdminError::from(JsonRejection::from(rejection)))
    }
}
