//! Schema drift: when a sync runs from a saved catalog, the site's fields (`/field`) are read
//! again and compared with the catalog's `issues` schema. Fields that appeared are added and
//! synced (`schema_drift: auto`) or left out (`block`); a field whose type changed has its schema
//! widened to take both, typed so that SQL targets make a text column for values of different
//! kinds ([`widened`]). Every change is logged.

use std::collections::{HashMap, HashSet};

use serde_json::{Map, Value, json};

use super::discover::{
    CUSTOM_TYPE, FIELD_TYPE, SiteFields, builtin_schema, describe, property_metadata,
};
use super::fields::{field_schema, permissive};
use super::names::{self, Columns, FIELD_ID, FieldNames};
use super::selection::{selects_inside, stream_selected};
use super::site::SiteField;
use super::{Catalog, CatalogEntry, MetadataEntry, TextForm};
use crate::client::JiraClient;
use crate::error::{Error, Result};
use crate::readable::{self, TEXTAREA};
use crate::streams::{Source, StreamDef};

/// What to do with fields the catalog does not have.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum DriftPolicy {
    /// Add them to the SCHEMA and sync them.
    #[default]
    Auto,
    /// Keep the catalog's schema exactly: they are not synced.
    Block,
}

/// How the site's fields differ from the catalog's.
#[derive(Debug, Default, PartialEq)]
pub struct Drift {
    /// `(id, name)`.
    pub appeared: Vec<(String, String)>,
    /// `(id, column)` of the fields that appeared and were added under a name of their own
    /// (`custom_field_names: name`).
    pub named: Vec<(String, String)>,
    /// Fields that appeared with an id the catalog already uses as another field's column:
    /// left out.
    pub clashing: Vec<String>,
    pub disappeared: Vec<String>,
    /// `(id, type in the catalog, type now)`.
    pub retyped: Vec<(String, String, String)>,
}

/// Reads the site's fields again and brings the catalog's `issues` schema in line with them, as
/// `policy` says; fields it adds are named as `names` says. Nothing is read when `issues` is not
/// selected or takes every field (an open `fields` schema, as in Stitch's catalogs).
pub async fn reconcile(
    client: &JiraClient,
    catalog: &mut Catalog,
    policy: DriftPolicy,
    names: FieldNames,
    fields: SiteFields,
) -> Result<()> {
    let Some(at) = selected_issues(catalog) else {
        return Ok(());
    };
    let entry = &mut catalog.streams[at];
    if fields_of(entry).is_none() {
        return Ok(());
    }
    let site = match fields.get(client).await {
        Ok(site) => site,
        // The `fields` stream may be refused while issues are not: sync as the catalog says.
        Err(
            e @ (Error::Http {
                status: 400..=499, ..
            }
            | Error::ScopeRefused { .. }),
        ) => {
            tracing::warn!("could not read the site's fields to compare with the catalog: {e}");
            return Ok(());
        }
        Err(e) => return Err(e),
    };
    let drift = apply(entry, &site, client.text_form(), policy, names);
    for (id, name) in &drift.appeared {
        let column = drift.named.iter().find(|(named, _)| named == id);
        let outcome = match (policy, column) {
            _ if drift.clashing.contains(id) => {
                "not synced: its id is the column of another field in the catalog (run \
                 --discover again)"
                    .to_string()
            }
            (DriftPolicy::Auto, Some((_, column))) => {
                format!("added to the issues SCHEMA as `{column}` and synced")
            }
            (DriftPolicy::Auto, None) => "added to the issues SCHEMA and synced".to_string(),
            (DriftPolicy::Block, _) => "not synced (schema_drift: block)".to_string(),
        };
        tracing::warn!(field = %id, name = %name, "a field appeared on the site since discovery; {outcome}");
    }
    for id in &drift.disappeared {
        tracing::warn!(field = %id, "a field of the catalog is gone from the site; its column gets no more values");
    }
    for (id, from, to) in &drift.retyped {
        tracing::warn!(field = %id, from = %from, to = %to, "a field changed type since discovery; its schema is widened to take both");
    }
    Ok(())
}

