//! The control plane driving the emulated APIs: credentials minted and
//! signed without the protocols, expiry by the clock, nonces forgotten by
//! reset, collections changed at once, state exported and loaded back, and
//! a broken file under --watch.

mod common;

use axum::http::StatusCode;
use common::TestApp;
use doublure::testing::AppState;
use doublure::testing::config::Settings;
use doublure::testing::data::{Data, Seed};
use serde_json::{Value, json};

async fn token(app: &TestApp, client_id: &str, scope: Option<&str>) -> String {
    let response = app
        .json(
            "POST",
            "/__doublure/logora/tokens",
            Some(json!({"client_id": client_id, "scope": scope})),
            &[],
        )
        .await;
    assert_eq!(response.status, StatusCode::CREATED, "{}", response.text());
    response.json()["access_token"].as_str().unwrap().to_owned()
}

async fn users(app: &TestApp, token: &str, query: &str) -> common::TestResponse {
    app.get_with(
        &format!("/api/v1/users{query}"),
        &[("authorization", &format!("Bearer {token}"))],
    )
    .await
}

#[tokio::test]
async fn a_minted_token_works_until_the_clock_moves_7201_seconds() {
    let app = TestApp::new();
    let token = token(&app, "API_KEY", None).await;
    assert_eq!(token.len(), 43);
    assert_eq!(users(&app, &token, "").await.status, StatusCode::OK);

    let moved = app
        .json(
            "POST",
            "/__doublure/clock/advance",
            Some(json!({"seconds": 7201})),
            &[],
        )
        .await;
    assert_eq!(moved.status, StatusCode::OK);
    let expired = users(&app, &token, "").await;
    assert_eq!(expired.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        expired.header("www-authenticate"),
        "Bearer realm=\"Doorkeeper\", error=\"invalid_token\", error_description=\"The access token expired\""
    );
}

