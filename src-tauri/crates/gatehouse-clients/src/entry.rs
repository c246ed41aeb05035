//! Gatehouse's entry in each client's spelling, and how an existing entry
//! compares with it.
//!
//! Two forms. The HTTP form points at the endpoint and carries the bearer
//! token in that client's header field; it is for HTTP-capable clients in
//! user scope. The stdio form runs `gatehouse bridge` and carries no token;
//! it is for stdio-only clients (Claude Desktop) and for every project file,
//! which gets committed.
//!
//! Claude Code's HTTP entry carries no token either: its `headersHelper`
//! runs `gatehouse token header` for it. Its user file is Claude Code's own
//! state, often pasted into bug reports, and the entry is handed to
//! `claude mcp add-json` on its command line, where any local user could
//! read a token.

use std::path::PathBuf;

use gatehouse_secrets::Secret;
use serde::Serialize;

use crate::catalog::Scope;
use crate::environment::Os;
use crate::value::Value;

/// The name of the aggregate entry; per-server entries are `gatehouse-NAME`.
pub const ENTRY_NAME: &str = "gatehouse";

/// The entry's name: `gatehouse`, or `gatehouse-SERVER` for one server.
pub fn entry_name(server: Option<&str>) -> String {
    match server {
        Some(server) => format!("{ENTRY_NAME}-{server}"),
        None => ENTRY_NAME.to_owned(),
    }
}

/// Whether `name` is one of Gatehouse's entries, and for which server.
/// `Some(None)` is the aggregate entry.
pub fn parse_entry_name(name: &str) -> Option<Option<&str>> {
    if name == ENTRY_NAME {
        return Some(None);
    }
    name.strip_prefix("gatehouse-")
        .filter(|server| !server.is_empty())
        .map(Some)
}

/// What an entry is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Form {
    /// The endpoint's URL with the token header.
    Http,
    /// The `gatehouse bridge` command.
    Stdio,
}

/// How to start the bridge from a user-scope entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BridgeCommand {
    /// This Gatehouse's executable, absolute.
    pub program: PathBuf,
    /// Arguments before `bridge`, e.g. `--config FILE` when Gatehouse runs
    /// with a config file of its own.
    pub leading_args: Vec<String>,
    /// Environment the bridge needs to find this Gatehouse, e.g.
    /// `GATEHOUSE_HOME` when it is set.
    pub env: Vec<(String, String)>,
}

/// What the entries point at: this Gatehouse.
#[derive(Debug, Clone)]
pub struct Target {
    /// The aggregate endpoint, e.g. `http://127.0.0.1:8737/mcp`.
    pub url: String,
    /// The endpoint's bearer token.
    pub token: Secret,
    /// The bridge command for user-scope stdio entries.
    pub bridge: BridgeCommand,
}

impl Target {
    /// The URL of the aggregate endpoint or of one server's.
    pub fn url_for(&self, server: Option<&str>) -> String {
        let base = self.url.trim_end_matches('/');
        match server {
            Some(server) => format!("{base}/{server}"),
            None => base.to_owned(),
        }
    }

    fn authorization(&self) -> String {
        format!("Bearer {}", self.token.expose())
    }

    fn headers(&self) -> Value {
        Value::object([("Authorization", Value::from(self.authorization()))])
    }

    /// The bridge's program and arguments: the absolute program with what
    /// finds this Gatehouse in user scope, plain `gatehouse bridge` in a
    /// project (other machines have Gatehouse elsewhere).
    fn bridge_argv(&self, scope: Scope, server: Option<&str>) -> (String, Vec<String>) {
        let mut args = Vec::new();
        let program = match scope {
            Scope::User => {
                args.extend(self.bridge.leading_args.iter().cloned());
                self.bridge.program.to_string_lossy().into_owned()
            }
            Scope::Project => "gatehouse".to_owned(),
        };
        args.push("bridge".to_owned());
        if let Some(server) = server {
            args.push("--server".to_owned());
            args.push(server.to_owned());
        }
        (program, args)
    }

    /// The shell command that prints the token header for Claude Code's
    /// `headersHelper`, which it runs through the shell: this Gatehouse's
    /// `token header`, with what finds this Gatehouse, quoted for `os`.
    pub fn header_helper(&self, os: Os) -> String {
        let mut words: Vec<String> = Vec::new();
        for (key, value) in &self.bridge.env {
            words.push(match os {
                Os::Windows => format!("set \"{key}={value}\" &&"),
                Os::Linux | Os::MacOs => format!("{key}={}", shell_word(os, value)),
            });
        }
        words.push(shell_word(os, &self.bridge.program.to_string_lossy()));
        words.extend(
            self.bridge
                .leading_args
                .iter()
                .map(|arg| shell_word(os, arg)),
        );
        words.extend(["token".to_owned(), "header".to_owned()]);
        words.join(" ")
    }

