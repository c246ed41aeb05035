//! Registers Gatehouse with the MCP clients on this machine: Claude
//! Desktop, Claude Code, Cursor, VS Code and a dozen more, each in its own
//! file, format and spelling, without ever losing a user's file.
//!
//! Nothing here touches the keyring: the core hands in the token, and an
//! import hands the credentials it finds back to the core.
//!
//! # Layout
//! - `environment`: the OS, home and variables that place each file.
//! - `catalog`: every client: its files per scope and OS, format, key,
//!   install detection, what to do after a change.
//! - `entry`: Gatehouse's entry in each client's spelling, and comparing.
//! - `value`: the ordered tree an entry is built from.
//! - `document`: format-preserving editing of JSON, JSONC, TOML and YAML.
//! - `change`: a change shown as a diff, then made: locked, checked,
//!   backed up, atomic.
//! - `delegate`: a change to a file the client rewrites itself (Claude
//!   Code's `~/.claude.json`), made through its own command line.
//! - `backup`: the last versions of each file, for undo.
//! - `import`: a client's own servers, credentials set apart.
//! - `registration`: the registrar tying these together.
#![deny(missing_docs)]

pub mod backup;
pub mod catalog;
pub mod change;
mod delegate;
pub mod document;
pub mod entry;
pub mod environment;
pub mod error;
pub mod import;
pub mod registration;
pub mod value;

pub use catalog::{ClientKind, Location, Scope};
pub use change::Plan;
pub use entry::{BridgeCommand, Form, Target};
pub use environment::{Environment, Os};
pub use error::{Error, Result};
pub use import::Candidate;
pub use registration::{Action, ClientStatus, FileStatus, Registrar, State};
