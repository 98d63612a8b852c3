//! Flattening (config `flattening_enabled` and `flattening_max_depth`, the Meltano SDK's
//! settings): nested objects become columns named by their path joined with `__`
//! (`fields__status__name`), in the SCHEMA and in every RECORD alike, down to the max depth.
//!
//! The schema decides what becomes columns, never the record, so every record has the SCHEMA's
//! columns whatever its values look like. What cannot become columns is written as JSON text in
//! a string column (`{"type": ["null", "string"]}`), as the SDK does: arrays, objects below the
//! max depth, objects whose schema lists no properties (Cloud's rich text, custom fields of
//! unknown shape), and values whose schema allows an object or an array beside other types. In
//! such a column a string stays as it is, null stays null, and any other value becomes its JSON
//! text. An object that is null has no columns written. A key the schema does not declare inside
//! a flattened object (Jira adds keys over time), or a value that is not what its schema says
//! (an object where it says a scalar or an object with properties), gets a JSON-text column of
//! its own, declared by the SCHEMA sent again before the first record that has it: no value is
//! left behind.
//!
//! Two paths whose names meet (two long names shortened alike, or a key holding `__`) are told
//! apart by a hash of each whole path ([`told_apart`]); every other name is left as it is.

use std::collections::{HashMap, HashSet};

use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use crate::raw::{Node, RawObject, WriteText, key_name, push_json_string};

/// What joins the keys of a path into a column name, as the SDK and the SQL targets join them.
pub const SEPARATOR: &str = "__";

/// The longest column name PostgreSQL keeps whole, in bytes: it cuts a longer one, and a target
/// that looks for the whole name among the table's columns then adds it again and fails.
pub const MAX_COLUMN_LEN: usize = 63;

/// The column name of the path `keys`: the keys joined with `__`, shortened to
/// [`MAX_COLUMN_LEN`] by the rule of the SDK and of `pipelinewise-target-postgres`'s own
/// flattening: while the name is too long, each key in turn, from the first, becomes the
/// capitals of its camel case (`projectRole` → `pr`), or its first three characters when that
/// leaves one (`holder` → `hol`). (The SDK shortens names of 255 bytes or more, pipelinewise
/// those of 63 or more; a name of 63 that PostgreSQL keeps is kept.)
pub fn column_name(keys: &[&str]) -> String {
    let joined = |keys: &[String]| keys.join(SEPARATOR);
    let mut keys: Vec<String> = keys.iter().map(|k| k.to_string()).collect();
    let mut reduced = 0;
    while joined(&keys).len() > MAX_COLUMN_LEN && reduced < keys.len() {
        let key = &keys[reduced];
        let capitals: String = camelize(key)
            .chars()
            .filter(|c| !c.is_ascii_lowercase())
            .collect();
        keys[reduced] = if capitals.chars().count() > 1 {
            capitals.to_lowercase()
        } else {
            key.chars().take(3).collect::<String>().to_lowercase()
        };
        reduced += 1;
    }
    joined(&keys)
}

/// The hex digits of a path's hash that [`told_apart`] appends: 32 bits, so two paths of one
/// stream whose names meet are all but never given one hash.
const HASH_DIGITS: usize = 8;

/// The column name of the path `keys` when another path of the stream has the same
/// [`column_name`] (two long custom field names shortened alike, "… assessment tier" and "…
/// assessment team", or a key holding `__`): that name, cut to leave room, then `_` and the
/// first hex digits of the SHA-256 of the whole path. The hash is of the path alone, so each
/// path gets one name every run, whatever the order fields come in, within [`MAX_COLUMN_LEN`].
pub fn told_apart(keys: &[&str]) -> String {
    let name = column_name(keys);
    let mut end = name.len().min(MAX_COLUMN_LEN - 1 - HASH_DIGITS);
    while !name.is_char_boundary(end) {
        end -= 1;
    }
    // A cut before `_` would make the suffix look like a path level of its own (`__`).
    let mut out = name[..end].trim_end_matches('_').to_string();
    out.push('_');
    // The path as a JSON list: `["a__b"]` and `["a", "b"]` hash apart.
    let digest = Sha256::digest(Value::from(keys).to_string());
    for byte in digest.iter().take(HASH_DIGITS / 2) {
        out.push_str(&format!("{byte:02x}"));
    }
    out
}

