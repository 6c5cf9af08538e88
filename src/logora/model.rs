//! Logora fixture data: applications (a Logora customer site and its
//! sub-applications), API clients (the key pairs of the admin panel's
//! "Configuration > Général" tab) and users, in the shape of the
//! "Données utilisateurs" page's example (../shared/seeds) plus four
//! doublure-only fields that place a user and drive the list filters.
//!
//! Loading validates everything and builds what a request needs so that it
//! only slices and concatenates: each user's public JSON rendered once, and
//! per application the positions of its users sorted by id, for every
//! combination of the three list filters.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::store::{FixtureFiles, Item, Problems};

/// Collections the control plane can change: fixture file and id key.
pub const COLLECTIONS: &[(&str, &str)] = &[
    ("logora/applications.json", "id"),
    ("logora/clients.json", "client_id"),
    ("logora/users.json", "id"),
];

/// Fixture files compiled into the binary.
pub const BUILTIN_FILES: &[(&str, &str)] = &[
    (
        "logora/applications.json",
        include_str!("../../fixtures/logora/applications.json"),
    ),
    (
        "logora/clients.json",
        include_str!("../../fixtures/logora/clients.json"),
    ),
    (
        "logora/users.json",
        include_str!("../../fixtures/logora/users.json"),
    ),
];

/// The scopes a Logora client may hold, in the order they are written.
pub const SCOPES: &[&str] = &["public", "authentication", "admin"];

/// A Logora application: one customer site, split in sub-applications.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Application {
    pub id: u64,
    pub name: String,
    pub sub_applications: Vec<String>,
}

/// An API client: the API key (`client_id`) and secret key of one
/// application, and the scopes its tokens may carry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Client {
    pub client_id: String,
    pub client_secret: String,
    pub application_id: u64,
    /// Space-separated, each one of [`SCOPES`].
    pub scopes: String,
    /// Seconds; absent means the global `--logora-token-lifetime`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_lifetime: Option<u32>,
}

/// A user's level, as Logora shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Level {
    pub id: u64,
    pub name: String,
    pub icon_url: String,
}

/// A Logora user: the 18 fields the API returns, then four that only
/// doublure reads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct User {
    pub id: u64,
    pub uid: Option<String>,
    pub image_url: Option<String>,
    pub full_name: String,
    /// Shared: a million generated users have six levels between them.
    pub level: Arc<Level>,
    pub score: i64,
    pub slug: String,
    pub points: i64,
    /// The fields below that are `Arc<str>` repeat across users; generated
    /// users share one copy of each value.
    pub description: Option<Arc<str>>,
    /// `2021-11-25T16:15:38.874Z`: milliseconds and `Z`, as Rails renders.
    pub created_at: String,
    pub messages_count: u64,
    pub votes_count: u64,
    pub email: Option<String>,
    pub age: Option<u32>,
    pub city: Option<Arc<str>>,
    pub occupation: Option<Arc<str>>,
    pub interests: Option<String>,
    pub application_id: u64,
    pub sub_application_name: Arc<str>,
    pub is_expert: bool,
    pub is_selected: bool,
}

/// The 18 fields the API shows, in the seed's order.
#[derive(Serialize)]
struct PublicUser<'a> {
    id: u64,
    uid: &'a Option<String>,
    image_url: &'a Option<String>,
    full_name: &'a str,
    level: &'a Level,
    score: i64,
    slug: &'a str,
    points: i64,
    description: &'a Option<Arc<str>>,
    created_at: &'a str,
    messages_count: u64,
    votes_count: u64,
    email: &'a Option<String>,
    age: Option<u32>,
    city: &'a Option<Arc<str>>,
    occupation: &'a Option<Arc<str>>,
    interests: &'a Option<String>,
}

impl User {
    /// The user as the API returns it.
    pub fn render(&self) -> Arc<str> {
        self.render_with(&mut Vec::new())
    }

