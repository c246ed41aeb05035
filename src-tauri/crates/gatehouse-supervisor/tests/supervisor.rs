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
    // The grandchild is not Gatehouse's child, so nothing waits for it: it
    // got the group's SIGKILL, but on a busy machine it may take a moment to
    // die after the server was reaped.
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while alive(grandchild) && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(
        !alive(grandchild),
        "grandchild {grandchild} survived shutdown"
    );
}

/// A process that never answers MCP (so stays `starting`) and exits as soon
/// as its stdin closes, which keeps stops fast. `sh` keeps stdout open while
/// `cat` runs, as a real server does: a closed stdout is a dead server.
fn idle(name: &str, tag: &str) -> ServerSpec {
    spec(name, "sh", &["-c", "cat > /dev/null", tag])
}

fn pid_of(all: &[ServerStatus], name: &str) -> Option<u32> {
    all.iter().find(|s| s.name == name).and_then(|s| s.pid)
}

#[tokio::test]
async fn a_person_can_stop_start_and_restart_one_server() {
    let dir = tempfile::tempdir().unwrap();
    let supervisor = Supervisor::start(&[idle("a", "1"), idle("b", "1")], context(dir.path()));
    let all = wait_for(&supervisor, |all| all.iter().all(|s| s.pid.is_some())).await;
    let (a1, b1) = (pid_of(&all, "a").unwrap(), pid_of(&all, "b").unwrap());

    supervisor.stop_server("a").await.unwrap();
    let all = supervisor.snapshot();
    assert_eq!(all[0].state, ServerState::Stopped);
    assert!(!alive(a1));
    assert_eq!(pid_of(&all, "b"), Some(b1), "b is untouched");

    supervisor.start_server("a").unwrap();
    let all = wait_for(&supervisor, |all| all[0].pid.is_some()).await;
    let a2 = pid_of(&all, "a").unwrap();
    assert_ne!(a1, a2);

    supervisor.restart_server("a").await.unwrap();
    let all = wait_for(&supervisor, |all| all[0].pid.is_some_and(|pid| pid != a2)).await;
    assert!(!alive(a2));
    assert_eq!(pid_of(&all, "b"), Some(b1));

    assert!(supervisor.stop_server("nope").await.is_err());
    supervisor.shutdown().await;
}

#[tokio::test]
async fn applying_a_new_config_touches_only_what_changed() {
    let dir = tempfile::tempdir().unwrap();
    let supervisor = Supervisor::start(
        &[idle("keep", "1"), idle("change", "1"), idle("drop", "1")],
        context(dir.path()),
    );
    let all = wait_for(&supervisor, |all| all.iter().all(|s| s.pid.is_some())).await;
    let (keep, change, drop) = (
        pid_of(&all, "keep").unwrap(),
        pid_of(&all, "change").unwrap(),
        pid_of(&all, "drop").unwrap(),
    );

    let changes = supervisor
        .apply(&[idle("add", "1"), idle("change", "2"), idle("keep", "1")])
        .await;
    assert_eq!(changes.added, ["add"]);
    assert_eq!(changes.changed, ["change"]);
    assert_eq!(changes.removed, ["drop"]);

    let all = wait_for(&supervisor, |all| all.iter().all(|s| s.pid.is_some())).await;
    let names: Vec<&str> = all.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["add", "change", "keep"]);
    assert_eq!(
        pid_of(&all, "keep"),
        Some(keep),
        "an unchanged server keeps running"
    );
    assert_ne!(pid_of(&all, "change"), Some(change));
    assert!(!alive(change) && !alive(drop));
    assert_eq!(all[1].args, ["-c", "cat > /dev/null", "2"]);
    supervisor.shutdown().await;
}
