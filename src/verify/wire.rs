//! What a probe sends and what comes back, and the one HTTP client that
//! sends it: no redirects followed, no retries (a busy instance must stop
//! verify, not be asked again), bounded timeouts.

use std::time::Duration;

use serde_json::Value;

/// One HTTP request, relative to a target's base URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub method: &'static str,
    /// Path and query, starting with `/`.
    pub path: String,
    pub headers: Vec<(&'static str, String)>,
    pub body: Option<Vec<u8>>,
}

impl Request {
    pub fn get(path: impl Into<String>) -> Self {
        Self {
            method: "GET",
            path: path.into(),
            headers: Vec::new(),
            body: None,
        }
    }

    pub fn post(path: impl Into<String>) -> Self {
        Self {
            method: "POST",
            ..Self::get(path)
        }
    }

    pub fn header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    /// A form body of `pairs`.
    pub fn form(mut self, pairs: &[(&str, &str)]) -> Self {
        let body = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(pairs)
            .finish();
        self.headers
            .push(("content-type", "application/x-www-form-urlencoded".into()));
        self.body = Some(body.into_bytes());
        self
    }

    /// A JSON body.
    pub fn json(mut self, value: &Value) -> Self {
        self.headers
            .push(("content-type", "application/json".into()));
        self.body = Some(value.to_string().into_bytes());
        self
    }

    /// Whether HTTP calls this request safe (RFC 9110 §9.2.1), or it is
    /// the token request every client makes to get a token.
    pub fn is_read(&self) -> bool {
        self.method == "GET" || (self.method == "POST" && self.path == "/oauth/token")
    }
}

/// An answer, read whole; header names in lower case.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Answer {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Answer {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> Option<Value> {
        serde_json::from_slice(&self.body).ok()
    }

    /// `200 application/json`, for a report.
    pub fn summary(&self) -> String {
        match self.header("content-type") {
            Some(t) => format!("{} {}", self.status, t.split(';').next().unwrap_or(t)),
            None => self.status.to_string(),
        }
    }
}

/// A server verify talks to: the real instance or an in-process copy.
#[derive(Debug, Clone)]
pub struct Target {
    base: String,
    client: reqwest::Client,
    /// Largest answer read: the importer's `--max-response-bytes` default,
    /// so that an instance sending without end runs no memory out.
    max_body: usize,
}

impl Target {
    /// A target at `base` (an http or https URL, no trailing slash
    /// needed).
    pub fn new(base: &str) -> Result<Self, String> {
        let parsed =
            reqwest::Url::parse(base.trim()).map_err(|e| format!("--url {base:?}: {e}"))?;
        if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
            return Err(format!(
                "--url {base:?} must be an http:// or https:// URL with a host"
            ));
        }
        let client = reqwest::Client::builder()
            .user_agent(concat!("doublure/", env!("CARGO_PKG_VERSION"), " (verify)"))
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(60))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| format!("cannot set up the HTTP client: {e}"))?;
        Ok(Self {
            base: base.trim().trim_end_matches('/').to_owned(),
            client,
            max_body: crate::import::Limits::default().max_response_bytes,
        })
    }

    /// The base URL, without a trailing slash.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// Sends `request`. The error names the cause only: the URL (which
    /// may carry a signature) is left out.
    pub async fn send(&self, request: &Request) -> Result<Answer, String> {
        let method =
            reqwest::Method::from_bytes(request.method.as_bytes()).map_err(|e| e.to_string())?;
        let mut builder = self
            .client
            .request(method, format!("{}{}", self.base, request.path));
        for (name, value) in &request.headers {
            builder = builder.header(*name, value);
        }
        if let Some(body) = &request.body {
            builder = builder.body(body.clone());
        }
        let response = builder.send().await.map_err(|e| cause(&e))?;
        let status = response.status().as_u16();
        let headers = response
            .headers()
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_ascii_lowercase(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect();
        let body = self.read_body(response).await?;
        Ok(Answer {
            status,
            headers,
            body,
        })
    }
}

impl Target {
    /// The body of `response`, read no further than `max_body` bytes.
    async fn read_body(&self, mut response: reqwest::Response) -> Result<Vec<u8>, String> {
        let too_large = || format!("the answer is larger than {} bytes", self.max_body);
        if response
            .content_length()
            .is_some_and(|length| length > self.max_body as u64)
        {
            return Err(too_large());
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| cause(&e))? {
            if body.len() + chunk.len() > self.max_body {
                return Err(too_large());
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }
}

/// The innermost cause of `error` ("Connection refused"): the outer ones
/// repeat the URL.
fn cause(error: &reqwest::Error) -> String {
    if error.is_timeout() {
        return "no answer in time".to_owned();
    }
    let mut cause: &dyn std::error::Error = error;
    while let Some(inner) = cause.source() {
        cause = inner;
    }
    cause.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_gets_and_the_token_request_are_reads() {
        assert!(Request::get("/api/v1/users").is_read());
        assert!(Request::post("/oauth/token").is_read());
        assert!(!Request::post("/oauth/revoke").is_read());
        assert!(!Request::post("/api/v1/users/x/anonymize").is_read());
    }

    #[test]
    fn a_url_without_a_host_or_of_another_scheme_is_refused() {
        assert!(Target::new("ftp://example.org").is_err());
        assert!(Target::new("not a url").is_err());
        assert_eq!(
            Target::new("https://example.org/").unwrap().base(),
            "https://example.org"
        );
    }

    /// A server on port 0 that answers every connection with `answer`.
    async fn answering(answer: &'static str) -> String {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                let mut buf = [0u8; 4096];
                let _ = socket.read(&mut buf).await;
                let _ = socket.write_all(answer.as_bytes()).await;
            }
        });
        url
    }

    #[tokio::test]
    async fn an_answer_larger_than_the_bound_is_read_no_further() {
        let chunked = "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n\
                       8\r\n01234567\r\n8\r\n89abcdef\r\n0\r\n\r\n";
        let sized = "HTTP/1.1 200 OK\r\ncontent-length: 16\r\nconnection: close\r\n\r\n\
                     0123456789abcdef";
        for answer in [chunked, sized] {
            let mut target = Target::new(&answering(answer).await).unwrap();
            target.max_body = 16;
            assert_eq!(
                target.send(&Request::get("/")).await.unwrap().body,
                b"0123456789abcdef"
            );
            target.max_body = 10;
            assert_eq!(
                target.send(&Request::get("/")).await.unwrap_err(),
                "the answer is larger than 10 bytes"
            );
        }
    }
}
