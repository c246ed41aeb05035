//! The control channel on Unix: a socket, `<runtime dir>/control.sock`, in
//! a directory only the owner can enter, and itself owner-only.

use std::path::{Path, PathBuf};

use tokio::net::{UnixListener, UnixStream};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::connection::{self, BoxRead, BoxWrite};
use super::{ClientError, Parts, SOCKET_NAME};

/// Binds the socket (replacing a stale one: the caller holds the instance
/// lock) and answers requests until `token` is cancelled.
pub(super) fn serve(
    runtime_dir: &Path,
    parts: Parts,
    token: CancellationToken,
    tracker: &TaskTracker,
) -> std::io::Result<PathBuf> {
    use std::os::unix::fs::PermissionsExt;

    let path = runtime_dir.join(SOCKET_NAME);
    match std::fs::remove_file(&path) {
        Err(err) if err.kind() != std::io::ErrorKind::NotFound => return Err(err),
        _ => {}
    }
    let listener = UnixListener::bind(&path)?;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))?;
    let connections = tracker.clone();
    tracker.spawn(async move {
        loop {
            let stream = tokio::select! {
                () = token.cancelled() => break,
                accepted = listener.accept() => match accepted {
                    Ok((stream, _)) => stream,
                    Err(err) => {
                        tracing::warn!(%err, "control socket accept failed");
                        continue;
                    }
                },
            };
            let (read, write) = stream.into_split();
            connection::spawn(&connections, &token, &parts, read, write);
        }
    });
    Ok(path)
}

/// Connects to the socket in `runtime_dir`.
pub(super) async fn connect(runtime_dir: &Path) -> Result<(BoxRead, BoxWrite), ClientError> {
    let socket = runtime_dir.join(SOCKET_NAME);
    let stream = UnixStream::connect(&socket)
        .await
        .map_err(|_| ClientError::NotRunning { socket })?;
    let (read, write) = stream.into_split();
    Ok(connection::boxed(read, write))
}
