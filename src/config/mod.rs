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

mod settings;
#[cfg(test)]
mod tests;
mod values;

pub use settings::{CorsOrigins, Settings};
pub use values::{Doorkeeper, Generate, LogFormat};
#[cfg(feature = "cli")]
pub use values::{parse_duration, parse_size};

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
    /// together: journals, w.c.s. nonces, journal streams, the APIs'
    /// caches and the data control-plane calls add. Once it is spent, the calling namespace's oldest journal
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

/// `--memory-budget`'s default: 256 MiB, sixteen full journals at the
/// default `--journal-bytes`.
pub const DEFAULT_MEMORY_BUDGET: usize = 256 << 20;

/// `--admin-body-limit`'s default: 1 GiB, room for the state of a million
/// users.
pub const DEFAULT_ADMIN_BODY_LIMIT: usize = 1 << 30;
