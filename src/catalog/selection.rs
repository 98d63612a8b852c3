//! The one place that decides what is selected: streams, and fields at any depth, from Singer
//! metadata (`selected`, `inclusion`, `selected-by-default`) or legacy `selected` flags in schemas.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde_json::{Map, Value};

use super::discover::{CUSTOM_TYPE, FIELD_NAME, FIELD_TYPE, builtin_schema};
use super::names::{Columns, FIELD_ID, field_column, is_custom};
use super::{Catalog, CatalogEntry, MetadataEntry, TextForm, type_rich_text};
use crate::config::Deployment;
use crate::error::{Error, Result};
use crate::flatten::Flattener;
use crate::hashing::{HASH_METADATA, HashSettings, Hashing, Masks};
use crate::raw::RawObject;
use crate::readable::{RenderText, Renderings, TEXTAREA};
use crate::streams::{StreamDef, streams_on};

/// Which keys of a record survive. A key mapped to `None` keeps its whole value; `Some` projects
/// inside it too (only where something below was deselected, so unknown nested keys are not lost).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Projection {
    /// Looked up for every key of every record: hashed with foldhash, not SipHash, which
    /// guards against keys chosen to collide (these are the catalog's own).
    keep: HashMap<String, Option<Projection>, foldhash::fast::FixedState>,
    /// An open object (`patternProperties`, as Stitch's `fields`): the keys its schema does not
    /// list are kept too, as Stitch's tap keeps them, and only the deselected ones are dropped.
    open: bool,
    /// In an open object, the listed keys the catalog deselected.
    dropped: HashSet<String, foldhash::fast::FixedState>,
}

impl Projection {
    /// Whether `key` survives (`None` if not), and the projection inside it, if any.
    fn kept(&self, key: &str) -> Option<Option<&Projection>> {
        match self.keep.get(key) {
            Some(inner) => Some(inner.as_ref()),
            None if self.open && !self.dropped.contains(key) => Some(None),
            None => None,
        }
    }

    pub fn apply(&self, record: &mut Map<String, Value>) {
        record.retain(|key, value| match self.kept(key) {
            None => false,
            Some(None) => true,
            Some(Some(inner)) => {
                if let Value::Object(map) = value {
                    inner.apply(map);
                }
                true
            }
        });
    }

    /// `apply` on JSON text taken apart: objects are taken apart only where something inside
    /// them is dropped.
    pub fn apply_raw(&self, record: &mut RawObject<'_>) {
        record.retain(|key, value| match self.kept(key) {
            None => false,
            Some(None) => true,
            Some(Some(inner)) => {
                if let Some(map) = value.object_mut() {
                    inner.apply_raw(map);
                }
                true
            }
        });
    }

    /// Narrows a schema to the same properties the records will have.
    pub fn apply_to_schema(&self, schema: &mut Value) {
        if let Some(properties) = schema.get_mut("properties").and_then(Value::as_object_mut) {
            properties.retain(|key, sub| match self.kept(key) {
                None => false,
                Some(None) => true,
                Some(Some(inner)) => {
                    inner.apply_to_schema(sub);
                    true
                }
            });
        }
    }

    pub fn keeps(&self, key: &str) -> bool {
        self.kept(key).is_some()
    }
}

/// A stream the catalog selects, ready to sync.
#[derive(Debug)]
pub struct SelectedStream {
    pub def: &'static StreamDef,
    /// The catalog's schema narrowed to the selected fields: what SCHEMA carries.
    pub schema: Value,
    pub projection: Projection,
    pub key_properties: Vec<String>,
    pub bookmark_properties: Vec<String>,
    /// The fields hashed before records leave the process, if any.
    pub hashing: Option<Hashing>,
    /// Readable renderings added beside rich text, if any.
    pub renderings: Option<Renderings>,
    /// The renderings marked with `tap-jira.hash` (`description_markdown`), hashed once they are
    /// added: `hashing` runs before the renderings, so that a hashed document has none.
    pub hashed_renderings: Option<Hashing>,
    /// Issue fields the catalog names otherwise than their Jira ids, if any.
    pub columns: Option<Columns>,
    /// How records and the SCHEMA are flattened, with `flattening_enabled`.
    pub flattener: Option<Flattener>,
    /// Jira dates the catalog types as date-times (Stitch's `versions`), each with the ISO date
    /// its value is read from.
    pub date_times: Vec<(&'static str, &'static str)>,
}

/// The Singer column that marks a record as deleted at the source.
pub const DELETED_AT: &str = "_sdc_deleted_at";

