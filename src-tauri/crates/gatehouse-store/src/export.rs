//! Exporting a query as JSON or CSV, streamed row by row so a whole log
//! never has to fit in memory.

use std::io::Write;

use serde::Serialize;
use serde_json::value::RawValue;

use crate::calls::Filter;
use crate::error::{Result, StoreError};
use crate::record::CallRow;
use crate::store::Store;

/// The CSV columns, in order.
const CSV_HEADER: [&str; 16] = [
    "id",
    "time_ms",
    "client",
    "server",
    "tool",
    "arguments",
    "arguments_hash",
    "policy",
    "decision",
    "decided_by",
    "wait_ms",
    "outcome",
    "outcome_detail",
    "duration_ms",
    "prev_hash",
    "hash",
];

impl Store {
    /// Writes the rows matching `filter` as one JSON array of objects, newest
    /// first. `arguments` is embedded as JSON when it is valid JSON, and as a
    /// string otherwise. Returns how many rows it wrote.
    pub fn write_json(&self, filter: &Filter, mut out: impl Write) -> Result<usize> {
        let io = |source| StoreError::ExportIo { source };
        out.write_all(b"[").map_err(io)?;
        let mut rows = 0;
        self.for_each(filter, |row| {
            out.write_all(if rows == 0 { b"\n" } else { b",\n" })
                .map_err(io)?;
            rows += 1;
            serde_json::to_writer(&mut out, &JsonRow::new(&row))
                .map_err(|source| StoreError::ExportJson { source })
        })?;
        out.write_all(if rows == 0 { b"]\n" } else { b"\n]\n" })
            .map_err(io)?;
        out.flush().map_err(io)?;
        Ok(rows)
    }

    /// Writes the rows matching `filter` as CSV (RFC 4180 quoting) with a
    /// header line, newest first. Returns how many rows it wrote.
    pub fn write_csv(&self, filter: &Filter, out: impl Write) -> Result<usize> {
        let csv_err = |source| StoreError::ExportCsv { source };
        let mut writer = csv::Writer::from_writer(out);
        writer.write_record(CSV_HEADER).map_err(csv_err)?;
        let mut rows = 0;
        self.for_each(filter, |row| {
            rows += 1;
            let r = &row.record;
            writer
                .write_record([
                    row.id.to_string().as_str(),
                    &r.time_ms.to_string(),
                    &r.client,
                    &r.server,
                    &r.tool,
                    &r.arguments,
                    &row.arguments_hash,
                    r.policy.as_str(),
                    r.decision.as_str(),
                    r.decided_by.as_str(),
                    &r.wait_ms.to_string(),
                    r.outcome.as_str(),
                    r.outcome_detail.as_deref().unwrap_or(""),
                    &r.duration_ms.to_string(),
                    &row.prev_hash,
                    &row.hash,
                ])
                .map_err(csv_err)
        })?;
        writer
            .flush()
            .map_err(|source| StoreError::ExportIo { source })?;
        Ok(rows)
    }
}

/// A row as exported to JSON: the row's fields, with `arguments` raw.
#[derive(Serialize)]
struct JsonRow<'a> {
    id: i64,
    time_ms: i64,
    client: &'a str,
    server: &'a str,
    tool: &'a str,
    arguments: Arguments<'a>,
    arguments_hash: &'a str,
    policy: &'a str,
    decision: &'a str,
    decided_by: &'a str,
    wait_ms: i64,
    outcome: &'a str,
    outcome_detail: Option<&'a str>,
    duration_ms: i64,
    prev_hash: &'a str,
    hash: &'a str,
}

