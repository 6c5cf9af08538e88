//! The request journal: every call to the emulated APIs, with secrets
//! redacted and the reason for its answer in words, kept in a ring bounded
//! in entries and in bytes, and by what the server's memory budget has
//! left, so a test can check what was called and a developer can see why
//! a call failed ("signature mismatch …", "token expired 12 s ago").
//!
//! The middleware also refuses a call, before it is served, when the
//! budget is spent and no journal of the server can give enough back (its
//! own first, then the largest): a 503 in the API's format, with a small
//! entry saying so.
//!
//! Handlers say why a request got its answer by attaching an [`Outcome`](crate::outcome::Outcome)
//! to the response's extensions; the middleware reads it there. A call the
//! client gave up on is recorded too (status 499), and one whose
//! connection a fault dropped is recorded as such (status 444), after the
//! conventions nginx logs them with.
//!
//! No secret is kept: secret headers and parameters are redacted by name,
//! and any value equal to a known secret (a Logora client secret, a w.c.s.
//! API access key or user password, the admin token) by value, wherever it
//! appears, outcome included. Long URLs, headers and outcomes are cut with
//! a visible marker, so that no caller can fill memory through the
//! journal.

mod fold;
mod middleware;
mod recorded;
mod redact;
mod ring;
#[cfg(test)]
mod tests;

pub use fold::RefusalLog;
pub use middleware::{Recorder, record};
pub use recorded::{JournalEntry, Recorded};
#[cfg(test)]
pub use redact::{Redactor, redacted_headers};
pub use ring::{Ending, Follower, Journal, JournalFilter};
