//! A small Singer target: loads a tap's messages into SQLite the way a warehouse target would.
//!
//! - One table per stream, made from its SCHEMA: a column per top-level property, nested objects
//!   and arrays stored as JSON text (which SQLite's `->>` and `json_extract` read), and the
//!   stream's `key_properties` as the primary key. A later SCHEMA adds the columns it brings.
//! - A RECORD replaces the row with its key (an incremental run's changed issue replaces the old
//!   one); a RECORD with `_sdc_deleted_at` deletes that row instead.
//! - ACTIVATE_VERSION deletes the rows an earlier full-table pass left and this one did not send.
//! - Each call loads one run in one transaction and returns the run's last STATE, which is safe
//!   to keep once the rows are committed.
//!
//! Messages are read line by line; no run is held in memory.

use std::collections::{BTreeMap, HashMap};
use std::error::Error;
use std::io::BufRead;

use rusqlite::types::Value as SqlValue;
use rusqlite::{Connection, params_from_iter};
use serde_json::{Map, Value};

/// The Singer field that marks a record as a deletion.
const DELETED_AT: &str = "_sdc_deleted_at";
/// A column of every table: the full-table pass (the RECORD's `version`) a row came from.
const VERSION: &str = "_sdc_table_version";

pub struct SqliteTarget {
    db: Connection,
    tables: HashMap<String, Table>,
}

/// What one run brought.
#[derive(Debug, Default)]
pub struct Loaded {
    /// Rows written, per stream.
    pub records: BTreeMap<String, usize>,
    /// Rows deleted by records with `_sdc_deleted_at`, per stream.
    pub deleted: BTreeMap<String, usize>,
    /// The run's last STATE: the bookmark to start the next run from.
    pub state: Option<Value>,
}

/// A stream's table, as its latest SCHEMA made it.
struct Table {
    columns: Vec<String>,
    keys: Vec<String>,
    upsert: String,
    /// `None` without key properties: there is no row to name.
    delete: Option<String>,
    activate: String,
}

impl SqliteTarget {
    pub fn new(db: Connection) -> SqliteTarget {
        SqliteTarget {
            db,
            tables: HashMap::new(),
        }
    }

    pub fn db(&self) -> &Connection {
        &self.db
    }

    /// Loads one run's messages, committing them together (nothing when a line fails).
    pub fn load(&mut self, messages: impl BufRead) -> Result<Loaded, Box<dyn Error>> {
        let tx = self.db.transaction()?;
        let mut loaded = Loaded::default();
        for line in messages.lines() {
            let line = line?;
            if line.trim().is_empty() {
                continue;
            }
            let message: Value = serde_json::from_str(&line)?;
            let stream = message["stream"].as_str().unwrap_or_default();
            match message["type"].as_str() {
                Some("SCHEMA") => {
                    let table = Table::create(&tx, stream, &message)?;
                    self.tables.insert(stream.to_string(), table);
                }
                Some("RECORD") => {
                    let table = self
                        .tables
                        .get(stream)
                        .ok_or_else(|| format!("a RECORD of {stream} before its SCHEMA"))?;
                    let record = message["record"]
                        .as_object()
                        .ok_or_else(|| format!("a RECORD of {stream} that is not an object"))?;
                    let counter = if table.write(&tx, record, &message["version"])? {
                        &mut loaded.records
                    } else {
                        &mut loaded.deleted
                    };
                    *counter.entry(stream.to_string()).or_default() += 1;
                }
                Some("ACTIVATE_VERSION") => {
                    // The first pass of a stream announces its version before any row: nothing
                    // older to drop then, and maybe no table yet.
                    if let Some(table) = self.tables.get(stream) {
                        tx.execute(&table.activate, [sql_value(&message["version"])])?;
                    }
                }
                Some("STATE") => loaded.state = Some(message["value"].clone()),
                _ => {}
            }
        }
        tx.commit()?;
        Ok(loaded)
    }
}

