//! The JSON and JSONC backend: edits a client's file through jsonc-parser's
//! concrete syntax tree, which holds every comment, space and newline, so
//! printing it back gives the file as it was plus the edit.

use jsonc_parser::cst::{
    CstContainerNode, CstInputValue, CstLeafNode, CstNode, CstObject, CstObjectProp, CstRootNode,
};
use jsonc_parser::errors::ParseError;
use jsonc_parser::{CollectOptions, ParseOptions};

use super::{ShapeError, SyntaxError};
use crate::value::Value;

const BOM: char = '\u{feff}';

/// A JSON or JSONC file being edited.
#[derive(Debug)]
pub(super) struct JsonDocument {
    root: CstRootNode,
    /// The text as read, given back while the file has no content of its
    /// own, so that removing from a missing or blank file writes nothing new.
    original: String,
    /// A byte order mark the file started with; the parser rejects it, so
    /// it is taken off before parsing and put back when printing.
    bom: bool,
    /// The file had no top-level value; `set` made the root object.
    root_created: bool,
}

impl JsonDocument {
    /// Parses `text`; `strict` is plain JSON, otherwise JSONC, which allows
    /// comments and trailing commas and nothing else (what VS Code and Zed
    /// accept, so a file they would reject is not silently "fixed").
    pub(super) fn parse(text: &str, strict: bool) -> Result<Self, SyntaxError> {
        let (bom, body) = match text.strip_prefix(BOM) {
            Some(rest) => (true, rest),
            None => (false, text),
        };
        // A blank file is parsed as empty so a first entry starts a clean file.
        let source = if body.trim().is_empty() { "" } else { body };
        let options = ParseOptions {
            allow_comments: !strict,
            allow_trailing_commas: !strict,
            allow_loose_object_property_names: false,
            allow_missing_commas: false,
            allow_single_quoted_strings: false,
            allow_hexadecimal_numbers: false,
            allow_unary_plus_numbers: false,
            allow_bare_decimal_point_numbers: false,
            allow_non_finite_numbers: false,
            allow_extended_string_escapes: false,
        };
        if strict {
            // The CST parser collects comments as tokens and then skips the
            // `allow_comments` check, so strict JSON is validated by the AST
            // parser first.
            jsonc_parser::parse_to_ast(source, &CollectOptions::default(), &options)
                .map_err(|e| syntax_error(&e))?;
        }
        let root = CstRootNode::parse(source, &options).map_err(|e| syntax_error(&e))?;
        let root_created = root.value().is_none();
        Ok(JsonDocument {
            root,
            original: text.to_owned(),
            bom,
            root_created,
        })
    }

    pub(super) fn entries(
        &self,
        path: &[&str],
    ) -> Result<Vec<(String, serde_json::Value)>, ShapeError> {
        let Some(object) = self.object_at(path)? else {
            return Ok(Vec::new());
        };
        // A repeated key keeps its first place and its last value, as
        // JavaScript's JSON.parse reads it.
        let mut entries: Vec<(String, serde_json::Value)> = Vec::new();
        for prop in object.properties() {
            let (Some(key), Some(value)) = (prop.decoded_name(), prop.value()) else {
                continue;
            };
            let value = to_json(&value);
            match entries.iter_mut().find(|(k, _)| *k == key) {
                Some(slot) => slot.1 = value,
                None => entries.push((key, value)),
            }
        }
        Ok(entries)
    }

    pub(super) fn set(
        &mut self,
        path: &[&str],
        name: &str,
        value: &Value,
    ) -> Result<(), ShapeError> {
        let object = self.object_at_or_create(path)?;
        let input = to_input(value);
        match last_prop(&object, name) {
            Some(prop) => prop.set_value(input),
            None => {
                object.append(name, input);
            }
        }
        Ok(())
    }

    pub(super) fn remove(&mut self, path: &[&str], name: &str) -> Result<bool, ShapeError> {
        let Some(object) = self.object_at(path)? else {
            return Ok(false);
        };
        let props: Vec<CstObjectProp> = object
            .properties()
            .into_iter()
            .filter(|prop| prop.decoded_name().as_deref() == Some(name))
            .collect();
        if props.is_empty() {
            return Ok(false);
        }
        // Every copy of a repeated key goes, or an earlier one would show.
        for prop in props {
            prop.remove();
        }
        self.prune(path);
        Ok(true)
    }

    pub(super) fn to_text(&self) -> String {
        let root_is_empty = match self.root.object_value() {
            Some(object) => object.properties().is_empty(),
            None => self.root.value().is_none(),
        };
        if self.root_created && root_is_empty {
            return self.original.clone();
        }
        let mut text = String::new();
        if self.bom {
            text.push(BOM);
        }
        text.push_str(&self.root.to_string());
        text
    }

