//! Between a server's stdout and rmcp: MCP messages pass, anything else (a
//! banner, a stray `console.log`) goes to the server's log instead of being
//! silently dropped, and a message too large to forward gets a prompt
//! JSON-RPC error in its place, so the caller is not left waiting. Each
//! response's raw result is kept for whoever forwarded the request.

use std::sync::Arc;

use tokio::io::AsyncWriteExt;

use crate::connection::{ProgressRoutes, RawResults, observe};
use crate::logs::{BoundedLine, LogStream, ServerLog, read_line_bounded};
use crate::secrets::Scrubber;

/// The largest message forwarded: rmcp's own stdio limit.
pub(crate) const MAX_MESSAGE: usize = 16 * 1024 * 1024;

/// Copies `stdout` to `messages` line by line until either end closes.
pub(crate) async fn run(
    stdout: tokio::process::ChildStdout,
    mut messages: tokio::io::DuplexStream,
    log: Arc<ServerLog>,
    scrubber: Scrubber,
    raw: Arc<RawResults>,
    progress: Arc<ProgressRoutes>,
) {
    let mut reader = tokio::io::BufReader::with_capacity(64 * 1024, stdout);
    while let Ok(Some(line)) = read_line_bounded(&mut reader, MAX_MESSAGE).await {
        let forward = if line.is_cut() {
            log.push(
                LogStream::Gatehouse,
                format!(
                    "dropped a {}-byte message from the server: the limit is {MAX_MESSAGE} bytes",
                    line.len
                ),
            );
            match too_large_reply(&line) {
                Some(reply) => reply,
                None => continue,
            }
        } else if is_message(&line.head) {
            observe(&line.head, &raw, &progress);
            line.head
        } else {
            log.push(LogStream::Stdout, scrubber.scrub(&line.text()));
            continue;
        };
        let written = async {
            messages.write_all(&forward).await?;
            messages.write_all(b"\n").await
        };
        if written.await.is_err() {
            break;
        }
    }
}

/// MCP over stdio is one JSON object per line.
fn is_message(line: &[u8]) -> bool {
    line.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{')
}

/// For an oversized response, an error response with the same id. The id is
/// found where the SDKs put it: first after `"jsonrpc"` (rmcp, Python), or
/// last (TypeScript). Requests and notifications are only dropped.
fn too_large_reply(line: &BoundedLine) -> Option<Vec<u8>> {
    let head = String::from_utf8_lossy(&line.head[..line.head.len().min(256)]);
    let tail = String::from_utf8_lossy(&line.tail);
    let id = head
        .strip_prefix(r#"{"jsonrpc":"2.0","id":"#)
        .and_then(leading_id)
        .or_else(|| {
            let start = tail.rfind(r#","id":"#)? + r#","id":"#.len();
            let value = tail[start..].strip_suffix('}')?;
            serde_json::from_str::<serde_json::Value>(value).ok()
        })
        .filter(|id| id.is_number() || id.is_string())?;
    let reply = serde_json::json!({
        "jsonrpc": "2.0",
        "id": id,
        "error": {
            "code": -32603,
            "message": format!(
                "the server's response was {} bytes, over Gatehouse's limit of {MAX_MESSAGE} bytes",
                line.len
            ),
        },
    });
    serde_json::to_vec(&reply).ok()
}

/// The JSON number or string at the start of `text`.
fn leading_id(text: &str) -> Option<serde_json::Value> {
    let mut stream = serde_json::Deserializer::from_str(text).into_iter::<serde_json::Value>();
    // Stops with an error at the `,` after the value: the value is still read.
    match stream.next() {
        Some(Ok(value)) => Some(value),
        _ => {
            let end = text.find(',')?;
            serde_json::from_str(&text[..end]).ok()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cut(head: &str, tail: &str) -> BoundedLine {
        BoundedLine {
            head: head.as_bytes().to_vec(),
            tail: tail.as_bytes().to_vec(),
            len: MAX_MESSAGE + 10,
        }
    }

    fn reply_id(line: &BoundedLine) -> Option<serde_json::Value> {
        let reply: serde_json::Value = serde_json::from_slice(&too_large_reply(line)?).unwrap();
        assert_eq!(reply["error"]["code"], -32603);
        Some(reply["id"].clone())
    }

    #[test]
    fn the_id_of_an_oversized_response_is_found_where_each_sdk_puts_it() {
        assert_eq!(
            reply_id(&cut(
                r#"{"jsonrpc":"2.0","id":42,"result":{"x":"#,
                r#"aaa"}}"#
            )),
            Some(42.into())
        );
        assert_eq!(
            reply_id(&cut(r#"{"jsonrpc":"2.0","id":"req-7","result":"#, "")),
            Some("req-7".into())
        );
        assert_eq!(
            reply_id(&cut(
                r#"{"result":{"content":[{"id":1,"#,
                r#"xx"}]},"jsonrpc":"2.0","id":9}"#
            )),
            Some(9.into())
        );
        assert_eq!(
            reply_id(&cut(
                r#"{"method":"notifications/message","params":"#,
                r#"xx"}}"#
            )),
            None
        );
    }

    #[test]
    fn only_json_objects_are_messages() {
        assert!(is_message(br#"  {"jsonrpc":"2.0"}"#));
        assert!(!is_message(b"Server listening on stdio"));
        assert!(!is_message(b""));
    }
}
