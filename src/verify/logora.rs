//! The Logora battery: token requests (Doorkeeper's `/oauth/token`), the
//! users list with its pages, `per_page` edges and filters, token info,
//! and, with `--allow-writes`, introspection, a scope refusal and the
//! revocation of verify's own token. Upstream: Doorkeeper 5.9's tokens and
//! token info controllers and `doorkeeper_authorize!`; Logora's users page
//! and pagy's headers (docs/fidelity.md).

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::json;

use super::probe::{Ctx, Probe};
use super::wire::{Answer, Request};

/// A client id and a secret no instance has.
const UNKNOWN_CLIENT: &str = "doublure-verify-unknown-client";
const WRONG_SECRET: &str = "doublure-verify-wrong-secret";
/// A uid no user has: the scope probe names it, so that even an instance
/// that skipped the scope check would find no one to anonymize.
const NO_SUCH_UID: &str = "doublure-verify-no-such-user";

/// Keys of token answers that change with each call.
const TOKEN_VOLATILE: &[&str] = &["access_token", "created_at", "expires_in", "exp", "iat"];

fn id(c: &Ctx) -> Result<&str, String> {
    c.need("client_id")
}

fn secret(c: &Ctx) -> Result<&str, String> {
    c.need("client_secret")
}

fn basic(id: &str, secret: &str) -> String {
    let encode = |s: &str| form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    format!(
        "Basic {}",
        STANDARD.encode(format!("{}:{}", encode(id), encode(secret)))
    )
}

fn token_form(c: &Ctx, extra: &[(&str, &str)]) -> Result<Vec<Request>, String> {
    let mut pairs = vec![
        ("grant_type", "client_credentials"),
        ("client_id", id(c)?),
        ("client_secret", secret(c)?),
    ];
    pairs.extend_from_slice(extra);
    Ok(vec![Request::post("/oauth/token").form(&pairs)])
}

fn learn_token(c: &mut Ctx, a: &Answer) {
    if let Some(t) = a
        .json()
        .and_then(|v| v["access_token"].as_str().map(str::to_owned))
    {
        c.learnt.insert("token", t);
    }
}

fn learn_public_token(c: &mut Ctx, a: &Answer) {
    if let Some(t) = a
        .json()
        .and_then(|v| v["access_token"].as_str().map(str::to_owned))
    {
        c.learnt.insert("public_token", t);
    }
}

fn users(c: &Ctx, query: &str) -> Result<Vec<Request>, String> {
    let path = if query.is_empty() {
        "/api/v1/users".to_owned()
    } else {
        format!("/api/v1/users?{query}")
    };
    Ok(vec![Request::get(path).header(
        "authorization",
        format!("Bearer {}", c.need("token")?),
    )])
}

macro_rules! list {
    ($id:literal, $query:literal) => {
        Probe::new(
            $id,
            concat!("GET /api/v1/users?", $query, " with the token"),
            |c| users(c, $query),
        )
    };
}

