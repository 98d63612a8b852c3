//! The issue family: the issue search (in partitions on a first sync), in `updated` order from
//! the issues bookmark, feeds the `issues` stream and every selected child. Each issue's children
//! are written before the issue, and the STATE after a chunk of a page covers both; lists Jira cut
//! short are completed from their endpoints.

use std::borrow::Cow;
use std::cell::Cell;
use std::collections::{HashMap, HashSet};
use std::io::Write;
use std::pin::{Pin, pin};

use chrono::{DateTime, Utc};
use futures::{Stream, StreamExt, TryStreamExt};
use serde_json::Value;

use super::state::split_deleted;
use super::{Emitter, Run, deletions};
use crate::catalog::SelectedStream;
use crate::client::{ApiRequest, JiraClient, Page, Pagination, RawRecord, Scanned, pages};
use crate::config::{Config, DeletedIssues};
use crate::error::{Error, Result};
use crate::filters::Filters;
use crate::raw::{self, InBase, Layout, Node, Opening, RawObject, WriteText};
use crate::singer::{SingerWriter, time_extracted};
use crate::streams::children::IssueRef;
use crate::streams::issues::{self, IssueQuery, Plan};
use crate::streams::{Ask, Endpoint, IssueList, Rows, Source, When};
use crate::timestamp::{DateSpans, normalize_json, parse_jira};

/// Chunks of search pages whose children are fetched at once, across the searches that run
/// together: two per search, so each search reads its next page while a chunk's children are
/// read (at 50 ms, one per search left a tenth of the request slots idle); few enough that
/// memory stays a few chunks.
const CHUNKS_PREPARED: usize = 6;

/// Searches (partitions) read at once.
const SEARCHES_AT_ONCE: usize = 3;

/// Page size asked of child endpoints: Jira caps it (Cloud at 5000, Server lower), and the caps
/// are followed.
const CHILD_PAGE_SIZE: u32 = 1000;

/// Reads of an issue's list that moves while it is paged (a row before a page deleted or added in
/// Jira meanwhile, which may slip a row into a page already read), each from the start, before
/// what was read is kept.
const LIST_READS: u32 = 3;

/// A selected child stream and the list it is made from.
struct Child<'a> {
    emitter: Emitter<'a>,
    list: &'static IssueList,
    rows: Rows,
}

impl Child<'_> {
    /// The rows of one of an issue's list items.
    fn write_item<'a, W: Write>(
        &mut self,
        writer: &mut SingerWriter<W>,
        issue: &IssueRef<'a>,
        item: Cow<'_, RawObject<'a>>,
        normalize: &impl WriteText,
        extracted: &str,
    ) -> Result<()> {
        self.rows.each(issue, item, |row| {
            self.emitter.emit_raw(writer, row, normalize, extracted)
        })
    }
}

