//! The gateway: every server Gatehouse supervises, on one loopback
//! Streamable HTTP MCP endpoint.
//!
//! `/mcp` serves the tools, prompts and resources of every running server,
//! named `server__name`; `/mcp/{server}` serves one server under its own
//! names. Both protocol eras share each endpoint: legacy clients
//! (2025-03-26 … 2025-11-25) get sessions, SSE and a GET stream, 2026-07-28
//! clients are served statelessly (rmcp's `StreamableHttpService` tells them
//! apart). Many client sessions share each server's one process.
//!
//! Every request must carry the bearer token, address a loopback host and,
//! from a browser, come from this endpoint's own origin. The gateway never
//! passes the token, or any client header, to a server.
//!
//! # Layout
//! - `auth`: Host, Origin and token checks; [`TokenCell`].
//! - `names`: `server__tool` names, within the spec's charset and 64 chars.
//! - `hub`: the shared tool index and the list-change notifications.
//! - `handler`: one MCP session: listing, calling, forwarding.
//! - `splice`: puts servers' raw results back in place of rmcp's typed ones.
#![deny(missing_docs)]

mod auth;
mod handler;
mod hub;
pub mod names;
mod splice;

use gatehouse_approvals::Approvals;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use axum::Router;
use axum::extract::{Path, Request, State};
use axum::response::{IntoResponse, Response};
use gatehouse_supervisor::Supervisor;
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use tokio_util::sync::CancellationToken;
use tower_service::Service;

pub use crate::auth::TokenCell;
use crate::handler::Handler;
use crate::hub::{Hub, Scope};

/// The address used when none is configured.
pub const DEFAULT_ADDR: &str = "127.0.0.1:8737";
/// The largest request body accepted (413 beyond).
pub const MAX_REQUEST_BYTES: usize = 4 * 1024 * 1024;

/// How to run the gateway.
#[derive(Debug, Clone)]
pub struct Options {
    /// Where to listen. Port 0 picks a free port.
    pub addr: SocketAddr,
    /// Permit a non-loopback `addr`.
    pub allow_remote: bool,
    /// The token every request must carry.
    pub token: TokenCell,
    /// Browser origins allowed besides the endpoint's own.
    pub allowed_origins: Vec<String>,
    /// The gate every `tools/call` passes before it is forwarded.
    pub approvals: Approvals,
}

/// Why the gateway could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A non-loopback address without `--allow-remote`.
    #[error(
        "refusing to listen on {0}: it is not a loopback address, so other machines could reach your MCP servers; use 127.0.0.1, or pass --allow-remote if you mean it"
    )]
    Remote(SocketAddr),
    /// The port is taken.
    #[error(
        "cannot listen on {0}: the port is in use by another program; choose another with `--addr 127.0.0.1:PORT` or `[gateway] addr` in gatehouse.toml"
    )]
    AddrInUse(SocketAddr),
    /// Any other failure to listen.
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        /// The address.
        addr: SocketAddr,
        /// The underlying error.
        source: std::io::Error,
    },
}

/// A running gateway. Dropping it without [`Gateway::shutdown`] leaves the
/// server task to end with the runtime.
#[derive(Debug)]
pub struct Gateway {
    addr: SocketAddr,
    token: CancellationToken,
    task: tokio::task::JoinHandle<()>,
}

impl Gateway {
    /// Binds `options.addr` and serves until [`Gateway::shutdown`].
    ///
    /// # Errors
    /// A non-loopback address without `allow_remote`, or a port that is in
    /// use or cannot be bound.
    /// Must be called inside a Tokio runtime.
    pub fn start(options: Options, supervisor: Arc<Supervisor>) -> Result<Gateway, Error> {
        if !options.addr.ip().is_loopback() && !options.allow_remote {
            return Err(Error::Remote(options.addr));
        }
        let listen_err = |source: std::io::Error| match source.kind() {
            std::io::ErrorKind::AddrInUse => Error::AddrInUse(options.addr),
            _ => Error::Listen {
                addr: options.addr,
                source,
            },
        };
        // Bound synchronously, so a busy port is an error of this call.
        let listener = std::net::TcpListener::bind(options.addr).map_err(listen_err)?;
        listener.set_nonblocking(true).map_err(listen_err)?;
        let listener = tokio::net::TcpListener::from_std(listener).map_err(listen_err)?;
        let addr = listener.local_addr().map_err(listen_err)?;
        let token = CancellationToken::new();
        let hub = Arc::new(Hub::new(supervisor, options.approvals));
        tokio::spawn(hub.clone().watch(token.clone()));
        let guard = Arc::new(auth::Guard::new(
            options.token,
            addr,
            options.allow_remote,
            options.allowed_origins,
        ));
        let routes = Routes {
            hub: hub.clone(),
            guard: guard.clone(),
            token: token.clone(),
            services: Arc::new(Mutex::new(HashMap::new())),
        };
        let all = routes.service(Scope::All);
        let router = Router::new()
            .route_service("/mcp", all)
            .route("/mcp/{server}", axum::routing::any(per_server))
            .fallback(not_found)
            .with_state(routes)
            .layer(axum::middleware::from_fn_with_state(
                hub.stash.clone(),
                splice::splice,
            ))
            .layer(axum::middleware::from_fn(session_closed))
            .layer(axum::middleware::from_fn_with_state(guard, auth::check));
        let shutdown = token.clone();
        let task = tokio::spawn(async move {
            // Small SSE events must not wait for a delayed ACK (Nagle):
            // measured 34 ms per call without this, 0.1 ms with it.
            let listener = axum::serve::ListenerExt::tap_io(listener, |tcp| {
                if let Err(err) = tcp.set_nodelay(true) {
                    tracing::debug!(%err, "cannot set TCP_NODELAY");
                }
            });
            let served = axum::serve(listener, router)
                .with_graceful_shutdown(shutdown.cancelled_owned())
                .await;
            if let Err(err) = served {
                tracing::error!(%err, "the gateway stopped");
            }
        });
        let gateway = Gateway { addr, token, task };
        tracing::info!(url = %gateway.url(), %addr, "gateway listening");
        Ok(gateway)
    }

