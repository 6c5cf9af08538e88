//! Tests of the Logora data: loading and checks, rendering, scopes, the
//! filter index and changes through the control plane.

use serde_json::Value;

use super::*;
use crate::store::{FixtureFiles, ItemRef, Problems};

fn builtin() -> LogoraData {
    let mut problems = Problems::default();
    let data = LogoraData::load(
        &FixtureFiles::from_map(
            "<built-in>",
            BUILTIN_FILES
                .iter()
                .map(|(n, t)| ((*n).to_owned(), (*t).to_owned()))
                .collect(),
        ),
        &mut problems,
    );
    assert!(problems.is_empty(), "{problems}");
    data
}

fn users(data: &LogoraData) -> Vec<User> {
    data.records().map(Record::user).collect()
}

fn all(data: &LogoraData, app: u64) -> Vec<u64> {
    data.matching(app, FilterKey::ALL)
        .map(|list| list.iter().map(|&s| data.record(s).unwrap().id).collect())
        .unwrap_or_default()
}

#[test]
fn the_built_in_fixtures_load_without_problems() {
    let data = builtin();
    assert!(count_by_application(&data)[&1] >= 40);
    assert!(data.client("API_KEY").is_some());
    assert!(data.client("OTHER_API_KEY").is_some());
}

#[test]
fn export_then_load_gives_the_same_data() {
    let data = builtin();
    let files = data
        .export()
        .into_iter()
        .map(|(f, v)| (f.to_owned(), v.to_string()))
        .collect();
    let mut problems = Problems::default();
    let again = LogoraData::load(&FixtureFiles::from_map("x", files), &mut problems);
    assert!(problems.is_empty(), "{problems}");
    assert_eq!(users(&again), users(&data));
    assert_eq!(again.clients(), data.clients());
    assert_eq!(again.applications(), data.applications());
}

#[test]
fn a_user_copied_from_an_answer_loads_with_defaults_and_keeps_new_fields() {
    let data = builtin();
    let answer = r#"{"id":900,"hash_id":"a1b2","uid":"u-900","image_url":null,
        "full_name":"Zoé Martin","first_name":"Zoé","last_name":"Martin",
        "level":{"id":1,"name":"Débutant","icon_url":"https://x/1.png"},"score":1,
        "slug":"zoe-martin","points":2,"description":null,
        "created_at":"2024-01-27T15:16:35.239Z","messages_count":0,"votes_count":0,
        "email":"zoe@exemple.fr","age":null,"city":null,"occupation":null,"interests":null}"#;
    let user: User = serde_json::from_str(answer).unwrap();
    let at = ItemRef {
        file: "x".into(),
        number: 1,
        id: Some("900".into()),
    };
    let record = data.prepare(&user, &at, &mut Vec::new()).unwrap();
    assert_eq!(record.application_id, data.applications()[0].id);
    assert_eq!(record.sub_application_name, None);
    assert!(!record.is_expert && !record.is_selected);
    let shown: Value = serde_json::from_str(record.json()).unwrap();
    let keys: Vec<&str> = shown.as_object().unwrap().keys().map(|k| &**k).collect();
    assert_eq!(keys.len(), 20);
    assert_eq!(keys[17..], ["hash_id", "first_name", "last_name"][..]);
    assert_eq!(shown["first_name"], "Zoé");
}

#[test]
fn rails_times_need_milliseconds_and_z() {
    assert!(is_rails_time("2021-11-25T16:15:38.874Z"));
    assert!(!is_rails_time("2021-11-25T16:15:38Z"));
    assert!(!is_rails_time("2021-11-25T16:15:38.874+00:00"));
    assert!(!is_rails_time("2021-13-25T16:15:38.874Z"));
}

#[test]
fn scope_lists_map_to_bits_and_back() {
    assert_eq!(scope_bits("admin public"), Ok(0b101));
    assert_eq!(scope_text(0b101), "public admin");
    for bits in 0..8u8 {
        let joined = SCOPES
            .iter()
            .enumerate()
            .filter(|(i, _)| bits & (1 << i) != 0)
            .map(|(_, s)| *s)
            .collect::<Vec<_>>()
            .join(" ");
        assert_eq!(scope_str(bits), joined);
    }
    assert_eq!(scope_bits("public write"), Err("write".to_owned()));
}

#[test]
fn added_users_are_checked_and_indexed() {
    let mut data = builtin();
    let mut user = users(&data)[0].clone();
    let err = data.add_users(vec![user.clone()]).unwrap_err();
    assert!(err.to_string().contains("id 1 is already used"), "{err}");
    user.id = 5000;
    user.uid = Some("new-uid".to_owned());
    user.slug = "nouveau".to_owned();
    let before = all(&data, 1).len();
    data.add_users(vec![user]).unwrap();
    let after = all(&data, 1);
    assert_eq!(after.len(), before + 1);
    assert_eq!(*after.last().unwrap(), 5000);
}

