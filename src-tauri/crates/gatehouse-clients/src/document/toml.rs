//! The TOML backend: edits a client's file (Codex's `config.toml`) with
//! toml_edit, which keeps comments, spacing and order. An entry is written
//! as its own table, `[mcp_servers.gatehouse]`, with nested maps inline.

use toml_edit::{Array, DocumentMut, InlineTable, Item, Table, Value as TomlValue};

use super::{ShapeError, SyntaxError};
use crate::value::Value;

const BOM: char = '\u{feff}';

/// A TOML file being edited.
#[derive(Debug)]
pub(super) struct TomlDocument {
    doc: DocumentMut,
    /// The text as read, given back while nothing has changed it.
    original: String,
    /// A byte order mark the file started with, put back when printing.
    bom: bool,
    /// The file was blank: emptied again, it prints as it was.
    blank: bool,
    /// Every line of the file ends in CRLF, so added lines do too.
    crlf: bool,
    /// Whether `set` or `remove` changed anything.
    edited: bool,
}

impl TomlDocument {
    pub(super) fn parse(text: &str) -> Result<Self, SyntaxError> {
        let (bom, body) = match text.strip_prefix(BOM) {
            Some(rest) => (true, rest),
            None => (false, text),
        };
        let blank = body.trim().is_empty();
        let source = if blank { "" } else { body };
        let doc = source.parse::<DocumentMut>().map_err(|error| {
            let offset = error.span().map_or(0, |span| span.start);
            syntax_error_at(source, offset, error.message())
        })?;
        Ok(TomlDocument {
            doc,
            original: text.to_owned(),
            bom,
            blank,
            crlf: uses_crlf(body),
            edited: false,
        })
    }

    pub(super) fn entries(
        &self,
        path: &[&str],
    ) -> Result<Vec<(String, serde_json::Value)>, ShapeError> {
        Ok(match map_at(self.doc.as_table(), path)? {
            Some(MapRef::Table(table)) => table
                .iter()
                .filter(|(_, item)| !item.is_none())
                .map(|(key, item)| (key.to_owned(), item_to_json(item)))
                .collect(),
            Some(MapRef::Inline(table)) => table
                .iter()
                .map(|(key, value)| (key.to_owned(), value_to_json(value)))
                .collect(),
            None => Vec::new(),
        })
    }

    pub(super) fn set(
        &mut self,
        path: &[&str],
        name: &str,
        value: &Value,
    ) -> Result<(), ShapeError> {
        // Check the path before making anything, so a refused edit leaves no
        // half-made tables behind.
        map_at(self.doc.as_table(), path)?;
        let Some(map) = map_at_mut(self.doc.as_table_mut(), path, true)? else {
            return Ok(());
        };
        match map {
            MapMut::Table(table) => set_in_table(table, name, value),
            MapMut::Inline(table) => set_in_inline(table, name, value),
        }
        self.edited = true;
        Ok(())
    }

    pub(super) fn remove(&mut self, path: &[&str], name: &str) -> Result<bool, ShapeError> {
        let removed = match map_at_mut(self.doc.as_table_mut(), path, false)? {
            Some(MapMut::Table(table)) => table.remove(name).is_some(),
            Some(MapMut::Inline(table)) => table.remove(name).is_some(),
            None => false,
        };
        if removed {
            self.prune(path);
            self.edited = true;
        }
        Ok(removed)
    }

    pub(super) fn to_text(&self) -> String {
        if !self.edited || (self.blank && self.doc.as_table().is_empty()) {
            return self.original.clone();
        }
        let mut text = String::new();
        if self.bom {
            text.push(BOM);
        }
        let printed = self.doc.to_string();
        if self.crlf {
            text.push_str(&to_crlf(&printed));
        } else {
            text.push_str(&printed);
        }
        text
    }

    /// Removes the tables along `path` that are left empty, deepest first,
    /// never the root. A table whose header carries a comment stays.
    fn prune(&mut self, path: &[&str]) {
        for depth in (1..=path.len()).rev() {
            let removable = match map_at(self.doc.as_table(), &path[..depth]) {
                Ok(Some(MapRef::Table(table))) => {
                    table.is_empty() && (table.is_implicit() || !decor_has_comment(table.decor()))
                }
                Ok(Some(MapRef::Inline(table))) => table.is_empty(),
                _ => false,
            };
            if !removable {
                return;
            }
            match map_at_mut(self.doc.as_table_mut(), &path[..depth - 1], false) {
                Ok(Some(MapMut::Table(parent))) => {
                    parent.remove(path[depth - 1]);
                }
                Ok(Some(MapMut::Inline(parent))) => {
                    parent.remove(path[depth - 1]);
                }
                _ => return,
            }
        }
    }
}

