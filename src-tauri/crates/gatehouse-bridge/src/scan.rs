//! Finds the top-level `id` and `method` of a JSON-RPC message that is too long to keep,
//! reading it as a stream so an over-long request can still be answered.

use serde_json::Value;

/// The longest `id` value (in JSON bytes) worth capturing; longer ones are not ids anyone uses.
const MAX_ID_BYTES: usize = 1024;
/// Key names longer than this cannot be `id` or `method`, so they are not collected.
const MAX_KEY_BYTES: usize = 8;

/// What the scan learnt about the message's top-level object.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct Head {
    /// The top-level `id`, when it is a string or a number.
    pub id: Option<Value>,
    /// Whether the top-level object has a `method` key, i.e. is a request or notification.
    pub has_method: bool,
}

/// Which top-level key a value belongs to.
#[derive(Clone, Copy, PartialEq)]
enum Key {
    Id,
    Method,
    Other,
}

/// A byte-at-a-time JSON scanner that tracks nesting and strings, and looks only at the
/// keys of the outermost object. It never holds more than a key or an id in memory.
#[derive(Default)]
pub(crate) struct HeadScanner {
    /// Nesting depth: 1 is inside the top-level object.
    depth: u32,
    in_string: bool,
    escaped: bool,
    /// The outermost value is not an object, so there is nothing to find.
    not_an_object: bool,
    /// At depth 1 the next string is a key (after `{` or `,`).
    expect_key: bool,
    /// The key being read, if it is still short enough to matter.
    key: Option<Vec<u8>>,
    /// The last complete key at depth 1.
    last_key: Option<Key>,
    /// An `id:` was read and its value has not started yet.
    id_value_next: bool,
    /// The raw JSON of the `id` value being read.
    id_raw: Option<Vec<u8>>,
    head: Head,
}

impl HeadScanner {
    /// Feeds the next piece of the message.
    pub(crate) fn feed(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.byte(byte);
        }
    }

    /// The result, once the whole message has been fed.
    pub(crate) fn finish(mut self) -> Head {
        // A bare number at the very end has no terminator.
        self.finish_id();
        self.head
    }

    fn byte(&mut self, byte: u8) {
        if self.not_an_object {
            return;
        }
        if self.in_string {
            self.string_byte(byte);
            return;
        }
        if let Some(raw) = &mut self.id_raw {
            // A number or literal id ends at the next structural character or space.
            if matches!(byte, b',' | b'}' | b']') || byte.is_ascii_whitespace() {
                self.finish_id();
            } else {
                push_capped(raw, byte, MAX_ID_BYTES);
                if raw.len() >= MAX_ID_BYTES {
                    self.id_raw = None;
                }
                return;
            }
        }
        match byte {
            b'"' => {
                self.in_string = true;
                if self.depth == 1 && self.expect_key {
                    self.key = Some(Vec::new());
                } else if self.depth == 1 && self.id_value_next {
                    self.id_value_next = false;
                    self.id_raw = Some(vec![b'"']);
                }
            }
            b'{' | b'[' => {
                if self.depth == 0 && byte == b'[' {
                    self.not_an_object = true;
                    return;
                }
                // An object or array is not a usable id.
                self.id_value_next = false;
                self.depth += 1;
                if self.depth == 1 {
                    self.expect_key = true;
                }
            }
            b'}' | b']' => self.depth = self.depth.saturating_sub(1),
            b':' if self.depth == 1 => {
                self.expect_key = false;
                match self.last_key {
                    Some(Key::Id) => self.id_value_next = true,
                    Some(Key::Method) => self.head.has_method = true,
                    _ => {}
                }
            }
            b',' if self.depth == 1 => {
                self.expect_key = true;
                self.last_key = None;
            }
            _ if byte.is_ascii_whitespace() => {}
            _ if self.depth == 0 => self.not_an_object = true,
            _ => {
                if self.depth == 1 && self.id_value_next {
                    self.id_value_next = false;
                    self.id_raw = Some(vec![byte]);
                }
            }
        }
    }

    fn string_byte(&mut self, byte: u8) {
        if let Some(key) = &mut self.key {
            push_capped(key, byte, MAX_KEY_BYTES + 1);
        }
        if let Some(raw) = &mut self.id_raw {
            push_capped(raw, byte, MAX_ID_BYTES);
            if raw.len() >= MAX_ID_BYTES {
                self.id_raw = None;
            }
        }
        if self.escaped {
            self.escaped = false;
            return;
        }
        match byte {
            b'\\' => self.escaped = true,
            b'"' => {
                self.in_string = false;
                if let Some(mut key) = self.key.take() {
                    key.pop(); // the closing quote
                    self.last_key = Some(match key.as_slice() {
                        b"id" => Key::Id,
                        b"method" => Key::Method,
                        _ => Key::Other,
                    });
                }
                self.finish_id();
            }
            _ => {}
        }
    }

    fn finish_id(&mut self) {
        let Some(raw) = self.id_raw.take() else {
            return;
        };
        if let Ok(value @ (Value::String(_) | Value::Number(_))) =
            serde_json::from_slice::<Value>(&raw)
        {
            self.head.id = Some(value);
        }
    }
}

fn push_capped(buffer: &mut Vec<u8>, byte: u8, cap: usize) {
    if buffer.len() < cap {
        buffer.push(byte);
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn scan_in_pieces(text: &str, piece: usize) -> Head {
        let mut scanner = HeadScanner::default();
        for chunk in text.as_bytes().chunks(piece) {
            scanner.feed(chunk);
        }
        scanner.finish()
    }

    fn check(text: &str, id: Option<Value>, has_method: bool) {
        for piece in [1, 2, 3, 7, 64, text.len().max(1)] {
            let head = scan_in_pieces(text, piece);
            assert_eq!(
                head,
                Head {
                    id: id.clone(),
                    has_method
                },
                "{text} in pieces of {piece}"
            );
        }
    }

    #[test]
    fn finds_the_id_wherever_it_is() {
        check(
            r#"{"jsonrpc":"2.0","id":7,"method":"tools/call"}"#,
            Some(json!(7)),
            true,
        );
        check(
            r#"{"method":"tools/call","params":{"id":1,"x":[1,{"id":2}]},"id":"a\"b"}"#,
            Some(json!("a\"b")),
            true,
        );
        check(
            r#" { "id" : -12.5e3 , "method" : "x" } "#,
            Some(json!(-12.5e3)),
            true,
        );
        check(r#"{"id":42"#, Some(json!(42)), false);
    }

    #[test]
    fn nested_ids_and_lookalike_strings_do_not_count() {
        check(r#"{"params":{"id":5},"method":"m"}"#, None, true);
        check(r#"{"result":"\"id\":3","id":null}"#, None, false);
        check(r#"{"idx":1,"methods":2}"#, None, false);
        check(r#"{"id":{"a":1},"method":"m"}"#, None, true);
    }

    #[test]
    fn non_objects_have_no_head() {
        check(r#"[{"id":1,"method":"m"}]"#, None, false);
        check("42", None, false);
        check("", None, false);
    }
}
