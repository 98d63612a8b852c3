//! Worklogs across issues: `worklog/updated` and `worklog/deleted` (ids changed or deleted
//! since a time, paged by `since`) and `worklog/list` (the worklogs with given ids). Worklogs
//! hidden from the account (`SimConfig::hidden_worklogs_every`) are left out of
//! `worklog/updated` and `worklog/list`, as Jira leaves out those the account may not see.

use std::collections::HashSet;

use axum::response::Response;
use serde_json::{Value, json};

use super::Call;
use super::respond::{Rejection, Reply, ok};
use crate::render::issue::worklog;
use crate::render::object;
use crate::site::{Site, WorklogEntry};

/// Most ids `worklog/list` takes.
const LIST_MAX: usize = 1000;

/// Where a page of `rows` (ordered, all at or after `since`) ends, and the `since` of the next
/// page (`None` on the last page).
///
/// A page holds the first `size` rows (Jira: 1000) and the next one starts at `since = until`,
/// so the rows sharing the boundary millisecond come again (Jira pages by `since` alone: the
/// client dedupes). When all `size` rows share one millisecond, that would give the same page
/// forever: then the page grows to hold every row of that millisecond and the next one starts
/// a millisecond later (`until + 1`), which skips nothing.
pub(crate) fn page_end(rows: &[WorklogEntry], size: usize) -> (usize, Option<i64>) {
    let size = size.max(1);
    if rows.len() <= size {
        return (rows.len(), None);
    }
    let first = rows[0].updated;
    let last = rows[size - 1].updated;
    if first != last {
        return (size, Some(last));
    }
    let end = rows.partition_point(|e| e.updated <= first);
    (end, (end < rows.len()).then_some(first + 1))
}

/// `GET worklog/updated?since=<epoch ms>`: `{values, since, until, self, nextPage?, lastPage}`.
pub(crate) fn updated(call: &Call) -> Response {
    let site = call.shared.site();
    let visible = |e: &WorklogEntry| !site.worklog_hidden(e.id);
    changes(
        call,
        &site,
        site.worklog_index(),
        "worklog/updated",
        visible,
    )
}

/// `GET worklog/deleted?since=<epoch ms>`: the worklogs deleted since then, on their own or
/// with their issue, `updatedTime` being the deletion time; paged as `worklog/updated`.
/// Jira asks only for access to Jira here, not for leave to see each worklog: hidden worklogs
/// are listed too.
pub(crate) fn deleted(call: &Call) -> Response {
    let site = call.shared.site();
    changes(
        call,
        &site,
        &site.worklog_deletions,
        "worklog/deleted",
        |_| true,
    )
}

/// A page of `all` (ascending) from `since`, as `worklog/updated` and `worklog/deleted` give
/// it. Changes in the settling time before the request are left out, as Jira does. The page,
/// its `until` and whether it is the last are decided over every row; only then are the rows
/// not `shown` dropped, so a page may come short, or empty, and still point further.
fn changes(
    call: &Call,
    site: &Site,
    all: &[WorklogEntry],
    path: &str,
    shown: impl Fn(&WorklogEntry) -> bool,
) -> Response {
    let since = call.req.number("since").unwrap_or(0);
    let settling = i64::try_from(call.shared.worklog_settling_ms()).unwrap_or(i64::MAX);
    let cutoff = site.now_ms().saturating_sub(settling);
    let ctx = call.ctx(site);
    let start = all.partition_point(|e| e.updated < since);
    // "During the minute preceding the request": up to and with the cutoff millisecond.
    let end = all.partition_point(|e| e.updated <= cutoff).max(start);
    let rows = &all[start..end];
    let (taken, next_since) = page_end(rows, call.shared.cfg.worklog_page_size);
    let page = &rows[..taken];
    let values: Vec<Value> = page
        .iter()
        .filter(|e| shown(e))
        .map(|e| json!({ "worklogId": e.id, "updatedTime": e.updated, "properties": [] }))
        .collect();
    let until = page.last().map_or(since, |e| e.updated);
    let url = |since: i64| ctx.rest(&format!("{path}?since={since}"));
    ok(&object([
        ("values", Some(json!(values))),
        ("since", Some(json!(since))),
        ("until", Some(json!(until))),
        ("self", Some(json!(url(since)))),
        ("nextPage", next_since.map(|s| json!(url(s)))),
        ("lastPage", Some(json!(next_since.is_none()))),
    ]))
}

