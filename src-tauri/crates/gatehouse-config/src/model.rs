//! The validated configuration the rest of Gatehouse works with.

use std::collections::BTreeMap;
use std::fmt;
use std::ops::RangeInclusive;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use toml::Spanned;

use crate::error::{Error, Location, Result};
use crate::schema;

/// The longest server name accepted. Tool names are exposed as
/// `server__tool`, and MCP caps names at 128 characters: half is for the server.
pub const MAX_SERVER_NAME_LEN: usize = 64;

/// A validated `gatehouse.toml`. `Default` is an empty file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Config {
    /// Logging settings from the `[log]` table.
    pub log: LogSettings,
    /// The `[gateway]` table.
    pub gateway: GatewaySettings,
    /// The configured servers, sorted by name.
    pub servers: Vec<ServerSpec>,
    /// The `[approvals]` table, and every server's tool rules.
    pub approvals: ApprovalSettings,
}

/// When Gatehouse asks a person before a tool call runs: the `[approvals]`
/// table, and the `[servers.NAME.tools]` rules.
///
/// The rules live here and not in [`ServerSpec`]: the supervisor restarts a
/// server whose spec changed, and changing a rule must not restart anything.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApprovalSettings {
    /// How long a call waits for a person's answer before it is denied.
    pub timeout: Duration,
    /// Ask before every call to a tool that is not read-only, even one that
    /// says it is not destructive.
    pub ask_non_read_only: bool,
    /// How many days the call log keeps a call; 0 keeps it forever.
    pub retention_days: u32,
    /// Server name -> tool name -> rule. Servers without rules have no entry.
    pub rules: BTreeMap<String, BTreeMap<String, Rule>>,
}

impl ApprovalSettings {
    /// `timeout_secs` when the file does not set it.
    pub const DEFAULT_TIMEOUT_SECS: u64 = 120;
    /// The values `timeout_secs` may take.
    pub const TIMEOUT_SECS_RANGE: RangeInclusive<u64> = 10..=3600;
    /// `retention_days` when the file does not set it.
    pub const DEFAULT_RETENTION_DAYS: u32 = 90;
    /// The values `retention_days` may take (0: keep forever).
    pub const RETENTION_DAYS_RANGE: RangeInclusive<u32> = 0..=36500;

    /// The rule for `tool` of `server`, if the config has one.
    pub fn rule(&self, server: &str, tool: &str) -> Option<Rule> {
        self.rules.get(server)?.get(tool).copied()
    }
}

impl Default for ApprovalSettings {
    fn default() -> ApprovalSettings {
        ApprovalSettings {
            timeout: Duration::from_secs(ApprovalSettings::DEFAULT_TIMEOUT_SECS),
            ask_non_read_only: false,
            retention_days: ApprovalSettings::DEFAULT_RETENTION_DAYS,
            rules: BTreeMap::new(),
        }
    }
}

/// A person's rule for one tool, written `"allow"`, `"ask"` or `"deny"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Rule {
    /// Run calls without asking.
    Allow,
    /// Ask before every call.
    Ask,
    /// Refuse every call.
    Deny,
}

impl Rule {
    /// Every rule, in the order they are listed to people.
    pub const ALL: [Rule; 3] = [Rule::Allow, Rule::Ask, Rule::Deny];

    /// The rule as written in the config: `allow`, `ask` or `deny`.
    pub fn as_str(self) -> &'static str {
        match self {
            Rule::Allow => "allow",
            Rule::Ask => "ask",
            Rule::Deny => "deny",
        }
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Rule {
    type Err = ParseRuleError;

    fn from_str(text: &str) -> std::result::Result<Rule, ParseRuleError> {
        Rule::ALL
            .into_iter()
            .find(|rule| rule.as_str() == text)
            .ok_or_else(|| ParseRuleError(text.to_owned()))
    }
}

/// Text that is not one of the three [`Rule`]s.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown rule `{0}`, expected `allow`, `ask` or `deny`")]
pub struct ParseRuleError(String);

/// The `[gateway]` table: the MCP endpoint. `None` means "not set in the
/// file".
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GatewaySettings {
    /// Where the endpoint listens, e.g. `127.0.0.1:8737`.
    pub addr: Option<std::net::SocketAddr>,
    /// Browser origins allowed besides the endpoint's own, each
    /// `scheme://host:port`.
    pub allowed_origins: Vec<String>,
}

/// The `[log]` table. `None` means "not set in the file".
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LogSettings {
    /// A `tracing` filter directive such as `info` or `info,gatehouse=debug`.
    pub level: Option<String>,
    /// Line format on stderr.
    pub format: Option<LogFormat>,
}

/// How log lines are written to stderr.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Text,
    /// One JSON object per line.
    Json,
}

impl FromStr for LogFormat {
    type Err = String;

