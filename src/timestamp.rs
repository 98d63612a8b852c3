//! Jira's timestamps (`2024-01-31T13:05:00.000+0000`, `-0800`, `-07:00`) and the RFC 3339 UTC form
//! (`2024-01-31T21:05:00.000Z`) that targets need.

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::Value;

/// Parses any timestamp Jira sends: RFC 3339, or its own offset without a colon.
pub fn parse_jira(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f%z")
        .or_else(|_| DateTime::parse_from_rfc3339(s))
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// The one format timestamps leave the tap in.
pub fn format_utc(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Rewrites, anywhere in a record, every date-time string that carries an offset other than `Z`.
/// Strings that merely look like one but do not parse are left alone.
pub fn normalize(value: &mut Value) {
    match value {
        Value::String(s) => {
            if has_offset_to_normalize(s)
                && let Some(t) = parse_jira(s)
            {
                *s = format_utc(t);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(normalize),
        Value::Object(map) => map.values_mut().for_each(normalize),
        _ => {}
    }
}

/// A cheap shape check before parsing: `YYYY-MM-DDTHH:MM:SS…±hhmm` or `…±hh:mm`.
fn has_offset_to_normalize(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() < 24 || b.len() > 40 {
        return false;
    }
    let shape = b[4] == b'-' && b[7] == b'-' && b[10] == b'T' && b[13] == b':' && b[16] == b':';
    let tail = &b[b.len() - 6..];
    let offset =
        matches!(tail[1], b'+' | b'-') || (matches!(tail[0], b'+' | b'-') && tail[3] == b':');
    shape && offset
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn jira_offsets_become_utc_z() {
        let mut v = json!({
            "a": "2024-01-31T13:05:00.000+0000",
            "b": ["2024-01-31T13:05:00.123-0800", "2015-06-18T09:00:00.000-07:00"],
            "c": "2024-01-31T13:05:00.000Z",
            "d": "2024-01-31",
            "e": "not 2024-01-31T13:05:00.000+0000",
            "f": 5
        });
        normalize(&mut v);
        assert_eq!(
            v,
            json!({
                "a": "2024-01-31T13:05:00.000Z",
                "b": ["2024-01-31T21:05:00.123Z", "2015-06-18T16:00:00.000Z"],
                "c": "2024-01-31T13:05:00.000Z",
                "d": "2024-01-31",
                "e": "not 2024-01-31T13:05:00.000+0000",
                "f": 5
            })
        );
    }

    #[test]
    fn parses_both_offset_styles() {
        let a = parse_jira("2024-01-31T13:05:00.000+0000").unwrap();
        let b = parse_jira("2024-01-31T13:05:00Z").unwrap();
        assert_eq!(a, b);
        assert_eq!(format_utc(a), "2024-01-31T13:05:00.000Z");
    }
}
