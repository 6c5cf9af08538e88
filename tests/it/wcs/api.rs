//! The w.c.s. emulation through the real router: every endpoint, the
//! refusals of w.c.s.'s signature check the fixtures can express, and the
//! seed page's calls signed with `demo` for Fred.

use crate::common::control::{assert_json, delete, post, post_empty};
use crate::common::wcs::{FRED, assert_denied, demo, demo_with_nonce, numbers, sign, with};
use crate::common::{TestApp, TestResponse, basic};
use axum::http::StatusCode;
use chrono::TimeDelta;
use doublure::testing::AppState;
use doublure::testing::config::Settings;
use doublure::testing::wcs::signature::quote;
use doublure::testing::wcs::signature::sign_url;
use doublure::testing::wcs::signature::signature;
use serde_json::{Value, json};

// ---- signatures ----

#[tokio::test]
async fn an_unsigned_profile_request_is_not_authenticated() {
    let app = TestApp::new();
    assert_denied(&app.get("/api/user/").await, "User not authenticated.");
    assert_denied(
        &app.get("/api/user/?format=json").await,
        "User not authenticated.",
    );
}

#[tokio::test]
async fn a_signature_without_orig_or_with_an_unknown_orig_is_refused() {
    let app = TestApp::new();
    let r = app.get("/api/user/?format=json&signature=xxx").await;
    assert_denied(&r, "Missing/multiple orig field.");
    let r = app
        .get("/api/user/?format=json&signature=xxx&orig=coin")
        .await;
    assert_denied(&r, "Invalid orig.");
}

#[tokio::test]
async fn a_missing_or_unknown_algo_is_refused_before_the_signature() {
    let app = TestApp::new();
    assert_denied(
        &app.get("/api/user/?orig=demo&signature=xxx").await,
        "Missing/multiple algo field.",
    );
    assert_denied(
        &app.get("/api/user/?orig=demo&algo=coin&signature=xxx")
            .await,
        "Invalid algo.",
    );
    assert_denied(
        &app.get("/api/user/?orig=demo&algo=__getattribute__&signature=xxx")
            .await,
        "Invalid algo.",
    );
    assert_denied(
        &app.get("/api/user/?orig=demo&algo=sha1&signature=xxx")
            .await,
        "Invalid signature.",
    );
}

#[tokio::test]
async fn a_signature_mismatch_says_what_was_expected_in_the_journal() {
    let app = TestApp::new();
    let url = sign(&app, &with("/api/user/", FRED), "demo", "wrong", "sha256");
    assert_denied(&app.get(&url).await, "Invalid signature.");
    let journal = app.get("/__doublure/requests").await.json();
    let outcome = journal.to_string();
    assert_eq!(
        journal["requests"][0]["outcome"],
        "signature mismatch: expected base64 HMAC-SHA256 over \"email=fred%40example.net&orig=demo&algo=sha256&timestamp=2026-01-15T10%3A00%3A00Z\" with the orig's key"
    );
    // Neither the sent signature nor the right one shows.
    let sent = url.split("signature=").nth(1).unwrap();
    assert!(!outcome.contains(sent), "{outcome}");
    let right = sign(
        &app,
        &with("/api/user/", FRED),
        "demo",
        "demo-secret",
        "sha256",
    );
    let right = right.split("signature=").nth(1).unwrap();
    assert!(!outcome.contains(right), "{outcome}");
    assert!(outcome.contains("signature=[redacted]"), "{outcome}");
}

#[tokio::test]
async fn a_good_signature_without_timestamp_is_refused() {
    let app = TestApp::new();
    let q = "format=json&orig=demo&algo=sha1";
    let sig = signature("sha1", "demo-secret", q).unwrap();
    let url = format!("/api/user/?{q}&signature={}", quote(&sig));
    assert_denied(&app.get(&url).await, "Missing/multiple timestamp field.");
}

#[tokio::test]
async fn a_bad_timestamp_gets_pythons_value_error_text() {
    let app = TestApp::new();
    let q = format!("{FRED}&orig=demo&algo=sha256&timestamp=2026-01-15+10%3A00%3A00");
    let sig = signature("sha256", "demo-secret", &q).unwrap();
    let url = format!("/api/user/?{q}&signature={}", quote(&sig));
    assert_denied(
        &app.get(&url).await,
        "Invalid timestamp field; time data '2026-01-15 10:00:00' does not match format '%Y-%m-%dT%H:%M:%SZ'.",
    );
}

#[tokio::test]
async fn a_signature_older_than_thirty_seconds_is_refused_with_the_delta() {
    let app = TestApp::new();
    let url = demo(&app, &with("/api/user/", FRED));
    app.state.clock.advance(TimeDelta::seconds(30));
    assert_eq!(app.get(&url).await.status, StatusCode::OK);
    app.state.clock.advance(TimeDelta::seconds(30));
    assert_denied(
        &app.get(&url).await,
        "timestamp is more than 30 seconds in the past: 0:01:00",
    );
}

#[tokio::test]
async fn a_signature_from_the_future_is_refused_with_the_delta() {
    let app = TestApp::new();
    app.state.clock.advance(TimeDelta::seconds(3600));
    let url = demo(&app, &with("/api/user/", FRED));
    app.state.clock.advance(TimeDelta::seconds(-3599));
    assert_denied(
        &app.get(&url).await,
        "timestamp is more than 30 seconds in the future: 0:59:59",
    );
}

#[tokio::test]
async fn a_valid_signature_without_user_or_with_an_unknown_name_id_is_refused() {
    let app = TestApp::new();
    assert_denied(
        &app.get(&demo(&app, "/api/user/")).await,
        "User not authenticated.",
    );
    let r = app.get(&demo(&app, "/api/user/?NameID=xxx")).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(
        r.json(),
        json!({"err": 1, "err_class": "Access denied", "err_code": "unknown-name-id", "err_desc": "Unknown NameID."})
    );
    assert_denied(
        &app.get(&demo(&app, "/api/user/?email=nobody%40example.net"))
            .await,
        "Unknown email.",
    );
    assert_denied(
        &app.get(&demo(
            &app,
            "/api/user/?email=a%40b&email=fred%40example.net",
        ))
        .await,
        "Multiple email field.",
    );
    assert_denied(
        &app.get(&demo(&app, "/api/user/?email=")).await,
        "User not authenticated.",
    );
}

