//! Platforms with neither Unix sockets nor named pipes: no control channel.

use std::path::{Path, PathBuf};

use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::connection::{BoxRead, BoxWrite};
use super::{ClientError, Parts};

pub(super) fn serve(
    _runtime_dir: &Path,
    _parts: Parts,
    _token: CancellationToken,
    _tracker: &TaskTracker,
) -> std::io::Result<PathBuf> {
    Err(std::io::Error::other("no control channel on this platform"))
}

pub(super) async fn connect(_runtime_dir: &Path) -> Result<(BoxRead, BoxWrite), ClientError> {
    Err(ClientError::Unsupported)
}