/// Whether `reconcile` reads the site's fields for this catalog: its `issues` stream is selected
/// and lists the fields it takes.
pub fn compares_fields(catalog: &Catalog) -> bool {
    selected_issues(catalog).is_some_and(|at| fields_of(&catalog.streams[at]).is_some())
}

/// Where the selected `issues` stream is in the catalog.
fn selected_issues(catalog: &Catalog) -> Option<usize> {
    catalog
        .streams
        .iter()
        .position(|e| is_issue_search(e) && stream_selected(e))
}

fn is_issue_search(entry: &CatalogEntry) -> bool {
    StreamDef::find(entry.name()).is_some_and(|def| matches!(def.source, Source::IssueSearch))
}

/// The typed properties of `fields`, unless the schema leaves them open.
fn fields_of(entry: &CatalogEntry) -> Option<&Map<String, Value>> {
    let fields = entry.schema.pointer("/properties/fields")?;
    if fields.get("patternProperties").is_some() {
        return None;
    }
    fields.get("properties")?.as_object()
}

/// The comparison and the change to the entry, without a server.
pub fn apply(
    entry: &mut CatalogEntry,
    site: &[SiteField],
    text: TextForm,
    policy: DriftPolicy,
    names: FieldNames,
) -> Drift {
    let mut drift = Drift::default();
    // The catalog's columns as they were, in their order: looked up by name, not copied with
    // their schemas (tens of megabytes at thousands of custom fields).
    let Some(before_columns) = fields_of(entry).map(|f| f.keys().cloned().collect::<Vec<_>>())
    else {
        return drift;
    };
    let known: HashSet<&str> = before_columns.iter().map(String::as_str).collect();
    let crumb = |column: &str| -> Vec<String> {
        ["properties", "fields", "properties", column]
            .map(String::from)
            .to_vec()
    };
    let metadata_of = field_metadata(entry);
    // The catalog's columns: a field's column is its id unless the catalog renamed it.
    let columns = Columns::of(entry).unwrap_or_default();
    let owner = |column: &str| columns.id_of(column).unwrap_or(column).to_string();
    let mut site_ids = HashSet::with_capacity(site.len());
    let mut appeared: Vec<&SiteField> = Vec::new();
    for field in site {
        let Some(id) = field.id() else {
            continue;
        };
        site_ids.insert(id.to_string());
        let column = columns.column(id).unwrap_or(id);
        if !known.contains(column) || owner(column) != id {
            appeared.push(field);
            continue;
        }
        let now = field_schema(field, text);
        // Compared by the Jira types discovery recorded, so catalogs typed elsewhere do not
        // look changed.
        let recorded = metadata_of.get(column).map(|&at| {
            let m = &entry.metadata[at].metadata;
            let get = |k: &str| m.get(k).and_then(Value::as_str).unwrap_or("").to_string();
            (get(FIELD_TYPE), get(CUSTOM_TYPE))
        });
        let current = (
            field.kind().unwrap_or("").to_string(),
            field.custom_type().unwrap_or("").to_string(),
        );
        if let Some(recorded) = recorded
            && !recorded.0.is_empty()
            && recorded != current
        {
            let label = |(kind, custom): &(String, String)| {
                if custom.is_empty() {
                    kind.clone()
                } else {
                    format!("{kind} ({custom})")
                }
            };
            drift
                .retyped
                .push((id.to_string(), label(&recorded), label(&current)));
            let before = fields_of(entry).and_then(|f| f.get(column)).cloned();
            set_property(entry, column, widened(&before.unwrap_or_default(), &now));
            // What the catalog says of the field is what the site says now: a rich-text field
            // retyped to one-line text is no longer typed and rendered as a document.
            if let Some(m) = metadata_of.get(column).map(|&at| &mut entry.metadata[at]) {
                for (key, text) in [(FIELD_TYPE, &current.0), (CUSTOM_TYPE, &current.1)] {
                    match text.is_empty() {
                        true => m.metadata.remove(key),
                        false => m.metadata.insert(key.into(), json!(text)),
                    };
                }
            }
        }
    }
    // With no field selected, `fields` is kept whole (Meltano's `select: [issues.fields]` marks
    // every field `selected: false`): a new field selected by default would narrow it to itself,
    // so it is left unselected and comes with the others.
    let kept_whole = !selects_inside(entry, &["properties", "fields"].map(String::from));
    let named = match names {
        FieldNames::Id => Default::default(),
        FieldNames::Name => new_columns(entry, &before_columns, &metadata_of, &appeared),
    };
    // A system field takes the built-in schema, as in discovery: `/field` does not describe
    // some of them as Jira sends them (the worklog page, an object, is an `array` of `worklog`).
    let builtin = StreamDef::find(entry.name()).and_then(|def| builtin_schema(def, text).ok());
    let builtin_fields = builtin
        .as_ref()
        .and_then(|b| b.get("properties")?.get("fields")?.get("properties"));
    for field in appeared {
        let id = field.id().unwrap_or("");
        let name = field.name().unwrap_or(id);
        drift.appeared.push((id.to_string(), name.to_string()));
        if policy == DriftPolicy::Block {
            continue;
        }
        let column = match named.get(id) {
            Some(column) => column.as_str(),
            None => id,
        };
        // A system field keeps its id, which a custom field's column may already be.
        if known.contains(column) {
            drift.clashing.push(id.to_string());
            continue;
        }
        if column != id {
            drift.named.push((id.to_string(), column.to_string()));
        }
        let schema = builtin_fields
            .and_then(|b| b.get(id))
            .cloned()
            .unwrap_or_else(|| field_schema(field, text));
        set_property(entry, column, schema);
        let mut metadata = described(field);
        if kept_whole {
            metadata.insert("selected".into(), json!(false));
        }
        if names == FieldNames::Name {
            metadata.insert(FIELD_ID.into(), json!(id));
        }
        entry.metadata.push(MetadataEntry {
            breadcrumb: crumb(column),
            metadata,
        });
    }
    // Metadata the catalog gives under a new field's id holds for the column it now has.
    if !drift.named.is_empty() {
        names::metadata_by_column(entry);
    }
    drift.disappeared = before_columns
        .iter()
        .map(|column| owner(column))
        .filter(|id| names::is_custom(id) && !site_ids.contains(id))
        .collect();
    drift
}

