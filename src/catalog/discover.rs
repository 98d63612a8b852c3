//! Discovery: the catalog of every stream, with schemas from `schemas/`, the site's fields typed
//! into the `issues` schema, and Singer metadata.

use futures::TryStreamExt;
use serde_json::{Map, Value, json};

use super::fields::field_schema;
use super::names::{self, FIELD_ID, FieldNames};
use super::site::SiteField;
use super::{Catalog, CatalogEntry, MetadataEntry, TextForm, type_rich_text};
use crate::client::{JiraClient, pages};
use crate::compact::{tighten, tighten_object};
use crate::config::Deployment;
use crate::error::{Error, Result};
use crate::readable;
use crate::streams::{FIELDS_ENDPOINT, Source, StreamDef, streams_on};

/// Metadata keys of our own, prefixed as Singer asks.
pub const FIELD_NAME: &str = "tap-jira.field-name";
pub const FIELD_TYPE: &str = "tap-jira.field-type";
pub const CUSTOM_TYPE: &str = "tap-jira.custom-type";
/// On a stream that one deployment only has: `cloud` or `server`.
pub const ONLY_ON: &str = "tap-jira.only-on";

pub async fn discover(
    client: &JiraClient,
    names: FieldNames,
    fields: SiteFields,
) -> Result<Catalog> {
    let fields = fields.get(client).await?;
    tracing::info!(fields = fields.len(), "read the site's fields");
    let streams = streams_on(client.deployment())
        .map(|def| build_entry(def, client.deployment(), client.text_form(), &fields, names))
        .collect::<Result<Vec<_>>>()?;
    Ok(Catalog { streams })
}

/// The site's fields: read already (beside `/myself`, while connecting), or not yet.
pub struct SiteFields(Option<Result<Vec<SiteField>>>);

impl SiteFields {
    pub fn unread() -> SiteFields {
        SiteFields(None)
    }

    /// Reads them now, on `client`.
    pub async fn read(client: &JiraClient) -> SiteFields {
        SiteFields(Some(fetch_fields(client).await))
    }

    /// The fields, read now if they were not, or if they were refused before `/myself` had
    /// proven the credentials: a refusal or a login page then, a hiccup to retry after it.
    pub async fn get(self, client: &JiraClient) -> Result<Vec<SiteField>> {
        match self.0 {
            Some(Err(Error::Auth { .. } | Error::NotJson { .. })) | None => {
                fetch_fields(client).await
            }
            Some(fields) => fields,
        }
    }
}

/// Every field of the site (`/field`), system and custom.
async fn fetch_fields(client: &JiraClient) -> Result<Vec<SiteField>> {
    let (request, pagination) = FIELDS_ENDPOINT.unbound(client);
    let pages: Vec<_> = pages::<SiteField>(client, request, pagination, 1000)
        .try_collect()
        .await?;
    Ok(pages.into_iter().flat_map(|p| p.items).collect())
}

/// The catalog entry of one stream; pure, so it can be tested without a server.
pub fn build_entry(
    def: &StreamDef,
    deployment: Deployment,
    text: TextForm,
    fields: &[SiteField],
    names: FieldNames,
) -> Result<CatalogEntry> {
    let mut schema = builtin_schema(def, text)?;
    let keys: Vec<String> = def
        .keys
        .for_deployment(deployment)
        .iter()
        .map(|k| k.to_string())
        .collect();
    let method = def.replication.method();
    let replication_key = def.replication.key().map(String::from);

    let mut stream_metadata = Map::new();
    stream_metadata.insert("inclusion".into(), json!("available"));
    stream_metadata.insert("selected-by-default".into(), json!(def.selected_by_default));
    stream_metadata.insert("table-key-properties".into(), json!(keys));
    stream_metadata.insert("forced-replication-method".into(), json!(method));
    if let Some(key) = &replication_key {
        stream_metadata.insert("valid-replication-keys".into(), json!([key]));
        stream_metadata.insert("replication-key".into(), json!(key));
    }
    stream_metadata.insert("replication-method".into(), json!(method));
    if let Some(parent) = def.source.parent() {
        stream_metadata.insert("parent-tap-stream-id".into(), json!(parent));
    }
    if let Some(only) = def.only_on {
        stream_metadata.insert(ONLY_ON.into(), json!(only.name()));
    }
    let mut metadata = vec![MetadataEntry {
        breadcrumb: vec![],
        metadata: stream_metadata,
    }];

    if let Some(properties) = schema.get("properties").and_then(Value::as_object) {
        for name in properties.keys() {
            let automatic = keys.contains(name) || replication_key.as_ref() == Some(name);
            metadata.push(MetadataEntry {
                breadcrumb: vec!["properties".into(), name.clone()],
                metadata: property_metadata(automatic),
            });
        }
    }

    if matches!(def.source, Source::IssueSearch) {
        let issue_fields = add_site_fields(&mut schema, text, fields, names);
        metadata.extend(issue_fields);
    }

    Ok(CatalogEntry {
        tap_stream_id: def.name.into(),
        stream: def.name.into(),
        schema,
        key_properties: Some(keys),
        replication_method: Some(method.into()),
        replication_key,
        metadata,
        extra: Map::new(),
    })
}

