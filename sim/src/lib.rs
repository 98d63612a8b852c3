//! A deterministic Jira simulator for tap-jira's tests, benchmarks and demo.
//!
//! [`Sim::new`] generates a Jira site from a [`SimConfig`] (seed and sizes) and
//! [`Sim::router`] serves it over HTTP in Cloud shapes (REST v3 and v2, `/search/jql` with page
//! tokens, OAuth gateway) or Server / Data Center shapes (REST v2, offset search). [`spawn`]
//! runs it on a background thread for plain `#[test]` functions. Tests steer it with
//! [`Sim::touch_issues`], [`Sim::add_issues`], [`Sim::push_fault`] and
//! [`Sim::expire_access_tokens`], check what the client did with [`Sim::requests`] and
//! [`Sim::unserved`], and what a complete sync holds with [`Sim::expected_records`].
//!
//! What a client can count on:
//! - Credentials are in [`creds`]. Cloud takes Basic `EMAIL:API_TOKEN` on `/rest/api/{2,3}`
//!   and OAuth access tokens (from `POST /oauth/token`, refresh tokens rotating) on the gateway
//!   `/ex/jira/{CLOUD_ID}/rest/api/{2,3}`; Server takes Basic `USERNAME:PASSWORD` or
//!   `Bearer PAT` on `/rest/api/2`.
//! - Issues are created and updated between [`HISTORY_START_MS`] and [`HISTORY_END_MS`] (a fixed
//!   window, so a seed always gives the same bytes); only touched or added issues are later.
//!   A few groups of issues share the exact same `updated` millisecond.
//! - JQL: clauses joined by `AND` on `project` (`=`, `!=`, `in`, `not in`; key, id or name),
//!   `key`/`issuekey`/`id` (same operators), `created`/`updated` (`= != > >= < <=` against
//!   `"yyyy/MM/dd HH:mm"`, `"yyyy-MM-dd HH:mm"`, `"yyyy/MM/dd"`, `"yyyy-MM-dd"` read in the
//!   configured time zone, epoch milliseconds, or `-5d`-style periods), then
//!   `ORDER BY updated|created|key|id [ASC|DESC], ...`. Without ORDER BY: `key DESC`. Ties are
//!   broken by issue id. `OR`, parentheses, functions and other fields are refused with a 400.
//! - `/search/jql` tokens hold the query and the last row's sort values (keyset paging): an
//!   issue touched mid-sync is seen again at its new place, and no other issue is skipped.
//! - Busy issues ([`SimConfig::busy_every`], [`Sim::busy_issue_ids`]) have more children than
//!   Jira embeds. Embedded lists are cut as Jira cuts them, `total` telling the truth:
//!   `fields.worklog` the first 20 (`maxResults: 20`), `fields.comment` the first 50,
//!   `expand=changelog` the first 40 histories in `/search/jql`, 100 in offset `/search` and
//!   Cloud's `issue/{key}`, all of them in Server's `issue/{key}`. The child endpoints page
//!   through all: `issue/{key}/comment` and `/worklog` (5000 a page on Cloud, 50 on Server),
//!   Cloud's `issue/{key}/changelog` (100) and `changelog/bulkfetch` (1000, up to 10000).
//! - `worklog/updated` pages (1000 at most) restart at `since = until`, so worklogs sharing the
//!   boundary millisecond come again on the next page; a page whose 1000 rows all share one
//!   millisecond grows to hold all of it and the next starts a millisecond later. Worklogs
//!   updated in the minute before the request are left out, as Jira does.
//! - Issues added at run time have no comments, worklogs, attachments, remote links or history
//!   (beyond later touches) yet.

mod auth;
mod config;
pub mod creds;
mod faults;
mod handlers;
mod jql;
mod render;
mod requests;
mod rng;
mod search;
mod select;
mod server;
mod site;
mod state;
mod times;

use std::collections::BTreeMap;
use std::sync::Arc;

pub use config::{Deployment, SimConfig};
pub use faults::Fault;
pub use requests::{AuthSeen, RequestRecord};
pub use server::{RunningSim, spawn};
pub use times::{HISTORY_END_MS, HISTORY_START_MS, parse_timestamp};

