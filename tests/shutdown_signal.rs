//! `shutdown_signal()` installs its handlers when called, not when first
//! polled. This test sends SIGTERM and SIGINT to its own process before
//! polling: had the default action still been in place, the signal would
//! have killed this test binary. It is alone in its file for that reason.

#![cfg(unix)]

use std::process::Command;
use std::time::Duration;

use doublure::testing::startup::shutdown_signal;

fn signal_self(signal: &str) {
    let sent = Command::new("kill")
        .args([signal, &std::process::id().to_string()])
        .status()
        .expect("kill runs");
    assert!(sent.success(), "kill {signal}");
}

#[tokio::test]
async fn a_stop_signal_sent_before_the_first_poll_is_a_graceful_stop() {
    for signal in ["-TERM", "-INT"] {
        let stop = shutdown_signal();
        signal_self(signal);
        tokio::time::timeout(Duration::from_secs(20), stop)
            .await
            .unwrap_or_else(|_| panic!("shutdown_signal() did not complete on kill {signal}"));
    }
}
