//! Turning a configured server into a running process: command resolution,
//! a clean environment, and a process group / Job Object around the child.

use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};

use std::sync::Arc;

use gatehouse_config::ServerSpec;
use process_wrap::tokio::{ChildWrapper, CommandWrap};

use crate::secrets::SecretLookup;

/// The command name that always means "this Gatehouse executable".
pub const SELF_COMMAND: &str = "gatehouse";

/// The executable called `name` in this executable's directory (`name.exe`
/// on Windows); it may not exist.
///
/// # Errors
/// When this executable cannot be located.
pub fn sibling_executable(name: &str) -> std::io::Result<PathBuf> {
    let this = std::env::current_exe()?;
    let dir = this.parent().unwrap_or(Path::new("."));
    Ok(dir.join(format!("{name}{}", std::env::consts::EXE_SUFFIX)))
}

/// The `gatehouse` command line executable: this one, or the one beside the
/// tray app (`gatehouse-app`), which has the same commands but links the GUI
/// libraries, so what it spawns (the demo server, client bridges) should not
/// be it.
///
/// # Errors
/// When this executable cannot be located.
pub fn gatehouse_executable() -> std::io::Result<PathBuf> {
    let cli = sibling_executable(SELF_COMMAND)?;
    if cli.is_file() {
        Ok(cli)
    } else {
        std::env::current_exe()
    }
}

/// Environment variables a child inherits from Gatehouse. Everything else —
/// Gatehouse's own token, unrelated credentials in the user's shell — is left
/// out; a server gets only these, its configured `env`, and its own secrets.
#[cfg(unix)]
const INHERITED_VARS: &[&str] = &[
    "HOME",
    "USER",
    "LOGNAME",
    "SHELL",
    "LANG",
    "LANGUAGE",
    "LC_ALL",
    "LC_CTYPE",
    "LC_MESSAGES",
    "LC_NUMERIC",
    "LC_TIME",
    "LC_COLLATE",
    "LC_MONETARY",
    "TZ",
    "TMPDIR",
    "TERM",
    "DISPLAY",
    "WAYLAND_DISPLAY",
    "DBUS_SESSION_BUS_ADDRESS",
    "XDG_RUNTIME_DIR",
    "XDG_CONFIG_HOME",
    "XDG_DATA_HOME",
    "XDG_CACHE_HOME",
    "XDG_STATE_HOME",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    "NODE_EXTRA_CA_CERTS",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "NO_PROXY",
    "http_proxy",
    "https_proxy",
    "no_proxy",
];
#[cfg(windows)]
const INHERITED_VARS: &[&str] = &[
    "SYSTEMROOT",
    "SYSTEMDRIVE",
    "WINDIR",
    "COMSPEC",
    "PATHEXT",
    "APPDATA",
    "LOCALAPPDATA",
    "USERPROFILE",
    "USERNAME",
    "USERDOMAIN",
    "HOMEDRIVE",
    "HOMEPATH",
    "PROGRAMDATA",
    "PROGRAMFILES",
    "PROGRAMFILES(X86)",
    "COMMONPROGRAMFILES",
    "TEMP",
    "TMP",
    "NUMBER_OF_PROCESSORS",
    "PROCESSOR_ARCHITECTURE",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "NO_PROXY",
];

/// Everything the supervisor needs from its surroundings to start servers.
/// Built once by the caller, so resolution is the same for every server.
#[derive(Debug, Clone)]
pub struct LaunchContext {
    /// This executable: what `command = "gatehouse"` runs.
    pub self_exe: PathBuf,
    /// The `PATH` used to resolve bare command names, and given to children.
    pub search_path: OsString,
    /// The variables every child starts with (see the inherited list).
    pub base_env: Vec<(OsString, OsString)>,
    /// Working directory for servers that set no `cwd`.
    pub default_cwd: PathBuf,
    /// Where pid files go (see `reap`); `None` keeps none.
    pub pid_dir: Option<PathBuf>,
    /// Where each server's log files go; `None` keeps logs in memory only.
    pub logs_dir: Option<PathBuf>,
    /// Where secret values come from; `None` fails servers that need any.
    pub secrets: Option<Arc<dyn SecretLookup>>,
}

impl LaunchContext {
    /// A context from this process: its executable, its `PATH` completed
    /// with the login shell's (see `search_path`), and the inherited subset
    /// of its environment.
    ///
    /// # Errors
    /// When the current executable's path cannot be determined.
    pub fn from_current_process(
        default_cwd: &Path,
        pid_dir: Option<&Path>,
    ) -> std::io::Result<LaunchContext> {
        let base_env = INHERITED_VARS
            .iter()
            .filter_map(|name| std::env::var_os(name).map(|value| (OsString::from(name), value)))
            .collect();
        Ok(LaunchContext {
            self_exe: gatehouse_executable()?,
            search_path: crate::search_path::search_path(std::env::var_os("PATH")).0,
            base_env,
            default_cwd: default_cwd.to_owned(),
            pid_dir: pid_dir.map(Path::to_owned),
            logs_dir: None,
            secrets: None,
        })
    }
}

