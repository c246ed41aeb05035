//! The on-disk format of `gatehouse.toml`.
//!
//! Only serde types live here; validation happens in `model`. Unknown keys are
//! errors, so a typo (`comand = …`) is reported instead of silently ignored.

use std::collections::BTreeMap;

use serde::Deserialize;
use toml::Spanned;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ConfigFile {
    #[serde(default)]
    pub(crate) log: LogSection,
    #[serde(default)]
    pub(crate) gateway: GatewaySection,
    #[serde(default)]
    pub(crate) servers: BTreeMap<Spanned<String>, ServerEntry>,
    #[serde(default)]
    pub(crate) approvals: ApprovalsSection,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct LogSection {
    pub(crate) level: Option<Spanned<String>>,
    pub(crate) format: Option<Spanned<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct GatewaySection {
    pub(crate) addr: Option<Spanned<String>>,
    #[serde(default)]
    pub(crate) allowed_origins: Vec<Spanned<String>>,
}

// Integers are read as `i64` so that a negative or huge value gets the range
// message from `model`, not serde's type error.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ApprovalsSection {
    pub(crate) timeout_secs: Option<Spanned<i64>>,
    pub(crate) ask_non_read_only: Option<bool>,
    pub(crate) retention_days: Option<Spanned<i64>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ServerEntry {
    pub(crate) command: Spanned<String>,
    #[serde(default)]
    pub(crate) args: Vec<String>,
    #[serde(default)]
    pub(crate) env: BTreeMap<Spanned<String>, String>,
    #[serde(default)]
    pub(crate) secret_env: Vec<Spanned<String>>,
    pub(crate) cwd: Option<String>,
    #[serde(default = "enabled_default")]
    pub(crate) enabled: bool,
    /// Tool name -> rule. Any value is accepted here so that a wrong one
    /// (`true`, `"block"`) gets the message listing the three rules.
    #[serde(default)]
    pub(crate) tools: BTreeMap<Spanned<String>, Spanned<toml::Value>>,
}

fn enabled_default() -> bool {
    true
}
