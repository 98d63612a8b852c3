//! Crash and resume: a concurrent sync of every incremental stream (the issues and every child of
//! them, the worklogs, the audit log) is killed (SIGKILL) at many points, and the site edited
//! before each rerun, which starts from the last complete STATE the killed run printed, until a
//! run finishes. Every record of an uninterrupted sync afterwards, at its version, must be among
//! what the killed runs printed, and every deletion of a record they printed reported: a kill
//! may repeat records, never lose one.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{Site, tap};
use jira_sim::SimConfig;
use serde_json::{Value, json};
use tap_jira::streams::{STREAMS, StreamDef};

/// Every stream the table marks incremental (its own bookmark, or its parent's).
fn selected(name: &str) -> bool {
    StreamDef::find(name).is_some_and(|def| def.replication.method() == "INCREMENTAL")
}

/// Each record printed, as `(stream, key, version)`: the version is the stream's replication key
/// (`updated`, `created`) where it has one, so an edited record counts only at its new version.
/// Deletions (`_sdc_deleted_at`) are left out: they have no version of a live record.
fn record_versions(lines: &[Value], keys: &mut BTreeMap<String, Vec<String>>) -> Versions {
    let mut out = Versions::new();
    for message in lines {
        let stream = message["stream"].as_str().unwrap_or_default().to_string();
        match message["type"].as_str() {
            Some("SCHEMA") => {
                let declared = message["key_properties"].as_array().unwrap();
                let names = declared.iter().map(|k| k.as_str().unwrap().to_string());
                keys.insert(stream, names.collect());
            }
            Some("RECORD") if message["record"]["_sdc_deleted_at"].is_string() => {}
            Some("RECORD") => {
                let record = &message["record"];
                let key: Vec<String> = keys[&stream]
                    .iter()
                    .map(|k| record[k].to_string())
                    .collect();
                let version = StreamDef::find(&stream)
                    .and_then(|def| def.replication.key())
                    .map_or(String::new(), |at| record[at].to_string());
                out.insert((stream, key.join("|"), version));
            }
            _ => {}
        }
    }
    out
}

type Versions = BTreeSet<(String, String, String)>;

/// The ids of the deletions printed for `stream`.
fn deletions(lines: &[Value], stream: &str) -> BTreeSet<String> {
    lines
        .iter()
        .filter(|m| m["type"] == "RECORD" && m["stream"] == stream)
        .filter(|m| m["record"]["_sdc_deleted_at"].is_string())
        .map(|m| m["record"]["id"].to_string())
        .collect()
}

/// Runs the tap from `state` for at most `for_ms`, then kills it. The complete lines it printed
/// (a line cut by the kill is left out, as a target would never see it whole) and whether it
/// finished by itself.
fn run_killed(site: &Site, state: Option<&Value>, for_ms: u64) -> (Vec<Value>, bool) {
    let config = site.dir.path().join("config.json");
    let catalog = site.dir.path().join("catalog.json");
    let mut command = Command::new(common::tap_binary());
    command
        .arg("--config")
        .arg(&config)
        .arg("--catalog")
        .arg(&catalog);
    if let Some(state) = state {
        command.arg("--state").arg(site.file("state.json", state));
    }
    let mut child = command
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the tap starts");
    let mut stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut text = Vec::new();
        let _ = stdout.read_to_end(&mut text);
        text
    });
    let started = Instant::now();
    let finished = loop {
        if let Some(status) = child.try_wait().unwrap() {
            assert!(status.success(), "a run failed by itself: {status}");
            break true;
        }
        if started.elapsed() >= Duration::from_millis(for_ms) {
            child.kill().unwrap();
            child.wait().unwrap();
            break false;
        }
        std::thread::sleep(Duration::from_millis(2));
    };
    let text = reader.join().unwrap();
    let text = String::from_utf8_lossy(&text);
    let complete = match text.rfind('\n') {
        Some(end) => &text[..end],
        None => "",
    };
    let lines = complete
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}")))
        .collect();
    (lines, finished)
}