/// Resolves a configured command to an absolute path: `gatehouse` is this
/// executable, a path is taken relative to `cwd`, a bare name is looked up
/// on `search_path`.
///
/// # Errors
/// A sentence saying what was looked for and where.
pub fn resolve_command(
    command: &str,
    self_exe: &Path,
    search_path: &OsStr,
    cwd: &Path,
) -> Result<PathBuf, String> {
    if command == SELF_COMMAND {
        return Ok(self_exe.to_owned());
    }
    let as_path = Path::new(command);
    if as_path.components().count() > 1 || as_path.is_absolute() {
        let full = cwd.join(as_path);
        return if full.is_file() {
            Ok(full)
        } else {
            Err(format!(
                "`{}` does not exist or is not a file",
                full.display()
            ))
        };
    }
    which::which_in(command, Some(search_path), cwd).map_err(|_| {
        let dirs = std::env::split_paths(search_path)
            .map(|dir| dir.display().to_string())
            .collect::<Vec<_>>()
            .join(", ");
        format!(
            "`{command}` was not found on PATH ({dirs}); install it or set `command` to its absolute path"
        )
    })
}

/// Looks up every secret `spec` names. Values live only in the returned
/// list and the child's environment.
pub(crate) fn secret_env(
    spec: &ServerSpec,
    context: &LaunchContext,
) -> Result<Vec<(String, String)>, String> {
    if spec.secret_env.is_empty() {
        return Ok(Vec::new());
    }
    let Some(secrets) = &context.secrets else {
        return Err(format!(
            "server `{}` needs secrets, and this Gatehouse has no keyring to read them from",
            spec.name
        ));
    };
    spec.secret_env
        .iter()
        .map(|key| Ok((key.clone(), secrets.lookup(spec.name.as_str(), key)?)))
        .collect()
}

/// Spawns `program` for `spec` with piped stdio, a clean environment and its
/// own process group (Unix) or Job Object (Windows). The group is killed if
/// the returned handle is dropped.
pub(crate) fn spawn(
    spec: &ServerSpec,
    program: &Path,
    context: &LaunchContext,
    secret_env: &[(String, String)],
) -> std::io::Result<Box<dyn ChildWrapper>> {
    let mut command = tokio::process::Command::new(program);
    command
        .args(&spec.args)
        .env_clear()
        .envs(context.base_env.iter().map(|(k, v)| (k, v)))
        .env("PATH", &context.search_path)
        .envs(&spec.env)
        .envs(secret_env.iter().map(|(k, v)| (k, v)))
        .current_dir(spec.cwd.as_deref().unwrap_or(&context.default_cwd))
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    #[cfg(target_os = "linux")]
    die_with_parent(&mut command);
    // CREATE_NO_WINDOW: a GUI-launched Gatehouse must not flash a console
    // window for every server.
    #[cfg(windows)]
    command.creation_flags(0x0800_0000);
    let mut wrapped = CommandWrap::from(command);
    #[cfg(unix)]
    wrapped.wrap(process_wrap::tokio::ProcessGroup::leader());
    #[cfg(windows)]
    wrapped.wrap(process_wrap::tokio::JobObject);
    wrapped.wrap(process_wrap::tokio::KillOnDrop);
    wrapped.spawn()
}

/// Linux: the server gets SIGKILL when Gatehouse dies, however it dies.
/// (The signal follows the spawning thread; servers are spawned from the
/// runtime's worker threads, which live as long as Gatehouse.)
#[cfg(target_os = "linux")]
fn die_with_parent(command: &mut tokio::process::Command) {
    let parent = nix::unistd::Pid::this();
    #[allow(unsafe_code)]
    // SAFETY: the closure runs between fork and exec and only makes
    // async-signal-safe system calls (prctl, getppid).
    unsafe {
        command.pre_exec(move || {
            nix::sys::prctl::set_pdeathsig(nix::sys::signal::Signal::SIGKILL)?;
            // Gatehouse may have died between fork and prctl.
            if nix::unistd::getppid() != parent {
                return Err(std::io::Error::other(
                    "Gatehouse exited while starting the server",
                ));
            }
            Ok(())
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn self_command_is_this_executable() {
        let got = resolve_command(
            "gatehouse",
            Path::new("/opt/gh/gatehouse"),
            OsStr::new(""),
            Path::new("/"),
        );
        assert_eq!(got, Ok(PathBuf::from("/opt/gh/gatehouse")));
    }

    #[test]
    fn bare_names_are_found_on_the_given_path_only() {
        let dir = tempfile::tempdir().unwrap();
        let got = resolve_command(
            "sh",
            Path::new("/x"),
            OsStr::new("/bin:/usr/bin"),
            dir.path(),
        )
        .unwrap();
        assert!(
            got.is_absolute() && got.ends_with("sh"),
            "{}",
            got.display()
        );

        let err =
            resolve_command("sh", Path::new("/x"), dir.path().as_os_str(), dir.path()).unwrap_err();
        assert!(err.starts_with("`sh` was not found on PATH ("), "{err}");
    }

    #[test]
    fn relative_paths_are_taken_from_cwd() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("server.sh"), "").unwrap();
        let got =
            resolve_command("./server.sh", Path::new("/x"), OsStr::new(""), dir.path()).unwrap();
        assert_eq!(got, dir.path().join("./server.sh"));
        let err = resolve_command("./missing.sh", Path::new("/x"), OsStr::new(""), dir.path())
            .unwrap_err();
        assert!(err.ends_with("does not exist or is not a file"), "{err}");
    }
}
