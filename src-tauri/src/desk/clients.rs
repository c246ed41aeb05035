//! The Clients view's commands: list the clients, show a change as a diff,
//! make it, undo it, import a client's servers. Each is a thin call into
//! `gatehouse_core::clients`, which the CLI shares. (The folder picker is
//! the window's own: it is a native dialog.)

use std::path::PathBuf;

use gatehouse_core::Core;
use gatehouse_core::clients::{self, ImportItem, registry};
use gatehouse_secrets::{SERVICE, SecretStore};
use registry::{Action, ClientKind, ClientStatus, Registrar, Scope};
use serde::{Deserialize, Serialize};

use super::error::IpcError;

/// Which file of a client a command is about.
#[derive(Debug, Deserialize)]
pub struct Target {
    client: String,
    scope: ScopeArg,
    project: Option<PathBuf>,
}

/// A change to show or make.
#[derive(Debug, Deserialize)]
pub struct ChangeRequest {
    #[serde(flatten)]
    target: Target,
    action: ActionArg,
    server: Option<String>,
    /// When making it: the file's fingerprint when the change was shown.
    #[serde(default)]
    base: String,
}

/// An import to make.
#[derive(Debug, Deserialize)]
pub struct ImportRequest {
    #[serde(flatten)]
    target: Target,
    replace: bool,
    base: Option<String>,
}

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

fn registrar(core: &Core) -> Result<Registrar, IpcError> {
    core.client_registrar().ok_or_else(|| {
        IpcError::NoToken(
            core.gateway_error()
                .unwrap_or("the MCP endpoint has no token, so client entries cannot be written")
                .to_owned(),
        )
    })
}

fn target(target: &Target) -> Result<(ClientKind, Scope), IpcError> {
    let Target {
        client, project, ..
    } = target;
    let kind = ClientKind::from_id(client)
        .ok_or_else(|| registry::Error::UnknownClient(client.to_owned()))?;
    let scope = match target.scope {
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
pub async fn list_clients(
    core: &Core,
    project: Option<PathBuf>,
) -> Result<Vec<ClientStatus>, IpcError> {
    let registrar = registrar(core)?;
    blocking(move || Ok(registrar.list(project.as_deref()))).await
}

/// The change registering or unregistering would make, as a diff.
pub fn plan_client_change(
    core: &Core,
    request: &ChangeRequest,
) -> Result<ClientPlanView, IpcError> {
    let registrar = registrar(core)?;
    let (kind, scope) = target(&request.target)?;
    let plan = registrar.plan(
        kind,
        scope,
        request.target.project.as_deref(),
        action(request.action),
        request.server.as_deref(),
    )?;
    Ok(plan_view(plan))
}

/// Makes the change shown, if the file is still as it was then (`base`).
/// Off the runtime's threads: for Claude Code it runs the `claude` command.
pub async fn apply_client_change(
    core: &Core,
    request: ChangeRequest,
) -> Result<ClientChangeView, IpcError> {
    let registrar = registrar(core)?;
    let (kind, scope) = target(&request.target)?;
    blocking(move || {
        let project = request.target.project.as_deref();
        let plan = registrar.plan(
            kind,
            scope,
            project,
            action(request.action),
            request.server.as_deref(),
        )?;
        let backup = registrar.apply(&plan, &request.base)?;
        Ok(ClientChangeView {
            path: plan.path,
            backup,
            next_step: kind.next_step_in(scope),
        })
    })
    .await
}

/// Runs `work` on a blocking thread.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, IpcError> + Send + 'static,
) -> Result<T, IpcError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|err| IpcError::Client(err.to_string()))?
}

/// Puts back the version from before Gatehouse's last change.
pub async fn undo_client_change(
    core: &Core,
    request: Target,
) -> Result<ClientChangeView, IpcError> {
    let registrar = registrar(core)?;
    let (kind, scope) = target(&request)?;
    blocking(move || {
        let project = request.project.as_deref();
        let backup = registrar.undo(kind, scope, project)?;
        let path = registrar.status(kind, scope, project)?.path;
        Ok(ClientChangeView {
            path,
            backup: Some(backup.path),
            next_step: kind.next_step_in(scope),
        })
    })
    .await
}

/// The servers in a client's file and whether each can be imported.
pub fn plan_client_import(core: &Core, request: &Target) -> Result<ImportPlanView, IpcError> {
    let registrar = registrar(core)?;
    let (kind, scope) = target(request)?;
    let project = request.project.as_deref();
    let config = gatehouse_core::config::load(&core.paths().config_file)
        .map_err(|err| IpcError::Config(err.to_string()))?;
    let items = clients::preview_import(&registrar, &config, kind, scope, project)?;
    let replacement = clients::preview_replace(&registrar, &items, kind, scope, project)?;
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
pub async fn apply_client_import(
    core: &Core,
    request: ImportRequest,
) -> Result<ImportResultView, IpcError> {
    let registrar = registrar(core)?;
    let (kind, scope) = target(&request.target)?;
    let config_file = core.paths().config_file.clone();
    let report = blocking(move || {
        let store = SecretStore::new(SERVICE);
        Ok(clients::import(
            &registrar,
            &store,
            &config_file,
            &clients::ImportRequest {
                kind,
                scope,
                project: request.target.project.as_deref(),
                replace: request.replace,
                base: request.base.as_deref(),
            },
        )?)
    })
    .await?;
    Ok(ImportResultView {
        imported: report.imported,
        moved_secrets: report.moved_secrets,
        replaced: report.replaced,
        path: report.path,
        next_step: kind.next_step_in(scope),
    })
}