/// Names for the custom fields that appeared, beside every column of the catalog and the ids
/// of the system fields that appeared, as discovery would name them.
fn new_columns(
    entry: &CatalogEntry,
    known: &[String],
    metadata_of: &HashMap<String, usize>,
    appeared: &[&SiteField],
) -> std::collections::BTreeMap<String, String> {
    let textarea = |metadata: Option<&Map<String, Value>>| {
        metadata
            .and_then(|m| m.get(CUSTOM_TYPE))
            .and_then(Value::as_str)
            == Some(TEXTAREA)
    };
    let mut taken: Vec<(String, bool)> = known
        .iter()
        .map(|column| {
            let metadata = metadata_of
                .get(column)
                .map(|&at| &entry.metadata[at].metadata);
            let rich = readable::is_issue_rich_text(column) || textarea(metadata);
            (column.clone(), rich)
        })
        .collect();
    taken.extend(
        appeared
            .iter()
            .filter_map(|field| field.id())
            .filter(|id| !names::is_custom(id))
            .map(|id| (id.to_string(), readable::is_issue_rich_text(id))),
    );
    let custom: Vec<names::Field> = appeared
        .iter()
        .copied()
        .filter_map(names::Field::of)
        .collect();
    names::columns(&custom, &taken)
}

/// Where the metadata of each column of `fields` is in the entry's list, the first entry for it
/// as `CatalogEntry::metadata_at` finds it: searching the list for each field is quadratic in
/// the fields (seconds at 20,000).
fn field_metadata(entry: &CatalogEntry) -> HashMap<String, usize> {
    let mut at = HashMap::new();
    for (i, m) in entry.metadata.iter().enumerate() {
        if let Some(column) = names::field_column(&m.breadcrumb) {
            at.entry(column.to_string()).or_insert(i);
        }
    }
    at
}

fn described(field: &SiteField) -> Map<String, Value> {
    let mut m = property_metadata(false);
    describe(field, &mut m);
    m
}

fn set_property(entry: &mut CatalogEntry, id: &str, schema: Value) {
    if let Some(properties) = entry
        .schema
        .pointer_mut("/properties/fields/properties")
        .and_then(Value::as_object_mut)
    {
        properties.insert(id.to_string(), schema);
    }
}

