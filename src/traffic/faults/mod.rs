//! Fault injection on the emulated APIs: latency, an error status in the
//! API's own format, or a dropped connection, chosen by rules
//! (`/__doublure/faults`) or, for one call from a browser demo, by the
//! `X-Doublure-Fault` request header.
//!
//! Rules fire in creation order; the first matching rule that fires wins.
//! Probabilities draw from one generator seeded by configuration, so a run
//! that sends the same requests in the same order fails the same way.

mod by_header;
mod inject;
mod response;
mod rules;
mod set;
#[cfg(test)]
mod tests;

pub use by_header::parse_header;
pub use inject::{Injector, inject_then};
pub use response::error_response;
#[cfg(test)]
pub use rules::Call;
pub use rules::{FaultRule, Rule};
pub use set::Faults;

/// The request header that injects a fault into one call.
pub const FAULT_HEADER: &str = "x-doublure-fault";

/// Largest latency a rule or the header may ask for: a minute is longer
/// than any client timeout worth testing, and keeps a typo from hanging a
/// suite for hours.
pub const MAX_LATENCY_MS: u64 = 60_000;
