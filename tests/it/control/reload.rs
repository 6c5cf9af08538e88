//! Back to the fixtures: reset, reload from the directory (or the
//! built-in set), and a broken file under --watch.

use crate::common::TestApp;
use crate::common::control::{assert_json, delete, patch, post, post_empty};
use crate::common::logora::{minted_token, users};
use axum::http::StatusCode;
use doublure::testing::AppState;
use doublure::testing::clock::Clock;
use doublure::testing::config::Settings;
use doublure::testing::data::Seed;
use doublure::testing::data::builtin_files;
use doublure::testing::data::read_dir;
use doublure::testing::namespace::reload::watch;
use doublure::testing::state::test_now;
use serde_json::json;

#[tokio::test]
async fn reset_puts_back_the_clock_and_clears_journal_and_faults() {
    let app = TestApp::new();
    post(&app, "/__doublure/clock/advance", json!({"seconds": 60})).await;
    post(
        &app,
        "/__doublure/faults",
        json!({"status": 500, "path": "/nowhere"}),
    )
    .await;
    app.get("/api/v1/nowhere").await;
    assert_eq!(app.state.journal.len(), 1);

    let response = post_empty(&app, "/__doublure/reset").await;
    assert_eq!(response.status, StatusCode::OK);
    assert_eq!(response.json(), json!({"status": "reset"}));
    assert_eq!(app.state.clock.now(), test_now());
    assert!(app.state.journal.is_empty());
    assert_eq!(
        app.get("/__doublure/faults").await.json(),
        json!({"faults": []})
    );
}

#[tokio::test]
async fn reset_brings_back_changed_and_deleted_data() {
    let app = TestApp::new();
    let before = app.get("/__doublure/state").await.json();
    patch(
        &app,
        "/__doublure/logora/users/21",
        json!({"full_name": "Jean Changé"}),
    )
    .await;
    let deleted = delete(&app, "/__doublure/logora/users/26").await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    assert_ne!(app.get("/__doublure/state").await.json(), before);
    let reset = post_empty(&app, "/__doublure/reset").await;
    assert_eq!(reset.status, StatusCode::OK);
    assert_eq!(app.get("/__doublure/state").await.json(), before);
}

#[tokio::test]
async fn reload_without_a_directory_reloads_the_built_in_fixtures() {
    let app = TestApp::new();
    let response = post_empty(&app, "/__doublure/reload").await;
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
    let app = TestApp::with_settings(Settings {
        fixtures: Some(dir.path().to_owned()),
        ..Settings::for_tests()
    });
    let before = app.get("/__doublure/state").await.json();
    let response = post_empty(&app, "/__doublure/reload").await;
    assert_json(
        &response,
        StatusCode::BAD_REQUEST,
        json!({"error": "invalid data: nothing was changed", "problems": [format!(
            "{}/wcs/typo.json: unknown fixture file; expected one of: wcs/users.json, wcs/roles.json, wcs/categories.json, wcs/formdefs.json, wcs/forms.json, wcs/api_accesses.json",
            dir.path().display()
        )]}),
    );
    assert_eq!(app.get("/__doublure/state").await.json(), before);
}

#[tokio::test]
async fn a_broken_file_under_watch_leaves_the_previous_data_serving() {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in builtin_files() {
        let path = dir.path().join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, text).unwrap();
    }
    let files = read_dir(dir.path()).unwrap();
    let store = Seed::build(files, Default::default()).unwrap();
    let mut settings = Settings::for_tests();
    settings.fixtures = Some(dir.path().to_owned());
    let state = AppState::new(store, Clock::frozen(test_now()), settings);
    let app = TestApp::with_state(state.clone());
    let token = minted_token(&app, "API_KEY", None).await;
    let before = users(&app, "?per_page=5", &token).await.text();

    let mut results =
        watch((*state).clone(), std::time::Duration::from_millis(20)).expect("a watcher");
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

    let after = users(&app, "?per_page=5", &token).await;
    assert_eq!(after.status, StatusCode::OK);
    assert_eq!(after.text(), before);

    // The server does not keep the receiver: watching must go on without
    // it, and the repaired file is served.
    drop(results);
    let users_file = dir.path().join("logora/users.json");
    let original = builtin_files()
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
            let now = users(&app, "?per_page=25", &token).await.text();
            if now.contains(name) {
                break;
            }
            assert!(std::time::Instant::now() < deadline, "{name} never served");
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }
}
