//! `gatehouse approvals`, `gatehouse log` and `gatehouse server policy`.
//!
//! Answers go to the running Gatehouse over the control socket; the log is
//! read straight from its SQLite file (WAL lets a reader in while the app
//! writes), so it works whether or not Gatehouse runs.

use std::io::Write;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::Context;
use gatehouse_core::approvals::{Answer, PendingCall};
use gatehouse_core::config::{self, Paths, Rule};
use gatehouse_core::control::{Client, Request, Response};
use gatehouse_core::store::{CallRow, Decision, Filter, Policy, Store};

use crate::cli::{ApprovalsCommand, DecisionArg, LogCommand, LogFilterArgs, RuleArg};

/// `gatehouse approvals [--pending] [--json]` and `approve|deny ID`.
pub async fn approvals(
    command: Option<&ApprovalsCommand>,
    pending_only: bool,
    json: bool,
    paths: &Paths,
) -> anyhow::Result<()> {
    let mut client = Client::connect(&paths.runtime_dir).await?;
    let (id, answer) = match command {
        None => {
            let Response::Pending(pending) = client.call(&Request::Pending).await? else {
                anyhow::bail!("unexpected answer from Gatehouse");
            };
            let recent = if pending_only {
                Vec::new()
            } else {
                recent_answers(paths)?
            };
            print!("{}", pending_report(&pending, &recent, pending_only, json));
            return Ok(());
        }
        Some(ApprovalsCommand::Approve { id, always: false }) => (*id, Answer::AllowOnce),
        Some(ApprovalsCommand::Approve { id, always: true }) => (*id, Answer::AllowAlways),
        Some(ApprovalsCommand::Deny { id }) => (*id, Answer::Deny),
    };
    client.call(&Request::Answer { id, answer }).await?;
    eprintln!(
        "{} call {id}.",
        match answer {
            Answer::AllowOnce => "Allowed",
            Answer::AllowAlways => "Allowed (always, for this tool)",
            Answer::Deny => "Denied",
        }
    );
    Ok(())
}

/// The last calls a person (or the timeout) decided.
fn recent_answers(paths: &Paths) -> anyhow::Result<Vec<CallRow>> {
    let store = open_store(paths)?;
    let rows = store.query(&Filter {
        limit: Some(500),
        ..Filter::default()
    })?;
    Ok(rows
        .into_iter()
        .filter(|row| row.record.policy == Policy::Ask)
        .take(20)
        .collect())
}

fn pending_report(
    pending: &[PendingCall],
    recent: &[CallRow],
    pending_only: bool,
    json: bool,
) -> String {
    if json {
        let value = if pending_only {
            serde_json::json!(pending)
        } else {
            serde_json::json!({ "pending": pending, "recent": recent })
        };
        return serde_json::to_string_pretty(&value).unwrap_or_default() + "\n";
    }
    let mut out = String::new();
    if pending.is_empty() {
        out.push_str("No calls are waiting for approval.\n");
    } else {
        let now = now_ms();
        for call in pending {
            out.push_str(&format!(
                "{id:>4}  {server}__{tool}  from {client}, denied in {left} s unless answered\n      {reason}\n      arguments: {args}\n",
                id = call.id,
                server = call.server,
                tool = call.tool,
                client = call.client,
                left = (call.deadline_ms - now).max(0) / 1000,
                reason = call.reason_text,
                args = call.arguments,
            ));
            for change in &call.changes {
                out.push_str(&format!(
                    "      changed {}: {} -> {}\n",
                    change.path,
                    shown(change.before.as_ref()),
                    shown(change.after.as_ref())
                ));
            }
        }
        out.push_str("Answer with `gatehouse approvals approve ID [--always]` or `gatehouse approvals deny ID`.\n");
    }
    if !pending_only && !recent.is_empty() {
        out.push_str("\nRecent answers:\n");
        out.push_str(&log_table(recent));
    }
    out
}

fn shown(value: Option<&serde_json::Value>) -> String {
    value.map_or_else(|| "(none)".to_owned(), ToString::to_string)
}

