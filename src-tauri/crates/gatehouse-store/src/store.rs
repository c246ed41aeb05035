//! [`Store`]: one SQLite connection to the approvals database.

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

use crate::error::{Result, StoreError};
use crate::migrations;

/// How long a write waits for another connection's write (the tray app and a
/// `gatehouse log` command can hold the same file) before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// The approvals database: the call log and the pins.
///
/// Methods that write take `&mut self`; share a `Store` behind a mutex.
#[derive(Debug)]
pub struct Store {
    pub(crate) conn: Connection,
    pub(crate) path: PathBuf,
}

impl Store {
    /// Opens (or creates) the database at `path`, creating its parent
    /// directory, and brings the schema up to date.
    ///
    /// A file written by a newer Gatehouse is refused with
    /// [`StoreError::TooNew`] before anything is written to it.
    pub fn open(path: impl AsRef<Path>) -> Result<Store> {
        let path = path.as_ref().to_owned();
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|source| StoreError::CreateDir {
                path: parent.to_owned(),
                source,
            })?;
        }
        let existed = path.exists();
        let conn = Connection::open_with_flags(
            &path,
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_CREATE
                | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|source| StoreError::Open {
            path: path.clone(),
            source,
        })?;
        let store = Store::setup(conn, path)?;
        // After setup: SQLite creates the file lazily, on the first write.
        if !existed {
            restrict_permissions(&store.path);
        }
        Ok(store)
    }

    /// Opens a private in-memory database with the full schema (for tests).
    pub fn open_in_memory() -> Result<Store> {
        let path = PathBuf::from(":memory:");
        let conn = Connection::open_in_memory().map_err(|source| StoreError::Open {
            path: path.clone(),
            source,
        })?;
        Store::setup(conn, path)
    }

    /// Moves everything in the write-ahead log into the database file and
    /// empties the log, so the file alone holds the whole call log (a copy
    /// or backup taken after Gatehouse quits is complete).
    pub fn checkpoint(&self) -> Result<()> {
        self.conn
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
            .map_err(sql_err(&self.path, "checkpoint the write-ahead log"))
    }

    /// The database file this store was opened on (`:memory:` for in-memory).
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn setup(mut conn: Connection, path: PathBuf) -> Result<Store> {
        let fail = |source| StoreError::Open {
            path: path.clone(),
            source,
        };
        // The busy timeout and foreign keys are per connection and write
        // nothing, so they may come before the version check.
        conn.busy_timeout(BUSY_TIMEOUT).map_err(fail)?;
        conn.pragma_update(None, "foreign_keys", true)
            .map_err(fail)?;
        // Checked before `journal_mode=WAL`, which rewrites the file header:
        // a file from a newer Gatehouse must stay byte for byte as it was.
        migrations::check_not_newer(&conn, &path)?;
        // WAL lets the GUI read the log while the gateway appends; NORMAL
        // skips an fsync per commit, which WAL makes safe against corruption
        // (a power cut can lose the last commits, not the chain's integrity).
        let _mode: String = conn
            .pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))
            .map_err(fail)?;
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(fail)?;
        migrations::migrate(&mut conn, &path)?;
        Ok(Store { conn, path })
    }
}

/// Wraps an SQLite error with the file and what the store was doing.
pub(crate) fn sql_err(
    path: &Path,
    action: &'static str,
) -> impl Fn(rusqlite::Error) -> StoreError + use<> {
    let path = path.to_owned();
    move |source| StoreError::Sqlite {
        path: path.clone(),
        action,
        source,
    }
}

/// The log holds arguments of tool calls: keep the file to its owner.
/// Best effort, since a file on a filesystem without modes still works.
#[cfg(unix)]
fn restrict_permissions(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600));
}

#[cfg(not(unix))]
fn restrict_permissions(_path: &Path) {}
