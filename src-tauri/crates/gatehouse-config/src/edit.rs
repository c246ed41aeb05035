//! Changes to `gatehouse.toml` made by Gatehouse (`gatehouse server add`,
//! `remove`, tool rules, approval settings): format-preserving, so a person's
//! comments and layout survive, validated before anything is written, and
//! written atomically.

use std::io::Write;
use std::path::Path;
use std::time::Duration;

use toml_edit::{Array, DocumentMut, InlineTable, Item, Table, Value, value};

use crate::error::{Error, Location, Result};
use crate::model::{self, Config, Rule, ServerSpec};

/// `text` with a `[servers.NAME]` table for `spec` added.
///
/// # Errors
/// [`Error::Invalid`] when `text` does not parse, a server of that name
/// exists, or the result would not be a valid config.
pub fn add_server(path: &Path, text: &str, spec: &ServerSpec) -> Result<String> {
    let (_, mut doc) = parse(path, text)?;
    let servers = servers_table(path, &mut doc)?;
    if servers.contains_key(spec.name.as_str()) {
        return Err(invalid(
            path,
            format!("a server named `{}` already exists", spec.name),
        ));
    }
    let mut table = Table::new();
    table.insert("command", value(spec.command.as_str()));
    if !spec.args.is_empty() {
        table.insert("args", value(spec.args.iter().collect::<Array>()));
    }
    if !spec.env.is_empty() {
        let mut env = InlineTable::new();
        for (key, val) in &spec.env {
            env.insert(key, val.as_str().into());
        }
        table.insert("env", value(env));
    }
    if !spec.secret_env.is_empty() {
        table.insert(
            "secret_env",
            value(spec.secret_env.iter().collect::<Array>()),
        );
    }
    if let Some(cwd) = &spec.cwd {
        table.insert("cwd", value(cwd.display().to_string()));
    }
    if !spec.enabled {
        table.insert("enabled", value(false));
    }
    servers.insert(spec.name.as_str(), Item::Table(table));
    let out = doc.to_string();
    crate::parse(path, &out)?;
    Ok(out)
}

/// `text` without the `[servers.NAME]` table; everything else unchanged.
///
/// # Errors
/// [`Error::Invalid`] when `text` does not parse or has no such server.
pub fn remove_server(path: &Path, text: &str, name: &str) -> Result<String> {
    let (_, mut doc) = parse(path, text)?;
    let servers = servers_table(path, &mut doc)?;
    if servers.remove(name).is_none() {
        return Err(invalid(
            path,
            format!("there is no server `{name}` in the config"),
        ));
    }
    let out = doc.to_string();
    crate::parse(path, &out)?;
    Ok(out)
}

/// `text` with the rule for `tool` of `server` set to `rule`, or removed
/// when `rule` is `None`; `text` itself when that is already so.
///
/// A new rule goes into the server's `tools` table, which is created when
/// needed: `[servers.NAME.tools]` after a `[servers.NAME]` table, dotted keys
/// beside a server written with dotted keys, `tools = { … }` inside a server
/// written as an inline table. Removing the last rule removes the table.
///
/// # Errors
/// [`Error::UnknownServer`] when the file has no such server,
/// [`Error::Invalid`] when `text` does not parse, `tool` is empty, or the
/// result would not be a valid config.
pub fn set_tool_rule(
    path: &Path,
    text: &str,
    server: &str,
    tool: &str,
    rule: Option<Rule>,
) -> Result<String> {
    if tool.is_empty() {
        return Err(invalid(path, "a tool name cannot be empty".to_owned()));
    }
    let (config, mut doc) = parse(path, text)?;
    if !config
        .servers
        .iter()
        .any(|spec| spec.name.as_str() == server)
    {
        return Err(Error::UnknownServer {
            path: path.to_owned(),
            server: server.to_owned(),
        });
    }
    if config.approvals.rule(server, tool) == rule {
        return Ok(text.to_owned());
    }
    // The config validated, so `servers.NAME` is a table of some kind.
    let mut entry = doc
        .get_mut("servers")
        .and_then(|servers| servers.as_table_like_mut()?.get_mut(server))
        .and_then(Keys::of)
        .ok_or_else(|| invalid(path, format!("server `{server}` is not a table")))?;
    match rule {
        Some(rule) => entry
            .child("tools")
            .ok_or_else(|| invalid(path, format!("`servers.{server}.tools` is not a table")))?
            .set(tool, rule.as_str().into()),
        None => {
            let mut tools = entry
                .reborrow()
                .get_child("tools")
                .ok_or_else(|| invalid(path, format!("server `{server}` has no tool rules")))?;
            tools.remove(tool);
            if tools.is_empty() {
                entry.remove("tools");
            }
        }
    }
    finish(path, doc)
}

