//! The benchmark load generator behind `loadgen`: N concurrent MCP sessions,
//! each making M sequential calls of one tool, over Streamable HTTP or stdio,
//! with latency percentiles from an HDR histogram.
//!
//! The client is deliberately lean: it writes the JSON-RPC text itself and
//! reads back only the fields it needs (`id`, `result.isError`, `error`), so
//! the time it adds per call is small and identical for every contender.
//! `http` speaks Streamable HTTP (legacy session era: `initialize`,
//! `Mcp-Session-Id`, JSON or SSE answers, `DELETE` at the end), `stdio`
//! speaks newline-delimited JSON-RPC to one child process per session, and
//! `run` drives the sessions and gathers the figures `report` prints.
#![deny(missing_docs)]

pub mod http;
pub mod jsonrpc;
pub mod report;
pub mod run;
pub mod stdio;
