//! The desk: what Gatehouse's windows ask of the core, and the changes they
//! are told about, served over the control channel.
//!
//! The windows run in their own process (`gatehouse-app`), which keeps the
//! web engine out of the process that stays resident. Each of their
//! commands is a name and a JSON object of arguments: [`Service`] runs it
//! here, against the core, and answers with a view (`dto`) or an
//! `{kind, message}` error (`error`). Its events (`servers-changed`,
//! `approvals-changed`, `activity-changed`, `clients-changed`) reach every
//! window process that watches.
//!
//! # Layout
//! - `commands`: servers, the endpoint, approvals, the call log.
//! - `clients`: the Clients view (register, diff, undo, import).
//! - `dto`: the JSON shapes the UI receives (`ui/src/lib/api.ts` mirrors them).
//! - `error`: the `{kind, message}` error the UI receives.

mod clients;
mod commands;
mod dto;
mod error;

use std::sync::{Arc, Weak};
use std::time::Duration;

use gatehouse_core::Core;
use gatehouse_core::approvals::{Answer, Approvals};
use gatehouse_core::config::Rule;
use gatehouse_core::desk::{Event, Failure, Invocation};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use tokio::sync::broadcast;

pub use self::error::IpcError;

/// Every server's view, after any change (payload: the views).
pub const SERVERS_CHANGED: &str = "servers-changed";
/// The calls waiting for a person changed (payload: the calls, oldest first).
pub const APPROVALS_CHANGED: &str = "approvals-changed";
/// Rows were added to the call log (no payload), at most four times a second.
pub const ACTIVITY_CHANGED: &str = "activity-changed";
/// A client's file was changed by Gatehouse (no payload).
pub const CLIENTS_CHANGED: &str = "clients-changed";

/// The windows' commands and events for one core.
#[derive(Clone)]
pub struct Service {
    core: Weak<Core>,
    events: broadcast::Sender<Event>,
}

impl Service {
    /// Serves `core`'s windows over its control channel, and starts telling
    /// them its changes. Must be called inside a Tokio runtime.
    pub fn install(core: &Arc<Core>) -> Service {
        let (events, _) = broadcast::channel(64);
        let service = Service {
            core: Arc::downgrade(core),
            events: events.clone(),
        };
        core.serve_windows(Arc::new(service.clone()));
        announce(core, &events);
        service
    }

    /// How many window processes watch now.
    pub fn watchers(&self) -> usize {
        self.events.receiver_count()
    }

    fn publish(&self, name: &str, payload: Value) {
        publish(&self.events, name, payload);
    }

    fn publish_servers(&self, core: &Core) {
        self.publish(
            SERVERS_CHANGED,
            servers_payload(core.servers(), core.approvals()),
        );
    }

    async fn run(&self, command: &str, args: Value) -> Result<Value, IpcError> {
        let Some(core) = self.core.upgrade() else {
            return Err(IpcError::BadRequest("Gatehouse is quitting".to_owned()));
        };
        let core = core.as_ref();
        match command {
            "list_servers" => reply(commands::list_servers(core)),
            "app_info" => reply(commands::app_info(core)),
            "start_server" => reply(commands::start_server(core, &arg::<Name>(args)?.name)?),
            "stop_server" => reply(commands::stop_server(core, &arg::<Name>(args)?.name).await?),
            "restart_server" => {
                reply(commands::restart_server(core, &arg::<Name>(args)?.name).await?)
            }
            "server_logs" => reply(commands::server_logs(core, &arg::<Name>(args)?.name)?),
            "gateway_info" => reply(commands::gateway_info(core)),
            "rotate_token" => reply(commands::rotate_token(core)?),
            "pending_approvals" => reply(commands::pending_approvals(core)),
            "answer_approval" => {
                let AnswerArgs { id, answer } = arg(args)?;
                commands::answer_approval(core, id, answer)?;
                if answer == Answer::AllowAlways {
                    // The tool's policy changed: the Servers view shows it.
                    // (The waiting-calls change is announced before
                    // `Approvals::answer` records the rule, so it may not.)
                    self.publish_servers(core);
                }
                reply(())
            }
            "query_log" => reply(commands::query_log(core, arg::<Filter>(args)?.filter).await?),
            "verify_log" => reply(commands::verify_log(core).await?),
            "export_log" => reply(commands::export_log(core, arg(args)?).await?),
            "set_tool_policy" => {
                let Policy { server, tool, rule } = arg(args)?;
                commands::set_tool_policy(core, &server, &tool, rule)?;
                self.publish_servers(core);
                reply(())
            }
            "approval_settings" => reply(commands::approval_settings(core)),
            "set_approval_settings" => reply(commands::set_approval_settings(
                core,
                arg::<Settings>(args)?.settings,
            )?),
            "list_clients" => {
                reply(clients::list_clients(core, arg::<Project>(args)?.project).await?)
            }
            "plan_client_change" => reply(clients::plan_client_change(core, &arg(args)?)?),
            "apply_client_change" => {
                let view = clients::apply_client_change(core, arg(args)?).await?;
                self.publish(CLIENTS_CHANGED, Value::Null);
                reply(view)
            }
            "undo_client_change" => {
                let view = clients::undo_client_change(core, arg(args)?).await?;
                self.publish(CLIENTS_CHANGED, Value::Null);
                reply(view)
            }
            "plan_client_import" => reply(clients::plan_client_import(core, &arg(args)?)?),
            "apply_client_import" => {
                let view = clients::apply_client_import(core, arg(args)?).await?;
                self.publish(CLIENTS_CHANGED, Value::Null);
                reply(view)
            }
            other => Err(IpcError::BadRequest(format!(
                "there is no command `{other}` (is the window from another Gatehouse version?)"
            ))),
        }
    }
}

