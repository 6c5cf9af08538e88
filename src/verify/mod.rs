//! `doublure verify`: holds doublure against a team's own Logora or
//! w.c.s. instance. A fixed battery of probes (docs/verify.md lists them)
//! goes to the instance and to in-process doublures serving a copy of it
//! (made by `fixtures import` on the fly, or `--fixtures`); the answers
//! are compared, differences doublure keeps on purpose
//! (docs/fidelity.md) reported as such, and for Logora the Doorkeeper
//! profile that matches best is named.
//!
//! Safe on production: only GETs and token requests unless
//! `--allow-writes`, paced (`--rate`), stopped at the first 429 or a
//! burst of 5xx, and no secret in any output.
//!
//! `probe` defines a probe, `logora` and `wcs` the batteries, `wire` the
//! HTTP client, `pace` the pacing, `compare` and `documented` the
//! verdicts, `copy` the copy and its servers, `run` the loop, `report`
//! the outputs.

mod compare;
mod copy;
mod documented;
mod logora;
mod pace;
mod probe;
mod report;
mod run;
mod wcs;
mod wire;

use std::path::PathBuf;

use clap::{Args, Subcommand, ValueEnum};

use crate::config::Doorkeeper;
use crate::import::{ImportSource, OutputArgs, Secret};

/// What `doublure verify` checks.
#[derive(Debug, Clone, Subcommand)]
pub enum VerifyTarget {
    /// Check a Logora instance: token requests, the users list, token
    /// info (and, with --allow-writes, introspection, a scope refusal and
    /// revoking verify's own token).
    Logora(LogoraArgs),
    /// Check a w.c.s. instance: signed calls to each user endpoint, the
    /// signature's refusals, forms, drafts, the directory, the old
    /// addresses.
    Wcs(WcsArgs),
}

/// `doublure verify logora`.
#[derive(Debug, Clone, Args)]
pub struct LogoraArgs {
    /// Base URL of the Logora server (e.g. `https://staging.logora.fr`).
    #[arg(long, value_name = "URL")]
    pub url: String,
    /// The API key of an API client (`client_id`).
    #[arg(long, value_name = "ID")]
    pub client_id: String,
    /// Its secret key; never printed.
    #[arg(
        long,
        env = "DOUBLURE_VERIFY_CLIENT_SECRET",
        hide_env_values = true,
        value_name = "SECRET"
    )]
    pub client_secret: Secret,
    /// The Doorkeeper profile doublure is compared with; verify also tries
    /// the others to name the one that matches best.
    #[arg(long, value_enum, default_value = "5.9.0", value_name = "VERSION")]
    pub doorkeeper: Doorkeeper,
    #[command(flatten)]
    pub common: CommonArgs,
}

/// `doublure verify wcs`.
#[derive(Debug, Clone, Args)]
pub struct WcsArgs {
    /// Base URL of the w.c.s. site.
    #[arg(long, value_name = "URL")]
    pub url: String,
    /// The API access that signs the calls (`orig`).
    #[arg(long, value_name = "ORIG")]
    pub orig: String,
    /// Its key; never printed.
    #[arg(
        long,
        env = "DOUBLURE_VERIFY_WCS_KEY",
        hide_env_values = true,
        value_name = "KEY"
    )]
    pub key: Secret,
    /// The user the per-user probes act as [default: the directory's
    /// first user].
    #[arg(long, conflicts_with = "name_id", value_name = "EMAIL")]
    pub email: Option<String>,
    /// The user, by NameID.
    #[arg(long = "name-id", value_name = "NAMEID")]
    pub name_id: Option<String>,
    #[command(flatten)]
    pub common: CommonArgs,
}

/// Options of both.
#[derive(Debug, Clone, Args)]
pub struct CommonArgs {
    /// Compare with this fixture directory instead of importing a copy of
    /// the instance first.
    #[arg(long, value_name = "DIR")]
    pub fixtures: Option<PathBuf>,
    /// Most calls a second to the instance.
    #[arg(long, default_value_t = 5.0, value_name = "N")]
    pub rate: f64,
    /// Also send the probes that POST (introspect, a refused anonymize of
    /// no one, revoking verify's own token).
    #[arg(long)]
    pub allow_writes: bool,
    /// Output format.
    #[arg(long, value_enum, default_value = "table")]
    pub format: Format,
}

/// How the report is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// A table: probe, real, doublure, verdict, difference.
    Table,
    Json,
    /// JUnit XML, for a CI's test view.
    Junit,
}

/// Why verify could not run; the exit status is 2 for a usage error, 1
/// otherwise.
#[derive(Debug)]
pub enum VerifyError {
    Usage(String),
    Other(String),
}

impl VerifyError {
    pub fn exit_code(&self) -> u8 {
        match self {
            Self::Usage(_) => 2,
            Self::Other(_) => 1,
        }
    }
}

impl std::fmt::Display for VerifyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Usage(m) | Self::Other(m) => f.write_str(m),
        }
    }
}

/// The most calls a second `--rate` takes: beyond it the pacing would
/// mean nothing.
const MAX_RATE: f64 = 10_000.0;