/// A stream's built-in schema, its rich text typed as the site sends it.
pub(super) fn builtin_schema(def: &StreamDef, text: TextForm) -> Result<Value> {
    let mut schema: Value = serde_json::from_str(def.schema).map_err(|e| {
        Error::Catalog(format!(
            "built-in schema of `{}` is not JSON: {e}",
            def.name
        ))
    })?;
    type_rich_text(&mut schema, def.name, &[], text);
    Ok(schema)
}

pub(super) fn property_metadata(automatic: bool) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert(
        "inclusion".into(),
        json!(if automatic { "automatic" } else { "available" }),
    );
    m.insert("selected-by-default".into(), json!(true));
    m
}

/// Adds what the site says of a field to its metadata: its display name, Jira type and custom
/// type key.
pub(super) fn describe(field: &SiteField, m: &mut Map<String, Value>) {
    for (key, text) in [
        (FIELD_NAME, field.name()),
        (FIELD_TYPE, field.kind()),
        (CUSTOM_TYPE, field.custom_type()),
    ] {
        if let Some(text) = text {
            m.insert(key.into(), json!(text));
        }
    }
}

/// Adds one property per site field to `fields` (keeping the richer built-in schema of system
/// fields) and returns their metadata, which carries each field's display name and Jira type.
/// With `FieldNames::Name`, custom fields are named after their display names (see
/// [`names::columns`]) and their metadata carries their id.
fn add_site_fields(
    schema: &mut Value,
    text: TextForm,
    fields: &[SiteField],
    names: FieldNames,
) -> Vec<MetadataEntry> {
    let Some(properties) = schema
        .pointer_mut("/properties/fields/properties")
        .and_then(Value::as_object_mut)
    else {
        return Vec::new();
    };
    let columns = match names {
        FieldNames::Id => Default::default(),
        FieldNames::Name => custom_columns(properties, fields),
    };
    let mut metadata: Vec<MetadataEntry> = Vec::new();
    let mut described: Map<String, Value> = Map::new();
    for field in fields {
        let Some(id) = field.id() else {
            continue;
        };
        let key = columns.get(id).map_or(id, String::as_str);
        // Tightened: a large site has 20,000, each held until the catalog is written.
        if !properties.contains_key(key) {
            properties.insert(key.to_string(), tighten(field_schema(field, text)));
        }
        let mut m = property_metadata(false);
        if names == FieldNames::Name {
            m.insert(FIELD_ID.into(), json!(id));
        }
        describe(field, &mut m);
        described.insert(key.to_string(), Value::Object(tighten_object(m)));
    }
    for id in properties.keys() {
        let m = match described.remove(id) {
            Some(Value::Object(m)) => m,
            _ => property_metadata(false),
        };
        metadata.push(MetadataEntry {
            breadcrumb: vec![
                "properties".into(),
                "fields".into(),
                "properties".into(),
                id.clone(),
            ],
            metadata: m,
        });
    }
    metadata
}

