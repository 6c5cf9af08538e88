//! Reading credentials the way Doorkeeper does (spec §3): OAuth parameters
//! from the query string, a form body or a JSON body (Rails merges them, the
//! body winning); client credentials from HTTP Basic first, then from the
//! `client_id`/`client_secret` parameters; a bearer token from
//! `Authorization: Bearer` (any case), then `access_token`, then
//! `bearer_token`.

use std::borrow::Cow;

use axum::http::{HeaderMap, header};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::Value;

/// Parameters of an OAuth request, query string first, then the body;
/// borrowed from the request where nothing needed decoding.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Params<'a>(pub Vec<(Cow<'a, str>, Cow<'a, str>)>);

impl Params<'_> {
    /// The value of `name`: the last one given, the body's over the query's.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_ref())
    }

    /// Like [`Params::get`], a blank value counting as absent.
    pub fn present(&self, name: &str) -> Option<&str> {
        self.get(name).filter(|v| !v.trim().is_empty())
    }
}

/// A JSON body that is not a JSON object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NotAnObject;

/// The merged parameters of a request.
pub fn params<'a>(
    query: Option<&'a str>,
    headers: &HeaderMap,
    body: &'a [u8],
) -> Result<Params<'a>, NotAnObject> {
    let mut pairs: Vec<_> = query
        .map(|q| crate::form::parse(q).collect())
        .unwrap_or_default();
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            let v = v.to_ascii_lowercase();
            v.starts_with("application/json") || v.contains("+json")
        });
    if is_json {
        if !body.iter().all(u8::is_ascii_whitespace) {
            let Ok(Value::Object(map)) = serde_json::from_slice::<Value>(body) else {
                return Err(NotAnObject);
            };
            for (k, v) in map {
                let text = match v {
                    Value::String(s) => s,
                    Value::Number(n) => n.to_string(),
                    Value::Bool(b) => b.to_string(),
                    // Arrays, objects and null are no OAuth parameter values.
                    _ => continue,
                };
                pairs.push((Cow::Owned(k), Cow::Owned(text)));
            }
        }
    } else {
        match std::str::from_utf8(body) {
            Ok(text) => pairs.extend(crate::form::parse(text)),
            Err(_) => pairs.extend(
                form_urlencoded::parse(body)
                    .map(|(k, v)| (Cow::Owned(k.into_owned()), Cow::Owned(v.into_owned()))),
            ),
        }
    }
    Ok(Params(pairs))
}

/// `(client_id, client_secret)` of an `Authorization: Basic` header.
pub fn basic(headers: &HeaderMap) -> Option<(String, String)> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, encoded) = value.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = STANDARD.decode(encoded.trim()).ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (id, secret) = text.split_once(':')?;
    // RFC 6749 §2.3.1 form-encodes both before Basic; Doorkeeper decodes.
    let decode = |s: &str| {
        percent_encoding::percent_decode_str(&s.replace('+', " "))
            .decode_utf8_lossy()
            .into_owned()
    };
    Some((decode(id), decode(secret)))
}

/// Where the client credentials came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CredentialSource {
    Basic,
    Params,
}

/// The client credentials of a request: Basic first, then parameters.
/// A missing secret is an empty one, which matches no client.
pub fn client_credentials(
    headers: &HeaderMap,
    params: &Params,
) -> Option<(String, String, CredentialSource)> {
    if let Some((id, secret)) = basic(headers) {
        return Some((id, secret, CredentialSource::Basic));
    }
    let id = params.present("client_id")?;
    let secret = params.get("client_secret").unwrap_or("");
    Some((id.to_owned(), secret.to_owned(), CredentialSource::Params))
}

/// The token of an `Authorization: Bearer …` header (scheme in any case).
pub fn bearer_header(headers: &HeaderMap) -> Option<String> {
    bearer_in(headers).map(str::to_owned)
}

/// [`bearer_header`], borrowed from the header.
pub fn bearer_in(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// The bearer token of a request, by Doorkeeper's order.
pub fn bearer_token(headers: &HeaderMap, params: &[(String, String)]) -> Option<String> {
    bearer_header(headers).or_else(|| {
        ["access_token", "bearer_token"].iter().find_map(|name| {
            params
                .iter()
                .rev()
                .find(|(k, v)| k == name && !v.is_empty())
                .map(|(_, v)| v.clone())
        })
    })
}

/// Whether the request carries the seed page's misnamed `Authentication`
/// header, which no server reads.
pub fn has_authentication_header(headers: &HeaderMap) -> bool {
    headers.contains_key("authentication")
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (k, v) in pairs {
            map.insert(*k, HeaderValue::from_str(v).unwrap());
        }
        map
    }

    #[test]
    fn the_body_wins_over_the_query_string() {
        let p = params(
            Some("scope=admin&grant_type=x"),
            &headers(&[]),
            b"grant_type=client_credentials",
        )
        .unwrap();
        assert_eq!(p.get("grant_type"), Some("client_credentials"));
        assert_eq!(p.get("scope"), Some("admin"));
    }

    #[test]
    fn a_json_body_is_read_and_a_broken_one_refused() {
        let h = headers(&[("content-type", "application/json")]);
        let p = params(None, &h, br#"{"client_id":"A","n":3,"x":[1]}"#).unwrap();
        assert_eq!(
            (p.get("client_id"), p.get("n"), p.get("x")),
            (Some("A"), Some("3"), None)
        );
        assert_eq!(params(None, &h, b"{oops"), Err(NotAnObject));
    }

    #[test]
    fn basic_credentials_win_over_parameters() {
        // "API_KEY:API_SECRET"
        let h = headers(&[("authorization", "basic QVBJX0tFWTpBUElfU0VDUkVU")]);
        let p = Params(vec![("client_id".into(), "OTHER".into())]);
        assert_eq!(
            client_credentials(&h, &p),
            Some((
                "API_KEY".into(),
                "API_SECRET".into(),
                CredentialSource::Basic
            ))
        );
    }

    #[test]
    fn the_bearer_scheme_is_case_insensitive_and_the_header_comes_first() {
        let h = headers(&[("authorization", "bEaReR abc")]);
        let q = vec![("access_token".to_owned(), "def".to_owned())];
        assert_eq!(bearer_token(&h, &q), Some("abc".into()));
        assert_eq!(bearer_token(&headers(&[]), &q), Some("def".into()));
        let basic = headers(&[("authorization", "Basic QTpC")]);
        assert_eq!(bearer_token(&basic, &[]), None);
    }
}
