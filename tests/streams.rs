//! The stream table against the simulator: every stream of every deployment syncs complete, its
//! discovered metadata agrees with how it syncs, children are complete in few requests, and
//! incremental runs read exactly the changed issues' children.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use common::{Run, Site, assert_valid_singer_output, ids, select_only, tap};
use jira_sim::{Deployment, SimConfig};
use serde_json::{Value, json};
use tap_jira::config::Deployment as TapDeployment;
use tap_jira::streams::{Source, streams_on};

fn tap_deployment(deployment: Deployment) -> TapDeployment {
    match deployment {
        Deployment::Cloud => TapDeployment::Cloud,
        Deployment::Server => TapDeployment::Server,
    }
}

fn site_for(deployment: Deployment) -> Site {
    Site::new(SimConfig {
        deployment,
        ..SimConfig::default()
    })
}

fn config_for(site: &Site) -> Value {
    match site.sim.sim.config().deployment {
        Deployment::Cloud => site.cloud_config(),
        Deployment::Server => site.server_config(),
    }
}

/// The discovered catalog with exactly the named streams selected (all of them when `None`).
fn select(catalog: &mut Value, only: Option<&[&str]>) {
    for stream in catalog["streams"].as_array_mut().unwrap() {
        let name = stream["tap_stream_id"].as_str().unwrap().to_string();
        let on = only.is_none_or(|names| names.contains(&name.as_str()));
        for m in stream["metadata"].as_array_mut().unwrap() {
            if m["breadcrumb"] == json!([]) {
                m["metadata"]["selected"] = json!(on);
            }
        }
    }
}

/// Discovers, selects, and writes `config.json` and `catalog.json` into the site's directory.
fn prepare(site: &Site, only: Option<&[&str]>) -> Value {
    let config = site.file("config.json", &config_for(site));
    let mut catalog = site.discover(&config);
    select(&mut catalog, only);
    site.file("catalog.json", &catalog);
    catalog
}

fn sync(site: &Site) -> Run {
    let state = site.file("empty-state.json", &json!({}));
    site.sync_from(&state)
}

fn stream_metadata<'a>(catalog: &'a Value, name: &str) -> &'a Value {
    let stream = catalog["streams"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["tap_stream_id"] == name)
        .unwrap_or_else(|| panic!("{name} is not in the catalog"));
    &stream["metadata"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["breadcrumb"] == json!([]))
        .unwrap()["metadata"]
}

fn activations(run: &Run, stream: &str) -> usize {
    run.messages()
        .iter()
        .filter(|m| m["type"] == "ACTIVATE_VERSION" && m["stream"] == stream)
        .count()
}

fn versioned_records(run: &Run, stream: &str) -> usize {
    run.messages()
        .iter()
        .filter(|m| m["type"] == "RECORD" && m["stream"] == stream && m.get("version").is_some())
        .count()
}

/// Every stream of the table, on both deployments: records from each, as many as the site has;
/// then a second run from the saved state, where full-table streams read everything again and
/// incremental ones nothing, as their discovered metadata says.
// One test per deployment, so the two run at once: this is the suite's longest test.
#[test]
fn every_stream_in_the_table_syncs_complete_and_as_its_metadata_says_on_cloud() {
    every_stream_syncs_complete_and_as_its_metadata_says(Deployment::Cloud);
}

#[test]
fn every_stream_in_the_table_syncs_complete_and_as_its_metadata_says_on_server() {
    every_stream_syncs_complete_and_as_its_metadata_says(Deployment::Server);
}

fn every_stream_syncs_complete_and_as_its_metadata_says(deployment: Deployment) {
    let site = site_for(deployment);
    let catalog = prepare(&site, None);
    let run = sync(&site);
    run.assert_success();
    assert_valid_singer_output(&run);
    let sim = &site.sim.sim;
    let streams: Vec<_> = streams_on(tap_deployment(deployment)).collect();
    for def in &streams {
        let expected = sim.expected_records(def.name, None).unwrap_or_else(|| {
            panic!(
                "the simulator does not know stream {} ({deployment})",
                def.name
            )
        });
        let got = run.records(def.name).len();
        assert!(
            expected > 0,
            "{deployment}: the simulator has no {} to sync",
            def.name
        );
        assert_eq!(got, expected, "{deployment}: records of {}", def.name);
    }
    let state = site.file("state.json", &run.last_state());
    let again = site.sync_from(&state);
    again.assert_success();
    assert_valid_singer_output(&again);
    for def in &streams {
        let metadata = stream_metadata(&catalog, def.name);
        let first = run.records(def.name).len();
        match metadata["forced-replication-method"].as_str() {
            Some("FULL_TABLE") => {
                assert_eq!(
                    again.records(def.name).len(),
                    first,
                    "{}: a full pass again",
                    def.name
                );
                assert!(
                    activations(&run, def.name) >= 1,
                    "{} is activated",
                    def.name
                );
                assert_eq!(
                    versioned_records(&run, def.name),
                    first,
                    "{}: versioned",
                    def.name
                );
            }
            Some("INCREMENTAL") => {
                assert_eq!(
                    again.records(def.name).len(),
                    0,
                    "{}: nothing new",
                    def.name
                );
                assert_eq!(
                    activations(&run, def.name),
                    0,
                    "{} is not activated",
                    def.name
                );
                assert_eq!(versioned_records(&run, def.name), 0, "{}", def.name);
                match metadata["replication-key"].as_str() {
                    // Its own bookmark, on its replication key.
                    Some(key) => assert!(
                        again.last_state()["bookmarks"][def.name][key].is_string(),
                        "{}: bookmark on {key}",
                        def.name
                    ),
                    // A child: read with its parent, under the parent's bookmark.
                    None => {
                        let parent = metadata["parent-tap-stream-id"].as_str().unwrap();
                        assert!(again.last_state()["bookmarks"][parent].is_object());
                        assert!(again.last_state()["bookmarks"].get(def.name).is_none());
                    }
                }
            }
            other => panic!("{}: replication method {other:?}", def.name),
        }
    }
}

