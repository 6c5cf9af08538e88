//! The lookup indexes of the w.c.s. data, rebuilt at load and kept up
//! to date by each change to one user or form.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use chrono::NaiveDateTime;

use super::{Form, User, WcsData, fresh_cells, parse_time};

/// Lookup tables, kept up to date by each change.
#[derive(Debug, Clone, Default)]
pub struct Index {
    pub user_by_id: imbl::HashMap<i64, usize>,
    pub role_by_id: HashMap<String, usize>,
    pub category_by_id: HashMap<String, usize>,
    pub formdef_by_id: HashMap<String, usize>,
    pub access_by_id: HashMap<String, usize>,
    /// Each form's position by id.
    pub form_by_id: imbl::HashMap<i64, usize>,
    /// Forms of each user, sorted by receipt time then id.
    pub forms_by_user: imbl::HashMap<i64, Vec<usize>>,
    /// Forms by concerned role (`_user:<id>` included).
    pub forms_by_role: imbl::HashMap<String, Vec<usize>>,
    /// Parsed receipt time of each form.
    pub receipt: imbl::Vector<NaiveDateTime>,
    /// Users ordered by unaccented lower-case name, then name, then id.
    pub users_by_name: imbl::Vector<usize>,
    /// Lower-cased, unaccented name of each user.
    pub ascii_names: imbl::Vector<String>,
    /// Lower-cased email to the first active, non-deleted user.
    pub user_by_email: imbl::HashMap<String, usize>,
    /// Name identifier to the first non-deleted user holding it.
    pub user_by_name_id: imbl::HashMap<String, usize>,
    /// Each user's directory item, rendered once on first use (a million
    /// generated users are not all rendered at load), and shared by the
    /// data that still holds the same user with the same roles.
    pub list_json: imbl::Vector<Arc<OnceLock<String>>>,
    /// Each form's listing item without its final `readable` key and
    /// closing brace, rendered once on first use and cut where the base
    /// URL goes, so that every namespace (each with its own base URL)
    /// reads the same pieces.
    pub form_json: imbl::Vector<Arc<OnceLock<Vec<String>>>>,
}

/// The key of `user_by_email` a user holds, if any.
fn email_key(u: &User) -> Option<String> {
    match &u.email {
        Some(e) if u.is_active && !u.deleted => Some(e.to_lowercase()),
        _ => None,
    }
}

/// Whether `email` lower-cases to `key` (itself lower-case), without
/// allocating for an ASCII address.
fn email_is(email: &str, key: &str) -> bool {
    if email.is_ascii() {
        email.eq_ignore_ascii_case(key)
    } else {
        email.to_lowercase() == key
    }
}

/// Where a user goes in `users_by_name`.
fn name_order(ascii: &str, u: &User) -> (String, String, i64) {
    (ascii.to_owned(), u.name.clone(), u.id)
}

impl WcsData {
    /// The position of user `id`.
    pub fn user_position(&self, id: i64) -> Option<usize> {
        self.index.user_by_id.get(&id).copied()
    }

    /// Puts `user` at `position` (a new user: the end), keeping every
    /// index up to date. The caller checked it: its id is not another
    /// user's, its roles exist, and no form loses its user.
    pub fn set_user(&mut self, position: usize, user: User) {
        let user = Arc::new(user);
        let old = self.users.get(position).cloned();
        let ascii = crate::wcs::text::unaccent(&user.name).to_lowercase();
        let ix = &mut self.index;
        match &old {
            Some(old) => {
                let old_ascii = ix.ascii_names.get(position).cloned().unwrap_or_default();
                if name_order(&old_ascii, old) != name_order(&ascii, &user) {
                    let key = name_order(&old_ascii, old);
                    let users = &self.users;
                    let names = &ix.ascii_names;
                    if let Ok(k) = ix
                        .users_by_name
                        .binary_search_by(|&j| name_order(&names[j], &users[j]).cmp(&key))
                    {
                        ix.users_by_name.remove(k);
                    }
                    ix.ascii_names.set(position, ascii);
                    self.users.set(position, Arc::clone(&user));
                    self.insert_in_name_order(position);
                } else {
                    self.users.set(position, Arc::clone(&user));
                }
                if old.id != user.id && self.index.user_by_id.get(&old.id) == Some(&position) {
                    self.index.user_by_id.remove(&old.id);
                }
                self.index.list_json.set(position, Arc::default());
            }
            None => {
                self.users.push_back(Arc::clone(&user));
                ix.ascii_names.push_back(ascii);
                ix.list_json.push_back(Arc::default());
                self.insert_in_name_order(position);
            }
        }
        self.index.user_by_id.insert(user.id, position);
        self.update_email(position, old.as_deref(), &user);
        self.update_name_ids(position, old.as_deref(), &user);
    }

