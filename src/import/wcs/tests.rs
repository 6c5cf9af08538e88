//! Tests of the w.c.s. import: times, what is derived from a listing, and
//! the errors that name request, item and field.

use serde_json::{Value, json};

use super::derive::numeric_order;
use super::items::fixture_time;
use super::*;

#[test]
fn times_are_read_in_either_of_the_apis_formats() {
    assert_eq!(
        fixture_time("2014-03-28 15:36:52").as_deref(),
        Some("2014-03-28 15:36:52")
    );
    assert_eq!(
        fixture_time("2014-03-28T15:36:52.123456+01:00").as_deref(),
        Some("2014-03-28 15:36:52")
    );
    assert_eq!(fixture_time("28/03/2014"), None);
}

fn args() -> WcsArgs {
    WcsArgs {
        url: "https://w.example".into(),
        orig: "o".into(),
        key: crate::import::Secret::new("k"),
        output: crate::import::OutputArgs {
            out: "d".into(),
            anonymize: false,
            limits: crate::import::Limits::default(),
        },
    }
}

/// A full listing item of form `id` of definition `slug`.
fn item(slug: &str, id: i64, number: &str, status: Value) -> Value {
    json!({
        "name": format!("Form {slug}"), "form_slug": slug, "form_name": format!("Form {slug}"),
        "form_number": number, "form_number_raw": id.to_string(), "datetime": "2024-01-02 03:04:05",
        "draft": false, "form_status": "x",
        "workflow": {"status": status.clone(), "real_status": status},
        "roles": {"concerned": [{"type": "role", "id": "_user:99"}, {"type": "role", "id": 7, "name": "Agents", "slug": "agents"}]}
    })
}

#[test]
fn what_only_a_real_instance_shows_is_derived_too() {
    // Arrange: an unnamed user, profile fields with upstream's derived
    // keys, two definitions numbering their forms from 1, a custom
    // number, a status with the drafts' id, a concerned unknown user.
    let status = json!({"id": "draft", "name": "Brouillon validé", "endpoint": true});
    let fetched = Fetched {
        base: "https://w.example".into(),
        directory_what: "GET d".into(),
        directory: vec![json!({
            "user_display_name": "a@b.example", "user_email": "a@b.example",
            "user_var_birth": "1980-01-02", "user_var_birth_raw": [1980, 1, 2],
            "user_var_web_url": "https://x", "user_name_identifier_0": "n0",
            "user_name_identifier_1": "n1", "id": 3, "user_roles": []
        })],
        listings: vec![Listings {
            user_id: 3,
            forms_what: "GET f".into(),
            forms: vec![
                item("a", 1, "10-1", status.clone()),
                item("b", 1, "11-1", status.clone()),
                item("b", 2, "B-0002", status),
            ],
            drafts_what: "GET d".into(),
            drafts: vec![],
        }],
        notes: vec![],
    };

    // Act
    let derived = derive(&fetched, &args()).unwrap();

    // Assert
    let file = |name: &str| {
        derived
            .files
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.clone())
            .unwrap()
    };
    assert_eq!(
        file("wcs/users.json"),
        json!([{"id": 3, "email": "a@b.example", "name_identifiers": ["n0", "n1"],
                "fields": {"birth": "1980-01-02", "web_url": "https://x"}}])
    );
    assert_eq!(
        file("wcs/formdefs.json"),
        json!([
            {"id": "10", "name": "Form a", "slug": "a", "statuses": [{"id": "draft-status", "name": "Brouillon validé", "endpoint": true}]},
            {"id": "11", "name": "Form b", "slug": "b", "statuses": [{"id": "draft-status", "name": "Brouillon validé", "endpoint": true}]}
        ])
    );
    let forms = file("wcs/forms.json");
    let summary: Vec<Value> = forms
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            json!([
                f["id"],
                f["formdef_id"],
                f.get("display_id"),
                f["concerned_roles"]
            ])
        })
        .collect();
    assert_eq!(
        summary,
        [
            json!([1, "10", null, ["7"]]),
            json!([2, "11", "B-0002", ["7"]]),
            json!([3, "11", "11-1", ["7"]]),
        ]
    );
    assert_eq!(
        file("wcs/roles.json"),
        json!([{"id": "7", "name": "Agents", "slug": "agents", "allows_backoffice_access": false,
                "emails": [], "details": "", "emails_to_members": false}])
    );
    assert_eq!(
        derived.notes,
        [
            "forms sharing their id with a form of another form definition got new ids: 1 \
          (their numbers are kept, their URLs change)"
        ]
    );
}

#[test]
fn a_malformed_form_is_named_by_request_item_and_field() {
    let mut fetched = Fetched {
        base: "b".into(),
        directory_what: "GET d".into(),
        directory: vec![json!({"id": 3})],
        listings: vec![Listings {
            user_id: 3,
            forms_what: "GET https://w.example/api/users/3/forms?full=on&include-drafts=on".into(),
            forms: vec![item("a", 1, "1-1", json!({"id": "new", "name": "N"}))],
            drafts_what: "GET d".into(),
            drafts: vec![],
        }],
        notes: vec![],
    };
    fetched.listings[0].forms[0]["datetime"] = json!("hier");
    let err = derive(&fetched, &args()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "unexpected answer to GET https://w.example/api/users/3/forms?full=on&include-drafts=on: \
         item 1 (id 1): field datetime: \"hier\" is not a time like \"2014-03-28 15:36:52\""
    );
}

#[test]
fn ids_sort_as_numbers_first() {
    let mut ids = vec!["10", "b", "2", "a", "1"];
    ids.sort_by(|a, b| numeric_order(a, b));
    assert_eq!(ids, ["1", "2", "10", "a", "b"]);
}

#[test]
fn a_field_of_the_wrong_type_is_named_by_its_path() {
    let fetched = Fetched {
        base: "b".into(),
        directory_what: "GET d".into(),
        directory: vec![json!({"id": 3, "user_roles": [{"id": 7, "emails": ["a@b.example", 5]}]})],
        listings: vec![],
        notes: vec![],
    };
    let err = derive(&fetched, &args()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "unexpected answer to GET d, item 1 (id 3), field user_roles: item 1 (id 7): \
         field emails[1]: invalid type: integer `5`, expected a string"
    );
}
