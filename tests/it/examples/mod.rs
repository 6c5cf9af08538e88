//! The examples the README shows, run as they are shown.

mod embed;
mod python;
