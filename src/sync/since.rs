//! Streams Jira lists newest first, asked for what was created since the bookmark (the audit
//! log). The order rules out a bookmark per page, so the one STATE comes after the last page; a
//! run cut short reads the same records again next time.

use std::io::Write;
use std::pin::pin;

use chrono::{DateTime, Utc};
use futures::TryStreamExt;
use serde_json::{Value, json};

use super::{Emitter, Run};
use crate::client::{RawRecord, pages};
use crate::error::{Error, Result};
use crate::singer::time_extracted;
use crate::streams::{Source, StreamDef};
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
    tracing::info!(stream = def.name, %since, "reading what was created since the bookmark");
    let client = run.client;
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
    run.commit_bookmark(def.name, json!({ key: format_utc(newest) }))
}

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
