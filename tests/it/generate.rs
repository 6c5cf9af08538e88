//! Generated data: deterministic, valid through the fixture checks, served
//! on top of the fixtures, and paged and filtered exactly like a plain scan.

use crate::common::control::post;
use crate::common::logora::{PAGING_HEADERS, minted_token};
use crate::common::{FIXTURE_FILES, TestApp};
use axum::http::StatusCode;
use doublure::testing::AppState;
use doublure::testing::clock::Clock;
use doublure::testing::config::{Generate, Settings};
use doublure::testing::data::builtin;
use doublure::testing::data::read_dir;
use doublure::testing::data::write_generated;
use doublure::testing::data::{Data, Seed};
use doublure::testing::state::test_now;
use serde_json::{Value, json};

fn options(logora: usize, wcs: usize) -> Generate {
    Generate {
        logora_users: logora,
        wcs_users: wcs,
        forms_per_user: 3,
        seed: 11,
    }
}

fn read_all(dir: &std::path::Path) -> Vec<(String, Vec<u8>)> {
    let mut files = Vec::new();
    for api in ["logora", "wcs"] {
        let mut names: Vec<_> = std::fs::read_dir(dir.join(api))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        names.sort();
        for path in names {
            files.push((path.display().to_string(), std::fs::read(&path).unwrap()));
        }
    }
    files
}

#[test]
fn the_same_arguments_write_the_same_bytes_and_a_valid_directory() {
    let (one, two, other) = (
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
    );
    write_generated(&options(3000, 400), one.path(), &|_| {}).unwrap();
    write_generated(&options(3000, 400), two.path(), &|_| {}).unwrap();
    let strip = |files: Vec<(String, Vec<u8>)>, dir: &std::path::Path| {
        files
            .into_iter()
            .map(|(name, bytes)| (name.replace(&dir.display().to_string(), ""), bytes))
            .collect::<Vec<_>>()
    };
    let first = strip(read_all(one.path()), one.path());
    assert_eq!(
        first
            .iter()
            .map(|(name, _)| name.as_str())
            .collect::<Vec<_>>(),
        FIXTURE_FILES.map(|name| format!("/{name}"))
    );
    assert_eq!(first, strip(read_all(two.path()), two.path()));
    let mut seeded = options(3000, 400);
    seeded.seed = 12;
    write_generated(&seeded, other.path(), &|_| {}).unwrap();
    assert_ne!(first, strip(read_all(other.path()), other.path()));

    let data = Data::load(&read_dir(one.path()).unwrap()).expect("valid");
    let exported: std::collections::BTreeMap<_, _> = data.export().into_iter().collect();
    let builtin = Data::load(&builtin()).unwrap();
    let builtin: std::collections::BTreeMap<_, _> = builtin.export().into_iter().collect();
    let count =
        |m: &std::collections::BTreeMap<&str, Value>, f: &str| m[f].as_array().unwrap().len();
    assert_eq!(
        count(&exported, "logora/users.json"),
        count(&builtin, "logora/users.json") + 3000
    );
    assert_eq!(
        count(&exported, "wcs/users.json"),
        count(&builtin, "wcs/users.json") + 400
    );
    assert_eq!(
        count(&exported, "wcs/forms.json"),
        count(&builtin, "wcs/forms.json") + 1200
    );
}

fn served(generate: Generate) -> TestApp {
    let seed = Seed::build(builtin(), generate).expect("generated data loads");
    TestApp::with_state(AppState::new(
        seed,
        Clock::frozen(test_now()),
        Settings::for_tests(),
    ))
}

