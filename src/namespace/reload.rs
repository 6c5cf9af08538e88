//! Fixture reload: on demand (`POST /__doublure/reload`) or when a file of
//! the fixture directory changes (`--watch`). An invalid change is reported
//! and the last good data keeps serving.
//!
//! Reading and checking files is blocking work, done on a blocking thread
//! ([`reload_off_workers`]) so that the server's async workers, health
//! included, keep answering; only regular files, each of at most
//! [`MAX_FILE_BYTES`](crate::store::MAX_FILE_BYTES), are read.
//!
//! The watcher polls modification times once a second rather than relying
//! on inotify: bind mounts into containers (Docker Desktop, some CI
//! runners) often deliver no file events, and a dozen `stat` calls a second
//! cost nothing.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use crate::data::Seed;
use crate::namespace::Namespace;
use crate::store::Problems;

/// Re-reads the fixtures the server was started with (the directory, or the
/// built-in set) and makes them the server's new seed and `ns`'s data:
/// namespaces made from now on start from it and every namespace resets
/// to it, while the others keep their data until then. Returns what was
/// read; on error nothing changes.
pub fn reload(ns: &Namespace) -> Result<String, Problems> {
    let (files, source) = match &ns.settings().fixtures {
        Some(dir) => (crate::data::read_dir(dir)?, dir.display().to_string()),
        None => (crate::data::builtin(), "<built-in>".to_owned()),
    };
    let generate = ns.ground.seed().generate;
    ns.reseed(Seed::build(files, generate)?);
    Ok(source)
}

/// A fingerprint of the directory: every JSON file's path, size and
/// modification time.
fn fingerprint(dir: &Path) -> Vec<(PathBuf, u64, Option<SystemTime>)> {
    let mut seen = Vec::new();
    for api in ["logora", "wcs"] {
        let Ok(entries) = std::fs::read_dir(dir.join(api)) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.extension().and_then(|e| e.to_str()) != Some("json") {
                continue;
            }
            let meta = entry.metadata().ok();
            seen.push((
                path,
                meta.as_ref().map_or(0, |m| m.len()),
                meta.and_then(|m| m.modified().ok()),
            ));
        }
    }
    seen.sort();
    seen
}

/// [`reload`] on a blocking thread.
pub async fn reload_off_workers(ns: Namespace) -> Result<String, Problems> {
    match tokio::task::spawn_blocking(move || reload(&ns)).await {
        Ok(result) => result,
        Err(e) => {
            tracing::error!("fixture reload failed: {e}");
            let mut problems = Problems::default();
            problems.push(crate::store::Problem::file(
                "<reload>",
                format!("the reload failed: {e}"),
            ));
            Err(problems)
        }
    }
}

/// What one reload attempt gave, for logs and tests.
pub type ReloadResult = Result<String, Problems>;

/// Watches the fixture directory every `every` and reloads on change. The
/// returned receiver sees each attempt's result.
pub fn watch(
    state: Namespace,
    every: Duration,
) -> Option<tokio::sync::watch::Receiver<Option<ReloadResult>>> {
    let dir = state.settings().fixtures.clone()?;
    let (tx, rx) = tokio::sync::watch::channel(None);
    // Taken now, not when the task first runs, so a change made right
    // after the watch starts is not mistaken for the starting point.
    let mut last = fingerprint(&dir);
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval(every);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticker.tick().await;
            let now = fingerprint(&dir);
            if now == last {
                continue;
            }
            last = now;
            let result = reload_off_workers(state.clone()).await;
            match &result {
                Ok(source) => tracing::info!("fixtures reloaded from {source}"),
                Err(problems) => tracing::error!(
                    "fixture change refused, the previous data keeps serving:\n{problems}"
                ),
            }
            // Nobody may be listening (the server drops the receiver):
            // watching goes on regardless.
            tx.send_replace(Some(result));
        }
    });
    Some(rx)
}
