//! Tool pins: the definition of every tool Gatehouse has seen, hashed, so a
//! changed definition suspends "always allow" and the next call asks.

use std::time::{SystemTime, UNIX_EPOCH};

use rusqlite::{OptionalExtension, TransactionBehavior, params};
use serde::Serialize;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::error::{Result, StoreError};
use crate::store::{Store, sql_err};

/// What [`Store::pin`] found.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum PinStatus {
    /// The tool was never seen before; it is pinned now, without always-allow.
    New,
    /// The definition is the one pinned.
    Same {
        /// Whether the user chose "always allow" for this tool.
        always_allow: bool,
    },
    /// The definition differs from the pinned one; the pin now holds the new
    /// one, and always-allow is off until the user grants it again.
    Changed {
        /// The definition that was pinned before, to show what changed.
        previous_definition: Value,
        /// Whether always-allow was on and this change switched it off.
        always_allow_suspended: bool,
    },
}

/// A pinned tool.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Pin {
    /// The server's name.
    pub server: String,
    /// The tool's name.
    pub tool: String,
    /// SHA-256 of the canonical definition, hex.
    pub definition_hash: String,
    /// The definition as pinned.
    pub definition: Value,
    /// Whether calls to this tool run without asking.
    pub always_allow: bool,
    /// When the tool was first seen (Unix ms).
    pub first_seen_ms: i64,
    /// When the definition was last pinned anew (Unix ms).
    pub changed_ms: i64,
}

impl Store {
    /// Pins `definition` (the whole tool object: name, description, schemas,
    /// annotations) for `server`'s `tool`, and says whether it is new, the
    /// same, or changed. A change replaces the pin and clears always-allow.
    pub fn pin(&mut self, server: &str, tool: &str, definition: &Value) -> Result<PinStatus> {
        let err = sql_err(&self.path, "pin a tool definition");
        let text = canonical_json(definition);
        let hash = hash_text(&text);
        let now = now_ms();
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(&err)?;
        let existing: Option<(String, String, bool)> = tx
            .query_row(
                "SELECT definition_hash, definition, always_allow FROM pins \
                 WHERE server = ?1 AND tool = ?2",
                params![server, tool],
                |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
            )
            .optional()
            .map_err(&err)?;
        let status = match existing {
            None => {
                tx.execute(
                    "INSERT INTO pins (server, tool, definition_hash, definition, always_allow, \
                     first_seen_ms, changed_ms) VALUES (?1, ?2, ?3, ?4, 0, ?5, ?5)",
                    params![server, tool, hash, text, now],
                )
                .map_err(&err)?;
                PinStatus::New
            }
            Some((old_hash, _, always_allow)) if old_hash == hash => {
                PinStatus::Same { always_allow }
            }
            Some((_, old_text, always_allow)) => {
                tx.execute(
                    "UPDATE pins SET definition_hash = ?3, definition = ?4, always_allow = 0, \
                     changed_ms = ?5 WHERE server = ?1 AND tool = ?2",
                    params![server, tool, hash, text, now],
                )
                .map_err(&err)?;
                PinStatus::Changed {
                    previous_definition: parse_definition(old_text),
                    always_allow_suspended: always_allow,
                }
            }
        };
        tx.commit().map_err(&err)?;
        Ok(status)
    }

    /// Turns "always allow" on or off for a pinned tool.
    pub fn set_always_allow(&mut self, server: &str, tool: &str, always_allow: bool) -> Result<()> {
        let changed = self
            .conn
            .execute(
                "UPDATE pins SET always_allow = ?3 WHERE server = ?1 AND tool = ?2",
                params![server, tool, always_allow],
            )
            .map_err(sql_err(&self.path, "set always-allow"))?;
        if changed == 0 {
            return Err(StoreError::NotPinned {
                path: self.path.clone(),
                server: server.to_owned(),
                tool: tool.to_owned(),
            });
        }
        Ok(())
    }