/// The names of the site's custom fields, by id, next to the built-in properties and the
/// system fields, which keep their ids.
fn custom_columns(
    properties: &Map<String, Value>,
    fields: &[SiteField],
) -> std::collections::BTreeMap<String, String> {
    let mut taken: Vec<(String, bool)> = properties
        .keys()
        .map(String::as_str)
        .chain(fields.iter().filter_map(SiteField::id))
        .filter(|id| !names::is_custom(id))
        .map(|id| (id.to_string(), readable::is_issue_rich_text(id)))
        .collect();
    taken.sort();
    taken.dedup();
    let custom: Vec<names::Field> = fields.iter().filter_map(names::Field::of).collect();
    names::columns(&custom, &taken)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn issues_entry(fields: Value) -> CatalogEntry {
        let def = StreamDef::find("issues").unwrap();
        build_entry(
            def,
            Deployment::Cloud,
            TextForm::Adf,
            &serde_json::from_value::<Vec<SiteField>>(fields.clone()).unwrap(),
            FieldNames::Id,
        )
        .unwrap()
    }

    #[test]
    fn issues_gain_one_typed_property_per_site_field() {
        let entry = issues_entry(json!([
            {"id": "summary", "name": "Summary", "schema": {"type": "string", "system": "summary"}},
            {"id": "customfield_10016", "name": "Story Points",
             "schema": {"type": "number", "custom": "com.atlassian.jira.plugin.system.customfieldtypes:float", "customId": 10016}},
            {"id": "customfield_10099", "name": "Mood", "schema": {"type": "mood", "custom": "com.example:mood"}}
        ]));
        let fields = &entry.schema["properties"]["fields"]["properties"];
        assert_eq!(
            fields["customfield_10016"],
            json!({"type": ["null", "number"]})
        );
        assert!(
            fields["customfield_10099"]["type"]
                .as_array()
                .unwrap()
                .len()
                > 3
        );
        let crumb: Vec<String> = ["properties", "fields", "properties", "customfield_10016"]
            .map(String::from)
            .into();
        let m = entry.metadata_at(&crumb).unwrap();
        assert_eq!(m[FIELD_NAME], json!("Story Points"));
        assert_eq!(m["inclusion"], json!("available"));
    }

    #[test]
    fn with_names_custom_fields_take_their_display_names_and_keep_their_ids_in_metadata() {
        let fields = json!([
            {"id": "summary", "name": "Summary", "schema": {"type": "string", "system": "summary"}},
            {"id": "customfield_10016", "name": "Story Points",
             "schema": {"type": "number", "custom": "com.atlassian.jira.plugin.system.customfieldtypes:float"}},
            {"id": "customfield_10002", "name": "Team", "schema": {"type": "string"}},
            {"id": "customfield_10001", "name": "team", "schema": {"type": "string"}},
            {"id": "customfield_10003", "name": "Summary", "schema": {"type": "string"}}
        ]);
        let def = StreamDef::find("issues").unwrap();
        let entry = build_entry(
            def,
            Deployment::Cloud,
            TextForm::Adf,
            &serde_json::from_value::<Vec<SiteField>>(fields.clone()).unwrap(),
            FieldNames::Name,
        )
        .unwrap();
        let properties = entry.schema["properties"]["fields"]["properties"]
            .as_object()
            .unwrap();
        for (column, id) in [
            ("story_points", "customfield_10016"),
            ("team_customfield_10001", "customfield_10001"),
            ("team_customfield_10002", "customfield_10002"),
            ("summary_customfield_10003", "customfield_10003"),
            ("summary", "summary"),
        ] {
            assert!(properties.contains_key(column), "{column}");
            let crumb = ["properties", "fields", "properties", column].map(String::from);
            assert_eq!(entry.metadata_at(&crumb).unwrap()[FIELD_ID], json!(id));
        }
        assert!(properties.keys().all(|k| !k.starts_with("customfield_")));
        assert_eq!(
            properties["story_points"],
            json!({"type": ["null", "number"]})
        );
        let by_id = issues_entry(fields);
        assert!(
            by_id
                .metadata
                .iter()
                .all(|m| m.metadata.get(FIELD_ID).is_none())
        );
    }

    #[test]
    fn keys_and_replication_key_are_automatic() {
        let entry = issues_entry(json!([]));
        let top = entry.metadata_at(&[]).unwrap();
        assert_eq!(top["forced-replication-method"], json!("INCREMENTAL"));
        assert_eq!(top["valid-replication-keys"], json!(["updated"]));
        for (name, inclusion) in [
            ("id", "automatic"),
            ("updated", "automatic"),
            ("key", "available"),
        ] {
            let m = entry
                .metadata_at(&["properties".into(), name.into()])
                .unwrap();
            assert_eq!(m["inclusion"], json!(inclusion), "{name}");
        }
    }

    #[test]
    fn children_name_their_parent_and_one_deployment_streams_say_which() {
        let comments = StreamDef::find("issue_comments").unwrap();
        let entry = build_entry(
            comments,
            Deployment::Server,
            TextForm::Wiki,
            &[],
            FieldNames::Id,
        )
        .unwrap();
        let top = entry.metadata_at(&[]).unwrap();
        assert_eq!(top["parent-tap-stream-id"], json!("issues"));
        assert_eq!(top["forced-replication-method"], json!("INCREMENTAL"));
        assert!(
            top.get("replication-key").is_none(),
            "no fake replication key"
        );
        let cloud_only = StreamDef {
            only_on: Some(Deployment::Cloud),
            ..*StreamDef::find("roles").unwrap()
        };
        assert!(
            cloud_only.exists_on(Deployment::Cloud) && !cloud_only.exists_on(Deployment::Server)
        );
        let entry = build_entry(
            &cloud_only,
            Deployment::Cloud,
            TextForm::Adf,
            &[],
            FieldNames::Id,
        )
        .unwrap();
        assert_eq!(entry.metadata_at(&[]).unwrap()[ONLY_ON], json!("cloud"));
    }

    #[test]
    fn users_are_keyed_per_deployment() {
        let def = StreamDef::find("users").unwrap();
        let cloud =
            build_entry(def, Deployment::Cloud, TextForm::Adf, &[], FieldNames::Id).unwrap();
        let server =
            build_entry(def, Deployment::Server, TextForm::Wiki, &[], FieldNames::Id).unwrap();
        assert_eq!(cloud.key_properties, Some(vec!["accountId".to_string()]));
        assert_eq!(server.key_properties, Some(vec!["key".to_string()]));
    }
}
