//! [`Approvals`]: every tool call's way through the policy, the queue of calls
//! waiting for a person, and into the call log.
//!
//! The gateway calls [`Approvals::gate`] before it forwards a call. A call
//! the policy allows gets a [`Ticket`] at once (no lock held across an await,
//! no SQLite on the way); one it denies is logged and refused; one it asks
//! about joins the queue, which the GUI and `gatehouse approvals` watch and
//! answer through [`Approvals::answer`]. A call that waits longer than the
//! timeout is denied; a call its client cancels leaves the queue.

use std::borrow::Borrow;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use gatehouse_config::{ApprovalSettings, Rule};
use gatehouse_store::{
    CallRecord, DecidedBy, Decision, Outcome, Policy, Store, StoreError, definition_hash,
};
use gatehouse_supervisor::{Scrubber, ToolInfo};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use tokio::sync::{oneshot, watch};
// Tokio's clock, so waits are measured on the same clock the timeout runs on.
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::diff::{Change, changes};
use crate::policy::{PinState, Verdict, default_verdict, evaluate};
use crate::recorder::{InFlight, Recorder};
use crate::scrub::scrub_arguments;

/// A person's answer to a waiting call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Answer {
    /// Run this call.
    AllowOnce,
    /// Run this call and every later call to the tool, until its
    /// definition changes.
    AllowAlways,
    /// Do not run it.
    Deny,
}

/// The annotation hints of a tool, as badges.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Hints {
    /// `readOnlyHint`.
    pub read_only: bool,
    /// Effectively destructive (not read-only, `destructiveHint` not false).
    pub destructive: bool,
    /// `idempotentHint`.
    pub idempotent: bool,
    /// `openWorldHint`.
    pub open_world: bool,
}

/// A call waiting for a person, as the dialog and the CLI show it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PendingCall {
    /// The id `gatehouse approvals approve|deny` takes; unique per run.
    pub id: u64,
    /// The server's name.
    pub server: String,
    /// The tool's name on that server.
    pub tool: String,
    /// The tool's human title, if it has one.
    pub title: Option<String>,
    /// The tool's description, if it has one.
    pub description: Option<String>,
    /// Its annotation hints.
    pub annotations: Hints,
    /// The arguments, secrets masked.
    pub arguments: Value,
    /// The client that asked, `name/version`.
    pub client: String,
    /// Why Gatehouse asks, as a sentence.
    pub reason_text: String,
    /// What changed in the tool's definition; empty unless that is why.
    pub changes: Vec<Change>,
    /// When the call arrived (Unix ms).
    pub asked_at_ms: i64,
    /// When it will be denied unless answered (Unix ms).
    pub deadline_ms: i64,
}

/// A tool's policy, for the Servers view.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ToolPolicy {
    /// The user's rule, if any.
    pub rule: Option<Rule>,
    /// What a call gets now.
    pub effective: Verdict,
    /// What it would get without the user's rule (and without always-allow).
    pub default: Verdict,
    /// Whether "always allow" is on.
    pub always_allow: bool,
    /// Whether the definition changed since it was last accepted.
    pub changed: bool,
}

/// What [`Approvals::gate`] decided.
#[derive(Debug)]
pub enum Gate {
    /// Forward the call, then [`Ticket::finish`] it.
    Proceed(Ticket),
    /// Do not forward it; answer with this sentence as an `isError` result.
    /// The call is already logged.
    Refuse(String),
}

/// [`Approvals::answer`] found nothing to answer.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error(
    "no call is waiting with id {0}: it was answered, withdrawn by its client, or timed out (`gatehouse approvals --pending` lists the waiting ones)"
)]
pub struct NotPending(pub u64);

/// One tool call, as the gateway hands it over.
#[derive(Debug, Clone)]
pub struct Call {
    /// The server's name.
    pub server: String,
    /// The tool, as the server currently defines it. Shared: the gateway
    /// passes the same `Arc` for every call until the tool list changes, and
    /// the pin check remembers the hash of the definition behind it.
    pub tool: Arc<ToolInfo>,
    /// The arguments as the client sent them.
    pub arguments: Option<Map<String, Value>>,
    /// The client, `name/version` (or "unknown client").
    pub client: String,
    /// The server's secret values, to mask.
    pub scrubber: Scrubber,
}

