//! The few JSON-RPC messages a load-generating MCP client sends, written as
//! text, and the one thing it needs from each answer: did it succeed.
//!
//! Bodies are built by splicing the request id into a pre-serialized
//! template, and answers are decoded into borrowed views that skip the tool's
//! content. Both keep the client's per-call cost in the low microseconds, so
//! what the benchmark measures is the server side.

use std::fmt::Write as _;

use serde::Deserialize;
use serde_json::value::RawValue;

/// The protocol version the client asks for in `initialize`: the 2025-06-18
/// revision is the newest that every contender (Gatehouse, supergateway,
/// both mcp-proxy packages) accepts for a session.
pub const DEFAULT_PROTOCOL_VERSION: &str = "2025-06-18";

/// The `notifications/initialized` message that ends the handshake.
pub const INITIALIZED: &str = r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#;

/// The request id the handshake's `initialize` uses; calls count up from 1 more.
pub const INITIALIZE_ID: u64 = 0;

/// The `initialize` request for `protocol_version`.
#[must_use]
pub fn initialize(protocol_version: &str) -> String {
    serde_json::json!({
        "jsonrpc": "2.0",
        "id": INITIALIZE_ID,
        "method": "initialize",
        "params": {
            "protocolVersion": protocol_version,
            "capabilities": {},
            "clientInfo": {"name": "gatehouse-loadgen", "version": env!("CARGO_PKG_VERSION")},
        },
    })
    .to_string()
}

/// A `tools/call` request with everything but the id serialized once.
#[derive(Debug, Clone)]
pub struct CallTemplate {
    /// `,"method":"tools/call","params":{…}}`, the text after the id.
    tail: String,
}

impl CallTemplate {
    /// A template calling `tool` with `arguments` (a JSON object).
    #[must_use]
    pub fn new(tool: &str, arguments: &serde_json::Map<String, serde_json::Value>) -> CallTemplate {
        let params = serde_json::json!({"name": tool, "arguments": arguments});
        CallTemplate {
            tail: format!(r#","method":"tools/call","params":{params}}}"#),
        }
    }

    /// The request text for `id`.
    #[must_use]
    pub fn body(&self, id: u64) -> String {
        let mut body = String::with_capacity(self.tail.len() + 40);
        body.push_str(r#"{"jsonrpc":"2.0","id":"#);
        // Writing to a String cannot fail.
        let _ = write!(body, "{id}");
        body.push_str(&self.tail);
        body
    }
}

/// Any JSON-RPC message, as much of it as the client looks at.
#[derive(Debug, Deserialize)]
struct Message<'a> {
    /// Absent on notifications; a number on our responses (a server may
    /// send its own requests with string ids, which are not ours).
    #[serde(default)]
    id: Option<serde_json::Value>,
    /// Present on requests and notifications from the server.
    #[serde(default)]
    method: Option<serde::de::IgnoredAny>,
    #[serde(default, borrow)]
    result: Option<&'a RawValue>,
    #[serde(default)]
    error: Option<ErrorObject>,
}

/// A JSON-RPC error object.
#[derive(Debug, Deserialize)]
struct ErrorObject {
    #[serde(default)]
    code: i64,
    #[serde(default)]
    message: String,
}

/// What one incoming message means to a client waiting for `id`.
#[derive(Debug)]
pub enum Incoming<'a> {
    /// The answer to the request, successful at the JSON-RPC level.
    Result(&'a RawValue),
    /// The answer to the request, a JSON-RPC error.
    Error {
        /// The error code.
        code: i64,
        /// The error message.
        message: String,
    },
    /// Something else: a notification, a server request, another id.
    Other,
}

/// Reads `text` as a message and says whether it answers `id`.
///
/// # Errors
/// When `text` is not a JSON-RPC message.
pub fn classify(text: &[u8], id: u64) -> Result<Incoming<'_>, serde_json::Error> {
    let message: Message<'_> = serde_json::from_slice(text)?;
    if message.method.is_some()
        || message.id.as_ref().and_then(serde_json::Value::as_u64) != Some(id)
    {
        return Ok(Incoming::Other);
    }
    Ok(match (message.result, message.error) {
        (_, Some(error)) => Incoming::Error {
            code: error.code,
            message: error.message,
        },
        (Some(result), None) => Incoming::Result(result),
        // A response with neither is malformed; calling it an error keeps
        // the count honest.
        (None, None) => Incoming::Error {
            code: 0,
            message: "response has neither result nor error".to_owned(),
        },
    })
}

