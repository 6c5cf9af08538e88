//! Generated w.c.s. users and their forms, in the fixture format of
//! `wcs/users.json` and `wcs/forms.json`.

use fake::Fake;
use fake::faker::name::raw::{FirstName, LastName};
use fake::locales::FR_FR;
use fake::rand::RngExt;
use fake::rand::rngs::StdRng;
use serde_json::{Value, json};

use super::french::{CITIES, simplify};

/// A form definition generated forms can use: its id and its statuses.
#[derive(Debug, Clone)]
pub struct FormDef {
    pub id: String,
    pub statuses: Vec<String>,
}

/// Where generated items go: the first free ids and the form definitions.
#[derive(Debug, Clone)]
pub struct Target {
    pub first_user_id: u64,
    pub first_form_id: u64,
    pub formdefs: Vec<FormDef>,
}

/// Stream numbers of w.c.s. users and forms in the seeding scheme.
const USERS: u64 = 2;
const FORMS: u64 = 3;

/// `count` users, deterministic for `seed`.
pub fn users(
    count: usize,
    seed: u64,
    target: &Target,
    progress: &(dyn Fn(u64) + Sync),
) -> Vec<Value> {
    super::generate(
        count,
        seed,
        USERS,
        |rng, i| user(rng, target.first_user_id + i as u64),
        progress,
    )
}

/// `per_user` forms for each of the `users` generated users.
pub fn forms(
    users: usize,
    per_user: usize,
    seed: u64,
    target: &Target,
    progress: &(dyn Fn(u64) + Sync),
) -> Vec<Value> {
    if target.formdefs.is_empty() {
        return Vec::new();
    }
    super::generate(
        users * per_user,
        seed,
        FORMS,
        |rng, i| {
            let user_id = target.first_user_id + (i / per_user) as u64;
            form(rng, target.first_form_id + i as u64, user_id, target)
        },
        progress,
    )
}

fn user(rng: &mut StdRng, id: u64) -> Value {
    let first: String = FirstName(FR_FR).fake_with_rng(rng);
    let last: String = LastName(FR_FR).fake_with_rng(rng);
    let name = format!("{first} {last}");
    let city = CITIES[rng.random_range(0..CITIES.len())];
    json!({
        "id": id,
        "name": name,
        "email": format!("{}.{id}@exemple.fr", simplify(&name, '.')),
        "name_identifiers": [format!("{:032x}", rng.random::<u128>())],
        "fields": {
            "first_name": first,
            "last_name": last,
            "city": city,
            "zipcode": format!("{:05}", rng.random_range(1000..96000u32)),
        },
    })
}

fn form(rng: &mut StdRng, id: u64, user_id: u64, target: &Target) -> Value {
    let formdef = &target.formdefs[rng.random_range(0..target.formdefs.len())];
    let status = if rng.random_bool(0.1) || formdef.statuses.is_empty() {
        "draft".to_owned()
    } else {
        formdef.statuses[rng.random_range(0..formdef.statuses.len())].clone()
    };
    // Between 2020-01-01 and 2025-12-31, to the second.
    let start = chrono::DateTime::from_timestamp(1_577_836_800, 0).unwrap_or_default();
    let receipt = start + chrono::TimeDelta::seconds(rng.random_range(0..189_302_400));
    let update = receipt + chrono::TimeDelta::seconds(rng.random_range(0..2_592_000));
    json!({
        "id": id,
        "formdef_id": formdef.id,
        "user_id": user_id,
        "status": status,
        "receipt_time": receipt.format("%Y-%m-%d %H:%M:%S").to_string(),
        "last_update_time": update.format("%Y-%m-%d %H:%M:%S").to_string(),
    })
}
