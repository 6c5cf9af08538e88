//! CORS of the emulated APIs (`--cors-origin`), answered by the journal's
//! middleware rather than a layer of its own.
//!
//! The headers, their values and their order are those tower-http's
//! `CorsLayer` wrote with the same configuration, which the control plane
//! still uses ([`control_plane_layer`], for `--admin-cors-origin`): a unit
//! test below holds the two together, case by case. What differs is the cost: tower-http's layer is
//! cloned with its configuration for every call (its `vary` list a vector),
//! builds a header map, joins its `vary` value and moves the request
//! through one more service; here every value is made once, when the
//! namespace's router is, and written straight into the answer.
//!
//! An `OPTIONS` request is a preflight whatever it carries (as in
//! tower-http): a 200 with an empty body, never sent further.

use axum::body::Body;
use axum::extract::Request;
use axum::http::header::{
    ACCESS_CONTROL_ALLOW_HEADERS, ACCESS_CONTROL_ALLOW_METHODS, ACCESS_CONTROL_ALLOW_ORIGIN,
    ACCESS_CONTROL_EXPOSE_HEADERS, ACCESS_CONTROL_MAX_AGE, ACCESS_CONTROL_REQUEST_HEADERS, ORIGIN,
    VARY,
};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method};
use axum::response::Response;
use tower_http::cors::{AllowHeaders, AllowOrigin, CorsLayer};

use crate::config::CorsOrigins;

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

/// The methods a preflight allows.
const ALLOWED_METHODS: &str = "GET,POST,PUT,PATCH,DELETE,OPTIONS";

/// Browsers cache a preflight's answer this many seconds.
const MAX_AGE: &str = "600";

/// What tower-http's `Vary` defaults to, joined as it joins it.
const VARY_VALUE: &str = "origin, access-control-request-method, access-control-request-headers";

/// The CORS of a namespace's API routes, every value made once.
#[derive(Debug, Clone)]
pub struct Cors {
    origins: Origins,
    vary: HeaderValue,
    methods: HeaderValue,
    exposed: HeaderValue,
    max_age: HeaderValue,
}

#[derive(Debug, Clone)]
enum Origins {
    /// `*`, whatever the request's origin (or none).
    Any(HeaderValue),
    /// The request's own origin, when listed.
    List(Vec<HeaderValue>),
}

impl Cors {
    pub fn new(origins: &CorsOrigins) -> Self {
        let origins = match origins {
            CorsOrigins::Any => Origins::Any(HeaderValue::from_static("*")),
            CorsOrigins::List(list) => Origins::List(
                list.iter()
                    .filter_map(|o| HeaderValue::from_str(o).ok())
                    .collect(),
            ),
        };
        Self {
            origins,
            vary: HeaderValue::from_static(VARY_VALUE),
            methods: HeaderValue::from_static(ALLOWED_METHODS),
            exposed: HeaderValue::from_static(exposed_value()),
            max_age: HeaderValue::from_static(MAX_AGE),
        }
    }

    /// The `Access-Control-Allow-Origin` a request with these headers gets
    /// (taken before the request goes on, for [`Cors::apply`]).
    pub fn allow_origin(&self, request: &HeaderMap) -> Option<HeaderValue> {
        match &self.origins {
            Origins::Any(any) => Some(any.clone()),
            Origins::List(list) => request
                .get(ORIGIN)
                .filter(|origin| list.contains(origin))
                .cloned(),
        }
    }

    /// The answer to a preflight (any `OPTIONS` request).
    pub fn preflight(&self, request: &HeaderMap) -> Response {
        let mut response = Response::new(Body::empty());
        let headers = response.headers_mut();
        headers.insert(VARY, self.vary.clone());
        headers.insert(ACCESS_CONTROL_ALLOW_METHODS, self.methods.clone());
        // Mirrored rather than `*`: browsers never let `*` cover
        // Authorization, which every Logora call sends.
        if let Some(asked) = request.get(ACCESS_CONTROL_REQUEST_HEADERS) {
            headers.insert(ACCESS_CONTROL_ALLOW_HEADERS, asked.clone());
        }
        headers.insert(ACCESS_CONTROL_MAX_AGE, self.max_age.clone());
        if let Some(origin) = self.allow_origin(request) {
            headers.insert(ACCESS_CONTROL_ALLOW_ORIGIN, origin);
        }
        response
    }

    /// Adds the CORS headers to the answer to any other request, in
    /// tower-http's order: `Vary` added to any the answer has, then the
    /// allowed origin and the exposed headers, each replacing its namesake.
    pub fn apply(&self, origin: Option<HeaderValue>, response: &mut Response) {
        let headers = response.headers_mut();
        headers.append(VARY, self.vary.clone());
        if let Some(origin) = origin {
            headers.insert(ACCESS_CONTROL_ALLOW_ORIGIN, origin);
        }
        headers.insert(ACCESS_CONTROL_EXPOSE_HEADERS, self.exposed.clone());
    }

