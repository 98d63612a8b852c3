//! The `worklogs` stream's source: `/worklog/updated` lists the ids of worklogs changed since the
//! bookmark (oldest first, 1000 a page), `/worklog/list` gives their bodies, `/worklog/deleted`
//! lists those deleted; and the bookmark, which reads and writes Stitch's `{"updated": …}`.

use std::collections::HashSet;
use std::pin::pin;

use chrono::{DateTime, Utc};
use futures::{Stream, TryStreamExt};
use serde_json::{Value, json};

use crate::client::{
    ApiRequest, JiraClient, Progress, RawRecord, fingerprint, read_page, read_page_kept,
};
use crate::error::{Error, Result};
use crate::raw;
use crate::streams::id_text;
use crate::timestamp::{YEARS, bookmarkable, format_utc, parse_in_range};

/// Most ids `/worklog/list` takes at once.
const LIST_BATCH: usize = 1000;

/// The newest `updated` written, and the worklogs written at exactly that millisecond: Jira pages
/// by `since` alone, so the next request returns them again, and they are not written twice.
#[derive(Debug, Clone, PartialEq)]
pub struct Bookmark {
    pub updated: DateTime<Utc>,
    pub at_updated: Vec<String>,
    /// `at_updated`, to look an id up in: a server may list any number at one millisecond.
    at_updated_set: HashSet<String>,
}

impl Bookmark {
    /// Reads our state or Stitch's (`{"updated": "…+00:00"}`); starts at `start_date` when none.
    pub fn from_state(value: Option<&Value>, start_date: DateTime<Utc>) -> Result<Bookmark> {
        Self::read(
            value,
            start_date,
            "bookmarks.worklogs",
            "start from start_date",
        )
    }

    /// Reads the deletions' place, under `deleted`. Without it they are followed from the
    /// changes' bookmark: removing the whole bookmark would sync every worklog again.
    pub fn deleted_from_state(value: &Value, start_date: DateTime<Utc>) -> Result<Bookmark> {
        Self::read(
            Some(value),
            start_date,
            "bookmarks.worklogs.deleted",
            "follow deletions from bookmarks.worklogs.updated",
        )
    }

    /// `at` names the bookmark in errors, and `remedy` what removing it does.
    fn read(
        value: Option<&Value>,
        start_date: DateTime<Utc>,
        at: &str,
        remedy: &str,
    ) -> Result<Bookmark> {
        let Some(value) = value else {
            return Ok(Bookmark {
                updated: start_date,
                at_updated: Vec::new(),
                at_updated_set: HashSet::new(),
            });
        };
        let updated = match value.get("updated") {
            Some(Value::String(s)) => parse_in_range(s).map_err(|problem| {
                Error::State(format!("{at}.updated {problem}; remove {at} to {remedy}"))
            })?,
            _ => {
                return Err(Error::State(format!(
                    "{at} has no `updated` timestamp; remove it to {remedy}"
                )));
            }
        };
        let at_updated: Vec<String> = value
            .get("at_updated")
            .and_then(Value::as_array)
            .map(|ids| ids.iter().filter_map(id_text).collect())
            .unwrap_or_default();
        Ok(Bookmark {
            updated,
            at_updated_set: at_updated.iter().cloned().collect(),
            at_updated,
        })
    }

    /// The bookmark, or `t` when it is past it: the worklogs at its millisecond are forgotten, and
    /// what is listed again from `t` is written again.
    pub fn at_most(self, t: DateTime<Utc>) -> Bookmark {
        if self.updated <= t {
            return self;
        }
        Bookmark {
            updated: t,
            at_updated: Vec::new(),
            at_updated_set: HashSet::new(),
        }
    }

    pub fn to_value(&self) -> Value {
        let mut value = json!({"updated": format_utc(self.updated)});
        if !self.at_updated.is_empty() {
            value["at_updated"] = json!(self.at_updated);
        }
        value
    }

    fn already_written(&self, id: &str, updated_ms: i64) -> bool {
        updated_ms < self.updated.timestamp_millis()
            || (updated_ms == self.updated.timestamp_millis() && self.at_updated_set.contains(id))
    }

