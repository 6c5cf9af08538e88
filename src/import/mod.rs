//! `doublure fixtures import`: real data in. Reads a running Logora or
//! w.c.s. instance through its own API (the calls an integrator makes),
//! derives fixture files from the answers and writes them atomically: the
//! files are rendered and checked by the fixture loader first, written to a
//! temporary directory beside `--out`, then renamed into place, so a failed
//! or interrupted import leaves the previous files as they were.
//!
//! [`logora`] and [`wcs`] fetch and derive; [`anonymize`] replaces personal
//! values with deterministic fake French ones; `http` is the shared client
//! (TLS, timeouts, retries, the server's own error messages, secrets kept
//! out of every message) and `output` the atomic writer.

pub mod anonymize;
mod http;
pub mod logora;
mod output;
pub mod wcs;

use std::fmt;
use std::path::PathBuf;

use clap::{Args, Subcommand};
use indicatif::ProgressBar;

use crate::store::Problems;

/// What `doublure fixtures import` reads.
#[derive(Debug, Clone, Subcommand)]
pub enum ImportSource {
    /// Read every user of a Logora application: a client-credentials token,
    /// then every page of /api/v1/users. Writes DIR/logora/ (the
    /// application, the client with the given credentials, the users).
    Logora(LogoraArgs),
    /// Read a w.c.s. user directory (/api/users/), then each user's forms
    /// and drafts, over signed URLs. Writes DIR/wcs/ (users, roles,
    /// categories, form definitions, forms and drafts, the API access).
    Wcs(WcsArgs),
}

/// `doublure fixtures import logora`.
#[derive(Debug, Clone, Args)]
pub struct LogoraArgs {
    /// Base URL of the Logora server (e.g. `https://app.logora.fr`).
    #[arg(long, value_name = "URL")]
    pub url: String,
    /// The API key of the application's API client (`client_id`).
    #[arg(long, value_name = "ID")]
    pub client_id: String,
    /// Its secret key (`client_secret`); never printed.
    #[arg(
        long,
        env = "DOUBLURE_IMPORT_CLIENT_SECRET",
        hide_env_values = true,
        value_name = "SECRET"
    )]
    pub client_secret: Secret,
    /// Scopes to ask for, space-separated [default: the server's default
    /// scope]
    #[arg(long, value_name = "S")]
    pub scope: Option<String>,
    #[command(flatten)]
    pub output: OutputArgs,
}

/// `doublure fixtures import wcs`.
#[derive(Debug, Clone, Args)]
pub struct WcsArgs {
    /// Base URL of the w.c.s. site (e.g. `https://demarches.example.fr`).
    #[arg(long, value_name = "URL")]
    pub url: String,
    /// The API access that signs the calls (`orig`); it must be allowed to
    /// list users (an API access without roles is).
    #[arg(long, value_name = "ORIG")]
    pub orig: String,
    /// Its key; never printed.
    #[arg(
        long,
        env = "DOUBLURE_IMPORT_WCS_KEY",
        hide_env_values = true,
        value_name = "KEY"
    )]
    pub key: Secret,
    #[command(flatten)]
    pub output: OutputArgs,
}

/// Where the import goes, and how.
#[derive(Debug, Clone, Args)]
pub struct OutputArgs {
    /// Fixture directory to write: its logora/ (or wcs/) subdirectory is
    /// replaced whole once the import succeeded and the result loads; the
    /// other API's files are left as they are.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Replace names, e-mails, phones, addresses and free text with fake
    /// French values. The same data and secret always give the same output,
    /// so every reference between files still holds.
    #[arg(long)]
    pub anonymize: bool,
    #[command(flatten)]
    pub limits: Limits,
}

/// How much an import may read, and for how long: a server that answers
/// without end (a body that never stops, a `next-page` always one more)
/// stops the import with an error naming the limit, instead of memory or
/// patience running out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Args)]
pub struct Limits {
    /// Largest answer read, token and pages alike: bytes, or a number with
    /// KiB, MiB or GiB; a larger one stops the import (the answer is read
    /// no further than that).
    #[arg(long, value_name = "SIZE", default_value = "64MiB", value_parser = crate::config::parse_size)]
    pub max_response_bytes: usize,
    /// Most pages of Logora users read (100 users a page); a server that
    /// has more stops the import.
    #[arg(long, value_name = "N", default_value_t = 100_000)]
    pub max_pages: u64,
    /// Longest an import may take: seconds, or a number with s, m, h or d;
    /// past it the import stops, leaving nothing behind.
    #[arg(long, value_name = "DURATION", default_value = "1h", value_parser = crate::config::parse_duration)]
    pub max_time: std::time::Duration,
}

