//! doublure inside a Rust test, as wiremock-rs and httpmock serve theirs: a
//! server started on `127.0.0.1:0` in the test's own runtime, arranged and
//! questioned through a handle, and stopped when the handle is dropped.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let doublure = doublure::Doublure::start().await;
//! let token = doublure.token("API_KEY", "public").unwrap();
//! let page = reqwest::Client::new()
//!     .get(format!("{}/api/v1/users?per_page=2", doublure.url()))
//!     .bearer_auth(&token)
//!     .send()
//!     .await
//!     .unwrap();
//! assert_eq!(page.headers()["total"], "48");
//! # }
//! ```
//!
//! The handle's methods act on the server directly, not over HTTP: they
//! are the control plane's (`/__doublure/…`) without the round trip, and
//! reach the same state, so a test may mix both.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, TimeDelta, Utc};

use crate::clock::Clock;
use crate::config::Config;
use crate::namespace::Namespace;
use crate::startup::{Application, StartupError};
use crate::state::AppState;
use crate::wcs::SignRequest;
use crate::{FaultRule, JournalEntry, JournalFilter, SignAs};

/// A running doublure and a handle on one of its namespaces (the root, or
/// one from [`Doublure::namespace`]). The server stops when the last
/// handle on it is dropped.
#[derive(Debug, Clone)]
pub struct Doublure {
    server: Arc<Running>,
    namespace: Namespace,
    url: String,
}

/// The server task, stopped when dropped.
#[derive(Debug)]
struct Running {
    state: AppState,
    addr: SocketAddr,
    /// `http` or `https`.
    scheme: &'static str,
    /// The CA to trust, with TLS.
    ca_pem: Option<String>,
    stop: Mutex<Option<tokio::sync::oneshot::Sender<()>>>,
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.lock().unwrap_or_else(|e| e.into_inner()).take() {
            // The server finishes its calls in flight, then ends.
            let _ = stop.send(());
        }
    }
}

/// Why a handle's call was refused, in words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error(pub String);

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Error {}

impl Doublure {
    /// Serves the built-in fixtures on `127.0.0.1:0`, with a clock that
    /// follows the system's until a test moves it.
    ///
    /// # Panics
    ///
    /// When no port can be bound: a test cannot go on without its server.
    /// [`Doublure::builder`]'s `start` returns the error instead.
    pub async fn start() -> Doublure {
        match Self::builder().start().await {
            Ok(doublure) => doublure,
            Err(e) => panic!("doublure could not start: {e}"),
        }
    }

    /// Fixtures, generated data and settings, then [`Builder::start`].
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let doublure = doublure::Doublure::builder()
    ///     .generate_logora_users(1000)
    ///     .frozen_at("2026-01-15T10:00:00Z".parse().unwrap())
    ///     .start()
    ///     .await
    ///     .unwrap();
    /// let users: serde_json::Value = reqwest::get(format!(
    ///     "{}/api/v1/users?api_key=API_KEY&per_page=1",
    ///     doublure.url()
    /// ))
    /// .await
    /// .unwrap()
    /// .json()
    /// .await
    /// .unwrap();
    /// assert_eq!(users["data"][0]["id"], 1);
    /// # }
    /// ```
    pub fn builder() -> Builder {
        Builder::default()
    }

