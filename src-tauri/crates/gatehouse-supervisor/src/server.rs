//! The task that runs one server: spawn, handshake, watch, stop.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use gatehouse_config::ServerSpec;
use process_wrap::tokio::ChildWrapper;
use rmcp::model::{ClientRequest, ListToolsRequest, PaginatedRequestParams, ProtocolVersion};
use rmcp::service::{ClientLifecycleMode, ClientServiceExt, RunningService};
use rmcp::transport::async_rw::AsyncRwTransport;
use tokio::sync::{Notify, broadcast, watch};
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use crate::connection::{ChildHandler, Connection, ProgressRoutes, RawResults, ServerEvent};
use crate::launch::{self, LaunchContext};
use crate::logs::{LogStream, MAX_LOG_LINE, ServerLog, read_line_bounded};
use crate::reap;
use crate::secrets::Scrubber;
use crate::status::{ServerState, ServerStatus, ToolInfo};
use crate::stdout_filter;

/// How long a server may take from spawn to a finished handshake and tool list.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(60);
/// How long each step of the stop sequence waits for the group to exit.
const STOP_STEP: Duration = Duration::from_secs(3);
/// How many of the last stderr lines are kept to explain a failure.
const STDERR_TAIL_LINES: usize = 20;

/// The running servers' sessions, by server name.
pub(crate) type Connections = Arc<Mutex<std::collections::HashMap<String, Connection>>>;

/// Writes one server's entry in the shared snapshot, and publishes its
/// session while it runs.
#[derive(Clone)]
pub(crate) struct Reporter {
    pub(crate) name: String,
    pub(crate) statuses: watch::Sender<Vec<ServerStatus>>,
    pub(crate) connections: Connections,
    pub(crate) events: broadcast::Sender<ServerEvent>,
}

impl Reporter {
    fn connections(
        &self,
    ) -> std::sync::MutexGuard<'_, std::collections::HashMap<String, Connection>> {
        self.connections
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Makes `connection` the one the gateway forwards to.
    fn publish(&self, connection: Connection) {
        self.connections().insert(self.name.clone(), connection);
    }

    /// Takes this server's session away, if it is still the published one.
    fn withdraw(&self) {
        self.connections().remove(&self.name);
    }

    fn update(&self, change: impl FnOnce(&mut ServerStatus)) {
        self.statuses.send_modify(|all| {
            if let Some(status) = all.iter_mut().find(|status| status.name == self.name) {
                let before = status.state;
                change(status);
                if status.state != before {
                    status.since = SystemTime::now();
                }
            }
        });
    }

    pub(crate) fn set(&self, state: ServerState, detail: Option<String>) {
        self.update(|status| {
            status.state = state;
            status.detail = detail;
            if !matches!(state, ServerState::Running | ServerState::Stopping) {
                status.tools.clear();
            }
            if matches!(
                state,
                ServerState::Failed | ServerState::Stopped | ServerState::BackingOff
            ) {
                status.pid = None;
            }
        });
    }
}

type StderrTail = Arc<Mutex<VecDeque<String>>>;

/// A server's pid file, removed on drop.
struct PidFile(std::path::PathBuf);

impl PidFile {
    fn record(dir: &std::path::Path, server: &str, pid: u32) -> PidFile {
        let path = reap::pid_file(dir, server);
        reap::record(&path, pid);
        PidFile(path)
    }
}

impl Drop for PidFile {
    fn drop(&mut self) {
        reap::forget(&self.0);
    }
}

/// How one start of a server ended.
enum Attempt {
    /// Gatehouse stopped it.
    Stopped,
    /// It exited or failed its handshake: worth retrying after a pause.
    Crashed(String),
    /// It cannot start until a person changes something (a missing command).
    Unstartable(String),
}

/// The restart policy: exponential backoff, and a breaker for crash loops.
#[derive(Debug)]
pub(crate) struct Backoff {
    /// When recent crashes happened, oldest first, within [`CRASH_WINDOW`].
    crashes: VecDeque<Instant>,
}

/// Crashes within this window count towards the breaker.
pub(crate) const CRASH_WINDOW: Duration = Duration::from_secs(60);
/// This many crashes within the window stop the restarts.
pub(crate) const CRASH_LIMIT: usize = 5;
/// The first pause; each further crash in the window doubles it.
const FIRST_PAUSE: Duration = Duration::from_millis(500);
/// The longest pause between restarts.
const MAX_PAUSE: Duration = Duration::from_secs(30);

impl Backoff {
    pub(crate) fn new() -> Backoff {
        Backoff {
            crashes: VecDeque::new(),
        }
    }

