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
        "error: invalid config /etc/gatehouse.toml:2:1: unknown field `comand`, expected one of `command`, `args`, `env`, `secret_env`, `cwd`, `enabled`, `tools`",
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

mod approvals {
    use std::collections::BTreeMap;
    use std::path::Path;
    use std::time::Duration;

    use crate::{ApprovalSettings, Config, Error, Rule, parse};

    const FILE: &str = "/etc/gatehouse.toml";

    fn config(text: &str) -> Config {
        parse(Path::new(FILE), text).unwrap_or_else(|err| panic!("{err}\ninput:\n{text}"))
    }

    fn error(text: &str) -> String {
        parse(Path::new(FILE), text).expect_err(text).to_string()
    }

    fn rules(entries: &[(&str, &[(&str, Rule)])]) -> BTreeMap<String, BTreeMap<String, Rule>> {
        entries
            .iter()
            .map(|(server, tools)| {
                let tools = tools
                    .iter()
                    .map(|(tool, rule)| ((*tool).to_owned(), *rule))
                    .collect();
                ((*server).to_owned(), tools)
            })
            .collect()
    }

    #[test]
    fn an_empty_file_and_the_default_file_have_the_default_settings() {
        let defaults = ApprovalSettings {
            timeout: Duration::from_secs(120),
            ask_non_read_only: false,
            retention_days: 90,
            rules: BTreeMap::new(),
        };
        assert_eq!(ApprovalSettings::default(), defaults);
        assert_eq!(Config::default().approvals, defaults);
        assert_eq!(config("").approvals, defaults);
        assert_eq!(config(crate::DEFAULT_CONFIG).approvals, defaults);
        assert_eq!(config("[approvals]\n").approvals, defaults);
    }

    #[test]
    fn settings_and_rules_are_read() {
        let config = config(
            r#"
[approvals]
timeout_secs = 3600
ask_non_read_only = true
retention_days = 0

[servers.notes]
command = "notes"
[servers.notes.tools]
delete_note = "deny"
"my.tool" = "ask"
'a b' = "allow"

[servers.files]
command = "files"
tools = { write_file = "ask" }

[servers.plain]
command = "plain"
tools = {}
"#,
        );
        assert_eq!(
            config.approvals,
            ApprovalSettings {
                timeout: Duration::from_secs(3600),
                ask_non_read_only: true,
                retention_days: 0,
                rules: rules(&[
                    ("files", &[("write_file", Rule::Ask)]),
                    (
                        "notes",
                        &[
                            ("a b", Rule::Allow),
                            ("delete_note", Rule::Deny),
                            ("my.tool", Rule::Ask),
                        ]
                    ),
                ]),
            }
        );
        assert_eq!(config.approvals.rule("notes", "my.tool"), Some(Rule::Ask));
        assert_eq!(config.approvals.rule("notes", "read_note"), None);
        assert_eq!(config.approvals.rule("plain", "x"), None);
        assert_eq!(config.servers.len(), 3);

        let edges = self::config("[approvals]\ntimeout_secs = 10\nretention_days = 36500\n");
        assert_eq!(edges.approvals.timeout, Duration::from_secs(10));
        assert_eq!(edges.approvals.retention_days, 36500);
    }

    #[test]
    fn out_of_range_settings_name_the_key_and_the_range() {
        assert_eq!(
            error("[approvals]\ntimeout_secs = 5\n"),
            "invalid config /etc/gatehouse.toml:2:16: `approvals.timeout_secs` must be from 10 to 3600 (seconds), not 5"
        );
        assert_eq!(
            error("[approvals]\ntimeout_secs = 3601\n"),
            "invalid config /etc/gatehouse.toml:2:16: `approvals.timeout_secs` must be from 10 to 3600 (seconds), not 3601"
        );
        assert_eq!(
            error("[approvals]\n\n  timeout_secs = -1\n"),
            "invalid config /etc/gatehouse.toml:3:18: `approvals.timeout_secs` must be from 10 to 3600 (seconds), not -1"
        );
        assert_eq!(
            error("[approvals]\nretention_days = 36501\n"),
            "invalid config /etc/gatehouse.toml:2:18: `approvals.retention_days` must be from 0 to 36500 (0 keeps the call log forever), not 36501"
        );
        assert_eq!(
            error("[approvals]\nretention_days = -3\n"),
            "invalid config /etc/gatehouse.toml:2:18: `approvals.retention_days` must be from 0 to 36500 (0 keeps the call log forever), not -3"
        );
    }

