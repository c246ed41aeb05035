//! One control connection, whatever carries it (a Unix socket, a named
//! pipe): the server side answers its requests, [`Client`] makes them.

use std::path::Path;

use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};

use super::{ClientError, LogReport, NO_DESK, Parts, Request, Response, answer};
use crate::desk::Desk;

/// Most bytes read from one connection: the CLI sends one short request,
/// a window's command a small JSON object.
const MAX_REQUEST: u64 = 64 * 1024;

type Lines<R> = tokio::io::Lines<BufReader<tokio::io::Take<R>>>;

/// Answers one connection's requests until it hangs up.
pub(super) async fn handle<R, W>(read: R, mut write: W, parts: &Parts) -> std::io::Result<()>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let mut lines = BufReader::new(read.take(MAX_REQUEST)).lines();
    while let Some(line) = lines.next_line().await? {
        let request = match serde_json::from_str::<Request>(&line) {
            Ok(request) => request,
            Err(err) => {
                send(
                    &mut write,
                    &Response::Error(format!("not a request: {err}")),
                )
                .await?;
                continue;
            }
        };
        // Reads are frequent (every bridge start, the CLI, the windows) and
        // dull; changes are worth a line.
        if matches!(
            request,
            Request::Token
                | Request::Gateway
                | Request::List
                | Request::Show { .. }
                | Request::Logs { .. }
                | Request::Pending
                | Request::Invoke { .. }
                | Request::Watch
        ) {
            tracing::debug!(?request, "control request");
        } else {
            tracing::info!(?request, "control request");
        }
        if let Request::Logs {
            server,
            follow: true,
        } = &request
        {
            return follow_logs(&mut write, parts, server).await;
        }
        if let Request::Watch = request {
            return match parts.desk() {
                Some(desk) => watch(&mut write, &mut lines, desk.as_ref()).await,
                None => send(&mut write, &Response::Error(NO_DESK.to_owned())).await,
            };
        }
        send(&mut write, &answer(parts, request).await).await?;
    }
    Ok(())
}

async fn send<W: AsyncWrite + Unpin>(write: &mut W, response: &Response) -> std::io::Result<()> {
    let mut out = serde_json::to_vec(response).map_err(std::io::Error::other)?;
    out.push(b'\n');
    write.write_all(&out).await
}

/// The recent lines, then each new one, until the client hangs up.
async fn follow_logs<W: AsyncWrite + Unpin>(
    write: &mut W,
    parts: &Parts,
    server: &str,
) -> std::io::Result<()> {
    let Some((recent, mut live)) = parts.supervisor.logs(server) else {
        return send(
            write,
            &Response::Error(format!("there is no server `{server}`")),
        )
        .await;
    };
    send(
        write,
        &Response::Log(recent.iter().map(LogReport::from_line).collect()),
    )
    .await?;
    loop {
        let line = match live.recv().await {
            Ok(line) => LogReport::from_line(&line),
            Err(tokio::sync::broadcast::error::RecvError::Lagged(missed)) => LogReport {
                time_ms: 0,
                stream: "gatehouse".to_owned(),
                text: format!("… {missed} lines skipped: this reader fell behind"),
            },
            // The server was removed from the config.
            Err(tokio::sync::broadcast::error::RecvError::Closed) => return Ok(()),
        };
        send(write, &Response::Log(vec![line])).await?;
    }
}

/// The present state, then each change, until the client hangs up: a
/// window process that went away must stop counting as a watcher at once
/// (the tray then starts one for the approval dialog itself).
async fn watch<R, W>(write: &mut W, lines: &mut Lines<R>, desk: &dyn Desk) -> std::io::Result<()>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    use tokio::sync::broadcast::error::RecvError;

    let mut live = desk.subscribe();
    for event in desk.snapshot() {
        send(write, &Response::Event(event)).await?;
    }
    loop {
        tokio::select! {
            received = live.recv() => match received {
                Ok(event) => send(write, &Response::Event(event)).await?,
                // Fell behind: the present state says all the missed ones did.
                Err(RecvError::Lagged(_)) => {
                    for event in desk.snapshot() {
                        send(write, &Response::Event(event)).await?;
                    }
                }
                Err(RecvError::Closed) => return Ok(()),
            },
            line = lines.next_line() => match line? {
                // Nothing more is expected on this connection; EOF is the hang-up.
                Some(_) => {}
                None => return Ok(()),
            },
        }
    }
}