#[tokio::test]
async fn every_algorithm_signs_a_profile_request() {
    let app = TestApp::new();
    for algo in [
        "md5", "sha1", "sha224", "sha256", "sha384", "sha512", "sha3_256", "blake2b", "blake2s",
    ] {
        let r = app
            .get(&sign(
                &app,
                &with("/api/user/", FRED),
                "demo",
                "demo-secret",
                algo,
            ))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{algo}: {}", r.text());
        assert_eq!(r.json()["user_display_name"], "Fred Cuadrado");
    }
}

#[tokio::test]
async fn shake_passes_the_algo_check_then_crashes_like_upstream() {
    let app = TestApp::new();
    let r = app
        .get("/api/user/?orig=demo&algo=shake_128&signature=x")
        .await;
    assert_eq!(r.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(r.text(), r#"{"err": 1}"#);
}

#[tokio::test]
async fn a_replayed_nonce_is_refused_even_with_params_after_the_signature() {
    let app = TestApp::new();
    let url = sign_url(
        &with("/api/user/", FRED),
        "demo",
        "demo-secret",
        "sha256",
        app.state.clock.now(),
        Some("cafe0123"),
    )
    .unwrap();
    assert_eq!(app.get(&url).await.status, StatusCode::OK);
    assert_denied(&app.get(&url).await, "Nonce already used.");
    assert_denied(
        &app.get(&format!("{url}&foo=bar")).await,
        "Nonce already used.",
    );
    // Forgotten once the window has passed, and by a reset.
    app.state.clock.advance(TimeDelta::seconds(31));
    assert_eq!(app.state.wcs.runtime.nonce_count(), 1);
    let again = sign_url(
        &with("/api/user/", FRED),
        "demo",
        "demo-secret",
        "sha256",
        app.state.clock.now(),
        Some("cafe0123"),
    )
    .unwrap();
    assert_eq!(app.get(&again).await.status, StatusCode::OK);
    assert_eq!(app.state.wcs.runtime.nonce_count(), 1);
    app.state.wcs.runtime.reset();
    assert_eq!(app.get(&again).await.status, StatusCode::OK);
}

#[tokio::test]
async fn an_api_access_with_roles_is_a_restricted_api_user() {
    let app = TestApp::new();
    let s = |p: &str| sign(&app, &with(p, FRED), "agents", "agents-secret", "sha256");
    assert_denied(&app.get(&s("/api/user/")).await, "Restricted API access.");
    assert_denied(
        &app.get(&s("/api/users/")).await,
        "Unauthenticated/unsigned request or no access to users.",
    );
    assert_denied(
        &app.get(&s("/api/user/forms")).await,
        "Restricted API access.",
    );
}

// ---- profile ----

#[tokio::test]
async fn the_profile_of_fred_is_the_flat_upstream_object() {
    let app = TestApp::new();
    let r = app.get(&demo(&app, &with("/api/user/", FRED))).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.header("content-type"), "application/json");
    assert_eq!(
        r.text(),
        r#"{"user_display_name": "Fred Cuadrado", "user_email": "fred@example.net", "user_fphone": "0102030405", "user_field_phone": "0102030405", "user_var_phone": "0102030405", "user_faddress": "12 rue des Lilas", "user_field_address": "12 rue des Lilas", "user_var_address": "12 rue des Lilas", "user_fzipcode": "75011", "user_field_zipcode": "75011", "user_var_zipcode": "75011", "user_fcity": "PARIS", "user_field_city": "PARIS", "user_var_city": "PARIS", "user_admin_access": false, "user_backoffice_access": true, "user_nameid": "8c1e1b4a5b7d4e0f9a2b3c4d5e6f7a8b", "user_name_identifier_0": "8c1e1b4a5b7d4e0f9a2b3c4d5e6f7a8b", "id": 1, "user_roles": [{"name": "Accueil", "text": "Accueil", "allows_backoffice_access": true, "emails": ["accueil@example.net"], "details": "", "emails_to_members": false, "slug": "accueil", "id": "1"}]}"#
    );
}

#[tokio::test]
async fn the_email_is_matched_case_insensitively_and_the_name_id_exactly() {
    let app = TestApp::new();
    let r = app
        .get(&demo(&app, "/api/user/?email=FRED%40Example.NET"))
        .await;
    assert_eq!(r.json()["id"], 1);
    let r = app.get(&demo(&app, "/api/user/?NameID=xyz")).await;
    assert_eq!(r.json()["user_display_name"], "Jean Darmette");
}

#[tokio::test]
async fn an_inactive_user_is_unknown_by_email_but_found_by_name_id() {
    let app = TestApp::new();
    assert_denied(
        &app.get(&demo(&app, "/api/user/?email=ines.lefevre%40example.org"))
            .await,
        "Unknown email.",
    );
    let r = app.get(&demo(&app, "/api/user/?NameID=ines-nameid")).await;
    assert_eq!(r.json()["user_display_name"], "In\u{e8}s Lef\u{e8}vre");
}

#[tokio::test]
async fn a_deleted_user_is_unknown() {
    let app = TestApp::new();
    let r = app.get(&demo(&app, "/api/user/?NameID=bruno-nameid")).await;
    assert_eq!(r.json()["err_code"], "unknown-name-id");
}

#[tokio::test]
async fn user_answers_json_when_asked_and_redirects_otherwise() {
    let app = TestApp::new();
    let r = app.get(&demo(&app, &with("/user?format=json", FRED))).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json()["user_email"], "fred@example.net");
    let r = app
        .get_with(
            &demo(&app, &with("/user", FRED)),
            &[("accept", "application/json")],
        )
        .await;
    assert_eq!(r.json()["id"], 1);
    let r = app.get("/user").await;
    assert_eq!(r.status, StatusCode::FOUND);
    assert_eq!(r.header("location"), "http://localhost:8080/myspace/");
    let r = app.get("/user?json").await;
    assert_denied(&r, "User not authenticated.");
}

