//! The Logora emulation through the real router: tokens (Doorkeeper's
//! client-credentials flow and its errors), revoke, introspect, token info,
//! and the users API with its pagination, filters, errors and changes.

use crate::common::control::{assert_json, delete, post, post_empty};
use crate::common::logora::{ids, revoke, token, token_for, token_request, users};
use crate::common::{TestApp, TestResponse};
use axum::http::StatusCode;
use chrono::TimeDelta;
use doublure::testing::AppState;
use doublure::testing::cli::Cli;
use doublure::testing::config::Settings;
use doublure::testing::logora::Revocation;
use serde_json::{Value, json};

const INVALID_CLIENT: &str = "Client authentication failed due to unknown client, no client authentication included, or unsupported authentication method.";
/// `created_at` of a token minted at `doublure::testing::state::TEST_NOW`.
const NOW: i64 = 1_768_471_200;

async fn outcome(app: &TestApp) -> String {
    let journal = app.get("/__doublure/requests").await.json();
    let list = journal["requests"].as_array().unwrap();
    list.last().unwrap()["outcome"]
        .as_str()
        .unwrap_or("")
        .to_owned()
}

fn assert_token_body(body: &Value, scope: &str, expires_in: i64) {
    let token = body["access_token"].as_str().unwrap();
    assert_eq!(token.len(), 43);
    assert!(
        token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    );
    let mut expected = json!({"access_token": token, "token_type": "Bearer",
        "expires_in": expires_in, "scope": scope, "created_at": NOW});
    if scope.is_empty() {
        expected.as_object_mut().unwrap().remove("scope");
    }
    assert_eq!(*body, expected);
}

fn assert_doorkeeper_error(response: &TestResponse, status: StatusCode, code: &str, text: &str) {
    assert_eq!(response.status, status, "{}", response.text());
    assert_eq!(
        response.json(),
        json!({"error": code, "error_description": text})
    );
    assert_eq!(
        response.header("www-authenticate"),
        format!("Bearer realm=\"Doorkeeper\", error=\"{code}\", error_description=\"{text}\"")
    );
    assert_eq!(response.header("cache-control"), "no-store");
}

fn assert_invalid_token(response: &TestResponse, description: &str) {
    assert_eq!(
        response.status,
        StatusCode::UNAUTHORIZED,
        "{}",
        response.text()
    );
    assert_eq!(
        response.header("www-authenticate"),
        format!(
            "Bearer realm=\"Doorkeeper\", error=\"invalid_token\", error_description=\"{description}\""
        )
    );
    assert_eq!(
        response.json(),
        json!({"error": "invalid_token", "error_description": description, "state": "unauthorized"})
    );
}

// ---- /oauth/token ------------------------------------------------------------

#[tokio::test]
async fn a_form_body_gets_a_token_with_doorkeepers_shape_and_cache_headers() {
    let app = TestApp::new();
    let response = token_request(
        &app,
        "grant_type=client_credentials&client_id=API_KEY&client_secret=API_SECRET",
    )
    .await;
    assert_eq!(response.status, StatusCode::OK);
    assert_eq!(
        response.header("content-type"),
        "application/json; charset=utf-8"
    );
    // Doorkeeper sets `no-store, no-cache`; Rails keeps only `no-store`.
    assert_eq!(response.header("cache-control"), "no-store");
    assert_eq!(response.header("pragma"), "no-cache");
    assert_token_body(&response.json(), "public", 7200);
    assert_eq!(
        outcome(&app).await,
        "token issued to API_KEY, scope public, expires in 7200 s"
    );
}

#[tokio::test]
async fn a_json_body_gets_a_token() {
    let app = TestApp::new();
    let body = json!({"grant_type": "client_credentials", "client_id": "API_KEY",
        "client_secret": "API_SECRET", "scope": "authentication"});
    let response = post(&app, "/oauth/token", body).await;
    assert_eq!(response.status, StatusCode::OK);
    assert_token_body(&response.json(), "authentication", 7200);
}

#[tokio::test]
async fn query_string_parameters_get_a_token() {
    let app = TestApp::new();
    let response = post_empty(&app, "/oauth/token?grant_type=client_credentials&client_id=API_KEY&client_secret=API_SECRET&scope=admin%20public").await;
    assert_eq!(response.status, StatusCode::OK);
    assert_token_body(&response.json(), "public admin", 7200);
}

#[tokio::test]
async fn http_basic_gets_a_token_and_wins_over_parameters() {
    let app = TestApp::new();
    // Basic API_KEY:API_SECRET, parameters naming another client.
    let response = app
        .post_form(
            "/oauth/token",
            "grant_type=client_credentials&client_id=OTHER_API_KEY&client_secret=wrong",
            &[("authorization", "Basic QVBJX0tFWTpBUElfU0VDUkVU")],
        )
        .await;
    assert_eq!(response.status, StatusCode::OK);
    let token = response.json()["access_token"].as_str().unwrap().to_owned();
    let list = users(&app, "?per_page=1", &token).await;
    assert_eq!(
        ids(&list.json()),
        [1],
        "a token of API_KEY sees application 1"
    );
}

#[tokio::test]
async fn the_plural_scopes_parameter_is_ignored_as_doorkeeper_ignores_it() {
    let app = TestApp::new();
    let response = token_request(
        &app,
        "grant_type=client_credentials&client_id=API_KEY&client_secret=API_SECRET&scopes=admin",
    )
    .await;
    assert_token_body(&response.json(), "public", 7200);
    assert_eq!(
        outcome(&app).await,
        "token issued to API_KEY, scope public, expires in 7200 s (the `scopes` parameter is ignored, as Doorkeeper ignores it: send `scope`)"
    );
}

