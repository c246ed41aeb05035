//! The relay: reads client messages, POSTs each one (requests concurrently, one task each),
//! writes what comes back, and makes sure every request gets exactly one reply.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use futures::StreamExt;
use http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use serde_json::{Value, json};
use tokio::io::AsyncRead;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::headers::{self, MCP_PROTOCOL_VERSION, MCP_SESSION_ID, ToolHeaders};
use crate::http::{Endpoint, Failure, quote_body, read_capped, read_prefix};
use crate::message::{self, INVALID_REQUEST, Incoming, Kind, RELAY_ERROR};
use crate::session::{self, GET_BACKOFF_MAX, Session, Snapshot};
use crate::sse::{self, BodyKind, Events, Item, RecentIds};
use crate::stdio::{Line, LineReader, MAX_LINE_BYTES};

/// How long a notification or response may hold up the messages after it. Waiting keeps
/// their order (e.g. `notifications/initialized` before the next request) without letting
/// a stuck POST stall the relay.
const IN_ORDER_WAIT: Duration = Duration::from_secs(5);
/// How long the reader waits for `initialize` to be answered before relaying what
/// the client sent after it.
const HANDSHAKE_WAIT: Duration = Duration::from_secs(30);
/// How long a legacy-era request may still be answered after it was cancelled.
const LEGACY_CANCEL_GRACE: Duration = Duration::from_secs(10);
/// How long a response stream may stay open after it delivered its response.
const AFTER_RESPONSE_WAIT: Duration = Duration::from_secs(1);
/// At end of input, how long in-flight requests get to finish.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(5);
/// How long the session's DELETE may take at shutdown.
const DELETE_TIMEOUT: Duration = Duration::from_secs(2);
/// How often a response stream that ended early is resumed with `Last-Event-ID`.
const MAX_RESUMES: u32 = 3;

/// Everything the relay's tasks share.
pub(crate) struct Relay {
    pub(crate) endpoint: Endpoint,
    pub(crate) session: Session,
    /// Every task the relay starts, so shutdown can wait for them.
    pub(crate) tasks: TaskTracker,
    /// Fired at shutdown: stops whatever is still running.
    pub(crate) shutdown: CancellationToken,
    /// Fired when stdin ends: cancelled requests stop waiting for a late response.
    draining: CancellationToken,
    /// Lines for the stdout writer.
    out: mpsc::Sender<Vec<u8>>,
    tools: ToolHeaders,
    in_flight: Mutex<HashMap<String, InFlight>>,
    next_serial: AtomicU64,
}

/// A request waiting for its response.
struct InFlight {
    /// Tells this request from a later one that reuses its id.
    serial: u64,
    /// Modern-era requests are cancelled by dropping their connection.
    modern: bool,
    /// Fired when the client cancels the request.
    cancelled: CancellationToken,
}

/// The ids a message still expects responses for.
struct Pending(Vec<(String, Value)>);

impl Pending {
    fn new(ids: Vec<Value>) -> Pending {
        Pending(
            ids.into_iter()
                .map(|id| (message::id_key(&id), id))
                .collect(),
        )
    }

    /// Marks `id` answered; `false` if it was not pending.
    fn answer(&mut self, id: &Value) -> bool {
        let key = message::id_key(id);
        let before = self.0.len();
        self.0.retain(|(pending, _)| *pending != key);
        self.0.len() != before
    }

    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    fn ids(&self) -> impl Iterator<Item = &Value> {
        self.0.iter().map(|(_, id)| id)
    }
}

/// One POST of a message, as the code relaying its response needs it.
struct Exchange<'a> {
    incoming: &'a Incoming,
    modern: bool,
    /// The `Mcp-Session-Id` the response carried.
    new_session_id: Option<String>,
}

impl Relay {
    pub(crate) fn new(endpoint: Endpoint, out: mpsc::Sender<Vec<u8>>) -> Relay {
        Relay {
            endpoint,
            session: Session::default(),
            tasks: TaskTracker::new(),
            shutdown: CancellationToken::new(),
            draining: CancellationToken::new(),
            out,
            tools: ToolHeaders::default(),
            in_flight: Mutex::new(HashMap::new()),
            next_serial: AtomicU64::new(0),
        }
    }

    /// Relays stdin until it ends.
    pub(crate) async fn read_stdin<R: AsyncRead + Unpin>(
        self: &Arc<Self>,
        stdin: R,
    ) -> std::io::Result<()> {
        let mut lines = LineReader::new(stdin, MAX_LINE_BYTES);
        while let Some(line) = lines.next().await? {
            self.handle_line(line).await;
        }
        Ok(())
    }

