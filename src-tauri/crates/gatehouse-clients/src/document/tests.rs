//! Tests of the format-preserving documents on files shaped like the real
//! clients' ones: the exact text a new entry gets, replacing an outdated
//! entry in place, removing, and set-then-remove giving back the original.

use pretty_assertions::assert_eq;

use super::{Document, Format, ShapeError, SyntaxError};
use crate::value::Value;

// ---------------------------------------------------------------- helpers

fn parse(text: &str, format: Format) -> Document {
    match Document::parse(text, format) {
        Ok(doc) => doc,
        Err(e) => panic!("{format:?} should parse: {e}\n{text}"),
    }
}

fn after_set(text: &str, format: Format, path: &[&str], name: &str, value: &Value) -> String {
    let mut doc = parse(text, format);
    doc.set(path, name, value).expect("set");
    doc.to_text()
}

fn after_remove(text: &str, format: Format, path: &[&str], name: &str) -> (bool, String) {
    let mut doc = parse(text, format);
    let removed = doc.remove(path, name).expect("remove");
    (removed, doc.to_text())
}

/// Sets `value`, checks the printed file reads back with it and with the
/// other entries at `path` as they were, then removes it and checks the
/// file is byte for byte the original.
fn assert_round_trip(text: &str, format: Format, path: &[&str], value: &Value) {
    let mut doc = parse(text, format);
    let before = doc.entries(path).expect("entries");
    doc.set(path, "gatehouse", value).expect("set");
    let written = doc.to_text();

    let reread = parse(&written, format);
    let mut expected = before.clone();
    match expected.iter_mut().find(|(key, _)| key == "gatehouse") {
        Some(slot) => slot.1 = value.to_json(),
        None => expected.push(("gatehouse".to_owned(), value.to_json())),
    }
    assert_eq!(
        reread.entries(path).expect("entries"),
        expected,
        "{written}"
    );

    assert!(doc.remove(path, "gatehouse").expect("remove"));
    assert_eq!(
        doc.to_text(),
        text,
        "set then remove should give the original"
    );
}

fn stdio_entry() -> Value {
    Value::object([
        (
            "command",
            Value::from("/Applications/Gatehouse.app/Contents/MacOS/gatehouse"),
        ),
        (
            "args",
            Value::strings(["bridge", "--client", "claude-desktop"]),
        ),
    ])
}

fn http_entry() -> Value {
    Value::object([
        ("type", Value::from("http")),
        ("url", Value::from("http://127.0.0.1:8765/mcp")),
        (
            "headers",
            Value::object([("Authorization", Value::from("Bearer gh_3f9a#x"))]),
        ),
    ])
}

fn codex_entry() -> Value {
    Value::object([
        ("url", Value::from("http://127.0.0.1:8765/mcp")),
        (
            "http_headers",
            Value::object([("Authorization", Value::from("Bearer gh_3f9a#x"))]),
        ),
        ("startup_timeout_sec", Value::from(20)),
        ("enabled", Value::from(true)),
    ])
}

fn goose_entry() -> Value {
    Value::object([
        ("name", Value::from("gatehouse")),
        ("type", Value::from("streamable_http")),
        ("uri", Value::from("http://127.0.0.1:8765/mcp")),
        (
            "description",
            Value::from("Gatehouse: every server, approved"),
        ),
        (
            "headers",
            Value::object([("Authorization", Value::from("Bearer gh_3f9a#x"))]),
        ),
        ("envs", Value::Object(Vec::new())),
        ("env_keys", Value::Array(Vec::new())),
        ("enabled", Value::from(true)),
        ("timeout", Value::from(300)),
    ])
}

// --------------------------------------------------------------- fixtures

const CLAUDE_DESKTOP: &str = r#"{
  "preferences": {
    "menuBarEnabled": false,
    "quickEntryShortcut": "double-tap-option"
  },
  "mcpServers": {
    "filesystem": {
      "command": "npx",
      "args": [
        "-y",
        "@modelcontextprotocol/server-filesystem",
        "/Users/me/Desktop"
      ]
    },
    "github": {
      "command": "docker",
      "args": ["run", "-i", "--rm", "ghcr.io/github/github-mcp-server"],
      "env": {
        "GITHUB_PERSONAL_ACCESS_TOKEN": "ghp_example"
      }
    }
  }
}
"#;

const VSCODE: &str = r#"{
  // Asked for when a server first starts.
  "inputs": [
    {
      "type": "promptString",
      "id": "github-token",
      "description": "GitHub Personal Access Token",
      "password": true,
    },
  ],
  /* Servers for this workspace */
  "servers": {
    "github": {
      "type": "http",
      "url": "https://api.githubcopilot.com/mcp/",
      "headers": {
        "Authorization": "Bearer ${input:github-token}",
      },
    }, // remote
    "memory": {
      "command": "npx",
      "args": ["-y", "@modelcontextprotocol/server-memory"],
    },
  },
}
"#;

const ZED: &str = r#"// Zed settings
//
// For information on how to configure Zed, see the Zed
// documentation: https://zed.dev/docs/configuring-zed
{
  "theme": {
    "mode": "system",
    "light": "One Light",
    "dark": "One Dark"
  },
  "ui_font_size": 16,
  "buffer_font_size": 15,
  "vim_mode": false,
  "languages": {
    "Python": {
      "tab_size": 4,
      "formatter": "language_server"
    }
  },
  "context_servers": {
    "postgres": {
      "source": "custom",
      "command": "npx",
      "args": ["-y", "@modelcontextprotocol/server-postgres", "postgresql://localhost/db"],
      "env": {}
    }
  },
  "telemetry": {
    "metrics": false
  }
}
"#;

const CLAUDE_CODE: &str = r#"{
  "numStartups": 12,
  "projects": {
    "/home/me/app.v2": {
      "allowedTools": [],
      "mcpServers": {}
    }
  }
}
"#;

