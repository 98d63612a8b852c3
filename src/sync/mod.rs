//! The sync engine: the catalog's selection becomes a plan of tasks in stream-table order, and each
//! task is dispatched by its streams' declared replication. The issue search and its children run
//! beside the other tasks, which run one after another. Every message goes through the one writer;
//! a bookmark is emitted only after the records it covers.

mod deletions;
mod emit;
mod full_table;
mod issues;
mod rows;
mod since;
pub mod state;
mod worklogs;

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::io::Write;

use chrono::{DateTime, Utc};

use crate::catalog::{Catalog, SelectedStream, selected_streams};
use crate::client::{JiraClient, RawRecord};
use crate::config::{Config, DeletedIssues};
use crate::error::{Error, Result};
use crate::filters::Filters;
use crate::flatten::POSTGRES_MAX_COLUMNS;
use crate::singer::{Message, SingerWriter};
use crate::streams::issues as issues_search;
use crate::streams::projects::ProjectIds;
use crate::streams::{self, Replication, STREAMS, Source, StreamDef};
use emit::Emitter;
pub use state::State;

/// What a run did, for the closing log lines.
#[derive(Debug, Default)]
pub struct Summary {
    pub records: BTreeMap<&'static str, u64>,
    pub skipped: Vec<(&'static str, String)>,
    /// Per stream, the parent objects whose children Jira refused.
    pub refused: BTreeMap<&'static str, u64>,
    /// Per stream, the parent objects of a kind without such children.
    pub childless: BTreeMap<&'static str, u64>,
}

/// One unit of work: a stream alone, or the issue search with the children read from it.
#[derive(Debug)]
enum Task<'a> {
    Stream(&'a SelectedStream),
    IssueFamily {
        issues: Option<&'a SelectedStream>,
        children: Vec<&'a SelectedStream>,
        /// `worklogs` is selected: it has every worklog, where an issue embeds at most 20, so
        /// issue records leave `fields.worklog` out (as Stitch's tap always does).
        worklogs_apart: bool,
    },
}

impl Task<'_> {
    fn names(&self) -> Vec<&'static str> {
        match self {
            Task::Stream(s) => vec![s.def.name],
            Task::IssueFamily {
                issues, children, ..
            } => issues.iter().chain(children).map(|s| s.def.name).collect(),
        }
    }
}

/// The selected streams as tasks, in table order; the issues and their children are one task,
/// since one search feeds them all.
fn plan(streams: &[SelectedStream]) -> Vec<Task<'_>> {
    let mut tasks: Vec<Task> = Vec::new();
    let mut family: Option<usize> = None;
    for stream in streams {
        if !matches!(
            stream.def.source,
            Source::IssueSearch | Source::IssueChild { .. }
        ) {
            tasks.push(Task::Stream(stream));
            continue;
        }
        let at = *family.get_or_insert_with(|| {
            tasks.push(Task::IssueFamily {
                issues: None,
                children: Vec::new(),
                worklogs_apart: streams
                    .iter()
                    .any(|s| matches!(s.def.source, Source::WorklogUpdates)),
            });
            tasks.len() - 1
        });
        if let Task::IssueFamily {
            issues, children, ..
        } = &mut tasks[at]
        {
            match stream.def.source {
                Source::IssueSearch => *issues = Some(stream),
                _ => children.push(stream),
            }
        }
    }
    tasks
}

/// Checks every incremental stream's bookmark, so a broken state stops the run before any request.
pub fn check_state(
    state: &State,
    start_date: DateTime<Utc>,
    deletions: DeletedIssues,
) -> Result<()> {
    for def in STREAMS {
        match def.source {
            Source::IssueSearch => {
                let (searched, deleted) = state::split_deleted(state.bookmark(def.name).cloned());
                streams::issues::Bookmark::from_state(searched.as_ref(), start_date)?;
                deletions::check(deleted.as_ref(), deletions)?;
            }
            Source::WorklogUpdates => {
                let (changed, deleted) = state::split_deleted(state.bookmark(def.name).cloned());
                streams::worklogs::Bookmark::from_state(changed.as_ref(), start_date)?;
                if let Some(deleted) = &deleted {
                    streams::worklogs::Bookmark::deleted_from_state(deleted, start_date)?;
                }
            }
            Source::Since { .. } => {
                since::bookmark(def, state.bookmark(def.name), start_date)?;
            }
            _ => {}
        }
    }
    Ok(())
}

