//! The three OpenAPI documents and the server agree: every route of each
//! emulated API's router is in its document and back, the documents'
//! examples are what the server answers, and the control plane's document
//! says what the server accepts (the ten places where schemathesis found
//! them apart, each pinned here). CI also runs schemathesis against all
//! three (`.ci/contracts`).

use doublure::testing::wcs::signature::quote;
use doublure::testing::wcs::signature::signature;
use std::collections::BTreeSet;

use crate::common::control::{assert_json, post, post_empty, put};
use crate::common::logora::token_request;
use crate::common::{FIXTURE_FILES, TestApp};
use axum::http::StatusCode;
use serde_json::{Value, json};

const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

async fn document(app: &TestApp, name: &str) -> Value {
    let response = app.get(&format!("/__doublure/{name}")).await;
    assert_eq!(response.status, StatusCode::OK, "{name}");
    let document = response.json();
    assert_eq!(document["openapi"], "3.1.0", "{name}");
    document
}

/// The literal paths of the `.route("…", …)` calls in a module's sources
/// (routes are literal by the project's style), parameters written `{}`.
fn routes_in(module: &str) -> BTreeSet<String> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("src")
        .join(module);
    let mut routes = BTreeSet::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) != Some("rs") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        for (at, _) in text.match_indices(".route(") {
            let rest = text[at + ".route(".len()..].trim_start();
            let Some(literal) = rest.strip_prefix('"') else {
                continue;
            };
            let end = literal.find('"').unwrap();
            routes.insert(anonymous(&literal[..end]));
        }
    }
    assert!(!routes.is_empty(), "no routes found in {}", dir.display());
    routes
}

/// `/api/users/{x}/forms` → `/api/users/{}/forms`.
fn anonymous(path: &str) -> String {
    let mut out = String::new();
    let mut inside = false;
    for c in path.chars() {
        match c {
            '{' => {
                inside = true;
                out.push_str("{}");
            }
            '}' => inside = false,
            _ if inside => {}
            _ => out.push(c),
        }
    }
    out
}

fn documented(document: &Value) -> BTreeSet<String> {
    document["paths"]
        .as_object()
        .unwrap()
        .keys()
        .map(|p| anonymous(p))
        .collect()
}

#[tokio::test]
async fn every_route_of_each_api_router_is_in_its_document_and_back() {
    let app = TestApp::new();
    for (module, name) in [
        ("logora", "openapi/logora.json"),
        ("wcs", "openapi/wcs.json"),
    ] {
        let document = document(&app, name).await;
        assert_eq!(routes_in(module), documented(&document), "{module}");
    }
}

/// A concrete URI for a documented path.
fn concrete(path: &str) -> String {
    path.replace("{uid}", "no-such-uid").replace("{x}", "5")
}

#[tokio::test]
async fn every_documented_method_is_served_and_every_other_is_refused_in_the_apis_format() {
    let app = TestApp::new();
    for name in ["openapi/logora.json", "openapi/wcs.json"] {
        let document = document(&app, name).await;
        for (path, item) in document["paths"].as_object().unwrap() {
            let uri = concrete(path);
            for method in METHODS {
                let response = app.json(&method.to_uppercase(), &uri, None, &[]).await;
                let no_route = if name.contains("logora") {
                    // Rails' unknown route: the router's own 404, whose
                    // content type has no charset.
                    response.status == StatusCode::NOT_FOUND
                        && response.header("content-type") == "application/json"
                } else {
                    response.status == StatusCode::METHOD_NOT_ALLOWED
                };
                let listed = item.get(method).is_some();
                assert_eq!(!no_route, listed, "{method} {path}: {}", response.text());
                if listed {
                    let statuses = item[method]["responses"].as_object().unwrap();
                    assert!(
                        statuses.contains_key(response.status.as_str()),
                        "{method} {path} answered {}, documented: {:?}",
                        response.status,
                        statuses.keys().collect::<Vec<_>>()
                    );
                }
            }
        }
    }
}

#[tokio::test]
async fn the_api_documents_name_this_instance_as_their_server() {
    let app = TestApp::new();
    for name in ["openapi/logora.json", "openapi/wcs.json"] {
        let document = document(&app, name).await;
        assert_eq!(
            document["servers"][0]["url"], "http://localhost:8080",
            "{name}"
        );
        assert!(
            document["info"]["description"]
                .as_str()
                .unwrap()
                .contains("/__ns/{name}/"),
            "{name} mentions the namespace prefix"
        );
    }
}