const CODEX: &str = r#"# Codex CLI configuration
model = "gpt-5-codex"
model_reasoning_effort = "high"
approval_policy = "on-request"

[mcp_servers.context7]
command = "npx"
args = ["-y", "@upstash/context7-mcp"]
# Keep the token out of this file.
env = { "CONTEXT7_LOG" = "warn" }

[mcp_servers.figma]
url = "https://mcp.figma.com/mcp"
bearer_token_env_var = "FIGMA_OAUTH_TOKEN"

[profiles.deep]
model = "gpt-5"
model_reasoning_effort = "high" # slow but thorough

[tui]
notifications = true
"#;

const GOOSE: &str = r#"# Goose configuration
GOOSE_PROVIDER: anthropic
GOOSE_MODEL: claude-sonnet-4-5
extensions:
  developer:
    bundled: true
    display_name: Developer
    enabled: true
    name: developer
    timeout: 300
    type: builtin
  # Remembers things between sessions.
  memory:
    args:
    - -y
    - '@modelcontextprotocol/server-memory'
    bundled: null
    cmd: npx
    description: null
    enabled: true # keep on
    env_keys: []
    envs: {}
    name: memory
    timeout: 300
    type: stdio
GOOSE_MODE: smart_approve
"#;

// ------------------------------------------------------------------- JSON

#[test]
fn json_new_entry_goes_last_in_the_files_style() {
    let text = after_set(
        CLAUDE_DESKTOP,
        Format::Json,
        &["mcpServers"],
        "gatehouse",
        &stdio_entry(),
    );
    let expected = r#"{
  "preferences": {
    "menuBarEnabled": false,
    "quickEntryShortcut": "double-tap-option"
  },
  "mcpServers": {
    "filesystem": {
      "command": "npx",
      "args": [
        "-y",
        "@modelcontextprotocol/server-filesystem",
        "/Users/me/Desktop"
      ]
    },
    "github": {
      "command": "docker",
      "args": ["run", "-i", "--rm", "ghcr.io/github/github-mcp-server"],
      "env": {
        "GITHUB_PERSONAL_ACCESS_TOKEN": "ghp_example"
      }
    },
    "gatehouse": {
      "command": "/Applications/Gatehouse.app/Contents/MacOS/gatehouse",
      "args": ["bridge", "--client", "claude-desktop"]
    }
  }
}
"#;
    assert_eq!(text, expected);
}

#[test]
fn json_outdated_entry_is_replaced_where_it_stands() {
    let outdated = r#"{
  "mcpServers": {
    "filesystem": {
      "command": "npx"
    },
    "gatehouse": {
      "command": "/opt/old/gatehouse",
      "args": ["bridge"],
      "env": { "OLD": "1" }
    },
    "github": {
      "command": "docker"
    }
  }
}
"#;
    let expected = r#"{
  "mcpServers": {
    "filesystem": {
      "command": "npx"
    },
    "gatehouse": {
      "command": "/Applications/Gatehouse.app/Contents/MacOS/gatehouse",
      "args": ["bridge", "--client", "claude-desktop"]
    },
    "github": {
      "command": "docker"
    }
  }
}
"#;
    let text = after_set(
        outdated,
        Format::Json,
        &["mcpServers"],
        "gatehouse",
        &stdio_entry(),
    );
    assert_eq!(text, expected);
}

#[test]
fn json_remove_takes_out_exactly_the_entry() {
    let with_entry = after_set(
        CLAUDE_DESKTOP,
        Format::Json,
        &["mcpServers"],
        "gatehouse",
        &stdio_entry(),
    );
    assert_eq!(
        after_remove(&with_entry, Format::Json, &["mcpServers"], "gatehouse"),
        (true, CLAUDE_DESKTOP.to_owned())
    );
    assert_eq!(
        after_remove(CLAUDE_DESKTOP, Format::Json, &["mcpServers"], "gatehouse"),
        (false, CLAUDE_DESKTOP.to_owned())
    );
    assert_eq!(
        after_remove(
            CLAUDE_DESKTOP,
            Format::Json,
            &["nope", "mcpServers"],
            "gatehouse"
        ),
        (false, CLAUDE_DESKTOP.to_owned())
    );
}

#[test]
fn json_round_trips_are_byte_identical() {
    assert_round_trip(
        CLAUDE_DESKTOP,
        Format::Json,
        &["mcpServers"],
        &stdio_entry(),
    );
    assert_round_trip(VSCODE, Format::Jsonc, &["servers"], &http_entry());
    assert_round_trip(ZED, Format::Jsonc, &["context_servers"], &stdio_entry());
    // The map is made, then goes again with the entry.
    assert_round_trip(ZED, Format::Jsonc, &["mcp"], &stdio_entry());
    let no_servers = "{\n  \"preferences\": {\n    \"menuBarEnabled\": false\n  }\n}\n";
    assert_round_trip(no_servers, Format::Json, &["mcpServers"], &stdio_entry());
    // No trailing newline, as Claude Desktop writes it.
    assert_round_trip(
        CLAUDE_DESKTOP.trim_end(),
        Format::Json,
        &["mcpServers"],
        &stdio_entry(),
    );
    // Only comments: the root object is made, then goes again.
    assert_round_trip(
        "// settings go here\n",
        Format::Jsonc,
        &["servers"],
        &http_entry(),
    );
    // CRLF, tabs, and a byte order mark.
    let windows = "\u{feff}{\r\n\t\"mcpServers\": {\r\n\t\t\"a\": {\r\n\t\t\t\"command\": \"x\"\r\n\t\t}\r\n\t}\r\n}\r\n";
    assert_round_trip(windows, Format::Json, &["mcpServers"], &stdio_entry());
}