/// The battery, in the order it runs.
pub fn battery() -> Vec<Probe> {
    vec![
        Probe::new(
            "token.valid",
            "POST /oauth/token, form body: grant_type=client_credentials, client_id, client_secret",
            |c| token_form(c, &[]),
        )
        .learn(learn_token)
        .volatile(TOKEN_VOLATILE),
        Probe::new(
            "token.json-body",
            "POST /oauth/token, the same as a JSON body",
            |c| {
                Ok(vec![Request::post("/oauth/token").json(&json!({
                    "grant_type": "client_credentials",
                    "client_id": id(c)?,
                    "client_secret": secret(c)?,
                }))])
            },
        )
        .volatile(TOKEN_VOLATILE),
        Probe::new(
            "token.basic",
            "POST /oauth/token, HTTP Basic credentials, grant_type in the body",
            |c| {
                Ok(vec![
                    Request::post("/oauth/token")
                        .header("authorization", basic(id(c)?, secret(c)?))
                        .form(&[("grant_type", "client_credentials")]),
                ])
            },
        )
        .volatile(TOKEN_VOLATILE),
        Probe::new(
            "token.basic-and-body",
            "POST /oauth/token, HTTP Basic credentials and the same client_id and client_secret in the body",
            |c| {
                Ok(vec![
                    Request::post("/oauth/token")
                        .header("authorization", basic(id(c)?, secret(c)?))
                        .form(&[
                            ("grant_type", "client_credentials"),
                            ("client_id", id(c)?),
                            ("client_secret", secret(c)?),
                        ]),
                ])
            },
        )
        .volatile(TOKEN_VOLATILE),
        Probe::new(
            "token.wrong-secret",
            "POST /oauth/token with the client_id and a wrong secret",
            |c| {
                Ok(vec![Request::post("/oauth/token").form(&[
                    ("grant_type", "client_credentials"),
                    ("client_id", id(c)?),
                    ("client_secret", WRONG_SECRET),
                ])])
            },
        ),
        Probe::new(
            "token.unknown-client",
            "POST /oauth/token with a client_id no instance has",
            |_| {
                Ok(vec![Request::post("/oauth/token").form(&[
                    ("grant_type", "client_credentials"),
                    ("client_id", UNKNOWN_CLIENT),
                    ("client_secret", WRONG_SECRET),
                ])])
            },
        ),
        Probe::new(
            "token.no-credentials",
            "POST /oauth/token with grant_type only",
            |_| {
                Ok(vec![
                    Request::post("/oauth/token").form(&[("grant_type", "client_credentials")]),
                ])
            },
        ),
        Probe::new(
            "token.missing-grant",
            "POST /oauth/token with the credentials and no grant_type",
            |c| {
                Ok(vec![Request::post("/oauth/token").form(&[
                    ("client_id", id(c)?),
                    ("client_secret", secret(c)?),
                ])])
            },
        ),
        Probe::new(
            "token.unsupported-grant",
            "POST /oauth/token with grant_type=doublure_verify (no such grant)",
            |c| {
                Ok(vec![Request::post("/oauth/token").form(&[
                    ("grant_type", "doublure_verify"),
                    ("client_id", id(c)?),
                    ("client_secret", secret(c)?),
                ])])
            },
        ),
        Probe::new(
            "token.scope-public",
            "POST /oauth/token with scope=public",
            |c| token_form(c, &[("scope", "public")]),
        )
        .learn(learn_public_token)
        .volatile(TOKEN_VOLATILE),
        Probe::new(
            "token.scope-unknown",
            "POST /oauth/token with scope=doublure_verify (no such scope)",
            |c| token_form(c, &[("scope", "doublure_verify")]),
        ),
        Probe::new(
            "token.scopes-plural",
            "POST /oauth/token with scopes=public (the plural, which Doorkeeper ignores)",
            |c| token_form(c, &[("scopes", "public")]),
        )
        .volatile(TOKEN_VOLATILE),
        Probe::new(
            "users.first-page",
            "GET /api/v1/users with the token",
            |c| users(c, ""),
        ),
        list!("users.page-2", "page=2"),
        list!("users.per-page-1", "per_page=1"),
        list!("users.per-page-100", "per_page=100"),
        list!("users.per-page-0", "per_page=0"),
        list!("users.per-page-101", "per_page=101"),
        list!("users.per-page-bad", "per_page=x"),
        list!("users.page-0", "page=0"),
        list!("users.page-bad", "page=x"),
        list!("users.page-past-end", "page=100000"),
        list!("users.countless", "countless=true"),
        list!("users.is-expert", "is_expert=true"),
        list!("users.is-expert-bad", "is_expert=maybe"),
        list!("users.is-selected", "is_selected=false"),
        list!("users.is-selected-bad", "is_selected=maybe"),
        list!(
            "users.sub-application-unknown",
            "sub_application_name=doublure-verify-none"
        ),
        list!("users.sort-points", "sort=-points"),
        list!("users.sort-bad", "sort=doublure_verify"),
        list!("users.query", "query=a"),
        list!("users.created-at-gte", "created_at.gte=2020-01-01"),
        list!("users.created-at-bad", "created_at.gte=not-a-date"),
        Probe::new(
            "users.no-token",
            "GET /api/v1/users without a token",
            |_| Ok(vec![Request::get("/api/v1/users")]),
        ),
        Probe::new(
            "users.bad-token",
            "GET /api/v1/users with a bearer token no instance issued",
            |_| {
                Ok(vec![
                    Request::get("/api/v1/users")
                        .header("authorization", "Bearer doublure-verify-not-a-token"),
                ])
            },
        ),
        Probe::new(
            "users.api-key",
            "GET /api/v1/users?api_key=<client_id> (the public key, not the secret)",
            |c| Ok(vec![Request::get(format!("/api/v1/users?api_key={}", enc(id(c)?)))]),
        ),
        Probe::new(
            "users.bad-api-key",
            "GET /api/v1/users?api_key=doublure-verify-unknown-client",
            |_| {
                Ok(vec![Request::get(format!(
                    "/api/v1/users?api_key={UNKNOWN_CLIENT}"
                ))])
            },
        ),
        Probe::new(
            "token-info.valid",
            "GET /oauth/token/info with the token",
            |c| {
                Ok(vec![
                    Request::get("/oauth/token/info")
                        .header("authorization", format!("Bearer {}", c.need("token")?)),
                ])
            },
        )
        .volatile(&["expires_in", "created_at"]),
        Probe::new(
            "token-info.bad-token",
            "GET /oauth/token/info with a bearer token no instance issued",
            |_| {
                Ok(vec![
                    Request::get("/oauth/token/info")
                        .header("authorization", "Bearer doublure-verify-not-a-token"),
                ])
            },
        ),
        Probe::new(
            "introspect.own-token",
            "POST /oauth/introspect of the token, as its client (writes: a POST)",
            |c| {
                Ok(vec![Request::post("/oauth/introspect").form(&[
                    ("token", c.need("token")?),
                    ("client_id", id(c)?),
                    ("client_secret", secret(c)?),
                ])])
            },
        )
        .volatile(TOKEN_VOLATILE),
        Probe::new(
            "introspect.no-caller",
            "POST /oauth/introspect of the token without caller authentication (writes: a POST)",
            |c| Ok(vec![Request::post("/oauth/introspect").form(&[("token", c.need("token")?)])]),
        ),
        Probe::new(
            "scope.missing",
            "POST /api/v1/users/doublure-verify-no-such-user/anonymize with the scope=public token: refused for its scope, and no user has that uid (writes)",
            |c| {
                Ok(vec![
                    Request::post(format!("/api/v1/users/{NO_SUCH_UID}/anonymize"))
                        .header("authorization", format!("Bearer {}", c.need("public_token")?)),
                ])
            },
        ),
        Probe::new(
            "revoke.own-token",
            "POST /oauth/revoke of the scope=public token verify got itself, then GET /oauth/token/info with it (writes)",
            |c| {
                let token = c.need("public_token")?;
                Ok(vec![
                    Request::post("/oauth/revoke").form(&[
                        ("token", token),
                        ("client_id", id(c)?),
                        ("client_secret", secret(c)?),
                    ]),
                    Request::get("/oauth/token/info")
                        .header("authorization", format!("Bearer {token}")),
                ])
            },
        ),
    ]
}