#[tokio::test]
async fn a_missing_grant_type_is_invalid_request() {
    let app = TestApp::new();
    let response = token_request(&app, "client_id=API_KEY&client_secret=API_SECRET").await;
    assert_doorkeeper_error(
        &response,
        StatusCode::BAD_REQUEST,
        "invalid_request",
        "Missing required parameter: grant_type.",
    );
}

#[tokio::test]
async fn another_grant_type_is_unsupported_grant_type() {
    let app = TestApp::new();
    let response = token_request(
        &app,
        "grant_type=password&client_id=API_KEY&client_secret=API_SECRET",
    )
    .await;
    assert_doorkeeper_error(
        &response,
        StatusCode::BAD_REQUEST,
        "unsupported_grant_type",
        "The authorization grant type is not supported by the authorization server.",
    );
}

#[tokio::test]
async fn a_wrong_secret_an_unknown_client_or_no_credentials_is_invalid_client_401() {
    let app = TestApp::new();
    for (form, why) in [
        (
            "grant_type=client_credentials&client_id=API_KEY&client_secret=nope",
            "invalid_client: wrong client_secret for API_KEY (by client_id/client_secret parameters)",
        ),
        (
            "grant_type=client_credentials&client_id=NOBODY&client_secret=API_SECRET",
            "invalid_client: unknown client_id \"NOBODY\" (by client_id/client_secret parameters)",
        ),
        (
            "grant_type=client_credentials",
            "invalid_client: no client authentication (no Basic header, no client_id)",
        ),
    ] {
        let response = token_request(&app, form).await;
        assert_doorkeeper_error(
            &response,
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            INVALID_CLIENT,
        );
        assert_eq!(outcome(&app).await, why);
    }
}

#[tokio::test]
async fn an_unknown_scope_or_one_the_client_may_not_have_is_invalid_scope() {
    let app = TestApp::new();
    let text = "The requested scope is invalid, unknown, or malformed.";
    let unknown = token_request(
        &app,
        "grant_type=client_credentials&client_id=API_KEY&client_secret=API_SECRET&scope=write",
    )
    .await;
    assert_doorkeeper_error(&unknown, StatusCode::BAD_REQUEST, "invalid_scope", text);
    let beyond = token_request(&app, "grant_type=client_credentials&client_id=READ_ONLY_KEY&client_secret=READ_ONLY_SECRET&scope=admin").await;
    assert_doorkeeper_error(&beyond, StatusCode::BAD_REQUEST, "invalid_scope", text);
}

#[tokio::test]
async fn a_client_lifetime_overrides_the_global_one() {
    let app = TestApp::new();
    let response = token_request(
        &app,
        "grant_type=client_credentials&client_id=READ_ONLY_KEY&client_secret=READ_ONLY_SECRET",
    )
    .await;
    assert_token_body(&response.json(), "public", 600);
}

#[tokio::test]
async fn the_global_lifetime_comes_from_the_settings() {
    let settings = Settings {
        logora_token_lifetime: 60,
        ..Settings::for_tests()
    };
    let state = AppState::for_tests_with(settings);
    let app = TestApp::with_state(state);
    let token = token(&app, "public").await;
    app.state.clock.advance(TimeDelta::seconds(61));
    assert_invalid_token(&users(&app, "", &token).await, "The access token expired");
}

// ---- protected routes --------------------------------------------------------

#[tokio::test]
async fn an_expired_token_gets_401_the_access_token_expired() {
    let app = TestApp::new();
    let token = token(&app, "public").await;
    app.state.clock.advance(TimeDelta::seconds(7200));
    assert_eq!(users(&app, "", &token).await.status, StatusCode::OK);
    app.state.clock.advance(TimeDelta::seconds(12));
    assert_invalid_token(&users(&app, "", &token).await, "The access token expired");
    assert_eq!(outcome(&app).await, "token of API_KEY expired 12 s ago");
}

#[tokio::test]
async fn a_missing_or_unknown_token_gets_401_the_access_token_is_invalid() {
    let app = TestApp::new();
    assert_invalid_token(
        &app.get("/api/v1/users").await,
        "The access token is invalid",
    );
    // The seed page's example token was never issued here.
    assert_invalid_token(
        &users(&app, "", "Av9wbEK-0QTOdxhzB4S3-B1ZFKj1Z4y8Xcl17iVcHsg").await,
        "The access token is invalid",
    );
}

#[tokio::test]
async fn the_authentication_header_of_the_seed_page_is_not_read_and_the_log_says_so() {
    let app = TestApp::new();
    let token = token(&app, "public").await;
    let response = app
        .get_with(
            "/api/v1/users",
            &[("authentication", &format!("Bearer {token}"))],
        )
        .await;
    assert_invalid_token(&response, "The access token is invalid");
    assert_eq!(
        outcome(&app).await,
        "no access token: the `Authentication` header is not read (the seed page's typo); send `Authorization: Bearer <token>`"
    );
}

