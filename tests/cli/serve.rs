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
        .filter(|path| path.is_file())
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

#[test]
fn a_second_gatehouse_on_the_same_files_is_refused_with_the_first_ones_pid() {
    let sandbox = Sandbox::new();
    let mut served = Served::start(&sandbox);
    served.running("demo");

    let second = sandbox.run(&["serve"]);
    assert_eq!(second.status.code(), Some(1));
    let lock = sandbox.gatehouse_home().join("run/gatehouse.lock");
    assert_eq!(
        stderr(&second),
        format!(
            "gatehouse: Gatehouse is already running (pid {}), using {}; stop it first, or set GATEHOUSE_HOME to run another one elsewhere\n",
            served.child.id(),
            lock.display()
        )
    );
    let (_, exit) = served.terminate();
    assert!(exit.success());
}

#[cfg(target_os = "linux")]
#[test]
fn a_killed_gatehouse_takes_its_servers_along_and_the_next_start_reaps_what_is_left() {
    let sandbox = Sandbox::new();
    let grandchild_file = sandbox.gatehouse_home().join("grandchild.pid");
    // Never answers MCP, ignores SIGTERM and stdin, and has a grandchild:
    // the worst case for orphans.
    let script = format!(
        "trap '' TERM; sleep 300 & echo $! > {}; exec sleep 300",
        grandchild_file.display()
    );
    sandbox.write_config(&format!(
        "[servers.wedged]\ncommand = \"sh\"\nargs = [\"-c\", {}]\n",
        toml_string(&script)
    ));
    let mut served = Served::start(&sandbox);
    let leader = served.until(|event| {
        (event["fields"]["message"] == "spawned")
            .then(|| event["fields"]["pid"].as_u64())
            .flatten()
    });
    let leader = u32::try_from(leader).unwrap();
    let grandchild: u32 = wait_until(|| {
        std::fs::read_to_string(&grandchild_file)
            .ok()?
            .trim()
            .parse()
            .ok()
    });
    let pid_file = sandbox.gatehouse_home().join("run/servers/wedged.pid");
    wait_until(|| pid_file.is_file().then_some(()));

    signal(served.child.id(), "KILL");
    served.child.wait().unwrap();
    // The parent-death signal ends the server itself at once...
    wait_until(|| (!alive(leader)).then_some(()));
    // ...but not a grandchild in its group, which the pid file remembers.
    assert!(alive(grandchild));

    sandbox.write_config("");
    let mut next = Served::start(&sandbox);
    let reaped = next.until(|event| {
        event["fields"]["message"]
            .as_str()
            .filter(|m| m.starts_with("killed a server process group left by a previous Gatehouse"))
            .map(|_| event["fields"]["pgid"].as_u64())
    });
    assert_eq!(reaped, Some(u64::from(leader)));
    wait_until(|| (!alive(grandchild)).then_some(()));
    assert!(!pid_file.exists());
    let (_, exit) = next.terminate();
    assert!(exit.success());
}

fn toml_string(text: &str) -> String {
    format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\""))
}

/// Polls `probe` every 20 ms for up to 10 s.
fn wait_until<T>(mut probe: impl FnMut() -> Option<T>) -> T {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        if let Some(value) = probe() {
            return value;
        }
        assert!(std::time::Instant::now() < deadline, "timed out");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}