    /// At end of input: let in-flight requests finish (briefly), end the session, stop.
    pub(crate) async fn shut_down(self: &Arc<Self>) {
        self.session.close();
        self.draining.cancel();
        self.tasks.close();
        if tokio::time::timeout(DRAIN_TIMEOUT, self.tasks.wait())
            .await
            .is_err()
        {
            tracing::warn!(
                "stdin closed; stopped waiting for {} unfinished request(s)",
                self.tasks.len()
            );
        }
        self.shutdown.cancel();
        self.tasks.wait().await;
        // Read only now: a request may have renewed the session while draining.
        let session = self.session.snapshot();
        if session.id.is_some() {
            // The spec asks clients to end their session; a failure here changes nothing.
            let delete = self.endpoint.delete(session.headers());
            match tokio::time::timeout(DELETE_TIMEOUT, delete).await {
                Ok(Ok(response)) => {
                    tracing::debug!("ended the session: HTTP {}", response.status())
                }
                Ok(Err(failure)) => {
                    tracing::debug!("could not end the session: {}", failure.message())
                }
                Err(_) => tracing::debug!("ending the session timed out"),
            }
        }
    }

    /// Stops everything at once (stdout or stdin failed).
    pub(crate) fn abort(&self) {
        self.session.close();
        self.shutdown.cancel();
    }

    async fn handle_line(self: &Arc<Self>, line: Line) {
        let bytes = match line {
            Line::Complete(bytes) => bytes,
            Line::TooLong(head) => {
                match head.id.filter(|_| head.has_method) {
                    Some(id) => {
                        tracing::warn!(
                            "answered a request over the 16 MiB line limit with an error"
                        );
                        self.write(message::error_line(
                            &id,
                            INVALID_REQUEST,
                            "The request is larger than 16 MiB, the most the Gatehouse bridge relays",
                        ))
                        .await;
                    }
                    None => tracing::warn!("dropped a message over the 16 MiB line limit"),
                }
                return;
            }
        };
        if bytes.trim_ascii().is_empty() {
            return;
        }
        match message::parse(bytes) {
            Ok(incoming) => self.dispatch(incoming).await,
            Err(reply) => {
                tracing::warn!("answered a malformed line from the client with an error");
                self.write(reply).await;
            }
        }
    }

    async fn dispatch(self: &Arc<Self>, incoming: Incoming) {
        match &incoming.kind {
            Kind::Request { id, method } => {
                tracing::debug!(%method, %id, "relaying a request");
                let serial = self.next_serial.fetch_add(1, Ordering::Relaxed);
                let cancelled = CancellationToken::new();
                self.in_flight().insert(
                    message::id_key(id),
                    InFlight {
                        serial,
                        modern: incoming.modern_version().is_some(),
                        cancelled: cancelled.clone(),
                    },
                );
                let opens_session = method == "initialize";
                let relay = self.clone();
                let task = self.tasks.spawn(async move {
                    relay.run_request(incoming, serial, cancelled).await;
                });
                // Everything after `initialize` belongs to the session it
                // opens: read on only once its id is known.
                if opens_session && tokio::time::timeout(HANDSHAKE_WAIT, task).await.is_err() {
                    tracing::debug!("initialize is slow to be answered; reading on");
                }
            }
            Kind::Batch { .. } => {
                let relay = self.clone();
                self.tasks.spawn(async move {
                    relay
                        .run_request(incoming, 0, CancellationToken::new())
                        .await
                });
            }
            Kind::Notification { method } if method == "notifications/cancelled" => {
                self.cancel(incoming).await;
            }
            Kind::Notification { .. } | Kind::Response => self.send_in_order(incoming).await,
        }
    }

    fn in_flight(&self) -> MutexGuard<'_, HashMap<String, InFlight>> {
        self.in_flight
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// `notifications/cancelled` from the client. In the 2026-07-28 era a request is
    /// cancelled by closing its connection; before that, by forwarding the notification.
    async fn cancel(self: &Arc<Self>, incoming: Incoming) {
        let target = incoming
            .value
            .pointer("/params/requestId")
            .map(message::id_key)
            .and_then(|key| {
                self.in_flight()
                    .get(&key)
                    .map(|request| (request.modern, request.cancelled.clone()))
            });
        match target {
            Some((true, cancelled)) => {
                tracing::debug!("cancelling a modern-era request by dropping its connection");
                cancelled.cancel();
            }
            Some((false, cancelled)) => {
                cancelled.cancel();
                self.send_in_order(incoming).await;
            }
            // Unknown to the bridge (finished, or never seen): the server may know better.
            None => self.send_in_order(incoming).await,
        }
    }

