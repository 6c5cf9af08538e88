//! Tests of the connection layer: refusal rewriting and the accept backoff.

use std::io;
use std::time::Duration;

use tokio::time::Instant;

use super::refusal::{replacement, requested_path};
use super::*;

fn emfile() -> io::Error {
    io::Error::from_raw_os_error(libc::EMFILE)
}

#[test]
fn running_out_of_descriptors_pauses_longer_each_time_and_warns_once() {
    let start = Instant::now();
    let mut backoff = AcceptBackoff::default();
    let failure = AcceptFailure::of(&emfile());
    assert_eq!(failure, AcceptFailure::OutOfDescriptors);
    let pauses: Vec<Pause> = (0..12)
        .map(|i| {
            backoff
                .failed(failure, start + Duration::from_millis(i))
                .unwrap()
        })
        .collect();
    let waits: Vec<u64> = pauses.iter().map(|p| p.wait.as_millis() as u64).collect();
    assert_eq!(
        waits,
        [5, 10, 20, 40, 80, 160, 320, 640, 1000, 1000, 1000, 1000]
    );
    let warnings = pauses.iter().filter(|p| p.first).count();
    assert_eq!(warnings, 1);
    assert!(pauses[0].first);
}

#[test]
fn a_run_ends_at_the_first_accept_a_second_after_the_last_failure() {
    let start = Instant::now();
    let at = |ms| start + Duration::from_millis(ms);
    let mut backoff = AcceptBackoff::default();
    assert_eq!(backoff.accepted(start), None);
    for ms in [0, 5, 15] {
        backoff.failed(AcceptFailure::OutOfDescriptors, at(ms));
    }
    // Descriptors free up one by one: accepts and failures alternate,
    // the pause starts small again, and it is all one run.
    assert_eq!(backoff.accepted(at(400)), None);
    assert_eq!(
        backoff.failed(AcceptFailure::OutOfDescriptors, at(401)),
        Some(Pause {
            wait: AcceptBackoff::FIRST_PAUSE,
            first: false
        })
    );
    assert_eq!(backoff.accepted(at(1400)), None);
    assert_eq!(
        backoff.accepted(at(1401)),
        Some(Recovery {
            failures: 4,
            over: Duration::from_millis(401)
        })
    );
    assert_eq!(backoff.accepted(at(1500)), None);
    let again = backoff.failed(AcceptFailure::Other, at(2000)).unwrap();
    assert_eq!(
        again,
        Pause {
            wait: AcceptBackoff::FIRST_PAUSE,
            first: true
        }
    );
}

#[test]
fn one_connections_failure_is_retried_at_once_without_a_word() {
    let mut backoff = AcceptBackoff::default();
    let reset = io::Error::from(io::ErrorKind::ConnectionAborted);
    assert_eq!(AcceptFailure::of(&reset), AcceptFailure::OneConnection);
    assert_eq!(
        backoff.failed(AcceptFailure::OneConnection, Instant::now()),
        None
    );
    assert_eq!(backoff.accepted(Instant::now()), None);
    assert_eq!(
        AcceptFailure::of(&io::Error::from_raw_os_error(libc::ENFILE)),
        AcceptFailure::OutOfDescriptors
    );
    assert_eq!(
        AcceptFailure::of(&io::Error::from_raw_os_error(libc::ENOMEM)),
        AcceptFailure::Other
    );
}

#[test]
fn hypers_own_refusal_is_replaced_in_the_format_of_the_requested_api() {
    let hyper = b"HTTP/1.1 414 URI Too Long\r\nconnection: close\r\ncontent-length: 0\r\ndate: Mon, 30 Nov 2026 15:00:00 GMT\r\n\r\n";
    let head = b"GET /__ns/t1/api/v1/users?aaaaaaaaaaaaaaaaaaaaaaaa";
    let answer = String::from_utf8(replacement(hyper, head).unwrap()).unwrap();
    assert!(
        answer.starts_with(
            "HTTP/1.1 414 URI Too Long\r\ncontent-type: application/json; charset=utf-8\r\n"
        ),
        "{answer}"
    );
    assert!(answer.contains("\r\ndate: Mon, 30 Nov 2026 15:00:00 GMT\r\n"));
    assert!(answer.ends_with(
        "\r\n\r\n{\"success\":false,\"error\":\"URI too long: the request target is longer than the 16384 bytes doublure accepts\"}"
    ));
    // An answer of the service's, even a 400, goes through.
    let ours = b"HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}";
    assert_eq!(replacement(ours, head), None);
    let ok = b"HTTP/1.1 200 OK\r\nconnection: close\r\ncontent-length: 0\r\n\r\n";
    assert_eq!(replacement(ok, head), None);
}

#[test]
fn the_requested_path_is_read_from_whatever_part_of_the_head_arrived() {
    assert_eq!(
        requested_path(b"GET /oauth/token HTTP/1.1\r\nHost: x"),
        "/oauth/token"
    );
    assert_eq!(requested_path(b"POST /api/user/?aaaa"), "/api/user/");
    assert_eq!(
        requested_path(b"GET http://h.test:8080/__doublure/state HTTP/1.1"),
        "/__doublure/state"
    );
    assert_eq!(requested_path(b"\x16\x03\x01 binary"), "binary");
    assert_eq!(requested_path(b""), "");
}
