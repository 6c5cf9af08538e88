//! Tests of loading, checking and indexing the w.c.s. data.

use super::*;
use crate::store::{FixtureFiles, Problems};

#[test]
fn the_builtin_fixtures_load_and_export_round_trips() {
    let files = FixtureFiles::compiled_in(BUILTIN_FILES);
    let mut problems = Problems::default();
    let data = WcsData::load(&files, &mut problems);
    assert!(problems.is_empty(), "{problems}");
    let map = data
        .export()
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_string()))
        .collect();
    let again = WcsData::load(&FixtureFiles::from_map("x", map), &mut problems);
    assert!(problems.is_empty(), "{problems}");
    assert_eq!(again.users, data.users);
    assert_eq!(again.forms, data.forms);
    assert_eq!(again.formdefs, data.formdefs);
}

#[test]
fn a_form_of_an_unknown_user_and_status_is_reported() {
    let mut map: std::collections::BTreeMap<String, String> = BUILTIN_FILES
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    map.insert(
        "wcs/forms.json".into(),
        r#"[{"id": 1, "formdef_id": "1", "user_id": 99, "status": "nope", "receipt_time": "2020-01-01 00:00:00"}]"#.into(),
    );
    let mut problems = Problems::default();
    WcsData::load(&FixtureFiles::from_map("d", map), &mut problems);
    let text = problems.to_string();
    assert!(
        text.contains("d/wcs/forms.json: item 1 (id 1): field status: unknown status \"nope\""),
        "{text}"
    );
    assert!(text.contains("field user_id: unknown user 99"), "{text}");
}

#[test]
fn every_broken_reference_and_duplicate_is_reported() {
    let mut map = std::collections::BTreeMap::new();
    map.insert(
        "wcs/roles.json".to_string(),
        r#"[{"id": "1", "name": "A", "slug": "a"}]"#.to_string(),
    );
    map.insert("wcs/categories.json".into(), "[]".into());
    map.insert(
        "wcs/formdefs.json".into(),
        r#"[{"id": "1", "name": "F", "slug": "f", "category_id": "9", "backoffice_submission_roles": ["8"], "statuses": [{"id": "new", "name": "N"}, {"id": "new", "name": "N"}]}]"#.into(),
    );
    map.insert(
        "wcs/users.json".into(),
        r#"[{"id": 1, "roles": ["7"]}, {"id": 1}, {"id": 2, "nickname": "x"}]"#.into(),
    );
    map.insert(
        "wcs/api_accesses.json".into(),
        r#"[{"access_identifier": "a", "access_key": "k", "roles": ["6"]}]"#.into(),
    );
    map.insert(
        "wcs/forms.json".into(),
        r#"[{"id": 1, "formdef_id": "2", "status": "new", "receipt_time": "yesterday", "concerned_roles": ["_user:99", "5"]}]"#.into(),
    );
    let mut problems = Problems::default();
    WcsData::load(&FixtureFiles::from_map("d", map), &mut problems);
    let text = problems.to_string();
    for expected in [
        "d/wcs/users.json: item 2 (id 1): id 1 is already used by item 1",
        "d/wcs/users.json: item 3 (id 2): field nickname: unknown field `nickname`",
        "d/wcs/users.json: item 1 (id 1): field roles: unknown role \"7\"",
        "d/wcs/formdefs.json: item 1 (id 1): field category_id: unknown category \"9\"",
        "field backoffice_submission_roles: unknown role \"8\"",
        "field statuses: status id \"new\" is repeated",
        "d/wcs/api_accesses.json: item 1 (id a): field roles: unknown role \"6\"",
        "d/wcs/forms.json: item 1 (id 1): field formdef_id: unknown form definition \"2\"",
        "field receipt_time: \"yesterday\" is not a time",
        "field concerned_roles: unknown role \"_user:99\"",
        "field concerned_roles: unknown role \"5\"",
    ] {
        assert!(text.contains(expected), "{expected}\n---\n{text}");
    }
}

#[test]
fn generated_users_and_forms_are_added_and_checked() {
    let mut problems = Problems::default();
    let mut data = WcsData::load(&FixtureFiles::compiled_in(BUILTIN_FILES), &mut problems);
    let mut u = (*data.users[0]).clone();
    u.id = 5000;
    let mut f = (*data.forms[0]).clone();
    f.id = 9000;
    f.user_id = Some(5000);
    data.add_generated(vec![u.clone()], vec![f]).unwrap();
    assert_eq!(data.index.forms_by_user[&5000].len(), 1);
    let err = data.add_generated(vec![u.clone()], vec![]).unwrap_err();
    assert_eq!(data.users.len(), 13);
    let mut bad = (*data.forms[0]).clone();
    bad.id = 9001;
    bad.formdef_id = "nope".into();
    let err2 = data.add_generated(vec![], vec![bad]).unwrap_err();
    assert!(
        err2.to_string()
            .contains("unknown form definition \"nope\""),
        "{err2}"
    );
    assert!(err.to_string().contains("id 5000 is already used"));
}

