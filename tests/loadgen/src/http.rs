//! One MCP session over Streamable HTTP, as a lean client: `initialize`
//! (keeping the `Mcp-Session-Id` it returns), `notifications/initialized`,
//! then one POST per call, and `DELETE` at the end.
//!
//! It follows the legacy-era transport (2025-03-26 to 2025-11-25) because
//! that is what every contender serves: POSTs carry
//! `Accept: application/json, text/event-stream`, and an answer may come
//! either as a JSON body or as an SSE stream whose `data:` events are read
//! until the response for the request's id (notifications and the priming
//! event before it are skipped). Each session has its own `reqwest::Client`,
//! hence its own keep-alive connection, like a separate MCP client would.

use std::time::{Duration, Instant};

use anyhow::{Context as _, anyhow, bail};
use futures::StreamExt as _;
use http::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue};
use serde_json::value::RawValue;
use sse_stream::SseStream;

use crate::jsonrpc::{self, Incoming};

/// The header that carries the session id (header names are case-insensitive).
const SESSION_ID: HeaderName = HeaderName::from_static("mcp-session-id");
/// The header that repeats the negotiated version on every later request.
const PROTOCOL_VERSION: HeaderName = HeaderName::from_static("mcp-protocol-version");

/// How long to wait for the rest of an SSE stream after its response
/// arrived. Servers should end the stream right after the response; reading
/// it to the end lets the connection be reused. One that keeps it open costs
/// this much per call (outside the measured latency) and a new connection,
/// and is counted in [`Call::stream_left_open`].
const DRAIN_LIMIT: Duration = Duration::from_millis(200);

/// Where and how to reach the endpoint.
#[derive(Debug, Clone)]
pub struct HttpTarget {
    /// The MCP endpoint, `http://…`.
    pub url: reqwest::Url,
    /// Extra headers for every request (`Authorization`, typically).
    pub headers: HeaderMap,
    /// The version asked for in `initialize`.
    pub protocol_version: String,
    /// The limit for each request, the handshake's included.
    pub timeout: Duration,
}

/// The outcome of one call.
#[derive(Debug)]
pub struct Call {
    /// From just before the request was sent to the parsed response.
    pub latency: Duration,
    /// `Err` with the reason when the call counts as failed.
    pub outcome: Result<(), String>,
    /// The server kept the SSE stream open past [`DRAIN_LIMIT`] after the response.
    pub stream_left_open: bool,
}

/// An initialized session.
#[derive(Debug)]
pub struct HttpSession {
    client: reqwest::Client,
    url: reqwest::Url,
    /// The user's headers, `Accept`, `Content-Type`, and after the
    /// handshake the session id and protocol version.
    headers: HeaderMap,
    timeout: Duration,
    /// The version the server agreed to.
    version: String,
    has_session_id: bool,
}

impl HttpSession {
    /// Runs the handshake.
    ///
    /// # Errors
    /// When the endpoint cannot be reached, refuses the request (with a hint
    /// for 401, 403 and 404), or does not answer `initialize` properly.
    pub async fn open(target: &HttpTarget) -> anyhow::Result<HttpSession> {
        let client = reqwest::Client::builder()
            // Loopback benchmarks: never route through an HTTP proxy from
            // the environment.
            .no_proxy()
            .tcp_nodelay(true)
            .build()
            .context("cannot build the HTTP client")?;
        let mut headers = target.headers.clone();
        headers.insert(
            ACCEPT,
            HeaderValue::from_static("application/json, text/event-stream"),
        );
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        let mut session = HttpSession {
            client,
            url: target.url.clone(),
            headers,
            timeout: target.timeout,
            version: target.protocol_version.clone(),
            has_session_id: false,
        };
        let handshake = async {
            session.initialize(&target.protocol_version).await?;
            session.initialized().await
        };
        tokio::time::timeout(target.timeout, handshake)
            .await
            .map_err(|_| {
                anyhow!(
                    "{}: no answer to the handshake within {:?}",
                    target.url,
                    target.timeout
                )
            })??;
        Ok(session)
    }

