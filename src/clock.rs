//! The emulated clock that every time rule reads: Logora token expiry, w.c.s.
//! signature windows and nonce expiry.
//!
//! It follows the system clock by default, optionally shifted by an offset, or
//! stands still at a chosen instant. Tests and the control plane move it, so
//! expiry is exercised without waiting.

use std::sync::atomic::{AtomicI64, Ordering};

use chrono::{DateTime, TimeDelta, Utc};

/// How the clock tells time, packed in one word so that reading it (every
/// request does, more than once) takes no lock: microseconds shifted left
/// by one, the low bit set when the clock is frozen. For a running clock
/// the microseconds are the offset from system time, for a frozen one the
/// instant since the epoch; either way ±146,000 years.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Mode(i64);

impl Mode {
    fn running(offset: TimeDelta) -> Self {
        Self(micros(offset).saturating_mul(2))
    }

    fn frozen(at: DateTime<Utc>) -> Self {
        Self(at.timestamp_micros().saturating_mul(2) | 1)
    }

    fn is_frozen(self) -> bool {
        self.0 & 1 == 1
    }

    fn now(self) -> DateTime<Utc> {
        let value = self.0 >> 1;
        if self.is_frozen() {
            DateTime::from_timestamp_micros(value).unwrap_or_default()
        } else {
            Utc::now() + TimeDelta::microseconds(value)
        }
    }

    /// The same mode, `by` later (earlier when negative).
    fn advanced(self, by: TimeDelta) -> Self {
        Self(self.0.saturating_add(micros(by).saturating_mul(2)))
    }
}

fn micros(delta: TimeDelta) -> i64 {
    delta
        .num_microseconds()
        .unwrap_or(if delta < TimeDelta::zero() {
            i64::MIN / 2
        } else {
            i64::MAX / 2
        })
}

/// A clock that can follow system time, be shifted, or be frozen.
#[derive(Debug)]
pub struct Clock {
    mode: AtomicI64,
    initial: Mode,
}

impl Clock {
    /// A clock that follows system time.
    pub fn system() -> Self {
        Self::with_mode(Mode::running(TimeDelta::zero()))
    }

    /// A clock frozen at `at`; it moves only when told to.
    pub fn frozen(at: DateTime<Utc>) -> Self {
        Self::with_mode(Mode::frozen(at))
    }

    fn with_mode(mode: Mode) -> Self {
        Self {
            mode: AtomicI64::new(mode.0),
            initial: mode,
        }
    }

    fn mode(&self) -> Mode {
        Mode(self.mode.load(Ordering::Acquire))
    }

    /// The emulated current time.
    pub fn now(&self) -> DateTime<Utc> {
        self.mode().now()
    }

    /// Whether the clock stands still.
    pub fn is_frozen(&self) -> bool {
        self.mode().is_frozen()
    }

    /// Sets the current time; a running clock keeps running from there.
    pub fn set(&self, now: DateTime<Utc>, frozen: bool) {
        let mode = if frozen {
            Mode::frozen(now)
        } else {
            Mode::running(now - Utc::now())
        };
        self.mode.store(mode.0, Ordering::Release);
    }

    /// Moves the clock forward (or back, for a negative delta).
    pub fn advance(&self, by: TimeDelta) {
        // One atomic step: two advances at once both count.
        let _ = self
            .mode
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |m| {
                Some(Mode(m).advanced(by).0)
            });
    }

    /// A new clock in this one's initial mode: what a new namespace's
    /// clock starts as, whatever this one was moved to since.
    pub fn fresh(&self) -> Clock {
        Self::with_mode(self.initial)
    }

    /// Back to the mode the clock was created with.
    pub fn reset(&self) {
        self.mode.store(self.initial.0, Ordering::Release);
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
    fn a_frozen_clock_keeps_microseconds_and_moves_back_too() {
        let clock = Clock::frozen(at("2024-05-01T10:00:00.123456Z"));
        assert_eq!(clock.now(), at("2024-05-01T10:00:00.123456Z"));
        clock.advance(TimeDelta::seconds(-3600));
        assert_eq!(clock.now(), at("2024-05-01T09:00:00.123456Z"));
        clock.set(at("1969-12-31T23:59:59Z"), true);
        assert_eq!(clock.now(), at("1969-12-31T23:59:59Z"));
        assert!(clock.is_frozen());
    }

    #[test]
    fn a_fresh_clock_starts_where_the_first_one_started_not_where_it_was_moved() {
        let clock = Clock::frozen(at("2024-05-01T10:00:00Z"));
        clock.advance(TimeDelta::hours(2));
        let fresh = clock.fresh();
        assert_eq!(fresh.now(), at("2024-05-01T10:00:00Z"));
        fresh.advance(TimeDelta::seconds(1));
        assert_eq!(clock.now(), at("2024-05-01T12:00:00Z"));
    }

    #[test]
    fn reset_returns_to_the_initial_mode() {
        let clock = Clock::frozen(at("2024-05-01T10:00:00Z"));
        clock.set(at("2030-01-01T00:00:00Z"), false);
        clock.reset();
        assert_eq!(clock.now(), at("2024-05-01T10:00:00Z"));
    }
}
