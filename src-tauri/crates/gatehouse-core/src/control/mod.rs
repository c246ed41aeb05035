//! The control channel: how `gatehouse server start|stop|…`,
//! `gatehouse approvals` and the windows' process (`gatehouse-app`) reach
//! the running Gatehouse.
//!
//! A Unix socket, `<runtime dir>/control.sock`, in a directory only the owner
//! can enter, and itself owner-only. One JSON request per line, one JSON
//! response per line. It is deliberately not the MCP endpoint: an agent can
//! read its own client's config and so the MCP token, but it cannot reach
//! this socket unless it already runs as the user.
//!
//! The windows use two requests of their own: `Invoke` runs one of the
//! GUI's commands through the installed [`Desk`], and `Watch` streams its
//! events until the window process hangs up.
//!
//! On Windows the same requests travel over a named pipe (`windows.rs`);
//! everything above the transport is shared (`connection.rs`).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use gatehouse_approvals::{Answer, Approvals, DecidedBy, PendingCall};
use gatehouse_supervisor::{ServerStatus, Supervisor};

use crate::desk::{Desk, DeskSlot, Event, Failure};
use crate::endpoint::Endpoint;
use serde::{Deserialize, Serialize};

/// The socket's file name in the runtime directory.
pub const SOCKET_NAME: &str = "control.sock";

/// A request from the CLI.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "cmd", rename_all = "snake_case")]
pub enum Request {
    /// Every server's live status.
    List,
    /// One server's live status.
    Show {
        /// The server.
        server: String,
    },
    /// Start a server that is not running.
    Start {
        /// The server.
        server: String,
    },
    /// Stop a server and wait until it is gone.
    Stop {
        /// The server.
        server: String,
    },
    /// Stop, then start, a server.
    Restart {
        /// The server.
        server: String,
    },
    /// The MCP endpoint's address and state.
    Gateway,
    /// The token the endpoint wants (the socket is owner-only, like the
    /// keyring it comes from).
    Token,
    /// Replace the keyring token; the endpoint wants the new one at once.
    RotateToken,
    /// The tool calls waiting for a person.
    Pending,
    /// Answer a waiting call. Only this channel (and the GUI) can: the
    /// MCP endpoint has no way to.
    Answer {
        /// The call's id, from `Pending`.
        id: u64,
        /// Allow once, always, or deny.
        answer: Answer,
    },
    /// A server's recent log lines; with `follow`, then every new line.
    Logs {
        /// The server.
        server: String,
        /// Keep the connection open and send new lines as they come.
        follow: bool,
    },
    /// One of the windows' commands, run by the [`Desk`].
    Invoke {
        /// The command's name, e.g. `list_servers`.
        command: String,
        /// Its named arguments.
        #[serde(default)]
        args: serde_json::Value,
    },
    /// The windows' events: the present state, then every change, until
    /// the client hangs up.
    Watch,
}

/// One log line as the control channel carries it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LogReport {
    /// Milliseconds since the Unix epoch.
    pub time_ms: u64,
    /// `stderr`, `stdout` or `gatehouse`.
    pub stream: String,
    /// The line.
    pub text: String,
}

impl LogReport {
    fn from_line(line: &gatehouse_supervisor::LogLine) -> LogReport {
        LogReport {
            time_ms: line
                .time
                .duration_since(std::time::UNIX_EPOCH)
                .ok()
                .and_then(|d| u64::try_from(d.as_millis()).ok())
                .unwrap_or_default(),
            stream: line.stream.as_str().to_owned(),
            text: line.text.clone(),
        }
    }
}

/// A server's live status as the control channel carries it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ServerReport {
    /// Its name.
    pub name: String,
    /// `running`, `failed`, …
    pub state: String,
    /// The command as configured.
    pub command: String,
    /// The arguments as configured.
    pub args: Vec<String>,
    /// The absolute path the command resolved to.
    pub resolved_command: Option<String>,
    /// The process id, while there is a process.
    pub pid: Option<u32>,
    /// Restarts after crashes.
    pub restarts: u32,
    /// Why it failed, or what it waits for.
    pub detail: Option<String>,
    /// Milliseconds since the Unix epoch when it entered `state`.
    pub since_ms: Option<u64>,
    /// Its tools.
    pub tools: Vec<ToolReport>,
}

