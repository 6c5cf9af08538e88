//! Serving configuration: flags and environment variables, and the
//! runtime settings derived from them.
//!
//! Every serving option is a flag with an environment variable of the same
//! meaning (`--listen` / `DOUBLURE_LISTEN`), so the same settings work on a
//! laptop, in `docker run -e …` and in a CI `services:` block. The
//! subcommands are `crate::cli`'s.

use std::net::SocketAddr;
use std::path::PathBuf;

/// Default bound of the journal in entries.
pub const JOURNAL_SIZE: usize = 1000;

/// Default bound of the journal in bytes.
pub const JOURNAL_BYTES: usize = 16 << 20;

/// How much data to generate, and from which seed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[cfg_attr(feature = "cli", derive(clap::Args))]
#[cfg_attr(feature = "cli", group(id = "generate_options"))]
pub struct Generate {
    /// Logora users to generate, in the first application.
    #[cfg_attr(feature = "cli", arg(long, value_name = "N", default_value_t = 0))]
    pub logora_users: usize,
    /// w.c.s. users to generate.
    #[cfg_attr(feature = "cli", arg(long, value_name = "N", default_value_t = 0))]
    pub wcs_users: usize,
    /// Forms (and drafts) per generated w.c.s. user.
    #[cfg_attr(feature = "cli", arg(long, value_name = "K", default_value_t = 2))]
    pub forms_per_user: usize,
    /// Seed of the generator: the same seed gives the same data.
    #[cfg_attr(feature = "cli", arg(long, value_name = "S", default_value_t = 0))]
    pub seed: u64,
}

impl Generate {
    /// Whether anything is to be generated.
    pub fn is_empty(&self) -> bool {
        self.logora_users == 0 && self.wcs_users == 0
    }
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Text,
    /// One JSON object per line.
    Json,
}

/// The Doorkeeper version whose OAuth answers Logora gives
/// (docs/fidelity.md says what each changes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
pub enum Doorkeeper {
    /// A token without the scope a route needs gets 403 `invalid_scope`
    /// and no `WWW-Authenticate`; HTTP Basic wins over body credentials.
    #[default]
    #[cfg_attr(feature = "cli", value(name = "5.9.0"))]
    V5_9_0,
    /// 403 `insufficient_scope` with its `WWW-Authenticate` (from 5.9.1);
    /// Basic and body credentials together are refused (from 5.9.5).
    #[cfg_attr(feature = "cli", value(name = "5.9.6"))]
    V5_9_6,
}

impl Doorkeeper {
    /// Every profile, oldest first.
    pub const ALL: [Doorkeeper; 2] = [Doorkeeper::V5_9_0, Doorkeeper::V5_9_6];

    /// The version as written: `5.9.0`, `5.9.6`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::V5_9_0 => "5.9.0",
            Self::V5_9_6 => "5.9.6",
        }
    }

    /// The profile written `text`, if any.
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|d| d.as_str() == text)
    }
}