/// A [`SyntaxError`] at byte `offset` of `text`, as a 1-based line and
/// column (in characters).
fn syntax_error_at(text: &str, offset: usize, message: &str) -> SyntaxError {
    let before = text.get(..offset).unwrap_or(text);
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    SyntaxError {
        line: before.matches('\n').count() + 1,
        column: before[line_start..].chars().count() + 1,
        message: message.to_owned(),
    }
}

/// A map on a path: a `[table]` (or dotted-key table) or an inline `{ }`.
enum MapRef<'a> {
    Table(&'a Table),
    Inline(&'a InlineTable),
}

enum MapMut<'a> {
    Table(&'a mut Table),
    Inline(&'a mut InlineTable),
}

/// The map at `path`, or `None` where a key on it is missing.
fn map_at<'a>(root: &'a Table, path: &[&str]) -> Result<Option<MapRef<'a>>, ShapeError> {
    let mut map = MapRef::Table(root);
    for (depth, key) in path.iter().enumerate() {
        let wrong = |found| ShapeError {
            path: path[..=depth].join("."),
            found,
        };
        map = match map {
            MapRef::Table(table) => match table.get(key) {
                None | Some(Item::None) => return Ok(None),
                Some(Item::Table(child)) => MapRef::Table(child),
                Some(Item::Value(TomlValue::InlineTable(child))) => MapRef::Inline(child),
                Some(Item::ArrayOfTables(_)) => return Err(wrong("an array")),
                Some(Item::Value(other)) => return Err(wrong(value_shape(other))),
            },
            MapRef::Inline(table) => match table.get(key) {
                None => return Ok(None),
                Some(TomlValue::InlineTable(child)) => MapRef::Inline(child),
                Some(other) => return Err(wrong(value_shape(other))),
            },
        };
    }
    Ok(Some(map))
}

/// The map at `path` to edit; with `create`, missing maps are made on the
/// way (implicit tables, so no empty `[mcp_servers]` header is printed).
fn map_at_mut<'a>(
    root: &'a mut Table,
    path: &[&str],
    create: bool,
) -> Result<Option<MapMut<'a>>, ShapeError> {
    let mut map = MapMut::Table(root);
    for (depth, key) in path.iter().enumerate() {
        let wrong = |found| ShapeError {
            path: path[..=depth].join("."),
            found,
        };
        map = match map {
            MapMut::Table(table) => {
                if table.get(key).is_none_or(Item::is_none) {
                    if !create {
                        return Ok(None);
                    }
                    let mut child = Table::new();
                    child.set_implicit(true);
                    table.insert(key, Item::Table(child));
                }
                match table.get_mut(key) {
                    Some(Item::Table(child)) => MapMut::Table(child),
                    Some(Item::Value(TomlValue::InlineTable(child))) => MapMut::Inline(child),
                    Some(Item::ArrayOfTables(_)) => return Err(wrong("an array")),
                    Some(Item::Value(other)) => return Err(wrong(value_shape(other))),
                    Some(Item::None) | None => return Ok(None),
                }
            }
            MapMut::Inline(table) => {
                if table.get(key).is_none() {
                    if !create {
                        return Ok(None);
                    }
                    table.insert(*key, TomlValue::InlineTable(InlineTable::new()));
                }
                match table.get_mut(key) {
                    Some(TomlValue::InlineTable(child)) => MapMut::Inline(child),
                    Some(other) => return Err(wrong(value_shape(other))),
                    None => return Ok(None),
                }
            }
        };
    }
    Ok(Some(map))
}

fn value_shape(value: &TomlValue) -> &'static str {
    match value {
        TomlValue::String(_) => "a string",
        TomlValue::Integer(_) | TomlValue::Float(_) => "a number",
        TomlValue::Boolean(_) => "a boolean",
        TomlValue::Datetime(_) => "a date-time",
        TomlValue::Array(_) => "an array",
        TomlValue::InlineTable(_) => "a table",
    }
}

/// Sets `name` in a `[table]`: an object becomes a table of its own, taking
/// an old table's place in the file (its position and the comments above
/// its header); an old inline value is replaced where it stands.
fn set_in_table(table: &mut Table, name: &str, value: &Value) {
    match (table.get_mut(name), value) {
        (Some(Item::Table(old)), Value::Object(pairs)) => {
            let mut new = entry_table(pairs);
            new.set_position(old.position());
            new.set_dotted(old.is_dotted());
            *new.decor_mut() = old.decor().clone();
            *old = new;
        }
        (Some(Item::Value(old)), value) => {
            let mut new = to_toml(value);
            *new.decor_mut() = old.decor().clone();
            *old = new;
        }
        (Some(Item::ArrayOfTables(old)), Value::Object(pairs)) => {
            let mut new = entry_table(pairs);
            if let Some(first) = old.iter().next() {
                new.set_position(first.position());
                *new.decor_mut() = first.decor().clone();
            }
            table.insert(name, Item::Table(new));
        }
        (_, Value::Object(pairs)) => {
            table.insert(name, Item::Table(entry_table(pairs)));
        }
        (_, value) => {
            table.insert(name, Item::Value(to_toml(value)));
        }
    }
}

