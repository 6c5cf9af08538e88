//! The Testcontainers module (`doublure::testcontainers`) against the real
//! image and a container engine. Ignored by a plain `cargo test`: they need
//! `DOCKER_HOST` (or a local Docker) and the image tagged with the crate's
//! version. `.ci/containers` builds nothing and runs them with
//! `cargo test --test it containers -- --ignored`.

use chrono::TimeDelta;
use doublure::testcontainers::testcontainers::bollard::Docker;
use doublure::testcontainers::{DoublureContainer, DoublureImage, Remote};
use doublure::{FaultRule, JournalFilter, SignAs};

/// One test's whole story in its own namespace: a token and a users page,
/// a signed w.c.s. call, a fault, a clock move and the journal.
async fn story(doublure: Remote) {
    let http = reqwest::Client::new();
    // Frozen: only the test moves it.
    let at = "2026-01-15T10:00:00Z".parse().unwrap();
    doublure.set_clock(at, true).await.unwrap();
    assert_eq!(doublure.now().await.unwrap(), at);
    let token = doublure.token("API_KEY", "public").await.unwrap();
    let page = http
        .get(format!("{}/api/v1/users?per_page=5", doublure.url()))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    assert_eq!(page.headers()["total"], "48");
    let body: serde_json::Value = page.json().await.unwrap();
    assert_eq!(body["data"].as_array().unwrap().len(), 5);

    let signed = doublure
        .sign("/api/user/", "demo", SignAs::Email("fred@example.net"))
        .await
        .unwrap();
    let profile: serde_json::Value = http
        .get(&signed)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(profile["user_display_name"], "Fred Cuadrado");

    doublure
        .fault(FaultRule {
            path: Some("/api/v1/users".into()),
            status: Some(503),
            count: Some(1),
            ..FaultRule::default()
        })
        .await
        .unwrap();
    let users = format!("{}/api/v1/users?api_key=API_KEY", doublure.url());
    assert_eq!(http.get(&users).send().await.unwrap().status(), 503);
    assert_eq!(http.get(&users).send().await.unwrap().status(), 200);

    doublure.advance(TimeDelta::seconds(7201)).await.unwrap();
    let expired = http
        .get(format!("{}/api/v1/users", doublure.url()))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(expired.status(), 401);

    let refused = doublure
        .requests(&JournalFilter {
            status: Some(401),
            ..JournalFilter::default()
        })
        .await
        .unwrap();
    assert_eq!(refused.len(), 1);
    assert_eq!(
        refused[0].outcome.as_deref(),
        Some("token of API_KEY expired 1 s ago")
    );
    assert_eq!(refused[0].path, "/api/v1/users");
    let faulted = doublure
        .requests(&JournalFilter {
            status: Some(503),
            ..JournalFilter::default()
        })
        .await
        .unwrap();
    assert_eq!(faulted.len(), 1, "{faulted:?}");
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a container engine and the image: .ci/containers runs it"]
async fn a_container_serves_two_namespaces_at_once_each_with_its_own_story() {
    let container = DoublureContainer::start(DoublureImage::default())
        .await
        .unwrap();
    let (a, b) = (
        container.namespace("rust_a").unwrap(),
        container.namespace("rust_b").unwrap(),
    );
    tokio::join!(story(a.clone()), story(b.clone()));
    // Each namespace saw its own calls only, the root none of them.
    let root = container.requests(&JournalFilter::default()).await.unwrap();
    assert!(root.iter().all(|e| !e.path.contains("/api/")), "{root:?}");
    assert!(a.drop_namespace().await.unwrap());
    assert!(b.drop_namespace().await.unwrap());
    assert!(!b.drop_namespace().await.unwrap());
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a container engine and the image: .ci/containers runs it"]
async fn settings_reach_the_container_as_doublure_variables() {
    let container = DoublureContainer::start(
        DoublureImage::default()
            .with_generated(120, 3)
            .with_admin_token("s3cret-admin"),
    )
    .await
    .unwrap();
    let page = reqwest::get(format!(
        "{}/api/v1/users?api_key=API_KEY&per_page=1",
        container.url()
    ))
    .await
    .unwrap();
    // The 48 built-in users and the 120 generated ones.
    assert_eq!(page.headers()["total"], "168");
    // The handle sends the admin token; a call without it is refused.
    container.reset().await.unwrap();
    let bare = Remote::new(container.url(), None)
        .reset()
        .await
        .unwrap_err();
    assert!(bare.0.contains("HTTP 401"), "{bare}");
    assert!(!bare.0.contains("s3cret-admin"), "{bare}");
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a container engine and the image: .ci/containers runs it"]
async fn fixtures_are_copied_into_the_container() {
    // The repository's Kubernetes example: three Logora users, client TEAM_KEY.
    let fixtures = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/deploy/kubernetes/components/fixtures"
    );
    let container = DoublureContainer::start(DoublureImage::default().with_fixtures(fixtures))
        .await
        .unwrap();
    let page = reqwest::get(format!("{}/api/v1/users?api_key=TEAM_KEY", container.url()))
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    assert_eq!(page.headers()["total"], "3");
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a container engine and the image: .ci/containers runs it"]
async fn a_test_that_fails_still_removes_its_container() {
    let (tx, rx) = tokio::sync::oneshot::channel();
    let failing = tokio::spawn(async move {
        let container = DoublureContainer::start(DoublureImage::default())
            .await
            .unwrap();
        tx.send(container.container().id().to_owned()).unwrap();
        panic!("this test fails on purpose, holding its container");
    });
    assert!(failing.await.unwrap_err().is_panic());
    let id = rx.await.unwrap();
    let docker = Docker::connect_with_defaults().unwrap();
    let gone = docker.inspect_container(&id, None).await.unwrap_err();
    assert!(gone.to_string().contains("404"), "{id}: {gone}");
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a container engine and the image: .ci/containers runs it"]
async fn a_wrong_image_tag_is_named_with_how_to_get_it() {
    let started = std::time::Instant::now();
    let error = DoublureContainer::start(
        DoublureImage::default().with_image("ghcr.io/doublure/doublure:0.0.0-missing"),
    )
    .await
    .unwrap_err();
    assert!(
        error.0.starts_with(
            "the image ghcr.io/doublure/doublure:0.0.0-missing is not on this machine"
        ),
        "{error}"
    );
    assert!(
        error
            .0
            .contains("docker build -t ghcr.io/doublure/doublure:0.0.0-missing ."),
        "{error}"
    );
    assert!(started.elapsed().as_secs() < 60, "{:?}", started.elapsed());
}
