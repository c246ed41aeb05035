//! The call log's row types and the enums stored in it as text.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// The longest outcome text kept, in bytes; it is a summary, not the result.
pub(crate) const MAX_OUTCOME_DETAIL: usize = 1024;

/// One finished tool call, as the gateway hands it to [`crate::Store::append`].
///
/// A call is appended once, when it has finished (or was denied, timed out or
/// cancelled), with everything known about it. Rows are never updated: an
/// update would break the hash chain, which is exactly what the chain exists
/// to show.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallRecord {
    /// When the call arrived at Gatehouse, in Unix milliseconds.
    pub time_ms: i64,
    /// The MCP client that made the call, as `name/version`.
    pub client: String,
    /// The server's name in `gatehouse.toml`.
    pub server: String,
    /// The tool's name on that server.
    pub tool: String,
    /// The call's arguments as JSON text, already scrubbed of secrets by the
    /// caller (the store keeps whatever it is given).
    pub arguments: String,
    /// What the policy said for this call.
    pub policy: Policy,
    /// Whether the call went ahead.
    pub decision: Decision,
    /// Who or what made the decision.
    pub decided_by: DecidedBy,
    /// How long the call waited for a decision, in milliseconds.
    pub wait_ms: i64,
    /// How the call ended.
    pub outcome: Outcome,
    /// A short text about the outcome (an error message); cut to 1 KiB.
    pub outcome_detail: Option<String>,
    /// How long the server took, in milliseconds (0 if it never ran).
    pub duration_ms: i64,
}

/// A row of the call log, as read back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallRow {
    /// The row's id: 1, 2, 3… in append order, with no gaps.
    pub id: i64,
    /// The call as appended (`outcome_detail` possibly shortened).
    #[serde(flatten)]
    pub record: CallRecord,
    /// SHA-256 of `arguments`, hex.
    pub arguments_hash: String,
    /// The previous row's `hash` (or the anchor's), hex.
    pub prev_hash: String,
    /// This row's chain hash, hex.
    pub hash: String,
}

macro_rules! text_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $text:literal,)+ }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        pub enum $name {
            $($(#[$vmeta])* #[serde(rename = $text)] $variant,)+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant,)+];

            /// The text stored in the database and shown in exports.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text,)+
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = String;

            fn from_str(s: &str) -> Result<Self, String> {
                match s {
                    $($text => Ok($name::$variant),)+
                    other => Err(format!(
                        "{other:?} is not one of {}",
                        [$($text),+].join(", ")
                    )),
                }
            }
        }
    };
}

text_enum! {
    /// The policy that applied to a call.
    Policy {
        /// Run without asking.
        Allow = "allow",
        /// Ask a person.
        Ask = "ask",
        /// Refuse without asking.
        Deny = "deny",
    }
}

text_enum! {
    /// Whether a call went ahead.
    Decision {
        /// Forwarded to the server.
        Allowed = "allowed",
        /// Not forwarded.
        Denied = "denied",
    }
}

text_enum! {
    /// Who or what decided a call.
    DecidedBy {
        /// A policy rule, without asking.
        Rule = "rule",
        /// A person, in the approval dialog.
        Dialog = "dialog",
        /// A person, with `gatehouse approvals`.
        Cli = "cli",
        /// Nobody answered in time (always a denial).
        Timeout = "timeout",
        /// The client cancelled the call while it waited (it never ran).
        Client = "client",
    }
}

text_enum! {
    /// How a call ended.
    Outcome {
        /// The server returned a result.
        Ok = "ok",
        /// The server or the transport failed.
        Error = "error",
        /// The client cancelled the call.
        Cancelled = "cancelled",
        /// The call was denied and never reached the server.
        NotRun = "not_run",
    }
}

/// Cuts `text` to at most `max` bytes on a character boundary.
pub(crate) fn truncate(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let end = (0..=max)
        .rev()
        .find(|&i| text.is_char_boundary(i))
        .unwrap_or(0);
    text.get(..end).unwrap_or_default()
}
