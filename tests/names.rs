//! `custom_field_names: name`: custom fields discovered and synced under the snake_case of their
//! display names, collisions resolved with the id, the id kept in metadata and used to ask Jira.

mod common;

use std::collections::BTreeMap;

use common::{Run, Site, assert_valid_singer_output, tap};
use jira_sim::{CustomFieldType, Deployment, SimConfig};
use serde_json::{Map, Value, json};
use tap_jira::catalog::snake;

const SALT: &str = "a-long-random-test-salt";
const BY_NAME: &str = r#"{"custom_field_names": "name"}"#;

fn by_name() -> Value {
    serde_json::from_str(BY_NAME).unwrap()
}

fn site_for(deployment: Deployment) -> Site {
    Site::new(SimConfig {
        deployment,
        ..SimConfig::default()
    })
}

/// The catalog discovered with `extra` config keys, only `streams` selected.
fn discover_selecting(site: &Site, extra: Value, streams: &[&str]) -> Value {
    let config = site.file("discover.json", &site.config_with(extra));
    let mut catalog = site.discover(&config);
    common::select_only(&mut catalog, streams);
    catalog
}

fn sync(site: &Site, extra: Value, catalog: &Value) -> Run {
    let config = site.file("config.json", &site.config_with(extra));
    let catalog = site.file("catalog.json", catalog);
    let run = tap(&[&"--config", &config, &"--catalog", &catalog]);
    run.assert_success();
    assert_valid_singer_output(&run);
    run
}

fn issues_entry(catalog: &Value) -> &Value {
    catalog["streams"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["tap_stream_id"] == "issues")
        .unwrap()
}

/// The metadata of each property of `fields`, by property name.
fn field_metadata(catalog: &Value) -> BTreeMap<String, Map<String, Value>> {
    issues_entry(catalog)["metadata"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| {
            m["breadcrumb"].as_array().unwrap().len() == 4 && m["breadcrumb"][1] == "fields"
        })
        .map(|m| {
            let name = m["breadcrumb"][3].as_str().unwrap().to_string();
            (name, m["metadata"].as_object().unwrap().clone())
        })
        .collect()
}

/// Column → Jira id, from `tap-jira.field-id`.
fn ids_by_column(catalog: &Value) -> BTreeMap<String, String> {
    field_metadata(catalog)
        .into_iter()
        .filter_map(|(column, m)| Some((column, m.get("tap-jira.field-id")?.as_str()?.to_string())))
        .collect()
}

fn column_of(catalog: &Value, id: &str) -> String {
    ids_by_column(catalog)
        .into_iter()
        .find(|(_, i)| i == id)
        .unwrap_or_else(|| panic!("no column for {id}"))
        .0
}

fn fields_schema(catalog: &Value) -> &Map<String, Value> {
    issues_entry(catalog)["schema"]["properties"]["fields"]["properties"]
        .as_object()
        .unwrap()
}

fn emitted_fields_schema(run: &Run) -> Value {
    run.messages()
        .iter()
        .find(|m| m["type"] == "SCHEMA" && m["stream"] == "issues")
        .unwrap()["schema"]["properties"]["fields"]["properties"]
        .clone()
}

fn by_id(records: Vec<Value>) -> BTreeMap<String, Value> {
    records
        .into_iter()
        .map(|r| (r["id"].as_str().unwrap().to_string(), r))
        .collect()
}

