//! Load: the rate limiter's 429s and headers on both deployments, the accounting of requests
//! in flight, the `jira-sim` binary's stats file, and the generator's per-issue averages.

mod common;

use std::collections::HashSet;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use common::{client, send};
use jira_sim::{Deployment, RunningSim, SimConfig, creds, spawn};
use reqwest::blocking::Response;
use serde_json::{Value, json};

fn header<'r>(response: &'r Response, name: &str) -> &'r str {
    response
        .headers()
        .get(name)
        .unwrap_or_else(|| panic!("no {name} header"))
        .to_str()
        .unwrap()
}

/// The simulator's load counters (`/_sim/load`).
fn load(sim: &RunningSim) -> Value {
    client()
        .get(format!("{}/_sim/load", sim.url))
        .send()
        .unwrap()
        .json()
        .unwrap()
}

fn instant(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .unwrap_or_else(|e| panic!("{text} is not ISO 8601: {e}"))
        .with_timezone(&Utc)
}

/// Requests `path` until one is refused (at most `most` times); the admitted ones and the
/// refusal.
fn until_refused(sim: &RunningSim, path: &str, most: usize) -> (Vec<Response>, Response) {
    let mut admitted = Vec::new();
    for _ in 0..most {
        let response = send(sim, path);
        if response.status() == 429 {
            return (admitted, response);
        }
        assert_eq!(response.status(), 200);
        admitted.push(response);
    }
    panic!("{most} requests and none refused");
}

#[test]
fn cloud_refuses_with_429_once_the_burst_is_spent_and_recovers_after_retry_after() {
    let sim = spawn(SimConfig {
        rate_limit_per_second: Some(2.0),
        ..SimConfig::default()
    });
    let path = "/rest/api/3/serverInfo";
    let (admitted, refused) = until_refused(&sim, path, 6);
    // A burst of two; refilling at two a second gives at most a token more meanwhile.
    assert!((2..=3).contains(&admitted.len()), "{}", admitted.len());
    assert_eq!(header(&admitted[0], "x-ratelimit-limit"), "2");
    assert_eq!(header(&admitted[0], "x-ratelimit-remaining"), "1");
    assert_eq!(header(&admitted[1], "x-ratelimit-remaining"), "0");
    assert_eq!(header(&admitted[1], "x-ratelimit-nearlimit"), "true");
    let full_at = instant(header(&admitted[1], "x-ratelimit-reset"));
    let now = Utc::now();
    assert!(full_at > now && full_at <= now + chrono::Duration::milliseconds(1100));

    assert_eq!(header(&refused, "retry-after"), "1");
    assert_eq!(header(&refused, "x-ratelimit-limit"), "2");
    assert_eq!(header(&refused, "x-ratelimit-remaining"), "0");
    assert_eq!(header(&refused, "ratelimit-reason"), "jira-burst-based");
    let next_token = instant(header(&refused, "x-ratelimit-reset"));
    assert!(next_token > now && next_token <= Utc::now() + chrono::Duration::milliseconds(600));
    assert!(header(&refused, "content-type").starts_with("application/json"));
    let body: Value = refused.json().unwrap();
    assert_eq!(
        body,
        json!({
            "errorMessages": ["The request has been rate-limited. Please try again later."],
            "errors": {},
            "status": 429
        })
    );
    assert_eq!(sim.sim.rejected_429(), 1);
    let last = sim.sim.requests().pop().unwrap();
    assert_eq!((last.path.as_str(), last.status), (path, 429));

    // Neither OAuth's token endpoint nor the admin endpoints take tokens.
    let token = client()
        .post(format!("{}/oauth/token", sim.url))
        .json(&json!({
            "grant_type": "refresh_token",
            "client_id": creds::OAUTH_CLIENT_ID,
            "client_secret": creds::OAUTH_CLIENT_SECRET,
            "refresh_token": creds::INITIAL_REFRESH_TOKEN,
        }))
        .send()
        .unwrap();
    assert_eq!(token.status(), 200);
    assert!(token.headers().get("x-ratelimit-limit").is_none());
    let load = load(&sim);
    assert_eq!(load["rejected_429"], 1);

    std::thread::sleep(Duration::from_secs(1));
    let again = send(&sim, path);
    assert_eq!(again.status(), 200, "a token is back after Retry-After");
    assert_eq!(header(&again, "x-ratelimit-limit"), "2");
    assert_eq!(sim.sim.rejected_429(), 1);
}

