//! Helpers shared by the unit tests.

use std::path::{Path, PathBuf};

use crate::record::{CallRecord, DecidedBy, Decision, Outcome, Policy};
use crate::store::Store;

/// A fresh store in a real file under a temporary directory.
pub(crate) fn temp_store() -> (tempfile::TempDir, PathBuf, Store) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("gatehouse.db");
    let store = Store::open(&path).expect("open store");
    (dir, path, store)
}

/// A plausible record; `i` varies the time and the arguments.
pub(crate) fn record(i: i64) -> CallRecord {
    CallRecord {
        time_ms: 1_000 * i,
        client: "claude-desktop/1.2".to_owned(),
        server: "notes".to_owned(),
        tool: "read_note".to_owned(),
        arguments: format!(r#"{{"id":{i}}}"#),
        policy: Policy::Ask,
        decision: Decision::Allowed,
        decided_by: DecidedBy::Dialog,
        wait_ms: 1_500,
        outcome: Outcome::Ok,
        outcome_detail: None,
        duration_ms: 12,
    }
}

/// A store holding `n` records, `record(1)` to `record(n)`.
pub(crate) fn store_with(n: i64) -> (tempfile::TempDir, PathBuf, Store) {
    let (dir, path, mut store) = temp_store();
    for i in 1..=n {
        store.append(&record(i)).expect("append");
    }
    (dir, path, store)
}

/// A separate raw connection to the file, as someone tampering would use.
pub(crate) fn raw(path: &Path) -> rusqlite::Connection {
    rusqlite::Connection::open(path).expect("raw open")
}