#[test]
fn a_hundred_thousand_generated_users_are_indexed() {
    let mut problems = Problems::default();
    let mut data = WcsData::load(&FixtureFiles::compiled_in(BUILTIN_FILES), &mut problems);
    let template = (*data.users[0]).clone();
    let users: Vec<User> = (0..100_000)
        .map(|n| User {
            id: 100_000 + n,
            name: format!("Gén {n:06}"),
            email: Some(format!("gen{n}@example.org")),
            name_identifiers: vec![format!("gen-{n}")],
            ..template.clone()
        })
        .collect();
    data.add_generated(users, vec![]).unwrap();
    let i = data.index.user_by_email["gen99999@example.org"];
    assert_eq!(data.users[i].name, "Gén 099999");
    assert_eq!(
        data.index.user_by_name_id["gen-5"],
        data.index.user_by_id[&100_005]
    );
}

/// The indexes as a rebuild from scratch makes them.
fn rebuilt(data: &WcsData) -> WcsData {
    let mut again = data.clone();
    again.reindex_users();
    again
}

fn assert_indexes_as_rebuilt(data: &WcsData) {
    let again = rebuilt(data);
    assert_eq!(data.index.user_by_id, again.index.user_by_id);
    assert_eq!(data.index.user_by_email, again.index.user_by_email);
    assert_eq!(data.index.user_by_name_id, again.index.user_by_name_id);
    assert_eq!(data.index.ascii_names, again.index.ascii_names);
    assert_eq!(data.index.users_by_name, again.index.users_by_name);
    assert_eq!(data.index.list_json.len(), data.users.len());
}

#[test]
fn users_changed_one_by_one_keep_the_indexes_a_rebuild_would_make() {
    let mut problems = Problems::default();
    let mut data = WcsData::load(&FixtureFiles::compiled_in(BUILTIN_FILES), &mut problems);
    let template = (*data.users[0]).clone();
    let users: Vec<User> = (0..300)
        .map(|n| User {
            id: 10_000 + n,
            name: format!("Gén {:03}", n % 50),
            email: Some(format!("Gen{}@example.org", n % 40)),
            name_identifiers: vec![format!("gen-{}", n % 30)],
            ..template.clone()
        })
        .collect();
    data.add_generated(users, vec![]).unwrap();
    assert_indexes_as_rebuilt(&data);
    let at = data.user_position(10_005).unwrap();
    type Step = Box<dyn Fn(&mut User)>;
    let steps: Vec<Step> = vec![
        Box::new(|u| u.name = "Zoé Zèbre".into()),
        Box::new(|u| u.email = Some("GEN3@example.org".into())),
        Box::new(|u| u.email = None),
        Box::new(|u| u.name_identifiers = vec!["gen-1".into(), "fresh".into()]),
        Box::new(|u| u.deleted = true),
        Box::new(|u| u.deleted = false),
        Box::new(|u| u.is_active = false),
        Box::new(|u| u.id = 99_999),
        Box::new(|u| u.name = "Aaron".into()),
    ];
    for step in &steps {
        let mut user = (*data.users[at]).clone();
        step(&mut user);
        data.set_user(at, user);
        assert_indexes_as_rebuilt(&data);
    }
    // The first holder of an email changes: the next one takes it.
    let first = data.index.user_by_email["gen7@example.org"];
    let mut user = (*data.users[first]).clone();
    user.email = Some("elsewhere@example.org".into());
    data.set_user(first, user);
    assert_indexes_as_rebuilt(&data);
    let new = User {
        id: 123_456,
        name: "Nouvelle".into(),
        email: Some("gen7@example.org".into()),
        ..template.clone()
    };
    data.set_user(data.users.len(), new);
    assert_indexes_as_rebuilt(&data);
    data.remove_user(at);
    assert_indexes_as_rebuilt(&data);
    data.remove_user(0);
    assert_indexes_as_rebuilt(&data);
}