use state::Shared;

/// A simulated Jira site. Cheap to clone: clones share the same site and request log.
#[derive(Clone)]
pub struct Sim {
    shared: Arc<Shared>,
}

impl Sim {
    /// Generates the site described by `cfg`.
    pub fn new(cfg: SimConfig) -> Sim {
        Sim {
            shared: Arc::new(Shared::new(cfg)),
        }
    }

    pub fn config(&self) -> &SimConfig {
        &self.shared.cfg
    }

    /// The HTTP routes: `/rest/api/{2,3}/...`, the Cloud gateway `/ex/jira/{cloudId}/...`,
    /// `/oauth/token`, and the admin endpoints `/_sim/stats` and `/_sim/touch`.
    pub fn router(&self) -> axum::Router {
        axum::Router::new()
            .fallback(handlers::handle)
            .with_state(self.shared.clone())
    }

    pub fn issue_count(&self) -> usize {
        self.shared.site().issues.len()
    }

    pub fn project_count(&self) -> usize {
        self.shared.site().projects.len()
    }

    /// Records `/users/search` (Cloud: humans, the app user and the former user) or
    /// `/user/search?username=.` (Server) returns in total.
    pub fn user_count(&self) -> usize {
        self.shared.site().users().len()
    }

    /// Entries of `/field`.
    pub fn field_count(&self) -> usize {
        self.shared.site().fields.len()
    }

    /// How many records a complete sync of this site emits for the stream the tap names
    /// `stream`, or `None` for a stream the simulator knows nothing of (so that a new stream
    /// without simulator support fails its test). Site-wide streams: `projects`, `fields`,
    /// `users` (see [`Sim::user_count`]), `issues`, `versions`, `components`, `project_types`,
    /// `project_categories`, `resolutions`, `roles`. Per issue: `worklogs`, `issue_comments`,
    /// `changelogs` (histories), `issue_field_history` (one per item of every history),
    /// `issue_transitions` (transitions offered), `issue_links` (each issue's `issuelinks`
    /// entries, so a link counts once at each end), `issue_remote_links`, `issue_watchers`,
    /// `issue_votes` (voters) and `attachments`.
    ///
    /// With `issue_ids` (ids or keys), per-issue streams count only those issues' children and
    /// `issues` counts those that exist; site-wide streams ignore it. `None` means every issue.
    pub fn expected_records(&self, stream: &str, issue_ids: Option<&[String]>) -> Option<usize> {
        use site::reference::{RESOLUTIONS, ROLES, STATUSES, project_types_of};
        let site = self.shared.site();
        let indexes: Vec<usize> = match issue_ids {
            None => (0..site.issues.len()).collect(),
            Some(ids) => {
                let mut found: Vec<usize> =
                    ids.iter().filter_map(|id| site.find_issue(id)).collect();
                found.sort_unstable();
                found.dedup();
                found
            }
        };
        let per_issue = |count: &dyn Fn(usize) -> usize| indexes.iter().map(|&i| count(i)).sum();
        let projects = &site.projects;
        let count = match stream {
            "projects" => projects.len(),
            "fields" => site.fields.len(),
            "users" => site.users().len(),
            "issues" => indexes.len(),
            "versions" => projects.iter().map(|p| p.versions.len()).sum(),
            "components" => projects.iter().map(|p| p.components.len()).sum(),
            "project_types" => project_types_of(site.is_cloud()).count(),
            "project_categories" => site::projects::CATEGORIES.len(),
            "resolutions" => RESOLUTIONS.len(),
            "roles" => ROLES.len(),
            "worklogs" => per_issue(&|i| site.worklogs(i).len()),
            "issue_comments" => per_issue(&|i| site.comments(i).len()),
            "changelogs" => per_issue(&|i| site.history(i).len()),
            "issue_field_history" => {
                per_issue(&|i| site.history(i).iter().map(|h| h.changes.len()).sum())
            }
            "issue_transitions" => per_issue(&|_| STATUSES.len() - 1),
            "issue_links" => per_issue(&|i| site.issues[i].links.len()),
            "issue_remote_links" => per_issue(&|i| site.remote_links(i).len()),
            "issue_watchers" => per_issue(&|i| site.watchers(i).len()),
            "issue_votes" => per_issue(&|i| site.voters(i).len()),
            "attachments" => per_issue(&|i| site.attachments(i).len()),
            _ => return None,
        };
        Some(count)
    }

