//! `jira-sim`: serves a generated Jira site until killed; prints its base URL first. On
//! SIGTERM or SIGINT it prints its load statistics on stderr (and writes them to
//! `--stats-file`) before it stops.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use axum::serve::ListenerExt;
use clap::Parser;
use jira_sim::{Chaos, Deployment, Language, Sim, SimConfig};

// The simulator shares the benchmark machine with the tap: glibc's malloc, freeing on other
// threads than it allocated on, cost it nearly half its CPU.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

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
    /// The Server / Data Center version `serverInfo` reports (`10.3.0`): from 10.0
    /// `user/search` lists 100 users at most (1000 before), from 10.3 `user/list` lists them all.
    #[arg(long, default_value = "9.12.15", value_parser = parse_version)]
    server_version: [u32; 3],
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
    /// Server / Data Center: deepest row an offset search serves (`startAt` plus the page);
    /// a search asking past it is refused, "Search limit exceeded", as Data Center does.
    #[arg(long, default_value_t = SimConfig::default().search_window)]
    search_window: usize,
    /// Refuse JQL comparing `id` (`>`, `>=`, `<`, `<=`) to an id no issue has, 400 "An issue
    /// with key 'N' does not exist for field 'id'.", as Jira does for a deleted issue.
    #[arg(long)]
    id_ranges_need_an_issue: bool,
    /// Lifetime of OAuth access tokens, in seconds.
    #[arg(long, default_value_t = SimConfig::default().access_token_ttl_secs)]
    access_token_ttl_secs: u64,
    /// Give `expires_in` in token answers as a string (`"3600"`), as some OAuth servers do.
    #[arg(long)]
    expires_in_as_string: bool,
    /// Give this `expires_in` in token answers (0, negative, tiny) instead of the real lifetime.
    #[arg(long, allow_hyphen_values = true)]
    expires_in_reported: Option<i64>,
    /// Every n-th issue is busy (about 60 comments, 45 worklogs, 130 histories); 0 for none.
    /// Per issue on average, 20 gives about 4.5 comments, 3.2 worklogs and 8 histories; 40
    /// about 3, 2 and 5.
    #[arg(long, default_value_t = SimConfig::default().busy_every)]
    busy_every: usize,
    /// Answer gzip-compressed to a client that takes it, as Jira Cloud does.
    #[arg(long)]
    gzip: bool,
    /// The site's default language is German: issue deletions' audit records are written in it.
    #[arg(long)]
    german: bool,
    /// Imitate a site without Jira Software: every `/rest/agile/` path answers 404.
    #[arg(long)]
    no_jira_software: bool,
    /// Log in as an account without the Administer Jira permission (audit records answer 403).
    #[arg(long)]
    not_admin: bool,
    /// Requests a second the site admits (a token bucket with a one-second burst); beyond it
    /// requests are answered 429 as Jira does. No limit without it.
    #[arg(long, value_name = "R", value_parser = parse_rate)]
    rate_limit: Option<f64>,
    /// Average comments of the issues that are not busy (each drawn evenly from 0 to twice it,
    /// at most 50). Without it: 0 to 4, about 1.6 on average.
    #[arg(long, value_name = "MEAN", value_parser = parse_mean)]
    comments_mean: Option<f64>,
    /// Average worklogs of the issues that are not busy (each drawn evenly from 0 to twice it,
    /// at most 20). Without it: 0 to 3, 1 on average.
    #[arg(long, value_name = "MEAN", value_parser = parse_mean)]
    worklogs_mean: Option<f64>,
    /// Average change histories of the issues that are not busy (at most 40); from 1.75 up,
    /// extra edits are added to the status changes. Without it: about 1.75 on average.
    #[arg(long, value_name = "MEAN", value_parser = parse_mean)]
    histories_mean: Option<f64>,
    /// Write the load seen so far to this file every second and on SIGTERM / SIGINT, as JSON:
    /// `{"requests": N, "rejected_429": N, "peak_in_flight": N, "busy_seconds": F}` (replaced
    /// whole each time, never half-written).
    #[arg(long, value_name = "PATH")]
    stats_file: Option<PathBuf>,
    /// Milliseconds `worklog/updated` and `worklog/deleted` leave out the latest changes for,
    /// as Jira does with its last minute.
    #[arg(long, value_name = "MS", default_value_t = 60_000)]
    worklog_settling_ms: u64,
    /// Every worklog whose id is a multiple of N is restricted to a group the account is not
    /// in: hidden everywhere, and left out of `worklog/updated` pages after they are cut, as
    /// Jira does (pages come short or empty though not last). 0 for none.
    #[arg(long, value_name = "N", default_value_t = 0)]
    hidden_worklogs_every: u64,
    /// Every board whose id is a multiple of N has a filter not shared with the account: it
    /// is hidden everywhere, and left out of `board` pages after they are cut, as Jira does
    /// (pages come short or empty though not last). 0 for none.
    #[arg(long, value_name = "N", default_value_t = 0)]
    hidden_boards_every: u64,
    /// Most rows a `worklog/updated` or `worklog/deleted` page holds (Jira: 1000).
    #[arg(long, value_name = "ROWS", default_value_t = SimConfig::default().worklog_page_size)]
    worklog_page_size: usize,
    /// Share of requests (0 to 1) answered 500, 502 or 503.
    #[arg(long, value_name = "SHARE", default_value_t = 0.0, value_parser = parse_share)]
    server_error_rate: f64,
    /// Share of requests (0 to 1) that start a burst of three 429s with `Retry-After: 1`.
    #[arg(long, value_name = "SHARE", default_value_t = 0.0, value_parser = parse_share)]
    rate_limit_burst_rate: f64,
    /// Share of successful answers (0 to 1) whose body breaks off halfway.
    #[arg(long, value_name = "SHARE", default_value_t = 0.0, value_parser = parse_share)]
    cut_body_rate: f64,
    /// Share of requests (0 to 1) answered by the HTML login page with status 200.
    #[arg(long, value_name = "SHARE", default_value_t = 0.0, value_parser = parse_share)]
    login_page_rate: f64,
    /// Every N-th request, an issue is edited first (every fourth time, one is created).
    #[arg(long, value_name = "N", default_value_t = 0)]
    edit_every: u32,
}