#[test]
fn a_sync_killed_at_many_points_and_resumed_each_time_loses_no_record() {
    // An administrator, for the audit log (a stream, and where issue deletions are read).
    let site = Site::new(SimConfig {
        issues_per_project: 30,
        latency_ms: 3,
        admin: true,
        ..SimConfig::default()
    });
    site.sim.sim.set_worklog_settling_ms(0);
    site.file("config.json", &site.config_with(json!({})));
    let mut catalog = site.discover(&site.dir.path().join("config.json"));
    for stream in catalog["streams"].as_array_mut().unwrap() {
        let name = stream["stream"].as_str().unwrap().to_string();
        for m in stream["metadata"].as_array_mut().unwrap() {
            if m["breadcrumb"] == json!([]) {
                m["metadata"]["selected"] = json!(selected(&name));
            }
        }
    }
    let catalog_path = site.file("catalog.json", &catalog);
    let config_path = site.dir.path().join("config.json");
    let incremental = STREAMS.iter().filter(|def| selected(def.name)).count();

    // Kill points spread over each run, from its first requests to late in it; seeded, so a
    // failure can be replayed.
    let mut seed: u64 = 0x5eed_cafe;
    let mut next = move |below: u64| {
        seed = seed
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (seed >> 33) % below
    };
    let mut lines = Vec::new();
    let mut state: Option<Value> = None;
    let mut kills = 0;
    for attempt in 0.. {
        assert!(attempt < 100, "only {kills} of {attempt} runs were killed");
        // Killed twelve times, then run to its end.
        let window = if kills < 12 {
            // How long the run takes from here (a whole run, its output thrown away: reading
            // leaves the site as it was), so that the kill falls within it however fast the
            // build and the machine are: a resumed run is far shorter than the first.
            let started = Instant::now();
            run_killed(&site, state.as_ref(), u64::MAX);
            let run_ms = started.elapsed().as_millis() as u64;
            run_ms * (5 + next(75)) / 100
        } else {
            u64::MAX
        };
        let (printed, done) = run_killed(&site, state.as_ref(), window);
        if let Some(last) = printed.iter().rev().find(|m| m["type"] == "STATE") {
            state = Some(last["value"].clone());
        }
        lines.extend(printed);
        if window == u64::MAX {
            break;
        }
        // A run that ended before its kill point is a resumption point all the same.
        if done {
            continue;
        }
        kills += 1;
        // Someone edits the site before the rerun: an issue changes (a new changelog entry), a
        // new one appears, an issue goes (with its worklogs, and an audit record), or a worklog.
        let sim = &site.sim.sim;
        match next(4) {
            0 => drop(sim.touch_issues(2)),
            1 => drop(sim.add_issues("WEB", 1)),
            2 => drop(sim.delete_issues(1)),
            _ => drop(sim.delete_worklogs(2)),
        }
        std::thread::sleep(Duration::from_millis(2));
    }

    // What an uninterrupted sync reads from the site as the edits left it.
    let whole = tap(&[&"--config", &config_path, &"--catalog", &catalog_path]);
    whole.assert_success();
    let expected = record_versions(whole.messages(), &mut BTreeMap::new());
    let streams: BTreeSet<&str> = expected.iter().map(|(s, _, _)| s.as_str()).collect();
    assert_eq!(
        streams.len(),
        incremental,
        "every incremental stream has records to lose: {streams:?}"
    );
    let printed = record_versions(&lines, &mut BTreeMap::new());
    let lost: Vec<_> = expected.difference(&printed).take(10).collect();
    assert!(
        lost.is_empty(),
        "after {kills} kills and edits, records (stream, key, version) never printed: {lost:?}"
    );

    // Every issue and worklog the killed runs printed and that went since is reported gone.
    let written = |stream: &str| -> BTreeSet<String> {
        printed
            .iter()
            .filter(|(s, _, _)| s == stream)
            .map(|(_, key, _)| key.clone())
            .collect()
    };
    let gone_issues: BTreeSet<String> = site
        .sim
        .sim
        .deleted_issues()
        .iter()
        .map(|d| json!(d.id).to_string())
        .collect();
    let gone_worklogs: BTreeSet<String> = site
        .sim
        .sim
        .deleted_worklogs()
        .iter()
        .map(|d| json!(d.worklog_id.to_string()).to_string())
        .collect();
    for (stream, gone) in [("issues", gone_issues), ("worklogs", gone_worklogs)] {
        assert!(!gone.is_empty(), "the edits deleted {stream}");
        let reported = deletions(&lines, stream);
        let written = written(stream);
        let unreported: Vec<_> = gone
            .intersection(&written)
            .filter(|id| !reported.contains(*id))
            .collect();
        assert!(
            unreported.is_empty(),
            "{stream} printed by killed runs, then deleted, never reported deleted: {unreported:?}"
        );
    }
}

