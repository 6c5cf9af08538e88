//! `doublure fixtures import`, over real sockets: a doublure started on
//! port 0 (built-in or generated data) is the source; the import is
//! checked by the fixture loader, served by a second doublure, and the
//! emulated APIs' answers of both are compared. Then the error paths, and
//! the command itself through the binary.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::common::logora::{PAGING_HEADERS, http_token};
use crate::common::{FIXTURE_FILES, Served};
use doublure::testing::config::Config;
use doublure::testing::data::Data;
use doublure::testing::data::builtin;
use doublure::testing::data::read_dir;
use doublure::testing::data::write_generated;
use doublure::testing::import::run;
use doublure::testing::import::{
    ImportError, ImportSource, Limits, LogoraArgs, OutputArgs, Secret, Summary, WcsArgs,
};
use doublure::testing::wcs::signature::sign_url;
use indicatif::ProgressBar;
use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_doublure");

/// Built-in fixtures plus generated users, on 127.0.0.1:0 with a running
/// clock (signed URLs are stamped with the real time).
async fn source(logora_users: usize, wcs_users: usize) -> Served {
    Served::build(&Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        generate_logora_users: logora_users,
        generate_wcs_users: wcs_users,
        generate_forms_per_user: 3,
        seed: 7,
        ..Config::default()
    })
    .await
}

/// The fixture directory `dir`, on 127.0.0.1:0.
async fn serving(dir: &Path) -> Served {
    Served::build(&Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        fixtures: Some(dir.to_owned()),
        ..Config::default()
    })
    .await
}

fn logora(url: &str, out: &Path, anonymize: bool) -> ImportSource {
    ImportSource::Logora(LogoraArgs {
        url: url.to_owned(),
        client_id: "API_KEY".to_owned(),
        client_secret: Secret::new("API_SECRET"),
        scope: None,
        output: OutputArgs {
            out: out.to_owned(),
            anonymize,
            limits: Limits::default(),
        },
    })
}

fn wcs(url: &str, out: &Path, anonymize: bool) -> ImportSource {
    ImportSource::Wcs(WcsArgs {
        url: url.to_owned(),
        orig: "demo".to_owned(),
        key: Secret::new("demo-secret"),
        output: OutputArgs {
            out: out.to_owned(),
            anonymize,
            limits: Limits::default(),
        },
    })
}

async fn import(source: ImportSource) -> Result<Summary, ImportError> {
    run(&source, &ProgressBar::hidden()).await
}

/// Every file of a fixture directory, relative name to bytes.
fn files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for api in ["logora", "wcs"] {
        let Ok(entries) = std::fs::read_dir(dir.join(api)) else {
            continue;
        };
        let mut paths: Vec<PathBuf> = entries.map(|e| e.unwrap().path()).collect();
        paths.sort();
        for path in paths {
            let name = format!("{api}/{}", path.file_name().unwrap().to_string_lossy());
            out.push((name, std::fs::read(&path).unwrap()));
        }
    }
    out
}

fn entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

