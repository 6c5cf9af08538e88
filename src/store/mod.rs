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
///
/// Each change also moves a version number, so that what was worked out
/// from one value (a verified token, say) can tell that it is stale.
#[derive(Debug, Default)]
pub struct Cell<D> {
    current: RwLock<Versioned<D>>,
}

#[derive(Debug, Default)]
struct Versioned<D> {
    data: Arc<D>,
    /// Changes so far; moved under the write lock with `data`.
    version: u64,
}

impl<D> Cell<D> {
    pub fn new(data: Arc<D>) -> Self {
        Self {
            current: RwLock::new(Versioned { data, version: 0 }),
        }
    }

    /// Runs `f` on the current data.
    pub fn read<R>(&self, f: impl FnOnce(&D) -> R) -> R {
        f(&self.current.read().unwrap_or_else(|e| e.into_inner()).data)
    }

    /// Runs `f` on the current data and its version: the same version is
    /// the same data.
    pub fn read_versioned<R>(&self, f: impl FnOnce(&D, u64) -> R) -> R {
        let current = self.current.read().unwrap_or_else(|e| e.into_inner());
        f(&current.data, current.version)
    }

    /// The current data, kept alive as long as the caller holds it.
    pub fn get(&self) -> Arc<D> {
        Arc::clone(&self.current.read().unwrap_or_else(|e| e.into_inner()).data)
    }

    /// Replaces the data.
    pub fn replace(&self, data: Arc<D>) {
        let mut current = self.current.write().unwrap_or_else(|e| e.into_inner());
        current.data = data;
        current.version += 1;
    }

    /// Replaces the data with what `make` returns, `make` running with
    /// the data locked: no change made meanwhile is lost to the
    /// replacement, nor left out of what `make` does beside it. An error
    /// changes nothing.
    pub fn replace_with<R, E>(
        &self,
        make: impl FnOnce() -> Result<(Arc<D>, R), E>,
    ) -> Result<R, E> {
        let mut current = self.current.write().unwrap_or_else(|e| e.into_inner());
        let (next, value) = make()?;
        current.data = next;
        current.version += 1;
        Ok(value)
    }

    /// Applies `change` to the current data: its `Ok((next, value))`
    /// replaces the data and returns `value`; an error changes nothing.
    pub fn update<R, E>(&self, change: impl FnOnce(&D) -> Result<(D, R), E>) -> Result<R, E> {
        let mut current = self.current.write().unwrap_or_else(|e| e.into_inner());
        let (next, value) = change(&current.data)?;
        current.data = Arc::new(next);
        current.version += 1;
        Ok(value)
    }
}

impl<D: Clone> Cell<D> {
    /// Changes the data in place: a copy of the current value (cheap for
    /// shared structure) when someone else still holds it.
    pub fn write<R>(&self, change: impl FnOnce(&mut D) -> R) -> R {
        let mut current = self.current.write().unwrap_or_else(|e| e.into_inner());
        current.version += 1;
        change(Arc::make_mut(&mut current.data))
    }
}
