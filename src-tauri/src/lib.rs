//! The `gatehouse` command line: parses it and hands each command to the
//! core. This binary links no GUI library, so `gatehouse serve` and the
//! `gatehouse bridge` every client spawns stay small and start fast; with no
//! command it hands over to the tray, `gatehouse-tray`, installed beside it
//! (`src/tray/main.rs`), which runs the core and opens the windows' process,
//! `gatehouse-app` (`src/app/main.rs`), when they are wanted. Only the
//! binaries use `anyhow`.
//!
//! # Layout
//! - `cli`: the clap definitions.
//! - `logging`: stderr and rotating-file logging.
//! - `serve`: `gatehouse serve`, the headless core.
//! - `relaunch`: a launch that meets an instance still quitting waits for it.
//! - `report`: text and JSON output of the listing commands.
//! - `bridge`: `gatehouse bridge`: finds or starts Gatehouse, then relays stdio.
//! - `token`: `gatehouse token show | rotate`.
//! - `clients`: `gatehouse client list | register | unregister | undo | import`.
//! - `approvals`: `gatehouse approvals`, answered over the control socket.
//! - `detached`: starts Gatehouse in the background for a bridge or a window.
//! - `desk`: the windows' commands and events, served over the control
//!   channel to `gatehouse-app` (the windows' process).

mod approvals;
mod bridge;
pub mod cli;
mod clients;
pub mod desk;
pub mod detached;
mod logging;
pub mod relaunch;
mod report;
pub mod serve;
mod token;

use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;
use gatehouse_core::config::{self, Config, LogFormat, Paths, ProjectDirsSource};
use gatehouse_core::doctor;
use gatehouse_secrets::SecretStore;

use crate::cli::{Cli, Command, GatewayArgs, LogFormatArg, SecretCommand, ServerCommand};
use crate::logging::LogOptions;

/// The resident tray process's executable, beside this one.
pub const TRAY_EXECUTABLE: &str = "gatehouse-tray";
/// The windows' process's executable, beside this one.
pub const APP_EXECUTABLE: &str = "gatehouse-app";

/// The `gatehouse` binary's `main`.
pub fn main() -> ExitCode {
    exit_with(run(Cli::parse()))
}

/// The exit code of `outcome`, after printing its error.
pub fn exit_with(outcome: anyhow::Result<ExitCode>) -> ExitCode {
    match outcome {
        Ok(code) => code,
        Err(err) => {
            eprintln!("gatehouse: {err:#}");
            ExitCode::FAILURE
        }
    }
}

/// Where this Gatehouse's files are, from `$GATEHOUSE_HOME` and `--config`.
///
/// # Errors
/// When no config directory can be found for this user.
pub fn paths(cli: &Cli) -> anyhow::Result<Paths> {
    Ok(Paths::resolve(&ProjectDirsSource {
        gatehouse_home: std::env::var_os("GATEHOUSE_HOME")
            .filter(|home| !home.is_empty())
            .map(Into::into),
        config_override: cli.config.clone(),
    })?)
}