impl std::fmt::Display for Doorkeeper {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Serving options: the command line's flags (with the `cli` feature,
/// `--help` documents each), and what [`Application::build`] starts from.
///
/// [`Application::build`]: crate::Application::build
#[derive(Debug, Clone)]
#[cfg_attr(feature = "cli", derive(clap::Args))]
pub struct Config {
    /// Address to listen on; port 0 picks a free port (the log line says
    /// which).
    #[cfg_attr(
        feature = "cli",
        arg(long, env = "DOUBLURE_LISTEN", default_value = "127.0.0.1:8080")
    )]
    pub listen: SocketAddr,

    /// Fixture directory to serve instead of the built-in fixtures.
    #[cfg_attr(
        feature = "cli",
        arg(long, env = "DOUBLURE_FIXTURES", value_name = "DIR")
    )]
    pub fixtures: Option<PathBuf>,

    /// Base of every absolute URL the APIs return (links, form URLs,
    /// redirects) [default: http:// and the listen address]
    #[cfg_attr(
        feature = "cli",
        arg(long, env = "DOUBLURE_PUBLIC_URL", value_name = "URL")
    )]
    pub public_url: Option<String>,

    /// Bearer token required on every /__doublure/ route but health and
    /// the console's page (which asks for it).
    #[cfg_attr(
        feature = "cli",
        arg(long, env = "DOUBLURE_ADMIN_TOKEN", value_name = "TOKEN")
    )]
    pub admin_token: Option<String>,

    /// Origins allowed to call the emulated APIs from a browser:
    /// `*` for any, or a comma-separated list of origins.
    #[cfg_attr(
        feature = "cli",
        arg(
            long,
            env = "DOUBLURE_CORS_ORIGIN",
            default_value = "*",
            value_name = "ORIGINS"
        )
    )]
    pub cors_origin: String,

    /// Log line format.
    #[cfg_attr(feature = "cli", arg(long, env = "DOUBLURE_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text))]
    pub log_format: LogFormat,

    /// Log level or filter (`info`, `debug`, `doublure=trace`, …): `info`
    /// logs refused calls with their reason, `debug` every call.
    #[cfg_attr(
        feature = "cli",
        arg(
            long,
            env = "DOUBLURE_LOG_LEVEL",
            default_value = "info",
            value_name = "FILTER"
        )
    )]
    pub log_level: String,

    /// Reload the --fixtures directory whenever one of its files changes
    /// (checked every second); an invalid change is logged and the last good
    /// data keeps serving.
    #[cfg_attr(feature = "cli", arg(long, env = "DOUBLURE_WATCH", default_value_t = false, action = clap::ArgAction::Set, num_args = 0..=1, default_missing_value = "true", value_name = "BOOL"))]
    pub watch: bool,

    /// How many requests the journal (/__doublure/requests) keeps.
    #[cfg_attr(feature = "cli", arg(
        long,
        env = "DOUBLURE_JOURNAL_SIZE",
        default_value_t = JOURNAL_SIZE,
        value_name = "N"
    ))]
    pub journal_size: usize,

    /// Most bytes the journal keeps (entries, URLs, headers and outcomes);
    /// the oldest entries go first: bytes, or a number with KiB, MiB or GiB.
    #[cfg_attr(feature = "cli", arg(
        long,
        env = "DOUBLURE_JOURNAL_BYTES",
        default_value = "16MiB",
        value_name = "SIZE",
        value_parser = parse_size
    ))]
    pub journal_bytes: usize,

    /// Seed of the generator behind fault probabilities: the same seed and
    /// the same calls give the same failures.
    #[cfg_attr(
        feature = "cli",
        arg(
            long,
            env = "DOUBLURE_FAULT_SEED",
            default_value_t = 0,
            value_name = "N"
        )
    )]
    pub fault_seed: u64,

    /// Honour the X-Doublure-Fault request header (a browser demo's way to
    /// make one call slow or failing); `false` ignores it.
    #[cfg_attr(feature = "cli", arg(long, env = "DOUBLURE_FAULT_HEADER", default_value_t = true, action = clap::ArgAction::Set, value_name = "BOOL"))]
    pub fault_header: bool,

    /// Lifetime in seconds of the Logora access tokens /oauth/token issues
    /// (Doorkeeper's default is 7200); a client's `token_lifetime` in the
    /// fixtures overrides it.
    #[cfg_attr(
        feature = "cli",
        arg(
            long,
            env = "DOUBLURE_LOGORA_TOKEN_LIFETIME",
            default_value_t = 7200,
            value_name = "SECONDS"
        )
    )]
    pub logora_token_lifetime: u32,

    /// The Doorkeeper version Logora's OAuth answers follow; an
    /// application's `doorkeeper` in the fixtures overrides it.
    #[cfg_attr(
        feature = "cli",
        arg(
            long,
            env = "DOUBLURE_DOORKEEPER",
            value_enum,
            default_value = "5.9.0",
            value_name = "VERSION"
        )
    )]
    pub doorkeeper: Doorkeeper,

    /// Generated Logora users served on top of the fixtures (added to the
    /// first application, after its highest id); regenerated by reset.
    #[cfg_attr(
        feature = "cli",
        arg(
            long,
            env = "DOUBLURE_GENERATE_LOGORA_USERS",
            default_value_t = 0,
            value_name = "N"
        )
    )]
    pub generate_logora_users: usize,

    /// Generated w.c.s. users served on top of the fixtures, each with
    /// --generate-forms-per-user forms; regenerated by reset.
    #[cfg_attr(
        feature = "cli",
        arg(
            long,
            env = "DOUBLURE_GENERATE_WCS_USERS",
            default_value_t = 0,
            value_name = "N"
        )
    )]
    pub generate_wcs_users: usize,

    /// Forms (and drafts) per generated w.c.s. user.
    #[cfg_attr(
        feature = "cli",
        arg(
            long,
            env = "DOUBLURE_GENERATE_FORMS_PER_USER",
            default_value_t = 2,
            value_name = "K"
        )
    )]
    pub generate_forms_per_user: usize,

    /// Seed of the data generator: the same seed gives the same users.
    #[cfg_attr(
        feature = "cli",
        arg(long, env = "DOUBLURE_SEED", default_value_t = 0, value_name = "S")
    )]
    pub seed: u64,

    /// How long a namespace (`/__ns/{name}/…`) lives without a request
    /// before it is dropped: seconds, or a number with s, m, h or d.
    #[cfg_attr(feature = "cli", arg(
        long,
        env = "DOUBLURE_NAMESPACE_TTL",
        default_value = "1h",
        value_name = "DURATION",
        value_parser = parse_duration
    ))]
    pub namespace_ttl: std::time::Duration,

    /// Most namespaces live at once; one more is refused with 429 (a live
    /// namespace is never evicted to make room).
    #[cfg_attr(
        feature = "cli",
        arg(
            long,
            env = "DOUBLURE_MAX_NAMESPACES",
            default_value_t = 1000,
            value_name = "N"
        )
    )]
    pub max_namespaces: usize,

    /// A connection that has not sent a complete request head this long
    /// after its first byte is closed (slow or stalled clients): seconds,
    /// or a number with s, m, h or d.
    #[cfg_attr(feature = "cli", arg(
        long,
        env = "DOUBLURE_HEADER_READ_TIMEOUT",
        default_value = "30s",
        value_name = "DURATION",
        value_parser = parse_duration
    ))]
    pub header_read_timeout: std::time::Duration,

    /// A keep-alive connection idle this long between requests (nothing in
    /// flight, nothing read) is closed: seconds, or a number with s, m, h
    /// or d.
    #[cfg_attr(feature = "cli", arg(
        long,
        env = "DOUBLURE_IDLE_TIMEOUT",
        default_value = "60s",
        value_name = "DURATION",
        value_parser = parse_duration
    ))]
    pub idle_timeout: std::time::Duration,

    /// A request body that stops arriving this long (nothing more of it
    /// read) is cut with a 408 in the API's format, and the connection
    /// closed: seconds, or a number with s, m, h or d.
    #[cfg_attr(feature = "cli", arg(
        long,
        env = "DOUBLURE_BODY_READ_TIMEOUT",
        default_value = "30s",
        value_name = "DURATION",
        value_parser = parse_duration
    ))]
    pub body_read_timeout: std::time::Duration,

    /// An answer the client stops reading this long (nothing more of it
    /// written) is cut, the connection closed and the answer's memory
    /// released: seconds, or a number with s, m, h or d.
    #[cfg_attr(feature = "cli", arg(
        long,
        env = "DOUBLURE_WRITE_TIMEOUT",
        default_value = "30s",
        value_name = "DURATION",
        value_parser = parse_duration
    ))]
    pub write_timeout: std::time::Duration,

    /// Largest request body the control plane accepts (the state of a
    /// million users, for `PUT /__doublure/state`, is about 650 MB): bytes,
    /// or a number with KiB, MiB or GiB; a larger body gets a 413.
    #[cfg_attr(feature = "cli", arg(
        long,
        env = "DOUBLURE_ADMIN_BODY_LIMIT",
        default_value = "1GiB",
        value_name = "SIZE",
        value_parser = parse_size
    ))]
    pub admin_body_limit: usize,

    /// Origins whose web pages may drive the control plane (a demo page
    /// elsewhere): a comma-separated list of origins, which also get CORS
    /// on /__doublure/ (`*`: every page on any site may). Calls from pages
    /// on any other origin are refused with 403.
    #[cfg_attr(
        feature = "cli",
        arg(long, env = "DOUBLURE_ADMIN_CORS_ORIGIN", value_name = "ORIGINS")
    )]
    pub admin_cors_origin: Option<String>,

    /// Most w.c.s. nonces remembered per namespace; past it, the oldest
    /// are forgotten first (their URLs could then be replayed), which the
    /// journal and the log say.
    #[cfg_attr(
        feature = "cli",
        arg(
            long,
            env = "DOUBLURE_MAX_NONCES",
            default_value_t = 100_000,
            value_name = "N"
        )
    )]
    pub max_nonces: usize,

    /// Most memory that calls can make the server keep, every namespace
    /// together: journals, w.c.s. nonces, journal streams and Logora's
    /// caches. Once it is spent, the calling namespace's oldest journal
    /// entries go first, then the largest journals'; when none can give
    /// enough, a call that would keep more gets a 503 with Retry-After in
    /// its API's format (and is journaled): bytes, or a number with KiB,
    /// MiB or GiB.
    #[cfg_attr(feature = "cli", arg(
        long,
        env = "DOUBLURE_MEMORY_BUDGET",
        default_value = "256MiB",
        value_name = "SIZE",
        value_parser = parse_size
    ))]
    pub memory_budget: usize,

    /// Most live journal streams (/__doublure/requests/stream), every
    /// namespace together; past it, a new stream gets a 429.
    #[cfg_attr(
        feature = "cli",
        arg(
            long,
            env = "DOUBLURE_MAX_STREAMS",
            default_value_t = 64,
            value_name = "N"
        )
    )]
    pub max_streams: usize,

    /// Host names (or addresses) the control plane and the console answer
    /// to besides loopback ones and --public-url's host, whatever the
    /// port: repeat the flag or separate with commas. `*` answers any
    /// `Host` (DNS rebinding can then reach the control plane).
    #[cfg_attr(
        feature = "cli",
        arg(
            long,
            env = "DOUBLURE_ALLOWED_HOST",
            value_name = "HOST",
            value_delimiter = ','
        )
    )]
    pub allowed_host: Vec<String>,

    /// Serve HTTPS (HTTP/2 and HTTP/1.1 by ALPN) with a certificate from
    /// doublure's own CA: on the listen address, or on the TLS one when
    /// given (`DOUBLURE_TLS=1` as well as `true`).
    #[cfg_attr(feature = "cli", arg(long, env = "DOUBLURE_TLS", default_value_t = false, action = clap::ArgAction::Set, num_args = 0..=1, default_missing_value = "true", value_name = "BOOL", value_parser = clap::builder::BoolishValueParser::new()))]
    pub tls: bool,

    /// Another host name (or IP address) the certificate covers, beside
    /// localhost, 127.0.0.1, ::1 and the --public-url host; repeat the
    /// flag, or separate names with commas.
    #[cfg_attr(
        feature = "cli",
        arg(
            long = "tls-name",
            env = "DOUBLURE_TLS_NAME",
            value_name = "HOST",
            value_delimiter = ','
        )
    )]
    pub tls_names: Vec<String>,

    /// Keep doublure's CA (ca.pem, and ca-key.pem readable by its owner)
    /// in this directory, made there at the first start, so clients trust
    /// it once [default: a new CA in memory at each start]
    #[cfg_attr(
        feature = "cli",
        arg(long, env = "DOUBLURE_TLS_CA_DIR", value_name = "DIR")
    )]
    pub tls_ca_dir: Option<PathBuf>,

    /// Serve this certificate chain (PEM) instead of one from doublure's
    /// CA; needs --tls-key.
    #[cfg_attr(
        feature = "cli",
        arg(
            long,
            env = "DOUBLURE_TLS_CERT",
            value_name = "FILE",
            requires = "tls_key"
        )
    )]
    pub tls_cert: Option<PathBuf>,

    /// The private key (PEM) of --tls-cert.
    #[cfg_attr(
        feature = "cli",
        arg(
            long,
            env = "DOUBLURE_TLS_KEY",
            value_name = "FILE",
            requires = "tls_cert"
        )
    )]
    pub tls_key: Option<PathBuf>,

    /// Serve HTTPS on this address too, while --listen serves plain HTTP
    /// (and h2c); implies --tls.
    #[cfg_attr(
        feature = "cli",
        arg(long, env = "DOUBLURE_TLS_LISTEN", value_name = "ADDR")
    )]
    pub tls_listen: Option<SocketAddr>,
}

