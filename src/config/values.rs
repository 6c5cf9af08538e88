//! The value types of the options, and the parsers of durations and sizes.

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
