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
}

fn enabled_default() -> bool {
    true
}
