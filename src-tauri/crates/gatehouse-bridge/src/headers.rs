//! The 2026-07-28 routing headers (`Mcp-Method`, `Mcp-Name`, `Mcp-Param-*`), built from a
//! request's body so servers and middle boxes can route without reading it.

use std::collections::HashMap;
use std::sync::Mutex;

use http::{HeaderMap, HeaderName, HeaderValue};
use serde_json::Value;

pub(crate) const MCP_SESSION_ID: &str = "mcp-session-id";
pub(crate) const MCP_PROTOCOL_VERSION: &str = "mcp-protocol-version";
const MCP_METHOD: &str = "mcp-method";
const MCP_NAME: &str = "mcp-name";
const MCP_PARAM_PREFIX: &str = "mcp-param-";

/// Methods whose `Mcp-Name` is `params.name`.
const NAME_FROM_NAME: &[&str] = &["tools/call", "prompts/get"];
/// Methods whose `Mcp-Name` is `params.uri`.
const NAME_FROM_URI: &[&str] = &[
    "resources/read",
    "resources/subscribe",
    "resources/unsubscribe",
];
/// Methods whose `Mcp-Name` is `params.taskId` (the tasks extension).
const NAME_FROM_TASK_ID: &[&str] = &["tasks/get", "tasks/update", "tasks/cancel"];

/// The `Mcp-Param-*` headers each tool asks for through `x-mcp-header` in its input schema,
/// learnt from modern `tools/list` results as they pass through.
#[derive(Default)]
pub(crate) struct ToolHeaders {
    /// Tool name → (argument path, header suffix) pairs.
    tools: Mutex<HashMap<String, Vec<ParamHeader>>>,
}

struct ParamHeader {
    path: Vec<String>,
    header: HeaderName,
}

impl ToolHeaders {
    /// Remembers the annotated arguments of every tool in a `tools/list` result.
    pub(crate) fn learn(&self, result: &Value) {
        let Some(tools) = result.get("tools").and_then(Value::as_array) else {
            return;
        };
        let Ok(mut known) = self.tools.lock() else {
            return;
        };
        for tool in tools {
            let Some(name) = tool.get("name").and_then(Value::as_str) else {
                continue;
            };
            let mut params = Vec::new();
            collect_params(
                tool.pointer("/inputSchema/properties"),
                &mut Vec::new(),
                &mut params,
            );
            if params.is_empty() {
                known.remove(name);
            } else {
                known.insert(name.to_owned(), params);
            }
        }
    }

    fn params_for(&self, tool: &str, arguments: &Value, headers: &mut HeaderMap) {
        let Ok(known) = self.tools.lock() else {
            return;
        };
        for param in known.get(tool).into_iter().flatten() {
            let value = param
                .path
                .iter()
                .try_fold(arguments, |value, key| value.get(key));
            let text = match value {
                Some(Value::String(text)) => text.clone(),
                Some(Value::Bool(flag)) => flag.to_string(),
                Some(Value::Number(number)) => number.to_string(),
                _ => continue,
            };
            headers.insert(param.header.clone(), encode_value(&text));
        }
    }
}

/// Every `x-mcp-header` on a property reached from the root through `properties` alone.
fn collect_params(properties: Option<&Value>, path: &mut Vec<String>, out: &mut Vec<ParamHeader>) {
    let Some(Value::Object(properties)) = properties else {
        return;
    };
    for (name, schema) in properties {
        path.push(name.clone());
        if let Some(Value::String(header)) = schema.get("x-mcp-header")
            && let Ok(header) = HeaderName::try_from(format!("{MCP_PARAM_PREFIX}{header}"))
            && !header.as_str().eq(MCP_PARAM_PREFIX)
        {
            out.push(ParamHeader {
                path: path.clone(),
                header,
            });
        }
        collect_params(schema.get("properties"), path, out);
        path.pop();
    }
}

