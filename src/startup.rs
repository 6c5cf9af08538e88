//! Building and running the server: load the fixtures, bind, serve
//! ([`crate::serve`]) until a shutdown signal, let in-flight requests
//! finish.

use std::future::Future;
use std::net::SocketAddr;

use tokio::net::TcpListener;

use crate::clock::Clock;
use crate::config::{Config, Settings};
use crate::data::Seed;
use crate::state::AppState;
use crate::store::{FixtureFiles, Problems};

/// Why the server could not start.
#[derive(Debug)]
pub enum StartupError {
    /// The fixtures are invalid (exit status 2).
    Fixtures(Problems),
    /// The configuration is inconsistent (exit status 2).
    Config(String),
    /// The address could not be bound (exit status 1).
    Bind(SocketAddr, std::io::Error),
}

impl std::fmt::Display for StartupError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Fixtures(problems) => write!(f, "invalid fixtures:\n{problems}"),
            Self::Config(message) => f.write_str(message),
            Self::Bind(addr, e) => write!(f, "cannot listen on {addr}: {e}"),
        }
    }
}

impl std::error::Error for StartupError {}

/// The fixture files `config` asks for: a directory, or the built-in set.
pub fn fixture_files(config: &Config) -> Result<FixtureFiles, Problems> {
    match &config.fixtures {
        Some(dir) => crate::data::read_dir(dir),
        None => Ok(crate::data::builtin()),
    }
}

/// A loaded store and a bound listener, ready to serve: the server the
/// `doublure` binary runs, for a program that serves doublure itself.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let config = doublure::Config {
///     listen: "127.0.0.1:0".parse().unwrap(),
///     ..doublure::Config::default()
/// };
/// let app = doublure::Application::build(&config).await.unwrap();
/// let health = format!("http://{}/__doublure/health", app.local_addr());
/// let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
/// let server = tokio::spawn(app.run_until_stopped(async {
///     let _ = stopped.await;
/// }));
/// assert_eq!(reqwest::get(&health).await.unwrap().status(), 200);
/// stop.send(()).unwrap();
/// server.await.unwrap().unwrap();
/// # }
/// ```
#[derive(Debug)]
pub struct Application {
    listener: TcpListener,
    local_addr: SocketAddr,
    state: AppState,
}

impl Application {
    /// Loads the fixtures, then binds: a bad fixture set never opens a port.
    /// Clocks follow the system's time.
    pub async fn build(config: &Config) -> Result<Self, StartupError> {
        Self::build_with_clock(config, Clock::system()).await
    }

    /// [`Application::build`], every clock starting as `clock` does (the
    /// embedding handle may freeze it).
    pub(crate) async fn build_with_clock(
        config: &Config,
        clock: Clock,
    ) -> Result<Self, StartupError> {
        let files = fixture_files(config).map_err(StartupError::Fixtures)?;
        let seed = Seed::build(files, config.generate()).map_err(StartupError::Fixtures)?;
        let listener = TcpListener::bind(config.listen)
            .await
            .map_err(|e| StartupError::Bind(config.listen, e))?;
        let local_addr = listener
            .local_addr()
            .map_err(|e| StartupError::Bind(config.listen, e))?;
        let settings = Settings::new(config, local_addr).map_err(StartupError::Config)?;
        if settings.admin_token.is_none() && !local_addr.ip().is_loopback() {
            tracing::warn!(
                "listening on {local_addr} without --admin-token: anyone who can reach this \
                 address can change doublure's data and clock through /__doublure/"
            );
        }
        if crate::admin::host::Hosts::new(&settings).any() {
            tracing::warn!(
                "--allowed-host '*': the control plane answers calls for any Host, so a web \
                 page can reach it through DNS rebinding"
            );
        }
        let state = AppState::new(seed, clock, settings);
        Ok(Self {
            listener,
            local_addr,
            state,
        })
    }

    /// Serves `state` on an already bound listener (tests pick the state,
    /// e.g. a frozen clock, and bind port 0).
    #[doc(hidden)]
    pub fn from_parts(listener: TcpListener, state: AppState) -> std::io::Result<Self> {
        let local_addr = listener.local_addr()?;
        Ok(Self {
            listener,
            local_addr,
            state,
        })
    }

    /// The address actually bound (the real port when port 0 was asked).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The state the server runs with.
    pub(crate) fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until `shutdown` completes, then waits for in-flight requests.
    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        if self.state.settings().watch {
            match crate::namespace::reload::watch(
                self.state.server().root.clone(),
                std::time::Duration::from_secs(1),
            ) {
                // The receiver is dropped: results are logged by the watcher.
                Some(_) => tracing::info!("watching the fixture directory for changes"),
                None => tracing::warn!("--watch needs --fixtures DIR; nothing to watch"),
            }
        }
        let namespaces = std::sync::Arc::clone(self.state.namespaces());
        let sweeper = tokio::spawn(async move {
            let mut ticker = tokio::time::interval(namespaces.sweep_every());
            ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                ticker.tick().await;
                namespaces.sweep();
            }
        });
        tracing::info!("doublure listening on http://{}", self.local_addr);
        let settings = self.state.settings();
        tracing::info!(
            "memory budget {} (--memory-budget: journals, w.c.s. nonces and journal streams of \
             every namespace together), at most {} journal streams (--max-streams)",
            crate::budget::bytes_in_words(settings.memory_budget),
            settings.max_streams
        );
        let timeouts = crate::serve::Timeouts {
            header_read: settings.header_read_timeout,
            idle: settings.idle_timeout,
            body_read: settings.body_read_timeout,
            write: settings.write_timeout,
        };
        let state = self.state.clone();
        let served =
            crate::serve::serve(self.listener, self.state.router(), timeouts, async move {
                shutdown.await;
                // Live journal streams never finish on their own.
                state.close_streams();
            })
            .await;
        sweeper.abort();
        served
    }
}

/// Completes on Ctrl-C or SIGTERM.
///
/// The handlers are installed by this call, not on the future's first poll:
/// the caller makes it before `run_until_stopped` announces the address, so
/// a stop signal sent as soon as that line appears (a test harness, a
/// wrapper forwarding Ctrl-C) is a graceful stop, never the default action
/// that kills the process. Call it within the runtime.
pub fn shutdown_signal() -> impl Future<Output = ()> + Send + 'static {
    #[cfg(unix)]
    let (interrupt, terminate) = {
        use tokio::signal::unix::{SignalKind, signal};
        (
            signal(SignalKind::interrupt()).ok(),
            signal(SignalKind::terminate()).ok(),
        )
    };
    #[cfg(windows)]
    let ctrl_c = tokio::signal::windows::ctrl_c().ok();
    async move {
        #[cfg(unix)]
        {
            let (mut interrupt, mut terminate) = (interrupt, terminate);
            tokio::select! {
                () = recv_unix(interrupt.as_mut()) => {},
                () = recv_unix(terminate.as_mut()) => {},
            }
        }
        #[cfg(windows)]
        {
            let mut ctrl_c = ctrl_c;
            match ctrl_c.as_mut() {
                Some(signal) => {
                    signal.recv().await;
                }
                None => std::future::pending::<()>().await,
            }
        }
        #[cfg(not(any(unix, windows)))]
        std::future::pending::<()>().await;
        tracing::info!("shutting down: finishing in-flight requests");
    }
}

/// The next delivery of a signal whose handler could be installed; never,
/// for one that could not.
#[cfg(unix)]
async fn recv_unix(signal: Option<&mut tokio::signal::unix::Signal>) {
    match signal {
        Some(signal) => {
            signal.recv().await;
        }
        None => std::future::pending::<()>().await,
    }
}