    /// Removes the user at `position`: the users after it move one place
    /// up, and the indexes of positions are rebuilt (from the shared
    /// users, nothing copied but the indexes). The caller checked that no
    /// form names it.
    pub fn remove_user(&mut self, position: usize) {
        if position >= self.users.len() {
            return;
        }
        self.users.remove(position);
        self.index.ascii_names.remove(position);
        self.index.list_json.remove(position);
        self.index.users_by_name = self
            .index
            .users_by_name
            .iter()
            .filter(|&&j| j != position)
            .map(|&j| if j > position { j - 1 } else { j })
            .collect();
        self.reindex_user_keys();
    }

    pub(super) fn insert_in_name_order(&mut self, position: usize) {
        let ix = &mut self.index;
        let users = &self.users;
        let names = &ix.ascii_names;
        let key = name_order(&names[position], &users[position]);
        let at = ix
            .users_by_name
            .binary_search_by(|&j| name_order(&names[j], &users[j]).cmp(&key))
            .unwrap_or_else(|at| at);
        ix.users_by_name.insert(at, position);
    }

    /// `user_by_email` after the user at `position` went from `old` to
    /// `new`: each key still goes to its first holder.
    pub(super) fn update_email(&mut self, position: usize, old: Option<&User>, new: &User) {
        let old_key = old.and_then(email_key);
        let new_key = email_key(new);
        if old_key == new_key {
            return;
        }
        if let Some(key) = old_key
            && self.index.user_by_email.get(&key) == Some(&position)
        {
            let holder = self.users.iter().position(|u| {
                u.is_active && !u.deleted && u.email.as_deref().is_some_and(|e| email_is(e, &key))
            });
            match holder {
                Some(j) => self.index.user_by_email.insert(key, j),
                None => self.index.user_by_email.remove(&key),
            };
        }
        if let Some(key) = new_key {
            match self.index.user_by_email.get(&key) {
                Some(&j) if j < position => {}
                _ => {
                    self.index.user_by_email.insert(key, position);
                }
            }
        }
    }

    /// `user_by_name_id` after the user at `position` went from `old` to
    /// `new`.
    pub(super) fn update_name_ids(&mut self, position: usize, old: Option<&User>, new: &User) {
        let held = |u: Option<&User>| -> Vec<String> {
            u.filter(|u| !u.deleted)
                .map(|u| u.name_identifiers.clone())
                .unwrap_or_default()
        };
        let before = held(old);
        let after = held(Some(new));
        for n in before.iter().filter(|n| !after.contains(n)) {
            if self.index.user_by_name_id.get(n) != Some(&position) {
                continue;
            }
            let holder = self
                .users
                .iter()
                .position(|u| !u.deleted && u.name_identifiers.contains(n));
            match holder {
                Some(j) => self.index.user_by_name_id.insert(n.clone(), j),
                None => self.index.user_by_name_id.remove(n),
            };
        }
        for n in after.into_iter().filter(|n| !before.contains(n)) {
            match self.index.user_by_name_id.get(&n) {
                Some(&j) if j < position => {}
                _ => {
                    self.index.user_by_name_id.insert(n, position);
                }
            }
        }
    }

    pub(super) fn reindex_small(&mut self) {
        let ix = &mut self.index;
        ix.role_by_id = position(&self.roles, |r| r.id.clone());
        ix.category_by_id = position(&self.categories, |c| c.id.clone());
        ix.formdef_by_id = position(&self.formdefs, |f| f.id.clone());
        ix.access_by_id = position(&self.api_accesses, |a| a.access_identifier.clone());
    }

    pub(super) fn reindex_users(&mut self) {
        self.index.list_json = fresh_cells(self.users.len());
        self.index.ascii_names = self
            .users
            .iter()
            .map(|u| crate::wcs::text::unaccent(&u.name).to_lowercase())
            .collect();
        let mut order: Vec<usize> = (0..self.users.len()).collect();
        // Like a French collation: accents and case only break ties.
        let ascii = &self.index.ascii_names;
        let users = &self.users;
        order.sort_by(|&a, &b| {
            ascii[a]
                .cmp(&ascii[b])
                .then_with(|| users[a].name.cmp(&users[b].name))
                .then(users[a].id.cmp(&users[b].id))
        });
        self.index.users_by_name = order.into_iter().collect();
        self.reindex_user_keys();
    }

    /// The maps from a user's id, email and name identifiers to its
    /// position.
    pub(super) fn reindex_user_keys(&mut self) {
        let mut by_id = imbl::HashMap::new();
        let mut by_email = imbl::HashMap::new();
        let mut by_name_id = imbl::HashMap::new();
        for (i, u) in self.users.iter().enumerate() {
            by_id.entry(u.id).or_insert(i);
            if u.deleted {
                continue;
            }
            if let Some(e) = email_key(u) {
                by_email.entry(e).or_insert(i);
            }
            for n in &u.name_identifiers {
                by_name_id.entry(n.clone()).or_insert(i);
            }
        }
        self.index.user_by_id = by_id;
        self.index.user_by_email = by_email;
        self.index.user_by_name_id = by_name_id;
    }

