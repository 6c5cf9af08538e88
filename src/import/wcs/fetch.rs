//! The requests of the import: each URL signed as w.c.s.'s own signer does
//! it, the directory read in one call, then each user's forms and drafts, a
//! few users at a time.

use std::sync::Arc;

use indicatif::ProgressBar;
use serde_json::Value;

use super::items::Item;
use super::{Fetched, Listings};
use crate::import::http::{Http, server_message};
use crate::import::{ImportError, show_total};

/// Users whose forms are read at the same time.
const CONCURRENCY: usize = 4;
const KEY_HINT: &str =
    "check --orig and --key, and that this API access may list users (one without roles may)";

/// Signs and sends GET requests.
#[derive(Debug)]
struct Signer {
    http: Http,
    orig: String,
    key: String,
}

impl Signer {
    /// The JSON answer to a signed GET of `path_and_query`, `None` for a
    /// 404; with the request's description for messages.
    async fn get(&self, path_and_query: &str) -> Result<(String, Option<Value>), ImportError> {
        let url = self.http.url(path_and_query);
        let what = format!("GET {url}");
        let reply = self
            .http
            .send(&what, |client| {
                // Signed at each attempt: a retry needs a fresh nonce.
                let signed = crate::wcs::signature::sign_url(
                    &url,
                    &self.orig,
                    &self.key,
                    "sha256",
                    chrono::Utc::now(),
                    None,
                )
                .unwrap_or_else(|_| url.clone());
                client.get(signed)
            })
            .await?;
        if reply.status == 404 {
            return Ok((what, None));
        }
        let body = self.http.json(&what, &reply, KEY_HINT)?;
        // w.c.s. answers some refusals with HTTP 200 and `err: 1`.
        if body.get("err").and_then(Value::as_i64).unwrap_or(0) != 0 {
            return Err(ImportError::Refused {
                what,
                status: reply.status,
                message: self
                    .http
                    .redact(&server_message(body.to_string().as_bytes())),
                hint: KEY_HINT,
            });
        }
        Ok((what, Some(body)))
    }
}

/// The `data` array of a w.c.s. answer.
fn data_array(what: &str, body: &Value) -> Result<Vec<Value>, ImportError> {
    match body.get("data") {
        Some(Value::Array(items)) => Ok(items.clone()),
        _ => Err(ImportError::Malformed {
            what: what.to_owned(),
            detail: "expected {\"err\": 0, \"data\": [items…]}".to_owned(),
        }),
    }
}

/// Reads the directory, then each user's forms and drafts.
pub(super) async fn fetch(
    http: Http,
    orig: &str,
    key: &str,
    progress: &ProgressBar,
) -> Result<Fetched, ImportError> {
    let base = http.base().to_owned();
    let signer = Arc::new(Signer {
        http,
        orig: orig.to_owned(),
        key: key.to_owned(),
    });
    let (directory_what, body) = signer.get("/api/users/").await?;
    let Some(body) = body else {
        return Err(ImportError::Status {
            what: directory_what,
            status: 404,
            message: "no user directory here: is --url the w.c.s. site's base URL?".to_owned(),
        });
    };
    let directory = data_array(&directory_what, &body)?;
    let mut ids = Vec::with_capacity(directory.len());
    for (n, item) in directory.iter().enumerate() {
        ids.push(Item::new(&directory_what, n + 1, item, "id")?.int(&["id", "user_id"])?);
    }
    show_total(progress, ids.len() as u64, "w.c.s. users");
    let mut results: Vec<Option<Listings>> = vec![None; ids.len()];
    let mut notes = Vec::new();
    let mut tasks = tokio::task::JoinSet::new();
    let mut next = 0;
    while next < ids.len() || !tasks.is_empty() {
        while next < ids.len() && tasks.len() < CONCURRENCY {
            let (signer, id, index) = (signer.clone(), ids[next], next);
            tasks.spawn(async move { (index, listings(&signer, id).await) });
            next += 1;
        }
        let Some(done) = tasks.join_next().await else {
            break;
        };
        let (index, result) =
            done.map_err(|e| ImportError::Io(format!("a download stopped: {e}")))?;
        match result? {
            Some(found) => results[index] = Some(found),
            None => notes.push(format!(
                "user {} is in the directory but its forms answered 404 (deleted during the \
                 import?): written without forms",
                ids[index]
            )),
        }
        progress.inc(1);
    }
    Ok(Fetched {
        base,
        directory_what,
        directory,
        listings: results.into_iter().flatten().collect(),
        notes,
    })
}

/// One user's forms and drafts; `None` when the user is gone.
async fn listings(signer: &Signer, user_id: i64) -> Result<Option<Listings>, ImportError> {
    let (forms_what, forms) = signer
        .get(&format!(
            "/api/users/{user_id}/forms?full=on&include-drafts=on"
        ))
        .await?;
    let Some(forms) = forms else {
        return Ok(None);
    };
    let forms = data_array(&forms_what, &forms)?;
    let (drafts_what, drafts) = signer
        .get(&format!("/api/users/{user_id}/drafts?full=on"))
        .await?;
    let drafts = match drafts {
        Some(body) => data_array(&drafts_what, &body)?,
        None => Vec::new(),
    };
    Ok(Some(Listings {
        user_id,
        forms_what,
        forms,
        drafts_what,
        drafts,
    }))
}