/// Runs a command; with none, hands over to the tray app.
///
/// # Errors
/// Whatever stopped the command, with context for the person who ran it.
pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let paths = paths(&cli)?;
    match &cli.command {
        None => launch_tray(),
        Some(Command::Serve { gateway }) => {
            let (config, _) = config::load_or_init(&paths.config_file)?;
            let _guard = init_logging(&cli, &config, Some(&paths))?;
            runtime()?.block_on(serve::run(paths, &config, &gateway_request(gateway)))?;
            Ok(ExitCode::SUCCESS)
        }
        Some(Command::Bridge { server }) => {
            let _guard = stdio_logging(&cli)?;
            runtime()?.block_on(bridge::run(
                &paths,
                cli.config.as_deref(),
                server.as_deref(),
            ))?;
            Ok(ExitCode::SUCCESS)
        }
        Some(Command::Client(command)) => {
            runtime()?.block_on(clients::run(command, &paths))?;
            Ok(ExitCode::SUCCESS)
        }
        Some(Command::Token(command)) => {
            runtime()?.block_on(token::run(command, &paths))?;
            Ok(ExitCode::SUCCESS)
        }
        Some(Command::DemoServer) => {
            let _guard = stdio_logging(&cli)?;
            runtime()?.block_on(gatehouse_demo::run_stdio())?;
            Ok(ExitCode::SUCCESS)
        }
        Some(Command::Server(
            command @ (ServerCommand::Add { .. } | ServerCommand::Remove { .. }),
        )) => {
            edit_config(command, &paths)?;
            Ok(ExitCode::SUCCESS)
        }
        Some(Command::Server(ServerCommand::Policy { name, tool, rule })) => {
            approvals::set_policy(name, tool, *rule, &paths)?;
            Ok(ExitCode::SUCCESS)
        }
        Some(Command::Approvals {
            command,
            pending,
            json,
        }) => {
            runtime()?.block_on(approvals::approvals(
                command.as_ref(),
                *pending,
                *json,
                &paths,
            ))?;
            Ok(ExitCode::SUCCESS)
        }
        Some(Command::Log {
            command,
            filter,
            json,
            csv,
        }) => Ok(
            if approvals::log(command.as_ref(), filter, *json, *csv, &paths)? {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            },
        ),
        Some(Command::Server(command)) => {
            runtime()?.block_on(server(command, &paths))?;
            Ok(ExitCode::SUCCESS)
        }
        Some(Command::Secret(command)) => {
            let (config, _) = config::load_or_init(&paths.config_file)?;
            secret(command, &config)?;
            Ok(ExitCode::SUCCESS)
        }
        Some(Command::Doctor { json }) => {
            let loaded = config::load(&paths.config_file);
            let self_exe = gatehouse_core::supervisor::gatehouse_executable()
                .context("cannot locate this executable")?;
            let registrar = runtime()?.block_on(clients::registrar_for_doctor(&paths));
            let checks = doctor::run(&doctor::Inputs {
                paths: &paths,
                config: &loaded,
                secrets: &SecretStore::default(),
                self_exe: &self_exe,
                clients: registrar.as_ref(),
            });
            print!("{}", report::doctor(&checks, *json));
            let failed = checks.iter().any(|c| c.severity == doctor::Severity::Fail);
            Ok(if failed {
                ExitCode::FAILURE
            } else {
                ExitCode::SUCCESS
            })
        }
    }
}

/// For the commands whose stdout carries MCP: logs go to stderr only,
/// quietly unless asked.
fn stdio_logging(cli: &Cli) -> anyhow::Result<Option<tracing_appender::non_blocking::WorkerGuard>> {
    logging::init(&LogOptions {
        filter: cli.log_level.as_deref().unwrap_or("warn"),
        format: log_format(cli, &Config::default()),
        file_dir: None,
    })
}

pub fn gateway_request(args: &GatewayArgs) -> gatehouse_core::GatewayRequest {
    gatehouse_core::GatewayRequest {
        addr: args.addr,
        allow_remote: args.allow_remote,
        token: args.token.clone(),
    }
}

