//! How the supervisor gets secret values without touching the keyring, and
//! how it keeps them out of everything it records.

use std::fmt::Debug;

/// Looks up a server's secret environment variable. Implemented by the core
/// over the OS keyring; the supervisor only asks.
pub trait SecretLookup: Send + Sync + Debug {
    /// The value of `key` for `server`.
    ///
    /// # Errors
    /// A sentence for people: why the value is not available and what to do.
    fn lookup(&self, server: &str, key: &str) -> Result<String, String>;
}

/// Replaces one running server's secret values in text with `****`.
///
/// The gateway gets it from the server's [`Connection`](crate::Connection),
/// so the approval log and dialog can mask the same values the server logs
/// are masked of. Cheap to clone; its `Debug` shows only how many values it
/// holds.
#[derive(Clone, Default)]
pub struct Scrubber {
    values: std::sync::Arc<[String]>,
}

impl Debug for Scrubber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scrubber")
            .field("values", &self.values.len())
            .finish()
    }
}

impl Scrubber {
    /// A scrubber for these values (empty ones are ignored).
    pub fn new(values: impl IntoIterator<Item = String>) -> Scrubber {
        let mut values: Vec<String> = values.into_iter().filter(|v| !v.is_empty()).collect();
        // Longest first, so a secret that contains another is masked whole.
        values.sort_by_key(|v| std::cmp::Reverse(v.len()));
        Scrubber {
            values: values.into(),
        }
    }

    /// `text` with every occurrence of every value replaced by `****`.
    pub fn scrub(&self, text: &str) -> String {
        let mut text = text.to_owned();
        for value in self.values.iter() {
            if text.contains(value.as_str()) {
                text = text.replace(value.as_str(), "****");
            }
        }
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_occurrence_of_every_value_is_masked() {
        let scrubber =
            Scrubber::new(["sk-abc".to_owned(), "sk-abc-long".to_owned(), String::new()]);
        assert_eq!(
            scrubber.scrub("key sk-abc-long and sk-abc, again sk-abc"),
            "key **** and ****, again ****"
        );
        assert_eq!(scrubber.scrub("nothing here"), "nothing here");
    }
}