    /// `answer` with CORS, for a request answered without going further
    /// (a refusal): a preflight is still answered as one.
    pub fn answer(&self, request: &Request, answer: Response) -> Response {
        if request.method() == Method::OPTIONS {
            return self.preflight(request.headers());
        }
        let mut answer = answer;
        self.apply(self.allow_origin(request.headers()), &mut answer);
        answer
    }
}

/// [`EXPOSED_HEADERS`] joined by commas, as tower-http joins them.
const fn exposed_value() -> &'static str {
    "total,total-pages,current-page,page-items,next-page,link,www-authenticate,retry-after"
}

/// tower-http's CORS, for the control plane (`--admin-cors-origin`),
/// called rarely; it is also what the APIs' own, [`Cors`], must answer
/// like (the tests below hold them together).
pub fn control_plane_layer(origins: &CorsOrigins) -> CorsLayer {
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

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::StatusCode;
    use tower::{Layer, ServiceExt};

    /// An answer that already has some of the headers CORS writes.
    fn inner_answer(with: &[(&'static str, &'static str)]) -> Response {
        let mut response = Response::new(Body::from("body"));
        *response.status_mut() = StatusCode::CREATED;
        for (name, value) in with {
            response
                .headers_mut()
                .append(*name, HeaderValue::from_static(value));
        }
        response
    }

    fn request(method: &Method, headers: &[(&'static str, &'static str)]) -> Request {
        let mut builder = axum::http::Request::builder()
            .method(method)
            .uri("/api/v1/users");
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        builder.body(Body::empty()).unwrap()
    }

    fn sequence(response: &Response) -> (StatusCode, Vec<(String, Vec<u8>)>) {
        (
            response.status(),
            response
                .headers()
                .iter()
                .map(|(n, v)| (n.as_str().to_owned(), v.as_bytes().to_vec()))
                .collect(),
        )
    }

    async fn theirs(
        origins: &CorsOrigins,
        method: &Method,
        asked: &[(&'static str, &'static str)],
        answered: &'static [(&'static str, &'static str)],
    ) -> (StatusCode, Vec<(String, Vec<u8>)>) {
        let service = control_plane_layer(origins).layer(tower::service_fn(move |_: Request| {
            std::future::ready(Ok::<_, std::convert::Infallible>(inner_answer(answered)))
        }));
        let response = service.oneshot(request(method, asked)).await.unwrap();
        sequence(&response)
    }

    fn ours(
        origins: &CorsOrigins,
        method: &Method,
        asked: &[(&'static str, &'static str)],
        answered: &[(&'static str, &'static str)],
    ) -> (StatusCode, Vec<(String, Vec<u8>)>) {
        let cors = Cors::new(origins);
        let request = request(method, asked);
        let response = if method == Method::OPTIONS {
            cors.preflight(request.headers())
        } else {
            let mut response = inner_answer(answered);
            cors.apply(cors.allow_origin(request.headers()), &mut response);
            response
        };
        sequence(&response)
    }

    #[tokio::test]
    async fn every_case_gets_the_headers_tower_http_wrote_in_its_order() {
        let any = CorsOrigins::Any;
        let list = CorsOrigins::List(vec!["http://a.test".into(), "http://b.test".into()]);
        let none = CorsOrigins::List(vec![]);
        let requests: &[&[(&str, &str)]] = &[
            &[],
            &[("origin", "http://a.test")],
            &[("origin", "http://b.test")],
            &[("origin", "http://elsewhere.test")],
            &[
                ("origin", "http://a.test"),
                ("access-control-request-method", "GET"),
                ("access-control-request-headers", "authorization"),
            ],
            &[
                ("access-control-request-headers", "x-one"),
                ("access-control-request-headers", "x-two"),
            ],
        ];
        let answers: &[&'static [(&str, &str)]] = &[
            &[],
            &[("content-type", "application/json"), ("link", "<x>")],
            &[("vary", "accept-encoding"), ("content-type", "text/plain")],
            &[
                ("access-control-allow-origin", "http://mine.test"),
                ("retry-after", "1"),
                ("access-control-expose-headers", "total"),
            ],
        ];
        let methods = [Method::GET, Method::POST, Method::OPTIONS, Method::DELETE];
        for origins in [&any, &list, &none] {
            for method in &methods {
                for asked in requests {
                    for answered in answers {
                        assert_eq!(
                            ours(origins, method, asked, answered),
                            theirs(origins, method, asked, answered).await,
                            "{origins:?} {method} {asked:?} {answered:?}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn the_exposed_value_joins_the_exposed_headers() {
        assert_eq!(exposed_value(), EXPOSED_HEADERS.join(","));
    }
}