#[test]
fn discovery_by_name_puts_custom_fields_under_snake_names_and_their_ids_in_metadata() {
    for deployment in [Deployment::Cloud, Deployment::Server] {
        let site = site_for(deployment);
        // Two fields of one name, and one named like a system field.
        let team = site
            .sim
            .sim
            .add_custom_field("Team", CustomFieldType::TextField);
        let team_too = site
            .sim
            .sim
            .add_custom_field("team", CustomFieldType::Float);
        let summary = site
            .sim
            .sim
            .add_custom_field("Summary", CustomFieldType::TextField);
        let ids = discover_selecting(&site, json!({}), &["issues"]);
        let names = discover_selecting(&site, by_name(), &["issues"]);

        let by_id_meta = field_metadata(&ids);
        let by_name_meta = field_metadata(&names);
        let id_schema = fields_schema(&ids);
        let name_schema = fields_schema(&names);
        assert_eq!(id_schema.len(), name_schema.len(), "{deployment}");
        assert!(
            name_schema.keys().all(|k| !k.starts_with("customfield_")),
            "{deployment}: {:?}",
            name_schema.keys().collect::<Vec<_>>()
        );
        let mut custom = 0;
        // The site's fields: those `/field` described.
        for (id, m) in by_id_meta
            .iter()
            .filter(|(_, m)| m.contains_key("tap-jira.field-name"))
        {
            let column = column_of(&names, id);
            let display = m["tap-jira.field-name"].as_str().unwrap();
            let expected = if !id.starts_with("customfield_") {
                id.clone()
            } else if [&team, &team_too, &summary].contains(&id) {
                custom += 1;
                format!("{}_{id}", snake(display))
            } else {
                custom += 1;
                snake(display)
            };
            assert_eq!(column, expected, "{deployment}: {display}");
            assert_eq!(
                name_schema[&column], id_schema[id],
                "{deployment}: {column}"
            );
            // The rest of the metadata is the same, the id beside it.
            let mut named = by_name_meta[&column].clone();
            assert_eq!(named.remove("tap-jira.field-id"), Some(json!(id)));
            assert_eq!(&named, m, "{deployment}: {column}");
        }
        assert!(custom > 20, "{deployment}: {custom} custom fields");
        assert_eq!(column_of(&names, &team), format!("team_{team}"));
        assert_eq!(column_of(&names, &summary), format!("summary_{summary}"));
        assert!(name_schema.contains_key("summary") && name_schema.contains_key("story_points"));
        assert!(name_schema.contains_key("acceptance_criteria"));
        // Only the issues stream changes.
        let others = |catalog: &Value| -> Vec<Value> {
            catalog["streams"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|s| s["tap_stream_id"] != "issues")
                .cloned()
                .collect()
        };
        assert_eq!(others(&ids), others(&names), "{deployment}");
    }
}

#[test]
fn names_that_collide_only_after_a_first_renaming_still_get_columns_of_their_own() {
    let site = site_for(Deployment::Cloud);
    let sim = &site.sim.sim;
    // `summary` is taken, so this one becomes `summary_<id>`, which a third field is named.
    let summary = sim.add_custom_field("Summary", CustomFieldType::TextField);
    let like_summary = sim.add_custom_field("later", CustomFieldType::TextField);
    assert!(sim.rename_custom_field(&like_summary, &format!("Summary {summary}")));
    // And a fourth is named like the id the second one falls back to.
    let like_id = sim.add_custom_field("later", CustomFieldType::Float);
    assert!(sim.rename_custom_field(&like_id, &summary));
    // Two rich-text fields of one name, and a field named like the first one's rendering.
    let notes = sim.add_custom_field("Notes", CustomFieldType::TextArea);
    sim.add_custom_field("Notes", CustomFieldType::TextArea);
    let like_rendering = sim.add_custom_field("later", CustomFieldType::TextField);
    assert!(sim.rename_custom_field(&like_rendering, &format!("Notes {notes} markdown")));

    let ids = discover_selecting(&site, json!({}), &["issues"]);
    let names = discover_selecting(&site, by_name(), &["issues"]);
    let custom = fields_schema(&ids)
        .keys()
        .filter(|k| k.starts_with("customfield_"))
        .count();
    let columns = ids_by_column(&names);
    let custom_columns = columns
        .values()
        .filter(|id| id.starts_with("customfield_"))
        .count();
    assert_eq!(custom_columns, custom, "{columns:?}");
    assert_eq!(fields_schema(&ids).len(), fields_schema(&names).len());
    // No column is another's rendering.
    for column in columns.keys() {
        for suffix in ["_markdown", "_text"] {
            if let Some(base) = column.strip_suffix(suffix) {
                assert!(
                    !columns.contains_key(base),
                    "{column} is {base}'s rendering"
                );
            }
        }
    }
    // A sync carries every field, each under its own column.
    let run = sync(&site, by_name(), &names);
    let by_ids = sync(&site, json!({}), &ids);
    let widest = |run: &Run| {
        run.records("issues")
            .iter()
            .map(|r| r["fields"].as_object().unwrap().len())
            .max()
            .unwrap()
    };
    assert_eq!(widest(&run), widest(&by_ids));
}

