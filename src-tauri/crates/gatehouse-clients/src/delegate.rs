//! Changes to a file the client rewrites as it runs, made through the
//! client's own command line.
//!
//! Claude Code's `~/.claude.json` is its state file: every running
//! instance rewrites it, nearly on every tool call, and concurrent writers
//! have corrupted it (clients.md §2.5). When the `claude` command is
//! installed, Gatehouse has it add and remove Gatehouse's entries
//! (`claude mcp add-json` / `claude mcp remove`), so Claude Code's own
//! writer makes the change. Without it, the file is edited like any other.
//!
//! Either way, what must not have changed between showing a change and
//! making it is the file's servers, not its bytes, which Claude Code
//! changes all the time.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value as Json;
use sha2::{Digest, Sha256};

use crate::catalog::Location;
use crate::change::FileText;
use crate::document::Document;
use crate::entry::{Comparison, compare};
use crate::error::{Error, Result};
use crate::value::Value;

/// A file's servers: the entries of its servers' map, in order.
type Entries = Vec<(String, Json)>;

/// How a change is made to a file the client rewrites itself.
#[derive(Debug, Clone)]
pub(crate) struct Delegated {
    /// The client's command line, when it is installed.
    program: Option<PathBuf>,
    location: Location,
    before: Entries,
    after: Entries,
}

/// One command for the client's command line.
#[derive(Debug, Clone, PartialEq)]
enum Step {
    Remove(String),
    Add(String, Json),
}

impl Delegated {
    /// The change from `before` to `after` (whole texts of the file at
    /// `location`), through `program` when it is installed and no step
    /// would put one of `secrets` on its command line. `None` when either
    /// text does not parse, which planning has already refused.
    pub(crate) fn new(
        program: Option<PathBuf>,
        location: &Location,
        before: Option<&str>,
        after: Option<&str>,
        secrets: &[String],
    ) -> Option<Delegated> {
        let mut delegated = Delegated {
            program,
            location: location.clone(),
            before: entries(location, before)?,
            after: entries(location, after)?,
        };
        // The command line is readable by every local user.
        let leaks = delegated.steps().iter().any(|step| match step {
            Step::Add(_, entry) => {
                let text = entry.to_string();
                secrets
                    .iter()
                    .any(|secret| !secret.is_empty() && text.contains(secret.as_str()))
            }
            Step::Remove(_) => false,
        });
        if leaks {
            delegated.program = None;
        }
        Some(delegated)
    }

    /// Whether the client's command line makes the change.
    pub(crate) fn by_command(&self) -> bool {
        self.program.is_some()
    }

    /// A fingerprint of the servers the change was planned against.
    pub(crate) fn base(&self) -> String {
        let text = Json::Array(
            self.before
                .iter()
                .map(|(name, entry)| Json::Array(vec![Json::from(name.as_str()), entry.clone()]))
                .collect(),
        )
        .to_string();
        hex::encode(Sha256::digest(text.as_bytes()))
    }

    /// Checks that the file's servers are still those the change was
    /// planned against.
    ///
    /// # Errors
    /// [`Error::ChangedSince`] when they are not, or the file no longer parses.
    pub(crate) fn check(&self, now: &FileText) -> Result<()> {
        match entries(&self.location, now.text.as_deref()) {
            Some(entries) if entries == self.before => Ok(()),
            _ => Err(Error::ChangedSince {
                path: now.path.clone(),
            }),
        }
    }

    /// Has the client's command line make the change, then checks that it
    /// did.
    ///
    /// # Errors
    /// [`Error::ClientCommand`] when a command fails or the file does not
    /// show the change afterwards.
    pub(crate) fn run(&self, path: &Path) -> Result<()> {
        let Some(program) = &self.program else {
            return Ok(());
        };
        for step in self.steps() {
            let mut command = Command::new(program);
            let shown = match &step {
                Step::Remove(name) => {
                    command.args(["mcp", "remove", name.as_str(), "--scope", "user"]);
                    format!("claude mcp remove {name} --scope user")
                }
                Step::Add(name, entry) => {
                    command.args(["mcp", "add-json", "--scope", "user", name.as_str()]);
                    command.arg(entry.to_string());
                    format!("claude mcp add-json --scope user {name} …")
                }
            };
            let output = command.output().map_err(|err| Error::ClientCommand {
                command: shown.clone(),
                why: format!("cannot run {}: {err}", program.display()),
            })?;
            if !output.status.success() {
                let stderr = String::from_utf8_lossy(&output.stderr);
                let stdout = String::from_utf8_lossy(&output.stdout);
                let said = [stderr.trim(), stdout.trim()]
                    .into_iter()
                    .find(|text| !text.is_empty())
                    .unwrap_or("no message");
                return Err(Error::ClientCommand {
                    command: shown,
                    why: format!("{} ({said})", output.status),
                });
            }
        }
        self.verify(path)
    }

