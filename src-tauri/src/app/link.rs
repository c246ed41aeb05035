//! The windows' line to the running core: each command on a connection of
//! its own over the control channel, and one connection that streams the
//! core's events.

use std::path::PathBuf;

use gatehouse_core::control::{Client, ClientError, Request, Response};
use gatehouse_core::desk::Failure;
use serde_json::Value;

/// Where the core listens. Cheap to share between commands.
#[derive(Debug, Clone)]
pub struct Link {
    runtime_dir: PathBuf,
}

impl Link {
    /// A link to the core whose runtime directory is `runtime_dir`.
    pub fn new(runtime_dir: PathBuf) -> Link {
        Link { runtime_dir }
    }

    /// Runs `command` in the core.
    ///
    /// # Errors
    /// The command's own failure, or `Disconnected` when the core is gone.
    pub async fn invoke(&self, command: &str, args: Value) -> Result<Value, Failure> {
        let request = Request::Invoke {
            command: command.to_owned(),
            args,
        };
        match self.call(&request).await? {
            Response::Value(value) => Ok(value),
            Response::Failed(failure) => Err(failure),
            other => Err(unexpected(&other)),
        }
    }

    /// The MCP endpoint's token, for the clipboard; it never enters a web view.
    ///
    /// # Errors
    /// `NoToken` when the endpoint has none, or `Disconnected`.
    pub async fn token(&self) -> Result<String, Failure> {
        match self.call(&Request::Token).await {
            Ok(Response::Token(token)) => Ok(token),
            Ok(other) => Err(unexpected(&other)),
            Err(failure) if failure.kind == "Refused" => Err(Failure {
                kind: "NoToken".to_owned(),
                message: failure.message,
            }),
            Err(failure) => Err(failure),
        }
    }

    /// A connection that streams the core's events, beginning with the
    /// present state; it ends when the core does.
    ///
    /// # Errors
    /// When the core cannot be reached.
    pub async fn watch(&self) -> Result<Client, ClientError> {
        let mut client = Client::connect(&self.runtime_dir).await?;
        client.send(&Request::Watch).await?;
        Ok(client)
    }

    async fn call(&self, request: &Request) -> Result<Response, Failure> {
        let mut client = Client::connect(&self.runtime_dir)
            .await
            .map_err(disconnected)?;
        client.call(request).await.map_err(|err| match err {
            ClientError::Refused(message) => Failure {
                kind: "Refused".to_owned(),
                message,
            },
            other => disconnected(other),
        })
    }
}

fn disconnected(err: ClientError) -> Failure {
    Failure {
        kind: "Disconnected".to_owned(),
        message: err.to_string(),
    }
}

fn unexpected(response: &Response) -> Failure {
    Failure {
        kind: "Disconnected".to_owned(),
        message: format!(
            "Gatehouse answered something this window does not understand: {response:?}"
        ),
    }
}
