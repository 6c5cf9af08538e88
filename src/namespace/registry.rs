//! The registry of live namespaces: each made on its first request (up to
//! `--max-namespaces`), listed, dropped, and swept once idle for
//! `--namespace-ttl`.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use chrono::{DateTime, Utc};

use super::{Ground, Info, Namespace, check_name};
use crate::clock::Clock;

/// The registry the server keeps, with the router that serves each
/// namespace.
pub type Namespaces = Arc<Registry<axum::Router>>;

/// Why a namespace could not be had.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// 400: not a namespace name.
    InvalidName(String),
    /// 429: as many namespaces live as `--max-namespaces` allows.
    Full(String),
}

/// A live namespace and the service that answers its requests.
#[derive(Debug, Clone)]
pub struct Entry<S> {
    pub namespace: Namespace,
    pub service: S,
}

/// The live namespaces, by name. `S` is what answers a namespace's
/// requests, made by `serve` when the namespace is made.
pub struct Registry<S> {
    entries: RwLock<HashMap<String, Entry<S>>>,
    ground: Arc<Ground>,
    /// When namespaces are used and go idle: the system's time, or a test's
    /// clock.
    clock: Clock,
    serve: Box<dyn Fn(&Namespace) -> S + Send + Sync>,
}

impl<S> std::fmt::Debug for Registry<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registry")
            .field(
                "live",
                &self.entries.read().unwrap_or_else(|e| e.into_inner()).len(),
            )
            .finish_non_exhaustive()
    }
}

impl<S: Clone> Registry<S> {
    pub fn new(
        ground: Arc<Ground>,
        clock: Clock,
        serve: impl Fn(&Namespace) -> S + Send + Sync + 'static,
    ) -> Self {
        Self {
            entries: RwLock::new(HashMap::new()),
            ground,
            clock,
            serve: Box::new(serve),
        }
    }

    /// The clock idle time is measured by (tests move it to expire
    /// namespaces without waiting).
    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    /// How many namespaces are live.
    pub fn len(&self) -> usize {
        self.read().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, HashMap<String, Entry<S>>> {
        self.entries.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, HashMap<String, Entry<S>>> {
        self.entries.write().unwrap_or_else(|e| e.into_inner())
    }

    /// Namespace `name`, made on first use, counted as used now.
    pub fn resolve(&self, name: &str) -> Result<Entry<S>, Refusal> {
        let now = self.clock.now();
        if let Some(entry) = self.read().get(name) {
            entry.namespace.touch(now);
            return Ok(entry.clone());
        }
        check_name(name).map_err(Refusal::InvalidName)?;
        let mut entries = self.write();
        if let Some(entry) = entries.get(name) {
            entry.namespace.touch(now);
            return Ok(entry.clone());
        }
        let max = self.ground.settings.max_namespaces;
        if entries.len() >= max {
            // Idle ones would go at the next sweep anyway: make room now
            // rather than refuse.
            self.sweep_locked(&mut entries, now);
        }
        if entries.len() >= max {
            return Err(Refusal::Full(format!(
                "too many namespaces: {} are live and --max-namespaces is {max}; \
                 DELETE /__doublure/namespaces/{{name}} the ones you are done with, or wait \
                 for idle ones to expire (--namespace-ttl {} s)",
                entries.len(),
                self.ground.settings.namespace_ttl.as_secs()
            )));
        }
        let namespace = Namespace::new(Some(name), Arc::clone(&self.ground), now);
        let service = (self.serve)(&namespace);
        let entry = Entry { namespace, service };
        entry.namespace.touch(now);
        entries.insert(name.to_owned(), entry.clone());
        tracing::info!(namespace = name, "namespace created");
        Ok(entry)
    }

    /// Namespace `name` if it is live; never makes one, nor counts it as
    /// used: the calls that come this way lack the admin token, and a
    /// refused one must not keep a namespace past its TTL.
    pub fn existing(&self, name: &str) -> Option<Entry<S>> {
        self.read().get(name).cloned()
    }

    /// The live namespaces, by name.
    pub fn list(&self) -> Vec<Info> {
        let mut infos: Vec<Info> = self.read().values().map(|e| e.namespace.info()).collect();
        infos.sort_by(|a, b| a.name.cmp(&b.name));
        infos
    }

    /// Every live namespace.
    pub fn live(&self) -> Vec<Namespace> {
        self.read().values().map(|e| e.namespace.clone()).collect()
    }

    /// Drops namespace `name`; false when there is none.
    pub fn remove(&self, name: &str) -> bool {
        let removed = self.write().remove(name);
        if let Some(entry) = &removed {
            tracing::info!(namespace = name, "namespace dropped on request");
            entry.namespace.journal.end(format!(
                "namespace {name:?} was dropped (DELETE /__doublure/namespaces/{name})"
            ));
        }
        removed.is_some()
    }

    /// Drops every namespace idle for longer than `--namespace-ttl`;
    /// returns their names.
    pub fn sweep(&self) -> Vec<String> {
        let now = self.clock.now();
        self.sweep_locked(&mut self.write(), now)
    }

    fn sweep_locked(
        &self,
        entries: &mut HashMap<String, Entry<S>>,
        now: DateTime<Utc>,
    ) -> Vec<String> {
        let ttl = chrono::TimeDelta::from_std(self.ground.settings.namespace_ttl)
            .unwrap_or(chrono::TimeDelta::MAX);
        let mut dropped = Vec::new();
        entries.retain(|name, entry| {
            let idle = now - entry.namespace.last_used();
            let keep = idle <= ttl;
            if !keep {
                tracing::info!(
                    namespace = name.as_str(),
                    idle_s = idle.num_seconds(),
                    "namespace dropped after --namespace-ttl without a request"
                );
                entry.namespace.journal.end(format!(
                    "namespace {name:?} was dropped after {} s without a request \
                     (--namespace-ttl {} s)",
                    idle.num_seconds(),
                    ttl.num_seconds()
                ));
                dropped.push(name.clone());
            }
            keep
        });
        dropped.sort();
        dropped
    }

    /// How often to sweep for a time-to-live of `ttl`: often enough that
    /// an idle namespace goes soon after its time, at most once a minute.
    pub fn sweep_every(&self) -> Duration {
        (self.ground.settings.namespace_ttl / 4)
            .clamp(Duration::from_secs(1), Duration::from_secs(60))
    }
}
