//! Readable text beside Cloud's rich text: the description, environment, comment and worklog
//! bodies, and rich-text (`textarea`) custom fields arrive as ADF documents; each keeps its ADF
//! and gains a rendering beside it (`description_markdown`, or `description_text` for plain
//! text), per config `render_text`.

use std::collections::HashMap;

use serde_json::{Map, Value, json};

use crate::adf::{self, TextStyle};
use crate::raw::{Node, RawObject, has_escape, key_name};

/// Where the built-in streams carry rich text, by stream: paths inside a record.
const RICH_TEXT: &[(&str, &[&str])] = &[
    ("issues", &["fields", "description"]),
    ("issues", &["fields", "environment"]),
    ("issue_comments", &["body"]),
    ("worklogs", &["comment"]),
];

/// Whether the built-in `issues` schema has rich text under `fields` → `key`.
pub fn is_issue_rich_text(key: &str) -> bool {
    RICH_TEXT
        .iter()
        .any(|(stream, path)| *stream == "issues" && path == &["fields", key])
}

/// The custom type of rich-text custom fields.
pub const TEXTAREA: &str = "com.atlassian.jira.plugin.system.customfieldtypes:textarea";

/// Config `render_text`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum RenderText {
    #[default]
    Markdown,
    Plain,
    None,
}

impl RenderText {
    /// What a rendering's name adds to its rich text's (`description_markdown`); `None` when
    /// nothing is rendered.
    pub fn suffix(self) -> Option<&'static str> {
        match self {
            RenderText::Markdown => Some("markdown"),
            RenderText::Plain => Some("text"),
            RenderText::None => None,
        }
    }
}

/// The renderings one stream adds.
#[derive(Debug, Clone)]
pub struct Renderings {
    style: TextStyle,
    /// The object holding the rich text, its key, and the key of the rendering as a JSON token.
    at: Vec<(Vec<String>, String, String)>,
    /// The same by object, for records taken apart: each object is then read once, not once
    /// per rich text (an issue's `fields` has a hundred keys and a dozen rich texts).
    objects: Vec<RichObject>,
}

/// An object that holds rich text: its path, and what its keys are to the renderings.
#[derive(Debug, Clone)]
struct RichObject {
    parent: Vec<String>,
    /// Indexes into `at`, in its order.
    texts: Vec<usize>,
    /// Key names: a rich text's, or a rendering's, with the index of that rich text in `texts`.
    names: HashMap<String, (Role, usize), foldhash::fast::FixedState>,
    /// The `name_bit` of every name: most keys of an object are none of them, and are told so
    /// without hashing them.
    name_bits: u64,
}

/// One of 64 bits for a key's name, from its length and last byte.
fn name_bit(name: &[u8]) -> u64 {
    let last = usize::from(name.last().copied().unwrap_or(0));
    1 << ((name.len() * 31 + last) % 64)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Text,
    Rendering,
}

impl Renderings {
    /// For `stream`, the rich-text paths its schema still has, plus `custom` (ids of rich-text
    /// custom fields, for `issues`); `None` when there is nothing to render.
    pub fn new(
        render: RenderText,
        stream: &str,
        schema: &Value,
        custom: &[String],
    ) -> Option<Renderings> {
        let style = match render {
            RenderText::Markdown => TextStyle::Markdown,
            RenderText::Plain => TextStyle::Plain,
            RenderText::None => return None,
        };
        let suffix = render.suffix()?;
        let built_in = RICH_TEXT
            .iter()
            .filter(|(s, _)| *s == stream)
            .map(|(_, path)| path.iter().map(|p| p.to_string()).collect::<Vec<_>>());
        let custom = custom
            .iter()
            .map(|id| vec!["fields".to_string(), id.clone()]);
        let at: Vec<_> = built_in
            .chain(custom)
            .filter(|path| schema.pointer(&schema_pointer(path)).is_some())
            .filter_map(|mut path| {
                let key = path.pop()?;
                let sibling = Value::from(format!("{key}_{suffix}")).to_string();
                Some((path, key, sibling))
            })
            .collect();
        let objects = by_object(&at);
        (!at.is_empty()).then_some(Renderings { style, at, objects })
    }

