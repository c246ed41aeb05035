//! The registrar: each client's state, and registering, unregistering,
//! undoing, importing and refreshing the token, each as a [`Plan`] that can
//! be shown before it is made.

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::backup::Backup;
use crate::catalog::{ClientKind, Location, Scope};
use crate::change::{FileText, Plan, Writer};
use crate::delegate::Delegated;
use crate::document::Document;
use crate::entry::{Comparison, Form, Target, compare, entry_name, merge, parse_entry_name};
use crate::environment::Environment;
use crate::error::{Error, Result};
use crate::import::{Candidate, candidates};
use crate::value::Value;

/// Where a client stands with Gatehouse in one scope.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum State {
    /// Gatehouse's entry is there and current.
    Registered,
    /// Gatehouse's entry is there but points at an old address, binary or token.
    Outdated,
    /// No entry.
    Absent,
    /// The file does not parse.
    Unreadable,
}

/// One client file's state.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FileStatus {
    /// The scope.
    pub scope: Scope,
    /// The file.
    pub path: PathBuf,
    /// Gatehouse's aggregate entry there.
    pub state: State,
    /// The form the entry takes in this file.
    pub form: Form,
    /// Why outdated or unreadable.
    pub detail: Option<String>,
    /// The client's other servers, by name.
    pub other_servers: Vec<String>,
    /// Gatehouse's per-server entries there, by server.
    pub server_entries: Vec<String>,
    /// Whether a backup exists to undo to.
    pub can_undo: bool,
}

/// A client and its files. Serialized for the GUI and `client list --json`
/// with the client's id, name, next step and note.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ClientStatus {
    /// The client.
    #[serde(serialize_with = "serialize_kind", rename = "id")]
    pub kind: ClientKind,
    /// The client's name.
    pub name: &'static str,
    /// Whether it has a project file.
    pub supports_project: bool,
    /// What to do after a change.
    pub next_step: &'static str,
    /// A caveat, if any.
    pub note: Option<&'static str>,
    /// Whether it looks installed.
    pub installed: bool,
    /// Its user file.
    pub user: Option<FileStatus>,
    /// Its file in the project asked about.
    pub project: Option<FileStatus>,
}

/// Add or remove Gatehouse's entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Write the entry (or bring it up to date).
    Register,
    /// Remove the entry, and nothing else.
    Unregister,
}

/// A client file Gatehouse could edit, with the rules to edit it.
#[derive(Debug, Clone)]
struct Site {
    kind: ClientKind,
    scope: Scope,
    location: Location,
}

/// Registers this Gatehouse with the clients.
#[derive(Debug, Clone)]
pub struct Registrar {
    env: Environment,
    writer: Writer,
    target: Target,
}

impl Registrar {
    /// A registrar for this machine's clients, keeping backups under
    /// `data_dir`, writing entries that point at `target`.
    pub fn new(env: Environment, data_dir: &Path, target: Target) -> Registrar {
        Registrar {
            env,
            writer: Writer::new(data_dir),
            target,
        }
    }

    /// What the entries point at.
    pub fn target(&self) -> &Target {
        &self.target
    }

    /// Gatehouse's entry for `server` (or the aggregate) in a client's file.
    fn render(&self, kind: ClientKind, scope: Scope, server: Option<&str>) -> Value {
        kind.dialect()
            .render(&self.target, self.env.os(), scope, server)
    }

    fn site(&self, kind: ClientKind, scope: Scope, project: Option<&Path>) -> Result<Site> {
        let no_scope = || Error::NoScope {
            client: kind.name(),
            scope: scope.as_str(),
        };
        let location = match scope {
            Scope::User => kind.user_location(&self.env),
            Scope::Project => {
                let dir = project.ok_or_else(|| Error::ProjectRequired {
                    client: kind.name(),
                })?;
                let dir = std::fs::canonicalize(dir)
                    .ok()
                    .filter(|dir| dir.is_dir())
                    .ok_or_else(|| Error::NotADirectory {
                        path: dir.to_owned(),
                    })?;
                kind.project_location(&dir)
            }
        };
        Ok(Site {
            kind,
            scope,
            location: location.ok_or_else(no_scope)?,
        })
    }

    /// Every client, with its user file and, given a project, its file there.
    pub fn list(&self, project: Option<&Path>) -> Vec<ClientStatus> {
        ClientKind::ALL
            .into_iter()
            .map(|kind| ClientStatus {
                kind,
                name: kind.name(),
                supports_project: kind.supports_project(),
                next_step: kind.next_step(),
                note: kind.note(),
                installed: kind.is_installed(&self.env),
                user: self.status(kind, Scope::User, None).ok(),
                project: project.and_then(|dir| self.status(kind, Scope::Project, Some(dir)).ok()),
            })
            .collect()
    }