/// The selected streams in the tap's stream order. Streams the tap does not know are named in a
/// warning and skipped, so a catalog from another tap version still runs. `flatten` is the
/// flattening depth, when flattening is on. Each selected stream takes its entry's schema, not a
/// copy of it: at thousands of custom fields the `issues` schema is tens of megabytes.
pub fn selected_streams(
    mut catalog: Catalog,
    deployment: Deployment,
    text: TextForm,
    hash: &HashSettings,
    render: RenderText,
    flatten: Option<usize>,
) -> Result<Vec<SelectedStream>> {
    for entry in &catalog.streams {
        match StreamDef::find(entry.name()) {
            None => tracing::warn!(
                stream = entry.name(),
                "the catalog names a stream tap-jira does not have; ignored"
            ),
            Some(def) if !def.exists_on(deployment) => tracing::warn!(
                stream = entry.name(),
                only_on = ?def.only_on,
                "the catalog names a stream this deployment does not have; ignored"
            ),
            Some(_) => {}
        }
    }
    let person_fields = person_fields(&catalog, hash);
    let issue_marks = issue_field_marks(&catalog);
    let changed_fields = hashed_issue_fields(&catalog);
    streams_on(deployment)
        .filter_map(|def| {
            let entry = catalog.streams.iter_mut().find(|e| e.name() == def.name)?;
            if !stream_selected(entry) {
                return None;
            }
            warn_of_replication_asked(entry, def);
            let key_properties: Vec<String> = def
                .keys
                .for_deployment(deployment)
                .iter()
                .map(|k| k.to_string())
                .collect();
            let bookmark_properties: Vec<String> = def
                .replication
                .key()
                .map(String::from)
                .into_iter()
                .collect();
            let mut forced: Vec<&str> = key_properties
                .iter()
                .chain(&bookmark_properties)
                .map(String::as_str)
                .collect();
            // A stream that reports deletions says so in every catalog, Stitch's included.
            if def.schema.contains(&format!("\"{DELETED_AT}\"")) {
                forced.push(DELETED_AT);
            }
            let index = MetadataIndex::new(entry);
            let (mut projection, _) = build(&entry.schema, &mut Vec::new(), &index, &forced);
            // Keys and the replication key are emitted even when an old catalog's schema lacks them.
            for key in &forced {
                projection.keep.entry(key.to_string()).or_insert(None);
            }
            // What reads the entry's schema reads it before the schema is taken.
            let textareas = textarea_fields(entry);
            // ADF gets a rendering; wiki markup is readable as it is.
            let render = match text {
                TextForm::Adf => render,
                TextForm::Wiki => RenderText::None,
            };
            let rendered = rendered_fields(entry, &textareas, render);
            let mut schema = std::mem::take(&mut entry.schema);
            strip_legacy_selected(&mut schema);
            projection.apply_to_schema(&mut schema);
            let date_times = stitch_date_times(def.name, &schema);
            if let Ok(builtin) = builtin_schema(def, text) {
                declare_forced(&mut schema, &builtin, &forced);
                widen(&mut schema, &builtin);
            }
            keep_date_times(&mut schema, &date_times);
            // What the site sends, whatever the catalog was made from (Stitch's types comment
            // bodies as strings; a Cloud catalog made with `rich_text: wiki` does too).
            type_rich_text(&mut schema, def.name, &textareas, text);
            let from_issues = FromIssues {
                person_fields: &person_fields,
                marks: &issue_marks,
                changed_fields: &changed_fields,
            };
            let hashing = match hashing_of(entry, def, hash, &from_issues) {
                Ok(hashing) => hashing,
                Err(e) => return Some(Err(e)),
            };
            let renderings = Renderings::new(render, def.name, &schema, &rendered);
            if let Some(renderings) = &renderings {
                renderings.apply_to_schema(&mut schema);
            }
            if let Some(hashing) = &hashing {
                hashing.masks.apply_to_schema(&mut schema);
            }
            let hashed_renderings = renderings
                .as_ref()
                .zip(hashing.as_ref())
                .and_then(|(renderings, hashing)| marked_renderings(entry, renderings, hashing));
            // Last, from the schema as every other step left it: hashed values are strings and
            // renderings sit beside their documents, so both flatten like any other value.
            let flattener = match flatten.map(|depth| Flattener::new(&schema, depth)) {
                None => None,
                Some(Ok(flattener)) => Some(flattener),
                Some(Err(problem)) => {
                    let problem = format!("stream `{}`: {problem}", def.name);
                    return Some(Err(Error::Catalog(problem)));
                }
            };
            Some(Ok(SelectedStream {
                def,
                schema,
                projection,
                key_properties,
                bookmark_properties,
                hashing,
                renderings,
                hashed_renderings,
                columns: Columns::of(entry),
                flattener,
                date_times,
            }))
        })
        .collect()
}

/// The ids of the rich-text custom fields of the issues entry, by the type discovery recorded.
fn textarea_fields(entry: &CatalogEntry) -> Vec<String> {
    entry
        .metadata
        .iter()
        .filter(|m| m.metadata.get(CUSTOM_TYPE).and_then(Value::as_str) == Some(TEXTAREA))
        .filter_map(|m| field_column(&m.breadcrumb).map(String::from))
        .collect()
}

/// The rich-text custom fields to render: not one whose rendering would have the name of another
/// field's column (a field retyped to rich text since discovery, "Notes" beside "Notes markdown"),
/// which would lose its values to the rendering. `--discover` names the two apart.
fn rendered_fields(entry: &CatalogEntry, textareas: &[String], render: RenderText) -> Vec<String> {
    let Some(suffix) = render.suffix() else {
        return Vec::new();
    };
    let columns = entry
        .schema
        .pointer("/properties/fields/properties")
        .and_then(Value::as_object);
    textareas
        .iter()
        .filter(|column| {
            let rendering = format!("{column}_{suffix}");
            let taken = columns.is_some_and(|c| c.contains_key(&rendering));
            if taken {
                tracing::warn!(
                    field = %column,
                    column = %rendering,
                    "a rich-text field is not rendered: its rendering would take the column of \
                     another field (run --discover again to name them apart)"
                );
            }
            !taken
        })
        .cloned()
        .collect()
}

/// Refuses, before any request, hashing that cannot be done: a key or replication key marked,
/// a mark on something that is not a value, or no salt to hash with.
pub fn check_hashing(catalog: &Catalog, hash: &HashSettings) -> Result<()> {
    for entry in &catalog.streams {
        if let Some(def) = StreamDef::find(entry.name()) {
            hashing_of(entry, def, hash, &FromIssues::default())?;
        }
    }
    Ok(())
}

