//! The HTTP side: one reqwest client for Gatehouse's endpoint, the bearer token (re-read
//! once after a 401), and the failures a relayed message can meet, worded for the user.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE};
use http::{HeaderMap, HeaderValue, Method, StatusCode};
use reqwest::{Response, Url};

use crate::TokenSource;
use crate::error::BridgeError;

/// How long to wait for the TCP connection; the endpoint is loopback, so this is generous.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// How much of an error body is quoted back to the client.
const ERROR_BODY_CHARS: usize = 500;
/// How much of an error body is read at all.
const ERROR_BODY_READ_BYTES: usize = 64 * 1024;

/// Why a message could not be relayed. Each becomes a JSON-RPC error for the client,
/// so the wording says what happened and what to do; none of it ever holds the token.
#[derive(Debug)]
pub(crate) enum Failure {
    /// No TCP connection (refused, timed out): Gatehouse is not running or not there.
    Unreachable { url: Url, reason: String },
    /// The connection broke while sending or receiving.
    Connection { url: Url, reason: String },
    /// Still 401 after re-reading the token.
    Unauthorized,
    /// The token source failed, or gave a token that cannot be sent.
    Token(String),
    /// Any other error status.
    Status { status: StatusCode, body: String },
    /// A success status with a body the bridge cannot relay.
    Unexpected(String),
    /// The response stream ended (or broke) before the response to the request.
    Incomplete(String),
    /// Gatehouse would not start a new session, or there was nothing to start one with.
    NoNewSession(String),
    /// The session expired and starting a new one failed.
    SessionLost(Box<Failure>),
}

impl Failure {
    /// The text of the JSON-RPC error sent to the client.
    pub(crate) fn message(&self) -> String {
        match self {
            Failure::Unreachable { url, reason } => {
                format!("Gatehouse is not reachable at {url} ({reason}): is it running?")
            }
            Failure::Connection { url, reason } => {
                format!("The connection to Gatehouse at {url} failed: {reason}")
            }
            Failure::Unauthorized => {
                "Gatehouse refused the bridge's token (HTTP 401 Unauthorized), \
                 also after the bridge read the token again. Check that the bridge is given \
                 Gatehouse's current token: `gatehouse token show` prints it."
                    .to_owned()
            }
            Failure::Token(reason) => {
                format!("The bridge could not read the Gatehouse token: {reason}")
            }
            Failure::Status { status, body } if body.is_empty() => {
                format!("Gatehouse answered HTTP {status}")
            }
            Failure::Status { status, body } => format!("Gatehouse answered HTTP {status}: {body}"),
            Failure::Unexpected(what) => {
                format!("Gatehouse sent a response the bridge cannot relay: {what}")
            }
            Failure::Incomplete(reason) => {
                format!("Gatehouse did not finish the response to this request: {reason}")
            }
            Failure::NoNewSession(reason) => reason.clone(),
            Failure::SessionLost(cause) => format!(
                "The Gatehouse session expired and a new one could not be started: {}",
                cause.message()
            ),
        }
    }

    /// Extra data for the JSON-RPC error: the HTTP status, when there is one.
    pub(crate) fn http_status(&self) -> Option<u16> {
        match self {
            Failure::Status { status, .. } => Some(status.as_u16()),
            Failure::Unauthorized => Some(401),
            Failure::SessionLost(cause) => cause.http_status(),
            _ => None,
        }
    }

    /// A failure for an error status, quoting the start of the body.
    pub(crate) async fn from_status(response: Response) -> Failure {
        let status = response.status();
        let (body, _complete) = read_prefix(response, ERROR_BODY_READ_BYTES).await;
        let body = quote_body(&body);
        Failure::Status { status, body }
    }
}

/// Reads a body up to `cap` bytes; `None` when it is longer or breaks off.
pub(crate) async fn read_capped(mut response: Response, cap: usize) -> Option<Vec<u8>> {
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.ok()? {
        if body.len() + chunk.len() > cap {
            return None;
        }
        body.extend_from_slice(&chunk);
    }
    Some(body)
}

