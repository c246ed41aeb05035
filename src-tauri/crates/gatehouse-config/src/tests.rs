use std::path::Path;

use crate::{Config, Error, LogFormat, Paths, ProjectDirsSource, ServerName, parse};

const FILE: &str = "/etc/gatehouse.toml";

/// Parses `text` and renders either the servers or the error as one string.
fn check(text: &str, expect: &str) {
    let got = match parse(Path::new(FILE), text) {
        Ok(config) => render(&config),
        Err(err) => format!("error: {err}"),
    };
    assert_eq!(got, expect, "input:\n{text}");
}

fn render(config: &Config) -> String {
    let servers: Vec<String> = config
        .servers
        .iter()
        .map(|s| {
            format!(
                "{} {} {:?} env={:?} secrets={:?} enabled={}",
                s.name, s.command, s.args, s.env, s.secret_env, s.enabled
            )
        })
        .collect();
    format!("ok: {}", servers.join(" | "))
}

#[test]
fn default_config_is_valid_and_has_the_demo_server() {
    check(
        crate::DEFAULT_CONFIG,
        r#"ok: demo gatehouse ["demo-server"] env={} secrets=[] enabled=true"#,
    );
}

#[test]
fn empty_file_is_a_config_without_servers() {
    check("", "ok: ");
}

#[test]
fn servers_are_sorted_and_complete() {
    check(
        r#"
[servers.zeta]
command = "npx"
args = ["-y", "@modelcontextprotocol/server-memory"]
enabled = false

[servers.alpha]
command = "/usr/bin/uvx"
env = { LOG = "1" }
secret_env = ["API_KEY"]
"#,
        r#"ok: alpha /usr/bin/uvx [] env={"LOG": "1"} secrets=["API_KEY"] enabled=true | zeta npx ["-y", "@modelcontextprotocol/server-memory"] env={} secrets=[] enabled=false"#,
    );
}

#[test]
fn syntax_error_names_file_line_and_column() {
    check(
        "[servers.demo]\ncommand = \"gatehouse\nargs = []\n",
        "error: invalid config /etc/gatehouse.toml:2:21: invalid basic string, expected `\"`",
    );
}

#[test]
fn unknown_key_is_reported_where_it_is() {
    check(
        "[servers.demo]\ncomand = \"x\"\n",
        "error: invalid config /etc/gatehouse.toml:2:1: unknown field `comand`, expected one of `command`, `args`, `env`, `secret_env`, `cwd`, `enabled`",
    );
}

#[test]
fn missing_command_is_reported() {
    check(
        "[servers.demo]\nargs = [\"x\"]\n",
        "error: invalid config /etc/gatehouse.toml:1:1: missing field `command`",
    );
}

#[test]
fn bad_server_name_points_at_the_name() {
    check(
        "\n[servers.\"my server\"]\ncommand = \"x\"\n",
        "error: invalid config /etc/gatehouse.toml:2:10: server name `my server` contains ` `; use letters, digits, `_` and `-`",
    );
    check(
        "[servers.a__b]\ncommand = \"x\"\n",
        "error: invalid config /etc/gatehouse.toml:1:10: server name `a__b` cannot contain `__` (it separates server and tool names)",
    );
}

#[test]
fn empty_command_is_refused() {
    check(
        "[servers.x]\ncommand = \"  \"\n",
        "error: invalid config /etc/gatehouse.toml:2:11: server `x` has an empty `command`",
    );
}

#[test]
fn secret_and_plain_env_cannot_overlap() {
    check(
        "[servers.x]\ncommand = \"x\"\nenv = { TOKEN = \"a\" }\nsecret_env = [\"TOKEN\"]\n",
        "error: invalid config /etc/gatehouse.toml:4:15: `TOKEN` is in both `env` and `secret_env` of server `x`; keep it in one",
    );
}

#[test]
fn bad_env_name_is_refused() {
    check(
        "[servers.x]\ncommand = \"x\"\nenv = { \"1A\" = \"a\" }\n",
        "error: invalid config /etc/gatehouse.toml:3:9: `1A` is not a valid environment variable name (letters, digits and `_`, not starting with a digit)",
    );
}

#[test]
fn log_settings_are_read_and_checked() {
    let config = parse(
        Path::new(FILE),
        "[log]\nlevel = \"debug\"\nformat = \"json\"\n",
    )
    .unwrap();
    assert_eq!(config.log.level.as_deref(), Some("debug"));
    assert_eq!(config.log.format, Some(LogFormat::Json));
    check(
        "[log]\nformat = \"xml\"\n",
        "error: invalid config /etc/gatehouse.toml:2:10: unknown log format `xml`, expected `text` or `json`",
    );
}

#[test]
fn server_names_have_limits() {
    assert!(ServerName::new(&"a".repeat(64)).is_ok());
    assert!(ServerName::new(&"a".repeat(65)).is_err());
    assert!(ServerName::new("-x").is_err());
    assert!(ServerName::new("").is_err());
    assert!(ServerName::new("fs_2-home").is_ok());
}

#[test]
fn first_run_writes_the_default_once_and_keeps_edits() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nested/gatehouse.toml");
    let (config, created) = crate::load_or_init(&path).unwrap();
    assert!(created);
    assert_eq!(config.servers[0].name.as_str(), "demo");
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        crate::DEFAULT_CONFIG
    );

    std::fs::write(&path, "# mine\n").unwrap();
    let (config, created) = crate::load_or_init(&path).unwrap();
    assert!(!created);
    assert!(config.servers.is_empty());
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "# mine\n");
}