/// The site's user custom fields, by display name and id, from the issues entry's metadata
/// (what discovery read from `/field`): with `hash_pii`, their changes are hashed like
/// the assignee's. None without `hash_pii`, or for a catalog without that metadata (Stitch's).
fn person_fields(catalog: &Catalog, hash: &HashSettings) -> Vec<String> {
    let Some(issues) = catalog.streams.iter().find(|e| e.name() == "issues") else {
        return Vec::new();
    };
    if !hash.pii {
        return Vec::new();
    }
    let fields = issues
        .schema
        .pointer("/properties/fields/properties")
        .and_then(Value::as_object);
    let mut names = Vec::new();
    for m in &issues.metadata {
        let Some(column) = field_column(&m.breadcrumb) else {
            continue;
        };
        let id = m
            .metadata
            .get(FIELD_ID)
            .and_then(Value::as_str)
            .unwrap_or(column);
        let holds_a_person = m.metadata.get(FIELD_TYPE).and_then(Value::as_str) == Some("user")
            || fields
                .and_then(|fields| fields.get(column))
                .is_some_and(describes_a_person);
        if is_custom(id) && holds_a_person {
            names.push(id.to_string());
            names.extend(
                m.metadata
                    .get(FIELD_NAME)
                    .and_then(Value::as_str)
                    .map(String::from),
            );
        }
    }
    names
}

/// Whether a property's schema is a user, or a list of users: an object with a display name.
fn describes_a_person(schema: &Value) -> bool {
    let schema = schema.get("items").unwrap_or(schema);
    schema.pointer("/properties/displayName").is_some()
}

/// Where a record embeds other issues with a few of their fields (`summary`, `status`,
/// `priority`, `issuetype`), by stream: the path to each embedded issue.
const EMBEDDED_ISSUES: &[(&str, &[&str])] = &[
    ("issues", &["properties", "fields", "properties", "parent"]),
    (
        "issues",
        &["properties", "fields", "properties", "subtasks", "items"],
    ),
    (
        "issues",
        &[
            "properties",
            "fields",
            "properties",
            "issuelinks",
            "items",
            "properties",
            "outwardIssue",
        ],
    ),
    (
        "issues",
        &[
            "properties",
            "fields",
            "properties",
            "issuelinks",
            "items",
            "properties",
            "inwardIssue",
        ],
    ),
    ("issue_links", &["properties", "outwardIssue"]),
    ("issue_links", &["properties", "inwardIssue"]),
];

/// The issues entry and its metadata marked for hashing on an issue field (within `fields`), with
/// that field's column.
fn issue_field_hash_marks(
    catalog: &Catalog,
) -> impl Iterator<Item = (&CatalogEntry, &MetadataEntry, &str)> {
    let issues = catalog.streams.iter().find(|e| e.name() == "issues");
    issues.into_iter().flat_map(|issues| {
        issues
            .metadata
            .iter()
            .filter(|m| crate::hashing::marked(&m.metadata))
            .filter_map(move |m| {
                let column = field_column(&m.breadcrumb[..m.breadcrumb.len().min(4)])?;
                Some((issues, m, column))
            })
    })
}

/// The issue fields the issues entry marks for hashing, as breadcrumbs inside `fields`
/// (`["properties", "summary"]`): the issues other records embed carry them too, and must not
/// show them in clear.
fn issue_field_marks(catalog: &Catalog) -> Vec<Vec<String>> {
    issue_field_hash_marks(catalog)
        .map(|(_, m, _)| m.breadcrumb[2..].to_vec())
        .collect()
}

/// The issue fields the issues entry hashes whole (or each element of), by every name a change
/// may give them: column, Jira id and display name.
fn hashed_issue_fields(catalog: &Catalog) -> Vec<String> {
    let mut names = Vec::new();
    for (issues, m, column) in issue_field_hash_marks(catalog) {
        let whole = match m.breadcrumb.get(4..) {
            Some([]) => true,
            Some([items]) => items == "items",
            _ => false,
        };
        if !whole {
            continue;
        }
        names.push(column.to_string());
        let metadata = issues.metadata_at(&m.breadcrumb[..4]);
        for key in [FIELD_ID, FIELD_NAME] {
            names.extend(
                metadata
                    .and_then(|metadata| metadata.get(key))
                    .and_then(Value::as_str)
                    .map(String::from),
            );
        }
    }
    names
}

/// What the issues entry says about the hashing of other streams.
#[derive(Default)]
struct FromIssues<'a> {
    /// The site's person fields (`hash_pii`).
    person_fields: &'a [String],
    /// The issue fields marked, as breadcrumbs inside `fields`: hashed in the issues a record
    /// embeds.
    marks: &'a [Vec<String>],
    /// The issue fields hashed whole, by name: hashed in the changes that name them.
    changed_fields: &'a [String],
}

/// Where a stream holds changes of issue fields, each named by its id and name.
const CHANGE_STREAMS: &[&str] = &["changelogs", "issue_field_history"];