/// Child requests: the ids of the issues each child endpoint was called for.
fn child_calls(site: &Site, path_end: &str) -> Vec<String> {
    site.sim
        .sim
        .requests()
        .iter()
        .filter(|r| r.path.ends_with(path_end) && r.path.contains("/issue/"))
        .map(|r| r.path.split('/').rev().nth(1).unwrap_or("").to_string())
        .collect()
}

#[test]
fn children_are_complete_in_a_search_page_plus_the_truncated_lists() {
    for deployment in [Deployment::Cloud, Deployment::Server] {
        let site = Site::new(SimConfig {
            deployment,
            issues_per_project: 40,
            ..SimConfig::default()
        });
        let children = [
            "issue_comments",
            "changelogs",
            "issue_transitions",
            "issue_field_history",
        ];
        prepare(&site, Some(&children));
        let run = sync(&site);
        run.assert_success();
        assert_valid_singer_output(&run);
        let sim = &site.sim.sim;
        for name in children {
            assert_eq!(
                run.records(name).len(),
                sim.expected_records(name, None).unwrap(),
                "{deployment}: {name}"
            );
        }
        assert!(run.records("issues").is_empty(), "issues read, not emitted");
        let counts = sim.request_counts();
        let searches: u64 = counts
            .iter()
            .filter(|(k, _)| k.ends_with("/search/jql") || k.ends_with("/rest/api/2/search"))
            .map(|(_, n)| n)
            .sum();
        // A first sync searches each project, and the projects not listed, on their own.
        let config = SimConfig::default();
        let pages = (config.projects * 40usize.div_ceil(100) + 1) as u64;
        assert!(
            searches <= pages,
            "{deployment}: {searches} searches for {} issues",
            sim.issue_count()
        );
        // Only issues whose embedded lists were cut short cost more requests, one list each.
        let busy: BTreeSet<String> = sim.busy_issue_ids().into_iter().collect();
        assert!(!busy.is_empty());
        let comment_calls = child_calls(&site, "/comment");
        assert_eq!(
            comment_calls.iter().cloned().collect::<BTreeSet<_>>(),
            busy,
            "{deployment}: comments fetched for the truncated issues only"
        );
        let per_issue: u64 = counts
            .iter()
            .filter(|(k, _)| k.contains("/issue/{id}"))
            .map(|(_, n)| n)
            .sum();
        assert!(
            per_issue <= busy.len() as u64 * 4,
            "{deployment}: {per_issue} child requests for {} truncated issues: {counts:?}",
            busy.len()
        );
        if deployment == Deployment::Cloud {
            // Cut-short changelogs of a whole page come in one bulk request, not one per issue.
            assert!(child_calls(&site, "/changelog").is_empty(), "{counts:?}");
            let bulk = counts
                .get("POST /rest/api/3/changelog/bulkfetch")
                .copied()
                .unwrap_or(0);
            assert!(
                (1..=pages).contains(&bulk),
                "{bulk} bulk requests for {pages} pages"
            );
        }
    }
}

#[test]
fn issues_a_bulk_answer_leaves_out_have_their_lists_read_one_by_one() {
    // The bulk endpoint answers, but without the issues asked for (hidden since the search, or
    // left out): their cut-short changelogs are read issue by issue, never kept as if whole.
    let site = Site::new(SimConfig {
        issues_per_project: 40,
        ..SimConfig::default()
    });
    site.sim.sim.push_fault(jira_sim::Fault {
        path_contains: "/changelog/bulkfetch".into(),
        status: 200,
        body: r#"{"issueChangeLogs": []}"#.into(),
        times: 1000,
        ..jira_sim::Fault::default()
    });
    prepare(&site, Some(&["changelogs", "issue_field_history"]));
    let run = sync(&site);
    run.assert_success();
    let sim = &site.sim.sim;
    for name in ["changelogs", "issue_field_history"] {
        assert_eq!(
            run.records(name).len(),
            sim.expected_records(name, None).unwrap(),
            "{name}"
        );
    }
    let busy: BTreeSet<String> = sim.busy_issue_ids().into_iter().collect();
    let one_by_one: BTreeSet<String> = child_calls(&site, "/changelog").into_iter().collect();
    assert_eq!(one_by_one, busy);
}

#[test]
fn watchers_and_votes_are_asked_only_for_issues_that_have_some() {
    let site = site_for(Deployment::Cloud);
    prepare(&site, Some(&["issue_watchers", "issue_votes"]));
    let run = sync(&site);
    run.assert_success();
    let sim = &site.sim.sim;
    for (stream, path) in [("issue_watchers", "/watchers"), ("issue_votes", "/votes")] {
        let rows = run.records(stream);
        assert_eq!(rows.len(), sim.expected_records(stream, None).unwrap());
        let with_rows: BTreeSet<String> = rows
            .iter()
            .map(|r| r["issueId"].as_str().unwrap().to_string())
            .collect();
        let asked: BTreeSet<String> = child_calls(&site, path).into_iter().collect();
        assert_eq!(
            asked, with_rows,
            "{stream}: asked exactly where the count is above 0"
        );
    }
}

