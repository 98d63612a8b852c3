//! The tap's state: bookmarks per stream and `currently_syncing`. Opaque to everyone else, so the
//! whole object read with `--state` is kept, and only our keys are changed.

use std::path::Path;

use serde_json::{Map, Value, json};

use crate::error::{Error, Result};

#[derive(Debug, Clone, Default, PartialEq)]
pub struct State {
    value: Map<String, Value>,
}

impl State {
    pub fn load(path: &Path) -> Result<State> {
        let object = crate::config::read_json_object(path, "state file")?;
        State::from_object(object)
    }

    /// Accepts the state itself, Meltano's `{"singer_state": …}` wrapper, or a STATE message line.
    pub fn from_object(mut object: Map<String, Value>) -> Result<State> {
        for wrapper in ["singer_state", "value"] {
            if object.len() <= 2
                && let Some(Value::Object(inner)) = object.get(wrapper)
            {
                object = inner.clone();
            }
        }
        match object.get("bookmarks") {
            None | Some(Value::Object(_)) => Ok(State { value: object }),
            Some(_) => Err(Error::State(
                "`bookmarks` must be an object; pass a state written by tap-jira (or Stitch's tap-jira)".into(),
            )),
        }
    }

    pub fn bookmark(&self, stream: &str) -> Option<&Value> {
        self.value.get("bookmarks")?.get(stream)
    }

    pub fn set_bookmark(&mut self, stream: &str, bookmark: Value) {
        let bookmarks = self.value.entry("bookmarks").or_insert_with(|| json!({}));
        if let Value::Object(map) = bookmarks {
            map.insert(stream.into(), bookmark);
        }
    }

    /// What the state says the filters were when it was written (`None`: no filters).
    pub fn filters(&self) -> Option<&Value> {
        self.value.get("filters")
    }

    pub fn set_filters(&mut self, filters: Option<Value>) {
        match filters {
            Some(filters) => self.value.insert("filters".into(), filters),
            None => self.value.remove("filters"),
        };
    }

    pub fn remove_bookmark(&mut self, stream: &str) -> Option<Value> {
        self.value
            .get_mut("bookmarks")?
            .as_object_mut()?
            .remove(stream)
    }

    pub fn set_currently_syncing(&mut self, stream: Option<&str>) {
        self.value.insert(
            "currently_syncing".into(),
            stream.map_or(Value::Null, |s| Value::String(s.into())),
        );
    }

    pub fn to_value(&self) -> Value {
        Value::Object(self.value.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(v: Value) -> Result<State> {
        State::from_object(v.as_object().unwrap().clone())
    }

    #[test]
    fn keeps_unknown_keys_and_unwraps_wrappers() {
        let mut s =
            state(json!({"bookmarks": {"worklogs": {"updated": "x"}}, "other": 1})).unwrap();
        s.set_bookmark("issues", json!({"updated": "y"}));
        s.set_currently_syncing(Some("issues"));
        assert_eq!(
            s.to_value(),
            json!({"bookmarks": {"worklogs": {"updated": "x"}, "issues": {"updated": "y"}},
            "other": 1, "currently_syncing": "issues"})
        );
        let meltano =
            state(json!({"singer_state": {"bookmarks": {"issues": {"updated": "z"}}}})).unwrap();
        assert_eq!(meltano.bookmark("issues"), Some(&json!({"updated": "z"})));
        let message = state(json!({"type": "STATE", "value": {"bookmarks": {}}})).unwrap();
        assert_eq!(message.to_value(), json!({"bookmarks": {}}));
        assert!(state(json!({"bookmarks": []})).is_err());
    }
}
