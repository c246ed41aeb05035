//! The windows' side of the control channel against a real `gatehouse
//! serve`: the commands the windows' process forwards (`Invoke`), and the
//! events it follows (`Watch`), as `gatehouse-app` uses them.

#![cfg(unix)]

use std::path::Path;
use std::time::Duration;

use gatehouse_core::control::{Client, Request, Response};
use serde_json::{Value, json};

use crate::util::{Sandbox, Served, alive};

async fn invoke(run_dir: &Path, command: &str, args: Value) -> Response {
    let mut client = Client::connect(run_dir).await.unwrap();
    client
        .call(&Request::Invoke {
            command: command.to_owned(),
            args,
        })
        .await
        .unwrap()
}

fn value(response: Response) -> Value {
    match response {
        Response::Value(value) => value,
        other => panic!("not a value: {other:?}"),
    }
}

/// The next event on `watch` named `name` whose payload `wanted` accepts.
async fn event_until(watch: &mut Client, name: &str, wanted: impl Fn(&Value) -> bool) -> Value {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    loop {
        let next = tokio::time::timeout_at(deadline, watch.next())
            .await
            .unwrap_or_else(|_| panic!("no `{name}` event as wanted within 15 s"));
        match next.unwrap() {
            Some(Response::Event(event)) if event.name == name && wanted(&event.payload) => {
                return event.payload;
            }
            Some(Response::Event(_)) => {}
            other => panic!("not an event: {other:?}"),
        }
    }
}

#[test]
fn the_windows_commands_and_events_run_over_the_control_channel() {
    let sandbox = Sandbox::new();
    let mut served = Served::start(&sandbox);
    let (pid, _) = served.running("demo");
    let run_dir = sandbox.gatehouse_home().join("run");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut watch = runtime.block_on(async {
        // A command, answered with the view the UI shows.
        let servers = value(invoke(&run_dir, "list_servers", Value::Null).await);
        assert_eq!(servers[0]["name"], "demo");
        assert_eq!(servers[0]["state"], "running");
        let tools = servers[0]["tools"].as_array().unwrap();
        let delete = tools.iter().find(|t| t["name"] == "delete_note").unwrap();
        assert_eq!(delete["destructive"], true);
        assert_eq!(delete["effective"], "ask");

        // A watcher first gets the present state.
        let mut watch = Client::connect(&run_dir).await.unwrap();
        watch.send(&Request::Watch).await.unwrap();
        event_until(&mut watch, "servers-changed", |servers| {
            servers[0]["state"] == "running"
        })
        .await;
        let pending = event_until(&mut watch, "approvals-changed", |_| true).await;
        assert_eq!(pending, json!([]));

        // A change made through a command reaches it.
        let stopped = invoke(&run_dir, "stop_server", json!({"name": "demo"})).await;
        assert_eq!(value(stopped), Value::Null);
        assert!(!alive(pid));
        event_until(&mut watch, "servers-changed", |servers| {
            servers[0]["state"] == "stopped"
        })
        .await;

        // So does a tool rule, written to gatehouse.toml.
        let rule = json!({"server": "demo", "tool": "delete_note", "rule": "deny"});
        assert_eq!(
            value(invoke(&run_dir, "set_tool_policy", rule).await),
            Value::Null
        );
        let config = std::fs::read_to_string(sandbox.config_file()).unwrap();
        assert!(config.contains("delete_note = \"deny\""), "{config}");

        // Failures come back as the UI's {kind, message}.
        let unknown = invoke(&run_dir, "start_server", json!({"name": "nope"})).await;
        let Response::Failed(failure) = unknown else {
            panic!("{unknown:?}")
        };
        assert_eq!(failure.kind, "NoSuchServer");
        assert_eq!(failure.message, "there is no server `nope`");
        for (command, args) in [
            ("format_disk", Value::Null),
            ("start_server", json!({"nom": "demo"})),
        ] {
            let Response::Failed(failure) = invoke(&run_dir, command, args).await else {
                panic!("{command} did not fail")
            };
            assert_eq!(failure.kind, "BadRequest", "{failure:?}");
        }
        watch
    });

    // When Gatehouse quits, the stream ends: the windows close with it.
    let (_, status) = served.terminate();
    assert!(status.success());
    runtime.block_on(async {
        let end = tokio::time::timeout(Duration::from_secs(10), async {
            loop {
                match watch.next().await {
                    Ok(Some(Response::Event(_))) => continue,
                    Ok(None) | Err(_) => return,
                    Ok(Some(other)) => panic!("not an event: {other:?}"),
                }
            }
        });
        end.await.expect("the event stream outlived Gatehouse");
    });
}