    /// Relays a notification or response in its own task, but waits for it (up to
    /// `IN_ORDER_WAIT`) before reading on, so the server sees messages in order.
    async fn send_in_order(self: &Arc<Self>, incoming: Incoming) {
        let relay = self.clone();
        let task = self.tasks.spawn(async move {
            tokio::select! {
                () = relay.run_other(incoming) => {}
                () = relay.shutdown.cancelled() => {}
            }
        });
        if tokio::time::timeout(IN_ORDER_WAIT, task).await.is_err() {
            tracing::debug!("a notification is slow to be accepted; reading on");
        }
    }

    async fn run_other(self: &Arc<Self>, incoming: Incoming) {
        let mut pending = Pending::new(Vec::new());
        let method = incoming.method().unwrap_or("response").to_owned();
        match self.exchange(&incoming, &mut pending).await {
            Ok(()) => {
                if method == "notifications/initialized" && incoming.modern_version().is_none() {
                    self.session.remember_initialized(incoming.raw.clone());
                    let generation = self.session.snapshot().generation;
                    session::start_get_stream(self, generation);
                }
            }
            Err(failure) => {
                tracing::warn!(%method, "could not relay a message: {}", failure.message())
            }
        }
    }

    async fn run_request(
        self: Arc<Self>,
        incoming: Incoming,
        serial: u64,
        cancelled: CancellationToken,
    ) {
        let modern = incoming.modern_version().is_some();
        let mut pending = Pending::new(incoming.reply_ids());
        let stop = async {
            cancelled.cancelled().await;
            // A legacy server may still answer a cancelled request; give it a moment,
            // unless the bridge is finishing anyway.
            if !modern {
                tokio::select! {
                    () = tokio::time::sleep(LEGACY_CANCEL_GRACE) => {}
                    () = self.draining.cancelled() => {}
                }
            }
        };
        let outcome = tokio::select! {
            outcome = self.exchange(&incoming, &mut pending) => Some(outcome),
            () = stop => None,
            () = self.shutdown.cancelled() => Some(Err(Failure::Incomplete(
                "the MCP client closed stdin before Gatehouse answered".to_owned(),
            ))),
        };
        if let Kind::Request { id, .. } = &incoming.kind {
            let key = message::id_key(id);
            let mut in_flight = self.in_flight();
            if in_flight
                .get(&key)
                .is_some_and(|request| request.serial == serial)
            {
                in_flight.remove(&key);
            }
        }
        // A cancelled request is owed nothing more; the client has moved on.
        if cancelled.is_cancelled() || pending.is_empty() {
            return;
        }
        let failure = match outcome {
            Some(Err(failure)) => failure,
            Some(Ok(())) => Failure::Incomplete(
                "Gatehouse accepted the request but sent no response".to_owned(),
            ),
            None => return,
        };
        tracing::warn!(
            method = incoming.method().unwrap_or("batch"),
            "{}",
            failure.message()
        );
        for id in pending.ids() {
            self.write(failure_line(id, &failure)).await;
        }
    }

    /// POSTs one message and relays what comes back. Transparently starts a new session
    /// and retries once when a legacy session has expired.
    async fn exchange(
        self: &Arc<Self>,
        incoming: &Incoming,
        pending: &mut Pending,
    ) -> Result<(), Failure> {
        let modern_version = incoming.modern_version();
        let is_initialize = incoming.method() == Some("initialize");
        let mut renewed_session = false;
        loop {
            let (headers, snapshot) = match modern_version {
                Some(version) => (self.modern_headers(incoming, version), Snapshot::default()),
                // `initialize` starts a session, so it carries none.
                None if is_initialize => (HeaderMap::new(), Snapshot::default()),
                None => {
                    let snapshot = self.session.snapshot();
                    (snapshot.headers(), snapshot)
                }
            };
            let response = self.endpoint.post(headers, incoming.raw.clone()).await?;
            if response.status() == StatusCode::NOT_FOUND
                && snapshot.id.is_some()
                && !renewed_session
            {
                session::reinitialize(self, snapshot.generation)
                    .await
                    .map_err(|failure| Failure::SessionLost(Box::new(failure)))?;
                renewed_session = true;
                // The replay already sent the client's initialized notification.
                if incoming.method() == Some("notifications/initialized") {
                    return Ok(());
                }
                continue;
            }
            let exchange = Exchange {
                incoming,
                modern: modern_version.is_some(),
                new_session_id: response
                    .headers()
                    .get(MCP_SESSION_ID)
                    .and_then(|value| value.to_str().ok())
                    .map(str::to_owned),
            };
            return self
                .relay_response(&exchange, response, pending, &snapshot)
                .await;
        }
    }

