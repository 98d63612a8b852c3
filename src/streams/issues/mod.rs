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
use crate::timestamp::parse_jira;

mod bookmark;
pub use bookmark::Bookmark;

/// The JQL of the first page: issues updated from `from` on, in the user's zone.
pub fn jql_from(from: DateTime<Utc>, tz: Tz) -> String {
    updated_since_jql(local_minute_at_or_before(from, tz))
}

/// Rows a restarted Server page reads again, in case edits moved rows up since the last page.
const REREAD_ROWS: u64 = 5;

/// Pages of the issues updated from `from` on, oldest first.
///
/// Cloud's `nextPageToken` carries the last row's sort values, so its pages never shift. Server's
/// `startAt` counts rows of a result that changes while it is read: an issue edited mid-sync
/// leaves its place and every later row moves up one, so plain offsets would skip rows. There each
/// page restarts the query at the minute of the newest issue read so far, a few rows early; the
/// caller drops the rows it has already emitted.
pub fn issue_pages<'a>(
    client: &'a JiraClient,
    from: DateTime<Utc>,
    tz: Tz,
    fields: &'a [String],
    page_size: u32,
) -> impl Stream<Item = Result<Page>> + 'a {
    async_stream::try_stream! {
        match client.deployment() {
            Deployment::Cloud => {
                let jql = jql_from(from, tz);
                let request = ApiRequest::post(client.api_path("search/jql"), json!({"jql": jql, "fields": fields}));
                let mut all = pin!(pages(client, request, Pagination::Token { items: "issues" }, page_size));
                while let Some(page) = all.try_next().await? {
                    yield page;
                }
            }
            Deployment::Server => {
                let mut window = Window::starting_at(from, tz);
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

/// The zone JQL dates are read in, and how far to widen a date bound because of it.
pub struct JqlZone {
    pub tz: Tz,
    pub slack: Duration,
}

/// The Jira user's time zone (`/myself` → `timeZone`). When Jira does not say, dates are written
/// in UTC and bounds widened by the largest UTC offset, so no zone can make them start late.
pub fn user_time_zone(myself: &Value) -> JqlZone {
    let zone = myself.get("timeZone").and_then(Value::as_str);
    match zone.map(str::parse::<Tz>) {
        Some(Ok(tz)) => JqlZone {
            tz,
            slack: Duration::zero(),
        },
        _ => {
            tracing::warn!(time_zone = ?zone, "the Jira user's time zone is unknown; searching from 14 hours early");
            JqlZone {
                tz: Tz::UTC,
                slack: Duration::hours(14),
            }
        }
    }
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
    fn jql_starts_at_the_minute_in_the_users_zone() {
        let from = utc("2024-01-31T13:05:42Z");
        assert_eq!(
            jql_from(from, chrono_tz::Asia::Kolkata),
            r#"updated >= "2024/01/31 18:35" ORDER BY updated ASC, key ASC"#
        );
        assert_eq!(
            jql_from(from - Duration::minutes(10), Tz::UTC),
            r#"updated >= "2024/01/31 12:55" ORDER BY updated ASC, key ASC"#
        );
    }

    #[test]
    fn an_unknown_user_zone_widens_the_bound() {
        assert_eq!(
            user_time_zone(&json!({"timeZone": "Asia/Kolkata"})).slack,
            Duration::zero()
        );
        let unknown = user_time_zone(&json!({"timeZone": "Mars/Olympus"}));
        assert_eq!((unknown.tz, unknown.slack), (Tz::UTC, Duration::hours(14)));
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
