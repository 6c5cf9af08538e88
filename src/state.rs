//! The running server's state: the ground every namespace shares
//! (settings, seed), the root namespace, and the registry of the others.
//! [`AppState`] dereferences to the root namespace, so a test reads
//! `state.clock` or `state.journal` as the root's.

use std::sync::Arc;

use axum::Router;

use crate::clock::Clock;
use crate::config::Settings;
use crate::data::Seed;
use crate::namespace::{Ground, Namespace, Namespaces, Registry};

#[derive(Debug, Clone)]
pub struct AppState(Arc<Server>);

/// What [`AppState`] shares.
#[derive(Debug)]
pub struct Server {
    pub ground: Arc<Ground>,
    /// The namespace of paths without a `/__ns/{name}/` prefix.
    pub root: Namespace,
    /// The others, by name.
    pub namespaces: Namespaces,
    dispatcher: crate::routing::Dispatcher,
    router: Router,
}

impl std::ops::Deref for AppState {
    type Target = Namespace;

    fn deref(&self) -> &Namespace {
        &self.0.root
    }
}

impl AppState {
    /// A server on `seed`, its clocks starting as `clock` does, namespaces
    /// aged by the system's time.
    pub fn new(seed: Seed, clock: Clock, settings: Settings) -> Self {
        Self::with_namespace_clock(seed, clock, settings, Clock::system())
    }

    /// [`AppState::new`], namespaces aged by `namespace_clock` (tests
    /// freeze it and move it to expire namespaces).
    pub fn with_namespace_clock(
        seed: Seed,
        clock: Clock,
        settings: Settings,
        namespace_clock: Clock,
    ) -> Self {
        let ground = Arc::new(Ground::new(seed, clock, settings));
        let root = Namespace::root(Arc::clone(&ground), namespace_clock.now());
        let namespaces: Namespaces = Arc::new(Registry::new(
            Arc::clone(&ground),
            namespace_clock,
            crate::routing::namespace_router,
        ));
        let dispatcher = crate::routing::app(
            root.clone(),
            crate::routing::namespace_router(&root),
            Arc::clone(&namespaces),
            Arc::clone(&ground.settings),
        );
        let router = dispatcher.clone().into_router();
        Self(Arc::new(Server {
            ground,
            root,
            namespaces,
            dispatcher,
            router,
        }))
    }

    /// The whole application's router.
    pub fn router(&self) -> Router {
        self.0.router.clone()
    }

    /// The whole application as the service the server calls: the
    /// router's answers, without a router in front.
    pub fn dispatcher(&self) -> crate::routing::Dispatcher {
        self.0.dispatcher.clone()
    }

    /// The server's parts.
    pub fn server(&self) -> &Server {
        &self.0
    }

    /// The registry of namespaces.
    pub fn namespaces(&self) -> &Namespaces {
        &self.0.namespaces
    }

    /// Ends every live journal stream, the root's and every namespace's
    /// (at shutdown: a graceful stop waits for every answer, and a stream
    /// never ends on its own).
    pub fn close_streams(&self) {
        self.0.root.journal.close_followers();
        for ns in self.0.namespaces.live() {
            ns.journal.close_followers();
        }
    }

    /// Namespace `name`, made if it is not live.
    pub fn namespace(&self, name: &str) -> Option<Namespace> {
        self.0.namespaces.resolve(name).ok().map(|e| e.namespace)
    }
}
