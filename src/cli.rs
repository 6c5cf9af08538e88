//! The `doublure` command line: serving options (`crate::config`), the
//! subcommands (`fixtures validate|generate|import`, `sign`,
//! `healthcheck`, `verify`, `tls ca`), and what each does. The binary's `main` calls [`main`].

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::config::{Config, Generate, LogFormat};
use crate::data::Data;
use crate::startup::{Application, StartupError, shutdown_signal};

/// doublure: a test double of the Logora users API and the w.c.s. user API.
///
/// With no subcommand it serves both APIs, from the built-in fixtures unless
/// --fixtures names a directory.
#[derive(Debug, Parser)]
#[command(name = "doublure", version, about, long_about = None)]
#[command(args_conflicts_with_subcommands = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,

    #[command(flatten)]
    pub serve: Config,
}

/// What to do instead of serving.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Work with fixture directories.
    #[command(subcommand)]
    Fixtures(FixturesCommand),
    /// Print URL signed for w.c.s. as its reference signer does (orig,
    /// algo, timestamp, nonce, then signature), ready for curl.
    Sign {
        /// The URL to sign, query string included.
        url: String,
        /// The API access identifier (`orig`).
        #[arg(long)]
        orig: String,
        /// Its key [default: looked up in the built-in or --fixtures API
        /// accesses]
        #[arg(long)]
        key: Option<String>,
        /// Act as the user with this email (added to the query).
        #[arg(long, conflicts_with = "name_id")]
        email: Option<String>,
        /// Act as the user with this NameID (added to the query).
        #[arg(long = "name-id")]
        name_id: Option<String>,
        /// HMAC algorithm (md5, sha1, sha256, sha512, sha3_256, blake2b, …).
        #[arg(long, default_value = "sha256")]
        algo: String,
        /// Fixture directory to look the key up in.
        #[arg(long, env = "DOUBLURE_FIXTURES", value_name = "DIR")]
        fixtures: Option<PathBuf>,
    },
    /// Hold doublure against a real Logora or w.c.s. instance: a fixed
    /// battery of read-only probes to both, the answers compared. Exit 0
    /// when all match or differ as documented, 1 otherwise, 2 on bad
    /// arguments.
    #[command(subcommand)]
    Verify(crate::verify::VerifyTarget),
    /// Exit 0 when a running doublure answers its health check, else 1
    /// (for a Docker HEALTHCHECK in an image with no curl).
    Healthcheck {
        /// URL of the health endpoint [default: the --listen address, on
        /// loopback, /__doublure/health]
        #[arg(long)]
        url: Option<String>,
        /// Where doublure listens, to build the default URL.
        #[arg(long, env = "DOUBLURE_LISTEN", default_value = "127.0.0.1:8080")]
        listen: SocketAddr,
        /// Whether doublure serves HTTPS, to build the default URL (the
        /// --listen port serves it unless --tls-listen is set).
        #[arg(long, env = "DOUBLURE_TLS", default_value_t = false, action = clap::ArgAction::Set, num_args = 0..=1, default_missing_value = "true", value_name = "BOOL", value_parser = clap::builder::BoolishValueParser::new())]
        tls: bool,
        /// doublure's --tls-listen, when set: --listen then serves plain HTTP.
        #[arg(long, env = "DOUBLURE_TLS_LISTEN", value_name = "ADDR")]
        tls_listen: Option<SocketAddr>,
    },
    /// Work with doublure's TLS certificate authority.
    #[command(subcommand)]
    Tls(TlsCommand),
}

