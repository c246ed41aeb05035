//! `gatehouse-app`, the tray app: a thin Tauri shell over
//! [`gatehouse_core::Core`]. `gatehouse` with no command starts it; given a
//! command it does what `gatehouse` does.
//!
//! The core runs on Gatehouse's own Tokio runtime, shared with Tauri. The
//! tray icon lives for the whole process; the main window is created when
//! opened and destroyed when closed, because even a hidden webview keeps
//! ~380 MB of WebKit processes alive.
//!
//! # Layout
//! - `tray`: the tray icon, its menu and its mood (normal / attention / error).
//! - `window`: opening and focusing the main window and the approval dialog.
//! - `commands`: the `#[tauri::command]`s, one delegating call each.
//! - `clients`: the Clients view's commands (register, diff, undo, import).
//! - `dto`: the JSON shapes the UI receives.
//! - `error`: the `{kind, message}` error the UI receives.
//! - `relaunch`: a launch that meets an instance still quitting waits for it.

mod clients;
mod commands;
mod dto;
mod error;
mod relaunch;
mod tray;
mod window;

use std::process::ExitCode;
use std::sync::{Arc, OnceLock};

use anyhow::Context;
use clap::Parser as _;
use gatehouse_cli::cli::Cli;
use gatehouse_core::Core;
use gatehouse_core::config::{Config, Paths};
use tauri::{Emitter, Manager, RunEvent};

fn main() -> ExitCode {
    let cli = Cli::parse();
    if cli.command.is_some() {
        return gatehouse_cli::exit_with(gatehouse_cli::run(cli));
    }
    gatehouse_cli::exit_with(launch(&cli))
}

/// Loads the config (writing the default one on first run) and runs the app.
fn launch(cli: &Cli) -> anyhow::Result<ExitCode> {
    let paths = gatehouse_cli::paths(cli)?;
    let (config, first_run) = gatehouse_core::config::load_or_init(&paths.config_file)?;
    let _guard = gatehouse_cli::init_logging(cli, &config, Some(&paths))?;
    run(
        paths,
        &config,
        &gatehouse_cli::gateway_request(&cli.gateway),
        cli.open || first_run,
        gatehouse_cli::runtime()?,
    )
}

/// What commands can reach: the running core.
pub struct AppState {
    core: Arc<Core>,
}

/// The event the UI listens to for live server state.
const SERVERS_CHANGED: &str = "servers-changed";
/// The event the approval dialog listens to (payload: how many wait).
const APPROVALS_CHANGED: &str = "approvals-changed";
/// How long the approval dialog stays after its last call was answered.
const DIALOG_CLOSE_DELAY: std::time::Duration = std::time::Duration::from_millis(600);
/// The event the Activity view listens to: a row was logged.
const ACTIVITY_CHANGED: &str = "activity-changed";

/// Starts the core and the tray app; returns when the person quits.
fn run(
    paths: Paths,
    config: &Config,
    gateway: &gatehouse_core::GatewayRequest,
    open_window: bool,
    runtime: tokio::runtime::Runtime,
) -> anyhow::Result<ExitCode> {
    check_display()?;
    tauri::async_runtime::set(runtime.handle().clone());
    // The core spawns its tasks from `setup`, on the main thread.
    let _entered = runtime.enter();
    let signals = gatehouse_cli::serve::ShutdownSignals::install()?;
    // Filled in `setup`, which runs only in the first instance: a second
    // launch is ended by the single-instance plugin before that, and so never
    // starts servers of its own.
    let started: Arc<OnceLock<Arc<Core>>> = Arc::default();
    let setup_started = started.clone();
    // An error returned from `setup` makes Tauri panic: a core that cannot
    // start ends the app instead, and is reported once the loop returns.
    let failed: Arc<OnceLock<anyhow::Error>> = Arc::default();
    let setup_failed = failed.clone();
    let config = config.clone();
    let gateway = gateway.clone();
    let launch_paths = paths.clone();

    let app = tauri::Builder::default()
        // First, so a second launch exits before doing anything else.
        .plugin(tauri_plugin_single_instance::init(|app, _argv, _cwd| {
            tracing::info!("another launch: focusing the main window");
            window::open_main(app);
        }))
        .invoke_handler(tauri::generate_handler![
            commands::list_servers,
            commands::app_info,
            commands::start_server,
            commands::stop_server,
            commands::restart_server,
            commands::server_logs,
            commands::gateway_info,
            commands::copy_token,
            commands::rotate_token,
            commands::pending_approvals,
            commands::answer_approval,
            commands::query_log,
            commands::verify_log,
            commands::export_log,
            commands::set_tool_policy,
            commands::approval_settings,
            commands::set_approval_settings,
            clients::list_clients,
            clients::plan_client_change,
            clients::apply_client_change,
            clients::undo_client_change,
            clients::plan_client_import,
            clients::apply_client_import,
            clients::pick_project_dir,
        ])
        .plugin(tauri_plugin_clipboard_manager::init())
        .plugin(tauri_plugin_notification::init())
        .plugin(tauri_plugin_dialog::init())
        .setup(move |app| {
            let core = match start_core(paths, &config, &gateway) {
                Ok(core) => Arc::new(core),
                Err(err) => {
                    let _ = setup_failed.set(err.into());
                    app.handle().exit(1);
                    return Ok(());
                }
            };
            setup_started.get_or_init(|| core.clone());
            app.manage(AppState { core });
            tray::create(app.handle())?;
            watch_servers(app.handle().clone());
            watch_approvals(app.handle().clone());
            watch_log(app.handle().clone());
            stop_on_signal(app.handle().clone(), signals);
            if open_window {
                window::open_main(app.handle());
            }
            Ok(())
        })
        .build(tauri::generate_context!());
    let app = match app {
        Ok(app) => app,
        Err(err) => {
            if err
                .to_string()
                .contains("forward arguments to the running instance")
                && let Some(outcome) = relaunch::after_failed_handover(&launch_paths)
            {
                return outcome;
            }
            return Err(err).context("cannot start the tray app");
        }
    };

    let exit_code = app.run_return(|_handle, event| {
        if let RunEvent::ExitRequested {
            code: None, api, ..
        } = event
        {
            // The last window closed: Gatehouse lives on in the tray.
            api.prevent_exit();
        }
    });
    if let Some(core) = started.get() {
        runtime.block_on(core.shutdown());
    }
    if let Some(err) = failed.get() {
        anyhow::bail!("cannot start the tray app: {err:#}");
    }
    tracing::info!(exit_code, "tray app exited");
    Ok(ExitCode::SUCCESS)
}

