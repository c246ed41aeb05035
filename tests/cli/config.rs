//! First run, config errors, and the precedence of flags, environment and file.

use crate::util::{Sandbox, stderr, stdout};

#[test]
fn first_run_writes_the_default_config_with_the_demo_server() {
    let sandbox = Sandbox::new();
    let output = sandbox.run(&["server", "list", "--json"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let servers: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(
        servers,
        serde_json::json!([{
            "name": "demo", "enabled": true, "command": "gatehouse",
            "args": ["demo-server"], "env": [], "secret_env": []
        }])
    );
    let written = std::fs::read_to_string(sandbox.config_file()).unwrap();
    assert!(
        written.starts_with("# Gatehouse configuration."),
        "{written}"
    );

    let table = stdout(&sandbox.run(&["server", "list"]));
    assert_eq!(
        table,
        "NAME  ENABLED   COMMAND\ndemo  yes       gatehouse demo-server\n"
    );
}

#[test]
fn an_invalid_config_is_refused_with_file_line_and_problem_and_left_untouched() {
    let sandbox = Sandbox::new();
    let text = "[servers.demo]\ncommand = \"gatehouse\"\nargz = [\"demo-server\"]\n";
    sandbox.write_config(text);
    for args in [&["server", "list"][..], &["serve"][..]] {
        let output = sandbox.run(args);
        assert_eq!(output.status.code(), Some(1), "{args:?}");
        let expected = format!(
            "gatehouse: invalid config {}:3:1: unknown field `argz`, expected one of `command`, `args`, `env`, `secret_env`, `cwd`, `enabled`, `tools`\n",
            sandbox.config_file().display()
        );
        assert_eq!(stderr(&output), expected, "{args:?}");
        assert_eq!(
            std::fs::read_to_string(sandbox.config_file()).unwrap(),
            text
        );
    }
}

#[test]
fn the_config_flag_wins_over_the_environment() {
    let sandbox = Sandbox::new();
    let elsewhere = sandbox.gatehouse_home().join("other.toml");
    std::fs::create_dir_all(sandbox.gatehouse_home()).unwrap();
    std::fs::write(&elsewhere, "[servers.from-flag]\ncommand = \"x\"\n").unwrap();
    std::fs::write(
        sandbox.gatehouse_home().join("env.toml"),
        "[servers.from-env]\ncommand = \"x\"\n",
    )
    .unwrap();

    let mut command = sandbox.command(&["server", "list", "--config"]);
    command.arg(&elsewhere).env(
        "GATEHOUSE_CONFIG",
        sandbox.gatehouse_home().join("env.toml"),
    );
    let flag = command.output().unwrap();
    assert!(stdout(&flag).contains("from-flag"), "{}", stdout(&flag));

    let mut command = sandbox.command(&["server", "list"]);
    command.env(
        "GATEHOUSE_CONFIG",
        sandbox.gatehouse_home().join("env.toml"),
    );
    let env = command.output().unwrap();
    assert!(stdout(&env).contains("from-env"), "{}", stdout(&env));
}

#[test]
fn log_level_flag_wins_over_environment_which_wins_over_the_file() {
    let sandbox = Sandbox::new();
    // The file's level is broken, so anything that reads it fails loudly.
    sandbox.write_config("[log]\nlevel = \"[not a filter\"\n");

    let from_file = sandbox.run(&["serve"]);
    assert_eq!(from_file.status.code(), Some(1));
    assert!(
        stderr(&from_file).starts_with("gatehouse: invalid log level `[not a filter`"),
        "{}",
        stderr(&from_file)
    );

    // The environment wins over the file: now the environment's bad value
    // is the one reported.
    let mut command = sandbox.command(&["serve"]);
    command.env("GATEHOUSE_LOG", "[from env");
    let from_env = command.output().unwrap();
    assert!(
        stderr(&from_env).starts_with("gatehouse: invalid log level `[from env`"),
        "{}",
        stderr(&from_env)
    );

    // And the flag wins over both.
    let mut command = sandbox.command(&["--log-level", "[from flag", "serve"]);
    command.env("GATEHOUSE_LOG", "[from env");
    let from_flag = command.output().unwrap();
    assert!(
        stderr(&from_flag).starts_with("gatehouse: invalid log level `[from flag`"),
        "{}",
        stderr(&from_flag)
    );
}
