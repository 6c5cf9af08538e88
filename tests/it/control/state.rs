//! The whole state at once: exported and loaded back, replaced by PUT
//! (or refused whole), never seen half applied.

use crate::common::TestApp;
use crate::common::control::{assert_json, put};
use crate::common::logora::{minted_token, user_in, users};
use axum::http::StatusCode;
use doublure::testing::data::Data;
use doublure::testing::data::read_dir;
use serde_json::{Value, json};

#[tokio::test]
async fn put_state_refuses_an_unknown_collection_and_keeps_serving() {
    let app = TestApp::new();
    let before = app.get("/__doublure/state").await.json();
    let response = put(&app, "/__doublure/state", json!({"logora/usres.json": []})).await;
    assert_json(
        &response,
        StatusCode::BAD_REQUEST,
        json!({"error": "invalid data: nothing was changed", "problems": [
            "state/logora/usres.json: unknown fixture file; expected one of: logora/applications.json, logora/clients.json, logora/users.json, wcs/users.json, wcs/roles.json, wcs/categories.json, wcs/formdefs.json, wcs/forms.json, wcs/api_accesses.json",
        ]}),
    );
    assert_eq!(app.get("/__doublure/state").await.json(), before);
}

#[tokio::test]
async fn put_state_with_a_body_that_is_not_an_object_is_refused() {
    let app = TestApp::new();
    let response = put(&app, "/__doublure/state", json!([1, 2])).await;
    assert_eq!(response.status, StatusCode::BAD_REQUEST);
    assert!(response.json()["error"].is_string());
}

#[tokio::test]
async fn an_exported_state_loads_back_as_a_fixture_directory() {
    let app = TestApp::new();
    let state = app.get("/__doublure/state").await.json();
    let dir = tempfile::tempdir().unwrap();
    for (name, items) in state.as_object().unwrap() {
        let path = dir.path().join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, serde_json::to_string_pretty(items).unwrap()).unwrap();
    }
    let files = read_dir(dir.path()).expect("a readable directory");
    let data = Data::load(&files).expect("a valid directory");
    let reexported: serde_json::Map<String, Value> = data
        .export()
        .into_iter()
        .map(|(name, items)| (name.to_owned(), items))
        .collect();
    assert_eq!(Value::Object(reexported), state);
}

#[tokio::test]
async fn put_state_replaces_everything_and_an_invalid_state_changes_nothing() {
    let app = TestApp::new();
    let token = minted_token(&app, "API_KEY", None).await;
    let mut state = app.get("/__doublure/state").await.json();
    let users_file = state["logora/users.json"].as_array_mut().unwrap();
    let jean = users_file.iter_mut().find(|u| u["id"] == 21).unwrap();
    jean["full_name"] = json!("Jean Remplacé");
    let replaced = put(&app, "/__doublure/state", state.clone()).await;
    assert_eq!(replaced.status, StatusCode::OK, "{}", replaced.text());
    let listed = users(&app, "?per_page=100", &token).await.json();
    assert_eq!(user_in(&listed, 21).unwrap()["full_name"], "Jean Remplacé");

    let users_file = state["logora/users.json"].as_array_mut().unwrap();
    let index = users_file.iter().position(|u| u["id"] == 21).unwrap();
    users_file[index]["age"] = json!("old");
    let refused = put(&app, "/__doublure/state", state).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        refused.json(),
        json!({
            "error": "invalid data: nothing was changed",
            "problems": [format!(
                "state/logora/users.json: item {} (id 21): field age: invalid type: string \"old\", expected u32",
                index + 1
            )]
        })
    );
    let still = users(&app, "?per_page=100", &token).await.json();
    assert_eq!(user_in(&still, 21).unwrap()["full_name"], "Jean Remplacé");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn readers_never_see_a_half_applied_state() {
    let app = std::sync::Arc::new(TestApp::new());
    let token = minted_token(&app, "API_KEY", None).await;
    let base = app.get("/__doublure/state").await.json();
    let named = |name: &str| {
        let mut state = base.clone();
        for user in state["logora/users.json"].as_array_mut().unwrap() {
            if user["id"] == 21 || user["id"] == 26 {
                user["city"] = json!(name);
            }
        }
        state
    };
    let (a, b) = (named("Alpha"), named("Bêta"));
    let first = put(&app, "/__doublure/state", a.clone()).await;
    assert_eq!(first.status, StatusCode::OK);
    let writer = {
        let app = app.clone();
        tokio::spawn(async move {
            for i in 0..100 {
                let state = if i % 2 == 0 { a.clone() } else { b.clone() };
                let replaced = put(&app, "/__doublure/state", state).await;
                assert_eq!(replaced.status, StatusCode::OK);
            }
        })
    };
    let readers: Vec<_> = (0..3)
        .map(|_| {
            let app = app.clone();
            let token = token.clone();
            tokio::spawn(async move {
                for _ in 0..100 {
                    let body = users(&app, "?sub_application_name=app-test&per_page=100", &token)
                        .await
                        .json();
                    let cities: Vec<&Value> = body["data"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .filter(|u| u["id"] == 21 || u["id"] == 26)
                        .map(|u| &u["city"])
                        .collect();
                    assert_eq!(cities.len(), 2, "{body}");
                    assert_eq!(cities[0], cities[1], "a half-applied state was seen");
                    assert!(cities[0] == "Alpha" || cities[0] == "Bêta", "{body}");
                }
            })
        })
        .collect();
    writer.await.unwrap();
    for reader in readers {
        reader.await.unwrap();
    }
}

#[tokio::test]
async fn put_state_refuses_a_body_as_every_json_route_does_though_it_parses_it_off_the_workers() {
    let app = TestApp::new();
    // `PUT /__doublure/clock` reads its body with the control plane's
    // usual extractor: the same refusal for a wrong content type or broken
    // JSON.
    for (content_type, body) in [
        ("text/plain", "{}"),
        ("application/jsonx", "{}"),
        ("application/json", "{x"),
        ("application/json", ""),
    ] {
        let state = app
            .raw("PUT", "/__doublure/state", content_type, body, true)
            .await;
        let clock = app
            .raw("PUT", "/__doublure/clock", content_type, body, true)
            .await;
        assert_eq!(
            (state.status, state.json()),
            (clock.status, clock.json()),
            "{content_type} {body}"
        );
        assert_eq!(state.status, StatusCode::BAD_REQUEST);
    }
    assert_json(
        &app.raw("PUT", "/__doublure/state", "text/plain", "{}", true)
            .await,
        StatusCode::BAD_REQUEST,
        json!({"error": "Expected request with `Content-Type: application/json`"}),
    );
    // A JSON content type of another name is one too.
    let refused = app
        .raw(
            "PUT",
            "/__doublure/state",
            "application/vnd.api+json; charset=utf-8",
            "{\"wcs/typo.json\": []}",
            true,
        )
        .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        refused.json()["problems"][0],
        "state/wcs/typo.json: unknown fixture file; expected one of: logora/applications.json, logora/clients.json, logora/users.json, wcs/users.json, wcs/roles.json, wcs/categories.json, wcs/formdefs.json, wcs/forms.json, wcs/api_accesses.json"
    );
}