    #[test]
    fn wrong_types_and_unknown_keys_are_located() {
        let err = error("[approvals]\ntimeout_secs = \"2m\"\n");
        assert!(
            err.starts_with("invalid config /etc/gatehouse.toml:2:16: "),
            "{err}"
        );
        let err = error("[approvals]\nask_non_read_only = \"yes\"\n");
        assert!(
            err.starts_with("invalid config /etc/gatehouse.toml:2:21: "),
            "{err}"
        );
        assert_eq!(
            error("[approvals]\ntimeout = 30\n"),
            "invalid config /etc/gatehouse.toml:2:1: unknown field `timeout`, expected one of `timeout_secs`, `ask_non_read_only`, `retention_days`"
        );
        let err = error("[servers.x]\ncommand = \"x\"\ntools = \"deny\"\n");
        assert!(
            err.starts_with("invalid config /etc/gatehouse.toml:3:9: "),
            "{err}"
        );
    }

    #[test]
    fn bad_rules_are_reported_at_the_value_with_the_choices() {
        assert_eq!(
            error("[servers.x]\ncommand = \"x\"\n[servers.x.tools]\nrm = \"block\"\n"),
            r#"invalid config /etc/gatehouse.toml:4:6: the rule for tool `rm` of server `x` must be "allow", "ask" or "deny", not "block""#
        );
        assert_eq!(
            error("[servers.x]\ncommand = \"x\"\ntools = { rm = true }\n"),
            r#"invalid config /etc/gatehouse.toml:3:16: the rule for tool `rm` of server `x` must be "allow", "ask" or "deny", not true"#
        );
        // Rules are lowercase, as written everywhere else.
        assert!(
            error("[servers.x]\ncommand = \"x\"\ntools = { rm = \"Deny\" }\n")
                .contains(":3:16: the rule for tool `rm`")
        );
        assert_eq!(
            error("[servers.x]\ncommand = \"x\"\n[servers.x.tools]\n\"\" = \"deny\"\n"),
            "invalid config /etc/gatehouse.toml:4:1: a tool name in `servers.x.tools` cannot be empty"
        );
    }

    #[test]
    fn rules_are_not_part_of_the_server_spec() {
        let without = config("[servers.x]\ncommand = \"x\"\n");
        let with = config("[servers.x]\ncommand = \"x\"\n[servers.x.tools]\nrm = \"deny\"\n");
        assert_eq!(with.servers, without.servers);
        assert_ne!(with, without);
        assert_eq!(with.approvals.rules, rules(&[("x", &[("rm", Rule::Deny)])]));
    }

    #[test]
    fn rules_read_write_and_serialize_as_lowercase_words() {
        for (rule, text) in [
            (Rule::Allow, "allow"),
            (Rule::Ask, "ask"),
            (Rule::Deny, "deny"),
        ] {
            assert_eq!(rule.as_str(), text);
            assert_eq!(rule.to_string(), text);
            assert_eq!(text.parse::<Rule>(), Ok(rule));
        }
        assert_eq!(
            "Allow".parse::<Rule>().unwrap_err().to_string(),
            "unknown rule `Allow`, expected `allow`, `ask` or `deny`"
        );

        #[derive(Debug, PartialEq, serde::Serialize, serde::Deserialize)]
        struct Wrapper {
            rule: Rule,
        }
        let text = toml::to_string(&Wrapper { rule: Rule::Ask }).unwrap();
        assert_eq!(text, "rule = \"ask\"\n");
        assert_eq!(
            toml::from_str::<Wrapper>("rule = \"deny\"").unwrap(),
            Wrapper { rule: Rule::Deny }
        );
        assert!(toml::from_str::<Wrapper>("rule = \"DENY\"").is_err());
    }

