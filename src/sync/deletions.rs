//! Deleted issues, after the issue search: each becomes an `issues` record with its id (and key,
//! when known) and `_sdc_deleted_at`, so targets that honour deletions drop or flag the row. What
//! was looked at is kept under the issues bookmark's `deleted`: the audit log's newest time, or
//! the ids Jira had (see `id_runs`).

use std::collections::HashSet;
use std::io::Write;
use std::pin::pin;

use chrono::{DateTime, TimeDelta, Timelike, Utc};
use futures::TryStreamExt;
use serde_json::{Value, json};

use super::{Emitter, Run};
use crate::config::DeletedIssues;
use crate::error::{Error, Result};
use crate::id_runs;
use crate::jql::Jql;
use crate::singer::time_extracted;
use crate::streams::deletions::{
    audit_pages, confirm_gone, live_issue_ids, project_of, server_time,
};
use crate::streams::issues;
use crate::streams::projects::KeptProjects;
use crate::timestamp::{format_utc, parse_jira};

/// What the deletions found beyond the records they emitted.
pub(super) struct Found {
    /// What the bookmark's `deleted` becomes: `None` when deletions are not tracked.
    pub deleted: Option<Value>,
    /// Issues back in the listing that this run did not write, to be written again before
    /// `deleted` is kept: it lists them, and the next run would not look at them again.
    pub back: Vec<u64>,
}

/// Emits the issues deleted since `saved` (the bookmark's `deleted`), and returns what was
/// found. `started` is when this run began: on the first run, deletions are looked for from
/// then on. `written` holds the ids of the issues this run wrote (when reconciling).
pub(super) async fn sync<W: Write>(
    run: &Run<'_, '_, W>,
    emitter: &mut Emitter<'_>,
    saved: Option<&Value>,
    started: DateTime<Utc>,
    written: Vec<u64>,
) -> Result<Found> {
    let mut reported = HashSet::new();
    let deleted = match run.config.deleted_issues {
        DeletedIssues::Off => None,
        DeletedIssues::Audit => from_audit_log(run, emitter, saved, started, &mut reported).await?,
        DeletedIssues::Reconcile => {
            // The run that switches from `audit` has no ids of the last run's: the audit log,
            // read once more from its place, tells the issues deleted since.
            if saved_created(saved)?.is_some() {
                from_audit_log(run, emitter, saved, started, &mut reported).await?;
            }
            return by_reconciling(run, emitter, saved, written, &reported).await;
        }
    };
    Ok(Found {
        deleted,
        back: Vec::new(),
    })
}

/// What the bookmark's `deleted` is before a sync that has none yet (a first sync, one after the
/// filters changed, or one from Stitch's state) writes its first issue: the audit log from `from`
/// on, or the ids Jira has now. Kept in every STATE of the search, it makes a run resumed from
/// any of them report the issues written before it that went in between.
pub(super) async fn starting_point<W: Write>(
    run: &Run<'_, '_, W>,
    from: DateTime<Utc>,
    saved: Option<&Value>,
) -> Result<Option<Value>> {
    match run.config.deleted_issues {
        DeletedIssues::Off => Ok(None),
        DeletedIssues::Audit => {
            // Jira dates its records by its own clock: one behind this machine's would date a
            // deletion made after `from` before it, and the log is read from Jira's now.
            let jira_now = server_time(run.client).await?;
            let from = jira_now.map_or(from, |now| now.min(from));
            Ok(Some(
                json!({ "created": format_utc(before_millisecond_of(from)) }),
            ))
        }
        DeletedIssues::Reconcile => {
            let zone = issues::user_time_zone(run.client.myself());
            let now = live_issue_ids(run.client, &run.config.filters.jql(zone), zone).await?;
            let mut deleted = json!({ IDS: id_runs::encode(&now) });
            // The audit log's place of a state written with `audit` stays until the end of the
            // run, which reads the log from there (see `sync`).
            if let (Value::Object(map), Some(Value::Object(saved))) = (&mut deleted, saved) {
                for key in ["created", AHEAD] {
                    if let Some(value) = saved.get(key) {
                        map.insert(key.into(), value.clone());
                    }
                }
            }
            Ok(Some(deleted))
        }
    }
}