/// The part of a `tools/call` result that says whether the tool failed.
#[derive(Debug, Deserialize)]
struct CallResult {
    #[serde(default, rename = "isError")]
    is_error: Option<bool>,
}

/// The text of a failed tool call, for the report.
#[derive(Debug, Deserialize)]
struct FailedCall {
    #[serde(default)]
    content: Vec<Content>,
}

#[derive(Debug, Deserialize)]
struct Content {
    #[serde(default)]
    text: Option<String>,
}

/// Checks a `tools/call` result: `Ok` unless it is malformed or says `isError: true`.
///
/// # Errors
/// The reason to count the call as failed.
pub fn check_call_result(result: &RawValue) -> Result<(), String> {
    let parsed: CallResult = serde_json::from_str(result.get())
        .map_err(|err| format!("tools/call result is not an object: {err}"))?;
    if parsed.is_error != Some(true) {
        return Ok(());
    }
    let text = serde_json::from_str::<FailedCall>(result.get())
        .ok()
        .and_then(|failed| failed.content.into_iter().find_map(|content| content.text))
        .unwrap_or_default();
    Err(format!(
        "the tool reported an error (isError: true): {text}"
    ))
}

/// The protocol version an `initialize` result agreed on.
///
/// # Errors
/// When the result has no `protocolVersion`.
pub fn negotiated_version(result: &RawValue) -> Result<String, String> {
    #[derive(Deserialize)]
    struct InitializeResult {
        #[serde(rename = "protocolVersion")]
        protocol_version: String,
    }
    serde_json::from_str::<InitializeResult>(result.get())
        .map(|init| init.protocol_version)
        .map_err(|err| format!("initialize result has no protocolVersion: {err}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn call_body_is_the_request_serde_would_write() {
        let args = serde_json::json!({"message": "hi \"there\""});
        let template = CallTemplate::new("echo__echo", args.as_object().unwrap());
        let body: serde_json::Value = serde_json::from_str(&template.body(42)).unwrap();
        assert_eq!(
            body,
            serde_json::json!({
                "jsonrpc": "2.0", "id": 42, "method": "tools/call",
                "params": {"name": "echo__echo", "arguments": {"message": "hi \"there\""}},
            })
        );
    }

    #[test]
    fn classify_tells_answers_from_other_messages() {
        let ok = br#"{"jsonrpc":"2.0","id":7,"result":{"content":[],"isError":false}}"#;
        assert!(matches!(classify(ok, 7).unwrap(), Incoming::Result(_)));
        assert!(matches!(classify(ok, 8).unwrap(), Incoming::Other));
        let note = br#"{"jsonrpc":"2.0","method":"notifications/progress","params":{}}"#;
        assert!(matches!(classify(note, 7).unwrap(), Incoming::Other));
        let request = br#"{"jsonrpc":"2.0","id":7,"method":"ping"}"#;
        assert!(matches!(classify(request, 7).unwrap(), Incoming::Other));
        let error = br#"{"jsonrpc":"2.0","id":7,"error":{"code":-32601,"message":"no"}}"#;
        assert!(matches!(
            classify(error, 7).unwrap(),
            Incoming::Error { code: -32601, .. }
        ));
        assert!(classify(b"not json", 7).is_err());
    }

    #[test]
    fn is_error_results_fail_with_their_text() {
        let ok =
            RawValue::from_string(r#"{"content":[{"type":"text","text":"x"}]}"#.into()).unwrap();
        assert_eq!(check_call_result(&ok), Ok(()));
        let failed = RawValue::from_string(
            r#"{"content":[{"type":"text","text":"boom"}],"isError":true}"#.into(),
        )
        .unwrap();
        assert!(check_call_result(&failed).unwrap_err().ends_with("boom"));
    }
}
