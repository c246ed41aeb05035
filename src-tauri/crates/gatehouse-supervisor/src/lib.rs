//! Runs the configured stdio MCP servers and reports their state.
//!
//! One task per enabled server: resolve the command to an absolute path, spawn
//! it with a clean environment in its own process group (Job Object on
//! Windows) so `npx → node` grandchildren die with it, perform the MCP
//! handshake as a client (probing `server/discover`, falling back to
//! `initialize`), cache the tool list, and watch the process until it exits or
//! Gatehouse stops it. Every state change is published as a snapshot on a
//! `watch` channel, which the GUI, the CLI and the gateway read.
//!
//! The supervisor never touches the keyring (it asks a [`SecretLookup`] for
//! each server's secrets at spawn, and scrubs them from what it records),
//! never writes client config files, and knows nothing about Tauri.
//!
//! # Layout
//! - `connection`: [`Connection`], a running server's session for forwarding
//!   requests with raw results, and the handler for what servers send.
//! - `status`: the snapshot types: [`ServerState`], [`ServerStatus`], [`ToolInfo`].
//! - `launch`: command resolution, the clean environment, spawning.
//! - `logs`: each server's log: ring buffer, rotated file, followers.
//! - `stdout_filter`: MCP messages on to rmcp, other stdout to the log.
//! - `search_path`: the `PATH` servers run with, including the login shell's.
//! - `reap`: pid files, and killing groups a crashed Gatehouse left behind.
//! - `secrets`: [`SecretLookup`], and scrubbing values from what is recorded.
//! - `server`: the per-server task.
//! - `supervisor`: [`Supervisor`], which owns the tasks and the snapshot channel.
#![deny(missing_docs)]

mod connection;
mod launch;
mod logs;
mod reap;
mod search_path;
mod secrets;
mod server;
mod status;
mod stdout_filter;
mod supervisor;

pub use crate::connection::{
    CallError, Connection, ProgressSender, RawJson, ResultForm, ServerEvent, ServerEventKind,
};
pub use crate::launch::{LaunchContext, gatehouse_executable, resolve_command, sibling_executable};
pub use crate::logs::{LogLine, LogStream};
pub use crate::search_path::search_path;
pub use crate::secrets::{Scrubber, SecretLookup};
pub use crate::status::{ServerState, ServerStatus, ToolInfo};
pub use crate::supervisor::{Changes, ControlError, Supervisor};
