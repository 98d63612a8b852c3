//! Server/Data Center issue search, paged by `startAt` without losing rows to edits.
//!
//! `startAt` counts rows of a result that changes while it is read: an issue edited mid-sync
//! leaves its place in `ORDER BY updated` and every later row moves up, so plain offsets would skip
//! rows. So each page restarts the query at the minute of the newest issue read, a few rows before
//! where it stopped, and checks that the last row read is among those few; when it is not, rows
//! moved further than that, and the minute is read again from its start. The caller drops rows it
//! has already written.
//!
//! A minute holding more rows than a page (a bulk change or import) would walk `startAt` through
//! all of them, and Data Center refuses a page past its search window (10,000 rows): such a minute
//! is listed by id instead, its issues then read in `updated` order by id, and the search goes on
//! at the next minute.

use std::pin::pin;

use chrono::{DateTime, Duration, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;
use futures::{Stream, TryStreamExt};
use serde_json::{Value, json};

use super::{IssueQuery, JqlZone, Scope, issues_with_ids, scope_jql, updated_since_jql};
use crate::client::{ApiRequest, JiraClient, Page, Progress, RawRecord, fingerprint, read_page};
use crate::error::{Error, Result};
use crate::jql::{Jql, Order, local_minute_at_or_before};
use crate::raw::{self, Node, RawObject};
use crate::timestamp::parse_jira;

/// Rows each page reads again, to find the last row read among them.
const REREAD_ROWS: u64 = 5;

/// A page brings at least this many new rows for each row it reads again (where the configured
/// page size allows): rows read again cost as much as new ones, and pages of heavy issues (a
/// site of thousands of custom fields) are asked a row or two at a time.
const NEW_ROWS_PER_REREAD: u64 = 4;

/// Times a sync may go back to a minute's start because rows moved, before it gives up.
const MAX_REREADS: u32 = 100;

pub(super) fn server_pages<'a>(
    client: &'a JiraClient,
    scope: &'a Scope,
    filter: &'a Jql,
    from: DateTime<Utc>,
    zone: JqlZone,
    query: &'a IssueQuery,
    page_size: u32,
) -> impl Stream<Item = Result<Page>> + 'a {
    async_stream::try_stream! {
        let path = client.api_path("search");
        let mut window = Window::starting_at(from, zone);
        let mut rereads = 0u32;
        let mut size = query.page_size(page_size);
        let mut first_page = true;
        // The rows each page brought beyond those read again, within one reading of a window: a
        // server that honours `startAt` over a list that repeats, with a total always ahead,
        // brings the same rows again and again.
        let mut progress = Progress::default();
        loop {
            let (start, reread) = window.next_request();
            let mut body = json!({
                "jql": updated_since_jql(window.local_minute, scope, filter),
                "fields": query.fields,
                "startAt": start,
                // The rows read again come on top of the page's new ones: a page of no more
                // rows than those would bring nothing new, which reads as the end.
                "maxResults": size.at_least(NEW_ROWS_PER_REREAD * reread) + reread,
            });
            if !query.expand.is_empty() {
                body["expand"] = json!(query.expand);
            }
            let request = ApiRequest::post(path.clone(), body).taking_apart(query.opening.clone());
            let (response, items) = read_page::<RawRecord>(client, request, Some("issues")).await?;
            size.after(items.iter().map(|item| item.get().len()).sum(), items.len());
            let total = response.get("total").and_then(Value::as_u64);
            if first_page {
                // What this search will give, as far as Jira knows: for the progress estimate.
                crate::metrics::stream("issues").expect(total.unwrap_or(0));
                first_page = false;
            }
            if window.rows_moved(reread, &items) {
                rereads += 1;
                if rereads > MAX_REREADS {
                    Err(Error::Shape {
                        url: path.clone(),
                        problem: "the search result kept moving under edits; run the sync again".into(),
                    })?;
                }
                tracing::debug!("rows moved while paging; reading the minute again from its start");
                window.read_again();
                progress = Progress::default();
                continue;
            }
            let n = items.len() as u64;
            // The end: Jira's total reached, or a page with nothing not read before.
            let nothing_new = start + n <= window.rows_read;
            let last = nothing_new || total.is_some_and(|t| start + n >= t);
            let fresh = fingerprint(items.iter().skip(reread as usize).map(RawRecord::get));
            progress.judge(fresh, !last, &path)?;
            let before = window.starts_at;
            let queried = window.local_minute;
            window.advance(start, &items, zone);
            // A page past the query's first, wholly inside one minute: the minute holds more
            // rows than a page, which offsets would have to walk through. Only a minute the
            // query reaches: one listed already, brought again by a server that does not
            // narrow its search, is left to the progress check.
            let crowded = (!last && start > 0)
                .then(|| crowded_minute(&items, zone))
                .flatten()
                .filter(|(minute, _)| *minute >= queried);
            if window.starts_at != before {
                progress = Progress::default();
            }
            yield Page { items, cut_short: false };
            if last {
                break;
            }
            if let Some((minute, next)) = crowded {
                tracing::debug!(%minute, "a minute of more issues than a page; reading it by id");
                let base = scope_jql(scope).and(filter);
                let mut listed = minute_by_id(client, &base, "updated", minute, next).await?;
                // In `updated` order, as the caller writes (and bookmarks) a search's rows.
                listed.sort_unstable_by_key(|(id, at)| (*at, *id));
                let ids: Vec<String> = listed.iter().map(|(id, _)| id.to_string()).collect();
                let ends_at = instant_of(next, zone.tz);
                for batch in ids.chunks(size.get().max(1) as usize) {
                    let mut pages = pin!(issues_with_ids(client, batch, filter, query, size.get()));
                    while let Some(mut page) = pages.try_next().await? {
                        // An issue edited since it was listed has left the minute: the search
                        // going on at the next minute brings it in its place, in `updated` order.
                        page.items.retain(|item| cursor_of(item).is_none_or(|(_, u)| u < ends_at));
                        yield page;
                    }
                }
                window = Window::at_minute(next, zone);
                rereads = 0;
                progress = Progress::default();
            }
        }
    }
}