/// The routing headers for a modern-era message: `Mcp-Method`, and `Mcp-Name` and
/// `Mcp-Param-*` where the method has them.
pub(crate) fn routing_headers(message: &Value, method: &str, tools: &ToolHeaders) -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert(MCP_METHOD, encode_value(method));
    let params = message.get("params");
    let name_key = if NAME_FROM_NAME.contains(&method) {
        Some("name")
    } else if NAME_FROM_URI.contains(&method) {
        Some("uri")
    } else if NAME_FROM_TASK_ID.contains(&method) {
        Some("taskId")
    } else {
        None
    };
    if let Some(name) = name_key
        .and_then(|key| params?.get(key))
        .and_then(Value::as_str)
    {
        headers.insert(MCP_NAME, encode_value(name));
    }
    if method == "tools/call"
        && let Some(params) = params
        && let (Some(tool), Some(arguments)) = (
            params.get("name").and_then(Value::as_str),
            params.get("arguments"),
        )
    {
        tools.params_for(tool, arguments, &mut headers);
    }
    headers
}

/// A header value for `text`: as is when it is visible ASCII, otherwise (or when it could
/// be mistaken for an encoded value) as `=?base64?<base64 of the UTF-8>?=`.
pub(crate) fn encode_value(text: &str) -> HeaderValue {
    let visible = !text.is_empty() && text.bytes().all(|byte| (0x21..=0x7e).contains(&byte));
    let looks_encoded = text.starts_with("=?base64?") && text.ends_with("?=");
    let encoded = if visible && !looks_encoded {
        text.to_owned()
    } else {
        format!("=?base64?{}?=", base64(text.as_bytes()))
    };
    // Both forms are visible ASCII, which is always a valid header value.
    HeaderValue::from_str(&encoded).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// Standard base64 with padding (RFC 4648 §4); small enough not to need a dependency.
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        let sextets = [n >> 18, n >> 12, n >> 6, n];
        for (index, sextet) in sextets.iter().enumerate() {
            if index <= chunk.len() {
                out.push(char::from(ALPHABET[(sextet & 0x3f) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn base64_matches_rfc_4648_vectors() {
        let vectors = [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ];
        for (input, expected) in vectors {
            assert_eq!(base64(input.as_bytes()), expected);
        }
    }

    #[test]
    fn values_outside_visible_ascii_are_base64_encoded() {
        assert_eq!(encode_value("echo"), "echo");
        assert_eq!(encode_value("file:///a.txt"), "file:///a.txt");
        assert_eq!(encode_value("héllo"), "=?base64?aMOpbGxv?=");
        assert_eq!(encode_value("a b"), "=?base64?YSBi?=");
        assert_eq!(encode_value("=?base64?x?="), "=?base64?PT9iYXNlNjQ/eD89?=");
    }

    #[test]
    fn routing_headers_name_the_method_and_target() {
        let tools = ToolHeaders::default();
        tools.learn(&json!({"tools": [{
            "name": "deploy",
            "inputSchema": {"type": "object", "properties": {
                "region": {"type": "string", "x-mcp-header": "Region"},
                "opts": {"type": "object", "properties": {"n": {"type": "integer", "x-mcp-header": "N"}}}
            }}
        }]}));
        let call = json!({"method": "tools/call", "params": {
            "name": "deploy", "arguments": {"region": "eu-west", "opts": {"n": 3}}
        }});
        let headers = routing_headers(&call, "tools/call", &tools);
        assert_eq!(headers["mcp-method"], "tools/call");
        assert_eq!(headers["mcp-name"], "deploy");
        assert_eq!(headers["mcp-param-region"], "eu-west");
        assert_eq!(headers["mcp-param-n"], "3");

        let read = json!({"method": "resources/read", "params": {"uri": "mem://ü"}});
        let headers = routing_headers(&read, "resources/read", &tools);
        assert_eq!(headers["mcp-name"], "=?base64?bWVtOi8vw7w=?=");
        let list = routing_headers(&json!({}), "tools/list", &tools);
        assert!(!list.contains_key("mcp-name"));
    }
}
