//! `--about` as Meltano and the SDK's tooling read it: the settings as a JSON Schema with real
//! types, a Markdown table, and the plugin definition committed as `meltano/tap-jira.yml`.

mod common;

use common::hostile::{Hostile, Reply};
use common::{Site, tap};
use serde_json::{Map, Value, json};

fn about(format: &str) -> String {
    let run = tap(&[&"--about", &"--format", &format]);
    run.assert_success();
    run.stdout
}

fn about_json() -> Value {
    serde_json::from_str(&about("json")).expect("--about --format json prints JSON")
}

fn properties(about: &Value) -> &Map<String, Value> {
    about["settings"]["properties"]
        .as_object()
        .expect("settings.properties is an object")
}

/// The JSON type a property allows besides null.
fn json_type(property: &Value) -> Vec<&str> {
    property["type"]
        .as_array()
        .expect("type is a list")
        .iter()
        .filter_map(Value::as_str)
        .filter(|t| *t != "null")
        .collect()
}

#[test]
fn about_json_is_the_sdks_shape_with_typed_settings() {
    let about = about_json();
    assert_eq!(about["name"], "tap-jira");
    assert!(about["description"].as_str().is_some_and(|d| !d.is_empty()));
    assert_eq!(about["version"], env!("CARGO_PKG_VERSION"));
    let capabilities = about["capabilities"].as_array().unwrap();
    for c in ["catalog", "discover", "state", "about"] {
        assert!(capabilities.contains(&json!(c)), "{c}");
    }
    assert_eq!(about["settings"]["type"], "object");

    let properties = properties(&about);
    for (name, p) in properties {
        assert!(
            p["type"].as_array().unwrap().contains(&json!("null")),
            "{name} may be left null"
        );
        assert!(!json_type(p).is_empty(), "{name} has a type");
        assert!(
            p["description"].as_str().is_some_and(|d| d.len() > 10),
            "{name}"
        );
        assert!(p["title"].as_str().is_some_and(|t| !t.is_empty()), "{name}");
    }
    // Types as the tap reads them, defaults of those types (not strings).
    for (name, ty, default) in [
        ("page_size", "integer", json!(100)),
        ("max_concurrency", "integer", json!(8)),
        ("lookback_minutes", "integer", json!(5)),
        ("allow_http", "boolean", json!(false)),
        ("hash_pii", "boolean", json!(false)),
        ("render_text", "string", json!("markdown")),
        ("start_date", "string", json!("1970-01-01T00:00:00Z")),
    ] {
        assert_eq!(json_type(&properties[name]), [ty], "{name}");
        assert_eq!(properties[name]["default"], default, "{name}");
    }
    // Or its text, as Meltano writes it.
    assert_eq!(
        json_type(&properties["max_requests_per_second"]),
        ["number", "string"]
    );
    assert!(json_type(&properties["projects"]).contains(&"array"));
    assert_eq!(properties["projects"]["items"]["type"], "string");

    // Every choice setting lists its words (and null: leaving it unset).
    for (name, words) in [
        ("deployment", &["cloud", "server"][..]),
        (
            "auth_type",
            &[
                "api_token",
                "pat",
                "basic",
                "oauth2",
                "scoped_token",
                "oauth2_dc",
            ],
        ),
        ("schema_drift", &["auto", "block"]),
        ("render_text", &["markdown", "plain", "none"]),
        ("deleted_issues", &["audit", "reconcile", "off"]),
        ("rich_text", &["adf", "wiki"]),
        ("custom_field_names", &["id", "name"]),
    ] {
        let mut expected: Vec<Value> = words.iter().map(|w| json!(w)).collect();
        expected.push(Value::Null);
        assert_eq!(properties[name]["enum"], json!(expected), "{name}");
    }
    let with_enum = properties.values().filter(|p| p.get("enum").is_some());
    assert_eq!(with_enum.count(), 7, "a choice setting without a test");

    let secrets: Vec<&str> = properties
        .iter()
        .filter(|(_, p)| p["secret"] == json!(true))
        .map(|(name, p)| {
            assert_eq!(p["writeOnly"], json!(true), "{name}");
            name.as_str()
        })
        .collect();
    assert_eq!(
        secrets,
        [
            "api_token",
            "personal_access_token",
            "password",
            "oauth_client_secret",
            "refresh_token",
            "access_token",
            "proxy_url",
            "hash_salt"
        ]
    );

    // Each auth method's settings, as a set the config must hold.
    let methods = about["settings"]["anyOf"].as_array().unwrap();
    let titles: Vec<&str> = methods.iter().filter_map(|m| m["title"].as_str()).collect();
    assert_eq!(
        titles,
        [
            "api_token",
            "pat",
            "basic",
            "oauth2",
            "scoped_token",
            "oauth2_dc"
        ]
    );
    for method in methods {
        for key in method["required"].as_array().unwrap() {
            assert!(properties.contains_key(key.as_str().unwrap()), "{key}");
        }
    }
    // A site is a base_url or a host: either will do.
    assert_eq!(methods[1]["required"], json!(["personal_access_token"]));
    assert_eq!(
        methods[1]["allOf"],
        json!([{"anyOf": [{"required": ["base_url"]}, {"required": ["host"]}]}])
    );
}