#[tokio::test]
async fn basic_auth_with_a_user_password_gives_that_user() {
    let app = TestApp::new();
    let auth = basic("paul.durand@example.org", "paul-password");
    let r = app
        .get_with("/api/user/", &[("authorization", &auth)])
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json()["user_display_name"], "Paul Durand");
    let bad = basic("paul.durand@example.org", "nope");
    let r = app.get_with("/api/user/", &[("authorization", &bad)]).await;
    assert_denied(&r, "User not authenticated.");
}

#[tokio::test]
async fn basic_auth_with_an_api_access_is_a_restricted_api_user() {
    let app = TestApp::new();
    let auth = basic("demo", "demo-secret");
    let r = app
        .get_with("/api/user/", &[("authorization", &auth)])
        .await;
    assert_denied(&r, "Restricted API access.");
}

// ---- trailing slash ----

#[tokio::test]
async fn a_directory_without_its_slash_redirects_without_query_and_404s_with_one() {
    let app = TestApp::new();
    for path in ["/api/user", "/api/users", "/api/users/1"] {
        let r = app.get(path).await;
        assert_eq!(r.status, StatusCode::MOVED_PERMANENTLY, "{path}");
        assert_eq!(r.header("location"), format!("{path}/"));
        let r = app.get(&demo(&app, &with(path, FRED))).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(
            r.json(),
            json!({"err": 1, "err_class": "Page not found", "err_code": "not-found", "err_desc": null})
        );
    }
}

#[tokio::test]
async fn a_post_is_not_allowed() {
    let app = TestApp::new();
    let r = post_empty(&app, "/api/user/").await;
    assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(
        r.json(),
        json!({"err": 1, "err_class": "Method not allowed", "err_code": "method-not-allowed", "err_desc": null})
    );
}

// ---- forms and drafts ----

