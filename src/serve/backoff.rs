//! The accept loop's answer to a failed `accept`: out of file descriptors,
//! it pauses a little longer each time and logs once, then once more when
//! accepts work again.

use std::io;
use std::time::Duration;

use tokio::time::Instant;

/// Why `accept` failed, for what to do next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AcceptFailure {
    /// One connection's trouble (reset before it was accepted): try the
    /// next at once.
    OneConnection,
    /// The process or the system is out of file descriptors.
    OutOfDescriptors,
    /// Anything else (out of memory or buffers, …).
    Other,
}

impl AcceptFailure {
    pub fn of(error: &io::Error) -> Self {
        use io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset, Interrupted};
        if matches!(
            error.kind(),
            ConnectionAborted | ConnectionRefused | ConnectionReset | Interrupted
        ) {
            return Self::OneConnection;
        }
        match error.raw_os_error() {
            #[cfg(unix)]
            Some(libc::EMFILE | libc::ENFILE) => Self::OutOfDescriptors,
            _ => Self::Other,
        }
    }
}

/// What to do after an `accept` failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pause {
    /// How long to wait before accepting again.
    pub wait: Duration,
    /// Whether this failure starts a run of them (say so once).
    pub first: bool,
}

/// A run of failed accepts that has ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Recovery {
    /// How many accepts failed.
    pub failures: u64,
    /// From the first failure to the last.
    pub over: Duration,
}

/// The pause between failed accepts, growing while they keep failing: a
/// connection waiting in the listen queue would otherwise make every retry
/// fail at once, spinning a core and writing a log line each time.
///
/// A run of failures is said once, when it starts, and once when it ends:
/// at the first accept that works a second ([`AcceptBackoff::QUIET`]) or
/// more after the last failure. While descriptors free up one by one, an
/// accept works, the next fails, and so on: that is still the same run.
#[derive(Debug, Default)]
pub struct AcceptBackoff {
    run: Option<Run>,
}

#[derive(Debug, Clone, Copy)]
struct Run {
    since: Instant,
    last_failure: Instant,
    failures: u64,
    /// The last pause.
    wait: Duration,
    /// Whether the last accept failed.
    failing: bool,
}

impl AcceptBackoff {
    /// The first pause.
    pub const FIRST_PAUSE: Duration = Duration::from_millis(5);
    /// The longest pause: how late, at most, the loop notices that
    /// descriptors are free again.
    pub const MAX_PAUSE: Duration = Duration::from_secs(1);
    /// How long accepts must go without failing for a run to be over.
    pub const QUIET: Duration = Duration::from_secs(1);

    /// After a failed accept: the pause, or `None` to retry at once.
    pub fn failed(&mut self, failure: AcceptFailure, now: Instant) -> Option<Pause> {
        if failure == AcceptFailure::OneConnection {
            return None;
        }
        let Some(run) = self.run.as_mut() else {
            self.run = Some(Run {
                since: now,
                last_failure: now,
                failures: 1,
                wait: Self::FIRST_PAUSE,
                failing: true,
            });
            return Some(Pause {
                wait: Self::FIRST_PAUSE,
                first: true,
            });
        };
        run.failures += 1;
        run.last_failure = now;
        run.wait = if run.failing {
            (run.wait * 2).min(Self::MAX_PAUSE)
        } else {
            Self::FIRST_PAUSE
        };
        run.failing = true;
        Some(Pause {
            wait: run.wait,
            first: false,
        })
    }

    /// After an accept that worked: the run of failures it ends, if any.
    pub fn accepted(&mut self, now: Instant) -> Option<Recovery> {
        let run = self.run.as_mut()?;
        if now.saturating_duration_since(run.last_failure) < Self::QUIET {
            run.failing = false;
            return None;
        }
        let run = self.run.take()?;
        Some(Recovery {
            failures: run.failures,
            over: run.last_failure.saturating_duration_since(run.since),
        })
    }
}

#[cfg(test)]
mod tests {
    use std::io;
    use std::time::Duration;

    use tokio::time::Instant;

    use super::*;

    fn emfile() -> io::Error {
        io::Error::from_raw_os_error(libc::EMFILE)
    }

    #[test]
    fn running_out_of_descriptors_pauses_longer_each_time_and_warns_once() {
        let start = Instant::now();
        let mut backoff = AcceptBackoff::default();
        let failure = AcceptFailure::of(&emfile());
        assert_eq!(failure, AcceptFailure::OutOfDescriptors);
        let pauses: Vec<Pause> = (0..12)
            .map(|i| {
                backoff
                    .failed(failure, start + Duration::from_millis(i))
                    .unwrap()
            })
            .collect();
        let waits: Vec<u64> = pauses.iter().map(|p| p.wait.as_millis() as u64).collect();
        assert_eq!(
            waits,
            [5, 10, 20, 40, 80, 160, 320, 640, 1000, 1000, 1000, 1000]
        );
        let warnings = pauses.iter().filter(|p| p.first).count();
        assert_eq!(warnings, 1);
        assert!(pauses[0].first);
    }

    #[test]
    fn a_run_ends_at_the_first_accept_a_second_after_the_last_failure() {
        let start = Instant::now();
        let at = |ms| start + Duration::from_millis(ms);
        let mut backoff = AcceptBackoff::default();
        assert_eq!(backoff.accepted(start), None);
        for ms in [0, 5, 15] {
            backoff.failed(AcceptFailure::OutOfDescriptors, at(ms));
        }
        // Descriptors free up one by one: accepts and failures alternate,
        // the pause starts small again, and it is all one run.
        assert_eq!(backoff.accepted(at(400)), None);
        assert_eq!(
            backoff.failed(AcceptFailure::OutOfDescriptors, at(401)),
            Some(Pause {
                wait: AcceptBackoff::FIRST_PAUSE,
                first: false
            })
        );
        assert_eq!(backoff.accepted(at(1400)), None);
        assert_eq!(
            backoff.accepted(at(1401)),
            Some(Recovery {
                failures: 4,
                over: Duration::from_millis(401)
            })
        );
        assert_eq!(backoff.accepted(at(1500)), None);
        let again = backoff.failed(AcceptFailure::Other, at(2000)).unwrap();
        assert_eq!(
            again,
            Pause {
                wait: AcceptBackoff::FIRST_PAUSE,
                first: true
            }
        );
    }

    #[test]
    fn one_connections_failure_is_retried_at_once_without_a_word() {
        let mut backoff = AcceptBackoff::default();
        let reset = io::Error::from(io::ErrorKind::ConnectionAborted);
        assert_eq!(AcceptFailure::of(&reset), AcceptFailure::OneConnection);
        assert_eq!(
            backoff.failed(AcceptFailure::OneConnection, Instant::now()),
            None
        );
        assert_eq!(backoff.accepted(Instant::now()), None);
        assert_eq!(
            AcceptFailure::of(&io::Error::from_raw_os_error(libc::ENFILE)),
            AcceptFailure::OutOfDescriptors
        );
        assert_eq!(
            AcceptFailure::of(&io::Error::from_raw_os_error(libc::ENOMEM)),
            AcceptFailure::Other
        );
    }
}