/// Sets `name` in an inline table, keeping an old value's place and spacing.
fn set_in_inline(table: &mut InlineTable, name: &str, value: &Value) {
    let mut new = to_toml(value);
    match table.get_mut(name) {
        Some(old) => {
            *new.decor_mut() = old.decor().clone();
            *old = new;
        }
        None => {
            table.insert(name, new);
        }
    }
}

/// An entry's table: its keys in order, nested maps inline.
fn entry_table(pairs: &[(String, Value)]) -> Table {
    let mut table = Table::new();
    for (key, value) in pairs {
        table.insert(key, Item::Value(to_toml(value)));
    }
    table
}

fn to_toml(value: &Value) -> TomlValue {
    match value {
        Value::String(s) => string_value(s),
        Value::Bool(b) => TomlValue::from(*b),
        Value::Integer(n) => TomlValue::from(*n),
        Value::Array(items) => TomlValue::Array(items.iter().map(to_toml).collect::<Array>()),
        Value::Object(pairs) => TomlValue::InlineTable(
            pairs
                .iter()
                .map(|(key, value)| (key.as_str(), to_toml(value)))
                .collect::<InlineTable>(),
        ),
    }
}

/// A string as a one-line basic string. toml_edit would write one with a
/// line break as a multi-line `"""` string, whose raw line breaks a CRLF
/// file's conversion would change; escaped, the value is exact anywhere.
fn string_value(s: &str) -> TomlValue {
    if !s.chars().any(char::is_control) {
        return TomlValue::from(s);
    }
    let mut quoted = String::with_capacity(s.len() + 2);
    quoted.push('"');
    for c in s.chars() {
        match c {
            '"' => quoted.push_str("\\\""),
            '\\' => quoted.push_str("\\\\"),
            '\n' => quoted.push_str("\\n"),
            '\r' => quoted.push_str("\\r"),
            '\t' => quoted.push_str("\\t"),
            c if c.is_control() => quoted.push_str(&format!("\\u{:04X}", u32::from(c))),
            c => quoted.push(c),
        }
    }
    quoted.push('"');
    quoted.parse().unwrap_or_else(|_| TomlValue::from(s))
}

fn decor_has_comment(decor: &toml_edit::Decor) -> bool {
    [decor.prefix(), decor.suffix()]
        .into_iter()
        .flatten()
        .any(|raw| raw.as_str().is_some_and(|s| s.contains('#')))
}

fn item_to_json(item: &Item) -> serde_json::Value {
    match item {
        Item::Value(value) => value_to_json(value),
        Item::Table(table) => serde_json::Value::Object(
            table
                .iter()
                .filter(|(_, item)| !item.is_none())
                .map(|(key, item)| (key.to_owned(), item_to_json(item)))
                .collect(),
        ),
        Item::ArrayOfTables(tables) => tables
            .iter()
            .map(|table| item_to_json(&Item::Table(table.clone())))
            .collect(),
        Item::None => serde_json::Value::Null,
    }
}

fn value_to_json(value: &TomlValue) -> serde_json::Value {
    match value {
        TomlValue::String(s) => serde_json::Value::String(s.value().clone()),
        TomlValue::Integer(n) => serde_json::Value::from(*n.value()),
        TomlValue::Float(f) => serde_json::Number::from_f64(*f.value()).map_or_else(
            // nan and inf have no JSON number.
            || serde_json::Value::String(f.value().to_string()),
            serde_json::Value::Number,
        ),
        TomlValue::Boolean(b) => serde_json::Value::Bool(*b.value()),
        TomlValue::Datetime(d) => serde_json::Value::String(d.value().to_string()),
        TomlValue::Array(items) => items.iter().map(value_to_json).collect(),
        TomlValue::InlineTable(table) => serde_json::Value::Object(
            table
                .iter()
                .map(|(key, value)| (key.to_owned(), value_to_json(value)))
                .collect(),
        ),
    }
}

/// Whether the text has line breaks and every one is CRLF.
fn uses_crlf(text: &str) -> bool {
    let lf = text.matches('\n').count();
    lf > 0 && text.matches("\r\n").count() == lf
}

/// Turns each lone LF into CRLF. Only lines this backend added have one:
/// the file's own are all CRLF, and added strings are escaped to one line.
fn to_crlf(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 16);
    let mut previous = '\0';
    for c in text.chars() {
        if c == '\n' && previous != '\r' {
            out.push('\r');
        }
        out.push(c);
        previous = c;
    }
    out
}