    /// One client file's state.
    ///
    /// # Errors
    /// An unknown scope for the client, a project that is not a directory,
    /// or a file that exists but cannot be read.
    pub fn status(
        &self,
        kind: ClientKind,
        scope: Scope,
        project: Option<&Path>,
    ) -> Result<FileStatus> {
        let site = self.site(kind, scope, project)?;
        let file = FileText::read(&site.location.path)?;
        let can_undo = self.writer.backups().latest(&file.path)?.is_some();
        let mut status = FileStatus {
            scope,
            path: file.path.clone(),
            state: State::Absent,
            form: kind.dialect().form(scope),
            detail: None,
            other_servers: Vec::new(),
            server_entries: Vec::new(),
            can_undo,
        };
        let entries = match parse(&site, &file) {
            Ok(document) => {
                document
                    .entries(&site.location.table())
                    .map_err(|source| Error::Shape {
                        path: file.path.clone(),
                        source,
                    })
            }
            Err(err) => Err(err),
        };
        let entries = match entries {
            Ok(entries) => entries,
            Err(Error::Syntax { source, .. }) => {
                status.state = State::Unreadable;
                status.detail = Some(source.to_string());
                return Ok(status);
            }
            Err(Error::Shape { source, .. }) => {
                status.state = State::Unreadable;
                status.detail = Some(source.to_string());
                return Ok(status);
            }
            Err(err) => return Err(err),
        };
        for (name, value) in entries {
            match parse_entry_name(&name) {
                None => status.other_servers.push(name),
                Some(Some(server)) => status.server_entries.push(server.to_owned()),
                Some(None) => {
                    let wanted = self.render(kind, scope, None);
                    match compare(&value, &wanted) {
                        Comparison::Current => status.state = State::Registered,
                        Comparison::Outdated(why) => {
                            status.state = State::Outdated;
                            status.detail = Some(format!("Gatehouse's entry {why}."));
                        }
                    }
                }
            }
        }
        Ok(status)
    }

    /// The change that registers or unregisters Gatehouse (or its entry for
    /// one `server`) in a client's file.
    ///
    /// # Errors
    /// A file that does not parse or whose servers' key is not a map (left
    /// untouched), a missing scope or project, an unreadable file.
    pub fn plan(
        &self,
        kind: ClientKind,
        scope: Scope,
        project: Option<&Path>,
        action: Action,
        server: Option<&str>,
    ) -> Result<Plan> {
        let site = self.site(kind, scope, project)?;
        let file = FileText::read(&site.location.path)?;
        let mut document = parse(&site, &file)?;
        let table = site.location.table();
        let name = entry_name(server);
        let shape = |source| Error::Shape {
            path: file.path.clone(),
            source,
        };
        match action {
            Action::Register => {
                let existing = document.get(&table, &name).map_err(shape)?;
                let entry = merge(existing.as_ref(), self.render(kind, scope, server));
                document.set(&table, &name, &entry).map_err(shape)?;
            }
            Action::Unregister => {
                if !document.remove(&table, &name).map_err(shape)? {
                    return Ok(self.finish(&site, &file, file.text.clone()));
                }
                if let Some(before) = self.before_registering(&site, &file, server) {
                    return Ok(self.finish(&site, &file, before));
                }
                if kind.requires_servers_key()
                    && let Some((key, parents)) = table.split_last()
                    && document.get(parents, key).map_err(shape)?.is_none()
                {
                    document
                        .set(parents, key, &Value::Object(Vec::new()))
                        .map_err(shape)?;
                }
            }
        }
        Ok(self.plan_from(&site, &file, &document))
    }

    /// The plan that turns `file` into `after`, masking the token; for a
    /// file the client rewrites itself, made through its command line when
    /// it is installed.
    fn finish(&self, site: &Site, file: &FileText, after: Option<String>) -> Plan {
        let masked = vec![self.target.token.expose().to_owned()];
        let delegated = site.location.rewritten_by_client.then(|| {
            Delegated::new(
                site.kind.command_line(&self.env),
                &site.location,
                file.text.as_deref(),
                after.as_deref(),
                &masked,
            )
        });
        Plan {
            path: file.path.clone(),
            before: file.text.clone(),
            after,
            masked,
            delegated: delegated.flatten(),
        }
    }

