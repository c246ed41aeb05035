//! JSON-RPC messages as the relay sees them: just enough decoding to route a message
//! (id, method, era, names), while the bytes themselves are forwarded unchanged.

use bytes::Bytes;
use serde::Deserialize;
use serde::de::IgnoredAny;
use serde_json::{Value, json};

/// The `_meta` key that carries a 2026-07-28 (modern) request's protocol version.
pub(crate) const META_PROTOCOL_VERSION: &str = "io.modelcontextprotocol/protocolVersion";
/// The first protocol revision without sessions: requests at or after it are stateless.
pub(crate) const FIRST_MODERN_VERSION: &str = "2026-07-28";

/// JSON-RPC "Parse error".
pub(crate) const PARSE_ERROR: i64 = -32700;
/// JSON-RPC "Invalid Request".
pub(crate) const INVALID_REQUEST: i64 = -32600;
/// The implementation-defined server error the bridge uses when it could not relay a request.
pub(crate) const RELAY_ERROR: i64 = -32000;

/// One message read from stdin.
#[derive(Debug)]
pub(crate) struct Incoming {
    /// The line exactly as the client wrote it; this is what is POSTed.
    pub raw: Bytes,
    /// The same message decoded, for routing only.
    pub value: Value,
    pub kind: Kind,
}

/// What a message from the client is, as far as relaying goes.
#[derive(Debug)]
pub(crate) enum Kind {
    /// Expects exactly one response with the same id.
    Request { id: Value, method: String },
    /// Expects nothing back.
    Notification { method: String },
    /// The client's answer to a request the server sent.
    Response,
    /// A 2025-03-26 batch; each request in it expects a response.
    Batch { request_ids: Vec<Value> },
}

impl Incoming {
    /// The method, for requests and notifications.
    pub(crate) fn method(&self) -> Option<&str> {
        match &self.kind {
            Kind::Request { method, .. } | Kind::Notification { method } => Some(method),
            Kind::Response | Kind::Batch { .. } => None,
        }
    }

    /// The modern-era protocol version this message carries in `params._meta`, if any.
    /// A message that carries one is served statelessly, with no session.
    pub(crate) fn modern_version(&self) -> Option<&str> {
        let version = self
            .value
            .get("params")?
            .get("_meta")?
            .get(META_PROTOCOL_VERSION)?
            .as_str()?;
        // Versions are dates (YYYY-MM-DD), so text order is date order.
        (version >= FIRST_MODERN_VERSION).then_some(version)
    }

    /// The ids this message is owed responses for.
    pub(crate) fn reply_ids(&self) -> Vec<Value> {
        match &self.kind {
            Kind::Request { id, .. } => vec![id.clone()],
            Kind::Batch { request_ids } => request_ids.clone(),
            Kind::Notification { .. } | Kind::Response => Vec::new(),
        }
    }
}

/// Decodes one stdin line. On failure returns the JSON-RPC error line to write back.
pub(crate) fn parse(line: Vec<u8>) -> Result<Incoming, Vec<u8>> {
    let value: Value = match serde_json::from_slice(&line) {
        Ok(value) => value,
        Err(error) => {
            return Err(error_line(
                &Value::Null,
                PARSE_ERROR,
                &format!("Parse error: the line is not valid JSON ({error})"),
            ));
        }
    };
    let kind = match &value {
        Value::Object(object) => {
            let id = object.get("id").filter(|id| is_valid_id(id)).cloned();
            match (object.get("method"), id) {
                (Some(Value::String(method)), Some(id)) => Kind::Request {
                    id,
                    method: method.clone(),
                },
                (Some(Value::String(method)), None) if !object.contains_key("id") => {
                    Kind::Notification {
                        method: method.clone(),
                    }
                }
                (None, Some(_))
                    if object.contains_key("result") || object.contains_key("error") =>
                {
                    Kind::Response
                }
                (_, id) => {
                    return Err(error_line(
                        &id.unwrap_or(Value::Null),
                        INVALID_REQUEST,
                        "Invalid Request: not a JSON-RPC request, notification or response",
                    ));
                }
            }
        }
        Value::Array(items) if !items.is_empty() => Kind::Batch {
            request_ids: items
                .iter()
                .filter(|item| item.get("method").is_some())
                .filter_map(|item| item.get("id").filter(|id| is_valid_id(id)).cloned())
                .collect(),
        },
        _ => {
            return Err(error_line(
                &Value::Null,
                INVALID_REQUEST,
                "Invalid Request: a JSON-RPC message must be an object",
            ));
        }
    };
    Ok(Incoming {
        raw: Bytes::from(line),
        value,
        kind,
    })
}

/// JSON-RPC ids are strings or numbers (null is only for unanswerable errors).
fn is_valid_id(id: &Value) -> bool {
    matches!(id, Value::String(_) | Value::Number(_))
}

/// A key that tells ids apart exactly as JSON-RPC does (`1` and `"1"` differ).
pub(crate) fn id_key(id: &Value) -> String {
    id.to_string()
}

