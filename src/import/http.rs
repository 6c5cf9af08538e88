//! The importer's HTTP client: rustls trusting compiled-in roots (the
//! container image has no CA files) and the system's (a company's own CA,
//! `SSL_CERT_FILE`), bounded
//! timeouts, a few retries when the server says it is busy, no redirects
//! (a redirect to a login page is a wrong `--url`, said as such), and every
//! message built from an answer stripped of the secrets it was given.

use std::time::Duration;

use reqwest::header::HeaderMap;
use serde_json::Value;

use super::ImportError;

/// Attempts per request when the server answers 429, 502, 503 or 504.
const ATTEMPTS: u32 = 4;
/// The longest `Retry-After` honoured, in seconds.
const MAX_RETRY_AFTER: u64 = 30;

/// A server's answer, read whole.
#[derive(Debug)]
pub(crate) struct Reply {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Reply {
    /// A header's value as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// A client for one server.
#[derive(Debug, Clone)]
pub(crate) struct Http {
    client: reqwest::Client,
    /// The server's base URL, without a trailing slash.
    base: String,
    host: String,
    /// Redacted from every message (never shown, even if a server echoes
    /// one back).
    secrets: Vec<String>,
    /// `--max-response-bytes`.
    max_body: usize,
}

impl Http {
    /// A client for the server at `url` that never lets `secrets` into a
    /// message.
    pub fn new(url: &str, secrets: Vec<String>, max_body: usize) -> Result<Self, ImportError> {
        let parsed = reqwest::Url::parse(url.trim()).map_err(|e| {
            ImportError::Usage(format!(
                "--url {url:?} is not a URL like https://host.example.org ({e})"
            ))
        })?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(ImportError::Usage(format!(
                "--url {url:?} must start with http:// or https://"
            )));
        }
        let host = parsed.host_str().unwrap_or_default().to_owned();
        let mut base = parsed.clone();
        base.set_query(None);
        base.set_fragment(None);
        let client = reqwest::Client::builder()
            .user_agent(concat!(
                "doublure/",
                env!("CARGO_PKG_VERSION"),
                " (fixtures import)"
            ))
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(120))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| ImportError::Io(format!("cannot set up the HTTP client: {e}")))?;
        Ok(Self {
            client,
            base: base.as_str().trim_end_matches('/').to_owned(),
            host,
            // A secret of a few characters is guessed faster than read,
            // and redacting it would garble every message.
            secrets: secrets.into_iter().filter(|s| s.len() >= 4).collect(),
            max_body,
        })
    }

    /// The absolute URL of `path_and_query` (which starts with `/`).
    pub fn url(&self, path_and_query: &str) -> String {
        format!("{}{path_and_query}", self.base)
    }

    /// The base URL, as given (without a trailing slash).
    pub fn base(&self) -> &str {
        &self.base
    }

    /// The server's host name.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// `text` with every secret replaced by `[redacted]`.
    pub fn redact(&self, text: &str) -> String {
        let mut out = text.to_owned();
        for secret in &self.secrets {
            out = out.replace(secret.as_str(), "[redacted]");
        }
        out
    }

    /// Sends the request `build` makes (made again for each attempt, so a
    /// signed URL gets a fresh timestamp and nonce), and reads the answer.
    /// A busy server (429, 502, 503, 504) is asked again a few times, after
    /// its `Retry-After` or a growing pause. `what` names the request in
    /// errors.
    pub async fn send(
        &self,
        what: &str,
        build: impl Fn(&reqwest::Client) -> reqwest::RequestBuilder,
    ) -> Result<Reply, ImportError> {
        let mut attempt = 1;
        loop {
            let response = build(&self.client)
                .send()
                .await
                .map_err(|e| self.unreachable(what, &e))?;
            let status = response.status().as_u16();
            let headers = response.headers().clone();
            if matches!(status, 429 | 502 | 503 | 504) && attempt < ATTEMPTS {
                tokio::time::sleep(retry_delay(&headers, attempt)).await;
                attempt += 1;
                continue;
            }
            let body = self.read_body(what, response).await?;
            return Ok(Reply {
                status,
                headers,
                body,
            });
        }
    }

    /// The body of `response`, read as it arrives and no further than
    /// `--max-response-bytes`: an answer that never ends is stopped at the
    /// bound, not held whole first.
    async fn read_body(
        &self,
        what: &str,
        mut response: reqwest::Response,
    ) -> Result<Vec<u8>, ImportError> {
        let too_large = || ImportError::Limit {
            what: what.to_owned(),
            detail: format!(
                "the answer is larger than --max-response-bytes ({} bytes); raise it if the \
                 server's answers are that large",
                self.max_body
            ),
        };
        if response
            .content_length()
            .is_some_and(|length| length > self.max_body as u64)
        {
            return Err(too_large());
        }
        let mut body = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| self.unreachable(what, &e))?
        {
            if body.len() + chunk.len() > self.max_body {
                return Err(too_large());
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }

    fn unreachable(&self, what: &str, error: &reqwest::Error) -> ImportError {
        let detail = if error.is_timeout() {
            "no answer in time (10 s to connect, 120 s for an answer)".to_owned()
        } else {
            // The innermost cause is the one a person can act on
            // ("Connection refused", "invalid peer certificate: …"); the
            // outer ones repeat the URL, signature included.
            let mut cause: &dyn std::error::Error = error;
            while let Some(inner) = cause.source() {
                cause = inner;
            }
            let detail = self.redact(&cause.to_string());
            if detail.contains("UnknownIssuer") {
                format!(
                    "{detail} (a private CA or a company proxy? Name its certificate in \
                     SSL_CERT_FILE)"
                )
            } else {
                detail
            }
        };
        ImportError::Unreachable {
            what: what.to_owned(),
            detail,
        }
    }

    /// `reply` as JSON when its status is a success; otherwise the error
    /// it stands for, with the server's own message. `hint` says what to
    /// check when the credentials are refused.
    pub fn json(
        &self,
        what: &str,
        reply: &Reply,
        hint: &'static str,
    ) -> Result<Value, ImportError> {
        let message = || self.redact(&server_message(&reply.body));
        match reply.status {
            200..=299 => {}
            401 | 403 => {
                return Err(ImportError::Refused {
                    what: what.to_owned(),
                    status: reply.status,
                    message: message(),
                    hint,
                });
            }
            300..=399 => {
                return Err(ImportError::Status {
                    what: what.to_owned(),
                    status: reply.status,
                    message: format!(
                        "a redirect to {}: is --url the site's base URL?",
                        self.redact(reply.header("location").unwrap_or("nowhere"))
                    ),
                });
            }
            status => {
                return Err(ImportError::Status {
                    what: what.to_owned(),
                    status,
                    message: message(),
                });
            }
        }
        serde_json::from_slice(&reply.body).map_err(|e| ImportError::Malformed {
            what: what.to_owned(),
            detail: format!(
                "the body is not JSON ({e}): {}",
                self.redact(&excerpt(&reply.body))
            ),
        })
    }
}

