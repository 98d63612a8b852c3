//! Field hashing: values the catalog marks with `tap-jira.hash`, or that `hash_pii` names, are
//! replaced before they leave the process by the hex SHA-256 of the secret salt followed by the
//! value's canonical JSON (object keys sorted, no spaces, date-times as the tap emits them). Null
//! stays null, so a hashed column still says whether there was a value.

use std::collections::BTreeMap;

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::raw::{Node, RawObject};
use crate::secret::Secret;
use crate::timestamp::normalize;

/// The catalog metadata key that asks for a field to be hashed.
pub const HASH_METADATA: &str = "tap-jira.hash";

/// The same without its dot: Meltano's `metadata` extra splits keys at dots, so it can only pass
/// this one.
pub const HASH_METADATA_DOTLESS: &str = "tap-jira-hash";

/// Whether a breadcrumb's metadata asks for its field to be hashed, by either key.
pub fn marked(metadata: &serde_json::Map<String, Value>) -> bool {
    [HASH_METADATA, HASH_METADATA_DOTLESS].iter().any(|key| {
        matches!(metadata.get(*key), Some(Value::Bool(true)))
            || matches!(metadata.get(*key), Some(Value::String(s)) if s == "true")
    })
}

/// What `hash_pii` hashes: these keys at any depth, in every stream (users' emails and names
/// wherever a user appears: reporter, assignee, comment authors, user custom fields, `users`;
/// Server's workflows name their last editor by display name). Changes of a person's field
/// are hashed too (`hash_user_change`).
pub const PII_KEYS: &[&str] = &["emailAddress", "displayName", "lastModifiedUser"];

/// The longest breadcrumb a field to hash may have.
const MAX_BREADCRUMB: usize = 256;

/// The schema of a hashed value.
fn hashed_schema() -> Value {
    serde_json::json!({"type": ["null", "string"]})
}

/// What the config says about hashing: the salt, and whether `hash_pii` is on.
#[derive(Debug, Clone, Default)]
pub struct HashSettings {
    pub salt: Option<Secret>,
    pub pii: bool,
}

/// A stream's masks and the salt they hash with.
#[derive(Debug, Clone)]
pub struct Hashing {
    pub masks: Masks,
    pub salt: Secret,
}

impl Hashing {
    pub fn apply(&self, record: &mut Map<String, Value>) {
        self.masks.apply(record, &self.salt);
    }

    pub fn apply_raw(&self, record: &mut RawObject<'_>) {
        self.masks.apply_raw(record, &self.salt);
    }
}

/// Where to hash inside one record (or one object of it).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Masks {
    at: BTreeMap<String, Mask>,
    /// Keys hashed wherever they appear.
    anywhere: &'static [&'static str],
    /// The site's own person fields (user pickers), by display name and id, whose changes are
    /// hashed like those of `PERSON_FIELDS` (Server's changelog names them by display name and
    /// carries no account ids).
    person_fields: Vec<String>,
    /// Issue fields hashed whole, by each name a change gives them (id, display name): the
    /// values their changes hold are hashed too (an `issue_field_history` row, `items` of a
    /// changelog).
    changed_fields: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
enum Mask {
    Whole,
    /// Inside an object.
    Inside(Masks),
    /// In each element of an array.
    Items(Box<Mask>),
}

/// A breadcrumb `tap-jira.hash` cannot be set on: only properties and array items are values.
#[derive(Debug, PartialEq)]
pub struct NotAValue;

impl Masks {
    /// Masks with `PII_KEYS` hashed everywhere when `pii` is set.
    pub fn new(pii: bool) -> Masks {
        Masks {
            at: BTreeMap::new(),
            anywhere: if pii { PII_KEYS } else { &[] },
            person_fields: Vec::new(),
            changed_fields: Vec::new(),
        }
    }

    /// Also hashes changes of these fields (with `hash_pii`): the site's user custom fields.
    pub fn with_person_fields(mut self, fields: Vec<String>) -> Masks {
        self.person_fields = fields;
        self
    }