/// The approvals: policy, pins, the waiting queue and the log writer.
/// Cheap to clone; every clone is the same queue.
#[derive(Clone)]
pub struct Approvals {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Approvals {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Approvals")
            .field("pending", &self.inner.queue().entries.len())
            .finish_non_exhaustive()
    }
}

struct Inner {
    settings: RwLock<ApprovalSettings>,
    /// server → tool → the accepted definition.
    pins: Mutex<HashMap<String, HashMap<String, CachedPin>>>,
    queue: Mutex<Queue>,
    pending: watch::Sender<Vec<PendingCall>>,
    recorder: Recorder,
}

struct CachedPin {
    hash: String,
    definition: Value,
    always_allow: bool,
    /// The tool a call was last checked against, and whether its definition
    /// hashes to `hash`: hashing the canonical definition on every call was
    /// a measurable part of a call's cost, and the gateway hands in the same
    /// `Arc` until the server's tool list changes. Holding the `Arc` keeps
    /// its address from being reused by another definition.
    checked: Option<(Arc<ToolInfo>, bool)>,
}

#[derive(Default)]
struct Queue {
    next_id: u64,
    entries: BTreeMap<u64, Entry>,
}

struct Entry {
    view: PendingCall,
    reply: oneshot::Sender<Reply>,
    /// The definition the call was made against, accepted if it is allowed.
    definition: Value,
    changed: bool,
}

#[derive(Debug, Clone, Copy)]
struct Reply {
    answer: Answer,
    by: DecidedBy,
}

/// The parts of a log row known before the call runs.
#[derive(Debug, Clone)]
struct Draft {
    time_ms: i64,
    client: String,
    server: String,
    tool: String,
    arguments: String,
    policy: Policy,
}

impl Approvals {
    /// Approvals over `store` (its pins are loaded now) with `settings`.
    ///
    /// # Errors
    /// The pins cannot be read.
    pub fn new(store: Store, settings: ApprovalSettings) -> Result<Approvals, StoreError> {
        let mut pins: HashMap<String, HashMap<String, CachedPin>> = HashMap::new();
        for pin in store.pins()? {
            pins.entry(pin.server).or_default().insert(
                pin.tool,
                CachedPin {
                    hash: pin.definition_hash,
                    definition: pin.definition,
                    always_allow: pin.always_allow,
                    checked: None,
                },
            );
        }
        let (pending, _) = watch::channel(Vec::new());
        Ok(Approvals {
            inner: Arc::new(Inner {
                settings: RwLock::new(settings),
                pins: Mutex::new(pins),
                queue: Mutex::new(Queue {
                    next_id: 1,
                    entries: BTreeMap::new(),
                }),
                pending,
                recorder: Recorder::start(store),
            }),
        })
    }

    /// Replaces the settings (the config file changed). Calls already
    /// waiting keep their deadline.
    pub fn set_settings(&self, settings: ApprovalSettings) {
        *self
            .inner
            .settings
            .write()
            .unwrap_or_else(PoisonError::into_inner) = settings;
    }

