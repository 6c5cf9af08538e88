//! `doublure fixtures import wcs`: the user directory (`/api/users/`, read
//! in one call: upstream's directory has `limit` but no offset), then for
//! each user `/api/users/<id>/forms?full=on&include-drafts=on` and
//! `/api/users/<id>/drafts?full=on`, a few users at a time. Every URL is
//! signed as w.c.s.'s own signer does it (orig, algo, timestamp, nonce,
//! signature) with the API access given, and carries no user: the access
//! reads for itself, so no listing is filtered by a caller's roles.
//!
//! Everything written is derived from what the API shows: users from the
//! directory; roles from users' `user_roles` and forms' concerned roles;
//! categories, form definitions and their statuses from the forms; the
//! forms and drafts themselves; and one API access with the orig and key
//! given. What the API never shows (passwords, inactive flags, statuses no
//! form is in, `related` objects, …) cannot be recovered: see
//! docs/fidelity.md.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use chrono::NaiveDateTime;
use indicatif::ProgressBar;
use serde_json::{Map, Value, json};

use super::anonymize::Anonymizer;
use super::http::{Http, server_message};
use super::output::Staging;
use super::{ImportError, Summary, WcsArgs, show_total};
use crate::wcs::model::TIME_FORMAT;

/// Users whose forms are read at the same time.
const CONCURRENCY: usize = 4;
const KEY_HINT: &str =
    "check --orig and --key, and that this API access may list users (one without roles may)";

/// One user's listings, as served.
#[derive(Debug, Clone)]
pub struct Listings {
    pub user_id: i64,
    pub forms_what: String,
    pub forms: Vec<Value>,
    pub drafts_what: String,
    pub drafts: Vec<Value>,
}

/// What was read from a w.c.s. site.
#[derive(Debug, Clone)]
pub struct Fetched {
    pub base: String,
    pub directory_what: String,
    pub directory: Vec<Value>,
    pub listings: Vec<Listings>,
    pub notes: Vec<String>,
}

/// Signs and sends GET requests.
#[derive(Debug)]
struct Signer {
    http: Http,
    orig: String,
    key: String,
}

impl Signer {
    /// The JSON answer to a signed GET of `path_and_query`, `None` for a
    /// 404; with the request's description for messages.
    async fn get(&self, path_and_query: &str) -> Result<(String, Option<Value>), ImportError> {
        let url = self.http.url(path_and_query);
        let what = format!("GET {url}");
        let reply = self
            .http
            .send(&what, |client| {
                // Signed at each attempt: a retry needs a fresh nonce.
                let signed = crate::wcs::signature::sign_url(
                    &url,
                    &self.orig,
                    &self.key,
                    "sha256",
                    chrono::Utc::now(),
                    None,
                )
                .unwrap_or_else(|_| url.clone());
                client.get(signed)
            })
            .await?;
        if reply.status == 404 {
            return Ok((what, None));
        }
        let body = self.http.json(&what, &reply, KEY_HINT)?;
        // w.c.s. answers some refusals with HTTP 200 and `err: 1`.
        if body.get("err").and_then(Value::as_i64).unwrap_or(0) != 0 {
            return Err(ImportError::Refused {
                what,
                status: reply.status,
                message: self
                    .http
                    .redact(&server_message(body.to_string().as_bytes())),
                hint: KEY_HINT,
            });
        }
        Ok((what, Some(body)))
    }
}

/// The `data` array of a w.c.s. answer.
fn data_array(what: &str, body: &Value) -> Result<Vec<Value>, ImportError> {
    match body.get("data") {
        Some(Value::Array(items)) => Ok(items.clone()),
        _ => Err(ImportError::Malformed {
            what: what.to_owned(),
            detail: "expected {\"err\": 0, \"data\": [items…]}".to_owned(),
        }),
    }
}