    /// Also hashes the values of changes of these issue fields (hashed in `issues`).
    pub fn with_changed_fields(mut self, fields: Vec<String>) -> Masks {
        self.changed_fields = fields;
        self
    }

    pub fn is_empty(&self) -> bool {
        self.at.is_empty() && self.anywhere.is_empty() && self.changed_fields.is_empty()
    }

    /// Hashes the value at a Singer breadcrumb (`properties/fields/properties/reporter`, with
    /// `items` for the elements of an array). Returns the top-level property it lies under.
    pub fn add(&mut self, breadcrumb: &[String]) -> Result<String, NotAValue> {
        // Deeper than any schema nests (serde_json reads 128 levels, two steps each): masks
        // are built, merged and dropped by recursion, one level per step.
        if breadcrumb.len() > MAX_BREADCRUMB {
            return Err(NotAValue);
        }
        let (top, rest) = match breadcrumb {
            [p, name, rest @ ..] if p == "properties" => (name, rest),
            _ => return Err(NotAValue),
        };
        let mask = Mask::at(rest)?;
        let merged = match self.at.remove(top) {
            Some(old) => old.merge(mask),
            None => mask,
        };
        self.at.insert(top.clone(), merged);
        Ok(top.clone())
    }

    /// Hashes what the masks name in a record built as a value; date-times must already be as
    /// emitted.
    pub fn apply(&self, record: &mut Map<String, Value>, salt: &Secret) {
        let pii = self.pii();
        self.apply_marks(record, salt, &pii);
        if !self.changed_fields.is_empty() {
            self.hash_change(record, &self.at, salt, &pii);
            if let Some(Value::Array(items)) = record.get_mut("items") {
                let marked = self.marked_in_items();
                for item in items.iter_mut().filter_map(Value::as_object_mut) {
                    self.hash_change(item, marked, salt, &pii);
                }
            }
        }
        if !self.anywhere.is_empty() {
            pii.hash_user_change(record, salt);
            for (key, value) in record.iter_mut() {
                pii.hash_keys_anywhere(key, value, salt);
            }
        }
    }