/// The one writer of stdout and the state, shared by the tasks that run at once. It is borrowed
/// only between awaits, one message at a time, so a bookmark is written after the records it
/// covers whatever else is running.
struct Output<'w, W: Write> {
    writer: &'w mut SingerWriter<W>,
    state: State,
}

impl<W: Write> Output<'_, W> {
    fn emit(
        &mut self,
        emitter: &mut Emitter<'_>,
        record: serde_json::Value,
        version: Option<i64>,
        extracted: &str,
    ) -> Result<()> {
        emitter.emit(self.writer, record, version, extracted)
    }

    /// `emit` for a record that is JSON text.
    fn emit_raw(
        &mut self,
        emitter: &mut Emitter<'_>,
        record: &mut RawRecord,
        extracted: &str,
    ) -> Result<()> {
        match record.taken_apart() {
            Some((record, text, dates)) => {
                emitter.emit_raw(self.writer, record, &dates.rewriting(text), extracted)
            }
            None => {
                tracing::warn!(
                    stream = emitter.name(),
                    "skipped a record that is not a JSON object"
                );
                Ok(())
            }
        }
    }

    fn write_state(&mut self) -> Result<()> {
        self.writer.write(&Message::State {
            value: self.state.as_map(),
        })
    }
}

impl<W: Write> Drop for Output<'_, W> {
    /// A run stopped early (an error, SIGTERM) still ends with a STATE after its last RECORD:
    /// the bookmarks committed so far, which cover only what was written before them. After a
    /// STATE with nothing since, the same one again is not written.
    fn drop(&mut self) {
        let _ = self.write_state();
    }
}

/// What every task needs: the client, the settings, and the shared output.
struct Run<'a, 'w, W: Write> {
    client: &'a JiraClient,
    config: &'a Config,
    out: &'a RefCell<Output<'w, W>>,
    /// What parents' records bind for their children, read once per run.
    parents: rows::Parents,
    /// The ids of the projects the filters and the audit log name by key, asked once a run.
    projects: &'a ProjectIds,
}

impl<W: Write> Run<'_, '_, W> {
    fn write(&self, message: &Message<'_>) -> Result<()> {
        self.out.borrow_mut().writer.write(message)
    }

    fn bookmark(&self, stream: &str) -> Option<serde_json::Value> {
        self.out.borrow().state.bookmark(stream).cloned()
    }

    /// Sets a stream's bookmark and writes the STATE that carries it.
    fn commit_bookmark(&self, stream: &str, bookmark: serde_json::Value) -> Result<()> {
        let mut out = self.out.borrow_mut();
        out.state.set_bookmark(stream, bookmark);
        out.write_state()
    }
}

/// Names each stream whose flattened SCHEMA has more columns than PostgreSQL allows a table: a
/// site of thousands of custom fields makes `issues` that wide, and PostgreSQL targets then fail
/// its load. Only a warning, as other targets take more columns. Counted once, from the SCHEMA.
fn warn_of_wide_schemas(streams: &[SelectedStream]) {
    for stream in streams {
        let Some(flattener) = &stream.flattener else {
            continue;
        };
        let columns = flattener.columns();
        if columns > POSTGRES_MAX_COLUMNS {
            tracing::warn!(
                stream = stream.def.name,
                columns,
                "flattening gives this stream's SCHEMA more columns than PostgreSQL targets \
                 take (a PostgreSQL table has at most 1,600), so they will fail to load it; \
                 deselect fields in the catalog (custom fields not needed) or set a lower \
                 flattening_max_depth"
            );
        }
    }
}

