//! Logora fixture data: applications (a Logora customer site and its
//! sub-applications), API clients (the key pairs of the admin panel's
//! "Configuration > Général" tab) and users, in the shape of the
//! "Données utilisateurs" page's example (../shared/seeds) plus four
//! doublure-only fields that place a user and drive the list filters.
//!
//! Loading validates everything and keeps what a request needs so that it
//! only slices and concatenates: each user as a compact record around its
//! public JSON, rendered once, and per application the slots of its users
//! sorted by id, for every combination of the three list filters.
//!
//! Users and indexes are persistent vectors (`imbl`): a copy of the data
//! shares every user with the original, and changing one user copies a
//! few tree nodes, not the million others. That is what lets a namespace
//! start from the loaded data for free and change it in milliseconds.

use std::collections::{HashMap, HashSet};
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::store::{FixtureFiles, Item, ItemRef, Problem, Problems};

/// Collections the control plane can change: fixture file and id key.
pub const COLLECTIONS: &[(&str, &str)] = &[
    ("logora/applications.json", "id"),
    ("logora/clients.json", "client_id"),
    ("logora/users.json", "id"),
];

/// The users' fixture file.
pub const USERS_FILE: &str = "logora/users.json";

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

/// A Logora user as fixtures and the control plane write it: the 17 fields
/// the API returns, any other field of a newer API version (`hash_id`,
/// `first_name`, …; served back after the 17, in the order given), then the
/// four that only doublure reads, each with a default, so that a user
/// copied from a real answer loads as it is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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
    /// Fields the emulation does not know, kept and served as given.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
    /// Default: the first application.
    #[serde(default)]
    pub application_id: Option<u64>,
    /// Default: none (the user matches no `sub_application_name` filter).
    #[serde(default)]
    pub sub_application_name: Option<Arc<str>>,
    #[serde(default)]
    pub is_expert: bool,
    #[serde(default)]
    pub is_selected: bool,
}

/// The fields the API shows: the 17 of the seed page, in its order, then
/// the extra ones.
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
    #[serde(flatten)]
    extra: &'a Map<String, Value>,
}

impl User {
    /// The user as the API returns it, written into `buffer` (cleared
    /// first): rendering many users through one buffer saves the
    /// reallocations of a growing string.
    fn render_into(&self, buffer: &mut Vec<u8>) -> Box<str> {
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
            extra: &self.extra,
        };
        buffer.clear();
        // Serializing strings, numbers and JSON values into memory cannot
        // fail, and serde_json writes valid UTF-8.
        if serde_json::to_writer(&mut *buffer, &public).is_err() {
            return Box::from("null");
        }
        Box::from(std::str::from_utf8(buffer).unwrap_or("null"))
    }

    /// The user as the API returns it.
    pub fn render(&self) -> Box<str> {
        self.render_into(&mut Vec::new())
    }
}

/// A loaded user: its public JSON, rendered once, and the few fields the
/// indexes and checks read. The rest lives only in the JSON, read back
/// when the control plane asks for the user: a million users cost their
/// JSON and little else.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub id: u64,
    pub application_id: u64,
    pub sub_application_name: Option<Arc<str>>,
    pub is_expert: bool,
    pub is_selected: bool,
    /// Hashes of the uid (0 without one) and the slug: they are only
    /// compared, and a hash that matches is confirmed from the JSON.
    uid_hash: u64,
    slug_hash: u64,
    json: Box<str>,
}

fn hash_of(value: &str) -> u64 {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    value.hash(&mut hasher);
    // Never 0, which stands for "no uid".
    hasher.finish() | 1
}

/// Hashing for keys made of hashes (an application id and the hash of a
/// uid or slug): a multiply spreads them over the table, where SipHash
/// would hash a million hashes again at start-up.
#[derive(Debug, Clone, Copy, Default)]
struct Prehashed;

impl std::hash::BuildHasher for Prehashed {
    type Hasher = PrehashedHasher;

    fn build_hasher(&self) -> PrehashedHasher {
        PrehashedHasher(0)
    }
}

#[derive(Debug)]
struct PrehashedHasher(u64);

impl Hasher for PrehashedHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u64(u64::from(b));
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0.rotate_left(26) ^ n).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