#[test]
fn jsonc_keeps_comments_and_trailing_commas() {
    let text = after_set(
        VSCODE,
        Format::Jsonc,
        &["servers"],
        "gatehouse",
        &http_entry(),
    );
    let expected = r#"{
  // Asked for when a server first starts.
  "inputs": [
    {
      "type": "promptString",
      "id": "github-token",
      "description": "GitHub Personal Access Token",
      "password": true,
    },
  ],
  /* Servers for this workspace */
  "servers": {
    "github": {
      "type": "http",
      "url": "https://api.githubcopilot.com/mcp/",
      "headers": {
        "Authorization": "Bearer ${input:github-token}",
      },
    }, // remote
    "memory": {
      "command": "npx",
      "args": ["-y", "@modelcontextprotocol/server-memory"],
    },
    "gatehouse": {
      "type": "http",
      "url": "http://127.0.0.1:8765/mcp",
      "headers": {
        "Authorization": "Bearer gh_3f9a#x",
      },
    },
  },
}
"#;
    assert_eq!(text, expected);
}

#[test]
fn jsonc_zed_settings_gain_context_servers_last() {
    let settings = "// Zed settings\n{\n  \"theme\": \"One Dark\",\n  \"vim_mode\": true\n}\n";
    let text = after_set(
        settings,
        Format::Jsonc,
        &["context_servers"],
        "gatehouse",
        &http_entry(),
    );
    let expected = r#"// Zed settings
{
  "theme": "One Dark",
  "vim_mode": true,
  "context_servers": {
    "gatehouse": {
      "type": "http",
      "url": "http://127.0.0.1:8765/mcp",
      "headers": {
        "Authorization": "Bearer gh_3f9a#x"
      }
    }
  }
}
"#;
    assert_eq!(text, expected);
    assert_eq!(
        after_remove(&text, Format::Jsonc, &["context_servers"], "gatehouse"),
        (true, settings.to_owned())
    );
}

#[test]
fn json_empty_file_becomes_a_fresh_file_and_back() {
    for blank in ["", "  \n\n"] {
        let mut doc = parse(blank, Format::Json);
        assert_eq!(doc.entries(&["mcpServers"]).unwrap(), vec![]);
        assert!(!doc.remove(&["mcpServers"], "gatehouse").unwrap());
        assert_eq!(doc.to_text(), blank);

        doc.set(&["mcpServers"], "gatehouse", &stdio_entry())
            .unwrap();
        let expected = r#"{
  "mcpServers": {
    "gatehouse": {
      "command": "/Applications/Gatehouse.app/Contents/MacOS/gatehouse",
      "args": ["bridge", "--client", "claude-desktop"]
    }
  }
}
"#;
        assert_eq!(doc.to_text(), expected);
        assert!(doc.remove(&["mcpServers"], "gatehouse").unwrap());
        assert_eq!(
            doc.to_text(),
            blank,
            "nothing of ours is left, so nothing changes"
        );
    }
}

#[test]
fn json_keys_with_slashes_and_dots_are_one_key() {
    let path = ["projects", "/home/me/app.v2", "mcpServers"];
    let text = after_set(
        CLAUDE_CODE,
        Format::Json,
        &path,
        "gatehouse",
        &stdio_entry(),
    );
    let expected = r#"{
  "numStartups": 12,
  "projects": {
    "/home/me/app.v2": {
      "allowedTools": [],
      "mcpServers": {
        "gatehouse": {
          "command": "/Applications/Gatehouse.app/Contents/MacOS/gatehouse",
          "args": ["bridge", "--client", "claude-desktop"]
        }
      }
    }
  }
}
"#;
    assert_eq!(text, expected);
    let doc = parse(&text, Format::Json);
    assert_eq!(
        doc.get(&path, "gatehouse").unwrap(),
        Some(stdio_entry().to_json())
    );
    assert_eq!(
        doc.get(&["projects", "/home", "me"], "gatehouse").unwrap(),
        None
    );

    // A project that is not there yet is made, then goes again.
    assert_round_trip(
        CLAUDE_CODE,
        Format::Json,
        &["projects", "/home/me/other.proj", "mcpServers"],
        &stdio_entry(),
    );
}

#[test]
fn json_emptied_map_that_was_there_before_goes_too() {
    // `"mcpServers": {}` is left empty by the removal, so it goes: the
    // contract prunes maps emptied by a removal, whoever made them.
    let path = ["projects", "/home/me/app.v2", "mcpServers"];
    let with_entry = after_set(
        CLAUDE_CODE,
        Format::Json,
        &path,
        "gatehouse",
        &stdio_entry(),
    );
    let (removed, text) = after_remove(&with_entry, Format::Json, &path, "gatehouse");
    assert!(removed);
    let expected = r#"{
  "numStartups": 12,
  "projects": {
    "/home/me/app.v2": {
      "allowedTools": []
    }
  }
}
"#;
    assert_eq!(text, expected);
}

#[test]
fn json_map_holding_a_comment_is_kept_when_emptied() {
    let text = "{\n  \"servers\": {\n    // ours:\n    \"gatehouse\": { \"url\": \"x\" }\n  }\n}\n";
    let (removed, text) = after_remove(text, Format::Jsonc, &["servers"], "gatehouse");
    assert!(removed);
    assert_eq!(text, "{\n  \"servers\": {\n    // ours:\n  }\n}\n");
}

#[test]
fn json_entries_are_in_file_order() {
    let doc = parse(CLAUDE_DESKTOP, Format::Json);
    let entries = doc.entries(&["mcpServers"]).unwrap();
    let names: Vec<&str> = entries.iter().map(|(name, _)| name.as_str()).collect();
    assert_eq!(names, ["filesystem", "github"]);
    assert_eq!(
        entries[1].1,
        serde_json::json!({
            "command": "docker",
            "args": ["run", "-i", "--rm", "ghcr.io/github/github-mcp-server"],
            "env": { "GITHUB_PERSONAL_ACCESS_TOKEN": "ghp_example" }
        })
    );
    let prefs = doc.entries(&["preferences"]).unwrap();
    assert_eq!(
        prefs[0],
        ("menuBarEnabled".to_owned(), serde_json::json!(false))
    );
    let doc = parse(
        "{\"a\": {\"n\": -1.5e3, \"z\": null, \"s\": \"\\u00e9\\n\"}}",
        Format::Json,
    );
    assert_eq!(
        doc.entries(&["a"]).unwrap(),
        vec![
            ("n".to_owned(), serde_json::json!(-1500.0)),
            ("z".to_owned(), serde_json::Value::Null),
            ("s".to_owned(), serde_json::json!("é\n")),
        ]
    );
}

