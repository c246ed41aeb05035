//! `gatehouse-tray`: Gatehouse as it stays running all day. It runs the
//! core (servers, the MCP endpoint, approvals) and the tray icon, and
//! nothing with a web engine: the windows are a process of their own,
//! `gatehouse-app`, started when the person opens them or a call waits for
//! approval, and gone when they close. `gatehouse` with no command starts
//! this; given a command, it does what `gatehouse` does.
//!
//! The event loop (tao, GTK on Linux) owns the main thread and the icon;
//! the core runs on Gatehouse's Tokio runtime and tells the loop of changes
//! through its proxy.
//!
//! # Layout
//! - `icon`: the tray icon, its menu and its mood (normal / attention / error).
//! - `windows`: starting the windows' process.

mod icon;
mod windows;

use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use clap::Parser as _;
use gatehouse_cli::cli::Cli;
use gatehouse_core::Core;
use gatehouse_core::config::{Config, Paths};
use tao::event::Event;
use tao::event_loop::{ControlFlow, EventLoopBuilder, EventLoopProxy};
use tao::platform::run_return::EventLoopExtRunReturn;
use tray_icon::menu::MenuEvent;

fn main() -> ExitCode {
    let cli = Cli::parse();
    if cli.command.is_some() {
        return gatehouse_cli::exit_with(gatehouse_cli::run(cli));
    }
    skip_gl_probe();
    gatehouse_cli::exit_with(launch(&cli))
}

/// GTK 3 probes OpenGL when it opens the display, which maps the GL driver
/// (with Mesa, libLLVM: 44 MiB resident) into a process that only shows a
/// tray icon. Set before any thread exists; the windows' process, which
/// does draw, is started without it (see `windows`).
#[allow(unsafe_code)]
fn skip_gl_probe() {
    #[cfg(target_os = "linux")]
    if std::env::var_os(windows::GDK_GL).is_none() {
        // SAFETY: called first thing in `main`, before any other thread
        // exists, so nothing reads the environment concurrently.
        unsafe { std::env::set_var(windows::GDK_GL, "disable") };
        windows::GL_PROBE_SKIPPED.store(true, std::sync::atomic::Ordering::Relaxed);
    }
}

/// Loads the config (writing the default one on first run) and runs.
fn launch(cli: &Cli) -> anyhow::Result<ExitCode> {
    let paths = gatehouse_cli::paths(cli)?;
    let (config, first_run) = gatehouse_core::config::load_or_init(&paths.config_file)?;
    let _guard = gatehouse_cli::init_logging(cli, &config, Some(&paths))?;
    if gatehouse_cli::detached::headless() {
        anyhow::bail!(
            "no display (neither DISPLAY nor WAYLAND_DISPLAY is set), so the tray app cannot start; \
             run `gatehouse serve` for the headless core"
        );
    }
    let runtime = gatehouse_cli::runtime()?;
    let _entered = runtime.enter();
    let signals = gatehouse_cli::serve::ShutdownSignals::install()?;
    let windows = windows::Windows::new(cli);
    let core = match start_core(&paths, &config, cli, &runtime)? {
        Started::Core(core) => core,
        Started::AlreadyRunning(pid) => {
            // A second launch: the person wants to see Gatehouse.
            eprintln!("Gatehouse is already running (pid {pid}); opening its window");
            windows.detached().open_main();
            return Ok(ExitCode::SUCCESS);
        }
    };
    let desk = gatehouse_cli::desk::Service::install(&core);
    let outcome = run(&core, desk, &windows, cli.open || first_run, signals);
    runtime.block_on(core.shutdown());
    outcome?;
    tracing::info!("tray app exited");
    Ok(ExitCode::SUCCESS)
}

enum Started {
    Core(Arc<Core>),
    /// Another core answers on these files (a tray, or `gatehouse serve`).
    AlreadyRunning(u32),
}

/// Starts the core. When another process holds Gatehouse's files: if it
/// answers, it is running, and this launch only opens its window; if it is
/// a tray still quitting, this waits for it, then starts.
fn start_core(
    paths: &Paths,
    config: &Config,
    cli: &Cli,
    runtime: &tokio::runtime::Runtime,
) -> anyhow::Result<Started> {
    let gateway = gatehouse_cli::gateway_request(&cli.gateway);
    match Core::start(paths.clone(), config, &gateway) {
        Ok(core) => Ok(Started::Core(Arc::new(core))),
        Err(gatehouse_core::Error::AlreadyRunning { pid: Some(pid), .. })
            if runtime
                .block_on(gatehouse_cli::detached::gateway(paths))
                .is_ok() =>
        {
            Ok(Started::AlreadyRunning(pid))
        }
        Err(gatehouse_core::Error::AlreadyRunning { pid: Some(pid), .. })
            if gatehouse_cli::relaunch::wait_for_quitting(pid) =>
        {
            Ok(Started::Core(Arc::new(Core::start(
                paths.clone(),
                config,
                &gateway,
            )?)))
        }
        Err(err) => Err(err).context("cannot start Gatehouse"),
    }
}

