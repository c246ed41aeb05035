//! The hash chain over the call log, and [`Store::verify`].
//!
//! Each row stores `prev_hash`, the `hash` of the row before it (for the first
//! row, the anchor: [`GENESIS_HASH`] until rows are pruned), and its own
//! `hash = SHA-256(encoding of prev_hash, then every other column but hash)`.
//! The encoding is a domain tag, then per value a type byte and, for text, a
//! big-endian length, so no two different rows encode the same bytes.
//!
//! The one-row `chain_head` table holds the anchor (where the chain starts)
//! and the last row's id and hash and the row count (where it ends). It is
//! updated in the transaction that appends or prunes, so deleting rows from
//! the end, which leaves a perfectly consistent shorter chain, still shows.
//!
//! There is no secret key: this catches edits made with an SQLite tool, not a
//! forger who recomputes every later hash and the head.

use std::fmt;

use rusqlite::Connection;
use rusqlite::types::ValueRef;
use sha2::{Digest, Sha256};

use crate::error::{Result, StoreError};
use crate::store::{Store, sql_err};

/// The `prev_hash` of the first row ever appended.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Separates this encoding from any other use of SHA-256, and versions it.
const DOMAIN: &[u8] = b"gatehouse.calls.v1\0";

/// SHA-256 of the arguments text, hex.
pub(crate) fn arguments_hash(arguments: &str) -> String {
    hex_digest(&Sha256::digest(arguments.as_bytes()).into())
}

/// A SHA-256 digest in lowercase hex. `hex::encode` collects an iterator
/// of `char`s, which cost about as much as hashing a small row.
pub(crate) fn hex_digest(digest: &[u8; 32]) -> String {
    let mut text = [0u8; 64];
    // Cannot fail: the buffer is exactly twice the digest's length.
    let _ = hex::encode_to_slice(digest, &mut text);
    // Hex digits are ASCII, so this borrows, then copies once.
    String::from_utf8_lossy(&text).into_owned()
}

/// A column value as the hash sees it.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Field<'a> {
    Int(i64),
    Text(&'a str),
    Null,
}

/// The chain hash of a row: `fields` are every column but `hash`, in table
/// order, except that `prev_hash` comes first.
pub(crate) fn row_hash(prev_hash: &str, fields: &[Field<'_>]) -> String {
    let mut hasher = Sha256::new();
    hasher.update(DOMAIN);
    encode(&mut hasher, Field::Text(prev_hash));
    for field in fields {
        encode(&mut hasher, *field);
    }
    hex_digest(&hasher.finalize().into())
}

fn encode(hasher: &mut Sha256, field: Field<'_>) {
    match field {
        Field::Int(value) => {
            hasher.update([b'i']);
            hasher.update(value.to_be_bytes());
        }
        Field::Text(text) => {
            hasher.update([b's']);
            hasher.update((text.len() as u64).to_be_bytes());
            hasher.update(text.as_bytes());
        }
        Field::Null => hasher.update([b'n']),
    }
}

/// The columns the hash covers, in hash order after `prev_hash`.
pub(crate) const HASHED_COLUMNS: &str = "id, time_ms, client, server, tool, arguments, \
     arguments_hash, policy, decision, decided_by, wait_ms, outcome, outcome_detail, duration_ms";

/// The chain head row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Head {
    pub anchor_id: i64,
    pub anchor_hash: String,
    pub last_id: i64,
    pub last_hash: String,
    pub row_count: i64,
}

/// Reads the chain head; `None` if its row was deleted.
pub(crate) fn read_head(conn: &Connection) -> rusqlite::Result<Option<Head>> {
    let mut stmt = conn.prepare_cached(
        "SELECT anchor_id, anchor_hash, last_id, last_hash, row_count \
         FROM chain_head WHERE singleton = 1",
    )?;
    let mut rows = stmt.query([])?;
    match rows.next()? {
        Some(row) => Ok(Some(Head {
            anchor_id: row.get(0)?,
            anchor_hash: row.get(1)?,
            last_id: row.get(2)?,
            last_hash: row.get(3)?,
            row_count: row.get(4)?,
        })),
        None => Ok(None),
    }
}

