//! The web console's server side: the live journal stream
//! (`/__doublure/requests/stream`) read frame by frame through the real
//! router, and the console's files at `/__doublure/ui/`.

use crate::common::control::assert_error;
use crate::common::{Served, TestApp};
use axum::http::StatusCode;
use doublure::testing::AppState;
use doublure::testing::config::Settings;
use serde_json::json;

#[tokio::test]
async fn each_call_arrives_on_the_stream_as_a_request_event_equal_to_its_journal_entry() {
    // Arrange
    let state = AppState::for_tests();
    let app = TestApp::with_state(state.clone());
    let mut live = app.open("/__doublure/requests/stream", &[]).await;
    assert_eq!(live.status, StatusCode::OK);
    assert_eq!(live.headers["content-type"], "text/event-stream");
    assert_eq!(live.headers["cache-control"], "no-cache");
    assert_eq!(live.headers["x-accel-buffering"], "no");

    // Act
    assert_eq!(
        app.get("/api/v1/users").await.status,
        StatusCode::UNAUTHORIZED
    );
    let text = live.frame().await.expect("an event");

    // Assert
    let journal = TestApp::with_state(state)
        .get("/__doublure/requests")
        .await
        .json();
    let entry = &journal["requests"][0];
    assert_eq!(
        text,
        format!("event: request\nid: 1\ndata: {entry}\n\n"),
        "one event, its id, the entry as GET /__doublure/requests gives it"
    );
    assert_eq!(entry["path"], "/api/v1/users");
    assert_eq!(entry["status"], 401);
}

#[tokio::test]
async fn without_last_event_id_the_stream_starts_with_the_next_call() {
    let app = TestApp::with_state(AppState::for_tests());
    app.get("/api/v1/users").await;
    app.get("/api/v1/users").await;
    let mut live = app.open("/__doublure/requests/stream", &[]).await;

    app.get("/api/user/").await;

    let (_, id, data) = live.event().await;
    assert_eq!((id.as_str(), &data["path"]), ("3", &json!("/api/user/")));
}

#[tokio::test]
async fn a_reconnect_with_last_event_id_first_replays_what_it_missed_then_follows() {
    let app = TestApp::with_state(AppState::for_tests());
    for _ in 0..3 {
        app.get("/api/v1/users").await;
    }
    let mut live = app
        .open("/__doublure/requests/stream", &[("last-event-id", "1")])
        .await;
    app.get("/api/user/").await;

    let mut ids = Vec::new();
    for _ in 0..3 {
        let (event, id, data) = live.event().await;
        assert_eq!(event, "request");
        ids.push((id, data["path"].as_str().unwrap().to_owned()));
    }
    assert_eq!(
        ids,
        [
            ("2".to_owned(), "/api/v1/users".to_owned()),
            ("3".to_owned(), "/api/v1/users".to_owned()),
            ("4".to_owned(), "/api/user/".to_owned()),
        ]
    );
}

#[tokio::test]
async fn a_last_event_id_from_before_a_restart_replays_everything_kept() {
    let app = TestApp::with_state(AppState::for_tests());
    app.get("/api/v1/users").await;
    app.get("/api/user/").await;

    let mut live = app
        .open("/__doublure/requests/stream", &[("last-event-id", "500")])
        .await;

    assert_eq!(live.event().await.1, "1");
    assert_eq!(live.event().await.1, "2");
}

#[tokio::test]
async fn the_stream_honours_the_path_method_and_status_filters() {
    let app = TestApp::with_state(AppState::for_tests());
    let mut live = app
        .open(
            "/__doublure/requests/stream?path=/api/v1&method=get&status=200",
            &[],
        )
        .await;

    app.get("/api/v1/users").await; // 401
    app.get("/api/user/").await; // another path
    app.get("/api/v1/users?api_key=API_KEY").await; // the one

    let (_, id, data) = live.event().await;
    assert_eq!(id, "3");
    assert_eq!(data["query"], "api_key=API_KEY");
    assert_eq!(data["status"], 200);
}