    fn pii(&self) -> Pii<'_> {
        Pii {
            keys: self.anywhere,
            person_fields: &self.person_fields,
        }
    }

    /// The masks alone, but not where `pii` hashes: `hash_pii` hashes those values from their
    /// clear value (a mark there too hashed them twice, a hash that joins no other).
    fn apply_marks(&self, record: &mut Map<String, Value>, salt: &Secret, pii: &Pii<'_>) {
        let change = self.left_to_pii(pii, |pii| pii.is_user_change(record));
        for (key, mask) in &self.at {
            if let Some(value) = record.get_mut(key)
                && !pii.hashes(key, change)
            {
                mask.apply(value, salt, pii);
            }
        }
    }

    /// Whether `hash_pii` hashes the names of this object as a change of a person's field, as
    /// `is_change` tells before the masks. A mark on the field a change names may change what
    /// `hash_pii` then takes it for: with one, every mark is applied.
    fn left_to_pii(&self, pii: &Pii<'_>, is_change: impl FnOnce(&Pii<'_>) -> bool) -> bool {
        !pii.keys.is_empty()
            && !FIELD_KEYS.iter().any(|key| self.at.contains_key(*key))
            && is_change(pii)
    }

    /// `apply` on a record that is JSON text taken apart: only the entries masked are read as
    /// values (and written back with their date-times as emitted).
    pub fn apply_raw(&self, record: &mut RawObject<'_>, salt: &Secret) {
        self.apply_raw_within(record, salt, &self.pii());
        if !self.changed_fields.is_empty() {
            self.hash_changes_raw(record, salt);
        }
    }

    /// Whether a change, by the names it gives its field, is one of a field hashed whole.
    fn is_hashed_change(&self, mut names: impl Iterator<Item = String>) -> bool {
        names.any(|name| {
            self.changed_fields
                .iter()
                .any(|f| f.eq_ignore_ascii_case(&name))
        })
    }

    /// The marks inside each of a changelog's `items`, which are hashed as marked.
    fn marked_in_items(&self) -> &BTreeMap<String, Mask> {
        static NONE: BTreeMap<String, Mask> = BTreeMap::new();
        match self.at.get("items") {
            Some(Mask::Items(inner)) => match inner.as_ref() {
                Mask::Inside(masks) => &masks.at,
                _ => &NONE,
            },
            _ => &NONE,
        }
    }

    /// Hashes the old and new values of `change` when it is a change of a hashed field, but for
    /// those `marked` hashes, or `hash_pii` hashes from their clear value.
    fn hash_change(
        &self,
        change: &mut Map<String, Value>,
        marked: &BTreeMap<String, Mask>,
        salt: &Secret,
        pii: &Pii<'_>,
    ) {
        let names = FIELD_KEYS
            .iter()
            .filter_map(|key| change.get(*key).and_then(Value::as_str).map(String::from));
        if !self.is_hashed_change(names) {
            return;
        }
        let user_change = !pii.keys.is_empty() && pii.is_user_change(change);
        for key in CHANGE_VALUES {
            if marked.contains_key(*key) || pii.hashes(key, user_change) {
                continue;
            }
            if let Some(value) = change.get_mut(*key).filter(|v| !v.is_null()) {
                *value = Value::String(digest(value, salt));
            }
        }
    }

    /// `hash_change` on a record taken apart, itself a change or holding changes in `items`;
    /// the items are read as values only when they may name a hashed field.
    fn hash_changes_raw(&self, record: &mut RawObject<'_>, salt: &Secret) {
        let pii = self.pii();
        let names = FIELD_KEYS.iter().filter_map(|key| {
            record
                .get(key)
                .and_then(Node::text)
                .and_then(|text| serde_json::from_str::<String>(text).ok())
        });
        let own = self.is_hashed_change(names);
        let user_change = own && !pii.keys.is_empty() && pii.is_user_change_raw(record);
        let fields: Vec<&str> = self.changed_fields.iter().map(String::as_str).collect();
        record.retain(|key, node| {
            if node.is_null() {
                return true;
            }
            if own
                && CHANGE_VALUES.contains(&key)
                && !self.at.contains_key(key)
                && !pii.hashes(key, user_change)
            {
                *node = Node::Owned(Value::String(digest(&node_value(node), salt)).to_string());
            } else if key == "items" && mentions_value(node, &fields) {
                let mut value = node_value(node);
                if let Value::Array(items) = &mut value {
                    let marked = self.marked_in_items();
                    for item in items.iter_mut().filter_map(Value::as_object_mut) {
                        self.hash_change(item, marked, salt, &pii);
                    }
                }
                *node = Node::Owned(value.to_string());
            }
            true
        });
    }

    /// `apply_raw`, the masks not where `marks_pii` hashes (as `apply_marks`).
    fn apply_raw_within(&self, record: &mut RawObject<'_>, salt: &Secret, marks_pii: &Pii<'_>) {
        let anywhere = self.anywhere;
        let pii = self.pii();
        // A field history row is itself a change.
        let user_change = !anywhere.is_empty() && pii.is_user_change_raw(record);
        let change = self.left_to_pii(marks_pii, |pii| pii.is_user_change_raw(record));
        record.retain(|key, node| {
            if let Some(mask) = self.at.get(key)
                && !marks_pii.hashes(key, change)
            {
                mask.apply_node(node, salt, marks_pii);
            }
            if user_change && CHANGE_NAMES.contains(&key) && !node.is_null() {
                *node = Node::Owned(Value::String(digest(&node_value(node), salt)).to_string());
                return true;
            }
            // A record may itself be a user (a watcher, a voter): its own keys count too.
            let mentions = |keys: &[&str]| mentions_any(node, keys);
            if !anywhere.is_empty()
                && (anywhere.contains(&key) || mentions(anywhere) || mentions(CHANGE_NAMES))
            {
                let mut value = node_value(node);
                pii.hash_keys_anywhere(key, &mut value, salt);
                *node = Node::Owned(value.to_string());
            }
            true
        });
    }

    /// The record schema with every hashed value typed as a nullable string.
    pub fn apply_to_schema(&self, schema: &mut Value) {
        if let Some(properties) = schema.get_mut("properties").and_then(Value::as_object_mut) {
            for (key, mask) in &self.at {
                if let Some(property) = properties.get_mut(key) {
                    mask.apply_to_schema(property, key);
                }
            }
        }
        if !self.anywhere.is_empty() {
            retype_keys_anywhere(schema, self.anywhere);
        }
    }
}