/// `inflection.camelize`: the first character and each one after an underscore in capitals,
/// those underscores dropped (`project_role` → `ProjectRole`; a last underscore stays).
fn camelize(key: &str) -> String {
    let mut out = String::with_capacity(key.len());
    let mut chars = key.chars();
    if let Some(first) = chars.next() {
        out.extend(first.to_uppercase());
    }
    while let Some(c) = chars.next() {
        if c != '_' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some(next) => out.extend(next.to_uppercase()),
            None => out.push('_'),
        }
    }
    out
}

/// The most columns one stream may add beyond its SCHEMA in a run. Each costs a SCHEMA message,
/// and PostgreSQL allows 1,600 columns to a table: keys past this are written without a column
/// of their own in the SCHEMA (a site that makes up keys record by record gets no new SCHEMA for
/// each).
const MAX_FOUND_COLUMNS: usize = 500;

/// The most columns PostgreSQL allows a table ("tables can have at most 1600 columns"): a
/// flattened SCHEMA of more fails the load of its stream in PostgreSQL targets.
pub const POSTGRES_MAX_COLUMNS: usize = 1600;

/// The schema of a column holding JSON text.
fn json_text_schema() -> Value {
    json!({"type": ["null", "string"]})
}

/// One stream's flattening, made once from the SCHEMA it would emit unflattened.
#[derive(Debug, Clone)]
pub struct Flattener {
    /// The flattened SCHEMA.
    pub schema: Value,
    root: Level,
    /// Every column `schema` declares: a key found in a record may not take one's name.
    declared: HashSet<String>,
    /// The names that several paths of `schema` would have: each of those paths is told apart.
    crowded: HashSet<String>,
}

/// The columns that one object of the record becomes.
#[derive(Debug, Clone, Default)]
struct Level {
    /// The keys leading to this object: `fields`, `status` (none at the top).
    path: Vec<String>,
    /// By key of the object.
    columns: HashMap<String, Column>,
}

#[derive(Debug, Clone)]
struct Column {
    /// The column's name as a JSON string token, quotes included, made once.
    token: String,
    kind: Kind,
}

#[derive(Debug, Clone)]
enum Kind {
    /// A scalar: written as it is.
    Plain,
    /// A value that may be an object or an array: written as JSON text in a string.
    Json,
    /// An object whose keys are columns of their own.
    Object(Level),
}

/// How the schema of one value is flattened.
enum Shape {
    /// An object and nothing else, with its properties listed: it can become columns.
    Object,
    /// A value that may be an object or an array (or anything, with no type): JSON text.
    Json,
    Scalar,
}

fn shape(schema: &Value) -> Shape {
    let types: Vec<&str> = match schema.get("type") {
        Some(Value::String(t)) => vec![t.as_str()],
        Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).collect(),
        _ => return Shape::Json,
    };
    let has = |kind: &str| types.contains(&kind);
    // An empty list of properties says nothing of the keys the object will have.
    let listed = schema
        .get("properties")
        .and_then(Value::as_object)
        .is_some_and(|p| !p.is_empty());
    if has("object") && listed && types.iter().all(|t| matches!(*t, "object" | "null")) {
        Shape::Object
    } else if has("object") || has("array") {
        Shape::Json
    } else {
        Shape::Scalar
    }
}

impl Flattener {
    /// The flattening of a stream whose SCHEMA is `schema`, down to `max_depth` levels of objects
    /// below the top (0: the top-level columns only, every object as JSON text). Paths whose
    /// names meet are told apart ([`told_apart`]), all of them: which one came first is not
    /// known, and a column must not take another field's values from one run to the next. Fails
    /// only when a name told apart still meets another, naming it.
    pub fn new(schema: &Value, max_depth: usize) -> Result<Flattener, String> {
        let mut crowded = HashSet::new();
        let mut columns = Vec::new();
        let mut root = level(schema, Vec::new(), max_depth, &crowded, &mut columns);
        let mut counts: HashMap<&str, usize> = HashMap::new();
        for (column, _) in &columns {
            *counts.entry(column).or_default() += 1;
        }
        crowded.extend(
            counts
                .into_iter()
                .filter(|&(_, count)| count > 1)
                .map(|(column, _)| column.to_string()),
        );
        if !crowded.is_empty() {
            columns.clear();
            root = level(schema, Vec::new(), max_depth, &crowded, &mut columns);
        }
        let mut properties = Map::new();
        for (column, schema) in columns {
            declare(&mut properties, column, schema)?;
        }
        let declared = properties.keys().cloned().collect();
        let mut flat = schema.clone();
        if let Some(object) = flat.as_object_mut() {
            object.insert("properties".into(), Value::Object(properties));
        }
        Ok(Flattener {
            schema: flat,
            root,
            declared,
            crowded,
        })
    }