#[tokio::test]
async fn the_bearer_scheme_is_case_insensitive_and_access_token_works_as_a_parameter() {
    let app = TestApp::new();
    let token = token(&app, "public").await;
    let lower = app
        .get_with(
            "/api/v1/users?per_page=2",
            &[("authorization", &format!("bearer {token}"))],
        )
        .await;
    assert_eq!(ids(&lower.json()), [1, 2]);
    let param = app
        .get(&format!("/api/v1/users?per_page=2&access_token={token}"))
        .await;
    assert_eq!(param.status, StatusCode::OK);
    assert_eq!(ids(&param.json()), [1, 2]);
}

#[tokio::test]
async fn the_api_key_parameter_reads_the_list_and_a_wrong_one_gets_401() {
    let app = TestApp::new();
    let response = app.get("/api/v1/users?api_key=API_KEY&per_page=3").await;
    assert_eq!(response.status, StatusCode::OK);
    assert_eq!(ids(&response.json()), [1, 2, 3]);
    let other = app.get("/api/v1/users?api_key=OTHER_API_KEY").await;
    assert_eq!(ids(&other.json()), [101, 102, 103, 104, 105, 106]);
    let wrong = app.get("/api/v1/users?api_key=NOPE").await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert!(!wrong.has_header("www-authenticate"));
    assert_eq!(
        wrong.json(),
        json!({"success": false, "error": "Invalid API key"})
    );
}

#[tokio::test]
async fn a_revoked_token_gets_401_the_access_token_was_revoked() {
    let app = TestApp::new();
    let token = token(&app, "public").await;
    let response = revoke(&app, &token).await;
    assert_eq!(response.status, StatusCode::OK);
    assert_eq!(response.json(), json!({}));
    assert_invalid_token(
        &users(&app, "", &token).await,
        "The access token was revoked",
    );
    // Revoked stays the answer once the token has expired, as in
    // Doorkeeper, for a day past its expiry.
    app.state.clock.advance(TimeDelta::seconds(7201));
    assert_invalid_token(
        &users(&app, "", &token).await,
        "The access token was revoked",
    );
    app.state.clock.advance(TimeDelta::days(1));
    assert_invalid_token(&users(&app, "", &token).await, "The access token expired");
}

#[tokio::test]
async fn a_reset_voids_every_token_issued_before_it() {
    let app = TestApp::new();
    let token = token(&app, "public").await;
    assert_eq!(users(&app, "", &token).await.status, StatusCode::OK);
    let reset = post_empty(&app, "/__doublure/reset").await;
    assert_eq!(reset.status, StatusCode::OK);
    assert_invalid_token(
        &users(&app, "", &token).await,
        "The access token is invalid",
    );
    let fresh = self::token(&app, "public").await;
    assert_eq!(users(&app, "", &fresh).await.status, StatusCode::OK);
}

#[tokio::test]
async fn revoke_without_client_or_for_another_clients_token_is_403_and_unknown_is_200() {
    let app = TestApp::new();
    let token = token(&app, "public").await;
    let refused = json!({"error": "unauthorized_client",
        "error_description": "You are not authorized to revoke this token"});
    let anonymous = app
        .post_form("/oauth/revoke", &format!("token={token}"), &[])
        .await;
    assert_eq!(anonymous.status, StatusCode::FORBIDDEN);
    assert_eq!(anonymous.json(), refused);
    let other = app
        .post_form(
            "/oauth/revoke",
            &format!("token={token}&client_id=OTHER_API_KEY&client_secret=OTHER_API_SECRET"),
            &[],
        )
        .await;
    assert_eq!(other.status, StatusCode::FORBIDDEN);
    assert_eq!(other.json(), refused);
    let unknown = app
        .post_form(
            "/oauth/revoke",
            "token=nothing&client_id=API_KEY&client_secret=API_SECRET",
            &[],
        )
        .await;
    assert_eq!(unknown.status, StatusCode::OK);
    assert_eq!(unknown.json(), json!({}));
    assert_eq!(users(&app, "", &token).await.status, StatusCode::OK);
}

#[tokio::test]
async fn introspect_tells_the_owner_about_its_token_and_no_one_else() {
    let app = TestApp::new();
    let token = token(&app, "public authentication").await;
    let own = app
        .post_form(
            "/oauth/introspect",
            &format!("token={token}"),
            &[("authorization", "Basic QVBJX0tFWTpBUElfU0VDUkVU")],
        )
        .await;
    assert_eq!(own.status, StatusCode::OK);
    assert_eq!(
        own.json(),
        json!({"active": true, "scope": "public authentication", "client_id": "API_KEY",
            "token_type": "Bearer", "exp": NOW + 7200, "iat": NOW})
    );
    let other = app
        .post_form(
            "/oauth/introspect",
            &format!("token={token}&client_id=OTHER_API_KEY&client_secret=OTHER_API_SECRET"),
            &[],
        )
        .await;
    assert_eq!(other.json(), json!({"active": false}));
    let nobody = app
        .post_form("/oauth/introspect", &format!("token={token}"), &[])
        .await;
    assert_doorkeeper_error(
        &nobody,
        StatusCode::BAD_REQUEST,
        "invalid_request",
        "Request needs to be authorized. Required parameter for authorizing the request is missing or invalid.",
    );
    app.state.clock.advance(TimeDelta::seconds(7201));
    let expired = app
        .post_form(
            "/oauth/introspect",
            &format!("token={token}&client_id=API_KEY&client_secret=API_SECRET"),
            &[],
        )
        .await;
    assert_eq!(expired.json(), json!({"active": false}));
}