#[test]
fn server_refuses_with_tomcat_html_and_data_center_headers() {
    let sim = spawn(SimConfig {
        deployment: Deployment::Server,
        rate_limit_per_second: Some(1.0),
        ..SimConfig::default()
    });
    let (admitted, refused) = until_refused(&sim, "/rest/api/2/myself", 4);
    assert_eq!(admitted.len(), 1, "a burst of one");
    let ok = &admitted[0];
    assert_eq!(header(ok, "x-ratelimit-limit"), "1");
    assert_eq!(header(ok, "x-ratelimit-remaining"), "0");
    assert_eq!(header(ok, "x-ratelimit-fillrate"), "1");
    assert_eq!(header(ok, "x-ratelimit-interval-seconds"), "1");
    assert!(ok.headers().get("x-ratelimit-reset").is_none());

    assert_eq!(header(&refused, "retry-after"), "1");
    assert_eq!(header(&refused, "x-ratelimit-limit"), "1");
    assert_eq!(header(&refused, "x-ratelimit-remaining"), "0");
    assert_eq!(header(&refused, "x-ratelimit-fillrate"), "1");
    assert_eq!(header(&refused, "x-ratelimit-interval-seconds"), "1");
    assert!(refused.headers().get("ratelimit-reason").is_none());
    assert!(header(&refused, "content-type").starts_with("text/html"));
    let page = refused.text().unwrap();
    assert!(page.starts_with("<!doctype html>"));
    assert!(page.contains("<title>HTTP Status 429 \u{2013} Too Many Requests</title>"));
    assert!(page.contains("Rate limit exceeded."));
    assert_eq!(sim.sim.rejected_429(), 1);

    std::thread::sleep(Duration::from_secs(1));
    assert_eq!(send(&sim, "/rest/api/2/myself").status(), 200);
}

#[test]
fn without_a_limit_nothing_is_refused_and_no_limit_headers_are_sent() {
    let sim = spawn(SimConfig::default());
    for _ in 0..20 {
        let response = send(&sim, "/rest/api/3/serverInfo");
        assert_eq!(response.status(), 200);
        assert!(response.headers().get("x-ratelimit-limit").is_none());
    }
    assert_eq!(sim.sim.rejected_429(), 0);
    assert_eq!(sim.sim.load_stats().requests, 20);
}

#[test]
fn peak_in_flight_counts_concurrent_requests_and_busy_time_leaves_out_latency() {
    let sim = spawn(SimConfig {
        latency_ms: 200,
        ..SimConfig::default()
    });
    let barrier = std::sync::Barrier::new(4);
    let started = Instant::now();
    std::thread::scope(|scope| {
        for _ in 0..4 {
            scope.spawn(|| {
                barrier.wait();
                assert_eq!(send(&sim, "/rest/api/3/serverInfo").status(), 200);
            });
        }
    });
    assert!(
        started.elapsed() < Duration::from_millis(700),
        "served side by side"
    );
    assert_eq!(sim.sim.peak_in_flight(), 4);
    let stats = sim.sim.load_stats();
    assert_eq!((stats.requests, stats.rejected_429), (4, 0));
    assert!(
        stats.busy_seconds < 0.4,
        "four 200 ms sleeps are not busy time: {}",
        stats.busy_seconds
    );
    let load = load(&sim);
    assert_eq!(load["peak_in_flight"], 4);
    assert_eq!(load["requests"], 4);

    // One at a time: the peak restarts with the request log.
    sim.sim.reset_requests();
    send(&sim, "/rest/api/3/serverInfo");
    send(&sim, "/rest/api/3/serverInfo");
    assert_eq!(sim.sim.peak_in_flight(), 1);
    assert_eq!(sim.sim.load_stats().requests, 2);
}

/// Average per issue of a per-issue stream.
fn average(sim: &RunningSim, stream: &str) -> f64 {
    sim.sim.expected_records(stream, None).unwrap() as f64 / sim.sim.issue_count() as f64
}

#[test]
fn the_default_generator_gives_its_documented_averages() {
    // Without busy issues: about 1.6 comments, 1 worklog and 1.75 histories an issue.
    let sim = spawn(SimConfig {
        projects: 4,
        issues_per_project: 250,
        busy_every: 0,
        ..SimConfig::default()
    });
    let (comments, worklogs, histories) = (
        average(&sim, "issue_comments"),
        average(&sim, "worklogs"),
        average(&sim, "changelogs"),
    );
    assert!((comments - 11.0 / 7.0).abs() < 0.15, "{comments}");
    assert!((worklogs - 1.0).abs() < 0.15, "{worklogs}");
    assert!((histories - 1.75).abs() < 0.15, "{histories}");
}

