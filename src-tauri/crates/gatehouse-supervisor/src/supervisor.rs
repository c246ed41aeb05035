//! [`Supervisor`]: owns one task per server and the snapshot channel, and
//! starts, stops and restarts servers on request.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::SystemTime;

use gatehouse_config::ServerSpec;
use tokio::sync::{broadcast, watch};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::connection::{Connection, ServerEvent};
use crate::launch::LaunchContext;
use crate::logs::{LogLine, ServerLog};
use crate::server::{self, Connections, Reporter};
use crate::status::{ServerState, ServerStatus};

/// Errors of the control methods.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ControlError {
    /// No server of that name is configured.
    #[error("there is no server `{0}`")]
    NoSuchServer(String),
}

/// What [`Supervisor::apply`] changed.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Changes {
    /// Servers new in the config.
    pub added: Vec<String>,
    /// Servers no longer in the config, now stopped.
    pub removed: Vec<String>,
    /// Servers whose configuration changed, restarted (or stopped if disabled).
    pub changed: Vec<String>,
}

/// Runs every enabled server, each in its own task, and publishes their
/// states. Dropping it without [`Supervisor::shutdown`] still kills every
/// process group, but without the graceful stop sequence.
#[derive(Debug)]
pub struct Supervisor {
    statuses: watch::Sender<Vec<ServerStatus>>,
    connections: Connections,
    events: broadcast::Sender<ServerEvent>,
    slots: Mutex<Vec<Slot>>,
    context: Arc<LaunchContext>,
    token: CancellationToken,
    tracker: TaskTracker,
}

#[derive(Debug)]
struct Slot {
    spec: ServerSpec,
    /// Kept across restarts and config changes, until the server is removed.
    log: Arc<ServerLog>,
    running: Option<Running>,
}

#[derive(Debug)]
struct Running {
    token: CancellationToken,
    task: JoinHandle<()>,
}

impl Supervisor {
    /// Kills process groups a previous, crashed Gatehouse left behind (see
    /// `reap`), then starts every enabled server in `servers`. Must be called
    /// inside a Tokio runtime, by the only Gatehouse using `context.pid_dir`.
    /// Returns at once; watch [`Supervisor::subscribe`] for progress.
    pub fn start(servers: &[ServerSpec], context: LaunchContext) -> Supervisor {
        if let Some(dir) = &context.pid_dir {
            crate::reap::reap_leftovers(dir);
        }
        let (statuses, _) = watch::channel(servers.iter().map(initial_status).collect());
        let supervisor = Supervisor {
            statuses,
            connections: Connections::default(),
            events: broadcast::channel(256).0,
            slots: Mutex::new(
                servers
                    .iter()
                    .map(|spec| Slot {
                        spec: spec.clone(),
                        log: Arc::new(ServerLog::new(
                            context.logs_dir.as_deref(),
                            spec.name.as_str(),
                        )),
                        running: None,
                    })
                    .collect(),
            ),
            context: Arc::new(context),
            token: CancellationToken::new(),
            tracker: TaskTracker::new(),
        };
        let mut slots = supervisor.lock();
        for slot in slots.iter_mut().filter(|slot| slot.spec.enabled) {
            slot.running = Some(supervisor.spawn(&slot.spec, &slot.log));
        }
        drop(slots);
        supervisor
    }

    /// A receiver that sees every change of any server's status.
    pub fn subscribe(&self) -> watch::Receiver<Vec<ServerStatus>> {
        self.statuses.subscribe()
    }

    /// The MCP session of `name` while it runs, for forwarding requests.
    pub fn connection(&self, name: &str) -> Option<Connection> {
        self.connections
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(name)
            .cloned()
    }

    /// What servers announce besides tool changes (which are in the
    /// snapshot): prompt and resource list changes, resource updates.
    pub fn events(&self) -> broadcast::Receiver<ServerEvent> {
        self.events.subscribe()
    }

    /// `name`'s state and why, without copying the whole snapshot; `None`
    /// when no such server is configured.
    pub fn state_of(&self, name: &str) -> Option<(ServerState, Option<String>)> {
        self.statuses
            .borrow()
            .iter()
            .find(|status| status.name == name)
            .map(|status| (status.state, status.detail.clone()))
    }

    /// The current status of every configured server, in config order.
    pub fn snapshot(&self) -> Vec<ServerStatus> {
        self.statuses.borrow().clone()
    }

    /// Starts `name` if it is not running (a failed or stopped server, or a
    /// disabled one a person asks for). A running server is left alone.
    ///
    /// # Errors
    /// [`ControlError::NoSuchServer`].
    pub fn start_server(&self, name: &str) -> Result<(), ControlError> {
        let mut slots = self.lock();
        let slot = find(&mut slots, name)?;
        if slot
            .running
            .as_ref()
            .is_some_and(|running| !running.task.is_finished())
        {
            return Ok(());
        }
        tracing::info!(server = name, "start requested");
        slot.running = Some(self.spawn(&slot.spec, &slot.log));
        Ok(())
    }

