//! Drives the demo server with rmcp's own client over an in-memory duplex pipe.

use rmcp::ServiceExt;
use rmcp::model::{CallToolRequestParams, CallToolResult};
use rmcp::service::RunningService;

use crate::NotesServer;

async fn connect() -> RunningService<rmcp::RoleClient, ()> {
    let (server_io, client_io) = tokio::io::duplex(64 * 1024);
    tokio::spawn(async move {
        let server = NotesServer::new().serve(server_io).await.unwrap();
        server.waiting().await.unwrap();
    });
    ().serve(client_io).await.unwrap()
}

async fn call(
    client: &RunningService<rmcp::RoleClient, ()>,
    tool: &str,
    args: serde_json::Value,
) -> CallToolResult {
    let params = CallToolRequestParams::new(tool.to_owned())
        .with_arguments(args.as_object().cloned().unwrap_or_default());
    client.call_tool(params).await.unwrap()
}

fn text(result: &CallToolResult) -> String {
    result
        .content
        .iter()
        .filter_map(|c| c.as_text().map(|t| t.text.clone()))
        .collect()
}

#[tokio::test]
async fn tools_carry_the_annotations_the_policy_relies_on() {
    let client = connect().await;
    let mut tools = client.list_all_tools().await.unwrap();
    tools.sort_by(|a, b| a.name.cmp(&b.name));
    let summary: Vec<String> = tools
        .iter()
        .map(|tool| {
            let ann = tool.annotations.as_ref().unwrap();
            format!(
                "{} ro={:?} destructive={:?}",
                tool.name, ann.read_only_hint, ann.destructive_hint
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            "add_note ro=Some(false) destructive=Some(false)",
            "delete_note ro=Some(false) destructive=Some(true)",
            "list_notes ro=Some(true) destructive=None",
            "read_note ro=Some(true) destructive=None",
        ]
    );
    let read_note = tools.iter().find(|t| t.name == "read_note").unwrap();
    assert_eq!(
        read_note.input_schema["required"],
        serde_json::json!(["id"])
    );
    client.cancel().await.unwrap();
}

#[tokio::test]
async fn notes_can_be_added_read_and_deleted() {
    let client = connect().await;
    let added = call(
        &client,
        "add_note",
        serde_json::json!({"title": "groceries", "body": "eggs"}),
    )
    .await;
    assert_eq!(text(&added), "added note 2");

    let listed = call(&client, "list_notes", serde_json::json!({})).await;
    let list: serde_json::Value = serde_json::from_str(&text(&listed)).unwrap();
    assert_eq!(list[1], serde_json::json!({"id": 2, "title": "groceries"}));

    let read = call(&client, "read_note", serde_json::json!({"id": 2})).await;
    assert_eq!(text(&read), "# groceries\n\neggs");

    let deleted = call(&client, "delete_note", serde_json::json!({"id": 2})).await;
    assert_eq!(deleted.is_error, Some(false));
    let again = call(&client, "read_note", serde_json::json!({"id": 2})).await;
    assert_eq!(again.is_error, Some(true));
    assert!(
        text(&again).contains("no note with id 2"),
        "{}",
        text(&again)
    );
    client.cancel().await.unwrap();
}