/// `3600`, `90s`, `30m`, `1h` or `1d`.
#[cfg(feature = "cli")]
pub fn parse_duration(text: &str) -> Result<std::time::Duration, String> {
    let text = text.trim();
    let (number, unit) = match text.char_indices().find(|(_, c)| !c.is_ascii_digit()) {
        Some((at, _)) => text.split_at(at),
        None => (text, "s"),
    };
    let seconds = match unit.trim() {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => 0,
    };
    match number.parse::<u64>() {
        Ok(n) if seconds > 0 && n > 0 => n
            .checked_mul(seconds)
            .map(std::time::Duration::from_secs)
            .ok_or_else(|| format!("{text:?} is too long")),
        _ => Err(format!(
            "{text:?} is not a duration like 3600, 90s, 30m, 1h or 1d"
        )),
    }
}

/// `1048576`, `512KiB`, `64MiB` or `1GiB` (also `kB`, `MB`, `GB` in
/// powers of 1000, and a `B` suffix), as a number of bytes.
#[cfg(feature = "cli")]
pub fn parse_size(text: &str) -> Result<usize, String> {
    let bad = || format!("{text:?} is not a size like 1048576, 512KiB, 64MiB or 1GiB");
    let trimmed = text.trim();
    let at = trimmed
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(trimmed.len());
    let (number, unit) = trimmed.split_at(at);
    let factor: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "kib" => 1 << 10,
        "mib" => 1 << 20,
        "gib" => 1 << 30,
        "kb" => 1_000,
        "mb" => 1_000_000,
        "gb" => 1_000_000_000,
        _ => return Err(bad()),
    };
    let n: u64 = number.parse().map_err(|_| bad())?;
    if n == 0 {
        return Err(format!("{text:?} is no size: give at least one byte"));
    }
    n.checked_mul(factor)
        .and_then(|bytes| usize::try_from(bytes).ok())
        .ok_or_else(|| format!("{text:?} is too large"))
}