#[test]
fn the_settings_schema_accepts_every_default_and_refuses_wrong_types() {
    let about = about_json();
    let schema = &about["settings"];
    let validator = jsonschema::options()
        .should_validate_formats(true)
        .build(schema)
        .expect("settings is a valid JSON Schema");
    let check = jsonschema::options().should_validate_formats(true);
    let mut defaults = json!({});
    for (name, p) in properties(&about) {
        let Some(default) = p.get("default") else {
            continue;
        };
        let property = check.build(p).expect("each property is a schema");
        assert!(
            property.is_valid(default),
            "{name}: default {default} fails its own schema"
        );
        defaults[name] = default.clone();
    }
    let api_token =
        json!({"base_url": "https://x.atlassian.net", "email": "a@b.c", "api_token": "t"});
    let mut config = defaults.clone();
    config
        .as_object_mut()
        .unwrap()
        .extend(api_token.as_object().unwrap().clone());
    assert!(validator.is_valid(&config));
    assert!(
        validator.is_valid(&json!({"base_url": "https://jira.example.com",
        "personal_access_token": "p", "start_date": "2024-01-01", "projects": "WEB, OPS"}))
    );
    assert!(
        validator.is_valid(&json!({"host": "jira.example.com", "port": 8443,
        "use_encrypted_endpoints": true, "personal_access_token": "p"}))
    );
    assert!(
        !validator.is_valid(&json!({"port": 8443, "personal_access_token": "p"})),
        "a port without a host is no site"
    );

    // Meltano's definition makes the settings that take a fraction strings (it cannot write its
    // `decimal` kind), so Meltano writes their text; Stitch's configs hold `request_timeout` as
    // text too, `""` and `"0.0"` for the default. The tap reads them all.
    for (key, text) in [
        ("request_timeout", "30"),
        ("request_timeout", "12.5"),
        ("request_timeout", "0.0"),
        ("request_timeout", ""),
        ("max_requests_per_second", "2.5"),
    ] {
        let mut config = config.clone();
        config[key] = json!(text);
        assert!(validator.is_valid(&config), "{key}: {text:?} refused");
    }
    for (key, wrong) in [
        ("render_text", json!("fancy")),
        ("page_size", json!(true)),
        ("max_requests_per_second", json!("fast")),
        ("request_timeout", json!("-5")),
        ("allow_http", json!("yes")),
        ("start_date", json!("yesterday")),
        ("projects", json!(7)),
    ] {
        let mut config = config.clone();
        config[key] = wrong.clone();
        assert!(!validator.is_valid(&config), "{key}: {wrong} accepted");
    }
    assert!(
        !validator.is_valid(&defaults),
        "a config with no credentials at all is refused"
    );
}

#[test]
fn the_tap_itself_accepts_every_default_about_shows() {
    let site = Site::cloud();
    // As Meltano writes a config: every default, beside the settings the project set.
    let mut config = site.cloud_config();
    for (name, p) in properties(&about_json()) {
        if let (Some(default), None) = (p.get("default"), config.get(name)) {
            config[name] = default.clone();
        }
    }
    let config = site.file("config.json", &config);
    let catalog = site.discover(&config);
    assert!(!catalog["streams"].as_array().unwrap().is_empty());
}

#[test]
fn markdown_is_a_settings_table_with_types_defaults_and_auth_methods() {
    let markdown = about("markdown");
    assert!(markdown.contains("| Setting | Type | Default | Description |"));
    assert!(
        markdown.contains("| `render_text` | one of `markdown`, `plain`, `none` | `markdown` |"),
        "{markdown}"
    );
    assert!(markdown.contains("| `page_size` | integer | `100` |"));
    assert!(markdown.contains("| `api_token` | secret |  |"));
    assert!(markdown.contains(
        "| `oauth2` | Jira Cloud: OAuth 2.0 (3LO) app and refresh token | `oauth_client_id`, \
         `oauth_client_secret`, `refresh_token`, `cloud_id` |"
    ));
}

