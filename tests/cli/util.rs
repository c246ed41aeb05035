//! Shared fixtures: a sandbox per test and a way to run the binary in it.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A fresh `$HOME` and `$GATEHOUSE_HOME` for one test.
pub struct Sandbox {
    dir: tempfile::TempDir,
}

impl Sandbox {
    pub fn new() -> Sandbox {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("home")).unwrap();
        Sandbox { dir }
    }

    pub fn gatehouse_home(&self) -> PathBuf {
        self.dir.path().join("gatehouse")
    }

    pub fn config_file(&self) -> PathBuf {
        self.gatehouse_home().join("gatehouse.toml")
    }

    pub fn write_config(&self, text: &str) {
        std::fs::create_dir_all(self.gatehouse_home()).unwrap();
        std::fs::write(self.config_file(), text).unwrap();
    }

    /// `gatehouse ARGS…` with this sandbox's environment and no inherited
    /// Gatehouse variables.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(binary());
        command
            .args(args)
            .env("HOME", self.dir.path().join("home"))
            .env("GATEHOUSE_HOME", self.gatehouse_home())
            .env_remove("GATEHOUSE_CONFIG")
            .env_remove("GATEHOUSE_LOG")
            .env_remove("GATEHOUSE_LOG_FORMAT");
        command
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().unwrap()
    }
}

pub fn binary() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_gatehouse"))
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Whether a process exists and is not a zombie.
pub fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|stat| stat.split_whitespace().nth(2) != Some("Z"))
        .unwrap_or(false)
}

/// `gatehouse serve --log-format json`, read event by event.
pub struct Served {
    pub child: std::process::Child,
    /// Log lines, read on a thread so that waiting for one can time out.
    lines: std::sync::mpsc::Receiver<String>,
}

impl Served {
    pub fn start(sandbox: &Sandbox) -> Served {
        Served::spawn(sandbox.command(&["serve", "--log-format", "json"]))
    }

    /// Like [`Served::start`], with a command the caller has prepared.
    pub fn spawn(mut command: Command) -> Served {
        use std::io::BufRead;
        let mut child = command
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = std::io::BufReader::new(child.stderr.take().unwrap());
        let (sender, lines) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in stderr.lines().map_while(Result::ok) {
                if sender.send(line).is_err() {
                    break;
                }
            }
        });
        Served { child, lines }
    }

    /// Reads log events until `pick` returns something, for up to 30 s.
    pub fn until<T>(&mut self, mut pick: impl FnMut(&serde_json::Value) -> Option<T>) -> T {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            let line = match self.lines.recv_timeout(left) {
                Ok(line) => line,
                Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                    panic!("timed out reading serve's log")
                }
                Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
                    panic!("serve exited early")
                }
            };
            let event: serde_json::Value = serde_json::from_str(&line)
                .unwrap_or_else(|err| panic!("not a JSON log line ({err}): {line}"));
            if let Some(found) = pick(&event) {
                return found;
            }
        }
    }

    /// Waits for `server` to be spawned and then running; returns its pid and tool count.
    pub fn running(&mut self, server: &str) -> (u32, u64) {
        let pid = self.until(|event| {
            (event["fields"]["message"] == "spawned" && event["span"]["server"] == server)
                .then(|| event["fields"]["pid"].as_u64())
                .flatten()
        });
        let tools = self.until(|event| {
            (event["fields"]["message"] == "running" && event["span"]["server"] == server)
                .then(|| event["fields"]["tools"].as_u64())
                .flatten()
        });
        (u32::try_from(pid).unwrap(), tools)
    }

    /// SIGTERM, then the rest of the log and the exit status.
    pub fn terminate(mut self) -> (Vec<String>, std::process::ExitStatus) {
        signal(self.child.id(), "TERM");
        let exit = self.child.wait().unwrap();
        (
            self.lines.try_iter().chain(self.lines.iter()).collect(),
            exit,
        )
    }
}

impl Drop for Served {
    /// A test that fails midway must not leave a Gatehouse running.
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            drop(self.child.kill());
            drop(self.child.wait());
        }
    }
}

/// `kill -SIG pid`.
pub fn signal(pid: u32, sig: &str) {
    let status = Command::new("kill")
        .args([&format!("-{sig}"), &pid.to_string()])
        .status()
        .unwrap();
    assert!(status.success(), "kill -{sig} {pid}");
}

/// Every file below `dir`.
pub fn files_below(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .filter_map(Result::ok)
    {
        let path = entry.path();
        if path.is_dir() {
            files.extend(files_below(&path));
        } else {
            files.push(path);
        }
    }
    files
}
