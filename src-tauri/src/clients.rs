//! `gatehouse client list | register | unregister | undo | import`.
//!
//! Entries point at the running Gatehouse's endpoint when it runs, else at
//! the address in the config; the token is the one the endpoint uses.

use std::io::IsTerminal;
use std::path::Path;

use anyhow::Context;
use gatehouse_core::clients::{self, ImportItem, registry};
use gatehouse_core::config::{self, Paths};
use gatehouse_core::control::{Client, ClientError, Request, Response};
use gatehouse_core::token;
use gatehouse_secrets::{SERVICE, Secret, SecretStore};
use registry::{Action, ClientKind, ClientStatus, FileStatus, Registrar, Scope, State};

use crate::cli::{ClientCommand, ClientTarget};

/// Runs one `gatehouse client` command.
pub async fn run(command: &ClientCommand, paths: &Paths) -> anyhow::Result<()> {
    let registrar = registrar(paths).await?;
    match command {
        ClientCommand::List { project, json } => {
            let list = registrar.list(project.as_deref());
            if *json {
                println!("{}", serde_json::to_string_pretty(&list)?);
            } else {
                print!("{}", list_report(&list));
            }
        }
        ClientCommand::Register {
            target,
            server,
            dry_run,
        } => change(
            &registrar,
            target,
            Action::Register,
            server.as_deref(),
            *dry_run,
        )?,
        ClientCommand::Unregister {
            target,
            server,
            dry_run,
        } => change(
            &registrar,
            target,
            Action::Unregister,
            server.as_deref(),
            *dry_run,
        )?,
        ClientCommand::Undo { target } => {
            let (kind, scope) = resolve(target)?;
            let backup = registrar.undo(kind, scope, target.project.as_deref())?;
            let status = registrar.status(kind, scope, target.project.as_deref())?;
            println!(
                "Restored {} from {}.",
                status.path.display(),
                backup.path.display()
            );
            eprintln!("Next: {}", kind.next_step_in(scope));
        }
        ClientCommand::Import {
            target,
            replace,
            keep,
            dry_run,
        } => import(&registrar, paths, target, *replace, *keep, *dry_run)?,
    }
    Ok(())
}

/// The registrar, pointing at the running Gatehouse's endpoint and token
/// if it runs, else the configured address and the keyring's token (made
/// now if there is none: the entries must carry the one Gatehouse will use).
async fn registrar(paths: &Paths) -> anyhow::Result<Registrar> {
    let (url, token) = match running_endpoint(paths).await? {
        Some(running) => running,
        None => {
            let (token, _) = token::resolve(None).context("cannot read the endpoint's token")?;
            (configured_url(paths)?, token)
        }
    };
    clients::registrar(paths, &url, token)
        .context("cannot find your home directory, where the clients keep their config")
}

/// The registrar for `gatehouse doctor`: like [`registrar`], but it never
/// creates a token; `None` when there is none yet or it cannot be read.
pub async fn registrar_for_doctor(paths: &Paths) -> Option<Registrar> {
    let (url, token) = match running_endpoint(paths).await.ok()? {
        Some(running) => running,
        None => (configured_url(paths).ok()?, token::existing()?),
    };
    clients::registrar(paths, &url, token)
}

fn configured_url(paths: &Paths) -> anyhow::Result<String> {
    let (config, _) = config::load_or_init(&paths.config_file)?;
    let from_env = std::env::var("GATEHOUSE_ADDR")
        .ok()
        .and_then(|addr| addr.parse().ok());
    Ok(clients::endpoint_url(gatehouse_core::configured_addr(
        from_env, &config,
    )))
}

/// The running Gatehouse's endpoint URL and token, if it runs.
async fn running_endpoint(paths: &Paths) -> anyhow::Result<Option<(String, Secret)>> {
    let running = match Client::connect(&paths.runtime_dir).await {
        Ok(mut control) => {
            let token = match control.call(&Request::Token).await? {
                Response::Token(token) => Some(token),
                _ => None,
            };
            let url = match control.call(&Request::Gateway).await? {
                Response::Gateway(report) => report.url,
                _ => None,
            };
            token.zip(url)
        }
        Err(ClientError::NotRunning { .. } | ClientError::Unsupported) => None,
        Err(err) => return Err(err.into()),
    };
    Ok(running.map(|(token, url)| (url, Secret::new(token))))
}

fn resolve(target: &ClientTarget) -> anyhow::Result<(ClientKind, Scope)> {
    let kind = ClientKind::from_id(&target.client)
        .ok_or_else(|| registry::Error::UnknownClient(target.client.clone()))?;
    let scope = if target.project.is_some() {
        Scope::Project
    } else {
        Scope::User
    };
    Ok((kind, scope))
}

fn change(
    registrar: &Registrar,
    target: &ClientTarget,
    action: Action,
    server: Option<&str>,
    dry_run: bool,
) -> anyhow::Result<()> {
    let (kind, scope) = resolve(target)?;
    let plan = registrar.plan(kind, scope, target.project.as_deref(), action, server)?;
    let path = plan.path.display();
    if !plan.changed() {
        match action {
            Action::Register => println!(
                "{} already has Gatehouse's current entry in {path}.",
                kind.name()
            ),
            Action::Unregister => println!(
                "{} has no Gatehouse entry in {path}; nothing to do.",
                kind.name()
            ),
        }
        return Ok(());
    }
    if dry_run {
        print_diff(&plan.diff());
        if plan.by_client_command() {
            eprintln!(
                "{} would make this change with its own `claude mcp` command.",
                kind.name()
            );
        }
        eprintln!("Dry run: {path} was not changed.");
        return Ok(());
    }
    let backup = registrar.apply(&plan, &plan.base())?;
    let verb = match action {
        Action::Register if plan.creates() => "Created",
        _ => "Updated",
    };
    if plan.by_client_command() {
        println!("{verb} {path} through `claude mcp`.");
    } else {
        println!("{verb} {path}.");
    }
    if let Some(backup) = backup {
        eprintln!(
            "The previous version is saved as {} (`gatehouse client undo {}` puts it back).",
            backup.display(),
            kind.id()
        );
    }
    eprintln!("Next: {}", kind.next_step_in(scope));
    Ok(())
}

