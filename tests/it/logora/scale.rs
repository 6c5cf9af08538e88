//! Many generated users through `LogoraData::add_users`: pages stay right
//! at the far end. `DOUBLURE_SCALE_USERS` sets how many (default 20,000;
//! the benchmark uses 1,000,000).

use crate::common::TestApp;
use crate::common::logora::ids;
use axum::http::StatusCode;

#[tokio::test]
async fn a_page_at_the_far_end_of_many_generated_users_is_right() {
    let n: u64 = std::env::var("DOUBLURE_SCALE_USERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_000);
    assert!(n >= 100, "DOUBLURE_SCALE_USERS is at least a page of 100");
    let app = TestApp::new();
    let template = app
        .state
        .logora
        .data
        .read(|d| d.slot_of_id(21).and_then(|s| d.record(s)).map(|r| r.user()))
        .unwrap();
    let users: Vec<_> = (0..n)
        .map(|i| {
            let mut u = template.clone();
            u.id = 1_000_000 + i;
            u.uid = Some(format!("gen-{i}"));
            u.slug = format!("gen-{i}");
            u.is_expert = i % 2 == 0;
            u
        })
        .collect();
    app.state.logora.data.write(|d| d.add_users(users)).unwrap();
    let total = 48 + n;
    let last_page = total.div_ceil(100);
    let uri = format!("/api/v1/users?api_key=API_KEY&per_page=100&page={last_page}");
    let response = app.get(&uri).await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.text());
    assert_eq!(response.header("total"), total.to_string());
    assert_eq!(response.header("total-pages"), last_page.to_string());
    assert_eq!(response.header("current-page"), last_page.to_string());
    let on_last_page = total - (last_page - 1) * 100;
    let ids = ids(&response.json());
    // The far end holds the last generated users, in order.
    let first_id = 1_000_000 + n - on_last_page;
    assert_eq!(ids, (first_id..1_000_000 + n).collect::<Vec<_>>());
    // Asked again, the page is the same.
    let again = app.get(&uri).await;
    assert_eq!(again.status, StatusCode::OK);
    assert_eq!(again.body, response.body);
    let experts = app
        .get(
            "/api/v1/users?api_key=API_KEY&is_expert=true&sub_application_name=app-test&per_page=1",
        )
        .await;
    // Generated experts (half of n) plus the built-in app-test experts.
    let builtin: u64 = app.state.logora.data.read(|d| {
        d.records()
            .filter(|u| {
                u.id < 1_000_000
                    && u.is_expert
                    && u.sub_application_name.as_deref() == Some("app-test")
                    && u.application_id == 1
            })
            .count() as u64
    });
    assert_eq!(
        experts.header("total"),
        (builtin + n.div_ceil(2)).to_string()
    );
}
