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

#[cfg(unix)]
#[test]
fn commands_are_found_on_the_login_shells_path_as_a_gui_launch_needs() {
    use std::os::unix::fs::PermissionsExt;

    let sandbox = Sandbox::new();
    let tools = sandbox.gatehouse_home().join("nvm-bin");
    std::fs::create_dir_all(&tools).unwrap();
    let tool = tools.join("mytool");
    std::fs::write(&tool, "#!/bin/sh\nexit 0\n").unwrap();
    std::fs::set_permissions(&tool, std::fs::Permissions::from_mode(0o755)).unwrap();
    // A login shell whose profile prints a banner, as many do.
    let shell = sandbox.gatehouse_home().join("fake-shell");
    std::fs::write(
        &shell,
        format!(
            "#!/bin/sh\necho 'Welcome back!'\nprintf '__GATEHOUSE_PATH__%s__GATEHOUSE_PATH__' '/usr/bin:/bin:{}'\n",
            tools.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&shell, std::fs::Permissions::from_mode(0o755)).unwrap();
    sandbox.write_config("[servers.t]\ncommand = \"mytool\"\n");

    let output = sandbox
        .command(&["doctor", "--json"])
        .env("SHELL", &shell)
        .env("PATH", "/usr/bin:/bin")
        .output()
        .unwrap();
    let checks = checks(&output);
    assert_eq!(
        find(&checks, "server t")["summary"],
        format!("`mytool` runs {}", tool.display())
    );
    let path = find(&checks, "PATH")["summary"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        path.ends_with(&format!(
            ":{} (1 of its directories come from your login shell)",
            tools.display()
        )),
        "{path}"
    );
}

#[test]
fn doctor_says_when_the_endpoint_port_is_taken_and_how_to_fix_it() {
    let sandbox = Sandbox::new();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap();
    sandbox.write_config(&format!("[gateway]\naddr = \"{addr}\"\n"));
    let mut command = sandbox.command(&["doctor", "--json"]);
    command.env_remove("GATEHOUSE_ADDR");
    let output = command.output().unwrap();
    let endpoint = find(&checks(&output), "endpoint").clone();
    assert_eq!(endpoint["status"], "fail", "{endpoint}");
    assert_eq!(
        endpoint["summary"],
        format!("{addr} is in use by another program, so the MCP endpoint cannot start")
    );
    assert!(
        endpoint["fix"].as_str().unwrap().contains("[gateway] addr"),
        "{endpoint}"
    );
    assert!(!output.status.success(), "a failed check fails the command");

    drop(taken);
    let output = command.output().unwrap();
    let endpoint = find(&checks(&output), "endpoint").clone();
    assert_eq!(endpoint["status"], "ok", "{endpoint}");
    assert_eq!(
        endpoint["summary"],
        format!("{addr} is free for the MCP endpoint")
    );
}
