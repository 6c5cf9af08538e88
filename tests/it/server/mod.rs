//! The server's edges: limits and refusals, connections, shutdown and the
//! stop signals.

mod boundary;
mod connections;
mod shutdown;
#[cfg(unix)]
mod signal;
mod timeouts;
mod tls;
mod tls_clients;
