//! The site's fields as `/field` lists them, kept as the little of each that the catalog reads:
//! the id, the display name and the declared type. Each entry is read straight from its text,
//! the rest of it (clause names, flags, scopes) skipped: held as JSON values, the 20,000 fields
//! of a large site took 50 MiB, seven times their text.
//!
//! Read as leniently as values were: an entry that is not an object, or a part of one that is
//! not text where text is expected, is read as absent, never as an error.

use std::fmt;
use std::marker::PhantomData;

use serde::Deserialize;
use serde::de::{Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

/// One `/field` entry.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SiteField {
    pub id: Option<String>,
    pub name: Option<String>,
    /// `schema`, when it is an object.
    pub schema: Option<FieldType>,
}

/// A field's declared type (its `schema`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldType {
    /// `type`: `string`, `array`, `option`, …
    pub kind: Option<String>,
    /// The type of an array's items.
    pub items: Option<String>,
    /// A custom field's type key (`…customfieldtypes:float`).
    pub custom: Option<String>,
    /// A system field's id.
    pub system: Option<String>,
}

impl SiteField {
    pub fn id(&self) -> Option<&str> {
        self.id.as_deref()
    }

    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// `schema.type`.
    pub fn kind(&self) -> Option<&str> {
        self.schema.as_ref()?.kind.as_deref()
    }

    /// `schema.custom`.
    pub fn custom_type(&self) -> Option<&str> {
        self.schema.as_ref()?.custom.as_deref()
    }
}

impl<'de> Deserialize<'de> for SiteField {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(Lenient::<SiteField>::deserialize(deserializer)?
            .0
            .unwrap_or_default())
    }
}

/// What a lenient reading makes of text and of an object; any other value is nothing.
trait Reading: Sized {
    fn text(_: String) -> Option<Self> {
        None
    }

    fn object<'de, A: MapAccess<'de>>(mut map: A) -> Result<Option<Self>, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(None)
    }
}

impl Reading for String {
    fn text(text: String) -> Option<String> {
        Some(text)
    }
}

impl Reading for SiteField {
    fn object<'de, A: MapAccess<'de>>(mut map: A) -> Result<Option<Self>, A::Error> {
        let mut field = SiteField::default();
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "id" => field.id = map.next_value::<Lenient<String>>()?.0,
                "name" => field.name = map.next_value::<Lenient<String>>()?.0,
                "schema" => field.schema = map.next_value::<Lenient<FieldType>>()?.0,
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(Some(field))
    }
}

impl Reading for FieldType {
    fn object<'de, A: MapAccess<'de>>(mut map: A) -> Result<Option<Self>, A::Error> {
        let mut kind = FieldType::default();
        while let Some(key) = map.next_key::<String>()? {
            let at = match key.as_str() {
                "type" => &mut kind.kind,
                "items" => &mut kind.items,
                "custom" => &mut kind.custom,
                "system" => &mut kind.system,
                _ => {
                    map.next_value::<IgnoredAny>()?;
                    continue;
                }
            };
            *at = map.next_value::<Lenient<String>>()?.0;
        }
        Ok(Some(kind))
    }
}

/// A `T` when the value reads as one, `None` when it is any other JSON.
struct Lenient<T>(Option<T>);

impl<'de, T: Reading> Deserialize<'de> for Lenient<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(LenientVisitor(PhantomData))
    }
}

struct LenientVisitor<T>(PhantomData<T>);

impl<'de, T: Reading> Visitor<'de> for LenientVisitor<T> {
    type Value = Lenient<T>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_str<E>(self, text: &str) -> Result<Self::Value, E> {
        Ok(Lenient(T::text(text.to_string())))
    }

    fn visit_string<E>(self, text: String) -> Result<Self::Value, E> {
        Ok(Lenient(T::text(text)))
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        Ok(Lenient(T::object(map)?))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Lenient(None))
    }

    fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
        Ok(Lenient(None))
    }

    fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
        Ok(Lenient(None))
    }

    fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
        Ok(Lenient(None))
    }

    fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
        Ok(Lenient(None))
    }

    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(Lenient(None))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;

    fn read(value: Value) -> SiteField {
        serde_json::from_str(&value.to_string()).expect("any JSON reads")
    }

    #[test]
    fn an_entry_keeps_its_id_name_and_type() {
        let field = read(json!({
            "id": "customfield_10016", "key": "customfield_10016", "name": "Story Points",
            "custom": true, "clauseNames": ["cf[10016]", "Story Points"],
            "schema": {"type": "number", "custom": "com.atlassian.jira.plugin.system.customfieldtypes:float",
                       "customId": 10016}
        }));
        assert_eq!(field.id(), Some("customfield_10016"));
        assert_eq!(field.name(), Some("Story Points"));
        assert_eq!(field.kind(), Some("number"));
        assert_eq!(
            field.custom_type(),
            Some("com.atlassian.jira.plugin.system.customfieldtypes:float")
        );
        let array = read(
            json!({"id": "labels", "schema": {"type": "array", "items": "string", "system": "labels"}}),
        );
        let kind = array.schema.expect("an object");
        assert_eq!(kind.items.as_deref(), Some("string"));
        assert_eq!(kind.system.as_deref(), Some("labels"));
    }

    #[test]
    fn what_is_not_text_or_an_object_where_one_is_expected_reads_as_absent() {
        for entry in [
            json!(null),
            json!(7),
            json!("customfield_1"),
            json!([{"id": "x"}]),
        ] {
            assert_eq!(read(entry), SiteField::default());
        }
        let odd = read(json!({
            "id": 10016, "name": {"en": "Points"}, "schema": ["number"]
        }));
        assert_eq!(odd, SiteField::default());
        let typed_oddly =
            read(json!({"id": "x", "schema": {"type": null, "custom": [1], "items": {}}}));
        assert_eq!(typed_oddly.schema, Some(FieldType::default()));
        // A key given twice keeps its last value, as a JSON value would.
        let twice: SiteField = serde_json::from_str(r#"{"id": "a", "id": "b"}"#).unwrap();
        assert_eq!(twice.id(), Some("b"));
        let escaped: SiteField = serde_json::from_str(r#"{"i\u0064": "a\"b"}"#).unwrap();
        assert_eq!(escaped.id(), Some("a\"b"));
    }
}
