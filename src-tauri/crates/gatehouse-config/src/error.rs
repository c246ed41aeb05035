//! The config crate's error type.

use std::fmt;
use std::path::{Path, PathBuf};

/// Result alias for this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What went wrong while locating, reading or validating the config.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The config file does not exist.
    #[error("config file {} does not exist", path.display())]
    NotFound {
        /// The path that was looked up.
        path: PathBuf,
    },
    /// The file exists but could not be read or written.
    #[error("cannot access {}: {source}", path.display())]
    Io {
        /// The file or directory involved.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The file is not valid TOML, or not a valid Gatehouse config.
    #[error("invalid config {location}: {message}")]
    Invalid {
        /// Where the problem is.
        location: Location,
        /// What is wrong, in one line.
        message: String,
    },
    /// An edit names a server the config file does not have.
    #[error("there is no server `{server}` in {}", path.display())]
    UnknownServer {
        /// The config file.
        path: PathBuf,
        /// The server asked for.
        server: String,
    },
    /// No home directory could be determined, and `$GATEHOUSE_HOME` is not set.
    #[error(
        "cannot find a home directory for Gatehouse's files; set GATEHOUSE_HOME to a directory"
    )]
    NoHome,
}

/// A position in a config file: `path:line:column`, 1-based.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    /// The file.
    pub path: PathBuf,
    /// 1-based line, when known.
    pub line: Option<usize>,
    /// 1-based column (in characters), when known.
    pub column: Option<usize>,
}

impl Location {
    pub(crate) fn file_only(path: &Path) -> Location {
        Location {
            path: path.to_owned(),
            line: None,
            column: None,
        }
    }

    pub(crate) fn from_offset(path: &Path, text: &str, offset: usize) -> Location {
        let offset = offset.min(text.len());
        let before = text.get(..offset).unwrap_or(text);
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |idx| idx + 1);
        let column = before[line_start..].chars().count() + 1;
        Location {
            path: path.to_owned(),
            line: Some(line),
            column: Some(column),
        }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.path.display())?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
            if let Some(column) = self.column {
                write!(f, ":{column}")?;
            }
        }
        Ok(())
    }
}