#[test]
fn the_committed_meltano_definition_is_what_the_tap_generates() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/meltano/tap-jira.yml");
    let committed = std::fs::read_to_string(path).expect("meltano/tap-jira.yml exists");
    let generated = about("meltano");
    assert!(
        committed == generated,
        "meltano/tap-jira.yml is not what the tap generates: run\n  \
         cargo run -- --about --format meltano > meltano/tap-jira.yml"
    );
    for expected in [
        "capabilities: [catalog, discover, state, about, properties, activate-version, schema-flattening]",
        "- [base_url, email, api_token]",
        "- [host, email, api_token]",
        "- [oauth_client_id, oauth_client_secret, refresh_token, cloud_id]",
        "- name: page_size\n  label: Page size\n  kind: integer\n  value: 100\n",
        "- name: allow_http\n  label: Allow HTTP\n  kind: boolean\n  value: false\n",
        "- name: api_token\n  label: API token\n  kind: string\n  sensitive: true\n",
        "  kind: options\n  options:\n  - {label: markdown, value: markdown}\n  \
         - {label: plain, value: plain}\n  - {label: none, value: none}\n  value: markdown\n",
        "- name: projects\n  label: Projects\n  kind: array\n",
        "- name: max_requests_per_second\n  label: Max requests per second\n  kind: string\n",
        "- name: start_date\n  label: Start date\n  kind: date_iso8601\n",
    ] {
        assert!(generated.contains(expected), "lacks {expected:?}");
    }
}

/// `meltano config list` shows each `settings_group_validation` set as one that is enough: a
/// config of exactly one set's settings (beside where the server is) must be read, not refused
/// as missing a setting, and no set is shown twice.
#[test]
fn every_meltano_settings_group_is_a_config_the_tap_reads() {
    const CLOUD_ID: &str = "5a1e7c3d-0b2f-4c6d-9e8f-1a2b3c4d5e6f";
    let definition = about("meltano");
    let groups: Vec<Vec<&str>> = definition
        .lines()
        .skip_while(|l| *l != "settings_group_validation:")
        .skip(1)
        .map_while(|l| l.strip_prefix("- [")?.strip_suffix(']'))
        .map(|l| l.split(", ").collect())
        .collect();
    assert!(groups.len() >= 6, "{definition}");
    for (i, group) in groups.iter().enumerate() {
        assert!(!groups[..i].contains(group), "{group:?} is listed twice");
    }
    // A Cloud site answering what discovery asks, directly or through the gateway (OAuth's
    // token endpoint with a token): whatever stops the run then, it is not the config.
    let server = Hostile::start(|r| {
        let path = r.path.as_str();
        if path.ends_with("/oauth/token") {
            Some(Reply::Json(
                json!({"access_token": "a", "refresh_token": "r2", "expires_in": 3600}),
            ))
        } else if path.ends_with("/myself") {
            Some(Reply::Json(
                json!({"accountId": "5b10a2844c20165700ede21g", "timeZone": "UTC"}),
            ))
        } else if path == "/_edge/tenant_info" {
            Some(Reply::Json(json!({"cloudId": CLOUD_ID})))
        } else if path.ends_with("/serverInfo") {
            Some(Reply::Json(
                json!({"deploymentType": "Cloud", "version": "1001.0.0"}),
            ))
        } else {
            path.ends_with("/field").then(|| Reply::Json(json!([])))
        }
    });
    let port = server.url.trim_end_matches('/').rsplit(':').next().unwrap();
    let dir = tempfile::tempdir().unwrap();
    for group in &groups {
        let mut config = json!({"allow_http": true, "max_retries": 0, "retry_budget_seconds": 5,
            "oauth_gateway_url": server.url,
            "oauth_token_url": format!("{}oauth/token", server.url)});
        for key in group {
            config[*key] = match *key {
                "base_url" => json!(server.url),
                "host" => {
                    config["port"] = json!(port.parse::<u16>().unwrap());
                    config["use_encrypted_endpoints"] = json!(false);
                    json!("127.0.0.1")
                }
                "cloud_id" => json!(CLOUD_ID),
                "email" => json!("a@example.com"),
                "oauth_redirect_uri" => json!("https://localhost/callback"),
                // The one method the tap never infers from the keys given.
                "auth_type" => json!("scoped_token"),
                _ => json!(format!("{key}-value")),
            };
        }
        let path = dir.path().join("config.json");
        std::fs::write(&path, config.to_string()).unwrap();
        let run = tap(&[&"--config", &path, &"--discover"]);
        assert!(
            !run.stderr.contains("ERROR config"),
            "Meltano says {group:?} is enough; the tap refused it:\n{}",
            run.stderr
        );
    }
}

#[test]
fn the_changelog_has_an_entry_for_this_version() {
    let about = about_json();
    let version = about["version"].as_str().unwrap();
    assert_eq!(version, env!("CARGO_PKG_VERSION"));
    let changelog = concat!(env!("CARGO_MANIFEST_DIR"), "/CHANGELOG.md");
    let changelog = std::fs::read_to_string(changelog).expect("CHANGELOG.md exists");
    let heading = format!("## [{version}] - ");
    assert!(
        changelog.lines().any(|l| l.starts_with(&heading)),
        "CHANGELOG.md has no `{heading}…` heading for the version in Cargo.toml"
    );
}
