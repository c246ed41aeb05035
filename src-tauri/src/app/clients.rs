//! The Clients view's commands: list the clients, show a change as a diff,
//! make it, undo it, import a client's servers, pick a project folder.
//! Each is a thin call into `gatehouse_core::clients`, which the CLI shares.

use std::path::{Path, PathBuf};

use gatehouse_core::clients::{self, ImportItem, registry};
use gatehouse_secrets::{SERVICE, SecretStore};
use registry::{Action, ClientKind, ClientStatus, Registrar, Scope};
use serde::{Deserialize, Serialize};
use tauri::{Emitter, State};

use super::AppState;
use super::error::IpcError;

/// The event the Clients view reloads on.
pub const CLIENTS_CHANGED: &str = "clients-changed";

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ScopeArg {
    User,
    Project,
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ActionArg {
    Register,
    Unregister,
}

/// A change as the view shows it before it is made.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ClientPlanView {
    path: PathBuf,
    diff: String,
    changed: bool,
    creates: bool,
    base: String,
    /// The client's own command makes the change (`claude mcp`).
    by_client_command: bool,
}

/// A change made.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ClientChangeView {
    path: PathBuf,
    backup: Option<PathBuf>,
    next_step: String,
}

/// A server an import would bring over.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ImportCandidateView {
    name: String,
    command: String,
    secrets: Vec<String>,
    plain_env: Vec<String>,
    skip: Option<String>,
}

/// What an import would do: the servers, and the change to the client's
/// file if they are replaced there (credentials masked).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ImportPlanView {
    candidates: Vec<ImportCandidateView>,
    replacement: Option<ClientPlanView>,
}

/// What an import did.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ImportResultView {
    imported: Vec<String>,
    moved_secrets: Vec<String>,
    replaced: bool,
    path: PathBuf,
    next_step: String,
}

fn registrar(state: &AppState) -> Result<Registrar, IpcError> {
    state.core.client_registrar().ok_or_else(|| {
        IpcError::NoToken(
            state
                .core
                .gateway_error()
                .unwrap_or("the MCP endpoint has no token, so client entries cannot be written")
                .to_owned(),
        )
    })
}

fn target(
    client: &str,
    scope: ScopeArg,
    project: Option<&Path>,
) -> Result<(ClientKind, Scope), IpcError> {
    let kind = ClientKind::from_id(client)
        .ok_or_else(|| registry::Error::UnknownClient(client.to_owned()))?;
    let scope = match scope {
        ScopeArg::User => Scope::User,
        ScopeArg::Project if project.is_some() => Scope::Project,
        ScopeArg::Project => {
            return Err(registry::Error::ProjectRequired {
                client: kind.name(),
            }
            .into());
        }
    };
    Ok((kind, scope))
}

fn action(action: ActionArg) -> Action {
    match action {
        ActionArg::Register => Action::Register,
        ActionArg::Unregister => Action::Unregister,
    }
}

/// Every client, with its user file and (given a project) its project file.
#[tauri::command]
pub async fn list_clients(
    state: State<'_, AppState>,
    project: Option<PathBuf>,
) -> Result<Vec<ClientStatus>, IpcError> {
    let registrar = registrar(&state)?;
    blocking(move || Ok(registrar.list(project.as_deref()))).await
}

/// The change registering or unregistering would make, as a diff.
#[tauri::command]
pub fn plan_client_change(
    state: State<'_, AppState>,
    client: String,
    scope: ScopeArg,
    project: Option<PathBuf>,
    action: ActionArg,
    server: Option<String>,
) -> Result<ClientPlanView, IpcError> {
    let registrar = registrar(&state)?;
    let (kind, scope) = target(&client, scope, project.as_deref())?;
    let plan = registrar.plan(
        kind,
        scope,
        project.as_deref(),
        self::action(action),
        server.as_deref(),
    )?;
    Ok(plan_view(plan))
}

/// Makes the change shown, if the file is still as it was then. Off the
/// main thread: for Claude Code it runs the `claude` command.
#[tauri::command]
#[allow(clippy::too_many_arguments)]
pub async fn apply_client_change(
    app: tauri::AppHandle,
    state: State<'_, AppState>,
    client: String,
    scope: ScopeArg,
    project: Option<PathBuf>,
    action: ActionArg,
    server: Option<String>,
    base: String,
) -> Result<ClientChangeView, IpcError> {
    let registrar = registrar(&state)?;
    let (kind, scope) = target(&client, scope, project.as_deref())?;
    let view = blocking(move || {
        let plan = registrar.plan(
            kind,
            scope,
            project.as_deref(),
            self::action(action),
            server.as_deref(),
        )?;
        let backup = registrar.apply(&plan, &base)?;
        Ok(ClientChangeView {
            path: plan.path,
            backup,
            next_step: kind.next_step_in(scope),
        })
    })
    .await?;
    let _ = app.emit(CLIENTS_CHANGED, ());
    Ok(view)
}

