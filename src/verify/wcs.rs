//! The w.c.s. battery: a signed call to each endpoint, the signature's
//! refusals (bad signature, expired timestamp, replayed nonce, unknown
//! `orig`, no signature), a user by e-mail and by NameID, forms with each
//! parameter, drafts, the directory with `q`, one user and their forms,
//! and the old addresses. Every probe is a GET. Upstream: w.c.s.'s
//! `wcs/api.py`, `wcs/api_utils.py` and their tests (docs/fidelity.md).

use chrono::{TimeDelta, Utc};
use serde_json::Value;

use super::probe::{Ctx, Probe};
use super::wire::{Answer, Request};
use crate::wcs::signature::{quote, sign_url};

const WRONG_KEY: &str = "doublure-verify-wrong-key";
const UNKNOWN_ORIG: &str = "doublure-verify-unknown-orig";

/// `path` signed by the given access, as w.c.s.'s reference signer signs.
fn signed(c: &Ctx, path: &str) -> Result<String, String> {
    sign_with(
        path,
        c.need("orig")?,
        c.need("key")?,
        TimeDelta::zero(),
        None,
    )
}

fn sign_with(
    path: &str,
    orig: &str,
    key: &str,
    age: TimeDelta,
    nonce: Option<&str>,
) -> Result<String, String> {
    sign_url(path, orig, key, "sha256", Utc::now() - age, nonce)
}

/// `path` with the user (e-mail, else NameID) in its query.
fn as_user(c: &Ctx, path: &str) -> Result<String, String> {
    let sep = if path.contains('?') { '&' } else { '?' };
    match (c.get("email"), c.get("name_id")) {
        (Some(e), _) => Ok(format!("{path}{sep}email={}", quote(e))),
        (None, Some(n)) => Ok(format!("{path}{sep}NameID={}", quote(n))),
        (None, None) => Err("needs a user: --email or --name-id, or one in the directory".into()),
    }
}

fn get(url: String) -> Result<Vec<Request>, String> {
    Ok(vec![Request::get(url)])
}

/// The first user of a directory answer: its id, and an e-mail and a
/// NameID when none were given.
fn learn_directory(c: &mut Ctx, a: &Answer) {
    let Some(v) = a.json() else { return };
    let first = v["data"]
        .get(0)
        .or_else(|| v.get(0))
        .cloned()
        .unwrap_or(Value::Null);
    if let Some(id) = first["id"].as_i64() {
        c.learnt.insert("user_id", id.to_string());
    }
    if c.get("email").is_none() && c.get("name_id").is_none() {
        if let Some(e) = first["user_email"].as_str() {
            c.learnt.insert("email", e.to_owned());
        } else if let Some(n) = first["user_nameid"].as_str() {
            c.learnt.insert("name_id", n.to_owned());
        }
    }
}

/// The signed user's e-mail, NameID and id, for the probes that name
/// them.
fn learn_user(c: &mut Ctx, a: &Answer) {
    let Some(v) = a.json() else { return };
    for (key, name) in [("user_email", "user_email"), ("user_nameid", "user_nameid")] {
        if let Some(s) = v[key].as_str() {
            c.learnt.insert(name, s.to_owned());
        }
    }
    if let Some(id) = v["id"].as_i64() {
        c.learnt.insert("user_id", id.to_string());
    }
}

macro_rules! forms {
    ($id:literal, $path:literal, $query:literal) => {
        Probe::new(
            $id,
            concat!("signed GET ", $path, "?", $query, " as the user"),
            |c| get(signed(c, &as_user(c, concat!($path, "?", $query))?)?),
        )
    };
}

