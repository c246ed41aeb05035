//! `gatehouse server …` against a running Gatehouse, over the control socket.

use crate::util::{Sandbox, Served, alive, stderr, stdout};

#[test]
fn without_a_running_gatehouse_control_commands_say_how_to_start_one() {
    let sandbox = Sandbox::new();
    let output = sandbox.run(&["server", "stop", "demo"]);
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(
        stderr(&output),
        format!(
            "gatehouse: Gatehouse is not running (no control socket at {}); start it with `gatehouse` or `gatehouse serve`\n",
            sandbox.gatehouse_home().join("run/control.sock").display()
        )
    );
}

#[test]
fn the_cli_lists_shows_stops_starts_and_restarts_servers_of_a_running_gatehouse() {
    let sandbox = Sandbox::new();
    let mut served = Served::start(&sandbox);
    let (first_pid, _) = served.running("demo");

    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let socket = sandbox.gatehouse_home().join("run/control.sock");
        let mode = std::fs::metadata(&socket).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "the control socket is owner-only");
    }

    let listed: serde_json::Value =
        serde_json::from_str(&stdout(&sandbox.run(&["server", "list", "--json"]))).unwrap();
    assert_eq!(listed[0]["name"], "demo");
    assert_eq!(listed[0]["state"], "running");
    assert_eq!(listed[0]["pid"], first_pid);
    let table = stdout(&sandbox.run(&["server", "list"]));
    assert!(
        table.starts_with(
            "NAME  STATE        TOOLS  COMMAND\ndemo  running          4  gatehouse demo-server\n"
        ),
        "{table}"
    );

    let tools: serde_json::Value = serde_json::from_str(&stdout(
        &sandbox.run(&["server", "tools", "demo", "--json"]),
    ))
    .unwrap();
    let delete = tools
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "delete_note")
        .unwrap();
    assert_eq!(delete["description"], "Deletes a note for good.");
    assert_eq!(delete["annotations"]["destructiveHint"], true);
    assert_eq!(delete["inputSchema"]["required"], serde_json::json!(["id"]));

    let stop = sandbox.run(&["server", "stop", "demo"]);
    assert!(stop.status.success(), "{}", stderr(&stop));
    assert!(!alive(first_pid));
    let shown: serde_json::Value =
        serde_json::from_str(&stdout(&sandbox.run(&["server", "show", "demo", "--json"]))).unwrap();
    assert_eq!(shown["state"], "stopped");

    assert!(sandbox.run(&["server", "start", "demo"]).status.success());
    let (second_pid, tools) = served.running("demo");
    assert_ne!(second_pid, first_pid);
    assert_eq!(tools, 4);

    assert!(sandbox.run(&["server", "restart", "demo"]).status.success());
    let (third_pid, _) = served.running("demo");
    assert_ne!(third_pid, second_pid);
    assert!(!alive(second_pid));

    let unknown = sandbox.run(&["server", "show", "nope"]);
    assert_eq!(unknown.status.code(), Some(1));
    assert_eq!(stderr(&unknown), "gatehouse: there is no server `nope`\n");

    let (_, exit) = served.terminate();
    assert!(exit.success());
    assert!(!alive(third_pid));
}
