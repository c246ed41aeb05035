//! The commands the UI may call. Most run in the core, through the control
//! channel ([`Link::invoke`]); the few that need this process (the
//! clipboard, native dialogs, the Downloads folder) are here. `build.rs`
//! and `capabilities/` list them all, per window.

use std::path::PathBuf;

use gatehouse_core::desk::Failure;
use serde_json::{Value, json};
use tauri::State;

use crate::link::Link;

/// One command per name, forwarded with its arguments as they came.
/// Arguments are optional here: the core says which are missing.
macro_rules! forward {
    ($($name:ident($($arg:ident),*)),* $(,)?) => {$(
        #[tauri::command]
        pub async fn $name(
            link: State<'_, Link>,
            $($arg: Option<Value>),*
        ) -> Result<Value, Failure> {
            link.invoke(stringify!($name), json!({$(stringify!($arg): $arg),*})).await
        }
    )*};
}

forward! {
    list_servers(),
    app_info(),
    start_server(name),
    stop_server(name),
    restart_server(name),
    server_logs(name),
    gateway_info(),
    rotate_token(),
    pending_approvals(),
    answer_approval(id, answer),
    query_log(filter),
    verify_log(),
    set_tool_policy(server, tool, rule),
    approval_settings(),
    set_approval_settings(settings),
    list_clients(project),
    plan_client_change(client, scope, project, action, server),
    apply_client_change(client, scope, project, action, server, base),
    undo_client_change(client, scope, project),
    plan_client_import(client, scope, project),
    apply_client_import(client, scope, project, replace, base),
}

/// Puts the token on the clipboard from here, so it never enters the web
/// view.
#[tauri::command]
pub async fn copy_token(app: tauri::AppHandle, link: State<'_, Link>) -> Result<(), Failure> {
    use tauri_plugin_clipboard_manager::ClipboardExt;

    let token = link.token().await?;
    app.clipboard().write_text(token).map_err(|err| Failure {
        kind: "Clipboard".to_owned(),
        message: format!("cannot use the clipboard: {err}"),
    })
}

/// Writes the filtered log (all matching rows) to a file in the person's
/// Downloads folder, and says where.
#[tauri::command]
pub async fn export_log(
    app: tauri::AppHandle,
    link: State<'_, Link>,
    format: Option<Value>,
    filter: Option<Value>,
) -> Result<Value, Failure> {
    use tauri::Manager;

    // Without one the core writes to its data directory.
    let dir = app.path().download_dir().ok();
    link.invoke(
        "export_log",
        json!({"format": format, "filter": filter, "dir": dir}),
    )
    .await
}

/// A native folder picker for the project; `None` when cancelled.
#[tauri::command]
pub async fn pick_project_dir(app: tauri::AppHandle) -> Option<PathBuf> {
    use tauri_plugin_dialog::DialogExt;

    let (tx, rx) = tokio::sync::oneshot::channel();
    app.dialog()
        .file()
        .set_title("Choose a project folder")
        .pick_folder(move |folder| {
            let _ = tx.send(folder.and_then(|folder| folder.into_path().ok()));
        });
    rx.await.ok().flatten()
}
