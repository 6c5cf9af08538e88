//! `doublure fixtures import` against hostile sources, over real sockets: a
//! server (axum, in the test) whose token never ends, whose pages never
//! end, or which never answers. Each import stops at its limit with an
//! error naming the flag, and leaves no staging directory; SIGINT and
//! SIGTERM too, through the binary.

use std::net::SocketAddr;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::Query;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use doublure::testing::data::builtin_files;
use doublure::testing::import::{
    ImportError, ImportSource, Limits, LogoraArgs, OutputArgs, Secret, run,
};
use indicatif::ProgressBar;
use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_doublure");

/// Serves `router` on 127.0.0.1:0 for the rest of the test.
async fn hostile(router: Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await });
    addr
}

/// A token answer as Doorkeeper gives it.
async fn token() -> Response {
    axum::Json(json!({"access_token": "t0k3n-value", "token_type": "Bearer", "expires_in": 7200, "scope": "public", "created_at": 1}))
        .into_response()
}

/// A page of one new user, and `next-page` always one more.
async fn endless_pages(Query(query): Query<Vec<(String, String)>>) -> Response {
    let page: u64 = query
        .iter()
        .find(|(k, _)| k == "page")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(1);
    let users: Value = serde_json::from_str(
        builtin_files()
            .into_iter()
            .find(|(name, _)| *name == "logora/users.json")
            .unwrap()
            .1,
    )
    .unwrap();
    let mut user = users[0].clone();
    user["id"] = json!(1000 + page);
    (
        [("next-page", (page + 1).to_string())],
        axum::Json(json!({"success": true, "data": [user]})),
    )
        .into_response()
}

fn logora(url: String, out: &Path, limits: Limits) -> ImportSource {
    ImportSource::Logora(LogoraArgs {
        url,
        client_id: "API_KEY".to_owned(),
        client_secret: Secret::new("API_SECRET"),
        scope: None,
        output: OutputArgs {
            out: out.to_owned(),
            anonymize: false,
            limits,
        },
    })
}

/// The names in `dir`.
fn entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[tokio::test]
async fn an_answer_that_never_ends_stops_at_max_response_bytes() {
    // Arrange: a token answer that streams spaces for ever.
    let endless = || async {
        let chunk = bytes::Bytes::from(vec![b' '; 64 << 10]);
        let stream =
            futures_util::stream::repeat_with(move || Ok::<_, std::io::Error>(chunk.clone()));
        Response::new(Body::from_stream(stream))
    };
    let addr = hostile(Router::new().route("/oauth/token", post(endless))).await;
    let out = tempfile::tempdir().unwrap();
    let limits = Limits {
        max_response_bytes: 1 << 20,
        ..Limits::default()
    };

    // Act
    let error = run(
        &logora(format!("http://{addr}"), out.path(), limits),
        &ProgressBar::hidden(),
    )
    .await
    .unwrap_err();

    // Assert
    assert!(matches!(error, ImportError::Limit { .. }), "{error:?}");
    assert_eq!(error.exit_code(), 1);
    assert_eq!(
        error.to_string(),
        format!(
            "POST http://{addr}/oauth/token: the answer is larger than --max-response-bytes \
             (1048576 bytes); raise it if the server's answers are that large"
        )
    );
    assert_eq!(
        entries(out.path()),
        Vec::<String>::new(),
        "nothing left behind"
    );
}

#[tokio::test]
async fn an_answer_announced_larger_than_the_bound_is_not_read() {
    // A server that announces 3 GB, sends one byte and holds on.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let (mut socket, _) = listener.accept().await.unwrap();
        let mut head = [0u8; 4096];
        let _ = socket.read(&mut head).await;
        let _ = socket
            .write_all(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 3000000000\r\n\r\n{")
            .await;
        std::future::pending::<()>().await;
        drop(socket);
    });
    let out = tempfile::tempdir().unwrap();
    let limits = Limits {
        max_response_bytes: 1 << 20,
        ..Limits::default()
    };
    let error = run(
        &logora(format!("http://{addr}"), out.path(), limits),
        &ProgressBar::hidden(),
    )
    .await
    .unwrap_err();
    assert_eq!(
        error.to_string(),
        format!(
            "POST http://{addr}/oauth/token: the answer is larger than --max-response-bytes \
             (1048576 bytes); raise it if the server's answers are that large"
        )
    );
    assert_eq!(entries(out.path()), Vec::<String>::new());
}