#[test]
fn invalid_file_is_never_overwritten() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("gatehouse.toml");
    std::fs::write(&path, "[servers.x\n").unwrap();
    let err = crate::load_or_init(&path).unwrap_err();
    assert!(matches!(err, Error::Invalid { .. }), "{err}");
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "[servers.x\n");
}

#[test]
fn gatehouse_home_relocates_everything() {
    let paths = Paths::resolve(&ProjectDirsSource {
        gatehouse_home: Some("/tmp/gh".into()),
        config_override: None,
    })
    .unwrap();
    assert_eq!(paths, Paths::under(Path::new("/tmp/gh")));
    assert_eq!(paths.config_file, Path::new("/tmp/gh/gatehouse.toml"));
    assert_eq!(paths.logs_dir, Path::new("/tmp/gh/logs"));

    let paths = Paths::resolve(&ProjectDirsSource {
        gatehouse_home: Some("/tmp/gh".into()),
        config_override: Some("/elsewhere/g.toml".into()),
    })
    .unwrap();
    assert_eq!(paths.config_file, Path::new("/elsewhere/g.toml"));
    assert_eq!(paths.data_dir, Path::new("/tmp/gh/data"));
}

mod edits {
    use std::path::Path;

    use crate::edit::{add_server, remove_server, write_atomically};
    use crate::{ServerName, ServerSpec};

    const FILE: &str = "/etc/gatehouse.toml";

    fn memory() -> ServerSpec {
        ServerSpec {
            name: ServerName::new("memory").unwrap(),
            command: "npx".to_owned(),
            args: vec![
                "-y".to_owned(),
                "@modelcontextprotocol/server-memory".to_owned(),
            ],
            env: [("MEMORY_FILE_PATH".to_owned(), "/tmp/m.json".to_owned())].into(),
            secret_env: vec!["API_KEY".to_owned()],
            cwd: None,
            enabled: true,
        }
    }

    #[test]
    fn adding_keeps_comments_and_other_servers_byte_for_byte() {
        let before = crate::DEFAULT_CONFIG;
        let after = add_server(Path::new(FILE), before, &memory()).unwrap();
        assert!(
            after.starts_with(before),
            "the original text is kept as it was:\n{after}"
        );
        assert_eq!(
            &after[before.len()..],
            "\n[servers.memory]\ncommand = \"npx\"\nargs = [\"-y\", \"@modelcontextprotocol/server-memory\"]\nenv = { MEMORY_FILE_PATH = \"/tmp/m.json\" }\nsecret_env = [\"API_KEY\"]\n"
        );
        let config = crate::parse(Path::new(FILE), &after).unwrap();
        assert_eq!(config.servers[1], memory());
    }

    #[test]
    fn adding_to_an_empty_file_and_removing_again_round_trips() {
        let added = add_server(Path::new(FILE), "", &memory()).unwrap();
        assert!(added.starts_with("[servers.memory]\n"), "{added}");
        assert_eq!(
            remove_server(Path::new(FILE), &added, "memory").unwrap(),
            ""
        );

        let with_demo = add_server(Path::new(FILE), crate::DEFAULT_CONFIG, &memory()).unwrap();
        assert_eq!(
            remove_server(Path::new(FILE), &with_demo, "memory").unwrap(),
            crate::DEFAULT_CONFIG
        );
    }

    #[test]
    fn duplicates_unknown_names_and_broken_files_are_refused() {
        let err = add_server(
            Path::new(FILE),
            crate::DEFAULT_CONFIG,
            &ServerSpec {
                name: ServerName::new("demo").unwrap(),
                ..memory()
            },
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid config /etc/gatehouse.toml: a server named `demo` already exists"
        );
        let err = remove_server(Path::new(FILE), "", "nope").unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid config /etc/gatehouse.toml: there is no server `nope` in the config"
        );
        let err = add_server(Path::new(FILE), "[servers.x\n", &memory()).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("invalid config /etc/gatehouse.toml:1:"),
            "{err}"
        );
    }

    #[cfg(unix)]
    #[test]
    fn atomic_writes_keep_the_file_mode() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("gatehouse.toml");
        std::fs::write(&path, "old").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();
        write_atomically(&path, "new").unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "new");
        assert_eq!(
            std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o640
        );
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            1,
            "no temporary file left"
        );
    }
}

#[test]
fn the_gateway_table_is_validated_with_locations() {
    let config = parse(
        Path::new(FILE),
        "[gateway]\naddr = \"127.0.0.1:9000\"\nallowed_origins = [\"http://localhost:6274\"]\n",
    )
    .unwrap();
    assert_eq!(config.gateway.addr, Some("127.0.0.1:9000".parse().unwrap()));
    assert_eq!(config.gateway.allowed_origins, ["http://localhost:6274"]);

    let err = parse(Path::new(FILE), "[gateway]\naddr = \"localhost\"\n")
        .unwrap_err()
        .to_string();
    assert!(
        err.contains(":2:8") && err.contains("127.0.0.1:8737"),
        "{err}"
    );
    let err = parse(
        Path::new(FILE),
        "[gateway]\nallowed_origins = [\"localhost:3000\"]\n",
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("not an origin"), "{err}");
    let err = parse(Path::new(FILE), "[gateway]\nport = 1\n")
        .unwrap_err()
        .to_string();
    assert!(err.contains("port"), "{err}");
}