    /// The columns the flattened SCHEMA declares.
    pub fn columns(&self) -> usize {
        self.declared.len()
    }
}

/// The columns of the object `schema` describes, each pushed to `columns` with its schema; a
/// path whose name is `crowded` is told apart.
fn level(
    schema: &Value,
    path: Vec<String>,
    depth_left: usize,
    crowded: &HashSet<String>,
    columns: &mut Vec<(String, Value)>,
) -> Level {
    let mut level = Level {
        path,
        columns: HashMap::new(),
    };
    let Some(properties) = schema.get("properties").and_then(Value::as_object) else {
        return level;
    };
    for (name, property) in properties {
        let keys = level.keys(name);
        let mut column = column_name(&keys);
        if crowded.contains(&column) {
            column = told_apart(&keys);
        }
        let kind = match (shape(property), depth_left) {
            (Shape::Object, 1..) => Kind::Object(self::level(
                property,
                level.path.iter().cloned().chain([name.clone()]).collect(),
                depth_left - 1,
                crowded,
                columns,
            )),
            (Shape::Scalar, _) => {
                columns.push((column.clone(), property.clone()));
                Kind::Plain
            }
            (Shape::Object | Shape::Json, _) => {
                columns.push((column.clone(), json_text_schema()));
                Kind::Json
            }
        };
        let token = Value::from(column).to_string();
        level.columns.insert(name.clone(), Column { token, kind });
    }
    level
}

impl Level {
    /// The path of this object's key `name`.
    fn keys<'a>(&'a self, name: &'a str) -> Vec<&'a str> {
        let mut keys: Vec<&str> = self.path.iter().map(String::as_str).collect();
        keys.push(name);
        keys
    }
}

fn declare(columns: &mut Map<String, Value>, column: String, schema: Value) -> Result<(), String> {
    if columns.contains_key(&column) {
        return Err(format!(
            "flattening gives two values the column name `{column}`: a name told apart by the \
             hash of its path meets another column's; deselect one of them"
        ));
    }
    columns.insert(column, schema);
    Ok(())
}

/// A stream's records flattened one after another, with the columns found in them beyond the
/// SCHEMA.
#[derive(Debug)]
pub struct FlatRecords<'f> {
    flattener: &'f Flattener,
    /// The SCHEMA with the found columns declared, once there are any.
    grown: Option<Value>,
    /// Found columns not yet declared in `grown`.
    pending: Vec<String>,
    /// Found paths, by their keys as a JSON list: the column each was given, or none when it was
    /// left out (its names taken).
    seen: HashMap<String, Option<String>>,
    /// The columns given to found paths.
    given: HashSet<String>,
    /// Whether the warning that no more columns are added was given.
    full: bool,
    /// A value's JSON text before it is written as a string.
    scratch: String,
}

impl<'f> FlatRecords<'f> {
    pub fn new(flattener: &'f Flattener) -> Self {
        FlatRecords {
            flattener,
            grown: None,
            pending: Vec::new(),
            seen: HashMap::new(),
            given: HashSet::new(),
            full: false,
            scratch: String::new(),
        }
    }

    /// The SCHEMA as it stands: the flattened one, and the columns found so far.
    pub fn schema(&self) -> &Value {
        self.grown.as_ref().unwrap_or(&self.flattener.schema)
    }

    /// The SCHEMA to send again before the record just written, when that record had keys no
    /// column was declared for.
    pub fn grown(&mut self) -> Option<&Value> {
        if self.pending.is_empty() {
            return None;
        }
        let grown = self
            .grown
            .get_or_insert_with(|| self.flattener.schema.clone());
        if let Some(Value::Object(properties)) = grown.get_mut("properties") {
            for column in self.pending.drain(..) {
                properties.insert(column, json_text_schema());
            }
        }
        Some(grown)
    }

