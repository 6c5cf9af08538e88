//! [`DoublureContainer`]: a started image, its mapped port found (also
//! under Podman), and the [`Remote`] handle it dereferences to.

use std::time::Duration;

use ::testcontainers::ContainerAsync;
use ::testcontainers::runners::AsyncRunner;

use super::{DoublureImage, PORT, Remote};
use crate::Error;

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
            .field("url", &self.remote.url())
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
