//! Pacing: at most `rate` calls a second to the real instance, on tokio's
//! clock, so a test can pause and advance time instead of waiting.

use std::time::Duration;

use tokio::time::Instant;

/// Spaces calls `1 / rate` seconds apart.
#[derive(Debug)]
pub struct Pacer {
    interval: Duration,
    next: Option<Instant>,
}

impl Pacer {
    /// A pacer for `rate` calls a second (`rate` > 0, checked by the
    /// caller).
    pub fn new(rate: f64) -> Self {
        Self {
            interval: Duration::from_secs_f64(1.0 / rate),
            next: None,
        }
    }

    /// Waits until the next call may go out.
    pub async fn wait(&mut self) {
        let now = Instant::now();
        let at = self.next.map_or(now, |next| next.max(now));
        tokio::time::sleep_until(at).await;
        self.next = Some(at + self.interval);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn five_a_second_spaces_calls_two_hundred_milliseconds_apart() {
        let mut pacer = Pacer::new(5.0);
        let start = Instant::now();
        for _ in 0..6 {
            pacer.wait().await;
        }
        assert_eq!(start.elapsed(), Duration::from_millis(1000));
    }

    #[tokio::test(start_paused = true)]
    async fn time_spent_elsewhere_counts_toward_the_pause() {
        let mut pacer = Pacer::new(2.0);
        pacer.wait().await;
        tokio::time::sleep(Duration::from_millis(800)).await;
        let before = Instant::now();
        pacer.wait().await;
        assert_eq!(before.elapsed(), Duration::ZERO);
    }
}
