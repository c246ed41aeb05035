//! [`Supervisor`]: owns one task per server and the snapshot channel.

use std::sync::Arc;
use std::time::SystemTime;

use gatehouse_config::ServerSpec;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::launch::LaunchContext;
use crate::server::{self, Reporter};
use crate::status::{ServerState, ServerStatus};

/// Runs every enabled server, each in its own task, and publishes their
/// states. Dropping it without [`Supervisor::shutdown`] still kills every
/// process group, but without the graceful stop sequence.
#[derive(Debug)]
pub struct Supervisor {
    statuses: watch::Receiver<Vec<ServerStatus>>,
    token: CancellationToken,
    tracker: TaskTracker,
}

impl Supervisor {
    /// Kills process groups a previous, crashed Gatehouse left behind (see
    /// `reap`), then starts every enabled server in `servers`. Must be called
    /// inside a Tokio runtime, by the only Gatehouse using `context.pid_dir`. Returns at once; watch [`Supervisor::subscribe`] for progress.
    pub fn start(servers: &[ServerSpec], context: LaunchContext) -> Supervisor {
        if let Some(dir) = &context.pid_dir {
            crate::reap::reap_leftovers(dir);
        }
        let now = SystemTime::now();
        let initial = servers
            .iter()
            .map(|spec| ServerStatus {
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
                since: now,
            })
            .collect();
        let (sender, receiver) = watch::channel(initial);
        let token = CancellationToken::new();
        let tracker = TaskTracker::new();
        let context = Arc::new(context);
        for (index, spec) in servers.iter().enumerate().filter(|(_, spec)| spec.enabled) {
            let reporter = Reporter {
                index,
                statuses: sender.clone(),
            };
            tracker.spawn(server::run(
                spec.clone(),
                context.clone(),
                reporter,
                token.child_token(),
            ));
        }
        tracker.close();
        Supervisor {
            statuses: receiver,
            token,
            tracker,
        }
    }

    /// A receiver that sees every change of any server's status.
    pub fn subscribe(&self) -> watch::Receiver<Vec<ServerStatus>> {
        self.statuses.clone()
    }

    /// The current status of every configured server, in config order.
    pub fn snapshot(&self) -> Vec<ServerStatus> {
        self.statuses.borrow().clone()
    }

    /// Stops every server (stdin closed, then SIGTERM, then SIGKILL to its
    /// process group) and waits until all of them are gone.
    /// Calling it again waits for the same shutdown.
    pub async fn shutdown(&self) {
        self.token.cancel();
        self.tracker.wait().await;
    }
}
