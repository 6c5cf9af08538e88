//! How a request finds what answers it.
//!
//! Every namespace (the root included) has a router of its own for the two
//! emulated APIs, made when the namespace is: their routes, built once as
//! templates, given that namespace's state, behind its journal, CORS,
//! limits ([`crate::boundary`]) and faults. The APIs are called a lot, and
//! their handlers so receive the namespace's state like any axum state.
//! The control plane, called rarely, is one router for all namespaces,
//! behind the same limits and the refusal of cross-site calls: its routes
//! read the namespace from the request ([`crate::admin::In`]).
//!
//! `dispatch` sits in front: a path under `/__ns/{name}/` loses its
//! prefix and goes to that namespace (made on its first request); any
//! other goes to the root. `/__doublure/…` goes to the control plane,
//! anything else to the namespace's API router. The namespace is so
//! resolved once per request.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll};

use axum::Router;
use axum::body::{Body, HttpBody};
use axum::extract::{DefaultBodyLimit, Request};
use axum::http::uri::PathAndQuery;
use axum::http::{HeaderValue, Method, StatusCode, Uri, header};
use axum::middleware;
use axum::response::{IntoResponse, Response};
use axum::routing::future::RouteFuture;
use futures_util::future::Either;
use tower::{Service, ServiceBuilder, ServiceExt};

use crate::admin::error::AdminError;
use crate::admin::host;
use crate::boundary;
use crate::config::{CorsOrigins, Settings};
use crate::cors::Cors;
use crate::logora::Logora;
use crate::namespace::Namespaces;
use crate::namespace::{Namespace, Refusal};
use crate::outcome::Outcome;
use crate::paths::{PREFIX, is_admin_path};
use crate::traffic::journal::RefusalLog;
use crate::traffic::{faults, journal};
use crate::wcs::Wcs;

/// The emulated APIs' routes, built once.
struct Templates {
    logora: Router<Logora>,
    wcs: Router<Wcs>,
}

fn templates() -> &'static Templates {
    static TEMPLATES: OnceLock<Templates> = OnceLock::new();
    TEMPLATES.get_or_init(|| Templates {
        logora: crate::logora::router(),
        wcs: crate::wcs::router(),
    })
}

/// The emulated APIs of one namespace, unknown paths included.
pub fn namespace_router(ns: &Namespace) -> Router {
    let t = templates();
    let settings = &ns.ground.settings;
    let apis = Router::new()
        .merge(t.logora.clone().with_state(ns.logora.clone()))
        .merge(t.wcs.clone().with_state(ns.wcs.clone()))
        .fallback(fallback);
    // The journal outermost, answering CORS itself ([`crate::cors`]), then
    // the limits, then faults, all three in the journal's one middleware: a
    // browser demo reads an injected 503 or a 413 like any other answer,
    // and the journal sees what the limits and faults did. Wrapped around
    // the whole router rather than each route, so that a namespace is
    // quick to make. The middleware's state is one `Arc`, cloned for every
    // call: one reference count to touch, not one per field.
    let service = ServiceBuilder::new()
        .layer(middleware::from_fn_with_state(
            Arc::new(journal::Recorder {
                journal: Arc::clone(&ns.journal),
                clock: Arc::clone(&ns.clock),
                settings: Arc::clone(settings),
                faults: Arc::clone(&ns.faults),
                logora: ns.logora.clone(),
                wcs: ns.wcs.clone(),
                refusals: Arc::clone(&ns.ground.refusals),
                cors: Cors::new(&settings.cors),
                limits: boundary::Limits {
                    admin_body: settings.admin_body_limit,
                },
                injector: faults::Injector {
                    faults: Arc::clone(&ns.faults),
                    settings: Arc::clone(settings),
                    logora: ns.logora.clone(),
                },
            }),
            journal::record,
        ))
        .layer(DefaultBodyLimit::max(boundary::API_BODY_LIMIT))
        .service(apis);
    Router::new().fallback_service(service)
}