fn read_json(path: PathBuf) -> Value {
    serde_json::from_slice(&std::fs::read(&path).unwrap())
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Status, the headers that matter, and body of a Logora users page; the
/// server's own address is written `HOST` so two servers compare.
async fn users_page(server: &Served, token: &str, query: &str) -> (u16, Vec<String>, String) {
    let response = reqwest::Client::new()
        .get(format!("{}/api/v1/users?{query}", server.url("")))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let headers = std::iter::once("content-type")
        .chain(PAGING_HEADERS)
        .map(|name| {
            let value = response
                .headers()
                .get(name)
                .map(|v| {
                    v.to_str()
                        .unwrap()
                        .replace(&server.addr.to_string(), "HOST")
                })
                .unwrap_or_default();
            format!("{name}: {value}")
        })
        .collect();
    (status, headers, response.text().await.unwrap())
}

/// A w.c.s. answer to a URL signed by `demo`, the server's address written
/// `HOST`.
async fn signed(server: &Served, path: &str) -> (u16, String) {
    let url = sign_url(
        &format!("{}{path}", server.url("")),
        "demo",
        "demo-secret",
        "sha256",
        chrono::Utc::now(),
        None,
    )
    .unwrap();
    let response = reqwest::get(url).await.unwrap();
    let status = response.status().as_u16();
    let body = response
        .text()
        .await
        .unwrap()
        .replace(&server.addr.to_string(), "HOST");
    (status, body)
}

/// The paths a w.c.s. comparison reads: the directory, then each listed
/// user's profile, forms (plain, full with drafts, filtered) and drafts.
async fn wcs_paths(server: &Served) -> Vec<String> {
    let (status, body) = signed(server, "/api/users/").await;
    assert_eq!(status, 200, "{body}");
    let directory: Value = serde_json::from_str(&body).unwrap();
    let mut ids: Vec<i64> = directory["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["id"].as_i64().unwrap())
        .collect();
    ids.sort();
    assert!(!ids.is_empty(), "the directory lists users: {body}");
    let mut paths = vec!["/api/users/".to_owned(), "/api/users/?q=jean".to_owned()];
    for id in ids {
        paths.push(format!("/api/users/{id}/"));
        paths.push(format!("/api/users/{id}/forms"));
        paths.push(format!("/api/users/{id}/forms?full=on&include-drafts=on"));
        paths.push(format!("/api/users/{id}/forms?status=done&sort=desc"));
        paths.push(format!("/api/users/{id}/drafts"));
    }
    paths
}

#[tokio::test]
async fn logora_users_imported_from_a_doublure_are_served_exactly_as_the_source_serves_them() {
    // Arrange
    let source = source(0, 0).await;
    let out = tempfile::tempdir().unwrap();

    // Act
    let summary = import(logora(&source.url(""), out.path(), false))
        .await
        .unwrap();

    // Assert
    assert_eq!(
        summary.text,
        format!(
            "{}/logora: 48 users from {} (1 page), client API_KEY with scope public",
            out.path().display(),
            source.url("")
        )
    );
    Data::load(&read_dir(out.path()).unwrap()).expect("the import loads");
    let applications = read_json(out.path().join("logora/applications.json"));
    assert_eq!(
        applications,
        json!([{"id": 1, "name": "Logora (127.0.0.1)", "sub_applications": ["127.0.0.1"]}])
    );
    assert_eq!(
        read_json(out.path().join("logora/clients.json")),
        json!([{"client_id": "API_KEY", "client_secret": "API_SECRET", "application_id": 1, "scopes": "public"}])
    );
    let users = read_json(out.path().join("logora/users.json"));
    let jean = &users[20];
    assert_eq!(jean["full_name"], "Jean Dupont");
    let keys: Vec<&String> = jean.as_object().unwrap().keys().collect();
    assert_eq!(
        keys[keys.len() - 4..],
        [
            "application_id",
            "sub_application_name",
            "is_expert",
            "is_selected"
        ]
    );
    assert_eq!(
        (
            &jean["sub_application_name"],
            &jean["is_expert"],
            &jean["is_selected"]
        ),
        (&json!("127.0.0.1"), &json!(false), &json!(false))
    );

    let copy = serving(out.path()).await;
    let (source_token, copy_token) = (
        http_token(&source.url("")).await,
        http_token(&copy.url("")).await,
    );
    for query in [
        "page=1",
        "page=2",
        "page=3",
        "page=4",
        "per_page=7&page=5",
        "per_page=100",
    ] {
        let page = users_page(&source, &source_token, query).await;
        assert_eq!(page.0, 200, "{query}: {}", page.2);
        assert_eq!(users_page(&copy, &copy_token, query).await, page, "{query}");
    }
}

#[tokio::test]
async fn the_client_is_written_with_the_scopes_granted_and_its_own_token_lifetime() {
    let source = source(0, 0).await;
    let (all, read_only, other) = (
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
    );
    let with = |out: &Path, id: &str, secret: &str, scope: Option<&str>| {
        ImportSource::Logora(LogoraArgs {
            url: source.url(""),
            client_id: id.to_owned(),
            client_secret: Secret::new(secret),
            scope: scope.map(str::to_owned),
            output: OutputArgs {
                out: out.to_owned(),
                anonymize: false,
                limits: Limits::default(),
            },
        })
    };

    import(with(
        all.path(),
        "API_KEY",
        "API_SECRET",
        Some("admin public"),
    ))
    .await
    .unwrap();
    import(with(
        read_only.path(),
        "READ_ONLY_KEY",
        "READ_ONLY_SECRET",
        None,
    ))
    .await
    .unwrap();
    let summary = import(with(
        other.path(),
        "OTHER_API_KEY",
        "OTHER_API_SECRET",
        None,
    ))
    .await
    .unwrap();

    assert_eq!(
        read_json(all.path().join("logora/clients.json")),
        json!([{"client_id": "API_KEY", "client_secret": "API_SECRET", "application_id": 1, "scopes": "public admin"}])
    );
    assert_eq!(
        read_json(read_only.path().join("logora/clients.json")),
        json!([{"client_id": "READ_ONLY_KEY", "client_secret": "READ_ONLY_SECRET", "application_id": 1,
                "scopes": "public", "token_lifetime": 600}])
    );
    assert!(
        summary.text.contains(": 6 users from "),
        "the other application's users, as application 1: {}",
        summary.text
    );
    let users = read_json(other.path().join("logora/users.json"));
    assert_eq!(users[0]["id"], 101);
    assert_eq!(users[0]["application_id"], 1);
}

#[tokio::test]
async fn every_page_of_a_large_logora_list_is_imported() {
    let source = source(250, 0).await;
    let out = tempfile::tempdir().unwrap();

    let summary = import(logora(&source.url(""), out.path(), false))
        .await
        .unwrap();

    assert!(
        summary.text.contains(": 298 users from ") && summary.text.contains(" (3 pages)"),
        "{}",
        summary.text
    );
    let copy = serving(out.path()).await;
    let (source_token, copy_token) = (
        http_token(&source.url("")).await,
        http_token(&copy.url("")).await,
    );
    for page in 1..=4 {
        let query = format!("per_page=100&page={page}");
        let source_page = users_page(&source, &source_token, &query).await;
        assert_eq!(source_page.0, 200, "{query}: {}", source_page.2);
        assert_eq!(
            users_page(&copy, &copy_token, &query).await,
            source_page,
            "{query}"
        );
    }
}

#[tokio::test]
async fn wcs_data_imported_from_a_doublure_is_served_exactly_as_the_source_serves_it() {
    // Arrange
    let source = source(0, 0).await;
    let out = tempfile::tempdir().unwrap();

    // Act
    let summary = import(wcs(&source.url(""), out.path(), false))
        .await
        .unwrap();

    // Assert: the user deleted at the source is not in its directory, so not
    // imported; the disabled form definition's draft is never listed.
    assert_eq!(
        summary.text,
        format!(
            "{}/wcs: 11 users, 12 forms and 2 drafts of 6 form definitions, 4 categories, 4 roles \
             from {}, API access demo",
            out.path().display(),
            source.url("")
        )
    );
    Data::load(&read_dir(out.path()).unwrap()).expect("the import loads");
    assert_eq!(
        read_json(out.path().join("wcs/api_accesses.json")),
        json!([{"access_identifier": "demo", "access_key": "demo-secret", "description": format!("imported from {}", source.url(""))}])
    );
    let formdefs = read_json(out.path().join("wcs/formdefs.json"));
    assert_eq!(
        formdefs[2],
        json!({"id": "3", "name": "Changement d'adresse", "slug": "changement-d-adresse",
               "category_id": "modification-de-vos-coordonnees",
               "statuses": [{"id": "done", "name": "Traitement de la demande terminé", "endpoint": true},
                            {"id": "new", "name": "Nouveau", "endpoint": false},
                            {"id": "internal", "name": "Vérification interne", "endpoint": false, "visible": false}]}),
        "ids from the form numbers, statuses as the forms show them, the hidden one hidden"
    );

    let copy = serving(out.path()).await;
    let paths = wcs_paths(&source).await;
    assert_eq!(paths, wcs_paths(&copy).await);
    for path in &paths {
        let answer = signed(&source, path).await;
        assert_eq!(answer.0, 200, "{path}: {}", answer.1);
        assert_eq!(signed(&copy, path).await, answer, "{path}");
    }
}

#[tokio::test]
async fn generated_wcs_users_and_all_their_forms_are_imported() {
    let source = source(0, 30).await;
    let out = tempfile::tempdir().unwrap();

    let summary = import(wcs(&source.url(""), out.path(), false))
        .await
        .unwrap();

    assert!(summary.text.contains(": 41 users, "), "{}", summary.text);
    let forms = read_json(out.path().join("wcs/forms.json"));
    assert_eq!(
        forms.as_array().unwrap().len(),
        14 + 30 * 3,
        "every generated form and draft, the built-in ones the API shows"
    );
    let copy = serving(out.path()).await;
    for path in wcs_paths(&source).await {
        let answer = signed(&source, &path).await;
        assert_eq!(answer.0, 200, "{path}: {}", answer.1);
        assert_eq!(signed(&copy, &path).await, answer, "{path}");
    }
}

/// The built-in fixtures with a form whose fields repeat its user's name,
/// e-mail and phone, as real forms do.
fn personal_fixtures(dir: &Path) {
    write_generated(&Default::default(), dir, &|_| {}).unwrap();
    let path = dir.join("wcs/forms.json");
    let mut forms = read_json(path.clone());
    let form = forms
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|f| f["id"] == 1002)
        .unwrap();
    form["fields"] = json!({
        "prenom": "Jean", "nom": "Darmette", "courriel": "Jean.Darmette@triffouilis.fr",
        "telephone": "0505050505", "adresse": "rue du Chateau", "code_postal": "75014",
        "commentaire": "Merci de rappeler Jean Darmette au bureau", "classe": "CM1"
    });
    form["digest"] = json!("Inscription de Jean Darmette");
    std::fs::write(path, forms.to_string()).unwrap();
}

#[tokio::test]
async fn anonymized_imports_are_identical_across_runs_keep_every_reference_and_no_personal_value() {
    // Arrange
    let fixtures = tempfile::tempdir().unwrap();
    personal_fixtures(fixtures.path());
    let source = Served::build(&Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        fixtures: Some(fixtures.path().to_owned()),
        generate_logora_users: 120,
        generate_wcs_users: 10,
        seed: 3,
        ..Config::default()
    })
    .await;
    let (one, two, plain) = (
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
    );

    // Act
    for out in [one.path(), two.path()] {
        import(logora(&source.url(""), out, true)).await.unwrap();
        import(wcs(&source.url(""), out, true)).await.unwrap();
    }
    import(logora(&source.url(""), plain.path(), false))
        .await
        .unwrap();
    import(wcs(&source.url(""), plain.path(), false))
        .await
        .unwrap();

    // Assert: deterministic, and every reference between files holds.
    let anonymized = files(one.path());
    assert_eq!(
        anonymized
            .iter()
            .map(|(name, _)| name.as_str())
            .collect::<Vec<_>>(),
        FIXTURE_FILES
    );
    assert_eq!(anonymized, files(two.path()));
    Data::load(&read_dir(one.path()).unwrap()).expect("the anonymized import loads");

    // No name, e-mail, phone or address of the source is left: each user
    // has another name and address, and the source's distinctive values
    // are nowhere.
    let text: String = files(one.path())
        .into_iter()
        .filter(|(name, _)| !name.ends_with("clients.json") && !name.ends_with("api_accesses.json"))
        .map(|(_, bytes)| String::from_utf8(bytes).unwrap())
        .collect();
    let mut personal: Vec<String> = [
        "Darmette",
        "triffouilis",
        "0505050505",
        "rue du Chateau",
        "foo@localhost",
        "Merci de rappeler",
        "Instruction des permis",
    ]
    .map(str::to_owned)
    .to_vec();
    for (api, name_key) in [("wcs", "name"), ("logora", "full_name")] {
        let file = format!("{api}/users.json");
        let before = read_json(plain.path().join(&file));
        let after = read_json(one.path().join(&file));
        for (b, a) in before
            .as_array()
            .unwrap()
            .iter()
            .zip(after.as_array().unwrap())
        {
            assert_eq!(a["id"], b["id"]);
            if b[name_key].as_str().is_some_and(|n| !n.is_empty()) {
                assert_ne!(a[name_key], b[name_key], "{file} {}", b["id"]);
            }
            assert_ne!(a["email"], b["email"], "{file} {}", b["id"]);
            if let Some(email) = b["email"].as_str() {
                personal.push(email.to_owned());
            }
        }
    }
    for value in &personal {
        assert!(
            !text.contains(value.as_str()),
            "{value:?} is still in the import"
        );
    }

    // The same value is replaced the same way wherever it appears.
    let users = read_json(one.path().join("wcs/users.json"));
    let user = users
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["id"] == 5)
        .unwrap();
    let forms = read_json(one.path().join("wcs/forms.json"));
    let form = forms
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == 1002)
        .unwrap();
    assert_eq!(form["fields"]["courriel"], user["email"]);
    assert_eq!(form["fields"]["telephone"], user["fields"]["phone"]);
    assert_eq!(form["fields"]["adresse"], user["fields"]["address"]);
    assert_eq!(
        format!(
            "{} {}",
            form["fields"]["prenom"].as_str().unwrap(),
            form["fields"]["nom"].as_str().unwrap()
        ),
        user["name"].as_str().unwrap()
    );
    assert_eq!(form["fields"]["classe"], "CM1", "not personal: kept");
    assert!(
        form["fields"]["code_postal"]
            .as_str()
            .unwrap()
            .starts_with("75"),
        "the département is kept"
    );

    // Served, the anonymized data keeps the source's ids, statuses, dates
    // and structure.
    let copy = serving(one.path()).await;
    for path in wcs_paths(&source).await {
        if path.contains("q=") {
            // A search by name finds other users once names changed.
            continue;
        }
        let (copy_status, copy_body) = signed(&copy, &path).await;
        let (source_status, source_body) = signed(&source, &path).await;
        assert_eq!(copy_status, source_status, "{path}");
        let shape = |body: &str| {
            let value: Value = serde_json::from_str(body).unwrap();
            let items = match value.get("data") {
                Some(Value::Array(items)) => items.clone(),
                _ => vec![value],
            };
            let mut shape: Vec<Value> = items
                .iter()
                .map(|item| {
                    let roles: Option<Vec<&Value>> = item
                        .get("user_roles")
                        .and_then(Value::as_array)
                        .map(|roles| roles.iter().map(|r| &r["id"]).collect());
                    json!([
                        item.get("id"),
                        item.get("form_number"),
                        item.get("status"),
                        item.get("datetime"),
                        item.get("keywords"),
                        roles,
                        item.as_object()
                            .map(|o| o.keys().cloned().collect::<Vec<_>>())
                    ])
                })
                .collect();
            // The directory is ordered by name, which changed.
            shape.sort_by_key(|s| s.to_string());
            shape
        };
        assert_eq!(shape(&copy_body), shape(&source_body), "{path}");
    }
    let (source_token, copy_token) = (
        http_token(&source.url("")).await,
        http_token(&copy.url("")).await,
    );
    for page in 1..=2 {
        let query = format!("per_page=100&page={page}");
        let (source_status, source_headers, source_body) =
            users_page(&source, &source_token, &query).await;
        let (copy_status, copy_headers, copy_body) = users_page(&copy, &copy_token, &query).await;
        assert_eq!((copy_status, copy_headers), (source_status, source_headers));
        let kept = |body: &str| {
            let value: Value = serde_json::from_str(body).unwrap();
            value["data"]
                .as_array()
                .unwrap()
                .iter()
                .map(|u| {
                    json!([
                        u["id"],
                        u["uid"],
                        u["level"],
                        u["score"],
                        u["created_at"],
                        u["age"],
                        u["interests"]
                    ])
                })
                .collect::<Vec<_>>()
        };
        assert_eq!(kept(&copy_body), kept(&source_body), "{query}");
    }
}

