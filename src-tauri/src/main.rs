//! The `gatehouse` binary: parses the command line and hands each command to
//! the core, or starts the tray app. This is the only place `anyhow` is used.
//!
//! # Layout
//! - `cli`: the clap definitions.
//! - `logging`: stderr and rotating-file logging.
//! - `serve`: `gatehouse serve`, the headless core.
//! - `report`: text and JSON output of the listing commands.
//! - `app`: the Tauri shell: tray, windows, commands.

mod app;
mod cli;
mod logging;
mod report;
mod serve;

use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;
use gatehouse_core::config::{self, Config, LogFormat, Paths, ProjectDirsSource};
use gatehouse_core::doctor;
use gatehouse_secrets::SecretStore;

use crate::cli::{Cli, Command, LogFormatArg, ServerCommand};
use crate::logging::LogOptions;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("gatehouse: {err:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let paths = Paths::resolve(&ProjectDirsSource {
        gatehouse_home: std::env::var_os("GATEHOUSE_HOME")
            .filter(|home| !home.is_empty())
            .map(Into::into),
        config_override: cli.config.clone(),
    })?;
    match &cli.command {
        None => {
            let (config, first_run) = config::load_or_init(&paths.config_file)?;
            let _guard = init_logging(&cli, &config, Some(&paths))?;
            app::run(paths, &config, cli.open || first_run, runtime()?)?;
            Ok(ExitCode::SUCCESS)
        }
        Some(Command::Serve) => {
            let (config, _) = config::load_or_init(&paths.config_file)?;
            let _guard = init_logging(&cli, &config, Some(&paths))?;
            runtime()?.block_on(serve::run(paths, &config))?;
            Ok(ExitCode::SUCCESS)
        }
        Some(Command::DemoServer) => {
            // stdout carries MCP only; logs go to stderr, quietly by default.
            let filter = cli.log_level.as_deref().unwrap_or("warn");
            let _guard = logging::init(&LogOptions {
                filter,
                format: log_format(&cli, &Config::default()),
                file_dir: None,
            })?;
            runtime()?.block_on(gatehouse_demo::run_stdio())?;
            Ok(ExitCode::SUCCESS)
        }
        Some(Command::Server(ServerCommand::List { json })) => {
            let (config, _) = config::load_or_init(&paths.config_file)?;
            print!("{}", report::server_list(&config, *json));
            Ok(ExitCode::SUCCESS)
        }
        Some(Command::Doctor { json }) => {
            let loaded = config::load(&paths.config_file);
            let self_exe = std::env::current_exe().context("cannot locate this executable")?;
            let checks = doctor::run(&doctor::Inputs {
                paths: &paths,
                config: &loaded,
                secrets: &SecretStore::default(),
                self_exe: &self_exe,
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

/// Logging for the long-running modes: flag, then environment (both via
/// clap), then the config file, then `info`.
fn init_logging(
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

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("gatehouse")
        .build()
        .context("cannot start the async runtime")
}
