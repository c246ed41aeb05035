//! One change to one client file, shown before it is made: the text before
//! and after, the diff (token masked), and the write itself: locked,
//! checked against what was shown, backed up, then a temporary file in the
//! same directory renamed over the original, keeping its permissions.

use std::io::Write;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::backup::{Backup, Backups};
use crate::delegate::Delegated;
use crate::error::{Error, Result};

/// What masks the token in a diff.
pub const MASK: &str = "****";

const BOM: char = '\u{feff}';

/// A client file as read: its real path (symlinks followed, so a dotfile
/// manager's link keeps pointing at the file) and its text, if it exists.
#[derive(Debug, Clone)]
pub struct FileText {
    /// The file written, with symlinks resolved.
    pub path: PathBuf,
    /// The text; `None` if the file does not exist.
    pub text: Option<String>,
}

impl FileText {
    /// Reads `path`.
    ///
    /// # Errors
    /// [`Error::Io`] when the file exists but cannot be read or is not UTF-8.
    pub fn read(path: &Path) -> Result<FileText> {
        let path = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_owned());
        let bytes = match std::fs::read(&path) {
            Ok(bytes) => Some(bytes),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => None,
            Err(source) => return Err(Error::io(&path, source)),
        };
        FileText::from_bytes(path, bytes)
    }

    /// The file at `path` with content `bytes` (`None`: it does not exist),
    /// e.g. as a backup holds it.
    ///
    /// # Errors
    /// [`Error::Io`] when the content is not UTF-8.
    pub(crate) fn from_bytes(path: PathBuf, bytes: Option<Vec<u8>>) -> Result<FileText> {
        let text = match bytes {
            Some(bytes) => Some(String::from_utf8(bytes).map_err(|_| {
                Error::io(
                    &path,
                    std::io::Error::new(
                        std::io::ErrorKind::InvalidData,
                        "the file is not UTF-8 text",
                    ),
                )
            })?),
            None => None,
        };
        Ok(FileText { path, text })
    }

    /// The text to parse: without a byte-order mark, which parsers reject.
    pub fn body(&self) -> &str {
        body_of(self.text.as_deref())
    }

    /// `body` edited back into a whole file, with the byte-order mark the
    /// file had.
    pub fn with_body(&self, body: String) -> String {
        match &self.text {
            Some(text) if text.starts_with(BOM) => format!("{BOM}{body}"),
            _ => body,
        }
    }

    /// A fingerprint of the content, to notice a change in between.
    pub fn base(&self) -> String {
        fingerprint(self.text.as_deref())
    }
}

/// A file's text (`None`: absent, so empty) without its byte-order mark.
pub(crate) fn body_of(text: Option<&str>) -> &str {
    let text = text.unwrap_or("");
    text.strip_prefix(BOM).unwrap_or(text)
}

fn fingerprint(text: Option<&str>) -> String {
    match text {
        Some(text) => hex::encode(Sha256::digest(text.as_bytes())),
        None => "absent".to_owned(),
    }
}

/// A change to one file, ready to show and to make.
#[derive(Debug, Clone)]
pub struct Plan {
    /// The file.
    pub path: PathBuf,
    /// Its text now; `None` if it does not exist.
    pub before: Option<String>,
    /// Its text after; `None` deletes it (Gatehouse's own file, emptied).
    pub after: Option<String>,
    /// Values masked in the diff (the token).
    pub(crate) masked: Vec<String>,
    /// For a file the client rewrites itself: the change as entries, made
    /// through the client's command line when it is installed.
    pub(crate) delegated: Option<Delegated>,
}

impl Plan {
    /// Whether the change changes anything.
    pub fn changed(&self) -> bool {
        self.before != self.after
    }

    /// Whether the file would be created.
    pub fn creates(&self) -> bool {
        self.before.is_none() && self.after.is_some()
    }

    /// The fingerprint of the file as this plan saw it: of its servers
    /// alone in a file the client rewrites as it runs.
    pub fn base(&self) -> String {
        match &self.delegated {
            Some(delegated) => delegated.base(),
            None => fingerprint(self.before.as_deref()),
        }
    }

