//! The validated configuration the rest of Gatehouse works with.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

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
}

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

    let mut servers = Vec::with_capacity(file.servers.len());
    for (name, entry) in file.servers {
        let name_span = name.span();
        let name = ServerName::new(name.get_ref()).map_err(|msg| invalid(name_span, msg))?;
        servers.push(validate_server(name, entry, &invalid)?);
    }
    Ok(Config {
        log: LogSettings { level, format },
        gateway,
        servers,
    })
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
