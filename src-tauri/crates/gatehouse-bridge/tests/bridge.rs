//! The bridge against a real rmcp Streamable HTTP server, driven through in-memory pipes
//! as stdin and stdout. Every line read from stdout is checked to be one JSON-RPC message.

mod support;

use std::sync::Arc;
use std::sync::atomic::Ordering;

use http::Method;
use serde_json::{Value, json};

use support::{
    Client, FixedToken, LEGACY_VERSION, MODERN_VERSION, RotatingToken, Server, modern_meta,
    tool_text,
};

const TOKEN: &str = "test-token-4f1c";

async fn start() -> (Server, Client) {
    let server = Server::start(TOKEN).await;
    let client = Client::start(&server.url, Arc::new(FixedToken(TOKEN)));
    (server, client)
}

/// A request in the 2026-07-28 era: `_meta` carries the version, capabilities and client.
fn modern_request(id: u64, method: &str, params: Value) -> Value {
    let mut params = params;
    params["_meta"] = modern_meta();
    json!({ "jsonrpc": "2.0", "id": id, "method": method, "params": params })
}

/// Reads until a notification with `method` has arrived (or finds it among those read).
async fn notification(client: &mut Client, method: &str) -> Value {
    loop {
        if let Some(found) = client
            .received
            .iter()
            .find(|message| message["method"] == method)
        {
            return found.clone();
        }
        client.next().await;
    }
}

