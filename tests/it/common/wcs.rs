//! w.c.s. calls: URLs signed as a w.c.s. client signs them, the answers'
//! item numbers, and the access-denied body.

use axum::http::StatusCode;
use doublure::testing::wcs::signature::sign_url;
use serde_json::{Value, json};

use super::{TestApp, TestResponse};

/// Fred, as the seed page's calls name him.
pub const FRED: &str = "email=fred%40example.net";

/// `path` signed at the app's time by `orig` with `key` and `algo`,
/// without a nonce (so it can be replayed).
pub fn sign(app: &TestApp, path: &str, orig: &str, key: &str, algo: &str) -> String {
    sign_url(path, orig, key, algo, app.state.clock.now(), Some("")).unwrap()
}

/// `path` signed at the app's time with `demo` and `nonce`.
pub fn demo_with_nonce(app: &TestApp, path: &str, nonce: &str) -> String {
    sign_url(
        path,
        "demo",
        "demo-secret",
        "sha256",
        app.state.clock.now(),
        Some(nonce),
    )
    .unwrap()
}

/// `path` signed now with `demo`, without a nonce.
pub fn demo(app: &TestApp, path: &str) -> String {
    sign(app, path, "demo", "demo-secret", "sha256")
}

/// A GET of `path` signed with `demo`.
pub async fn signed_get(app: &TestApp, path: &str) -> TestResponse {
    app.get(&demo(app, path)).await
}

/// `path` with `query` appended.
pub fn with(path: &str, query: &str) -> String {
    let sep = if path.contains('?') { '&' } else { '?' };
    format!("{path}{sep}{query}")
}

/// The `form_number_raw` of each item of a listing, in order.
pub fn numbers(r: &TestResponse) -> Vec<String> {
    r.json()["data"]
        .as_array()
        .expect("a data array")
        .iter()
        .map(|i| i["form_number_raw"].as_str().unwrap().to_owned())
        .collect()
}

/// w.c.s.'s access-denied body.
pub fn denied(desc: &str) -> Value {
    json!({"err": 1, "err_class": "Access denied", "err_code": "access-denied", "err_desc": desc})
}

/// A 403 with w.c.s.'s access-denied body saying `desc`.
pub fn assert_denied(r: &TestResponse, desc: &str) {
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text());
    assert_eq!(r.json(), denied(desc));
    assert_eq!(r.header("content-type"), "application/json");
}
