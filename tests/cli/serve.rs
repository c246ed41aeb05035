//! `gatehouse serve` and the tray app's refusal to start without a display.

use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::util::{Sandbox, alive, stderr};

#[test]
fn serve_runs_the_demo_server_logs_as_json_and_stops_it_on_sigterm() {
    let sandbox = Sandbox::new();
    let mut child = sandbox
        .command(&["serve", "--log-format", "json"])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();

    // Read JSON log lines until the demo server reports its tools.
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut demo_pid = None;
    let mut tools = None;
    while tools.is_none() && Instant::now() < deadline {
        let line = lines.next().expect("serve exited early").unwrap();
        let event: serde_json::Value = serde_json::from_str(&line)
            .unwrap_or_else(|err| panic!("not a JSON log line ({err}): {line}"));
        let fields = &event["fields"];
        match fields["message"].as_str() {
            Some("spawned") => {
                assert_eq!(event["span"]["server"], "demo", "{line}");
                demo_pid = fields["pid"].as_u64();
            }
            Some("running") => tools = fields["tools"].as_u64(),
            _ => {}
        }
    }
    assert_eq!(tools, Some(4), "the demo server's four tools");
    let demo_pid = u32::try_from(demo_pid.expect("a spawned line with the pid")).unwrap();
    assert!(alive(demo_pid));

    let status = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    let exit = child.wait().unwrap();
    assert!(exit.success(), "serve exited with {exit}; stderr: {rest:?}");
    assert!(rest.iter().any(|l| l.contains("\"stopped\"")), "{rest:?}");
    assert!(
        !alive(demo_pid),
        "the demo server outlived `gatehouse serve`"
    );

    let logs: Vec<_> = std::fs::read_dir(sandbox.gatehouse_home().join("logs"))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .collect();
    assert_eq!(logs.len(), 1, "{logs:?}");
    let file = std::fs::read_to_string(&logs[0]).unwrap();
    assert!(
        file.contains("server{server=demo}: gatehouse_supervisor::server: running tools=4"),
        "{file}"
    );
    assert!(!file.contains('\u{1b}'), "colour codes in the log file");
}

#[test]
fn the_tray_app_without_a_display_says_what_to_run_instead() {
    let sandbox = Sandbox::new();
    let output = sandbox
        .command(&[])
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(
        stderr(&output),
        "gatehouse: no display (neither DISPLAY nor WAYLAND_DISPLAY is set), so the tray app cannot start; run `gatehouse serve` for the headless core\n"
    );
}