    /// The address it listens on (with the real port when 0 was asked).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The URL clients on this machine use: an all-interfaces address is
    /// reached through loopback.
    pub fn url(&self) -> String {
        let mut addr = self.addr;
        if addr.ip().is_unspecified() {
            addr.set_ip(match addr {
                SocketAddr::V4(_) => std::net::Ipv4Addr::LOCALHOST.into(),
                SocketAddr::V6(_) => std::net::Ipv6Addr::LOCALHOST.into(),
            });
        }
        format!("http://{addr}/mcp")
    }

    /// Closes every session and stops listening; waits a few seconds at
    /// most for open streams to end.
    pub async fn shutdown(self) {
        self.token.cancel();
        if tokio::time::timeout(Duration::from_secs(5), self.task)
            .await
            .is_err()
        {
            tracing::warn!("the gateway did not stop within 5 s");
        }
    }
}

/// The MCP services, one per scope, each with its own sessions.
#[derive(Clone)]
struct Routes {
    hub: Arc<Hub>,
    guard: Arc<auth::Guard>,
    token: CancellationToken,
    services: Arc<Mutex<HashMap<String, McpService>>>,
}

type McpService = StreamableHttpService<Handler, LocalSessionManager>;

impl Routes {
    fn service(&self, scope: Scope) -> McpService {
        let hub = self.hub.clone();
        let handler_scope = scope.clone();
        let config = StreamableHttpServerConfig::default();
        let config = match &self.guard.hosts {
            Some(hosts) => config.with_allowed_hosts(hosts.clone()),
            None => config.disable_allowed_hosts(),
        };
        let config = config
            .with_allowed_origins(self.guard.origins())
            .with_max_request_body_bytes(MAX_REQUEST_BYTES)
            .with_cancellation_token(self.token.child_token());
        StreamableHttpService::new(
            move || {
                Ok(Handler {
                    hub: hub.clone(),
                    scope: handler_scope.clone(),
                })
            },
            Arc::new(LocalSessionManager::default()),
            config,
        )
    }
}

async fn per_server(
    State(routes): State<Routes>,
    Path(server): Path<String>,
    request: Request,
) -> Response {
    if !routes.hub.is_configured(&server) {
        return (
            http::StatusCode::NOT_FOUND,
            format!(
                "Not found: there is no server `{server}`; `gatehouse server list` shows them\n"
            ),
        )
            .into_response();
    }
    let mut service = routes
        .services
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .entry(server.clone())
        .or_insert_with(|| routes.service(Scope::One(server)))
        .clone();
    match service.call(request).await {
        Ok(response) => response.into_response(),
        Err(never) => match never {},
    }
}

/// rmcp answers a session's DELETE with 202; clients (the official Python
/// and TypeScript SDKs) expect the 200 the TypeScript server sends, and log
/// a failed termination otherwise.
async fn session_closed(request: Request, next: axum::middleware::Next) -> Response {
    let delete = request.method() == http::Method::DELETE;
    let mut response = next.run(request).await;
    if delete && response.status() == http::StatusCode::ACCEPTED {
        *response.status_mut() = http::StatusCode::OK;
    }
    response
}

async fn not_found() -> Response {
    (
        http::StatusCode::NOT_FOUND,
        "Not found: the MCP endpoint is /mcp (every server) or /mcp/{server}\n",
    )
        .into_response()
}
