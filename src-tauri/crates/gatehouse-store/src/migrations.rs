//! The schema, as numbered SQL steps.
//!
//! `PRAGMA user_version` holds how many steps a file has had. Opening applies
//! the missing ones, each in its own transaction together with the version
//! bump, so a crash leaves the file at a whole step. Steps are append-only:
//! once released, a step is never edited, because files in the field already
//! ran it.

use std::path::Path;

use rusqlite::{Connection, TransactionBehavior};

use crate::error::{Result, StoreError};

/// The steps; step `i` takes a file from version `i` to `i + 1`.
///
/// Tables are `STRICT` so a hand edit cannot store a value of the wrong type,
/// and the enum columns carry `CHECK`s, so what the log reads back is always
/// something the code wrote. The genesis hash in the chain head is
/// [`crate::GENESIS_HASH`] (a test checks they agree).
pub(crate) const MIGRATIONS: &[&str] = &[
    // 1: the call log, its chain head, and pins.
    r#"
CREATE TABLE calls (
    id              INTEGER PRIMARY KEY,
    time_ms         INTEGER NOT NULL,
    client          TEXT    NOT NULL,
    server          TEXT    NOT NULL,
    tool            TEXT    NOT NULL,
    arguments       TEXT    NOT NULL,
    arguments_hash  TEXT    NOT NULL,
    policy          TEXT    NOT NULL CHECK (policy IN ('allow', 'ask', 'deny')),
    decision        TEXT    NOT NULL CHECK (decision IN ('allowed', 'denied')),
    decided_by      TEXT    NOT NULL CHECK (decided_by IN ('rule', 'dialog', 'cli', 'timeout', 'client')),
    wait_ms         INTEGER NOT NULL,
    outcome         TEXT    NOT NULL CHECK (outcome IN ('ok', 'error', 'cancelled', 'not_run')),
    outcome_detail  TEXT,
    duration_ms     INTEGER NOT NULL,
    prev_hash       TEXT    NOT NULL,
    hash            TEXT    NOT NULL
) STRICT;

-- Queries are newest first with optional server, tool and time filters; each
-- index ends in time_ms so SQLite walks it backwards and stops at the limit
-- instead of sorting every match.
CREATE INDEX calls_time ON calls (time_ms);
CREATE INDEX calls_server_time ON calls (server, time_ms);
CREATE INDEX calls_server_tool_time ON calls (server, tool, time_ms);
CREATE INDEX calls_tool_time ON calls (tool, time_ms);

-- Where the chain starts (the anchor: genesis, or the last pruned row) and
-- where it ends (the last appended row). Updated in the same transaction as
-- every append and prune, so removing rows from either end shows.
CREATE TABLE chain_head (
    singleton   INTEGER PRIMARY KEY CHECK (singleton = 1),
    anchor_id   INTEGER NOT NULL,
    anchor_hash TEXT    NOT NULL,
    last_id     INTEGER NOT NULL,
    last_hash   TEXT    NOT NULL,
    row_count   INTEGER NOT NULL
) STRICT;
INSERT INTO chain_head (singleton, anchor_id, anchor_hash, last_id, last_hash, row_count)
VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000',
        0, '0000000000000000000000000000000000000000000000000000000000000000', 0);

CREATE TABLE pins (
    server          TEXT    NOT NULL,
    tool            TEXT    NOT NULL,
    definition_hash TEXT    NOT NULL,
    definition      TEXT    NOT NULL,
    always_allow    INTEGER NOT NULL DEFAULT 0 CHECK (always_allow IN (0, 1)),
    first_seen_ms   INTEGER NOT NULL,
    changed_ms      INTEGER NOT NULL,
    PRIMARY KEY (server, tool)
) STRICT, WITHOUT ROWID;
"#,
];

/// The schema version this code writes.
pub(crate) fn latest() -> i64 {
    // The array is a handful of entries; the cast cannot truncate.
    MIGRATIONS.len() as i64
}

/// The file's schema version.
pub(crate) fn version(conn: &Connection, path: &Path) -> Result<i64> {
    conn.pragma_query_value(None, "user_version", |row| row.get(0))
        .map_err(|source| StoreError::Open {
            path: path.to_owned(),
            source,
        })
}

