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
    /// Gatehouse variables. The MCP endpoint gets a free port
    /// (`GATEHOUSE_ADDR=127.0.0.1:0`): tests run in parallel, and the
    /// default 127.0.0.1:8737 can be held only by one of them.
    pub fn command(&self, args: &[&str]) -> Command {
        self.command_of(binary(), args)
    }

    /// [`Sandbox::command`] run by `program` (the tray app's executable).
    pub fn command_of(&self, program: &Path, args: &[&str]) -> Command {
        let mut command = Command::new(program);
        command
            .args(args)
            .env("HOME", self.dir.path().join("home"))
            .env("GATEHOUSE_HOME", self.gatehouse_home())
            .env_remove("GATEHOUSE_CONFIG")
            .env_remove("GATEHOUSE_LOG")
            .env_remove("GATEHOUSE_LOG_FORMAT")
            .env("GATEHOUSE_ADDR", "127.0.0.1:0")
            .env_remove("GATEHOUSE_TOKEN");
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

    /// The log lines read so far that no `until` consumed (for a failure
    /// message; takes them).
    pub fn log_so_far(&self) -> Vec<String> {
        self.lines.try_iter().collect()
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

/// A Secret Service of the test's own: a private D-Bus session bus (with no
/// service activation, so nothing else can be started on it) and an
/// unlocked gnome-keyring on it, with its files in a temporary directory.
/// Tests that depend on what the keyring holds use one, so they never see
/// or change each other's entries (the keyring account of the gateway token
/// is the same for every `$GATEHOUSE_HOME`). Both daemons die with it.
pub struct PrivateKeyring {
    bus: std::process::Child,
    daemon: std::process::Child,
    address: String,
    _dir: tempfile::TempDir,
}

impl PrivateKeyring {
    pub fn start() -> PrivateKeyring {
        use std::io::{BufRead, Write};
        use std::process::Stdio;
        let dir = tempfile::tempdir().unwrap();
        for sub in ["home", "data", "runtime"] {
            std::fs::create_dir_all(dir.path().join(sub)).unwrap();
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(
                dir.path().join("runtime"),
                std::fs::Permissions::from_mode(0o700),
            )
            .unwrap();
        }
        let config = dir.path().join("bus.conf");
        std::fs::write(
            &config,
            format!(
                r#"<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path={}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"#,
                dir.path().join("bus").display()
            ),
        )
        .unwrap();
        let mut bus = Command::new("dbus-daemon")
            .arg(format!("--config-file={}", config.display()))
            .args(["--nofork", "--print-address=1"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("dbus-daemon is missing: apt-get install dbus");
        let mut address = String::new();
        std::io::BufReader::new(bus.stdout.take().unwrap())
            .read_line(&mut address)
            .unwrap();
        let address = address.trim().to_owned();
        assert!(address.starts_with("unix:"), "dbus-daemon said {address:?}");
        let mut daemon = Command::new("gnome-keyring-daemon")
            .args(["--foreground", "--unlock", "--components=secrets"])
            .env("DBUS_SESSION_BUS_ADDRESS", &address)
            .env("HOME", dir.path().join("home"))
            .env("XDG_DATA_HOME", dir.path().join("data"))
            .env("XDG_RUNTIME_DIR", dir.path().join("runtime"))
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("gnome-keyring-daemon is missing: apt-get install gnome-keyring");
        let mut stdin = daemon.stdin.take().unwrap();
        stdin.write_all(b"gatehouse-tests").unwrap();
        drop(stdin);
        let keyring = PrivateKeyring {
            bus,
            daemon,
            address,
            _dir: dir,
        };
        // Ready once the keyring owns the Secret Service's name.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        loop {
            let owned = Command::new("dbus-send")
                .arg(format!("--bus={}", keyring.address))
                .args([
                    "--print-reply",
                    "--dest=org.freedesktop.DBus",
                    "/org/freedesktop/DBus",
                    "org.freedesktop.DBus.NameHasOwner",
                    "string:org.freedesktop.secrets",
                ])
                .output()
                .expect("dbus-send is missing: apt-get install dbus");
            if String::from_utf8_lossy(&owned.stdout).contains("boolean true") {
                return keyring;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "the private gnome-keyring did not come up"
            );
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }

    /// Points `command` at this keyring.
    pub fn apply(&self, command: &mut Command) {
        command.env("DBUS_SESSION_BUS_ADDRESS", &self.address);
    }
}

impl Drop for PrivateKeyring {
    fn drop(&mut self) {
        for child in [&mut self.daemon, &mut self.bus] {
            drop(child.kill());
            drop(child.wait());
        }
    }
}
