//! The gate end to end over a real SQLite file: policy decisions, the queue,
//! answers, timeouts, cancellation, pins and what lands in the log.

use std::time::Duration;

use gatehouse_approvals::{Answer, Approvals, Call, DecidedBy, Gate, NotPending, Outcome};
use gatehouse_config::{ApprovalSettings, Rule};
use gatehouse_store::{Decision, Filter, Store};
use gatehouse_supervisor::{Scrubber, ToolInfo};
use serde_json::{Map, Value, json};
use tokio_util::sync::CancellationToken;

fn tool(name: &str, annotations: Value) -> ToolInfo {
    let read_only = annotations["readOnlyHint"].as_bool().unwrap_or(false);
    let destructive = !read_only && annotations["destructiveHint"].as_bool().unwrap_or(true);
    ToolInfo {
        name: name.into(),
        title: None,
        description: Some(format!("{name} does things")),
        read_only,
        destructive,
        input_schema: json!({"type": "object"}),
        annotations: Some(annotations.clone()),
        definition: json!({"name": name, "description": format!("{name} does things"), "annotations": annotations}),
    }
}

fn delete_note() -> ToolInfo {
    tool("delete_note", json!({"destructiveHint": true}))
}

fn read_note() -> ToolInfo {
    tool("read_note", json!({"readOnlyHint": true}))
}

fn call(tool: ToolInfo, arguments: Value) -> Call {
    let arguments: Map<String, Value> = serde_json::from_value(arguments).unwrap();
    Call {
        server: "demo".into(),
        tool: tool.into(),
        arguments: Some(arguments),
        client: "test-client/1.0".into(),
        scrubber: Scrubber::new(["s3cr3t-value".to_owned()]),
    }
}

struct Fixture {
    _dir: tempfile::TempDir,
    path: std::path::PathBuf,
    approvals: Approvals,
}

fn fixture(settings: ApprovalSettings) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("gatehouse.db");
    let approvals = Approvals::new(Store::open(&path).unwrap(), settings).unwrap();
    Fixture {
        _dir: dir,
        path,
        approvals,
    }
}

fn rows(f: &Fixture) -> Vec<gatehouse_store::CallRow> {
    f.approvals.flush();
    let mut rows = f
        .approvals
        .read_store(|s| s.query(&Filter::default()))
        .unwrap();
    rows.reverse();
    rows
}

/// Waits until `n` calls are queued and returns their ids.
async fn queued(approvals: &Approvals, n: usize) -> Vec<u64> {
    let mut watch = approvals.watch_pending();
    let list = watch.wait_for(|list| list.len() == n).await.unwrap();
    list.iter().map(|p| p.id).collect()
}

fn refused(gate: Gate) -> String {
    match gate {
        Gate::Refuse(message) => message,
        Gate::Proceed(_) => panic!("the call was allowed"),
    }
}

