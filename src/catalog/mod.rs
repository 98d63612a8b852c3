//! The Singer catalog: its types, reading a user's catalog (lenient, round-trip safe), and building
//! one by discovery.

mod discover;
mod drift;
mod fields;
mod names;
mod rich_text;
mod selection;
mod site;

use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

pub use discover::{SiteFields, build_entry, discover};
pub use drift::{Drift, DriftPolicy, compares_fields, reconcile};
pub use fields::field_schema;
pub use names::{Columns, FIELD_ID, FieldNames, snake};
pub use rich_text::{TextForm, type_rich_text};
pub use selection::{Projection, SelectedStream, check_hashing, selected_streams};
pub use site::SiteField;

use crate::error::{Error, Result};

/// The catalog metadata keys of tap-jira's own, with who writes them and what they mean; listed by
/// `--about` and documented in the README.
pub const METADATA_KEYS: &[(&str, &str)] = &[
    (
        crate::hashing::HASH_METADATA,
        "set by you on a field's breadcrumb: `true` hashes its value (SHA-256 with `hash_salt`) \
         on every record, at any depth",
    ),
    (
        crate::hashing::HASH_METADATA_DOTLESS,
        "the same, spelt without a dot for Meltano's `metadata` extra (which splits keys at dots)",
    ),
    (
        discover::FIELD_NAME,
        "written by discovery on each `issues` → `fields` property: the field's display name",
    ),
    (
        discover::FIELD_TYPE,
        "written by discovery: the field's Jira `schema.type` (`number`, `array`, …)",
    ),
    (
        discover::CUSTOM_TYPE,
        "written by discovery: a custom field's type key (`…customfieldtypes:float`)",
    ),
    (
        names::FIELD_ID,
        "written by discovery with `custom_field_names: name`: the Jira id of the field a \
         column holds (`customfield_10016`); a sync reads its columns from it",
    ),
    (
        discover::ONLY_ON,
        "written by discovery on a stream only one deployment has: `cloud` or `server`",
    ),
];

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Catalog {
    pub streams: Vec<CatalogEntry>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CatalogEntry {
    #[serde(default)]
    pub tap_stream_id: String,
    #[serde(default)]
    pub stream: String,
    pub schema: Value,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_properties: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replication_method: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replication_key: Option<String>,
    #[serde(default)]
    pub metadata: Vec<MetadataEntry>,
    /// Keys other tools add (`table_name`, `database_name`, …), kept on a round trip.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MetadataEntry {
    pub breadcrumb: Vec<String>,
    #[serde(deserialize_with = "crate::compact::object")]
    pub metadata: Map<String, Value>,
}

impl CatalogEntry {
    /// The stream's name, from whichever of the two id fields the catalog filled in.
    pub fn name(&self) -> &str {
        if self.tap_stream_id.is_empty() {
            &self.stream
        } else {
            &self.tap_stream_id
        }
    }

    pub fn metadata_at(&self, breadcrumb: &[String]) -> Option<&Map<String, Value>> {
        self.metadata
            .iter()
            .find(|m| m.breadcrumb == breadcrumb)
            .map(|m| &m.metadata)
    }
}

impl Catalog {
    /// Reads a catalog given with `--catalog` or `--properties`.
    pub fn load(path: &Path) -> Result<Catalog> {
        let object = crate::input::read_json_object(path, crate::input::CATALOG)?;
        Catalog::from_object(object, &path.display().to_string())
    }

    /// A catalog from its JSON; `origin` names where it came from in errors. Refuses what it
    /// would misread (a stream twice, flags that are not booleans). Each stream's JSON is
    /// taken apart into its entry, not copied: a site of thousands of custom fields gives a
    /// catalog of tens of megabytes.
    pub fn from_object(mut object: Map<String, Value>, origin: &str) -> Result<Catalog> {
        let streams = match object.remove("streams") {
            Some(Value::Array(streams)) => streams,
            _ => {
                return Err(Error::Catalog(format!(
                    "{} has no `streams` list; pass a catalog written by `tap-jira --discover`",
                    origin
                )));
            }
        };
        let mut entries = Vec::with_capacity(streams.len());
        for (i, mut stream) in streams.into_iter().enumerate() {
            let name = stream
                .get("tap_stream_id")
                .or_else(|| stream.get("stream"))
                .and_then(Value::as_str)
                .map(|name| format!(" ({name})"))
                .unwrap_or_default();
            let failed = |problem: String| {
                Error::Catalog(format!("stream #{}{name} in {}: {problem}", i + 1, origin))
            };
            // What `entry_problem` finds, the entry would not read as: told in a catalog's words.
            if let Some(problem) = entry_problem(&stream) {
                return Err(failed(problem));
            }
            // The schema, most of a catalog, is moved into the entry: read through serde, it
            // would be built again beside itself. `entry_problem` saw that there is one.
            let schema = stream
                .get_mut("schema")
                .map(std::mem::take)
                .unwrap_or_default();
            let mut entry = CatalogEntry::deserialize(stream).map_err(|e| failed(e.to_string()))?;
            entry.schema = schema;
            if entry.name().is_empty() {
                return Err(Error::Catalog(format!(
                    "stream #{} in {} has neither `tap_stream_id` nor `stream`",
                    i + 1,
                    origin
                )));
            }
            if !entry.schema.is_object() {
                return Err(Error::Catalog(format!(
                    "stream `{}` in {}: `schema` must be a JSON object",
                    entry.name(),
                    origin
                )));
            }
            if let Some(first) = entries
                .iter()
                .position(|e: &CatalogEntry| e.name() == entry.name())
            {
                return Err(Error::Catalog(format!(
                    "stream `{}` is listed twice in {} (#{} and #{}); keep one entry per stream",
                    entry.name(),
                    origin,
                    first + 1,
                    i + 1
                )));
            }
            selection::check_flags(&entry).map_err(|problem| {
                Error::Catalog(format!(
                    "stream `{}` in {}: {problem}",
                    entry.name(),
                    origin
                ))
            })?;
            // Metadata under a renamed field's id holds for its column.
            if entry.name() == "issues" {
                names::metadata_by_column(&mut entry);
            }
            entries.push(entry);
        }
        Ok(Catalog { streams: entries })
    }
}

/// What is wrong with a stream entry that does not read as one, in a catalog's words rather than
/// serde's (`expected struct CatalogEntry`); `None` for what it does not foresee. An entry it
/// finds wrong never reads as a `CatalogEntry`.
fn entry_problem(stream: &Value) -> Option<String> {
    const ENTRY: &str = "give each stream as an object with `tap_stream_id`, `schema` and \
                         `metadata`, as `tap-jira --discover` writes it";
    let Some(entry) = stream.as_object() else {
        let kind = match stream {
            Value::Null => "null",
            Value::Bool(_) => "a boolean",
            Value::Number(_) => "a number",
            Value::String(_) => "a string",
            Value::Array(_) => "a list",
            Value::Object(_) => "an object",
        };
        return Some(format!("is {kind}, not an object; {ENTRY}"));
    };
    if !entry.contains_key("schema") {
        return Some(format!("has no `schema`; {ENTRY}"));
    }
    for key in ["tap_stream_id", "stream"] {
        if entry.get(key).is_some_and(|v| !v.is_string()) {
            return Some(format!("`{key}` must be a string, the stream's name"));
        }
    }
    for key in ["replication_method", "replication_key"] {
        if entry
            .get(key)
            .is_some_and(|v| !v.is_string() && !v.is_null())
        {
            return Some(format!("`{key}` must be a string"));
        }
    }
    if entry.get("key_properties").is_some_and(|keys| {
        !keys.is_null()
            && !keys
                .as_array()
                .is_some_and(|k| k.iter().all(Value::is_string))
    }) {
        return Some("`key_properties` must be a list of column names, e.g. [\"id\"]".into());
    }
    let item = "an object with `breadcrumb` (a list of names, [] for the stream) and `metadata` \
                (an object)";
    match entry.get("metadata") {
        None => None,
        Some(Value::Array(items)) => items
            .iter()
            .position(|m| {
                let breadcrumb = m.get("breadcrumb").and_then(Value::as_array);
                !(breadcrumb.is_some_and(|b| b.iter().all(Value::is_string))
                    && m.get("metadata").is_some_and(Value::is_object))
            })
            .map(|i| format!("`metadata` #{} must be {item}", i + 1)),
        Some(_) => Some(format!("`metadata` must be a list, each entry {item}")),
    }
}
