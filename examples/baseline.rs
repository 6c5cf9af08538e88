//! The benchmark's baseline: a bare axum server that answers every GET with
//! the same bytes and headers doublure gave for one page, and does nothing
//! else. Every doublure figure in docs/performance.md reads as a ratio to
//! this one, measured in the same run on the same machine. Given a second
//! body and headers, it answers `POST /oauth/token` with them (doublure's token
//! JSON, for the instruction counts of the token).
//!
//! Run with:
//! `cargo run --release --example baseline -- 127.0.0.1:9090 body.json headers.txt [post.json post-headers.txt]`
//! where the headers files hold `name: value` lines.

use axum::Router;
use axum::body::Bytes;
use axum::http::{HeaderMap, HeaderName, HeaderValue};
use axum::response::IntoResponse;
use axum::routing::post;

fn headers_of(path: &str) -> HeaderMap {
    let mut headers = HeaderMap::new();
    for line in std::fs::read_to_string(path).expect("headers file").lines() {
        if let Some((name, value)) = line.split_once(':')
            && let (Ok(name), Ok(value)) = (
                HeaderName::try_from(name.trim()),
                HeaderValue::try_from(value.trim()),
            )
        {
            headers.append(name, value);
        }
    }
    headers
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() != 4 && args.len() != 6 {
        eprintln!("usage: baseline ADDR BODY_FILE HEADERS_FILE [POST_BODY_FILE POST_HEADERS_FILE]");
        std::process::exit(2);
    }
    let body = Bytes::from(std::fs::read(&args[2]).expect("body file"));
    let headers = headers_of(&args[3]);
    let mut app = Router::new().fallback(move || {
        let (headers, body) = (headers.clone(), body.clone());
        async move { (headers, body).into_response() }
    });
    if args.len() == 6 {
        let post_body = Bytes::from(std::fs::read(&args[4]).expect("POST body file"));
        let post_headers = headers_of(&args[5]);
        app = app.route(
            "/oauth/token",
            post(move || {
                let (headers, body) = (post_headers.clone(), post_body.clone());
                async move { (headers, body).into_response() }
            }),
        );
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(&args[1]).await.expect("bind");
        println!(
            "baseline listening on http://{}",
            listener.local_addr().expect("addr")
        );
        axum::serve(listener, app).await.expect("serve");
    });
}