    fn bridge_env(&self, scope: Scope) -> Option<Value> {
        if scope == Scope::Project || self.bridge.env.is_empty() {
            return None;
        }
        Some(Value::object(self.bridge.env.iter().map(|(key, value)| {
            (key.clone(), Value::from(value.as_str()))
        })))
    }
}

/// `word` as one word of a shell command: as it is when nothing in it is
/// special, else single-quoted (POSIX) or double-quoted (`cmd.exe`, where a
/// path cannot hold a `"`).
fn shell_word(os: Os, word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "/._-:=@%+,".contains(c));
    match os {
        _ if plain => word.to_owned(),
        Os::Windows => format!("\"{word}\""),
        Os::Linux | Os::MacOs => format!("'{}'", word.replace('\'', r"'\''")),
    }
}

/// A client's way of spelling entries (clients.md §2.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// `{command, args, env}` only: Claude Desktop.
    StdioOnly,
    /// `{type: "http", url, headers}` / `{type: "stdio", command, args}`:
    /// VS Code, Gemini CLI.
    TypeHttp,
    /// `{type: "http", url, headersHelper}` / `{type: "stdio", command,
    /// args}`: Claude Code, which asks the helper for the token.
    ClaudeCode,
    /// `{url, headers}` / `{command, args}`: Cursor, Zed, LM Studio, Kiro.
    UrlOnly,
    /// `{serverUrl, headers}`: Windsurf.
    ServerUrl,
    /// `{type: "streamableHttp", url, headers}`; no `type` would mean SSE.
    Cline,
    /// `{type: "streamable-http", url, headers}`; `type` is required: Roo Code.
    StreamableHttp,
    /// TOML `url` + `http_headers`: Codex.
    Codex,
    /// YAML extension `{type: streamable_http, uri, headers, …}`: Goose.
    Goose,
    /// `{type: "remote", url, headers}` / `{type: "local", command: [..]}`.
    Opencode,
    /// `{type: "http", url, headers}` / `{command, args}`: Continue's JSON files.
    Continue,
}

impl Dialect {
    /// The form an entry takes in `scope`.
    pub fn form(self, scope: Scope) -> Form {
        match (self, scope) {
            (Dialect::StdioOnly, _) | (_, Scope::Project) => Form::Stdio,
            (_, Scope::User) => Form::Http,
        }
    }

    /// Gatehouse's entry for `server` (or the aggregate) in `scope`.
    /// `os` is the machine's, whose shell runs Claude Code's helper.
    pub fn render(self, target: &Target, os: Os, scope: Scope, server: Option<&str>) -> Value {
        match self.form(scope) {
            Form::Http => self.http(target, os, server),
            Form::Stdio => self.stdio(target, scope, server),
        }
    }

    fn http(self, target: &Target, os: Os, server: Option<&str>) -> Value {
        let url = Value::from(target.url_for(server));
        let headers = target.headers();
        match self {
            Dialect::ClaudeCode => Value::object([
                ("type", Value::from("http")),
                ("url", url),
                ("headersHelper", Value::from(target.header_helper(os))),
            ]),
            Dialect::TypeHttp | Dialect::Continue => Value::object([
                ("type", Value::from("http")),
                ("url", url),
                ("headers", headers),
            ]),
            Dialect::StdioOnly | Dialect::UrlOnly => {
                Value::object([("url", url), ("headers", headers)])
            }
            Dialect::ServerUrl => Value::object([("serverUrl", url), ("headers", headers)]),
            Dialect::Cline => Value::object([
                ("type", Value::from("streamableHttp")),
                ("url", url),
                ("headers", headers),
                ("disabled", Value::from(false)),
            ]),
            Dialect::StreamableHttp => Value::object([
                ("type", Value::from("streamable-http")),
                ("url", url),
                ("headers", headers),
            ]),
            Dialect::Codex => Value::object([("url", url), ("http_headers", headers)]),
            Dialect::Goose => Value::object([
                ("type", Value::from("streamable_http")),
                ("name", Value::from(entry_name(server))),
                ("enabled", Value::from(true)),
                ("description", Value::from(description(server))),
                ("uri", url),
                ("headers", headers),
                ("timeout", Value::from(300)),
            ]),
            Dialect::Opencode => Value::object([
                ("type", Value::from("remote")),
                ("url", url),
                ("headers", headers),
                ("enabled", Value::from(true)),
            ]),
        }
    }

