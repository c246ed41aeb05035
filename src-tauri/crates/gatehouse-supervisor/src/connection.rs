//! [`Connection`]: a running server's MCP session, shared by everyone who
//! forwards requests to it (the gateway), and the client-side handler that
//! routes what the server sends back (progress, list changes).
//!
//! Results are returned as the server sent them, as raw JSON: rmcp's typed
//! model drops fields it does not know (a 2025-11-25 `Tool.execution`, a
//! future result field), and a gateway must not. rmcp still runs the
//! session (ids, the handshake, both protocol eras, cancellation); the
//! [`RawResults`] tap, which sits on the server's stdout ahead of rmcp, keeps
//! each response's `result` as text until the caller claims it by id.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use rmcp::model::{
    CancelledNotificationParam, ClientCapabilities, ClientConfig, ClientRequest, ErrorData,
    Implementation, ProgressNotificationParam, ProgressToken, ProtocolVersion,
    ResourceUpdatedNotificationParam, ServerNotification, ServerPeerInfo, ServerResult,
    SubscriptionFilter,
};
use rmcp::service::{NotificationContext, Peer, PeerRequestOptions, RoleClient, ServiceError};
use serde::Deserialize;
use tokio::sync::{Notify, broadcast, mpsc};
use tokio_util::sync::CancellationToken;

use crate::secrets::Scrubber;

/// Where a forwarded request's progress notifications go, with the server's
/// token already replaced by nothing: the receiver puts its own token back.
pub type ProgressSender = mpsc::UnboundedSender<ProgressNotificationParam>;

/// Something a server announced that is not in its status snapshot (tool
/// changes are: they update [`crate::ServerStatus::tools`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerEvent {
    /// The server's configured name.
    pub server: String,
    /// What it announced.
    pub kind: ServerEventKind,
}

/// The kinds of [`ServerEvent`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServerEventKind {
    /// `notifications/prompts/list_changed`.
    PromptsChanged,
    /// `notifications/resources/list_changed`.
    ResourcesChanged,
    /// `notifications/resources/updated` for this URI.
    ResourceUpdated(String),
}

/// Why a forwarded request has no result.
#[derive(Debug, thiserror::Error)]
pub enum CallError {
    /// The caller cancelled it; the server was told.
    #[error("the request was cancelled")]
    Cancelled,
    /// The server stopped or exited before it answered.
    #[error("the server `{0}` stopped before it answered")]
    Closed(String),
    /// The server answered with a JSON-RPC error.
    #[error("{}", .0.message)]
    Mcp(ErrorData),
    /// Anything else: a timeout, an answer that is not JSON.
    #[error("{0}")]
    Failed(String),
}

/// A running server's MCP session. Cheap to clone; every clone talks to the
/// same process. Once the server stops, every request fails with
/// [`CallError::Closed`] at once.
#[derive(Clone)]
pub struct Connection {
    inner: Arc<Inner>,
}

struct Inner {
    server: String,
    peer: Peer<RoleClient>,
    raw: Arc<RawResults>,
    progress: Arc<ProgressRoutes>,
    closed: CancellationToken,
    scrubber: Scrubber,
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection")
            .field("server", &self.inner.server)
            .field("closed", &self.inner.closed.is_cancelled())
            .finish_non_exhaustive()
    }
}

impl Connection {
    pub(crate) fn new(
        server: &str,
        peer: Peer<RoleClient>,
        raw: Arc<RawResults>,
        progress: Arc<ProgressRoutes>,
        closed: CancellationToken,
        scrubber: Scrubber,
    ) -> Connection {
        Connection {
            inner: Arc::new(Inner {
                server: server.to_owned(),
                peer,
                raw,
                progress,
                closed,
                scrubber,
            }),
        }
    }

    /// Masks this server's secret values (those in its environment) in
    /// anything recorded about its calls.
    pub fn scrubber(&self) -> &Scrubber {
        &self.inner.scrubber
    }

    /// What the server said about itself at the handshake: its name,
    /// version, capabilities and instructions.
    pub fn server_info(&self) -> Option<Arc<ServerPeerInfo>> {
        self.inner.peer.peer_info()
    }