#[tokio::test]
async fn introspect_by_bearer_needs_another_valid_token_and_bad_credentials_are_invalid_client() {
    let app = TestApp::new();
    let token = token(&app, "public").await;
    let caller = token_for(&app, "API_KEY", "API_SECRET", "admin").await;
    let by_bearer = app
        .post_form(
            "/oauth/introspect",
            &format!("token={token}"),
            &[("authorization", &format!("Bearer {caller}"))],
        )
        .await;
    assert_eq!(by_bearer.status, StatusCode::OK);
    assert_eq!(by_bearer.json()["active"], true);
    assert_eq!(by_bearer.json()["client_id"], "API_KEY");

    let by_itself = app
        .post_form(
            "/oauth/introspect",
            &format!("token={token}"),
            &[("authorization", &format!("Bearer {token}"))],
        )
        .await;
    assert_invalid_token(&by_itself, "The access token is invalid");

    let by_unknown = app
        .post_form(
            "/oauth/introspect",
            &format!("token={token}"),
            &[("authorization", "Bearer not-a-token")],
        )
        .await;
    assert_invalid_token(&by_unknown, "The access token is invalid");

    let wrong_secret = app
        .post_form(
            "/oauth/introspect",
            &format!("token={token}&client_id=API_KEY&client_secret=WRONG"),
            &[],
        )
        .await;
    assert_doorkeeper_error(
        &wrong_secret,
        StatusCode::UNAUTHORIZED,
        "invalid_client",
        "Client authentication failed due to unknown client, no client authentication included, or unsupported authentication method.",
    );
}

#[tokio::test]
async fn token_info_refuses_a_missing_an_unknown_and_a_revoked_token() {
    let app = TestApp::new();
    assert_invalid_token(
        &app.get("/oauth/token/info").await,
        "The access token is invalid",
    );
    assert_invalid_token(
        &app.get("/oauth/token/info?access_token=nope").await,
        "The access token is invalid",
    );
    let token = token(&app, "public").await;
    let revoked = revoke(&app, &token).await;
    assert_eq!(revoked.status, StatusCode::OK);
    assert_invalid_token(
        &app.get_bearer("/oauth/token/info", &token).await,
        "The access token is invalid",
    );
    // The journal keeps the true reason.
    assert_eq!(
        outcome(&app).await,
        "token info: token of API_KEY was revoked"
    );
}

#[tokio::test]
async fn token_info_describes_a_valid_token_and_refuses_an_expired_one() {
    let app = TestApp::new();
    let token = token(&app, "public admin").await;
    app.state.clock.advance(TimeDelta::seconds(200));
    let info = app.get_bearer("/oauth/token/info", &token).await;
    assert_eq!(info.status, StatusCode::OK);
    assert_eq!(
        info.json(),
        json!({"resource_owner_id": null, "scope": ["public", "admin"], "expires_in": 7000,
            "application": {"uid": "API_KEY"}, "created_at": NOW})
    );
    app.state.clock.advance(TimeDelta::seconds(7001));
    assert_invalid_token(
        &app.get(&format!("/oauth/token/info?access_token={token}"))
            .await,
        "The access token is invalid",
    );
    assert_eq!(
        outcome(&app).await,
        "token info: token of API_KEY expired 1 s ago"
    );
}

#[tokio::test]
async fn two_tokens_of_one_client_in_the_same_second_differ_and_revoking_one_leaves_the_other() {
    let app = TestApp::new();
    // The clock is frozen: both requests are in the same emulated second.
    let first = token(&app, "public").await;
    let second = token(&app, "public").await;
    assert_ne!(first, second);
    let revoked = revoke(&app, &first).await;
    assert_eq!(revoked.status, StatusCode::OK);
    assert_invalid_token(
        &users(&app, "", &first).await,
        "The access token was revoked",
    );
    assert_eq!(users(&app, "", &second).await.status, StatusCode::OK);
}

#[tokio::test]
async fn revoking_an_expired_token_answers_200_and_leaves_it_expired() {
    let app = TestApp::new();
    let token = token(&app, "public").await;
    app.state.clock.advance(TimeDelta::seconds(7201));
    let revoked = revoke(&app, &token).await;
    assert_eq!(revoked.status, StatusCode::OK);
    assert_eq!(revoked.json(), json!({}));
    assert_eq!(
        outcome(&app).await,
        "revoke: token of API_KEY had expired, left as it is (Doorkeeper revokes only accessible tokens)"
    );
    assert_invalid_token(&users(&app, "", &token).await, "The access token expired");
    let shortcut = delete(&app, &format!("/__doublure/logora/tokens/{token}")).await;
    assert_eq!(shortcut.status, StatusCode::CONFLICT);
    assert_invalid_token(&users(&app, "", &token).await, "The access token expired");
}

#[tokio::test]
async fn introspect_by_bearer_of_an_unknown_token_or_one_of_another_client_is_invalid_token() {
    let app = TestApp::new();
    let caller = token(&app, "public").await;
    let other = token_for(&app, "OTHER_API_KEY", "OTHER_API_SECRET", "public").await;
    for (asked, why) in [
        (
            other.as_str(),
            "introspect refused: the token belongs to OTHER_API_KEY, and a bearer of API_KEY may only introspect API_KEY's tokens",
        ),
        (
            "not-a-token",
            "introspect refused: the token introspected is no token of ours, and a bearer of API_KEY may only introspect API_KEY's tokens",
        ),
    ] {
        let response = app
            .post_form(
                "/oauth/introspect",
                &format!("token={asked}"),
                &[("authorization", &format!("Bearer {caller}"))],
            )
            .await;
        assert_invalid_token(&response, "The access token is invalid");
        assert_eq!(outcome(&app).await, why);
    }
    // Authorized by client credentials, another client's token is only
    // inactive.
    let by_client = app
        .post_form(
            "/oauth/introspect",
            &format!("token={other}&client_id=API_KEY&client_secret=API_SECRET"),
            &[],
        )
        .await;
    assert_eq!(by_client.status, StatusCode::OK);
    assert_eq!(by_client.json(), json!({"active": false}));
}

