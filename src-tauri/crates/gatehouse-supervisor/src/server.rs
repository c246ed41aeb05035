//! The task that runs one server: spawn, handshake, watch, stop.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use gatehouse_config::ServerSpec;
use process_wrap::tokio::ChildWrapper;
use rmcp::model::{ClientCapabilities, ClientConfig, Implementation, ProtocolVersion};
use rmcp::service::{ClientLifecycleMode, ClientServiceExt, RunningService};
use rmcp::transport::async_rw::AsyncRwTransport;
use tokio::io::AsyncBufReadExt;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use crate::launch::{self, LaunchContext};
use crate::status::{ServerState, ServerStatus, ToolInfo};

/// How long a server may take from spawn to a finished handshake and tool list.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(60);
/// How long each step of the stop sequence waits for the group to exit.
const STOP_STEP: Duration = Duration::from_secs(3);
/// How many of the last stderr lines are kept to explain a failure.
const STDERR_TAIL_LINES: usize = 20;

/// Writes one server's entry in the shared snapshot.
#[derive(Clone)]
pub(crate) struct Reporter {
    pub(crate) index: usize,
    pub(crate) statuses: watch::Sender<Vec<ServerStatus>>,
}

impl Reporter {
    fn update(&self, change: impl FnOnce(&mut ServerStatus)) {
        self.statuses.send_modify(|all| {
            if let Some(status) = all.get_mut(self.index) {
                let before = status.state;
                change(status);
                if status.state != before {
                    status.since = SystemTime::now();
                }
            }
        });
    }

    fn set(&self, state: ServerState, detail: Option<String>) {
        self.update(|status| {
            status.state = state;
            status.detail = detail;
            if !matches!(state, ServerState::Running | ServerState::Stopping) {
                status.tools.clear();
            }
            if matches!(state, ServerState::Failed | ServerState::Stopped) {
                status.pid = None;
            }
        });
    }
}

type StderrTail = Arc<Mutex<VecDeque<String>>>;

/// Runs `spec` until it exits or `token` is cancelled. Errors end in the
/// `Failed` state with a sentence in `detail`; nothing is returned.
pub(crate) async fn run(
    spec: ServerSpec,
    context: Arc<LaunchContext>,
    reporter: Reporter,
    token: CancellationToken,
) {
    let span = tracing::info_span!("server", server = %spec.name);
    async move {
        reporter.set(ServerState::Starting, None);
        let cwd = spec
            .cwd
            .clone()
            .unwrap_or_else(|| context.default_cwd.clone());
        let program = match launch::resolve_command(
            &spec.command,
            &context.self_exe,
            &context.search_path,
            &cwd,
        ) {
            Ok(program) => program,
            Err(reason) => {
                tracing::warn!(%reason, "cannot resolve command");
                reporter.set(ServerState::Failed, Some(reason));
                return;
            }
        };
        reporter.update(|status| status.resolved_command = Some(program.clone()));

        let mut child = match launch::spawn(&spec, &program, &context) {
            Ok(child) => child,
            Err(err) => {
                let reason = format!("cannot start `{}`: {err}", program.display());
                tracing::warn!(%reason, "spawn failed");
                reporter.set(ServerState::Failed, Some(reason));
                return;
            }
        };
        let pid = child.id();
        reporter.update(|status| status.pid = pid);
        tracing::info!(pid, program = %program.display(), "spawned");

        let tail = StderrTail::default();
        let stderr_done = child
            .stderr()
            .take()
            .map(|stderr| tokio::spawn(read_stderr(stderr, tail.clone()).in_current_span()));
        let (Some(stdout), Some(stdin)) = (child.stdout().take(), child.stdin().take()) else {
            reporter.set(
                ServerState::Failed,
                Some("the server's stdio could not be captured".to_owned()),
            );
            return;
        };
        let transport = AsyncRwTransport::new_client(stdout, stdin);

        let handshake = async {
            let service = client_info()
                .serve_with_lifecycle(transport, lifecycle())
                .await
                .map_err(|err| err.to_string())?;
            let tools = service
                .list_all_tools()
                .await
                .map_err(|err| err.to_string())?;
            Ok::<_, String>((service, tools))
        };
        let outcome = tokio::select! {
            () = token.cancelled() => None,
            outcome = tokio::time::timeout(HANDSHAKE_TIMEOUT, handshake) => Some(outcome),
        };
        let service = match outcome {
            None => {
                reporter.set(ServerState::Stopping, None);
                stop(&mut *child, None).await;
                reporter.set(ServerState::Stopped, None);
                return;
            }
            Some(Ok(Ok((service, tools)))) => {
                let tools: Vec<ToolInfo> = tools.iter().map(tool_info).collect();
                tracing::info!(tools = tools.len(), "running");
                reporter.update(|status| {
                    status.state = ServerState::Running;
                    status.detail = None;
                    status.tools = tools;
                });
                service
            }
            Some(Ok(Err(err))) => {
                let reason = explain(&err, &mut *child, stderr_done, &tail).await;
                tracing::warn!(%reason, "handshake failed");
                reporter.set(ServerState::Failed, Some(reason));
                return;
            }
            Some(Err(_elapsed)) => {
                stop(&mut *child, None).await;
                let reason = with_tail(
                    format!("no MCP handshake within {} s", HANDSHAKE_TIMEOUT.as_secs()),
                    &tail,
                );
                reporter.set(ServerState::Failed, Some(reason));
                return;
            }
        };

        tokio::select! {
            () = token.cancelled() => {
                reporter.set(ServerState::Stopping, None);
                stop(&mut *child, Some(service)).await;
                reporter.set(ServerState::Stopped, None);
                tracing::info!("stopped");
            }
            status = child.wait() => {
                let exit = match status {
                    Ok(status) => format!("the server exited ({status})"),
                    Err(err) => format!("lost track of the server process: {err}"),
                };
                drain(stderr_done).await;
                let reason = with_tail(exit, &tail);
                tracing::warn!(%reason, "exited");
                reporter.set(ServerState::Failed, Some(reason));
            }
        }
    }
    .instrument(span)
    .await;
}

