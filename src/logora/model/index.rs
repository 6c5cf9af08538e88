//! The filter index: per application, the slots of its users sorted by id
//! for every combination of the three list filters, kept up to date as
//! users change.

use std::collections::HashMap;
use std::sync::Arc;

use super::LogoraData;
use super::hasher::hash_of;
use super::record::{Key, Record};

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
    pub(super) fn of(
        sub: Option<u16>,
        expert: bool,
        selected: bool,
    ) -> impl Iterator<Item = FilterKey> {
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
pub(super) struct AppIndex {
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

impl LogoraData {
    /// Rebuilds every list from the user slots.
    pub(super) fn rebuild(&mut self) {
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
}

impl LogoraData {
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
}

impl LogoraData {
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
    pub(super) fn slot_of_uid(&self, app: u64, uid: &str) -> Option<u32> {
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
}

impl LogoraData {
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
    pub(super) fn index(&mut self, slot: u32) {
        if let Some(placement) = self.record(slot).and_then(|r| self.placement(r)) {
            self.place(slot, placement, true);
        }
    }

    /// Takes the user in `slot` out of its lists.
    pub(super) fn unindex(&mut self, slot: u32) {
        if let Some(placement) = self.record(slot).and_then(|r| self.placement(r)) {
            self.place(slot, placement, false);
        }
    }

    /// Replaces the user in `slot`, moving it only between the lists whose
    /// membership changed: a change of city touches no list, a change of
    /// the expert flag only the lists that filter on it.
    pub(super) fn replace_in(&mut self, slot: u32, record: Arc<Record>, key: Key) {
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
}