fn parse_deployment(text: &str) -> Result<Deployment, String> {
    text.parse()
}

fn parse_version(text: &str) -> Result<[u32; 3], String> {
    let mut numbers = text.trim().split('.').map(|n| n.parse::<u32>().ok());
    match (
        numbers.next(),
        numbers.next(),
        numbers.next(),
        numbers.next(),
    ) {
        (Some(Some(major)), Some(Some(minor)), None, None) => Ok([major, minor, 0]),
        (Some(Some(major)), Some(Some(minor)), Some(Some(patch)), None) => {
            Ok([major, minor, patch])
        }
        _ => Err(format!("'{text}' is not a version such as 10.3.0")),
    }
}

fn parse_number(text: &str) -> Result<f64, String> {
    text.trim()
        .parse::<f64>()
        .ok()
        .filter(|n| n.is_finite())
        .ok_or_else(|| format!("'{text}' is not a number"))
}

fn parse_rate(text: &str) -> Result<f64, String> {
    let rate = parse_number(text)?;
    if rate > 0.0 {
        Ok(rate)
    } else {
        Err("the rate limit is a positive number of requests a second".to_string())
    }
}

fn parse_share(text: &str) -> Result<f64, String> {
    let share = parse_number(text)?;
    if (0.0..=1.0).contains(&share) {
        Ok(share)
    } else {
        Err("a share of requests is a number from 0 to 1".to_string())
    }
}

fn parse_mean(text: &str) -> Result<f64, String> {
    let mean = parse_number(text)?;
    if mean >= 0.0 {
        Ok(mean)
    } else {
        Err("an average count cannot be negative".to_string())
    }
}

/// SIGTERM and SIGINT, noted by a handler so that the simulator can write its statistics
/// before it stops (std has no signal API, and this crate takes no dependency for one).
#[cfg(unix)]
mod signals {
    use std::ffi::c_int;
    use std::sync::atomic::{AtomicI32, Ordering};

    const SIGINT: c_int = 2;
    const SIGTERM: c_int = 15;

    static RECEIVED: AtomicI32 = AtomicI32::new(0);

    unsafe extern "C" {
        /// POSIX `signal`; glibc and musl give it BSD semantics (the handler stays installed,
        /// interrupted system calls restart).
        fn signal(signum: c_int, handler: extern "C" fn(c_int)) -> usize;
    }

