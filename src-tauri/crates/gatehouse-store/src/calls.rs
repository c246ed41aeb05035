//! Appending to, querying and pruning the call log.

use std::path::Path;
use std::sync::LazyLock;

use rusqlite::types::Value;
use rusqlite::types::{ToSqlOutput, ValueRef};
use rusqlite::{Connection, TransactionBehavior, params, params_from_iter};
use serde::{Deserialize, Serialize};

use crate::chain::{Field, HASHED_COLUMNS, arguments_hash, read_head, require_head, row_hash};
use crate::error::{Result, StoreError};
use crate::record::{CallRecord, CallRow, Decision, MAX_OUTCOME_DETAIL, truncate};
use crate::store::{Store, sql_err};

/// Which rows [`Store::query`] and the exports return. The default is all of
/// them, newest first.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Filter {
    /// Only calls to this server.
    pub server: Option<String>,
    /// Only calls to this tool.
    pub tool: Option<String>,
    /// Only allowed, or only denied, calls.
    pub decision: Option<Decision>,
    /// Only calls at or after this time (Unix ms).
    pub since_ms: Option<i64>,
    /// Only calls before this time (Unix ms).
    pub until_ms: Option<i64>,
    /// Only calls whose arguments contain this text (ASCII case-insensitive).
    pub search: Option<String>,
    /// At most this many rows.
    pub limit: Option<u32>,
    /// Skip this many rows first (for paging).
    pub offset: u32,
}

impl Store {
    /// Appends one finished call to the log and returns its id.
    ///
    /// Call this once per call, when it has finished (or was denied, timed
    /// out or cancelled): rows are never updated, because an update would
    /// break the hash chain. The row, its chain hash and the chain head are
    /// written in one transaction.
    pub fn append(&mut self, record: &CallRecord) -> Result<i64> {
        self.append_all(std::slice::from_ref(record))
    }

    /// Returns the rows matching `filter`, newest first.
    pub fn query(&self, filter: &Filter) -> Result<Vec<CallRow>> {
        let mut rows = Vec::new();
        self.for_each(filter, |row| {
            rows.push(row);
            Ok(())
        })?;
        Ok(rows)
    }

    /// Calls `f` with each row matching `filter`, newest first, without
    /// holding them all in memory (exports can cover the whole log).
    pub(crate) fn for_each(
        &self,
        filter: &Filter,
        mut f: impl FnMut(CallRow) -> Result<()>,
    ) -> Result<()> {
        let err = sql_err(&self.path, "query the call log");
        let (sql, values) = query_sql(filter);
        let mut stmt = self.conn.prepare_cached(&sql).map_err(&err)?;
        let mut rows = stmt.query(params_from_iter(values)).map_err(&err)?;
        while let Some(row) = rows.next().map_err(&err)? {
            f(read_row(row, &self.path).map_err(|e| match e {
                ReadError::Sql(source) => err(source),
                ReadError::Store(e) => e,
            })?)?;
        }
        Ok(())
    }