fn import(
    registrar: &Registrar,
    paths: &Paths,
    target: &ClientTarget,
    replace: bool,
    keep: bool,
    dry_run: bool,
) -> anyhow::Result<()> {
    let (kind, scope) = resolve(target)?;
    let project = target.project.as_deref();
    let (config, _) = config::load_or_init(&paths.config_file)?;
    let items = clients::preview_import(registrar, &config, kind, scope, project)?;
    print!("{}", import_report(&items));
    if items.iter().all(|item| item.skip.is_some()) {
        anyhow::bail!("{} has no servers Gatehouse can import", kind.name());
    }
    if dry_run {
        if replace
            && let Some(plan) = clients::preview_replace(registrar, &items, kind, scope, project)?
        {
            print_diff(&plan.diff());
        }
        eprintln!("Dry run: nothing was imported.");
        return Ok(());
    }
    let replace = replace || (!keep && ask_replace(kind)?);
    let store = SecretStore::new(SERVICE);
    let report = clients::import(
        registrar,
        &store,
        &paths.config_file,
        &clients::ImportRequest {
            kind,
            scope,
            project,
            replace,
            base: None,
        },
    )?;
    println!(
        "Imported {} into {}.",
        report.imported.join(", "),
        paths.config_file.display()
    );
    if !report.moved_secrets.is_empty() {
        println!(
            "Moved to the OS keyring: {}.",
            report.moved_secrets.join(", ")
        );
    }
    if report.replaced {
        println!(
            "Replaced them in {} with Gatehouse's entry.",
            report.path.display()
        );
        eprintln!("Next: {}", kind.next_step_in(scope));
    } else {
        eprintln!(
            "{} still runs them itself, with their secrets in {}. To switch it to Gatehouse, remove them there and run `gatehouse client register {}`.",
            kind.name(),
            report.path.display(),
            kind.id()
        );
    }
    Ok(())
}

/// Asks, when someone is at the terminal, whether to replace the imported
/// servers in the client; otherwise the file is left alone.
fn ask_replace(kind: ClientKind) -> anyhow::Result<bool> {
    if !std::io::stdin().is_terminal() {
        return Ok(false);
    }
    eprint!(
        "Replace them in {} with Gatehouse's entry (their secrets leave its file)? [Y/n] ",
        kind.name()
    );
    let mut answer = String::new();
    std::io::stdin().read_line(&mut answer)?;
    Ok(!answer.trim().to_ascii_lowercase().starts_with('n'))
}

fn state_label(status: &FileStatus) -> &'static str {
    match status.state {
        State::Registered => "registered",
        State::Outdated => "outdated",
        State::Absent => "absent",
        State::Unreadable => "unreadable",
    }
}

fn list_report(list: &[ClientStatus]) -> String {
    let width = list
        .iter()
        .map(|client| client.kind.id().len())
        .max()
        .unwrap_or(6);
    let mut out = format!(
        "{:<width$}  {:<9}  {:<10}  FILE\n",
        "CLIENT", "INSTALLED", "STATE"
    );
    for client in list {
        let installed = if client.installed { "yes" } else { "no" };
        for status in [&client.user, &client.project].into_iter().flatten() {
            out.push_str(&format!(
                "{:<width$}  {installed:<9}  {:<10}  {}\n",
                client.kind.id(),
                state_label(status),
                home_relative(&status.path),
            ));
            if let Some(detail) = &status.detail {
                out.push_str(&format!(
                    "{:<width$}  {:<9}  {:<10}  ({detail})\n",
                    "", "", ""
                ));
            }
        }
    }
    out
}

fn home_relative(path: &Path) -> String {
    match std::env::home_dir().and_then(|home| path.strip_prefix(home).ok().map(Path::to_owned)) {
        Some(rest) => format!("~/{}", rest.display()),
        None => path.display().to_string(),
    }
}

fn import_report(items: &[ImportItem]) -> String {
    if items.is_empty() {
        return "No servers there besides Gatehouse's own.\n".to_owned();
    }
    let mut out = String::new();
    for item in items {
        let command = item.command_line();
        if command.is_empty() {
            out.push_str(&format!("{}\n", item.candidate.name));
        } else {
            out.push_str(&format!("{}: {command}\n", item.candidate.name));
        }
        for (key, _) in &item.candidate.secrets {
            out.push_str(&format!("    {key} → OS keyring\n"));
        }
        for (key, _) in &item.candidate.env {
            out.push_str(&format!("    {key} (plain)\n"));
        }
        if let Some(skip) = &item.skip {
            out.push_str(&format!("    skipped: {skip}\n"));
        }
    }
    out
}

/// A diff on stdout, ending with a newline even when the file does not.
fn print_diff(diff: &str) {
    print!("{diff}");
    if !diff.is_empty() && !diff.ends_with('\n') {
        println!();
    }
}
