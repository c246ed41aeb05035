//! [`Hub`]: what every MCP session of the gateway shares: the servers'
//! tools as one index, the routes of prompts and resources back to their
//! servers, and the clients to tell when a list changes.
//!
//! One task ([`Hub::watch`]) follows the supervisor's snapshots and its
//! events, rebuilds the index, and sends `list_changed` to the sessions
//! whose view changed: `/mcp` when any server's tools did, `/mcp/{server}`
//! when that server's did.

use gatehouse_approvals::Approvals;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError, RwLock};

use gatehouse_supervisor::{ServerEventKind, ServerState, ServerStatus, Supervisor, ToolInfo};
use rmcp::service::{Peer, RoleServer, SubscriptionSink};
use tokio_util::sync::CancellationToken;

use crate::names::Catalog;
use crate::splice::Stash;

/// Which servers a session sees.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum Scope {
    /// `/mcp`: every running server, names prefixed.
    All,
    /// `/mcp/{server}`: one server, original names.
    One(String),
}

impl Scope {
    fn sees(&self, server: &str) -> bool {
        match self {
            Scope::All => true,
            Scope::One(name) => name == server,
        }
    }
}

/// The running servers' tools, as of the latest snapshot.
#[derive(Debug, Default)]
pub(crate) struct Index {
    /// Running servers in config order, with their tools. Each tool is
    /// shared with the calls made to it (see [`gatehouse_approvals::Call`]).
    pub(crate) servers: Vec<(String, Vec<Arc<ToolInfo>>)>,
    /// `/mcp` names of every tool.
    pub(crate) tools: Catalog,
}

impl Index {
    fn build(snapshot: &[ServerStatus]) -> Index {
        let servers: Vec<(String, Vec<Arc<ToolInfo>>)> = snapshot
            .iter()
            .filter(|status| status.state == ServerState::Running)
            .map(|status| {
                let tools = status.tools.iter().cloned().map(Arc::new).collect();
                (status.name.clone(), tools)
            })
            .collect();
        let tools = Catalog::build(servers.iter().flat_map(|(server, tools)| {
            tools
                .iter()
                .map(move |tool| (server.as_str(), tool.name.as_str()))
        }));
        Index { servers, tools }
    }

    /// Whether this index was built from `snapshot`'s running servers and
    /// their tools.
    fn describes(&self, snapshot: &[ServerStatus]) -> bool {
        let mut running = snapshot
            .iter()
            .filter(|status| status.state == ServerState::Running);
        self.servers.iter().all(|(server, tools)| {
            running.next().is_some_and(|status| {
                status.name == *server && status.tools.iter().eq(tools.iter().map(AsRef::as_ref))
            })
        }) && running.next().is_none()
    }

    /// `server`'s `tool`, if the server runs and offers it.
    pub(crate) fn tool(&self, server: &str, tool: &str) -> Option<&Arc<ToolInfo>> {
        self.server_tools(server)?.iter().find(|t| t.name == tool)
    }

    /// The tools of `server`, if it runs.
    pub(crate) fn server_tools(&self, server: &str) -> Option<&[Arc<ToolInfo>]> {
        self.servers
            .iter()
            .find(|(name, _)| name == server)
            .map(|(_, tools)| tools.as_slice())
    }
}

/// A client to tell about list changes.
enum Listener {
    /// A legacy session: notifications go on its GET stream.
    Session(Peer<RoleServer>),
    /// A 2026-07-28 `subscriptions/listen` stream.
    Subscription(SubscriptionSink),
}

/// Which lists changed, for one notification round.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Changed {
    pub(crate) tools: bool,
    pub(crate) prompts: bool,
    pub(crate) resources: bool,
}

/// Shared by every session of one gateway.
pub(crate) struct Hub {
    pub(crate) supervisor: Arc<Supervisor>,
    pub(crate) approvals: Approvals,
    pub(crate) stash: Arc<Stash>,
    index: RwLock<Arc<Index>>,
    listeners: Mutex<HashMap<u64, (Scope, Listener)>>,
    next_listener: std::sync::atomic::AtomicU64,
    /// `/mcp` prompt names, from the latest prompt listings.
    pub(crate) prompts: Mutex<Catalog>,
    /// Which server listed each resource URI.
    pub(crate) resources: Mutex<HashMap<String, String>>,
}

