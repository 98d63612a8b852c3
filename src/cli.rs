//! The command line, in Singer's conventions; flags combine in any order, as Meltano passes them.

use std::path::{Path, PathBuf};

use clap::Parser;

use crate::about::Format;

#[derive(Debug, Parser)]
#[command(
    name = "tap-jira",
    version,
    about = "Singer tap for Jira Cloud, Server and Data Center"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,

    /// Config file (JSON); repeat to layer files, later keys win.
    #[arg(short = 'c', long = "config", value_name = "FILE", global = true)]
    pub config: Vec<PathBuf>,

    /// Print a catalog of every stream to stdout.
    #[arg(short = 'd', long)]
    pub discover: bool,

    /// Catalog selecting streams and fields to sync.
    #[arg(long, value_name = "FILE")]
    pub catalog: Option<PathBuf>,

    /// Legacy name of --catalog (Stitch, older Singer runners).
    #[arg(short = 'p', long, value_name = "FILE")]
    pub properties: Option<PathBuf>,

    /// State from a previous run, to resume from its bookmarks.
    #[arg(short = 's', long, value_name = "FILE")]
    pub state: Option<PathBuf>,

    /// Print name, version, capabilities and settings.
    #[arg(long)]
    pub about: bool,

    /// Format of --about.
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,

    /// Log level on stderr (error, warn, info, debug, trace, off); RUST_LOG also works.
    #[arg(long, value_name = "LEVEL", global = true)]
    pub log_level: Option<String>,

    /// Log lines as text, or as one JSON object per line [default: TAP_JIRA_LOG_FORMAT, else
    /// text].
    #[arg(long, value_enum, ignore_case = true, global = true)]
    pub log_format: Option<LogFormat>,
}

/// What the tap does besides a Singer run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::Subcommand)]
pub enum Command {
    /// Authorize an OAuth 2.0 app once (Cloud's 3LO app or Data Center's incoming link): prints
    /// the address to open, reads the code the browser comes back with on stdin, and saves the
    /// refresh token in the config file (or `oauth_token_file`).
    Authorize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

impl Cli {
    /// `--catalog`, or its legacy name `--properties`. Both naming different files is refused:
    /// one of the two would be silently ignored.
    pub fn catalog_path(&self) -> Result<Option<&PathBuf>, String> {
        match (&self.catalog, &self.properties) {
            (Some(catalog), Some(properties)) if !same_file(catalog, properties) => Err(format!(
                "--catalog {} and --properties {} name different files; give one of them \
                 (--properties is the legacy name of --catalog)",
                catalog.display(),
                properties.display()
            )),
            (catalog, properties) => Ok(catalog.as_ref().or(properties.as_ref())),
        }
    }
}

/// The same path, or two paths to one file (`./c.json` and `c.json`, a link).
fn same_file(a: &Path, b: &Path) -> bool {
    a == b
        || matches!(
            (std::fs::canonicalize(a), std::fs::canonicalize(b)),
            (Ok(a), Ok(b)) if a == b
        )
}

/// `--log-format`, or else `TAP_JIRA_LOG_FORMAT` in any case, or else text. An empty variable
/// is unset: Meltano passes a plugin's `env` entry whose own variable is unset as "".
pub fn log_format(flag: Option<LogFormat>, env: Option<&str>) -> Result<LogFormat, String> {
    if let Some(format) = flag {
        return Ok(format);
    }
    match env.map(str::trim).filter(|word| !word.is_empty()) {
        None => Ok(LogFormat::Text),
        Some(word) => clap::ValueEnum::from_str(word, true).map_err(|_| {
            format!("TAP_JIRA_LOG_FORMAT `{word}` is not a log format; use text or json")
        }),
    }
}

/// The level words tracing knows, and the spellings of other loggers (Python's `warning`,
/// `critical`), so that no word silences the tap by being read as a module name.
const LEVELS: &[(&str, &str)] = &[
    ("trace", "trace"),
    ("debug", "debug"),
    ("info", "info"),
    ("warn", "warn"),
    ("warning", "warn"),
    ("error", "error"),
    ("critical", "error"),
    ("fatal", "error"),
    ("off", "off"),
    ("none", "off"),
];

fn level(word: &str) -> Option<&'static str> {
    let word = word.trim().to_ascii_lowercase();
    LEVELS.iter().find(|(w, _)| *w == word).map(|(_, l)| *l)
}

/// The tracing filter from `--log-level` or else `RUST_LOG` (`info` without either), or a line
/// saying what is wrong with the one given.
pub fn log_filter(flag: Option<&str>, env: Option<&str>) -> Result<String, String> {
    let known = "use error, warn, info, debug, trace or off";
    if let Some(word) = flag {
        return level(word)
            .map(String::from)
            .ok_or_else(|| format!("--log-level `{word}` is not a log level; {known}"));
    }
    let Some(env) = env.filter(|e| !e.trim().is_empty()) else {
        return Ok("info".into());
    };
    // `RUST_LOG` may hold directives (`tap_jira=debug,reqwest=warn`); a bare word must be a level.
    let mut directives = Vec::new();
    let mut default_level = false;
    for part in env.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let directive = match part.rsplit_once('=') {
            Some((target, word)) => {
                level(word)
                    .map(|l| format!("{target}={l}"))
                    .ok_or_else(|| {
                        format!("RUST_LOG `{part}`: `{word}` is not a log level; {known}")
                    })?
            }
            None if part.contains(['[', ':']) => part.to_string(),
            None => {
                default_level = true;
                level(part)
                    .map(String::from)
                    .ok_or_else(|| format!("RUST_LOG `{part}` is not a log level; {known}"))?
            }
        };
        directives.push(directive);
    }
    // Directives for other crates only (`reqwest=debug`) would turn everything else off, the
    // tap's errors included: the rest stays at the default level.
    if !default_level {
        directives.insert(0, "info".into());
    }
    Ok(directives.join(","))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_levels_are_checked_and_other_loggers_words_understood() {
        assert_eq!(log_filter(Some("warning"), None).unwrap(), "warn");
        assert_eq!(log_filter(Some("DEBUG"), Some("off")).unwrap(), "debug");
        assert_eq!(log_filter(None, None).unwrap(), "info");
        assert_eq!(log_filter(None, Some(" ")).unwrap(), "info");
        assert_eq!(
            log_filter(None, Some("warning,tap_jira=Debug")).unwrap(),
            "warn,tap_jira=debug"
        );
        let e = log_filter(Some("loud"), None).unwrap_err();
        assert!(
            e.contains("--log-level `loud`") && e.contains("warn"),
            "{e}"
        );
        assert_eq!(
            log_filter(None, Some("reqwest=debug")).unwrap(),
            "info,reqwest=debug"
        );
        assert!(log_filter(None, Some("verbose")).is_err());
        assert!(log_filter(None, Some("tap_jira=noisy")).is_err());
    }
}
