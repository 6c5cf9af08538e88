//! Writing an import: nothing is left half-written. The staging directory
//! (`DIR/.doublure-import-<api>-<pid>/`) is made before any download, so a
//! `--out` that cannot be written fails at once; at the end the files are
//! rendered, checked by the fixture loader, written there, and renamed over
//! `DIR/<api>/`. A failure at any step removes the staging directory and
//! leaves the previous files untouched.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::ImportError;
use crate::data::Data;
use crate::store::FixtureFiles;

/// The staging directory of one import; removed when dropped.
#[derive(Debug)]
pub(crate) struct Staging {
    out: PathBuf,
    api: &'static str,
    dir: PathBuf,
}

fn io(what: &str, path: &Path, e: std::io::Error) -> ImportError {
    ImportError::Io(format!("cannot {what} {}: {e}", path.display()))
}

impl Staging {
    /// Prepares the import of `api` (`logora` or `wcs`) into `out`.
    pub fn new(out: &Path, api: &'static str) -> Result<Self, ImportError> {
        std::fs::create_dir_all(out).map_err(|e| io("create", out, e))?;
        let dir = out.join(format!(".doublure-import-{api}-{}", std::process::id()));
        if dir.exists() {
            std::fs::remove_dir_all(&dir).map_err(|e| io("remove", &dir, e))?;
        }
        std::fs::create_dir_all(dir.join(api)).map_err(|e| io("create", &dir, e))?;
        Ok(Self {
            out: out.to_owned(),
            api,
            dir,
        })
    }

    /// Checks `files` (fixture name to JSON array) with the fixture loader,
    /// writes them one item per line and puts them in place of
    /// `out/<api>/`.
    pub fn commit(self, files: &[(&'static str, Value)]) -> Result<(), ImportError> {
        let mut texts = BTreeMap::new();
        for (name, value) in files {
            let mut bytes = Vec::new();
            crate::generate::write_items(&mut bytes, value)
                .map_err(|e| ImportError::Io(format!("cannot render {name}: {e}")))?;
            let text = String::from_utf8(bytes)
                .map_err(|e| ImportError::Io(format!("cannot render {name}: {e}")))?;
            texts.insert((*name).to_owned(), text);
        }
        // The check reads exactly the bytes about to be written, under the
        // names they will have.
        let root = self.out.display().to_string();
        let root = root.trim_end_matches('/');
        Data::load(&FixtureFiles::from_map(root, texts.clone())).map_err(ImportError::Invalid)?;
        for (name, text) in &texts {
            let path = self.dir.join(name);
            std::fs::write(&path, text).map_err(|e| io("write", &path, e))?;
        }
        let target = self.out.join(self.api);
        let old = self.out.join(format!(
            ".doublure-import-{}-{}-old",
            self.api,
            std::process::id()
        ));
        let had_old = target.exists();
        if had_old {
            std::fs::rename(&target, &old).map_err(|e| io("move aside", &target, e))?;
        }
        if let Err(e) = std::fs::rename(self.dir.join(self.api), &target) {
            if had_old {
                // Put the previous files back: the import changed nothing.
                let _ = std::fs::rename(&old, &target);
            }
            return Err(io("rename into place", &target, e));
        }
        if had_old {
            std::fs::remove_dir_all(&old).map_err(|e| io("remove", &old, e))?;
        }
        Ok(())
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn application() -> Vec<(&'static str, Value)> {
        vec![(
            "logora/applications.json",
            json!([{"id": 1, "name": "A", "sub_applications": ["a"]}]),
        )]
    }

    fn names(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn a_commit_replaces_the_apis_directory_and_leaves_the_other_alone() {
        let out = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(out.path().join("logora")).unwrap();
        std::fs::write(out.path().join("logora/users.json"), "[]").unwrap();
        std::fs::create_dir_all(out.path().join("wcs")).unwrap();
        std::fs::write(out.path().join("wcs/users.json"), "[]").unwrap();

        Staging::new(out.path(), "logora")
            .unwrap()
            .commit(&application())
            .unwrap();

        assert_eq!(names(out.path()), ["logora", "wcs"]);
        assert_eq!(names(&out.path().join("logora")), ["applications.json"]);
        assert_eq!(
            std::fs::read_to_string(out.path().join("logora/applications.json")).unwrap(),
            "[\n  {\"id\":1,\"name\":\"A\",\"sub_applications\":[\"a\"]}\n]\n"
        );
        assert_eq!(names(&out.path().join("wcs")), ["users.json"]);
    }

    #[test]
    fn files_that_do_not_load_are_not_written_and_nothing_is_left_behind() {
        let out = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(out.path().join("logora")).unwrap();
        std::fs::write(out.path().join("logora/users.json"), "[]").unwrap();
        let bad = vec![(
            "logora/clients.json",
            json!([{"client_id": "K", "client_secret": "S", "application_id": 9, "scopes": "public"}]),
        )];

        let err = Staging::new(out.path(), "logora")
            .unwrap()
            .commit(&bad)
            .unwrap_err();

        let text = err.to_string();
        assert!(
            text.contains(
                "/logora/clients.json: item 1 (id K): field application_id: no application 9"
            ),
            "{text}"
        );
        assert_eq!(err.exit_code(), 2);
        assert_eq!(names(out.path()), ["logora"]);
        assert_eq!(names(&out.path().join("logora")), ["users.json"]);
    }

    #[test]
    fn an_abandoned_import_removes_its_staging_directory() {
        let out = tempfile::tempdir().unwrap();
        let staging = Staging::new(out.path(), "wcs").unwrap();
        assert_eq!(names(out.path()).len(), 1);
        drop(staging);
        assert!(names(out.path()).is_empty());
    }
}
