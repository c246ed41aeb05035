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
