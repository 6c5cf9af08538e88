//! The server's ground floor: health, CORS, 404 shapes, fixtures, config.

mod common;

use axum::http::StatusCode;
use common::TestApp;

#[tokio::test]
async fn health_answers_ok_once_the_store_is_loaded() {
    let app = TestApp::new();
    let response = app.get("/__doublure/health").await;
    assert_eq!(response.status, StatusCode::OK);
    assert_eq!(response.header("content-type"), "application/json");
    assert_eq!(response.text(), r#"{"status":"ok"}"#);
}