#[tokio::test]
async fn a_bad_filter_or_last_event_id_gets_a_clear_400() {
    let app = TestApp::new();

    let unknown = app.get("/__doublure/requests/stream?since=yesterday").await;
    assert_error(
        &unknown,
        StatusCode::BAD_REQUEST,
        "Failed to deserialize query string: since: unknown field `since`, expected one of `path`, `method`, `status`",
    );

    let bad_id = app
        .get_with(
            "/__doublure/requests/stream",
            &[("last-event-id", "yesterday")],
        )
        .await;
    assert_eq!(bad_id.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        bad_id.json(),
        json!({"error": "Last-Event-ID must be a journal entry id (a whole number), got \"yesterday\""})
    );
}

#[tokio::test]
async fn the_stream_needs_the_admin_token_when_one_is_set() {
    let app = TestApp::with_state(AppState::for_tests_with(Settings {
        admin_token: Some("s3cret".into()),
        ..Settings::for_tests()
    }));

    let refused = app.open("/__doublure/requests/stream", &[]).await;
    let admitted = app
        .open(
            "/__doublure/requests/stream",
            &[("authorization", "Bearer s3cret")],
        )
        .await;

    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
    assert_eq!(admitted.status, StatusCode::OK);
}

#[tokio::test(start_paused = true)]
async fn a_quiet_stream_sends_a_keep_alive_comment_every_15_seconds() {
    let app = TestApp::with_state(AppState::for_tests());
    let mut live = app.open("/__doublure/requests/stream", &[]).await;
    let opened = tokio::time::Instant::now();

    // The paused runtime moves its clock to the next timer when idle.
    let first = live.frame().await;
    let second = live.frame().await;

    assert_eq!(first.as_deref(), Some(": keep-alive\n\n"));
    assert_eq!(second.as_deref(), Some(": keep-alive\n\n"));
    assert_eq!(opened.elapsed(), std::time::Duration::from_secs(30));
}

#[tokio::test]
async fn a_reader_that_falls_behind_gets_every_entry_in_order_from_the_ring() {
    // More calls than the channel holds, none read until the end.
    let app = TestApp::with_state(AppState::for_tests_with(Settings {
        journal_size: 3000,
        ..Settings::for_tests()
    }));
    let mut live = app.open("/__doublure/requests/stream", &[]).await;
    for _ in 0..1500 {
        app.get("/api/v1/users").await;
    }

    let mut ids = Vec::new();
    for _ in 0..1500 {
        ids.push(live.event().await.1.parse::<u64>().unwrap());
    }

    assert_eq!(ids, (1..=1500).collect::<Vec<_>>());
}

#[tokio::test]
async fn a_graceful_stop_ends_open_streams_instead_of_waiting_for_them() {
    let served = Served::start(AppState::for_tests()).await;
    let mut response = reqwest::get(served.url("/__doublure/requests/stream"))
        .await
        .expect("the stream opens");
    assert_eq!(response.status(), 200);

    let stopped = tokio::time::timeout(std::time::Duration::from_secs(60), served.stop()).await;

    assert!(
        matches!(stopped, Ok(Ok(()))),
        "the server stopped: {stopped:?}"
    );
    assert_eq!(
        response.chunk().await.expect("a clean end"),
        None,
        "the stream ended"
    );
}

