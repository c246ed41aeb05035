//! The YAML backend: edits a client's file (Goose's `config.yaml`) with
//! yaml-edit's lossless syntax tree, so comments and layout stay.
//!
//! yaml-edit is young and error-recovering, so this backend double-checks
//! it: a file must also pass its spec validator to count as parsed, a new
//! value is written as YAML text this module quotes itself, and every edit
//! is re-parsed and compared with what was meant before it is kept.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::str::FromStr;

use yaml_edit::validator::{Severity, Validator};
use yaml_edit::{
    AnchorRegistry, Document, Mapping, Parse, Scalar, ScalarType, ScalarValue, YamlFile, YamlNode,
};

use super::{ShapeError, SyntaxError};
use crate::value::Value;

const BOM: char = '\u{feff}';

/// What [`ShapeError::found`] says when yaml-edit could not make an edit
/// that reads back as intended: the file is left as it was.
const UNEDITABLE: &str = "laid out in a way Gatehouse cannot edit safely";

/// A YAML file being edited.
#[derive(Debug)]
pub(super) struct YamlDocument {
    file: YamlFile,
    /// The text as read, given back while nothing has changed it.
    original: String,
    /// A byte order mark the file started with, put back when printing.
    bom: bool,
    /// The file had no top-level mapping (blank, or only comments): when
    /// it has no entries again, it prints as it was.
    rootless: bool,
    /// Every line of the file ends in CRLF, so added lines do too.
    crlf: bool,
    /// Whether `set` or `remove` changed anything.
    edited: bool,
}

impl YamlDocument {
    pub(super) fn parse(text: &str) -> Result<Self, SyntaxError> {
        let (bom, body) = match text.strip_prefix(BOM) {
            Some(rest) => (true, rest),
            None => (false, text),
        };
        let source = if body.trim().is_empty() { "" } else { body };
        let file = parse_checked(source)?;
        let rootless = matches!(root_mapping(&file), Ok(None));
        Ok(YamlDocument {
            file,
            original: text.to_owned(),
            bom,
            rootless,
            crlf: uses_crlf(body),
            edited: false,
        })
    }

    pub(super) fn entries(
        &self,
        path: &[&str],
    ) -> Result<Vec<(String, serde_json::Value)>, ShapeError> {
        guarded(|| entries_in(&self.file, path)).unwrap_or_else(|| Ok(Vec::new()))
    }

    pub(super) fn set(
        &mut self,
        path: &[&str],
        name: &str,
        value: &Value,
    ) -> Result<(), ShapeError> {
        // Refuse a wrong shape before touching anything.
        mapping_at(&self.file, path)?;
        let before = file_to_json(&self.file);
        let mut expected = before.clone();
        insert_json(&mut expected, path, name, value.to_json());
        let mut keys: Vec<String> = entries_in(&self.file, path)?
            .into_iter()
            .map(|(key, _)| key)
            .collect();
        if !keys.iter().any(|key| key == name) {
            keys.push(name.to_owned());
        }

        // Block style reads best; flow style (JSON-like) is the fallback
        // should yaml-edit lay a block out wrongly in some corner of a file.
        for block in [true, false] {
            let snapshot = self.file.snapshot();
            let done = guarded(|| set_in(&self.file, path, name, value, block)).unwrap_or(false);
            if done && self.reads_back(&expected, path, Some(&keys)) {
                self.edited = true;
                return Ok(());
            }
            self.file = snapshot;
        }
        tracing::error!(
            ?path,
            name,
            "yaml-edit could not write the entry as intended"
        );
        Err(uneditable(path))
    }