/// A first sync reads its partitions one after another; an issue edited after its partition was
/// read is behind the folded bookmark's `updated` but not in its `seen`, so the next run reads it
/// from the folded `window_start`. That next run, killed after its first STATE, must not have
/// claimed those edits written: the run after it still writes them.
#[test]
fn a_run_after_a_partitioned_sync_killed_early_loses_no_edit_made_during_the_partitions() {
    let site = Site::new(SimConfig {
        issues_per_project: 5,
        max_page_size: 1,
        latency_ms: 5,
        ..SimConfig::default()
    });
    let config = site.file(
        "config.json",
        &site.config_with(json!({"lookback_minutes": 0})),
    );
    let mut catalog = site.discover(&config);
    common::select_only(&mut catalog, &["issues"]);
    let catalog = site.file("catalog.json", &catalog);
    // An issue edited while the first sync runs, read at its new version by its partition.
    let edited = site.sim.sim.touch_issues(1);
    site.sim
        .sim
        .touch_issues_before_request("/search/jql", 0, edited.clone());
    let first = tap(&[&"--config", &config, &"--catalog", &catalog]);
    first.assert_success();
    let bookmark = first.last_state()["bookmarks"]["issues"].clone();
    let ms = |key: &str| {
        chrono::DateTime::parse_from_rfc3339(bookmark[key].as_str().unwrap())
            .unwrap()
            .timestamp_millis()
    };
    let (window_start, updated) = (ms("window_start"), ms("updated"));
    assert!(
        updated - window_start >= 3,
        "the fold re-reads from the run's start: {bookmark}"
    );
    // Two more edits made during the first sync, after their partitions had been read: the
    // first run did not write them.
    let others: Vec<String> = common::ids(&first.records("issues"))
        .into_iter()
        .filter(|id| !edited.contains(id))
        .take(2)
        .collect();
    let (early, late) = (others[0].clone(), others[1].clone());
    let gap = updated - window_start;
    assert!(
        site.sim
            .sim
            .set_issue_updated(&early, window_start + gap / 3)
    );
    assert!(
        site.sim
            .sim
            .set_issue_updated(&late, window_start + 2 * gap / 3)
    );

    // The next run, killed just after the STATE that follows the first of them.
    let state = site.file("state.json", &first.last_state());
    let second = tap(&[
        &"--config",
        &config,
        &"--catalog",
        &catalog,
        &"--state",
        &state,
    ]);
    second.assert_success();
    let messages = second.messages();
    let is_record_of = |m: &Value, id: &str| {
        m["type"] == "RECORD" && m["stream"] == "issues" && m["record"]["id"] == id
    };
    let early_at = messages
        .iter()
        .position(|m| is_record_of(m, &early))
        .expect("the second run writes the first edit");
    let cut = early_at
        + messages[early_at..]
            .iter()
            .position(|m| m["type"] == "STATE")
            .unwrap();
    assert!(
        !messages[..cut].iter().any(|m| is_record_of(m, &late)),
        "the kill comes before the second edit is written"
    );
    let state = site.file("state.json", &messages[cut]["value"]);
    let third = tap(&[
        &"--config",
        &config,
        &"--catalog",
        &catalog,
        &"--state",
        &state,
    ]);
    third.assert_success();
    assert!(
        third
            .records("issues")
            .iter()
            .any(|i| i["id"] == late.as_str()),
        "an edit made during the first sync was never written; the killed run's STATE was {}",
        messages[cut]["value"]["bookmarks"]["issues"]
    );
}