/// Refuses a file written by a newer Gatehouse, before anything writes to it.
pub(crate) fn check_not_newer(conn: &Connection, path: &Path) -> Result<i64> {
    let found = version(conn, path)?;
    // A negative version was never written by Gatehouse: refuse it the same
    // way rather than guess which steps it has had.
    if !(0..=latest()).contains(&found) {
        return Err(StoreError::TooNew {
            path: path.to_owned(),
            found,
            supported: latest(),
        });
    }
    Ok(found)
}

/// Applies every step the file has not had yet.
pub(crate) fn migrate(conn: &mut Connection, path: &Path) -> Result<()> {
    let mut current = check_not_newer(conn, path)?;
    while current < latest() {
        let next = current + 1;
        let fail = |source| StoreError::Migrate {
            path: path.to_owned(),
            version: next,
            source,
        };
        // IMMEDIATE: two processes opening the same fresh file must not both
        // run step 1; the second waits (busy timeout), then re-reads the version.
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(fail)?;
        let inside: i64 = tx
            .pragma_query_value(None, "user_version", |row| row.get(0))
            .map_err(fail)?;
        if inside != current {
            // Someone else migrated meanwhile: start over from their version.
            drop(tx);
            current = check_not_newer(conn, path)?;
            continue;
        }
        // `current` is within 0..MIGRATIONS.len() here, so indexing is safe.
        let step = MIGRATIONS
            .get(usize::try_from(current).unwrap_or(usize::MAX))
            .copied()
            .unwrap_or_default();
        tx.execute_batch(step).map_err(fail)?;
        tx.pragma_update(None, "user_version", next).map_err(fail)?;
        tx.commit().map_err(fail)?;
        current = next;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::GENESIS_HASH;
    use crate::store::Store;
    use crate::testing::{raw, record};

    #[test]
    fn a_new_file_gets_the_schema_and_reopens() {
        let dir = tempfile::tempdir().unwrap();
        // The parent directories do not exist yet: open creates them.
        let path = dir.path().join("data").join("nested").join("gatehouse.db");
        let mut store = Store::open(&path).unwrap();
        assert_eq!(version(&store.conn, &path).unwrap(), latest());
        let mode: String = store
            .conn
            .pragma_query_value(None, "journal_mode", |r| r.get(0))
            .unwrap();
        assert_eq!(mode, "wal");
        let fk: bool = store
            .conn
            .pragma_query_value(None, "foreign_keys", |r| r.get(0))
            .unwrap();
        assert!(fk);
        store.append(&record(1)).unwrap();
        drop(store);

        // Re-opening runs no step twice and keeps the data.
        let store = Store::open(&path).unwrap();
        assert_eq!(version(&store.conn, &path).unwrap(), latest());
        assert_eq!(store.query(&Default::default()).unwrap().len(), 1);
        assert!(store.verify().unwrap().is_ok());
    }

    #[test]
    fn the_sql_genesis_is_the_code_genesis() {
        let store = Store::open_in_memory().unwrap();
        let (anchor, last): (String, String) = store
            .conn
            .query_row("SELECT anchor_hash, last_hash FROM chain_head", [], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .unwrap();
        assert_eq!(anchor, GENESIS_HASH);
        assert_eq!(last, GENESIS_HASH);
    }

    #[test]
    fn a_newer_database_is_refused_and_left_untouched() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("gatehouse.db");
        {
            let conn = raw(&path);
            conn.execute_batch("CREATE TABLE future (x INTEGER); PRAGMA user_version = 99;")
                .unwrap();
        }
        let before = std::fs::read(&path).unwrap();
        let err = Store::open(&path).unwrap_err();
        match &err {
            StoreError::TooNew {
                path: p,
                found,
                supported,
            } => {
                assert_eq!(p, &path);
                assert_eq!(*found, 99);
                assert_eq!(*supported, latest());
            }
            other => panic!("expected TooNew, got {other:?}"),
        }
        assert!(err.to_string().contains("gatehouse.db"), "{err}");
        assert_eq!(std::fs::read(&path).unwrap(), before);
        // Still in rollback-journal mode: WAL was never switched on.
        assert!(!dir.path().join("gatehouse.db-wal").exists());
    }

    #[test]
    fn a_file_that_is_not_a_database_is_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("gatehouse.db");
        std::fs::write(&path, b"this is not sqlite, just some text long enough").unwrap();
        let before = std::fs::read(&path).unwrap();
        let err = Store::open(&path).unwrap_err();
        assert!(matches!(err, StoreError::Open { .. }), "{err:?}");
        assert!(err.to_string().contains("gatehouse.db"), "{err}");
        assert_eq!(std::fs::read(&path).unwrap(), before);
    }
}