    /// Deletes the oldest rows, those before `time_ms`, and returns how many.
    ///
    /// Only a prefix of the log (in id order) is deleted, up to the first row
    /// at or after `time_ms`: rows are appended when calls finish, so times
    /// are not strictly in id order, and a hole would break the chain. The
    /// last deleted row's id and hash become the chain's anchor, so
    /// [`Store::verify`] still passes and still catches later edits.
    pub fn prune_before(&mut self, time_ms: i64) -> Result<usize> {
        let err = sql_err(&self.path, "prune the call log");
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(&err)?;
        let head = require_head(read_head(&tx).map_err(&err)?, &self.path)?;
        let first_kept: Option<i64> = tx
            .query_row(
                "SELECT id FROM calls WHERE time_ms >= ?1 ORDER BY id LIMIT 1",
                [time_ms],
                |row| row.get(0),
            )
            .map(Some)
            .or_else(|e| match e {
                rusqlite::Error::QueryReturnedNoRows => Ok(None),
                e => Err(e),
            })
            .map_err(&err)?;
        let last_pruned = match first_kept {
            Some(id) => id - 1,
            None => head.last_id,
        };
        if last_pruned <= head.anchor_id {
            return Ok(0);
        }
        let anchor_hash: String = tx
            .query_row(
                "SELECT hash FROM calls WHERE id = ?1",
                [last_pruned],
                |row| row.get(0),
            )
            .map_err(|e| match e {
                rusqlite::Error::QueryReturnedNoRows => StoreError::CorruptRow {
                    path: self.path.clone(),
                    id: last_pruned,
                    column: "id",
                    detail: "the row is missing, so it cannot become the chain's anchor; \
                             run `gatehouse log verify`"
                        .to_owned(),
                },
                e => err(e),
            })?;
        let deleted = tx
            .execute("DELETE FROM calls WHERE id <= ?1", [last_pruned])
            .map_err(&err)?;
        tx.execute(
            "UPDATE chain_head SET anchor_id = ?1, anchor_hash = ?2, row_count = row_count - ?3 \
             WHERE singleton = 1",
            params![last_pruned, anchor_hash, deleted as i64],
        )
        .map_err(&err)?;
        tx.commit().map_err(&err)?;
        Ok(deleted)
    }

    /// Appends `records`, in order, in one transaction, and returns the last
    /// id (the head's, when `records` is empty). Either every row is
    /// appended or none is (the error says why).
    ///
    /// Each row is hashed and chained exactly as [`Store::append`] would
    /// chain it; only the transaction is shared. A commit costs a
    /// write-ahead log frame for every page it touches (the row, four
    /// indexes, the chain head), so the log's writer commits the rows that
    /// queued up together.
    pub fn append_all(&mut self, records: &[CallRecord]) -> Result<i64> {
        let err = sql_err(&self.path, "append to the call log");
        // IMMEDIATE takes the write lock before reading the head, so two
        // processes appending at once cannot both chain from the same row.
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(&err)?;
        let head = require_head(read_head(&tx).map_err(&err)?, &self.path)?;
        let mut rows: Vec<Chained<'_>> = Vec::with_capacity(records.len());
        for record in records {
            let (last_id, last_hash) = rows
                .last()
                .map_or((head.last_id, head.last_hash.as_str()), |row| {
                    (row.id, row.hash.as_str())
                });
            let row = Chained::new(record, last_id, last_hash, &self.path)?;
            rows.push(row);
        }
        let Some(last) = rows.last() else {
            return Ok(head.last_id);
        };
        let (last_id, last_hash) = (last.id, last.hash.clone());
        let mut rest = rows.as_slice();
        while !rest.is_empty() {
            let size = INSERT_SIZES
                .iter()
                .copied()
                .find(|size| *size <= rest.len())
                .unwrap_or(1);
            let (chunk, after) = rest.split_at(size);
            insert_rows(&tx, chunk).map_err(&err)?;
            rest = after;
        }
        tx.prepare_cached(
            "UPDATE chain_head SET last_id = ?1, last_hash = ?2, row_count = row_count + ?3 \
             WHERE singleton = 1",
        )
        .and_then(|mut stmt| stmt.execute(params![last_id, last_hash, rows.len() as i64]))
        .map_err(&err)?;
        tx.commit().map_err(&err)?;
        Ok(last_id)
    }

    /// Appends every record in one transaction: only for building large test
    /// logs quickly.
    #[cfg(test)]
    pub(crate) fn append_batch(&mut self, records: &[CallRecord]) -> Result<()> {
        self.append_all(records).map(|_| ())
    }
}

/// A record with its place in the chain: its id, the hash before it, its
/// arguments' hash and its own hash.
struct Chained<'a> {
    record: &'a CallRecord,
    id: i64,
    prev_hash: String,
    arguments_hash: String,
    detail: Option<&'a str>,
    hash: String,
}