impl Config {
    /// Whether HTTPS is served, on one port or the other.
    pub(crate) fn tls_enabled(&self) -> bool {
        self.tls || self.tls_listen.is_some() || self.tls_cert.is_some() || self.tls_key.is_some()
    }

    /// Whether --listen itself serves HTTPS (no --tls-listen beside it).
    pub(crate) fn tls_on_listen(&self) -> bool {
        self.tls_enabled() && self.tls_listen.is_none()
    }

    /// Where the served certificate comes from, when HTTPS is served;
    /// `listen` is the address bound, whose IP the certificate covers
    /// too when it is a specific one.
    pub(crate) fn tls_source(
        &self,
        listen: SocketAddr,
    ) -> Result<Option<crate::tls::Source>, String> {
        if !self.tls_enabled() {
            return Ok(None);
        }
        match (&self.tls_cert, &self.tls_key) {
            (Some(cert), Some(key)) => {
                if !self.tls_names.is_empty() || self.tls_ca_dir.is_some() {
                    return Err(
                        "--tls-name and --tls-ca-dir are for the certificate doublure \
                                makes; with --tls-cert, the certificate given is served as it is"
                            .to_owned(),
                    );
                }
                Ok(Some(crate::tls::Source::Files {
                    cert: cert.clone(),
                    key: key.clone(),
                }))
            }
            (None, None) => {
                let mut names = Vec::new();
                let ip = listen.ip();
                if !ip.is_unspecified() && !ip.is_loopback() {
                    names.push(ip.to_string());
                }
                if let Some(host) = self.public_url.as_deref().and_then(crate::tls::url_host) {
                    names.push(host);
                }
                names.extend(self.tls_names.iter().cloned());
                Ok(Some(crate::tls::Source::Generated {
                    names,
                    ca_dir: self.tls_ca_dir.clone(),
                }))
            }
            _ => Err("--tls-cert and --tls-key go together".to_owned()),
        }
    }

