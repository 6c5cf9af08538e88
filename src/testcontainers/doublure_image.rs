//! [`DoublureImage`]: the image's name and tag, its environment, its
//! fixtures, and the host its control plane must allow, from how
//! Testcontainers reaches the Docker engine.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use ::testcontainers::core::{ContainerPort, WaitFor};
use ::testcontainers::{CopyToContainer, Image};

use super::{IMAGE, PORT};

/// Where [`DoublureImage::with_fixtures`] puts the fixtures.
const FIXTURES_IN_CONTAINER: &str = "/fixtures";

/// doublure's image: name, tag, readiness, environment and fixtures.
#[derive(Clone)]
pub struct DoublureImage {
    name: String,
    tag: String,
    env: BTreeMap<String, String>,
    copies: Vec<CopyToContainer>,
    pub(super) admin_token: Option<String>,
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
    pub(super) fn allowing_docker_host(self) -> Self {
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

#[cfg(test)]
mod tests {
    use super::{DoublureImage, docker_host, split_reference};

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
    fn the_debug_text_of_an_image_never_holds_the_admin_token() {
        let image = DoublureImage::default().with_admin_token("s3cret-token");
        let shown = format!("{image:?}");
        assert!(!shown.contains("s3cret-token"), "{shown}");
        assert!(shown.contains("DOUBLURE_ADMIN_TOKEN"), "{shown}");
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
