//! The control plane under `/__doublure/`, by topic.

mod access;
mod clock;
mod collections;
mod credentials;
mod faults;
mod journal;
mod reload;
mod sharing;
mod state;
