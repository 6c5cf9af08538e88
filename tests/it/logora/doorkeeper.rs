//! Doorkeeper profiles: `--doorkeeper 5.9.6` (or an application's
//! `doorkeeper` field) names a missing scope `insufficient_scope` with its
//! `WWW-Authenticate`, and refuses HTTP Basic sent with body credentials.

use axum::http::StatusCode;
use doublure::testing::config::{Doorkeeper, Settings};
use doublure::testing::data::{Data, builtin_files, read_dir};
use serde_json::json;

use crate::common::TestApp;
use crate::common::logora::token;

fn app(profile: Doorkeeper) -> TestApp {
    TestApp::with_settings(Settings {
        doorkeeper: profile,
        ..Settings::for_tests()
    })
}

/// Basic `API_KEY:API_SECRET`.
const BASIC: &str = "Basic QVBJX0tFWTpBUElfU0VDUkVU";

#[tokio::test]
async fn doorkeeper_5_9_6_answers_a_missing_scope_with_insufficient_scope_and_its_www_authenticate()
{
    let app = app(Doorkeeper::V5_9_6);
    let token = token(&app, "public").await;
    let response = app
        .json(
            "POST",
            "/api/v1/users/nobody/anonymize",
            None,
            &[("authorization", &format!("Bearer {token}"))],
        )
        .await;
    assert_eq!(response.status, StatusCode::FORBIDDEN);
    assert_eq!(
        response.json(),
        json!({"error": "insufficient_scope",
            "error_description": "Access to this resource requires scope \"authentication\".",
            "state": "forbidden"})
    );
    assert_eq!(
        response.header("www-authenticate"),
        "Bearer realm=\"Doorkeeper\", error=\"insufficient_scope\", error_description=\"Access to this resource requires scope \"authentication\".\""
    );
    assert_eq!(response.header("cache-control"), "no-store");
}

#[tokio::test]
async fn doorkeeper_5_9_6_refuses_basic_sent_with_body_credentials_and_takes_either_alone() {
    let app = app(Doorkeeper::V5_9_6);
    let both = app
        .post_form(
            "/oauth/token",
            "grant_type=client_credentials&client_id=API_KEY&client_secret=API_SECRET",
            &[("authorization", BASIC)],
        )
        .await;
    assert_eq!(both.status, StatusCode::BAD_REQUEST);
    let text = "The request utilizes more than one mechanism for authenticating the client.";
    assert_eq!(
        both.json(),
        json!({"error": "invalid_request", "error_description": text})
    );
    assert_eq!(
        both.header("www-authenticate"),
        format!(
            "Bearer realm=\"Doorkeeper\", error=\"invalid_request\", error_description=\"{text}\""
        )
    );
    let basic = app
        .post_form(
            "/oauth/token",
            "grant_type=client_credentials",
            &[("authorization", BASIC)],
        )
        .await;
    assert_eq!(basic.status, StatusCode::OK);
    let body = app
        .post_form(
            "/oauth/token",
            "grant_type=client_credentials&client_id=API_KEY&client_secret=API_SECRET",
            &[],
        )
        .await;
    assert_eq!(body.status, StatusCode::OK);
}

#[tokio::test]
async fn doorkeeper_5_9_0_stays_the_default_basic_winning_and_the_403_without_www_authenticate() {
    let app = app(Doorkeeper::default());
    let both = app
        .post_form(
            "/oauth/token",
            "grant_type=client_credentials&client_id=API_KEY&client_secret=API_SECRET",
            &[("authorization", BASIC)],
        )
        .await;
    assert_eq!(both.status, StatusCode::OK);
    let token = token(&app, "public").await;
    let response = app
        .json(
            "POST",
            "/api/v1/users/nobody/anonymize",
            None,
            &[("authorization", &format!("Bearer {token}"))],
        )
        .await;
    assert_eq!(response.json()["error"], "invalid_scope");
    assert!(!response.has_header("www-authenticate"));
}

#[test]
fn an_unknown_doorkeeper_version_in_the_fixtures_is_named_by_file_item_and_field() {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in builtin_files() {
        let path = dir.path().join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        let text = if *name == "logora/applications.json" {
            text.replacen("\"id\": 2,", "\"id\": 2, \"doorkeeper\": \"5.8.0\",", 1)
        } else {
            (*text).to_owned()
        };
        std::fs::write(path, text).unwrap();
    }
    let problems = read_dir(dir.path())
        .and_then(|files| Data::load(&files))
        .unwrap_err()
        .to_string();
    let root = dir.path().display();
    assert_eq!(
        problems,
        format!(
            "{root}/logora/applications.json: item 2 (id 2): field doorkeeper: \"5.8.0\" is no Doorkeeper profile (one of 5.9.0, 5.9.6)"
        )
    );
}