#[test]
fn a_sync_by_name_carries_the_values_of_a_sync_by_id_under_the_snake_names() {
    for deployment in [Deployment::Cloud, Deployment::Server] {
        let site = site_for(deployment);
        let ids = discover_selecting(&site, json!({}), &["issues"]);
        let names = discover_selecting(&site, by_name(), &["issues"]);
        let by_ids = sync(&site, json!({}), &ids);
        site.sim.sim.reset_requests();
        let by_names = sync(&site, by_name(), &names);

        let columns = ids_by_column(&names);
        let schema = emitted_fields_schema(&by_names);
        let declared: Vec<&String> = schema.as_object().unwrap().keys().collect();
        assert!(
            declared.iter().all(|k| !k.starts_with("customfield_")),
            "{deployment}: {declared:?}"
        );
        assert!(schema.get("story_points").is_some(), "{deployment}");
        // Jira is still asked for the fields by their ids.
        let asked = site.first_search_body()["fields"].clone();
        let story_points = &columns["story_points"];
        assert!(
            asked.as_array().unwrap().contains(&json!(story_points)),
            "{deployment}: {asked}"
        );
        assert!(!asked.to_string().contains("story_points"), "{deployment}");

        // Record by record, the same values: the columns (and their renderings) read back as ids.
        let back = |key: &str| -> String {
            if let Some(id) = columns.get(key) {
                return id.clone();
            }
            for suffix in ["_markdown", "_text"] {
                if let Some(id) = key.strip_suffix(suffix).and_then(|c| columns.get(c)) {
                    return format!("{id}{suffix}");
                }
            }
            key.to_string()
        };
        let expected = by_id(by_ids.records("issues"));
        let got = by_id(by_names.records("issues"));
        assert_eq!(expected.len(), got.len(), "{deployment}");
        assert!(expected.len() >= 50, "{deployment}: {}", expected.len());
        let mut valued = 0;
        for (id, mut record) in got {
            let fields = record["fields"].as_object_mut().unwrap();
            assert!(
                fields.keys().all(|k| !k.starts_with("customfield_")),
                "{deployment}: {id}"
            );
            valued += fields.get("story_points").is_some_and(Value::is_number) as usize;
            *fields = std::mem::take(fields)
                .into_iter()
                .map(|(k, v)| (back(&k), v))
                .collect();
            assert_eq!(record, expected[&id], "{deployment}: issue {id}");
        }
        assert!(valued > 10, "{deployment}: {valued} story points");
    }
}

