//! `doublure fixtures import logora`: a client-credentials token from
//! `/oauth/token`, then every page of `/api/v1/users` (100 a page, pagy's
//! cap), followed by Logora's `next-page` header, else the `link` header's
//! `next`, else `total-pages`, else until an empty page.
//!
//! Written: one application (id 1: the API never shows Logora's own id),
//! the client with the credentials given and the scopes granted, and each
//! user as served plus the four fields only doublure reads, written
//! explicitly: `application_id` 1, `sub_application_name` (the user's own
//! when the server shows one, else the server's host name), and `is_expert`
//! and `is_selected` false unless the server shows them (the list API does
//! not say who is expert or selected).

use std::collections::HashSet;

use indicatif::ProgressBar;
use serde_json::{Map, Value, json};

use super::anonymize::Anonymizer;
use super::http::{Http, Reply};
use super::output::Staging;
use super::{ImportError, LogoraArgs, Summary, show_total};
use crate::logora::model::{SCOPES, User, is_rails_time, scope_bits, scope_text};
use crate::store::ItemRef;
use crate::store::fixtures::parse_item;

/// Users asked for per page: pagy's cap, so the fewest calls.
const PER_PAGE: u64 = 100;
/// The id of the one application written.
pub const APPLICATION_ID: u64 = 1;
/// Doorkeeper's default token lifetime: a client whose tokens last as long
/// gets no `token_lifetime`, so `--logora-token-lifetime` still applies.
const DEFAULT_LIFETIME: u64 = 7200;
const CREDENTIALS_HINT: &str = "check --client-id and --client-secret";

/// What was read from a Logora server.
#[derive(Debug, Clone)]
pub struct Fetched {
    /// The server's host name (names the application and its default
    /// sub-application).
    pub host: String,
    /// The base URL read from.
    pub base: String,
    /// Scopes granted, space-separated, limited to those doublure knows.
    pub scopes: String,
    /// The tokens' lifetime when it is not Doorkeeper's default.
    pub token_lifetime: Option<u64>,
    /// Every user, as served, in the order served, with the four
    /// doublure-only fields.
    pub users: Vec<Map<String, Value>>,
    pub pages: u64,
    pub notes: Vec<String>,
}

/// Runs `doublure fixtures import logora`.
pub async fn run(args: &LogoraArgs, progress: &ProgressBar) -> Result<Summary, ImportError> {
    let http = Http::new(
        &args.url,
        vec![args.client_secret.expose().to_owned()],
        args.output.limits.max_response_bytes,
    )?;
    let staging = Staging::new(&args.output.out, "logora")?;
    let fetched = fetch(&http, args, progress).await?;
    staging.commit(&files(args, &fetched))?;
    let out = args.output.out.display().to_string();
    let out = out.trim_end_matches('/');
    let mut notes = fetched.notes.clone();
    notes.push(format!(
        "{out}/logora/clients.json holds the client secret given: keep the directory private, \
         or change the secret there (doublure accepts any)"
    ));
    Ok(Summary {
        text: format!(
            "{out}/logora: {} users from {} ({} {}), client {} with scope {}{}",
            fetched.users.len(),
            fetched.base,
            fetched.pages,
            if fetched.pages == 1 { "page" } else { "pages" },
            args.client_id,
            fetched.scopes,
            if args.output.anonymize {
                ", anonymized"
            } else {
                ""
            }
        ),
        notes,
    })
}

