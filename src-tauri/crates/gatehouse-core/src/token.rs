//! The gateway's bearer token: where it comes from, and `gatehouse token
//! show | rotate`.
//!
//! `--token` wins, then `$GATEHOUSE_TOKEN`, else the OS keyring (account
//! [`ACCOUNT`]), where the first run stores 32 random bytes as hex. Only
//! this module and `secrets` touch the keyring.

use gatehouse_secrets::{Secret, SecretStore};

/// The keyring account of the token. Server secrets are `SERVER/KEY`, and
/// server names cannot start with `@`.
pub const ACCOUNT: &str = "@gateway/token";
/// The environment variable that overrides the keyring.
pub const ENV: &str = "GATEHOUSE_TOKEN";

/// Where the token in use came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// `--token`.
    Flag,
    /// `$GATEHOUSE_TOKEN`.
    Env,
    /// The OS keyring.
    Keyring,
}

impl Source {
    /// One word, as shown to people and scripts.
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Flag => "flag",
            Source::Env => "env",
            Source::Keyring => "keyring",
        }
    }
}

/// Errors getting or rotating the token. Never contain the token.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TokenError {
    /// The keyring failed.
    #[error(transparent)]
    Keyring(#[from] gatehouse_secrets::Error),
    /// A token given on the command line or in the environment is unusable.
    #[error("the token from {0} is {1}; use at least 16 visible ASCII characters")]
    Unusable(&'static str, &'static str),
    /// The token came from `--token` or `$GATEHOUSE_TOKEN`, not the keyring.
    #[error(
        "this Gatehouse uses the token from {0} (`--token` or `$GATEHOUSE_TOKEN`), so there is nothing to rotate; change it where you set it"
    )]
    NotRotatable(&'static str),
    /// The system's random source failed.
    #[error("cannot generate a token: {0}")]
    Random(String),
}

/// The token to use: `flag`, else `$GATEHOUSE_TOKEN`, else the keyring's,
/// generated and stored if there is none yet.
///
/// # Errors
/// An unusable flag or variable value, or a keyring failure.
pub fn resolve(flag: Option<&str>) -> Result<(Secret, Source), TokenError> {
    if let Some(token) = flag {
        return Ok((Secret::new(checked(token, "--token")?), Source::Flag));
    }
    if let Ok(token) = std::env::var(ENV) {
        return Ok((
            Secret::new(checked(&token, "$GATEHOUSE_TOKEN")?),
            Source::Env,
        ));
    }
    let store = SecretStore::default();
    if let Some(token) = store.get(ACCOUNT)? {
        return Ok((token, Source::Keyring));
    }
    let token = generate()?;
    store.set(ACCOUNT, &token)?;
    tracing::info!("generated the gateway token and stored it in the keyring");
    Ok((token, Source::Keyring))
}

/// The token in use if there is one: `$GATEHOUSE_TOKEN`, else the
/// keyring's. Unlike [`resolve`], never creates one.
pub fn existing() -> Option<Secret> {
    if let Ok(token) = std::env::var(ENV) {
        return checked(&token, "$GATEHOUSE_TOKEN").ok().map(Secret::new);
    }
    SecretStore::default().get(ACCOUNT).ok().flatten()
}

/// Replaces the keyring's token with a new one and returns it.
///
/// # Errors
/// A keyring failure.
pub fn rotate() -> Result<Secret, TokenError> {
    let token = generate()?;
    SecretStore::default().set(ACCOUNT, &token)?;
    tracing::info!("rotated the gateway token");
    Ok(token)
}

/// 32 random bytes, as 64 hex digits.
fn generate() -> Result<Secret, TokenError> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|err| TokenError::Random(err.to_string()))?;
    Ok(Secret::new(hex::encode(bytes)))
}

/// A token must be something a person would not type by accident, and
/// fit in a header.
fn checked(token: &str, from: &'static str) -> Result<String, TokenError> {
    let token = token.trim();
    if token.len() < 16 {
        return Err(TokenError::Unusable(from, "shorter than 16 characters"));
    }
    if !token.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(TokenError::Unusable(from, "not all visible ASCII"));
    }
    Ok(token.to_owned())
}

/// The token for display: the first and last four characters.
pub fn hint(token: &str) -> String {
    match (token.get(..4), token.get(token.len().saturating_sub(4)..)) {
        (Some(head), Some(tail)) if token.len() > 8 => format!("{head}…{tail}"),
        _ => "****".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_tokens_are_64_hex_digits_and_differ() {
        let a = generate().unwrap();
        let b = generate().unwrap();
        assert_eq!(a.expose().len(), 64);
        assert!(a.expose().bytes().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a.expose(), b.expose());
    }

    #[test]
    fn a_flag_token_wins_and_must_be_usable() {
        let (token, source) = resolve(Some("0123456789abcdef0123")).unwrap();
        assert_eq!(
            (token.expose(), source),
            ("0123456789abcdef0123", Source::Flag)
        );
        assert!(resolve(Some("short")).is_err());
        assert!(resolve(Some("has a space in the middle")).is_err());
    }

    #[test]
    fn hints_show_only_the_ends() {
        assert_eq!(hint("0123456789abcdef"), "0123…cdef");
        assert_eq!(hint("short"), "****");
    }
}
