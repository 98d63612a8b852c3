//! The demo's Singer target and report (`examples/demo/`, included here as they are): the target
//! keeps Singer's rules (upsert by key, `_sdc_deleted_at`, ACTIVATE_VERSION, one transaction a
//! run), and the tables the demo prints, loaded from a full and an incremental sync of the
//! simulator, say what the records say.

mod common;

#[path = "../examples/demo/report.rs"]
mod report;
#[path = "../examples/demo/sqlite.rs"]
mod sqlite;

use std::collections::{BTreeMap, HashMap};

use chrono::DateTime;
use common::{Run, Site};
use jira_sim::SimConfig;
use report::Table;
use rusqlite::Connection;
use rusqlite::types::Value as SqlValue;
use serde_json::{Value, json};
use sqlite::SqliteTarget;

fn lines(messages: &[Value]) -> String {
    messages.iter().map(|m| format!("{m}\n")).collect()
}

fn schema(stream: &str, properties: Value, keys: &[&str]) -> Value {
    json!({"type": "SCHEMA", "stream": stream, "key_properties": keys,
           "schema": {"type": "object", "properties": properties}})
}

fn record(stream: &str, record: Value, version: Option<i64>) -> Value {
    let mut message = json!({"type": "RECORD", "stream": stream, "record": record});
    if let Some(version) = version {
        message["version"] = json!(version);
    }
    message
}

fn activate(stream: &str, version: i64) -> Value {
    json!({"type": "ACTIVATE_VERSION", "stream": stream, "version": version})
}

