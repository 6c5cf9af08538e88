//! The fixture collections changed item by item (`/__doublure/{api}/
//! {collection}[/{id}]`): seen at once by the APIs, each change checked
//! like a fixture file, and refused whole when it would break a reference.

use crate::common::TestApp;
use crate::common::control::{assert_error, assert_json, delete, listed_ids, patch, post, put};
use crate::common::logora::{minted_token, user_in, users};
use axum::http::StatusCode;
use serde_json::{Value, json};

#[tokio::test]
async fn a_user_added_through_the_control_plane_is_listed_at_once_and_can_be_removed() {
    let app = TestApp::new();
    let token = minted_token(&app, "API_KEY", None).await;
    let before: u64 = users(&app, "", &token)
        .await
        .header("total")
        .parse()
        .unwrap();

    let mut user = app.get("/__doublure/logora/users/21").await.json();
    user["id"] = json!(9001);
    user["uid"] = json!("9b2f4d7e-1111-4222-8333-944455556666");
    user["slug"] = json!("jeanne-test");
    user["full_name"] = json!("Jeanne Test");
    let created = post(&app, "/__doublure/logora/users", user).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text());

    let after = users(&app, "?per_page=100", &token).await;
    assert_eq!(after.header("total"), (before + 1).to_string());
    let listed = after.json();
    let last = listed["data"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["id"], 9001);
    assert_eq!(last["full_name"], "Jeanne Test");
    assert!(
        last.get("application_id").is_none(),
        "doublure fields stay private"
    );

    let removed = delete(&app, "/__doublure/logora/users/9001").await;
    assert_eq!(removed.status, StatusCode::NO_CONTENT);
    let total: u64 = users(&app, "", &token)
        .await
        .header("total")
        .parse()
        .unwrap();
    assert_eq!(total, before);
}

