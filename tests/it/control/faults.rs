//! Fault injection: rules posted, matched, counted and deleted; the
//! fault header; injected statuses, latency and dropped connections.

use crate::common::control::{assert_error, delete, post};
use crate::common::logora::token_request;
use crate::common::{Served, TestApp};
use axum::http::StatusCode;
use doublure::testing::AppState;
use doublure::testing::config::Settings;
use serde_json::json;

#[tokio::test]
async fn posting_a_rule_answers_201_with_its_id() {
    let app = TestApp::new();
    let rule = json!({"method": "GET", "path": "/api/v1/*", "client_id": "API_KEY", "orig": "demo",
        "status": 503, "retry_after": 5, "latency_ms": 800, "latency_max_ms": 1500,
        "probability": 0.25, "count": 2});
    let response = post(&app, "/__doublure/faults", rule.clone()).await;
    assert_eq!(response.status, StatusCode::CREATED);
    let mut expected = rule.clone();
    expected["id"] = json!(1);
    expected["fired"] = json!(0);
    expected["remaining"] = json!(2);
    assert_eq!(response.json(), expected);
    assert_eq!(
        app.get("/__doublure/faults").await.json(),
        json!({"faults": [expected]})
    );
}

#[tokio::test]
async fn an_invalid_rule_gets_a_400_and_is_not_stored() {
    let app = TestApp::new();
    let response = post(&app, "/__doublure/faults", json!({"path": "/x"})).await;
    assert_eq!(response.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        response.json(),
        json!({"error": "a rule needs an effect: status, latency_ms or drop: true"})
    );
    let response = post(
        &app,
        "/__doublure/faults",
        json!({"status": 503, "colour": "red"}),
    )
    .await;
    assert_error(
        &response,
        StatusCode::BAD_REQUEST,
        "Failed to deserialize the JSON body into the target type: colour: unknown field `colour`, expected one of `method`, `path`, `client_id`, `orig`, `status`, `retry_after`, `latency_ms`, `latency_max_ms`, `drop`, `probability`, `count` at line 1 column 22",
    );
    assert_eq!(
        app.get("/__doublure/faults").await.json(),
        json!({"faults": []})
    );
}

#[tokio::test]
async fn a_fault_with_count_2_hits_exactly_the_next_two_matching_calls() {
    let app = TestApp::new();
    post(
        &app,
        "/__doublure/faults",
        json!({"path": "/api/v1/*", "status": 503, "count": 2}),
    )
    .await;
    let statuses = [
        app.get("/api/nothing/").await.status, // does not match: not counted
        app.get("/api/v1/a").await.status,
        app.get("/api/v1/a").await.status,
        app.get("/api/v1/a").await.status,
    ];
    assert_eq!(
        statuses,
        [
            StatusCode::NOT_FOUND,
            StatusCode::SERVICE_UNAVAILABLE,
            StatusCode::SERVICE_UNAVAILABLE,
            StatusCode::NOT_FOUND
        ]
    );
    let journal = app.get("/__doublure/requests?status=503").await.json();
    assert_eq!(
        journal["requests"][0]["outcome"],
        "fault rule 1 injected 503"
    );
}