/// Reads at most `cap` bytes of a body; the flag says whether that was all of it.
pub(crate) async fn read_prefix(mut response: Response, cap: usize) -> (Vec<u8>, bool) {
    let mut body = Vec::new();
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) if body.len() + chunk.len() > cap => {
                body.extend_from_slice(&chunk[..cap - body.len()]);
                return (body, false);
            }
            Ok(Some(chunk)) => body.extend_from_slice(&chunk),
            Ok(None) => return (body, true),
            Err(_) => return (body, false),
        }
    }
}

/// The start of an error body, fit to quote in a message.
pub(crate) fn quote_body(body: &[u8]) -> String {
    truncate(&String::from_utf8_lossy(body), ERROR_BODY_CHARS)
}

fn truncate(text: &str, max_chars: usize) -> String {
    let text = text.trim();
    match text.char_indices().nth(max_chars) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_owned(),
    }
}

/// An error and its causes on one line, as reqwest's own message alone says little.
fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

/// Whether the request failed on an established connection before any response came
/// back. Almost always that is a pooled keep-alive connection the server had just closed
/// (hyper servers close after answering without reading the whole body, as on an early
/// 401 or 413), so the server never saw the request.
fn is_lost_on_reused_connection(error: &reqwest::Error) -> bool {
    error.is_request() && !error.is_connect() && !error.is_timeout()
}

