//! The official reference servers from npm (`make test` installs them in
//! tests/peers) under supervision next to the demo server.

use std::path::PathBuf;

use crate::util::{Sandbox, Served, alive, signal, stdout};

fn peer(bin: &str) -> PathBuf {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/peers/node_modules/.bin")
        .join(bin);
    assert!(
        path.exists(),
        "{} is missing: run `make test`, which installs the npm test peers",
        path.display()
    );
    path
}

fn tool_names(sandbox: &Sandbox, server: &str) -> Vec<String> {
    let tools: serde_json::Value = serde_json::from_str(&stdout(
        &sandbox.run(&["server", "tools", server, "--json"]),
    ))
    .unwrap();
    tools
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn the_npm_reference_servers_run_under_supervision_and_come_back_after_kill_9() {
    let sandbox = Sandbox::new();
    let memory_file = sandbox.gatehouse_home().join("memory.json");
    sandbox.write_config(&format!(
        "[servers.demo]\ncommand = \"gatehouse\"\nargs = [\"demo-server\"]\n\n\
         [servers.memory]\ncommand = \"{}\"\nenv = {{ MEMORY_FILE_PATH = \"{}\" }}\n\n\
         [servers.everything]\ncommand = \"{}\"\n",
        peer("mcp-server-memory").display(),
        memory_file.display(),
        peer("mcp-server-everything").display(),
    ));
    let mut served = Served::start(&sandbox);
    let mut running = std::collections::BTreeSet::new();
    while running.len() < 3 {
        running.insert(served.until(|event| {
            (event["fields"]["message"] == "running")
                .then(|| event["span"]["server"].as_str().map(str::to_owned))
                .flatten()
        }));
    }
    assert_eq!(
        running.into_iter().collect::<Vec<_>>(),
        ["demo", "everything", "memory"]
    );

    let memory_tools = tool_names(&sandbox, "memory");
    assert!(
        memory_tools.contains(&"create_entities".to_owned()),
        "{memory_tools:?}"
    );
    let everything_tools = tool_names(&sandbox, "everything");
    assert!(
        everything_tools.contains(&"echo".to_owned()),
        "{everything_tools:?}"
    );
    assert_eq!(tool_names(&sandbox, "demo").len(), 4);

    let shown: serde_json::Value = serde_json::from_str(&stdout(
        &sandbox.run(&["server", "show", "memory", "--json"]),
    ))
    .unwrap();
    let memory_pid = u32::try_from(shown["pid"].as_u64().unwrap()).unwrap();
    signal(memory_pid, "KILL");
    let (back_pid, tools) = served.running("memory");
    assert_ne!(back_pid, memory_pid);
    assert_eq!(usize::try_from(tools).unwrap(), memory_tools.len());
    assert_eq!(
        tool_names(&sandbox, "memory"),
        memory_tools,
        "its tools return"
    );

    let (_, exit) = served.terminate();
    assert!(exit.success());
    assert!(!alive(back_pid));
}