/// Syncs the streams `catalog` selects. The catalog is taken apart into them, not kept: a site
/// of thousands of custom fields gives one of tens of megabytes.
pub async fn run<W: Write>(
    client: &JiraClient,
    config: &Config,
    catalog: Catalog,
    state: State,
    writer: &mut SingerWriter<W>,
) -> Result<Summary> {
    let streams = selected_streams(
        catalog,
        client.deployment(),
        client.text_form(),
        &config.hashing,
        config.render_text,
        config.flattening,
    )?;
    warn_of_wide_schemas(&streams);
    // Asked before the JQL is checked: Jira's refusal of a search naming a project it does not
    // know would otherwise be put down to the JQL.
    let projects = ProjectIds::default();
    projects.check_filters(client, &config.filters).await?;
    if config.filters.jql.is_some() {
        let zone = issues_search::user_time_zone(client.myself());
        issues_search::check_filter(client, &config.filters.jql(zone)).await?;
    }
    let mut state = state;
    start_over_if_filters_changed(&mut state, &config.filters, config.deleted_issues);
    if streams.is_empty() {
        tracing::warn!("no stream is selected in the catalog; nothing to sync");
    }
    let out = RefCell::new(Output { writer, state });
    // The issue search and its children run beside lanes of the other streams; a lane runs its
    // streams one after another, and a stream shares its lane with its parents and their other
    // children, so each parent is read once. All share the client's budget and the one writer.
    let lanes = lanes(plan(&streams), LANES);
    let summaries = futures::future::try_join_all(
        lanes
            .into_iter()
            .map(|tasks| run_tasks(client, config, &out, &projects, tasks)),
    )
    .await?;
    let mut summary = Summary::default();
    for lane in summaries {
        summary.records.extend(lane.records);
        summary.skipped.extend(lane.skipped);
        summary.refused.extend(lane.refused);
        summary.childless.extend(lane.childless);
    }
    let mut out = out.into_inner();
    out.state.set_currently_syncing(None);
    out.write_state()?;
    out.writer.flush()?;
    if !streams.is_empty() && summary.skipped.len() == streams.len() {
        let names: Vec<&str> = summary.skipped.iter().map(|(name, _)| *name).collect();
        return Err(Error::NothingSynced(names.join(", ")));
    }
    Ok(summary)
}