impl gatehouse_core::desk::Desk for Service {
    fn invoke(&self, command: String, args: Value) -> Invocation {
        let service = self.clone();
        Box::pin(async move { service.run(&command, args).await.map_err(Failure::from) })
    }

    fn snapshot(&self) -> Vec<Event> {
        let Some(core) = self.core.upgrade() else {
            return Vec::new();
        };
        vec![
            Event {
                name: SERVERS_CHANGED.to_owned(),
                payload: servers_payload(core.servers(), core.approvals()),
            },
            Event {
                name: APPROVALS_CHANGED.to_owned(),
                payload: to_value(core.approvals().pending()),
            },
        ]
    }

    fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.events.subscribe()
    }
}

/// Publishes the core's changes as they happen, until the core is gone:
/// servers and waiting calls at once, log rows at most four times a second
/// (the Activity view reloads on each), on tasks of their own so that the
/// one's pause never holds up the other.
fn announce(core: &Core, events: &broadcast::Sender<Event>) {
    let mut servers = core.watch_servers();
    let mut pending = core.approvals().watch_pending();
    let approvals = core.approvals().clone();
    let sender = events.clone();
    tokio::spawn(async move {
        let send = |name: &str, payload: Value| publish(&sender, name, payload);
        loop {
            tokio::select! {
                changed = servers.changed() => {
                    if changed.is_err() {
                        return;
                    }
                    let snapshot = servers.borrow_and_update().clone();
                    send(SERVERS_CHANGED, servers_payload(snapshot, &approvals));
                }
                changed = pending.changed() => {
                    if changed.is_err() {
                        return;
                    }
                    let calls = pending.borrow_and_update().clone();
                    send(APPROVALS_CHANGED, to_value(calls));
                    // An answer may have been "always allow": the policies changed.
                    let snapshot = servers.borrow().clone();
                    send(SERVERS_CHANGED, servers_payload(snapshot, &approvals));
                }
            }
        }
    });
    let mut log = core.approvals().watch_log();
    let sender = events.clone();
    tokio::spawn(async move {
        while log.changed().await.is_ok() {
            publish(&sender, ACTIVITY_CHANGED, Value::Null);
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    });
}

fn publish(events: &broadcast::Sender<Event>, name: &str, payload: Value) {
    // No receiver: no window is open, which is fine.
    let _ = events.send(Event {
        name: name.to_owned(),
        payload,
    });
}

fn servers_payload(
    snapshot: Vec<gatehouse_core::supervisor::ServerStatus>,
    approvals: &Approvals,
) -> Value {
    to_value(dto::servers(&snapshot, approvals))
}

fn to_value(value: impl serde::Serialize) -> Value {
    serde_json::to_value(value).unwrap_or(Value::Null)
}

fn reply(value: impl serde::Serialize) -> Result<Value, IpcError> {
    serde_json::to_value(value).map_err(|err| IpcError::BadRequest(err.to_string()))
}

/// The command's arguments, or an error naming what is wrong with them.
fn arg<T: DeserializeOwned>(args: Value) -> Result<T, IpcError> {
    let args = if args.is_null() {
        Value::Object(serde_json::Map::new())
    } else {
        args
    };
    serde_json::from_value(args)
        .map_err(|err| IpcError::BadRequest(format!("bad arguments: {err}")))
}

#[derive(Deserialize)]
struct Name {
    name: String,
}

#[derive(Deserialize)]
struct AnswerArgs {
    id: u64,
    answer: Answer,
}

#[derive(Deserialize)]
struct Filter {
    filter: dto::LogFilterView,
}

#[derive(Deserialize)]
struct Policy {
    server: String,
    tool: String,
    rule: Option<Rule>,
}

#[derive(Deserialize)]
struct Settings {
    settings: dto::ApprovalSettingsView,
}

#[derive(Deserialize)]
struct Project {
    project: Option<std::path::PathBuf>,
}