/// `text` with the `[approvals]` table set to these values, created at the end
/// of the file when missing; `text` itself when the config already says so.
/// Existing keys keep their comments.
///
/// # Errors
/// [`Error::Invalid`] when a value is out of range, `text` does not parse, or
/// the result would not be a valid config.
pub fn set_approval_settings(
    path: &Path,
    text: &str,
    timeout_secs: u64,
    ask_non_read_only: bool,
    retention_days: u32,
) -> Result<String> {
    model::check_timeout_secs(i128::from(timeout_secs)).map_err(|msg| invalid(path, msg))?;
    model::check_retention_days(i128::from(retention_days)).map_err(|msg| invalid(path, msg))?;
    let (config, mut doc) = parse(path, text)?;
    let current = &config.approvals;
    if current.timeout == Duration::from_secs(timeout_secs)
        && current.ask_non_read_only == ask_non_read_only
        && current.retention_days == retention_days
    {
        return Ok(text.to_owned());
    }
    let mut approvals = Keys::Table(doc.as_table_mut())
        .child("approvals")
        .ok_or_else(|| invalid(path, "`approvals` is not a table".to_owned()))?;
    // Both fit in an `i64`: the ranges were checked above.
    approvals.set("timeout_secs", (timeout_secs as i64).into());
    approvals.set("ask_non_read_only", ask_non_read_only.into());
    approvals.set("retention_days", i64::from(retention_days).into());
    finish(path, doc)
}

/// Replaces `path` with `text` atomically: a temporary file in the same
/// directory, flushed, then renamed over the original, keeping its
/// permissions. A reader sees the old file or the new one, never half.
///
/// # Errors
/// [`Error::Io`] naming the file.
pub fn write_atomically(path: &Path, text: &str) -> Result<()> {
    let io_err = |source| Error::Io {
        path: path.to_owned(),
        source,
    };
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut temp = tempfile::Builder::new()
        .prefix(".gatehouse.toml.")
        .tempfile_in(dir)
        .map_err(io_err)?;
    temp.write_all(text.as_bytes()).map_err(io_err)?;
    temp.as_file().sync_all().map_err(io_err)?;
    if let Ok(metadata) = std::fs::metadata(path) {
        temp.as_file()
            .set_permissions(metadata.permissions())
            .map_err(io_err)?;
    }
    temp.persist(path).map_err(|err| io_err(err.error))?;
    Ok(())
}

fn parse(path: &Path, text: &str) -> Result<(Config, DocumentMut)> {
    // Validate with the real schema first: its errors carry locations.
    let config = crate::parse(path, text)?;
    let doc = text
        .parse::<DocumentMut>()
        .map_err(|err| invalid(path, err.to_string()))?;
    Ok((config, doc))
}

/// The edited text, if it is still a valid config.
fn finish(path: &Path, doc: DocumentMut) -> Result<String> {
    let out = doc.to_string();
    crate::parse(path, &out)?;
    Ok(out)
}