pub(super) type BoxRead = Box<dyn AsyncRead + Send + Unpin>;
pub(super) type BoxWrite = Box<dyn AsyncWrite + Send + Unpin>;

/// A connection to the running Gatehouse.
pub struct Client {
    lines: tokio::io::Lines<BufReader<BoxRead>>,
    write: BoxWrite,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client").finish_non_exhaustive()
    }
}

impl Client {
    /// Connects to the Gatehouse whose runtime directory is `runtime_dir`.
    ///
    /// # Errors
    /// [`ClientError::NotRunning`] when nothing listens there;
    /// [`ClientError::Unsupported`] on a platform without a control channel.
    pub async fn connect(runtime_dir: &Path) -> Result<Client, ClientError> {
        let (read, write) = super::platform::connect(runtime_dir).await?;
        Ok(Client {
            lines: BufReader::new(read).lines(),
            write,
        })
    }

    /// The next answer on a streaming request (`Logs` with `follow`,
    /// `Watch`); `None` when Gatehouse ends the stream.
    ///
    /// # Errors
    /// A transport or protocol error.
    pub async fn next(&mut self) -> Result<Option<Response>, ClientError> {
        match self.lines.next_line().await? {
            Some(line) => Ok(Some(serde_json::from_str(&line)?)),
            None => Ok(None),
        }
    }

    /// Sends `request` without waiting for an answer: for a streaming
    /// request (`Watch`), whose answers [`Client::next`] reads.
    ///
    /// # Errors
    /// A transport error.
    pub async fn send(&mut self, request: &Request) -> Result<(), ClientError> {
        let mut line = serde_json::to_vec(request)?;
        line.push(b'\n');
        self.write.write_all(&line).await?;
        Ok(())
    }

    /// Sends `request` and waits for the answer.
    ///
    /// # Errors
    /// [`ClientError::Refused`] with Gatehouse's sentence, or a transport error.
    pub async fn call(&mut self, request: &Request) -> Result<Response, ClientError> {
        self.send(request).await?;
        let Some(answer) = self.lines.next_line().await? else {
            return Err(ClientError::Io(std::io::ErrorKind::UnexpectedEof.into()));
        };
        match serde_json::from_str(&answer)? {
            Response::Error(message) => Err(ClientError::Refused(message)),
            response => Ok(response),
        }
    }
}

/// A connection's two halves, as [`Client`] keeps them.
pub(super) fn boxed<R, W>(read: R, write: W) -> (BoxRead, BoxWrite)
where
    R: AsyncRead + Send + Unpin + 'static,
    W: AsyncWrite + Send + Unpin + 'static,
{
    (Box::new(read), Box::new(write))
}

/// Answers `read`/`write` on a task of `tracker`'s until it hangs up or
/// `token` is cancelled.
pub(super) fn spawn<R, W>(
    tracker: &tokio_util::task::TaskTracker,
    token: &tokio_util::sync::CancellationToken,
    parts: &Parts,
    read: R,
    write: W,
) where
    R: AsyncRead + Send + Unpin + 'static,
    W: AsyncWrite + Send + Unpin + 'static,
{
    let parts = parts.clone();
    let token = token.clone();
    tracker.spawn(async move {
        tokio::select! {
            () = token.cancelled() => {}
            result = handle(read, write, &parts) => if let Err(err) = result {
                tracing::debug!(%err, "control connection ended");
            },
        }
    });
}