    /// Stops `name` (the full stop sequence) and waits until it is gone.
    ///
    /// # Errors
    /// [`ControlError::NoSuchServer`].
    pub async fn stop_server(&self, name: &str) -> Result<(), ControlError> {
        let running = find(&mut self.lock(), name)?.running.take();
        tracing::info!(server = name, "stop requested");
        if let Some(running) = running {
            stop(running).await;
        }
        self.report(name).set(ServerState::Stopped, None);
        Ok(())
    }

    /// Stops `name` if it runs, then starts it.
    ///
    /// # Errors
    /// [`ControlError::NoSuchServer`].
    pub async fn restart_server(&self, name: &str) -> Result<(), ControlError> {
        self.stop_server(name).await?;
        self.start_server(name)
    }

    /// Makes the running set match `servers` (a reloaded config), touching
    /// only the servers that were added, removed or changed.
    pub async fn apply(&self, servers: &[ServerSpec]) -> Changes {
        let mut changes = Changes::default();
        let mut to_stop = Vec::new();
        {
            let mut slots = self.lock();
            let mut kept = Vec::with_capacity(servers.len());
            for spec in servers {
                match slots.iter().position(|slot| slot.spec.name == spec.name) {
                    Some(idx) => {
                        let mut slot = slots.remove(idx);
                        if slot.spec != *spec {
                            changes.changed.push(spec.name.to_string());
                            to_stop.extend(slot.running.take());
                            slot.spec = spec.clone();
                        }
                        kept.push(slot);
                    }
                    None => {
                        changes.added.push(spec.name.to_string());
                        kept.push(Slot {
                            spec: spec.clone(),
                            log: Arc::new(ServerLog::new(
                                self.context.logs_dir.as_deref(),
                                spec.name.as_str(),
                            )),
                            running: None,
                        });
                    }
                }
            }
            for mut slot in slots.drain(..) {
                changes.removed.push(slot.spec.name.to_string());
                to_stop.extend(slot.running.take());
            }
            *slots = kept;
        }
        // Cancel them all first, so their stop sequences run side by side.
        for running in &to_stop {
            running.token.cancel();
        }
        for running in to_stop {
            stop(running).await;
        }
        // Statuses follow the new config's order; changed servers start over.
        self.statuses.send_modify(|all| {
            let old = std::mem::take(all);
            *all = servers
                .iter()
                .map(|spec| {
                    let unchanged = !changes
                        .changed
                        .iter()
                        .any(|name| name == spec.name.as_str());
                    old.iter()
                        .find(|status| status.name == spec.name.as_str() && unchanged)
                        .cloned()
                        .unwrap_or_else(|| initial_status(spec))
                })
                .collect();
        });
        let mut slots = self.lock();
        for slot in slots
            .iter_mut()
            .filter(|slot| slot.spec.enabled && slot.running.is_none())
        {
            let name = slot.spec.name.as_str();
            if changes
                .added
                .iter()
                .chain(&changes.changed)
                .any(|n| n == name)
            {
                slot.running = Some(self.spawn(&slot.spec, &slot.log));
            }
        }
        changes
    }

    /// Stops every server (stdin closed, then SIGTERM, then SIGKILL to its
    /// process group) and waits until all of them are gone. Calling it again
    /// waits for the same shutdown.
    pub async fn shutdown(&self) {
        self.token.cancel();
        self.tracker.close();
        self.tracker.wait().await;
    }

    /// The last lines of `name`'s log and a receiver for what follows.
    pub fn logs(&self, name: &str) -> Option<(Vec<LogLine>, broadcast::Receiver<LogLine>)> {
        self.lock()
            .iter()
            .find(|slot| slot.spec.name.as_str() == name)
            .map(|slot| slot.log.follow())
    }

    fn spawn(&self, spec: &ServerSpec, log: &Arc<ServerLog>) -> Running {
        let token = self.token.child_token();
        let task = self.tracker.spawn(server::run(
            spec.clone(),
            self.context.clone(),
            self.report(spec.name.as_str()),
            log.clone(),
            token.clone(),
        ));
        Running { token, task }
    }

    fn report(&self, name: &str) -> Reporter {
        Reporter {
            name: name.to_owned(),
            statuses: self.statuses.clone(),
            connections: self.connections.clone(),
            events: self.events.clone(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Slot>> {
        // Every critical section is a few field moves; a panic cannot leave
        // the list half-changed.
        self.slots.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

fn find<'a>(slots: &'a mut [Slot], name: &str) -> Result<&'a mut Slot, ControlError> {
    slots
        .iter_mut()
        .find(|slot| slot.spec.name.as_str() == name)
        .ok_or_else(|| ControlError::NoSuchServer(name.to_owned()))
}

async fn stop(running: Running) {
    running.token.cancel();
    if let Err(err) = running.task.await {
        tracing::warn!(%err, "a server task ended abnormally");
    }
}

fn initial_status(spec: &ServerSpec) -> ServerStatus {
    ServerStatus {
        name: spec.name.to_string(),
        state: if spec.enabled {
            ServerState::Starting
        } else {
            ServerState::Disabled
        },
        command: spec.command.clone(),
        args: spec.args.clone(),
        resolved_command: None,
        pid: None,
        restarts: 0,
        tools: Vec::new(),
        detail: None,
        since: SystemTime::now(),
    }
}