/// A stream's masks from its `tap-jira.hash` metadata and `hash_pii` (with the site's person
/// fields), and the issue fields marked in the issues it embeds or the changes it holds, with
/// the salt.
fn hashing_of(
    entry: &CatalogEntry,
    def: &StreamDef,
    hash: &HashSettings,
    from_issues: &FromIssues<'_>,
) -> Result<Option<Hashing>> {
    let mut masks = Masks::new(hash.pii).with_person_fields(from_issues.person_fields.to_vec());
    if CHANGE_STREAMS.contains(&def.name) {
        masks = masks.with_changed_fields(from_issues.changed_fields.to_vec());
    }
    for (_, at) in EMBEDDED_ISSUES.iter().filter(|(s, _)| *s == def.name) {
        for mark in from_issues.marks {
            let mut breadcrumb: Vec<String> = at.iter().map(|p| p.to_string()).collect();
            breadcrumb.extend(["properties".to_string(), "fields".to_string()]);
            breadcrumb.extend(mark.iter().cloned());
            // Past the longest breadcrumb a mark may have: that mark is refused below anyway.
            let _ = masks.add(&breadcrumb);
        }
    }
    let marked = entry
        .metadata
        .iter()
        .filter(|m| crate::hashing::marked(&m.metadata));
    let stream = entry.name();
    let mut copies: Vec<(&str, String)> = Vec::new();
    for m in marked {
        // A column the row copies from a hashed field is hashed with it.
        for (column, source) in def.copied_columns() {
            if covers(&m.breadcrumb, source) {
                copies.push((column, field_path(&m.breadcrumb).join(".")));
            }
        }
        let top = masks.add(&m.breadcrumb).map_err(|_| {
            Error::Catalog(format!(
                "stream `{stream}`: \"{HASH_METADATA}\" is set on breadcrumb {:?}, which is not \
                 a field; set it on a field's breadcrumb, such as [\"properties\", \"fields\", \
                 \"properties\", \"reporter\"]",
                m.breadcrumb
            ))
        })?;
        if let Some(role) = role_of(def, &top) {
            return Err(Error::Catalog(format!(
                "stream `{stream}`: `{top}` is {role} and cannot be hashed (targets match and \
                 order rows on it); remove \"{HASH_METADATA}\" from its metadata"
            )));
        }
    }
    for (column, source) in copies {
        if let Some(role) = role_of(def, column) {
            return Err(Error::Catalog(format!(
                "stream `{stream}`: `{source}` is copied to `{column}`, {role}, and cannot be \
                 hashed (targets match and order rows on it); remove \"{HASH_METADATA}\" from \
                 its metadata"
            )));
        }
        let breadcrumb = ["properties".to_string(), column.to_string()];
        masks
            .add(&breadcrumb)
            .map_err(|_| Error::Internal(format!("`{column}` of `{stream}` is not a field")))?;
    }
    if masks.is_empty() {
        return Ok(None);
    }
    let Some(salt) = hash.salt.clone() else {
        let why = if hash.pii {
            "hash_pii is on".to_string()
        } else {
            format!(
                "the catalog marks fields of `{}` with \"{HASH_METADATA}\"",
                entry.name()
            )
        };
        return Err(Error::config(
            "hash_salt",
            format!("is needed to hash fields: {why}"),
            "set hash_salt to a long random secret, and keep it: the same salt gives the same \
             hashes run after run",
        ));
    };
    Ok(Some(Hashing { masks, salt }))
}

/// The hashing of the renderings that the entry's metadata marks, at or inside them, with the
/// stream's salt; `None` when none is marked.
fn marked_renderings(
    entry: &CatalogEntry,
    renderings: &Renderings,
    hashing: &Hashing,
) -> Option<Hashing> {
    let columns = renderings.columns();
    let mut masks = Masks::new(false);
    for m in &entry.metadata {
        let path = field_path(&m.breadcrumb);
        let in_rendering = columns.iter().any(|column| {
            path.len() >= column.len() && path.iter().zip(column).all(|(a, b)| *a == b.as_str())
        });
        if in_rendering && crate::hashing::marked(&m.metadata) {
            // `hashing_of` took every mark already, so `add` takes this one too.
            masks.add(&m.breadcrumb).ok()?;
        }
    }
    (!masks.is_empty()).then(|| Hashing {
        masks,
        salt: hashing.salt.clone(),
    })
}

/// Whether `column` is a key property of `def` (on either deployment) or its replication key.
fn role_of(def: &StreamDef, column: &str) -> Option<&'static str> {
    let is_key = [Deployment::Cloud, Deployment::Server]
        .iter()
        .any(|d| def.keys.for_deployment(*d).contains(&column));
    if is_key {
        Some("a key property")
    } else {
        (def.replication.key() == Some(column)).then_some("the replication key")
    }
}

/// The field names a breadcrumb goes through: `["properties", "author", "properties", "key"]`
/// is `author.key`; it stops at anything else (a list's items).
fn field_path(breadcrumb: &[String]) -> Vec<&str> {
    breadcrumb
        .chunks(2)
        .map_while(|pair| match pair {
            [p, name] if p == "properties" => Some(name.as_str()),
            _ => None,
        })
        .collect()
}

/// Whether the field a breadcrumb names holds the value at `pointer` (is it, or holds it).
fn covers(breadcrumb: &[String], pointer: &str) -> bool {
    let path = field_path(breadcrumb);
    let source: Vec<&str> = pointer.trim_start_matches('/').split('/').collect();
    path.len() * 2 == breadcrumb.len() && !path.is_empty() && source.starts_with(&path)
}

/// Refuses selection flags this module would misread: a `selected` that is not `true` or `false`
/// (`"true"`, a string, would count as absent), or one breadcrumb listed twice with different
/// metadata. Breadcrumbs tap-jira never wrote and keys it does not know are fine.
pub(super) fn check_flags(entry: &CatalogEntry) -> std::result::Result<(), String> {
    let mut by_breadcrumb: BTreeMap<&[String], &Map<String, Value>> = BTreeMap::new();
    for m in &entry.metadata {
        for key in ["selected", "selected-by-default"] {
            if let Some(value) = m.metadata.get(key).filter(|v| !v.is_boolean()) {
                return Err(format!(
                    "\"{key}\" is {value} at breadcrumb {:?}; write true or false, without quotes",
                    m.breadcrumb
                ));
            }
        }
        if let Some(value) = m.metadata.get("inclusion").filter(|v| !v.is_string()) {
            return Err(format!(
                "\"inclusion\" is {value} at breadcrumb {:?}; it is \"available\", \"automatic\" \
                 or \"unsupported\"",
                m.breadcrumb
            ));
        }
        if let Some(earlier) = by_breadcrumb.insert(&m.breadcrumb, &m.metadata)
            && earlier != &m.metadata
        {
            return Err(format!(
                "breadcrumb {:?} is listed twice in `metadata` with different values; keep one",
                m.breadcrumb
            ));
        }
    }
    check_schema_flags(&entry.schema, &mut Vec::new())
}

