//! The app under test in process: requests sent through the real router
//! with `oneshot`, answers collected whole or read frame by frame.

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode};
use doublure::testing::AppState;
use doublure::testing::app;
use doublure::testing::config::Settings;
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;

/// The app under test, with its state so a test can move the clock or
/// look at the store.
pub struct TestApp {
    pub state: AppState,
    router: Router,
}

impl TestApp {
    /// Built-in fixtures, clock frozen at `doublure::testing::state::TEST_NOW`.
    pub fn new() -> Self {
        Self::with_state(AppState::for_tests())
    }

    /// Built-in fixtures and frozen clock, with other settings.
    pub fn with_settings(settings: Settings) -> Self {
        Self::with_state(AppState::for_tests_with(settings))
    }

    pub fn with_state(state: AppState) -> Self {
        let router = app(state.clone());
        Self { state, router }
    }

    /// Sends `request` through the real router.
    pub async fn send(&self, request: Request<Body>) -> TestResponse {
        let response = self
            .router
            .clone()
            .oneshot(request)
            .await
            .expect("the router is infallible");
        let status = response.status();
        let headers = response.headers().clone();
        let body = response
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes()
            .to_vec();
        TestResponse {
            status,
            headers,
            body,
        }
    }

    pub async fn get(&self, uri: &str) -> TestResponse {
        self.send(request(Method::GET, uri).body(Body::empty()).unwrap())
            .await
    }

    /// GET with extra headers.
    pub async fn get_with(&self, uri: &str, headers: &[(&str, &str)]) -> TestResponse {
        let mut builder = request(Method::GET, uri);
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        self.send(builder.body(Body::empty()).unwrap()).await
    }

    /// GET with a bearer token.
    pub async fn get_bearer(&self, uri: &str, token: &str) -> TestResponse {
        self.get_with(uri, &[("authorization", &format!("Bearer {token}"))])
            .await
    }

    /// POST of a form-urlencoded body, with extra headers.
    pub async fn post_form(&self, uri: &str, form: &str, headers: &[(&str, &str)]) -> TestResponse {
        let mut builder =
            request(Method::POST, uri).header("content-type", "application/x-www-form-urlencoded");
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        self.send(builder.body(Body::from(form.to_owned())).unwrap())
            .await
    }

    /// A request with any method, JSON body (or none) and extra headers.
    pub async fn json(
        &self,
        method: &str,
        uri: &str,
        body: Option<Value>,
        headers: &[(&str, &str)],
    ) -> TestResponse {
        let mut builder = request(method.parse().expect("method"), uri);
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        let body = match body {
            Some(v) => {
                builder = builder.header("content-type", "application/json");
                Body::from(v.to_string())
            }
            None => Body::empty(),
        };
        self.send(builder.body(body).unwrap()).await
    }

    /// A request with a raw body (possibly broken JSON, possibly large),
    /// and a `content-length` header when `with_length`.
    pub async fn raw(
        &self,
        method: &str,
        uri: &str,
        content_type: &str,
        body: impl Into<Vec<u8>>,
        with_length: bool,
    ) -> TestResponse {
        let body = body.into();
        let mut builder =
            request(method.parse().expect("method"), uri).header("content-type", content_type);
        if with_length {
            builder = builder.header("content-length", body.len());
        }
        self.send(builder.body(Body::from(body)).unwrap()).await
    }

    /// A GET whose answer is read a frame at a time (a stream).
    pub async fn open(&self, uri: &str, headers: &[(&str, &str)]) -> Live {
        let mut builder = request(Method::GET, uri);
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        let response = self
            .router
            .clone()
            .oneshot(builder.body(Body::empty()).unwrap())
            .await
            .expect("the router is infallible");
        let (parts, body) = response.into_parts();
        Live {
            status: parts.status,
            headers: parts.headers,
            body,
        }
    }
}

fn request(method: Method, uri: &str) -> axum::http::request::Builder {
    Request::builder().method(method).uri(uri)
}

/// A collected response.
#[derive(Debug)]
pub struct TestResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl TestResponse {
    pub fn text(&self) -> String {
        String::from_utf8(self.body.clone()).expect("UTF-8 body")
    }

    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("body is not JSON ({e}): {}", self.text()))
    }

    /// A header's value as text; panics when absent.
    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .unwrap_or_else(|| panic!("no {name} header in {:?}", self.headers))
            .to_str()
            .expect("ASCII header")
    }

    pub fn has_header(&self, name: &str) -> bool {
        self.headers.contains_key(name)
    }
}

/// A response whose body is read a frame at a time.
pub struct Live {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Body,
}

impl Live {
    /// The next frame as text; `None` when the body ended.
    pub async fn frame(&mut self) -> Option<String> {
        loop {
            let frame = self.body.frame().await?.expect("a frame, not an error");
            if let Ok(data) = frame.into_data() {
                return Some(String::from_utf8(data.to_vec()).expect("UTF-8"));
            }
        }
    }

    /// The next event's fields: (event, id, data as JSON).
    pub async fn event(&mut self) -> (String, String, Value) {
        let text = self.frame().await.expect("an event");
        let field = |name: &str| {
            text.lines()
                .find_map(|l| l.strip_prefix(&format!("{name}: ")))
                .unwrap_or_else(|| panic!("no {name} in {text:?}"))
                .to_owned()
        };
        let data = serde_json::from_str(&field("data")).expect("JSON data");
        (field("event"), field("id"), data)
    }
}
