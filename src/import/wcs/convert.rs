//! Items of w.c.s. answers turned into fixture objects: a directory user,
//! a role, a form or draft and its status, in the fields and order that
//! fixtures/README.md gives.

use std::collections::{BTreeMap, HashSet};

use serde_json::{Map, Value, json};

use super::items::{
    DirectoryUser, Form, Item, RealStatus, Role, StatusName, Workflow, fixture_time, id_text,
};
use crate::import::ImportError;

/// A form definition as the forms show it.
#[derive(Debug, Default)]
pub(super) struct Def {
    pub(super) slug: String,
    pub(super) name: String,
    pub(super) category: Option<String>,
    /// The id read from a default form number (`<formdef id>-<form id>`).
    pub(super) number_id: Option<String>,
    pub(super) statuses: Vec<Value>,
    pub(super) status_ids: HashSet<String>,
}

/// Roles by id, in the fixture format.
pub(super) type Roles = BTreeMap<String, Map<String, Value>>;

/// A role item (`user_roles` item or concerned role) in the fixture
/// format, with its id.
pub(super) fn role_of(o: &Item<'_>) -> Result<(String, Map<String, Value>), ImportError> {
    let id = o.id_text().ok_or_else(|| o.fail("id", "missing"))?;
    let r: Role = o.read()?;
    let name = r.name.or(r.text).unwrap_or_else(|| id.clone());
    let mut role = Map::new();
    role.insert("id".into(), json!(id));
    role.insert("name".into(), json!(name));
    role.insert(
        "slug".into(),
        json!(
            r.slug
                .unwrap_or_else(|| crate::wcs::text::simplify(&name, '-'))
        ),
    );
    role.insert(
        "allows_backoffice_access".into(),
        json!(r.allows_backoffice_access.unwrap_or(false)),
    );
    role.insert("emails".into(), json!(r.emails.unwrap_or_default()));
    role.insert("details".into(), json!(r.details.unwrap_or_default()));
    role.insert(
        "emails_to_members".into(),
        json!(r.emails_to_members.unwrap_or(false)),
    );
    Ok((id, role))
}

/// A directory item as a fixture user; its roles are added to `roles`.
pub(super) fn user_of(
    o: &Item<'_>,
    id: i64,
    roles: &mut Roles,
) -> Result<Map<String, Value>, ImportError> {
    let u: DirectoryUser = o.read()?;
    let display = u.user_display_name.as_deref().unwrap_or_default();
    let email = u.user_email.as_deref();
    // The display name falls back to the e-mail, then "Unknown User": an
    // empty name shows the same.
    let name = if Some(display) == email || (display == "Unknown User" && email.is_none()) {
        ""
    } else {
        display
    };
    let mut name_ids = Vec::new();
    while let Some(n) = o.text(&format!("user_name_identifier_{}", name_ids.len()))? {
        name_ids.push(n.to_owned());
    }
    let mut role_ids = Vec::new();
    let what = o.under("user_roles");
    for (n, item) in u.user_roles.iter().flatten().enumerate() {
        let (role_id, role) = role_of(&Item::new(&what, n + 1, item, "id")?)?;
        roles.entry(role_id.clone()).or_insert(role);
        role_ids.push(role_id);
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
    if u.user_admin_access.unwrap_or(false) {
        user.insert("is_admin".into(), json!(true));
    }
    if !fields.is_empty() {
        user.insert("fields".into(), Value::Object(fields));
    }
    Ok(user)
}

/// What else a form adds to the fixtures: its category, its roles.
pub(super) struct Found<'a> {
    pub(super) categories: &'a mut BTreeMap<String, String>,
    pub(super) roles: &'a mut Roles,
    /// The users imported, whose concerned-role entries are kept.
    pub(super) users: &'a BTreeMap<i64, Map<String, Value>>,
}