    /// The base URL of this handle's namespace: `http://127.0.0.1:PORT`, or
    /// `http://127.0.0.1:PORT/__ns/{name}`. Give it to the client under
    /// test as the API's base URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.server.addr
    }

    /// With [`Builder::tls`], the certificate (PEM) of the CA that signed
    /// the server's: what the client under test must trust, e.g.
    /// `reqwest::Certificate::from_pem(pem.as_bytes())` given to
    /// `ClientBuilder::add_root_certificate`. `None` without TLS.
    pub fn ca_pem(&self) -> Option<&str> {
        self.server.ca_pem.as_deref()
    }

    /// A handle on namespace `name` of the same server (made if it is not
    /// live): its own data, clock, tokens, nonces, journal and faults, at
    /// `url()/__ns/{name}`. Tests running in parallel each take one.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let doublure = doublure::Doublure::start().await;
    /// let mine = doublure.namespace("test_login").unwrap();
    /// mine.advance(chrono::TimeDelta::hours(3));
    /// assert!(mine.url().ends_with("/__ns/test_login"));
    /// assert_ne!(mine.now(), doublure.now());
    /// # }
    /// ```
    pub fn namespace(&self, name: &str) -> Result<Doublure, Error> {
        let entry = self
            .server
            .state
            .namespaces()
            .resolve(name)
            .map_err(|refusal| {
                Error(match refusal {
                    crate::namespace::Refusal::InvalidName(why)
                    | crate::namespace::Refusal::Full(why) => why,
                })
            })?;
        Ok(Doublure {
            server: Arc::clone(&self.server),
            url: format!(
                "{}://{}{}",
                self.server.scheme,
                self.server.addr,
                entry.namespace.prefix()
            ),
            namespace: entry.namespace,
        })
    }

    /// Back to the loaded data: tokens, revocations, nonces, journal,
    /// faults and clock too (`POST /__doublure/reset`).
    pub fn reset(&self) {
        self.namespace.reset();
    }

    /// The emulated time.
    pub fn now(&self) -> DateTime<Utc> {
        self.namespace.clock.now()
    }

    /// Sets the emulated time, standing still or running from there
    /// (`PUT /__doublure/clock`).
    pub fn set_clock(&self, now: DateTime<Utc>, frozen: bool) {
        self.namespace.clock.set(now, frozen);
    }

    /// Moves the emulated time (`POST /__doublure/clock/advance`): token
    /// expiry, signature windows and nonces follow.
    pub fn advance(&self, by: TimeDelta) {
        self.namespace.clock.advance(by);
    }

    /// A Logora access token for `client_id` with `scope`, as
    /// `/oauth/token` would issue it.
    pub fn token(&self, client_id: &str, scope: &str) -> Result<String, Error> {
        let body = self
            .namespace
            .logora
            .mint(client_id, Some(scope))
            .map_err(|e| {
                Error(format!(
                    "no token for {client_id:?} with scope {scope:?}: {e:?}"
                ))
            })?;
        body["access_token"]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| Error("no access_token in the token answer".to_owned()))
    }

    /// `url` (or a path, made absolute on [`Doublure::url`]) signed for
    /// w.c.s. by the API access `orig`, acting as `user`, at the emulated
    /// time, with a single-use nonce.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// use doublure::SignAs;
    /// let doublure = doublure::Doublure::start().await;
    /// let url = doublure
    ///     .sign("/api/user/", "demo", SignAs::Email("fred@example.net"))
    ///     .unwrap();
    /// let profile: serde_json::Value = reqwest::get(url).await.unwrap().json().await.unwrap();
    /// assert_eq!(profile["user_display_name"], "Fred Cuadrado");
    /// # }
    /// ```
    pub fn sign(&self, url: &str, orig: &str, user: SignAs<'_>) -> Result<String, Error> {
        self.namespace
            .wcs
            .sign(&SignRequest::new(url, orig, user))
            .map_err(|e| Error(e.to_string()))
    }

    /// Adds a fault rule (`POST /__doublure/faults`); returns its id.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// use doublure::FaultRule;
    /// let doublure = doublure::Doublure::start().await;
    /// doublure
    ///     .fault(FaultRule {
    ///         path: Some("/api/v1/users".into()),
    ///         status: Some(503),
    ///         count: Some(1),
    ///         ..FaultRule::default()
    ///     })
    ///     .unwrap();
    /// let url = format!("{}/api/v1/users?api_key=API_KEY", doublure.url());
    /// assert_eq!(reqwest::get(&url).await.unwrap().status(), 503);
    /// assert_eq!(reqwest::get(&url).await.unwrap().status(), 200);
    /// # }
    /// ```
    pub fn fault(&self, rule: FaultRule) -> Result<u64, Error> {
        self.namespace
            .faults
            .add(rule)
            .map(|rule| rule.id)
            .map_err(Error)
    }

    /// The journal's entries matching `filter`, oldest first
    /// (`GET /__doublure/requests`).
    pub fn requests(&self, filter: &JournalFilter) -> Vec<JournalEntry> {
        self.namespace.journal.list(filter)
    }
}