/// Reads the token, then every page of users.
async fn fetch(
    http: &Http,
    args: &LogoraArgs,
    progress: &ProgressBar,
) -> Result<Fetched, ImportError> {
    let (token, answer) = token(http, args).await?;
    let mut notes = Vec::new();
    let scopes = granted_scopes(http, args.scope.as_deref(), &token, &answer, &mut notes).await;
    let token_lifetime = answer
        .get("expires_in")
        .and_then(Value::as_u64)
        .filter(|&s| s > 0 && s != DEFAULT_LIFETIME);
    let mut users = Vec::new();
    let mut seen = HashSet::new();
    let mut repeated = 0;
    let mut announced = None;
    let mut page = 1;
    let mut pages = 0;
    loop {
        let url = http.url(&format!("/api/v1/users?page={page}&per_page={PER_PAGE}"));
        let what = format!("GET {url}");
        let reply = http
            .send(&what, |client| client.get(&url).bearer_auth(&token))
            .await?;
        let body = http.json(&what, &reply, CREDENTIALS_HINT)?;
        let items = page_items(&what, &body)?;
        pages += 1;
        if page == 1
            && let Some(total) = reply.header("total").and_then(|t| t.trim().parse().ok())
        {
            show_total(progress, total, "logora users");
            announced = Some(total);
        }
        let mut new = 0;
        for (n, item) in items.iter().enumerate() {
            let user = check_user(&what, n + 1, item, http.host())?;
            let id = user.get("id").and_then(Value::as_u64).unwrap_or_default();
            if seen.insert(id) {
                users.push(user);
                new += 1;
            } else {
                repeated += 1;
            }
        }
        progress.inc(items.len() as u64);
        if !items.is_empty() && new == 0 {
            return Err(ImportError::Malformed {
                what,
                detail: format!(
                    "page {page} only repeats users of earlier pages: the server does not page \
                     by `page` (is --url a Logora server?)"
                ),
            });
        }
        match next_page(&reply, page, items.len()) {
            Some(_) if pages >= args.output.limits.max_pages => {
                return Err(ImportError::Limit {
                    what,
                    detail: format!(
                        "the server has more than --max-pages ({}) pages of users; raise it if \
                         the application has that many users",
                        args.output.limits.max_pages
                    ),
                });
            }
            Some(next) => page = next,
            None => break,
        }
    }
    if repeated > 0 {
        notes.push(format!(
            "users served twice (the list changed during the import), each written once: {repeated}"
        ));
    }
    if let Some(total) = announced
        && total != users.len() as u64
    {
        notes.push(format!(
            "the server announced {total} users and {} were read: users were added or removed during the import",
            users.len()
        ));
    }
    Ok(Fetched {
        host: http.host().to_owned(),
        base: http.base().to_owned(),
        scopes,
        token_lifetime,
        users,
        pages,
        notes,
    })
}

/// A client-credentials token: the token and the whole answer.
async fn token(http: &Http, args: &LogoraArgs) -> Result<(String, Value), ImportError> {
    let url = http.url("/oauth/token");
    let what = format!("POST {url}");
    let mut form = form_urlencoded::Serializer::new(String::new());
    form.append_pair("grant_type", "client_credentials")
        .append_pair("client_id", &args.client_id)
        .append_pair("client_secret", args.client_secret.expose());
    if let Some(scope) = &args.scope {
        form.append_pair("scope", scope);
    }
    let body = form.finish();
    let reply = http
        .send(&what, |client| {
            client
                .post(&url)
                .header(
                    reqwest::header::CONTENT_TYPE,
                    "application/x-www-form-urlencoded",
                )
                .body(body.clone())
        })
        .await?;
    let answer = http.json(&what, &reply, CREDENTIALS_HINT)?;
    match answer.get("access_token").and_then(Value::as_str) {
        Some(token) if !token.is_empty() => Ok((token.to_owned(), answer)),
        _ => Err(ImportError::Malformed {
            what,
            detail: "no access_token in the answer".to_owned(),
        }),
    }
}

/// The scopes the token carries: the answer's `scope`, else what
/// `/oauth/token/info` says, else what was asked (or Doorkeeper's default,
/// `public`); only those doublure emulates are kept.
async fn granted_scopes(
    http: &Http,
    asked: Option<&str>,
    token: &str,
    answer: &Value,
    notes: &mut Vec<String>,
) -> String {
    let granted = match answer.get("scope").and_then(Value::as_str) {
        Some(scope) if !scope.trim().is_empty() => scope.to_owned(),
        _ => match token_info_scopes(http, token).await {
            Some(scope) => scope,
            None => asked
                .filter(|s| !s.trim().is_empty())
                .unwrap_or("public")
                .to_owned(),
        },
    };
    let (known, unknown): (Vec<&str>, Vec<&str>) =
        granted.split_whitespace().partition(|s| SCOPES.contains(s));
    if !unknown.is_empty() {
        notes.push(format!(
            "scopes {} are not emulated by doublure: the client is written without them",
            unknown.join(", ")
        ));
    }
    match scope_bits(&known.join(" ")) {
        Ok(bits) if bits != 0 => scope_text(bits),
        _ => {
            notes.push("no emulated scope was granted: the client is written with `public`".into());
            "public".to_owned()
        }
    }
}

