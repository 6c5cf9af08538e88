//! The server's memory budget (`--memory-budget`) across namespaces, and
//! the live journal streams' limits: `--max-streams`, a reader that falls
//! behind the ring, and streams that end with their namespace.

use axum::http::StatusCode;
use chrono::TimeDelta;
use doublure::testing::AppState;
use doublure::testing::budget::{dataset_charge, item_charge};
use doublure::testing::config::Settings;
use serde_json::{Value, json};

use crate::common::TestApp;
use crate::common::control::{assert_error, delete, patch, post, post_empty, put};
use crate::common::logora::{minted_token, token, token_at};

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
            "data_bytes": 0,
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

/// A w.c.s. user to create, numbered `n`, with `pad` bytes of address.
fn wcs_user(n: u64, pad: usize) -> Value {
    json!({
        "id": 1000 + n,
        "name": format!("Padded {n}"),
        "email": format!("padded{n}@example.net"),
        "name_identifiers": [format!("{n:032x}")],
        "fields": {"address": "a".repeat(pad)},
    })
}

/// The control plane's refusal of a change the budget of `limit` bytes
/// has no room for.
fn no_room(limit: usize, what: &str) -> String {
    format!(
        "the memory budget is spent (--memory-budget {limit} bytes, every namespace together) \
         and no journal can give enough back: no room for {what}; nothing was changed; retry \
         later"
    )
}

/// A namespace whose data filled a budget of `limit` bytes: w.c.s. users
/// of 2 KB, then minted tokens, until neither has room.
async fn full(limit: usize) -> TestApp {
    let app = TestApp::with_state(AppState::for_tests_with(Settings {
        memory_budget: limit,
        ..Settings::for_tests()
    }));
    let mut n = 0;
    while post(&app, "/__ns/full/__doublure/wcs/users", wcs_user(n, 2000))
        .await
        .status
        == StatusCode::CREATED
    {
        n += 1;
        assert!(n < 100, "the budget never refused a user");
    }
    for _ in 0..100 {
        let minted = post(
            &app,
            "/__ns/full/__doublure/logora/tokens",
            json!({"client_id": "API_KEY"}),
        )
        .await;
        if minted.status == StatusCode::SERVICE_UNAVAILABLE {
            return app;
        }
        assert_eq!(minted.status, StatusCode::CREATED, "{}", minted.text());
    }
    panic!("the budget never refused a token");
}

/// What the control plane has charged for data, everywhere.
async fn data_bytes(app: &TestApp) -> u64 {
    memory(app).await["data_bytes"].as_u64().unwrap()
}

/// What creating `answer`'s item charged: its JSON, as stored and shown.
fn charged_for(answer: &crate::common::TestResponse) -> u64 {
    item_charge(answer.body.len()) as u64
}