#[test]
fn a_selected_child_takes_its_list_out_of_the_issue_record() {
    let site = site_for(Deployment::Cloud);
    prepare(
        &site,
        Some(&[
            "issues",
            "issue_comments",
            "changelogs",
            "issue_transitions",
        ]),
    );
    let run = sync(&site);
    run.assert_success();
    let issues = run.records("issues");
    assert_eq!(issues.len(), site.sim.sim.issue_count());
    for issue in &issues {
        assert!(
            issue.pointer("/fields/comment/comments").is_none(),
            "{issue}"
        );
        assert!(issue.get("changelog").is_none() && issue.get("transitions").is_none());
        assert!(issue.pointer("/fields/summary").is_some(), "the rest stays");
    }
    // Every child row names its issue, which was synced in the same run.
    let ids: BTreeSet<&str> = issues.iter().map(|i| i["id"].as_str().unwrap()).collect();
    for stream in ["issue_comments", "changelogs", "issue_transitions"] {
        for row in run.records(stream) {
            assert!(
                ids.contains(row["issueId"].as_str().unwrap()),
                "{stream}: {row}"
            );
        }
    }
}

/// An issue embeds at most 20 worklogs; `worklogs` has them all. With `worklogs` selected, issue
/// records leave `fields.worklog` out and the search does not ask for it, as Stitch's tap does;
/// without it, they carry what Jira embeds.
#[test]
fn issue_records_leave_worklogs_to_the_worklogs_stream() {
    let site = site_for(Deployment::Cloud);
    for (only, embedded) in [
        (&["issues", "worklogs"][..], false),
        (&["issues"][..], true),
    ] {
        prepare(&site, Some(only));
        let run = sync(&site);
        run.assert_success();
        let issues = run.records("issues");
        assert_eq!(issues.len(), site.sim.sim.issue_count());
        let with_worklog = issues
            .iter()
            .filter(|i| i.pointer("/fields/worklog/worklogs").is_some())
            .count();
        let expected = if embedded { issues.len() } else { 0 };
        assert_eq!(with_worklog, expected, "{only:?}");
        assert!(
            issues
                .iter()
                .all(|i| i.pointer("/fields/summary").is_some())
        );
    }
    let asked = site.first_search_body();
    assert!(
        !asked["fields"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f == "worklog"),
        "{asked}"
    );
}

#[test]
fn an_incremental_run_emits_exactly_the_changed_issues_children() {
    for deployment in [Deployment::Cloud, Deployment::Server] {
        let site = site_for(deployment);
        prepare(&site, None);
        let first = sync(&site);
        first.assert_success();
        let state = site.file("state.json", &first.last_state());
        // A few issues, and one whose lists Jira cuts short.
        let mut touched = site.sim.sim.touch_issues(3);
        let busy = site.sim.sim.busy_issue_ids()[0].clone();
        assert!(
            site.sim
                .sim
                .set_issue_updated(&busy, chrono::Utc::now().timestamp_millis())
        );
        if !touched.contains(&busy) {
            touched.push(busy);
        }
        let second = site.sync_from(&state);
        second.assert_success();
        assert_valid_singer_output(&second);
        let touched_set: BTreeSet<&str> = touched.iter().map(String::as_str).collect();
        for def in streams_on(tap_deployment(deployment)) {
            if !matches!(def.source, Source::IssueChild { .. }) {
                continue;
            }
            let rows = second.records(def.name);
            let expected = site
                .sim
                .sim
                .expected_records(def.name, Some(&touched))
                .unwrap();
            assert_eq!(
                rows.len(),
                expected,
                "{deployment}: {} of the changed issues",
                def.name
            );
            for row in &rows {
                assert!(
                    touched_set.contains(row["issueId"].as_str().unwrap()),
                    "{}: {row}",
                    def.name
                );
            }
        }
        // Each child row comes before the STATE that covers its issue.
        let messages = second.messages();
        let last_child = messages
            .iter()
            .rposition(|m| m["type"] == "RECORD" && m["record"].get("issueId").is_some())
            .unwrap();
        assert!(messages[last_child..].iter().any(|m| m["type"] == "STATE"));
    }
}

/// Issues of the look-back window that the last run wrote are read again by the next one and
/// skipped as written: the lists Jira cut short of them are not read again either, for nothing.
#[test]
fn issues_already_written_have_no_list_read_again() {
    for deployment in [Deployment::Cloud, Deployment::Server] {
        let site = Site::new(SimConfig {
            deployment,
            issues_per_project: 40,
            ..SimConfig::default()
        });
        prepare(&site, Some(&["issues", "issue_comments", "changelogs"]));
        let first = sync(&site);
        first.assert_success();
        // Busy issues changed since: the next run writes them, with their whole lists.
        let now = chrono::Utc::now().timestamp_millis();
        let busy: Vec<String> = site.sim.sim.busy_issue_ids().into_iter().take(3).collect();
        for id in &busy {
            assert!(site.sim.sim.set_issue_updated(id, now));
        }
        let state = site.file("state.json", &first.last_state());
        let second = site.sync_from(&state);
        second.assert_success();
        assert_eq!(second.records("issues").len(), busy.len(), "{deployment}");
        // Nothing changed since: the look-back window holds them again, already written.
        site.sim.sim.reset_requests();
        let state = site.file("state-2.json", &second.last_state());
        let third = site.sync_from(&state);
        third.assert_success();
        assert!(third.records("issues").is_empty(), "{deployment}");
        assert!(third.records("issue_comments").is_empty(), "{deployment}");
        let counts = site.sim.sim.request_counts();
        let lists: Vec<(&String, &u64)> = counts
            .iter()
            .filter(|(k, _)| k.contains("/issue/{id}") || k.ends_with("/changelog/bulkfetch"))
            .collect();
        assert!(
            lists.is_empty(),
            "{deployment}: lists read again for issues already written: {lists:?}"
        );
    }
}

