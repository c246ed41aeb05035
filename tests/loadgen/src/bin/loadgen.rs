//! `loadgen`: the command line of the benchmark load generator.
//!
//! It parses the options into a [`Plan`], runs it on a tokio runtime (one
//! thread unless `--threads` says otherwise) and prints the
//! [`Report`](gatehouse_loadgen::report::Report).
//! Exit status: 0 when every measured call succeeded, 2 when some failed
//! (the figures are still printed), 1 when the run could not happen at all
//! (bad options, a session that could not connect or initialize).

use std::io::Write as _;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context as _, anyhow, bail};
use clap::{ArgGroup, Parser};
use gatehouse_loadgen::http::HttpTarget;
use gatehouse_loadgen::jsonrpc::DEFAULT_PROTOCOL_VERSION;
use gatehouse_loadgen::run::{Plan, Target, run};
use http::header::{HeaderMap, HeaderName, HeaderValue};

/// N concurrent MCP sessions × M sequential calls of one tool, over
/// Streamable HTTP or stdio; prints throughput and latency percentiles.
#[derive(Debug, Parser)]
#[command(
    name = "loadgen",
    version,
    group(ArgGroup::new("target").required(true).args(["url", "stdio"])),
    after_help = "Examples:\n  \
        loadgen --url http://127.0.0.1:8737/mcp/echo --header 'Authorization: Bearer TOKEN' -c 8\n  \
        loadgen --stdio -c 8 -- target/release/echo-server\n\n\
        Exit status: 0 when every measured call succeeded, 2 when some failed (the figures\n\
        are still printed), 1 when the run could not happen (options, connection, handshake)."
)]
struct Cli {
    /// The Streamable HTTP MCP endpoint (http://…).
    #[arg(long, value_name = "URL")]
    url: Option<String>,

    /// An HTTP header for every request, as 'Name: value' (repeatable).
    #[arg(
        long = "header",
        short = 'H',
        value_name = "NAME: VALUE",
        requires = "url"
    )]
    headers: Vec<String>,

    /// Speak stdio to the command after `--`, one process per session.
    #[arg(long, requires = "command")]
    stdio: bool,

    /// Sessions running at once.
    #[arg(long, short = 'c', default_value_t = 1, value_name = "N",
          value_parser = clap::value_parser!(u32).range(1..=100_000))]
    concurrency: u32,

    /// Measured calls per session.
    #[arg(long, short = 'n', default_value_t = 1000, value_name = "M")]
    calls: u64,

    /// Unmeasured calls per session, made before the measured ones.
    #[arg(long, default_value_t = 50, value_name = "W")]
    warmup: u64,

    /// The tool to call.
    #[arg(long, default_value = "echo")]
    tool: String,

    /// The tool's arguments, a JSON object.
    #[arg(long, default_value = r#"{"message":"hello"}"#, value_name = "JSON")]
    args: String,

    /// The protocol version to ask for in `initialize`.
    #[arg(long, default_value = DEFAULT_PROTOCOL_VERSION, value_name = "VERSION")]
    protocol_version: String,

    /// Seconds to wait for any one answer (the handshake's included).
    #[arg(long, default_value_t = 30.0, value_name = "SECONDS")]
    timeout: f64,

    /// Client worker threads. One (a single-threaded runtime) keeps the
    /// client's own cost per call lowest; raise it only when one client
    /// thread saturates before the server does.
    #[arg(long, default_value_t = 1, value_name = "N",
          value_parser = clap::value_parser!(u32).range(1..=1024))]
    threads: u32,

    /// Print the result as one JSON object.
    #[arg(long)]
    json: bool,

    /// With --stdio: the server's command and its arguments.
    #[arg(last = true, value_name = "CMD")]
    command: Vec<String>,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match main_with(cli) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("loadgen: {err:#}");
            ExitCode::FAILURE
        }
    }
}

fn main_with(cli: Cli) -> anyhow::Result<ExitCode> {
    let json = cli.json;
    let plan = plan(cli)?;
    let threads = plan.client_threads;
    // One thread by default: the client then costs the least CPU per call
    // (no work-stealing wake-ups), which matters when it shares the cores
    // with the server it measures.
    let mut builder = if threads == 1 {
        tokio::runtime::Builder::new_current_thread()
    } else {
        let mut builder = tokio::runtime::Builder::new_multi_thread();
        builder.worker_threads(threads);
        builder
    };
    let runtime = builder
        .enable_all()
        .build()
        .context("cannot start the tokio runtime")?;
    let report = runtime.block_on(run(plan))?;
    let text = if json {
        serde_json::to_string(&report)? + "\n"
    } else {
        report.to_string()
    };
    // Not `print!`, which panics when stdout is a closed pipe.
    std::io::stdout()
        .write_all(text.as_bytes())
        .context("cannot write the report")?;
    Ok(if report.errors > 0 {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    })
}

fn plan(cli: Cli) -> anyhow::Result<Plan> {
    let arguments = match serde_json::from_str::<serde_json::Value>(&cli.args) {
        Ok(serde_json::Value::Object(map)) => map,
        Ok(_) => bail!("--args must be a JSON object, like '{{\"message\":\"hello\"}}'"),
        Err(err) => bail!("--args is not JSON: {err}"),
    };
    if !(cli.timeout.is_finite() && cli.timeout > 0.0) {
        bail!("--timeout must be a positive number of seconds");
    }
    let timeout = Duration::from_secs_f64(cli.timeout);
    let target = match (cli.url, cli.stdio) {
        (Some(url), false) => {
            if !cli.command.is_empty() {
                bail!(
                    "a command after `--` needs --stdio instead of --url (got {:?})",
                    cli.command.join(" ")
                );
            }
            Target::Http(HttpTarget {
                url: parse_url(&url)?,
                headers: parse_headers(&cli.headers)?,
                protocol_version: cli.protocol_version,
                timeout,
            })
        }
        (None, true) => Target::Stdio {
            command: cli.command,
            protocol_version: cli.protocol_version,
            timeout,
        },
        // clap's group makes exactly one of them present.
        _ => bail!("give either --url or --stdio"),
    };
    Ok(Plan {
        target,
        concurrency: usize::try_from(cli.concurrency).context("--concurrency is too large")?,
        calls: cli.calls,
        warmup: cli.warmup,
        tool: cli.tool,
        arguments,
        client_threads: usize::try_from(cli.threads).context("--threads is too large")?,
    })
}

fn parse_url(text: &str) -> anyhow::Result<reqwest::Url> {
    let url = reqwest::Url::parse(text).map_err(|err| anyhow!("--url {text:?}: {err}"))?;
    // Built without TLS: the contenders are all loopback HTTP.
    if url.scheme() != "http" {
        bail!("--url {text:?}: only http:// endpoints are supported");
    }
    Ok(url)
}

fn parse_headers(headers: &[String]) -> anyhow::Result<HeaderMap> {
    let mut map = HeaderMap::new();
    for header in headers {
        let (name, value) = header
            .split_once(':')
            .ok_or_else(|| anyhow!("--header {header:?}: want 'Name: value'"))?;
        let name = HeaderName::try_from(name.trim())
            .map_err(|err| anyhow!("--header {header:?}: bad name: {err}"))?;
        let value = HeaderValue::try_from(value.trim())
            .map_err(|err| anyhow!("--header {header:?}: bad value: {err}"))?;
        map.append(name, value);
    }
    Ok(map)
}
