//! Each server's log: what it wrote to stderr, what it wrote to stdout that
//! is not MCP, and what Gatehouse did with it (spawned, crashed, stopped).
//!
//! One [`ServerLog`] per server, kept across restarts: a ring buffer of the
//! last lines for the GUI and `gatehouse server logs`, a daily-rotated file
//! `<logs dir>/servers/<name>.<date>.log`, and a broadcast for followers.
//! Lines are masked of secrets before they get here, and capped in length.

use std::collections::VecDeque;
use std::io::Write;
use std::path::Path;
use std::sync::Mutex;
use std::time::SystemTime;

use tokio::io::{AsyncBufRead, AsyncBufReadExt};
use tokio::sync::broadcast;

/// Lines kept in memory per server.
const RING_LINES: usize = 1000;
/// Longest log line kept; the rest is cut, and the cut said.
pub(crate) const MAX_LOG_LINE: usize = 16 * 1024;
/// Rotated files kept per server.
const KEPT_FILES: usize = 3;

/// Where a line came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogStream {
    /// The server's stderr.
    Stderr,
    /// A line on the server's stdout that is not an MCP message.
    Stdout,
    /// Gatehouse's own account of the server's life.
    Gatehouse,
}

impl LogStream {
    /// One lowercase word.
    pub fn as_str(self) -> &'static str {
        match self {
            LogStream::Stderr => "stderr",
            LogStream::Stdout => "stdout",
            LogStream::Gatehouse => "gatehouse",
        }
    }
}

/// One line of a server's log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogLine {
    /// When it was read.
    pub time: SystemTime,
    /// Where it came from.
    pub stream: LogStream,
    /// The text, without its newline.
    pub text: String,
}

/// A server's log. Shared by the server's task and whoever reads it.
#[derive(Debug)]
pub(crate) struct ServerLog {
    ring: Mutex<VecDeque<LogLine>>,
    live: broadcast::Sender<LogLine>,
    file: Option<Mutex<tracing_appender::rolling::RollingFileAppender>>,
}

impl ServerLog {
    /// A log for `server`, writing files in `dir` when given.
    pub(crate) fn new(dir: Option<&Path>, server: &str) -> ServerLog {
        let file = dir.and_then(|dir| {
            // The appender prints to stderr, not an error, when the
            // directory is missing: make sure it exists.
            if let Err(err) = std::fs::create_dir_all(dir) {
                tracing::warn!(%err, server, "cannot create the server log directory");
                return None;
            }
            tracing_appender::rolling::Builder::new()
                .rotation(tracing_appender::rolling::Rotation::DAILY)
                .filename_prefix(server)
                .filename_suffix("log")
                .max_log_files(KEPT_FILES)
                .build(dir)
                .inspect_err(
                    |err| tracing::warn!(%err, server, "cannot open the server's log file"),
                )
                .ok()
                .map(Mutex::new)
        });
        ServerLog {
            ring: Mutex::new(VecDeque::with_capacity(RING_LINES)),
            live: broadcast::channel(256).0,
            file,
        }
    }

    /// Records a line.
    pub(crate) fn push(&self, stream: LogStream, text: String) {
        let line = LogLine {
            time: SystemTime::now(),
            stream,
            text,
        };
        if let Some(file) = &self.file {
            let mut file = file
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let stamp = humantime(line.time);
            // A full disk must not stop the server; the ring still has it.
            let _ = writeln!(file, "{stamp} {:<9} {}", stream.as_str(), line.text);
        }
        let mut ring = self
            .ring
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if ring.len() == RING_LINES {
            ring.pop_front();
        }
        ring.push_back(line.clone());
        drop(ring);
        // No followers is the normal case.
        let _ = self.live.send(line);
    }

    /// The last lines, oldest first, and a receiver for the ones to come.
    pub(crate) fn follow(&self) -> (Vec<LogLine>, broadcast::Receiver<LogLine>) {
        let ring = self
            .ring
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        // Subscribed under the lock: no line falls between the two.
        (ring.iter().cloned().collect(), self.live.subscribe())
    }
}

/// `YYYY-MM-DDTHH:MM:SS.mmmZ`.
fn humantime(time: SystemTime) -> String {
    humantime::format_rfc3339_millis(time).to_string()
}

