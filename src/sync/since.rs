//! Streams Jira lists newest first, asked for what was created since the bookmark (the audit
//! log). The order rules out a bookmark per page, so the one STATE comes after the last page; a
//! run cut short reads the same records again next time. The bookmark stops at Jira's clock, as
//! the audit log's deletions do (see `sync::deletions`), and keeps by id the records read past it.

use std::collections::HashSet;
use std::io::Write;
use std::pin::pin;

use chrono::{DateTime, Utc};
use futures::TryStreamExt;
use serde_json::{Value, json};

use super::deletions::before_millisecond_of;
use super::{Emitter, Run};
use crate::client::{RawRecord, pages};
use crate::error::{Error, Result};
use crate::singer::time_extracted;
use crate::streams::deletions::server_time;
use crate::streams::{Source, StreamDef, id_text};
use crate::timestamp::{YEARS, bookmarkable, format_jira, format_utc, parse_in_range, parse_jira};

pub(super) async fn sync<W: Write>(
    run: &mut Run<'_, '_, W>,
    emitter: &mut Emitter<'_>,
) -> Result<()> {
    let def = emitter.stream.def;
    let (Source::Since { endpoint, param }, Some(key)) = (def.source, def.replication.key()) else {
        return Err(Error::Internal(format!(
            "stream `{}` is not a since-bookmark list",
            def.name
        )));
    };
    let saved = run.bookmark(def.name);
    let since = bookmark(def, saved.as_ref(), run.config.start_date)?;
    let client = run.client;
    // A record dated after Jira's now (a clock that ran fast and was put right, a cluster node
    // ahead of the others) must not take the bookmark past the records Jira dates rightly after
    // it; nor may a record Jira writes later in its current millisecond be skipped as one at the
    // bookmark. The bookmark stops before Jira's millisecond, and the ids of the records written
    // past it are kept, so that the next run does not write them again.
    let jira_now = server_time(client).await?.map(before_millisecond_of);
    // A bookmark past Jira's clock (carried there by a record dated ahead, as earlier versions let
    // it be, or kept from before the clock was put back) would hide every record Jira dates until
    // then: the read starts at Jira's clock (or at `start_date`, when that is ahead of it).
    let since = match jira_now {
        Some(now) if saved.is_some() && since > now => now.max(run.config.start_date),
        _ => since,
    };
    tracing::info!(stream = def.name, %since, "reading what was created since the bookmark");
    let read_ahead: HashSet<String> = saved
        .as_ref()
        .and_then(|b| b.get(AHEAD))
        .and_then(Value::as_array)
        .map(|ids| ids.iter().filter_map(id_text).collect())
        .unwrap_or_default();
    let mut ahead: Vec<(String, DateTime<Utc>)> = Vec::new();
    let endpoint = endpoint.on(client.deployment());
    let (request, pagination) = endpoint.unbound(client);
    // Jira reads this parameter with its own offset format, not RFC 3339's `Z`.
    let request = request.query(param, format_jira(since));
    let mut newest = since;
    // A page's records are kept as text and read as values one at a time: a page of many small
    // records turned into values whole cost ten times its size.
    let mut source = pin!(pages::<RawRecord>(
        client,
        request,
        pagination,
        run.config.page_size
    ));
    while let Some(page) = source.try_next().await? {
        let extracted = time_extracted(Utc::now());
        for record in &page.items {
            let row = record.value(endpoint.path)?;
            let Some(at) = row.get(key).and_then(Value::as_str).and_then(parse_jira) else {
                tracing::warn!(
                    stream = def.name,
                    "skipped a record without a readable `{key}`"
                );
                continue;
            };
            // `from` is inclusive: what sits at the bookmark was written last run. `start_date`
            // is inclusive too: a first run writes what was created at it.
            if at < since || (at == since && saved.is_some()) {
                continue;
            }
            let id = row.get("id").and_then(id_text);
            let written = id.as_ref().is_some_and(|id| read_ahead.contains(id));
            // Kept again while still past the bookmark, whether written now or before.
            if let Some(id) = id.filter(|_| jira_now.is_some_and(|now| at > now)) {
                ahead.push((id, at));
            }
            if written {
                continue;
            }
            // A row from the far future is written, but would stop the bookmark there.
            if bookmarkable(at, Utc::now()) {
                newest = newest.max(at);
            } else {
                tracing::warn!(
                    stream = def.name,
                    "a record's `{key}` is outside the {YEARS} or in the future; written, \
                     but the bookmark stays where it was"
                );
            }
            run.out.borrow_mut().emit(emitter, row, None, &extracted)?;
        }
    }
    // Never before `since`: the records up to it, read by earlier runs, are not kept by id.
    let place = match jira_now {
        Some(now) if newest > now => now.max(since),
        _ => newest,
    };
    let mut ahead: Vec<String> = ahead
        .into_iter()
        .filter(|(_, at)| *at > place)
        .map(|(id, _)| id)
        .collect();
    ahead.sort_unstable();
    ahead.dedup();
    let mut bookmark = json!({ key: format_utc(place) });
    if !ahead.is_empty() {
        bookmark[AHEAD] = json!(ahead);
    }
    run.commit_bookmark(def.name, bookmark)
}

/// Under the bookmark: the ids of the records written that are dated after its time.
const AHEAD: &str = "read_ahead";

/// Where a since-bookmark stream starts: its bookmark, or `start_date` on its first run.
pub fn bookmark(
    def: &StreamDef,
    value: Option<&Value>,
    start_date: DateTime<Utc>,
) -> Result<DateTime<Utc>> {
    let key = def.replication.key().unwrap_or("created");
    let Some(value) = value else {
        return Ok(start_date);
    };
    match value.get(key) {
        Some(Value::String(s)) => parse_in_range(s).map_err(|problem| {
            Error::State(format!(
                "bookmarks.{}.{key} {problem}; remove bookmarks.{} to start from start_date",
                def.name, def.name
            ))
        }),
        _ => Err(Error::State(format!(
            "bookmarks.{} has no `{key}` timestamp; remove it to start from start_date",
            def.name
        ))),
    }
}