    /// The file as it was before Gatehouse registered `server`'s entry in
    /// it, when that was the last change to the file and the file is still
    /// exactly what it left. Unregistering then gives the user's bytes back
    /// (a blank file, no file at all, an empty `"mcpServers": {}`), which
    /// removing the entry from the text cannot know to do.
    fn before_registering(
        &self,
        site: &Site,
        file: &FileText,
        server: Option<&str>,
    ) -> Option<Option<String>> {
        let backup = self.writer.backups().latest(&file.path).ok()??;
        let previous = FileText::from_bytes(file.path.clone(), backup.content).ok()?;
        let mut document = parse(site, &previous).ok()?;
        let table = site.location.table();
        let name = entry_name(server);
        if document.get(&table, &name).ok()?.is_some() {
            return None;
        }
        let entry = self.render(site.kind, site.scope, server);
        document.set(&table, &name, &entry).ok()?;
        let registered = previous.with_body(document.to_text());
        (file.text.as_deref() == Some(registered.as_str())).then_some(previous.text)
    }

    fn plan_from(&self, site: &Site, file: &FileText, document: &Document) -> Plan {
        let body = document.to_text();
        let emptied = site.location.owned
            && document
                .entries(&site.location.table())
                .is_ok_and(|entries| entries.is_empty());
        // Gatehouse's own file with no entries left goes away; so does a
        // file that did not exist and would be created empty.
        let after = if emptied || (file.text.is_none() && body.trim().is_empty()) {
            None
        } else {
            Some(file.with_body(body))
        };
        self.finish(site, file, after)
    }

    /// Makes a planned change if the file still has the fingerprint `base`
    /// it had when the plan was shown. Returns the backup.
    ///
    /// # Errors
    /// [`Error::ChangedSince`] when the file changed; the rest as [`Registrar::plan`].
    pub fn apply(&self, plan: &Plan, base: &str) -> Result<Option<PathBuf>> {
        if plan.base() != base {
            return Err(Error::ChangedSince {
                path: plan.path.clone(),
            });
        }
        self.writer.apply(plan, &[])
    }

    /// Puts back the version of a client's file from before Gatehouse's last
    /// change to it.
    ///
    /// # Errors
    /// [`Error::NoBackup`], or the file cannot be written.
    pub fn undo(&self, kind: ClientKind, scope: Scope, project: Option<&Path>) -> Result<Backup> {
        let site = self.site(kind, scope, project)?;
        if site.location.rewritten_by_client {
            return self.undo_entries(&site);
        }
        self.writer.undo(&site.location.path)
    }

    /// Undo in a file the client rewrites as it runs: putting the whole
    /// backup back would throw away what the client wrote since, so only
    /// the servers Gatehouse changed are put back: its own entries as they
    /// were, and entries an import replaced.
    fn undo_entries(&self, site: &Site) -> Result<Backup> {
        let file = FileText::read(&site.location.path)?;
        let backup = self
            .writer
            .backups()
            .latest(&file.path)?
            .ok_or_else(|| Error::NoBackup {
                path: file.path.clone(),
            })?;
        let previous = FileText::from_bytes(file.path.clone(), backup.content.clone())?;
        let table = site.location.table();
        let shape = |source| Error::Shape {
            path: file.path.clone(),
            source,
        };
        let then = parse(site, &previous)?.entries(&table).map_err(shape)?;
        let mut document = parse(site, &file)?;
        let now = document.entries(&table).map_err(shape)?;
        for (name, entry) in &then {
            let current = now.iter().find(|(other, _)| other == name);
            let put_back = match current {
                None => true,
                Some((_, current)) => parse_entry_name(name).is_some() && current != entry,
            };
            if put_back && let Some(entry) = Value::from_json(entry) {
                document.set(&table, name, &entry).map_err(shape)?;
            }
        }
        for (name, _) in &now {
            if parse_entry_name(name).is_some() && !then.iter().any(|(other, _)| other == name) {
                document.remove(&table, name).map_err(shape)?;
            }
        }
        // A file Gatehouse created goes away again if nothing else was
        // written to it since.
        let created_and_untouched = previous.text.is_none()
            && document.entries(&[]).is_ok_and(|root| {
                root.iter().all(|(key, value)| {
                    table.len() == 1
                        && table[0] == key
                        && value.as_object().is_some_and(serde_json::Map::is_empty)
                })
            });
        let after = (!created_and_untouched).then(|| file.with_body(document.to_text()));
        let plan = self.finish(site, &file, after);
        self.writer.restore(&plan, &backup)?;
        Ok(backup)
    }