/// The seed page's `/api/user/forms`, signed with demo for Fred: every
/// field and value it shows, except where upstream disagrees (recorded in
/// docs/fidelity.md: category_id holds the slug, the backoffice
/// URL has /management/, the second form's status is its visible status
/// "En cours", the list is in receipt order).
#[tokio::test]
async fn the_seed_pages_forms_call_returns_every_field_it_shows() {
    let app = TestApp::with_state(AppState::for_tests_with(Settings {
        public_url: "http://www.example.net".into(),
        ..Settings::for_tests()
    }));
    let r = app.get(&demo(&app, &with("/api/user/forms", FRED))).await;
    assert_eq!(r.status, StatusCode::OK);
    let body = r.json();
    assert_eq!(body["err"], 0);
    let data = body["data"].as_array().unwrap();
    let seed = [
        (
            "456",
            "prise-de-rendez-vous",
            "Prise de rendez-vous",
            "2014-03-17 10:39:52",
            "Rendez-vous avec le service B",
            "rendez-vous-service-b",
            "17/03/2014",
            "10:39",
            "En cours",
            false,
            "En cours",
        ),
        (
            "424",
            "modification-de-vos-coordonnees",
            "Modification de vos coordonn\u{e9}es",
            "2014-03-17 10:42:17",
            "Changement d'adresse",
            "changement-d-adresse",
            "17/03/2014",
            "10:42",
            "Traitement de la demande termin\u{e9}",
            true,
            "Traitement de la demande termin\u{e9}",
        ),
        (
            "123",
            "divers",
            "Divers",
            "2014-03-28 15:36:52",
            "Demande d'inscription",
            "demande-d-inscription",
            "28/03/2014",
            "15:36",
            "Nouveau",
            false,
            "Nouveau",
        ),
    ];
    assert_eq!(data.len(), 3);
    for (item, (n, cat_id, cat, dt, name, slug, date, time, status, endpoint, visible)) in
        data.iter().zip(seed)
    {
        assert_eq!(item["category_id"], cat_id);
        assert_eq!(item["category_name"], cat);
        assert_eq!(item["datetime"], dt);
        assert_eq!(item["form_name"], name);
        assert_eq!(item["form_slug"], slug);
        assert_eq!(item["form_number"], n);
        assert_eq!(item["form_number_raw"], n);
        assert_eq!(item["form_receipt_date"], date);
        assert_eq!(item["form_receipt_time"], time);
        assert_eq!(item["form_status"], status);
        assert_eq!(item["form_status_is_endpoint"], endpoint);
        assert_eq!(item["form_uri"], format!("{slug}/{n}/"));
        assert_eq!(
            item["form_url"],
            format!("http://www.example.net/{slug}/{n}/")
        );
        assert_eq!(
            item["form_url_backoffice"],
            format!("http://www.example.net/backoffice/management/{slug}/{n}/")
        );
        assert_eq!(item["name"], name);
        assert_eq!(item["status"], visible);
        assert_eq!(item["title"], format!("{name} #{n} ({visible})"));
        assert_eq!(item["url"], format!("http://www.example.net/{slug}/{n}/"));
    }
    assert!(
        r.text()
            .contains(r#""category_name": "Modification de vos coordonn\u00e9es""#)
    );
}

#[tokio::test]
async fn the_seed_pages_drafts_calls_return_the_draft_of_2014_07_21() {
    let app = TestApp::new();
    let r = app.get(&demo(&app, &with("/myspace/drafts", FRED))).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(
        r.text(),
        r#"{"err": 0, "data": [{"datetime": "2014-07-21 10:15:21", "name": "Demande de relecture", "title": "Demande de relecture, brouillon enregistr\u00e9 le 21/07/2014 10:15", "url": "http://localhost:8080/demande-de-relecture/164"}]}"#
    );
    let r = app.get(&demo(&app, &with("/api/user/drafts", FRED))).await;
    let item = &r.json()["data"][0];
    assert_eq!(item["datetime"], "2014-07-21 10:15:21");
    assert_eq!(item["name"], "Demande de relecture");
    assert_eq!(item["title"], "Demande de relecture (draft)");
    assert_eq!(
        item["url"],
        "http://localhost:8080/demande-de-relecture/164/"
    );
    assert_eq!(item["status"], "Draft");
    assert_eq!(item["draft"], true);
    assert!(item.get("fields").is_none());
}

#[tokio::test]
async fn the_seed_pages_profile_call_returns_every_field_it_shows() {
    let app = TestApp::new();
    let r = app.get(&demo(&app, &with("/api/user/", FRED))).await.json();
    assert_eq!(r["user_display_name"], "Fred Cuadrado");
    assert_eq!(r["user_email"], "fred@example.net");
    assert_eq!(r["user_backoffice_access"], true);
    assert_eq!(r["user_admin_access"], false);
}

#[tokio::test]
async fn forms_without_a_user_answer_missing_user_with_http_200() {
    let app = TestApp::new();
    for url in [
        "/api/user/forms".to_string(),
        demo(&app, "/api/user/forms"),
        demo(&app, "/api/user/drafts?email="),
    ] {
        let r = app.get(&url).await;
        assert_eq!(r.status, StatusCode::OK, "{url}");
        assert_eq!(
            r.text(),
            r#"{"err": 1, "err_class": "Access denied", "err_code": "missing-user", "err_desc": "No user specified."}"#
        );
    }
}

#[tokio::test]
async fn forms_with_an_unknown_name_id_answer_with_http_200() {
    let app = TestApp::new();
    for path in ["/api/user/forms?NameID=xxx", "/api/user/drafts?NameID=xxx"] {
        let r = app.get(&demo(&app, path)).await;
        assert_eq!(r.status, StatusCode::OK);
        assert_eq!(
            r.json(),
            json!({"err": 1, "err_class": "Access denied", "err_code": "unknown-name-id", "err_desc": "Unknown NameID."})
        );
    }
}

#[tokio::test]
async fn forms_with_an_unknown_email_are_a_403() {
    let app = TestApp::new();
    let r = app.get(&demo(&app, "/api/user/forms?email=x%40y")).await;
    assert_denied(&r, "Unknown email.");
}

const JEAN: &str = "NameID=0123456789";

#[tokio::test]
async fn forms_leave_drafts_and_drafts_of_disabled_forms_out_unless_included() {
    let app = TestApp::new();
    let r = app.get(&demo(&app, &with("/api/user/forms", JEAN))).await;
    assert_eq!(numbers(&r), ["1005", "1001", "1002", "1003"]);
    let r = app
        .get(&demo(
            &app,
            &with("/api/user/forms?include-drafts=true", JEAN),
        ))
        .await;
    assert_eq!(numbers(&r), ["1005", "1001", "1002", "1003", "1004"]);
    let r = app
        .get(&demo(
            &app,
            &with("/api/user/forms?include-drafts=off", JEAN),
        ))
        .await;
    assert_eq!(numbers(&r).len(), 4);
    let r = app.get(&demo(&app, &with("/api/user/drafts", JEAN))).await;
    assert_eq!(numbers(&r), ["1004"]);
}

#[tokio::test]
async fn a_listing_asked_again_is_the_same_until_the_data_changes() {
    let app = TestApp::new();
    let path = with("/api/user/forms", JEAN);
    let first = app.get(&demo(&app, &path)).await;
    let again = app.get(&demo(&app, &path)).await;
    assert_eq!(numbers(&first), ["1005", "1001", "1002", "1003"]);
    assert_eq!(again.status, StatusCode::OK);
    assert_eq!(again.text(), first.text());
    let deleted = delete(&app, "/__doublure/wcs/forms/1005").await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT, "{}", deleted.text());
    let after = app.get(&demo(&app, &path)).await;
    assert_eq!(numbers(&after), ["1001", "1002", "1003"]);
    // Another query of the same user is another listing.
    let two = app
        .get(&demo(&app, &with("/api/user/forms?limit=2", JEAN)))
        .await;
    assert_eq!(numbers(&two), ["1001", "1002"]);
}

#[tokio::test]
async fn full_on_adds_the_export_and_only_the_exact_value_on() {
    let app = TestApp::new();
    let r = app
        .get(&demo(
            &app,
            &with("/api/user/forms?full=on&category_slugs=etat-civil", JEAN),
        ))
        .await;
    let item = &r.json()["data"][0];
    assert_eq!(
        item["fields"],
        json!({"prenom": "L\u{e9}a", "date": "2020-01-15", "email": "foo@localhost"})
    );
    assert_eq!(item["id"], "1001");
    assert_eq!(item["receipt_time"], "2025-11-02T09:12:00");
    assert_eq!(item["last_update_time"], "2025-11-02T09:12:00");
    assert_eq!(
        item["api_url"],
        "http://localhost:8080/api/forms/acte-de-naissance/1001/"
    );
    assert_eq!(
        item["user"],
        json!({"id": 5, "name": "Jean Darmette", "email": "jean.darmette@triffouilis.fr", "NameID": ["0123456789", "xyz"]})
    );
    assert_eq!(
        item["text"],
        "Acte de naissance #5-1001 (Naissance de L\u{e9}a)"
    );
    assert_eq!(item["form_tracking_code"], "RLDHTQWX");
    assert_eq!(item["keywords"], json!(["hello", "world"]));
    let r = app
        .get(&demo(&app, &with("/api/user/forms?full=true", JEAN)))
        .await;
    assert!(r.json()["data"][0].get("fields").is_none());
    let same = app
        .get(&demo(
            &app,
            &with("/api/user/forms?&full=on&category_slugs=etat-civil", JEAN),
        ))
        .await;
    assert_eq!(same.json()["data"][0]["fields"], item["fields"]);
}

