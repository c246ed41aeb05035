//! Gatehouse's durable record of approvals: the tool-call log and tool pins.
//!
//! Every `tools/call` that passes through Gatehouse ends as one row of the call
//! log: who asked, what was asked, what the policy said, who decided, and how
//! the call went. Each row is hash-chained to the one before it, and a one-row
//! chain head records where the chain ends, so [`Store::verify`] can name the
//! first row that was edited, inserted or deleted behind Gatehouse's back.
//! Pins remember the exact definition of every tool seen, so a server that
//! quietly changes a tool (a new description, a flipped `destructiveHint`)
//! loses its "always allow" until a person looks again.
//!
//! The store is one SQLite file (bundled SQLite, WAL) with versioned
//! migrations. It is synchronous and knows nothing about Tauri, async runtimes
//! or MCP; callers own the [`Store`] (it is `Send`, not `Sync`: share it behind
//! a mutex).
//!
//! The chain is tamper-*evident* against edits made with an SQLite tool: it
//! has no secret key, so someone who rewrites every later row and the head
//! consistently is not detected.
//!
//! # Layout
//! - `store`: [`Store`], opening a file and the connection settings.
//! - `migrations`: the schema, as numbered SQL steps.
//! - `record`: the row types ([`CallRecord`], [`CallRow`]) and their enums.
//! - `chain`: the canonical row encoding, hashing and [`Store::verify`].
//! - `calls`: appending, querying and pruning the call log.
//! - `export`: JSON and CSV export of a query.
//! - `pins`: tool-definition pins and the always-allow flag.
//! - `error`: [`StoreError`], which names the file and row involved.
#![deny(missing_docs)]

mod calls;
mod chain;
mod error;
mod export;
mod migrations;
mod pins;
mod record;
mod store;

pub use crate::calls::Filter;
pub use crate::chain::{GENESIS_HASH, VerifyReport};
pub use crate::error::{Result, StoreError};
pub use crate::pins::{Pin, PinStatus, definition_hash};
pub use crate::record::{CallRecord, CallRow, DecidedBy, Decision, Outcome, Policy};
pub use crate::store::Store;

#[cfg(test)]
mod testing;