/// Runs `doublure fixtures import wcs`.
pub async fn run(args: &WcsArgs, progress: &ProgressBar) -> Result<Summary, ImportError> {
    let http = Http::new(&args.url, vec![args.key.expose().to_owned()])?;
    let staging = Staging::new(&args.output.out, "wcs")?;
    let fetched = fetch(http, &args.orig, args.key.expose(), progress).await?;
    let derived = derive(&fetched, args)?;
    staging.commit(&derived.files)?;
    let out = args.output.out.display().to_string();
    let out = out.trim_end_matches('/');
    let c = &derived.counts;
    let mut notes = fetched.notes.clone();
    notes.extend(derived.notes);
    notes.push(format!(
        "{out}/wcs/api_accesses.json holds the key given: keep the directory private, \
         or change the key there (doublure accepts any)"
    ));
    Ok(Summary {
        text: format!(
            "{out}/wcs: {} users, {} forms and {} drafts of {} form definitions, {} categories, \
             {} roles from {}, API access {}{}",
            c.users,
            c.forms,
            c.drafts,
            c.formdefs,
            c.categories,
            c.roles,
            fetched.base,
            args.orig,
            if args.output.anonymize {
                ", anonymized"
            } else {
                ""
            }
        ),
        notes,
    })
}

/// Reads the directory, then each user's forms and drafts.
async fn fetch(
    http: Http,
    orig: &str,
    key: &str,
    progress: &ProgressBar,
) -> Result<Fetched, ImportError> {
    let base = http.base().to_owned();
    let signer = Arc::new(Signer {
        http,
        orig: orig.to_owned(),
        key: key.to_owned(),
    });
    let (directory_what, body) = signer.get("/api/users/").await?;
    let Some(body) = body else {
        return Err(ImportError::Status {
            what: directory_what,
            status: 404,
            message: "no user directory here: is --url the w.c.s. site's base URL?".to_owned(),
        });
    };
    let directory = data_array(&directory_what, &body)?;
    let mut ids = Vec::with_capacity(directory.len());
    for (n, item) in directory.iter().enumerate() {
        ids.push(Obj::new(&directory_what, n + 1, item, "id")?.int(&["id", "user_id"])?);
    }
    show_total(progress, ids.len() as u64, "w.c.s. users");
    let mut results: Vec<Option<Listings>> = vec![None; ids.len()];
    let mut notes = Vec::new();
    let mut tasks = tokio::task::JoinSet::new();
    let mut next = 0;
    while next < ids.len() || !tasks.is_empty() {
        while next < ids.len() && tasks.len() < CONCURRENCY {
            let (signer, id, index) = (signer.clone(), ids[next], next);
            tasks.spawn(async move { (index, listings(&signer, id).await) });
            next += 1;
        }
        let Some(done) = tasks.join_next().await else {
            break;
        };
        let (index, result) =
            done.map_err(|e| ImportError::Io(format!("a download stopped: {e}")))?;
        match result? {
            Some(found) => results[index] = Some(found),
            None => notes.push(format!(
                "user {} is in the directory but its forms answered 404 (deleted during the \
                 import?): written without forms",
                ids[index]
            )),
        }
        progress.inc(1);
    }
    Ok(Fetched {
        base,
        directory_what,
        directory,
        listings: results.into_iter().flatten().collect(),
        notes,
    })
}

/// One user's forms and drafts; `None` when the user is gone.
async fn listings(signer: &Signer, user_id: i64) -> Result<Option<Listings>, ImportError> {
    let (forms_what, forms) = signer
        .get(&format!(
            "/api/users/{user_id}/forms?full=on&include-drafts=on"
        ))
        .await?;
    let Some(forms) = forms else {
        return Ok(None);
    };
    let forms = data_array(&forms_what, &forms)?;
    let (drafts_what, drafts) = signer
        .get(&format!("/api/users/{user_id}/drafts?full=on"))
        .await?;
    let drafts = match drafts {
        Some(body) => data_array(&drafts_what, &body)?,
        None => Vec::new(),
    };
    Ok(Some(Listings {
        user_id,
        forms_what,
        forms,
        drafts_what,
        drafts,
    }))
}

/// An item of an answer, read field by field; errors name the request,
/// the item and the field.
struct Obj<'a> {
    map: &'a Map<String, Value>,
    what: &'a str,
    at: String,
}

impl<'a> Obj<'a> {
    fn new(what: &'a str, n: usize, item: &'a Value, id_key: &str) -> Result<Self, ImportError> {
        let at = match item.get(id_key) {
            Some(Value::String(id)) => format!("item {n} (id {id})"),
            Some(id) => format!("item {n} (id {id})"),
            None => format!("item {n}"),
        };
        match item {
            Value::Object(map) => Ok(Self { map, what, at }),
            other => Err(ImportError::Malformed {
                what: what.to_owned(),
                detail: format!("{at}: expected a JSON object, got {other}"),
            }),
        }
    }