/// What the event loop is told from elsewhere.
#[derive(Debug)]
enum Message {
    /// A server's state or the waiting calls changed.
    Refresh,
    /// A menu item was chosen.
    Menu(tray_icon::menu::MenuId),
    /// A signal asked Gatehouse to quit.
    Quit,
}

/// Shows the tray icon until the person quits (menu or signal).
fn run(
    core: &Arc<Core>,
    desk: gatehouse_cli::desk::Service,
    windows: &windows::Windows,
    open_main: bool,
    mut signals: gatehouse_cli::serve::ShutdownSignals,
) -> anyhow::Result<()> {
    let mut event_loop = EventLoopBuilder::<Message>::with_user_event().build();
    let proxy = event_loop.create_proxy();
    {
        let proxy = proxy.clone();
        MenuEvent::set_event_handler(Some(move |event: MenuEvent| {
            let _ = proxy.send_event(Message::Menu(event.id));
        }));
    }
    watch(core, proxy.clone());
    watch_approvals(core, desk, windows.clone());
    {
        let proxy = proxy.clone();
        tokio::spawn(async move {
            signals.recv().await;
            tracing::info!("signal received: quitting");
            let _ = proxy.send_event(Message::Quit);
        });
    }
    if open_main {
        windows.open_main();
    }
    // Created once the loop runs, as macOS requires; kept on this thread.
    let mut tray = None;
    let mut failed = None;
    let refresh = |tray: &tray_icon::TrayIcon| {
        let servers = core.servers();
        let pending = core.approvals().pending().len();
        if let Err(err) = icon::refresh(tray, &servers, pending) {
            tracing::warn!(%err, "cannot update the tray");
        }
    };
    event_loop.run_return(|event, _, flow| {
        *flow = ControlFlow::Wait;
        match event {
            Event::NewEvents(tao::event::StartCause::Init) => match icon::create() {
                Ok(icon) => {
                    refresh(&icon);
                    tray = Some(icon);
                }
                Err(err) => {
                    failed = Some(err);
                    *flow = ControlFlow::Exit;
                }
            },
            Event::UserEvent(Message::Refresh) => {
                if let Some(tray) = &tray {
                    refresh(tray);
                }
            }
            Event::UserEvent(Message::Menu(id)) => match id.as_ref() {
                icon::OPEN => windows.open_main(),
                icon::APPROVALS => windows.open_approvals(),
                icon::QUIT => *flow = ControlFlow::Exit,
                _ => {}
            },
            Event::UserEvent(Message::Quit) => *flow = ControlFlow::Exit,
            _ => {}
        }
    });
    match failed {
        Some(err) => Err(err).context("cannot start the tray"),
        None => Ok(()),
    }
}

/// Tells the event loop whenever any server's state or the waiting calls
/// change.
fn watch(core: &Core, proxy: EventLoopProxy<Message>) {
    let mut servers = core.watch_servers();
    let mut pending = core.approvals().watch_pending();
    tokio::spawn(async move {
        loop {
            if proxy.send_event(Message::Refresh).is_err() {
                return;
            }
            tokio::select! {
                changed = servers.changed() => if changed.is_err() { return },
                changed = pending.changed() => if changed.is_err() { return },
            }
        }
    });
}

/// Brings up the approval dialog for each new waiting call when no window
/// process is running (one that runs shows the dialog itself).
fn watch_approvals(core: &Core, desk: gatehouse_cli::desk::Service, windows: windows::Windows) {
    let mut pending = core.approvals().watch_pending();
    tokio::spawn(async move {
        let mut seen = 0;
        while pending.changed().await.is_ok() {
            let newest = pending
                .borrow_and_update()
                .iter()
                .map(|call| call.id)
                .max()
                .unwrap_or(0);
            if newest > seen && desk.watchers() == 0 {
                windows.open_approvals();
            }
            seen = seen.max(newest);
        }
    });
}