/// Whether `deleted` holds the place `mode` goes on from. One written under another mode holds
/// none (listed ids say nothing of where the audit log was read): deletions are then followed as
/// from a state without them, or those since the last run would never be reported.
pub(super) fn has_place(deleted: Option<&Value>, mode: DeletedIssues) -> bool {
    let Some(deleted) = deleted else {
        return false;
    };
    match mode {
        DeletedIssues::Off => true,
        DeletedIssues::Audit => deleted.get("created").is_some(),
        DeletedIssues::Reconcile => [IDS, IDS_UNDER_OTHER_FILTERS]
            .into_iter()
            .any(|key| deleted.get(key).is_some()),
    }
}

/// Checks what `mode` will read of the bookmark's `deleted` before anything is synced: a
/// damaged one stops the run at once, not after the issue search.
pub(super) fn check(saved: Option<&Value>, mode: DeletedIssues) -> Result<()> {
    // Ids or a time put in its place (a state edited by hand) would be read as no place at all:
    // deletions followed from now on, those since the last run never reported.
    if mode != DeletedIssues::Off && saved.is_some_and(|d| !d.is_object() && !d.is_null()) {
        return Err(Error::State(
            "bookmarks.issues.deleted is not an object (`{\"ids\": …}` or `{\"created\": …}`); \
             remove it to look for deletions from now on"
                .into(),
        ));
    }
    match mode {
        DeletedIssues::Off => {}
        DeletedIssues::Audit => {
            saved_created(saved)?;
        }
        DeletedIssues::Reconcile => {
            saved_created(saved)?;
            for key in [IDS, IDS_UNDER_OTHER_FILTERS] {
                if let Some(ids) = saved.and_then(|d| d.get(key)) {
                    ids.as_str()
                        .and_then(id_runs::count)
                        .ok_or_else(ids_error)?;
                }
            }
        }
    }
    Ok(())
}

/// The audit log's newest time looked at, from the bookmark's `deleted`.
fn saved_created(saved: Option<&Value>) -> Result<Option<DateTime<Utc>>> {
    let Some(value) = saved.and_then(|d| d.get("created")) else {
        return Ok(None);
    };
    let created = value.as_str().and_then(parse_jira).ok_or_else(|| {
        Error::State(format!(
            "bookmarks.issues.deleted.created `{value}` is not an RFC 3339 timestamp; \
             remove it to look for deletions from now on"
        ))
    })?;
    // Finer than milliseconds, it is a start an earlier version kept as it was: no record is
    // dated so, and one in its millisecond may be a deletion after it.
    if created.nanosecond() % 1_000_000 != 0 {
        return Ok(Some(before_millisecond_of(created)));
    }
    Ok(Some(created))
}

/// The audit log's place for a start at `t`. Jira dates its records to the millisecond and the
/// log is read after its place: a place in `t`'s millisecond would leave out a deletion made
/// later in it, which Jira dates at its start.
pub(super) fn before_millisecond_of(t: DateTime<Utc>) -> DateTime<Utc> {
    let within = i64::from(t.nanosecond() % 1_000_000);
    t - TimeDelta::nanoseconds(within) - TimeDelta::milliseconds(1)
}

/// The issue ids the last run listed, under the bookmark's `deleted`.
pub(super) const IDS: &str = "ids";

/// The issue ids a run listed under filters that have changed since (see
/// `start_over_if_filters_changed`): deleted ones are told from the rest against every issue
/// Jira has, not against those the new filters keep.
pub(super) const IDS_UNDER_OTHER_FILTERS: &str = "ids_under_other_filters";