/// A tool's definition: `{name, description, inputSchema, annotations}`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ToolReport {
    /// Its name.
    pub name: String,
    /// Its title, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Its description, if any.
    pub description: Option<String>,
    /// The JSON Schema of its arguments.
    pub input_schema: serde_json::Value,
    /// Its annotations, if any.
    pub annotations: Option<serde_json::Value>,
}

impl ServerReport {
    fn from_status(status: &ServerStatus) -> ServerReport {
        ServerReport {
            name: status.name.clone(),
            state: status.state.as_str().to_owned(),
            command: status.command.clone(),
            args: status.args.clone(),
            resolved_command: status
                .resolved_command
                .as_ref()
                .map(|p| p.display().to_string()),
            pid: status.pid,
            restarts: status.restarts,
            detail: status.detail.clone(),
            since_ms: status
                .since
                .duration_since(std::time::UNIX_EPOCH)
                .ok()
                .and_then(|d| u64::try_from(d.as_millis()).ok()),
            tools: status
                .tools
                .iter()
                .map(|tool| ToolReport {
                    name: tool.name.clone(),
                    title: tool.title.clone(),
                    description: tool.description.clone(),
                    input_schema: tool.input_schema.clone(),
                    annotations: tool.annotations.clone(),
                })
                .collect(),
        }
    }
}

/// The MCP endpoint as the control channel carries it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct GatewayReport {
    /// `http://ADDR/mcp` while it runs.
    pub url: Option<String>,
    /// The address it listens on, or was asked to.
    pub addr: String,
    /// Why it does not run.
    pub error: Option<String>,
    /// `keyring`, `flag` or `env`.
    pub token_source: String,
    /// The token's first and last characters.
    pub token_hint: String,
    /// The client files updated with a new token, after a rotation.
    #[serde(default)]
    pub refreshed: Vec<String>,
}

impl GatewayReport {
    fn from_info(info: &crate::GatewayInfo) -> GatewayReport {
        GatewayReport {
            url: info.url.clone(),
            addr: info.addr.to_string(),
            error: info.error.clone(),
            token_source: info.token_source.as_str().to_owned(),
            token_hint: info.token_hint.clone(),
            refreshed: info
                .refreshed
                .iter()
                .map(|path| path.display().to_string())
                .collect(),
        }
    }
}

/// The answer to a request.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Response {
    /// The servers asked about.
    Servers(Vec<ServerReport>),
    /// Log lines.
    Log(Vec<LogReport>),
    /// The MCP endpoint.
    Gateway(GatewayReport),
    /// The token.
    Token(String),
    /// The calls waiting for a person, oldest first.
    Pending(Vec<PendingCall>),
    /// A window command's result.
    Value(serde_json::Value),
    /// A window command failed.
    Failed(Failure),
    /// One of the windows' events.
    Event(Event),
    /// Done.
    Done,
    /// It failed; a sentence for people.
    Error(String),
}