/// What [`Store::verify`] found: the whole log intact, or the first problem.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum VerifyReport {
    /// Every row hashes correctly, links to the one before, and the chain
    /// ends where the head says.
    Ok {
        /// Rows checked.
        rows: u64,
        /// The id before the first row (0, or the last pruned row).
        anchor_id: i64,
        /// The last row's id (equal to `anchor_id` for an empty log).
        last_id: i64,
    },
    /// The row's content no longer matches its hash: a column was changed.
    Edited {
        /// The row.
        id: i64,
    },
    /// Rows between two ids are gone (`after_id` is the anchor, usually 0,
    /// when the first rows are missing).
    Deleted {
        /// The last intact row before the gap.
        after_id: i64,
        /// The first row after the gap.
        before_id: i64,
    },
    /// A row that Gatehouse did not append: before the chain's start or
    /// after the end the head records.
    Inserted {
        /// The forged row.
        id: i64,
    },
    /// The row hashes correctly but does not follow from the row before it:
    /// that row was rewritten with a recomputed hash, or this one was forged
    /// in its place.
    BrokenLink {
        /// The row whose `prev_hash` does not match.
        id: i64,
    },
    /// The chain ends somewhere other than the head says: rows removed from
    /// the end, or the head itself edited (or deleted).
    HeadMismatch {
        /// The last id the head records (`None` if the head row is gone).
        head_last_id: Option<i64>,
        /// The last id of the rows found.
        found_last_id: i64,
    },
}

impl VerifyReport {
    /// Whether the log is intact.
    pub fn is_ok(&self) -> bool {
        matches!(self, VerifyReport::Ok { .. })
    }
}

impl fmt::Display for VerifyReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            VerifyReport::Ok {
                rows,
                anchor_id,
                last_id,
            } => write!(
                f,
                "the call log is intact: {rows} rows, ids {} to {last_id}",
                anchor_id + 1
            ),
            VerifyReport::Edited { id } => {
                write!(
                    f,
                    "row {id} was edited: its content does not match its hash"
                )
            }
            VerifyReport::Deleted {
                after_id,
                before_id,
            } => {
                write!(
                    f,
                    "rows were deleted between row {after_id} and row {before_id}"
                )
            }
            VerifyReport::Inserted { id } => {
                write!(f, "row {id} was inserted: Gatehouse did not append it")
            }
            VerifyReport::BrokenLink { id } => write!(
                f,
                "row {id} does not follow from the row before it: one of them was rewritten"
            ),
            VerifyReport::HeadMismatch {
                head_last_id: Some(head),
                found_last_id,
            } => write!(
                f,
                "the log ends at row {found_last_id} but its head records row {head}: \
                 rows were removed from the end, or the head was edited"
            ),
            VerifyReport::HeadMismatch {
                head_last_id: None, ..
            } => {
                write!(f, "the log's chain head is missing: it was deleted")
            }
        }
    }
}

impl Store {
    /// Walks the whole log in id order and reports the first row that was
    /// edited, inserted or deleted, or that the log is intact.
    ///
    /// `Err` means the check could not run (I/O, a locked file), never that
    /// the log was tampered with: that is a [`VerifyReport`].
    pub fn verify(&self) -> Result<VerifyReport> {
        let err = sql_err(&self.path, "verify the call log");
        // One read transaction: a snapshot, so rows appended meanwhile by
        // another connection cannot look like a head mismatch.
        let tx = self.conn.unchecked_transaction().map_err(&err)?;
        let report = verify_in(&tx).map_err(&err)?;
        tx.rollback().map_err(&err)?;
        Ok(report)
    }
}