/// Legacy `selected` flags inside a schema (Stitch's `--properties` catalogs) must be booleans.
fn check_schema_flags(schema: &Value, path: &mut Vec<String>) -> std::result::Result<(), String> {
    if let Some(value) = schema.get("selected").filter(|v| !v.is_boolean()) {
        return Err(format!(
            "\"selected\" is {value} in the schema at {path:?}; write true or false, without quotes"
        ));
    }
    if let Some(properties) = schema.get("properties").and_then(Value::as_object) {
        for (name, sub) in properties {
            path.extend(["properties".to_string(), name.clone()]);
            check_schema_flags(sub, path)?;
            path.truncate(path.len() - 2);
        }
    }
    if let Some(items) = schema.get("items") {
        path.push("items".into());
        check_schema_flags(items, path)?;
        path.pop();
    }
    Ok(())
}

pub(super) fn stream_selected(entry: &CatalogEntry) -> bool {
    let m = entry.metadata_at(&[]);
    let flag = |key: &str| m.and_then(|m| m.get(key)).and_then(Value::as_bool);
    flag("selected")
        .or_else(|| entry.schema.get("selected").and_then(Value::as_bool))
        .or_else(|| flag("selected-by-default"))
        .unwrap_or(false)
}

/// A catalog may ask for another replication method or key (Meltano's `metadata` extra, Stitch's
/// UI); each stream's are fixed (`forced-replication-method`), so the run says it keeps its own
/// rather than leave the user thinking a full table or a different bookmark was read.
fn warn_of_replication_asked(entry: &CatalogEntry, def: &StreamDef) {
    let m = entry.metadata_at(&[]);
    let asked = |key: &str| m.and_then(|m| m.get(key)).and_then(Value::as_str);
    let method = def.replication.method();
    if let Some(other) = asked("replication-method").filter(|a| !a.eq_ignore_ascii_case(method)) {
        tracing::warn!(
            stream = def.name,
            "the catalog asks for replication-method {other}; this stream replicates {method} \
             (for a full re-read, run without state: `meltano run --full-refresh`)"
        );
    }
    let key = def.replication.key();
    if let Some(other) = asked("replication-key").filter(|a| Some(*a) != key) {
        tracing::warn!(
            stream = def.name,
            "the catalog asks for replication-key {other}; this stream's is {}",
            key.unwrap_or("none (it has no replication key)")
        );
    }
}

/// Whether the catalog selects any property of the object at `breadcrumb`, as `build` reads it.
pub(super) fn selects_inside(entry: &CatalogEntry, breadcrumb: &[String]) -> bool {
    let index = MetadataIndex::new(entry);
    let pointer: String = breadcrumb
        .iter()
        .map(|part| format!("/{}", part.replace('~', "~0").replace('/', "~1")))
        .collect();
    let properties = entry
        .schema
        .pointer(&pointer)
        .and_then(|object| object.get("properties"))
        .and_then(Value::as_object);
    properties.into_iter().flatten().any(|(name, sub)| {
        let mut path = breadcrumb.to_vec();
        path.extend(["properties".to_string(), name.clone()]);
        index.selected(&path, sub)
    })
}

struct MetadataIndex<'a> {
    by_breadcrumb: BTreeMap<&'a [String], &'a Map<String, Value>>,
}

impl<'a> MetadataIndex<'a> {
    fn new(entry: &'a CatalogEntry) -> Self {
        MetadataIndex {
            by_breadcrumb: entry
                .metadata
                .iter()
                .map(|m| (m.breadcrumb.as_slice(), &m.metadata))
                .collect(),
        }
    }

    fn selected(&self, breadcrumb: &[String], schema: &Value) -> bool {
        let m = self.by_breadcrumb.get(breadcrumb);
        let get = |key: &str| m.and_then(|m| m.get(key));
        match get("inclusion").and_then(Value::as_str) {
            Some("automatic") => return true,
            Some("unsupported") => return false,
            _ => {}
        }
        get("selected")
            .and_then(Value::as_bool)
            .or_else(|| schema.get("selected").and_then(Value::as_bool))
            .or_else(|| get("selected-by-default").and_then(Value::as_bool))
            .unwrap_or(true)
    }
}

/// Builds the projection of an object schema; also says whether everything in it was kept, in
/// which case the parent keeps the value whole.
fn build(
    schema: &Value,
    path: &mut Vec<String>,
    index: &MetadataIndex<'_>,
    forced: &[&str],
) -> (Projection, bool) {
    let mut projection = Projection::default();
    let mut complete = true;
    let Some(properties) = schema.get("properties").and_then(Value::as_object) else {
        return (projection, true);
    };
    projection.open = schema.get("patternProperties").is_some()
        || schema
            .get("additionalProperties")
            .is_some_and(|a| a.as_bool() != Some(false));
    for (name, sub) in properties {
        path.push("properties".into());
        path.push(name.clone());
        if forced.contains(&name.as_str()) || index.selected(path, sub) {
            let (inner, inner_complete) = build(sub, path, index, &[]);
            // An object selected with none of its properties selected is kept whole: Meltano's
            // `select: [issues.fields.status]` marks `status` selected and every breadcrumb
            // under it not, and `{}` is never what was asked for.
            let whole = inner_complete || inner.keep.is_empty();
            projection
                .keep
                .insert(name.clone(), (!whole).then_some(inner));
            complete &= whole;
        } else {
            complete = false;
            if projection.open {
                projection.dropped.insert(name.clone());
            }
        }
        path.truncate(path.len() - 2);
    }
    (projection, complete)
}