/// A worklog id as a client may send it: a number, or a number in a string.
fn worklog_id(value: &Value) -> Option<u64> {
    match value {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// `POST worklog/list` with `{"ids": [...]}`: the worklogs with those ids, in the order asked,
/// unknown and hidden ids left out. At most 1000 ids.
pub(crate) fn list(call: &Call) -> Reply {
    let ids = call
        .req
        .json()
        .and_then(|body| body.get("ids").and_then(Value::as_array).cloned())
        .ok_or_else(|| {
            Rejection::new(
                400,
                "Can not deserialize the request: a JSON object with an \"ids\" array is expected.",
            )
        })?;
    if ids.is_empty() {
        return Err(Rejection::new(
            400,
            "The list of worklog ids must not be empty.",
        ));
    }
    if ids.len() > LIST_MAX {
        return Err(Rejection::new(
            400,
            format!("The number of worklog ids must not exceed {LIST_MAX}."),
        ));
    }
    let site = call.shared.site();
    let ctx = call.ctx(&site);
    // Jira sends a worklog's properties only when asked (`expand=properties`).
    let with_properties = call
        .req
        .param("expand")
        .is_some_and(|expand| expand.split(',').any(|e| e.trim() == "properties"));
    let mut seen = HashSet::new();
    let worklogs: Vec<Value> = ids
        .iter()
        .filter_map(worklog_id)
        .filter(|id| seen.insert(*id) && !site.worklog_hidden(*id))
        .filter_map(|id| site.worklog_by_id(id))
        .map(|(index, w)| {
            let mut body = worklog(&ctx, index, &w);
            if with_properties {
                body["properties"] = properties(w.id);
            }
            body
        })
        .collect();
    Ok(ok(&Value::Array(worklogs)))
}

/// A worklog's properties, as `expand=properties` gives them: an app's (Tempo-like) on every
/// fourth worklog, none on the others.
fn properties(id: u64) -> Value {
    if id.is_multiple_of(4) {
        json!([{ "key": "sim.billing", "value": { "billable": id.is_multiple_of(8), "account": "OPS" } }])
    } else {
        json!([])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(times: &[i64]) -> Vec<WorklogEntry> {
        times
            .iter()
            .enumerate()
            .map(|(k, &updated)| WorklogEntry {
                updated,
                id: k as u64,
                issue: 0,
            })
            .collect()
    }

    #[test]
    fn pages_end_at_1000_rows_and_restart_at_their_last_millisecond() {
        assert_eq!(page_end(&rows(&[1, 2, 2]), 1000), (3, None));
        let mut times: Vec<i64> = (0..999).collect();
        times.extend([999, 999, 1000]);
        assert_eq!(page_end(&rows(&times), 1000), (1000, Some(999)));
        assert_eq!(page_end(&rows(&[1, 2, 2, 3]), 2), (2, Some(2)));
    }

    #[test]
    fn a_page_of_one_millisecond_takes_all_of_it_and_moves_on() {
        let mut times = vec![5; 1500];
        times.push(6);
        assert_eq!(page_end(&rows(&times), 1000), (1500, Some(6)));
        assert_eq!(page_end(&rows(&vec![5; 1500]), 1000), (1500, None));
        assert_eq!(page_end(&rows(&[5, 5, 6]), 1), (2, Some(6)));
    }
}