#[tokio::test]
async fn live_tokens_lists_recent_valid_tokens_and_mint_issues_one() {
    let app = TestApp::new();
    let logora = &app.state.logora;
    let minted = logora.mint("API_KEY", Some("admin")).unwrap();
    assert_eq!(minted["scope"], "admin");
    let token = minted["access_token"].as_str().unwrap();
    assert_eq!(logora.client_of_token(token).as_deref(), Some("API_KEY"));
    assert_eq!(
        logora.live_tokens(),
        [
            json!({"access_token": token, "client_id": "API_KEY", "scope": "admin",
            "created_at": NOW, "expires_at": NOW + 7200})
        ]
    );
    assert!(matches!(logora.revoke(token), Revocation::Revoked(_)));
    assert!(logora.live_tokens().is_empty());
    assert_eq!(logora.client_of_token(token), None);
    assert_eq!(
        format!("{:?}", logora.mint("NOBODY", None).unwrap_err()),
        format!(
            "OAuth {{ status: 401, code: \"invalid_client\", description: {INVALID_CLIENT:?} }}"
        )
    );
}

// ---- GET /api/v1/users ---------------------------------------------------------

#[tokio::test]
async fn the_first_page_has_20_users_and_pagination_headers() {
    let app = TestApp::new();
    let token = token(&app, "public").await;
    let response = users(&app, "?is_expert=true&foo=1", &token).await;
    assert_eq!(response.status, StatusCode::OK);
    let body = response.json();
    assert_eq!(body["success"], true);
    assert_eq!(
        ids(&body),
        [
            2, 7, 8, 9, 12, 14, 17, 19, 20, 22, 24, 27, 29, 32, 34, 36, 37, 39, 42, 44
        ]
    );
    assert_eq!(response.header("total"), "22");
    assert_eq!(response.header("total-pages"), "2");
    assert_eq!(response.header("current-page"), "1");
    assert_eq!(response.header("page-items"), "20");
    assert_eq!(response.header("next-page"), "2");
    let base = "http://localhost:8080/api/v1/users?is_expert=true&foo=1";
    assert_eq!(
        response.header("link"),
        format!(
            "<{base}&page=1>; rel=\"first\", <{base}&page=2>; rel=\"next\", <{base}&page=2>; rel=\"last\""
        )
    );
}

#[tokio::test]
async fn a_middle_page_links_both_ways_and_keeps_the_other_parameters() {
    let app = TestApp::new();
    let token = token(&app, "public").await;
    let response = users(&app, "?per_page=10&page=2", &token).await;
    assert_eq!(ids(&response.json()), (11..=20).collect::<Vec<_>>());
    assert_eq!(response.header("total"), "48");
    assert_eq!(response.header("total-pages"), "5");
    assert_eq!(response.header("next-page"), "3");
    let url = |p: u64| format!("http://localhost:8080/api/v1/users?per_page=10&page={p}");
    assert_eq!(
        response.header("link"),
        format!(
            "<{}>; rel=\"first\", <{}>; rel=\"prev\", <{}>; rel=\"next\", <{}>; rel=\"last\"",
            url(1),
            url(1),
            url(3),
            url(5)
        )
    );
    assert_eq!(
        outcome(&app).await,
        "page 2 of 5, 10 users of 48, for API_KEY by token"
    );
}

#[tokio::test]
async fn the_last_page_has_no_next_page() {
    let app = TestApp::new();
    let token = token(&app, "public").await;
    let response = users(&app, "?page=3", &token).await;
    assert_eq!(ids(&response.json()), (41..=48).collect::<Vec<_>>());
    assert_eq!(response.header("page-items"), "8");
    assert!(!response.has_header("next-page"));
    let url = |p: u64| format!("http://localhost:8080/api/v1/users?page={p}");
    assert_eq!(
        response.header("link"),
        format!(
            "<{}>; rel=\"first\", <{}>; rel=\"prev\", <{}>; rel=\"last\"",
            url(1),
            url(2),
            url(3)
        )
    );
}

#[tokio::test]
async fn a_page_past_the_end_is_200_with_no_users() {
    let app = TestApp::new();
    let token = token(&app, "public").await;
    let response = users(&app, "?page=9", &token).await;
    assert_eq!(response.status, StatusCode::OK);
    assert_eq!(response.json(), json!({"success": true, "data": []}));
    assert_eq!(response.header("page-items"), "0");
    assert_eq!(response.header("current-page"), "9");
    assert!(!response.has_header("next-page"));
    assert_eq!(
        response.header("link"),
        "<http://localhost:8080/api/v1/users?page=1>; rel=\"first\", <http://localhost:8080/api/v1/users?page=3>; rel=\"prev\", <http://localhost:8080/api/v1/users?page=3>; rel=\"last\""
    );
}

