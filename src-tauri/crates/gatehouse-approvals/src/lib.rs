//! Gatehouse's approvals: whether a tool call may run, who said so, and the
//! record of it.
//!
//! Every `tools/call` through the gateway (and so through the bridge) passes
//! [`Approvals::gate`]. The policy (`policy`) takes the user's rule for the
//! tool, then whether its definition changed since it was pinned, then
//! "always allow", then a default from the tool's annotations. A call that
//! must ask waits in a queue that the GUI's dialog and `gatehouse approvals`
//! answer ([`Approvals::answer`]); nobody answering in time denies it. Every
//! call ends as one row of the hash-chained log in `gatehouse-store`, written
//! by a thread of its own (`recorder`) so no call waits on SQLite.
//!
//! This crate knows nothing of HTTP, MCP sessions, Tauri or the control
//! socket: the gateway hands it calls, and the core exposes the queue.
//!
//! # Layout
//! - `approvals`: [`Approvals`], the gate, the queue and [`Ticket`].
//! - `policy`: the rules that decide without asking.
//! - `diff`: what changed between two definitions of a tool.
//! - `scrub`: masking secrets in arguments.
//! - `recorder`: the thread that writes the store.
#![deny(missing_docs)]

mod approvals;
mod diff;
mod policy;
mod recorder;
mod scrub;

pub use crate::approvals::{
    Answer, Approvals, Call, Gate, Hints, NotPending, PendingCall, Ticket, ToolPolicy,
};
pub use crate::diff::Change;
pub use crate::policy::{Reason, Verdict};
pub use crate::scrub::MASK;
pub use gatehouse_store::{DecidedBy, Outcome};