    /// Notes one written worklog; the bookmark only moves forward.
    pub fn record(&mut self, id: &str, updated_ms: i64) {
        let current = self.updated.timestamp_millis();
        if updated_ms > current {
            match DateTime::from_timestamp_millis(updated_ms) {
                Some(t) if bookmarkable(t, Utc::now()) => {
                    self.updated = t;
                    self.at_updated = vec![id.to_string()];
                    self.at_updated_set = HashSet::from([id.to_string()]);
                }
                // Written, but a bookmark there would be refused or skip every later change.
                _ => tracing::warn!(
                    worklog = id,
                    updated_ms,
                    "a worklog's `updated` is outside the {YEARS} or in the future; written, \
                     but the bookmark stays where it was"
                ),
            }
        } else if updated_ms == current && self.at_updated_set.insert(id.to_string()) {
            self.at_updated.push(id.to_string());
        }
    }

    /// Moves the bookmark to the `until` of a page that is not the last: Jira has listed every
    /// worklog changed up to then, and left out those the account may not see, so a run of
    /// hidden worklogs is not read again by every later sync. Says whether the bookmark is at
    /// or past `until` (not when `until` is far in the future, or past year 9999).
    fn cover(&mut self, until_ms: i64) -> bool {
        if until_ms <= self.updated.timestamp_millis() {
            return true;
        }
        match DateTime::from_timestamp_millis(until_ms)
            .filter(|until| bookmarkable(*until, Utc::now()))
        {
            Some(until) => {
                self.updated = until;
                self.at_updated.clear();
                self.at_updated_set.clear();
                true
            }
            None => false,
        }
    }
}

/// One page of changed worklogs, and the bookmark that covers them and every page before.
#[derive(Debug)]
pub struct WorklogPage {
    /// Each worklog's JSON text: written as it came but for what the catalog changes.
    pub worklogs: Vec<RawRecord>,
    pub bookmark: Bookmark,
}

/// Worklogs changed since the bookmark, a `worklog/list` batch at a time, each without those
/// already written, in this run or before it (Jira repeats a page's last millisecond at the start
/// of the next). A page of changes is written batch by batch, never gathered whole: the batches
/// before its last carry the bookmark from before the page, the last the one that covers it.
/// `with_properties` asks for each worklog's `properties`, which Jira sends only when asked.
pub fn changed_worklogs(
    client: &JiraClient,
    bookmark: Bookmark,
    with_properties: bool,
) -> impl Stream<Item = Result<WorklogPage>> + '_ {
    async_stream::try_stream! {
        let mut before = bookmark.clone();
        let mut pages = pin!(fresh_changes(client, UPDATED, bookmark));
        while let Some((changes, bookmark)) = pages.try_next().await? {
            // A page without changes is one empty batch: its bookmark is still given.
            let batches: Vec<&[(String, i64)]> = if changes.is_empty() {
                vec![&[]]
            } else {
                changes.chunks(LIST_BATCH).collect()
            };
            let last = batches.len() - 1;
            for (at, batch) in batches.into_iter().enumerate() {
                let ids: Vec<Value> = batch
                    .iter()
                    .map(|(id, _)| id.parse::<u64>().map_or_else(|_| json!(id), |n| json!(n)))
                    .collect();
                let worklogs = if ids.is_empty() {
                    Vec::new()
                } else {
                    let mut list =
                        ApiRequest::post(client.api_path("worklog/list"), json!({"ids": ids}));
                    if with_properties {
                        list = list.query("expand", "properties");
                    }
                    let list = list.taking_records_apart();
                    read_page::<RawRecord>(client, list, None).await?.1
                };
                // Worklogs deleted since they were listed are not in the bodies; they are still
                // covered.
                let bookmark = if at == last { bookmark.clone() } else { before.clone() };
                yield WorklogPage { worklogs, bookmark };
            }
            before = bookmark;
        }
    }
}

/// Pages of the ids of worklogs deleted since the bookmark, with when, and the bookmark that
/// covers them.
pub fn deleted_worklogs(
    client: &JiraClient,
    bookmark: Bookmark,
) -> impl Stream<Item = Result<(Changes, Bookmark)>> + '_ {
    fresh_changes(client, DELETED, bookmark)
}

