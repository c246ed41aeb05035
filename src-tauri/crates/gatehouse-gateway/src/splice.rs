//! Puts servers' results back exactly as they sent them.
//!
//! rmcp's server side only takes typed results, and its types drop fields
//! they do not know (a tool's `execution`, anything newer than the SDK). So
//! a handler returns a typed placeholder whose `_meta` carries a key, and
//! leaves the real result, raw JSON, in the [`Stash`]; this layer, between
//! rmcp and the HTTP connection, swaps the placeholder for the stashed
//! result in the JSON or SSE response body. rmcp writes every message as
//! one `data:` line, so only lines carrying [`MARKER`] are parsed.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use futures::StreamExt;
use http::header;
use serde::Deserialize;
use serde_json::value::RawValue;

/// The `_meta` key of a placeholder result.
pub(crate) const MARKER: &str = "io.gatehouse/raw";

/// Results waiting for their placeholder to pass, as JSON text.
#[derive(Default)]
pub(crate) struct Stash {
    next: AtomicU64,
    entries: Mutex<HashMap<u64, (Instant, String)>>,
}

/// A result whose response never went out (the client left) is dropped
/// after this long.
const STASH_TTL: Duration = Duration::from_secs(120);

impl Stash {
    /// Keeps `result`, which must be one JSON value, and returns the `_meta`
    /// for its placeholder.
    pub(crate) fn put(&self, result: String) -> rmcp::model::MetaObject {
        let key = self.next.fetch_add(1, Ordering::Relaxed);
        let now = Instant::now();
        let mut entries = self.lock();
        if entries.len() >= 64 {
            entries.retain(|_, (at, _)| now.duration_since(*at) < STASH_TTL);
        }
        entries.insert(key, (now, result));
        drop(entries);
        let mut meta = serde_json::Map::new();
        meta.insert(MARKER.to_owned(), key.into());
        rmcp::model::MetaObject(meta)
    }

    fn take(&self, key: u64) -> Option<String> {
        self.lock().remove(&key).map(|(_, text)| text)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<u64, (Instant, String)>> {
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// One JSON-RPC message with its placeholder result replaced; `None`
    /// when it has none (most messages). Only the message's own fields are
    /// parsed: the stashed result goes in as the text it is.
    fn splice_message(&self, text: &[u8]) -> Option<Vec<u8>> {
        let message: BTreeMap<String, &RawValue> = serde_json::from_slice(text).ok()?;
        let placeholder: Placeholder = serde_json::from_str(message.get("result")?.get()).ok()?;
        let raw = self.take(placeholder.meta.key)?;
        let fields = message.iter().map(|(name, value)| {
            let value = if name == "result" {
                raw.as_str()
            } else {
                value.get()
            };
            (name.as_str(), value)
        });
        Some(object_text(fields).into_bytes())
    }
}

/// The part of a placeholder result that says which stashed result it
/// stands for (`_meta` → [`MARKER`]).
#[derive(Deserialize)]
struct Placeholder {
    #[serde(rename = "_meta")]
    meta: PlaceholderMeta,
}

#[derive(Deserialize)]
struct PlaceholderMeta {
    // `MARKER`, which `rename` cannot name (the tests below fail if they
    // disagree).
    #[serde(rename = "io.gatehouse/raw")]
    key: u64,
}

/// A JSON object from its fields, each value already JSON text; compact,
/// in the order given.
pub(crate) fn object_text<'a>(fields: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    let mut out = String::from("{");
    for (i, (name, value)) in fields.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        // A string always serializes.
        out.push_str(&serde_json::to_string(name).unwrap_or_default());
        out.push(':');
        out.push_str(value);
    }
    out.push('}');
    out
}

/// The middleware: rewrites JSON bodies whole and SSE bodies line by line.
pub(crate) async fn splice(
    State(stash): State<Arc<Stash>>,
    request: Request,
    next: Next,
) -> Response {
    let response = next.run(request).await;
    let content_type = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_ascii_lowercase();
    if content_type.starts_with("application/json") {
        let (mut parts, body) = response.into_parts();
        // Bodies are bounded by the servers' 16 MiB message limit.
        let Ok(bytes) = axum::body::to_bytes(body, usize::MAX).await else {
            return Response::from_parts(parts, Body::empty());
        };
        let bytes = match stash.splice_message(&bytes) {
            Some(spliced) => {
                parts.headers.remove(header::CONTENT_LENGTH);
                Bytes::from(spliced)
            }
            None => bytes,
        };
        Response::from_parts(parts, Body::from(bytes))
    } else if content_type.starts_with("text/event-stream") {
        let (parts, body) = response.into_parts();
        Response::from_parts(parts, Body::from_stream(splice_sse(stash, body)))
    } else {
        response
    }
}

