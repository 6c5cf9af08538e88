//! The log line of a call: refusals logged at info, identical ones within
//! a second folded into one line and a count.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::recorded::Recorded;

/// A refused call is what a developer looks for in the log; a log line per
/// answered call (a tenth of the CPU under load, and contention on stdout)
/// waits for `--log-level debug`. The journal has them all.
pub(super) fn log(recorded: &Recorded, refusals: &RefusalLog) {
    let (method, path, status) = (&recorded.method, recorded.path(), recorded.status);
    if status < 400 && !tracing::enabled!(tracing::Level::DEBUG) {
        return;
    }
    let outcome = recorded.outcome();
    let outcome = outcome.as_deref().unwrap_or("");
    if status >= 400 {
        let repeats = refusals.see(method.as_str(), path, status, outcome, Instant::now());
        match repeats {
            Repeats::Repeated => {}
            Repeats::New {
                before: Some((n, last)),
            } => {
                tracing::info!("…and {} more like this: {last}", thousands(n));
                tracing::info!(method = %method, path, status, outcome, "request");
            }
            Repeats::New { before: None } => {
                tracing::info!(method = %method, path, status, outcome, "request");
            }
        }
    } else {
        tracing::debug!(method = %method, path, status, outcome, "request");
    }
}

/// `2341` as `2,341`.
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The refusals one server logged last, so that a flood of identical
/// ones (a load test using a voided token) is one line and a count, not a
/// line each. One per server, shared by its namespaces: two servers in one
/// process (tests, an embedder) each fold their own.
///
/// Refused namespaces (a bad name, `--max-namespaces` reached) fold apart
/// from refused calls, by their kind rather than their name: a flood of
/// made-up names is one line a second, not a line (and a name) each.
#[derive(Debug, Default)]
pub struct RefusalLog {
    calls: Mutex<Refusals>,
    namespaces: Mutex<Refusals>,
    hosts: Mutex<Refusals>,
}

impl RefusalLog {
    /// Notes a refusal seen at `now`: whether to log it, and what was
    /// folded before it.
    fn see(&self, method: &str, path: &str, status: u16, outcome: &str, now: Instant) -> Repeats {
        let key = format!("{method} {path} {status}: {outcome}");
        self.calls
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .see(key, now)
    }

    /// Logs that namespace `name` could not be had, for reason `why` of
    /// kind `kind` (`invalid name`, `too many`), folded with the same kind
    /// of refusal within the second.
    pub fn namespace_refused(&self, kind: &str, name: &str, why: &str) {
        let repeats = self
            .namespaces
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .see(format!("namespace refused: {kind}"), Instant::now());
        let before = match repeats {
            Repeats::Repeated => return,
            Repeats::New { before } => before,
        };
        if let Some((n, last)) = before {
            tracing::info!("…and {} more like this: {last}", thousands(n));
        }
        // The name (which `why` quotes) is the caller's: kept short.
        let name = shorten(name);
        let why = shorten(why);
        tracing::info!(namespace = name, "namespace refused: {why}");
    }

    /// Logs a control-plane change refused for the memory budget (`what`
    /// says what it would have kept), folded with identical ones within
    /// the second, as refused API calls are.
    pub fn data_refused(&self, what: &str) {
        let repeats = self.calls.lock().unwrap_or_else(|e| e.into_inner()).see(
            format!("control-plane change refused: {what}"),
            Instant::now(),
        );
        let before = match repeats {
            Repeats::Repeated => return,
            Repeats::New { before } => before,
        };
        if let Some((n, last)) = before {
            tracing::info!("…and {} more like this: {last}", thousands(n));
        }
        tracing::info!(
            status = 503,
            "control-plane change refused: the memory budget has no room for {what}"
        );
    }
}

impl RefusalLog {
    /// Whether a control-plane call for another host is to be logged, and
    /// how many were folded before it: by kind alone, as refused
    /// namespaces are, so a rebinding page looping on made-up names is one
    /// line a second.
    fn see_host(&self, now: Instant) -> Repeats {
        self.hosts
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .see("control-plane call for another host refused".into(), now)
    }

