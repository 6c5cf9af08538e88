//! Who may call the control plane and with what: the admin token, and
//! bodies that are not JSON.

use crate::common::TestApp;
use crate::common::control::{error, raw_json};
use axum::http::StatusCode;
use doublure::testing::config::Settings;
use doublure::testing::state::test_now;
use serde_json::json;

#[tokio::test]
async fn with_an_admin_token_every_route_but_health_needs_it() {
    let app = TestApp::with_settings(Settings {
        admin_token: Some("s3cret".into()),
        ..Settings::for_tests()
    });
    assert_eq!(app.get("/__doublure/health").await.status, StatusCode::OK);

    let missing = app.get("/__doublure/clock").await;
    assert_eq!(missing.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        missing.header("www-authenticate"),
        "Bearer realm=\"doublure\""
    );
    assert_eq!(
        missing.json(),
        json!({"error": "this control plane needs Authorization: Bearer <admin token>"})
    );
    let wrong = app
        .get_with("/__doublure/requests", &[("authorization", "Bearer nope")])
        .await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    let reset = app
        .json(
            "POST",
            "/__doublure/reset",
            None,
            &[("authorization", "Bearer s3cret")],
        )
        .await;
    assert_eq!(reset.status, StatusCode::OK);
    let lower = app
        .get_with("/__doublure/clock", &[("authorization", "bearer s3cret")])
        .await;
    assert_eq!(lower.status, StatusCode::OK);
}

