//! [`Remote`]: the methods of [`crate::Doublure`] as calls to a running
//! doublure's control plane over HTTP.

use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde_json::{Value, json};

use crate::{Error, FaultRule, JournalEntry, JournalFilter, SignAs};

/// A doublure reached over HTTP (a container's, or any running one): the
/// methods of [`crate::Doublure`], each one call to the control plane.
#[derive(Clone)]
pub struct Remote {
    url: String,
    root: String,
    name: Option<String>,
    admin_token: Option<String>,
    client: Client<HttpConnector, Full<Bytes>>,
}

/// Says whether there is an admin token, never which.
impl std::fmt::Debug for Remote {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Remote")
            .field("url", &self.url)
            .field("name", &self.name)
            .field(
                "admin_token",
                &self.admin_token.as_ref().map(|_| "<redacted>"),
            )
            .finish()
    }
}

impl Remote {
    /// A handle on the doublure at `url` (no call is made).
    pub fn new(url: &str, admin_token: Option<String>) -> Self {
        let url = url.trim_end_matches('/').to_owned();
        Self {
            root: url.clone(),
            url,
            name: None,
            admin_token,
            client: Client::builder(TokioExecutor::new()).build_http(),
        }
    }

    /// The base URL of this handle's namespace.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// A handle on namespace `name` of the same server, at
    /// `url()/__ns/{name}` (the server makes it on its first call).
    pub fn namespace(&self, name: &str) -> Result<Remote, Error> {
        if self.name.is_some() {
            return Err(Error(format!(
                "namespaces do not nest: call namespace({name:?}) on the server's handle"
            )));
        }
        let valid = (1..=64).contains(&name.len())
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
            && name != "."
            && name != "..";
        if !valid {
            return Err(Error(format!(
                "namespace name {name:?}: use 1 to 64 characters among A-Z a-z 0-9 . _ - \
                 (and not '.' or '..')"
            )));
        }
        Ok(Remote {
            url: format!("{}/__ns/{name}", self.root),
            name: Some(name.to_owned()),
            ..self.clone()
        })
    }

    /// Back to the loaded data (`POST /__doublure/reset`).
    pub async fn reset(&self) -> Result<(), Error> {
        self.control("POST", "reset", None).await.map(drop)
    }

    /// The emulated time.
    pub async fn now(&self) -> Result<DateTime<Utc>, Error> {
        let clock = self.control("GET", "clock", None).await?;
        clock["now"]
            .as_str()
            .and_then(|now| now.parse().ok())
            .ok_or_else(|| Error(format!("the clock answered {clock}")))
    }

    /// Sets the emulated time, standing still or running from there.
    pub async fn set_clock(&self, now: DateTime<Utc>, frozen: bool) -> Result<(), Error> {
        let body = json!({"now": now.to_rfc3339(), "frozen": frozen});
        self.control("PUT", "clock", Some(body)).await.map(drop)
    }

    /// Moves the emulated time: token expiry and signature windows follow.
    pub async fn advance(&self, by: TimeDelta) -> Result<(), Error> {
        let seconds = by.num_milliseconds() as f64 / 1000.0;
        self.control("POST", "clock/advance", Some(json!({"seconds": seconds})))
            .await
            .map(drop)
    }

