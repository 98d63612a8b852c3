//! discover against the simulator: every stream, the site's fields typed, Singer metadata.

mod common;

use common::Site;
use serde_json::{Value, json};
use tap_jira::config::Deployment;
use tap_jira::streams::streams_on;

fn stream<'a>(catalog: &'a Value, name: &str) -> &'a Value {
    catalog["streams"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["tap_stream_id"] == name)
        .unwrap_or_else(|| panic!("no stream {name}"))
}

fn metadata(stream: &Value, breadcrumb: Value) -> &Value {
    &stream["metadata"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["breadcrumb"] == breadcrumb)
        .unwrap_or_else(|| panic!("no metadata at {breadcrumb}"))["metadata"]
}

#[test]
fn cloud_catalog_has_every_stream_with_metadata_and_typed_custom_fields() {
    let site = Site::cloud();
    let config = site.file("config.json", &site.cloud_config());
    let catalog = site.discover(&config);

    let names: Vec<&str> = catalog["streams"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["tap_stream_id"].as_str().unwrap())
        .collect();
    let table: Vec<&str> = streams_on(Deployment::Cloud).map(|s| s.name).collect();
    assert_eq!(names, table, "every stream of the table, in its order");
    for def in streams_on(Deployment::Cloud) {
        let top = metadata(stream(&catalog, def.name), json!([]));
        assert_eq!(
            top["parent-tap-stream-id"].as_str(),
            def.source.parent(),
            "{}",
            def.name
        );
        assert_eq!(top["selected-by-default"], json!(def.selected_by_default));
    }

    let issues = stream(&catalog, "issues");
    let top = metadata(issues, json!([]));
    assert_eq!(top["table-key-properties"], json!(["id"]));
    assert_eq!(top["forced-replication-method"], json!("INCREMENTAL"));
    assert_eq!(top["valid-replication-keys"], json!(["updated"]));
    assert_eq!(top["selected-by-default"], json!(true));
    assert_eq!(
        metadata(issues, json!(["properties", "id"]))["inclusion"],
        json!("automatic")
    );
    assert_eq!(
        metadata(issues, json!(["properties", "updated"]))["inclusion"],
        json!("automatic")
    );
    assert_eq!(
        metadata(issues, json!(["properties", "key"]))["inclusion"],
        json!("available")
    );

    // Every field of the site is a typed property, its display name in metadata.
    let fields = issues["schema"]["properties"]["fields"]["properties"]
        .as_object()
        .unwrap();
    let named = issues["metadata"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["metadata"].get("tap-jira.field-name").is_some())
        .count();
    assert_eq!(
        named,
        site.sim.sim.field_count(),
        "every field of /field is described"
    );
    let custom: Vec<(&String, &Value)> = fields
        .iter()
        .filter(|(id, _)| id.starts_with("customfield_"))
        .collect();
    assert!(custom.len() >= 20, "custom fields of every common type");
    let by_name = |name: &str| {
        let (id, schema) = custom
            .iter()
            .find(|(id, _)| {
                metadata(issues, json!(["properties", "fields", "properties", id]))["tap-jira.field-name"] == name
            })
            .unwrap_or_else(|| panic!("no custom field named {name}"));
        (id.to_string(), (*schema).clone())
    };
    assert_eq!(
        by_name("Story Points").1,
        json!({"type": ["null", "number"]})
    );
    assert_eq!(by_name("Sprint").1["type"], json!(["null", "array"]));
    let (_, mood) = by_name("Mood");
    assert!(
        mood["type"].as_array().unwrap().len() >= 6,
        "an unknown type is permissive: {mood}"
    );

    assert_eq!(
        metadata(stream(&catalog, "users"), json!([]))["table-key-properties"],
        json!(["accountId"])
    );
    assert_eq!(
        metadata(stream(&catalog, "projects"), json!([]))["forced-replication-method"],
        json!("FULL_TABLE")
    );
}

#[test]
fn server_catalog_keys_users_by_key() {
    let site = Site::server();
    let config = site.file("config.json", &site.server_config());
    let catalog = site.discover(&config);
    let users = stream(&catalog, "users");
    assert_eq!(users["key_properties"], json!(["key"]));
    let description =
        &stream(&catalog, "issues")["schema"]["properties"]["fields"]["properties"]["description"];
    assert!(
        description["type"]
            .as_array()
            .unwrap()
            .contains(&json!("string"))
    );
}

/// Discovers against `server`, selects `issues` alone and syncs it: the run of the sync.
fn discover_and_sync_issues(server: &common::hostile::Hostile) -> common::Run {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = dir.path().join("config.json");
    std::fs::write(&config, server.config(json!({})).to_string()).unwrap();
    let discovered = common::tap(&[&"--config", &config, &"--discover"]);
    discovered.assert_success();
    let mut catalog: Value = serde_json::from_str(&discovered.stdout).unwrap();
    common::select_only(&mut catalog, &["issues"]);
    let path = dir.path().join("catalog.json");
    std::fs::write(&path, catalog.to_string()).unwrap();
    common::tap(&[&"--config", &config, &"--catalog", &path])
}

