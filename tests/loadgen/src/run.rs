//! Drives a run: N sessions, each opened (handshake), warmed up, then held
//! at a barrier so that every session starts its measured calls at the same
//! moment; wall time runs from that moment to the last session's last call.
//!
//! Latencies go into one HDR histogram per session (nanoseconds, three
//! significant digits), merged at the end. Only successful calls are
//! recorded: a failure that returns at once would otherwise flatter the
//! percentiles. A session that cannot open stops the whole run, because
//! figures from fewer sessions than asked for would mislead.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context as _, anyhow};
use hdrhistogram::Histogram;
use tokio::sync::Barrier;

use crate::http::{HttpSession, HttpTarget};
use crate::jsonrpc::CallTemplate;
use crate::report::{Percentiles, Report};
use crate::stdio::StdioSession;

/// The largest latency the histograms hold: an hour, in nanoseconds.
const MAX_NANOS: u64 = 3_600_000_000_000;

/// What to connect to.
#[derive(Debug, Clone)]
pub enum Target {
    /// A Streamable HTTP endpoint.
    Http(HttpTarget),
    /// A command to start once per session, spoken to over stdio.
    Stdio {
        /// The program and its arguments.
        command: Vec<String>,
        /// The version asked for in `initialize`.
        protocol_version: String,
        /// The limit for each request, the handshake's included.
        timeout: Duration,
    },
}

impl Target {
    /// `http` or `stdio`.
    #[must_use]
    pub fn transport(&self) -> &'static str {
        match self {
            Target::Http(_) => "http",
            Target::Stdio { .. } => "stdio",
        }
    }

    /// The URL, or the command line.
    #[must_use]
    pub fn describe(&self) -> String {
        match self {
            Target::Http(http) => http.url.to_string(),
            Target::Stdio { command, .. } => command.join(" "),
        }
    }
}

/// The load to apply.
#[derive(Debug, Clone)]
pub struct Plan {
    /// Where.
    pub target: Target,
    /// Sessions running at once.
    pub concurrency: usize,
    /// Measured calls per session.
    pub calls: u64,
    /// Unmeasured calls per session before the measured ones.
    pub warmup: u64,
    /// The tool's name.
    pub tool: String,
    /// The tool's arguments.
    pub arguments: serde_json::Map<String, serde_json::Value>,
    /// The client runtime's worker threads, for the report (the caller
    /// builds the runtime `run` is awaited on).
    pub client_threads: usize,
}

/// One open session of either transport.
// One per simulated client: their sizes (which differ by platform) do not matter.
#[allow(clippy::large_enum_variant)]
enum Session {
    Http(HttpSession),
    Stdio(StdioSession),
}

/// One call's outcome, whatever the transport.
struct Call {
    latency: Duration,
    outcome: Result<(), String>,
    stream_left_open: bool,
}

impl Session {
    async fn open(target: &Target) -> anyhow::Result<Session> {
        Ok(match target {
            Target::Http(http) => Session::Http(HttpSession::open(http).await?),
            Target::Stdio {
                command,
                protocol_version,
                timeout,
            } => Session::Stdio(StdioSession::open(command, protocol_version, *timeout).await?),
        })
    }

    fn version(&self) -> &str {
        match self {
            Session::Http(http) => http.version(),
            Session::Stdio(stdio) => stdio.version(),
        }
    }

    async fn call(&mut self, body: String, id: u64) -> Call {
        match self {
            Session::Http(http) => {
                let call = http.call(body, id).await;
                Call {
                    latency: call.latency,
                    outcome: call.outcome,
                    stream_left_open: call.stream_left_open,
                }
            }
            Session::Stdio(stdio) => {
                let call = stdio.call(body, id).await;
                Call {
                    latency: call.latency,
                    outcome: call.outcome,
                    stream_left_open: false,
                }
            }
        }
    }

    async fn close(self) {
        match self {
            Session::Http(http) => http.close().await,
            Session::Stdio(stdio) => stdio.close().await,
        }
    }
}

/// What one session measured.
struct SessionStats {
    latencies: Histogram<u64>,
    handshake: Duration,
    errors: u64,
    warmup_errors: u64,
    first_error: Option<String>,
    streams_left_open: u64,
    version: String,
    /// When its last measured call returned.
    finished: Instant,
}