/// The whole application: the root's API router, the namespaces, and the
/// control plane.
pub fn app(
    root: Namespace,
    root_apis: Router,
    namespaces: Namespaces,
    settings: Arc<Settings>,
) -> Dispatcher {
    let admin = protect_admin(
        crate::admin::router(Arc::clone(&namespaces), Arc::clone(&settings)),
        &settings,
    );
    // One `Arc` cloned per request, rather than the routers, the registry
    // and a CORS layer (whose clone allocates) each.
    Dispatcher(Arc::new(Dispatch {
        root_apis,
        namespaces,
        admin,
        cors: Cors::new(&settings.cors),
        hosts: host::Hosts::new(&settings),
        refusals: Arc::clone(&root.ground.refusals),
        root,
        settings,
    }))
}

/// The control plane behind its limits (`--admin-body-limit`) and the
/// refusal of cross-site calls, with CORS for the origins
/// `--admin-cors-origin` lists (its preflights answered before the admin
/// token is asked for, as browsers send none with them).
fn protect_admin(admin: Router, settings: &Settings) -> Router {
    let admin = admin
        .layer(DefaultBodyLimit::max(settings.admin_body_limit))
        .layer(middleware::from_fn_with_state(
            boundary::Limits {
                admin_body: settings.admin_body_limit,
            },
            boundary::guard,
        ));
    let admin = match &settings.admin_cors {
        CorsOrigins::List(list) if list.is_empty() => admin,
        origins => admin.layer(crate::cors::control_plane_layer(origins)),
    };
    admin.layer(middleware::from_fn_with_state(
        Arc::new(crate::admin::origin::Rules::new(settings)),
        crate::admin::origin::refuse_cross_site,
    ))
}

struct Dispatch {
    root: Namespace,
    root_apis: Router,
    namespaces: Namespaces,
    admin: Router,
    cors: Cors,
    hosts: host::Hosts,
    settings: Arc<Settings>,
    refusals: Arc<RefusalLog>,
}

/// The whole application as one service: what the server calls for every
/// request, with no router of its own in front (a `Router` wrapping it,
/// for `oneshot` in tests, answers the same). A call for the root's APIs,
/// the ones called by the thousand, goes straight to their router's future,
/// without a box of its own.
#[derive(Clone)]
pub struct Dispatcher(Arc<Dispatch>);

impl std::fmt::Debug for Dispatcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Dispatcher")
    }
}

impl Dispatcher {
    /// The same service as a `Router`.
    pub fn into_router(self) -> Router {
        Router::new().fallback_service(self)
    }
}

impl Service<Request> for Dispatcher {
    type Response = Response;
    type Error = Infallible;
    type Future = Answer;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request) -> Answer {
        let head = request.method() == Method::HEAD;
        let path = request.uri().path();
        let inner = if !path.starts_with(PREFIX) && !is_admin_path(path) {
            Either::Left(self.0.root_apis.clone().call(request))
        } else {
            let d = Arc::clone(&self.0);
            Either::Right(Box::pin(async move { Ok(dispatch(d, request).await) }) as Boxed)
        };
        Answer { inner, head }
    }
}

type Boxed = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

/// The answer of [`Dispatcher`], finished as axum finishes the answer of
/// a router's handler: a `content-length` when the body's size is known
/// and no header gives it, and no body for a `HEAD`. An answer made by a
/// middleware (a preflight, an injected fault, a refusal) gets them too.
pub struct Answer {
    inner: Either<RouteFuture<Infallible>, Boxed>,
    head: bool,
}

impl Future for Answer {
    type Output = Result<Response, Infallible>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let Ok(mut response) = std::task::ready!(Pin::new(&mut self.inner).poll(cx));
        if !response.headers().contains_key(header::CONTENT_LENGTH)
            && let Some(size) = response.body().size_hint().exact()
        {
            response
                .headers_mut()
                .insert(header::CONTENT_LENGTH, HeaderValue::from(size));
        }
        if self.head {
            *response.body_mut() = Body::empty();
        }
        Poll::Ready(Ok(response))
    }
}