    fn from_str(text: &str) -> std::result::Result<LogFormat, String> {
        match text {
            "text" => Ok(LogFormat::Text),
            "json" => Ok(LogFormat::Json),
            other => Err(format!(
                "unknown log format `{other}`, expected `text` or `json`"
            )),
        }
    }
}

/// A server's name: 1 to 64 characters of `A-Z a-z 0-9 _ -`, not starting
/// with `-`, and without `__` (the namespace separator of the gateway).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ServerName(String);

impl ServerName {
    /// Validates `name`.
    ///
    /// # Errors
    /// A sentence saying what is wrong with the name.
    pub fn new(name: &str) -> std::result::Result<ServerName, String> {
        if name.is_empty() {
            return Err("a server name cannot be empty".to_owned());
        }
        if name.chars().count() > MAX_SERVER_NAME_LEN {
            return Err(format!(
                "server name `{name}` is longer than {MAX_SERVER_NAME_LEN} characters"
            ));
        }
        if let Some(bad) = name
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || *c == '_' || *c == '-'))
        {
            return Err(format!(
                "server name `{name}` contains `{bad}`; use letters, digits, `_` and `-`"
            ));
        }
        if name.starts_with('-') {
            return Err(format!("server name `{name}` cannot start with `-`"));
        }
        if name.contains("__") {
            return Err(format!(
                "server name `{name}` cannot contain `__` (it separates server and tool names)"
            ));
        }
        Ok(ServerName(name.to_owned()))
    }

    /// The name as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ServerName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// One `[servers.NAME]` table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerSpec {
    /// The table's name.
    pub name: ServerName,
    /// The program to run: a bare name looked up on `PATH`, a path, or
    /// `gatehouse` for this executable itself.
    pub command: String,
    /// Arguments passed to `command`.
    pub args: Vec<String>,
    /// Plain (non-secret) environment variables for the server.
    pub env: BTreeMap<String, String>,
    /// Names of environment variables whose values come from the keyring.
    pub secret_env: Vec<String>,
    /// Working directory; `None` means Gatehouse's data directory.
    pub cwd: Option<PathBuf>,
    /// Whether Gatehouse starts this server.
    pub enabled: bool,
}

pub(crate) fn validate(path: &Path, text: &str, file: schema::ConfigFile) -> Result<Config> {
    let invalid = |span: std::ops::Range<usize>, message: String| Error::Invalid {
        location: Location::from_offset(path, text, span.start),
        message,
    };

    let level = match file.log.level {
        Some(level) => {
            let span = level.span();
            let level = level.into_inner();
            if level.trim().is_empty() {
                return Err(invalid(span, "`log.level` cannot be empty".to_owned()));
            }
            Some(level)
        }
        None => None,
    };
    let format = match file.log.format {
        Some(format) => {
            let span = format.span();
            Some(
                format
                    .into_inner()
                    .parse()
                    .map_err(|msg| invalid(span, msg))?,
            )
        }
        None => None,
    };

    let gateway = validate_gateway(file.gateway, &invalid)?;

    let mut approvals = validate_approvals(file.approvals, &invalid)?;

    let mut servers = Vec::with_capacity(file.servers.len());
    for (name, mut entry) in file.servers {
        let name_span = name.span();
        let name = ServerName::new(name.get_ref()).map_err(|msg| invalid(name_span, msg))?;
        let tools = std::mem::take(&mut entry.tools);
        servers.push(validate_server(name.clone(), entry, &invalid)?);
        let rules = validate_tool_rules(&name, tools, &invalid)?;
        if !rules.is_empty() {
            approvals.rules.insert(name.0, rules);
        }
    }
    Ok(Config {
        log: LogSettings { level, format },
        gateway,
        servers,
        approvals,
    })
}

fn validate_approvals(
    section: schema::ApprovalsSection,
    invalid: &impl Fn(std::ops::Range<usize>, String) -> Error,
) -> Result<ApprovalSettings> {
    let mut settings = ApprovalSettings::default();
    if let Some(secs) = section.timeout_secs {
        let span = secs.span();
        let secs =
            check_timeout_secs(i128::from(secs.into_inner())).map_err(|msg| invalid(span, msg))?;
        settings.timeout = Duration::from_secs(secs);
    }
    if let Some(ask) = section.ask_non_read_only {
        settings.ask_non_read_only = ask;
    }
    if let Some(days) = section.retention_days {
        let span = days.span();
        settings.retention_days = check_retention_days(i128::from(days.into_inner()))
            .map_err(|msg| invalid(span, msg))?;
    }
    Ok(settings)
}

// Shared with `edit`, which checks the values it is asked to write. `i128`
// holds both the file's `i64` and the caller's `u64` without wrapping.
pub(crate) fn check_timeout_secs(secs: i128) -> std::result::Result<u64, String> {
    let range = ApprovalSettings::TIMEOUT_SECS_RANGE;
    u64::try_from(secs)
        .ok()
        .filter(|secs| range.contains(secs))
        .ok_or_else(|| {
            format!(
                "`approvals.timeout_secs` must be from {} to {} (seconds), not {secs}",
                range.start(),
                range.end()
            )
        })
}

