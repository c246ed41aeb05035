//! The windows' commands about servers, the endpoint, approvals and the
//! call log. Each is one delegating call into the core, mapped to a view.

use gatehouse_core::Core;
use gatehouse_core::approvals::{Answer, DecidedBy, PendingCall};
use gatehouse_core::config::Rule;
use serde::Deserialize;

use super::dto::{
    self, AppInfo, ApprovalSettingsView, ExportView, GatewayInfoView, LogFilterView, LogLineView,
    LogRowView, ServerView, VerifyView,
};
use super::error::IpcError;

/// Every configured server and its live state.
pub fn list_servers(core: &Core) -> Vec<ServerView> {
    dto::servers(&core.servers(), core.approvals())
}

/// Version and file locations, for the header and the empty state.
pub fn app_info(core: &Core) -> AppInfo {
    dto::app_info(core.paths())
}

/// Starts a stopped or failed server.
pub fn start_server(core: &Core, name: &str) -> Result<(), IpcError> {
    Ok(core.start_server(name)?)
}

/// Stops a server; resolves once it is gone.
pub async fn stop_server(core: &Core, name: &str) -> Result<(), IpcError> {
    Ok(core.stop_server(name).await?)
}

/// Restarts a server.
pub async fn restart_server(core: &Core, name: &str) -> Result<(), IpcError> {
    Ok(core.restart_server(name).await?)
}

/// A server's recent log lines, oldest first.
pub fn server_logs(core: &Core, name: &str) -> Result<Vec<LogLineView>, IpcError> {
    let lines = core
        .server_logs(name)
        .ok_or_else(|| IpcError::NoSuchServer(format!("there is no server `{name}`")))?;
    Ok(dto::log_lines(&lines))
}

/// The MCP endpoint: address, state, and the token's source and hint.
pub fn gateway_info(core: &Core) -> GatewayInfoView {
    dto::gateway_info(&core.gateway_info())
}

/// A new keyring token; clients need it from the next request on.
pub fn rotate_token(core: &Core) -> Result<GatewayInfoView, IpcError> {
    let info = core.rotate_token()?;
    Ok(dto::gateway_info(&info))
}

/// The calls waiting for a person, oldest first (the approval dialog).
pub fn pending_approvals(core: &Core) -> Vec<PendingCall> {
    core.approvals().pending()
}

/// The person's answer in the approval dialog.
pub fn answer_approval(core: &Core, id: u64, answer: Answer) -> Result<(), IpcError> {
    core.approvals()
        .answer(id, answer, DecidedBy::Dialog)
        .map_err(|err| IpcError::NotPending(err.to_string()))
}

/// A page of the call log, newest first.
pub async fn query_log(core: &Core, filter: LogFilterView) -> Result<Vec<LogRowView>, IpcError> {
    let approvals = core.approvals().clone();
    let rows = tokio::task::spawn_blocking(move || {
        approvals.read_store(|store| store.query(&filter.into_filter()))
    })
    .await
    .map_err(|err| IpcError::Store(err.to_string()))??;
    Ok(dto::log_rows(rows))
}

/// Checks the log's hash chain.
pub async fn verify_log(core: &Core) -> Result<VerifyView, IpcError> {
    let approvals = core.approvals().clone();
    let report = tokio::task::spawn_blocking(move || approvals.read_store(|store| store.verify()))
        .await
        .map_err(|err| IpcError::Store(err.to_string()))??;
    Ok(dto::verify(&report))
}

/// What `export_log` is asked.
#[derive(Debug, Deserialize)]
pub struct ExportRequest {
    /// `json` or `csv`.
    pub format: String,
    /// Which rows (every matching one, not the view's page).
    pub filter: LogFilterView,
    /// The folder to write to (the person's Downloads folder, which the
    /// window knows); the data directory when absent.
    pub dir: Option<std::path::PathBuf>,
}

/// Writes the filtered log (all matching rows) to a file and says where.
pub async fn export_log(core: &Core, request: ExportRequest) -> Result<ExportView, IpcError> {
    let csv = match request.format.as_str() {
        "csv" => true,
        "json" => false,
        other => {
            return Err(IpcError::Store(format!(
                "cannot export as `{other}`: use json or csv"
            )));
        }
    };
    let dir = request.dir.unwrap_or_else(|| core.paths().data_dir.clone());
    let stamp = humantime::format_rfc3339_seconds(std::time::SystemTime::now())
        .to_string()
        .replace([':', '-'], "");
    let path = dir.join(format!(
        "gatehouse-calls-{}.{}",
        stamp.trim_end_matches('Z'),
        if csv { "csv" } else { "json" }
    ));
    let mut filter = request.filter.into_filter();
    // Export everything that matches, not the view's page.
    filter.limit = None;
    filter.offset = 0;
    let approvals = core.approvals().clone();
    let target = path.clone();
    let rows = tokio::task::spawn_blocking(move || -> Result<usize, IpcError> {
        let file = std::fs::File::create(&target)
            .map_err(|err| IpcError::Store(format!("cannot write {}: {err}", target.display())))?;
        let out = std::io::BufWriter::new(file);
        approvals.read_store(|store| {
            Ok(if csv {
                store.write_csv(&filter, out)?
            } else {
                store.write_json(&filter, out)?
            })
        })
    })
    .await
    .map_err(|err| IpcError::Store(err.to_string()))??;
    Ok(ExportView {
        path: path.display().to_string(),
        rows,
    })
}

/// Sets or clears the user's rule for a tool (written to gatehouse.toml).
pub fn set_tool_policy(
    core: &Core,
    server: &str,
    tool: &str,
    rule: Option<Rule>,
) -> Result<(), IpcError> {
    Ok(core.set_tool_rule(server, tool, rule)?)
}

/// The `[approvals]` settings.
pub fn approval_settings(core: &Core) -> ApprovalSettingsView {
    dto::approval_settings(&core.approvals().settings())
}

/// Saves the `[approvals]` settings to gatehouse.toml.
pub fn set_approval_settings(core: &Core, settings: ApprovalSettingsView) -> Result<(), IpcError> {
    Ok(core.set_approval_settings(
        settings.timeout_secs,
        settings.ask_non_read_only,
        settings.retention_days,
    )?)
}