#[tokio::test]
async fn a_page_chain_that_never_ends_stops_at_max_pages() {
    let addr = hostile(
        Router::new()
            .route("/oauth/token", post(token))
            .route("/api/v1/users", get(endless_pages)),
    )
    .await;
    let out = tempfile::tempdir().unwrap();
    let limits = Limits {
        max_pages: 5,
        ..Limits::default()
    };

    let error = run(
        &logora(format!("http://{addr}"), out.path(), limits),
        &ProgressBar::hidden(),
    )
    .await
    .unwrap_err();

    assert!(matches!(error, ImportError::Limit { .. }), "{error:?}");
    assert_eq!(
        error.to_string(),
        format!(
            "GET http://{addr}/api/v1/users?page=5&per_page=100: the server has more than \
             --max-pages (5) pages of users; raise it if the application has that many users"
        )
    );
    assert_eq!(entries(out.path()), Vec::<String>::new());
}

#[tokio::test(start_paused = true)]
async fn an_import_that_outlives_max_time_stops_and_leaves_nothing() {
    // A server that takes the request and never answers; the paused clock
    // moves on to the limit as soon as everything waits.
    let silent = || std::future::pending::<Response>();
    let addr = hostile(Router::new().route("/oauth/token", post(silent))).await;
    let out = tempfile::tempdir().unwrap();
    let limits = Limits {
        max_time: Duration::from_secs(5),
        ..Limits::default()
    };

    let error = run(
        &logora(format!("http://{addr}"), out.path(), limits),
        &ProgressBar::hidden(),
    )
    .await
    .unwrap_err();

    assert_eq!(
        error.to_string(),
        format!(
            "the import from http://{addr}: not done after 5 s (--max-time): nothing was \
             written; raise --max-time for a larger or slower server"
        )
    );
    assert_eq!(entries(out.path()), Vec::<String>::new());
}

#[tokio::test]
async fn sigint_or_sigterm_during_an_import_leaves_no_staging_directory() {
    for signal in ["INT", "TERM"] {
        // Arrange: a server that tells when the import is waiting on it.
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<()>();
        let silent = move || {
            let tx = tx.clone();
            async move {
                let _ = tx.send(());
                std::future::pending::<Response>().await
            }
        };
        let addr = hostile(Router::new().route("/oauth/token", post(silent))).await;
        let out = tempfile::tempdir().unwrap();
        let child = Command::new(BIN)
            .args(["fixtures", "import", "logora", "--client-id", "API_KEY"])
            .arg("--url")
            .arg(format!("http://{addr}"))
            .arg("--out")
            .arg(out.path())
            .env("DOUBLURE_IMPORT_CLIENT_SECRET", "API_SECRET")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        rx.recv().await.expect("the import asked for a token");
        let staging: Vec<String> = entries(out.path());
        assert_eq!(staging.len(), 1, "{staging:?}");
        assert!(staging[0].starts_with(".doublure-import-logora-"));

        // Act
        let sent = Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(child.id().to_string())
            .status()
            .unwrap();
        assert!(sent.success());
        let output = tokio::task::spawn_blocking(move || child.wait_with_output())
            .await
            .unwrap()
            .unwrap();

        // Assert
        assert_eq!(output.status.code(), Some(130), "{signal}: {output:?}");
        assert_eq!(
            String::from_utf8_lossy(&output.stderr),
            "doublure fixtures import: interrupted; nothing was written\n"
        );
        assert_eq!(entries(out.path()), Vec::<String>::new(), "{signal}");
    }
}
