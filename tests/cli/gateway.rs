//! The MCP endpoint of `gatehouse serve` from the outside: who gets in
//! (Host, Origin, bearer token, body size, paths), where it listens and
//! what it refuses, where its token comes from (`--token`,
//! `$GATEHOUSE_TOKEN`, the keyring) and `gatehouse token show | rotate`,
//! and that the token never reaches a server.
//!
//! Requests go over a plain TCP socket (HTTP/1.1, `Connection: close`), so
//! every header, `Host` included, is exactly what the test wrote. Tests
//! whose outcome depends on the keyring get a [`PrivateKeyring`]; the others
//! point the session bus nowhere, so they prove they need no keyring and
//! cannot touch the shared one.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::util::{PrivateKeyring, Sandbox, Served, alive, binary, files_below, stderr, stdout};

/// A token for `--token` / `$GATEHOUSE_TOKEN`: long enough, visible ASCII.
const FLAG_TOKEN: &str = "flag-token-0123456789abcdef";
const ENV_TOKEN: &str = "env-token-fedcba9876543210";

const INITIALIZE: &str = r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}"#;

const DEMO_CONFIG: &str = "[servers.demo]\ncommand = \"gatehouse\"\nargs = [\"demo-server\"]\n";

// --- Running Gatehouse -----------------------------------------------------

/// Which Secret Service a command sees.
#[derive(Clone, Copy)]
enum Keys<'a> {
    /// None: the session bus points at nothing.
    Off,
    /// The test's own.
    Private(&'a PrivateKeyring),
}

/// `gatehouse ARGS…` in the sandbox, seeing `keys`, and with no
/// `$GATEHOUSE_ADDR`: these tests choose the address themselves.
fn gatehouse(sandbox: &Sandbox, keys: Keys, args: &[&str]) -> Command {
    let mut command = sandbox.command(args);
    command.env_remove("GATEHOUSE_ADDR");
    match keys {
        Keys::Off => {
            command.env(
                "DBUS_SESSION_BUS_ADDRESS",
                format!(
                    "unix:path={}",
                    sandbox.gatehouse_home().join("no-such-bus").display()
                ),
            );
        }
        Keys::Private(keyring) => keyring.apply(&mut command),
    }
    command
}

/// Runs a command that must end by itself, for up to `limit`.
fn run_within(mut command: Command, limit: Duration) -> (std::process::Output, Duration) {
    let started = Instant::now();
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let out = std::thread::spawn(move || {
        let mut buf = Vec::new();
        drop(out.read_to_end(&mut buf));
        buf
    });
    let err = std::thread::spawn(move || {
        let mut buf = Vec::new();
        drop(err.read_to_end(&mut buf));
        buf
    });
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > limit {
            drop(child.kill());
            drop(child.wait());
            panic!(
                "still running after {limit:?}; stderr: {}",
                String::from_utf8_lossy(&err.join().unwrap())
            );
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let elapsed = started.elapsed();
    let output = std::process::Output {
        status,
        stdout: out.join().unwrap(),
        stderr: err.join().unwrap(),
    };
    (output, elapsed)
}

fn run(sandbox: &Sandbox, keys: Keys, args: &[&str]) -> std::process::Output {
    run_within(gatehouse(sandbox, keys, args), Duration::from_secs(20)).0
}

/// `gatehouse token show --json`, which must succeed.
fn token_show(sandbox: &Sandbox, keys: Keys) -> Value {
    let output = run(sandbox, keys, &["token", "show", "--json"]);
    assert!(output.status.success(), "token show: {}", stderr(&output));
    serde_json::from_str(&stdout(&output))
        .unwrap_or_else(|err| panic!("token show --json ({err}): {}", stdout(&output)))
}

/// A running `gatehouse serve --log-format json` and its endpoint as
/// `token show --json` reports it.
struct Gate {
    served: Served,
    /// The address from the reported URL.
    addr: SocketAddr,
    /// `token show --json` once the URL was set.
    shown: Value,
}

impl Gate {
    /// `serve --log-format json --addr 127.0.0.1:0 EXTRA…`.
    fn start(sandbox: &Sandbox, keys: Keys, extra: &[&str], env: &[(&str, &str)]) -> Gate {
        let mut args = vec!["serve", "--log-format", "json", "--addr", "127.0.0.1:0"];
        args.extend_from_slice(extra);
        Gate::start_with(sandbox, keys, &args, env)
    }

    /// `gatehouse ARGS…` (a `serve` with `--log-format json`), then polls
    /// `token show --json` until it reports the URL.
    fn start_with(sandbox: &Sandbox, keys: Keys, args: &[&str], env: &[(&str, &str)]) -> Gate {
        let mut command = gatehouse(sandbox, keys, args);
        for (key, value) in env {
            command.env(key, value);
        }
        let mut served = Served::spawn(command);
        let socket = sandbox.gatehouse_home().join("run/control.sock");
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(exit) = served.child.try_wait().unwrap() {
                panic!(
                    "serve exited ({exit}) before its endpoint was up: {:#?}",
                    served.log_so_far()
                );
            }
            // Before the control socket exists, `token show` would read the
            // keyring itself (and create a token there).
            if socket.exists() {
                let output = run(sandbox, keys, &["token", "show", "--json"]);
                if output.status.success() {
                    let shown: Value = serde_json::from_str(&stdout(&output)).unwrap();
                    if let Some(url) = shown["url"].as_str() {
                        let addr = url
                            .strip_prefix("http://")
                            .and_then(|rest| rest.strip_suffix("/mcp"))
                            .unwrap_or_else(|| panic!("not an endpoint URL: {url}"))
                            .parse()
                            .unwrap_or_else(|err| panic!("{url}: {err}"));
                        return Gate {
                            served,
                            addr,
                            shown,
                        };
                    }
                }
            }
            assert!(
                Instant::now() < deadline,
                "the endpoint did not come up: {:#?}",
                served.log_so_far()
            );
            std::thread::sleep(Duration::from_millis(25));
        }
    }

    fn port(&self) -> u16 {
        self.addr.port()
    }

    /// Where a client on this machine connects (the reported address, or
    /// 127.0.0.1 when it is 0.0.0.0).
    fn local(&self) -> SocketAddr {
        if self.addr.ip().is_unspecified() {
            SocketAddr::from(([127, 0, 0, 1], self.port()))
        } else {
            self.addr
        }
    }

    fn token(&self) -> String {
        self.shown["token"].as_str().unwrap().to_owned()
    }

    /// SIGTERM; it must exit cleanly. Returns its log.
    fn stop(self) -> Vec<String> {
        let (log, exit) = self.served.terminate();
        assert!(exit.success(), "serve exited with {exit}: {log:#?}");
        log
    }
}

