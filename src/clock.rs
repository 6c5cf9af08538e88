//! The emulated clock that every time rule reads: Logora token expiry, w.c.s.
//! signature windows and nonce expiry.
//!
//! It follows the system clock by default, optionally shifted by an offset, or
//! stands still at a chosen instant. Tests and the control plane move it, so
//! expiry is exercised without waiting.

use std::sync::RwLock;

use chrono::{DateTime, TimeDelta, Utc};

/// How the clock tells time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// System time plus an offset (zero unless someone moved the clock).
    Running { offset: TimeDelta },
    /// Time stands still at this instant until moved.
    Frozen { at: DateTime<Utc> },
}

/// A clock that can follow system time, be shifted, or be frozen.
#[derive(Debug)]
pub struct Clock {
    mode: RwLock<Mode>,
    initial: Mode,
}

impl Clock {
    /// A clock that follows system time.
    pub fn system() -> Self {
        Self::with_mode(Mode::Running {
            offset: TimeDelta::zero(),
        })
    }

    /// A clock frozen at `at`; it moves only when told to.
    pub fn frozen(at: DateTime<Utc>) -> Self {
        Self::with_mode(Mode::Frozen { at })
    }

    fn with_mode(mode: Mode) -> Self {
        Self {
            mode: RwLock::new(mode),
            initial: mode,
        }
    }

    /// The emulated current time.
    pub fn now(&self) -> DateTime<Utc> {
        match *self.read() {
            Mode::Running { offset } => Utc::now() + offset,
            Mode::Frozen { at } => at,
        }
    }

    /// Whether the clock stands still.
    pub fn is_frozen(&self) -> bool {
        matches!(*self.read(), Mode::Frozen { .. })
    }

    /// Sets the current time; a running clock keeps running from there.
    pub fn set(&self, now: DateTime<Utc>, frozen: bool) {
        let mode = if frozen {
            Mode::Frozen { at: now }
        } else {
            Mode::Running {
                offset: now - Utc::now(),
            }
        };
        *self.write() = mode;
    }

    /// Moves the clock forward (or back, for a negative delta).
    pub fn advance(&self, by: TimeDelta) {
        let mut mode = self.write();
        *mode = match *mode {
            Mode::Running { offset } => Mode::Running {
                offset: offset + by,
            },
            Mode::Frozen { at } => Mode::Frozen { at: at + by },
        };
    }

    /// Back to the mode the clock was created with.
    pub fn reset(&self) {
        *self.write() = self.initial;
    }

    // A poisoned lock only means a writer panicked mid-assignment of a Copy
    // value, which cannot leave it torn: keep serving.
    fn read(&self) -> std::sync::RwLockReadGuard<'_, Mode> {
        self.mode.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Mode> {
        self.mode.write().unwrap_or_else(|e| e.into_inner())
    }
}

impl Default for Clock {
    fn default() -> Self {
        Self::system()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn a_frozen_clock_stands_still_until_advanced() {
        let clock = Clock::frozen(at("2024-05-01T10:00:00Z"));
        assert_eq!(clock.now(), at("2024-05-01T10:00:00Z"));
        clock.advance(TimeDelta::seconds(7201));
        assert_eq!(clock.now(), at("2024-05-01T12:00:01Z"));
        assert!(clock.is_frozen());
    }

    #[test]
    fn a_running_clock_set_in_the_past_keeps_running_from_there() {
        let clock = Clock::system();
        clock.set(at("2001-01-01T00:00:00Z"), false);
        let now = clock.now();
        assert!(now >= at("2001-01-01T00:00:00Z") && now < at("2001-01-01T00:01:00Z"));
        assert!(!clock.is_frozen());
    }

    #[test]
    fn reset_returns_to_the_initial_mode() {
        let clock = Clock::frozen(at("2024-05-01T10:00:00Z"));
        clock.set(at("2030-01-01T00:00:00Z"), false);
        clock.reset();
        assert_eq!(clock.now(), at("2024-05-01T10:00:00Z"));
    }
}
