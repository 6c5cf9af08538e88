//! doublure's image as a Testcontainers module (the `testcontainers`
//! feature): [`DoublureImage`] implements `testcontainers::Image`, and
//! [`DoublureContainer`] starts it and hands back a [`Remote`], a handle
//! with the methods of [`crate::Doublure`] that reaches the container's
//! control plane (`/__doublure/…`) over HTTP.
//!
//! ```no_run
//! # #[tokio::main]
//! # async fn main() -> Result<(), doublure::Error> {
//! use doublure::testcontainers::{DoublureContainer, DoublureImage};
//!
//! let container = DoublureContainer::start(DoublureImage::default()).await?;
//! let mine = container.namespace("test_login")?;
//! let token = mine.token("API_KEY", "public").await?;
//! # Ok(())
//! # }
//! ```
//!
//! The image is `ghcr.io/doublure/doublure` at this crate's version, never
//! `latest`; `DOUBLURE_IMAGE` (`name:tag`) or [`DoublureImage::with_image`]
//! names another. Settings reach the server as the binary's own
//! `DOUBLURE_*` variables. Readiness is the server's "listening" log line,
//! then its health route answering from the host (the image has no shell
//! to run a check inside). The container is removed when the
//! [`DoublureContainer`] is dropped, also when a test panics.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use ::testcontainers::core::{ContainerPort, WaitFor};
use ::testcontainers::runners::AsyncRunner;
use ::testcontainers::{ContainerAsync, CopyToContainer, Image};
use chrono::{DateTime, TimeDelta, Utc};
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde_json::{Value, json};

use crate::{Error, FaultRule, JournalEntry, JournalFilter, SignAs};

/// The `testcontainers` crate this module is built on, for its runner,
/// its `bollard` client and the rest, at the same version.
pub use ::testcontainers;

/// The image's repository, as released.
pub const IMAGE: &str = "ghcr.io/doublure/doublure";
/// The port the image listens on.
pub const PORT: u16 = 8080;
/// Where [`DoublureImage::with_fixtures`] puts the fixtures.
const FIXTURES_IN_CONTAINER: &str = "/fixtures";

/// doublure's image: name, tag, readiness, environment and fixtures.
#[derive(Clone)]
pub struct DoublureImage {
    name: String,
    tag: String,
    env: BTreeMap<String, String>,
    copies: Vec<CopyToContainer>,
    admin_token: Option<String>,
}

/// Names the variables, never their values: one holds the admin token.
impl std::fmt::Debug for DoublureImage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DoublureImage")
            .field("reference", &self.reference())
            .field("env", &self.env.keys().collect::<Vec<_>>())
            .field("copies", &self.copies.len())
            .finish()
    }
}

impl Default for DoublureImage {
    /// This crate's version of the image, or the one `DOUBLURE_IMAGE`
    /// names (`name:tag`).
    fn default() -> Self {
        let (name, tag) = match std::env::var("DOUBLURE_IMAGE") {
            Ok(image) if !image.is_empty() => split_reference(&image),
            _ => (IMAGE.to_owned(), env!("CARGO_PKG_VERSION").to_owned()),
        };
        Self {
            name,
            tag,
            env: BTreeMap::new(),
            copies: Vec::new(),
            admin_token: None,
        }
    }
}

/// The host Testcontainers reaches containers by, from its override,
/// `DOCKER_HOST`, whether `~/.testcontainers.properties` names a host, and
/// whether the test itself runs in a container (then testcontainers-rs
/// reaches a local engine's containers through the bridge's gateway, an
/// address not known beforehand): `*` (any) when it cannot be known.
fn docker_host(
    host_override: Option<&str>,
    docker_host: Option<&str>,
    properties: bool,
    in_container: bool,
) -> String {
    if let Some(host) = host_override {
        return host.to_owned();
    }
    let local = if in_container { "*" } else { "localhost" };
    let Some(url) = docker_host else {
        return if properties { "*" } else { local }.to_owned();
    };
    match url.split_once("://") {
        Some(("unix" | "npipe", _)) => local.to_owned(),
        Some(("tcp" | "http" | "https", rest)) => {
            let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
            let authority = authority.rsplit_once('@').map_or(authority, |(_, a)| a);
            if authority.is_empty() {
                "*".to_owned()
            } else {
                authority.to_owned()
            }
        }
        _ => "*".to_owned(),
    }
}

/// Whether `~/.testcontainers.properties` sets the Docker host (which
/// Testcontainers reads when `DOCKER_HOST` is unset).
fn properties_name_a_host() -> bool {
    let Some(home) = std::env::var_os("HOME") else {
        return false;
    };
    std::fs::read_to_string(Path::new(&home).join(".testcontainers.properties")).is_ok_and(|text| {
        text.lines().any(|line| {
            let key = line.split(['=', ':']).next().unwrap_or("").trim();
            key == "docker.host" || key == "tc.host"
        })
    })
}

