//! What can go wrong registering with a client, each with the file it is
//! about and what to do.

use std::path::{Path, PathBuf};

/// The crate's result.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Errors of client registration. None carries the token.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// No client has this id.
    #[error("there is no client `{0}`; `gatehouse client list` shows the ones Gatehouse knows")]
    UnknownClient(String),
    /// The client has no file in that scope.
    #[error("{client} has no {scope} config file")]
    NoScope {
        /// The client's name.
        client: &'static str,
        /// `user` or `project`.
        scope: &'static str,
    },
    /// Project scope without a project directory.
    #[error("{client}'s project file needs a project: pass --project DIR")]
    ProjectRequired {
        /// The client's name.
        client: &'static str,
    },
    /// The project is not a directory.
    #[error("{} is not a directory", path.display())]
    NotADirectory {
        /// What was given.
        path: PathBuf,
    },
    /// The file does not parse: refused, and left untouched.
    #[error("{}: {source}; fix the file (or move it away) and try again; Gatehouse did not change it", path.display())]
    Syntax {
        /// The file.
        path: PathBuf,
        /// Where and what.
        source: crate::document::SyntaxError,
    },
    /// The file parses, but the servers' key is not a map.
    #[error("{}: {source}; Gatehouse did not change it", path.display())]
    Shape {
        /// The file.
        path: PathBuf,
        /// Which key.
        source: crate::document::ShapeError,
    },
    /// The file changed between showing the change and making it.
    #[error("{} changed since the change was prepared; review it again", path.display())]
    ChangedSince {
        /// The file.
        path: PathBuf,
    },
    /// Nothing to undo.
    #[error("there is no backup of {} to restore", path.display())]
    NoBackup {
        /// The file.
        path: PathBuf,
    },
    /// The client's own command failed to make the change.
    #[error("`{command}` failed: {why}")]
    ClientCommand {
        /// The command, without the entry it was given.
        command: String,
        /// What went wrong.
        why: String,
    },
    /// A file could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

impl Error {
    pub(crate) fn io(path: &Path, source: std::io::Error) -> Error {
        Error::Io {
            path: path.to_owned(),
            source,
        }
    }
}
