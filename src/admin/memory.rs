//! `GET /__doublure/memory`: the memory budget (`--memory-budget`) and
//! what uses it, every namespace together, and the live journal streams
//! (`--max-streams`), for a suite or the console to see how close the
//! server is to refusing calls.

use axum::Json;

use super::In;
use crate::budget::Usage;

/// The memory budget and its use.
#[utoipa::path(get, path = "/__doublure/memory", tag = "health", responses((status = 200, description = "The memory budget (--memory-budget) and its use, every namespace together (the same in every namespace): journals, w.c.s. nonces, live journal streams, the APIs' caches and the data control-plane calls added; calls refused with a 503 once it was spent", body = Usage), (status = 401, description = "Admin token missing or wrong")))]
pub(super) async fn memory(In(ns): In) -> Json<Usage> {
    Json(ns.ground.budget.usage())
}
