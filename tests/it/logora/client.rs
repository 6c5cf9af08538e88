//! The whole Logora flow over a real socket with a real OAuth 2.0 client
//! library (the `oauth2` crate), then reqwest for the users API, as a site
//! integrating Logora would do it.

use crate::common::Served;
use doublure::testing::AppState;
use oauth2::basic::{BasicClient, BasicErrorResponseType};
use oauth2::{AuthType, ClientId, ClientSecret, RequestTokenError, Scope, TokenResponse, TokenUrl};
use serde_json::Value;

fn http() -> oauth2::reqwest::Client {
    oauth2::reqwest::Client::builder()
        .redirect(oauth2::reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

#[tokio::test]
async fn a_real_oauth2_client_gets_a_token_lists_users_and_revokes_it() {
    let served = Served::start(AppState::for_tests()).await;
    let client = BasicClient::new(ClientId::new("API_KEY".to_owned()))
        .set_client_secret(ClientSecret::new("API_SECRET".to_owned()))
        .set_token_uri(TokenUrl::new(served.url("/oauth/token")).unwrap());
    let http = http();

    // HTTP Basic, the crate's default.
    let token = client
        .exchange_client_credentials()
        .add_scope(Scope::new("public".to_owned()))
        .add_scope(Scope::new("authentication".to_owned()))
        .request_async(&http)
        .await
        .unwrap();
    assert_eq!(token.access_token().secret().len(), 43);
    assert_eq!(
        token.expires_in(),
        Some(std::time::Duration::from_secs(7200))
    );
    assert_eq!(
        token
            .scopes()
            .map(|s| s.iter().map(|s| s.to_string()).collect::<Vec<_>>()),
        Some(vec!["public".to_owned(), "authentication".to_owned()])
    );
    assert!(token.refresh_token().is_none());

    let response = reqwest::Client::new()
        .get(served.url(
            "/api/v1/users?page=1&per_page=10&is_expert=false&is_selected=false&sub_application_name=app-test",
        ))
        .bearer_auth(token.access_token().secret())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["total"], "2");
    let body: Value = response.json().await.unwrap();
    let names: Vec<&str> = body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["full_name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Jean Dupont", "Martine Durand"]);

    // The crate refuses a plain-http revocation URL (RFC 7009 asks for
    // TLS), so revocation goes through reqwest.
    let revoked = reqwest::Client::new()
        .post(served.url("/oauth/revoke"))
        .basic_auth("API_KEY", Some("API_SECRET"))
        .form(&[("token", token.access_token().secret().as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status(), 200);
    let after = reqwest::Client::new()
        .get(served.url("/api/v1/users"))
        .bearer_auth(token.access_token().secret())
        .send()
        .await
        .unwrap();
    assert_eq!(after.status(), 401);
    assert_eq!(
        after.headers()["www-authenticate"],
        "Bearer realm=\"Doorkeeper\", error=\"invalid_token\", error_description=\"The access token was revoked\""
    );
    served.stop().await.unwrap();
}

#[tokio::test]
async fn a_real_oauth2_client_sees_invalid_client_for_a_wrong_secret() {
    let served = Served::start(AppState::for_tests()).await;
    let client = BasicClient::new(ClientId::new("API_KEY".to_owned()))
        .set_client_secret(ClientSecret::new("WRONG".to_owned()))
        .set_auth_type(AuthType::RequestBody)
        .set_token_uri(TokenUrl::new(served.url("/oauth/token")).unwrap());
    let result = client
        .exchange_client_credentials()
        .request_async(&http())
        .await;
    match result {
        Err(RequestTokenError::ServerResponse(error)) => {
            assert_eq!(*error.error(), BasicErrorResponseType::InvalidClient);
            assert_eq!(
                error.error_description().map(String::as_str),
                Some(
                    "Client authentication failed due to unknown client, no client authentication included, or unsupported authentication method."
                )
            );
        }
        other => panic!("expected invalid_client, got {other:?}"),
    }
    served.stop().await.unwrap();
}