    #[test]
    fn unknown_server_is_its_own_error() {
        let err = crate::edit::set_tool_rule(Path::new(FILE), "", "nope", "t", Some(Rule::Ask))
            .unwrap_err();
        assert!(
            matches!(&err, Error::UnknownServer { path, server } if path == Path::new(FILE) && server == "nope"),
            "{err:?}"
        );
        assert_eq!(
            err.to_string(),
            "there is no server `nope` in /etc/gatehouse.toml"
        );
    }
}

mod approval_edits {
    use std::path::Path;
    use std::time::Duration;

    use crate::edit::{set_approval_settings, set_tool_rule};
    use crate::{Error, Rule};

    const FILE: &str = "/etc/gatehouse.toml";

    fn rule(text: &str, server: &str, tool: &str, rule: Option<Rule>) -> String {
        let out = set_tool_rule(Path::new(FILE), text, server, tool, rule)
            .unwrap_or_else(|err| panic!("{err}\ninput:\n{text}"));
        // The round trip: the edited text says exactly what was asked.
        let config = crate::parse(Path::new(FILE), &out).unwrap();
        assert_eq!(config.approvals.rule(server, tool), rule, "{out}");
        out
    }

    fn settings(text: &str, timeout: u64, ask: bool, days: u32) -> String {
        let out = set_approval_settings(Path::new(FILE), text, timeout, ask, days)
            .unwrap_or_else(|err| panic!("{err}\ninput:\n{text}"));
        let config = crate::parse(Path::new(FILE), &out).unwrap();
        assert_eq!(config.approvals.timeout, Duration::from_secs(timeout));
        assert_eq!(config.approvals.ask_non_read_only, ask);
        assert_eq!(config.approvals.retention_days, days);
        out
    }

    const TWO_SERVERS: &str = r#"# My servers.
[servers.notes] # the notes
command = "notes"
args = ["--quiet"]

# Files, read-only.
[servers.files]
command = "files"
"#;

    #[test]
    fn a_first_rule_creates_the_tools_table_after_the_server() {
        let out = rule(TWO_SERVERS, "notes", "delete_note", Some(Rule::Deny));
        assert_eq!(
            out,
            r#"# My servers.
[servers.notes] # the notes
command = "notes"
args = ["--quiet"]

[servers.notes.tools]
delete_note = "deny"

# Files, read-only.
[servers.files]
command = "files"
"#
        );
        let out = rule(
            crate::DEFAULT_CONFIG,
            "demo",
            "delete_note",
            Some(Rule::Deny),
        );
        assert_eq!(
            out,
            format!(
                "{}\n[servers.demo.tools]\ndelete_note = \"deny\"\n",
                crate::DEFAULT_CONFIG
            )
        );
    }

    #[test]
    fn rules_are_added_replaced_and_removed_keeping_everything_else() {
        let text = r#"[servers.notes]
command = "notes"

# Rules for notes.
[servers.notes.tools]
# Never.
delete_note = 'deny' # really
read_note = "allow"

# Files.
[servers.files]
command = "files"
"#;
        let added = rule(text, "notes", "add_note", Some(Rule::Ask));
        assert_eq!(
            added,
            text.replace(
                "read_note = \"allow\"\n",
                "read_note = \"allow\"\nadd_note = \"ask\"\n"
            )
        );
        let replaced = rule(text, "notes", "delete_note", Some(Rule::Ask));
        assert_eq!(
            replaced,
            text.replace(
                "delete_note = 'deny' # really",
                "delete_note = \"ask\" # really"
            )
        );
        let removed = rule(text, "notes", "read_note", None);
        assert_eq!(removed, text.replace("read_note = \"allow\"\n", ""));

        // Nothing to do: the text comes back as it was, quotes and all.
        assert_eq!(rule(text, "notes", "delete_note", Some(Rule::Deny)), text);
        assert_eq!(rule(text, "notes", "no_such_tool", None), text);
        assert_eq!(rule(text, "files", "no_such_tool", None), text);
    }