#[tokio::test]
async fn minted_tokens_are_listed_and_one_revoked_is_refused() {
    let app = TestApp::new();
    let token = token(&app, "API_KEY", Some("public authentication")).await;
    let listed = app.get("/__doublure/logora/tokens").await.json();
    assert_eq!(listed["tokens"][0]["access_token"], token.as_str());
    assert_eq!(listed["tokens"][0]["client_id"], "API_KEY");
    assert_eq!(listed["tokens"][0]["scope"], "public authentication");

    let revoked = app
        .json(
            "DELETE",
            &format!("/__doublure/logora/tokens/{token}"),
            None,
            &[],
        )
        .await;
    assert_eq!(revoked.status, StatusCode::OK);
    let refused = users(&app, &token, "").await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
    assert!(
        refused
            .header("www-authenticate")
            .contains("The access token was revoked")
    );
    assert_eq!(
        app.get("/__doublure/logora/tokens").await.json(),
        json!({"tokens": []})
    );

    let again = app
        .json("DELETE", "/__doublure/logora/tokens/nonsense", None, &[])
        .await;
    assert_eq!(again.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn minting_for_an_unknown_client_or_scope_is_refused_clearly() {
    let app = TestApp::new();
    let unknown = app
        .json(
            "POST",
            "/__doublure/logora/tokens",
            Some(json!({"client_id": "NOPE"})),
            &[],
        )
        .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    assert!(
        unknown.json()["error"]
            .as_str()
            .unwrap()
            .contains("no client \"NOPE\"")
    );
    let scope = app
        .json(
            "POST",
            "/__doublure/logora/tokens",
            Some(json!({"client_id": "API_KEY", "scope": "everything"})),
            &[],
        )
        .await;
    assert_eq!(scope.status, StatusCode::BAD_REQUEST);
    assert!(
        scope.json()["error"]
            .as_str()
            .unwrap()
            .starts_with("invalid_scope: ")
    );
}

async fn sign(app: &TestApp, body: Value) -> String {
    let response = app
        .json("POST", "/__doublure/wcs/sign", Some(body), &[])
        .await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.text());
    let url = response.json()["url"].as_str().unwrap().to_owned();
    url.strip_prefix("http://localhost:8080")
        .expect("absolute from --public-url")
        .to_owned()
}

#[tokio::test]
async fn a_nonce_refused_as_replayed_is_accepted_again_after_reset() {
    let app = TestApp::new();
    let path = sign(
        &app,
        json!({"url": "/api/user/forms", "orig": "demo", "email": "fred@example.net"}),
    )
    .await;
    assert!(path.contains("&nonce="), "{path}");
    let first = app.get(&path).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.text());
    assert_eq!(first.json()["data"].as_array().unwrap().len(), 3);

    let replay = app.get(&path).await;
    assert_eq!(replay.status, StatusCode::FORBIDDEN);
    assert_eq!(replay.json()["err_desc"], "Nonce already used.");

    assert_eq!(
        app.json("POST", "/__doublure/reset", None, &[])
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(app.get(&path).await.status, StatusCode::OK);
}

#[tokio::test]
async fn signing_needs_a_known_orig_or_a_key_and_one_user_at_most() {
    let app = TestApp::new();
    let unknown = app
        .json(
            "POST",
            "/__doublure/wcs/sign",
            Some(json!({"url": "/api/user/", "orig": "nobody"})),
            &[],
        )
        .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    let both = app
        .json(
            "POST",
            "/__doublure/wcs/sign",
            Some(json!({"url": "/api/user/", "orig": "demo", "email": "a@b.c", "name_id": "x"})),
            &[],
        )
        .await;
    assert_eq!(both.status, StatusCode::BAD_REQUEST);
    let wrong_key = sign(
        &app,
        json!({"url": "/api/user/", "orig": "demo", "key": "not-the-key", "email": "fred@example.net"}),
    )
    .await;
    let refused = app.get(&wrong_key).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert_eq!(refused.json()["err_desc"], "Invalid signature.");
}

#[tokio::test]
async fn a_user_added_through_the_control_plane_is_listed_at_once_and_can_be_removed() {
    let app = TestApp::new();
    let token = token(&app, "API_KEY", None).await;
    let before: u64 = users(&app, &token, "")
        .await
        .header("total")
        .parse()
        .unwrap();

    let mut user = app.get("/__doublure/logora/users/21").await.json();
    user["id"] = json!(9001);
    user["uid"] = json!("9b2f4d7e-1111-4222-8333-944455556666");
    user["slug"] = json!("jeanne-test");
    user["full_name"] = json!("Jeanne Test");
    let created = app
        .json("POST", "/__doublure/logora/users", Some(user), &[])
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text());

    let after = users(&app, &token, "?per_page=100").await;
    assert_eq!(after.header("total"), (before + 1).to_string());
    let listed = after.json();
    let last = listed["data"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["id"], 9001);
    assert_eq!(last["full_name"], "Jeanne Test");
    assert!(
        last.get("application_id").is_none(),
        "doublure fields stay private"
    );

    let removed = app
        .json("DELETE", "/__doublure/logora/users/9001", None, &[])
        .await;
    assert_eq!(removed.status, StatusCode::NO_CONTENT);
    let total: u64 = users(&app, &token, "")
        .await
        .header("total")
        .parse()
        .unwrap();
    assert_eq!(total, before);
}

#[tokio::test]
async fn an_invalid_item_is_refused_naming_the_field_and_nothing_changes() {
    let app = TestApp::new();
    let mut form = app.get("/__doublure/wcs/forms").await.json()[0].clone();
    form["id"] = json!(77_777);
    form["user_id"] = json!(424_242);
    let refused = app
        .json("POST", "/__doublure/wcs/forms", Some(form), &[])
        .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    let text = refused.text();
    assert!(
        text.contains("wcs/forms.json") && text.contains("424242"),
        "{text}"
    );
    assert_eq!(
        app.get("/__doublure/wcs/forms/77777").await.status,
        StatusCode::NOT_FOUND
    );
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
    let files = doublure::testing::data::read_dir(dir.path()).expect("a readable directory");
    let data = Data::load(&files).expect("a valid directory");
    let reexported: serde_json::Map<String, Value> = data
        .export()
        .into_iter()
        .map(|(name, items)| (name.to_owned(), items))
        .collect();
    assert_eq!(Value::Object(reexported), state);
}