    /// What to generate on top of the fixtures.
    pub(crate) fn generate(&self) -> Generate {
        Generate {
            logora_users: self.generate_logora_users,
            wcs_users: self.generate_wcs_users,
            forms_per_user: self.generate_forms_per_user,
            seed: self.seed,
        }
    }
}

impl Default for Config {
    /// The defaults of `--help` (the `cli` feature's tests hold the two
    /// together), whatever `DOUBLURE_*` variables the calling shell
    /// exports.
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            fixtures: None,
            public_url: None,
            admin_token: None,
            cors_origin: "*".to_owned(),
            log_format: LogFormat::Text,
            log_level: "info".to_owned(),
            watch: false,
            journal_size: JOURNAL_SIZE,
            journal_bytes: JOURNAL_BYTES,
            fault_seed: 0,
            fault_header: true,
            logora_token_lifetime: 7200,
            doorkeeper: Doorkeeper::V5_9_0,
            generate_logora_users: 0,
            generate_wcs_users: 0,
            generate_forms_per_user: 2,
            seed: 0,
            namespace_ttl: std::time::Duration::from_secs(3600),
            max_namespaces: 1000,
            header_read_timeout: std::time::Duration::from_secs(30),
            idle_timeout: std::time::Duration::from_secs(60),
            body_read_timeout: std::time::Duration::from_secs(30),
            write_timeout: std::time::Duration::from_secs(30),
            admin_body_limit: DEFAULT_ADMIN_BODY_LIMIT,
            admin_cors_origin: None,
            max_nonces: 100_000,
            allowed_host: Vec::new(),
            memory_budget: DEFAULT_MEMORY_BUDGET,
            max_streams: 64,
            tls: false,
            tls_names: Vec::new(),
            tls_ca_dir: None,
            tls_cert: None,
            tls_key: None,
            tls_listen: None,
        }
    }
}

