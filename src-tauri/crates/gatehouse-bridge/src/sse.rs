//! Response bodies: telling JSON from Server-Sent Events, and turning an event stream into
//! the JSON-RPC messages it carries, with the same 16 MiB cap as stdin.

use std::collections::{HashSet, VecDeque};
use std::pin::Pin;
use std::time::Duration;

use bytes::Bytes;
use futures::{Stream, StreamExt};
use http::header::CONTENT_TYPE;
use reqwest::Response;
use sse_stream::SseStream;

use crate::stdio::MAX_LINE_BYTES;

/// What a successful response's body is.
pub(crate) enum BodyKind {
    Json,
    EventStream,
    Other(String),
}

/// The body's kind, from its `Content-Type`.
pub(crate) fn body_kind(response: &Response) -> BodyKind {
    let content_type = response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .unwrap_or("");
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    match essence.as_str() {
        "application/json" => BodyKind::Json,
        "text/event-stream" => BodyKind::EventStream,
        _ => BodyKind::Other(content_type.to_owned()),
    }
}

/// One event that carries a message.
pub(crate) struct Event {
    /// The event id, for resuming with `Last-Event-ID`.
    pub id: Option<String>,
    /// The JSON-RPC message.
    pub data: String,
}

/// What the stream said besides messages.
pub(crate) enum Item {
    Message(Event),
    /// An event with no message (priming events): only its id and retry hint matter.
    Marker {
        id: Option<String>,
        retry: Option<Duration>,
    },
}

/// A response body as a stream of SSE items. It ends when the body ends; an `Err` (a
/// broken connection, a malformed or over-long event) is the last item.
pub(crate) type Events = Pin<Box<dyn Stream<Item = Result<Item, String>> + Send>>;

/// Parses a `text/event-stream` body.
pub(crate) fn events(response: Response) -> Events {
    let bytes = capped_lines(response.bytes_stream());
    let events = SseStream::from_bytes_stream(bytes).map(|event| {
        let event = event.map_err(|error| error.to_string())?;
        let retry = event.retry.map(Duration::from_millis);
        // Only the default event type ("message") carries JSON-RPC.
        let is_message = matches!(event.event.as_deref(), None | Some("message"));
        match event.data {
            Some(data) if is_message && !data.trim().is_empty() => {
                if data.len() > MAX_LINE_BYTES {
                    return Err("an event is larger than the bridge's 16 MiB limit".to_owned());
                }
                Ok(Item::Message(Event { id: event.id, data }))
            }
            _ => Ok(Item::Marker {
                id: event.id,
                retry,
            }),
        }
    });
    Box::pin(events)
}

/// Fails the stream when a single SSE line grows past the cap, so a runaway body cannot
/// exhaust memory (the parser buffers a line until it ends).
fn capped_lines(
    bytes: impl Stream<Item = reqwest::Result<Bytes>> + Send + 'static,
) -> impl Stream<Item = std::io::Result<Bytes>> + Send + 'static {
    let mut since_line_end = 0usize;
    bytes.map(move |chunk| {
        let chunk = chunk.map_err(std::io::Error::other)?;
        match chunk
            .iter()
            .rposition(|&byte| byte == b'\n' || byte == b'\r')
        {
            Some(end) => since_line_end = chunk.len() - end - 1,
            None => since_line_end += chunk.len(),
        }
        if since_line_end > MAX_LINE_BYTES {
            return Err(std::io::Error::other(
                "an event line is larger than the bridge's 16 MiB limit",
            ));
        }
        Ok(chunk)
    })
}

/// The ids of recent events, to skip the ones a resumed stream sends again.
#[derive(Default)]
pub(crate) struct RecentIds {
    order: VecDeque<String>,
    set: HashSet<String>,
}

impl RecentIds {
    /// How many ids are remembered; a replay never reaches further back than this.
    const CAPACITY: usize = 1024;

    /// Records `id`; `false` when it was seen before.
    pub(crate) fn insert(&mut self, id: &str) -> bool {
        if self.set.contains(id) {
            return false;
        }
        self.set.insert(id.to_owned());
        self.order.push_back(id.to_owned());
        if self.order.len() > Self::CAPACITY
            && let Some(oldest) = self.order.pop_front()
        {
            self.set.remove(&oldest);
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn response(body: &'static str) -> Response {
        let response = http::Response::builder()
            .header(CONTENT_TYPE, "text/event-stream; charset=utf-8")
            .body(body)
            .unwrap();
        Response::from(response)
    }

    #[tokio::test]
    async fn events_carry_messages_and_markers() {
        let body = "id: 0\nretry: 3000\ndata:\n\n\
                    : keep-alive\n\n\
                    event: endpoint\ndata: /elsewhere\n\n\
                    id: 1\ndata: {\"id\":1,\ndata: \"result\":{}}\n\n";
        let response = response(body);
        assert!(matches!(body_kind(&response), BodyKind::EventStream));
        let items: Vec<Item> = events(response).map(|item| item.unwrap()).collect().await;
        let [first, second, third] = items.as_slice() else {
            panic!("expected three events");
        };
        assert!(matches!(
            first,
            Item::Marker { id: Some(id), retry: Some(retry) }
                if id == "0" && *retry == Duration::from_secs(3)
        ));
        // Not the default event type, so not JSON-RPC.
        assert!(matches!(
            second,
            Item::Marker {
                id: None,
                retry: None
            }
        ));
        let Item::Message(message) = third else {
            panic!("expected a message");
        };
        assert_eq!(message.id.as_deref(), Some("1"));
        assert_eq!(message.data, "{\"id\":1,\n\"result\":{}}");
    }

    #[test]
    fn recent_ids_forget_the_oldest() {
        let mut ids = RecentIds::default();
        assert!(ids.insert("a"));
        assert!(!ids.insert("a"));
        for n in 0..RecentIds::CAPACITY {
            ids.insert(&n.to_string());
        }
        assert!(ids.insert("a"), "`a` was pushed out");
    }
}