/// How long to wait before attempt `attempt + 1`.
fn retry_delay(headers: &HeaderMap, attempt: u32) -> Duration {
    let asked = headers
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    match asked {
        Some(seconds) => Duration::from_secs(seconds.min(MAX_RETRY_AFTER)),
        None => Duration::from_millis(500 * u64::from(attempt)),
    }
}

/// The message a server put in an error body: Doorkeeper's
/// `error_description`, w.c.s.'s `err_desc`, Logora's `error`, …; else the
/// start of the body.
pub(crate) fn server_message(body: &[u8]) -> String {
    if let Ok(Value::Object(object)) = serde_json::from_slice::<Value>(body) {
        for key in [
            "error_description",
            "err_desc",
            "error",
            "message",
            "detail",
            "err_code",
        ] {
            if let Some(text) = object.get(key).and_then(Value::as_str)
                && !text.is_empty()
            {
                return text.to_owned();
            }
        }
    }
    excerpt(body)
}

/// The start of a body, for a message.
fn excerpt(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    if text.is_empty() {
        return "(an empty body)".to_owned();
    }
    if text.starts_with('<') {
        return "(an HTML page, not the API's JSON)".to_owned();
    }
    let mut short: String = text.chars().take(200).collect();
    if short.len() < text.len() {
        short.push('…');
    }
    short
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_servers_own_message_is_read_from_each_apis_error_body() {
        assert_eq!(
            server_message(
                br#"{"error":"invalid_client","error_description":"Client authentication failed"}"#
            ),
            "Client authentication failed"
        );
        assert_eq!(
            server_message(br#"{"err": 1, "err_class": "Access denied", "err_code": "access-denied", "err_desc": "Invalid signature."}"#),
            "Invalid signature."
        );
        assert_eq!(
            server_message(br#"{"success":false,"error":"Invalid API key"}"#),
            "Invalid API key"
        );
        assert_eq!(
            server_message(b"<html><body>Login</body></html>"),
            "(an HTML page, not the API's JSON)"
        );
        assert_eq!(server_message(b""), "(an empty body)");
    }

    #[test]
    fn secrets_are_redacted_from_messages() {
        let http = Http::new(
            "https://h.example.org/",
            vec!["s3cr3t-value".into()],
            1 << 20,
        )
        .unwrap();
        assert_eq!(
            http.redact("bad secret s3cr3t-value given"),
            "bad secret [redacted] given"
        );
        assert_eq!(http.url("/api/users/"), "https://h.example.org/api/users/");
    }

    #[test]
    fn a_url_without_http_is_a_usage_error() {
        let err = Http::new("app.logora.fr", vec![], 1 << 20).unwrap_err();
        assert_eq!(err.exit_code(), 2);
        assert!(
            err.to_string()
                .starts_with("--url \"app.logora.fr\" is not a URL")
        );
        let err = Http::new("ftp://app.logora.fr", vec![], 1 << 20).unwrap_err();
        assert_eq!(
            err.to_string(),
            "--url \"ftp://app.logora.fr\" must start with http:// or https://"
        );
    }

    #[test]
    fn a_retry_waits_for_retry_after_up_to_thirty_seconds() {
        let mut headers = HeaderMap::new();
        assert_eq!(retry_delay(&headers, 2), Duration::from_millis(1000));
        headers.insert(reqwest::header::RETRY_AFTER, "3".parse().unwrap());
        assert_eq!(retry_delay(&headers, 1), Duration::from_secs(3));
        headers.insert(reqwest::header::RETRY_AFTER, "3600".parse().unwrap());
        assert_eq!(retry_delay(&headers, 1), Duration::from_secs(30));
    }
}
