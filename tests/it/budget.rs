//! The server's memory budget (`--memory-budget`) across namespaces, and
//! the live journal streams' limits: `--max-streams`, a reader that falls
//! behind the ring, and streams that end with their namespace.

use axum::http::StatusCode;
use chrono::TimeDelta;
use doublure::testing::AppState;
use doublure::testing::config::Settings;
use serde_json::{Value, json};

use crate::common::TestApp;
use crate::common::control::{assert_error, delete};
use crate::common::logora::token_at;

/// A Logora call whose path makes a journal entry of some 4 KiB.
fn heavy(prefix: &str, n: usize) -> String {
    format!("{prefix}/api/v1/users?pad={n}-{}", "x".repeat(4000))
}

async fn memory(app: &TestApp) -> Value {
    app.get("/__doublure/memory").await.json()
}

#[tokio::test]
async fn past_the_budget_the_flooders_oldest_entries_go_so_the_root_and_other_namespaces_are_still_served()
 {
    // Arrange: room for some thirty heavy entries beside the headroom a
    // call needs.
    let budget = 200 << 10;
    let app = TestApp::with_state(AppState::for_tests_with(Settings {
        memory_budget: budget,
        ..Settings::for_tests()
    }));

    // Act: one namespace fills the budget and keeps being served, paying
    // with its own oldest entries; then the root and another namespace,
    // whose journals hold nothing to give, are served from the flooder's.
    for n in 0..100 {
        let answer = app.get(&heavy("/__ns/flood", n)).await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "call {n}");
    }
    let before = app.get("/__ns/flood/__doublure/requests").await.json();
    let other = token_at(&app, "/__ns/other").await;
    let listed = app
        .get_with(
            "/__ns/other/api/v1/users",
            &[("authorization", &format!("Bearer {other}"))],
        )
        .await;
    let root = token_at(&app, "").await;
    let at_root = app
        .get_with(
            "/api/v1/users",
            &[("authorization", &format!("Bearer {root}"))],
        )
        .await;
    let after = app.get("/__ns/flood/__doublure/requests").await.json();

    // Assert
    let ids = |kept: &Value| -> Vec<u64> {
        kept["requests"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["id"].as_u64().unwrap())
            .collect()
    };
    let (before, after) = (ids(&before), ids(&after));
    assert!(
        before.len() < 40 && before.last() == Some(&100),
        "the newest kept, the oldest gone: {before:?}"
    );
    assert_eq!(listed.status, StatusCode::OK);
    assert_eq!(at_root.status, StatusCode::OK);
    assert!(
        after.len() < before.len() && after.last() == Some(&100),
        "the flooder's oldest went for the others: {before:?} then {after:?}"
    );
    let usage = memory(&app).await;
    assert_eq!(usage["refused_calls"], 0);
    let used = usage["used_bytes"].as_u64().unwrap();
    assert!(used <= budget as u64, "{usage}");
}

