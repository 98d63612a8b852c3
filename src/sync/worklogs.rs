//! The `worklogs` stream: worklogs changed since its bookmark, page by page, a STATE after each.

use std::io::Write;
use std::pin::pin;

use chrono::Utc;
use futures::TryStreamExt;
use serde_json::Value;

use super::{Emitter, Run};
use crate::error::Result;
use crate::singer::time_extracted;
use crate::streams::id_text;
use crate::streams::issues;
use crate::streams::worklogs::{Bookmark, changed_worklogs};

pub(super) async fn sync<W: Write>(
    run: &mut Run<'_, '_, W>,
    emitter: &mut Emitter<'_>,
) -> Result<()> {
    let name = emitter.name();
    let bookmark = Bookmark::from_state(run.bookmark(name).as_ref(), run.config.start_date)?;
    tracing::info!(since = %bookmark.updated, "reading worklogs changed since the bookmark");
    let mut pages = pin!(changed_worklogs(run.client, bookmark));
    let filters = &run.config.filters;
    let zone = issues::user_time_zone(run.client.myself());
    while let Some(mut page) = pages.try_next().await? {
        // Jira lists worklogs site-wide: with filters, only those of issues the filters keep.
        if !filters.is_empty() {
            let of_issue = |w: &Value| w.get("issueId").and_then(id_text);
            let mut ids: Vec<String> = page.worklogs.iter().filter_map(of_issue).collect();
            ids.sort();
            ids.dedup();
            let kept = issues::ids_matching(run.client, &ids, filters, zone).await?;
            page.worklogs
                .retain(|w| of_issue(w).is_some_and(|id| kept.contains(&id)));
        }
        let extracted = time_extracted(Utc::now());
        let mut out = run.out.borrow_mut();
        for worklog in page.worklogs {
            out.emit(emitter, worklog, None, &extracted)?;
        }
        drop(out);
        run.commit_bookmark(name, page.bookmark.to_value())?;
    }
    Ok(())
}