#[tokio::test]
async fn the_stream_is_in_the_openapi_document_as_server_sent_events() {
    let app = TestApp::new();

    let document = app.get("/__doublure/openapi.json").await.json();

    let get = &document["paths"]["/__doublure/requests/stream"]["get"];
    assert_eq!(get["tags"], json!(["journal"]));
    assert!(get["responses"]["200"]["content"]["text/event-stream"].is_object());
    let parameters: Vec<&str> = get["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(parameters, ["path", "method", "status", "Last-Event-ID"]);
}

const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; \
    connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

#[tokio::test]
async fn the_console_page_loads_without_the_admin_token_under_a_strict_policy() {
    let app = TestApp::with_state(AppState::for_tests_with(Settings {
        admin_token: Some("s3cret".into()),
        ..Settings::for_tests()
    }));

    let page = app.get("/__doublure/ui/").await;

    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(page.header("content-type"), "text/html; charset=utf-8");
    assert_eq!(page.header("content-security-policy"), CSP);
    assert_eq!(page.header("cache-control"), "no-cache");
    assert_eq!(page.header("x-content-type-options"), "nosniff");
    assert!(page.text().contains("<title>doublure console</title>"));
    // The data behind it still needs the token.
    assert_eq!(
        app.get("/__doublure/clock").await.status,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn the_address_without_a_slash_redirects_relatively_to_the_one_with() {
    let app = TestApp::new();

    let response = app.get("/__doublure/ui").await;

    assert_eq!(response.status, StatusCode::PERMANENT_REDIRECT);
    assert_eq!(response.header("location"), "ui/");
}

/// Every file the page names (`src`, `href`, module imports), found by
/// reading the files the server gives.
async fn referenced_files(app: &TestApp) -> Vec<String> {
    let mut files = vec!["index.html".to_owned()];
    let mut at = 0;
    while at < files.len() {
        let text = app
            .get(&format!("/__doublure/ui/{}", files[at]))
            .await
            .text();
        for marker in ["src=\"", "href=\"", "from './"] {
            for piece in text.split(marker).skip(1) {
                let name = piece
                    .split(['"', '\''])
                    .next()
                    .unwrap()
                    .trim_start_matches("./");
                if !name.contains(':') && !name.contains('/') && !files.iter().any(|f| f == name) {
                    files.push(name.to_owned());
                }
            }
        }
        at += 1;
    }
    files
}

#[tokio::test]
async fn every_file_the_page_uses_is_served_with_its_type() {
    let app = TestApp::new();

    let files = referenced_files(&app).await;

    let mut types = Vec::new();
    for file in &files {
        let response = app.get(&format!("/__doublure/ui/{file}")).await;
        assert_eq!(response.status, StatusCode::OK, "{file}");
        types.push((file.as_str(), response.header("content-type").to_owned()));
    }
    types.sort();
    let js = "text/javascript; charset=utf-8".to_owned();
    assert_eq!(
        types,
        [
            ("api.js", js.clone()),
            ("app.js", js.clone()),
            ("clock.js", js.clone()),
            ("credentials.js", js.clone()),
            ("data.js", js.clone()),
            ("dom.js", js.clone()),
            ("faults.js", js.clone()),
            ("icon.svg", "image/svg+xml".to_owned()),
            ("index.html", "text/html; charset=utf-8".to_owned()),
            ("journal.js", js.clone()),
            ("style.css", "text/css; charset=utf-8".to_owned()),
        ]
    );
}

#[tokio::test]
async fn a_file_the_browser_already_has_is_a_304_without_a_body() {
    let app = TestApp::new();
    let first = app.get("/__doublure/ui/app.js").await;
    let etag = first.header("etag").to_owned();

    let again = app
        .get_with("/__doublure/ui/app.js", &[("if-none-match", &etag)])
        .await;
    let changed = app
        .get_with("/__doublure/ui/app.js", &[("if-none-match", "\"other\"")])
        .await;

    assert_eq!(again.status, StatusCode::NOT_MODIFIED);
    assert_eq!(again.header("etag"), etag);
    assert!(again.body.is_empty());
    assert_eq!(changed.status, StatusCode::OK);
    assert_eq!(changed.body, first.body);
}

#[tokio::test]
async fn an_unknown_console_file_is_a_404_in_the_control_plane_format() {
    let app = TestApp::new();

    let response = app.get("/__doublure/ui/secrets.json").await;

    assert_eq!(response.status, StatusCode::NOT_FOUND);
    assert_eq!(
        response.json(),
        json!({"error": "the console has no file \"secrets.json\""})
    );
}

/// Whether `node` runs; where CI runs (`CI` or `DOUBLURE_REQUIRE_PYTEST`
/// set, as for Python) its absence is a failure, elsewhere a skip.
fn node_available() -> bool {
    let ok = std::process::Command::new("node")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        let required = ["DOUBLURE_REQUIRE_PYTEST", "CI"].into_iter().find(|name| {
            std::env::var(name).is_ok_and(|v| !["", "0", "false"].contains(&v.as_str()))
        });
        if let Some(name) = required {
            panic!("{name} is set but node does not run");
        }
        eprintln!("skipped: node does not run");
    }
    ok
}

#[tokio::test]
async fn copy_as_curl_quotes_a_hostile_method_and_headers_so_bash_runs_nothing_of_theirs() {
    if !node_available()
        || std::process::Command::new("bash")
            .arg("-c")
            .arg("true")
            .status()
            .is_err()
    {
        return;
    }
    // Arrange: a raw call whose method and headers are shell, journaled.
    let app = TestApp::with_state(AppState::for_tests());
    let method = "X`touch$IFS'pwned'`";
    let quoted = r#"it's $(touch pwned2) `touch pwned3` "$HOME" \ ; touch pwned4 & !1"#;
    let request = axum::http::Request::builder()
        .method(method)
        .uri("/api/v1/users?q=$(touch$IFS'pwned5')")
        .header("x-quote", quoted)
        .header("x-`touch$IFS'pwned6'`", "'")
        .body(axum::body::Body::empty())
        .unwrap();
    app.send(request).await;
    let journal = app.get("/__doublure/requests").await.json();
    let entry = journal["requests"][0].clone();
    assert_eq!(entry["method"], method);

    // The console's own files, as it serves them, and its own function.
    let dir = tempfile::tempdir().unwrap();
    for file in ["api.js", "dom.js", "journal.js"] {
        let served = app.get(&format!("/__doublure/ui/{file}")).await;
        assert_eq!(served.status, StatusCode::OK);
        std::fs::write(dir.path().join(file), &served.body).unwrap();
    }
    std::fs::write(dir.path().join("package.json"), r#"{"type": "module"}"#).unwrap();
    std::fs::write(
        dir.path().join("harness.js"),
        "globalThis.location = new URL('http://localhost:8080/__doublure/ui/');\n\
         const {curl} = await import('./journal.js');\n\
         process.stdout.write(curl(JSON.parse(process.argv[2])));\n",
    )
    .unwrap();
    let node = std::process::Command::new("node")
        .current_dir(dir.path())
        .args(["harness.js", &entry.to_string()])
        .output()
        .unwrap();
    assert!(
        node.status.success(),
        "{}",
        String::from_utf8_lossy(&node.stderr)
    );
    let command = String::from_utf8(node.stdout).unwrap();

    // Act: the command pasted into bash, with curl a stub that prints its
    // arguments.
    let syntax = std::process::Command::new("bash")
        .args(["-n", "-c", &command])
        .output()
        .unwrap();
    let bin = dir.path().join("bin");
    let run = dir.path().join("run");
    std::fs::create_dir_all(&bin).unwrap();
    std::fs::create_dir_all(&run).unwrap();
    std::fs::write(
        bin.join("curl"),
        "#!/bin/sh\nfor a in \"$@\"; do printf '%s\\0' \"$a\"; done\n",
    )
    .unwrap();
    std::process::Command::new("chmod")
        .args(["+x", bin.join("curl").to_str().unwrap()])
        .status()
        .unwrap();
    let pasted = std::process::Command::new("bash")
        .args(["-c", &command])
        .current_dir(&run)
        .env("PATH", format!("{}:/usr/bin:/bin", bin.display()))
        .output()
        .unwrap();

    // Assert
    assert!(syntax.status.success(), "{command}");
    assert!(pasted.status.success(), "{command}: {pasted:?}");
    assert_eq!(
        std::fs::read_dir(&run).unwrap().count(),
        0,
        "bash made files: {command}"
    );
    let argv: Vec<String> = String::from_utf8(pasted.stdout)
        .unwrap()
        .split_terminator('\0')
        .map(str::to_owned)
        .collect();
    assert_eq!(
        argv,
        [
            "-X",
            method,
            "-H",
            &format!("x-quote: {quoted}"),
            "-H",
            "x-`touch$ifs'pwned6'`: '",
            "http://localhost:8080/api/v1/users?q=$(touch$IFS'pwned5')",
        ],
        "{command}"
    );
}