/// What uniqueness checks and lookups scan, one per slot, kept apart from
/// the records in a vector of its own: a million of them are 40 MB read in
/// order, where the records would be a million pointers to follow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Key {
    id: u64,
    app: u64,
    uid: u64,
    slug: u64,
    /// False for the slot of a removed user.
    live: bool,
}

impl Key {
    const REMOVED: Key = Key {
        id: 0,
        app: 0,
        uid: 0,
        slug: 0,
        live: false,
    };

    fn of(r: &Record) -> Key {
        Key {
            id: r.id,
            app: r.application_id,
            uid: r.uid_hash,
            slug: r.slug_hash,
            live: true,
        }
    }
}

impl Record {
    /// `user`, rendered, in `application_id` (its own, resolved).
    fn new(user: &User, application_id: u64, buffer: &mut Vec<u8>) -> Self {
        Self {
            id: user.id,
            application_id,
            sub_application_name: user.sub_application_name.clone(),
            is_expert: user.is_expert,
            is_selected: user.is_selected,
            uid_hash: user.uid.as_deref().map_or(0, hash_of),
            slug_hash: hash_of(&user.slug),
            json: user.render_into(buffer),
        }
    }

    /// The public JSON object the API shows.
    pub fn json(&self) -> &str {
        &self.json
    }

    /// The uid, read from the JSON.
    pub fn uid(&self) -> Option<String> {
        self.field("uid")
    }

    /// The user in the fixture format, read back from the JSON.
    pub fn user(&self) -> User {
        let mut user: User = match serde_json::from_str(&self.json) {
            Ok(user) => user,
            // The JSON was rendered from a `User`: it always reads back.
            Err(e) => unreachable_user(self.id, &e),
        };
        user.application_id = Some(self.application_id);
        user.sub_application_name = self.sub_application_name.clone();
        user.is_expert = self.is_expert;
        user.is_selected = self.is_selected;
        user
    }

    fn slug(&self) -> String {
        self.field("slug").unwrap_or_default()
    }

    /// A text field of the JSON (the slow path: hashes are compared first).
    fn field(&self, name: &str) -> Option<String> {
        serde_json::from_str::<Value>(&self.json)
            .ok()?
            .get(name)?
            .as_str()
            .map(str::to_owned)
    }
}

/// A user whose rendered JSON does not read back: a bug, shown as an empty
/// user rather than a panic on a request path.
fn unreachable_user(id: u64, error: &serde_json::Error) -> User {
    tracing::error!("user {id}: rendered JSON does not read back: {error}");
    User {
        id,
        uid: None,
        image_url: None,
        full_name: String::new(),
        level: Arc::new(Level {
            id: 0,
            name: String::new(),
            icon_url: String::new(),
        }),
        score: 0,
        slug: String::new(),
        points: 0,
        description: None,
        created_at: String::new(),
        messages_count: 0,
        votes_count: 0,
        email: None,
        age: None,
        city: None,
        occupation: None,
        interests: None,
        extra: Map::new(),
        application_id: None,
        sub_application_name: None,
        is_expert: false,
        is_selected: false,
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
    scope_str(bits).to_owned()
}

/// [`scope_text`] without an allocation: each token issued says its scope.
pub fn scope_str(bits: u8) -> &'static str {
    // Every combination of `SCOPES`, in their order (a test checks).
    const ALL: [&str; 8] = [
        "",
        "public",
        "authentication",
        "public authentication",
        "admin",
        "public admin",
        "authentication admin",
        "public authentication admin",
    ];
    ALL[usize::from(bits & 0b111)]
}

/// The 3-byte hash of a client id that tokens carry.
pub fn client_hash(client_id: &str) -> [u8; 3] {
    let digest = Sha256::digest(client_id.as_bytes());
    [digest[0], digest[1], digest[2]]
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
    /// No filter: every user of the application.
    pub const ALL: Self = Self {
        sub: None,
        expert: None,
        selected: None,
    };

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

    /// The filters a user with these values appears under.
    fn of(sub: Option<u16>, expert: bool, selected: bool) -> impl Iterator<Item = FilterKey> {
        let subs: &'static [bool] = if sub.is_some() {
            &[false, true]
        } else {
            &[false]
        };
        subs.iter().flat_map(move |&with_sub| {
            let sub = if with_sub { sub } else { None };
            [None, Some(expert)].into_iter().flat_map(move |expert| {
                [None, Some(selected)]
                    .into_iter()
                    .map(move |selected| FilterKey {
                        sub,
                        expert,
                        selected,
                    })
            })
        })
    }
}