/// `n` copies of the first fixture user with fresh ids from `first`.
fn fresh_users(data: &LogoraData, first: u64, n: u64) -> Vec<User> {
    let template = users(data)[0].clone();
    (0..n)
        .map(|i| {
            let mut user = template.clone();
            user.id = first + i;
            user.uid = Some(format!("uid-{}", first + i));
            user.slug = format!("slug-{}", first + i);
            user
        })
        .collect()
}

#[test]
fn rising_ids_still_have_their_uids_and_slugs_checked() {
    let mut data = builtin();
    let mut batch = fresh_users(&data, 10_000, 3);
    batch[2].uid = batch[0].uid.clone();
    batch[1].slug = users(&data)[0].slug.clone();
    let err = data.add_users(batch).unwrap_err().to_string();
    assert!(
        err.contains("item 3 (id 10002): uid \"uid-10000\" is already used in application 1"),
        "{err}"
    );
    assert!(err.contains("item 2 (id 10001): slug"), "{err}");
}

#[test]
fn ids_repeated_within_a_batch_are_reported() {
    let mut data = builtin();
    let mut batch = fresh_users(&data, 10_000, 3);
    batch[2].id = 10_000;
    let err = data.add_users(batch).unwrap_err().to_string();
    assert!(
        err.contains("item 3 (id 10000): id 10000 is already used"),
        "{err}"
    );
    assert_eq!(data.user_count(), builtin().user_count(), "nothing added");
}

#[test]
fn a_user_in_an_unknown_sub_application_is_reported() {
    let mut data = builtin();
    let mut user = users(&data)[0].clone();
    user.id = 6000;
    user.uid = None;
    user.slug = "x".to_owned();
    user.sub_application_name = Some("nulle-part".into());
    let err = data.add_users(vec![user]).unwrap_err().to_string();
    assert!(
        err.contains("\"nulle-part\" is not a sub-application of application 1"),
        "{err}"
    );
}

#[test]
fn a_copy_changed_in_one_user_leaves_the_original_as_it_was() {
    let data = builtin();
    let mut copy = data.clone();
    let slot = copy.slot_of_id(21).unwrap();
    let mut user = copy.record(slot).unwrap().user();
    user.is_expert = !user.is_expert;
    user.id = 4000;
    let at = ItemRef {
        file: "x".into(),
        number: 1,
        id: None,
    };
    copy.put_user(Some(slot), user, &at).unwrap();
    assert_eq!(copy.slot_of_id(21), None);
    assert_eq!(copy.slot_of_id(4000), Some(slot));
    assert_eq!(*all(&copy, 1).last().unwrap(), 4000);
    assert_eq!(data.slot_of_id(21), Some(slot));
    assert!(!all(&data, 1).contains(&4000));
    copy.remove_slot(slot);
    assert_eq!(copy.user_count(), data.user_count() - 1);
    assert_eq!(all(&copy, 1).len(), all(&data, 1).len() - 1);
    let experts = |d: &LogoraData| {
        d.matching(
            1,
            FilterKey {
                expert: Some(true),
                ..FilterKey::ALL
            },
        )
        .unwrap()
        .len()
    };
    assert!(experts(&data) > 0);
}

#[test]
fn a_flag_change_moves_the_user_between_the_filter_lists_only() {
    let data = builtin();
    let mut copy = data.clone();
    let slot = copy.slot_of_id(21).unwrap();
    let mut user = copy.record(slot).unwrap().user();
    let count = |d: &LogoraData, expert: Option<bool>| {
        d.matching(
            1,
            FilterKey {
                expert,
                ..FilterKey::ALL
            },
        )
        .unwrap()
        .iter()
        .map(|&s| d.record(s).unwrap().id)
        .collect::<Vec<_>>()
    };
    let was = user.is_expert;
    user.is_expert = !was;
    user.city = Some("Lyon".into());
    let at = ItemRef {
        file: "x".into(),
        number: 1,
        id: None,
    };
    copy.put_user(Some(slot), user, &at).unwrap();
    assert_eq!(count(&copy, None), count(&data, None));
    assert!(count(&copy, Some(!was)).contains(&21));
    assert!(!count(&copy, Some(was)).contains(&21));
    assert_eq!(
        count(&copy, Some(!was)).len(),
        count(&data, Some(!was)).len() + 1
    );
    let mut sorted = count(&copy, Some(!was));
    sorted.sort_unstable();
    assert_eq!(sorted, count(&copy, Some(!was)), "still in id order");
    assert!(
        count(&data, Some(was)).contains(&21),
        "the original is unchanged"
    );
    assert!(
        copy.record(slot)
            .unwrap()
            .json()
            .contains("\"city\":\"Lyon\"")
    );
}
