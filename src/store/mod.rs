//! The in-memory store shared by every handler, seeded from fixtures.
//!
//! Data sits behind one `RwLock`, taken only inside short synchronous
//! closures and never across an `.await`: a change is applied whole under
//! the write lock, so a concurrent request sees it entirely or not at all.
//! Each API module owns its own data type; this module only holds them
//! together, loads them and puts them back to the seed on reset.

pub mod fixtures;

use std::sync::RwLock;

use serde_json::Value;

pub use fixtures::{FixtureFiles, Item, ItemRef, Problem, Problems};

/// All emulated data, one part per API.
#[derive(Debug, Clone, Default)]
pub struct Data {
    pub logora: crate::logora::model::LogoraData,
    pub wcs: crate::wcs::model::WcsData,
}

impl Data {
    /// Loads and cross-checks a fixture set; every problem is reported.
    pub fn load(files: &FixtureFiles) -> Result<Data, Problems> {
        let mut problems = Problems::default();
        let logora = crate::logora::model::LogoraData::load(files, &mut problems);
        let wcs = crate::wcs::model::WcsData::load(files, &mut problems);
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

/// What the store is reset to: the fixture files it was started with and
/// the data generated on top of them.
#[derive(Debug, Clone)]
pub struct Seed {
    pub files: FixtureFiles,
    pub generate: crate::config::Generate,
}

impl Seed {
    /// The fixture files alone.
    pub fn files(files: FixtureFiles) -> Self {
        Self {
            files,
            generate: crate::config::Generate::default(),
        }
    }

    /// Builds fresh data from the seed.
    pub fn build(&self) -> Result<Data, Problems> {
        let mut data = Data::load(&self.files)?;
        crate::generate::add_to(&mut data, &self.generate, &|_| {})?;
        Ok(data)
    }
}

/// The store: current data plus the seed it came from.
#[derive(Debug)]
pub struct Store {
    data: RwLock<Data>,
    seed: RwLock<Seed>,
}

impl Store {
    /// Loads the seed; fails with every fixture problem found.
    pub fn load(seed: Seed) -> Result<Self, Problems> {
        let data = seed.build()?;
        Ok(Self {
            data: RwLock::new(data),
            seed: RwLock::new(seed),
        })
    }

    /// The built-in fixtures.
    pub fn builtin() -> Result<Self, Problems> {
        Self::load(Seed::files(FixtureFiles::builtin()))
    }

    /// Runs `f` with read access to the data.
    pub fn read<R>(&self, f: impl FnOnce(&Data) -> R) -> R {
        f(&self.data.read().unwrap_or_else(|e| e.into_inner()))
    }

    /// Runs `f` with write access to the data; other requests wait for it
    /// to finish, so they never see a change half made.
    pub fn write<R>(&self, f: impl FnOnce(&mut Data) -> R) -> R {
        f(&mut self.data.write().unwrap_or_else(|e| e.into_inner()))
    }

    /// Replaces all data at once.
    pub fn replace(&self, data: Data) {
        self.write(|d| *d = data);
    }

    /// Puts the data back to the seed.
    pub fn reset(&self) -> Result<(), Problems> {
        let data = self.seed().build()?;
        self.replace(data);
        Ok(())
    }

    /// Replaces the seed and the data together (hot reload), keeping both
    /// unchanged when the new seed is invalid.
    pub fn reseed(&self, seed: Seed) -> Result<(), Problems> {
        let data = seed.build()?;
        *self.seed.write().unwrap_or_else(|e| e.into_inner()) = seed;
        self.replace(data);
        Ok(())
    }

    /// The current seed.
    pub fn seed(&self) -> Seed {
        self.seed.read().unwrap_or_else(|e| e.into_inner()).clone()
    }
}
