//! The control plane's drafts view, `/__doublure/wcs/drafts[/{id}]`:
//! CRUD on the items of `wcs/forms.json` whose status is `draft`, checked
//! like any fixture change, and seen at once by the w.c.s. API.

use crate::common::TestApp;
use crate::common::control::error;
use crate::common::control::{delete, patch, post, put};
use crate::common::wcs::{FRED, numbers, signed_get};
use axum::http::StatusCode;
use serde_json::{Value, json};

const DRAFTS: &str = "/__doublure/wcs/drafts";

fn ids(v: &Value) -> Vec<i64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_i64().unwrap())
        .collect()
}

/// Fred's drafts as the w.c.s. API lists them (`form_number_raw`).
async fn freds_drafts(app: &TestApp) -> Vec<String> {
    let r = signed_get(app, &format!("/api/user/drafts?{FRED}")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    numbers(&r)
}

const NOT_A_DRAFT_123: &str = "no draft with id 123 in wcs/drafts (drafts are the items of wcs/forms.json whose status is \"draft\")";

#[tokio::test]
async fn the_drafts_view_lists_only_the_forms_whose_status_is_draft() {
    let app = TestApp::new();
    let r = app.get(DRAFTS).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(ids(&r.json()), [164, 1004, 1006]);
    let r = app.get(&format!("{DRAFTS}/164")).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(
        r.json(),
        json!({"id": 164, "formdef_id": "4", "user_id": 1, "status": "draft", "receipt_time": "2014-07-21 10:15:21"})
    );
}

#[tokio::test]
async fn a_submitted_form_or_an_unknown_id_is_not_found_among_drafts() {
    let app = TestApp::new();
    let r = app.get(&format!("{DRAFTS}/123")).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(r.json(), error(NOT_A_DRAFT_123));
    let r = app.get(&format!("{DRAFTS}/999")).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(
        r.json(),
        error(
            "no draft with id 999 in wcs/drafts (drafts are the items of wcs/forms.json whose status is \"draft\")"
        )
    );
    for method in ["PUT", "PATCH"] {
        let r = app
            .json(method, &format!("{DRAFTS}/123"), Some(json!({})), &[])
            .await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{method}");
        assert_eq!(r.json(), error(NOT_A_DRAFT_123), "{method}");
    }
    let r = delete(&app, &format!("{DRAFTS}/123")).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(r.json(), error(NOT_A_DRAFT_123));
    assert_eq!(
        app.get("/__doublure/wcs/forms/123").await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn a_posted_draft_is_a_form_with_the_draft_status_and_the_api_lists_it() {
    let app = TestApp::new();
    let body =
        json!({"id": 2001, "formdef_id": "1", "user_id": 1, "receipt_time": "2026-01-10 09:00:00"});
    let r = post(&app, DRAFTS, body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let stored = json!({"id": 2001, "formdef_id": "1", "user_id": 1, "status": "draft", "receipt_time": "2026-01-10 09:00:00"});
    assert_eq!(r.json(), stored);
    assert_eq!(app.get("/__doublure/wcs/forms/2001").await.json(), stored);
    assert_eq!(ids(&app.get(DRAFTS).await.json()), [164, 1004, 1006, 2001]);
    assert_eq!(freds_drafts(&app).await, ["164", "2001"]);
}

#[tokio::test]
async fn a_post_with_another_status_a_used_id_or_a_bad_reference_changes_nothing() {
    let app = TestApp::new();
    let r = post(&app, DRAFTS, json!({"id": 2001, "formdef_id": "1", "user_id": 1, "status": "new", "receipt_time": "2026-01-10 09:00:00"})).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        r.json(),
        error(
            "a draft's status is \"draft\", not \"new\"; change other forms at /__doublure/wcs/forms"
        )
    );
    let r = post(
        &app,
        DRAFTS,
        json!({"id": 123, "formdef_id": "1", "user_id": 1, "receipt_time": "2026-01-10 09:00:00"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert_eq!(r.json(), error("wcs/forms already has an item with id 123"));
    let r = post(&app, DRAFTS, json!({"id": 2001, "formdef_id": "1", "user_id": 99, "receipt_time": "2026-01-10 09:00:00"})).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        r.json(),
        json!({"error": "invalid data: nothing was changed", "problems": ["state/wcs/forms.json: item 16 (id 2001): field user_id: unknown user 99 (not in wcs/users.json)"]})
    );
    let r = post(&app, DRAFTS, json!([1])).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.json(), error("expected a JSON object, got an array"));
    assert_eq!(ids(&app.get(DRAFTS).await.json()), [164, 1004, 1006]);
}

#[tokio::test]
async fn put_replaces_a_draft_and_keeps_it_a_draft() {
    let app = TestApp::new();
    let r = put(
        &app,
        &format!("{DRAFTS}/164"),
        json!({"formdef_id": "2", "user_id": 1, "receipt_time": "2014-07-22 08:00:00"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(
        r.json(),
        json!({"id": 164, "formdef_id": "2", "user_id": 1, "status": "draft", "receipt_time": "2014-07-22 08:00:00"})
    );
    let r = put(&app, &format!("{DRAFTS}/164"), json!({"formdef_id": "2", "user_id": 1, "status": "new", "receipt_time": "2014-07-22 08:00:00"})).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        r.json(),
        error(
            "a draft's status is \"draft\", not \"new\"; change other forms at /__doublure/wcs/forms"
        )
    );
}

#[tokio::test]
async fn patch_changes_some_fields_of_a_draft_but_not_its_status() {
    let app = TestApp::new();
    let r = patch(
        &app,
        &format!("{DRAFTS}/164"),
        json!({"keywords": ["hello"]}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(
        r.json(),
        json!({"id": 164, "formdef_id": "4", "user_id": 1, "status": "draft", "receipt_time": "2014-07-21 10:15:21", "keywords": ["hello"]})
    );
    let r = patch(&app, &format!("{DRAFTS}/164"), json!({"status": "new"})).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        r.json(),
        error(
            "a draft's status is \"draft\", not \"new\"; change other forms at /__doublure/wcs/forms"
        )
    );
    assert_eq!(
        app.get(&format!("{DRAFTS}/164")).await.json()["status"],
        "draft"
    );
}

#[tokio::test]
async fn delete_removes_a_draft_from_the_forms() {
    let app = TestApp::new();
    let r = delete(&app, &format!("{DRAFTS}/164")).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert_eq!(r.text(), "");
    assert_eq!(
        app.get(&format!("{DRAFTS}/164")).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.get("/__doublure/wcs/forms/164").await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(freds_drafts(&app).await, Vec::<String>::new());
}
