//! The `doublure` binary: serves the emulated APIs, or runs one of the
//! subcommands (`fixtures validate`, `fixtures generate`, `fixtures
//! import`, `sign`, `healthcheck`).

use std::process::ExitCode;

use clap::Parser;
use doublure::cli::{Cli, Command, FixturesCommand};
use doublure::config::{Config, Generate, LogFormat};
use doublure::data::Data;
use doublure::startup::{Application, StartupError, shutdown_signal};

/// mimalloc rather than the C library's allocator: measured in
/// docs/performance.md, on the hot routes and with a million users, and
/// above all in the static musl build, whose own allocator is slow.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

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

fn main() -> ExitCode {
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
        Some(Command::Healthcheck { url, listen }) => {
            let url = url.unwrap_or_else(|| doublure::healthcheck::default_url(listen));
            match runtime().block_on(doublure::healthcheck::check(&url)) {
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
                Some(dir) => match doublure::data::read_dir(&dir) {
                    Ok(f) => f,
                    Err(p) => {
                        errln!("{p}");
                        return ExitCode::from(2);
                    }
                },
                None => doublure::data::builtin(),
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
    let url = doublure::wcs::signature::with_user(url, email.as_deref(), name_id.as_deref());
    match doublure::wcs::signature::sign_url(&url, orig, &key, algo, chrono::Utc::now(), None) {
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
    match doublure::data::read_dir(dir).and_then(|files| Data::load(&files)) {
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
    let bar = progress_bar(doublure::generate::total(generate));
    let result = doublure::data::write_generated(generate, out, &|n| bar.inc(n));
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
fn import(source: &doublure::import::ImportSource) -> ExitCode {
    let bar = doublure::import::progress_bar();
    let result = runtime().block_on(doublure::import::run(source, &bar));
    bar.finish_and_clear();
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
