//! `doublure fixtures import wcs`: the user directory (`/api/users/`, read
//! in one call: upstream's directory has `limit` but no offset), then for
//! each user `/api/users/<id>/forms?full=on&include-drafts=on` and
//! `/api/users/<id>/drafts?full=on`, a few users at a time. Every URL is
//! signed as w.c.s.'s own signer does it (orig, algo, timestamp, nonce,
//! signature) with the API access given, and carries no user: the access
//! reads for itself, so no listing is filtered by a caller's roles.
//!
//! Everything written is derived from what the API shows: users from the
//! directory; roles from users' `user_roles` and forms' concerned roles;
//! categories, form definitions and their statuses from the forms; the
//! forms and drafts themselves; and one API access with the orig and key
//! given. What the API never shows (passwords, inactive flags, statuses no
//! form is in, `related` objects, …) cannot be recovered: see
//! docs/fidelity.md.

mod convert;
mod derive;
mod fetch;
mod items;
#[cfg(test)]
mod tests;

pub use derive::derive;

use indicatif::ProgressBar;
use serde_json::Value;

use super::http::Http;
use super::output::Staging;
use super::{ImportError, Summary, WcsArgs};

/// One user's listings, as served.
#[derive(Debug, Clone)]
pub struct Listings {
    pub user_id: i64,
    pub forms_what: String,
    pub forms: Vec<Value>,
    pub drafts_what: String,
    pub drafts: Vec<Value>,
}

/// What was read from a w.c.s. site.
#[derive(Debug, Clone)]
pub struct Fetched {
    pub base: String,
    pub directory_what: String,
    pub directory: Vec<Value>,
    pub listings: Vec<Listings>,
    pub notes: Vec<String>,
}

/// Runs `doublure fixtures import wcs`.
pub async fn run(args: &WcsArgs, progress: &ProgressBar) -> Result<Summary, ImportError> {
    let http = Http::new(
        &args.url,
        vec![args.key.expose().to_owned()],
        args.output.limits.max_response_bytes,
    )?;
    let staging = Staging::new(&args.output.out, "wcs")?;
    let fetched = fetch::fetch(http, &args.orig, args.key.expose(), progress).await?;
    let derived = derive(&fetched, args)?;
    staging.commit(&derived.files)?;
    let out = args.output.out.display().to_string();
    let out = out.trim_end_matches('/');
    let c = &derived.counts;
    let mut notes = fetched.notes.clone();
    notes.extend(derived.notes);
    notes.push(format!(
        "{out}/wcs/api_accesses.json holds the key given: keep the directory private, \
         or change the key there (doublure accepts any)"
    ));
    Ok(Summary {
        text: format!(
            "{out}/wcs: {} users, {} forms and {} drafts of {} form definitions, {} categories, \
             {} roles from {}, API access {}{}",
            c.users,
            c.forms,
            c.drafts,
            c.formdefs,
            c.categories,
            c.roles,
            fetched.base,
            args.orig,
            if args.output.anonymize {
                ", anonymized"
            } else {
                ""
            }
        ),
        notes,
    })
}
