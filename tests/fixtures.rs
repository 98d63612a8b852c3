//! The hand-written fixtures in `fixtures/` through the tap's own parsers, without a server: the
//! sample configs load, every field of a site gets a schema, issues shaped as Jira sends them
//! validate against the catalog built from their site's fields once the tap has hoisted and
//! normalised them, and `/serverInfo` bodies of every era give the right deployment.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::Value;
use tap_jira::catalog::{CatalogEntry, FieldNames, SiteField, TextForm, build_entry};
use tap_jira::client::detect_deployment;
use tap_jira::config::{
    Auth, CloudId, Config, DEFAULT_PAGE_SIZE, Deployment, OAuthProvider, RawConfig, RichText, Site,
    TokenFile,
};
use tap_jira::raw::RawObject;
use tap_jira::streams::StreamDef;
use tap_jira::streams::issues::{cursor_of, hoist_timestamps};
use tap_jira::timestamp::{normalize_json, parse_jira};

fn fixture(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(relative)
}

fn read_json(relative: &str) -> Value {
    let path = fixture(relative);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()))
}

// ---------------------------------------------------------------------------------------------
// Sample configs

const CONFIGS: &[&str] = &[
    "cloud-api-token.json",
    "server-pat.json",
    "server-basic.json",
    "cloud-oauth.json",
    "cloud-scoped-token.json",
    "server-oauth.json",
    "stitch.json",
];

fn load_config(name: &str) -> (RawConfig, Config) {
    let path = fixture(&format!("config/{name}"));
    let raw = RawConfig::load(std::slice::from_ref(&path))
        .unwrap_or_else(|e| panic!("config/{name} does not load: {e}"));
    let config = Config::from_raw(&raw).unwrap_or_else(|e| panic!("config/{name} is refused: {e}"));
    (raw, config)
}

#[test]
fn every_sample_config_loads_without_unknown_keys() {
    for name in CONFIGS {
        let (raw, _) = load_config(name);
        assert!(
            raw.unknown_keys().is_empty(),
            "config/{name} has keys the tap does not know: {:?}",
            raw.unknown_keys()
        );
    }
    // A sample added to the directory is a sample this test must know about.
    let mut on_disk: Vec<String> = std::fs::read_dir(fixture("config"))
        .expect("fixtures/config exists")
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".json"))
        .collect();
    on_disk.sort();
    let mut known: Vec<String> = CONFIGS.iter().map(|s| s.to_string()).collect();
    known.sort();
    assert_eq!(on_disk, known);
}

#[test]
fn cloud_api_token_sample_uses_the_email_and_token() {
    let (_, config) = load_config("cloud-api-token.json");
    assert!(
        matches!(&config.auth, Auth::ApiToken { email, .. } if email == "you@example.com"),
        "{:?}",
        config.auth
    );
    assert_eq!(
        config.site.known_root().unwrap().as_str(),
        "https://your-site.atlassian.net/"
    );
    assert_eq!(config.lookback, chrono::Duration::minutes(5));
    assert_eq!(config.deployment, None, "detected from /serverInfo");
}

#[test]
fn server_pat_sample_keeps_its_port_and_context_path() {
    let (_, config) = load_config("server-pat.json");
    assert!(matches!(config.auth, Auth::Pat { .. }), "{:?}", config.auth);
    assert_eq!(
        config.site.known_root().unwrap().as_str(),
        "https://jira.example.com:8443/jira/"
    );
    assert_eq!(config.site.known_root().unwrap().port(), Some(8443));
    assert_eq!(config.deployment, Some(Deployment::Server));
    assert_eq!(
        config.start_date,
        parse_jira("2024-01-01T00:00:00Z").unwrap()
    );
}

#[test]
fn server_basic_sample_uses_basic_auth() {
    let (_, config) = load_config("server-basic.json");
    assert!(
        matches!(&config.auth, Auth::Basic { username, .. } if username == "<your Jira username>"),
        "{:?}",
        config.auth
    );
    assert_eq!(config.page_size, 50);
}

