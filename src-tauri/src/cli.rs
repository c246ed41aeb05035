//! The command line: every subcommand and flag, and nothing else.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Gatehouse runs your local MCP servers for all of your AI clients.
///
/// With no command it starts the tray app. Flags win over environment
/// variables, which win over gatehouse.toml.
#[derive(Debug, Parser)]
#[command(name = "gatehouse", version, about, long_about = None)]
pub struct Cli {
    /// The config file [default: gatehouse.toml in the platform config dir, or in $GATEHOUSE_HOME]
    #[arg(long, global = true, env = "GATEHOUSE_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Log filter: error, warn, info, debug, trace, or a tracing directive [default: info]
    #[arg(long, global = true, env = "GATEHOUSE_LOG", value_name = "FILTER")]
    pub log_level: Option<String>,

    /// Log line format on stderr [default: text]
    #[arg(long, global = true, env = "GATEHOUSE_LOG_FORMAT", value_enum)]
    pub log_format: Option<LogFormatArg>,

    /// Open the main window when the tray app starts
    #[arg(long)]
    pub open: bool,

    #[command(flatten)]
    pub gateway: GatewayArgs,

    #[command(subcommand)]
    pub command: Option<Command>,
}

/// `--log-format` values.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum LogFormatArg {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

/// The MCP endpoint's flags, for the tray app and `serve`.
#[derive(Debug, Clone, Args)]
pub struct GatewayArgs {
    /// Where the MCP endpoint listens [default: `[gateway] addr` in gatehouse.toml, else 127.0.0.1:8737]
    #[arg(long, env = "GATEHOUSE_ADDR", value_name = "IP:PORT")]
    pub addr: Option<std::net::SocketAddr>,

    /// Allow a non-loopback --addr (other machines could then reach your MCP servers)
    #[arg(long)]
    pub allow_remote: bool,