// --- HTTP over a bare socket ---------------------------------------------

struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }

    /// The JSON-RPC messages of a JSON or SSE body.
    fn messages(&self) -> Vec<Value> {
        if self
            .header("content-type")
            .is_some_and(|t| t.starts_with("application/json"))
        {
            return vec![serde_json::from_str(&self.body).unwrap()];
        }
        self.body
            .lines()
            .filter_map(|line| line.strip_prefix("data:"))
            .map(str::trim)
            .filter(|data| !data.is_empty())
            .map(|data| serde_json::from_str(data).unwrap())
            .collect()
    }

    /// The result of the response with `id`.
    fn result(&self, id: u64) -> Value {
        let messages = self.messages();
        let response = messages
            .iter()
            .find(|m| m["id"] == id)
            .unwrap_or_else(|| panic!("no response {id} in {self:?}"));
        assert!(response.get("error").is_none(), "{response}");
        response["result"].clone()
    }
}

impl std::fmt::Debug for Reply {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let body: String = self.body.chars().take(2000).collect();
        write!(f, "HTTP {} {:?}\n{body}", self.status, self.headers)
    }
}

/// One HTTP/1.1 request on a fresh connection. `Host` is `addr` unless
/// `headers` has one; `Content-Length` is added for a body.
fn http(
    addr: SocketAddr,
    method: &str,
    target: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Reply {
    let mut head = format!("{method} {target} HTTP/1.1\r\n");
    if !headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("host")) {
        head.push_str(&format!("Host: {addr}\r\n"));
    }
    for (key, value) in headers {
        head.push_str(&format!("{key}: {value}\r\n"));
    }
    if !body.is_empty() || method == "POST" {
        head.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    head.push_str("Connection: close\r\n\r\n");
    let mut request = head.into_bytes();
    request.extend_from_slice(body);

    let mut stream = TcpStream::connect(addr).unwrap_or_else(|err| panic!("connect {addr}: {err}"));
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    // Written on the side: a server may answer (413) before it has read
    // everything, and the answer must still be read.
    let mut writer = stream.try_clone().unwrap();
    let writing = std::thread::spawn(move || drop(writer.write_all(&request)));
    let mut raw = Vec::new();
    let mut chunk = vec![0u8; 64 * 1024];
    loop {
        match stream.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => raw.extend_from_slice(&chunk[..n]),
            Err(err) if err.kind() == std::io::ErrorKind::Interrupted => {}
            Err(err) if !raw.is_empty() && err.kind() == std::io::ErrorKind::ConnectionReset => {
                break;
            }
            Err(err) => panic!(
                "reading the answer to {method} {target}: {err}; got so far: {}",
                String::from_utf8_lossy(&raw)
            ),
        }
    }
    writing.join().unwrap();

    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| panic!("no HTTP head in {:?}", String::from_utf8_lossy(&raw)));
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap();
    let status: u16 = status_line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("bad status line {status_line:?}"));
    let headers: Vec<(String, String)> = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect();
    let rest = &raw[split + 4..];
    let chunked = headers.iter().any(|(k, v)| {
        k.eq_ignore_ascii_case("transfer-encoding") && v.eq_ignore_ascii_case("chunked")
    });
    let body = if chunked {
        dechunk(rest)
    } else {
        rest.to_vec()
    };
    Reply {
        status,
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
    }
}

fn dechunk(mut raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(eol) = raw.windows(2).position(|w| w == b"\r\n") {
        let size = std::str::from_utf8(&raw[..eol])
            .ok()
            .and_then(|line| usize::from_str_radix(line.split(';').next()?.trim(), 16).ok())
            .unwrap_or(0);
        raw = &raw[eol + 2..];
        if size == 0 {
            break;
        }
        let take = size.min(raw.len());
        out.extend_from_slice(&raw[..take]);
        raw = raw[take..].strip_prefix(b"\r\n").unwrap_or(&raw[take..]);
    }
    out
}

fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

/// An MCP POST: JSON in, JSON or SSE accepted, plus `headers`.
fn mcp_post(addr: SocketAddr, target: &str, headers: &[(&str, &str)], body: &[u8]) -> Reply {
    let mut all = vec![
        ("Content-Type", "application/json"),
        ("Accept", "application/json, text/event-stream"),
    ];
    all.extend_from_slice(headers);
    http(addr, "POST", target, &all, body)
}