/// The slots of a list: positions in [`LogoraData`]'s user slots.
pub type Slots = imbl::Vector<u32>;

/// What a users request of one application reads.
#[derive(Debug, Clone, Default)]
struct AppIndex {
    /// The application's sub-applications, for filter keys.
    subs: Vec<Arc<str>>,
    /// Slots of its users, sorted by user id, per filter combination
    /// (indexed by [`FilterKey::slot`]).
    lists: Vec<Slots>,
}

impl AppIndex {
    fn sub_key(&self, name: &str) -> Option<u16> {
        self.subs
            .iter()
            .position(|s| &**s == name)
            .map(|i| i as u16)
    }
}

/// All Logora data. Cloning it is cheap: users and indexes are shared
/// until one side changes.
#[derive(Debug, Clone, Default)]
pub struct LogoraData {
    // Private: every change goes through a method that keeps the indexes.
    applications: Arc<Vec<Application>>,
    clients: Arc<Vec<Client>>,
    client_by_hash: Arc<HashMap<[u8; 3], Vec<u32>>>,
    /// Every user in fixture order; a removed user leaves an empty slot, so
    /// that the slots the indexes hold stay valid.
    slots: imbl::Vector<Option<Arc<Record>>>,
    /// Each slot's key, for scans.
    keys: imbl::Vector<Key>,
    /// Users in `slots`.
    live: usize,
    apps: Arc<HashMap<u64, AppIndex>>,
}

/// Applications' sub-applications by id, for checks.
type AppSubs<'a> = HashMap<u64, &'a [String]>;

fn app_subs(applications: &[Application]) -> AppSubs<'_> {
    applications
        .iter()
        .map(|a| (a.id, a.sub_applications.as_slice()))
        .collect()
}

impl LogoraData {
    /// Loads and checks the Logora collections of `files`.
    pub fn load(files: &FixtureFiles, problems: &mut Problems) -> Self {
        let applications: Vec<Item<Application>> =
            files.collection("logora/applications.json", "id", problems);
        let clients: Vec<Item<Client>> =
            files.collection("logora/clients.json", "client_id", problems);
        let users: Vec<Item<User>> = files.collection(USERS_FILE, "id", problems);
        let applications = check_applications(applications, problems);
        let clients = check_clients(clients, &applications, problems);
        let mut data = Self::with_settings_only(applications, clients);
        let (users, refs): (Vec<User>, Vec<ItemRef>) =
            users.into_iter().map(|i| (i.data, i.at)).unzip();
        let (records, found) = data.prepare_all(&users, &refs);
        for p in found.0 {
            problems.push(p);
        }
        if let Err(found) = data.add_records(records, &refs) {
            for p in found.0 {
                problems.push(p);
            }
        }
        data
    }

    /// Applications and clients, no users.
    fn with_settings_only(applications: Vec<Application>, clients: Vec<Client>) -> Self {
        let mut data = Self {
            applications: Arc::new(applications),
            clients: Arc::new(clients),
            ..Self::default()
        };
        data.index_clients();
        data.rebuild();
        data
    }

    fn index_clients(&mut self) {
        let mut by_hash: HashMap<[u8; 3], Vec<u32>> = HashMap::new();
        for (i, c) in self.clients.iter().enumerate() {
            by_hash
                .entry(client_hash(&c.client_id))
                .or_default()
                .push(i as u32);
        }
        self.client_by_hash = Arc::new(by_hash);
    }

    /// The user `user` would be once loaded, or what is wrong with it
    /// (application, sub-application, dates, slug, uid; not uniqueness,
    /// which [`LogoraData::add_records`] checks).
    pub fn prepare(
        &self,
        user: &User,
        at: &ItemRef,
        buffer: &mut Vec<u8>,
    ) -> Result<Record, Vec<Problem>> {
        let subs = app_subs(&self.applications);
        let application_id = user
            .application_id
            .or_else(|| self.applications.first().map(|a| a.id));
        let found = user_problems(user, application_id, &subs);
        match application_id {
            Some(app) if found.is_empty() => Ok(Record::new(user, app, buffer)),
            _ => Err(found.into_iter().map(|m| at.problem(m)).collect()),
        }
    }