#[tokio::test]
async fn an_unreachable_url_is_named_and_nothing_is_written() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let out = tempfile::tempdir().unwrap();

    let err = import(logora(
        &format!("http://127.0.0.1:{port}"),
        out.path(),
        false,
    ))
    .await
    .unwrap_err();

    assert_eq!(
        err.to_string(),
        format!(
            "cannot reach POST http://127.0.0.1:{port}/oauth/token: Connection refused (os error 111)"
        )
    );
    assert_eq!(err.exit_code(), 1);
    assert!(entries(out.path()).is_empty(), "{:?}", entries(out.path()));
}

#[tokio::test]
async fn refused_credentials_get_the_servers_own_message_and_never_the_secret() {
    let source = source(0, 0).await;
    let out = tempfile::tempdir().unwrap();
    let mut args = match logora(&source.url(""), out.path(), false) {
        ImportSource::Logora(args) => args,
        _ => unreachable!(),
    };
    args.client_secret = Secret::new("WRONG-SECRET-4242");

    let err = import(ImportSource::Logora(args.clone()))
        .await
        .unwrap_err();

    assert_eq!(
        err.to_string(),
        format!(
            "POST {}/oauth/token was refused with HTTP 401 Unauthorized: Client authentication \
             failed due to unknown client, no client authentication included, or unsupported \
             authentication method. (check --client-id and --client-secret)",
            source.url("")
        )
    );
    assert!(!format!("{err:?}{args:?}").contains("WRONG-SECRET-4242"));

    let mut wcs_args = match wcs(&source.url(""), out.path(), false) {
        ImportSource::Wcs(args) => args,
        _ => unreachable!(),
    };
    wcs_args.key = Secret::new("not-the-key");
    let err = import(ImportSource::Wcs(wcs_args)).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "GET {}/api/users/ was refused with HTTP 403 Forbidden: Invalid signature. (check \
             --orig and --key, and that this API access may list users (one without roles may))",
            source.url("")
        )
    );
    let mut agents = match wcs(&source.url(""), out.path(), false) {
        ImportSource::Wcs(args) => args,
        _ => unreachable!(),
    };
    agents.orig = "agents".to_owned();
    agents.key = Secret::new("agents-secret");
    let err = import(ImportSource::Wcs(agents)).await.unwrap_err();
    assert!(
        err.to_string()
            .contains("403 Forbidden: Unauthenticated/unsigned request or no access to users."),
        "{err}"
    );
    assert!(entries(out.path()).is_empty());
}

