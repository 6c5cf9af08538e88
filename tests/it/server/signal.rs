//! `shutdown_signal()` installs its handlers when called, not when first
//! polled. The check sends SIGTERM and SIGINT to its own process before
//! polling: had the default action still been in place, the signal would
//! have killed that process. So it runs in a child process (this test
//! binary, started again on this one test), where a failure cannot take
//! the other tests down with it.

use std::process::Command;
use std::time::Duration;

use doublure::testing::startup::shutdown_signal;

/// Set in the child process, which then does the signalling.
const CHILD: &str = "DOUBLURE_SIGNAL_CHILD";
const TEST: &str = "server::signal::a_stop_signal_sent_before_the_first_poll_is_a_graceful_stop";

fn signal_self(signal: &str) {
    let sent = Command::new("kill")
        .args([signal, &std::process::id().to_string()])
        .status()
        .expect("kill runs");
    assert!(sent.success(), "kill {signal}");
}

#[tokio::test]
async fn a_stop_signal_sent_before_the_first_poll_is_a_graceful_stop() {
    if std::env::var_os(CHILD).is_none() {
        let output = Command::new(std::env::current_exe().expect("the test binary"))
            .args(["--exact", TEST, "--test-threads=1", "--nocapture"])
            .env(CHILD, "1")
            .output()
            .expect("the test binary runs");
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            output.status.success() && stdout.contains("1 passed"),
            "the child process failed ({:?}):\n{stdout}{}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
        return;
    }
    for signal in ["-TERM", "-INT"] {
        let stop = shutdown_signal();
        signal_self(signal);
        tokio::time::timeout(Duration::from_secs(20), stop)
            .await
            .unwrap_or_else(|_| panic!("shutdown_signal() did not complete on kill {signal}"));
    }
}