/// Runtime settings derived from [`Config`] once the listener is bound.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Base of absolute URLs, without a trailing slash.
    pub public_url: String,
    pub admin_token: Option<String>,
    pub cors: CorsOrigins,
    /// The fixture directory, when not the built-in set (reload reads it).
    pub fixtures: Option<std::path::PathBuf>,
    pub journal_size: usize,
    /// Most bytes the journal keeps.
    pub journal_bytes: usize,
    pub fault_seed: u64,
    pub fault_header: bool,
    pub watch: bool,
    /// Default lifetime of Logora access tokens, in seconds.
    pub logora_token_lifetime: u32,
    /// Doorkeeper profile of applications that name none.
    pub doorkeeper: Doorkeeper,
    /// How long a namespace lives without a request.
    pub namespace_ttl: std::time::Duration,
    /// Most namespaces live at once.
    pub max_namespaces: usize,
    /// How long a connection may take to send a request head, from its
    /// first byte.
    pub header_read_timeout: std::time::Duration,
    /// How long a connection may sit idle between requests.
    pub idle_timeout: std::time::Duration,
    /// How long a request body may stop arriving before it is cut.
    pub body_read_timeout: std::time::Duration,
    /// How long an answer may go unread before it is cut.
    pub write_timeout: std::time::Duration,
    /// Largest request body of the control plane, in bytes.
    pub admin_body_limit: usize,
    /// Origins other than doublure's own that may call the control plane
    /// (and get CORS there); empty by default.
    pub admin_cors: CorsOrigins,
    /// Most w.c.s. nonces remembered per namespace.
    pub max_nonces: usize,
    /// `--allowed-host`, trimmed and lowercase; `*` among them turns the
    /// control plane's host check off.
    pub allowed_hosts: Vec<String>,
    /// Most bytes journals, nonces and streams take, every namespace
    /// together.
    pub memory_budget: usize,
    /// Most live journal streams, every namespace together.
    pub max_streams: usize,
    /// The PEM of doublure's CA when it serves HTTPS with a certificate
    /// of its own (`GET /__doublure/tls/ca.pem`).
    pub tls_ca_pem: Option<std::sync::Arc<str>>,
}

