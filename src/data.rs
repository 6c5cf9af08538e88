//! All emulated data, one part per API, and the seed it comes from: the
//! fixture files (the built-in set or a directory) and what was generated
//! on top of them. Every namespace starts from the seed and resets to it;
//! the seed's data is shared, never copied.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use serde_json::Value;

use crate::config::Generate;
use crate::logora::model::LogoraData;
use crate::store::{FixtureFiles, Problems};
use crate::wcs::model::WcsData;

/// The fixture files compiled into the binary, from the repository's
/// `fixtures/` directory. Each API lists its own.
pub fn builtin_files() -> impl Iterator<Item = &'static (&'static str, &'static str)> {
    crate::logora::model::BUILTIN_FILES
        .iter()
        .chain(crate::wcs::model::BUILTIN_FILES)
}

/// Every collection file name a fixture directory may hold.
pub fn known_files() -> Vec<&'static str> {
    builtin_files().map(|(name, _)| *name).collect()
}

/// The built-in fixture files.
pub fn builtin() -> FixtureFiles {
    FixtureFiles::compiled_in(builtin_files())
}

/// The fixture files of a directory (`logora/*.json`, `wcs/*.json`).
pub fn read_dir(dir: &Path) -> Result<FixtureFiles, Problems> {
    FixtureFiles::read_dir(dir, &known_files())
}

/// Fixture files given in memory (state import), refusing unknown names.
pub fn checked_map(root: &str, files: BTreeMap<String, String>) -> Result<FixtureFiles, Problems> {
    FixtureFiles::checked_map(root, files, &known_files())
}

/// All emulated data.
#[derive(Debug, Clone, Default)]
pub struct Data {
    pub logora: LogoraData,
    pub wcs: WcsData,
}

impl Data {
    /// Loads and cross-checks a fixture set; every problem is reported.
    pub fn load(files: &FixtureFiles) -> Result<Data, Problems> {
        let mut problems = Problems::default();
        let logora = LogoraData::load(files, &mut problems);
        let wcs = WcsData::load(files, &mut problems);
        problems.into_result(Data { logora, wcs })
    }

    /// The data in the fixture format: file name (`logora/users.json`) to
    /// JSON array. Loading the result gives back the same data.
    pub fn export(&self) -> Vec<(&'static str, Value)> {
        let mut files = self.logora.export();
        files.extend(self.wcs.export());
        files
    }
}

/// What namespaces start from and reset to.
#[derive(Debug, Clone)]
pub struct Seed {
    /// The fixture files read.
    pub files: FixtureFiles,
    /// What was generated on top of them.
    pub generate: Generate,
    pub logora: Arc<LogoraData>,
    pub wcs: Arc<WcsData>,
}

impl Seed {
    /// Loads `files` and generates on top of them; fails with every
    /// problem found.
    pub fn build(files: FixtureFiles, generate: Generate) -> Result<Self, Problems> {
        let mut data = Data::load(&files)?;
        crate::generate::add_to(&mut data.logora, &mut data.wcs, &generate, &|_| {})?;
        Ok(Self::of(files, generate, data))
    }

    /// A seed of data already built.
    pub fn of(files: FixtureFiles, generate: Generate, data: Data) -> Self {
        Self {
            files,
            generate,
            logora: Arc::new(data.logora),
            wcs: Arc::new(data.wcs),
        }
    }

    /// The built-in fixtures, nothing generated.
    pub fn builtin() -> Result<Self, Problems> {
        Self::build(builtin(), Generate::default())
    }
}

/// Writes a fixture directory into `out`: the built-in fixtures plus the
/// generated items (`doublure fixtures generate`).
pub fn write_generated(
    generate: &Generate,
    out: &Path,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<(), String> {
    let builtin = Data::load(&builtin()).map_err(|p| format!("built-in fixtures: {p}"))?;
    crate::generate::write_dir(builtin.export(), generate, out, progress)
}
