//! `flattening_enabled` / `flattening_max_depth`: every stream of the table, on both deployments,
//! flattened at several depths, against the same sync unflattened. No record holds an object or
//! an array, every key is a column its SCHEMA declares, records validate against it, and each
//! flattened record put back into its nesting is the unflattened one: no value is lost. With
//! hashing, renderings, custom field names and a narrowed selection, the same holds, and hashed
//! values keep their hash under their columns.

mod common;

use std::collections::{BTreeMap, HashMap};

use common::{Run, Site, assert_valid_singer_output, tap};
use jira_sim::{Deployment, SimConfig};
use serde_json::{Map, Value, json};
use tap_jira::config::Deployment as TapDeployment;
use tap_jira::flatten::{SEPARATOR, column_name};
use tap_jira::streams::streams_on;

const SALT: &str = "a-long-random-test-salt";

fn site_for(deployment: Deployment) -> Site {
    Site::new(SimConfig {
        deployment,
        ..SimConfig::default()
    })
}

fn tap_deployment(deployment: Deployment) -> TapDeployment {
    match deployment {
        Deployment::Cloud => TapDeployment::Cloud,
        Deployment::Server => TapDeployment::Server,
    }
}

/// The catalog discovered with `extra` config keys, every stream selected.
fn discover_all(site: &Site, extra: &Value) -> Value {
    let config = site.file("discover.json", &site.config_with(extra.clone()));
    let mut catalog = site.discover(&config);
    for stream in catalog["streams"].as_array_mut().unwrap() {
        for m in stream["metadata"].as_array_mut().unwrap() {
            if m["breadcrumb"] == json!([]) {
                m["metadata"]["selected"] = json!(true);
            }
        }
    }
    catalog
}

/// A sync with `extra` config keys, checked against the Singer rules (records valid against their
/// SCHEMA included).
fn sync(site: &Site, extra: &Value, catalog: &Value) -> Run {
    let config = site.file("config.json", &site.config_with(extra.clone()));
    let catalog = site.file("catalog.json", catalog);
    let run = tap(&[&"--config", &config, &"--catalog", &catalog]);
    run.assert_success();
    assert_valid_singer_output(&run);
    run
}

fn with_flattening(extra: &Value, depth: usize) -> Value {
    let mut config = extra.clone();
    config["flattening_enabled"] = json!(true);
    config["flattening_max_depth"] = json!(depth);
    config
}

/// Per stream, its records by key (the SCHEMA's key properties; the order of arrival without).
/// Each record is checked on the way against the SCHEMA in force when it came, which a stream
/// may send again with columns added.
fn records_by_key(
    run: &Run,
    flat_depth: Option<usize>,
) -> BTreeMap<String, BTreeMap<String, Value>> {
    let mut schemas: HashMap<String, (Value, Vec<String>)> = HashMap::new();
    let mut out: BTreeMap<String, BTreeMap<String, Value>> = BTreeMap::new();
    for message in run.messages() {
        let stream = message["stream"].as_str().unwrap_or_default().to_string();
        match message["type"].as_str() {
            Some("SCHEMA") => {
                let keys = message["key_properties"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|k| k.as_str().unwrap().to_string())
                    .collect();
                schemas.insert(stream, (message["schema"].clone(), keys));
            }
            Some("RECORD") => {
                let (schema, keys) = &schemas[&stream];
                let record = message["record"].as_object().unwrap();
                if let Some(depth) = flat_depth {
                    assert_flat(&stream, record, schema, depth);
                }
                let records = out.entry(stream).or_default();
                let key = if keys.is_empty() {
                    records.len().to_string()
                } else {
                    keys.iter()
                        .map(|k| record[k].to_string())
                        .collect::<Vec<_>>()
                        .join("|")
                };
                let mut record = record.clone();
                // The site's clock, read at each request: the one value two syncs differ in.
                if let Some(now) = record.get_mut("serverTime") {
                    *now = json!("(now)");
                }
                records.insert(key, Value::Object(record));
            }
            _ => {}
        }
    }
    out
}

