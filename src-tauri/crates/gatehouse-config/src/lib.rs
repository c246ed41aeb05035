//! Where Gatehouse keeps its files, and what `gatehouse.toml` says.
//!
//! This crate turns the environment (`$GATEHOUSE_HOME`, the platform's config,
//! data and state directories) into concrete [`Paths`], and the config file into
//! a validated [`Config`].
//! It never spawns processes, touches the keyring or the network, and knows
//! nothing about Tauri.
//! Errors name the file, line and column of the problem, so a person can fix a
//! hand-edited file without guessing.
//!
//! # Layout
//! - `paths`: platform directories and the `$GATEHOUSE_HOME` override.
//! - `schema`: the on-disk TOML format (serde types, nothing else).
//! - `model`: the validated, in-memory configuration the rest of Gatehouse uses.
//! - `edit`: format-preserving changes (`server add`/`remove`, tool rules,
//!   approval settings) and atomic writes.
//! - `error`: the crate's error type, with file locations.
#![deny(missing_docs)]

pub mod edit;
mod error;
mod model;
mod paths;
mod schema;

use std::path::Path;

pub use crate::error::{Error, Location, Result};
pub use crate::model::{
    ApprovalSettings, Config, GatewaySettings, LogFormat, LogSettings, ParseRuleError, Rule,
    ServerName, ServerSpec,
};
pub use crate::paths::{Paths, ProjectDirsSource};

/// The config written on first run: the built-in demo server, and comments
/// that explain the format to the person who opens the file.
pub const DEFAULT_CONFIG: &str = r#"# Gatehouse configuration.
#
# Gatehouse runs the MCP servers listed here, supervises them, and serves them
# all to your AI clients. Edit this file by hand or with `gatehouse server add`;
# comments you write here are kept.
#
# Secrets never go in this file: `secret_env` names the environment variables
# whose values Gatehouse reads from your OS keyring (`gatehouse secret set`).

[log]
# One of: error, warn, info, debug, trace (or a tracing filter such as
# "info,gatehouse_supervisor=debug"). `--log-level` and $GATEHOUSE_LOG win.
level = "info"

[gateway]
# Where AI clients reach your servers: http://ADDR/mcp (every server) and
# http://ADDR/mcp/NAME (one server). Loopback only unless `--allow-remote`.
# `--addr` and $GATEHOUSE_ADDR win. The bearer token is in your OS keyring:
# `gatehouse token show`.
addr = "127.0.0.1:8737"

[approvals]
# How long a tool call waits for your answer before it is denied, in seconds
# (10 to 3600).
timeout_secs = 120
# Ask before every call to a tool that is not read-only, even one that says it
# is not destructive.
ask_non_read_only = false
# How many days the call log keeps a call (0 keeps it forever).
retention_days = 90

# The built-in demo server: a small notes store, so there is something to try.
# `command = "gatehouse"` always means this Gatehouse executable itself.
# Rules for single tools go in a table after the server's, one of "allow"
# (never ask), "ask" (ask every time) or "deny" (always refuse), for example:
#   [servers.demo.tools]
#   delete_note = "deny"
[servers.demo]
command = "gatehouse"
args = ["demo-server"]
"#;

/// Reads and validates the config file at `path`.
///
/// # Errors
/// [`Error::NotFound`] when the file does not exist, [`Error::Io`] when it cannot
/// be read, [`Error::Invalid`] (with a [`Location`]) when it is not valid.
pub fn load(path: &Path) -> Result<Config> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
            return Err(Error::NotFound {
                path: path.to_owned(),
            });
        }
        Err(source) => {
            return Err(Error::Io {
                path: path.to_owned(),
                source,
            });
        }
    };
    parse(path, &text)
}

/// Parses and validates config `text`; `path` is used only in error messages.
///
/// # Errors
/// [`Error::Invalid`] with the location of the first problem found.
pub fn parse(path: &Path, text: &str) -> Result<Config> {
    let file: schema::ConfigFile = toml::from_str(text).map_err(|err| {
        let location = err
            .span()
            .map(|span| Location::from_offset(path, text, span.start));
        Error::Invalid {
            location: location.unwrap_or_else(|| Location::file_only(path)),
            message: first_line(err.message()),
        }
    })?;
    model::validate(path, text, file)
}

/// Loads the config at `path`, writing [`DEFAULT_CONFIG`] there first if the
/// file does not exist yet (the first run). Returns the config and whether
/// this call created the file.
///
/// # Errors
/// As [`load`], plus [`Error::Io`] when the default file cannot be written.
pub fn load_or_init(path: &Path) -> Result<(Config, bool)> {
    match load(path) {
        Err(Error::NotFound { .. }) => {}
        other => return other.map(|config| (config, false)),
    }
    let io_err = |source| Error::Io {
        path: path.to_owned(),
        source,
    };
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(io_err)?;
    }
    // `create_new` so two first runs racing each other never clobber a file
    // the other one (or the person) just wrote.
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
    {
        Ok(mut file) => {
            use std::io::Write;
            file.write_all(DEFAULT_CONFIG.as_bytes()).map_err(io_err)?;
            file.sync_all().map_err(io_err)?;
            Ok((parse(path, DEFAULT_CONFIG)?, true))
        }
        Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => {
            load(path).map(|config| (config, false))
        }
        Err(err) => Err(io_err(err)),
    }
}

fn first_line(message: &str) -> String {
    message.lines().next().unwrap_or(message).trim().to_owned()
}

#[cfg(test)]
mod tests;