/// Passes an SSE body through, complete line by complete line, splicing
/// the `data:` lines that carry a placeholder.
fn splice_sse(
    stash: Arc<Stash>,
    body: Body,
) -> impl futures::Stream<Item = Result<Bytes, axum::Error>> + Send {
    let mut pending: Vec<u8> = Vec::new();
    body.into_data_stream().map(move |chunk| {
        let chunk = chunk?;
        pending.extend_from_slice(&chunk);
        let Some(last_newline) = pending.iter().rposition(|b| *b == b'\n') else {
            return Ok(Bytes::new());
        };
        let rest = pending.split_off(last_newline + 1);
        let complete = std::mem::replace(&mut pending, rest);
        Ok(Bytes::from(splice_lines(&stash, complete)))
    })
}

fn splice_lines(stash: &Stash, complete: Vec<u8>) -> Vec<u8> {
    let marker = MARKER.as_bytes();
    if !complete.windows(marker.len()).any(|w| w == marker) {
        return complete;
    }
    let mut out = Vec::with_capacity(complete.len());
    for line in complete.split_inclusive(|b| *b == b'\n') {
        let spliced = line
            .strip_prefix(b"data:")
            .map(|data| data.strip_prefix(b" ").unwrap_or(data))
            .map(|data| data.strip_suffix(b"\n").unwrap_or(data))
            .map(|data| data.strip_suffix(b"\r").unwrap_or(data))
            .and_then(|data| stash.splice_message(data));
        match spliced {
            Some(message) => {
                out.extend_from_slice(b"data: ");
                out.extend_from_slice(&message);
                out.push(b'\n');
            }
            None => out.extend_from_slice(line),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_placeholder_line_gets_the_stashed_result_and_other_lines_pass() {
        let stash = Stash::default();
        let meta = stash.put(
            serde_json::json!({"tools": [{"name": "t", "execution": {"taskSupport": "optional"}}]})
                .to_string(),
        );
        let placeholder =
            serde_json::json!({"jsonrpc": "2.0", "id": 3, "result": {"tools": [], "_meta": meta}});
        let body =
            format!("id: 0\nretry: 3000\ndata: \n\nid: 1\ndata: {placeholder}\n\n: keep-alive\n\n");
        let out = String::from_utf8(splice_lines(&stash, body.into_bytes())).unwrap();
        assert!(
            out.starts_with("id: 0\nretry: 3000\ndata: \n\nid: 1\ndata: "),
            "{out}"
        );
        assert!(out.ends_with("\n\n: keep-alive\n\n"), "{out}");
        let data = out.lines().find(|l| l.contains("execution")).unwrap();
        let message: serde_json::Value =
            serde_json::from_str(data.strip_prefix("data: ").unwrap()).unwrap();
        assert_eq!(message["id"], 3);
        assert_eq!(
            message["result"]["tools"][0]["execution"]["taskSupport"],
            "optional"
        );
        assert!(message["result"].get("_meta").is_none());
    }

    #[tokio::test]
    async fn split_chunks_are_reassembled_before_splicing() {
        let stash = Arc::new(Stash::default());
        let meta = stash.put(serde_json::json!({"content": [], "extra": 1}).to_string());
        let line = format!(
            "data: {}\n\n",
            serde_json::json!({"jsonrpc": "2.0", "id": 1, "result": {"content": [], "_meta": meta}})
        );
        let (a, b) = line.split_at(20);
        let body = Body::from_stream(futures::stream::iter([
            Ok::<_, std::io::Error>(Bytes::from(a.to_owned())),
            Ok(Bytes::from(b.to_owned())),
        ]));
        let out: Vec<u8> = splice_sse(stash, body)
            .map(|chunk| chunk.unwrap().to_vec())
            .concat()
            .await;
        let out = String::from_utf8(out).unwrap();
        assert!(out.contains(r#""extra":1"#), "{out}");
    }
}