/// A line read with a cap: the first `max` bytes, the last bytes (where a
/// JSON-RPC id may sit), and how long it really was.
#[derive(Debug, Default)]
pub(crate) struct BoundedLine {
    /// The first bytes, at most the cap.
    pub(crate) head: Vec<u8>,
    /// The last bytes, when the line was longer than the cap.
    pub(crate) tail: Vec<u8>,
    /// The full length, newline excluded.
    pub(crate) len: usize,
}

impl BoundedLine {
    pub(crate) fn is_cut(&self) -> bool {
        self.len > self.head.len()
    }

    /// The kept text, with the cut said.
    pub(crate) fn text(&self) -> String {
        let mut text = String::from_utf8_lossy(&self.head).into_owned();
        if self.is_cut() {
            text.push_str(&format!(
                " … [{} more bytes cut]",
                self.len - self.head.len()
            ));
        }
        text
    }
}

/// How many bytes of a cut line's end are kept.
const TAIL_KEPT: usize = 256;

/// Reads one line, keeping at most `max` bytes of it however long it is;
/// `None` at end of input. Never holds more than `max` + a little in memory.
pub(crate) async fn read_line_bounded<R: AsyncBufRead + Unpin>(
    reader: &mut R,
    max: usize,
) -> std::io::Result<Option<BoundedLine>> {
    let mut line = BoundedLine::default();
    let mut saw_any = false;
    loop {
        let buf = reader.fill_buf().await?;
        if buf.is_empty() {
            return Ok(saw_any.then_some(line));
        }
        saw_any = true;
        let (chunk, found) = match buf.iter().position(|b| *b == b'\n') {
            Some(idx) => (&buf[..idx], Some(idx)),
            None => (buf, None),
        };
        let room = max.saturating_sub(line.head.len());
        line.head.extend_from_slice(&chunk[..chunk.len().min(room)]);
        if chunk.len() > room {
            line.tail.extend_from_slice(&chunk[room..]);
            let excess = line.tail.len().saturating_sub(TAIL_KEPT);
            line.tail.drain(..excess);
        }
        line.len += chunk.len();
        let used = found.map_or(chunk.len(), |idx| idx + 1);
        reader.consume(used);
        if found.is_some() {
            if line.head.last() == Some(&b'\r') && !line.is_cut() {
                line.head.pop();
                line.len -= 1;
            }
            return Ok(Some(line));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_rendered_in_utc() {
        let time = SystemTime::UNIX_EPOCH + std::time::Duration::from_millis(1_795_220_914_123);
        assert_eq!(humantime(time), "2026-11-21T00:28:34.123Z");
        assert_eq!(
            humantime(SystemTime::UNIX_EPOCH),
            "1970-01-01T00:00:00.000Z"
        );
    }

    #[tokio::test]
    async fn long_lines_are_cut_without_being_held_whole() {
        let long = format!("{}\"id\":7}}\nshort\r\nlast", "x".repeat(100_000));
        let mut reader = tokio::io::BufReader::new(long.as_bytes());
        let first = read_line_bounded(&mut reader, 1000).await.unwrap().unwrap();
        assert_eq!(first.head.len(), 1000);
        assert_eq!(first.len, 100_007);
        assert!(first.tail.ends_with(b"\"id\":7}"));
        assert!(first.tail.len() <= TAIL_KEPT);
        assert!(first.text().ends_with("… [99007 more bytes cut]"));
        let second = read_line_bounded(&mut reader, 1000).await.unwrap().unwrap();
        assert_eq!(second.text(), "short");
        let third = read_line_bounded(&mut reader, 1000).await.unwrap().unwrap();
        assert_eq!(third.text(), "last");
        assert!(
            read_line_bounded(&mut reader, 1000)
                .await
                .unwrap()
                .is_none()
        );
    }

    #[test]
    fn the_ring_keeps_the_last_lines_and_followers_get_new_ones() {
        let log = ServerLog::new(None, "x");
        for n in 0..(RING_LINES + 5) {
            log.push(LogStream::Stderr, format!("line {n}"));
        }
        let (recent, mut live) = log.follow();
        assert_eq!(recent.len(), RING_LINES);
        assert_eq!(recent[0].text, "line 5");
        log.push(LogStream::Gatehouse, "after".to_owned());
        assert_eq!(live.try_recv().unwrap().text, "after");
    }
}
