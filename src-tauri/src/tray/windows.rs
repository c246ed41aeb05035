//! Starting the windows' process, `gatehouse-app`, beside this executable.
//! A second start while one runs is handed to it by its single-instance
//! guard, which then focuses the window asked for.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};

use gatehouse_cli::cli::Cli;

/// GTK's variable for what OpenGL it may use.
pub const GDK_GL: &str = "GDK_GL";
/// Whether this process set [`GDK_GL`] itself (rather than the person).
pub static GL_PROBE_SKIPPED: AtomicBool = AtomicBool::new(false);

/// How to start the windows' process.
#[derive(Debug, Clone)]
pub struct Windows {
    config: Option<PathBuf>,
    /// Whether its messages go to this process's stderr (else only to the
    /// log file).
    share_stderr: bool,
}

impl Windows {
    /// For this launch's config file.
    pub fn new(cli: &Cli) -> Windows {
        Windows {
            config: cli.config.clone(),
            share_stderr: true,
        }
    }

    /// For a launch that exits at once: the windows' process must not hold
    /// on to its stdout and stderr (a caller reading them would wait for it).
    pub fn detached(mut self) -> Windows {
        self.share_stderr = false;
        self
    }

    /// Opens (or focuses) the main window.
    pub fn open_main(&self) {
        self.start(true);
    }

    /// Brings up the approval dialog, if a call waits.
    pub fn open_approvals(&self) {
        self.start(false);
    }

    fn start(&self, main: bool) {
        let program =
            match gatehouse_core::supervisor::sibling_executable(gatehouse_cli::APP_EXECUTABLE) {
                Ok(program) => program,
                Err(err) => {
                    tracing::error!(%err, "cannot locate the windows' executable");
                    return;
                }
            };
        let mut command = Command::new(&program);
        if main {
            command.arg("--open");
        }
        if let Some(config) = &self.config {
            command.arg("--config").arg(config);
        }
        // The windows draw with OpenGL: they must not inherit the tray's
        // "no GL" setting.
        if GL_PROBE_SKIPPED.load(Ordering::Relaxed) {
            command.env_remove(GDK_GL);
        }
        command.stdin(Stdio::null()).stdout(Stdio::null());
        if !self.share_stderr {
            command.stderr(Stdio::null());
        }
        match command.spawn() {
            Ok(mut child) => {
                tracing::debug!(pid = child.id(), main, "windows' process started");
                // Reaped when it ends, so it leaves no zombie behind.
                std::thread::spawn(move || child.wait());
            }
            Err(err) => tracing::error!(
                %err,
                program = %program.display(),
                "cannot start the windows' process; is gatehouse-app installed beside gatehouse-tray?"
            ),
        }
    }
}
