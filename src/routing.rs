//! Puts the routers together: the two emulated APIs behind faults and CORS,
//! the control plane under `/__doublure/` without either, and a fallback
//! that answers unknown paths in the format of the API their prefix
//! belongs to.

use axum::Router;
use axum::extract::Request;
use axum::http::{HeaderName, HeaderValue, Method, StatusCode, Uri};
use axum::middleware;
use axum::response::{IntoResponse, Response};
use tower::ServiceExt;
use tower_http::cors::{AllowHeaders, AllowOrigin, CorsLayer};

use crate::AppState;
use crate::admin::journal::Outcome;
use crate::config::CorsOrigins;

/// The whole application router.
pub fn app(state: AppState) -> Router {
    // Everything that is not the control plane, unknown paths included,
    // goes through faults, then CORS: a browser demo reads an injected 503
    // like any other answer of the API.
    let apis = Router::new()
        .merge(crate::logora::router())
        .merge(crate::wcs::router())
        .fallback(fallback)
        .layer(middleware::from_fn_with_state(
            state.clone(),
            crate::admin::faults::inject,
        ))
        .layer(cors_layer(&state.settings.cors))
        .with_state(state.clone());
    Router::new()
        .merge(crate::admin::router(&state))
        .fallback(move |request: Request| async move {
            // Unknown control-plane paths stay out of CORS and faults.
            if is_admin_path(request.uri().path()) {
                fallback(request.method().clone(), request.uri().clone()).await
            } else {
                match apis.oneshot(request).await {
                    Ok(response) => response,
                    Err(never) => match never {},
                }
            }
        })
        // Outermost: the journal sees what faults and CORS did, and passes
        // `/__doublure/` through untouched.
        .layer(middleware::from_fn_with_state(
            state.clone(),
            crate::admin::journal::record,
        ))
        .with_state(state)
}

/// Whether a path is the control plane's, which the journal and faults
/// leave alone.
pub fn is_admin_path(path: &str) -> bool {
    path.starts_with("/__doublure/") || path == "/__doublure"
}

/// Response headers a browser app may read: Logora's pagination headers.
pub const EXPOSED_HEADERS: &[&str] = &[
    "total",
    "total-pages",
    "current-page",
    "page-items",
    "next-page",
    "link",
    "www-authenticate",
    "retry-after",
];

fn cors_layer(origins: &CorsOrigins) -> CorsLayer {
    let allow_origin = match origins {
        CorsOrigins::Any => AllowOrigin::any(),
        CorsOrigins::List(list) => AllowOrigin::list(
            list.iter()
                .filter_map(|o| HeaderValue::from_str(o).ok())
                .collect::<Vec<_>>(),
        ),
    };
    CorsLayer::new()
        .allow_origin(allow_origin)
        .allow_methods([
            Method::GET,
            Method::POST,
            Method::PUT,
            Method::PATCH,
            Method::DELETE,
            Method::OPTIONS,
        ])
        // Mirrored rather than `*`: browsers never let `*` cover
        // Authorization, which every Logora call sends.
        .allow_headers(AllowHeaders::mirror_request())
        .expose_headers(
            EXPOSED_HEADERS
                .iter()
                .map(|h| HeaderName::from_static(h))
                .collect::<Vec<_>>(),
        )
        .max_age(std::time::Duration::from_secs(600))
}

/// Unknown paths: a Logora 404 under `/api/v1/`, a w.c.s. 404 elsewhere
/// under `/api/`, a plain 404 otherwise.
async fn fallback(method: Method, uri: Uri) -> Response {
    let path = uri.path();
    let mut response = if path == "/api/v1" || path.starts_with("/api/v1/") {
        crate::logora::error::LogoraError::RouteNotFound.into_response()
    } else if path == "/api" || path.starts_with("/api/") {
        crate::wcs::error::WcsError::NotFound.into_response()
    } else {
        (StatusCode::NOT_FOUND, "Not Found\n").into_response()
    };
    Outcome::attach(&mut response, format!("no route for {method} {path}"));
    response
}