#[tokio::test]
async fn when_no_journal_can_give_enough_back_a_call_gets_a_503_in_its_apis_format_and_is_journaled()
 {
    // Arrange: three live streams leave less than the room a call needs
    // (64 KiB), and no journal holds anything to give back.
    let budget = 3 * (16 << 10) + (60 << 10);
    let app = TestApp::with_state(AppState::for_tests_with(Settings {
        memory_budget: budget,
        ..Settings::for_tests()
    }));
    let mut streams = Vec::new();
    for _ in 0..3 {
        streams.push(
            app.open("/__ns/watch/__doublure/requests/stream", &[])
                .await,
        );
    }

    // Act
    let oauth = app
        .post_form(
            "/__ns/other/oauth/token",
            "grant_type=client_credentials",
            &[],
        )
        .await;
    let logora = app
        .get_with(
            "/__ns/other/api/v1/users",
            &[("origin", "http://demo.example")],
        )
        .await;
    let wcs = app.get("/__ns/other/api/user/").await;

    // Assert
    for (answer, body) in [
        (
            &oauth,
            json!({"error": "temporarily_unavailable", "error_description": "The authorization server is temporarily unable to handle the request due to a temporary overloading or maintenance of the server."}),
        ),
        (
            &logora,
            json!({"success": false, "error": "Service Unavailable"}),
        ),
        (
            &wcs,
            json!({"err": 1, "err_class": "Service Unavailable", "err_code": "service-unavailable", "err_desc": null}),
        ),
    ] {
        assert_eq!(answer.status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(answer.header("retry-after"), "1");
        assert_eq!(answer.json(), body);
    }
    assert_eq!(
        logora.header("access-control-allow-origin"),
        "*",
        "a browser demo reads the 503"
    );
    let refused = app.get("/__ns/other/__doublure/requests").await.json();
    let entries = refused["requests"].as_array().unwrap();
    let said: Vec<(&str, &str, u64)> = entries
        .iter()
        .map(|e| {
            (
                e["method"].as_str().unwrap(),
                e["path"].as_str().unwrap(),
                e["status"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        said,
        [
            ("POST", "/oauth/token", 503),
            ("GET", "/api/v1/users", 503),
            ("GET", "/api/user/", 503)
        ],
        "refusals are not what a later refusal frees"
    );
    assert_eq!(
        entries[0]["outcome"],
        format!(
            "refused: the memory budget is spent (--memory-budget {budget} bytes, every \
             namespace together) and no journal can give enough back (what is left is held by \
             calls in flight, streams, nonces or refusals); retry later"
        )
    );
    assert_eq!(
        entries[0]["headers"],
        json!([]),
        "a small entry: no headers"
    );
    let usage = memory(&app).await;
    assert_eq!(usage["budget_bytes"], budget);
    assert_eq!(usage["refused_calls"], 3);
    assert_eq!(usage["refusals_not_journaled"], 0);
    drop(streams);
}

#[tokio::test]
async fn logoras_caches_are_charged_to_the_budget_and_given_back_with_their_namespace() {
    let app = TestApp::new();
    let token = token_at(&app, "/__ns/cached").await;
    let bearer = format!("Bearer {token}");
    for n in 0..3 {
        let listed = app
            .get_with(
                &format!("/__ns/cached/api/v1/users?page=1&x={n}"),
                &[("authorization", &bearer)],
            )
            .await;
        assert_eq!(listed.status, StatusCode::OK);
    }

    let usage = memory(&app).await;
    delete(&app, "/__doublure/namespaces/cached").await;
    let gone = memory(&app).await;

    let caches = usage["cache_bytes"].as_u64().unwrap();
    assert!(caches > 3 * 200, "a token and three pages: {usage}");
    assert_eq!(
        usage["used_bytes"].as_u64().unwrap(),
        usage["journal_bytes"].as_u64().unwrap() + caches,
        "{usage}"
    );
    assert_eq!(gone["cache_bytes"], 0, "{gone}");
}

#[tokio::test]
async fn a_dropped_namespace_gives_its_journals_memory_back() {
    let app = TestApp::new();
    app.get(&heavy("/__ns/gone", 0)).await;
    let before = memory(&app).await["journal_bytes"].as_u64().unwrap();

    delete(&app, "/__doublure/namespaces/gone").await;

    assert!(before > 4000, "{before}");
    assert_eq!(memory(&app).await["journal_bytes"], 0);
}

#[tokio::test]
async fn the_memory_route_says_the_budget_and_each_use_and_is_documented() {
    let app = TestApp::new();
    app.get("/api/v1/users").await;

    let usage = memory(&app).await;
    let document = app.get("/__doublure/openapi.json").await.json();

    let journal = usage["journal_bytes"].as_u64().unwrap();
    assert!(journal > 0);
    assert_eq!(
        usage,
        json!({
            "budget_bytes": 256 << 20,
            "used_bytes": journal,
            "journal_bytes": journal,
            "nonce_bytes": 0,
            "stream_bytes": 0,
            "streams": 0,
            "cache_bytes": 0,
            "max_streams": 64,
            "refused_calls": 0,
            "refusals_not_journaled": 0,
        })
    );
    let schema = &document["components"]["schemas"]["Usage"]["properties"];
    let mut documented: Vec<&str> = schema
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    let mut served: Vec<&str> = usage
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    documented.sort_unstable();
    served.sort_unstable();
    assert_eq!(documented, served);
}

#[tokio::test]
async fn past_max_streams_a_new_stream_gets_a_429_in_the_control_planes_format_until_one_closes() {
    let app = TestApp::with_state(AppState::for_tests_with(Settings {
        max_streams: 2,
        ..Settings::for_tests()
    }));
    let first = app.open("/__doublure/requests/stream", &[]).await;
    let second = app.open("/__ns/a/__doublure/requests/stream", &[]).await;

    let third = app.get("/__ns/b/__doublure/requests/stream").await;
    let usage = memory(&app).await;
    drop(first);
    let again = app.open("/__doublure/requests/stream", &[]).await;

    assert_eq!(second.status, StatusCode::OK);
    assert_error(
        &third,
        StatusCode::TOO_MANY_REQUESTS,
        "too many journal streams: 2 are open and --max-streams is 2; close one (or raise \
         --max-streams)",
    );
    assert_eq!(
        (usage["streams"].as_u64(), usage["stream_bytes"].as_u64()),
        (Some(2), Some(2 * 16384))
    );
    assert_eq!(again.status, StatusCode::OK);
}

#[tokio::test]
async fn a_stream_that_fell_behind_the_ring_gets_a_lagged_event_then_what_the_ring_kept() {
    let app = TestApp::with_state(AppState::for_tests_with(Settings {
        journal_size: 3,
        ..Settings::for_tests()
    }));
    let mut live = app.open("/__doublure/requests/stream", &[]).await;

    for _ in 0..10 {
        app.get("/api/v1/users").await;
    }

    assert_eq!(
        live.frame().await.as_deref(),
        Some("event: lagged\ndata: {\"skipped\":7,\"after\":0}\n\n")
    );
    let ids = [
        live.event().await.1,
        live.event().await.1,
        live.event().await.1,
    ];
    assert_eq!(ids, ["8", "9", "10"]);
}

#[tokio::test]
async fn a_namespace_deleted_ends_its_streams_with_a_last_event_that_says_why() {
    let app = TestApp::new();
    app.get("/__ns/x/api/v1/users").await;
    let mut live = app.open("/__ns/x/__doublure/requests/stream", &[]).await;

    delete(&app, "/__doublure/namespaces/x").await;

    assert_eq!(
        live.frame().await.as_deref(),
        Some(
            "event: end\ndata: {\"reason\":\"namespace \\\"x\\\" was dropped (DELETE \
             /__doublure/namespaces/x)\"}\n\n"
        )
    );
    assert_eq!(live.frame().await, None, "then the stream ends");
    let usage = memory(&app).await;
    assert_eq!(
        (usage["journal_bytes"].as_u64(), usage["streams"].as_u64()),
        (Some(0), Some(0)),
        "the dropped journal is let go"
    );
}

#[tokio::test]
async fn a_namespace_expired_ends_its_streams_with_a_last_event_naming_the_ttl() {
    let mut settings = Settings::for_tests();
    settings.namespace_ttl = std::time::Duration::from_secs(600);
    let app = TestApp::with_state(AppState::for_tests_with(settings));
    let mut live = app.open("/__ns/idle/__doublure/requests/stream", &[]).await;
    let registry = app.state.namespaces();

    registry.clock().advance(TimeDelta::seconds(601));
    assert_eq!(registry.sweep(), ["idle"]);

    assert_eq!(
        live.frame().await.as_deref(),
        Some(
            "event: end\ndata: {\"reason\":\"namespace \\\"idle\\\" was dropped after 601 s \
             without a request (--namespace-ttl 600 s)\"}\n\n"
        )
    );
    assert_eq!(live.frame().await, None);
}

#[tokio::test]
async fn a_stream_the_budget_has_no_room_for_gets_a_503_with_retry_after() {
    let app = TestApp::with_state(AppState::for_tests_with(Settings {
        memory_budget: 1024,
        ..Settings::for_tests()
    }));

    let refused = app.get("/__doublure/requests/stream").await;

    assert_error(
        &refused,
        StatusCode::SERVICE_UNAVAILABLE,
        "the memory budget is spent (--memory-budget): no room for one more journal stream; \
         retry later",
    );
    assert_eq!(refused.header("retry-after"), "1");
}