/// Runs `plan` and gathers the figures.
///
/// # Errors
/// When a session cannot be opened (the first such reason), or a session's
/// task fails.
pub async fn run(plan: Plan) -> anyhow::Result<Report> {
    let plan = Arc::new(plan);
    let template = Arc::new(CallTemplate::new(&plan.tool, &plan.arguments));
    // The sessions and this task: the measured phase starts when all are ready.
    let barrier = Arc::new(Barrier::new(plan.concurrency + 1));
    let abort = Arc::new(AtomicBool::new(false));
    let tasks: Vec<_> = (0..plan.concurrency)
        .map(|_| {
            tokio::spawn(session(
                Arc::clone(&plan),
                Arc::clone(&template),
                Arc::clone(&barrier),
                Arc::clone(&abort),
            ))
        })
        .collect();
    barrier.wait().await;
    let started = Instant::now();
    let mut sessions = Vec::with_capacity(tasks.len());
    let mut failure = None;
    for task in tasks {
        match task.await.context("a session's task failed")? {
            Ok(stats) => sessions.push(stats),
            Err(err) => {
                failure.get_or_insert(err);
            }
        }
    }
    if let Some(err) = failure {
        return Err(err);
    }
    summarize(&plan, started, &sessions)
}

/// One session's life: open, warm up, wait for the others, call, close.
async fn session(
    plan: Arc<Plan>,
    template: Arc<CallTemplate>,
    barrier: Arc<Barrier>,
    abort: Arc<AtomicBool>,
) -> anyhow::Result<SessionStats> {
    let opening = Instant::now();
    let opened = Session::open(&plan.target).await;
    let handshake = opening.elapsed();
    let mut session = match opened {
        Ok(session) => session,
        Err(err) => {
            abort.store(true, Ordering::Relaxed);
            // Every session must reach the barrier, or the run would hang.
            barrier.wait().await;
            return Err(err);
        }
    };
    let mut stats = SessionStats {
        latencies: new_histogram()?,
        handshake,
        errors: 0,
        warmup_errors: 0,
        first_error: None,
        streams_left_open: 0,
        version: session.version().to_owned(),
        finished: Instant::now(),
    };
    let mut id = 0;
    for _ in 0..plan.warmup {
        id += 1;
        let call = session.call(template.body(id), id).await;
        if call.outcome.is_err() {
            stats.warmup_errors += 1;
        }
        stats.streams_left_open += u64::from(call.stream_left_open);
    }
    barrier.wait().await;
    if abort.load(Ordering::Relaxed) {
        session.close().await;
        return Ok(stats);
    }
    for _ in 0..plan.calls {
        id += 1;
        let call = session.call(template.body(id), id).await;
        stats.streams_left_open += u64::from(call.stream_left_open);
        match call.outcome {
            Ok(()) => stats.latencies.saturating_record(nanos(call.latency)),
            Err(reason) => {
                stats.errors += 1;
                stats.first_error.get_or_insert(reason);
            }
        }
    }
    stats.finished = Instant::now();
    session.close().await;
    Ok(stats)
}

fn summarize(plan: &Plan, started: Instant, sessions: &[SessionStats]) -> anyhow::Result<Report> {
    let mut latencies = new_histogram()?;
    let mut handshakes = new_histogram()?;
    let mut errors = 0;
    let mut warmup_errors = 0;
    let mut streams_left_open = 0;
    let mut first_error = None;
    let mut finished = started;
    for stats in sessions {
        latencies
            .add(&stats.latencies)
            .map_err(|err| anyhow!("merging latency histograms: {err}"))?;
        handshakes.saturating_record(nanos(stats.handshake));
        errors += stats.errors;
        warmup_errors += stats.warmup_errors;
        streams_left_open += stats.streams_left_open;
        if first_error.is_none() {
            first_error.clone_from(&stats.first_error);
        }
        finished = finished.max(stats.finished);
    }
    let wall = finished - started;
    let ok = latencies.len();
    let wall_s = wall.as_secs_f64();
    Ok(Report {
        transport: plan.target.transport(),
        target: plan.target.describe(),
        tool: plan.tool.clone(),
        protocol_version: sessions
            .first()
            .map(|stats| stats.version.clone())
            .unwrap_or_default(),
        concurrency: plan.concurrency,
        client_threads: plan.client_threads,
        calls_per_session: plan.calls,
        warmup_per_session: plan.warmup,
        calls: plan.calls * plan.concurrency as u64,
        ok,
        errors,
        warmup_errors,
        wall_s,
        throughput_per_s: if wall_s > 0.0 {
            ok as f64 / wall_s
        } else {
            0.0
        },
        latency_ms: Percentiles::of(&latencies),
        handshake_ms: Percentiles::of(&handshakes),
        streams_left_open,
        first_error,
    })
}

fn new_histogram() -> anyhow::Result<Histogram<u64>> {
    Histogram::new_with_bounds(1, MAX_NANOS, 3).map_err(|err| anyhow!("histogram: {err}"))
}

fn nanos(duration: Duration) -> u64 {
    u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX)
}
