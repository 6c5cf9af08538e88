//! Logora calls: tokens by the OAuth 2.0 client-credentials flow or minted
//! by the control plane, and the users API.

use axum::http::StatusCode;
use serde_json::{Value, json};

use super::{TestApp, TestResponse};

/// The headers of a users page that carry its paging, in order.
pub const PAGING_HEADERS: [&str; 6] = [
    "link",
    "current-page",
    "page-items",
    "next-page",
    "total-pages",
    "total",
];

/// A token from `{prefix}/oauth/token` for the form `form`; panics unless
/// the answer is a 200.
pub async fn token_by_form(app: &TestApp, prefix: &str, form: &str) -> String {
    let response = app
        .post_form(&format!("{prefix}/oauth/token"), form, &[])
        .await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.text());
    response.json()["access_token"]
        .as_str()
        .expect("an access_token")
        .to_owned()
}

/// A token for `client` with `scope` (`scope=` sent even when empty).
pub async fn token_for(app: &TestApp, client: &str, secret: &str, scope: &str) -> String {
    let form = format!(
        "grant_type=client_credentials&client_id={client}&client_secret={secret}&scope={scope}"
    );
    token_by_form(app, "", &form).await
}

/// A token of the built-in client `API_KEY` with `scope`.
pub async fn token(app: &TestApp, scope: &str) -> String {
    token_for(app, "API_KEY", "API_SECRET", scope).await
}

/// A token of `API_KEY` without a scope parameter, from the API under
/// `prefix` (`""` or a namespace's `/__ns/{name}`).
pub async fn token_at(app: &TestApp, prefix: &str) -> String {
    token_by_form(
        app,
        prefix,
        "grant_type=client_credentials&client_id=API_KEY&client_secret=API_SECRET",
    )
    .await
}

/// A token minted by the control plane; panics unless the answer is 201.
pub async fn minted_token(app: &TestApp, client_id: &str, scope: Option<&str>) -> String {
    let response = app
        .json(
            "POST",
            "/__doublure/logora/tokens",
            Some(json!({"client_id": client_id, "scope": scope})),
            &[],
        )
        .await;
    assert_eq!(response.status, StatusCode::CREATED, "{}", response.text());
    response.json()["access_token"]
        .as_str()
        .expect("an access_token")
        .to_owned()
}

/// `/api/v1/users{query}` with a bearer token.
pub async fn users(app: &TestApp, query: &str, token: &str) -> TestResponse {
    users_at(app, "", query, token).await
}

/// `{prefix}/api/v1/users{query}` with a bearer token.
pub async fn users_at(app: &TestApp, prefix: &str, query: &str, token: &str) -> TestResponse {
    app.get_bearer(&format!("{prefix}/api/v1/users{query}"), token)
        .await
}

/// The ids of a users page's `data`, in order.
pub fn ids(body: &Value) -> Vec<u64> {
    body["data"]
        .as_array()
        .expect("a data array")
        .iter()
        .map(|u| u["id"].as_u64().expect("a numeric id"))
        .collect()
}

/// A token of `API_KEY` from a server on a real socket at `base`.
pub async fn http_token(base: &str) -> String {
    let answer: Value = reqwest::Client::new()
        .post(format!("{base}/oauth/token"))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", "API_KEY"),
            ("client_secret", "API_SECRET"),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    answer["access_token"]
        .as_str()
        .expect("an access_token")
        .to_owned()
}

/// The user `id` of a users page's `data`, if listed.
pub fn user_in(body: &Value, id: u64) -> Option<&Value> {
    body["data"].as_array()?.iter().find(|u| u["id"] == id)
}

/// A POST of `form` to `/oauth/token`, the answer as it comes.
pub async fn token_request(app: &TestApp, form: &str) -> TestResponse {
    app.post_form("/oauth/token", form, &[]).await
}

/// `token` revoked by `API_KEY` at `/oauth/revoke`, the answer as it comes.
pub async fn revoke(app: &TestApp, token: &str) -> TestResponse {
    let form = format!("token={token}&client_id=API_KEY&client_secret=API_SECRET");
    app.post_form("/oauth/revoke", &form, &[]).await
}
