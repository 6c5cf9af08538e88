//! Who is calling (spec §1.3, upstream `get_user_from_api_query_string`
//! and the HTTP Basic handling of `qommon/http_request.py`): a verified
//! signed query string choosing a user by `email` or `NameID`, a restricted
//! API user, or HTTP Basic with a user's password or an API access.

use axum::http::{HeaderMap, header};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, Utc};

use super::error::WcsError;
use super::model::WcsData;
use super::signature::{self, SignatureError};
use super::{NonceCheck, Runtime};
use crate::form::Pair;

/// The caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Who {
    /// Nobody identified.
    Nobody,
    /// `email=` or `NameID=` present but empty on a signed call.
    Anonymous,
    /// A user (index into `WcsData::users`).
    User(usize),
    /// A restricted API user (index into `WcsData::api_accesses`).
    Api(usize),
}

/// The outcome of authentication.
#[derive(Debug, Clone)]
pub struct Auth {
    pub who: Who,
    /// Whether the query string carried a verified signature.
    pub signed: bool,
    /// How, in words ("signed by demo (sha256)", "Basic auth as …").
    pub how: String,
}

/// Why authentication failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthError {
    Signature(SignatureError),
    MultipleEmail,
    UnknownEmail(String),
    UnknownNameId(String),
    /// The memory budget has no room for the nonce.
    NoRoom,
}

impl AuthError {
    /// The error answered (a 403; see the forms endpoints for the 200).
    pub fn into_error(self) -> WcsError {
        match self {
            Self::Signature(SignatureError::UnusableAlgo(_)) => WcsError::Internal,
            Self::Signature(e) => WcsError::Forbidden(e.err_desc()),
            Self::MultipleEmail => WcsError::Forbidden("Multiple email field.".into()),
            Self::UnknownEmail(_) => WcsError::Forbidden("Unknown email.".into()),
            Self::UnknownNameId(_) => WcsError::UnknownNameId,
            Self::NoRoom => WcsError::Unavailable,
        }
    }

    pub fn explain(&self) -> String {
        match self {
            Self::Signature(e) => e.explain(),
            Self::MultipleEmail => "several email parameters".into(),
            Self::UnknownEmail(e) => {
                format!("no active, non-deleted user with email {e:?} (case-insensitive)")
            }
            Self::UnknownNameId(n) => format!("no non-deleted user with NameID {n:?}"),
            Self::NoRoom => "memory budget spent (--memory-budget): no room to remember this \
                call's nonce; refused rather than left open to replay"
                .into(),
        }
    }
}

/// Authenticates a request from its raw query string (and `pairs`, every
/// pair of it, read once for the whole call) and headers; `forgotten`
/// counts the older nonces the store forgot to remember this request's
/// (past `--max-nonces`).
pub fn authenticate(
    data: &WcsData,
    runtime: &Runtime,
    raw_query: &str,
    pairs: &[Pair<'_>],
    headers: &HeaderMap,
    now: DateTime<Utc>,
    forgotten: &mut usize,
) -> Result<Auth, AuthError> {
    if signature::is_signed_pairs(pairs) {
        // Remembered only once the caller's signature matched it: a
        // mismatch would otherwise let anyone fill the memo.
        let mut computed = None;
        let v = signature::verify_pairs(
            raw_query,
            pairs,
            now,
            |orig| data.access(orig).map(|a| a.access_key.clone()),
            |algo, key, signed| {
                let (signature, remembered) = runtime.signatures.signature(algo, key, signed);
                computed = signature.clone().filter(|_| !remembered);
                signature
            },
        )
        .map_err(AuthError::Signature)?;
        if let (Some(s), Some(access)) = (computed, data.access(&v.orig)) {
            let signed = signature::signed_part(raw_query);
            runtime
                .signatures
                .remember(&v.algo, &access.access_key, signed, s);
        }
        // Upstream keys the token on the simplified nonce even when nothing
        // survives simplify (`!!!` gives ""), so such nonces replay-check too.
        if let Some(n) = v.nonce.as_deref() {
            match runtime.use_nonce(n, now) {
                NonceCheck::Used => {
                    return Err(AuthError::Signature(SignatureError::NonceUsed(n.into())));
                }
                NonceCheck::Fresh { forgotten: f } => *forgotten = f,
                NonceCheck::NoRoom => return Err(AuthError::NoRoom),
            }
        }
        let how = format!("signed by {} ({})", v.orig, v.algo);
        let who = signed_user(data, &v.orig, pairs)?;
        return Ok(Auth {
            who,
            signed: true,
            how,
        });
    }
    Ok(basic(data, headers).unwrap_or(Auth {
        who: Who::Nobody,
        signed: false,
        how: "unsigned, no credentials".into(),
    }))
}

fn signed_user(data: &WcsData, orig: &str, pairs: &[Pair<'_>]) -> Result<Who, AuthError> {
    if let Some(&i) = data.index.access_by_id.get(orig)
        && !data.api_accesses[i].roles.is_empty()
    {
        return Ok(Who::Api(i));
    }
    let mut emails = Vec::new();
    let mut name_ids = Vec::new();
    for (k, v) in pairs {
        match k.as_ref() {
            "email" => emails.push(v.as_ref()),
            "NameID" => name_ids.push(v.as_ref()),
            _ => {}
        }
    }
    if emails.iter().any(|e| !e.is_empty()) {
        if emails.len() > 1 {
            return Err(AuthError::MultipleEmail);
        }
        let e = &emails[0];
        return data
            .index
            .user_by_email
            .get(&e.to_lowercase())
            .map(|&i| Who::User(i))
            .ok_or_else(|| AuthError::UnknownEmail((*e).to_owned()));
    }
    if let Some(n) = name_ids.first().filter(|n| !n.is_empty()) {
        return data
            .index
            .user_by_name_id
            .get(*n)
            .map(|&i| Who::User(i))
            .ok_or_else(|| AuthError::UnknownNameId((*n).to_owned()));
    }
    if !emails.is_empty() || !name_ids.is_empty() {
        return Ok(Who::Anonymous);
    }
    Ok(Who::Nobody)
}

/// The `user:password` of an `Authorization: Basic` header.
pub fn basic_credentials(headers: &HeaderMap) -> Option<(String, String)> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, rest) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = STANDARD.decode(rest.trim()).ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (user, pass) = text.split_once(':')?;
    Some((user.to_owned(), pass.to_owned()))
}

fn basic(data: &WcsData, headers: &HeaderMap) -> Option<Auth> {
    let (login, pass) = basic_credentials(headers)?;
    // A local password account first (login = the user's email), then an
    // API access.
    if let Some(&i) = data.index.user_by_email.get(&login.to_lowercase())
        && data.users[i].password.as_deref() == Some(pass.as_str())
    {
        return Some(Auth {
            who: Who::User(i),
            signed: false,
            how: format!("Basic auth as user {login}"),
        });
    }
    if let Some(&i) = data.index.access_by_id.get(&login)
        && data.api_accesses[i].access_key == pass
    {
        return Some(Auth {
            who: Who::Api(i),
            signed: false,
            how: format!("Basic auth as API access {login}"),
        });
    }
    Some(Auth {
        who: Who::Nobody,
        signed: false,
        how: format!("Basic credentials for {login:?} match no user password nor API access"),
    })
}
