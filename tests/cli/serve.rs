//! `gatehouse serve` and the tray app's refusal to start without a display.

use crate::util::{Sandbox, Served, alive, signal, stderr};

#[test]
fn serve_runs_the_demo_server_logs_as_json_and_stops_it_on_sigterm() {
    let sandbox = Sandbox::new();
    let mut served = Served::start(&sandbox);
    let (demo_pid, tools) = served.running("demo");
    assert_eq!(tools, 4, "the demo server's four tools");
    assert!(alive(demo_pid));

    let (rest, exit) = served.terminate();
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
fn a_killed_server_is_restarted_within_the_backoff_with_its_tools() {
    let sandbox = Sandbox::new();
    let mut served = Served::start(&sandbox);
    let (first_pid, _) = served.running("demo");

    signal(first_pid, "KILL");
    let pause_ms = served.until(|event| {
        (event["fields"]["message"] == "crashed")
            .then(|| event["fields"]["restart_in_ms"].as_u64())
            .flatten()
    });
    assert!(
        pause_ms <= 1000,
        "first retry within 1 s, not {pause_ms} ms"
    );
    let (second_pid, tools) = served.running("demo");
    assert_ne!(first_pid, second_pid);
    assert_eq!(tools, 4);

    let (_, exit) = served.terminate();
    assert!(exit.success());
    assert!(!alive(second_pid));
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