    /// Logs a control-plane call refused for its `Host` (`host`, already
    /// cut short), folded with the others within the second.
    pub fn host_refused(&self, method: &str, path: &str, host: &str) {
        let before = match self.see_host(Instant::now()) {
            Repeats::Repeated => return,
            Repeats::New { before } => before,
        };
        if let Some((n, last)) = before {
            tracing::info!("…and {} more like this: {last}", thousands(n));
        }
        tracing::info!(
            method,
            path = shorten(path),
            host,
            "control-plane call for another host refused"
        );
    }
}

/// `text`, cut to 200 characters with an ellipsis when longer.
fn shorten(text: &str) -> String {
    match text.char_indices().nth(200) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_owned(),
    }
}

/// How long identical refusals are folded into one line.
const FOLD: Duration = Duration::from_secs(1);

#[derive(Debug, Default)]
struct Refusals {
    /// The last refusal logged: method, path, status and outcome, as text.
    last: Option<String>,
    since: Option<Instant>,
    repeated: u64,
}

#[derive(Debug, PartialEq, Eq)]
enum Repeats {
    /// The same as the last one logged, within the second: not logged.
    Repeated,
    /// To be logged; `before` counts the ones folded before it.
    New { before: Option<(u64, String)> },
}

impl Refusals {
    /// Notes a refusal, `key` saying what makes two of them the same.
    fn see(&mut self, key: String, now: Instant) -> Repeats {
        let same = self.last.as_deref() == Some(key.as_str());
        if same && self.since.is_some_and(|t| now.duration_since(t) < FOLD) {
            self.repeated += 1;
            return Repeats::Repeated;
        }
        let before =
            (self.repeated > 0).then(|| (self.repeated, self.last.clone().unwrap_or_default()));
        self.last = Some(key);
        self.since = Some(now);
        self.repeated = 0;
        Repeats::New { before }
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use super::*;

    #[test]
    fn identical_refusals_within_a_second_fold_into_a_count() {
        let mut refusals = Refusals::default();
        let t0 = Instant::now();
        let see = |r: &mut Refusals, outcome: &str, at: Duration| {
            r.see(format!("GET /api/v1/users 401: {outcome}"), t0 + at)
        };
        assert_eq!(
            see(&mut refusals, "token expired", Duration::ZERO),
            Repeats::New { before: None }
        );
        for ms in 1..=2341 {
            assert_eq!(
                see(
                    &mut refusals,
                    "token expired",
                    Duration::from_micros(ms * 100)
                ),
                Repeats::Repeated
            );
        }
        assert_eq!(
            see(&mut refusals, "token expired", Duration::from_millis(1500)),
            Repeats::New {
                before: Some((2341, "GET /api/v1/users 401: token expired".into()))
            }
        );
        assert_eq!(
            see(&mut refusals, "other", Duration::from_millis(1600)),
            Repeats::New { before: None }
        );
        assert_eq!(thousands(2341), "2,341");
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(thousands(999), "999");
    }

    #[test]
    fn control_plane_calls_for_other_hosts_fold_into_a_count_whatever_the_host() {
        let log = RefusalLog::default();
        let t0 = Instant::now();
        assert_eq!(log.see_host(t0), Repeats::New { before: None });
        for ms in 1..=500 {
            assert_eq!(
                log.see_host(t0 + Duration::from_millis(ms)),
                Repeats::Repeated
            );
        }
        assert_eq!(
            log.see_host(t0 + Duration::from_millis(1500)),
            Repeats::New {
                before: Some((500, "control-plane call for another host refused".into()))
            }
        );
    }

    #[test]
    fn two_servers_in_one_process_fold_their_refusals_apart() {
        let (one, two) = (
            crate::state::AppState::for_tests(),
            crate::state::AppState::for_tests(),
        );
        let now = Instant::now();
        let see = |state: &crate::state::AppState| {
            state
                .ground
                .refusals
                .see("GET", "/api/v1/users", 401, "token expired", now)
        };
        assert_eq!(see(&one), Repeats::New { before: None });
        assert_eq!(see(&one), Repeats::Repeated);
        // The second server has not logged this refusal: it logs it.
        assert_eq!(see(&two), Repeats::New { before: None });
        assert_eq!(see(&two), Repeats::Repeated);
    }

    #[test]
    fn long_names_are_logged_cut_short() {
        assert_eq!(shorten("abc"), "abc");
        let long = "n".repeat(15_000);
        assert_eq!(shorten(&long), format!("{}…", "n".repeat(200)));
        assert_eq!(shorten(&"é".repeat(201)), format!("{}…", "é".repeat(200)));
    }
}
