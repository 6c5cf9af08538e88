//! Why a call got its answer, in words ("token of API_KEY expired 12 s
//! ago", "signature mismatch …"): the one thing the emulated APIs tell the
//! journal. A handler attaches it to its response; the journal, the log
//! and fault injection read it there.

use axum::response::Response;

/// Why a request got the answer it got.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome(pub String);

impl Outcome {
    /// Attaches `text` as the outcome of `response`.
    pub fn attach(response: &mut Response, text: impl Into<String>) {
        let text = text.into();
        tracing::debug!(outcome = %text, "request outcome");
        response.extensions_mut().insert(Outcome(text));
    }

    /// The outcome attached to `response`, if any.
    pub fn of(response: &Response) -> Option<&str> {
        response.extensions().get::<Outcome>().map(|o| o.0.as_str())
    }
}
