//! `gatehouse doctor`: the checks a person relies on when something is off.

use crate::util::{Sandbox, stdout};

fn checks(output: &std::process::Output) -> Vec<serde_json::Value> {
    serde_json::from_str(&stdout(output)).unwrap()
}

fn find<'a>(checks: &'a [serde_json::Value], name: &str) -> &'a serde_json::Value {
    checks
        .iter()
        .find(|check| check["name"] == name)
        .unwrap_or_else(|| panic!("no `{name}` check in {checks:#?}"))
}

#[test]
fn doctor_reports_paths_servers_and_a_reachable_keyring() {
    let sandbox = Sandbox::new();
    assert!(sandbox.run(&["server", "list"]).status.success());
    let output = sandbox.run(&["doctor", "--json"]);
    let checks = checks(&output);

    let config = find(&checks, "config");
    assert_eq!(config["status"], "ok");
    assert_eq!(
        config["summary"],
        format!("{} is valid (1 servers)", sandbox.config_file().display())
    );
    assert_eq!(find(&checks, "data dir")["status"], "ok");
    let keyring = find(&checks, "keyring");
    assert_eq!(
        keyring["status"], "ok",
        "run the tests as `make test` does, with a Secret Service: {keyring}"
    );
    let demo = find(&checks, "server demo");
    assert_eq!(
        demo["summary"],
        format!("`gatehouse` runs {}", crate::util::binary().display())
    );
}

#[test]
fn doctor_without_a_keyring_fails_and_says_how_to_fix_it() {
    let sandbox = Sandbox::new();
    let output = sandbox
        .command(&["doctor", "--json"])
        .env("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/bus")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let checks = checks(&output);
    let keyring = find(&checks, "keyring");
    assert_eq!(keyring["status"], "fail");
    assert!(
        keyring["summary"]
            .as_str()
            .unwrap()
            .starts_with("the OS keyring is not reachable: "),
        "{keyring}"
    );
    assert!(
        keyring["fix"]
            .as_str()
            .unwrap()
            .contains("gnome-keyring-daemon --unlock"),
        "{keyring}"
    );
    // A missing config is a warning, not a failure: the first start writes it.
    assert_eq!(find(&checks, "config")["status"], "warn");
}
