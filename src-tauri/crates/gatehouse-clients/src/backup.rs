//! Backups of client files, kept in Gatehouse's data directory (never
//! beside the file, where a project would commit them): the last few
//! versions of each file, newest last, so `undo` can step back.
//!
//! Layout: `<data>/client-backups/<slug>-<hash of the path>/`, holding
//! `PATH` (the file's path, for people) and one `<unix ms>.bak` per
//! version, or `<unix ms>.absent` when the file did not exist before.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use sha2::{Digest, Sha256};

use crate::error::{Error, Result};

/// How many versions of one file are kept.
pub const KEEP: usize = 5;

/// A saved version of a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Backup {
    /// Where it is saved.
    pub path: PathBuf,
    /// The file's content then; `None` if it did not exist.
    pub content: Option<Vec<u8>>,
}

/// The backups of every client file.
#[derive(Debug, Clone)]
pub struct Backups {
    root: PathBuf,
}

impl Backups {
    /// Backups under `data_dir`.
    pub fn new(data_dir: &Path) -> Backups {
        Backups {
            root: data_dir.join("client-backups"),
        }
    }

    fn dir_for(&self, file: &Path) -> PathBuf {
        let digest = Sha256::digest(file.to_string_lossy().as_bytes());
        let name: String = file
            .file_name()
            .map(|name| name.to_string_lossy().into_owned())
            .unwrap_or_default()
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '.' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        self.root
            .join(format!("{name}-{}", hex::encode(&digest[..6])))
    }

    /// Saves `content` (`None`: the file does not exist) as the newest
    /// version of `file`, keeps the last [`KEEP`], and returns where it went.
    /// Saved owner-only: a version may hold the endpoint's token.
    ///
    /// # Errors
    /// [`Error::Io`] naming the backup.
    pub fn save(&self, file: &Path, content: Option<&[u8]>) -> Result<PathBuf> {
        let dir = self.dir_for(file);
        create_private_dir(&dir)?;
        std::fs::write(dir.join("PATH"), file.to_string_lossy().as_bytes())
            .map_err(|source| Error::io(&dir, source))?;
        let mut stamp = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis());
        // Two saves in one millisecond must not overwrite each other.
        while let Some(last) = self.versions(&dir)?.last()
            && stamp_of(last) >= Some(stamp)
        {
            stamp = stamp_of(last).map_or(stamp, |last| last + 1);
        }
        let path = match content {
            Some(content) => {
                let path = dir.join(format!("{stamp:013}.bak"));
                write_private(&path, content)?;
                path
            }
            None => {
                let path = dir.join(format!("{stamp:013}.absent"));
                write_private(&path, b"")?;
                path
            }
        };
        let versions = self.versions(&dir)?;
        for old in versions.iter().take(versions.len().saturating_sub(KEEP)) {
            let _ = std::fs::remove_file(old);
        }
        Ok(path)
    }

    /// The newest saved version of `file`, if any.
    ///
    /// # Errors
    /// [`Error::Io`] when the backup cannot be read.
    pub fn latest(&self, file: &Path) -> Result<Option<Backup>> {
        let dir = self.dir_for(file);
        let Some(path) = self.versions(&dir)?.pop() else {
            return Ok(None);
        };
        let content = if path.extension().is_some_and(|ext| ext == "absent") {
            None
        } else {
            Some(std::fs::read(&path).map_err(|source| Error::io(&path, source))?)
        };
        Ok(Some(Backup { path, content }))
    }

    /// Forgets one version (after `undo` restored it).
    ///
    /// # Errors
    /// [`Error::Io`] naming the backup.
    pub fn discard(&self, backup: &Backup) -> Result<()> {
        std::fs::remove_file(&backup.path).map_err(|source| Error::io(&backup.path, source))
    }

    fn versions(&self, dir: &Path) -> Result<Vec<PathBuf>> {
        let entries = match std::fs::read_dir(dir) {
            Ok(entries) => entries,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(source) => return Err(Error::io(dir, source)),
        };
        let mut versions: Vec<PathBuf> = entries
            .filter_map(|entry| entry.ok().map(|entry| entry.path()))
            .filter(|path| stamp_of(path).is_some())
            .collect();
        versions.sort_by_key(|path| stamp_of(path));
        Ok(versions)
    }
}

fn stamp_of(path: &Path) -> Option<u128> {
    let ext = path.extension()?;
    if ext != "bak" && ext != "absent" {
        return None;
    }
    path.file_stem()?.to_str()?.parse().ok()
}

fn create_private_dir(dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|source| Error::io(dir, source))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        for dir in [dir, dir.parent().unwrap_or(dir)] {
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
                .map_err(|source| Error::io(dir, source))?;
        }
    }
    Ok(())
}

fn write_private(path: &Path, content: &[u8]) -> Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options
        .open(path)
        .map_err(|source| Error::io(path, source))?;
    file.write_all(content)
        .and_then(|()| file.sync_all())
        .map_err(|source| Error::io(path, source))
}