/// The ids a reconciling search's STATEs list under `deleted`, with the issues written since that
/// the listing lacks (created after it): the run's own list of what it wrote dies with a run
/// stopped after such a STATE, and one of them deleted before the run that resumes would be in
/// neither that run's list nor Jira's, its deletion never reported.
pub(super) struct Listing {
    key: &'static str,
    ids: Vec<u64>,
    /// How many of the ids written were looked for already.
    looked_at: usize,
}

impl Listing {
    /// The ids `deleted` lists, when reconciling.
    pub(super) fn of(deleted: Option<&Value>, mode: DeletedIssues) -> Option<Listing> {
        if mode != DeletedIssues::Reconcile {
            return None;
        }
        let deleted = deleted?;
        [IDS, IDS_UNDER_OTHER_FILTERS].into_iter().find_map(|key| {
            let ids = deleted.get(key)?.as_str().and_then(id_runs::decode)?;
            Some(Listing {
                key,
                ids,
                looked_at: 0,
            })
        })
    }

    /// Adds to `deleted` the ids of `written` it lacks (those written since the last call are
    /// looked for); `deleted` is written out again only when some were.
    pub(super) fn add(&mut self, written: &[u64], deleted: &mut Value) {
        let since = written.get(self.looked_at..).unwrap_or_default();
        self.looked_at = written.len();
        let mut new: Vec<u64> = since
            .iter()
            .filter(|id| self.ids.binary_search(id).is_err())
            .copied()
            .collect();
        if new.is_empty() {
            return;
        }
        // Two sorted runs, merged in one pass by the stable sort.
        new.sort_unstable();
        self.ids.extend(new);
        self.ids.sort();
        self.ids.dedup();
        if let Value::Object(map) = deleted {
            map.insert(self.key.into(), json!(id_runs::encode(&self.ids)));
        }
    }
}

fn ids_error() -> Error {
    Error::State(
        "bookmarks.issues.deleted.ids is not a list of issue id runs; remove it to \
         start reconciling again"
            .into(),
    )
}