/// Ids a page of a minute listed by id asks for (the most Jira gives a page of ids).
const ID_PAGE: u64 = 1000;

/// The issues whose `field` is in the local minute `[minute, next)` among those `base` covers, with
/// the instant each holds there, listed in pages of ids (`id > last ORDER BY id`) so that no offset
/// grows with the minute: Data Center refuses a page past its search window (10,000 rows), and a
/// bulk change or import can give one minute more issues than that.
pub(crate) async fn minute_by_id(
    client: &JiraClient,
    base: &Jql,
    field: &'static str,
    minute: NaiveDateTime,
    next: NaiveDateTime,
) -> Result<Vec<(u64, Option<DateTime<Utc>>)>> {
    let path = client.api_path("search");
    let pointer = format!("/fields/{field}");
    // In id order: the last one is where the next page starts.
    let mut listed: Vec<(u64, Option<DateTime<Utc>>)> = Vec::new();
    loop {
        let after = listed.last().map(|(id, _)| *id);
        let mut jql = base.clone().at_or_after(field, minute).before(field, next);
        if let Some(after) = after {
            jql = jql.id_after(after);
        }
        let jql = jql.order_by("id", Order::Asc).render();
        let body =
            json!({"jql": jql, "fields": ["id", field], "startAt": 0, "maxResults": ID_PAGE});
        let request = ApiRequest::post(path.clone(), body);
        let (response, items) = match read_page::<RawRecord>(client, request, Some("issues")).await
        {
            // The issue the listing stopped at was deleted since, and Jira refuses to compare
            // with an id it does not have: go on after the one before it.
            Err(Error::Http {
                status: 400,
                excerpt,
                ..
            }) if after.is_some_and(|id| super::named_as_missing(&excerpt, &id.to_string())) => {
                listed.pop();
                continue;
            }
            page => page?,
        };
        for item in &items {
            let Some(issue) = RawObject::parse(item.get()) else {
                continue;
            };
            let id = issue
                .get("id")
                .and_then(Node::text)
                .and_then(raw::id_text)
                .and_then(|id| id.parse::<u64>().ok());
            let at = issue
                .pointer(&pointer)
                .and_then(raw::as_str)
                .and_then(|t| parse_jira(&t));
            // Ids only grow: one not after the last is a row read before.
            if let Some(id) = id.filter(|id| listed.last().is_none_or(|(last, _)| id > last)) {
                listed.push((id, at));
            }
        }
        let total = response.get("total").and_then(Value::as_u64);
        // The end: Jira's total reached, or a page with no id not listed before (a server
        // that ignores `id >` ends here too).
        if listed.last().map(|(id, _)| *id) == after
            || total.is_some_and(|t| items.len() as u64 >= t)
        {
            return Ok(listed);
        }
    }
}

