//! Server secrets: what `gatehouse secret set|list|remove` and the GUI do,
//! and the keyring-backed [`SecretLookup`] the supervisor asks at spawn.
//!
//! A server's secret `KEY` is stored in the keyring under the account
//! `SERVER/KEY`; the config only names it in the server's `secret_env`.

use gatehouse_config::Config;
use gatehouse_secrets::{Secret, SecretStore};
use gatehouse_supervisor::SecretLookup;

/// Errors of the secret commands. Messages never contain a secret value.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SecretError {
    /// The server is not in the config.
    #[error("there is no server `{0}` in the config")]
    NoSuchServer(String),
    /// The value given was empty.
    #[error("the value is empty; nothing was stored")]
    Empty,
    /// The keyring failed.
    #[error(transparent)]
    Keyring(#[from] gatehouse_secrets::Error),
}

/// One secret name and whether a value is stored for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretEntry {
    /// The server.
    pub server: String,
    /// The environment variable.
    pub key: String,
    /// Whether the keyring holds a value.
    pub is_set: bool,
}

fn account(server: &str, key: &str) -> String {
    format!("{server}/{key}")
}

fn check_server(config: &Config, server: &str) -> Result<(), SecretError> {
    if config
        .servers
        .iter()
        .any(|spec| spec.name.as_str() == server)
    {
        Ok(())
    } else {
        Err(SecretError::NoSuchServer(server.to_owned()))
    }
}

/// Stores `value` as `server`'s secret `key`. Returns whether `key` is
/// listed in the server's `secret_env` (if not, the server will not get it).
///
/// # Errors
/// An unknown server, an empty value, or a keyring failure.
pub fn set(
    store: &SecretStore,
    config: &Config,
    server: &str,
    key: &str,
    value: Secret,
) -> Result<bool, SecretError> {
    check_server(config, server)?;
    if value.expose().is_empty() {
        return Err(SecretError::Empty);
    }
    store.set(&account(server, key), &value)?;
    tracing::info!(server, key, "secret stored");
    Ok(config
        .servers
        .iter()
        .any(|spec| spec.name.as_str() == server && spec.secret_env.iter().any(|k| k == key)))
}

/// Stores a credential found in a client's config for a server that is
/// being imported (so not yet in the config; the caller adds it next).
///
/// # Errors
/// An empty value, or a keyring failure.
pub(crate) fn store_imported(
    store: &SecretStore,
    server: &str,
    key: &str,
    value: &Secret,
) -> Result<(), SecretError> {
    if value.expose().is_empty() {
        return Err(SecretError::Empty);
    }
    store.set(&account(server, key), value)?;
    tracing::info!(server, key, "imported secret stored");
    Ok(())
}

/// Removes `server`'s secret `key`; `false` when there was none.
///
/// # Errors
/// A keyring failure.
pub fn remove(store: &SecretStore, server: &str, key: &str) -> Result<bool, SecretError> {
    Ok(store.remove(&account(server, key))?)
}

/// Every secret name in the config (of one server, if given), and whether
/// it has a value. Values are never read out of this function.
///
/// # Errors
/// An unknown server, or a keyring failure.
pub fn list(
    store: &SecretStore,
    config: &Config,
    server: Option<&str>,
) -> Result<Vec<SecretEntry>, SecretError> {
    if let Some(server) = server {
        check_server(config, server)?;
    }
    let mut entries = Vec::new();
    for spec in &config.servers {
        if server.is_some_and(|name| name != spec.name.as_str()) {
            continue;
        }
        for key in &spec.secret_env {
            entries.push(SecretEntry {
                server: spec.name.to_string(),
                key: key.clone(),
                is_set: store.get(&account(spec.name.as_str(), key))?.is_some(),
            });
        }
    }
    Ok(entries)
}

/// The supervisor's view of the keyring.
#[derive(Debug)]
pub(crate) struct KeyringLookup {
    pub(crate) store: SecretStore,
}

impl SecretLookup for KeyringLookup {
    fn lookup(&self, server: &str, key: &str) -> Result<String, String> {
        match self.store.get(&account(server, key)) {
            Ok(Some(secret)) => Ok(secret.expose().to_owned()),
            Ok(None) => Err(format!(
                "the secret `{key}` of server `{server}` is not set; set it with `gatehouse secret set {server} {key}`"
            )),
            Err(err) => Err(err.to_string()),
        }
    }
}
