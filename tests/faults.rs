//! A sync against a flaky site (the simulator's chaos: 5xx, bursts of 429, bodies cut off halfway,
//! login pages, and people editing issues while it pages) completes with every record, or stops
//! with a state from which a rerun completes. What the faulty runs printed, with one calm
//! incremental run after them, must hold every record of a clean full sync of the final site,
//! each issue at its latest version.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use common::{Run, Site, record_keys, tap};
use jira_sim::{Chaos, Deployment, Fault, SimConfig};
use serde_json::{Value, json};

/// Runs a chaotic site is allowed before the sync must have completed.
const MAX_RUNS: usize = 10;

/// Few, so that faults in a row stop some runs (waits Jira asks for with `Retry-After` do not
/// count): about one request in 500 fails three times.
const MAX_RETRIES: u32 = 2;

fn chaos() -> Chaos {
    Chaos {
        server_errors: 0.05,
        rate_limit_bursts: 0.01,
        cut_bodies: 0.05,
        login_pages: 0.03,
        edit_every: 15,
    }
}

/// Everything a set of runs printed: record keys, and each issue's latest `updated`.
#[derive(Default)]
struct Printed {
    keys: BTreeMap<String, Vec<String>>,
    records: BTreeSet<(String, String)>,
    issue_updated: BTreeMap<String, String>,
}

impl Printed {
    fn add(&mut self, run: &Run) {
        let messages = run.messages();
        self.records.extend(record_keys(messages, &mut self.keys));
        for m in messages {
            if m["type"] == "RECORD" && m["stream"] == "issues" {
                let id = m["record"]["id"].as_str().unwrap_or_default().to_string();
                let updated = m["record"]["fields"]["updated"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string();
                let latest = self.issue_updated.entry(id).or_default();
                // RFC 3339 UTC with the same precision throughout: text order is time order.
                if updated > *latest {
                    *latest = updated;
                }
            }
        }
    }
}

/// Runs until one completes, each from the last STATE printed before; every run that fails
/// must say why in a line of its own, without a panic.
fn sync_through_faults(site: &Site) -> (Printed, Value, usize) {
    let config = site.dir.path().join("config.json");
    let catalog = site.dir.path().join("catalog.json");
    let mut printed = Printed::default();
    let mut state = json!({});
    for run in 1..=MAX_RUNS {
        let state_path = site.file("state.json", &state);
        let outcome = tap(&[
            &"--config",
            &config,
            &"--catalog",
            &catalog,
            &"--state",
            &state_path,
        ]);
        assert!(
            !outcome.stderr.contains("panicked"),
            "run {run} panicked:\n{}",
            outcome.stderr
        );
        printed.add(&outcome);
        if let Some(last) = outcome.states().pop() {
            state = last;
        }
        if outcome.code == 0 {
            return (printed, state, run);
        }
        let last_line = outcome.stderr.lines().last().unwrap_or_default();
        eprintln!(
            "run {run}: {} records; {last_line}",
            outcome.stdout.lines().count()
        );
        assert!(
            last_line.contains("ERROR") || last_line.contains("error"),
            "run {run} failed without saying why: {last_line}"
        );
    }
    panic!("no run of {MAX_RUNS} completed against the chaotic site");
}

fn faults_lose_nothing(deployment: Deployment, first_run: FirstRun) {
    let site = Site::new(SimConfig {
        deployment,
        issues_per_project: 40,
        // Short search pages: more requests to fault, more bookmarks to get right.
        max_page_size: 20,
        ..SimConfig::default()
    });
    let config = site.file(
        "config.json",
        &site.config_with(json!({"max_retries": MAX_RETRIES})),
    );
    // Every stream selected by default: discovery is made calm, the sync is not.
    site.file("catalog.json", &site.discover(&config));
    site.sim.sim.set_chaos(chaos());
    if first_run == FirstRun::Stops {
        let busy = &site.sim.sim.busy_issue_ids()[0];
        site.sim.sim.push_fault(
            Fault::status(&format!("/issue/{busy}/comment"), 503).times(MAX_RETRIES + 1),
        );
    }

    let (mut printed, state, runs) = sync_through_faults(&site);
    if first_run == FirstRun::Stops {
        assert!(runs > 1, "the first run should have stopped");
    }
    let faulted = site.sim.sim.chaos_faults();
    eprintln!("{deployment:?}: {runs} runs, {faulted} faults");
    let requests = site.sim.sim.requests().len();
    assert!(
        faulted >= 10,
        "the chaotic site answered only {faulted} of {requests} requests with a fault"
    );

    // The site is calm from here: what the faulty runs missed of the edits, the bookmarks
    // must still point at.
    site.sim.sim.set_chaos(Chaos::default());
    let state_path = site.file("state.json", &state);
    let incremental = site.sync_from(&state_path);
    incremental.assert_success();
    printed.add(&incremental);

    let whole = tap(&[
        &"--config",
        &config,
        &"--catalog",
        &site.dir.path().join("catalog.json"),
    ]);
    whole.assert_success();
    let mut expected = Printed::default();
    expected.add(&whole);

    let lost: Vec<_> = expected
        .records
        .difference(&printed.records)
        .take(10)
        .collect();
    assert!(
        lost.is_empty(),
        "{deployment:?}: after {runs} runs and {faulted} faults, records never printed: {lost:?}"
    );
    let streams: BTreeSet<&str> = expected.records.iter().map(|(s, _)| s.as_str()).collect();
    assert!(streams.len() >= 20, "too few streams synced: {streams:?}");
    for (id, updated) in &expected.issue_updated {
        assert_eq!(
            printed.issue_updated.get(id),
            Some(updated),
            "{deployment:?}: issue {id}'s latest version was never printed"
        );
    }
}

/// Whether the first run must stop: then a truncated child list of a busy issue, read in the
/// middle of the issues, fails more times than the retries allow.
#[derive(Clone, Copy, PartialEq)]
enum FirstRun {
    MayComplete,
    Stops,
}

#[test]
fn a_sync_of_a_flaky_cloud_site_being_edited_loses_nothing() {
    faults_lose_nothing(Deployment::Cloud, FirstRun::MayComplete);
}

#[test]
fn a_sync_of_a_flaky_server_site_being_edited_loses_nothing() {
    faults_lose_nothing(Deployment::Server, FirstRun::MayComplete);
}

#[test]
fn runs_stopped_by_faults_resume_and_together_lose_nothing_on_cloud() {
    faults_lose_nothing(Deployment::Cloud, FirstRun::Stops);
}

#[test]
fn runs_stopped_by_faults_resume_and_together_lose_nothing_on_server() {
    faults_lose_nothing(Deployment::Server, FirstRun::Stops);
}