impl Settings {
    /// Settings for `config`, served at `local_addr`.
    pub fn new(config: &Config, local_addr: SocketAddr) -> Result<Self, String> {
        let public_url = match &config.public_url {
            Some(url) => normalize_public_url(url)?,
            None if config.tls_on_listen() => format!("https://{local_addr}"),
            None => format!("http://{local_addr}"),
        };
        Ok(Self {
            public_url,
            admin_token: config.admin_token.clone().filter(|t| !t.is_empty()),
            cors: CorsOrigins::parse(&config.cors_origin)?,
            fixtures: config.fixtures.clone(),
            journal_size: config.journal_size,
            journal_bytes: config.journal_bytes,
            fault_seed: config.fault_seed,
            fault_header: config.fault_header,
            watch: config.watch,
            logora_token_lifetime: config.logora_token_lifetime,
            doorkeeper: config.doorkeeper,
            namespace_ttl: config.namespace_ttl,
            max_namespaces: config.max_namespaces,
            header_read_timeout: config.header_read_timeout,
            idle_timeout: config.idle_timeout,
            body_read_timeout: config.body_read_timeout,
            write_timeout: config.write_timeout,
            admin_body_limit: config.admin_body_limit,
            admin_cors: match config.admin_cors_origin.as_deref().map(str::trim) {
                None | Some("") => CorsOrigins::List(Vec::new()),
                Some(list) => CorsOrigins::parse_for("--admin-cors-origin", list)?,
            },
            max_nonces: config.max_nonces,
            allowed_hosts: config
                .allowed_host
                .iter()
                .map(|h| h.trim().to_ascii_lowercase())
                .filter(|h| !h.is_empty())
                .collect(),
            memory_budget: config.memory_budget,
            max_streams: config.max_streams,
            tls_ca_pem: None,
        })
    }
}

/// `--memory-budget`'s default: 256 MiB, sixteen full journals at the
/// default `--journal-bytes`.
pub const DEFAULT_MEMORY_BUDGET: usize = 256 << 20;

/// `--admin-body-limit`'s default: 1 GiB, room for the state of a million
/// users.
pub const DEFAULT_ADMIN_BODY_LIMIT: usize = 1 << 30;

fn normalize_public_url(url: &str) -> Result<String, String> {
    let trimmed = url.trim().trim_end_matches('/');
    let rest = trimmed
        .strip_prefix("http://")
        .or_else(|| trimmed.strip_prefix("https://"))
        .ok_or_else(|| format!("--public-url {url:?} must start with http:// or https://"))?;
    if rest.is_empty() {
        return Err(format!("--public-url {url:?} has no host"));
    }
    Ok(trimmed.to_owned())
}

/// Which browser origins may call the emulated APIs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CorsOrigins {
    Any,
    List(Vec<String>),
}

impl CorsOrigins {
    fn parse(value: &str) -> Result<Self, String> {
        Self::parse_for("--cors-origin", value)
    }

