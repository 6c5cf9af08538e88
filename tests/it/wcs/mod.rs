//! The w.c.s. emulation: through the router, its drafts, and on the wire.

mod api;
mod drafts;
mod wire;