    pub(super) fn reindex_forms(&mut self) {
        self.index.receipt = self
            .forms
            .iter()
            .map(|f| parse_time(&f.receipt_time).unwrap_or_default())
            .collect();
        self.index.form_json = (0..self.forms.len()).map(|_| Arc::default()).collect();
        self.reindex_form_positions();
    }

    /// The maps from a form's id, user and concerned roles to its position.
    pub(super) fn reindex_form_positions(&mut self) {
        let forms = &self.forms;
        let receipt = &self.index.receipt;
        let mut by_id = imbl::HashMap::new();
        let mut by_user: HashMap<i64, Vec<usize>> = HashMap::new();
        let mut by_role: HashMap<String, Vec<usize>> = HashMap::new();
        for (i, f) in forms.iter().enumerate() {
            by_id.entry(f.id).or_insert(i);
            if let Some(u) = f.user_id {
                by_user.entry(u).or_default().push(i);
            }
            for r in &f.concerned_roles {
                by_role.entry(r.clone()).or_default().push(i);
            }
        }
        let key = |i: &usize| (receipt[*i], forms[*i].id);
        for v in by_user.values_mut() {
            v.sort_by_key(key);
        }
        for v in by_role.values_mut() {
            v.sort_by_key(key);
        }
        self.index.form_by_id = by_id;
        self.index.forms_by_user = by_user.into_iter().collect();
        self.index.forms_by_role = by_role.into_iter().collect();
    }

    /// The position of form `id`.
    pub fn form_position(&self, id: i64) -> Option<usize> {
        self.index.form_by_id.get(&id).copied()
    }

    /// Puts `form` at `position` (a new form: the end), keeping every
    /// index up to date. The caller checked it: its id is not another
    /// form's, and its references hold.
    pub fn set_form(&mut self, position: usize, form: Form) {
        let form = Arc::new(form);
        let receipt = parse_time(&form.receipt_time).unwrap_or_default();
        let old = self.forms.get(position).cloned();
        if let Some(old) = &old {
            self.unlist_form(position, old);
            self.forms.set(position, Arc::clone(&form));
            self.index.receipt.set(position, receipt);
            self.index.form_json.set(position, Arc::default());
        } else {
            self.forms.push_back(Arc::clone(&form));
            self.index.receipt.push_back(receipt);
            self.index.form_json.push_back(Arc::default());
        }
        self.index.form_by_id.insert(form.id, position);
        let ix = &mut self.index;
        let forms = &self.forms;
        let receipt = &ix.receipt;
        let key = |i: usize| (receipt[i], forms[i].id);
        let place = |v: &mut Vec<usize>| {
            let at = v
                .binary_search_by(|&j| key(j).cmp(&key(position)))
                .unwrap_or_else(|at| at);
            // A role named twice lists the form twice, as a rebuild does.
            let at = v[at..].iter().take_while(|&&j| j == position).count() + at;
            v.insert(at, position);
        };
        if let Some(u) = form.user_id {
            place(ix.forms_by_user.entry(u).or_default());
        }
        for r in &form.concerned_roles {
            place(ix.forms_by_role.entry(r.clone()).or_default());
        }
    }

    /// Takes the form at `position`, which was `old`, out of the lists of
    /// forms by user and by role.
    pub(super) fn unlist_form(&mut self, position: usize, old: &Form) {
        if self.index.form_by_id.get(&old.id) == Some(&position) {
            self.index.form_by_id.remove(&old.id);
        }
        fn unlist<K: std::hash::Hash + Eq + Clone>(
            map: &mut imbl::HashMap<K, Vec<usize>>,
            key: &K,
            position: usize,
        ) {
            let Some(v) = map.get_mut(key) else {
                return;
            };
            v.retain(|&j| j != position);
            if v.is_empty() {
                map.remove(key);
            }
        }
        if let Some(u) = old.user_id {
            unlist(&mut self.index.forms_by_user, &u, position);
        }
        for r in &old.concerned_roles {
            unlist(&mut self.index.forms_by_role, r, position);
        }
    }

    /// Removes the form at `position`: the forms after it move one place
    /// up, and the indexes of positions are rebuilt from the shared forms.
    pub fn remove_form(&mut self, position: usize) {
        if position >= self.forms.len() {
            return;
        }
        self.forms.remove(position);
        self.index.receipt.remove(position);
        self.index.form_json.remove(position);
        self.reindex_form_positions();
    }
}

fn position<T, K: std::hash::Hash + Eq>(v: &[T], key: impl Fn(&T) -> K) -> HashMap<K, usize> {
    let mut m = HashMap::with_capacity(v.len());
    for (i, x) in v.iter().enumerate() {
        m.entry(key(x)).or_insert(i);
    }
    m
}