/// A Logora look-alike whose second page holds a user with a broken date.
async fn broken_logora() -> (SocketAddr, tokio::task::JoinHandle<()>) {
    use axum::http::HeaderMap;
    use axum::routing::{get, post};

    let data = Data::load(&builtin()).unwrap();
    let users: Vec<Value> = data
        .logora
        .records()
        .take(4)
        .map(|u| serde_json::from_str(u.json()).unwrap())
        .collect();
    let app = axum::Router::new()
        .route(
            "/oauth/token",
            post(|| async {
                axum::Json(json!({"access_token": "t0k3n", "token_type": "Bearer", "expires_in": 7200, "created_at": 1}))
            }),
        )
        .route(
            "/api/v1/users",
            get(move |query: axum::extract::RawQuery| {
                let users = users.clone();
                async move {
                    let second = query.0.unwrap_or_default().contains("page=2");
                    let mut headers = HeaderMap::new();
                    headers.insert("total", "4".parse().unwrap());
                    let page = if second {
                        let mut broken = users[3].clone();
                        broken["created_at"] = json!("yesterday");
                        vec![users[2].clone(), broken]
                    } else {
                        headers.insert("next-page", "2".parse().unwrap());
                        users[..2].to_vec()
                    };
                    (headers, axum::Json(json!({"success": true, "data": page})))
                }
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let task = tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    (addr, task)
}

#[tokio::test]
async fn a_malformed_page_is_named_by_page_and_item_and_the_previous_import_stays() {
    // Arrange: a previous import in place.
    let (addr, server) = broken_logora().await;
    let source = source(0, 0).await;
    let out = tempfile::tempdir().unwrap();
    import(logora(&source.url(""), out.path(), false))
        .await
        .unwrap();
    let before = files(out.path());

    // Act
    let err = import(logora(&format!("http://{addr}"), out.path(), false))
        .await
        .unwrap_err();

    // Assert
    assert_eq!(
        err.to_string(),
        format!(
            "unexpected answer to GET http://{addr}/api/v1/users?page=2&per_page=100: item 2 (id 4): \
             field created_at: \"yesterday\" is not a time like 2021-11-25T16:15:38.874Z"
        )
    );
    assert_eq!(files(out.path()), before);
    assert_eq!(entries(out.path()), ["logora"], "no staging directory left");
    server.abort();
}

#[tokio::test]
async fn a_busy_server_is_asked_again() {
    let source = source(0, 0).await;
    let rule: Value = reqwest::Client::new()
        .post(format!("{}/__doublure/faults", source.url("")))
        .json(&json!({"path": "/api/v1/users", "status": 503, "count": 1}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let out = tempfile::tempdir().unwrap();

    let summary = import(logora(&source.url(""), out.path(), false))
        .await
        .unwrap();

    assert!(
        summary.text.contains(": 48 users from "),
        "{}",
        summary.text
    );
    let journal: Value = reqwest::get(format!(
        "{}/__doublure/requests?path=/api/v1/users",
        source.url("")
    ))
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    let mut calls: Vec<(u64, u64)> = journal["requests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["id"].as_u64().unwrap(), r["status"].as_u64().unwrap()))
        .collect();
    calls.sort();
    let statuses: Vec<u64> = calls.into_iter().map(|(_, status)| status).collect();
    assert_eq!(statuses, [503, 200], "asked again after the 503");
    assert_eq!(rule["count"], 1);
}

/// Runs the binary with `args` (and `envs`), off the async runtime.
async fn doublure(args: Vec<String>, envs: Vec<(&'static str, String)>) -> Output {
    tokio::task::spawn_blocking(move || {
        Command::new(BIN)
            .args(args)
            .env_remove("DOUBLURE_IMPORT_CLIENT_SECRET")
            .env_remove("DOUBLURE_IMPORT_WCS_KEY")
            .envs(envs)
            .output()
            .unwrap()
    })
    .await
    .unwrap()
}

fn strings(args: &[&str]) -> Vec<String> {
    args.iter().map(|a| (*a).to_owned()).collect()
}

#[tokio::test]
async fn the_command_imports_into_a_directory_that_validates_and_prints_no_secret() {
    let source = source(0, 0).await;
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().join("mes-donnees");
    let dir_text = dir.display().to_string();
    let url = source.url("");

    let logora = doublure(
        strings(&[
            "fixtures",
            "import",
            "logora",
            "--url",
            &url,
            "--client-id",
            "API_KEY",
            "--out",
            &dir_text,
        ]),
        vec![("DOUBLURE_IMPORT_CLIENT_SECRET", "API_SECRET".to_owned())],
    )
    .await;
    let wcs = doublure(
        strings(&[
            "fixtures",
            "import",
            "wcs",
            "--url",
            &url,
            "--orig",
            "demo",
            "--key",
            "demo-secret",
            "--out",
            &dir_text,
            "--anonymize",
        ]),
        vec![],
    )
    .await;
    let validate = doublure(strings(&["fixtures", "validate", &dir_text]), vec![]).await;

    let stdout = String::from_utf8(logora.stdout).unwrap();
    let stderr = String::from_utf8(logora.stderr).unwrap();
    assert_eq!(logora.status.code(), Some(0), "{stderr}");
    assert_eq!(
        stdout,
        format!(
            "{dir_text}/logora: 48 users from {url} (1 page), client API_KEY with scope public\n"
        )
    );
    assert_eq!(
        stderr,
        format!(
            "note: {dir_text}/logora/clients.json holds the client secret given: keep the directory \
             private, or change the secret there (doublure accepts any)\n"
        ),
        "notes only: no progress bar off a terminal, no secret"
    );
    let stdout = String::from_utf8(wcs.stdout).unwrap();
    let stderr = String::from_utf8(wcs.stderr).unwrap();
    assert_eq!(wcs.status.code(), Some(0), "{stderr}");
    assert!(
        stdout.ends_with(", API access demo, anonymized\n"),
        "{stdout}"
    );
    assert!(!stderr.contains("demo-secret") && !stdout.contains("demo-secret"));
    assert_eq!(validate.status.code(), Some(0));
    assert_eq!(entries(&dir), ["logora", "wcs"]);
}

#[tokio::test]
async fn the_command_fails_with_status_1_and_the_servers_message_but_not_the_secret() {
    let source = source(0, 0).await;
    let out = tempfile::tempdir().unwrap();
    let dir_text = out.path().join("x").display().to_string();

    let refused = doublure(
        strings(&[
            "fixtures",
            "import",
            "logora",
            "--url",
            &source.url(""),
            "--client-id",
            "API_KEY",
            "--client-secret",
            "Sup3r-Secret-Value",
            "--out",
            &dir_text,
        ]),
        vec![],
    )
    .await;
    let bad_url = doublure(
        strings(&[
            "fixtures",
            "import",
            "wcs",
            "--url",
            "demarches.example.fr",
            "--orig",
            "demo",
            "--key",
            "k",
            "--out",
            &dir_text,
        ]),
        vec![],
    )
    .await;

    let stderr = String::from_utf8(refused.stderr).unwrap();
    assert_eq!(refused.status.code(), Some(1));
    assert!(
        stderr.starts_with(&format!(
            "doublure fixtures import: POST {}/oauth/token was refused with HTTP 401 Unauthorized: \
             Client authentication failed",
            source.url("")
        )),
        "{stderr}"
    );
    assert!(!stderr.contains("Sup3r-Secret-Value"));
    assert!(refused.stdout.is_empty());
    assert_eq!(bad_url.status.code(), Some(2));
    assert_eq!(
        String::from_utf8(bad_url.stderr).unwrap(),
        "doublure fixtures import: --url \"demarches.example.fr\" is not a URL like \
         https://host.example.org (relative URL without a base)\n"
    );
}
