//! What a namespace costs: the time of a namespace's first request (which
//! makes it) and the memory each one adds, then the time and memory of a
//! one-user change in a namespace, over built-in or generated data. Run by
//! `bench/run`, which puts the figures in docs/performance.md.
//!
//! Run with:
//! `cargo run --release --features bench --bin bench-namespaces -- [--users N] [--count K]`
//! It prints one JSON object.

use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::Request;
use doublure::testing::AppState;
use doublure::testing::clock::Clock;
use doublure::testing::config::{Generate, Settings};
use doublure::testing::data::Seed;
use http_body_util::BodyExt;
use serde_json::json;
use tower::ServiceExt;

/// The binary's allocator (src/main.rs): memory is measured as it serves.
/// The `bench` feature brings the `cli` feature, and with it mimalloc.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn arg(name: &str, default: usize) -> usize {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Resident memory in KiB, from /proc (Linux).
fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

fn micros(d: Duration) -> f64 {
    (d.as_secs_f64() * 1e7).round() / 10.0
}

/// Median, 99th percentile and maximum, in microseconds.
fn spread(mut times: Vec<Duration>) -> serde_json::Value {
    times.sort();
    let at = |q: f64| times[((times.len() - 1) as f64 * q).round() as usize];
    json!({"median_us": micros(at(0.5)), "p99_us": micros(at(0.99)), "max_us": micros(at(1.0))})
}

async fn send(router: &axum::Router, method: &str, uri: &str, body: Option<&str>) -> u16 {
    let mut request = Request::builder().method(method).uri(uri);
    if body.is_some() {
        request = request.header("content-type", "application/json");
    }
    let request = request
        .body(body.map_or_else(Body::empty, |b| Body::from(b.to_owned())))
        .expect("a request");
    let response = router.clone().oneshot(request).await.expect("infallible");
    let status = response.status().as_u16();
    let _ = response.into_body().collect().await;
    status
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let users = arg("--users", 0);
    let count = arg("--count", 200).max(2);
    let generate = Generate {
        logora_users: users,
        ..Generate::default()
    };
    let seed = Seed::build(doublure::testing::data::builtin(), generate).expect("the data loads");
    let mut settings = Settings::for_tests();
    settings.max_namespaces = count + 10;
    let state = AppState::new(seed, Clock::system(), settings);
    let router = doublure::testing::app(state.clone());
    // Warm what every namespace shares (the route templates, the allocator).
    send(&router, "GET", "/__ns/warm/__doublure/health", None).await;

    let before = rss_kib();
    let mut creations = Vec::with_capacity(count);
    for n in 0..count {
        let started = Instant::now();
        let status = send(
            &router,
            "GET",
            &format!("/__ns/n{n}/api/v1/users?api_key=API_KEY&per_page=1"),
            None,
        )
        .await;
        creations.push(started.elapsed());
        assert_eq!(status, 200);
    }
    let per_namespace_kib = (rss_kib().saturating_sub(before)) as f64 / count as f64;

    // One user changed in each of the namespaces (user 21 is a built-in
    // fixture user, in every data set).
    let before = rss_kib();
    let mut changes = Vec::with_capacity(count);
    for n in 0..count {
        let body = format!("{{\"city\": \"Ville {n}\", \"is_expert\": {}}}", n % 2 == 0);
        let started = Instant::now();
        let status = send(
            &router,
            "PATCH",
            &format!("/__ns/n{n}/__doublure/logora/users/21"),
            Some(&body),
        )
        .await;
        changes.push(started.elapsed());
        assert_eq!(status, 200);
    }
    let per_change_kib = (rss_kib().saturating_sub(before)) as f64 / count as f64;

    println!(
        "{}",
        json!({
            "users": state.logora.data.read(|d| d.user_count()),
            "namespaces": count,
            "creation": spread(creations),
            "rss_per_namespace_kib": (per_namespace_kib * 10.0).round() / 10.0,
            "one_user_change": spread(changes),
            "rss_per_change_kib": (per_change_kib * 10.0).round() / 10.0,
        })
    );
}