/// A flattened record: scalars only, under columns the SCHEMA declares, no deeper than `depth`
/// levels of objects below the top.
fn assert_flat(stream: &str, record: &Map<String, Value>, schema: &Value, depth: usize) {
    let declared = schema["properties"].as_object().unwrap();
    for (column, value) in record {
        assert!(
            declared.contains_key(column),
            "{stream}: column {column} is not in the SCHEMA"
        );
        assert!(
            !value.is_object() && !value.is_array(),
            "{stream}: {column} holds {value}, not a scalar"
        );
        assert!(
            column.split(SEPARATOR).count() <= depth + 1,
            "{stream}: {column} is deeper than {depth}"
        );
    }
}

/// The flattened record put back into its nesting, with the unflattened one as the guide: a
/// column's path is the path of the unflattened record whose column name it is (a name too
/// long for PostgreSQL is shortened), else its name split on `__`; and a string where the
/// unflattened record holds something other than a string is JSON text, read back.
fn unflatten(flat: &Value, original: &Value) -> Value {
    let mut names = HashMap::new();
    column_paths(original, &mut Vec::new(), &mut names);
    let mut out = Value::Object(Map::new());
    for (column, value) in flat.as_object().unwrap() {
        let path: Vec<&str> = match names.get(column) {
            Some(path) => path.iter().map(String::as_str).collect(),
            None => column.split(SEPARATOR).collect(),
        };
        let was = path.iter().try_fold(original, |at, key| at.get(key));
        let value = match (value, was) {
            (Value::String(text), Some(was)) if !was.is_string() && !was.is_null() => {
                serde_json::from_str(text)
                    .unwrap_or_else(|e| panic!("{column}: not JSON text ({e}): {text}"))
            }
            _ => value.clone(),
        };
        let (last, parents) = path.split_last().unwrap();
        let mut at = &mut out;
        for key in parents {
            at = at
                .as_object_mut()
                .unwrap()
                .entry(key.to_string())
                .or_insert_with(|| json!({}));
        }
        at.as_object_mut().unwrap().insert(last.to_string(), value);
    }
    out
}

/// Every path through the objects of `value`, by the column name it has flattened.
fn column_paths(value: &Value, path: &mut Vec<String>, names: &mut HashMap<String, Vec<String>>) {
    for (key, inner) in value.as_object().into_iter().flatten() {
        path.push(key.clone());
        let keys: Vec<&str> = path.iter().map(String::as_str).collect();
        names.insert(column_name(&keys), path.clone());
        column_paths(inner, path, names);
        path.pop();
    }
}

/// Objects without their nulls and empty objects: what flattening cannot say apart (a null or
/// empty object has no columns, an object of nulls has null columns).
fn prune(value: &Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), prune(v)))
                .filter(|(_, v)| !v.is_null() && v != &json!({}))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// Every flattened record is its unflattened counterpart, once put back into its nesting.
fn assert_nothing_lost(
    flat: &BTreeMap<String, BTreeMap<String, Value>>,
    plain: &BTreeMap<String, BTreeMap<String, Value>>,
    label: &str,
) {
    assert_eq!(
        flat.keys().collect::<Vec<_>>(),
        plain.keys().collect::<Vec<_>>(),
        "{label}: streams"
    );
    for (stream, records) in plain {
        let flattened = &flat[stream];
        assert_eq!(
            flattened.keys().collect::<Vec<_>>(),
            records.keys().collect::<Vec<_>>(),
            "{label}: {stream}: record keys"
        );
        for (key, record) in records {
            let back = unflatten(&flattened[key], record);
            assert_eq!(
                prune(&back),
                prune(record),
                "{label}: {stream} {key}: the flattened record, put back, differs\nflat: {}",
                flattened[key]
            );
        }
    }
}

/// Sets `key` in the metadata of `breadcrumb`, listed or not.
fn set(metadata: &mut Vec<Value>, breadcrumb: Value, key: &str, value: Value) {
    match metadata.iter_mut().find(|m| m["breadcrumb"] == breadcrumb) {
        Some(m) => m["metadata"][key] = value,
        None => metadata.push(json!({"breadcrumb": breadcrumb, "metadata": {key: value}})),
    }
}