    fn fail(&self, field: &str, message: impl std::fmt::Display) -> ImportError {
        ImportError::Malformed {
            what: self.what.to_owned(),
            detail: format!("{}: field {field}: {message}", self.at),
        }
    }

    fn get(&self, key: &str) -> Option<&'a Value> {
        self.map.get(key).filter(|v| !v.is_null())
    }

    fn str_opt(&self, key: &str) -> Result<Option<&'a str>, ImportError> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(other) => Err(self.fail(key, format!("expected a string, got {other}"))),
        }
    }

    fn str_req(&self, key: &str) -> Result<&'a str, ImportError> {
        self.str_opt(key)?.ok_or_else(|| self.fail(key, "missing"))
    }

    fn bool_opt(&self, key: &str) -> Result<Option<bool>, ImportError> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(other) => Err(self.fail(key, format!("expected true or false, got {other}"))),
        }
    }

    /// The first of `keys` present, as an integer (w.c.s. writes some ids
    /// as strings).
    fn int(&self, keys: &[&str]) -> Result<i64, ImportError> {
        for key in keys {
            match self.get(key) {
                None => continue,
                Some(Value::Number(n)) if n.is_i64() => return Ok(n.as_i64().unwrap_or_default()),
                Some(Value::String(s)) if s.parse::<i64>().is_ok() => {
                    return Ok(s.parse().unwrap_or_default());
                }
                Some(other) => {
                    return Err(self.fail(key, format!("expected an integer, got {other}")));
                }
            }
        }
        Err(self.fail(keys[0], "missing"))
    }

    fn strings(&self, key: &str) -> Result<Vec<String>, ImportError> {
        match self.get(key) {
            None => Ok(Vec::new()),
            Some(Value::Array(items)) => items
                .iter()
                .map(|v| match v {
                    Value::String(s) => Ok(s.clone()),
                    other => Err(self.fail(key, format!("expected strings, got {other}"))),
                })
                .collect(),
            Some(other) => Err(self.fail(key, format!("expected a list, got {other}"))),
        }
    }

    fn object(&self, key: &str) -> Result<Option<&'a Map<String, Value>>, ImportError> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Object(map)) => Ok(Some(map)),
            Some(other) => Err(self.fail(key, format!("expected an object, got {other}"))),
        }
    }
}

/// A role id as text (some role stores give integers).
fn id_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// A w.c.s. time (`2014-03-28 15:36:52`, or ISO `2014-03-28T15:36:52`,
/// with or without microseconds and offset) in the fixture format.
fn fixture_time(text: &str) -> Option<String> {
    let head: String = text.chars().take(19).collect::<String>().replace('T', " ");
    NaiveDateTime::parse_from_str(&head, TIME_FORMAT)
        .ok()
        .map(|t| t.format(TIME_FORMAT).to_string())
}

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

/// A form definition as the forms show it.
#[derive(Debug, Default)]
struct Def {
    slug: String,
    name: String,
    category: Option<String>,
    /// The id read from a default form number (`<formdef id>-<form id>`).
    number_id: Option<String>,
    statuses: Vec<Value>,
    status_ids: HashSet<String>,
}

/// A form or draft as read, before ids are settled.
struct Seen {
    def: usize,
    id: i64,
    number: String,
    form: Map<String, Value>,
}