pub(crate) fn check_retention_days(days: i128) -> std::result::Result<u32, String> {
    let range = ApprovalSettings::RETENTION_DAYS_RANGE;
    u32::try_from(days)
        .ok()
        .filter(|days| range.contains(days))
        .ok_or_else(|| {
            format!(
                "`approvals.retention_days` must be from {} to {} (0 keeps the call log forever), not {days}",
                range.start(),
                range.end()
            )
        })
}

fn validate_tool_rules(
    server: &ServerName,
    tools: BTreeMap<Spanned<String>, Spanned<toml::Value>>,
    invalid: &impl Fn(std::ops::Range<usize>, String) -> Error,
) -> Result<BTreeMap<String, Rule>> {
    let mut rules = BTreeMap::new();
    for (tool, rule) in tools {
        if tool.get_ref().is_empty() {
            return Err(invalid(
                tool.span(),
                format!("a tool name in `servers.{server}.tools` cannot be empty"),
            ));
        }
        let span = rule.span();
        let parsed = rule.get_ref().as_str().and_then(|text| text.parse().ok());
        let Some(parsed) = parsed else {
            return Err(invalid(
                span,
                format!(
                    "the rule for tool `{}` of server `{server}` must be \"allow\", \"ask\" or \"deny\", not {}",
                    tool.get_ref(),
                    rule.get_ref()
                ),
            ));
        };
        rules.insert(tool.into_inner(), parsed);
    }
    Ok(rules)
}

fn validate_gateway(
    section: schema::GatewaySection,
    invalid: &impl Fn(std::ops::Range<usize>, String) -> Error,
) -> Result<GatewaySettings> {
    let addr = match section.addr {
        Some(addr) => {
            let span = addr.span();
            let text = addr.into_inner();
            Some(text.parse().map_err(|_| {
                invalid(
                    span,
                    format!("`gateway.addr` must be an IP address and port like `127.0.0.1:8737`, not `{text}`"),
                )
            })?)
        }
        None => None,
    };
    let mut allowed_origins = Vec::new();
    for origin in section.allowed_origins {
        let span = origin.span();
        let origin = origin.into_inner();
        let well_formed = origin.split_once("://").is_some_and(|(scheme, rest)| {
            matches!(scheme, "http" | "https") && !rest.is_empty() && !rest.contains('/')
        });
        if !well_formed {
            return Err(invalid(
                span,
                format!(
                    "`{origin}` is not an origin; write it as `http://host:port` or `https://host:port`"
                ),
            ));
        }
        allowed_origins.push(origin);
    }
    Ok(GatewaySettings {
        addr,
        allowed_origins,
    })
}

fn validate_server(
    name: ServerName,
    entry: schema::ServerEntry,
    invalid: &impl Fn(std::ops::Range<usize>, String) -> Error,
) -> Result<ServerSpec> {
    let command_span = entry.command.span();
    let command = entry.command.into_inner();
    if command.trim().is_empty() {
        return Err(invalid(
            command_span,
            format!("server `{name}` has an empty `command`"),
        ));
    }
    let mut env = BTreeMap::new();
    for (key, value) in entry.env {
        let span = key.span();
        check_env_name(key.get_ref()).map_err(|msg| invalid(span.clone(), msg))?;
        if value.contains('\0') {
            return Err(invalid(
                span,
                format!("the value of `{}` contains a NUL byte", key.get_ref()),
            ));
        }
        env.insert(key.into_inner(), value);
    }
    let mut secret_env = Vec::with_capacity(entry.secret_env.len());
    for key in entry.secret_env {
        let span = key.span();
        check_env_name(key.get_ref()).map_err(|msg| invalid(span.clone(), msg))?;
        if env.contains_key(key.get_ref()) {
            return Err(invalid(
                span,
                format!(
                    "`{}` is in both `env` and `secret_env` of server `{name}`; keep it in one",
                    key.get_ref()
                ),
            ));
        }
        if secret_env.contains(key.get_ref()) {
            return Err(invalid(
                span,
                format!("`{}` is listed twice in `secret_env`", key.get_ref()),
            ));
        }
        secret_env.push(Spanned::into_inner(key));
    }
    Ok(ServerSpec {
        name,
        command,
        args: entry.args,
        env,
        secret_env,
        cwd: entry.cwd.map(PathBuf::from),
        enabled: entry.enabled,
    })
}

fn check_env_name(key: &str) -> std::result::Result<(), String> {
    let valid = !key.is_empty()
        && !key.starts_with(|c: char| c.is_ascii_digit())
        && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if valid {
        Ok(())
    } else {
        Err(format!(
            "`{key}` is not a valid environment variable name (letters, digits and `_`, not starting with a digit)"
        ))
    }
}