/// Where the next page starts: a query from the minute of the newest issue read, how many of its
/// rows were read, and the last of them.
#[derive(Debug)]
struct Window {
    local_minute: NaiveDateTime,
    /// The instant `local_minute` stands for: rows at or after it are in this query.
    starts_at: DateTime<Utc>,
    rows_read: u64,
    last_row: Option<String>,
}

impl Window {
    fn starting_at(t: DateTime<Utc>, zone: JqlZone) -> Window {
        let local_minute = local_minute_at_or_before(t - zone.slack, zone.tz);
        Window {
            local_minute,
            starts_at: instant_of(local_minute, zone.tz),
            rows_read: 0,
            last_row: None,
        }
    }

    /// A query from the start of a local minute that has one meaning.
    fn at_minute(local_minute: NaiveDateTime, zone: JqlZone) -> Window {
        Window {
            local_minute,
            starts_at: instant_of(local_minute, zone.tz),
            rows_read: 0,
            last_row: None,
        }
    }

    /// `startAt`, and how many rows before it were read already.
    fn next_request(&self) -> (u64, u64) {
        let reread = REREAD_ROWS.min(self.rows_read);
        (self.rows_read - reread, reread)
    }

    /// Whether the last row read is missing from the rows read again: rows before it left the
    /// result (edited, deleted) and the offsets no longer mean what they did.
    fn rows_moved(&self, reread: u64, items: &[RawRecord]) -> bool {
        let Some(last_row) = &self.last_row else {
            return false;
        };
        reread > 0
            && !items
                .iter()
                .take(reread as usize)
                .any(|item| cursor_of(item).is_some_and(|(id, _)| &id == last_row))
    }

    fn read_again(&mut self) {
        self.rows_read = 0;
        self.last_row = None;
    }

    fn advance(&mut self, start: u64, items: &[RawRecord], zone: JqlZone) {
        let rows: Vec<(String, DateTime<Utc>)> = items.iter().filter_map(cursor_of).collect();
        // A date no bookmark can hold (year 0 or 10000 and beyond) moves no query either.
        let newest = rows
            .iter()
            .map(|(_, updated)| *updated)
            .filter(|t| crate::timestamp::in_range(*t))
            .max();
        // The rows before the page are no newer than its first: when that one is older than a
        // new query's start, the page holds every row of the new query read so far. A start
        // further back (an hour, inside a repeated DST hour) was read past by earlier pages:
        // the query goes on where it is rather than count too few rows and read them again.
        let first = items
            .first()
            .and_then(cursor_of)
            .map(|(_, updated)| updated);
        // With an unknown zone Jira may read the new minute up to the slack earlier: a move is
        // made only when the rows it reads again are this page's, not the slack's every row.
        let covered =
            |w: &Window| start == 0 || first.is_some_and(|t| t < w.starts_at - zone.slack);
        let moved = newest
            .map(|t| Window::starting_at(t, zone))
            .filter(|w| w.starts_at > self.starts_at)
            .filter(covered)
            // A local minute a DST change repeats may be read as either of its instants: what
            // the new query holds ahead of the page is not known, so the query goes on.
            .filter(|w| {
                zone.tz
                    .from_local_datetime(&w.local_minute)
                    .single()
                    .is_some()
            });
        match moved {
            Some(mut next) => {
                // The page's tail in the new minute opens the new query: those rows are read.
                // With an unknown zone Jira reads the minute elsewhere: count nothing as read.
                if zone.slack.is_zero() {
                    next.rows_read =
                        rows.iter().filter(|(_, u)| *u >= next.starts_at).count() as u64;
                }
                *self = next;
            }
            None => self.rows_read = start + items.len() as u64,
        }
        if self.rows_read > 0 {
            self.last_row = rows.last().map(|(id, _)| id.clone());
        }
    }
}