    /// Ids of the busy issues: those with more comments, worklogs and histories than Jira
    /// embeds in an issue (see [`SimConfig::busy_every`]).
    pub fn busy_issue_ids(&self) -> Vec<String> {
        let site = self.shared.site();
        site.issues
            .iter()
            .filter(|i| i.busy)
            .map(|i| i.id.to_string())
            .collect()
    }

    /// Members of `group`, inactive ones included (what `includeInactiveUsers=true` pages
    /// through); 0 for an unknown group. Groups: `jira-users` (every human account, and on
    /// Cloud the inactive former user), `jira-administrators`, `jira-software-users`.
    pub fn group_member_count(&self, group: &str) -> usize {
        let site = self.shared.site();
        site.people
            .groups
            .iter()
            .find(|g| g.name == group)
            .map_or(0, |g| g.members.len())
    }

    /// Picks `n` distinct issues (deterministically), sets their `updated` to now (UTC, ms
    /// precision) and changes their summary. Returns their ids.
    pub fn touch_issues(&self, n: usize) -> Vec<String> {
        self.shared.site_mut().touch(n)
    }

    /// Appends `n` new issues, created and updated now, to a project (by key or id). Returns
    /// their ids. Panics when there is no such project.
    pub fn add_issues(&self, project_key: &str, n: usize) -> Vec<String> {
        self.shared
            .site_mut()
            .add_issues(project_key, n)
            .unwrap_or_else(|| panic!("the simulated site has no project '{project_key}'"))
    }

    /// Requests per endpoint, keyed like `"GET /rest/api/3/search/jql"` with ids, keys and
    /// UUIDs in paths folded to `{id}`. Admin endpoints are not counted.
    pub fn request_counts(&self) -> BTreeMap<String, u64> {
        self.shared.log().counts()
    }

    /// Every request answered so far (the latest 200,000), oldest first.
    pub fn requests(&self) -> Vec<RequestRecord> {
        self.shared.log().records()
    }

    /// Every request that matched no route of the simulator, as `"GET /rest/api/3/xyz"` (the
    /// raw path, without the query), oldest first: a client calling an endpoint the simulator
    /// does not serve. A 404 for an unknown issue or project is a served answer, not listed.
    pub fn unserved(&self) -> Vec<String> {
        self.shared.log().unserved()
    }

    /// Forgets the requests, counts and unserved requests recorded so far.
    pub fn reset_requests(&self) {
        self.shared.log().clear();
    }

    /// Every OAuth access token issued so far stops working (the next call gets 401).
    pub fn expire_access_tokens(&self) {
        self.shared.oauth().expire_all();
    }

    /// The refresh token that `POST /oauth/token` accepts now.
    pub fn current_refresh_token(&self) -> String {
        self.shared.oauth().current_refresh()
    }

    /// Gives one issue a new version updated at `at_ms` (epoch ms), possibly in the past: how an
    /// edit looks that Jira's search index showed late. Returns false for an unknown id.
    pub fn set_issue_updated(&self, id: &str, at_ms: i64) -> bool {
        self.shared.site_mut().set_updated(id, at_ms)
    }

    /// Changes the issues with these ids (`updated` = now) just before answering the request
    /// whose path contains `path_contains` after `requests_before` such requests: an edit made
    /// while a sync is paging.
    pub fn touch_issues_before_request(
        &self,
        path_contains: &str,
        requests_before: u32,
        ids: Vec<String>,
    ) {
        let touch = state::ScheduledTouch {
            path_contains: path_contains.to_string(),
            requests_before,
            ids,
        };
        self.shared
            .scheduled
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(touch);
    }

    /// Answers the next `fault.times` requests whose path contains `fault.path_contains` with
    /// the fault's response instead of the real one.
    pub fn push_fault(&self, fault: Fault) {
        self.shared.faults().push(fault);
    }
}
