//! Meltano's `select` rules as Meltano writes them into the catalog: a breadcrumb for every
//! property at any depth (`inclusion: available` where the tap had none), all of them
//! `selected: false` (its `!*.*`), then the patterns and their parents `selected: true`.
//! Selecting an object keeps what is inside it.

mod common;

use common::{Site, assert_valid_singer_output, tap};
use serde_json::{Value, json};

/// Every breadcrumb below `schema`, through `properties` only (Meltano does not go into arrays'
/// `items`).
fn breadcrumbs(schema: &Value, path: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
    let Some(properties) = schema.get("properties").and_then(Value::as_object) else {
        return;
    };
    for (name, sub) in properties {
        path.extend(["properties".to_string(), name.clone()]);
        out.push(path.clone());
        breadcrumbs(sub, path, out);
        path.truncate(path.len() - 2);
    }
}

/// The catalog Meltano hands the tap for `select` patterns of the form `stream.a.b` (no
/// wildcards).
fn meltano_select(catalog: &mut Value, patterns: &[&str]) {
    for stream in catalog["streams"].as_array_mut().unwrap() {
        let name = stream["tap_stream_id"].as_str().unwrap().to_string();
        let mut all = Vec::new();
        breadcrumbs(&stream["schema"], &mut Vec::new(), &mut all);
        let metadata = stream["metadata"].as_array_mut().unwrap();
        for breadcrumb in all {
            if !metadata
                .iter()
                .any(|m| m["breadcrumb"] == json!(breadcrumb))
            {
                metadata.push(json!({"breadcrumb": breadcrumb,
                    "metadata": {"inclusion": "available"}}));
            }
        }
        for m in metadata.iter_mut() {
            m["metadata"]["selected"] = json!(false);
        }
        stream["selected"] = json!(false);
        for pattern in patterns {
            let mut parts = pattern.split('.');
            if parts.next() != Some(name.as_str()) {
                continue;
            }
            stream["selected"] = json!(true);
            let props: Vec<&str> = parts.collect();
            // The stream, the property and each parent of it.
            for depth in 0..=props.len() {
                let breadcrumb: Vec<&str> = props[..depth]
                    .iter()
                    .flat_map(|p| ["properties", p])
                    .collect();
                for m in stream["metadata"].as_array_mut().unwrap() {
                    if m["breadcrumb"] == json!(breadcrumb) {
                        m["metadata"]["selected"] = json!(true);
                    }
                }
            }
        }
    }
}

fn sync_with(patterns: &[&str]) -> (common::Run, Value) {
    let site = Site::cloud();
    let config = site.file("config.json", &site.cloud_config());
    let mut catalog = site.discover(&config);
    meltano_select(&mut catalog, patterns);
    let path = site.file("catalog.json", &catalog);
    let run = tap(&[&"--config", &config, &"--catalog", &path]);
    run.assert_success();
    assert_valid_singer_output(&run);
    (run, catalog)
}

#[test]
fn a_nested_object_selected_the_meltano_way_keeps_its_properties() {
    let (run, catalog) = sync_with(&["issues.key", "issues.fields.status"]);
    // Meltano's catalog really does say `false` under `status`.
    let issues = &catalog["streams"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["tap_stream_id"] == "issues")
        .unwrap()["metadata"];
    let under_status = issues
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| {
            let b = m["breadcrumb"].as_array().unwrap();
            b.len() > 4
                && b[..4]
                    == [
                        json!("properties"),
                        json!("fields"),
                        json!("properties"),
                        json!("status"),
                    ]
        })
        .collect::<Vec<_>>();
    assert!(!under_status.is_empty());
    assert!(
        under_status
            .iter()
            .all(|m| m["metadata"]["selected"] == json!(false))
    );

    let records = run.records("issues");
    assert!(!records.is_empty());
    for issue in &records {
        let mut keys: Vec<&str> = issue
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        keys.sort();
        // The selection, the key and the replication key.
        assert_eq!(keys, ["fields", "id", "key", "updated"], "{issue}");
        let fields: Vec<&String> = issue["fields"].as_object().unwrap().keys().collect();
        assert_eq!(fields, ["status"], "{issue}");
        let status = &issue["fields"]["status"];
        assert!(
            status["name"].is_string() && status["id"].is_string(),
            "status kept whole, not {{}}: {status}"
        );
        assert!(status["statusCategory"]["key"].is_string(), "{status}");
    }
    let streams: std::collections::BTreeSet<String> = run
        .messages()
        .iter()
        .filter(|m| m["type"] == "RECORD")
        .map(|m| m["stream"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(streams.into_iter().collect::<Vec<_>>(), ["issues"]);
}

#[test]
fn a_parent_object_selected_alone_the_meltano_way_is_kept_whole() {
    let (run, _) = sync_with(&["issues.fields"]);
    for issue in run.records("issues") {
        let fields = issue["fields"].as_object().unwrap();
        assert!(fields.len() > 10, "every field of the issue: {issue}");
        assert!(fields["status"]["name"].is_string(), "{issue}");
        assert!(issue.get("key").is_none(), "not selected: {issue}");
    }
}

/// Meltano reuses its cached catalog, so a custom field created in Jira since is one the catalog
/// lacks: with `select: [issues.fields]` it comes back from drift beside every other field,
/// not alone.
#[test]
fn a_field_that_appeared_since_discovery_keeps_a_parent_selected_alone_whole() {
    let site = Site::cloud();
    let config = site.file("config.json", &site.cloud_config());
    let mut catalog = site.discover(&config);
    meltano_select(&mut catalog, &["issues.fields"]);
    let added = site
        .sim
        .sim
        .add_custom_field("Drift Score", jira_sim::CustomFieldType::Float);
    let path = site.file("catalog.json", &catalog);
    let run = tap(&[&"--config", &config, &"--catalog", &path]);
    run.assert_success();
    assert_valid_singer_output(&run);
    assert!(run.stderr.contains(added.as_str()), "{}", run.stderr);
    let issues = run.records("issues");
    assert!(!issues.is_empty());
    for issue in &issues {
        let fields = issue["fields"].as_object().unwrap();
        assert!(fields.len() > 10, "every field of the issue: {issue}");
        assert!(fields["status"]["name"].is_string(), "{issue}");
    }
    assert!(
        issues.iter().any(|i| i["fields"][&added].is_number()),
        "the new field is synced too"
    );
}
