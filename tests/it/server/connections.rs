//! The connection layer over real sockets: what the HTTP layer refuses
//! itself is answered in the API's format, a slow or stalled request head
//! and an idle keep-alive connection are closed after their own timeouts
//! (tokio's paused clock moves time, so nothing waits for real), a slow
//! answer is never cut, and running out of file descriptors is logged
//! once.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use crate::common::Served;
use doublure::testing::AppState;
use doublure::testing::config::Settings;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::Instant;

/// Sends `raw` on a new connection and reads until the server closes it.
async fn exchange(served: &Served, raw: &[u8]) -> String {
    let mut stream = TcpStream::connect(served.addr).await.unwrap();
    stream.write_all(raw).await.unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await.unwrap();
    String::from_utf8(answer).unwrap()
}

/// The status line, the headers by name, and the body of an answer.
fn split(answer: &str) -> (&str, Vec<(&str, &str)>, &str) {
    let (head, body) = answer.split_once("\r\n\r\n").expect("a whole answer");
    let mut lines = head.split("\r\n");
    let status = lines.next().unwrap();
    let headers = lines.filter_map(|l| l.split_once(": ")).collect();
    (status, headers, body)
}

fn header<'a>(headers: &[(&'a str, &'a str)], name: &str) -> Option<&'a str> {
    headers.iter().find(|(n, _)| *n == name).map(|(_, v)| *v)
}

#[tokio::test]
async fn what_the_http_layer_refuses_itself_is_answered_in_the_apis_format() {
    let served = Served::start(AppState::for_tests()).await;
    let too_many: String = (0..120).map(|i| format!("x-h{i}: 1\r\n")).collect();
    let cases: Vec<(Vec<u8>, &str, &str, Value)> = vec![
        (
            format!("GET /oauth/token?{} HTTP/1.1\r\nhost: x\r\n\r\n", "a".repeat(70_000)).into_bytes(),
            "HTTP/1.1 414 URI Too Long",
            "application/json; charset=utf-8",
            json!({"error": "invalid_request", "error_description": "URI too long: the request target is longer than the 16384 bytes doublure accepts"}),
        ),
        (
            format!("GET /__ns/t1/api/user/ HTTP/1.1\r\nhost: x\r\n{too_many}\r\n").into_bytes(),
            "HTTP/1.1 431 Request Header Fields Too Large",
            "application/json",
            json!({"err": 1, "err_class": "Request Header Fields Too Large", "err_code": "request-header-fields-too-large", "err_desc": "request headers too large: doublure accepts up to 100 header fields and 65536 bytes of headers"}),
        ),
        (
            b"GET /__doublure/clock HTTP/1.1\r\nhost: x\r\nnot a header\r\n\r\n".to_vec(),
            "HTTP/1.1 400 Bad Request",
            "application/json",
            json!({"error": "malformed request: the request line or a header line is not valid HTTP/1.1"}),
        ),
        (
            b"POST /api/v1/users HTTP/1.1\r\nhost: x\r\ncontent-length: 1\r\ncontent-length: 2\r\n\r\n"
                .to_vec(),
            "HTTP/1.1 400 Bad Request",
            "application/json; charset=utf-8",
            json!({"success": false, "error": "malformed request: the request line or a header line is not valid HTTP/1.1"}),
        ),
    ];
    for (raw, status_line, content_type, body) in cases {
        let answer = exchange(&served, &raw).await;
        let (status, headers, text) = split(&answer);
        assert_eq!(status, status_line, "{answer}");
        assert_eq!(header(&headers, "content-type"), Some(content_type));
        assert_eq!(header(&headers, "connection"), Some("close"));
        assert_eq!(
            header(&headers, "content-length"),
            Some(text.len().to_string().as_str())
        );
        assert!(header(&headers, "date").is_some(), "{answer}");
        assert_eq!(serde_json::from_str::<Value>(text).unwrap(), body);
    }
    let huge = format!(
        "GET /favicon.ico HTTP/1.1\r\nhost: x\r\nx: {}\r\n\r\n",
        "a".repeat(2_000_000)
    );
    let answer = exchange(&served, huge.as_bytes()).await;
    let (status, headers, text) = split(&answer);
    assert_eq!(status, "HTTP/1.1 431 Request Header Fields Too Large");
    assert_eq!(
        header(&headers, "content-type"),
        Some("text/plain; charset=utf-8")
    );
    assert_eq!(
        text,
        "request headers too large: doublure accepts up to 100 header fields and 65536 bytes of headers\n"
    );
}