/// A JSON-RPC error response, serialized as one line (without the newline).
pub(crate) fn error_line(id: &Value, code: i64, message: &str) -> Vec<u8> {
    let reply = json!({
        "jsonrpc": "2.0",
        "id": id,
        "error": { "code": code, "message": message },
    });
    // Serializing a `Value` cannot fail, and its output has no raw newlines.
    serde_json::to_vec(&reply).unwrap_or_default()
}

/// The routing fields of a message from the server.
#[derive(Deserialize)]
struct Head {
    #[serde(default)]
    id: Option<Value>,
    #[serde(default)]
    method: Option<IgnoredAny>,
}

/// A message from the server, checked and made ready for stdout.
#[derive(Debug)]
pub(crate) struct Outgoing {
    /// The message as one line, without the trailing newline.
    pub line: Vec<u8>,
    /// The ids of the responses it carries (one, or several for a batch).
    pub response_ids: Vec<Value>,
}

/// Checks that `payload` is one JSON-RPC message (or batch) and puts it on one line.
/// Returns `None` for anything that is not JSON, which must never reach stdout.
pub(crate) fn outgoing(payload: &[u8]) -> Option<Outgoing> {
    let trimmed = payload.trim_ascii();
    // Decoding the routing fields also validates the whole text as JSON.
    let heads: Vec<Head> = match trimmed.first() {
        Some(b'{') => vec![serde_json::from_slice::<Head>(trimmed).ok()?],
        Some(b'[') => serde_json::from_slice::<Vec<Head>>(trimmed).ok()?,
        _ => return None,
    };
    let response_ids = heads
        .into_iter()
        .filter(|head| head.method.is_none())
        .filter_map(|head| head.id.filter(is_valid_id))
        .collect();
    // Line breaks in valid JSON are whitespace outside strings (inside strings they must be
    // escaped), so turning them into spaces keeps the message identical and on one line.
    let line = trimmed
        .iter()
        .map(|&byte| {
            if byte == b'\n' || byte == b'\r' {
                b' '
            } else {
                byte
            }
        })
        .collect();
    Some(Outgoing { line, response_ids })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(text: &str) -> Result<Incoming, Value> {
        parse(text.as_bytes().to_vec())
            .map_err(|line| serde_json::from_slice(&line).expect("error replies are JSON"))
    }

    #[test]
    fn classifies_messages() {
        let request = parsed(r#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#).unwrap();
        assert!(matches!(request.kind, Kind::Request { ref method, .. } if method == "tools/list"));
        let notification = parsed(r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#);
        assert!(matches!(
            notification.unwrap().kind,
            Kind::Notification { .. }
        ));
        let response = parsed(r#"{"jsonrpc":"2.0","id":"s1","result":{}}"#).unwrap();
        assert!(matches!(response.kind, Kind::Response));
        let batch = parsed(r#"[{"id":1,"method":"a"},{"method":"b"},{"id":2,"result":1}]"#);
        assert_eq!(batch.unwrap().reply_ids(), vec![json!(1)]);
    }

    #[test]
    fn bad_lines_get_json_rpc_errors() {
        let error = parsed("{not json").unwrap_err();
        assert_eq!(error["error"]["code"], PARSE_ERROR);
        assert_eq!(error["id"], Value::Null);
        let error = parsed(r#"{"id":3,"method":7}"#).unwrap_err();
        assert_eq!(error["error"]["code"], INVALID_REQUEST);
        assert_eq!(error["id"], 3);
        assert_eq!(parsed("42").unwrap_err()["error"]["code"], INVALID_REQUEST);
    }

    #[test]
    fn modern_version_comes_from_meta() {
        let modern = parsed(
            r#"{"id":1,"method":"tools/list","params":{"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28"}}}"#,
        );
        assert_eq!(modern.unwrap().modern_version(), Some("2026-07-28"));
        let old = parsed(
            r#"{"id":1,"method":"tools/list","params":{"_meta":{"io.modelcontextprotocol/protocolVersion":"2025-11-25"}}}"#,
        );
        assert_eq!(old.unwrap().modern_version(), None);
    }

    #[test]
    fn outgoing_messages_become_one_line_unchanged() {
        let message = outgoing(
            b"{\n  \"id\": 1,\r\n  \"result\": {\"text\": \"a\\nb\", \"extra\": true}\n}\n",
        )
        .unwrap();
        assert_eq!(
            String::from_utf8(message.line).unwrap(),
            r#"{   "id": 1,    "result": {"text": "a\nb", "extra": true} }"#
        );
        assert_eq!(message.response_ids, vec![json!(1)]);
        let request = outgoing(br#"{"id":5,"method":"roots/list"}"#).unwrap();
        assert!(request.response_ids.is_empty());
        assert!(outgoing(b"hello").is_none());
        assert!(outgoing(b"{\"id\":1").is_none());
    }
}