/// `gatehouse server …`: through the control channel of the running
/// Gatehouse; `list` falls back to the config when none runs.
async fn server(command: &ServerCommand, paths: &Paths) -> anyhow::Result<()> {
    use gatehouse_core::control::{Client, ClientError, Request, Response};

    match command {
        ServerCommand::Add { .. } | ServerCommand::Remove { .. } => {
            return edit_config(command, paths);
        }
        _ => {}
    }
    let connected = Client::connect(&paths.runtime_dir).await;
    match (command, &connected) {
        (ServerCommand::List { json }, Err(ClientError::NotRunning { .. })) => {
            let (config, _) = config::load_or_init(&paths.config_file)?;
            print!("{}", report::server_list(&config, *json));
            return Ok(());
        }
        (ServerCommand::Logs { name, lines, .. }, Err(ClientError::NotRunning { .. })) => {
            print!(
                "{}",
                report::log_file_tail(&paths.logs_dir.join("servers"), name, *lines)?
            );
            return Ok(());
        }
        _ => {}
    }
    let mut client = connected?;
    let request = match command {
        ServerCommand::List { .. } => Request::List,
        ServerCommand::Add { .. } | ServerCommand::Remove { .. } | ServerCommand::Policy { .. } => {
            unreachable!("`run` sends add, remove and policy to the config editors")
        }
        ServerCommand::Show { name, .. } | ServerCommand::Tools { name, .. } => Request::Show {
            server: name.clone(),
        },
        ServerCommand::Start { name } => Request::Start {
            server: name.clone(),
        },
        ServerCommand::Stop { name } => Request::Stop {
            server: name.clone(),
        },
        ServerCommand::Restart { name } => Request::Restart {
            server: name.clone(),
        },
        ServerCommand::Logs { name, follow, .. } => Request::Logs {
            server: name.clone(),
            follow: *follow,
        },
    };
    let response = client.call(&request).await?;
    match (command, response) {
        (ServerCommand::List { json }, Response::Servers(servers)) => {
            print!("{}", report::live_list(&servers, *json))
        }
        (ServerCommand::Show { json, .. }, Response::Servers(servers)) => {
            print!("{}", report::show(&servers, *json))
        }
        (ServerCommand::Tools { json, .. }, Response::Servers(servers)) => {
            print!("{}", report::tools(&servers, *json))
        }
        (ServerCommand::Logs { follow, lines, .. }, Response::Log(recent)) => {
            let skip = recent.len().saturating_sub(*lines);
            print!("{}", report::log_lines(&recent[skip..]));
            if *follow {
                loop {
                    match client.next().await? {
                        Some(Response::Log(more)) => print!("{}", report::log_lines(&more)),
                        Some(Response::Error(message)) => anyhow::bail!(message),
                        Some(_) | None => break,
                    }
                }
            }
        }
        (ServerCommand::Start { name }, Response::Done) => eprintln!("Starting {name}."),
        (ServerCommand::Stop { name }, Response::Done) => eprintln!("Stopped {name}."),
        (ServerCommand::Restart { name }, Response::Done) => eprintln!("Restarting {name}."),
        (_, response) => anyhow::bail!("unexpected answer from Gatehouse: {response:?}"),
    }
    Ok(())
}

/// `server add|remove`: a format-preserving, atomic edit of gatehouse.toml.
/// A running Gatehouse notices the change and applies it.
fn edit_config(command: &ServerCommand, paths: &Paths) -> anyhow::Result<()> {
    use gatehouse_core::config::edit;

    config::load_or_init(&paths.config_file)?;
    let path = &paths.config_file;
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let (updated, done) = match command {
        ServerCommand::Add {
            name,
            env,
            secret_env,
            cwd,
            disabled,
            command,
        } => {
            let spec = new_server(name, env, secret_env, cwd.clone(), *disabled, command)?;
            let mut done = format!("Added {name} to {}.", path.display());
            for key in secret_env {
                done.push_str(&format!(
                    "\nSet its secret with: gatehouse secret set {name} {key}"
                ));
            }
            (edit::add_server(path, &text, &spec)?, done)
        }
        ServerCommand::Remove { name } => (
            edit::remove_server(path, &text, name)?,
            format!("Removed {name} from {}.", path.display()),
        ),
        other => anyhow::bail!("`{other:?}` does not edit the config"),
    };
    edit::write_atomically(path, &updated)?;
    eprintln!("{done}");
    Ok(())
}

fn new_server(
    name: &str,
    env: &[String],
    secret_env: &[String],
    cwd: Option<std::path::PathBuf>,
    disabled: bool,
    command: &[String],
) -> anyhow::Result<gatehouse_core::config::ServerSpec> {
    let name = gatehouse_core::config::ServerName::new(name).map_err(anyhow::Error::msg)?;
    let env = env
        .iter()
        .map(|pair| match pair.split_once('=') {
            Some((key, value)) => Ok((key.to_owned(), value.to_owned())),
            None => Err(anyhow::anyhow!("--env takes KEY=VALUE, not `{pair}`")),
        })
        .collect::<anyhow::Result<_>>()?;
    let (program, args) = command
        .split_first()
        .context("no command given after `--`")?;
    Ok(gatehouse_core::config::ServerSpec {
        name,
        command: program.clone(),
        args: args.to_vec(),
        env,
        secret_env: secret_env.to_vec(),
        cwd,
        enabled: !disabled,
    })
}