    /// `render`, with `buffer` as scratch space: rendering many users
    /// through one buffer saves the reallocations of a growing string.
    fn render_with(&self, buffer: &mut Vec<u8>) -> Arc<str> {
        let public = PublicUser {
            id: self.id,
            uid: &self.uid,
            image_url: &self.image_url,
            full_name: &self.full_name,
            level: &self.level,
            score: self.score,
            slug: &self.slug,
            points: self.points,
            description: &self.description,
            created_at: &self.created_at,
            messages_count: self.messages_count,
            votes_count: self.votes_count,
            email: &self.email,
            age: self.age,
            city: &self.city,
            occupation: &self.occupation,
            interests: &self.interests,
        };
        buffer.clear();
        // Serializing plain strings and numbers into memory cannot fail, and
        // serde_json writes valid UTF-8.
        if serde_json::to_writer(&mut *buffer, &public).is_err() {
            return Arc::from("null");
        }
        Arc::from(std::str::from_utf8(buffer).unwrap_or("null"))
    }
}

/// Whether `text` is a Rails JSON time: `YYYY-MM-DDTHH:MM:SS.mmmZ`.
pub fn is_rails_time(text: &str) -> bool {
    text.len() == 24
        && text.as_bytes()[19] == b'.'
        && text.ends_with('Z')
        && text.as_bytes()[10] == b'T'
        // RFC 3339 parsing needs no format string: a million users load fast.
        && chrono::DateTime::parse_from_rfc3339(text).is_ok()
}

/// The scope bits of a space-separated scope list, or the first unknown
/// scope.
pub fn scope_bits(scopes: &str) -> Result<u8, String> {
    let mut bits = 0;
    for scope in scopes.split_whitespace() {
        match SCOPES.iter().position(|s| *s == scope) {
            Some(i) => bits |= 1 << i,
            None => return Err(scope.to_owned()),
        }
    }
    Ok(bits)
}

/// The scope list of `bits`, space-separated.
pub fn scope_text(bits: u8) -> String {
    SCOPES
        .iter()
        .enumerate()
        .filter(|(i, _)| bits & (1 << i) != 0)
        .map(|(_, s)| *s)
        .collect::<Vec<_>>()
        .join(" ")
}

/// The 4-byte hash of a client id that tokens carry.
pub fn client_hash(client_id: &str) -> [u8; 4] {
    let digest = Sha256::digest(client_id.as_bytes());
    [digest[0], digest[1], digest[2], digest[3]]
}

/// A list filter: `None` means any.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FilterKey {
    /// Index in the application's `sub_applications`.
    pub sub: Option<u16>,
    pub expert: Option<bool>,
    pub selected: Option<bool>,
}

impl FilterKey {
    /// Slot of this filter in [`AppIndex::lists`].
    fn slot(self) -> usize {
        let tri = |b: Option<bool>| match b {
            None => 0,
            Some(false) => 1,
            Some(true) => 2,
        };
        let sub = self.sub.map_or(0, |s| usize::from(s) + 1);
        sub * 9 + tri(self.expert) * 3 + tri(self.selected)
    }
}

/// What a users request of one application reads.
#[derive(Debug, Clone, Default)]
struct AppIndex {
    /// Positions in `users`, sorted by user id, per filter combination
    /// (indexed by [`FilterKey::slot`]).
    lists: Vec<Vec<u32>>,
}

/// All Logora data.
#[derive(Debug, Clone, Default)]
pub struct LogoraData {
    // Private: every change goes through a method that keeps the indexes.
    applications: Vec<Application>,
    clients: Vec<Client>,
    users: Vec<User>,
    rendered: Vec<Arc<str>>,
    apps: HashMap<u64, AppIndex>,
    client_by_hash: HashMap<[u8; 4], Vec<u32>>,
}

