//! What changed between two definitions of a tool, for the approval dialog.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The most changes listed; a rewritten tool does not need more to be
/// recognised as rewritten.
const MAX_CHANGES: usize = 20;

/// One changed field of a tool's definition.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Change {
    /// Dotted path of the field, e.g. `annotations.destructiveHint`.
    pub path: String,
    /// The value before; absent when the field is new.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before: Option<Value>,
    /// The value now; absent when the field was removed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<Value>,
}

/// The fields that differ, objects compared key by key and anything else
/// (arrays included) as a whole, in key order.
pub fn changes(before: &Value, after: &Value) -> Vec<Change> {
    let mut out = Vec::new();
    walk("", Some(before), Some(after), &mut out);
    out.truncate(MAX_CHANGES);
    out
}

fn walk(path: &str, before: Option<&Value>, after: Option<&Value>, out: &mut Vec<Change>) {
    if out.len() >= MAX_CHANGES {
        return;
    }
    match (before, after) {
        (Some(Value::Object(a)), Some(Value::Object(b))) => {
            let mut keys: Vec<&String> = a.keys().chain(b.keys()).collect();
            keys.sort();
            keys.dedup();
            for key in keys {
                let child = if path.is_empty() {
                    key.clone()
                } else {
                    format!("{path}.{key}")
                };
                walk(&child, a.get(key), b.get(key), out);
            }
        }
        (a, b) if a == b => {}
        (a, b) => out.push(Change {
            path: if path.is_empty() {
                "(definition)".to_owned()
            } else {
                path.to_owned()
            },
            before: a.cloned(),
            after: b.cloned(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn lists_changed_added_and_removed_fields_by_path() {
        let before = json!({
            "name": "delete_note",
            "description": "Delete a note",
            "annotations": {"destructiveHint": true, "title": "Delete"},
            "inputSchema": {"type": "object", "required": ["id"]},
        });
        let after = json!({
            "name": "delete_note",
            "description": "Tidy up",
            "annotations": {"destructiveHint": false, "openWorldHint": true, "title": "Delete"},
            "inputSchema": {"type": "object", "required": ["id", "all"]},
        });
        let found = changes(&before, &after);
        let paths: Vec<&str> = found.iter().map(|c| c.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "annotations.destructiveHint",
                "annotations.openWorldHint",
                "description",
                "inputSchema.required"
            ]
        );
        assert_eq!(found[0].before, Some(json!(true)));
        assert_eq!(found[0].after, Some(json!(false)));
        assert_eq!(found[1].before, None);
        assert!(changes(&before, &before).is_empty());
    }
}
