//! The control plane under /__doublure/: clock, reset, journal, faults,
//! state, reload and the admin token, through the real router.

mod common;

use axum::http::StatusCode;
use common::{Served, TestApp};
use doublure::testing::AppState;
use doublure::testing::config::Settings;
use serde_json::{Value, json};

fn app_with(settings: Settings) -> TestApp {
    TestApp::with_state(AppState::new(
        doublure::testing::data::Seed::builtin().unwrap(),
        doublure::testing::clock::Clock::frozen(doublure::testing::state::test_now()),
        settings,
    ))
}

// ---- clock ----------------------------------------------------------------

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
    let response = app
        .json(
            "PUT",
            "/__doublure/clock",
            Some(json!({"now": "2030-02-03T04:05:06Z", "frozen": true})),
            &[],
        )
        .await;
    assert_eq!(response.status, StatusCode::OK);
    assert_eq!(
        response.json(),
        json!({"now": "2030-02-03T04:05:06Z", "frozen": true})
    );
    let response = app
        .json(
            "POST",
            "/__doublure/clock/advance",
            Some(json!({"seconds": 7201})),
            &[],
        )
        .await;
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
    let response = app
        .json(
            "PUT",
            "/__doublure/clock",
            Some(json!({"frozen": false})),
            &[],
        )
        .await;
    assert_eq!(response.status, StatusCode::OK);
    assert_eq!(response.json()["frozen"], false);
    assert!(!app.state.clock.is_frozen());
    let now = app.state.clock.now();
    assert!(
        now >= doublure::testing::state::test_now()
            && now < doublure::testing::state::test_now() + chrono::TimeDelta::seconds(60)
    );
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
    let response = app
        .json(
            "PUT",
            "/__doublure/clock",
            Some(json!({"now": "yesterday"})),
            &[],
        )
        .await;
    assert_eq!(response.status, StatusCode::BAD_REQUEST);
    let error = response.json()["error"].as_str().unwrap().to_owned();
    assert!(error.contains("now"), "{error}");
    let response = app
        .json(
            "PUT",
            "/__doublure/clock",
            Some(json!({"frozen": true, "speed": 2})),
            &[],
        )
        .await;
    assert_eq!(response.status, StatusCode::BAD_REQUEST);
    assert!(
        response.json()["error"]
            .as_str()
            .unwrap()
            .contains("unknown field `speed`")
    );
}

#[tokio::test]
async fn a_body_that_is_not_json_gets_a_400_naming_the_problem() {
    let app = TestApp::new();
    let response = app
        .send(
            axum::http::Request::post("/__doublure/clock/advance")
                .header("content-type", "application/json")
                .body(axum::body::Body::from("{seconds: 1"))
                .unwrap(),
        )
        .await;
    assert_eq!(response.status, StatusCode::BAD_REQUEST);
    assert!(
        response.json()["error"]
            .as_str()
            .unwrap()
            .starts_with("Failed to parse the request body as JSON"),
        "{}",
        response.text()
    );
}

// ---- reset ----------------------------------------------------------------

#[tokio::test]
async fn reset_puts_back_the_clock_and_clears_journal_and_faults() {
    let app = TestApp::new();
    app.json(
        "POST",
        "/__doublure/clock/advance",
        Some(json!({"seconds": 60})),
        &[],
    )
    .await;
    app.json(
        "POST",
        "/__doublure/faults",
        Some(json!({"status": 500, "path": "/nowhere"})),
        &[],
    )
    .await;
    app.get("/api/v1/nowhere").await;
    assert_eq!(app.state.journal.len(), 1);

    let response = app.json("POST", "/__doublure/reset", None, &[]).await;
    assert_eq!(response.status, StatusCode::OK);
    assert_eq!(response.json(), json!({"status": "reset"}));
    assert_eq!(app.state.clock.now(), doublure::testing::state::test_now());
    assert!(app.state.journal.is_empty());
    assert_eq!(
        app.get("/__doublure/faults").await.json(),
        json!({"faults": []})
    );
}

