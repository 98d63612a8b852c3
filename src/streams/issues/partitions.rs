//! A first sync reads the issues project by project: one search per project (a site of many
//! projects packs them into `PARTITIONS` searches), several at once, and one for the issues of any
//! project the list does not show, each with its own bookmark. Once every partition is read to its
//! end they fold into one bookmark, and later runs search the whole site with one query (few issues
//! change between runs). A sync stopped half way resumes each partition where it stopped.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Duration, Utc};
use futures::TryStreamExt;
use serde_json::{Map, Value};

use super::{Bookmark, Scope};
use crate::client::{JiraClient, pages};
use crate::config::Config;
use crate::error::{Error, Result};
use crate::filters::Filters;
use crate::streams::deletions::server_time;
use crate::streams::projects::ProjectIds;
use crate::streams::{PROJECT_IDS_ENDPOINT, id_text};

/// The state key of the partition of projects the list did not show.
const OTHER_PROJECTS: &str = "*";

/// Projects listed per request.
const PROJECT_PAGE_SIZE: u32 = 100;

/// Listed projects a first sync searches one by one, at most: a site of more packs them into this
/// many searches (more past `MAX_PROJECTS_PER_SEARCH` each), as most projects of a large site are
/// small or empty, and a search and a bookmark in every STATE for each would cost far more than
/// its issues. Enough for the last searches of a run to end near together.
const PARTITIONS: usize = 32;

/// Projects one search names, at most (`project in (…)`): a JQL well within Jira's length limits.
const MAX_PROJECTS_PER_SEARCH: usize = 100;

/// Separates the projects of a partition in its state key (`10000,10001`; one project's is its id).
const KEY_SEPARATOR: &str = ",";

/// The searches of a run, each with the bookmark it starts from.
pub struct Plan {
    pub scopes: Vec<Scope>,
    pub progress: Progress,
}

/// How far each search of a run got, and the state that says so.
pub struct Progress {
    /// The site's bookmark as the run found it; what the state claims for the whole site until
    /// every partition is read.
    origin: Bookmark,
    /// Each search's state key; empty when the run makes one search of the whole site.
    keys: Vec<String>,
    bookmarks: Vec<Bookmark>,
    started: DateTime<Utc>,
    lookback: Duration,
}

impl Plan {
    /// Partitions when there is no bookmark yet, or when the state holds a partitioned sync that
    /// stopped half way; otherwise one search of the site from its bookmark.
    pub async fn new(
        client: &JiraClient,
        state: Option<&Value>,
        config: &Config,
        projects: &ProjectIds,
    ) -> Result<Plan> {
        let (start_date, lookback) = (config.start_date, config.lookback);
        // Jira stamps the edits to come by its own clock: a window stopped by this machine's,
        // ahead of Jira's, would pass over the edits Jira stamps before this machine's now.
        // A site that does not answer leaves this machine's, as before it was asked.
        let now = Utc::now();
        let jira_now = match server_time(client).await {
            Ok(jira_now) => jira_now,
            Err(e @ (Error::Http { .. } | Error::ScopeRefused { .. })) => {
                tracing::warn!("Jira's clock is unknown, so this machine's is used: {e}");
                None
            }
            Err(e) => return Err(e),
        };
        let started = jira_now.map_or(now, |jira| jira.min(now));
        let mut origin = Bookmark::from_state(state, start_date)?;
        // Stitch's bookmark has no window: nothing says which versions behind it were written, so
        // the look-back behind it is read again (and written) as after a run of ours. Stitch's tap
        // itself searched again from the bookmark's minute.
        if state.is_some_and(|s| s.get("window_start").is_none()) {
            origin.widen_to(origin.updated - lookback);
        }
        // No search read past Jira's clock: a window beyond it was carried there by an issue
        // dated ahead (Stitch's bookmark, or one an earlier version wrote), and the edits Jira
        // stamps until then are read from the look-back behind its clock.
        // (Never before `start_date`, which may be ahead of it.)
        let unread = |bookmark: &mut Bookmark| {
            if let (Some(jira_now), Some(_)) = (jira_now, state) {
                bookmark.widen_to((jira_now - lookback).max(start_date));
            }
        };
        unread(&mut origin);
        let saved = saved_partitions(state)?;
        let mut progress = Progress {
            origin: origin.clone(),
            keys: Vec::new(),
            bookmarks: Vec::new(),
            started,
            lookback,
        };
        let one_search = |mut progress: Progress| {
            progress.bookmarks.push(origin.clone().began_at(started));
            Plan {
                scopes: vec![Scope::Site],
                progress,
            }
        };
        if state.is_some() && saved.is_none() {
            return Ok(one_search(progress));
        }
        let projects = match project_ids(client, &config.filters, projects).await {
            Ok(projects) => projects,
            // Partitions only make the search faster; without the list, one search reads it all
            // from the site's bookmark, which no partition is behind.
            Err(e) if e.is_not_shown() => {
                tracing::warn!(
                    "could not list the projects, so the issues are read in one search: {e}"
                );
                return Ok(one_search(progress));
            }
            Err(e) => return Err(e),
        };
        let mut saved = saved.unwrap_or_default();
        let mut scopes = Vec::new();
        let mut start = |key: String, scope: Scope, saved: Option<Bookmark>| {
            let mut bookmark = saved.unwrap_or_else(|| origin.clone());
            unread(&mut bookmark);
            progress.keys.push(key);
            progress
                .bookmarks
                .push(bookmark.remember_from(started - lookback).began_at(started));
            scopes.push(scope);
        };
        let mut other = saved
            .remove(OTHER_PROJECTS)
            .unwrap_or_else(|| origin.clone());
        // The partitions of a sync stopped half way go on from their bookmarks, each with the
        // projects of it still listed (an earlier version's are of one project each); a project
        // read in an earlier run but no longer listed has its issues searched with the other
        // projects' now, from where its own search had got to if that is earlier.
        let listed: HashSet<&str> = projects.iter().map(String::as_str).collect();
        let mut resumed: Vec<(Vec<String>, Bookmark)> = Vec::new();
        let mut placed: HashSet<&str> = HashSet::new();
        let mut keys: Vec<&String> = saved.keys().collect();
        keys.sort();
        for key in keys {
            let mut ids = Vec::new();
            for id in key.split(KEY_SEPARATOR) {
                if !listed.contains(id) {
                    other.widen_to(saved[key].window_start);
                } else if placed.insert(id) {
                    ids.push(id.to_string());
                }
            }
            if !ids.is_empty() {
                resumed.push((ids, saved[key].clone()));
            }
        }
        let fresh: Vec<String> = projects
            .iter()
            .filter(|id| !placed.contains(id.as_str()))
            .cloned()
            .collect();
        let per_search = fresh
            .len()
            .div_ceil(PARTITIONS)
            .clamp(1, MAX_PROJECTS_PER_SEARCH);
        let packed = fresh.chunks(per_search).map(|ids| (ids.to_vec(), None));
        for (ids, bookmark) in resumed
            .into_iter()
            .map(|(ids, b)| (ids, Some(b)))
            .chain(packed)
        {
            start(ids.join(KEY_SEPARATOR), Scope::Projects(ids), bookmark);
        }
        start(
            OTHER_PROJECTS.to_string(),
            Scope::OtherThan(projects),
            Some(other),
        );
        Ok(Plan { scopes, progress })
    }
}