    #[test]
    fn removing_the_last_rule_removes_the_table() {
        let with = rule(TWO_SERVERS, "notes", "delete_note", Some(Rule::Deny));
        let with = rule(&with, "notes", "read_note", Some(Rule::Allow));
        let one = rule(&with, "notes", "delete_note", None);
        assert!(
            one.contains("[servers.notes.tools]\nread_note = \"allow\"\n"),
            "{one}"
        );
        assert_eq!(rule(&one, "notes", "read_note", None), TWO_SERVERS);
    }

    #[test]
    fn tool_names_are_quoted_when_they_need_it() {
        let out = rule(TWO_SERVERS, "files", "my.tool", Some(Rule::Ask));
        let out = rule(&out, "files", "a b", Some(Rule::Deny));
        let out = rule(&out, "files", "ünï", Some(Rule::Allow));
        assert!(
            out.ends_with(
                "[servers.files]\ncommand = \"files\"\n\n[servers.files.tools]\n\"my.tool\" = \"ask\"\n\"a b\" = \"deny\"\n\"ünï\" = \"allow\"\n"
            ),
            "{out}"
        );
        let config = crate::parse(Path::new(FILE), &out).unwrap();
        assert_eq!(config.approvals.rules["files"].len(), 3);
        let out = rule(&out, "files", "my.tool", None);
        let out = rule(&out, "files", "a b", None);
        assert_eq!(rule(&out, "files", "ünï", None), TWO_SERVERS);
    }

    #[test]
    fn inline_and_dotted_servers_get_rules_in_their_own_style() {
        let inline = "[servers]\nx = { command = \"x\" }\n";
        let out = rule(inline, "x", "rm", Some(Rule::Deny));
        assert_eq!(
            out,
            "[servers]\nx = { command = \"x\", tools = { rm = \"deny\" } }\n"
        );
        let two = rule(&out, "x", "ls", Some(Rule::Allow));
        assert_eq!(
            two,
            "[servers]\nx = { command = \"x\", tools = { rm = \"deny\", ls = \"allow\" } }\n"
        );
        assert_eq!(rule(&two, "x", "ls", None), out);
        assert_eq!(rule(&out, "x", "rm", None), inline);

        let dotted = "[servers]\nx.command = \"x\"\n";
        let out = rule(dotted, "x", "my.tool", Some(Rule::Ask));
        assert_eq!(
            out,
            "[servers]\nx.command = \"x\"\nx.tools.\"my.tool\" = \"ask\"\n"
        );
        assert_eq!(rule(&out, "x", "my.tool", None), dotted);
        let root_dotted = "servers.x.command = \"x\"\n[log]\nlevel = \"info\"\n";
        let out = rule(root_dotted, "x", "rm", Some(Rule::Deny));
        assert_eq!(
            out,
            "servers.x.command = \"x\"\nservers.x.tools.rm = \"deny\"\n[log]\nlevel = \"info\"\n"
        );
        assert_eq!(rule(&out, "x", "rm", None), root_dotted);

        let inline_tools = "[servers.x]\ncommand = \"x\"\ntools = { rm = \"deny\" } # careful\n";
        let out = rule(inline_tools, "x", "ls", Some(Rule::Allow));
        assert_eq!(
            out,
            "[servers.x]\ncommand = \"x\"\ntools = { rm = \"deny\", ls = \"allow\" } # careful\n"
        );
        assert_eq!(rule(&out, "x", "ls", None), inline_tools);
        assert_eq!(
            rule(inline_tools, "x", "rm", None),
            "[servers.x]\ncommand = \"x\"\n"
        );
    }