/// An issue's items of `list`, handed to each child made of it (`write` is given the item's
/// index): lent to all but the last child that takes items whole, which is given them, so an
/// item is copied only when two children take it whole.
fn hand_out<'a>(
    children: &mut [Child<'_>],
    list: &IssueList,
    items: Vec<RawObject<'a>>,
    mut write: impl FnMut(&mut Child<'_>, usize, Cow<'_, RawObject<'a>>) -> Result<()>,
) -> Result<()> {
    let mine = |child: &Child<'_>| std::ptr::eq(child.list, list);
    let taker = children
        .iter()
        .rposition(|child| mine(child) && child.rows.take_items());
    for (at, child) in children.iter_mut().enumerate() {
        if mine(child) && Some(at) != taker {
            for (index, item) in items.iter().enumerate() {
                write(child, index, Cow::Borrowed(item))?;
            }
        }
    }
    if let Some(child) = taker.and_then(|at| children.get_mut(at)) {
        for (index, item) in items.into_iter().enumerate() {
            write(child, index, Cow::Owned(item))?;
        }
    }
    Ok(())
}

pub(super) async fn sync_family<W: Write>(
    run: &mut Run<'_, '_, W>,
    issues: Option<&SelectedStream>,
    children: &[&SelectedStream],
    worklogs_apart: bool,
) -> (Vec<(&'static str, u64)>, Result<()>) {
    let mut issue_emitter = issues.map(Emitter::new);
    let mut child_streams: Vec<Child> = children
        .iter()
        .filter_map(|stream| match stream.def.source {
            Source::IssueChild { list, rows } => Some(Child {
                emitter: Emitter::new(stream),
                list,
                rows,
            }),
            _ => None,
        })
        .collect();
    let result = read(
        run,
        issue_emitter.as_mut(),
        &mut child_streams,
        worklogs_apart,
    )
    .await;
    let counts = issue_emitter
        .iter()
        .chain(child_streams.iter().map(|c| &c.emitter))
        .map(|e| (e.name(), e.count))
        .collect();
    (counts, result)
}

async fn read<W: Write>(
    run: &mut Run<'_, '_, W>,
    mut issue_emitter: Option<&mut Emitter<'_>>,
    children: &mut [Child<'_>],
    worklogs_apart: bool,
) -> Result<()> {
    // The search is bookmarked under the issues stream, whether or not it is emitted.
    let bookmark_name = issue_emitter
        .as_ref()
        .map(|e| e.name())
        .or_else(|| {
            children
                .first()
                .and_then(|c| c.emitter.stream.def.source.parent())
        })
        .ok_or_else(|| Error::Internal("an issue family with no stream".into()))?;
    if let Some(emitter) = &issue_emitter {
        emitter.write_schema(run.out.borrow_mut().writer)?;
    }
    for child in children.iter() {
        child.emitter.write_schema(run.out.borrow_mut().writer)?;
    }
    let lists = distinct_lists(children);
    let query = issue_query(
        issue_emitter.as_deref().map(|e| e.stream),
        &lists,
        worklogs_apart,
    );
    let client = run.client;
    let config = run.config;
    let started = Utc::now();
    let (saved, mut deleted) = split_deleted(run.bookmark(bookmark_name));
    // A search that wrote no issue records says nothing of which were written: `issues`, selected
    // since, is read from start_date, not from where its children got to.
    let left_out = issue_emitter.is_none();
    let saved = match saved {
        Some(saved) if !left_out && saved.get(ISSUES_LEFT_OUT) == Some(&Value::Bool(true)) => {
            tracing::warn!(
                "the issues bookmark was moved by runs without the `issues` stream: its issues \
                 are synced from start_date"
            );
            None
        }
        saved => saved,
    };
    // The bookmark as saved: the deletions' beside it, and the mark of a search that wrote no issue.
    let saved_as = |searched, deleted: Option<&Value>| {
        let mut bookmark = with_deleted(searched, deleted);
        if let (Value::Object(map), true) = (&mut bookmark, left_out) {
            map.insert(ISSUES_LEFT_OUT.into(), Value::Bool(true));
        }
        bookmark
    };
    // Deletions are followed from before the first issue is written: a first sync stopped half
    // way and resumed later must report the issues it wrote that went in between.
    let deletions_start =
        !deletions::has_place(deleted.as_ref(), config.deleted_issues) && issue_emitter.is_some();
    if deletions_start {
        // A bookmark without deletions (Stitch's tap reports none) read every change up to its
        // time: the audit log is read from there, so no deletion since its last run is lost.
        let read_up_to = saved
            .as_ref()
            .and_then(|s| s.get("updated"))
            .and_then(Value::as_str)
            .and_then(parse_jira);
        deleted =
            deletions::starting_point(run, read_up_to.unwrap_or(started), deleted.as_ref()).await?;
    }
    let Plan {
        scopes,
        mut progress,
    } = Plan::new(client, saved.as_ref(), config, run.projects).await?;
    // In the state before the first issue, not only with its chunk's STATE: a run killed before
    // that STATE resumes from here.
    if deletions_start && deleted.is_some() {
        run.commit_bookmark(
            bookmark_name,
            saved_as(progress.to_value(), deleted.as_ref()),
        )?;
    }
    let zone = issues::user_time_zone(client.myself());
    let filter = &config.filters.jql(zone);
    let froms: Vec<_> = (0..scopes.len())
        .map(|at| progress.bookmark(at).window_start)
        .collect();
    tracing::info!(
        searches = scopes.len(),
        first = %issues::jql_from(froms[0] - zone.slack, zone.tz, &scopes[0], filter),
        time_zone = %zone.tz,
        fields = query.fields.len(),
        expand = ?query.expand,
        "searching issues"
    );
    // Each search's bookmark as the run began: the issue versions earlier runs wrote, which the
    // look-back reads again and skips, need none of their lists read. Nor do those of a Server
    // search's page before, whose last rows the next page reads again.
    let written_before: Vec<issues::Bookmark> = (0..scopes.len())
        .map(|at| progress.bookmark(at).clone())
        .collect();
    let written_before = &written_before;
    let (chunk_lists, opening): (&[&'static IssueList], &[Opening]) = (&lists, &query.opening);
    let filters = &config.filters;
    // SEARCHES_AT_ONCE searches run together, each with its share of CHUNKS_PREPARED chunks of its
    // pages having their missing children fetched while it goes on; a search's chunks are written
    // in its order. An issue is judged fresh only when its chunk is written (the one before may
    // have written it).
    let at_once = scopes.len().min(SEARCHES_AT_ONCE);
    let ahead = (CHUNKS_PREPARED / at_once).max(1);
    let cut_short = Cell::new(false);
    let cut_short = &cut_short;
    let searches = scopes
        .iter()
        .zip(froms)
        .enumerate()
        .map(|(at, (scope, from))| {
            issues::issue_pages(client, scope, filter, from, zone, &query, config.page_size)
                // A project deleted since the list was read: Jira refuses the JQL that names it.
                // The search ends there, and the partitions stay for the next run to finish.
                .map(move |page| match page {
                    Err(e) if project_vanished(&e, scope) => {
                        tracing::warn!(
                            "a project was deleted while the sync ran; the next run finishes \
                             the partitioned search: {e}"
                        );
                        cut_short.set(true);
                        None
                    }
                    page => Some(page),
                })
                .take_while(|page| futures::future::ready(page.is_some()))
                .filter_map(futures::future::ready)
                .map_ok({
                    let mut page_before: HashMap<String, DateTime<Utc>> = HashMap::new();
                    move |page| {
                        let before = written_before.get(at);
                        let written = |id: &str, t: DateTime<Utc>| {
                            page_before.get(id) == Some(&t)
                                || before.is_some_and(|b| b.already_written(id, t))
                        };
                        let chunks = chunks(chunk_lists, opening, page, filters, written);
                        page_before = chunks
                            .iter()
                            .flat_map(|c| &c.wants)
                            .filter_map(|w| Some((w.id.clone(), w.updated?)))
                            .collect();
                        futures::stream::iter(chunks).map(Ok)
                    }
                })
                .try_flatten()
                .map_ok(|chunk| prepare(client, config, &lists, chunk))
                .try_buffered(ahead)
                .map_ok(move |chunk| (at, chunk))
                .boxed_local()
        });
    let mut prepared = pin!(futures::stream::iter(searches).flatten_unordered(at_once));
    let mut odd = Oddities::default();
    // The ids of the issues this run writes, when deletions are found by reconciling: one
    // written and then deleted before the ids are listed is in no listing.
    let mut written = (config.deleted_issues == DeletedIssues::Reconcile).then(Vec::new);
    let mut listing = deletions::Listing::of(deleted.as_ref(), config.deleted_issues);
    while let Some((at, chunk)) = prepared.try_next().await? {
        write_prepared(
            run,
            chunk,
            &lists,
            issue_emitter.as_deref_mut(),
            children,
            progress.bookmark(at),
            &mut odd,
            written.as_mut(),
        )
        .await?;
        if let (Some(listing), Some(written), Some(deleted)) =
            (listing.as_mut(), written.as_ref(), deleted.as_mut())
        {
            listing.add(written, deleted);
        }
        run.commit_bookmark(
            bookmark_name,
            saved_as(progress.to_value(), deleted.as_ref()),
        )?;
    }
    odd.report();
    let searched = if progress.is_partitioned() && !cut_short.get() {
        progress.finished()
    } else {
        progress.to_value()
    };
    if let Some(emitter) = issue_emitter {
        let written = written.unwrap_or_default();
        let found = deletions::sync(run, emitter, deleted.as_ref(), started, written).await?;
        // Written before the state lists them: a run stopped in between finds them back again.
        if !found.back.is_empty() {
            write_again(run, emitter, children, &lists, &query, &found.back).await?;
        }
        deleted = found.deleted;
    }
    run.commit_bookmark(bookmark_name, saved_as(searched, deleted.as_ref()))
}

/// Writes again, with their children, the issues whose ids came back to the listing (see
/// `deletions::Found`): read by id, apart from the search by `updated`, so the search's bookmark
/// neither skips them nor moves.
async fn write_again<W: Write>(
    run: &Run<'_, '_, W>,
    issue_emitter: &mut Emitter<'_>,
    children: &mut [Child<'_>],
    lists: &[&'static IssueList],
    query: &IssueQuery,
    back: &[u64],
) -> Result<()> {
    let client = run.client;
    let config = run.config;
    let filter = config.filters.jql(issues::user_time_zone(client.myself()));
    let ids: Vec<String> = back.iter().map(u64::to_string).collect();
    let mut odd = Oddities::default();
    let mut pages = pin!(issues::issues_with_ids(
        client,
        &ids,
        &filter,
        query,
        config.page_size
    ));
    while let Some(page) = pages.try_next().await? {
        // Each page is in `updated` order, but not after the one before: a bookmark of its own
        // skips nothing.
        let mut bookmark = issues::Bookmark::starting_at(DateTime::UNIX_EPOCH);
        for chunk in chunks(lists, &query.opening, page, &config.filters, |_, _| false) {
            let chunk = prepare(client, config, lists, chunk).await?;
            write_prepared(
                run,
                chunk,
                lists,
                Some(&mut *issue_emitter),
                children,
                &mut bookmark,
                &mut odd,
                None,
            )
            .await?;
        }
    }
    odd.report();
    tracing::info!(
        issues = back.len(),
        "wrote again the issues whose ids came back to the listing"
    );
    Ok(())
}

/// Marks an issues bookmark moved by a search that wrote only children (`issues` not selected).
const ISSUES_LEFT_OUT: &str = "issues_left_out";

/// The search's bookmark with the deletions' beside it.
pub(super) fn with_deleted(mut searched: Value, deleted: Option<&Value>) -> Value {
    if let (Value::Object(map), Some(deleted)) = (&mut searched, deleted) {
        map.insert("deleted".into(), deleted.clone());
    }
    searched
}

/// Jira's answer to JQL naming a project of the search's own partition that no longer exists.
/// A project of the user's filters that Jira does not know is not this: it fails every search
/// of every run, and is the user's to fix.
fn project_vanished(e: &Error, scope: &issues::Scope) -> bool {
    let ids: &[String] = match scope {
        issues::Scope::Site => return false,
        issues::Scope::Projects(ids) | issues::Scope::OtherThan(ids) => ids,
    };
    matches!(e, Error::Http { status: 400, excerpt, .. }
    if ids.iter().any(|id| {
        excerpt.contains(&format!("The value '{id}' does not exist for the field 'project'"))
    }))
}

/// Issues written without moving the bookmark, counted for one warning each at the end of the run.
#[derive(Default)]
struct Oddities {
    /// Returned behind the look-back window, out of `updated` order.
    late: u64,
    /// With an `updated` the state cannot hold, or in the future.
    unbookmarkable: u64,
    /// An example of each, for the warning.
    late_example: Option<String>,
    unbookmarkable_example: Option<String>,
}

impl Oddities {
    fn report(&self) {
        if self.late > 0 {
            tracing::warn!(
                issues = self.late,
                example = self.late_example.as_deref().unwrap_or(""),
                "issues came back out of `updated` order, older than the look-back window behind \
                 issues already read; they were written (raise lookback_minutes if this repeats)"
            );
        }
        if self.unbookmarkable > 0 {
            tracing::warn!(
                issues = self.unbookmarkable,
                example = self.unbookmarkable_example.as_deref().unwrap_or(""),
                "issues have an `updated` outside the {} or in the future; they were written, \
                 but the bookmark does not move to them (they are read again on the next run)",
                crate::timestamp::YEARS
            );
        }
    }
}

/// Writes a prepared chunk: the long lists of its issue a page at a time as they are read, then
/// the rest of it (`write_chunk`), which holds the output with no await until its STATE. The
/// issues judged written when it was made whose version the bookmark does not hold have their
/// lists read first.
#[allow(clippy::too_many_arguments)]
async fn write_prepared<W: Write>(
    run: &Run<'_, '_, W>,
    mut chunk: Prepared<'_>,
    lists: &[&'static IssueList],
    issue_emitter: Option<&mut Emitter<'_>>,
    children: &mut [Child<'_>],
    bookmark: &mut issues::Bookmark,
    odd: &mut Oddities,
    written: Option<&mut Vec<u64>>,
) -> Result<()> {
    let long = std::mem::take(&mut chunk.long);
    if !long.is_empty() {
        chunk.one_by_one = write_long_lists(run, &chunk, long, lists, children, bookmark).await?;
    }
    // An issue skipped as written that the bookmark does not hold (written out of `updated`
    // order, or dated where no bookmark goes) is written again: its lists are read now.
    let unwritten: Vec<Wants> = std::mem::take(&mut chunk.skipped)
        .into_iter()
        .filter(|w| {
            w.updated.is_some_and(|t| {
                !bookmark.already_written(&w.id, t) || bookmark.arrived_late(&w.id, t)
            })
        })
        .collect();
    if !unwritten.is_empty() {
        let (whole, one_by_one) = read_lists(run.client, run.config, lists, &unwritten).await?;
        for (at, found) in whole.into_iter().enumerate() {
            if let (Some(found), Some(mine)) = (found, chunk.whole.get_mut(at)) {
                mine.get_or_insert_with(HashMap::new).extend(found);
            }
        }
        chunk.one_by_one.extend(one_by_one);
    }
    let mut out = run.out.borrow_mut();
    write_chunk(
        out.writer,
        chunk,
        lists,
        issue_emitter,
        children,
        bookmark,
        run.config,
        odd,
        written,
    )
}

/// Writes a chunk's issues not written before, in search order: each issue's children, then the
/// issue, all passed through as JSON text.
#[allow(clippy::too_many_arguments)]
fn write_chunk<W: Write>(
    writer: &mut SingerWriter<W>,
    chunk: Prepared<'_>,
    lists: &[&'static IssueList],
    mut issue_emitter: Option<&mut Emitter<'_>>,
    children: &mut [Child<'_>],
    bookmark: &mut issues::Bookmark,
    config: &Config,
    odd: &mut Oddities,
    mut written: Option<&mut Vec<u64>>,
) -> Result<()> {
    let now = Utc::now();
    let extracted = time_extracted(now);
    let Prepared {
        items,
        layouts,
        mut whole,
        mut one_by_one,
        newest_before,
        ..
    } = chunk;
    let mut newest_on_page = newest_before;
    for (item, scanned) in items.iter().zip(&layouts) {
        let text = item.get();
        let Some(mut issue) = take_apart(text, scanned.as_ref()) else {
            tracing::warn!("skipped an issue that is not a JSON object");
            continue;
        };
        let Some((id, updated)) = issues::cursor_of(&issue) else {
            tracing::warn!("skipped an issue without id or fields.updated");
            continue;
        };
        let late = arrived_late(bookmark, &id, updated, newest_on_page);
        newest_on_page = newest_on_page.max(Some(updated));
        if !late && bookmark.already_written(&id, updated) {
            continue;
        }
        let key = issue_key(&issue);
        let issue_ref = issue_ref(&issue, &id, key.as_deref());
        // The date-times of the issue's text, embedded lists included, were found when it was
        // taken apart.
        let normalize = InBase {
            base: text,
            write: |part: &str, out: &mut String| match scanned {
                Some(scanned) => scanned.dates.normalize_into(text, part, out),
                None => normalize_json(part, out),
            },
        };
        for (at, list) in lists.iter().enumerate() {
            // The child stream has the list: the issue record need not carry it twice.
            let embedded = list.take_from(&mut issue);
            let fetched = whole[at]
                .as_mut()
                .and_then(|lists| lists.remove(&id))
                .or_else(|| one_by_one.remove(&(at, id.clone())));
            match fetched {
                Some(mut fetched) => {
                    write_fetched(writer, children, list, &issue_ref, &mut fetched, &extracted)?
                }
                None => hand_out(children, list, embedded, |child, _, item| {
                    child.write_item(writer, &issue_ref, item, &normalize, &extracted)
                })?,
            }
        }
        if let Some(emitter) = issue_emitter.as_deref_mut() {
            issues::hoist_timestamps(&mut issue);
            emitter.emit_raw(writer, issue, &normalize, &extracted)?;
            // Parsed only when reconciling: this runs for every issue.
            if let Some(written) = written.as_deref_mut()
                && let Ok(id) = id.parse::<u64>()
            {
                written.push(id);
            }
        }
        let example = || format!("{id} updated {}", crate::timestamp::format_utc(updated));
        if late {
            odd.late += 1;
            odd.late_example.get_or_insert_with(example);
        } else if !crate::timestamp::bookmarkable(updated, now) {
            odd.unbookmarkable += 1;
            odd.unbookmarkable_example.get_or_insert_with(example);
        } else {
            bookmark.record(&id, updated, config.lookback);
        }
    }
    Ok(())
}

/// Whether an issue came back out of `updated` order behind the window, to be written though the
/// window says it was: only an issue older than one before it on the same page (`newest`, the
/// chunks before its own included) is out of order, as a Server search restarts at a minute
/// already read, and rows read again are not late.
fn arrived_late(
    bookmark: &issues::Bookmark,
    id: &str,
    updated: DateTime<Utc>,
    newest: Option<DateTime<Utc>>,
) -> bool {
    newest.is_some_and(|newest| updated < newest) && bookmark.arrived_late(id, updated)
}

/// An issue of a search page as an object: by the layout found when its page was read, or
/// parsed.
fn take_apart<'t>(text: &'t str, scanned: Option<&Scanned>) -> Option<RawObject<'t>> {
    scanned
        .and_then(|s| s.layout.apply(text))
        .or_else(|| RawObject::parse(text))
}

fn issue_key<'t>(issue: &RawObject<'t>) -> Option<Cow<'t, str>> {
    issue.get("key").and_then(Node::text).and_then(raw::as_str)
}

/// The issue as its children's rows name it.
fn issue_ref<'a>(issue: &RawObject<'a>, id: &'a str, key: Option<&'a str>) -> IssueRef<'a> {
    IssueRef {
        id,
        id_json: issue
            .get("id")
            .and_then(Node::text)
            .and_then(|token| raw::plain_string_token(token, id)),
        key,
    }
}

/// Items of an issue's list read from an endpoint, written as rows of the children made of it.
fn write_fetched<W: Write>(
    writer: &mut SingerWriter<W>,
    children: &mut [Child<'_>],
    list: &IssueList,
    issue: &IssueRef<'_>,
    fetched: &mut [RawRecord],
    extracted: &str,
) -> Result<()> {
    // Each item read from an endpoint is a text of its own, with its own date-times.
    let (items, texts): (Vec<_>, Vec<_>) = fetched
        .iter_mut()
        .filter_map(RawRecord::taken_apart)
        .map(|(item, text, dates)| (item, (text, dates)))
        .unzip();
    hand_out(children, list, items, |child, index, item| {
        let (text, dates) = &texts[index];
        child.write_item(writer, issue, item, &dates.rewriting(text), extracted)
    })
}

/// Pages of one issue's list, read as they are asked for.
type ListPages<'c> = Pin<Box<dyn Stream<Item = Result<Vec<RawRecord>>> + 'c>>;

/// A list of an issue that needs more read than a chunk holds (its chunk's only issue): its first
/// page is read with the chunk, so lists that fit a page wait for nothing when written; the rest
/// is read a page at a time as the issue is written.
struct LongList<'c> {
    at: usize,
    opened: Result<(Vec<RawRecord>, ListPages<'c>)>,
}

/// Opens an issue's list: from the bulk endpoint where there is one and it answers for the
/// issue, or else from the issue's own. Its first page, and the pages after it.
async fn open_list<'c>(
    client: &'c JiraClient,
    list: &'static IssueList,
    id: &str,
) -> Result<(Vec<RawRecord>, ListPages<'c>)> {
    let deployment = client.deployment();
    if let Some(bulk) = list.bulk.filter(|b| b.available_on(deployment)) {
        let wanted = id.to_string();
        let mut pages = Box::pin(
            bulk.pages(client, vec![id.to_string()])
                .map_ok(move |page| {
                    page.into_iter()
                        .find(|(id, _)| *id == wanted)
                        .map(|(_, items)| items)
                }),
        );
        match pages.try_next().await {
            Ok(Some(Some(first))) => {
                // One issue's histories may go on over the next pages.
                let rest = Box::pin(pages.map_ok(Option::unwrap_or_default));
                let rest = bulk_then_own(client, list, id.to_string(), &first, rest);
                return Ok((first, rest));
            }
            // Left out (hidden or deleted since the search): the issue's own endpoint says so.
            Ok(_) => {}
            Err(e) if bulk_refused(&e, list) => {}
            Err(e) => return Err(e),
        }
    }
    let mut pages = own_pages(client, list, id)?;
    let first = pages.try_next().await?.unwrap_or_default();
    Ok((first, pages))
}

/// The pages of an issue's list from the issue's own endpoint (none where there is none). A list
/// that moves while it is paged is read again from the start, and the items passed on already
/// are skipped: their ids are kept, for this list only, as it is read.
fn own_pages<'c>(client: &'c JiraClient, list: &IssueList, id: &str) -> Result<ListPages<'c>> {
    let Some(rest) = list.rest else {
        return Ok(Box::pin(futures::stream::empty()));
    };
    let (request, pagination) = rest
        .endpoint
        .on(client.deployment())
        .request(client, &[("issueId", id)])?;
    let request = request.taking_records_apart();
    let mut given: HashSet<String> = HashSet::new();
    let reads = list_reads(client, request, pagination, id.to_string(), list.name);
    Ok(Box::pin(reads.try_filter_map(move |(read, mut items)| {
        if read > 1 {
            items.retain(|item| item_id(item).is_none_or(|id| !given.contains(&id)));
        }
        given.extend(items.iter().filter_map(item_id));
        futures::future::ready(Ok((!items.is_empty()).then_some(items)))
    })))
}

/// An issue's whole list from its endpoint. A list that moves while it is paged is read again from
/// the start, and only the last read is kept.
async fn whole_list(
    client: &JiraClient,
    request: ApiRequest,
    pagination: Pagination,
    id: &str,
    name: &'static str,
) -> Result<Vec<RawRecord>> {
    let mut reads = pin!(list_reads(
        client,
        request,
        pagination,
        id.to_string(),
        name
    ));
    let (mut items, mut at) = (Vec::new(), 1);
    while let Some((read, page)) = reads.try_next().await? {
        if read != at {
            items.clear();
            at = read;
        }
        items.extend(page);
    }
    Ok(items)
}

/// The pages of an issue's list from its endpoint, each with the read it belongs to (1, 2, …): a
/// list that moves while it is paged is read again from the start, up to `LIST_READS` times.
fn list_reads<'c>(
    client: &'c JiraClient,
    request: ApiRequest,
    pagination: Pagination,
    id: String,
    name: &'static str,
) -> impl Stream<Item = Result<(u32, Vec<RawRecord>)>> + 'c {
    async_stream::try_stream! {
        let mut read = 1;
        loop {
            let mut pages = pin!(pages::<RawRecord>(
                client,
                request.clone(),
                pagination,
                CHILD_PAGE_SIZE
            ));
            let mut again = false;
            while let Some(page) = pages.try_next().await? {
                again = page.moved() && read_again(read, &id, name);
                if again {
                    break;
                }
                yield (read, page.items);
            }
            if !again {
                break;
            }
            read += 1;
        }
    }
}

/// Whether an issue's list that moved on its `read`th read is read again from the start; the
/// last read is kept as it is, with a warning.
fn read_again(read: u32, id: &str, name: &str) -> bool {
    if read < LIST_READS {
        tracing::debug!(
            issue = id,
            list = name,
            "reading the list again from its start"
        );
        return true;
    }
    tracing::warn!(
        issue = id,
        list = name,
        "the list changed each of the {LIST_READS} times it was read: kept as read, and a row \
         may be missing until the issue changes again"
    );
    false
}

/// An item's `id`, which tells it from the others of its list.
fn item_id(item: &RawRecord) -> Option<String> {
    raw::field(item.get(), "id").and_then(raw::id_text)
}

/// The bulk pages of an issue's list after its first; should the bulk endpoint refuse one (a
/// token that lost a permission mid-run), the rest from the issue's own endpoint, as when it
/// refuses the first. The items the bulk pages gave are skipped there, so none is written twice.
fn bulk_then_own<'c>(
    client: &'c JiraClient,
    list: &'static IssueList,
    id: String,
    first: &[RawRecord],
    mut bulk: ListPages<'c>,
) -> ListPages<'c> {
    let mut given: HashSet<String> = first.iter().filter_map(item_id).collect();
    Box::pin(async_stream::try_stream! {
        let mut refused = false;
        while !refused {
            match bulk.try_next().await {
                Ok(Some(page)) => {
                    given.extend(page.iter().filter_map(item_id));
                    yield page;
                }
                Ok(None) => break,
                Err(e) if bulk_refused(&e, list) => refused = true,
                Err(e) => Err(e)?,
            }
        }
        if refused {
            let mut own = own_pages(client, list, &id)?;
            while let Some(mut page) = own.try_next().await? {
                page.retain(|item| item_id(item).is_none_or(|id| !given.contains(&id)));
                yield page;
            }
        }
    })
}