    pub(super) fn remove(&mut self, path: &[&str], name: &str) -> Result<bool, ShapeError> {
        let Some(mapping) = mapping_at(&self.file, path)? else {
            return Ok(false);
        };
        if !mapping.contains_key(name) {
            return Ok(false);
        }
        let before = file_to_json(&self.file);
        let mut expected = before.clone();
        remove_json(&mut expected, path, name);
        prune_json(&mut expected, path);
        let keys: Vec<String> = entries_in(&self.file, path)?
            .into_iter()
            .map(|(key, _)| key)
            .filter(|key| key != name)
            .collect();

        let snapshot = self.file.snapshot();
        let done = guarded(|| {
            mapping.remove(name);
            self.prune(path);
        })
        .is_some();
        // The map at `path` may be gone (pruned); its remaining keys are
        // only checked while it is there.
        let keys = matches!(mapping_at(&self.file, path), Ok(Some(_))).then_some(keys);
        if done && self.reads_back_pruned(&expected, path, keys.as_deref()) {
            self.edited = true;
            return Ok(true);
        }
        self.file = snapshot;
        tracing::error!(
            ?path,
            name,
            "yaml-edit could not remove the entry as intended"
        );
        Err(uneditable(path))
    }

    pub(super) fn to_text(&self) -> String {
        if !self.edited || (self.rootless && self.root_is_empty()) {
            return self.original.clone();
        }
        let mut text = String::new();
        if self.bom {
            text.push(BOM);
        }
        let printed = self.file.to_string();
        if self.crlf {
            text.push_str(&to_crlf(&printed));
        } else {
            text.push_str(&printed);
        }
        text
    }

    fn root_is_empty(&self) -> bool {
        match root_mapping(&self.file) {
            Ok(Some(root)) => root.is_empty(),
            Ok(None) => true,
            Err(_) => false,
        }
    }

    /// Removes the mappings along `path` left empty, deepest first, never
    /// the root; one whose removal would take a comment with it stays.
    fn prune(&mut self, path: &[&str]) {
        for depth in (1..=path.len()).rev() {
            let Ok(Some(mapping)) = mapping_at(&self.file, &path[..depth]) else {
                return;
            };
            let Ok(Some(parent)) = mapping_at(&self.file, &path[..depth - 1]) else {
                return;
            };
            if !mapping.is_empty() {
                return;
            }
            let comments = self.file.comments().count();
            let snapshot = self.file.snapshot();
            parent.remove(path[depth - 1]);
            if self.file.comments().count() < comments {
                self.file = snapshot;
                return;
            }
        }
    }

    /// Whether the file as printed parses to `expected`, with the keys of
    /// the map at `path` in the order `keys`.
    fn reads_back(
        &self,
        expected: &serde_json::Value,
        path: &[&str],
        keys: Option<&[String]>,
    ) -> bool {
        let Ok(reparsed) = parse_checked(&self.file.to_string()) else {
            return false;
        };
        file_to_json(&reparsed) == *expected && keys_match(&reparsed, path, keys)
    }

    /// [`Self::reads_back`] for a removal, where the maps on `path` may or
    /// may not have been pruned (one is kept when it holds a comment).
    fn reads_back_pruned(
        &self,
        expected: &serde_json::Value,
        path: &[&str],
        keys: Option<&[String]>,
    ) -> bool {
        let Ok(reparsed) = parse_checked(&self.file.to_string()) else {
            return false;
        };
        let mut actual = file_to_json(&reparsed);
        prune_json(&mut actual, path);
        actual == *expected && keys_match(&reparsed, path, keys)
    }
}

fn uneditable(path: &[&str]) -> ShapeError {
    ShapeError {
        path: path.join("."),
        found: UNEDITABLE,
    }
}

fn keys_match(file: &YamlFile, path: &[&str], keys: Option<&[String]>) -> bool {
    let Some(keys) = keys else {
        return true;
    };
    match entries_in(file, path) {
        Ok(entries) => entries.iter().map(|(key, _)| key).eq(keys.iter()),
        Err(_) => false,
    }
}

/// Runs `f`, turning a panic inside yaml-edit (it asserts on layouts it
/// does not expect) into `None`; the caller then restores its snapshot.
fn guarded<T>(f: impl FnOnce() -> T) -> Option<T> {
    catch_unwind(AssertUnwindSafe(f)).ok()
}

