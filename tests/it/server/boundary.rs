//! doublure's limits and refusals through the real router: a request
//! target, headers or a body too large, a path that is not UTF-8, each
//! refused in the format of the API the path belongs to; fault matching
//! that hands a body on intact; cross-site control calls refused; the
//! w.c.s. nonce store bounded.

use crate::common::control::{post, post_empty};
use crate::common::logora::token_request;
use crate::common::wcs::{FRED, demo_with_nonce};
use crate::common::{TestApp, assert_json_as};
use axum::body::Body;
use axum::http::{Request, StatusCode};
use doublure::testing::AppState;
use doublure::testing::boundary::API_BODY_LIMIT;
use doublure::testing::clock::Clock;
use doublure::testing::config::Generate;
use doublure::testing::config::{CorsOrigins, Settings};
use doublure::testing::data::Seed;
use doublure::testing::data::builtin;
use doublure::testing::state::test_now;
use serde_json::{Value, json};

const THREE_MB: usize = 3_000_000;

/// An API's error body around a message.
type Shape = fn(&str) -> Value;

// ---- bodies ---------------------------------------------------------------

#[tokio::test]
async fn a_token_request_over_the_body_limit_gets_doorkeepers_413() {
    let app = TestApp::new();
    let body = format!("grant_type=client_credentials&pad={}", "a".repeat(THREE_MB)).into_bytes();
    let length = body.len();
    let with_length = app
        .raw(
            "POST",
            "/oauth/token",
            "application/x-www-form-urlencoded",
            body.clone(),
            true,
        )
        .await;
    assert_json_as(
        &with_length,
        StatusCode::PAYLOAD_TOO_LARGE,
        "application/json; charset=utf-8",
        json!({
            "error": "invalid_request",
            "error_description": format!("request body too large: a body of {length} bytes is over the 2097152 bytes doublure's emulated APIs accept"),
        }),
    );
    assert_eq!(with_length.header("cache-control"), "no-store");
    // Sent without a length, it is found too large as it is read.
    let streamed = app
        .raw(
            "POST",
            "/__ns/t1/oauth/token",
            "application/x-www-form-urlencoded",
            body,
            false,
        )
        .await;
    assert_json_as(
        &streamed,
        StatusCode::PAYLOAD_TOO_LARGE,
        "application/json; charset=utf-8",
        json!({
            "error": "invalid_request",
            "error_description": "request body too large: a body is over the 2097152 bytes doublure's emulated APIs accept",
        }),
    );
    let journal = app.get("/__ns/t1/__doublure/requests").await.json();
    assert_eq!(journal["requests"][0]["status"], 413);
    assert_eq!(
        journal["requests"][0]["outcome"],
        "request body too large: a body is over the 2097152 bytes doublure's emulated APIs accept"
    );
}

