//! Reading a table stream's rows, page by page: from its endpoint, or once per record of its
//! parents, whose values are read once per run and kept (the few values children bind, not the
//! records). What happens to the rows is the caller's.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::future::Future;
use std::pin::{Pin, pin};
use std::rc::Rc;

use futures::{Stream, StreamExt, TryStreamExt};
use serde_json::Value;

use crate::client::{JiraClient, Page, RawRecord, pages};
use crate::config::{Config, Deployment};
use crate::error::{Error, Result};
pub(super) use crate::streams::Bound;
use crate::streams::projects::ProjectIds;
use crate::streams::{
    Only, PROJECTS_STREAM, Parent, PerParent, Source, StreamDef, agile, id_text, users,
};

/// The parents' values read so far in this run, and the objects Jira listed no children of.
#[derive(Debug, Default)]
pub(super) struct Parents {
    /// Per parent stream, one entry per record: the values its children bind.
    read: HashMap<&'static str, Rc<Vec<Bound>>>,
    /// Per stream, the parent objects whose children Jira refused (hidden or deleted since).
    pub refused: BTreeMap<&'static str, u64>,
    /// Per stream, the parent objects of a kind that has no such children (a kanban board's
    /// sprints): nothing is missing, so they are counted, not warned of.
    pub childless: BTreeMap<&'static str, u64>,
    /// The streams whose pass read less than Jira has: a list cut short of its total, or that
    /// moved while it was paged, or with a parent object refused, or a parent's. Their versions
    /// are not activated.
    pub short: HashSet<&'static str>,
}

impl Parents {
    /// Keeps what a complete pass over `parent` bound, for its children later in the run.
    pub fn store(&mut self, parent: &'static str, bound: Vec<Bound>) {
        self.read.insert(parent, Rc::new(bound));
    }
}

/// What reading needs: the client, the settings, and the projects' ids known so far.
#[derive(Clone, Copy)]
pub(super) struct Reader<'a> {
    pub client: &'a JiraClient,
    pub config: &'a Config,
    pub projects: &'a ProjectIds,
}

/// A page of rows, with the values bound from their parents.
pub(super) type OnPage<'f> = dyn FnMut(&Bound, Vec<Value>) -> Result<()> + 'f;