    /// A Logora access token for `client_id` with `scope`.
    pub async fn token(&self, client_id: &str, scope: &str) -> Result<String, Error> {
        let body = json!({"client_id": client_id, "scope": scope});
        let answer = self.control("POST", "logora/tokens", Some(body)).await?;
        answer["access_token"]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| Error("no access_token in the token answer".to_owned()))
    }

    /// `url` (or a path, made absolute on [`Remote::url`]) signed for
    /// w.c.s. by `orig`, acting as `user`, at the emulated time.
    pub async fn sign(&self, url: &str, orig: &str, user: SignAs<'_>) -> Result<String, Error> {
        let url = if url.starts_with('/') {
            format!("{}{url}", self.url)
        } else {
            url.to_owned()
        };
        let mut body = json!({"url": url, "orig": orig});
        match user {
            SignAs::Nobody => {}
            SignAs::Email(email) => body["email"] = json!(email),
            SignAs::NameId(name_id) => body["name_id"] = json!(name_id),
        }
        let answer = self.control("POST", "wcs/sign", Some(body)).await?;
        answer["url"]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| Error("no url in the signing answer".to_owned()))
    }

    /// Adds a fault rule; returns its id.
    pub async fn fault(&self, rule: FaultRule) -> Result<u64, Error> {
        let body = serde_json::to_value(rule).map_err(|e| Error(e.to_string()))?;
        let answer = self.control("POST", "faults", Some(body)).await?;
        answer["id"]
            .as_u64()
            .ok_or_else(|| Error(format!("the fault answer has no id: {answer}")))
    }

    /// The journal's entries matching `filter`, oldest first.
    pub async fn requests(&self, filter: &JournalFilter) -> Result<Vec<JournalEntry>, Error> {
        let mut query = form_urlencoded::Serializer::new(String::new());
        let mut pair = |key: &str, value: Option<String>| {
            if let Some(value) = value {
                query.append_pair(key, &value);
            }
        };
        pair("path", filter.path.clone());
        pair("method", filter.method.clone());
        pair("status", filter.status.map(|s| s.to_string()));
        pair("since", filter.since.map(|s| s.to_rfc3339()));
        pair("after", filter.after.map(|a| a.to_string()));
        pair("limit", filter.limit.map(|l| l.to_string()));
        let query = query.finish();
        let path = if query.is_empty() {
            "requests".to_owned()
        } else {
            format!("requests?{query}")
        };
        let answer = self.control("GET", &path, None).await?;
        serde_json::from_value(answer["requests"].clone())
            .map_err(|e| Error(format!("the journal's answer does not read: {e}")))
    }

    /// Drops this namespace and its state; false when there was none.
    pub async fn drop_namespace(&self) -> Result<bool, Error> {
        let Some(name) = &self.name else {
            return Err(Error(
                "drop_namespace() is for a namespace's handle".to_owned(),
            ));
        };
        let url = format!("{}/__doublure/namespaces/{name}", self.root);
        match self.call("DELETE", &url, None).await {
            Ok(_) => Ok(true),
            Err((Some(404), _)) => Ok(false),
            Err((_, why)) => Err(why),
        }
    }

    /// `/__doublure/{path}` of this handle's namespace, its JSON answer.
    pub async fn control(
        &self,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> Result<Value, Error> {
        let url = format!("{}/__doublure/{}", self.url, path.trim_start_matches('/'));
        self.call(method, &url, body).await.map_err(|(_, why)| why)
    }

    pub(super) async fn wait_healthy(&self, within: Duration) -> Result<(), Error> {
        let url = format!("{}/__doublure/health", self.root);
        let deadline = tokio::time::Instant::now() + within;
        loop {
            match self.call("GET", &url, None).await {
                Ok(answer) if answer["status"] == "ok" => return Ok(()),
                outcome if tokio::time::Instant::now() >= deadline => {
                    let why = match outcome {
                        Ok(answer) => answer.to_string(),
                        Err((_, why)) => why.0,
                    };
                    return Err(Error(format!(
                        "doublure at {} is not healthy after {} s: {why}",
                        self.root,
                        within.as_secs()
                    )));
                }
                _ => tokio::time::sleep(Duration::from_millis(50)).await,
            }
        }
    }

    async fn call(
        &self,
        method: &str,
        url: &str,
        body: Option<Value>,
    ) -> Result<Value, (Option<u16>, Error)> {
        let mut request = hyper::Request::builder()
            .method(method)
            .uri(url)
            .header("accept", "application/json");
        if body.is_some() {
            request = request.header("content-type", "application/json");
        }
        if let Some(token) = &self.admin_token {
            request = request.header("authorization", format!("Bearer {token}"));
        }
        let bytes = body.map(|b| b.to_string()).unwrap_or_default();
        let request = request
            .body(Full::new(Bytes::from(bytes)))
            .map_err(|e| (None, Error(format!("{method} {url}: {e}"))))?;
        let response = tokio::time::timeout(Duration::from_secs(30), self.client.request(request))
            .await
            .map_err(|_| {
                (
                    None,
                    Error(format!("{method} {url}: no answer within 30 s")),
                )
            })?
            .map_err(|e| (None, Error(format!("cannot reach doublure at {url}: {e}"))))?;
        let status = response.status();
        let raw = response
            .into_body()
            .collect()
            .await
            .map_err(|e| (None, Error(format!("{method} {url}: {e}"))))?
            .to_bytes();
        let answer: Value = if raw.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&raw)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&raw).into_owned()))
        };
        if status.is_success() {
            Ok(answer)
        } else {
            let message = answer["error"]
                .as_str()
                .map_or_else(|| answer.to_string(), str::to_owned);
            Err((
                Some(status.as_u16()),
                Error(format!(
                    "{method} {url}: HTTP {}: {message}",
                    status.as_u16()
                )),
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Remote;

    #[test]
    fn the_debug_text_of_a_handle_never_holds_the_admin_token() {
        let remote = Remote::new("http://localhost:1", Some("s3cret-token".into()));
        let shown = format!("{remote:?}");
        assert!(!shown.contains("s3cret-token"), "{shown}");
        assert!(shown.contains("<redacted>"), "{shown}");
    }
}
