//! Starting Gatehouse in the background, for a process that needs it and
//! finds it not running: a client's `gatehouse bridge`, or the windows'
//! process opened from a desktop launcher.
//!
//! The started Gatehouse outlives its starter (others share it), so it runs
//! in a process group of its own. With a display it is the tray
//! (`gatehouse-tray`); without one, `gatehouse serve`.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::Context;
use gatehouse_core::config::Paths;
use gatehouse_core::control::{Client, ClientError, GatewayReport, Request, Response};

use crate::cli::GatewayArgs;

/// How long a Gatehouse started here may take to answer.
const START_TIMEOUT: Duration = Duration::from_secs(15);

/// Where the started Gatehouse's own messages go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Output {
    /// Kept, to quote if it fails to start; for a starter whose stdout and
    /// stderr must stay clean (the bridge speaks MCP on stdout).
    Capture,
    /// Shared with the starter (its terminal, or the log it writes to).
    Inherit,
}

/// The running Gatehouse's endpoint, over the control channel.
///
/// # Errors
/// [`ClientError::NotRunning`] when no Gatehouse runs on `paths`.
pub async fn gateway(paths: &Paths) -> Result<GatewayReport, ClientError> {
    let mut client = Client::connect(&paths.runtime_dir).await?;
    match client.call(&Request::Gateway).await? {
        Response::Gateway(report) => Ok(report),
        Response::Error(reason) => Err(ClientError::Refused(reason)),
        other => Err(ClientError::Refused(format!(
            "unexpected answer: {other:?}"
        ))),
    }
}

/// Whether a display is there for the tray.
pub fn headless() -> bool {
    cfg!(target_os = "linux")
        && std::env::var_os("DISPLAY").is_none()
        && std::env::var_os("WAYLAND_DISPLAY").is_none()
}

/// Starts Gatehouse detached and waits until its endpoint is up (or says
/// why it is not).
///
/// # Errors
/// When it cannot be started, exits, or does not answer within 15 s.
pub async fn start(
    paths: &Paths,
    config: Option<&Path>,
    gateway_args: Option<&GatewayArgs>,
    output: Output,
) -> anyhow::Result<GatewayReport> {
    let headless = headless();
    let program = if headless {
        gatehouse_core::supervisor::gatehouse_executable()
    } else {
        gatehouse_core::supervisor::sibling_executable(crate::TRAY_EXECUTABLE)
    }
    .context("cannot locate Gatehouse's executables")?;
    let mut command = std::process::Command::new(&program);
    if let Some(config) = config {
        command.arg("--config").arg(config);
    }
    if headless {
        command.arg("serve");
    }
    if let Some(args) = gateway_args {
        if let Some(addr) = args.addr {
            command.arg("--addr").arg(addr.to_string());
        }
        if args.allow_remote {
            command.arg("--allow-remote");
        }
        // Not on the command line, where every process could read it.
        if let Some(token) = &args.token {
            command.env("GATEHOUSE_TOKEN", token);
        }
    }
    command.stdin(std::process::Stdio::null());
    if output == Output::Capture {
        command
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped());
    }
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        // Its own process group: a client that kills its starter's group
        // must not take the shared Gatehouse with it.
        command.process_group(0);
    }
    tracing::info!(program = %program.display(), "Gatehouse is not running; starting it");
    let mut child = command
        .spawn()
        .with_context(|| format!("cannot start {}", program.display()))?;
    let deadline = Instant::now() + START_TIMEOUT;
    loop {
        match gateway(paths).await {
            Ok(report) if report.url.is_some() || report.error.is_some() => return Ok(report),
            Ok(_) | Err(ClientError::NotRunning { .. }) => {}
            Err(err) => return Err(err.into()),
        }
        if let Some(status) = child.try_wait()? {
            let mut stderr = String::new();
            if let Some(mut pipe) = child.stderr.take() {
                use std::io::Read;
                drop(pipe.read_to_string(&mut stderr));
            }
            let last = stderr
                .lines()
                .rev()
                .find(|l| !l.trim().is_empty())
                .unwrap_or("see its messages above, or its log");
            anyhow::bail!("Gatehouse could not be started ({status}): {last}");
        }
        if Instant::now() > deadline {
            anyhow::bail!(
                "started Gatehouse (pid {}), but its endpoint did not open within {} s; see `gatehouse doctor`",
                child.id(),
                START_TIMEOUT.as_secs()
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