/// The text of the innermost error in a chain.
fn root_cause(error: &(dyn std::error::Error + 'static)) -> String {
    let mut cause = error;
    while let Some(source) = cause.source() {
        cause = source;
    }
    cause.to_string()
}

/// The Streamable HTTP endpoint and how to talk to it.
pub(crate) struct Endpoint {
    client: reqwest::Client,
    url: Url,
    auth: Auth,
}

impl Endpoint {
    /// Builds the client and reads the token for the first time.
    pub(crate) async fn connect(
        url: &str,
        token_source: Arc<dyn TokenSource>,
    ) -> Result<Endpoint, BridgeError> {
        let url = Url::parse(url).map_err(|error| BridgeError::InvalidUrl {
            url: url.to_owned(),
            reason: error.to_string(),
        })?;
        if url.scheme() != "http" {
            return Err(BridgeError::InvalidUrl {
                url: url.to_string(),
                reason: "the bridge speaks plain HTTP to a loopback endpoint, so the scheme must be http"
                    .to_owned(),
            });
        }
        let client = reqwest::Client::builder()
            // The endpoint is loopback: a user's HTTP_PROXY must never see this traffic.
            .no_proxy()
            .connect_timeout(CONNECT_TIMEOUT)
            // No overall timeout: a tool call may legitimately run for a long time.
            .build()
            .map_err(BridgeError::HttpClient)?;
        let token = read_token(token_source.clone())
            .await
            .map_err(BridgeError::Token)?;
        let auth = Auth {
            source: token_source,
            current: Mutex::new(token),
            refresh: tokio::sync::Mutex::new(()),
        };
        Ok(Endpoint { client, url, auth })
    }

    /// The endpoint's URL.
    pub(crate) fn url(&self) -> &Url {
        &self.url
    }

    /// POSTs one message. `headers` holds the session and version headers.
    pub(crate) async fn post(&self, headers: HeaderMap, body: Bytes) -> Result<Response, Failure> {
        let mut headers = headers;
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        headers.insert(
            ACCEPT,
            HeaderValue::from_static("application/json, text/event-stream"),
        );
        self.send(Method::POST, headers, Some(body)).await
    }

    /// Opens a GET stream (server-initiated messages, or resuming a response stream).
    pub(crate) async fn get(&self, headers: HeaderMap) -> Result<Response, Failure> {
        let mut headers = headers;
        headers.insert(ACCEPT, HeaderValue::from_static("text/event-stream"));
        self.send(Method::GET, headers, None).await
    }

    /// Ends a session.
    pub(crate) async fn delete(&self, headers: HeaderMap) -> Result<Response, Failure> {
        self.send(Method::DELETE, headers, None).await
    }

    /// Sends with the current token; after a 401 re-reads the token once and retries.
    async fn send(
        &self,
        method: Method,
        headers: HeaderMap,
        body: Option<Bytes>,
    ) -> Result<Response, Failure> {
        let token = self.auth.current();
        let response = self
            .send_once(&method, &headers, body.clone(), &token)
            .await?;
        if response.status() != StatusCode::UNAUTHORIZED {
            return Ok(response);
        }
        tracing::info!("Gatehouse refused the token (HTTP 401); reading it again");
        let token = self.auth.refreshed(&token).await?;
        let response = self.send_once(&method, &headers, body, &token).await?;
        if response.status() == StatusCode::UNAUTHORIZED {
            tracing::warn!("Gatehouse refused the token again (HTTP 401)");
            return Err(Failure::Unauthorized);
        }
        Ok(response)
    }

    async fn send_once(
        &self,
        method: &Method,
        headers: &HeaderMap,
        body: Option<Bytes>,
        token: &Arc<str>,
    ) -> Result<Response, Failure> {
        let mut authorization =
            HeaderValue::from_str(&format!("Bearer {token}")).map_err(|_| {
                Failure::Token(
                    "the token holds characters that cannot be sent in an HTTP header".to_owned(),
                )
            })?;
        // Keeps the token out of any debug output of the request.
        authorization.set_sensitive(true);
        let mut request = self
            .client
            .request(method.clone(), self.url.clone())
            .headers(headers.clone())
            .header(AUTHORIZATION, authorization);
        if let Some(body) = &body {
            request = request.body(body.clone());
        }
        // Cloning cannot fail: the body is in memory.
        let retry = request.try_clone();
        match request.send().await {
            Ok(response) => Ok(response),
            // Sent again at once, as browsers do: the connection is gone, and a server that
            // did get the request but died before answering will not be there to get it twice.
            Err(error) if is_lost_on_reused_connection(&error) => {
                tracing::debug!(
                    "the connection to Gatehouse closed before a response; sending again"
                );
                let Some(retry) = retry else {
                    return Err(self.send_failure(&error));
                };
                retry
                    .send()
                    .await
                    .map_err(|error| self.send_failure(&error))
            }
            Err(error) => Err(self.send_failure(&error)),
        }
    }

    fn send_failure(&self, error: &reqwest::Error) -> Failure {
        let url = self.url.clone();
        if error.is_connect() {
            // The innermost cause ("Connection refused") is the part worth reading.
            let reason = root_cause(error);
            Failure::Unreachable { url, reason }
        } else {
            let reason = error_chain(error);
            Failure::Connection { url, reason }
        }
    }

    /// The failure for a response body that broke off.
    pub(crate) fn stream_failure(&self, reason: &str) -> Failure {
        Failure::Connection {
            url: self.url.clone(),
            reason: reason.to_owned(),
        }
    }
}

/// The bearer token: the last value read, and the source to read it again.
struct Auth {
    source: Arc<dyn TokenSource>,
    current: Mutex<Arc<str>>,
    /// Serializes re-reads, so concurrent 401s read the token once.
    refresh: tokio::sync::Mutex<()>,
}

impl Auth {
    fn current(&self) -> Arc<str> {
        match self.current.lock() {
            Ok(current) => current.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// A token to retry with after `refused` got a 401: the newer one if another request
    /// already re-read it, else a fresh read.
    async fn refreshed(&self, refused: &Arc<str>) -> Result<Arc<str>, Failure> {
        let _guard = self.refresh.lock().await;
        let current = self.current();
        if !Arc::ptr_eq(&current, refused) {
            return Ok(current);
        }
        let fresh = read_token(self.source.clone())
            .await
            .map_err(Failure::Token)?;
        match self.current.lock() {
            Ok(mut current) => *current = fresh.clone(),
            Err(poisoned) => *poisoned.into_inner() = fresh.clone(),
        }
        Ok(fresh)
    }
}

/// Calls the token source off the async threads: it may block (a keyring, a file).
async fn read_token(source: Arc<dyn TokenSource>) -> Result<Arc<str>, String> {
    let token = tokio::task::spawn_blocking(move || source.token())
        .await
        .map_err(|error| format!("the token source failed: {error}"))??;
    Ok(Arc::from(token.trim()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncates_long_bodies_on_char_boundaries() {
        assert_eq!(truncate("  short  ", 10), "short");
        assert_eq!(truncate("ééééé", 3), "ééé…");
    }
}