/// Runs verify; the report as `format` writes it and the exit status.
pub async fn run(target: &VerifyTarget) -> Result<(String, u8), VerifyError> {
    let common = match target {
        VerifyTarget::Logora(a) => &a.common,
        VerifyTarget::Wcs(a) => &a.common,
    };
    if !(common.rate > 0.0 && common.rate <= MAX_RATE) {
        return Err(VerifyError::Usage(format!(
            "--rate {}: give a number of calls a second above 0 and at most {MAX_RATE}",
            common.rate
        )));
    }
    let url = match target {
        VerifyTarget::Logora(a) => &a.url,
        VerifyTarget::Wcs(a) => &a.url,
    };
    if reqwest::Url::parse(url.trim())
        .is_ok_and(|u| !u.username().is_empty() || u.password().is_some())
    {
        return Err(VerifyError::Usage(
            "--url must not carry credentials: pass them as options".into(),
        ));
    }
    let instance = wire::Target::new(url).map_err(VerifyError::Usage)?;
    let dir = copy::TempDir::new().map_err(VerifyError::Other)?;
    match &common.fixtures {
        Some(from) => copy::copy_fixtures(from, dir.path()).map_err(VerifyError::Usage)?,
        None => import(target, dir.path()).await?,
    }
    copy::follow_profile_flag(dir.path()).map_err(VerifyError::Other)?;
    let mut ctx = probe::Ctx {
        nonce: format!("{:032x}", rand::random::<u128>()),
        ..probe::Ctx::default()
    };
    let (api, probes, profiles): (_, _, Vec<Option<Doorkeeper>>) = match target {
        VerifyTarget::Logora(a) => {
            ctx.given.insert("client_id", a.client_id.clone());
            ctx.given
                .insert("client_secret", a.client_secret.expose().to_owned());
            let mut profiles = vec![Some(a.doorkeeper)];
            profiles.extend(
                Doorkeeper::ALL
                    .into_iter()
                    .filter(|d| *d != a.doorkeeper)
                    .map(Some),
            );
            ("logora", logora::battery(), profiles)
        }
        VerifyTarget::Wcs(a) => {
            ctx.given.insert("orig", a.orig.clone());
            ctx.given.insert("key", a.key.expose().to_owned());
            if let Some(e) = &a.email {
                ctx.given.insert("email", e.clone());
            }
            if let Some(n) = &a.name_id {
                ctx.given.insert("name_id", n.clone());
            }
            ("wcs", wcs::battery(), vec![None])
        }
    };
    let mut servers = Vec::new();
    let mut copies = Vec::new();
    for profile in profiles {
        let served = copy::serve(dir.path(), profile.unwrap_or_default())
            .await
            .map_err(|e| VerifyError::Usage(format!("the copy does not start: {e}")))?;
        copies.push(run::Copy {
            profile: profile.map(|p| p.to_string()),
            target: wire::Target::new(&served.base).map_err(VerifyError::Other)?,
        });
        servers.push(served);
    }
    let (mut report, secrets) = run::run(run::Plan {
        api,
        probes,
        instance,
        copies,
        ctx,
        allow_writes: common.allow_writes,
        rate: common.rate,
        imported: common.fixtures.is_none(),
    })
    .await;
    drop(servers);
    report.redact(&secrets);
    let text = match common.format {
        Format::Table => report.table(),
        Format::Json => report.json(),
        Format::Junit => report.junit(),
    };
    Ok((text, report.exit_code()))
}

/// Imports the instance's data into `dir` with `fixtures import`.
async fn import(target: &VerifyTarget, dir: &std::path::Path) -> Result<(), VerifyError> {
    let output = OutputArgs {
        out: dir.to_owned(),
        anonymize: false,
        limits: crate::import::Limits::default(),
    };
    let source = match target {
        VerifyTarget::Logora(a) => ImportSource::Logora(crate::import::LogoraArgs {
            url: a.url.clone(),
            client_id: a.client_id.clone(),
            client_secret: a.client_secret.clone(),
            scope: None,
            output,
        }),
        VerifyTarget::Wcs(a) => ImportSource::Wcs(crate::import::WcsArgs {
            url: a.url.clone(),
            orig: a.orig.clone(),
            key: a.key.clone(),
            output,
        }),
    };
    crate::import::run(&source, &indicatif::ProgressBar::hidden())
        .await
        .map(|_| ())
        .map_err(|e| {
            let message = format!("the copy could not be imported: {e}");
            if e.exit_code() == 2 {
                VerifyError::Usage(message)
            } else {
                VerifyError::Other(message)
            }
        })
}

#[cfg(test)]
mod tests {
    #[test]
    fn docs_verify_lists_every_probe_of_both_batteries() {
        let doc = include_str!("../../docs/verify.md");
        for probe in super::logora::battery()
            .iter()
            .chain(&super::wcs::battery())
        {
            assert!(
                doc.contains(&format!("| `{}` |", probe.id)),
                "docs/verify.md lacks {}",
                probe.id
            );
        }
    }
}