#[test]
fn renamed_fields_are_hashed_and_rendered_under_their_names() {
    use tap_jira::adf::{TextStyle, render};
    use tap_jira::hashing::digest;
    use tap_jira::secret::Secret;
    let site = Site::cloud();
    let ids = discover_selecting(&site, json!({}), &["issues"]);
    let mut names = discover_selecting(&site, by_name(), &["issues"]);
    let story_points = column_of(&names, &ids_by_column(&names)["story_points"]);
    assert_eq!(story_points, "story_points");
    let story_points_id = ids_by_column(&names)["story_points"].clone();
    let textarea_id = ids_by_column(&names)["acceptance_criteria"].clone();
    let entry = common::entry_mut(&mut names, "issues");
    for m in entry["metadata"].as_array_mut().unwrap() {
        if m["breadcrumb"] == json!(["properties", "fields", "properties", "story_points"]) {
            m["metadata"]["tap-jira.hash"] = json!(true);
        }
    }

    let plain = by_id(sync(&site, json!({}), &ids).records("issues"));
    let run = sync(
        &site,
        json!({"custom_field_names": "name", "hash_salt": SALT}),
        &names,
    );
    let schema = emitted_fields_schema(&run);
    assert_eq!(schema["story_points"], json!({"type": ["null", "string"]}));
    assert_eq!(
        schema["acceptance_criteria_markdown"],
        json!({"type": ["null", "string"]})
    );
    assert!(schema.get(format!("{textarea_id}_markdown")).is_none());
    let (mut hashed, mut rendered) = (0, 0);
    for (id, issue) in by_id(run.records("issues")) {
        let fields = &issue["fields"];
        let before = &plain[&id]["fields"];
        match &before[&story_points_id] {
            Value::Null => assert!(fields["story_points"].is_null()),
            value => {
                assert_eq!(
                    fields["story_points"],
                    json!(digest(value, &Secret::new(SALT))),
                    "issue {id}"
                );
                hashed += 1;
            }
        }
        assert_eq!(fields["acceptance_criteria"], before[&textarea_id]);
        match &before[&textarea_id] {
            doc @ Value::Object(_) => {
                let markdown = render(doc, TextStyle::Markdown).unwrap();
                assert_eq!(fields["acceptance_criteria_markdown"], json!(markdown));
                rendered += 1;
            }
            _ => assert!(fields.get("acceptance_criteria_markdown").is_none()),
        }
    }
    assert!(
        hashed > 10 && rendered > 10,
        "{hashed} hashed, {rendered} rendered"
    );
}

#[test]
fn a_catalog_by_name_keeps_its_names_when_fields_are_renamed_and_names_the_new_ones() {
    for deployment in [Deployment::Cloud, Deployment::Server] {
        let site = site_for(deployment);
        let names = discover_selecting(&site, by_name(), &["issues"]);
        let budget = ids_by_column(&names)["budget"].clone();
        // Renamed in Jira after discovery, and new fields, one named like a column in use.
        assert!(site.sim.sim.rename_custom_field(&budget, "Spend"));
        let risk = site
            .sim
            .sim
            .add_custom_field("Risk Score", CustomFieldType::Float);
        let budget_too = site
            .sim
            .sim
            .add_custom_field("Budget", CustomFieldType::Float);

        let run = sync(&site, by_name(), &names);
        let schema = emitted_fields_schema(&run);
        let new_budget = format!("budget_{budget_too}");
        for column in ["budget", "risk_score", new_budget.as_str()] {
            assert_eq!(
                schema[column],
                json!({"type": ["null", "number"]}),
                "{deployment}: {column}"
            );
        }
        assert!(schema.get("spend").is_none(), "{deployment}");
        for id in [&risk, &budget_too] {
            assert!(run.stderr.contains(id.as_str()), "{deployment}: {id}");
        }
        let issues = run.records("issues");
        for column in ["budget", "risk_score", new_budget.as_str()] {
            assert!(
                issues.iter().any(|i| i["fields"][column].is_number()),
                "{deployment}: {column} has values"
            );
        }
        assert!(issues.iter().all(|i| {
            let fields = i["fields"].as_object().unwrap();
            fields.get("spend").is_none() && fields.keys().all(|k| !k.starts_with("customfield_"))
        }));

        // The catalog's names hold whatever the setting; fields new to it keep their ids.
        let run = sync(&site, json!({}), &names);
        let schema = emitted_fields_schema(&run);
        assert!(schema.get("budget").is_some() && schema.get("story_points").is_some());
        assert!(schema.get(&risk).is_some() && schema.get(&budget_too).is_some());
        let issues = run.records("issues");
        assert!(issues.iter().any(|i| i["fields"]["budget"].is_number()));
        assert!(issues.iter().any(|i| i["fields"][&risk].is_number()));
    }
}