/// Keys and the replication key are always emitted, so the SCHEMA declares them even when an old
/// catalog's schema does not (Stitch's issues schema lacks the top-level `updated`).
fn declare_forced(schema: &mut Value, builtin: &Value, forced: &[&str]) {
    let Some(properties) = schema.get_mut("properties").and_then(Value::as_object_mut) else {
        return;
    };
    for key in forced {
        if !properties.contains_key(*key)
            && let Some(declared) = builtin.pointer(&format!("/properties/{key}"))
        {
            properties.insert(key.to_string(), declared.clone());
        }
    }
}

/// A catalog written by another tap (Stitch's) may type a property narrower than what tap-jira
/// emits: a comment body as a string where Cloud sends an ADF object, a Jira date as a date-time.
/// Such a property takes the built-in schema, so every record matches the SCHEMA it is sent with.
fn widen(theirs: &mut Value, ours: &Value) {
    if accepts_more(ours, theirs) {
        *theirs = ours.clone();
        return;
    }
    if let (Some(properties), Some(our_properties)) = (
        theirs.get_mut("properties").and_then(Value::as_object_mut),
        ours.get("properties").and_then(Value::as_object),
    ) {
        for (name, property) in properties.iter_mut() {
            if let Some(ours) = our_properties.get(name) {
                widen(property, ours);
            }
        }
    }
    if let (Some(items), Some(our_items)) = (theirs.get_mut("items"), ours.get("items")) {
        widen(items, our_items);
    }
}

/// Jira dates (`2024-08-29`) Stitch's tap typed as date-times, each with the ISO date its value
/// comes from: `userReleaseDate` is `releaseDate` in the user's format (`29/Aug/24`), which
/// Stitch's tap parsed back into that day. Its users' tables hold them as timestamps.
const STITCH_DATE_TIMES: &[(&str, &[(&str, &str)])] = &[(
    "versions",
    &[
        ("releaseDate", "releaseDate"),
        ("startDate", "startDate"),
        ("userReleaseDate", "releaseDate"),
        ("userStartDate", "startDate"),
    ],
)];

/// The Stitch dates of stream `name` that the catalog's schema types as date-times.
fn stitch_date_times(name: &str, schema: &Value) -> Vec<(&'static str, &'static str)> {
    STITCH_DATE_TIMES
        .iter()
        .filter(|(stream, _)| *stream == name)
        .flat_map(|(_, dates)| dates.iter().copied())
        .filter(|(property, _)| {
            schema.pointer(&format!("/properties/{property}/format"))
                == Some(&Value::from("date-time"))
        })
        .collect()
}

/// Those dates stay date-times in the SCHEMA (`widen` would make them Jira's plain strings): the
/// records carry them as date-times.
fn keep_date_times(schema: &mut Value, date_times: &[(&str, &str)]) {
    let Some(properties) = schema.get_mut("properties").and_then(Value::as_object_mut) else {
        return;
    };
    for (property, _) in date_times {
        properties.insert(
            property.to_string(),
            serde_json::json!({"type": ["null", "string"], "format": "date-time"}),
        );
    }
}

/// Whether schema `a` accepts values `b` refuses: more JSON types, or no `format` where `b` has one.
fn accepts_more(a: &Value, b: &Value) -> bool {
    let types = |s: &Value| -> Vec<String> {
        match s.get("type") {
            Some(Value::String(t)) => vec![t.clone()],
            Some(Value::Array(ts)) => ts
                .iter()
                .filter_map(|t| t.as_str().map(String::from))
                .collect(),
            _ => Vec::new(),
        }
    };
    let (ta, tb) = (types(a), types(b));
    if ta.is_empty() || tb.is_empty() {
        return false;
    }
    let more_types = ta.iter().any(|t| !tb.contains(t)) && tb.iter().all(|t| ta.contains(t));
    let looser_format = ta == tb && a.get("format").is_none() && b.get("format").is_some();
    more_types || looser_format
}

