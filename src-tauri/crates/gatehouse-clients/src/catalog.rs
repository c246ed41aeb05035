//! Every client Gatehouse knows: where it keeps its config in each scope
//! on each OS, the file's format and key, how to tell it is installed, and
//! what the user must do after a change.
//!
//! The facts come from `shared/reference/clients.md`; each rule cites what
//! it follows only where the choice is not obvious.

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::document::Format;
use crate::entry::Dialect;
use crate::environment::{Environment, Os};

/// Which of a client's files: the user's own, or a project's (which gets
/// committed, so it never holds the token or an absolute path).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    /// The user-wide file.
    User,
    /// A project's file, inside the project directory.
    Project,
}

impl Scope {
    /// `user` or `project`.
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::User => "user",
            Scope::Project => "project",
        }
    }
}

/// A supported client.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ClientKind {
    /// Claude Desktop (stdio only).
    ClaudeDesktop,
    /// Claude Code.
    ClaudeCode,
    /// Cursor.
    Cursor,
    /// VS Code with GitHub Copilot.
    VsCode,
    /// Windsurf (Cascade).
    Windsurf,
    /// Zed.
    Zed,
    /// Cline.
    Cline,
    /// Roo Code.
    RooCode,
    /// Gemini CLI.
    Gemini,
    /// OpenAI Codex.
    Codex,
    /// LM Studio.
    LmStudio,
    /// Goose.
    Goose,
    /// opencode.
    Opencode,
    /// Kiro.
    Kiro,
    /// Continue.
    Continue,
}

/// A client's config file in one scope: where it is and how to edit it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    /// The file.
    pub path: PathBuf,
    /// Its format.
    pub format: Format,
    /// The keys from the root to the map of servers.
    pub table: Vec<String>,
    /// The file is Gatehouse's alone (Continue's `mcpServers/gatehouse.json`):
    /// unregistering the last entry deletes it.
    pub owned: bool,
    /// The client rewrites the file as it runs (Claude Code's
    /// `~/.claude.json`): only its servers are Gatehouse's business.
    pub rewritten_by_client: bool,
}

impl Location {
    fn new(path: PathBuf, format: Format, table: &[&str]) -> Location {
        Location {
            path,
            format,
            table: table.iter().map(|key| (*key).to_owned()).collect(),
            owned: false,
            rewritten_by_client: false,
        }
    }

    /// The table path as `&str`s, for [`crate::document::Document`].
    pub fn table(&self) -> Vec<&str> {
        self.table.iter().map(String::as_str).collect()
    }
}

impl ClientKind {
    /// Every client, in the order the Clients view lists them.
    pub const ALL: [ClientKind; 15] = [
        ClientKind::ClaudeDesktop,
        ClientKind::ClaudeCode,
        ClientKind::Cursor,
        ClientKind::VsCode,
        ClientKind::Windsurf,
        ClientKind::Zed,
        ClientKind::Cline,
        ClientKind::RooCode,
        ClientKind::Gemini,
        ClientKind::Codex,
        ClientKind::LmStudio,
        ClientKind::Goose,
        ClientKind::Opencode,
        ClientKind::Kiro,
        ClientKind::Continue,
    ];