#[tokio::test]
async fn an_injected_status_uses_each_apis_own_error_body() {
    let app = TestApp::new();
    post(
        &app,
        "/__doublure/faults",
        json!({"status": 503, "retry_after": 7}),
    )
    .await;
    let logora = app.get("/api/v1/users").await;
    assert_eq!(logora.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(logora.header("retry-after"), "7");
    assert_eq!(
        logora.json(),
        json!({"success": false, "error": "Service Unavailable"})
    );
    let oauth = token_request(&app, "grant_type=client_credentials").await;
    assert_eq!(oauth.json()["error"], "temporarily_unavailable");
    let wcs = app.get("/api/user/").await;
    assert_eq!(
        wcs.json(),
        json!({"err": 1, "err_class": "Service Unavailable", "err_code": "service-unavailable", "err_desc": null})
    );
    delete(&app, "/__doublure/faults").await;
    post(&app, "/__doublure/faults", json!({"status": 500})).await;
    assert_eq!(app.get("/api/user/forms").await.json(), json!({"err": 1}));
    delete(&app, "/__doublure/faults").await;
    post(&app, "/__doublure/faults", json!({"status": 429})).await;
    let limited = app.get("/api/v1/users").await;
    assert_eq!(limited.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(limited.header("retry-after"), "1");
}

#[tokio::test]
async fn a_rule_for_one_orig_leaves_other_callers_alone() {
    let app = TestApp::new();
    post(
        &app,
        "/__doublure/faults",
        json!({"orig": "demo", "status": 500}),
    )
    .await;
    assert_eq!(
        app.get("/api/nothing/?orig=other").await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.get("/api/nothing/?orig=demo").await.status,
        StatusCode::INTERNAL_SERVER_ERROR
    );
}

#[tokio::test]
async fn a_rule_for_one_client_reads_the_client_id_from_a_form_body() {
    let app = TestApp::new();
    post(
        &app,
        "/__doublure/faults",
        json!({"client_id": "OTHER_API_KEY", "status": 503}),
    )
    .await;
    let hit = token_request(
        &app,
        "grant_type=client_credentials&client_id=OTHER_API_KEY&client_secret=x",
    )
    .await;
    assert_eq!(hit.status, StatusCode::SERVICE_UNAVAILABLE);
    let basic = app
        .post_form(
            "/oauth/token",
            "grant_type=client_credentials",
            &[("authorization", "Basic T1RIRVJfQVBJX0tFWTp4")],
        )
        .await;
    assert_eq!(
        basic.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "Basic OTHER_API_KEY:x"
    );
    let miss = token_request(
        &app,
        "grant_type=client_credentials&client_id=API_KEY&client_secret=x",
    )
    .await;
    assert_ne!(miss.status, StatusCode::SERVICE_UNAVAILABLE);
}

#[tokio::test]
async fn a_rule_deleted_by_id_is_gone_and_an_unknown_id_is_a_404() {
    let app = TestApp::new();
    post(&app, "/__doublure/faults", json!({"status": 500})).await;
    let deleted = delete(&app, "/__doublure/faults/1").await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    assert_eq!(deleted.text(), "");
    assert_eq!(
        app.get("/__doublure/faults").await.json(),
        json!({"faults": []})
    );
    let missing = delete(&app, "/__doublure/faults/1").await;
    assert_error(&missing, StatusCode::NOT_FOUND, "no fault rule 1");
    let not_an_id = delete(&app, "/__doublure/faults/abc").await;
    assert_error(&not_an_id, StatusCode::NOT_FOUND, "no fault rule abc");
}

#[tokio::test]
async fn the_fault_header_fails_one_call_in_the_apis_format() {
    let app = TestApp::new();
    let response = app
        .get_with("/api/v1/users", &[("x-doublure-fault", "status=503")])
        .await;
    assert_eq!(response.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(
        response.json(),
        json!({"success": false, "error": "Service Unavailable"})
    );
    let journal = app.get("/__doublure/requests").await.json();
    assert_eq!(
        journal["requests"][0]["outcome"],
        "header x-doublure-fault: status=503 injected 503"
    );

    let bad = app
        .get_with("/api/user/", &[("x-doublure-fault", "status=200")])
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert_eq!(bad.json()["err"], 1);
}

#[tokio::test]
async fn a_browser_reads_injected_failures_and_unknown_paths_through_cors() {
    let app = TestApp::new();
    let origin = ("origin", "http://front.test");
    let rule = post(
        &app,
        "/__doublure/faults",
        json!({"path": "/api/user/*", "status": 429, "retry_after": 5}),
    )
    .await;
    assert_eq!(rule.status, StatusCode::CREATED);
    let limited = app.get_with("/api/user/forms", &[origin]).await;
    assert_eq!(limited.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(limited.header("access-control-allow-origin"), "*");
    assert_eq!(limited.header("retry-after"), "5");
    let exposed = limited.header("access-control-expose-headers");
    assert!(
        exposed.split(',').any(|h| h.trim() == "retry-after"),
        "{exposed}"
    );

    let failed = app
        .get_with(
            "/api/v1/users",
            &[origin, ("x-doublure-fault", "status=503")],
        )
        .await;
    assert_eq!(failed.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(failed.header("access-control-allow-origin"), "*");

    let unknown = app.get_with("/api/v1/nothing", &[origin]).await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    assert_eq!(unknown.header("access-control-allow-origin"), "*");

    // The control plane has no CORS, and refuses a page on another origin.
    let admin_unknown = app.get_with("/__doublure/nothing", &[origin]).await;
    assert_eq!(admin_unknown.status, StatusCode::FORBIDDEN);
    assert!(!admin_unknown.has_header("access-control-allow-origin"));
    let admin_unknown = app.get("/__doublure/nothing").await;
    assert_eq!(admin_unknown.status, StatusCode::NOT_FOUND);
    assert_eq!(admin_unknown.text(), "Not Found\n");
}

#[tokio::test]
async fn the_fault_header_can_be_switched_off() {
    let app = TestApp::with_settings(Settings {
        fault_header: false,
        ..Settings::for_tests()
    });
    let response = app
        .get_with("/api/nothing/", &[("x-doublure-fault", "status=503")])
        .await;
    assert_eq!(response.status, StatusCode::NOT_FOUND);
}

#[tokio::test(start_paused = true)]
async fn injected_latency_delays_the_answer_by_the_emulated_amount() {
    let app = TestApp::new();
    let started = tokio::time::Instant::now();
    let response = app
        .get_with("/api/nothing/", &[("x-doublure-fault", "latency=800ms")])
        .await;
    assert_eq!(response.status, StatusCode::NOT_FOUND);
    assert_eq!(started.elapsed().as_millis(), 800);
    let journal = app.get("/__doublure/requests").await.json();
    assert_eq!(
        journal["requests"][0]["outcome"],
        "header x-doublure-fault: latency=800ms delayed the answer after 800 ms; no route for GET /api/nothing/"
    );
}

#[tokio::test]
async fn a_dropped_connection_reaches_a_real_client_as_an_error() {
    let served = Served::start(AppState::for_tests()).await;
    let client = reqwest::Client::new();
    let result = client
        .get(served.url("/api/v1/users"))
        .header("x-doublure-fault", "drop")
        .send()
        .await;
    let error = result.expect_err("the client saw an answer");
    assert!(error.is_request(), "{error:?}");
    assert_eq!(
        error_chain(&error),
        "error sending request for url (URL) <- client error (SendRequest) <- connection closed before message completed"
            .replace("URL", &served.url("/api/v1/users")),
    );
    // The server is still up for the next call.
    let health = client
        .get(served.url("/__doublure/health"))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
}

/// An error and its sources, outermost first.
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut chain = vec![error.to_string()];
    let mut source = error.source();
    while let Some(e) = source {
        chain.push(e.to_string());
        source = e.source();
    }
    chain.join(" <- ")
}