#[test]
fn every_stream_flattens_to_declared_columns_without_losing_a_value() {
    for deployment in [Deployment::Cloud, Deployment::Server] {
        let site = site_for(deployment);
        let none = json!({});
        let catalog = discover_all(&site, &none);
        let plain = records_by_key(&sync(&site, &none, &catalog), None);
        for def in streams_on(tap_deployment(deployment)) {
            assert!(
                plain.get(def.name).is_some_and(|r| !r.is_empty()),
                "{deployment}: no records of {} to flatten",
                def.name
            );
        }
        for depth in [0, 1, 2, 64] {
            let run = sync(&site, &with_flattening(&none, depth), &catalog);
            let flat = records_by_key(&run, Some(depth));
            assert_nothing_lost(&flat, &plain, &format!("{deployment}, depth {depth}"));
        }
    }
}

#[test]
fn flattening_keeps_hashes_renderings_names_and_the_selection() {
    for deployment in [Deployment::Cloud, Deployment::Server] {
        let site = site_for(deployment);
        let extra = json!({"custom_field_names": "name", "hash_salt": SALT, "hash_pii": true});
        let mut catalog = discover_all(&site, &extra);
        let issues = common::entry_mut(&mut catalog, "issues");
        let fields = |rest: &[&str]| {
            let mut crumb = vec!["properties", "fields", "properties"];
            crumb.extend(rest);
            json!(crumb)
        };
        let metadata = issues["metadata"].as_array_mut().unwrap();
        let iconurl = fields(&["status", "properties", "iconUrl"]);
        set(metadata, iconurl, "selected", json!(false));
        set(
            metadata,
            fields(&["assignee"]),
            "tap-jira.hash",
            json!(true),
        );
        let plain = records_by_key(&sync(&site, &extra, &catalog), None);
        let run = sync(&site, &with_flattening(&extra, 2), &catalog);
        let flat = records_by_key(&run, Some(2));
        assert_nothing_lost(&flat, &plain, &format!("{deployment}"));

        let schema = run
            .messages()
            .iter()
            .rfind(|m| m["type"] == "SCHEMA" && m["stream"] == "issues")
            .unwrap()["schema"]["properties"]
            .clone();
        let columns = schema.as_object().unwrap();
        assert!(columns.contains_key("fields__story_points"), "named column");
        assert!(
            !columns.contains_key("fields__status__iconUrl"),
            "deselected"
        );
        assert!(columns.contains_key("fields__status__name"));
        assert_eq!(
            schema["fields__assignee"],
            json!({"type": ["null", "string"]}),
            "a hashed object is a string, not columns"
        );
        assert!(!columns.keys().any(|c| c.starts_with("fields__assignee__")));
        if deployment == Deployment::Cloud {
            assert!(columns.contains_key("fields__description_markdown"));
            assert!(columns.contains_key("fields__acceptance_criteria_markdown"));
        }
        let is_hash = |v: &Value| {
            v.as_str()
                .is_some_and(|s| s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit()))
        };
        let mut hashed = 0;
        for record in flat["issues"].values() {
            for column in ["fields__reporter__emailAddress", "fields__assignee"] {
                match &record[column] {
                    Value::Null => {}
                    v => {
                        assert!(is_hash(v), "{column} = {v}, not a hash");
                        hashed += 1;
                    }
                }
            }
        }
        assert!(hashed > 0, "{deployment}: hashed values were flattened");
    }
}

