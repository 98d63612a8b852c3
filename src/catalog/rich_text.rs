//! Rich text's JSON type: Cloud's REST v3 sends ADF documents (objects), Server/DC and Cloud read
//! through REST v2 (config `rich_text: wiki`) send wiki-markup strings. A catalog types each
//! rich-text property as one or the other, never both: flattening targets cannot load a
//! string-or-object column.

use serde_json::{Value, json};

use crate::config::{Deployment, RichText};

/// What rich text is in a sync or a catalog.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextForm {
    /// Atlassian Document Format objects (Cloud, REST v3).
    Adf,
    /// Wiki-markup strings (Server/DC, or Cloud through REST v2).
    Wiki,
}

impl TextForm {
    pub fn of(deployment: Deployment, rich_text: RichText) -> TextForm {
        match (deployment, rich_text) {
            (Deployment::Cloud, RichText::Adf) => TextForm::Adf,
            _ => TextForm::Wiki,
        }
    }

    /// The schema of one rich-text value.
    pub fn schema(self) -> Value {
        match self {
            TextForm::Adf => json!({"type": ["null", "object"]}),
            TextForm::Wiki => json!({"type": ["null", "string"]}),
        }
    }
}

/// Where the built-in streams carry rich text, by stream: schema pointers. The embedded
/// comments and worklogs stay in its record when their own streams are not selected.
const RICH_TEXT: &[(&str, &str)] = &[
    ("issues", "/properties/fields/properties/description"),
    ("issues", "/properties/fields/properties/environment"),
    (
        "issues",
        "/properties/fields/properties/comment/properties/comments/items/properties/body",
    ),
    (
        "issues",
        "/properties/fields/properties/worklog/properties/worklogs/items/properties/comment",
    ),
    ("issue_comments", "/properties/body"),
    ("worklogs", "/properties/comment"),
];

/// Types every rich-text property `schema` has, built-in and the custom fields `custom` (ids of
/// rich-text custom fields, for `issues`), as `form` says; properties the schema lacks stay out.
pub fn type_rich_text(schema: &mut Value, stream: &str, custom: &[String], form: TextForm) {
    let built_in = RICH_TEXT
        .iter()
        .filter(|(s, _)| *s == stream)
        .map(|(_, pointer)| pointer.to_string());
    let custom = custom
        .iter()
        .filter(|_| stream == "issues")
        .map(|id| format!("/properties/fields/properties/{id}"));
    for pointer in built_in.chain(custom) {
        if let Some(property) = schema.pointer_mut(&pointer) {
            *property = form.schema();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::streams::StreamDef;

    fn builtin(stream: &str) -> Value {
        serde_json::from_str(StreamDef::find(stream).unwrap().schema).unwrap()
    }

    #[test]
    fn every_listed_pointer_exists_in_its_built_in_schema() {
        for (stream, pointer) in RICH_TEXT {
            assert!(
                builtin(stream).pointer(pointer).is_some(),
                "{stream} has no {pointer}"
            );
        }
    }

    #[test]
    fn rich_text_is_an_object_or_a_string_never_both() {
        for form in [TextForm::Adf, TextForm::Wiki] {
            let mut schema = builtin("issues");
            type_rich_text(&mut schema, "issues", &[], form);
            let description = &schema["properties"]["fields"]["properties"]["description"];
            assert_eq!(description, &form.schema());
        }
        assert_eq!(
            TextForm::of(Deployment::Server, RichText::Adf),
            TextForm::Wiki
        );
        assert_eq!(
            TextForm::of(Deployment::Cloud, RichText::Wiki),
            TextForm::Wiki
        );
        assert_eq!(
            TextForm::of(Deployment::Cloud, RichText::Adf),
            TextForm::Adf
        );
    }
}
