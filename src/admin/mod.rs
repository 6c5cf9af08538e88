//! The control plane, under the reserved prefix `/__doublure/`: health,
//! reset, the emulated clock, the request journal (and its live stream),
//! fault rules, whole-state export and import, fixture reload, the
//! namespaces, and the web console that drives them all. No emulated path
//! can reach this prefix, and CORS is never applied to it.
//!
//! Its routes receive the [`Namespace`] they are called in (the root, or
//! `/__ns/{name}/…`), and reach each emulated API through that API's
//! control surface (`Logora`'s and `Wcs`'s methods, their data's
//! collection methods).

pub mod chunked;
pub mod collections;
pub mod credentials;
pub mod drafts;
pub mod error;
pub mod host;
pub mod namespaces;
pub mod openapi;
pub mod origin;
pub mod stream;
pub mod ui;

mod clock;
mod fault_rules;
mod memory;
mod requests;
mod room;
mod state;
mod tls;
mod token;

pub use token::{require_admin_token, token_given};

use std::sync::{Arc, OnceLock};

use axum::Router;
use axum::http::StatusCode;
use axum::middleware;
use serde_json::{Value, json};
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::config::Settings;
use crate::namespace::{Namespace, Namespaces};
use crate::traffic::{faults, journal};
use error::AdminError;

/// The control plane's routes, every route but health behind the admin
/// token when the server has one. One router serves every namespace: each
/// route reads the namespace it is called in with [`In`], which the
/// dispatcher puts in the request (control-plane calls are few; the
/// emulated APIs, which are called a lot, have a router per namespace
/// instead).
pub fn router(namespaces: Namespaces, settings: Arc<Settings>) -> Router {
    let (open, protected, _) = parts();
    open.layer(axum::Extension(tls::CaPem(settings.tls_ca_pem.clone())))
        .merge(ui::router())
        .merge(protected.route_layer(middleware::from_fn_with_state(
            Arc::clone(&settings),
            require_admin_token,
        )))
        .merge(namespaces::router(namespaces, settings))
        .fallback(unknown)
}

/// Unknown control-plane paths: at the root a plain 404, as for any
/// unknown path outside the emulated APIs; under a namespace prefix, a 404
/// in the control plane's format, which a client driving a namespace reads
/// like its other errors.
async fn unknown(request: axum::extract::Request) -> axum::response::Response {
    use axum::response::IntoResponse;
    let in_namespace = request
        .extensions()
        .get::<Namespace>()
        .is_none_or(|ns| ns.name.is_some());
    if in_namespace {
        no_route(request.method(), request.uri().path()).into_response()
    } else {
        (StatusCode::NOT_FOUND, "Not Found\n").into_response()
    }
}

fn no_route(method: &axum::http::Method, path: &str) -> AdminError {
    AdminError::NotFound(format!("no control-plane route for {method} {path}"))
}

/// The namespace a control-plane call was made in.
#[derive(Debug, Clone)]
pub struct In(pub Namespace);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for In {
    type Rejection = AdminError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _: &S,
    ) -> Result<Self, AdminError> {
        parts
            .extensions
            .get::<Namespace>()
            .cloned()
            .map(In)
            .ok_or_else(|| {
                // The dispatcher puts a namespace in every call it sends
                // here but the server's own routes (the namespace list), and
                // calls refused the admin token, which no route serves.
                tracing::error!(
                    method = %parts.method,
                    path = parts.uri.path(),
                    "a control-plane route was reached with no namespace; answered 404"
                );
                no_route(&parts.method, parts.uri.path())
            })
    }
}

/// The OpenAPI 3.1 document of the control plane, generated from the same
/// handler list as the router, so the two cannot drift apart, then
/// sharpened by `openapi::refine`.
pub fn openapi() -> &'static Value {
    static DOCUMENT: OnceLock<Value> = OnceLock::new();
    DOCUMENT.get_or_init(|| {
        openapi::refine(serde_json::to_value(parts().2).unwrap_or_else(|_| json!({})))
    })
}

/// The open routes (health), the protected ones, and their document.
fn parts() -> (Router, Router, utoipa::openapi::OpenApi) {
    let (open, open_api) = OpenApiRouter::new()
        .routes(routes!(state::health))
        .routes(routes!(tls::ca_pem))
        .split_for_parts();
    let (protected, mut api) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(openapi::control_plane))
        .routes(routes!(openapi::logora))
        .routes(routes!(openapi::wcs))
        .routes(routes!(memory::memory))
        .routes(routes!(state::reset))
        .routes(routes!(state::reload_now))
        .routes(routes!(state::get_state, state::put_state))
        .routes(routes!(clock::get_clock, clock::put_clock))
        .routes(routes!(clock::advance_clock))
        .routes(routes!(requests::list_requests, requests::clear_requests))
        .routes(routes!(stream::stream))
        .routes(routes!(
            fault_rules::list_faults,
            fault_rules::add_fault,
            fault_rules::clear_faults
        ))
        .routes(routes!(fault_rules::remove_fault))
        .routes(routes!(credentials::mint, credentials::list))
        .routes(routes!(credentials::revoke))
        .routes(routes!(credentials::sign))
        .routes(routes!(drafts::list, drafts::create))
        .routes(routes!(
            drafts::read,
            drafts::replace,
            drafts::patch,
            drafts::remove
        ))
        .routes(routes!(collections::list, collections::create))
        .routes(routes!(
            collections::read,
            collections::replace,
            collections::patch,
            collections::remove
        ))
        .split_for_parts();
    api.merge(open_api);
    api.merge(namespaces::openapi());
    (open, protected, api)
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "doublure control plane",
        description = "Routes under /__doublure/ that arrange data, move the emulated clock, inject faults and read the request journal. With --admin-token, every route but health needs `Authorization: Bearer <token>` (so do the calls of the web console at /__doublure/ui/, whose files load without it)."
    ),
    components(schemas(
        faults::FaultRule,
        faults::Rule,
        journal::JournalEntry,
        credentials::MintRequest,
        credentials::SignRequest,
        crate::namespace::Info,
        crate::budget::Usage
    ))
)]
struct ApiDoc;
