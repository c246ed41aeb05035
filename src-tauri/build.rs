//! Generates Tauri's context. The app manifest lists every command the UI
//! may call, which makes them deny-by-default: a window gets a command only
//! when its capability file grants `allow-<command>`.

fn main() {
    let attributes =
        tauri_build::Attributes::new().app_manifest(tauri_build::AppManifest::new().commands(&[
            "list_servers",
            "app_info",
            "start_server",
            "stop_server",
            "restart_server",
            "server_logs",
            "gateway_info",
            "copy_token",
            "rotate_token",
            "pending_approvals",
            "answer_approval",
            "query_log",
            "verify_log",
            "export_log",
            "set_tool_policy",
            "approval_settings",
            "set_approval_settings",
            "list_clients",
            "plan_client_change",
            "apply_client_change",
            "undo_client_change",
            "plan_client_import",
            "apply_client_import",
            "pick_project_dir",
        ]));
    if let Err(err) = tauri_build::try_build(attributes) {
        panic!("tauri-build failed: {err:#}");
    }
}
