//! The sync loop: for each selected stream, SCHEMA, then RECORDs, then STATE, through the one
//! writer. A bookmark is emitted only after the records it covers.

pub mod state;

use std::collections::BTreeMap;
use std::io::Write;
use std::pin::pin;

use chrono::Utc;
use futures::{Stream, TryStreamExt};
use serde_json::{Value, json};

use crate::catalog::{Catalog, SelectedStream, selected_streams};
use crate::client::{ApiRequest, JiraClient, Page, Pagination, pages};
use crate::config::Config;
use crate::error::{Error, Result};
use crate::singer::{Message, SingerWriter, time_extracted};
use crate::streams::{Source, issues, users};
use crate::timestamp::normalize;
pub use state::State;

/// What a run did, for the closing log lines.
#[derive(Debug, Default)]
pub struct Summary {
    pub records: BTreeMap<&'static str, u64>,
    pub skipped: Vec<(&'static str, String)>,
}

pub async fn run<W: Write>(
    client: &JiraClient,
    config: &Config,
    catalog: &Catalog,
    mut state: State,
    writer: &mut SingerWriter<W>,
) -> Result<Summary> {
    let streams = selected_streams(catalog, client.deployment());
    if streams.is_empty() {
        tracing::warn!("no stream is selected in the catalog; nothing to sync");
    }
    let mut summary = Summary::default();
    for stream in &streams {
        let name = stream.def.name;
        tracing::info!(stream = name, "syncing");
        state.set_currently_syncing(Some(name));
        writer.write(&Message::State {
            value: &state.to_value(),
        })?;
        writer.write(&Message::Schema {
            stream: name,
            schema: &stream.schema,
            key_properties: &stream.key_properties,
            bookmark_properties: &stream.bookmark_properties,
        })?;
        let mut emitter = Emitter {
            writer: &mut *writer,
            stream,
            count: 0,
        };
        let result = match stream.def.source {
            Source::IssueSearch => sync_issues(client, config, &mut emitter, &mut state).await,
            Source::Endpoint { .. } => match endpoint_request(client, stream.def.source) {
                Some((request, pagination)) => {
                    let source = pages(client, request, pagination, config.page_size);
                    sync_full_table(source, &mut emitter, &mut state).await
                }
                None => Ok(()),
            },
            Source::Users => {
                let source = users::user_pages(client, config.groups.as_deref(), config.page_size);
                sync_full_table(source, &mut emitter, &mut state).await
            }
        };
        let count = emitter.count;
        summary.records.insert(name, count);
        match result {
            Ok(()) => tracing::info!(stream = name, records = count, "stream done"),
            // Jira hides what the account may not see: skip that stream, say so, go on.
            Err(
                e @ Error::Http {
                    status: 403 | 404, ..
                },
            ) => {
                tracing::warn!(stream = name, records = count, "skipped: {e}");
                summary.skipped.push((name, e.to_string()));
            }
            Err(e) => return Err(e),
        }
    }
    state.set_currently_syncing(None);
    writer.write(&Message::State {
        value: &state.to_value(),
    })?;
    writer.flush()?;
    if !streams.is_empty() && summary.skipped.len() == streams.len() {
        let names: Vec<&str> = summary.skipped.iter().map(|(name, _)| *name).collect();
        return Err(Error::NothingSynced(names.join(", ")));
    }
    Ok(summary)
}

/// The request of a plain endpoint stream on this deployment.
fn endpoint_request(client: &JiraClient, source: Source) -> Option<(ApiRequest, Pagination)> {
    let endpoint = source.endpoint(client.deployment())?;
    let mut request = ApiRequest::get(client.api_path(endpoint.path));
    for (key, value) in endpoint.query {
        request = request.query(key, *value);
    }
    Some((request, endpoint.pagination))
}

/// Writes one stream's records: dates to UTC, fields to the selection, keys checked.
struct Emitter<'a, W: Write> {
    writer: &'a mut SingerWriter<W>,
    stream: &'a SelectedStream,
    count: u64,
}

