//! Loading the Logora collections from fixture files, and exporting them
//! back.

use std::sync::Arc;

use serde_json::Value;

use super::checks::{app_subs, check_applications, check_clients, record_problems, user_problems};
use super::clients::ClientIndex;
use super::record::{Key, Record};
use super::types::{Application, Client, User};
use super::{LogoraData, USERS_FILE};
use crate::store::{FixtureFiles, Item, ItemRef, Problem, Problems};

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
        self.client_index = Arc::new(ClientIndex::new(&self.clients));
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
}

impl LogoraData {
    /// The data in the fixture format.
    pub fn export(&self) -> Vec<(&'static str, Value)> {
        let mut files = self.export_settings();
        files.push((USERS_FILE, Value::Array(self.user_values().collect())));
        files
    }
}

impl LogoraData {
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
}
