//! Catalog- and config-driven control of what leaves Jira: hashed fields.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use common::{Run, Site, assert_valid_singer_output, tap};
use jira_sim::{Deployment, Language, SimConfig};
use serde_json::{Value, json};
use tap_jira::hashing::digest;
use tap_jira::secret::Secret;

const SALT: &str = "a-long-random-test-salt";

fn site_for(deployment: Deployment) -> Site {
    Site::new(SimConfig {
        deployment,
        ..SimConfig::default()
    })
}

/// The discovered catalog with `streams` selected, and `tap-jira.hash` set on each
/// `(stream, breadcrumb)` of `hashed`.
fn catalog_hashing(site: &Site, streams: &[&str], hashed: &[(&str, Vec<String>)]) -> Value {
    let config = site.file("discover.json", &site.config_with(json!({})));
    let mut catalog = site.discover(&config);
    for stream in catalog["streams"].as_array_mut().unwrap() {
        let name = stream["tap_stream_id"].as_str().unwrap().to_string();
        let metadata = stream["metadata"].as_array_mut().unwrap();
        for m in metadata.iter_mut() {
            if m["breadcrumb"] == json!([]) {
                m["metadata"]["selected"] = json!(streams.contains(&name.as_str()));
            }
        }
        for (_, breadcrumb) in hashed.iter().filter(|(s, _)| *s == name) {
            match metadata
                .iter_mut()
                .find(|m| m["breadcrumb"] == json!(breadcrumb))
            {
                Some(m) => m["metadata"]["tap-jira.hash"] = json!(true),
                None => metadata
                    .push(json!({"breadcrumb": breadcrumb, "metadata": {"tap-jira.hash": true}})),
            }
        }
    }
    catalog
}

fn sync(site: &Site, config: Value, catalog: &Value) -> Run {
    let config = site.file("config.json", &config);
    let catalog = site.file("catalog.json", catalog);
    tap(&[&"--config", &config, &"--catalog", &catalog])
}

fn crumb(parts: &[&str]) -> Vec<String> {
    parts.iter().map(|p| p.to_string()).collect()
}

/// What a hashed value should be: null stays null.
fn hash(value: &Value) -> Value {
    match value {
        Value::Null => Value::Null,
        value => json!(digest(value, &Secret::new(SALT))),
    }
}

/// Every value under a key named `key`, at any depth.
fn values_of(value: &Value, key: &str, out: &mut Vec<Value>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                if k == key {
                    out.push(v.clone());
                } else {
                    values_of(v, key, out);
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| values_of(v, key, out)),
        _ => {}
    }
}

fn by_id(records: Vec<Value>) -> BTreeMap<String, Value> {
    records
        .into_iter()
        .map(|r| (r["id"].as_str().unwrap().to_string(), r))
        .collect()
}