/// A first sync stopped after some issues were written, then resumed from its last STATE (the
/// first that covers issues, or with `before_its_first_state` the one before the first issue): an
/// issue it wrote and that was deleted in between is reported deleted by the resumed run, in
/// each mode that follows deletions.
fn deletion_between_a_stopped_first_sync_and_its_resumption_is_reported(
    mode: &str,
    before_its_first_state: bool,
) {
    let site = Site::new(SimConfig {
        admin: mode == "audit",
        ..SimConfig::default()
    });
    let config = site.file(
        "config.json",
        &site.config_with(json!({"deleted_issues": mode})),
    );
    let mut catalog = site.discover(&config);
    common::select_only(&mut catalog, &["issues"]);
    site.file("catalog.json", &catalog);
    let whole = tap(&[
        &"--config",
        &config,
        &"--catalog",
        &site.dir.path().join("catalog.json"),
    ]);
    whole.assert_success();
    // The first STATE after the first issue: where a run killed just after it resumes.
    let messages = whole.messages();
    let first = messages
        .iter()
        .position(|m| m["type"] == "RECORD" && m["stream"] == "issues")
        .expect("issues are written");
    let at = first
        + messages[first..]
            .iter()
            .position(|m| m["type"] == "STATE")
            .expect("a STATE covers issues");
    let written: Vec<String> = messages[..at]
        .iter()
        .filter(|m| m["type"] == "RECORD" && m["stream"] == "issues")
        .map(|m| m["record"]["id"].as_str().unwrap().to_string())
        .collect();
    let stopped_at = if before_its_first_state {
        messages[..first]
            .iter()
            .rev()
            .find(|m| m["type"] == "STATE")
            .expect("a STATE comes before the first issue")["value"]
            .clone()
    } else {
        messages[at]["value"].clone()
    };

    let gone = site
        .sim
        .sim
        .delete_issue(&written[0])
        .expect("the issue is deleted");
    std::thread::sleep(Duration::from_millis(5));
    let resumed = site.sync_from(&site.file("state.json", &stopped_at));
    resumed.assert_success();
    let reported: Vec<Value> = resumed
        .records("issues")
        .into_iter()
        .filter(|r| r["id"] == json!(gone.id) && r["_sdc_deleted_at"].is_string())
        .collect();
    assert_eq!(
        reported.len(),
        1,
        "{mode}: issue {} was written by the stopped run, then deleted; its deletion is never \
         reported. Resumed from {stopped_at}",
        gone.id
    );
}

#[test]
fn an_issue_deleted_while_a_first_sync_was_stopped_is_reported_from_the_audit_log() {
    for before_its_first_state in [false, true] {
        deletion_between_a_stopped_first_sync_and_its_resumption_is_reported(
            "audit",
            before_its_first_state,
        );
    }
}

#[test]
fn an_issue_deleted_while_a_first_sync_was_stopped_is_reported_by_reconciling() {
    for before_its_first_state in [false, true] {
        deletion_between_a_stopped_first_sync_and_its_resumption_is_reported(
            "reconcile",
            before_its_first_state,
        );
    }
}