    /// Writes `record` flattened, as JSON text, to `out`; the text that came with the record
    /// passes through `text` on the way (date-times rewritten), as `RawObject::write_with` does.
    pub fn write(
        &mut self,
        stream: &str,
        record: &RawObject<'_>,
        out: &mut String,
        text: &impl WriteText,
    ) {
        let flattener = self.flattener;
        let mut writer = Writer {
            records: self,
            stream,
            out,
            text,
            first: true,
        };
        writer.out.push('{');
        writer.level(&flattener.root, record);
        writer.out.push('}');
    }
}

/// Whether a value is an object or a list, which no scalar column may hold.
fn nested(node: &Node<'_>) -> bool {
    match node {
        Node::Object(_) | Node::List(_) => true,
        _ => node
            .json_text()
            .is_some_and(|text| text.starts_with(['{', '['])),
    }
}

/// One record being written.
struct Writer<'w, 'f, T> {
    records: &'w mut FlatRecords<'f>,
    stream: &'w str,
    out: &'w mut String,
    text: &'w T,
    /// Whether no column has been written yet.
    first: bool,
}

impl<T: WriteText> Writer<'_, '_, T> {
    fn level(&mut self, level: &Level, object: &RawObject<'_>) {
        for (key, node) in object.entries() {
            let name = key_name(key);
            match level.columns.get(name.as_ref()) {
                // An object or a list where the schema says a scalar (a catalog typed otherwise
                // than the site sends): kept, as what was found, never nested in the column.
                Some(Column {
                    kind: Kind::Plain, ..
                }) if nested(node) => self.found(level, &name, node),
                Some(Column {
                    token,
                    kind: Kind::Plain,
                }) => {
                    self.column(token);
                    node.write_with(self.out, self.text);
                }
                Some(Column {
                    token,
                    kind: Kind::Json,
                }) => {
                    self.column(token);
                    self.json_text(node);
                }
                Some(Column {
                    kind: Kind::Object(inner),
                    ..
                }) => match node {
                    Node::Object(object) => self.level(inner, object),
                    _ => match node.json_text() {
                        Some("null") => {}
                        Some(text) => match RawObject::parse(text) {
                            Some(object) => self.level(inner, &object),
                            // Not an object, though the schema says so: kept, as what was found.
                            None => self.found(level, &name, node),
                        },
                        None => self.found(level, &name, node),
                    },
                },
                None => self.found(level, &name, node),
            }
        }
    }

    /// Starts a column: its name and the colon.
    fn column(&mut self, token: &str) {
        if !self.first {
            self.out.push(',');
        }
        self.first = false;
        self.out.push_str(token);
        self.out.push(':');
    }

    /// A string or null as it is; any other value as its JSON text, in a string.
    fn json_text(&mut self, node: &Node<'_>) {
        if let Some(text) = node.json_text()
            && (text.starts_with('"') || text == "null")
        {
            node.write_with(self.out, self.text);
            return;
        }
        let scratch = &mut self.records.scratch;
        scratch.clear();
        node.write_with(scratch, self.text);
        push_json_string(self.out, scratch);
    }