fn is_hash(value: &Value) -> bool {
    value
        .as_str()
        .is_some_and(|s| s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// Meltano's `metadata` extra splits its keys at dots, so `tap-jira.hash` never reaches the
/// catalog it writes: the same key without its dot, `tap-jira-hash`, hashes as well.
#[test]
fn a_field_marked_with_the_dotless_key_meltano_can_pass_is_hashed() {
    let site = site_for(Deployment::Cloud);
    let mut catalog = catalog_hashing(&site, &["issues"], &[]);
    let summary = json!(["properties", "fields", "properties", "summary"]);
    let clear = sync(&site, site.config_with(json!({})), &catalog);
    clear.assert_success();
    for stream in catalog["streams"].as_array_mut().unwrap() {
        if stream["tap_stream_id"] == "issues" {
            let metadata = stream["metadata"].as_array_mut().unwrap();
            let m = metadata
                .iter_mut()
                .find(|m| m["breadcrumb"] == summary)
                .expect("summary is in the catalog");
            m["metadata"]["tap-jira-hash"] = json!(true);
        }
    }
    let hashed = sync(
        &site,
        site.config_with(json!({"hash_salt": SALT})),
        &catalog,
    );
    hashed.assert_success();
    let clear = by_id(clear.records("issues"));
    let hashed = by_id(hashed.records("issues"));
    assert!(!hashed.is_empty());
    for (id, issue) in &hashed {
        let expected = hash(&clear[id]["fields"]["summary"]);
        assert_eq!(issue["fields"]["summary"], expected, "issue {id}");
    }
}

#[test]
fn fields_marked_in_the_catalog_leave_as_stable_salted_hashes_on_both_deployments() {
    for deployment in [Deployment::Cloud, Deployment::Server] {
        let site = site_for(deployment);
        let reporter_email = crumb(&[
            "properties",
            "fields",
            "properties",
            "reporter",
            "properties",
            "emailAddress",
        ]);
        let assignee = crumb(&["properties", "fields", "properties", "assignee"]);
        let labels = crumb(&["properties", "fields", "properties", "labels", "items"]);
        let author = crumb(&["properties", "author"]);
        let streams = ["issues", "issue_comments"];
        let clear = sync(
            &site,
            site.config_with(json!({})),
            &catalog_hashing(&site, &streams, &[]),
        );
        clear.assert_success();
        let catalog = catalog_hashing(
            &site,
            &streams,
            &[
                ("issues", reporter_email.clone()),
                ("issues", assignee.clone()),
                ("issues", labels.clone()),
                ("issue_comments", author.clone()),
            ],
        );
        let config = site.config_with(json!({"hash_salt": SALT}));
        let hashed = sync(&site, config.clone(), &catalog);
        hashed.assert_success();
        assert_valid_singer_output(&hashed);

        let (clear_issues, issues) = (
            by_id(clear.records("issues")),
            by_id(hashed.records("issues")),
        );
        assert_eq!(
            clear_issues.keys().collect::<Vec<_>>(),
            issues.keys().collect::<Vec<_>>(),
            "{deployment}: keys stay clear"
        );
        assert!(!issues.is_empty());
        let mut seen_labels = 0;
        for (clear, hashed) in clear_issues.values().zip(issues.values()) {
            let (c, h) = (&clear["fields"], &hashed["fields"]);
            assert_eq!(
                h["reporter"]["emailAddress"],
                hash(&c["reporter"]["emailAddress"])
            );
            assert_eq!(h["reporter"]["accountId"], c["reporter"]["accountId"]);
            match &c["assignee"] {
                Value::Null => assert_eq!(h["assignee"], Value::Null, "null stays null"),
                whole => assert_eq!(h["assignee"], hash(whole), "an object hashed whole"),
            }
            for (c, h) in c["labels"]
                .as_array()
                .unwrap()
                .iter()
                .zip(h["labels"].as_array().unwrap())
            {
                assert_eq!(h, &hash(c), "each element of an array");
                seen_labels += 1;
            }
            assert_eq!(h["summary"], c["summary"], "unmarked fields stay clear");
        }
        assert!(seen_labels > 0, "{deployment}: the site has labels to hash");
        let (clear_comments, comments) = (
            by_id(clear.records("issue_comments")),
            by_id(hashed.records("issue_comments")),
        );
        assert_eq!(clear_comments.len(), comments.len());
        for (c, h) in clear_comments.values().zip(comments.values()) {
            assert_eq!(h["author"], hash(&c["author"]));
            assert_eq!(h["body"], c["body"]);
        }

        // The SCHEMA types each hashed value as a nullable string.
        let schema = hashed
            .messages()
            .iter()
            .find(|m| m["type"] == "SCHEMA" && m["stream"] == "issues")
            .unwrap();
        let fields = &schema["schema"]["properties"]["fields"]["properties"];
        assert_eq!(fields["assignee"], json!({"type": ["null", "string"]}));
        assert_eq!(
            fields["reporter"]["properties"]["emailAddress"],
            json!({"type": ["null", "string"]})
        );

        // Hashes are stable from run to run with the same salt.
        let again = sync(&site, config, &catalog);
        assert_eq!(by_id(again.records("issues")), issues, "{deployment}");
    }
}

#[test]
fn hash_pii_leaves_no_email_or_display_name_in_clear_in_any_stream() {
    // Every stream of the table, on both deployments: users are rows of their own in some
    // (watchers, voters), nested in most.
    for deployment in [Deployment::Cloud, Deployment::Server] {
        let site = site_for(deployment);
        let config = site.file("discover.json", &site.config_with(json!({})));
        let all: Vec<String> = site.discover(&config)["streams"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["tap_stream_id"].as_str().unwrap().to_string())
            .collect();
        let names: Vec<&str> = all.iter().map(String::as_str).collect();
        let catalog = catalog_hashing(&site, &names, &[]);
        let clear = sync(&site, site.config_with(json!({})), &catalog);
        clear.assert_success();
        let mut emails = Vec::new();
        for message in clear.messages() {
            values_of(message, "emailAddress", &mut emails);
        }
        let emails: BTreeSet<String> = emails
            .iter()
            .filter_map(|e| e.as_str().map(String::from))
            .collect();
        assert!(emails.len() >= 3, "{deployment}: {emails:?}");
        // People's names, also where a change of assignee names them (`fromString`).
        let names: BTreeSet<String> = clear
            .records("users")
            .iter()
            .filter_map(|u| u["displayName"].as_str().map(String::from))
            .filter(|n| {
                n.contains(' ') && !["Former user", "Automation for Jira"].contains(&n.as_str())
            })
            .collect();
        assert!(names.len() >= 3, "{deployment}: {names:?}");
        let hashed = sync(
            &site,
            site.config_with(json!({"hash_salt": SALT, "hash_pii": true})),
            &catalog,
        );
        hashed.assert_success();
        assert_valid_singer_output(&hashed);
        for email in &emails {
            assert!(
                !hashed.stdout.contains(&format!("\"{email}\"")),
                "{deployment}: {email} left the tap in clear"
            );
        }
        for name in &names {
            assert!(
                !hashed.stdout.contains(&format!("\"{name}\"")),
                "{deployment}: {name} left the tap in clear"
            );
        }
        for message in hashed.messages().iter().filter(|m| m["type"] == "RECORD") {
            let mut names = Vec::new();
            values_of(message, "displayName", &mut names);
            assert!(
                names.iter().all(|n| n.is_null() || is_hash(n)),
                "{deployment}: a display name in clear in {}",
                message["stream"]
            );
        }
        assert_eq!(
            hashed.record_counts(),
            clear.record_counts(),
            "{deployment}: hashing drops no record"
        );
    }
}

/// A field both marked with `tap-jira.hash` and named by `hash_pii` (the README's own example,
/// the reporter's email, with `hash_pii` on) is hashed once, as the README's digest says: hashed
/// twice, it no longer joins the same person's email hashed elsewhere (`users`, the assignee).
#[test]
fn a_marked_field_hash_pii_also_names_is_hashed_once() {
    let site = site_for(Deployment::Cloud);
    let streams = ["issues", "users"];
    let clear = sync(
        &site,
        site.config_with(json!({})),
        &catalog_hashing(&site, &streams, &[]),
    );
    clear.assert_success();
    let catalog = catalog_hashing(
        &site,
        &streams,
        &[
            (
                "issues",
                crumb(&[
                    "properties",
                    "fields",
                    "properties",
                    "reporter",
                    "properties",
                    "emailAddress",
                ]),
            ),
            ("users", crumb(&["properties", "emailAddress"])),
        ],
    );
    let config = site.config_with(json!({"hash_salt": SALT, "hash_pii": true}));
    let hashed = sync(&site, config, &catalog);
    hashed.assert_success();
    assert_valid_singer_output(&hashed);
    let mut compared = 0;
    let clear_issues = by_id(clear.records("issues"));
    for (id, issue) in by_id(hashed.records("issues")) {
        let clear = &clear_issues[&id]["fields"]["reporter"]["emailAddress"];
        assert_eq!(
            issue["fields"]["reporter"]["emailAddress"],
            hash(clear),
            "issue {id}"
        );
        compared += usize::from(!clear.is_null());
    }
    let key = |u: &Value| u["accountId"].as_str().unwrap().to_string();
    let clear_users: BTreeMap<String, Value> = clear
        .records("users")
        .into_iter()
        .map(|u| (key(&u), u))
        .collect();
    for user in hashed.records("users") {
        let clear = &clear_users[&key(&user)]["emailAddress"];
        assert_eq!(user["emailAddress"], hash(clear), "user {}", key(&user));
        compared += usize::from(!clear.is_null());
    }
    assert!(compared > 0, "the site has emails to hash");
}

/// The same for the names a change of a person's field holds: a changelog item's `fromString`
/// and `toString` marked, with `hash_pii` on, are hashed once; an item of another field keeps
/// the mark's hash alone.
#[test]
fn a_marked_change_of_a_person_field_is_hashed_once_with_hash_pii() {
    let site = site_for(Deployment::Cloud);
    let streams = ["changelogs"];
    let clear = sync(
        &site,
        site.config_with(json!({})),
        &catalog_hashing(&site, &streams, &[]),
    );
    clear.assert_success();
    let item = |key: &str| crumb(&["properties", "items", "items", "properties", key]);
    let catalog = catalog_hashing(
        &site,
        &streams,
        &[
            ("changelogs", item("fromString")),
            ("changelogs", item("toString")),
        ],
    );
    let config = site.config_with(json!({"hash_salt": SALT, "hash_pii": true}));
    let hashed = sync(&site, config, &catalog);
    hashed.assert_success();
    assert_valid_singer_output(&hashed);
    let clear_histories = by_id(clear.records("changelogs"));
    let mut people = 0;
    for (id, history) in by_id(hashed.records("changelogs")) {
        let clear_items = clear_histories[&id]["items"].as_array().unwrap();
        for (clear, item) in clear_items.iter().zip(history["items"].as_array().unwrap()) {
            for key in ["fromString", "toString"] {
                assert_eq!(
                    item[key],
                    hash(&clear[key]),
                    "history {id}: {key} of {clear}"
                );
            }
            people += usize::from(clear["fieldId"] == "assignee" && clear["toString"].is_string());
        }
    }
    assert!(people > 0, "the site has changes of assignee");
}

/// An issue record embeds other issues (`fields.parent`, `fields.subtasks`, each link of
/// `fields.issuelinks`, or the `issue_links` rows they go to) with some of their fields: an issue
/// field marked for hashing is hashed there too, as it is in those issues' own records, never
/// left in clear.
#[test]
fn a_hashed_issue_field_is_hashed_in_the_other_issues_a_record_embeds() {
    for deployment in [Deployment::Cloud, Deployment::Server] {
        let site = site_for(deployment);
        for streams in [&["issues"][..], &["issues", "issue_links"]] {
            let catalog = catalog_hashing(
                &site,
                streams,
                &[
                    (
                        "issues",
                        crumb(&["properties", "fields", "properties", "summary"]),
                    ),
                    (
                        "issues",
                        crumb(&["properties", "fields", "properties", "priority"]),
                    ),
                ],
            );
            let run = sync(
                &site,
                site.config_with(json!({"hash_salt": SALT})),
                &catalog,
            );
            run.assert_success();
            assert_valid_singer_output(&run);
            let issues = run.records("issues");
            assert!(!issues.is_empty());
            let mut embedded = 0;
            for stream in streams {
                for record in run.records(stream) {
                    for key in ["summary", "priority"] {
                        let mut values = Vec::new();
                        values_of(&record, key, &mut values);
                        for value in &values {
                            assert!(
                                value.is_null() || is_hash(value),
                                "{deployment}, {stream} {}: {key} {value}",
                                record["id"]
                            );
                        }
                        embedded += values.len();
                    }
                }
            }
            assert!(
                embedded > 2 * issues.len(),
                "{deployment}, {streams:?}: the site embeds other issues"
            );
        }
    }
}

/// A change of an issue field names its old and new values (`fromString`, `toString`, `from`,
/// `to`): an issue field marked for hashing has those hashed in `changelogs` and
/// `issue_field_history`, as they are its values, and the new value's hash is the one the issue
/// record carries.
#[test]
fn the_changes_of_a_hashed_issue_field_are_hashed_in_changelogs_and_field_history() {
    for deployment in [Deployment::Cloud, Deployment::Server] {
        let site = site_for(deployment);
        let streams = ["issues", "changelogs", "issue_field_history"];
        let summary = crumb(&["properties", "fields", "properties", "summary"]);
        let clear = sync(
            &site,
            site.config_with(json!({})),
            &catalog_hashing(&site, &streams, &[]),
        );
        clear.assert_success();
        let catalog = catalog_hashing(&site, &streams, &[("issues", summary)]);
        let run = sync(
            &site,
            site.config_with(json!({"hash_salt": SALT})),
            &catalog,
        );
        run.assert_success();
        assert_valid_singer_output(&run);
        let is_summary =
            |change: &Value| change["fieldId"] == "summary" || change["field"] == "summary";
        let hashed_like = |clear: &Value, hashed: &Value, what: &str| {
            for key in ["from", "fromString", "to", "toString"] {
                assert_eq!(hashed[key], hash(&clear[key]), "{deployment}: {what} {key}");
            }
        };
        let by_change = |rows: Vec<Value>| -> BTreeMap<String, Value> {
            rows.into_iter()
                .map(|r| (format!("{}/{}", r["historyId"], r["itemIndex"]), r))
                .collect()
        };
        let clear_rows = by_change(clear.records("issue_field_history"));
        let rows = run.records("issue_field_history");
        assert_eq!(clear_rows.len(), rows.len());
        let mut changes = 0;
        for row in &rows {
            let clear = &clear_rows[&format!("{}/{}", row["historyId"], row["itemIndex"])];
            if is_summary(clear) {
                hashed_like(clear, row, "field history");
                changes += 1;
            } else {
                assert_eq!(clear, row, "{deployment}: other fields stay clear");
            }
        }
        assert!(changes > 0, "{deployment}: the site has changes of summary");
        let clear_logs = by_id(clear.records("changelogs"));
        let logs = by_id(run.records("changelogs"));
        assert_eq!(clear_logs.len(), logs.len());
        let mut items = 0;
        for (id, log) in &logs {
            let clear = clear_logs[id]["items"].as_array().unwrap();
            for (clear, item) in clear.iter().zip(log["items"].as_array().unwrap()) {
                if is_summary(clear) {
                    hashed_like(clear, item, "changelog item");
                    items += 1;
                } else {
                    assert_eq!(clear, item, "{deployment}");
                }
            }
        }
        assert_eq!(items, changes, "{deployment}");
        // The new value's hash is the summary's hash: the two still join.
        let issues = by_id(run.records("issues"));
        let joined = rows.iter().filter(|row| {
            is_summary(row)
                && issues.values().any(|issue| {
                    issue["id"] == row["issueId"] && issue["fields"]["summary"] == row["toString"]
                })
        });
        assert!(joined.count() > 0, "{deployment}");
    }
}

#[test]
fn a_column_copied_from_a_hashed_field_is_hashed_with_it() {
    for deployment in [Deployment::Cloud, Deployment::Server] {
        let site = site_for(deployment);
        let catalog = catalog_hashing(
            &site,
            &["issues", "issue_field_history"],
            &[
                (
                    "issues",
                    crumb(&["properties", "fields", "properties", "created"]),
                ),
                ("issue_field_history", crumb(&["properties", "author"])),
            ],
        );
        let run = sync(
            &site,
            site.config_with(json!({"hash_salt": SALT})),
            &catalog,
        );
        run.assert_success();
        assert_valid_singer_output(&run);
        let issues = run.records("issues");
        assert!(!issues.is_empty());
        for issue in &issues {
            assert!(is_hash(&issue["fields"]["created"]), "{deployment}");
            assert_eq!(issue["created"], issue["fields"]["created"], "{deployment}");
        }
        let rows = run.records("issue_field_history");
        assert!(!rows.is_empty());
        for row in &rows {
            for copy in ["author", "authorAccountId", "authorKey"] {
                let value = &row[copy];
                assert!(
                    value.is_null() || is_hash(value),
                    "{deployment}: {copy} {value}"
                );
            }
        }
    }
    // `updated` is the replication key: its source cannot be hashed either.
    let site = Site::cloud();
    let catalog = catalog_hashing(
        &site,
        &["issues"],
        &[(
            "issues",
            crumb(&["properties", "fields", "properties", "updated"]),
        )],
    );
    let run = sync(
        &site,
        site.config_with(json!({"hash_salt": SALT})),
        &catalog,
    );
    assert_ne!(run.code, 0);
    assert!(run.stdout.is_empty());
    assert!(
        run.stderr
            .contains("`fields.updated` is copied to `updated`, the replication key"),
        "{}",
        run.stderr
    );
}

/// A mark whose breadcrumb describes another shape than the field has (`properties/value` on a
/// multi-select, which is a list; `items` on an object): the whole field is hashed, so nothing of
/// it leaks, and the SCHEMA types it as the hash it is.
#[test]
fn a_hash_mark_of_another_shape_hashes_the_whole_field_as_the_schema_says() {
    let site = Site::cloud();
    let discovered = catalog_hashing(&site, &["issues"], &[]);
    let issues = discovered["streams"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["tap_stream_id"] == "issues")
        .unwrap();
    // A list of options: a multi-select custom field.
    let (list, _) = issues["schema"]["properties"]["fields"]["properties"]
        .as_object()
        .unwrap()
        .iter()
        .find(|(id, schema)| {
            id.starts_with("customfield_") && schema.pointer("/items/properties/value").is_some()
        })
        .expect("the site has a multi-select field");
    let marks = [
        (list.as_str(), vec!["properties", "value"]),
        ("status", vec!["items", "properties", "name"]),
    ];
    let hashed: Vec<(&str, Vec<String>)> = marks
        .iter()
        .map(|(field, inner)| {
            let mut parts = vec!["properties", "fields", "properties", field];
            parts.extend(inner.iter().copied());
            ("issues", crumb(&parts))
        })
        .collect();
    let catalog = catalog_hashing(&site, &["issues"], &hashed);
    let run = sync(
        &site,
        site.config_with(json!({"hash_salt": SALT})),
        &catalog,
    );
    run.assert_success();
    assert_valid_singer_output(&run);
    let issues = run.records("issues");
    for (field, _) in &marks {
        let set: Vec<&Value> = issues
            .iter()
            .map(|i| &i["fields"][*field])
            .filter(|v| !v.is_null())
            .collect();
        assert!(!set.is_empty(), "{field}");
        assert!(set.iter().all(|v| is_hash(v)), "{field}: {set:?}");
        assert!(
            run.stderr.contains(&format!("field=\"{field}\""))
                || run.stderr.contains(&format!("field={field}")),
            "the log says {field} is hashed whole: {}",
            run.stderr
        );
    }
}

#[test]
fn hashing_a_key_or_without_a_salt_is_refused_before_any_request() {
    let site = Site::cloud();
    let cases = [
        (
            catalog_hashing(
                &site,
                &["issues"],
                &[("issues", crumb(&["properties", "id"]))],
            ),
            json!({"hash_salt": SALT}),
            "`id` is a key property",
        ),
        (
            catalog_hashing(
                &site,
                &["issues"],
                &[("issues", crumb(&["properties", "updated"]))],
            ),
            json!({"hash_salt": SALT}),
            "`updated` is the replication key",
        ),
        (
            catalog_hashing(
                &site,
                &["issues"],
                &[("issues", crumb(&["properties", "fields", "anyOf"]))],
            ),
            json!({"hash_salt": SALT}),
            "which is not a field",
        ),
        (
            catalog_hashing(
                &site,
                &["issues"],
                &[(
                    "issues",
                    crumb(&["properties", "fields", "properties", "summary"]),
                )],
            ),
            json!({}),
            "config `hash_salt`: is needed to hash fields",
        ),
        (
            catalog_hashing(&site, &["issues"], &[]),
            json!({"hash_pii": true}),
            "hash_pii is on",
        ),
        (
            catalog_hashing(&site, &["issues"], &[]),
            json!({"hash_pii": true, "hash_salt": "short"}),
            "shorter than 16 characters",
        ),
    ];
    for (catalog, extra, message) in cases {
        site.sim.sim.reset_requests();
        let run = sync(&site, site.config_with(extra), &catalog);
        assert_ne!(run.code, 0, "{message}");
        assert!(run.stdout.is_empty(), "{message}: {}", run.stdout);
        assert!(run.stderr.contains(message), "{message}: {}", run.stderr);
        assert!(
            site.sim.sim.requests().is_empty(),
            "{message}: a request was sent"
        );
    }
}

/// The project key of an issue record, from its issue key.
fn project_of(issue: &Value) -> String {
    let key = issue["key"].as_str().unwrap();
    key.rsplit_once('-').unwrap().0.to_string()
}

fn ids_of(records: &[Value], field: &str) -> BTreeSet<String> {
    records
        .iter()
        .map(|r| match &r[field] {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        })
        .collect()
}

const FILTERED: [&str; 5] = [
    "projects",
    "versions",
    "issues",
    "issue_comments",
    "worklogs",
];

#[test]
fn project_filters_narrow_issues_children_worklogs_and_project_streams_on_both_deployments() {
    for deployment in [Deployment::Cloud, Deployment::Server] {
        let site = site_for(deployment);
        let catalog = catalog_hashing(&site, &FILTERED, &[]);
        let all = sync(&site, site.config_with(json!({})), &catalog);
        all.assert_success();
        let keys: BTreeSet<String> = all
            .records("projects")
            .iter()
            .map(|p| p["key"].as_str().unwrap().to_string())
            .collect();
        assert!(keys.len() >= 2, "{deployment}: {keys:?}");
        let kept_key = keys.iter().next().unwrap().clone();
        for (filter, keeps) in [
            (json!({"projects": [kept_key.to_lowercase()]}), true),
            (json!({"exclude_projects": kept_key.clone()}), false),
        ] {
            site.sim.sim.reset_requests();
            let run = sync(&site, site.config_with(filter.clone()), &catalog);
            run.assert_success();
            assert_valid_singer_output(&run);
            let wanted = |key: &str| (key == kept_key) == keeps;
            let projects = run.records("projects");
            assert!(
                projects.iter().all(|p| wanted(p["key"].as_str().unwrap())),
                "{deployment} {filter}"
            );
            let project_ids: BTreeSet<String> = all
                .records("projects")
                .iter()
                .filter(|p| wanted(p["key"].as_str().unwrap()))
                .map(|p| p["id"].as_str().unwrap().to_string())
                .collect();
            assert_eq!(
                ids_of(&projects, "id"),
                project_ids,
                "{deployment} {filter}"
            );
            let expected_versions: Vec<Value> = all
                .records("versions")
                .into_iter()
                .filter(|v| {
                    project_ids.contains(&v["projectId"].to_string())
                        || project_ids.contains(v["projectId"].as_str().unwrap_or(""))
                })
                .collect();
            assert_eq!(
                run.records("versions").len(),
                expected_versions.len(),
                "{deployment} {filter}: versions"
            );
            let expected_issues: Vec<Value> = all
                .records("issues")
                .into_iter()
                .filter(|i| wanted(&project_of(i)))
                .collect();
            assert!(!expected_issues.is_empty());
            let issue_ids = ids_of(&expected_issues, "id");
            assert_eq!(
                ids_of(&run.records("issues"), "id"),
                issue_ids,
                "{deployment} {filter}: issues"
            );
            for child in ["issue_comments", "worklogs"] {
                let expected: Vec<Value> = all
                    .records(child)
                    .into_iter()
                    .filter(|c| issue_ids.contains(c["issueId"].as_str().unwrap()))
                    .collect();
                assert!(!expected.is_empty(), "{deployment}: {child}");
                assert_eq!(
                    ids_of(&run.records(child), "id"),
                    ids_of(&expected, "id"),
                    "{deployment} {filter}: {child}"
                );
            }
            // What is filtered out is never fetched: every search names the projects.
            let searches: Vec<String> = site
                .sim
                .sim
                .requests()
                .into_iter()
                .filter(|r| {
                    r.path.ends_with("/search/jql") || r.path.ends_with("/rest/api/2/search")
                })
                .map(|r| r.body)
                .collect();
            assert!(!searches.is_empty());
            let clause = if keeps {
                format!("project in (\\\"{}\\\")", kept_key.to_uppercase())
            } else {
                format!("project not in (\\\"{}\\\")", kept_key.to_uppercase())
            };
            assert!(
                searches.iter().all(|body| body.contains(&clause)),
                "{deployment}: {clause} in {searches:?}"
            );
        }
    }
}

#[test]
fn date_windows_and_own_jql_keep_exactly_the_issues_inside_them() {
    let site = Site::cloud();
    let catalog = catalog_hashing(&site, &["issues", "issue_comments"], &[]);
    let all = sync(&site, site.config_with(json!({})), &catalog);
    all.assert_success();
    let issues = all.records("issues");
    let mut created: Vec<String> = issues
        .iter()
        .map(|i| i["created"].as_str().unwrap().to_string())
        .collect();
    created.sort();
    let mut updated: Vec<String> = issues
        .iter()
        .map(|i| i["updated"].as_str().unwrap().to_string())
        .collect();
    updated.sort();
    let (c_after, c_before) = (&created[created.len() / 4], &created[created.len() * 3 / 4]);
    let u_before = &updated[updated.len() / 2];
    let first_keys: Vec<String> = issues
        .iter()
        .take(3)
        .map(|i| i["key"].as_str().unwrap().to_string())
        .collect();
    let cases = [
        (
            json!({"created_after": c_after, "created_before": c_before}),
            Box::new(|i: &Value| {
                i["created"].as_str().unwrap() >= c_after.as_str()
                    && i["created"].as_str().unwrap() < c_before.as_str()
            }) as Box<dyn Fn(&Value) -> bool>,
        ),
        (
            json!({"updated_before": u_before}),
            Box::new(|i: &Value| i["updated"].as_str().unwrap() < u_before.as_str()),
        ),
        (
            json!({"jql": format!("key in ({})", first_keys.join(", "))}),
            Box::new(|i: &Value| first_keys.contains(&i["key"].as_str().unwrap().to_string())),
        ),
    ];
    for (filter, keeps) in cases {
        let run = sync(&site, site.config_with(filter.clone()), &catalog);
        run.assert_success();
        let expected: Vec<Value> = issues.iter().filter(|i| keeps(i)).cloned().collect();
        assert!(
            !expected.is_empty() && expected.len() < issues.len(),
            "{filter}"
        );
        let expected_ids = ids_of(&expected, "id");
        assert_eq!(
            ids_of(&run.records("issues"), "id"),
            expected_ids,
            "{filter}"
        );
        let comments = run.records("issue_comments");
        assert!(
            comments
                .iter()
                .all(|c| expected_ids.contains(c["issueId"].as_str().unwrap())),
            "{filter}"
        );
    }
}

#[test]
fn jql_jira_refuses_stops_the_sync_before_any_record() {
    let site = Site::cloud();
    let catalog = catalog_hashing(&site, &["projects", "issues"], &[]);
    let run = sync(
        &site,
        site.config_with(json!({"jql": "nosuchfield = 1"})),
        &catalog,
    );
    assert_ne!(run.code, 0);
    assert!(run.stdout.is_empty(), "{}", run.stdout);
    assert!(
        run.stderr.contains("config `jql`: Jira refused the search"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("nosuchfield"), "{}", run.stderr);
    let ordered = sync(
        &site,
        site.config_with(json!({"jql": "project = WEB ORDER BY key"})),
        &catalog,
    );
    assert_ne!(ordered.code, 0);
    assert!(ordered.stderr.contains("ORDER BY"), "{}", ordered.stderr);
}

#[test]
fn a_change_of_filters_syncs_the_narrowed_streams_again() {
    let site = Site::server();
    let catalog = catalog_hashing(&site, &["projects", "issues", "worklogs"], &[]);
    let all = sync(&site, site.config_with(json!({})), &catalog);
    let keys: BTreeSet<String> = all.records("issues").iter().map(project_of).collect();
    let first = keys.iter().next().unwrap().clone();
    let one = sync(
        &site,
        site.config_with(json!({"projects": first})),
        &catalog,
    );
    one.assert_success();
    let state = site.file("state.json", &one.last_state());
    assert_eq!(one.last_state()["filters"]["projects"], json!([first]));
    // The same catalog, the config without filters.
    site.file("config.json", &site.config_with(json!({})));
    let widened = site.sync_from(&state);
    widened.assert_success();
    assert!(
        widened.stderr.contains("the filters differ"),
        "{}",
        widened.stderr
    );
    assert_eq!(
        ids_of(&widened.records("issues"), "id"),
        ids_of(&all.records("issues"), "id")
    );
    assert_eq!(
        widened.records("worklogs").len(),
        all.records("worklogs").len()
    );
    assert!(widened.last_state().get("filters").is_none());
    // The same filters again: an incremental run with nothing new.
    let state = site.file("state.json", &widened.last_state());
    let again = site.sync_from(&state);
    again.assert_success();
    assert!(again.records("issues").is_empty() && !again.stderr.contains("the filters differ"));
}

#[test]
fn reordered_or_recased_project_filters_are_the_same_filters() {
    // The lists are sets: the order or case they are written in names the same projects, and a
    // state written with them in another order goes on from its bookmarks.
    let site = Site::new(SimConfig {
        projects: 5,
        ..SimConfig::default()
    });
    let catalog = catalog_hashing(&site, &["issues", "worklogs"], &[]);
    let first = sync(
        &site,
        site.config_with(
            json!({"projects": ["WEB", "OPS", "MOB"], "exclude_projects": ["DATA", "SEC"]}),
        ),
        &catalog,
    );
    first.assert_success();
    assert!(!first.records("issues").is_empty() && !first.records("worklogs").is_empty());
    let state = first.last_state();
    assert_eq!(state["filters"]["projects"], json!(["WEB", "OPS", "MOB"]));
    for reordered in [
        json!({"projects": ["OPS", "MOB", "WEB"], "exclude_projects": ["DATA", "SEC"]}),
        json!({"projects": ["WEB", "OPS", "MOB"], "exclude_projects": ["SEC", "DATA"]}),
        json!({"projects": "mob, web, Ops", "exclude_projects": ["sec", "data"]}),
    ] {
        let again = sync_from_state(&site, site.config_with(reordered.clone()), &catalog, &state);
        again.assert_success();
        assert!(
            !again.stderr.contains("the filters differ"),
            "{reordered}: {}",
            again.stderr
        );
        assert!(
            again.records("issues").is_empty() && again.records("worklogs").is_empty(),
            "{reordered}: an incremental run with nothing new"
        );
    }
}

fn sync_from_state(site: &Site, config: Value, catalog: &Value, state: &Value) -> Run {
    site.file("config.json", &config);
    site.file("catalog.json", catalog);
    site.sync_from(&site.file("state.json", state))
}

#[test]
fn a_state_written_after_a_change_of_filters_is_taken_by_the_next_run() {
    // The run after a change of filters keeps only the deletions' place in the issues bookmark
    // until its issue search writes one; a run that does not search issues (another stream
    // selected, a job split by streams) ends with that STATE, and the next run goes on from it.
    let site = Site::cloud();
    let issues = catalog_hashing(&site, &["issues"], &[]);
    let first = sync(&site, site.config_with(json!({})), &issues);
    first.assert_success();
    assert!(first.last_state()["bookmarks"]["issues"]["deleted"]["created"].is_string());
    let narrowed = site.config_with(json!({"projects": ["WEB"]}));
    let statuses = catalog_hashing(&site, &["statuses"], &[]);
    let second = sync_from_state(&site, narrowed.clone(), &statuses, &first.last_state());
    second.assert_success();
    let kept = second.last_state()["bookmarks"]["issues"].clone();
    assert!(
        kept.get("updated").is_none() && kept["deleted"].is_object(),
        "{kept}"
    );
    let third = sync_from_state(&site, narrowed, &issues, &second.last_state());
    third.assert_success();
    let web: Vec<Value> = first
        .records("issues")
        .into_iter()
        .filter(|i| project_of(i) == "WEB")
        .collect();
    assert!(!web.is_empty());
    assert_eq!(ids_of(&third.records("issues"), "id"), ids_of(&web, "id"));
}

#[test]
fn worklogs_deleted_before_a_change_of_filters_are_still_reported() {
    for filters in [json!({}), json!({"updated_after": "2001-01-01T00:00:00Z"})] {
        let site = Site::cloud();
        site.sim.sim.set_worklog_settling_ms(0);
        let catalog = catalog_hashing(&site, &["worklogs"], &[]);
        let first = sync(&site, site.config_with(json!({})), &catalog);
        first.assert_success();
        std::thread::sleep(std::time::Duration::from_millis(5));
        let deleted = site.sim.sim.delete_worklogs(5);
        assert_eq!(deleted.len(), 5);
        let second = sync_from_state(
            &site,
            site.config_with(filters.clone()),
            &catalog,
            &first.last_state(),
        );
        second.assert_success();
        let reported: BTreeSet<String> = second
            .records("worklogs")
            .iter()
            .filter(|w| w.get("_sdc_deleted_at").is_some_and(|d| !d.is_null()))
            .map(|w| w["id"].as_str().unwrap().to_string())
            .collect();
        let expected: BTreeSet<String> = deleted.iter().map(|d| d.worklog_id.to_string()).collect();
        assert_eq!(reported, expected, "filters {filters}");
    }
}

#[test]
fn an_updated_before_in_a_repeated_dst_hour_keeps_every_issue_before_it() {
    // The simulator's user is in Los Angeles, where 2024-11-03 01:00-02:00 happens twice
    // (08:00Z-10:00Z): a bound there read an hour early would leave out the issues in between.
    let site = Site::cloud();
    let catalog = catalog_hashing(&site, &["issues"], &[]);
    let all = sync(&site, site.config_with(json!({})), &catalog);
    all.assert_success();
    let ids: Vec<String> = all
        .records("issues")
        .iter()
        .map(|i| i["id"].as_str().unwrap().to_string())
        .collect();
    let ms = |s: &str| {
        chrono::DateTime::parse_from_rfc3339(s)
            .unwrap()
            .timestamp_millis()
    };
    let updated = [
        ("2024-11-03T07:30:00Z", true),
        ("2024-11-03T08:00:00Z", true),
        ("2024-11-03T09:30:00Z", true),
        ("2024-11-03T09:45:00Z", false),
    ];
    for (id, (at, _)) in ids.iter().zip(updated) {
        assert!(site.sim.sim.set_issue_updated(id, ms(at)));
    }
    let run = sync(
        &site,
        site.config_with(json!({
            "updated_after": "2024-11-03T07:00:00Z",
            "updated_before": "2024-11-03T09:40:00Z"
        })),
        &catalog,
    );
    run.assert_success();
    let expected: BTreeSet<String> = ids
        .iter()
        .zip(updated)
        .filter(|(_, (_, kept))| *kept)
        .map(|(id, _)| id.clone())
        .collect();
    assert_eq!(ids_of(&run.records("issues"), "id"), expected);
}

/// A custom field of the catalog by its Jira custom type's last part (`float`, `textfield`).
fn custom_field_of_type(catalog: &Value, kind: &str) -> String {
    let issues = catalog["streams"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["tap_stream_id"] == "issues")
        .unwrap();
    issues["metadata"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| {
            m["breadcrumb"][3]
                .as_str()
                .is_some_and(|id| id.starts_with("customfield_"))
                && m["metadata"]["tap-jira.custom-type"]
                    .as_str()
                    .is_some_and(|t| t.ends_with(&format!(":{kind}")))
        })
        .map(|m| m["breadcrumb"][3].as_str().unwrap().to_string())
        .unwrap_or_else(|| panic!("no {kind} field"))
}

fn issues_schema(run: &Run) -> Value {
    run.messages()
        .iter()
        .find(|m| m["type"] == "SCHEMA" && m["stream"] == "issues")
        .unwrap()["schema"]["properties"]["fields"]["properties"]
        .clone()
}

#[test]
fn fields_that_appear_vanish_or_change_type_are_synced_or_blocked_and_never_break_a_sync() {
    use jira_sim::CustomFieldType;
    for deployment in [Deployment::Cloud, Deployment::Server] {
        let site = site_for(deployment);
        let catalog = catalog_hashing(&site, &["issues"], &[]);
        let retyped = custom_field_of_type(&catalog, "float");
        let removed = custom_field_of_type(&catalog, "textfield");
        let added = site
            .sim
            .sim
            .add_custom_field("Drift Score", CustomFieldType::Float);
        assert!(site.sim.sim.remove_custom_field(&removed));
        assert!(
            site.sim
                .sim
                .retype_custom_field(&retyped, CustomFieldType::TextField)
        );

        let auto = sync(&site, site.config_with(json!({})), &catalog);
        auto.assert_success();
        assert_valid_singer_output(&auto);
        for id in [&added, &removed, &retyped] {
            assert!(
                auto.stderr.contains(id.as_str()),
                "{deployment}: {id} not in the log:\n{}",
                auto.stderr
            );
        }
        let schema = issues_schema(&auto);
        assert_eq!(
            schema[&added],
            json!({"type": ["null", "number"]}),
            "{deployment}"
        );
        // Text first, so that SQL targets make a text column for both kinds of value.
        assert_eq!(
            schema[&retyped],
            json!({"anyOf": [{"type": "string"}, {"type": ["null", "number", "string"]}]}),
            "{deployment}"
        );
        let issues = auto.records("issues");
        assert!(
            issues.iter().any(|i| i["fields"][&added].is_number()),
            "{deployment}: the new field is synced"
        );
        assert!(
            issues.iter().any(|i| i["fields"][&retyped].is_string()),
            "{deployment}: values of the new type"
        );
        assert!(issues.iter().all(|i| i["fields"].get(&removed).is_none()));

        site.sim.sim.reset_requests();
        let block = sync(
            &site,
            site.config_with(json!({"schema_drift": "block"})),
            &catalog,
        );
        block.assert_success();
        assert_valid_singer_output(&block);
        assert!(block.stderr.contains(added.as_str()), "{}", block.stderr);
        assert!(issues_schema(&block).get(&added).is_none(), "{deployment}");
        assert!(
            block
                .records("issues")
                .iter()
                .all(|i| i["fields"].get(&added).is_none())
        );
        // Blocked fields are not even asked for.
        let asked: Vec<String> = site
            .sim
            .sim
            .requests()
            .into_iter()
            .filter(|r| r.path.contains("/search"))
            .map(|r| r.body)
            .collect();
        assert!(!asked.is_empty());
        assert!(
            asked.iter().all(|body| !body.contains(&added)),
            "{deployment}"
        );
    }
}

#[test]
fn a_rich_text_field_retyped_to_one_line_text_gets_a_schema_its_values_match() {
    // Drift widens the field to take the old and the new values; the catalog's rich-text
    // typing, from the type discovery recorded, must not narrow it back to documents.
    let site = Site::cloud();
    let catalog = catalog_hashing(&site, &["issues"], &[]);
    let retyped = custom_field_of_type(&catalog, "textarea");
    assert!(
        site.sim
            .sim
            .retype_custom_field(&retyped, jira_sim::CustomFieldType::TextField)
    );
    let run = sync(&site, site.config_with(json!({})), &catalog);
    run.assert_success();
    assert!(run.stderr.contains(retyped.as_str()), "{}", run.stderr);
    let issues = run.records("issues");
    assert!(issues.iter().any(|i| i["fields"][&retyped].is_string()));
    assert_eq!(
        issues_schema(&run)[&retyped]["anyOf"][0],
        json!({"type": "string"})
    );
    assert_valid_singer_output(&run);
}

/// Drift puts back a system field the catalog's `issues` schema lacks (a catalog from before the
/// tap described it, or trimmed by hand): `/field` types Jira's embedded worklog page as
/// `array` of `worklog`, but Jira sends an object (`{startAt, maxResults, total, worklogs}`).
#[test]
fn a_system_field_drift_adds_back_is_typed_as_the_values_jira_sends() {
    for deployment in [Deployment::Cloud, Deployment::Server] {
        let site = site_for(deployment);
        let mut catalog = catalog_hashing(&site, &["issues"], &[]);
        let issues = common::entry_mut(&mut catalog, "issues");
        let trimmed = ["worklog", "comment", "votes", "watches", "timetracking"];
        let fields = issues["schema"]["properties"]["fields"]["properties"]
            .as_object_mut()
            .unwrap();
        for id in trimmed {
            assert!(fields.remove(id).is_some(), "{id}");
        }
        issues["metadata"].as_array_mut().unwrap().retain(|m| {
            !trimmed
                .iter()
                .any(|id| m["breadcrumb"] == json!(["properties", "fields", "properties", id]))
        });
        let run = sync(&site, site.config_with(json!({})), &catalog);
        run.assert_success();
        assert!(
            run.records("issues")
                .iter()
                .any(|i| i["fields"]["worklog"].is_object()),
            "{deployment}: the worklog page is synced again"
        );
        assert_valid_singer_output(&run);
    }
}

#[test]
fn cloud_rich_text_gains_a_markdown_or_plain_rendering_and_server_text_stays_as_it_is() {
    use tap_jira::adf::{TextStyle, render};
    let streams = ["issues", "issue_comments", "worklogs"];
    let site = Site::cloud();
    let catalog = catalog_hashing(&site, &streams, &[]);
    let textarea = custom_field_of_type(&catalog, "textarea");
    for (setting, suffix, style) in [
        (json!({}), "markdown", Some(TextStyle::Markdown)),
        (
            json!({"render_text": "plain"}),
            "text",
            Some(TextStyle::Plain),
        ),
        (json!({"render_text": "none"}), "markdown", None),
    ] {
        let run = sync(&site, site.config_with(setting.clone()), &catalog);
        run.assert_success();
        assert_valid_singer_output(&run);
        let mut rendered = 0;
        let mut check = |holder: &Value, key: &str| {
            let sibling = holder.get(format!("{key}_{suffix}"));
            match (style, &holder[key]) {
                (Some(style), doc @ Value::Object(_)) => {
                    assert_eq!(
                        sibling,
                        Some(&json!(render(doc, style).unwrap())),
                        "{setting} {key}"
                    );
                    rendered += 1;
                }
                _ => assert!(sibling.is_none(), "{setting} {key}"),
            }
        };
        for issue in run.records("issues") {
            check(&issue["fields"], "description");
            check(&issue["fields"], "environment");
            check(&issue["fields"], &textarea);
        }
        for comment in run.records("issue_comments") {
            check(&comment, "body");
        }
        for worklog in run.records("worklogs") {
            check(&worklog, "comment");
        }
        assert_eq!(
            rendered > 100,
            style.is_some(),
            "{setting}: {rendered} renderings"
        );
    }

    // A hashed document has no rendering to leak it.
    let description = crumb(&["properties", "fields", "properties", "description"]);
    let hashed = catalog_hashing(&site, &["issues"], &[("issues", description)]);
    let run = sync(&site, site.config_with(json!({"hash_salt": SALT})), &hashed);
    run.assert_success();
    assert!(
        run.records("issues")
            .iter()
            .all(|i| i["fields"].get("description_markdown").is_none())
    );

    let server = Site::server();
    let catalog = catalog_hashing(&server, &streams, &[]);
    let run = sync(&server, server.config_with(json!({})), &catalog);
    run.assert_success();
    assert!(
        !run.stdout.contains("_markdown\""),
        "wiki markup is left as it is"
    );
}

/// A rendering is the text of the document it renders: marked with `tap-jira.hash` (an issue's
/// `description_markdown`, a comment's `body_markdown`), it leaves hashed, flattened or not, as
/// the mark and its SCHEMA (a nullable string) say, and never in clear.
#[test]
fn a_rendering_marked_for_hashing_leaves_hashed() {
    let site = Site::cloud();
    let streams = ["issues", "issue_comments"];
    let clear = sync(
        &site,
        site.config_with(json!({})),
        &catalog_hashing(&site, &streams, &[]),
    );
    clear.assert_success();
    let catalog = catalog_hashing(
        &site,
        &streams,
        &[
            (
                "issues",
                crumb(&["properties", "fields", "properties", "description_markdown"]),
            ),
            ("issue_comments", crumb(&["properties", "body_markdown"])),
        ],
    );
    let (clear_issues, clear_comments) = (
        by_id(clear.records("issues")),
        by_id(clear.records("issue_comments")),
    );
    for flat in [false, true] {
        let config = site.config_with(json!({"hash_salt": SALT, "flattening_enabled": flat,
            "flattening_max_depth": 2}));
        let run = sync(&site, config, &catalog);
        run.assert_success();
        assert_valid_singer_output(&run);
        let mut rendered = 0;
        for (id, issue) in by_id(run.records("issues")) {
            let clear = &clear_issues[&id]["fields"];
            let (rendering, document) = match flat {
                true => (
                    issue.get("fields__description_markdown"),
                    issue["fields__description"]
                        .as_str()
                        .map(|t| serde_json::from_str::<Value>(t).unwrap()),
                ),
                false => (
                    issue["fields"].get("description_markdown"),
                    Some(issue["fields"]["description"].clone()),
                ),
            };
            assert_eq!(
                rendering,
                clear.get("description_markdown").map(hash).as_ref(),
                "flattened: {flat}"
            );
            assert_eq!(
                document.unwrap_or(Value::Null),
                clear["description"],
                "the document is not marked"
            );
            rendered += usize::from(rendering.is_some());
        }
        assert!(rendered > 0, "the site has descriptions to render");
        assert_eq!(run.records("issue_comments").len(), clear_comments.len());
        for comment in run.records("issue_comments") {
            let clear = &clear_comments[comment["id"].as_str().unwrap()];
            assert_eq!(
                comment.get("body_markdown"),
                clear.get("body_markdown").map(hash).as_ref(),
                "flattened: {flat}"
            );
        }
    }
}

/// The rich-text properties of a SCHEMA message or a discovered entry's schema, by stream.
fn rich_text_types(stream: &str, schema: &Value, textarea: &str) -> Vec<Value> {
    let pointers: Vec<String> = match stream {
        "issues" => vec![
            "/properties/fields/properties/description".into(),
            "/properties/fields/properties/environment".into(),
            format!("/properties/fields/properties/{textarea}"),
        ],
        "issue_comments" => vec!["/properties/body".into()],
        _ => vec!["/properties/comment".into()],
    };
    pointers
        .iter()
        .map(|p| schema.pointer(p).unwrap_or(&Value::Null)["type"].clone())
        .collect()
}

#[test]
fn rich_text_is_adf_objects_or_wiki_strings_on_cloud_never_both_and_wiki_reads_rest_v2() {
    let streams = ["issues", "issue_comments", "worklogs"];
    let site = Site::cloud();
    let adf_catalog = catalog_hashing(&site, &streams, &[]);
    let textarea = custom_field_of_type(&adf_catalog, "textarea");
    let wiki_config = site.file("wiki.json", &site.config_with(json!({"rich_text": "wiki"})));
    let wiki_catalog = site.discover(&wiki_config);
    for (catalog, expected) in [
        (&adf_catalog, json!(["null", "object"])),
        (&wiki_catalog, json!(["null", "string"])),
    ] {
        for entry in catalog["streams"].as_array().unwrap() {
            let name = entry["stream"].as_str().unwrap();
            if streams.contains(&name) {
                for found in rich_text_types(name, &entry["schema"], &textarea) {
                    assert_eq!(found, expected, "{name} in discovery");
                }
            }
        }
    }

    // Either catalog syncs either way: the SCHEMA says what the site sends.
    for catalog in [&adf_catalog, &wiki_catalog] {
        for (setting, expected) in [
            (json!({}), json!(["null", "object"])),
            (json!({"rich_text": "wiki"}), json!(["null", "string"])),
        ] {
            site.sim.sim.reset_requests();
            let run = sync(&site, site.config_with(setting.clone()), catalog);
            run.assert_success();
            assert_valid_singer_output(&run);
            for message in run.messages().iter().filter(|m| m["type"] == "SCHEMA") {
                let name = message["stream"].as_str().unwrap();
                if !streams.contains(&name) {
                    continue;
                }
                for found in rich_text_types(name, &message["schema"], &textarea) {
                    assert_eq!(found, expected, "{setting} {name}");
                }
            }
            let wiki = setting.get("rich_text").is_some();
            let texts: Vec<Value> = run
                .records("issues")
                .iter()
                .map(|i| i["fields"]["description"].clone())
                .chain(
                    run.records("issue_comments")
                        .iter()
                        .map(|c| c["body"].clone()),
                )
                .filter(|t| !t.is_null())
                .collect();
            assert!(texts.len() > 100, "{setting}");
            assert!(
                texts
                    .iter()
                    .all(|t| t.is_string() == wiki && t.is_object() != wiki),
                "{setting}"
            );
            let version = if wiki { "/rest/api/2/" } else { "/rest/api/3/" };
            let requests = site.sim.sim.requests();
            assert!(
                requests
                    .iter()
                    // Which deployment this is gets asked before the client knows.
                    .filter(|r| r.path.contains("/rest/api/") && !r.path.ends_with("/serverInfo"))
                    .all(|r| r.path.contains(version)),
                "{setting}: every request reads {version}"
            );
            assert_eq!(
                run.stdout.contains("_markdown\""),
                !wiki,
                "wiki markup gets no rendering"
            );
        }
    }
}

#[test]
fn deleted_worklogs_are_records_with_sdc_deleted_at_once_each() {
    for deployment in [Deployment::Cloud, Deployment::Server] {
        let site = site_for(deployment);
        site.sim.sim.set_worklog_settling_ms(0);
        let catalog = catalog_hashing(&site, &["worklogs"], &[]);
        let first = sync(&site, site.config_with(json!({})), &catalog);
        first.assert_success();
        assert!(
            first
                .records("worklogs")
                .iter()
                .all(|w| w.get("_sdc_deleted_at").is_none()),
            "{deployment}: a first sync reports no deletions"
        );
        let deleted: BTreeSet<String> = site
            .sim
            .sim
            .delete_worklogs(3)
            .iter()
            .map(|d| d.worklog_id.to_string())
            .collect();
        let state = site.file("state.json", &first.last_state());
        let next = site.sync_from(&state);
        next.assert_success();
        assert_valid_singer_output(&next);
        let gone: Vec<Value> = next
            .records("worklogs")
            .into_iter()
            .filter(|w| w.get("_sdc_deleted_at").is_some_and(Value::is_string))
            .collect();
        assert_eq!(ids_of(&gone, "id"), deleted, "{deployment}");
        assert_eq!(gone.len(), deleted.len(), "{deployment}: once each");
        let state = site.file("state.json", &next.last_state());
        let again = site.sync_from(&state);
        again.assert_success();
        assert!(
            again.records("worklogs").is_empty(),
            "{deployment}: nothing new"
        );
    }
}

/// Jira dates a worklog's deletion by its own clock: with that clock behind the tap's, a worklog
/// deleted soon after the first sync is listed by `worklog/deleted` before the tap's start.
#[test]
fn worklogs_deleted_after_a_first_sync_on_a_site_whose_clock_is_behind_are_reported() {
    let site = Site::new(SimConfig {
        clock_offset_ms: -10 * 60 * 1000,
        ..SimConfig::default()
    });
    site.sim.sim.set_worklog_settling_ms(0);
    let catalog = catalog_hashing(&site, &["worklogs"], &[]);
    let first = sync(&site, site.config_with(json!({})), &catalog);
    first.assert_success();
    three_worklogs_deleted_are_reported_after(&site, &first);
}

/// A worklogs bookmark past Jira's clock (kept from before the clock was put back) hides none of
/// the changes Jira dates after the next run.
#[test]
fn a_worklogs_bookmark_past_jiras_clock_hides_no_later_deletion() {
    let site = Site::new(SimConfig::default());
    site.sim.sim.set_worklog_settling_ms(0);
    let catalog = catalog_hashing(&site, &["worklogs"], &[]);
    let first = sync(&site, site.config_with(json!({})), &catalog);
    first.assert_success();
    let mut state = first.last_state();
    let in_an_hour = (chrono::Utc::now() + chrono::Duration::hours(1)).to_rfc3339();
    state["bookmarks"]["worklogs"] =
        json!({"updated": in_an_hour, "deleted": {"updated": in_an_hour}});
    let second = site.sync_from(&site.file("state.json", &state));
    second.assert_success();

    three_worklogs_deleted_are_reported_after(&site, &second);
}

/// Three worklogs deleted after `before` are each reported deleted by the sync from its state.
fn three_worklogs_deleted_are_reported_after(site: &Site, before: &Run) {
    let deleted: BTreeSet<String> = site
        .sim
        .sim
        .delete_worklogs(3)
        .iter()
        .map(|d| d.worklog_id.to_string())
        .collect();
    let next = site.sync_from(&site.file("state.json", &before.last_state()));
    next.assert_success();
    let reported: BTreeSet<String> = deletions(&next, "worklogs").into_keys().collect();
    assert_eq!(
        reported,
        deleted,
        "state before: {}",
        before.last_state()["bookmarks"]["worklogs"]
    );
}

/// The records of `run` that say their row was deleted, by id; each id once.
fn deletions(run: &Run, stream: &str) -> BTreeMap<String, Value> {
    let gone: Vec<Value> = run
        .records(stream)
        .into_iter()
        .filter(|r| r.get("_sdc_deleted_at").is_some_and(Value::is_string))
        .collect();
    let by_id = by_id(gone.clone());
    assert_eq!(by_id.len(), gone.len(), "each deletion once");
    by_id
}

#[test]
fn deleted_issues_become_records_with_sdc_deleted_at_from_the_audit_log_or_by_reconciling() {
    for deployment in [Deployment::Cloud, Deployment::Server] {
        for (mode, admin) in [("audit", true), ("reconcile", false)] {
            let what = format!("{deployment} {mode}");
            let site = Site::new(SimConfig {
                deployment,
                admin,
                ..SimConfig::default()
            });
            let catalog = catalog_hashing(&site, &["issues"], &[]);
            let config = site.config_with(json!({"deleted_issues": mode}));
            let first = sync(&site, config, &catalog);
            first.assert_success();
            assert!(deletions(&first, "issues").is_empty(), "{what}: first sync");
            assert!(
                first.last_state()["bookmarks"]["issues"]["deleted"].is_object(),
                "{what}: deletions are followed from the first sync on"
            );
            let live_before = first.records("issues").len();

            site.sim.sim.delete_issues(4);
            let deleted: BTreeMap<String, String> = site
                .sim
                .sim
                .deleted_issues()
                .into_iter()
                .map(|d| (d.id, d.key))
                .collect();
            assert!(deleted.len() >= 4);
            let next = site.sync_from(&site.file("state.json", &first.last_state()));
            next.assert_success();
            assert_valid_singer_output(&next);
            let gone = deletions(&next, "issues");
            assert_eq!(
                gone.keys().collect::<Vec<_>>(),
                deleted.keys().collect::<Vec<_>>(),
                "{what}: exactly the deleted issues"
            );
            for (id, record) in &gone {
                if mode == "audit" {
                    assert_eq!(record["key"], json!(deleted[id]), "{what}");
                }
                assert!(
                    record["_sdc_deleted_at"].as_str().unwrap().ends_with('Z'),
                    "{what}"
                );
            }

            let again = site.sync_from(&site.file("state.json", &next.last_state()));
            again.assert_success();
            assert!(deletions(&again, "issues").is_empty(), "{what}: once");
            if mode == "reconcile" {
                // The ids the state keeps are those Jira still has.
                let ids = again.last_state()["bookmarks"]["issues"]["deleted"]["ids"]
                    .as_str()
                    .unwrap()
                    .to_string();
                let kept = tap_jira::id_runs::decode(&ids).unwrap();
                assert_eq!(kept.len(), live_before - deleted.len(), "{what}");
            }
        }
    }
}

/// Data Center refuses a search page reaching past its search window (10,000 rows; here 50), and
/// a bulk import can create more issues than that in one minute: the reconcile listing, which
/// restarts at the newest issue's creation minute, must still list every id (or a run would take
/// the ones it missed for deleted), and the deletions among them are reported.
#[test]
fn a_reconcile_listing_of_more_issues_created_in_one_minute_than_the_search_window_lists_them_all()
{
    let site = Site::new(SimConfig {
        deployment: Deployment::Server,
        admin: false,
        busy_every: 0,
        max_page_size: 10,
        search_window: 50,
        ..SimConfig::default()
    });
    // 120 issues created at one instant, after the 60 the site had.
    let imported = site.sim.sim.add_issues("WEB", 120);
    let catalog = catalog_hashing(&site, &["issues"], &[]);
    let config = site.config_with(json!({"deleted_issues": "reconcile", "page_size": 10,
                                         "max_retries": 1}));
    let first = sync(&site, config.clone(), &catalog);
    first.assert_success();
    let ids = first.last_state()["bookmarks"]["issues"]["deleted"]["ids"]
        .as_str()
        .unwrap()
        .to_string();
    let listed = tap_jira::id_runs::decode(&ids).unwrap();
    assert_eq!(listed.len(), site.sim.sim.issue_count(), "every id listed");
    let gone: Vec<String> = [&imported[3], &imported[77]]
        .into_iter()
        .filter(|id| site.sim.sim.delete_issue(id).is_some())
        .cloned()
        .collect();
    assert_eq!(gone.len(), 2);
    let next = sync_from_state(&site, config, &catalog, &first.last_state());
    next.assert_success();
    let reported: Vec<String> = deletions(&next, "issues").into_keys().collect();
    let mut expected = gone;
    expected.sort();
    assert_eq!(reported, expected, "exactly the deleted issues");
}

/// Jira refuses JQL comparing `id` with an issue that does not exist. The reconcile listing lists
/// a crowded minute by id, each page after the last id listed: when that issue is deleted before
/// the next page, the listing goes on after the one before it, and the deletion is reported.
#[test]
fn a_reconcile_listing_by_id_goes_on_when_the_last_issue_listed_is_deleted() {
    let crowded_site = || {
        let site = Site::new(SimConfig {
            deployment: Deployment::Server,
            admin: false,
            busy_every: 0,
            max_page_size: 10,
            search_window: 50,
            id_ranges_need_an_issue: true,
            ..SimConfig::default()
        });
        // 120 issues created at one instant, after the 60 the site had.
        site.sim.sim.add_issues("WEB", 120);
        site
    };
    let (twin, site) = (crowded_site(), crowded_site());
    let catalog = catalog_hashing(&site, &["issues"], &[]);
    let config = site.config_with(json!({"deleted_issues": "reconcile", "page_size": 10,
                                         "max_retries": 1}));
    let twin_config = twin.config_with(json!({"deleted_issues": "reconcile", "page_size": 10,
                                              "max_retries": 1}));
    // The twin tells which issue the second run's listing last goes on after, and when.
    let first = sync(&twin, twin_config.clone(), &catalog);
    first.assert_success();
    twin.sim.sim.reset_requests();
    sync_from_state(&twin, twin_config, &catalog, &first.last_state()).assert_success();
    let (before, last_listed) = common::last_page_after_an_id(&twin.sim.sim, "created >=");

    let first = sync(&site, config.clone(), &catalog);
    first.assert_success();
    site.sim.sim.reset_requests();
    site.sim.sim.delete_issues_before_request(
        "/rest/api/2/search",
        before,
        vec![last_listed.clone()],
    );
    let next = sync_from_state(&site, config, &catalog, &first.last_state());
    next.assert_success();
    assert!(
        common::refused(&site.sim.sim, &format!("id > {last_listed} ")),
        "Jira refused the page after the deleted issue"
    );
    let reported: Vec<String> = deletions(&next, "issues").into_keys().collect();
    assert_eq!(
        reported,
        [last_listed.as_str()],
        "exactly the deleted issue"
    );
    let ids = next.last_state()["bookmarks"]["issues"]["deleted"]["ids"]
        .as_str()
        .unwrap()
        .to_string();
    let listed = tap_jira::id_runs::decode(&ids).unwrap();
    assert_eq!(
        listed.len(),
        site.sim.sim.issue_count(),
        "every other id listed"
    );
}

/// Jira writes an audit record's `summary` and `category` in the site's default language: on a
/// site set up in German an issue's deletion reads "Vorgang gelöscht". Its deletions are found
/// all the same, and nothing else of the log is taken for one.
#[test]
fn issues_deleted_on_a_site_in_another_language_are_found_in_the_audit_log() {
    for deployment in [Deployment::Cloud, Deployment::Server] {
        let site = Site::new(SimConfig {
            deployment,
            language: Language::German,
            ..SimConfig::default()
        });
        let catalog = catalog_hashing(&site, &["issues"], &[]);
        let config = site.config_with(json!({"deleted_issues": "audit"}));
        let first = sync(&site, config, &catalog);
        first.assert_success();
        site.sim.sim.delete_issues(3);
        let deleted = deleted_ids(&site);
        assert!(deleted.len() >= 3);
        let next = site.sync_from(&site.file("state.json", &first.last_state()));
        next.assert_success();
        let reported: BTreeSet<String> = deletions(&next, "issues").into_keys().collect();
        assert_eq!(reported, deleted, "{deployment}");
    }
}

/// Jira dates its audit records by its own clock. With that clock behind the tap's, an issue the
/// first sync wrote and deleted soon after has its record dated before the tap's start: the
/// log must still be read from there.
#[test]
fn issues_deleted_after_a_first_sync_on_a_site_whose_clock_is_behind_are_reported() {
    let site = Site::new(SimConfig {
        clock_offset_ms: -10 * 60 * 1000,
        ..SimConfig::default()
    });
    let catalog = catalog_hashing(&site, &["issues"], &[]);
    let config = site.config_with(json!({"deleted_issues": "audit"}));
    let first = sync(&site, config, &catalog);
    first.assert_success();
    site.sim.sim.delete_issues(2);
    let deleted = deleted_ids(&site);
    let next = site.sync_from(&site.file("state.json", &first.last_state()));
    next.assert_success();
    let reported: BTreeSet<String> = deletions(&next, "issues").into_keys().collect();
    assert_eq!(
        reported,
        deleted,
        "state after the first sync: {}",
        first.last_state()["bookmarks"]["issues"]["deleted"]
    );
}

/// An audit record dated ahead of Jira's clock (a server whose clock ran fast and was put right,
/// or a cluster node ahead of the others) must not carry the log's place past the deletions
/// Jira records after it at its right time, nor be reported again by every run.
#[test]
fn an_audit_record_dated_ahead_of_jiras_clock_hides_no_later_deletion() {
    let site = Site::new(SimConfig::default());
    let catalog = catalog_hashing(&site, &["issues"], &[]);
    let config = site.config_with(json!({"deleted_issues": "audit"}));
    let first = sync(&site, config, &catalog);
    first.assert_success();

    site.sim.sim.set_clock_offset_ms(60 * 60 * 1000);
    site.sim.sim.delete_issues(1);
    site.sim.sim.set_clock_offset_ms(0);
    let early = deleted_ids(&site);
    let second = site.sync_from(&site.file("state.json", &first.last_state()));
    second.assert_success();
    let reported: BTreeSet<String> = deletions(&second, "issues").into_keys().collect();
    assert_eq!(reported, early);

    site.sim.sim.delete_issues(1);
    let later: BTreeSet<String> = deleted_ids(&site).difference(&early).cloned().collect();
    let third = site.sync_from(&site.file("state.json", &second.last_state()));
    third.assert_success();
    let reported: BTreeSet<String> = deletions(&third, "issues").into_keys().collect();
    assert_eq!(
        reported,
        later,
        "state after the second run: {}",
        second.last_state()["bookmarks"]["issues"]["deleted"]
    );
}

/// With an audit record dated after Jira's clock, the log's place stops at Jira's clock, to the
/// millisecond: a deletion Jira records later in that millisecond, after the log was read, is
/// reported by the next run, and once.
#[test]
fn a_deletion_in_the_millisecond_of_jiras_clock_after_a_record_ahead_of_it_is_reported() {
    let millis = |ms: i64| format!("{}+0000", utc_millis(ms));
    // Recorded after the log was read, or read with it.
    for after_the_read in [true, false] {
        let site = Site::new(SimConfig::default());
        let catalog = catalog_hashing(&site, &["issues"], &[]);
        // Named: the `serverInfo` answered below tells no deployment.
        let config = site.config_with(json!({"deleted_issues": "audit", "deployment": "cloud"}));
        let first = sync(&site, config, &catalog);
        first.assert_success();

        let gone = site.sim.sim.delete_issues(1);
        let at = gone[0].deleted_at_ms;
        // Jira's clock reads the deletion's millisecond; the log read then holds a record dated
        // an hour ahead of it, and the deletion only when it was recorded before the read.
        site.sim.sim.push_fault(jira_sim::Fault {
            path_contains: "/serverInfo".into(),
            status: 200,
            body: json!({"serverTime": millis(at)}).to_string(),
            // Asked when the search begins, and when the log is read.
            times: 2,
            ..jira_sim::Fault::default()
        });
        let ahead = json!({"id": 99999, "summary": "User created",
                           "created": millis(at + 3_600_000), "category": "user management",
                           "objectItem": {"id": "ug:ahead", "name": "ahead", "typeName": "USER"}});
        if after_the_read {
            site.sim.sim.push_fault(jira_sim::Fault {
                path_contains: "/auditing/record".into(),
                status: 200,
                body: json!({"offset": 0, "limit": 1000, "total": 1, "records": [ahead]})
                    .to_string(),
                ..jira_sim::Fault::default()
            });
        }
        let second = site.sync_from(&site.file("state.json", &first.last_state()));
        second.assert_success();
        // Later, with Jira's clock past that millisecond.
        std::thread::sleep(std::time::Duration::from_millis(5));
        let third = site.sync_from(&site.file("state.json", &second.last_state()));
        third.assert_success();
        let reported: Vec<String> = [&second, &third]
            .into_iter()
            .flat_map(|run| deletions(run, "issues").into_keys())
            .collect();
        assert_eq!(
            reported,
            vec![gone[0].id.clone()],
            "recorded after the read: {after_the_read}; state after the second run: {}",
            second.last_state()["bookmarks"]["issues"]["deleted"]
        );
    }
}

/// The audit log's place past Jira's clock (carried there by a record dated ahead, as versions
/// before the place stopped at Jira's clock let it be, or kept from before Jira's clock was put
/// back) hides none of the deletions Jira records after the next run.
#[test]
fn an_audit_log_place_past_jiras_clock_hides_no_later_deletion() {
    let site = Site::new(SimConfig::default());
    let catalog = catalog_hashing(&site, &["issues"], &[]);
    let first = sync(
        &site,
        site.config_with(json!({"deleted_issues": "audit"})),
        &catalog,
    );
    first.assert_success();
    let mut state = first.last_state();
    let in_an_hour = chrono::Utc::now() + chrono::Duration::hours(1);
    state["bookmarks"]["issues"]["deleted"] = json!({"created": in_an_hour.to_rfc3339()});
    let second = site.sync_from(&site.file("state.json", &state));
    second.assert_success();

    let gone = site.sim.sim.delete_issues(1);
    let third = site.sync_from(&site.file("state.json", &second.last_state()));
    third.assert_success();
    let reported: Vec<String> = deletions(&third, "issues").into_keys().collect();
    assert_eq!(
        reported,
        vec![gone[0].id.clone()],
        "state after the second run: {}",
        second.last_state()["bookmarks"]["issues"]["deleted"]
    );
}

/// Jira dates its audit records to the millisecond. A deletion in the millisecond the log is
/// read from (Jira's clock when the first sync began, or a start a state holds to the
/// nanosecond, as earlier versions wrote it) is reported, and once.
#[test]
fn an_issue_deleted_in_the_millisecond_the_audit_log_starts_at_is_reported_once() {
    let millis = utc_millis;
    // Jira's clock (behind the tap's) reads the deletion's millisecond when the first sync
    // begins.
    let site = Site::new(SimConfig {
        clock_offset_ms: -60 * 60 * 1000,
        ..SimConfig::default()
    });
    let catalog = catalog_hashing(&site, &["issues"], &[]);
    let config = site.config_with(json!({"deleted_issues": "audit", "deployment": "cloud"}));
    let gone = site.sim.sim.delete_issues(1);
    let at = gone[0].deleted_at_ms;
    site.sim.sim.push_fault(jira_sim::Fault {
        path_contains: "/serverInfo".into(),
        status: 200,
        body: json!({"serverTime": format!("{}+0000", millis(at))}).to_string(),
        ..jira_sim::Fault::default()
    });
    let first = sync(&site, config, &catalog);
    first.assert_success();
    let second = site.sync_from(&site.file("state.json", &first.last_state()));
    second.assert_success();
    let reported: Vec<String> = [&first, &second]
        .into_iter()
        .flat_map(|run| deletions(run, "issues").into_keys())
        .collect();
    assert_eq!(
        reported,
        vec![gone[0].id.clone()],
        "from Jira's clock; the first sync's state: {}",
        first.last_state()["bookmarks"]["issues"]["deleted"]
    );

    // A start kept to the nanosecond, a deletion later in its millisecond.
    let site = Site::new(SimConfig::default());
    let catalog = catalog_hashing(&site, &["issues"], &[]);
    let config = site.config_with(json!({"deleted_issues": "audit"}));
    let first = sync(&site, config, &catalog);
    first.assert_success();
    let gone = site.sim.sim.delete_issues(1);
    let mut state = first.last_state();
    state["bookmarks"]["issues"]["deleted"] =
        json!({"created": format!("{}400000Z", millis(gone[0].deleted_at_ms))});
    let second = site.sync_from(&site.file("state.json", &state));
    second.assert_success();
    let third = site.sync_from(&site.file("state.json", &second.last_state()));
    third.assert_success();
    let reported: Vec<String> = [&second, &third]
        .into_iter()
        .flat_map(|run| deletions(run, "issues").into_keys())
        .collect();
    assert_eq!(
        reported,
        vec![gone[0].id.clone()],
        "from a state's nanoseconds"
    );
}

/// The ids of the issues the simulator has deleted so far.
fn deleted_ids(site: &Site) -> BTreeSet<String> {
    site.sim
        .sim
        .deleted_issues()
        .into_iter()
        .map(|d| d.id)
        .collect()
}

/// A run that finds the audit log refused (the account lost *Administer Jira* for a while, or the
/// gateway answered 404 once) cannot read deletions; the next run that can read the log goes on
/// from where the last one that read it stopped, so deletions made in between are reported.
#[test]
fn deletions_made_while_the_audit_log_was_refused_are_reported_once_it_answers_again() {
    let site = Site::new(SimConfig::default());
    let catalog = catalog_hashing(&site, &["issues"], &[]);
    let config = site.config_with(json!({"deleted_issues": "audit"}));
    let first = sync(&site, config, &catalog);
    first.assert_success();
    assert!(first.last_state()["bookmarks"]["issues"]["deleted"]["created"].is_string());

    site.sim.sim.delete_issues(2);
    let deleted = deleted_ids(&site);
    site.sim
        .sim
        .push_fault(jira_sim::Fault::status("/auditing/record", 403));
    let refused = site.sync_from(&site.file("state.json", &first.last_state()));
    refused.assert_success();
    assert!(deletions(&refused, "issues").is_empty());

    let next = site.sync_from(&site.file("state.json", &refused.last_state()));
    next.assert_success();
    let reported: BTreeSet<String> = deletions(&next, "issues").into_keys().collect();
    assert_eq!(
        reported,
        deleted,
        "the issues deleted while the audit log was refused; state after the refused run: {}",
        refused.last_state()
    );
}

/// A state written while reconciling keeps no place in the audit log: switching to `audit` (the
/// account was given Administer Jira) reads the log from the bookmark's `updated`, as from a
/// state without deletions, so the issues deleted since the last run are reported, also when the
/// filters change with it.
#[test]
fn issues_deleted_before_a_switch_from_reconcile_to_audit_are_reported() {
    for filters in [json!({}), json!({"updated_after": "2001-01-01T00:00:00Z"})] {
        let site = Site::new(SimConfig::default());
        let catalog = catalog_hashing(&site, &["issues"], &[]);
        let reconcile = site.config_with(json!({"deleted_issues": "reconcile"}));
        let first = sync(&site, reconcile, &catalog);
        first.assert_success();
        assert!(first.last_state()["bookmarks"]["issues"]["deleted"]["ids"].is_string());

        site.sim.sim.delete_issues(2);
        let deleted = deleted_ids(&site);
        let mut audit = site.config_with(json!({"deleted_issues": "audit"}));
        for (key, value) in filters.as_object().unwrap() {
            audit[key] = value.clone();
        }
        let next = sync_from_state(&site, audit, &catalog, &first.last_state());
        next.assert_success();
        let reported: BTreeSet<String> = deletions(&next, "issues").into_keys().collect();
        assert_eq!(reported, deleted, "{filters}");
        assert!(
            next.last_state()["bookmarks"]["issues"]["deleted"]["created"].is_string(),
            "{filters}"
        );
    }
}

/// A state written with `audit` holds no ids to reconcile with: the run that switches to
/// `reconcile` reads the audit log once more from its place, so the issues deleted since the last
/// run are reported, once, and the runs after it reconcile.
#[test]
fn issues_deleted_before_a_switch_from_audit_to_reconcile_are_reported() {
    let site = Site::new(SimConfig::default());
    let catalog = catalog_hashing(&site, &["issues"], &[]);
    let audit = site.config_with(json!({"deleted_issues": "audit"}));
    let first = sync(&site, audit, &catalog);
    first.assert_success();
    assert!(first.last_state()["bookmarks"]["issues"]["deleted"]["created"].is_string());

    site.sim.sim.delete_issues(2);
    let deleted = deleted_ids(&site);
    let reconcile = site.config_with(json!({"deleted_issues": "reconcile"}));
    let next = sync_from_state(&site, reconcile, &catalog, &first.last_state());
    next.assert_success();
    let reported: BTreeSet<String> = deletions(&next, "issues").into_keys().collect();
    assert_eq!(reported, deleted, "the issues deleted before the switch");
    let kept = &next.last_state()["bookmarks"]["issues"]["deleted"];
    assert!(kept["ids"].is_string(), "{kept}");

    site.sim.sim.delete_issues(1);
    let later: BTreeSet<String> = deleted_ids(&site).difference(&deleted).cloned().collect();
    let again = site.sync_from(&site.file("state.json", &next.last_state()));
    again.assert_success();
    let reported: BTreeSet<String> = deletions(&again, "issues").into_keys().collect();
    assert_eq!(reported, later, "once each");

    // The log refused at the switch: a warning says the deletions since the last run are not
    // reported, and the run goes on reconciling.
    let site = Site::new(SimConfig::default());
    let audit = site.config_with(json!({"deleted_issues": "audit"}));
    let first = sync(&site, audit, &catalog);
    first.assert_success();
    site.sim.sim.delete_issues(1);
    site.sim
        .sim
        .push_fault(jira_sim::Fault::status("/auditing/record", 403));
    let reconcile = site.config_with(json!({"deleted_issues": "reconcile"}));
    let next = sync_from_state(&site, reconcile, &catalog, &first.last_state());
    next.assert_success();
    let warned = next
        .stderr
        .lines()
        .any(|l| l.contains("WARN") && l.contains("Administer Jira") && l.contains("reconcile"));
    assert!(warned, "{}", next.stderr);
    assert!(next.last_state()["bookmarks"]["issues"]["deleted"]["ids"].is_string());
}

/// The run that switches from `audit` to `reconcile`, stopped half way, keeps the ids it listed
/// under the filters of then: with the filters changed before the next run, that run tells the
/// deleted issues among them from every issue Jira has, as after a switch run that finished, not
/// asking Jira one by one for each issue the new filters leave out.
#[test]
fn a_stopped_switch_to_reconcile_followed_by_a_change_of_filters_asks_only_for_the_deleted() {
    let site = Site::new(SimConfig::default());
    let catalog = catalog_hashing(&site, &["issues"], &[]);
    let audit = site.config_with(json!({"deleted_issues": "audit"}));
    let first = sync(&site, audit, &catalog);
    first.assert_success();

    let reconcile = site.config_with(json!({"deleted_issues": "reconcile"}));
    let switch = sync_from_state(&site, reconcile, &catalog, &first.last_state());
    switch.assert_success();
    // The first STATE with the ids listed at the switch: where a run stopped just after it
    // resumes, before the audit log is read once more at the end.
    let stopped_at = switch
        .states()
        .into_iter()
        .find(|s| s["bookmarks"]["issues"]["deleted"]["ids"].is_string())
        .expect("a STATE lists the ids");
    assert!(
        stopped_at["bookmarks"]["issues"]["deleted"]["created"].is_string(),
        "{stopped_at}"
    );

    site.sim.sim.delete_issues(2);
    let deleted = deleted_ids(&site);
    let mut narrowed = site.config_with(json!({"deleted_issues": "reconcile"}));
    narrowed["projects"] = json!(["WEB"]);
    site.sim.sim.reset_requests();
    let next = sync_from_state(&site, narrowed, &catalog, &stopped_at);
    next.assert_success();
    let asked: BTreeSet<String> = site
        .sim
        .sim
        .requests()
        .into_iter()
        .filter(|r| r.method == "GET")
        .filter_map(|r| r.path.split("/issue/").nth(1).map(str::to_string))
        .collect();
    assert!(
        asked.is_subset(&deleted),
        "asked by id for {} issues ({} deleted); resumed from {}",
        asked.len(),
        deleted.len(),
        stopped_at["bookmarks"]["issues"]["deleted"]
    );
}
/// Issue ids listed under other filters still tell which issues went: those Jira answers 404 for
/// are deleted whatever the filters, so a change of filters loses no deletion in between, as it
/// loses none read from the audit log or `worklog/deleted`.
#[test]
fn issues_deleted_before_a_change_of_filters_are_still_reported_when_reconciling() {
    for filters in [
        json!({"updated_after": "2001-01-01T00:00:00Z"}),
        json!({"projects": ["WEB"]}),
    ] {
        let site = Site::new(SimConfig {
            admin: false,
            ..SimConfig::default()
        });
        let catalog = catalog_hashing(&site, &["issues"], &[]);
        let first = sync(
            &site,
            site.config_with(json!({"deleted_issues": "reconcile"})),
            &catalog,
        );
        first.assert_success();
        site.sim.sim.delete_issues(6);
        let mut config = site.config_with(json!({"deleted_issues": "reconcile"}));
        for (key, value) in filters.as_object().unwrap() {
            config[key] = value.clone();
        }
        let keeps = |key: &str| filters.get("projects").is_none() || key.starts_with("WEB-");
        let deleted: BTreeSet<String> = site
            .sim
            .sim
            .deleted_issues()
            .into_iter()
            .filter(|d| keeps(&d.key))
            .map(|d| d.id)
            .collect();
        assert!(!deleted.is_empty());
        let second = sync_from_state(&site, config, &catalog, &first.last_state());
        second.assert_success();
        assert!(
            second.stderr.contains("the filters differ"),
            "{}",
            second.stderr
        );
        let third = site.sync_from(&site.file("state.json", &second.last_state()));
        third.assert_success();
        let reported: BTreeSet<String> = deletions(&second, "issues")
            .into_keys()
            .chain(deletions(&third, "issues").into_keys())
            .collect();
        assert!(
            deleted.is_subset(&reported),
            "{filters}: deleted {deleted:?}, reported {reported:?}"
        );
    }
}

/// An issue Jira hides for a while (its project archived or in the trash, or issue security
/// that keeps the account out) answers 404 and is reported deleted; shown again with its
/// `updated` unchanged, no incremental search returns it, so the run that finds its id back in
/// the listing writes it again: the target gets the row back. A run with no id back pays nothing.
#[test]
fn an_issue_hidden_and_shown_again_is_written_again_when_reconciling() {
    for deployment in [Deployment::Cloud, Deployment::Server] {
        let site = Site::new(SimConfig {
            deployment,
            admin: false,
            ..SimConfig::default()
        });
        let catalog = catalog_hashing(&site, &["issues"], &[]);
        let config = site.config_with(json!({"deleted_issues": "reconcile"}));
        let first = sync(&site, config, &catalog);
        first.assert_success();
        let issues = first.records("issues");
        let id = issues[issues.len() / 2]["id"].as_str().unwrap().to_string();

        assert!(site.sim.sim.hide_issue(&id));
        let hidden = site.sync_from(&site.file("state.json", &first.last_state()));
        hidden.assert_success();
        assert_eq!(
            deletions(&hidden, "issues").into_keys().collect::<Vec<_>>(),
            vec![id.clone()],
            "{deployment}: a hidden issue answers 404, as a deleted one"
        );

        assert!(site.sim.sim.show_issue(&id));
        let shown = site.sync_from(&site.file("state.json", &hidden.last_state()));
        shown.assert_success();
        assert_valid_singer_output(&shown);
        let back: Vec<Value> = shown
            .records("issues")
            .into_iter()
            .filter(|r| r["id"] == json!(id))
            .collect();
        assert_eq!(
            back.len(),
            1,
            "{deployment}: the issue is written again once"
        );
        assert!(
            back[0].get("_sdc_deleted_at").is_none_or(Value::is_null),
            "{deployment}: as a live row"
        );
        assert!(deletions(&shown, "issues").is_empty(), "{deployment}");

        site.sim.sim.reset_requests();
        let again = site.sync_from(&site.file("state.json", &shown.last_state()));
        again.assert_success();
        assert!(
            again.records("issues").is_empty(),
            "{deployment}: written once"
        );
        assert!(
            site.sim
                .sim
                .requests()
                .iter()
                .all(|r| !r.body.contains(&format!("\\\"{id}\\\""))),
            "{deployment}: no search for ids when none came back"
        );
    }
}

/// An issue created since the last run, written by this run's search and deleted before the
/// run lists the ids Jira has, is in neither run's list: it is still reported, since the run wrote
/// it.
#[test]
fn an_issue_written_and_deleted_within_one_run_is_reported_when_reconciling() {
    for deployment in [Deployment::Cloud, Deployment::Server] {
        let site = Site::new(SimConfig {
            deployment,
            admin: false,
            ..SimConfig::default()
        });
        let catalog = catalog_hashing(&site, &["issues"], &[]);
        let config = site.config_with(json!({"deleted_issues": "reconcile"}));
        let first = sync(&site, config, &catalog);
        first.assert_success();
        let created = site.sim.sim.add_issues("WEB", 1);
        let search = match deployment {
            Deployment::Cloud => "/search/jql",
            Deployment::Server => "/rest/api/2/search",
        };
        // Deleted once the search has read it, before the ids are listed.
        site.sim.sim.reset_requests();
        let second = site.sync_from(&site.file("state.json", &first.last_state()));
        second.assert_success();
        let searches = site
            .sim
            .sim
            .requests()
            .iter()
            .filter(|r| r.path.ends_with(search))
            .count() as u32;
        assert!(searches >= 2, "{deployment}: the search, then the listing");
        // Again from the same state, now with the deletion between the search and the listing.
        site.sim
            .sim
            .delete_issues_before_request(search, searches - 1, created.clone());
        let second = site.sync_from(&site.file("state.json", &first.last_state()));
        second.assert_success();
        assert_eq!(
            ids_of(&second.records("issues"), "id")
                .intersection(&created.iter().cloned().collect())
                .count(),
            1,
            "{deployment}: the search wrote the new issue"
        );
        let third = site.sync_from(&site.file("state.json", &second.last_state()));
        third.assert_success();
        let reported: BTreeSet<String> = deletions(&second, "issues")
            .into_keys()
            .chain(deletions(&third, "issues").into_keys())
            .collect();
        assert_eq!(
            reported,
            created.iter().cloned().collect(),
            "{deployment}: the issue written and then deleted"
        );
    }
}

#[test]
fn a_damaged_deletions_bookmark_stops_the_run_before_any_record() {
    let site = Site::new(SimConfig {
        admin: false,
        ..SimConfig::default()
    });
    let catalog = catalog_hashing(&site, &["issues"], &[]);
    site.file("catalog.json", &catalog);
    let state_with = |deleted: &Value| {
        let state = json!({"bookmarks": {"issues": {
            "updated": "2024-01-01T00:00:00Z", "deleted": deleted}}});
        site.file("state.json", &state)
    };
    for (mode, deleted, named) in [
        // Runs of more ids than any site has: a bound on what a state can make the tap hold.
        (
            "reconcile",
            json!({"ids": "0.18446744073709551615"}),
            "deleted.ids",
        ),
        ("reconcile", json!({"ids": "0.100000000000"}), "deleted.ids"),
        ("reconcile", json!({"ids": "5,x"}), "deleted.ids"),
        ("audit", json!({"created": "yesterday"}), "deleted.created"),
        // The ids or the time put in place of the object that holds them.
        ("reconcile", json!("10000.499,2,2"), "deleted"),
        ("audit", json!("2024-01-01T00:00:00Z"), "deleted"),
    ] {
        let config = site.config_with(json!({"deleted_issues": mode}));
        site.file("config.json", &config);
        let run = site.sync_from(&state_with(&deleted));
        assert_ne!(run.code, 0, "{deleted}");
        assert!(
            run.record_counts().is_empty(),
            "{deleted}: {:?}",
            run.record_counts()
        );
        let last = run.stderr.lines().last().unwrap_or_default();
        assert!(
            last.contains(&format!("bookmarks.issues.{named}")) && last.contains("remove it"),
            "{deleted}: {}",
            run.stderr
        );
    }
    // With deletions not followed, what they kept is not read, and the sync goes on.
    site.file(
        "config.json",
        &site.config_with(json!({"deleted_issues": "off"})),
    );
    let run = site.sync_from(&state_with(&json!({"ids": "5,x", "created": "yesterday"})));
    run.assert_success();
}

/// A damaged place in `worklog/deleted` is named as such, and removing it alone is the remedy:
/// deletions are then followed from the changes' bookmark, which a full sync from start_date
/// (removing the whole bookmark) would throw away.
#[test]
fn a_damaged_worklog_deletions_bookmark_is_named_and_not_the_whole_bookmark() {
    let site = Site::cloud();
    let catalog = catalog_hashing(&site, &["worklogs"], &[]);
    site.file("catalog.json", &catalog);
    site.file("config.json", &site.config_with(json!({})));
    for deleted in [json!({"updated": "yesterday"}), json!({"since": 5})] {
        let state = json!({"bookmarks": {"worklogs": {
            "updated": "2024-01-01T00:00:00Z", "deleted": deleted}}});
        let run = site.sync_from(&site.file("state.json", &state));
        assert_ne!(run.code, 0, "{deleted}");
        assert!(run.record_counts().is_empty(), "{deleted}");
        let last = run.stderr.lines().last().unwrap_or_default();
        assert!(
            last.contains("bookmarks.worklogs.deleted")
                && !last.contains("remove bookmarks.worklogs "),
            "{deleted}: {last}"
        );
    }
}

#[test]
fn without_audit_permission_deletions_are_one_warning_and_with_filters_only_kept_projects() {
    let site = Site::new(SimConfig {
        admin: false,
        ..SimConfig::default()
    });
    let catalog = catalog_hashing(&site, &["issues"], &[]);
    let run = sync(&site, site.config_with(json!({})), &catalog);
    run.assert_success();
    let warnings = run
        .stderr
        .lines()
        .filter(|l| l.contains("WARN") && l.contains("deleted_issues"))
        .count();
    assert_eq!(warnings, 1, "{}", run.stderr);
    // The bookmark keeps only where deletions are looked for from: the run's start, before any
    // issue was written, so a later run that may read the log reports what went meanwhile.
    let deleted = run.last_state()["bookmarks"]["issues"]["deleted"].clone();
    let from = deleted["created"].as_str().unwrap_or_default().to_string();
    assert_eq!(deleted, json!({ "created": from }), "{deleted}");
    let first_extracted = run
        .messages()
        .iter()
        .find(|m| m["type"] == "RECORD")
        .map(|m| m["time_extracted"].as_str().unwrap().to_string())
        .unwrap();
    let at = |s: &str| chrono::DateTime::parse_from_rfc3339(s).unwrap();
    assert!(
        at(&from) <= at(&first_extracted),
        "{from} after {first_extracted}"
    );

    for (mode, admin) in [("audit", true), ("reconcile", false)] {
        let site = Site::new(SimConfig {
            admin,
            ..SimConfig::default()
        });
        let catalog = catalog_hashing(&site, &["issues"], &[]);
        let first = sync(&site, site.config_with(json!({})), &catalog);
        let kept = project_of(&first.records("issues")[0]);
        let config = json!({"deleted_issues": mode, "projects": [kept]});
        let first = sync(&site, site.config_with(config), &catalog);
        first.assert_success();
        // Spread over the projects: some in the kept one, some elsewhere.
        site.sim.sim.delete_issues(6);
        let expected: BTreeSet<String> = site
            .sim
            .sim
            .deleted_issues()
            .into_iter()
            .filter(|d| d.key.starts_with(&format!("{kept}-")))
            .map(|d| d.id)
            .collect();
        assert!(!expected.is_empty() && expected.len() < 6, "{mode}");
        let next = site.sync_from(&site.file("state.json", &first.last_state()));
        next.assert_success();
        let gone: BTreeSet<String> = deletions(&next, "issues").into_keys().collect();
        assert_eq!(gone, expected, "{mode}: only the kept project's");
    }
}

/// A project whose key was changed in Jira is still the project a filter names by its old key:
/// Jira resolves the old key in JQL, so its issues are still synced, and the audit log names a
/// deleted issue by its new key. That deletion is of a kept project, and is reported.
#[test]
fn deletions_in_a_kept_project_whose_key_changed_are_reported() {
    let site = Site::cloud();
    let catalog = catalog_hashing(&site, &["issues"], &[]);
    let config = site.config_with(json!({"deleted_issues": "audit", "projects": ["OPS"]}));
    let first = sync(&site, config, &catalog);
    first.assert_success();
    let written = first.records("issues");
    assert!(written.iter().all(|i| project_of(i) == "OPS"));
    let id = written[0]["id"].as_str().unwrap().to_string();

    site.sim.sim.rename_project_key("OPS", "PLAT");
    let gone = site.sim.sim.delete_issue(&id).unwrap();
    assert!(gone.key.starts_with("PLAT-"), "{gone:?}");
    let next = site.sync_from(&site.file("state.json", &first.last_state()));
    next.assert_success();
    // Its sub-tasks, if any, went with it.
    let expected = deleted_ids(&site);
    assert!(expected.contains(&id));
    let reported: BTreeSet<String> = deletions(&next, "issues").into_keys().collect();
    assert_eq!(reported, expected, "{}", next.stderr);
}

/// A project filter naming a key the site does not have (a typo, or a project deleted or hidden
/// since the config was written): Jira refuses every search that names it. A run that exits 0
/// must have synced the issues of the projects that are there; it may not leave them out without
/// failing, run after run.
#[test]
fn a_project_filter_naming_a_missing_project_never_ends_in_a_silent_empty_sync() {
    for deployment in [Deployment::Cloud, Deployment::Server] {
        let site = site_for(deployment);
        let catalog = catalog_hashing(&site, &["issues"], &[]);
        let all = sync(&site, site.config_with(json!({})), &catalog);
        all.assert_success();
        for (filter, keeps) in [
            (json!({"projects": ["WEB", "NOPE"]}), true),
            (json!({"exclude_projects": ["WEB", "NOPE"]}), false),
        ] {
            let expected: BTreeSet<String> = ids_of(
                &all.records("issues")
                    .into_iter()
                    .filter(|i| (project_of(i) == "WEB") == keeps)
                    .collect::<Vec<_>>(),
                "id",
            );
            assert!(!expected.is_empty());
            let config = site.config_with(filter.clone());
            let mut state: Option<Value> = None;
            // The first run, and the next one from its state.
            for attempt in 0..2 {
                let run = match &state {
                    None => sync(&site, config.clone(), &catalog),
                    Some(state) => sync_from_state(&site, config.clone(), &catalog, state),
                };
                if run.code != 0 {
                    assert!(
                        run.stderr.contains("NOPE"),
                        "{deployment} {filter}: a failure names the project: {}",
                        run.stderr
                    );
                    // With JQL of the user's own beside it, the failure still blames the
                    // project filter, not the JQL, which is fine.
                    let mut with_jql = filter.clone();
                    with_jql["jql"] = json!("issuetype = Bug");
                    let run = sync(&site, site.config_with(with_jql), &catalog);
                    let setting = filter.as_object().unwrap().keys().next().unwrap();
                    assert!(
                        run.code != 0
                            && run.stderr.contains(&format!("`{setting}`"))
                            && !run.stderr.contains("config `jql`"),
                        "{deployment} {filter}: {}",
                        run.stderr
                    );
                    break;
                }
                if attempt == 0 {
                    assert_eq!(
                        ids_of(&run.records("issues"), "id"),
                        expected,
                        "{deployment} {filter}: exit 0, yet the issues of the projects there \
                         are missing"
                    );
                } else {
                    assert!(run.records("issues").is_empty());
                }
                state = Some(run.last_state());
            }
        }
    }
}

/// A project whose key was changed in Jira is still the project a filter names by its old key
/// (Jira resolves the old key, in `project/{key}` as in JQL): it is kept, or left out, in
/// `projects` and in the streams read per project, as its issues are.
#[test]
fn a_project_filter_naming_a_renamed_project_by_its_old_key_narrows_project_streams_too() {
    for deployment in [Deployment::Cloud, Deployment::Server] {
        let site = site_for(deployment);
        let catalog = catalog_hashing(&site, &["projects", "versions", "issues"], &[]);
        site.sim.sim.rename_project_key("OPS", "PLAT");
        let all = sync(&site, site.config_with(json!({})), &catalog);
        all.assert_success();
        let renamed: Vec<String> = all
            .records("projects")
            .iter()
            .filter(|p| p["key"] == "PLAT")
            .map(|p| p["id"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(renamed.len(), 1, "{deployment}");
        let renamed = &renamed[0];
        let of_renamed = |v: &Value| ids_of(std::slice::from_ref(v), "projectId").contains(renamed);
        assert!(
            all.records("versions").iter().any(of_renamed),
            "{deployment}"
        );
        for (filter, keeps) in [
            (json!({"projects": ["ops"]}), true),
            (json!({"exclude_projects": ["OPS"]}), false),
        ] {
            let run = sync(&site, site.config_with(filter.clone()), &catalog);
            run.assert_success();
            let wanted = |p: &Value| (p["id"].as_str() == Some(renamed)) == keeps;
            let expected: BTreeSet<String> = ids_of(
                &all.records("projects")
                    .into_iter()
                    .filter(wanted)
                    .collect::<Vec<_>>(),
                "id",
            );
            assert!(!expected.is_empty(), "{deployment} {filter}");
            assert_eq!(
                ids_of(&run.records("projects"), "id"),
                expected,
                "{deployment} {filter}: projects"
            );
            let expected_versions: BTreeSet<String> = ids_of(
                &all.records("versions")
                    .into_iter()
                    .filter(|v| of_renamed(v) == keeps)
                    .collect::<Vec<_>>(),
                "id",
            );
            assert_eq!(
                ids_of(&run.records("versions"), "id"),
                expected_versions,
                "{deployment} {filter}: versions"
            );
            // Its issues, as JQL resolves the old key.
            let expected_issues: BTreeSet<String> = ids_of(
                &all.records("issues")
                    .into_iter()
                    .filter(|i| (project_of(i) == "PLAT") == keeps)
                    .collect::<Vec<_>>(),
                "id",
            );
            assert!(!expected_issues.is_empty(), "{deployment} {filter}");
            assert_eq!(
                ids_of(&run.records("issues"), "id"),
                expected_issues,
                "{deployment} {filter}: issues"
            );
        }
    }
}

/// A project named in a filter by its name ("Platform Ops", or "Security", a name of one word
/// that could be a key) rather than its key: JQL resolves a name as it does a key, so the issues
/// obey it, while the project streams match keys and ids. Such a filter must either be refused
/// before anything is synced, or narrow every stream alike: never leave out a project's issues
/// and still write its `projects` and `versions` rows (or the other way round).
#[test]
fn a_project_filter_naming_a_project_by_its_name_never_narrows_only_the_issues() {
    for deployment in [Deployment::Cloud, Deployment::Server] {
        let site = Site::new(SimConfig {
            deployment,
            projects: 5,
            issues_per_project: 8,
            ..SimConfig::default()
        });
        let catalog = catalog_hashing(&site, &["projects", "versions", "issues"], &[]);
        let all = sync(&site, site.config_with(json!({})), &catalog);
        all.assert_success();
        for key in ["OPS", "SEC"] {
            let project = all
                .records("projects")
                .into_iter()
                .find(|p| p["key"] == key)
                .unwrap();
            let (id, name) = (
                project["id"].as_str().unwrap(),
                project["name"].as_str().unwrap().trim(),
            );
            for setting in ["exclude_projects", "projects"] {
                let filter = json!({ setting: [name] });
                let run = sync(&site, site.config_with(filter.clone()), &catalog);
                if run.code != 0 {
                    assert!(
                        run.stdout.is_empty()
                            && run.stderr.contains(setting)
                            && run.stderr.contains(name),
                        "{deployment} {filter}: a refusal names the setting and the text: {}",
                        run.stderr
                    );
                    continue;
                }
                let keeps = setting == "projects";
                let issues_of = run
                    .records("issues")
                    .iter()
                    .filter(|i| project_of(i) == key)
                    .count();
                let projects_of = run
                    .records("projects")
                    .iter()
                    .filter(|p| p["id"] == id)
                    .count();
                let versions_of = run
                    .records("versions")
                    .iter()
                    .filter(|v| ids_of(std::slice::from_ref(*v), "projectId").contains(id))
                    .count();
                assert_eq!(
                    (issues_of > 0, projects_of > 0, versions_of > 0),
                    (keeps, keeps, keeps),
                    "{deployment} {filter}: {key}'s issues, its project row and its versions"
                );
            }
        }
    }
}

/// A catalog asking for another replication method or key (Meltano's `metadata` extra) is told
/// that each stream keeps its own, and the run goes on as it would: incremental, from the state.
#[test]
fn a_replication_method_asked_by_the_catalog_is_answered_with_a_warning() {
    let site = site_for(Deployment::Cloud);
    let mut catalog = catalog_hashing(&site, &["issues", "projects"], &[]);
    for stream in catalog["streams"].as_array_mut().unwrap() {
        let name = stream["tap_stream_id"].as_str().unwrap().to_string();
        for m in stream["metadata"].as_array_mut().unwrap() {
            if m["breadcrumb"] == json!([]) {
                match name.as_str() {
                    "issues" => {
                        m["metadata"]["replication-method"] = json!("FULL_TABLE");
                        m["metadata"]["replication-key"] = json!("created");
                    }
                    _ => m["metadata"]["replication-method"] = json!("FULL_TABLE"),
                }
            }
        }
    }
    let run = sync(&site, site.config_with(json!({})), &catalog);
    run.assert_success();
    assert_valid_singer_output(&run);
    let warned = |needle: &str| {
        run.stderr
            .lines()
            .any(|l| l.contains("WARN") && l.contains("issues") && l.contains(needle))
    };
    assert!(warned("replication-method FULL_TABLE"), "{}", run.stderr);
    assert!(warned("replication-key created"), "{}", run.stderr);
    assert!(
        !run.stderr
            .lines()
            .any(|l| l.contains("WARN") && l.contains("projects")),
        "projects asked for its own method: {}",
        run.stderr
    );
    assert!(!run.records("issues").is_empty());
    assert!(
        run.last_state()["bookmarks"]["issues"]["updated"].is_string(),
        "still incremental: {}",
        run.last_state()
    );
}

/// A time in milliseconds since the epoch as Jira writes it, to the millisecond, without its
/// offset (UTC).
fn utc_millis(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .unwrap()
        .format("%Y-%m-%dT%H:%M:%S%.3f")
        .to_string()
}
