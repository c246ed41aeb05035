//! The tray icon: Gatehouse's state at a glance, and its menu.
//!
//! Menu handlers stay thin (open the window, quit): tray menus cannot be
//! clicked in headless tests, so what they call is tested on its own.

use gatehouse_core::supervisor::{ServerState, ServerStatus};
use tauri::image::Image;
use tauri::menu::{Menu, MenuItem, PredefinedMenuItem};
use tauri::tray::TrayIconBuilder;
use tauri::{AppHandle, Wry};

use crate::window;

const TRAY_ID: &str = "gatehouse";
/// Servers listed in the menu before it says "and N more".
const MENU_SERVER_LIMIT: usize = 12;

const ICON_NORMAL: &[u8] = include_bytes!("../../../icons/tray.png");
const ICON_ATTENTION: &[u8] = include_bytes!("../../../icons/tray-attention.png");
const ICON_ERROR: &[u8] = include_bytes!("../../../icons/tray-error.png");

/// What the icon says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mood {
    /// All is well.
    Normal,
    /// Something waits for the person (pending approvals).
    Attention,
    /// A server failed.
    Error,
}

/// The icon's mood for these servers and this many waiting calls. Waiting
/// calls win: they need the person now, and time out.
pub fn mood(servers: &[ServerStatus], pending: usize) -> Mood {
    if pending > 0 {
        Mood::Attention
    } else if servers.iter().any(|s| s.state == ServerState::Failed) {
        Mood::Error
    } else {
        Mood::Normal
    }
}

/// The menu line for waiting calls, `None` when none wait.
pub fn pending_line(pending: usize) -> Option<String> {
    match pending {
        0 => None,
        1 => Some("1 call waiting for approval…".to_owned()),
        n => Some(format!("{n} calls waiting for approval…")),
    }
}

/// The tooltip and the menu's first line.
pub fn summary(servers: &[ServerStatus], pending: usize) -> String {
    let running = servers
        .iter()
        .filter(|s| s.state == ServerState::Running)
        .count();
    let failed = servers
        .iter()
        .filter(|s| s.state == ServerState::Failed)
        .count();
    let mut text = match servers.len() {
        0 => "Gatehouse: no servers".to_owned(),
        1 => format!("Gatehouse: {running} of 1 server running"),
        n => format!("Gatehouse: {running} of {n} servers running"),
    };
    if failed > 0 {
        text.push_str(&format!(", {failed} failed"));
    }
    if pending > 0 {
        text.push_str(&format!(", {pending} waiting for approval"));
    }
    text
}

/// One menu line per server, capped at [`MENU_SERVER_LIMIT`].
pub fn server_lines(servers: &[ServerStatus]) -> Vec<String> {
    let mut lines: Vec<String> = servers
        .iter()
        .take(MENU_SERVER_LIMIT)
        .map(|s| {
            let dot = match s.state {
                ServerState::Running => "●",
                ServerState::Failed => "✕",
                ServerState::Starting | ServerState::BackingOff | ServerState::Stopping => "◐",
                ServerState::Stopped | ServerState::Disabled => "○",
            };
            format!("{dot} {} — {}", s.name, s.state.as_str().replace('_', " "))
        })
        .collect();
    if servers.len() > MENU_SERVER_LIMIT {
        lines.push(format!("… and {} more", servers.len() - MENU_SERVER_LIMIT));
    }
    lines
}

/// Creates the tray icon with an empty server list; [`refresh`] fills it.
pub fn create(app: &AppHandle) -> tauri::Result<()> {
    TrayIconBuilder::with_id(TRAY_ID)
        .icon(icon(Mood::Normal)?)
        .tooltip("Gatehouse")
        .menu(&menu(app, &[], 0)?)
        .show_menu_on_left_click(true)
        .on_menu_event(|app, event| match event.id().as_ref() {
            "open" => window::open_main(app),
            "approvals" => window::open_approval(app),
            "quit" => app.exit(0),
            _ => {}
        })
        .build(app)?;
    Ok(())
}