#[tokio::test]
async fn read_only_runs_without_asking_and_is_logged_with_its_outcome() {
    let f = fixture(ApprovalSettings::default());
    let Gate::Proceed(ticket) = f
        .approvals
        .gate(
            call(read_note(), json!({"id": "1"})),
            &CancellationToken::new(),
        )
        .await
    else {
        panic!("read_note asked or was denied");
    };
    assert!(f.approvals.pending().is_empty());
    ticket.finish(Outcome::Ok, None);
    let rows = rows(&f);
    assert_eq!(rows.len(), 1);
    let row = &rows[0].record;
    assert_eq!(
        (row.decision, row.decided_by, row.outcome),
        (Decision::Allowed, DecidedBy::Rule, Outcome::Ok)
    );
    assert_eq!(row.client, "test-client/1.0");
    assert_eq!(row.arguments, r#"{"id":"1"}"#);
}

#[tokio::test]
async fn a_destructive_call_waits_and_each_answer_does_what_it_says() {
    let f = fixture(ApprovalSettings::default());
    let approvals = f.approvals.clone();
    let waiting = tokio::spawn(async move {
        approvals
            .gate(
                call(
                    delete_note(),
                    json!({"id": "7", "api_key": "abc", "note": "uses s3cr3t-value"}),
                ),
                &CancellationToken::new(),
            )
            .await
    });
    let ids = queued(&f.approvals, 1).await;
    let pending = f.approvals.pending();
    assert_eq!(pending[0].tool, "delete_note");
    assert_eq!(pending[0].client, "test-client/1.0");
    assert!(pending[0].annotations.destructive);
    assert_eq!(
        pending[0].reason_text,
        "`delete_note` is marked destructive."
    );
    // Secrets are masked in what the dialog shows.
    assert_eq!(
        pending[0].arguments,
        json!({"id": "7", "api_key": "****", "note": "uses ****"})
    );
    assert!(pending[0].deadline_ms - pending[0].asked_at_ms == 120_000);

    f.approvals
        .answer(ids[0], Answer::Deny, DecidedBy::Dialog)
        .unwrap();
    let message = refused(waiting.await.unwrap());
    assert!(message.contains("The user denied this call"), "{message}");
    assert!(f.approvals.pending().is_empty());
    assert_eq!(
        f.approvals.answer(ids[0], Answer::Deny, DecidedBy::Dialog),
        Err(NotPending(ids[0]))
    );

    // Allow once: runs, and the next call asks again.
    let approvals = f.approvals.clone();
    let waiting = tokio::spawn(async move {
        approvals
            .gate(
                call(delete_note(), json!({"id": "8"})),
                &CancellationToken::new(),
            )
            .await
    });
    let ids = queued(&f.approvals, 1).await;
    f.approvals
        .answer(ids[0], Answer::AllowOnce, DecidedBy::Cli)
        .unwrap();
    let Gate::Proceed(ticket) = waiting.await.unwrap() else {
        panic!("not allowed")
    };
    assert_eq!(ticket.decided_by(), DecidedBy::Cli);
    ticket.finish(Outcome::Error, Some("failed with s3cr3t-value"));

    // Always allow: runs, and the next call does not ask.
    let approvals = f.approvals.clone();
    let waiting = tokio::spawn(async move {
        approvals
            .gate(
                call(delete_note(), json!({"id": "9"})),
                &CancellationToken::new(),
            )
            .await
    });
    let ids = queued(&f.approvals, 1).await;
    f.approvals
        .answer(ids[0], Answer::AllowAlways, DecidedBy::Dialog)
        .unwrap();
    let Gate::Proceed(ticket) = waiting.await.unwrap() else {
        panic!("not allowed")
    };
    ticket.finish(Outcome::Ok, None);
    let Gate::Proceed(ticket) = f
        .approvals
        .gate(
            call(delete_note(), json!({"id": "10"})),
            &CancellationToken::new(),
        )
        .await
    else {
        panic!("always allow did not hold");
    };
    drop(ticket); // unfinished: logged as cancelled

    let rows = rows(&f);
    let summary: Vec<_> = rows
        .iter()
        .map(|r| (r.record.decision, r.record.decided_by, r.record.outcome))
        .collect();
    assert_eq!(
        summary,
        [
            (Decision::Denied, DecidedBy::Dialog, Outcome::NotRun),
            (Decision::Allowed, DecidedBy::Cli, Outcome::Error),
            (Decision::Allowed, DecidedBy::Dialog, Outcome::Ok),
            (Decision::Allowed, DecidedBy::Rule, Outcome::Cancelled),
        ]
    );
    assert_eq!(
        rows[0].record.arguments,
        r#"{"api_key":"****","id":"7","note":"uses ****"}"#
    );
    assert_eq!(
        rows[1].record.outcome_detail.as_deref(),
        Some("failed with ****")
    );
    // Nothing of the secret anywhere in the file.
    f.approvals.flush();
    let bytes = std::fs::read(&f.path).unwrap();
    let wal = std::fs::read(f.path.with_extension("db-wal")).unwrap_or_default();
    for haystack in [bytes, wal] {
        assert!(!haystack.windows(12).any(|w| w == b"s3cr3t-value"));
    }
    assert!(f.approvals.read_store(|s| s.verify()).unwrap().is_ok());
}

#[tokio::test(start_paused = true)]
async fn no_answer_in_time_denies_and_says_so() {
    let settings = ApprovalSettings {
        timeout: Duration::from_secs(30),
        ..ApprovalSettings::default()
    };
    let f = fixture(settings);
    let message = refused(
        f.approvals
            .gate(call(delete_note(), json!({})), &CancellationToken::new())
            .await,
    );
    assert!(message.contains("within 30 s"), "{message}");
    assert!(f.approvals.pending().is_empty());
    let rows = rows(&f);
    assert_eq!(
        (rows[0].record.decided_by, rows[0].record.decision),
        (DecidedBy::Timeout, Decision::Denied)
    );
    assert!(rows[0].record.wait_ms >= 30_000);
}

#[tokio::test]
async fn a_cancelled_or_abandoned_call_leaves_the_queue() {
    let f = fixture(ApprovalSettings::default());
    let cancel = CancellationToken::new();
    let approvals = f.approvals.clone();
    let token = cancel.clone();
    let waiting =
        tokio::spawn(async move { approvals.gate(call(delete_note(), json!({})), &token).await });
    queued(&f.approvals, 1).await;
    cancel.cancel();
    refused(waiting.await.unwrap());
    assert!(f.approvals.pending().is_empty());

    // A client that goes away drops the future.
    let approvals = f.approvals.clone();
    let waiting = tokio::spawn(async move {
        approvals
            .gate(call(delete_note(), json!({})), &CancellationToken::new())
            .await
    });
    queued(&f.approvals, 1).await;
    waiting.abort();
    let _ = waiting.await;
    queued(&f.approvals, 0).await;

    let rows = rows(&f);
    assert_eq!(rows.len(), 2);
    for row in rows {
        assert_eq!(
            (row.record.decided_by, row.record.outcome),
            (DecidedBy::Client, Outcome::Cancelled)
        );
    }
}

#[tokio::test]
async fn rules_and_the_ask_everything_setting() {
    let mut settings = ApprovalSettings::default();
    settings
        .rules
        .entry("demo".into())
        .or_default()
        .insert("read_note".into(), Rule::Deny);
    settings
        .rules
        .entry("demo".into())
        .or_default()
        .insert("delete_note".into(), Rule::Allow);
    let f = fixture(settings.clone());
    let message = refused(
        f.approvals
            .gate(call(read_note(), json!({})), &CancellationToken::new())
            .await,
    );
    assert!(message.contains("policy denies `read_note`"), "{message}");
    assert!(matches!(
        f.approvals
            .gate(call(delete_note(), json!({})), &CancellationToken::new())
            .await,
        Gate::Proceed(_)
    ));

    // Not destructive, not read-only: allowed, unless the setting asks.
    let add = tool("add_note", json!({"destructiveHint": false}));
    assert!(matches!(
        f.approvals
            .gate(call(add.clone(), json!({})), &CancellationToken::new())
            .await,
        Gate::Proceed(_)
    ));
    settings.ask_non_read_only = true;
    f.approvals.set_settings(settings);
    let approvals = f.approvals.clone();
    let waiting = tokio::spawn(async move {
        approvals
            .gate(call(add, json!({})), &CancellationToken::new())
            .await
    });
    let ids = queued(&f.approvals, 1).await;
    assert!(
        f.approvals.pending()[0]
            .reason_text
            .contains("not read-only")
    );
    f.approvals
        .answer(ids[0], Answer::Deny, DecidedBy::Cli)
        .unwrap();
    refused(waiting.await.unwrap());
}

#[tokio::test]
async fn a_changed_definition_suspends_always_allow_and_shows_the_change_until_allowed() {
    let f = fixture(ApprovalSettings::default());
    f.approvals.observe("demo", &[delete_note()]);
    // Always allow the original.
    let approvals = f.approvals.clone();
    let waiting = tokio::spawn(async move {
        approvals
            .gate(call(delete_note(), json!({})), &CancellationToken::new())
            .await
    });
    let ids = queued(&f.approvals, 1).await;
    assert!(f.approvals.pending()[0].changes.is_empty());
    f.approvals
        .answer(ids[0], Answer::AllowAlways, DecidedBy::Dialog)
        .unwrap();
    assert!(matches!(waiting.await.unwrap(), Gate::Proceed(_)));

    // The server flips destructiveHint to false (a rug pull): it asks again.
    let flipped = tool("delete_note", json!({"destructiveHint": false}));
    assert!(f.approvals.tool_policy("demo", &flipped).changed);
    let approvals = f.approvals.clone();
    let changed = flipped.clone();
    let waiting = tokio::spawn(async move {
        approvals
            .gate(call(changed, json!({})), &CancellationToken::new())
            .await
    });
    let ids = queued(&f.approvals, 1).await;
    let pending = f.approvals.pending();
    assert!(pending[0].reason_text.contains("definition changed"));
    assert_eq!(pending[0].changes.len(), 1);
    assert_eq!(pending[0].changes[0].path, "annotations.destructiveHint");
    assert_eq!(pending[0].changes[0].before, Some(json!(true)));
    assert_eq!(pending[0].changes[0].after, Some(json!(false)));
    // Denying leaves the change unaccepted: the next call asks again.
    f.approvals
        .answer(ids[0], Answer::Deny, DecidedBy::Dialog)
        .unwrap();
    refused(waiting.await.unwrap());
    let approvals = f.approvals.clone();
    let changed = flipped.clone();
    let waiting = tokio::spawn(async move {
        approvals
            .gate(call(changed, json!({})), &CancellationToken::new())
            .await
    });
    let ids = queued(&f.approvals, 1).await;
    assert_eq!(f.approvals.pending()[0].changes.len(), 1);
    // Allowing once accepts the new definition without always-allow.
    f.approvals
        .answer(ids[0], Answer::AllowOnce, DecidedBy::Dialog)
        .unwrap();
    assert!(matches!(waiting.await.unwrap(), Gate::Proceed(_)));
    let policy = f.approvals.tool_policy("demo", &flipped);
    assert!(!policy.changed && !policy.always_allow);

    // The pins survive a restart.
    f.approvals.flush();
    let reopened =
        Approvals::new(Store::open(&f.path).unwrap(), ApprovalSettings::default()).unwrap();
    let policy = reopened.tool_policy("demo", &flipped);
    assert!(!policy.changed && !policy.always_allow);
    assert!(reopened.tool_policy("demo", &delete_note()).changed);
}