#[test]
fn averages_asked_for_are_what_issues_get_and_children_stay_consistent() {
    for deployment in [Deployment::Cloud, Deployment::Server] {
        let sim = spawn(SimConfig {
            deployment,
            projects: 2,
            issues_per_project: 100,
            busy_every: 0,
            comments_mean: Some(3.0),
            worklogs_mean: Some(2.0),
            histories_mean: Some(5.0),
            ..SimConfig::default()
        });
        let (comments, worklogs, histories) = (
            average(&sim, "issue_comments"),
            average(&sim, "worklogs"),
            average(&sim, "changelogs"),
        );
        assert!((comments - 3.0).abs() < 0.4, "{comments}");
        assert!((worklogs - 2.0).abs() < 0.3, "{worklogs}");
        assert!((histories - 5.0).abs() < 0.5, "{histories}");
        assert!(sim.sim.busy_issue_ids().is_empty());

        let root = match deployment {
            Deployment::Cloud => "/rest/api/3",
            Deployment::Server => "/rest/api/2",
        };
        let (mut comment_ids, mut worklog_ids) = (HashSet::new(), HashSet::new());
        let mut history_ids = HashSet::new();
        for project in ["WEB", "OPS"] {
            for n in 1..=100 {
                let key = format!("{project}-{n}");
                let issue: Value = send(
                    &sim,
                    &format!("{root}/issue/{key}?fields=comment,worklog&expand=changelog"),
                )
                .json()
                .unwrap();
                let fields = &issue["fields"];
                // Nothing beyond what Jira embeds: the embedded lists hold everything.
                let comments = fields["comment"]["comments"].as_array().unwrap();
                assert_eq!(
                    fields["comment"]["total"].as_u64(),
                    Some(comments.len() as u64)
                );
                let worklogs = fields["worklog"]["worklogs"].as_array().unwrap();
                assert_eq!(
                    fields["worklog"]["total"].as_u64(),
                    Some(worklogs.len() as u64)
                );
                let histories = issue["changelog"]["histories"].as_array().unwrap();
                let one = |stream: &str| {
                    sim.sim
                        .expected_records(stream, Some(std::slice::from_ref(&key)))
                        .unwrap()
                };
                assert_eq!(comments.len(), one("issue_comments"), "{key}");
                assert_eq!(worklogs.len(), one("worklogs"), "{key}");
                assert_eq!(histories.len(), one("changelogs"), "{key}");
                let id = |v: &Value| v["id"].as_str().unwrap().to_string();
                comment_ids.extend(comments.iter().map(id));
                worklog_ids.extend(worklogs.iter().map(id));
                history_ids.extend(histories.iter().map(id));
            }
        }
        let total = |stream| sim.sim.expected_records(stream, None).unwrap();
        assert_eq!(comment_ids.len(), total("issue_comments"), "unique ids");
        assert_eq!(worklog_ids.len(), total("worklogs"), "unique ids");
        assert_eq!(history_ids.len(), total("changelogs"), "unique ids");

        // Worklogs are found by id.
        let ids: Vec<u64> = worklog_ids.iter().map(|id| id.parse().unwrap()).collect();
        let listed: Value = {
            let request = client()
                .post(format!("{}{root}/worklog/list", sim.url))
                .json(&json!({ "ids": ids }));
            match deployment {
                Deployment::Cloud => request.basic_auth(creds::EMAIL, Some(creds::API_TOKEN)),
                Deployment::Server => request.basic_auth(creds::USERNAME, Some(creds::PASSWORD)),
            }
            .send()
            .unwrap()
            .json()
            .unwrap()
        };
        assert_eq!(listed.as_array().unwrap().len(), ids.len());
    }
}

#[cfg(unix)]
#[test]
fn the_binary_writes_its_stats_file_and_prints_them_on_sigterm() {
    use std::io::{BufRead, BufReader, Read};
    use std::process::{Command, Stdio};

    let stats_file =
        std::env::temp_dir().join(format!("jira-sim-stats-{}.json", std::process::id()));
    let _ = std::fs::remove_file(&stats_file);
    let mut child = Command::new(env!("CARGO_BIN_EXE_jira-sim"))
        .args(["--projects", "1", "--issues-per-project", "3"])
        // One request, then a token every 100 seconds: the test sees no refill.
        .args(["--rate-limit", "0.01", "--stats-file"])
        .arg(&stats_file)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut url = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut url)
        .unwrap();
    let url = url.trim().to_string();
    let get = || {
        client()
            .get(format!("{url}/rest/api/3/serverInfo"))
            .basic_auth(creds::EMAIL, Some(creds::API_TOKEN))
            .send()
            .unwrap()
            .status()
    };
    assert_eq!(get(), 200);
    assert_eq!(get(), 429);
    // Written every second.
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let written = std::fs::read_to_string(&stats_file).unwrap_or_default();
        if let Ok(stats) = serde_json::from_str::<Value>(&written)
            && stats["requests"] == 2
        {
            assert_eq!(stats["rejected_429"], 1);
            break;
        }
        assert!(Instant::now() < deadline, "the stats file says {written:?}");
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(get(), 429);
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let status = child.wait().unwrap();
    assert!(status.success(), "a clean stop: {status:?}");
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    let printed = stderr
        .lines()
        .find_map(|line| line.split_once("stats: ").map(|(_, json)| json))
        .unwrap_or_else(|| panic!("no stats on stderr: {stderr}"));
    let printed: Value = serde_json::from_str(printed).unwrap();
    let written: Value =
        serde_json::from_str(&std::fs::read_to_string(&stats_file).unwrap()).unwrap();
    let _ = std::fs::remove_file(&stats_file);
    assert!(stderr.contains("SIGTERM"), "{stderr}");
    assert_eq!(
        printed, written,
        "the file is brought up to date on SIGTERM"
    );
    assert_eq!(printed["requests"], 3);
    assert_eq!(printed["rejected_429"], 2);
    assert_eq!(printed["peak_in_flight"], 1);
    assert!(printed["busy_seconds"].as_f64().unwrap() > 0.0);
}
