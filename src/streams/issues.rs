//! The `issues` stream: JQL search in `updated` order (Cloud `/search/jql` with `nextPageToken`,
//! Server/DC `/search` with `startAt`), and the bookmark that makes it incremental and resumable.

use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;
use serde_json::{Value, json};

use crate::client::{ApiRequest, JiraClient, Pagination};
use crate::config::Deployment;
use crate::error::{Error, Result};
use crate::jql::{Jql, Order, local_minute_at_or_before};
use crate::timestamp::{format_utc, parse_jira};

/// How far the issues stream got: the greatest `updated` emitted, and the ids emitted at exactly
/// that instant. JQL is minute-granular, so a rerun sees that minute again; the ids let it skip
/// what it already emitted without dropping another issue updated in the same millisecond.
#[derive(Debug, Clone, PartialEq)]
pub struct Bookmark {
    pub updated: DateTime<Utc>,
    pub ids: Vec<String>,
}

impl Bookmark {
    /// Reads our state, or Stitch's (`{"updated": "...+00:00", "offset": {...}}`); the start date
    /// when there is none.
    pub fn from_state(value: Option<&Value>, start_date: DateTime<Utc>) -> Result<Bookmark> {
        let Some(value) = value else {
            return Ok(Bookmark {
                updated: start_date,
                ids: Vec::new(),
            });
        };
        let updated = value.get("updated").and_then(Value::as_str).ok_or_else(|| {
            Error::State("bookmarks.issues has no `updated` timestamp; remove it to start from start_date".into())
        })?;
        let updated = parse_jira(updated).ok_or_else(|| {
            Error::State(format!(
                "bookmarks.issues.updated `{updated}` is not an RFC 3339 timestamp"
            ))
        })?;
        let ids = value
            .get("ids_at_updated")
            .and_then(Value::as_array)
            .map(|ids| {
                ids.iter()
                    .filter_map(Value::as_str)
                    .map(String::from)
                    .collect()
            })
            .unwrap_or_default();
        Ok(Bookmark { updated, ids })
    }

    pub fn to_value(&self) -> Value {
        json!({"updated": format_utc(self.updated), "ids_at_updated": self.ids})
    }

    /// Whether an earlier run already emitted this issue version. With a look-back, everything
    /// inside the look-back window is emitted again.
    pub fn covers(&self, updated: DateTime<Utc>, id: &str, lookback: Duration) -> bool {
        if lookback > Duration::zero() {
            updated < self.updated - lookback
        } else {
            updated < self.updated || (updated == self.updated && self.ids.iter().any(|i| i == id))
        }
    }

    pub fn advance(&mut self, updated: DateTime<Utc>, id: &str) {
        if updated > self.updated {
            self.updated = updated;
            self.ids = vec![id.to_string()];
        } else if updated == self.updated && !self.ids.iter().any(|i| i == id) {
            self.ids.push(id.to_string());
        }
    }
}

/// The JQL for issues updated since the bookmark (less the look-back), in the user's zone.
pub fn incremental_jql(bookmark: &Bookmark, lookback: Duration, tz: Tz) -> String {
    let since = local_minute_at_or_before(bookmark.updated - lookback, tz);
    Jql::new()
        .at_or_after("updated", since)
        .order_by("updated", Order::Asc)
        .order_by("key", Order::Asc)
        .render()
}

/// The search request: POST, so a long field list never makes the URL too long.
pub fn search_request(
    client: &JiraClient,
    jql: &str,
    fields: &[String],
) -> (ApiRequest, Pagination) {
    let body = json!({"jql": jql, "fields": fields});
    match client.deployment() {
        Deployment::Cloud => (
            ApiRequest::post(client.api_path("search/jql"), body),
            Pagination::Token { items: "issues" },
        ),
        Deployment::Server => (
            ApiRequest::post(client.api_path("search"), body),
            Pagination::Offset {
                items: Some("issues"),
            },
        ),
    }
}