#[test]
fn cloud_oauth_sample_goes_through_the_gateway_and_remembers_its_file() {
    let (_, config) = load_config("cloud-oauth.json");
    let Auth::OAuth(oauth) = &config.auth else {
        panic!("expected OAuth 2.0, got {:?}", config.auth)
    };
    assert_eq!(
        oauth.refresh_token_file.as_ref().map(TokenFile::path),
        Some(fixture("config/cloud-oauth.json").as_path()),
        "the rotated refresh token is written back to the file it came from"
    );
    assert_eq!(config.deployment, Some(Deployment::Cloud));
    let root = config.site.known_root().unwrap();
    assert_eq!(root.host_str(), Some("api.atlassian.com"));
    assert!(root.path().starts_with("/ex/jira/"), "{root}");
}

#[test]
fn cloud_scoped_token_sample_asks_the_site_for_its_cloud_id() {
    let (_, config) = load_config("cloud-scoped-token.json");
    assert!(
        matches!(config.auth, Auth::ScopedToken { .. }),
        "{:?}",
        config.auth
    );
    assert_eq!(config.deployment, Some(Deployment::Cloud));
    let Site::Gateway { gateway, cloud_id } = &config.site else {
        panic!("expected the gateway, got {:?}", config.site)
    };
    assert_eq!(gateway.as_str(), "https://api.atlassian.com/");
    assert_eq!(
        cloud_id,
        &CloudId::OfSite("https://your-site.atlassian.net/".parse().unwrap())
    );
}

#[test]
fn server_oauth_sample_refreshes_at_the_site_itself() {
    let (_, config) = load_config("server-oauth.json");
    let Auth::OAuth(oauth) = &config.auth else {
        panic!("expected OAuth 2.0, got {:?}", config.auth)
    };
    assert_eq!(oauth.client.provider, OAuthProvider::DataCenter);
    assert_eq!(
        oauth.client.token_url.as_str(),
        "https://jira.example.com/rest/oauth2/latest/token"
    );
    assert_eq!(
        config.site,
        Site::Direct("https://jira.example.com/".parse().unwrap())
    );
    assert_eq!(config.deployment, Some(Deployment::Server));
}

#[test]
fn stitch_sample_infers_basic_auth_and_the_default_timeout() {
    let (_, config) = load_config("stitch.json");
    assert!(
        matches!(&config.auth, Auth::Basic { username, .. } if username == "you@example.com"),
        "{:?}",
        config.auth
    );
    assert_eq!(config.network.request_timeout, Duration::from_secs(300));
    assert_eq!(
        config.groups,
        Some(vec![
            "jira-administrators".to_string(),
            "jira-software-users".to_string()
        ])
    );
    assert_eq!(config.network.user_agent, "tap-jira <you@example.com>");
}

// ---------------------------------------------------------------------------------------------
// Fields and the issues schema

fn site_fields(relative: &str) -> Vec<Value> {
    match read_json(relative) {
        Value::Array(fields) => fields,
        other => panic!("{relative} is not a bare array: {other}"),
    }
}

/// The `issues` entry discovered from these `/field` entries, each read from its text as the
/// tap reads it.
fn issues_entry(fields: &[Value], deployment: Deployment) -> CatalogEntry {
    let fields: Vec<SiteField> = fields
        .iter()
        .map(|field| serde_json::from_str(&field.to_string()).unwrap())
        .collect();
    build_entry(
        StreamDef::find("issues").unwrap(),
        deployment,
        TextForm::of(deployment, RichText::Adf),
        &fields,
        FieldNames::Id,
    )
    .unwrap()
}

fn field_metadata<'a>(entry: &'a CatalogEntry, id: &str) -> &'a serde_json::Map<String, Value> {
    let crumb: Vec<String> = ["properties", "fields", "properties", id]
        .map(String::from)
        .into();
    entry
        .metadata_at(&crumb)
        .unwrap_or_else(|| panic!("no metadata for {id}"))
}

fn assert_every_field_has_a_schema(relative: &str, deployment: Deployment) {
    let fields = site_fields(relative);
    let entry = issues_entry(&fields, deployment);
    let properties = entry.schema["properties"]["fields"]["properties"]
        .as_object()
        .expect("issues schema has fields.properties");
    for field in &fields {
        let id = field["id"].as_str().expect("every field has an id");
        let schema = properties
            .get(id)
            .unwrap_or_else(|| panic!("{relative}: field {id} has no schema"));
        assert!(
            schema.get("type").is_some(),
            "{relative}: field {id} has a schema without a type: {schema}"
        );
        let name = field_metadata(&entry, id).get("tap-jira.field-name");
        assert_eq!(name, field.get("name"), "{relative}: {id}");
    }
}