/// Each Server/DC search page reads again the last rows of the page before, and skips them as
/// written: the lists Jira cut short of those rows are not read again for nothing. An issue edited
/// while the sync pages comes back as a new version, and is written with its lists whole again.
#[test]
fn rows_a_server_page_reads_again_have_no_list_read_again() {
    let site = Site::new(SimConfig {
        deployment: Deployment::Server,
        projects: 1,
        issues_per_project: 30,
        // Every issue busy: each has its comments and changelogs cut short in the search.
        busy_every: 1,
        ..SimConfig::default()
    });
    let streams = ["issues", "issue_comments", "changelogs"];
    prepare(&site, Some(&streams));
    let synced_in_pages_of = |page_size: u32| {
        let mut config = config_for(&site);
        config["page_size"] = json!(page_size);
        site.file("config.json", &config);
        site.sim.sim.reset_requests();
        let run = sync(&site);
        run.assert_success();
        let lists: BTreeMap<String, u64> = site
            .sim
            .sim
            .request_counts()
            .into_iter()
            .filter(|(k, _)| k.contains("/issue/{id}") || k.ends_with("/bulkfetch"))
            .collect();
        (run, lists)
    };
    // One page: no row is read twice.
    let (whole, read_once) = synced_in_pages_of(1000);
    assert!(
        !read_once.is_empty(),
        "the lists are cut short in the search"
    );
    // Pages of seven: every page reads again at least the last row of the one before.
    let (paged, read) = synced_in_pages_of(7);
    assert_eq!(read, read_once, "lists read again for rows already written");
    for stream in streams {
        assert_eq!(paged.records(stream), whole.records(stream), "{stream}");
    }

    // Two issues of the first pages edited before the third (the first search is of the
    // projects the site has not, a partition of none): written again, lists whole.
    let order: Vec<String> = whole
        .records("issues")
        .iter()
        .map(|i| i["id"].as_str().unwrap().to_string())
        .collect();
    let edited = vec![order[2].clone(), order[9].clone()];
    site.sim
        .sim
        .touch_issues_before_request("/rest/api/2/search", 3, edited.clone());
    // Each time an issue is written, its lists are whole: the ids written, with repeats. (An
    // edit adds a change history: the changelogs of an issue written twice are not twice its
    // latest.)
    let written_whole = |run: &Run| {
        let written = ids(&run.records("issues"));
        // Each run's output read once: the children each issue got, by stream.
        let mut children: BTreeMap<(&str, String), usize> = BTreeMap::new();
        for stream in ["issue_comments", "changelogs"] {
            for record in run.records(stream) {
                let issue = record["issueId"].as_str().unwrap_or_default().to_string();
                *children.entry((stream, issue)).or_default() += 1;
            }
        }
        for id in &order {
            let times = written.iter().filter(|w| *w == id).count();
            let lists: &[&str] = match times {
                1 => &["issue_comments", "changelogs"],
                _ => &["issue_comments"],
            };
            for &stream in lists {
                let items = children.get(&(stream, id.clone())).copied().unwrap_or(0);
                let each = site
                    .sim
                    .sim
                    .expected_records(stream, Some(std::slice::from_ref(id)));
                assert_eq!(Some(items), each.map(|n| n * times), "{stream} of {id}");
            }
        }
        written
    };
    let (run, _) = synced_in_pages_of(7);
    let written = written_whole(&run);
    for id in &order {
        let times = written.iter().filter(|w| *w == id).count();
        let again = if edited.contains(id) { 2 } else { 1 };
        assert_eq!(times, again, "issue {id} written");
    }

    // Issues dated days ahead move no bookmark: one a page reads again is written again, and
    // its lists are read for it then.
    let later = chrono::Utc::now().timestamp_millis() + 2 * 86_400_000;
    for (i, id) in order[20..].iter().enumerate() {
        assert!(
            site.sim
                .sim
                .set_issue_updated(id, later + i as i64 * 60_000)
        );
    }
    let (run, _) = synced_in_pages_of(7);
    let written = written_whole(&run);
    assert!(
        written.len() > order.len(),
        "no issue read again: {written:?}"
    );
}