    /// The id used on the command line and in the GUI.
    pub fn id(self) -> &'static str {
        match self {
            ClientKind::ClaudeDesktop => "claude-desktop",
            ClientKind::ClaudeCode => "claude-code",
            ClientKind::Cursor => "cursor",
            ClientKind::VsCode => "vscode",
            ClientKind::Windsurf => "windsurf",
            ClientKind::Zed => "zed",
            ClientKind::Cline => "cline",
            ClientKind::RooCode => "roo-code",
            ClientKind::Gemini => "gemini",
            ClientKind::Codex => "codex",
            ClientKind::LmStudio => "lm-studio",
            ClientKind::Goose => "goose",
            ClientKind::Opencode => "opencode",
            ClientKind::Kiro => "kiro",
            ClientKind::Continue => "continue",
        }
    }

    /// The client's id, or `None`.
    pub fn from_id(id: &str) -> Option<ClientKind> {
        ClientKind::ALL.into_iter().find(|kind| kind.id() == id)
    }

    /// The client's product name.
    pub fn name(self) -> &'static str {
        match self {
            ClientKind::ClaudeDesktop => "Claude Desktop",
            ClientKind::ClaudeCode => "Claude Code",
            ClientKind::Cursor => "Cursor",
            ClientKind::VsCode => "VS Code",
            ClientKind::Windsurf => "Windsurf",
            ClientKind::Zed => "Zed",
            ClientKind::Cline => "Cline",
            ClientKind::RooCode => "Roo Code",
            ClientKind::Gemini => "Gemini CLI",
            ClientKind::Codex => "Codex",
            ClientKind::LmStudio => "LM Studio",
            ClientKind::Goose => "Goose",
            ClientKind::Opencode => "opencode",
            ClientKind::Kiro => "Kiro",
            ClientKind::Continue => "Continue",
        }
    }

    /// How this client spells an entry.
    pub fn dialect(self) -> Dialect {
        match self {
            ClientKind::ClaudeDesktop => Dialect::StdioOnly,
            ClientKind::ClaudeCode => Dialect::ClaudeCode,
            ClientKind::VsCode | ClientKind::Gemini => Dialect::TypeHttp,
            ClientKind::Cursor | ClientKind::Zed | ClientKind::LmStudio | ClientKind::Kiro => {
                Dialect::UrlOnly
            }
            ClientKind::Windsurf => Dialect::ServerUrl,
            ClientKind::Cline => Dialect::Cline,
            ClientKind::RooCode => Dialect::StreamableHttp,
            ClientKind::Codex => Dialect::Codex,
            ClientKind::Goose => Dialect::Goose,
            ClientKind::Opencode => Dialect::Opencode,
            ClientKind::Continue => Dialect::Continue,
        }
    }

    /// The user-wide config file.
    pub fn user_location(self, env: &Environment) -> Option<Location> {
        let home = env.home();
        let json = |path: PathBuf, key: &str| Location::new(path, Format::Json, &[key]);
        let jsonc = |path: PathBuf, key: &str| Location::new(path, Format::Jsonc, &[key]);
        Some(match self {
            ClientKind::ClaudeDesktop => json(
                claude_desktop_dir(env).join("claude_desktop_config.json"),
                "mcpServers",
            ),
            ClientKind::ClaudeCode => Location {
                rewritten_by_client: true,
                ..json(
                    env.var_path("CLAUDE_CONFIG_DIR")
                        .unwrap_or_else(|| home.to_owned())
                        .join(".claude.json"),
                    "mcpServers",
                )
            },
            ClientKind::Cursor => json(home.join(".cursor").join("mcp.json"), "mcpServers"),
            ClientKind::VsCode => jsonc(env.vscode_user_dir("Code").join("mcp.json"), "servers"),
            ClientKind::Windsurf => json(
                home.join(".codeium")
                    .join("windsurf")
                    .join("mcp_config.json"),
                "mcpServers",
            ),
            ClientKind::Zed => jsonc(zed_dir(env).join("settings.json"), "context_servers"),
            ClientKind::Cline => json(cline_settings(env), "mcpServers"),
            ClientKind::RooCode => json(
                env.vscode_user_dir("Code")
                    .join("globalStorage")
                    .join("rooveterinaryinc.roo-cline")
                    .join("settings")
                    .join("mcp_settings.json"),
                "mcpServers",
            ),
            ClientKind::Gemini => jsonc(
                env.var_path("GEMINI_CLI_HOME")
                    .unwrap_or_else(|| home.to_owned())
                    .join(".gemini")
                    .join("settings.json"),
                "mcpServers",
            ),
            ClientKind::Codex => Location::new(
                env.var_path("CODEX_HOME")
                    .unwrap_or_else(|| home.join(".codex"))
                    .join("config.toml"),
                Format::Toml,
                &["mcp_servers"],
            ),
            ClientKind::LmStudio => json(home.join(".lmstudio").join("mcp.json"), "mcpServers"),
            ClientKind::Goose => Location::new(
                goose_dir(env).join("config.yaml"),
                Format::Yaml,
                &["extensions"],
            ),
            ClientKind::Opencode => jsonc(opencode_config(env), "mcp"),
            ClientKind::Kiro => json(
                home.join(".kiro").join("settings").join("mcp.json"),
                "mcpServers",
            ),
            ClientKind::Continue => Location {
                owned: true,
                ..json(
                    env.var_path("CONTINUE_GLOBAL_DIR")
                        .unwrap_or_else(|| home.join(".continue"))
                        .join("mcpServers")
                        .join("gatehouse.json"),
                    "mcpServers",
                )
            },
        })
    }

    /// The file in project `dir`, for clients that read one.
    pub fn project_location(self, dir: &Path) -> Option<Location> {
        let json = |path: PathBuf, key: &str| Location::new(path, Format::Json, &[key]);
        let jsonc = |path: PathBuf, key: &str| Location::new(path, Format::Jsonc, &[key]);
        Some(match self {
            ClientKind::ClaudeCode => json(dir.join(".mcp.json"), "mcpServers"),
            ClientKind::Cursor => json(dir.join(".cursor").join("mcp.json"), "mcpServers"),
            ClientKind::VsCode => jsonc(dir.join(".vscode").join("mcp.json"), "servers"),
            ClientKind::Zed => jsonc(dir.join(".zed").join("settings.json"), "context_servers"),
            ClientKind::RooCode => json(dir.join(".roo").join("mcp.json"), "mcpServers"),
            ClientKind::Gemini => jsonc(dir.join(".gemini").join("settings.json"), "mcpServers"),
            ClientKind::Codex => Location::new(
                dir.join(".codex").join("config.toml"),
                Format::Toml,
                &["mcp_servers"],
            ),
            ClientKind::Opencode => jsonc(dir.join("opencode.json"), "mcp"),
            ClientKind::Kiro => json(
                dir.join(".kiro").join("settings").join("mcp.json"),
                "mcpServers",
            ),
            ClientKind::Continue => Location {
                owned: true,
                ..json(
                    dir.join(".continue")
                        .join("mcpServers")
                        .join("gatehouse.json"),
                    "mcpServers",
                )
            },
            ClientKind::ClaudeDesktop
            | ClientKind::Windsurf
            | ClientKind::Cline
            | ClientKind::LmStudio
            | ClientKind::Goose => return None,
        })
    }

    /// Whether the client rejects its file when the servers' key is gone,
    /// so unregistering its last server leaves `"mcpServers": {}` rather
    /// than `{}`: Cline and Roo Code validate the whole file against a
    /// schema where `mcpServers` is required (clients.md §3.7; Roo Code's
    /// `McpSettingsSchema`), and show an error for `{}`.
    pub fn requires_servers_key(self) -> bool {
        matches!(self, ClientKind::Cline | ClientKind::RooCode)
    }

    /// Whether the client reads a project file.
    pub fn supports_project(self) -> bool {
        self.project_location(Path::new("/")).is_some()
    }

    /// Whether the client looks installed: its config directory exists or
    /// its program is on `PATH`.
    pub fn is_installed(self, env: &Environment) -> bool {
        let home = env.home();
        let (dirs, programs): (Vec<PathBuf>, &[&str]) = match self {
            ClientKind::ClaudeDesktop => (vec![claude_desktop_dir(env)], &["claude-desktop"]),
            ClientKind::ClaudeCode => (
                vec![home.join(".claude"), home.join(".claude.json")],
                &["claude"],
            ),
            ClientKind::Cursor => (vec![home.join(".cursor")], &["cursor"]),
            ClientKind::VsCode => (vec![env.vscode_user_dir("Code")], &["code"]),
            ClientKind::Windsurf => (vec![home.join(".codeium").join("windsurf")], &["windsurf"]),
            ClientKind::Zed => (vec![zed_dir(env)], &["zed", "zeditor"]),
            ClientKind::Cline => (vec![home.join(".cline")], &["cline"]),
            ClientKind::RooCode => (
                vec![
                    env.vscode_user_dir("Code")
                        .join("globalStorage")
                        .join("rooveterinaryinc.roo-cline"),
                ],
                &[],
            ),
            ClientKind::Gemini => (vec![home.join(".gemini")], &["gemini"]),
            ClientKind::Codex => (vec![home.join(".codex")], &["codex"]),
            ClientKind::LmStudio => (vec![home.join(".lmstudio")], &["lms"]),
            ClientKind::Goose => (vec![goose_dir(env)], &["goose"]),
            ClientKind::Opencode => (vec![env.xdg_config_dir().join("opencode")], &["opencode"]),
            ClientKind::Kiro => (vec![home.join(".kiro")], &["kiro"]),
            ClientKind::Continue => (vec![home.join(".continue")], &["cn"]),
        };
        dirs.iter().any(|dir| dir.exists()) || programs.iter().any(|p| env.has_program(p))
    }

    /// The client's own command for adding and removing servers in a file
    /// it rewrites itself: `claude`, on `PATH` or where its installers put
    /// it (a GUI app's `PATH` often lacks `~/.local/bin`).
    pub fn command_line(self, env: &Environment) -> Option<PathBuf> {
        match self {
            ClientKind::ClaudeCode => env.find_program("claude").or_else(|| {
                let home = env.home();
                [
                    home.join(".local").join("bin").join("claude"),
                    home.join(".claude").join("local").join("claude"),
                ]
                .into_iter()
                .find(|path| path.is_file())
            }),
            _ => None,
        }
    }

    /// What the user must do for the client to see a change.
    pub fn next_step(self) -> &'static str {
        match self {
            ClientKind::ClaudeDesktop => {
                "Quit Claude Desktop completely (from its tray or menu bar icon) and open it again."
            }
            ClientKind::ClaudeCode => "Start a new Claude Code session, or run /mcp and Reconnect.",
            ClientKind::Cursor => {
                "Open Cursor Settings → MCP and refresh; reload the window if a chat does not see the tools."
            }
            ClientKind::VsCode => {
                "In VS Code, start the server from the MCP server list (or its code lens) and trust it."
            }
            ClientKind::Windsurf => "Press Refresh in Windsurf's MCP panel.",
            ClientKind::Zed => "Nothing to do: Zed picks the change up at once.",
            ClientKind::Cline => "Nothing to do: Cline reloads the file by itself.",
            ClientKind::RooCode => "Nothing to do: Roo Code reloads the file by itself.",
            ClientKind::Gemini => "Run /mcp reload in Gemini CLI, or start it again.",
            ClientKind::Codex => "Start a new Codex session.",
            ClientKind::LmStudio => {
                "LM Studio loads the file when it changes; restart it if the tools do not appear."
            }
            ClientKind::Goose => "Restart Goose.",
            ClientKind::Opencode => "Restart opencode.",
            ClientKind::Kiro => "Nothing to do: Kiro reconnects when the file changes.",
            ClientKind::Continue => "Press the reload button in Continue's config panel.",
        }
    }

    /// What the user must do after a change to the file in `scope`: for a
    /// project file, also the trust or approval step the client asks for
    /// the first time (clients.md §2.8), so "one click" is not oversold.
    pub fn next_step_in(self, scope: Scope) -> String {
        let trust = match (self, scope) {
            (_, Scope::User) => None,
            (ClientKind::ClaudeCode, Scope::Project) => {
                Some("Claude Code asks you to approve a project's server the first time it starts.")
            }
            (ClientKind::VsCode, Scope::Project) => {
                Some("VS Code asks you to trust the server when it first starts.")
            }
            (ClientKind::Gemini, Scope::Project) => {
                Some("Gemini CLI reads project settings only in folders you trust.")
            }
            (ClientKind::Codex, Scope::Project) => {
                Some("Codex reads .codex/config.toml only in projects you trust.")
            }
            (_, Scope::Project) => None,
        };
        match trust {
            Some(trust) => format!("{} {trust}", self.next_step()),
            None => self.next_step().to_owned(),
        }
    }

    /// A caveat worth showing beside the client, if any.
    pub fn note(self) -> Option<&'static str> {
        match self {
            ClientKind::ClaudeDesktop => Some(
                "Claude Desktop cannot reach a local HTTP endpoint from its config file, so it gets the `gatehouse bridge` command.",
            ),
            ClientKind::Windsurf => Some(
                "Windsurf is now Devin Desktop: this is the Cascade agent's file; the Devin Local agent reads its own.",
            ),
            ClientKind::Cline => Some(
                "Cline 4 and later read this file; older versions kept it in VS Code's storage.",
            ),
            ClientKind::Continue => Some(
                "Gatehouse writes its own file in Continue's mcpServers folder, so your config.yaml is never touched.",
            ),
            _ => None,
        }
    }
}