#[test]
fn a_bad_naming_is_one_config_error_and_about_lists_the_setting() {
    let site = Site::cloud();
    let config = site.file(
        "config.json",
        &site.config_with(json!({"custom_field_names": "label"})),
    );
    let run = tap(&[&"--config", &config, &"--discover"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stdout.is_empty());
    let errors: Vec<&str> = run
        .stderr
        .lines()
        .filter(|l| l.contains("custom_field_names"))
        .collect();
    assert_eq!(errors.len(), 1, "{}", run.stderr);
    assert!(
        errors[0].contains("`label`") && errors[0].contains("use id"),
        "{}",
        errors[0]
    );
    assert!(
        site.sim.sim.requests().is_empty(),
        "no request before the config is checked"
    );

    let about = tap(&[&"--about", &"--format", &"json"]);
    about.assert_success();
    let about: Value = serde_json::from_str(&about.stdout).unwrap();
    let setting = &about["settings"]["properties"]["custom_field_names"];
    assert_eq!(setting["default"], json!("id"));
    assert!(
        setting["description"]
            .as_str()
            .unwrap()
            .contains("snake_case")
    );
}

/// A one-line text field retyped to rich text after discovery gains a rendering: named
/// `<column>_markdown`, it may be the column of another field the catalog already has ("Notes"
/// beside "Notes markdown"). That field's values stay in their column, flattened or not, and no
/// rendering takes its place.
#[test]
fn a_field_retyped_to_rich_text_does_not_render_over_a_column_named_like_its_rendering() {
    let site = Site::cloud();
    let notes = site
        .sim
        .sim
        .add_custom_field("Notes", CustomFieldType::TextField);
    site.sim
        .sim
        .add_custom_field("Notes markdown", CustomFieldType::TextField);
    let catalog = discover_selecting(&site, by_name(), &["issues"]);
    assert_eq!(column_of(&catalog, &notes), "notes");
    let column = |run: &Run, flat: bool| -> BTreeMap<String, Value> {
        by_id(run.records("issues"))
            .into_iter()
            .map(|(id, issue)| {
                let value = match flat {
                    true => issue.get("fields__notes_markdown"),
                    false => issue["fields"].get("notes_markdown"),
                };
                (id, value.cloned().unwrap_or(Value::Null))
            })
            .collect()
    };
    let before = column(&sync(&site, by_name(), &catalog), false);
    assert!(
        before.values().any(Value::is_string),
        "the site has values of Notes markdown"
    );

    assert!(
        site.sim
            .sim
            .retype_custom_field(&notes, CustomFieldType::TextArea)
    );
    for flat in [false, true] {
        let mut extra = by_name();
        extra["flattening_enabled"] = json!(flat);
        extra["flattening_max_depth"] = json!(2);
        let run = sync(&site, extra, &catalog);
        assert!(run.stderr.contains(notes.as_str()), "{}", run.stderr);
        assert_eq!(column(&run, flat), before, "flattened: {flat}");
    }
}

/// Letters with a diacritic past Latin-1 and Latin Extended-A (Romanian's comma below,
/// Vietnamese's horn and stacked marks) lose it, as `é` does, rather than becoming gaps.
#[test]
fn names_with_romanian_and_vietnamese_letters_keep_their_base_letters() {
    let site = Site::cloud();
    let sim = &site.sim.sim;
    let meeting = sim.add_custom_field("Ședință", CustomFieldType::Float);
    let assignee = sim.add_custom_field("Người thực hiện", CustomFieldType::TextField);
    let names = discover_selecting(&site, by_name(), &["issues"]);
    assert_eq!(column_of(&names, &meeting), "sedinta");
    assert_eq!(column_of(&names, &assignee), "nguoi_thuc_hien");

    let run = sync(&site, by_name(), &names);
    let issues = run.records("issues");
    assert!(issues.iter().any(|i| i["fields"]["sedinta"].is_number()));
    assert!(
        issues
            .iter()
            .any(|i| i["fields"]["nguoi_thuc_hien"].is_string())
    );
}

/// Targets fold column names to one case (Snowflake upper-cases unquoted names,
/// pipelinewise-target-postgres and target-redshift lower-case them, BigQuery ignores case), so a
/// custom field "Fixversions" under `fixversions` beside the system `fixVersions` is one column
/// there: a target fails on it, or one field's values overwrite the other's.
#[test]
fn a_name_equal_to_a_system_field_but_for_case_gets_the_id_after_it() {
    fn assert_unique_ignoring_case<'k>(keys: impl Iterator<Item = &'k String>, what: &str) {
        let mut seen: BTreeMap<String, &String> = BTreeMap::new();
        for key in keys {
            if let Some(other) = seen.insert(key.to_lowercase(), key) {
                panic!("{what}: {other} and {key} are one column ignoring case");
            }
        }
    }
    for deployment in [Deployment::Cloud, Deployment::Server] {
        let site = site_for(deployment);
        let sim = &site.sim.sim;
        let fix = sim.add_custom_field("Fixversions", CustomFieldType::Float);
        let viewed = sim.add_custom_field("LastViewed", CustomFieldType::TextField);
        let ids = discover_selecting(&site, json!({}), &["issues"]);
        let names = discover_selecting(&site, by_name(), &["issues"]);
        let schema = fields_schema(&names);
        assert!(schema.contains_key("fixVersions") && schema.contains_key("lastViewed"));
        assert_unique_ignoring_case(schema.keys(), &format!("{deployment} catalog"));
        assert_eq!(column_of(&names, &fix), format!("fixversions_{fix}"));
        assert_eq!(column_of(&names, &viewed), format!("lastviewed_{viewed}"));
        // Names that meet nothing stay as they were.
        assert_eq!(column_of(&names, "fixVersions"), "fixVersions");
        assert!(schema.contains_key("story_points"), "{deployment}");

        // Each field's values land in its own column.
        let by_ids = by_id(sync(&site, json!({}), &ids).records("issues"));
        let run = sync(&site, by_name(), &names);
        let emitted = emitted_fields_schema(&run);
        assert_unique_ignoring_case(
            emitted.as_object().unwrap().keys(),
            &format!("{deployment} SCHEMA"),
        );
        let (fix_column, viewed_column) = (column_of(&names, &fix), column_of(&names, &viewed));
        let mut valued = 0;
        for (id, issue) in by_id(run.records("issues")) {
            let (got, expected) = (&issue["fields"], &by_ids[&id]["fields"]);
            assert_unique_ignoring_case(
                got.as_object().unwrap().keys(),
                &format!("{deployment} issue {id}"),
            );
            assert_eq!(got[&fix_column], expected[&fix], "{deployment}: {id}");
            assert_eq!(got[&viewed_column], expected[&viewed], "{deployment}: {id}");
            assert_eq!(
                got["fixVersions"], expected["fixVersions"],
                "{deployment}: {id}"
            );
            assert_eq!(
                got["lastViewed"], expected["lastViewed"],
                "{deployment}: {id}"
            );
            valued += got[&fix_column].is_number() as usize;
        }
        assert!(valued > 10, "{deployment}: {valued} values of Fixversions");

        // Flattened, each is a column of its own too.
        let mut extra = by_name();
        extra["flattening_enabled"] = json!(true);
        extra["flattening_max_depth"] = json!(2);
        let run = sync(&site, extra, &names);
        for issue in run.records("issues") {
            assert_unique_ignoring_case(
                issue.as_object().unwrap().keys(),
                &format!("{deployment} flattened"),
            );
        }
    }
}

