//! The fixture files derived from what was read: users and their roles
//! from the directory, form definitions (ids, categories, statuses) and
//! forms from the listings, form ids settled so they stay unique, and one
//! API access with the orig and key given.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde_json::{Map, Value, json};

use super::convert::{Def, Found, Roles, form_of, user_of};
use super::items::{FormKey, Item};
use super::{Fetched, Listings};
use crate::import::anonymize::Anonymizer;
use crate::import::{ImportError, WcsArgs};

/// How many of each were derived.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Counts {
    pub users: usize,
    pub forms: usize,
    pub drafts: usize,
    pub formdefs: usize,
    pub categories: usize,
    pub roles: usize,
}

/// The fixture files derived from an import.
#[derive(Debug, Clone)]
pub struct Derived {
    pub files: Vec<(&'static str, Value)>,
    pub counts: Counts,
    pub notes: Vec<String>,
}

/// A form or draft as read, before ids are settled.
struct Seen {
    def: usize,
    id: i64,
    number: String,
    form: Map<String, Value>,
}

/// The forms and drafts of every listing, and what they show of their
/// definitions and categories.
#[derive(Default)]
struct Read {
    defs: Vec<Def>,
    categories: BTreeMap<String, String>,
    seen: Vec<Seen>,
}

/// Derives the fixture files from what was read.
pub fn derive(fetched: &Fetched, args: &WcsArgs) -> Result<Derived, ImportError> {
    let mut notes = Vec::new();
    let mut roles = Roles::new();
    let mut users = read_users(fetched, &mut roles, &mut notes)?;
    let Read {
        defs,
        categories,
        seen,
    } = read_forms(&fetched.listings, &mut roles, &users)?;
    let def_ids = formdef_ids(&defs);
    let ids = form_ids(&seen, &mut notes);

    let mut counts = Counts::default();
    let mut forms: BTreeMap<i64, Map<String, Value>> = BTreeMap::new();
    for (s, id) in seen.into_iter().zip(ids) {
        let def_id = &def_ids[s.def];
        let mut rest = s.form;
        let mut form = Map::new();
        form.insert("id".into(), json!(id));
        form.insert("formdef_id".into(), json!(def_id));
        // In the order fixtures/README.md lists the fields.
        for key in ["user_id", "status", "receipt_time", "last_update_time"] {
            if let Some(value) = rest.shift_remove(key) {
                form.insert(key.into(), value);
            }
        }
        if id != s.id || s.number != format!("{def_id}-{}", s.id) {
            form.insert("display_id".into(), json!(s.number));
        }
        form.append(&mut rest);
        if form.get("status") == Some(&json!("draft")) {
            counts.drafts += 1;
        } else {
            counts.forms += 1;
        }
        forms.insert(id, form);
    }

    let mut formdefs: Vec<(String, Value)> = defs
        .into_iter()
        .zip(def_ids)
        .map(|(def, id)| {
            let mut out = Map::new();
            out.insert("id".into(), json!(id));
            out.insert("name".into(), json!(def.name));
            out.insert("slug".into(), json!(def.slug));
            if let Some(category) = def.category {
                out.insert("category_id".into(), json!(category));
            }
            out.insert("statuses".into(), Value::Array(def.statuses));
            (id, Value::Object(out))
        })
        .collect();
    formdefs.sort_by(|a, b| numeric_order(&a.0, &b.0));

    let mut roles: Vec<(String, Map<String, Value>)> = roles.into_iter().collect();
    roles.sort_by(|a, b| numeric_order(&a.0, &b.0));

    if args.output.anonymize {
        let mut anonymizer = Anonymizer::new(args.key.expose());
        for user in users.values_mut() {
            anonymizer.wcs_user(user);
        }
        for (_, role) in &mut roles {
            anonymizer.wcs_role(role);
        }
        for form in forms.values_mut() {
            anonymizer.wcs_form(form);
        }
    }

    counts.users = users.len();
    counts.formdefs = formdefs.len();
    counts.categories = categories.len();
    counts.roles = roles.len();
    let files = vec![
        (
            "wcs/users.json",
            Value::Array(users.into_values().map(Value::Object).collect()),
        ),
        (
            "wcs/roles.json",
            Value::Array(roles.into_iter().map(|(_, r)| Value::Object(r)).collect()),
        ),
        (
            "wcs/categories.json",
            Value::Array(
                categories
                    .into_iter()
                    .map(|(slug, name)| json!({"id": slug, "name": name, "slug": slug}))
                    .collect(),
            ),
        ),
        (
            "wcs/formdefs.json",
            Value::Array(formdefs.into_iter().map(|(_, d)| d).collect()),
        ),
        (
            "wcs/forms.json",
            Value::Array(forms.into_values().map(Value::Object).collect()),
        ),
        (
            "wcs/api_accesses.json",
            json!([{
                "access_identifier": args.orig,
                "access_key": args.key.expose(),
                "description": format!("imported from {}", fetched.base),
            }]),
        ),
    ];
    Ok(Derived {
        files,
        counts,
        notes,
    })
}

/// The directory's users by id, their roles added to `roles`.
fn read_users(
    fetched: &Fetched,
    roles: &mut Roles,
    notes: &mut Vec<String>,
) -> Result<BTreeMap<i64, Map<String, Value>>, ImportError> {
    let mut users = BTreeMap::new();
    for (n, item) in fetched.directory.iter().enumerate() {
        let o = Item::new(&fetched.directory_what, n + 1, item, "id")?;
        let id = o.int(&["id", "user_id"])?;
        let user = user_of(&o, id, roles)?;
        if users.insert(id, user).is_some() {
            notes.push(format!(
                "user {id} is listed twice in the directory: written once"
            ));
        }
    }
    Ok(users)
}

/// Every form and draft of the listings, once each (a form listed twice is
/// read once).
fn read_forms(
    listings: &[Listings],
    roles: &mut Roles,
    users: &BTreeMap<i64, Map<String, Value>>,
) -> Result<Read, ImportError> {
    let mut read = Read::default();
    let mut def_by_slug: HashMap<String, usize> = HashMap::new();
    let mut seen_keys: HashSet<(String, i64)> = HashSet::new();
    for listing in listings {
        for (what, items) in [
            (&listing.forms_what, &listing.forms),
            (&listing.drafts_what, &listing.drafts),
        ] {
            for (n, item) in items.iter().enumerate() {
                let o = Item::new(what, n + 1, item, "form_number_raw")?;
                let key: FormKey = o.read()?;
                let slug = key
                    .form_slug
                    .ok_or_else(|| o.fail("form_slug", "missing"))?;
                let id = o.int(&["form_number_raw", "form_identifier", "id"])?;
                if !seen_keys.insert((slug.clone(), id)) {
                    continue;
                }
                let defs = &mut read.defs;
                let def = *def_by_slug.entry(slug.clone()).or_insert_with(|| {
                    defs.push(Def {
                        slug,
                        ..Def::default()
                    });
                    defs.len() - 1
                });
                let mut found = Found {
                    categories: &mut read.categories,
                    roles,
                    users,
                };
                let (form, number) = form_of(&o, listing.user_id, &mut defs[def], &mut found)?;
                let number = number.unwrap_or_else(|| id.to_string());
                if defs[def].number_id.is_none()
                    && let Some(prefix) = number.strip_suffix(&format!("-{id}"))
                    && !prefix.is_empty()
                {
                    defs[def].number_id = Some(prefix.to_owned());
                }
                read.seen.push(Seen {
                    def,
                    id,
                    number,
                    form,
                });
            }
        }
    }
    Ok(read)
}

/// Form definition ids: the one default form numbers show, else the
/// smallest free integer.
fn formdef_ids(defs: &[Def]) -> Vec<String> {
    let mut def_ids: Vec<String> = vec![String::new(); defs.len()];
    let mut taken: HashSet<String> = HashSet::new();
    for (i, def) in defs.iter().enumerate() {
        if let Some(id) = &def.number_id
            && taken.insert(id.clone())
        {
            def_ids[i] = id.clone();
        }
    }
    let mut free = 1u64;
    for id in def_ids.iter_mut().filter(|id| id.is_empty()) {
        while taken.contains(&free.to_string()) {
            free += 1;
        }
        *id = free.to_string();
        taken.insert(id.clone());
    }
    def_ids
}

/// Form ids are unique per form definition upstream, across all forms in
/// doublure: a clash takes a fresh id and keeps its number.
fn form_ids(seen: &[Seen], notes: &mut Vec<String>) -> Vec<i64> {
    let mut used: HashSet<i64> = HashSet::new();
    let mut clashes = Vec::new();
    for (i, s) in seen.iter().enumerate() {
        if !used.insert(s.id) {
            clashes.push(i);
        }
    }
    let first_free = used.iter().max().copied().unwrap_or(0) + 1;
    let mut ids: Vec<i64> = seen.iter().map(|s| s.id).collect();
    for (&i, fresh) in clashes.iter().zip(first_free..) {
        ids[i] = fresh;
    }
    if !clashes.is_empty() {
        notes.push(format!(
            "forms sharing their id with a form of another form definition got new ids: {} \
             (their numbers are kept, their URLs change)",
            clashes.len()
        ));
    }
    ids
}

/// Numbers in numeric order, then other ids in text order.
pub(super) fn numeric_order(a: &str, b: &str) -> std::cmp::Ordering {
    match (a.parse::<i64>(), b.parse::<i64>()) {
        (Ok(x), Ok(y)) => x.cmp(&y),
        (Ok(_), Err(_)) => std::cmp::Ordering::Less,
        (Err(_), Ok(_)) => std::cmp::Ordering::Greater,
        _ => a.cmp(b),
    }
}
