//! `gatehouse doctor`: what is wrong with this machine, and how to fix it.
//!
//! Each check is independent and never panics; a failed check says what it
//! found and what to do about it.

use std::path::Path;

use gatehouse_config::{Config, Paths};
use gatehouse_secrets::SecretStore;
use gatehouse_supervisor::resolve_command;

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    /// Works.
    Ok,
    /// Works, but something a person would want to know or change.
    Warn,
    /// Broken: a feature will not work until fixed.
    Fail,
}

/// One finding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    /// What was checked, e.g. `keyring`.
    pub name: String,
    /// The verdict.
    pub severity: Severity,
    /// What was found, in one sentence.
    pub summary: String,
    /// How to fix it, when it is not `Ok`.
    pub fix: Option<String>,
}

impl Check {
    fn ok(name: &str, summary: String) -> Check {
        Check {
            name: name.to_owned(),
            severity: Severity::Ok,
            summary,
            fix: None,
        }
    }

    fn problem(name: &str, severity: Severity, summary: String, fix: &str) -> Check {
        Check {
            name: name.to_owned(),
            severity,
            summary,
            fix: Some(fix.to_owned()),
        }
    }
}

/// What the checks need to know that they should not discover themselves.
#[derive(Debug)]
pub struct Inputs<'a> {
    /// Resolved paths.
    pub paths: &'a Paths,
    /// The config, or the error loading it.
    pub config: &'a Result<Config, gatehouse_config::Error>,
    /// The keyring to probe.
    pub secrets: &'a SecretStore,
    /// This executable, for `command = "gatehouse"`.
    pub self_exe: &'a Path,
    /// The client registrar, for the clients' state; `None` when there is
    /// no endpoint token to compare entries with.
    pub clients: Option<&'a gatehouse_clients::Registrar>,
}

/// Runs every check.
pub fn run(inputs: &Inputs<'_>) -> Vec<Check> {
    let mut checks = vec![config_check(inputs.paths, inputs.config)];
    for (name, dir) in [
        ("data dir", &inputs.paths.data_dir),
        ("logs dir", &inputs.paths.logs_dir),
        ("runtime dir", &inputs.paths.runtime_dir),
    ] {
        checks.push(dir_check(name, dir));
    }
    checks.push(keyring_check(inputs.secrets));
    checks.extend(gui_checks());
    if let Ok(config) = inputs.config {
        checks.push(endpoint_check(config, inputs.paths));
        checks.extend(client_checks(inputs.clients));
        checks.extend(server_checks(
            config,
            inputs.self_exe,
            &inputs.paths.data_dir,
        ));
    }
    checks
}

/// Where Gatehouse stands with the MCP clients installed here: a warning
/// for each entry that is out of date and each config file that does not
/// parse, and one line naming the clients it is registered with.
fn client_checks(registrar: Option<&gatehouse_clients::Registrar>) -> Vec<Check> {
    let Some(registrar) = registrar else {
        return vec![Check::ok(
            "clients",
            "not checked: there is no endpoint token yet (Gatehouse makes one on its first run)"
                .to_owned(),
        )];
    };
    let mut checks = Vec::new();
    let mut registered = Vec::new();
    let mut attention = Vec::new();
    let mut absent = Vec::new();
    for client in registrar.list(None) {
        let Some(file) = client.user.filter(|_| client.installed) else {
            continue;
        };
        let name = client.kind.name();
        let id = client.kind.id();
        let detail = file.detail.unwrap_or_default();
        if matches!(
            file.state,
            gatehouse_clients::State::Outdated | gatehouse_clients::State::Unreadable
        ) {
            attention.push(name);
        }
        match file.state {
            gatehouse_clients::State::Registered => registered.push(name),
            gatehouse_clients::State::Absent => absent.push(name),
            gatehouse_clients::State::Outdated => checks.push(Check::problem(
                &format!("client {id}"),
                Severity::Warn,
                format!("{name}: {detail}"),
                &format!("run `gatehouse client register {id}`"),
            )),
            gatehouse_clients::State::Unreadable => checks.push(Check::problem(
                &format!("client {id}"),
                Severity::Warn,
                format!(
                    "{name} cannot use its config, {}: {detail}",
                    file.path.display()
                ),
                "fix the file (Gatehouse will not write to a file it cannot parse)",
            )),
        }
    }
    let mut parts = Vec::new();
    if !registered.is_empty() {
        parts.push(format!("registered with {}", registered.join(", ")));
    }
    if !attention.is_empty() {
        parts.push(format!("needs attention: {}", attention.join(", ")));
    }
    if !absent.is_empty() {
        parts.push(format!("found but not registered: {}", absent.join(", ")));
    }
    let summary = if parts.is_empty() {
        "no MCP client found on this computer".to_owned()
    } else {
        parts.join("; ")
    };
    checks.insert(0, Check::ok("clients", summary));
    checks
}