/// Marketplace apps' select lists (Connect issue fields, `schema.type: "option2"`, such as Tempo's
/// Account and Team) hold Jira's app options, whose ids are numbers: `{"id": 69, "value": …}`.
#[test]
fn an_app_select_list_value_matches_the_discovered_schema() {
    use common::hostile::{Hostile, Reply};
    let app_field = |id: &str, name: &str, key: &str| {
        json!({"id": id, "key": id, "name": name, "custom": true, "navigable": true,
               "schema": {"type": "option2", "customId": id[12..].parse::<u64>().unwrap(),
                          "custom": format!("com.atlassian.plugins.atlassian-connect-plugin:io.tempo.jira__{key}")}})
    };
    let fields = json!([
        {"id": "summary", "name": "Summary", "schema": {"type": "string", "system": "summary"}},
        {"id": "updated", "name": "Updated", "schema": {"type": "datetime", "system": "updated"}},
        app_field("customfield_10100", "Account", "account"),
        app_field("customfield_10041", "Team", "team"),
    ]);
    let page = json!({"issues": [{"id": "10000", "key": "P-1", "fields": {
        "summary": "s", "created": "2024-04-02T05:28:53.041+0000", "updated": "2024-12-27T16:27:38.301+0000",
        "customfield_10100": {"id": 69, "value": "FAKTURACNI"},
        "customfield_10041": {"id": 3, "value": "Platform", "properties": {}}}}], "isLast": true});
    let server = Hostile::start(move |r| match r.path.as_str() {
        "/rest/api/3/field" => Some(Reply::Json(fields.clone())),
        "/rest/api/3/search/jql" => Some(Reply::Json(page.clone())),
        _ => None,
    });
    let run = discover_and_sync_issues(&server);
    run.assert_success();
    assert_eq!(
        run.records("issues")[0]["fields"]["customfield_10100"]["id"],
        json!(69)
    );
    common::assert_valid_singer_output(&run);
}

/// A Date Time Picker set to a "never" date (31/Dec/9999 11:59 PM) reads, west of UTC, as a
/// date-time in year 10000 in UTC: RFC 3339 cannot write it there, so it keeps its own offset,
/// which Jira writes without a colon (`-0500`) and RFC 3339 only with one (`-05:00`).
#[test]
fn a_never_date_time_west_of_utc_matches_the_discovered_schema() {
    use common::hostile::{Hostile, Reply};
    let fields = json!([
        {"id": "summary", "name": "Summary", "schema": {"type": "string", "system": "summary"}},
        {"id": "updated", "name": "Updated", "schema": {"type": "datetime", "system": "updated"}},
        {"id": "customfield_10040", "key": "customfield_10040", "name": "Retire after",
         "custom": true, "navigable": true,
         "schema": {"type": "datetime", "customId": 10040,
                    "custom": "com.atlassian.jira.plugin.system.customfieldtypes:datetime"}},
    ]);
    let page = json!({"issues": [{"id": "10000", "key": "P-1", "fields": {
        "summary": "s", "created": "2024-04-02T05:28:53.041-0500", "updated": "2024-12-27T16:27:38.301-0500",
        "customfield_10040": "9999-12-31T23:59:00.000-0500"}}], "isLast": true});
    let server = Hostile::start(move |r| match r.path.as_str() {
        "/rest/api/3/field" => Some(Reply::Json(fields.clone())),
        "/rest/api/3/search/jql" => Some(Reply::Json(page.clone())),
        _ => None,
    });
    let run = discover_and_sync_issues(&server);
    run.assert_success();
    common::assert_valid_singer_output(&run);
    assert_eq!(
        run.records("issues")[0]["fields"]["customfield_10040"],
        json!("9999-12-31T23:59:00.000-05:00")
    );
}

/// A Project Picker holds the project as the system `project` field does, `projectTypeKey`,
/// `simplified` and `projectCategory` included: flattened, each takes a column of its own type
/// declared from the start, not JSON text in a column found in the records.
#[test]
fn a_project_picker_flattens_to_the_columns_of_a_project() {
    let site = Site::cloud();
    let extra = json!({"flattening_enabled": true, "flattening_max_depth": 3});
    let config = site.file("config.json", &site.config_with(extra));
    let mut catalog = site.discover(&config);
    let picker = metadata_column(
        stream(&catalog, "issues"),
        "com.atlassian.jira.plugin.system.customfieldtypes:project",
    );
    common::select_only(&mut catalog, &["issues"]);
    let path = site.file("catalog.json", &catalog);
    let run = common::tap(&[&"--config", &config, &"--catalog", &path]);
    run.assert_success();
    common::assert_valid_singer_output(&run);

    let schemas: Vec<Value> = run
        .messages()
        .iter()
        .filter(|m| m["type"] == "SCHEMA" && m["stream"] == "issues")
        .cloned()
        .collect();
    let columns = &schemas[0]["schema"]["properties"];
    let column = |key: &str| format!("fields__{picker}__{key}");
    assert_eq!(
        columns[column("simplified")]["type"],
        json!(["null", "boolean"]),
        "{}",
        column("simplified")
    );
    assert_eq!(
        columns[column("projectTypeKey")]["type"],
        json!(["null", "string"])
    );
    assert_eq!(
        columns[column("projectCategory__name")]["type"],
        json!(["null", "string"])
    );
    assert_eq!(schemas.len(), 1, "no column found in the records");
    let simplified: Vec<Value> = run
        .records("issues")
        .iter()
        .map(|r| r[column("simplified")].clone())
        .filter(|v| !v.is_null())
        .collect();
    assert!(!simplified.is_empty(), "some issues have a project picked");
    assert!(simplified.iter().all(Value::is_boolean), "{simplified:?}");
}

/// The column of the `issues` → `fields` property whose custom type is `custom`.
fn metadata_column(issues: &Value, custom: &str) -> String {
    issues["metadata"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["metadata"]["tap-jira.custom-type"] == custom)
        .and_then(|m| m["breadcrumb"][3].as_str())
        .unwrap_or_else(|| panic!("no field of type {custom}"))
        .to_string()
}