    /// Sends `request` and returns the server's `result` as it sent it, as
    /// a [`serde_json::Value`] or as its JSON text ([`RawJson`]).
    /// Progress the server reports goes to `progress`; cancelling `cancel`
    /// tells the server (`notifications/cancelled`) and returns
    /// [`CallError::Cancelled`].
    ///
    /// # Errors
    /// [`CallError`]: cancelled, the server stopped, or the server's error.
    pub async fn request<T: ResultForm>(
        &self,
        request: ClientRequest,
        progress: Option<ProgressSender>,
        cancel: &CancellationToken,
    ) -> Result<T, CallError> {
        let inner = &self.inner;
        if inner.closed.is_cancelled() {
            return Err(CallError::Closed(inner.server.clone()));
        }
        let handle = inner
            .peer
            .send_request_with_option(request, PeerRequestOptions::no_options())
            .await
            .map_err(|err| self.service_error(err))?;
        let id = handle.id.clone();
        let _route =
            progress.map(|sink| inner.progress.register(handle.progress_token.clone(), sink));
        let peer = handle.peer.clone();
        let outcome = tokio::select! {
            outcome = handle.await_response() => outcome,
            () = cancel.cancelled() => {
                let _ = peer
                    .notify_cancelled(CancelledNotificationParam::new(
                        Some(id.clone()),
                        Some("the client cancelled the request".to_owned()),
                    ))
                    .await;
                inner.raw.forget(&id);
                return Err(CallError::Cancelled);
            }
            () = inner.closed.cancelled() => {
                inner.raw.forget(&id);
                return Err(CallError::Closed(inner.server.clone()));
            }
        };
        match outcome {
            Ok(typed) => match inner.raw.claim(&id).and_then(T::from_raw) {
                Some(raw) => Ok(raw),
                // Not seen by the tap (cannot happen for a stdio server):
                // the typed result is the next best thing.
                None => T::from_typed(&typed).map_err(|err| CallError::Failed(err.to_string())),
            },
            Err(err) => {
                inner.raw.forget(&id);
                Err(self.service_error(err))
            }
        }
    }

    fn service_error(&self, err: ServiceError) -> CallError {
        match err {
            ServiceError::McpError(error) => CallError::Mcp(error),
            ServiceError::TransportClosed | ServiceError::TransportSend(_) => {
                CallError::Closed(self.inner.server.clone())
            }
            ServiceError::Cancelled { .. } => CallError::Cancelled,
            other => CallError::Failed(other.to_string()),
        }
    }
}

/// The forms [`Connection::request`] returns a result in.
pub trait ResultForm: Sized {
    /// From the result's JSON text as the server sent it; `None` if it
    /// cannot be had in this form.
    fn from_raw(text: String) -> Option<Self>;
    /// From rmcp's typed result, when the raw one is missing.
    ///
    /// # Errors
    /// The typed result does not serialize.
    fn from_typed(result: &ServerResult) -> serde_json::Result<Self>;
}

impl ResultForm for serde_json::Value {
    fn from_raw(text: String) -> Option<Self> {
        serde_json::from_str(&text).ok()
    }

    fn from_typed(result: &ServerResult) -> serde_json::Result<Self> {
        serde_json::to_value(result)
    }
}

/// A result as the JSON text the server sent: for a caller that passes it
/// on without looking inside, which then costs no parse into a
/// [`serde_json::Value`] and no serialization back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawJson(pub String);

impl ResultForm for RawJson {
    fn from_raw(text: String) -> Option<Self> {
        Some(RawJson(text))
    }

    fn from_typed(result: &ServerResult) -> serde_json::Result<Self> {
        serde_json::to_string(result).map(RawJson)
    }
}

/// The raw `result` of every response a server sent, by request id, until
/// claimed. Entries nobody claims (rmcp's own handshake requests) are
/// dropped after a minute.
#[derive(Default)]
pub(crate) struct RawResults {
    entries: Mutex<HashMap<String, (Instant, String)>>,
}

const RAW_RESULT_TTL: Duration = Duration::from_secs(60);

#[derive(Deserialize)]
struct Probe<'a> {
    id: Option<serde_json::Value>,
    #[serde(borrow)]
    method: Option<&'a str>,
    #[serde(borrow)]
    params: Option<&'a serde_json::value::RawValue>,
    #[serde(borrow)]
    result: Option<&'a serde_json::value::RawValue>,
}

/// Called for every message line from the server, in order, before rmcp
/// sees it: keeps responses' raw results, and routes progress here rather
/// than in rmcp's notification handler, which runs concurrently and could
/// deliver a call's last progress after its result.
pub(crate) fn observe(line: &[u8], raw: &RawResults, progress: &ProgressRoutes) {
    let Ok(probe) = serde_json::from_slice::<Probe<'_>>(line) else {
        return;
    };
    match (probe.id, probe.method, probe.result) {
        (Some(id), None, Some(result)) => raw.keep(&id, result),
        (None, Some("notifications/progress"), None) => {
            if let Some(params) = probe
                .params
                .and_then(|p| serde_json::from_str::<ProgressNotificationParam>(p.get()).ok())
            {
                progress.route(params);
            }
        }
        _ => {}
    }
}