    /// The client command that makes the change instead of Gatehouse
    /// writing the file (`claude` for Claude Code's `~/.claude.json`).
    pub fn by_client_command(&self) -> bool {
        self.delegated.as_ref().is_some_and(Delegated::by_command)
    }

    /// A unified diff of the change, with the token masked; empty when
    /// nothing changes.
    pub fn diff(&self) -> String {
        if !self.changed() {
            return String::new();
        }
        let before = self.mask(self.before.as_deref().unwrap_or(""));
        let after = self.mask(self.after.as_deref().unwrap_or(""));
        let path = self.path.display().to_string();
        let old_header = if self.before.is_some() {
            path.clone()
        } else {
            "/dev/null".to_owned()
        };
        let new_header = if self.after.is_some() {
            path
        } else {
            "/dev/null".to_owned()
        };
        similar::TextDiff::from_lines(&before, &after)
            .unified_diff()
            .context_radius(3)
            .header(&old_header, &new_header)
            .to_string()
    }

    fn mask(&self, text: &str) -> String {
        self.masked
            .iter()
            .filter(|secret| !secret.is_empty())
            .fold(text.to_owned(), |text, secret| {
                text.replace(secret.as_str(), MASK)
            })
    }
}

/// Makes changes to client files, one at a time.
#[derive(Debug, Clone)]
pub struct Writer {
    backups: Backups,
    lock: PathBuf,
}

impl Writer {
    /// A writer keeping its lock and backups under `data_dir`.
    pub fn new(data_dir: &Path) -> Writer {
        Writer {
            backups: Backups::new(data_dir),
            lock: data_dir.join("client-backups.lock"),
        }
    }

    /// The backups it keeps.
    pub fn backups(&self) -> &Backups {
        &self.backups
    }

    /// Makes `plan`'s change, if the file is still as the plan saw it.
    /// Returns the backup of the previous version (`None` when nothing
    /// changed). `redact` pairs (value, placeholder) are replaced in the
    /// backup, for secrets that were just moved out of the file.
    ///
    /// # Errors
    /// [`Error::ChangedSince`] when the file changed since the plan was
    /// made; [`Error::Io`] when it cannot be backed up or written. The file
    /// is left as it was in both cases.
    pub fn apply(&self, plan: &Plan, redact: &[(String, String)]) -> Result<Option<PathBuf>> {
        if !plan.changed() {
            return Ok(None);
        }
        let _lock = self.lock()?;
        let now = check(plan)?;
        // What is backed up is the file as it is now: a client that
        // rewrites its file may have changed other parts of it since.
        let before = now.text.as_deref();
        let saved = before.map(|before| {
            redact
                .iter()
                .fold(before.to_owned(), |text, (value, placeholder)| {
                    text.replace(value.as_str(), placeholder)
                })
        });
        let backup = self
            .backups
            .save(&plan.path, saved.as_deref().map(str::as_bytes))?;
        make(plan, &now)?;
        Ok(Some(backup))
    }

    /// Makes `plan`, which puts back `backup`'s entries, and forgets
    /// `backup`, so the next undo steps back once more.
    ///
    /// # Errors
    /// As [`Writer::apply`].
    pub(crate) fn restore(&self, plan: &Plan, backup: &Backup) -> Result<()> {
        let _lock = self.lock()?;
        if plan.changed() {
            let now = check(plan)?;
            make(plan, &now)?;
        }
        self.backups.discard(backup)
    }

    /// Restores the newest backup of `path`, and forgets it, so a second
    /// undo steps back once more. Returns the backup restored.
    ///
    /// # Errors
    /// [`Error::NoBackup`] when there is none; [`Error::Io`].
    pub fn undo(&self, path: &Path) -> Result<Backup> {
        let path = FileText::read(path)?.path;
        let _lock = self.lock()?;
        let backup = self
            .backups
            .latest(&path)?
            .ok_or_else(|| Error::NoBackup { path: path.clone() })?;
        match &backup.content {
            Some(content) => write_atomically(&path, content, false)?,
            None => match std::fs::remove_file(&path) {
                Ok(()) => {}
                Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
                Err(source) => return Err(Error::io(&path, source)),
            },
        }
        self.backups.discard(&backup)?;
        Ok(backup)
    }

