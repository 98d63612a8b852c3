//! Property tests of the parsers of what comes from outside (config, state, timestamps): they
//! never panic, and every timestamp they accept is written back in a form they accept again.

use proptest::prelude::*;
use serde_json::{Map, Value, json};

use tap_jira::config::{Config, DeletedIssues, RawConfig, SETTINGS, parse_start_date};
use tap_jira::streams::issues::Bookmark;
use tap_jira::sync::{State, check_state};
use tap_jira::timestamp::{format_utc, in_range, normalize, parse_in_range, parse_jira};

/// Strings shaped like timestamps, at every edge of their fields, and anything else.
fn timestamp_text() -> impl Strategy<Value = String> {
    prop_oneof![
        "[+-]?[0-9]{1,7}-[0-9]{1,2}-[0-9]{1,2}(T[0-9]{2}:[0-9]{2}(:[0-9]{2}(\\.[0-9]{0,10})?)?)?(Z|z|[+-][0-9]{2}:?[0-9]{2})?",
        "[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}[+-][0-9]{4}",
        ".{0,40}",
    ]
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(|f| json!(f)),
        timestamp_text().prop_map(Value::String),
        "[a-z_]{0,12}".prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 32, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(key(), inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Keys the parsers look for, and others.
fn key() -> impl Strategy<Value = String> {
    let names: Vec<String> = SETTINGS
        .iter()
        .map(|s| s.name.to_string())
        .chain(
            [
                "bookmarks",
                "issues",
                "worklogs",
                "updated",
                "window_start",
                "seen",
                "partitions",
                "deleted",
                "singer_state",
                "value",
                "*",
                "10000",
            ]
            .map(String::from),
        )
        .collect();
    prop_oneof![prop::sample::select(names), "[a-z_]{1,8}"]
}

fn object() -> impl Strategy<Value = Map<String, Value>> {
    prop::collection::btree_map(key(), json_value(), 0..12).prop_map(|m| m.into_iter().collect())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn timestamps_parse_without_panic_and_round_trip(text in timestamp_text()) {
        let _ = parse_start_date(&text);
        let mut value = json!({"t": text.clone()});
        normalize(&mut value);
        if let Ok(t) = parse_in_range(&text) {
            let written = format_utc(t);
            let again = parse_in_range(&written);
            prop_assert!(again.is_ok(), "{text} → {written} is refused: {again:?}");
            prop_assert_eq!(format_utc(again.unwrap()), written);
        }
        if let Some(t) = parse_jira(&text) {
            // Whatever Jira sends is written in a form read back the same, when in range.
            let written = format_utc(t);
            if in_range(t) {
                prop_assert!(parse_in_range(&written).is_ok(), "{text} → {written}");
            }
        }
    }

    #[test]
    fn configs_from_any_object_parse_without_panic(map in object()) {
        let _ = Config::from_raw(&RawConfig::from_map(map));
    }

    #[test]
    fn states_from_any_object_parse_without_panic_and_what_passes_writes_back(
        map in object(),
        start in 0i64..253_402_300_799_000,
    ) {
        let start = chrono::DateTime::from_timestamp_millis(start).unwrap();
        if let Ok(state) = State::from_object(map)
            && check_state(&state, start, DeletedIssues::Reconcile).is_ok()
            && let Ok(bookmark) = Bookmark::from_state(state.bookmark("issues"), start)
        {
            let written = bookmark.to_value();
            let again = Bookmark::parse(&written, "bookmarks.issues");
            prop_assert!(again.is_ok(), "{written} is refused: {again:?}");
        }
    }

    #[test]
    fn issue_bookmarks_from_any_value_parse_without_panic(value in json_value()) {
        if let Ok(bookmark) = Bookmark::parse(&value, "bookmarks.issues") {
            let written = bookmark.to_value();
            prop_assert!(Bookmark::parse(&written, "bookmarks.issues").is_ok(), "{written}");
        }
    }
}