/// `gatehouse log [filters] [--json|--csv]` and `log verify`.
pub fn log(
    command: Option<&LogCommand>,
    filter: &LogFilterArgs,
    json: bool,
    csv: bool,
    paths: &Paths,
) -> anyhow::Result<bool> {
    let store = open_store(paths)?;
    if let Some(LogCommand::Verify { json }) = command {
        let report = store.verify()?;
        if *json {
            println!("{}", serde_json::to_string_pretty(&report)?);
        } else if report.is_ok() {
            println!("{report}");
        } else {
            eprintln!("The call log was tampered with: {report}.");
        }
        return Ok(report.is_ok());
    }
    let filter = to_filter(filter)?;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    if json {
        store.write_json(&filter, &mut out)?;
        writeln!(out)?;
    } else if csv {
        store.write_csv(&filter, &mut out)?;
    } else {
        let rows = store.query(&filter)?;
        if rows.is_empty() {
            writeln!(out, "No calls match.")?;
        } else {
            write!(out, "{}", log_table(&rows))?;
        }
    }
    Ok(true)
}

fn log_table(rows: &[CallRow]) -> String {
    let mut out = format!(
        "{:>6}  {:<20}  {:<28}  {:<32}  {:<8}  {:<8}  {:>7}  OUTCOME\n",
        "ID", "TIME (UTC)", "CLIENT", "TOOL", "DECISION", "BY", "WAIT"
    );
    for row in rows {
        let r = &row.record;
        let time = UNIX_EPOCH + Duration::from_millis(u64::try_from(r.time_ms).unwrap_or(0));
        out.push_str(&format!(
            "{:>6}  {:<20}  {:<28}  {:<32}  {:<8}  {:<8}  {:>7}  {}\n",
            row.id,
            humantime::format_rfc3339_seconds(time).to_string(),
            r.client,
            format!("{}__{}", r.server, r.tool),
            r.decision,
            r.decided_by,
            format!("{:.1}s", r.wait_ms as f64 / 1000.0),
            r.outcome,
        ));
    }
    out
}

fn to_filter(args: &LogFilterArgs) -> anyhow::Result<Filter> {
    Ok(Filter {
        server: args.server.clone(),
        tool: args.tool.clone(),
        decision: args.decision.map(|d| match d {
            DecisionArg::Allowed => Decision::Allowed,
            DecisionArg::Denied => Decision::Denied,
        }),
        since_ms: args.since.as_deref().map(since_ms).transpose()?,
        search: args.search.clone(),
        limit: (args.limit > 0).then_some(args.limit),
        ..Filter::default()
    })
}

/// `90m`, `24h`, `7d` back from now, or an RFC 3339 time or date.
fn since_ms(text: &str) -> anyhow::Result<i64> {
    let when = if let Ok(ago) = humantime::parse_duration(text) {
        SystemTime::now()
            .checked_sub(ago)
            .context("--since reaches before 1970")?
    } else if let Ok(time) = humantime::parse_rfc3339_weak(text) {
        time
    } else if let Ok(time) = humantime::parse_rfc3339_weak(&format!("{text} 00:00:00")) {
        time
    } else {
        anyhow::bail!(
            "--since {text:?}: give a duration back from now (`90m`, `24h`, `7d`) or a UTC time (`2026-11-20`, `2026-11-20T14:00:00Z`)"
        );
    };
    let ms = when
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_millis();
    Ok(i64::try_from(ms).unwrap_or(i64::MAX))
}

/// `gatehouse server policy NAME TOOL RULE`: edits gatehouse.toml; a
/// running Gatehouse applies it from the next call.
pub fn set_policy(server: &str, tool: &str, rule: RuleArg, paths: &Paths) -> anyhow::Result<()> {
    config::load_or_init(&paths.config_file)?;
    let path = &paths.config_file;
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let rule = match rule {
        RuleArg::Allow => Some(Rule::Allow),
        RuleArg::Ask => Some(Rule::Ask),
        RuleArg::Deny => Some(Rule::Deny),
        RuleArg::Default => None,
    };
    let updated = config::edit::set_tool_rule(path, &text, server, tool, rule)?;
    if updated != text {
        config::edit::write_atomically(path, &updated)?;
    }
    match rule {
        Some(rule) => eprintln!("Calls to {server}'s {tool} now: {rule}."),
        None => eprintln!("{server}'s {tool} follows its annotations again."),
    }
    Ok(())
}

fn open_store(paths: &Paths) -> anyhow::Result<Store> {
    paths.create_dirs()?;
    Ok(Store::open(
        paths.data_dir.join(gatehouse_core::STORE_FILE),
    )?)
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}
