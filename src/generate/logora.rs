//! Generated Logora users (the 18 fields of the API's example plus the
//! application, the sub-application and the expert and selected flags),
//! built as the model's `User` directly and, when served, turned into
//! records chunk by chunk as they are made: a million of them load in the
//! time it takes to render them, and no million `User`s are ever alive at
//! once.

use std::sync::Arc;

use chrono::{DateTime, Datelike, TimeDelta, Timelike};
use fake::Fake;
use fake::faker::name::raw::{FirstName, LastName};
use fake::locales::FR_FR;
use fake::rand::RngExt;
use fake::rand::rngs::StdRng;

use crate::logora::model::{Level, LogoraData, Record, User};
use crate::store::{ItemRef, Problem, Problems};

use super::french::{CITIES, DESCRIPTIONS, INTERESTS, LEVELS, OCCUPATIONS, simplify};

/// Where generated users go: an application and its sub-applications.
#[derive(Debug, Clone)]
pub struct Target {
    pub application_id: u64,
    pub sub_applications: Vec<String>,
    /// The first id to give; the others follow.
    pub first_id: u64,
}

/// Stream number of Logora users in the seeding scheme.
const STREAM: u64 = 1;

/// The values users share, made once: a million users point to a few
/// dozen strings instead of owning a million copies.
struct Shared {
    application_id: u64,
    levels: Vec<Arc<Level>>,
    descriptions: Vec<Arc<str>>,
    cities: Vec<Arc<str>>,
    occupations: Vec<Arc<str>>,
    sub_applications: Vec<Arc<str>>,
}

impl Shared {
    fn new(target: &Target) -> Self {
        let strings = |list: &[&str]| list.iter().map(|s| Arc::from(*s)).collect();
        Self {
            application_id: target.application_id,
            levels: LEVELS
                .iter()
                .map(|(id, name)| {
                    Arc::new(Level {
                        id: u64::from(*id),
                        name: (*name).to_owned(),
                        icon_url: format!("https://d2vtyvk9fq7442.cloudfront.net/level_{id}.png"),
                    })
                })
                .collect(),
            descriptions: strings(DESCRIPTIONS),
            cities: strings(CITIES),
            occupations: strings(OCCUPATIONS),
            sub_applications: target
                .sub_applications
                .iter()
                .map(|s| Arc::from(s.as_str()))
                .collect(),
        }
    }
}

/// `count` users for `target`, deterministic for `seed`.
pub fn users(
    count: usize,
    seed: u64,
    target: &Target,
    progress: &(dyn Fn(u64) + Sync),
) -> Vec<User> {
    let shared = Shared::new(target);
    super::generate(
        count,
        seed,
        STREAM,
        |rng, i| user(rng, target.first_id + i as u64, &shared),
        progress,
    )
}

/// `count` users for `target`, prepared for `data` (checked and rendered
/// as they are made, on every core); every problem is reported.
pub fn records(
    data: &LogoraData,
    count: usize,
    seed: u64,
    target: &Target,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<Vec<Record>, Problems> {
    let shared = Shared::new(target);
    thread_local! {
        static BUFFER: std::cell::RefCell<Vec<u8>> = std::cell::RefCell::new(Vec::with_capacity(2048));
    }
    let made: Vec<Result<Record, Vec<Problem>>> = super::generate(
        count,
        seed,
        STREAM,
        |rng, i| {
            let user = user(rng, target.first_id + i as u64, &shared);
            let at = ItemRef {
                file: "generated logora/users.json".to_owned(),
                number: i + 1,
                id: Some(user.id.to_string()),
            };
            BUFFER.with_borrow_mut(|buffer| data.prepare(&user, &at, buffer))
        },
        progress,
    );
    let mut records = Vec::with_capacity(made.len());
    let mut problems = Problems::default();
    for item in made {
        match item {
            Ok(record) => records.push(record),
            Err(found) => problems.0.extend(found),
        }
    }
    problems.into_result(records)
}

fn pick<'a>(rng: &mut StdRng, list: &[&'a str]) -> &'a str {
    list[rng.random_range(0..list.len())]
}

/// One of `list`, drawn as `pick` draws (same stream of numbers).
fn pick_shared<T: ?Sized>(rng: &mut StdRng, list: &[Arc<T>]) -> Arc<T> {
    Arc::clone(&list[rng.random_range(0..list.len())])
}

fn hex32(rng: &mut StdRng) -> String {
    format!("{:016x}{:016x}", rng.random::<u64>(), rng.random::<u64>())
}

