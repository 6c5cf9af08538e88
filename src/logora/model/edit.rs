//! Changes through the control plane: put, remove, anonymize and delete a
//! user, keeping the indexes.

use std::sync::Arc;

use super::record::{Key, Record};
use super::types::User;
use super::{ANONYMOUS_NAME, LogoraData};
use crate::store::{ItemRef, Problems};

impl LogoraData {
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
}

impl LogoraData {
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
