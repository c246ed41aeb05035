//! The JSON the UI receives. Core types stay free of serde; these are their
//! serializable counterparts, converted by hand (`ui/src/lib/api.ts` mirrors
//! them).

use std::time::UNIX_EPOCH;

use gatehouse_core::GatewayInfo;
use gatehouse_core::approvals::Approvals;
use gatehouse_core::config::Paths;
use gatehouse_core::config::{ApprovalSettings, Rule};
use gatehouse_core::store::{CallRow, DecidedBy, Decision, Filter, Outcome, Policy, VerifyReport};
use gatehouse_core::supervisor::{LogLine, ServerStatus, ToolInfo};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ServerView {
    name: String,
    state: &'static str,
    command: String,
    args: Vec<String>,
    resolved_command: Option<String>,
    pid: Option<u32>,
    restarts: u32,
    tools: Vec<ToolView>,
    detail: Option<String>,
    since: Option<u64>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ToolView {
    name: String,
    title: Option<String>,
    description: Option<String>,
    read_only: bool,
    destructive: bool,
    /// The user's rule, `None` for the default.
    rule: Option<Rule>,
    /// What a call gets now, and why.
    effective: Rule,
    effective_reason: &'static str,
    /// What "Default" means for this tool.
    default_rule: Rule,
    always_allow: bool,
    changed: bool,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AppInfo {
    version: &'static str,
    config_path: String,
    data_dir: String,
    logs_dir: String,
}

pub fn servers(statuses: &[ServerStatus], approvals: &Approvals) -> Vec<ServerView> {
    statuses
        .iter()
        .map(|status| server(status, approvals))
        .collect()
}

fn server(status: &ServerStatus, approvals: &Approvals) -> ServerView {
    ServerView {
        name: status.name.clone(),
        state: status.state.as_str(),
        command: status.command.clone(),
        args: status.args.clone(),
        resolved_command: status
            .resolved_command
            .as_ref()
            .map(|path| path.display().to_string()),
        pid: status.pid,
        restarts: status.restarts,
        tools: status
            .tools
            .iter()
            .map(|info| tool(&status.name, info, approvals))
            .collect(),
        detail: status.detail.clone(),
        since: status
            .since
            .duration_since(UNIX_EPOCH)
            .ok()
            .and_then(|since| u64::try_from(since.as_millis()).ok()),
    }
}

fn tool(server: &str, tool: &ToolInfo, approvals: &Approvals) -> ToolView {
    let policy = approvals.tool_policy(server, tool);
    ToolView {
        name: tool.name.clone(),
        title: tool.title.clone(),
        description: tool.description.clone(),
        read_only: tool.read_only,
        destructive: tool.destructive,
        rule: policy.rule,
        effective: policy.effective.rule,
        effective_reason: policy.effective.reason.label(),
        default_rule: policy.default.rule,
        always_allow: policy.always_allow,
        changed: policy.changed,
    }
}

pub fn app_info(paths: &Paths) -> AppInfo {
    AppInfo {
        version: env!("CARGO_PKG_VERSION"),
        config_path: paths.config_file.display().to_string(),
        data_dir: paths.data_dir.display().to_string(),
        logs_dir: paths.logs_dir.display().to_string(),
    }
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LogLineView {
    time_ms: u64,
    stream: &'static str,
    text: String,
}

pub fn log_lines(lines: &[LogLine]) -> Vec<LogLineView> {
    lines
        .iter()
        .map(|line| LogLineView {
            time_ms: line
                .time
                .duration_since(UNIX_EPOCH)
                .ok()
                .and_then(|since| u64::try_from(since.as_millis()).ok())
                .unwrap_or_default(),
            stream: line.stream.as_str(),
            text: line.text.clone(),
        })
        .collect()
}

/// The MCP endpoint, for the Settings view.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GatewayInfoView {
    url: Option<String>,
    addr: String,
    error: Option<String>,
    token_source: &'static str,
    token_hint: String,
    server_url_template: Option<String>,
}

pub fn gateway_info(info: &GatewayInfo) -> GatewayInfoView {
    GatewayInfoView {
        url: info.url.clone(),
        addr: info.addr.to_string(),
        error: info.error.clone(),
        token_source: info.token_source.as_str(),
        token_hint: info.token_hint.clone(),
        server_url_template: info.url.as_ref().map(|url| format!("{url}/{{server}}")),
    }
}

/// A row of the call log, for the Activity view.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LogRowView {
    id: i64,
    time_ms: i64,
    client: String,
    server: String,
    tool: String,
    arguments: String,
    arguments_hash: String,
    policy: Policy,
    decision: Decision,
    decided_by: DecidedBy,
    wait_ms: i64,
    outcome: Outcome,
    outcome_detail: Option<String>,
    duration_ms: i64,
    hash: String,
}

pub fn log_rows(rows: Vec<CallRow>) -> Vec<LogRowView> {
    rows.into_iter()
        .map(|row| LogRowView {
            id: row.id,
            time_ms: row.record.time_ms,
            client: row.record.client,
            server: row.record.server,
            tool: row.record.tool,
            arguments: row.record.arguments,
            arguments_hash: row.arguments_hash,
            policy: row.record.policy,
            decision: row.record.decision,
            decided_by: row.record.decided_by,
            wait_ms: row.record.wait_ms,
            outcome: row.record.outcome,
            outcome_detail: row.record.outcome_detail,
            duration_ms: row.record.duration_ms,
            hash: row.hash,
        })
        .collect()
}

/// The Activity view's filters.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct LogFilterView {
    server: Option<String>,
    tool: Option<String>,
    decision: Option<Decision>,
    since_ms: Option<i64>,
    search: Option<String>,
    limit: Option<u32>,
    offset: Option<u32>,
}

impl LogFilterView {
    pub fn into_filter(self) -> Filter {
        let text = |value: Option<String>| value.filter(|v| !v.trim().is_empty());
        Filter {
            server: text(self.server),
            tool: text(self.tool),
            decision: self.decision,
            since_ms: self.since_ms,
            search: text(self.search),
            // The view pages; an unbounded query would hand it a million rows.
            limit: Some(self.limit.unwrap_or(200).min(1_000)),
            offset: self.offset.unwrap_or(0),
            ..Filter::default()
        }
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VerifyView {
    ok: bool,
    rows: u64,
    message: String,
}

pub fn verify(report: &VerifyReport) -> VerifyView {
    let rows = match report {
        VerifyReport::Ok { rows, .. } => *rows,
        _ => 0,
    };
    let mut message = report.to_string();
    if let Some(first) = message.get(..1) {
        message = first.to_uppercase() + message.get(1..).unwrap_or_default() + ".";
    }
    VerifyView {
        ok: report.is_ok(),
        rows,
        message,
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ExportView {
    pub path: String,
    pub rows: usize,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApprovalSettingsView {
    pub timeout_secs: u64,
    pub ask_non_read_only: bool,
    pub retention_days: u32,
}

pub fn approval_settings(settings: &ApprovalSettings) -> ApprovalSettingsView {
    ApprovalSettingsView {
        timeout_secs: settings.timeout.as_secs(),
        ask_non_read_only: settings.ask_non_read_only,
        retention_days: settings.retention_days,
    }
}