impl RawResults {
    fn keep(&self, id: &serde_json::Value, result: &serde_json::value::RawValue) {
        let now = Instant::now();
        let mut entries = self.lock();
        if entries.len() >= 32 {
            entries.retain(|_, (at, _)| now.duration_since(*at) < RAW_RESULT_TTL);
        }
        entries.insert(id.to_string(), (now, result.get().to_owned()));
    }

    fn claim(&self, id: &rmcp::model::RequestId) -> Option<String> {
        self.lock().remove(&key(id)).map(|(_, text)| text)
    }

    fn forget(&self, id: &rmcp::model::RequestId) {
        self.lock().remove(&key(id));
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, (Instant, String)>> {
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

fn key(id: &rmcp::model::RequestId) -> String {
    serde_json::to_string(id).unwrap_or_default()
}

/// Which caller each in-flight progress token belongs to.
#[derive(Default)]
pub(crate) struct ProgressRoutes {
    state: Mutex<ProgressState>,
}

#[derive(Default)]
struct ProgressState {
    routes: HashMap<ProgressToken, ProgressSender>,
    /// Progress that arrived before its route was registered (the server
    /// can answer between rmcp sending a request and the caller
    /// registering); handed over on registration.
    early: VecDeque<(Instant, ProgressNotificationParam)>,
}

const EARLY_PROGRESS_KEPT: usize = 64;

/// Removes its route when the request ends.
struct Route {
    routes: Arc<ProgressRoutes>,
    token: ProgressToken,
}

impl Drop for Route {
    fn drop(&mut self) {
        self.routes.lock().routes.remove(&self.token);
    }
}

impl ProgressRoutes {
    fn register(self: &Arc<Self>, token: ProgressToken, sink: ProgressSender) -> Route {
        let mut state = self.lock();
        let (mine, others): (VecDeque<_>, VecDeque<_>) = std::mem::take(&mut state.early)
            .into_iter()
            .partition(|(_, params)| params.progress_token == token);
        state.early = others;
        for (_, params) in mine {
            let _ = sink.send(params);
        }
        state.routes.insert(token.clone(), sink);
        Route {
            routes: self.clone(),
            token,
        }
    }

    fn route(&self, params: ProgressNotificationParam) {
        let mut state = self.lock();
        if let Some(sink) = state.routes.get(&params.progress_token) {
            let _ = sink.send(params);
            return;
        }
        let now = Instant::now();
        state
            .early
            .retain(|(at, _)| now.duration_since(*at) < Duration::from_secs(10));
        if state.early.len() == EARLY_PROGRESS_KEPT {
            state.early.pop_front();
        }
        state.early.push_back((now, params));
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, ProgressState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Gatehouse's side of the session with a server: says who we are, and
/// passes on what the server announces (progress goes through [`observe`]).
pub(crate) struct ChildHandler {
    pub(crate) server: String,
    pub(crate) events: broadcast::Sender<ServerEvent>,
    /// Wakes the server task to list the tools again.
    pub(crate) tools_changed: Arc<Notify>,
}

impl ChildHandler {
    fn announce(&self, kind: ServerEventKind) {
        announce(&self.events, &self.server, kind);
    }
}

fn announce(events: &broadcast::Sender<ServerEvent>, server: &str, kind: ServerEventKind) {
    // No receivers (no gateway) is fine.
    let _ = events.send(ServerEvent {
        server: server.to_owned(),
        kind,
    });
}

/// On a 2026-07-28 session a server sends list changes only on a
/// `subscriptions/listen` stream (the legacy notifications reach
/// [`ChildHandler`]): opens one for the lists the server says can change and
/// passes what arrives on, until the stream or the connection ends. Without
/// it a tool that changes its definition would keep being judged, and
/// pinned, by the old one.
pub(crate) async fn listen_for_changes(
    connection: Connection,
    events: broadcast::Sender<ServerEvent>,
    tools_changed: Arc<Notify>,
) {
    let Some(info) = connection.server_info() else {
        return;
    };
    if info.protocol_version.as_str() < ProtocolVersion::V_2026_07_28.as_str() {
        return;
    }
    let capabilities = &info.capabilities;
    let changes = |listed: Option<bool>| listed == Some(true);
    let mut filter = SubscriptionFilter::builder();
    let mut wanted = false;
    if changes(capabilities.tools.as_ref().and_then(|t| t.list_changed)) {
        filter = filter.tools_list_changed();
        wanted = true;
    }
    if changes(capabilities.prompts.as_ref().and_then(|p| p.list_changed)) {
        filter = filter.prompts_list_changed();
        wanted = true;
    }
    if changes(capabilities.resources.as_ref().and_then(|r| r.list_changed)) {
        filter = filter.resources_list_changed();
        wanted = true;
    }
    if !wanted {
        return;
    }
    let server = connection.inner.server.clone();
    let closed = connection.inner.closed.clone();
    let listen = async {
        let mut subscription = match connection.inner.peer.listen(filter.build()).await {
            Ok(subscription) => subscription,
            Err(err) => {
                tracing::warn!(%err, "the server refused a subscriptions/listen stream: its list changes will not be seen");
                return;
            }
        };
        loop {
            match subscription.next().await {
                Ok(Some(ServerNotification::ToolListChangedNotification(_))) => {
                    tools_changed.notify_one();
                }
                Ok(Some(ServerNotification::PromptListChangedNotification(_))) => {
                    announce(&events, &server, ServerEventKind::PromptsChanged);
                }
                Ok(Some(ServerNotification::ResourceListChangedNotification(_))) => {
                    announce(&events, &server, ServerEventKind::ResourcesChanged);
                }
                Ok(Some(_)) => {}
                Ok(None) => return,
                Err(err) => {
                    tracing::warn!(%err, "the server's subscriptions/listen stream failed");
                    return;
                }
            }
        }
    };
    tokio::select! {
        () = closed.cancelled() => {}
        () = listen => {}
    }
}

impl rmcp::ClientHandler for ChildHandler {
    fn get_info(&self) -> ClientConfig {
        // No sampling, roots or elicitation: Gatehouse cannot route a
        // server's own requests to the right client, so it does not offer
        // them (and servers such as server-everything then hide the tools
        // that need them).
        ClientConfig::new(
            ClientCapabilities::default(),
            Implementation::new("gatehouse", env!("CARGO_PKG_VERSION")),
        )
    }

    async fn on_tool_list_changed(&self, _context: NotificationContext<RoleClient>) {
        self.tools_changed.notify_one();
    }

    async fn on_prompt_list_changed(&self, _context: NotificationContext<RoleClient>) {
        self.announce(ServerEventKind::PromptsChanged);
    }

    async fn on_resource_list_changed(&self, _context: NotificationContext<RoleClient>) {
        self.announce(ServerEventKind::ResourcesChanged);
    }

    async fn on_resource_updated(
        &self,
        params: ResourceUpdatedNotificationParam,
        _context: NotificationContext<RoleClient>,
    ) {
        self.announce(ServerEventKind::ResourceUpdated(params.uri));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tap_keeps_a_result_verbatim_until_claimed_by_its_id() {
        let raw = RawResults::default();
        let progress = ProgressRoutes::default();
        for line in [
            &br#"{"jsonrpc":"2.0","id":7,"result":{"tools":[{"name":"t","execution":{"taskSupport":"required"}}]}}"#[..],
            br#"{"jsonrpc":"2.0","method":"notifications/progress","params":{"progressToken":1,"progress":1}}"#,
            b"not json",
        ] {
            observe(line, &raw, &progress);
        }
        assert_eq!(
            progress.lock().early.len(),
            1,
            "progress is routed from the tap"
        );
        let id = rmcp::model::RequestId::Number(7);
        let result: serde_json::Value =
            serde_json::from_str(&raw.claim(&id).expect("claimed")).unwrap();
        assert_eq!(result["tools"][0]["execution"]["taskSupport"], "required");
        assert!(raw.claim(&id).is_none(), "a result is claimed once");
    }

    #[test]
    fn progress_that_arrives_before_its_route_is_delivered_on_registration() {
        let routes = Arc::new(ProgressRoutes::default());
        let token = ProgressToken(rmcp::model::NumberOrString::Number(3));
        routes.route(ProgressNotificationParam::new(token.clone(), 1.0));
        let (sink, mut received) = mpsc::unbounded_channel();
        let route = routes.register(token.clone(), sink);
        routes.route(ProgressNotificationParam::new(token.clone(), 2.0));
        assert_eq!(received.try_recv().map(|p| p.progress).ok(), Some(1.0));
        assert_eq!(received.try_recv().map(|p| p.progress).ok(), Some(2.0));
        drop(route);
        assert!(routes.lock().routes.is_empty());
    }
}