    /// The path of each rendering in a record (`fields`, `description_markdown`).
    pub fn columns(&self) -> Vec<Vec<String>> {
        self.at
            .iter()
            .map(|(parent, _, sibling)| {
                let mut path = parent.clone();
                path.push(serde_json::from_str(sibling).unwrap_or_default());
                path
            })
            .collect()
    }

    /// Declares each rendering beside its rich text.
    pub fn apply_to_schema(&self, schema: &mut Value) {
        for (parent, _, sibling) in &self.at {
            let mut pointer = schema_pointer(parent);
            pointer.push_str("/properties");
            if let Some(Value::Object(properties)) = schema.pointer_mut(&pointer) {
                let name: String = serde_json::from_str(sibling).unwrap_or_default();
                properties.insert(name, json!({"type": ["null", "string"]}));
            }
        }
    }

    /// Adds the renderings to a record built as a value.
    pub fn apply(&self, record: &mut Map<String, Value>) {
        for (parent, key, sibling) in &self.at {
            let Some(object) = object_at(record, parent) else {
                continue;
            };
            if let Some(text) = object.get(key).and_then(|doc| adf::render(doc, self.style)) {
                let name: String = serde_json::from_str(sibling).unwrap_or_default();
                object.insert(name, Value::String(text));
            }
        }
    }

    /// Adds the renderings to a record that is JSON text taken apart.
    pub fn apply_raw<'a>(&'a self, record: &mut RawObject<'a>) {
        for rich in &self.objects {
            let mut object = Some(&mut *record);
            for step in &rich.parent {
                object = object.and_then(|o| o.object_mut(step));
            }
            let Some(object) = object else { continue };
            // Where each rich text and each rendering already there sits, in one pass: the first
            // of a key counts, as `get` finds it.
            let mut found: Vec<(Option<usize>, Option<usize>)> =
                vec![(None, None); rich.texts.len()];
            for (i, (token, _)) in object.entries().enumerate() {
                // A key with an escape is named otherwise than its text: it is looked up.
                let inner = token
                    .get(1..token.len().saturating_sub(1))
                    .unwrap_or_default();
                if rich.name_bits & name_bit(inner.as_bytes()) == 0 && !has_escape(inner.as_bytes())
                {
                    continue;
                }
                match rich.names.get(&*key_name(token)) {
                    Some((Role::Text, n)) => found[*n].0 = found[*n].0.or(Some(i)),
                    Some((Role::Rendering, n)) => found[*n].1 = found[*n].1.or(Some(i)),
                    None => {}
                }
            }
            for (&at, (text, rendering)) in rich.texts.iter().zip(found) {
                let Some(doc) = text.and_then(|i| object.value_at(i)) else {
                    continue;
                };
                let Some(text) = render(doc, self.style) else {
                    continue;
                };
                let node = Node::string(&text);
                match rendering {
                    Some(i) => object.set_at(i, node),
                    None => object.push(&self.at[at].2, node),
                }
            }
        }
    }
}

/// The renderings grouped by the object that holds them, each object in the order it first
/// comes, its rich texts in theirs.
fn by_object(at: &[(Vec<String>, String, String)]) -> Vec<RichObject> {
    let mut objects: Vec<RichObject> = Vec::new();
    for (index, (parent, key, sibling)) in at.iter().enumerate() {
        let found = objects.iter().position(|o| &o.parent == parent);
        let found = found.unwrap_or_else(|| {
            objects.push(RichObject {
                parent: parent.clone(),
                texts: Vec::new(),
                names: HashMap::default(),
                name_bits: 0,
            });
            objects.len() - 1
        });
        let rich = &mut objects[found];
        let n = rich.texts.len();
        rich.texts.push(index);
        rich.names.entry(key.clone()).or_insert((Role::Text, n));
        let name: String = serde_json::from_str(sibling).unwrap_or_default();
        rich.name_bits |= name_bit(key.as_bytes()) | name_bit(name.as_bytes());
        rich.names.entry(name).or_insert((Role::Rendering, n));
    }
    objects
}

fn object_at<'m>(
    map: &'m mut Map<String, Value>,
    path: &[String],
) -> Option<&'m mut Map<String, Value>> {
    match path.split_first() {
        None => Some(map),
        Some((step, rest)) => object_at(map.get_mut(step)?.as_object_mut()?, rest),
    }
}

