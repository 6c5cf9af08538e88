//! What the Logora API remembers between requests to answer the next one
//! with less work (verified tokens, written pages) never changes an
//! answer: each test uses a token or a page first, so that it is
//! remembered, then changes what it depended on.

use crate::common::TestApp;
use crate::common::control::{delete, patch, post_empty};
use crate::common::logora::{revoke, token, token_at, user_in, users, users_at};
use axum::http::StatusCode;
use chrono::TimeDelta;
use serde_json::{Value, json};

const JEAN: &str = "02b3a18e-be9c-4f47-a2b3-a5867278cdc7";

fn assert_refused(response: &crate::common::TestResponse, description: &str) {
    assert_eq!(
        response.status,
        StatusCode::UNAUTHORIZED,
        "{}",
        response.text()
    );
    assert_eq!(response.json()["error_description"], description);
}

#[tokio::test]
async fn a_token_used_before_still_expires_at_its_exact_second() {
    let app = TestApp::new();
    let token = token(&app, "public").await;
    assert_eq!(users(&app, "", &token).await.status, StatusCode::OK);
    app.state.clock.advance(TimeDelta::seconds(7200));
    assert_eq!(users(&app, "", &token).await.status, StatusCode::OK);
    app.state.clock.advance(TimeDelta::seconds(1));
    assert_refused(&users(&app, "", &token).await, "The access token expired");
}

#[tokio::test]
async fn a_token_used_before_is_refused_once_revoked() {
    let app = TestApp::new();
    let token = token(&app, "public").await;
    assert_eq!(users(&app, "", &token).await.status, StatusCode::OK);
    assert_eq!(revoke(&app, &token).await.status, StatusCode::OK);
    assert_refused(
        &users(&app, "", &token).await,
        "The access token was revoked",
    );
}

#[tokio::test]
async fn a_token_used_before_is_refused_after_a_reset() {
    let app = TestApp::new();
    let token = token(&app, "public").await;
    assert_eq!(users(&app, "", &token).await.status, StatusCode::OK);
    assert_eq!(
        post_empty(&app, "/__doublure/reset").await.status,
        StatusCode::OK
    );
    assert_refused(
        &users(&app, "", &token).await,
        "The access token is invalid",
    );
}

#[tokio::test]
async fn a_token_used_before_is_refused_once_its_clients_secret_changes() {
    let app = TestApp::new();
    let token = token(&app, "public").await;
    assert_eq!(users(&app, "", &token).await.status, StatusCode::OK);
    let changed = patch(
        &app,
        "/__doublure/logora/clients/API_KEY",
        json!({"client_secret": "ANOTHER_SECRET"}),
    )
    .await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.text());
    assert_refused(
        &users(&app, "", &token).await,
        "The access token is invalid",
    );
}

#[tokio::test]
async fn a_token_used_in_a_namespace_is_refused_once_the_namespace_is_dropped_and_made_again() {
    let app = TestApp::new();
    let token = token_at(&app, "/__ns/again").await;
    assert_eq!(
        users_at(&app, "/__ns/again", "", &token).await.status,
        StatusCode::OK
    );
    let dropped = delete(&app, "/__doublure/namespaces/again").await;
    assert_eq!(dropped.status, StatusCode::NO_CONTENT);
    assert_refused(
        &users_at(&app, "/__ns/again", "", &token).await,
        "The access token is invalid",
    );
}

#[tokio::test]
async fn a_page_asked_again_is_the_same_bytes_and_shows_a_change_at_once() {
    let app = TestApp::new();
    let bearer = token(&app, "authentication").await;
    let first = users(&app, "?page=2&per_page=20", &bearer).await;
    let again = users(&app, "?page=2&per_page=20", &bearer).await;
    assert_eq!(again.status, StatusCode::OK);
    assert_eq!(again.body, first.body);
    assert_eq!(again.headers, first.headers);
    let anonymized = app
        .json(
            "POST",
            &format!("/api/v1/users/{JEAN}/anonymize"),
            None,
            &[("authorization", &format!("Bearer {bearer}"))],
        )
        .await;
    assert_eq!(anonymized.status, StatusCode::OK);
    let after = users(&app, "?page=2&per_page=20", &bearer).await.json();
    let jean = user_in(&after, 21).expect("user 21 on page 2");
    assert_eq!(jean["full_name"], "Utilisateur supprimé");
    assert_eq!(jean["email"], Value::Null);
    // A reset brings the fixtures back, on the page too.
    assert_eq!(
        post_empty(&app, "/__doublure/reset").await.status,
        StatusCode::OK
    );
    let fresh = token(&app, "public").await;
    let restored = users(&app, "?page=2&per_page=20", &fresh).await;
    assert_eq!(restored.body, first.body);
}