/// The minute every row of `items` lies in, and the one after; `None` when they are in more than
/// one, with an unknown zone (Jira reads the minute somewhere else), or when a DST change gives
/// either minute two meanings.
fn crowded_minute(items: &[RawRecord], zone: JqlZone) -> Option<(NaiveDateTime, NaiveDateTime)> {
    let rows: Vec<DateTime<Utc>> = items.iter().filter_map(cursor_of).map(|(_, u)| u).collect();
    if rows.len() != items.len() {
        return None;
    }
    one_minute(&rows, zone)
}

/// The local minute every one of `instants` lies in, and the one after; `None` when they are in
/// more than one (or none), with an unknown zone, or when a DST change gives either minute two
/// meanings.
pub(crate) fn one_minute(
    rows: &[DateTime<Utc>],
    zone: JqlZone,
) -> Option<(NaiveDateTime, NaiveDateTime)> {
    let first = *rows.first()?;
    let minute = local_minute_at_or_before(first, zone.tz);
    let next = minute + Duration::minutes(1);
    let single = |m: &NaiveDateTime| zone.tz.from_local_datetime(m).single().is_some();
    if !zone.slack.is_zero() || !single(&minute) || !single(&next) {
        return None;
    }
    let (starts_at, ends_at) = (instant_of(minute, zone.tz), instant_of(next, zone.tz));
    rows.iter()
        .all(|u| starts_at <= *u && *u < ends_at)
        .then_some((minute, next))
}

/// The instant a local minute names (it exists: it came from an instant).
fn cursor_of(item: &RawRecord) -> Option<(String, DateTime<Utc>)> {
    super::cursor_of(&RawObject::parse(item.get())?)
}

