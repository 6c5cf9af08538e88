//! w.c.s. over a real socket and through the built binary: the HMAC covers
//! the query bytes exactly as sent (`%20` vs `+`, lower-case escapes), the
//! reference vectors still match an independent Python signer, and
//! `doublure sign` prints URLs the API accepts.

use crate::common::served::get;
use crate::common::{Served, TestApp, python};
use doublure::testing::AppState;
use doublure::testing::clock::Clock;
use doublure::testing::config::Settings;
use doublure::testing::data::Seed;
use doublure::testing::wcs::signature::{quote, signature};

fn state() -> AppState {
    AppState::for_tests()
}

/// Signs `query` exactly as given (no re-encoding) with demo's key.
fn raw_signed(query: &str, app_now: chrono::DateTime<chrono::Utc>) -> String {
    let q = format!(
        "{query}&orig=demo&algo=sha256&timestamp={}",
        app_now.format("%Y-%m-%dT%H%%3A%M%%3A%SZ")
    );
    let sig = signature("sha256", "demo-secret", &q).unwrap();
    format!("{q}&signature={}", quote(&sig))
}

#[tokio::test]
async fn the_signature_covers_the_raw_query_bytes_as_sent_over_a_socket() {
    let state = state();
    let now = state.clock.now();
    let served = Served::start(state).await;
    // Three spellings of the same email: each is signed as written.
    for query in [
        "email=fred%40example.net",
        "email=fred%40example.net&x=a%20b",
        "email=fred%40example.net&x=a+b",
        "email=fred%40example%2enet",
        "email=FRED%40EXAMPLE.NET&x=%c3%a9",
    ] {
        let (status, body) =
            get(&served.url(&format!("/api/users/?{}", raw_signed(query, now)))).await;
        assert_eq!(status, 200, "{query}: {body}");
        let (status, body) =
            get(&served.url(&format!("/api/user/?{}", raw_signed(query, now)))).await;
        assert_eq!(status, 200, "{query}: {body}");
        assert!(
            body.contains(r#""user_email": "fred@example.net""#),
            "{body}"
        );
    }
}

#[tokio::test]
async fn a_query_re_encoded_after_signing_is_refused_over_a_socket() {
    let state = state();
    let now = state.clock.now();
    let served = Served::start(state).await;
    let signed = raw_signed("email=fred%40example.net&x=a%20b", now);
    for changed in [
        signed.replace("a%20b", "a+b"),
        signed.replace("fred%40", "fred@"),
        signed.replace("%3A", "%3a"),
    ] {
        let (status, body) = get(&served.url(&format!("/api/user/?{changed}"))).await;
        assert_eq!(status, 403, "{changed}");
        assert_eq!(
            body,
            r#"{"err": 1, "err_class": "Access denied", "err_code": "access-denied", "err_desc": "Invalid signature."}"#
        );
    }
}

#[test]
fn the_python_reference_signer_still_produces_the_committed_vectors() {
    let dir = env!("CARGO_MANIFEST_DIR");
    if !python::available("json") {
        return;
    }
    let out = std::process::Command::new("python3")
        .arg(format!("{dir}/tests/wcs_sign_vectors.py"))
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let committed = std::fs::read_to_string(format!("{dir}/tests/data/wcs_vectors.json")).unwrap();
    let fresh: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let committed: serde_json::Value = serde_json::from_str(&committed).unwrap();
    assert_eq!(fresh, committed);
}

fn sign_with_binary(args: &[&str]) -> String {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_doublure"))
        .arg("sign")
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

#[tokio::test]
async fn doublure_sign_prints_a_url_the_router_accepts() {
    let store = Seed::builtin().unwrap();
    let app = TestApp::with_state(AppState::new(store, Clock::system(), Settings::for_tests()));
    let url = sign_with_binary(&[
        "http://localhost:8080/api/user/forms?limit=1",
        "--orig",
        "demo",
        "--email",
        "fred@example.net",
    ]);
    assert!(url.starts_with("http://localhost:8080/api/user/forms?limit=1&email=fred%40example.net&orig=demo&algo=sha256&timestamp="), "{url}");
    let path = url.trim_start_matches("http://localhost:8080");
    let r = app.get(path).await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["data"][0]["form_number"], "456");
    // The nonce makes it single-use.
    assert_eq!(r.status, 200);
    assert_eq!(
        app.get(path).await.json()["err_desc"],
        "Nonce already used."
    );
    let url = sign_with_binary(&[
        "/api/user/",
        "--orig",
        "demo",
        "--key",
        "demo-secret",
        "--name-id",
        "xyz",
        "--algo",
        "sha1",
    ]);
    assert_eq!(
        app.get(&url).await.json()["user_display_name"],
        "Jean Darmette"
    );
}

#[test]
fn doublure_sign_without_a_known_orig_or_with_a_bad_algo_fails() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_doublure"))
        .args(["sign", "/api/user/", "--orig", "nope"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "doublure sign: no API access \"nope\" in the fixtures; pass --key\n"
    );
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_doublure"))
        .args(["sign", "/api/user/", "--orig", "demo", "--algo", "sha42"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}