impl Hub {
    pub(crate) fn new(supervisor: Arc<Supervisor>, approvals: Approvals) -> Hub {
        let index = Index::build(&supervisor.snapshot());
        for (server, tools) in &index.servers {
            approvals.observe(server, tools);
        }
        Hub {
            supervisor,
            approvals,
            stash: Arc::new(Stash::default()),
            index: RwLock::new(Arc::new(index)),
            listeners: Mutex::new(HashMap::new()),
            next_listener: std::sync::atomic::AtomicU64::new(0),
            prompts: Mutex::new(Catalog::default()),
            resources: Mutex::new(HashMap::new()),
        }
    }

    /// The current tool index.
    pub(crate) fn index(&self) -> Arc<Index> {
        self.index
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Whether a server of that name is configured (running or not).
    pub(crate) fn is_configured(&self, server: &str) -> bool {
        self.supervisor.state_of(server).is_some()
    }

    /// The state of `server`, and why, for error messages.
    pub(crate) fn describe(&self, server: &str) -> String {
        match self.supervisor.state_of(server) {
            None => format!("there is no server `{server}`"),
            Some((state, Some(detail))) => format!("`{server}` is {}: {detail}", state.as_str()),
            Some((state, None)) => format!("`{server}` is {}", state.as_str()),
        }
    }

    /// Waits, up to `max`, until no server `scope` sees is still starting,
    /// then serves from the latest snapshot: a client that connects just
    /// after Gatehouse started (a bridge that started it) sees every tool.
    ///
    /// The index is brought up to date here even when nothing is starting:
    /// the watch task may not have run since a server turned running (a busy
    /// machine), and a server the supervisor reports as running must have
    /// its tools listed and callable.
    pub(crate) async fn settled(&self, scope: &Scope, max: std::time::Duration) {
        let starting = |all: &Vec<ServerStatus>| {
            all.iter()
                .any(|s| s.state == ServerState::Starting && scope.sees(&s.name))
        };
        let mut statuses = self.supervisor.subscribe();
        if starting(&statuses.borrow()) {
            drop(tokio::time::timeout(max, statuses.wait_for(|all| !starting(all))).await);
        }
        let snapshot = statuses.borrow().clone();
        if !self.index().describes(&snapshot) {
            let index = Index::build(&snapshot);
            for (server, tools) in &index.servers {
                self.approvals.observe(server, tools);
            }
            *self.index.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(index);
        }
    }

    /// Registers a legacy session for list-change notifications.
    pub(crate) fn add_session(&self, scope: Scope, peer: Peer<RoleServer>) {
        self.add(scope, Listener::Session(peer));
    }

    /// Registers a `subscriptions/listen` stream until the returned guard
    /// drops.
    pub(crate) fn add_subscription(
        self: &Arc<Self>,
        scope: Scope,
        sink: SubscriptionSink,
    ) -> impl Drop {
        let id = self.add(scope, Listener::Subscription(sink));
        ListenerGuard {
            hub: self.clone(),
            id,
        }
    }

    fn add(&self, scope: Scope, listener: Listener) -> u64 {
        let id = self
            .next_listener
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.lock_listeners().insert(id, (scope, listener));
        id
    }

    fn lock_listeners(&self) -> std::sync::MutexGuard<'_, HashMap<u64, (Scope, Listener)>> {
        self.listeners
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Follows the supervisor until `token` is cancelled.
    pub(crate) async fn watch(self: Arc<Self>, token: CancellationToken) {
        let mut statuses = self.supervisor.subscribe();
        // A server may have changed state between `Hub::new` and this
        // subscription, which counts the current snapshot as seen: look at
        // it once now, or that change would stay unseen until the next one.
        statuses.mark_changed();
        let mut events = self.supervisor.events();
        // What listeners were last told about; the shared index may be
        // ahead of it (see `Hub::settled`).
        let mut notified = self.index();
        loop {
            tokio::select! {
                () = token.cancelled() => return,
                changed = statuses.changed() => {
                    if changed.is_err() {
                        return;
                    }
                    let snapshot = statuses.borrow_and_update().clone();
                    notified = self.apply_snapshot(&notified, &snapshot).await;
                }
                event = events.recv() => match event {
                    Ok(event) => {
                        let changed = match event.kind {
                            ServerEventKind::PromptsChanged => Changed { prompts: true, ..Changed::default() },
                            ServerEventKind::ResourcesChanged => Changed { resources: true, ..Changed::default() },
                            ServerEventKind::ResourceUpdated(_) => continue,
                        };
                        self.notify(|scope| scope.sees(&event.server), changed).await;
                    }
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
                },
            }
        }
    }

    /// Publishes the index of `snapshot`, tells listeners what changed
    /// since `previous`, and returns the new index.
    async fn apply_snapshot(&self, previous: &Index, snapshot: &[ServerStatus]) -> Arc<Index> {
        let current = Arc::new(Index::build(snapshot));
        // Pin tools the moment they are first seen, not at their first call.
        for (server, tools) in &current.servers {
            self.approvals.observe(server, tools);
        }
        *self.index.write().unwrap_or_else(PoisonError::into_inner) = current.clone();
        // A server whose tools differ, or that started or stopped.
        let mut changed: Vec<(&str, bool)> = Vec::new();
        for (server, tools) in &current.servers {
            match previous.server_tools(server) {
                Some(before) if before == tools.as_slice() => {}
                Some(_) => changed.push((server, false)),
                None => changed.push((server, true)),
            }
        }
        for (server, _) in &previous.servers {
            if current.server_tools(server).is_none() {
                changed.push((server, true));
            }
        }
        if changed.is_empty() {
            return current;
        }
        tracing::debug!(servers = ?changed, "tool lists changed");
        // A server that started or stopped also brings or takes its
        // prompts and resources.
        let lifecycle = changed
            .iter()
            .any(|(_, started_or_stopped)| *started_or_stopped);
        self.notify(
            |scope| changed.iter().any(|(server, _)| scope.sees(server)),
            Changed {
                tools: true,
                prompts: lifecycle,
                resources: lifecycle,
            },
        )
        .await;
        current
    }

    /// Sends the `changed` notifications to every listener `wants`, and
    /// forgets listeners that are gone.
    pub(crate) async fn notify(&self, wants: impl Fn(&Scope) -> bool, changed: Changed) {
        let targets: Vec<(u64, Listener)> = self
            .lock_listeners()
            .iter()
            .filter(|(_, (scope, _))| wants(scope))
            .map(|(id, (_, listener))| {
                let listener = match listener {
                    Listener::Session(peer) => Listener::Session(peer.clone()),
                    Listener::Subscription(sink) => Listener::Subscription(sink.clone()),
                };
                (*id, listener)
            })
            .collect();
        let mut gone = Vec::new();
        for (id, listener) in targets {
            let alive = match listener {
                Listener::Session(peer) => send_to_session(&peer, changed).await,
                Listener::Subscription(sink) => send_to_subscription(&sink, changed).await,
            };
            if !alive {
                gone.push(id);
            }
        }
        if !gone.is_empty() {
            let mut listeners = self.lock_listeners();
            for id in gone {
                listeners.remove(&id);
            }
        }
    }
}

async fn send_to_session(peer: &Peer<RoleServer>, changed: Changed) -> bool {
    if peer.is_transport_closed() {
        return false;
    }
    let mut ok = true;
    if changed.tools {
        ok &= peer.notify_tool_list_changed().await.is_ok();
    }
    if changed.prompts {
        ok &= peer.notify_prompt_list_changed().await.is_ok();
    }
    if changed.resources {
        ok &= peer.notify_resource_list_changed().await.is_ok();
    }
    ok || !peer.is_transport_closed()
}

async fn send_to_subscription(sink: &SubscriptionSink, changed: Changed) -> bool {
    use rmcp::service::SubscriptionSendError::SubscriptionClosed;
    let accepted = sink.accepted().clone();
    let mut closed = false;
    if changed.tools && accepted.tools_list_changed == Some(true) {
        closed |= matches!(
            sink.notify_tool_list_changed().await,
            Err(SubscriptionClosed)
        );
    }
    if changed.prompts && accepted.prompts_list_changed == Some(true) {
        closed |= matches!(
            sink.notify_prompt_list_changed().await,
            Err(SubscriptionClosed)
        );
    }
    if changed.resources && accepted.resources_list_changed == Some(true) {
        closed |= matches!(
            sink.notify_resource_list_changed().await,
            Err(SubscriptionClosed)
        );
    }
    !closed
}

struct ListenerGuard {
    hub: Arc<Hub>,
    id: u64,
}

impl Drop for ListenerGuard {
    fn drop(&mut self) {
        self.hub.lock_listeners().remove(&self.id);
    }
}
