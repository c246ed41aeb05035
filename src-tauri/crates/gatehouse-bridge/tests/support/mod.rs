//! Fixtures: a real rmcp Streamable HTTP server behind bearer auth, and a bridge driven
//! through in-memory pipes as its stdin and stdout.

use std::collections::{BTreeMap, VecDeque};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Request, State};
use axum::middleware::{Next, from_fn_with_state};
use axum::response::{IntoResponse, Response};
use axum::serve::ListenerExt;
use gatehouse_bridge::{Bridge, BridgeError, TokenSource};
use http::{HeaderMap, Method, StatusCode};
use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::{
    ClientResult, ElicitRequest, ElicitRequestParams, ElicitationSchema, Implementation,
    ProgressNotificationParam, RequestMetaObject, ServerCapabilities, ServerConfig, ServerRequest,
};
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use rmcp::{Peer, RoleServer, ServerHandler, schemars, tool, tool_handler, tool_router};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, DuplexStream, Lines};
use tokio::sync::Notify;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// How long any single wait in a test may take before it fails.
pub const WAIT: Duration = Duration::from_secs(5);

// ---------------------------------------------------------------------------------------
// The MCP server

#[derive(serde::Deserialize, schemars::JsonSchema)]
struct EchoArgs {
    text: String,
}

#[derive(serde::Deserialize, schemars::JsonSchema)]
struct SlowArgs {
    /// How long the call takes in total.
    millis: u64,
    /// How many progress notifications it sends on the way.
    steps: u32,
}

#[derive(serde::Deserialize, schemars::JsonSchema)]
struct DeployArgs {
    /// Promoted to the `Mcp-Param-Region` header in the 2026-07-28 era.
    #[schemars(extend("x-mcp-header" = "Region"))]
    region: String,
}

/// What the server's tools observed, for assertions.
#[derive(Default)]
pub struct Probe {
    /// Calls of `slow` that ended because they were cancelled.
    pub cancelled_calls: AtomicUsize,
    pub changed: Notify,
}

impl Probe {
    /// Waits until `count` calls of `slow` have seen their cancellation.
    pub async fn wait_for_cancelled(&self, count: usize) {
        let wait = async {
            loop {
                let changed = self.changed.notified();
                tokio::pin!(changed);
                changed.as_mut().enable();
                if self.cancelled_calls.load(Ordering::SeqCst) >= count {
                    return;
                }
                changed.await;
            }
        };
        tokio::time::timeout(WAIT, wait)
            .await
            .expect("timed out waiting for the server to see the cancellation");
    }
}

#[derive(Clone)]
struct TestServer {
    tool_router: ToolRouter<Self>,
    probe: Arc<Probe>,
}

#[tool_router]
impl TestServer {
    #[tool(description = "Echo the text back")]
    fn echo(&self, Parameters(EchoArgs { text }): Parameters<EchoArgs>) -> String {
        text
    }

    #[tool(description = "Take a while, reporting progress; stops early when cancelled")]
    async fn slow(
        &self,
        Parameters(SlowArgs { millis, steps }): Parameters<SlowArgs>,
        meta: RequestMetaObject,
        peer: Peer<RoleServer>,
        cancelled: CancellationToken,
    ) -> String {
        let steps = steps.max(1);
        let progress_token = meta.get_progress_token();
        for step in 0..steps {
            if let Some(token) = &progress_token {
                let progress = ProgressNotificationParam::new(token.clone(), f64::from(step))
                    .with_total(f64::from(steps));
                let _ = peer.notify_progress(progress).await;
            }
            let pause = Duration::from_millis(millis / u64::from(steps));
            tokio::select! {
                () = cancelled.cancelled() => {
                    self.probe.cancelled_calls.fetch_add(1, Ordering::SeqCst);
                    self.probe.changed.notify_waiters();
                    return "cancelled".to_owned();
                }
                () = tokio::time::sleep(pause) => {}
            }
        }
        "done".to_owned()
    }

    #[tool(description = "Announce that the tool list changed")]
    async fn touch(&self, peer: Peer<RoleServer>) -> String {
        let _ = peer.notify_tool_list_changed().await;
        "touched".to_owned()
    }

    #[tool(description = "Ask the user to confirm, through the client")]
    async fn confirm(&self, peer: Peer<RoleServer>) -> String {
        let question = ElicitRequestParams::FormElicitationParams {
            meta: None,
            message: "Go ahead?".to_owned(),
            requested_schema: ElicitationSchema::new(BTreeMap::new()),
        };
        // `Peer::create_elicitation` needs rmcp's `elicitation` feature; this is the same request.
        let request = ServerRequest::ElicitRequest(ElicitRequest::new(question));
        match peer.send_request(request).await {
            Ok(ClientResult::ElicitResult(answer)) => serde_json::to_value(&answer.action)
                .map(|action| format!("the user chose {action}"))
                .unwrap_or_default(),
            Ok(other) => format!("unexpected answer: {other:?}"),
            Err(error) => format!("no answer: {error}"),
        }
    }