impl Mask {
    fn at(breadcrumb: &[String]) -> Result<Mask, NotAValue> {
        match breadcrumb {
            [] => Ok(Mask::Whole),
            [p, name, rest @ ..] if p == "properties" => {
                let mut inside = Masks::default();
                inside.at.insert(name.clone(), Mask::at(rest)?);
                Ok(Mask::Inside(inside))
            }
            [items, rest @ ..] if items == "items" => Ok(Mask::Items(Box::new(Mask::at(rest)?))),
            _ => Err(NotAValue),
        }
    }

    fn merge(self, other: Mask) -> Mask {
        match (self, other) {
            (Mask::Whole, _) | (_, Mask::Whole) => Mask::Whole,
            (Mask::Inside(mut a), Mask::Inside(b)) => {
                for (key, mask) in b.at {
                    let merged = match a.at.remove(&key) {
                        Some(old) => old.merge(mask),
                        None => mask,
                    };
                    a.at.insert(key, merged);
                }
                Mask::Inside(a)
            }
            (Mask::Items(a), Mask::Items(b)) => Mask::Items(Box::new(a.merge(*b))),
            // A value cannot be both an object and an array: the schema decides, hash it whole.
            _ => Mask::Whole,
        }
    }

    /// Hashes what the mask names in `value`, but for what `hash_pii` hashes (`pii`).
    fn apply(&self, value: &mut Value, salt: &Secret, pii: &Pii<'_>) {
        match (self, value) {
            (_, Value::Null) => {}
            (Mask::Whole, value) => *value = Value::String(digest(value, salt)),
            (Mask::Inside(masks), Value::Object(map)) => masks.apply_marks(map, salt, pii),
            (Mask::Items(mask), Value::Array(items)) => {
                items
                    .iter_mut()
                    .for_each(|item| mask.apply(item, salt, pii));
            }
            // The value is not the shape the breadcrumb describes: nothing of it may leak.
            (_, value) => *value = Value::String(digest(value, salt)),
        }
    }

    fn apply_node(&self, node: &mut Node<'_>, salt: &Secret, pii: &Pii<'_>) {
        if node.is_null() {
            return;
        }
        if let Mask::Inside(masks) = self
            && let Some(object) = node.object_mut()
        {
            masks.apply_raw_within(object, salt, pii);
            return;
        }
        let mut value = node_value(node);
        self.apply(&mut value, salt, pii);
        *node = Node::Owned(value.to_string());
    }

    /// Types what this mask hashes, in the schema of the property `key`.
    fn apply_to_schema(&self, schema: &mut Value, key: &str) {
        let into = match self {
            Mask::Whole => None,
            Mask::Inside(masks) if may_be(schema, "object") => {
                return masks.apply_to_schema(schema);
            }
            Mask::Items(mask) if may_be(schema, "array") => {
                if let Some(items) = schema.get_mut("items") {
                    mask.apply_to_schema(items, key);
                }
                return;
            }
            Mask::Inside(_) => Some("properties"),
            Mask::Items(_) => Some("items"),
        };
        // A breadcrumb into a shape the field does not have: `apply` hashes such a value whole.
        if let Some(into) = into {
            tracing::warn!(
                field = key,
                "a tap-jira.hash breadcrumb goes into its `{into}`, which it does not have: the \
                 whole field is hashed (see its schema for the breadcrumb of a part)"
            );
        }
        *schema = hashed_schema();
    }
}