#[tokio::test]
async fn the_admin_token_does_not_guard_the_emulated_apis() {
    let app = TestApp::with_settings(Settings {
        admin_token: Some("s3cret".into()),
        ..Settings::for_tests()
    });
    let response = app.get("/api/nothing/").await;
    assert_eq!(response.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_broken_json_body_is_a_400_on_every_route_that_takes_one() {
    let app = TestApp::new();
    let state = app.get("/__doublure/state").await.text();
    for (method, uri) in [
        ("POST", "/__doublure/faults"),
        ("POST", "/__doublure/logora/tokens"),
        ("POST", "/__doublure/wcs/sign"),
        ("PUT", "/__doublure/state"),
        ("PUT", "/__doublure/clock"),
        ("POST", "/__doublure/logora/users"),
        ("PATCH", "/__doublure/logora/users/21"),
        ("PUT", "/__doublure/wcs/roles/x"),
        ("POST", "/__doublure/clock/advance"),
    ] {
        let response = raw_json(&app, method, uri, "{seconds: 1").await;
        assert_eq!(
            (
                response.status,
                response.header("content-type"),
                response.json()
            ),
            (
                StatusCode::BAD_REQUEST,
                "application/json",
                error(
                    "Failed to parse the request body as JSON: key must be a string at line 1 column 2"
                )
            ),
            "{method} {uri}"
        );
    }
    // Nothing was changed by any of them.
    assert_eq!(
        app.get("/__doublure/faults").await.json(),
        json!({"faults": []})
    );
    assert_eq!(app.get("/__doublure/state").await.text(), state);
    assert_eq!(app.state.clock.now(), test_now());
}

/// The control plane's refusal of a call for `host`.
fn foreign_host(host: &str) -> serde_json::Value {
    error(&format!(
        "control-plane call refused: Host {host:?} is not doublure's (a loopback address, the \
         --public-url host, or an --allowed-host); if doublure is reached by that name, start it \
         with --allowed-host {host} (or DOUBLURE_ALLOWED_HOST={host})"
    ))
}

#[tokio::test]
async fn a_control_plane_call_for_another_host_is_refused_as_dns_rebinding_would_send_it() {
    let app = TestApp::with_settings(Settings {
        public_url: "http://doublure.test:8080".into(),
        ..Settings::for_tests()
    });
    let rebound = [
        ("host", "evil.example:8080"),
        ("origin", "http://evil.example:8080"),
    ];
    for (method, path) in [
        ("POST", "/__doublure/reset"),
        ("GET", "/__doublure/state"),
        ("GET", "/__doublure/ui/"),
        ("GET", "/__doublure/namespaces"),
        ("GET", "/__ns/x/__doublure/state"),
        ("GET", "/__ns/x/__doublure/namespaces"),
    ] {
        let refused = app.json(method, path, None, &rebound).await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN, "{method} {path}");
        assert_eq!(refused.json(), foreign_host("evil.example"), "{path}");
    }
    let no_origin = app
        .get_with("/__doublure/state", &[("host", "evil.example")])
        .await;
    assert_eq!(no_origin.json(), foreign_host("evil.example"));
    // A Host no shell should see unquoted is not offered as a command.
    let hostile = app
        .get_with("/__doublure/state", &[("host", "a;curl$IFS-d@~")])
        .await;
    assert_eq!(hostile.status, StatusCode::FORBIDDEN);
    assert_eq!(
        hostile.json(),
        error(
            "control-plane call refused: Host \"a;curl$ifs-d@~\" is not doublure's (a loopback \
             address, the --public-url host, or an --allowed-host); if doublure is reached by \
             that name, start it with --allowed-host NAME (or DOUBLURE_ALLOWED_HOST=NAME)"
        )
    );
    assert_eq!(
        app.state.namespaces().len(),
        0,
        "a refused call makes no namespace"
    );
    // Health stays open to probes, whatever host they name.
    let health = app
        .get_with("/__doublure/health", &[("host", "10.1.2.3:8080")])
        .await;
    assert_eq!(health.status, StatusCode::OK);
    // The emulated APIs are for any host.
    let api = app
        .get_with("/api/v1/users?api_key=API_KEY", &[("host", "evil.example")])
        .await;
    assert_eq!(api.status, StatusCode::OK);
    for host in [
        "localhost:8080",
        "127.0.0.1:1",
        "[::1]:8080",
        "doublure.test",
        "doublure.test:9",
    ] {
        let allowed = app
            .get_with(
                "/__doublure/clock",
                &[("host", host), ("origin", &format!("http://{host}"))],
            )
            .await;
        assert_eq!(allowed.status, StatusCode::OK, "{host}");
    }
}

#[tokio::test]
async fn allowed_hosts_are_answered_and_a_star_answers_any() {
    let app = TestApp::with_settings(Settings {
        allowed_hosts: vec!["doublure".into(), "ci.internal".into()],
        ..Settings::for_tests()
    });
    for host in ["doublure:8080", "ci.internal", "DOUBLURE"] {
        let allowed = app.get_with("/__doublure/clock", &[("host", host)]).await;
        assert_eq!(allowed.status, StatusCode::OK, "{host}");
    }
    let refused = app
        .get_with("/__doublure/clock", &[("host", "other:8080")])
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert_eq!(refused.json(), foreign_host("other"));

    let any = TestApp::with_settings(Settings {
        allowed_hosts: vec!["*".into()],
        ..Settings::for_tests()
    });
    let allowed = any
        .get_with("/__doublure/clock", &[("host", "anything.example")])
        .await;
    assert_eq!(allowed.status, StatusCode::OK);
}

#[tokio::test]
async fn a_rebinding_page_cannot_reach_the_control_plane_over_a_real_socket() {
    let served = crate::common::Served::start(doublure::testing::AppState::for_tests()).await;
    let mut stream = tokio::net::TcpStream::connect(served.addr).await.unwrap();
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    stream
        .write_all(
            b"POST /__doublure/reset HTTP/1.1\r\nHost: evil.example:8080\r\n\
              Origin: http://evil.example:8080\r\nContent-Type: text/plain\r\n\
              Content-Length: 1\r\nConnection: close\r\n\r\nx",
        )
        .await
        .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).await.unwrap();
    assert!(answer.starts_with("HTTP/1.1 403 Forbidden\r\n"), "{answer}");
    assert!(
        answer.ends_with(&foreign_host("evil.example").to_string()),
        "{answer}"
    );
}
