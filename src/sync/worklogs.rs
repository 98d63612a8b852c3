//! The `worklogs` stream: worklogs changed since its bookmark, page by page, a STATE after each.

use std::io::Write;
use std::pin::pin;

use chrono::Utc;
use futures::TryStreamExt;

use super::{Emitter, Run};
use crate::error::Result;
use crate::singer::time_extracted;
use crate::streams::worklogs::{Bookmark, changed_worklogs};

pub(super) async fn sync<W: Write>(
    run: &mut Run<'_, '_, W>,
    emitter: &mut Emitter<'_>,
) -> Result<()> {
    let name = emitter.name();
    let bookmark = Bookmark::from_state(run.bookmark(name).as_ref(), run.config.start_date)?;
    tracing::info!(since = %bookmark.updated, "reading worklogs changed since the bookmark");
    let mut pages = pin!(changed_worklogs(run.client, bookmark));
    while let Some(page) = pages.try_next().await? {
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