#[tokio::test]
async fn a_data_write_past_the_budget_gets_a_503_with_retry_after_and_changes_nothing() {
    // Arrange: room for a few users of some 2 KiB each, and nothing else.
    let app = TestApp::with_state(AppState::for_tests_with(Settings {
        memory_budget: 64 << 10,
        ..Settings::for_tests()
    }));
    let mut created = 0;
    let refused = loop {
        let answer = post(
            &app,
            "/__ns/full/__doublure/wcs/users",
            wcs_user(created, 2000),
        )
        .await;
        if answer.status != StatusCode::CREATED {
            break answer;
        }
        created += 1;
        assert!(created < 100, "the budget never refused");
    };
    let before = memory(&app).await;
    let seed_user = app.get("/__ns/full/__doublure/wcs/users/1").await.json();
    let state = app.get("/__ns/full/__doublure/state").await.json();

    // Act
    let patched = patch(
        &app,
        "/__ns/full/__doublure/wcs/users/1",
        json!({"name": "x".repeat(20_000)}),
    )
    .await;
    let rule = post(
        &app,
        "/__ns/full/__doublure/faults",
        json!({"path": "/api/", "status": 500, "client_id": "p".repeat(20_000)}),
    )
    .await;
    let imported = put(&app, "/__ns/full/__doublure/state", state.clone()).await;

    // Assert
    let limit = 64 << 10;
    assert_error(
        &refused,
        StatusCode::SERVICE_UNAVAILABLE,
        &format!(
            "the memory budget is spent (--memory-budget {limit} bytes, every namespace \
             together) and no journal can give enough back: no room for the item \
             wcs/users.json {}; nothing was changed; retry later",
            1000 + created
        ),
    );
    assert_eq!(refused.header("retry-after"), "1");
    assert_error(
        &patched,
        StatusCode::SERVICE_UNAVAILABLE,
        &no_room(limit, "the item wcs/users.json 1"),
    );
    assert_eq!(patched.header("retry-after"), "1");
    assert_error(
        &rule,
        StatusCode::SERVICE_UNAVAILABLE,
        &no_room(limit, "a fault rule"),
    );
    assert_eq!(rule.header("retry-after"), "1");
    assert_error(
        &imported,
        StatusCode::SERVICE_UNAVAILABLE,
        &format!(
            "the memory budget is spent (--memory-budget {limit} bytes, every namespace \
             together) and no journal can give enough back: no room for an imported state; \
             nothing was changed; retry later"
        ),
    );
    assert_eq!(
        app.get("/__ns/full/__doublure/state").await.json(),
        state,
        "the refused import changed nothing"
    );
    assert!((3..=30).contains(&created), "{created} users fit");
    let missing = app
        .get(&format!(
            "/__ns/full/__doublure/wcs/users/{}",
            1000 + created
        ))
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_eq!(
        app.get("/__ns/full/__doublure/wcs/users/1").await.json(),
        seed_user,
        "the refused PATCH changed nothing"
    );
    assert_eq!(
        app.get("/__ns/full/__doublure/faults").await.json(),
        json!({"faults": []})
    );
    let after = memory(&app).await;
    assert_eq!(after["data_bytes"], before["data_bytes"]);
    assert_eq!(after["used_bytes"], before["used_bytes"]);
    assert_eq!(after["refused_calls"], 4);
}

