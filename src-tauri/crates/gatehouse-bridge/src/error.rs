//! The fatal errors that end [`Bridge::run`](crate::Bridge::run); everything else is
//! answered on stdout as a JSON-RPC error and the bridge keeps running.

/// Why the bridge stopped. No message ever contains the token.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BridgeError {
    /// The endpoint URL could not be used.
    #[error("invalid Gatehouse endpoint URL `{url}`: {reason}")]
    InvalidUrl {
        /// The URL as given.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The token source failed when the bridge started.
    #[error("could not read the Gatehouse token: {0}")]
    Token(String),
    /// The HTTP client could not be set up.
    #[error("could not set up the HTTP client")]
    HttpClient(#[source] reqwest::Error),
    /// Reading stdin failed.
    #[error("could not read stdin")]
    Stdin(#[source] std::io::Error),
    /// Writing stdout failed, usually because the MCP client exited.
    #[error("could not write to stdout (has the MCP client exited?)")]
    Stdout(#[source] std::io::Error),
}