// ---- admin token ----------------------------------------------------------

#[tokio::test]
async fn with_an_admin_token_every_route_but_health_needs_it() {
    let app = app_with(Settings {
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
    let app = app_with(Settings {
        admin_token: Some("s3cret".into()),
        ..Settings::for_tests()
    });
    let response = app.get("/api/nothing/").await;
    assert_eq!(response.status, StatusCode::NOT_FOUND);
}

// ---- journal --------------------------------------------------------------

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
    app.json("POST", "/api/v1/c", None, &[]).await;
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
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(bad.json()["error"].as_str().unwrap().contains("status"));
}

#[tokio::test]
async fn deleting_the_journal_empties_it() {
    let app = TestApp::new();
    app.get("/api/v1/a").await;
    let response = app.json("DELETE", "/__doublure/requests", None, &[]).await;
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
    let app = app_with(Settings {
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

// ---- faults ---------------------------------------------------------------

#[tokio::test]
async fn posting_a_rule_answers_201_with_its_id() {
    let app = TestApp::new();
    let rule = json!({"method": "GET", "path": "/api/v1/*", "client_id": "API_KEY", "orig": "demo",
        "status": 503, "retry_after": 5, "latency_ms": 800, "latency_max_ms": 1500,
        "probability": 0.25, "count": 2});
    let response = app
        .json("POST", "/__doublure/faults", Some(rule.clone()), &[])
        .await;
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
    let response = app
        .json(
            "POST",
            "/__doublure/faults",
            Some(json!({"path": "/x"})),
            &[],
        )
        .await;
    assert_eq!(response.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        response.json(),
        json!({"error": "a rule needs an effect: status, latency_ms or drop: true"})
    );
    let response = app
        .json(
            "POST",
            "/__doublure/faults",
            Some(json!({"status": 503, "colour": "red"})),
            &[],
        )
        .await;
    assert_eq!(response.status, StatusCode::BAD_REQUEST);
    assert!(
        response.json()["error"]
            .as_str()
            .unwrap()
            .contains("unknown field `colour`")
    );
    assert_eq!(
        app.get("/__doublure/faults").await.json(),
        json!({"faults": []})
    );
}

#[tokio::test]
async fn a_fault_with_count_2_hits_exactly_the_next_two_matching_calls() {
    let app = TestApp::new();
    app.json(
        "POST",
        "/__doublure/faults",
        Some(json!({"path": "/api/v1/*", "status": 503, "count": 2})),
        &[],
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
    app.json(
        "POST",
        "/__doublure/faults",
        Some(json!({"status": 503, "retry_after": 7})),
        &[],
    )
    .await;
    let logora = app.get("/api/v1/users").await;
    assert_eq!(logora.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(logora.header("retry-after"), "7");
    assert_eq!(
        logora.json(),
        json!({"success": false, "error": "Service Unavailable"})
    );
    let oauth = app
        .post_form("/oauth/token", "grant_type=client_credentials", &[])
        .await;
    assert_eq!(oauth.json()["error"], "temporarily_unavailable");
    let wcs = app.get("/api/user/").await;
    assert_eq!(
        wcs.json(),
        json!({"err": 1, "err_class": "Service Unavailable", "err_code": "service-unavailable", "err_desc": null})
    );
    app.json("DELETE", "/__doublure/faults", None, &[]).await;
    app.json(
        "POST",
        "/__doublure/faults",
        Some(json!({"status": 500})),
        &[],
    )
    .await;
    assert_eq!(app.get("/api/user/forms").await.json(), json!({"err": 1}));
    app.json("DELETE", "/__doublure/faults", None, &[]).await;
    app.json(
        "POST",
        "/__doublure/faults",
        Some(json!({"status": 429})),
        &[],
    )
    .await;
    let limited = app.get("/api/v1/users").await;
    assert_eq!(limited.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(limited.header("retry-after"), "1");
}

#[tokio::test]
async fn a_rule_for_one_orig_leaves_other_callers_alone() {
    let app = TestApp::new();
    app.json(
        "POST",
        "/__doublure/faults",
        Some(json!({"orig": "demo", "status": 500})),
        &[],
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
    app.json(
        "POST",
        "/__doublure/faults",
        Some(json!({"client_id": "OTHER_API_KEY", "status": 503})),
        &[],
    )
    .await;
    let hit = app
        .post_form(
            "/oauth/token",
            "grant_type=client_credentials&client_id=OTHER_API_KEY&client_secret=x",
            &[],
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
    let miss = app
        .post_form(
            "/oauth/token",
            "grant_type=client_credentials&client_id=API_KEY&client_secret=x",
            &[],
        )
        .await;
    assert_ne!(miss.status, StatusCode::SERVICE_UNAVAILABLE);
}

#[tokio::test]
async fn deleting_one_rule_by_id_and_an_unknown_id() {
    let app = TestApp::new();
    app.json(
        "POST",
        "/__doublure/faults",
        Some(json!({"status": 500})),
        &[],
    )
    .await;
    assert_eq!(
        app.json("DELETE", "/__doublure/faults/1", None, &[])
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    let missing = app.json("DELETE", "/__doublure/faults/1", None, &[]).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_eq!(missing.json(), json!({"error": "no fault rule 1"}));
    assert_eq!(
        app.json("DELETE", "/__doublure/faults/abc", None, &[])
            .await
            .status,
        StatusCode::NOT_FOUND
    );
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
    let rule = app
        .json(
            "POST",
            "/__doublure/faults",
            Some(json!({"path": "/api/user/*", "status": 429, "retry_after": 5})),
            &[],
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
    let app = app_with(Settings {
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
    assert!(
        journal["requests"][0]["outcome"]
            .as_str()
            .unwrap()
            .starts_with("header x-doublure-fault: latency=800ms delayed the answer after 800 ms"),
        "{journal}"
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
    let failed = match result {
        Err(_) => true,
        Ok(response) => response.bytes().await.is_err(),
    };
    assert!(failed, "the client saw a complete answer");
    // The server is still up for the next call.
    let health = client
        .get(served.url("/__doublure/health"))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
}

// ---- state ----------------------------------------------------------------

#[tokio::test]
async fn put_state_refuses_an_unknown_collection_and_keeps_serving() {
    let app = TestApp::new();
    let before = app.get("/__doublure/state").await.json();
    let response = app
        .json(
            "PUT",
            "/__doublure/state",
            Some(json!({"logora/usres.json": []})),
            &[],
        )
        .await;
    assert_eq!(response.status, StatusCode::BAD_REQUEST);
    let body = response.json();
    assert_eq!(body["error"], "invalid data: nothing was changed");
    assert!(
        body["problems"][0]
            .as_str()
            .unwrap()
            .starts_with("state/logora/usres.json: unknown fixture file"),
        "{body}"
    );
    assert_eq!(app.get("/__doublure/state").await.json(), before);
}

#[tokio::test]
async fn put_state_with_a_body_that_is_not_an_object_is_refused() {
    let app = TestApp::new();
    let response = app
        .json("PUT", "/__doublure/state", Some(json!([1, 2])), &[])
        .await;
    assert_eq!(response.status, StatusCode::BAD_REQUEST);
    assert!(response.json()["error"].is_string());
}

// ---- reload ---------------------------------------------------------------

#[tokio::test]
async fn reload_without_a_directory_reloads_the_built_in_fixtures() {
    let app = TestApp::new();
    let response = app.json("POST", "/__doublure/reload", None, &[]).await;
    assert_eq!(response.status, StatusCode::OK);
    assert_eq!(
        response.json(),
        json!({"status": "reloaded", "fixtures": "<built-in>"})
    );
}

#[tokio::test]
async fn reload_of_a_broken_directory_reports_it_and_keeps_the_old_data() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("wcs")).unwrap();
    std::fs::write(dir.path().join("wcs/typo.json"), "[]").unwrap();
    let app = app_with(Settings {
        fixtures: Some(dir.path().to_owned()),
        ..Settings::for_tests()
    });
    let before = app.get("/__doublure/state").await.json();
    let response = app.json("POST", "/__doublure/reload", None, &[]).await;
    assert_eq!(response.status, StatusCode::BAD_REQUEST);
    assert!(
        response.json()["problems"][0]
            .as_str()
            .unwrap()
            .contains("wcs/typo.json: unknown fixture file")
    );
    assert_eq!(app.get("/__doublure/state").await.json(), before);
}

// ---- OpenAPI --------------------------------------------------------------

#[tokio::test]
async fn the_openapi_document_lists_every_control_plane_route() {
    let app = TestApp::new();
    let response = app.get("/__doublure/openapi.json").await;
    assert_eq!(response.status, StatusCode::OK);
    let doc = response.json();
    assert_eq!(doc["openapi"], "3.1.0");
    let paths = doc["paths"].as_object().unwrap();
    let expected = [
        ("/__doublure/health", vec!["get"]),
        ("/__doublure/openapi.json", vec!["get"]),
        ("/__doublure/openapi/logora.json", vec!["get"]),
        ("/__doublure/openapi/wcs.json", vec!["get"]),
        ("/__doublure/reset", vec!["post"]),
        ("/__doublure/reload", vec!["post"]),
        ("/__doublure/state", vec!["get", "put"]),
        ("/__doublure/clock", vec!["get", "put"]),
        ("/__doublure/clock/advance", vec!["post"]),
        ("/__doublure/requests", vec!["get", "delete"]),
        ("/__doublure/requests/stream", vec!["get"]),
        ("/__doublure/faults", vec!["get", "post", "delete"]),
        ("/__doublure/faults/{id}", vec!["delete"]),
        ("/__doublure/logora/tokens", vec!["get", "post"]),
        ("/__doublure/logora/tokens/{token}", vec!["delete"]),
        ("/__doublure/wcs/sign", vec!["post"]),
        ("/__doublure/wcs/drafts", vec!["get", "post"]),
        (
            "/__doublure/wcs/drafts/{id}",
            vec!["delete", "get", "patch", "put"],
        ),
        ("/__doublure/{api}/{collection}", vec!["get", "post"]),
        (
            "/__doublure/{api}/{collection}/{id}",
            vec!["delete", "get", "patch", "put"],
        ),
    ];
    for (path, methods) in &expected {
        let item = paths.get(*path).unwrap_or_else(|| panic!("{path} missing"));
        let mut listed: Vec<&str> = item
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        listed.sort();
        let mut want = methods.clone();
        want.sort();
        assert_eq!(listed, want, "{path}");
    }
    assert!(doc["components"]["schemas"]["RuleSpec"].is_object());
}

#[tokio::test]
async fn every_documented_route_exists_in_the_router() {
    let app = TestApp::new();
    let doc = app.get("/__doublure/openapi.json").await.json();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            let uri = path
                .replace("{id}", "999")
                .replace("{token}", "not-a-token")
                .replace("{api}", "logora")
                .replace("{collection}", "users");
            // A stream never ends: a filter it refuses still shows the route.
            let uri = if path.ends_with("/stream") {
                format!("{uri}?unknown=1")
            } else {
                uri
            };
            let response = app.json(&method.to_uppercase(), &uri, None, &[]).await;
            assert_ne!(
                response.status,
                StatusCode::METHOD_NOT_ALLOWED,
                "{method} {path}"
            );
            assert!(
                response.status != StatusCode::NOT_FOUND || response.json()["error"].is_string(),
                "{method} {path} is routed"
            );
        }
    }
}
