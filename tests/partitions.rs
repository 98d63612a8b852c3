//! Past one machine: an orchestrator fans a site out into one extraction per set of projects,
//! each with its own config and state (the README's "Scaling out"). Two such runs, one project and
//! every other project, must give exactly the records of one whole run, and each must go on
//! incrementally from its own state.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use common::{Site, ids, record_keys, select_only, tap};
use jira_sim::{Deployment, SimConfig};
use serde_json::{Value, json};
use tap_jira::timestamp::parse_jira;

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
    let expected = record_keys(whole.messages(), &mut keys);
    let mut union = BTreeSet::new();
    for run in &runs {
        run.assert_success();
        union.extend(record_keys(run.messages(), &mut keys));
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
        into_versioning_target(run.messages(), &mut keys, &mut table);
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

/// A site of `projects` projects of `per_project` issues each, with only `issues` selected: its
/// config and catalog written to the site's directory.
fn many_projects(deployment: Deployment, projects: usize, per_project: usize) -> Site {
    issues_only(SimConfig {
        deployment,
        projects,
        issues_per_project: per_project,
        ..SimConfig::default()
    })
}

/// A site of `config`, with a config and a catalog selecting `issues` alone in its directory.
fn issues_only(config: SimConfig) -> Site {
    let site = Site::new(config);
    let config = site.file("config.json", &site.config_with(json!({})));
    let mut catalog = site.discover(&config);
    select_only(&mut catalog, &["issues"]);
    site.file("catalog.json", &catalog);
    site
}

/// The issue searches by `updated` the simulator received.
fn searches_by_updated(site: &Site) -> usize {
    site.sim
        .sim
        .requests()
        .into_iter()
        .filter(|r| r.path.ends_with("/search/jql") || r.path.ends_with("/rest/api/2/search"))
        .filter(|r| r.body.contains("updated >="))
        .count()
}

/// Large Jira sites have thousands of projects, most small or empty. A first sync packs them into
/// a few searches, not one each, and its STATEs stay small beside its records, not a bookmark
/// per project in every one; stopped half way, it still resumes with every issue exactly once.
fn many_small_projects_make_few_searches(deployment: Deployment) {
    let site = many_projects(deployment, 300, 1);
    let first = site.sync_from(&site.file("empty.json", &json!({})));
    first.assert_success();
    let all = ids(&first.records("issues"));
    assert_eq!(all.len(), site.sim.sim.issue_count(), "{deployment:?}");

    let searches = searches_by_updated(&site);
    assert!(
        searches <= 40,
        "{deployment:?}: {searches} searches for 300 issues in 300 projects"
    );
    let bytes = |kind: &str| -> usize {
        let prefix = format!(r#"{{"type":"{kind}""#);
        first
            .stdout
            .lines()
            .filter(|l| l.starts_with(&prefix))
            .map(str::len)
            .sum()
    };
    let (states, records) = (bytes("STATE"), bytes("RECORD"));
    assert!(
        states < records / 2,
        "{deployment:?}: {states} bytes of STATE beside {records} of RECORD"
    );

    // Cut after a STATE half way through the partitions, as if the tap had been killed there.
    let messages = first.messages();
    let partitioned: Vec<usize> = (0..messages.len())
        .filter(|&i| messages[i]["value"]["bookmarks"]["issues"]["partitions"].is_object())
        .collect();
    let cut = partitioned[partitioned.len() / 2];
    let state = site.file("cut.json", &messages[cut]["value"]);
    let resumed = site.sync_from(&state);
    resumed.assert_success();
    let before: Vec<Value> = messages[..cut]
        .iter()
        .filter(|m| m["type"] == "RECORD" && m["stream"] == "issues")
        .map(|m| m["record"].clone())
        .collect();
    let mut union = ids(&before);
    union.extend(ids(&resumed.records("issues")));
    union.sort();
    assert_eq!(
        union, all,
        "{deployment:?}: every issue exactly once across the cut"
    );
    let end = &resumed.last_state()["bookmarks"]["issues"];
    assert!(end.get("partitions").is_none(), "{deployment:?}: {end}");
}

#[test]
fn a_first_cloud_sync_of_many_small_projects_makes_few_searches_and_small_states() {
    many_small_projects_make_few_searches(Deployment::Cloud);
}

#[test]
fn a_first_server_sync_of_many_small_projects_makes_few_searches_and_small_states() {
    many_small_projects_make_few_searches(Deployment::Server);
}

/// A state an earlier version wrote, one partition per project, half of them read to their end:
/// the resumed sync writes exactly the issues of the other half.
#[test]
fn a_state_of_one_partition_per_project_resumes_where_each_stopped() {
    let site = many_projects(Deployment::Cloud, 60, 2);
    let whole = site.sync_from(&site.file("empty.json", &json!({})));
    whole.assert_success();
    let issues = whole.records("issues");
    let mut by_project: BTreeMap<String, Vec<&Value>> = BTreeMap::new();
    for issue in &issues {
        let project = issue["fields"]["project"]["id"].as_str().unwrap();
        by_project
            .entry(project.to_string())
            .or_default()
            .push(issue);
    }
    let start = "2000-01-01T00:00:00.000Z";
    let mut partitions = serde_json::Map::new();
    let mut rest = BTreeSet::new();
    for (n, (project, issues)) in by_project.iter().enumerate() {
        if n % 2 == 1 {
            rest.extend(issues.iter().map(|i| i["id"].as_str().unwrap().to_string()));
            continue;
        }
        let updated = |i: &&Value| parse_jira(i["updated"].as_str().unwrap()).unwrap();
        let newest = issues.iter().map(updated).max().unwrap();
        let seen: serde_json::Map<String, Value> = issues
            .iter()
            .map(|i| (i["id"].as_str().unwrap().to_string(), json!(updated(i))))
            .collect();
        partitions.insert(
            project.clone(),
            json!({"updated": newest, "window_start": newest, "seen": seen}),
        );
    }
    partitions.insert(
        "*".into(),
        json!({"updated": start, "window_start": start, "seen": {}}),
    );
    let state = json!({"bookmarks": {"issues": {"updated": start, "window_start": start,
        "seen": {}, "partitions": partitions}}});
    let resumed = site.sync_from(&site.file("old.json", &state));
    resumed.assert_success();
    let written: BTreeSet<String> = ids(&resumed.records("issues")).into_iter().collect();
    assert_eq!(written, rest);
    let end = &resumed.last_state()["bookmarks"]["issues"];
    assert!(end.get("partitions").is_none(), "{end}");
}

/// A Data Center site of thousands of custom fields gives issues of most of a megabyte: the
/// search asks for them a few at a time from its first page on, where it asked 100 (and each page
/// after, reading again the row it ended on, at least four new rows for that one where the
/// configured size allows: `PageSize::at_least`).
#[test]
fn a_server_site_of_thousands_of_fields_is_searched_in_small_pages() {
    let site = issues_only(SimConfig {
        deployment: Deployment::Server,
        projects: 1,
        issues_per_project: 30,
        extra_custom_fields: 3_000,
        ..SimConfig::default()
    });
    let run = site.sync_from(&site.file("state.json", &json!({})));
    run.assert_success();
    assert_eq!(ids(&run.records("issues")).len(), 30);
    let asked: Vec<u64> = site
        .sim
        .sim
        .requests()
        .into_iter()
        .filter(|r| r.path.ends_with("/rest/api/2/search") && r.body.contains("updated >="))
        .filter_map(|r| {
            let body: Value = serde_json::from_str(&r.body).ok()?;
            body["maxResults"].as_u64()
        })
        .collect();
    assert!(
        asked.iter().all(|rows| (5..=8).contains(rows)),
        "pages of issues of most of a megabyte are asked a few at a time: {asked:?}"
    );
}
