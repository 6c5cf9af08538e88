//! `/__doublure/namespaces[/{name}]`: the live namespaces, listed and
//! dropped. These routes are the server's, not a namespace's: they answer
//! the same at the root and under any `/__ns/{name}/` prefix, and asking
//! them never makes a namespace.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::{Json, Router, middleware};
use serde_json::{Value, json};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::AdminError;
use crate::config::Settings;
use crate::namespace::{Namespaces, check_name};

fn parts() -> (Router<Namespaces>, utoipa::openapi::OpenApi) {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(remove))
        .split_for_parts()
}

/// The routes, behind the admin token when the server has one.
pub(super) fn router(namespaces: Namespaces, settings: Arc<Settings>) -> Router {
    parts()
        .0
        .with_state(namespaces)
        .route_layer(middleware::from_fn_with_state(
            settings,
            super::require_admin_token,
        ))
}

/// Their part of the control plane's OpenAPI document.
pub fn openapi() -> utoipa::openapi::OpenApi {
    parts().1
}

/// Lists the live namespaces.
#[utoipa::path(get, path = "/__doublure/namespaces", tag = "namespaces",
    responses((status = 200, description = "`{\"namespaces\": [{name, created, last_used, requests}]}`, by name; the root is not a namespace and is not listed", body = Object,
        example = json!({"namespaces": [{"name": "test_login", "created": "2026-01-15T10:00:00.000Z", "last_used": "2026-01-15T10:00:02.500Z", "requests": 12}]}))))]
pub async fn list(State(namespaces): State<Namespaces>) -> Json<Value> {
    Json(json!({"namespaces": namespaces.list()}))
}

/// Drops a namespace: its data, clock, tokens, journal and faults are gone,
/// and its next request makes it afresh.
#[utoipa::path(delete, path = "/__doublure/namespaces/{name}", tag = "namespaces",
    params(("name" = String, Path, description = "1 to 64 characters of `[A-Za-z0-9._-]`")),
    responses((status = 204, description = "Dropped"), (status = 400, description = "Not a namespace name"), (status = 404, description = "No such namespace")))]
pub async fn remove(
    State(namespaces): State<Namespaces>,
    Path(name): Path<String>,
) -> Result<StatusCode, AdminError> {
    check_name(&name).map_err(AdminError::BadRequest)?;
    if namespaces.remove(&name) {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(AdminError::NotFound(format!("no namespace {name:?}")))
    }
}
