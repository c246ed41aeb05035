//! `gatehouse serve`: the core without any GUI. Runs until Ctrl-C or SIGTERM.

use gatehouse_core::config::{Config, Paths};
use gatehouse_core::{Core, GatewayRequest};

/// Runs the core until the process is asked to stop, then stops every
/// server gracefully.
pub async fn run(paths: Paths, config: &Config, gateway: &GatewayRequest) -> anyhow::Result<()> {
    // Before anything starts: a signal that arrives during start-up must
    // still get the graceful stop, not the default "die at once".
    let mut signals = ShutdownSignals::install()?;
    let core = std::sync::Arc::new(Core::start(paths, config, gateway)?);
    // Windows opened on this core (`gatehouse-app`) work as with the tray.
    crate::desk::Service::install(&core);
    // Headless, the endpoint is the point: without it, say why and stop.
    if let Some(error) = core.gateway_error().map(str::to_owned) {
        core.shutdown().await;
        anyhow::bail!("{error}");
    }
    tracing::info!(
        config = %core.paths().config_file.display(),
        "Gatehouse is running headless; press Ctrl-C to stop"
    );
    signals.recv().await;
    core.shutdown().await;
    Ok(())
}

/// SIGINT and SIGTERM (Ctrl-C elsewhere), handled from the moment
/// [`ShutdownSignals::install`] returns.
pub struct ShutdownSignals {
    #[cfg(unix)]
    interrupt: tokio::signal::unix::Signal,
    #[cfg(unix)]
    terminate: tokio::signal::unix::Signal,
}

impl ShutdownSignals {
    /// Installs the handlers. Must be called inside a Tokio runtime.
    pub fn install() -> anyhow::Result<ShutdownSignals> {
        #[cfg(unix)]
        {
            use anyhow::Context;
            use tokio::signal::unix::{SignalKind, signal};
            Ok(ShutdownSignals {
                interrupt: signal(SignalKind::interrupt()).context("cannot handle SIGINT")?,
                terminate: signal(SignalKind::terminate()).context("cannot handle SIGTERM")?,
            })
        }
        #[cfg(not(unix))]
        Ok(ShutdownSignals {})
    }

    /// Resolves when one of the signals arrives.
    pub async fn recv(&mut self) {
        #[cfg(unix)]
        tokio::select! {
            _ = self.interrupt.recv() => {}
            _ = self.terminate.recv() => {}
        }
        #[cfg(not(unix))]
        drop(tokio::signal::ctrl_c().await);
    }
}