#[tokio::test]
async fn an_invalid_item_is_refused_naming_the_field_and_nothing_changes() {
    let app = TestApp::new();
    let mut form = app.get("/__doublure/wcs/forms").await.json()[0].clone();
    form["id"] = json!(77_777);
    form["user_id"] = json!(424_242);
    let refused = post(&app, "/__doublure/wcs/forms", form).await;
    assert_json(
        &refused,
        StatusCode::BAD_REQUEST,
        json!({"error": "invalid data: nothing was changed", "problems": [
            "state/wcs/forms.json: item 16 (id 77777): field user_id: unknown user 424242 (not in wcs/users.json)",
        ]}),
    );
    assert_eq!(
        app.get("/__doublure/wcs/forms/77777").await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn patch_and_put_change_a_user_and_the_api_shows_it_at_once() {
    let app = TestApp::new();
    let token = minted_token(&app, "API_KEY", None).await;
    let patched = patch(
        &app,
        "/__doublure/logora/users/21",
        json!({"full_name": "Jean Modifié", "is_expert": true}),
    )
    .await;
    assert_eq!(patched.status, StatusCode::OK, "{}", patched.text());
    assert_eq!(patched.json()["full_name"], "Jean Modifié");
    assert_eq!(patched.json()["city"], "Strasbourg", "other fields kept");
    let experts = users(&app, "?is_expert=true&per_page=100", &token)
        .await
        .json();
    assert_eq!(user_in(&experts, 21).unwrap()["full_name"], "Jean Modifié");

    let mut whole = app.get("/__doublure/logora/users/21").await.json();
    whole["city"] = json!("Colmar");
    whole.as_object_mut().unwrap().remove("id");
    let replaced = put(&app, "/__doublure/logora/users/21", whole).await;
    assert_eq!(replaced.status, StatusCode::OK, "{}", replaced.text());
    assert_eq!(replaced.json()["id"], 21, "the URL's id is kept");
    let listed = users(&app, "?per_page=100", &token).await.json();
    assert_eq!(user_in(&listed, 21).unwrap()["city"], "Colmar");

    // PUT replaces: a field left out is missing, and the data says so.
    let partial = put(
        &app,
        "/__doublure/logora/users/21",
        json!({"full_name": "Jean"}),
    )
    .await;
    assert_json(
        &partial,
        StatusCode::BAD_REQUEST,
        json!({"error": "invalid data: nothing was changed", "problems": [
            "state/logora/users.json: item 21 (id 21): missing field `level`",
        ]}),
    );
    let unchanged = users(&app, "?per_page=100", &token).await.json();
    assert_eq!(user_in(&unchanged, 21).unwrap()["city"], "Colmar");
}

#[tokio::test]
async fn unknown_items_and_collections_are_404_and_a_used_id_is_409() {
    let app = TestApp::new();
    for method in ["PUT", "PATCH", "DELETE", "GET"] {
        let body = (method != "DELETE" && method != "GET").then(|| json!({"full_name": "X"}));
        let response = app
            .json(method, "/__doublure/logora/users/9999", body, &[])
            .await;
        assert_eq!(response.status, StatusCode::NOT_FOUND, "{method}");
        assert_eq!(
            response.json(),
            json!({"error": "no item with id 9999 in logora/users"}),
            "{method}"
        );
    }
    let unknown = app.get("/__doublure/wcs/widgets").await;
    assert_error(
        &unknown,
        StatusCode::NOT_FOUND,
        "no collection wcs/widgets; collections: logora/applications, logora/clients, logora/users, wcs/users, wcs/roles, wcs/categories, wcs/formdefs, wcs/forms, wcs/api_accesses, and wcs/drafts (the drafts of wcs/forms)",
    );
    let existing = app.get("/__doublure/wcs/roles").await.json()[0].clone();
    let clash = post(&app, "/__doublure/wcs/roles", existing.clone()).await;
    assert_eq!(clash.status, StatusCode::CONFLICT);
    assert_eq!(
        clash.json(),
        json!({"error": format!("wcs/roles already has an item with id {}", existing["id"].as_str().map_or_else(|| existing["id"].to_string(), str::to_owned))})
    );
}

#[tokio::test]
async fn a_role_still_given_to_users_cannot_be_deleted() {
    let app = TestApp::new();
    let users = app.get("/__doublure/wcs/users").await.json();
    let role = users
        .as_array()
        .unwrap()
        .iter()
        .find_map(|u| u["roles"].as_array().and_then(|r| r.first()).cloned())
        .expect("a user with a role");
    let role = role
        .as_str()
        .map_or_else(|| role.to_string(), str::to_owned);
    let refused = delete(&app, &format!("/__doublure/wcs/roles/{role}")).await;
    assert_eq!(role, "1", "the first role given to a user");
    assert_json(
        &refused,
        StatusCode::BAD_REQUEST,
        json!({"error": "invalid data: nothing was changed", "problems": [
            "state/wcs/users.json: item 1 (id 1): field roles: unknown role \"1\" (not in wcs/roles.json)",
            "state/wcs/forms.json: item 1 (id 123): field concerned_roles: unknown role \"1\" (a role id, or _user:<user id>)",
            "state/wcs/forms.json: item 2 (id 456): field concerned_roles: unknown role \"1\" (a role id, or _user:<user id>)",
            "state/wcs/forms.json: item 6 (id 1002): field concerned_roles: unknown role \"1\" (a role id, or _user:<user id>)",
            "state/wcs/forms.json: item 12 (id 1008): field concerned_roles: unknown role \"1\" (a role id, or _user:<user id>)",
        ]}),
    );
    assert_eq!(
        app.get(&format!("/__doublure/wcs/roles/{role}"))
            .await
            .status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn a_changed_user_is_checked_against_every_other_user() {
    let app = TestApp::new();
    let slug_taken = patch(
        &app,
        "/__doublure/logora/users/21",
        json!({"slug": "martine-durand"}),
    )
    .await;
    assert_eq!(
        slug_taken.status,
        StatusCode::BAD_REQUEST,
        "{}",
        slug_taken.text()
    );
    assert_json(
        &slug_taken,
        StatusCode::BAD_REQUEST,
        json!({"error": "invalid data: nothing was changed", "problems": [
            "state/logora/users.json: item 21 (id 21): slug \"martine-durand\" is already used in application 1",
        ]}),
    );

    let id_taken = patch(&app, "/__doublure/logora/users/21", json!({"id": 26})).await;
    assert_eq!(id_taken.status, StatusCode::CONFLICT);
    assert_eq!(
        id_taken.json(),
        json!({"error": "logora/users already has an item with id 26"})
    );

    let mut copy = app.get("/__doublure/logora/users/26").await.json();
    copy["id"] = json!(9000);
    copy["slug"] = json!("copie");
    let uid_taken = post(&app, "/__doublure/logora/users", copy.clone()).await;
    assert_json(
        &uid_taken,
        StatusCode::BAD_REQUEST,
        json!({"error": "invalid data: nothing was changed", "problems": [
            "state/logora/users.json: item 55 (id 9000): uid \"dd976c14-bf88-4a94-835d-eb09f1074048\" is already used in application 1",
        ]}),
    );
    copy["uid"] = json!("une-autre");
    let created = post(&app, "/__doublure/logora/users", copy).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text());
    assert_eq!(created.json()["uid"], "une-autre");

    // A user keeps its place in the exported fixture.
    let before = listed_ids(&app, "/__doublure/logora/users").await;
    patch(&app, "/__doublure/logora/users/21", json!({"city": "Metz"})).await;
    let after = listed_ids(&app, "/__doublure/logora/users").await;
    assert_eq!(before.len(), 55, "the built-in users and the one created");
    assert_eq!(before, after);
}

#[tokio::test]
async fn an_application_change_that_would_orphan_users_is_refused_naming_them() {
    let app = TestApp::new();
    let token = minted_token(&app, "API_KEY", None).await;
    let before = users(&app, "?per_page=100", &token).await.text();
    let refused = patch(
        &app,
        "/__doublure/logora/applications/1",
        json!({"sub_applications": ["app-test"]}),
    )
    .await;
    assert_eq!(
        refused.status,
        StatusCode::BAD_REQUEST,
        "{}",
        refused.text()
    );
    assert_eq!(
        refused.status,
        StatusCode::BAD_REQUEST,
        "{}",
        refused.text()
    );
    let body = refused.json();
    assert_eq!(body["error"], "invalid data: nothing was changed");
    // Each of the 34 users of another sub-application is named, by item.
    let problems = body["problems"].as_array().unwrap();
    assert_eq!(problems.len(), 34, "{body}");
    assert_eq!(
        problems[0],
        "state/logora/users.json: item 1 (id 1): field sub_application_name: \"app-sport\" is not a sub-application of application 1 (app-test)"
    );
    assert_eq!(
        problems[33],
        "state/logora/users.json: item 47 (id 47): field sub_application_name: \"app-regions\" is not a sub-application of application 1 (app-test)"
    );
    assert_eq!(users(&app, "?per_page=100", &token).await.text(), before);

    let renamed = patch(
        &app,
        "/__doublure/logora/applications/1",
        json!({"name": "Renommée"}),
    )
    .await;
    assert_eq!(renamed.status, StatusCode::OK, "{}", renamed.text());
    assert_eq!(users(&app, "?per_page=100", &token).await.text(), before);
}

#[tokio::test]
async fn the_readmes_example_user_is_created_with_the_doublure_only_fields_defaulted() {
    let app = TestApp::new();
    let user: Value = serde_json::from_str(include_str!("../../../examples/user.json")).unwrap();
    let created = post(&app, "/__doublure/logora/users", user).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text());
    let stored = created.json();
    assert_eq!(stored["application_id"], 1);
    assert_eq!(stored["sub_application_name"], Value::Null);
    assert_eq!(stored["is_expert"], false);
    let page = app
        .get("/api/v1/users?api_key=API_KEY&per_page=1&page=49")
        .await;
    assert_eq!(page.json()["data"][0]["full_name"], "Lucie Fontaine");
}
