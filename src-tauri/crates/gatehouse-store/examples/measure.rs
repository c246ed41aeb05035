//! Measures the call log's append rate and the filtered query on a large log.
//!
//! `cargo run --release -p gatehouse-store --example measure [ROWS]`
//!
//! Appends 20,000 calls one at a time (each its own transaction, as the
//! gateway does), times `verify` over them, then fills the log up to ROWS
//! (default 1,000,000) with raw SQL, since only the query is measured there,
//! and times the filtered query the Activity view makes.

use std::time::Instant;

use gatehouse_store::{CallRecord, DecidedBy, Decision, Filter, Outcome, Policy, Store};

const APPENDS: i64 = 20_000;
const SERVERS: i64 = 20;
const TOOLS: i64 = 10;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let total: i64 = std::env::args()
        .nth(1)
        .map(|n| n.parse())
        .transpose()?
        .unwrap_or(1_000_000);
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("gatehouse.db");
    let mut store = Store::open(&path)?;

    let start = Instant::now();
    for i in 0..APPENDS {
        store.append(&CallRecord {
            time_ms: i,
            client: "claude-desktop/1.2".into(),
            server: format!("server{}", i % SERVERS),
            tool: format!("tool{}", i % TOOLS),
            arguments: format!(r#"{{"path":"/home/user/notes/{i}.md","limit":100}}"#),
            policy: Policy::Ask,
            decision: Decision::Allowed,
            decided_by: DecidedBy::Dialog,
            wait_ms: 1_200,
            outcome: Outcome::Ok,
            outcome_detail: None,
            duration_ms: 15,
        })?;
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "append: {APPENDS} rows in {secs:.2} s = {:.0} rows/s (one transaction each)",
        APPENDS as f64 / secs
    );
    let start = Instant::now();
    let report = store.verify()?;
    println!(
        "verify: {report} in {:.1} ms",
        start.elapsed().as_secs_f64() * 1e3
    );
    drop(store);

    // Fill with raw SQL: same shape of data, dummy hashes.
    let start = Instant::now();
    let conn = rusqlite::Connection::open(&path)?;
    conn.execute(
        "WITH RECURSIVE n(i) AS (SELECT ?1 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < ?2)
         INSERT INTO calls (id, time_ms, client, server, tool, arguments, arguments_hash,
             policy, decision, decided_by, wait_ms, outcome, outcome_detail, duration_ms,
             prev_hash, hash)
         SELECT i + 1, i, 'claude-desktop/1.2', 'server' || (i % ?3), 'tool' || (i % ?4),
             '{\"path\":\"/home/user/notes/' || i || '.md\",\"limit\":100}', '', 'ask',
             'allowed', 'dialog', 1200, 'ok', NULL, 15, '', '' FROM n",
        rusqlite::params![APPENDS, total, SERVERS, TOOLS],
    )?;
    drop(conn);
    println!(
        "fill: up to {total} rows in {:.1} s",
        start.elapsed().as_secs_f64()
    );

    let store = Store::open(&path)?;
    let filter = Filter {
        server: Some("server3".into()),
        tool: Some("tool3".into()),
        since_ms: Some(total / 2),
        limit: Some(100),
        ..Filter::default()
    };
    let mut times = Vec::new();
    for _ in 0..20 {
        let start = Instant::now();
        let rows = store.query(&filter)?;
        times.push(start.elapsed().as_secs_f64() * 1e3);
        assert_eq!(rows.len(), 100);
    }
    let first = times[0];
    times.sort_by(f64::total_cmp);
    println!(
        "query server+tool+since limit 100 on {total} rows: first {first:.2} ms, median {:.2} ms, max {:.2} ms",
        times[times.len() / 2],
        times[times.len() - 1]
    );
    let search = Filter {
        search: Some("notes/999".into()),
        limit: Some(100),
        ..Filter::default()
    };
    let start = Instant::now();
    let rows = store.query(&search)?;
    println!(
        "query text search (full scan) on {total} rows: {} rows in {:.1} ms",
        rows.len(),
        start.elapsed().as_secs_f64() * 1e3
    );
    Ok(())
}