#[test]
fn every_cloud_field_gets_a_schema() {
    assert_every_field_has_a_schema("jira/field-cloud.json", Deployment::Cloud);
}

#[test]
fn every_server_field_gets_a_schema() {
    assert_every_field_has_a_schema("jira/field-server.json", Deployment::Server);
}

#[test]
fn fields_are_told_apart_by_id_not_by_their_shared_name() {
    let fields = site_fields("jira/field-cloud.json");
    let entry = issues_entry(&fields, Deployment::Cloud);
    let cascading = field_metadata(&entry, "customfield_10046");
    let text = field_metadata(&entry, "customfield_10059");
    assert_eq!(cascading["tap-jira.field-name"], "Region");
    assert_eq!(text["tap-jira.field-name"], "Region");
    let properties = &entry.schema["properties"]["fields"]["properties"];
    assert!(properties["customfield_10046"]["properties"]["child"].is_object());
    assert_eq!(
        properties["customfield_10059"]["type"],
        serde_json::json!(["null", "string"])
    );
}

// ---------------------------------------------------------------------------------------------
// Issues as the search returns them

/// `2024-01-31T13:05:00.000+0000`, `…-0800`, `…+0000` without fraction: Jira's own offset style,
/// which must never reach a target.
fn is_jira_offset_timestamp(s: &str) -> bool {
    let b = s.as_bytes();
    let digits = |range: std::ops::Range<usize>| range.into_iter().all(|i| b[i].is_ascii_digit());
    if b.len() < 24 || !matches!(b[b.len() - 5], b'+' | b'-') || !digits(b.len() - 4..b.len()) {
        return false;
    }
    let date_time = digits(0..4)
        && b[4] == b'-'
        && digits(5..7)
        && b[7] == b'-'
        && digits(8..10)
        && b[10] == b'T'
        && digits(11..13)
        && b[13] == b':'
        && digits(14..16)
        && b[16] == b':'
        && digits(17..19);
    let rest = &b[19..b.len() - 5];
    let fraction = rest.is_empty()
        || (rest[0] == b'.' && rest.len() > 1 && rest[1..].iter().all(u8::is_ascii_digit));
    date_time && fraction
}

fn jira_offset_timestamps(value: &Value, path: &str, found: &mut Vec<String>) {
    match value {
        Value::String(s) if is_jira_offset_timestamp(s) => found.push(format!("{path} = {s}")),
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                jira_offset_timestamps(item, &format!("{path}/{i}"), found);
            }
        }
        Value::Object(map) => {
            for (key, item) in map {
                jira_offset_timestamps(item, &format!("{path}/{key}"), found);
            }
        }
        _ => {}
    }
}

#[test]
fn the_offset_check_recognises_jiras_styles_only() {
    for jira in [
        "2024-01-31T13:05:00.000+0000",
        "2024-02-20T09:30:00.000+1000",
        "2024-02-19T16:42:07.312-0800",
        "2024-02-21T07:29:55+0000",
    ] {
        assert!(is_jira_offset_timestamp(jira), "{jira}");
    }
    for other in [
        "2024-01-31T13:05:00.000Z",
        "2024-01-31T13:05:00.000-07:00",
        "2024-01-31",
        "0|i0003r:",
        "note 2024-01-31T13:05:00.000+0000",
        "2024-01-31T13:05:00.000+0000 and more",
    ] {
        assert!(!is_jira_offset_timestamp(other), "{other}");
    }
}

/// `cursor_of` on an issue as the sync loop has it: JSON text taken apart.
fn cursor(issue: &Value) -> Option<(String, chrono::DateTime<chrono::Utc>)> {
    let text = issue.to_string();
    cursor_of(&RawObject::parse(&text)?)
}

/// The issue as the sync loop writes it: timestamps hoisted and normalised on its JSON text.
fn hoisted_and_normalized(issue: &Value) -> Value {
    let text = issue.to_string();
    let mut record = RawObject::parse(&text).expect("an issue is an object");
    hoist_timestamps(&mut record);
    let mut out = String::new();
    record.write_with(&mut out, &normalize_json);
    serde_json::from_str(&out).expect("the record is JSON")
}