#[tokio::test]
async fn per_page_above_100_means_100() {
    let app = TestApp::new();
    let token = token(&app, "public").await;
    let response = users(&app, "?per_page=1000", &token).await;
    assert_eq!(ids(&response.json()).len(), 48);
    assert_eq!(response.header("total-pages"), "1");
}

#[tokio::test]
async fn countless_drops_the_totals_and_the_last_link() {
    let app = TestApp::new();
    let token = token(&app, "public").await;
    let response = users(&app, "?countless=true&per_page=5", &token).await;
    assert_eq!(ids(&response.json()), [1, 2, 3, 4, 5]);
    assert!(!response.has_header("total"));
    assert!(!response.has_header("total-pages"));
    assert_eq!(response.header("next-page"), "2");
    let url =
        |p: u64| format!("http://localhost:8080/api/v1/users?countless=true&per_page=5&page={p}");
    assert_eq!(
        response.header("link"),
        format!("<{}>; rel=\"first\", <{}>; rel=\"next\"", url(1), url(2))
    );
}

#[tokio::test]
async fn bad_page_per_page_or_boolean_filters_get_400_naming_the_value() {
    let app = TestApp::new();
    let token = token(&app, "public").await;
    for (query, message) in [
        ("?page=0", "page must be a positive integer, got \"0\""),
        ("?page=abc", "page must be a positive integer, got \"abc\""),
        (
            "?per_page=-5",
            "per_page must be a positive integer, got \"-5\"",
        ),
        (
            "?is_expert=yes",
            "is_expert must be true or false, got \"yes\"",
        ),
        (
            "?is_selected=1",
            "is_selected must be true or false, got \"1\"",
        ),
    ] {
        let response = users(&app, query, &token).await;
        assert_eq!(response.status, StatusCode::BAD_REQUEST, "{query}");
        assert_eq!(
            response.json(),
            json!({"success": false, "error": message}),
            "{query}"
        );
    }
}

#[tokio::test]
async fn filters_combine_by_sub_application_expert_and_selected() {
    let app = TestApp::new();
    let token = token(&app, "public").await;
    let sport = users(&app, "?sub_application_name=app-sport", &token).await;
    assert_eq!(
        ids(&sport.json()),
        [1, 5, 9, 13, 17, 25, 29, 33, 37, 41, 45]
    );
    let sport_experts = users(
        &app,
        "?sub_application_name=app-sport&is_expert=true",
        &token,
    )
    .await;
    assert_eq!(ids(&sport_experts.json()), [9, 17, 29, 37]);
    for user in sport_experts.json()["data"].as_array().unwrap() {
        assert_eq!(user.as_object().unwrap().len(), 17, "{user}");
    }
    let nowhere = users(&app, "?sub_application_name=forum-principal", &token).await;
    assert_eq!(nowhere.json(), json!({"success": true, "data": []}));
    assert_eq!(nowhere.header("total"), "0");
}

#[tokio::test]
async fn applications_do_not_see_each_others_users() {
    let app = TestApp::new();
    let other = token_for(
        &app,
        "OTHER_API_KEY",
        "OTHER_API_SECRET",
        "public authentication",
    )
    .await;
    let list = users(&app, "", &other).await;
    assert_eq!(ids(&list.json()), [101, 102, 103, 104, 105, 106]);
    // Jean Dupont belongs to application 1.
    let response = app
        .json(
            "DELETE",
            "/api/v1/users/02b3a18e-be9c-4f47-a2b3-a5867278cdc7",
            None,
            &[("authorization", &format!("Bearer {other}"))],
        )
        .await;
    assert_eq!(response.status, StatusCode::NOT_FOUND);
}

// ---- anonymize and delete ----------------------------------------------------------

const JEAN: &str = "02b3a18e-be9c-4f47-a2b3-a5867278cdc7";

