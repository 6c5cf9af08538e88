//! Why a call got its answer, in words ("token of API_KEY expired 12 s
//! ago", "signature mismatch …"): the one thing the emulated APIs tell the
//! journal. A handler attaches it to its response; the journal, the log
//! and fault injection read it there. Outcomes never carry a secret: a
//! query string quoted in one goes through [`redact_query`], and the
//! journal redacts every known secret value before keeping or logging it.

use std::sync::Arc;

use axum::response::Response;

/// Why a request got the answer it got: its words, or how to write them.
#[derive(Clone)]
pub enum Outcome {
    /// Written when the answer was made.
    Text(String),
    /// Written only if someone reads it: the routes called by the
    /// thousand (a users page, a token, a forms list) answer far more calls
    /// than anyone reads in the journal, and formatting each outcome was
    /// work on every one of them.
    Later(Arc<dyn Fn() -> String + Send + Sync>),
}

impl std::fmt::Debug for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Outcome").field(&self.text()).finish()
    }
}

impl Outcome {
    /// Attaches `text` as the outcome of `response`.
    pub fn attach(response: &mut Response, text: impl Into<String>) {
        response.extensions_mut().insert(Outcome::Text(text.into()));
    }

    /// Attaches the outcome `write` writes, called only when someone
    /// reads it (the journal, a log line), as often as they do: it must
    /// capture what it says, not refer to state that may change.
    pub fn attach_later(
        response: &mut Response,
        write: impl Fn() -> String + Send + Sync + 'static,
    ) {
        response
            .extensions_mut()
            .insert(Outcome::Later(Arc::new(write)));
    }

    /// The outcome attached to `response`, if any, written.
    pub fn of(response: &Response) -> Option<String> {
        response.extensions().get::<Outcome>().map(Outcome::text)
    }

    /// The words.
    pub fn text(&self) -> String {
        match self {
            Self::Text(text) => text.clone(),
            Self::Later(write) => write(),
        }
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
    fn an_outcome_written_later_reads_as_the_same_words() {
        let mut response = Response::new(axum::body::Body::empty());
        assert_eq!(Outcome::of(&response), None);
        let (page, client) = (3, "API_KEY".to_owned());
        Outcome::attach_later(&mut response, move || format!("page {page} for {client}"));
        assert_eq!(
            Outcome::of(&response).as_deref(),
            Some("page 3 for API_KEY")
        );
        Outcome::attach(&mut response, "now");
        assert_eq!(Outcome::of(&response).as_deref(), Some("now"));
    }

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
