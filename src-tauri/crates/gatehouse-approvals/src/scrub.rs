//! Masking secrets in a call's arguments before they are shown or logged.
//!
//! Two nets: the server's own secret values (from its environment) wherever
//! they appear, and any string under a key that names a secret (`password`,
//! `api_key`, `Authorization`…), since a model may pass a credential the
//! user pasted into the chat.

use gatehouse_secrets::names_a_secret;
use gatehouse_supervisor::Scrubber;
use serde_json::{Map, Value};

/// What a masked value is replaced with.
pub const MASK: &str = "****";

/// `arguments` with secrets masked.
pub fn scrub_arguments(arguments: &Value, scrubber: &Scrubber) -> Value {
    match arguments {
        Value::String(text) => Value::String(scrubber.scrub(text)),
        Value::Array(items) => Value::Array(
            items
                .iter()
                .map(|item| scrub_arguments(item, scrubber))
                .collect(),
        ),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(key, value)| {
                    let value = match value {
                        Value::String(text) if !text.is_empty() && names_a_secret(key) => {
                            Value::String(MASK.to_owned())
                        }
                        other => scrub_arguments(other, scrubber),
                    };
                    (scrubber.scrub(key), value)
                })
                .collect::<Map<String, Value>>(),
        ),
        scalar => scalar.clone(),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn server_secrets_are_masked_anywhere_and_secret_keys_always() {
        let scrubber = Scrubber::new(["sk-live-123".to_owned()]);
        let args = json!({
            "note": "my key is sk-live-123, keep it",
            "nested": [{"API_KEY": "whatever"}, {"Authorization": "Bearer x"}],
            "max_tokens": 100,
            "password": "",
            "title": "plain",
        });
        assert_eq!(
            scrub_arguments(&args, &scrubber),
            json!({
                "note": "my key is ****, keep it",
                "nested": [{"API_KEY": "****"}, {"Authorization": "****"}],
                "max_tokens": 100,
                "password": "",
                "title": "plain",
            })
        );
    }
}