fn has_response(client: &Client, id: &Value) -> bool {
    client
        .received
        .iter()
        .any(|message| message.get("method").is_none() && message["id"] == *id)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn legacy_initialize_list_and_call_round_trip() {
    let (server, mut client) = start().await;

    let initialized = client.initialize().await;
    assert_eq!(initialized["result"]["serverInfo"]["name"], "test-server");

    client
        .send(json!({ "jsonrpc": "2.0", "id": 2, "method": "tools/list" }))
        .await;
    let list = client.response(json!(2)).await;
    let tools = list["result"]["tools"].as_array().expect("a tool list");
    let names: Vec<&str> = tools
        .iter()
        .filter_map(|tool| tool["name"].as_str())
        .collect();
    for name in ["echo", "slow", "touch", "deploy"] {
        assert!(names.contains(&name), "{name} missing from {names:?}");
    }
    // A raw relay: schema keywords no typed model knows about arrive intact.
    let deploy = tools.iter().find(|tool| tool["name"] == "deploy").unwrap();
    assert_eq!(
        deploy["inputSchema"]["properties"]["region"]["x-mcp-header"],
        "Region"
    );

    let echo = client
        .call(3, "echo", json!({ "text": "hello, gatehouse" }))
        .await;
    assert_eq!(tool_text(&echo), "hello, gatehouse");

    // The initialize POST starts the session; every later POST carries it and the version.
    let posts: Vec<_> = server
        .log
        .all()
        .into_iter()
        .filter(|seen| seen.method == Method::POST)
        .collect();
    assert!(posts[0].header("mcp-session-id").is_none());
    let session_id = posts[1]
        .header("mcp-session-id")
        .expect("a session id")
        .to_owned();
    for post in &posts {
        assert_eq!(
            post.header("authorization"),
            Some(format!("Bearer {TOKEN}").as_str())
        );
        assert_eq!(post.header("content-type"), Some("application/json"));
        assert_eq!(
            post.header("accept"),
            Some("application/json, text/event-stream")
        );
    }
    for post in &posts[1..] {
        assert_eq!(post.header("mcp-session-id"), Some(session_id.as_str()));
        assert_eq!(post.header("mcp-protocol-version"), Some(LEGACY_VERSION));
        assert!(
            post.header("mcp-method").is_none(),
            "legacy requests get no Mcp-Method"
        );
    }

    client
        .finish()
        .await
        .expect("the bridge ends cleanly at end of input");
    // At end of input the bridge ends its session.
    server
        .log
        .wait_until("the session's DELETE", |seen| {
            seen.iter().any(|seen| {
                seen.method == Method::DELETE
                    && seen.header("mcp-session-id") == Some(session_id.as_str())
            })
        })
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn modern_requests_are_stateless_and_carry_routing_headers() {
    let (server, mut client) = start().await;

    client
        .send(modern_request(1, "server/discover", json!({})))
        .await;
    let discover = client.response(json!(1)).await;
    let versions = discover["result"]["supportedVersions"]
        .as_array()
        .unwrap_or_else(|| panic!("no supportedVersions in {discover}"));
    assert!(versions.contains(&json!(MODERN_VERSION)), "{discover}");

    client
        .send(modern_request(2, "tools/list", json!({})))
        .await;
    let list = client.response(json!(2)).await;
    assert!(list["result"]["tools"].is_array(), "{list}");

    let echo = modern_request(
        3,
        "tools/call",
        json!({ "name": "echo", "arguments": { "text": "modern" } }),
    );
    client.send(echo).await;
    assert_eq!(tool_text(&client.response(json!(3)).await), "modern");

    // `deploy` promotes `region` to a header; rmcp rejects the call without it.
    let deploy = modern_request(
        4,
        "tools/call",
        json!({ "name": "deploy", "arguments": { "region": "eu-west" } }),
    );
    client.send(deploy).await;
    assert_eq!(
        tool_text(&client.response(json!(4)).await),
        "deployed to eu-west"
    );

    let seen = server.log.all();
    assert!(
        seen.iter()
            .all(|seen| seen.header("mcp-session-id").is_none())
    );
    assert!(
        seen.iter().all(|seen| seen.method == Method::POST),
        "no GET stream in the modern era"
    );
    for post in &seen {
        assert_eq!(post.header("mcp-protocol-version"), Some(MODERN_VERSION));
    }
    let deploy_post = seen
        .iter()
        .find(|seen| seen.header("mcp-name") == Some("deploy"))
        .expect("the deploy call");
    assert_eq!(deploy_post.header("mcp-method"), Some("tools/call"));
    assert_eq!(deploy_post.header("mcp-param-region"), Some("eu-west"));
    let discover_post = &seen[0];
    assert_eq!(discover_post.header("mcp-method"), Some("server/discover"));
    assert!(discover_post.header("mcp-name").is_none());

    client.finish().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_calls_each_get_their_own_response() {
    let (_server, mut client) = start().await;
    client.initialize().await;

    client
        .send(json!({
            "jsonrpc": "2.0", "id": 10, "method": "tools/call",
            "params": {
                "name": "slow",
                "arguments": { "millis": 1500, "steps": 3 },
                "_meta": { "progressToken": "p10" }
            }
        }))
        .await;
    client
        .send(json!({
            "jsonrpc": "2.0", "id": 11, "method": "tools/call",
            "params": { "name": "echo", "arguments": { "text": "quick" } }
        }))
        .await;

    // The quick call is answered while the slow one is still running.
    let quick = client.response(json!(11)).await;
    assert_eq!(tool_text(&quick), "quick");
    assert!(!has_response(&client, &json!(10)));
    let slow = client.response(json!(10)).await;
    assert_eq!(tool_text(&slow), "done");

    // The slow call's progress came through its own response stream, before its result.
    let progress: Vec<&Value> = client
        .received
        .iter()
        .filter(|message| message["method"] == "notifications/progress")
        .collect();
    assert!(!progress.is_empty());
    assert!(
        progress
            .iter()
            .all(|message| message["params"]["progressToken"] == "p10")
    );

    client.finish().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rotated_token_is_read_again_after_a_401() {
    let server = Server::start("new-token").await;
    let tokens = RotatingToken::new(&["old-token", "new-token"]);
    let mut client = Client::start(&server.url, tokens.clone());

    client.initialize().await;
    let echo = client
        .call(2, "echo", json!({ "text": "still works" }))
        .await;
    assert_eq!(tool_text(&echo), "still works");

    // Once when connecting, once after the first 401; the new token is then kept.
    assert_eq!(tokens.calls.load(Ordering::SeqCst), 2);
    client.finish().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_token_gets_an_error_reply_and_the_bridge_keeps_running() {
    let server = Server::start("right-token").await;
    let mut client = Client::start(&server.url, Arc::new(FixedToken("wrong-token-8d2e")));

    client
        .send(json!({
            "jsonrpc": "2.0", "id": 1, "method": "initialize",
            "params": { "protocolVersion": LEGACY_VERSION, "capabilities": {},
                        "clientInfo": { "name": "bridge-test", "version": "1.0.0" } }
        }))
        .await;
    let refused = client.response(json!(1)).await;
    let message = refused["error"]["message"]
        .as_str()
        .expect("an error reply");
    assert!(message.contains("gatehouse token show"), "{message}");
    assert_eq!(refused["error"]["data"]["httpStatus"], 401);

    // Still running: the next request is answered too.
    client
        .send(json!({ "jsonrpc": "2.0", "id": 2, "method": "ping" }))
        .await;
    assert!(client.response(json!(2)).await["error"].is_object());

    client.finish().await.unwrap();
    let stdout = serde_json::to_string(&client.received).unwrap();
    assert!(
        !stdout.contains("wrong-token-8d2e"),
        "the token leaked: {stdout}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_gatehouse_gets_a_prompt_error_reply() {
    // A port that was free a moment ago: nothing listens there.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/mcp", listener.local_addr().unwrap());
    drop(listener);
    let mut client = Client::start(&url, Arc::new(FixedToken(TOKEN)));

    client
        .send(json!({ "jsonrpc": "2.0", "id": "a", "method": "tools/list" }))
        .await;
    // `response` fails the test after five seconds: this must not hang.
    let reply = client.response(json!("a")).await;
    let message = reply["error"]["message"].as_str().expect("an error reply");
    assert!(message.contains("not reachable"), "{message}");
    assert!(message.contains(&url), "{message}");

    client
        .send(json!({ "jsonrpc": "2.0", "id": "b", "method": "tools/list" }))
        .await;
    assert!(client.response(json!("b")).await["error"].is_object());
    client.finish().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_notifications_arrive_through_the_get_stream() {
    let (server, mut client) = start().await;
    client.initialize().await;
    server
        .log
        .wait_until("the GET stream", |seen| {
            seen.iter().any(|seen| {
                seen.method == Method::GET
                    && seen.header("accept") == Some("text/event-stream")
                    && seen.header("mcp-session-id").is_some()
            })
        })
        .await;

    let touched = client.call(5, "touch", json!({})).await;
    assert_eq!(tool_text(&touched), "touched");
    // rmcp sends unsolicited notifications only on the GET stream, so this proves it is relayed.
    notification(&mut client, "notifications/tools/list_changed").await;

    client.finish().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_request_is_relayed_and_the_client_answer_goes_back() {
    let (_server, mut client) = start().await;
    client.initialize().await;

    client
        .send(json!({
            "jsonrpc": "2.0", "id": 6, "method": "tools/call",
            "params": { "name": "confirm", "arguments": {} }
        }))
        .await;
    // The tool asks the user through the client; the bridge relays the request...
    let request = loop {
        let message = client.next().await;
        if message["method"] == "elicitation/create" {
            break message;
        }
    };
    assert_eq!(request["params"]["message"], "Go ahead?");
    // ...and the client's answer, written to stdin, reaches the waiting tool.
    client
        .send(json!({
            "jsonrpc": "2.0", "id": request["id"],
            "result": { "action": "accept", "content": {} }
        }))
        .await;
    let result = client.response(json!(6)).await;
    assert_eq!(tool_text(&result), r#"the user chose "accept""#);

    client.finish().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_session_is_renewed_transparently() {
    let (server, mut client) = start().await;
    client.initialize().await;
    let before = client.call(2, "echo", json!({ "text": "before" })).await;
    assert_eq!(tool_text(&before), "before");
    let old_session = last_session(&server);

    // As if Gatehouse had restarted: the next POST gets 404.
    server.forget_sessions().await;
    let after = client.call(3, "echo", json!({ "text": "after" })).await;
    assert_eq!(tool_text(&after), "after");

    let new_session = last_session(&server);
    assert_ne!(new_session, old_session);
    let initializes = server
        .log
        .all()
        .iter()
        .filter(|seen| seen.method == Method::POST && seen.header("mcp-session-id").is_none())
        .count();
    assert_eq!(initializes, 2, "the client's initialize and one replay");
    // The replayed initialize's response was swallowed.
    assert!(
        client
            .received
            .iter()
            .all(|message| !message["id"].to_string().contains("reinitialize")),
        "{:?}",
        client.received
    );

    // The new session has its own GET stream, and server notifications flow again.
    server
        .log
        .wait_until("a GET stream on the new session", |seen| {
            seen.iter().any(|seen| {
                seen.method == Method::GET
                    && seen.header("mcp-session-id") == Some(new_session.as_str())
            })
        })
        .await;
    client.call(4, "touch", json!({})).await;
    notification(&mut client, "notifications/tools/list_changed").await;

    client.finish().await.unwrap();
}

fn last_session(server: &Server) -> String {
    server
        .log
        .all()
        .iter()
        .rev()
        .find(|seen| seen.method == Method::POST)
        .and_then(|seen| seen.header("mcp-session-id"))
        .expect("a POST with a session")
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancelled_modern_request_is_dropped_without_a_reply() {
    let (server, mut client) = start().await;

    let mut slow = modern_request(
        20,
        "tools/call",
        json!({ "name": "slow", "arguments": { "millis": 4000, "steps": 4 } }),
    );
    slow["params"]["_meta"]["progressToken"] = json!("p20");
    client.send(slow).await;
    // Its first progress notification means the call is running on the server.
    notification(&mut client, "notifications/progress").await;

    client
        .send(json!({
            "jsonrpc": "2.0", "method": "notifications/cancelled",
            "params": { "requestId": 20, "reason": "user pressed stop" }
        }))
        .await;
    // Dropping the connection is how 2026-07-28 cancels: the server's handler sees it.
    server.probe.wait_for_cancelled(1).await;

    let echo = modern_request(
        21,
        "tools/call",
        json!({ "name": "echo", "arguments": { "text": "next" } }),
    );
    client.send(echo).await;
    assert_eq!(tool_text(&client.response(json!(21)).await), "next");
    assert!(!has_response(&client, &json!(20)), "{:?}", client.received);
    // The cancellation itself was not POSTed: there is nothing for a server to match it to.
    assert_eq!(server.count(Method::POST), 2);

    client.finish().await.unwrap();
    assert!(!has_response(&client, &json!(20)), "{:?}", client.received);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancelled_legacy_request_is_cancelled_by_notification() {
    let (server, mut client) = start().await;
    client.initialize().await;

    client
        .send(json!({
            "jsonrpc": "2.0", "id": 30, "method": "tools/call",
            "params": {
                "name": "slow",
                "arguments": { "millis": 4000, "steps": 4 },
                "_meta": { "progressToken": "p30" }
            }
        }))
        .await;
    notification(&mut client, "notifications/progress").await;
    client
        .send(json!({
            "jsonrpc": "2.0", "method": "notifications/cancelled",
            "params": { "requestId": 30, "reason": "user pressed stop" }
        }))
        .await;
    server.probe.wait_for_cancelled(1).await;

    let echo = client.call(31, "echo", json!({ "text": "next" })).await;
    assert_eq!(tool_text(&echo), "next");
    client.finish().await.unwrap();
    // rmcp sends nothing for a cancelled request, and the bridge adds no error of its own.
    assert!(!has_response(&client, &json!(30)), "{:?}", client.received);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_lines_get_json_rpc_errors_and_blank_lines_are_ignored() {
    let (_server, mut client) = start().await;

    client.send_line("this is not JSON").await;
    let parse_error = client.next().await;
    assert_eq!(parse_error["error"]["code"], -32700);
    assert_eq!(parse_error["id"], Value::Null);

    client.send_line("").await;
    client.send_line("   ").await;
    client.send_line("[]").await;
    let invalid = client.next().await;
    assert_eq!(invalid["error"]["code"], -32600, "{invalid}");

    // Over 16 MiB, with its id at the very end: answered, not relayed, not a hang.
    let huge = "x".repeat(17 * 1024 * 1024);
    let line = format!(
        r#"{{"jsonrpc":"2.0","method":"tools/call","params":{{"name":"echo","arguments":{{"text":"{huge}"}}}},"id":77}}"#
    );
    client.send_line(&line).await;
    let too_long = client.response(json!(77)).await;
    assert_eq!(too_long["error"]["code"], -32600, "{too_long}");

    // Any other HTTP error is reported with its status and body: here rmcp wants a
    // session before anything but initialize.
    client
        .send(json!({ "jsonrpc": "2.0", "id": 78, "method": "tools/list" }))
        .await;
    let no_session = client.response(json!(78)).await;
    let message = no_session["error"]["message"].as_str().unwrap();
    assert!(message.contains("HTTP 400"), "{message}");
    assert!(message.to_lowercase().contains("session"), "{message}");
    assert_eq!(no_session["error"]["data"]["httpStatus"], 400);

    client.finish().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_over_the_server_limit_is_answered_with_the_http_status() {
    let (_server, mut client) = start().await;
    client.initialize().await;

    // rmcp's default limit is 4 MiB.
    let big = "y".repeat(5 * 1024 * 1024);
    let reply = client.call(9, "echo", json!({ "text": big })).await;
    let message = reply["error"]["message"].as_str().expect("an error reply");
    assert!(message.contains("413"), "{message}");
    assert_eq!(reply["error"]["data"]["httpStatus"], 413);

    let echo = client.call(10, "echo", json!({ "text": "small" })).await;
    assert_eq!(tool_text(&echo), "small");
    client.finish().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_lost_before_the_response_is_tried_once_more() {
    // A bare HTTP server whose first connection closes without answering, as a pooled
    // keep-alive connection does when the server has just closed it.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/mcp", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let (first, _) = listener.accept().await.unwrap();
        read_request(first).await;
        let (mut second, _) = listener.accept().await.unwrap();
        let body = read_request(&mut second).await;
        let request: Value = serde_json::from_slice(&body).unwrap();
        let reply = json!({ "jsonrpc": "2.0", "id": request["id"], "result": {} }).to_string();
        let response = format!(
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{reply}",
            reply.len()
        );
        tokio::io::AsyncWriteExt::write_all(&mut second, response.as_bytes())
            .await
            .unwrap();
    });
    let mut client = Client::start(&url, Arc::new(FixedToken(TOKEN)));

    client
        .send(json!({ "jsonrpc": "2.0", "id": 1, "method": "ping" }))
        .await;
    let reply = client.response(json!(1)).await;
    assert_eq!(reply["result"], json!({}), "{reply}");
    client.finish().await.unwrap();
}

/// Reads one HTTP/1.1 request and returns its body.
async fn read_request(mut stream: impl tokio::io::AsyncRead + Unpin) -> Vec<u8> {
    use tokio::io::AsyncReadExt;
    let mut received = Vec::new();
    let mut buffer = [0u8; 4096];
    loop {
        let read = stream.read(&mut buffer).await.unwrap();
        assert!(read > 0, "the request ended early");
        received.extend_from_slice(&buffer[..read]);
        let Some(end) = received.windows(4).position(|window| window == b"\r\n\r\n") else {
            continue;
        };
        let head = String::from_utf8_lossy(&received[..end]).to_lowercase();
        let length: usize = head
            .lines()
            .find_map(|line| line.strip_prefix("content-length:"))
            .map_or(0, |value| value.trim().parse().unwrap());
        if received.len() >= end + 4 + length {
            return received[end + 4..end + 4 + length].to_vec();
        }
    }
}
