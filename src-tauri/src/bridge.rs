//! `gatehouse bridge [--server NAME]`: finds the running Gatehouse (or
//! starts it), then relays stdio to its MCP endpoint.
//!
//! The endpoint's address and token come from the running instance over
//! the control channel, never from a file or argv, so a moved port or a
//! rotated token just works: the token is asked for again after a 401.

use std::path::Path;
use std::sync::Arc;

use anyhow::Context;
use gatehouse_bridge::{Bridge, TokenSource};
use gatehouse_core::config::Paths;
use gatehouse_core::control::{Client, ClientError, GatewayReport, Request, Response};

pub async fn run(paths: &Paths, config: Option<&Path>, server: Option<&str>) -> anyhow::Result<()> {
    let gateway = match crate::detached::gateway(paths).await {
        Ok(gateway) => gateway,
        Err(ClientError::NotRunning { .. }) => {
            crate::detached::start(paths, config, None, crate::detached::Output::Capture).await?
        }
        // No control channel on this platform yet (Windows): the address
        // from the config, and the token from the environment or keyring.
        Err(ClientError::Unsupported) => configured(paths)?,
        Err(err) => return Err(err.into()),
    };
    let base = match (gateway.url, gateway.error) {
        (Some(url), _) => url,
        (None, Some(error)) => {
            anyhow::bail!("Gatehouse runs, but its MCP endpoint does not: {error}")
        }
        (None, None) => anyhow::bail!("Gatehouse runs, but its MCP endpoint does not"),
    };
    let url = match server {
        Some(server) => {
            check_server(paths, server).await?;
            format!("{base}/{server}")
        }
        None => base,
    };
    tracing::info!(%url, "relaying stdio");
    let token = Arc::new(ControlToken {
        runtime_dir: paths.runtime_dir.clone(),
    });
    Bridge::new(url, token)
        .run(tokio::io::stdin(), tokio::io::stdout())
        .await
        .context("the bridge stopped")
}

/// The endpoint as configured, for platforms without a control channel.
fn configured(paths: &Paths) -> anyhow::Result<GatewayReport> {
    let config = gatehouse_core::config::load(&paths.config_file)?;
    let from_env = std::env::var("GATEHOUSE_ADDR")
        .ok()
        .and_then(|addr| addr.parse().ok());
    let addr = gatehouse_core::configured_addr(from_env, &config);
    Ok(GatewayReport {
        url: Some(gatehouse_core::clients::endpoint_url(addr)),
        addr: addr.to_string(),
        error: None,
        token_source: "keyring".to_owned(),
        token_hint: String::new(),
        refreshed: Vec::new(),
    })
}

async fn check_server(paths: &Paths, server: &str) -> anyhow::Result<()> {
    let mut client = match Client::connect(&paths.runtime_dir).await {
        Ok(client) => client,
        // Without a control channel the endpoint says so itself (404).
        Err(ClientError::Unsupported) => return Ok(()),
        Err(err) => return Err(err.into()),
    };
    match client
        .call(&Request::Show {
            server: server.to_owned(),
        })
        .await?
    {
        Response::Servers(_) => Ok(()),
        Response::Error(reason) => {
            anyhow::bail!("{reason}; `gatehouse server list` shows the servers")
        }
        other => anyhow::bail!("unexpected answer from Gatehouse: {other:?}"),
    }
}

/// Asks the running Gatehouse for its token each time the bridge connects
/// or is refused.
struct ControlToken {
    runtime_dir: std::path::PathBuf,
}

impl TokenSource for ControlToken {
    fn token(&self) -> Result<String, String> {
        // The bridge calls this on a blocking-pool thread, where a small
        // runtime of our own may block.
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| e.to_string())?;
        runtime.block_on(async {
            let mut client = match Client::connect(&self.runtime_dir).await {
                Ok(client) => client,
                Err(ClientError::Unsupported) => {
                    return gatehouse_core::token::resolve(None)
                        .map(|(token, _)| token.expose().to_owned())
                        .map_err(|e| e.to_string());
                }
                Err(err) => return Err(err.to_string()),
            };
            match client
                .call(&Request::Token)
                .await
                .map_err(|e| e.to_string())?
            {
                Response::Token(token) => Ok(token),
                Response::Error(reason) => Err(reason),
                other => Err(format!("unexpected answer from Gatehouse: {other:?}")),
            }
        })
    }
}