    fn modern_headers(&self, incoming: &Incoming, version: &str) -> HeaderMap {
        let mut headers = match incoming.method() {
            Some(method) => headers::routing_headers(&incoming.value, method, &self.tools),
            None => HeaderMap::new(),
        };
        if let Ok(version) = HeaderValue::from_str(version) {
            headers.insert(HeaderName::from_static(MCP_PROTOCOL_VERSION), version);
        }
        headers
    }

    async fn relay_response(
        &self,
        exchange: &Exchange<'_>,
        response: reqwest::Response,
        pending: &mut Pending,
        snapshot: &Snapshot,
    ) -> Result<(), Failure> {
        let status = response.status();
        if status == StatusCode::ACCEPTED {
            return Ok(());
        }
        if !status.is_success() {
            return self.relay_error_status(exchange, response, pending).await;
        }
        match sse::body_kind(&response) {
            BodyKind::Json => {
                let body = read_capped(response, MAX_LINE_BYTES).await.ok_or_else(|| {
                    Failure::Unexpected(
                        "the response is larger than 16 MiB or broke off".to_owned(),
                    )
                })?;
                self.deliver(&body, exchange, pending).await;
                Ok(())
            }
            BodyKind::EventStream => {
                let events = sse::events(response);
                self.relay_events(events, exchange, pending, snapshot).await
            }
            BodyKind::Other(content_type) => {
                let body = read_capped(response, MAX_LINE_BYTES)
                    .await
                    .unwrap_or_default();
                if pending.is_empty() && body.trim_ascii().is_empty() {
                    return Ok(());
                }
                Err(Failure::Unexpected(format!(
                    "content type `{content_type}`"
                )))
            }
        }
    }

    /// An error status. Servers often explain it with a JSON-RPC error for the request
    /// (a modern unknown method is 404 with -32601): relay that as is; otherwise say what
    /// the status and body were.
    async fn relay_error_status(
        &self,
        exchange: &Exchange<'_>,
        response: reqwest::Response,
        pending: &mut Pending,
    ) -> Result<(), Failure> {
        let status = response.status();
        let is_json = matches!(sse::body_kind(&response), BodyKind::Json);
        let (body, complete) = read_prefix(response, MAX_LINE_BYTES).await;
        if is_json
            && complete
            && let Some(outgoing) = message::outgoing(&body)
            && !outgoing.response_ids.is_empty()
            && outgoing
                .response_ids
                .iter()
                .all(|id| pending.ids().any(|p| p == id))
        {
            self.deliver(&body, exchange, pending).await;
            return Ok(());
        }
        Err(Failure::Status {
            status,
            body: quote_body(&body),
        })
    }

    /// Relays the messages of a response stream until it ends. A stream that ends
    /// cleanly before the response is resumed with `Last-Event-ID` (legacy sessions).
    async fn relay_events(
        &self,
        mut events: Events,
        exchange: &Exchange<'_>,
        pending: &mut Pending,
        snapshot: &Snapshot,
    ) -> Result<(), Failure> {
        let mut last_event_id: Option<String> = None;
        let mut retry: Option<Duration> = None;
        let mut seen = RecentIds::default();
        let mut resumes = 0;
        loop {
            let mut broke_off = None;
            while let Some(item) = self.next_event(&mut events, pending).await {
                match item {
                    Ok(Item::Message(event)) => {
                        if let Some(id) = event.id {
                            if !seen.insert(&id) {
                                continue;
                            }
                            last_event_id = Some(id);
                        }
                        self.deliver(event.data.as_bytes(), exchange, pending).await;
                    }
                    Ok(Item::Marker { id, retry: hint }) => {
                        if id.is_some() {
                            last_event_id = id;
                        }
                        retry = hint.or(retry);
                    }
                    Err(reason) => {
                        broke_off = Some(reason);
                        break;
                    }
                }
            }
            if pending.is_empty() {
                return Ok(());
            }
            if let Some(reason) = broke_off {
                return Err(self.endpoint.stream_failure(&reason));
            }
            let resumable = !exchange.modern && snapshot.id.is_some() && resumes < MAX_RESUMES;
            let Some(event_id) = last_event_id.clone().filter(|_| resumable) else {
                return Err(Failure::Incomplete(
                    "the response stream ended before the response".to_owned(),
                ));
            };
            resumes += 1;
            tokio::time::sleep(retry.unwrap_or(Duration::from_secs(1)).min(GET_BACKOFF_MAX)).await;
            events = self.resume(snapshot, &event_id).await?;
        }
    }

