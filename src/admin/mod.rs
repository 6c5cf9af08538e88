//! The control plane, under the reserved prefix `/__doublure/`: health
//! first. No emulated path can reach this prefix, and CORS is never applied
//! to it.

pub mod journal;

use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};

use crate::AppState;

/// The control plane's routes.
pub fn router(_state: &AppState) -> Router<AppState> {
    Router::new().route("/__doublure/health", get(health))
}

/// 200 once the store is loaded, which is before the listener is bound.
async fn health() -> Json<Value> {
    Json(json!({"status": "ok"}))
}