    /// Records a crash at `now`: the pause before the next start, or `None`
    /// when the server crashed [`CRASH_LIMIT`] times within [`CRASH_WINDOW`].
    pub(crate) fn crashed(&mut self, now: Instant) -> Option<Duration> {
        while self
            .crashes
            .front()
            .is_some_and(|first| now.duration_since(*first) > CRASH_WINDOW)
        {
            self.crashes.pop_front();
        }
        self.crashes.push_back(now);
        let recent = self.crashes.len();
        if recent >= CRASH_LIMIT {
            return None;
        }
        let doublings = u32::try_from(recent - 1).unwrap_or(u32::MAX).min(16);
        Some(FIRST_PAUSE.saturating_mul(1 << doublings).min(MAX_PAUSE))
    }
}

/// Runs `spec` until `token` is cancelled: restarts it after a crash with
/// exponential backoff, and gives up (state `Failed`, with the reason) on a
/// crash loop or when it cannot be started at all. Nothing is returned; the
/// outcome is in the published status.
pub(crate) async fn run(
    spec: ServerSpec,
    context: Arc<LaunchContext>,
    reporter: Reporter,
    log: Arc<ServerLog>,
    token: CancellationToken,
) {
    let span = tracing::info_span!("server", server = %spec.name);
    async move {
        let mut backoff = Backoff::new();
        let mut restarts: u32 = 0;
        loop {
            let reason = match attempt(&spec, &context, &reporter, &log, &token).await {
                Attempt::Stopped => {
                    log.push(LogStream::Gatehouse, "stopped".to_owned());
                    return;
                }
                Attempt::Unstartable(reason) => {
                    tracing::warn!(%reason, "cannot start");
                    log.push(LogStream::Gatehouse, format!("cannot start: {reason}"));
                    reporter.set(ServerState::Failed, Some(reason));
                    return;
                }
                Attempt::Crashed(reason) => reason,
            };
            let Some(pause) = backoff.crashed(Instant::now()) else {
                let reason = format!(
                    "crashed {CRASH_LIMIT} times within {} s, so Gatehouse stopped restarting it; last: {reason}",
                    CRASH_WINDOW.as_secs()
                );
                tracing::warn!(%reason, "crash loop");
                log.push(LogStream::Gatehouse, reason.clone());
                reporter.set(ServerState::Failed, Some(reason));
                return;
            };
            restarts += 1;
            let restart_in_ms = u64::try_from(pause.as_millis()).unwrap_or(u64::MAX);
            tracing::warn!(%reason, restart_in_ms, "crashed");
            log.push(LogStream::Gatehouse, format!("{reason}; restarting in {}", human(pause)));
            reporter.update(|status| status.restarts = restarts);
            reporter.set(
                ServerState::BackingOff,
                Some(format!("{reason}; restarting in {}", human(pause))),
            );
            tokio::select! {
                () = token.cancelled() => {
                    reporter.set(ServerState::Stopped, None);
                    return;
                }
                () = tokio::time::sleep(pause) => {}
            }
        }
    }
    .instrument(span)
    .await;
}

fn human(pause: Duration) -> String {
    if pause < Duration::from_secs(1) {
        format!("{} ms", pause.as_millis())
    } else {
        format!("{} s", pause.as_secs())
    }
}

