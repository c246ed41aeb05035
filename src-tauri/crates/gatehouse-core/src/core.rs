//! [`Core`]: the running parts of Gatehouse.

use std::sync::Arc;

use gatehouse_approvals::Approvals;
use gatehouse_config::{Config, Paths, Rule};
use gatehouse_secrets::Secret;
use gatehouse_store::Store;
use gatehouse_supervisor::{ControlError, LaunchContext, LogLine, ServerStatus, Supervisor};

use crate::endpoint::{Endpoint, GatewayInfo, GatewayRequest};
use crate::token::TokenError;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

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
    /// Another Gatehouse runs with the same files.
    #[error(
        "Gatehouse is already running ({holder}), using {}; stop it first, or set GATEHOUSE_HOME to run another one elsewhere",
        lock.display()
    )]
    AlreadyRunning {
        /// The lock file.
        lock: std::path::PathBuf,
        /// Who holds it, e.g. `pid 1234`.
        holder: String,
        /// The holder's pid, when the lock file says.
        pid: Option<u32>,
    },
    /// The call log cannot be opened (a newer Gatehouse's file, a damaged
    /// one): Gatehouse does not run tool calls it cannot record.
    #[error("{0}; Gatehouse needs its call log to run tool calls, so it did not start")]
    Store(#[from] gatehouse_store::StoreError),
    /// A config edit (a rule, a setting) failed.
    #[error(transparent)]
    Config(gatehouse_config::Error),
    /// The instance lock could not be taken for another reason.
    #[error("cannot lock {}: {source}", path.display())]
    Lock {
        /// The lock file.
        path: std::path::PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
}

/// Everything Gatehouse runs in the background. Start it once per process
/// with [`Core::start`] and end it with [`Core::shutdown`].
#[derive(Debug)]
pub struct Core {
    paths: Paths,
    supervisor: Arc<Supervisor>,
    endpoint: Arc<Endpoint>,
    approvals: Approvals,
    /// The windows' commands and events, once installed.
    desk: crate::desk::DeskSlot,
    /// Background tasks of the core itself (control channel, reload).
    token: CancellationToken,
    tracker: TaskTracker,
    /// Kept alive for hot reload; `None` when watching failed.
    _watcher: Option<notify::RecommendedWatcher>,
    /// Held for the core's lifetime: one core per set of files.
    _lock: std::fs::File,
}

impl Core {
    /// Creates Gatehouse's directories, starts every enabled server and the
    /// MCP endpoint. Must be called inside a Tokio runtime. An endpoint that
    /// cannot start (a busy port) does not stop the rest: see
    /// [`Core::gateway_info`].
    ///
    /// # Errors
    /// When another core runs on the same files, a directory cannot be
    /// created, or this executable cannot be found.
    pub fn start(paths: Paths, config: &Config, gateway: &GatewayRequest) -> Result<Core, Error> {
        paths.create_dirs()?;
        let lock = lock_instance(&instance_lock(&paths))?;
        let pid_dir = paths.runtime_dir.join("servers");
        let mut context = LaunchContext::from_current_process(&paths.data_dir, Some(&pid_dir))
            .map_err(Error::SelfExe)?;
        context.logs_dir = Some(paths.logs_dir.join("servers"));
        context.secrets = Some(std::sync::Arc::new(crate::secrets::KeyringLookup {
            store: gatehouse_secrets::SecretStore::default(),
        }));
        tracing::info!(
            config = %paths.config_file.display(),
            servers = config.servers.len(),
            "starting the core"
        );
        let store = Store::open(paths.data_dir.join(STORE_FILE))?;
        let approvals = Approvals::new(store, config.approvals.clone())?;
        let token = crate::token::resolve(gateway.token.as_deref());
        let supervisor = Arc::new(Supervisor::start(&config.servers, context));
        let endpoint = Arc::new(Endpoint::start(
            gateway,
            config,
            token,
            supervisor.clone(),
            approvals.clone(),
            &paths,
        ));
        let token = CancellationToken::new();
        let tracker = TaskTracker::new();
        tracker.spawn(prune_daily(approvals.clone(), token.clone()));
        let desk = crate::desk::DeskSlot::default();
        let parts = crate::control::Parts {
            supervisor: supervisor.clone(),
            endpoint: endpoint.clone(),
            approvals: approvals.clone(),
            desk: desk.clone(),
        };
        match crate::control::serve(&paths.runtime_dir, parts, token.clone(), &tracker) {
            Ok(socket) => tracing::debug!(socket = %socket.display(), "control channel open"),
            Err(err) => {
                tracing::warn!(%err, "no control channel: the CLI cannot reach this Gatehouse")
            }
        }
        let watcher = crate::reload::watch(&paths.config_file, supervisor.clone(), approvals.clone(), token.clone(), &tracker)
            .inspect_err(|err| tracing::warn!(%err, "cannot watch the config file: edits apply at the next start"))
            .ok();
        Ok(Core {
            paths,
            supervisor,
            endpoint,
            approvals,
            desk,
            token,
            tracker,
            _watcher: watcher,
            _lock: lock,
        })
    }

    /// Serves `desk` to window processes over the control channel. Only
    /// the first desk installed counts.
    pub fn serve_windows(&self, desk: std::sync::Arc<dyn crate::desk::Desk>) {
        if !self.desk.set(desk) {
            tracing::warn!("a desk is already installed; keeping the first");
        }
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

    /// Starts `name` if it is not running. The GUI's Start; the CLI's
    /// `server start` reaches the same supervisor call through `control`.
    ///
    /// # Errors
    /// When there is no such server.
    pub fn start_server(&self, name: &str) -> Result<(), ControlError> {
        self.supervisor.start_server(name)
    }

    /// Stops `name` and waits until it is gone.
    ///
    /// # Errors
    /// When there is no such server.
    pub async fn stop_server(&self, name: &str) -> Result<(), ControlError> {
        self.supervisor.stop_server(name).await
    }

    /// Stops, then starts, `name`.
    ///
    /// # Errors
    /// When there is no such server.
    pub async fn restart_server(&self, name: &str) -> Result<(), ControlError> {
        self.supervisor.restart_server(name).await
    }

    /// The last lines of `name`'s log, oldest first; `None` for no such server.
    pub fn server_logs(&self, name: &str) -> Option<Vec<LogLine>> {
        self.supervisor.logs(name).map(|(lines, _)| lines)
    }

    /// The MCP endpoint: where it listens, or why it does not.
    pub fn gateway_info(&self) -> GatewayInfo {
        self.endpoint.info()
    }

    /// Why the MCP endpoint could not start, if it could not.
    pub fn gateway_error(&self) -> Option<&str> {
        self.endpoint.error()
    }

    /// The token clients must send, `None` when there is none (no keyring).
    pub fn gateway_token(&self) -> Option<Secret> {
        self.endpoint.token()
    }

    /// Replaces the keyring token; clients need the new one from the next
    /// request on (`gatehouse bridge` re-reads it by itself).
    ///
    /// # Errors
    /// When the token does not come from the keyring, or the keyring fails.
    pub fn rotate_token(&self) -> Result<GatewayInfo, TokenError> {
        self.endpoint.rotate()
    }

    /// The registrar for this machine's MCP clients, writing entries for
    /// this endpoint and token. `None` when there is no token (the endpoint
    /// has none) or no home directory.
    pub fn client_registrar(&self) -> Option<gatehouse_clients::Registrar> {
        let info = self.gateway_info();
        let url = info
            .url
            .unwrap_or_else(|| crate::clients::endpoint_url(info.addr));
        crate::clients::registrar(&self.paths, &url, self.gateway_token()?)
    }

    /// The approvals: the calls waiting for a person, their answers, the
    /// call log. The GUI's dialog and Activity view work through this; the
    /// CLI reaches the same object through `control`.
    pub fn approvals(&self) -> &Approvals {
        &self.approvals
    }

    /// Sets (or with `None` removes) the user's rule for `server`'s `tool`
    /// in `gatehouse.toml`, and applies it to the next call.
    ///
    /// # Errors
    /// The file cannot be read, has no such server, or cannot be written.
    pub fn set_tool_rule(&self, server: &str, tool: &str, rule: Option<Rule>) -> Result<(), Error> {
        self.edit_config(|path, text| {
            gatehouse_config::edit::set_tool_rule(path, text, server, tool, rule)
        })
    }

    /// Writes the `[approvals]` settings to `gatehouse.toml` and applies them.
    ///
    /// # Errors
    /// A value out of range, or the file cannot be read or written.
    pub fn set_approval_settings(
        &self,
        timeout_secs: u64,
        ask_non_read_only: bool,
        retention_days: u32,
    ) -> Result<(), Error> {
        self.edit_config(|path, text| {
            gatehouse_config::edit::set_approval_settings(
                path,
                text,
                timeout_secs,
                ask_non_read_only,
                retention_days,
            )
        })?;
        self.approvals.prune();
        Ok(())
    }

    /// Edits the config file and applies its approval settings at once
    /// (hot reload would too, a moment later).
    fn edit_config(
        &self,
        change: impl FnOnce(&std::path::Path, &str) -> gatehouse_config::Result<String>,
    ) -> Result<(), Error> {
        let path = &self.paths.config_file;
        let text = std::fs::read_to_string(path).map_err(|source| {
            Error::Config(gatehouse_config::Error::Io {
                path: path.clone(),
                source,
            })
        })?;
        let edited = change(path, &text).map_err(Error::Config)?;
        if edited != text {
            gatehouse_config::edit::write_atomically(path, &edited).map_err(Error::Config)?;
        }
        let config = gatehouse_config::parse(path, &edited).map_err(Error::Config)?;
        self.approvals.set_settings(config.approvals);
        Ok(())
    }

    /// Stops every part, servers last-started first, and waits for them.
    pub async fn shutdown(&self) {
        tracing::info!("shutting down");
        self.token.cancel();
        self.tracker.close();
        self.tracker.wait().await;
        self.endpoint.shutdown().await;
        self.supervisor.shutdown().await;
        self.approvals.close();
    }
}

/// The call log's file in the data directory.
pub const STORE_FILE: &str = "gatehouse.db";

/// Applies the retention setting now and once a day.
async fn prune_daily(approvals: Approvals, token: CancellationToken) {
    let mut daily = tokio::time::interval(std::time::Duration::from_secs(24 * 60 * 60));
    loop {
        tokio::select! {
            () = token.cancelled() => return,
            _ = daily.tick() => approvals.prune(),
        }
    }
}

/// Takes the instance lock: an advisory lock on a file in the runtime
/// directory, released by the OS when this process ends, however it ends.
/// The file whose lock one core holds while it runs on these files.
fn instance_lock(paths: &Paths) -> std::path::PathBuf {
    paths.runtime_dir.join("gatehouse.lock")
}

/// The pid of the process whose core runs on `paths`' files, if one does.
pub fn instance_holder(paths: &Paths) -> Option<u32> {
    use std::io::Read;

    let mut file = std::fs::File::open(instance_lock(paths)).ok()?;
    match file.try_lock_shared() {
        Ok(()) => None,
        Err(_) => {
            let mut pid = String::new();
            file.read_to_string(&mut pid).ok()?;
            pid.trim().parse().ok()
        }
    }
}

/// The file holds the owner's pid, for the error a second instance shows.
fn lock_instance(path: &std::path::Path) -> Result<std::fs::File, Error> {
    use std::io::{Read, Seek, Write};

    let lock_err = |source| Error::Lock {
        path: path.to_owned(),
        source,
    };
    let mut file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)
        .map_err(lock_err)?;
    match file.try_lock() {
        Ok(()) => {}
        Err(std::fs::TryLockError::WouldBlock) => {
            let mut holder = String::new();
            drop(file.read_to_string(&mut holder));
            let pid = holder.trim().parse().ok();
            let holder = match holder.trim() {
                "" => "another process".to_owned(),
                pid => format!("pid {pid}"),
            };
            return Err(Error::AlreadyRunning {
                lock: path.to_owned(),
                holder,
                pid,
            });
        }
        Err(std::fs::TryLockError::Error(err)) => return Err(lock_err(err)),
    }
    file.set_len(0).map_err(lock_err)?;
    file.rewind().map_err(lock_err)?;
    write!(file, "{}", std::process::id()).map_err(lock_err)?;
    Ok(file)
}