#[test]
fn flattening_needs_a_depth_and_is_off_by_default() {
    let site = site_for(Deployment::Cloud);
    let config = site.file(
        "config.json",
        &site.config_with(json!({"flattening_enabled": true})),
    );
    let run = tap(&[&"--config", &config, &"--discover"]);
    assert_ne!(run.code, 0);
    assert!(
        run.stderr
            .contains("flattening_max_depth`: is required when flattening_enabled is true"),
        "{}",
        run.stderr
    );
    // A depth alone flattens nothing, as in the SDK.
    let extra = json!({"flattening_max_depth": 2});
    let mut catalog = discover_all(&site, &extra);
    for stream in catalog["streams"].as_array_mut().unwrap() {
        let on = stream["tap_stream_id"] == "issues";
        for m in stream["metadata"].as_array_mut().unwrap() {
            if m["breadcrumb"] == json!([]) {
                m["metadata"]["selected"] = json!(on);
            }
        }
    }
    let run = sync(&site, &extra, &catalog);
    assert!(run.records("issues")[0]["fields"].is_object());
}

/// PostgreSQL keeps 63 bytes of an identifier and cuts the rest: meltanolabs-target-postgres
/// creates the cut column, then misses the whole name among the table's columns and adds it
/// again ("column … already exists"), so a load fails on its first record. Every column the tap
/// flattens fits, on every stream of both deployments flattened as deep as they go
/// (`permission_grants` → `holder` → `projectRole` → `scope` → `project` → `projectCategory`),
/// and a custom field with a long display name under `custom_field_names: name`.
#[test]
fn every_flattened_column_name_fits_a_postgresql_identifier() {
    use jira_sim::CustomFieldType;
    for deployment in [Deployment::Cloud, Deployment::Server] {
        let site = site_for(deployment);
        site.sim.sim.add_custom_field(
            "Customer impact assessment for the quarterly regulatory review",
            CustomFieldType::Select,
        );
        let extra = json!({"custom_field_names": "name"});
        let catalog = discover_all(&site, &extra);
        let run = sync(&site, &with_flattening(&extra, 64), &catalog);
        let mut long = Vec::new();
        for message in run.messages() {
            if message["type"] != "SCHEMA" {
                continue;
            }
            let stream = message["stream"].as_str().unwrap().to_string();
            for column in message["schema"]["properties"].as_object().unwrap().keys() {
                if column.len() > 63 {
                    long.push(format!("{stream}.{column}"));
                }
            }
        }
        long.sort();
        long.dedup();
        assert!(
            long.is_empty(),
            "{deployment}: column names PostgreSQL would cut: {long:#?}"
        );
    }
}

/// The catalog discovered with `extra` config keys, `issues` alone selected.
fn discover_issues(site: &Site, extra: &Value) -> Value {
    let mut catalog = discover_all(site, extra);
    for stream in catalog["streams"].as_array_mut().unwrap() {
        let issues = stream["tap_stream_id"] == "issues";
        for m in stream["metadata"].as_array_mut().unwrap() {
            if m["breadcrumb"] == json!([]) {
                m["metadata"]["selected"] = json!(issues);
            }
        }
    }
    catalog
}

