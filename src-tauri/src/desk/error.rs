//! The error the UI receives: `{ "kind": "<Variant>", "message": "<text>" }`.
//! The UI switches on `kind` and shows `message`; it never parses text.
//! It crosses the control channel as a [`Failure`].

use gatehouse_core::desk::Failure;
use gatehouse_core::supervisor::ControlError;

#[derive(Debug, thiserror::Error)]
pub enum IpcError {
    /// The server named in the request is not configured.
    #[error("{0}")]
    NoSuchServer(String),
    /// The token comes from `--token` or `$GATEHOUSE_TOKEN`.
    #[error("{0}")]
    TokenNotRotatable(String),
    /// The keyring failed.
    #[error("{0}")]
    Keyring(String),
    /// There is no token (the endpoint could not get one).
    #[error("{0}")]
    NoToken(String),
    /// The clipboard could not be written.
    #[error("{0}")]
    Clipboard(String),
    /// The call was answered, withdrawn or timed out already.
    #[error("{0}")]
    NotPending(String),
    /// The call log could not be read or written.
    #[error("{0}")]
    Store(String),
    /// gatehouse.toml could not be changed (a bad value, no such server).
    #[error("{0}")]
    Config(String),
    /// A client's file could not be read, parsed or written (it is left as
    /// it was), or an import failed.
    #[error("{0}")]
    Client(String),
    /// A client's file changed since the change was shown: show it again.
    #[error("{0}")]
    ClientFileChanged(String),
    /// No such command, or arguments it does not take (a window of another
    /// Gatehouse version).
    #[error("{0}")]
    BadRequest(String),
}

impl IpcError {
    fn kind(&self) -> &'static str {
        match self {
            IpcError::NoSuchServer(_) => "NoSuchServer",
            IpcError::TokenNotRotatable(_) => "TokenNotRotatable",
            IpcError::Keyring(_) => "Keyring",
            IpcError::NoToken(_) => "NoToken",
            IpcError::Clipboard(_) => "Clipboard",
            IpcError::NotPending(_) => "NotPending",
            IpcError::Store(_) => "Store",
            IpcError::Config(_) => "Config",
            IpcError::Client(_) => "Client",
            IpcError::ClientFileChanged(_) => "ChangedSince",
            IpcError::BadRequest(_) => "BadRequest",
        }
    }
}

impl From<IpcError> for Failure {
    fn from(err: IpcError) -> Failure {
        Failure {
            kind: err.kind().to_owned(),
            message: err.to_string(),
        }
    }
}

impl From<ControlError> for IpcError {
    fn from(err: ControlError) -> IpcError {
        match err {
            ControlError::NoSuchServer(_) => IpcError::NoSuchServer(err.to_string()),
            // `ControlError` is non-exhaustive; new kinds get a variant here.
            _ => IpcError::NoSuchServer(err.to_string()),
        }
    }
}

impl From<gatehouse_core::store::StoreError> for IpcError {
    fn from(err: gatehouse_core::store::StoreError) -> IpcError {
        IpcError::Store(err.to_string())
    }
}

impl From<gatehouse_core::Error> for IpcError {
    fn from(err: gatehouse_core::Error) -> IpcError {
        IpcError::Config(err.to_string())
    }
}

impl From<gatehouse_core::token::TokenError> for IpcError {
    fn from(err: gatehouse_core::token::TokenError) -> IpcError {
        use gatehouse_core::token::TokenError;
        match err {
            TokenError::NotRotatable(_) => IpcError::TokenNotRotatable(err.to_string()),
            _ => IpcError::Keyring(err.to_string()),
        }
    }
}

impl From<gatehouse_core::clients::registry::Error> for IpcError {
    fn from(err: gatehouse_core::clients::registry::Error) -> IpcError {
        match err {
            gatehouse_core::clients::registry::Error::ChangedSince { .. } => {
                IpcError::ClientFileChanged(err.to_string())
            }
            _ => IpcError::Client(err.to_string()),
        }
    }
}

impl From<gatehouse_core::clients::ImportError> for IpcError {
    fn from(err: gatehouse_core::clients::ImportError) -> IpcError {
        match err {
            gatehouse_core::clients::ImportError::Client(err) => err.into(),
            other => IpcError::Client(other.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_reach_the_ui_as_kind_and_message() {
        let err = IpcError::from(ControlError::NoSuchServer("x".to_owned()));
        assert_eq!(
            serde_json::to_value(Failure::from(err)).unwrap(),
            serde_json::json!({"kind": "NoSuchServer", "message": "there is no server `x`"})
        );
    }
}
