//! The `worklogs` stream: worklogs changed since its bookmark, page by page, a STATE after each.

use std::io::Write;
use std::pin::pin;

use chrono::Utc;
use futures::TryStreamExt;

use super::{Emitter, Run};
use crate::error::Result;
use crate::singer::time_extracted;
use crate::streams::worklogs::{Bookmark, changed_worklogs};

pub(super) async fn sync<W: Write>(run: &mut Run<'_, W>, emitter: &mut Emitter<'_>) -> Result<()> {
    let name = emitter.name();
    let start = Bookmark::from_state(run.state.bookmark(name), run.config.start_date)?;
    let mut bookmark = start.clone();
    tracing::info!(since = %start.updated, "reading worklogs changed since the bookmark");
    let mut pages = pin!(changed_worklogs(run.client, &start));
    while let Some(page) = pages.try_next().await? {
        let extracted = time_extracted(Utc::now());
        for worklog in page.worklogs {
            emitter.emit(run.writer, worklog, None, &extracted)?;
        }
        // Worklogs deleted since they were listed are not in the bodies; they are still covered.
        for (id, at) in &page.changes {
            bookmark.record(id, *at);
        }
        run.state.set_bookmark(name, bookmark.to_value());
        run.write_state()?;
    }
    Ok(())
}
