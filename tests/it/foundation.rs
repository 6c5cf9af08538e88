//! The server's ground floor, through the real router: health, CORS, the
//! three 404 shapes, configuration and the Dockerfile's variables.

use crate::common::TestApp;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use clap::{CommandFactory, Parser};
use doublure::testing::AppState;
use doublure::testing::cli::{Cli, Command, FixturesCommand};
use doublure::testing::config::Settings;
use doublure::testing::config::{Config, LogFormat};

#[tokio::test]
async fn health_answers_ok_once_the_store_is_loaded() {
    let app = TestApp::new();
    let response = app.get("/__doublure/health").await;
    assert_eq!(response.status, StatusCode::OK);
    assert_eq!(response.header("content-type"), "application/json");
    assert_eq!(response.text(), r#"{"status":"ok"}"#);
}

#[tokio::test]
async fn an_unknown_path_under_api_v1_gets_a_logora_404() {
    let response = TestApp::new().get("/api/v1/nothing-here").await;
    assert_eq!(response.status, StatusCode::NOT_FOUND);
    assert_eq!(response.header("content-type"), "application/json");
    let body = response.json();
    assert_eq!(body["success"], false);
    assert!(body["error"].is_string(), "{body}");
    assert_eq!(body.as_object().unwrap().len(), 2, "{body}");
}

#[tokio::test]
async fn an_unknown_path_elsewhere_under_api_gets_a_wcs_404() {
    let response = TestApp::new().get("/api/nothing-here/").await;
    assert_eq!(response.status, StatusCode::NOT_FOUND);
    assert_eq!(response.header("content-type"), "application/json");
    assert_eq!(
        response.json(),
        serde_json::json!({"err": 1, "err_class": "Page not found", "err_code": "not-found", "err_desc": null})
    );
}

#[tokio::test]
async fn an_unknown_path_outside_the_apis_gets_a_plain_404() {
    let response = TestApp::new().get("/favicon.ico").await;
    assert_eq!(response.status, StatusCode::NOT_FOUND);
    assert_eq!(response.header("content-type"), "text/plain; charset=utf-8");
    assert_eq!(response.text(), "Not Found\n");
}

async fn preflight(app: &TestApp, path: &str, origin: &str) -> crate::common::TestResponse {
    app.send(
        Request::builder()
            .method(Method::OPTIONS)
            .uri(path)
            .header("origin", origin)
            .header("access-control-request-method", "GET")
            .header("access-control-request-headers", "authorization")
            .body(Body::empty())
            .unwrap(),
    )
    .await
}

#[tokio::test]
async fn a_browser_preflight_on_an_api_route_is_allowed_with_authorization() {
    let app = TestApp::new();
    for path in ["/api/v1/users", "/oauth/token", "/api/user/"] {
        let response = preflight(&app, path, "http://front.test").await;
        assert_eq!(response.status, StatusCode::OK, "{path}");
        assert_eq!(
            response.header("access-control-allow-origin"),
            "*",
            "{path}"
        );
        assert_eq!(
            response.header("access-control-allow-headers"),
            "authorization",
            "{path}"
        );
        assert_eq!(
            response.header("access-control-allow-methods"),
            "GET,POST,PUT,PATCH,DELETE,OPTIONS",
            "{path}"
        );
    }
}

#[tokio::test]
async fn api_answers_expose_the_pagination_headers_to_browsers() {
    let app = TestApp::new();
    let response = app
        .get_with("/api/v1/users", &[("origin", "http://front.test")])
        .await;
    assert_eq!(response.header("access-control-allow-origin"), "*");
    let exposed = response.header("access-control-expose-headers");
    for name in [
        "total",
        "total-pages",
        "current-page",
        "page-items",
        "next-page",
        "link",
    ] {
        assert!(
            exposed.split(',').any(|h| h.trim() == name),
            "{name} not in {exposed}"
        );
    }
}

#[tokio::test]
async fn the_control_plane_never_answers_cors() {
    let app = TestApp::new();
    let response = preflight(&app, "/__doublure/health", "http://front.test").await;
    assert!(!response.has_header("access-control-allow-origin"));
    let response = app
        .get_with("/__doublure/health", &[("origin", "http://front.test")])
        .await;
    assert_eq!(response.status, StatusCode::OK);
    assert!(!response.has_header("access-control-allow-origin"));
}

#[tokio::test]
async fn a_configured_origin_list_allows_only_those_origins() {
    let config = Config {
        cors_origin: "http://allowed.test".to_owned(),
        ..Config::default()
    };
    let settings = Settings::new(&config, "127.0.0.1:8080".parse().unwrap()).unwrap();
    let state = AppState::for_tests_with(settings);
    let app = TestApp::with_state(state);
    let allowed = preflight(&app, "/api/v1/users", "http://allowed.test").await;
    assert_eq!(
        allowed.header("access-control-allow-origin"),
        "http://allowed.test"
    );
    let refused = preflight(&app, "/api/v1/users", "http://elsewhere.test").await;
    assert!(!refused.has_header("access-control-allow-origin"));
}

/// A response's headers in the order they are written, values as text.
fn header_list(response: &crate::common::TestResponse) -> Vec<(String, String)> {
    response
        .headers
        .iter()
        .map(|(n, v)| (n.to_string(), v.to_str().unwrap().to_owned()))
        .collect()
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
        .collect()
}

const VARY: (&str, &str) = (
    "vary",
    "origin, access-control-request-method, access-control-request-headers",
);
const EXPOSED: (&str, &str) = (
    "access-control-expose-headers",
    "total,total-pages,current-page,page-items,next-page,link,www-authenticate,retry-after",
);

/// The CORS headers end an API answer, after the handler's own, in this
/// order, whether the request names an origin or not.
#[tokio::test]
async fn an_api_answer_ends_with_the_cors_headers_in_their_order() {
    let app = TestApp::new();
    for prefix in ["", "/__ns/cors-order"] {
        let path = format!("{prefix}/api/v1/users");
        for asked in [&[("origin", "http://front.test")][..], &[]] {
            let response = app.get_with(&path, asked).await;
            assert_eq!(response.status, StatusCode::UNAUTHORIZED, "{path}");
            let list = header_list(&response);
            assert_eq!(
                list[list.len() - 3..],
                pairs(&[VARY, ("access-control-allow-origin", "*"), EXPOSED]),
                "{path} {asked:?}: {list:?}"
            );
            assert_eq!(
                list.iter()
                    .filter(|(n, _)| n.starts_with("access-control-") || n == "vary")
                    .count(),
                3,
                "{list:?}"
            );
        }
    }
}

#[tokio::test]
async fn a_preflight_is_answered_with_exactly_these_headers_in_this_order() {
    let app = TestApp::new();
    for path in [
        "/api/v1/users",
        "/__ns/cors-order/api/user/",
        "/__ns/BAD!/api/v1/users",
    ] {
        let response = preflight(&app, path, "http://front.test").await;
        assert_eq!(response.status, StatusCode::OK, "{path}");
        assert_eq!(response.body, b"", "{path}");
        assert_eq!(
            header_list(&response),
            pairs(&[
                VARY,
                (
                    "access-control-allow-methods",
                    "GET,POST,PUT,PATCH,DELETE,OPTIONS"
                ),
                ("access-control-allow-headers", "authorization"),
                ("access-control-max-age", "600"),
                ("access-control-allow-origin", "*"),
                ("content-length", "0"),
            ]),
            "{path}"
        );
    }
}

#[tokio::test]
async fn an_unlisted_origin_gets_vary_and_the_exposed_headers_but_no_allowed_origin() {
    let config = Config {
        cors_origin: "http://allowed.test".to_owned(),
        ..Config::default()
    };
    let settings = Settings::new(&config, "127.0.0.1:8080".parse().unwrap()).unwrap();
    let app = TestApp::with_state(AppState::for_tests_with(settings));
    let response = app
        .get_with("/api/v1/users", &[("origin", "http://elsewhere.test")])
        .await;
    let list = header_list(&response);
    assert_eq!(list[list.len() - 2..], pairs(&[VARY, EXPOSED]), "{list:?}");
    let response = app
        .get_with("/api/v1/users", &[("origin", "http://allowed.test")])
        .await;
    let list = header_list(&response);
    assert_eq!(
        list[list.len() - 3..],
        pairs(&[
            VARY,
            ("access-control-allow-origin", "http://allowed.test"),
            EXPOSED
        ]),
        "{list:?}"
    );
    let response = preflight(&app, "/api/v1/users", "http://elsewhere.test").await;
    assert_eq!(
        header_list(&response),
        pairs(&[
            VARY,
            (
                "access-control-allow-methods",
                "GET,POST,PUT,PATCH,DELETE,OPTIONS"
            ),
            ("access-control-allow-headers", "authorization"),
            ("access-control-max-age", "600"),
            ("content-length", "0"),
        ])
    );
}

#[test]
fn every_flag_is_read_from_the_command_line() {
    let cli = Cli::try_parse_from([
        "doublure",
        "--listen",
        "0.0.0.0:9000",
        "--fixtures",
        "/srv/fx",
        "--public-url",
        "https://demo.test",
        "--admin-token",
        "s3cret",
        "--cors-origin",
        "https://a.test",
        "--log-format",
        "json",
        "--log-level",
        "debug",
    ])
    .unwrap();
    let c = cli.serve;
    assert_eq!(c.listen, "0.0.0.0:9000".parse().unwrap());
    assert_eq!(c.fixtures.as_deref(), Some(std::path::Path::new("/srv/fx")));
    assert_eq!(c.public_url.as_deref(), Some("https://demo.test"));
    assert_eq!(c.admin_token.as_deref(), Some("s3cret"));
    assert_eq!(c.cors_origin, "https://a.test");
    assert_eq!(c.log_format, LogFormat::Json);
    assert_eq!(c.log_level, "debug");
}

#[test]
fn subcommands_parse_with_their_arguments() {
    let cli = Cli::try_parse_from(["doublure", "fixtures", "validate", "fx"]).unwrap();
    assert!(matches!(
        cli.command,
        Some(Command::Fixtures(FixturesCommand::Validate { ref dir })) if dir == std::path::Path::new("fx")
    ));
    let cli = Cli::try_parse_from(["doublure", "healthcheck", "--url", "http://h:1/x"]).unwrap();
    assert!(
        matches!(cli.command, Some(Command::Healthcheck { url: Some(ref u), .. }) if u == "http://h:1/x")
    );
}

#[test]
fn defaults_serve_the_built_in_fixtures_on_localhost_8080() {
    let c = Config::default();
    assert_eq!(c.listen, "127.0.0.1:8080".parse().unwrap());
    assert_eq!(c.fixtures, None);
    assert_eq!(c.public_url, None);
    assert_eq!(c.cors_origin, "*");
}

/// Every environment variable any serving flag reads.
fn config_env_names() -> Vec<String> {
    Cli::command()
        .get_arguments()
        .filter_map(|a| a.get_env())
        .map(|e| e.to_string_lossy().into_owned())
        .collect()
}

/// The names the Dockerfile sets with ENV (continuation lines included).
fn dockerfile_env_names() -> Vec<String> {
    let dockerfile = include_str!("../../Dockerfile");
    let mut names = Vec::new();
    let mut continued = false;
    for line in dockerfile.lines() {
        let trimmed = line.trim();
        let rest = match trimmed.strip_prefix("ENV ") {
            Some(rest) => rest,
            None if continued => trimmed,
            None => continue,
        };
        for word in rest.split_whitespace() {
            if let Some((name, _)) = word.split_once('=') {
                names.push(name.to_owned());
            }
        }
        continued = trimmed.ends_with('\\');
    }
    names
}

#[test]
fn every_env_name_in_the_dockerfile_is_one_the_config_reads() {
    let known = config_env_names();
    let set = dockerfile_env_names();
    assert!(set.contains(&"DOUBLURE_LISTEN".to_owned()), "{set:?}");
    for name in &set {
        assert!(
            known.contains(name),
            "Dockerfile sets {name}, which no flag reads ({known:?})"
        );
    }
}

#[test]
fn the_dockerfile_listens_on_every_interface_as_non_root_with_a_healthcheck() {
    let dockerfile = include_str!("../../Dockerfile");
    assert!(dockerfile.contains("DOUBLURE_LISTEN=0.0.0.0:8080"));
    assert!(dockerfile.contains("\nEXPOSE 8080\n"));
    assert!(dockerfile.contains("\nUSER 65532:65532\n"));
    assert!(dockerfile.contains(r#"CMD ["/usr/local/bin/doublure", "healthcheck"]"#));
}

#[test]
fn the_dockerfile_version_label_defaults_to_the_crate_version() {
    let dockerfile = include_str!("../../Dockerfile");
    let expected = format!("\nARG VERSION={}\n", env!("CARGO_PKG_VERSION"));
    assert!(
        dockerfile.contains(&expected),
        "the Dockerfile's ARG VERSION is not {}",
        env!("CARGO_PKG_VERSION")
    );
}

#[test]
fn the_dockerfile_names_its_base_images_in_full_and_ends_from_scratch() {
    // Podman refuses short names such as `rust:1` without an alias file.
    let images: Vec<&str> = include_str!("../../Dockerfile")
        .lines()
        .filter_map(|l| l.strip_prefix("FROM "))
        .filter_map(|rest| rest.split_whitespace().next())
        .collect();
    assert_eq!(images.last(), Some(&"scratch"), "{images:?}");
    for image in &images {
        let registry = image.split('/').next().unwrap_or_default();
        assert!(
            *image == "scratch" || (image.contains('/') && registry.contains('.')),
            "FROM {image} does not name its registry"
        );
    }
}

#[test]
fn the_configuration_guide_lists_every_environment_variable() {
    let guide = include_str!("../../docs/configuration.md");
    for name in config_env_names() {
        assert!(
            guide.contains(&format!("| `{name}` |")),
            "docs/configuration.md's table lacks {name}"
        );
    }
}
