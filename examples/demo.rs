//! The demo: a Jira site simulated on this machine, discovered and synced by tap-jira, first in
//! full and then incrementally after some issues change. No Jira account needed.
//!
//! `cargo run --example demo` writes everything to `demo-output/` and prints what it extracted.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::BufWriter;
use std::path::Path;

use clap::Parser;
use jira_sim::{SimConfig, creds};
use serde_json::{Value, json};
use tap_jira::cli::Cli;

fn main() -> Result<(), Box<dyn std::error::Error>> {
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
    let run = |args: &[&str], output: &Path| -> Result<(), Box<dyn std::error::Error>> {
        let cli = Cli::try_parse_from(std::iter::once("tap-jira").chain(args.iter().copied()))?;
        let file = BufWriter::new(File::create(output)?);
        runtime.block_on(tap_jira::run(&cli, file))?;
        Ok(())
    };
    let config = config.to_string_lossy().into_owned();

    let catalog = out.join("catalog.json");
    run(&["--config", &config, "--discover"], &catalog)?;
    let discovered: Value = serde_json::from_str(&std::fs::read_to_string(&catalog)?)?;
    let custom_fields = discovered["streams"][3]["schema"]["properties"]["fields"]["properties"]
        .as_object()
        .map_or(0, |f| {
            f.keys().filter(|k| k.starts_with("customfield_")).count()
        });
    eprintln!(
        "discover → {}: {} streams, issues typed with {custom_fields} custom fields",
        catalog.display(),
        discovered["streams"].as_array().map_or(0, Vec::len)
    );

    let full = out.join("full-sync.jsonl");
    run(
        &["--config", &config, "--catalog", &catalog.to_string_lossy()],
        &full,
    )?;
    let messages = read_messages(&full)?;
    eprintln!("full sync → {}:", full.display());
    print_counts(&messages);
    if let Some(issue) = messages
        .iter()
        .find(|m| m["type"] == "RECORD" && m["stream"] == "issues")
    {
        let r = &issue["record"];
        eprintln!(
            "  first issue: {} \"{}\" ({}), updated {}",
            r["key"].as_str().unwrap_or("?"),
            r["fields"]["summary"].as_str().unwrap_or("?"),
            r["fields"]["status"]["name"].as_str().unwrap_or("?"),
            r["updated"].as_str().unwrap_or("?")
        );
    }
    let state = out.join("state.json");
    let last_state = messages
        .iter()
        .rev()
        .find(|m| m["type"] == "STATE")
        .map(|m| m["value"].clone());
    std::fs::write(
        &state,
        serde_json::to_string_pretty(&last_state.unwrap_or(json!({})))?,
    )?;
    eprintln!("  bookmark saved to {}", state.display());

    let touched = site.sim.touch_issues(7);
    eprintln!(
        "\n{} issues change in Jira; incremental sync from the bookmark:",
        touched.len()
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
    let messages = read_messages(&incremental)?;
    eprintln!("incremental sync → {}:", incremental.display());
    print_counts(&messages);
    eprintln!(
        "\nRequests the simulator served: {:?}",
        site.sim.request_counts()
    );
    Ok(())
}

fn read_messages(path: &Path) -> Result<Vec<Value>, Box<dyn std::error::Error>> {
    let text = std::fs::read_to_string(path)?;
    Ok(text
        .lines()
        .map(serde_json::from_str)
        .collect::<Result<_, _>>()?)
}

fn print_counts(messages: &[Value]) {
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for m in messages.iter().filter(|m| m["type"] == "RECORD") {
        *counts
            .entry(m["stream"].as_str().unwrap_or("?"))
            .or_default() += 1;
    }
    for (stream, n) in counts {
        eprintln!("  {stream:<20} {n:>6} records");
    }
}
