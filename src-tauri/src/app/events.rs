//! The core's events, as this process receives them: passed on to the web
//! views, and for waiting calls, the approval dialog brought up and closed.
//! When the core goes away (Gatehouse quit), so do the windows.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use gatehouse_cli::desk::{ACTIVITY_CHANGED, APPROVALS_CHANGED, CLIENTS_CHANGED, SERVERS_CHANGED};
use gatehouse_core::approvals::PendingCall;
use gatehouse_core::control::{Client, Response};
use gatehouse_core::desk::Event;
use tauri::{AppHandle, Emitter};

use crate::window;

/// How long the approval dialog stays after its last call was answered.
const DIALOG_CLOSE_DELAY: Duration = Duration::from_millis(600);

/// Follows `stream` (a `Watch` connection) until the core ends it, then
/// quits this process.
pub fn follow(handle: AppHandle, mut stream: Client) {
    tauri::async_runtime::spawn(async move {
        let mut dialog = Dialog::default();
        loop {
            match stream.next().await {
                Ok(Some(Response::Event(event))) => dialog.on_event(&handle, event),
                Ok(Some(other)) => tracing::debug!(?other, "not an event; ignored"),
                Ok(None) => break,
                Err(err) => {
                    tracing::warn!(%err, "lost the connection to Gatehouse");
                    break;
                }
            }
        }
        // The stream ends when the core does (Quit, SIGTERM, a crash): with
        // no core behind them the windows can show nothing true, so they go
        // too. That is the normal end of this process, hence status 0.
        tracing::info!("Gatehouse quit: closing its windows");
        handle.exit(0);
    });
}

/// The approval dialog's state: which calls it has shown, and a pending
/// close (cancelled by any newer change).
#[derive(Default)]
struct Dialog {
    seen: u64,
    changes: Arc<AtomicU64>,
}

impl Dialog {
    fn on_event(&mut self, handle: &AppHandle, event: Event) {
        if event.name == APPROVALS_CHANGED {
            let pending: Vec<PendingCall> = match serde_json::from_value(event.payload) {
                Ok(pending) => pending,
                Err(err) => {
                    tracing::warn!(%err, "cannot read the waiting calls");
                    return;
                }
            };
            self.on_pending(handle, &pending);
            emit(handle, APPROVALS_CHANGED, pending.len());
        } else if [SERVERS_CHANGED, ACTIVITY_CHANGED, CLIENTS_CHANGED]
            .contains(&event.name.as_str())
        {
            emit(handle, &event.name, event.payload);
        } else {
            tracing::debug!(name = %event.name, "an event this window does not know");
        }
    }

    /// Puts each new waiting call in front of the person: the dialog comes
    /// up (on top, focused), with a desktop notification when it was not
    /// already on screen. When nothing waits any more the dialog closes, a
    /// moment later: the person sees the last answer land, and a call
    /// arriving right after reuses the window.
    fn on_pending(&mut self, handle: &AppHandle, pending: &[PendingCall]) {
        let change = self.changes.fetch_add(1, Ordering::SeqCst) + 1;
        let newest = pending.iter().map(|call| call.id).max().unwrap_or(0);
        if let Some(call) = pending.last()
            && newest > self.seen
        {
            if !window::approval_visible(handle) {
                notify(handle, call);
            }
            window::open_approval(handle);
        }
        self.seen = self.seen.max(newest);
        if pending.is_empty() {
            let changes = self.changes.clone();
            let handle = handle.clone();
            tauri::async_runtime::spawn(async move {
                tokio::time::sleep(DIALOG_CLOSE_DELAY).await;
                if changes.load(Ordering::SeqCst) == change {
                    window::close_approval(&handle);
                }
            });
        }
    }
}

fn emit(handle: &AppHandle, name: &str, payload: impl serde::Serialize + Clone) {
    if let Err(err) = handle.emit(name, payload) {
        tracing::debug!(%err, "cannot notify the UI");
    }
}

fn notify(handle: &AppHandle, call: &PendingCall) {
    use tauri_plugin_notification::NotificationExt;

    let shown = handle
        .notification()
        .builder()
        .title("Gatehouse: approve a tool call?")
        .body(format!(
            "{} wants to run {} on {}.",
            call.client, call.tool, call.server
        ))
        .show();
    if let Err(err) = shown {
        // No notification daemon (a bare X session): the dialog shows it.
        tracing::debug!(%err, "cannot show a desktop notification");
    }
}