impl Progress {
    pub fn bookmark(&mut self, search: usize) -> &mut Bookmark {
        &mut self.bookmarks[search]
    }

    /// The bookmark to write mid-run: the site's, with every partition's under `partitions`.
    pub fn to_value(&self) -> Value {
        if self.keys.is_empty() {
            return self.bookmarks[0].to_value();
        }
        let partitions: Map<String, Value> = self
            .keys
            .iter()
            .zip(&self.bookmarks)
            .map(|(key, bookmark)| (key.clone(), bookmark.to_value()))
            .collect();
        let mut value = self.origin.to_value();
        value["partitions"] = Value::Object(partitions);
        value
    }

    /// The bookmark once every search was read to its end: one for the whole site.
    pub fn finished(&self) -> Value {
        if self.keys.is_empty() {
            return self.bookmarks[0].to_value();
        }
        Bookmark::fold(&self.origin, &self.bookmarks, self.started, self.lookback).to_value()
    }

    pub fn is_partitioned(&self) -> bool {
        !self.keys.is_empty()
    }
}

/// The partitions of a sync that stopped half way, by key.
fn saved_partitions(state: Option<&Value>) -> Result<Option<HashMap<String, Bookmark>>> {
    let Some(partitions) = state.and_then(|s| s.get("partitions")) else {
        return Ok(None);
    };
    let Some(partitions) = partitions.as_object() else {
        return Err(Error::State(
            "bookmarks.issues.partitions must be an object; remove it to read every partition \
             from bookmarks.issues.updated"
                .into(),
        ));
    };
    partitions
        .iter()
        .map(|(key, value)| {
            let bookmark = Bookmark::parse(value, &format!("bookmarks.issues.partitions.{key}"))?;
            Ok((key.clone(), bookmark))
        })
        .collect::<Result<_>>()
        .map(Some)
}

/// The ids of the projects the account may browse that the filters keep.
async fn project_ids(
    client: &JiraClient,
    filters: &Filters,
    projects: &ProjectIds,
) -> Result<Vec<String>> {
    let kept = projects.kept(client, filters).await?;
    let (request, pagination) = PROJECT_IDS_ENDPOINT.on(client.deployment()).unbound(client);
    let ids: Vec<Vec<String>> = pages::<Value>(client, request, pagination, PROJECT_PAGE_SIZE)
        .map_ok(|page| {
            page.items
                .iter()
                .filter_map(|project| {
                    let id = id_text(project.get("id")?)?;
                    let key = project.get("key").and_then(Value::as_str).unwrap_or("");
                    kept.keeps(Some(&id), key).then_some(id)
                })
                .collect()
        })
        .try_collect()
        .await?;
    Ok(ids.into_iter().flatten().collect())
}