    /// A key the schema does not declare: a JSON-text column of its own, declared in the SCHEMA
    /// sent again. When a declared column or an earlier found one has its name, that one keeps
    /// it (the SCHEMA is sent) and this key is told apart; left out if that name is taken too.
    fn found(&mut self, level: &Level, name: &str, node: &Node<'_>) {
        let keys = level.keys(name);
        let path = Value::from(keys.as_slice()).to_string();
        let records = &mut *self.records;
        let column = match records.seen.get(&path) {
            Some(Some(column)) => column.clone(),
            Some(None) => return,
            None => {
                let flattener = records.flattener;
                let taken = |column: &String| {
                    flattener.declared.contains(column) || records.given.contains(column)
                };
                let plain = column_name(&keys);
                let column = if flattener.crowded.contains(&plain) || taken(&plain) {
                    Some(told_apart(&keys)).filter(|column| !taken(column))
                } else {
                    Some(plain)
                };
                let Some(column) = column else {
                    tracing::warn!(
                        stream = self.stream,
                        path,
                        "flattening: a key the schema does not declare would take the name of \
                         another column, even told apart by its hash; its values are left out"
                    );
                    records.seen.insert(path, None);
                    return;
                };
                if records.seen.len() >= MAX_FOUND_COLUMNS {
                    if !records.full {
                        records.full = true;
                        tracing::warn!(
                            stream = self.stream,
                            limit = MAX_FOUND_COLUMNS,
                            "flattening: keys the schema does not declare are written without a \
                             column in the SCHEMA past this many (targets may leave them out); \
                             run --discover again or lower flattening_max_depth"
                        );
                    }
                } else {
                    tracing::info!(
                        stream = self.stream,
                        column,
                        "flattening: a key the schema does not declare gets a column of JSON text"
                    );
                    records.seen.insert(path, Some(column.clone()));
                    records.given.insert(column.clone());
                    records.pending.push(column.clone());
                }
                column
            }
        };
        self.column(&Value::from(column).to_string());
        self.json_text(node);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::raw::as_it_came;

    fn schema() -> Value {
        json!({"type": "object", "properties": {
            "id": {"type": "string"},
            "fields": {"type": "object", "properties": {
                "summary": {"type": ["null", "string"]},
                "status": {"type": ["null", "object"], "properties": {
                    "name": {"type": ["null", "string"]},
                    "category": {"type": ["null", "object"], "properties": {"key": {"type": "string"}}}}},
                "description": {"type": ["null", "object"]},
                "labels": {"type": ["null", "array"], "items": {"type": "string"}},
                "sprint": {"type": ["null", "object", "string"], "properties": {"id": {"type": "integer"}}},
                "anything": {},
                "created": {"type": ["null", "string"], "format": "date-time"}}}}})
    }

    fn flatten(depth: usize, record: &str) -> (Value, Value, Vec<String>) {
        let flattener = Flattener::new(&schema(), depth).unwrap();
        let mut records = FlatRecords::new(&flattener);
        let mut out = String::new();
        let record = RawObject::parse(record).unwrap();
        records.write("issues", &record, &mut out, &as_it_came);
        let found = records.pending.clone();
        let schema = records.grown().cloned().unwrap_or(flattener.schema.clone());
        (
            serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}")),
            schema,
            found,
        )
    }

    const RECORD: &str = r#"{"id":"1","fields":{"summary":"s\n","status":{"name":"Done","category":{"key":"done"}},"description":{"type":"doc","content":[{"text":"a \"b\"\t"}]},"labels":["x","y"],"sprint":"old form","anything":3,"created":"2024-01-01T00:00:00.000Z"}}"#;

    #[test]
    fn objects_become_columns_down_to_the_depth_and_the_rest_json_text() {
        let (record, schema, found) = flatten(2, RECORD);
        assert_eq!(
            record,
            json!({"id": "1", "fields__summary": "s\n", "fields__status__name": "Done",
                "fields__status__category": "{\"key\":\"done\"}",
                "fields__description": "{\"type\":\"doc\",\"content\":[{\"text\":\"a \\\"b\\\"\\t\"}]}",
                "fields__labels": "[\"x\",\"y\"]", "fields__sprint": "old form", "fields__anything": "3",
                "fields__created": "2024-01-01T00:00:00.000Z"})
        );
        let json_text = json!({"type": ["null", "string"]});
        let properties = &schema["properties"];
        assert_eq!(properties["fields__status__category"], json_text);
        assert_eq!(properties["fields__description"], json_text);
        assert_eq!(properties["fields__anything"], json_text);
        assert_eq!(
            properties["fields__created"],
            json!({"type": ["null", "string"], "format": "date-time"})
        );
        assert!(found.is_empty());
        let (deeper, _, _) = flatten(3, RECORD);
        assert_eq!(deeper["fields__status__category__key"], json!("done"));
    }

