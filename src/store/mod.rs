//! The shared ground every emulated API stands on: fixture files and their
//! checks ([`fixtures`]), and the [`Cell`] that holds one API's data.
//!
//! The store knows no API's model: each API owns its data type and its
//! fixture files, and keeps its data in a `Cell`.

pub mod fixtures;

use std::sync::{Arc, RwLock};

pub use fixtures::{FixtureFiles, Item, ItemRef, Problem, Problems};

/// One API's data as requests read it and the control plane replaces it.
///
/// The data sits behind an `Arc` under a `RwLock` taken only for short
/// synchronous closures, never across an `.await`. A change builds the
/// next value from the current one under the write lock and swaps it in
/// whole: a concurrent request sees it entirely or not at all, and
/// concurrent changes never overwrite each other. Values are meant to be
/// cheap to clone (shared structure), so namespaces start from the same
/// `Arc` and copy only what they change.
#[derive(Debug, Default)]
pub struct Cell<D> {
    current: RwLock<Arc<D>>,
}

impl<D> Cell<D> {
    pub fn new(data: Arc<D>) -> Self {
        Self {
            current: RwLock::new(data),
        }
    }

    /// Runs `f` on the current data.
    pub fn read<R>(&self, f: impl FnOnce(&D) -> R) -> R {
        f(&self.current.read().unwrap_or_else(|e| e.into_inner()))
    }

    /// The current data, kept alive as long as the caller holds it.
    pub fn get(&self) -> Arc<D> {
        Arc::clone(&self.current.read().unwrap_or_else(|e| e.into_inner()))
    }

    /// Replaces the data.
    pub fn replace(&self, data: Arc<D>) {
        *self.current.write().unwrap_or_else(|e| e.into_inner()) = data;
    }

    /// Applies `change` to the current data: its `Ok((next, value))`
    /// replaces the data and returns `value`; an error changes nothing.
    pub fn update<R, E>(&self, change: impl FnOnce(&D) -> Result<(D, R), E>) -> Result<R, E> {
        let mut current = self.current.write().unwrap_or_else(|e| e.into_inner());
        let (next, value) = change(&current)?;
        *current = Arc::new(next);
        Ok(value)
    }
}

impl<D: Clone> Cell<D> {
    /// Changes the data in place: a copy of the current value (cheap for
    /// shared structure) when someone else still holds it.
    pub fn write<R>(&self, change: impl FnOnce(&mut D) -> R) -> R {
        let mut current = self.current.write().unwrap_or_else(|e| e.into_inner());
        change(Arc::make_mut(&mut current))
    }
}
