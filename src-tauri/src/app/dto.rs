//! The JSON the UI receives. Core types stay free of serde; these are their
//! serializable counterparts, converted by hand (`ui/src/lib/api.ts` mirrors
//! them).

use std::time::UNIX_EPOCH;

use gatehouse_core::GatewayInfo;
use gatehouse_core::config::Paths;
use gatehouse_core::supervisor::{LogLine, ServerStatus, ToolInfo};
use serde::Serialize;

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
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AppInfo {
    version: &'static str,
    config_path: String,
    data_dir: String,
    logs_dir: String,
}

pub fn servers(statuses: &[ServerStatus]) -> Vec<ServerView> {
    statuses.iter().map(server).collect()
}

fn server(status: &ServerStatus) -> ServerView {
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
        tools: status.tools.iter().map(tool).collect(),
        detail: status.detail.clone(),
        since: status
            .since
            .duration_since(UNIX_EPOCH)
            .ok()
            .and_then(|since| u64::try_from(since.as_millis()).ok()),
    }
}

fn tool(tool: &ToolInfo) -> ToolView {
    ToolView {
        name: tool.name.clone(),
        title: tool.title.clone(),
        description: tool.description.clone(),
        read_only: tool.read_only,
        destructive: tool.destructive,
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