#[tokio::test]
async fn include_accessible_adds_forms_of_others_concerning_the_user() {
    let app = TestApp::new();
    let r = app
        .get(&demo(
            &app,
            &with("/api/user/forms?include-accessible=on", FRED),
        ))
        .await;
    assert_eq!(numbers(&r), ["456", "424", "123", "1002", "1008"]);
    assert_eq!(r.json()["data"][4]["readable"], true);
}

fn readable(r: &TestResponse) -> Vec<(String, bool)> {
    r.json()["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["form_number_raw"].as_str().unwrap().to_owned(),
                i["readable"].as_bool().unwrap(),
            )
        })
        .collect()
}

/// As in w.c.s., `include-accessible=on` on `/api/users/<x>/forms`
/// adds the forms concerning x whoever asks; the caller's roles only set
/// `readable`.
#[tokio::test]
async fn include_accessible_works_for_the_user_an_agent_and_basic_auth() {
    let app = TestApp::new();
    let path = "/api/users/1/forms?include-accessible=on";
    let all = ["456", "424", "123", "1002", "1008"];
    let r = app.get(&demo(&app, &with(path, FRED))).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(readable(&r), all.map(|n| (n.to_owned(), true)));
    // Éloïse (Service urbanisme) reads only 424, which concerns her role.
    let as_eloise = all.map(|n| (n.to_owned(), n == "424"));
    let r = app
        .get(&demo(
            &app,
            &with(path, "email=eloise.duboeuf%40example.net"),
        ))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(readable(&r), as_eloise);
    // Her password alone is no way in: w.c.s. wants a signature, an admin
    // or an API access.
    let eloise = basic("eloise.duboeuf@example.net", "eloise-password");
    assert_denied(
        &app.get_with(path, &[("authorization", &eloise)]).await,
        "Unsigned request or user has no access to backoffice.",
    );
    // Basic auth with the agents API access (Guichet): listed, none readable.
    let agents = basic("agents", "agents-secret");
    let r = app.get_with(path, &[("authorization", &agents)]).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(readable(&r), all.map(|n| (n.to_owned(), false)));
    // Without the flag, only Fred's own forms.
    let r = app
        .get_with("/api/users/1/forms", &[("authorization", &agents)])
        .await;
    assert_eq!(numbers(&r), ["456", "424", "123"]);
}

#[tokio::test]
async fn the_status_filter_keeps_open_or_done_forms_and_refuses_other_values() {
    let app = TestApp::new();
    let get = |q: &str| demo(&app, &with(&format!("/api/user/forms?{q}"), FRED));
    assert_eq!(
        numbers(&app.get(&get("status=all")).await),
        ["456", "424", "123"]
    );
    assert_eq!(
        numbers(&app.get(&get("status=")).await),
        ["456", "424", "123"]
    );
    assert_eq!(numbers(&app.get(&get("status=open")).await), ["456", "123"]);
    assert_eq!(numbers(&app.get(&get("status=done")).await), ["424"]);
    let r = app.get(&get("status=closed")).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        r.json(),
        json!({"err": 1, "err_class": "Invalid request", "err_code": "invalid-request", "err_desc": "Invalid status parameter value."})
    );
}

#[tokio::test]
async fn category_slugs_filter_forms_and_drafts() {
    let app = TestApp::new();
    let get = |p: &str, q: &str| demo(&app, &with(&format!("{p}?category_slugs={q}"), FRED));
    assert_eq!(
        numbers(&app.get(&get("/api/user/forms", "divers")).await),
        ["123"]
    );
    assert_eq!(
        numbers(&app.get(&get("/api/user/forms", "divers,unknown")).await),
        ["123"]
    );
    assert_eq!(
        numbers(
            &app.get(&get("/api/user/forms", "divers,,prise-de-rendez-vous"))
                .await
        ),
        ["456", "123"]
    );
    assert_eq!(
        numbers(&app.get(&get("/api/user/forms", "unknown")).await),
        Vec::<String>::new()
    );
    assert_eq!(
        numbers(&app.get(&get("/api/user/drafts", "divers")).await),
        ["164"]
    );
    assert_eq!(
        numbers(&app.get(&get("/api/user/drafts", "etat-civil")).await),
        Vec::<String>::new()
    );
}

#[tokio::test]
async fn sort_limit_and_offset_page_the_forms() {
    let app = TestApp::new();
    let get = |q: &str| demo(&app, &with(&format!("/api/user/forms?{q}"), FRED));
    assert_eq!(
        numbers(&app.get(&get("sort=desc")).await),
        ["123", "424", "456"]
    );
    assert_eq!(
        numbers(&app.get(&get("sort=DESC")).await),
        ["456", "424", "123"]
    );
    assert_eq!(numbers(&app.get(&get("limit=2")).await), ["456", "424"]);
    assert_eq!(numbers(&app.get(&get("limit=2&offset=2")).await), ["123"]);
    assert_eq!(numbers(&app.get(&get("limit=1&sort=desc")).await), ["123"]);
    // What Python's int() takes and refuses, underscores included.
    assert_eq!(numbers(&app.get(&get("limit=+0_2")).await), ["456", "424"]);
    assert_eq!(numbers(&app.get(&get("limit=%201%20")).await), ["456"]);
    for bad in [
        "limit=",
        "limit=ten",
        "offset=1.5",
        "limit=_1",
        "limit=1_",
        "limit=1__0",
        "offset=-_1",
    ] {
        let r = app.get(&get(bad)).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{bad}");
        assert_eq!(
            r.json(),
            json!({"err": 1, "err_class": "Invalid request", "err_code": "invalid-request", "err_desc": null})
        );
    }
}