/// The scopes `/oauth/token/info` lists, when the server has that route.
async fn token_info_scopes(http: &Http, token: &str) -> Option<String> {
    let url = http.url("/oauth/token/info");
    let what = format!("GET {url}");
    let reply = http
        .send(&what, |client| client.get(&url).bearer_auth(token))
        .await
        .ok()?;
    let info = http.json(&what, &reply, CREDENTIALS_HINT).ok()?;
    match info.get("scope")? {
        Value::String(scope) => Some(scope.clone()),
        Value::Array(scopes) => Some(
            scopes
                .iter()
                .filter_map(Value::as_str)
                .collect::<Vec<_>>()
                .join(" "),
        ),
        _ => None,
    }
}

/// The `data` array of a users page.
fn page_items(what: &str, body: &Value) -> Result<Vec<Value>, ImportError> {
    if body.get("success") == Some(&Value::Bool(false)) {
        return Err(ImportError::Malformed {
            what: what.to_owned(),
            detail: format!(
                "the server says it failed: {}",
                super::http::server_message(body.to_string().as_bytes())
            ),
        });
    }
    match body.get("data") {
        Some(Value::Array(items)) => Ok(items.clone()),
        _ => Err(ImportError::Malformed {
            what: what.to_owned(),
            detail: "expected {\"success\": true, \"data\": [users…]}".to_owned(),
        }),
    }
}

/// The page after `page`, if any.
fn next_page(reply: &Reply, page: u64, items: usize) -> Option<u64> {
    if let Some(next) = reply.header("next-page") {
        return next.trim().parse().ok().filter(|&n| n > page);
    }
    if let Some(link) = reply.header("link") {
        return link
            .split(',')
            .find(|part| part.contains("rel=\"next\""))
            .and_then(|part| {
                let url = part.split('<').nth(1)?.split('>').next()?;
                let query = url.split_once('?')?.1;
                form_urlencoded::parse(query.as_bytes())
                    .find(|(k, _)| k == "page")
                    .and_then(|(_, v)| v.parse().ok())
            })
            .filter(|&n| n > page);
    }
    if let Some(total) = reply
        .header("total-pages")
        .and_then(|t| t.trim().parse::<u64>().ok())
    {
        return (page < total).then_some(page + 1);
    }
    // No pagination header at all: read on until a page comes back empty.
    (items > 0).then_some(page + 1)
}

/// Item `n` of a page, checked as a fixture user once placed in the
/// application, so a malformed answer is named by page and item.
fn check_user(
    what: &str,
    n: usize,
    item: &Value,
    host: &str,
) -> Result<Map<String, Value>, ImportError> {
    let id = item.get("id").map(|v| match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    });
    let at = match &id {
        Some(id) => format!("item {n} (id {id})"),
        None => format!("item {n}"),
    };
    let malformed = |detail: String| ImportError::Malformed {
        what: what.to_owned(),
        detail: format!("{at}: {detail}"),
    };
    let Value::Object(served) = item else {
        return Err(malformed(format!("a user is a JSON object, got {item}")));
    };
    let mut user = served.clone();
    user.insert("application_id".to_owned(), json!(APPLICATION_ID));
    if !matches!(user.get("sub_application_name"), Some(Value::String(s)) if !s.is_empty()) {
        user.insert("sub_application_name".to_owned(), json!(host));
    }
    user.entry("is_expert").or_insert(Value::Bool(false));
    user.entry("is_selected").or_insert(Value::Bool(false));
    let item_ref = ItemRef {
        file: String::new(),
        number: n,
        id,
    };
    let parsed: User =
        parse_item(&Value::Object(user.clone()), &item_ref).map_err(|p| malformed(p.message))?;
    if !is_rails_time(&parsed.created_at) {
        return Err(malformed(format!(
            "field created_at: {:?} is not a time like 2021-11-25T16:15:38.874Z",
            parsed.created_at
        )));
    }
    Ok(user)
}

