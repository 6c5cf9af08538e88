//! Checks on loaded data: applications, clients, user placement and the
//! uniqueness of new users, each problem naming its file and item.

use std::collections::{HashMap, HashSet};

use super::LogoraData;
use super::hasher::Prehashed;
use super::record::Record;
use super::scopes::scope_bits;
use super::types::{Application, Client, User};
use crate::store::{Item, ItemRef, Problems};

/// Whether `text` is a Rails JSON time: `YYYY-MM-DDTHH:MM:SS.mmmZ`.
pub fn is_rails_time(text: &str) -> bool {
    text.len() == 24
        && text.as_bytes()[19] == b'.'
        && text.ends_with('Z')
        && text.as_bytes()[10] == b'T'
        // RFC 3339 parsing needs no format string: a million users load fast.
        && chrono::DateTime::parse_from_rfc3339(text).is_ok()
}

/// Applications' sub-applications by id, for checks.
type AppSubs<'a> = HashMap<u64, &'a [String]>;

pub(super) fn app_subs(applications: &[Application]) -> AppSubs<'_> {
    applications
        .iter()
        .map(|a| (a.id, a.sub_applications.as_slice()))
        .collect()
}

impl LogoraData {
    /// The problems `records` would bring if added: ids, uids and slugs
    /// already taken.
    pub(super) fn check_new(&self, records: &[Record], at: &[ItemRef]) -> Problems {
        let mut problems = Problems::default();
        let total = self.live + records.len();
        let live = || self.keys.iter().enumerate().filter(|(_, k)| k.live);
        // New ids that rise above every old one cannot collide: generated
        // users skip the biggest of the three sets.
        let max_old = live().map(|(_, k)| k.id).max();
        let rising = records
            .iter()
            .try_fold(max_old, |last, r| (last < Some(r.id)).then_some(Some(r.id)))
            .is_some();
        let mut ids: HashSet<u64> = HashSet::new();
        if !rising {
            ids.reserve(total);
            ids.extend(live().map(|(_, k)| k.id));
        }
        // Who holds each (application, hash): an old slot or a new record.
        #[derive(Clone, Copy)]
        enum Holder {
            Old(u32),
            New(usize),
        }
        let text = |holder: Holder, field: &str| match holder {
            Holder::Old(slot) => self.record(slot).and_then(|r| r.field(field)),
            Holder::New(n) => records.get(n).and_then(|r| r.field(field)),
        };
        let mut uids: HashMap<(u64, u64), Holder, Prehashed> =
            HashMap::with_capacity_and_hasher(total, Prehashed);
        let mut slugs: HashMap<(u64, u64), Holder, Prehashed> =
            HashMap::with_capacity_and_hasher(total, Prehashed);
        for (slot, k) in live() {
            if k.uid != 0 {
                uids.insert((k.app, k.uid), Holder::Old(slot as u32));
            }
            slugs.insert((k.app, k.slug), Holder::Old(slot as u32));
        }
        for (n, record) in records.iter().enumerate() {
            let mut found = Vec::new();
            if !rising && !ids.insert(record.id) {
                found.push(format!("id {} is already used", record.id));
            }
            if record.uid_hash != 0 {
                let key = (record.application_id, record.uid_hash);
                // The uid is read back from the JSON only when its hash is
                // taken: reading it for each of a million generated users
                // was most of their start-up.
                let taken = uids.get(&key).and_then(|&other| {
                    let uid = record.uid();
                    (text(other, "uid") == uid).then_some(uid)
                });
                match taken {
                    Some(uid) => found.push(format!(
                        "uid {:?} is already used in application {}",
                        uid.unwrap_or_default(),
                        record.application_id
                    )),
                    None => {
                        uids.insert(key, Holder::New(n));
                    }
                }
            }
            match slugs.get(&(record.application_id, record.slug_hash)) {
                Some(&other) if text(other, "slug") == Some(record.slug()) => found.push(format!(
                    "slug {:?} is already used in application {}",
                    record.slug(),
                    record.application_id
                )),
                _ => {
                    slugs.insert((record.application_id, record.slug_hash), Holder::New(n));
                }
            }
            if !found.is_empty() {
                let at = at.get(n).cloned().unwrap_or_else(|| ItemRef {
                    file: "added users".to_owned(),
                    number: n + 1,
                    id: Some(record.id.to_string()),
                });
                for p in found {
                    problems.push(at.problem(p));
                }
            }
        }
        problems
    }
}