    #[test]
    fn depth_zero_keeps_the_top_level_and_writes_objects_as_json_text() {
        let (record, schema, _) = flatten(0, r#"{"id":"1","fields":{"summary":"s"}}"#);
        assert_eq!(record, json!({"id": "1", "fields": "{\"summary\":\"s\"}"}));
        assert_eq!(schema["properties"]["fields"], json_text_schema());
    }

    #[test]
    fn a_null_object_has_no_columns_and_a_key_not_declared_gets_one() {
        let (record, schema, found) = flatten(
            2,
            r#"{"id":"1","fields":{"status":null,"summary":null,"extra":{"a":1},"more":"m"}}"#,
        );
        assert_eq!(
            record,
            json!({"id": "1", "fields__summary": null, "fields__extra": "{\"a\":1}", "fields__more": "m"})
        );
        assert_eq!(found, vec!["fields__extra", "fields__more"]);
        assert_eq!(schema["properties"]["fields__extra"], json_text_schema());
        // A value that is not the object its schema says: kept under its own column.
        let (record, _, found) = flatten(2, r#"{"id":"1","fields":{"status":[1]}}"#);
        assert_eq!(record, json!({"id": "1", "fields__status": "[1]"}));
        assert_eq!(found, vec!["fields__status"]);
        // An object where the schema says a scalar: a JSON-text column of its own, the declared
        // column keeping its name.
        let (record, _, found) = flatten(2, r#"{"id":"1","fields":{"summary":{"a":1}}}"#);
        let apart = told_apart(&["fields", "summary"]);
        assert_eq!(record, json!({"id": "1", &apart: "{\"a\":1}"}));
        assert_eq!(found, vec![apart]);
    }

    #[test]
    fn found_columns_are_declared_once_and_told_apart_from_a_declared_name() {
        let flattener = Flattener::new(&schema(), 2).unwrap();
        let mut records = FlatRecords::new(&flattener);
        let mut out = String::new();
        for text in [
            r#"{"id":"1","fields":{"x":1}}"#,
            r#"{"id":"2","fields":{"x":2,"status__name":"taken"}}"#,
        ] {
            out.clear();
            let record = RawObject::parse(text).unwrap();
            records.write("issues", &record, &mut out, &as_it_came);
        }
        // The declared column keeps its name; the found key is told apart from it.
        let apart = told_apart(&["fields", "status__name"]);
        assert_eq!(
            out,
            format!(
                r#"{{"id":"2","fields__x":"2",{}:"taken"}}"#,
                Value::from(apart.clone())
            )
        );
        let schema = records.grown().unwrap();
        assert_eq!(schema["properties"]["fields__x"], json_text_schema());
        assert_eq!(schema["properties"][&apart], json_text_schema());
        assert!(records.grown().is_none(), "declared once");
    }

    #[test]
    fn found_keys_shortened_alike_get_columns_of_their_own() {
        let flattener = Flattener::new(&schema(), 2).unwrap();
        let mut records = FlatRecords::new(&flattener);
        let tier = "quarterly_regulatory_review_customer_impact_assessment_tier";
        let team = "quarterly_regulatory_review_customer_impact_assessment_team";
        let mut out = String::new();
        let text = format!(r#"{{"id":"1","fields":{{"{tier}":1,"{team}":2}}}}"#);
        records.write(
            "issues",
            &RawObject::parse(&text).unwrap(),
            &mut out,
            &as_it_came,
        );
        let record: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(
            record,
            json!({"id": "1", "fie__qrrciat": "1", told_apart(&["fields", team]): "2"})
        );
    }

    #[test]
    fn names_that_meet_are_all_told_apart_by_their_paths() {
        let tier = "quarterly_regulatory_review_customer_impact_assessment_tier";
        let team = "quarterly_regulatory_review_customer_impact_assessment_team";
        let option = json!({"type": ["null", "object"], "properties": {
            "id": {"type": "string"}, "value": {"type": "string"}}});
        let fields = |order: &[&str]| {
            let mut properties = Map::new();
            for key in order {
                properties.insert(key.to_string(), option.clone());
            }
            properties.insert("summary".into(), json!({"type": "string"}));
            json!({"properties": {"fields": {"type": "object", "properties": properties}}})
        };
        let one = Flattener::new(&fields(&[tier, team]), 2).unwrap().schema;
        let other = Flattener::new(&fields(&[team, tier]), 2).unwrap().schema;
        let columns = |schema: &Value| -> Vec<String> {
            let mut columns: Vec<String> = schema["properties"]
                .as_object()
                .unwrap()
                .keys()
                .cloned()
                .collect();
            columns.sort();
            columns
        };
        assert_eq!(columns(&one), columns(&other), "whatever the order");
        let mut expected: Vec<String> = [tier, team]
            .iter()
            .flat_map(|f| ["id", "value"].map(|k| told_apart(&["fields", f, k])))
            .chain(["fields__summary".to_string()])
            .collect();
        expected.sort();
        assert_eq!(columns(&one), expected);
        // Alone, a field keeps the name it has always had.
        let alone = Flattener::new(&fields(&[tier]), 2).unwrap().schema;
        assert!(alone["properties"].get("fie__qrrciat__id").is_some());
        let apart = told_apart(&["fields", tier, "id"]);
        assert!(apart.starts_with("fie__qrrciat__id_"), "{apart}");
        // Column names are public: the hash may never change (as the README says).
        assert_eq!(
            told_apart(&["fields", tier, "value"]),
            "fie__qrrciat__value_eafd813e"
        );
        assert_eq!(apart.len(), "fie__qrrciat__id_".len() + HASH_DIGITS);
        // A long name is cut to leave room for the hash.
        let whole = [
            "fields",
            "issuetype",
            "scope",
            "project",
            "projectCategory",
            "description",
        ];
        let long = told_apart(&whole);
        assert_eq!(long.len(), MAX_COLUMN_LEN);
        assert!(
            long.starts_with(&column_name(&whole)[..MAX_COLUMN_LEN - 9]),
            "{long}"
        );
        assert_eq!(long, told_apart(&whole), "stable");
        let accents = told_apart(&["é".repeat(40).as_str()]);
        assert!(accents.len() <= MAX_COLUMN_LEN, "{accents}");
    }

    #[test]
    fn long_column_names_are_shortened_as_pipelinewise_shortens_them() {
        // Each expected name is what pipelinewise-target-postgres's `flatten_key` gives.
        for (path, name) in [
            (
                &[
                    "holder",
                    "projectRole",
                    "scope",
                    "project",
                    "projectCategory",
                    "description",
                ][..],
                "hol__projectRole__scope__project__projectCategory__description",
            ),
            (
                &[
                    "fields",
                    "customer_impact_assessment_for_the_quarterly_regulatory_review",
                    "value",
                ],
                "fie__ciaftqrr__value",
            ),
            (&["fields", "status", "name"], "fields__status__name"),
            (&[&"a".repeat(70)], "aaa"),
            (&["x_", "max-results", &"b".repeat(60)], "x___m-__bbb"),
        ] {
            assert_eq!(column_name(path), name);
            assert!(name.len() < MAX_COLUMN_LEN);
        }
        // PostgreSQL keeps 63 bytes: such a name is left as it is.
        let whole = [
            "fields",
            "issuetype",
            "scope",
            "project",
            "projectCategory",
            "description",
        ];
        assert_eq!(column_name(&whole).len(), MAX_COLUMN_LEN);
    }

    #[test]
    fn a_key_holding_the_separator_and_a_path_are_told_apart() {
        let schema = json!({"properties": {"a__b": {"type": "string"},
            "a": {"type": "object", "properties": {"b": {"type": "string"}}}}});
        let flat = Flattener::new(&schema, 1).unwrap().schema;
        let mut columns: Vec<&String> = flat["properties"].as_object().unwrap().keys().collect();
        columns.sort();
        let mut expected = [told_apart(&["a__b"]), told_apart(&["a", "b"])];
        expected.sort();
        assert_eq!(columns, expected.iter().collect::<Vec<_>>());
        assert_ne!(expected[0], expected[1]);
        assert!(Flattener::new(&schema, 0).is_ok());
    }

    #[test]
    fn a_name_told_apart_that_meets_another_is_refused() {
        let apart = told_apart(&["a", "b"]);
        let schema = json!({"properties": {"a__b": {"type": "string"}, &apart: {"type": "string"},
            "a": {"type": "object", "properties": {"b": {"type": "string"}}}}});
        let e = Flattener::new(&schema, 1).unwrap_err();
        assert!(e.contains(&format!("`{apart}`")), "{e}");
    }
}