/// A Stitch user's `--properties` catalog (singer-io tap-jira 2.6.0's shape, `selected` inside
/// schemas) syncs every stream it selects, under the same names and keys, and every property of a
/// record is declared in the SCHEMA the tap emits.
#[test]
fn a_stitch_properties_catalog_syncs_every_stream_it_selects() {
    let catalog: Value = serde_json::from_str(include_str!("../fixtures/stitch/properties.json"))
        .expect("the Stitch catalog fixture is JSON");
    for deployment in [Deployment::Cloud, Deployment::Server] {
        let site = site_for(deployment);
        let config = site.file("config.json", &config_for(&site));
        let properties = site.file("properties.json", &catalog);
        let run = tap(&[&"--config", &config, &"--properties", &properties]);
        run.assert_success();
        assert_valid_singer_output(&run);
        let schemas: BTreeMap<String, Value> = run
            .messages()
            .iter()
            .filter(|m| m["type"] == "SCHEMA")
            .map(|m| (m["stream"].as_str().unwrap().to_string(), m.clone()))
            .collect();
        for entry in catalog["streams"].as_array().unwrap() {
            let name = entry["tap_stream_id"].as_str().unwrap();
            let schema = schemas
                .get(name)
                .unwrap_or_else(|| panic!("{deployment}: no SCHEMA for Stitch's {name}"));
            // Stitch keys users by deployment too (the fixture is a Server catalog).
            if name != "users" {
                assert_eq!(schema["key_properties"], entry["key_properties"], "{name}");
            }
            let records = run.records(name);
            assert!(
                !records.is_empty(),
                "{deployment}: no records for Stitch's {name}"
            );
            let declared = schema["schema"]["properties"].as_object().unwrap();
            for record in &records {
                for property in record.as_object().unwrap().keys() {
                    assert!(
                        declared.contains_key(property),
                        "{deployment}: {name} record has `{property}`, which its SCHEMA lacks"
                    );
                }
            }
        }
    }
}

/// Stitch's tap types a version's dates as date-times and parses `userReleaseDate` (the date in
/// the user's format, `29/Aug/24`) back into one, so a Stitch user's `versions` table holds
/// timestamps in all four columns. From its catalog, they stay date-times: the same day at
/// midnight UTC, not Jira's `2024-08-29` and `29/Aug/24` text.
#[test]
fn a_stitch_catalog_gets_version_dates_as_date_times() {
    let catalog: Value = serde_json::from_str(include_str!("../fixtures/stitch/properties.json"))
        .expect("the Stitch catalog fixture is JSON");
    for deployment in [Deployment::Cloud, Deployment::Server] {
        let site = site_for(deployment);
        let config = site.file("config.json", &config_for(&site));
        let properties = site.file("properties.json", &catalog);
        let run = tap(&[&"--config", &config, &"--properties", &properties]);
        run.assert_success();
        assert_valid_singer_output(&run);
        let schema = run
            .messages()
            .iter()
            .find(|m| m["type"] == "SCHEMA" && m["stream"] == "versions")
            .expect("a SCHEMA for versions");
        for name in [
            "releaseDate",
            "startDate",
            "userReleaseDate",
            "userStartDate",
        ] {
            assert_eq!(
                schema["schema"]["properties"][name]["format"], "date-time",
                "{deployment}: versions.{name} as Stitch's catalog types it"
            );
        }
        let versions = run.records("versions");
        let dated: Vec<&Value> = versions
            .iter()
            .filter(|v| v.get("releaseDate").is_some())
            .collect();
        assert!(!dated.is_empty(), "{deployment}: some versions have a date");
        for version in dated {
            for name in ["releaseDate", "userReleaseDate"] {
                let text = version[name].as_str().unwrap_or_default();
                let at = chrono::DateTime::parse_from_rfc3339(text).unwrap_or_else(|_| {
                    panic!("{deployment}: versions.{name} `{text}` is not a date-time")
                });
                assert_eq!(at.time(), chrono::NaiveTime::MIN, "{deployment}: {version}");
            }
            assert_eq!(
                version["userReleaseDate"], version["releaseDate"],
                "{deployment}: the same day"
            );
        }
    }
}

/// More worklogs than one `/worklog/updated` page: Jira returns the boundary millisecond's
/// worklogs again on the next page, and none is written twice.
#[test]
fn worklogs_across_pages_are_written_once_each() {
    let site = Site::new(SimConfig {
        busy_every: 1,
        ..SimConfig::default()
    });
    prepare(&site, Some(&["worklogs"]));
    let run = sync(&site);
    run.assert_success();
    assert_valid_singer_output(&run);
    let worklogs = run.records("worklogs");
    assert!(worklogs.len() > 2000, "several pages: {}", worklogs.len());
    assert_eq!(
        worklogs.len(),
        site.sim.sim.expected_records("worklogs", None).unwrap()
    );
    let unique: BTreeSet<&str> = worklogs.iter().map(|w| w["id"].as_str().unwrap()).collect();
    assert_eq!(unique.len(), worklogs.len(), "a worklog written twice");
}

/// The schema has a worklog's `properties` (apps such as Tempo keep their data there), but Jira
/// sends them only with `expand=properties`: the tap never asked, and the column was always empty.
/// Selected, it is filled; deselected, Jira is not asked for it.
#[test]
fn worklog_properties_are_filled_when_selected() {
    let site = Site::new(SimConfig::default());
    site.sim.sim.set_worklog_settling_ms(0);
    let mut catalog = prepare(&site, Some(&["worklogs"]));
    let run = sync(&site);
    run.assert_success();
    assert_valid_singer_output(&run);
    let worklogs = run.records("worklogs");
    let with = |w: &&Value| w["properties"].as_array().is_some_and(|p| !p.is_empty());
    let filled: Vec<&Value> = worklogs.iter().filter(with).collect();
    assert!(!filled.is_empty(), "no worklog has its properties");
    assert_eq!(filled[0]["properties"][0]["key"], "sim.billing");

    // Deselected: not asked of Jira, not written.
    for stream in catalog["streams"].as_array_mut().unwrap() {
        if stream["tap_stream_id"] != "worklogs" {
            continue;
        }
        for m in stream["metadata"].as_array_mut().unwrap() {
            if m["breadcrumb"] == json!(["properties", "properties"]) {
                m["metadata"]["selected"] = json!(false);
            }
        }
    }
    site.file("catalog.json", &catalog);
    site.sim.sim.reset_requests();
    let without = sync(&site);
    without.assert_success();
    assert!(
        without
            .records("worklogs")
            .iter()
            .all(|w| w.get("properties").is_none())
    );
    let lists: Vec<String> = site
        .sim
        .sim
        .requests()
        .into_iter()
        .filter(|r| r.path.ends_with("/worklog/list"))
        .map(|r| r.query)
        .collect();
    assert!(
        !lists.is_empty() && lists.iter().all(|q| !q.contains("expand")),
        "{lists:?}"
    );
}

