//! The core's side of the gateway: starts it with the resolved address and
//! token, remembers why it could not start, and rotates the token while it
//! runs.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};

use gatehouse_approvals::Approvals;
use gatehouse_config::{Config, Paths};
use gatehouse_gateway::{Gateway, Options, TokenCell};
use gatehouse_secrets::Secret;
use gatehouse_supervisor::Supervisor;

use crate::token::{self, Source, TokenError};

/// How the endpoint was asked for, from flags and the environment (the
/// config file fills in the rest).
#[derive(Debug, Clone, Default)]
pub struct GatewayRequest {
    /// `--addr` / `$GATEHOUSE_ADDR`; else `[gateway] addr`; else the default.
    pub addr: Option<SocketAddr>,
    /// `--allow-remote`.
    pub allow_remote: bool,
    /// `--token`.
    pub token: Option<String>,
}

/// Where the endpoint listens: `flag_or_env` (`--addr`, `$GATEHOUSE_ADDR`),
/// else `[gateway] addr`, else [`gatehouse_gateway::DEFAULT_ADDR`].
pub fn configured_addr(flag_or_env: Option<SocketAddr>, config: &Config) -> SocketAddr {
    flag_or_env.or(config.gateway.addr).unwrap_or_else(|| {
        gatehouse_gateway::DEFAULT_ADDR
            .parse()
            .expect("a valid default address")
    })
}

/// The endpoint as the GUI and `gatehouse token`/`doctor` show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GatewayInfo {
    /// The address it listens on, or was asked to.
    pub addr: SocketAddr,
    /// `http://ADDR/mcp` while it runs.
    pub url: Option<String>,
    /// Why it does not run.
    pub error: Option<String>,
    /// Where the token comes from.
    pub token_source: Source,
    /// The token's first and last characters.
    pub token_hint: String,
    /// The client files whose entries were updated with a new token (only
    /// right after a rotation).
    pub refreshed: Vec<std::path::PathBuf>,
}

/// The running (or failed) endpoint.
pub(crate) struct Endpoint {
    configured: SocketAddr,
    gateway: Mutex<Option<Gateway>>,
    bound: Option<SocketAddr>,
    url: Option<String>,
    error: Option<String>,
    token: Mutex<Option<Secret>>,
    source: Source,
    cell: TokenCell,
    /// Where the client backups live, for updating client entries when the
    /// token rotates.
    paths: Paths,
}

impl std::fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Endpoint")
            .field("bound", &self.bound)
            .field("error", &self.error)
            .finish_non_exhaustive()
    }
}

impl Endpoint {
    /// Starts the gateway; a failure is kept (see [`Endpoint::error`]), not
    /// returned, so the rest of Gatehouse runs without it.
    /// `token` is [`token::resolve`]'s answer, asked for before the servers
    /// start: the keyring can be slow, and the endpoint and the control
    /// channel should be up by the time the first server runs.
    pub(crate) fn start(
        request: &GatewayRequest,
        config: &Config,
        token: Result<(Secret, Source), TokenError>,
        supervisor: Arc<Supervisor>,
        approvals: Approvals,
        paths: &Paths,
    ) -> Endpoint {
        let configured = configured_addr(request.addr, config);
        let (token, source) = match token {
            Ok((token, source)) => (Some(token), source),
            Err(err) => {
                let source = if request.token.is_some() {
                    Source::Flag
                } else {
                    Source::Keyring
                };
                let error = format!("the MCP endpoint is off: no token: {err}");
                tracing::error!("{error}");
                return Endpoint::failed(configured, source, error, paths);
            }
        };
        let cell = TokenCell::new(
            token
                .as_ref()
                .map(|t| t.expose().to_owned())
                .unwrap_or_default(),
        );
        let options = Options {
            addr: configured,
            allow_remote: request.allow_remote,
            token: cell.clone(),
            allowed_origins: config.gateway.allowed_origins.clone(),
            approvals,
        };
        match Gateway::start(options, supervisor) {
            Ok(gateway) => Endpoint {
                configured,
                bound: Some(gateway.addr()),
                url: Some(gateway.url()),
                gateway: Mutex::new(Some(gateway)),
                error: None,
                token: Mutex::new(token),
                source,
                cell,
                paths: paths.clone(),
            },
            Err(err) => {
                tracing::error!(%err, "the MCP endpoint is off");
                let mut endpoint = Endpoint::failed(configured, source, err.to_string(), paths);
                endpoint.token = Mutex::new(token);
                endpoint
            }
        }
    }

    fn failed(configured: SocketAddr, source: Source, error: String, paths: &Paths) -> Endpoint {
        Endpoint {
            configured,
            gateway: Mutex::new(None),
            bound: None,
            url: None,
            error: Some(error),
            token: Mutex::new(None),
            source,
            cell: TokenCell::new(String::new()),
            paths: paths.clone(),
        }
    }

    /// Why the endpoint does not run, if it does not.
    pub(crate) fn error(&self) -> Option<&str> {
        self.error.as_deref()
    }

    pub(crate) fn info(&self) -> GatewayInfo {
        let token = self.token.lock().unwrap_or_else(PoisonError::into_inner);
        GatewayInfo {
            addr: self.bound.unwrap_or(self.configured),
            url: self.url.clone(),
            error: self.error.clone(),
            token_source: self.source,
            token_hint: token
                .as_ref()
                .map_or_else(|| "****".to_owned(), |t| token::hint(t.expose())),
            refreshed: Vec::new(),
        }
    }

    /// The token in use, for `gatehouse token show`, the bridge and the
    /// GUI's copy button.
    pub(crate) fn token(&self) -> Option<Secret> {
        self.token
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// A new keyring token, in effect from the next request.
    pub(crate) fn rotate(&self) -> Result<GatewayInfo, TokenError> {
        if self.source != Source::Keyring {
            return Err(TokenError::NotRotatable(self.source.as_str()));
        }
        let fresh = token::rotate()?;
        self.cell.set(fresh.expose().to_owned());
        *self.token.lock().unwrap_or_else(PoisonError::into_inner) = Some(fresh.clone());
        let url = self
            .url
            .clone()
            .unwrap_or_else(|| crate::clients::endpoint_url(self.configured));
        let mut info = self.info();
        info.refreshed = crate::clients::refresh(&self.paths, &url, fresh);
        Ok(info)
    }

    pub(crate) async fn shutdown(&self) {
        let gateway = self
            .gateway
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(gateway) = gateway {
            gateway.shutdown().await;
        }
    }
}
