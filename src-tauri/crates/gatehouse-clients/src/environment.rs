//! The facts about this machine that decide where clients keep their
//! config: the OS, the home directory and a few environment variables.
//!
//! Captured once into a value, so every path rule can be tested for every
//! OS on any OS, and tests can point `$HOME` at a temporary directory.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};

/// The operating system whose path rules apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Os {
    /// Linux and the BSDs: XDG directories.
    Linux,
    /// macOS: `~/Library/Application Support`.
    MacOs,
    /// Windows: `%APPDATA%`, `%LOCALAPPDATA%`, `%USERPROFILE%`.
    Windows,
}

impl Os {
    /// The OS this binary was built for.
    pub const fn current() -> Os {
        if cfg!(target_os = "windows") {
            Os::Windows
        } else if cfg!(target_os = "macos") {
            Os::MacOs
        } else {
            Os::Linux
        }
    }
}

/// The variables that move a client's config somewhere else.
const VARS: &[&str] = &[
    "XDG_CONFIG_HOME",
    "FLATPAK_XDG_CONFIG_HOME",
    "APPDATA",
    "LOCALAPPDATA",
    "VSCODE_PORTABLE",
    "VSCODE_APPDATA",
    "CLAUDE_CONFIG_DIR",
    "CODEX_HOME",
    "GEMINI_CLI_HOME",
    "CLINE_MCP_SETTINGS_PATH",
    "CLINE_DATA_DIR",
    "CLINE_DIR",
    "CONTINUE_GLOBAL_DIR",
    "OPENCODE_CONFIG",
    "PATH",
];

/// Where clients look for their files on this machine.
#[derive(Debug, Clone)]
pub struct Environment {
    os: Os,
    home: PathBuf,
    vars: BTreeMap<&'static str, OsString>,
}

impl Environment {
    /// This machine: the current OS, home directory and variables. `None`
    /// when there is no home directory.
    pub fn current() -> Option<Environment> {
        let home = std::env::home_dir().filter(|home| !home.as_os_str().is_empty())?;
        let vars = VARS
            .iter()
            .filter_map(|name| Some((*name, std::env::var_os(name)?)))
            .collect();
        Some(Environment {
            os: Os::current(),
            home,
            vars,
        })
    }

    /// An environment made up for a test: any OS, any home, these variables.
    pub fn new(os: Os, home: PathBuf, vars: &[(&str, &str)]) -> Environment {
        let vars = vars
            .iter()
            .filter_map(|(name, value)| {
                let known = VARS.iter().find(|known| *known == name)?;
                Some((*known, OsString::from(value)))
            })
            .collect();
        Environment { os, home, vars }
    }

    /// The OS whose rules apply.
    pub fn os(&self) -> Os {
        self.os
    }

    /// The home directory.
    pub fn home(&self) -> &Path {
        &self.home
    }

    /// A variable, if set and not empty, as a path.
    pub fn var_path(&self, name: &str) -> Option<PathBuf> {
        self.vars
            .get(name)
            .filter(|value| !value.is_empty())
            .map(PathBuf::from)
    }

    /// The per-user config directory that Electron and most apps use:
    /// `$XDG_CONFIG_HOME` (or `~/.config`), `~/Library/Application Support`,
    /// or `%APPDATA%`.
    pub fn app_config_dir(&self) -> PathBuf {
        match self.os {
            Os::Linux => self.xdg_config_dir(),
            Os::MacOs => self.home.join("Library").join("Application Support"),
            Os::Windows => self
                .var_path("APPDATA")
                .unwrap_or_else(|| self.home.join("AppData").join("Roaming")),
        }
    }

    /// `$XDG_CONFIG_HOME`, else `~/.config`, on every OS: the rule of the
    /// CLI tools (opencode, Goose, Zed on macOS) that follow XDG everywhere.
    pub fn xdg_config_dir(&self) -> PathBuf {
        self.var_path("XDG_CONFIG_HOME")
            .filter(|dir| dir.is_absolute())
            .unwrap_or_else(|| self.home.join(".config"))
    }

    /// `%LOCALAPPDATA%` (Windows only).
    pub fn local_app_data(&self) -> PathBuf {
        self.var_path("LOCALAPPDATA")
            .unwrap_or_else(|| self.home.join("AppData").join("Local"))
    }

    /// A VS Code-family editor's user directory (`Code`, `Cursor`, …):
    /// `<app config dir>/<product>/User`, or the portable or overridden one.
    pub fn vscode_user_dir(&self, product: &str) -> PathBuf {
        if product == "Code" {
            if let Some(portable) = self.var_path("VSCODE_PORTABLE") {
                return portable.join("user-data").join("User");
            }
            if let Some(appdata) = self.var_path("VSCODE_APPDATA") {
                return appdata.join(product).join("User");
            }
        }
        self.app_config_dir().join(product).join("User")
    }

    /// Whether `program` is on `PATH`.
    pub fn has_program(&self, program: &str) -> bool {
        self.find_program(program).is_some()
    }

    /// `program` as found on `PATH`.
    pub fn find_program(&self, program: &str) -> Option<PathBuf> {
        let path = self.vars.get("PATH")?;
        which::which_in(program, Some(path), &self.home).ok()
    }
}