/// Whether the MCP endpoint's port is free, or held by this Gatehouse.
fn endpoint_check(config: &Config, paths: &Paths) -> Check {
    let from_env = std::env::var("GATEHOUSE_ADDR")
        .ok()
        .and_then(|addr| addr.parse().ok());
    let addr = crate::configured_addr(from_env, config);
    if gatehouse_running(&paths.runtime_dir) {
        return Check::ok(
            "endpoint",
            format!(
                "Gatehouse is running; its MCP endpoint is http://{addr}/mcp (see `gatehouse token show`)"
            ),
        );
    }
    match std::net::TcpListener::bind(addr) {
        Ok(_) => Check::ok("endpoint", format!("{addr} is free for the MCP endpoint")),
        Err(err) if err.kind() == std::io::ErrorKind::AddrInUse => Check::problem(
            "endpoint",
            Severity::Fail,
            format!("{addr} is in use by another program, so the MCP endpoint cannot start"),
            "choose another port: `[gateway] addr = \"127.0.0.1:PORT\"` in gatehouse.toml, or --addr / $GATEHOUSE_ADDR",
        ),
        Err(err) => Check::problem(
            "endpoint",
            Severity::Fail,
            format!("cannot listen on {addr}: {err}"),
            "choose another address: `[gateway] addr` in gatehouse.toml, or --addr / $GATEHOUSE_ADDR",
        ),
    }
}

/// Another process holds the instance lock.
fn gatehouse_running(runtime_dir: &Path) -> bool {
    let Ok(file) = std::fs::File::open(runtime_dir.join("gatehouse.lock")) else {
        return false;
    };
    matches!(
        file.try_lock_shared(),
        Err(std::fs::TryLockError::WouldBlock)
    )
}

fn config_check(paths: &Paths, config: &Result<Config, gatehouse_config::Error>) -> Check {
    let file = paths.config_file.display();
    match config {
        Ok(config) => Check::ok(
            "config",
            format!("{file} is valid ({} servers)", config.servers.len()),
        ),
        Err(gatehouse_config::Error::NotFound { .. }) => Check::problem(
            "config",
            Severity::Warn,
            format!("{file} does not exist yet"),
            "start Gatehouse once (`gatehouse` or `gatehouse serve`) to write the default config",
        ),
        Err(err) => Check::problem(
            "config",
            Severity::Fail,
            err.to_string(),
            "fix the file at the line shown; Gatehouse never overwrites an invalid config",
        ),
    }
}

fn dir_check(name: &str, dir: &Path) -> Check {
    // Creating the directory is what Gatehouse does at start, so doing it
    // here tests exactly what matters: can Gatehouse write there.
    let probe = std::fs::create_dir_all(dir).and_then(|()| {
        let file = dir.join(".gatehouse-doctor");
        std::fs::write(&file, b"")?;
        std::fs::remove_file(&file)
    });
    match probe {
        Ok(()) => Check::ok(name, format!("{} is writable", dir.display())),
        Err(err) => Check::problem(
            name,
            Severity::Fail,
            format!("{} is not writable: {err}", dir.display()),
            "fix its permissions, or set GATEHOUSE_HOME to a writable directory",
        ),
    }
}

fn keyring_check(secrets: &SecretStore) -> Check {
    match secrets.probe() {
        Ok(()) => Check::ok("keyring", "the OS keyring is reachable".to_owned()),
        Err(gatehouse_secrets::Error::Unavailable { reason }) => Check::problem(
            "keyring",
            Severity::Fail,
            format!("the OS keyring is not reachable: {reason}"),
            gatehouse_secrets::fix_hint(),
        ),
        Err(err) => Check::problem(
            "keyring",
            Severity::Fail,
            err.to_string(),
            "check that the keyring is unlocked and that Gatehouse may use it",
        ),
    }
}

/// Whether the tray app can run here: a display, a session bus, and the
/// libraries that are loaded at run time rather than linked.
fn gui_checks() -> Vec<Check> {
    if !cfg!(target_os = "linux") {
        return vec![Check::ok("gui", "native tray and webview".to_owned())];
    }
    let mut checks = Vec::new();
    let display = std::env::var_os("WAYLAND_DISPLAY")
        .map(|d| format!("Wayland display {}", d.to_string_lossy()))
        .or_else(|| {
            std::env::var_os("DISPLAY").map(|d| format!("X display {}", d.to_string_lossy()))
        });
    checks.push(match display {
        Some(display) => Check::ok("display", format!("{display} is set")),
        None => Check::problem(
            "display",
            Severity::Warn,
            "no display: the tray app cannot start here".to_owned(),
            "run `gatehouse serve` for the headless core, or start Gatehouse from a desktop session",
        ),
    });
    checks.push(match std::env::var_os("DBUS_SESSION_BUS_ADDRESS") {
        Some(_) => Check::ok("session bus", "a D-Bus session bus is set".to_owned()),
        None => Check::problem(
            "session bus",
            Severity::Warn,
            "no D-Bus session bus: no tray icon, no keyring, and a second launch will not find the first".to_owned(),
            "start Gatehouse from a desktop session, or wrap it in `dbus-run-session --`",
        ),
    });
    checks.push(library_check(
        "tray library",
        &["libayatana-appindicator3.so.1", "libappindicator3.so.1"],
        "apt-get install libayatana-appindicator3-1",
    ));
    checks.push(library_check(
        "webview library",
        &["libwebkit2gtk-4.1.so.0"],
        "apt-get install libwebkit2gtk-4.1-0",
    ));
    checks
}

