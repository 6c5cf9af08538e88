//! The README's pytest example, run for real against a served doublure, so
//! the example cannot drift from what doublure answers. CI installs pytest
//! and sets DOUBLURE_REQUIRE_PYTEST=1; elsewhere the test says it was
//! skipped when pytest is missing.

mod common;

use common::Served;
use doublure::testing::AppState;

fn pytest_available() -> bool {
    std::process::Command::new("python3")
        .args(["-c", "import pytest"])
        .output()
        .is_ok_and(|o| o.status.success())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_readme_pytest_example_passes_against_a_served_doublure() {
    if !pytest_available() {
        assert!(
            std::env::var_os("DOUBLURE_REQUIRE_PYTEST").is_none(),
            "DOUBLURE_REQUIRE_PYTEST is set but python3 cannot import pytest"
        );
        eprintln!("skipped: python3 with pytest is not installed");
        return;
    }
    let served = Served::start(AppState::for_tests()).await;
    let url = served.url("");
    let output = tokio::task::spawn_blocking(move || {
        std::process::Command::new("python3")
            .args([
                "-m",
                "pytest",
                "-q",
                "-p",
                "no:cacheprovider",
                "examples/python",
            ])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .env("DOUBLURE_URL", url)
            .output()
            .expect("python3 runs")
    })
    .await
    .expect("pytest finished");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success() && stdout.contains("2 passed"),
        "pytest failed:\n{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    // Each test dropped its namespace, and none touched the root.
    let client = reqwest::Client::new();
    let list: serde_json::Value = client
        .get(served.url("/__doublure/namespaces"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list, serde_json::json!({"namespaces": []}));
    let journal: serde_json::Value = client
        .get(served.url("/__doublure/requests"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(journal["count"], 0);
    served.stop().await.expect("a clean stop");
}

#[test]
fn the_readme_shows_the_example_as_it_is_run() {
    let readme = include_str!("../README.md");
    let example = include_str!("../examples/python/test_with_doublure.py");
    let code = &example[example.find("import json").expect("the example's imports")..];
    assert!(
        readme.contains(code),
        "README.md's pytest example differs from examples/python/test_with_doublure.py"
    );
}

#[test]
fn the_readme_shows_the_plugin_example_as_it_is_run() {
    let readme = include_str!("../README.md");
    let example = include_str!("../examples/python-plugin/test_with_plugin.py");
    let code = &example[example.find("import json").expect("the example's imports")..];
    assert!(
        readme.contains(code),
        "README.md's plugin example differs from examples/python-plugin/test_with_plugin.py"
    );
}
