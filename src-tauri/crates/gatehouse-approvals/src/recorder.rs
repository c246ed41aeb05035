//! The store's writer: one thread that appends call records and writes pins,
//! so a call never waits on SQLite.
//!
//! Reads (the log view, exports, verify) share the same [`Store`] behind a
//! mutex; SQLite's WAL keeps them cheap. The thread ends when the last
//! [`Recorder`] is dropped, after writing what was queued.

use std::sync::mpsc;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use gatehouse_store::{CallRecord, Store};
use serde_json::Value;
use tokio::sync::watch;

enum Job {
    Append(Box<CallRecord>),
    Pin {
        server: String,
        tool: String,
        definition: Value,
        always_allow: bool,
    },
    SetAlwaysAllow {
        server: String,
        tool: String,
        always_allow: bool,
    },
    Prune {
        before_ms: i64,
    },
    Flush {
        done: mpsc::Sender<()>,
        checkpoint: bool,
    },
}

/// The handle to the writer thread and the store it writes.
#[derive(Clone)]
pub(crate) struct Recorder {
    jobs: mpsc::Sender<Job>,
    store: Arc<Mutex<Store>>,
    appended: watch::Receiver<u64>,
}

impl Recorder {
    pub(crate) fn start(store: Store) -> Recorder {
        let store = Arc::new(Mutex::new(store));
        let (jobs, queue) = mpsc::channel();
        let (appended_tx, appended) = watch::channel(0);
        let shared = store.clone();
        let spawned = std::thread::Builder::new()
            .name("gatehouse-store".into())
            .spawn(move || write_jobs(&shared, &queue, &appended_tx));
        if let Err(err) = spawned {
            tracing::error!(%err, "cannot start the call log writer; calls will not be logged");
        }
        Recorder {
            jobs,
            store,
            appended,
        }
    }

    pub(crate) fn append(&self, record: CallRecord) {
        self.send(Job::Append(Box::new(record)));
    }

    pub(crate) fn pin(&self, server: &str, tool: &str, definition: Value, always_allow: bool) {
        self.send(Job::Pin {
            server: server.to_owned(),
            tool: tool.to_owned(),
            definition,
            always_allow,
        });
    }

    pub(crate) fn set_always_allow(&self, server: &str, tool: &str, always_allow: bool) {
        self.send(Job::SetAlwaysAllow {
            server: server.to_owned(),
            tool: tool.to_owned(),
            always_allow,
        });
    }

    pub(crate) fn prune(&self, before_ms: i64) {
        self.send(Job::Prune { before_ms });
    }

    /// Waits until everything queued so far is written; with `checkpoint`,
    /// also until it is in the database file itself (at shutdown).
    pub(crate) fn flush(&self, checkpoint: bool) {
        let (done, wait) = mpsc::channel();
        self.send(Job::Flush { done, checkpoint });
        let _ = wait.recv();
    }

    /// A counter that moves on every appended row.
    pub(crate) fn appended(&self) -> watch::Receiver<u64> {
        self.appended.clone()
    }

    /// The store, for reads; a poisoned lock is still a usable store.
    pub(crate) fn store(&self) -> MutexGuard<'_, Store> {
        self.store.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn send(&self, job: Job) {
        if self.jobs.send(job).is_err() {
            tracing::error!("the call log writer has stopped; a record was lost");
        }
    }
}

fn write_jobs(store: &Mutex<Store>, queue: &mpsc::Receiver<Job>, appended: &watch::Sender<u64>) {
    while let Ok(job) = queue.recv() {
        let mut store = store.lock().unwrap_or_else(PoisonError::into_inner);
        match job {
            Job::Append(record) => match store.append(&record) {
                Ok(_) => appended.send_modify(|n| *n += 1),
                Err(err) => {
                    tracing::error!(%err, server = %record.server, tool = %record.tool, "a call could not be logged")
                }
            },
            Job::Pin {
                server,
                tool,
                definition,
                always_allow,
            } => {
                // `pin` leaves a new or changed pin without always-allow.
                let result = store.pin(&server, &tool, &definition).and_then(|_| {
                    if always_allow {
                        store.set_always_allow(&server, &tool, true)
                    } else {
                        Ok(())
                    }
                });
                if let Err(err) = result {
                    tracing::error!(%err, %server, %tool, "a tool pin could not be written");
                }
            }
            Job::SetAlwaysAllow {
                server,
                tool,
                always_allow,
            } => {
                if let Err(err) = store.set_always_allow(&server, &tool, always_allow) {
                    tracing::error!(%err, %server, %tool, "always-allow could not be written");
                }
            }
            Job::Prune { before_ms } => match store.prune_before(before_ms) {
                Ok(0) => {}
                Ok(rows) => tracing::info!(rows, "pruned the call log (retention)"),
                Err(err) => tracing::error!(%err, "the call log could not be pruned"),
            },
            Job::Flush { done, checkpoint } => {
                if checkpoint && let Err(err) = store.checkpoint() {
                    tracing::warn!(%err, "the call log stays in its write-ahead log until the next start");
                }
                let _ = done.send(());
            }
        }
    }
}
