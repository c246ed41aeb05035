//! A client's config file as a format-preserving document: read entries,
//! set or remove one entry, and print the file back with every comment,
//! blank line and unrelated key exactly as it was.
//!
//! One backend per format: `json` (strict JSON and JSONC, via
//! jsonc-parser's CST), `toml` (toml_edit) and `yaml` (yaml-edit).

mod json;
mod toml;
mod yaml;

use crate::value::Value;

/// How a client's file is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// Strict JSON: comments and trailing commas are syntax errors.
    Json,
    /// JSON with comments and trailing commas.
    Jsonc,
    /// TOML.
    Toml,
    /// YAML.
    Yaml,
}

/// Why a file's text does not parse: where, and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}, column {column}: {message}")]
pub struct SyntaxError {
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
    /// What is wrong, in the parser's words.
    pub message: String,
}

/// Something on an entry's path is not a map, e.g. `"mcpServers": []`.
/// Gatehouse will not guess what the user meant, so it refuses.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{path}` is {found}, not a map of servers")]
pub struct ShapeError {
    /// The dotted key path that has the wrong shape, e.g. `mcpServers`.
    pub path: String,
    /// What is there instead: "an array", "a string", "a number", "a boolean", "null".
    pub found: &'static str,
}

/// A parsed config file that can be edited without disturbing the rest.
///
/// Paths are lists of keys from the root, e.g. `["mcpServers"]`, or
/// `["projects", "/home/me/app", "mcpServers"]` (a key may hold any text).
#[derive(Debug)]
pub struct Document {
    inner: Inner,
}

#[derive(Debug)]
enum Inner {
    Json(json::JsonDocument),
    Toml(toml::TomlDocument),
    Yaml(yaml::YamlDocument),
}

impl Document {
    /// Parses a file's text. Empty or whitespace-only text is an empty
    /// document: a missing file and a blank one are edited alike.
    ///
    /// # Errors
    /// [`SyntaxError`] with the line and column of the first problem. For
    /// [`Format::Json`], comments and trailing commas are errors.
    pub fn parse(text: &str, format: Format) -> Result<Document, SyntaxError> {
        let inner = match format {
            Format::Json => Inner::Json(json::JsonDocument::parse(text, true)?),
            Format::Jsonc => Inner::Json(json::JsonDocument::parse(text, false)?),
            Format::Toml => Inner::Toml(toml::TomlDocument::parse(text)?),
            Format::Yaml => Inner::Yaml(yaml::YamlDocument::parse(text)?),
        };
        Ok(Document { inner })
    }

    /// The entries of the map at `path`, in file order, as JSON values
    /// (empty when the map does not exist).
    ///
    /// # Errors
    /// [`ShapeError`] when something on the path is not a map.
    pub fn entries(&self, path: &[&str]) -> Result<Vec<(String, serde_json::Value)>, ShapeError> {
        match &self.inner {
            Inner::Json(doc) => doc.entries(path),
            Inner::Toml(doc) => doc.entries(path),
            Inner::Yaml(doc) => doc.entries(path),
        }
    }

    /// The entry `name` in the map at `path`, if there is one.
    ///
    /// # Errors
    /// [`ShapeError`] when something on the path is not a map.
    pub fn get(&self, path: &[&str], name: &str) -> Result<Option<serde_json::Value>, ShapeError> {
        Ok(self
            .entries(path)?
            .into_iter()
            .find_map(|(key, value)| (key == name).then_some(value)))
    }

    /// Sets entry `name` in the map at `path` to `value`, creating the maps
    /// on the way. An existing entry is replaced where it stands; a new one
    /// goes last. Nothing else in the file changes.
    ///
    /// # Errors
    /// [`ShapeError`] when something on the path is not a map.
    pub fn set(&mut self, path: &[&str], name: &str, value: &Value) -> Result<(), ShapeError> {
        match &mut self.inner {
            Inner::Json(doc) => doc.set(path, name, value),
            Inner::Toml(doc) => doc.set(path, name, value),
            Inner::Yaml(doc) => doc.set(path, name, value),
        }
    }

    /// Removes entry `name` from the map at `path`; `true` if it was there.
    /// Maps on the path that this leaves empty are removed as well, so
    /// setting then removing an entry gives back the original file.
    ///
    /// # Errors
    /// [`ShapeError`] when something on the path is not a map.
    pub fn remove(&mut self, path: &[&str], name: &str) -> Result<bool, ShapeError> {
        match &mut self.inner {
            Inner::Json(doc) => doc.remove(path, name),
            Inner::Toml(doc) => doc.remove(path, name),
            Inner::Yaml(doc) => doc.remove(path, name),
        }
    }

    /// The file's text, with the edits made.
    pub fn to_text(&self) -> String {
        match &self.inner {
            Inner::Json(doc) => doc.to_text(),
            Inner::Toml(doc) => doc.to_text(),
            Inner::Yaml(doc) => doc.to_text(),
        }
    }
}

#[cfg(test)]
mod tests;