/// Legacy catalogs carry `selected` inside schemas; it is not part of the schema a target reads.
fn strip_legacy_selected(schema: &mut Value) {
    if let Value::Object(map) = schema {
        map.remove("selected");
        map.remove("inclusion");
        if let Some(Value::Object(properties)) = map.get_mut("properties") {
            properties.values_mut().for_each(strip_legacy_selected);
        }
        if let Some(items) = map.get_mut("items") {
            strip_legacy_selected(items);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn catalog(entry: Value) -> Catalog {
        serde_json::from_value(json!({"streams": [entry]})).unwrap()
    }

    fn schema() -> Value {
        json!({"type": "object", "properties": {
            "id": {"type": "string"}, "key": {"type": ["null", "string"]}, "updated": {"type": ["null", "string"]},
            "fields": {"type": ["null", "object"], "properties": {
                "summary": {"type": ["null", "string"]}, "status": {"type": ["null", "object"], "properties": {"name": {}}},
                "customfield_1": {"type": ["null", "number"]}}}}})
    }

    /// The selection alone: no hashing, no renderings.
    fn plain_selection(catalog: &Catalog) -> Vec<SelectedStream> {
        selected_streams(
            catalog.clone(),
            Deployment::Cloud,
            TextForm::Adf,
            &HashSettings::default(),
            RenderText::None,
            None,
        )
        .unwrap()
    }

    fn crumb(parts: &[&str]) -> Value {
        json!(parts)
    }

    #[test]
    fn honours_field_metadata_and_always_keeps_keys() {
        let c = catalog(
            json!({"tap_stream_id": "issues", "schema": schema(), "metadata": [
                {"breadcrumb": [], "metadata": {"selected": true}},
                {"breadcrumb": crumb(&["properties", "id"]), "metadata": {"selected": false}},
                {"breadcrumb": crumb(&["properties", "key"]), "metadata": {"selected": false}},
                {"breadcrumb": crumb(&["properties", "fields", "properties", "customfield_1"]), "metadata": {"selected": false}},
                {"breadcrumb": crumb(&["properties", "fields", "properties", "status", "properties", "name"]), "metadata": {"selected": true}},
                {"breadcrumb": crumb(&["properties", "nope", "properties", "x"]), "metadata": {"selected": true}}
            ]}),
        );
        let streams = plain_selection(&c);
        assert_eq!(streams.len(), 1);
        let mut record = json!({"id": "1", "key": "A-1", "updated": "t", "extra": 1,
            "fields": {"summary": "s", "customfield_1": 3, "status": {"name": "Done", "id": "3"}}});
        streams[0].projection.apply(record.as_object_mut().unwrap());
        assert_eq!(
            record,
            json!({"id": "1", "updated": "t",
            "fields": {"summary": "s", "status": {"name": "Done", "id": "3"}}})
        );
        let fields = &streams[0].schema["properties"]["fields"]["properties"];
        assert!(fields.get("customfield_1").is_none() && fields.get("summary").is_some());
    }

    #[test]
    fn an_object_selected_with_nothing_inside_selected_is_kept_whole() {
        // As Meltano writes `select: [issues.fields.status]`: everything false, then the
        // pattern and its parents true.
        let meltano = |selected: &[&[&str]]| {
            let mut metadata = vec![json!({"breadcrumb": [], "metadata": {"selected": true}})];
            for path in [
                &["id"][..],
                &["key"],
                &["updated"],
                &["fields"],
                &["fields", "summary"],
                &["fields", "status"],
                &["fields", "status", "name"],
                &["fields", "status", "id"],
                &["fields", "customfield_1"],
            ] {
                let breadcrumb: Vec<&str> = path.iter().flat_map(|p| ["properties", p]).collect();
                let on = selected.contains(&path);
                metadata.push(json!({"breadcrumb": breadcrumb, "metadata": {"selected": on}}));
            }
            let mut schema = schema();
            schema["properties"]["fields"]["properties"]["status"]["properties"]["id"] = json!({});
            catalog(json!({"tap_stream_id": "issues", "schema": schema, "metadata": metadata}))
        };
        let record = || {
            json!({"id": "1", "key": "A-1", "updated": "t", "fields": {"summary": "s",
                "customfield_1": 3, "status": {"name": "Done", "id": "3"}}})
        };
        let project = |c: &Catalog| {
            let mut r = record();
            plain_selection(c)[0]
                .projection
                .apply(r.as_object_mut().unwrap());
            r
        };
        let status = meltano(&[&["fields"], &["fields", "status"]]);
        assert_eq!(
            project(&status),
            json!({"id": "1", "updated": "t", "fields": {"status": {"name": "Done", "id": "3"}}})
        );
        let fields = meltano(&[&["fields"]]);
        assert_eq!(
            project(&fields),
            json!({"id": "1", "updated": "t", "fields": record()["fields"]})
        );
        // Something inside selected: only that.
        let name = meltano(&[
            &["fields"],
            &["fields", "status"],
            &["fields", "status", "name"],
        ]);
        assert_eq!(
            project(&name),
            json!({"id": "1", "updated": "t", "fields": {"status": {"name": "Done"}}})
        );
    }

    #[test]
    fn selected_by_default_applies_when_selected_is_absent() {
        let c = catalog(
            json!({"tap_stream_id": "issues", "schema": schema(), "metadata": [
                {"breadcrumb": [], "metadata": {"selected-by-default": true}},
                {"breadcrumb": crumb(&["properties", "key"]), "metadata": {"selected-by-default": false}}
            ]}),
        );
        let streams = plain_selection(&c);
        assert!(!streams[0].projection.keeps("key"));
        assert!(streams[0].projection.keeps("fields"));
        let unselected = catalog(
            json!({"tap_stream_id": "issues", "schema": schema(), "metadata": [
            {"breadcrumb": [], "metadata": {"selected-by-default": true, "selected": false}}]}),
        );
        assert!(plain_selection(&unselected).is_empty());
    }

    #[test]
    fn legacy_selected_in_schemas_works() {
        let mut s = schema();
        s["selected"] = json!(true);
        s["properties"]["key"]["selected"] = json!(false);
        let c = catalog(json!({"stream": "issues", "tap_stream_id": "issues", "schema": s}));
        let streams = plain_selection(&c);
        assert_eq!(streams.len(), 1);
        assert!(!streams[0].projection.keeps("key"));
        assert!(streams[0].schema.get("selected").is_none());
    }

    #[test]
    fn a_narrower_foreign_schema_is_widened_to_what_the_tap_emits() {
        let mut theirs = json!({"properties": {
            "body": {"type": ["null", "string"]},
            "releaseDate": {"type": ["null", "string"], "format": "date-time"},
            "id": {"type": ["null", "string"]},
            "author": {"type": ["null", "object"], "properties": {"name": {"type": ["null", "string"]}}}}});
        let ours = json!({"properties": {
            "body": {"type": ["null", "string", "object"]},
            "releaseDate": {"type": ["null", "string"]},
            "id": {"type": "string"},
            "author": {"type": ["null", "object"], "properties": {"name": {"type": ["null", "string", "integer"]}}}}});
        widen(&mut theirs, &ours);
        assert_eq!(theirs["properties"]["body"], ours["properties"]["body"]);
        assert_eq!(
            theirs["properties"]["releaseDate"],
            json!({"type": ["null", "string"]})
        );
        assert_eq!(
            theirs["properties"]["id"],
            json!({"type": ["null", "string"]}),
            "wider stays"
        );
        assert_eq!(
            theirs["properties"]["author"]["properties"]["name"]["type"],
            json!(["null", "string", "integer"])
        );
    }

    #[test]
    fn renamed_custom_fields_are_selected_hashed_and_rendered_under_their_columns() {
        use crate::catalog::FIELD_ID;
        use crate::secret::Secret;
        let mut s = schema();
        let fields = s["properties"]["fields"]["properties"]
            .as_object_mut()
            .unwrap();
        fields.insert("story_points".into(), json!({"type": ["null", "number"]}));
        fields.insert(
            "notes".into(),
            json!({"type": ["null", "string", "object"]}),
        );
        let c = catalog(json!({"tap_stream_id": "issues", "schema": s, "metadata": [
            {"breadcrumb": [], "metadata": {"selected": true}},
            {"breadcrumb": crumb(&["properties", "fields", "properties", "story_points"]),
             "metadata": {FIELD_ID: "customfield_10016", "tap-jira.hash": true}},
            {"breadcrumb": crumb(&["properties", "fields", "properties", "notes"]),
             "metadata": {FIELD_ID: "customfield_10009", CUSTOM_TYPE: TEXTAREA}}
        ]}));
        let salt = Secret::new("a-long-random-test-salt");
        let hash = HashSettings {
            salt: Some(salt.clone()),
            pii: false,
        };
        let streams = selected_streams(
            c.clone(),
            Deployment::Cloud,
            TextForm::Adf,
            &hash,
            RenderText::Markdown,
            None,
        )
        .unwrap();
        let stream = &streams[0];
        let declared = &stream.schema["properties"]["fields"]["properties"];
        assert_eq!(
            declared["story_points"],
            json!({"type": ["null", "string"]})
        );
        assert_eq!(
            declared["notes_markdown"],
            json!({"type": ["null", "string"]})
        );
        let columns = stream.columns.as_ref().unwrap();
        assert_eq!(columns.id_of("notes"), Some("customfield_10009"));

        // What the emitter does to an issue, in its order.
        let text = r#"{"id":"1","updated":"t","fields":{"summary":"s","customfield_10016":3.5,"customfield_10009":{"type":"doc","version":1,"content":[{"type":"paragraph","content":[{"type":"text","text":"Hi"}]}]},"customfield_1":1}}"#;
        let mut record = RawObject::parse(text).unwrap();
        columns.apply_raw(&mut record);
        stream.projection.apply_raw(&mut record);
        stream.hashing.as_ref().unwrap().apply_raw(&mut record);
        stream.renderings.as_ref().unwrap().apply_raw(&mut record);
        let mut written = String::new();
        record.write_to(&mut written);
        let record: Value = serde_json::from_str(&written).unwrap();
        let fields = record["fields"].as_object().unwrap();
        assert_eq!(
            fields["story_points"],
            json!(crate::hashing::digest(&json!(3.5), &salt))
        );
        assert_eq!(fields["notes_markdown"], json!("Hi"));
        assert_eq!(fields["notes"]["type"], json!("doc"));
        assert!(
            fields.keys().all(|k| !k.starts_with("customfield_10016")
                && !k.starts_with("customfield_10009")),
            "{written}"
        );
    }

    #[test]
    fn flags_it_would_misread_are_refused_and_what_tools_write_is_kept() {
        let entry = |metadata: Value, schema: Value| -> CatalogEntry {
            serde_json::from_value(
                json!({"tap_stream_id": "issues", "schema": schema, "metadata": metadata}),
            )
            .unwrap()
        };
        let e = check_flags(&entry(
            json!([{"breadcrumb": [], "metadata": {"selected": "true"}}]),
            schema(),
        ))
        .unwrap_err();
        assert!(
            e.contains("\"selected\" is \"true\" at breadcrumb []"),
            "{e}"
        );
        let mut legacy = schema();
        legacy["properties"]["key"]["selected"] = json!(1);
        let e = check_flags(&entry(json!([]), legacy)).unwrap_err();
        assert!(e.contains("[\"properties\", \"key\"]"), "{e}");
        let twice = json!([
            {"breadcrumb": ["properties", "key"], "metadata": {"selected": true}},
            {"breadcrumb": ["properties", "key"], "metadata": {"selected": false}}]);
        assert!(
            check_flags(&entry(twice, schema()))
                .unwrap_err()
                .contains("listed twice")
        );
        // Meltano: `selected` on breadcrumbs tap-jira never wrote; Stitch: flags in schemas;
        // anyone: metadata keys of their own, and a property called `selected`.
        let mut stitch = schema();
        stitch["selected"] = json!(true);
        stitch["properties"]["selected"] = json!({"type": ["null", "string"]});
        let meltano = json!([
            {"breadcrumb": [], "metadata": {"selected": true, "x-tool": {"a": 1}}},
            {"breadcrumb": ["properties", "nope"], "metadata": {"selected": true}},
            {"breadcrumb": ["properties", "key"], "metadata": {"selected": true}},
            {"breadcrumb": ["properties", "key"], "metadata": {"selected": true}}]);
        assert_eq!(check_flags(&entry(meltano, stitch)), Ok(()));
    }

    #[test]
    fn unknown_streams_are_ignored() {
        let c = catalog(
            json!({"tap_stream_id": "tickets", "schema": {}, "metadata": [
            {"breadcrumb": [], "metadata": {"selected": true}}]}),
        );
        assert!(plain_selection(&c).is_empty());
    }
}
