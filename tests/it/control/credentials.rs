//! Credentials made without the protocols: Logora tokens minted,
//! listed, revoked and expired by the clock; w.c.s. URLs signed, their
//! nonces forgotten by reset; API accesses added and removed at run time.

use crate::common::TestApp;
use crate::common::control::{assert_error, post_empty, signed_url};
use crate::common::control::{delete, post};
use crate::common::logora::{minted_token, users};
use axum::http::StatusCode;
use serde_json::json;

#[tokio::test]
async fn a_minted_token_works_until_the_clock_moves_7201_seconds() {
    let app = TestApp::new();
    let token = minted_token(&app, "API_KEY", None).await;
    assert_eq!(token.len(), 43);
    assert_eq!(users(&app, "", &token).await.status, StatusCode::OK);

    let moved = post(&app, "/__doublure/clock/advance", json!({"seconds": 7201})).await;
    assert_eq!(moved.status, StatusCode::OK);
    let expired = users(&app, "", &token).await;
    assert_eq!(expired.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        expired.header("www-authenticate"),
        "Bearer realm=\"Doorkeeper\", error=\"invalid_token\", error_description=\"The access token expired\""
    );
}

#[tokio::test]
async fn minted_tokens_are_listed_and_one_revoked_is_refused() {
    let app = TestApp::new();
    let token = minted_token(&app, "API_KEY", Some("public authentication")).await;
    let listed = app.get("/__doublure/logora/tokens").await.json();
    assert_eq!(listed["tokens"][0]["access_token"], token.as_str());
    assert_eq!(listed["tokens"][0]["client_id"], "API_KEY");
    assert_eq!(listed["tokens"][0]["scope"], "public authentication");

    let revoked = delete(&app, &format!("/__doublure/logora/tokens/{token}")).await;
    assert_eq!(revoked.status, StatusCode::OK);
    let refused = users(&app, "", &token).await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        refused.header("www-authenticate"),
        "Bearer realm=\"Doorkeeper\", error=\"invalid_token\", error_description=\"The access token was revoked\""
    );
    assert_eq!(
        app.get("/__doublure/logora/tokens").await.json(),
        json!({"tokens": []})
    );

    let again = delete(&app, "/__doublure/logora/tokens/nonsense").await;
    assert_eq!(again.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn minting_for_an_unknown_client_or_scope_is_refused_clearly() {
    let app = TestApp::new();
    let unknown = post(
        &app,
        "/__doublure/logora/tokens",
        json!({"client_id": "NOPE"}),
    )
    .await;
    assert_error(
        &unknown,
        StatusCode::NOT_FOUND,
        "no client \"NOPE\" in logora/clients.json (Client authentication failed due to unknown client, no client authentication included, or unsupported authentication method.)",
    );
    let scope = post(
        &app,
        "/__doublure/logora/tokens",
        json!({"client_id": "API_KEY", "scope": "everything"}),
    )
    .await;
    assert_error(
        &scope,
        StatusCode::BAD_REQUEST,
        "invalid_scope: The requested scope is invalid, unknown, or malformed.",
    );
}

#[tokio::test]
async fn a_nonce_refused_as_replayed_is_accepted_again_after_reset() {
    let app = TestApp::new();
    let path = signed_url(
        &app,
        json!({"url": "/api/user/forms", "orig": "demo", "email": "fred@example.net"}),
    )
    .await;
    assert!(path.contains("&nonce="), "{path}");
    let first = app.get(&path).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.text());
    assert_eq!(first.json()["data"].as_array().unwrap().len(), 3);

    let replay = app.get(&path).await;
    assert_eq!(replay.status, StatusCode::FORBIDDEN);
    assert_eq!(replay.json()["err_desc"], "Nonce already used.");

    assert_eq!(
        post_empty(&app, "/__doublure/reset").await.status,
        StatusCode::OK
    );
    assert_eq!(app.get(&path).await.status, StatusCode::OK);
}

#[tokio::test]
async fn signing_needs_a_known_orig_or_a_key_and_one_user_at_most() {
    let app = TestApp::new();
    let unknown = post(
        &app,
        "/__doublure/wcs/sign",
        json!({"url": "/api/user/", "orig": "nobody"}),
    )
    .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    let both = post(
        &app,
        "/__doublure/wcs/sign",
        json!({"url": "/api/user/", "orig": "demo", "email": "a@b.c", "name_id": "x"}),
    )
    .await;
    assert_eq!(both.status, StatusCode::BAD_REQUEST);
    let wrong_key = signed_url(
        &app,
        json!({"url": "/api/user/", "orig": "demo", "key": "not-the-key", "email": "fred@example.net"}),
    )
    .await;
    let refused = app.get(&wrong_key).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert_eq!(refused.json()["err_desc"], "Invalid signature.");
}

#[tokio::test]
async fn an_api_access_added_at_run_time_signs_calls_and_its_removal_refuses_them() {
    let app = TestApp::new();
    let created = post(
        &app,
        "/__doublure/wcs/api_accesses",
        json!({"access_identifier": "ci", "access_key": "ci-secret"}),
    )
    .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text());
    let signed = post(
        &app,
        "/__doublure/wcs/sign",
        json!({"url": "/api/user/", "orig": "ci", "email": "fred@example.net"}),
    )
    .await;
    assert_eq!(signed.status, StatusCode::OK, "{}", signed.text());
    let url = signed.json()["url"].as_str().unwrap().to_owned();
    let path = &url[url.find("/api/").unwrap()..];
    let profile = app.get_with(path, &[("accept", "application/json")]).await;
    assert_eq!(profile.status, StatusCode::OK, "{}", profile.text());
    assert_eq!(profile.json()["user_email"], "fred@example.net");

    let removed = delete(&app, "/__doublure/wcs/api_accesses/ci").await;
    assert_eq!(removed.status, StatusCode::NO_CONTENT);
    let refused = app.get_with(path, &[("accept", "application/json")]).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert_eq!(refused.json()["err_desc"], "Invalid orig.");
}
