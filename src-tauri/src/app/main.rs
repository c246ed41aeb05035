//! `gatehouse-app`: Gatehouse's windows, in a process of their own.
//!
//! The core runs in the tray (`gatehouse-tray`) or in `gatehouse serve`;
//! this process shows the main window and the approval dialog over it,
//! through the control channel, and ends when its last window closes or
//! the core quits. That keeps WebKit (hundreds of MB) out of the process
//! that stays resident all day. Opened with nothing running (from a
//! desktop launcher), it starts the tray first. Given a command, it does
//! what `gatehouse` does.
//!
//! # Layout
//! - `link`: commands to the core, and its event stream.
//! - `commands`: the `#[tauri::command]`s, forwarded to the core's desk.
//! - `events`: the core's events passed to the web views; the approval
//!   dialog brought up and closed.
//! - `window`: opening and focusing the main window and the approval dialog.

mod commands;
mod events;
mod link;
mod window;

use std::process::ExitCode;

use anyhow::Context;
use clap::Parser as _;
use gatehouse_cli::cli::Cli;
use gatehouse_cli::detached::{self, Output};
use gatehouse_core::control::ClientError;
use gatehouse_core::desk::Failure;

use crate::link::Link;

fn main() -> ExitCode {
    let cli = Cli::parse();
    if cli.command.is_some() {
        return gatehouse_cli::exit_with(gatehouse_cli::run(cli));
    }
    gatehouse_cli::exit_with(launch(&cli))
}

/// Finds the running core (or starts the tray), then shows the windows.
fn launch(cli: &Cli) -> anyhow::Result<ExitCode> {
    let paths = gatehouse_cli::paths(cli)?;
    // For the log settings only: the core reads (and on first run writes) it.
    let config = gatehouse_core::config::load(&paths.config_file).unwrap_or_default();
    let _guard = gatehouse_cli::init_logging(cli, &config, Some(&paths))?;
    check_display()?;
    let runtime = gatehouse_cli::runtime()?;
    let link = Link::new(paths.runtime_dir.clone());
    let (stream, pending) = runtime.block_on(async {
        match detached::gateway(&paths).await {
            Ok(_) => {}
            Err(ClientError::NotRunning { .. }) => {
                detached::start(
                    &paths,
                    cli.config.as_deref(),
                    Some(&cli.gateway),
                    Output::Inherit,
                )
                .await?;
            }
            Err(ClientError::Unsupported) => anyhow::bail!(
                "Gatehouse's windows need its control channel, which this platform does not have yet"
            ),
            Err(err) => return Err(err.into()),
        }
        let stream = link
            .watch()
            .await
            .context("cannot follow the running Gatehouse")?;
        let pending = link
            .invoke("pending_approvals", serde_json::Value::Null)
            .await
            .map_err(|Failure { message, .. }| anyhow::anyhow!(message))?;
        anyhow::Ok((stream, pending))
    })?;
    let waiting = pending.as_array().is_some_and(|calls| !calls.is_empty());
    if !cli.open && !waiting {
        // Started for a call that has been answered since: nothing to show.
        tracing::info!("nothing to show: no window asked for and no call waiting");
        return Ok(ExitCode::SUCCESS);
    }
    run(link, stream, cli.open, runtime)
}

/// Shows the windows until the last one closes or the core quits.
fn run(
    link: Link,
    stream: gatehouse_core::control::Client,
    open_main: bool,
    runtime: tokio::runtime::Runtime,
) -> anyhow::Result<ExitCode> {
    tauri::async_runtime::set(runtime.handle().clone());
    let _entered = runtime.enter();
    let app = tauri::Builder::default()
        // First, so a second launch exits before doing anything else.
        .plugin(tauri_plugin_single_instance::init(|app, argv, _cwd| {
            if argv.iter().any(|arg| arg == "--open") {
                tracing::info!("another launch: focusing the main window");
                window::open_main(app);
            } else {
                // The tray asks for the approval dialog.
                show_waiting_calls(app);
            }
        }))
        .manage(link)
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
            commands::list_clients,
            commands::plan_client_change,
            commands::apply_client_change,
            commands::undo_client_change,
            commands::plan_client_import,
            commands::apply_client_import,
            commands::pick_project_dir,
        ])
        .plugin(tauri_plugin_clipboard_manager::init())
        .plugin(tauri_plugin_notification::init())
        .plugin(tauri_plugin_dialog::init())
        .setup(move |app| {
            events::follow(app.handle().clone(), stream);
            if open_main {
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
                && let Some(outcome) = gatehouse_cli::relaunch::after_failed_handover()
            {
                return outcome;
            }
            return Err(err).context("cannot open Gatehouse's windows");
        }
    };
    // The last window closing ends this process: the tray stays.
    let exit_code = app.run_return(|_handle, _event| {});
    tracing::info!(exit_code, "windows closed");
    Ok(ExitCode::SUCCESS)
}

/// Brings up the approval dialog if a call waits.
fn show_waiting_calls(app: &tauri::AppHandle) {
    use tauri::Manager;

    let link = app.state::<Link>().inner().clone();
    let app = app.clone();
    tauri::async_runtime::spawn(async move {
        match link
            .invoke("pending_approvals", serde_json::Value::Null)
            .await
        {
            Ok(calls) if calls.as_array().is_some_and(|calls| !calls.is_empty()) => {
                window::open_approval(&app);
            }
            Ok(_) => {}
            Err(failure) => {
                tracing::warn!(message = %failure.message, "cannot read the waiting calls")
            }
        }
    });
}

/// On Linux the windows need a display; say so instead of letting GTK abort.
fn check_display() -> anyhow::Result<()> {
    if detached::headless() {
        anyhow::bail!(
            "no display (neither DISPLAY nor WAYLAND_DISPLAY is set), so Gatehouse's windows cannot open; \
             `gatehouse serve` runs the headless core"
        );
    }
    Ok(())
}