#[tokio::test]
async fn data_is_charged_when_kept_and_given_back_on_delete_reset_state_import_and_namespace_drop()
{
    let app = TestApp::new();
    let empty = memory(&app).await;
    let ns = "/__ns/kept/__doublure";

    // A created user is charged its JSON and the nodes its change copies;
    // a delete gives it back.
    let created = post(&app, &format!("{ns}/wcs/users"), wcs_user(1, 100)).await;
    assert_eq!(created.status, StatusCode::CREATED);
    let one = memory(&app).await;
    assert_eq!(one["data_bytes"].as_u64(), Some(charged_for(&created)));
    assert_eq!(
        one["used_bytes"].as_u64().unwrap() - empty["used_bytes"].as_u64().unwrap(),
        charged_for(&created)
    );
    assert_eq!(
        delete(&app, &format!("{ns}/wcs/users/1001")).await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(memory(&app).await, empty, "given back on delete");

    // A replaced user is charged the difference.
    post(&app, &format!("{ns}/wcs/users"), wcs_user(2, 100)).await;
    let bigger = patch(
        &app,
        &format!("{ns}/wcs/users/1002"),
        json!({"fields": {"address": "b".repeat(1000)}}),
    )
    .await;
    assert_eq!(bigger.status, StatusCode::OK);
    assert_eq!(
        memory(&app).await["data_bytes"].as_u64(),
        Some(charged_for(&bigger))
    );

    // A reset gives everything back, fault rules and tokens included.
    let rule = post(&app, &format!("{ns}/faults"), json!({"status": 500})).await;
    assert_eq!(rule.status, StatusCode::CREATED);
    let minted = post(
        &app,
        &format!("{ns}/logora/tokens"),
        json!({"client_id": "API_KEY"}),
    )
    .await;
    assert_eq!(minted.status, StatusCode::CREATED, "{}", minted.text());
    assert!(memory(&app).await["data_bytes"].as_u64() > Some(charged_for(&bigger)));
    assert_eq!(
        post_empty(&app, &format!("{ns}/reset")).await.status,
        StatusCode::OK
    );
    assert_eq!(memory(&app).await, empty, "given back on reset");

    // A state import is charged as a whole, what it replaces given back.
    post(&app, &format!("{ns}/wcs/users"), wcs_user(3, 100)).await;
    let state = app.get(&format!("{ns}/state")).await;
    let imported = put(&app, &format!("{ns}/state"), state.json()).await;
    assert_eq!(imported.status, StatusCode::OK, "{}", imported.text());
    let whole = serde_json::to_vec(&state.json()).unwrap().len();
    let items = ["logora/users.json", "wcs/users.json", "wcs/forms.json"]
        .iter()
        .map(|file| state.json()[file].as_array().unwrap().len())
        .sum();
    assert_eq!(
        memory(&app).await["data_bytes"].as_u64(),
        Some(dataset_charge(whole, items) as u64)
    );
    assert_eq!(
        post_empty(&app, &format!("{ns}/reset")).await.status,
        StatusCode::OK
    );
    assert_eq!(
        memory(&app).await,
        empty,
        "given back on reset after an import"
    );

    // A dropped namespace gives back all it held.
    post(&app, &format!("{ns}/wcs/users"), wcs_user(4, 100)).await;
    post(&app, &format!("{ns}/faults"), json!({"status": 500})).await;
    assert_ne!(memory(&app).await, empty);
    delete(&app, "/__doublure/namespaces/kept").await;
    assert_eq!(memory(&app).await, empty, "given back with the namespace");
}

#[tokio::test]
async fn fault_rules_are_charged_and_given_back_one_by_one_or_all_at_once() {
    let app = TestApp::new();
    let empty = memory(&app).await;

    let first = post(&app, "/__doublure/faults", json!({"status": 500})).await;
    post(&app, "/__doublure/faults", json!({"status": 502})).await;
    let two = memory(&app).await["data_bytes"].as_u64().unwrap();
    let id = first.json()["id"].as_u64().unwrap();
    delete(&app, &format!("/__doublure/faults/{id}")).await;
    let one = memory(&app).await["data_bytes"].as_u64().unwrap();
    delete(&app, "/__doublure/faults").await;

    assert!(two > one && one > 0, "{two} then {one}");
    assert_eq!(memory(&app).await, empty);
}

#[tokio::test]
async fn a_data_write_that_fits_once_journals_give_back_their_oldest_entries_succeeds() {
    // Arrange: a namespace's journal fills the budget.
    let app = TestApp::with_state(AppState::for_tests_with(Settings {
        memory_budget: 200 << 10,
        ..Settings::for_tests()
    }));
    for n in 0..100 {
        app.get(&heavy("/__ns/flood", n)).await;
    }
    let before = memory(&app).await;

    // Act
    let created = post(
        &app,
        "/__ns/arranged/__doublure/wcs/users",
        wcs_user(1, 40_000),
    )
    .await;

    // Assert
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text());
    let after = memory(&app).await;
    let journals = |usage: &Value| usage["journal_bytes"].as_u64().unwrap();
    let budget = 200 << 10;
    assert!(
        journals(&before) + charged_for(&created) > budget,
        "the budget had no room before: {before}"
    );
    assert!(
        journals(&after) < journals(&before),
        "{before} then {after}"
    );
    assert_eq!(after["data_bytes"].as_u64(), Some(charged_for(&created)));
    assert_eq!(after["refused_calls"], 0);
}

#[tokio::test]
async fn data_held_by_a_namespace_that_expires_is_given_back() {
    let mut settings = Settings::for_tests();
    settings.namespace_ttl = std::time::Duration::from_secs(600);
    let app = TestApp::with_state(AppState::for_tests_with(settings));
    let empty = memory(&app).await;
    let created = post(&app, "/__ns/idle/__doublure/wcs/users", wcs_user(1, 100)).await;
    let held = memory(&app).await;
    let registry = app.state.namespaces();

    registry.clock().advance(TimeDelta::seconds(601));
    assert_eq!(registry.sweep(), ["idle"]);

    assert_eq!(held["data_bytes"].as_u64(), Some(charged_for(&created)));
    assert_eq!(memory(&app).await, empty);
}