/// Updates icon, tooltip and menu to `servers` and the number of waiting
/// calls. Errors are logged.
pub fn refresh(app: &AppHandle, servers: &[ServerStatus], pending: usize) {
    let Some(tray) = app.tray_by_id(TRAY_ID) else {
        return;
    };
    let result = icon(mood(servers, pending))
        .and_then(|icon| tray.set_icon(Some(icon)))
        .and_then(|()| tray.set_tooltip(Some(summary(servers, pending))))
        .and_then(|()| menu(app, servers, pending))
        .and_then(|menu| tray.set_menu(Some(menu)));
    if let Err(err) = result {
        tracing::warn!(%err, "cannot update the tray");
    }
}

fn icon(mood: Mood) -> tauri::Result<Image<'static>> {
    let bytes = match mood {
        Mood::Normal => ICON_NORMAL,
        Mood::Attention => ICON_ATTENTION,
        Mood::Error => ICON_ERROR,
    };
    Image::from_bytes(bytes)
}

fn menu(app: &AppHandle, servers: &[ServerStatus], pending: usize) -> tauri::Result<Menu<Wry>> {
    let menu = Menu::new(app)?;
    menu.append(&MenuItem::with_id(
        app,
        "summary",
        summary(servers, pending),
        false,
        None::<&str>,
    )?)?;
    if let Some(line) = pending_line(pending) {
        menu.append(&MenuItem::with_id(
            app,
            "approvals",
            line,
            true,
            None::<&str>,
        )?)?;
    }
    for (idx, line) in server_lines(servers).into_iter().enumerate() {
        menu.append(&MenuItem::with_id(
            app,
            format!("server-{idx}"),
            line,
            false,
            None::<&str>,
        )?)?;
    }
    menu.append(&PredefinedMenuItem::separator(app)?)?;
    menu.append(&MenuItem::with_id(
        app,
        "open",
        "Open Gatehouse",
        true,
        None::<&str>,
    )?)?;
    menu.append(&PredefinedMenuItem::separator(app)?)?;
    menu.append(&MenuItem::with_id(
        app,
        "quit",
        "Quit Gatehouse",
        true,
        None::<&str>,
    )?)?;
    Ok(menu)
}

#[cfg(test)]
mod tests {
    use std::time::SystemTime;

    use super::*;

    fn status(name: &str, state: ServerState) -> ServerStatus {
        ServerStatus {
            name: name.to_owned(),
            state,
            command: "x".to_owned(),
            args: Vec::new(),
            resolved_command: None,
            pid: None,
            restarts: 0,
            tools: Vec::new(),
            detail: None,
            since: SystemTime::now(),
        }
    }

    #[test]
    fn a_failed_server_turns_the_icon_to_error() {
        let ok = [
            status("a", ServerState::Running),
            status("b", ServerState::Starting),
        ];
        assert_eq!(mood(&ok, 0), Mood::Normal);
        let bad = [
            status("a", ServerState::Running),
            status("b", ServerState::Failed),
        ];
        assert_eq!(mood(&bad, 0), Mood::Error);
        assert_eq!(
            summary(&bad, 0),
            "Gatehouse: 1 of 2 servers running, 1 failed"
        );
        assert_eq!(summary(&[], 0), "Gatehouse: no servers");
    }

    #[test]
    fn waiting_calls_turn_the_icon_to_attention_with_the_count() {
        let servers = [status("a", ServerState::Failed)];
        assert_eq!(mood(&servers, 2), Mood::Attention);
        assert_eq!(
            summary(&servers, 2),
            "Gatehouse: 0 of 1 server running, 1 failed, 2 waiting for approval"
        );
        assert_eq!(pending_line(0), None);
        assert_eq!(pending_line(1).unwrap(), "1 call waiting for approval…");
        assert_eq!(pending_line(3).unwrap(), "3 calls waiting for approval…");
    }

    #[test]
    fn the_menu_lists_servers_and_caps_long_lists() {
        let few = [
            status("demo", ServerState::Running),
            status("mem", ServerState::BackingOff),
        ];
        assert_eq!(
            server_lines(&few),
            ["● demo — running", "◐ mem — backing off"]
        );
        let many: Vec<ServerStatus> = (0..20)
            .map(|i| status(&format!("s{i}"), ServerState::Stopped))
            .collect();
        let lines = server_lines(&many);
        assert_eq!(lines.len(), MENU_SERVER_LIMIT + 1);
        assert_eq!(lines.last().unwrap(), "… and 8 more");
    }
}