/// Parses `source`, which must be one YAML document that both yaml-edit's
/// parser and its spec validator accept (the parser alone recovers from
/// errors such as tab indentation or `a: b: c` without reporting them).
fn parse_checked(source: &str) -> Result<YamlFile, SyntaxError> {
    let failed = || SyntaxError {
        line: 1,
        column: 1,
        message: "the YAML parser failed on this file".to_owned(),
    };
    let parsed = guarded(|| Parse::parse_yaml(source)).ok_or_else(failed)?;
    if let Some(error) = parsed.positioned_errors().first() {
        let at = error.start_position(source);
        return Err(SyntaxError {
            line: at.line,
            column: at.column,
            message: error.message.clone(),
        });
    }
    let file = parsed.tree();
    let documents: Vec<Document> = file.documents().collect();
    if let Some(second) = documents.get(1) {
        let at = second.start_position(source);
        return Err(SyntaxError {
            line: at.line,
            column: at.column,
            message: "more than one YAML document in the file".to_owned(),
        });
    }
    let validator = Validator::new();
    let violation = guarded(|| {
        documents
            .iter()
            .flat_map(|document| validator.validate(document))
            .filter(|violation| violation.severity == Severity::Error)
            .min_by_key(|violation| violation.text_range.map_or(0, |range| range.start))
    })
    .ok_or_else(failed)?;
    if let Some(violation) = violation {
        let offset = violation.text_range.map_or(0, |range| range.start);
        let at = yaml_edit::byte_offset_to_line_column(source, offset as usize);
        return Err(SyntaxError {
            line: at.line,
            column: at.column,
            message: violation.message,
        });
    }
    Ok(file)
}

/// The top-level mapping; `None` when the file has no content.
fn root_mapping(file: &YamlFile) -> Result<Option<Mapping>, ShapeError> {
    let Some(document) = file.document() else {
        return Ok(None);
    };
    let wrong = |found| ShapeError {
        path: String::new(),
        found,
    };
    if let Some(mapping) = document.as_mapping() {
        return Ok(Some(mapping));
    }
    if let Some(tagged) = document.as_tagged() {
        return match tagged.as_mapping() {
            Some(mapping) => Ok(Some(mapping)),
            None if tagged.as_sequence().is_some() => Err(wrong("an array")),
            None => Err(wrong(tagged.value().map_or("null", |s| scalar_shape(&s)))),
        };
    }
    if document.as_sequence().is_some() {
        return Err(wrong("an array"));
    }
    if let Some(scalar) = document.as_scalar() {
        return Err(wrong(scalar_shape(&scalar)));
    }
    Ok(None)
}

/// The mapping at `path`, or `None` where a key on it is missing.
fn mapping_at(file: &YamlFile, path: &[&str]) -> Result<Option<Mapping>, ShapeError> {
    let Some(mut mapping) = root_mapping(file)? else {
        return Ok(None);
    };
    for (depth, key) in path.iter().enumerate() {
        let Some(node) = mapping.get(*key) else {
            return Ok(None);
        };
        mapping = expect_mapping(node).map_err(|found| ShapeError {
            path: path[..=depth].join("."),
            found,
        })?;
    }
    Ok(Some(mapping))
}

fn expect_mapping(node: YamlNode) -> Result<Mapping, &'static str> {
    match node {
        YamlNode::Mapping(mapping) => Ok(mapping),
        YamlNode::Sequence(_) => Err("an array"),
        YamlNode::Scalar(scalar) => Err(scalar_shape(&scalar)),
        // Editing through an alias would change the anchored node too.
        YamlNode::Alias(_) => Err("an alias"),
        YamlNode::TaggedNode(tagged) => match tagged.as_mapping() {
            Some(mapping) => Ok(mapping),
            None if tagged.as_sequence().is_some() => Err("an array"),
            None => Err(tagged.value().map_or("null", |s| scalar_shape(&s))),
        },
    }
}

fn scalar_shape(scalar: &Scalar) -> &'static str {
    match ScalarValue::from_scalar(scalar).scalar_type() {
        ScalarType::Null => "null",
        ScalarType::Boolean => "a boolean",
        ScalarType::Integer | ScalarType::Float => "a number",
        _ => "a string",
    }
}

