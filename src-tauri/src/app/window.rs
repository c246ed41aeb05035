//! The windows: the main window and the approval dialog, each created on
//! demand and focused if it already exists.

use tauri::{AppHandle, Manager, WebviewUrl, WebviewWindowBuilder};

/// The main window's label; the capability file grants commands to it.
pub const MAIN: &str = "main";

/// Shows the main window, creating it if it does not exist. Errors are
/// logged: there is nobody else to tell.
pub fn open_main(app: &AppHandle) {
    if let Some(window) = app.get_webview_window(MAIN) {
        let shown = window
            .unminimize()
            .and_then(|()| window.show())
            .and_then(|()| window.set_focus());
        if let Err(err) = shown {
            tracing::warn!(%err, "cannot focus the main window");
        }
        return;
    }
    let built = WebviewWindowBuilder::new(app, MAIN, WebviewUrl::App("index.html".into()))
        .title("Gatehouse")
        .inner_size(960.0, 640.0)
        .min_inner_size(560.0, 400.0)
        .build();
    if let Err(err) = built {
        tracing::error!(%err, "cannot open the main window");
    }
}

/// The approval dialog's label; its own capability grants it only the
/// approval commands.
pub const APPROVAL: &str = "approval";

/// Whether the approval dialog is on screen now (not closed, hidden or
/// minimized).
pub fn approval_visible(app: &AppHandle) -> bool {
    app.get_webview_window(APPROVAL).is_some_and(|window| {
        window.is_visible().unwrap_or(false) && !window.is_minimized().unwrap_or(false)
    })
}

/// Shows the approval dialog on top of everything, focused, creating it if
/// needed.
pub fn open_approval(app: &AppHandle) {
    if let Some(window) = app.get_webview_window(APPROVAL) {
        let shown = window
            .unminimize()
            .and_then(|()| window.show())
            .and_then(|()| window.set_always_on_top(true))
            .and_then(|()| window.set_focus());
        if let Err(err) = shown {
            tracing::warn!(%err, "cannot show the approval dialog");
        }
        return;
    }
    let built = WebviewWindowBuilder::new(app, APPROVAL, WebviewUrl::App("approval.html".into()))
        .title("Gatehouse: approve a tool call")
        .inner_size(480.0, 620.0)
        .min_inner_size(380.0, 420.0)
        .always_on_top(true)
        .focused(true)
        .center()
        .build();
    if let Err(err) = built {
        tracing::error!(%err, "cannot open the approval dialog");
    }
}

/// Closes the approval dialog (nothing is waiting any more).
pub fn close_approval(app: &AppHandle) {
    if let Some(window) = app.get_webview_window(APPROVAL)
        && let Err(err) = window.close()
    {
        tracing::debug!(%err, "cannot close the approval dialog");
    }
}