fn verify_in(conn: &Connection) -> rusqlite::Result<VerifyReport> {
    let head = read_head(conn)?;
    let (anchor_id, anchor_hash) = match &head {
        Some(head) => (head.anchor_id, head.anchor_hash.clone()),
        // Without a head, still check the rows from genesis, then report it.
        None => (0, GENESIS_HASH.to_owned()),
    };
    let mut stmt = conn.prepare(&format!(
        "SELECT {HASHED_COLUMNS}, prev_hash, hash FROM calls ORDER BY id"
    ))?;
    let mut rows = stmt.query([])?;
    let mut expected_id = anchor_id.saturating_add(1);
    let mut expected_prev = anchor_hash;
    let mut last_id = anchor_id;
    let mut count: u64 = 0;
    while let Some(row) = rows.next()? {
        let id: i64 = row.get(0)?;
        if id < expected_id {
            // Only the first row can be below: it sits in the pruned range.
            return Ok(VerifyReport::Inserted { id });
        }
        if let Some(head) = &head
            && id > head.last_id
        {
            return Ok(VerifyReport::Inserted { id });
        }
        let Some((fields, prev_hash, hash)) = read_fields(row) else {
            // A value of the wrong type can only come from a hand edit.
            return Ok(VerifyReport::Edited { id });
        };
        if row_hash(prev_hash, &fields) != hash {
            return Ok(VerifyReport::Edited { id });
        }
        if id > expected_id {
            return Ok(VerifyReport::Deleted {
                after_id: expected_id - 1,
                before_id: id,
            });
        }
        if prev_hash != expected_prev {
            return Ok(VerifyReport::BrokenLink { id });
        }
        expected_prev = hash.to_owned();
        expected_id = id.saturating_add(1);
        last_id = id;
        count += 1;
    }
    let intact = head.as_ref().is_some_and(|head| {
        head.last_id == last_id
            && head.last_hash == expected_prev
            && u64::try_from(head.row_count).ok() == Some(count)
    });
    if !intact {
        return Ok(VerifyReport::HeadMismatch {
            head_last_id: head.map(|head| head.last_id),
            found_last_id: last_id,
        });
    }
    Ok(VerifyReport::Ok {
        rows: count,
        anchor_id,
        last_id,
    })
}

/// The hashed fields, `prev_hash` and `hash` of a row selected as
/// `HASHED_COLUMNS, prev_hash, hash`; `None` if a value has the wrong type.
fn read_fields<'r>(row: &'r rusqlite::Row<'_>) -> Option<(Vec<Field<'r>>, &'r str, &'r str)> {
    let text = |idx: usize| match row.get_ref(idx).ok()? {
        ValueRef::Text(bytes) => std::str::from_utf8(bytes).ok(),
        _ => None,
    };
    let field = |idx: usize| match row.get_ref(idx).ok()? {
        ValueRef::Integer(value) => Some(Field::Int(value)),
        ValueRef::Text(bytes) => std::str::from_utf8(bytes).ok().map(Field::Text),
        ValueRef::Null => Some(Field::Null),
        ValueRef::Real(_) | ValueRef::Blob(_) => None,
    };
    let columns = HASHED_COLUMNS.split(',').count();
    let fields = (0..columns).map(field).collect::<Option<Vec<_>>>()?;
    Some((fields, text(columns)?, text(columns + 1)?))
}

