//! The `issues` stream: JQL search in `updated` order (Cloud `/search/jql` with `nextPageToken`,
//! Server/DC `/search` with `startAt`), and the bookmark that makes it incremental and resumable.

use std::pin::pin;

use chrono::{DateTime, Duration, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;
use futures::{Stream, TryStreamExt};
use serde_json::{Value, json};

use crate::client::{ApiRequest, JiraClient, Page, Pagination, pages};
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
    updated_since_jql(local_minute_at_or_before(bookmark.updated - lookback, tz))
}

/// Rows a restarted Server page reads again, in case edits moved rows up since the last page.
const REREAD_ROWS: u64 = 5;

/// Pages of the issues updated since `since` (less the look-back), oldest first.
///
/// Cloud's `nextPageToken` carries the last row's sort values, so its pages never shift. Server's
/// `startAt` counts rows of a result that changes while it is read: an issue edited mid-sync
/// leaves its place and every later row moves up one, so plain offsets would skip rows. There each
/// page restarts the query at the minute of the newest issue read so far, a few rows early; the
/// caller drops the rows it has already emitted.
pub fn issue_pages<'a>(
    client: &'a JiraClient,
    since: &Bookmark,
    lookback: Duration,
    tz: Tz,
    fields: &'a [String],
    page_size: u32,
) -> impl Stream<Item = Result<Page>> + 'a {
    let start_from = since.updated - lookback;
    async_stream::try_stream! {
        match client.deployment() {
            Deployment::Cloud => {
                let jql = updated_since_jql(local_minute_at_or_before(start_from, tz));
                let request = ApiRequest::post(client.api_path("search/jql"), json!({"jql": jql, "fields": fields}));
                let mut all = pin!(pages(client, request, Pagination::Token { items: "issues" }, page_size));
                while let Some(page) = all.try_next().await? {
                    yield page;
                }
            }
            Deployment::Server => {
                let mut window = Window::starting_at(start_from, tz);
                loop {
                    let start = window.next_start();
                    let body = json!({
                        "jql": updated_since_jql(window.local_minute),
                        "fields": fields,
                        "startAt": start,
                        "maxResults": page_size,
                    });
                    let request = ApiRequest::post(client.api_path("search"), body);
                    let mut response = client.send_json(request).await?;
                    let total = response.get("total").and_then(Value::as_u64);
                    let items = match response.get_mut("issues").map(Value::take) {
                        Some(Value::Array(items)) => items,
                        None | Some(Value::Null) => Vec::new(),
                        Some(_) => Err(Error::Shape {
                            url: client.api_path("search"),
                            problem: "expected a list under `issues`".into(),
                        })?,
                    };
                    let n = items.len() as u64;
                    // The end: Jira's total reached, or a page with nothing not read before.
                    let nothing_new = start + n <= window.rows_read;
                    let last = nothing_new || total.is_some_and(|t| start + n >= t);
                    window.advance(start, &items, tz);
                    yield Page { items };
                    if last {
                        break;
                    }
                }
            }
        }
    }
}

/// `updated >= "<local minute>" ORDER BY updated ASC, key ASC`.
fn updated_since_jql(local_minute: NaiveDateTime) -> String {
    Jql::new()
        .at_or_after("updated", local_minute)
        .order_by("updated", Order::Asc)
        .order_by("key", Order::Asc)
        .render()
}

/// Where the next Server page starts: a query from the minute of the newest issue read, and how
/// many of its rows were already read.
struct Window {
    local_minute: NaiveDateTime,
    /// The instant `local_minute` stands for: rows at or after it are in this query.
    starts_at: DateTime<Utc>,
    rows_read: u64,
    last_page_len: u64,
}

impl Window {
    fn starting_at(t: DateTime<Utc>, tz: Tz) -> Window {
        let local_minute = local_minute_at_or_before(t, tz);
        Window {
            local_minute,
            starts_at: instant_of(local_minute, tz),
            rows_read: 0,
            last_page_len: 0,
        }
    }

    /// Re-reads a few rows, but always moves on by at least one.
    fn next_start(&self) -> u64 {
        let reread = REREAD_ROWS.min(self.last_page_len.saturating_sub(1));
        self.rows_read.saturating_sub(reread)
    }

    fn advance(&mut self, start: u64, items: &[Value], tz: Tz) {
        self.last_page_len = items.len() as u64;
        let newest = items
            .iter()
            .filter_map(cursor_of)
            .map(|(_, updated)| updated)
            .max();
        let moved = newest
            .map(|t| Window::starting_at(t, tz))
            .filter(|w| w.starts_at > self.starts_at);
        match moved {
            Some(mut next) => {
                // Rows of the new window already read: the page's tail in that minute or later.
                next.rows_read = items
                    .iter()
                    .filter_map(cursor_of)
                    .filter(|(_, updated)| *updated >= next.starts_at)
                    .count() as u64;
                next.last_page_len = self.last_page_len;
                *self = next;
            }
            None => self.rows_read = start + items.len() as u64,
        }
    }
}

/// The instant a local minute names (it exists: it came from an instant).
fn instant_of(local_minute: NaiveDateTime, tz: Tz) -> DateTime<Utc> {
    // In a repeated DST hour Jira may read the later meaning; counting from it only re-reads.
    tz.from_local_datetime(&local_minute)
        .latest()
        .map_or_else(|| local_minute.and_utc(), |t| t.with_timezone(&Utc))
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

    fn issue(id: &str, updated: &str) -> Value {
        json!({"id": id, "fields": {"updated": updated}})
    }

    #[test]
    fn a_server_window_rereads_a_few_rows_and_always_moves_on() {
        let tz = Tz::UTC;
        let mut w = Window::starting_at(utc("2024-05-01T10:00:30Z"), tz);
        assert_eq!(w.next_start(), 0);
        // A page all inside the first minute: the same query goes on, a few rows early.
        let minute: Vec<Value> = (0..20)
            .map(|i| issue(&i.to_string(), "2024-05-01T10:00:40.000+0000"))
            .collect();
        w.advance(0, &minute, tz);
        assert_eq!((w.rows_read, w.next_start()), (20, 15));
        // A page reaching a later minute: the query restarts there; its two rows were read.
        let mut later = minute.clone();
        later.push(issue("a", "2024-05-01T10:07:01.000+0000"));
        later.push(issue("b", "2024-05-01T10:07:02.000+0000"));
        w.advance(15, &later, tz);
        assert_eq!(w.local_minute.to_string(), "2024-05-01 10:07:00");
        assert_eq!((w.rows_read, w.next_start()), (2, 0));
        // Tiny pages still progress.
        w.advance(1, &[issue("c", "2024-05-01T10:07:03.000+0000")], tz);
        assert_eq!(w.next_start(), 2);
    }
}
