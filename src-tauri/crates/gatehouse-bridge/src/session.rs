//! Legacy-era (before 2026-07-28) session state: the `Mcp-Session-Id` and negotiated
//! version, the GET stream for server-initiated messages, and transparent
//! re-initialization when Gatehouse forgets the session (HTTP 404).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use bytes::Bytes;
use futures::StreamExt;
use http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use serde_json::Value;
use tokio_util::sync::CancellationToken;

use crate::headers::{MCP_PROTOCOL_VERSION, MCP_SESSION_ID};
use crate::http::{Failure, read_capped};
use crate::relay::Relay;
use crate::sse::{self, BodyKind, Item, RecentIds};
use crate::stdio::MAX_LINE_BYTES;

/// The first pause before reopening a GET stream that ended or failed.
const GET_BACKOFF_START: Duration = Duration::from_secs(1);
/// The longest pause between GET attempts (also caps the server's `retry` hint).
pub(crate) const GET_BACKOFF_MAX: Duration = Duration::from_secs(10);
/// Sent in place of the client's `notifications/initialized` if it was never seen.
const INITIALIZED: &str = r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#;

/// The session, shared by every task of the relay.
#[derive(Default)]
pub(crate) struct Session {
    state: Mutex<State>,
    /// Held while re-initializing, so concurrent 404s start one new session, not several.
    reinitializing: tokio::sync::Mutex<()>,
    /// Numbers the ids of replayed `initialize` requests.
    replays: AtomicU64,
}

#[derive(Default)]
struct State {
    /// The current session id, once Gatehouse has assigned one.
    id: Option<String>,
    /// The version from the `initialize` result, sent as `MCP-Protocol-Version`.
    protocol_version: Option<String>,
    /// Counts sessions, so a task can tell whether the session it used is still current.
    generation: u64,
    /// The client's `initialize` request, replayed to start a new session.
    initialize: Option<Value>,
    /// The client's `notifications/initialized`, replayed after it.
    initialized: Option<Bytes>,
    /// Stops the current GET stream.
    get_stream: Option<CancellationToken>,
    /// Set at shutdown: no more GET streams.
    closed: bool,
}

/// The session as one request saw it.
#[derive(Clone, Debug, Default)]
pub(crate) struct Snapshot {
    pub id: Option<String>,
    pub protocol_version: Option<String>,
    pub generation: u64,
}

impl Snapshot {
    /// `Mcp-Session-Id` and `MCP-Protocol-Version`, where known.
    pub(crate) fn headers(&self) -> HeaderMap {
        let mut headers = HeaderMap::new();
        let pairs = [
            (MCP_SESSION_ID, &self.id),
            (MCP_PROTOCOL_VERSION, &self.protocol_version),
        ];
        for (name, value) in pairs {
            if let Some(value) = value.as_deref().and_then(|v| HeaderValue::from_str(v).ok()) {
                headers.insert(HeaderName::from_static(name), value);
            }
        }
        headers
    }
}

impl Session {
    fn state(&self) -> MutexGuard<'_, State> {
        // The state stays consistent even if a holder panicked: every update is one assignment.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub(crate) fn snapshot(&self) -> Snapshot {
        let state = self.state();
        Snapshot {
            id: state.id.clone(),
            protocol_version: state.protocol_version.clone(),
            generation: state.generation,
        }
    }

    /// Starts using a new session (from the client's `initialize`, or a replayed one).
    /// `initialize` replaces the saved request when given. Returns the new generation.
    pub(crate) fn adopt(
        &self,
        id: Option<String>,
        protocol_version: Option<String>,
        initialize: Option<Value>,
    ) -> u64 {
        let mut state = self.state();
        if let Some(stream) = state.get_stream.take() {
            stream.cancel();
        }
        if let Some(initialize) = initialize {
            state.initialize = Some(initialize);
            state.initialized = None;
        }
        state.id = id;
        state.protocol_version = protocol_version;
        state.generation += 1;
        state.generation
    }

    /// Keeps the client's `notifications/initialized` for replays.
    pub(crate) fn remember_initialized(&self, raw: Bytes) {
        self.state().initialized = Some(raw);
    }

    /// Stops the GET stream for good.
    pub(crate) fn close(&self) {
        let mut state = self.state();
        state.closed = true;
        if let Some(stream) = state.get_stream.take() {
            stream.cancel();
        }
    }
}

