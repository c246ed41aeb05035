//! The commands the UI may call. Each is one delegating call into the core,
//! mapped to a DTO; `build.rs` and `capabilities/` list them.

use tauri::State;

use crate::AppState;
use gatehouse_core::approvals::{Answer, DecidedBy, PendingCall};
use gatehouse_core::config::Rule;

use crate::dto::{
    self, AppInfo, ApprovalSettingsView, ExportView, GatewayInfoView, LogFilterView, LogLineView,
    LogRowView, ServerView, VerifyView,
};
use crate::error::IpcError;

/// Every configured server and its live state.
#[tauri::command]
pub fn list_servers(state: State<'_, AppState>) -> Vec<ServerView> {
    dto::servers(&state.core.servers(), state.core.approvals())
}

/// Version and file locations, for the header and the empty state.
#[tauri::command]
pub fn app_info(state: State<'_, AppState>) -> AppInfo {
    dto::app_info(state.core.paths())
}

/// Starts a stopped or failed server.
#[tauri::command]
pub fn start_server(state: State<'_, AppState>, name: String) -> Result<(), IpcError> {
    Ok(state.core.start_server(&name)?)
}

/// Stops a server; resolves once it is gone.
#[tauri::command]
pub async fn stop_server(state: State<'_, AppState>, name: String) -> Result<(), IpcError> {
    Ok(state.core.stop_server(&name).await?)
}

/// Restarts a server.
#[tauri::command]
pub async fn restart_server(state: State<'_, AppState>, name: String) -> Result<(), IpcError> {
    Ok(state.core.restart_server(&name).await?)
}

/// A server's recent log lines, oldest first.
#[tauri::command]
pub fn server_logs(state: State<'_, AppState>, name: String) -> Result<Vec<LogLineView>, IpcError> {
    let lines = state
        .core
        .server_logs(&name)
        .ok_or_else(|| IpcError::NoSuchServer(format!("there is no server `{name}`")))?;
    Ok(dto::log_lines(&lines))
}

/// The MCP endpoint: address, state, and the token's source and hint.
#[tauri::command]
pub fn gateway_info(state: State<'_, AppState>) -> GatewayInfoView {
    dto::gateway_info(&state.core.gateway_info())
}

/// Puts the token on the clipboard from here, so it never enters the web
/// view.
#[tauri::command]
pub fn copy_token(app: tauri::AppHandle, state: State<'_, AppState>) -> Result<(), IpcError> {
    use tauri_plugin_clipboard_manager::ClipboardExt;

    let token = state.core.gateway_token().ok_or_else(|| {
        IpcError::NoToken(
            state
                .core
                .gateway_error()
                .unwrap_or("the MCP endpoint has no token")
                .to_owned(),
        )
    })?;
    app.clipboard()
        .write_text(token.expose())
        .map_err(|err| IpcError::Clipboard(format!("cannot use the clipboard: {err}")))
}

/// A new keyring token; clients need it from the next request on.
#[tauri::command]
pub fn rotate_token(state: State<'_, AppState>) -> Result<GatewayInfoView, IpcError> {
    let info = state.core.rotate_token()?;
    Ok(dto::gateway_info(&info))
}

/// The calls waiting for a person, oldest first (the approval dialog).
#[tauri::command]
pub fn pending_approvals(state: State<'_, AppState>) -> Vec<PendingCall> {
    state.core.approvals().pending()
}

/// The person's answer in the approval dialog.
#[tauri::command]
pub fn answer_approval(
    app: tauri::AppHandle,
    state: State<'_, AppState>,
    id: u64,
    answer: Answer,
) -> Result<(), IpcError> {
    state
        .core
        .approvals()
        .answer(id, answer, DecidedBy::Dialog)
        .map_err(|err| IpcError::NotPending(err.to_string()))?;
    if answer == Answer::AllowAlways {
        // The tool's policy changed: the Servers view shows it.
        crate::announce_servers(&app);
    }
    Ok(())
}

/// A page of the call log, newest first.
#[tauri::command]
pub async fn query_log(
    state: State<'_, AppState>,
    filter: LogFilterView,
) -> Result<Vec<LogRowView>, IpcError> {
    let approvals = state.core.approvals().clone();
    let rows = tauri::async_runtime::spawn_blocking(move || {
        approvals.read_store(|store| store.query(&filter.into_filter()))
    })
    .await
    .map_err(|err| IpcError::Store(err.to_string()))??;
    Ok(dto::log_rows(rows))
}

/// Checks the log's hash chain.
#[tauri::command]
pub async fn verify_log(state: State<'_, AppState>) -> Result<VerifyView, IpcError> {
    let approvals = state.core.approvals().clone();
    let report =
        tauri::async_runtime::spawn_blocking(move || approvals.read_store(|store| store.verify()))
            .await
            .map_err(|err| IpcError::Store(err.to_string()))??;
    Ok(dto::verify(&report))
}

/// Writes the filtered log (all matching rows) to a file in the Downloads
/// folder and says where.
#[tauri::command]
pub async fn export_log(
    app: tauri::AppHandle,
    state: State<'_, AppState>,
    format: String,
    filter: LogFilterView,
) -> Result<ExportView, IpcError> {
    use tauri::Manager;

    let csv = match format.as_str() {
        "csv" => true,
        "json" => false,
        other => {
            return Err(IpcError::Store(format!(
                "cannot export as `{other}`: use json or csv"
            )));
        }
    };
    let dir = app
        .path()
        .download_dir()
        .unwrap_or_else(|_| state.core.paths().data_dir.clone());
    let stamp = humantime::format_rfc3339_seconds(std::time::SystemTime::now())
        .to_string()
        .replace([':', '-'], "");
    let path = dir.join(format!(
        "gatehouse-calls-{}.{}",
        stamp.trim_end_matches('Z'),
        if csv { "csv" } else { "json" }
    ));
    let mut filter = filter.into_filter();
    // Export everything that matches, not the view's page.
    filter.limit = None;
    filter.offset = 0;
    let approvals = state.core.approvals().clone();
    let target = path.clone();
    let rows = tauri::async_runtime::spawn_blocking(move || -> Result<usize, IpcError> {
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
#[tauri::command]
pub fn set_tool_policy(
    app: tauri::AppHandle,
    state: State<'_, AppState>,
    server: String,
    tool: String,
    rule: Option<Rule>,
) -> Result<(), IpcError> {
    state.core.set_tool_rule(&server, &tool, rule)?;
    crate::announce_servers(&app);
    Ok(())
}

/// The `[approvals]` settings.
#[tauri::command]
pub fn approval_settings(state: State<'_, AppState>) -> ApprovalSettingsView {
    dto::approval_settings(&state.core.approvals().settings())
}

/// Saves the `[approvals]` settings to gatehouse.toml.
#[tauri::command]
pub fn set_approval_settings(
    state: State<'_, AppState>,
    settings: ApprovalSettingsView,
) -> Result<(), IpcError> {
    Ok(state.core.set_approval_settings(
        settings.timeout_secs,
        settings.ask_non_read_only,
        settings.retention_days,
    )?)
}
