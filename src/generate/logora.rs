//! Generated Logora users, in the fixture format of `logora/users.json`
//! (the 18 fields of the API's example plus the application, the
//! sub-application and the expert and selected flags).

use chrono::{DateTime, TimeDelta};
use fake::Fake;
use fake::faker::name::raw::{FirstName, LastName};
use fake::locales::FR_FR;
use fake::rand::RngExt;
use fake::rand::rngs::StdRng;
use serde_json::{Value, json};

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

/// `count` users for `target`, deterministic for `seed`.
pub fn users(
    count: usize,
    seed: u64,
    target: &Target,
    progress: &(dyn Fn(u64) + Sync),
) -> Vec<Value> {
    super::generate(
        count,
        seed,
        STREAM,
        |rng, i| user(rng, target.first_id + i as u64, target),
        progress,
    )
}

fn pick<'a>(rng: &mut StdRng, list: &[&'a str]) -> &'a str {
    list[rng.random_range(0..list.len())]
}

fn hex32(rng: &mut StdRng) -> String {
    format!("{:016x}{:016x}", rng.random::<u64>(), rng.random::<u64>())
}

/// One user, id `id`.
fn user(rng: &mut StdRng, id: u64, target: &Target) -> Value {
    let first: String = FirstName(FR_FR).fake_with_rng(rng);
    let last: String = LastName(FR_FR).fake_with_rng(rng);
    let full_name = format!("{first} {last}");
    let (level_id, level_name) = LEVELS[rng.random_range(0..LEVELS.len())];
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
    let sub_application_name = target
        .sub_applications
        .get(rng.random_range(0..target.sub_applications.len().max(1)))
        .cloned()
        .unwrap_or_default();
    json!({
        "id": id,
        "uid": uid.to_string(),
        "image_url": image_url,
        "full_name": full_name,
        "level": {
            "id": level_id,
            "name": level_name,
            "icon_url": format!("https://d2vtyvk9fq7442.cloudfront.net/level_{level_id}.png"),
        },
        "score": rng.random_range(0..500u64),
        "slug": format!("{}-{id}", simplify(&full_name, '-')),
        "points": messages_count * 3 + votes_count / 10,
        "description": rng.random_bool(0.3).then(|| pick(rng, DESCRIPTIONS)),
        "created_at": created_at.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string(),
        "messages_count": messages_count,
        "votes_count": votes_count,
        "email": format!("{}.{id}@exemple.fr", simplify(&full_name, '.')),
        "age": rng.random_bool(0.85).then(|| rng.random_range(18..86u64)),
        "city": pick(rng, CITIES),
        "occupation": pick(rng, OCCUPATIONS),
        "interests": interests.join(","),
        "application_id": target.application_id,
        "sub_application_name": sub_application_name,
        "is_expert": rng.random_bool(0.05),
        "is_selected": rng.random_bool(0.1),
    })
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
    fn generated_users_have_every_field_with_french_values() {
        let users = users(3, 42, &target(), &|_| {});
        assert_eq!(users.len(), 3);
        let first = users[0].as_object().expect("an object");
        assert_eq!(first.len(), 21, "{first:?}");
        assert_eq!(first["id"], 1000);
        assert_eq!(users[2]["id"], 1002);
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
