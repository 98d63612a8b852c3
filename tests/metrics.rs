//! What a sync tells its watchers on stderr: singer-python's `METRIC:` lines, which must add up to
//! what went to stdout and to the simulator, progress lines while it runs, and logs as JSON on
//! request.

mod common;

use std::collections::BTreeMap;
use std::process::{Command, Stdio};

use common::{Site, tap, tap_with_env};
use jira_sim::{Deployment, SimConfig};
use serde_json::{Value, json};

/// The JSON of every `METRIC:` line in `stderr`, text or JSON logs.
fn metrics(stderr: &str) -> Vec<Value> {
    stderr
        .lines()
        .map(|line| match serde_json::from_str::<Value>(line) {
            // A JSON log line: the metric is its message.
            Ok(object) => object["message"].as_str().unwrap_or_default().to_string(),
            Err(_) => line.to_string(),
        })
        .filter_map(|line| line.split_once("METRIC: ").map(|(_, m)| m.to_string()))
        .map(|m| {
            serde_json::from_str(&m).unwrap_or_else(|e| panic!("metric is not JSON ({e}): {m}"))
        })
        .collect()
}

#[test]
fn record_count_metrics_add_up_to_the_records_and_timers_to_the_requests() {
    let site = Site::cloud();
    let config = site.file(
        "config.json",
        &site.config_with(json!({"progress_interval_seconds": 1})),
    );
    let run = tap(&[&"--config", &config]);
    run.assert_success();
    let metrics = metrics(&run.stderr);

    let mut counted: BTreeMap<String, u64> = BTreeMap::new();
    for m in metrics.iter().filter(|m| m["metric"] == "record_count") {
        assert_eq!(m["type"], "counter");
        *counted
            .entry(m["tags"]["endpoint"].as_str().unwrap().to_string())
            .or_default() += m["value"].as_u64().unwrap();
    }
    let emitted = run.record_counts();
    assert!(emitted.len() >= 20, "{emitted:?}");
    assert_eq!(counted, emitted);

    let timers: Vec<&Value> = metrics
        .iter()
        .filter(|m| m["metric"] == "http_request_duration")
        .collect();
    let requests = site.sim.sim.requests();
    assert_eq!(timers.len(), requests.len());
    for t in &timers {
        assert_eq!(t["type"], "timer");
        assert!(t["value"].as_f64().unwrap() >= 0.0);
        assert!(t["tags"]["endpoint"].is_string());
    }
    // Each timer carries the status the simulator answered.
    let mut answered: Vec<u64> = requests.iter().map(|r| u64::from(r.status)).collect();
    let mut timed: Vec<u64> = timers
        .iter()
        .map(|t| t["tags"]["http_status_code"].as_u64().unwrap())
        .collect();
    answered.sort_unstable();
    timed.sort_unstable();
    assert_eq!(timed, answered);
    // The streams the account may not read (the simulator answers 403 or 404) are the failures.
    let failed = timers
        .iter()
        .filter(|t| t["tags"]["status"] == "failed")
        .count();
    assert_eq!(failed, requests.iter().filter(|r| r.status >= 400).count());
}

#[test]
fn a_long_sync_reports_progress_with_an_estimate_where_jira_gives_a_total() {
    let site = Site::new(SimConfig {
        deployment: Deployment::Server,
        issues_per_project: 80,
        latency_ms: 40,
        ..SimConfig::default()
    });
    let config = site.file(
        "config.json",
        &site.config_with(json!({"progress_interval_seconds": 1, "page_size": 10})),
    );
    let run = tap(&[&"--config", &config]);
    run.assert_success();
    let progress: Vec<&str> = run
        .stderr
        .lines()
        .filter(|l| l.contains("progress") && l.contains("stream=\"issues\""))
        .collect();
    assert!(!progress.is_empty(), "{}", run.stderr);
    assert!(
        progress
            .iter()
            .any(|l| l.contains("of=240") && l.contains("done=") && l.contains("left=")),
        "no estimate: {progress:#?}"
    );
}

/// Meltano gives a plugin's `env` entry `TAP_JIRA_LOG_FORMAT: ${LOG_FORMAT}` as an empty string
/// when `LOG_FORMAT` is unset: that is no format asked for, as an empty `RUST_LOG` is no level.
/// The word is read in any case, as `--log-level`'s are.
#[test]
fn an_empty_log_format_variable_is_the_default_and_its_word_is_read_in_any_case() {
    let site = Site::cloud();
    let config = site.file("config.json", &site.cloud_config());
    let empty = tap_with_env(
        &[&"--config", &config, &"--discover"],
        &[("TAP_JIRA_LOG_FORMAT", "")],
    );
    empty.assert_success();
    assert!(
        empty.stderr.contains(" INFO "),
        "text logs: {}",
        empty.stderr
    );
    let upper = tap_with_env(
        &[&"--config", &config, &"--discover"],
        &[("TAP_JIRA_LOG_FORMAT", "JSON")],
    );
    upper.assert_success();
    for line in upper.stderr.lines() {
        assert!(
            serde_json::from_str::<Value>(line).is_ok(),
            "not a JSON log line: {line}"
        );
    }
}

#[test]
fn logs_come_as_json_lines_with_the_flag_or_the_variable() {
    let site = Site::server();
    let config = site.file(
        "config.json",
        &site.config_with(json!({"progress_interval_seconds": 0})),
    );
    let flag = tap(&[&"--config", &config, &"--log-format", &"json"]);
    let by_env = Command::new(common::tap_binary())
        .args(["--config".as_ref(), config.as_os_str()])
        .env("TAP_JIRA_LOG_FORMAT", "json")
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let env_stderr = String::from_utf8_lossy(&by_env.stderr).into_owned();
    for stderr in [&flag.stderr, &env_stderr] {
        let lines: Vec<Value> = stderr
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
            .collect();
        assert!(lines.len() > 10, "{stderr}");
        for line in &lines {
            assert!(
                line["timestamp"].is_string() && line["level"].is_string(),
                "{line}"
            );
        }
        // The metric lines survive inside the message, still parseable.
        let counted: u64 = metrics(stderr)
            .iter()
            .filter(|m| m["metric"] == "record_count")
            .map(|m| m["value"].as_u64().unwrap())
            .sum();
        assert_eq!(
            counted,
            flag.stdout.matches(r#""type":"RECORD""#).count() as u64
        );
    }
    flag.assert_success();
    assert!(by_env.status.success());
}
