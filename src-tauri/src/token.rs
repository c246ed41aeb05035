//! `gatehouse token show | rotate | header`.
//!
//! With Gatehouse running, they go through its control channel: it knows
//! the token it actually uses (which may come from `--token`), and a
//! rotation must reach it at once. Without, they use the keyring directly.

use anyhow::Context;
use gatehouse_core::clients;
use gatehouse_core::config::Paths;
use gatehouse_core::control::{Client, ClientError, Request, Response};
use gatehouse_core::token;

use crate::cli::TokenCommand;

pub async fn run(command: &TokenCommand, paths: &Paths) -> anyhow::Result<()> {
    let client = match Client::connect(&paths.runtime_dir).await {
        Ok(client) => Some(client),
        Err(ClientError::NotRunning { .. } | ClientError::Unsupported) => None,
        Err(err) => return Err(err.into()),
    };
    match (command, client) {
        (TokenCommand::Show { json }, Some(mut client)) => {
            let token = match client.call(&Request::Token).await? {
                Response::Token(token) => token,
                Response::Error(reason) => anyhow::bail!("{reason}"),
                other => anyhow::bail!("unexpected answer from Gatehouse: {other:?}"),
            };
            let gateway = match client.call(&Request::Gateway).await? {
                Response::Gateway(report) => Some(report),
                _ => None,
            };
            let url = gateway.as_ref().and_then(|g| g.url.clone());
            let source = gateway.map_or_else(|| "keyring".to_owned(), |g| g.token_source);
            show(&token, url.as_deref(), &source, *json);
        }
        (TokenCommand::Show { json }, None) => {
            let (token, source) = token::resolve(None).context("cannot read the token")?;
            show(token.expose(), None, source.as_str(), *json);
        }
        (TokenCommand::Header, Some(mut client)) => match client.call(&Request::Token).await? {
            Response::Token(token) => header(&token),
            Response::Error(reason) => anyhow::bail!("{reason}"),
            other => anyhow::bail!("unexpected answer from Gatehouse: {other:?}"),
        },
        // Not running: the token it will use, but never a new one, which
        // would only be made to be refused.
        (TokenCommand::Header, None) => match token::existing() {
            Some(token) => header(token.expose()),
            None => anyhow::bail!(
                "Gatehouse is not running and has no token yet; start it (`gatehouse`, or `gatehouse serve`)"
            ),
        },
        (TokenCommand::Rotate, Some(mut client)) => match client.call(&Request::RotateToken).await?
        {
            Response::Gateway(report) => rotated(&report.token_hint, &report.refreshed),
            Response::Error(reason) => anyhow::bail!("{reason}"),
            other => anyhow::bail!("unexpected answer from Gatehouse: {other:?}"),
        },
        (TokenCommand::Rotate, None) => {
            if std::env::var_os(token::ENV).is_some() {
                eprintln!(
                    "Note: ${} is set, so Gatehouse started from this environment uses that token, not the keyring's.",
                    token::ENV
                );
            }
            let fresh = token::rotate().context("cannot rotate the token")?;
            let hint = token::hint(fresh.expose());
            let (config, _) = gatehouse_core::config::load_or_init(&paths.config_file)?;
            let url = clients::endpoint_url(gatehouse_core::configured_addr(None, &config));
            let refreshed: Vec<String> = clients::refresh(paths, &url, fresh)
                .iter()
                .map(|path| path.display().to_string())
                .collect();
            rotated(&hint, &refreshed);
        }
    }
    Ok(())
}

/// The token alone on stdout (for `$(gatehouse token show)`), the rest on
/// stderr; or all of it as JSON.
fn show(token: &str, url: Option<&str>, source: &str, json: bool) {
    if json {
        let value = serde_json::json!({ "token": token, "url": url, "source": source });
        println!("{value}");
        return;
    }
    println!("{token}");
    match url {
        Some(url) => eprintln!(
            "Endpoint: {url}  (send `Authorization: Bearer <token>`; token from the {source})"
        ),
        None => eprintln!("Gatehouse is not running; token from the {source}."),
    }
}

/// The header as JSON, the form Claude Code's `headersHelper` reads.
fn header(token: &str) {
    let value = serde_json::json!({ "Authorization": format!("Bearer {token}") });
    println!("{value}");
}

fn rotated(hint: &str, refreshed: &[String]) {
    println!("Rotated the token; the new one is {hint}.");
    for path in refreshed {
        println!("Updated Gatehouse's entry in {path}.");
    }
    eprintln!(
        "Entries Gatehouse wrote were updated; a client you configured by hand gets 401 until you give it the new token. `gatehouse bridge` picks it up by itself."
    );
}