/// The values a record binds for its stream's children (`binds`, from
/// [`StreamDef::child_binds`]): those of its own parents, then its own.
pub(super) fn bound_by(binds: &[(&'static str, &str)], parent: &Bound, row: &Value) -> Bound {
    let mut bound = parent.clone();
    for &(name, pointer) in binds {
        let value = row.pointer(pointer).cloned().unwrap_or(Value::Null);
        bound.retain(|(n, _)| *n != name);
        bound.push((name, value));
    }
    bound
}

/// Calls `on_page` with every page of `def`'s rows, shaped as the table says.
pub(super) fn walk<'a>(
    reader: Reader<'a>,
    parents: &'a mut Parents,
    def: &'static StreamDef,
    on_page: &'a mut OnPage<'_>,
) -> Pin<Box<dyn Future<Output = Result<()>> + 'a>> {
    Box::pin(async move {
        let client = reader.client;
        let deployment = client.deployment();
        let page_size = reader.config.page_size;
        let mut dedupe = Dedupe::new(def, deployment);
        let filters = &reader.config.filters;
        // Projects the filters leave out are neither emitted nor parents of anything.
        let kept = if def.name == PROJECTS_STREAM {
            Some(reader.projects.kept(client, filters).await?)
        } else {
            None
        };
        let in_scope = |row: &Value| {
            kept.as_ref().is_none_or(|kept| {
                let id = row.get("id").and_then(id_text);
                let key = row.get("key").and_then(Value::as_str).unwrap_or("");
                kept.keeps(id.as_deref(), key)
            })
        };
        // A page's records are kept as text and turned into values ROWS_AT_ONCE at a time: a
        // page of many small records held as values cost twenty times its size.
        let mut on_rows = |bound: &Bound,
                           stamp: &[&str],
                           items: &mut dyn Iterator<Item = Result<Value>>|
         -> Result<()> {
            let mut rows = Vec::new();
            for item in items {
                let row = def.shape.row(item?, bound, stamp);
                if in_scope(&row) && dedupe.first_time(&row) {
                    rows.push(row);
                }
                if rows.len() == ROWS_AT_ONCE {
                    on_page(bound, std::mem::take(&mut rows))?;
                }
            }
            if rows.is_empty() {
                return Ok(());
            }
            on_page(bound, rows)
        };
        match def.source {
            Source::Endpoint(endpoint) => {
                let endpoint = endpoint.on(deployment);
                let (request, pagination) = endpoint.unbound(client);
                let source = pages::<RawRecord>(client, request, pagination, page_size);
                let short = &mut parents.short;
                each_page(source, |page| {
                    if page.cut_short {
                        short.insert(def.name);
                    }
                    on_rows(&Vec::new(), &[], &mut values(&page, endpoint.path))
                })
                .await
            }
            Source::Users => {
                let source = users::user_pages(client, reader.config.groups.as_deref(), page_size);
                let short = &mut parents.short;
                each_page(source, |page| {
                    if page.cut_short {
                        short.insert(def.name);
                    }
                    on_rows(&Vec::new(), &[], &mut page.items.into_iter().map(Ok))
                })
                .await
            }
            Source::PerParent(per) => {
                let endpoint = per.endpoint.on(deployment);
                let each_parent = parent_values(reader, parents, def, per).await?;
                if per.parents.iter().any(|p| parents.short.contains(p.stream)) {
                    parents.short.insert(def.name);
                }
                // As many parents are read at once as the budget allows (the client's fair
                // queue shares it with the issue family and the other lanes), each parent's
                // pages in order: a parent with many pages does not hold up the parents after
                // it. With half the budget, a board's epics (page after page) ran last on half
                // the slots: an incremental sync of 100,000 issues at 50 ms took 1.39 x its lower
                // bound, 1.14 x with the whole budget.
                let per_parent = each_parent.map(|bound| {
                    let bound = Rc::new(bound);
                    let texts = bound_texts(&bound);
                    let bind: Vec<(&str, &str)> =
                        texts.iter().map(|(n, v)| (*n, v.as_str())).collect();
                    match endpoint.request(client, &bind) {
                        // Data Center refuses offsets past its search window: read by dates.
                        Ok((request, pagination))
                            if deployment == Deployment::Server
                                && agile::is_issue_list(endpoint.path, pagination) =>
                        {
                            agile::server_issue_list_pages(client, request, page_size)
                                .map(move |page| (Rc::clone(&bound), page))
                                .boxed_local()
                        }
                        Ok((request, pagination)) => {
                            pages::<RawRecord>(client, request, pagination, page_size)
                                .map(move |page| (Rc::clone(&bound), page))
                                .boxed_local()
                        }
                        Err(e) => {
                            futures::stream::once(async move { (bound, Err(e)) }).boxed_local()
                        }
                    }
                });
                let mut all = pin!(
                    futures::stream::iter(per_parent)
                        .flatten_unordered(reader.config.max_concurrency)
                );
                // Whether Jira answered for any parent, and its last refusal.
                let mut answered = false;
                let mut refusal: Option<Error> = None;
                // A parent's pages end at its first error.
                while let Some((bound, page)) = all.next().await {
                    let bound = &*bound;
                    let e = match page {
                        Ok(page) => {
                            answered = true;
                            if page.cut_short {
                                parents.short.insert(def.name);
                            }
                            on_rows(bound, per.stamp, &mut values(&page, endpoint.path))?;
                            continue;
                        }
                        Err(e) => e,
                    };
                    let texts = bound_texts(bound);
                    match no_children(&e) {
                        Some(NoChildren::Refused) => {
                            tracing::warn!(stream = def.name, parent = ?texts, "skipped: {e}");
                            *parents.refused.entry(def.name).or_default() += 1;
                            // Hidden is not gone: activating the pass would delete the rows
                            // earlier runs read of this parent. A parent deleted in Jira is
                            // not listed next run, whose pass then drops its rows.
                            parents.short.insert(def.name);
                            refusal = Some(e);
                        }
                        Some(NoChildren::NoneOfItsKind) => {
                            answered = true;
                            tracing::debug!(stream = def.name, parent = ?texts, "none: {e}");
                            *parents.childless.entry(def.name).or_default() += 1;
                        }
                        None => return Err(e),
                    }
                }
                // Every parent refused is the stream refused (the account lacks what it needs),
                // not a stream without rows: a pass that read nothing must not be activated.
                match (answered, refusal) {
                    (false, Some(e)) => Err(e),
                    _ => Ok(()),
                }
            }
            Source::IssueSearch
            | Source::IssueChild { .. }
            | Source::WorklogUpdates
            | Source::Since { .. } => Err(Error::Internal(format!(
                "stream `{}` is not read as a list of rows",
                def.name
            ))),
        }
    })
}

/// Rows held as values at once, turned from a page's records kept as text.
const ROWS_AT_ONCE: usize = 1000;

/// A page's records as values, one at a time.
fn values<'p>(page: &'p Page, path: &'p str) -> impl Iterator<Item = Result<Value>> + 'p {
    page.items.iter().map(move |item| item.value(path))
}

