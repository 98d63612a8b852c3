//! sync against the simulator: counts, Singer rules, incremental runs, resume, selection.

mod common;

use common::{Site, assert_valid_singer_output, ids, tap};
use jira_sim::{Deployment, SimConfig};
use serde_json::{Value, json};

fn full_sync(site: &Site, config: &Value) -> common::Run {
    let config = site.file("config.json", config);
    let catalog = site.discover(&config);
    let catalog = site.file("catalog.json", &catalog);
    tap(&[&"--config", &config, &"--catalog", &catalog])
}

fn assert_counts(site: &Site, run: &common::Run) {
    let sim = &site.sim.sim;
    assert_eq!(run.records("projects").len(), sim.project_count());
    assert_eq!(run.records("fields").len(), sim.field_count());
    assert_eq!(run.records("users").len(), sim.user_count());
    let issues = run.records("issues");
    assert_eq!(issues.len(), sim.issue_count());
    let mut unique = ids(&issues);
    unique.dedup();
    assert_eq!(unique.len(), sim.issue_count(), "no issue twice");
}

#[test]
fn cloud_full_sync_emits_every_record_valid_against_its_schema() {
    let site = Site::new(SimConfig {
        issues_per_project: 45,
        ..SimConfig::default()
    });
    let run = full_sync(&site, &site.cloud_config());
    run.assert_success();
    assert_valid_singer_output(&run);
    assert_counts(&site, &run);

    let issue = &run.records("issues")[0];
    assert!(
        issue["updated"].as_str().unwrap().ends_with('Z'),
        "replication key at top level, in UTC: {issue}"
    );
    assert!(issue["fields"]["summary"].is_string());
    // Cloud searches through /search/jql with tokens, never the removed /search.
    let counts = site.sim.sim.request_counts();
    assert!(
        counts.keys().any(|k| k.ends_with("/rest/api/3/search/jql")),
        "{counts:?}"
    );
    assert!(
        !counts
            .keys()
            .any(|k| k.ends_with("/rest/api/3/search") || k.ends_with("/rest/api/2/search"))
    );
    // A STATE follows every page of issues: 135 issues at 100 a page → at least two.
    let issue_states = run
        .states()
        .iter()
        .filter(|s| s["bookmarks"]["issues"].is_object())
        .count();
    assert!(issue_states >= 2, "STATE after each page of issues");
}

#[test]
fn server_full_sync_uses_rest_v2_and_offset_search() {
    let site = Site::new(SimConfig {
        deployment: Deployment::Server,
        issues_per_project: 45,
        max_page_size: 40,
        ..SimConfig::default()
    });
    let run = full_sync(&site, &site.server_config());
    run.assert_success();
    assert_valid_singer_output(&run);
    assert_counts(&site, &run);
    let counts = site.sim.sim.request_counts();
    assert!(
        counts.keys().all(|k| !k.contains("/rest/api/3/")),
        "Server speaks v2 only: {counts:?}"
    );
    let searches = counts
        .iter()
        .find(|(k, _)| k.ends_with("/rest/api/2/search"))
        .map(|(_, n)| *n);
    assert_eq!(
        searches,
        Some(3 * 2 + 1),
        "3 projects of 45 issues in pages capped at 40, and the projects not listed: advance \
         by what came back"
    );
    assert!(run.records("users").iter().all(|u| u["key"].is_string()));
}

#[test]
fn incremental_run_emits_exactly_the_changed_issues() {
    let site = Site::cloud();
    let first = full_sync(&site, &site.cloud_config());
    first.assert_success();
    let state = site.file("state.json", &first.last_state());
    let config = site.dir.path().join("config.json");
    let catalog = site.dir.path().join("catalog.json");

    let unchanged = site.sync_from(&state);
    unchanged.assert_success();
    assert_eq!(
        unchanged.records("issues").len(),
        0,
        "nothing changed, nothing emitted"
    );

    let mut touched = site.sim.sim.touch_issues(5);
    touched.sort();
    let second = tap(&[
        &"--state",
        &state,
        &"--catalog",
        &catalog,
        &"--config",
        &config,
    ]);
    second.assert_success();
    assert_valid_singer_output(&second);
    assert_eq!(ids(&second.records("issues")), touched);

    // The bookmark moved to the newest change, and the next run is empty again.
    let state = site.file("state2.json", &second.last_state());
    let third = tap(&[&"-c", &config, &"-p", &catalog, &"-s", &state]);
    third.assert_success();
    assert_eq!(third.records("issues").len(), 0);
}

#[test]
fn resuming_from_a_mid_sync_state_emits_the_rest() {
    let site = Site::new(SimConfig {
        issues_per_project: 50,
        max_page_size: 25,
        ..SimConfig::default()
    });
    let first = full_sync(&site, &site.cloud_config());
    first.assert_success();
    let all = ids(&first.records("issues"));

    // A first sync reads each project in its own search, several at once, each bookmarked.
    // Cut the run after an early and a late STATE of issues, as if the tap had been killed there.
    let messages = first.messages();
    let issue_states: Vec<usize> = (0..messages.len())
        .filter(|&i| {
            messages[i]["type"] == "STATE"
                && messages[i]["value"]["bookmarks"]["issues"].is_object()
        })
        .collect();
    let partitioned: Vec<usize> = issue_states
        .iter()
        .copied()
        .filter(|&i| messages[i]["value"]["bookmarks"]["issues"]["partitions"].is_object())
        .collect();
    assert!(partitioned.len() > 4, "a STATE after every page");
    let last = &messages[*issue_states.last().unwrap()]["value"]["bookmarks"]["issues"];
    assert!(
        last.get("partitions").is_none() && last["updated"].is_string(),
        "once every partition is read, one bookmark: {last}"
    );
    for cut in [partitioned[1], partitioned[partitioned.len() - 2]] {
        let before: Vec<Value> = messages[..cut]
            .iter()
            .filter(|m| m["type"] == "RECORD" && m["stream"] == "issues")
            .map(|m| m["record"].clone())
            .collect();
        let state = site.file("state.json", &messages[cut]["value"]);
        let resumed = site.sync_from(&state);
        resumed.assert_success();
        let after = resumed.records("issues");
        let mut union = ids(&before);
        union.extend(ids(&after));
        union.sort();
        assert_eq!(union, all, "every issue exactly once across the cut");
        let end = &resumed.last_state()["bookmarks"]["issues"];
        assert!(end.get("partitions").is_none(), "{end}");
    }
}

