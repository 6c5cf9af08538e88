//! The README's pytest example, run for real against a served doublure, so
//! the example cannot drift from what doublure answers. Where pytest is
//! missing the test says it was skipped, and fails where CI runs (see
//! `common::python`).

use crate::common::served::get_json;
use crate::common::{Served, python};
use doublure::testing::AppState;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_readme_pytest_example_passes_against_a_served_doublure() {
    if !python::available("pytest") {
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
    let list = get_json(&served.url("/__doublure/namespaces")).await;
    assert_eq!(list, serde_json::json!({"namespaces": []}));
    let journal = get_json(&served.url("/__doublure/requests")).await;
    assert_eq!(journal["count"], 0);
    served.stop().await.expect("a clean stop");
}

#[test]
fn the_readme_shows_the_example_as_it_is_run() {
    let readme = include_str!("../../../README.md");
    let example = include_str!("../../../examples/python/test_with_doublure.py");
    let code = &example[example.find("import json").expect("the example's imports")..];
    assert!(
        readme.contains(code),
        "README.md's pytest example differs from examples/python/test_with_doublure.py"
    );
}

#[test]
fn the_python_readme_shows_the_plugin_example_as_it_is_run() {
    let readme = include_str!("../../../python/README.md");
    let example = include_str!("../../../examples/python-plugin/test_with_plugin.py");
    let code = &example[example.find("import json").expect("the example's imports")..];
    assert!(
        readme.contains(code),
        "python/README.md's plugin example differs from examples/python-plugin/test_with_plugin.py"
    );
}
