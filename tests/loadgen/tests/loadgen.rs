//! `loadgen` and `echo-server` as the benchmark will run them: the echo
//! server on its own, loadgen over stdio against it, and loadgen over
//! Streamable HTTP against a real `gatehouse serve` that serves it, one
//! server's endpoint and the aggregate one, and with a wrong token.
//!
//! The Gatehouse tests need the workspace's `gatehouse` binary next to
//! loadgen's (`target/debug/gatehouse`): `cargo build` (or `cargo test
//! --workspace`) builds it. They give Gatehouse its own `$GATEHOUSE_HOME`,
//! `$HOME` and token, and a session bus that leads nowhere, so they never
//! touch a keyring or another test's files. No timing is asserted.

use std::io::{BufRead as _, BufReader, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

const LOADGEN: &str = env!("CARGO_BIN_EXE_loadgen");
const ECHO_SERVER: &str = env!("CARGO_BIN_EXE_echo-server");
const TOKEN: &str = "0123456789abcdef0123456789abcdef";

fn loadgen(args: &[&str]) -> Output {
    Command::new(LOADGEN)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run loadgen")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Runs loadgen with `--json`, which must succeed, and returns its report.
fn report(args: &[&str]) -> Value {
    let mut args = args.to_vec();
    args.insert(0, "--json");
    let output = loadgen(&args);
    assert!(
        output.status.success(),
        "loadgen {args:?} exited with {}\nstdout: {}\nstderr: {}",
        output.status,
        text(&output.stdout),
        text(&output.stderr)
    );
    serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|err| panic!("not JSON ({err}): {}", text(&output.stdout)))
}

/// The report shows every call made and none failed.
fn assert_all_ok(report: &Value, sessions: u64, calls: u64) {
    assert_eq!(report["concurrency"], sessions, "{report:#}");
    assert_eq!(report["calls"], sessions * calls, "{report:#}");
    assert_eq!(report["ok"], sessions * calls, "{report:#}");
    assert_eq!(report["errors"], 0, "{report:#}");
    assert_eq!(report["warmup_errors"], 0, "{report:#}");
    assert_eq!(report["first_error"], Value::Null, "{report:#}");
    assert_eq!(
        report["latency_ms"]["count"],
        sessions * calls,
        "{report:#}"
    );
    assert_eq!(report["handshake_ms"]["count"], sessions, "{report:#}");
    assert!(
        report["throughput_per_s"].as_f64().unwrap() > 0.0,
        "{report:#}"
    );
    let p50 = report["latency_ms"]["p50"].as_f64().unwrap();
    let p99 = report["latency_ms"]["p99"].as_f64().unwrap();
    let max = report["latency_ms"]["max"].as_f64().unwrap();
    assert!(0.0 < p50 && p50 <= p99 && p99 <= max, "{report:#}");
}

// --- The echo server ------------------------------------------------------

/// A raw JSON-RPC conversation with one echo-server.
struct Conversation {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
}

impl Conversation {
    fn start() -> Conversation {
        let mut child = Command::new(ECHO_SERVER)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("start echo-server");
        let stdin = child.stdin.take().unwrap();
        let stdout = BufReader::new(child.stdout.take().unwrap());
        Conversation {
            child,
            stdin,
            stdout,
        }
    }

    fn send(&mut self, message: &Value) {
        writeln!(self.stdin, "{message}").unwrap();
    }

    fn receive(&mut self) -> Value {
        let mut line = String::new();
        self.stdout.read_line(&mut line).unwrap();
        serde_json::from_str(&line).unwrap_or_else(|err| panic!("not JSON ({err}): {line:?}"))
    }

    fn request(&mut self, id: u64, method: &str, params: Value) -> Value {
        self.send(&json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        let answer = self.receive();
        assert_eq!(answer["id"], id, "{answer}");
        answer
    }
}

#[test]
fn echo_server_offers_one_read_only_tool_that_echoes() {
    let mut server = Conversation::start();
    let init = server.request(
        1,
        "initialize",
        json!({"protocolVersion": "2025-06-18", "capabilities": {},
               "clientInfo": {"name": "test", "version": "1"}}),
    );
    assert_eq!(init["result"]["protocolVersion"], "2025-06-18", "{init}");
    server.send(&json!({"jsonrpc": "2.0", "method": "notifications/initialized"}));

    let list = server.request(2, "tools/list", json!({}));
    let tools = list["result"]["tools"].as_array().unwrap();
    assert_eq!(tools.len(), 1, "{list}");
    assert_eq!(tools[0]["name"], "echo");
    assert_eq!(tools[0]["inputSchema"]["required"], json!(["message"]));
    let annotations = &tools[0]["annotations"];
    assert_eq!(annotations["readOnlyHint"], true, "{annotations}");
    assert_eq!(annotations["destructiveHint"], false, "{annotations}");
    assert_eq!(annotations["idempotentHint"], true, "{annotations}");
    assert_eq!(annotations["openWorldHint"], false, "{annotations}");

    for message in ["hello", "", "ünïcode \"quoted\"\nnew line"] {
        let call = server.request(
            3,
            "tools/call",
            json!({"name": "echo", "arguments": {"message": message}}),
        );
        assert_eq!(
            call["result"]["content"],
            json!([{"type": "text", "text": message}]),
            "{call}"
        );
        assert_ne!(call["result"]["isError"], true, "{call}");
    }

    // Closing stdin ends it, as an MCP client ends a stdio server.
    drop(server.stdin);
    let status = server.child.wait().unwrap();
    assert!(status.success(), "echo-server exited with {status}");
}

// --- loadgen over stdio -----------------------------------------------------

#[test]
fn stdio_sessions_make_every_call() {
    let report = report(&[
        "--stdio",
        "--concurrency",
        "3",
        "--calls",
        "40",
        "--warmup",
        "5",
        "--",
        ECHO_SERVER,
    ]);
    assert_all_ok(&report, 3, 40);
    assert_eq!(report["transport"], "stdio");
    assert_eq!(report["protocol_version"], "2025-06-18");
}

/// The floor endpoint answers a real session's calls as the echo server
/// would, so loadgen counts them all as good.
#[test]
fn http_floor_answers_every_call_like_the_echo_server() {
    let mut floor = Command::new(env!("CARGO_BIN_EXE_http-floor"))
        .args(["--port", "0"])
        .stdout(Stdio::piped())
        .spawn()
        .expect("start http-floor");
    let mut url = String::new();
    BufReader::new(floor.stdout.take().expect("stdout"))
        .read_line(&mut url)
        .expect("its address");
    let report = report(&["--url", url.trim(), "-c", "4", "-n", "50", "--warmup", "5"]);
    floor.kill().expect("stop http-floor");
    floor.wait().expect("reap http-floor");
    assert_all_ok(&report, 4, 50);
    assert_eq!(report["transport"], "http");
}

#[test]
fn failing_calls_are_counted_and_fail_the_run() {
    // The echo server has no tool `nope`: every call is a JSON-RPC error.
    let output = loadgen(&[
        "--json",
        "--stdio",
        "-c",
        "2",
        "-n",
        "10",
        "--warmup",
        "0",
        "--tool",
        "nope",
        "--",
        ECHO_SERVER,
    ]);
    assert_eq!(output.status.code(), Some(2), "{}", text(&output.stderr));
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["errors"], 20, "{report:#}");
    assert_eq!(report["ok"], 0, "{report:#}");
    let first = report["first_error"].as_str().unwrap();
    assert!(first.starts_with("JSON-RPC error -32602"), "{first}");
}

#[test]
fn bad_options_are_refused_clearly() {
    let cases: &[(&[&str], &str)] = &[
        (
            &["--stdio", "--args", "[1]", "--", ECHO_SERVER],
            "--args must be a JSON object",
        ),
        (&["--url", "https://127.0.0.1:1/mcp"], "only http://"),
        (
            &["--url", "http://127.0.0.1:1/mcp", "-H", "no colon"],
            "want 'Name: value'",
        ),
        (
            &["--stdio", "--", "/nonexistent/echo-server"],
            "cannot start",
        ),
    ];
    for (args, message) in cases {
        let output = loadgen(args);
        assert_eq!(output.status.code(), Some(1), "{args:?}");
        let stderr = text(&output.stderr);
        assert!(stderr.contains(message), "{args:?}: {stderr}");
    }
}

// --- loadgen against gatehouse serve ----------------------------------------

/// `gatehouse` from the same build as loadgen.
fn gatehouse_binary() -> PathBuf {
    let dir = Path::new(LOADGEN).parent().expect("loadgen's directory");
    let binary = dir.join(format!("gatehouse{}", std::env::consts::EXE_SUFFIX));
    assert!(
        binary.is_file(),
        "{} is missing: run `cargo build` in the workspace first (these tests run Gatehouse's own binary)",
        binary.display()
    );
    binary
}

/// A `gatehouse serve` serving one echo-server as `echo`; SIGTERM on drop.
struct Gatehouse {
    dir: tempfile::TempDir,
    child: Option<Child>,
    url: String,
}

impl Gatehouse {
    fn start() -> Gatehouse {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("home")).unwrap();
        std::fs::create_dir_all(dir.path().join("gatehouse")).unwrap();
        let config = format!(
            "[servers.echo]\ncommand = {}\n",
            toml_string(Path::new(ECHO_SERVER))
        );
        std::fs::write(dir.path().join("gatehouse/gatehouse.toml"), config).unwrap();
        let log = std::fs::File::create(dir.path().join("serve.log")).unwrap();
        let child = Gatehouse::command(dir.path(), &["serve", "--addr", "127.0.0.1:0"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start gatehouse serve");
        let mut gatehouse = Gatehouse {
            dir,
            child: Some(child),
            url: String::new(),
        };
        gatehouse.url = gatehouse.wait_until_ready();
        gatehouse
    }

    /// `gatehouse ARGS…` in this instance's environment.
    fn command(dir: &Path, args: &[&str]) -> Command {
        let mut command = Command::new(gatehouse_binary());
        command
            .args(args)
            .env("GATEHOUSE_HOME", dir.join("gatehouse"))
            .env("HOME", dir.join("home"))
            .env("GATEHOUSE_TOKEN", TOKEN)
            .env_remove("GATEHOUSE_CONFIG")
            .env_remove("GATEHOUSE_ADDR")
            .env_remove("GATEHOUSE_LOG")
            // The token comes from the environment; no keyring is needed,
            // and none may be touched.
            .env(
                "DBUS_SESSION_BUS_ADDRESS",
                format!("unix:path={}", dir.join("no-such-bus").display()),
            );
        command
    }

    fn run(&self, args: &[&str]) -> Output {
        Gatehouse::command(self.dir.path(), args)
            .stdin(Stdio::null())
            .output()
            .expect("run gatehouse")
    }

    /// Polls `token show --json` for the URL, then `server list --json`
    /// until `echo` is running; returns the URL.
    fn wait_until_ready(&mut self) -> String {
        let deadline = Instant::now() + Duration::from_secs(30);
        let mut url = None;
        loop {
            if let Some(status) = self.child.as_mut().unwrap().try_wait().unwrap() {
                panic!("gatehouse serve exited ({status}): {}", self.log());
            }
            if url.is_none() {
                let output = self.run(&["token", "show", "--json"]);
                if output.status.success() {
                    let shown: Value = serde_json::from_slice(&output.stdout).unwrap();
                    url = shown["url"].as_str().map(str::to_owned);
                }
            }
            if let Some(url) = &url {
                let output = self.run(&["server", "list", "--json"]);
                if output.status.success() {
                    let servers: Value = serde_json::from_slice(&output.stdout).unwrap();
                    let running = servers.as_array().is_some_and(|servers| {
                        servers
                            .iter()
                            .any(|server| server["name"] == "echo" && server["state"] == "running")
                    });
                    if running {
                        return url.clone();
                    }
                }
            }
            assert!(
                Instant::now() < deadline,
                "gatehouse did not get ready (url {url:?}): {}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("serve.log")).unwrap_or_default()
    }
}

impl Drop for Gatehouse {
    fn drop(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        drop(
            Command::new("kill")
                .args(["-TERM", &child.id().to_string()])
                .status(),
        );
        let deadline = Instant::now() + Duration::from_secs(10);
        while child.try_wait().ok().flatten().is_none() {
            if Instant::now() > deadline {
                drop(child.kill());
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        drop(child.wait());
    }
}

/// `path` as a TOML basic string.
fn toml_string(path: &Path) -> String {
    // JSON string escapes are valid TOML basic-string escapes.
    serde_json::to_string(&path.display().to_string()).unwrap()
}

#[test]
fn http_sessions_through_gatehouse_make_every_call() {
    let gatehouse = Gatehouse::start();
    let bearer = format!("Authorization: Bearer {TOKEN}");

    // One server's endpoint, under the server's own tool names.
    let url = format!("{}/echo", gatehouse.url);
    let one = report(&[
        "--url", &url, "--header", &bearer, "-c", "4", "-n", "50", "--warmup", "5",
    ]);
    assert_all_ok(&one, 4, 50);
    assert_eq!(one["transport"], "http");
    assert_eq!(one["streams_left_open"], 0, "{one:#}");

    // The aggregate endpoint, where tools are namespaced `server__tool`.
    let all = report(&[
        "--url",
        &gatehouse.url,
        "--header",
        &bearer,
        "--tool",
        "echo__echo",
        "-c",
        "4",
        "-n",
        "50",
        "--warmup",
        "5",
        "--threads",
        "2",
    ]);
    assert_all_ok(&all, 4, 50);
    assert_eq!(all["client_threads"], 2, "{all:#}");
}

#[test]
fn a_wrong_token_stops_loadgen_with_a_clear_message() {
    let gatehouse = Gatehouse::start();
    let url = format!("{}/echo", gatehouse.url);
    for (headers, hint) in [
        (
            vec!["--header", "Authorization: Bearer not-the-token"],
            "check the token",
        ),
        (vec![], "add --header 'Authorization: Bearer TOKEN'"),
    ] {
        let mut args = vec!["--url", url.as_str(), "-n", "5"];
        args.extend(headers);
        let output = loadgen(&args);
        assert_eq!(output.status.code(), Some(1), "{args:?}");
        let stderr = text(&output.stderr);
        assert!(stderr.contains("HTTP 401"), "{stderr}");
        assert!(stderr.contains(hint), "{stderr}");
        assert!(
            output.stdout.is_empty(),
            "no report: {}",
            text(&output.stdout)
        );
    }
}