/// Maps a missing head to the error appends and prunes report.
pub(crate) fn require_head(head: Option<Head>, store_path: &std::path::Path) -> Result<Head> {
    head.ok_or_else(|| StoreError::HeadMissing {
        path: store_path.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{raw, record, store_with, temp_store};

    fn verify_file(path: &std::path::Path) -> VerifyReport {
        crate::Store::open(path).unwrap().verify().unwrap()
    }

    /// Hashes row `id` of the file as it now is, with `prev_hash` as given:
    /// what a forger who knows the algorithm would compute.
    fn forged_hash(conn: &Connection, id: i64, prev_hash: &str) -> String {
        let sql = format!("SELECT {HASHED_COLUMNS}, prev_hash, hash FROM calls WHERE id = ?1");
        conn.query_row(&sql, [id], |row| {
            let (fields, _, _) = read_fields(row).unwrap();
            Ok(row_hash(prev_hash, &fields))
        })
        .unwrap()
    }

    #[test]
    fn a_clean_log_verifies() {
        let (_dir, path, store) = store_with(10);
        assert_eq!(
            store.verify().unwrap(),
            VerifyReport::Ok {
                rows: 10,
                anchor_id: 0,
                last_id: 10
            }
        );
        drop(store);
        assert!(verify_file(&path).is_ok());
        let (_dir, _path, empty) = temp_store();
        assert!(empty.verify().unwrap().is_ok());
    }

    #[test]
    fn editing_any_column_of_a_middle_row_names_it() {
        // Every column but id (covered by the deletion tests), each set to a
        // valid value different from what `record` wrote.
        let edits = [
            "time_ms = 1",
            "client = 'other/0.1'",
            "server = 'other'",
            "tool = 'delete_note'",
            "arguments = '{\"id\":999}'",
            "arguments_hash = 'ab'",
            "policy = 'deny'",
            "decision = 'denied'",
            "decided_by = 'timeout'",
            "wait_ms = 0",
            "outcome = 'error'",
            "outcome_detail = 'boom'",
            "duration_ms = 0",
            "prev_hash = 'cd'",
            "hash = 'ef'",
        ];
        for edit in edits {
            let (_dir, path, store) = store_with(5);
            drop(store);
            raw(&path)
                .execute(&format!("UPDATE calls SET {edit} WHERE id = 3"), [])
                .unwrap();
            assert_eq!(verify_file(&path), VerifyReport::Edited { id: 3 }, "{edit}");
        }
    }

    #[test]
    fn deleting_a_middle_row_names_the_gap() {
        let (_dir, path, store) = store_with(5);
        drop(store);
        raw(&path)
            .execute("DELETE FROM calls WHERE id = 3", [])
            .unwrap();
        let report = verify_file(&path);
        assert_eq!(
            report,
            VerifyReport::Deleted {
                after_id: 2,
                before_id: 4
            }
        );
        assert!(report.to_string().contains("row 2"), "{report}");
    }

    #[test]
    fn deleting_the_first_row_is_a_gap_after_the_start() {
        let (_dir, path, store) = store_with(5);
        drop(store);
        raw(&path)
            .execute("DELETE FROM calls WHERE id = 1", [])
            .unwrap();
        assert_eq!(
            verify_file(&path),
            VerifyReport::Deleted {
                after_id: 0,
                before_id: 2
            }
        );
    }

    #[test]
    fn deleting_the_last_row_is_a_head_mismatch() {
        let (_dir, path, store) = store_with(5);
        drop(store);
        raw(&path)
            .execute("DELETE FROM calls WHERE id = 5", [])
            .unwrap();
        assert_eq!(
            verify_file(&path),
            VerifyReport::HeadMismatch {
                head_last_id: Some(5),
                found_last_id: 4
            }
        );
        // Every row gone is the same story.
        raw(&path).execute("DELETE FROM calls", []).unwrap();
        assert_eq!(
            verify_file(&path),
            VerifyReport::HeadMismatch {
                head_last_id: Some(5),
                found_last_id: 0
            }
        );
    }

    #[test]
    fn an_edited_or_deleted_head_is_a_head_mismatch() {
        let (_dir, path, store) = store_with(3);
        drop(store);
        raw(&path)
            .execute("UPDATE chain_head SET last_hash = 'ab'", [])
            .unwrap();
        assert!(matches!(
            verify_file(&path),
            VerifyReport::HeadMismatch { .. }
        ));
        raw(&path).execute("DELETE FROM chain_head", []).unwrap();
        assert_eq!(
            verify_file(&path),
            VerifyReport::HeadMismatch {
                head_last_id: None,
                found_last_id: 3
            }
        );
        // And the log refuses to grow without its head.
        let mut store = crate::Store::open(&path).unwrap();
        let err = store.append(&record(4)).unwrap_err();
        assert!(matches!(err, StoreError::HeadMissing { .. }), "{err:?}");
    }

    #[test]
    fn forged_rows_are_reported_as_inserted() {
        // After the end, correctly chained from the last row: only the head
        // shows it was not appended by Gatehouse.
        let (_dir, path, store) = store_with(3);
        drop(store);
        let conn = raw(&path);
        conn.execute(
            "INSERT INTO calls SELECT 4, time_ms, client, server, tool, arguments, \
             arguments_hash, policy, decision, decided_by, wait_ms, outcome, outcome_detail, \
             duration_ms, (SELECT hash FROM calls WHERE id = 3), '' FROM calls WHERE id = 3",
            [],
        )
        .unwrap();
        let last = conn
            .query_row("SELECT hash FROM calls WHERE id = 3", [], |r| {
                r.get::<_, String>(0)
            })
            .unwrap();
        let hash = forged_hash(&conn, 4, &last);
        conn.execute("UPDATE calls SET hash = ?1 WHERE id = 4", [hash])
            .unwrap();
        assert_eq!(verify_file(&path), VerifyReport::Inserted { id: 4 });

        // Before the start.
        let (_dir, path, store) = store_with(3);
        drop(store);
        raw(&path)
            .execute(
                "INSERT INTO calls SELECT 0, time_ms, client, server, tool, arguments, \
                 arguments_hash, policy, decision, decided_by, wait_ms, outcome, \
                 outcome_detail, duration_ms, prev_hash, hash FROM calls WHERE id = 1",
                [],
            )
            .unwrap();
        assert_eq!(verify_file(&path), VerifyReport::Inserted { id: 0 });
    }

    #[test]
    fn a_rehashed_row_breaks_the_next_link() {
        // Row 2 edited and its own hash recomputed: row 3 no longer follows.
        let (_dir, path, store) = store_with(4);
        drop(store);
        let conn = raw(&path);
        conn.execute("UPDATE calls SET decision = 'denied' WHERE id = 2", [])
            .unwrap();
        let prev: String = conn
            .query_row("SELECT prev_hash FROM calls WHERE id = 2", [], |r| r.get(0))
            .unwrap();
        let hash = forged_hash(&conn, 2, &prev);
        conn.execute("UPDATE calls SET hash = ?1 WHERE id = 2", [hash])
            .unwrap();
        assert_eq!(verify_file(&path), VerifyReport::BrokenLink { id: 3 });
    }

    #[test]
    fn pruning_keeps_the_chain_verifiable() {
        let (_dir, path, mut store) = store_with(10);
        // Rows 1..=4 are older than 5 s.
        assert_eq!(store.prune_before(5_000).unwrap(), 4);
        assert_eq!(
            store.verify().unwrap(),
            VerifyReport::Ok {
                rows: 6,
                anchor_id: 4,
                last_id: 10
            }
        );
        assert_eq!(store.prune_before(5_000).unwrap(), 0);
        // The log goes on from where it was.
        assert_eq!(store.append(&record(11)).unwrap(), 11);
        assert!(store.verify().unwrap().is_ok());
        drop(store);

        // Edits after a prune are still caught…
        raw(&path)
            .execute("UPDATE calls SET tool = 'x' WHERE id = 7", [])
            .unwrap();
        assert_eq!(verify_file(&path), VerifyReport::Edited { id: 7 });
        raw(&path)
            .execute("UPDATE calls SET tool = 'read_note' WHERE id = 7", [])
            .unwrap();
        assert!(verify_file(&path).is_ok());
        // …and so is deleting the first row after the anchor, and a row
        // forged into the pruned range.
        raw(&path)
            .execute("DELETE FROM calls WHERE id = 5", [])
            .unwrap();
        assert_eq!(
            verify_file(&path),
            VerifyReport::Deleted {
                after_id: 4,
                before_id: 6
            }
        );
        let (_dir, path, mut store) = store_with(6);
        store.prune_before(3_000).unwrap();
        drop(store);
        raw(&path)
            .execute(
                "INSERT INTO calls SELECT 1, time_ms, client, server, tool, arguments, \
                 arguments_hash, policy, decision, decided_by, wait_ms, outcome, \
                 outcome_detail, duration_ms, prev_hash, hash FROM calls WHERE id = 3",
                [],
            )
            .unwrap();
        assert_eq!(verify_file(&path), VerifyReport::Inserted { id: 1 });
    }

    #[test]
    fn pruning_everything_and_out_of_order_times() {
        let (_dir, _path, mut store) = temp_store();
        // A call that waited long finishes (and is appended) after a later one.
        for time_ms in [1_000, 5_000, 2_000, 6_000] {
            store
                .append(&crate::CallRecord {
                    time_ms,
                    ..record(0)
                })
                .unwrap();
        }
        // Only the prefix older than 3 s goes: row 3 waits for row 2.
        assert_eq!(store.prune_before(3_000).unwrap(), 1);
        assert!(store.verify().unwrap().is_ok());
        assert_eq!(store.prune_before(i64::MAX).unwrap(), 3);
        assert_eq!(
            store.verify().unwrap(),
            VerifyReport::Ok {
                rows: 0,
                anchor_id: 4,
                last_id: 4
            }
        );
        assert_eq!(store.append(&record(9)).unwrap(), 5);
        assert!(store.verify().unwrap().is_ok());
    }
}