/// Worklogs deleted together (a bulk delete, an issue or project deleted) share one deletion
/// millisecond. When more of them than a page holds share it, the page holds all of them and
/// points past that millisecond (`nextPage`, `since` a millisecond after `until`): the tap paged
/// again from `until`, met the same page, and failed every run from then on.
#[test]
fn more_deletions_at_one_millisecond_than_a_page_holds_are_read_past() {
    let site = Site::new(SimConfig {
        worklog_page_size: 3,
        ..SimConfig::default()
    });
    site.sim.sim.set_worklog_settling_ms(0);
    prepare(&site, Some(&["worklogs"]));
    let first = sync(&site);
    first.assert_success();
    std::thread::sleep(std::time::Duration::from_millis(5));
    let mut deleted: BTreeSet<String> = site
        .sim
        .sim
        .delete_worklogs(5)
        .iter()
        .map(|d| d.worklog_id.to_string())
        .collect();
    std::thread::sleep(std::time::Duration::from_millis(5));
    deleted.extend(
        site.sim
            .sim
            .delete_worklogs(1)
            .iter()
            .map(|d| d.worklog_id.to_string()),
    );
    assert_eq!(deleted.len(), 6);
    let state = site.file("state.json", &first.last_state());
    let second = site.sync_from(&state);
    second.assert_success();
    let reported: BTreeSet<String> = second
        .records("worklogs")
        .iter()
        .filter(|w| w["_sdc_deleted_at"].is_string())
        .map(|w| w["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(reported, deleted);
    let state = site.file("state.json", &second.last_state());
    let third = site.sync_from(&state);
    third.assert_success();
    assert!(third.records("worklogs").is_empty(), "nothing new");
}

/// Jira cuts a `/worklog/updated` page, its `until` and `lastPage` over every worklog, and only
/// then leaves out those the account may not see: pages come short, or empty, and still point
/// further. The tap reads through them: every worklog it may see arrives once, no hidden one,
/// and an incremental run from its state brings none again.
#[test]
fn worklog_pages_thinned_by_hidden_worklogs_are_read_through() {
    // Every other worklog hidden, pages of 3 rows (Jira's hold 1000): a small site gives pages
    // that keep none of their rows, and many that keep some.
    let site = Site::new(SimConfig {
        hidden_worklogs_every: 2,
        worklog_page_size: 3,
        ..SimConfig::default()
    });
    prepare(&site, Some(&["worklogs"]));
    let run = sync(&site);
    run.assert_success();
    assert_valid_singer_output(&run);

    let all = site.sim.sim.worklogs();
    let visible: BTreeSet<String> = all
        .iter()
        .filter(|w| !w.hidden)
        .map(|w| w.worklog_id.to_string())
        .collect();
    let worklogs = run.records("worklogs");
    let written: BTreeSet<String> = worklogs
        .iter()
        .map(|w| w["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(written.len(), worklogs.len(), "a worklog written twice");
    assert_eq!(written, visible, "every visible worklog, and no hidden one");

    // The pages were as meant. A page holds every row from its `since` to before the next
    // page's, and may hold rows of that millisecond: some held no visible worklog even there,
    // some held visible and hidden ones before it.
    let sinces: Vec<i64> = site
        .sim
        .sim
        .requests()
        .iter()
        .filter(|r| r.path.ends_with("/worklog/updated"))
        .filter_map(|r| r.query.strip_prefix("since=")?.parse().ok())
        .collect();
    let hidden_or_not = |from: i64, to: i64| -> BTreeSet<bool> {
        let rows = all.iter().filter(|w| (from..=to).contains(&w.updated_ms));
        rows.map(|w| w.hidden).collect()
    };
    let pages = sinces.windows(2);
    let empty = pages
        .clone()
        .filter(|s| !hidden_or_not(s[0], s[1]).contains(&false))
        .count();
    let short = pages
        .filter(|s| hidden_or_not(s[0], s[1] - 1).len() == 2)
        .count();
    assert!(
        empty > 0 && short > 0,
        "{empty} empty and {short} short pages"
    );

    let state = run.last_state();
    let bookmark = state["bookmarks"]["worklogs"]["updated"]
        .as_str()
        .and_then(tap_jira::timestamp::parse_jira)
        .unwrap_or_else(|| panic!("no worklogs bookmark: {state}"));
    let youngest = all.iter().filter(|w| !w.hidden).map(|w| w.updated_ms).max();
    assert!(
        Some(bookmark.timestamp_millis()) >= youngest,
        "the bookmark covers every worklog written: {state}"
    );
    let state = site.file("state.json", &state);
    let again = site.sync_from(&state);
    again.assert_success();
    assert!(
        again.records("worklogs").is_empty(),
        "nothing new, nothing twice"
    );
}

/// Meltano discovers before every run: discover reads the site's fields and who it is talking
/// to, never the streams' endpoints, so its requests do not grow with the stream table or the
/// number of custom fields.
#[test]
fn discover_costs_the_same_few_requests_however_many_streams_and_fields() {
    for deployment in [Deployment::Cloud, Deployment::Server] {
        let site = Site::new(SimConfig {
            deployment,
            extra_custom_fields: 200,
            ..SimConfig::default()
        });
        let config = site.file("config.json", &config_for(&site));
        let catalog = site.discover(&config);
        let streams = catalog["streams"].as_array().unwrap().len();
        assert_eq!(streams, streams_on(tap_deployment(deployment)).count());
        let counts = site.sim.sim.request_counts();
        let total: u64 = counts.values().sum();
        assert!(
            total <= 3,
            "{deployment}: discover sent {total} requests for {streams} streams: {counts:?}"
        );
        for endpoint in counts.keys() {
            assert!(
                ["/serverInfo", "/myself", "/field"]
                    .iter()
                    .any(|end| endpoint.ends_with(end)),
                "{deployment}: discover called {endpoint}"
            );
        }
    }
}

/// Server/DC issue search with `page_size` 5 (allowed: 1 to 1000): each page reads again the
/// last rows of the one before (five); asked for no more than those, a page held nothing new,
/// which read as the end of the search, and issues were lost without an error.
#[test]
fn server_search_with_a_page_size_of_five_reads_every_issue() {
    let site = Site::new(SimConfig {
        deployment: Deployment::Server,
        projects: 2,
        issues_per_project: 30,
        ..SimConfig::default()
    });
    // A bulk edit: every issue updated within the same minute (as an import or a bulk change does).
    site.sim.sim.touch_issues(site.sim.sim.issue_count());
    let config = site.file("config.json", &site.config_with(json!({"page_size": 5})));
    let mut catalog = site.discover(&config);
    select_only(&mut catalog, &["issues"]);
    let catalog = site.file("catalog.json", &catalog);
    let run = tap(&[&"--config", &config, &"--catalog", &catalog]);
    run.assert_success();
    let mut ids = ids(&run.records("issues"));
    ids.sort();
    ids.dedup();
    assert_eq!(
        ids.len(),
        site.sim.sim.issue_count(),
        "issues written out of the site's issues"
    );
}

/// Server/DC's `groups/picker` caps its answer at `jira.ajax.autocomplete.limit` (20 by default)
/// whatever `maxResults` asks, and says so in `total` ("Showing 20 of 25 matching groups"). The
/// list has no further pages to read: the tap says the rest are missing, and how to get them.
#[test]
fn a_one_page_list_cut_short_of_its_total_is_a_warning() {
    let site = Site::server();
    let groups: Vec<Value> = (0..20)
        .map(|n| json!({"name": format!("group-{n:02}"), "html": format!("group-{n:02}"), "labels": []}))
        .collect();
    let body = json!({"header": "Showing 20 of 25 matching groups", "total": 25, "groups": groups});
    site.sim.sim.push_fault(jira_sim::Fault {
        path_contains: "groups/picker".into(),
        status: 200,
        body: body.to_string(),
        ..jira_sim::Fault::default()
    });
    let config = site.file("config.json", &site.config_with(json!({})));
    let mut catalog = site.discover(&config);
    select_only(&mut catalog, &["groups"]);
    let catalog = site.file("catalog.json", &catalog);
    let run = tap(&[&"--config", &config, &"--catalog", &catalog]);
    run.assert_success();
    assert_valid_singer_output(&run);
    assert_eq!(run.records("groups").len(), 20);
    assert!(
        run.stderr.lines().any(|l| l.contains("WARN")
            && l.contains("jira.ajax.autocomplete.limit")
            && l.contains("total=25")),
        "{}",
        run.stderr
    );
}

/// With a project filter, worklogs are kept by asking Jira which of their issues the filter
/// keeps (`id in (…)`). An issue deleted after `/worklog/list` gave its worklogs makes Jira refuse
/// that search ("An issue with key '10040' does not exist for field 'id'"): the gone issue's
/// worklogs are left out and the others written, not the whole run failed.
#[test]
fn an_issue_deleted_while_its_worklogs_are_filtered_fails_nothing() {
    for deployment in [Deployment::Server, Deployment::Cloud] {
        let sim_config = SimConfig {
            deployment,
            ..SimConfig::default()
        };
        let twin = Site::new(sim_config.clone());
        prepare(&twin, Some(&["worklogs", "projects"]));
        let all = sync(&twin);
        all.assert_success();
        let gone = all.records("worklogs")[0]["issueId"]
            .as_str()
            .unwrap()
            .to_string();
        let keys: Vec<Value> = all
            .records("projects")
            .iter()
            .map(|p| p["key"].clone())
            .collect();

        let site = Site::new(sim_config);
        let mut config = config_for(&site);
        config["projects"] = json!(keys);
        let config = site.file("config.json", &config);
        let mut catalog = site.discover(&config);
        select(&mut catalog, Some(&["worklogs"]));
        site.file("catalog.json", &catalog);
        let search = match deployment {
            Deployment::Server => "/rest/api/2/search",
            Deployment::Cloud => "/rest/api/3/search/jql",
        };
        site.sim
            .sim
            .delete_issues_before_request(search, 0, vec![gone.clone()]);
        let run = sync(&site);
        run.assert_success();
        assert_valid_singer_output(&run);
        let written: BTreeSet<String> = run
            .records("worklogs")
            .iter()
            .map(|w| w["id"].as_str().unwrap().to_string())
            .collect();
        let expected: BTreeSet<String> = all
            .records("worklogs")
            .iter()
            .filter(|w| w["issueId"] != json!(gone))
            .map(|w| w["id"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(written, expected, "{deployment:?}");
    }
}

/// Jira cuts a `board` page, its `total` and `isLast` over every board, and only then leaves
/// out the boards the account may not see: a page comes short, or empty, and still is not the
/// last. The tap reads through them: every board it may see arrives once, with its children.
#[test]
fn board_pages_thinned_by_hidden_boards_are_read_through() {
    // Boards 3 and 6 of the seven hidden; pages of one board (Jira's hold 50) make each an
    // empty page that is not the last, pages of two a short one.
    for page_size in [1, 2] {
        let site = Site::new(SimConfig {
            hidden_boards_every: 3,
            ..SimConfig::default()
        });
        let streams = ["boards", "board_configurations", "epics"];
        let mut catalog = prepare(&site, Some(&streams));
        select(&mut catalog, Some(&streams));
        let mut config = config_for(&site);
        config["page_size"] = json!(page_size);
        site.file("config.json", &config);
        let run = sync(&site);
        run.assert_success();
        assert_valid_singer_output(&run);
        let boards: Vec<u64> = run
            .records("boards")
            .iter()
            .map(|b| b["id"].as_u64().unwrap())
            .collect();
        assert_eq!(boards, [1, 2, 4, 5, 7], "page size {page_size}");
        for stream in streams {
            assert_eq!(
                run.records(stream).len(),
                site.sim.sim.expected_records(stream, None).unwrap(),
                "page size {page_size}: {stream}"
            );
        }
    }
    // An account that sees no board: seven empty pages, none the last, and nothing missing.
    let site = Site::new(SimConfig {
        hidden_boards_every: 1,
        ..SimConfig::default()
    });
    prepare(&site, Some(&["boards"]));
    let mut config = config_for(&site);
    config["page_size"] = json!(1);
    site.file("config.json", &config);
    let run = sync(&site);
    run.assert_success();
    assert!(run.records("boards").is_empty());
}

/// A one-page list that holds fewer records than its `total` (Server's groups picker past
/// `jira.ajax.autocomplete.limit`) is a pass that did not read every row: activating its version
/// would delete from the target the groups Jira left out this time, and their members.
#[test]
fn a_list_cut_short_of_its_total_activates_no_version() {
    let site = Site::server();
    prepare(&site, Some(&["groups", "group_members"]));
    let first = sync(&site);
    first.assert_success();
    let groups = first.records("groups");
    assert!(groups.len() > 1, "{groups:?}");
    for stream in ["groups", "group_members"] {
        assert!(activations(&first, stream) > 0, "{stream}");
    }
    // Jira lists all but the last group, and says how many there are.
    let shown = &groups[..groups.len() - 1];
    let body = json!({"header": format!("Showing {} of {} matching groups", shown.len(), groups.len()),
                      "total": groups.len(), "groups": shown});
    site.sim.sim.push_fault(jira_sim::Fault {
        path_contains: "groups/picker".into(),
        status: 200,
        body: body.to_string(),
        ..jira_sim::Fault::default()
    });
    let again = site.sync_from(&site.file("state.json", &first.last_state()));
    again.assert_success();
    assert_eq!(again.records("groups").len(), shown.len());
    assert!(!again.records("group_members").is_empty());
    for stream in ["groups", "group_members"] {
        assert_eq!(
            activations(&again, stream),
            0,
            "{stream}: a pass cut short activates nothing"
        );
    }
}

/// A project archived in Jira (Cloud Premium and Enterprise, Data Center) still exists, read-only,
/// and may be restored, but the project lists leave it out unless asked: Cloud's `project/search`
/// lists `live` projects unless `status` says otherwise, Data Center's `project` unless
/// `includeArchived=true`. A pass that did not ask activates a version without its row, and the
/// target deletes a project whose issues it still holds.
#[test]
fn an_archived_project_keeps_its_row() {
    for deployment in [Deployment::Cloud, Deployment::Server] {
        let site = site_for(deployment);
        prepare(&site, Some(&["projects", "versions"]));
        let first = sync(&site);
        first.assert_success();
        let id = first
            .records("projects")
            .into_iter()
            .find(|p| p["key"] == "OPS")
            .map(|p| p["id"].clone())
            .unwrap();
        site.sim.sim.archive_project("OPS");
        site.sim.sim.reset_requests();
        let again = site.sync_from(&site.file("state.json", &first.last_state()));
        again.assert_success();
        // Its versions are read as before, of live projects only.
        let id_text = id.as_str().unwrap();
        assert!(
            site.sim
                .sim
                .requests()
                .iter()
                .all(|r| !r.path.contains(&format!("project/{id_text}/"))),
            "{deployment}"
        );
        assert!(activations(&again, "versions") > 0, "{deployment}");
        assert_valid_singer_output(&again);
        assert!(activations(&again, "projects") > 0, "{deployment}");
        assert_eq!(
            again.records("projects").len(),
            first.records("projects").len(),
            "{deployment}: every project, the archived one too"
        );
        let row = again
            .records("projects")
            .into_iter()
            .find(|p| p["id"] == id);
        assert!(
            row.is_some_and(|p| p["archived"] == json!(true)),
            "{deployment}: the archived project is written, as archived"
        );
    }
}