/// The columns of the last `issues` SCHEMA of `run`.
fn issue_columns(run: &Run) -> Vec<String> {
    let schema = run
        .messages()
        .iter()
        .rfind(|m| m["type"] == "SCHEMA" && m["stream"] == "issues")
        .expect("an issues SCHEMA");
    schema["schema"]["properties"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect()
}

/// Two custom fields whose long display names have the same initials ("… tier", then "… team"
/// added by a Jira admin) shorten to one column name, `fie__qrrciat__id`. The sync goes on: from
/// the catalog saved before the second field (which drift adds) and from one discovered after
/// it, in either order of the fields, each field's values have columns of their own, named alike
/// in every run, no longer than 63 bytes; every column that did not meet another keeps its name.
#[test]
fn long_names_shortened_alike_get_columns_of_their_own_the_same_every_run() {
    use jira_sim::CustomFieldType;
    const TIER: &str = "Quarterly regulatory review customer impact assessment tier";
    const TEAM: &str = "Quarterly regulatory review customer impact assessment team";
    const SHORT: &str = "fie__qrrciat__";
    for deployment in [Deployment::Cloud, Deployment::Server] {
        let site = site_for(deployment);
        let extra = json!({"custom_field_names": "name"});
        let flat = with_flattening(&extra, 64);
        site.sim.sim.add_custom_field(TIER, CustomFieldType::Select);
        let saved = discover_issues(&site, &extra);
        let before = issue_columns(&sync(&site, &flat, &saved));
        assert!(
            before.contains(&format!("{SHORT}id")),
            "{deployment}: {before:?}"
        );

        site.sim.sim.add_custom_field(TEAM, CustomFieldType::Select);
        let fresh = discover_issues(&site, &extra);
        let mut reversed = fresh.clone();
        for stream in reversed["streams"].as_array_mut().unwrap() {
            if let Some(Value::Object(fields)) =
                stream.pointer_mut("/schema/properties/fields/properties")
            {
                *fields = std::mem::take(fields).into_iter().rev().collect();
            }
        }
        let plain = records_by_key(&sync(&site, &extra, &fresh), None);
        let plain = &plain["issues"];
        let (tier, team) = (
            "quarterly_regulatory_review_customer_impact_assessment_tier",
            "quarterly_regulatory_review_customer_impact_assessment_team",
        );
        let mut named = Vec::new();
        for (label, catalog) in [
            ("saved", &saved),
            ("fresh", &fresh),
            ("reversed", &reversed),
        ] {
            let run = sync(&site, &flat, catalog);
            let columns = issue_columns(&run);
            let long: Vec<_> = columns.iter().filter(|c| c.len() > 63).collect();
            assert!(long.is_empty(), "{deployment}, {label}: {long:?}");
            let kept: Vec<_> = before.iter().filter(|c| !c.starts_with(SHORT)).collect();
            let lost: Vec<_> = kept.iter().filter(|c| !columns.contains(c)).collect();
            assert!(lost.is_empty(), "{deployment}, {label}: renamed {lost:?}");
            // The column holding each field's option id in every record that has one.
            let flat_records = &records_by_key(&run, Some(64))["issues"];
            let mut holding = Vec::new();
            for field in [tier, team] {
                let mut candidates: Vec<&String> = columns.iter().collect();
                let mut values = 0;
                for (key, record) in plain {
                    let Some(id) = record["fields"][field].get("id") else {
                        continue;
                    };
                    values += 1;
                    candidates.retain(|c| flat_records[key].get(c.as_str()) == Some(id));
                }
                assert!(values > 0, "{deployment}: no values of {field}");
                assert_eq!(
                    candidates.len(),
                    1,
                    "{deployment}, {label}: {field}: {candidates:?}"
                );
                holding.push(candidates[0].clone());
            }
            assert_ne!(holding[0], holding[1], "{deployment}, {label}");
            named.push(holding);
        }
        assert!(
            named.windows(2).all(|w| w[0] == w[1]),
            "{deployment}: names differ between runs: {named:?}"
        );
    }
}

/// A column typed as text or a number by the catalog (a Meltano `schema:` override, a catalog
/// typed by another tool) whose field Jira sends as an object: the flattened record still holds
/// scalars only, every one under a column its SCHEMA declares, and the object is kept as JSON
/// text, as an object whose schema lists properties is when Jira sends something else.
#[test]
fn an_object_where_the_catalog_types_a_scalar_is_kept_as_json_text() {
    for deployment in [Deployment::Cloud, Deployment::Server] {
        let site = site_for(deployment);
        let mut catalog = discover_issues(&site, &json!({}));
        let issues = common::entry_mut(&mut catalog, "issues");
        let select = issues["metadata"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| {
                m["metadata"]["tap-jira.custom-type"]
                    .as_str()
                    .is_some_and(|t| t.ends_with(":select"))
            })
            .map(|m| m["breadcrumb"][3].as_str().unwrap().to_string())
            .expect("a select field");
        issues["schema"]["properties"]["fields"]["properties"][&select] =
            json!({"type": ["null", "string"]});

        let config = site.file("config.json", &site.config_with(json!({})));
        let path = site.file("catalog.json", &catalog);
        let plain = tap(&[&"--config", &config, &"--catalog", &path]);
        plain.assert_success();
        let options: Vec<Value> = plain
            .records("issues")
            .iter()
            .filter_map(|i| i["fields"].get(&select).filter(|v| v.is_object()).cloned())
            .collect();
        assert!(!options.is_empty(), "{deployment}: no values of {select}");

        let run = sync(&site, &with_flattening(&json!({}), 2), &catalog);
        let flat = records_by_key(&run, Some(2));
        let kept: Vec<Value> = flat["issues"]
            .values()
            .flat_map(|record| record.as_object().unwrap().values())
            .filter_map(|value| serde_json::from_str::<Value>(value.as_str()?).ok())
            .filter(|value| options.contains(value))
            .collect();
        assert_eq!(kept.len(), options.len(), "{deployment}: every option kept");
    }
}

/// PostgreSQL refuses a table of more than 1,600 columns ("tables can have at most 1600
/// columns"), so pipelinewise-target-postgres and meltanolabs-target-postgres fail the load of a
/// flattened `issues` on a site of thousands of custom fields, each at least one column. The
/// sync says so at its start, in one warning naming the stream, its columns and the ways out,
/// and goes on as it would have: every record is written, and a SCHEMA that fits (every other
/// stream, `issues` at depth 0 or with the custom fields deselected) is named in no warning.
#[test]
fn a_flattened_schema_of_more_columns_than_postgresql_takes_is_named_in_a_warning() {
    // Few issues: the columns come from the fields Jira lists, whatever the number of issues.
    let site = Site::new(SimConfig {
        extra_custom_fields: 1700,
        projects: 1,
        issues_per_project: 10,
        ..SimConfig::default()
    });
    let none = json!({});
    let warnings = |run: &Run| -> Vec<String> {
        run.stderr
            .lines()
            .filter(|l| l.contains("WARN"))
            .map(String::from)
            .collect()
    };
    let catalog = discover_all(&site, &none);
    let plain = records_by_key(&sync(&site, &none, &catalog), None);
    let run = sync(&site, &with_flattening(&none, 1), &catalog);
    let columns = issue_columns(&run).len();
    assert!(columns > 1600, "{columns} columns");
    let said = warnings(&run);
    assert_eq!(said.len(), 1, "one warning: {}", run.stderr);
    for part in [
        "stream=\"issues\"",
        &format!("columns={columns}"),
        "PostgreSQL",
        "1,600",
        "deselect",
        "flattening_max_depth",
    ] {
        assert!(said[0].contains(part), "{part} in: {}", said[0]);
    }
    assert_nothing_lost(&records_by_key(&run, Some(1)), &plain, "depth 1");

    // The runs below check `issues` alone: the run above found no other stream to warn of.
    let mut catalog = catalog;
    common::select_only(&mut catalog, &["issues"]);
    let run = sync(&site, &with_flattening(&none, 0), &catalog);
    assert!(issue_columns(&run).len() <= 1600);
    assert_eq!(warnings(&run), Vec::<String>::new(), "depth 0");

    // The custom fields deselected: depth 1 fits.
    let mut narrowed = catalog.clone();
    for stream in narrowed["streams"].as_array_mut().unwrap() {
        if stream["tap_stream_id"] != "issues" {
            continue;
        }
        let metadata = stream["metadata"].as_array_mut().unwrap();
        let custom: Vec<Value> = metadata
            .iter()
            .filter(|m| {
                m["breadcrumb"][3]
                    .as_str()
                    .is_some_and(|f| f.starts_with("customfield_"))
            })
            .map(|m| m["breadcrumb"].clone())
            .collect();
        assert!(custom.len() > 1600, "{} custom fields", custom.len());
        for breadcrumb in custom {
            set(metadata, breadcrumb, "selected", json!(false));
        }
    }
    let run = sync(&site, &with_flattening(&none, 1), &narrowed);
    assert!(issue_columns(&run).len() <= 1600);
    assert_eq!(warnings(&run), Vec::<String>::new(), "deselected");
}
