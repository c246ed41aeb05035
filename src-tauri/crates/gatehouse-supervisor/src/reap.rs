//! Pid files, so that no server outlives Gatehouse for long.
//!
//! Each running server's process group is recorded in
//! `<runtime dir>/servers/<name>.pid` as `<pgid> <start time>`, and removed
//! when the server stops. If Gatehouse is killed, Linux's parent-death
//! signal ends each group's leader at once, but a grandchild (`npx → node`)
//! may live on; the next Gatehouse reads the files left behind and kills
//! those groups before starting anything.
//!
//! The start time (from `/proc`) tells a leftover group from an unrelated
//! one that happens to reuse the number. Reaping is implemented for Linux;
//! elsewhere the files are kept and nothing is killed.

use std::path::{Path, PathBuf};

/// Where a server's pid file lives.
pub(crate) fn pid_file(dir: &Path, server: &str) -> PathBuf {
    dir.join(format!("{server}.pid"))
}

/// Records that `pgid` (a group leader started just now) belongs to a server.
pub(crate) fn record(path: &Path, pgid: u32) {
    let Some(start) = start_time(pgid) else {
        return;
    };
    let written = path
        .parent()
        .map_or(Ok(()), std::fs::create_dir_all)
        .and_then(|()| std::fs::write(path, format!("{pgid} {start}\n")));
    if let Err(err) = written {
        tracing::warn!(%err, path = %path.display(), "cannot write the pid file");
    }
}

/// Forgets a server's pid file: its group is gone.
pub(crate) fn forget(path: &Path) {
    match std::fs::remove_file(path) {
        Ok(()) => {}
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
        Err(err) => tracing::warn!(%err, path = %path.display(), "cannot remove the pid file"),
    }
}

/// Kills every process group recorded in `dir` that still exists, and
/// removes the files. Returns how many groups were killed.
pub(crate) fn reap_leftovers(dir: &Path) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    let mut reaped = 0;
    for path in entries.filter_map(Result::ok).map(|entry| entry.path()) {
        if path.extension().is_none_or(|ext| ext != "pid") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        forget(&path);
        let mut fields = text.split_whitespace().map(str::parse::<u64>);
        if let (Some(Ok(pgid)), Some(Ok(start))) = (fields.next(), fields.next())
            && let Ok(pgid) = u32::try_from(pgid)
            && kill_group_if_ours(pgid, start)
        {
            tracing::warn!(pgid, file = %path.display(), "killed a server process group left by a previous Gatehouse");
            reaped += 1;
        }
    }
    reaped
}

/// The start time of `pid` in clock ticks since boot (field 22 of
/// `/proc/<pid>/stat`), and its process group (field 5).
#[cfg(target_os = "linux")]
fn stat(pid: u32) -> Option<(u64, u32)> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) may contain spaces; fields resume after ')'.
    let rest = text.get(text.rfind(')')? + 2..)?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let pgrp = fields.get(2)?.parse().ok()?;
    let start = fields.get(19)?.parse().ok()?;
    Some((start, pgrp))
}

#[cfg(target_os = "linux")]
fn start_time(pid: u32) -> Option<u64> {
    stat(pid).map(|(start, _)| start)
}

#[cfg(not(target_os = "linux"))]
fn start_time(_pid: u32) -> Option<u64> {
    None
}

/// Kills group `pgid` when it is the one recorded: its members are the
/// leader itself (same start time) or, if the leader is gone, processes
/// started no earlier than it was — a reused number would have a new leader.
#[cfg(target_os = "linux")]
fn kill_group_if_ours(pgid: u32, leader_start: u64) -> bool {
    use nix::sys::signal::{Signal, killpg};
    use nix::unistd::Pid;

    if let Some((start, _)) = stat(pgid)
        && start != leader_start
    {
        return false;
    }
    let members = std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .filter_map(Result::ok)
        .filter_map(|entry| entry.file_name().to_str()?.parse::<u32>().ok())
        .filter_map(stat)
        .filter(|(start, pgrp)| *pgrp == pgid && *start >= leader_start)
        .count();
    if members == 0 {
        return false;
    }
    let Ok(pgid) = i32::try_from(pgid) else {
        return false;
    };
    killpg(Pid::from_raw(pgid), Signal::SIGKILL).is_ok()
}

#[cfg(not(target_os = "linux"))]
fn kill_group_if_ours(_pgid: u32, _leader_start: u64) -> bool {
    false
}
