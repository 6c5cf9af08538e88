//! The phases of a call in flight over real sockets: a request body that
//! stops arriving is answered 408 in the API's format and its connection
//! closed after `--body-read-timeout`; an answer the client stops reading
//! is cut after `--write-timeout`. tokio's paused clock moves time, so
//! nothing waits for real; each wait for the closed socket is bounded.

use std::time::Duration;

use doublure::testing::AppState;
use doublure::testing::clock::Clock;
use doublure::testing::config::{Generate, Settings};
use doublure::testing::data::{Seed, builtin};
use doublure::testing::state::test_now;
use doublure::testing::wcs::signature::sign_url;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};
use tokio::time::Instant;

use crate::common::Served;

const TIMEOUT: Duration = Duration::from_millis(300);

/// What a client whose body stopped arriving is told.
const CUT: &str = "request timeout: the request body stopped arriving before its end \
                   (--body-read-timeout); the connection is closed";

fn settings() -> Settings {
    Settings {
        body_read_timeout: TIMEOUT,
        write_timeout: TIMEOUT,
        header_read_timeout: Duration::from_secs(20),
        idle_timeout: Duration::from_secs(20),
        ..Settings::for_tests()
    }
}

/// Reads until the server closes the connection (or resets it), within a
/// bounded time.
async fn until_closed(stream: &mut TcpStream) -> Vec<u8> {
    let mut out = Vec::new();
    let mut buf = [0u8; 65536];
    let read = async {
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => out.extend_from_slice(&buf[..n]),
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(60), read)
        .await
        .expect("the server closed the connection");
    out
}

#[tokio::test(start_paused = true)]
async fn a_body_that_stops_arriving_gets_a_408_in_the_apis_format_and_the_connection_closes() {
    let served = Served::start(AppState::for_tests_with(settings())).await;
    let cases: [(&str, &str, Value); 3] = [
        (
            "POST /oauth/token\r\ncontent-type: application/x-www-form-urlencoded",
            "application/json; charset=utf-8",
            json!({"error": "invalid_request", "error_description": CUT}),
        ),
        (
            "POST /__ns/slow/api/user/preferences\r\ncontent-type: application/json",
            "application/json",
            json!({"err": 1, "err_class": "Request Timeout", "err_code": "request-timeout", "err_desc": CUT}),
        ),
        (
            "PUT /__doublure/state\r\ncontent-type: application/json",
            "application/json",
            json!({"error": CUT}),
        ),
    ];
    for (head, content_type, body) in cases {
        let (request_line, sent_type) = head.split_once("\r\n").unwrap();
        let mut stream = TcpStream::connect(served.addr).await.unwrap();
        let started = Instant::now();
        stream
            .write_all(
                format!(
                    "{request_line} HTTP/1.1\r\nhost: localhost\r\n{sent_type}\r\n\
                     content-length: 100\r\n\r\n{{\"grant_typ"
                )
                .as_bytes(),
            )
            .await
            .unwrap();
        let answer = String::from_utf8(until_closed(&mut stream).await).unwrap();
        let elapsed = started.elapsed();
        assert!(
            elapsed >= TIMEOUT && elapsed < TIMEOUT * 3,
            "{request_line}: closed after {elapsed:?}"
        );
        let (head, got) = answer.split_once("\r\n\r\n").expect("a whole answer");
        let mut lines = head.split("\r\n");
        assert_eq!(
            lines.next(),
            Some("HTTP/1.1 408 Request Timeout"),
            "{answer}"
        );
        let headers: Vec<(&str, &str)> = lines.filter_map(|l| l.split_once(": ")).collect();
        let header = |name: &str| headers.iter().find(|(n, _)| *n == name).map(|(_, v)| *v);
        assert_eq!(header("content-type"), Some(content_type), "{answer}");
        assert_eq!(header("connection"), Some("close"), "{answer}");
        assert_eq!(serde_json::from_str::<Value>(got).unwrap(), body);
    }
}

#[tokio::test(start_paused = true)]
async fn a_body_that_keeps_arriving_is_read_whatever_its_total_time() {
    let served = Served::start(AppState::for_tests_with(settings())).await;
    let mut stream = TcpStream::connect(served.addr).await.unwrap();
    let body = "grant_type=client_credentials&client_id=nobody&client_secret=x";
    stream
        .write_all(
            format!(
                "POST /oauth/token HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\
                 content-type: application/x-www-form-urlencoded\r\ncontent-length: {}\r\n\r\n",
                body.len()
            )
            .as_bytes(),
        )
        .await
        .unwrap();
    // Each piece comes within the timeout, all of them over longer.
    let started = Instant::now();
    for piece in body.as_bytes().chunks(8) {
        tokio::time::sleep(TIMEOUT / 2).await;
        stream.write_all(piece).await.unwrap();
    }
    assert!(started.elapsed() > TIMEOUT * 3);
    let answer = String::from_utf8(until_closed(&mut stream).await).unwrap();
    assert!(
        answer.starts_with("HTTP/1.1 401 Unauthorized\r\n"),
        "{answer}"
    );
}

// Real time, not a paused clock: the answer is rendered off the runtime,
// and a paused clock jumps ahead whenever the runtime waits for it, so on a
// loaded machine the test's own 60 s guard could pass before the server had
// written a byte.
#[tokio::test]
async fn an_answer_the_client_stops_reading_is_cut_after_the_write_timeout() {
    let generate = Generate {
        logora_users: 0,
        wcs_users: 12_000,
        forms_per_user: 0,
        seed: 5,
    };
    let seed = Seed::build(builtin(), generate).expect("generated data loads");
    let state = AppState::new(seed, Clock::frozen(test_now()), settings());
    let path = sign_url(
        "/api/users/",
        "demo",
        "demo-secret",
        "sha256",
        state.clock.now(),
        Some(""),
    )
    .unwrap();
    let served = Served::start(state).await;

    // A client that reads with a tiny buffer, and not at first.
    let socket = TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let mut stream = socket.connect(served.addr).await.unwrap();
    stream
        .write_all(format!("GET {path} HTTP/1.1\r\nhost: x\r\n\r\n").as_bytes())
        .await
        .unwrap();
    let started = Instant::now();
    // The head first, so that the server is known to be writing; then
    // nothing read for ten times the write timeout: on a loaded machine the
    // server's timer may be late, never by seconds.
    let mut answer = Vec::new();
    let mut buf = [0u8; 4096];
    while !answer.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = stream.read(&mut buf).await.unwrap();
        assert!(n > 0, "closed before the head");
        answer.extend_from_slice(&buf[..n]);
    }
    tokio::time::sleep(TIMEOUT * 10).await;
    answer.extend(until_closed(&mut stream).await);
    let head_end = answer
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("the head was sent")
        + 4;
    let head = String::from_utf8_lossy(&answer[..head_end]);
    assert!(head.starts_with("HTTP/1.1 200 OK\r\n"), "{head}");
    let length: usize = head
        .split("\r\n")
        .find_map(|l| l.strip_prefix("content-length: "))
        .expect("a content-length")
        .parse()
        .unwrap();
    let got = answer.len() - head_end;
    assert!(
        length > 5_000_000,
        "{length} bytes: too short to fill the buffers"
    );
    assert!(got < length, "the whole answer came ({got} bytes)");
    assert!(started.elapsed() < Duration::from_secs(30));
}