/// A table whose keys an edit changes, as written in the file: a `[header]`
/// table or dotted keys (`Table`), or `{ … }` (`Inline`).
enum Keys<'a> {
    Table(&'a mut Table),
    Inline(&'a mut InlineTable),
}

impl<'a> Keys<'a> {
    fn of(item: &'a mut Item) -> Option<Keys<'a>> {
        match item {
            Item::Table(table) => Some(Keys::Table(table)),
            Item::Value(Value::InlineTable(table)) => Some(Keys::Inline(table)),
            _ => None,
        }
    }

    fn reborrow(&mut self) -> Keys<'_> {
        match self {
            Keys::Table(table) => Keys::Table(table),
            Keys::Inline(table) => Keys::Inline(table),
        }
    }

    fn is_empty(&self) -> bool {
        match self {
            Keys::Table(table) => table.is_empty(),
            Keys::Inline(table) => table.is_empty(),
        }
    }

    /// The table at `key`, if there is one.
    fn get_child(self, key: &str) -> Option<Keys<'a>> {
        match self {
            Keys::Table(table) => Keys::of(table.get_mut(key)?),
            Keys::Inline(table) => match table.get_mut(key)? {
                Value::InlineTable(child) => Some(Keys::Inline(child)),
                _ => None,
            },
        }
    }

    /// The table at `key`, created in the parent's style when missing: a
    /// `[header]` table under a header, dotted keys under dotted keys, `{ … }`
    /// inside `{ … }`. `None` when `key` holds something else (which a
    /// validated config never does).
    fn child(self, key: &str) -> Option<Keys<'a>> {
        match self {
            Keys::Table(table) => {
                let dotted = table.is_dotted();
                let item = table.entry(key).or_insert_with(|| {
                    let mut child = Table::new();
                    child.set_dotted(dotted);
                    Item::Table(child)
                });
                Keys::of(item)
            }
            Keys::Inline(table) => {
                if !table.contains_key(key) {
                    push_inline(table, key, Value::InlineTable(InlineTable::new()));
                }
                match table.get_mut(key)? {
                    Value::InlineTable(child) => Some(Keys::Inline(child)),
                    _ => None,
                }
            }
        }
    }

    /// Sets `key` to `new`. A value it replaces leaves its comments and
    /// spacing to `new`; an equal one is left as written (`0x78` stays).
    fn set(&mut self, key: &str, new: Value) {
        let old = match self {
            Keys::Table(table) => table.get_mut(key).and_then(Item::as_value_mut),
            Keys::Inline(table) => table.get_mut(key),
        };
        if let Some(old) = old {
            if !same_value(old, &new) {
                let decor = old.decor().clone();
                *old = new;
                *old.decor_mut() = decor;
            }
            return;
        }
        match self {
            Keys::Table(table) => {
                table.insert(key, Item::Value(new));
            }
            Keys::Inline(table) => push_inline(table, key, new),
        }
    }

    fn remove(&mut self, key: &str) {
        match self {
            Keys::Table(table) => {
                table.remove(key);
            }
            Keys::Inline(table) => {
                let was_last = table.iter().last().is_some_and(|(last, _)| last == key);
                let Some(removed) = table.remove(key) else {
                    return;
                };
                // The space before `}` belongs to the last value: keep it.
                if was_last
                    && let Some(suffix) = removed.decor().suffix()
                    && let Some((_, last)) = table.iter_mut().last()
                {
                    last.decor_mut().set_suffix(suffix.clone());
                }
            }
        }
    }
}

/// Appends `key = value` to an inline table, moving the space before `}`
/// (the last value's suffix) after the new value: `{ a = 1, b = 2 }`, not
/// `{ a = 1 , b = 2 }`.
fn push_inline(table: &mut InlineTable, key: &str, value: Value) {
    let suffix = table.iter_mut().last().and_then(|(_, last)| {
        let suffix = last.decor().suffix().cloned();
        if suffix.is_some() {
            last.decor_mut().set_suffix("");
        }
        suffix
    });
    table.insert(key, value);
    if let (Some(suffix), Some(new)) = (suffix, table.get_mut(key)) {
        new.decor_mut().set_suffix(suffix);
    }
}

fn same_value(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::String(a), Value::String(b)) => a.value() == b.value(),
        (Value::Integer(a), Value::Integer(b)) => a.value() == b.value(),
        (Value::Boolean(a), Value::Boolean(b)) => a.value() == b.value(),
        _ => false,
    }
}

fn servers_table<'a>(path: &Path, doc: &'a mut DocumentMut) -> Result<&'a mut Table> {
    let item = doc.entry("servers").or_insert_with(|| {
        let mut table = Table::new();
        // `[servers.NAME]` headers only, no empty `[servers]` header.
        table.set_implicit(true);
        Item::Table(table)
    });
    item.as_table_mut().ok_or_else(|| {
        invalid(
            path,
            "`servers` must be a table of `[servers.NAME]` tables".to_owned(),
        )
    })
}

fn invalid(path: &Path, message: String) -> Error {
    Error::Invalid {
        location: Location::file_only(path),
        message,
    }
}