    /// The protocol version the server agreed to.
    #[must_use]
    pub fn version(&self) -> &str {
        &self.version
    }

    /// POSTs `body` to the endpoint with the session's headers.
    async fn post(
        &self,
        body: impl Into<reqwest::Body>,
    ) -> Result<reqwest::Response, reqwest::Error> {
        self.client
            .post(self.url.clone())
            .headers(self.headers.clone())
            .body(body)
            .send()
            .await
    }

    async fn initialize(&mut self, version: &str) -> anyhow::Result<()> {
        let response = self
            .post(jsonrpc::initialize(version))
            .await
            .map_err(|err| anyhow!("cannot reach {}: {}", self.url, error_chain(&err)))?;
        let status = response.status();
        if !status.is_success() {
            let body = response.text().await.unwrap_or_default();
            bail!("{}", refusal(&self.url, &self.headers, status, &body));
        }
        let session_id = response.headers().get(&SESSION_ID).cloned();
        let negotiated = read_answer(response, jsonrpc::INITIALIZE_ID, |result| {
            jsonrpc::negotiated_version(result)
        })
        .await
        .0
        .map_err(|reason| anyhow!("{}: initialize failed: {reason}", self.url))?;
        if let Some(id) = session_id {
            self.headers.insert(SESSION_ID, id);
            self.has_session_id = true;
        }
        let value = HeaderValue::from_str(&negotiated).map_err(|_| {
            anyhow!(
                "{}: the server agreed to protocol version {negotiated:?}, which is not a header value",
                self.url
            )
        })?;
        self.headers.insert(PROTOCOL_VERSION, value);
        self.version = negotiated;
        Ok(())
    }

    async fn initialized(&self) -> anyhow::Result<()> {
        let response = self
            .post(jsonrpc::INITIALIZED)
            .await
            .map_err(|err| anyhow!("cannot reach {}: {}", self.url, error_chain(&err)))?;
        let status = response.status();
        if !status.is_success() {
            let body = response.text().await.unwrap_or_default();
            bail!(
                "{}: notifications/initialized was refused with HTTP {status}: {}",
                self.url,
                snippet(&body)
            );
        }
        Ok(())
    }

    /// Sends `body` (a `tools/call` with id `id`) and waits for its response.
    pub async fn call(&self, body: String, id: u64) -> Call {
        let started = Instant::now();
        let exchange = async {
            let response = self
                .post(body)
                .await
                .map_err(|err| format!("POST failed: {}", error_chain(&err)))?;
            let status = response.status();
            if !status.is_success() {
                let text = response.text().await.unwrap_or_default();
                return Err(format!("HTTP {status}: {}", snippet(&text)));
            }
            Ok(read_answer(response, id, jsonrpc::check_call_result).await)
        };
        match tokio::time::timeout(self.timeout, exchange).await {
            Ok(Ok((outcome, latency, stream_left_open))) => Call {
                latency: latency.map_or_else(|| started.elapsed(), |at| at - started),
                outcome,
                stream_left_open,
            },
            Ok(Err(reason)) => Call {
                latency: started.elapsed(),
                outcome: Err(reason),
                stream_left_open: false,
            },
            Err(_) => Call {
                latency: started.elapsed(),
                outcome: Err(format!("no response within {:?}", self.timeout)),
                stream_left_open: false,
            },
        }
    }

    /// Ends the session with `DELETE` (a server may answer 405: it then
    /// ends sessions on its own).
    pub async fn close(self) {
        if !self.has_session_id {
            return;
        }
        let mut headers = self.headers;
        headers.remove(CONTENT_TYPE);
        headers.insert(ACCEPT, HeaderValue::from_static("*/*"));
        let delete = self.client.delete(self.url).headers(headers).send();
        // Errors do not matter here: the figures are taken.
        drop(tokio::time::timeout(self.timeout, delete).await);
    }
}

