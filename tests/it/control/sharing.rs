//! A change to one w.c.s. user through the control plane copies that user,
//! not the data: the other users (and every form) stay the very ones the
//! data before held, at the root and in a namespace made from it, while
//! every answer is the one a reload would give.

use crate::common::TestApp;
use crate::common::control::{assert_json, delete, patch, post, put};
use axum::http::StatusCode;
use doublure::testing::AppState;
use doublure::testing::clock::Clock;
use doublure::testing::config::{Generate, Settings};
use doublure::testing::data::{Seed, builtin};
use doublure::testing::sharing::{Form, wcs_forms_shared, wcs_snapshot, wcs_users_shared};
use doublure::testing::state::test_now;
use serde_json::json;
use std::sync::Arc;
use std::time::Instant;

fn generated(wcs_users: usize) -> TestApp {
    let generate = Generate {
        logora_users: 0,
        wcs_users,
        forms_per_user: 1,
        seed: 3,
    };
    let seed = Seed::build(builtin(), generate).expect("generated data loads");
    TestApp::with_state(AppState::new(
        seed,
        Clock::frozen(test_now()),
        Settings::for_tests(),
    ))
}

#[tokio::test]
async fn a_patch_of_one_of_thousands_of_users_shares_every_other_user_and_the_forms() {
    let app = generated(5000);
    let total = 5000 + 12;
    for prefix in ["", "/__ns/share"] {
        // A namespace is made by its first call.
        assert_eq!(
            app.get(&format!("{prefix}/__doublure/wcs/users/1"))
                .await
                .status,
            StatusCode::OK
        );
        let ns = match prefix {
            "" => (*app.state).clone(),
            _ => app.state.namespace("share").expect("the namespace"),
        };
        let before = wcs_snapshot(&ns);
        let changed = patch(
            &app,
            &format!("{prefix}/__doublure/wcs/users/1"),
            json!({"name": "Frédérique Dupont"}),
        )
        .await;
        assert_eq!(changed.status, StatusCode::OK, "{}", changed.text());
        assert_eq!(changed.json()["name"], "Frédérique Dupont");
        let after = wcs_snapshot(&ns);
        assert_eq!(wcs_users_shared(&before, &after), (total - 1, total));
        let forms = after.forms.len();
        assert_eq!(wcs_forms_shared(&before, &after), (forms, forms));
    }
}

#[tokio::test]
async fn put_post_and_delete_of_a_user_share_the_other_users_too() {
    let app = generated(2000);
    let ns = (*app.state).clone();
    let total = 2000 + 12;

    let before = wcs_snapshot(&ns);
    let mut user = app.get("/__doublure/wcs/users/2").await.json();
    user["name"] = json!("Zoé Remplacée");
    let replaced = put(&app, "/__doublure/wcs/users/2", user.clone()).await;
    assert_eq!(replaced.status, StatusCode::OK, "{}", replaced.text());
    assert_eq!(replaced.json(), user);
    assert_eq!(
        wcs_users_shared(&before, &wcs_snapshot(&ns)),
        (total - 1, total)
    );

    let before = wcs_snapshot(&ns);
    let created = post(
        &app,
        "/__doublure/wcs/users",
        json!({"id": 777_777, "name": "Nouvelle Venue", "email": "nouvelle@example.org"}),
    )
    .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text());
    assert_eq!(
        created.json(),
        json!({"id": 777_777, "name": "Nouvelle Venue", "email": "nouvelle@example.org", "name_identifiers": [], "roles": []})
    );
    assert_eq!(
        wcs_users_shared(&before, &wcs_snapshot(&ns)),
        (total, total + 1)
    );

    let before = wcs_snapshot(&ns);
    assert_eq!(
        delete(&app, "/__doublure/wcs/users/777777").await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        wcs_users_shared(&before, &wcs_snapshot(&ns)),
        (total, total)
    );
    assert_eq!(
        app.get("/__doublure/wcs/users/777777").await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn a_change_to_one_form_or_draft_shares_every_other_form_and_the_users() {
    let app = generated(2000);
    let ns = (*app.state).clone();
    let users = 2000 + 12;
    let before = wcs_snapshot(&ns);
    let forms = before.forms.len();
    let changed = patch(
        &app,
        "/__doublure/wcs/forms/123",
        json!({"digest": "changé"}),
    )
    .await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.text());
    assert_eq!(changed.json()["digest"], "changé");
    let after = wcs_snapshot(&ns);
    assert_eq!(wcs_forms_shared(&before, &after), (forms - 1, forms));
    assert_eq!(wcs_users_shared(&before, &after), (users, users));

    let before = wcs_snapshot(&ns);
    let draft = patch(
        &app,
        "/__doublure/wcs/drafts/164",
        json!({"digest": "brouillon"}),
    )
    .await;
    assert_eq!(draft.status, StatusCode::OK, "{}", draft.text());
    assert_eq!(draft.json()["status"], "draft");
    assert_eq!(
        wcs_forms_shared(&before, &wcs_snapshot(&ns)),
        (forms - 1, forms)
    );

    // A role renamed: every user and form is kept, and checked.
    let before = wcs_snapshot(&ns);
    let role = patch(&app, "/__doublure/wcs/roles/1", json!({"name": "Renommé"})).await;
    assert_eq!(role.status, StatusCode::OK, "{}", role.text());
    let after = wcs_snapshot(&ns);
    assert_eq!(wcs_forms_shared(&before, &after), (forms, forms));
    assert_eq!(wcs_users_shared(&before, &after), (users, users));
}