    /// Removes the maps along `path` that are left empty, deepest first,
    /// never the root. One holding a comment stays: it is the user's.
    fn prune(&self, path: &[&str]) {
        for depth in (1..=path.len()).rev() {
            let Ok(Some(object)) = self.object_at(&path[..depth]) else {
                return;
            };
            if !object.properties().is_empty() || holds_comment(&object) {
                return;
            }
            let Ok(Some(parent)) = self.object_at(&path[..depth - 1]) else {
                return;
            };
            match last_prop(&parent, path[depth - 1]) {
                Some(prop) => prop.remove(),
                None => return,
            }
        }
    }

    /// The object at `path`, or `None` where a key on it is missing.
    fn object_at(&self, path: &[&str]) -> Result<Option<CstObject>, ShapeError> {
        let Some(value) = self.root.value() else {
            return Ok(None);
        };
        let mut object = expect_object(&value, path, 0)?;
        for (depth, key) in path.iter().enumerate() {
            let Some(value) = last_prop(&object, key).and_then(|prop| prop.value()) else {
                return Ok(None);
            };
            object = expect_object(&value, path, depth + 1)?;
        }
        Ok(Some(object))
    }

    /// The object at `path`, made with the objects leading to it where they
    /// are missing.
    fn object_at_or_create(&self, path: &[&str]) -> Result<CstObject, ShapeError> {
        let mut object = match self.root.value() {
            Some(value) => expect_object(&value, path, 0)?,
            None => self.root.object_value_or_set(),
        };
        for (depth, key) in path.iter().enumerate() {
            object = match last_prop(&object, key) {
                Some(prop) => match prop.value() {
                    Some(value) => expect_object(&value, path, depth + 1)?,
                    None => prop.object_value_or_set(),
                },
                None => object
                    .append(key, CstInputValue::Object(Vec::new()))
                    .object_value_or_set(),
            };
        }
        Ok(object)
    }
}

/// `node` as an object, or the [`ShapeError`] for the first `depth` keys of
/// `path` (the root is the empty path).
fn expect_object(node: &CstNode, path: &[&str], depth: usize) -> Result<CstObject, ShapeError> {
    node.as_object().ok_or_else(|| ShapeError {
        path: path[..depth].join("."),
        found: shape(node),
    })
}

/// What a value that is not an object is, in [`ShapeError`]'s words.
fn shape(node: &CstNode) -> &'static str {
    match node {
        CstNode::Container(CstContainerNode::Array(_)) => "an array",
        CstNode::Leaf(CstLeafNode::BooleanLit(_)) => "a boolean",
        CstNode::Leaf(CstLeafNode::NullKeyword(_)) => "null",
        CstNode::Leaf(CstLeafNode::NumberLit(_)) => "a number",
        _ => "a string",
    }
}

/// The property `name` of `object`; with the key repeated, the last one,
/// which is the one JSON readers keep.
fn last_prop(object: &CstObject, name: &str) -> Option<CstObjectProp> {
    object
        .properties()
        .into_iter()
        .rfind(|prop| prop.decoded_name().as_deref() == Some(name))
}

fn holds_comment(object: &CstObject) -> bool {
    object.children().iter().any(CstNode::is_comment)
}

fn syntax_error(error: &ParseError) -> SyntaxError {
    SyntaxError {
        line: error.line_display(),
        column: error.column_display(),
        message: error.kind().to_string(),
    }
}

fn to_input(value: &Value) -> CstInputValue {
    match value {
        Value::String(s) => CstInputValue::String(s.clone()),
        Value::Bool(b) => CstInputValue::Bool(*b),
        Value::Integer(n) => CstInputValue::Number(n.to_string()),
        Value::Array(items) => CstInputValue::Array(items.iter().map(to_input).collect()),
        Value::Object(pairs) => CstInputValue::Object(
            pairs
                .iter()
                .map(|(key, value)| (key.clone(), to_input(value)))
                .collect(),
        ),
    }
}

fn to_json(node: &CstNode) -> serde_json::Value {
    match node {
        CstNode::Container(CstContainerNode::Object(object)) => {
            let mut map = serde_json::Map::new();
            for prop in object.properties() {
                if let (Some(key), Some(value)) = (prop.decoded_name(), prop.value()) {
                    map.insert(key, to_json(&value));
                }
            }
            serde_json::Value::Object(map)
        }
        CstNode::Container(CstContainerNode::Array(array)) => {
            array.elements().iter().map(to_json).collect()
        }
        CstNode::Leaf(CstLeafNode::BooleanLit(b)) => serde_json::Value::Bool(b.value()),
        CstNode::Leaf(CstLeafNode::NumberLit(n)) => {
            let raw = n.to_string();
            // Out of f64's range (1e400) there is no JSON number to give.
            match raw.parse::<serde_json::Number>() {
                Ok(number) => serde_json::Value::Number(number),
                Err(_) => serde_json::Value::String(raw),
            }
        }
        CstNode::Leaf(CstLeafNode::StringLit(s)) => {
            serde_json::Value::String(s.decoded_value().unwrap_or_else(|_| s.raw_value()))
        }
        CstNode::Leaf(CstLeafNode::WordLit(w)) => serde_json::Value::String(w.to_string()),
        _ => serde_json::Value::Null,
    }
}