    #[test]
    fn bad_requests_are_refused_and_nothing_is_invented() {
        let err = set_tool_rule(Path::new(FILE), TWO_SERVERS, "nope", "t", None).unwrap_err();
        assert!(matches!(err, Error::UnknownServer { .. }), "{err}");
        let err =
            set_tool_rule(Path::new(FILE), TWO_SERVERS, "files", "", Some(Rule::Ask)).unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid config /etc/gatehouse.toml: a tool name cannot be empty"
        );
        let err = set_tool_rule(Path::new(FILE), "[servers.x\n", "x", "t", None).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("invalid config /etc/gatehouse.toml:1:"),
            "{err}"
        );
    }

    #[test]
    fn approval_settings_are_updated_in_place_keeping_comments() {
        let out = settings(crate::DEFAULT_CONFIG, 300, true, 0);
        assert_eq!(
            out,
            crate::DEFAULT_CONFIG
                .replace("timeout_secs = 120", "timeout_secs = 300")
                .replace("ask_non_read_only = false", "ask_non_read_only = true")
                .replace("retention_days = 90", "retention_days = 0")
        );
        assert_eq!(
            settings(crate::DEFAULT_CONFIG, 120, false, 90),
            crate::DEFAULT_CONFIG
        );

        let partial =
            "[approvals]\n# Quick.\ntimeout_secs = 30 # seconds\n\n[servers.x]\ncommand = \"x\"\n";
        let out = settings(partial, 30, true, 90);
        assert_eq!(
            out,
            "[approvals]\n# Quick.\ntimeout_secs = 30 # seconds\nask_non_read_only = true\nretention_days = 90\n\n[servers.x]\ncommand = \"x\"\n"
        );
        let out = settings(&out, 45, true, 90);
        assert!(
            out.starts_with("[approvals]\n# Quick.\ntimeout_secs = 45 # seconds\n"),
            "{out}"
        );
        // A value written differently but equal is left as it was.
        assert_eq!(
            settings("[approvals]\ntimeout_secs = 0x78\n", 120, true, 90),
            "[approvals]\ntimeout_secs = 0x78\nask_non_read_only = true\nretention_days = 90\n"
        );
    }

    #[test]
    fn approval_settings_are_created_when_missing() {
        let text = "# mine\n[servers.x]\ncommand = \"x\"\n";
        assert_eq!(
            settings(text, 60, false, 7),
            format!(
                "{text}\n[approvals]\ntimeout_secs = 60\nask_non_read_only = false\nretention_days = 7\n"
            )
        );
        assert_eq!(
            settings("", 60, false, 7),
            "[approvals]\ntimeout_secs = 60\nask_non_read_only = false\nretention_days = 7\n"
        );
        // The defaults, unchanged: nothing is written.
        assert_eq!(settings(text, 120, false, 90), text);

        let inline = "approvals = { timeout_secs = 30 }\n";
        assert_eq!(
            settings(inline, 60, false, 90),
            "approvals = { timeout_secs = 60, ask_non_read_only = false, retention_days = 90 }\n"
        );
    }

    #[test]
    fn approval_settings_out_of_range_are_refused() {
        let attempt = |timeout, days| {
            set_approval_settings(Path::new(FILE), "", timeout, false, days)
                .unwrap_err()
                .to_string()
        };
        assert_eq!(
            attempt(9, 90),
            "invalid config /etc/gatehouse.toml: `approvals.timeout_secs` must be from 10 to 3600 (seconds), not 9"
        );
        assert_eq!(
            attempt(u64::MAX, 90),
            format!(
                "invalid config /etc/gatehouse.toml: `approvals.timeout_secs` must be from 10 to 3600 (seconds), not {}",
                u64::MAX
            )
        );
        assert_eq!(
            attempt(120, 36501),
            "invalid config /etc/gatehouse.toml: `approvals.retention_days` must be from 0 to 36500 (0 keeps the call log forever), not 36501"
        );
    }

    #[test]
    fn edits_round_trip_to_the_expected_config() {
        let out = rule(
            crate::DEFAULT_CONFIG,
            "demo",
            "delete_note",
            Some(Rule::Deny),
        );
        let out = rule(&out, "demo", "add_note", Some(Rule::Ask));
        let out = settings(&out, 600, true, 30);
        let config = crate::parse(Path::new(FILE), &out).unwrap();
        let default = crate::parse(Path::new(FILE), crate::DEFAULT_CONFIG).unwrap();
        let mut expected = default.clone();
        expected.approvals.timeout = Duration::from_secs(600);
        expected.approvals.ask_non_read_only = true;
        expected.approvals.retention_days = 30;
        expected.approvals.rules.insert(
            "demo".to_owned(),
            [
                ("add_note".to_owned(), Rule::Ask),
                ("delete_note".to_owned(), Rule::Deny),
            ]
            .into(),
        );
        assert_eq!(config, expected);
        assert_eq!(config.servers, default.servers);
    }
}
