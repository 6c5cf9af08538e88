//! Control-plane calls (`/__doublure/…`): JSON sent by each method, the
//! answers checked whole.

use axum::http::StatusCode;
use serde_json::{Value, json};

use super::{TestApp, TestResponse};

pub async fn post(app: &TestApp, uri: &str, body: Value) -> TestResponse {
    app.json("POST", uri, Some(body), &[]).await
}

pub async fn put(app: &TestApp, uri: &str, body: Value) -> TestResponse {
    app.json("PUT", uri, Some(body), &[]).await
}

pub async fn patch(app: &TestApp, uri: &str, body: Value) -> TestResponse {
    app.json("PATCH", uri, Some(body), &[]).await
}

pub async fn delete(app: &TestApp, uri: &str) -> TestResponse {
    app.json("DELETE", uri, None, &[]).await
}

/// A request whose body is `body` as written (possibly broken JSON).
pub async fn raw_json(app: &TestApp, method: &str, uri: &str, body: &str) -> TestResponse {
    app.raw(method, uri, "application/json", body, false).await
}

/// The control plane's error body.
pub fn error(message: &str) -> Value {
    json!({ "error": message })
}

/// `status` with exactly `body` as JSON, as the control plane answers.
pub fn assert_json(response: &TestResponse, status: StatusCode, body: Value) {
    super::assert_json_as(response, status, "application/json", body);
}

/// `status` with the control plane's error body saying `message`.
pub fn assert_error(response: &TestResponse, status: StatusCode, message: &str) {
    assert_json(response, status, error(message));
}

/// A URL signed by the control plane for `body`, relative to the
/// `--public-url` it answers with.
pub async fn signed_url(app: &TestApp, body: Value) -> String {
    let response = post(app, "/__doublure/wcs/sign", body).await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.text());
    let url = response.json()["url"].as_str().unwrap().to_owned();
    url.strip_prefix("http://localhost:8080")
        .expect("absolute from --public-url")
        .to_owned()
}

/// The paths of the journal under `prefix`, oldest first.
pub async fn journal_paths(app: &TestApp, prefix: &str) -> Vec<String> {
    app.get(&format!("{prefix}/__doublure/requests"))
        .await
        .json()["requests"]
        .as_array()
        .expect("a requests array")
        .iter()
        .map(|e| e["path"].as_str().unwrap().to_owned())
        .collect()
}

/// The ids of a collection's items as `uri` lists them, in order.
pub async fn listed_ids(app: &TestApp, uri: &str) -> Vec<Value> {
    let response = app.get(uri).await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.text());
    response
        .json()
        .as_array()
        .expect("a list")
        .iter()
        .map(|item| item["id"].clone())
        .collect()
}

/// A POST without a body (reset, reload, anonymize).
pub async fn post_empty(app: &TestApp, uri: &str) -> TestResponse {
    app.json("POST", uri, None, &[]).await
}
