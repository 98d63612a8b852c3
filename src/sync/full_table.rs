//! Full-table streams: a versioned pass over a list endpoint, one list per parent project, or the
//! users. Targets that honour ACTIVATE_VERSION replace the table once the pass is complete; a pass
//! cut short activates nothing.

use std::io::Write;
use std::pin::pin;

use chrono::Utc;
use futures::{Stream, TryStreamExt};
use serde_json::json;

use super::{Emitter, Run};
use crate::client::{Page, pages};
use crate::error::{Error, Result};
use crate::singer::{Message, time_extracted};
use crate::streams::{Source, StreamDef, id_text, users};

pub(super) async fn sync<W: Write>(run: &mut Run<'_, W>, emitter: &mut Emitter<'_>) -> Result<()> {
    let name = emitter.name();
    let version = Utc::now().timestamp_millis();
    let first_ever = run
        .state
        .bookmark(name)
        .and_then(|b| b.get("version"))
        .is_none();
    if first_ever {
        run.writer.write(&Message::ActivateVersion {
            stream: name,
            version,
        })?;
    }
    let client = run.client;
    let deployment = client.deployment();
    let page_size = run.config.page_size;
    match emitter.stream.def.source {
        Source::Endpoint(endpoint) => {
            let (request, pagination) = endpoint.on(deployment).request(client, &[]);
            let source = pages(client, request, pagination, page_size);
            write_pages(run, emitter, source, version).await?;
        }
        Source::PerProject(endpoint) => {
            let endpoint = endpoint.on(deployment);
            for project in project_ids(run, emitter.stream.def).await? {
                let (request, pagination) = endpoint.request(client, &[("projectId", &project)]);
                let source = pages(client, request, pagination, page_size);
                match write_pages(run, emitter, source, version).await {
                    Ok(()) => {}
                    // A project deleted or hidden since it was listed: its list is skipped.
                    Err(
                        e @ Error::Http {
                            status: 403 | 404, ..
                        },
                    ) => tracing::warn!(stream = name, project, "skipped a project: {e}"),
                    Err(e) => return Err(e),
                }
            }
        }
        Source::Users => {
            let source = users::user_pages(client, run.config.groups.as_deref(), page_size);
            write_pages(run, emitter, source, version).await?;
        }
        Source::IssueSearch | Source::IssueChild { .. } | Source::WorklogUpdates => {
            return Err(Error::Internal(format!(
                "stream `{name}` is declared full-table, but its source is incremental"
            )));
        }
    }
    run.writer.write(&Message::ActivateVersion {
        stream: name,
        version,
    })?;
    run.state.set_bookmark(name, json!({"version": version}));
    run.write_state()
}

async fn write_pages<W: Write>(
    run: &mut Run<'_, W>,
    emitter: &mut Emitter<'_>,
    source: impl Stream<Item = Result<Page>>,
    version: i64,
) -> Result<()> {
    let mut source = pin!(source);
    while let Some(page) = source.try_next().await? {
        let extracted = time_extracted(Utc::now());
        for record in page.items {
            emitter.emit(run.writer, record, Some(version), &extracted)?;
        }
    }
    Ok(())
}

/// The ids of the parent stream's records (the projects), read once per run.
async fn project_ids<W: Write>(run: &mut Run<'_, W>, child: &StreamDef) -> Result<Vec<String>> {
    if let Some(ids) = &run.project_ids {
        return Ok(ids.clone());
    }
    let parent = child
        .source
        .parent()
        .and_then(StreamDef::find)
        .ok_or_else(|| Error::Internal(format!("stream `{}` has no parent stream", child.name)))?;
    let Source::Endpoint(endpoint) = parent.source else {
        return Err(Error::Internal(format!(
            "parent `{}` of `{}` is not a list endpoint",
            parent.name, child.name
        )));
    };
    let client = run.client;
    let (request, pagination) = endpoint.on(client.deployment()).request(client, &[]);
    let mut ids = Vec::new();
    let mut source = pin!(pages(client, request, pagination, run.config.page_size));
    while let Some(page) = source.try_next().await? {
        ids.extend(page.items.iter().filter_map(|p| id_text(p.get("id")?)));
    }
    tracing::info!(
        parent = parent.name,
        count = ids.len(),
        "read the parent ids"
    );
    run.project_ids = Some(ids.clone());
    Ok(ids)
}