/// A first sync of `worklogs` stopped after it wrote some worklogs but before the STATE that
/// covers them, then resumed from the STATE before them: a worklog it wrote and that was deleted
/// in between is reported deleted by the resumed run.
#[test]
fn a_worklog_deleted_while_a_first_sync_was_stopped_before_its_first_state_is_reported() {
    let site = Site::new(SimConfig {
        worklog_page_size: 5,
        ..SimConfig::default()
    });
    site.sim.sim.set_worklog_settling_ms(0);
    let config = site.file("config.json", &site.config_with(json!({})));
    let mut catalog = site.discover(&config);
    common::select_only(&mut catalog, &["worklogs"]);
    site.file("catalog.json", &catalog);
    let whole = tap(&[
        &"--config",
        &config,
        &"--catalog",
        &site.dir.path().join("catalog.json"),
    ]);
    whole.assert_success();
    // A run killed after the first worklogs were printed, before the STATE that follows them,
    // resumes from the last STATE before them.
    let messages = whole.messages();
    let first = messages
        .iter()
        .position(|m| m["type"] == "RECORD" && m["stream"] == "worklogs")
        .expect("worklogs are written");
    let stopped_at = messages[..first]
        .iter()
        .rev()
        .find(|m| m["type"] == "STATE")
        .expect("a STATE comes before the first worklog")["value"]
        .clone();
    let written = &messages[first]["record"];
    let gone = site
        .sim
        .sim
        .delete_issue(written["issueId"].as_str().unwrap())
        .expect("the worklog's issue is deleted");
    std::thread::sleep(Duration::from_millis(5));
    let resumed = site.sync_from(&site.file("state.json", &stopped_at));
    resumed.assert_success();
    let reported = resumed
        .records("worklogs")
        .into_iter()
        .filter(|w| w["id"] == written["id"] && w["_sdc_deleted_at"].is_string())
        .count();
    assert_eq!(
        reported, 1,
        "worklog {} (of issue {}) was written after the STATE the run resumed from, by a run \
         stopped before its next, then deleted; its deletion is never reported. Resumed from \
         {stopped_at}",
        written["id"], gone.id
    );
}

/// A user switching from Stitch's tap, whose state has a `worklogs` bookmark but no deletions'
/// (Stitch's tap reports none): a worklog deleted after Stitch's last run is reported by the
/// first run from that state, not lost because deletions started with that run.
#[test]
fn a_worklog_deleted_after_stitchs_last_run_is_reported_by_the_first_run_from_its_state() {
    worklog_deleted_after_stitchs_last_run_is_reported(json!({}));
}

/// The same when the sync is narrowed at the same time (a filter Stitch's tap did not have):
/// the filters differ from the state's, so `worklogs` starts over, but Stitch's bookmark read
/// every change up to its `updated`, whatever the filters.
#[test]
fn a_worklog_deleted_after_stitchs_last_run_is_reported_when_filters_are_added() {
    worklog_deleted_after_stitchs_last_run_is_reported(
        json!({"created_after": "2000-01-01T00:00:00Z"}),
    );
}

fn worklog_deleted_after_stitchs_last_run_is_reported(filters: Value) {
    let site = Site::new(SimConfig::default());
    site.sim.sim.set_worklog_settling_ms(0);
    let config = site.file("config.json", &site.config_with(filters));
    let mut catalog = site.discover(&config);
    common::select_only(&mut catalog, &["worklogs"]);
    site.file("catalog.json", &catalog);
    let whole = tap(&[
        &"--config",
        &config,
        &"--catalog",
        &site.dir.path().join("catalog.json"),
    ]);
    whole.assert_success();
    let written = whole.records("worklogs")[0].clone();
    // Stitch's last run read every change up to now.
    std::thread::sleep(Duration::from_millis(5));
    let stitch_ran = chrono::Utc::now().format("%Y-%m-%dT%H:%M:%S%.6f+00:00");
    let stitch_state = json!({"currently_syncing": null,
        "bookmarks": {"worklogs": {"updated": stitch_ran.to_string()}}});
    std::thread::sleep(Duration::from_millis(5));
    site.sim
        .sim
        .delete_issue(written["issueId"].as_str().unwrap())
        .expect("the worklog's issue is deleted");
    std::thread::sleep(Duration::from_millis(5));
    let switched = site.sync_from(&site.file("state.json", &stitch_state));
    switched.assert_success();
    let reported = switched
        .records("worklogs")
        .into_iter()
        .filter(|w| w["id"] == written["id"] && w["_sdc_deleted_at"].is_string())
        .count();
    assert_eq!(
        reported, 1,
        "worklog {} was deleted after Stitch's last run ({stitch_ran}); its deletion is never \
         reported",
        written["id"]
    );
}