/// What the sync loop does to one issue of a search page before it becomes a RECORD, then checks
/// the record against the issues schema of the site's catalog.
fn assert_issue_becomes_a_valid_record(issue: &Value, entry: &CatalogEntry, origin: &str) -> Value {
    let (id, updated) = cursor(issue).unwrap_or_else(|| panic!("{origin}: no cursor"));
    assert_eq!(Some(id.as_str()), issue["id"].as_str(), "{origin}");
    assert_eq!(
        Some(updated),
        issue["fields"]["updated"].as_str().and_then(parse_jira),
        "{origin}"
    );

    let record = hoisted_and_normalized(issue);

    let validator = jsonschema::options()
        .should_validate_formats(true)
        .build(&entry.schema)
        .expect("the issues schema is a valid JSON schema");
    let errors: Vec<String> = validator
        .iter_errors(&record)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "{origin}: {} schema errors:\n{}",
        errors.len(),
        errors.join("\n")
    );

    let mut left = Vec::new();
    jira_offset_timestamps(&record, "", &mut left);
    assert!(
        left.is_empty(),
        "{origin}: Jira-style offsets left after normalize:\n{}",
        left.join("\n")
    );

    // The replication key at the top level, in UTC, still the same instant.
    let top = record["updated"].as_str().expect("updated hoisted");
    assert!(top.ends_with('Z'), "{origin}: {top}");
    assert_eq!(parse_jira(top), Some(updated), "{origin}");
    assert_eq!(record["updated"], record["fields"]["updated"], "{origin}");
    assert!(record["created"].is_string(), "{origin}: created hoisted");
    assert_eq!(cursor(&record), Some((id, updated)), "{origin}");
    record
}

#[test]
fn cloud_v3_issue_validates_against_the_cloud_catalog() {
    let entry = issues_entry(&site_fields("jira/field-cloud.json"), Deployment::Cloud);
    let issue = read_json("jira/issue-cloud-v3.json");
    let record = assert_issue_becomes_a_valid_record(&issue, &entry, "issue-cloud-v3.json");

    let fields = &record["fields"];
    assert_eq!(record["updated"], "2024-03-04T09:15:33.870Z");
    assert_eq!(
        record["created"], "2024-02-20T00:42:07.312Z",
        "-0800 to UTC"
    );
    assert_eq!(
        fields["customfield_10048"], "2024-02-19T23:30:00.000Z",
        "+1000 to UTC"
    );
    assert_eq!(
        fields["customfield_10047"], "2024-02-23",
        "dates stay dates"
    );
    assert_eq!(fields["description"]["type"], "doc");
    assert_eq!(
        fields["customfield_10041"]["type"], "doc",
        "textarea is ADF"
    );
    assert_eq!(fields["customfield_10020"][2]["state"], "future");
    assert!(fields["customfield_10020"][2].get("startDate").is_none());
    assert_eq!(fields["customfield_10046"]["child"]["value"], "Sydney");
    assert_eq!(fields["customfield_10014"], "ORB-12", "Epic Link is a key");
    assert_eq!(fields["customfield_10019"], "0|i0003r:", "rank untouched");
    assert_eq!(fields["customfield_10000"], "{}", "Development untouched");
    assert_eq!(
        fields["customfield_10010"]["currentStatus"]["statusDate"]["iso8601"],
        "2024-02-21T07:29:55.000Z",
        "service-management dates without a fraction are normalised too"
    );
    assert_eq!(fields["worklog"]["maxResults"], 20);
}

#[test]
fn server_v2_issue_validates_against_the_server_catalog() {
    let entry = issues_entry(&site_fields("jira/field-server.json"), Deployment::Server);
    let issue = read_json("jira/issue-server-v2.json");
    let record = assert_issue_becomes_a_valid_record(&issue, &entry, "issue-server-v2.json");

    let fields = &record["fields"];
    assert_eq!(record["updated"], "2024-02-16T16:44:19.030Z");
    let description = fields["description"].as_str().expect("wiki markup");
    assert!(description.contains('\u{a0}'), "no-break spaces kept");
    assert_eq!(fields["creator"]["key"], "JIRAUSER10000");
    assert_ne!(fields["creator"]["key"], fields["creator"]["name"]);
    assert_eq!(
        fields["assignee"]["emailAddress"],
        "priya at northwind dot example"
    );
    let sprints = fields["customfield_10100"].as_array().unwrap();
    assert!(
        sprints
            .iter()
            .all(|s| s.as_str().unwrap().contains("completeDate=")),
        "legacy sprint strings pass through as they are: {sprints:?}"
    );
    assert!(
        sprints[1].as_str().unwrap().contains("-08:00"),
        "no rewriting inside opaque strings"
    );
}