#[tokio::test]
async fn a_broken_file_under_watch_leaves_the_previous_data_serving() {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in doublure::testing::data::builtin_files() {
        let path = dir.path().join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, text).unwrap();
    }
    let files = doublure::testing::data::read_dir(dir.path()).unwrap();
    let store = Seed::build(files, Default::default()).unwrap();
    let mut settings = Settings::for_tests();
    settings.fixtures = Some(dir.path().to_owned());
    let state = AppState::new(
        store,
        doublure::testing::clock::Clock::frozen(doublure::testing::state::test_now()),
        settings,
    );
    let app = TestApp::with_state(state.clone());
    let token = token(&app, "API_KEY", None).await;
    let before = users(&app, &token, "?per_page=5").await.text();

    let mut results = doublure::testing::admin::reload::watch(
        (*state).clone(),
        std::time::Duration::from_millis(20),
    )
    .expect("a watcher");
    std::fs::write(dir.path().join("logora/users.json"), "[{\"id\": ").unwrap();
    results.changed().await.expect("a reload attempt");
    let problems = results
        .borrow()
        .clone()
        .expect("an attempt")
        .expect_err("refused");
    assert!(
        problems.to_string().contains("logora/users.json"),
        "{problems}"
    );

    let after = users(&app, &token, "?per_page=5").await;
    assert_eq!(after.status, StatusCode::OK);
    assert_eq!(after.text(), before);

    // The server does not keep the receiver: watching must go on without
    // it, and the repaired file is served.
    drop(results);
    let users_file = dir.path().join("logora/users.json");
    let original = doublure::testing::data::builtin_files()
        .into_iter()
        .find(|(name, _)| *name == "logora/users.json")
        .unwrap()
        .1;
    for name in ["Jean Réparé", "Jean Encore"] {
        let changed = original.replacen("Jean Dupont", name, 1);
        assert_ne!(changed, original);
        std::fs::write(&users_file, changed).unwrap();
        // A real file watcher runs on real time: wait for it, within a bound.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        loop {
            let now = users(&app, &token, "?per_page=25").await.text();
            if now.contains(name) {
                break;
            }
            assert!(std::time::Instant::now() < deadline, "{name} never served");
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }
}

/// A request with a raw (possibly broken) JSON body.
async fn raw_json(app: &TestApp, method: &str, uri: &str, body: &str) -> common::TestResponse {
    app.send(
        axum::http::Request::builder()
            .method(method)
            .uri(uri)
            .header("content-type", "application/json")
            .body(axum::body::Body::from(body.to_owned()))
            .unwrap(),
    )
    .await
}

fn jean(body: &Value) -> Option<&Value> {
    body["data"].as_array()?.iter().find(|u| u["id"] == 21)
}

#[tokio::test]
async fn patch_and_put_change_a_user_and_the_api_shows_it_at_once() {
    let app = TestApp::new();
    let token = token(&app, "API_KEY", None).await;
    let patched = app
        .json(
            "PATCH",
            "/__doublure/logora/users/21",
            Some(json!({"full_name": "Jean Modifié", "is_expert": true})),
            &[],
        )
        .await;
    assert_eq!(patched.status, StatusCode::OK, "{}", patched.text());
    assert_eq!(patched.json()["full_name"], "Jean Modifié");
    assert_eq!(patched.json()["city"], "Strasbourg", "other fields kept");
    let experts = users(&app, &token, "?is_expert=true&per_page=100")
        .await
        .json();
    assert_eq!(jean(&experts).unwrap()["full_name"], "Jean Modifié");

    let mut whole = app.get("/__doublure/logora/users/21").await.json();
    whole["city"] = json!("Colmar");
    whole.as_object_mut().unwrap().remove("id");
    let put = app
        .json("PUT", "/__doublure/logora/users/21", Some(whole), &[])
        .await;
    assert_eq!(put.status, StatusCode::OK, "{}", put.text());
    assert_eq!(put.json()["id"], 21, "the URL's id is kept");
    let listed = users(&app, &token, "?per_page=100").await.json();
    assert_eq!(jean(&listed).unwrap()["city"], "Colmar");

    // PUT replaces: a field left out is missing, and the data says so.
    let partial = app
        .json(
            "PUT",
            "/__doublure/logora/users/21",
            Some(json!({"full_name": "Jean"})),
            &[],
        )
        .await;
    assert_eq!(partial.status, StatusCode::BAD_REQUEST);
    assert_eq!(partial.json()["error"], "invalid data: nothing was changed");
    let problems = partial.json()["problems"].to_string();
    assert!(problems.contains("logora/users.json: item "), "{problems}");
    assert!(problems.contains("(id 21)"), "{problems}");
    let unchanged = users(&app, &token, "?per_page=100").await.json();
    assert_eq!(jean(&unchanged).unwrap()["city"], "Colmar");
}