/// Sets `name` at `path`, making the missing mappings on the way as one
/// block value. An empty flow mapping (`extensions: {}`) on the path is
/// replaced by a block one rather than filled in flow style.
fn set_in(file: &YamlFile, path: &[&str], name: &str, value: &Value, block: bool) -> bool {
    // `maps[d]` is the mapping at `path[..d]`, for as far as they exist.
    let mut maps: Vec<Mapping> = Vec::new();
    if let Ok(Some(root)) = root_mapping(file) {
        maps.push(root);
        for key in path {
            match maps.last().and_then(|m| m.get(*key)).map(expect_mapping) {
                Some(Ok(mapping)) => maps.push(mapping),
                _ => break,
            }
        }
    }
    while maps.len() > 1
        && maps
            .last()
            .is_some_and(|m| m.is_empty() && m.is_flow_style())
    {
        maps.pop();
    }
    let resolved = maps.len().saturating_sub(1);
    let (key, value) = match path.get(resolved) {
        None => (name, value.clone()),
        Some(first) => (*first, nest(&path[resolved + 1..], name, value)),
    };
    // The value goes in as a parsed node, so yaml-edit copies the text this
    // module wrote (and quoted) rather than rendering it anew.
    let Some(document) = guarded(|| Document::from_str(&render(&value, block)).ok()).flatten()
    else {
        return false;
    };
    match maps.last() {
        Some(mapping) => {
            mapping.set(key, &document);
            true
        }
        None => file.ensure_document().set(key, &document),
    }
}

/// `value` under the keys `keys` then `name`, outermost first.
fn nest(keys: &[&str], name: &str, value: &Value) -> Value {
    let inner = Value::Object(vec![(name.to_owned(), value.clone())]);
    keys.iter().rev().fold(inner, |inner, key| {
        Value::Object(vec![((*key).to_owned(), inner)])
    })
}

/// How far a nested block is indented. yaml-edit puts a block value two
/// spaces in from its key whatever the file's own step, so the levels
/// within an entry follow suit and the entry is consistent in itself.
const STEP: usize = 2;

/// `value` as a YAML document's text.
fn render(value: &Value, block: bool) -> String {
    let mut out = String::new();
    if block {
        match value {
            Value::Object(pairs) if !pairs.is_empty() => write_mapping(&mut out, pairs, 0),
            Value::Array(items) if !items.is_empty() => write_sequence(&mut out, items, 0),
            other => {
                write_flow(&mut out, other);
                out.push('\n');
            }
        }
    } else {
        write_flow(&mut out, value);
        out.push('\n');
    }
    out
}

fn write_mapping(out: &mut String, pairs: &[(String, Value)], column: usize) {
    for (key, value) in pairs {
        out.push_str(&" ".repeat(column));
        out.push_str(&scalar_text(key, true));
        out.push(':');
        write_block_value(out, value, column);
    }
}

fn write_sequence(out: &mut String, items: &[Value], column: usize) {
    for item in items {
        // An item's content starts after "- " and lines up under it.
        let mut content = String::new();
        match item {
            Value::Object(pairs) if !pairs.is_empty() => {
                write_mapping(&mut content, pairs, column + 2);
            }
            Value::Array(inner) if !inner.is_empty() => {
                write_sequence(&mut content, inner, column + 2);
            }
            other => {
                content.push_str(&" ".repeat(column + 2));
                write_flow(&mut content, other);
                content.push('\n');
            }
        }
        out.push_str(&" ".repeat(column));
        out.push_str("- ");
        let indent = " ".repeat(column + 2);
        out.push_str(content.strip_prefix(&indent).unwrap_or(&content));
    }
}

/// The value of a `key:` already written: on the next lines for a
/// non-empty map or list, else on the key's line.
fn write_block_value(out: &mut String, value: &Value, column: usize) {
    match value {
        Value::Object(pairs) if !pairs.is_empty() => {
            out.push('\n');
            write_mapping(out, pairs, column + STEP);
        }
        Value::Array(items) if !items.is_empty() => {
            out.push('\n');
            write_sequence(out, items, column + STEP);
        }
        other => {
            out.push(' ');
            write_flow(out, other);
            out.push('\n');
        }
    }
}

