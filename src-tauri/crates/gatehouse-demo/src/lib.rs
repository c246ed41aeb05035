//! The built-in demo MCP server, run by `gatehouse demo-server`.
//!
//! A small in-memory notes store with four tools whose annotations cover the
//! cases Gatehouse's approval policy cares about: `list_notes` and `read_note`
//! are read-only, `add_note` writes but is not destructive, and `delete_note`
//! is destructive. It is the server the first-run config points at, so the app
//! shows something real before the person adds anything.
//!
//! It speaks MCP over stdin/stdout through rmcp and writes nothing else to
//! stdout. It knows nothing of the rest of Gatehouse.
#![deny(missing_docs)]

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::{CallToolResult, ContentBlock, Implementation, ServerCapabilities, ServerConfig};
use rmcp::{ServerHandler, ServiceExt, schemars, tool, tool_handler, tool_router};
use serde::{Deserialize, Serialize};

/// Errors from running the demo server.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The MCP session could not be set up on stdio.
    #[error("demo server failed to start: {0}")]
    Start(String),
    /// The session's task ended abnormally.
    #[error("demo server stopped abnormally: {0}")]
    Run(#[from] tokio::task::JoinError),
}

/// Serves the demo server on this process's stdin and stdout until the
/// client closes stdin.
///
/// # Errors
/// [`Error::Start`] when the handshake fails, [`Error::Run`] when the session
/// task panics.
pub async fn run_stdio() -> Result<(), Error> {
    let service = NotesServer::new()
        .serve(rmcp::transport::io::stdio_pipes())
        .await
        .map_err(|err| Error::Start(err.to_string()))?;
    service.waiting().await?;
    Ok(())
}

/// A note in the store.
#[derive(Debug, Clone, Serialize)]
struct Note {
    id: u64,
    title: String,
    body: String,
}

#[derive(Debug, Default)]
struct Notes {
    next_id: u64,
    notes: BTreeMap<u64, Note>,
}

impl Notes {
    fn add(&mut self, title: String, body: String) -> Note {
        self.next_id += 1;
        let note = Note {
            id: self.next_id,
            title,
            body,
        };
        self.notes.insert(note.id, note.clone());
        note
    }
}

/// The demo MCP server. Cloning shares the store.
#[derive(Debug, Clone)]
pub struct NotesServer {
    notes: Arc<Mutex<Notes>>,
    tool_router: ToolRouter<NotesServer>,
}

impl Default for NotesServer {
    fn default() -> Self {
        NotesServer::new()
    }
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
struct NoteId {
    /// The note's id, as shown by `list_notes`.
    id: u64,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
struct NewNote {
    /// A short title.
    title: String,
    /// The note's text.
    body: String,
}

#[tool_router]
impl NotesServer {
    /// A store seeded with one welcome note.
    pub fn new() -> NotesServer {
        let mut notes = Notes::default();
        notes.add(
            "Welcome to Gatehouse".to_owned(),
            "This note lives in the built-in demo server. Ask your AI client to list, read, \
             add or delete notes: deleting one is destructive, so Gatehouse asks you first."
                .to_owned(),
        );
        NotesServer {
            notes: Arc::new(Mutex::new(notes)),
            tool_router: NotesServer::tool_router(),
        }
    }

    /// Lists every note's id and title.
    #[tool(annotations(title = "List notes", read_only_hint = true))]
    fn list_notes(&self) -> Result<CallToolResult, rmcp::ErrorData> {
        let notes = self.lock();
        let list: Vec<serde_json::Value> = notes
            .notes
            .values()
            .map(|note| serde_json::json!({ "id": note.id, "title": note.title }))
            .collect();
        let text = serde_json::to_string_pretty(&list).unwrap_or_default();
        Ok(CallToolResult::success(vec![ContentBlock::text(text)]))
    }

    /// Reads one note: its title and body.
    #[tool(annotations(title = "Read a note", read_only_hint = true))]
    fn read_note(&self, Parameters(NoteId { id }): Parameters<NoteId>) -> CallToolResult {
        match self.lock().notes.get(&id) {
            Some(note) => CallToolResult::success(vec![ContentBlock::text(format!(
                "# {}\n\n{}",
                note.title, note.body
            ))]),
            None => no_such_note(id),
        }
    }

    /// Adds a note and returns its id.
    #[tool(annotations(
        title = "Add a note",
        read_only_hint = false,
        destructive_hint = false,
        idempotent_hint = false,
        open_world_hint = false
    ))]
    fn add_note(&self, Parameters(NewNote { title, body }): Parameters<NewNote>) -> CallToolResult {
        let note = self.lock().add(title, body);
        CallToolResult::success(vec![ContentBlock::text(format!("added note {}", note.id))])
    }

    /// Deletes a note for good.
    #[tool(annotations(
        title = "Delete a note",
        read_only_hint = false,
        destructive_hint = true,
        idempotent_hint = true,
        open_world_hint = false
    ))]
    fn delete_note(&self, Parameters(NoteId { id }): Parameters<NoteId>) -> CallToolResult {
        match self.lock().notes.remove(&id) {
            Some(note) => CallToolResult::success(vec![ContentBlock::text(format!(
                "deleted note {} ({})",
                note.id, note.title
            ))]),
            None => no_such_note(id),
        }
    }
}

impl NotesServer {
    fn lock(&self) -> std::sync::MutexGuard<'_, Notes> {
        // A panic while holding the lock cannot leave the map half-updated
        // (every mutation is a single insert or remove), so poison is harmless.
        self.notes
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

fn no_such_note(id: u64) -> CallToolResult {
    CallToolResult::error(vec![ContentBlock::text(format!(
        "there is no note with id {id}; call list_notes to see the ids"
    ))])
}

#[tool_handler(router = self.tool_router)]
impl ServerHandler for NotesServer {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(Implementation::new(
                "gatehouse-demo",
                env!("CARGO_PKG_VERSION"),
            ))
            .with_instructions("A small notes store built into Gatehouse, for trying things out.")
    }
}

#[cfg(test)]
mod tests;