#[test]
fn token_search_page_issues_validate_and_the_page_has_no_total() {
    let entry = issues_entry(&site_fields("jira/field-cloud.json"), Deployment::Cloud);
    let page = read_json("jira/search-jql-page.json");
    for key in ["startAt", "maxResults", "total"] {
        assert!(page.get(key).is_none(), "a /search/jql page has no {key}");
    }
    assert_eq!(page["isLast"], false);
    let token = page["nextPageToken"].as_str().unwrap();
    assert!(token.ends_with('='), "padded: {token}");
    assert!(
        token
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'=')),
        "URL-safe base64: {token}"
    );
    let issues = page["issues"].as_array().unwrap();
    assert_eq!(issues.len(), 2);
    for issue in issues {
        assert_issue_becomes_a_valid_record(issue, &entry, "search-jql-page.json");
    }
}

#[test]
fn offset_search_page_issues_validate_and_the_page_is_capped() {
    let entry = issues_entry(&site_fields("jira/field-server.json"), Deployment::Server);
    let page = read_json("jira/search-v2-page.json");
    let start = page["startAt"].as_u64().unwrap();
    let total = page["total"].as_u64().unwrap();
    let issues = page["issues"].as_array().unwrap();
    assert!(
        page["maxResults"].as_u64().unwrap() < u64::from(DEFAULT_PAGE_SIZE),
        "capped below the tap's page size"
    );
    assert_eq!(start + issues.len() as u64, total, "the last page");
    for issue in issues {
        assert_issue_becomes_a_valid_record(issue, &entry, "search-v2-page.json");
    }
}

/// Jira 5/6-era Server declares radio buttons, select lists and epic status `"type": "string"` but
/// sends option objects, and the obsolete global rank an array of strings but sends one string:
/// the custom type key, not the declared type, decides the schema.
#[test]
fn legacy_server_issue_validates_against_its_catalog() {
    let entry = issues_entry(
        &site_fields("jira/field-server-legacy.json"),
        Deployment::Server,
    );
    let issue = read_json("jira/issue-server-legacy.json");
    let record = assert_issue_becomes_a_valid_record(&issue, &entry, "issue-server-legacy.json");
    assert_eq!(record["fields"]["customfield_10001"]["value"], "No");
    assert_eq!(
        record["updated"], "2012-11-21T03:05:03.904Z",
        "+1300 to UTC"
    );
}

/// The validation has teeth: a value of the wrong type is reported.
#[test]
fn a_mistyped_custom_field_value_is_caught() {
    let entry = issues_entry(&site_fields("jira/field-cloud.json"), Deployment::Cloud);
    let mut record = read_json("jira/issue-cloud-v3.json");
    record["fields"]["customfield_10040"] = Value::from("thirteen");
    record["fields"]["customfield_10048"] = Value::from("yesterday");
    let record = hoisted_and_normalized(&record);
    let validator = jsonschema::options()
        .should_validate_formats(true)
        .build(&entry.schema)
        .unwrap();
    let mut paths: Vec<String> = validator
        .iter_errors(&record)
        .map(|e| e.instance_path().to_string())
        .collect();
    paths.sort();
    assert_eq!(
        paths,
        ["/fields/customfield_10040", "/fields/customfield_10048"]
    );
}

// ---------------------------------------------------------------------------------------------
// Deployment detection

#[test]
fn server_info_of_every_era_gives_the_deployment() {
    for (file, expected) in [
        ("serverinfo-cloud.json", Deployment::Cloud),
        ("serverinfo-cloud-old.json", Deployment::Cloud),
        ("serverinfo-server.json", Deployment::Server),
        ("serverinfo-old.json", Deployment::Server),
    ] {
        let info = read_json(&format!("jira/{file}"));
        assert_eq!(detect_deployment(&info), expected, "{file}");
    }
    let old_cloud = read_json("jira/serverinfo-cloud-old.json");
    assert!(old_cloud.get("deploymentType").is_none());
    let old_server = read_json("jira/serverinfo-old.json");
    assert!(
        old_server.get("deploymentType").is_none() && old_server.get("versionNumbers").is_none()
    );
}