fn rows(db: &Connection, sql: &str) -> Vec<Vec<SqlValue>> {
    let mut statement = db.prepare(sql).unwrap();
    let width = statement.column_count();
    statement
        .query_map([], |row| (0..width).map(|i| row.get(i)).collect())
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

fn text(value: &str) -> SqlValue {
    SqlValue::Text(value.to_string())
}

#[test]
fn the_target_upserts_by_key_deletes_and_activates_versions() {
    let mut target = SqliteTarget::new(Connection::open_in_memory().unwrap());
    let full_props = json!({"id": {"type": "string"}, "n": {"type": ["null", "integer"]},
                            "tags": {"type": ["null", "array"]}});
    let first = target
        .load(
            lines(&[
                activate("boards", 1),
                schema("boards", full_props.clone(), &["id"]),
                record("boards", json!({"id": "a", "n": 1, "tags": ["x"]}), Some(1)),
                record("boards", json!({"id": "b", "n": 2}), Some(1)),
                record("boards", json!({"id": "c", "n": 3}), Some(1)),
                activate("boards", 1),
                schema("issues", json!({"id": {"type": "string"}, "_sdc_deleted_at": {"type": ["null", "string"]},
                                        "fields": {"type": "object"}}), &["id"]),
                record("issues", json!({"id": "1", "fields": {"status": {"name": "To Do"}}}), None),
                record("issues", json!({"id": "2", "fields": {"status": {"name": "Done"}}}), None),
                json!({"type": "STATE", "value": {"run": 1}}),
            ])
            .as_bytes(),
        )
        .unwrap();
    assert_eq!(
        first.records,
        BTreeMap::from([("boards".into(), 3), ("issues".into(), 2)])
    );
    assert_eq!(first.state, Some(json!({"run": 1})));

    // The second run: a new full-table pass without `c`, with a new column; an issue changed,
    // one deleted.
    let mut props = full_props;
    props["name"] = json!({"type": ["null", "string"]});
    let second = target
        .load(
            lines(&[
                schema("boards", props, &["id"]),
                record("boards", json!({"id": "a", "n": 10, "name": "A"}), Some(2)),
                record("boards", json!({"id": "b", "n": 20}), Some(2)),
                activate("boards", 2),
                record(
                    "issues",
                    json!({"id": "1", "fields": {"status": {"name": "Done"}}}),
                    None,
                ),
                record(
                    "issues",
                    json!({"id": "2", "_sdc_deleted_at": "2024-05-01T00:00:00Z"}),
                    None,
                ),
                json!({"type": "STATE", "value": {"run": 2}}),
            ])
            .as_bytes(),
        )
        .unwrap();
    assert_eq!(second.deleted, BTreeMap::from([("issues".into(), 1)]));
    assert_eq!(second.state, Some(json!({"run": 2})));
    let db = target.db();
    assert_eq!(
        rows(
            db,
            "SELECT id, n, name, tags ->> '$[0]' FROM boards ORDER BY id"
        ),
        [
            vec![text("a"), SqlValue::Integer(10), text("A"), SqlValue::Null],
            vec![
                text("b"),
                SqlValue::Integer(20),
                SqlValue::Null,
                SqlValue::Null
            ],
        ],
        "the second pass replaced the first, and `c`, not in it, went"
    );
    assert_eq!(
        rows(db, "SELECT id, fields ->> '$.status.name' FROM issues"),
        [vec![text("1"), text("Done")]],
        "issue 1 replaced, issue 2 deleted"
    );

    // A run that breaks off leaves nothing of itself.
    let broken = format!(
        "{}not json\n",
        lines(&[record("issues", json!({"id": "3", "fields": {}}), None)])
    );
    assert!(target.load(broken.as_bytes()).is_err());
    assert_eq!(
        rows(target.db(), "SELECT id FROM issues"),
        [vec![text("1")]]
    );
}

/// The latest record of each key across runs, without those deleted.
fn latest(runs: &[&Run], stream: &str, key: impl Fn(&Value) -> String) -> Vec<Value> {
    let mut rows: BTreeMap<String, Value> = BTreeMap::new();
    for run in runs {
        for record in run.records(stream) {
            if record["_sdc_deleted_at"].is_string() {
                rows.remove(&key(&record));
            } else {
                rows.insert(key(&record), record);
            }
        }
    }
    rows.into_values().collect()
}

/// A report table's rows by its first column, each a map from column name to value.
fn by_first_column(table: &Table) -> BTreeMap<String, HashMap<String, SqlValue>> {
    table
        .rows
        .iter()
        .map(|row| {
            let SqlValue::Text(first) = &row[0] else {
                panic!("{}: the first column is text: {row:?}", table.title)
            };
            let cells = table.columns.iter().cloned().zip(row.iter().cloned());
            (first.clone(), cells.collect())
        })
        .collect()
}

fn real(value: &SqlValue) -> f64 {
    match value {
        SqlValue::Integer(i) => *i as f64,
        SqlValue::Real(x) => *x,
        other => panic!("not a number: {other:?}"),
    }
}

fn days_between(from: &Value, to: &Value) -> f64 {
    let at = |v: &Value| DateTime::parse_from_rfc3339(v.as_str().unwrap()).unwrap();
    (at(to) - at(from)).num_milliseconds() as f64 / 86_400_000.0
}

#[test]
fn the_demo_tables_say_what_the_synced_records_say() {
    let site = Site::new(SimConfig {
        projects: 3,
        issues_per_project: 40,
        users: 6,
        ..SimConfig::default()
    });
    site.sim.sim.set_worklog_settling_ms(0);
    let config = site.file("config.json", &site.cloud_config());
    let mut catalog = site.discover(&config);
    let streams = ["issues", "worklogs", "issue_field_history"];
    common::select_only(&mut catalog, &streams);
    site.file("catalog.json", &catalog);
    let mut target = SqliteTarget::new(Connection::open_in_memory().unwrap());

    let full = site.sync_from(&site.file("state.json", &json!({})));
    full.assert_success();
    let loaded = target.load(full.stdout.as_bytes()).unwrap();
    assert_eq!(loaded.state, Some(full.last_state()));
    site.sim.sim.touch_issues(5);
    let deleted = site.sim.sim.delete_issues(1);
    site.sim.sim.delete_worklogs(2);
    let incremental = site.sync_from(&site.file("state.json", &full.last_state()));
    incremental.assert_success();
    let loaded = target.load(incremental.stdout.as_bytes()).unwrap();
    assert_eq!(loaded.records["issues"], 5, "the touched issues");
    assert_eq!(loaded.deleted["issues"], 1);
    assert!(loaded.deleted["worklogs"] >= 2);
    let db = target.db();
    let runs = [&full, &incremental];

    // The issues table: each issue's latest record, the deleted one left out.
    let issues = latest(&runs, "issues", |r| r["id"].as_str().unwrap().to_string());
    assert!(issues.iter().all(|i| i["id"] != deleted[0].id.as_str()));
    let stored: BTreeMap<String, String> = rows(db, "SELECT id, updated FROM issues")
        .into_iter()
        .map(|row| match &row[..] {
            [SqlValue::Text(id), SqlValue::Text(updated)] => (id.clone(), updated.clone()),
            other => panic!("an issue row without id or updated: {other:?}"),
        })
        .collect();
    let stale: Vec<&str> = issues
        .iter()
        .filter(|i| {
            stored.get(i["id"].as_str().unwrap()).map(String::as_str) != i["updated"].as_str()
        })
        .map(|i| i["id"].as_str().unwrap())
        .collect();
    assert_eq!(stored.len(), issues.len(), "a row per live issue");
    assert!(
        stale.is_empty(),
        "rows that are not their issue's latest record: {stale:?}"
    );

    // Issues per status per project, counted from those records.
    let mut expected: BTreeMap<String, BTreeMap<String, i64>> = BTreeMap::new();
    for issue in &issues {
        let project = issue["fields"]["project"]["key"].as_str().unwrap();
        let status = issue["fields"]["status"]["name"].as_str().unwrap();
        *expected
            .entry(project.to_string())
            .or_default()
            .entry(status.to_string())
            .or_default() += 1;
    }
    let table = report::issues_per_status(db).unwrap();
    let got = by_first_column(&table);
    assert_eq!(
        got.keys().collect::<Vec<_>>(),
        expected.keys().collect::<Vec<_>>()
    );
    for (project, statuses) in &expected {
        for status in &table.columns[1..table.columns.len() - 1] {
            let want = statuses.get(status).copied().unwrap_or(0);
            assert_eq!(
                got[project][status],
                SqlValue::Integer(want),
                "{project} {status}"
            );
        }
        let total: i64 = statuses.values().sum();
        assert_eq!(got[project]["total"], SqlValue::Integer(total), "{project}");
    }
    assert!(
        table.columns.len() >= 2 + 3,
        "issues are in several statuses: {:?}",
        table.columns
    );

    // Time in status: each issue's status changes in order, from its creation on.
    let history = latest(&runs, "issue_field_history", |r| {
        format!("{}/{}", r["historyId"].as_str().unwrap(), r["itemIndex"])
    });
    let created: HashMap<&str, &Value> = issues
        .iter()
        .map(|i| (i["id"].as_str().unwrap(), &i["created"]))
        .collect();
    let mut changes: BTreeMap<&str, Vec<&Value>> = BTreeMap::new();
    for item in history.iter().filter(|h| h["field"] == "status") {
        if created.contains_key(item["issueId"].as_str().unwrap()) {
            changes
                .entry(item["issueId"].as_str().unwrap())
                .or_default()
                .push(item);
        }
    }
    let mut visits: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    for (issue, mut items) in changes {
        items.sort_by_key(|h| {
            (
                h["created"].as_str().unwrap(),
                h["historyId"].as_str().unwrap().parse::<u64>().unwrap(),
            )
        });
        let mut entered = created[issue];
        for item in items {
            let status = item["fromString"].as_str().unwrap().to_string();
            visits
                .entry(status)
                .or_default()
                .push(days_between(entered, &item["created"]));
            entered = &item["created"];
        }
    }
    let table = report::time_in_status(db).unwrap();
    let got = by_first_column(&table);
    assert_eq!(
        got.keys().collect::<Vec<_>>(),
        visits.keys().collect::<Vec<_>>()
    );
    assert!(
        visits.len() >= 2,
        "issues moved through several statuses: {visits:?}"
    );
    for (status, days) in &visits {
        let average = days.iter().sum::<f64>() / days.len() as f64;
        let longest = days.iter().copied().fold(f64::MIN, f64::max);
        assert_eq!(
            got[status]["visits"],
            SqlValue::Integer(days.len() as i64),
            "{status}"
        );
        assert!(
            (real(&got[status]["average days"]) - average).abs() < 1e-6,
            "{status}"
        );
        assert!(
            (real(&got[status]["longest days"]) - longest).abs() < 1e-6,
            "{status}"
        );
        assert!(average > 0.0, "{status}: time passes between changes");
    }

    // Hours per person: the latest worklogs, the deleted ones left out.
    let worklogs = latest(&runs, "worklogs", |r| r["id"].as_str().unwrap().to_string());
    let mut hours: BTreeMap<String, (i64, f64)> = BTreeMap::new();
    for worklog in &worklogs {
        let author = worklog["author"]["displayName"]
            .as_str()
            .unwrap()
            .to_string();
        let entry = hours.entry(author).or_default();
        entry.0 += 1;
        entry.1 += worklog["timeSpentSeconds"].as_f64().unwrap() / 3600.0;
    }
    let table = report::worklog_hours(db).unwrap();
    let got = by_first_column(&table);
    assert_eq!(
        got.keys().collect::<Vec<_>>(),
        hours.keys().collect::<Vec<_>>()
    );
    assert!(hours.len() >= 3, "several people log work: {hours:?}");
    for (author, (count, sum)) in &hours {
        assert_eq!(
            got[author]["worklogs"],
            SqlValue::Integer(*count),
            "{author}"
        );
        assert!((real(&got[author]["hours"]) - sum).abs() < 1e-9, "{author}");
    }
    let rendered = table.render(3);
    assert!(
        rendered.contains("author") && rendered.contains("… and"),
        "{rendered}"
    );
}
