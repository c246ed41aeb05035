//! The tray icon: Gatehouse's state at a glance, and its menu.
//!
//! Menu handlers stay thin (open the window, quit): tray menus cannot be
//! clicked in headless tests, so what they call is tested on its own. The
//! icon lives on the event loop's thread, as the platforms require.

use gatehouse_core::supervisor::{ServerState, ServerStatus};
use tray_icon::menu::{Menu, MenuId, MenuItem, PredefinedMenuItem};
use tray_icon::{Icon, TrayIcon, TrayIconBuilder};

/// The menu's "Open Gatehouse".
pub const OPEN: &str = "open";
/// The menu's line for waiting calls.
pub const APPROVALS: &str = "approvals";
/// The menu's "Quit Gatehouse".
pub const QUIT: &str = "quit";
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

/// Why the tray icon could not be shown or changed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The platform's tray refused.
    #[error("cannot show the tray icon: {0}")]
    Tray(#[from] tray_icon::Error),
    /// Its menu could not be built.
    #[error("cannot build the tray menu: {0}")]
    Menu(#[from] tray_icon::menu::Error),
    /// A bundled icon image is damaged.
    #[error("cannot read the tray icon image: {0}")]
    Image(String),
}

/// Creates the tray icon with an empty server list; [`refresh`] fills it.
///
/// # Errors
/// When the platform has no tray, or its menu cannot be built.
pub fn create() -> Result<TrayIcon, Error> {
    Ok(TrayIconBuilder::new()
        .with_id("gatehouse")
        .with_icon(icon(Mood::Normal)?)
        .with_tooltip("Gatehouse")
        .with_menu(Box::new(menu(&[], 0)?))
        .with_menu_on_left_click(true)
        .build()?)
}

/// Updates icon, tooltip and menu to `servers` and the number of waiting
/// calls.
///
/// # Errors
/// When the platform refuses the change.
pub fn refresh(tray: &TrayIcon, servers: &[ServerStatus], pending: usize) -> Result<(), Error> {
    tray.set_icon(Some(icon(mood(servers, pending))?))?;
    tray.set_tooltip(Some(summary(servers, pending)))?;
    tray.set_menu(Some(Box::new(menu(servers, pending)?)));
    Ok(())
}

fn icon(mood: Mood) -> Result<Icon, Error> {
    let bytes = match mood {
        Mood::Normal => ICON_NORMAL,
        Mood::Attention => ICON_ATTENTION,
        Mood::Error => ICON_ERROR,
    };
    let (rgba, width, height) = decode_png(bytes).map_err(Error::Image)?;
    Icon::from_rgba(rgba, width, height).map_err(|err| Error::Image(err.to_string()))
}

/// RGBA pixels of a PNG image.
fn decode_png(bytes: &[u8]) -> Result<(Vec<u8>, u32, u32), String> {
    let mut decoder = png::Decoder::new(std::io::Cursor::new(bytes));
    // Palette and 16-bit images to 8-bit colour channels.
    decoder.set_transformations(png::Transformations::EXPAND | png::Transformations::STRIP_16);
    let mut reader = decoder.read_info().map_err(|err| err.to_string())?;
    let mut pixels = vec![
        0;
        reader
            .output_buffer_size()
            .ok_or("the image is too large")?
    ];
    let frame = reader
        .next_frame(&mut pixels)
        .map_err(|err| err.to_string())?;
    pixels.truncate(frame.buffer_size());
    let rgba = match frame.color_type {
        png::ColorType::Rgba => pixels,
        png::ColorType::Rgb => pixels
            .chunks_exact(3)
            .flat_map(|rgb| [rgb[0], rgb[1], rgb[2], 255])
            .collect(),
        png::ColorType::GrayscaleAlpha => pixels
            .chunks_exact(2)
            .flat_map(|ga| [ga[0], ga[0], ga[0], ga[1]])
            .collect(),
        png::ColorType::Grayscale => pixels.iter().flat_map(|&g| [g, g, g, 255]).collect(),
        png::ColorType::Indexed => return Err("an indexed image was not expanded".to_owned()),
    };
    Ok((rgba, frame.width, frame.height))
}

fn menu(servers: &[ServerStatus], pending: usize) -> Result<Menu, Error> {
    // A line that can be chosen, or (not `enabled`) one that only informs.
    let item = |id: String, text: String, enabled: bool| {
        MenuItem::with_id(MenuId::new(id), text, enabled, None)
    };
    let menu = Menu::new();
    menu.append(&item("summary".into(), summary(servers, pending), false))?;
    if let Some(line) = pending_line(pending) {
        menu.append(&item(APPROVALS.into(), line, true))?;
    }
    for (idx, line) in server_lines(servers).into_iter().enumerate() {
        menu.append(&item(format!("server-{idx}"), line, false))?;
    }
    menu.append(&PredefinedMenuItem::separator())?;
    menu.append(&item(OPEN.into(), "Open Gatehouse".into(), true))?;
    menu.append(&PredefinedMenuItem::separator())?;
    menu.append(&item(QUIT.into(), "Quit Gatehouse".into(), true))?;
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
    fn the_three_icons_decode() {
        for mood in [Mood::Normal, Mood::Attention, Mood::Error] {
            let bytes = match mood {
                Mood::Normal => ICON_NORMAL,
                Mood::Attention => ICON_ATTENTION,
                Mood::Error => ICON_ERROR,
            };
            let (rgba, width, height) = decode_png(bytes).unwrap();
            assert!(width >= 16 && height >= 16, "{mood:?}: {width}x{height}");
            assert_eq!(rgba.len(), (width * height * 4) as usize, "{mood:?}");
        }
        assert!(decode_png(b"not a png").is_err());
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