#[tokio::test]
async fn generated_users_are_served_on_top_of_the_fixtures() {
    let app = served(options(5000, 50));
    let token = minted_token(&app, "API_KEY", None).await;
    let auth = format!("Bearer {token}");
    // The seed page's example still starts with its two users.
    let seed = app
        .get_with(
            "/api/v1/users?page=1&per_page=10&is_expert=false&is_selected=false&sub_application_name=app-test",
            &[("authorization", &auth)],
        )
        .await;
    let ids: Vec<i64> = seed.json()["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["id"].as_i64().unwrap())
        .collect();
    // Generated users get ids after the fixtures' own, so the seed's users
    // still come first.
    assert_eq!(ids[..2], [21, 26]);
    assert!(ids[2..].iter().all(|id| *id > 100), "{ids:?}");

    // A generated w.c.s. user is reachable by a signed call.
    let email = app
        .get("/__doublure/wcs/users")
        .await
        .json()
        .as_array()
        .unwrap()
        .last()
        .unwrap()["email"]
        .as_str()
        .unwrap()
        .to_owned();
    let signed = post(
        &app,
        "/__doublure/wcs/sign",
        json!({"url": "/api/user/forms?include-drafts=on", "orig": "demo", "email": email}),
    )
    .await
    .json()["url"]
        .as_str()
        .unwrap()
        .replace("http://localhost:8080", "");
    let forms = app.get(&signed).await;
    assert_eq!(forms.status, StatusCode::OK, "{}", forms.text());
    assert_eq!(forms.json()["data"].as_array().unwrap().len(), 3);
}

#[tokio::test]
async fn filtered_and_paginated_answers_equal_a_plain_scan_of_generated_data() {
    let app = served(options(4000, 0));
    let token = minted_token(&app, "API_KEY", None).await;
    let auth = format!("Bearer {token}");
    let all: Vec<Value> = app
        .get("/__doublure/logora/users")
        .await
        .json()
        .as_array()
        .unwrap()
        .clone();
    let application = all.iter().find(|u| u["id"] == 21).unwrap()["application_id"].clone();

    for (query, keep) in [
        (
            "",
            Box::new(|_: &Value| true) as Box<dyn Fn(&Value) -> bool>,
        ),
        (
            "&is_expert=true",
            Box::new(|u: &Value| u["is_expert"] == true),
        ),
        (
            "&is_selected=false&sub_application_name=app-test",
            Box::new(|u: &Value| {
                u["is_selected"] == false && u["sub_application_name"] == "app-test"
            }),
        ),
    ] {
        let mut expected: Vec<i64> = all
            .iter()
            .filter(|u| u["application_id"] == application && keep(u))
            .map(|u| u["id"].as_i64().unwrap())
            .collect();
        expected.sort_unstable();
        let mut got = Vec::new();
        let mut page = 1;
        loop {
            let response = app
                .get_with(
                    &format!("/api/v1/users?per_page=100&page={page}{query}"),
                    &[("authorization", &auth)],
                )
                .await;
            assert_eq!(response.status, StatusCode::OK);
            assert_eq!(
                response.header("total"),
                expected.len().to_string(),
                "{query}"
            );
            let data = response.json()["data"].as_array().unwrap().clone();
            if data.is_empty() {
                break;
            }
            got.extend(data.iter().map(|u| u["id"].as_i64().unwrap()));
            page += 1;
        }
        assert_eq!(got, expected, "{query}");
        assert!(expected.len() > 100, "{query} spans several pages");
    }
}

/// SHA-256 of `bytes`, in hex.
fn sha256(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[test]
fn generated_users_are_written_byte_for_byte_as_before() {
    // The digest of `doublure fixtures generate --logora-users 3000 --seed
    // 7`'s users as written before the generator was made faster: speed
    // must not change a byte of the data.
    let dir = tempfile::tempdir().unwrap();
    let generate = Generate {
        logora_users: 3000,
        wcs_users: 0,
        forms_per_user: 2,
        seed: 7,
    };
    write_generated(&generate, dir.path(), &|_| {}).unwrap();
    let users = std::fs::read(dir.path().join("logora/users.json")).unwrap();
    assert_eq!(
        sha256(&users),
        "bb408ba882f36f9d282982242a8b5c59f40c38395dd938b1499e5324e6932024"
    );
}

#[tokio::test]
async fn generated_users_are_served_byte_for_byte_as_before() {
    // The digest of these pages (bodies and pagination headers) as the
    // server answered them before its list path was made faster.
    let app = served(Generate {
        logora_users: 3000,
        wcs_users: 0,
        forms_per_user: 2,
        seed: 7,
    });
    let auth = format!("Bearer {}", minted_token(&app, "API_KEY", None).await);
    let mut pages: Vec<String> = (1..=32).map(|p| format!("per_page=100&page={p}")).collect();
    pages.push("per_page=25&page=3&is_expert=true&sub_application_name=app-sport".into());
    pages.push("per_page=7&page=40&is_selected=false".into());
    let mut served = Vec::new();
    for query in pages {
        let response = app
            .get_with(
                &format!("/api/v1/users?{query}"),
                &[("authorization", &auth)],
            )
            .await;
        assert_eq!(response.status, StatusCode::OK, "{query}");
        served.extend_from_slice(response.text().as_bytes());
        for name in PAGING_HEADERS {
            let value = response
                .headers
                .get(name)
                .map_or("None".to_owned(), |v| v.to_str().unwrap().to_owned());
            served.extend_from_slice(format!("{name}: {value}\n").as_bytes());
        }
    }
    assert_eq!(
        sha256(&served),
        "e33f40b81a8a39b6bce05d3c22c468aa85cdf0670193f2316cddcdf697db4c9d"
    );
}