/// The same for issues: with `deleted_issues: audit`, the first run from Stitch's state reports
/// an issue deleted after Stitch's last run.
#[test]
fn an_issue_deleted_after_stitchs_last_run_is_reported_by_the_first_run_from_its_state() {
    issue_deleted_after_stitchs_last_run_is_reported(json!({"deleted_issues": "audit"}));
}

/// And with a filter added at once.
#[test]
fn an_issue_deleted_after_stitchs_last_run_is_reported_when_filters_are_added() {
    issue_deleted_after_stitchs_last_run_is_reported(
        json!({"deleted_issues": "audit", "created_after": "2000-01-01T00:00:00Z"}),
    );
}

fn issue_deleted_after_stitchs_last_run_is_reported(settings: Value) {
    let site = Site::new(SimConfig {
        admin: true,
        ..SimConfig::default()
    });
    let config = site.file("config.json", &site.config_with(settings));
    let mut catalog = site.discover(&config);
    common::select_only(&mut catalog, &["issues"]);
    site.file("catalog.json", &catalog);
    let whole = tap(&[
        &"--config",
        &config,
        &"--catalog",
        &site.dir.path().join("catalog.json"),
    ]);
    whole.assert_success();
    let written = whole.records("issues")[0]["id"].clone();
    std::thread::sleep(Duration::from_millis(5));
    let stitch_ran = chrono::Utc::now().format("%Y-%m-%dT%H:%M:%S%.6f+00:00");
    let stitch_state = json!({"currently_syncing": null, "bookmarks": {"issues":
        {"updated": stitch_ran.to_string(), "offset": {"page_num": null}}}});
    std::thread::sleep(Duration::from_millis(5));
    site.sim
        .sim
        .delete_issue(written.as_str().unwrap())
        .expect("the issue is deleted");
    std::thread::sleep(Duration::from_millis(5));
    let switched = site.sync_from(&site.file("state.json", &stitch_state));
    switched.assert_success();
    let reported = switched
        .records("issues")
        .into_iter()
        .filter(|i| i["id"] == written && i["_sdc_deleted_at"].is_string())
        .count();
    assert_eq!(
        reported, 1,
        "issue {written} was deleted after Stitch's last run ({stitch_ran}); its deletion is \
         never reported"
    );
}

/// An incremental run with `deleted_issues: reconcile` that wrote a new issue (created since the
/// last run listed the ids) and was stopped after the STATE covering it, before its last STATE:
/// the issue, deleted before the run that resumes from there, is reported deleted by that run.
#[test]
fn an_issue_created_written_by_a_stopped_run_and_then_deleted_is_reported_by_reconciling() {
    let site = Site::new(SimConfig::default());
    let config = site.file(
        "config.json",
        &site.config_with(json!({"deleted_issues": "reconcile"})),
    );
    let mut catalog = site.discover(&config);
    common::select_only(&mut catalog, &["issues"]);
    site.file("catalog.json", &catalog);
    let first = tap(&[
        &"--config",
        &config,
        &"--catalog",
        &site.dir.path().join("catalog.json"),
    ]);
    first.assert_success();
    let issues = first.records("issues");
    let key = issues[0]["key"].as_str().expect("an issue key");
    let project = key.split('-').next().expect("a project key");
    let created = site.sim.sim.add_issues(project, 1).remove(0);
    std::thread::sleep(Duration::from_millis(5));

    // The next run writes the new issue; it is stopped just after the STATE that covers it.
    let second = site.sync_from(&site.file("state.json", &first.last_state()));
    second.assert_success();
    let messages = second.messages();
    let written = messages
        .iter()
        .position(|m| {
            m["type"] == "RECORD" && m["stream"] == "issues" && m["record"]["id"] == created
        })
        .expect("the second run writes the new issue");
    let cut = written
        + messages[written..]
            .iter()
            .position(|m| m["type"] == "STATE")
            .expect("a STATE covers the new issue");
    let stopped_at = messages[cut]["value"].clone();
    assert_ne!(
        stopped_at,
        second.last_state(),
        "the run is stopped before its last STATE"
    );

    let gone = site
        .sim
        .sim
        .delete_issue(&created)
        .expect("the new issue is deleted");
    std::thread::sleep(Duration::from_millis(5));
    let resumed = site.sync_from(&site.file("state.json", &stopped_at));
    resumed.assert_success();
    let reported = resumed
        .records("issues")
        .into_iter()
        .filter(|r| r["id"] == json!(gone.id) && r["_sdc_deleted_at"].is_string())
        .count();
    assert_eq!(
        reported, 1,
        "issue {} was created, written by a run stopped after the STATE covering it, then \
         deleted; its deletion is never reported. Resumed from {stopped_at}",
        gone.id
    );
}

