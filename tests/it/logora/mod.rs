//! The Logora emulation: through the router, with a real OAuth 2.0 client,
//! and at scale.

mod api;
mod client;
mod doorkeeper;
mod remembered;
mod scale;
