//! The request journal, read with filters (written as it is read) and
//! cleared.

use axum::extract::Query;
use axum::http::StatusCode;
use axum::response::Response;

use super::error::AdminError;
use super::{In, chunked};
use crate::traffic::journal;

#[utoipa::path(get, path = "/__doublure/requests", tag = "journal", params(journal::JournalFilter), responses((status = 200, description = "`{capacity, max_bytes, count, requests: [Entry]}`, oldest first; written as it is read, so the answer is never built whole", body = Object), (status = 400, description = "Bad filter")))]
pub(super) async fn list_requests(
    In(state): In,
    query: Result<Query<journal::JournalFilter>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, AdminError> {
    let Query(filter) = query.map_err(|e| AdminError::BadRequest(e.body_text()))?;
    let entries = state.journal.matching(&filter);
    let head = format!(
        "{{\"capacity\":{},\"max_bytes\":{},\"count\":{},\"requests\":[",
        state.journal.capacity(),
        state.journal.max_bytes(),
        entries.len()
    );
    let items = entries
        .into_iter()
        .map(|entry| chunked::to_json(&entry.entry()));
    Ok(chunked::json(head, items, "]}"))
}

#[utoipa::path(delete, path = "/__doublure/requests", tag = "journal", responses((status = 204, description = "Journal emptied")))]
pub(super) async fn clear_requests(In(state): In) -> StatusCode {
    state.journal.clear();
    StatusCode::NO_CONTENT
}