    #[tool(description = "Deploy to a region")]
    fn deploy(&self, Parameters(DeployArgs { region }): Parameters<DeployArgs>) -> String {
        format!("deployed to {region}")
    }
}

#[tool_handler(router = self.tool_router)]
impl ServerHandler for TestServer {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(
            ServerCapabilities::builder()
                .enable_tools()
                .enable_tool_list_changed()
                .build(),
        )
        .with_server_info(Implementation::new("test-server", "1.0.0"))
    }
}

/// One HTTP request the server received (before auth).
#[derive(Clone, Debug)]
pub struct Seen {
    pub method: Method,
    pub headers: HeaderMap,
}

impl Seen {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|value| value.to_str().ok())
    }
}

/// Every request the server received, in order, with a way to wait for one.
#[derive(Default)]
pub struct RequestLog {
    seen: Mutex<Vec<Seen>>,
    changed: Notify,
}

impl RequestLog {
    fn record(&self, seen: Seen) {
        self.seen.lock().unwrap().push(seen);
        self.changed.notify_waiters();
    }

    pub fn all(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    /// Waits until `done` holds for the requests so far.
    pub async fn wait_until(&self, what: &str, done: impl Fn(&[Seen]) -> bool) {
        let wait = async {
            loop {
                let changed = self.changed.notified();
                tokio::pin!(changed);
                changed.as_mut().enable();
                if done(&self.seen.lock().unwrap()) {
                    return;
                }
                changed.await;
            }
        };
        tokio::time::timeout(WAIT, wait)
            .await
            .unwrap_or_else(|_| panic!("timed out waiting for {what}; seen {:?}", self.all()));
    }
}

#[derive(Clone)]
struct Gate {
    token: Arc<str>,
    log: Arc<RequestLog>,
}

async fn check_token(State(gate): State<Gate>, request: Request, next: Next) -> Response {
    gate.log.record(Seen {
        method: request.method().clone(),
        headers: request.headers().clone(),
    });
    let expected = format!("Bearer {}", gate.token);
    let given = request.headers().get(http::header::AUTHORIZATION);
    if given.and_then(|value| value.to_str().ok()) != Some(expected.as_str()) {
        return (StatusCode::UNAUTHORIZED, "missing or wrong bearer token").into_response();
    }
    next.run(request).await
}

/// The MCP server under test, on 127.0.0.1 at a free port.
pub struct Server {
    pub url: String,
    pub log: Arc<RequestLog>,
    pub probe: Arc<Probe>,
    pub sessions: Arc<LocalSessionManager>,
    stop: CancellationToken,
}

impl Server {
    /// Starts a server that accepts only `token`.
    pub async fn start(token: &str) -> Server {
        let probe = Arc::new(Probe::default());
        let sessions = Arc::new(LocalSessionManager::default());
        let stop = CancellationToken::new();
        let server = TestServer {
            tool_router: TestServer::tool_router(),
            probe: probe.clone(),
        };
        let service = StreamableHttpService::new(
            move || Ok(server.clone()),
            sessions.clone(),
            StreamableHttpServerConfig::default().with_cancellation_token(stop.child_token()),
        );
        let log = Arc::new(RequestLog::default());
        let gate = Gate {
            token: Arc::from(token),
            log: log.clone(),
        };
        let router = axum::Router::new()
            .nest_service("/mcp", service)
            .layer(from_fn_with_state(gate, check_token));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/mcp", listener.local_addr().unwrap());
        let serve_stop = stop.clone();
        tokio::spawn(async move {
            // As Gatehouse's endpoint should: without TCP_NODELAY, an SSE response's small
            // writes wait for delayed ACKs (about 40 ms per message on Linux).
            let listener = listener.tap_io(|tcp| {
                let _ = tcp.set_nodelay(true);
            });
            axum::serve(listener, router)
                .with_graceful_shutdown(serve_stop.cancelled_owned())
                .await
                .unwrap();
        });
        Server {
            url,
            log,
            probe,
            sessions,
            stop,
        }
    }

    /// Forgets every session, as a restarted Gatehouse would.
    pub async fn forget_sessions(&self) {
        self.sessions.sessions.write().await.clear();
    }

