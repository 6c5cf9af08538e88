//! Namespaces: everything at `/X` is also at `/__ns/{name}/X`, on that
//! namespace's own data, clock, tokens, nonces, journal and faults.

use std::sync::Arc;

use crate::common::control::{assert_json, delete, journal_paths, patch, post, post_empty};
use crate::common::logora::{token_at, users_at};
use crate::common::{Served, TestApp, TestResponse};
use axum::http::StatusCode;
use chrono::TimeDelta;
use doublure::testing::AppState;
use doublure::testing::config::Settings;
use serde_json::{Value, json};

const J: (&str, &str) = ("content-type", "application/json");

async fn total(app: &TestApp, prefix: &str) -> String {
    let response = app
        .get(&format!("{prefix}/api/v1/users?api_key=API_KEY"))
        .await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.text());
    response.header("total").to_owned()
}

async fn clock(app: &TestApp, prefix: &str) -> Value {
    app.get(&format!("{prefix}/__doublure/clock")).await.json()
}

/// The names of the namespaces listed at the root.
async fn namespace_names(app: &TestApp) -> Vec<String> {
    app.get("/__doublure/namespaces").await.json()["namespaces"]
        .as_array()
        .expect("a namespaces array")
        .iter()
        .map(|n| n["name"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn a_namespace_serves_both_apis_and_the_control_plane_under_its_prefix() {
    let app = TestApp::new();
    let token = token_at(&app, "/__ns/alpha").await;
    let page = users_at(&app, "/__ns/alpha", "?per_page=2", &token).await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(page.header("total"), "48");
    let signed = post(
        &app,
        "/__ns/alpha/__doublure/wcs/sign",
        json!({"url": "/api/user/", "orig": "demo", "email": "fred@example.net"}),
    )
    .await;
    let url = signed.json()["url"].as_str().unwrap().to_owned();
    assert!(
        url.starts_with(
            "http://localhost:8080/__ns/alpha/api/user/?email=fred%40example.net&orig=demo&"
        ),
        "{url}"
    );
    let path = url.strip_prefix("http://localhost:8080").unwrap();
    let profile = app.get(path).await;
    assert_eq!(profile.status, StatusCode::OK, "{}", profile.text());
    assert_eq!(profile.json()["user_email"], "fred@example.net");
    assert_eq!(
        journal_paths(&app, "/__ns/alpha").await,
        ["/oauth/token", "/api/v1/users", "/api/user/"]
    );
    assert!(journal_paths(&app, "").await.is_empty());
}

#[tokio::test]
async fn absolute_urls_carry_the_prefix() {
    let app = TestApp::new();
    let page = app
        .get("/__ns/beta/api/v1/users?api_key=API_KEY&per_page=20&page=2")
        .await;
    assert_eq!(
        page.header("link"),
        "<http://localhost:8080/__ns/beta/api/v1/users?api_key=API_KEY&per_page=20&page=1>; rel=\"first\", \
         <http://localhost:8080/__ns/beta/api/v1/users?api_key=API_KEY&per_page=20&page=1>; rel=\"prev\", \
         <http://localhost:8080/__ns/beta/api/v1/users?api_key=API_KEY&per_page=20&page=3>; rel=\"next\", \
         <http://localhost:8080/__ns/beta/api/v1/users?api_key=API_KEY&per_page=20&page=3>; rel=\"last\""
    );
    let signed = post(
        &app,
        "/__ns/beta/__doublure/wcs/sign",
        json!({"url": "/api/user/forms?limit=1", "orig": "demo", "email": "fred@example.net"}),
    )
    .await;
    let signed = signed.json()["url"].as_str().unwrap().to_owned();
    let forms = app
        .get(signed.strip_prefix("http://localhost:8080").unwrap())
        .await;
    assert_eq!(forms.status, StatusCode::OK, "{}", forms.text());
    let url = forms.json()["data"][0]["url"].as_str().unwrap().to_owned();
    assert!(url.starts_with("http://localhost:8080/__ns/beta/"), "{url}");
    let redirect = app.get("/__ns/beta/user").await;
    assert_eq!(redirect.status, StatusCode::FOUND);
    assert_eq!(
        redirect.header("location"),
        "http://localhost:8080/__ns/beta/myspace/"
    );
    let slash = app.get("/__ns/beta/api/user").await;
    assert_eq!(slash.status, StatusCode::MOVED_PERMANENTLY);
    assert_eq!(slash.header("location"), "/__ns/beta/api/user/");
}

#[tokio::test]
async fn a_token_of_one_namespace_is_invalid_in_another_and_at_the_root() {
    let app = TestApp::new();
    let token = token_at(&app, "/__ns/one").await;
    assert_eq!(
        users_at(&app, "/__ns/one", "", &token).await.status,
        StatusCode::OK
    );
    for prefix in ["/__ns/two", ""] {
        let refused = users_at(&app, prefix, "", &token).await;
        assert_eq!(refused.status, StatusCode::UNAUTHORIZED, "{prefix}");
        assert_eq!(
            refused.json()["error_description"],
            "The access token is invalid"
        );
    }
    let root_token = token_at(&app, "").await;
    assert_eq!(
        users_at(&app, "/__ns/one", "", &root_token).await.status,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn a_namespace_dropped_and_made_again_does_not_take_its_old_tokens() {
    let app = TestApp::new();
    let token = token_at(&app, "/__ns/again").await;
    let dropped = delete(&app, "/__doublure/namespaces/again").await;
    assert_eq!(dropped.status, StatusCode::NO_CONTENT);
    let refused = users_at(&app, "/__ns/again", "", &token).await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_reset_clock_move_fault_and_data_change_in_one_namespace_are_invisible_elsewhere() {
    let app = Arc::new(TestApp::new());
    let busy = "/__ns/busy";
    let quiet = "/__ns/quiet";
    // Both used at once from many tasks while `busy` is changed.
    let mut tasks = Vec::new();
    for n in 0..16 {
        let app = Arc::clone(&app);
        tasks.push(tokio::spawn(async move {
            let prefix = if n % 2 == 0 { busy } else { quiet };
            for _ in 0..10 {
                let response = app
                    .get(&format!("{prefix}/api/v1/users?api_key=API_KEY&per_page=1"))
                    .await;
                assert!(
                    matches!(response.status.as_u16(), 200 | 503),
                    "{}",
                    response.text()
                );
            }
        }));
    }
    let changed = patch(
        &app,
        &format!("{busy}/__doublure/logora/users/21"),
        json!({"city": "Lyon"}),
    )
    .await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.text());
    let removed = delete(&app, &format!("{busy}/__doublure/logora/users/22")).await;
    assert_eq!(removed.status, StatusCode::NO_CONTENT);
    post(
        &app,
        &format!("{busy}/__doublure/clock/advance"),
        json!({"seconds": 7201}),
    )
    .await;
    let fault = post(
        &app,
        &format!("{busy}/__doublure/faults"),
        json!({"path": "/api/user/*", "status": 503}),
    )
    .await;
    assert_eq!(fault.status, StatusCode::CREATED);
    for task in tasks {
        task.await.unwrap();
    }

    assert_eq!(total(&app, busy).await, "47");
    assert_eq!(total(&app, quiet).await, "48");
    assert_eq!(total(&app, "").await, "48");
    let city = |prefix: &'static str| {
        let app = Arc::clone(&app);
        async move {
            app.get(&format!("{prefix}/__doublure/logora/users/21"))
                .await
                .json()["city"]
                .clone()
        }
    };
    assert_eq!(city(busy).await, "Lyon");
    assert_ne!(city(quiet).await, "Lyon");
    assert_ne!(city("").await, "Lyon");
    assert_eq!(clock(&app, busy).await["now"], "2026-01-15T12:00:01Z");
    assert_eq!(clock(&app, quiet).await["now"], "2026-01-15T10:00:00Z");
    assert_eq!(clock(&app, "").await["now"], "2026-01-15T10:00:00Z");
    let basic = [(
        "authorization",
        "Basic cGF1bC5kdXJhbmRAZXhhbXBsZS5vcmc6cGF1bC1wYXNzd29yZA==",
    )];
    assert_eq!(
        app.get_with(&format!("{busy}/api/user/"), &basic)
            .await
            .status,
        StatusCode::SERVICE_UNAVAILABLE
    );
    assert_eq!(
        app.get_with(&format!("{quiet}/api/user/"), &basic)
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(
        app.get_with("/api/user/", &basic).await.status,
        StatusCode::OK
    );

    // A reset of `busy` brings it back, and leaves the others alone.
    patch(
        &app,
        &format!("{quiet}/__doublure/logora/users/21"),
        json!({"city": "Metz"}),
    )
    .await;
    let reset = post_empty(&app, &format!("{busy}/__doublure/reset")).await;
    assert_eq!(reset.status, StatusCode::OK);
    assert_eq!(total(&app, busy).await, "48");
    assert_eq!(clock(&app, busy).await["now"], "2026-01-15T10:00:00Z");
    assert_eq!(city(quiet).await, "Metz");
    assert_eq!(
        app.get_with(&format!("{busy}/api/user/"), &basic)
            .await
            .status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn the_namespace_list_shows_each_one_with_its_use_and_delete_drops_it() {
    let app = TestApp::new();
    app.get("/__ns/listed/__doublure/clock").await;
    app.get("/__ns/listed/api/v1/users?api_key=API_KEY").await;
    app.get("/__ns/other/__doublure/health").await;
    let list = app.get("/__doublure/namespaces").await;
    assert_eq!(list.status, StatusCode::OK);
    assert_eq!(
        list.json(),
        json!({"namespaces": [
            {"name": "listed", "created": "2026-01-15T10:00:00.000Z",
             "last_used": "2026-01-15T10:00:00.000Z", "requests": 2},
            {"name": "other", "created": "2026-01-15T10:00:00.000Z",
             "last_used": "2026-01-15T10:00:00.000Z", "requests": 1},
        ]})
    );
    // The same list under a prefix, and asking it makes no namespace.
    let under = app.get("/__ns/nobody/__doublure/namespaces").await;
    assert_eq!(under.json(), list.json());
    let dropped = delete(&app, "/__ns/x/__doublure/namespaces/listed").await;
    assert_eq!(dropped.status, StatusCode::NO_CONTENT);
    let again = delete(&app, "/__doublure/namespaces/listed").await;
    assert_eq!(again.status, StatusCode::NOT_FOUND);
    assert_eq!(again.json(), json!({"error": "no namespace \"listed\""}));
    assert_eq!(namespace_names(&app).await, ["other"]);
}

#[tokio::test]
async fn an_idle_namespace_expires_after_its_ttl_and_a_used_one_stays() {
    let mut settings = Settings::for_tests();
    settings.namespace_ttl = std::time::Duration::from_secs(600);
    let app = TestApp::with_state(AppState::for_tests_with(settings));
    app.get("/__ns/idle/__doublure/clock").await;
    app.get("/__ns/busy/__doublure/clock").await;
    let registry = app.state.namespaces();
    registry.clock().advance(TimeDelta::seconds(400));
    app.get("/__ns/busy/__doublure/clock").await;
    assert!(registry.sweep().is_empty(), "nothing idle for 600 s yet");
    registry.clock().advance(TimeDelta::seconds(201));
    assert_eq!(registry.sweep(), ["idle"]);
    assert_eq!(namespace_names(&app).await, ["busy"]);
}

#[tokio::test]
async fn one_namespace_over_the_cap_is_refused_with_429_naming_the_limit() {
    let mut settings = Settings::for_tests();
    settings.max_namespaces = 2;
    settings.namespace_ttl = std::time::Duration::from_secs(600);
    let app = TestApp::with_state(AppState::for_tests_with(settings));
    assert_eq!(
        app.get("/__ns/a/__doublure/clock").await.status,
        StatusCode::OK
    );
    assert_eq!(
        app.get("/__ns/b/__doublure/clock").await.status,
        StatusCode::OK
    );
    let refused = app.get("/__ns/c/__doublure/clock").await;
    assert_eq!(refused.status, StatusCode::TOO_MANY_REQUESTS);
    assert_json(
        &refused,
        StatusCode::TOO_MANY_REQUESTS,
        json!({
            "error": "too many namespaces: 2 are live and --max-namespaces is 2; DELETE /__doublure/namespaces/{name} the ones you are done with, or wait for idle ones to expire (--namespace-ttl 600 s)"
        }),
    );
    // A live namespace is never evicted; an idle one makes room.
    assert_eq!(
        app.get("/__ns/a/__doublure/clock").await.status,
        StatusCode::OK
    );
    app.state
        .namespaces()
        .clock()
        .advance(TimeDelta::seconds(601));
    app.get("/__ns/a/__doublure/clock").await;
    assert_eq!(
        app.get("/__ns/c/__doublure/clock").await.status,
        StatusCode::OK
    );
    let names: Vec<Value> = app.get("/__doublure/namespaces").await.json()["namespaces"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["name"].clone())
        .collect();
    assert_eq!(names, [json!("a"), json!("c")]);
}

#[tokio::test]
async fn invalid_names_are_a_400_in_the_control_planes_format() {
    let app = TestApp::new();
    let long = "n".repeat(65);
    for (path, why) in [
        (
            "/__ns/a%20b/__doublure/clock".to_owned(),
            "namespace name \"a%20b\" has '%'; use letters, digits, '.', '_' and '-'".to_owned(),
        ),
        (
            format!("/__ns/{long}/api/v1/users"),
            format!("namespace name \"{long}\" must be 1 to 64 characters long"),
        ),
        (
            "/__ns//api/v1/users".to_owned(),
            "namespace name \"\" must be 1 to 64 characters long".to_owned(),
        ),
    ] {
        let refused = app.get(&path).await;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{path}");
        assert_eq!(refused.header("content-type"), "application/json");
        assert_eq!(refused.json(), json!({"error": why}));
    }
    assert_eq!(app.state.namespaces().len(), 0);
    let delete = delete(&app, "/__doublure/namespaces/a%2Fb").await;
    assert_eq!(delete.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn the_admin_token_and_cors_rules_hold_under_the_prefix() {
    let mut settings = Settings::for_tests();
    settings.admin_token = Some("s3cret".to_owned());
    let app = TestApp::with_state(AppState::for_tests_with(settings));
    let origin = ("origin", "http://demo.test");
    let refused = app
        .get_with("/__ns/guarded/__doublure/clock", &[origin])
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert!(!refused.has_header("access-control-allow-origin"));
    let refused = app.get("/__ns/guarded/__doublure/clock").await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
    let allowed = app
        .get_with(
            "/__ns/guarded/__doublure/clock",
            &[("authorization", "Bearer s3cret")],
        )
        .await;
    assert_eq!(allowed.status, StatusCode::OK);
    let list = app.get("/__ns/guarded/__doublure/namespaces").await;
    assert_eq!(list.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        app.get("/__ns/guarded/__doublure/health").await.status,
        StatusCode::OK
    );
    let api = app
        .get_with("/__ns/guarded/api/v1/users?api_key=API_KEY", &[origin])
        .await;
    assert_eq!(api.status, StatusCode::OK);
    assert_eq!(api.header("access-control-allow-origin"), "*");
    let preflight = app
        .json(
            "OPTIONS",
            "/__ns/guarded/api/v1/users",
            None,
            &[
                origin,
                ("access-control-request-method", "GET"),
                ("access-control-request-headers", "authorization"),
            ],
        )
        .await;
    assert_eq!(preflight.status, StatusCode::OK);
    assert_eq!(
        preflight.header("access-control-allow-headers"),
        "authorization"
    );
    // A refusal on an API path is readable from a browser too.
    let invalid = app.get_with("/__ns/a%20b/api/v1/users", &[origin]).await;
    assert_eq!(invalid.status, StatusCode::BAD_REQUEST);
    assert_eq!(invalid.header("access-control-allow-origin"), "*");
}

#[tokio::test]
async fn put_state_and_reload_in_a_namespace_change_only_that_namespace_now() {
    let app = TestApp::new();
    let state = app.get("/__ns/s/__doublure/state").await.json();
    let mut changed = state.clone();
    changed["logora/users.json"] = json!([]);
    let put = app
        .json("PUT", "/__ns/s/__doublure/state", Some(changed), &[J])
        .await;
    assert_eq!(put.status, StatusCode::OK, "{}", put.text());
    assert_eq!(total(&app, "/__ns/s").await, "0");
    assert_eq!(total(&app, "").await, "48");
    assert_eq!(app.get("/__doublure/state").await.json(), state);
}

#[tokio::test]
async fn a_namespace_works_over_a_real_socket() {
    let served = Served::start(AppState::for_tests()).await;
    let client = reqwest::Client::new();
    let response = client
        .get(served.url("/__ns/wire/api/v1/users?api_key=API_KEY&per_page=1"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["total"], "48");
    let link = response.headers()["link"].to_str().unwrap().to_owned();
    assert!(
        link.starts_with("<http://localhost:8080/__ns/wire/api/v1/users?"),
        "{link}"
    );
}

#[tokio::test]
async fn the_root_and_a_namespace_reading_the_same_forms_each_get_their_own_urls() {
    let app = TestApp::new();
    let basic = [(
        "authorization",
        "Basic YWdlbnRzOmFnZW50cy1zZWNyZXQ=", // agents:agents-secret
    )];
    let url_of = |response: &TestResponse| {
        response.json()["data"][0]["url"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    };
    for (prefix, base) in [
        ("", "http://localhost:8080/"),
        ("/__ns/forms-a", "http://localhost:8080/__ns/forms-a/"),
        ("", "http://localhost:8080/"),
        ("/__ns/forms-b", "http://localhost:8080/__ns/forms-b/"),
    ] {
        let forms = app
            .get_with(&format!("{prefix}/api/users/1/forms"), &basic)
            .await;
        assert_eq!(forms.status, StatusCode::OK, "{}", forms.text());
        let url = url_of(&forms);
        assert!(url.starts_with(base), "{prefix}: {url}");
        assert!(!url[base.len()..].starts_with("__ns"), "{prefix}: {url}");
    }
}

#[tokio::test]
async fn a_control_plane_path_under_a_namespace_that_no_route_takes_is_a_404_in_its_format() {
    let app = TestApp::new();
    for method in ["GET", "PUT", "PATCH", "DELETE"] {
        let response = app
            .json(
                method,
                "/__ns/x/__doublure/namespaces/a/b",
                Some(json!({})),
                &[],
            )
            .await;
        assert_eq!(response.status, StatusCode::NOT_FOUND, "{method}");
        assert_eq!(response.header("content-type"), "application/json");
        assert!(
            response.json()["error"]
                .as_str()
                .unwrap()
                .starts_with("no collection namespaces/a; collections: "),
            "{method}: {}",
            response.text()
        );
    }
    let unknown = app.get("/__ns/x/__doublure/nothing").await;
    assert_json(
        &unknown,
        StatusCode::NOT_FOUND,
        json!({"error": "no control-plane route for GET /__doublure/nothing"}),
    );
    // At the root, an unknown path outside the APIs stays a plain 404.
    let root = app.get("/__doublure/nothing").await;
    assert_eq!(root.status, StatusCode::NOT_FOUND);
    assert_eq!(root.text(), "Not Found\n");
}

#[tokio::test]
async fn names_made_only_of_dots_are_refused_like_other_invalid_names() {
    let app = TestApp::new();
    for name in [".", "..", "..."] {
        for path in [
            format!("/__ns/{name}/api/v1/users?api_key=API_KEY"),
            format!("/__ns/{name}/__doublure/ui/"),
        ] {
            let refused = app.get(&path).await;
            assert_json(
                &refused,
                StatusCode::BAD_REQUEST,
                json!({"error": format!(
                    "namespace name {name:?} is only dots, which a URL reads as a folder; \
                     use a letter, a digit, '_' or '-' as well"
                )}),
            );
        }
    }
    assert_eq!(app.state.namespaces().len(), 0);
    assert_eq!(
        app.get("/__ns/.a./__doublure/clock").await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn a_call_refused_for_the_admin_token_makes_no_namespace_and_takes_no_room() {
    let mut settings = Settings::for_tests();
    settings.admin_token = Some("s3cret".to_owned());
    settings.max_namespaces = 1;
    let app = TestApp::with_state(AppState::for_tests_with(settings));
    for n in 0..5 {
        let refused = app.get(&format!("/__ns/t{n}/__doublure/state")).await;
        assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
        let wrong = app
            .get_with(
                &format!("/__ns/t{n}/__doublure/state"),
                &[("authorization", "Bearer nope")],
            )
            .await;
        assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    }
    assert_eq!(app.state.namespaces().len(), 0);
    // The one namespace the cap allows is still to be had.
    let allowed = app
        .get_with(
            "/__ns/real/__doublure/clock",
            &[("authorization", "Bearer s3cret")],
        )
        .await;
    assert_eq!(allowed.status, StatusCode::OK);
    // A live namespace still refuses a call without the token.
    assert_eq!(
        app.get("/__ns/real/__doublure/clock").await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(app.state.namespaces().len(), 1);
}

#[tokio::test]
async fn calls_refused_for_the_admin_token_do_not_keep_a_namespace_alive() {
    let mut settings = Settings::for_tests();
    settings.admin_token = Some("s3cret".to_owned());
    settings.namespace_ttl = std::time::Duration::from_secs(600);
    let app = TestApp::with_state(AppState::for_tests_with(settings));
    let made = app
        .get_with(
            "/__ns/idle/__doublure/clock",
            &[("authorization", "Bearer s3cret")],
        )
        .await;
    assert_eq!(made.status, StatusCode::OK);
    let registry = app.state.namespaces();
    registry.clock().advance(TimeDelta::seconds(400));
    let refused = app.get("/__ns/idle/__doublure/state").await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
    registry.clock().advance(TimeDelta::seconds(201));
    assert_eq!(registry.sweep(), ["idle"]);
}