#[tokio::test]
async fn anonymize_blanks_name_email_uid_and_image_and_the_list_shows_it() {
    let app = TestApp::new();
    let token = token(&app, "authentication").await;
    let auth = format!("Bearer {token}");
    let response = app
        .json(
            "POST",
            &format!("/api/v1/users/{JEAN}/anonymize"),
            None,
            &[("authorization", &auth)],
        )
        .await;
    assert_eq!(response.status, StatusCode::OK);
    assert_eq!(response.json(), json!({"success": true}));
    let list = users(&app, "?page=2&per_page=20", &token).await.json();
    let jean = list["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["id"] == 21)
        .unwrap()
        .clone();
    assert_eq!(jean["full_name"], "Utilisateur supprimé");
    assert_eq!(jean["uid"], Value::Null);
    assert_eq!(jean["email"], Value::Null);
    assert_eq!(jean["image_url"], Value::Null);
    assert_eq!(jean["slug"], "jean-dupont");
    assert_eq!(jean["messages_count"], 10);
    assert_eq!(jean["votes_count"], 123);
    // A second time: the uid is gone.
    let again = app
        .json(
            "POST",
            &format!("/api/v1/users/{JEAN}/anonymize"),
            None,
            &[("authorization", &auth)],
        )
        .await;
    assert_eq!(again.status, StatusCode::NOT_FOUND);
    assert_eq!(
        again.json(),
        json!({"success": false, "error": format!("Couldn't find User with 'uid'={JEAN}")})
    );
}

#[tokio::test]
async fn delete_removes_the_user_from_the_list() {
    let app = TestApp::new();
    let token = token(&app, "public authentication").await;
    let response = app
        .json(
            "DELETE",
            &format!("/api/v1/users/{JEAN}"),
            None,
            &[("authorization", &format!("Bearer {token}"))],
        )
        .await;
    assert_eq!(response.status, StatusCode::OK);
    assert_eq!(response.json(), json!({"success": true}));
    let list = users(&app, "?per_page=100", &token).await;
    assert_eq!(list.header("total"), "47");
    assert!(!ids(&list.json()).contains(&21));
    let filtered = users(
        &app,
        "?sub_application_name=app-test&is_expert=false&is_selected=false",
        &token,
    )
    .await;
    assert_eq!(ids(&filtered.json()), [26]);
}

#[tokio::test]
async fn an_unknown_uid_gets_404() {
    let app = TestApp::new();
    let token = token(&app, "authentication").await;
    let response = app
        .json(
            "DELETE",
            "/api/v1/users/nobody",
            None,
            &[("authorization", &format!("Bearer {token}"))],
        )
        .await;
    assert_eq!(response.status, StatusCode::NOT_FOUND);
    assert_eq!(
        response.json(),
        json!({"success": false, "error": "Couldn't find User with 'uid'=nobody"})
    );
}

#[tokio::test]
async fn a_public_token_gets_403_on_anonymize_and_delete() {
    let app = TestApp::new();
    let token = token(&app, "public admin").await;
    for (method, path) in [
        ("POST", format!("/api/v1/users/{JEAN}/anonymize")),
        ("DELETE", format!("/api/v1/users/{JEAN}")),
    ] {
        let response = app
            .json(
                method,
                &path,
                None,
                &[("authorization", &format!("Bearer {token}"))],
            )
            .await;
        assert_eq!(response.status, StatusCode::FORBIDDEN, "{method}");
        assert!(!response.has_header("www-authenticate"));
        assert_eq!(
            response.json(),
            json!({"error": "invalid_scope",
                "error_description": "Access to this resource requires scope \"authentication\".",
                "state": "forbidden"})
        );
    }
    // The api_key gives read access only.
    let response = delete(&app, &format!("/api/v1/users/{JEAN}?api_key=API_KEY")).await;
    assert_eq!(response.status, StatusCode::UNAUTHORIZED);
    assert_eq!(users(&app, "", &token).await.header("total"), "48");
}

#[tokio::test]
async fn an_expired_token_cannot_delete() {
    let app = TestApp::new();
    let token = token(&app, "authentication").await;
    app.state.clock.advance(TimeDelta::seconds(7201));
    let response = app
        .json(
            "DELETE",
            &format!("/api/v1/users/{JEAN}"),
            None,
            &[("authorization", &format!("Bearer {token}"))],
        )
        .await;
    assert_invalid_token(&response, "The access token expired");
}

#[tokio::test]
async fn the_fixtures_round_trip_through_the_control_plane() {
    let app = TestApp::new();
    let response = app.get("/__doublure/logora/users/21").await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.text());
    assert_eq!(response.json()["full_name"], "Jean Dupont");
    assert_eq!(response.json()["sub_application_name"], "app-test");
}

// ---- the seed page's examples -----------------------------------------------------

/// The seed page's example answer, as written there.
const SEED_BODY: &str = r#"{
  "success": true,
  "data": [
      {
        "id": 21,
        "uid": "02b3a18e-be9c-4f47-a2b3-a5867278cdc7",
        "image_url": "https://dfrx2oay1w3r9.cloudfront.net/uploads/standard_69835d290a622014fa921df8287b7fd7.jpg",
        "full_name": "Jean Dupont",
        "level": {
          "id": 1,
          "name": "Novice du débat",
          "icon_url": "https://d2vtyvk9fq7442.cloudfront.net/level_1.png"
        },
        "score": 0,
        "slug": "jean-dupont",
        "points": 0,
        "description": null,
        "created_at": "2021-11-25T16:15:38.874Z",
        "messages_count": 10,
        "votes_count": 123,
        "email": "jean.dupont@exemple.fr",
        "age": 58,
        "city": "Strasbourg",
        "occupation": "Jardinier",
        "interests": "nature,économie"
      },
      {
        "id": 26,
        "uid": "dd976c14-bf88-4a94-835d-eb09f1074048",
        "image_url": "https://dfrx2oay1w3r9.cloudfront.net/uploads/standard_9b71d3b9c6c06959dbc58ea3f0a128d0.jpg",
        "full_name": "Martine Durand",
        "level": {
          "id": 1,
          "name": "Novice du débat",
          "icon_url": "https://d2vtyvk9fq7442.cloudfront.net/level_1.png"
        },
        "score": 0,
        "slug": "martine-durand",
        "points": 1,
        "description": null,
        "created_at": "2021-02-15T14:09:48.619Z",
        "messages_count": 4,
        "votes_count": 1,
        "email": "martine.durand@exemple.fr",
        "age": 23,
        "city": "Nice",
        "occupation": "Médecin",
        "interests": "politique,économie"
      }
  ]
}"#;

