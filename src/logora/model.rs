//! Logora fixture data: applications, API clients and users.

use serde_json::Value;

use crate::store::{FixtureFiles, Problems};

/// Collections the control plane can change: fixture file and id key.
pub const COLLECTIONS: &[(&str, &str)] = &[];

/// Fixture files compiled into the binary.
pub const BUILTIN_FILES: &[(&str, &str)] = &[];

/// All Logora data.
#[derive(Debug, Clone, Default)]
pub struct LogoraData {}

impl LogoraData {
    /// Loads and checks the Logora collections of `files`.
    pub fn load(_files: &FixtureFiles, _problems: &mut Problems) -> Self {
        Self {}
    }

    /// Adds generated users (fixture format).
    pub fn add_generated(&mut self, _users: Vec<Value>) -> Result<(), Problems> {
        Ok(())
    }

    /// The data in the fixture format.
    pub fn export(&self) -> Vec<(&'static str, Value)> {
        Vec::new()
    }
}