    /// [`LogoraData::prepare`] for many users, rendered on every core:
    /// rendering is most of the work with a million users.
    pub fn prepare_all(&self, users: &[User], at: &[ItemRef]) -> (Vec<Record>, Problems) {
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        let chunk = users.len().div_ceil(threads).max(1024);
        let parts: Vec<(Vec<Record>, Vec<Problem>)> = std::thread::scope(|scope| {
            let workers: Vec<_> = users
                .chunks(chunk)
                .zip(at.chunks(chunk))
                .map(|(users, at)| {
                    scope.spawn(move || {
                        let mut buffer = Vec::with_capacity(2048);
                        let mut records = Vec::with_capacity(users.len());
                        let mut problems = Vec::new();
                        for (user, at) in users.iter().zip(at) {
                            match self.prepare(user, at, &mut buffer) {
                                Ok(record) => records.push(record),
                                Err(found) => problems.extend(found),
                            }
                        }
                        (records, problems)
                    })
                })
                .collect();
            workers
                .into_iter()
                .map(|w| w.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
                .collect()
        });
        let mut records = Vec::with_capacity(users.len());
        let mut problems = Problems::default();
        for (r, p) in parts {
            records.extend(r);
            problems.0.extend(p);
        }
        (records, problems)
    }

    /// Appends prepared users after the others, checking that their ids,
    /// uids and slugs are not taken (by the others or within the batch);
    /// nothing is added when one is. `at` names each record in problems
    /// (the batch's items, in order; fewer entries name the rest by
    /// position).
    pub fn add_records(&mut self, records: Vec<Record>, at: &[ItemRef]) -> Result<(), Problems> {
        let problems = self.check_new(&records, at);
        if !problems.is_empty() {
            return Err(problems);
        }
        self.live += records.len();
        self.keys.extend(records.iter().map(Key::of));
        self.slots
            .extend(records.into_iter().map(|r| Some(Arc::new(r))));
        self.rebuild();
        Ok(())
    }

    /// Appends users (a data generator's, a test's), with every check of
    /// [`LogoraData::prepare`] and [`LogoraData::add_records`].
    pub fn add_users(&mut self, users: Vec<User>) -> Result<(), Problems> {
        let at: Vec<ItemRef> = users
            .iter()
            .enumerate()
            .map(|(n, u)| ItemRef {
                file: "added users".to_owned(),
                number: n + 1,
                id: Some(u.id.to_string()),
            })
            .collect();
        let (records, problems) = self.prepare_all(&users, &at);
        problems.into_result(())?;
        self.add_records(records, &at)
    }

    /// The problems `records` would bring if added: ids, uids and slugs
    /// already taken.
    fn check_new(&self, records: &[Record], at: &[ItemRef]) -> Problems {
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

    /// Every user, in fixture order.
    pub fn records(&self) -> impl Iterator<Item = &Record> {
        self.slots.iter().filter_map(|s| s.as_deref())
    }

    /// How many users there are.
    pub fn user_count(&self) -> usize {
        self.live
    }

    /// Rebuilds every list from the user slots.
    fn rebuild(&mut self) {
        // Per application: its sub-applications, and a growing list per
        // filter.
        type Building = (Vec<Arc<str>>, Vec<Vec<u32>>);
        let mut apps: HashMap<u64, Building> = self
            .applications
            .iter()
            .map(|a| {
                let slots = (a.sub_applications.len() + 1) * 9;
                (
                    a.id,
                    (
                        a.sub_applications
                            .iter()
                            .map(|s| Arc::from(s.as_str()))
                            .collect(),
                        vec![Vec::new(); slots],
                    ),
                )
            })
            .collect();
        let mut order: Vec<(u64, u32)> = self
            .slots
            .iter()
            .enumerate()
            .filter_map(|(slot, r)| r.as_ref().map(|r| (r.id, slot as u32)))
            .collect();
        // Fixtures and generated users usually come in id order already.
        if !order.is_sorted_by_key(|(id, _)| *id) {
            order.sort_unstable_by_key(|(id, _)| *id);
        }
        for (_, slot) in order {
            let Some(Some(r)) = self.slots.get(slot as usize) else {
                continue;
            };
            let Some((subs, lists)) = apps.get_mut(&r.application_id) else {
                continue;
            };
            let sub = r
                .sub_application_name
                .as_deref()
                .and_then(|name| subs.iter().position(|s| &**s == name))
                .map(|i| i as u16);
            for key in FilterKey::of(sub, r.is_expert, r.is_selected) {
                if let Some(list) = lists.get_mut(key.slot()) {
                    list.push(slot);
                }
            }
        }
        self.apps = Arc::new(
            apps.into_iter()
                .map(|(id, (subs, lists))| {
                    (
                        id,
                        AppIndex {
                            subs,
                            lists: lists.into_iter().map(Slots::from).collect(),
                        },
                    )
                })
                .collect(),
        );
    }

    /// The data in the fixture format.
    pub fn export(&self) -> Vec<(&'static str, Value)> {
        let mut files = self.export_settings();
        files.push((USERS_FILE, Value::Array(self.user_values().collect())));
        files
    }

    /// How many slots there are (removed users leave theirs empty).
    pub fn slot_count(&self) -> usize {
        self.slots.len()
    }

    /// The user in `slot` in the fixture format, as JSON text.
    pub fn user_json(&self, slot: usize) -> Option<Vec<u8>> {
        let record = self.slots.get(slot)?.as_deref()?;
        serde_json::to_vec(&record.user()).ok()
    }

    /// Each user in the fixture format, in fixture order.
    pub fn user_values(&self) -> impl Iterator<Item = Value> + '_ {
        self.records()
            .map(|r| serde_json::to_value(r.user()).unwrap_or(Value::Null))
    }

    /// Applications and clients in the fixture format: `export` without
    /// the users.
    pub fn export_settings(&self) -> Vec<(&'static str, Value)> {
        let array = |v: Result<Value, serde_json::Error>| v.unwrap_or(Value::Array(Vec::new()));
        vec![
            (
                "logora/applications.json",
                array(serde_json::to_value(&*self.applications)),
            ),
            (
                "logora/clients.json",
                array(serde_json::to_value(&*self.clients)),
            ),
        ]
    }

    /// These users with the applications and clients of `files` (which
    /// hold no users), once each user is checked against the new
    /// applications. A change of an application or a client so costs a
    /// check per user, not a reload.
    pub fn with_settings_of(&self, files: &FixtureFiles) -> Result<LogoraData, Problems> {
        let mut problems = Problems::default();
        let mut next = LogoraData::load(files, &mut problems);
        problems.into_result(())?;
        let subs = app_subs(&next.applications);
        let mut problems = Problems::default();
        for (n, record) in self.slots.iter().enumerate() {
            let Some(record) = record else { continue };
            let found = record_problems(record, &subs);
            if !found.is_empty() {
                let at = ItemRef {
                    file: format!("state/{USERS_FILE}"),
                    number: n + 1,
                    id: Some(record.id.to_string()),
                };
                for p in found {
                    problems.push(at.problem(p));
                }
            }
        }
        problems.into_result(())?;
        next.slots = self.slots.clone();
        next.keys = self.keys.clone();
        next.live = self.live;
        if next.applications == self.applications {
            next.apps = Arc::clone(&self.apps);
        } else {
            next.rebuild();
        }
        Ok(next)
    }

    /// All applications, in fixture order.
    pub fn applications(&self) -> &[Application] {
        &self.applications
    }

    /// All clients, in fixture order.
    pub fn clients(&self) -> &[Client] {
        &self.clients
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
    pub fn clients_with_hash(&self, hash: [u8; 3]) -> impl Iterator<Item = &Client> {
        self.client_by_hash
            .get(&hash)
            .into_iter()
            .flatten()
            .map(|&i| &self.clients[i as usize])
    }

    /// The sub-application filter of `name` in application `app`, `None`
    /// when the application has no such sub-application.
    pub fn sub_key(&self, app: u64, name: &str) -> Option<u16> {
        self.apps.get(&app)?.sub_key(name)
    }

    /// Slots of the users of application `app` matching `filter`, sorted
    /// by id (`None`: no such application or filter).
    pub fn matching(&self, app: u64, filter: FilterKey) -> Option<&Slots> {
        self.apps.get(&app)?.lists.get(filter.slot())
    }

    /// The user in `slot`.
    pub fn record(&self, slot: u32) -> Option<&Record> {
        self.slots.get(slot as usize)?.as_deref()
    }

    /// Calls `f` with the public JSON of each user in `slots[range]`, in
    /// order.
    pub fn for_each_in(
        &self,
        slots: &Slots,
        range: std::ops::Range<usize>,
        mut f: impl FnMut(&str),
    ) {
        let mut users = self.slots.focus();
        for &slot in slots.focus().narrow(range) {
            if let Some(Some(record)) = users.get(slot as usize) {
                f(record.json());
            }
        }
    }

    /// The slot of the user with this id.
    pub fn slot_of_id(&self, id: u64) -> Option<u32> {
        // Every user sits in its application's unfiltered list, sorted by
        // id: a binary search per application.
        self.apps.values().find_map(|index| {
            let all = index.lists.get(FilterKey::ALL.slot())?;
            let at = all
                .binary_search_by_key(&id, |&slot| self.record(slot).map_or(0, |r| r.id))
                .ok()?;
            all.get(at).copied()
        })
    }

    /// Slot of the user `uid` of application `app`: a scan of the keys
    /// (anonymize and delete are rare, and an index would cost memory per
    /// user).
    fn slot_of_uid(&self, app: u64, uid: &str) -> Option<u32> {
        let hash = hash_of(uid);
        self.keys
            .iter()
            .enumerate()
            .filter(|(_, k)| k.live && k.app == app && k.uid == hash)
            .map(|(slot, _)| slot as u32)
            .find(|&slot| {
                self.record(slot)
                    .is_some_and(|r| r.uid().as_deref() == Some(uid))
            })
    }

    /// Puts `user` in place of the user in `slot`, or after the others when
    /// `slot` is `None`, with the fixture loader's checks against every
    /// other user (`at` names it in problems); nothing changes when one
    /// fails. One user costs a scan and a few tree nodes, not a copy or a
    /// reload of the data: the control plane stays quick with a million
    /// generated users, in every namespace.
    pub fn put_user(
        &mut self,
        slot: Option<u32>,
        user: User,
        at: &ItemRef,
    ) -> Result<(), Problems> {
        let record = self.prepare(&user, at, &mut Vec::new()).map_err(Problems)?;
        let slot = slot.filter(|&s| self.record(s).is_some());
        let mut found = Vec::new();
        let new = Key::of(&record);
        for (s, other) in self.keys.iter().enumerate() {
            if !other.live || Some(s as u32) == slot {
                continue;
            }
            if other.id == new.id {
                found.push(format!("id {} is already used", new.id));
            }
            if other.app != new.app {
                continue;
            }
            let same = |field: &str, mine: Option<&str>| {
                self.record(s as u32)
                    .is_some_and(|r| r.field(field).as_deref() == mine)
            };
            if new.uid != 0 && other.uid == new.uid && same("uid", user.uid.as_deref()) {
                found.push(format!(
                    "uid {:?} is already used in application {}",
                    user.uid.as_deref().unwrap_or_default(),
                    new.app
                ));
            }
            if other.slug == new.slug && same("slug", Some(&user.slug)) {
                found.push(format!(
                    "slug {:?} is already used in application {}",
                    user.slug, new.app
                ));
            }
        }
        if !found.is_empty() {
            return Err(Problems(found.into_iter().map(|m| at.problem(m)).collect()));
        }
        let record = Arc::new(record);
        match slot {
            Some(slot) => self.replace_in(slot, record, new),
            None => {
                let slot = self.slots.len() as u32;
                self.keys.push_back(new);
                self.slots.push_back(Some(record));
                self.live += 1;
                self.index(slot);
            }
        }
        Ok(())
    }

    /// Removes the user in `slot`.
    pub fn remove_slot(&mut self, slot: u32) {
        if self.record(slot).is_some() {
            self.unindex(slot);
            self.keys.set(slot as usize, Key::REMOVED);
            self.slots.set(slot as usize, None);
            self.live -= 1;
        }
    }

    /// Where a user sits in the lists: its application, its id, and the
    /// filter lists it belongs to.
    fn placement(&self, r: &Record) -> Option<(u64, u64, Vec<usize>)> {
        let index = self.apps.get(&r.application_id)?;
        let sub = r
            .sub_application_name
            .as_deref()
            .and_then(|name| index.sub_key(name));
        Some((
            r.application_id,
            r.id,
            FilterKey::of(sub, r.is_expert, r.is_selected)
                .map(FilterKey::slot)
                .collect(),
        ))
    }

    /// Puts `slot` into (`add`) or takes it out of the `lists` of
    /// application `app`, at the place of `id`.
    fn place(&mut self, slot: u32, (app, id, lists): (u64, u64, Vec<usize>), add: bool) {
        let mut apps = Arc::clone(&self.apps);
        let Some(index) = Arc::make_mut(&mut apps).get_mut(&app) else {
            return;
        };
        for key in lists {
            let Some(list) = index.lists.get_mut(key) else {
                continue;
            };
            let found = list.binary_search_by_key(&id, |&s| self.record(s).map_or(0, |r| r.id));
            match (found, add) {
                (Err(at), true) => list.insert(at, slot),
                (Ok(at), false) => {
                    list.remove(at);
                }
                _ => {}
            }
        }
        self.apps = apps;
    }

    /// Adds the user in `slot` to its lists, in id order.
    fn index(&mut self, slot: u32) {
        if let Some(placement) = self.record(slot).and_then(|r| self.placement(r)) {
            self.place(slot, placement, true);
        }
    }

    /// Takes the user in `slot` out of its lists.
    fn unindex(&mut self, slot: u32) {
        if let Some(placement) = self.record(slot).and_then(|r| self.placement(r)) {
            self.place(slot, placement, false);
        }
    }

    /// Replaces the user in `slot`, moving it only between the lists whose
    /// membership changed: a change of city touches no list, a change of
    /// the expert flag only the lists that filter on it.
    fn replace_in(&mut self, slot: u32, record: Arc<Record>, key: Key) {
        let old = self.record(slot).and_then(|r| self.placement(r));
        let new = self.placement(&record);
        match (old, new) {
            (Some((old_app, old_id, old_lists)), Some((app, id, lists)))
                if old_app == app && old_id == id =>
            {
                let gone: Vec<usize> = old_lists
                    .iter()
                    .copied()
                    .filter(|l| !lists.contains(l))
                    .collect();
                let came: Vec<usize> = lists
                    .iter()
                    .copied()
                    .filter(|l| !old_lists.contains(l))
                    .collect();
                if !gone.is_empty() {
                    self.place(slot, (app, id, gone), false);
                }
                self.keys.set(slot as usize, key);
                self.slots.set(slot as usize, Some(record));
                if !came.is_empty() {
                    self.place(slot, (app, id, came), true);
                }
            }
            _ => {
                self.unindex(slot);
                self.keys.set(slot as usize, key);
                self.slots.set(slot as usize, Some(record));
                self.index(slot);
            }
        }
    }

    /// Anonymizes the user `uid` of application `app` as Logora does: name,
    /// email, uid and image go, id, slug, counts and contributions stay.
    /// Returns the user's id, or `None` when there is no such user.
    pub fn anonymize(&mut self, app: u64, uid: &str) -> Option<u64> {
        let slot = self.slot_of_uid(app, uid)?;
        let current = self.record(slot)?;
        let mut user = current.user();
        user.uid = None;
        user.full_name = ANONYMOUS_NAME.to_owned();
        user.email = None;
        user.image_url = None;
        let record = Record::new(&user, current.application_id, &mut Vec::new());
        // Id, application, sub-application and flags are unchanged: the
        // lists stay as they are.
        self.keys.set(slot as usize, Key::of(&record));
        self.slots.set(slot as usize, Some(Arc::new(record)));
        Some(user.id)
    }

    /// Deletes the user `uid` of application `app`; returns its id.
    pub fn delete(&mut self, app: u64, uid: &str) -> Option<u64> {
        let slot = self.slot_of_uid(app, uid)?;
        let id = self.record(slot)?.id;
        self.remove_slot(slot);
        Some(id)
    }
}

/// The name an anonymized user is shown with.
pub const ANONYMOUS_NAME: &str = "Utilisateur supprimé";

fn check_applications(items: Vec<Item<Application>>, problems: &mut Problems) -> Vec<Application> {
    problems.check_unique(&items, "id", |a| a.id);
    for app in &items {
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

fn check_clients(
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

fn user_problems(u: &User, application_id: Option<u64>, subs: &AppSubs<'_>) -> Vec<String> {
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

fn record_problems(r: &Record, subs: &AppSubs<'_>) -> Vec<String> {
    placement_problems(
        Some(r.application_id),
        r.sub_application_name.as_deref(),
        subs,
    )
}

/// Users per application.
#[cfg(test)]
fn count_by_application(data: &LogoraData) -> std::collections::BTreeMap<u64, usize> {
    let mut counts = std::collections::BTreeMap::new();
    for r in data.records() {
        *counts.entry(r.application_id).or_insert(0) += 1;
    }
    counts
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
