//! The demo: a Jira site simulated on this machine, discovered and synced by tap-jira, first in
//! full and then incrementally after some issues change and some are deleted; each run loaded
//! into SQLite as a Singer target would, and a few tables an analyst would ask for printed from
//! it. No Jira account needed, and no database to install: SQLite is built in.
//!
//! `cargo run --example demo` writes everything to `demo-output/` and prints to stderr.

mod report;
mod sqlite;

use std::collections::BTreeMap;
use std::error::Error;
use std::fs::File;
use std::io::{BufReader, BufWriter};
use std::path::Path;

use clap::Parser;
use jira_sim::{SimConfig, creds};
use rusqlite::Connection;
use serde_json::{Value, json};
use sqlite::{Loaded, SqliteTarget};
use tap_jira::cli::Cli;

fn main() -> Result<(), Box<dyn Error>> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new("warn"))
        .with_writer(std::io::stderr)
        .init();
    let _ = rustls::crypto::ring::default_provider().install_default();
    let out = Path::new("demo-output");
    std::fs::create_dir_all(out)?;

    let site = jira_sim::spawn(SimConfig {
        projects: 4,
        issues_per_project: 150,
        users: 25,
        ..SimConfig::default()
    });
    // Jira lists worklog changes a minute late; the demo's deletions should show at once.
    site.sim.set_worklog_settling_ms(0);
    eprintln!("Simulated Jira Cloud site at {}\n", site.url);
    let config = out.join("config.json");
    std::fs::write(
        &config,
        serde_json::to_string_pretty(&json!({
            "base_url": site.url, "allow_http": true,
            "email": creds::EMAIL, "api_token": creds::API_TOKEN,
            "start_date": "2020-01-01T00:00:00Z"
        }))?,
    )?;
    let runtime = tokio::runtime::Runtime::new()?;
    let run = |args: &[&str], output: &Path| -> Result<(), Box<dyn Error>> {
        let cli = Cli::try_parse_from(std::iter::once("tap-jira").chain(args.iter().copied()))?;
        let file = BufWriter::new(File::create(output)?);
        runtime.block_on(tap_jira::run(&cli, file))?;
        Ok(())
    };
    let config = config.to_string_lossy().into_owned();

    // A fresh database each time, as the first sync starts without a bookmark.
    let database = out.join("jira.sqlite");
    if database.exists() {
        std::fs::remove_file(&database)?;
    }
    let mut warehouse = SqliteTarget::new(Connection::open(&database)?);

    let catalog = out.join("catalog.json");
    run(&["--config", &config, "--discover"], &catalog)?;
    let discovered: Value = serde_json::from_reader(BufReader::new(File::open(&catalog)?))?;
    let streams = discovered["streams"]
        .as_array()
        .map_or(&[][..], Vec::as_slice);
    let custom_fields = streams
        .iter()
        .find(|s| s["stream"] == "issues")
        .and_then(|s| s["schema"]["properties"]["fields"]["properties"].as_object())
        .map_or(0, |f| {
            f.keys().filter(|k| k.starts_with("customfield_")).count()
        });
    eprintln!(
        "discover → {}: {} streams, issues typed with {custom_fields} custom fields",
        catalog.display(),
        streams.len()
    );

    let full = out.join("full-sync.jsonl");
    run(
        &["--config", &config, "--catalog", &catalog.to_string_lossy()],
        &full,
    )?;
    let loaded = warehouse.load(BufReader::new(File::open(&full)?))?;
    eprintln!(
        "full sync → {}, loaded into {}: {}",
        full.display(),
        database.display(),
        total(&loaded.records)
    );
    print_counts(&loaded.records);
    let state = out.join("state.json");
    std::fs::write(
        &state,
        serde_json::to_string_pretty(loaded.state.as_ref().unwrap_or(&json!({})))?,
    )?;
    eprintln!("  bookmark saved to {}", state.display());

    let touched = site.sim.touch_issues(7);
    let deleted = site.sim.delete_issues(1);
    let deleted_worklogs = site.sim.delete_worklogs(3);
    eprintln!(
        "\nIn Jira {} issues change, and {} issue and {} worklogs are deleted; \
         incremental sync from the bookmark:",
        touched.len(),
        deleted.len(),
        deleted_worklogs.len()
    );
    let incremental = out.join("incremental-sync.jsonl");
    run(
        &[
            "--config",
            &config,
            "--catalog",
            &catalog.to_string_lossy(),
            "--state",
            &state.to_string_lossy(),
        ],
        &incremental,
    )?;
    let loaded = warehouse.load(BufReader::new(File::open(&incremental)?))?;
    eprintln!(
        "incremental sync → {}, loaded: {} (full-table streams are read again)",
        incremental.display(),
        total(&loaded.records)
    );
    print_changes(&loaded);

    eprintln!(
        "\nThe simulator served {} requests.",
        site.sim.request_counts().values().sum::<u64>()
    );
    eprintln!(
        "\nLoaded into {db}: a table per stream, nested objects as JSON text. Open it with any\n\
         SQLite client (e.g. `sqlite3 {db}`); the queries behind these tables are in\n\
         examples/demo/report.rs.\n",
        db = database.display()
    );
    let db = warehouse.db();
    eprintln!("{}", report::issues_per_status(db)?.render(10));
    eprintln!("{}", report::time_in_status(db)?.render(10));
    eprintln!("{}", report::worklog_hours(db)?.render(10));
    Ok(())
}

fn total(counts: &BTreeMap<String, usize>) -> String {
    format!(
        "{} records of {} streams",
        counts.values().sum::<usize>(),
        counts.len()
    )
}

/// Records per stream, two streams a line.
fn print_counts(counts: &BTreeMap<String, usize>) {
    let cells: Vec<String> = counts
        .iter()
        .map(|(stream, n)| format!("{stream:<28} {n:>6}"))
        .collect();
    for pair in cells.chunks(2) {
        eprintln!("  {}", pair.join("    "));
    }
}

/// What the incremental run changed in the incremental streams' tables.
fn print_changes(loaded: &Loaded) {
    for stream in ["issues", "worklogs", "issue_field_history"] {
        let written = loaded.records.get(stream).copied().unwrap_or(0);
        let deleted = loaded.deleted.get(stream).copied().unwrap_or(0);
        eprintln!("  {stream:<20} {written:>4} rows written, {deleted} deleted");
    }
}
