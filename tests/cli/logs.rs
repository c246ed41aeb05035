//! `gatehouse server logs`: a server's stderr, its stray stdout, and what
//! Gatehouse did with it; live, followed, and from the files afterwards.

use std::io::{BufRead, BufReader};
use std::process::Stdio;

use crate::util::{Sandbox, Served, binary, stderr, stdout};

#[test]
fn a_servers_log_holds_stderr_stray_stdout_and_gatehouses_account() {
    let sandbox = Sandbox::new();
    let script = format!(
        "echo 'hello from stdout'; echo 'warming up' >&2; head -c 100000 /dev/zero | tr '\\0' x >&2; echo >&2; exec {} demo-server",
        binary().display()
    );
    sandbox.write_config(&format!(
        "[servers.noisy]\ncommand = \"sh\"\nargs = [\"-c\", {}]\n",
        serde_json::to_string(&script).unwrap()
    ));
    let mut served = Served::start(&sandbox);
    let (_, tools) = served.running("noisy");
    assert_eq!(tools, 4, "stray stdout does not break the handshake");

    let output = sandbox.run(&["server", "logs", "noisy"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let log = stdout(&output);
    let kinds: Vec<(&str, &str)> = log
        .lines()
        .map(|line| {
            let rest = line.split_once(' ').unwrap().1;
            let (stream, text) = rest.split_once(' ').unwrap();
            (stream, text.trim_start())
        })
        .collect();
    assert!(
        kinds[0].0 == "gatehouse" && kinds[0].1.starts_with("started /usr/bin/sh (pid "),
        "{log}"
    );
    assert!(kinds.contains(&("stdout", "hello from stdout")), "{log}");
    assert!(kinds.contains(&("stderr", "warming up")), "{log}");
    assert!(kinds.contains(&("gatehouse", "running, 4 tools")), "{log}");
    let long = kinds
        .iter()
        .find(|(_, text)| text.starts_with("xxxx"))
        .unwrap();
    assert!(
        long.1.ends_with("x … [83616 more bytes cut]"),
        "{}",
        &long.1[long.1.len() - 40..]
    );

    // Following: a restart shows up in the open stream.
    let mut follower = sandbox
        .command(&["server", "logs", "noisy", "--follow", "-n", "1"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut followed = BufReader::new(follower.stdout.take().unwrap()).lines();
    // Its first line (the one recent line) proves it is subscribed: the
    // subscription is taken before the recent lines are sent.
    let first = followed.next().expect("the follower ended").unwrap();
    assert!(first.ends_with("running, 4 tools"), "{first}");
    assert!(
        sandbox
            .run(&["server", "restart", "noisy"])
            .status
            .success()
    );
    let mut seen = Vec::new();
    while !seen
        .iter()
        .any(|l: &String| l.ends_with("running, 4 tools"))
    {
        seen.push(followed.next().expect("the follower ended").unwrap());
    }
    assert!(
        seen.iter().any(|l| l.contains("gatehouse stopped")),
        "{seen:?}"
    );
    drop(follower.kill());
    drop(follower.wait());

    let (_, exit) = served.terminate();
    assert!(exit.success());
    // Without a running Gatehouse, the log file answers.
    let tail = stdout(&sandbox.run(&["server", "logs", "noisy", "-n", "1"]));
    assert!(tail.trim_end().ends_with("gatehouse stopped"), "{tail}");
    assert_eq!(tail.lines().count(), 1);
}
