//! The store's writer: one thread that appends call records and writes pins,
//! so a call never waits on SQLite. Rows are committed together, in one
//! transaction: under load, a commit per row was most of its work. While
//! other calls are running, the writer waits a few milliseconds for their
//! rows before it commits; with one call at a time it commits each row at
//! once (waiting there saved nothing and, measured, made calls slower).
//!
//! Reads (the log view, exports, verify) share the same [`Store`] behind a
//! mutex; SQLite's WAL keeps them cheap. The thread ends when the last
//! [`Recorder`] is dropped, after writing what was queued.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

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
    in_flight: Arc<AtomicUsize>,
}

/// An allowed call that has not been logged yet: counted so the writer
/// knows more rows are on their way. Ends with [`Recorder::append_finished`].
pub(crate) struct InFlight(Arc<AtomicUsize>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

impl Recorder {
    pub(crate) fn start(store: Store) -> Recorder {
        let store = Arc::new(Mutex::new(store));
        let (jobs, queue) = mpsc::channel();
        let (appended_tx, appended) = watch::channel(0);
        let in_flight = Arc::new(AtomicUsize::new(0));
        let shared = store.clone();
        let others = in_flight.clone();
        let spawned = std::thread::Builder::new()
            .name("gatehouse-store".into())
            .spawn(move || write_jobs(&shared, &queue, &appended_tx, &others));
        if let Err(err) = spawned {
            tracing::error!(%err, "cannot start the call log writer; calls will not be logged");
        }
        Recorder {
            jobs,
            store,
            appended,
            in_flight,
        }
    }

    pub(crate) fn append(&self, record: CallRecord) {
        self.send(Job::Append(Box::new(record)));
    }

    /// Counts an allowed call from now until its row is handed over.
    pub(crate) fn in_flight(&self) -> InFlight {
        self.in_flight.fetch_add(1, Ordering::Relaxed);
        InFlight(self.in_flight.clone())
    }

    /// Appends the row of the `call` that just finished.
    pub(crate) fn append_finished(&self, call: InFlight, record: CallRecord) {
        // No longer running once its row is on the way.
        drop(call);
        self.append(record);
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

/// The most rows committed in one transaction: enough to amortize a
/// commit, small enough that a reader waiting on the store's lock is not
/// held up for long.
const MAX_BATCH: usize = 512;

/// How long the writer waits for the rows of calls still in flight before
/// it commits, when at least [`OTHERS`] are. A row reaches the file at most
/// this much later; a flush (shutdown) still writes every row sent before
/// it.
const GATHER: Duration = Duration::from_millis(5);

/// How many calls must be in flight for the writer to wait for their rows.
/// With one client calling one tool at a time, the next call may already be
/// in flight when the writer looks; waiting for it was measured to slow
/// calls down, so it takes two to mean concurrent calls.
const OTHERS: usize = 2;

fn write_jobs(
    store: &Mutex<Store>,
    queue: &mpsc::Receiver<Job>,
    appended: &watch::Sender<u64>,
    in_flight: &AtomicUsize,
) {
    let mut batch: Vec<CallRecord> = Vec::new();
    while let Ok(first) = queue.recv() {
        // Every row that queued up behind this one is committed with it;
        // jobs still run in the order they were sent.
        let mut next = Some(first);
        while let Some(job) = next.take() {
            let Job::Append(record) = job else {
                run(&mut lock(store), job);
                continue;
            };
            batch.push(*record);
            if in_flight.load(Ordering::Relaxed) >= OTHERS {
                std::thread::sleep(GATHER);
            }
            while batch.len() < MAX_BATCH {
                match queue.try_recv() {
                    Ok(Job::Append(record)) => batch.push(*record),
                    Ok(other) => {
                        next = Some(other);
                        break;
                    }
                    Err(_) => break,
                }
            }
            let written = append_batch(&mut lock(store), &mut batch);
            if written > 0 {
                appended.send_modify(|n| *n += written);
            }
        }
    }
}

fn lock(store: &Mutex<Store>) -> MutexGuard<'_, Store> {
    store.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Appends and empties `batch`; returns how many rows were written.
fn append_batch(store: &mut Store, batch: &mut Vec<CallRecord>) -> u64 {
    let count = batch.len() as u64;
    let written = match store.append_all(batch) {
        Ok(_) => count,
        // The transaction rolled back: append row by row, so one row that
        // cannot be written costs only itself, and is reported as before.
        Err(_) if batch.len() > 1 => batch
            .iter()
            .filter(|record| append_one(store, record))
            .count() as u64,
        Err(err) => {
            if let Some(record) = batch.first() {
                report(&err, record);
            }
            0
        }
    };
    batch.clear();
    written
}

fn append_one(store: &mut Store, record: &CallRecord) -> bool {
    match store.append(record) {
        Ok(_) => true,
        Err(err) => {
            report(&err, record);
            false
        }
    }
}

fn report(err: &gatehouse_store::StoreError, record: &CallRecord) {
    tracing::error!(%err, server = %record.server, tool = %record.tool, "a call could not be logged");
}

/// Runs one job; appends normally go through [`append_batch`] instead.
fn run(store: &mut Store, job: Job) {
    match job {
        Job::Append(record) => {
            append_one(store, &record);
        }
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
