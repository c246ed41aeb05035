//! The control channel on Windows: a named pipe whose name is derived from
//! the runtime directory (so each `GATEHOUSE_HOME` has its own), refusing
//! remote clients. The first instance of the name is created by the core,
//! so no other process can have claimed it first.
//!
//! Not tested on Windows by this project's CI (it runs on Linux); it
//! compiles there, and shares everything above the transport with Unix.

use std::path::{Path, PathBuf};
use std::time::Duration;

use tokio::net::windows::named_pipe::{ClientOptions, ServerOptions};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::connection::{self, BoxRead, BoxWrite};
use super::{ClientError, Parts};

/// `ERROR_PIPE_BUSY`: every instance is taken; the server makes another.
const PIPE_BUSY: i32 = 231;

/// The pipe's name for `runtime_dir`.
fn pipe_name(runtime_dir: &Path) -> String {
    use sha2::Digest;

    let digest = sha2::Sha256::digest(runtime_dir.as_os_str().as_encoded_bytes());
    format!(r"\\.\pipe\gatehouse-control-{}", hex::encode(&digest[..8]))
}

/// Creates the pipe and answers requests until `token` is cancelled.
pub(super) fn serve(
    runtime_dir: &Path,
    parts: Parts,
    token: CancellationToken,
    tracker: &TaskTracker,
) -> std::io::Result<PathBuf> {
    let name = pipe_name(runtime_dir);
    let mut server = ServerOptions::new()
        .first_pipe_instance(true)
        .reject_remote_clients(true)
        .create(&name)?;
    let connections = tracker.clone();
    let address = PathBuf::from(&name);
    tracker.spawn(async move {
        loop {
            tokio::select! {
                () = token.cancelled() => break,
                connected = server.connect() => {
                    if let Err(err) = connected {
                        tracing::warn!(%err, "control pipe connect failed");
                        continue;
                    }
                    // The next client gets a fresh instance of the pipe.
                    let next = match ServerOptions::new().reject_remote_clients(true).create(&name) {
                        Ok(next) => next,
                        Err(err) => {
                            tracing::warn!(%err, "cannot create another control pipe instance");
                            break;
                        }
                    };
                    let stream = std::mem::replace(&mut server, next);
                    let (read, write) = tokio::io::split(stream);
                    connection::spawn(&connections, &token, &parts, read, write);
                }
            }
        }
    });
    Ok(address)
}

/// Connects to the pipe for `runtime_dir`, waiting a moment when every
/// instance is busy.
pub(super) async fn connect(runtime_dir: &Path) -> Result<(BoxRead, BoxWrite), ClientError> {
    let name = pipe_name(runtime_dir);
    for _ in 0..50 {
        match ClientOptions::new().open(&name) {
            Ok(client) => {
                let (read, write) = tokio::io::split(client);
                return Ok(connection::boxed(read, write));
            }
            Err(err) if err.raw_os_error() == Some(PIPE_BUSY) => {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            Err(_) => break,
        }
    }
    Err(ClientError::NotRunning {
        socket: PathBuf::from(name),
    })
}
