//! Secrets in the OS keyring, and nowhere else.
//!
//! Server credentials and the gateway token are stored under the keyring
//! service `gatehouse` (macOS Keychain, Windows Credential Manager, the Secret
//! Service on Linux, through the `keyring` crate). This crate is the only part
//! of Gatehouse that talks to the keyring.
//!
//! There is deliberately no fallback: when no keyring is reachable the caller
//! gets [`Error::Unavailable`] with the reason and a fix, never a silent
//! plaintext store. Secret values are wrapped in [`Secret`], whose `Debug`
//! output is masked, so they cannot slip into a log line by accident.
#![deny(missing_docs)]

use std::fmt;

/// The keyring service name every Gatehouse entry is stored under.
pub const SERVICE: &str = "gatehouse";

/// Result alias for this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What went wrong talking to the keyring. Messages never contain secret values.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// No usable keyring: none running, locked, or access refused.
    #[error("the OS keyring is not reachable: {reason}. {}", fix_hint())]
    Unavailable {
        /// The platform's own explanation.
        reason: String,
    },
    /// The keyring answered, but the operation failed.
    #[error("keyring error for `{account}`: {reason}")]
    Failed {
        /// The entry involved (never its value).
        account: String,
        /// The platform's explanation.
        reason: String,
    },
}

/// How to make a keyring available on this platform, in one sentence.
pub fn fix_hint() -> &'static str {
    if cfg!(target_os = "linux") {
        "Gatehouse needs a Secret Service provider: run it inside your desktop session with \
         gnome-keyring or KeePassXC running and unlocked (apt-get install gnome-keyring); on a \
         headless machine start one with `dbus-run-session -- sh -c 'gnome-keyring-daemon \
         --unlock --components=secrets --daemonize; gatehouse serve'`"
    } else if cfg!(target_os = "macos") {
        "unlock your login keychain (Keychain Access) and allow Gatehouse to use it"
    } else if cfg!(target_os = "windows") {
        "make sure the Credential Manager service is running for your user"
    } else {
        "this platform has no keyring backend that Gatehouse supports"
    }
}

/// A secret value. Its `Debug` and `Display` are masked.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a value.
    pub fn new(value: String) -> Secret {
        Secret(value)
    }

    /// The value itself: only for handing to a child process or a comparison.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(****)")
    }
}

/// Entries of one keyring service.
#[derive(Debug, Clone)]
pub struct SecretStore {
    service: String,
}

impl Default for SecretStore {
    fn default() -> Self {
        SecretStore::new(SERVICE)
    }
}

impl SecretStore {
    /// A store for `service` (tests use their own service name).
    pub fn new(service: &str) -> SecretStore {
        SecretStore {
            service: service.to_owned(),
        }
    }

    /// Checks that the keyring answers, by looking up an entry that need not
    /// exist.
    ///
    /// # Errors
    /// [`Error::Unavailable`] with the reason when it does not.
    pub fn probe(&self) -> Result<()> {
        self.get("gatehouse-probe").map(|_| ())
    }

    /// Reads `account`; `Ok(None)` when there is no such entry.
    ///
    /// # Errors
    /// [`Error::Unavailable`] or [`Error::Failed`].
    pub fn get(&self, account: &str) -> Result<Option<Secret>> {
        let entry = self.entry(account)?;
        match entry.get_password() {
            Ok(value) => Ok(Some(Secret(value))),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(err) => Err(classify(account, err)),
        }
    }

    /// Stores `value` under `account`, replacing any previous value.
    ///
    /// # Errors
    /// [`Error::Unavailable`] or [`Error::Failed`].
    pub fn set(&self, account: &str, value: &Secret) -> Result<()> {
        self.entry(account)?
            .set_password(value.expose())
            .map_err(|err| classify(account, err))
    }

    /// Deletes `account`; `Ok(false)` when there was nothing to delete.
    ///
    /// # Errors
    /// [`Error::Unavailable`] or [`Error::Failed`].
    pub fn remove(&self, account: &str) -> Result<bool> {
        match self.entry(account)?.delete_credential() {
            Ok(()) => Ok(true),
            Err(keyring::Error::NoEntry) => Ok(false),
            Err(err) => Err(classify(account, err)),
        }
    }

    fn entry(&self, account: &str) -> Result<keyring::Entry> {
        keyring::Entry::new(&self.service, account).map_err(|err| classify(account, err))
    }
}

fn classify(account: &str, err: keyring::Error) -> Error {
    match err {
        keyring::Error::NoDefaultStore => {
            // keyring sets its store up once per process; the cause of a
            // missing store is kept in `store_status`.
            let reason = match keyring::Entry::store_status() {
                Err(cause) => cause.to_string(),
                Ok(()) => err.to_string(),
            };
            Error::Unavailable { reason }
        }
        keyring::Error::PlatformFailure(_) | keyring::Error::NoStorageAccess(_) => {
            Error::Unavailable {
                reason: err.to_string(),
            }
        }
        other => Error::Failed {
            account: account.to_owned(),
            reason: other.to_string(),
        },
    }
}

/// Key fragments that name a secret, compared without case, `_` or `-`.
const SECRET_KEYS: &[&str] = &[
    "password",
    "passwd",
    "passphrase",
    "secret",
    "token",
    "apikey",
    "authorization",
    "credential",
    "privatekey",
    "accesskey",
    "cookie",
];

/// Whether an environment variable or argument named `key` holds a
/// secret: `password`, `api_key`, `Authorization`, `GITHUB_TOKEN`…
pub fn names_a_secret(key: &str) -> bool {
    let folded: String = key
        .chars()
        .filter(|c| *c != '_' && *c != '-')
        .flat_map(char::to_lowercase)
        .collect();
    SECRET_KEYS.iter().any(|fragment| folded.contains(fragment))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_masked_in_debug() {
        let secret = Secret::new("hunter2".to_owned());
        assert_eq!(format!("{secret:?}"), "Secret(****)");
        assert_eq!(secret.expose(), "hunter2");
    }

    #[test]
    fn unavailable_error_says_how_to_fix_it() {
        let err = Error::Unavailable {
            reason: "no session bus".to_owned(),
        };
        let text = err.to_string();
        assert!(text.starts_with("the OS keyring is not reachable: no session bus."));
        assert!(text.contains(fix_hint()));
    }
}
