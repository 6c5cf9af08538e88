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
use std::os::unix::fs::OpenOptionsExt;

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

/// A fixture directory with the built-in files.
fn builtin_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in builtin_files() {
        let path = dir.path().join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, text).unwrap();
    }
    dir
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fifo_among_the_fixtures_is_refused_by_name_while_health_answers() {
    // Arrange: the server started from the files, then one made a FIFO.
    let dir = builtin_dir();
    let mut settings = Settings::for_tests();
    settings.fixtures = Some(dir.path().to_owned());
    let seed = Seed::build(read_dir(dir.path()).unwrap(), Default::default()).unwrap();
    let state = AppState::new(seed, Clock::frozen(test_now()), settings);
    let served = crate::common::Served::start(state).await;
    let before = crate::common::served::get(&served.url("/__doublure/state")).await;
    let fifo = dir.path().join("wcs/roles.json");
    std::fs::remove_file(&fifo).unwrap();
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    // Should the reloads open the FIFO (as they did, on the async
    // workers), this writer lets them go on to fail the assertions rather
    // than hang; with nobody reading it waits, until the end of the test
    // reads the FIFO itself.
    let writer = {
        let fifo = fifo.clone();
        std::thread::spawn(move || (0..3).try_for_each(|_| std::fs::write(&fifo, "[]")))
    };

    // Act: three reloads at once, and health.
    let client = reqwest::Client::new();
    let reload = || client.post(served.url("/__doublure/reload")).send();
    let (a, b, c) = tokio::join!(reload(), reload(), reload());
    let health = crate::common::served::get(&served.url("/__doublure/health")).await;

    // Assert
    assert_eq!(health, (200, r#"{"status":"ok"}"#.to_owned()));
    for answer in [a, b, c] {
        let answer = answer.unwrap();
        assert_eq!(answer.status().as_u16(), 400);
        let body: serde_json::Value = answer.json().await.unwrap();
        assert_eq!(
            body,
            json!({"error": "invalid data: nothing was changed", "problems": [format!(
                "{}/wcs/roles.json: not a regular file (a FIFO): fixtures are read from regular files only",
                dir.path().display()
            )]})
        );
    }
    let after = crate::common::served::get(&served.url("/__doublure/state")).await;
    assert_eq!(after, before, "the running data is unchanged");
    // Held open, without waiting for a writer, while the writer ends.
    let reader = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(&fifo)
        .unwrap();
    writer.join().unwrap().unwrap();
    drop(reader);
}

#[tokio::test]
async fn a_device_or_an_oversized_fixture_file_is_refused_by_name_before_it_is_read() {
    let dir = builtin_dir();
    let app = TestApp::with_settings(Settings {
        fixtures: Some(dir.path().to_owned()),
        ..Settings::for_tests()
    });
    let before = app.get("/__doublure/state").await.json();
    let zero = dir.path().join("wcs/roles.json");
    std::fs::remove_file(&zero).unwrap();
    std::os::unix::fs::symlink("/dev/zero", &zero).unwrap();
    // Sparse: its size is over the bound, its blocks nothing.
    let large = std::fs::File::create(dir.path().join("wcs/categories.json")).unwrap();
    large.set_len((1 << 30) + 1).unwrap();
    let folder = dir.path().join("wcs/forms.json");
    std::fs::remove_file(&folder).unwrap();
    std::fs::create_dir(&folder).unwrap();

    let response = post_empty(&app, "/__doublure/reload").await;

    let root = dir.path().display();
    assert_json(
        &response,
        StatusCode::BAD_REQUEST,
        json!({"error": "invalid data: nothing was changed", "problems": [
            format!("{root}/wcs/categories.json: 1073741825 bytes: over the 1073741824 bytes a fixture file may have (1024 MiB)"),
            format!("{root}/wcs/forms.json: not a regular file (a folder): fixtures are read from regular files only"),
            format!("{root}/wcs/roles.json: not a regular file (a device): fixtures are read from regular files only"),
        ]}),
    );
    assert_eq!(app.get("/__doublure/state").await.json(), before);
}
