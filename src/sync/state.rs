//! The tap's state: bookmarks per stream and `currently_syncing`. Opaque to everyone else, so the
//! whole object read with `--state` is kept, and only our keys are changed.

use std::path::Path;

use serde_json::{Map, Value, json};

use crate::error::{Error, Result};

/// A bookmark's own part and, apart, its deletions' (`deleted`), which `issues` and `worklogs`
/// keep beside it. A bookmark that holds only deletions (kept through a change of filters) has no
/// own part: its stream starts from `start_date`.
pub fn split_deleted(saved: Option<Value>) -> (Option<Value>, Option<Value>) {
    match saved {
        Some(Value::Object(mut map)) => {
            let deleted = map.remove("deleted");
            ((!map.is_empty()).then_some(Value::Object(map)), deleted)
        }
        other => (other, None),
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct State {
    value: Map<String, Value>,
}

impl State {
    pub fn load(path: &Path) -> Result<State> {
        match crate::input::read_json_object_if_any(path, crate::input::STATE)? {
            Some(object) => State::from_object(object),
            // Schedulers create the file before the first run (`touch state.json`).
            None => {
                tracing::info!(
                    path = %path.display(),
                    "state file is empty: no bookmarks yet, every stream starts from start_date"
                );
                Ok(State::default())
            }
        }
    }

    /// Accepts the state itself, Meltano's `{"singer_state": …}` wrapper, what Meltano's state
    /// backends store (`{"completed": …, "partial": …}`), or a STATE message line.
    pub fn from_object(mut object: Map<String, Value>) -> Result<State> {
        // Read as Meltano reads it: the partial state (a run that failed) over the completed one.
        if object.keys().all(|k| k == "completed" || k == "partial")
            && let Some(Value::Object(completed)) = object.get("completed")
        {
            let mut merged = completed.clone();
            if let Some(Value::Object(partial)) = object.get("partial") {
                merge(&mut merged, partial.clone());
            }
            object = merged;
        }
        for wrapper in ["singer_state", "value"] {
            if object.len() <= 2
                && let Some(Value::Object(inner)) = object.get(wrapper)
            {
                object = inner.clone();
            }
        }
        // A config file given as the state (`--state config.json`) would read as no bookmarks,
        // and every STATE would carry its keys, credentials among them, to stdout.
        let settings: Vec<String> = object
            .keys()
            .filter(|key| {
                crate::config::SETTINGS
                    .iter()
                    .any(|s| s.name == key.as_str())
            })
            .map(|key| format!("`{key}`"))
            .collect();
        if !settings.is_empty() {
            return Err(Error::State(format!(
                "holds config settings ({}), not bookmarks: pass the state the tap wrote (the \
                 value of its last STATE message), not a config file",
                settings.join(", ")
            )));
        }
        // The catalog given as the state too: read as no bookmarks, and written whole in every
        // STATE.
        if object.get("streams").is_some_and(Value::is_array) {
            return Err(Error::State(
                "holds a catalog's `streams`, not bookmarks: pass the state the tap wrote (the \
                 value of its last STATE message) with --state, the catalog with --catalog"
                    .into(),
            ));
        }
        match object.get("bookmarks") {
            Some(Value::Object(bookmarks)) => {
                // `"issues": "2024-…"` would be read as no bookmark at all.
                if let Some((stream, _)) = bookmarks.iter().find(|(_, b)| !b.is_object()) {
                    return Err(Error::State(format!(
                        "bookmarks.{stream} must be an object ({{\"updated\": \"…\"}}); pass a \
                         state written by tap-jira, or remove bookmarks.{stream} to start it from start_date"
                    )));
                }
                Ok(State { value: object })
            }
            // Bookmarks outside `bookmarks`, or a wrapper with more keys than it is known by,
            // would silently be a first sync.
            None => match object.keys().find(|k| misplaced(k)) {
                Some(key) => Err(Error::State(format!(
                    "`{key}` is at the top level and there is no `bookmarks` object; pass the state \
                     itself ({{\"bookmarks\": {{…}}}}) as the tap wrote it"
                ))),
                None => Ok(State { value: object }),
            },
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

    /// The state as it is written in a STATE message, not copied.
    pub fn as_map(&self) -> &Map<String, Value> {
        &self.value
    }
}

/// Meltano's merge of a partial state onto a completed one: objects key by key, anything else
/// replaced.
fn merge(into: &mut Map<String, Value>, from: Map<String, Value>) {
    for (key, value) in from {
        match (into.get_mut(&key), value) {
            (Some(Value::Object(old)), Value::Object(new)) => merge(old, new),
            (_, value) => {
                into.insert(key, value);
            }
        }
    }
}

/// A top-level key that belongs inside a state or under its `bookmarks`.
fn misplaced(key: &str) -> bool {
    ["singer_state", "value"].contains(&key) || crate::streams::StreamDef::find(key).is_some()
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
        let e = state(json!({"bookmarks": {"issues": "2024-01-01"}})).unwrap_err();
        assert!(
            e.to_string().contains("bookmarks.issues must be an object"),
            "{e}"
        );
        let e = state(json!({"issues": {"updated": "2024-01-01"}})).unwrap_err();
        assert!(
            e.to_string().contains("`issues` is at the top level"),
            "{e}"
        );
        let e = state(json!({"singer_state": {"bookmarks": {}}, "a": 1, "b": 2})).unwrap_err();
        assert!(e.to_string().contains("`singer_state`"), "{e}");
        let stored = state(json!({
            "completed": {"singer_state": {"bookmarks": {"issues": {"updated": "a"},
                "worklogs": {"updated": "b", "at_updated": ["1"]}}}},
            "partial": {"singer_state": {"bookmarks": {"worklogs": {"updated": "c"}}}}}))
        .unwrap();
        assert_eq!(
            stored.to_value(),
            json!({"bookmarks": {"issues": {"updated": "a"},
                "worklogs": {"updated": "c", "at_updated": ["1"]}}})
        );
        assert!(state(json!({})).is_ok());
        assert!(state(json!({"currently_syncing": null, "x-tool": 1})).is_ok());
    }
}