/// Subcommands of `doublure tls`.
#[derive(Debug, Subcommand)]
pub enum TlsCommand {
    /// Print the CA certificate (PEM) kept in --tls-ca-dir, making the CA
    /// there first if it has none; clients trust it, and `doublure --tls
    /// --tls-ca-dir DIR` serves certificates it signs.
    Ca {
        /// The directory that keeps the CA.
        #[arg(long, env = "DOUBLURE_TLS_CA_DIR", value_name = "DIR")]
        tls_ca_dir: PathBuf,
        /// Write the PEM to this file instead of printing it.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
}

/// Subcommands of `doublure fixtures`.
#[derive(Debug, Subcommand)]
pub enum FixturesCommand {
    /// Check a fixture directory without serving it: exit 0 when valid, 2
    /// with one line per problem otherwise.
    Validate {
        /// The fixture directory (holding logora/ and wcs/).
        dir: PathBuf,
    },
    /// Write a fixture directory: the built-in fixtures plus generated
    /// users (and w.c.s. forms). The same arguments always write the same
    /// bytes.
    Generate {
        #[command(flatten)]
        generate: Generate,
        /// Directory to write (created; files in it are replaced).
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
    },
    /// Write a fixture directory from a real Logora or w.c.s. instance,
    /// read through its API (checked, then put in place whole).
    #[command(subcommand)]
    Import(crate::import::ImportSource),
}

/// `println!` that ignores a closed standard output: `doublure … | head -1`
/// must end with the documented exit status, not a panic (101) when the
/// reader has gone.
macro_rules! outln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout().lock(), $($arg)*);
    }};
}

/// `eprintln!` that ignores a closed standard error, for the same reason.
macro_rules! errln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr().lock(), $($arg)*);
    }};
}

/// Parses the command line and runs the subcommand, or serves; the
/// binary's whole `main`.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Some(Command::Fixtures(FixturesCommand::Validate { dir })) => validate(&dir),
        Some(Command::Fixtures(FixturesCommand::Generate { generate, out })) => {
            generate_dir(&generate, &out)
        }
        Some(Command::Fixtures(FixturesCommand::Import(source))) => import(&source),
        Some(Command::Sign {
            url,
            orig,
            key,
            email,
            name_id,
            algo,
            fixtures,
        }) => sign(&url, &orig, key, email, name_id, &algo, fixtures),
        Some(Command::Verify(target)) => verify(&target),
        Some(Command::Tls(TlsCommand::Ca { tls_ca_dir, out })) => tls_ca(&tls_ca_dir, out),
        Some(Command::Healthcheck {
            url,
            listen,
            tls,
            tls_listen,
        }) => {
            let url = url.unwrap_or_else(|| {
                crate::healthcheck::default_url(listen, tls && tls_listen.is_none())
            });
            match runtime().block_on(crate::healthcheck::check(&url)) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    errln!("unhealthy: {e}");
                    ExitCode::FAILURE
                }
            }
        }
        None => serve(cli.serve),
    }
}

/// `doublure tls ca`: the CA kept in `dir`, printed or written to `out`.
fn tls_ca(dir: &std::path::Path, out: Option<PathBuf>) -> ExitCode {
    let pem = match crate::tls::ca_in_dir(dir) {
        Ok(pem) => pem,
        Err(e) => {
            errln!("{e}");
            return ExitCode::FAILURE;
        }
    };
    match out {
        None => {
            use std::io::Write as _;
            let _ = std::io::stdout().lock().write_all(pem.as_bytes());
            ExitCode::SUCCESS
        }
        Some(file) => match std::fs::write(&file, pem) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                errln!("--out {}: {e}", file.display());
                ExitCode::FAILURE
            }
        },
    }
}

fn runtime() -> tokio::runtime::Runtime {
    match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            errln!("doublure: cannot start the async runtime: {e}");
            std::process::exit(1);
        }
    }
}