#[tokio::test]
async fn a_wcs_body_over_the_limit_gets_a_wcs_413_and_one_at_the_limit_reaches_the_handler() {
    let app = TestApp::new();
    let response = app
        .raw(
            "POST",
            "/api/user/preferences",
            "application/json",
            vec![b' '; THREE_MB],
            false,
        )
        .await;
    assert_eq!(response.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(response.header("content-type"), "application/json");
    assert_eq!(
        response.text(),
        r#"{"err": 1, "err_class": "Payload Too Large", "err_code": "payload-too-large", "err_desc": "request body too large: a body is over the 2097152 bytes doublure's emulated APIs accept"}"#
    );
    // 2 MiB exactly is read, and the handler answers (nobody signed in).
    let at_limit = app
        .raw(
            "POST",
            "/api/user/preferences",
            "application/json",
            vec![b' '; API_BODY_LIMIT],
            true,
        )
        .await;
    assert_eq!(
        at_limit.status,
        StatusCode::FORBIDDEN,
        "{}",
        at_limit.text()
    );
    assert_eq!(at_limit.json()["err_desc"], "User not authenticated.");
}

#[tokio::test]
async fn a_fault_rule_for_another_client_hands_a_100_kb_token_request_on_intact() {
    let app = TestApp::new();
    let rule = post(
        &app,
        "/__doublure/faults",
        json!({"client_id": "OTHER", "status": 503}),
    )
    .await;
    assert_eq!(rule.status, StatusCode::CREATED);
    let form = format!(
        "grant_type=client_credentials&client_id=API_KEY&client_secret=API_SECRET&padding={}",
        "x".repeat(100_000)
    );
    let response = token_request(&app, &form).await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.text());
    assert_eq!(response.json()["token_type"], "Bearer");
    assert_eq!(
        app.get("/__doublure/faults").await.json()["faults"][0]["fired"],
        0
    );

    // The rule's own client still gets its fault, with the body read whole.
    post(
        &app,
        "/__doublure/faults",
        json!({"client_id": "API_KEY", "status": 503}),
    )
    .await;
    let failed = token_request(&app, &form).await;
    assert_eq!(failed.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(failed.json()["error"], "temporarily_unavailable");
}

#[tokio::test]
async fn a_control_plane_body_over_admin_body_limit_gets_413_in_its_json() {
    let app = TestApp::with_settings(Settings {
        admin_body_limit: 1000,
        ..Settings::for_tests()
    });
    let body = json!({"logora/users.json": [], "pad": "x".repeat(2000)})
        .to_string()
        .into_bytes();
    let length = body.len();
    let with_length = app
        .raw(
            "PUT",
            "/__doublure/state",
            "application/json",
            body.clone(),
            true,
        )
        .await;
    assert_json_as(
        &with_length,
        StatusCode::PAYLOAD_TOO_LARGE,
        "application/json",
        json!({"error": format!("request body too large: a body of {length} bytes is over the 1000 bytes the control plane accepts (--admin-body-limit)")}),
    );
    let streamed = app
        .raw(
            "PUT",
            "/__ns/t1/__doublure/state",
            "application/json",
            body,
            false,
        )
        .await;
    assert_json_as(
        &streamed,
        StatusCode::PAYLOAD_TOO_LARGE,
        "application/json",
        json!({"error": "request body too large: the body is over the bytes the control plane accepts (--admin-body-limit)"}),
    );
}

#[tokio::test]
async fn the_state_of_5000_generated_users_goes_back_in_as_it_came_out() {
    let generate = Generate {
        logora_users: 5000,
        ..Default::default()
    };
    let seed = Seed::build(builtin(), generate).unwrap();
    let clock = Clock::frozen(test_now());
    let app = TestApp::with_state(AppState::new(seed, clock, Settings::for_tests()));
    let state = app.get("/__doublure/state").await;
    assert_eq!(state.status, StatusCode::OK);
    assert!(state.body.len() > 3_000_000, "{} bytes", state.body.len());
    let put = app
        .raw(
            "PUT",
            "/__doublure/state",
            "application/json",
            state.body,
            true,
        )
        .await;
    assert_json_as(
        &put,
        StatusCode::OK,
        "application/json",
        json!({"status": "replaced"}),
    );
}

// ---- request targets, headers and paths ----------------------------------

#[tokio::test]
async fn a_request_target_over_16_kib_gets_414_in_each_apis_format() {
    let app = TestApp::new();
    let long = "a".repeat(20_000);
    let message = |path: &str| {
        format!(
            "URI too long: the request target has {} bytes, and doublure accepts up to 16384",
            path.len() + 3 + long.len()
        )
    };
    let cases: [(&str, &str, Shape); 5] = [
        (
            "/oauth/token",
            "application/json; charset=utf-8",
            |m| json!({"error": "invalid_request", "error_description": m}),
        ),
        (
            "/api/v1/users",
            "application/json; charset=utf-8",
            |m| json!({"success": false, "error": m}),
        ),
        (
            "/api/user/forms",
            "application/json",
            |m| json!({"err": 1, "err_class": "URI Too Long", "err_code": "uri-too-long", "err_desc": m}),
        ),
        (
            "/__doublure/requests",
            "application/json",
            |m| json!({"error": m}),
        ),
        (
            "/__ns/t1/api/v1/users",
            "application/json; charset=utf-8",
            |m| json!({"success": false, "error": m}),
        ),
    ];
    for (path, content_type, body) in cases {
        let tail = path.strip_prefix("/__ns/t1").unwrap_or(path);
        let response = app.get(&format!("{path}?q={long}")).await;
        assert_json_as(
            &response,
            StatusCode::URI_TOO_LONG,
            content_type,
            body(&message(tail)),
        );
    }
    let elsewhere = app.get(&format!("/elsewhere?q={long}")).await;
    assert_eq!(elsewhere.status, StatusCode::URI_TOO_LONG);
    assert_eq!(
        elsewhere.header("content-type"),
        "text/plain; charset=utf-8"
    );
    assert_eq!(elsewhere.text(), format!("{}\n", message("/elsewhere")));
    // A browser reads the refusal through CORS.
    let browser = app
        .get_with(
            &format!("/api/v1/users?q={long}"),
            &[("origin", "http://front.test")],
        )
        .await;
    assert_eq!(browser.status, StatusCode::URI_TOO_LONG);
    assert_eq!(browser.header("access-control-allow-origin"), "*");
}

#[tokio::test]
async fn headers_over_64_kib_get_431_in_the_apis_format() {
    let app = TestApp::new();
    let big = "b".repeat(70_000);
    let response = app
        .get_with("/api/v1/users?api_key=API_KEY", &[("x-big", big.as_str())])
        .await;
    assert_eq!(response.status, StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE);
    assert_eq!(
        response.json(),
        json!({"success": false, "error": "request headers too large: 70009 bytes of headers, and doublure accepts up to 65536"})
    );
    let control = app
        .get_with("/__doublure/clock", &[("x-big", big.as_str())])
        .await;
    assert_eq!(control.status, StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE);
    assert_eq!(
        control.json()["error"],
        "request headers too large: 70009 bytes of headers, and doublure accepts up to 65536"
    );
}

#[tokio::test]
async fn a_path_that_is_not_utf8_gets_a_400_in_the_apis_format() {
    let app = TestApp::new();
    let control = app.get("/__doublure/logora/users/%ff").await;
    assert_json_as(
        &control,
        StatusCode::BAD_REQUEST,
        "application/json",
        json!({"error": "malformed request: the path /__doublure/logora/users/%ff is not UTF-8 once percent-decoded"}),
    );
    let logora = post_empty(&app, "/__ns/t1/api/v1/users/%ff/anonymize?api_key=API_KEY").await;
    assert_json_as(
        &logora,
        StatusCode::BAD_REQUEST,
        "application/json; charset=utf-8",
        json!({"success": false, "error": "malformed request: the path /api/v1/users/%ff/anonymize is not UTF-8 once percent-decoded"}),
    );
    // w.c.s. reads a path lossily, as Python does: a lookup that finds
    // nobody.
    let wcs = app.get("/api/users/%ff/").await;
    assert_eq!(wcs.status, StatusCode::FORBIDDEN, "{}", wcs.text());
}

// ---- cross-site control calls ---------------------------------------------

#[tokio::test]
async fn a_page_on_another_origin_cannot_reset_or_reload_the_control_plane() {
    let app = TestApp::new();
    let moved = post(&app, "/__doublure/clock/advance", json!({"seconds": 60})).await;
    assert_eq!(moved.status, StatusCode::OK);
    let before = app.get("/__doublure/clock").await.json();
    for path in [
        "/__doublure/reset",
        "/__doublure/reload",
        "/__ns/t1/__doublure/reset",
    ] {
        // What a page's `fetch(url, {method: "POST", body: "x"})` sends: no
        // preflight for a text/plain body.
        let request = Request::post(path)
            .header("origin", "http://evil.test")
            .header("content-type", "text/plain;charset=UTF-8")
            .body(Body::from("x"))
            .unwrap();
        let refused = app.send(request).await;
        assert_json_as(
            &refused,
            StatusCode::FORBIDDEN,
            "application/json",
            json!({"error": "cross-site call refused: pages at http://evil.test may not drive doublure's control plane; start doublure with --admin-cors-origin http://evil.test to allow them"}),
        );
        assert!(!refused.has_header("access-control-allow-origin"));
    }
    assert_eq!(app.get("/__doublure/clock").await.json(), before);
    let sandboxed = app
        .json("GET", "/__doublure/state", None, &[("origin", "null")])
        .await;
    assert_eq!(sandboxed.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn doublures_own_pages_tools_without_origin_and_health_are_let_through() {
    let app = TestApp::new();
    // The public URL's origin (Settings::for_tests: http://localhost:8080).
    let own = app
        .json(
            "POST",
            "/__doublure/reset",
            None,
            &[("origin", "http://localhost:8080")],
        )
        .await;
    assert_eq!(own.status, StatusCode::OK, "{}", own.text());
    // A page doublure served at the address the browser used (the console).
    let same = app
        .json(
            "POST",
            "/__ns/t1/__doublure/reset",
            None,
            &[
                ("origin", "http://127.0.0.1:9999"),
                ("host", "127.0.0.1:9999"),
            ],
        )
        .await;
    assert_eq!(same.status, StatusCode::OK, "{}", same.text());
    let tool = post_empty(&app, "/__doublure/reset").await;
    assert_eq!(tool.status, StatusCode::OK);
    let health = app
        .get_with("/__doublure/health", &[("origin", "http://evil.test")])
        .await;
    assert_eq!(health.status, StatusCode::OK);
    // The emulated APIs stay open to every origin.
    let api = app
        .get_with(
            "/api/v1/users?api_key=API_KEY",
            &[("origin", "http://evil.test")],
        )
        .await;
    assert_eq!(api.status, StatusCode::OK);
}

#[tokio::test]
async fn a_listed_origin_gets_cors_on_the_control_plane_and_its_preflight_needs_no_token() {
    let app = TestApp::with_settings(Settings {
        admin_token: Some("s3cret".into()),
        admin_cors: CorsOrigins::List(vec!["https://demo.test".into()]),
        ..Settings::for_tests()
    });
    let preflight = Request::options("/__doublure/reset")
        .header("origin", "https://demo.test")
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "authorization,content-type",
        )
        .body(Body::empty())
        .unwrap();
    let preflight = app.send(preflight).await;
    assert_eq!(preflight.status, StatusCode::OK);
    assert_eq!(
        preflight.header("access-control-allow-origin"),
        "https://demo.test"
    );
    assert_eq!(
        preflight.header("access-control-allow-headers"),
        "authorization,content-type"
    );
    let call = app
        .json(
            "POST",
            "/__doublure/reset",
            None,
            &[
                ("origin", "https://demo.test"),
                ("authorization", "Bearer s3cret"),
            ],
        )
        .await;
    assert_eq!(call.status, StatusCode::OK);
    assert_eq!(
        call.header("access-control-allow-origin"),
        "https://demo.test"
    );
    let no_token = app
        .json(
            "POST",
            "/__doublure/reset",
            None,
            &[("origin", "https://demo.test")],
        )
        .await;
    assert_eq!(no_token.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        no_token.header("access-control-allow-origin"),
        "https://demo.test"
    );

    let other = Request::options("/__doublure/reset")
        .header("origin", "https://other.test")
        .header("access-control-request-method", "POST")
        .body(Body::empty())
        .unwrap();
    assert_eq!(app.send(other).await.status, StatusCode::FORBIDDEN);
}

// ---- nonces ---------------------------------------------------------------

#[tokio::test]
async fn past_max_nonces_the_oldest_is_forgotten_and_the_journal_says_so() {
    let app = TestApp::with_settings(Settings {
        max_nonces: 2,
        ..Settings::for_tests()
    });
    let signed = |nonce: &str| demo_with_nonce(&app, &format!("/api/user/?{FRED}"), nonce);
    for nonce in ["n1", "n2", "n3"] {
        assert_eq!(app.get(&signed(nonce)).await.status, StatusCode::OK);
    }
    assert_eq!(app.state.wcs.runtime.nonce_count(), 2);
    let journal = app.get("/__doublure/requests").await.json();
    let outcomes: Vec<&str> = journal["requests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["outcome"].as_str().unwrap())
        .collect();
    assert_eq!(
        outcomes,
        [
            "signed by demo (sha256): profile of user fred@example.net",
            "signed by demo (sha256): profile of user fred@example.net",
            "signed by demo (sha256): profile of user fred@example.net; nonce store full (--max-nonces 2): the oldest nonce was forgotten, and its URL could now be replayed",
        ]
    );
    // The clock is frozen: n1 was forgotten because of the cap, n3 is
    // remembered.
    assert_eq!(app.get(&signed("n1")).await.status, StatusCode::OK);
    let replayed = app.get(&signed("n3")).await;
    assert_eq!(replayed.status, StatusCode::FORBIDDEN);
    assert_eq!(replayed.json()["err_desc"], "Nonce already used.");
}