#[tokio::test]
async fn the_seed_pages_curl_examples_give_the_seed_pages_answers() {
    let app = TestApp::new();
    // curl -d grant_type=client_credentials -d client_id=API_KEY
    //      -d client_secret=API_SECRET -d scopes=admin …/oauth/token
    let response = token_request(
        &app,
        "grant_type=client_credentials&client_id=API_KEY&client_secret=API_SECRET&scopes=admin",
    )
    .await;
    assert_eq!(response.status, StatusCode::OK);
    let body = response.json();
    // The page's keys, with Doorkeeper's `scope` besides.
    for key in ["access_token", "token_type", "expires_in", "created_at"] {
        assert!(body.get(key).is_some(), "{key} missing from {body}");
    }
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 7200);
    assert!(body["created_at"].is_i64());
    let token = body["access_token"].as_str().unwrap();
    assert_eq!(
        token.len(),
        "Av9wbEK-0QTOdxhzB4S3-B1ZFKj1Z4y8Xcl17iVcHsg".len()
    );

    let response = app
        .get_with(
            "/api/v1/users?page=1&per_page=10&is_expert=false&is_selected=false&sub_application_name=app-test",
            &[
                ("authorization", &format!("Bearer {token}")),
                ("content-type", "application/json"),
            ],
        )
        .await;
    assert_eq!(response.status, StatusCode::OK);
    let expected: Value = serde_json::from_str(SEED_BODY).unwrap();
    assert_eq!(response.json(), expected);
    // Field order too, as the page shows it.
    assert_eq!(response.text(), expected.to_string());
}

#[tokio::test]
async fn a_json_body_that_is_not_an_object_is_invalid_request() {
    let app = TestApp::new();
    let response = post(&app, "/oauth/token", json!(["client_credentials"])).await;
    assert_doorkeeper_error(
        &response,
        StatusCode::BAD_REQUEST,
        "invalid_request",
        "The request is missing a required parameter, includes an unsupported parameter value, or is otherwise malformed.",
    );
}

#[tokio::test]
async fn a_token_wins_over_an_api_key_when_both_are_sent() {
    let app = TestApp::new();
    let other = token_for(&app, "OTHER_API_KEY", "OTHER_API_SECRET", "public").await;
    let response = users(&app, "?api_key=API_KEY", &other).await;
    assert_eq!(ids(&response.json()), [101, 102, 103, 104, 105, 106]);
}

#[test]
fn the_token_lifetime_flag_reaches_the_settings() {
    use clap::Parser;
    let cli = Cli::try_parse_from(["doublure", "--logora-token-lifetime", "60"]).unwrap();
    assert_eq!(cli.serve.logora_token_lifetime, 60);
    let settings = Settings::new(&cli.serve, "127.0.0.1:8080".parse().unwrap()).unwrap();
    assert_eq!(settings.logora_token_lifetime, 60);
    let default = Cli::try_parse_from(["doublure"]).unwrap();
    assert_eq!(default.serve.logora_token_lifetime, 7200);
}

#[tokio::test]
async fn a_client_added_through_the_control_plane_gets_tokens_at_once() {
    let app = TestApp::new();
    let response = post(
        &app,
        "/__doublure/logora/clients",
        json!({"client_id": "NEW_KEY", "client_secret": "NEW_SECRET",
                "application_id": 2, "scopes": "public"}),
    )
    .await;
    assert_eq!(response.status, StatusCode::CREATED, "{}", response.text());
    let token = token_for(&app, "NEW_KEY", "NEW_SECRET", "public").await;
    assert_eq!(
        ids(&users(&app, "", &token).await.json()),
        [101, 102, 103, 104, 105, 106]
    );
    let bad = post(
        &app,
        "/__doublure/logora/clients",
        json!({"client_id": "BAD", "client_secret": "S",
                "application_id": 9, "scopes": "public write"}),
    )
    .await;
    assert_json(
        &bad,
        StatusCode::BAD_REQUEST,
        json!({
            "error": "invalid data: nothing was changed",
            "problems": [
                "state/logora/clients.json: item 5 (id BAD): field application_id: no application 9",
                "state/logora/clients.json: item 5 (id BAD): field scopes: unknown scope \"write\"; expected public, authentication or admin"
            ]
        }),
    );
}

#[tokio::test]
async fn no_scope_asked_by_a_client_without_public_is_invalid_scope() {
    let app = TestApp::new();
    let added = post(
        &app,
        "/__doublure/logora/clients",
        json!({"client_id": "SSO_KEY", "client_secret": "SSO_SECRET",
                "application_id": 1, "scopes": "authentication"}),
    )
    .await;
    assert_eq!(added.status, StatusCode::CREATED);
    let response = token_request(
        &app,
        "grant_type=client_credentials&client_id=SSO_KEY&client_secret=SSO_SECRET",
    )
    .await;
    assert_doorkeeper_error(
        &response,
        StatusCode::BAD_REQUEST,
        "invalid_scope",
        "The requested scope is invalid, unknown, or malformed.",
    );
    let asked = token_for(&app, "SSO_KEY", "SSO_SECRET", "authentication").await;
    assert_eq!(asked.len(), 43);
}

#[tokio::test]
async fn another_method_on_a_logora_path_is_a_404_in_the_apis_format() {
    let app = TestApp::new();
    for (method, path) in [
        ("GET", "/oauth/token"),
        ("POST", "/api/v1/users"),
        ("GET", "/api/v1/users/abc"),
        ("PUT", "/oauth/revoke"),
    ] {
        let response = app.json(method, path, None, &[]).await;
        assert_eq!(response.status, StatusCode::NOT_FOUND, "{method} {path}");
        assert_eq!(
            response.json(),
            json!({"success": false, "error": "Not found"}),
            "{method} {path}"
        );
    }
}
