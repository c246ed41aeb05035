//! Hot reload: when `gatehouse.toml` changes on disk (by hand or through
//! `gatehouse server add|remove`), the running servers are made to match,
//! touching only those that were added, removed or changed.
//!
//! The directory is watched rather than the file, because editors save by
//! writing a new file and renaming it over the old one. Bursts of events are
//! debounced. A file that does not parse is reported (with its location)
//! and changes nothing: the servers keep running as they were. Approval
//! rules and settings apply from the next call.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use gatehouse_approvals::Approvals;
use gatehouse_supervisor::Supervisor;
use notify::{RecursiveMode, Watcher};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// How long the file must be quiet before it is reloaded.
const DEBOUNCE: Duration = Duration::from_millis(250);

/// Starts watching `config_file`. The returned watcher must be kept alive.
pub(crate) fn watch(
    config_file: &Path,
    supervisor: Arc<Supervisor>,
    approvals: Approvals,
    token: CancellationToken,
    tracker: &TaskTracker,
) -> notify::Result<notify::RecommendedWatcher> {
    let file_name = config_file.file_name().map(ToOwned::to_owned);
    let dir = config_file.parent().unwrap_or(Path::new(".")).to_owned();
    let (sender, mut events) = tokio::sync::mpsc::unbounded_channel::<()>();
    let mut watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        let Ok(event) = event else { return };
        let ours = event
            .paths
            .iter()
            .any(|path| path.file_name() == file_name.as_deref());
        if ours && !event.kind.is_access() {
            // Fails only once the reload task is gone, at shutdown.
            let _ = sender.send(());
        }
    })?;
    watcher.watch(&dir, RecursiveMode::NonRecursive)?;

    let path: PathBuf = config_file.to_owned();
    tracker.spawn(async move {
        loop {
            tokio::select! {
                () = token.cancelled() => break,
                event = events.recv() => if event.is_none() { break },
            }
            // Debounce: wait until no event came for a while.
            loop {
                tokio::select! {
                    () = token.cancelled() => return,
                    () = tokio::time::sleep(DEBOUNCE) => break,
                    _ = events.recv() => {}
                }
            }
            reload(&path, &supervisor, &approvals).await;
        }
    });
    Ok(watcher)
}

async fn reload(path: &Path, supervisor: &Supervisor, approvals: &Approvals) {
    match gatehouse_config::load(path) {
        Ok(config) => {
            // Rules and approval settings apply to the next call; no server
            // restarts for them.
            approvals.set_settings(config.approvals);
            let changes = supervisor.apply(&config.servers).await;
            if changes == Default::default() {
                tracing::debug!("config reloaded: no server changed");
            } else {
                tracing::info!(
                    added = ?changes.added,
                    removed = ?changes.removed,
                    changed = ?changes.changed,
                    "config reloaded"
                );
            }
        }
        Err(err) => {
            tracing::warn!(%err, "config not applied; the servers keep running as they were")
        }
    }
}