const UPDATED: &str = "worklog/updated";
const DELETED: &str = "worklog/deleted";

/// `(worklogId, updatedTime)` of each worklog a page lists.
type Changes = Vec<(String, i64)>;

/// `changes` since the bookmark without those already written (Jira repeats a page's last
/// millisecond at the start of the next), each page with the bookmark that covers it.
fn fresh_changes<'a>(
    client: &'a JiraClient,
    endpoint: &'static str,
    mut bookmark: Bookmark,
) -> impl Stream<Item = Result<(Changes, Bookmark)>> + 'a {
    async_stream::try_stream! {
        let since = bookmark.updated.timestamp_millis();
        let mut pages = pin!(changes(client, endpoint, since));
        while let Some(page) = pages.try_next().await? {
            let fresh: Changes = page
                .rows
                .into_iter()
                .filter(|(id, at)| !bookmark.already_written(id, *at))
                .collect();
            for (id, at) in &fresh {
                bookmark.record(id, *at);
            }
            let covered = page.until.is_some_and(|until| bookmark.cover(until));
            if let Some(stall) = page.stalled {
                // Only Jira's hiding thins `worklog/updated`; when the bookmark is past the thin
                // pages, the next sync goes on from there. Anything else is a server that loops.
                if endpoint != UPDATED || !covered {
                    Err(stall)?;
                }
                tracing::warn!(
                    "{MAX_EMPTY_WORKLOG_PAGES} pages of {endpoint} in a row brought no worklog this \
                     account may see (Jira leaves out those restricted to a group or role it is \
                     not in); worklogs changed after {} are read by the next sync, which starts there",
                    format_utc(bookmark.updated)
                );
                yield (fresh, bookmark.clone());
                break;
            }
            yield (fresh, bookmark.clone());
        }
    }
}

/// Pages in a row that bring no worklog not met before, after which a sync reads no further.
/// Jira decides a page's `until` from all its rows and then leaves out those the account may not
/// see, so a run of hidden worklogs gives empty pages that point further: 200 of them is 200,000
/// hidden worklogs in a row. The bookmark has moved past them, and the next sync goes on from
/// there; a server that sends such pages for ever, `until` a millisecond ahead each time, costs
/// each sync 200 requests. Where the bookmark cannot follow (an `until` far in the future), or on
/// `worklog/deleted`, which Jira does not thin, paging that stalls is an error.
const MAX_EMPTY_WORKLOG_PAGES: u32 = 200;

/// A page of `/worklog/updated` or `/worklog/deleted`: its rows, its `until` when it is not the
/// last, and why paging stopped when it has stalled.
struct ChangesPage {
    rows: Changes,
    until: Option<i64>,
    stalled: Option<Error>,
}

/// Pages of `/worklog/updated` or `/worklog/deleted` from `since` on, up to and including the
/// page on which paging stalls. Jira pages them by `since` alone, so a page that does not move
/// it is an error, not a loop.
fn changes<'a>(
    client: &'a JiraClient,
    endpoint: &'static str,
    mut since: i64,
) -> impl Stream<Item = Result<ChangesPage>> + 'a {
    async_stream::try_stream! {
        let path = client.api_path(endpoint);
        let mut seen_pages: HashSet<i64> = HashSet::new();
        let mut progress = Progress::patient(MAX_EMPTY_WORKLOG_PAGES);
        loop {
            let request = ApiRequest::get(path.clone()).query("since", since.to_string());
            // Each row is read where it lies in the page, not as a JSON value: a page of many
            // rows held as values cost thirteen times its size.
            let (body, rows) = read_page_kept(client, request, "values", change_of).await?;
            let last_page = body.get("lastPage").and_then(Value::as_bool).unwrap_or(true);
            let until = body.get("until").and_then(Value::as_i64);
            let past_until = body.get("nextPage").and_then(Value::as_str).and_then(since_of);
            let keys: Vec<String> = rows.iter().map(|(id, at)| format!("{id}@{at}")).collect();
            let stalled = progress
                .judge(fingerprint(keys.iter().map(String::as_str)), !last_page, &path)
                .err();
            // Where the next page starts, after `until` (whose millisecond's rows come again)...
            let next = match until {
                Some(until) if !last_page => {
                    // ...or a millisecond past it, when the page holds every row of that one.
                    let next = match past_until {
                        Some(past) if until.checked_add(1) == Some(past) => past,
                        _ => until,
                    };
                    if until < since || !seen_pages.insert(next) {
                        Err(Error::Shape {
                            url: path.clone(),
                            problem: format!(
                                "worklog paging did not advance past {until}; more than 1000 worklogs \
                                 share one millisecond"
                            ),
                        })?;
                    }
                    Some((until, next))
                }
                _ => None,
            };
            let stop = stalled.is_some();
            yield ChangesPage { rows, until: next.map(|(until, _)| until), stalled };
            match next {
                Some((_, next)) if !stop => since = next,
                _ => break,
            }
        }
    }
}