/// `doublure sign`: the user parameter goes in before signing, so the
/// signature covers it.
fn sign(
    url: &str,
    orig: &str,
    key: Option<String>,
    email: Option<String>,
    name_id: Option<String>,
    algo: &str,
    fixtures: Option<std::path::PathBuf>,
) -> ExitCode {
    let key = match key {
        Some(k) => k,
        None => {
            let files = match fixtures {
                Some(dir) => match crate::data::read_dir(&dir) {
                    Ok(f) => f,
                    Err(p) => {
                        errln!("{p}");
                        return ExitCode::from(2);
                    }
                },
                None => crate::data::builtin(),
            };
            let found = match Data::load(&files) {
                Ok(d) => d.wcs.access(orig).map(|a| a.access_key.clone()),
                Err(problems) => {
                    errln!("{problems}");
                    return ExitCode::from(2);
                }
            };
            match found {
                Some(k) => k,
                None => {
                    errln!("doublure sign: no API access {orig:?} in the fixtures; pass --key");
                    return ExitCode::from(2);
                }
            }
        }
    };
    let url = crate::wcs::signature::with_user(url, email.as_deref(), name_id.as_deref());
    match crate::wcs::signature::sign_url(&url, orig, &key, algo, chrono::Utc::now(), None) {
        Ok(signed) => {
            outln!("{signed}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            errln!("doublure sign: {e}");
            ExitCode::from(2)
        }
    }
}

fn validate(dir: &std::path::Path) -> ExitCode {
    match crate::data::read_dir(dir).and_then(|files| Data::load(&files)) {
        Ok(_) => {
            outln!("{}: valid", dir.display());
            ExitCode::SUCCESS
        }
        Err(problems) => {
            errln!("{problems}");
            ExitCode::from(2)
        }
    }
}

/// A progress bar on standard error for `total` generated items; hidden
/// when standard error is not a terminal, so logs and CI output stay clean.
fn progress_bar(total: u64) -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::new(total);
    if let Ok(style) = indicatif::ProgressStyle::with_template(
        "generating {bar:40} {human_pos}/{human_len} items, {per_sec}, {eta} left",
    ) {
        bar.set_style(style);
    }
    bar
}

fn generate_dir(generate: &Generate, out: &std::path::Path) -> ExitCode {
    let bar = progress_bar(crate::generate::total(generate));
    let result = crate::data::write_generated(generate, out, &|n| bar.inc(n));
    bar.finish_and_clear();
    match result {
        Ok(()) => {
            outln!("{}: fixture directory written", out.display());
            ExitCode::SUCCESS
        }
        Err(e) => {
            errln!("doublure: {e}");
            ExitCode::FAILURE
        }
    }
}

/// `doublure fixtures import`: the summary on standard output, notes and
/// errors on standard error.
fn import(source: &crate::import::ImportSource) -> ExitCode {
    let bar = crate::import::progress_bar();
    // On SIGINT or SIGTERM the import is dropped, and its staging
    // directory with it: nothing is left behind.
    let result = runtime().block_on(async {
        tokio::select! {
            result = crate::import::run(source, &bar) => Some(result),
            () = crate::startup::shutdown_signal() => None,
        }
    });
    bar.finish_and_clear();
    let Some(result) = result else {
        eprintln!("doublure fixtures import: interrupted; nothing was written");
        return ExitCode::from(130);
    };
    match result {
        Ok(summary) => {
            for note in &summary.notes {
                eprintln!("note: {note}");
            }
            println!("{}", summary.text);
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("doublure fixtures import: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}

/// `doublure verify`: the report on standard output, errors on standard
/// error.
fn verify(target: &crate::verify::VerifyTarget) -> ExitCode {
    match runtime().block_on(crate::verify::run(target)) {
        Ok((report, code)) => {
            outln!("{report}");
            ExitCode::from(code)
        }
        Err(e) => {
            errln!("doublure verify: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}

fn serve(config: Config) -> ExitCode {
    if let Err(e) = init_tracing(&config) {
        errln!("doublure: {e}");
        return ExitCode::from(2);
    }
    runtime().block_on(async {
        let app = match Application::build(&config).await {
            Ok(app) => app,
            Err(e) => {
                errln!("doublure: {e}");
                return match e {
                    StartupError::Fixtures(_) | StartupError::Config(_) => ExitCode::from(2),
                    StartupError::Bind(..) => ExitCode::FAILURE,
                };
            }
        };
        match app.run_until_stopped(shutdown_signal()).await {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                errln!("doublure: server error: {e}");
                ExitCode::FAILURE
            }
        }
    })
}

fn init_tracing(config: &Config) -> Result<(), String> {
    let filter = tracing_subscriber::EnvFilter::try_new(&config.log_level)
        .map_err(|e| format!("--log-level {:?}: {e}", config.log_level))?;
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stdout());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(ansi);
    match config.log_format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().flatten_event(true).init(),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_command_line_definition_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