/// One start of the server, from spawn to exit.
async fn attempt(
    spec: &ServerSpec,
    context: &LaunchContext,
    reporter: &Reporter,
    log: &Arc<ServerLog>,
    token: &CancellationToken,
) -> Attempt {
    reporter.set(ServerState::Starting, None);
    let cwd = spec
        .cwd
        .clone()
        .unwrap_or_else(|| context.default_cwd.clone());
    let program =
        match launch::resolve_command(&spec.command, &context.self_exe, &context.search_path, &cwd)
        {
            Ok(program) => program,
            Err(reason) => return Attempt::Unstartable(reason),
        };
    reporter.update(|status| status.resolved_command = Some(program.clone()));

    let secret_env = match launch::secret_env(spec, context) {
        Ok(secret_env) => secret_env,
        Err(reason) => return Attempt::Unstartable(reason),
    };
    let scrubber = Scrubber::new(secret_env.iter().map(|(_, value)| value.clone()));
    let mut child = match launch::spawn(spec, &program, context, &secret_env) {
        Ok(child) => child,
        Err(err) => {
            return Attempt::Unstartable(format!("cannot start `{}`: {err}", program.display()));
        }
    };
    drop(secret_env);
    let pid = child.id();
    // Removed when this attempt ends, however it ends.
    let _pid_file = context
        .pid_dir
        .as_deref()
        .zip(pid)
        .map(|(dir, pid)| PidFile::record(dir, spec.name.as_str(), pid));
    reporter.update(|status| status.pid = pid);
    tracing::info!(pid, program = %program.display(), "spawned");
    log.push(
        LogStream::Gatehouse,
        format!(
            "started {} (pid {})",
            program.display(),
            pid.unwrap_or_default()
        ),
    );

    let tail = StderrTail::default();
    let stderr_done = child.stderr().take().map(|stderr| {
        tokio::spawn(
            read_stderr(stderr, tail.clone(), scrubber.clone(), log.clone()).in_current_span(),
        )
    });
    let (Some(stdout), Some(stdin)) = (child.stdout().take(), child.stdin().take()) else {
        stop(&mut *child, None).await;
        return Attempt::Unstartable("the server's stdio could not be captured".to_owned());
    };
    // MCP messages go on to rmcp; anything else on stdout goes to the log.
    let raw = Arc::new(RawResults::default());
    let progress = Arc::new(ProgressRoutes::default());
    let (messages, filter_output) = tokio::io::duplex(64 * 1024);
    tokio::spawn(
        stdout_filter::run(
            stdout,
            filter_output,
            log.clone(),
            scrubber.clone(),
            raw.clone(),
            progress.clone(),
        )
        .in_current_span(),
    );
    let transport = AsyncRwTransport::new_client(messages, stdin);
    let tools_changed = Arc::new(Notify::new());
    let handler = ChildHandler {
        server: spec.name.to_string(),
        events: reporter.events.clone(),
        tools_changed: tools_changed.clone(),
    };
    // Cancelled when this attempt ends: forwarded requests fail at once.
    let closed = CancellationToken::new();
    let _closed_on_exit = closed.clone().drop_guard();

    let handshake = async {
        let service = handler
            .serve_with_lifecycle(transport, lifecycle())
            .await
            .map_err(|err| err.to_string())?;
        let connection = Connection::new(
            spec.name.as_str(),
            service.peer().clone(),
            raw.clone(),
            progress.clone(),
            closed.clone(),
            scrubber.clone(),
        );
        let tools = list_tools(&connection).await?;
        Ok::<_, String>((service, connection, tools))
    };
    let outcome = tokio::select! {
        () = token.cancelled() => None,
        outcome = tokio::time::timeout(HANDSHAKE_TIMEOUT, handshake) => Some(outcome),
    };
    let (service, connection) = match outcome {
        None => {
            reporter.set(ServerState::Stopping, None);
            stop(&mut *child, None).await;
            reporter.set(ServerState::Stopped, None);
            return Attempt::Stopped;
        }
        Some(Ok(Ok((service, connection, tools)))) => {
            tracing::info!(tools = tools.len(), "running");
            log.push(
                LogStream::Gatehouse,
                format!("running, {} tools", tools.len()),
            );
            reporter.update(|status| {
                status.state = ServerState::Running;
                status.detail = None;
                status.tools = tools;
            });
            reporter.publish(connection.clone());
            tokio::spawn(
                crate::connection::listen_for_changes(
                    connection.clone(),
                    reporter.events.clone(),
                    tools_changed.clone(),
                )
                .in_current_span(),
            );
            (service, connection)
        }
        Some(Ok(Err(err))) => {
            return Attempt::Crashed(explain(&err, &mut *child, stderr_done, &tail).await);
        }
        Some(Err(_elapsed)) => {
            stop(&mut *child, None).await;
            return Attempt::Crashed(with_tail(
                format!("no MCP handshake within {} s", HANDSHAKE_TIMEOUT.as_secs()),
                &tail,
            ));
        }
    };

    loop {
        tokio::select! {
            () = token.cancelled() => {
                reporter.withdraw();
                closed.cancel();
                reporter.set(ServerState::Stopping, None);
                stop(&mut *child, Some(service)).await;
                reporter.set(ServerState::Stopped, None);
                tracing::info!("stopped");
                break Attempt::Stopped;
            }
            status = child.wait() => {
                reporter.withdraw();
                closed.cancel();
                let exit = match status {
                    Ok(status) => format!("the server exited ({status})"),
                    Err(err) => format!("lost track of the server process: {err}"),
                };
                drain(stderr_done).await;
                break Attempt::Crashed(with_tail(exit, &tail));
            }
            () = tools_changed.notified() => {
                refresh_tools(&connection, reporter, log).await;
            }
        }
    }
}