/// `initialize` on `target` with `token` and `headers`.
fn initialize(addr: SocketAddr, target: &str, token: &str, headers: &[(&str, &str)]) -> Reply {
    let auth = bearer(token);
    let mut all = vec![("Authorization", auth.as_str())];
    all.extend_from_slice(headers);
    mcp_post(addr, target, &all, INITIALIZE.as_bytes())
}

/// A successful `initialize`: 200, a session, Gatehouse's answer. Returns
/// the session id.
#[track_caller]
fn assert_initialized(reply: &Reply, case: &str) -> String {
    assert_eq!(reply.status, 200, "{case}: {reply:?}");
    let session = reply
        .header("mcp-session-id")
        .unwrap_or_else(|| panic!("{case}: no Mcp-Session-Id: {reply:?}"))
        .to_owned();
    assert!(!session.is_empty(), "{case}: empty session id");
    let result = reply.result(1);
    assert_eq!(result["protocolVersion"], "2025-11-25", "{case}: {result}");
    assert!(
        result["serverInfo"]["name"].is_string(),
        "{case}: no serverInfo: {result}"
    );
    session
}

/// A refusal: the status, a body that says why, no session, and for 401 a
/// `WWW-Authenticate: Bearer` challenge.
#[track_caller]
fn assert_refused(reply: &Reply, status: u16, says: &str, case: &str) {
    assert_eq!(reply.status, status, "{case}: {reply:?}");
    assert!(
        reply.body.contains(says),
        "{case}: the body does not say {says:?}: {reply:?}"
    );
    assert!(
        reply.header("mcp-session-id").is_none(),
        "{case}: a session was opened: {reply:?}"
    );
    if status == 401 {
        let challenge = reply
            .header("www-authenticate")
            .unwrap_or_else(|| panic!("{case}: 401 without WWW-Authenticate: {reply:?}"));
        assert!(
            challenge.starts_with("Bearer"),
            "{case}: challenge {challenge:?}"
        );
    }
}

/// A request within `session`, which must be answered 200 (or 202 for a
/// notification).
fn in_session(addr: SocketAddr, token: &str, session: &str, message: &Value) -> Reply {
    let auth = bearer(token);
    mcp_post(
        addr,
        "/mcp",
        &[
            ("Authorization", auth.as_str()),
            ("Mcp-Session-Id", session),
            ("MCP-Protocol-Version", "2025-11-25"),
        ],
        message.to_string().as_bytes(),
    )
}

/// `initialize`, `notifications/initialized`: a session ready for calls.
fn open_session(addr: SocketAddr, token: &str) -> String {
    let session = assert_initialized(&initialize(addr, "/mcp", token, &[]), "open a session");
    let ack = in_session(
        addr,
        token,
        &session,
        &json!({"jsonrpc": "2.0", "method": "notifications/initialized"}),
    );
    assert_eq!(ack.status, 202, "{ack:?}");
    session
}

/// Polls `tools/list` until `name` is listed (a server's tools join the
/// gateway once it runs).
fn wait_for_tool(addr: SocketAddr, token: &str, session: &str, name: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(10);
    for id in 100.. {
        let reply = in_session(
            addr,
            token,
            session,
            &json!({"jsonrpc": "2.0", "id": id, "method": "tools/list"}),
        );
        assert_eq!(reply.status, 200, "{reply:?}");
        let tools = reply.result(id)["tools"].clone();
        if let Some(tool) = tools
            .as_array()
            .unwrap()
            .iter()
            .find(|tool| tool["name"] == name)
        {
            return tool.clone();
        }
        assert!(Instant::now() < deadline, "no tool {name} in {tools}");
        std::thread::sleep(Duration::from_millis(50));
    }
    unreachable!()
}

/// A port nothing listens on right now.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn refused_connection(port: u16) -> bool {
    TcpStream::connect_timeout(
        &SocketAddr::from(([127, 0, 0, 1], port)),
        Duration::from_secs(2),
    )
    .is_err()
}

