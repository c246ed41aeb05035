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
use crate::change::{FileText, body_of};
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
    /// The servers the change was planned against.
    before: Entries,
    /// The change, entry by entry.
    steps: Vec<Step>,
}

/// One entry's change.
#[derive(Debug, Clone, PartialEq)]
enum Step {
    /// Gone.
    Remove(String),
    /// New (`replaces: false`) or changed.
    Set {
        name: String,
        entry: Json,
        replaces: bool,
    },
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
        let before = entries(location, body_of(before))?;
        let steps = steps(&before, &entries(location, body_of(after))?);
        // The command line is readable by every local user.
        let leaks = steps.iter().any(|step| match step {
            Step::Set { entry, .. } => {
                let text = entry.to_string();
                secrets
                    .iter()
                    .any(|secret| !secret.is_empty() && text.contains(secret.as_str()))
            }
            Step::Remove(_) => false,
        });
        Some(Delegated {
            program: program.filter(|_| !leaks),
            location: location.clone(),
            before,
            steps,
        })
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
        match entries(&self.location, now.body()) {
            Some(entries) if entries == self.before => Ok(()),
            _ => Err(Error::ChangedSince {
                path: now.path.clone(),
            }),
        }
    }

    /// Has the client's command line make the change, then checks that it
    /// did. A changed entry is removed and added again, since `add-json`
    /// refuses a name that exists.
    ///
    /// # Errors
    /// [`Error::ClientCommand`] when a command fails or the file does not
    /// show the change afterwards.
    pub(crate) fn run(&self, path: &Path) -> Result<()> {
        let Some(program) = &self.program else {
            return Ok(());
        };
        let run =
            |args: Vec<String>, shown: String| -> Result<()> {
                let output = Command::new(program).args(args).output().map_err(|err| {
                    Error::ClientCommand {
                        command: shown.clone(),
                        why: format!("cannot run {}: {err}", program.display()),
                    }
                })?;
                if output.status.success() {
                    return Ok(());
                }
                let stderr = String::from_utf8_lossy(&output.stderr);
                let stdout = String::from_utf8_lossy(&output.stdout);
                let said = [stderr.trim(), stdout.trim()]
                    .into_iter()
                    .find(|text| !text.is_empty())
                    .unwrap_or("no message");
                Err(Error::ClientCommand {
                    command: shown,
                    why: format!("{} ({said})", output.status),
                })
            };
        let remove = |name: &str| {
            run(
                ["mcp", "remove", name, "--scope", "user"]
                    .map(str::to_owned)
                    .to_vec(),
                format!("claude mcp remove {name} --scope user"),
            )
        };
        for step in &self.steps {
            match step {
                Step::Remove(name) => remove(name)?,
                Step::Set {
                    name,
                    entry,
                    replaces,
                } => {
                    if *replaces {
                        remove(name)?;
                    }
                    let mut args = ["mcp", "add-json", "--scope", "user", name.as_str()]
                        .map(str::to_owned)
                        .to_vec();
                    args.push(entry.to_string());
                    run(args, format!("claude mcp add-json --scope user {name} …"))?;
                }
            }
        }
        self.verify(path)
    }

    /// `now`'s text with the change made to its servers, for when
    /// Gatehouse writes the file itself. A changed entry is set where it
    /// stands.
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
        for step in &self.steps {
            match step {
                Step::Remove(name) => {
                    document.remove(&table, name).map_err(|_| changed())?;
                }
                Step::Set { name, entry, .. } => {
                    let entry = Value::from_json(entry).ok_or_else(changed)?;
                    document.set(&table, name, &entry).map_err(|_| changed())?;
                }
            }
        }
        Ok(now.with_body(document.to_text()))
    }

    /// The file now has every entry set (as far as how to reach the server
    /// goes: the client drops keys it does not know) and none of the
    /// removed ones.
    fn verify(&self, path: &Path) -> Result<()> {
        let now = FileText::read(path)?;
        let failed = |why: String| Error::ClientCommand {
            command: "claude mcp".to_owned(),
            why,
        };
        let entries = entries(&self.location, now.body())
            .ok_or_else(|| failed(format!("{} no longer parses afterwards", path.display())))?;
        let found = |name: &str| {
            entries
                .iter()
                .find(|(other, _)| other == name)
                .map(|(_, entry)| entry)
        };
        for step in &self.steps {
            match step {
                Step::Set { name, entry, .. } => {
                    let current = found(name).is_some_and(|found| {
                        Value::from_json(entry)
                            .is_some_and(|wanted| compare(found, &wanted) == Comparison::Current)
                    });
                    if !current {
                        return Err(failed(format!(
                            "it succeeded, but {} does not hold the `{name}` entry it was given",
                            path.display()
                        )));
                    }
                }
                Step::Remove(name) if found(name).is_some() => {
                    return Err(failed(format!(
                        "it succeeded, but {} still holds `{name}`",
                        path.display()
                    )));
                }
                Step::Remove(_) => {}
            }
        }
        Ok(())
    }
}

/// The change from `before` to `after`, entry by entry.
fn steps(before: &Entries, after: &Entries) -> Vec<Step> {
    let find = |entries: &Entries, name: &str| {
        entries
            .iter()
            .find(|(other, _)| other == name)
            .map(|(_, entry)| entry.clone())
    };
    let mut steps: Vec<Step> = before
        .iter()
        .filter(|(name, _)| find(after, name).is_none())
        .map(|(name, _)| Step::Remove(name.clone()))
        .collect();
    for (name, entry) in after {
        let old = find(before, name);
        if old.as_ref() != Some(entry) {
            steps.push(Step::Set {
                name: name.clone(),
                entry: entry.clone(),
                replaces: old.is_some(),
            });
        }
    }
    steps
}

/// The servers in `body`, a file at `location` without its byte-order mark.
fn entries(location: &Location, body: &str) -> Option<Entries> {
    Document::parse(body, location.format)
        .ok()?
        .entries(&location.table())
        .ok()
}