/// How to start a [`Doublure`]: what it serves and how.
#[derive(Debug, Clone)]
pub struct Builder {
    /// What the binary would serve with the same flags, on `127.0.0.1:0`.
    config: Config,
    frozen_at: Option<DateTime<Utc>>,
}

impl Default for Builder {
    fn default() -> Self {
        Self {
            config: Config {
                listen: SocketAddr::from(([127, 0, 0, 1], 0)),
                // The handle has always generated w.c.s. users without
                // forms (the binary makes two each): the same calls keep
                // serving the same data.
                generate_forms_per_user: 0,
                ..Config::default()
            },
            frozen_at: None,
        }
    }
}

impl Builder {
    /// Serve this fixture directory instead of the built-in fixtures.
    pub fn fixtures(mut self, dir: impl Into<PathBuf>) -> Self {
        self.config.fixtures = Some(dir.into());
        self
    }

    /// Generate this many Logora users on top of the fixtures.
    pub fn generate_logora_users(mut self, count: usize) -> Self {
        self.config.generate_logora_users = count;
        self
    }

    /// Generate this many w.c.s. users on top of the fixtures.
    pub fn generate_wcs_users(mut self, count: usize) -> Self {
        self.config.generate_wcs_users = count;
        self
    }

    /// The seed of generated data.
    pub fn seed(mut self, seed: u64) -> Self {
        self.config.seed = seed;
        self
    }

    /// Start with every clock standing still at `at`.
    pub fn frozen_at(mut self, at: DateTime<Utc>) -> Self {
        self.frozen_at = Some(at);
        self
    }

    /// Require this bearer token on the control plane.
    pub fn admin_token(mut self, token: impl Into<String>) -> Self {
        self.config.admin_token = Some(token.into());
        self
    }

    /// Lifetime of Logora tokens, in seconds.
    pub fn logora_token_lifetime(mut self, seconds: u32) -> Self {
        self.config.logora_token_lifetime = seconds;
        self
    }

    /// Serves HTTPS (HTTP/2 and HTTP/1.1) instead of HTTP, with a
    /// certificate for `localhost`, `127.0.0.1`, `::1` and every
    /// [`Builder::tls_name`], signed by a CA made for this server:
    /// [`Doublure::url`] starts with `https://`, and
    /// [`Doublure::ca_pem`] is the CA to trust.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let doublure = doublure::Doublure::builder().tls().start().await.unwrap();
    /// let ca = reqwest::Certificate::from_pem(doublure.ca_pem().unwrap().as_bytes()).unwrap();
    /// let client = reqwest::Client::builder()
    ///     .add_root_certificate(ca)
    ///     .build()
    ///     .unwrap();
    /// let health = client
    ///     .get(format!("{}/__doublure/health", doublure.url()))
    ///     .send()
    ///     .await
    ///     .unwrap();
    /// assert_eq!(health.version(), reqwest::Version::HTTP_2);
    /// assert!(doublure.url().starts_with("https://127.0.0.1:"));
    /// # }
    /// ```
    pub fn tls(mut self) -> Self {
        self.config.tls = true;
        self
    }

    /// Another host name the certificate covers (with [`Builder::tls`]),
    /// for a client that only knows a real service's address
    /// (`app.logora.fr`) and resolves it to [`Doublure::addr`].
    pub fn tls_name(mut self, name: impl Into<String>) -> Self {
        self.config.tls = true;
        self.config.tls_names.push(name.into());
        self
    }

