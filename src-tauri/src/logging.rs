//! Logging: `tracing` to stderr (text or JSON) and, for the long-running
//! modes, to a daily-rotated file in the logs directory.

use std::path::Path;

use anyhow::Context;
use gatehouse_core::config::LogFormat;
use tracing_appender::non_blocking::WorkerGuard;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::Layer;
use tracing_subscriber::field::RecordFields;
use tracing_subscriber::fmt::FormatFields;
use tracing_subscriber::fmt::format::{DefaultFields, Writer};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

/// Rotated log files kept: a week of daily files.
const KEPT_LOG_FILES: usize = 7;

/// Gatehouse's own crates, which a bare level such as `debug` applies to.
const OWN_TARGETS: &[&str] = &[
    "gatehouse",
    "gatehouse_config",
    "gatehouse_core",
    "gatehouse_demo",
    "gatehouse_secrets",
    "gatehouse_supervisor",
];

/// Where and how to log.
pub struct LogOptions<'a> {
    /// A level or a tracing filter directive.
    pub filter: &'a str,
    /// Format of the stderr lines.
    pub format: LogFormat,
    /// Also write `gatehouse.<date>.log` files here.
    pub file_dir: Option<&'a Path>,
}

/// Installs the global subscriber. Keep the returned guard alive for as
/// long as the process logs: dropping it flushes the file writer.
pub fn init(options: &LogOptions<'_>) -> anyhow::Result<Option<WorkerGuard>> {
    let directive = expand_filter(options.filter);
    let filter = || {
        EnvFilter::try_new(&directive)
            .with_context(|| format!("invalid log level `{}`", options.filter))
    };
    let stderr_filter = filter()?;
    let (file_layer, guard) = match options.file_dir {
        Some(dir) => {
            let appender = tracing_appender::rolling::Builder::new()
                .rotation(tracing_appender::rolling::Rotation::DAILY)
                .filename_prefix("gatehouse")
                .filename_suffix("log")
                .max_log_files(KEPT_LOG_FILES)
                .build(dir)
                .with_context(|| format!("cannot open a log file in {}", dir.display()))?;
            let (writer, guard) = tracing_appender::non_blocking(appender);
            let layer = tracing_subscriber::fmt::layer()
                .with_writer(writer)
                .with_ansi(false)
                .fmt_fields(PlainFields(DefaultFields::new()))
                .with_filter(filter()?);
            (Some(layer), Some(guard))
        }
        None => (None, None),
    };
    let stderr = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()));
    let stderr = match options.format {
        LogFormat::Text => stderr.boxed(),
        LogFormat::Json => stderr.json().boxed(),
    };
    tracing_subscriber::registry()
        .with(stderr.with_filter(stderr_filter))
        .with(file_layer)
        .try_init()
        .context("cannot install the logger")?;
    Ok(guard)
}

/// Expands a bare level (`info`, `debug`, `trace`) to that level for
/// Gatehouse's own crates and `warn` for dependencies, whose INFO lines are
/// noise to a person. A full directive (`info,rmcp=debug`) is taken as written.
pub fn expand_filter(filter: &str) -> String {
    let level = filter.trim();
    let is_bare_level = matches!(
        level.to_ascii_lowercase().as_str(),
        "info" | "debug" | "trace"
    );
    if !is_bare_level {
        return level.to_owned();
    }
    let mut directive = String::from("warn");
    for target in OWN_TARGETS {
        directive.push_str(&format!(",{target}={level}"));
    }
    directive
}

/// Field formatting for the log file. A distinct type from stderr's
/// `DefaultFields`, because tracing-subscriber caches formatted span fields
/// per formatter type: shared, the file would get stderr's colour codes.
struct PlainFields(DefaultFields);

impl<'writer> FormatFields<'writer> for PlainFields {
    fn format_fields<R: RecordFields>(
        &self,
        writer: Writer<'writer>,
        fields: R,
    ) -> std::fmt::Result {
        self.0.format_fields(writer, fields)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bare_levels_apply_to_gatehouse_and_directives_pass_through() {
        let expanded = expand_filter("debug");
        assert!(expanded.starts_with("warn,gatehouse=debug,"), "{expanded}");
        assert!(
            expanded.ends_with(",gatehouse_supervisor=debug"),
            "{expanded}"
        );
        assert_eq!(expand_filter("warn"), "warn");
        assert_eq!(expand_filter("info,rmcp=debug"), "info,rmcp=debug");
    }
}
