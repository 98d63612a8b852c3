//! The `worklogs` stream: worklogs changed since its bookmark, page by page, a STATE after each;
//! then those deleted since, as records that say so.

use std::io::Write;
use std::pin::pin;

use chrono::{DateTime, Utc};
use futures::TryStreamExt;
use serde_json::{Value, json};

use super::state::split_deleted;
use super::{Emitter, Run};
use crate::client::RawRecord;
use crate::error::Result;
use crate::raw;
use crate::singer::time_extracted;
use crate::streams::deletions::server_time;
use crate::streams::issues;
use crate::streams::worklogs::{Bookmark, changed_worklogs, deleted_worklogs};
use crate::timestamp::format_utc;

pub(super) async fn sync<W: Write>(
    run: &mut Run<'_, '_, W>,
    emitter: &mut Emitter<'_>,
) -> Result<()> {
    let name = emitter.name();
    let (saved, deleted) = split_deleted(run.bookmark(name));
    let bookmark = Bookmark::from_state(saved.as_ref(), run.config.start_date)?;
    // Jira's clock, read once: a bookmark past it (kept from before the clock was put back)
    // would hide every change Jira dates until then, so the changes are read from it (or from
    // `start_date`, when that is ahead of it); and a first sync follows deletions from it.
    let jira_now = server_time(run.client).await?;
    let at_most = |b: Bookmark| match jira_now {
        Some(t) => b.at_most(t.max(run.config.start_date)),
        None => b,
    };
    let bookmark = at_most(bookmark);
    // Deletions are followed from the first sync on: before it there was nothing to delete. A
    // bookmark without them (Stitch's tap reports none) has read every change up to its time:
    // deletions are followed from there, so none made since its last run is lost.
    let deleted = match &deleted {
        Some(value) => at_most(Bookmark::deleted_from_state(value, run.config.start_date)?),
        None => {
            let since = match &saved {
                Some(_) => bookmark.updated,
                // Jira dates deletions by its own clock: one behind this machine's would date a
                // deletion made from now on before now.
                None => {
                    let now = Utc::now();
                    jira_now.map_or(now, |jira| jira.min(now))
                }
            };
            let from_since = Bookmark::from_state(None, since)?;
            // In the state before the first worklog is written: a first sync stopped half way
            // and resumed later must report the worklogs it wrote that went in between.
            let mut value = match &saved {
                Some(_) => bookmark.to_value(),
                None => json!({}),
            };
            value["deleted"] = from_since.to_value();
            run.commit_bookmark(name, value)?;
            from_since
        }
    };
    tracing::info!(since = %bookmark.updated, "reading worklogs changed since the bookmark");
    let mut last = bookmark.clone();
    // Jira sends a worklog's properties only when asked; they are asked for when selected.
    let with_properties = emitter.stream.projection.keeps("properties");
    let mut pages = pin!(changed_worklogs(run.client, bookmark, with_properties));
    let filters = &run.config.filters;
    let zone = issues::user_time_zone(run.client.myself());
    while let Some(mut page) = pages.try_next().await? {
        // Jira lists worklogs site-wide: with filters, only those of issues the filters keep.
        if !filters.is_empty() {
            let of_issue = |w: &RawRecord| raw::field(w.get(), "issueId").and_then(raw::id_text);
            let mut ids: Vec<String> = page.worklogs.iter().filter_map(of_issue).collect();
            ids.sort();
            ids.dedup();
            let kept = issues::ids_matching(run.client, &ids, filters, zone).await?;
            page.worklogs
                .retain(|w| of_issue(w).is_some_and(|id| kept.contains(&id)));
        }
        let extracted = time_extracted(Utc::now());
        let mut out = run.out.borrow_mut();
        for worklog in &mut page.worklogs {
            out.emit_raw(emitter, worklog, &extracted)?;
        }
        drop(out);
        last = page.bookmark;
        run.commit_bookmark(name, with_deleted(&last, &deleted))?;
    }
    // A deleted worklog is a record with its key and `_sdc_deleted_at`: targets that honour
    // deletions drop or flag the row.
    let mut gone = pin!(deleted_worklogs(run.client, deleted.clone()));
    while let Some((ids, bookmark)) = gone.try_next().await? {
        let extracted = time_extracted(Utc::now());
        let mut out = run.out.borrow_mut();
        for (id, at) in ids {
            let Some(at) = DateTime::from_timestamp_millis(at) else {
                continue;
            };
            let record = json!({"id": id, "_sdc_deleted_at": format_utc(at)});
            out.emit(emitter, record, None, &extracted)?;
        }
        drop(out);
        run.commit_bookmark(name, with_deleted(&last, &bookmark))?;
    }
    Ok(())
}

/// The stream's bookmark: Stitch's `updated` (and ours), with the deletions' own under `deleted`.
fn with_deleted(changed: &Bookmark, deleted: &Bookmark) -> Value {
    let mut value = changed.to_value();
    value["deleted"] = deleted.to_value();
    value
}
