//! End-to-end tests of the real `gatehouse` binary: one harness, one module
//! per area, shared fixtures in `util`. Every test runs in its own temporary
//! `$HOME` and `$GATEHOUSE_HOME`.
//!
//! Tests that need the OS keyring expect a Secret Service, as `make test`
//! provides (gnome-keyring inside `dbus-run-session`).

mod binaries;
mod config;
mod control;
mod demo;
mod desk;
mod doctor;
mod gateway;
mod logs;
mod peers;
mod reload;
mod secrets;
mod serve;
mod util;