/// Whether a schema lets its value be of JSON type `kind`: one with no `type` (`{}`, `anyOf`)
/// may be anything.
fn may_be(schema: &Value, kind: &str) -> bool {
    match schema.get("type") {
        Some(Value::String(t)) => t == kind,
        Some(Value::Array(types)) => types.iter().any(|t| t == kind),
        _ => true,
    }
}

/// The hex SHA-256 of the salt followed by the value's canonical JSON.
pub fn digest(value: &Value, salt: &Secret) -> String {
    let mut text = String::new();
    canonical(value, &mut text);
    let mut hasher = Sha256::new();
    hasher.update(salt.expose().as_bytes());
    hasher.update(text.as_bytes());
    hasher
        .finalize()
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// JSON with object keys sorted and no spaces: the same value always gives the same text.
fn canonical(value: &Value, out: &mut String) {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            out.push('{');
            for (at, (key, value)) in entries.into_iter().enumerate() {
                if at > 0 {
                    out.push(',');
                }
                out.push_str(&Value::from(key.as_str()).to_string());
                out.push(':');
                canonical(value, out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (at, item) in items.iter().enumerate() {
                if at > 0 {
                    out.push(',');
                }
                canonical(item, out);
            }
            out.push(']');
        }
        scalar => out.push_str(&scalar.to_string()),
    }
}

/// A node read as a value, its date-times as the tap emits them (what is hashed, and what is
/// written back as built text, which is not normalised again).
fn node_value(node: &Node<'_>) -> Value {
    let mut text = String::new();
    node.write_to(&mut text);
    let mut value = serde_json::from_str(&text).unwrap_or(Value::Null);
    normalize(&mut value);
    value
}

/// Whether a node's text may hold one of `keys` as an object key (a cheap look before parsing).
fn mentions_any(node: &Node<'_>, keys: &[&str]) -> bool {
    // Taken apart by the projection or a mask: read it whole.
    let Some(text) = node.json_text() else {
        return true;
    };
    keys.iter().any(|key| text.contains(&format!("\"{key}\"")))
}

/// Whether a node's text may hold one of `values` as a string, ignoring case (a cheap look
/// before parsing).
fn mentions_value(node: &Node<'_>, values: &[&str]) -> bool {
    // An escape (`\u00e9` for `é`) may spell a name otherwise: read it whole.
    let Some(text) = node.json_text().filter(|text| !text.contains("\\u")) else {
        return true;
    };
    let text = text.to_lowercase();
    values
        .iter()
        .any(|value| text.contains(&Value::from(value.to_lowercase()).to_string()))
}

/// The old and new values a change holds: ids (`from`, and a person's account), and what Jira
/// shows (`fromString`).
const CHANGE_VALUES: &[&str] = &[
    "from",
    "fromString",
    "to",
    "toString",
    "tmpFromAccountId",
    "tmpToAccountId",
];

/// What a change names its old and new values by: a changelog item (`fromString`), an audit
/// record's changed value (`changedFrom`). For a person's field, these are names and emails.
const CHANGE_NAMES: &[&str] = &["fromString", "toString", "changedFrom", "changedTo"];

/// The fields that hold a person, as a change names them: Jira's user fields in a changelog
/// item (`fieldId`, or `field` on Server), a user's own in an audit record (`fieldName`).
const PERSON_FIELDS: &[&str] = &[
    "assignee",
    "reporter",
    "creator",
    "Full name",
    "Display name",
    "Email",
    "Email address",
    "Username",
    "User",
    "Users",
];

/// The keys a change names its field by.
const FIELD_KEYS: &[&str] = &["fieldId", "field", "fieldName"];

/// What `hash_pii` hashes in a record: `keys` wherever they appear, and the names changes of
/// person fields hold.
struct Pii<'a> {
    keys: &'a [&'a str],
    person_fields: &'a [String],
}

