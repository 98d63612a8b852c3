//! The agile API's issue lists (`board/{id}/issue`, `sprint/{id}/issue`) on Server/Data Center,
//! read in windows of creation dates so no page passes the search window.

use std::collections::HashMap;

use chrono::{DateTime, TimeZone, Utc};
use futures::Stream;
use serde_json::{Value, json};

use super::deletions::issue_id;
use super::issues::user_time_zone;
use crate::client::{
    ApiRequest, JiraClient, Page, Pagination, Progress, RawRecord, fingerprint, read_page,
    warn_moved,
};
use crate::error::Result;
use crate::jql::{Jql, Order, local_minute_at_or_before};
use crate::raw::{self, RawObject};
use crate::timestamp::parse_jira;

/// Whether `path` and `pagination` name one of the agile API's issue lists: Data Center serves
/// them from its issue search (the board's filter), which refuses a page past its window.
pub fn is_issue_list(path: &str, pagination: Pagination) -> bool {
    path.starts_with("rest/agile/")
        && pagination
            == Pagination::Offset {
                items: Some("issues"),
            }
}

/// Pages of an agile issue list on Server/DC. Data Center refuses a page reaching past its search
/// platform's window (10,000 rows: "Search limit exceeded"), so, as the reconcile listing does,
/// each query asks for the issues created from the minute of the newest issue read (the `jql`
/// parameter, whose order replaces the board's), its offsets staying within a page or two. The
/// rows read again are dropped; only the ids of the current window are kept for that, so memory
/// does not grow with the board.
pub fn server_issue_list_pages(
    client: &JiraClient,
    request: ApiRequest,
    page_size: u32,
) -> impl Stream<Item = Result<Page>> + '_ {
    async_stream::try_stream! {
        let zone = user_time_zone(client.myself());
        let path = request.path.clone();
        let mut from = local_minute_at_or_before(DateTime::UNIX_EPOCH, zone.tz);
        let mut start = 0u64;
        let mut progress = Progress::default();
        // The ids read in the current window, with their creation instants.
        let mut listed: HashMap<u64, Option<DateTime<Utc>>> = HashMap::new();
        // The id of the last row read, when the next page goes on by offset after it.
        let mut last_read: Option<u64> = None;
        let mut moved = false;
        loop {
            // Within a window, a row deleted before `start` moves the later ones a place back:
            // the page is asked from the last row read, which must come first again, as
            // `pages` does.
            let overlap = last_read.filter(|_| start > 0);
            let asked_from = start - u64::from(overlap.is_some());
            let jql = Jql::new()
                .at_or_after("created", from)
                .order_by("created", Order::Asc)
                .order_by("key", Order::Asc)
                .render();
            let mut asked = request.clone();
            asked.set_param("jql", json!(jql));
            asked.set_param("fields", json!("key,created"));
            asked.set_param("startAt", json!(asked_from));
            let asked_size = if overlap.is_some() { page_size.max(2) } else { page_size };
            asked.set_param("maxResults", json!(asked_size));
            let (response, items) = read_page::<RawRecord>(client, asked, Some("issues")).await?;
            let n = items.len() as u64;
            // Past a page cut before what the account may not see was left out (`isLast: false`).
            let step = match (response.get("isLast").and_then(Value::as_bool),
                              response.get("maxResults").and_then(Value::as_u64)) {
                (Some(false), Some(cut)) => n.max(cut),
                _ => n,
            };
            let last = step == 0
                || response.get("isLast").and_then(Value::as_bool) == Some(true)
                || response
                    .get("total")
                    .and_then(Value::as_u64)
                    .is_some_and(|total| asked_from + step >= total);
            if let Some(read) = overlap
                && items.first().and_then(|item| issue_id(item.get())) != Some(read)
                && !moved
            {
                // A row may have moved into a page already read: the pass must not be activated.
                moved = true;
                warn_moved(&path);
                yield Page { items: Vec::new(), cut_short: true };
            }
            let whole = step == n;
            let last_id = items.last().and_then(|item| issue_id(item.get()));
            progress.judge(fingerprint(items.iter().map(RawRecord::get)), !last, &path)?;
            let mut newest: Option<DateTime<Utc>> = None;
            let mut fresh = Vec::new();
            for item in items {
                let created = RawObject::parse(item.get())
                    .and_then(|issue| issue.pointer("/fields/created").and_then(raw::as_str))
                    .and_then(|t| parse_jira(&t));
                newest = newest.max(created);
                if issue_id(item.get()).is_none_or(|id| listed.insert(id, created).is_none()) {
                    fresh.push(item);
                }
            }
            if !fresh.is_empty() {
                yield Page { items: fresh, cut_short: false };
            }
            if last {
                break;
            }
            // A local minute a DST change repeats may be read as its later instant, past rows
            // not yet read: the query goes on by offset.
            let next = newest
                .map(|t| local_minute_at_or_before(t - zone.slack, zone.tz))
                .and_then(|minute| Some((minute, zone.tz.from_local_datetime(&minute).single()?)));
            match next {
                Some((minute, at)) if minute > from => {
                    from = minute;
                    start = 0;
                    // Only rows created from the new window's start (as early as Jira may read
                    // it) can be read again: the others' ids are forgotten.
                    let since = at.with_timezone(&Utc) - zone.slack;
                    listed.retain(|_, created| created.is_none_or(|t| t >= since));
                    last_read = None;
                }
                _ => {
                    start = asked_from + step;
                    // Past a page cut before rows were left out, the last row read is not
                    // the one before `start`.
                    last_read = last_id.filter(|_| whole);
                }
            }
        }
    }
}