impl Default for Limits {
    /// The defaults of `--help`.
    fn default() -> Self {
        Self {
            max_response_bytes: 64 << 20,
            max_pages: 100_000,
            max_time: std::time::Duration::from_secs(3600),
        }
    }
}

/// A secret given on the command line: shown as `[redacted]` by `Debug`,
/// so no log or panic message can carry it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The secret itself, for the one place that sends it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl std::str::FromStr for Secret {
    type Err = std::convert::Infallible;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(Self(s.to_owned()))
    }
}

/// Why an import failed. No variant ever holds a client secret or a key:
/// every message built from a server's answer goes through the client's
/// redaction first.
#[derive(Debug)]
pub enum ImportError {
    /// Bad arguments (exit status 2).
    Usage(String),
    /// The server could not be reached: DNS, connection, TLS, timeout.
    Unreachable { what: String, detail: String },
    /// 401 or 403: the credentials were refused; `message` is the server's.
    Refused {
        what: String,
        status: u16,
        message: String,
        hint: &'static str,
    },
    /// Any other unexpected HTTP status, with the server's message.
    Status {
        what: String,
        status: u16,
        message: String,
    },
    /// An answer that is not what the API gives; `detail` names the item
    /// and the field.
    Malformed { what: String, detail: String },
    /// The derived files do not load as fixtures (exit status 2).
    Invalid(Problems),
    /// The output directory could not be written.
    Io(String),
    /// A limit of [`Limits`] was reached; `detail` names it and its flag.
    Limit { what: String, detail: String },
}

impl ImportError {
    /// The process exit status for this error.
    pub fn exit_code(&self) -> u8 {
        match self {
            Self::Usage(_) | Self::Invalid(_) => 2,
            _ => 1,
        }
    }
}

fn reason(status: u16) -> &'static str {
    reqwest::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("")
}

impl fmt::Display for ImportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Usage(message) | Self::Io(message) => f.write_str(message),
            Self::Unreachable { what, detail } => write!(f, "cannot reach {what}: {detail}"),
            Self::Refused {
                what,
                status,
                message,
                hint,
            } => write!(
                f,
                "{what} was refused with HTTP {status} {}: {message} ({hint})",
                reason(*status)
            ),
            Self::Status {
                what,
                status,
                message,
            } => write!(
                f,
                "{what} answered HTTP {status} {}: {message}",
                reason(*status)
            ),
            Self::Malformed { what, detail } => write!(f, "unexpected answer to {what}: {detail}"),
            Self::Limit { what, detail } => write!(f, "{what}: {detail}"),
            Self::Invalid(problems) => write!(
                f,
                "the imported data does not load as fixtures, nothing was written:\n{problems}"
            ),
        }
    }
}

impl std::error::Error for ImportError {}

/// What an import did, for the user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    /// One line: where, how many of what, from where.
    pub text: String,
    /// Things worth knowing that did not stop the import.
    pub notes: Vec<String>,
}

/// Runs an import, drawing progress on `progress` (hidden when standard
/// error is not a terminal, or [`ProgressBar::hidden`]).
/// An import that outlives `--max-time` stops there (the staging
/// directory goes with it).
pub async fn run(source: &ImportSource, progress: &ProgressBar) -> Result<Summary, ImportError> {
    let (limits, url) = match source {
        ImportSource::Logora(args) => (args.output.limits, &args.url),
        ImportSource::Wcs(args) => (args.output.limits, &args.url),
    };
    let import = async {
        match source {
            ImportSource::Logora(args) => logora::run(args, progress).await,
            ImportSource::Wcs(args) => wcs::run(args, progress).await,
        }
    };
    match tokio::time::timeout(limits.max_time, import).await {
        Ok(result) => result,
        Err(_) => Err(ImportError::Limit {
            what: format!("the import from {}", url.trim()),
            detail: format!(
                "not done after {} s (--max-time): nothing was written; raise --max-time for a \
                 larger or slower server",
                limits.max_time.as_secs()
            ),
        }),
    }
}

/// A progress bar for an import on standard error: a spinner until the
/// total is known, then a bar. indicatif draws nothing when standard error
/// is not a terminal, so CI logs stay clean.
pub fn progress_bar() -> ProgressBar {
    let bar = ProgressBar::new_spinner();
    if let Ok(style) = indicatif::ProgressStyle::with_template("{spinner} reading… {human_pos}") {
        bar.set_style(style);
    }
    bar.enable_steady_tick(std::time::Duration::from_millis(120));
    bar
}

/// Switches `bar` to a bar of `total` items called `what`.
fn show_total(bar: &ProgressBar, total: u64, what: &str) {
    if let Ok(style) = indicatif::ProgressStyle::with_template(&format!(
        "{what} {{bar:40}} {{human_pos}}/{{human_len}}, {{per_sec}}, {{eta}} left"
    )) {
        bar.set_style(style);
    }
    bar.set_length(total);
}
