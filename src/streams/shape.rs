//! How an item of a response becomes a row: picked, lifted, and stamped with the values bound
//! from its parent records.

use serde_json::{Map, Value};

/// Values bound from a row's parent records (and theirs), by name, with their JSON type.
pub type Bound = Vec<(&'static str, Value)>;

/// The table's word on how items become rows.
#[derive(Debug, Clone, Copy)]
pub struct Shape {
    /// When not empty, the row is made of these only: `(name, JSON pointer into the item)`;
    /// the pointer `""` is the item itself (for lists of strings).
    pub pick: &'static [(&'static str, &'static str)],
    /// Top-level copies of nested values, `(name, JSON pointer)`, so that SQL needs no JSON.
    pub lift: &'static [(&'static str, &'static str)],
    /// Write a row once per run even when several parents list it (a sprint on two boards).
    pub dedupe: bool,
}

impl Shape {
    pub const AS_IS: Shape = Shape {
        pick: &[],
        lift: &[],
        dedupe: false,
    };

    /// The row made of `item`, with the `stamp`ed names of `bound` written in. A value the item
    /// lacks is left out, never written as null. An item that is not an object is a row only
    /// through `pick`.
    pub fn row(&self, item: Value, bound: &Bound, stamp: &[&str]) -> Value {
        let lifted: Vec<(&str, Value)> = self
            .lift
            .iter()
            .filter_map(|(name, pointer)| Some((*name, present(&item, pointer)?.clone())))
            .collect();
        let mut row: Map<String, Value> = if self.pick.is_empty() {
            match item {
                Value::Object(map) => map,
                other => return other,
            }
        } else {
            self.pick
                .iter()
                .filter_map(|(name, pointer)| {
                    Some((name.to_string(), present(&item, pointer)?.clone()))
                })
                .collect()
        };
        for (name, value) in lifted {
            row.entry(name).or_insert(value);
        }
        for (name, value) in bound {
            if stamp.contains(name) && !value.is_null() {
                row.insert((*name).to_string(), value.clone());
            }
        }
        Value::Object(row)
    }
}

/// The value at `pointer` (`""` is the item itself), unless absent or null.
fn present<'v>(item: &'v Value, pointer: &str) -> Option<&'v Value> {
    item.pointer(pointer).filter(|v| !v.is_null())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn picks_lifts_and_stamps() {
        let bound: Bound = vec![("sprintId", json!(7)), ("boardId", json!(2))];
        let membership = Shape {
            pick: &[("issueId", "/id"), ("issueKey", "/key")],
            ..Shape::AS_IS
        };
        assert_eq!(
            membership.row(
                json!({"id": "10", "key": "A-1", "self": "x"}),
                &bound,
                &["sprintId"]
            ),
            json!({"issueId": "10", "issueKey": "A-1", "sprintId": 7})
        );
        let label = Shape {
            pick: &[("label", "")],
            ..Shape::AS_IS
        };
        assert_eq!(label.row(json!("ux"), &vec![], &[]), json!({"label": "ux"}));
        let workflow = Shape {
            lift: &[("name", "/id/name"), ("holderType", "/holder/type")],
            ..Shape::AS_IS
        };
        assert_eq!(
            workflow.row(json!({"id": {"name": "W"}}), &vec![], &[]),
            json!({"id": {"name": "W"}, "name": "W"}),
            "absent values are not written"
        );
        assert_eq!(
            workflow.row(json!({"name": "Server", "id": null}), &vec![], &[]),
            json!({"name": "Server", "id": null}),
            "a value the item has is kept"
        );
    }
}