fn library_check(name: &str, candidates: &[&str], fix: &str) -> Check {
    for library in candidates {
        if loads(library) {
            return Check::ok(name, format!("{library} loads"));
        }
    }
    Check::problem(
        name,
        Severity::Fail,
        format!("none of {} could be loaded", candidates.join(", ")),
        fix,
    )
}

/// Whether the dynamic loader can load `library`. Loading is the only
/// reliable test: the loader's own search path (ld.so.cache,
/// `LD_LIBRARY_PATH`) decides, not a guess at directories.
#[cfg(target_os = "linux")]
fn loads(library: &str) -> bool {
    use libloading::os::unix::{Library, RTLD_LAZY, RTLD_LOCAL};
    // GObject libraries register types that cannot be unregistered: unloading
    // them crashes the process later. RTLD_NODELETE keeps them resident.
    const RTLD_NODELETE: std::os::raw::c_int = 0x1000;
    #[allow(unsafe_code)]
    // SAFETY: system libraries whose initialisers only register GObject
    // types; with RTLD_NODELETE they are never unloaded.
    let loaded = unsafe { Library::open(Some(library), RTLD_LAZY | RTLD_LOCAL | RTLD_NODELETE) };
    loaded.is_ok()
}

#[cfg(not(target_os = "linux"))]
fn loads(_library: &str) -> bool {
    false
}

fn server_checks(config: &Config, self_exe: &Path, data_dir: &Path) -> Vec<Check> {
    let (search_path, from_shell) = gatehouse_supervisor::search_path(std::env::var_os("PATH"));
    let path_check = Check::ok(
        "PATH",
        format!(
            "servers are looked up on {} ({from_shell} of its directories come from your login shell)",
            search_path.to_string_lossy()
        ),
    );
    std::iter::once(path_check)
        .chain(server_resolution(config, self_exe, data_dir, &search_path))
        .collect()
}

fn server_resolution<'a>(
    config: &'a Config,
    self_exe: &'a Path,
    data_dir: &'a Path,
    search_path: &'a std::ffi::OsStr,
) -> impl Iterator<Item = Check> + 'a {
    config
        .servers
        .iter()
        .filter(|spec| spec.enabled)
        .map(|spec| {
            let name = format!("server {}", spec.name);
            let cwd = spec.cwd.as_deref().unwrap_or(data_dir);
            match resolve_command(&spec.command, self_exe, search_path, cwd) {
                Ok(program) => Check::ok(
                    &name,
                    format!("`{}` runs {}", spec.command, program.display()),
                ),
                Err(reason) => Check::problem(
                    &name,
                    Severity::Fail,
                    reason,
                    "install the command, or give its absolute path in gatehouse.toml",
                ),
            }
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_invalid_config_fails_with_its_location_and_servers_are_resolved() {
        let dir = tempfile::tempdir().unwrap();
        let paths = Paths::under(dir.path());
        let secrets = SecretStore::default();
        let broken = gatehouse_config::parse(&paths.config_file, "[servers.x\n");
        let checks = run(&Inputs {
            paths: &paths,
            config: &broken,
            secrets: &secrets,
            self_exe: Path::new("/opt/gatehouse"),
            clients: None,
        });
        let config = &checks[0];
        assert_eq!(config.severity, Severity::Fail);
        assert!(
            config.summary.contains("gatehouse.toml:1:"),
            "{}",
            config.summary
        );
        assert!(
            checks
                .iter()
                .any(|c| c.name == "data dir" && c.severity == Severity::Ok)
        );

        let good = gatehouse_config::parse(
            &paths.config_file,
            "[servers.demo]\ncommand = \"gatehouse\"\n[servers.gone]\ncommand = \"no-such-cmd-xyz\"\n",
        );
        let checks = run(&Inputs {
            paths: &paths,
            config: &good,
            secrets: &secrets,
            self_exe: Path::new("/opt/gatehouse"),
            clients: None,
        });
        let demo = checks.iter().find(|c| c.name == "server demo").unwrap();
        assert_eq!(demo.summary, "`gatehouse` runs /opt/gatehouse");
        let gone = checks.iter().find(|c| c.name == "server gone").unwrap();
        assert_eq!(gone.severity, Severity::Fail);
    }
}
