//! Renders CLI output: tables for people, JSON for scripts.

use gatehouse_core::config::Config;
use gatehouse_core::control::{LogReport, ServerReport};
use gatehouse_core::doctor::{Check, Severity};
use gatehouse_core::secrets::SecretEntry;
use serde::Serialize;

#[derive(Serialize)]
struct ServerRow<'a> {
    name: &'a str,
    enabled: bool,
    command: &'a str,
    args: &'a [String],
    env: Vec<&'a str>,
    secret_env: &'a [String],
}

/// `gatehouse server list`.
pub fn server_list(config: &Config, json: bool) -> String {
    let rows: Vec<ServerRow<'_>> = config
        .servers
        .iter()
        .map(|spec| ServerRow {
            name: spec.name.as_str(),
            enabled: spec.enabled,
            command: &spec.command,
            args: &spec.args,
            // Names only: values of plain env vars may still be sensitive.
            env: spec.env.keys().map(String::as_str).collect(),
            secret_env: &spec.secret_env,
        })
        .collect();
    if json {
        return serde_json::to_string_pretty(&rows).unwrap_or_default() + "\n";
    }
    if rows.is_empty() {
        return "No servers configured. Add one with `gatehouse server add NAME -- CMD [ARGS...]`.\n"
            .to_owned();
    }
    let width = rows
        .iter()
        .map(|row| row.name.len())
        .max()
        .unwrap_or(4)
        .max(4);
    let mut out = format!("{:<width$}  {:<8}  COMMAND\n", "NAME", "ENABLED");
    for row in rows {
        let command = command_line(row.command, row.args);
        let enabled = if row.enabled { "yes" } else { "no" };
        out.push_str(&format!("{:<width$}  {enabled:<8}  {command}\n", row.name));
    }
    out
}

#[derive(Serialize)]
struct CheckRow<'a> {
    name: &'a str,
    status: &'static str,
    summary: &'a str,
    fix: Option<&'a str>,
}

fn status(severity: Severity) -> &'static str {
    match severity {
        Severity::Ok => "ok",
        Severity::Warn => "warn",
        Severity::Fail => "fail",
    }
}

/// `gatehouse doctor`.
pub fn doctor(checks: &[Check], json: bool) -> String {
    if json {
        let rows: Vec<CheckRow<'_>> = checks
            .iter()
            .map(|check| CheckRow {
                name: &check.name,
                status: status(check.severity),
                summary: &check.summary,
                fix: check.fix.as_deref(),
            })
            .collect();
        return serde_json::to_string_pretty(&rows).unwrap_or_default() + "\n";
    }
    let mut out = String::new();
    for check in checks {
        let mark = match check.severity {
            Severity::Ok => "ok  ",
            Severity::Warn => "warn",
            Severity::Fail => "FAIL",
        };
        out.push_str(&format!("[{mark}] {}: {}\n", check.name, check.summary));
        if let Some(fix) = &check.fix {
            out.push_str(&format!("       fix: {fix}\n"));
        }
    }
    let failed = checks
        .iter()
        .filter(|c| c.severity == Severity::Fail)
        .count();
    let warned = checks
        .iter()
        .filter(|c| c.severity == Severity::Warn)
        .count();
    out.push_str(&match (failed, warned) {
        (0, 0) => "\nEverything looks good.\n".to_owned(),
        _ => format!("\n{failed} problem(s), {warned} warning(s).\n"),
    });
    out
}

#[derive(Serialize)]
struct SecretRow<'a> {
    server: &'a str,
    key: &'a str,
    set: bool,
}

/// `gatehouse secret list`: names and whether each is set, never values.
pub fn secret_list(entries: &[SecretEntry], json: bool) -> String {
    if json {
        let rows: Vec<SecretRow<'_>> = entries
            .iter()
            .map(|entry| SecretRow {
                server: &entry.server,
                key: &entry.key,
                set: entry.is_set,
            })
            .collect();
        return serde_json::to_string_pretty(&rows).unwrap_or_default() + "\n";
    }
    if entries.is_empty() {
        return "No secrets configured. Name them in a server's `secret_env`, then `gatehouse secret set SERVER KEY`.\n".to_owned();
    }
    let width = entries
        .iter()
        .map(|e| e.server.len())
        .max()
        .unwrap_or(6)
        .max(6);
    let key_width = entries
        .iter()
        .map(|e| e.key.len())
        .max()
        .unwrap_or(3)
        .max(3);
    let mut out = format!("{:<width$}  {:<key_width$}  VALUE\n", "SERVER", "KEY");
    for entry in entries {
        let state = if entry.is_set { "set" } else { "missing" };
        out.push_str(&format!(
            "{:<width$}  {:<key_width$}  {state}\n",
            entry.server, entry.key
        ));
    }
    out
}