/// The fixture files of an import.
pub fn files(args: &LogoraArgs, fetched: &Fetched) -> Vec<(&'static str, Value)> {
    let mut users = fetched.users.clone();
    if args.output.anonymize {
        let mut anonymizer = Anonymizer::new(args.client_secret.expose());
        for user in &mut users {
            anonymizer.logora_user(user);
        }
    }
    let mut subs: Vec<String> = Vec::new();
    for user in &users {
        if let Some(Value::String(sub)) = user.get("sub_application_name")
            && !subs.contains(sub)
        {
            subs.push(sub.clone());
        }
    }
    if subs.is_empty() {
        subs.push(fetched.host.clone());
    }
    let mut client = json!({
        "client_id": args.client_id,
        "client_secret": args.client_secret.expose(),
        "application_id": APPLICATION_ID,
        "scopes": fetched.scopes,
    });
    if let Some(lifetime) = fetched.token_lifetime {
        client["token_lifetime"] = json!(lifetime);
    }
    vec![
        (
            "logora/applications.json",
            json!([{
                "id": APPLICATION_ID,
                "name": format!("Logora ({})", fetched.host),
                "sub_applications": subs,
            }]),
        ),
        ("logora/clients.json", json!([client])),
        (
            "logora/users.json",
            Value::Array(users.into_iter().map(Value::Object).collect()),
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply(headers: &[(&'static str, &str)]) -> Reply {
        let mut map = reqwest::header::HeaderMap::new();
        for (name, value) in headers {
            map.insert(*name, value.parse().unwrap());
        }
        Reply {
            status: 200,
            headers: map,
            body: Vec::new(),
        }
    }

    #[test]
    fn the_next_page_comes_from_next_page_then_link_then_total_pages() {
        assert_eq!(next_page(&reply(&[("next-page", "3")]), 2, 100), Some(3));
        assert_eq!(
            next_page(
                &reply(&[(
                    "link",
                    "<https://h/api/v1/users?page=1&per_page=100>; rel=\"first\", <https://h/api/v1/users?per_page=100&page=4>; rel=\"next\""
                )]),
                3,
                100
            ),
            Some(4)
        );
        assert_eq!(
            next_page(
                &reply(&[("link", "<https://h/api/v1/users?page=1>; rel=\"first\"")]),
                3,
                100
            ),
            None,
            "a link header without next ends the list"
        );
        assert_eq!(next_page(&reply(&[("total-pages", "5")]), 4, 100), Some(5));
        assert_eq!(next_page(&reply(&[("total-pages", "5")]), 5, 100), None);
        assert_eq!(next_page(&reply(&[]), 7, 3), Some(8));
        assert_eq!(next_page(&reply(&[]), 7, 0), None);
        assert_eq!(
            next_page(&reply(&[("next-page", "1")]), 1, 100),
            None,
            "a next page that goes back is no next page"
        );
    }

    #[test]
    fn a_user_gets_the_four_doublure_fields_after_its_own() {
        let item = json!({
            "id": 7, "uid": "u7", "image_url": null, "full_name": "A B",
            "level": {"id": 1, "name": "N", "icon_url": "https://i"}, "score": 0, "slug": "a-b",
            "points": 0, "description": null, "created_at": "2021-11-25T16:15:38.874Z",
            "messages_count": 0, "votes_count": 0, "email": null, "age": null, "city": null,
            "occupation": null, "interests": null
        });
        let user = check_user("GET x", 1, &item, "app.logora.fr").unwrap();
        let keys: Vec<&str> = user.keys().map(String::as_str).collect();
        assert_eq!(
            &keys[17..],
            [
                "application_id",
                "sub_application_name",
                "is_expert",
                "is_selected"
            ]
        );
        assert_eq!(user["sub_application_name"], "app.logora.fr");
    }

    #[test]
    fn a_malformed_user_is_named_by_page_and_item() {
        let err = check_user(
            "GET https://h/api/v1/users?page=2&per_page=100",
            3,
            &json!({"id": 42, "full_name": 5}),
            "h",
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "unexpected answer to GET https://h/api/v1/users?page=2&per_page=100: item 3 (id 42): \
             field full_name: invalid type: integer `5`, expected a string"
        );
    }
}