impl Table {
    /// Creates the stream's table, or adds the columns a new SCHEMA brings to the one there is.
    fn create(db: &Connection, stream: &str, message: &Value) -> Result<Table, Box<dyn Error>> {
        let properties = message["schema"]["properties"]
            .as_object()
            .ok_or_else(|| format!("the SCHEMA of {stream} has no properties"))?;
        let keys: Vec<String> = message["key_properties"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|k| Some(k.as_str()?.to_string()))
            .collect();
        let mut definitions: Vec<String> = properties
            .iter()
            .map(|(name, schema)| format!("{} {}", quoted(name), column_type(schema)))
            .collect();
        definitions.push(format!("{VERSION} INTEGER"));
        if !keys.is_empty() {
            let keys: Vec<String> = keys.iter().map(|k| quoted(k)).collect();
            definitions.push(format!("PRIMARY KEY ({})", keys.join(", ")));
        }
        let name = quoted(stream);
        db.execute(
            &format!(
                "CREATE TABLE IF NOT EXISTS {name} ({})",
                definitions.join(", ")
            ),
            [],
        )?;
        let existing: Vec<String> = db
            .prepare("SELECT name FROM pragma_table_info(?1)")?
            .query_map([stream], |row| row.get(0))?
            .collect::<Result<_, _>>()?;
        for (column, schema) in properties {
            if !existing.contains(column) {
                db.execute(
                    &format!(
                        "ALTER TABLE {name} ADD COLUMN {} {}",
                        quoted(column),
                        column_type(schema)
                    ),
                    [],
                )?;
            }
        }

        let columns: Vec<String> = properties.keys().cloned().collect();
        let mut names: Vec<String> = columns.iter().map(|c| quoted(c)).collect();
        names.push(VERSION.to_string());
        let matches_key: Vec<String> = keys.iter().map(|k| format!("{} = ?", quoted(k))).collect();
        Ok(Table {
            upsert: format!(
                "INSERT OR REPLACE INTO {name} ({}) VALUES ({})",
                names.join(", "),
                vec!["?"; names.len()].join(", ")
            ),
            delete: (!keys.is_empty())
                .then(|| format!("DELETE FROM {name} WHERE {}", matches_key.join(" AND "))),
            activate: format!("DELETE FROM {name} WHERE {VERSION} IS NOT ?"),
            columns,
            keys,
        })
    }

    /// Writes a record: its row replaced, or deleted when the record says so (`false`).
    /// Properties the SCHEMA did not declare are left out, as typed targets do.
    fn write(
        &self,
        db: &Connection,
        record: &Map<String, Value>,
        version: &Value,
    ) -> rusqlite::Result<bool> {
        let deleted = record.get(DELETED_AT).is_some_and(|at| !at.is_null());
        if let (true, Some(delete)) = (deleted, &self.delete) {
            let key = self.keys.iter().map(|k| value_of(record, k));
            db.prepare_cached(delete)?.execute(params_from_iter(key))?;
            return Ok(false);
        }
        let row = self
            .columns
            .iter()
            .map(|c| value_of(record, c))
            .chain([sql_value(version)]);
        db.prepare_cached(&self.upsert)?
            .execute(params_from_iter(row))?;
        Ok(true)
    }
}

/// A property's value; absent is null.
fn value_of(record: &Map<String, Value>, property: &str) -> SqlValue {
    record.get(property).map_or(SqlValue::Null, sql_value)
}

/// The SQLite type of a property: its JSON type's, when it has one besides null; none when it
/// has several (SQLite then keeps each value as it comes).
fn column_type(schema: &Value) -> &'static str {
    let types: Vec<&str> = match &schema["type"] {
        Value::String(one) => vec![one.as_str()],
        Value::Array(many) => many.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
    .into_iter()
    .filter(|t| *t != "null")
    .collect();
    match types[..] {
        ["integer" | "boolean"] => "INTEGER",
        ["number"] => "REAL",
        // Objects and arrays are JSON text.
        ["string" | "object" | "array"] => "TEXT",
        _ => "",
    }
}

/// A JSON value as SQLite stores it: objects and arrays as JSON text, booleans as 0 and 1.
pub fn sql_value(value: &Value) -> SqlValue {
    match value {
        Value::Null => SqlValue::Null,
        Value::Bool(b) => SqlValue::Integer(i64::from(*b)),
        Value::Number(n) => match n.as_i64() {
            Some(i) => SqlValue::Integer(i),
            None => SqlValue::Real(n.as_f64().unwrap_or(f64::NAN)),
        },
        Value::String(s) => SqlValue::Text(s.clone()),
        Value::Array(_) | Value::Object(_) => SqlValue::Text(value.to_string()),
    }
}

/// An identifier for SQL text.
pub fn quoted(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}
