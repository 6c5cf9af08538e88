//! The copy verify compares with: a fixture directory (imported from the
//! instance on the fly by `fixtures import`, or copied from `--fixtures`)
//! in a temporary directory removed afterwards, served by in-process
//! doublures on port 0, one per Doorkeeper profile.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::config::{Config, Doorkeeper};
use crate::startup::Application;

/// A temporary directory, removed when dropped.
#[derive(Debug)]
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new() -> Result<Self, String> {
        let path = std::env::temp_dir().join(format!(
            "doublure-verify-{}-{:016x}",
            std::process::id(),
            rand::random::<u64>()
        ));
        std::fs::create_dir_all(&path)
            .map_err(|e| format!("cannot create {}: {e}", path.display()))?;
        Ok(Self(path))
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Copies the JSON files of `from`'s `logora/` and `wcs/` into `to`.
pub fn copy_fixtures(from: &Path, to: &Path) -> Result<(), String> {
    // Read and checked as doublure would serve them, so a broken
    // directory is a usage error before any call goes out.
    crate::data::read_dir(from)
        .and_then(|files| crate::data::Data::load(&files))
        .map_err(|p| p.to_string())?;
    for api in ["logora", "wcs"] {
        let Ok(entries) = std::fs::read_dir(from.join(api)) else {
            continue;
        };
        std::fs::create_dir_all(to.join(api)).map_err(|e| e.to_string())?;
        for entry in entries.flatten() {
            let path = entry.path();
            if path.extension().and_then(|e| e.to_str()) == Some("json") {
                std::fs::copy(&path, to.join(api).join(entry.file_name()))
                    .map_err(|e| format!("cannot copy {}: {e}", path.display()))?;
            }
        }
    }
    Ok(())
}

/// Drops the applications' own `doorkeeper` field, so that each copy
/// follows the profile it is started with.
pub fn follow_profile_flag(dir: &Path) -> Result<(), String> {
    let path = dir.join("logora/applications.json");
    let Ok(text) = std::fs::read_to_string(&path) else {
        return Ok(());
    };
    let mut apps: Value = serde_json::from_str(&text).map_err(|e| e.to_string())?;
    if let Some(list) = apps.as_array_mut() {
        for app in list.iter_mut().filter_map(Value::as_object_mut) {
            app.remove("doorkeeper");
        }
    }
    std::fs::write(&path, apps.to_string()).map_err(|e| e.to_string())
}

/// An in-process doublure, stopped when dropped.
pub struct Served {
    pub base: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Drop for Served {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// Serves `dir` on 127.0.0.1:0 with the Doorkeeper `profile`.
pub async fn serve(dir: &Path, profile: Doorkeeper) -> Result<Served, String> {
    let config = Config {
        listen: std::net::SocketAddr::from(([127, 0, 0, 1], 0)),
        fixtures: Some(dir.to_owned()),
        doorkeeper: profile,
        ..Config::default()
    };
    let app = Application::build(&config)
        .await
        .map_err(|e| e.to_string())?;
    let base = format!("http://{}", app.local_addr());
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(app.run_until_stopped(async {
        let _ = rx.await;
    }));
    Ok(Served {
        base,
        stop: Some(tx),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_copy_drops_the_applications_own_profile() {
        let dir = TempDir::new().unwrap();
        std::fs::create_dir_all(dir.path().join("logora")).unwrap();
        std::fs::write(
            dir.path().join("logora/applications.json"),
            r#"[{"id":1,"name":"A","sub_applications":[],"doorkeeper":"5.9.6"}]"#,
        )
        .unwrap();
        follow_profile_flag(dir.path()).unwrap();
        assert_eq!(
            std::fs::read_to_string(dir.path().join("logora/applications.json")).unwrap(),
            r#"[{"id":1,"name":"A","sub_applications":[]}]"#
        );
        let path = dir.path().to_owned();
        drop(dir);
        assert!(!path.exists());
    }
}
