//! Reading the servers a client already has, so Gatehouse can run them
//! instead: each entry's command, arguments and environment, with the
//! values that look like credentials set apart for the keyring.

use gatehouse_secrets::{Secret, names_a_secret};

use crate::entry::{Dialect, parse_entry_name};

/// A server found in a client's file.
#[derive(Debug, Clone)]
pub struct Candidate {
    /// Its name in the client's file.
    pub name: String,
    /// The program; `None` when the entry is not a local command.
    pub command: Option<String>,
    /// Its arguments.
    pub args: Vec<String>,
    /// Environment variables kept as plain config.
    pub env: Vec<(String, String)>,
    /// Environment variables whose values look like credentials.
    pub secrets: Vec<(String, Secret)>,
    /// Its working directory, if the entry sets one.
    pub cwd: Option<String>,
    /// Whether the client has it switched on.
    pub enabled: bool,
    /// Why it cannot be imported, if it cannot.
    pub skip: Option<String>,
}

/// Value prefixes of well-known credentials, for env names that do not
/// say "key" or "token" (e.g. `GITHUB_PERSONAL_ACCESS` → `ghp_…`).
const SECRET_PREFIXES: &[&str] = &[
    "sk-",
    "ghp_",
    "gho_",
    "ghu_",
    "ghs_",
    "github_pat_",
    "glpat-",
    "xoxb-",
    "xoxp-",
    "xapp-",
    "AKIA",
    "AIza",
    "hf_",
    "pk_live_",
    "sk_live_",
    "rk_live_",
];

/// Whether an environment variable holds a credential: by its name or by
/// its value's shape. A reference such as `${env:TOKEN}` is not a value.
pub fn looks_secret(key: &str, value: &str) -> bool {
    if value.is_empty() || value.contains("${") || value.starts_with("{env:") {
        return false;
    }
    names_a_secret(key)
        || SECRET_PREFIXES
            .iter()
            .any(|prefix| value.starts_with(prefix))
}

/// The servers in a client's entries, Gatehouse's own left out.
pub fn candidates(dialect: Dialect, entries: Vec<(String, serde_json::Value)>) -> Vec<Candidate> {
    entries
        .into_iter()
        .filter(|(name, _)| parse_entry_name(name).is_none())
        .map(|(name, entry)| candidate(dialect, name, &entry))
        .collect()
}

fn candidate(dialect: Dialect, name: String, entry: &serde_json::Value) -> Candidate {
    let text = |key: &str| {
        entry
            .get(key)
            .and_then(serde_json::Value::as_str)
            .map(str::to_owned)
    };
    let strings = |key: &str| -> Vec<String> {
        entry
            .get(key)
            .and_then(serde_json::Value::as_array)
            .map(|items| items.iter().map(scalar_text).collect())
            .unwrap_or_default()
    };
    let (command, args) = match dialect {
        Dialect::Opencode => {
            let mut argv = strings("command");
            if argv.is_empty() {
                (None, Vec::new())
            } else {
                let program = argv.remove(0);
                (Some(program), argv)
            }
        }
        Dialect::Goose => (text("cmd"), strings("args")),
        _ => (text("command"), strings("args")),
    };
    let env_key = match dialect {
        Dialect::Opencode => "environment",
        Dialect::Goose => "envs",
        _ => "env",
    };
    let mut env = Vec::new();
    let mut secrets = Vec::new();
    if let Some(map) = entry.get(env_key).and_then(serde_json::Value::as_object) {
        for (key, value) in map {
            let value = scalar_text(value);
            if looks_secret(key, &value) {
                secrets.push((key.clone(), Secret::new(value)));
            } else {
                env.push((key.clone(), value));
            }
        }
    }
    let disabled = entry.get("disabled").and_then(serde_json::Value::as_bool) == Some(true)
        || entry.get("enabled").and_then(serde_json::Value::as_bool) == Some(false);
    let remote = ["url", "serverUrl", "httpUrl", "uri"]
        .iter()
        .any(|key| entry.get(key).is_some());
    let skip = if remote {
        Some(
            "a remote server (URL): Gatehouse runs local servers; keep it in the client".to_owned(),
        )
    } else if command.is_none() {
        Some("no command to run".to_owned())
    } else {
        None
    };
    Candidate {
        name,
        command,
        args,
        env,
        secrets,
        cwd: text("cwd"),
        enabled: !disabled,
        skip,
    }
}

fn scalar_text(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}