fn enc(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx() -> Ctx {
        let mut c = Ctx::default();
        c.given.insert("client_id", "ID".into());
        c.given.insert("client_secret", "SECRET".into());
        c.learnt.insert("token", "T".into());
        c.learnt.insert("public_token", "P".into());
        c
    }

    #[test]
    fn probe_names_are_unique_and_every_probe_builds_with_a_token() {
        let probes = battery();
        let mut names: Vec<_> = probes.iter().map(|p| p.id).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), probes.len());
        for p in &probes {
            assert!((p.build)(&ctx()).is_ok(), "{}", p.id);
        }
    }

    #[test]
    fn only_introspection_the_scope_probe_and_revocation_write() {
        let writes: Vec<_> = battery()
            .iter()
            .filter(|p| (p.build)(&ctx()).unwrap().iter().any(|r| !r.is_read()))
            .map(|p| p.id)
            .collect();
        assert_eq!(
            writes,
            [
                "introspect.own-token",
                "introspect.no-caller",
                "scope.missing",
                "revoke.own-token"
            ]
        );
    }

    #[test]
    fn basic_credentials_are_form_encoded_before_base64() {
        assert_eq!(
            basic("a b", "c:d"),
            format!("Basic {}", STANDARD.encode("a+b:c%3Ad"))
        );
    }

    #[test]
    fn a_probe_that_needs_a_token_says_so_when_there_is_none() {
        let p = battery()
            .into_iter()
            .find(|p| p.id == "users.page-2")
            .unwrap();
        assert_eq!(
            (p.build)(&Ctx::default()).unwrap_err(),
            "needs the token an earlier probe did not get"
        );
    }
}