/// Writes the long lists of an issue, a page at a time as they are read, ahead of the issue.
/// They are returned as read whole and empty, so nothing is written twice; a list whose endpoint
/// refuses before its first page is not, and its embedded items are written instead.
async fn write_long_lists<W: Write>(
    run: &Run<'_, '_, W>,
    chunk: &Prepared<'_>,
    long: Vec<LongList<'_>>,
    lists: &[&'static IssueList],
    children: &mut [Child<'_>],
    bookmark: &issues::Bookmark,
) -> Result<HashMap<(usize, String), Vec<RawRecord>>> {
    let mut written = HashMap::new();
    let (Some(item), Some(scanned)) = (chunk.items.first(), chunk.layouts.first()) else {
        return Ok(written);
    };
    // What cannot be read here is skipped, with a warning, when the issue is written.
    let text = item.get();
    let Some(issue) = take_apart(text, scanned.as_ref()) else {
        return Ok(written);
    };
    let Some((id, updated)) = issues::cursor_of(&issue) else {
        return Ok(written);
    };
    let late = arrived_late(bookmark, &id, updated, chunk.newest_before);
    if !late && bookmark.already_written(&id, updated) {
        return Ok(written);
    }
    let key = issue_key(&issue);
    let issue = issue_ref(&issue, &id, key.as_deref());
    let extracted = time_extracted(Utc::now());
    for LongList { at, opened } in long {
        let Some(list) = lists.get(at) else { continue };
        let mut pages_written = false;
        let whole = async {
            let (mut page, mut rest) = opened?;
            loop {
                {
                    let mut out = run.out.borrow_mut();
                    write_fetched(out.writer, children, list, &issue, &mut page, &extracted)?;
                }
                pages_written = true;
                match rest.try_next().await? {
                    Some(next) => page = next,
                    None => return Ok::<(), Error>(()),
                }
            }
        };
        match whole.await {
            Ok(()) => {
                written.insert((at, id.clone()), Vec::new());
            }
            // Hidden or deleted since the search.
            Err(e) if e.is_not_shown() => {
                if pages_written {
                    // The pages written stand; the embedded items, among them, are not written
                    // again.
                    warn_unread(&e, &id, list, "the rest of the list could not be read");
                    written.insert((at, id.clone()), Vec::new());
                } else {
                    warn_unread(&e, &id, list, unread(list));
                }
            }
            Err(e) => return Err(e),
        }
    }
    Ok(written)
}

/// Warns that an issue's list could not be read, `what` was done instead; for a refusal for the
/// token's scopes, which the client told once for every issue, only in the debug log.
fn warn_unread(e: &Error, issue: &str, list: &IssueList, what: &str) {
    if matches!(e, Error::ScopeRefused { .. }) {
        tracing::debug!(issue, list = list.name, "{what}: {e}");
    } else {
        tracing::warn!(issue, list = list.name, "{what}: {e}");
    }
}

/// What a warning says of an issue's list Jira refused to read: the items its search embedded
/// are written, where it embeds any (votes, watchers and remote links it embeds none of).
fn unread(list: &IssueList) -> &'static str {
    if list.embedded.is_some() {
        "kept the embedded items only"
    } else {
        "skipped this issue's list"
    }
}

/// Lists of JSON texts, by issue id.
type Lists = HashMap<String, Vec<RawRecord>>;

/// A chunk with the whole lists its issues need beyond what was embedded.
struct Prepared<'c> {
    items: Vec<RawRecord>,
    /// Per item, how it was taken apart to see what it needs, so it is not scanned again.
    layouts: Vec<Option<Scanned>>,
    /// Per list, the lists read in bulk, by issue id (`None`: no bulk endpoint, or it refused).
    whole: Vec<Option<Lists>>,
    /// The lists read issue by issue, by list and issue id.
    one_by_one: HashMap<(usize, String), Vec<RawRecord>>,
    /// The lists of an issue that needs more read than a chunk holds, written a page at a time.
    long: Vec<LongList<'c>>,
    /// The newest `updated` of the issues before the chunk on its page.
    newest_before: Option<DateTime<Utc>>,
    /// What the issues judged written would have needed read (see `Chunk::skipped`).
    skipped: Vec<Wants>,
}