#[derive(Serialize)]
#[serde(untagged)]
enum Arguments<'a> {
    Json(&'a RawValue),
    Text(&'a str),
}

impl<'a> JsonRow<'a> {
    fn new(row: &'a CallRow) -> Self {
        let r = &row.record;
        // The caller stores JSON text, but the store does not enforce it:
        // anything else is still exported, as a string.
        let arguments = serde_json::from_str::<&RawValue>(&r.arguments)
            .map_or(Arguments::Text(&r.arguments), Arguments::Json);
        JsonRow {
            id: row.id,
            time_ms: r.time_ms,
            client: &r.client,
            server: &r.server,
            tool: &r.tool,
            arguments,
            arguments_hash: &row.arguments_hash,
            policy: r.policy.as_str(),
            decision: r.decision.as_str(),
            decided_by: r.decided_by.as_str(),
            wait_ms: r.wait_ms,
            outcome: r.outcome.as_str(),
            outcome_detail: r.outcome_detail.as_deref(),
            duration_ms: r.duration_ms,
            prev_hash: &row.prev_hash,
            hash: &row.hash,
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::calls::Filter;
    use crate::record::CallRecord;
    use crate::testing::{record, temp_store};

    fn awkward() -> CallRecord {
        CallRecord {
            client: "my, client/1.0".to_owned(),
            arguments: "{\"text\":\"a, \\\"quoted\\\" word\\nand a newline\"}".to_owned(),
            outcome_detail: Some("line one\nline \"two\", end".to_owned()),
            ..record(1)
        }
    }

    #[test]
    fn csv_quotes_commas_quotes_and_newlines() {
        let (_dir, _path, mut store) = temp_store();
        store.append(&awkward()).unwrap();
        store
            .append(&CallRecord {
                arguments: "{\"id\":2}\r\n".to_owned(),
                ..record(2)
            })
            .unwrap();
        let mut out = Vec::new();
        store.write_csv(&Filter::default(), &mut out).unwrap();
        let text = String::from_utf8(out.clone()).unwrap();
        assert!(
            text.starts_with("id,time_ms,client,server,tool,arguments,"),
            "{text}"
        );
        // RFC 4180: such fields are quoted and inner quotes doubled.
        assert!(text.contains("\"my, client/1.0\""), "{text}");
        assert!(
            text.contains("\"line one\nline \"\"two\"\", end\""),
            "{text}"
        );

        // And a CSV reader gets every field back exactly.
        let mut reader = csv::Reader::from_reader(out.as_slice());
        let records: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
        assert_eq!(records.len(), 2);
        let (newest, oldest) = (&records[0], &records[1]);
        assert_eq!(&newest[0], "2");
        assert_eq!(&newest[5], "{\"id\":2}\r\n");
        let expected = awkward();
        assert_eq!(&oldest[0], "1");
        assert_eq!(&oldest[2], expected.client);
        assert_eq!(&oldest[5], expected.arguments);
        assert_eq!(&oldest[12], expected.outcome_detail.unwrap());
        assert_eq!(&oldest[7], "ask");
        assert_eq!(oldest.len(), 16);
    }

    #[test]
    fn json_is_an_array_with_arguments_embedded() {
        let (_dir, _path, mut store) = temp_store();
        let mut out = Vec::new();
        store.write_json(&Filter::default(), &mut out).unwrap();
        assert_eq!(
            serde_json::from_slice::<serde_json::Value>(&out).unwrap(),
            serde_json::json!([])
        );

        store.append(&awkward()).unwrap();
        store
            .append(&CallRecord {
                arguments: "not json".to_owned(),
                ..record(2)
            })
            .unwrap();
        let mut out = Vec::new();
        store.write_json(&Filter::default(), &mut out).unwrap();
        let value: serde_json::Value = serde_json::from_slice(&out).unwrap();
        let rows = value.as_array().unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0]["id"], 2);
        assert_eq!(rows[0]["arguments"], "not json");
        assert_eq!(
            rows[1]["arguments"]["text"],
            "a, \"quoted\" word\nand a newline"
        );
        assert_eq!(rows[1]["client"], "my, client/1.0");
        assert_eq!(rows[1]["decided_by"], "dialog");
        assert_eq!(rows[1]["outcome_detail"], "line one\nline \"two\", end");
        assert_eq!(rows[1]["prev_hash"], crate::GENESIS_HASH);
        assert_eq!(rows[0]["prev_hash"], rows[1]["hash"]);
    }

    #[test]
    fn exports_follow_the_filter() {
        let (_dir, _path, mut store) = temp_store();
        for i in 1..=3 {
            store.append(&record(i)).unwrap();
        }
        let filter = Filter {
            since_ms: Some(2_000),
            ..Filter::default()
        };
        let mut out = Vec::new();
        assert_eq!(store.write_json(&filter, &mut out).unwrap(), 2);
        let value: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(value.as_array().unwrap().len(), 2);
        let mut out = Vec::new();
        assert_eq!(store.write_csv(&filter, &mut out).unwrap(), 2);
        assert_eq!(
            csv::Reader::from_reader(out.as_slice()).records().count(),
            2
        );
    }
}
