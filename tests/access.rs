//! "Who may browse this issue", answered in SQL from synced records: the README's query, run on
//! SQLite tables loaded with what the tap printed, must name exactly the accounts the simulated
//! site's permission scheme, roles, groups and issue security levels let see each issue.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use common::{Run, Site};
use jira_sim::SimConfig;
use rusqlite::Connection;
use rusqlite::types::Value as SqlValue;
use serde_json::{Value, json};

/// The streams the query reads.
const TABLES: &[&str] = &[
    "issues",
    "users",
    "projects",
    "project_permission_schemes",
    "permission_grants",
    "project_role_actors",
    "group_members",
    "issue_security_level_members",
];

/// The README's query: the ```sql block after the "Who may browse" heading.
fn readme_query() -> String {
    let readme = include_str!("../README.md");
    let section = readme
        .split_once("### Who may browse an issue")
        .expect("the README has the who-may-browse section")
        .1;
    let block = section
        .split_once("```sql\n")
        .expect("the section has an SQL block")
        .1;
    block
        .split_once("```")
        .expect("the block ends")
        .0
        .to_string()
}

/// Jira's values as SQLite's: objects and arrays as JSON text, which `->`/`->>` read.
fn sql_value(value: &Value) -> SqlValue {
    match value {
        Value::Null => SqlValue::Null,
        Value::Bool(b) => SqlValue::Integer(i64::from(*b)),
        Value::Number(n) => n
            .as_i64()
            .map(SqlValue::Integer)
            .unwrap_or_else(|| SqlValue::Real(n.as_f64().unwrap_or_default())),
        Value::String(s) => SqlValue::Text(s.clone()),
        other => SqlValue::Text(other.to_string()),
    }
}

/// One table per stream, a column per top-level property, as a target would make them.
fn load(run: &Run) -> Connection {
    let db = Connection::open_in_memory().unwrap();
    for table in TABLES {
        let records = run.records(table);
        assert!(!records.is_empty(), "the run wrote no {table}");
        let columns: BTreeSet<String> = records
            .iter()
            .flat_map(|r| r.as_object().unwrap().keys().cloned())
            .collect();
        let quoted: Vec<String> = columns.iter().map(|c| format!("\"{c}\"")).collect();
        db.execute(&format!("CREATE TABLE {table} ({})", quoted.join(", ")), [])
            .unwrap();
        let insert = format!(
            "INSERT INTO {table} ({}) VALUES ({})",
            quoted.join(", "),
            vec!["?"; columns.len()].join(", ")
        );
        for record in &records {
            let values: Vec<SqlValue> = columns.iter().map(|c| sql_value(&record[c])).collect();
            db.execute(&insert, rusqlite::params_from_iter(values))
                .unwrap();
        }
    }
    db
}

#[test]
fn the_readme_query_answers_who_may_browse_each_issue() {
    let site = Site::new(SimConfig::default());
    let config = site.file("config.json", &site.cloud_config());
    let mut catalog = site.discover(&config);
    common::select_only(&mut catalog, TABLES);
    site.file("catalog.json", &catalog);
    let run = site.sync_from(&site.file("state.json", &json!({})));
    run.assert_success();
    let db = load(&run);
    let query = readme_query();
    let mut statement = db.prepare(&query).expect("the README query is valid SQL");
    let mut answers: BTreeMap<usize, usize> = BTreeMap::new();
    let issues = run.records("issues");
    let mut secured = 0;
    for issue in &issues {
        let id = issue["id"].as_str().unwrap();
        secured += usize::from(!issue["fields"]["security"].is_null());
        let got: BTreeSet<String> = statement
            .query_map(&[(":issue_id", id)], |row| row.get::<_, String>(0))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        let truth = site.sim.sim.who_may_browse(id);
        assert_eq!(got, truth, "who may browse issue {id}");
        *answers.entry(got.len()).or_default() += 1;
    }
    let users = run.records("users").len();
    assert!(secured > 0, "some issues have a security level");
    assert!(
        answers.keys().any(|&n| n > 0 && n < users),
        "the site restricts some issues to some users: {answers:?}"
    );
    assert!(
        answers.len() > 1,
        "issues differ in who sees them: {answers:?}"
    );
}