    /// The servers in a client's file that Gatehouse could run instead.
    ///
    /// # Errors
    /// As [`Registrar::plan`].
    pub fn import_candidates(
        &self,
        kind: ClientKind,
        scope: Scope,
        project: Option<&Path>,
    ) -> Result<Vec<Candidate>> {
        let site = self.site(kind, scope, project)?;
        let file = FileText::read(&site.location.path)?;
        let entries = parse(&site, &file)?
            .entries(&site.location.table())
            .map_err(|source| Error::Shape {
                path: file.path.clone(),
                source,
            })?;
        Ok(candidates(kind.dialect(), entries))
    }

    /// The change that replaces a client's imported servers `names` with
    /// Gatehouse's entry.
    ///
    /// # Errors
    /// As [`Registrar::plan`].
    pub fn plan_replace(
        &self,
        kind: ClientKind,
        scope: Scope,
        project: Option<&Path>,
        names: &[String],
    ) -> Result<Plan> {
        let site = self.site(kind, scope, project)?;
        let file = FileText::read(&site.location.path)?;
        let mut document = parse(&site, &file)?;
        let table = site.location.table();
        let shape = |source| Error::Shape {
            path: file.path.clone(),
            source,
        };
        // The removed entries' credentials are masked in the diff like the token.
        let secrets: Vec<String> =
            candidates(kind.dialect(), document.entries(&table).map_err(shape)?)
                .into_iter()
                .filter(|candidate| names.contains(&candidate.name))
                .flat_map(|candidate| {
                    candidate
                        .secrets
                        .into_iter()
                        .map(|(_, value)| value.expose().to_owned())
                })
                .collect();
        for name in names {
            document.remove(&table, name).map_err(shape)?;
        }
        let entry = self.render(kind, scope, None);
        document
            .set(&table, &entry_name(None), &entry)
            .map_err(shape)?;
        let mut plan = self.plan_from(&site, &file, &document);
        plan.masked.extend(secrets);
        Ok(plan)
    }

    /// Makes an import's replacement, leaving `secrets` (values that moved
    /// to the keyring) out of the backup, as `(value, placeholder)` pairs.
    ///
    /// # Errors
    /// As [`Registrar::apply`].
    pub fn apply_replace(
        &self,
        plan: &Plan,
        secrets: &[(String, String)],
    ) -> Result<Option<PathBuf>> {
        self.writer.apply(plan, secrets)
    }

    /// Rewrites every user-scope HTTP entry of Gatehouse's that is not
    /// current (after the token was rotated, or the address changed).
    /// Returns each file looked at, and whether it was rewritten.
    pub fn refresh(&self) -> Vec<(ClientKind, PathBuf, Result<bool>)> {
        let mut done = Vec::new();
        for kind in ClientKind::ALL {
            if kind.dialect().form(Scope::User) != Form::Http {
                continue;
            }
            let Ok(site) = self.site(kind, Scope::User, None) else {
                continue;
            };
            if !site.location.path.exists() {
                continue;
            }
            let result = self.refresh_one(&site);
            if let Ok(false) = result {
                continue;
            }
            done.push((kind, site.location.path.clone(), result));
        }
        done
    }

    fn refresh_one(&self, site: &Site) -> Result<bool> {
        let file = FileText::read(&site.location.path)?;
        let mut document = parse(site, &file)?;
        let table = site.location.table();
        let shape = |source| Error::Shape {
            path: file.path.clone(),
            source,
        };
        let entries = document.entries(&table).map_err(shape)?;
        let mut ours = false;
        for (name, existing) in &entries {
            if let Some(server) = parse_entry_name(name) {
                let entry = merge(Some(existing), self.render(site.kind, site.scope, server));
                document.set(&table, name, &entry).map_err(shape)?;
                ours = true;
            }
        }
        // A file without Gatehouse's entries is not Gatehouse's to touch
        // (and Continue's own file, blank, would otherwise be deleted).
        if !ours {
            return Ok(false);
        }
        let plan = self.plan_from(site, &file, &document);
        Ok(self.writer.apply(&plan, &[])?.is_some())
    }
}

fn serialize_kind<S: serde::Serializer>(
    kind: &ClientKind,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(kind.id())
}

fn parse(site: &Site, file: &FileText) -> Result<Document> {
    Document::parse(file.body(), site.location.format).map_err(|source| Error::Syntax {
        path: file.path.clone(),
        source,
    })
}