/// A project deleted while a first sync runs: Jira refuses the JQL that names it. That search ends
/// with a warning, the run exits 0 without folding the partitions into one bookmark, and the next
/// run finishes them: every issue exactly once across the two.
#[test]
fn a_project_deleted_mid_sync_ends_its_search_and_the_next_run_finishes_the_rest() {
    let site = Site::cloud();
    // Jira names the project of the search it refuses; the searches run at once and any of them
    // may come first, so the refusal names each project (10000 to 10002).
    site.sim.sim.push_fault(jira_sim::Fault {
        path_contains: "/search/jql".into(),
        status: 400,
        body: r#"{"errorMessages": ["The value '10000' does not exist for the field 'project'.", "The value '10001' does not exist for the field 'project'.", "The value '10002' does not exist for the field 'project'."], "errors": {}}"#.into(),
        content_type: "application/json".into(),
        headers: vec![],
        times: 1,
    });
    let first = full_sync(&site, &site.cloud_config());
    first.assert_success();
    assert!(
        first.stderr.contains("a project was deleted"),
        "{}",
        first.stderr
    );
    assert!(
        first.records("issues").len() < site.sim.sim.issue_count(),
        "one search ended early"
    );
    let bookmark = &first.last_state()["bookmarks"]["issues"];
    assert!(bookmark["partitions"].is_object(), "{bookmark}");

    let state = site.file("state.json", &first.last_state());
    let second = site.sync_from(&state);
    second.assert_success();
    let mut union = ids(&first.records("issues"));
    union.extend(ids(&second.records("issues")));
    union.sort();
    let count = union.len();
    union.dedup();
    assert_eq!(count, union.len(), "no issue twice");
    assert_eq!(count, site.sim.sim.issue_count(), "every issue");
    let end = &second.last_state()["bookmarks"]["issues"];
    assert!(end.get("partitions").is_none(), "{end}");
}