async fn each_page<T>(
    source: impl Stream<Item = Result<Page<T>>>,
    mut on_page: impl FnMut(Page<T>) -> Result<()>,
) -> Result<()> {
    let mut source = pin!(source);
    while let Some(page) = source.try_next().await? {
        on_page(page)?;
    }
    Ok(())
}

/// The bound values as text, for a path or a query.
fn bound_texts(bound: &Bound) -> Vec<(&'static str, String)> {
    bound
        .iter()
        .filter_map(|(name, value)| Some((*name, id_text(value)?)))
        .collect()
}

/// Why Jira listed no children of a parent object instead of a page.
enum NoChildren {
    /// Hidden or deleted since it was listed (403, 404).
    Refused,
    /// Of a kind that has none ("The board does not support sprints").
    NoneOfItsKind,
}

fn no_children(e: &Error) -> Option<NoChildren> {
    match e {
        e if e.is_not_shown() => Some(NoChildren::Refused),
        Error::Http {
            status: 400,
            excerpt,
            ..
        } => {
            let excerpt = excerpt.to_ascii_lowercase();
            (excerpt.contains("does not support") || excerpt.contains("doesn't support"))
                .then_some(NoChildren::NoneOfItsKind)
        }
        _ => None,
    }
}

/// The values of every parent record `def` is read for: one parent's records, or every pair of
/// two parents' records; those its parents' `only` rule out are left out. Pairs are made as they
/// are taken, never all held: a site's projects times its roles can be millions.
async fn parent_values(
    reader: Reader<'_>,
    parents: &mut Parents,
    def: &'static StreamDef,
    per: &PerParent,
) -> Result<Box<dyn Iterator<Item = Bound>>> {
    let mut combined: Box<dyn Iterator<Item = Bound>> = Box::new(std::iter::once(Vec::new()));
    for parent in per.parents {
        let records = records_of(reader, parents, def, parent).await?;
        let only = parent.only;
        combined = Box::new(combined.flat_map(move |left| {
            let records = Rc::clone(&records);
            (0..records.len()).filter_map(move |at| {
                let bound: Bound = left.iter().chain(records[at].iter()).cloned().collect();
                admits(only, &bound).then_some(bound)
            })
        }));
    }
    Ok(combined)
}

/// The bound values of `parent`'s records, read now unless this run already has them.
async fn records_of(
    reader: Reader<'_>,
    parents: &mut Parents,
    child: &StreamDef,
    parent: &Parent,
) -> Result<Rc<Vec<Bound>>> {
    if let Some(read) = parents.read.get(parent.stream) {
        return Ok(read.clone());
    }
    let def = StreamDef::find(parent.stream).ok_or_else(|| {
        Error::Internal(format!(
            "parent `{}` of `{}` is no stream",
            parent.stream, child.name
        ))
    })?;
    let binds = def.child_binds();
    let mut read: Vec<Bound> = Vec::new();
    let mut on_page = |bound: &Bound, rows: Vec<Value>| {
        read.extend(rows.iter().map(|row| bound_by(&binds, bound, row)));
        Ok(())
    };
    walk(reader, parents, def, &mut on_page).await?;
    tracing::info!(
        parent = def.name,
        count = read.len(),
        "read the parent records"
    );
    parents.store(def.name, read);
    Ok(parents.read[def.name].clone())
}

fn admits(only: Only, bound: &Bound) -> bool {
    let value = |name: &str| bound.iter().rev().find(|(n, _)| *n == name).map(|(_, v)| v);
    match only {
        Only::All => true,
        Only::True(name) => value(name) == Some(&Value::Bool(true)),
        Only::NotTrue(name) => value(name) != Some(&Value::Bool(true)),
        Only::EndsWith(name, ends) => value(name)
            .and_then(Value::as_str)
            .is_some_and(|text| ends.iter().any(|end| text.ends_with(end))),
    }
}

/// The keys of the rows already written, for streams whose rows several parents list.
struct Dedupe {
    keys: Option<(&'static [&'static str], HashSet<String>)>,
}

impl Dedupe {
    fn new(def: &StreamDef, deployment: crate::config::Deployment) -> Self {
        Dedupe {
            keys: def
                .shape
                .dedupe
                .then(|| (def.keys.for_deployment(deployment), HashSet::new())),
        }
    }

    fn first_time(&mut self, row: &Value) -> bool {
        let Some((keys, seen)) = &mut self.keys else {
            return true;
        };
        let key: Vec<&Value> = keys.iter().map(|k| &row[*k]).collect();
        seen.insert(serde_json::to_string(&key).unwrap_or_default())
    }
}
