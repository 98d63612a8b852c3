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

#[test]
fn two_partitioned_cloud_runs_give_exactly_the_records_of_one_whole_run() {
    partitions_add_up_to_the_whole(Deployment::Cloud);
}

#[test]
fn two_partitioned_server_runs_give_exactly_the_records_of_one_whole_run() {
    partitions_add_up_to_the_whole(Deployment::Server);
}