#[tokio::test]
async fn a_request_that_follows_a_refused_one_on_another_connection_is_served() {
    let served = Served::start(AppState::for_tests()).await;
    let answer = exchange(&served, b"BAD\r\n\r\n").await;
    assert!(
        answer.starts_with("HTTP/1.1 400 Bad Request\r\n"),
        "{answer}"
    );
    let ok = exchange(
        &served,
        b"GET /__doublure/health HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n",
    )
    .await;
    let (status, _, body) = split(&ok);
    assert_eq!(status, "HTTP/1.1 200 OK");
    assert_eq!(body, r#"{"status":"ok"}"#);
}

#[tokio::test]
async fn a_client_that_sends_a_whole_refused_body_before_reading_gets_the_413_not_a_reset() {
    let served = Served::start(AppState::for_tests()).await;
    // Over both limits (2 MiB, and the control plane's 1 GiB), sent whole
    // before reading, as Python's urllib and requests do: far more than
    // the sockets' buffers hold, so the client is still sending when the
    // refusal comes.
    for (path, announced, refusal) in [
        (
            "/oauth/token",
            50_000_000,
            json!({"error": "invalid_request", "error_description": "request body too large: a body of 50000000 bytes is over the 2097152 bytes doublure's emulated APIs accept"}),
        ),
        (
            "/__doublure/state",
            2_000_000_000,
            json!({"error": "request body too large: a body of 2000000000 bytes is over the 1073741824 bytes the control plane accepts (--admin-body-limit)"}),
        ),
    ] {
        let mut stream = TcpStream::connect(served.addr).await.unwrap();
        let head = format!(
            "PUT {path} HTTP/1.1\r\nhost: localhost\r\ncontent-type: application/json\r\ncontent-length: {announced}\r\n\r\n"
        );
        stream.write_all(head.as_bytes()).await.unwrap();
        let chunk = vec![b' '; 1 << 20];
        for _ in 0..50 {
            stream
                .write_all(&chunk)
                .await
                .unwrap_or_else(|e| panic!("{path}: the body could not be sent: {e}"));
        }
        stream.shutdown().await.unwrap();
        let mut answer = Vec::new();
        stream
            .read_to_end(&mut answer)
            .await
            .unwrap_or_else(|e| panic!("{path}: the answer could not be read: {e}"));
        let answer = String::from_utf8(answer).unwrap();
        let (status, _, body) = split(&answer);
        assert_eq!(status, "HTTP/1.1 413 Payload Too Large", "{path}: {answer}");
        let body: Value = serde_json::from_str(body).unwrap();
        assert_eq!(body, refusal, "{path}");
    }
}

/// Reads from `stream` until the server closes it; returns what came.
async fn until_closed(stream: &mut TcpStream) -> Vec<u8> {
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => return got,
            Ok(n) => got.extend_from_slice(&buf[..n]),
        }
    }
}

fn within(elapsed: Duration, expected: Duration) -> bool {
    elapsed >= expected && elapsed < expected + Duration::from_secs(1)
}

#[tokio::test(start_paused = true)]
async fn a_request_head_not_complete_30_s_after_its_first_byte_is_closed_even_if_bytes_trickle() {
    let served = Served::start(AppState::for_tests()).await;
    let mut stream = TcpStream::connect(served.addr).await.unwrap();
    let head = b"GET /api/v1/users HTTP/1.1\r\nhost: slow.test\r\nx-slow: ";
    stream.write_all(head).await.unwrap();
    let started = Instant::now();
    let (mut reader, mut writer) = stream.into_split();
    // A slowloris: one more byte every second, never the end of the head.
    let trickle = tokio::spawn(async move {
        loop {
            tokio::time::sleep(Duration::from_secs(1)).await;
            if writer.write_all(b"a").await.is_err() {
                return;
            }
        }
    });
    let mut got = Vec::new();
    let closed = reader.read_to_end(&mut got).await;
    trickle.abort();
    assert!(
        within(started.elapsed(), Duration::from_secs(30)),
        "closed after {:?}",
        started.elapsed()
    );
    // Closed without an answer: a clean end, or a reset because the
    // trickled bytes were left unread.
    assert_eq!(String::from_utf8_lossy(&got), "", "nothing is answered");
    match closed {
        Ok(read) => assert_eq!(read, 0),
        Err(e) => assert_eq!(e.kind(), std::io::ErrorKind::ConnectionReset, "{e}"),
    }
}