pub(super) fn check_applications(
    items: Vec<Item<Application>>,
    problems: &mut Problems,
) -> Vec<Application> {
    problems.check_unique(&items, "id", |a| a.id);
    for app in &items {
        if let Some(version) = &app.data.doorkeeper
            && crate::config::Doorkeeper::parse(version).is_none()
        {
            let known: Vec<&str> = crate::config::Doorkeeper::ALL
                .iter()
                .map(|d| d.as_str())
                .collect();
            problems.push(app.at.problem(format!(
                "field doorkeeper: {version:?} is no Doorkeeper profile (one of {})",
                known.join(", ")
            )));
        }
        let mut seen = HashSet::new();
        for name in &app.data.sub_applications {
            if name.is_empty() {
                problems.push(
                    app.at
                        .problem("field sub_applications: a name must not be empty"),
                );
            } else if !seen.insert(name) {
                problems.push(
                    app.at
                        .problem(format!("field sub_applications: {name:?} is listed twice")),
                );
            }
        }
    }
    items.into_iter().map(|i| i.data).collect()
}

pub(super) fn check_clients(
    items: Vec<Item<Client>>,
    applications: &[Application],
    problems: &mut Problems,
) -> Vec<Client> {
    problems.check_unique(&items, "client_id", |c| c.client_id.clone());
    for client in &items {
        let c = &client.data;
        if c.client_id.is_empty() {
            problems.push(client.at.problem("field client_id: must not be empty"));
        }
        if c.client_secret.is_empty() {
            problems.push(client.at.problem("field client_secret: must not be empty"));
        }
        if !applications.iter().any(|a| a.id == c.application_id) {
            problems.push(client.at.problem(format!(
                "field application_id: no application {}",
                c.application_id
            )));
        }
        match scope_bits(&c.scopes) {
            Err(unknown) => problems.push(client.at.problem(format!(
                "field scopes: unknown scope {unknown:?}; expected public, authentication or admin"
            ))),
            Ok(0) => problems.push(
                client
                    .at
                    .problem("field scopes: at least one of public, authentication, admin"),
            ),
            Ok(_) => {}
        }
        if c.token_lifetime == Some(0) {
            problems.push(
                client
                    .at
                    .problem("field token_lifetime: must be at least 1 second"),
            );
        }
    }
    items.into_iter().map(|i| i.data).collect()
}

fn placement_problems(
    application_id: Option<u64>,
    sub: Option<&str>,
    subs: &AppSubs<'_>,
) -> Vec<String> {
    let Some(app) = application_id else {
        return vec![
            "field application_id: none given and there is no application to default to".to_owned(),
        ];
    };
    match (subs.get(&app), sub) {
        (None, _) => vec![format!("field application_id: no application {app}")],
        (Some(names), Some(sub)) if !names.iter().any(|s| s == sub) => vec![format!(
            "field sub_application_name: {sub:?} is not a sub-application of application {app} ({})",
            names.join(", ")
        )],
        _ => Vec::new(),
    }
}

pub(super) fn user_problems(
    u: &User,
    application_id: Option<u64>,
    subs: &AppSubs<'_>,
) -> Vec<String> {
    let mut found = placement_problems(application_id, u.sub_application_name.as_deref(), subs);
    if !is_rails_time(&u.created_at) {
        found.push(format!(
            "field created_at: {:?} is not a time like 2021-11-25T16:15:38.874Z",
            u.created_at
        ));
    }
    if u.slug.is_empty() {
        found.push("field slug: must not be empty".to_owned());
    }
    if u.uid.as_deref() == Some("") {
        found.push("field uid: must not be empty (null for an anonymized user)".to_owned());
    }
    found
}

pub(super) fn record_problems(r: &Record, subs: &AppSubs<'_>) -> Vec<String> {
    placement_problems(
        Some(r.application_id),
        r.sub_application_name.as_deref(),
        subs,
    )
}

/// Users per application, for messages.
#[cfg(test)]
pub fn count_by_application(data: &LogoraData) -> std::collections::BTreeMap<u64, usize> {
    let mut counts = std::collections::BTreeMap::new();
    for r in data.records() {
        *counts.entry(r.application_id).or_insert(0) += 1;
    }
    counts
}
