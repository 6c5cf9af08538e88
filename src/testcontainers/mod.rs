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

mod container;
mod doublure_image;
mod remote;

pub use container::DoublureContainer;
pub use doublure_image::DoublureImage;
pub use remote::Remote;

/// The `testcontainers` crate this module is built on, for its runner,
/// its `bollard` client and the rest, at the same version.
pub use ::testcontainers;

/// The image's repository, as released.
pub const IMAGE: &str = "ghcr.io/doublure/doublure";
/// The port the image listens on.
pub const PORT: u16 = 8080;