#[tokio::test]
async fn related_keeps_forms_referencing_an_object_and_ignores_malformed_values() {
    let app = TestApp::new();
    let get = |q: &str| demo(&app, &with(&format!("/api/user/forms?related={q}"), JEAN));
    assert_eq!(
        numbers(&app.get(&get("carddef:logements:12")).await),
        ["1001", "1003"]
    );
    assert_eq!(
        numbers(&app.get(&get("formdef:demande-d-inscription:1002")).await),
        ["1003"]
    );
    for q in ["foo", "foo:foo", "carddef:test:42"] {
        let r = app.get(&get(q)).await;
        assert_eq!(r.status, StatusCode::OK);
        assert_eq!(r.text(), r#"{"err": 0, "data": []}"#);
    }
}

#[tokio::test]
async fn a_hidden_status_gives_a_null_status_and_an_unknown_title() {
    let app = TestApp::new();
    let r = app
        .get(&demo(
            &app,
            &with(
                "/api/user/forms?related=formdef:demande-d-inscription:1002",
                JEAN,
            ),
        ))
        .await;
    let item = &r.json()["data"][0];
    assert_eq!(item["status"], Value::Null);
    assert_eq!(item["form_status"], "V\u{e9}rification interne");
    assert_eq!(item["title"], "Changement d'adresse #3-1003 (unknown)");
}

// ---- /api/users/<x>/ ----

#[tokio::test]
async fn a_bound_user_is_found_by_id_or_name_id() {
    let app = TestApp::new();
    let r = app.get(&demo(&app, "/api/users/5/")).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json()["user_display_name"], "Jean Darmette");
    let r = app.get(&demo(&app, "/api/users/xyz/")).await;
    assert_eq!(r.json()["id"], 5);
    let r = app.get(&demo(&app, "/api/users/nope/")).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(
        r.json(),
        json!({"err": 1, "err_class": "Page not found", "err_code": "not-found", "err_desc": null})
    );
}

#[tokio::test]
async fn a_bound_user_needs_a_signature_an_admin_or_an_api_access() {
    let app = TestApp::new();
    assert_denied(
        &app.get("/api/users/5/").await,
        "Unsigned request or user has no access to backoffice.",
    );
    let chloe = basic("chloe.bernard@example.net", "chloe-password");
    assert_denied(
        &app.get_with("/api/users/5/", &[("authorization", &chloe)])
            .await,
        "Unsigned request or user has no access to backoffice.",
    );
    let alice = basic("alice.martin@example.net", "alice-password");
    let r = app
        .get_with("/api/users/5/", &[("authorization", &alice)])
        .await;
    assert_eq!(r.json()["id"], 5);
    let api = basic("demo", "demo-secret");
    assert_eq!(
        app.get_with("/api/users/xyz/", &[("authorization", &api)])
            .await
            .json()["id"],
        5
    );
    let stats = basic("stats", "stats-secret");
    assert_denied(
        &app.get_with("/api/users/5/", &[("authorization", &stats)])
            .await,
        "Restricted API access.",
    );
}

#[tokio::test]
async fn a_bound_users_forms_signed_without_a_user_are_all_readable() {
    let app = TestApp::new();
    let mine = app.get(&demo(&app, &with("/api/user/forms", JEAN))).await;
    let bound = app.get(&demo(&app, "/api/users/5/forms")).await;
    assert_eq!(mine.status, StatusCode::OK, "{}", mine.text());
    assert_eq!(numbers(&mine), ["1005", "1001", "1002", "1003"]);
    assert_eq!(mine.text(), bound.text());
    let drafts = app.get(&demo(&app, "/api/users/0123456789/drafts")).await;
    assert_eq!(numbers(&drafts), ["1004"]);
}