/// Opens the GET stream for the session of `generation`, unless one is open, the session
/// has changed or has no id, or the relay is shutting down.
pub(crate) fn start_get_stream(relay: &Arc<Relay>, generation: u64) {
    let stop = {
        let mut state = relay.session.state();
        if state.closed
            || state.generation != generation
            || state.id.is_none()
            || state.get_stream.is_some()
        {
            return;
        }
        let stop = relay.shutdown.child_token();
        state.get_stream = Some(stop.clone());
        stop
    };
    let task_relay = relay.clone();
    relay
        .tasks
        .spawn(async move { get_stream(task_relay, generation, stop).await });
}

/// How one GET attempt ended.
enum GetOutcome {
    /// The stream ran and ended; `delivered` says whether it carried any message.
    Ended {
        delivered: bool,
        retry: Option<Duration>,
    },
    /// 405: the server offers no GET stream.
    NotOffered,
    /// 404: the session is gone.
    SessionExpired,
    Failed(Failure),
}

/// Relays server-initiated messages (notifications such as `tools/list_changed`, and
/// requests) from the GET stream, reopening it with a backoff while the session lasts.
async fn get_stream(relay: Arc<Relay>, generation: u64, stop: CancellationToken) {
    let mut backoff = GET_BACKOFF_START;
    let mut last_event_id: Option<String> = None;
    let mut seen = RecentIds::default();
    loop {
        let snapshot = relay.session.snapshot();
        if snapshot.generation != generation {
            return;
        }
        let mut headers = snapshot.headers();
        if let Some(value) = last_event_id
            .as_deref()
            .and_then(|id| HeaderValue::from_str(id).ok())
        {
            headers.insert(HeaderName::from_static("last-event-id"), value);
        }
        let outcome = tokio::select! {
            () = stop.cancelled() => return,
            outcome = get_once(&relay, headers, &mut last_event_id, &mut seen) => outcome,
        };
        let delay = match outcome {
            GetOutcome::Ended { delivered, retry } => {
                if delivered {
                    backoff = GET_BACKOFF_START;
                }
                tracing::debug!("the GET stream ended; reopening it");
                retry.unwrap_or(backoff)
            }
            GetOutcome::NotOffered => {
                tracing::info!(
                    "Gatehouse offers no stream for server-initiated messages (HTTP 405)"
                );
                return;
            }
            GetOutcome::SessionExpired => {
                let renewed = tokio::select! {
                    // A POST may renew the session first, which stops this stream.
                    () = stop.cancelled() => return,
                    renewed = reinitialize(&relay, generation) => renewed,
                };
                match renewed {
                    // The new session opens its own GET stream.
                    Ok(()) => return,
                    Err(failure) => {
                        tracing::warn!(
                            "could not start a new Gatehouse session: {}",
                            failure.message()
                        );
                        backoff
                    }
                }
            }
            GetOutcome::Failed(Failure::Unauthorized) => {
                tracing::warn!("Gatehouse refused the token for the GET stream; not reopening it");
                return;
            }
            GetOutcome::Failed(failure) => {
                tracing::debug!("the GET stream failed: {}", failure.message());
                backoff
            }
        };
        tokio::select! {
            () = stop.cancelled() => return,
            () = tokio::time::sleep(delay.min(GET_BACKOFF_MAX)) => {}
        }
        backoff = (backoff * 2).min(GET_BACKOFF_MAX);
    }
}

async fn get_once(
    relay: &Relay,
    headers: HeaderMap,
    last_event_id: &mut Option<String>,
    seen: &mut RecentIds,
) -> GetOutcome {
    let response = match relay.endpoint.get(headers).await {
        Ok(response) => response,
        Err(failure) => return GetOutcome::Failed(failure),
    };
    match response.status() {
        StatusCode::METHOD_NOT_ALLOWED => return GetOutcome::NotOffered,
        StatusCode::NOT_FOUND => return GetOutcome::SessionExpired,
        status if !status.is_success() => {
            return GetOutcome::Failed(Failure::from_status(response).await);
        }
        _ => {}
    }
    if !matches!(sse::body_kind(&response), BodyKind::EventStream) {
        return GetOutcome::Failed(Failure::Unexpected(
            "the GET stream is not an event stream".to_owned(),
        ));
    }
    let mut events = sse::events(response);
    let mut delivered = false;
    let mut retry = None;
    while let Some(item) = events.next().await {
        match item {
            Ok(Item::Message(event)) => {
                if let Some(id) = event.id {
                    // A resumed stream may repeat what was already relayed.
                    if !seen.insert(&id) {
                        continue;
                    }
                    *last_event_id = Some(id);
                }
                relay.write_server_message(event.data.as_bytes()).await;
                delivered = true;
            }
            Ok(Item::Marker { id, retry: hint }) => {
                if id.is_some() {
                    *last_event_id = id;
                }
                retry = hint.or(retry);
            }
            Err(reason) => {
                tracing::debug!("the GET stream broke off: {reason}");
                break;
            }
        }
    }
    GetOutcome::Ended { delivered, retry }
}