fn instant_of(local_minute: NaiveDateTime, tz: Tz) -> DateTime<Utc> {
    // In a repeated DST hour Jira may read either meaning; a window moves to no such minute,
    // and the first one's rows are counted from its start, whichever it is.
    tz.from_local_datetime(&local_minute)
        .latest()
        .map_or_else(|| local_minute.and_utc(), |t| t.with_timezone(&Utc))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::timestamp::parse_jira;
    use chrono::Duration;

    const UTC: JqlZone = JqlZone {
        tz: Tz::UTC,
        slack: Duration::zero(),
    };

    fn issue(id: &str, updated: &str) -> RawRecord {
        RawRecord::from_string(json!({"id": id, "fields": {"updated": updated}}).to_string())
    }

    fn minute_of(n: usize, at: &str) -> Vec<RawRecord> {
        (0..n).map(|i| issue(&format!("m{i}"), at)).collect()
    }

    #[test]
    fn pages_reread_a_few_rows_and_restart_at_the_newest_minute() {
        let mut w = Window::starting_at(parse_jira("2024-05-01T10:00:30Z").unwrap(), UTC);
        assert_eq!(w.next_request(), (0, 0));
        // A page inside the first minute: the same query goes on, five rows early.
        let page = minute_of(20, "2024-05-01T10:00:40.000+0000");
        w.advance(0, &page, UTC);
        assert_eq!(w.next_request(), (15, 5));
        assert!(!w.rows_moved(5, &page[15..]));
        // A page reaching a later minute: the query restarts there, its two rows read.
        let mut later = page[15..].to_vec();
        later.push(issue("a", "2024-05-01T10:07:01.000+0000"));
        later.push(issue("b", "2024-05-01T10:07:02.000+0000"));
        w.advance(15, &later, UTC);
        assert_eq!(w.local_minute.to_string(), "2024-05-01 10:07:00");
        assert_eq!(w.next_request(), (0, 2));
        assert_eq!(w.last_row.as_deref(), Some("b"));
    }

    #[test]
    fn a_page_wholly_inside_one_minute_names_it_crowded() {
        let page = minute_of(10, "2024-05-01T10:07:40.000+0000");
        let (minute, next) = crowded_minute(&page, UTC).unwrap();
        assert_eq!(minute.to_string(), "2024-05-01 10:07:00");
        assert_eq!(next.to_string(), "2024-05-01 10:08:00");
        let mut spanning = page.clone();
        spanning.push(issue("b", "2024-05-01T10:08:00.000+0000"));
        assert_eq!(crowded_minute(&spanning, UTC), None);
        let slack = JqlZone {
            tz: Tz::UTC,
            slack: Duration::hours(14),
        };
        assert_eq!(crowded_minute(&page, slack), None);
        assert_eq!(crowded_minute(&[], UTC), None);
    }

    #[test]
    fn a_date_out_of_any_bookmark_range_moves_no_window() {
        let zone = JqlZone {
            tz: "America/Los_Angeles".parse().unwrap(),
            slack: Duration::zero(),
        };
        let mut w = Window::starting_at(parse_jira("2024-05-01T10:00:00Z").unwrap(), zone);
        let minute = w.local_minute;
        for far in [
            "-262143-01-01T00:00:00.000+0000",
            "+262142-12-31T23:59:59.000+0000",
        ] {
            w.advance(0, &[issue("a", far)], zone);
            assert_eq!(w.local_minute, minute, "{far}");
        }
    }

    #[test]
    fn a_missing_last_row_means_rows_moved() {
        let mut w = Window::starting_at(parse_jira("2024-05-01T10:00:00Z").unwrap(), UTC);
        let result = minute_of(40, "2024-05-01T10:00:40.000+0000");
        w.advance(0, &result[..20], UTC);
        let (start, reread) = w.next_request();
        assert_eq!((start, reread), (15, 5));
        // Six rows before the last one read were edited away: row 15 is now what was row 21,
        // and the five re-read rows no longer hold the last row read.
        assert!(w.rows_moved(reread, &result[21..]));
        w.read_again();
        assert_eq!(w.next_request(), (0, 0));
        // Four rows moving still leaves the last row read among the re-read ones.
        w.advance(0, &result[..20], UTC);
        assert!(!w.rows_moved(reread, &result[19..]));
    }

    #[test]
    fn a_minute_earlier_pages_read_past_opens_no_new_query() {
        // 08:00Z-09:00Z is the first pass of 01:00-02:00 in Los Angeles on 2024-11-03: a query
        // restarted there begins an hour back, at rows the earlier pages read.
        let zone = JqlZone {
            tz: "America/Los_Angeles".parse().unwrap(),
            slack: Duration::zero(),
        };
        let mut w = Window::starting_at(parse_jira("2024-11-03T06:00:00Z").unwrap(), zone);
        let at = |m: u32| format!("2024-11-03T08:{m:02}:30.000+0000");
        let result: Vec<RawRecord> = (0..40).map(|m| issue(&format!("m{m}"), &at(m))).collect();
        w.advance(0, &result[..10], zone);
        let (start, reread) = w.next_request();
        let page = &result[start as usize..start as usize + reread as usize + 10];
        w.advance(start, page, zone);
        assert_eq!(w.next_request(), (15, 5), "{w:?}");
        assert!(!w.rows_moved(5, &result[15..]));
    }

    #[test]
    fn with_an_unknown_zone_a_new_window_counts_nothing_as_read() {
        let slack = JqlZone {
            tz: Tz::UTC,
            slack: Duration::hours(14),
        };
        let mut w = Window::starting_at(parse_jira("2024-05-01T10:00:00Z").unwrap(), slack);
        assert_eq!(w.local_minute.to_string(), "2024-04-30 20:00:00");
        w.advance(0, &[issue("a", "2024-05-02T10:00:00.000+0000")], slack);
        assert_eq!(w.local_minute.to_string(), "2024-05-01 20:00:00");
        assert_eq!(w.next_request(), (0, 0));
    }
}