/// `name:tag` cut at the last `:` after the last `/` (a registry's port
/// is no tag); no tag means `latest`, as Docker reads it.
fn split_reference(image: &str) -> (String, String) {
    let slash = image.rfind('/').map_or(0, |i| i + 1);
    match image[slash..].rfind(':') {
        Some(colon) => (
            image[..slash + colon].to_owned(),
            image[slash + colon + 1..].to_owned(),
        ),
        None => (image.to_owned(), "latest".to_owned()),
    }
}

impl DoublureImage {
    /// Another image: `name:tag` (e.g. a local build, `doublure:dev`).
    pub fn with_image(mut self, image: &str) -> Self {
        (self.name, self.tag) = split_reference(image);
        self
    }

    /// One of the binary's settings, by its variable
    /// (`docs/configuration.md`): `with_env("DOUBLURE_SEED", "7")`.
    pub fn with_env(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.env.insert(name.into(), value.into());
        self
    }

    /// The fixtures in `dir` (on the host), copied into the container and
    /// served instead of the built-in data.
    pub fn with_fixtures(mut self, dir: impl AsRef<Path>) -> Self {
        let dir: PathBuf = dir.as_ref().to_owned();
        self.copies
            .push(CopyToContainer::new(dir, FIXTURES_IN_CONTAINER));
        self.with_env("DOUBLURE_FIXTURES", FIXTURES_IN_CONTAINER)
    }

    /// Generated data: `logora` Logora users and `wcs` w.c.s. users.
    pub fn with_generated(self, logora: usize, wcs: usize) -> Self {
        self.with_env("DOUBLURE_GENERATE_LOGORA_USERS", logora.to_string())
            .with_env("DOUBLURE_GENERATE_WCS_USERS", wcs.to_string())
    }

    /// The control plane's bearer token; the handle sends it.
    pub fn with_admin_token(mut self, token: impl Into<String>) -> Self {
        let token = token.into();
        self.admin_token = Some(token.clone());
        self.with_env("DOUBLURE_ADMIN_TOKEN", token)
    }

    /// This image with `DOUBLURE_ALLOWED_HOST` set to the host the
    /// handle will reach it by (unless already set): the control plane
    /// answers only the hosts it knows, and a remote Docker host (CI's
    /// `DOCKER_HOST=tcp://docker:2375`) is none of them.
    fn allowing_docker_host(self) -> Self {
        if self.env.contains_key("DOUBLURE_ALLOWED_HOST") {
            return self;
        }
        let var = |name| std::env::var(name).ok().filter(|v: &String| !v.is_empty());
        let host = docker_host(
            var("TESTCONTAINERS_HOST_OVERRIDE").as_deref(),
            var("DOCKER_HOST").as_deref(),
            properties_name_a_host(),
            std::path::Path::new("/.dockerenv").exists(),
        );
        self.with_env("DOUBLURE_ALLOWED_HOST", host)
    }

    /// `name:tag`.
    pub fn reference(&self) -> String {
        format!("{}:{}", self.name, self.tag)
    }
}

impl Image for DoublureImage {
    fn name(&self) -> &str {
        &self.name
    }

    fn tag(&self) -> &str {
        &self.tag
    }

    fn ready_conditions(&self) -> Vec<WaitFor> {
        vec![WaitFor::message_on_either_std("doublure listening on")]
    }

    fn env_vars(
        &self,
    ) -> impl IntoIterator<
        Item = (
            impl Into<std::borrow::Cow<'_, str>>,
            impl Into<std::borrow::Cow<'_, str>>,
        ),
    > {
        &self.env
    }

    fn copy_to_sources(&self) -> impl IntoIterator<Item = &CopyToContainer> {
        &self.copies
    }

    fn expose_ports(&self) -> &[ContainerPort] {
        &[ContainerPort::Tcp(PORT)]
    }
}

/// A running doublure container and the handle on its root.
///
/// Dereferences to [`Remote`]; the container is removed when this is
/// dropped.
pub struct DoublureContainer {
    container: ContainerAsync<DoublureImage>,
    remote: Remote,
}

impl std::fmt::Debug for DoublureContainer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DoublureContainer")
            .field("id", &self.container.id())
            .field("url", &self.remote.url)
            .finish()
    }
}

impl DoublureContainer {
    /// Starts `image` and waits until its health route answers from the
    /// host. A missing image is an error naming it and how to get it.
    pub async fn start(image: DoublureImage) -> Result<Self, Error> {
        let reference = image.reference();
        let admin_token = image.admin_token.clone();
        let image = image.allowing_docker_host();
        let container = image
            .start()
            .await
            .map_err(|e| start_error(&reference, &e))?;
        let host = container
            .get_host()
            .await
            .map_err(|e| Error(format!("{reference}: no host for the container: {e}")))?;
        let port = host_port(&container)
            .await
            .map_err(|e| Error(format!("{reference}: port {PORT} is not mapped: {e}")))?;
        let remote = Remote::new(&format!("http://{host}:{port}"), admin_token);
        remote.wait_healthy(Duration::from_secs(10)).await?;
        Ok(Self { container, remote })
    }