    /// Holds the lock that keeps two Gatehouse processes (the app and the
    /// CLI) from interleaving their read-check-write of a client file.
    fn lock(&self) -> Result<std::fs::File> {
        if let Some(parent) = self.lock.parent() {
            std::fs::create_dir_all(parent).map_err(|source| Error::io(parent, source))?;
        }
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&self.lock)
            .map_err(|source| Error::io(&self.lock, source))?;
        file.lock()
            .map_err(|source| Error::io(&self.lock, source))?;
        Ok(file)
    }
}

/// The file now, if it is still as `plan` saw it (its servers, for a file
/// the client rewrites as it runs).
fn check(plan: &Plan) -> Result<FileText> {
    let now = FileText::read(&plan.path)?;
    match &plan.delegated {
        Some(delegated) => delegated.check(&now)?,
        None if now.text != plan.before => {
            return Err(Error::ChangedSince {
                path: plan.path.clone(),
            });
        }
        None => {}
    }
    Ok(now)
}

/// Makes the change: through the client's command line, or by writing the
/// file (`now`, as checked) over.
fn make(plan: &Plan, now: &FileText) -> Result<()> {
    if let Some(delegated) = plan.delegated.as_ref().filter(|d| d.by_command()) {
        return delegated.run(&plan.path);
    }
    let after = match &plan.delegated {
        // The client rewrote other parts of its file since the plan: keep
        // those, change only the servers.
        Some(delegated) if now.text != plan.before => Some(delegated.edit(now)?),
        _ => plan.after.clone(),
    };
    match after {
        Some(after) => {
            let secret = plan
                .masked
                .iter()
                .any(|s| !s.is_empty() && after.contains(s.as_str()));
            write_atomically(&plan.path, after.as_bytes(), secret)
        }
        None => std::fs::remove_file(&plan.path).map_err(|source| Error::io(&plan.path, source)),
    }
}

/// Replaces `path` with `content`: a temporary file in the same directory,
/// synced, given the original's permissions (owner-only when `secret`:
/// a file holding the token loses group and other access, clients.md §4.4),
/// then renamed over it. A reader sees the old file or the new
/// one, never half of either. Missing parent directories are created.
fn write_atomically(path: &Path, content: &[u8], secret: bool) -> Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(|source| Error::io(dir, source))?;
    let name = path
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut temp = tempfile::Builder::new()
        .prefix(&format!(".{name}.gatehouse-"))
        .tempfile_in(dir)
        .map_err(|source| Error::io(dir, source))?;
    temp.write_all(content)
        .and_then(|()| temp.as_file().sync_all())
        .map_err(|source| Error::io(temp.path(), source))?;
    let permissions = match std::fs::metadata(path) {
        Ok(metadata) => Some(kept_permissions(metadata.permissions(), secret)),
        Err(_) => new_file_permissions(secret),
    };
    if let Some(permissions) = permissions {
        temp.as_file()
            .set_permissions(permissions)
            .map_err(|source| Error::io(temp.path(), source))?;
    }
    temp.persist(path)
        .map_err(|err| Error::io(path, err.error))?;
    Ok(())
}

/// A new file holding the token is owner-only (the temporary file already
/// is); any other new file gets the usual `rw-r--r--`.
#[cfg(unix)]
fn new_file_permissions(secret: bool) -> Option<std::fs::Permissions> {
    use std::os::unix::fs::PermissionsExt;
    (!secret).then(|| std::fs::Permissions::from_mode(0o644))
}

#[cfg(not(unix))]
fn new_file_permissions(_secret: bool) -> Option<std::fs::Permissions> {
    None
}

/// An existing file keeps its permissions, less group and other access
/// once it holds the token.
#[cfg(unix)]
fn kept_permissions(permissions: std::fs::Permissions, secret: bool) -> std::fs::Permissions {
    use std::os::unix::fs::PermissionsExt;
    if secret {
        std::fs::Permissions::from_mode(permissions.mode() & !0o077)
    } else {
        permissions
    }
}

#[cfg(not(unix))]
fn kept_permissions(permissions: std::fs::Permissions, _secret: bool) -> std::fs::Permissions {
    permissions
}
