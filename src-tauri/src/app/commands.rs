//! The commands the UI may call. Each is one delegating call into the core,
//! mapped to a DTO; `build.rs` and `capabilities/` list them.

use tauri::State;

use crate::app::AppState;
use crate::app::dto::{self, AppInfo, ServerView};

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
