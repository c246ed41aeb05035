//! The `PATH` servers are looked up on and run with.
//!
//! An app started from a desktop launcher or the macOS Dock gets a bare
//! `PATH` (`/usr/bin:/bin`), without the directories a person's shell adds
//! (nvm, Homebrew, `~/.local/bin`), so `npx` "is not found". Gatehouse asks
//! the login shell for its `PATH` once and appends the directories the
//! current `PATH` lacks: a shell launch keeps its own order (an activated
//! virtualenv still wins), a GUI launch gains what the shell would have.

use std::ffi::OsString;
use std::path::PathBuf;

/// How long the login shell may take to report its `PATH`.
#[cfg(unix)]
const SHELL_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(3);
#[cfg(unix)]
const MARK: &str = "__GATEHOUSE_PATH__";

/// The search path: `current` first, then the login shell's extra entries.
/// Returns it and how many entries came from the shell.
pub fn search_path(current: Option<OsString>) -> (OsString, usize) {
    let mut dirs: Vec<PathBuf> = current
        .as_deref()
        .map(std::env::split_paths)
        .into_iter()
        .flatten()
        .collect();
    let mut added = 0;
    for dir in login_shell_path()
        .as_deref()
        .map(std::env::split_paths)
        .into_iter()
        .flatten()
    {
        if !dir.as_os_str().is_empty() && !dirs.contains(&dir) {
            dirs.push(dir);
            added += 1;
        }
    }
    let joined = std::env::join_paths(&dirs).unwrap_or_else(|_| current.unwrap_or_default());
    (joined, added)
}

/// `$SHELL -l -i -c 'printf …'`: login and interactive, since people set
/// `PATH` in either kind of profile. Silenced, without a terminal, and
/// killed if it takes longer than [`SHELL_TIMEOUT`].
#[cfg(unix)]
fn login_shell_path() -> Option<OsString> {
    use std::os::unix::ffi::OsStringExt;
    use std::process::{Command, Stdio};
    use std::time::{Duration, Instant};

    let shell = std::env::var_os("SHELL").filter(|s| !s.is_empty())?;
    let mut child = Command::new(&shell)
        .args([
            "-l",
            "-i",
            "-c",
            &format!("printf '{MARK}%s{MARK}' \"$PATH\""),
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let deadline = Instant::now() + SHELL_TIMEOUT;
    loop {
        match child.try_wait() {
            Ok(Some(_)) => break,
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(10)),
            _ => {
                tracing::warn!(shell = %shell.to_string_lossy(), "the login shell did not report its PATH in time");
                drop(child.kill());
                drop(child.wait());
                return None;
            }
        }
    }
    let output = child.wait_with_output().ok()?;
    let text = String::from_utf8_lossy(&output.stdout);
    // Profiles may print banners: take what is between the marks.
    let start = text.find(MARK)? + MARK.len();
    let end = start + text[start..].find(MARK)?;
    Some(OsString::from_vec(text[start..end].as_bytes().to_vec()))
}

/// Windows GUI apps get the user's full `PATH` from the registry already.
#[cfg(not(unix))]
fn login_shell_path() -> Option<OsString> {
    None
}
