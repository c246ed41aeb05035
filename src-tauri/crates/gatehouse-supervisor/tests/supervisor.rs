//! The supervisor against real processes. Servers that speak MCP (the demo
//! server and the npm reference servers) are exercised end to end in
//! `tests/` at the repository root, against the real `gatehouse` binary.

use std::path::Path;
use std::time::Duration;

use gatehouse_config::{ServerName, ServerSpec};
use gatehouse_supervisor::{LaunchContext, ServerState, ServerStatus, Supervisor};

fn spec(name: &str, command: &str, args: &[&str]) -> ServerSpec {
    ServerSpec {
        name: ServerName::new(name).unwrap(),
        command: command.to_owned(),
        args: args.iter().map(|arg| (*arg).to_owned()).collect(),
        env: Default::default(),
        secret_env: Vec::new(),
        cwd: None,
        enabled: true,
    }
}

fn context(dir: &Path) -> LaunchContext {
    LaunchContext::from_current_process(dir, None).unwrap()
}

async fn wait_for(
    supervisor: &Supervisor,
    what: impl Fn(&[ServerStatus]) -> bool,
) -> Vec<ServerStatus> {
    let mut receiver = supervisor.subscribe();
    let found =
        tokio::time::timeout(Duration::from_secs(20), receiver.wait_for(|all| what(all))).await;
    match found {
        Ok(Ok(all)) => all.clone(),
        _ => panic!("timed out; last snapshot: {:#?}", supervisor.snapshot()),
    }
}

fn alive(pid: u32) -> bool {
    // A zombie still has a /proc entry; count it as gone.
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|stat| stat.split_whitespace().nth(2) != Some("Z"))
        .unwrap_or(false)
}

#[tokio::test]
async fn a_server_that_keeps_exiting_fails_with_its_stderr_and_spares_the_others() {
    let dir = tempfile::tempdir().unwrap();
    let servers = [
        spec(
            "broken",
            "sh",
            &["-c", "echo 'API_URL is not set' >&2; exit 3"],
        ),
        spec("missing", "no-such-mcp-server-binary", &[]),
        spec("slow", "sleep", &["30"]),
        ServerSpec {
            enabled: false,
            ..spec("off", "true", &[])
        },
    ];
    let supervisor = Supervisor::start(&servers, context(dir.path()));
    let all = wait_for(&supervisor, |all| {
        all[0].state == ServerState::Failed && all[1].state == ServerState::Failed
    })
    .await;

    let broken = all[0].detail.as_deref().unwrap();
    assert_eq!(
        broken,
        "crashed 5 times within 60 s, so Gatehouse stopped restarting it; last: \
         the server exited during the MCP handshake (exit status: 3); stderr: API_URL is not set"
    );
    assert_eq!(all[0].restarts, 4);
    assert!(all[0].resolved_command.as_ref().unwrap().is_absolute());

    let missing = all[1].detail.as_deref().unwrap();
    assert!(
        missing.starts_with("`no-such-mcp-server-binary` was not found on PATH"),
        "{missing}"
    );

    assert_eq!(
        all[2].state,
        ServerState::Starting,
        "a slow server is still starting"
    );
    assert_eq!(all[3].state, ServerState::Disabled);
    supervisor.shutdown().await;
}

#[cfg(unix)]
#[tokio::test]
async fn shutdown_kills_the_whole_process_group_even_when_stdin_is_ignored() {
    let dir = tempfile::tempdir().unwrap();
    let pid_file = dir.path().join("grandchild.pid");
    // A server that never answers, ignores stdin closing and SIGTERM, and has
    // a grandchild: the shape of a wedged `npx → node` tree.
    let script = format!(
        "trap '' TERM; sleep 300 & echo $! > {}; exec sleep 300",
        pid_file.display()
    );
    let servers = [spec("wedged", "sh", &["-c", &script])];
    let supervisor = Supervisor::start(&servers, context(dir.path()));
    let all = wait_for(&supervisor, |all| all[0].pid.is_some()).await;
    let pid = all[0].pid.unwrap();
    let grandchild: u32 = loop {
        if let Ok(text) = std::fs::read_to_string(&pid_file)
            && let Ok(pid) = text.trim().parse()
        {
            break pid;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert!(alive(pid) && alive(grandchild));

    let receiver = supervisor.subscribe();
    supervisor.shutdown().await;
    assert_eq!(receiver.borrow()[0].state, ServerState::Stopped);
    assert!(!alive(pid), "server {pid} survived shutdown");
    assert!(
        !alive(grandchild),
        "grandchild {grandchild} survived shutdown"
    );
}
