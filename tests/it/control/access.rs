//! Who may call the control plane and with what: the admin token, and
//! bodies that are not JSON.

use crate::common::TestApp;
use crate::common::control::{error, raw_json};
use axum::http::StatusCode;
use doublure::testing::config::Settings;
use doublure::testing::state::test_now;
use serde_json::json;

#[tokio::test]
async fn with_an_admin_token_every_route_but_health_needs_it() {
    let app = TestApp::with_settings(Settings {
        admin_token: Some("s3cret".into()),
        ..Settings::for_tests()
    });
    assert_eq!(app.get("/__doublure/health").await.status, StatusCode::OK);

    let missing = app.get("/__doublure/clock").await;
    assert_eq!(missing.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        missing.header("www-authenticate"),
        "Bearer realm=\"doublure\""
    );
    assert_eq!(
        missing.json(),
        json!({"error": "this control plane needs Authorization: Bearer <admin token>"})
    );
    let wrong = app
        .get_with("/__doublure/requests", &[("authorization", "Bearer nope")])
        .await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    let reset = app
        .json(
            "POST",
            "/__doublure/reset",
            None,
            &[("authorization", "Bearer s3cret")],
        )
        .await;
    assert_eq!(reset.status, StatusCode::OK);
    let lower = app
        .get_with("/__doublure/clock", &[("authorization", "bearer s3cret")])
        .await;
    assert_eq!(lower.status, StatusCode::OK);
}

#[tokio::test]
async fn the_admin_token_does_not_guard_the_emulated_apis() {
    let app = TestApp::with_settings(Settings {
        admin_token: Some("s3cret".into()),
        ..Settings::for_tests()
    });
    let response = app.get("/api/nothing/").await;
    assert_eq!(response.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_broken_json_body_is_a_400_on_every_route_that_takes_one() {
    let app = TestApp::new();
    let state = app.get("/__doublure/state").await.text();
    for (method, uri) in [
        ("POST", "/__doublure/faults"),
        ("POST", "/__doublure/logora/tokens"),
        ("POST", "/__doublure/wcs/sign"),
        ("PUT", "/__doublure/state"),
        ("PUT", "/__doublure/clock"),
        ("POST", "/__doublure/logora/users"),
        ("PATCH", "/__doublure/logora/users/21"),
        ("PUT", "/__doublure/wcs/roles/x"),
        ("POST", "/__doublure/clock/advance"),
    ] {
        let response = raw_json(&app, method, uri, "{seconds: 1").await;
        assert_eq!(
            (
                response.status,
                response.header("content-type"),
                response.json()
            ),
            (
                StatusCode::BAD_REQUEST,
                "application/json",
                error(
                    "Failed to parse the request body as JSON: key must be a string at line 1 column 2"
                )
            ),
            "{method} {uri}"
        );
    }
    // Nothing was changed by any of them.
    assert_eq!(
        app.get("/__doublure/faults").await.json(),
        json!({"faults": []})
    );
    assert_eq!(app.get("/__doublure/state").await.text(), state);
    assert_eq!(app.state.clock.now(), test_now());
}