    /// The current settings.
    pub fn settings(&self) -> ApprovalSettings {
        self.inner
            .settings
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Pins the tools of `server` seen for the first time. A changed
    /// definition is left for the next call to ask about.
    pub fn observe<T: Borrow<ToolInfo>>(&self, server: &str, tools: &[T]) {
        let mut pins = self.inner.pins();
        let known = pins.entry(server.to_owned()).or_default();
        for tool in tools {
            let tool = tool.borrow();
            if !known.contains_key(&tool.name) {
                known.insert(tool.name.clone(), self.inner.new_pin(server, tool));
            }
        }
    }

    /// The policy of `server`'s `tool`, for display.
    pub fn tool_policy(&self, server: &str, tool: &ToolInfo) -> ToolPolicy {
        let hash = definition_hash(&tool.definition);
        let pin = self
            .inner
            .pins()
            .get(server)
            .and_then(|tools| tools.get(&tool.name))
            .map(|pin| PinState {
                changed: pin.hash != hash,
                always_allow: pin.always_allow,
            })
            .unwrap_or_default();
        // Called per tool on every server snapshot: read in place, no clone.
        let settings = self
            .inner
            .settings
            .read()
            .unwrap_or_else(PoisonError::into_inner);
        let rule = rule_of(&settings, server, &tool.name);
        ToolPolicy {
            rule,
            effective: evaluate(rule, tool, settings.ask_non_read_only, pin),
            default: default_verdict(tool, settings.ask_non_read_only),
            always_allow: pin.always_allow,
            changed: pin.changed,
        }
    }

    /// Decides whether `call` may run: at once by policy, or after a person
    /// answers. `cancel` is the client's cancellation of the call.
    pub async fn gate(&self, mut call: Call, cancel: &CancellationToken) -> Gate {
        let started = Instant::now();
        let arguments = scrub_arguments(
            &Value::Object(call.arguments.take().unwrap_or_default()),
            &call.scrubber,
        );
        let (pin, previous) = self.inner.check_pin(&call.server, &call.tool);
        let (rule, ask_non_read_only, timeout) = {
            let settings = self
                .inner
                .settings
                .read()
                .unwrap_or_else(PoisonError::into_inner);
            (
                rule_of(&settings, &call.server, &call.tool.name),
                settings.ask_non_read_only,
                settings.timeout,
            )
        };
        let verdict = evaluate(rule, &call.tool, ask_non_read_only, pin);
        let draft = Draft {
            time_ms: now_ms(),
            client: call.client.clone(),
            server: call.server.clone(),
            tool: call.tool.name.clone(),
            arguments: arguments.to_string(),
            policy: policy_of(verdict.rule),
        };
        match verdict.rule {
            Rule::Allow => Gate::Proceed(Ticket::new(
                &self.inner,
                draft,
                DecidedBy::Rule,
                started,
                call.scrubber,
            )),
            Rule::Deny => {
                self.inner.record(
                    draft,
                    Decision::Denied,
                    DecidedBy::Rule,
                    elapsed_ms(started),
                    Outcome::NotRun,
                    0,
                );
                Gate::Refuse(format!(
                    "Gatehouse's policy denies `{tool}` on `{server}`, so the call did not run. \
                     Only the user can change that rule, in Gatehouse.",
                    tool = call.tool.name,
                    server = call.server
                ))
            }
            Rule::Ask => {
                let reason = verdict.reason.sentence(&call.tool.name);
                self.ask(
                    call, draft, arguments, reason, previous, timeout, started, cancel,
                )
                .await
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    async fn ask(
        &self,
        call: Call,
        draft: Draft,
        arguments: Value,
        reason_text: String,
        previous: Option<Value>,
        timeout: Duration,
        started: Instant,
        cancel: &CancellationToken,
    ) -> Gate {
        let changed = previous.is_some();
        let changes = previous
            .map(|before| changes(&before, &call.tool.definition))
            .unwrap_or_default();
        let (reply, answered) = oneshot::channel();
        let id = {
            let mut queue = self.inner.queue();
            let id = queue.next_id;
            queue.next_id += 1;
            let view = PendingCall {
                id,
                server: call.server.clone(),
                tool: call.tool.name.clone(),
                title: title_of(&call.tool),
                description: call.tool.description.clone(),
                annotations: hints_of(&call.tool),
                arguments,
                client: call.client.clone(),
                reason_text,
                changes,
                asked_at_ms: draft.time_ms,
                deadline_ms: draft.time_ms + i64::try_from(timeout.as_millis()).unwrap_or(i64::MAX),
            };
            queue.entries.insert(
                id,
                Entry {
                    view,
                    reply,
                    definition: call.tool.definition.clone(),
                    changed,
                },
            );
            id
        };
        tracing::info!(id, server = %call.server, tool = %call.tool.name, "waiting for approval");
        self.inner.publish();
        // Dropped with this future (a client that goes away): the call
        // leaves the queue and is logged as cancelled.
        let mut withdraw = Withdraw {
            inner: self.inner.clone(),
            id,
            draft: Some(draft.clone()),
            started,
        };
        let mut answered = answered;
        let waited = tokio::select! {
            biased;
            reply = &mut answered => reply.ok().map_or(Waited::Cancelled, Waited::Answered),
            () = tokio::time::sleep(timeout) => Waited::TimedOut,
            () = cancel.cancelled() => Waited::Cancelled,
        };
        withdraw.draft = None;
        let waited = match waited {
            Waited::Answered(reply) => Waited::Answered(reply),
            // An answer may have landed as the wait ended: it wins.
            other => {
                let removed = self.inner.queue().entries.remove(&id).is_some();
                if removed {
                    self.inner.publish();
                    other
                } else {
                    answered.try_recv().map_or(other, Waited::Answered)
                }
            }
        };
        let wait_ms = elapsed_ms(started);
        let (tool, server) = (call.tool.name.as_str(), call.server.as_str());
        match waited {
            Waited::Answered(Reply {
                answer: Answer::Deny,
                by,
            }) => {
                tracing::info!(id, %by, "denied");
                self.inner
                    .record(draft, Decision::Denied, by, wait_ms, Outcome::NotRun, 0);
                Gate::Refuse(format!(
                    "The user denied this call: Gatehouse did not run `{tool}` on `{server}`. \
                     Do not try it again unless the user asks you to."
                ))
            }
            Waited::Answered(Reply { by, .. }) => {
                tracing::info!(id, %by, "allowed");
                Gate::Proceed(Ticket::new(&self.inner, draft, by, started, call.scrubber))
            }
            Waited::TimedOut => {
                tracing::info!(id, "no answer in time: denied");
                self.inner.record(
                    draft,
                    Decision::Denied,
                    DecidedBy::Timeout,
                    wait_ms,
                    Outcome::NotRun,
                    0,
                );
                Gate::Refuse(format!(
                    "No one answered Gatehouse's approval request within {} s, so the call to \
                     `{tool}` on `{server}` was denied and did not run.",
                    timeout.as_secs()
                ))
            }
            Waited::Cancelled => {
                tracing::info!(id, "withdrawn by the client");
                self.inner.record(
                    draft,
                    Decision::Denied,
                    DecidedBy::Client,
                    wait_ms,
                    Outcome::Cancelled,
                    0,
                );
                Gate::Refuse("The call was cancelled before anyone answered.".to_owned())
            }
        }
    }

    /// Answers waiting call `id`. "Always allow" (and allowing a call whose
    /// tool changed) updates the tool's pin.
    ///
    /// # Errors
    /// No call with that id is waiting.
    pub fn answer(&self, id: u64, answer: Answer, by: DecidedBy) -> Result<(), NotPending> {
        let entry = self
            .inner
            .queue()
            .entries
            .remove(&id)
            .ok_or(NotPending(id))?;
        self.inner.publish();
        let (server, tool) = (&entry.view.server, &entry.view.tool);
        let always = answer == Answer::AllowAlways;
        if answer != Answer::Deny {
            if entry.changed {
                self.inner
                    .accept_pin(server, tool, entry.definition, always);
            } else if always {
                self.inner.set_always_allow(server, tool, true);
            }
        }
        // The waiting call may have just ended; then only the pin changes.
        let _ = entry.reply.send(Reply { answer, by });
        Ok(())
    }

    /// Turns "always allow" off (or on) for a tool, outside any call.
    pub fn set_always_allow(&self, server: &str, tool: &str, always_allow: bool) {
        self.inner.set_always_allow(server, tool, always_allow);
    }

    /// The calls waiting now, oldest first.
    pub fn pending(&self) -> Vec<PendingCall> {
        self.inner.pending.borrow().clone()
    }

    /// The waiting calls, published on every change.
    pub fn watch_pending(&self) -> watch::Receiver<Vec<PendingCall>> {
        self.inner.pending.subscribe()
    }

    /// A counter that moves whenever a row is added to the log.
    pub fn watch_log(&self) -> watch::Receiver<u64> {
        self.inner.recorder.appended()
    }

    /// Runs `read` on the store (queries, exports, verify). Blocking: call
    /// it off the async runtime's workers.
    pub fn read_store<T>(&self, read: impl FnOnce(&Store) -> T) -> T {
        read(&self.inner.recorder.store())
    }

    /// Removes rows older than the retention setting (none when it is 0).
    pub fn prune(&self) {
        let days = self.settings().retention_days;
        if days > 0 {
            let before = now_ms() - i64::from(days) * 86_400_000;
            self.inner.recorder.prune(before);
        }
    }

    /// Waits until every record so far is written.
    pub fn flush(&self) {
        self.inner.recorder.flush(false);
    }

    /// Writes every record so far and checkpoints the database, so the file
    /// alone is complete. For shutdown.
    pub fn close(&self) {
        self.inner.recorder.flush(true);
    }
}

enum Waited {
    Answered(Reply),
    TimedOut,
    Cancelled,
}

/// Takes a call out of the queue when its wait is abandoned.
struct Withdraw {
    inner: Arc<Inner>,
    id: u64,
    draft: Option<Draft>,
    started: Instant,
}

impl Drop for Withdraw {
    fn drop(&mut self) {
        let Some(draft) = self.draft.take() else {
            return;
        };
        if self.inner.queue().entries.remove(&self.id).is_some() {
            self.inner.publish();
        }
        self.inner.record(
            draft,
            Decision::Denied,
            DecidedBy::Client,
            elapsed_ms(self.started),
            Outcome::Cancelled,
            0,
        );
    }
}

/// An allowed call on its way to the server. [`Ticket::finish`] logs how it
/// went; a ticket dropped unfinished (the client went away) logs it as
/// cancelled.
pub struct Ticket {
    inner: Arc<Inner>,
    /// The row's draft, and this call's place in the count of calls whose
    /// rows are still to come; both end when the row is written.
    draft: Option<(Draft, InFlight)>,
    decided_by: DecidedBy,
    wait_ms: i64,
    running: Instant,
    scrubber: Scrubber,
}

impl std::fmt::Debug for Ticket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ticket")
            .field("decided_by", &self.decided_by)
            .field("wait_ms", &self.wait_ms)
            .finish_non_exhaustive()
    }
}

impl Ticket {
    fn new(
        inner: &Arc<Inner>,
        draft: Draft,
        decided_by: DecidedBy,
        started: Instant,
        scrubber: Scrubber,
    ) -> Ticket {
        Ticket {
            inner: inner.clone(),
            draft: Some((draft, inner.recorder.in_flight())),
            decided_by,
            wait_ms: elapsed_ms(started),
            running: Instant::now(),
            scrubber,
        }
    }

    /// Who let the call through.
    pub fn decided_by(&self) -> DecidedBy {
        self.decided_by
    }

    /// Logs the call's outcome; `detail` (an error's text) is masked of the
    /// server's secrets.
    pub fn finish(mut self, outcome: Outcome, detail: Option<&str>) {
        let detail = detail.map(|text| self.scrubber.scrub(text));
        self.write(outcome, detail);
    }

    fn write(&mut self, outcome: Outcome, detail: Option<String>) {
        if let Some((draft, in_flight)) = self.draft.take() {
            let duration = elapsed_ms(self.running);
            self.inner.recorder.append_finished(
                in_flight,
                draft.into_record(
                    Decision::Allowed,
                    self.decided_by,
                    self.wait_ms,
                    outcome,
                    detail,
                    duration,
                ),
            );
        }
    }
}

impl Drop for Ticket {
    fn drop(&mut self) {
        self.write(Outcome::Cancelled, None);
    }
}

impl Inner {
    fn queue(&self) -> MutexGuard<'_, Queue> {
        self.queue.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn pins(&self) -> MutexGuard<'_, HashMap<String, HashMap<String, CachedPin>>> {
        self.pins.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn publish(&self) {
        let list: Vec<PendingCall> = self
            .queue()
            .entries
            .values()
            .map(|entry| entry.view.clone())
            .collect();
        self.pending.send_replace(list);
    }

    fn new_pin(&self, server: &str, tool: &ToolInfo) -> CachedPin {
        self.recorder
            .pin(server, &tool.name, tool.definition.clone(), false);
        CachedPin {
            hash: definition_hash(&tool.definition),
            definition: tool.definition.clone(),
            always_allow: false,
            checked: None,
        }
    }

    /// The pin state of the definition a call is made against, and the
    /// previously accepted definition when it changed. A tool seen for the
    /// first time is pinned now.
    fn check_pin(&self, server: &str, tool: &Arc<ToolInfo>) -> (PinState, Option<Value>) {
        let mut pins = self.pins();
        let pin = match pins.get_mut(server) {
            Some(known) => known.get_mut(&tool.name),
            None => None,
        };
        let Some(pin) = pin else {
            let pin = self.new_pin(server, tool);
            pins.entry(server.to_owned())
                .or_default()
                .insert(tool.name.clone(), pin);
            return (PinState::default(), None);
        };
        let same = match &pin.checked {
            Some((checked, same)) if Arc::ptr_eq(checked, tool) => *same,
            _ => {
                let same = definition_hash(&tool.definition) == pin.hash;
                pin.checked = Some((tool.clone(), same));
                same
            }
        };
        let state = PinState {
            changed: !same,
            always_allow: pin.always_allow,
        };
        (state, (!same).then(|| pin.definition.clone()))
    }

    fn accept_pin(&self, server: &str, tool: &str, definition: Value, always_allow: bool) {
        self.recorder
            .pin(server, tool, definition.clone(), always_allow);
        self.pins().entry(server.to_owned()).or_default().insert(
            tool.to_owned(),
            CachedPin {
                hash: definition_hash(&definition),
                definition,
                always_allow,
                checked: None,
            },
        );
    }

    fn set_always_allow(&self, server: &str, tool: &str, always_allow: bool) {
        if let Some(pin) = self
            .pins()
            .get_mut(server)
            .and_then(|tools| tools.get_mut(tool))
        {
            pin.always_allow = always_allow;
            self.recorder.set_always_allow(server, tool, always_allow);
        }
    }

    fn record(
        &self,
        draft: Draft,
        decision: Decision,
        by: DecidedBy,
        wait_ms: i64,
        outcome: Outcome,
        duration_ms: i64,
    ) {
        self.recorder
            .append(draft.into_record(decision, by, wait_ms, outcome, None, duration_ms));
    }
}

impl Draft {
    fn into_record(
        self,
        decision: Decision,
        decided_by: DecidedBy,
        wait_ms: i64,
        outcome: Outcome,
        outcome_detail: Option<String>,
        duration_ms: i64,
    ) -> CallRecord {
        CallRecord {
            time_ms: self.time_ms,
            client: self.client,
            server: self.server,
            tool: self.tool,
            arguments: self.arguments,
            policy: self.policy,
            decision,
            decided_by,
            wait_ms,
            outcome,
            outcome_detail,
            duration_ms,
        }
    }
}

fn rule_of(settings: &ApprovalSettings, server: &str, tool: &str) -> Option<Rule> {
    settings.rules.get(server)?.get(tool).copied()
}

fn policy_of(rule: Rule) -> Policy {
    match rule {
        Rule::Allow => Policy::Allow,
        Rule::Ask => Policy::Ask,
        Rule::Deny => Policy::Deny,
    }
}

fn title_of(tool: &ToolInfo) -> Option<String> {
    tool.title.clone().or_else(|| {
        tool.annotations
            .as_ref()
            .and_then(|a| a.get("title"))
            .and_then(Value::as_str)
            .map(str::to_owned)
    })
}

fn hints_of(tool: &ToolInfo) -> Hints {
    let hint = |key: &str| {
        tool.annotations
            .as_ref()
            .and_then(|a| a.get(key))
            .and_then(Value::as_bool)
    };
    Hints {
        read_only: tool.read_only,
        destructive: tool.destructive,
        idempotent: hint("idempotentHint").unwrap_or(false),
        open_world: hint("openWorldHint").unwrap_or(true),
    }
}

fn elapsed_ms(since: Instant) -> i64 {
    i64::try_from(since.elapsed().as_millis()).unwrap_or(i64::MAX)
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}
