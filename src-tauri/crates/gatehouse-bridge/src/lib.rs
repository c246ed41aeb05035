//! The stdio bridge behind `gatehouse bridge`: a stdio MCP server that relays every
//! message to Gatehouse's Streamable HTTP endpoint, for MCP clients that can only launch
//! processes (Claude Desktop).
//!
//! It is a raw relay: messages are forwarded as the bytes they arrived as, so fields the
//! bridge has never heard of survive; it decodes only what routing needs (id, method,
//! protocol era, names). It speaks both protocol eras: legacy sessions (`initialize`,
//! `Mcp-Session-Id`, a GET stream for server-initiated messages, re-initializing when a
//! session expires) and the stateless 2026-07-28 era (per-request `_meta`, `Mcp-Method`
//! and `Mcp-Name` headers, cancellation by dropping the connection).
//!
//! Stdout carries nothing but JSON-RPC messages, one per line; diagnostics go to
//! `tracing`. Every request gets a reply: when Gatehouse cannot answer (not running,
//! token refused, HTTP error) the bridge answers with a JSON-RPC error that says why.
//!
//! The bridge knows nothing about keyrings, config files or how Gatehouse is started:
//! the caller gives it a URL and a [`TokenSource`]. It never logs the token or puts it
//! in an error.
//!
//! # Layout
//!
//! - `relay`: the dispatcher; one task per request, cancellation, shutdown.
//! - `session`: legacy session state, the GET stream and re-initialization.
//! - `http`: the HTTP client, the token and its re-read after a 401, failures.
//! - `sse`: response bodies (JSON or Server-Sent Events) as messages.
//! - `headers`: the 2026-07-28 `Mcp-Method`/`Mcp-Name`/`Mcp-Param-*` headers.
//! - `message`: the little JSON-RPC decoding routing needs, and error replies.
//! - `stdio`: capped line reading and the single stdout writer.
//! - `scan`: finds the id of a line too long to keep.
//! - `error`: [`BridgeError`], the fatal errors.

#![deny(missing_docs)]

mod error;
mod headers;
mod http;
mod message;
mod relay;
mod scan;
mod session;
mod sse;
mod stdio;

use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::mpsc;

pub use crate::error::BridgeError;
use crate::http::Endpoint;
use crate::relay::Relay;

/// How many lines may wait for stdout before writers wait in turn.
const OUTPUT_QUEUE: usize = 1024;
/// At the end, how long stdout may take to accept what is left.
const FLUSH_TIMEOUT: Duration = Duration::from_secs(5);

/// Where the bearer token comes from. The bridge asks again after a 401, so a rotated
/// token is picked up without restarting the client.
pub trait TokenSource: Send + Sync + 'static {
    /// The bearer token to send. Called when the bridge connects, and once more after a
    /// 401 (so a rotated token just works). It may block; the bridge calls it off the
    /// async threads. The error is shown to the user, so it should say what to do.
    fn token(&self) -> Result<String, String>;
}

/// A stdio-to-Streamable-HTTP relay for one MCP client.
pub struct Bridge {
    url: String,
    token: Arc<dyn TokenSource>,
}

impl Bridge {
    /// A bridge to the Streamable HTTP MCP endpoint at `url` (e.g.
    /// `http://127.0.0.1:7878/mcp`), authenticating with the token from `token`.
    pub fn new(url: impl Into<String>, token: Arc<dyn TokenSource>) -> Bridge {
        Bridge {
            url: url.into(),
            token,
        }
    }

    /// Relays until stdin closes (then returns Ok) or a fatal error.
    ///
    /// Reads newline-delimited JSON-RPC from `stdin` and writes Gatehouse's messages to
    /// `stdout`, one per line. When `stdin` ends, in-flight requests get a few seconds to
    /// finish, a legacy session is ended with DELETE, and stdout is flushed.
    ///
    /// Fails at once if the URL is unusable or the token cannot be read, and later only
    /// if stdin or stdout fails; problems with Gatehouse itself become JSON-RPC errors.
    pub async fn run<R, W>(self, stdin: R, stdout: W) -> Result<(), BridgeError>
    where
        R: AsyncRead + Unpin + Send + 'static,
        W: AsyncWrite + Unpin + Send + 'static,
    {
        let endpoint = Endpoint::connect(&self.url, self.token).await?;
        tracing::info!(url = %endpoint.url(), "relaying stdio to Gatehouse");
        let (out, lines) = mpsc::channel(OUTPUT_QUEUE);
        let mut writer = tokio::spawn(stdio::write_lines(stdout, lines));
        let relay = Arc::new(Relay::new(endpoint, out));

        let read = tokio::select! {
            read = relay.read_stdin(stdin) => read,
            written = &mut writer => {
                // The writer only stops early when stdout failed.
                relay.abort();
                return Err(BridgeError::Stdout(writer_error(written)));
            }
        };
        if let Err(error) = read {
            relay.abort();
            return Err(BridgeError::Stdin(error));
        }
        tracing::info!("stdin closed; finishing");
        relay.shut_down().await;
        // The last sender goes with the relay, which lets the writer drain and stop.
        drop(relay);
        match tokio::time::timeout(FLUSH_TIMEOUT, writer).await {
            Ok(Ok(Ok(()))) => Ok(()),
            Ok(written) => Err(BridgeError::Stdout(writer_error(written))),
            Err(_) => {
                tracing::warn!("stdout did not take the last messages in time");
                Ok(())
            }
        }
    }
}

/// The stdout error behind a finished writer task.
fn writer_error(written: Result<std::io::Result<()>, tokio::task::JoinError>) -> std::io::Error {
    match written {
        Ok(Err(error)) => error,
        Ok(Ok(())) => std::io::Error::other("the stdout writer stopped early"),
        Err(error) => std::io::Error::other(error),
    }
}
