//! What the journal records about each request to the emulated APIs.
//!
//! Handlers and extractors say, in words, why a request got its answer
//! ("token expired 12 s ago", "signature mismatch: …") by attaching an
//! [`Outcome`] to the response's extensions; the journal reads it there.

use axum::response::Response;

/// Why a request got the answer it got, in words, for the journal and logs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome(pub String);

impl Outcome {
    /// Attaches `text` as the outcome of `response`.
    pub fn attach(response: &mut Response, text: impl Into<String>) {
        let text = text.into();
        tracing::debug!(outcome = %text, "request outcome");
        response.extensions_mut().insert(Outcome(text));
    }
}