fn is_hex_token(token: &str) -> bool {
    token.len() == 64
        && token
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

// --- 1. Who gets in ----------------------------------------------------------

#[test]
fn the_endpoint_refuses_bad_hosts_origins_tokens_sizes_and_paths_and_serves_the_rest() {
    let sandbox = Sandbox::new();
    sandbox.write_config(&format!(
        "[gateway]\nallowed_origins = [\"https://app.example:8443\"]\n\n{DEMO_CONFIG}"
    ));
    let gate = Gate::start(&sandbox, Keys::Off, &["--token", FLAG_TOKEN], &[]);
    let addr = gate.addr;
    let port = gate.port();
    let good = bearer(FLAG_TOKEN);
    let good = ("Authorization", good.as_str());
    let evil_host = format!("evil.example:{port}");
    let other_port = format!("http://127.0.0.1:{}", port.wrapping_add(1).max(1));
    let body = INITIALIZE.as_bytes();
    let token_query = format!("/mcp?token={FLAG_TOKEN}");
    let access_token_query = format!("/mcp?access_token={FLAG_TOKEN}");

    let no_header = "send `Authorization: Bearer <token>`";
    let in_url = "a token in the URL is refused";
    for (case, target, headers, status, says) in [
        ("no token", "/mcp", vec![], 401, no_header),
        (
            "a wrong token",
            "/mcp",
            vec![("Authorization", "Bearer wrong-token-0123456789")],
            401,
            "wrong token",
        ),
        (
            "another scheme",
            "/mcp",
            vec![("Authorization", "Basic dXNlcjpwYXNz")],
            401,
            no_header,
        ),
        (
            "the right token in the query only",
            token_query.as_str(),
            vec![],
            401,
            in_url,
        ),
        (
            "the right token in the query and the header",
            token_query.as_str(),
            vec![good],
            401,
            in_url,
        ),
        (
            "access_token in the query and the header",
            access_token_query.as_str(),
            vec![good],
            401,
            in_url,
        ),
        (
            "an evil Host with the right token",
            "/mcp",
            vec![good, ("Host", evil_host.as_str())],
            403,
            "only answers requests addressed to localhost",
        ),
        (
            "an evil Host, checked before the token",
            "/mcp",
            vec![("Host", evil_host.as_str())],
            403,
            "only answers requests addressed to localhost",
        ),
        (
            "an evil Origin with the right token",
            "/mcp",
            vec![good, ("Origin", "http://evil.example")],
            403,
            "other origins",
        ),
        (
            "a loopback Origin on another port",
            "/mcp",
            vec![good, ("Origin", other_port.as_str())],
            403,
            "other origins",
        ),
        (
            "an unknown server",
            "/mcp/nosuch",
            vec![good],
            404,
            "there is no server `nosuch`",
        ),
        (
            "another path",
            "/other",
            vec![good],
            404,
            "the MCP endpoint is /mcp",
        ),
        (
            "an unknown server without a token",
            "/mcp/nosuch",
            vec![],
            401,
            no_header,
        ),
        (
            "another path without a token",
            "/other",
            vec![],
            401,
            no_header,
        ),
    ] {
        let mut all = vec![
            ("Content-Type", "application/json"),
            ("Accept", "application/json, text/event-stream"),
        ];
        all.extend(headers);
        let reply = http(addr, "POST", target, &all, body);
        assert_refused(&reply, status, says, case);
    }

    // The right token, from the endpoint's own and the configured origins.
    let session = assert_initialized(&initialize(addr, "/mcp", FLAG_TOKEN, &[]), "all good");
    for origin in [
        format!("http://127.0.0.1:{port}"),
        format!("http://localhost:{port}"),
        format!("http://[::1]:{port}"),
        "https://app.example:8443".to_owned(),
    ] {
        assert_initialized(
            &initialize(addr, "/mcp", FLAG_TOKEN, &[("Origin", &origin)]),
            &format!("Origin {origin}"),
        );
    }
    assert_initialized(
        &initialize(
            addr,
            "/mcp",
            FLAG_TOKEN,
            &[("Host", &format!("localhost:{port}"))],
        ),
        "Host localhost",
    );
    assert_initialized(&initialize(addr, "/mcp/demo", FLAG_TOKEN, &[]), "/mcp/demo");

    // The session carries real MCP: the demo server's tools, namespaced.
    let ack = in_session(
        addr,
        FLAG_TOKEN,
        &session,
        &json!({"jsonrpc": "2.0", "method": "notifications/initialized"}),
    );
    assert_eq!(ack.status, 202, "{ack:?}");
    let tool = wait_for_tool(addr, FLAG_TOKEN, &session, "demo__delete_note");
    assert_eq!(tool["annotations"]["destructiveHint"], true, "{tool}");
    // ...but not without the token, even with the session's id.
    let auth_less = mcp_post(
        addr,
        "/mcp",
        &[("Mcp-Session-Id", &session)],
        br#"{"jsonrpc":"2.0","id":7,"method":"tools/list"}"#,
    );
    assert_refused(&auth_less, 401, no_header, "a session id without a token");

    // Bodies: exactly 4 MiB is read; one byte more is 413.
    let limit = 4 * 1024 * 1024;
    let mut at_limit = INITIALIZE.as_bytes().to_vec();
    at_limit.resize(limit, b' ');
    assert_initialized(
        &mcp_post(addr, "/mcp", &[good], &at_limit),
        "a 4 MiB initialize (padded with whitespace)",
    );
    at_limit.push(b' ');
    let reply = mcp_post(addr, "/mcp", &[good], &at_limit);
    assert_refused(&reply, 413, "exceeds 4194304 bytes", "4 MiB + 1 byte");

    // The refusals are logged; the token is not.
    let log = gate.stop();
    for expected in [
        "refused a request for another host",
        "refused a request from another origin",
        "refused a request with a token in its URL",
        "refused a request with a wrong token",
    ] {
        assert!(
            log.iter().any(|line| line.contains(expected)),
            "{expected:?} not logged: {log:#?}"
        );
    }
    assert!(
        !log.iter().any(|line| line.contains(FLAG_TOKEN)),
        "{log:#?}"
    );
}

// --- 2. Where it listens ----------------------------------------------------

#[test]
fn a_non_loopback_address_is_refused_unless_allow_remote_is_given() {
    let sandbox = Sandbox::new();
    sandbox.write_config(DEMO_CONFIG);
    let port = free_port();
    let addr = format!("0.0.0.0:{port}");
    let reason = format!(
        "gatehouse: refusing to listen on {addr}: it is not a loopback address, so other machines could reach your MCP servers; use 127.0.0.1, or pass --allow-remote if you mean it"
    );
    let by_flag = gatehouse(
        &sandbox,
        Keys::Off,
        &["serve", "--addr", &addr, "--token", FLAG_TOKEN],
    );
    let mut by_env = gatehouse(&sandbox, Keys::Off, &["serve", "--token", FLAG_TOKEN]);
    by_env.env("GATEHOUSE_ADDR", &addr);
    for (case, command) in [("--addr", by_flag), ("$GATEHOUSE_ADDR", by_env)] {
        let (output, took) = run_within(command, Duration::from_secs(10));
        let err = stderr(&output);
        assert_eq!(output.status.code(), Some(1), "{case}: {err}");
        assert!(took < Duration::from_secs(5), "{case}: took {took:?}");
        assert!(
            err.lines().any(|line| line == reason),
            "{case}: no one-line reason {reason:?} in: {err}"
        );
        assert!(!err.contains("gateway listening"), "{case}: {err}");
        assert!(
            refused_connection(port),
            "{case}: something listens on {port}"
        );
    }

    // With --allow-remote it listens on every interface, still behind the
    // Host check and the token.
    let gate = Gate::start_with(
        &sandbox,
        Keys::Off,
        &[
            "serve",
            "--log-format",
            "json",
            "--addr",
            "0.0.0.0:0",
            "--allow-remote",
            "--token",
            FLAG_TOKEN,
        ],
        &[],
    );
    assert!(
        gate.addr.ip().is_loopback(),
        "an all-interfaces endpoint is reached through loopback here: {}",
        gate.shown
    );
    assert_ne!(gate.port(), 0);
    let local = gate.local();
    assert_initialized(&initialize(local, "/mcp", FLAG_TOKEN, &[]), "via 127.0.0.1");
    assert_refused(
        &initialize(local, "/mcp", "wrong-token-0123456789", &[]),
        401,
        "wrong token",
        "remote-allowed, wrong token",
    );
    // Other machines address it by names Gatehouse cannot know, so any
    // Host is answered (the token still guards it); a web page of another
    // origin is still refused.
    assert_initialized(
        &initialize(
            local,
            "/mcp",
            FLAG_TOKEN,
            &[("Host", &format!("my-desktop.lan:{}", gate.port()))],
        ),
        "remote-allowed, a LAN host name",
    );
    assert_refused(
        &initialize(
            local,
            "/mcp",
            FLAG_TOKEN,
            &[("Origin", "http://evil.example")],
        ),
        403,
        "other origins",
        "remote-allowed, evil Origin",
    );
    gate.stop();
}

/// `token show` (and the bridge) hand out the URL; a client using it as
/// given must get in.
#[test]
fn the_url_reported_for_an_all_interfaces_endpoint_works_as_given() {
    let sandbox = Sandbox::new();
    sandbox.write_config(DEMO_CONFIG);
    let gate = Gate::start_with(
        &sandbox,
        Keys::Off,
        &[
            "serve",
            "--log-format",
            "json",
            "--addr",
            "0.0.0.0:0",
            "--allow-remote",
            "--token",
            FLAG_TOKEN,
        ],
        &[],
    );
    let url = gate.shown["url"].as_str().unwrap().to_owned();
    // Exactly what an HTTP client does with the URL: connect to its
    // authority and send it as Host.
    let reply = initialize(gate.addr, "/mcp", FLAG_TOKEN, &[]);
    assert_initialized(&reply, &format!("POST {url} with Host {}", gate.addr));
    gate.stop();
}

#[test]
fn a_busy_port_stops_serve_at_once_with_the_reason_and_no_server_left_behind() {
    let sandbox = Sandbox::new();
    sandbox.write_config(DEMO_CONFIG);
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let addr = format!("127.0.0.1:{port}");
    let (output, took) = run_within(
        gatehouse(
            &sandbox,
            Keys::Off,
            &[
                "serve",
                "--log-format",
                "json",
                "--addr",
                &addr,
                "--token",
                FLAG_TOKEN,
            ],
        ),
        Duration::from_secs(10),
    );
    let err = stderr(&output);
    assert_eq!(output.status.code(), Some(1), "{err}");
    assert!(took < Duration::from_secs(5), "took {took:?}");
    let reason = format!(
        "gatehouse: cannot listen on {addr}: the port is in use by another program; choose another with `--addr 127.0.0.1:PORT` or `[gateway] addr` in gatehouse.toml"
    );
    assert!(
        err.lines().any(|line| line == reason),
        "no one-line reason {reason:?} in: {err}"
    );
    // Any server it had started is gone with it.
    for line in err.lines() {
        let Ok(event) = serde_json::from_str::<Value>(line) else {
            continue;
        };
        if event["fields"]["message"] == "spawned" {
            let pid = u32::try_from(event["fields"]["pid"].as_u64().unwrap()).unwrap();
            assert!(!alive(pid), "server {pid} outlived the failed serve");
        }
    }
    drop(taken);
}

// --- 3. Which address ---------------------------------------------------------

#[test]
fn the_address_comes_from_the_flag_then_the_environment_then_the_file() {
    let sandbox = Sandbox::new();
    // Three distinct ports that are free now.
    let holders: Vec<TcpListener> = (0..3)
        .map(|_| TcpListener::bind("127.0.0.1:0").unwrap())
        .collect();
    let ports: Vec<u16> = holders
        .iter()
        .map(|l| l.local_addr().unwrap().port())
        .collect();
    drop(holders);
    let [file, env, flag] = [0, 1, 2].map(|i| format!("127.0.0.1:{}", ports[i]));
    sandbox.write_config(&format!("[gateway]\naddr = \"{file}\"\n\n{DEMO_CONFIG}"));
    let base = ["serve", "--log-format", "json", "--token", FLAG_TOKEN];

    for (case, extra, environment, expected) in [
        ("the file", vec![], vec![], &file),
        (
            "$GATEHOUSE_ADDR over the file",
            vec![],
            vec![("GATEHOUSE_ADDR", env.as_str())],
            &env,
        ),
        (
            "--addr over both",
            vec!["--addr", flag.as_str()],
            vec![("GATEHOUSE_ADDR", env.as_str())],
            &flag,
        ),
    ] {
        let mut args = base.to_vec();
        args.extend(extra);
        let gate = Gate::start_with(&sandbox, Keys::Off, &args, &environment);
        assert_eq!(
            gate.shown["url"],
            format!("http://{expected}/mcp"),
            "{case}"
        );
        // It is the endpoint that answers there, and nothing on the others.
        assert_refused(
            &http(gate.addr, "POST", "/mcp", &[], INITIALIZE.as_bytes()),
            401,
            "Authorization: Bearer",
            case,
        );
        for other in [&file, &env, &flag] {
            if other != expected {
                let port = other.rsplit_once(':').unwrap().1.parse().unwrap();
                assert!(refused_connection(port), "{case}: {other} answers too");
            }
        }
        gate.stop();
    }
}

// --- 4. Where the token comes from -------------------------------------------

#[test]
fn a_first_serve_generates_a_keyring_token_which_token_show_prints_and_the_endpoint_takes() {
    let sandbox = Sandbox::new();
    sandbox.write_config(DEMO_CONFIG);
    let keyring = PrivateKeyring::start();
    let keys = Keys::Private(&keyring);

    let mut gate = Gate::start(&sandbox, keys, &[], &[]);
    gate.served.until(|event| {
        (event["fields"]["message"] == "generated the gateway token and stored it in the keyring")
            .then_some(())
    });
    assert_eq!(gate.shown["source"], "keyring", "{}", gate.shown);
    let token = gate.token();
    assert!(is_hex_token(&token), "not 64 hex digits: {token}");
    assert_initialized(
        &initialize(gate.addr, "/mcp", &token, &[]),
        "the keyring token",
    );
    assert_refused(
        &initialize(gate.addr, "/mcp", &token[..63], &[]),
        401,
        "wrong token",
        "the token less its last digit",
    );

    // Plain `token show`: the token alone on stdout, the rest on stderr.
    let plain = run(&sandbox, keys, &["token", "show"]);
    assert!(plain.status.success(), "{}", stderr(&plain));
    assert_eq!(stdout(&plain), format!("{token}\n"));
    assert_eq!(
        stderr(&plain),
        format!(
            "Endpoint: http://{}/mcp  (send `Authorization: Bearer <token>`; token from the keyring)\n",
            gate.addr
        )
    );
    gate.stop();

    // It is in the keyring: shown without Gatehouse, and used again.
    assert_eq!(
        token_show(&sandbox, keys),
        json!({"token": token, "url": null, "source": "keyring"})
    );
    let again = Gate::start(&sandbox, keys, &[], &[]);
    assert_eq!(
        again.token(),
        token,
        "the second run reuses the stored token"
    );
    assert_initialized(&initialize(again.addr, "/mcp", &token, &[]), "second run");
    again.stop();
}

#[test]
fn token_rotate_on_a_running_gatehouse_applies_at_once() {
    let sandbox = Sandbox::new();
    sandbox.write_config(DEMO_CONFIG);
    let keyring = PrivateKeyring::start();
    let keys = Keys::Private(&keyring);
    let gate = Gate::start(&sandbox, keys, &[], &[]);
    let old = gate.token();
    let session = open_session(gate.addr, &old);

    let rotate = run(&sandbox, keys, &["token", "rotate"]);
    assert!(rotate.status.success(), "{}", stderr(&rotate));
    let shown = token_show(&sandbox, keys);
    let new = shown["token"].as_str().unwrap().to_owned();
    assert_ne!(new, old);
    assert!(is_hex_token(&new), "{new}");
    assert_eq!(shown["source"], "keyring");
    assert_eq!(
        stdout(&rotate),
        format!(
            "Rotated the token; the new one is {}…{}.\n",
            &new[..4],
            &new[60..]
        )
    );
    assert!(
        stderr(&rotate).contains("configured by hand gets 401"),
        "{}",
        stderr(&rotate)
    );

    assert_refused(
        &initialize(gate.addr, "/mcp", &old, &[]),
        401,
        "wrong token",
        "the old token after rotate",
    );
    assert_refused(
        &in_session(
            gate.addr,
            &old,
            &session,
            &json!({"jsonrpc": "2.0", "id": 2, "method": "tools/list"}),
        ),
        401,
        "wrong token",
        "an open session with the old token",
    );
    assert_initialized(
        &initialize(gate.addr, "/mcp", &new, &[]),
        "the new token after rotate",
    );
    gate.stop();
    assert_eq!(
        token_show(&sandbox, keys)["token"],
        new,
        "the keyring holds it"
    );
}

#[test]
fn flag_and_environment_tokens_win_over_the_keyring_and_are_not_rotated() {
    let sandbox = Sandbox::new();
    sandbox.write_config(DEMO_CONFIG);
    let keyring = PrivateKeyring::start();
    let keys = Keys::Private(&keyring);
    let kept = token_show(&sandbox, keys);
    assert_eq!(kept["source"], "keyring");
    let kept = kept["token"].as_str().unwrap().to_owned();

    for (case, extra, environment, token, source) in [
        (
            "--token",
            vec!["--token", FLAG_TOKEN],
            vec![],
            FLAG_TOKEN,
            "flag",
        ),
        (
            "$GATEHOUSE_TOKEN",
            vec![],
            vec![("GATEHOUSE_TOKEN", ENV_TOKEN)],
            ENV_TOKEN,
            "env",
        ),
        (
            "--token over $GATEHOUSE_TOKEN",
            vec!["--token", FLAG_TOKEN],
            vec![("GATEHOUSE_TOKEN", ENV_TOKEN)],
            FLAG_TOKEN,
            "flag",
        ),
    ] {
        let gate = Gate::start(&sandbox, keys, &extra, &environment);
        assert_eq!(gate.shown["token"], token, "{case}: {}", gate.shown);
        assert_eq!(gate.shown["source"], source, "{case}: {}", gate.shown);
        assert_initialized(&initialize(gate.addr, "/mcp", token, &[]), case);
        for loser in [kept.as_str(), FLAG_TOKEN, ENV_TOKEN] {
            if loser != token {
                assert_refused(
                    &initialize(gate.addr, "/mcp", loser, &[]),
                    401,
                    "wrong token",
                    &format!("{case}: a token that lost"),
                );
            }
        }
        let rotate = run(&sandbox, keys, &["token", "rotate"]);
        assert_eq!(rotate.status.code(), Some(1), "{case}: {}", stdout(&rotate));
        assert_eq!(
            stderr(&rotate),
            format!(
                "gatehouse: this Gatehouse uses the token from {source} (`--token` or `$GATEHOUSE_TOKEN`), so there is nothing to rotate; change it where you set it\n"
            ),
            "{case}"
        );
        assert_initialized(
            &initialize(gate.addr, "/mcp", token, &[]),
            &format!("{case}, after the refused rotate"),
        );
        gate.stop();
    }
    assert_eq!(
        token_show(&sandbox, keys)["token"],
        kept,
        "the keyring's token was left alone"
    );

    // An unusable token stops serve with the reason.
    for (case, extra, environment, reason) in [
        (
            "a short --token",
            vec!["--token", "short"],
            vec![],
            "the token from --token is shorter than 16 characters",
        ),
        (
            "a $GATEHOUSE_TOKEN with spaces",
            vec![],
            vec![("GATEHOUSE_TOKEN", "has spaces in the middle")],
            "the token from $GATEHOUSE_TOKEN is not all visible ASCII",
        ),
    ] {
        let mut args = vec!["serve", "--addr", "127.0.0.1:0"];
        args.extend(extra);
        let mut command = gatehouse(&sandbox, keys, &args);
        for (key, value) in environment {
            command.env(key, value);
        }
        let (output, _) = run_within(command, Duration::from_secs(10));
        assert_eq!(output.status.code(), Some(1), "{case}");
        let err = stderr(&output);
        assert!(
            err.lines()
                .any(|line| line.starts_with("gatehouse: ") && line.contains(reason)),
            "{case}: {err}"
        );
    }
}

#[test]
fn token_show_and_rotate_without_a_running_gatehouse_use_the_keyring() {
    let sandbox = Sandbox::new();
    sandbox.write_config(DEMO_CONFIG);
    let keyring = PrivateKeyring::start();
    let keys = Keys::Private(&keyring);

    let shown = run(&sandbox, keys, &["token", "show"]);
    assert!(shown.status.success(), "{}", stderr(&shown));
    let first = stdout(&shown).trim_end().to_owned();
    assert!(is_hex_token(&first), "{first}");
    assert_eq!(
        stderr(&shown),
        "Gatehouse is not running; token from the keyring.\n"
    );
    assert_eq!(
        token_show(&sandbox, keys),
        json!({"token": first, "url": null, "source": "keyring"})
    );

    let rotate = run(&sandbox, keys, &["token", "rotate"]);
    assert!(rotate.status.success(), "{}", stderr(&rotate));
    let second = token_show(&sandbox, keys)["token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_ne!(second, first);
    assert!(is_hex_token(&second), "{second}");
    assert_eq!(
        stdout(&rotate),
        format!(
            "Rotated the token; the new one is {}…{}.\n",
            &second[..4],
            &second[60..]
        )
    );

    // With $GATEHOUSE_TOKEN set it still rotates the keyring, and says
    // that the variable wins.
    let mut command = gatehouse(&sandbox, keys, &["token", "rotate"]);
    command.env("GATEHOUSE_TOKEN", ENV_TOKEN);
    let (noted, _) = run_within(command, Duration::from_secs(20));
    assert!(noted.status.success(), "{}", stderr(&noted));
    assert!(
        stderr(&noted).starts_with("Note: $GATEHOUSE_TOKEN is set"),
        "{}",
        stderr(&noted)
    );
    let third = token_show(&sandbox, keys)["token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(third != second && is_hex_token(&third), "{third}");

    // The next serve uses the rotated token.
    let gate = Gate::start(&sandbox, keys, &[], &[]);
    assert_eq!(gate.token(), third);
    assert_initialized(&initialize(gate.addr, "/mcp", &third, &[]), "rotated");
    for old in [&first, &second] {
        assert_refused(
            &initialize(gate.addr, "/mcp", old, &[]),
            401,
            "wrong token",
            "a token rotated away",
        );
    }
    gate.stop();
}

// --- 5. The token stays with Gatehouse --------------------------------------

/// The pids of `root`'s descendants.
fn descendants(root: u32) -> Vec<u32> {
    let parents: Vec<(u32, u32)> = std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(Result::ok)
        .filter_map(|entry| entry.file_name().to_str()?.parse::<u32>().ok())
        .filter_map(|pid| {
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
            // The command may hold spaces and parentheses: fields follow the last ')'.
            let ppid = stat.rsplit_once(')')?.1.split_whitespace().nth(1)?;
            Some((pid, ppid.parse().ok()?))
        })
        .collect();
    let mut found = vec![root];
    let mut next = 0;
    while next < found.len() {
        let parent = found[next];
        found.extend(
            parents
                .iter()
                .filter(|(_, ppid)| *ppid == parent)
                .map(|(pid, _)| *pid),
        );
        next += 1;
    }
    found.remove(0);
    found
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle.as_bytes())
}

/// A server that records its environment and everything it is sent, then
/// runs the demo server; a session calls one of its tools through the
/// gateway; nowhere on the way is the token.
fn the_token_reaches_no_server(keys: Keys, environment: &[(&str, &str)], sandbox: &Sandbox) {
    let env_file = sandbox.gatehouse_home().join("probe-env");
    let stdin_file = sandbox.gatehouse_home().join("probe-stdin");
    let script = format!(
        "env > '{}'; tee '{}' | '{}' demo-server",
        env_file.display(),
        stdin_file.display(),
        binary().display()
    );
    sandbox.write_config(&format!(
        "[servers.probe]\ncommand = \"sh\"\nargs = [\"-c\", {}]\nenv = {{ PLAIN = \"1\" }}\n",
        serde_json::to_string(&script).unwrap()
    ));
    let mut gate = Gate::start(sandbox, keys, &[], environment);
    gate.served.running("probe");
    let token = gate.token();
    let session = open_session(gate.addr, &token);
    wait_for_tool(gate.addr, &token, &session, "probe__add_note");
    let called = in_session(
        gate.addr,
        &token,
        &session,
        &json!({"jsonrpc": "2.0", "id": 3, "method": "tools/call",
                "params": {"name": "probe__add_note",
                           "arguments": {"title": "hello", "body": "from the gateway"}}}),
    );
    assert_eq!(called.status, 200, "{called:?}");
    let result = called.result(3);
    assert_ne!(result["isError"], true, "{result}");

    // While everything runs: in no process's argv, and in no environment
    // of Gatehouse's children and their children.
    let children = descendants(gate.served.child.id());
    assert!(
        children.len() >= 2,
        "sh, tee and the demo server: {children:?}"
    );
    for entry in std::fs::read_dir("/proc").unwrap().filter_map(Result::ok) {
        if let Ok(argv) = std::fs::read(entry.path().join("cmdline")) {
            assert!(
                !contains(&argv, &token),
                "the token is in the argv of process {}",
                entry.file_name().to_string_lossy()
            );
        }
    }
    for pid in &children {
        if let Ok(environ) = std::fs::read(format!("/proc/{pid}/environ")) {
            assert!(
                !contains(&environ, &token),
                "the token is in the environment of server process {pid}"
            );
            assert!(
                !contains(&environ, "GATEHOUSE_"),
                "a GATEHOUSE_ variable reached server process {pid}"
            );
        }
    }
    let log = gate.stop();

    let seen_env = std::fs::read_to_string(&env_file).unwrap();
    assert!(seen_env.lines().any(|l| l == "PLAIN=1"), "{seen_env}");
    assert!(!seen_env.contains(&token), "the token is in: {seen_env}");
    let names: Vec<&str> = seen_env
        .lines()
        .filter_map(|l| l.split_once('=').map(|(name, _)| name))
        .collect();
    assert!(
        !names.iter().any(|name| name.starts_with("GATEHOUSE_")),
        "{seen_env}"
    );
    let seen_stdin = std::fs::read_to_string(&stdin_file).unwrap();
    assert!(
        seen_stdin.contains("from the gateway"),
        "the call reached the server: {seen_stdin}"
    );
    assert!(
        !seen_stdin.contains(&token),
        "the token was sent: {seen_stdin}"
    );
    assert!(!log.iter().any(|line| line.contains(&token)), "{log:#?}");
    let files = files_below(&sandbox.gatehouse_home());
    assert!(
        files
            .iter()
            .any(|f| f.extension().is_some_and(|e| e == "log")),
        "{files:?}"
    );
    for file in files {
        if let Ok(bytes) = std::fs::read(&file) {
            assert!(
                !contains(&bytes, &token),
                "the token is in {}",
                file.display()
            );
        }
    }
}

#[test]
fn a_keyring_token_never_reaches_a_server_or_a_file_or_an_argv() {
    let sandbox = Sandbox::new();
    let keyring = PrivateKeyring::start();
    the_token_reaches_no_server(Keys::Private(&keyring), &[], &sandbox);
}

#[test]
fn an_environment_token_never_reaches_a_server_or_a_file_or_an_argv() {
    let sandbox = Sandbox::new();
    the_token_reaches_no_server(Keys::Off, &[("GATEHOUSE_TOKEN", ENV_TOKEN)], &sandbox);
}

// --- The bridge when Gatehouse cannot start ------------------------------------

/// A bridge that has to start Gatehouse, which then cannot open its
/// endpoint, says why and exits within seconds: the MCP client is never
/// left waiting on a silent process, and stdout carries nothing but MCP.
#[test]
fn a_bridge_whose_gatehouse_cannot_start_says_why_and_exits_at_once() {
    let sandbox = Sandbox::new();
    sandbox.write_config(DEMO_CONFIG);
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let mut command = gatehouse(&sandbox, Keys::Off, &["bridge"]);
    command
        .env("GATEHOUSE_ADDR", &addr)
        .env("GATEHOUSE_TOKEN", ENV_TOKEN)
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY");
    let (output, took) = run_within(command, Duration::from_secs(20));
    let err = stderr(&output);
    assert_eq!(output.status.code(), Some(1), "{err}");
    assert!(took < Duration::from_secs(10), "took {took:?}");
    assert!(
        output.stdout.is_empty(),
        "stdout is MCP only: {:?}",
        stdout(&output)
    );
    assert!(
        err.contains("Gatehouse could not be started") && err.contains("the port is in use"),
        "no reason in: {err}"
    );
    drop(taken);
}