    /// The bearer token clients must send [default: $GATEHOUSE_TOKEN, else the one in the OS keyring]
    #[arg(long, value_name = "TOKEN")]
    pub token: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the core headless: servers and the MCP endpoint, no tray, no window
    Serve {
        #[command(flatten)]
        gateway: GatewayArgs,
    },
    /// A stdio MCP server that relays to the running Gatehouse, for clients that only launch processes
    Bridge {
        /// Relay to this one server (original tool names) instead of all of them
        #[arg(long, value_name = "NAME")]
        server: Option<String>,
    },
    /// Show or rotate the MCP endpoint's bearer token
    #[command(subcommand)]
    Token(TokenCommand),
    /// Run the built-in demo MCP server (a notes store) on stdin/stdout
    DemoServer,
    /// Inspect the configured MCP servers
    #[command(subcommand)]
    Server(ServerCommand),
    /// Manage servers' secrets in the OS keyring (values never on the command line)
    #[command(subcommand)]
    Secret(SecretCommand),
    /// List and answer tool calls waiting for approval (through the running Gatehouse only)
    #[command(args_conflicts_with_subcommands = true)]
    Approvals {
        #[command(subcommand)]
        command: Option<ApprovalsCommand>,
        /// Only the calls waiting now (without it, the recent answers too).
        #[arg(long)]
        pending: bool,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Show, filter, export or verify the tool-call log
    #[command(args_conflicts_with_subcommands = true)]
    Log {
        #[command(subcommand)]
        command: Option<LogCommand>,
        #[command(flatten)]
        filter: LogFilterArgs,
        /// Print JSON (an array of rows).
        #[arg(long, conflicts_with = "csv")]
        json: bool,
        /// Print CSV.
        #[arg(long)]
        csv: bool,
    },
    /// Register Gatehouse with your MCP clients (Claude Desktop, Cursor, VS Code, Claude Code…)
    #[command(subcommand)]
    Client(ClientCommand),
    /// Check this machine: config, directories, keyring, display and tray, servers
    Doctor {
        /// Print the checks as JSON
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum ServerCommand {
    /// List the servers: live state when Gatehouse runs, else the config
    List {
        /// Print the list as JSON
        #[arg(long)]
        json: bool,
    },
    /// Add a server to gatehouse.toml (a running Gatehouse starts it at once)
    #[command(arg_required_else_help = true)]
    Add {
        /// A name: letters, digits, `_` and `-`
        name: String,
        /// A plain environment variable for the server, KEY=VALUE (repeatable)
        #[arg(long = "env", value_name = "KEY=VALUE")]
        env: Vec<String>,
        /// The name of an environment variable whose value comes from the keyring (repeatable)
        #[arg(long = "secret-env", value_name = "KEY")]
        secret_env: Vec<String>,
        /// The server's working directory
        #[arg(long, value_name = "DIR")]
        cwd: Option<std::path::PathBuf>,
        /// Add it without starting it
        #[arg(long)]
        disabled: bool,
        /// The command and its arguments, after `--`
        #[arg(last = true, required = true, value_name = "CMD")]
        command: Vec<String>,
    },
    /// Remove a server from gatehouse.toml (a running Gatehouse stops it)
    Remove {
        /// The server
        name: String,
    },
    /// Show one server's live state, command, restarts and tools
    Show {
        /// The server
        name: String,
        /// Print it as JSON
        #[arg(long)]
        json: bool,
    },
    /// Start a server that is stopped or failed
    Start {
        /// The server
        name: String,
    },
    /// Stop a server (and everything it started)
    Stop {
        /// The server
        name: String,
    },
    /// Restart a server
    Restart {
        /// The server
        name: String,
    },
    /// A server's log: its stderr, stray stdout, and what Gatehouse did
    Logs {
        /// The server
        name: String,
        /// Keep printing new lines as they come
        #[arg(short, long)]
        follow: bool,
        /// How many recent lines to print
        #[arg(short = 'n', long, default_value_t = 100)]
        lines: usize,
    },
    /// A running server's tool definitions
    Tools {
        /// The server
        name: String,
        /// Print `{name, description, inputSchema, annotations}` objects as JSON
        #[arg(long)]
        json: bool,
    },
    /// Set your approval rule for one of a server's tools (written to gatehouse.toml)
    Policy {
        /// The server
        name: String,
        /// The tool's name on that server
        tool: String,
        /// allow, ask, deny, or default (the tool's annotations decide)
        #[arg(value_enum)]
        rule: RuleArg,
    },
}

/// Which client file: the user's, or a project's.
#[derive(Debug, Clone, Args)]
pub struct ClientTarget {
    /// The client: claude-desktop, claude-code, cursor, vscode, windsurf, zed, cline, roo-code, gemini, codex, lm-studio, goose, opencode, kiro, continue
    pub client: String,
    /// The project's file instead of the user's (it gets the `gatehouse bridge` command and no token, since projects get committed)
    #[arg(long, value_name = "DIR")]
    pub project: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum ClientCommand {
    /// Every client Gatehouse knows: installed or not, the file it writes, and whether Gatehouse is registered there
    List {
        /// Also show each client's file in this project
        #[arg(long, value_name = "DIR")]
        project: Option<PathBuf>,
        /// Print JSON
        #[arg(long)]
        json: bool,
    },
    /// Add Gatehouse's entry to a client's config (or bring it up to date); nothing else in the file changes
    Register {
        #[command(flatten)]
        target: ClientTarget,
        /// An entry for this one server (`gatehouse-NAME`) instead of the one for all servers
        #[arg(long, value_name = "NAME")]
        server: Option<String>,
        /// Print the change as a diff and write nothing
        #[arg(long)]
        dry_run: bool,
    },
    /// Remove Gatehouse's entry from a client's config, and nothing else
    Unregister {
        #[command(flatten)]
        target: ClientTarget,
        /// Remove the entry for this one server (`gatehouse-NAME`)
        #[arg(long, value_name = "NAME")]
        server: Option<String>,
        /// Print the change as a diff and write nothing
        #[arg(long)]
        dry_run: bool,
    },
    /// Put back a client's config as it was before Gatehouse's last change to it
    Undo {
        #[command(flatten)]
        target: ClientTarget,
    },
    /// Copy a client's servers into Gatehouse, moving their plaintext secrets into the OS keyring
    Import {
        #[command(flatten)]
        target: ClientTarget,
        /// Then replace those servers in the client with Gatehouse's entry (removing the plaintext secrets from its file) [asked when interactive]
        #[arg(long, conflicts_with = "keep")]
        replace: bool,
        /// Leave the client's file as it is
        #[arg(long)]
        keep: bool,
        /// Show what would be imported and write nothing
        #[arg(long)]
        dry_run: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Print the token clients must send (`Authorization: Bearer TOKEN`), and the endpoint
    Show {
        /// Print `{token, url, source}` as JSON
        #[arg(long)]
        json: bool,
    },
    /// Replace the token in the keyring; the running Gatehouse wants the new one at once
    Rotate,
    /// Print `{"Authorization": "Bearer TOKEN"}`: the helper Claude Code's entry runs for the token
    Header,
}

#[derive(Debug, Subcommand)]
pub enum SecretCommand {
    /// Store a secret; the value is read from stdin (hidden when typed)
    Set {
        /// The server the secret belongs to
        server: String,
        /// The environment variable the server gets it as
        key: String,
    },
    /// List secret names and whether each has a value (never the values)
    List {
        /// Only this server's secrets
        server: Option<String>,
        /// Print the list as JSON
        #[arg(long)]
        json: bool,
    },
    /// Delete a secret from the keyring
    Remove {
        /// The server the secret belongs to
        server: String,
        /// The environment variable
        key: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum ApprovalsCommand {
    /// Let a waiting call run.
    Approve {
        /// The call's id, from `gatehouse approvals --pending`.
        id: u64,
        /// Also let every later call to this tool run without asking, until
        /// its definition changes.
        #[arg(long)]
        always: bool,
    },
    /// Refuse a waiting call; the client gets an error result.
    Deny {
        /// The call's id, from `gatehouse approvals --pending`.
        id: u64,
    },
}

#[derive(Debug, Subcommand)]
pub enum LogCommand {
    /// Check the log's hash chain; names the first edited, inserted or
    /// deleted row and exits 1 if there is one.
    Verify {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Clone, Args)]
pub struct LogFilterArgs {
    /// Only calls to this server.
    #[arg(long)]
    pub server: Option<String>,
    /// Only calls to this tool.
    #[arg(long)]
    pub tool: Option<String>,
    /// Only allowed or only denied calls.
    #[arg(long, value_enum)]
    pub decision: Option<DecisionArg>,
    /// Only calls since then: a duration back from now (`90m`, `24h`, `7d`)
    /// or a time (`2026-11-20`, `2026-11-20T14:00:00Z`).
    #[arg(long, value_name = "WHEN")]
    pub since: Option<String>,
    /// Only calls whose arguments contain this text.
    #[arg(long)]
    pub search: Option<String>,
    /// At most this many rows, newest first (0: all).
    #[arg(long, default_value_t = 100)]
    pub limit: u32,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum DecisionArg {
    Allowed,
    Denied,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum RuleArg {
    /// Run without asking.
    Allow,
    /// Ask every time.
    Ask,
    /// Refuse without asking.
    Deny,
    /// Remove your rule: the tool's annotations decide.
    Default,
}
