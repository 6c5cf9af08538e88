//! The README's Rust example, run as it is shown, and held to the README.

use doublure::Doublure;
use doublure::SignAs;

#[tokio::test]
async fn a_token_opens_the_users_list() {
    let doublure = Doublure::start().await; // built-in data, 127.0.0.1:0
    let token = doublure.token("API_KEY", "public").unwrap();
    let page = reqwest::Client::new()
        .get(format!("{}/api/v1/users", doublure.url()))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(page.headers()["total"], "48");
    let signed = doublure
        .sign("/api/user/forms", "demo", SignAs::Email("fred@example.net"))
        .unwrap();
    assert_eq!(reqwest::get(signed).await.unwrap().status(), 200);
}

#[test]
fn the_readme_shows_this_example_as_it_is_run() {
    let readme = include_str!("../../../README.md");
    let source = include_str!("embed.rs");
    let start = source.find("use doublure::Doublure;").expect("the example");
    let end = source.find("#[test]\nfn the_readme").expect("this test");
    assert!(
        readme.contains(source[start..end].trim_end()),
        "README.md's Rust example differs from tests/it/examples/embed.rs"
    );
}