    fn stdio(self, target: &Target, scope: Scope, server: Option<&str>) -> Value {
        let (program, args) = target.bridge_argv(scope, server);
        let env = target.bridge_env(scope);
        let mut pairs: Vec<(String, Value)> = Vec::new();
        let mut push = |key: &str, value: Value| pairs.push((key.to_owned(), value));
        match self {
            Dialect::Opencode => {
                push("type", Value::from("local"));
                let mut command = vec![program];
                command.extend(args);
                push("command", Value::strings(command));
                if let Some(env) = env {
                    push("environment", env);
                }
                push("enabled", Value::from(true));
            }
            Dialect::Goose => {
                push("type", Value::from("stdio"));
                push("name", Value::from(entry_name(server)));
                push("enabled", Value::from(true));
                push("description", Value::from(description(server)));
                push("cmd", Value::from(program));
                push("args", Value::strings(args));
                if let Some(env) = env {
                    push("envs", env);
                }
                push("timeout", Value::from(300));
            }
            _ => {
                if matches!(self, Dialect::TypeHttp | Dialect::ClaudeCode) {
                    push("type", Value::from("stdio"));
                }
                push("command", Value::from(program));
                push("args", Value::strings(args));
                if let Some(env) = env {
                    push("env", env);
                }
            }
        }
        Value::Object(pairs)
    }
}

fn description(server: Option<&str>) -> String {
    match server {
        Some(server) => format!("{server}, through Gatehouse"),
        None => "Your local MCP servers, through Gatehouse".to_owned(),
    }
}

/// How an entry in a file compares with the one Gatehouse would write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Comparison {
    /// The same.
    Current,
    /// Different; why, in a sentence.
    Outdated(String),
}

/// The keys that say how a client reaches Gatehouse, in any client's
/// spelling. They are Gatehouse's: a register or refresh rewrites them.
/// Every other key of Gatehouse's entry (Cline's `autoApprove`, Zed's
/// `enabled`, a `timeout` the user raised) is the user's and is kept.
const TRANSPORT_KEYS: &[&str] = &[
    "type",
    "url",
    "serverUrl",
    "httpUrl",
    "uri",
    "headers",
    "http_headers",
    "headersHelper",
    "command",
    "args",
    "env",
    "cmd",
    "envs",
    "environment",
    // Zed's older spelling of a custom stdio server.
    "source",
];

/// The entry to write over `existing`: `wanted`, with the user's own
/// settings from `existing` kept (its values for the non-transport keys
/// Gatehouse also writes, and any key Gatehouse does not write). A value
/// that an entry cannot hold (a fraction, a null) is not carried over.
pub fn merge(existing: Option<&serde_json::Value>, wanted: Value) -> Value {
    let (Some(serde_json::Value::Object(existing)), Value::Object(mut pairs)) =
        (existing, wanted.clone())
    else {
        return wanted;
    };
    for (key, value) in &mut pairs {
        if !TRANSPORT_KEYS.contains(&key.as_str())
            && let Some(theirs) = existing.get(key.as_str()).and_then(Value::from_json)
        {
            *value = theirs;
        }
    }
    for (key, value) in existing {
        if TRANSPORT_KEYS.contains(&key.as_str()) || pairs.iter().any(|(k, _)| k == key) {
            continue;
        }
        if let Some(value) = Value::from_json(value) {
            pairs.push((key.clone(), value));
        }
    }
    Value::Object(pairs)
}

