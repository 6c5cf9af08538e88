//! The journal of requests: what it records (secrets redacted), its
//! filters, emptying it, and its bound.

use crate::common::TestApp;
use crate::common::control::{assert_error, delete, post_empty};
use axum::http::StatusCode;
use doublure::testing::config::Settings;
use serde_json::{Value, json};

#[tokio::test]
async fn the_journal_records_api_calls_with_secrets_redacted() {
    let app = TestApp::new();
    app.get_with(
        "/api/nothing/?email=a%40b.c&orig=demo&signature=abc",
        &[
            ("authorization", "Bearer topsecret"),
            ("accept", "application/json"),
        ],
    )
    .await;
    app.get("/__doublure/health").await;
    let body = app.get("/__doublure/requests").await.json();
    assert_eq!(body["capacity"], 1000);
    assert_eq!(
        body["count"], 1,
        "control-plane calls are not journaled: {body}"
    );
    let entry = &body["requests"][0];
    assert_eq!(entry["id"], 1);
    assert_eq!(entry["time"], "2026-01-15T10:00:00.000Z");
    assert_eq!(entry["method"], "GET");
    assert_eq!(entry["path"], "/api/nothing/");
    assert_eq!(
        entry["query"],
        "email=a%40b.c&orig=demo&signature=[redacted]"
    );
    assert_eq!(
        entry["headers"],
        json!([
            ["authorization", "Bearer [redacted]"],
            ["accept", "application/json"]
        ])
    );
    assert_eq!(entry["status"], 404);
    assert_eq!(entry["outcome"], "no route for GET /api/nothing/");
    assert!(entry["duration_ms"].is_number());
    assert!(!entry.to_string().contains("topsecret"));
}

#[tokio::test]
async fn journal_filters_select_by_path_method_status_and_after() {
    let app = TestApp::new();
    app.get("/api/v1/a").await;
    app.get("/api/b/").await;
    post_empty(&app, "/api/v1/c").await;
    let ids = |v: Value| -> Vec<u64> {
        v["requests"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["id"].as_u64().unwrap())
            .collect()
    };
    assert_eq!(
        ids(app.get("/__doublure/requests?path=/api/v1").await.json()),
        [1, 3]
    );
    assert_eq!(
        ids(app.get("/__doublure/requests?method=post").await.json()),
        [3]
    );
    assert_eq!(
        ids(app
            .get("/__doublure/requests?status=404&limit=2")
            .await
            .json()),
        [2, 3]
    );
    assert_eq!(
        ids(app.get("/__doublure/requests?after=2").await.json()),
        [3]
    );
    assert_eq!(
        ids(app
            .get("/__doublure/requests?since=2026-01-15T10:00:00Z")
            .await
            .json()),
        [1, 2, 3]
    );
    assert_eq!(
        ids(app
            .get("/__doublure/requests?since=2026-01-15T10:00:01Z")
            .await
            .json()),
        Vec::<u64>::new()
    );
    let bad = app.get("/__doublure/requests?status=abc").await;
    assert_error(
        &bad,
        StatusCode::BAD_REQUEST,
        "Failed to deserialize query string: status: invalid digit found in string",
    );
}

#[tokio::test]
async fn deleting_the_journal_empties_it() {
    let app = TestApp::new();
    app.get("/api/v1/a").await;
    let response = delete(&app, "/__doublure/requests").await;
    assert_eq!(response.status, StatusCode::NO_CONTENT);
    assert_eq!(app.get("/__doublure/requests").await.json()["count"], 0);
}

#[tokio::test]
async fn after_ten_thousand_requests_the_journal_holds_exactly_its_bound() {
    let app = TestApp::new();
    for i in 0..10_000 {
        app.get(&format!("/api/v1/x{i}")).await;
    }
    let body = app.get("/__doublure/requests").await.json();
    assert_eq!(body["count"], 1000);
    assert_eq!(body["requests"][0]["path"], "/api/v1/x9000");
    assert_eq!(body["requests"][999]["path"], "/api/v1/x9999");
    assert_eq!(body["requests"][999]["id"], 10_000);
}

#[tokio::test]
async fn the_journal_bound_is_configurable() {
    let app = TestApp::with_settings(Settings {
        journal_size: 3,
        ..Settings::for_tests()
    });
    for i in 0..5 {
        app.get(&format!("/api/v1/x{i}")).await;
    }
    let body = app.get("/__doublure/requests").await.json();
    assert_eq!(
        (body["capacity"].clone(), body["count"].clone()),
        (json!(3), json!(3))
    );
}
