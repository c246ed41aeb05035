//! Secrets in the real OS keyring: set from stdin, listed by name, injected
//! into the server that names them and no other, and never recorded.
//! Server names carry the test's pid: the keyring is shared by every test.

use std::io::Write;
use std::process::Stdio;

use crate::util::{Sandbox, Served, files_below, stderr, stdout};

fn unique(name: &str) -> String {
    format!("{name}-{}", std::process::id())
}

fn set_secret(sandbox: &Sandbox, server: &str, key: &str, value: &str) -> std::process::Output {
    let mut child = sandbox
        .command(&["secret", "set", server, key])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(format!("{value}\n").as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn set_list_and_remove_a_secret_without_ever_printing_it() {
    let sandbox = Sandbox::new();
    let server = unique("api");
    sandbox.write_config(&format!(
        "[servers.{server}]\ncommand = \"x\"\nsecret_env = [\"API_KEY\"]\n"
    ));
    let listed = |sandbox: &Sandbox| -> serde_json::Value {
        serde_json::from_str(&stdout(&sandbox.run(&["secret", "list", "--json"]))).unwrap()
    };
    assert_eq!(
        listed(&sandbox),
        serde_json::json!([{"server": server, "key": "API_KEY", "set": false}])
    );

    let set = set_secret(&sandbox, &server, "API_KEY", "sk-live-0123456789");
    assert!(set.status.success(), "{}", stderr(&set));
    assert_eq!(
        stderr(&set),
        format!("Stored API_KEY for {server} in the OS keyring.\n")
    );
    assert_eq!(
        listed(&sandbox),
        serde_json::json!([{"server": server, "key": "API_KEY", "set": true}])
    );
    let table = sandbox.run(&["secret", "list", &server]);
    assert!(stdout(&table).contains("API_KEY") && stdout(&table).contains("set"));
    assert!(!stdout(&table).contains("sk-live"));

    let unlisted = set_secret(&sandbox, &server, "OTHER", "v");
    assert!(
        stderr(&unlisted).contains("OTHER is not in the `secret_env`"),
        "{}",
        stderr(&unlisted)
    );
    assert!(
        sandbox
            .run(&["secret", "remove", &server, "OTHER"])
            .status
            .success()
    );

    assert!(
        sandbox
            .run(&["secret", "remove", &server, "API_KEY"])
            .status
            .success()
    );
    let again = sandbox.run(&["secret", "remove", &server, "API_KEY"]);
    assert_eq!(again.status.code(), Some(1));
    assert_eq!(listed(&sandbox)[0]["set"], false);

    let unknown = set_secret(&sandbox, "nope", "K", "v");
    assert_eq!(
        stderr(&unknown),
        "gatehouse: there is no server `nope` in the config\n"
    );
    let empty = set_secret(&sandbox, &server, "API_KEY", "");
    assert_eq!(
        stderr(&empty),
        "gatehouse: the value is empty; nothing was stored\n"
    );
}

#[test]
fn a_server_gets_its_secret_and_nothing_else_and_the_value_is_never_recorded() {
    let sandbox = Sandbox::new();
    let server = unique("envcheck");
    let env_file = sandbox.gatehouse_home().join("seen-env");
    let value = "sk-live-abcdef-987654";
    sandbox.write_config(&format!(
        "[servers.{server}]\ncommand = \"sh\"\nargs = [\"-c\", \"env > {}; echo \\\"using key $API_KEY\\\" >&2; exit 1\"]\nenv = {{ PLAIN = \"1\" }}\nsecret_env = [\"API_KEY\"]\n",
        env_file.display()
    ));
    assert!(
        set_secret(&sandbox, &server, "API_KEY", value)
            .status
            .success()
    );

    let mut command = sandbox.command(&["serve", "--log-format", "json"]);
    command
        .env("UNRELATED_TOKEN", "leak-me")
        .env("GATEHOUSE_TOKEN", "the-gateway-token");
    let mut served = Served::spawn(command);
    let reason = served.until(|event| {
        (event["fields"]["message"] == "crashed")
            .then(|| event["fields"]["reason"].as_str().map(str::to_owned))
            .flatten()
    });
    assert!(reason.ends_with("stderr: using key ****"), "{reason}");
    // While Gatehouse and its server run: in no process's argv.
    for cmdline in std::fs::read_dir("/proc").unwrap().filter_map(Result::ok) {
        if let Ok(argv) = std::fs::read(cmdline.path().join("cmdline")) {
            assert!(
                !String::from_utf8_lossy(&argv).contains(value),
                "the secret is in the argv of process {}",
                cmdline.file_name().to_string_lossy()
            );
        }
    }
    let config = std::fs::read_to_string(sandbox.config_file()).unwrap();
    assert!(!config.contains(value), "the secret is in gatehouse.toml");
    let (rest, _) = served.terminate();
    assert!(!rest.iter().any(|line| line.contains(value)), "{rest:?}");

    let seen = std::fs::read_to_string(&env_file).unwrap();
    let names: Vec<&str> = seen.lines().filter_map(|l| l.split('=').next()).collect();
    assert!(
        seen.lines().any(|l| l == format!("API_KEY={value}")),
        "{seen}"
    );
    assert!(seen.lines().any(|l| l == "PLAIN=1"), "{seen}");
    for leaked in ["UNRELATED_TOKEN", "GATEHOUSE_TOKEN", "GATEHOUSE_HOME"] {
        assert!(
            !names.contains(&leaked),
            "{leaked} reached the server: {seen}"
        );
    }
    let logs = files_below(&sandbox.gatehouse_home().join("logs"));
    assert!(
        logs.len() >= 2,
        "Gatehouse's log and the server's: {logs:?}"
    );
    for log in logs {
        let text = std::fs::read_to_string(&log).unwrap();
        assert!(!text.contains(value), "the secret is in {}", log.display());
    }
    assert!(
        sandbox
            .run(&["secret", "remove", &server, "API_KEY"])
            .status
            .success()
    );
}

#[test]
fn a_server_whose_secret_is_missing_fails_and_says_how_to_set_it() {
    let sandbox = Sandbox::new();
    let server = unique("nokey");
    sandbox.write_config(&format!(
        "[servers.{server}]\ncommand = \"gatehouse\"\nargs = [\"demo-server\"]\nsecret_env = [\"API_KEY\"]\n"
    ));
    let mut served = Served::start(&sandbox);
    let reason = served.until(|event| {
        (event["fields"]["message"] == "cannot start")
            .then(|| event["fields"]["reason"].as_str().map(str::to_owned))
            .flatten()
    });
    assert_eq!(
        reason,
        format!(
            "the secret `API_KEY` of server `{server}` is not set; set it with `gatehouse secret set {server} API_KEY`"
        )
    );
    served.terminate();
}