/// The streams the filters narrow that keep a bookmark: a sync made with other filters covered
/// other issues, so they start over (their children are bookmarked with the issues).
fn start_over_if_filters_changed(state: &mut State, filters: &Filters, deletions: DeletedIssues) {
    // Compared as sets: a state keeps the lists in the order it was written with.
    if filters.same_as_saved(state.filters()) {
        return;
    }
    let now = (!filters.is_empty()).then(|| filters.to_value());
    let narrowed = STREAMS
        .iter()
        .filter(|def| matches!(def.source, Source::IssueSearch | Source::WorklogUpdates));
    let mut restarted: Vec<&str> = Vec::new();
    for def in narrowed {
        let Some(old) = state.remove_bookmark(def.name) else {
            continue;
        };
        restarted.push(def.name);
        // Deletions read from the audit log or from `worklog/deleted` do not depend on the
        // filters, and those in between would never be reported. Listed issue ids do: they are
        // kept as listed under other filters, and the next run tells deleted issues among them
        // from those the new filters leave out.
        let kept = match (def.source, old.get("deleted")) {
            (Source::IssueSearch, Some(deleted)) => {
                let ids = deleted
                    .get(deletions::IDS)
                    .or_else(|| deleted.get(deletions::IDS_UNDER_OTHER_FILTERS));
                match (deleted.get("created"), ids) {
                    // A switch from `audit` stopped half way holds both: the audit log's place
                    // stays, and the ids were listed under the old filters, as in a finished run.
                    (Some(_), Some(ids)) if deletions == DeletedIssues::Reconcile => {
                        let mut kept = deleted.clone();
                        if let serde_json::Value::Object(map) = &mut kept {
                            map.remove(deletions::IDS);
                            map.insert(deletions::IDS_UNDER_OTHER_FILTERS.into(), ids.clone());
                        }
                        Some(kept)
                    }
                    (Some(_), _) => Some(deleted.clone()),
                    // Ids listed while reconciling hold no place in the audit log: it is read
                    // from the bookmark's `updated`, as for one without deletions (below).
                    (None, _) if deletions == DeletedIssues::Audit => old
                        .get("updated")
                        .map(|updated| serde_json::json!({ "created": updated })),
                    (None, Some(ids)) => {
                        Some(serde_json::json!({ deletions::IDS_UNDER_OTHER_FILTERS: ids.clone() }))
                    }
                    (None, None) => None,
                }
            }
            (_, Some(deleted)) => Some(deleted.clone()),
            // A bookmark without deletions (Stitch's, or one written with `deleted_issues: off`)
            // read every change up to its `updated`: deletions are followed from there, as when
            // the filters stay, or those made since its last run would never be reported.
            (Source::WorklogUpdates, None) => old
                .get("updated")
                .map(|updated| serde_json::json!({ "updated": updated })),
            (Source::IssueSearch, None) if deletions == DeletedIssues::Audit => old
                .get("updated")
                .map(|updated| serde_json::json!({ "created": updated })),
            (_, None) => None,
        };
        if let Some(deleted) = kept {
            state.set_bookmark(def.name, serde_json::json!({ "deleted": deleted }));
        }
    }
    if !restarted.is_empty() {
        tracing::warn!(
            streams = restarted.join(", "),
            "the filters differ from those the state was written with: these streams are synced again from start_date"
        );
    }
    state.set_filters(now);
}

/// Lanes of streams other than the issue family, run beside it and beside each other. Six: an
/// incremental run, where the reference streams are most of the work, took 3.4 s at 50 ms
/// latency against 4.6 s with three; a full run took the same time either way.
const LANES: usize = 6;