fn json<T: Serialize>(value: &T) -> String {
    serde_json::to_string_pretty(value).unwrap_or_default() + "\n"
}

/// `gatehouse server list` with a running Gatehouse: live states.
pub fn live_list(servers: &[ServerReport], as_json: bool) -> String {
    if as_json {
        return json(&servers);
    }
    if servers.is_empty() {
        return "No servers configured. Add one with `gatehouse server add NAME -- CMD [ARGS...]`.\n".to_owned();
    }
    let width = servers
        .iter()
        .map(|s| s.name.len())
        .max()
        .unwrap_or(4)
        .max(4);
    let mut out = format!(
        "{:<width$}  {:<11}  {:>5}  COMMAND\n",
        "NAME", "STATE", "TOOLS"
    );
    for server in servers {
        let command = command_line(&server.command, &server.args);
        out.push_str(&format!(
            "{:<width$}  {:<11}  {:>5}  {command}\n",
            server.name,
            server.state,
            server.tools.len()
        ));
    }
    out
}

/// `gatehouse server show NAME`.
pub fn show(servers: &[ServerReport], as_json: bool) -> String {
    let Some(server) = servers.first() else {
        return String::new();
    };
    if as_json {
        return json(server);
    }
    let mut out = format!("{}\n  state     {}\n", server.name, server.state);
    if let Some(detail) = &server.detail {
        out.push_str(&format!("  detail    {detail}\n"));
    }
    let command = command_line(&server.command, &server.args);
    out.push_str(&format!("  command   {command}\n"));
    if let Some(resolved) = &server.resolved_command {
        out.push_str(&format!("  resolved  {resolved}\n"));
    }
    if let Some(pid) = server.pid {
        out.push_str(&format!("  pid       {pid}\n"));
    }
    out.push_str(&format!(
        "  restarts  {}\n  tools     {}\n",
        server.restarts,
        server.tools.len()
    ));
    for tool in &server.tools {
        out.push_str(&format!("    {}\n", tool.name));
    }
    out
}

/// `gatehouse server tools NAME`: `{name, description, inputSchema,
/// annotations}` per tool as JSON, or a readable list.
pub fn tools(servers: &[ServerReport], as_json: bool) -> String {
    let tools = servers
        .first()
        .map(|s| s.tools.as_slice())
        .unwrap_or_default();
    if as_json {
        return json(&tools);
    }
    let mut out = String::new();
    for tool in tools {
        let hints = tool
            .annotations
            .as_ref()
            .and_then(|a| a.as_object())
            .map(|a| {
                a.iter()
                    .filter(|(key, value)| key.ends_with("Hint") && value.as_bool() == Some(true))
                    .map(|(key, _)| key.trim_end_matches("Hint"))
                    .collect::<Vec<_>>()
                    .join(", ")
            })
            .unwrap_or_default();
        out.push_str(&tool.name);
        if !hints.is_empty() {
            out.push_str(&format!(" [{hints}]"));
        }
        out.push('\n');
        if let Some(description) = &tool.description {
            out.push_str(&format!("    {description}\n"));
        }
    }
    out
}

/// Log lines as `2026-11-21T00:57:42.399Z stderr    text`, as in the files.
pub fn log_lines(lines: &[LogReport]) -> String {
    let mut out = String::new();
    for line in lines {
        let time = std::time::UNIX_EPOCH + std::time::Duration::from_millis(line.time_ms);
        out.push_str(&format!(
            "{} {:<9} {}\n",
            humantime::format_rfc3339_millis(time),
            line.stream,
            line.text
        ));
    }
    out
}

/// The last `lines` lines of a server's newest log file, for when no
/// Gatehouse runs.
pub fn log_file_tail(dir: &std::path::Path, server: &str, lines: usize) -> anyhow::Result<String> {
    let prefix = format!("{server}.");
    let newest = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| {
            path.file_name()
                .and_then(|name| name.to_str())
                .is_some_and(|name| name.starts_with(&prefix) && name.ends_with(".log"))
        })
        .max();
    let Some(newest) = newest else {
        anyhow::bail!(
            "Gatehouse is not running and there is no log of `{server}` in {}",
            dir.display()
        );
    };
    let text = std::fs::read_to_string(&newest)?;
    let all: Vec<&str> = text.lines().collect();
    let skip = all.len().saturating_sub(lines);
    Ok(all[skip..].iter().map(|line| format!("{line}\n")).collect())
}

/// `command arg…`, as a person would type it.
fn command_line(command: &str, args: &[String]) -> String {
    std::iter::once(command)
        .chain(args.iter().map(String::as_str))
        .collect::<Vec<_>>()
        .join(" ")
}
