//! Puts the routers together: the two emulated APIs behind CORS, the
//! control plane under `/__doublure/` without it, and a fallback that
//! answers unknown paths in the format of the API their prefix belongs to.

use axum::Router;
use axum::http::{HeaderName, HeaderValue, Method, StatusCode, Uri};
use axum::middleware;
use axum::response::{IntoResponse, Response};
use tower_http::cors::{AllowHeaders, AllowOrigin, CorsLayer};

use crate::AppState;
use crate::admin::journal::Outcome;
use crate::config::CorsOrigins;

/// The whole application router.
pub fn app(state: AppState) -> Router {
    let apis = Router::new()
        .merge(crate::logora::router())
        .merge(crate::wcs::router())
        .layer(cors_layer(&state.settings.cors));
    Router::new()
        .merge(apis)
        .merge(crate::admin::router(&state))
        .fallback(fallback)
        // Outermost last: the journal sees what faults did. Both cover
        // unknown paths too, and pass `/__doublure/` through untouched.
        .layer(middleware::from_fn_with_state(
            state.clone(),
            crate::admin::faults::inject,
        ))
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