/// Errors talking to a running Gatehouse.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// Nothing listens on the socket.
    #[error("Gatehouse is not running (no control socket at {}); start it with `gatehouse` or `gatehouse serve`", socket.display())]
    NotRunning {
        /// Where the socket was looked for.
        socket: PathBuf,
    },
    /// The connection failed midway.
    #[error("lost the connection to Gatehouse: {0}")]
    Io(#[from] std::io::Error),
    /// The answer could not be understood (a different Gatehouse version?).
    #[error("Gatehouse answered something this version does not understand: {0}")]
    Protocol(#[from] serde_json::Error),
    /// The running Gatehouse refused the request.
    #[error("{0}")]
    Refused(String),
    /// This platform has no control channel yet.
    #[error("controlling a running Gatehouse is not supported on this platform yet")]
    Unsupported,
}

/// What the control channel serves.
#[derive(Clone)]
pub(crate) struct Parts {
    pub(crate) supervisor: Arc<Supervisor>,
    pub(crate) endpoint: Arc<Endpoint>,
    pub(crate) approvals: Approvals,
    pub(crate) desk: DeskSlot,
}

impl Parts {
    fn desk(&self) -> Option<&Arc<dyn Desk>> {
        self.desk.get()
    }
}

const NO_DESK: &str = "this Gatehouse serves no windows (it was started without them)";

async fn answer(parts: &Parts, request: Request) -> Response {
    let Parts {
        supervisor,
        endpoint,
        approvals,
        ..
    } = parts;
    let one = |server: &str| {
        let all = supervisor.snapshot();
        match all.iter().find(|status| status.name == server) {
            Some(status) => Response::Servers(vec![ServerReport::from_status(status)]),
            None => Response::Error(format!("there is no server `{server}`")),
        }
    };
    let done = |result: Result<(), gatehouse_supervisor::ControlError>| match result {
        Ok(()) => Response::Done,
        Err(err) => Response::Error(err.to_string()),
    };
    match request {
        Request::List => Response::Servers(
            supervisor
                .snapshot()
                .iter()
                .map(ServerReport::from_status)
                .collect(),
        ),
        Request::Show { server } => one(&server),
        Request::Start { server } => done(supervisor.start_server(&server)),
        Request::Stop { server } => done(supervisor.stop_server(&server).await),
        Request::Restart { server } => done(supervisor.restart_server(&server).await),
        Request::Logs { server, .. } => match supervisor.logs(&server) {
            Some((lines, _)) => Response::Log(lines.iter().map(LogReport::from_line).collect()),
            None => Response::Error(format!("there is no server `{server}`")),
        },
        Request::Gateway => Response::Gateway(GatewayReport::from_info(&endpoint.info())),
        Request::Token => match endpoint.token() {
            Some(token) => Response::Token(token.expose().to_owned()),
            None => Response::Error(
                endpoint
                    .error()
                    .unwrap_or("the MCP endpoint has no token")
                    .to_owned(),
            ),
        },
        Request::RotateToken => match endpoint.rotate() {
            Ok(info) => Response::Gateway(GatewayReport::from_info(&info)),
            Err(err) => Response::Error(err.to_string()),
        },
        Request::Pending => Response::Pending(approvals.pending()),
        Request::Answer { id, answer } => match approvals.answer(id, answer, DecidedBy::Cli) {
            Ok(()) => Response::Done,
            Err(err) => Response::Error(err.to_string()),
        },
        Request::Invoke { command, args } => match parts.desk() {
            Some(desk) => match desk.invoke(command, args).await {
                Ok(value) => Response::Value(value),
                Err(failure) => Response::Failed(failure),
            },
            None => Response::Error(NO_DESK.to_owned()),
        },
        // Streamed by the connection's handler; asked here, it is an error.
        Request::Watch => Response::Error("`watch` streams; it cannot be answered once".to_owned()),
    }
}

pub use connection::Client;

/// Starts answering requests on this platform's channel, until `token` is
/// cancelled; returns its address (the socket's path, the pipe's name).
pub(crate) fn serve(
    runtime_dir: &Path,
    parts: Parts,
    token: tokio_util::sync::CancellationToken,
    tracker: &tokio_util::task::TaskTracker,
) -> std::io::Result<PathBuf> {
    platform::serve(runtime_dir, parts, token, tracker)
}

#[cfg(unix)]
#[path = "unix.rs"]
mod platform;
#[cfg(windows)]
#[path = "windows.rs"]
mod platform;
#[cfg(not(any(unix, windows)))]
#[path = "unsupported.rs"]
mod platform;

mod connection;