#[tokio::test]
async fn the_cross_user_rule_needs_backoffice_access_and_filters_by_roles() {
    let app = TestApp::new();
    // Chloé has no backoffice access.
    let r = app
        .get(&demo(
            &app,
            "/api/users/5/forms?email=chloe.bernard%40example.net",
        ))
        .await;
    assert_denied(&r, "User not allowed to query data from other users.");
    // Fred (Accueil) reads 1002; 1001 is hidden (skip_from_360_view), 1003
    // and 1005 are listed unreadable.
    let r = app
        .get(&demo(&app, &with("/api/users/5/forms", FRED)))
        .await;
    let readable: Vec<(String, bool)> = r.json()["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["form_number_raw"].as_str().unwrap().to_owned(),
                i["readable"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        readable,
        [
            ("1005".into(), false),
            ("1002".into(), true),
            ("1003".into(), false)
        ]
    );
    // The agents API access (Guichet) reads the birth certificate.
    let r = app
        .get(&sign(
            &app,
            "/api/users/5/forms",
            "agents",
            "agents-secret",
            "sha256",
        ))
        .await;
    assert_eq!(numbers(&r), ["1005", "1001", "1002", "1003"]);
    assert_eq!(r.json()["data"][1]["readable"], true);
    // Basic auth with an API access without roles: the skipped form goes.
    let r = app
        .get_with(
            "/api/users/5/forms",
            &[("authorization", &basic("demo", "demo-secret"))],
        )
        .await;
    assert_eq!(numbers(&r), ["1005", "1002", "1003"]);
    // The same user asking for himself is no cross-user call.
    let r = app
        .get(&demo(&app, &with("/api/users/1/forms", FRED)))
        .await;
    assert_eq!(numbers(&r), ["456", "424", "123"]);
}

// ---- /api/users/ ----

fn names(r: &TestResponse) -> Vec<String> {
    r.json()["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["user_display_name"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn the_users_directory_needs_a_signature_or_a_backoffice_submitter() {
    let app = TestApp::new();
    assert_denied(
        &app.get("/api/users/").await,
        "Unauthenticated/unsigned request or no access to users.",
    );
    let demo_basic = basic("demo", "demo-secret");
    assert_denied(
        &app.get_with("/api/users/", &[("authorization", &demo_basic)])
            .await,
        "Unauthenticated/unsigned request or no access to users.",
    );
    let agents = basic("agents", "agents-secret");
    assert_eq!(
        app.get_with("/api/users/?limit=1", &[("authorization", &agents)])
            .await
            .status,
        StatusCode::OK
    );
    // As in w.c.s., a backoffice role (Éloïse's Service urbanisme)
    // is not enough without a backoffice-submission role.
    let eloise = basic("eloise.duboeuf@example.net", "eloise-password");
    assert_denied(
        &app.get_with("/api/users/", &[("authorization", &eloise)])
            .await,
        "Unauthenticated/unsigned request or no access to users.",
    );
    let paul = basic("paul.durand@example.org", "paul-password");
    assert_eq!(
        app.get_with("/api/users/?limit=1", &[("authorization", &paul)])
            .await
            .status,
        StatusCode::OK
    );
    let r = app
        .get(&demo(&app, "/api/users/?NameID=bruno-nameid"))
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(r.json()["err_code"], "unknown-name-id");
}

/// The seed's fourth call, `curl -H "Accept: application/json"
/// .../api/users/?q=fred`, signed with `demo`: upstream's body (see
/// docs/fidelity.md, "The seed's /api/users/ body"), holding every key the
/// seed shows.
#[tokio::test]
async fn the_seed_pages_users_call_returns_every_field_it_shows() {
    let app = TestApp::new();
    let r = app
        .get_with(
            &demo(&app, "/api/users/?q=fred"),
            &[("accept", "application/json")],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.header("content-type"), "application/json");
    let item = &r.json()["data"][0];
    assert_eq!(item["user_display_name"], "Fred Cuadrado");
    assert_eq!(item["user_email"], "fred@example.net");
    assert_eq!(item["user_backoffice_access"], true);
    assert_eq!(item["user_admin_access"], false);
    assert_eq!(
        r.text(),
        concat!(
            r#"{"data": [{"user_display_name": "Fred Cuadrado", "user_email": "fred@example.net", "#,
            r#""user_fphone": "0102030405", "user_field_phone": "0102030405", "user_var_phone": "0102030405", "#,
            r#""user_faddress": "12 rue des Lilas", "user_field_address": "12 rue des Lilas", "user_var_address": "12 rue des Lilas", "#,
            r#""user_fzipcode": "75011", "user_field_zipcode": "75011", "user_var_zipcode": "75011", "#,
            r#""user_fcity": "PARIS", "user_field_city": "PARIS", "user_var_city": "PARIS", "#,
            r#""user_admin_access": false, "user_backoffice_access": true, "#,
            r#""user_nameid": "8c1e1b4a5b7d4e0f9a2b3c4d5e6f7a8b", "user_name_identifier_0": "8c1e1b4a5b7d4e0f9a2b3c4d5e6f7a8b", "#,
            r#""user_id": 1, "user_roles": [{"name": "Accueil", "text": "Accueil", "allows_backoffice_access": true, "#,
            r#""emails": ["accueil@example.net"], "details": "", "emails_to_members": false, "slug": "accueil", "id": "1"}], "#,
            r#""id": 1, "text": "Fred Cuadrado", "#,
            r#""description": "fred@example.net\n \ud83d\udcde 0102030405\n\n \ud83d\udce8\n 12 rue des Lilas\n 75011\n PARIS"}], "err": 0}"#
        )
    );
}

#[tokio::test]
async fn an_api_access_restricted_to_anonymised_data_may_not_list_users() {
    let app = TestApp::new();
    let stats = basic("stats", "stats-secret");
    let r = app
        .get_with("/api/users/?q=fred", &[("authorization", &stats)])
        .await;
    assert_denied(&r, "Restricted API access.");
}

#[tokio::test]
async fn the_users_directory_lists_non_deleted_users_by_name() {
    let app = TestApp::new();
    let r = app.get(&demo(&app, "/api/users/")).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(
        r.text()
            .starts_with(r#"{"data": [{"user_display_name": "sans.nom@example.org""#)
    );
    let all = names(&r);
    assert_eq!(all.len(), 11);
    assert!(!all.contains(&"Bruno Effac\u{e9}".to_string()));
    assert!(all.contains(&"In\u{e8}s Lef\u{e8}vre".to_string()));
    assert_eq!(&all[1..3], ["Alice Martin", "Chlo\u{e9} Bernard"]);
}

#[tokio::test]
async fn q_matches_names_unaccented_names_emails_name_ids_and_profile_fields() {
    let app = TestApp::new();
    let q = |v: &str| demo(&app, &format!("/api/users/?q={v}"));
    assert_eq!(
        names(&app.get(&q("jean")).await),
        ["Jean Darmette", "Jean S\u{e9}nisme"]
    );
    assert_eq!(names(&app.get(&q("senisme")).await), ["Jean S\u{e9}nisme"]);
    assert_eq!(
        names(&app.get(&q("s%C3%A9nisme")).await),
        ["Jean S\u{e9}nisme"]
    );
    assert_eq!(
        names(&app.get(&q("FRED%40EXAMPLE")).await),
        ["Fred Cuadrado"]
    );
    assert_eq!(names(&app.get(&q("xyz")).await), ["Jean Darmette"]);
    assert_eq!(names(&app.get(&q("HELLO")).await), ["Jean Darmette"]);
    assert_eq!(names(&app.get(&q("bruno")).await), Vec::<String>::new());
    assert_eq!(names(&app.get(&q("foobar")).await), Vec::<String>::new());
}

#[tokio::test]
async fn roles_and_limit_filter_the_directory() {
    let app = TestApp::new();
    let r = app.get(&demo(&app, "/api/users/?roles=1,2")).await;
    assert_eq!(
        names(&r),
        ["\u{c9}lo\u{ef}se Dub\u{153}uf", "Fred Cuadrado"]
    );
    let r = app.get(&demo(&app, "/api/users/?q=jean&limit=1")).await;
    assert_eq!(names(&r), ["Jean Darmette"]);
    let r = app.get(&demo(&app, "/api/users/?limit=x")).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn a_directory_item_has_the_upstream_keys_and_description() {
    let app = TestApp::new();
    let r = app.get(&demo(&app, "/api/users/?q=darmette")).await;
    let item = &r.json()["data"][0];
    assert_eq!(item["user_id"], 5);
    assert_eq!(item["id"], 5);
    assert_eq!(item["text"], "Jean Darmette");
    assert_eq!(
        item["description"],
        "jean.darmette@triffouilis.fr\n \u{1f4de} 0505050505\n \u{1f4f1} 0606060606\n \u{1f4e8}\n rue du Chateau\n 75014\n PARIS"
    );
    let keys: Vec<&str> = item
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        &keys[keys.len() - 5..],
        ["user_id", "user_roles", "id", "text", "description"]
    );
}

#[tokio::test]
async fn absolute_urls_follow_the_public_url_and_the_journal_says_why() {
    let app = TestApp::new();
    let r = app
        .get(&demo(&app, &with("/api/user/forms?limit=1", FRED)))
        .await;
    assert_eq!(
        r.json()["data"][0]["url"],
        "http://localhost:8080/rendez-vous-service-b/456/"
    );
    let journal = app.get("/__doublure/requests").await.json();
    assert_eq!(
        journal["requests"][0]["outcome"],
        "signed by demo (sha256): user fred@example.net: 1 forms"
    );
}

#[tokio::test]
async fn a_nonce_that_simplifies_to_nothing_is_still_used_once() {
    let app = TestApp::new();
    let signed = |nonce: &str| demo_with_nonce(&app, &with("/api/user/", FRED), nonce);
    let url = signed("!!!");
    assert!(url.contains("&nonce=%21%21%21&"), "{url}");
    assert_eq!(app.get(&url).await.status, StatusCode::OK);
    assert_denied(&app.get(&url).await, "Nonce already used.");
    // Upstream's token key is the simplified nonce: "???" is "" too.
    assert_denied(&app.get(&signed("???")).await, "Nonce already used.");
    assert_eq!(app.state.wcs.runtime.nonce_count(), 1);
}

#[tokio::test]
async fn a_reset_forgets_used_nonces() {
    let app = TestApp::new();
    let url = sign_url(
        &with("/api/user/", FRED),
        "demo",
        "demo-secret",
        "sha256",
        app.state.clock.now(),
        Some("beef"),
    )
    .unwrap();
    assert_eq!(app.get(&url).await.status, StatusCode::OK);
    assert_denied(&app.get(&url).await, "Nonce already used.");
    post_empty(&app, "/__doublure/reset").await;
    assert_eq!(app.get(&url).await.status, StatusCode::OK);
}

// ---- control plane and fixture checks ----

#[tokio::test]
async fn a_user_created_through_the_control_plane_can_be_signed_for() {
    let app = TestApp::new();
    let r = post(
        &app,
        "/__doublure/wcs/users",
        json!({"id": 42, "name": "Nouvelle Personne", "email": "nouvelle@example.org"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let r = app
        .get(&demo(&app, "/api/user/?email=nouvelle%40example.org"))
        .await;
    assert_eq!(r.json()["id"], 42);
    let r = post(&app, "/__doublure/wcs/forms", json!({"id": 77, "formdef_id": "1", "user_id": 42, "status": "nope", "receipt_time": "2026-01-01 00:00:00"})).await;
    assert_json(
        &r,
        StatusCode::BAD_REQUEST,
        json!({
            "error": "invalid data: nothing was changed",
            "problems": [
                "state/wcs/forms.json: item 16 (id 77): field status: unknown status \"nope\" (form definition 1 has \"new\", \"accepted\", or \"draft\")"
            ]
        }),
    );
}

#[tokio::test]
async fn a_browser_preflight_on_a_wcs_route_is_allowed() {
    let app = TestApp::new();
    for path in ["/api/user/", "/api/users/", "/api/user/forms", "/user"] {
        let r = app
            .send(
                axum::http::Request::builder()
                    .method("OPTIONS")
                    .uri(path)
                    .header("origin", "http://front.test")
                    .header("access-control-request-method", "GET")
                    .header("access-control-request-headers", "authorization")
                    .body(axum::body::Body::empty())
                    .unwrap(),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{path}");
        assert_eq!(r.header("access-control-allow-origin"), "*", "{path}");
    }
}

#[tokio::test]
async fn preferences_take_a_small_json_object_from_a_known_user() {
    let app = TestApp::new();
    let r = app.get("/api/user/preferences").await;
    assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED);
    let r = post(&app, "/api/user/preferences", json!({"a": "b"})).await;
    assert_denied(&r, "User not authenticated.");
    let url = demo(&app, &with("/api/user/preferences", FRED));
    let r = post(&app, &url, json!({"a": "b"})).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.text(), r#"{"err": 0}"#);
    let r = post(&app, &url, json!({"a": "b".repeat(2000)})).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        r.json(),
        json!({"err": 1, "err_class": "Invalid request", "err_code": "invalid-request", "err_desc": "Too much data."})
    );
    let r = app
        .json(
            "POST",
            &demo(&app, "/api/users/5/preferences"),
            Some(json!({"x": 1})),
            &[],
        )
        .await;
    assert_eq!(r.text(), r#"{"err": 0}"#);
}

#[tokio::test]
async fn a_bound_user_with_a_malformed_escape_is_not_found() {
    let app = TestApp::new();
    let r = app.get(&demo(&app, "/api/users/%ff%fe/forms")).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(r.json()["err_code"], "not-found");
    let r = app.get(&demo(&app, "/api/users/marc-andre-nameid/")).await;
    assert_eq!(
        r.json()["user_display_name"],
        "Marc-Andr\u{e9} C\u{f4}t\u{e9}"
    );
}