/// Starts the core; when the files are held by an instance of this app
/// that is quitting, waits for it first.
fn start_core(
    paths: Paths,
    config: &Config,
    gateway: &gatehouse_core::GatewayRequest,
) -> Result<Core, gatehouse_core::Error> {
    match Core::start(paths.clone(), config, gateway) {
        Err(gatehouse_core::Error::AlreadyRunning { pid: Some(pid), .. })
            if relaunch::wait_for_quitting(pid) =>
        {
            Core::start(paths, config, gateway)
        }
        other => other,
    }
}

/// Refreshes the tray and tells the UI whenever any server's state changes.
fn watch_servers(handle: tauri::AppHandle) {
    let mut receiver = handle.state::<AppState>().core.watch_servers();
    tauri::async_runtime::spawn(async move {
        loop {
            receiver.borrow_and_update();
            announce_servers(&handle);
            if receiver.changed().await.is_err() {
                break;
            }
        }
    });
}

/// Sends the servers (with their tools' policies) to the UI and refreshes
/// the tray.
pub(crate) fn announce_servers(handle: &tauri::AppHandle) {
    let core = &handle.state::<AppState>().core;
    let snapshot = core.servers();
    tray::refresh(handle, &snapshot, core.approvals().pending().len());
    if let Err(err) = handle.emit(SERVERS_CHANGED, dto::servers(&snapshot, core.approvals())) {
        tracing::debug!(%err, "cannot notify the UI");
    }
}

/// Puts each new waiting call in front of the person: the dialog comes up
/// (on top, focused), the tray turns to attention with the count, and a
/// desktop notification goes out when the dialog was not already on screen.
/// When nothing waits any more the dialog closes.
fn watch_approvals(handle: tauri::AppHandle) {
    let mut receiver = handle.state::<AppState>().core.approvals().watch_pending();
    tauri::async_runtime::spawn(async move {
        let mut seen: u64 = 0;
        loop {
            let pending = receiver.borrow_and_update().clone();
            let newest = pending.iter().map(|call| call.id).max().unwrap_or(0);
            if newest > seen {
                if !window::approval_visible(&handle) {
                    notify(&handle, &pending[pending.len() - 1]);
                }
                window::open_approval(&handle);
            }
            seen = seen.max(newest);
            // Also the tools' policies: an answer may have been "always allow".
            announce_servers(&handle);
            if let Err(err) = handle.emit(APPROVALS_CHANGED, pending.len()) {
                tracing::debug!(%err, "cannot notify the UI");
            }
            if pending.is_empty() {
                // A moment's grace before closing: the person sees the last
                // answer land, and a call arriving right after reuses the window.
                tokio::select! {
                    changed = receiver.changed() => match changed {
                        Ok(()) => continue,
                        Err(_) => break,
                    },
                    () = tokio::time::sleep(DIALOG_CLOSE_DELAY) => window::close_approval(&handle),
                }
            }
            if receiver.changed().await.is_err() {
                break;
            }
        }
    });
}

fn notify(handle: &tauri::AppHandle, call: &gatehouse_core::approvals::PendingCall) {
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
        // No notification daemon (a bare X session): the dialog and tray still show it.
        tracing::debug!(%err, "cannot show a desktop notification");
    }
}

/// Tells the Activity view that rows were added, at most four times a second.
fn watch_log(handle: tauri::AppHandle) {
    let mut receiver = handle.state::<AppState>().core.approvals().watch_log();
    tauri::async_runtime::spawn(async move {
        while receiver.changed().await.is_ok() {
            if let Err(err) = handle.emit(ACTIVITY_CHANGED, ()) {
                tracing::debug!(%err, "cannot notify the UI");
            }
            tokio::time::sleep(std::time::Duration::from_millis(250)).await;
        }
    });
}

/// Quit cleanly on Ctrl-C / SIGTERM, as when Quit is chosen in the menu.
fn stop_on_signal(handle: tauri::AppHandle, mut signals: gatehouse_cli::serve::ShutdownSignals) {
    tauri::async_runtime::spawn(async move {
        signals.recv().await;
        tracing::info!("signal received: quitting");
        handle.exit(0);
    });
}

/// On Linux the tray app needs a display; say so instead of letting GTK abort.
fn check_display() -> anyhow::Result<()> {
    if cfg!(target_os = "linux")
        && std::env::var_os("DISPLAY").is_none()
        && std::env::var_os("WAYLAND_DISPLAY").is_none()
    {
        anyhow::bail!(
            "no display (neither DISPLAY nor WAYLAND_DISPLAY is set), so the tray app cannot start; \
             run `gatehouse serve` for the headless core"
        );
    }
    Ok(())
}
