//! A launch that meets an instance still quitting.
//!
//! Someone chooses Quit and opens Gatehouse again at once. The old tray
//! still holds Gatehouse's files while it stops its servers (up to two
//! 3-second steps each), and an old window process may for a moment still
//! own the single-instance name without taking the hand-over. Either used
//! to end the new launch with an error; instead it waits for the old one to
//! finish and then starts.

use std::process::ExitCode;
use std::time::{Duration, Instant};

/// How long a quitting instance may take: the supervisor's stop sequence
/// (stdin closed, SIGTERM, SIGKILL, 3 s apart) with room to spare.
const QUIT_WAIT: Duration = Duration::from_secs(15);

/// Set in a launch that was started again after waiting, so it does not
/// wait and start again a second time.
const RELAUNCHED: &str = "GATEHOUSE_RELAUNCHED";

/// When `pid` runs this same executable (and so, holding what this launch
/// wants, can only be quitting), waits until it is gone. Returns whether it
/// is.
pub fn wait_for_quitting(pid: u32) -> bool {
    if !is_this_app(pid) {
        return false;
    }
    tracing::info!(
        pid,
        "the previous instance is still quitting; waiting for it"
    );
    let deadline = Instant::now() + QUIT_WAIT;
    while Instant::now() < deadline {
        if !is_alive(pid) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}

/// The single-instance hand-over failed: the instance that took the name is
/// going away. If another process of this executable is running (the
/// quitting one), waits for it and runs this launch again from the start,
/// in a fresh process (this one's GTK and Tauri are already set up), whose
/// outcome this returns. `None` when that is not the case.
pub fn after_failed_handover() -> Option<anyhow::Result<ExitCode>> {
    if std::env::var_os(RELAUNCHED).is_some() {
        return None;
    }
    let others = others_of_this_app();
    if others.is_empty() || !others.into_iter().all(wait_for_quitting) {
        return None;
    }
    let exe = std::env::current_exe().ok()?;
    Some(crate::hand_over(&exe, &[(RELAUNCHED, "1")]))
}

/// Other live processes running this same executable.
#[cfg(target_os = "linux")]
fn others_of_this_app() -> Vec<u32> {
    let me = std::process::id();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|&pid| pid != me && is_this_app(pid) && is_alive(pid))
        .collect()
}

#[cfg(not(target_os = "linux"))]
fn others_of_this_app() -> Vec<u32> {
    Vec::new()
}

/// Whether `pid` runs this same executable.
#[cfg(target_os = "linux")]
fn is_this_app(pid: u32) -> bool {
    let theirs = std::fs::read_link(format!("/proc/{pid}/exe"));
    let ours = std::env::current_exe();
    matches!((theirs, ours), (Ok(theirs), Ok(ours)) if theirs == ours)
}

// Elsewhere the single-instance plugin hands over through the OS, which
// does not show this race; a held lock stays an error there.
#[cfg(not(target_os = "linux"))]
fn is_this_app(_pid: u32) -> bool {
    false
}

#[cfg(target_os = "linux")]
fn is_alive(pid: u32) -> bool {
    // A zombie has quit; its parent just has not reaped it.
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
        stat.rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().next())
            .is_some_and(|state| state != "Z")
    })
}

#[cfg(not(target_os = "linux"))]
fn is_alive(_pid: u32) -> bool {
    false
}