/// The `since` of a page's `nextPage` link.
fn since_of(next_page: &str) -> Option<i64> {
    let url = url::Url::parse(next_page).ok()?;
    let (_, since) = url.query_pairs().find(|(key, _)| key == "since")?;
    since.parse().ok()
}

/// A row of `/worklog/updated` or `/worklog/deleted`: its `worklogId` (a string or a number) and
/// its `updatedTime` (an integer).
fn change_of(row: &RawRecord) -> Option<(String, i64)> {
    let text = row.get();
    let id = raw::field(text, "worklogId").and_then(raw::id_text)?;
    let at = serde_json::from_str::<Value>(raw::field(text, "updatedTime")?).ok()?;
    Some((id, at.as_i64()?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::timestamp::parse_jira;

    fn at(ms: i64) -> DateTime<Utc> {
        DateTime::from_timestamp_millis(ms).unwrap()
    }

    #[test]
    fn reads_stitch_state_and_round_trips_ours() {
        let stitch = json!({"updated": "2024-05-01T10:00:00+00:00"});
        let b = Bookmark::from_state(Some(&stitch), at(0)).unwrap();
        assert_eq!(b.updated, parse_jira("2024-05-01T10:00:00Z").unwrap());
        assert!(b.at_updated.is_empty());
        let mut ours = b.clone();
        ours.record("7", b.updated.timestamp_millis());
        assert_eq!(
            Bookmark::from_state(Some(&ours.to_value()), at(0)).unwrap(),
            ours
        );
        assert!(Bookmark::from_state(Some(&json!({"updated": "yesterday"})), at(0)).is_err());
        assert!(Bookmark::from_state(Some(&json!({})), at(0)).is_err());
    }

    #[test]
    fn the_bookmark_moves_forward_and_remembers_its_millisecond() {
        let mut b = Bookmark::from_state(None, at(1000)).unwrap();
        b.record("1", 2000);
        b.record("2", 2000);
        b.record("0", 1500);
        assert_eq!(
            (b.updated, b.at_updated.clone()),
            (at(2000), vec!["1".into(), "2".into()])
        );
        assert!(b.already_written("1", 2000) && b.already_written("9", 1999));
        assert!(!b.already_written("3", 2000) && !b.already_written("1", 2001));
        b.record("4", 3000);
        assert_eq!(b.at_updated, vec!["4".to_string()]);
    }

    #[test]
    fn a_page_that_is_not_the_last_moves_the_bookmark_to_its_until() {
        let mut b = Bookmark::from_state(None, at(1000)).unwrap();
        b.record("1", 2000);
        // A worklog at `until` was written: the bookmark is there and remembers it.
        assert!(b.cover(2000));
        assert_eq!(
            (b.updated, b.at_updated.clone()),
            (at(2000), vec!["1".into()])
        );
        // Hidden worklogs up to `until`: none of them is read again.
        assert!(b.cover(5000));
        assert_eq!((b.updated, b.at_updated.is_empty()), (at(5000), true));
        assert!(b.already_written("9", 4999) && !b.already_written("9", 5000));
        // Never backwards, never into the far future.
        assert!(b.cover(3000));
        let year_3000 = parse_jira("3000-01-01T00:00:00Z")
            .unwrap()
            .timestamp_millis();
        assert!(!b.cover(year_3000));
        assert_eq!(b.updated, at(5000));
    }
}