/// A sync of a child stream alone reads the issues without writing them, and moves the issues
/// bookmark. `issues` selected later must still get every issue, not only those updated since.
#[test]
fn issues_selected_after_runs_of_their_children_alone_are_all_written() {
    let site = Site::new(SimConfig {
        issues_per_project: 20,
        ..SimConfig::default()
    });
    let config = site.file("config.json", &site.config_with(json!({})));
    let discovered = site.discover(&config);
    let mut children = discovered.clone();
    common::select_only(&mut children, &["issue_comments"]);
    site.file("catalog.json", &children);
    let first = site.sync_from(&site.file("state.json", &json!({})));
    first.assert_success();
    assert!(first.records("issues").is_empty());
    assert!(!first.records("issue_comments").is_empty());

    let mut both = discovered;
    common::select_only(&mut both, &["issues", "issue_comments"]);
    site.file("catalog.json", &both);
    let second = site.sync_from(&site.file("state.json", &first.last_state()));
    second.assert_success();
    assert_eq!(
        common::ids(&second.records("issues")).len(),
        site.sim.sim.issue_count(),
        "issues newly selected are all written"
    );
    // The run that wrote them leaves a bookmark that says so: the next reads only what changed.
    let third = site.sync_from(&site.file("state.json", &second.last_state()));
    third.assert_success();
    assert!(
        third.records("issues").len() < site.sim.sim.issue_count(),
        "{} issues written again",
        third.records("issues").len()
    );
}

/// Meltano's state backends (a local directory, S3, GCS, Azure) keep a state as
/// `{"completed": {"singer_state": …}, "partial": …}`. Such a file passed with `--state` (Meltano's
/// `state` extra copies it as it is) must resume from its bookmarks, as Meltano itself would,
/// not be taken for an empty state and read the whole site again.
#[test]
fn a_state_from_meltanos_state_backend_resumes_from_its_bookmarks() {
    let site = Site::new(SimConfig {
        issues_per_project: 20,
        ..SimConfig::default()
    });
    let config = site.file("config.json", &site.config_with(json!({})));
    let mut catalog = site.discover(&config);
    common::select_only(&mut catalog, &["issues"]);
    site.file("catalog.json", &catalog);
    let first = site.sync_from(&site.file("state.json", &json!({})));
    first.assert_success();
    let saved = first.last_state();
    let stored = json!({"completed": {"singer_state": saved}, "partial": {}});
    let again = site.sync_from(&site.file("state.json", &stored));
    again.assert_success();
    assert!(
        again.records("issues").len() < site.sim.sim.issue_count(),
        "{} issues written again from Meltano's stored state",
        again.records("issues").len()
    );
    assert_eq!(
        again.last_state()["bookmarks"]["issues"]["updated"],
        saved["bookmarks"]["issues"]["updated"]
    );
}