impl LogoraData {
    /// Loads and checks the Logora collections of `files`.
    pub fn load(files: &FixtureFiles, problems: &mut Problems) -> Self {
        let applications: Vec<Item<Application>> =
            files.collection("logora/applications.json", "id", problems);
        let clients: Vec<Item<Client>> =
            files.collection("logora/clients.json", "client_id", problems);
        let users: Vec<Item<User>> = files.collection("logora/users.json", "id", problems);

        problems.check_unique(&applications, "id", |a| a.id);
        for app in &applications {
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
        let app_subs: HashMap<u64, &Vec<String>> = applications
            .iter()
            .map(|a| (a.data.id, &a.data.sub_applications))
            .collect();

        problems.check_unique(&clients, "client_id", |c| c.client_id.clone());
        for client in &clients {
            let c = &client.data;
            if c.client_id.is_empty() {
                problems.push(client.at.problem("field client_id: must not be empty"));
            }
            if c.client_secret.is_empty() {
                problems.push(client.at.problem("field client_secret: must not be empty"));
            }
            if !app_subs.contains_key(&c.application_id) {
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

        for user in &users {
            for p in user_problems(&user.data, &app_subs) {
                problems.push(user.at.problem(p));
            }
        }
        problems.check_unique(&users, "id", |u| u.id);
        problems.check_unique(&users, "uid", |u| match &u.uid {
            // Anonymized users have no uid and never clash.
            Some(uid) => format!("{uid:?} in application {}", u.application_id),
            None => format!("null #{}", u.id),
        });
        problems.check_unique(&users, "slug", |u| {
            format!("{:?} in application {}", u.slug, u.application_id)
        });

        let mut data = Self {
            applications: applications.into_iter().map(|i| i.data).collect(),
            clients: clients.into_iter().map(|i| i.data).collect(),
            users: Vec::new(),
            rendered: Vec::new(),
            apps: HashMap::new(),
            client_by_hash: HashMap::new(),
        };
        let users: Vec<User> = users.into_iter().map(|i| i.data).collect();
        data.rendered = users.iter().map(User::render).collect();
        data.users = users;
        data.rebuild();
        data
    }

    /// The data in the fixture format.
    pub fn export(&self) -> Vec<(&'static str, Value)> {
        let mut files = self.export_settings();
        files.push((
            "logora/users.json",
            serde_json::to_value(&self.users).unwrap_or(Value::Array(Vec::new())),
        ));
        files
    }

    /// Applications and clients in the fixture format: `export` without
    /// the users.
    pub fn export_settings(&self) -> Vec<(&'static str, Value)> {
        let array = |v: Result<Value, serde_json::Error>| v.unwrap_or(Value::Array(Vec::new()));
        vec![
            (
                "logora/applications.json",
                array(serde_json::to_value(&self.applications)),
            ),
            (
                "logora/clients.json",
                array(serde_json::to_value(&self.clients)),
            ),
        ]
    }

    /// Takes the users of `old` (and their rendered JSON) into `self`,
    /// freshly loaded without users, once each is checked against `self`'s
    /// applications; `old` keeps them when one fails. A change of an
    /// application or a client so costs a check per user, not a reload.
    pub fn adopt_users(&mut self, old: &mut LogoraData) -> Result<(), Problems> {
        let app_subs: HashMap<u64, &Vec<String>> = self
            .applications
            .iter()
            .map(|a| (a.id, &a.sub_applications))
            .collect();
        let mut problems = Problems::default();
        for (n, user) in old.users.iter().enumerate() {
            let found = user_problems(user, &app_subs);
            if !found.is_empty() {
                let at = crate::store::ItemRef {
                    file: "state/logora/users.json".to_owned(),
                    number: n + 1,
                    id: Some(user.id.to_string()),
                };
                for p in found {
                    problems.push(at.problem(p));
                }
            }
        }
        problems.into_result(())?;
        self.users = std::mem::take(&mut old.users);
        self.rendered = std::mem::take(&mut old.rendered);
        self.rebuild();
        Ok(())
    }

    /// Appends already-built users (a data generator's), checking each
    /// one's application, sub-application and the uniqueness of its id,
    /// uid and slug; nothing is added when one is wrong.
    pub fn add_users(&mut self, users: Vec<User>) -> Result<(), Problems> {
        // Rendering is most of the work with a million users: it runs on
        // every core while this thread checks; a refused batch wastes it,
        // which only costs time on a path that ends in an error.
        let (problems, rendered) = std::thread::scope(|scope| {
            let rendered = scope.spawn(|| render_all(&users));
            let problems = self.check_new_users(&users);
            let rendered = rendered
                .join()
                .unwrap_or_else(|e| std::panic::resume_unwind(e));
            (problems, rendered)
        });
        if !problems.is_empty() {
            return Err(problems);
        }
        append(&mut self.rendered, rendered);
        append(&mut self.users, users);
        self.rebuild();
        Ok(())
    }

    /// Position of the user with this id.
    pub fn position_by_id(&self, id: u64) -> Option<usize> {
        self.users.iter().position(|u| u.id == id)
    }

    /// Puts `user` in place of the user at `position`, or after the others
    /// when `position` is `None`, with the fixture loader's checks against
    /// every other user (`at` names it in problems); nothing changes when
    /// one fails. One user costs a scan and an index rebuild, not a reload
    /// of the whole data set: the control plane stays quick with a million
    /// generated users.
    pub fn put_user(
        &mut self,
        position: Option<usize>,
        user: User,
        at: &crate::store::ItemRef,
    ) -> Result<(), Problems> {
        let app_subs: HashMap<u64, &Vec<String>> = self
            .applications
            .iter()
            .map(|a| (a.id, &a.sub_applications))
            .collect();
        let mut found = user_problems(&user, &app_subs);
        for (p, other) in self.users.iter().enumerate() {
            if Some(p) == position {
                continue;
            }
            if other.id == user.id {
                found.push(format!("id {} is already used", user.id));
            }
            if other.application_id != user.application_id {
                continue;
            }
            if let Some(uid) = &user.uid
                && other.uid.as_ref() == Some(uid)
            {
                found.push(format!(
                    "uid {uid:?} is already used in application {}",
                    user.application_id
                ));
            }
            if other.slug == user.slug {
                found.push(format!(
                    "slug {:?} is already used in application {}",
                    user.slug, user.application_id
                ));
            }
        }
        if !found.is_empty() {
            return Err(Problems(found.into_iter().map(|m| at.problem(m)).collect()));
        }
        let rendered = user.render();
        match position.filter(|&p| p < self.users.len()) {
            Some(p) => {
                self.users[p] = user;
                self.rendered[p] = rendered;
            }
            None => {
                self.users.push(user);
                self.rendered.push(rendered);
            }
        }
        self.rebuild();
        Ok(())
    }

    /// Removes the user at `position`.
    pub fn remove_user_at(&mut self, position: usize) {
        if position < self.users.len() {
            self.users.remove(position);
            self.rendered.remove(position);
            self.rebuild();
        }
    }

    /// The problems `users` would bring if added: each user's own, and ids,
    /// uids and slugs already taken.
    fn check_new_users(&self, users: &[User]) -> Problems {
        let mut problems = Problems::default();
        let app_subs: HashMap<u64, &Vec<String>> = self
            .applications
            .iter()
            .map(|a| (a.id, &a.sub_applications))
            .collect();
        // Borrowed keys: a million cloned strings would cost more than the
        // check itself.
        let total = self.users.len() + users.len();
        // New ids that rise above every old one cannot collide: generated
        // users skip the biggest of the three sets.
        let max_old = self.users.iter().map(|u| u.id).max();
        let rising = users
            .iter()
            .try_fold(max_old, |last, u| (last < Some(u.id)).then_some(Some(u.id)))
            .is_some();
        let mut ids: HashSet<u64> = HashSet::new();
        if !rising {
            ids.reserve(total);
            ids.extend(self.users.iter().map(|u| u.id));
        }
        let mut uids: HashSet<(u64, &str)> = HashSet::with_capacity(total);
        let mut slugs: HashSet<(u64, &str)> = HashSet::with_capacity(total);
        for u in &self.users {
            if let Some(uid) = &u.uid {
                uids.insert((u.application_id, uid));
            }
            slugs.insert((u.application_id, &u.slug));
        }
        for (n, user) in users.iter().enumerate() {
            let mut found = user_problems(user, &app_subs);
            if !rising && !ids.insert(user.id) {
                found.push(format!("id {} is already used", user.id));
            }
            if let Some(uid) = &user.uid
                && !uids.insert((user.application_id, uid))
            {
                found.push(format!(
                    "uid {uid:?} is already used in application {}",
                    user.application_id
                ));
            }
            if !slugs.insert((user.application_id, &user.slug)) {
                found.push(format!(
                    "slug {:?} is already used in application {}",
                    user.slug, user.application_id
                ));
            }
            if !found.is_empty() {
                let at = crate::store::ItemRef {
                    file: "added users".to_owned(),
                    number: n + 1,
                    id: Some(user.id.to_string()),
                };
                for p in found {
                    problems.push(at.problem(p));
                }
            }
        }
        problems
    }

    /// Rebuilds every index from `users` (rendered JSON is kept).
    fn rebuild(&mut self) {
        self.client_by_hash.clear();
        for (i, c) in self.clients.iter().enumerate() {
            self.client_by_hash
                .entry(client_hash(&c.client_id))
                .or_default()
                .push(i as u32);
        }
        let sub_index: HashMap<u64, HashMap<&str, u16>> = self
            .applications
            .iter()
            .map(|a| {
                (
                    a.id,
                    a.sub_applications
                        .iter()
                        .enumerate()
                        .map(|(i, s)| (s.as_str(), i as u16))
                        .collect(),
                )
            })
            .collect();
        let mut order: Vec<u32> = (0..self.users.len() as u32).collect();
        // Fixtures and generated users usually come in id order already.
        if !self.users.is_sorted_by_key(|u| u.id) {
            order.sort_unstable_by_key(|&p| self.users[p as usize].id);
        }
        let mut apps: HashMap<u64, AppIndex> = self
            .applications
            .iter()
            .map(|a| {
                let slots = (a.sub_applications.len() + 1) * 9;
                (
                    a.id,
                    AppIndex {
                        lists: vec![Vec::new(); slots],
                    },
                )
            })
            .collect();
        for p in order {
            let u = &self.users[p as usize];
            let Some(index) = apps.get_mut(&u.application_id) else {
                continue;
            };
            let sub = sub_index
                .get(&u.application_id)
                .and_then(|m| m.get(&*u.sub_application_name))
                .copied();
            let subs = [None, sub];
            let subs = if sub.is_some() { &subs[..] } else { &subs[..1] };
            for &s in subs {
                for e in [None, Some(u.is_expert)] {
                    for sel in [None, Some(u.is_selected)] {
                        let slot = FilterKey {
                            sub: s,
                            expert: e,
                            selected: sel,
                        }
                        .slot();
                        if let Some(list) = index.lists.get_mut(slot) {
                            list.push(p);
                        }
                    }
                }
            }
        }
        self.apps = apps;
    }

    /// All applications, in fixture order.
    pub fn applications(&self) -> &[Application] {
        &self.applications
    }

    /// All clients, in fixture order.
    pub fn clients(&self) -> &[Client] {
        &self.clients
    }

    /// All users, in fixture order.
    pub fn users(&self) -> &[User] {
        &self.users
    }

    /// The application with this id.
    pub fn application(&self, id: u64) -> Option<&Application> {
        self.applications.iter().find(|a| a.id == id)
    }

    /// The client with this id.
    pub fn client(&self, client_id: &str) -> Option<&Client> {
        self.client_by_hash
            .get(&client_hash(client_id))?
            .iter()
            .map(|&i| &self.clients[i as usize])
            .find(|c| c.client_id == client_id)
    }

    /// The clients whose id hashes to `hash` (a token names its client so).
    pub fn clients_with_hash(&self, hash: [u8; 4]) -> impl Iterator<Item = &Client> {
        self.client_by_hash
            .get(&hash)
            .into_iter()
            .flatten()
            .map(|&i| &self.clients[i as usize])
    }

    /// The sub-application filter of `name` in application `app`, `None`
    /// when the application has no such sub-application.
    pub fn sub_key(&self, app: u64, name: &str) -> Option<u16> {
        self.application(app)
            .and_then(|a| a.sub_applications.iter().position(|s| s == name))
            .map(|i| i as u16)
    }

    /// Positions of the users of application `app` matching `filter`,
    /// sorted by id.
    pub fn matching(&self, app: u64, filter: FilterKey) -> &[u32] {
        self.apps
            .get(&app)
            .and_then(|i| i.lists.get(filter.slot()))
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }

    /// The rendered JSON of the user at `position`.
    pub fn rendered(&self, position: u32) -> &str {
        self.rendered
            .get(position as usize)
            .map(|s| &**s)
            .unwrap_or("null")
    }

    /// Position of the user `uid` of application `app`. A scan: anonymize
    /// and delete are rare, and a uid index would cost a string per user.
    fn position_by_uid(&self, app: u64, uid: &str) -> Option<usize> {
        self.users
            .iter()
            .position(|u| u.application_id == app && u.uid.as_deref() == Some(uid))
    }

    /// Anonymizes the user `uid` of application `app` as Logora does: name,
    /// email, uid and image go, id, slug, counts and contributions stay.
    /// Returns the user's id, or `None` when there is no such user.
    pub fn anonymize(&mut self, app: u64, uid: &str) -> Option<u64> {
        let p = self.position_by_uid(app, uid)?;
        let user = self.users.get_mut(p)?;
        user.uid = None;
        user.full_name = ANONYMOUS_NAME.to_owned();
        user.email = None;
        user.image_url = None;
        let id = user.id;
        self.rendered[p] = user.render();
        Some(id)
    }

    /// Deletes the user `uid` of application `app`; returns its id.
    pub fn delete(&mut self, app: u64, uid: &str) -> Option<u64> {
        let p = self.position_by_uid(app, uid)?;
        let user = self.users.remove(p);
        self.rendered.remove(p);
        self.rebuild();
        Some(user.id)
    }
}

/// The name an anonymized user is shown with.
pub const ANONYMOUS_NAME: &str = "Utilisateur supprimé";

fn user_problems(u: &User, app_subs: &HashMap<u64, &Vec<String>>) -> Vec<String> {
    let mut found = Vec::new();
    match app_subs.get(&u.application_id) {
        None => found.push(format!(
            "field application_id: no application {}",
            u.application_id
        )),
        Some(subs) => {
            if !subs.iter().any(|s| **s == *u.sub_application_name) {
                found.push(format!(
                    "field sub_application_name: {:?} is not a sub-application of application {} ({})",
                    u.sub_application_name,
                    u.application_id,
                    subs.join(", ")
                ));
            }
        }
    }
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

/// Every user's JSON, rendered on every core, in order.
fn render_all(users: &[User]) -> Vec<Arc<str>> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let chunk = users.len().div_ceil(threads).max(1024);
    std::thread::scope(|scope| {
        let parts: Vec<_> = users
            .chunks(chunk)
            .map(|part| {
                scope.spawn(|| {
                    let mut buffer = Vec::with_capacity(2048);
                    part.iter()
                        .map(|u| u.render_with(&mut buffer))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        let mut all = Vec::with_capacity(users.len());
        for part in parts {
            all.extend(part.join().unwrap_or_else(|e| std::panic::resume_unwind(e)));
        }
        all
    })
}

/// Appends `items` to `list`. A million users dwarf the fixtures: moving
/// the few old ones in front of the new ones is cheaper than copying the
/// million.
fn append<T>(list: &mut Vec<T>, mut items: Vec<T>) {
    if list.len() < items.len() {
        let old = std::mem::take(list);
        items.splice(0..0, old);
        *list = items;
    } else {
        list.extend(items);
    }
}

/// Users per application, for messages.
pub fn count_by_application(data: &LogoraData) -> BTreeMap<u64, usize> {
    let mut counts = BTreeMap::new();
    for u in &data.users {
        *counts.entry(u.application_id).or_insert(0) += 1;
    }
    counts
}

#[cfg(test)]
mod tests {
    use super::*;

    fn builtin() -> LogoraData {
        let mut problems = Problems::default();
        let data = LogoraData::load(&FixtureFiles::builtin(), &mut problems);
        assert!(problems.is_empty(), "{problems}");
        data
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
        assert_eq!(again.users(), data.users());
        assert_eq!(again.clients(), data.clients());
        assert_eq!(again.applications(), data.applications());
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
        assert_eq!(scope_bits("public write"), Err("write".to_owned()));
    }

    #[test]
    fn added_users_are_checked_and_indexed() {
        let mut data = builtin();
        let mut user = data.users()[0].clone();
        let err = data.add_users(vec![user.clone()]).unwrap_err();
        assert!(err.to_string().contains("id 1 is already used"), "{err}");
        user.id = 5000;
        user.uid = Some("new-uid".to_owned());
        user.slug = "nouveau".to_owned();
        let before = data
            .matching(
                1,
                FilterKey {
                    sub: None,
                    expert: None,
                    selected: None,
                },
            )
            .len();
        data.add_users(vec![user]).unwrap();
        let all = data.matching(
            1,
            FilterKey {
                sub: None,
                expert: None,
                selected: None,
            },
        );
        assert_eq!(all.len(), before + 1);
        assert!(
            data.rendered(*all.last().unwrap())
                .starts_with("{\"id\":5000,")
        );
    }

    /// `n` copies of the first fixture user with fresh ids from `first`.
    fn fresh_users(data: &LogoraData, first: u64, n: u64) -> Vec<User> {
        (0..n)
            .map(|i| {
                let mut user = data.users()[0].clone();
                user.id = first + i;
                user.uid = Some(format!("uid-{}", first + i));
                user.slug = format!("slug-{}", first + i);
                user
            })
            .collect()
    }

    #[test]
    fn a_batch_bigger_than_the_data_lands_after_it_with_its_json_aligned() {
        let mut data = builtin();
        let old: Vec<u64> = data.users().iter().map(|u| u.id).collect();
        let batch = fresh_users(&data, 10_000, old.len() as u64 * 3);
        data.add_users(batch).unwrap();
        let ids: Vec<u64> = data.users().iter().map(|u| u.id).collect();
        assert_eq!(ids[..old.len()], old[..]);
        assert_eq!(ids[old.len()], 10_000);
        for (p, user) in data.users().iter().enumerate() {
            let json: Value = serde_json::from_str(data.rendered(p as u32)).unwrap();
            assert_eq!(json["id"], user.id, "position {p}");
        }
    }

    #[test]
    fn rising_ids_still_have_their_uids_and_slugs_checked() {
        let mut data = builtin();
        let mut batch = fresh_users(&data, 10_000, 3);
        batch[2].uid = batch[0].uid.clone();
        batch[1].slug = data.users()[0].slug.clone();
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
        assert_eq!(data.users().len(), builtin().users().len(), "nothing added");
    }

    #[test]
    fn a_user_in_an_unknown_sub_application_is_reported() {
        let mut data = builtin();
        let mut user = data.users()[0].clone();
        user.id = 6000;
        user.uid = None;
        user.slug = "x".to_owned();
        user.sub_application_name = "nulle-part".into();
        let err = data.add_users(vec![user]).unwrap_err().to_string();
        assert!(
            err.contains("\"nulle-part\" is not a sub-application of application 1"),
            "{err}"
        );
    }
}