#[tokio::test(start_paused = true)]
async fn an_idle_keep_alive_connection_is_closed_after_60_s_not_the_header_timeout() {
    let served = Served::start(AppState::for_tests()).await;
    let mut stream = TcpStream::connect(served.addr).await.unwrap();
    let request = b"GET /__doublure/health HTTP/1.1\r\nhost: x\r\n\r\n";
    stream.write_all(request).await.unwrap();
    let mut buf = [0u8; 4096];
    let n = stream.read(&mut buf).await.unwrap();
    let answer = String::from_utf8_lossy(&buf[..n]).into_owned();
    assert!(answer.ends_with(r#"{"status":"ok"}"#), "{answer}");
    let answered = Instant::now();

    // A second request 45 s later, past the header timeout: the connection
    // is still open, because it was idle, not sending a head.
    tokio::time::sleep(Duration::from_secs(45)).await;
    stream.write_all(request).await.unwrap();
    let n = stream.read(&mut buf).await.unwrap();
    assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200 OK"));
    let answered_again = Instant::now();
    assert!(within(answered_again - answered, Duration::from_secs(45)));

    let rest = until_closed(&mut stream).await;
    assert!(rest.is_empty(), "{rest:?}");
    assert!(
        within(answered_again.elapsed(), Duration::from_secs(60)),
        "closed after {:?}",
        answered_again.elapsed()
    );
}

#[tokio::test(start_paused = true)]
async fn a_connection_that_sends_nothing_is_closed_as_idle() {
    let settings = Settings {
        header_read_timeout: Duration::from_secs(5),
        idle_timeout: Duration::from_secs(20),
        ..Settings::for_tests()
    };
    let served = Served::start(AppState::for_tests_with(settings)).await;
    let mut stream = TcpStream::connect(served.addr).await.unwrap();
    let started = Instant::now();
    assert!(until_closed(&mut stream).await.is_empty());
    assert!(
        within(started.elapsed(), Duration::from_secs(20)),
        "closed after {:?}",
        started.elapsed()
    );
}

#[tokio::test(start_paused = true)]
async fn a_slow_answer_is_never_cut_by_the_timeouts() {
    let settings = Settings {
        header_read_timeout: Duration::from_secs(1),
        idle_timeout: Duration::from_secs(1),
        ..Settings::for_tests()
    };
    let state = AppState::for_tests_with(settings);
    state
        .faults
        .add(serde_json::from_value(json!({"path": "/api/v1/slow", "latency_ms": 10_000})).unwrap())
        .unwrap();
    let served = Served::start(state).await;
    let started = Instant::now();
    let answer = exchange(
        &served,
        b"GET /api/v1/slow HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n",
    )
    .await;
    let (status, _, body) = split(&answer);
    assert_eq!(status, "HTTP/1.1 404 Not Found");
    assert_eq!(body, r#"{"success":false,"error":"Not found"}"#);
    assert!(started.elapsed() >= Duration::from_secs(10));
}

#[test]
fn running_out_of_file_descriptors_is_logged_once_and_accepting_resumes() {
    // A low descriptor limit for doublure alone: the shell lowers it, then
    // becomes doublure.
    let mut child = Command::new("sh")
        .args([
            "-c",
            "ulimit -n 48 && exec \"$0\" --listen 127.0.0.1:0 --log-format text",
            env!("CARGO_BIN_EXE_doublure"),
        ])
        .env_remove("DOUBLURE_LOG_LEVEL")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("sh");
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel::<String>();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let wait_for = |needle: &str, seen: &mut Vec<String>| -> String {
        loop {
            let line = rx
                .recv_timeout(Duration::from_secs(30))
                .unwrap_or_else(|_| panic!("no line with {needle:?} in {seen:#?}"));
            seen.push(line.clone());
            if line.contains(needle) {
                return line;
            }
        }
    };
    let mut seen = Vec::new();
    let listening = wait_for("listening on http://", &mut seen);
    let addr: std::net::SocketAddr = listening
        .rsplit("http://")
        .next()
        .unwrap()
        .trim()
        .parse()
        .unwrap();

    // More connections than descriptors: the kernel queues them, doublure
    // cannot accept them all.
    let held: Vec<std::net::TcpStream> = (0..80)
        .map(|_| std::net::TcpStream::connect(addr).unwrap())
        .collect();
    let warning = wait_for("cannot accept connections", &mut seen);
    assert!(warning.contains("WARN"), "{warning}");
    assert!(warning.contains("out of file descriptors"), "{warning}");
    drop(held);
    // Every call is answered again; the run of failures is over, and said
    // so once, at the first accept a second after the last failure.
    let recovered = loop {
        let mut health = std::net::TcpStream::connect(addr).unwrap();
        std::io::Write::write_all(
            &mut health,
            b"GET /__doublure/health HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n",
        )
        .unwrap();
        let mut answer = String::new();
        std::io::Read::read_to_string(&mut health, &mut answer).unwrap();
        assert!(answer.starts_with("HTTP/1.1 200 OK"), "{answer}");
        match rx.recv_timeout(Duration::from_millis(200)) {
            Ok(line) => {
                seen.push(line.clone());
                if line.contains("accepting connections again, after") {
                    break line;
                }
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(e) => panic!("{e}: {seen:#?}"),
        }
        assert!(seen.len() < 100, "{seen:#?}");
    };
    assert!(recovered.contains("INFO"), "{recovered}");

    let _ = child.kill();
    let _ = child.wait();
    seen.extend(rx.try_iter());
    let warnings = seen.iter().filter(|l| l.contains("cannot accept")).count();
    assert_eq!(warnings, 1, "{seen:#?}");
}