    /// POSTs and GETs the server received, by HTTP method.
    pub fn count(&self, method: Method) -> usize {
        self.log
            .all()
            .iter()
            .filter(|seen| seen.method == method)
            .count()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

// ---------------------------------------------------------------------------------------
// Token sources

/// Always the same token.
pub struct FixedToken(pub &'static str);

impl TokenSource for FixedToken {
    fn token(&self) -> Result<String, String> {
        Ok(self.0.to_owned())
    }
}

/// Hands out the given tokens in turn (repeating the last), counting the calls.
pub struct RotatingToken {
    tokens: Mutex<VecDeque<&'static str>>,
    pub calls: AtomicUsize,
}

impl RotatingToken {
    pub fn new(tokens: &[&'static str]) -> Arc<RotatingToken> {
        Arc::new(RotatingToken {
            tokens: Mutex::new(tokens.iter().copied().collect()),
            calls: AtomicUsize::new(0),
        })
    }
}

impl TokenSource for RotatingToken {
    fn token(&self) -> Result<String, String> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        let mut tokens = self.tokens.lock().unwrap();
        let token = if tokens.len() > 1 {
            tokens.pop_front()
        } else {
            tokens.front().copied()
        };
        token
            .map(str::to_owned)
            .ok_or_else(|| "no token".to_owned())
    }
}

// ---------------------------------------------------------------------------------------
// The bridge, seen from the MCP client's side

/// A running bridge and the client's ends of its stdin and stdout.
pub struct Client {
    stdin: Option<DuplexStream>,
    stdout: Lines<BufReader<DuplexStream>>,
    bridge: JoinHandle<Result<(), BridgeError>>,
    /// Every message read from stdout so far.
    pub received: Vec<Value>,
}

pub const LEGACY_VERSION: &str = "2025-11-25";
pub const MODERN_VERSION: &str = "2026-07-28";

impl Client {
    pub fn start(url: &str, token: Arc<dyn TokenSource>) -> Client {
        let (stdin, bridge_stdin) = tokio::io::duplex(1 << 20);
        let (bridge_stdout, stdout) = tokio::io::duplex(1 << 20);
        let bridge = tokio::spawn(Bridge::new(url, token).run(bridge_stdin, bridge_stdout));
        Client {
            stdin: Some(stdin),
            stdout: BufReader::new(stdout).lines(),
            bridge,
            received: Vec::new(),
        }
    }

    pub async fn send(&mut self, message: Value) {
        self.send_line(&message.to_string()).await;
    }

    pub async fn send_line(&mut self, line: &str) {
        let stdin = self.stdin.as_mut().expect("stdin is open");
        stdin.write_all(line.as_bytes()).await.unwrap();
        stdin.write_all(b"\n").await.unwrap();
    }

    /// The next message on stdout; fails the test if it is not one JSON-RPC message.
    pub async fn next(&mut self) -> Value {
        let line = tokio::time::timeout(WAIT, self.stdout.next_line())
            .await
            .expect("timed out waiting for a line on stdout")
            .unwrap()
            .expect("stdout ended");
        let message = check_line(&line);
        self.received.push(message.clone());
        message
    }

    /// Reads until the response with `id`, keeping the other messages in `received`.
    pub async fn response(&mut self, id: Value) -> Value {
        loop {
            let message = self.next().await;
            if message.get("method").is_none() && message["id"] == id {
                return message;
            }
        }
    }

    /// The legacy handshake: `initialize`, its response, `notifications/initialized`.
    pub async fn initialize(&mut self) -> Value {
        self.send(json!({
            "jsonrpc": "2.0", "id": "init", "method": "initialize",
            "params": {
                "protocolVersion": LEGACY_VERSION,
                "capabilities": { "elicitation": {} },
                "clientInfo": { "name": "bridge-test", "version": "1.0.0" }
            }
        }))
        .await;
        let response = self.response(json!("init")).await;
        assert_eq!(
            response["result"]["protocolVersion"], LEGACY_VERSION,
            "{response}"
        );
        self.send(json!({ "jsonrpc": "2.0", "method": "notifications/initialized" }))
            .await;
        response
    }

    /// Calls a tool in the legacy era.
    pub async fn call(&mut self, id: u64, tool: &str, arguments: Value) -> Value {
        self.send(json!({
            "jsonrpc": "2.0", "id": id, "method": "tools/call",
            "params": { "name": tool, "arguments": arguments }
        }))
        .await;
        self.response(json!(id)).await
    }

    /// Closes stdin, reads stdout to its end and returns what the bridge returned.
    pub async fn finish(&mut self) -> Result<(), BridgeError> {
        drop(self.stdin.take());
        let rest = async {
            while let Some(line) = self.stdout.next_line().await.unwrap() {
                self.received.push(check_line(&line));
            }
        };
        tokio::time::timeout(Duration::from_secs(10), rest)
            .await
            .expect("stdout did not end after stdin closed");
        tokio::time::timeout(WAIT, &mut self.bridge)
            .await
            .expect("the bridge did not stop after stdin closed")
            .unwrap()
    }
}

/// Every stdout line must be exactly one JSON-RPC 2.0 message.
fn check_line(line: &str) -> Value {
    let message: Value = serde_json::from_str(line)
        .unwrap_or_else(|error| panic!("stdout line is not JSON ({error}): {line:?}"));
    assert_eq!(message["jsonrpc"], "2.0", "not a JSON-RPC message: {line}");
    message
}

/// The `_meta` a 2026-07-28 client puts on every request.
pub fn modern_meta() -> Value {
    json!({
        "io.modelcontextprotocol/protocolVersion": MODERN_VERSION,
        "io.modelcontextprotocol/clientCapabilities": {},
        "io.modelcontextprotocol/clientInfo": { "name": "bridge-test", "version": "1.0.0" }
    })
}

/// The text of a tool result's first content block.
pub fn tool_text(response: &Value) -> &str {
    response["result"]["content"][0]["text"]
        .as_str()
        .unwrap_or_else(|| panic!("not a text tool result: {response}"))
}
