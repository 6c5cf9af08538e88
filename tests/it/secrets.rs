//! No secret reaches the journal or the log, whatever field it is sent in:
//! a table of placements, each checked against the whole journal.

use crate::common::{TestApp, basic};
use axum::http::StatusCode;
use doublure::testing::AppState;
use doublure::testing::config::Settings;

/// Every secret the built-in fixtures hold, and the admin token of the
/// app below.
const SECRETS: &[&str] = &[
    "API_SECRET",
    "OTHER_API_SECRET",
    "demo-secret",
    "agents-secret",
    "paul-password",
    "the-admin-token",
];

/// One way of sending a secret: what it is, method, URI, headers, body.
type Placement = (
    &'static str,
    &'static str,
    String,
    Vec<(&'static str, String)>,
    &'static str,
);

#[tokio::test]
async fn a_secret_sent_in_any_field_is_redacted_from_the_journal() {
    let mut settings = Settings::for_tests();
    settings.admin_token = Some("the-admin-token".to_owned());
    let app = TestApp::with_state(AppState::for_tests_with(settings));
    let form = "application/x-www-form-urlencoded";
    let placements: Vec<Placement> = vec![
        (
            "client secret as client_id",
            "POST",
            "/oauth/token".into(),
            vec![("content-type", form.into())],
            "grant_type=client_credentials&client_id=API_SECRET&client_secret=x",
        ),
        (
            "client secret as scope",
            "POST",
            "/oauth/token".into(),
            vec![("content-type", form.into())],
            "grant_type=client_credentials&client_id=API_KEY&client_secret=API_SECRET&scope=OTHER_API_SECRET",
        ),
        (
            "client secret as grant_type",
            "POST",
            "/oauth/token?grant_type=API_SECRET".into(),
            vec![],
            "",
        ),
        (
            "Basic password in the user field",
            "POST",
            "/oauth/token".into(),
            vec![
                ("authorization", basic("API_SECRET", "nope")),
                ("content-type", form.into()),
            ],
            "grant_type=client_credentials",
        ),
        (
            "w.c.s. key as orig",
            "GET",
            "/api/user/?orig=demo-secret&algo=sha256&timestamp=2026-01-15T10%3A00%3A00Z&signature=x"
                .into(),
            vec![],
            "",
        ),
        (
            "a password in a signed string",
            "GET",
            "/api/user/?email=fred%40example.net&password=paul-password&orig=demo&algo=sha256&timestamp=2026-01-15T10%3A00%3A00Z&signature=x"
                .into(),
            vec![],
            "",
        ),
        (
            "a user's password as Basic user",
            "GET",
            "/api/user/".into(),
            vec![("authorization", basic("paul-password", "x"))],
            "",
        ),
        (
            "an API access key in a header of its own",
            "GET",
            "/api/user/".into(),
            vec![("x-api-key", "agents-secret".into())],
            "",
        ),
        (
            "the admin token in a query string",
            "GET",
            "/api/v1/users?api_key=the-admin-token".into(),
            vec![],
            "",
        ),
        (
            "a secret in the path",
            "GET",
            "/api/v1/users/API_SECRET/nothing".into(),
            vec![],
            "",
        ),
        (
            "a secret percent-encoded",
            "GET",
            "/api/v1/users?api_key=demo%2Dsecret".into(),
            vec![],
            "",
        ),
    ];
    for (what, method, uri, headers, body) in &placements {
        let mut request = axum::http::Request::builder()
            .method(*method)
            .uri(uri.as_str());
        for (name, value) in headers {
            request = request.header(*name, value.as_str());
        }
        let response = app
            .send(request.body(axum::body::Body::from(*body)).unwrap())
            .await;
        assert!(
            response.status.as_u16() >= 300,
            "{what}: {}",
            response.status
        );
    }
    let journal = app
        .get_with(
            "/__doublure/requests",
            &[("authorization", "Bearer the-admin-token")],
        )
        .await;
    assert_eq!(journal.status, StatusCode::OK);
    let text = journal.text();
    assert_eq!(
        journal.json()["count"],
        placements.len(),
        "every placement is journaled"
    );
    for secret in SECRETS {
        assert!(
            !text.contains(secret),
            "{secret} reached the journal: {text}"
        );
    }
    assert!(!text.contains("demo%2Dsecret"), "{text}");
    let outcomes: Vec<String> = journal.json()["requests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["outcome"].as_str().unwrap_or("").to_owned())
        .collect();
    assert_eq!(
        outcomes[0],
        "invalid_client: unknown client_id \"[redacted]\" (by client_id/client_secret parameters)"
    );
    assert!(
        outcomes[5].contains("&password=[redacted]&"),
        "{}",
        outcomes[5]
    );
}

#[tokio::test]
async fn a_long_header_cut_in_the_journal_keeps_no_part_of_a_secret() {
    let app = TestApp::new();
    // The journal keeps 1,024 bytes of a header value, and 64 of a secret
    // header's scheme: each secret here straddles its cut.
    let note = format!("{}API_SECRET{}", "x".repeat(1019), "y".repeat(100));
    let scheme = format!("{}OTHER_API_SECRET token", "z".repeat(60));
    let response = app
        .get_with(
            "/api/v1/users",
            &[
                ("x-note", note.as_str()),
                ("authorization", scheme.as_str()),
            ],
        )
        .await;
    assert_eq!(response.status, StatusCode::UNAUTHORIZED);
    let journal = app.get("/__doublure/requests").await;
    let json = journal.json();
    let header = |name: &str| {
        json["requests"][0]["headers"]
            .as_array()
            .unwrap()
            .iter()
            .find(|pair| pair[0] == name)
            .and_then(|pair| pair[1].as_str())
            .unwrap()
            .to_owned()
    };
    let kept_note = header("x-note");
    assert!(
        kept_note.starts_with(&format!("{}[reda", "x".repeat(1019))),
        "{kept_note}"
    );
    assert!(!kept_note.contains("API_S"), "{kept_note}");
    let kept_scheme = header("authorization");
    assert!(
        kept_scheme.starts_with(&format!("{}[red", "z".repeat(60))),
        "{kept_scheme}"
    );
    assert!(!kept_scheme.contains("OTHE"), "{kept_scheme}");
}