#[tokio::test]
async fn a_reload_gives_back_the_data_its_namespace_held_and_charges_the_seed_to_no_one() {
    let app = TestApp::new();
    let empty = memory(&app).await;
    let created = post(&app, "/__doublure/wcs/users", wcs_user(1, 100)).await;
    assert_eq!(created.status, StatusCode::CREATED);

    let reloaded = post_empty(&app, "/__doublure/reload").await;

    assert_eq!(reloaded.status, StatusCode::OK);
    assert_eq!(memory(&app).await, empty);
}

#[tokio::test]
async fn on_a_full_budget_a_change_that_would_be_refused_anyway_gets_its_own_400_404_or_409() {
    // Arrange
    let limit = 64 << 10;
    let app = full(limit).await;
    let ns = "/__ns/full/__doublure";
    let before = memory(&app).await;

    // Act
    let taken = post(&app, &format!("{ns}/wcs/users"), wcs_user(0, 10)).await;
    let no_collection = post(&app, &format!("{ns}/wcs/nothing"), json!({"id": 1})).await;
    let not_object = post(&app, &format!("{ns}/wcs/users"), json!([1])).await;
    let no_item = patch(&app, &format!("{ns}/wcs/users/99999"), json!({"name": "x"})).await;
    let bad_rule = post(&app, &format!("{ns}/faults"), json!({"status": 200})).await;
    let no_client = post(
        &app,
        &format!("{ns}/logora/tokens"),
        json!({"client_id": "NOBODY".repeat(10)}),
    )
    .await;
    let no_scope = post(
        &app,
        &format!("{ns}/logora/tokens"),
        json!({"client_id": "API_KEY", "scope": "nothing ".repeat(10)}),
    )
    .await;

    // Assert
    assert_error(
        &taken,
        StatusCode::CONFLICT,
        "wcs/users already has an item with id 1000",
    );
    assert_eq!(no_collection.status, StatusCode::NOT_FOUND);
    assert!(
        no_collection.json()["error"]
            .as_str()
            .unwrap()
            .starts_with("no collection wcs/nothing; collections: "),
        "{}",
        no_collection.text()
    );
    assert_error(
        &not_object,
        StatusCode::BAD_REQUEST,
        "expected a JSON object, got an array",
    );
    assert_error(
        &no_item,
        StatusCode::NOT_FOUND,
        "no item with id 99999 in wcs/users",
    );
    assert_error(
        &bad_rule,
        StatusCode::BAD_REQUEST,
        "status 200 is not an error status (400 to 599)",
    );
    assert_error(
        &no_client,
        StatusCode::NOT_FOUND,
        &format!(
            "no client {:?} in logora/clients.json (Client authentication failed due to \
             unknown client, no client authentication included, or unsupported \
             authentication method.)",
            "NOBODY".repeat(10)
        ),
    );
    assert_error(
        &no_scope,
        StatusCode::BAD_REQUEST,
        "invalid_scope: The requested scope is invalid, unknown, or malformed.",
    );
    let after = memory(&app).await;
    assert_eq!(after["data_bytes"], before["data_bytes"]);
    assert_eq!(after["refused_calls"], before["refused_calls"]);
}

#[tokio::test]
async fn fault_rules_and_minted_tokens_keep_their_charge_across_a_reload_and_a_state_import() {
    // Arrange: a rule and a token, and a user a reload and an import
    // replace.
    let app = TestApp::new();
    let empty = data_bytes(&app).await;
    let rule = post(&app, "/__doublure/faults", json!({"status": 500})).await;
    assert_eq!(rule.status, StatusCode::CREATED, "{}", rule.text());
    minted_token(&app, "API_KEY", None).await;
    let kept = data_bytes(&app).await - empty;
    let user = post(&app, "/__doublure/wcs/users", wcs_user(1, 100)).await;
    assert_eq!(user.status, StatusCode::CREATED, "{}", user.text());

    // Act
    let reloaded = post_empty(&app, "/__doublure/reload").await;
    let after_reload = data_bytes(&app).await;
    let state = app.get("/__doublure/state").await.json();
    let imported = put(&app, "/__doublure/state", state.clone()).await;
    let after_import = data_bytes(&app).await;

    // Assert
    assert_eq!(reloaded.status, StatusCode::OK, "{}", reloaded.text());
    assert_eq!(imported.status, StatusCode::OK, "{}", imported.text());
    assert!(kept > 0);
    assert_eq!(
        after_reload,
        empty + kept,
        "the rule and the token stay charged"
    );
    let whole = serde_json::to_vec(&state).unwrap().len();
    let items = ["logora/users.json", "wcs/users.json", "wcs/forms.json"]
        .iter()
        .map(|file| state[file].as_array().unwrap().len())
        .sum();
    assert_eq!(
        after_import,
        empty + kept + dataset_charge(whole, items) as u64
    );
    assert_eq!(
        app.get("/__doublure/faults").await.json()["faults"]
            .as_array()
            .unwrap()
            .len(),
        1,
        "the rule is still there, and charged"
    );
    assert_eq!(
        post_empty(&app, "/__doublure/reset").await.status,
        StatusCode::OK
    );
    assert_eq!(data_bytes(&app).await, empty);
}