/// Claude Desktop's directory. On Windows the MSIX install (the default
/// since early 2026) reads a virtualised copy under `%LOCALAPPDATA%\Packages`;
/// writing `%APPDATA%\Claude` there is silently ignored (clients.md §2.7).
fn claude_desktop_dir(env: &Environment) -> PathBuf {
    if env.os() == Os::Windows {
        let packages = env.local_app_data().join("Packages");
        if let Ok(entries) = std::fs::read_dir(&packages) {
            let mut msix: Vec<PathBuf> = entries
                .filter_map(Result::ok)
                .filter(|entry| entry.file_name().to_string_lossy().starts_with("Claude_"))
                .map(|entry| {
                    entry
                        .path()
                        .join("LocalCache")
                        .join("Roaming")
                        .join("Claude")
                })
                .collect();
            msix.sort();
            if let Some(dir) = msix.into_iter().next() {
                return dir;
            }
        }
    }
    env.app_config_dir().join("Claude")
}

/// Zed: `%APPDATA%\Zed` on Windows; elsewhere the XDG rule (also on macOS),
/// with Flatpak's own variable first.
fn zed_dir(env: &Environment) -> PathBuf {
    match env.os() {
        Os::Windows => env.app_config_dir().join("Zed"),
        Os::Linux => env
            .var_path("FLATPAK_XDG_CONFIG_HOME")
            .unwrap_or_else(|| env.xdg_config_dir())
            .join("zed"),
        Os::MacOs => env.home().join(".config").join("zed"),
    }
}

