//! [`Core`]: the running parts of Gatehouse.

use gatehouse_config::{Config, Paths};
use gatehouse_supervisor::{LaunchContext, ServerStatus, Supervisor};
use tokio::sync::watch;

/// Errors starting the core.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A directory Gatehouse needs could not be created.
    #[error(transparent)]
    Paths(#[from] gatehouse_config::Error),
    /// The launch context could not be built.
    #[error("cannot determine Gatehouse's own executable: {0}")]
    SelfExe(std::io::Error),
}

/// Everything Gatehouse runs in the background. Start it once per process
/// with [`Core::start`] and end it with [`Core::shutdown`].
#[derive(Debug)]
pub struct Core {
    paths: Paths,
    supervisor: Supervisor,
}

impl Core {
    /// Creates Gatehouse's directories and starts every enabled server.
    /// Must be called inside a Tokio runtime.
    ///
    /// # Errors
    /// When a directory cannot be created or this executable cannot be found.
    pub fn start(paths: Paths, config: &Config) -> Result<Core, Error> {
        paths.create_dirs()?;
        let context =
            LaunchContext::from_current_process(&paths.data_dir).map_err(Error::SelfExe)?;
        tracing::info!(
            config = %paths.config_file.display(),
            servers = config.servers.len(),
            "starting the core"
        );
        let supervisor = Supervisor::start(&config.servers, context);
        Ok(Core { paths, supervisor })
    }

    /// Where this core keeps its files.
    pub fn paths(&self) -> &Paths {
        &self.paths
    }

    /// Every configured server's current status.
    pub fn servers(&self) -> Vec<ServerStatus> {
        self.supervisor.snapshot()
    }

    /// A receiver that changes whenever any server's status does.
    pub fn watch_servers(&self) -> watch::Receiver<Vec<ServerStatus>> {
        self.supervisor.subscribe()
    }

    /// Stops every part, servers last-started first, and waits for them.
    pub async fn shutdown(&self) {
        tracing::info!("shutting down");
        self.supervisor.shutdown().await;
    }
}