/// Logora user 21, made user `id` with a uid of its own.
async fn logora_user(app: &TestApp, id: u64) -> Value {
    let mut user = app.get("/__doublure/logora/users/21").await.json();
    user["id"] = json!(id);
    user["uid"] = json!(format!("uid-{id}"));
    user["slug"] = json!(format!("slug-{id}"));
    user
}

#[tokio::test]
async fn an_id_changed_through_a_url_that_spells_it_otherwise_moves_its_charge_to_the_new_id() {
    // Arrange
    let app = TestApp::new();
    let empty = data_bytes(&app).await;
    let created = post(
        &app,
        "/__doublure/logora/users",
        logora_user(&app, 3000).await,
    )
    .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text());

    // Act: the URLs write the ids with a leading zero, which finds them.
    let moved = patch(&app, "/__doublure/logora/users/03000", json!({"id": 3001})).await;
    let charged = data_bytes(&app).await;
    let removed = delete(&app, "/__doublure/logora/users/03001").await;

    // Assert
    assert_eq!(moved.status, StatusCode::OK, "{}", moved.text());
    assert_eq!(moved.json()["id"], 3001);
    assert_eq!(charged, empty + charged_for(&moved));
    assert_eq!(removed.status, StatusCode::NO_CONTENT);
    assert_eq!(data_bytes(&app).await, empty);
}

#[tokio::test]
async fn a_draft_is_charged_when_kept_and_given_back_when_deleted() {
    // Arrange
    let app = TestApp::new();
    let empty = data_bytes(&app).await;

    // Act
    let created = post(
        &app,
        "/__doublure/wcs/drafts",
        json!({"id": 4000, "formdef_id": "4", "user_id": 1, "receipt_time": "2014-07-21 10:15:21"}),
    )
    .await;
    let held = data_bytes(&app).await;
    let changed = patch(
        &app,
        "/__doublure/wcs/drafts/4000",
        json!({"receipt_time": "2015-07-21 10:15:21"}),
    )
    .await;
    let after_change = data_bytes(&app).await;
    let removed = delete(&app, "/__doublure/wcs/drafts/4000").await;

    // Assert
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text());
    assert_eq!(held, empty + charged_for(&created));
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.text());
    assert_eq!(after_change, empty + charged_for(&changed));
    assert_eq!(removed.status, StatusCode::NO_CONTENT);
    assert_eq!(data_bytes(&app).await, empty);
}

#[tokio::test]
async fn a_logora_user_deleted_through_the_api_gives_back_what_the_control_plane_charged_for_it() {
    // Arrange: users made through the control plane, a token of the
    // API's own (not charged).
    let app = TestApp::new();
    let token = token(&app, "public authentication").await;
    let empty = data_bytes(&app).await;

    for id in [3000, 3001, 3002] {
        let created = post(
            &app,
            "/__doublure/logora/users",
            logora_user(&app, id).await,
        )
        .await;
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.text());

        // Act
        let deleted = app
            .json(
                "DELETE",
                &format!("/api/v1/users/uid-{id}"),
                None,
                &[("authorization", &format!("Bearer {token}"))],
            )
            .await;

        // Assert
        assert_eq!(deleted.status, StatusCode::OK, "{}", deleted.text());
        assert_eq!(deleted.json(), json!({"success": true}));
        assert_eq!(data_bytes(&app).await, empty, "user {id}");
    }
}