/// The Jira user's time zone, in which JQL dates are read (`/myself` → `timeZone`).
pub async fn user_time_zone(client: &JiraClient) -> Result<Tz> {
    let myself = client
        .send_json(ApiRequest::get(client.api_path("myself")))
        .await?;
    let zone = myself.get("timeZone").and_then(Value::as_str);
    Ok(match zone.map(str::parse::<Tz>) {
        Some(Ok(tz)) => tz,
        _ => {
            tracing::warn!(time_zone = ?zone, "the Jira user's time zone is unknown; JQL dates are taken as UTC");
            Tz::UTC
        }
    })
}

/// The issue's id and `updated` instant, which order and bookmark the stream.
pub fn cursor_of(issue: &Value) -> Option<(String, DateTime<Utc>)> {
    let id = match issue.get("id")? {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        _ => return None,
    };
    let updated = parse_jira(issue.pointer("/fields/updated")?.as_str()?)?;
    Some((id, updated))
}

/// Copies `fields.updated` and `fields.created` to the top level, where Singer expects the
/// replication key.
pub fn hoist_timestamps(issue: &mut Value) {
    for key in ["updated", "created"] {
        if let Some(value) = issue.pointer(&format!("/fields/{key}")).cloned()
            && let Some(map) = issue.as_object_mut()
        {
            map.insert(key.into(), value);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        parse_jira(s).unwrap()
    }

    #[test]
    fn reads_our_state_and_stitchs() {
        let ours = Bookmark::from_state(
            Some(&json!({"updated": "2024-05-01T10:00:00.000Z", "ids_at_updated": ["7"]})),
            utc("2020-01-01T00:00:00Z"),
        )
        .unwrap();
        assert_eq!(
            ours,
            Bookmark {
                updated: utc("2024-05-01T10:00:00Z"),
                ids: vec!["7".into()]
            }
        );
        let stitch = Bookmark::from_state(
            Some(&json!({"updated": "2024-05-01T10:00:00+00:00", "offset": {"page_num": null}})),
            utc("2020-01-01T00:00:00Z"),
        )
        .unwrap();
        assert_eq!(stitch.updated, utc("2024-05-01T10:00:00Z"));
        assert!(
            Bookmark::from_state(
                Some(&json!({"updated": "yesterday"})),
                utc("2020-01-01T00:00:00Z")
            )
            .is_err()
        );
    }

    #[test]
    fn skips_exactly_what_was_emitted() {
        let b = Bookmark {
            updated: utc("2024-05-01T10:00:00.500Z"),
            ids: vec!["1".into()],
        };
        let none = Duration::zero();
        assert!(b.covers(utc("2024-05-01T10:00:00.100Z"), "9", none));
        assert!(b.covers(utc("2024-05-01T10:00:00.500Z"), "1", none));
        assert!(
            !b.covers(utc("2024-05-01T10:00:00.500Z"), "2", none),
            "a tie not yet emitted"
        );
        assert!(
            !b.covers(utc("2024-05-01T10:00:00.600Z"), "1", none),
            "a newer version"
        );
        assert!(!b.covers(utc("2024-05-01T09:58:00Z"), "9", Duration::minutes(5)));
    }

    #[test]
    fn advances_and_tracks_ties() {
        let mut b = Bookmark {
            updated: utc("2024-05-01T10:00:00Z"),
            ids: vec![],
        };
        b.advance(utc("2024-05-01T11:00:00Z"), "1");
        b.advance(utc("2024-05-01T11:00:00Z"), "2");
        b.advance(utc("2024-05-01T09:00:00Z"), "3");
        assert_eq!(
            b,
            Bookmark {
                updated: utc("2024-05-01T11:00:00Z"),
                ids: vec!["1".into(), "2".into()]
            }
        );
    }

    #[test]
    fn jql_starts_at_the_bookmarks_minute_in_the_users_zone() {
        let b = Bookmark {
            updated: utc("2024-01-31T13:05:42Z"),
            ids: vec![],
        };
        assert_eq!(
            incremental_jql(&b, Duration::zero(), chrono_tz::Asia::Kolkata),
            r#"updated >= "2024/01/31 18:35" ORDER BY updated ASC, key ASC"#
        );
        assert_eq!(
            incremental_jql(&b, Duration::minutes(10), Tz::UTC),
            r#"updated >= "2024/01/31 12:55" ORDER BY updated ASC, key ASC"#
        );
    }
}