#[tokio::test]
async fn the_state_written_as_read_is_the_wcs_export_byte_for_byte() {
    let app = generated(300);
    let body = app.get("/__doublure/state").await.text();
    let wcs = wcs_snapshot(&app.state);
    let object: Vec<String> = wcs
        .export()
        .iter()
        .map(|(name, value)| format!("{}:{value}", serde_json::Value::from(*name)))
        .collect();
    let expected = format!(",{}}}", object.join(","));
    let at = body.find(",\"wcs/users.json\":").expect("the w.c.s. users");
    assert_eq!(body[at..], expected);
    assert!(
        body.starts_with("{\"logora/applications.json\":"),
        "{}",
        &body[..80]
    );
    let parsed: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(parsed["wcs/users.json"].as_array().unwrap().len(), 312);
}

/// The problems a reload of everything gives when user `user` is gone
/// (or renumbered) and `forms` still name it.
fn forms_naming(forms: &[Arc<Form>], user: i64) -> Vec<String> {
    let role = format!("_user:{user}");
    let mut out = Vec::new();
    for (n, f) in forms.iter().enumerate() {
        let at = format!("state/wcs/forms.json: item {} (id {})", n + 1, f.id);
        if f.user_id == Some(user) {
            out.push(format!(
                "{at}: field user_id: unknown user {user} (not in wcs/users.json)"
            ));
        }
        if f.concerned_roles.contains(&role) {
            out.push(format!(
                "{at}: field concerned_roles: unknown role \"{role}\" (a role id, or _user:<user id>)"
            ));
        }
    }
    out
}

#[tokio::test]
async fn taking_a_user_its_forms_name_is_refused_as_a_reload_says_without_one() {
    let started = Instant::now();
    let app = generated(20_000);
    // What a reload of everything costs here, which the old refusal paid.
    let load = started.elapsed();
    let ns = (*app.state).clone();
    let before = wcs_snapshot(&ns);
    let forms: Vec<Arc<Form>> = before.forms.iter().cloned().collect();
    let user = forms
        .iter()
        .rev()
        .find_map(|f| f.user_id)
        .expect("a generated form with its user");
    let problems = forms_naming(&forms, user);
    assert!(!problems.is_empty());
    let refusal = json!({"error": "invalid data: nothing was changed", "problems": problems});

    let t = Instant::now();
    let removed = delete(&app, &format!("/__doublure/wcs/users/{user}")).await;
    let took_delete = t.elapsed();
    assert_json(&removed, StatusCode::BAD_REQUEST, refusal.clone());

    let t = Instant::now();
    let renumbered = patch(
        &app,
        &format!("/__doublure/wcs/users/{user}"),
        json!({"id": 999_999_999}),
    )
    .await;
    let took_patch = t.elapsed();
    assert_json(&renumbered, StatusCode::BAD_REQUEST, refusal);

    assert!(Arc::ptr_eq(&before, &wcs_snapshot(&ns)), "nothing changed");
    for took in [took_delete, took_patch] {
        assert!(
            took * 4 < load,
            "a refusal took {took:?}, a load of the data {load:?}: it reloaded"
        );
    }
}
