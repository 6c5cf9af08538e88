//! JSON shapes of w.c.s. answers (spec §2 to §4; upstream `users.py`
//! `get_substitution_variables`, `api.py` `get_user_info`/formdata
//! listings, `formdata.py` `get_json_export_dict`): key order as upstream
//! writes it, absolute URLs from `--public-url`.

use serde_json::{Map, Value, json};

use super::model::{Form, User, WcsData};

/// The visible status name of a form (`None` when hidden), `"Draft"` for
/// drafts.
pub fn visible_status<'a>(data: &'a WcsData, form: &Form) -> Option<&'a str> {
    if form.is_draft() {
        return Some("Draft");
    }
    let def = data.formdef(&form.formdef_id)?;
    def.statuses
        .iter()
        .find(|s| s.id == form.status && s.visible)
        .map(|s| s.name.as_str())
}

/// The real status name and whether it is an endpoint.
pub fn real_status(data: &WcsData, form: &Form) -> (String, bool) {
    if form.is_draft() {
        return ("Draft".into(), false);
    }
    data.formdef(&form.formdef_id)
        .and_then(|d| d.statuses.iter().find(|s| s.id == form.status))
        .map(|s| (s.name.clone(), s.endpoint))
        .unwrap_or_else(|| ("Unknown".into(), false))
}

fn role_object(data: &WcsData, id: &str) -> Option<Value> {
    let r = data.role(id)?;
    Some(json!({
        "name": r.name,
        "text": r.name,
        "allows_backoffice_access": r.allows_backoffice_access,
        "emails": r.emails,
        "details": r.details,
        "emails_to_members": r.emails_to_members,
        "slug": r.slug,
        "id": r.id,
    }))
}

/// Whether a user can reach the backoffice (admin or a backoffice role).
pub fn backoffice_access(data: &WcsData, u: &User) -> bool {
    u.is_admin
        || u.roles
            .iter()
            .any(|r| data.role(r).is_some_and(|r| r.allows_backoffice_access))
}

/// `user_display_name`: name, else email, else "Unknown User".
pub fn display_name(u: &User) -> String {
    if !u.name.is_empty() {
        u.name.clone()
    } else if let Some(e) = u.email.as_ref().filter(|e| !e.is_empty()) {
        e.clone()
    } else {
        "Unknown User".into()
    }
}

fn user_head(data: &WcsData, u: &User) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("user_display_name".into(), json!(display_name(u)));
    m.insert("user_email".into(), json!(u.email));
    for (var, value) in &u.fields {
        let id = var.replace('-', "_");
        m.insert(format!("user_f{id}"), value.clone());
        m.insert(
            format!("user_field_{}", super::text::simplify(var, '_')),
            value.clone(),
        );
        m.insert(format!("user_var_{id}"), value.clone());
    }
    m.insert("user_admin_access".into(), json!(u.is_admin));
    m.insert(
        "user_backoffice_access".into(),
        json!(backoffice_access(data, u)),
    );
    if let Some(first) = u.name_identifiers.first() {
        m.insert("user_nameid".into(), json!(first));
    }
    for (i, n) in u.name_identifiers.iter().enumerate() {
        m.insert(format!("user_name_identifier_{i}"), json!(n));
    }
    m
}

fn user_roles(data: &WcsData, u: &User) -> Value {
    Value::Array(
        u.roles
            .iter()
            .filter_map(|r| role_object(data, r))
            .collect(),
    )
}

/// The `/api/user/` object (spec §2).
pub fn user_info(data: &WcsData, u: &User) -> Value {
    let mut m = user_head(data, u);
    m.insert("id".into(), json!(u.id));
    m.insert("user_roles".into(), user_roles(data, u));
    Value::Object(m)
}

fn profile(u: &User, var: &str) -> String {
    match u.fields.get(var) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Null) | None => String::new(),
        Some(v) => v.to_string(),
    }
}

/// `User.default_search_result_template` as w.c.s. renders it:
///
/// ```text
/// {{ user_email|default:"" }}
/// {% if user_var_phone %} 📞 {{ user_var_phone }}{% endif %}
/// {% if user_var_mobile %} 📱 {{ user_var_mobile }}{% endif %}
/// {% if user_var_address or user_var_zipcode or user_var_city %} 📨{% endif %}
/// {% if user_var_address %} {{ user_var_address }}{% endif %}
/// {% if user_var_zipcode %} {{ user_var_zipcode }}{% endif %}
/// {% if user_var_city %} {{ user_var_city }}{% endif %}
/// ```
///
/// Upstream renders it with Django's autoescape on (qommon's `Template`
/// defaults to it), then `str.strip()`s the result and drops Unicode
/// private-use characters: a missing value leaves an empty line inside,
/// and none at either end.
pub fn description(u: &User) -> String {
    let value = |var: &str| django_escape(&profile(u, var));
    let item = |prefix: &str, v: &str| {
        if v.is_empty() {
            String::new()
        } else {
            format!("{prefix}{v}")
        }
    };
    let (address, zipcode, city) = (value("address"), value("zipcode"), value("city"));
    let any_address = !(address.is_empty() && zipcode.is_empty() && city.is_empty());
    let lines = [
        django_escape(u.email.as_deref().unwrap_or("")),
        item(" 📞 ", &value("phone")),
        item(" 📱 ", &value("mobile")),
        if any_address {
            " 📨".to_owned()
        } else {
            String::new()
        },
        item(" ", &address),
        item(" ", &zipcode),
        item(" ", &city),
    ];
    lines
        .join("\n")
        .trim_matches(python_space)
        .chars()
        .filter(|c| !('\u{E000}'..='\u{F8FF}').contains(c))
        .collect()
}

