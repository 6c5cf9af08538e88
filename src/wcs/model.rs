//! w.c.s. fixture data: users, roles, categories, form definitions, forms,
//! drafts and API accesses.

use serde_json::Value;

use crate::store::{FixtureFiles, Problems};

/// Collections the control plane can change: fixture file and id key.
pub const COLLECTIONS: &[(&str, &str)] = &[];

/// Fixture files compiled into the binary.
pub const BUILTIN_FILES: &[(&str, &str)] = &[];

/// All w.c.s. data.
#[derive(Debug, Clone, Default)]
pub struct WcsData {}

impl WcsData {
    /// Loads and checks the w.c.s. collections of `files`.
    pub fn load(_files: &FixtureFiles, _problems: &mut Problems) -> Self {
        Self {}
    }

    /// The data in the fixture format.
    pub fn export(&self) -> Vec<(&'static str, Value)> {
        Vec::new()
    }
}