/// Child records a chunk of a search page is expected to bring, by the counts its issues carry:
/// a page of busy issues is prepared and written a few issues at a time, so memory holds a few
/// thousand records whatever the issues hold (six chunks are prepared at once; at 2,000 a chunk,
/// peak memory at 100,000 issues was 63 MiB, at 1,000 it is 56 MiB and no slower).
const CHUNK_RECORDS: u64 = 1000;

/// Consecutive issues of a search page, prepared and written together.
#[derive(Default)]
struct Chunk {
    items: Vec<RawRecord>,
    layouts: Vec<Option<Scanned>>,
    wants: Vec<Wants>,
    /// The newest `updated` of the issues before the chunk on its page.
    newest_before: Option<DateTime<Utc>>,
    /// What the issues judged written when the chunk was made would need read: checked with the
    /// bookmark when the chunk is written.
    skipped: Vec<Wants>,
}

/// Splits a search page into chunks whose issues need at most CHUNK_RECORDS items read from the
/// child endpoints (an issue needing more is a chunk of its own). The versions `written` says were
/// written are skipped when written: nothing is read for them.
fn chunks(
    lists: &[&'static IssueList],
    opening: &[Opening],
    page: Page,
    filters: &Filters,
    written: impl Fn(&str, DateTime<Utc>) -> bool,
) -> Vec<Chunk> {
    let mut all = Vec::new();
    let mut chunk = Chunk::default();
    let mut records: u64 = 0;
    // The newest `updated` of the page so far, for telling issues out of order past a chunk.
    let mut newest = None;
    for mut item in page.items {
        if filters.has_windows() && !in_windows(filters, &item) {
            continue;
        }
        let scanned = item.take_scanned();
        let (mut wants, layout) = Wants::of(lists, opening, &item, scanned);
        if let Some(w) = wants.as_mut()
            && w.lists.contains(&true)
            && w.updated.is_some_and(|t| written(&w.id, t))
        {
            chunk.skipped.push(Wants {
                id: w.id.clone(),
                lists: std::mem::replace(&mut w.lists, vec![false; lists.len()]),
                records: std::mem::take(&mut w.records),
                updated: w.updated,
            });
        }
        let needs = wants.as_ref().map_or(0, |w| w.records);
        // Issues that need nothing read do not make room for one that needs more than a chunk:
        // that one is read and written alone, a page at a time.
        if !chunk.items.is_empty() && records.saturating_add(needs) > CHUNK_RECORDS {
            all.push(std::mem::take(&mut chunk));
            records = 0;
            chunk.newest_before = newest;
        }
        newest = newest.max(wants.as_ref().and_then(|w| w.updated));
        records = records.saturating_add(needs);
        chunk.items.push(item);
        chunk.layouts.push(layout);
        chunk.wants.extend(wants);
    }
    if !chunk.items.is_empty() {
        all.push(chunk);
    }
    all
}

/// Whether an issue was created and updated inside the configured windows, to the millisecond
/// (the search was only as exact as JQL's minutes).
fn in_windows(filters: &Filters, item: &RawRecord) -> bool {
    // An issue that is not an object, or has no `updated`, is judged (and skipped with a
    // warning) where it is written.
    RawObject::parse(item.get())
        .and_then(|issue| issues::windows_keep(filters, &issue))
        .unwrap_or(true)
}

/// An issue of a search page, which of the lists it needs read from their endpoints, and how
/// many items those will give, by the issue's counts.
struct Wants {
    id: String,
    lists: Vec<bool>,
    records: u64,
    /// Its `fields.updated`, where it has one.
    updated: Option<DateTime<Utc>>,
}

impl Wants {
    /// What the issue needs, and what taking it apart found (`scanned`, when its page was
    /// taken apart as it was read).
    fn of(
        lists: &[&'static IssueList],
        opening: &[Opening],
        item: &RawRecord,
        scanned: Option<Scanned>,
    ) -> (Option<Wants>, Option<Scanned>) {
        let text = item.get();
        // The lists' items are not needed to know what to read: they are put back when written.
        let taken_apart = |s: Scanned| Some((s.layout.apply_without_items(text)?, s));
        let (issue, scanned) = match scanned.and_then(taken_apart) {
            Some((issue, scanned)) => (issue, Some(scanned)),
            None => {
                let mut dates = DateSpans::new(text);
                // The lists and the pages around them are taken apart with the issue, not
                // scanned again for each question about them.
                let Some(issue) =
                    RawObject::parse_opening_seeing(text, opening, &mut |s| dates.see(text, s))
                else {
                    return (None, None);
                };
                let scanned = Layout::of(&issue, text).map(|layout| Scanned { layout, dates });
                (issue, scanned)
            }
        };
        let wants = issue
            .get("id")
            .and_then(Node::text)
            .and_then(raw::id_text)
            .map(|id| {
                let items: Vec<Option<u64>> =
                    lists.iter().map(|list| list.rest_items(&issue)).collect();
                Wants {
                    id,
                    lists: items.iter().map(Option::is_some).collect(),
                    // Totals are Jira's word: they may be anything.
                    records: items.iter().flatten().fold(0, |a, b| a.saturating_add(*b)),
                    updated: issue
                        .pointer("/fields/updated")
                        .and_then(raw::as_str)
                        .and_then(|t| parse_jira(&t)),
                }
            });
        (wants, scanned)
    }
}

/// Reads what the chunk's issues need beyond what was embedded (`read_lists`).
async fn prepare<'c>(
    client: &'c JiraClient,
    config: &Config,
    lists: &[&'static IssueList],
    chunk: Chunk,
) -> Result<Prepared<'c>> {
    let Chunk {
        items,
        layouts,
        wants,
        newest_before,
        skipped,
    } = chunk;
    if let [issue] = wants.as_slice()
        && issue.records > CHUNK_RECORDS
    {
        let opening = lists
            .iter()
            .enumerate()
            .filter(|(at, _)| issue.lists.get(*at).copied().unwrap_or(false))
            .map(|(at, list)| async move {
                let opened = open_list(client, list, &issue.id).await;
                LongList { at, opened }
            });
        return Ok(Prepared {
            long: futures::future::join_all(opening).await,
            items,
            layouts,
            whole: lists.iter().map(|_| None).collect(),
            one_by_one: HashMap::new(),
            newest_before,
            skipped,
        });
    }
    let (whole, one_by_one) = read_lists(client, config, lists, &wants).await?;
    Ok(Prepared {
        items,
        layouts,
        whole,
        one_by_one,
        long: Vec::new(),
        newest_before,
        skipped,
    })
}

/// The whole lists the issues need beyond what was embedded: the bulk endpoints and the
/// per-issue endpoints at once, and per issue what a refused bulk endpoint did not give.
async fn read_lists(
    client: &JiraClient,
    config: &Config,
    lists: &[&'static IssueList],
    wants: &[Wants],
) -> Result<(Vec<Option<Lists>>, HashMap<(usize, String), Vec<RawRecord>>)> {
    let deployment = client.deployment();
    let in_bulk = |list: &IssueList| list.bulk.is_some_and(|b| b.available_on(deployment));
    let (whole, mut one_by_one) = futures::try_join!(
        bulk_lists(client, lists, wants),
        rest_lists(client, config, lists, wants, |at| !in_bulk(lists[at])),
    )?;
    // What a bulk endpoint refused, or answered without (an issue hidden or deleted since the
    // search, or one Jira left out), is read issue by issue: a list cut short is never kept
    // as if whole.
    let unanswered: Vec<Wants> = wants
        .iter()
        .filter_map(|issue| {
            let left: Vec<bool> = (0..lists.len())
                .map(|at| {
                    issue.lists[at]
                        && in_bulk(lists[at])
                        && whole[at]
                            .as_ref()
                            .is_none_or(|found| !found.contains_key(&issue.id))
                })
                .collect();
            left.contains(&true).then(|| Wants {
                id: issue.id.clone(),
                lists: left,
                records: issue.records,
                updated: issue.updated,
            })
        })
        .collect();
    if !unanswered.is_empty() {
        let in_bulk_at = |at: usize| in_bulk(lists[at]);
        one_by_one.extend(rest_lists(client, config, lists, &unanswered, in_bulk_at).await?);
    }
    Ok((whole, one_by_one))
}

/// For each list with a bulk endpoint on this deployment, the whole lists of the chunk's issues
/// that need more than was embedded, fetched together; `None` where there is no bulk endpoint
/// (or it refused), so those issues are read one by one.
async fn bulk_lists(
    client: &JiraClient,
    lists: &[&'static IssueList],
    issues: &[Wants],
) -> Result<Vec<Option<Lists>>> {
    let deployment = client.deployment();
    let mut out = Vec::with_capacity(lists.len());
    for (at, list) in lists.iter().enumerate() {
        let Some(bulk) = list.bulk.filter(|b| b.available_on(deployment)) else {
            out.push(None);
            continue;
        };
        let wanted: Vec<String> = issues
            .iter()
            .filter(|issue| issue.lists[at])
            .map(|issue| issue.id.clone())
            .collect();
        if wanted.is_empty() {
            out.push(Some(HashMap::new()));
            continue;
        }
        match bulk.fetch(client, &wanted).await {
            Ok(found) => out.push(Some(found)),
            Err(e) if bulk_refused(&e, list) => out.push(None),
            Err(e) => return Err(e),
        }
    }
    Ok(out)
}

/// Whether a bulk endpoint refused (an older site without it): its issues are then read one by
/// one. Says so in the log.
fn bulk_refused(e: &Error, list: &IssueList) -> bool {
    let refused = matches!(
        e,
        Error::Http {
            status: 400 | 403 | 404 | 405,
            ..
        } | Error::ScopeRefused { .. }
    );
    if refused {
        tracing::warn!(
            list = list.name,
            "bulk endpoint refused, reading issue by issue: {e}"
        );
    }
    refused
}

/// The issue field embedding an issue's first 20 worklogs.
const WORKLOG_FIELD: &str = "worklog";

/// The lists the selected children are made from, each once (changelogs and field history share one).
fn distinct_lists(children: &[Child<'_>]) -> Vec<&'static IssueList> {
    let mut lists: Vec<&'static IssueList> = Vec::new();
    for child in children {
        if !lists.iter().any(|l| std::ptr::eq(*l, child.list)) {
            lists.push(child.list);
        }
    }
    lists
}

/// What the search must bring: the issue fields selected, plus what each child list needs, less
/// the worklogs `worklogs` has whole when `worklogs_apart`.
fn issue_query(
    issues: Option<&SelectedStream>,
    lists: &[&'static IssueList],
    worklogs_apart: bool,
) -> IssueQuery {
    let mut fields = match issues {
        Some(stream) => requested_fields(stream),
        None => vec!["updated".into(), "created".into()],
    };
    if worklogs_apart {
        fields.retain(|f| f != WORKLOG_FIELD);
        if fields.iter().any(|f| f == "*all") {
            fields.push(format!("-{WORKLOG_FIELD}"));
        }
    }
    let mut expand: Vec<String> = Vec::new();
    let add = |list: &mut Vec<String>, name: &str| {
        if !list.iter().any(|f| f == name || f == "*all") {
            list.push(name.to_string());
        }
    };
    for list in lists {
        match list.embedded.map(|e| e.ask) {
            Some(Ask::Field(field)) => add(&mut fields, field),
            Some(Ask::Expand(name)) => add(&mut expand, name),
            None => {}
        }
        if let Some(When::CountAbove0 { field, .. }) = list.rest.map(|r| r.when) {
            add(&mut fields, field);
        }
    }
    // The fields, the pages around lists Jira may cut short, and the lists' items are taken
    // apart as the search pages are read.
    let pages = lists.iter().filter_map(|l| l.embedded.and_then(|e| e.page));
    let embedded = lists.iter().filter_map(|l| l.embedded.map(|e| e.list));
    let objects = std::iter::once("/fields").chain(pages);
    let opening = Opening::to_objects_and_lists(objects, embedded).into();
    IssueQuery {
        fields,
        expand,
        opening,
    }
}

/// The whole lists of the chunk's issues that need their child endpoint, for the lists `which`
/// picks (by index), read concurrently within the client's budget, by list and issue. An issue
/// hidden or deleted since the search keeps what was embedded.
async fn rest_lists(
    client: &JiraClient,
    config: &Config,
    lists: &[&'static IssueList],
    issues: &[Wants],
    which: impl Fn(usize) -> bool,
) -> Result<HashMap<(usize, String), Vec<RawRecord>>> {
    let deployment = client.deployment();
    let mut wanted: Vec<(usize, String, Endpoint)> = Vec::new();
    for (at, list) in lists.iter().enumerate().filter(|(at, _)| which(*at)) {
        let Some(rest) = list.rest else { continue };
        for issue in issues.iter().filter(|issue| issue.lists[at]) {
            wanted.push((at, issue.id.clone(), rest.endpoint.on(deployment)));
        }
    }
    let read = wanted.into_iter().map(|(at, id, endpoint)| async move {
        let (request, pagination) = endpoint.request(client, &[("issueId", &id)])?;
        let request = request.taking_records_apart();
        // Jira does not say which slice it embedded (the changelog is "most recent first" on
        // some versions): the whole list is read again rather than stitched.
        let whole = whole_list(client, request, pagination, &id, lists[at].name).await;
        match whole {
            Ok(items) => Ok(Some(((at, id), items))),
            Err(e) if e.is_not_shown() => {
                warn_unread(&e, &id, lists[at], unread(lists[at]));
                Ok(None)
            }
            Err(e) => Err(e),
        }
    });
    let found: Vec<_> = futures::stream::iter(read)
        .buffer_unordered(config.max_concurrency)
        .try_collect()
        .await?;
    Ok(found.into_iter().flatten().collect())
}

/// The issue fields to ask Jira for, by their Jira ids: the selected ones, plus what the bookmark
/// needs. A catalog whose `fields` schema is open (Stitch's: `patternProperties`) selects them all.
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
        .map(|f| {
            f.keys()
                .map(|column| match &stream.columns {
                    Some(columns) => columns.id_of(column).unwrap_or(column).to_string(),
                    None => column.clone(),
                })
                .collect()
        })
        .unwrap_or_default();
    for always in ["updated", "created"] {
        if !fields.iter().any(|f| f == always) {
            fields.push(always.into());
        }
    }
    fields
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::streams::children::COMMENTS;

    /// An issue whose embedded comments are cut short of `total`.
    fn issue(id: u32, total: u64) -> RawRecord {
        let text = format!(
            r#"{{"id":"{id}","fields":{{"updated":"2024-01-01T00:00:00.000+0000","comment":{{"comments":[],"total":{total}}}}}}}"#
        );
        RawRecord::from_string(text)
    }

    #[test]
    fn a_page_of_busy_issues_is_split_into_chunks_of_about_a_thousand_records() {
        let sizes = [0, 5, 750, 300, 999, 0, 1500, 2, 0, 0, 1001];
        let page = Page {
            items: sizes
                .iter()
                .enumerate()
                .map(|(id, total)| issue(id as u32, *total))
                .collect(),
            cut_short: false,
        };
        let opening = Opening::to(["/fields", "/fields/comment"]);
        let chunks = chunks(&[&COMMENTS], &opening, page, &Filters::default(), |_, _| {
            false
        });
        let split: Vec<Vec<&str>> = chunks
            .iter()
            .map(|c| c.wants.iter().map(|w| w.id.as_str()).collect())
            .collect();
        assert_eq!(
            split,
            [
                vec!["0", "1", "2"],
                vec!["3"],
                vec!["4", "5"],
                vec!["6"],
                vec!["7", "8", "9"],
                vec!["10"]
            ]
        );
    }
}