#[test]
fn json_strings_are_escaped() {
    let value = Value::object([("arg", Value::from("quote \" back \\ tab \t nl \n é"))]);
    let text = after_set("{}", Format::Json, &["mcpServers"], "gatehouse", &value);
    assert!(
        text.contains(r#""arg": "quote \" back \\ tab \t nl \n é""#),
        "{text}"
    );
    let doc = parse(&text, Format::Json);
    assert_eq!(
        doc.get(&["mcpServers"], "gatehouse").unwrap(),
        Some(value.to_json())
    );
}

#[test]
fn json_wrong_shapes_are_refused() {
    let array = "{\n  \"mcpServers\": []\n}\n";
    let mut doc = parse(array, Format::Json);
    let wrong = ShapeError {
        path: "mcpServers".to_owned(),
        found: "an array",
    };
    assert_eq!(doc.entries(&["mcpServers"]), Err(wrong.clone()));
    assert_eq!(
        doc.set(&["mcpServers"], "gatehouse", &stdio_entry()),
        Err(wrong.clone())
    );
    assert_eq!(doc.remove(&["mcpServers"], "gatehouse"), Err(wrong));
    assert_eq!(doc.to_text(), array);

    let nested = "{\"projects\": {\"/a\": \"text\"}}";
    let mut doc = parse(nested, Format::Json);
    assert_eq!(
        doc.set(
            &["projects", "/a", "mcpServers"],
            "gatehouse",
            &stdio_entry()
        ),
        Err(ShapeError {
            path: "projects./a".to_owned(),
            found: "a string",
        })
    );
    assert_eq!(doc.to_text(), nested);

    for (value, found) in [("null", "null"), ("1", "a number"), ("true", "a boolean")] {
        let doc = parse(&format!("{{\"mcpServers\": {value}}}"), Format::Json);
        assert_eq!(doc.entries(&["mcpServers"]).unwrap_err().found, found);
    }
    // The root itself is the empty path.
    let mut doc = parse("[1, 2]", Format::Json);
    assert_eq!(
        doc.set(&["mcpServers"], "gatehouse", &stdio_entry()),
        Err(ShapeError {
            path: String::new(),
            found: "an array",
        })
    );
}

#[test]
fn strict_json_rejects_what_jsonc_allows() {
    let commented = "{\n  \"a\": 1, // note\n  \"b\": 2\n}\n";
    let error = Document::parse(commented, Format::Json).unwrap_err();
    assert_eq!((error.line, error.column), (2, 11));
    assert_eq!(error.message, "Comments are not allowed");
    assert!(Document::parse(commented, Format::Jsonc).is_ok());

    let trailing = "{\n  \"a\": 1,\n}\n";
    let error = Document::parse(trailing, Format::Json).unwrap_err();
    assert_eq!((error.line, error.column), (2, 9));
    assert!(Document::parse(trailing, Format::Jsonc).is_ok());

    for loose in [
        "{'a': 1}",
        "{a: 1}",
        "{\"a\": 0x1F}",
        "{\"a\": 1 \"b\": 2}",
        "{\"a\": +1}",
    ] {
        assert!(Document::parse(loose, Format::Json).is_err(), "{loose}");
        assert!(Document::parse(loose, Format::Jsonc).is_err(), "{loose}");
    }
}

#[test]
fn json_syntax_errors_say_where() {
    let missing_brace = "{\n  \"mcpServers\": {\n    \"a\": {}\n}\n";
    assert_eq!(
        Document::parse(missing_brace, Format::Json).unwrap_err(),
        SyntaxError {
            line: 1,
            column: 1,
            message: "Unterminated object".to_owned(),
        }
    );
    let missing_value = "{\n  \"a\": \n}";
    let error = Document::parse(missing_value, Format::Jsonc).unwrap_err();
    assert_eq!(error.line, 3);
}

// ------------------------------------------------------------------- TOML

#[test]
fn toml_new_entry_is_a_table_after_its_siblings() {
    let text = after_set(
        CODEX,
        Format::Toml,
        &["mcp_servers"],
        "gatehouse",
        &codex_entry(),
    );
    let expected = r#"# Codex CLI configuration
model = "gpt-5-codex"
model_reasoning_effort = "high"
approval_policy = "on-request"

[mcp_servers.context7]
command = "npx"
args = ["-y", "@upstash/context7-mcp"]
# Keep the token out of this file.
env = { "CONTEXT7_LOG" = "warn" }

[mcp_servers.figma]
url = "https://mcp.figma.com/mcp"
bearer_token_env_var = "FIGMA_OAUTH_TOKEN"

[mcp_servers.gatehouse]
url = "http://127.0.0.1:8765/mcp"
http_headers = { Authorization = "Bearer gh_3f9a#x" }
startup_timeout_sec = 20
enabled = true

[profiles.deep]
model = "gpt-5"
model_reasoning_effort = "high" # slow but thorough

[tui]
notifications = true
"#;
    assert_eq!(text, expected);
}

#[test]
fn toml_outdated_entry_is_replaced_where_it_stands() {
    let outdated = r#"model = "o3"

# Gatehouse, added by the app.
[mcp_servers.gatehouse]
command = "/opt/old/gatehouse"
args = ["bridge"]

[mcp_servers.figma]
url = "https://mcp.figma.com/mcp"
"#;
    let expected = r#"model = "o3"

# Gatehouse, added by the app.
[mcp_servers.gatehouse]
url = "http://127.0.0.1:8765/mcp"
http_headers = { Authorization = "Bearer gh_3f9a#x" }
startup_timeout_sec = 20
enabled = true

[mcp_servers.figma]
url = "https://mcp.figma.com/mcp"
"#;
    let text = after_set(
        outdated,
        Format::Toml,
        &["mcp_servers"],
        "gatehouse",
        &codex_entry(),
    );
    assert_eq!(text, expected);

    // An entry written inline stays inline, in its place.
    let inline =
        "[mcp_servers]\ngatehouse = { command = \"old\" } # ours\nother = { command = \"x\" }\n";
    let text = after_set(
        inline,
        Format::Toml,
        &["mcp_servers"],
        "gatehouse",
        &stdio_entry(),
    );
    assert_eq!(
        text,
        "[mcp_servers]\ngatehouse = { command = \"/Applications/Gatehouse.app/Contents/MacOS/gatehouse\", args = [\"bridge\", \"--client\", \"claude-desktop\"] } # ours\nother = { command = \"x\" }\n"
    );
}

#[test]
fn toml_entry_written_with_dotted_keys_stays_dotted() {
    let dotted = "model = \"o3\"\nmcp_servers.gatehouse.command = \"old\"\n";
    let text = after_set(
        dotted,
        Format::Toml,
        &["mcp_servers"],
        "gatehouse",
        &stdio_entry(),
    );
    assert_eq!(
        text,
        "model = \"o3\"\nmcp_servers.gatehouse.command = \"/Applications/Gatehouse.app/Contents/MacOS/gatehouse\"\nmcp_servers.gatehouse.args = [\"bridge\", \"--client\", \"claude-desktop\"]\n"
    );
}

#[test]
fn toml_remove_takes_out_the_table() {
    let with_entry = after_set(
        CODEX,
        Format::Toml,
        &["mcp_servers"],
        "gatehouse",
        &codex_entry(),
    );
    assert_eq!(
        after_remove(&with_entry, Format::Toml, &["mcp_servers"], "gatehouse"),
        (true, CODEX.to_owned())
    );
    assert_eq!(
        after_remove(CODEX, Format::Toml, &["mcp_servers"], "gatehouse"),
        (false, CODEX.to_owned())
    );
    // The last server goes, and with it the implicit `mcp_servers`.
    let only = "model = \"o3\"\n\n[mcp_servers.gatehouse]\nurl = \"x\"\n";
    let (removed, text) = after_remove(only, Format::Toml, &["mcp_servers"], "gatehouse");
    assert!(removed);
    assert_eq!(text, "model = \"o3\"\n");
    assert_eq!(parse(&text, Format::Toml).entries(&[]).unwrap().len(), 1);
}

#[test]
fn toml_round_trips_are_byte_identical() {
    assert_round_trip(CODEX, Format::Toml, &["mcp_servers"], &codex_entry());
    let no_servers = "# Codex\nmodel = \"o3\"\n\n[tui]\nnotifications = true\n";
    assert_round_trip(no_servers, Format::Toml, &["mcp_servers"], &codex_entry());
    assert_round_trip(
        "# comments only\n",
        Format::Toml,
        &["mcp_servers"],
        &codex_entry(),
    );
    let windows = "model = \"o3\"\r\n\r\n[mcp_servers.a]\r\ncommand = \"x\"\r\n";
    assert_round_trip(windows, Format::Toml, &["mcp_servers"], &codex_entry());
    let with_crlf = after_set(
        windows,
        Format::Toml,
        &["mcp_servers"],
        "gatehouse",
        &codex_entry(),
    );
    assert!(
        !with_crlf.replace("\r\n", "").contains('\n'),
        "{with_crlf:?}"
    );
}

#[test]
fn toml_empty_file_becomes_a_fresh_file_and_back() {
    for blank in ["", "\n  \n"] {
        let mut doc = parse(blank, Format::Toml);
        assert!(!doc.remove(&["mcp_servers"], "gatehouse").unwrap());
        assert_eq!(doc.to_text(), blank);
        doc.set(&["mcp_servers"], "gatehouse", &codex_entry())
            .unwrap();
        assert_eq!(
            doc.to_text(),
            "[mcp_servers.gatehouse]\nurl = \"http://127.0.0.1:8765/mcp\"\nhttp_headers = { Authorization = \"Bearer gh_3f9a#x\" }\nstartup_timeout_sec = 20\nenabled = true\n"
        );
        assert!(doc.remove(&["mcp_servers"], "gatehouse").unwrap());
        assert_eq!(doc.to_text(), blank);
    }
}

#[test]
fn toml_keys_with_slashes_and_dots_are_quoted() {
    let path = ["projects", "/home/me/app.v2", "mcp_servers"];
    let trusted = "[projects.\"/home/me/app.v2\"]\ntrust_level = \"trusted\"\n";
    let text = after_set(trusted, Format::Toml, &path, "gatehouse", &stdio_entry());
    assert_eq!(
        text,
        "[projects.\"/home/me/app.v2\"]\ntrust_level = \"trusted\"\n\n[projects.\"/home/me/app.v2\".mcp_servers.gatehouse]\ncommand = \"/Applications/Gatehouse.app/Contents/MacOS/gatehouse\"\nargs = [\"bridge\", \"--client\", \"claude-desktop\"]\n"
    );
    assert_eq!(
        parse(&text, Format::Toml).get(&path, "gatehouse").unwrap(),
        Some(stdio_entry().to_json())
    );
    assert_round_trip(trusted, Format::Toml, &path, &stdio_entry());
}

#[test]
fn toml_entries_convert_every_kind() {
    let text = r#"[mcp_servers.x]
command = "npx"
args = ["-y", 'lit\eral']
startup_timeout_sec = 20
tool_timeout_sec = 1.5
enabled = false
since = 2025-01-02T03:04:05Z
env = { A = "1", nested = { B = 2 } }

[mcp_servers.x.tools]
search = { approve = true }
"#;
    let doc = parse(text, Format::Toml);
    assert_eq!(
        doc.get(&["mcp_servers"], "x").unwrap(),
        Some(serde_json::json!({
            "command": "npx",
            "args": ["-y", "lit\\eral"],
            "startup_timeout_sec": 20,
            "tool_timeout_sec": 1.5,
            "enabled": false,
            "since": "2025-01-02T03:04:05Z",
            "env": { "A": "1", "nested": { "B": 2 } },
            "tools": { "search": { "approve": true } }
        }))
    );
}

#[test]
fn toml_strings_with_control_characters_stay_on_one_line() {
    let value = Value::object([("arg", Value::from("a\nb\t\"c\" \\ \u{1}"))]);
    let text = after_set("", Format::Toml, &["mcp_servers"], "gatehouse", &value);
    assert_eq!(
        text,
        "[mcp_servers.gatehouse]\narg = \"a\\nb\\t\\\"c\\\" \\\\ \\u0001\"\n"
    );
    assert_eq!(
        parse(&text, Format::Toml)
            .get(&["mcp_servers"], "gatehouse")
            .unwrap(),
        Some(value.to_json())
    );
}

#[test]
fn toml_wrong_shapes_are_refused() {
    for (text, found) in [
        ("mcp_servers = []\n", "an array"),
        ("mcp_servers = \"x\"\n", "a string"),
        ("mcp_servers = 3\n", "a number"),
        ("mcp_servers = true\n", "a boolean"),
        ("[[mcp_servers]]\nname = \"x\"\n", "an array"),
    ] {
        let mut doc = parse(text, Format::Toml);
        let wrong = ShapeError {
            path: "mcp_servers".to_owned(),
            found,
        };
        assert_eq!(doc.entries(&["mcp_servers"]), Err(wrong.clone()));
        assert_eq!(
            doc.set(&["mcp_servers"], "gatehouse", &codex_entry()),
            Err(wrong)
        );
        assert_eq!(doc.to_text(), text);
    }
}

#[test]
fn toml_syntax_errors_say_where() {
    let bad = "model = \"o3\"\n\n[mcp_servers.gatehouse\nurl = \"x\"\n";
    let error = Document::parse(bad, Format::Toml).unwrap_err();
    assert_eq!((error.line, error.column), (3, 23));
    assert!(
        error.message.contains("unclosed table"),
        "{}",
        error.message
    );

    let duplicate = "a = 1\nb = 2\na = 3\n";
    let error = Document::parse(duplicate, Format::Toml).unwrap_err();
    assert_eq!((error.line, error.column), (3, 1));
}

// ------------------------------------------------------------------- YAML

#[test]
fn yaml_new_entry_is_a_block_mapping_last() {
    let text = after_set(
        GOOSE,
        Format::Yaml,
        &["extensions"],
        "gatehouse",
        &goose_entry(),
    );
    let expected = r#"# Goose configuration
GOOSE_PROVIDER: anthropic
GOOSE_MODEL: claude-sonnet-4-5
extensions:
  developer:
    bundled: true
    display_name: Developer
    enabled: true
    name: developer
    timeout: 300
    type: builtin
  # Remembers things between sessions.
  memory:
    args:
    - -y
    - '@modelcontextprotocol/server-memory'
    bundled: null
    cmd: npx
    description: null
    enabled: true # keep on
    env_keys: []
    envs: {}
    name: memory
    timeout: 300
    type: stdio
  gatehouse:
    name: gatehouse
    type: streamable_http
    uri: http://127.0.0.1:8765/mcp
    description: 'Gatehouse: every server, approved'
    headers:
      Authorization: 'Bearer gh_3f9a#x'
    envs: {}
    env_keys: []
    enabled: true
    timeout: 300
GOOSE_MODE: smart_approve
"#;
    assert_eq!(text, expected);
    let doc = parse(&text, Format::Yaml);
    assert_eq!(
        doc.get(&["extensions"], "gatehouse").unwrap(),
        Some(goose_entry().to_json())
    );
}

#[test]
fn yaml_outdated_entry_is_replaced_where_it_stands() {
    let outdated = r#"extensions:
  developer:
    enabled: true
  # Ours.
  gatehouse:
    name: gatehouse
    type: sse
    uri: http://127.0.0.1:9000/sse
  memory:
    cmd: npx
GOOSE_MODE: auto
"#;
    let expected = r#"extensions:
  developer:
    enabled: true
  # Ours.
  gatehouse:
    name: gatehouse
    type: streamable_http
    uri: http://127.0.0.1:8765/mcp
    description: 'Gatehouse: every server, approved'
    headers:
      Authorization: 'Bearer gh_3f9a#x'
    envs: {}
    env_keys: []
    enabled: true
    timeout: 300
  memory:
    cmd: npx
GOOSE_MODE: auto
"#;
    let text = after_set(
        outdated,
        Format::Yaml,
        &["extensions"],
        "gatehouse",
        &goose_entry(),
    );
    assert_eq!(text, expected);
}

#[test]
fn yaml_remove_takes_out_exactly_the_entry() {
    let with_entry = after_set(
        GOOSE,
        Format::Yaml,
        &["extensions"],
        "gatehouse",
        &goose_entry(),
    );
    assert_eq!(
        after_remove(&with_entry, Format::Yaml, &["extensions"], "gatehouse"),
        (true, GOOSE.to_owned())
    );
    assert_eq!(
        after_remove(GOOSE, Format::Yaml, &["extensions"], "gatehouse"),
        (false, GOOSE.to_owned())
    );
    let (removed, text) = after_remove(GOOSE, Format::Yaml, &["extensions"], "memory");
    assert!(removed);
    assert!(!text.contains("memory"), "{text}");
    assert!(
        text.contains("# Goose configuration\n") && text.ends_with("GOOSE_MODE: smart_approve\n")
    );
}

#[test]
fn yaml_round_trips_are_byte_identical() {
    assert_round_trip(GOOSE, Format::Yaml, &["extensions"], &goose_entry());
    let no_extensions = "# Goose\nGOOSE_PROVIDER: openai\nGOOSE_MODEL: gpt-4o\n";
    assert_round_trip(no_extensions, Format::Yaml, &["extensions"], &goose_entry());
    assert_round_trip(
        "GOOSE_PROVIDER: openai",
        Format::Yaml,
        &["extensions"],
        &goose_entry(),
    );
    assert_round_trip(
        "# only a comment\n",
        Format::Yaml,
        &["extensions"],
        &goose_entry(),
    );
    let four_spaces = "extensions:\n    developer:\n        enabled: true\nGOOSE_MODE: auto\n";
    assert_round_trip(four_spaces, Format::Yaml, &["extensions"], &goose_entry());
    let windows = "GOOSE_PROVIDER: openai\r\nextensions:\r\n  developer:\r\n    enabled: true\r\n";
    assert_round_trip(windows, Format::Yaml, &["extensions"], &goose_entry());
    let with_crlf = after_set(
        windows,
        Format::Yaml,
        &["extensions"],
        "gatehouse",
        &goose_entry(),
    );
    assert!(
        !with_crlf.replace("\r\n", "").contains('\n'),
        "{with_crlf:?}"
    );
    let marked = "---\nextensions:\n  developer:\n    enabled: true\n...\n";
    assert_round_trip(marked, Format::Yaml, &["extensions"], &goose_entry());
    assert_round_trip(
        GOOSE,
        Format::Yaml,
        &["projects", "/home/me/app.v2", "extensions"],
        &goose_entry(),
    );
    // A flow mapping takes the entry in flow style.
    assert_round_trip(
        "extensions: {developer: {enabled: true}}\n",
        Format::Yaml,
        &["extensions"],
        &goose_entry(),
    );
    // The blank line ends a keep-chomped block scalar's value: the entry
    // must go after it, not before.
    let kept = "extensions:\n  dev:\n    note: |+\n      hello\n\nGOOSE_MODE: x\n";
    assert_round_trip(kept, Format::Yaml, &["extensions"], &goose_entry());
    let reread = parse(
        &after_set(
            kept,
            Format::Yaml,
            &["extensions"],
            "gatehouse",
            &goose_entry(),
        ),
        Format::Yaml,
    );
    assert_eq!(
        reread.get(&["extensions"], "dev").unwrap(),
        Some(serde_json::json!({ "note": "hello\n\n" }))
    );
}

#[test]
fn yaml_empty_file_becomes_a_fresh_file_and_back() {
    for blank in ["", "\n"] {
        let mut doc = parse(blank, Format::Yaml);
        assert!(!doc.remove(&["extensions"], "gatehouse").unwrap());
        assert_eq!(doc.to_text(), blank);
        doc.set(&["extensions"], "gatehouse", &goose_entry())
            .unwrap();
        let expected = r#"extensions:
  gatehouse:
    name: gatehouse
    type: streamable_http
    uri: http://127.0.0.1:8765/mcp
    description: 'Gatehouse: every server, approved'
    headers:
      Authorization: 'Bearer gh_3f9a#x'
    envs: {}
    env_keys: []
    enabled: true
    timeout: 300
"#;
        assert_eq!(doc.to_text(), expected);
        assert!(doc.remove(&["extensions"], "gatehouse").unwrap());
        assert_eq!(doc.to_text(), blank);
    }
}

#[test]
fn yaml_empty_flow_map_becomes_a_block() {
    let text = "GOOSE_PROVIDER: openai\nextensions: {}\nGOOSE_MODE: auto\n";
    let value = Value::object([
        ("name", Value::from("gatehouse")),
        ("enabled", Value::from(true)),
    ]);
    let written = after_set(text, Format::Yaml, &["extensions"], "gatehouse", &value);
    assert_eq!(
        written,
        "GOOSE_PROVIDER: openai\nextensions:\n  gatehouse:\n    name: gatehouse\n    enabled: true\nGOOSE_MODE: auto\n"
    );
    // The emptied map goes, as for the other formats.
    assert_eq!(
        after_remove(&written, Format::Yaml, &["extensions"], "gatehouse"),
        (
            true,
            "GOOSE_PROVIDER: openai\nGOOSE_MODE: auto\n".to_owned()
        )
    );
}

#[test]
fn yaml_map_holding_a_comment_is_kept_when_emptied() {
    let text =
        "extensions:\n  # the one we add\n  gatehouse:\n    name: gatehouse\nGOOSE_MODE: auto\n";
    let (removed, written) = after_remove(text, Format::Yaml, &["extensions"], "gatehouse");
    assert!(removed);
    assert!(written.contains("# the one we add"), "{written}");
    let doc = parse(&written, Format::Yaml);
    assert_eq!(doc.entries(&["extensions"]).unwrap(), vec![]);
    assert_eq!(
        doc.get(&[], "GOOSE_MODE").unwrap(),
        Some(serde_json::json!("auto"))
    );
}

#[test]
fn yaml_strings_are_quoted_to_read_back_the_same() {
    let awkward = [
        "true",
        "False",
        "yes",
        "No",
        "on",
        "off",
        "y",
        "null",
        "~",
        "",
        " lead",
        "trail ",
        "1",
        "0x1F",
        "0o17",
        "1_000",
        "1e3",
        ".inf",
        "-.5",
        "+1",
        "12:30",
        "2025-01-02",
        "#hash",
        "a #b",
        "key: value",
        "ends with:",
        "- dash",
        "-y",
        "[x",
        "{x",
        "]",
        "}",
        "*alias",
        "&anchor",
        "!tag",
        "%dir",
        "@at",
        "`tick",
        "'single'",
        "\"double\"",
        "|",
        ">",
        "?",
        ",",
        "<<",
        "=",
        "multi\nline",
        "tab\there",
        "cr\rhere",
        "bell\u{7}",
        "nel\u{85}",
        "ls\u{2028}",
        "bom\u{feff}",
        "é ü 日本",
        "C:\\Users\\me",
        "a'b\"c",
        "Bearer abc",
        "http://127.0.0.1:8765/mcp?x=1#frag",
        "/usr/local/bin/gatehouse",
        "---",
        "...",
    ];
    let pairs: Vec<(String, Value)> = awkward
        .iter()
        .enumerate()
        .map(|(i, s)| (format!("k{i}"), Value::from(*s)))
        .collect();
    let value = Value::Object(
        pairs
            .into_iter()
            .chain([
                ("list".to_owned(), Value::strings(awkward)),
                (
                    "keys".to_owned(),
                    Value::Object(
                        awkward
                            .iter()
                            .map(|s| ((*s).to_owned(), Value::from(*s)))
                            .collect(),
                    ),
                ),
                (
                    "nested".to_owned(),
                    Value::Array(vec![
                        Value::object([("a", Value::from("x: y")), ("b", Value::strings(["1"]))]),
                        Value::Array(vec![Value::from(1), Value::from(false)]),
                        Value::Array(Vec::new()),
                        Value::Object(Vec::new()),
                    ]),
                ),
            ])
            .collect(),
    );
    let written = after_set(GOOSE, Format::Yaml, &["extensions"], "gatehouse", &value);
    let doc = parse(&written, Format::Yaml);
    assert_eq!(
        doc.get(&["extensions"], "gatehouse").unwrap(),
        Some(value.to_json()),
        "{written}"
    );
    assert_eq!(
        after_remove(&written, Format::Yaml, &["extensions"], "gatehouse"),
        (true, GOOSE.to_owned())
    );
}

#[test]
fn yaml_entries_convert_every_kind() {
    let text = "extensions:\n  x:\n    n: 12\n    f: 1.5\n    b: false\n    z: null\n    e:\n    s: 'quoted'\n    plain: yes\n    octal: 0o17\n    l: [a, 1]\n    anchored: &shared {k: v}\n    again: *shared\n    tagged: !!str 123\n";
    let doc = parse(text, Format::Yaml);
    assert_eq!(
        doc.get(&["extensions"], "x").unwrap(),
        Some(serde_json::json!({
            "n": 12, "f": 1.5, "b": false, "z": null, "e": null, "s": "quoted",
            "plain": "yes", "octal": 15, "l": ["a", 1],
            "anchored": {"k": "v"}, "again": {"k": "v"}, "tagged": "123"
        }))
    );
}

#[test]
fn yaml_wrong_shapes_are_refused() {
    for (text, found) in [
        ("extensions: []\n", "an array"),
        ("extensions:\n- a\n", "an array"),
        ("extensions: text\n", "a string"),
        ("extensions:\n", "null"),
        ("extensions: 3\n", "a number"),
    ] {
        let mut doc = parse(text, Format::Yaml);
        let wrong = ShapeError {
            path: "extensions".to_owned(),
            found,
        };
        assert_eq!(doc.entries(&["extensions"]), Err(wrong.clone()), "{text}");
        assert_eq!(
            doc.set(&["extensions"], "gatehouse", &goose_entry()),
            Err(wrong)
        );
        assert_eq!(doc.to_text(), text);
    }
    let mut doc = parse("- a\n- b\n", Format::Yaml);
    assert_eq!(
        doc.set(&["extensions"], "gatehouse", &goose_entry()),
        Err(ShapeError {
            path: String::new(),
            found: "an array",
        })
    );
}

#[test]
fn yaml_syntax_errors_say_where() {
    let cases = [
        // The parser notices at the end of the text.
        ("extensions: [unclosed\n", 2),
        (
            "GOOSE_MODE: auto\nextensions:\n\tdeveloper:\n\t\tenabled: true\n",
            3,
        ),
        ("GOOSE_MODE: a: b\n", 1),
        ("extensions:\n  a: 1\n b: 2\n", 3),
        ("key: \"unterminated\n", 1),
        ("a: 1\na: 2\n", 2),
        ("a: 1\n---\nb: 2\n", 2),
    ];
    for (text, line) in cases {
        match Document::parse(text, Format::Yaml) {
            Err(error) => assert_eq!(error.line, line, "{text:?}: {error}"),
            Ok(_) => panic!("{text:?} should not parse"),
        }
    }
    let error = Document::parse("GOOSE_MODE: a: b\n", Format::Yaml).unwrap_err();
    assert_eq!((error.line, error.column), (1, 14));
}

// ---------------------------------------------------------- all formats

#[test]
fn setting_the_same_entry_twice_changes_nothing_more() {
    for (text, format, path) in [
        (CLAUDE_DESKTOP, Format::Json, "mcpServers"),
        (VSCODE, Format::Jsonc, "servers"),
        (CODEX, Format::Toml, "mcp_servers"),
        (GOOSE, Format::Yaml, "extensions"),
    ] {
        let once = after_set(text, format, &[path], "gatehouse", &http_entry());
        let twice = after_set(&once, format, &[path], "gatehouse", &http_entry());
        assert_eq!(once, twice, "{format:?}");
    }
}

#[test]
fn key_order_of_an_entry_is_kept() {
    let value = Value::object([
        ("zeta", Value::from(1)),
        ("alpha", Value::from(2)),
        ("mid", Value::from(3)),
    ]);
    for format in [Format::Json, Format::Toml, Format::Yaml] {
        let text = after_set("", format, &["servers"], "gatehouse", &value);
        let zeta = text.find("zeta");
        let alpha = text.find("alpha");
        let mid = text.find("mid");
        assert!(zeta < alpha && alpha < mid, "{format:?}: {text}");
    }
}
