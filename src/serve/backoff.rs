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
    pub(super) since: Instant,
    last_failure: Instant,
    pub(super) failures: u64,
    /// The last pause.
    pub(super) wait: Duration,
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