/// A listing item (with `full=on`) as a fixture form, without its id and
/// form definition (settled once every form is read), and its number as
/// shown; its definition, category, status and roles are recorded on the
/// way.
pub(super) fn form_of(
    o: &Item<'_>,
    user_id: i64,
    def: &mut Def,
    found: &mut Found<'_>,
) -> Result<(Map<String, Value>, Option<String>), ImportError> {
    let f: Form = o.read()?;
    let name = match f.form_name {
        Some(name) => name,
        None => f.name.ok_or_else(|| o.fail("name", "missing"))?,
    };
    if def.name.is_empty() {
        def.name = name;
    }
    if let Some(slug) = f.category_slug {
        let category = f.category_name.unwrap_or_else(|| slug.clone());
        found.categories.entry(slug.clone()).or_insert(category);
        if def.category.is_none() {
            def.category = Some(slug);
        }
    }
    let status = if f.draft.unwrap_or(false) {
        "draft".to_owned()
    } else {
        status_of(o, def)?
    };
    let receipt = f
        .datetime
        .or(f.form_receipt_datetime)
        .ok_or_else(|| o.fail("datetime", "missing"))?;
    let receipt = fixture_time(&receipt).ok_or_else(|| {
        o.fail(
            "datetime",
            format!("{receipt:?} is not a time like \"2014-03-28 15:36:52\""),
        )
    })?;
    let update = f
        .form_last_update_datetime
        .or(f.last_update_time)
        .as_deref()
        .and_then(fixture_time)
        .filter(|t| *t != receipt);

    let mut form = Map::new();
    form.insert("user_id".into(), json!(user_id));
    form.insert("status".into(), json!(status));
    form.insert("receipt_time".into(), json!(receipt));
    if let Some(update) = update {
        form.insert("last_update_time".into(), json!(update));
    }
    let keywords = f.keywords.unwrap_or_default();
    if !keywords.is_empty() {
        form.insert("keywords".into(), json!(keywords));
    }
    if let Some(digest) = f.form_digest {
        form.insert("digest".into(), json!(digest));
    }
    let concerned = concerned_roles(o, f.roles.as_ref(), found)?;
    if !concerned.is_empty() {
        form.insert("concerned_roles".into(), json!(concerned));
    }
    if let Some(code) = f.form_tracking_code {
        form.insert("tracking_code".into(), json!(code));
    }
    if let Some(fields) = f.fields
        && !fields.is_empty()
    {
        form.insert("fields".into(), Value::Object(fields));
    }
    if let Some(channel) = f.form_submission_channel {
        form.insert("submission_channel".into(), json!(channel));
    }
    if f.form_submission_backoffice.unwrap_or(false) {
        form.insert("backoffice_submission".into(), json!(true));
    }
    Ok((form, f.form_number))
}

/// The ids of a form's concerned roles (`roles.concerned`), each role
/// recorded in `found`; a user's entry is kept when that user is imported
/// too.
fn concerned_roles(
    o: &Item<'_>,
    form_roles: Option<&Map<String, Value>>,
    found: &mut Found<'_>,
) -> Result<Vec<String>, ImportError> {
    let mut concerned = Vec::new();
    let Some(Value::Array(items)) = form_roles.and_then(|r| r.get("concerned")) else {
        return Ok(concerned);
    };
    let what = o.under("roles.concerned");
    for (n, item) in items.iter().enumerate() {
        let role = Item::new(&what, n + 1, item, "id")?;
        let Some(id) = role.id_text() else {
            continue;
        };
        if let Some(user) = id.strip_prefix("_user:") {
            if user
                .parse()
                .is_ok_and(|u: i64| found.users.contains_key(&u))
            {
                concerned.push(id);
            }
            continue;
        }
        let (id, role) = role_of(&role)?;
        found.roles.entry(id.clone()).or_insert(role);
        if !concerned.contains(&id) {
            concerned.push(id);
        }
    }
    Ok(concerned)
}

/// The status id of a submitted form, its status recorded on `def`: the
/// full export's `workflow.real_status`, else (no `full=on` support) the
/// status name. It is visible when the visible status is that same one.
fn status_of(o: &Item<'_>, def: &mut Def) -> Result<String, ImportError> {
    let Workflow { workflow } = o.read()?;
    let real = workflow
        .as_ref()
        .and_then(|w| w.get("real_status"))
        .filter(|v| v.is_object());
    let (id, name, endpoint, visible) = match real {
        Some(real) => {
            let what = o.under("workflow.real_status");
            let status = Item::new(&what, 1, real, "id")?;
            let id = status
                .id_text()
                .ok_or_else(|| status.fail("id", "missing"))?;
            let r: RealStatus = status.read()?;
            let shown = workflow
                .as_ref()
                .and_then(|w| w.get("status"))
                .and_then(|s| s.get("id"))
                .and_then(id_text);
            let visible = shown.as_deref() == Some(id.as_str());
            let name = r.name.ok_or_else(|| status.fail("name", "missing"))?;
            (id, name, r.endpoint.unwrap_or(false), visible)
        }
        None => {
            let s: StatusName = o.read()?;
            let name = s
                .form_status
                .ok_or_else(|| o.fail("form_status", "missing"))?;
            (
                crate::wcs::text::simplify(&name, '-'),
                name,
                s.form_status_is_endpoint.unwrap_or(false),
                s.status.is_some(),
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