impl<W: Write> Emitter<'_, W> {
    fn emit(&mut self, mut record: Value, version: Option<i64>, extracted: &str) -> Result<()> {
        let Value::Object(map) = &mut record else {
            tracing::warn!(
                stream = self.stream.def.name,
                "skipped a record that is not a JSON object"
            );
            return Ok(());
        };
        self.stream.projection.apply(map);
        if let Some(missing) = self
            .stream
            .key_properties
            .iter()
            .find(|k| map.get(k.as_str()).is_none_or(Value::is_null))
        {
            tracing::warn!(stream = self.stream.def.name, key = %missing, "skipped a record without its key property");
            return Ok(());
        }
        normalize(&mut record);
        self.writer.write(&Message::Record {
            stream: self.stream.def.name,
            record: &record,
            version,
            time_extracted: extracted,
        })?;
        self.count += 1;
        Ok(())
    }
}

/// A full pass, versioned: targets that honour ACTIVATE_VERSION replace the table once the pass is
/// complete; a pass cut short activates nothing.
async fn sync_full_table<W: Write>(
    source: impl Stream<Item = Result<Page>>,
    emitter: &mut Emitter<'_, W>,
    state: &mut State,
) -> Result<()> {
    let name = emitter.stream.def.name;
    let version = Utc::now().timestamp_millis();
    let first_ever = state
        .bookmark(name)
        .and_then(|b| b.get("version"))
        .is_none();
    if first_ever {
        emitter.writer.write(&Message::ActivateVersion {
            stream: name,
            version,
        })?;
    }
    let mut source = pin!(source);
    while let Some(page) = source.try_next().await? {
        let extracted = time_extracted(Utc::now());
        for record in page.items {
            emitter.emit(record, Some(version), &extracted)?;
        }
    }
    emitter.writer.write(&Message::ActivateVersion {
        stream: name,
        version,
    })?;
    state.set_bookmark(name, json!({"version": version}));
    emitter.writer.write(&Message::State {
        value: &state.to_value(),
    })?;
    Ok(())
}

/// Issues updated since the bookmark, in `updated` order, with a STATE after every page.
async fn sync_issues<W: Write>(
    client: &JiraClient,
    config: &Config,
    emitter: &mut Emitter<'_, W>,
    state: &mut State,
) -> Result<()> {
    let name = emitter.stream.def.name;
    let mut bookmark = issues::Bookmark::from_state(state.bookmark(name), config.start_date)?;
    let zone = issues::user_time_zone(client.myself());
    let from = bookmark.window_start;
    let fields = requested_fields(emitter.stream);
    let jql = issues::jql_from(from - zone.slack, zone.tz);
    tracing::info!(%jql, time_zone = %zone.tz, fields = fields.len(), "searching issues");
    let source = issues::issue_pages(client, from, zone, &fields, config.page_size);
    let mut source = pin!(source);
    while let Some(page) = source.try_next().await? {
        let extracted = time_extracted(Utc::now());
        for mut issue in page.items {
            let Some((id, updated)) = issues::cursor_of(&issue) else {
                tracing::warn!(
                    stream = name,
                    "skipped an issue without id or fields.updated"
                );
                continue;
            };
            if bookmark.already_written(&id, updated) {
                continue;
            }
            issues::hoist_timestamps(&mut issue);
            emitter.emit(issue, None, &extracted)?;
            bookmark.record(&id, updated, config.lookback);
        }
        state.set_bookmark(name, bookmark.to_value());
        emitter.writer.write(&Message::State {
            value: &state.to_value(),
        })?;
    }
    Ok(())
}

/// The issue fields to ask Jira for: the selected ones, plus what the bookmark needs. A catalog
/// whose `fields` schema is open (Stitch's: `patternProperties`) selects them all.
fn requested_fields(stream: &SelectedStream) -> Vec<String> {
    let Some(schema) = stream.schema.pointer("/properties/fields") else {
        return vec!["updated".into(), "created".into()];
    };
    let open = schema.get("patternProperties").is_some()
        || schema
            .get("additionalProperties")
            .is_some_and(|a| a.as_bool() != Some(false))
        || schema.get("properties").is_none();
    if open {
        return vec!["*all".into()];
    }
    let mut fields: Vec<String> = schema
        .get("properties")
        .and_then(Value::as_object)
        .map(|f| f.keys().cloned().collect())
        .unwrap_or_default();
    for always in ["updated", "created"] {
        if !fields.iter().any(|f| f == always) {
            fields.push(always.into());
        }
    }
    fields
}