    /// `now`'s text with the change made to its servers, for when
    /// Gatehouse writes the file itself.
    ///
    /// # Errors
    /// [`Error::ChangedSince`] when the file no longer parses.
    pub(crate) fn edit(&self, now: &FileText) -> Result<String> {
        let changed = || Error::ChangedSince {
            path: now.path.clone(),
        };
        let mut document =
            Document::parse(now.body(), self.location.format).map_err(|_| changed())?;
        let table = self.location.table();
        for step in self.steps() {
            match step {
                // A changed entry is set where it stands.
                Step::Remove(name) if self.after.iter().any(|(other, _)| *other == name) => {}
                Step::Remove(name) => {
                    document.remove(&table, &name).map_err(|_| changed())?;
                }
                Step::Add(name, entry) => {
                    let entry = Value::from_json(&entry).ok_or_else(changed)?;
                    document.set(&table, &name, &entry).map_err(|_| changed())?;
                }
            }
        }
        Ok(now.with_body(document.to_text()))
    }

    /// The commands, in order: entries gone are removed; entries new or
    /// changed are (removed and) added, since `add-json` refuses a name
    /// that exists.
    fn steps(&self) -> Vec<Step> {
        let find = |entries: &Entries, name: &str| {
            entries
                .iter()
                .find(|(other, _)| other == name)
                .map(|(_, entry)| entry.clone())
        };
        let mut steps = Vec::new();
        for (name, entry) in &self.before {
            match find(&self.after, name) {
                None => steps.push(Step::Remove(name.clone())),
                Some(wanted) if wanted != *entry => steps.push(Step::Remove(name.clone())),
                Some(_) => {}
            }
        }
        for (name, entry) in &self.after {
            if find(&self.before, name).as_ref() != Some(entry) {
                steps.push(Step::Add(name.clone(), entry.clone()));
            }
        }
        steps
    }

    /// The file now has every planned entry (as far as how to reach the
    /// server goes: the client drops keys it does not know) and none of the
    /// removed ones.
    fn verify(&self, path: &Path) -> Result<()> {
        let now = FileText::read(path)?;
        let failed = |why: String| Error::ClientCommand {
            command: "claude mcp".to_owned(),
            why,
        };
        let entries = entries(&self.location, now.text.as_deref())
            .ok_or_else(|| failed(format!("{} no longer parses afterwards", path.display())))?;
        for step in self.steps() {
            let found = |name: &str| entries.iter().find(|(other, _)| other == name);
            match step {
                Step::Add(name, wanted) => {
                    let current = found(&name).is_some_and(|(_, entry)| {
                        Value::from_json(&wanted)
                            .is_some_and(|wanted| compare(entry, &wanted) == Comparison::Current)
                    });
                    if !current {
                        return Err(failed(format!(
                            "it succeeded, but {} does not hold the `{name}` entry it was given",
                            path.display()
                        )));
                    }
                }
                Step::Remove(name) => {
                    let added_back = self.after.iter().any(|(other, _)| *other == name);
                    if !added_back && found(&name).is_some() {
                        return Err(failed(format!(
                            "it succeeded, but {} still holds `{name}`",
                            path.display()
                        )));
                    }
                }
            }
        }
        Ok(())
    }
}

/// The servers in `text`, a whole file at `location` (none when absent).
fn entries(location: &Location, text: Option<&str>) -> Option<Entries> {
    let text = text.unwrap_or("");
    let body = text.strip_prefix('\u{feff}').unwrap_or(text);
    Document::parse(body, location.format)
        .ok()?
        .entries(&location.table())
        .ok()
}
