//! One MCP session over stdio: a child process of its own, spoken to with
//! newline-delimited JSON-RPC on its stdin and stdout. This is the "direct"
//! contender, the limit the gateways are measured against.
//!
//! Every session gets its own process, as separate MCP clients would, so
//! sessions never queue behind each other here. The child's stderr is
//! inherited so that a server that fails to start says why.

use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{Context as _, anyhow, bail};
use tokio::io::{AsyncBufReadExt as _, AsyncWriteExt as _, BufReader};
use tokio::process::{Child, ChildStdin, ChildStdout, Command};

use crate::jsonrpc::{self, Incoming};

/// How long a closed child may take to exit before it is killed.
const EXIT_LIMIT: Duration = Duration::from_secs(2);

/// The outcome of one call.
#[derive(Debug)]
pub struct Call {
    /// From just before the request was written to the parsed response.
    pub latency: Duration,
    /// `Err` with the reason when the call counts as failed.
    pub outcome: Result<(), String>,
}

/// An initialized session with its own server process.
#[derive(Debug)]
pub struct StdioSession {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
    /// The line being read. It survives a timed-out read, whose partial
    /// line the next read completes (`read_until` keeps what it read).
    line: Vec<u8>,
    timeout: Duration,
    version: String,
}

impl StdioSession {
    /// Starts `command` and runs the handshake.
    ///
    /// # Errors
    /// When the command cannot be started, or does not answer `initialize`
    /// properly within `timeout`.
    pub async fn open(
        command: &[String],
        protocol_version: &str,
        timeout: Duration,
    ) -> anyhow::Result<StdioSession> {
        let (program, args) = command
            .split_first()
            .ok_or_else(|| anyhow!("--stdio needs a command after `--`"))?;
        let mut child = Command::new(program)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("cannot start {program:?}"))?;
        let (Some(stdin), Some(stdout)) = (child.stdin.take(), child.stdout.take()) else {
            bail!("{program:?}: no stdin or stdout pipe");
        };
        let mut session = StdioSession {
            child,
            stdin,
            stdout: BufReader::new(stdout),
            line: Vec::with_capacity(1024),
            timeout,
            version: protocol_version.to_owned(),
        };
        let handshake = async {
            session
                .send(jsonrpc::initialize(protocol_version))
                .await
                .map_err(|reason| anyhow!("{program:?}: {reason}"))?;
            let version = session
                .answer(jsonrpc::INITIALIZE_ID, jsonrpc::negotiated_version)
                .await
                .map_err(|reason| anyhow!("{program:?}: initialize failed: {reason}"))?;
            session
                .send(jsonrpc::INITIALIZED.to_owned())
                .await
                .map_err(|reason| anyhow!("{program:?}: {reason}"))?;
            session.version = version;
            anyhow::Ok(())
        };
        tokio::time::timeout(timeout, handshake)
            .await
            .map_err(|_| anyhow!("{program:?}: no answer to initialize within {timeout:?}"))??;
        Ok(session)
    }

    /// The protocol version the server agreed to.
    #[must_use]
    pub fn version(&self) -> &str {
        &self.version
    }

    /// Writes `body` (a `tools/call` with id `id`) and waits for its response.
    pub async fn call(&mut self, body: String, id: u64) -> Call {
        let started = Instant::now();
        let timeout = self.timeout;
        let exchange = async {
            self.send(body).await?;
            self.answer(id, jsonrpc::check_call_result).await
        };
        let outcome = match tokio::time::timeout(timeout, exchange).await {
            Ok(outcome) => outcome,
            Err(_) => Err(format!("no response within {timeout:?}")),
        };
        Call {
            latency: started.elapsed(),
            outcome,
        }
    }

    /// Closes stdin (the MCP stdio way to say goodbye), waits for the exit,
    /// and kills the process if it lingers.
    pub async fn close(self) {
        let StdioSession {
            mut child, stdin, ..
        } = self;
        drop(stdin);
        if tokio::time::timeout(EXIT_LIMIT, child.wait())
            .await
            .is_err()
        {
            drop(child.kill().await);
        }
    }

    /// Writes one message and its newline in a single write.
    async fn send(&mut self, mut message: String) -> Result<(), String> {
        message.push('\n');
        self.stdin
            .write_all(message.as_bytes())
            .await
            .map_err(|err| format!("writing to the server's stdin: {err}"))
    }

    /// Reads lines until the response to `id`, skipping notifications and
    /// stale responses, and hands its `result` to `on_result`.
    async fn answer<T>(
        &mut self,
        id: u64,
        on_result: impl Fn(&serde_json::value::RawValue) -> Result<T, String>,
    ) -> Result<T, String> {
        loop {
            let read = self
                .stdout
                .read_until(b'\n', &mut self.line)
                .await
                .map_err(|err| format!("reading the server's stdout: {err}"))?;
            if read == 0 {
                return Err("the server closed its stdout (did it exit?)".to_owned());
            }
            if self.line.trim_ascii().is_empty() {
                self.line.clear();
                continue;
            }
            let outcome = match jsonrpc::classify(&self.line, id) {
                Err(err) => Some(Err(format!(
                    "not a JSON-RPC message on stdout ({err}): {}",
                    String::from_utf8_lossy(&self.line).trim_end()
                ))),
                Ok(Incoming::Other) => None,
                Ok(Incoming::Error { code, message }) => {
                    Some(Err(format!("JSON-RPC error {code}: {message}")))
                }
                Ok(Incoming::Result(result)) => Some(on_result(result)),
            };
            self.line.clear();
            if let Some(outcome) = outcome {
                return outcome;
            }
        }
    }
}