/// `2021-11-25T16:15:38.874Z`; by hand, digit by digit, as strftime
/// parses its pattern, and even `format!` pads each field through the
/// formatting machinery, for every one of a million users.
fn rails_time(t: DateTime<chrono::Utc>) -> String {
    let mut out = String::with_capacity(24);
    let year = u32::try_from(t.year()).unwrap_or(0);
    for (value, width, after) in [
        (year, 4, '-'),
        (t.month(), 2, '-'),
        (t.day(), 2, 'T'),
        (t.hour(), 2, ':'),
        (t.minute(), 2, ':'),
        (t.second(), 2, '.'),
        (t.timestamp_subsec_millis(), 3, 'Z'),
    ] {
        for place in (0..width).rev() {
            let digit = value / 10u32.pow(place) % 10;
            out.push(char::from(b'0' + digit as u8));
        }
        out.push(after);
    }
    out
}

/// One user, id `id`.
fn user(rng: &mut StdRng, id: u64, shared: &Shared) -> User {
    let first: String = FirstName(FR_FR).fake_with_rng(rng);
    let last: String = LastName(FR_FR).fake_with_rng(rng);
    let full_name = format!("{first} {last}");
    let level = pick_shared(rng, &shared.levels);
    let uid = uuid::Builder::from_random_bytes(rng.random::<[u8; 16]>()).into_uuid();
    let image_url = rng.random_bool(0.7).then(|| {
        format!(
            "https://dfrx2oay1w3r9.cloudfront.net/uploads/standard_{}.jpg",
            hex32(rng)
        )
    });
    // Between 2019-01-01 and 2025-12-31, to the millisecond.
    let start = DateTime::from_timestamp(1_546_300_800, 0).unwrap_or_default();
    let created_at = start + TimeDelta::milliseconds(rng.random_range(0..220_924_800_000));
    let mut interests: Vec<&str> = (0..rng.random_range(1..=3))
        .map(|_| pick(rng, INTERESTS))
        .collect();
    interests.dedup();
    let messages_count: u64 = rng.random_range(0..200);
    let votes_count: u64 = rng.random_range(0..1000);
    let sub_application_name = shared
        .sub_applications
        .get(rng.random_range(0..shared.sub_applications.len().max(1)))
        .cloned();
    // The e-mail's form of the name is the slug's with dots: simplified
    // once.
    let simple = simplify(&full_name, '-');
    let slug = format!("{simple}-{id}");
    let score = rng.random_range(0..500i64);
    let description = rng
        .random_bool(0.3)
        .then(|| pick_shared(rng, &shared.descriptions));
    let email = format!("{}.{id}@exemple.fr", simple.replace('-', "."));
    let age = rng.random_bool(0.85).then(|| rng.random_range(18..86u32));
    let city = pick_shared(rng, &shared.cities);
    let occupation = pick_shared(rng, &shared.occupations);
    let is_expert = rng.random_bool(0.05);
    let is_selected = rng.random_bool(0.1);
    User {
        id,
        uid: Some(
            uid.hyphenated()
                .encode_lower(&mut uuid::Uuid::encode_buffer())
                .to_owned(),
        ),
        image_url,
        full_name,
        level,
        score,
        slug,
        points: (messages_count * 3 + votes_count / 10) as i64,
        description,
        created_at: rails_time(created_at),
        messages_count,
        votes_count,
        email: Some(email),
        age,
        city: Some(city),
        occupation: Some(occupation),
        interests: Some(interests.join(",")),
        extra: serde_json::Map::new(),
        application_id: Some(shared.application_id),
        sub_application_name,
        is_expert,
        is_selected,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target() -> Target {
        Target {
            application_id: 1,
            sub_applications: vec!["app-test".into(), "app-sport".into()],
            first_id: 1000,
        }
    }

    #[test]
    fn rails_times_have_every_field_padded() {
        let t = DateTime::from_timestamp(1_637_856_938, 74_000_000).unwrap();
        assert_eq!(rails_time(t), "2021-11-25T16:15:38.074Z");
        assert_eq!(
            rails_time(t),
            t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
        );
        let t = DateTime::from_timestamp(1_546_300_800, 0).unwrap();
        assert_eq!(rails_time(t), "2019-01-01T00:00:00.000Z");
    }

    #[test]
    fn generated_users_have_every_field_with_french_values() {
        let users = users(3, 42, &target(), &|_| {});
        assert_eq!(users.len(), 3);
        let first = serde_json::to_value(&users[0]).expect("serializable");
        let first = first.as_object().expect("an object");
        assert_eq!(first.len(), 21, "{first:?}");
        assert_eq!(first["id"], 1000);
        assert_eq!(users[2].id, 1002);
        let name = first["full_name"].as_str().expect("a name");
        assert!(first["slug"].as_str().expect("slug").ends_with("-1000"));
        assert!(
            first["email"]
                .as_str()
                .expect("email")
                .ends_with(".1000@exemple.fr"),
            "{name}"
        );
        assert!(CITIES.contains(&first["city"].as_str().expect("city")));
        let created = first["created_at"].as_str().expect("created_at");
        assert_eq!(created.len(), "2021-11-25T16:15:38.874Z".len(), "{created}");
        assert!(
            ["app-test", "app-sport"]
                .contains(&first["sub_application_name"].as_str().expect("sub"))
        );
    }
}