fn secret(command: &SecretCommand, config: &Config) -> anyhow::Result<()> {
    use gatehouse_core::secrets;

    let store = SecretStore::default();
    match command {
        SecretCommand::Set { server, key } => {
            let value = read_secret_value(key)?;
            let listed = secrets::set(&store, config, server, key, value)?;
            eprintln!("Stored {key} for {server} in the OS keyring.");
            if !listed {
                eprintln!(
                    "Note: {key} is not in the `secret_env` of server `{server}` in gatehouse.toml, so the server will not get it until it is."
                );
            }
        }
        SecretCommand::List { server, json } => {
            let entries = secrets::list(&store, config, server.as_deref())?;
            print!("{}", report::secret_list(&entries, *json));
        }
        SecretCommand::Remove { server, key } => {
            if secrets::remove(&store, server, key)? {
                eprintln!("Removed {key} of {server} from the OS keyring.");
            } else {
                anyhow::bail!("there is no secret {key} for server {server} in the keyring");
            }
        }
    }
    Ok(())
}

/// The value comes from stdin, never from argv (where `ps` and shell
/// history would see it): a hidden prompt on a terminal, else everything
/// piped in, without its final newline.
fn read_secret_value(key: &str) -> anyhow::Result<gatehouse_secrets::Secret> {
    use std::io::{IsTerminal, Read};

    let value = if std::io::stdin().is_terminal() {
        rpassword::prompt_password(format!("Value for {key} (input hidden): "))
            .context("cannot read the value")?
    } else {
        let mut value = String::new();
        std::io::stdin()
            .read_to_string(&mut value)
            .context("cannot read the value from stdin")?;
        let trimmed = value.strip_suffix('\n').unwrap_or(&value);
        trimmed.strip_suffix('\r').unwrap_or(trimmed).to_owned()
    };
    Ok(gatehouse_secrets::Secret::new(value))
}

/// Logging for the long-running modes: flag, then environment (both via
/// clap), then the config file, then `info`.
pub fn init_logging(
    cli: &Cli,
    config: &Config,
    paths: Option<&Paths>,
) -> anyhow::Result<Option<tracing_appender::non_blocking::WorkerGuard>> {
    let filter = cli
        .log_level
        .as_deref()
        .or(config.log.level.as_deref())
        .unwrap_or("info");
    if let Some(paths) = paths {
        paths.create_dirs()?;
    }
    logging::init(&LogOptions {
        filter,
        format: log_format(cli, config),
        file_dir: paths.map(|paths| paths.logs_dir.as_path()),
    })
}

fn log_format(cli: &Cli, config: &Config) -> LogFormat {
    match cli.log_format {
        Some(LogFormatArg::Text) => LogFormat::Text,
        Some(LogFormatArg::Json) => LogFormat::Json,
        None => config.log.format.unwrap_or_default(),
    }
}

pub fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("gatehouse")
        .build()
        .context("cannot start the async runtime")
}

/// Replaces this process with the tray beside it, with the same arguments,
/// or says where it was looked for.
fn launch_tray() -> anyhow::Result<ExitCode> {
    let tray = gatehouse_core::supervisor::sibling_executable(TRAY_EXECUTABLE)
        .context("cannot locate this executable")?;
    if !tray.is_file() {
        anyhow::bail!(
            "the tray app is not installed beside this command (looked for {}); \
             `gatehouse serve` runs Gatehouse without it",
            tray.display()
        );
    }
    hand_over(&tray, &[])
}

/// Runs `program` in this process's place, with this process's arguments
/// and `env` added: `exec` on Unix, so the terminal, signals and exit code
/// pass straight through; elsewhere it runs it and returns its exit code.
///
/// # Errors
/// When `program` cannot be started.
pub fn hand_over(program: &std::path::Path, env: &[(&str, &str)]) -> anyhow::Result<ExitCode> {
    let mut command = std::process::Command::new(program);
    // Every argument but the first, which is this program's own name.
    command
        .args(std::env::args_os().skip(1))
        .envs(env.iter().copied());
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt as _;
        let err = command.exec();
        Err(err).with_context(|| format!("cannot start {}", program.display()))
    }
    #[cfg(not(unix))]
    {
        let status = command
            .status()
            .with_context(|| format!("cannot start {}", program.display()))?;
        Ok(status
            .code()
            .and_then(|code| u8::try_from(code).ok())
            .map_or(ExitCode::FAILURE, ExitCode::from))
    }
}