/// Django's `escape`, which autoescape applies to every `{{ value }}`.
fn django_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#x27;"),
            c => out.push(c),
        }
    }
    out
}

/// What Python's `str.strip()` strips: Unicode white space, and the
/// ASCII separators U+001C to U+001F that Python counts as space too.
fn python_space(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

/// User `i`'s `/api/users/` item as Python's json.dumps writes it,
/// rendered once.
pub fn user_list_json(data: &WcsData, i: usize) -> &str {
    match data.index.list_json.get(i) {
        Some(cell) => {
            cell.get_or_init(|| super::json::dumps(&user_list_item(data, &data.users[i])))
        }
        None => "null",
    }
}

/// Stands for the base URL in a form's cached item: a private-use
/// character no form holds, which JSON writes as `\ue000`.
const BASE: &str = "\u{e000}base\u{e000}";
const BASE_IN_JSON: &str = "\\ue000base\\ue000";

/// Writes form `i`'s listing item (no `full`) for `base` into `out`, up
/// to, not including, its final `, "readable": …}`: rendered once, then
/// only joined with the base URL.
pub fn form_json_head(data: &WcsData, i: usize, base: &str, out: &mut String) {
    let render = || {
        let s = super::json::dumps(&form_item(data, BASE, i, false, true));
        let head = s.strip_suffix(", \"readable\": true}").unwrap_or(&s);
        head.split(BASE_IN_JSON)
            .map(str::to_owned)
            .collect::<Vec<_>>()
    };
    let Some(cell) = data.index.form_json.get(i) else {
        out.push_str(&render().join(base));
        return;
    };
    let pieces = cell.get_or_init(render);
    // The base as JSON writes it inside a string.
    let quoted = super::json::dumps(&Value::String(base.to_owned()));
    let base = &quoted[1..quoted.len() - 1];
    for (n, piece) in pieces.iter().enumerate() {
        if n > 0 {
            out.push_str(base);
        }
        out.push_str(piece);
    }
}

/// An item of the `/api/users/` list (spec §4).
pub fn user_list_item(data: &WcsData, u: &User) -> Value {
    let mut m = user_head(data, u);
    m.insert("user_id".into(), json!(u.id));
    m.insert("user_roles".into(), user_roles(data, u));
    m.insert("id".into(), json!(u.id));
    m.insert("text".into(), json!(display_name(u)));
    m.insert("description".into(), json!(description(u)));
    Value::Object(m)
}

fn channel_label(channel: Option<&str>) -> &'static str {
    match channel {
        Some("mail") => "Mail",
        Some("email") => "Email",
        Some("phone") => "Phone",
        Some("counter") => "Counter",
        Some("fax") => "Fax",
        Some("social-network") => "Social Network",
        Some("sms") => "SMS",
        _ => "Web",
    }
}

/// The display id: explicit, else `<formdef id>-<form id>`.
pub fn display_id(form: &Form) -> String {
    form.display_id
        .clone()
        .unwrap_or_else(|| format!("{}-{}", form.formdef_id, form.id))
}

