//! Where Gatehouse's files live.
//!
//! By default, the platform's own directories (via the `directories` crate):
//! on Linux `~/.config/gatehouse/gatehouse.toml`, `~/.local/share/gatehouse`,
//! `~/.local/state/gatehouse/logs` and `$XDG_RUNTIME_DIR/gatehouse`.
//! `$GATEHOUSE_HOME` relocates all of them under one directory, which is what
//! tests and portable installs use.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// The file name of the config file.
pub const CONFIG_FILE_NAME: &str = "gatehouse.toml";

/// Every location Gatehouse reads or writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Paths {
    /// The config file, `gatehouse.toml`.
    pub config_file: PathBuf,
    /// Durable data: the database, pins.
    pub data_dir: PathBuf,
    /// Rotating log files, Gatehouse's own and each server's.
    pub logs_dir: PathBuf,
    /// Runtime files: pid files, the control socket. Owner-only.
    pub runtime_dir: PathBuf,
}

/// Where the platform directories come from; injectable for tests.
#[derive(Debug, Clone, Default)]
pub struct ProjectDirsSource {
    /// `$GATEHOUSE_HOME`, if set and non-empty.
    pub gatehouse_home: Option<PathBuf>,
    /// An explicit config file (`--config`), which wins over both.
    pub config_override: Option<PathBuf>,
}

impl Paths {
    /// Resolves every path. `$GATEHOUSE_HOME` relocates everything below one
    /// directory; otherwise the platform directories are used. An explicit
    /// config file only moves the config file.
    ///
    /// # Errors
    /// [`Error::NoHome`] when neither `$GATEHOUSE_HOME` nor a home directory exists.
    pub fn resolve(source: &ProjectDirsSource) -> Result<Paths> {
        let mut paths = match &source.gatehouse_home {
            Some(home) => Paths::under(home),
            None => Paths::platform()?,
        };
        if let Some(config) = &source.config_override {
            paths.config_file = config.clone();
        }
        Ok(paths)
    }

    /// All paths below one directory: `$GATEHOUSE_HOME`'s layout.
    pub fn under(home: &Path) -> Paths {
        Paths {
            config_file: home.join(CONFIG_FILE_NAME),
            data_dir: home.join("data"),
            logs_dir: home.join("logs"),
            runtime_dir: home.join("run"),
        }
    }

    fn platform() -> Result<Paths> {
        let dirs =
            directories::ProjectDirs::from("dev", "gatehouse", "Gatehouse").ok_or(Error::NoHome)?;
        let state_dir = dirs
            .state_dir()
            .unwrap_or_else(|| dirs.data_local_dir())
            .to_owned();
        let runtime_dir = dirs
            .runtime_dir()
            .map_or_else(|| dirs.data_local_dir().join("run"), Path::to_owned);
        Ok(Paths {
            config_file: dirs.config_dir().join(CONFIG_FILE_NAME),
            data_dir: dirs.data_dir().to_owned(),
            logs_dir: state_dir.join("logs"),
            runtime_dir,
        })
    }

    /// Creates the data, logs and runtime directories (and the config file's
    /// parent). The runtime directory is made owner-only on Unix, because the
    /// control socket will live there.
    ///
    /// # Errors
    /// [`Error::Io`] naming the directory that could not be created.
    pub fn create_dirs(&self) -> Result<()> {
        let config_parent = self.config_file.parent().map(Path::to_owned);
        for dir in [
            Some(self.data_dir.clone()),
            Some(self.logs_dir.clone()),
            Some(self.runtime_dir.clone()),
            config_parent,
        ]
        .into_iter()
        .flatten()
        {
            std::fs::create_dir_all(&dir).map_err(|source| Error::Io {
                path: dir.clone(),
                source,
            })?;
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let owner_only = std::fs::Permissions::from_mode(0o700);
            std::fs::set_permissions(&self.runtime_dir, owner_only).map_err(|source| {
                Error::Io {
                    path: self.runtime_dir.clone(),
                    source,
                }
            })?;
        }
        Ok(())
    }
}
