//! The error the UI receives: `{ "kind": "<Variant>", "message": "<text>" }`.
//! The UI switches on `kind` and shows `message`; it never parses text.

use gatehouse_core::supervisor::ControlError;
use serde::ser::SerializeStruct;

#[derive(Debug, thiserror::Error)]
pub enum IpcError {
    /// The server named in the request is not configured.
    #[error("{0}")]
    NoSuchServer(String),
}

impl IpcError {
    fn kind(&self) -> &'static str {
        match self {
            IpcError::NoSuchServer(_) => "NoSuchServer",
        }
    }
}

impl serde::Serialize for IpcError {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut error = serializer.serialize_struct("IpcError", 2)?;
        error.serialize_field("kind", self.kind())?;
        error.serialize_field("message", &self.to_string())?;
        error.end()
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_reach_the_ui_as_kind_and_message() {
        let err = IpcError::from(ControlError::NoSuchServer("x".to_owned()));
        assert_eq!(
            serde_json::to_value(&err).unwrap(),
            serde_json::json!({"kind": "NoSuchServer", "message": "there is no server `x`"})
        );
    }
}