/// Goose: `%APPDATA%\Block\goose\config` on Windows, `~/.config/goose` elsewhere.
fn goose_dir(env: &Environment) -> PathBuf {
    match env.os() {
        Os::Windows => env
            .app_config_dir()
            .join("Block")
            .join("goose")
            .join("config"),
        Os::Linux | Os::MacOs => env.home().join(".config").join("goose"),
    }
}

/// Cline 4's settings file and its overrides, most specific first.
fn cline_settings(env: &Environment) -> PathBuf {
    if let Some(path) = env.var_path("CLINE_MCP_SETTINGS_PATH") {
        return path;
    }
    let data = env
        .var_path("CLINE_DATA_DIR")
        .or_else(|| env.var_path("CLINE_DIR").map(|dir| dir.join("data")))
        .unwrap_or_else(|| env.home().join(".cline").join("data"));
    data.join("settings").join("cline_mcp_settings.json")
}

/// opencode: `$OPENCODE_CONFIG`, else `opencode.jsonc` if that is the one
/// the user has, else `opencode.json`, under the XDG config dir.
fn opencode_config(env: &Environment) -> PathBuf {
    if let Some(path) = env.var_path("OPENCODE_CONFIG") {
        return path;
    }
    let dir = env.xdg_config_dir().join("opencode");
    let jsonc = dir.join("opencode.jsonc");
    if !dir.join("opencode.json").exists() && jsonc.exists() {
        jsonc
    } else {
        dir.join("opencode.json")
    }
}