impl Pii<'_> {
    /// Whether `item` is a change of a person's field: one of `PERSON_FIELDS` or the site's
    /// user fields, or, on Cloud, a changelog item that carries the accounts.
    fn is_user_change(&self, item: &Map<String, Value>) -> bool {
        item.contains_key("tmpFromAccountId")
            || item.contains_key("tmpToAccountId")
            || FIELD_KEYS.iter().any(|key| {
                item.get(*key)
                    .and_then(Value::as_str)
                    .is_some_and(|name| self.is_person_field(name))
            })
    }

    /// Whether `hash_pii` hashes the value at `key` of an object, `change` telling whether that
    /// object is a change of a person's field.
    fn hashes(&self, key: &str, change: bool) -> bool {
        self.keys.contains(&key) || (change && CHANGE_NAMES.contains(&key))
    }

    fn is_person_field(&self, name: &str) -> bool {
        PERSON_FIELDS
            .iter()
            .copied()
            .chain(self.person_fields.iter().map(String::as_str))
            .any(|f| name.eq_ignore_ascii_case(f))
    }

    /// `is_user_change` for a record taken apart.
    fn is_user_change_raw(&self, item: &RawObject<'_>) -> bool {
        item.get("tmpFromAccountId").is_some()
            || item.get("tmpToAccountId").is_some()
            || FIELD_KEYS.iter().any(|key| {
                item.get(key)
                    .and_then(Node::text)
                    .and_then(|text| serde_json::from_str::<String>(text).ok())
                    .is_some_and(|name| self.is_person_field(&name))
            })
    }

    /// The names a change of a user field holds, hashed.
    fn hash_user_change(&self, item: &mut Map<String, Value>, salt: &Secret) {
        if self.is_user_change(item) {
            for key in CHANGE_NAMES {
                if let Some(value) = item.get_mut(*key).filter(|v| !v.is_null()) {
                    *value = Value::String(digest(value, salt));
                }
            }
        }
    }

    fn hash_keys_anywhere(&self, key: &str, value: &mut Value, salt: &Secret) {
        if self.keys.contains(&key) {
            if !value.is_null() {
                *value = Value::String(digest(value, salt));
            }
            return;
        }
        match value {
            Value::Object(map) => {
                self.hash_user_change(map, salt);
                for (key, value) in map.iter_mut() {
                    self.hash_keys_anywhere(key, value, salt);
                }
            }
            Value::Array(items) => {
                for item in items {
                    self.hash_keys_anywhere("", item, salt);
                }
            }
            _ => {}
        }
    }
}