    /// The next item of a response stream; once the response has arrived, waits only
    /// briefly for the stream to end, as a server should end it then.
    async fn next_event(
        &self,
        events: &mut Events,
        pending: &Pending,
    ) -> Option<Result<Item, String>> {
        if pending.is_empty() {
            tokio::time::timeout(AFTER_RESPONSE_WAIT, events.next())
                .await
                .ok()
                .flatten()
        } else {
            events.next().await
        }
    }

    /// Reopens a response stream that ended early (2025-11-25 resumption).
    async fn resume(&self, snapshot: &Snapshot, last_event_id: &str) -> Result<Events, Failure> {
        tracing::debug!("resuming a response stream with Last-Event-ID");
        let mut headers = snapshot.headers();
        if let Ok(value) = HeaderValue::from_str(last_event_id) {
            headers.insert(HeaderName::from_static("last-event-id"), value);
        }
        let response = self.endpoint.get(headers).await?;
        if !response.status().is_success() {
            return Err(Failure::from_status(response).await);
        }
        match sse::body_kind(&response) {
            BodyKind::EventStream => Ok(sse::events(response)),
            _ => Err(Failure::Unexpected(
                "the resumed stream is not an event stream".to_owned(),
            )),
        }
    }

    /// Writes one message from the server, noting which pending request it answers.
    async fn deliver(&self, payload: &[u8], exchange: &Exchange<'_>, pending: &mut Pending) {
        let Some(outgoing) = message::outgoing(payload) else {
            tracing::warn!("dropped a message from Gatehouse that is not JSON");
            return;
        };
        // Counts rather than `any`, so every id of a batch response is marked.
        let answered = outgoing
            .response_ids
            .iter()
            .filter(|id| pending.answer(id))
            .count()
            > 0;
        if answered {
            // Before writing: the client's next message must already see the session.
            self.learn_from_answer(payload, exchange);
        }
        self.write(outgoing.line).await;
    }

    fn learn_from_answer(&self, payload: &[u8], exchange: &Exchange<'_>) {
        let method = exchange.incoming.method();
        let learns = match method {
            Some("initialize") => !exchange.modern,
            Some("tools/list") => exchange.modern,
            _ => false,
        };
        if !learns {
            return;
        }
        let Ok(message) = serde_json::from_slice::<Value>(payload) else {
            return;
        };
        let Some(result) = message.get("result") else {
            return;
        };
        if method == Some("tools/list") {
            self.tools.learn(result);
            return;
        }
        let protocol_version = result
            .get("protocolVersion")
            .and_then(Value::as_str)
            .map(str::to_owned);
        if exchange.new_session_id.is_some() {
            tracing::debug!("Gatehouse started a session");
        }
        self.session.adopt(
            exchange.new_session_id.clone(),
            protocol_version,
            Some(exchange.incoming.value.clone()),
        );
    }

    /// Writes a server-initiated message (from the GET stream).
    pub(crate) async fn write_server_message(&self, payload: &[u8]) {
        match message::outgoing(payload) {
            Some(outgoing) => self.write(outgoing.line).await,
            None => tracing::warn!("dropped a message from Gatehouse that is not JSON"),
        }
    }

    async fn write(&self, line: Vec<u8>) {
        // Fails only when the writer has stopped, which ends the bridge anyway.
        let _ = self.out.send(line).await;
    }
}

/// The JSON-RPC error reply for a request that could not be relayed.
fn failure_line(id: &Value, failure: &Failure) -> Vec<u8> {
    let mut reply = json!({
        "jsonrpc": "2.0",
        "id": id,
        "error": { "code": RELAY_ERROR, "message": failure.message() },
    });
    if let Some(status) = failure.http_status() {
        reply["error"]["data"] = json!({ "httpStatus": status });
    }
    serde_json::to_vec(&reply).unwrap_or_default()
}