    /// Every pin, ordered by server and tool (loaded once at start-up, so
    /// checking a call against its pin needs no query).
    pub fn pins(&self) -> Result<Vec<Pin>> {
        let err = sql_err(&self.path, "read the pins");
        let mut statement = self
            .conn
            .prepare(
                "SELECT server, tool, definition_hash, definition, always_allow, first_seen_ms, \
                 changed_ms FROM pins ORDER BY server, tool",
            )
            .map_err(&err)?;
        let rows = statement
            .query_map([], pin_from_row)
            .map_err(&err)?
            .collect::<rusqlite::Result<Vec<Pin>>>()
            .map_err(&err)?;
        Ok(rows)
    }

    /// The pin of `server`'s `tool`, if it was ever seen.
    pub fn get_pin(&self, server: &str, tool: &str) -> Result<Option<Pin>> {
        self.conn
            .query_row(
                "SELECT server, tool, definition_hash, definition, always_allow, first_seen_ms, \
                 changed_ms FROM pins WHERE server = ?1 AND tool = ?2",
                params![server, tool],
                pin_from_row,
            )
            .optional()
            .map_err(sql_err(&self.path, "read a pin"))
    }
}

fn pin_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<Pin> {
    Ok(Pin {
        server: row.get(0)?,
        tool: row.get(1)?,
        definition_hash: row.get(2)?,
        definition: parse_definition(row.get(3)?),
        always_allow: row.get(4)?,
        first_seen_ms: row.get(5)?,
        changed_ms: row.get(6)?,
    })
}

/// SHA-256 (hex) of a tool definition in canonical form: the hash a pin
/// holds, so a caller can compare a definition with [`Pin::definition_hash`]
/// without a query.
pub fn definition_hash(definition: &Value) -> String {
    hash_text(&canonical_json(definition))
}

fn hash_text(canonical: &str) -> String {
    crate::chain::hex_digest(&Sha256::digest(canonical.as_bytes()).into())
}

/// A stored definition; text that is not JSON (a hand edit) is shown as is
/// rather than failing the call that is waiting on the pin.
fn parse_definition(text: String) -> Value {
    serde_json::from_str(&text).unwrap_or(Value::String(text))
}

/// JSON with object keys sorted at every level and no whitespace, so the same
/// definition always hashes the same however the server ordered its keys.
/// Written by hand because serde_json keeps insertion order when any crate in
/// the build enables its `preserve_order` feature.
pub(crate) fn canonical_json(value: &Value) -> String {
    let mut out = String::new();
    write_canonical(value, &mut out);
    out
}

