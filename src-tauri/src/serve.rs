//! `gatehouse serve`: the core without any GUI. Runs until Ctrl-C or SIGTERM.

use gatehouse_core::Core;
use gatehouse_core::config::{Config, Paths};

/// Runs the core until the process is asked to stop, then stops every
/// server gracefully.
pub async fn run(paths: Paths, config: &Config) -> anyhow::Result<()> {
    let core = Core::start(paths, config)?;
    tracing::info!(
        config = %core.paths().config_file.display(),
        "Gatehouse is running headless; press Ctrl-C to stop"
    );
    shutdown_signal().await;
    core.shutdown().await;
    Ok(())
}

/// Resolves on Ctrl-C, or on SIGTERM on Unix.
pub async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(err) => {
                tracing::warn!(%err, "cannot listen for SIGTERM");
                drop(tokio::signal::ctrl_c().await);
            }
        }
    }
    #[cfg(not(unix))]
    drop(tokio::signal::ctrl_c().await);
}