/// Compares what a file holds with what Gatehouse would write, and says
/// what is out of date without ever printing a token. Only the transport
/// keys count: the user's own settings in the entry never make it outdated.
pub fn compare(existing: &serde_json::Value, wanted: &Value) -> Comparison {
    let wanted = wanted.to_json();
    if TRANSPORT_KEYS
        .iter()
        .all(|key| existing.get(key) == wanted.get(key))
    {
        return Comparison::Current;
    }
    let address = |value: &serde_json::Value| {
        ["url", "serverUrl", "uri"]
            .iter()
            .find_map(|key| value.get(key).and_then(serde_json::Value::as_str))
            .map(str::to_owned)
    };
    let program = |value: &serde_json::Value| {
        ["command", "cmd"]
            .iter()
            .find_map(|key| match value.get(key) {
                Some(serde_json::Value::String(program)) => Some(program.clone()),
                Some(serde_json::Value::Array(argv)) => argv
                    .first()
                    .and_then(serde_json::Value::as_str)
                    .map(str::to_owned),
                _ => None,
            })
    };
    let reason = match (
        address(existing),
        address(&wanted),
        program(existing),
        program(&wanted),
    ) {
        (Some(old), Some(new), _, _) if old != new => {
            format!("points at {old}; Gatehouse now listens on {new}")
        }
        (_, _, Some(old), Some(new)) if old != new => {
            format!("runs {old}; this Gatehouse is {new}")
        }
        (Some(_), None, _, Some(_)) => {
            "is an HTTP entry; this client needs the bridge command here".to_owned()
        }
        (None, Some(_), Some(_), _) => {
            "runs the bridge; this client can use the HTTP endpoint directly".to_owned()
        }
        (Some(_), Some(_), _, _)
            if existing.get("headers").is_some() && wanted.get("headersHelper").is_some() =>
        {
            "holds the token in the file; Gatehouse now hands it over through `headersHelper`"
                .to_owned()
        }
        (Some(_), Some(_), _, _)
            if existing.get("headersHelper") != wanted.get("headersHelper") =>
        {
            "asks an old Gatehouse for the token".to_owned()
        }
        (Some(_), Some(_), _, _) if headers_differ(existing, &wanted) => {
            "carries an old token".to_owned()
        }
        _ => "differs from the entry Gatehouse writes".to_owned(),
    };
    Comparison::Outdated(reason)
}

fn headers_differ(existing: &serde_json::Value, wanted: &serde_json::Value) -> bool {
    ["headers", "http_headers"]
        .iter()
        .any(|key| existing.get(key) != wanted.get(key))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(program: &str, leading_args: &[&str], env: &[(&str, &str)]) -> Target {
        Target {
            url: "http://127.0.0.1:8737/mcp".to_owned(),
            token: Secret::new("gh-test-token-0123456789".to_owned()),
            bridge: BridgeCommand {
                program: program.into(),
                leading_args: leading_args.iter().map(|a| (*a).to_owned()).collect(),
                env: env
                    .iter()
                    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                    .collect(),
            },
        }
    }

    #[test]
    fn the_header_helper_is_one_shell_command_that_finds_this_gatehouse() {
        assert_eq!(
            target("/usr/bin/gatehouse", &[], &[]).header_helper(Os::Linux),
            "/usr/bin/gatehouse token header"
        );
        let odd = target(
            "/home/ann/My Apps/gatehouse",
            &["--config", "/home/ann/it's/gatehouse.toml"],
            &[("GATEHOUSE_HOME", "/home/ann/g h")],
        );
        assert_eq!(
            odd.header_helper(Os::MacOs),
            r"GATEHOUSE_HOME='/home/ann/g h' '/home/ann/My Apps/gatehouse' --config '/home/ann/it'\''s/gatehouse.toml' token header"
        );
        let windows = target(
            r"C:\Program Files\Gatehouse\gatehouse.exe",
            &[],
            &[("GATEHOUSE_HOME", r"C:\gh")],
        );
        assert_eq!(
            windows.header_helper(Os::Windows),
            r#"set "GATEHOUSE_HOME=C:\gh" && "C:\Program Files\Gatehouse\gatehouse.exe" token header"#
        );
    }

    #[test]
    fn claude_codes_entry_asks_the_helper_and_an_entry_holding_the_token_is_outdated() {
        let target = target("/usr/bin/gatehouse", &[], &[]);
        let wanted = Dialect::ClaudeCode.render(&target, Os::Linux, Scope::User, None);
        let json = wanted.to_json();
        assert_eq!(json["headersHelper"], "/usr/bin/gatehouse token header");
        assert!(!json.to_string().contains("gh-test-token"));
        let old = serde_json::json!({
            "type": "http",
            "url": "http://127.0.0.1:8737/mcp",
            "headers": { "Authorization": "Bearer gh-test-token-0123456789" },
        });
        assert_eq!(
            compare(&old, &wanted),
            Comparison::Outdated(
                "holds the token in the file; Gatehouse now hands it over through `headersHelper`"
                    .to_owned()
            )
        );
        assert_eq!(compare(&json, &wanted), Comparison::Current);
    }
}