    /// The container, for what the handle does not do (logs, stop, …).
    pub fn container(&self) -> &ContainerAsync<DoublureImage> {
        &self.container
    }
}

impl std::ops::Deref for DoublureContainer {
    type Target = Remote;

    fn deref(&self) -> &Remote {
        &self.remote
    }
}

/// The host port mapped to the container's [`PORT`]. Podman's Docker API
/// gives the binding an empty `HostIp` (all interfaces), which
/// testcontainers skips as no IP address: the container's own inspection
/// is read then.
async fn host_port(container: &ContainerAsync<DoublureImage>) -> Result<u16, String> {
    let first = match container.get_host_port_ipv4(PORT).await {
        Ok(port) => return Ok(port),
        Err(e) => e.to_string(),
    };
    let docker = ::testcontainers::bollard::Docker::connect_with_defaults()
        .map_err(|e| format!("{first}; and no Docker client: {e}"))?;
    let details = docker
        .inspect_container(container.id(), None)
        .await
        .map_err(|e| format!("{first}; and no inspection: {e}"))?;
    details
        .network_settings
        .and_then(|settings| settings.ports)
        .and_then(|mut ports| ports.remove(&format!("{PORT}/tcp")))
        .flatten()
        .into_iter()
        .flatten()
        .find_map(|binding| binding.host_port?.parse().ok())
        .ok_or(first)
}

fn start_error(reference: &str, error: &::testcontainers::TestcontainersError) -> Error {
    let text = error.to_string();
    if text.contains("pull") || text.contains("No such image") || text.contains("not found") {
        Error(format!(
            "the image {reference} is not on this machine and could not be pulled ({text}). \
             Pull it (docker pull {reference}), or build it from a clone of doublure \
             (docker build -t {reference} .), or name another with DOUBLURE_IMAGE=name:tag"
        ))
    } else {
        Error(format!("{reference} did not start: {text}"))
    }
}

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

    async fn wait_healthy(&self, within: Duration) -> Result<(), Error> {
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
    use super::{DoublureImage, Remote, docker_host, split_reference};

    #[test]
    fn the_allowed_host_is_the_one_testcontainers_will_reach_the_container_by() {
        let host = |o, d, p| docker_host(o, d, p, false);
        assert_eq!(host(None, None, false), "localhost");
        assert_eq!(
            docker_host(None, Some("unix:///var/run/docker.sock"), false, true),
            "*"
        );
        assert_eq!(docker_host(None, None, false, true), "*");
        assert_eq!(
            docker_host(None, Some("tcp://docker:2375"), false, true),
            "docker:2375"
        );
        assert_eq!(host(None, None, true), "*");
        assert_eq!(
            host(None, Some("unix:///var/run/docker.sock"), true),
            "localhost"
        );
        assert_eq!(host(None, Some("tcp://docker:2375"), false), "docker:2375");
        assert_eq!(
            host(None, Some("https://u@10.0.0.5:2376/"), false),
            "10.0.0.5:2376"
        );
        assert_eq!(host(None, Some("ssh://me@box"), false), "*");
        assert_eq!(host(Some("dind"), Some("tcp://docker:2375"), false), "dind");
    }

    #[test]
    fn an_image_is_given_an_allowed_host_unless_its_user_set_one() {
        let image = DoublureImage::default().with_env("DOUBLURE_ALLOWED_HOST", "mine");
        let image = image.allowing_docker_host();
        assert_eq!(image.env["DOUBLURE_ALLOWED_HOST"], "mine");
        let image = DoublureImage::default().allowing_docker_host();
        assert!(image.env.contains_key("DOUBLURE_ALLOWED_HOST"));
    }

    #[test]
    fn the_debug_text_of_an_image_or_a_handle_never_holds_the_admin_token() {
        let image = DoublureImage::default().with_admin_token("s3cret-token");
        let shown = format!("{image:?}");
        assert!(!shown.contains("s3cret-token"), "{shown}");
        assert!(shown.contains("DOUBLURE_ADMIN_TOKEN"), "{shown}");
        let remote = Remote::new("http://localhost:1", Some("s3cret-token".into()));
        let shown = format!("{remote:?}");
        assert!(!shown.contains("s3cret-token"), "{shown}");
        assert!(shown.contains("<redacted>"), "{shown}");
    }

    #[test]
    fn an_image_reference_splits_at_the_tag_not_at_a_registry_port() {
        let split = |r| {
            let (n, t) = split_reference(r);
            format!("{n} {t}")
        };
        assert_eq!(
            split("ghcr.io/doublure/doublure:0.1.0"),
            "ghcr.io/doublure/doublure 0.1.0"
        );
        assert_eq!(
            split("localhost:5000/doublure:dev"),
            "localhost:5000/doublure dev"
        );
        assert_eq!(
            split("localhost:5000/doublure"),
            "localhost:5000/doublure latest"
        );
        assert_eq!(split("doublure"), "doublure latest");
    }
}
