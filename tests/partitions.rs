//! Past one machine: an orchestrator fans a site out into one extraction per set of projects,
//! each with its own config and state (the README's "Scaling out"). Two such runs, one project and
//! every other project, must give exactly the records of one whole run, and each must go on
//! incrementally from its own state.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use common::{Site, record_keys, tap};
use jira_sim::{Deployment, SimConfig};
use serde_json::json;

fn partitions_add_up_to_the_whole(deployment: Deployment) {
    let site = Site::new(SimConfig {
        deployment,
        ..SimConfig::default()
    });
    let whole_config = site.file("whole.json", &site.config_with(json!({})));
    let whole = tap(&[&"--config", &whole_config]);
    whole.assert_success();
    let first = whole.records("projects")[0]["key"]
        .as_str()
        .unwrap()
        .to_string();

    let one = site.file("one.json", &site.config_with(json!({"projects": [first]})));
    let rest = site.file(
        "rest.json",
        &site.config_with(json!({"exclude_projects": [first]})),
    );
    let runs = [tap(&[&"--config", &one]), tap(&[&"--config", &rest])];
    let mut keys = BTreeMap::new();
    let expected = record_keys(&whole.messages(), &mut keys);
    let mut union = BTreeSet::new();
    for run in &runs {
        run.assert_success();
        union.extend(record_keys(&run.messages(), &mut keys));
    }
    assert_eq!(
        union.difference(&expected).take(5).collect::<Vec<_>>(),
        Vec::<&(String, String)>::new(),
        "{deployment:?}: records only the partitions gave"
    );
    assert_eq!(
        expected.difference(&union).take(5).collect::<Vec<_>>(),
        Vec::<&(String, String)>::new(),
        "{deployment:?}: records no partition gave"
    );
    // Into one target that honours ACTIVATE_VERSION (it drops a stream's rows of other versions),
    // one partition after the other: no partition's activation drops the other's rows.
    let mut table = BTreeMap::new();
    for run in &runs {
        into_versioning_target(&run.messages(), &mut keys, &mut table);
    }
    let held: BTreeSet<(String, String)> = table.into_keys().collect();
    assert_eq!(
        expected.difference(&held).take(5).collect::<Vec<_>>(),
        Vec::<&(String, String)>::new(),
        "{deployment:?}: rows a partition's ACTIVATE_VERSION dropped"
    );
    // Each partition holds only its own issues: together, each issue exactly once.
    let issues: usize = runs.iter().map(|r| r.records("issues").len()).sum();
    assert_eq!(issues, whole.records("issues").len());

    // Each goes on from its own state: the edited issues, each in its own partition only.
    let touched: BTreeSet<String> = site.sim.sim.touch_issues(6).into_iter().collect();
    let mut again = BTreeSet::new();
    for (run, config) in runs.iter().zip([&one, &rest]) {
        let state = site.file("state.json", &run.last_state());
        let next = tap(&[&"--config", config, &"--state", &state]);
        next.assert_success();
        for issue in next.records("issues") {
            let id = issue["id"].as_str().unwrap().to_string();
            assert!(
                again.insert(id),
                "{deployment:?}: an issue in two partitions"
            );
        }
    }
    assert_eq!(again, touched, "{deployment:?}");
}

/// `lines` applied as a versioning target does: a RECORD is upserted by key with its version;
/// ACTIVATE_VERSION keeps only the stream's rows of that version (and those without one).
fn into_versioning_target(
    lines: &[serde_json::Value],
    keys: &mut BTreeMap<String, Vec<String>>,
    table: &mut BTreeMap<(String, String), Option<i64>>,
) {
    for message in lines {
        let stream = message["stream"].as_str().unwrap_or_default();
        match message["type"].as_str() {
            Some("RECORD") => {
                for key in record_keys(std::slice::from_ref(message), keys) {
                    table.insert(key, message["version"].as_i64());
                }
            }
            Some("SCHEMA") => {
                record_keys(std::slice::from_ref(message), keys);
            }
            Some("ACTIVATE_VERSION") => {
                let version = message["version"].as_i64();
                table.retain(|(s, _), v| s != stream || v.is_none() || *v == version);
            }
            _ => {}
        }
    }
}

#[test]
fn two_partitioned_cloud_runs_give_exactly_the_records_of_one_whole_run() {
    partitions_add_up_to_the_whole(Deployment::Cloud);
}

#[test]
fn two_partitioned_server_runs_give_exactly_the_records_of_one_whole_run() {
    partitions_add_up_to_the_whole(Deployment::Server);
}
