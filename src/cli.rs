//! The command line, in Singer's conventions; flags combine in any order, as Meltano passes them.

use std::path::PathBuf;

use clap::Parser;

use crate::about::Format;

#[derive(Debug, Parser)]
#[command(
    name = "tap-jira",
    version,
    about = "Singer tap for Jira Cloud, Server and Data Center"
)]
pub struct Cli {
    /// Config file (JSON); repeat to layer files, later keys win.
    #[arg(short = 'c', long = "config", value_name = "FILE")]
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

    /// Log level on stderr (error, warn, info, debug, trace); RUST_LOG also works.
    #[arg(long, value_name = "LEVEL")]
    pub log_level: Option<String>,
}

impl Cli {
    pub fn catalog_path(&self) -> Option<&PathBuf> {
        self.catalog.as_ref().or(self.properties.as_ref())
    }
}
