//! `gatehouse server add|remove` and hand edits of gatehouse.toml, applied
//! to a running Gatehouse without touching the servers that did not change.

use crate::util::{Sandbox, Served, alive, stderr};

fn reloaded(served: &mut Served) -> serde_json::Value {
    served.until(|event| {
        (event["fields"]["message"] == "config reloaded").then(|| event["fields"].clone())
    })
}

#[test]
fn servers_added_removed_and_edited_while_running_touch_only_themselves() {
    let sandbox = Sandbox::new();
    let mut served = Served::start(&sandbox);
    let (demo_pid, _) = served.running("demo");

    let add = sandbox.run(&[
        "server",
        "add",
        "notes2",
        "--env",
        "COLOR=blue",
        "--",
        "gatehouse",
        "demo-server",
    ]);
    assert!(add.status.success(), "{}", stderr(&add));
    assert_eq!(
        stderr(&add),
        format!("Added notes2 to {}.\n", sandbox.config_file().display())
    );
    let text = std::fs::read_to_string(sandbox.config_file()).unwrap();
    assert!(
        text.starts_with("# Gatehouse configuration."),
        "comments kept: {text}"
    );
    assert!(text.ends_with("[servers.notes2]\ncommand = \"gatehouse\"\nargs = [\"demo-server\"]\nenv = { COLOR = \"blue\" }\n"), "{text}");

    assert_eq!(reloaded(&mut served)["added"], "[\"notes2\"]");
    let (notes2_pid, tools) = served.running("notes2");
    assert_eq!(tools, 4);
    assert!(alive(demo_pid), "demo was not touched");

    // A hand edit that changes only demo: demo restarts, notes2 does not.
    let edited = text.replace(
        "args = [\"demo-server\"]\n\n[servers.notes2]",
        "args = [\"demo-server\"]\nenv = { EDITED = \"1\" }\n\n[servers.notes2]",
    );
    assert_ne!(edited, text);
    std::fs::write(sandbox.config_file(), &edited).unwrap();
    assert_eq!(reloaded(&mut served)["changed"], "[\"demo\"]");
    let (new_demo_pid, _) = served.running("demo");
    assert_ne!(new_demo_pid, demo_pid);
    assert!(!alive(demo_pid));
    assert!(alive(notes2_pid), "notes2 was not touched");

    // A broken edit changes nothing.
    std::fs::write(sandbox.config_file(), "[servers.demo\n").unwrap();
    let warning = served.until(|event| {
        (event["fields"]["message"] == "config not applied; the servers keep running as they were")
            .then(|| event["fields"]["err"].as_str().map(str::to_owned))
            .flatten()
    });
    assert!(warning.contains("gatehouse.toml:1:"), "{warning}");
    assert!(alive(new_demo_pid) && alive(notes2_pid));

    std::fs::write(sandbox.config_file(), &edited).unwrap();
    let remove = sandbox.run(&["server", "remove", "notes2"]);
    assert!(remove.status.success(), "{}", stderr(&remove));
    served.until(|event| {
        (event["fields"]["message"] == "config reloaded"
            && event["fields"]["removed"] == "[\"notes2\"]")
            .then_some(())
    });
    assert!(!alive(notes2_pid));
    assert!(alive(new_demo_pid));

    let (_, exit) = served.terminate();
    assert!(exit.success());
}

#[test]
fn a_bad_server_add_is_refused_and_leaves_the_file_as_it_was() {
    let sandbox = Sandbox::new();
    assert!(sandbox.run(&["server", "list"]).status.success());
    let before = std::fs::read_to_string(sandbox.config_file()).unwrap();
    for (args, message) in [
        (
            &["server", "add", "bad name", "--", "x"][..],
            "gatehouse: server name `bad name` contains ` `; use letters, digits, `_` and `-`\n"
                .to_owned(),
        ),
        (
            &["server", "add", "demo", "--", "x"][..],
            format!(
                "gatehouse: invalid config {}: a server named `demo` already exists\n",
                sandbox.config_file().display()
            ),
        ),
        (
            &["server", "add", "ok", "--env", "NOEQUALS", "--", "x"][..],
            "gatehouse: --env takes KEY=VALUE, not `NOEQUALS`\n".to_owned(),
        ),
        (
            &["server", "remove", "nope"][..],
            format!(
                "gatehouse: invalid config {}: there is no server `nope` in the config\n",
                sandbox.config_file().display()
            ),
        ),
    ] {
        let output = sandbox.run(args);
        assert_eq!(output.status.code(), Some(1), "{args:?}");
        assert_eq!(stderr(&output), message, "{args:?}");
        assert_eq!(
            std::fs::read_to_string(sandbox.config_file()).unwrap(),
            before
        );
    }
}