#[test]
fn a_changed_user_leaves_the_others_shared_with_the_data_before() {
    let mut problems = Problems::default();
    let mut data = WcsData::load(&FixtureFiles::compiled_in(BUILTIN_FILES), &mut problems);
    let template = (*data.users[0]).clone();
    let users: Vec<User> = (0..5000)
        .map(|n| User {
            id: 10_000 + n,
            ..template.clone()
        })
        .collect();
    data.add_generated(users, vec![]).unwrap();
    let before = data.clone();
    let at = data.user_position(10_100).unwrap();
    let mut user = (*data.users[at]).clone();
    user.name = "Autre".into();
    data.set_user(at, user);
    assert_eq!(data.users[at].name, "Autre");
    assert_eq!(before.users[at].name, template.name);
    for i in (0..data.users.len()).filter(|&i| i != at) {
        assert!(Arc::ptr_eq(&data.users[i], &before.users[i]), "user {i}");
        assert!(Arc::ptr_eq(
            &data.index.list_json[i],
            &before.index.list_json[i]
        ));
    }
    for (a, b) in data.forms.iter().zip(before.forms.iter()) {
        assert!(Arc::ptr_eq(a, b));
    }
    for (a, b) in data.index.form_json.iter().zip(&before.index.form_json) {
        assert!(Arc::ptr_eq(a, b));
    }
}

fn assert_form_indexes_as_rebuilt(data: &WcsData) {
    let mut again = data.clone();
    again.reindex_forms();
    assert_eq!(data.index.form_by_id, again.index.form_by_id);
    assert_eq!(data.index.forms_by_user, again.index.forms_by_user);
    assert_eq!(data.index.forms_by_role, again.index.forms_by_role);
    assert_eq!(data.index.receipt, again.index.receipt);
    assert_eq!(data.index.form_json.len(), data.forms.len());
}

#[test]
fn forms_changed_one_by_one_keep_the_indexes_a_rebuild_would_make() {
    let mut problems = Problems::default();
    let mut data = WcsData::load(&FixtureFiles::compiled_in(BUILTIN_FILES), &mut problems);
    assert_form_indexes_as_rebuilt(&data);
    let first = data.users[0].id;
    let other = data.users[1].id;
    let at = 3;
    type Step = Box<dyn Fn(&mut Form)>;
    let steps: Vec<Step> = vec![
        Box::new(|f| f.receipt_time = "1999-01-01 00:00:00".into()),
        Box::new(move |f| f.user_id = Some(other)),
        Box::new(|f| f.user_id = None),
        Box::new(move |f| {
            f.concerned_roles = vec!["1".into(), "1".into(), format!("_user:{first}")]
        }),
        Box::new(|f| f.concerned_roles = vec![]),
        Box::new(|f| f.id = 424_242),
        Box::new(move |f| f.user_id = Some(first)),
        Box::new(|f| f.receipt_time = "2030-12-31 23:59:59".into()),
    ];
    for step in &steps {
        let mut form = (*data.forms[at]).clone();
        step(&mut form);
        data.set_form(at, form);
        assert_form_indexes_as_rebuilt(&data);
    }
    let mut new = (*data.forms[0]).clone();
    new.id = 515_151;
    data.set_form(data.forms.len(), new);
    assert_form_indexes_as_rebuilt(&data);
    data.remove_form(at);
    assert_form_indexes_as_rebuilt(&data);
    data.remove_form(0);
    assert_form_indexes_as_rebuilt(&data);
}

#[test]
fn a_change_of_another_collection_keeps_users_and_forms_and_checks_them() {
    let mut problems = Problems::default();
    let data = WcsData::load(&FixtureFiles::compiled_in(BUILTIN_FILES), &mut problems);
    let files = |roles: &str| {
        let mut map: std::collections::BTreeMap<String, String> = data
            .export_settings()
            .into_iter()
            .map(|(f, v)| (f.to_owned(), v.to_string()))
            .collect();
        map.insert("wcs/roles.json".into(), roles.into());
        FixtureFiles::from_map("state", map)
    };
    let roles = data.export_file("wcs/roles.json").to_string();
    let kept = WcsData::load_keeping_items(&files(&roles), &data, &mut problems);
    assert!(problems.is_empty(), "{problems}");
    for (a, b) in kept.users.iter().zip(data.users.iter()) {
        assert!(Arc::ptr_eq(a, b));
    }
    for (a, b) in kept.forms.iter().zip(data.forms.iter()) {
        assert!(Arc::ptr_eq(a, b));
    }
    // Without its roles, the same problems as a whole reload names.
    let kept = WcsData::load_keeping_items(&files("[]"), &data, &mut problems);
    drop(kept);
    let mut whole = Problems::default();
    let mut map: std::collections::BTreeMap<String, String> = data
        .export()
        .into_iter()
        .map(|(f, v)| (f.to_owned(), v.to_string()))
        .collect();
    map.insert("wcs/roles.json".into(), "[]".into());
    WcsData::load(&FixtureFiles::from_map("state", map), &mut whole);
    assert!(!whole.is_empty());
    assert_eq!(problems.to_string(), whole.to_string());
}
