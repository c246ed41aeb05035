//! Measures what the approvals add to a tool call.
//!
//! `cargo run --release -p gatehouse-approvals --example gate_cost`
//!
//! - The allow path (a read-only tool): `gate` plus `Ticket::finish`, which
//!   is policy, pin check, argument scrubbing and handing the row to the
//!   writer thread. Nothing waits on SQLite.
//! - The ask path's own overhead: from a person's `answer` to the waiting
//!   call going on (the person's think time excluded).
//! - The writer's sustained rate: rows per second reaching the SQLite file.

use std::sync::Arc;
use std::time::{Duration, Instant};

use gatehouse_approvals::{Answer, Approvals, Call, DecidedBy, Gate, Outcome};
use gatehouse_config::ApprovalSettings;
use gatehouse_store::{Filter, Store};
use gatehouse_supervisor::{Scrubber, ToolInfo};
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

const ALLOWED_CALLS: usize = 50_000;
const ASKED_CALLS: usize = 2_000;

fn tool(name: &str, annotations: Value) -> ToolInfo {
    let read_only = annotations["readOnlyHint"].as_bool().unwrap_or(false);
    ToolInfo {
        name: name.into(),
        title: None,
        description: Some("Reads a file from the user's notes folder".into()),
        read_only,
        destructive: !read_only,
        input_schema: json!({"type": "object", "properties": {"path": {"type": "string"}}}),
        annotations: Some(annotations.clone()),
        definition: json!({
            "name": name,
            "description": "Reads a file from the user's notes folder",
            "inputSchema": {"type": "object", "properties": {"path": {"type": "string"}}},
            "annotations": annotations,
        }),
    }
}

/// A call as the gateway makes it: every call to a tool shares its `Arc`.
fn call(tool: &Arc<ToolInfo>, i: usize) -> Call {
    let arguments = json!({"path": format!("/home/user/notes/{i}.md"), "limit": 100});
    Call {
        server: "filesystem".into(),
        tool: tool.clone(),
        arguments: arguments.as_object().cloned(),
        client: "claude-desktop/1.2".into(),
        scrubber: Scrubber::new(["sk-live-0123456789".to_owned()]),
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index]
}

fn report(what: &str, mut samples: Vec<Duration>) {
    samples.sort();
    println!(
        "{what}: p50 {:.1} µs, p99 {:.1} µs, max {:.1} µs ({} calls)",
        percentile(&samples, 0.5).as_secs_f64() * 1e6,
        percentile(&samples, 0.99).as_secs_f64() * 1e6,
        samples.last().copied().unwrap_or_default().as_secs_f64() * 1e6,
        samples.len()
    );
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("gatehouse.db");
    let approvals = Approvals::new(Store::open(&path)?, ApprovalSettings::default())?;
    let read = Arc::new(tool("read_file", json!({"readOnlyHint": true})));
    let write = Arc::new(tool("write_file", json!({"destructiveHint": true})));
    let never = CancellationToken::new();

    // Allow path.
    let mut samples = Vec::with_capacity(ALLOWED_CALLS);
    let started = Instant::now();
    for i in 0..ALLOWED_CALLS {
        let t = Instant::now();
        let Gate::Proceed(ticket) = approvals.gate(call(&read, i), &never).await else {
            return Err("read_file was not allowed".into());
        };
        ticket.finish(Outcome::Ok, None);
        samples.push(t.elapsed());
    }
    let handed_over = started.elapsed();
    approvals.flush();
    let written = started.elapsed();
    report("allowed call, gate + finish", samples);
    println!(
        "writer: {ALLOWED_CALLS} rows handed over in {:.2} s, all in SQLite after {:.2} s: {:.0} rows/s",
        handed_over.as_secs_f64(),
        written.as_secs_f64(),
        ALLOWED_CALLS as f64 / written.as_secs_f64()
    );

    // Ask path: answered by another task the moment it is queued.
    let mut watch = approvals.watch_pending();
    let answerer = approvals.clone();
    let (stamp_tx, mut stamp_rx) = tokio::sync::mpsc::unbounded_channel::<Instant>();
    tokio::spawn(async move {
        while watch.changed().await.is_ok() {
            let ids: Vec<u64> = watch.borrow_and_update().iter().map(|p| p.id).collect();
            for id in ids {
                let at = Instant::now();
                if answerer
                    .answer(id, Answer::AllowOnce, DecidedBy::Cli)
                    .is_ok()
                {
                    let _ = stamp_tx.send(at);
                }
            }
        }
    });
    let mut samples = Vec::with_capacity(ASKED_CALLS);
    for i in 0..ASKED_CALLS {
        let Gate::Proceed(ticket) = approvals.gate(call(&write, i), &never).await else {
            return Err("write_file was not allowed".into());
        };
        let resumed = Instant::now();
        let answered = stamp_rx.recv().await.ok_or("no answer")?;
        samples.push(resumed.saturating_duration_since(answered));
        ticket.finish(Outcome::Ok, None);
    }
    report("asked call, answer to resume", samples);
    approvals.flush();
    let rows = approvals.read_store(|s| s.query(&Filter::default()))?.len();
    let report = approvals.read_store(|s| s.verify())?;
    println!("log: {rows} rows, {report}");
    Ok(())
}