/// An item of the forms and drafts listings (spec §3), merged with the
/// full export when `full`.
pub fn form_item(data: &WcsData, base: &str, i: usize, full: bool, readable: bool) -> Value {
    let form = &data.forms[i];
    let Some(def) = data.formdef(&form.formdef_id) else {
        return Value::Null;
    };
    let receipt = data.index.receipt[i];
    let update = form
        .last_update_time
        .as_deref()
        .and_then(|t| chrono::NaiveDateTime::parse_from_str(t, super::model::TIME_FORMAT).ok())
        .unwrap_or(receipt);
    let url = format!("{base}/{}/{}/", def.slug, form.id);
    let visible = visible_status(data, form);
    let (real, endpoint) = real_status(data, form);
    let number = display_id(form);
    let title = if form.is_draft() {
        format!("{} (draft)", def.name)
    } else {
        format!("{} #{number} ({})", def.name, visible.unwrap_or("unknown"))
    };
    let display_name = format!("{} #{number}", def.name);
    let mut m = Map::new();
    m.insert("name".into(), json!(def.name));
    m.insert("url".into(), json!(url));
    m.insert(
        "datetime".into(),
        json!(receipt.format("%Y-%m-%d %H:%M:%S").to_string()),
    );
    m.insert("status".into(), json!(visible));
    m.insert("status_css_class".into(), Value::Null);
    m.insert("keywords".into(), json!(form.keywords));
    m.insert("draft".into(), json!(form.is_draft()));
    m.insert(
        "last_update_time".into(),
        json!(update.format("%Y-%m-%d %H:%M:%S").to_string()),
    );
    m.insert("title".into(), json!(title));
    m.insert(
        "form_receipt_date".into(),
        json!(receipt.format("%d/%m/%Y").to_string()),
    );
    m.insert(
        "form_receipt_time".into(),
        json!(receipt.format("%H:%M").to_string()),
    );
    m.insert("form_identifier".into(), json!(form.id.to_string()));
    m.insert("form_number".into(), json!(number));
    m.insert("form_number_raw".into(), json!(form.id.to_string()));
    m.insert("form_url".into(), json!(url));
    m.insert(
        "form_url_backoffice".into(),
        json!(format!(
            "{base}/backoffice/management/{}/{}/",
            def.slug, form.id
        )),
    );
    m.insert(
        "form_uri".into(),
        json!(format!("{}/{}/", def.slug, form.id)),
    );
    m.insert("form_criticality_level".into(), json!(0));
    m.insert("form_digest".into(), json!(form.digest));
    m.insert("form_display_name".into(), json!(display_name));
    m.insert(
        "form_receipt_datetime".into(),
        json!(receipt.format("%Y-%m-%dT%H:%M:%S").to_string()),
    );
    m.insert(
        "form_last_update_datetime".into(),
        json!(update.format("%Y-%m-%dT%H:%M:%S").to_string()),
    );
    m.insert("form_status".into(), json!(real));
    m.insert("form_status_is_endpoint".into(), json!(endpoint));
    if let Some(code) = &form.tracking_code {
        m.insert("form_tracking_code".into(), json!(code));
    }
    m.insert(
        "form_submission_backoffice".into(),
        json!(form.backoffice_submission),
    );
    m.insert(
        "form_submission_channel".into(),
        json!(form.submission_channel),
    );
    m.insert(
        "form_submission_channel_label".into(),
        json!(channel_label(form.submission_channel.as_deref())),
    );
    m.insert("form_name".into(), json!(def.name));
    m.insert("form_slug".into(), json!(def.slug));
    m.insert("form_class_name".into(), json!("FormDef"));
    if let Some(cat) = def.category_id.as_deref().and_then(|c| data.category(c)) {
        m.insert("category_name".into(), json!(cat.name));
        // Upstream puts the category's slug in category_id.
        m.insert("category_id".into(), json!(cat.slug));
        m.insert("category_slug".into(), json!(cat.slug));
    }
    m.insert("readable".into(), json!(readable));
    if full {
        full_export(
            data,
            base,
            form,
            &mut m,
            FullCtx {
                url,
                display_name,
                number,
                receipt: receipt.format("%Y-%m-%dT%H:%M:%S").to_string(),
                update: update.format("%Y-%m-%dT%H:%M:%S").to_string(),
                real,
                endpoint,
                visible: visible.map(str::to_owned),
            },
        );
    }
    Value::Object(m)
}

struct FullCtx {
    url: String,
    display_name: String,
    number: String,
    receipt: String,
    update: String,
    real: String,
    endpoint: bool,
    visible: Option<String>,
}