async fn from_audit_log<W: Write>(
    run: &Run<'_, '_, W>,
    emitter: &mut Emitter<'_>,
    saved: Option<&Value>,
    started: DateTime<Utc>,
    reported: &mut HashSet<String>,
) -> Result<Option<Value>> {
    let since = match saved_created(saved)? {
        Some(since) => since,
        None => before_millisecond_of(started),
    };
    // A record dated after Jira's now (a clock that ran fast and was put right, a cluster node
    // ahead of the others) must not take the log's place past the records Jira dates rightly
    // after it: the place stops at Jira's now, and the ids of the records read past it are kept
    // so that the next run does not report them again.
    // Jira's now is to the millisecond, and a deletion recorded later in it would be dated at
    // its start: the place stops before that millisecond, whose records read are kept by id.
    let jira_now = server_time(run.client).await?.map(before_millisecond_of);
    // A place past Jira's clock (carried there by a record dated ahead, as earlier versions let
    // it be, or kept from before the clock was put back) would hide every deletion Jira records
    // until then: the log is read from Jira's clock.
    let since = match jira_now {
        Some(now) if since > now => now,
        _ => since,
    };
    let read_ahead: HashSet<u64> = saved
        .and_then(|d| d.get(AHEAD))
        .and_then(Value::as_array)
        .map(|ids| ids.iter().filter_map(Value::as_u64).collect())
        .unwrap_or_default();
    let mut ahead: Vec<u64> = Vec::new();
    let filters = &run.config.filters;
    let mut newest = since;
    let mut unusable = 0;
    // The projects the filters keep, resolved at the first deletion that needs them.
    let mut kept_projects: Option<KeptProjects> = None;
    let mut pages = pin!(audit_pages(run.client, since, jira_now, read_ahead));
    loop {
        let page = match pages.try_next().await {
            Ok(Some(page)) => page,
            Ok(None) => break,
            Err(
                e @ (Error::Http {
                    status: 401 | 403 | 404,
                    ..
                }
                | Error::ScopeRefused { .. }),
            ) => {
                if run.config.deleted_issues == DeletedIssues::Reconcile {
                    tracing::warn!(
                        since = %format_utc(since),
                        "issues deleted since the last run with `deleted_issues` `audit` are not \
                         reported: at the switch to `reconcile` the audit log is read once more, \
                         which needs the Administer Jira permission ({e}); to report them, run \
                         once from the state before this run with an account that has it"
                    );
                    return Ok(None);
                }
                tracing::warn!(
                    "deleted issues are not tracked: the audit log needs the Administer Jira \
                     permission ({e}); set `deleted_issues` to `reconcile` to find them without \
                     it, or to `off`"
                );
                // Where the log was last read stays: the next run that may read it reports the
                // deletions made in between.
                return Ok(saved.filter(|d| d.get("created").is_some()).cloned());
            }
            Err(e) => return Err(e),
        };
        newest = newest.max(page.newest.unwrap_or(newest));
        unusable += page.unusable;
        ahead.extend(page.ahead);
        let mut page_deleted = page.deleted;
        // A record of an issue in a language other than English may be its deletion: the issue
        // is gone when Jira answers 404 for it.
        if !page.unconfirmed.is_empty() {
            let ids: Vec<u64> = page
                .unconfirmed
                .iter()
                .filter(|d| !reported.contains(&d.id))
                .filter_map(|d| d.id.parse().ok())
                .collect();
            let gone = confirm_gone(run.client, ids).await?;
            page_deleted.extend(
                page.unconfirmed
                    .into_iter()
                    .filter(|d| d.id.parse().is_ok_and(|id| gone.binary_search(&id).is_ok())),
            );
        }
        // Only the key tells the project of an issue that is gone; the other filters cannot be
        // judged, so their deletions are reported.
        let mut kept = Vec::with_capacity(page_deleted.len());
        for deleted in page_deleted {
            // One issue may have several records: its deletion is reported once.
            if !reported.insert(deleted.id.clone()) {
                continue;
            }
            let keep = match deleted.key.as_deref().and_then(project_of) {
                Some(project) if filters.narrows_projects() => {
                    // Told apart by id: the log names an issue by its key at the time.
                    if kept_projects.is_none() {
                        kept_projects = Some(run.projects.kept(run.client, filters).await?);
                    }
                    let id = run.projects.id(run.client, project).await?;
                    kept_projects
                        .as_ref()
                        .is_some_and(|kept| kept.keeps(id.as_deref(), project))
                }
                _ => true,
            };
            if keep {
                kept.push(deleted);
            }
        }
        let extracted = time_extracted(Utc::now());
        let mut out = run.out.borrow_mut();
        for deleted in kept {
            let record = json!({
                "id": deleted.id,
                "key": deleted.key,
                "_sdc_deleted_at": format_utc(deleted.at),
            });
            out.emit(emitter, record, None, &extracted)?;
        }
    }
    if unusable > 0 {
        tracing::warn!(
            records = unusable,
            "audit records of issue deletions named no issue id; those deletions are not reported"
        );
    }
    // Never before `since`: the records up to it, read by earlier runs, are not kept by id.
    let place = match jira_now {
        Some(now) if newest > now => now.max(since),
        _ => newest,
    };
    if ahead.is_empty() || place == newest {
        return Ok(Some(json!({ "created": format_utc(place) })));
    }
    ahead.sort_unstable();
    ahead.dedup();
    Ok(Some(json!({ "created": format_utc(place), AHEAD: ahead })))
}

/// Under the bookmark's `deleted`: the ids of the audit records read that are dated after its
/// `created` (see `from_audit_log`).
const AHEAD: &str = "read_ahead";