fn retype_keys_anywhere(schema: &mut Value, keys: &[&str]) {
    let Value::Object(schema) = schema else {
        return;
    };
    if let Some(Value::Object(properties)) = schema.get_mut("properties") {
        for (key, property) in properties.iter_mut() {
            if keys.contains(&key.as_str()) {
                *property = hashed_schema();
            } else {
                retype_keys_anywhere(property, keys);
            }
        }
    }
    for nested in ["items", "additionalProperties"] {
        if let Some(inner) = schema.get_mut(nested) {
            retype_keys_anywhere(inner, keys);
        }
    }
    for list in ["anyOf", "oneOf", "allOf"] {
        if let Some(Value::Array(options)) = schema.get_mut(list) {
            options
                .iter_mut()
                .for_each(|o| retype_keys_anywhere(o, keys));
        }
    }
    if let Some(Value::Object(patterns)) = schema.get_mut("patternProperties") {
        patterns
            .values_mut()
            .for_each(|p| retype_keys_anywhere(p, keys));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn crumb(path: &str) -> Vec<String> {
        path.split('/').map(String::from).collect()
    }

    fn salt() -> Secret {
        Secret::new("pepper")
    }

    #[test]
    fn the_digest_is_the_salted_sha256_of_canonical_json() {
        // printf 'pepper"a@b.c"' | sha256sum
        assert_eq!(
            digest(&json!("a@b.c"), &salt()),
            "eedb84f096048f0e4c6f12ca3b1e0bc9189282ab3eac16ad23b7451ab457ab18"
        );
        assert_eq!(
            digest(&json!({"b": 1, "a": [true, null]}), &salt()),
            digest(&json!({"a": [true, null], "b": 1}), &salt()),
            "key order does not change the hash"
        );
    }

    #[test]
    fn a_breadcrumb_deeper_than_any_schema_is_not_a_field() {
        let mut deep = crumb("properties/summary");
        deep.extend(std::iter::repeat_n("items".to_string(), 200_000));
        assert!(Masks::new(false).add(&deep).is_err());
    }

    #[test]
    fn nested_and_array_values_are_hashed_in_values_and_text_alike() {
        let mut masks = Masks::new(false);
        masks
            .add(&crumb(
                "properties/fields/properties/reporter/properties/emailAddress",
            ))
            .unwrap();
        masks
            .add(&crumb("properties/fields/properties/watchers/items"))
            .unwrap();
        masks.add(&crumb("properties/author")).unwrap();
        let record = json!({"id": "1", "author": null, "fields": {
            "reporter": {"emailAddress": "a@b.c", "accountId": "x"},
            "watchers": ["u1", "u2"], "summary": "s"}});
        let mut as_value = record.as_object().unwrap().clone();
        masks.apply(&mut as_value, &salt());
        let text = record.to_string();
        let mut raw = RawObject::parse(&text).unwrap();
        masks.apply_raw(&mut raw, &salt());
        let mut written = String::new();
        raw.write_to(&mut written);
        let from_text: Value = serde_json::from_str(&written).unwrap();
        assert_eq!(from_text, Value::Object(as_value.clone()));
        assert_eq!(as_value["author"], Value::Null, "null stays null");
        assert_eq!(
            as_value["fields"]["reporter"]["emailAddress"],
            json!(digest(&json!("a@b.c"), &salt()))
        );
        assert_eq!(as_value["fields"]["reporter"]["accountId"], json!("x"));
        assert_eq!(
            as_value["fields"]["watchers"][1],
            json!(digest(&json!("u2"), &salt()))
        );
        assert_eq!(as_value["fields"]["summary"], json!("s"));
    }

    #[test]
    fn pii_keys_are_hashed_at_any_depth_and_typed_as_strings() {
        let masks = Masks::new(true);
        let text = r#"{"id":"1","fields":{"assignee":{"displayName":"Ann","emailAddress":"a@b.c"},"customfield_1":[{"displayName":"Bo"}]},"body":"displayName"}"#;
        let mut raw = RawObject::parse(text).unwrap();
        masks.apply_raw(&mut raw, &salt());
        let mut written = String::new();
        raw.write_to(&mut written);
        assert!(!written.contains("Ann") && !written.contains("a@b.c") && !written.contains("Bo"));
        assert!(written.contains(r#""body":"displayName""#), "{written}");
        let mut schema = json!({"properties": {"fields": {"properties": {"assignee": {"properties": {
            "displayName": {"type": "string"}}}}}}});
        masks.apply_to_schema(&mut schema);
        assert_eq!(
            schema.pointer("/properties/fields/properties/assignee/properties/displayName"),
            Some(&hashed_schema())
        );
    }

    #[test]
    fn a_breadcrumb_that_is_not_a_value_is_refused() {
        let mut masks = Masks::default();
        assert_eq!(masks.add(&[]), Err(NotAValue));
        assert_eq!(masks.add(&crumb("properties/fields/anyOf")), Err(NotAValue));
        assert_eq!(masks.add(&crumb("properties/fields")), Ok("fields".into()));
    }
}