#[tokio::test]
async fn unknown_items_and_collections_are_404_and_a_used_id_is_409() {
    let app = TestApp::new();
    for method in ["PUT", "PATCH", "DELETE", "GET"] {
        let body = (method != "DELETE" && method != "GET").then(|| json!({"full_name": "X"}));
        let response = app
            .json(method, "/__doublure/logora/users/9999", body, &[])
            .await;
        assert_eq!(response.status, StatusCode::NOT_FOUND, "{method}");
        assert_eq!(
            response.json(),
            json!({"error": "no item with id 9999 in logora/users"}),
            "{method}"
        );
    }
    let unknown = app.get("/__doublure/wcs/widgets").await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    assert!(
        unknown.json()["error"]
            .as_str()
            .unwrap()
            .starts_with("no collection wcs/widgets; collections: logora/")
            && unknown.json()["error"]
                .as_str()
                .unwrap()
                .ends_with("and wcs/drafts (the drafts of wcs/forms)"),
        "{}",
        unknown.text()
    );
    let existing = app.get("/__doublure/wcs/roles").await.json()[0].clone();
    let clash = app
        .json("POST", "/__doublure/wcs/roles", Some(existing.clone()), &[])
        .await;
    assert_eq!(clash.status, StatusCode::CONFLICT);
    assert_eq!(
        clash.json(),
        json!({"error": format!("wcs/roles already has an item with id {}", existing["id"].as_str().map_or_else(|| existing["id"].to_string(), str::to_owned))})
    );
}

#[tokio::test]
async fn an_api_access_added_at_run_time_signs_calls_and_its_removal_refuses_them() {
    let app = TestApp::new();
    let created = app
        .json(
            "POST",
            "/__doublure/wcs/api_accesses",
            Some(json!({"access_identifier": "ci", "access_key": "ci-secret"})),
            &[],
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text());
    let signed = app
        .json(
            "POST",
            "/__doublure/wcs/sign",
            Some(json!({"url": "/api/user/", "orig": "ci", "email": "fred@example.net"})),
            &[],
        )
        .await;
    assert_eq!(signed.status, StatusCode::OK, "{}", signed.text());
    let url = signed.json()["url"].as_str().unwrap().to_owned();
    let path = &url[url.find("/api/").unwrap()..];
    let profile = app.get_with(path, &[("accept", "application/json")]).await;
    assert_eq!(profile.status, StatusCode::OK, "{}", profile.text());
    assert_eq!(profile.json()["user_email"], "fred@example.net");

    let removed = app
        .json("DELETE", "/__doublure/wcs/api_accesses/ci", None, &[])
        .await;
    assert_eq!(removed.status, StatusCode::NO_CONTENT);
    let refused = app.get_with(path, &[("accept", "application/json")]).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert_eq!(refused.json()["err_desc"], "Invalid orig.");
}

