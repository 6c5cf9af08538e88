//! doublure's integration tests, one binary with a module per area: the
//! emulated APIs (Logora, w.c.s.), the control plane, namespaces, the
//! server's edges, the binary, import and generation, the console, the
//! published examples and property tests. `common` holds every helper.

#![cfg(feature = "cli")]

mod binary;
mod budget;
mod common;
mod console;
mod containers;
mod control;
mod examples;
mod foundation;
mod generate;
mod import;
mod import_limits;
mod logora;
mod namespaces;
mod openapi;
mod properties;
mod secrets;
mod server;
mod verify;
mod wcs;
