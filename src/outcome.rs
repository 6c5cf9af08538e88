//! Why a call got its answer, in words ("token of API_KEY expired 12 s
//! ago", "signature mismatch …"): the one thing the emulated APIs tell the
//! journal. A handler attaches it to its response; the journal, the log
//! and fault injection read it there. Outcomes never carry a secret: a
//! query string quoted in one goes through [`redact_query`], and the
//! journal redacts every known secret value before keeping or logging it.

use axum::response::Response;

/// Why a request got the answer it got.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome(pub String);

impl Outcome {
    /// Attaches `text` as the outcome of `response`.
    pub fn attach(response: &mut Response, text: impl Into<String>) {
        response.extensions_mut().insert(Outcome(text.into()));
    }

    /// The outcome attached to `response`, if any.
    pub fn of(response: &Response) -> Option<&str> {
        response.extensions().get::<Outcome>().map(|o| o.0.as_str())
    }
}

/// Query parameters whose values are secrets.
const SECRET_PARAMS: &[&str] = &[
    "client_secret",
    "signature",
    "access_token",
    "bearer_token",
    "token",
    "password",
    "key",
];

/// The query string with secret parameters' values replaced, the rest kept
/// byte for byte (w.c.s. signatures are over the raw bytes; a reader wants
/// to see them as sent).
pub fn redact_query(query: &str) -> String {
    query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((name, _)) if is_secret_param(name) => format!("{name}=[redacted]"),
            _ => pair.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("&")
}

fn is_secret_param(raw_name: &str) -> bool {
    let name = percent_encoding::percent_decode_str(raw_name).decode_utf8_lossy();
    SECRET_PARAMS.iter().any(|s| name.eq_ignore_ascii_case(s))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_query_parameters_are_redacted_and_the_rest_kept_as_sent() {
        assert_eq!(
            redact_query("email=fred%40example.net&orig=demo&signature=abc%3D&client_secret=x"),
            "email=fred%40example.net&orig=demo&signature=[redacted]&client_secret=[redacted]"
        );
        assert_eq!(
            redact_query("PassWord=x&%6Bey=y"),
            "PassWord=[redacted]&%6Bey=[redacted]"
        );
    }
}