/// `value` on one line: scalars, `[a, b]`, `{"k": v}`. Inside flow
/// collections strings are always double-quoted, which reads the same in
/// every YAML version and needs no thought about `,` `[` `]` `{` `}`.
fn write_flow(out: &mut String, value: &Value) {
    match value {
        Value::String(s) => out.push_str(&scalar_text(s, false)),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Integer(n) => out.push_str(&n.to_string()),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_flow_item(out, item);
            }
            out.push(']');
        }
        Value::Object(pairs) => {
            out.push('{');
            for (i, (key, value)) in pairs.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                out.push_str(&double_quoted(key));
                out.push_str(": ");
                write_flow_item(out, value);
            }
            out.push('}');
        }
    }
}

fn write_flow_item(out: &mut String, value: &Value) {
    match value {
        Value::String(s) => out.push_str(&double_quoted(s)),
        other => write_flow(out, other),
    }
}

/// A string as a YAML scalar that every YAML reader (1.1 or 1.2) takes for
/// that same string: plain when it is unmistakably a word, path or URL,
/// else single-quoted, or double-quoted with escapes when it holds
/// characters that must be escaped.
fn scalar_text(s: &str, is_key: bool) -> String {
    if is_plain_safe(s, is_key) {
        s.to_owned()
    } else if s.chars().any(must_escape) {
        double_quoted(s)
    } else {
        format!("'{}'", s.replace('\'', "''"))
    }
}

fn is_plain_safe(s: &str, is_key: bool) -> bool {
    // Words YAML 1.1 or 1.2 read as booleans or null.
    const RESERVED: [&str; 9] = ["y", "n", "yes", "no", "on", "off", "true", "false", "null"];
    let mut chars = s.chars().peekable();
    let Some(first) = chars.next() else {
        return false;
    };
    if !(first.is_ascii_alphabetic() || first == '/' || first == '_') {
        return false;
    }
    if RESERVED.contains(&s.to_ascii_lowercase().as_str()) {
        return false;
    }
    while let Some(c) = chars.next() {
        let ok = match c {
            c if c.is_ascii_alphanumeric() => true,
            '_' | '-' | '.' | '/' | '@' | '+' | '=' | '~' => true,
            // `: ` or a final `:` would end the key; in a key, none at all.
            ':' => !is_key && chars.peek().is_some_and(|next| *next != ' '),
            _ => false,
        };
        if !ok {
            return false;
        }
    }
    true
}

/// Characters a YAML scalar cannot hold as they are: control characters,
/// and those YAML 1.1 reads as line breaks or that are not printable.
fn must_escape(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{85}' | '\u{2028}' | '\u{2029}' | '\u{feff}' | '\u{fffe}' | '\u{ffff}'
        )
}

