//! `echo-server`: the benchmark's common backend, a stdio MCP server with one
//! tool, `echo`, that answers `{"message": "..."}` with that message as text.
//!
//! Every contender (direct stdio, Gatehouse, supergateway, mcp-proxy…) serves
//! this same process, so the figures compare the hops and not the backends.
//! It has to be cheap (no work beyond decoding and encoding the message) and
//! deterministic (the same answer every time, no state, no clock).
//!
//! The tool is annotated read-only, non-destructive, idempotent and closed
//! world: Gatehouse's approval policy allows read-only tools without asking,
//! and an unannotated tool would wait for a person to approve each call.
//!
//! It writes nothing but MCP messages to stdout. `--log` (or
//! `ECHO_SERVER_LOG=1`) writes a line to stderr when it starts and stops.

use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::{CallToolResult, ContentBlock, Implementation, ServerCapabilities, ServerConfig};
use rmcp::{ServerHandler, ServiceExt, schemars, tool, tool_handler, tool_router};
use serde::Deserialize;

#[derive(Debug, Deserialize, schemars::JsonSchema)]
struct EchoArgs {
    /// The text to send back.
    message: String,
}

#[derive(Debug, Clone)]
struct EchoServer {
    tool_router: ToolRouter<EchoServer>,
}

#[tool_router]
impl EchoServer {
    fn new() -> EchoServer {
        EchoServer {
            tool_router: EchoServer::tool_router(),
        }
    }

    /// Returns the message it is given, as text.
    #[tool(annotations(
        title = "Echo",
        read_only_hint = true,
        destructive_hint = false,
        idempotent_hint = true,
        open_world_hint = false
    ))]
    fn echo(&self, Parameters(EchoArgs { message }): Parameters<EchoArgs>) -> CallToolResult {
        CallToolResult::success(vec![ContentBlock::text(message)])
    }
}

#[tool_handler(router = self.tool_router)]
impl ServerHandler for EchoServer {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build()).with_server_info(
            Implementation::new("gatehouse-loadgen-echo", env!("CARGO_PKG_VERSION")),
        )
    }
}

const USAGE: &str = "usage: echo-server [--log]\n\
    A stdio MCP server with one read-only tool, `echo` ({\"message\": string}).\n\
    --log   say on stderr when it starts and stops (also ECHO_SERVER_LOG=1)";

fn main() -> std::process::ExitCode {
    match serve() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("echo-server: {err:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn serve() -> anyhow::Result<()> {
    let mut log = std::env::var_os("ECHO_SERVER_LOG").is_some_and(|value| value == "1");
    for arg in std::env::args().skip(1) {
        match arg.as_str() {
            "--log" => log = true,
            "-h" | "--help" => {
                // Help goes to stderr too: stdout is for MCP messages only.
                eprintln!("{USAGE}");
                return Ok(());
            }
            _ => anyhow::bail!("unknown argument {arg:?}\n{USAGE}"),
        }
    }
    // One thread: the work per call is tiny, and more workers only add
    // cross-thread hand-offs to every message. Measured behind Gatehouse on
    // two cores, a multi-threaded runtime was 5-15 % slower at concurrency
    // 1, 8 and 32. Gateways that share one child among their sessions all
    // queue on this same thread, so the comparison stays even.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        if log {
            eprintln!("echo-server: serving on stdio (pid {})", std::process::id());
        }
        let service = EchoServer::new()
            .serve(rmcp::transport::io::stdio_pipes())
            .await
            .map_err(|err| anyhow::anyhow!("handshake failed: {err}"))?;
        let reason = service.waiting().await?;
        if log {
            eprintln!("echo-server: stopped ({reason:?})");
        }
        Ok(())
    })
}