/// A schema that takes the values of both. Types of one kind (or integers and numbers) stay a
/// union; values of different kinds are typed `anyOf`, `string` first, which SQL targets make a
/// text column: pipelinewise-target-postgres and target-duckdb make a union holding `number` or
/// `boolean` a number or boolean column, and one holding `object` a jsonb one, and then refuse
/// the text. The tap's flattening writes such a value as JSON text.
fn widened(before: &Value, now: &Value) -> Value {
    let plain = |s: &Value| -> Option<Vec<String>> {
        let object = s.as_object()?;
        if object.keys().any(|k| k != "type" && k != "format") {
            return None;
        }
        match object.get("type")? {
            Value::String(t) => Some(vec![t.clone()]),
            Value::Array(ts) => ts.iter().map(|t| t.as_str().map(String::from)).collect(),
            _ => None,
        }
    };
    let text_first = |any: Value| json!({"anyOf": [{"type": "string"}, any]});
    match (plain(before), plain(now)) {
        (Some(mut types), Some(more)) => {
            for t in more {
                if !types.contains(&t) {
                    types.push(t);
                }
            }
            let kinds: Vec<&str> = types
                .iter()
                .map(String::as_str)
                .filter(|t| *t != "null")
                .collect();
            let numbers = kinds.iter().all(|t| matches!(*t, "integer" | "number"));
            if kinds.len() > 1 && !numbers {
                return text_first(json!({"type": types}));
            }
            let mut schema = json!({"type": types});
            // A format both agree on still holds.
            if before.get("format").is_some() && before.get("format") == now.get("format") {
                schema["format"] = before["format"].clone();
            }
            schema
        }
        _ => text_first(permissive()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::build_entry;
    use crate::config::Deployment;

    fn field(id: &str, kind: &str, custom: &str) -> SiteField {
        named(id, id, kind, custom)
    }

    #[test]
    fn appeared_gone_and_retyped_fields_by_policy() {
        let before = [
            field("customfield_1", "number", "float"),
            field("customfield_2", "string", "textfield"),
        ];
        let now = [
            field("customfield_1", "string", "textfield"),
            field("customfield_3", "number", "float"),
        ];
        let def = StreamDef::find("issues").unwrap();
        for policy in [DriftPolicy::Auto, DriftPolicy::Block] {
            let mut entry = build_entry(
                def,
                Deployment::Cloud,
                TextForm::Adf,
                &before,
                FieldNames::Id,
            )
            .unwrap();
            let drift = apply(&mut entry, &now, TextForm::Adf, policy, FieldNames::Id);
            assert_eq!(
                drift.appeared,
                [("customfield_3".into(), "customfield_3".into())]
            );
            assert_eq!(drift.disappeared, ["customfield_2"]);
            assert_eq!(drift.retyped.len(), 1);
            let fields = &entry.schema["properties"]["fields"]["properties"];
            assert_eq!(
                fields["customfield_1"],
                json!({"anyOf": [{"type": "string"}, {"type": ["null", "number", "string"]}]}),
                "widened either way"
            );
            assert_eq!(
                fields.get("customfield_3").is_some(),
                policy == DriftPolicy::Auto
            );
            // The next comparison against the same site finds nothing new to add.
            let again = apply(&mut entry, &now, TextForm::Adf, policy, FieldNames::Id);
            assert_eq!(again.appeared.is_empty(), policy == DriftPolicy::Auto);
        }
    }

    #[test]
    fn a_columns_metadata_is_found_where_metadata_at_finds_it() {
        let def = StreamDef::find("issues").unwrap();
        let site = [field("customfield_1", "number", "float")];
        let mut entry =
            build_entry(def, Deployment::Cloud, TextForm::Adf, &site, FieldNames::Id).unwrap();
        // A second entry for the same column (a hand-edited catalog): the first one holds.
        entry.metadata.push(MetadataEntry {
            breadcrumb: ["properties", "fields", "properties", "customfield_1"]
                .map(String::from)
                .to_vec(),
            metadata: Map::new(),
        });
        let at = field_metadata(&entry);
        for (column, &i) in &at {
            let crumb = ["properties", "fields", "properties", column].map(String::from);
            assert!(std::ptr::eq(
                &entry.metadata[i].metadata,
                entry.metadata_at(&crumb).unwrap()
            ));
        }
        assert!(at.contains_key("customfield_1") && at.contains_key("summary"));
        assert!(
            !at.contains_key("fields"),
            "only the fields' own breadcrumbs"
        );
    }

    #[test]
    fn values_of_different_kinds_are_typed_text_first_so_sql_targets_make_a_text_column() {
        let text_first = |any: Value| json!({"anyOf": [{"type": "string"}, any]});
        let typed = |t: &str| json!({"type": ["null", t]});
        for (before, now, want) in [
            (
                typed("string"),
                typed("integer"),
                text_first(json!({"type": ["null", "string", "integer"]})),
            ),
            (
                typed("number"),
                typed("boolean"),
                text_first(json!({"type": ["null", "number", "boolean"]})),
            ),
            (
                typed("number"),
                json!({"type": ["null", "object"], "properties": {"id": {"type": "string"}}}),
                text_first(permissive()),
            ),
            // One kind of value: a column of that kind still takes them all.
            (
                typed("integer"),
                typed("number"),
                json!({"type": ["null", "integer", "number"]}),
            ),
            (
                json!({"type": ["null", "string"], "format": "date"}),
                typed("string"),
                typed("string"),
            ),
        ] {
            assert_eq!(widened(&before, &now), want, "{before} then {now}");
        }
    }

    fn named(id: &str, name: &str, kind: &str, custom: &str) -> SiteField {
        serde_json::from_value(json!({"id": id, "name": name, "custom": true,
               "schema": {"type": kind, "custom": format!("com.atlassian.jira.plugin.system.customfieldtypes:{custom}")}}))
        .unwrap()
    }

    #[test]
    fn with_names_drift_follows_the_catalog_columns_and_names_new_fields_apart_from_them() {
        let before = [
            named("customfield_1", "Budget", "number", "float"),
            named("customfield_2", "Customer", "string", "textfield"),
            named("customfield_5", "Notes", "string", "textarea"),
        ];
        // Renamed in Jira, retyped, removed, and new fields whose names meet the catalog's.
        let now = [
            named("customfield_1", "Spend", "string", "textfield"),
            named("customfield_3", "Budget", "number", "float"),
            named("customfield_4", "Risk", "number", "float"),
            named("customfield_5", "Notes", "string", "textarea"),
            named("customfield_6", "Notes markdown", "string", "textfield"),
        ];
        let def = StreamDef::find("issues").unwrap();
        let mut entry = build_entry(
            def,
            Deployment::Cloud,
            TextForm::Adf,
            &before,
            FieldNames::Name,
        )
        .unwrap();
        let drift = apply(
            &mut entry,
            &now,
            TextForm::Adf,
            DriftPolicy::Auto,
            FieldNames::Name,
        );
        assert_eq!(drift.disappeared, ["customfield_2"]);
        assert_eq!(drift.retyped.len(), 1);
        assert_eq!(drift.retyped[0].0, "customfield_1");
        assert_eq!(drift.appeared.len(), 3);
        assert_eq!(
            drift.named,
            [
                ("customfield_3".into(), "budget_customfield_3".into()),
                ("customfield_4".into(), "risk".into()),
                (
                    "customfield_6".into(),
                    "notes_markdown_customfield_6".into()
                ),
            ]
        );
        let fields = &entry.schema["properties"]["fields"]["properties"];
        assert_eq!(
            fields["budget"],
            json!({"anyOf": [{"type": "string"}, {"type": ["null", "number", "string"]}]}),
            "the column keeps its name"
        );
        assert_eq!(
            fields["budget_customfield_3"],
            json!({"type": ["null", "number"]})
        );
        let columns = Columns::of(&entry).unwrap();
        assert_eq!(columns.column("customfield_4"), Some("risk"));
        assert_eq!(columns.column("customfield_1"), Some("budget"));
        let again = apply(
            &mut entry,
            &now,
            TextForm::Adf,
            DriftPolicy::Auto,
            FieldNames::Name,
        );
        assert!(again.appeared.is_empty() && again.named.is_empty());
    }
}
