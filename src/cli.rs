//! The `doublure` command line: serving options (`crate::config`) and the
//! subcommands (`fixtures validate|generate|import`, `sign`,
//! `healthcheck`).

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::config::{Config, Generate};

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_command_line_definition_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
