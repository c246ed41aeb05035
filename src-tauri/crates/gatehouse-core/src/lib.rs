//! Gatehouse's headless core: the one entry point the tray app, `gatehouse
//! serve` and the CLI share.
//!
//! [`Core`] starts the parts (the supervisor, the approvals with their call
//! log, and the gateway) from a loaded config and stops them in order. [`doctor`]
//! checks the machine and says what is wrong and how to fix it.
//!
//! Like every crate under `src-tauri/crates/`, it knows nothing about Tauri:
//! a GUI action and its CLI twin call the same function here.
//!
//! # Layout
//! - `core`: [`Core`], the running parts.
//! - `control`: the local control channel the CLI and the windows' process
//!   use to reach a running core.
//! - `desk`: the [`desk::Desk`] trait: the windows' commands and events,
//!   implemented above the core and carried by the control channel.
//! - `reload`: watches the config file and applies changes to the running servers.
//! - `doctor`: [`doctor::run`] and its [`doctor::Check`]s.
//! - `secrets`: the secret commands, and the keyring lookup the supervisor uses.
//! - `token`: the gateway token: flag, environment or keyring; rotation.
//! - `clients`: registering with MCP clients, importing their servers.
//! - `endpoint`: starts the gateway and keeps its state for the GUI and CLI.
#![deny(missing_docs)]

pub mod clients;
pub mod control;
mod core;
pub mod desk;
pub mod doctor;
mod endpoint;
mod reload;
pub mod secrets;
pub mod token;

pub use crate::core::{Core, Error, STORE_FILE, instance_holder};
pub use crate::endpoint::{GatewayInfo, GatewayRequest, configured_addr};
pub use gatehouse_approvals as approvals;
pub use gatehouse_config as config;
pub use gatehouse_store as store;
pub use gatehouse_supervisor as supervisor;