fn write_canonical(value: &Value, out: &mut String) {
    match value {
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(item, out);
            }
            out.push(']');
        }
        Value::Object(map) => {
            let mut entries: Vec<_> = map.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            out.push('{');
            for (i, (key, item)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(key.clone()).to_string());
                out.push(':');
                write_canonical(item, out);
            }
            out.push('}');
        }
        // Scalars: serde_json's own compact form.
        scalar => out.push_str(&scalar.to_string()),
    }
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::testing::temp_store;

    fn delete_note(destructive: bool) -> Value {
        json!({
            "name": "delete_note",
            "description": "Delete a note",
            "inputSchema": {"type": "object", "properties": {"id": {"type": "string"}}},
            "annotations": {"destructiveHint": destructive, "readOnlyHint": false},
        })
    }

    #[test]
    fn pins_lists_every_pin_with_the_hash_callers_compute() {
        let (_dir, _path, mut store) = temp_store();
        store
            .pin("notes", "delete_note", &delete_note(true))
            .unwrap();
        store.pin("a", "x", &json!({"name": "x"})).unwrap();
        store.set_always_allow("a", "x", true).unwrap();
        let pins = store.pins().unwrap();
        let names: Vec<_> = pins
            .iter()
            .map(|p| (p.server.as_str(), p.tool.as_str()))
            .collect();
        assert_eq!(names, [("a", "x"), ("notes", "delete_note")]);
        assert!(pins[0].always_allow);
        assert_eq!(pins[1].definition_hash, definition_hash(&delete_note(true)));
        assert_ne!(
            pins[1].definition_hash,
            definition_hash(&delete_note(false))
        );
    }

    #[test]
    fn new_same_and_changed_with_always_allow_suspended() {
        let (_dir, path, mut store) = temp_store();
        assert_eq!(
            store
                .pin("notes", "delete_note", &delete_note(true))
                .unwrap(),
            PinStatus::New
        );
        assert_eq!(
            store
                .pin("notes", "delete_note", &delete_note(true))
                .unwrap(),
            PinStatus::Same {
                always_allow: false
            }
        );
        store
            .set_always_allow("notes", "delete_note", true)
            .unwrap();
        assert_eq!(
            store
                .pin("notes", "delete_note", &delete_note(true))
                .unwrap(),
            PinStatus::Same { always_allow: true }
        );

        // The server flips destructiveHint: always-allow is suspended and
        // the old definition is there to show the difference.
        assert_eq!(
            store
                .pin("notes", "delete_note", &delete_note(false))
                .unwrap(),
            PinStatus::Changed {
                previous_definition: delete_note(true),
                always_allow_suspended: true
            }
        );
        let pin = store.get_pin("notes", "delete_note").unwrap().unwrap();
        assert!(!pin.always_allow);
        assert_eq!(pin.definition, delete_note(false));
        assert_eq!(
            store
                .pin("notes", "delete_note", &delete_note(false))
                .unwrap(),
            PinStatus::Same {
                always_allow: false
            }
        );
        // A change without always-allow says nothing was suspended.
        assert_eq!(
            store
                .pin("notes", "delete_note", &delete_note(true))
                .unwrap(),
            PinStatus::Changed {
                previous_definition: delete_note(false),
                always_allow_suspended: false
            }
        );
        // Pins are per server: the same tool name elsewhere is new.
        assert_eq!(
            store
                .pin("other", "delete_note", &delete_note(true))
                .unwrap(),
            PinStatus::New
        );
        // And they survive a re-open.
        drop(store);
        let store = Store::open(&path).unwrap();
        assert!(store.get_pin("notes", "delete_note").unwrap().is_some());
        assert!(store.get_pin("notes", "nope").unwrap().is_none());
    }

    #[test]
    fn key_order_does_not_matter_but_any_value_does() {
        let a: Value =
            serde_json::from_str(r#"{"name":"t","annotations":{"b":1,"a":[{"y":2,"x":"é\n"}]}}"#)
                .unwrap();
        let b: Value =
            serde_json::from_str(r#"{"annotations":{"a":[{"x":"é\n","y":2}],"b":1},"name":"t"}"#)
                .unwrap();
        assert_eq!(canonical_json(&a), canonical_json(&b));
        assert_eq!(
            canonical_json(&a),
            r#"{"annotations":{"a":[{"x":"é\n","y":2}],"b":1},"name":"t"}"#
        );
        let (_dir, _path, mut store) = temp_store();
        assert_eq!(store.pin("s", "t", &a).unwrap(), PinStatus::New);
        assert!(matches!(
            store.pin("s", "t", &b).unwrap(),
            PinStatus::Same { .. }
        ));
        let c = json!({"name": "t", "annotations": {"b": 1, "a": [{"y": 2, "x": "é"}]}});
        assert!(matches!(
            store.pin("s", "t", &c).unwrap(),
            PinStatus::Changed { .. }
        ));
    }

    #[test]
    fn always_allow_for_an_unknown_tool_is_an_error_naming_it() {
        let (_dir, _path, mut store) = temp_store();
        let err = store.set_always_allow("notes", "ghost", true).unwrap_err();
        assert!(matches!(err, StoreError::NotPinned { .. }), "{err:?}");
        assert!(err.to_string().contains("ghost"), "{err}");
    }
}
