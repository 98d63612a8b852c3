//! `jira-sim`: serves a generated Jira site until killed; prints its base URL first.

use std::io::Write;

use clap::Parser;
use jira_sim::{Deployment, Sim, SimConfig};

/// A deterministic Jira Cloud / Server simulator.
#[derive(Parser, Debug)]
#[command(name = "jira-sim", version, about)]
struct Args {
    /// Port on 127.0.0.1 to listen on (0 picks a free one).
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// Which Jira to imitate: cloud or server.
    #[arg(long, default_value = "cloud", value_parser = parse_deployment)]
    deployment: Deployment,
    /// Seed of every generated value.
    #[arg(long, default_value_t = SimConfig::default().seed)]
    seed: u64,
    /// Number of projects.
    #[arg(long, default_value_t = SimConfig::default().projects)]
    projects: usize,
    /// Issues in each project.
    #[arg(long, default_value_t = SimConfig::default().issues_per_project)]
    issues_per_project: usize,
    /// Human users (Cloud adds an app user and a former user).
    #[arg(long, default_value_t = SimConfig::default().users)]
    users: usize,
    /// Extra numbered custom fields, cycling through the field types.
    #[arg(long, default_value_t = 0)]
    extra_custom_fields: usize,
    /// IANA time zone of the authenticated user; JQL dates are read in it.
    #[arg(long, default_value_t = SimConfig::default().time_zone)]
    time_zone: String,
    /// Milliseconds to wait before answering each request.
    #[arg(long, default_value_t = 0)]
    latency_ms: u64,
    /// Largest issue page a search returns.
    #[arg(long, default_value_t = SimConfig::default().max_page_size)]
    max_page_size: usize,
    /// Lifetime of OAuth access tokens, in seconds.
    #[arg(long, default_value_t = SimConfig::default().access_token_ttl_secs)]
    access_token_ttl_secs: u64,
    /// Every n-th issue is busy (about 60 comments, 45 worklogs, 130 histories); 0 for none.
    #[arg(long, default_value_t = SimConfig::default().busy_every)]
    busy_every: usize,
    /// Imitate a site without Jira Software: every `/rest/agile/` path answers 404.
    #[arg(long)]
    no_jira_software: bool,
    /// Log in as an account without the Administer Jira permission (audit records answer 403).
    #[arg(long)]
    not_admin: bool,
}

fn parse_deployment(text: &str) -> Result<Deployment, String> {
    text.parse()
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let args = Args::parse();
    let sim = Sim::new(SimConfig {
        seed: args.seed,
        deployment: args.deployment,
        projects: args.projects,
        issues_per_project: args.issues_per_project,
        users: args.users,
        extra_custom_fields: args.extra_custom_fields,
        time_zone: args.time_zone,
        latency_ms: args.latency_ms,
        max_page_size: args.max_page_size,
        access_token_ttl_secs: args.access_token_ttl_secs,
        busy_every: args.busy_every,
        jira_software: !args.no_jira_software,
        admin: !args.not_admin,
    });
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", args.port)).await?;
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "http://{}", listener.local_addr()?)?;
    stdout.flush()?;
    drop(stdout);
    axum::serve(listener, sim.router()).await
}