/// Starts a new session after Gatehouse answered 404 for the session of `generation`:
/// replays the client's `initialize` (with a fresh id; its response is swallowed) and
/// `notifications/initialized`, adopts the new session id and reopens the GET stream.
/// Does nothing if another task already replaced that session.
pub(crate) async fn reinitialize(relay: &Arc<Relay>, generation: u64) -> Result<(), Failure> {
    let _one_at_a_time = relay.session.reinitializing.lock().await;
    let (mut initialize, initialized) = {
        let state = relay.session.state();
        if state.generation != generation {
            return Ok(());
        }
        let Some(initialize) = state.initialize.clone() else {
            return Err(Failure::NoNewSession(
                "the bridge has no initialize request to start one with".to_owned(),
            ));
        };
        (initialize, state.initialized.clone())
    };
    tracing::info!("the Gatehouse session has expired; starting a new one");
    let replay = relay.session.replays.fetch_add(1, Ordering::Relaxed) + 1;
    let replay_id = Value::String(format!("gatehouse-bridge-reinitialize-{replay}"));
    if let Some(object) = initialize.as_object_mut() {
        object.insert("id".to_owned(), replay_id.clone());
    }
    let body = Bytes::from(serde_json::to_vec(&initialize).unwrap_or_default());
    let response = relay.endpoint.post(HeaderMap::new(), body).await?;
    if !response.status().is_success() {
        return Err(Failure::from_status(response).await);
    }
    let session_id = response
        .headers()
        .get(MCP_SESSION_ID)
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned);
    let result = initialize_result(relay, response, &replay_id).await?;
    let protocol_version = result
        .get("protocolVersion")
        .and_then(Value::as_str)
        .map(str::to_owned);
    let new_session = Snapshot {
        id: session_id.clone(),
        protocol_version: protocol_version.clone(),
        generation: 0,
    };
    let initialized = initialized.unwrap_or_else(|| Bytes::from_static(INITIALIZED.as_bytes()));
    let response = relay
        .endpoint
        .post(new_session.headers(), initialized)
        .await?;
    if !response.status().is_success() {
        return Err(Failure::from_status(response).await);
    }
    let generation = relay.session.adopt(session_id, protocol_version, None);
    tracing::info!("started a new Gatehouse session");
    start_get_stream(relay, generation);
    Ok(())
}

/// The `result` of the replayed `initialize`, from a JSON or event-stream body.
async fn initialize_result(
    relay: &Relay,
    response: reqwest::Response,
    replay_id: &Value,
) -> Result<Value, Failure> {
    let answer = |payload: &[u8]| -> Option<Result<Value, Failure>> {
        let message: Value = serde_json::from_slice(payload).ok()?;
        if message.get("id") != Some(replay_id) {
            return None;
        }
        Some(match (message.get("result"), message.get("error")) {
            (Some(result), _) => Ok(result.clone()),
            (None, error) => Err(Failure::NoNewSession(format!(
                "Gatehouse refused the replayed initialize: {}",
                error.map(Value::to_string).unwrap_or_default()
            ))),
        })
    };
    match sse::body_kind(&response) {
        BodyKind::Json => {
            let body = read_capped(response, MAX_LINE_BYTES).await.ok_or_else(|| {
                relay
                    .endpoint
                    .stream_failure("the initialize response broke off")
            })?;
            answer(&body).unwrap_or_else(|| {
                Err(Failure::Unexpected(
                    "the initialize response is not a JSON-RPC response".to_owned(),
                ))
            })
        }
        BodyKind::EventStream => {
            let mut events = sse::events(response);
            while let Some(item) = events.next().await {
                match item {
                    Ok(Item::Message(event)) => {
                        if let Some(outcome) = answer(event.data.as_bytes()) {
                            return outcome;
                        }
                    }
                    Ok(Item::Marker { .. }) => {}
                    Err(reason) => return Err(relay.endpoint.stream_failure(&reason)),
                }
            }
            Err(Failure::Incomplete(
                "the initialize response stream ended early".to_owned(),
            ))
        }
        BodyKind::Other(content_type) => Err(Failure::Unexpected(format!(
            "the initialize response has content type `{content_type}`"
        ))),
    }
}