async fn by_reconciling<W: Write>(
    run: &Run<'_, '_, W>,
    emitter: &mut Emitter<'_>,
    saved: Option<&Value>,
    written: Vec<u64>,
    reported: &HashSet<String>,
) -> Result<Found> {
    let saved_ids = |key| saved.and_then(|d| d.get(key)).map(|value| (key, value));
    let before = match saved_ids(IDS).or_else(|| saved_ids(IDS_UNDER_OTHER_FILTERS)) {
        None => None,
        Some((key, value)) => Some((
            value
                .as_str()
                .and_then(id_runs::decode)
                .ok_or_else(ids_error)?,
            key == IDS_UNDER_OTHER_FILTERS,
        )),
    };
    let zone = issues::user_time_zone(run.client.myself());
    let filters = &run.config.filters;
    let now = live_issue_ids(run.client, &filters.jql(zone), zone).await?;
    let checked = Utc::now();
    // The issues this run wrote are looked for too: one written and then deleted before the
    // listing is in neither list.
    let (mut before, under_other_filters, listed_before) = match before {
        Some((before, under_other_filters)) => (before, under_other_filters, true),
        None if written.is_empty() => {
            tracing::info!(
                issues = now.len(),
                "listed the issue ids; the next run reports those that went"
            );
            return Ok(Found {
                deleted: Some(json!({ IDS: id_runs::encode(&now) })),
                back: Vec::new(),
            });
        }
        None => (Vec::new(), false, false),
    };
    if !written.is_empty() {
        before.extend(written);
        before.sort_unstable();
        before.dedup();
    }
    // An issue hidden for a while (its project archived or in the trash, issue security) answers
    // 404 and was reported deleted; shown again with its `updated` unchanged, no incremental
    // search returns it, and only its id coming back tells. Under other filters the search
    // started over, and wrote what the new ones keep.
    let back = if listed_before && !under_other_filters {
        id_runs::missing(&now, &before)
    } else {
        Vec::new()
    };
    // Ids listed under other filters are looked for among every issue Jira has: those the new
    // filters leave out are not gone.
    let missing = if under_other_filters && !filters.is_empty() {
        let every = live_issue_ids(run.client, &Jql::new(), zone).await?;
        id_runs::missing(&before, &every)
    } else {
        id_runs::missing(&before, &now)
    };
    let gone = confirm_gone(run.client, missing.clone()).await?;
    tracing::info!(
        issues = now.len(),
        missing = missing.len(),
        deleted = gone.len(),
        back = back.len(),
        "reconciled the issue ids with the last run's"
    );
    // An issue still there that the listing missed (a deletion moved it past a page's end while
    // the listing paged) stays in the set while the filters keep it: left out, its deletion
    // later would be in neither run's list.
    let alive: Vec<u64> = missing
        .into_iter()
        .filter(|id| !gone.contains(id))
        .collect();
    let mut now = now;
    if !alive.is_empty() {
        let filters = &run.config.filters;
        if filters.is_empty() {
            now.extend(alive);
        } else {
            let texts: Vec<String> = alive.iter().map(u64::to_string).collect();
            let kept = issues::ids_matching(run.client, &texts, filters, zone).await?;
            now.extend(
                alive
                    .into_iter()
                    .filter(|id| kept.contains(&id.to_string())),
            );
        }
        now.sort_unstable();
        now.dedup();
    }
    let extracted = time_extracted(checked);
    let mut out = run.out.borrow_mut();
    // Those the audit log reported at a switch from `audit` are not reported twice.
    for id in gone
        .into_iter()
        .filter(|id| !reported.contains(&id.to_string()))
    {
        let record = json!({"id": id.to_string(), "_sdc_deleted_at": format_utc(checked)});
        out.emit(emitter, record, None, &extracted)?;
    }
    Ok(Found {
        deleted: Some(json!({ IDS: id_runs::encode(&now) })),
        back,
    })
}
