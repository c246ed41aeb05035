//! `http-floor`: an MCP endpoint over Streamable HTTP that does no MCP
//! work at all, the benchmark's floor for any HTTP gateway.
//!
//! It answers `initialize` and `echo` calls the way the echo server would,
//! straight from the request (the JSON decoded, the message copied back),
//! with no session state, no second hop and no stdio server behind it. What
//! the load generator measures against it is the cost of HTTP itself, the
//! client's included, on the machine: no gateway can do better, and the
//! benchmark compares that with direct stdio.
//!
//! `--port 0` picks a free port; the address is printed on stdout.

use std::net::SocketAddr;

use axum::Router;
use axum::body::Bytes;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use clap::Parser;
use serde_json::{Value, json};

#[derive(Debug, Parser)]
#[command(about = "An MCP endpoint that does no MCP work: the floor of any HTTP gateway")]
struct Args {
    /// The port on 127.0.0.1 (0 picks a free one).
    #[arg(long, default_value_t = 0)]
    port: u16,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(serve(args.port))
}

async fn serve(port: u16) -> anyhow::Result<()> {
    let app = Router::new().route("/mcp", post(answer).delete(|| async { StatusCode::OK }));
    let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], port))).await?;
    println!("http://{}/mcp", listener.local_addr()?);
    axum::serve(listener, app).await?;
    Ok(())
}

/// One JSON-RPC message in, its answer out: `initialize` and `tools/call`
/// as the echo server answers them, notifications accepted, anything else
/// an empty result.
async fn answer(body: Bytes) -> Response {
    let Ok(request) = serde_json::from_slice::<Value>(&body) else {
        return StatusCode::BAD_REQUEST.into_response();
    };
    let Some(id) = request.get("id").cloned() else {
        return StatusCode::ACCEPTED.into_response();
    };
    let params = request.get("params").cloned().unwrap_or(Value::Null);
    let result = match request.get("method").and_then(Value::as_str) {
        Some("initialize") => json!({
            "protocolVersion": params.get("protocolVersion").cloned().unwrap_or(json!("2025-06-18")),
            "capabilities": { "tools": {} },
            "serverInfo": { "name": "http-floor", "version": env!("CARGO_PKG_VERSION") },
        }),
        Some("tools/call") => {
            let message = params
                .pointer("/arguments/message")
                .cloned()
                .unwrap_or(json!(""));
            json!({ "content": [{ "type": "text", "text": message }] })
        }
        _ => json!({}),
    };
    let body = json!({ "jsonrpc": "2.0", "id": id, "result": result }).to_string();
    let mut response = body.into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}
