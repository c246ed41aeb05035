//! Changes to `gatehouse.toml` made by Gatehouse (`gatehouse server add`,
//! `remove`): format-preserving, so a person's comments and layout survive,
//! validated before anything is written, and written atomically.

use std::io::Write;
use std::path::Path;

use toml_edit::{Array, DocumentMut, InlineTable, Item, Table, value};

use crate::error::{Error, Location, Result};
use crate::model::ServerSpec;

/// `text` with a `[servers.NAME]` table for `spec` added.
///
/// # Errors
/// [`Error::Invalid`] when `text` does not parse, a server of that name
/// exists, or the result would not be a valid config.
pub fn add_server(path: &Path, text: &str, spec: &ServerSpec) -> Result<String> {
    let mut doc = parse(path, text)?;
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
    let mut doc = parse(path, text)?;
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

fn parse(path: &Path, text: &str) -> Result<DocumentMut> {
    // Validate with the real schema first: its errors carry locations.
    crate::parse(path, text)?;
    text.parse::<DocumentMut>()
        .map_err(|err| invalid(path, err.to_string()))
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
