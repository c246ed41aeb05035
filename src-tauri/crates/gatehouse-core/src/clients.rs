//! Client registration from the core's side: the registrar for this
//! Gatehouse (its endpoint, token and executable), importing a client's
//! servers (credentials into the keyring, servers into `gatehouse.toml`),
//! and bringing entries up to date after the token rotates.
//!
//! The file editing itself is `gatehouse-clients`'; this module is where
//! it meets the keyring and the config, which that crate never touches.

use std::path::{Path, PathBuf};

use gatehouse_clients::{BridgeCommand, Candidate, ClientKind, Registrar, Scope, Target};
use gatehouse_config::{Config, Paths, ProjectDirsSource, ServerName, ServerSpec, edit};
use gatehouse_secrets::{Secret, SecretStore};

pub use gatehouse_clients as registry;

/// Errors of an import.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ImportError {
    /// Reading or changing the client's file failed.
    #[error(transparent)]
    Client(#[from] gatehouse_clients::Error),
    /// Reading or changing `gatehouse.toml` failed.
    #[error(transparent)]
    Config(#[from] gatehouse_config::Error),
    /// Storing a credential failed; nothing was added to the config.
    #[error("cannot store {server}'s {key} in the keyring: {source}")]
    Secret {
        /// The server.
        server: String,
        /// The variable.
        key: String,
        /// Why.
        source: crate::secrets::SecretError,
    },
    /// A server's name cannot be a Gatehouse server name.
    #[error("`{name}` cannot be a Gatehouse server name: {message}")]
    BadName {
        /// The name in the client's file.
        name: String,
        /// Why not.
        message: String,
    },
    /// There was nothing to import.
    #[error("{0} has no servers Gatehouse can import")]
    Nothing(&'static str),
}

/// How `gatehouse bridge` is started from a user-scope entry: this
/// executable, with what makes it find this Gatehouse's files
/// (`$GATEHOUSE_HOME`, or `--config` when the config file is not the
/// default one).
pub fn bridge_command(paths: &Paths) -> BridgeCommand {
    let program = gatehouse_supervisor::gatehouse_executable()
        .and_then(std::fs::canonicalize)
        .unwrap_or_else(|_| PathBuf::from("gatehouse"));
    let home = std::env::var_os("GATEHOUSE_HOME").filter(|home| !home.is_empty());
    let default_config = Paths::resolve(&ProjectDirsSource {
        gatehouse_home: home.clone().map(PathBuf::from),
        config_override: None,
    })
    .map(|default| default.config_file);
    let mut leading_args = Vec::new();
    if default_config.is_ok_and(|default| default != paths.config_file) {
        leading_args.push("--config".to_owned());
        leading_args.push(paths.config_file.display().to_string());
    }
    let env = home
        .map(|home| {
            vec![(
                "GATEHOUSE_HOME".to_owned(),
                home.to_string_lossy().into_owned(),
            )]
        })
        .unwrap_or_default();
    BridgeCommand {
        program,
        leading_args,
        env,
    }
}

/// The registrar for this machine's clients, writing entries for the
/// endpoint at `url` with `token`. `None` without a home directory.
pub fn registrar(paths: &Paths, url: &str, token: Secret) -> Option<Registrar> {
    let env = gatehouse_clients::Environment::current()?;
    Some(Registrar::new(
        env,
        &paths.data_dir,
        Target {
            url: url.to_owned(),
            token,
            bridge: bridge_command(paths),
        },
    ))
}

/// The URL of the aggregate endpoint at `addr`.
pub fn endpoint_url(addr: std::net::SocketAddr) -> String {
    format!("http://{addr}/mcp")
}

/// Brings every user-scope HTTP entry of Gatehouse's up to date with
/// `token` (after a rotation). Returns the files changed; failures are
/// logged, not returned: the rotation itself has happened.
pub fn refresh(paths: &Paths, url: &str, token: Secret) -> Vec<PathBuf> {
    let Some(registrar) = registrar(paths, url, token) else {
        return Vec::new();
    };
    registrar
        .refresh()
        .into_iter()
        .filter_map(|(kind, path, result)| match result {
            Ok(changed) => {
                tracing::info!(client = kind.id(), path = %path.display(), "client entry updated with the new token");
                changed.then_some(path)
            }
            Err(err) => {
                tracing::warn!(client = kind.id(), %err, "cannot update the client entry with the new token");
                None
            }
        })
        .collect()
}

/// A server in a client's file, as an import would treat it.
#[derive(Debug, Clone)]
pub struct ImportItem {
    /// What the client has.
    pub candidate: Candidate,
    /// Why it will not be imported (the client's reason, an invalid name,
    /// or a server of that name in Gatehouse already); `None` if it will.
    pub skip: Option<String>,
}

impl ImportItem {
    /// The command line, for display.
    pub fn command_line(&self) -> String {
        let mut line = self.candidate.command.clone().unwrap_or_default();
        for arg in &self.candidate.args {
            line.push(' ');
            line.push_str(arg);
        }
        line
    }
}

/// Which client file to import from, and whether to replace the imported
/// servers there.
#[derive(Debug, Clone, Copy)]
pub struct ImportRequest<'a> {
    /// The client.
    pub kind: ClientKind,
    /// Its user or project file.
    pub scope: Scope,
    /// The project, for project scope.
    pub project: Option<&'a Path>,
    /// Swap the imported servers for Gatehouse's entry in the client's file.
    pub replace: bool,
    /// The fingerprint of the client's file when the replacement was shown;
    /// `None` when it was not shown (the CLI).
    pub base: Option<&'a str>,
}

/// What an import did.
#[derive(Debug, Clone)]
pub struct ImportReport {
    /// The servers added to `gatehouse.toml`.
    pub imported: Vec<String>,
    /// The credentials moved to the keyring, as `server/KEY`.
    pub moved_secrets: Vec<String>,
    /// Whether the client's entries were replaced by Gatehouse's.
    pub replaced: bool,
    /// The client's file.
    pub path: PathBuf,
    /// The backup of the client's file, if it was changed.
    pub backup: Option<PathBuf>,
}

/// The servers in a client's file and whether each can be imported into
/// `config`.
///
/// # Errors
/// The client's file cannot be read or parsed.
pub fn preview_import(
    registrar: &Registrar,
    config: &Config,
    kind: ClientKind,
    scope: Scope,
    project: Option<&Path>,
) -> Result<Vec<ImportItem>, ImportError> {
    let candidates = registrar.import_candidates(kind, scope, project)?;
    Ok(candidates
        .into_iter()
        .map(|candidate| {
            let skip = candidate.skip.clone().or_else(|| {
                if let Err(why) = ServerName::new(&candidate.name) {
                    Some(format!("its name cannot be a Gatehouse server name: {why}"))
                } else if config
                    .servers
                    .iter()
                    .any(|s| s.name.as_str() == candidate.name)
                {
                    Some(format!(
                        "Gatehouse already has a server named `{}`",
                        candidate.name
                    ))
                } else {
                    None
                }
            });
            ImportItem { candidate, skip }
        })
        .collect())
}

/// The change an import with `replace` would make to the client's file
/// (credentials masked in its diff), or `None` when nothing can be imported.
///
/// # Errors
/// The client's file cannot be read or parsed.
pub fn preview_replace(
    registrar: &Registrar,
    items: &[ImportItem],
    kind: ClientKind,
    scope: Scope,
    project: Option<&Path>,
) -> Result<Option<gatehouse_clients::Plan>, ImportError> {
    let names: Vec<String> = items
        .iter()
        .filter(|item| item.skip.is_none())
        .map(|item| item.candidate.name.clone())
        .collect();
    if names.is_empty() {
        return Ok(None);
    }
    Ok(Some(registrar.plan_replace(kind, scope, project, &names)?))
}

/// Imports a client's servers: their credentials into the keyring, then the
/// servers into `gatehouse.toml` (a running Gatehouse starts them), then,
/// with `replace`, the client's entries for them swapped for Gatehouse's
/// own, so the credentials leave the client's file. The backup of the
/// client's file has them replaced by a note. With `base`, the
/// replacement is made only if the client's file is still as it was when
/// its diff was shown.
///
/// # Errors
/// Nothing to import, a keyring failure (nothing added), a config or client
/// file that cannot be changed.
pub fn import(
    registrar: &Registrar,
    store: &SecretStore,
    config_file: &Path,
    request: &ImportRequest<'_>,
) -> Result<ImportReport, ImportError> {
    let &ImportRequest {
        kind,
        scope,
        project,
        replace,
        base,
    } = request;
    let config = gatehouse_config::load(config_file)?;
    let items: Vec<ImportItem> = preview_import(registrar, &config, kind, scope, project)?
        .into_iter()
        .filter(|item| item.skip.is_none())
        .collect();
    if items.is_empty() {
        return Err(ImportError::Nothing(kind.name()));
    }
    // The client's change is prepared first, so a file that cannot be
    // edited stops the import before anything is stored.
    let names: Vec<String> = items
        .iter()
        .map(|item| item.candidate.name.clone())
        .collect();
    let replacement = if replace {
        let plan = registrar.plan_replace(kind, scope, project, &names)?;
        if let Some(base) = base
            && plan.base() != base
        {
            return Err(gatehouse_clients::Error::ChangedSince { path: plan.path }.into());
        }
        Some(plan)
    } else {
        None
    };

    let mut moved_secrets = Vec::new();
    for item in &items {
        for (key, value) in &item.candidate.secrets {
            crate::secrets::store_imported(store, &item.candidate.name, key, value).map_err(
                |source| ImportError::Secret {
                    server: item.candidate.name.clone(),
                    key: key.clone(),
                    source,
                },
            )?;
            moved_secrets.push(format!("{}/{key}", item.candidate.name));
        }
    }

    let mut text =
        std::fs::read_to_string(config_file).map_err(|source| gatehouse_config::Error::Io {
            path: config_file.to_owned(),
            source,
        })?;
    for item in &items {
        text = edit::add_server(config_file, &text, &spec_of(&item.candidate)?)?;
    }
    edit::write_atomically(config_file, &text)?;
    tracing::info!(client = kind.id(), servers = ?names, "imported servers");

    let mut report = ImportReport {
        imported: names,
        moved_secrets,
        replaced: false,
        path: registrar.status(kind, scope, project)?.path,
        backup: None,
    };
    if let Some(plan) = replacement {
        let redact: Vec<(String, String)> = items
            .iter()
            .flat_map(|item| {
                item.candidate.secrets.iter().map(|(key, value)| {
                    (
                        value.expose().to_owned(),
                        format!(
                            "<moved to the OS keyring by Gatehouse: {}/{key}>",
                            item.candidate.name
                        ),
                    )
                })
            })
            .collect();
        report.backup = registrar.apply_replace(&plan, &redact)?;
        report.replaced = true;
    }
    Ok(report)
}

fn spec_of(candidate: &Candidate) -> Result<ServerSpec, ImportError> {
    let name = ServerName::new(&candidate.name).map_err(|message| ImportError::BadName {
        name: candidate.name.clone(),
        message,
    })?;
    Ok(ServerSpec {
        name,
        command: candidate.command.clone().unwrap_or_default(),
        args: candidate.args.clone(),
        env: candidate.env.iter().cloned().collect(),
        secret_env: candidate
            .secrets
            .iter()
            .map(|(key, _)| key.clone())
            .collect(),
        cwd: candidate.cwd.as_ref().map(PathBuf::from),
        enabled: candidate.enabled,
    })
}