#[tokio::test]
async fn a_role_still_given_to_users_cannot_be_deleted() {
    let app = TestApp::new();
    let users = app.get("/__doublure/wcs/users").await.json();
    let role = users
        .as_array()
        .unwrap()
        .iter()
        .find_map(|u| u["roles"].as_array().and_then(|r| r.first()).cloned())
        .expect("a user with a role");
    let role = role
        .as_str()
        .map_or_else(|| role.to_string(), str::to_owned);
    let refused = app
        .json(
            "DELETE",
            &format!("/__doublure/wcs/roles/{role}"),
            None,
            &[],
        )
        .await;
    assert_eq!(
        refused.status,
        StatusCode::BAD_REQUEST,
        "{}",
        refused.text()
    );
    let problems = refused.json()["problems"].to_string();
    assert!(problems.contains("wcs/users.json: item "), "{problems}");
    assert_eq!(
        app.get(&format!("/__doublure/wcs/roles/{role}"))
            .await
            .status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn put_state_replaces_everything_and_an_invalid_state_changes_nothing() {
    let app = TestApp::new();
    let token = token(&app, "API_KEY", None).await;
    let mut state = app.get("/__doublure/state").await.json();
    let users_file = state["logora/users.json"].as_array_mut().unwrap();
    let jean = users_file.iter_mut().find(|u| u["id"] == 21).unwrap();
    jean["full_name"] = json!("Jean Remplacé");
    let put = app
        .json("PUT", "/__doublure/state", Some(state.clone()), &[])
        .await;
    assert_eq!(put.status, StatusCode::OK, "{}", put.text());
    let listed = users(&app, &token, "?per_page=100").await.json();
    assert_eq!(self::jean(&listed).unwrap()["full_name"], "Jean Remplacé");

    let users_file = state["logora/users.json"].as_array_mut().unwrap();
    let index = users_file.iter().position(|u| u["id"] == 21).unwrap();
    users_file[index]["age"] = json!("old");
    let refused = app.json("PUT", "/__doublure/state", Some(state), &[]).await;
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
    let still = users(&app, &token, "?per_page=100").await.json();
    assert_eq!(self::jean(&still).unwrap()["full_name"], "Jean Remplacé");
}

#[tokio::test]
async fn reset_brings_back_changed_and_deleted_data() {
    let app = TestApp::new();
    let before = app.get("/__doublure/state").await.json();
    app.json(
        "PATCH",
        "/__doublure/logora/users/21",
        Some(json!({"full_name": "Jean Changé"})),
        &[],
    )
    .await;
    let deleted = app
        .json("DELETE", "/__doublure/logora/users/26", None, &[])
        .await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    assert_ne!(app.get("/__doublure/state").await.json(), before);
    let reset = app.json("POST", "/__doublure/reset", None, &[]).await;
    assert_eq!(reset.status, StatusCode::OK);
    assert_eq!(app.get("/__doublure/state").await.json(), before);
}

#[tokio::test]
async fn a_broken_json_body_is_a_400_on_every_route_that_takes_one() {
    let app = TestApp::new();
    for (method, uri) in [
        ("POST", "/__doublure/faults"),
        ("POST", "/__doublure/logora/tokens"),
        ("POST", "/__doublure/wcs/sign"),
        ("PUT", "/__doublure/state"),
        ("PUT", "/__doublure/clock"),
        ("POST", "/__doublure/logora/users"),
        ("PATCH", "/__doublure/logora/users/21"),
        ("PUT", "/__doublure/wcs/roles/x"),
    ] {
        let response = raw_json(&app, method, uri, "{\"broken\": ").await;
        assert_eq!(response.status, StatusCode::BAD_REQUEST, "{method} {uri}");
        let error = response.json()["error"].as_str().unwrap().to_owned();
        assert!(!error.is_empty(), "{method} {uri}");
    }
    // Nothing was changed by any of them.
    assert_eq!(
        app.get("/__doublure/faults").await.json(),
        json!({"faults": []})
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn readers_never_see_a_half_applied_state() {
    let app = std::sync::Arc::new(TestApp::new());
    let token = token(&app, "API_KEY", None).await;
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
    let first = app
        .json("PUT", "/__doublure/state", Some(a.clone()), &[])
        .await;
    assert_eq!(first.status, StatusCode::OK);
    let writer = {
        let app = app.clone();
        tokio::spawn(async move {
            for i in 0..100 {
                let state = if i % 2 == 0 { a.clone() } else { b.clone() };
                let put = app.json("PUT", "/__doublure/state", Some(state), &[]).await;
                assert_eq!(put.status, StatusCode::OK);
            }
        })
    };
    let readers: Vec<_> = (0..3)
        .map(|_| {
            let app = app.clone();
            let token = token.clone();
            tokio::spawn(async move {
                for _ in 0..100 {
                    let body = users(&app, &token, "?sub_application_name=app-test&per_page=100")
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
async fn a_changed_user_is_checked_against_every_other_user() {
    let app = TestApp::new();
    let slug_taken = app
        .json(
            "PATCH",
            "/__doublure/logora/users/21",
            Some(json!({"slug": "martine-durand"})),
            &[],
        )
        .await;
    assert_eq!(
        slug_taken.status,
        StatusCode::BAD_REQUEST,
        "{}",
        slug_taken.text()
    );
    let problems = slug_taken.json()["problems"].clone();
    assert_eq!(problems.as_array().unwrap().len(), 1, "{problems}");
    let problem = problems[0].as_str().unwrap();
    assert!(
        problem.starts_with("state/logora/users.json: item "),
        "{problem}"
    );
    assert!(
        problem.ends_with("(id 21): slug \"martine-durand\" is already used in application 1"),
        "{problem}"
    );

    let id_taken = app
        .json(
            "PATCH",
            "/__doublure/logora/users/21",
            Some(json!({"id": 26})),
            &[],
        )
        .await;
    assert_eq!(id_taken.status, StatusCode::CONFLICT);
    assert_eq!(
        id_taken.json(),
        json!({"error": "logora/users already has an item with id 26"})
    );

    let mut copy = app.get("/__doublure/logora/users/26").await.json();
    copy["id"] = json!(9000);
    copy["slug"] = json!("copie");
    let uid_taken = app
        .json("POST", "/__doublure/logora/users", Some(copy.clone()), &[])
        .await;
    assert_eq!(uid_taken.status, StatusCode::BAD_REQUEST);
    assert!(
        uid_taken.json()["problems"][0]
            .as_str()
            .unwrap()
            .ends_with("(id 9000): uid \"dd976c14-bf88-4a94-835d-eb09f1074048\" is already used in application 1"),
        "{}",
        uid_taken.text()
    );
    copy["uid"] = json!("une-autre");
    let created = app
        .json("POST", "/__doublure/logora/users", Some(copy), &[])
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text());
    assert_eq!(created.json()["uid"], "une-autre");

    // A user keeps its place in the exported fixture.
    let before: Vec<Value> = app
        .get("/__doublure/logora/users")
        .await
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["id"].clone())
        .collect();
    app.json(
        "PATCH",
        "/__doublure/logora/users/21",
        Some(json!({"city": "Metz"})),
        &[],
    )
    .await;
    let after: Vec<Value> = app
        .get("/__doublure/logora/users")
        .await
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["id"].clone())
        .collect();
    assert_eq!(before, after);
}

#[tokio::test]
async fn an_application_change_that_would_orphan_users_is_refused_naming_them() {
    let app = TestApp::new();
    let token = token(&app, "API_KEY", None).await;
    let before = users(&app, &token, "?per_page=100").await.text();
    let refused = app
        .json(
            "PATCH",
            "/__doublure/logora/applications/1",
            Some(json!({"sub_applications": ["app-test"]})),
            &[],
        )
        .await;
    assert_eq!(
        refused.status,
        StatusCode::BAD_REQUEST,
        "{}",
        refused.text()
    );
    let problems = refused.json()["problems"].clone();
    let first = problems[0].as_str().unwrap();
    assert!(
        first.starts_with("state/logora/users.json: item "),
        "{first}"
    );
    assert!(
        first.contains("field sub_application_name: ")
            && first.ends_with("is not a sub-application of application 1 (app-test)"),
        "{first}"
    );
    assert_eq!(users(&app, &token, "?per_page=100").await.text(), before);

    let renamed = app
        .json(
            "PATCH",
            "/__doublure/logora/applications/1",
            Some(json!({"name": "Renommée"})),
            &[],
        )
        .await;
    assert_eq!(renamed.status, StatusCode::OK, "{}", renamed.text());
    assert_eq!(users(&app, &token, "?per_page=100").await.text(), before);
}

#[tokio::test]
async fn the_readmes_example_user_is_created_with_the_doublure_only_fields_defaulted() {
    let app = TestApp::new();
    let user: Value = serde_json::from_str(include_str!("../examples/user.json")).unwrap();
    let created = app
        .json("POST", "/__doublure/logora/users", Some(user), &[])
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text());
    let stored = created.json();
    assert_eq!(stored["application_id"], 1);
    assert_eq!(stored["sub_application_name"], Value::Null);
    assert_eq!(stored["is_expert"], false);
    let page = app
        .get("/api/v1/users?api_key=API_KEY&per_page=1&page=49")
        .await;
    assert_eq!(page.json()["data"][0]["full_name"], "Lucie Fontaine");
}
