//! The emulated clock: read, set, frozen or running, advanced, and
//! the requests it refuses.

use crate::common::TestApp;
use crate::common::control::{assert_error, post, put};
use axum::http::StatusCode;
use doublure::testing::state::test_now;
use serde_json::json;

#[tokio::test]
async fn the_clock_reports_the_emulated_time_and_whether_it_is_frozen() {
    let app = TestApp::new();
    let response = app.get("/__doublure/clock").await;
    assert_eq!(response.status, StatusCode::OK);
    assert_eq!(
        response.json(),
        json!({"now": "2026-01-15T10:00:00Z", "frozen": true})
    );
}

#[tokio::test]
async fn putting_the_clock_sets_the_time_and_advancing_moves_it() {
    let app = TestApp::new();
    let response = put(
        &app,
        "/__doublure/clock",
        json!({"now": "2030-02-03T04:05:06Z", "frozen": true}),
    )
    .await;
    assert_eq!(response.status, StatusCode::OK);
    assert_eq!(
        response.json(),
        json!({"now": "2030-02-03T04:05:06Z", "frozen": true})
    );
    let response = post(&app, "/__doublure/clock/advance", json!({"seconds": 7201})).await;
    assert_eq!(
        response.json(),
        json!({"now": "2030-02-03T06:05:07Z", "frozen": true})
    );
    assert_eq!(
        app.state.clock.now().to_rfc3339(),
        "2030-02-03T06:05:07+00:00"
    );
}

#[tokio::test]
async fn unfreezing_the_clock_keeps_it_running_from_the_time_set() {
    let app = TestApp::new();
    let response = put(&app, "/__doublure/clock", json!({"frozen": false})).await;
    assert_eq!(response.status, StatusCode::OK);
    assert_eq!(response.json()["frozen"], false);
    assert!(!app.state.clock.is_frozen());
    let now = app.state.clock.now();
    assert!(now >= test_now() && now < test_now() + chrono::TimeDelta::seconds(60));
}

#[tokio::test]
async fn bad_clock_requests_get_a_clear_400() {
    let app = TestApp::new();
    let cases = [
        (
            "PUT",
            "/__doublure/clock",
            json!({}),
            "give now (RFC 3339) and/or frozen (true or false)",
        ),
        (
            "POST",
            "/__doublure/clock/advance",
            json!({"seconds": 1e300}),
            "seconds 1e300 is out of range (at most a century either way)",
        ),
    ];
    for (method, uri, body, message) in cases {
        let response = app.json(method, uri, Some(body), &[]).await;
        assert_eq!(response.status, StatusCode::BAD_REQUEST, "{uri}");
        assert_eq!(response.json(), json!({"error": message}), "{uri}");
    }
    let response = put(&app, "/__doublure/clock", json!({"now": "yesterday"})).await;
    assert_error(
        &response,
        StatusCode::BAD_REQUEST,
        "Failed to deserialize the JSON body into the target type: now: input contains invalid characters at line 1 column 18",
    );
    let response = put(
        &app,
        "/__doublure/clock",
        json!({"frozen": true, "speed": 2}),
    )
    .await;
    assert_error(
        &response,
        StatusCode::BAD_REQUEST,
        "Failed to deserialize the JSON body into the target type: speed: unknown field `speed`, expected `now` or `frozen` at line 1 column 22",
    );
}
