//! The result of a run, as text for a person or JSON for `make bench`.

use std::fmt;

use hdrhistogram::Histogram;
use serde::Serialize;

/// The figures of one run. Serialized as-is by `--json`.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// `http` or `stdio`.
    pub transport: &'static str,
    /// The URL, or the command line.
    pub target: String,
    /// The tool called.
    pub tool: String,
    /// The version the (first) session agreed on.
    pub protocol_version: String,
    /// Sessions run at once.
    pub concurrency: usize,
    /// The client's worker threads.
    pub client_threads: usize,
    /// Measured calls per session.
    pub calls_per_session: u64,
    /// Unmeasured calls per session before them.
    pub warmup_per_session: u64,
    /// Measured calls in all.
    pub calls: u64,
    /// Measured calls that succeeded.
    pub ok: u64,
    /// Measured calls that failed: transport errors, HTTP errors, JSON-RPC
    /// errors, `isError: true` results, timeouts.
    pub errors: u64,
    /// Warm-up calls that failed (not in `errors`).
    pub warmup_errors: u64,
    /// Seconds from the start of the measured phase to its last call.
    pub wall_s: f64,
    /// Successful calls per second of wall time.
    pub throughput_per_s: f64,
    /// Per successful call, from send to full response.
    pub latency_ms: Percentiles,
    /// Per session: `initialize` to `notifications/initialized` accepted
    /// (stdio: from spawning the process).
    pub handshake_ms: Percentiles,
    /// SSE answers whose stream the server kept open after the response.
    pub streams_left_open: u64,
    /// The reason of the first failed call, if any.
    pub first_error: Option<String>,
}

/// A distribution, in milliseconds.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Percentiles {
    /// Number of samples.
    pub count: u64,
    /// Smallest.
    pub min: f64,
    /// Mean.
    pub mean: f64,
    /// Median.
    pub p50: f64,
    /// 90th percentile.
    pub p90: f64,
    /// 99th percentile.
    pub p99: f64,
    /// Largest.
    pub max: f64,
}

impl Percentiles {
    /// From a histogram in nanoseconds; all zero when it is empty.
    #[must_use]
    pub fn of(histogram: &Histogram<u64>) -> Percentiles {
        if histogram.is_empty() {
            return Percentiles {
                count: 0,
                min: 0.0,
                mean: 0.0,
                p50: 0.0,
                p90: 0.0,
                p99: 0.0,
                max: 0.0,
            };
        }
        let ms = |nanos: u64| nanos as f64 / 1e6;
        Percentiles {
            count: histogram.len(),
            min: ms(histogram.min()),
            mean: histogram.mean() / 1e6,
            p50: ms(histogram.value_at_quantile(0.50)),
            p90: ms(histogram.value_at_quantile(0.90)),
            p99: ms(histogram.value_at_quantile(0.99)),
            max: ms(histogram.max()),
        }
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{} {} · tool {} · protocol {}",
            self.transport, self.target, self.tool, self.protocol_version
        )?;
        writeln!(
            f,
            "sessions   {} × {} calls (+{} warm-up each), {} client thread{}",
            self.concurrency,
            self.calls_per_session,
            self.warmup_per_session,
            self.client_threads,
            if self.client_threads == 1 { "" } else { "s" }
        )?;
        writeln!(
            f,
            "calls      {} ok, {} errors{}",
            self.ok,
            self.errors,
            if self.warmup_errors > 0 {
                format!(" (+{} in warm-up)", self.warmup_errors)
            } else {
                String::new()
            }
        )?;
        writeln!(f, "wall       {:.3} s", self.wall_s)?;
        writeln!(f, "throughput {:.0} calls/s", self.throughput_per_s)?;
        let l = &self.latency_ms;
        writeln!(
            f,
            "latency    p50 {:.3} ms · p90 {:.3} ms · p99 {:.3} ms · max {:.3} ms (min {:.3}, mean {:.3})",
            l.p50, l.p90, l.p99, l.max, l.min, l.mean
        )?;
        let h = &self.handshake_ms;
        writeln!(f, "handshake  p50 {:.3} ms · max {:.3} ms", h.p50, h.max)?;
        if self.streams_left_open > 0 {
            writeln!(
                f,
                "note       {} SSE streams stayed open after their response",
                self.streams_left_open
            )?;
        }
        if let Some(error) = &self.first_error {
            writeln!(f, "first error: {error}")?;
        }
        Ok(())
    }
}
