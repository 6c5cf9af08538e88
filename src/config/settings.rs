//! The runtime settings derived from a [`Config`], and the origins they allow.

use std::net::SocketAddr;

use super::{Config, Doorkeeper};

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
    pub(super) fn parse(value: &str) -> Result<Self, String> {
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