/// A node's rendering, read from its text as it came (written out only when the tap built it).
fn render(node: &Node<'_>, style: TextStyle) -> Option<String> {
    if let Some(text) = node.text() {
        return adf::render_json(text, style);
    }
    let mut text = String::new();
    node.write_to(&mut text);
    adf::render_json(&text, style)
}

/// `/properties/a/properties/b` for the path `a, b`.
fn schema_pointer(path: &[String]) -> String {
    path.iter().map(|p| format!("/properties/{p}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rich_text_gains_a_rendering_beside_it_in_records_and_schema() {
        let mut schema = json!({"properties": {"id": {}, "fields": {"properties": {
            "description": {}, "customfield_9": {}}}}});
        let renderings = Renderings::new(
            RenderText::Markdown,
            "issues",
            &schema,
            &["customfield_9".into()],
        )
        .unwrap();
        renderings.apply_to_schema(&mut schema);
        assert_eq!(
            schema["properties"]["fields"]["properties"]["customfield_9_markdown"],
            json!({"type": ["null", "string"]})
        );
        assert!(
            schema
                .pointer("/properties/fields/properties/environment_markdown")
                .is_none()
        );
        let text = r#"{"id":"1","fields":{"description":{"type":"doc","version":1,"content":[{"type":"paragraph","content":[{"type":"text","text":"Hi","marks":[{"type":"strong"}]}]}]},"customfield_9":"wiki *text*"}}"#;
        let mut raw = RawObject::parse(text).unwrap();
        renderings.apply_raw(&mut raw);
        let mut written = String::new();
        raw.write_to(&mut written);
        let record: Value = serde_json::from_str(&written).unwrap();
        assert_eq!(record["fields"]["description_markdown"], json!("**Hi**"));
        assert!(
            record["fields"].get("customfield_9_markdown").is_none(),
            "a string is not ADF"
        );
        let mut value = serde_json::from_str::<Value>(text).unwrap();
        renderings.apply(value.as_object_mut().unwrap());
        assert_eq!(value, record, "values and text alike");
        let mut apart = RawObject::parse(text).unwrap();
        apart.pointer_mut("/fields/description").unwrap();
        renderings.apply_raw(&mut apart);
        let fields = apart.object_mut("fields").unwrap();
        assert_eq!(
            fields.get("description_markdown"),
            Some(&Node::string("**Hi**")),
            "a document taken apart renders too"
        );
        assert!(Renderings::new(RenderText::None, "issues", &schema, &[]).is_none());
    }

    /// Read in one pass, an object gains its renderings as it would one rich text at a time: a
    /// rendering already there is replaced where it is, new ones follow in the renderings'
    /// order, and a key written with an escape is found.
    #[test]
    fn renderings_land_where_one_at_a_time_would_put_them() {
        let schema = json!({"properties": {"fields": {"properties": {
            "description": {}, "environment": {}, "customfield_9": {}}}}});
        let renderings = Renderings::new(
            RenderText::Plain,
            "issues",
            &schema,
            &["customfield_9".into()],
        )
        .unwrap();
        let doc = |text: &str| {
            format!(
                r#"{{"type":"doc","version":1,"content":[{{"type":"paragraph","content":[{{"type":"text","text":"{text}"}}]}}]}}"#
            )
        };
        let text = format!(
            r#"{{"fields":{{"customfield_9":{},"environment_text":"old","d\u0065scription":{},"environment":{}}}}}"#,
            doc("c"),
            doc("d"),
            doc("e")
        );
        let mut raw = RawObject::parse(&text).unwrap();
        renderings.apply_raw(&mut raw);
        let mut written = String::new();
        raw.write_to(&mut written);
        let keys: Vec<String> = raw
            .object_mut("fields")
            .unwrap()
            .entries()
            .map(|(key, _)| key_name(key).into_owned())
            .collect();
        assert_eq!(
            keys,
            [
                "customfield_9",
                "environment_text",
                "description",
                "environment",
                "description_text",
                "customfield_9_text"
            ]
        );
        let record: Value = serde_json::from_str(&written).unwrap();
        assert_eq!(record["fields"]["environment_text"], json!("e"));
        assert_eq!(record["fields"]["description_text"], json!("d"));
        assert_eq!(record["fields"]["customfield_9_text"], json!("c"));
        let mut value = serde_json::from_str::<Value>(&text).unwrap();
        renderings.apply(value.as_object_mut().unwrap());
        assert_eq!(value, record, "values and text alike");
    }
}
