//! The seam between the core and the windows.
//!
//! Gatehouse's windows run in a process of their own (`gatehouse-app`), so
//! that the resident process holds no web engine. They reach the core
//! through the control channel: `Invoke` runs one of the GUI's commands,
//! `Watch` streams the changes the windows show. What those commands and
//! events are, and the JSON shapes of the views, belong to the layer above
//! the core (the `gatehouse` crate's `desk`), which implements [`Desk`] and
//! hands it to [`crate::Core::serve_windows`]. The core only carries it.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, OnceLock};

use serde::{Deserialize, Serialize};
use tokio::sync::broadcast;

/// A window command that failed: `kind` for the UI to switch on, `message`
/// for the person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Failure {
    /// What went wrong, e.g. `NoSuchServer`.
    pub kind: String,
    /// A sentence for people.
    pub message: String,
}

/// Something the windows show changed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// The event's name, e.g. `servers-changed`.
    pub name: String,
    /// What the windows need of it.
    pub payload: serde_json::Value,
}

/// A running window command.
pub type Invocation = Pin<Box<dyn Future<Output = Result<serde_json::Value, Failure>> + Send>>;

/// The windows' commands and events, run in the core's process.
pub trait Desk: Send + Sync {
    /// Runs `command` with its named `args` (a JSON object).
    fn invoke(&self, command: String, args: serde_json::Value) -> Invocation;
    /// The events that describe the present state, for a window process
    /// that starts watching (or fell behind).
    fn snapshot(&self) -> Vec<Event>;
    /// Every change from now on.
    fn subscribe(&self) -> broadcast::Receiver<Event>;
}

/// Where the core keeps the desk once one is installed; shared with the
/// control channel, which starts before the desk is.
#[derive(Clone, Default)]
pub(crate) struct DeskSlot(Arc<OnceLock<Arc<dyn Desk>>>);

impl DeskSlot {
    pub(crate) fn get(&self) -> Option<&Arc<dyn Desk>> {
        self.0.get()
    }

    /// `false` when one was installed already.
    pub(crate) fn set(&self, desk: Arc<dyn Desk>) -> bool {
        self.0.set(desk).is_ok()
    }
}

impl std::fmt::Debug for DeskSlot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeskSlot")
            .field("installed", &self.0.get().is_some())
            .finish()
    }
}