/// Derives the fixture files from what was read.
pub fn derive(fetched: &Fetched, args: &WcsArgs) -> Result<Derived, ImportError> {
    let mut notes = Vec::new();
    let mut roles: BTreeMap<String, Map<String, Value>> = BTreeMap::new();
    let mut users: BTreeMap<i64, Map<String, Value>> = BTreeMap::new();
    for (n, item) in fetched.directory.iter().enumerate() {
        let o = Obj::new(&fetched.directory_what, n + 1, item, "id")?;
        let id = o.int(&["id", "user_id"])?;
        let user = user_of(&o, id, &mut roles)?;
        if users.insert(id, user).is_some() {
            notes.push(format!(
                "user {id} is listed twice in the directory: written once"
            ));
        }
    }

    let mut defs: Vec<Def> = Vec::new();
    let mut def_by_slug: HashMap<String, usize> = HashMap::new();
    let mut categories: BTreeMap<String, String> = BTreeMap::new();
    let mut seen: Vec<Seen> = Vec::new();
    let mut seen_keys: HashSet<(String, i64)> = HashSet::new();
    for listing in &fetched.listings {
        for (what, items) in [
            (&listing.forms_what, &listing.forms),
            (&listing.drafts_what, &listing.drafts),
        ] {
            for (n, item) in items.iter().enumerate() {
                let o = Obj::new(what, n + 1, item, "form_number_raw")?;
                let slug = o.str_req("form_slug")?;
                let id = o.int(&["form_number_raw", "form_identifier", "id"])?;
                if !seen_keys.insert((slug.to_owned(), id)) {
                    continue;
                }
                let def = *def_by_slug.entry(slug.to_owned()).or_insert_with(|| {
                    defs.push(Def {
                        slug: slug.to_owned(),
                        ..Def::default()
                    });
                    defs.len() - 1
                });
                let form = form_of(
                    &o,
                    listing.user_id,
                    &mut defs[def],
                    &mut categories,
                    &mut roles,
                    &users,
                )?;
                let number = match o.str_opt("form_number")? {
                    Some(number) => number.to_owned(),
                    None => id.to_string(),
                };
                if defs[def].number_id.is_none()
                    && let Some(prefix) = number.strip_suffix(&format!("-{id}"))
                    && !prefix.is_empty()
                {
                    defs[def].number_id = Some(prefix.to_owned());
                }
                seen.push(Seen {
                    def,
                    id,
                    number,
                    form,
                });
            }
        }
    }

    // Form definition ids: the one default form numbers show, else the
    // smallest free integer.
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

    // Form ids are unique per form definition upstream, across all forms
    // in doublure: a clash takes a fresh id and keeps its number.
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

/// Numbers in numeric order, then other ids in text order.
fn numeric_order(a: &str, b: &str) -> std::cmp::Ordering {
    match (a.parse::<i64>(), b.parse::<i64>()) {
        (Ok(x), Ok(y)) => x.cmp(&y),
        (Ok(_), Err(_)) => std::cmp::Ordering::Less,
        (Err(_), Ok(_)) => std::cmp::Ordering::Greater,
        _ => a.cmp(b),
    }
}

/// A role object (`user_roles` item or concerned role) in the fixture
/// format.
fn role_of(o: &Obj<'_>) -> Result<(String, Map<String, Value>), ImportError> {
    let id = o
        .get("id")
        .and_then(id_text)
        .ok_or_else(|| o.fail("id", "missing"))?;
    let name = o.str_opt("name")?.or(o.str_opt("text")?).unwrap_or(&id);
    let mut role = Map::new();
    role.insert("id".into(), json!(id));
    role.insert("name".into(), json!(name));
    role.insert(
        "slug".into(),
        json!(
            o.str_opt("slug")?
                .map(str::to_owned)
                .unwrap_or_else(|| crate::wcs::text::simplify(name, '-'))
        ),
    );
    role.insert(
        "allows_backoffice_access".into(),
        json!(o.bool_opt("allows_backoffice_access")?.unwrap_or(false)),
    );
    role.insert("emails".into(), json!(o.strings("emails")?));
    role.insert(
        "details".into(),
        json!(o.str_opt("details")?.unwrap_or_default()),
    );
    role.insert(
        "emails_to_members".into(),
        json!(o.bool_opt("emails_to_members")?.unwrap_or(false)),
    );
    Ok((id, role))
}

/// A directory item as a fixture user; its roles are added to `roles`.
fn user_of(
    o: &Obj<'_>,
    id: i64,
    roles: &mut BTreeMap<String, Map<String, Value>>,
) -> Result<Map<String, Value>, ImportError> {
    let display = o.str_opt("user_display_name")?.unwrap_or_default();
    let email = o.str_opt("user_email")?;
    // The display name falls back to the e-mail, then "Unknown User": an
    // empty name shows the same.
    let name = if Some(display) == email || (display == "Unknown User" && email.is_none()) {
        ""
    } else {
        display
    };
    let mut name_ids = Vec::new();
    while let Some(n) = o.str_opt(&format!("user_name_identifier_{}", name_ids.len()))? {
        name_ids.push(n.to_owned());
    }
    let mut role_ids = Vec::new();
    if let Some(items) = o.get("user_roles") {
        let Value::Array(items) = items else {
            return Err(o.fail("user_roles", format!("expected a list, got {items}")));
        };
        for (n, item) in items.iter().enumerate() {
            let what = format!("{}, {}, field user_roles", o.what, o.at);
            let (role_id, role) = role_of(&Obj::new(&what, n + 1, item, "id")?)?;
            roles.entry(role_id.clone()).or_insert(role);
            role_ids.push(role_id);
        }
    }
    // Profile fields are read from their `user_var_<varname>` keys; the
    // `_raw` and `_url` keys upstream adds beside some are not fields.
    let mut fields = Map::new();
    for (key, value) in o.map {
        let Some(var) = key.strip_prefix("user_var_") else {
            continue;
        };
        let derived = ["_raw", "_url"].iter().any(|suffix| {
            var.strip_suffix(suffix)
                .is_some_and(|base| o.map.contains_key(&format!("user_var_{base}")))
        });
        if !derived {
            fields.insert(var.to_owned(), value.clone());
        }
    }
    let mut user = Map::new();
    user.insert("id".into(), json!(id));
    if !name.is_empty() {
        user.insert("name".into(), json!(name));
    }
    if let Some(email) = email {
        user.insert("email".into(), json!(email));
    }
    if !name_ids.is_empty() {
        user.insert("name_identifiers".into(), json!(name_ids));
    }
    if !role_ids.is_empty() {
        user.insert("roles".into(), json!(role_ids));
    }
    if o.bool_opt("user_admin_access")?.unwrap_or(false) {
        user.insert("is_admin".into(), json!(true));
    }
    if !fields.is_empty() {
        user.insert("fields".into(), Value::Object(fields));
    }
    Ok(user)
}

/// A listing item (with `full=on`) as a fixture form, without its id and
/// form definition (settled once every form is read); its definition,
/// category, status and roles are recorded on the way.
fn form_of(
    o: &Obj<'_>,
    user_id: i64,
    def: &mut Def,
    categories: &mut BTreeMap<String, String>,
    roles: &mut BTreeMap<String, Map<String, Value>>,
    users: &BTreeMap<i64, Map<String, Value>>,
) -> Result<Map<String, Value>, ImportError> {
    let name = match o.str_opt("form_name")? {
        Some(name) => name,
        None => o.str_req("name")?,
    };
    if def.name.is_empty() {
        def.name = name.to_owned();
    }
    if let Some(slug) = o.str_opt("category_slug")? {
        let category = o.str_opt("category_name")?.unwrap_or(slug);
        categories
            .entry(slug.to_owned())
            .or_insert_with(|| category.to_owned());
        if def.category.is_none() {
            def.category = Some(slug.to_owned());
        }
    }
    let draft = o.bool_opt("draft")?.unwrap_or(false);
    let status = if draft {
        "draft".to_owned()
    } else {
        status_of(o, def)?
    };
    let receipt = o
        .str_opt("datetime")?
        .or(o.str_opt("form_receipt_datetime")?)
        .ok_or_else(|| o.fail("datetime", "missing"))?;
    let receipt = fixture_time(receipt).ok_or_else(|| {
        o.fail(
            "datetime",
            format!("{receipt:?} is not a time like \"2014-03-28 15:36:52\""),
        )
    })?;
    let update = match o.str_opt("form_last_update_datetime")? {
        Some(t) => Some(t),
        None => o.str_opt("last_update_time")?,
    }
    .and_then(fixture_time)
    .filter(|t| *t != receipt);

    let mut form = Map::new();
    form.insert("user_id".into(), json!(user_id));
    form.insert("status".into(), json!(status));
    form.insert("receipt_time".into(), json!(receipt));
    if let Some(update) = update {
        form.insert("last_update_time".into(), json!(update));
    }
    let keywords = o.strings("keywords")?;
    if !keywords.is_empty() {
        form.insert("keywords".into(), json!(keywords));
    }
    if let Some(digest) = o.str_opt("form_digest")? {
        form.insert("digest".into(), json!(digest));
    }
    let mut concerned = Vec::new();
    if let Some(form_roles) = o.object("roles")?
        && let Some(Value::Array(items)) = form_roles.get("concerned")
    {
        let what = format!("{}, {}, field roles.concerned", o.what, o.at);
        for (n, item) in items.iter().enumerate() {
            let role = Obj::new(&what, n + 1, item, "id")?;
            let Some(id) = role.get("id").and_then(id_text) else {
                continue;
            };
            if let Some(user) = id.strip_prefix("_user:") {
                // Kept only when that user is imported too.
                if user.parse().is_ok_and(|u: i64| users.contains_key(&u)) {
                    concerned.push(id);
                }
                continue;
            }
            let (id, found) = role_of(&role)?;
            roles.entry(id.clone()).or_insert(found);
            if !concerned.contains(&id) {
                concerned.push(id);
            }
        }
    }
    if !concerned.is_empty() {
        form.insert("concerned_roles".into(), json!(concerned));
    }
    if let Some(code) = o.str_opt("form_tracking_code")? {
        form.insert("tracking_code".into(), json!(code));
    }
    if let Some(fields) = o.object("fields")?
        && !fields.is_empty()
    {
        form.insert("fields".into(), Value::Object(fields.clone()));
    }
    if let Some(channel) = o.str_opt("form_submission_channel")? {
        form.insert("submission_channel".into(), json!(channel));
    }
    if o.bool_opt("form_submission_backoffice")?.unwrap_or(false) {
        form.insert("backoffice_submission".into(), json!(true));
    }
    Ok(form)
}

/// The status id of a submitted form, its status recorded on `def`: the
/// full export's `workflow.real_status`, else (no `full=on` support) the
/// status name. It is visible when the visible status is that same one.
fn status_of(o: &Obj<'_>, def: &mut Def) -> Result<String, ImportError> {
    let workflow = o.object("workflow")?;
    let real = workflow
        .and_then(|w| w.get("real_status"))
        .filter(|v| v.is_object());
    let (id, name, endpoint, visible) = match real {
        Some(real) => {
            let what = format!("{}, {}, field workflow.real_status", o.what, o.at);
            let status = Obj::new(&what, 1, real, "id")?;
            let id = status
                .get("id")
                .and_then(id_text)
                .ok_or_else(|| status.fail("id", "missing"))?;
            let shown = workflow
                .and_then(|w| w.get("status"))
                .and_then(|s| s.get("id"))
                .and_then(id_text);
            (
                id.clone(),
                status.str_req("name")?.to_owned(),
                status.bool_opt("endpoint")?.unwrap_or(false),
                shown.as_deref() == Some(id.as_str()),
            )
        }
        None => {
            let name = o.str_req("form_status")?;
            (
                crate::wcs::text::simplify(name, '-'),
                name.to_owned(),
                o.bool_opt("form_status_is_endpoint")?.unwrap_or(false),
                o.str_opt("status")?.is_some(),
            )
        }
    };
    // "draft" is how drafts are stored; a real status of that id is
    // renamed so it stays a status.
    let id = if id == "draft" {
        "draft-status".to_owned()
    } else {
        id
    };
    if def.status_ids.insert(id.clone()) {
        let mut status = Map::new();
        status.insert("id".into(), json!(id));
        status.insert("name".into(), json!(name));
        status.insert("endpoint".into(), json!(endpoint));
        if !visible {
            status.insert("visible".into(), json!(false));
        }
        def.statuses.push(Value::Object(status));
    }
    Ok(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_read_in_either_of_the_apis_formats() {
        assert_eq!(
            fixture_time("2014-03-28 15:36:52").as_deref(),
            Some("2014-03-28 15:36:52")
        );
        assert_eq!(
            fixture_time("2014-03-28T15:36:52.123456+01:00").as_deref(),
            Some("2014-03-28 15:36:52")
        );
        assert_eq!(fixture_time("28/03/2014"), None);
    }

    fn args() -> WcsArgs {
        WcsArgs {
            url: "https://w.example".into(),
            orig: "o".into(),
            key: super::super::Secret::new("k"),
            output: super::super::OutputArgs {
                out: "d".into(),
                anonymize: false,
            },
        }
    }

    /// A full listing item of form `id` of definition `slug`.
    fn item(slug: &str, id: i64, number: &str, status: Value) -> Value {
        json!({
            "name": format!("Form {slug}"), "form_slug": slug, "form_name": format!("Form {slug}"),
            "form_number": number, "form_number_raw": id.to_string(), "datetime": "2024-01-02 03:04:05",
            "draft": false, "form_status": "x",
            "workflow": {"status": status.clone(), "real_status": status},
            "roles": {"concerned": [{"type": "role", "id": "_user:99"}, {"type": "role", "id": 7, "name": "Agents", "slug": "agents"}]}
        })
    }

    #[test]
    fn what_only_a_real_instance_shows_is_derived_too() {
        // Arrange: an unnamed user, profile fields with upstream's derived
        // keys, two definitions numbering their forms from 1, a custom
        // number, a status with the drafts' id, a concerned unknown user.
        let status = json!({"id": "draft", "name": "Brouillon validé", "endpoint": true});
        let fetched = Fetched {
            base: "https://w.example".into(),
            directory_what: "GET d".into(),
            directory: vec![json!({
                "user_display_name": "a@b.example", "user_email": "a@b.example",
                "user_var_birth": "1980-01-02", "user_var_birth_raw": [1980, 1, 2],
                "user_var_web_url": "https://x", "user_name_identifier_0": "n0",
                "user_name_identifier_1": "n1", "id": 3, "user_roles": []
            })],
            listings: vec![Listings {
                user_id: 3,
                forms_what: "GET f".into(),
                forms: vec![
                    item("a", 1, "10-1", status.clone()),
                    item("b", 1, "11-1", status.clone()),
                    item("b", 2, "B-0002", status),
                ],
                drafts_what: "GET d".into(),
                drafts: vec![],
            }],
            notes: vec![],
        };

        // Act
        let derived = derive(&fetched, &args()).unwrap();

        // Assert
        let file = |name: &str| {
            derived
                .files
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| v.clone())
                .unwrap()
        };
        assert_eq!(
            file("wcs/users.json"),
            json!([{"id": 3, "email": "a@b.example", "name_identifiers": ["n0", "n1"],
                    "fields": {"birth": "1980-01-02", "web_url": "https://x"}}])
        );
        assert_eq!(
            file("wcs/formdefs.json"),
            json!([
                {"id": "10", "name": "Form a", "slug": "a", "statuses": [{"id": "draft-status", "name": "Brouillon validé", "endpoint": true}]},
                {"id": "11", "name": "Form b", "slug": "b", "statuses": [{"id": "draft-status", "name": "Brouillon validé", "endpoint": true}]}
            ])
        );
        let forms = file("wcs/forms.json");
        let summary: Vec<Value> = forms
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                json!([
                    f["id"],
                    f["formdef_id"],
                    f.get("display_id"),
                    f["concerned_roles"]
                ])
            })
            .collect();
        assert_eq!(
            summary,
            [
                json!([1, "10", null, ["7"]]),
                json!([2, "11", "B-0002", ["7"]]),
                json!([3, "11", "11-1", ["7"]]),
            ]
        );
        assert_eq!(
            file("wcs/roles.json"),
            json!([{"id": "7", "name": "Agents", "slug": "agents", "allows_backoffice_access": false,
                    "emails": [], "details": "", "emails_to_members": false}])
        );
        assert_eq!(
            derived.notes,
            [
                "forms sharing their id with a form of another form definition got new ids: 1 \
              (their numbers are kept, their URLs change)"
            ]
        );
    }

    #[test]
    fn a_malformed_form_is_named_by_request_item_and_field() {
        let mut fetched = Fetched {
            base: "b".into(),
            directory_what: "GET d".into(),
            directory: vec![json!({"id": 3})],
            listings: vec![Listings {
                user_id: 3,
                forms_what: "GET https://w.example/api/users/3/forms?full=on&include-drafts=on"
                    .into(),
                forms: vec![item("a", 1, "1-1", json!({"id": "new", "name": "N"}))],
                drafts_what: "GET d".into(),
                drafts: vec![],
            }],
            notes: vec![],
        };
        fetched.listings[0].forms[0]["datetime"] = json!("hier");
        let err = derive(&fetched, &args()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "unexpected answer to GET https://w.example/api/users/3/forms?full=on&include-drafts=on: \
             item 1 (id 1): field datetime: \"hier\" is not a time like \"2014-03-28 15:36:52\""
        );
    }

    #[test]
    fn ids_sort_as_numbers_first() {
        let mut ids = vec!["10", "b", "2", "a", "1"];
        ids.sort_by(|a, b| numeric_order(a, b));
        assert_eq!(ids, ["1", "2", "10", "a", "b"]);
    }
}