    /// `*` or a list of origins, given to `flag` (named in the error).
    fn parse_for(flag: &str, value: &str) -> Result<Self, String> {
        let value = value.trim();
        if value == "*" || value.is_empty() {
            return Ok(Self::Any);
        }
        let list: Vec<String> = value
            .split(',')
            .map(|o| o.trim().trim_end_matches('/').to_owned())
            .filter(|o| !o.is_empty())
            .collect();
        for origin in &list {
            if !(origin.starts_with("http://") || origin.starts_with("https://")) {
                return Err(format!(
                    "{flag} {origin:?} is not an origin like https://app.example.org"
                ));
            }
        }
        Ok(Self::List(list))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_public_url_defaults_to_the_bound_address() {
        let settings =
            Settings::new(&Config::default(), "127.0.0.1:4321".parse().unwrap()).unwrap();
        assert_eq!(settings.public_url, "http://127.0.0.1:4321");
    }

    #[test]
    fn a_public_url_loses_its_trailing_slash_and_must_be_http() {
        let addr = "127.0.0.1:1".parse().unwrap();
        let config = Config {
            public_url: Some("https://demo.example.org/".to_owned()),
            ..Config::default()
        };
        assert_eq!(
            Settings::new(&config, addr).unwrap().public_url,
            "https://demo.example.org"
        );
        let config = Config {
            public_url: Some("demo.example.org".to_owned()),
            ..Config::default()
        };
        assert_eq!(
            Settings::new(&config, addr).unwrap_err(),
            "--public-url \"demo.example.org\" must start with http:// or https://"
        );
    }

    #[cfg(feature = "cli")]
    #[test]
    fn durations_are_seconds_or_a_number_with_a_unit() {
        use std::time::Duration;
        assert_eq!(parse_duration("3600"), Ok(Duration::from_secs(3600)));
        assert_eq!(parse_duration("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("30m"), Ok(Duration::from_secs(1800)));
        assert_eq!(parse_duration("1h"), Ok(Duration::from_secs(3600)));
        assert_eq!(parse_duration("2d"), Ok(Duration::from_secs(172_800)));
        assert!(parse_duration("0").is_err());
        assert!(parse_duration("1w").is_err());
        assert!(parse_duration("h").is_err());
    }

    #[cfg(feature = "cli")]
    #[test]
    fn the_defaults_are_the_command_lines() {
        use clap::{CommandFactory, FromArgMatches, Parser};
        #[derive(Debug, Parser)]
        struct Serving {
            #[command(flatten)]
            config: Config,
        }
        let matches = Serving::command()
            .mut_args(|a| a.env(None))
            .try_get_matches_from(["doublure"])
            .unwrap();
        let parsed = Serving::from_arg_matches(&matches).unwrap().config;
        assert_eq!(format!("{parsed:?}"), format!("{:?}", Config::default()));
    }

    #[test]
    fn the_journal_defaults_are_the_named_ones() {
        let config = Config::default();
        assert_eq!(
            (config.journal_size, config.journal_bytes),
            (JOURNAL_SIZE, JOURNAL_BYTES)
        );
    }

    #[cfg(feature = "cli")]
    #[test]
    fn sizes_are_bytes_or_a_number_with_a_unit() {
        assert_eq!(parse_size("1048576"), Ok(1_048_576));
        assert_eq!(parse_size("512KiB"), Ok(512 * 1024));
        assert_eq!(parse_size("64 MiB"), Ok(64 << 20));
        assert_eq!(parse_size("1GiB"), Ok(1 << 30));
        assert_eq!(parse_size("2gb"), Ok(2_000_000_000));
        assert_eq!(parse_size("10B"), Ok(10));
        assert_eq!(
            parse_size("1TiB").unwrap_err(),
            "\"1TiB\" is not a size like 1048576, 512KiB, 64MiB or 1GiB"
        );
        assert!(parse_size("0").is_err());
        assert!(parse_size("GiB").is_err());
        assert!(parse_size("99999999999999999999GiB").is_err());
    }

    #[test]
    fn the_control_plane_takes_no_cross_site_origin_unless_listed() {
        let addr = "127.0.0.1:1".parse().unwrap();
        let settings = Settings::new(&Config::default(), addr).unwrap();
        assert_eq!(settings.admin_cors, CorsOrigins::List(Vec::new()));
        let config = Config {
            admin_cors_origin: Some("https://demo.test, http://localhost:3000/".into()),
            ..Config::default()
        };
        assert_eq!(
            Settings::new(&config, addr).unwrap().admin_cors,
            CorsOrigins::List(vec![
                "https://demo.test".into(),
                "http://localhost:3000".into()
            ])
        );
        let config = Config {
            admin_cors_origin: Some("demo.test".into()),
            ..Config::default()
        };
        assert_eq!(
            Settings::new(&config, addr).unwrap_err(),
            "--admin-cors-origin \"demo.test\" is not an origin like https://app.example.org"
        );
    }

    #[test]
    fn cors_origins_are_any_or_a_checked_list() {
        assert_eq!(CorsOrigins::parse("*").unwrap(), CorsOrigins::Any);
        assert_eq!(
            CorsOrigins::parse("http://a.test, https://b.test/").unwrap(),
            CorsOrigins::List(vec!["http://a.test".into(), "https://b.test".into()])
        );
        assert!(CorsOrigins::parse("a.test").is_err());
    }
}
