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

/// The process group of `pid`, and every live process in it.
#[cfg(target_os = "linux")]
fn group_members(pgid: u32) -> Vec<u32> {
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(Result::ok)
        .filter_map(|entry| entry.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
                let fields: Vec<&str> = stat[stat.rfind(')').unwrap() + 2..]
                    .split_whitespace()
                    .collect();
                fields[0] != "Z" && fields[2] == pgid.to_string()
            })
        })
        .collect()
}

#[cfg(target_os = "linux")]
#[test]
fn nothing_of_an_npx_launched_server_survives_a_killed_gatehouse() {
    let sandbox = Sandbox::new();
    let peers = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/peers");
    peer("mcp-server-memory");
    sandbox.write_config(&format!(
        "[servers.memory]\ncommand = \"npx\"\nargs = [\"--no-install\", \"mcp-server-memory\"]\ncwd = \"{}\"\nenv = {{ MEMORY_FILE_PATH = \"{}\" }}\n",
        peers.display(),
        sandbox.gatehouse_home().join("memory.json").display()
    ));
    let mut served = Served::start(&sandbox);
    let (leader, tools) = served.running("memory");
    assert!(tools > 0);
    // npx runs the server as a grandchild, `node`, in the same group.
    let members = group_members(leader);
    assert!(members.len() >= 2, "npx and its node: {members:?}");

    signal(served.child.id(), "KILL");
    served.child.wait().unwrap();
    sandbox.write_config("");
    let mut next = Served::start(&sandbox);
    next.until(|event| {
        event["fields"]["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("Gatehouse is running headless"))
            .then_some(())
    });
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !group_members(leader).is_empty() {
        assert!(
            std::time::Instant::now() < deadline,
            "survivors: {:?}",
            group_members(leader)
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let (_, exit) = next.terminate();
    assert!(exit.success());
}
