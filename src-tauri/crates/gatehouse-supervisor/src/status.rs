//! What the supervisor knows about each server, as plain snapshot values.

use std::path::PathBuf;
use std::time::SystemTime;

/// The lifecycle state of one server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServerState {
    /// `enabled = false` in the config: never started.
    Disabled,
    /// Not running, and not going to be until started.
    Stopped,
    /// Spawned; the MCP handshake is under way.
    Starting,
    /// Handshake done; tools are known.
    Running,
    /// Being shut down.
    Stopping,
    /// Exited; waiting before the next start.
    BackingOff,
    /// Gave up: it could not be started or kept crashing. `detail` says why.
    Failed,
}

impl ServerState {
    /// The state as one lowercase word, as shown to people and scripts.
    pub fn as_str(self) -> &'static str {
        match self {
            ServerState::Disabled => "disabled",
            ServerState::Stopped => "stopped",
            ServerState::Starting => "starting",
            ServerState::Running => "running",
            ServerState::Stopping => "stopping",
            ServerState::BackingOff => "backing_off",
            ServerState::Failed => "failed",
        }
    }
}

/// A tool as the GUI and CLI show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToolInfo {
    /// The tool's name on its server.
    pub name: String,
    /// Its human title, if it has one.
    pub title: Option<String>,
    /// Its description, if it has one.
    pub description: Option<String>,
    /// `readOnlyHint` (default false).
    pub read_only: bool,
    /// Effectively destructive: not read-only and `destructiveHint` not false
    /// (the spec's default is true).
    pub destructive: bool,
    /// The JSON Schema of its arguments, as the server sent it.
    pub input_schema: serde_json::Value,
    /// Its annotations as the server sent them, if any.
    pub annotations: Option<serde_json::Value>,
    /// The whole definition as the server sent it, fields Gatehouse does
    /// not know included: what the gateway forwards.
    pub definition: serde_json::Value,
}

/// One server's current state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerStatus {
    /// The server's configured name.
    pub name: String,
    /// Where it is in its lifecycle.
    pub state: ServerState,
    /// The command as configured.
    pub command: String,
    /// The arguments as configured.
    pub args: Vec<String>,
    /// The absolute path the command resolved to, once resolved.
    pub resolved_command: Option<PathBuf>,
    /// The process id while a process exists.
    pub pid: Option<u32>,
    /// How many times it was restarted after crashing.
    pub restarts: u32,
    /// The tools it offered at the handshake.
    pub tools: Vec<ToolInfo>,
    /// A sentence for people: why it failed, or what it is waiting for.
    pub detail: Option<String>,
    /// When it entered `state`.
    pub since: SystemTime,
}
