//! Readable text beside Cloud's rich text: the description, environment, comment and worklog
//! bodies, and rich-text (`textarea`) custom fields arrive as ADF documents; each keeps its ADF
//! and gains a rendering beside it (`description_markdown`, or `description_text` for plain
//! text), per config `render_text`.

use serde_json::{Map, Value, json};

use crate::adf::{self, TextStyle};
use crate::raw::{Node, RawObject};

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

/// The renderings one stream adds.
#[derive(Debug, Clone)]
pub struct Renderings {
    style: TextStyle,
    /// The object holding the rich text, its key, and the key of the rendering as a JSON token.
    at: Vec<(Vec<String>, String, String)>,
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
        let (style, suffix) = match render {
            RenderText::Markdown => (TextStyle::Markdown, "markdown"),
            RenderText::Plain => (TextStyle::Plain, "text"),
            RenderText::None => return None,
        };
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
        (!at.is_empty()).then_some(Renderings { style, at })
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
        for (parent, key, sibling) in &self.at {
            let mut object = Some(&mut *record);
            for step in parent {
                object = object.and_then(|o| o.object_mut(step));
            }
            let Some(object) = object else { continue };
            let Some(doc) = object.get(key) else { continue };
            if let Some(text) = render(doc, self.style) {
                object.insert(sibling, Node::string(&text));
            }
        }
    }
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
}