fn client_info() -> ClientConfig {
    ClientConfig::new(
        ClientCapabilities::default(),
        Implementation::new("gatehouse", env!("CARGO_PKG_VERSION")),
    )
}

/// Probe the 2026-07-28 `server/discover`, fall back to `initialize` for
/// the (many) legacy servers.
fn lifecycle() -> ClientLifecycleMode {
    ClientLifecycleMode::Auto {
        preferred_versions: vec![ProtocolVersion::V_2026_07_28],
        legacy_version: Some(ProtocolVersion::V_2025_11_25),
    }
}

fn tool_info(tool: &rmcp::model::Tool) -> ToolInfo {
    let annotations = tool.annotations.as_ref();
    let read_only = annotations.and_then(|a| a.read_only_hint).unwrap_or(false);
    let destructive = !read_only && annotations.and_then(|a| a.destructive_hint).unwrap_or(true);
    ToolInfo {
        name: tool.name.to_string(),
        title: tool
            .title
            .clone()
            .or_else(|| annotations.and_then(|a| a.title.clone())),
        description: tool.description.as_ref().map(ToString::to_string),
        read_only,
        destructive,
    }
}

/// The MCP stop sequence, applied to the whole process group: close stdin,
/// wait; SIGTERM, wait; SIGKILL.
async fn stop(
    child: &mut dyn ChildWrapper,
    service: Option<RunningService<rmcp::RoleClient, ClientConfig>>,
) {
    match service {
        // Cancelling the service closes the transport, and so the child's stdin.
        Some(service) => drop(service.cancel().await),
        None => drop(child.stdin().take()),
    }
    if tokio::time::timeout(STOP_STEP, child.wait()).await.is_ok() {
        return;
    }
    #[cfg(unix)]
    {
        tracing::debug!("sending SIGTERM to the process group");
        if child.signal(libc::SIGTERM).is_ok()
            && tokio::time::timeout(STOP_STEP, child.wait()).await.is_ok()
        {
            return;
        }
    }
    tracing::debug!("killing the process group");
    if let Err(err) = Box::into_pin(child.kill()).await {
        tracing::warn!(%err, "could not kill the server");
    }
}

/// After a failed handshake: make sure the process is gone, and explain
/// with its exit status and last stderr lines. A server that exited is
/// reported as such: the transport error it caused says nothing more.
async fn explain(
    error: &str,
    child: &mut dyn ChildWrapper,
    stderr_done: Option<tokio::task::JoinHandle<()>>,
    tail: &StderrTail,
) -> String {
    let exited = match child.try_wait() {
        Ok(Some(status)) => Some(status),
        _ => tokio::time::timeout(Duration::from_millis(500), child.wait())
            .await
            .ok()
            .and_then(Result::ok),
    };
    let what = match exited {
        Some(status) => format!("the server exited during the MCP handshake ({status})"),
        None => {
            stop(child, None).await;
            format!("MCP handshake failed: {error}")
        }
    };
    drain(stderr_done).await;
    with_tail(what, tail)
}

/// Waits briefly for the stderr reader to reach end of file, so the last
/// lines a dying server wrote are in the tail.
async fn drain(stderr_done: Option<tokio::task::JoinHandle<()>>) {
    if let Some(handle) = stderr_done {
        // A grandchild may hold the pipe open; do not wait on it for long.
        drop(tokio::time::timeout(Duration::from_millis(500), handle).await);
    }
}

fn with_tail(what: String, tail: &StderrTail) -> String {
    let lines = tail
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let last: Vec<&str> = lines
        .iter()
        .rev()
        .take(3)
        .rev()
        .map(String::as_str)
        .collect();
    if last.is_empty() {
        what
    } else {
        format!("{what}; stderr: {}", last.join(" | "))
    }
}

async fn read_stderr(stderr: tokio::process::ChildStderr, tail: StderrTail) {
    let mut lines = tokio::io::BufReader::new(stderr).lines();
    loop {
        match lines.next_line().await {
            Ok(Some(line)) => {
                tracing::debug!(target: "gatehouse::server_stderr", "{line}");
                let mut tail = tail
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                if tail.len() == STDERR_TAIL_LINES {
                    tail.pop_front();
                }
                tail.push_back(line);
            }
            Ok(None) => break,
            // Not UTF-8 or the pipe broke: nothing more to learn from it.
            Err(_) => break,
        }
    }
}