impl<'a> Chained<'a> {
    /// `record` as the row after `last_id`, whose hash is `last_hash`.
    fn new(
        record: &'a CallRecord,
        last_id: i64,
        last_hash: &str,
        path: &Path,
    ) -> Result<Chained<'a>> {
        // Ids are assigned here, not by SQLite, so they are gapless and part
        // of the hash: a gap then always means a deleted row.
        let id = last_id
            .checked_add(1)
            .ok_or_else(|| StoreError::CorruptRow {
                path: path.to_owned(),
                id: last_id,
                column: "id",
                detail: "the chain head's last id is at its maximum".to_owned(),
            })?;
        let arguments_hash = arguments_hash(&record.arguments);
        let detail = record
            .outcome_detail
            .as_deref()
            .map(|text| truncate(text, MAX_OUTCOME_DETAIL));
        let fields = [
            Field::Int(id),
            Field::Int(record.time_ms),
            Field::Text(&record.client),
            Field::Text(&record.server),
            Field::Text(&record.tool),
            Field::Text(&record.arguments),
            Field::Text(&arguments_hash),
            Field::Text(record.policy.as_str()),
            Field::Text(record.decision.as_str()),
            Field::Text(record.decided_by.as_str()),
            Field::Int(record.wait_ms),
            Field::Text(record.outcome.as_str()),
            detail.map_or(Field::Null, Field::Text),
            Field::Int(record.duration_ms),
        ];
        let hash = row_hash(last_hash, &fields);
        Ok(Chained {
            record,
            id,
            prev_hash: last_hash.to_owned(),
            arguments_hash,
            detail,
            hash,
        })
    }
}

/// How many rows one `INSERT` statement takes, largest first: a few fixed
/// sizes, so the statement cache holds a handful of statements. Each run of
/// the statement builds a temporary b-tree for every `CHECK (x IN (...))`
/// list of the schema; one multi-row statement builds them once for all its
/// rows (per row, they were most of SQLite's work).
const INSERT_SIZES: [usize; 4] = [64, 16, 4, 1];

/// The `INSERT` of `rows` rows, for each of [`INSERT_SIZES`].
static INSERTS: LazyLock<Vec<String>> = LazyLock::new(|| {
    INSERT_SIZES
        .iter()
        .map(|&rows| {
            let values = (0..rows)
                .map(|row| {
                    let first = row * 16 + 1;
                    let slots: Vec<String> = (first..first + 16).map(|n| format!("?{n}")).collect();
                    format!("({})", slots.join(", "))
                })
                .collect::<Vec<_>>()
                .join(", ");
            format!("INSERT INTO calls ({HASHED_COLUMNS}, prev_hash, hash) VALUES {values}")
        })
        .collect()
});

/// Inserts `rows` with one statement; `rows.len()` is one of [`INSERT_SIZES`].
fn insert_rows<'a>(conn: &Connection, rows: &'a [Chained<'a>]) -> rusqlite::Result<()> {
    let sql = INSERT_SIZES
        .iter()
        .position(|size| *size == rows.len())
        .and_then(|i| INSERTS.get(i))
        .ok_or(rusqlite::Error::InvalidParameterCount(rows.len(), 0))?;
    let text = |text: &'a str| ValueRef::Text(text.as_bytes());
    let mut values: Vec<ValueRef<'a>> = Vec::with_capacity(rows.len() * 16);
    for row in rows {
        let record = row.record;
        values.extend_from_slice(&[
            ValueRef::Integer(row.id),
            ValueRef::Integer(record.time_ms),
            text(&record.client),
            text(&record.server),
            text(&record.tool),
            text(&record.arguments),
            text(&row.arguments_hash),
            text(record.policy.as_str()),
            text(record.decision.as_str()),
            text(record.decided_by.as_str()),
            ValueRef::Integer(record.wait_ms),
            text(record.outcome.as_str()),
            row.detail.map_or(ValueRef::Null, text),
            ValueRef::Integer(record.duration_ms),
            text(&row.prev_hash),
            text(&row.hash),
        ]);
    }
    conn.prepare_cached(sql)?.execute(params_from_iter(
        values.into_iter().map(ToSqlOutput::Borrowed),
    ))?;
    Ok(())
}

