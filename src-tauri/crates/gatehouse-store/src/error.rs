//! The crate's error type. Every variant names the database file, and the row
//! or tool when there is one, because the person reading it has to find it.

use std::io;
use std::path::PathBuf;

/// A `Result` with [`StoreError`].
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// What went wrong with the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The directory that should hold the database could not be created.
    #[error("cannot create the directory {}: {source}", path.display())]
    CreateDir {
        /// The directory.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
    /// SQLite could not open the file (or it is not a database).
    #[error("cannot open the database {}: {source}", path.display())]
    Open {
        /// The database file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: rusqlite::Error,
    },
    /// The file was written by a newer Gatehouse (or has a schema version
    /// Gatehouse never writes); it was not changed.
    #[error(
        "the database {} has schema version {found}, but this Gatehouse only knows up to {supported}; \
         it was left untouched (use a newer Gatehouse)",
        path.display()
    )]
    TooNew {
        /// The database file.
        path: PathBuf,
        /// The file's `user_version`.
        found: i64,
        /// The newest version this code knows.
        supported: i64,
    },
    /// A migration step failed; the step was rolled back.
    #[error("cannot migrate the database {} to schema version {version}: {source}", path.display())]
    Migrate {
        /// The database file.
        path: PathBuf,
        /// The version the failed step would have produced.
        version: i64,
        /// The underlying error.
        #[source]
        source: rusqlite::Error,
    },
    /// Any other SQLite failure, with what the store was doing.
    #[error("database {}: cannot {action}: {source}", path.display())]
    Sqlite {
        /// The database file.
        path: PathBuf,
        /// What the store was doing.
        action: &'static str,
        /// The underlying error.
        #[source]
        source: rusqlite::Error,
    },
    /// A call log row holds a value the code cannot read (edited by hand).
    #[error("database {}: call log row {id} has an invalid {column}: {detail}", path.display())]
    CorruptRow {
        /// The database file.
        path: PathBuf,
        /// The row's id.
        id: i64,
        /// The column.
        column: &'static str,
        /// What is wrong with it.
        detail: String,
    },
    /// The one-row chain head table is empty (edited by hand).
    #[error(
        "database {}: the call log's chain head is missing, so the log cannot be extended; \
         run `gatehouse log verify`",
        path.display()
    )]
    HeadMissing {
        /// The database file.
        path: PathBuf,
    },
    /// `set_always_allow` for a tool that was never pinned.
    #[error("database {}: tool {tool:?} of server {server:?} has no pin", path.display())]
    NotPinned {
        /// The database file.
        path: PathBuf,
        /// The server's name.
        server: String,
        /// The tool's name.
        tool: String,
    },
    /// Writing a JSON export failed.
    #[error("cannot write the JSON export: {source}")]
    ExportJson {
        /// The underlying error (usually the writer's I/O error).
        #[source]
        source: serde_json::Error,
    },
    /// Writing a CSV export failed.
    #[error("cannot write the CSV export: {source}")]
    ExportCsv {
        /// The underlying error (usually the writer's I/O error).
        #[source]
        source: csv::Error,
    },
    /// Writing an export failed at the I/O level.
    #[error("cannot write the export: {source}")]
    ExportIo {
        /// The underlying error.
        #[source]
        source: io::Error,
    },
}
