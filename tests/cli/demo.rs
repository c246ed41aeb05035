//! `gatehouse demo-server` as a real MCP client sees it.

use rmcp::ServiceExt;
use rmcp::model::CallToolRequestParams;
use rmcp::transport::TokioChildProcess;

use crate::util::binary;

#[tokio::test]
async fn the_demo_server_speaks_mcp_on_stdio() {
    let mut command = tokio::process::Command::new(binary());
    command.arg("demo-server");
    let transport = TokioChildProcess::new(command).unwrap();
    let client = ().serve(transport).await.unwrap();

    let info = client.peer_info().unwrap();
    assert_eq!(info.server_info.as_ref().unwrap().name, "gatehouse-demo");
    let mut names: Vec<String> = client
        .list_all_tools()
        .await
        .unwrap()
        .into_iter()
        .map(|tool| tool.name.to_string())
        .collect();
    names.sort();
    assert_eq!(
        names,
        ["add_note", "delete_note", "list_notes", "read_note"]
    );

    let args = serde_json::json!({"title": "t", "body": "b"});
    let result = client
        .call_tool(
            CallToolRequestParams::new("add_note")
                .with_arguments(args.as_object().unwrap().clone()),
        )
        .await
        .unwrap();
    assert_eq!(result.is_error, Some(false));
    client.cancel().await.unwrap();
}