fn full_export(data: &WcsData, base: &str, form: &Form, m: &mut Map<String, Value>, c: FullCtx) {
    let Some(def) = data.formdef(&form.formdef_id) else {
        return;
    };
    let text = match &form.digest {
        Some(d) => format!("{} ({d})", c.display_name),
        None => c.display_name.clone(),
    };
    m.insert(
        "uuid".into(),
        json!(format!(
            "00000000-0000-4000-8000-{:012x}",
            form.id.unsigned_abs()
        )),
    );
    m.insert("id".into(), json!(form.id.to_string()));
    m.insert("internal_id".into(), json!(form.id.to_string()));
    m.insert("display_id".into(), json!(c.number));
    m.insert("display_name".into(), json!(c.display_name));
    m.insert(
        "digests".into(),
        match &form.digest {
            Some(d) => json!({"default": d}),
            None => Value::Null,
        },
    );
    m.insert("text".into(), json!(text));
    m.insert("url".into(), json!(c.url));
    m.insert("receipt_time".into(), json!(c.receipt));
    m.insert("last_update_time".into(), json!(c.update));
    if let Some(u) = form.user_id.and_then(|id| data.user(id)) {
        let mut user = Map::new();
        user.insert("id".into(), json!(u.id));
        user.insert("name".into(), json!(display_name(u)));
        if let Some(e) = &u.email {
            user.insert("email".into(), json!(e));
        }
        if !u.name_identifiers.is_empty() {
            user.insert("NameID".into(), json!(u.name_identifiers));
        }
        m.insert("user".into(), Value::Object(user));
    }
    m.insert("criticality_level".into(), json!(0));
    m.insert(
        "api_url".into(),
        json!(format!("{base}/api/forms/{}/{}/", def.slug, form.id)),
    );
    m.insert(
        "backoffice_url".into(),
        json!(format!(
            "{base}/backoffice/management/{}/{}/",
            def.slug, form.id
        )),
    );
    m.insert("fields".into(), Value::Object(form.fields.clone()));
    let status = |name: Option<&str>| match name {
        _ if form.is_draft() => Value::Null,
        Some(name) => json!({
            "id": form.status,
            "name": name,
            "endpoint": c.endpoint,
            "first_arrival_datetime": c.receipt,
            "latest_arrival_datetime": c.receipt,
        }),
        None => Value::Null,
    };
    m.insert(
        "workflow".into(),
        json!({"status": status(c.visible.as_deref()), "real_status": status(Some(&c.real))}),
    );
    m.insert("actions".into(), json!({}));
    let concerned: Vec<Value> = form
        .concerned_roles
        .iter()
        .filter_map(|r| data.role(r))
        .map(
            |r| json!({"type": "role", "id": r.id, "name": r.name, "slug": r.slug, "text": r.name}),
        )
        .collect();
    m.insert(
        "roles".into(),
        json!({"_receiver": concerned, "concerned": concerned, "actions": concerned}),
    );
    let mut submission = Map::new();
    submission.insert("backoffice".into(), json!(form.backoffice_submission));
    submission.insert(
        "channel".into(),
        json!(form.submission_channel.as_deref().unwrap_or("web")),
    );
    m.insert("submission".into(), Value::Object(submission));
    m.insert("evolution".into(), json!([]));
    m.insert("geolocations".into(), json!({}));
}

/// The historical `/myspace/drafts` item the seed page shows.
pub fn legacy_draft(data: &WcsData, base: &str, i: usize) -> Value {
    let form = &data.forms[i];
    let receipt = data.index.receipt[i];
    let (name, slug) = data
        .formdef(&form.formdef_id)
        .map(|d| (d.name.clone(), d.slug.clone()))
        .unwrap_or_default();
    json!({
        "datetime": receipt.format("%Y-%m-%d %H:%M:%S").to_string(),
        "name": name,
        "title": format!("{name}, brouillon enregistré le {}", receipt.format("%d/%m/%Y %H:%M")),
        "url": format!("{base}/{slug}/{}", form.id),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Map;

    fn user(email: Option<&str>, fields: &[(&str, &str)]) -> User {
        let mut map = Map::new();
        for (k, v) in fields {
            map.insert((*k).to_owned(), json!(v));
        }
        serde_json::from_value(json!({"id": 1, "email": email, "fields": map})).unwrap()
    }

    #[test]
    fn the_description_puts_each_item_on_its_own_line_after_a_space() {
        let u = user(
            Some("a@b.fr"),
            &[
                ("phone", "01"),
                ("mobile", "06"),
                ("address", "1 rue X"),
                ("zipcode", "75001"),
                ("city", "PARIS"),
            ],
        );
        assert_eq!(
            description(&u),
            "a@b.fr\n 📞 01\n 📱 06\n 📨\n 1 rue X\n 75001\n PARIS"
        );
    }

    #[test]
    fn missing_values_leave_empty_lines_inside_and_none_at_the_ends() {
        assert_eq!(
            description(&user(Some("a@b.fr"), &[("city", "PARIS")])),
            "a@b.fr\n\n\n 📨\n\n\n PARIS"
        );
        assert_eq!(
            description(&user(Some("a@b.fr"), &[("phone", "01")])),
            "a@b.fr\n 📞 01"
        );
        assert_eq!(description(&user(None, &[("mobile", "06")])), "📱 06");
        assert_eq!(description(&user(None, &[])), "");
    }

    #[test]
    fn values_are_html_escaped_as_django_autoescape_does() {
        assert_eq!(
            description(&user(
                Some("o'neil@b.fr"),
                &[("address", "12 rue de l'Église <B&C> \"x\"")]
            )),
            "o&#x27;neil@b.fr\n\n\n 📨\n 12 rue de l&#x27;Église &lt;B&amp;C&gt; &quot;x&quot;"
        );
    }
}