fn double_quoted(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if must_escape(c) => out.push_str(&format!("\\u{:04X}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The entries of the mapping at `path`, in file order.
fn entries_in(
    file: &YamlFile,
    path: &[&str],
) -> Result<Vec<(String, serde_json::Value)>, ShapeError> {
    let Some(mapping) = mapping_at(file, path)? else {
        return Ok(Vec::new());
    };
    let registry = file
        .document()
        .map(|d| AnchorRegistry::from_document(&d))
        .unwrap_or_default();
    Ok(mapping
        .iter()
        .map(|(key, value)| (key_text(&key), to_json(&value, &registry, 0)))
        .collect())
}

/// The whole file as JSON, for checking an edit did what was meant.
fn file_to_json(file: &YamlFile) -> serde_json::Value {
    let Some(document) = file.document() else {
        return serde_json::Value::Null;
    };
    let registry = AnchorRegistry::from_document(&document);
    if let Some(mapping) = document.as_mapping() {
        return to_json(&YamlNode::Mapping(mapping), &registry, 0);
    }
    if let Some(sequence) = document.as_sequence() {
        return to_json(&YamlNode::Sequence(sequence), &registry, 0);
    }
    if let Some(scalar) = document.as_scalar() {
        return scalar_to_json(&scalar);
    }
    serde_json::Value::Null
}

fn key_text(key: &YamlNode) -> String {
    match key {
        YamlNode::Scalar(scalar) => ScalarValue::from_scalar(scalar).value().to_owned(),
        other => other.to_string(),
    }
}

/// Deeper than this, an alias loop is assumed and the value read as null.
const MAX_DEPTH: usize = 128;

fn to_json(node: &YamlNode, registry: &AnchorRegistry, depth: usize) -> serde_json::Value {
    if depth > MAX_DEPTH {
        return serde_json::Value::Null;
    }
    match node {
        YamlNode::Scalar(scalar) => scalar_to_json(scalar),
        YamlNode::Mapping(mapping) => serde_json::Value::Object(
            mapping
                .iter()
                .map(|(key, value)| (key_text(&key), to_json(&value, registry, depth + 1)))
                .collect(),
        ),
        YamlNode::Sequence(sequence) => sequence
            .values()
            .map(|item| to_json(&item, registry, depth + 1))
            .collect(),
        YamlNode::Alias(alias) => registry
            .resolve_alias(alias)
            .map_or(serde_json::Value::Null, |target| {
                to_json(&target, registry, depth + 1)
            }),
        YamlNode::TaggedNode(tagged) => {
            if let Some(mapping) = tagged.as_mapping() {
                to_json(&YamlNode::Mapping(mapping), registry, depth + 1)
            } else if let Some(sequence) = tagged.as_sequence() {
                to_json(&YamlNode::Sequence(sequence), registry, depth + 1)
            } else if tagged.resolved_tag().as_deref() == Some("!!str") {
                tagged
                    .as_string()
                    .map_or(serde_json::Value::Null, serde_json::Value::String)
            } else {
                tagged
                    .value()
                    .map_or(serde_json::Value::Null, |s| scalar_to_json(&s))
            }
        }
    }
}

fn scalar_to_json(scalar: &Scalar) -> serde_json::Value {
    let value = ScalarValue::from_scalar(scalar);
    let text = || serde_json::Value::String(value.value().to_owned());
    match value.scalar_type() {
        ScalarType::Null => serde_json::Value::Null,
        ScalarType::Boolean => value.to_bool().map_or_else(text, serde_json::Value::Bool),
        ScalarType::Integer => value.to_i64().map_or_else(text, serde_json::Value::from),
        ScalarType::Float => value
            .to_f64()
            .and_then(serde_json::Number::from_f64)
            .map_or_else(text, serde_json::Value::Number),
        _ => text(),
    }
}

/// Sets `name` to `value` in the JSON object at `path`, making objects on
/// the way (the expected result of [`YamlDocument::set`]).
fn insert_json(json: &mut serde_json::Value, path: &[&str], name: &str, value: serde_json::Value) {
    let mut current = json;
    for key in path.iter().copied().chain([name]) {
        if !current.is_object() {
            *current = serde_json::Value::Object(serde_json::Map::new());
        }
        let serde_json::Value::Object(map) = current else {
            return;
        };
        current = map.entry(key).or_insert(serde_json::Value::Null);
    }
    *current = value;
}

fn remove_json(json: &mut serde_json::Value, path: &[&str], name: &str) {
    let mut current = json;
    for key in path {
        match current.get_mut(*key) {
            Some(next) => current = next,
            None => return,
        }
    }
    if let serde_json::Value::Object(map) = current {
        map.remove(name);
    }
}

/// Drops the empty objects along `path`, deepest first, never the root.
fn prune_json(json: &mut serde_json::Value, path: &[&str]) {
    for depth in (1..=path.len()).rev() {
        let mut parent = &mut *json;
        for key in &path[..depth - 1] {
            match parent.get_mut(*key) {
                Some(next) => parent = next,
                None => return,
            }
        }
        let key = path[depth - 1];
        let empty = parent
            .get(key)
            .and_then(serde_json::Value::as_object)
            .is_some_and(serde_json::Map::is_empty);
        if !empty {
            return;
        }
        if let serde_json::Value::Object(map) = parent {
            map.remove(key);
        }
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