/// Sends the request to the namespace its path names, or to the root.
async fn dispatch(d: Arc<Dispatch>, mut request: Request) -> Response {
    let path = request.uri().path();
    let Some(rest) = path.strip_prefix(PREFIX) else {
        return if is_admin_path(path) {
            if let Some(refused) = host::refusal(&d.hosts, &d.refusals, &request, path) {
                return refused;
            }
            request.extensions_mut().insert(d.root.clone());
            serve(d.admin.clone(), request).await
        } else {
            serve(d.root_apis.clone(), request).await
        };
    };
    let (name, tail) = match rest.find('/') {
        Some(at) => (rest[..at].to_owned(), rest[at..].to_owned()),
        None => (rest.to_owned(), "/".to_owned()),
    };
    set_path(&mut request, &tail);
    let admin = is_admin_path(&tail);
    // Before the namespace is had: a rebinding page must not make one.
    if admin && let Some(refused) = host::refusal(&d.hosts, &d.refusals, &request, &tail) {
        return refused;
    }
    if is_namespace_list(&tail) {
        // The server's list: asking it makes no namespace.
        return serve(d.admin.clone(), request).await;
    }
    if admin && !crate::admin::token_given(&d.settings, request.headers()) {
        // Refused for the admin token (or open: health, the console's
        // files): an existing namespace answers, none is made for it.
        if let Err(refusal) = crate::namespace::check_name(&name) {
            return refuse(&d, &name, Refusal::InvalidName(refusal), request).await;
        }
        if let Some(entry) = d.namespaces.existing(&name) {
            request.extensions_mut().insert(entry.namespace);
        }
        return serve(d.admin.clone(), request).await;
    }
    match d.namespaces.resolve(&name) {
        Ok(entry) if admin => {
            request.extensions_mut().insert(entry.namespace);
            serve(d.admin.clone(), request).await
        }
        Ok(entry) => serve(entry.service, request).await,
        Err(refusal) => refuse(&d, &name, refusal, request).await,
    }
}

/// The answer to a call under a namespace that could not be had, logged
/// as refused API calls are: identical ones folded into a count.
async fn refuse(d: &Dispatch, name: &str, refusal: Refusal, request: Request) -> Response {
    let (error, kind, why) = match refusal {
        Refusal::InvalidName(why) => (AdminError::BadRequest(why.clone()), "invalid name", why),
        Refusal::Full(why) => (AdminError::TooMany(why.clone()), "too many", why),
    };
    d.refusals.namespace_refused(kind, name, &why);
    if is_admin_path(request.uri().path()) {
        error.into_response()
    } else {
        // A browser calling an API under the prefix reads the
        // refusal, not a CORS error.
        d.cors.answer(&request, error.into_response())
    }
}

async fn serve(router: Router, request: Request) -> Response {
    match router.oneshot(request).await {
        Ok(response) => response,
        Err(never) => match never {},
    }
}

/// Replaces the request's path, keeping its query string byte for byte
/// (w.c.s. signatures are over those bytes).
fn set_path(request: &mut Request, path: &str) {
    let target = match request.uri().query() {
        Some(query) => format!("{path}?{query}"),
        None => path.to_owned(),
    };
    let mut parts = request.uri().clone().into_parts();
    if let Ok(pq) = PathAndQuery::try_from(target) {
        parts.path_and_query = Some(pq);
        if let Ok(uri) = Uri::from_parts(parts) {
            *request.uri_mut() = uri;
        }
    }
}

/// `/__doublure/namespaces` and `/__doublure/namespaces/{name}`; a longer
/// path is no route of theirs, and is left to the namespace's control plane
/// (which answers it 404).
fn is_namespace_list(path: &str) -> bool {
    path == "/__doublure/namespaces"
        || path
            .strip_prefix("/__doublure/namespaces/")
            .is_some_and(|name| !name.contains('/'))
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