#[test]
fn catalog_selection_is_honoured_in_records_schema_and_request() {
    let site = Site::cloud();
    let config = site.file("config.json", &site.cloud_config());
    let mut catalog = site.discover(&config);
    let story_points = find_field(&catalog, "Story Points");
    for stream in catalog["streams"].as_array_mut().unwrap() {
        let name = stream["tap_stream_id"].as_str().unwrap().to_string();
        for m in stream["metadata"].as_array_mut().unwrap() {
            let crumb: Vec<String> = serde_json::from_value(m["breadcrumb"].clone()).unwrap();
            let deselect = (crumb.is_empty() && name != "issues")
                || crumb == ["properties", "key"]
                || crumb == ["properties", "fields", "properties", "description"]
                || crumb == ["properties", "fields", "properties", story_points.as_str()]
                || crumb == ["properties", "id"];
            if deselect {
                m["metadata"]["selected"] = json!(false);
            } else if crumb.is_empty() {
                m["metadata"]["selected"] = json!(true);
            }
        }
    }
    let catalog = site.file("catalog.json", &catalog);
    let run = tap(&[&"--config", &config, &"--catalog", &catalog]);
    run.assert_success();
    assert_valid_singer_output(&run);
    let streams: std::collections::BTreeSet<String> = run
        .messages()
        .iter()
        .filter_map(|m| m["stream"].as_str().map(String::from))
        .collect();
    assert_eq!(streams.into_iter().collect::<Vec<_>>(), ["issues"]);
    for issue in run.records("issues") {
        assert!(
            issue.get("key").is_none(),
            "deselected top-level field: {issue}"
        );
        assert!(issue["id"].is_string(), "keys are automatic, never dropped");
        assert!(issue["fields"].get("description").is_none());
        assert!(issue["fields"].get(story_points.as_str()).is_none());
        assert!(issue["fields"].get("summary").is_some());
    }
    let schema = run
        .messages()
        .iter()
        .find(|m| m["type"] == "SCHEMA")
        .unwrap();
    assert!(
        schema["schema"]["properties"]["fields"]["properties"]
            .get("description")
            .is_none()
    );
    // Jira is asked only for the selected fields.
    let body = site.first_search_body();
    let asked: Vec<&str> = body["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_str().unwrap())
        .collect();
    assert!(asked.contains(&"summary") && asked.contains(&"updated"));
    assert!(!asked.contains(&"description") && !asked.contains(&story_points.as_str()));
}

fn find_field(catalog: &Value, name: &str) -> String {
    let issues = catalog["streams"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["tap_stream_id"] == "issues")
        .unwrap();
    let m = issues["metadata"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["metadata"]["tap-jira.field-name"] == name)
        .unwrap();
    m["breadcrumb"][3].as_str().unwrap().to_string()
}

#[test]
fn legacy_properties_catalog_with_selected_in_schemas() {
    let site = Site::cloud();
    let config = site.file("config.json", &site.cloud_config());
    let mut catalog = site.discover(&config);
    for stream in catalog["streams"].as_array_mut().unwrap() {
        stream.as_object_mut().unwrap().remove("metadata");
        stream["schema"]["selected"] = json!(stream["tap_stream_id"] == "projects");
    }
    let catalog = site.file("properties.json", &catalog);
    let run = tap(&[&"--config", &config, &"--properties", &catalog]);
    run.assert_success();
    assert_valid_singer_output(&run);
    assert_eq!(run.records("projects").len(), site.sim.sim.project_count());
    assert_eq!(run.records("issues").len(), 0);
}

#[test]
fn full_table_streams_are_versioned_and_activated() {
    let site = Site::cloud();
    let run = full_sync(&site, &site.cloud_config());
    run.assert_success();
    let messages = run.messages();
    let projects: Vec<&Value> = messages
        .iter()
        .filter(|m| m["stream"] == "projects")
        .collect();
    assert_eq!(projects[0]["type"], "SCHEMA");
    assert_eq!(
        projects[1]["type"], "ACTIVATE_VERSION",
        "first-ever full sync announces the version"
    );
    let version = projects[1]["version"].clone();
    assert!(
        projects
            .iter()
            .filter(|m| m["type"] == "RECORD")
            .all(|m| m["version"] == version)
    );
    assert_eq!(projects.last().unwrap()["type"], "ACTIVATE_VERSION");
}

#[test]
fn issues_updated_just_after_the_bookmark_are_found_in_any_user_time_zone() {
    for zone in ["America/Los_Angeles", "Asia/Kolkata", "Pacific/Chatham"] {
        let site = Site::new(SimConfig {
            time_zone: zone.into(),
            ..SimConfig::default()
        });
        let first = full_sync(&site, &site.cloud_config());
        first.assert_success();
        let mut state = site.file("state.json", &first.last_state());
        // Each round changes issues seconds after the previous bookmark, usually within its
        // minute; touched issues share one millisecond, so the bookmark holds a tie.
        for (round, n) in [3, 2, 4].into_iter().enumerate() {
            let mut touched = site.sim.sim.touch_issues(n);
            touched.sort();
            let run = site.sync_from(&state);
            run.assert_success();
            assert_eq!(
                ids(&run.records("issues")),
                touched,
                "{zone}, round {round}"
            );
            state = site.file(&format!("state{round}.json"), &run.last_state());
        }
    }
}

#[test]
fn stitch_state_is_read_as_is() {
    let site = Site::cloud();
    let first = full_sync(&site, &site.cloud_config());
    first.assert_success();
    let issues = first.records("issues");
    let middle = issues[issues.len() / 2]["updated"]
        .as_str()
        .unwrap()
        .replace(".000Z", "+00:00");
    let cutoff = chrono::DateTime::parse_from_rfc3339(&middle).unwrap();
    let expected = issues
        .iter()
        .filter(|i| {
            chrono::DateTime::parse_from_rfc3339(i["updated"].as_str().unwrap()).unwrap() >= cutoff
        })
        .count();
    let state = site.file(
        "stitch-state.json",
        &json!({"currently_syncing": "issues",
        "bookmarks": {"issues": {"updated": middle, "offset": {"page_num": null}}}}),
    );
    let config = site.dir.path().join("config.json");
    let catalog = site.dir.path().join("catalog.json");
    let run = tap(&[
        &"--config",
        &config,
        &"--properties",
        &catalog,
        &"--state",
        &state,
    ]);
    run.assert_success();
    assert_eq!(run.records("issues").len(), expected);
}

/// Stitch's bookmark is the newest `updated` its tap wrote, which may be an issue's dated ahead of
/// Jira's clock: the look-back read from it stops at Jira's clock, or the edits Jira stamps before
/// that time are never synced.
#[test]
fn a_stitch_bookmark_dated_ahead_of_jiras_clock_hides_no_later_edit() {
    let site = Site::cloud();
    let first = full_sync(&site, &site.cloud_config());
    first.assert_success();
    let in_an_hour = chrono::Utc::now() + chrono::Duration::hours(1);
    let state = site.file(
        "stitch-state.json",
        &json!({"bookmarks": {"issues": {
            "updated": in_an_hour.format("%Y-%m-%dT%H:%M:%S+00:00").to_string(),
            "offset": {"page_num": null}}}}),
    );
    let mut touched = site.sim.sim.touch_issues(3);
    touched.sort();
    let run = site.sync_from(&state);
    run.assert_success();
    assert_eq!(ids(&run.records("issues")), touched);
}

/// A `start_date` ahead of Jira's clock is where the bookmarks stay until then: no run writes
/// what Jira dates before it.
#[test]
fn a_start_date_ahead_of_jiras_clock_holds_every_bookmark_there() {
    let site = Site::cloud();
    let mut config = site.cloud_config();
    config["start_date"] = json!((chrono::Utc::now() + chrono::Duration::days(1)).to_rfc3339());
    let config = site.file("config.json", &config);
    let mut catalog = site.discover(&config);
    common::select_only(&mut catalog, &["issues", "worklogs", "audit_records"]);
    site.file("catalog.json", &catalog);
    let first = site.sync_from(&site.file("state.json", &json!({})));
    first.assert_success();

    site.sim.sim.touch_issues(3);
    let second = site.sync_from(&site.file("state.json", &first.last_state()));
    second.assert_success();
    assert_eq!(
        second.records("issues").len(),
        0,
        "state after the first run: {}",
        first.last_state()
    );
    assert_eq!(second.records("worklogs").len(), 0);
    assert_eq!(second.records("audit_records").len(), 0);
}

/// Stitch's tap searches from the minute of its bookmark, so an edit inside that minute that
/// Jira's search showed only after its last run is caught by its next one. Continuing from its
/// state, tap-jira reads back its look-back window as after any run of its own, and the edit is
/// written (once).
#[test]
fn an_edit_the_search_showed_late_is_caught_after_a_stitch_state() {
    let site = Site::cloud();
    let first = full_sync(&site, &site.cloud_config());
    first.assert_success();
    let issues = first.records("issues");
    let newest = issues
        .iter()
        .map(|i| {
            chrono::DateTime::parse_from_rfc3339(i["updated"].as_str().unwrap())
                .unwrap()
                .to_utc()
        })
        .max()
        .unwrap();
    let newest_ms = newest.timestamp_millis();
    assert_ne!(
        newest_ms % 60_000,
        0,
        "the bookmark's minute has room before it"
    );
    let late = issues[3]["id"].as_str().unwrap().to_string();
    assert!(site.sim.sim.set_issue_updated(&late, newest_ms - 1));

    // The state Stitch's tap wrote after that run: its bookmark is the newest issue it wrote.
    let state = site.file(
        "stitch-state.json",
        &json!({"currently_syncing": null, "bookmarks": {"issues": {
            "updated": newest.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string(),
            "offset": {"page_num": null}}}}),
    );
    let second = site.sync_from(&state);
    second.assert_success();
    assert!(
        ids(&second.records("issues")).contains(&late),
        "the late edit is written"
    );
    let state = site.file("state2.json", &second.last_state());
    let third = site.sync_from(&state);
    third.assert_success();
    assert!(
        !ids(&third.records("issues")).contains(&late),
        "written once"
    );
}

#[test]
fn meltano_catalogs_with_every_breadcrumb_selected_are_accepted() {
    let site = Site::cloud();
    let config = site.file("config.json", &site.cloud_config());
    let mut catalog = site.discover(&config);
    for stream in catalog["streams"].as_array_mut().unwrap() {
        let metadata = stream["metadata"].as_array_mut().unwrap();
        for m in metadata.iter_mut() {
            m["metadata"]["selected"] = json!(true);
        }
        // Breadcrumbs the tap never emitted, as Meltano writes them for nested properties.
        metadata.push(json!({"breadcrumb": ["properties", "fields", "properties", "status", "properties", "name"],
            "metadata": {"selected": true, "inclusion": "available"}}));
        metadata.push(json!({"breadcrumb": ["properties", "no_such_property"], "metadata": {"selected": true}}));
    }
    let catalog = site.file("catalog.json", &catalog);
    let run = tap(&[&"--catalog", &catalog, &"--config", &config]);
    run.assert_success();
    assert_valid_singer_output(&run);
    assert_counts(&site, &run);
    assert!(
        run.records("issues")
            .iter()
            .all(|i| i["fields"]["status"]["id"].is_string()),
        "nested values kept whole"
    );
}

#[test]
fn users_from_configured_groups_once_each_like_stitch() {
    let site = Site::cloud();
    let mut config = site.cloud_config();
    config["groups"] = json!("jira-users, jira-administrators, no-such-group");
    let run = full_sync(&site, &config);
    run.assert_success();
    assert_valid_singer_output(&run);
    let users = run.records("users");
    let mut account_ids: Vec<&str> = users
        .iter()
        .map(|u| u["accountId"].as_str().unwrap())
        .collect();
    account_ids.sort();
    account_ids.dedup();
    assert_eq!(
        account_ids.len(),
        users.len(),
        "each user once, though admins are in both groups"
    );
    assert_eq!(users.len(), site.sim.sim.group_member_count("jira-users"));
    assert!(
        run.stderr.contains("no-such-group"),
        "an unknown group is named in a warning"
    );
    let counts = site.sim.sim.request_counts();
    assert!(
        counts.keys().any(|k| k.ends_with("/group/member"))
            && !counts.keys().any(|k| k.ends_with("/users/search"))
    );
}

/// Meltano writes `groups` as its `array` kind holds it: `meltano config set tap-jira groups
/// '[1234]'` (or `groups: [1234]` in meltano.yml) gives the tap a number. A group named by digits
/// is still a group: `users` holds its members (here none, and a warning), never every user.
#[test]
fn groups_named_by_digits_as_meltano_writes_them_still_choose_the_users() {
    let site = Site::cloud();
    let mut config = site.cloud_config();
    config["groups"] = json!([1234]);
    let config = site.file("config.json", &config);
    let mut catalog = site.discover(&config);
    common::select_only(&mut catalog, &["users"]);
    let catalog = site.file("catalog.json", &catalog);
    let run = tap(&[&"--config", &config, &"--catalog", &catalog]);
    run.assert_success();
    let users = run.records("users").len();
    assert_eq!(users, 0, "{users} users: the site's, not the group's");
    assert!(run.stderr.contains("1234"), "the unknown group is named");
    let counts = site.sim.sim.request_counts();
    assert!(
        counts.keys().any(|k| k.ends_with("/group/member"))
            && !counts.keys().any(|k| k.ends_with("/users/search")),
        "{counts:?}"
    );
}

/// A project named by its id in `projects`, as Meltano writes an `array` of digits
/// (`projects: [10000]` in meltano.yml), was refused as not being project keys, though the id
/// as text is read. It narrows the sync to that project, as `["10000"]` does.
#[test]
fn projects_named_by_ids_as_meltano_writes_them_narrow_the_sync() {
    let site = Site::server();
    let config = site.file("config.json", &site.server_config());
    let mut catalog = site.discover(&config);
    common::select_only(&mut catalog, &["projects"]);
    let catalog = site.file("catalog.json", &catalog);
    let whole = tap(&[&"--config", &config, &"--catalog", &catalog]);
    whole.assert_success();
    let id = whole.records("projects")[0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let number: u64 = id.parse().unwrap();
    let config = site.file(
        "by-id.json",
        &site.config_with(json!({"projects": [number]})),
    );
    let run = tap(&[&"--config", &config, &"--catalog", &catalog]);
    run.assert_success();
    let ids: Vec<Value> = run
        .records("projects")
        .iter()
        .map(|p| p["id"].clone())
        .collect();
    assert_eq!(ids, vec![json!(id)]);
}

/// People keep working while a sync pages: an issue already read is edited, leaves its place in
/// `ORDER BY updated` and every later row moves up. No issue may be skipped for it.
#[test]
fn issues_edited_while_the_sync_pages_do_not_push_others_out_of_it() {
    for deployment in [Deployment::Server, Deployment::Cloud] {
        let sim_config = SimConfig {
            deployment,
            max_page_size: 20,
            ..SimConfig::default()
        };
        let config_of = |site: &Site| match deployment {
            Deployment::Server => site.server_config(),
            Deployment::Cloud => site.cloud_config(),
        };
        // The same seed gives the same site: learn the order issues are read in from a twin.
        let twin = Site::new(sim_config.clone());
        let order = ids_in_order(&full_sync(&twin, &config_of(&twin)));

        let site = Site::new(sim_config);
        // Early rows, and the newest row read, which a restarted page starts from.
        let already_read = vec![order[1].clone(), order[4].clone(), order[19].clone()];
        let search = match deployment {
            Deployment::Server => "/rest/api/2/search",
            Deployment::Cloud => "/rest/api/3/search/jql",
        };
        site.sim
            .sim
            .touch_issues_before_request(search, 1, already_read);
        let run = full_sync(&site, &config_of(&site));
        run.assert_success();
        assert_valid_singer_output(&run);
        let mut seen = ids(&run.records("issues"));
        seen.dedup();
        assert_eq!(
            seen.len(),
            site.sim.sim.issue_count(),
            "{deployment:?}: every issue at least once"
        );
    }
}

/// Cloud's search index shows some edits late: an issue edited a minute before the newest one
/// written may appear only after the bookmark passed it. The look-back window catches it, once.
#[test]
fn an_edit_the_search_showed_late_is_caught_by_the_lookback_window() {
    let site = Site::cloud();
    let first = full_sync(&site, &site.cloud_config());
    first.assert_success();
    let bookmark = first.last_state()["bookmarks"]["issues"]["updated"]
        .as_str()
        .unwrap()
        .to_string();
    let newest = chrono::DateTime::parse_from_rfc3339(&bookmark)
        .unwrap()
        .timestamp_millis();
    let late = first.records("issues")[3]["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(site.sim.sim.set_issue_updated(&late, newest - 60_000));

    let state = site.file("state.json", &first.last_state());
    let second = site.sync_from(&state);
    second.assert_success();
    assert_eq!(
        ids(&second.records("issues")),
        [late],
        "the late edit, and nothing else"
    );
    let state = site.file("state2.json", &second.last_state());
    let third = site.sync_from(&state);
    third.assert_success();
    assert_eq!(third.records("issues").len(), 0, "written once");
}

/// An issue whose `updated` is ahead of the clock the next edits are stamped by (imported with
/// dates in a zone east of Jira's, or edited on a Data Center node whose clock runs ahead) is
/// written, and the edits made before that time comes are still found.
#[test]
fn an_issue_dated_hours_ahead_does_not_hide_the_edits_made_until_then() {
    let site = Site::cloud();
    let in_two_hours = chrono::Utc::now().timestamp_millis() + 2 * 3_600_000;
    edits_after_an_issue_dated_at_are_synced(&site, in_two_hours);
}

/// After a full sync, one of its issues is dated `at` (ms, ahead of Jira's clock): the next sync
/// writes that issue alone, and the one after it the edits made since: not that issue again, and
/// none of the edits hidden behind it.
fn edits_after_an_issue_dated_at_are_synced(site: &Site, at: i64) {
    let first = full_sync(site, &site.cloud_config());
    first.assert_success();
    let ahead = first.records("issues")[0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(site.sim.sim.set_issue_updated(&ahead, at));
    let ahead = ahead.as_str();

    let state = site.file("state.json", &first.last_state());
    let second = site.sync_from(&state);
    second.assert_success();
    assert_eq!(ids(&second.records("issues")), [ahead]);

    let mut touched = site.sim.sim.touch_issues(3);
    touched.retain(|id| id != ahead);
    touched.sort();
    let state = site.file("state2.json", &second.last_state());
    let third = site.sync_from(&state);
    third.assert_success();
    assert_eq!(
        ids(&third.records("issues")),
        touched,
        "the edits made since, and not the issue ahead again; state after the second run: {}",
        second.last_state()["bookmarks"]["issues"]
    );
}

/// Jira's clock behind this machine's (a server set wrong): when the search began is Jira's time,
/// not this machine's, or an issue dated ahead of Jira moves the window past the edits Jira
/// stamps next.
#[test]
fn an_issue_dated_ahead_of_a_jira_clock_behind_this_machines_hides_no_later_edit() {
    let site = Site::cloud();
    site.sim.sim.set_clock_offset_ms(-2 * 3_600_000);
    // An hour ahead of Jira's clock, an hour behind this machine's.
    let jira_in_an_hour = chrono::Utc::now().timestamp_millis() - 3_600_000;
    edits_after_an_issue_dated_at_are_synced(&site, jira_in_an_hour);
}

#[test]
fn a_stitch_catalog_with_open_issue_fields_gets_every_field() {
    let site = Site::cloud();
    let config = site.file("config.json", &site.cloud_config());
    let mut catalog = site.discover(&config);
    for stream in catalog["streams"].as_array_mut().unwrap() {
        if stream["tap_stream_id"] == "issues" {
            // The shape of Stitch's issues.json: a few typed fields, the rest open.
            stream["schema"]["properties"]["fields"] = json!({
                "type": ["null", "object"],
                "properties": {"updated": {"type": ["null", "string"], "format": "date-time"}},
                "patternProperties": {".+": {}}
            });
            stream["metadata"]
                .as_array_mut()
                .unwrap()
                .retain(|m| m["breadcrumb"].as_array().unwrap().len() <= 2);
        }
    }
    let catalog = site.file("catalog.json", &catalog);
    let run = tap(&[&"--config", &config, &"--properties", &catalog]);
    run.assert_success();
    assert_valid_singer_output(&run);
    let body = site.first_search_body();
    // `worklogs` is selected: it has the worklogs an issue would embed.
    assert_eq!(body["fields"], json!(["*all", "-worklog"]));
    assert!(
        run.records("issues")
            .iter()
            .all(|i| i["fields"]["summary"].is_string() && i["fields"].get("worklog").is_none())
    );
}

/// Stitch's tap drops from `fields` only what the catalog marks `"selected": false`, keeping the
/// fields its open schema (`patternProperties`) takes without listing them. A Stitch catalog that
/// deselects `fields.lastViewed` (a date that moves whenever someone opens the issue) still gets
/// every other field.
#[test]
fn a_stitch_catalog_deselecting_one_issue_field_keeps_the_others() {
    let site = Site::cloud();
    let config = site.file("config.json", &site.cloud_config());
    let mut catalog = site.discover(&config);
    for stream in catalog["streams"].as_array_mut().unwrap() {
        if stream["tap_stream_id"] == "issues" {
            // Stitch's issues.json types four fields and leaves the rest open.
            let date = json!({"type": ["null", "string"], "format": "date-time"});
            stream["schema"]["properties"]["fields"] = json!({
                "type": ["null", "object"],
                "properties": {"updated": date, "created": date, "lastViewed": date},
                "patternProperties": {".+": {}}
            });
            let metadata = stream["metadata"].as_array_mut().unwrap();
            metadata.retain(|m| m["breadcrumb"].as_array().unwrap().len() <= 2);
            metadata.push(json!({
                "breadcrumb": ["properties", "fields", "properties", "lastViewed"],
                "metadata": {"inclusion": "available", "selected": false}
            }));
        }
    }
    let catalog = site.file("catalog.json", &catalog);
    let run = tap(&[&"--config", &config, &"--properties", &catalog]);
    run.assert_success();
    assert_valid_singer_output(&run);
    let issues = run.records("issues");
    assert!(!issues.is_empty());
    for issue in &issues {
        let fields = &issue["fields"];
        assert!(
            fields["summary"].is_string() && fields["status"].is_object(),
            "the fields not deselected are kept: {fields}"
        );
        assert!(fields.get("lastViewed").is_none(), "{fields}");
    }
}

/// A bulk edit while a Server sync reads a busy minute: more rows leave the minute than a page
/// reads again, so `startAt` alone would jump past rows. The tap notices and reads the minute again.
#[test]
fn a_bulk_edit_inside_the_minute_being_read_does_not_skip_rows_on_server() {
    let sim_config = SimConfig {
        deployment: Deployment::Server,
        max_page_size: 20,
        ..SimConfig::default()
    };
    // 30 issues share one millisecond and are read last; learn their order from a twin site.
    let twin = Site::new(sim_config.clone());
    twin.sim.sim.touch_issues(30);
    let order: Vec<String> = ids_in_order(&one_search_sync(&twin));
    let site = Site::new(sim_config);
    let mut busy = site.sim.sim.touch_issues(30);
    busy.sort();
    let mut last_30 = order[30..].to_vec();
    last_30.sort();
    assert_eq!(last_30, busy, "the twin reads the same site");
    // The second page ends inside the busy minute; before the third, eight of its rows change.
    site.sim
        .sim
        .touch_issues_before_request("/rest/api/2/search", 2, order[30..38].to_vec());
    let run = one_search_sync(&site);
    run.assert_success();
    assert_valid_singer_output(&run);
    let mut seen = ids(&run.records("issues"));
    seen.dedup();
    assert_eq!(
        seen.len(),
        site.sim.sim.issue_count(),
        "every issue at least once"
    );
}

/// A Server site of 180 issues whose search pages hold 10 and whose search window is 50 rows.
fn crowded_server_site() -> Site {
    Site::new(SimConfig {
        deployment: Deployment::Server,
        projects: 2,
        issues_per_project: 90,
        busy_every: 0,
        max_page_size: 10,
        search_window: 50,
        // As Jira: `id > N` is refused once issue N is deleted.
        id_ranges_need_an_issue: true,
        ..SimConfig::default()
    })
}

/// Data Center refuses a search page reaching past its search window (10,000 rows; here 50), and
/// a bulk change can give more issues than that one `updated` minute: restarting at the newest
/// issue's minute keeps no offset small inside it. Every issue is written exactly once.
#[test]
fn more_issues_in_one_updated_minute_than_the_data_center_search_window_are_each_written_once() {
    let site = crowded_server_site();
    // 120 issues share one millisecond, read after the other 60.
    assert_eq!(site.sim.sim.touch_issues(120).len(), 120);
    let run = crowded_minute_sync(&site);
    run.assert_success();
    assert_valid_singer_output(&run);
    let written = ids(&run.records("issues"));
    let mut distinct = written.clone();
    distinct.dedup();
    assert_eq!(distinct.len(), site.sim.sim.issue_count(), "every issue");
    assert_eq!(written, distinct, "each once");
}

/// A minute of more issues than Data Center's search window, read by id, is still written in
/// `updated` order: the bookmark claims every issue before the newest written, and a run stopped
/// half way through the minute must not have claimed the issues of lower `updated` still unread.
/// Issues edited out of the minute while it is read are written once, in their new place.
#[test]
fn a_crowded_minute_read_by_id_is_written_in_updated_order_on_server() {
    let site = crowded_server_site();
    // 120 issues in one minute, the higher the id the earlier.
    let mut crowded = site.sim.sim.touch_issues(120);
    crowded.sort_by_key(|id| id.parse::<u64>().unwrap());
    let minute = chrono::DateTime::parse_from_rfc3339("2026-01-15T10:00:00Z").unwrap();
    for (k, id) in crowded.iter().rev().enumerate() {
        let at = minute + chrono::Duration::milliseconds(400 * k as i64);
        assert!(site.sim.sim.set_issue_updated(id, at.timestamp_millis()));
    }
    let config = site.file(
        "config.json",
        &site.config_with(json!({"page_size": 10, "max_retries": 1, "lookback_minutes": 0})),
    );
    let mut catalog = site.discover(&config);
    common::select_only(&mut catalog, &["issues"]);
    site.file("catalog.json", &catalog);
    let state = json!({"bookmarks": {"issues": {"updated": "2000-01-01T00:00:00Z"}}});
    // Three of the minute's issues, listed but not yet read, are edited out of it: the search
    // brings them after the minute, once.
    site.sim
        .sim
        .touch_issues_before_request("/rest/api/2/search", 25, crowded[..3].to_vec());
    let run = site.sync_from(&site.file("state.json", &state));
    run.assert_success();
    let written = ids(&run.records("issues"));
    let mut distinct = written.clone();
    distinct.dedup();
    assert_eq!(written, distinct, "each once");
    for edited in run
        .records("issues")
        .iter()
        .filter(|r| crowded[..3].contains(&r["id"].as_str().unwrap().to_string()))
    {
        assert!(
            edited["updated"].as_str().unwrap() > "2026-01-15T10:01",
            "{edited}"
        );
    }
    let updated: Vec<chrono::DateTime<chrono::FixedOffset>> = run
        .records("issues")
        .iter()
        .map(|r| chrono::DateTime::parse_from_rfc3339(r["updated"].as_str().unwrap()).unwrap())
        .collect();
    assert_eq!(updated.len(), site.sim.sim.issue_count());
    assert!(
        updated.windows(2).all(|w| w[0] <= w[1]),
        "written in updated order"
    );
}

/// The crowded-minute sync of the tests above: issues only, pages of 10, from an old bookmark.
fn crowded_minute_sync(site: &Site) -> common::Run {
    let config = site.file(
        "config.json",
        &site.config_with(json!({"page_size": 10, "max_retries": 1})),
    );
    let mut catalog = site.discover(&config);
    common::select_only(&mut catalog, &["issues"]);
    site.file("catalog.json", &catalog);
    let state = json!({"bookmarks": {"issues": {"updated": "2000-01-01T00:00:00Z"}}});
    site.sync_from(&site.file("state.json", &state))
}

/// Jira refuses JQL comparing `id` with an issue that does not exist. A crowded minute is listed
/// by id, each page after the last id listed: when that issue is deleted before the next page,
/// the listing goes on after the one before it. Every other issue is written once, and the
/// deleted one not at all.
#[test]
fn a_crowded_minute_listed_by_id_goes_on_when_the_last_issue_listed_is_deleted_on_server() {
    // 120 issues in one minute, the higher the id the later: the search reads the minute's first
    // ids before it lists the minute by id, and its last ones only by id.
    let crowded_site = || {
        let site = crowded_server_site();
        let mut crowded = site.sim.sim.touch_issues(120);
        crowded.sort_by_key(|id| id.parse::<u64>().unwrap());
        let minute = chrono::DateTime::parse_from_rfc3339("2026-01-15T10:00:00Z").unwrap();
        for (k, id) in crowded.iter().enumerate() {
            let at = minute + chrono::Duration::milliseconds(400 * k as i64);
            assert!(site.sim.sim.set_issue_updated(id, at.timestamp_millis()));
        }
        (site, crowded)
    };
    // A twin site tells which issue the listing's last page starts after, and when.
    let (twin, twin_crowded) = crowded_site();
    crowded_minute_sync(&twin).assert_success();
    let (before, last_listed) = common::last_page_after_an_id(&twin.sim.sim, "");
    let (site, crowded) = crowded_site();
    assert_eq!(crowded, twin_crowded, "the twin reads the same site");
    assert!(crowded.contains(&last_listed), "in the crowded minute");
    site.sim.sim.delete_issues_before_request(
        "/rest/api/2/search",
        before,
        vec![last_listed.clone()],
    );
    let run = crowded_minute_sync(&site);
    run.assert_success();
    assert_valid_singer_output(&run);
    assert!(
        common::refused(&site.sim.sim, &format!("id > {last_listed} ")),
        "Jira refused the page after the deleted issue"
    );
    // The audit log reports the deleted issue: a record of its deletion, not of the issue.
    let (gone, issues): (Vec<Value>, Vec<Value>) = run
        .records("issues")
        .into_iter()
        .partition(|r| r.get("_sdc_deleted_at").is_some());
    assert_eq!(
        ids(&gone),
        [last_listed.as_str()],
        "the deletion is reported"
    );
    let written = ids(&issues);
    let mut distinct = written.clone();
    distinct.dedup();
    assert_eq!(written, distinct, "each once");
    assert!(
        !written.contains(&last_listed),
        "the deleted issue is not written"
    );
    assert_eq!(
        distinct.len(),
        site.sim.sim.issue_count(),
        "every other issue"
    );
}

/// A Server sync from an old bookmark: one search of the whole site, not one per project.
fn one_search_sync(site: &Site) -> common::Run {
    let config = site.file("config.json", &site.server_config());
    site.file("catalog.json", &site.discover(&config));
    let state = json!({"bookmarks": {"issues": {"updated": "2000-01-01T00:00:00Z"}}});
    site.sync_from(&site.file("state.json", &state))
}

fn ids_in_order(run: &common::Run) -> Vec<String> {
    run.records("issues")
        .iter()
        .map(|i| i["id"].as_str().unwrap().to_string())
        .collect()
}

/// When Jira does not say the user's zone, every query (first and restarted) starts 14 hours
/// early, so a zone west of UTC cannot make one start late.
#[test]
fn an_unknown_user_time_zone_loses_nothing_on_server() {
    let site = Site::new(SimConfig {
        deployment: Deployment::Server,
        projects: 9,
        max_page_size: 20,
        time_zone: "America/Los_Angeles".into(),
        ..SimConfig::default()
    });
    let config = site.file("config.json", &site.server_config());
    let catalog = site.file("catalog.json", &site.discover(&config));
    site.sim.sim.push_fault(jira_sim::Fault {
        path_contains: "/myself".into(),
        status: 200,
        body: r#"{"name": "sim.admin", "key": "JIRAUSER10000", "displayName": "Sim Admin"}"#.into(),
        content_type: "application/json".into(),
        headers: vec![],
        times: 1,
    });
    let run = tap(&[&"--config", &config, &"--catalog", &catalog]);
    run.assert_success();
    assert_valid_singer_output(&run);
    assert!(
        run.stderr.contains("time zone is unknown"),
        "{}",
        run.stderr
    );
    let mut seen = ids(&run.records("issues"));
    seen.dedup();
    assert_eq!(seen.len(), site.sim.sim.issue_count());
}

/// A Server sync, one issue a minute after the bookmark through the hour from `utc_hour`:00Z of
/// two days the clocks go back in Los Angeles, reads every issue once.
fn server_sync_through_a_repeated_dst_hour_reads_every_issue_once(utc_hour: u32) {
    let site = Site::new(SimConfig {
        deployment: Deployment::Server,
        projects: 1,
        issues_per_project: 130,
        busy_every: 0,
        time_zone: "America/Los_Angeles".into(),
        ..SimConfig::default()
    });
    let config = site.file("config.json", &site.server_config());
    let mut catalog = site.discover(&config);
    common::select_only(&mut catalog, &["issues"]);
    let catalog = site.file("catalog.json", &catalog);
    let first = tap(&[&"--config", &config, &"--catalog", &catalog]);
    first.assert_success();
    let state = site.file("state.json", &first.last_state());
    let mut moved = Vec::new();
    for (at, id) in ids(&first.records("issues"))
        .into_iter()
        .take(120)
        .enumerate()
    {
        let year = if at < 60 { "2025-11-02" } else { "2026-11-01" };
        let t = chrono::DateTime::parse_from_rfc3339(&format!(
            "{year}T{utc_hour:02}:{:02}:30Z",
            at % 60
        ))
        .unwrap();
        assert!(site.sim.sim.set_issue_updated(&id, t.timestamp_millis()));
        moved.push(id);
    }
    moved.sort();
    site.file("config.json", &site.config_with(json!({"page_size": 1})));
    let run = site.sync_from(&state);
    run.assert_success();
    assert_valid_singer_output(&run);
    assert_eq!(ids(&run.records("issues")), moved);
}

/// In Los Angeles 01:00-02:00 happens twice when DST ends (08:00Z-10:00Z). Inside the first
/// pass (PDT), a Server search restarted at the newest issue's minute steps back an hour, to a
/// minute whose rows earlier pages read too: a site no one edits must be read straight through,
/// not read again from that minute at every page until the sync gives up on rows "moving".
#[test]
fn a_server_sync_through_a_repeated_dst_hour_reads_every_issue_once() {
    server_sync_through_a_repeated_dst_hour_reads_every_issue_once(8);
}

/// Inside the second pass of a repeated DST hour (PST, 09:00Z-10:00Z in Los Angeles) a Server
/// search restarted at the newest issue's minute names a local time with two meanings, and Jira
/// may read it as the first, an hour earlier: the rows the search has in front of it are then
/// not the few the tap counted, and it must not read the hour again at every page.
#[test]
fn a_server_sync_through_the_second_pass_of_a_repeated_dst_hour_reads_every_issue_once() {
    server_sync_through_a_repeated_dst_hour_reads_every_issue_once(9);
}

/// When Jira does not say the user's zone, a Server search restarted at the newest issue's
/// minute starts 14 hours earlier and counts nothing as read: it must not do so at every page,
/// or each page reads again every issue of the 14 hours before it.
#[test]
fn an_unknown_user_time_zone_does_not_read_busy_hours_again_at_every_page_on_server() {
    let site = Site::new(SimConfig {
        deployment: Deployment::Server,
        projects: 1,
        issues_per_project: 130,
        busy_every: 0,
        ..SimConfig::default()
    });
    let config = site.file("config.json", &site.server_config());
    let mut catalog = site.discover(&config);
    common::select_only(&mut catalog, &["issues"]);
    let catalog = site.file("catalog.json", &catalog);
    let first = tap(&[&"--config", &config, &"--catalog", &catalog]);
    first.assert_success();
    let state = site.file("state.json", &first.last_state());
    // An issue a minute for two hours, after the bookmark.
    let mut moved = Vec::new();
    for (at, id) in ids(&first.records("issues"))
        .into_iter()
        .take(120)
        .enumerate()
    {
        let t = chrono::DateTime::parse_from_rfc3339("2026-01-15T10:00:30Z").unwrap()
            + chrono::Duration::minutes(at as i64);
        assert!(site.sim.sim.set_issue_updated(&id, t.timestamp_millis()));
        moved.push(id);
    }
    moved.sort();
    site.sim.sim.push_fault(jira_sim::Fault {
        path_contains: "/myself".into(),
        status: 200,
        body: r#"{"name": "sim.admin", "key": "JIRAUSER10000", "displayName": "Sim Admin"}"#.into(),
        content_type: "application/json".into(),
        headers: vec![],
        times: 1,
    });
    site.file("config.json", &site.config_with(json!({"page_size": 5})));
    site.sim.sim.reset_requests();
    let run = site.sync_from(&state);
    run.assert_success();
    assert!(run.stderr.contains("time zone is unknown"));
    assert_eq!(ids(&run.records("issues")), moved);
    let searches = site.sim.sim.request_counts()["POST /rest/api/2/search"];
    // 120 issues at 5 a page, and the pages of the 14 hours before the bookmark read once more.
    assert!(searches < 80, "{searches} searches");
}

/// A users-only sync of a Server / Data Center site of `users` users that reports `version`.
fn server_users_sync(version: [u32; 3], users: usize) -> (Site, common::Run) {
    let site = Site::new(SimConfig {
        deployment: Deployment::Server,
        server_version: version,
        users,
        ..SimConfig::default()
    });
    let config = site.file("config.json", &site.server_config());
    let mut catalog = site.discover(&config);
    common::select_only(&mut catalog, &["users"]);
    let catalog = site.file("catalog.json", &catalog);
    let run = tap(&[&"--config", &config, &"--catalog", &catalog]);
    (site, run)
}

/// Whether the `users` pass was activated after its records (the first sync's opening
/// ACTIVATE_VERSION only creates the table).
fn users_activated(run: &common::Run) -> bool {
    let messages = run.messages();
    let is_user = |m: &Value| m["type"] == "RECORD" && m["stream"] == "users";
    let first_user = messages.iter().position(is_user).unwrap_or(messages.len());
    messages[first_user..]
        .iter()
        .any(|m| m["type"] == "ACTIVATE_VERSION" && m["stream"] == "users")
}

/// Data Center 10 lists at most 100 users through `/user/search`, but 10.3 and 11 list every
/// user through `/user/list`, paged by a cursor: a site of 250 users has all of them read, each
/// once, and the pass activated.
#[test]
fn data_center_10_3_lists_every_user_past_the_user_search_cap() {
    let (site, run) = server_users_sync([10, 3, 0], 250);
    run.assert_success();
    assert_valid_singer_output(&run);
    let users = run.records("users");
    let mut keys: Vec<&str> = users.iter().filter_map(|u| u["key"].as_str()).collect();
    keys.sort_unstable();
    keys.dedup();
    assert_eq!(users.len(), site.sim.sim.user_count(), "{}", run.stderr);
    assert_eq!(keys.len(), users.len(), "each user once");
    assert!(
        users_activated(&run),
        "every user read, yet the pass is not activated"
    );
    assert!(!run.stderr.contains("WARN"), "{}", run.stderr);
}

/// Before 10.3 Data Center has no `/user/list` (404), and `/user/search` stops at 100 users
/// (Data Center 10.0 to 10.2). Searched by username prefix, `a`, `b`, … and a prefix that
/// reaches the cap once more letter by letter, a site of 250 users has all of them read, each
/// once (a user matches several prefixes: by name, email and display name), and the pass
/// activated.
#[test]
fn data_center_before_10_3_reads_every_user_past_the_user_search_cap_by_prefix() {
    let (site, run) = server_users_sync([10, 0, 0], 250);
    run.assert_success();
    assert_valid_singer_output(&run);
    let users = run.records("users");
    let mut keys: Vec<&str> = users.iter().filter_map(|u| u["key"].as_str()).collect();
    keys.sort_unstable();
    keys.dedup();
    assert_eq!(users.len(), site.sim.sim.user_count(), "{}", run.stderr);
    assert_eq!(keys.len(), users.len(), "each user once");
    assert!(
        users_activated(&run),
        "every user read, yet the pass is not activated"
    );
    assert!(!run.stderr.contains("WARN"), "{}", run.stderr);
    // Said at info, and no more than needed: `.` (everyone), 36 first characters, and 40 more
    // for each prefix that reaches the cap: with everyone at example.com, `e` to `example` and
    // `c` to `com` do (Jira matches each word of an email).
    let searches: u64 = run
        .stderr
        .split("users read through ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no count of the searches:\n{}", run.stderr));
    assert!(searches < 500, "{searches} searches");
    let requests = site.sim.sim.request_counts()["GET /rest/api/2/user/search"];
    assert!(requests < 2 * searches, "{requests} requests");
}
