//! The main window: created on demand, focused if it already exists.

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