/// A catalog by name lists `story_points`, but a field is just as much named by its Jira id: a
/// `tap-jira.hash` mark or a `selected: false` given under the id's breadcrumb (the README lets a
/// mark name a breadcrumb the catalog does not list) holds for the column too, never leaving the
/// value in clear.
#[test]
fn a_renamed_field_marked_or_deselected_by_its_jira_id_is_hashed_or_dropped() {
    use tap_jira::hashing::digest;
    use tap_jira::secret::Secret;
    let site = Site::cloud();
    let ids = discover_selecting(&site, json!({}), &["issues"]);
    let mut names = discover_selecting(&site, by_name(), &["issues"]);
    let columns = ids_by_column(&names);
    let (story_points_id, budget_id) = (columns["story_points"].clone(), columns["budget"].clone());
    let entry = common::entry_mut(&mut names, "issues");
    let metadata = entry["metadata"].as_array_mut().unwrap();
    metadata.push(
        json!({"breadcrumb": ["properties", "fields", "properties", story_points_id],
        "metadata": {"tap-jira.hash": true}}),
    );
    metadata.push(
        json!({"breadcrumb": ["properties", "fields", "properties", budget_id],
        "metadata": {"selected": false}}),
    );

    let plain = by_id(sync(&site, json!({}), &ids).records("issues"));
    let run = sync(
        &site,
        json!({"custom_field_names": "name", "hash_salt": SALT}),
        &names,
    );
    let schema = emitted_fields_schema(&run);
    assert_eq!(schema["story_points"], json!({"type": ["null", "string"]}));
    assert!(schema.get("budget").is_none(), "budget is deselected");
    let mut hashed = 0;
    for (id, issue) in by_id(run.records("issues")) {
        let fields = &issue["fields"];
        assert!(fields.get("budget").is_none(), "issue {id}: {fields}");
        assert!(fields.get(&budget_id).is_none() && fields.get(&story_points_id).is_none());
        match &plain[&id]["fields"][&story_points_id] {
            Value::Null => assert!(fields["story_points"].is_null()),
            value => {
                assert_eq!(
                    fields["story_points"],
                    json!(digest(value, &Secret::new(SALT))),
                    "issue {id}"
                );
                hashed += 1;
            }
        }
    }
    assert!(hashed > 10, "{hashed} hashed");
}

