//! Catalog- and config-driven control of what leaves Jira: hashed fields.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use common::{Run, Site, assert_valid_singer_output, tap};
use jira_sim::{Deployment, SimConfig};
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

fn config_for(site: &Site, extra: Value) -> Value {
    let mut config = match site.sim.sim.config().deployment {
        Deployment::Cloud => site.cloud_config(),
        Deployment::Server => site.server_config(),
    };
    for (key, value) in extra.as_object().unwrap() {
        config[key] = value.clone();
    }
    config
}

/// The discovered catalog with `streams` selected, and `tap-jira.hash` set on each
/// `(stream, breadcrumb)` of `hashed`.
fn catalog_hashing(site: &Site, streams: &[&str], hashed: &[(&str, Vec<String>)]) -> Value {
    let config = site.file("discover.json", &config_for(site, json!({})));
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
            config_for(&site, json!({})),
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
        let config = config_for(&site, json!({"hash_salt": SALT}));
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
            .into_iter()
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
fn hash_pii_leaves_no_email_or_display_name_in_clear_anywhere() {
    let site = Site::cloud();
    let streams = [
        "issues",
        "issue_comments",
        "worklogs",
        "users",
        "changelogs",
    ];
    let catalog = catalog_hashing(&site, &streams, &[]);
    let clear = sync(&site, config_for(&site, json!({})), &catalog);
    clear.assert_success();
    let mut emails = Vec::new();
    for message in clear.messages() {
        values_of(&message, "emailAddress", &mut emails);
    }
    let emails: BTreeSet<String> = emails
        .iter()
        .filter_map(|e| e.as_str().map(String::from))
        .collect();
    assert!(emails.len() >= 3, "the site has emails to hide: {emails:?}");

    let hashed = sync(
        &site,
        config_for(&site, json!({"hash_salt": SALT, "hash_pii": true})),
        &catalog,
    );
    hashed.assert_success();
    assert_valid_singer_output(&hashed);
    for email in &emails {
        assert!(
            !hashed.stdout.contains(email.as_str()) && !hashed.stderr.contains(email.as_str()),
            "{email} left the tap in clear"
        );
    }
    let mut names = Vec::new();
    for message in hashed.messages().iter().filter(|m| m["type"] == "RECORD") {
        values_of(message, "displayName", &mut names);
    }
    assert!(names.len() >= 10, "{names:?}");
    assert!(
        names.iter().all(|n| n.is_null() || is_hash(n)),
        "every display name is hashed"
    );
    for stream in streams {
        assert_eq!(
            hashed.records(stream).len(),
            clear.records(stream).len(),
            "{stream}: hashing drops no record"
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
        let run = sync(&site, config_for(&site, extra), &catalog);
        assert_ne!(run.code, 0, "{message}");
        assert!(run.stdout.is_empty(), "{message}: {}", run.stdout);
        assert!(run.stderr.contains(message), "{message}: {}", run.stderr);
        assert!(
            site.sim.sim.requests().is_empty(),
            "{message}: a request was sent"
        );
    }
}