/// The SQL and parameters for `filter`.
fn query_sql(filter: &Filter) -> (String, Vec<Value>) {
    let mut conditions = Vec::new();
    let mut values = Vec::new();
    let mut add = |condition: &str, value: Value| {
        values.push(value);
        conditions.push(format!("{condition} ?{}", values.len()));
    };
    if let Some(server) = &filter.server {
        add("server =", Value::Text(server.clone()));
    }
    if let Some(tool) = &filter.tool {
        add("tool =", Value::Text(tool.clone()));
    }
    if let Some(decision) = filter.decision {
        add("decision =", Value::Text(decision.as_str().to_owned()));
    }
    if let Some(since) = filter.since_ms {
        add("time_ms >=", Value::Integer(since));
    }
    if let Some(until) = filter.until_ms {
        add("time_ms <", Value::Integer(until));
    }
    if let Some(search) = &filter.search {
        values.push(Value::Text(format!("%{}%", escape_like(search))));
        conditions.push(format!("arguments LIKE ?{} ESCAPE '\\'", values.len()));
    }
    let mut sql = format!("SELECT {HASHED_COLUMNS}, prev_hash, hash FROM calls");
    if !conditions.is_empty() {
        sql.push_str(" WHERE ");
        sql.push_str(&conditions.join(" AND "));
    }
    // Ties in time go newest-appended first; SQLite reads the rowid from the
    // index, so this does not add a sort.
    sql.push_str(" ORDER BY time_ms DESC, id DESC");
    values.push(Value::Integer(filter.limit.map_or(-1, i64::from)));
    values.push(Value::Integer(i64::from(filter.offset)));
    sql.push_str(&format!(
        " LIMIT ?{} OFFSET ?{}",
        values.len() - 1,
        values.len()
    ));
    (sql, values)
}

/// Makes `%`, `_` and `\` in a search match themselves.
fn escape_like(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    escaped
}

enum ReadError {
    Sql(rusqlite::Error),
    Store(StoreError),
}

impl From<rusqlite::Error> for ReadError {
    fn from(e: rusqlite::Error) -> Self {
        ReadError::Sql(e)
    }
}

/// A row selected as `HASHED_COLUMNS, prev_hash, hash`.
fn read_row(row: &rusqlite::Row<'_>, path: &Path) -> Result<CallRow, ReadError> {
    let id: i64 = row.get(0)?;
    Ok(CallRow {
        id,
        record: CallRecord {
            time_ms: row.get(1)?,
            client: row.get(2)?,
            server: row.get(3)?,
            tool: row.get(4)?,
            arguments: row.get(5)?,
            policy: parse_column(row, 7, "policy", id, path)?,
            decision: parse_column(row, 8, "decision", id, path)?,
            decided_by: parse_column(row, 9, "decided_by", id, path)?,
            wait_ms: row.get(10)?,
            outcome: parse_column(row, 11, "outcome", id, path)?,
            outcome_detail: row.get(12)?,
            duration_ms: row.get(13)?,
        },
        arguments_hash: row.get(6)?,
        prev_hash: row.get(14)?,
        hash: row.get(15)?,
    })
}

