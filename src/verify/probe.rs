//! A probe: one check of the battery, with what it sends, why that is
//! safe on production, and what it learns for the probes after it (a
//! token, a user's id). The batteries are in `logora` and `wcs`.

use std::collections::HashMap;

use super::wire::{Answer, Request};

/// What probes build their requests from, one per target: the
/// credentials given, and what earlier answers of that target taught.
#[derive(Debug, Clone, Default)]
pub struct Ctx {
    /// Given on the command line: `client_id`, `client_secret`, `orig`,
    /// `key`, `email`, `name_id`.
    pub given: HashMap<&'static str, String>,
    /// Learnt from earlier answers: `token`, `public_token`, `user_id`, …
    pub learnt: HashMap<&'static str, String>,
    /// The nonce of this run's replay probe, the same for every target.
    pub nonce: String,
}

impl Ctx {
    /// A value given or learnt, or why the probe cannot be built.
    pub fn need(&self, name: &'static str) -> Result<&str, String> {
        self.learnt
            .get(name)
            .or_else(|| self.given.get(name))
            .map(String::as_str)
            .filter(|v| !v.is_empty())
            .ok_or_else(|| match name {
                "token" => "needs the token an earlier probe did not get".to_owned(),
                "public_token" => {
                    "needs the scope=public token an earlier probe did not get".to_owned()
                }
                "user_nameid" | "name_id" => {
                    "needs the user's NameID (none given or found)".to_owned()
                }
                "user_email" | "email" => {
                    "needs the user's e-mail (none given or found)".to_owned()
                }
                "user_id" => "needs a user id (none found in the directory)".to_owned(),
                other => format!("needs --{} (not given)", other.replace('_', "-")),
            })
    }

    pub fn get(&self, name: &'static str) -> Option<&str> {
        self.need(name).ok()
    }
}

/// The requests of a probe (all sent; the last answer is compared), or
/// why it cannot be built.
pub type Build = fn(&Ctx) -> Result<Vec<Request>, String>;

/// Reads what the probes after this one need from its answer.
pub type Learn = fn(&mut Ctx, &Answer);

/// One probe of a battery.
#[derive(Debug, Clone, Copy)]
pub struct Probe {
    /// Stable name: `token.valid`, `users.page-2`, …
    pub id: &'static str,
    /// What it sends, for people (docs/verify.md lists the same).
    pub sends: &'static str,
    pub build: Build,
    pub learn: Option<Learn>,
    /// JSON keys whose values change from call to call (a token, a time):
    /// compared by type only.
    pub volatile: &'static [&'static str],
}

impl Probe {
    pub const fn new(id: &'static str, sends: &'static str, build: Build) -> Self {
        Self {
            id,
            sends,
            build,
            learn: None,
            volatile: &[],
        }
    }

    pub const fn learn(mut self, learn: Learn) -> Self {
        self.learn = Some(learn);
        self
    }

    pub const fn volatile(mut self, keys: &'static [&'static str]) -> Self {
        self.volatile = keys;
        self
    }
}

/// The requests of `probe` for `ctx`, and whether any of them writes
/// (anything but a GET or the token request).
pub fn requests(probe: &Probe, ctx: &Ctx) -> Result<(Vec<Request>, bool), String> {
    let requests = (probe.build)(ctx)?;
    let writes = requests.iter().any(|r| !r.is_read());
    Ok((requests, writes))
}