    /// Loads the data, binds `127.0.0.1:0` and serves in the current tokio
    /// runtime until the last handle is dropped: the same start as the
    /// binary's, [`Application::build`].
    pub async fn start(self) -> Result<Doublure, StartupError> {
        let clock = match self.frozen_at {
            Some(at) => Clock::frozen(at),
            None => Clock::system(),
        };
        let app = Application::build_with_clock(&self.config, clock).await?;
        let addr = app.local_addr();
        let ca_pem = app.ca_pem().map(str::to_owned);
        let scheme = if self.config.tls { "https" } else { "http" };
        let state = app.state().clone();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(app.run_until_stopped(async {
            let _ = stopped.await;
        }));
        Ok(Doublure {
            namespace: (*state).clone(),
            url: format!("{scheme}://{addr}"),
            server: Arc::new(Running {
                state,
                addr,
                scheme,
                ca_pem,
                stop: Mutex::new(Some(stop)),
            }),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_server_stops_when_the_last_handle_is_dropped() {
        let doublure = Doublure::start().await;
        let addr = doublure.addr();
        let namespace = doublure.namespace("kept").unwrap();
        drop(doublure);
        // The namespace's handle keeps the server up.
        let up = reqwest::get(format!("http://{addr}/__doublure/health")).await;
        assert!(up.is_ok_and(|r| r.status() == 200));
        drop(namespace);
        let mut refused = false;
        for _ in 0..200 {
            tokio::task::yield_now().await;
            if tokio::net::TcpStream::connect(addr).await.is_err() {
                refused = true;
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
        assert!(refused, "the server still accepts connections");
    }

    #[tokio::test]
    async fn a_namespace_handle_has_its_own_clock_faults_and_journal() {
        let doublure = Doublure::builder()
            .frozen_at("2026-01-15T10:00:00Z".parse().unwrap())
            .start()
            .await
            .unwrap();
        let mine = doublure.namespace("mine").unwrap();
        mine.advance(TimeDelta::seconds(7201));
        assert_eq!(doublure.now().to_rfc3339(), "2026-01-15T10:00:00+00:00");
        assert_eq!(mine.now().to_rfc3339(), "2026-01-15T12:00:01+00:00");
        let id = mine
            .fault(FaultRule {
                status: Some(503),
                ..FaultRule::default()
            })
            .unwrap();
        assert_eq!(id, 1);
        let client = reqwest::Client::new();
        let in_mine = client
            .get(format!("{}/api/v1/users?api_key=API_KEY", mine.url()))
            .send()
            .await
            .unwrap();
        assert_eq!(in_mine.status(), 503);
        let at_root = client
            .get(format!("{}/api/v1/users?api_key=API_KEY", doublure.url()))
            .send()
            .await
            .unwrap();
        assert_eq!(at_root.status(), 200);
        let mine_calls = mine.requests(&JournalFilter::default());
        assert_eq!(mine_calls.len(), 1);
        assert_eq!(mine_calls[0].status, 503);
        assert_eq!(doublure.requests(&JournalFilter::default()).len(), 1);
        assert!(doublure.namespace("no/slash").is_err());
        mine.reset();
        assert_eq!(mine.now().to_rfc3339(), "2026-01-15T10:00:00+00:00");
    }

    #[tokio::test]
    async fn a_token_and_a_signed_url_work_against_the_server() {
        let doublure = Doublure::start().await;
        let token = doublure.token("API_KEY", "public").unwrap();
        let client = reqwest::Client::new();
        let page = client
            .get(format!("{}/api/v1/users", doublure.url()))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(page.status(), 200);
        assert_eq!(
            doublure.token("NOBODY", "public").unwrap_err().0,
            "no token for \"NOBODY\" with scope \"public\": OAuth { status: 401, code: \"invalid_client\", description: \"Client authentication failed due to unknown client, no client authentication included, or unsupported authentication method.\" }"
        );
        let url = doublure
            .sign("/api/user/forms", "demo", SignAs::Email("fred@example.net"))
            .unwrap();
        assert!(url.starts_with(&format!("{}/api/user/forms?email=", doublure.url())));
        assert_eq!(client.get(&url).send().await.unwrap().status(), 200);
        assert_eq!(
            doublure
                .sign("/api/user/", "nobody", SignAs::Nobody)
                .unwrap_err()
                .0,
            "no API access \"nobody\" in wcs/api_accesses.json; give its key"
        );
    }
}