/// The issue family alone, then the other tasks dealt into `count` lanes, in table order within
/// each. Streams linked by a parent go in one lane: the parents' values are kept per lane.
fn lanes(tasks: Vec<Task<'_>>, count: usize) -> Vec<Vec<Task<'_>>> {
    let (family, others): (Vec<Task>, Vec<Task>) = tasks
        .into_iter()
        .partition(|task| matches!(task, Task::IssueFamily { .. }));
    let mut lanes: Vec<Vec<Task>> = vec![family];
    lanes.resize_with(count + 1, Vec::new);
    let mut lane_of_root: Vec<(&'static str, usize)> = Vec::new();
    let mut next = 0;
    for task in others {
        let Task::Stream(stream) = &task else {
            continue;
        };
        let root = root_of(stream.def);
        let lane = match lane_of_root.iter().find(|(r, _)| *r == root) {
            Some((_, lane)) => *lane,
            None => {
                next = next % count + 1;
                lane_of_root.push((root, next));
                next
            }
        };
        lanes[lane].push(task);
    }
    lanes.retain(|lane| !lane.is_empty());
    lanes
}

/// The stream a stream's parents lead back to, through every parent (a stream with two parents
/// ties both to the first one's root).
fn root_of(def: &'static StreamDef) -> &'static str {
    let roots = |def: &'static StreamDef| -> Vec<&'static str> {
        match def.source {
            Source::PerParent(per) => per.parents.iter().map(|p| p.stream).collect(),
            _ => Vec::new(),
        }
    };
    // Streams with two parents (projects × roles) make their second parent follow the first.
    for other in STREAMS {
        let parents = roots(other);
        if parents.len() > 1 && parents[1..].contains(&def.name) {
            return StreamDef::find(parents[0]).map_or(def.name, root_of);
        }
    }
    match roots(def).first().and_then(|p| StreamDef::find(p)) {
        Some(parent) => root_of(parent),
        None => def.name,
    }
}

/// Runs tasks one after another.
async fn run_tasks<W: Write>(
    client: &JiraClient,
    config: &Config,
    out: &RefCell<Output<'_, W>>,
    projects: &ProjectIds,
    tasks: Vec<Task<'_>>,
) -> Result<Summary> {
    let mut run = Run {
        client,
        config,
        out,
        parents: rows::Parents::default(),
        projects,
    };
    let mut summary = Summary::default();
    for task in tasks {
        let names = task.names();
        let started = std::time::Instant::now();
        tracing::info!(streams = ?names, "syncing");
        {
            let mut out = out.borrow_mut();
            out.state.set_currently_syncing(names.first().copied());
            out.write_state()?;
        }
        let (counts, result) = match &task {
            Task::Stream(stream) => {
                let mut emitter = Emitter::new(stream);
                emitter.write_schema(out.borrow_mut().writer)?;
                let result = sync_stream(&mut run, &mut emitter).await;
                (vec![(emitter.name(), emitter.count)], result)
            }
            Task::IssueFamily {
                issues,
                children,
                worklogs_apart,
            } => issues::sync_family(&mut run, *issues, children, *worklogs_apart).await,
        };
        for (name, count) in &counts {
            summary.records.insert(name, *count);
        }
        match result {
            Ok(()) => {
                for (name, count) in &counts {
                    let seconds = format!("{:.2}", started.elapsed().as_secs_f64());
                    tracing::info!(stream = name, records = count, seconds, "stream done");
                }
            }
            // Jira hides what the account may not see: skip that task, say so, go on. Not the
            // issues refused for the token's scopes: every run would read nothing, and exit 0.
            Err(e)
                if e.is_not_shown()
                    && !(matches!(task, Task::IssueFamily { .. })
                        && matches!(e, Error::ScopeRefused { .. })) =>
            {
                for name in names {
                    let why = match StreamDef::find(name).and_then(|def| def.needs) {
                        Some(needs) => format!("{e} ({needs})"),
                        None => e.to_string(),
                    };
                    tracing::warn!(stream = name, "skipped: {why}");
                    summary.skipped.push((name, why));
                }
            }
            Err(e) => return Err(e),
        }
    }
    summary.refused = std::mem::take(&mut run.parents.refused);
    summary.childless = std::mem::take(&mut run.parents.childless);
    Ok(summary)
}

/// A stream synced on its own, dispatched by its declared replication.
async fn sync_stream<W: Write>(run: &mut Run<'_, '_, W>, emitter: &mut Emitter<'_>) -> Result<()> {
    let def = emitter.stream.def;
    match (def.replication, def.source) {
        (Replication::Full, _) => full_table::sync(run, emitter).await,
        (Replication::Incremental { .. }, Source::WorklogUpdates) => {
            worklogs::sync(run, emitter).await
        }
        (Replication::Incremental { .. }, Source::Since { .. }) => since::sync(run, emitter).await,
        _ => Err(Error::Internal(format!(
            "stream `{}` declares {:?} replication, which its source cannot give",
            def.name, def.replication
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn root(name: &str) -> &'static str {
        root_of(StreamDef::find(name).unwrap())
    }

    #[test]
    fn streams_linked_by_a_parent_share_a_root_and_so_a_lane() {
        assert_eq!(root("versions"), "projects");
        assert_eq!(root("project_role_actors"), "projects");
        assert_eq!(
            root("roles"),
            "projects",
            "the second parent of project roles"
        );
        assert_eq!(root("custom_field_options"), "fields");
        assert_eq!(root("sprint_issues"), "boards");
        assert_eq!(root("group_members"), "groups");
        assert_eq!(root("statuses"), "statuses");
    }
}