/// A field that appeared since discovery is named by the setting (`risk_score`); a
/// `tap-jira.hash` mark the catalog gives under its Jira id holds for that column, so the new
/// field does not arrive in clear.
#[test]
fn a_field_that_appeared_since_discovery_marked_by_its_jira_id_is_hashed() {
    let site = Site::cloud();
    let mut names = discover_selecting(&site, by_name(), &["issues"]);
    let risk = site
        .sim
        .sim
        .add_custom_field("Risk Score", CustomFieldType::Float);
    let entry = common::entry_mut(&mut names, "issues");
    entry["metadata"].as_array_mut().unwrap().push(json!({
        "breadcrumb": ["properties", "fields", "properties", risk],
        "metadata": {"tap-jira.hash": true}}));
    let run = sync(
        &site,
        json!({"custom_field_names": "name", "hash_salt": SALT}),
        &names,
    );
    let schema = emitted_fields_schema(&run);
    assert_eq!(schema["risk_score"], json!({"type": ["null", "string"]}));
    let mut hashed = 0;
    for issue in run.records("issues") {
        let value = &issue["fields"]["risk_score"];
        assert!(
            value.is_null()
                || value
                    .as_str()
                    .is_some_and(|s| s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit())),
            "{value}"
        );
        hashed += usize::from(value.is_string());
    }
    assert!(hashed > 0, "the new field has values");
}
