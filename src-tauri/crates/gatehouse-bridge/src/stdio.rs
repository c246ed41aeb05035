//! The stdio side: reading newline-delimited messages with a size cap, and the single
//! writer that owns stdout so lines never interleave.

use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::sync::mpsc;

use crate::scan::{Head, HeadScanner};

/// The longest line relayed, as in rmcp's stdio transport.
pub(crate) const MAX_LINE_BYTES: usize = 16 * 1024 * 1024;

/// One line from stdin.
pub(crate) enum Line {
    /// A line within the cap, without its line ending.
    Complete(Vec<u8>),
    /// A line over the cap; only its top-level id and method were kept.
    TooLong(Head),
}

/// Reads lines of at most `max` bytes; longer ones are scanned and dropped as they stream by.
pub(crate) struct LineReader<R> {
    reader: BufReader<R>,
    max: usize,
}

impl<R: AsyncRead + Unpin> LineReader<R> {
    pub(crate) fn new(reader: R, max: usize) -> LineReader<R> {
        LineReader {
            reader: BufReader::new(reader),
            max,
        }
    }

    /// The next line, or `None` at end of input.
    pub(crate) async fn next(&mut self) -> std::io::Result<Option<Line>> {
        let mut line = Vec::new();
        // Set once the line is over the cap: from then on bytes are only scanned.
        let mut oversized: Option<HeadScanner> = None;
        loop {
            let buffer = self.reader.fill_buf().await?;
            if buffer.is_empty() {
                // End of input: a last line without a newline still counts.
                return Ok(match oversized {
                    Some(scanner) => Some(Line::TooLong(scanner.finish())),
                    None if line.is_empty() => None,
                    None => Some(Line::Complete(strip_cr(line))),
                });
            }
            let newline = buffer.iter().position(|&byte| byte == b'\n');
            let take = newline.unwrap_or(buffer.len());
            match &mut oversized {
                Some(scanner) => scanner.feed(&buffer[..take]),
                None if line.len() + take > self.max => {
                    let mut scanner = HeadScanner::default();
                    scanner.feed(&line);
                    scanner.feed(&buffer[..take]);
                    line = Vec::new();
                    oversized = Some(scanner);
                }
                None => line.extend_from_slice(&buffer[..take]),
            }
            let consumed = newline.map_or(take, |_| take + 1);
            self.reader.consume(consumed);
            if newline.is_some() {
                return Ok(Some(match oversized {
                    Some(scanner) => Line::TooLong(scanner.finish()),
                    None => Line::Complete(strip_cr(line)),
                }));
            }
        }
    }
}

fn strip_cr(mut line: Vec<u8>) -> Vec<u8> {
    if line.last() == Some(&b'\r') {
        line.pop();
    }
    line
}

/// Writes each line it receives, plus `\n`, until every sender is gone. It is the only
/// code that touches stdout. Flushes whenever it has nothing more queued.
pub(crate) async fn write_lines<W: AsyncWrite + Unpin>(
    mut stdout: W,
    mut lines: mpsc::Receiver<Vec<u8>>,
) -> std::io::Result<()> {
    while let Some(mut line) = lines.recv().await {
        line.push(b'\n');
        stdout.write_all(&line).await?;
        if lines.is_empty() {
            stdout.flush().await?;
        }
    }
    stdout.flush().await
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    async fn read_all(input: &'static [u8], max: usize) -> Vec<String> {
        let mut reader = LineReader::new(input, max);
        let mut lines = Vec::new();
        while let Some(line) = reader.next().await.unwrap() {
            lines.push(match line {
                Line::Complete(bytes) => String::from_utf8(bytes).unwrap(),
                Line::TooLong(head) => format!("too long: {:?} {}", head.id, head.has_method),
            });
        }
        lines
    }

    #[tokio::test]
    async fn splits_lines_and_keeps_a_last_line_without_newline() {
        let lines = read_all(b"a\r\n\nbc\nlast", 100).await;
        assert_eq!(lines, ["a", "", "bc", "last"]);
    }

    #[tokio::test]
    async fn over_long_lines_keep_only_their_id() {
        let input = br#"{"method":"tools/call","params":{"x":"0123456789"},"id":9}
{"id":1}
{"jsonrpc":"2.0","result":{"y":"0123456789012345678901234567890123456789"}}
"#;
        let lines = read_all(input, 40).await;
        assert_eq!(
            lines,
            [
                format!("too long: {:?} true", Some(json!(9))),
                r#"{"id":1}"#.to_owned(),
                "too long: None false".to_owned(),
            ]
        );
    }

    #[tokio::test]
    async fn writer_puts_one_message_per_line() {
        let (tx, rx) = mpsc::channel(4);
        let (mut read_end, write_end) = tokio::io::duplex(1024);
        let writer = tokio::spawn(write_lines(write_end, rx));
        tx.send(b"{\"id\":1}".to_vec()).await.unwrap();
        tx.send(b"{\"id\":2}".to_vec()).await.unwrap();
        drop(tx);
        writer.await.unwrap().unwrap();
        let mut output = String::new();
        tokio::io::AsyncReadExt::read_to_string(&mut read_end, &mut output)
            .await
            .unwrap();
        assert_eq!(output, "{\"id\":1}\n{\"id\":2}\n");
    }
}