/// Reads the answer to request `id` from a successful response, JSON or SSE,
/// and hands its `result` to `on_result`.
///
/// Returns the outcome, when the response was parsed (`None` if it never
/// came), and whether an SSE stream stayed open after it.
async fn read_answer<T>(
    response: reqwest::Response,
    id: u64,
    on_result: impl Fn(&RawValue) -> Result<T, String>,
) -> (Result<T, String>, Option<Instant>, bool) {
    let content_type = response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    if content_type.starts_with("application/json") {
        let body = match response.bytes().await {
            Ok(body) => body,
            Err(err) => {
                return (
                    Err(format!("reading the body: {}", error_chain(&err))),
                    None,
                    false,
                );
            }
        };
        let outcome = settle(&body, id, &on_result);
        // Stopped here, after parsing, as on the SSE path.
        let at = Instant::now();
        let outcome = outcome.unwrap_or_else(|| {
            Err(format!(
                "the JSON body is not the response to request {id}: {}",
                snippet(&String::from_utf8_lossy(&body))
            ))
        });
        return (outcome, Some(at), false);
    }
    if !content_type.starts_with("text/event-stream") {
        return (
            Err(format!(
                "unexpected Content-Type {content_type:?} (want application/json or text/event-stream)"
            )),
            None,
            false,
        );
    }
    let mut events = SseStream::from_bytes_stream(response.bytes_stream());
    loop {
        let event = match events.next().await {
            None => {
                return (
                    Err(format!(
                        "the event stream ended without the response to request {id}"
                    )),
                    None,
                    false,
                );
            }
            Some(Err(err)) => {
                return (Err(format!("reading the event stream: {err}")), None, false);
            }
            Some(Ok(event)) => event,
        };
        // The priming event (an id and empty data) and keep-alives carry
        // no message.
        let Some(data) = event.data.filter(|data| !data.trim().is_empty()) else {
            continue;
        };
        if let Some(outcome) = settle(data.as_bytes(), id, &on_result) {
            let at = Instant::now();
            let drained = tokio::time::timeout(DRAIN_LIMIT, async {
                while events.next().await.is_some() {}
            })
            .await;
            return (outcome, Some(at), drained.is_err());
        }
        // Not ours (a notification, or a request we do not answer): read on.
    }
}

/// What message `text` is to a client waiting for `id`: `None` if it is not
/// the response, else the outcome.
fn settle<T>(
    text: &[u8],
    id: u64,
    on_result: &impl Fn(&RawValue) -> Result<T, String>,
) -> Option<Result<T, String>> {
    match jsonrpc::classify(text, id) {
        Err(err) => Some(Err(format!(
            "not a JSON-RPC message ({err}): {}",
            snippet(&String::from_utf8_lossy(text))
        ))),
        Ok(Incoming::Other) => None,
        Ok(Incoming::Error { code, message }) => {
            Some(Err(format!("JSON-RPC error {code}: {message}")))
        }
        Ok(Incoming::Result(result)) => Some(on_result(result)),
    }
}

/// Explains a refused handshake, with the likely fix.
fn refusal(
    url: &reqwest::Url,
    headers: &HeaderMap,
    status: reqwest::StatusCode,
    body: &str,
) -> String {
    let hint = match status.as_u16() {
        401 if headers.contains_key(AUTHORIZATION) => {
            "the endpoint refused the Authorization header given with --header: check the token"
        }
        401 => "the endpoint wants a token: add --header 'Authorization: Bearer TOKEN'",
        403 => "the endpoint refused the request (Host, Origin or credentials)",
        404 => "there is no MCP endpoint at this URL: check the path",
        _ => "the endpoint refused initialize",
    };
    let body = snippet(body);
    if body.is_empty() {
        format!("{url}: HTTP {status}: {hint}")
    } else {
        format!("{url}: HTTP {status}: {hint} (server said: {body})")
    }
}

/// An error and its sources on one line: reqwest's own message alone
/// ("error sending request") hides the cause.
fn error_chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// The first 300 characters of a body, on one line.
fn snippet(text: &str) -> String {
    let line: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    match line.char_indices().nth(300) {
        Some((cut, _)) => format!("{}…", &line[..cut]),
        None => line,
    }
}