#[tokio::test]
async fn the_logora_documents_example_is_the_seed_pages_answer() {
    let app = TestApp::new();
    let document = document(&app, "openapi/logora.json").await;
    let example = &document["paths"]["/api/v1/users"]["get"]["responses"]["200"]["content"]["application/json; charset=utf-8"]
        ["example"];
    let response = app
        .get("/api/v1/users?page=1&per_page=10&is_expert=false&is_selected=false&sub_application_name=app-test&api_key=API_KEY")
        .await;
    assert_eq!(response.status, StatusCode::OK);
    assert_eq!(&response.json(), example);
    let token = &document["paths"]["/oauth/token"]["post"]["responses"]["200"]["content"]["application/json; charset=utf-8"]
        ["example"];
    let keys = |v: &Value| v.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
    let minted = token_request(
        &app,
        "grant_type=client_credentials&client_id=API_KEY&client_secret=API_SECRET",
    )
    .await;
    assert_eq!(minted.status, StatusCode::OK);
    assert_eq!(
        keys(token),
        [
            "access_token",
            "token_type",
            "expires_in",
            "scope",
            "created_at"
        ]
    );
    assert_eq!(keys(&minted.json()), keys(token));
}

#[tokio::test]
async fn the_wcs_document_describes_the_crash_of_shake_algorithms() {
    let app = TestApp::new();
    let document = document(&app, "openapi/wcs.json").await;
    assert_eq!(
        document["paths"]["/api/user/"]["get"]["responses"]["500"]["content"]["application/json"]["example"],
        json!({"err": 1})
    );
    let query = "orig=demo&algo=shake_128&timestamp=2026-01-15T10%3A00%3A00Z";
    let signature = signature("sha256", "demo-secret", query).unwrap();
    let response = app
        .get(&format!(
            "/api/user/?{query}&signature={}",
            quote(&signature)
        ))
        .await;
    assert_eq!(response.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(response.json(), json!({"err": 1}));
}

#[tokio::test]
async fn a_wcs_405_names_the_methods_the_path_has() {
    let app = TestApp::new();
    let response = post_empty(&app, "/api/user/forms").await;
    assert_eq!(response.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(response.header("allow"), "GET, HEAD");
    let response = app.get("/api/user/preferences").await;
    assert_eq!(response.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(response.header("allow"), "POST");
}

// ---- The control plane's document says what the server accepts ----------

async fn control_plane(app: &TestApp) -> Value {
    document(app, "openapi.json").await
}

fn parameter<'a>(document: &'a Value, path: &str, name: &str) -> &'a Value {
    document["paths"][path]["get"]["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == name)
        .map(|p| &p["schema"])
        .unwrap_or_else(|| panic!("no parameter {name} on {path}"))
}

#[tokio::test]
async fn journal_filters_document_the_integer_range_the_server_reads() {
    let app = TestApp::new();
    let document = control_plane(&app).await;
    for (name, largest) in [
        ("after", u64::MAX),
        ("limit", u64::MAX),
        ("status", u64::from(u16::MAX)),
    ] {
        let schema = parameter(&document, "/__doublure/requests", name);
        assert_eq!(
            (&schema["minimum"], &schema["maximum"]),
            (&json!(0), &json!(largest)),
            "{name}"
        );
        let at_most = app
            .get(&format!("/__doublure/requests?{name}={largest}"))
            .await;
        assert_eq!(at_most.status, StatusCode::OK, "{name}={largest}");
        let above = u128::from(largest) + 1;
        let beyond = app
            .get(&format!("/__doublure/requests?{name}={above}"))
            .await;
        assert_eq!(beyond.status, StatusCode::BAD_REQUEST, "{name}={above}");
    }
}

#[tokio::test]
async fn the_clock_documents_its_century_limit_and_needs_one_non_null_member() {
    let app = TestApp::new();
    let document = control_plane(&app).await;
    let seconds = &document["components"]["schemas"]["Advance"]["properties"]["seconds"];
    assert_eq!(
        (&seconds["minimum"], &seconds["maximum"]),
        (&json!(-3162240000_i64), &json!(3162240000_i64))
    );
    let advance = |s: f64| {
        app.json(
            "POST",
            "/__doublure/clock/advance",
            Some(json!({"seconds": s})),
            &[],
        )
    };
    assert_eq!(advance(-3162240000.0).await.status, StatusCode::OK);
    assert_eq!(advance(3162240001.0).await.status, StatusCode::BAD_REQUEST);

    let set_clock = &document["components"]["schemas"]["SetClock"];
    assert_eq!(
        set_clock["anyOf"],
        json!([
            {"required": ["now"], "properties": {"now": {"type": "string"}}},
            {"required": ["frozen"], "properties": {"frozen": {"type": "boolean"}}}
        ])
    );
    let put = |body: Value| app.json("PUT", "/__doublure/clock", Some(body), &[]);
    assert_eq!(
        put(json!({"now": null, "frozen": null})).await.status,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        put(json!({"now": null, "frozen": true})).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn a_fault_rule_documents_which_keys_go_together() {
    let app = TestApp::new();
    let document = control_plane(&app).await;
    let spec = &document["components"]["schemas"]["RuleSpec"];
    assert_eq!(spec["properties"]["status"]["minimum"], 400);
    assert_eq!(spec["properties"]["status"]["maximum"], 599);
    assert_eq!(spec["properties"]["count"]["minimum"], 1);
    let rules = spec["allOf"].as_array().unwrap();
    assert!(
        rules.contains(&json!({"not": {"required": ["retry_after"], "properties": {"retry_after": {"type": "integer"}, "status": {"type": "null"}}}})),
        "{rules:?}"
    );
    let add = |rule: Value| app.json("POST", "/__doublure/faults", Some(rule), &[]);
    let alone = add(json!({"latency_ms": 5, "retry_after": 0})).await;
    assert_eq!(alone.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        alone.json(),
        json!({"error": "retry_after goes with a status"})
    );
    let with_status = add(json!({"status": 429, "retry_after": 0})).await;
    assert_eq!(with_status.status, StatusCode::CREATED);
    // A stored rule is one flat object: spec keys beside id and fired.
    let rule = &document["components"]["schemas"]["Rule"];
    assert!(rule.get("allOf").is_none(), "{rule}");
    for key in ["id", "fired", "remaining", "status", "retry_after"] {
        assert!(rule["properties"].get(key).is_some(), "Rule.{key}");
    }
    let stored = with_status.json();
    for key in stored.as_object().unwrap().keys() {
        assert!(rule["properties"].get(key).is_some(), "{key} is documented");
    }
    let answer = app.get("/api/v1/users?api_key=API_KEY").await;
    assert_eq!(answer.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(answer.header("retry-after"), "0");
}

#[tokio::test]
async fn signing_documents_that_email_and_name_id_exclude_each_other() {
    let app = TestApp::new();
    let document = control_plane(&app).await;
    assert_eq!(
        document["components"]["schemas"]["SignRequest"]["not"]["required"],
        json!(["email", "name_id"])
    );
    let both = app
        .json(
            "POST",
            "/__doublure/wcs/sign",
            Some(json!({"url": "/api/user/", "orig": "demo", "email": "fred@example.net", "name_id": "x"})),
            &[],
        )
        .await;
    assert_eq!(both.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        both.json(),
        json!({"error": "give email or name_id, not both"})
    );
}

#[tokio::test]
async fn every_404_and_401_the_control_plane_gives_is_documented() {
    let app = TestApp::new();
    let document = control_plane(&app).await;
    for method in ["get", "post"] {
        let responses = &document["paths"]["/__doublure/{api}/{collection}"][method]["responses"];
        assert!(responses.get("404").is_some(), "{method} collection 404");
    }
    let unknown = post(&app, "/__doublure/nope/nothing", json!({})).await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    for (path, item) in document["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            let has_401 = operation["responses"].get("401").is_some();
            assert_eq!(has_401, path != "/__doublure/health", "{method} {path}");
        }
    }
}

#[tokio::test]
async fn the_state_documents_its_keys_and_refuses_others_by_name() {
    let app = TestApp::new();
    let document = control_plane(&app).await;
    let schema = &document["paths"]["/__doublure/state"]["put"]["requestBody"]["content"]["application/json"]
        ["schema"];
    assert_eq!(schema["additionalProperties"], false);
    let keys: BTreeSet<&str> = schema["properties"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    let state = app.get("/__doublure/state").await.json();
    let exported: BTreeSet<&str> = state
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(exported, BTreeSet::from(FIXTURE_FILES));
    assert_eq!(keys, exported);
    let refused = put(&app, "/__doublure/state", json!({"wcs/typo.json": []})).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert_json(
        &refused,
        StatusCode::BAD_REQUEST,
        json!({
            "error": "invalid data: nothing was changed",
            "problems": [
                "state/wcs/typo.json: unknown fixture file; expected one of: logora/applications.json, logora/clients.json, logora/users.json, wcs/users.json, wcs/roles.json, wcs/categories.json, wcs/formdefs.json, wcs/forms.json, wcs/api_accesses.json"
            ]
        }),
    );
}

#[tokio::test]
async fn drafts_document_their_fields_their_required_id_and_no_other_key() {
    let app = TestApp::new();
    let document = control_plane(&app).await;
    let schema = |path: &str, method: &str| {
        document["paths"][path][method]["requestBody"]["content"]["application/json"]["schema"]
            .clone()
    };
    let create = schema("/__doublure/wcs/drafts", "post");
    assert_eq!(
        create["required"],
        json!(["id", "formdef_id", "receipt_time"])
    );
    let replace = schema("/__doublure/wcs/drafts/{id}", "put");
    assert_eq!(replace["additionalProperties"], false);
    assert_eq!(
        schema("/__doublure/wcs/drafts/{id}", "patch")["required"],
        json!([])
    );
    // Every field of a stored draft is documented.
    let draft = app.get("/__doublure/wcs/drafts/164").await.json();
    for key in draft.as_object().unwrap().keys() {
        assert!(
            replace["properties"].get(key).is_some(),
            "draft field {key}"
        );
    }
    let without_id = post(
        &app,
        "/__doublure/wcs/drafts",
        json!({"formdef_id": "1", "receipt_time": "2026-01-10 09:00:00"}),
    )
    .await;
    assert_eq!(without_id.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        without_id.json(),
        json!({"error": "the draft needs its id"})
    );
    let mut unknown = draft.clone();
    unknown["colour"] = json!("blue");
    let refused = put(&app, "/__doublure/wcs/drafts/164", unknown).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert_json(
        &refused,
        StatusCode::BAD_REQUEST,
        json!({
            "error": "invalid data: nothing was changed",
            "problems": [
                "state/wcs/forms.json: item 4 (id 164): field colour: unknown field `colour`, expected one of `id`, `formdef_id`, `user_id`, `status`, `receipt_time`, `last_update_time`, `display_id`, `keywords`, `digest`, `concerned_roles`, `tracking_code`, `fields`, `related`, `submission_channel`, `backoffice_submission`"
            ]
        }),
    );
}

#[tokio::test]
async fn the_openapi_document_lists_every_control_plane_route() {
    let app = TestApp::new();
    let response = app.get("/__doublure/openapi.json").await;
    assert_eq!(response.status, StatusCode::OK);
    let doc = response.json();
    assert_eq!(doc["openapi"], "3.1.0");
    let paths = doc["paths"].as_object().unwrap();
    let expected = [
        ("/__doublure/health", vec!["get"]),
        ("/__doublure/memory", vec!["get"]),
        ("/__doublure/openapi.json", vec!["get"]),
        ("/__doublure/openapi/logora.json", vec!["get"]),
        ("/__doublure/openapi/wcs.json", vec!["get"]),
        ("/__doublure/reset", vec!["post"]),
        ("/__doublure/reload", vec!["post"]),
        ("/__doublure/state", vec!["get", "put"]),
        ("/__doublure/clock", vec!["get", "put"]),
        ("/__doublure/clock/advance", vec!["post"]),
        ("/__doublure/requests", vec!["get", "delete"]),
        ("/__doublure/requests/stream", vec!["get"]),
        ("/__doublure/faults", vec!["get", "post", "delete"]),
        ("/__doublure/faults/{id}", vec!["delete"]),
        ("/__doublure/logora/tokens", vec!["get", "post"]),
        ("/__doublure/logora/tokens/{token}", vec!["delete"]),
        ("/__doublure/wcs/sign", vec!["post"]),
        ("/__doublure/wcs/drafts", vec!["get", "post"]),
        (
            "/__doublure/wcs/drafts/{id}",
            vec!["delete", "get", "patch", "put"],
        ),
        ("/__doublure/{api}/{collection}", vec!["get", "post"]),
        (
            "/__doublure/{api}/{collection}/{id}",
            vec!["delete", "get", "patch", "put"],
        ),
    ];
    for (path, methods) in &expected {
        let item = paths.get(*path).unwrap_or_else(|| panic!("{path} missing"));
        let mut listed: Vec<&str> = item
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        listed.sort();
        let mut want = methods.clone();
        want.sort();
        assert_eq!(listed, want, "{path}");
    }
    assert!(doc["components"]["schemas"]["RuleSpec"].is_object());
}

#[tokio::test]
async fn every_documented_route_exists_in_the_router() {
    let app = TestApp::new();
    let doc = app.get("/__doublure/openapi.json").await.json();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            let uri = path
                .replace("{id}", "999")
                .replace("{token}", "not-a-token")
                .replace("{api}", "logora")
                .replace("{collection}", "users");
            // A stream never ends: a filter it refuses still shows the route.
            let uri = if path.ends_with("/stream") {
                format!("{uri}?unknown=1")
            } else {
                uri
            };
            let response = app.json(&method.to_uppercase(), &uri, None, &[]).await;
            assert_ne!(
                response.status,
                StatusCode::METHOD_NOT_ALLOWED,
                "{method} {path}"
            );
            assert!(
                response.status != StatusCode::NOT_FOUND || response.json()["error"].is_string(),
                "{method} {path} is routed"
            );
        }
    }
}