/// After `notifications/tools/list_changed`: list again and publish.
async fn refresh_tools(connection: &Connection, reporter: &Reporter, log: &ServerLog) {
    match list_tools(connection).await {
        Ok(tools) => {
            tracing::info!(tools = tools.len(), "tool list changed");
            log.push(
                LogStream::Gatehouse,
                format!("tool list changed: {} tools", tools.len()),
            );
            reporter.update(|status| status.tools = tools);
        }
        Err(err) => tracing::warn!(%err, "could not list the changed tools"),
    }
}

/// Every page of `tools/list`, each tool kept as the server sent it.
async fn list_tools(connection: &Connection) -> Result<Vec<ToolInfo>, String> {
    let never = CancellationToken::new();
    let mut tools = Vec::new();
    let mut cursor = None;
    // A server that keeps handing out cursors must not hold the handshake
    // forever.
    for _page in 0..1000 {
        let request = ClientRequest::ListToolsRequest(ListToolsRequest::with_param(
            PaginatedRequestParams::default().with_cursor(cursor),
        ));
        let result: serde_json::Value = connection
            .request(request, None, &never)
            .await
            .map_err(|err| format!("tools/list failed: {err}"))?;
        let page = result
            .get("tools")
            .and_then(serde_json::Value::as_array)
            .ok_or("tools/list returned no `tools` array")?;
        for definition in page {
            match serde_json::from_value::<rmcp::model::Tool>(definition.clone()) {
                Ok(tool) => tools.push(tool_info(&tool, definition.clone())),
                Err(err) => tracing::warn!(%err, "skipped a tool the server described badly"),
            }
        }
        cursor = result
            .get("nextCursor")
            .and_then(serde_json::Value::as_str)
            .map(str::to_owned);
        if cursor.is_none() {
            return Ok(tools);
        }
    }
    Err("tools/list kept returning more pages (1000 and counting)".to_owned())
}

/// Probe the 2026-07-28 `server/discover`, fall back to `initialize` for
/// the (many) legacy servers.
fn lifecycle() -> ClientLifecycleMode {
    ClientLifecycleMode::Auto {
        preferred_versions: vec![ProtocolVersion::V_2026_07_28],
        legacy_version: Some(ProtocolVersion::V_2025_11_25),
    }
}

fn tool_info(tool: &rmcp::model::Tool, definition: serde_json::Value) -> ToolInfo {
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
        input_schema: serde_json::Value::Object(tool.input_schema.as_ref().clone()),
        annotations: annotations.and_then(|a| serde_json::to_value(a).ok()),
        definition,
    }
}

/// The MCP stop sequence, applied to the whole process group: close stdin,
/// wait; SIGTERM, wait; SIGKILL.
async fn stop(
    child: &mut dyn ChildWrapper,
    service: Option<RunningService<rmcp::RoleClient, ChildHandler>>,
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

/// Logs the server's stderr and keeps its last lines, with secret values
/// masked and each line capped in length.
async fn read_stderr(
    stderr: tokio::process::ChildStderr,
    tail: StderrTail,
    scrubber: Scrubber,
    log: Arc<ServerLog>,
) {
    let mut reader = tokio::io::BufReader::new(stderr);
    // Ends at end of file, or when the pipe breaks: nothing more to learn.
    while let Ok(Some(line)) = read_line_bounded(&mut reader, MAX_LOG_LINE).await {
        let line = scrubber.scrub(&line.text());
        tracing::debug!(target: "gatehouse::server_stderr", "{line}");
        log.push(LogStream::Stderr, line.clone());
        let mut tail = tail
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if tail.len() == STDERR_TAIL_LINES {
            tail.pop_front();
        }
        tail.push_back(line);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_from_half_a_second_and_breaks_a_crash_loop() {
        let start = Instant::now();
        let mut backoff = Backoff::new();
        let pauses: Vec<Option<Duration>> = (0..CRASH_LIMIT)
            .map(|n| backoff.crashed(start + Duration::from_secs(u64::try_from(n).unwrap())))
            .collect();
        assert_eq!(
            pauses,
            [
                Some(Duration::from_millis(500)),
                Some(Duration::from_secs(1)),
                Some(Duration::from_secs(2)),
                Some(Duration::from_secs(4)),
                None,
            ]
        );
    }

    #[test]
    fn crashes_older_than_the_window_are_forgotten() {
        let start = Instant::now();
        let mut backoff = Backoff::new();
        for n in 0..4 {
            assert!(backoff.crashed(start + Duration::from_secs(n)).is_some());
        }
        // A minute later the old crashes no longer count: a fresh first pause.
        let later = start + CRASH_WINDOW + Duration::from_secs(10);
        assert_eq!(backoff.crashed(later), Some(Duration::from_millis(500)));
    }
}
