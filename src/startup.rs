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
use crate::tls::Tls;

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
    /// HTTPS, when served: on `listener`, or on a listener of its own.
    tls: Option<Serving>,
}

/// HTTPS as the application serves it.
#[derive(Debug)]
struct Serving {
    tls: Tls,
    /// `--tls-listen`'s listener and address; none when `--listen` serves
    /// HTTPS itself.
    own: Option<(TcpListener, SocketAddr)>,
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
        let mut settings = Settings::new(config, local_addr).map_err(StartupError::Config)?;
        let tls = match config
            .tls_source(local_addr)
            .map_err(StartupError::Config)?
        {
            None => None,
            Some(source) => {
                let tls = Tls::new(&source).map_err(StartupError::Config)?;
                let own = match config.tls_listen {
                    None => None,
                    Some(addr) => {
                        let listener = TcpListener::bind(addr)
                            .await
                            .map_err(|e| StartupError::Bind(addr, e))?;
                        let bound = listener
                            .local_addr()
                            .map_err(|e| StartupError::Bind(addr, e))?;
                        Some((listener, bound))
                    }
                };
                settings.tls_ca_pem.clone_from(&tls.ca_pem);
                Some(Serving { tls, own })
            }
        };
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
            tls,
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
            tls: None,
        })
    }

    /// The address actually bound (the real port when port 0 was asked).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Where HTTPS is served: `--tls-listen`'s address, or the listen
    /// address when it serves HTTPS itself; none without TLS.
    pub fn tls_addr(&self) -> Option<SocketAddr> {
        let serving = self.tls.as_ref()?;
        Some(
            serving
                .own
                .as_ref()
                .map_or(self.local_addr, |(_, addr)| *addr),
        )
    }

    /// The PEM of the CA that signed the served certificate, when doublure
    /// made it (`--tls` without `--tls-cert`): what clients must trust.
    pub fn ca_pem(&self) -> Option<&str> {
        self.tls.as_ref()?.tls.ca_pem.as_deref()
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
        let settings = self.state.settings();
        // After the line saying where doublure listens, which stays the
        // first: scripts and the image's checks read the address from it.
        let budget = || {
            tracing::info!(
                "memory budget {} (--memory-budget: journals, w.c.s. nonces and journal streams \
                 of every namespace together), at most {} journal streams (--max-streams)",
                crate::budget::bytes_in_words(settings.memory_budget),
                settings.max_streams
            )
        };
        let timeouts = crate::serve::Timeouts {
            header_read: settings.header_read_timeout,
            idle: settings.idle_timeout,
            body_read: settings.body_read_timeout,
            write: settings.write_timeout,
        };
        let state = self.state.clone();
        let stopping = async move {
            shutdown.await;
            // Live journal streams never finish on their own.
            state.close_streams();
        };
        let router = self.state.dispatcher();
        let served = match self.tls {
            None => {
                tracing::info!("doublure listening on http://{}", self.local_addr);
                budget();
                crate::serve::serve(self.listener, router, timeouts, None, stopping).await
            }
            Some(Serving { tls, own: None }) => {
                tracing::info!("doublure listening on https://{}", self.local_addr);
                budget();
                let _ca_file = announce(&tls, self.local_addr.port());
                let acceptor = crate::serve::TlsAcceptor::new(tls.server);
                crate::serve::serve(self.listener, router, timeouts, Some(acceptor), stopping).await
            }
            Some(Serving {
                tls,
                own: Some((secure, secure_addr)),
            }) => {
                tracing::info!(
                    "doublure listening on http://{} and https://{secure_addr}",
                    self.local_addr
                );
                budget();
                let _ca_file = announce(&tls, secure_addr.port());
                let acceptor = crate::serve::TlsAcceptor::new(tls.server);
                // One shutdown, heard by both accept loops.
                let (stop, stopped) = tokio::sync::watch::channel(false);
                let heard = |mut stopped: tokio::sync::watch::Receiver<bool>| async move {
                    let _ = stopped.wait_for(|&s| s).await;
                };
                let stopper = async move {
                    stopping.await;
                    let _ = stop.send(true);
                };
                let (_, plain, secure) = tokio::join!(
                    stopper,
                    crate::serve::serve(
                        self.listener,
                        router.clone(),
                        timeouts,
                        None,
                        heard(stopped.clone())
                    ),
                    crate::serve::serve(secure, router, timeouts, Some(acceptor), heard(stopped)),
                );
                plain.and(secure)
            }
        };
        sweeper.abort();
        served
    }
}

/// Says in the log where the CA is, for clients to trust it. A CA made
/// for this run only is written to a file of the temporary directory, for
/// `--cacert`, `REQUESTS_CA_BUNDLE` or `NODE_EXTRA_CA_CERTS`; the file goes
/// when the server stops (the returned guard). Where no file can be written
/// (an image with no /tmp), the log gives the CA's route alone.
fn announce(tls: &Tls, port: u16) -> Option<CaFile> {
    match (&tls.ca_file, &tls.ca_pem) {
        (Some(file), _) => {
            tracing::info!(
                "TLS certificate for {} from doublure's CA: {} (also GET /__doublure/tls/ca.pem)",
                tls.names.join(", "),
                file.display()
            );
            None
        }
        (None, Some(pem)) => {
            let path =
                std::env::temp_dir().join(format!("doublure-ca-{}-{port}.pem", std::process::id()));
            match std::fs::write(&path, pem.as_bytes()) {
                Ok(()) => {
                    tracing::info!(
                        "TLS certificate for {} from a CA made for this run: {} (also GET \
                         /__doublure/tls/ca.pem; --tls-ca-dir keeps the CA across restarts)",
                        tls.names.join(", "),
                        path.display()
                    );
                    Some(CaFile(path))
                }
                Err(_) => {
                    tracing::info!(
                        "TLS certificate for {} from a CA made for this run: GET \
                         /__doublure/tls/ca.pem (--tls-ca-dir keeps it in a file across restarts)",
                        tls.names.join(", ")
                    );
                    None
                }
            }
        }
        (None, None) => {
            tracing::info!("TLS certificate from --tls-cert");
            None
        }
    }
}

/// The file of a CA made for one run, removed when the server stops.
struct CaFile(std::path::PathBuf);

impl Drop for CaFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
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
