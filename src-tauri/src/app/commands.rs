//! The commands the UI may call. Each is one delegating call into the core,
//! mapped to a DTO; `build.rs` and `capabilities/` list them.

use tauri::State;

use crate::app::AppState;
use crate::app::dto::{self, AppInfo, GatewayInfoView, LogLineView, ServerView};
use crate::app::error::IpcError;

/// Every configured server and its live state.
#[tauri::command]
pub fn list_servers(state: State<'_, AppState>) -> Vec<ServerView> {
    dto::servers(&state.core.servers())
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