    extern "C" fn note(signum: c_int) {
        RECEIVED.store(signum, Ordering::SeqCst);
    }

    pub fn install() {
        for signum in [SIGINT, SIGTERM] {
            // SAFETY: `note` only stores to an atomic, which is async-signal-safe.
            unsafe {
                signal(signum, note);
            }
        }
    }

    /// The name of the first signal received, if any yet.
    pub fn received() -> Option<&'static str> {
        match RECEIVED.load(Ordering::SeqCst) {
            0 => None,
            SIGINT => Some("SIGINT"),
            _ => Some("SIGTERM"),
        }
    }
}

/// Resolves when SIGTERM or SIGINT arrives, with its name.
async fn stop_signal() -> &'static str {
    #[cfg(unix)]
    {
        signals::install();
        loop {
            if let Some(name) = signals::received() {
                return name;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    #[cfg(not(unix))]
    std::future::pending().await
}

/// The load statistics as one line of JSON.
fn stats_json(sim: &Sim) -> String {
    serde_json::to_string(&sim.load_stats()).unwrap_or_default()
}

/// Replaces the stats file: written beside it, then renamed over it, so that a reader never
/// sees half a file.
fn write_stats(path: &Path, sim: &Sim) -> std::io::Result<()> {
    let mut temporary = path.as_os_str().to_owned();
    temporary.push(".tmp");
    let temporary = PathBuf::from(temporary);
    std::fs::write(&temporary, stats_json(sim) + "\n")?;
    std::fs::rename(&temporary, path)
}

/// Writes the stats file every second, forever; a failed write is reported once.
async fn keep_writing_stats(path: PathBuf, sim: Sim) {
    let mut reported = false;
    let mut every_second = tokio::time::interval(Duration::from_secs(1));
    loop {
        every_second.tick().await;
        if let Err(error) = write_stats(&path, &sim)
            && !reported
        {
            eprintln!("jira-sim: cannot write {}: {error}", path.display());
            reported = true;
        }
    }
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
        server_version: args.server_version,
        extra_custom_fields: args.extra_custom_fields,
        time_zone: args.time_zone,
        latency_ms: args.latency_ms,
        max_page_size: args.max_page_size,
        search_window: args.search_window,
        id_ranges_need_an_issue: args.id_ranges_need_an_issue,
        access_token_ttl_secs: args.access_token_ttl_secs,
        expires_in_as_string: args.expires_in_as_string,
        expires_in_reported: args.expires_in_reported,
        busy_every: args.busy_every,
        jira_software: !args.no_jira_software,
        admin: !args.not_admin,
        rate_limit_per_second: args.rate_limit,
        comments_mean: args.comments_mean,
        worklogs_mean: args.worklogs_mean,
        histories_mean: args.histories_mean,
        hidden_worklogs_every: args.hidden_worklogs_every,
        hidden_boards_every: args.hidden_boards_every,
        worklog_page_size: args.worklog_page_size,
        chaos: Chaos {
            server_errors: args.server_error_rate,
            rate_limit_bursts: args.rate_limit_burst_rate,
            cut_bodies: args.cut_body_rate,
            login_pages: args.login_page_rate,
            edit_every: args.edit_every,
        },
        gzip: args.gzip,
        language: if args.german {
            Language::German
        } else {
            Language::English
        },
        clock_offset_ms: 0,
    });
    sim.set_worklog_settling_ms(args.worklog_settling_ms);
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", args.port)).await?;
    let stats_writer = {
        let (path, sim) = (args.stats_file.clone(), sim.clone());
        async move {
            match path {
                Some(path) => keep_writing_stats(path, sim).await,
                None => std::future::pending().await,
            }
        }
    };
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "http://{}", listener.local_addr()?)?;
    stdout.flush()?;
    drop(stdout);
    let signal = tokio::select! {
        served = axum::serve(listener.tap_io(jira_sim::no_delay), sim.router()) => {
            served?;
            None
        }
        signal = stop_signal() => Some(signal),
        () = stats_writer => None,
    };
    let why = signal.map_or("server stopped".to_string(), |s| format!("{s} received"));
    eprintln!("jira-sim: {why}; stats: {}", stats_json(&sim));
    if let Some(path) = &args.stats_file
        && let Err(error) = write_stats(path, &sim)
    {
        eprintln!("jira-sim: cannot write {}: {error}", path.display());
    }
    Ok(())
}