/// The battery, in the order it runs.
pub fn battery() -> Vec<Probe> {
    vec![
        Probe::new("directory.all", "signed GET /api/users/ (no user)", |c| {
            get(signed(c, "/api/users/")?)
        })
        .learn(learn_directory),
        Probe::new("user.signed", "signed GET /api/user/ as the user", |c| {
            get(signed(c, &as_user(c, "/api/user/")?)?)
        })
        .learn(learn_user),
        Probe::new(
            "user.by-email",
            "signed GET /api/user/?email=<the user's e-mail>",
            |c| {
                let email = c.need("user_email").or_else(|_| c.need("email"))?;
                get(signed(c, &format!("/api/user/?email={}", quote(email)))?)
            },
        ),
        Probe::new(
            "user.by-name-id",
            "signed GET /api/user/?NameID=<the user's NameID>",
            |c| {
                let n = c.need("user_nameid").or_else(|_| c.need("name_id"))?;
                get(signed(c, &format!("/api/user/?NameID={}", quote(n)))?)
            },
        ),
        Probe::new("user.unsigned", "GET /api/user/ with no signature", |_| {
            get("/api/user/".into())
        }),
        Probe::new(
            "user.bad-signature",
            "GET /api/user/ as the user, signed with a wrong key",
            |c| {
                let orig = c.need("orig")?;
                get(sign_with(
                    &as_user(c, "/api/user/")?,
                    orig,
                    WRONG_KEY,
                    TimeDelta::zero(),
                    None,
                )?)
            },
        ),
        Probe::new(
            "user.expired-timestamp",
            "GET /api/user/ as the user, signed with a timestamp an hour old",
            |c| {
                let (orig, key) = (c.need("orig")?, c.need("key")?);
                get(sign_with(
                    &as_user(c, "/api/user/")?,
                    orig,
                    key,
                    TimeDelta::hours(1),
                    None,
                )?)
            },
        )
        .volatile(&["err_desc"]),
        Probe::new(
            "user.replayed-nonce",
            "the same signed GET /api/user/ twice (one nonce); the second answer is compared",
            |c| {
                let (orig, key) = (c.need("orig")?, c.need("key")?);
                let url = sign_with(
                    &as_user(c, "/api/user/")?,
                    orig,
                    key,
                    TimeDelta::zero(),
                    Some(&c.nonce),
                )?;
                Ok(vec![Request::get(url.clone()), Request::get(url)])
            },
        ),
        Probe::new(
            "user.unknown-orig",
            "GET /api/user/ as the user, signed as an orig no instance has",
            |c| {
                let key = c.need("key")?;
                get(sign_with(
                    &as_user(c, "/api/user/")?,
                    UNKNOWN_ORIG,
                    key,
                    TimeDelta::zero(),
                    None,
                )?)
            },
        ),
        Probe::new(
            "user.missing-signature",
            "GET /api/user/ as the user with orig, algo, timestamp and nonce but no signature",
            |c| {
                let url = signed(c, &as_user(c, "/api/user/")?)?;
                let cut = url.rfind("&signature=").unwrap_or(url.len());
                get(url[..cut].to_owned())
            },
        ),
        forms!("forms.default", "/api/user/forms", ""),
        forms!("forms.full", "/api/user/forms", "full=on"),
        forms!(
            "forms.category-unknown",
            "/api/user/forms",
            "category_slugs=doublure-verify-none"
        ),
        forms!("forms.status-open", "/api/user/forms", "status=open"),
        forms!("forms.status-done", "/api/user/forms", "status=done"),
        forms!(
            "forms.status-bad",
            "/api/user/forms",
            "status=doublure-verify"
        ),
        forms!("forms.limit-offset", "/api/user/forms", "limit=1&offset=1"),
        forms!("forms.limit-bad", "/api/user/forms", "limit=x"),
        forms!("forms.sort-desc", "/api/user/forms", "sort=desc"),
        forms!("drafts.default", "/api/user/drafts", ""),
        forms!("drafts.full", "/api/user/drafts", "full=on"),
        Probe::new(
            "directory.q-user",
            "signed GET /api/users/?q=<the user's e-mail>",
            |c| {
                let email = c.need("user_email").or_else(|_| c.need("email"))?;
                get(signed(c, &format!("/api/users/?q={}", quote(email)))?)
            },
        ),
        Probe::new(
            "directory.q-nobody",
            "signed GET /api/users/?q=doublure-verify-nobody",
            |c| get(signed(c, "/api/users/?q=doublure-verify-nobody")?),
        ),
        Probe::new(
            "directory.user",
            "signed GET /api/users/<the user's id>/",
            |c| get(signed(c, &format!("/api/users/{}/", c.need("user_id")?))?),
        ),
        Probe::new(
            "directory.user-forms",
            "signed GET /api/users/<the user's id>/forms",
            |c| {
                get(signed(
                    c,
                    &format!("/api/users/{}/forms", c.need("user_id")?),
                )?)
            },
        ),
        Probe::new(
            "directory.unknown-user",
            "signed GET /api/users/doublure-verify-nobody/",
            |c| get(signed(c, "/api/users/doublure-verify-nobody/")?),
        ),
        Probe::new(
            "old.user",
            "signed GET /user as the user, Accept: application/json (the old address)",
            |c| {
                Ok(vec![
                    Request::get(signed(c, &as_user(c, "/user")?)?)
                        .header("accept", "application/json"),
                ])
            },
        ),
        Probe::new(
            "old.myspace-drafts",
            "signed GET /myspace/drafts as the user (the old address)",
            |c| get(signed(c, &as_user(c, "/myspace/drafts")?)?),
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx() -> Ctx {
        let mut c = Ctx::default();
        c.given.insert("orig", "demo".into());
        c.given.insert("key", "demo-secret".into());
        c.given.insert("email", "fred@example.net".into());
        c.learnt.insert("user_id", "1".into());
        c.learnt.insert("user_nameid", "abc".into());
        c.nonce = "n".into();
        c
    }

    #[test]
    fn every_wcs_probe_is_a_get_and_names_are_unique() {
        let probes = battery();
        let mut names: Vec<_> = probes.iter().map(|p| p.id).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), probes.len());
        for p in &probes {
            for r in (p.build)(&ctx()).unwrap() {
                assert_eq!(r.method, "GET", "{}", p.id);
            }
        }
    }

    #[test]
    fn the_missing_signature_probe_keeps_orig_and_drops_the_signature() {
        let p = battery()
            .into_iter()
            .find(|p| p.id == "user.missing-signature")
            .unwrap();
        let url = &(p.build)(&ctx()).unwrap()[0].path;
        assert!(url.contains("orig=demo") && url.contains("nonce="), "{url}");
        assert!(!url.contains("signature="), "{url}");
    }

    #[test]
    fn the_replay_probe_sends_one_url_twice() {
        let p = battery()
            .into_iter()
            .find(|p| p.id == "user.replayed-nonce")
            .unwrap();
        let r = (p.build)(&ctx()).unwrap();
        assert_eq!((r.len(), &r[0]), (2, &r[1]));
    }
}