/// Runs `work` on a blocking thread.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, IpcError> + Send + 'static,
) -> Result<T, IpcError> {
    tauri::async_runtime::spawn_blocking(work)
        .await
        .map_err(|err| IpcError::Client(err.to_string()))?
}

/// Puts back the version from before Gatehouse's last change.
#[tauri::command]
pub async fn undo_client_change(
    app: tauri::AppHandle,
    state: State<'_, AppState>,
    client: String,
    scope: ScopeArg,
    project: Option<PathBuf>,
) -> Result<ClientChangeView, IpcError> {
    let registrar = registrar(&state)?;
    let (kind, scope) = target(&client, scope, project.as_deref())?;
    let view = blocking(move || {
        let backup = registrar.undo(kind, scope, project.as_deref())?;
        let path = registrar.status(kind, scope, project.as_deref())?.path;
        Ok(ClientChangeView {
            path,
            backup: Some(backup.path),
            next_step: kind.next_step_in(scope),
        })
    })
    .await?;
    let _ = app.emit(CLIENTS_CHANGED, ());
    Ok(view)
}

/// The servers in a client's file and whether each can be imported.
#[tauri::command]
pub fn plan_client_import(
    state: State<'_, AppState>,
    client: String,
    scope: ScopeArg,
    project: Option<PathBuf>,
) -> Result<ImportPlanView, IpcError> {
    let registrar = registrar(&state)?;
    let (kind, scope) = target(&client, scope, project.as_deref())?;
    let config = gatehouse_core::config::load(&state.core.paths().config_file)
        .map_err(|err| IpcError::Config(err.to_string()))?;
    let items = clients::preview_import(&registrar, &config, kind, scope, project.as_deref())?;
    let replacement =
        clients::preview_replace(&registrar, &items, kind, scope, project.as_deref())?;
    Ok(ImportPlanView {
        candidates: items.iter().map(candidate_view).collect(),
        replacement: replacement.map(plan_view),
    })
}

fn plan_view(plan: registry::Plan) -> ClientPlanView {
    ClientPlanView {
        diff: plan.diff(),
        changed: plan.changed(),
        creates: plan.creates(),
        base: plan.base(),
        by_client_command: plan.by_client_command(),
        path: plan.path,
    }
}

fn candidate_view(item: &ImportItem) -> ImportCandidateView {
    ImportCandidateView {
        name: item.candidate.name.clone(),
        command: item.command_line(),
        secrets: item
            .candidate
            .secrets
            .iter()
            .map(|(key, _)| key.clone())
            .collect(),
        plain_env: item
            .candidate
            .env
            .iter()
            .map(|(key, _)| key.clone())
            .collect(),
        skip: item.skip.clone(),
    }
}

/// Imports a client's servers; with `replace`, swaps them in the client
/// for Gatehouse's entry, if the file is still as it was when shown (`base`).
#[tauri::command]
pub async fn apply_client_import(
    app: tauri::AppHandle,
    state: State<'_, AppState>,
    client: String,
    scope: ScopeArg,
    project: Option<PathBuf>,
    replace: bool,
    base: Option<String>,
) -> Result<ImportResultView, IpcError> {
    let registrar = registrar(&state)?;
    let (kind, scope) = target(&client, scope, project.as_deref())?;
    let config_file = state.core.paths().config_file.clone();
    let report = blocking(move || {
        let store = SecretStore::new(SERVICE);
        Ok(clients::import(
            &registrar,
            &store,
            &config_file,
            &clients::ImportRequest {
                kind,
                scope,
                project: project.as_deref(),
                replace,
                base: base.as_deref(),
            },
        )?)
    })
    .await?;
    let _ = app.emit(CLIENTS_CHANGED, ());
    Ok(ImportResultView {
        imported: report.imported,
        moved_secrets: report.moved_secrets,
        replaced: report.replaced,
        path: report.path,
        next_step: kind.next_step_in(scope),
    })
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