/// Reads an enum column, naming the row and column if it holds something
/// the code never writes.
fn parse_column<T: std::str::FromStr<Err = String>>(
    row: &rusqlite::Row<'_>,
    idx: usize,
    column: &'static str,
    id: i64,
    path: &Path,
) -> Result<T, ReadError> {
    let text: String = row.get(idx)?;
    text.parse().map_err(|detail| {
        ReadError::Store(StoreError::CorruptRow {
            path: path.to_owned(),
            id,
            column,
            detail,
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::{DecidedBy, Outcome, Policy};
    use crate::testing::{record, temp_store};

    fn ids(rows: &[CallRow]) -> Vec<i64> {
        rows.iter().map(|row| row.id).collect()
    }

    #[test]
    fn a_checkpoint_leaves_the_whole_log_in_the_database_file() {
        let (_dir, path, mut store) = temp_store();
        store.append(&record(1)).unwrap();
        let wal = path.with_extension("db-wal");
        assert!(std::fs::metadata(&wal).unwrap().len() > 0);
        store.checkpoint().unwrap();
        assert_eq!(std::fs::metadata(&wal).unwrap().len(), 0);
        // The file alone, copied elsewhere, holds the row.
        let copy = path.with_file_name("copy.db");
        std::fs::copy(&path, &copy).unwrap();
        let rows = Store::open(&copy)
            .unwrap()
            .query(&Filter::default())
            .unwrap();
        assert_eq!(rows.len(), 1);
    }

    #[test]
    fn every_enum_value_passes_the_schemas_checks() {
        // The CHECK constraints are written out in the migration; a variant
        // added to an enum but not there would fail every such append.
        let (_dir, _path, mut store) = temp_store();
        let mut i = 0;
        let mut append = |edit: &dyn Fn(&mut CallRecord)| {
            i += 1;
            let mut row = record(i);
            edit(&mut row);
            store.append(&row).unwrap();
        };
        for &policy in Policy::ALL {
            append(&|r| r.policy = policy);
        }
        for &decision in Decision::ALL {
            append(&|r| r.decision = decision);
        }
        for &by in DecidedBy::ALL {
            append(&|r| r.decided_by = by);
        }
        for &outcome in Outcome::ALL {
            append(&|r| r.outcome = outcome);
        }
    }

    #[test]
    fn rows_appended_together_chain_exactly_as_rows_appended_one_by_one() {
        // Every statement size is used: 85 = 64 + 16 + 4 + 1.
        let records: Vec<CallRecord> = (1..=120)
            .map(|i| {
                let mut row = record(i);
                if i % 3 == 0 {
                    row.outcome = Outcome::Error;
                    row.outcome_detail = Some(format!("failure {i}"));
                }
                row
            })
            .collect();
        let (_one_dir, _one_path, mut one) = temp_store();
        for row in &records {
            one.append(row).unwrap();
        }
        let (_all_dir, _all_path, mut all) = temp_store();
        assert_eq!(all.append_all(&[]).unwrap(), 0);
        assert_eq!(all.append_all(&records[..85]).unwrap(), 85);
        assert_eq!(all.append(&records[85]).unwrap(), 86);
        assert_eq!(all.append_all(&records[86..]).unwrap(), 120);
        let one_rows = one.query(&Filter::default()).unwrap();
        assert_eq!(all.query(&Filter::default()).unwrap(), one_rows);
        assert_eq!(one_rows.len(), 120);
        assert!(all.verify().unwrap().is_ok());
    }

    #[test]
    fn append_returns_gapless_ids_and_rows_read_back() {
        let (_dir, _path, mut store) = temp_store();
        let mut first = record(1);
        first.decision = Decision::Denied;
        first.decided_by = DecidedBy::Timeout;
        first.policy = Policy::Deny;
        first.outcome = Outcome::NotRun;
        first.outcome_detail = Some("é".repeat(2_000));
        assert_eq!(store.append(&first).unwrap(), 1);
        assert_eq!(store.append(&record(2)).unwrap(), 2);

        let rows = store.query(&Filter::default()).unwrap();
        assert_eq!(ids(&rows), [2, 1]);
        let row = &rows[1];
        assert_eq!(row.arguments_hash, arguments_hash(r#"{"id":1}"#));
        assert_eq!(row.prev_hash, crate::GENESIS_HASH);
        assert_eq!(rows[0].prev_hash, row.hash);
        // The detail is cut on a character boundary, everything else intact.
        let detail = row.record.outcome_detail.clone().unwrap();
        assert!(detail.len() <= MAX_OUTCOME_DETAIL && detail.chars().all(|c| c == 'é'));
        assert_eq!(
            CallRecord {
                outcome_detail: first.outcome_detail.clone(),
                ..row.record.clone()
            },
            first
        );
    }

    #[test]
    fn filters_combine_and_results_are_newest_first() {
        let (_dir, _path, mut store) = temp_store();
        let plan = [
            (
                1,
                "notes",
                "read_note",
                Decision::Allowed,
                r#"{"q":"50% off"}"#,
            ),
            (2, "notes", "delete_note", Decision::Denied, r#"{"id":7}"#),
            (
                3,
                "files",
                "read_note",
                Decision::Allowed,
                r#"{"path":"a_b"}"#,
            ),
            (
                4,
                "notes",
                "read_note",
                Decision::Denied,
                r#"{"q":"FIFTY"}"#,
            ),
            (
                5,
                "notes",
                "read_note",
                Decision::Allowed,
                r#"{"q":"fifty"}"#,
            ),
        ];
        for (i, server, tool, decision, args) in plan {
            store
                .append(&CallRecord {
                    server: server.to_owned(),
                    tool: tool.to_owned(),
                    decision,
                    arguments: args.to_owned(),
                    ..record(i)
                })
                .unwrap();
        }
        let q = |filter: Filter| ids(&store.query(&filter).unwrap());
        assert_eq!(q(Filter::default()), [5, 4, 3, 2, 1]);
        let notes = || Filter {
            server: Some("notes".into()),
            ..Filter::default()
        };
        assert_eq!(q(notes()), [5, 4, 2, 1]);
        let read = Filter {
            tool: Some("read_note".into()),
            ..notes()
        };
        assert_eq!(q(read.clone()), [5, 4, 1]);
        assert_eq!(
            q(Filter {
                decision: Some(Decision::Denied),
                ..notes()
            }),
            [4, 2]
        );
        // since is inclusive, until exclusive.
        assert_eq!(
            q(Filter {
                since_ms: Some(2_000),
                until_ms: Some(5_000),
                ..Filter::default()
            }),
            [4, 3, 2]
        );
        // Search is a substring, ASCII case-insensitive, with % and _ literal.
        assert_eq!(
            q(Filter {
                search: Some("fifty".into()),
                ..Filter::default()
            }),
            [5, 4]
        );
        assert_eq!(
            q(Filter {
                search: Some("50%".into()),
                ..Filter::default()
            }),
            [1]
        );
        assert_eq!(
            q(Filter {
                search: Some("_".into()),
                ..Filter::default()
            }),
            [3]
        );
        assert_eq!(
            q(Filter {
                limit: Some(2),
                offset: 1,
                ..read
            }),
            [4, 1]
        );
    }

    #[test]
    fn the_filtered_query_on_a_large_log_returns_the_right_rows() {
        const ROWS: i64 = 100_000;
        let (_dir, _path, mut store) = temp_store();
        let records: Vec<CallRecord> = (0..ROWS)
            .map(|i| CallRecord {
                time_ms: i,
                server: format!("server{}", i % 10),
                tool: format!("tool{}", i % 7),
                ..record(i)
            })
            .collect();
        store.append_batch(&records).unwrap();
        let filter = Filter {
            server: Some("server3".into()),
            tool: Some("tool5".into()),
            since_ms: Some(50_000),
            limit: Some(100),
            ..Filter::default()
        };
        let rows = store.query(&filter).unwrap();
        let expected: Vec<i64> = (50_000..ROWS)
            .rev()
            .filter(|i| i % 10 == 3 && i % 7 == 5)
            .take(100)
            .collect();
        assert_eq!(expected.len(), 100);
        // Time i was appended as id i + 1.
        let times: Vec<i64> = rows.iter().map(|row| row.record.time_ms).collect();
        assert_eq!(times, expected);
        assert!(rows.iter().all(|row| row.id == row.record.time_ms + 1));
        assert!(
            rows.iter()
                .all(|row| row.record.server == "server3" && row.record.tool == "tool5")
        );
    }

    #[test]
    fn the_filtered_query_uses_an_index_in_time_order() {
        let (_dir, _path, store) = temp_store();
        let (sql, _) = query_sql(&Filter {
            server: Some("s".into()),
            tool: Some("t".into()),
            since_ms: Some(0),
            limit: Some(100),
            ..Filter::default()
        });
        let plan: Vec<String> = store
            .conn
            .prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
            .unwrap()
            .query_map(rusqlite::params!["s", "t", 0, 100, 0], |row| {
                row.get::<_, String>(3)
            })
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        let plan = plan.join("\n");
        assert!(plan.contains("calls_server_tool_time"), "{plan}");
        assert!(
            !plan.contains("TEMP B-TREE"),
            "sorts instead of walking the index: {plan}"
        );
    }
}
