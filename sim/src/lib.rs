//! A deterministic Jira simulator for tap-jira's tests, benchmarks and demo.
//!
//! [`Sim::new`] generates a Jira site from a [`SimConfig`] (seed and sizes) and
//! [`Sim::router`] serves it over HTTP in Cloud shapes (REST v3 and v2, `/search/jql` with page
//! tokens, OAuth gateway) or Server / Data Center shapes (REST v2, offset search). [`spawn`]
//! runs it on a background thread for plain `#[test]` functions. Tests steer it with
//! [`Sim::touch_issues`], [`Sim::add_issues`], [`Sim::delete_issues`],
//! [`Sim::delete_worklogs`], [`Sim::delete_filters_before_request`],
//! [`Sim::add_custom_field`] (and its removal, retyping and renaming), [`Sim::push_fault`] and
//! [`Sim::expire_access_tokens`], check what the client did with [`Sim::requests`],
//! [`Sim::unserved`] and [`Sim::load_stats`], and what a complete sync holds with
//! [`Sim::expected_records`] (and who may see an issue with [`Sim::who_may_browse`]).
//!
//! What a client can count on:
//! - Credentials are in [`creds`]. Cloud takes Basic `EMAIL:API_TOKEN` on `/rest/api/{2,3}`
//!   and OAuth access tokens (from `POST /oauth/token`, refresh tokens rotating) on the gateway
//!   `/ex/jira/{CLOUD_ID}/rest/api/{2,3}`, where a service account's Basic
//!   `SERVICE_ACCOUNT_EMAIL:SCOPED_API_TOKEN` is taken too (and refused by the site itself, as
//!   Cloud refuses scoped tokens); `GET /_edge/tenant_info` tells anyone the cloud id (404 on
//!   Server). Server takes Basic `USERNAME:PASSWORD`, `Bearer PAT`, or (Data Center as an OAuth
//!   2.0 provider) access tokens from `POST /rest/oauth2/latest/token` on `/rest/api/2`, with the
//!   same client and rotating refresh tokens as Cloud's `/oauth/token`; unlike Cloud's, a refresh
//!   there must carry the client's `redirect_uri` (the one its last code was exchanged for, when
//!   one was), or it is refused (400 `invalid_grant`). A person's one-time
//!   authorisation: `GET /authorize` (Cloud) or `/rest/oauth2/latest/authorize` (Data Center)
//!   redirects at once to `redirect_uri?code=…&state=…`, and the token endpoints exchange that
//!   code once (`grant_type=authorization_code`, the same `redirect_uri`).
//! - [`spawn_proxy`] starts a forward proxy on 127.0.0.1 that records every request (plain HTTP
//!   in absolute form, HTTPS as CONNECT) with the credentials it carried.
//! - Issues are created and updated between [`HISTORY_START_MS`] and [`HISTORY_END_MS`] (a fixed
//!   window, so a seed always gives the same bytes); only touched or added issues are later.
//!   A few groups of issues share the exact same `updated` millisecond.
//! - JQL: clauses joined by `AND` on `project` (`=`, `!=`, `in`, `not in`; key, id or name),
//!   `key`/`issuekey`/`id` (same operators; `id` also `> >= < <=` against a number, or with
//!   [`SimConfig::id_ranges_need_an_issue`] only an existing issue's id, as Jira),
//!   `created`/`updated` (`= != > >= < <=` against
//!   `"yyyy/MM/dd HH:mm"`, `"yyyy-MM-dd HH:mm"`, `"yyyy/MM/dd"`, `"yyyy-MM-dd"` read in the
//!   configured time zone, epoch milliseconds, or `-5d`-style periods), then
//!   `ORDER BY updated|created|key|id [ASC|DESC], ...`. Without ORDER BY: `key DESC`. Ties are
//!   broken by issue id. `OR`, parentheses, functions and other fields are refused with a 400.
//! - Server's offset `/search` refuses a page reaching past [`SimConfig::search_window`] rows
//!   (`startAt` plus the page; 10,000 by default) with Data Center's 500 "Search limit exceeded".
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
//!   [`SimConfig::worklog_page_size`] makes the pages smaller. `worklog/list` sends a
//!   worklog's `properties` (an app's on every fourth worklog) only with `expand=properties`.
//! - With [`SimConfig::hidden_worklogs_every`] some worklogs are restricted to a group the
//!   account is not in, and it sees them nowhere: not in `worklog/list`, an issue's `worklog`
//!   field or `issue/{key}/worklog`, nor in [`Sim::expected_records`] ([`Sim::worklogs`] tells
//!   which). `worklog/updated` cuts a page, its `until` and `lastPage` over every worklog and
//!   only then drops the hidden ones, as Jira does: pages come short, or empty, though not
//!   last. `worklog/deleted` lists them (Jira asks only for access to Jira there).
//! - With [`SimConfig::rate_limit_per_second`] every request but OAuth's `/oauth/token` ones
//!   takes a token from one bucket for the site (a one-second burst, refilled at the rate); a
//!   request that finds none gets Jira's 429 (Cloud: JSON, `Retry-After`, `X-RateLimit-Limit`,
//!   `X-RateLimit-Remaining: 0`, `X-RateLimit-Reset`, `RateLimit-Reason: jira-burst-based`;
//!   Server: Tomcat's HTML page, `Retry-After` and `X-RateLimit-Limit`, `-Remaining`,
//!   `-Interval-Seconds`, `-FillRate`). Admitted answers carry `X-RateLimit-Limit` and
//!   `X-RateLimit-Remaining` (Cloud also `X-RateLimit-Reset`, when the bucket is full again, and
//!   `X-RateLimit-NearLimit: true` below a fifth; Server the fill rate and interval).
//!   [`Sim::load_stats`] tells how many were refused and how many were in flight at most.
//! - Issues added at run time have no comments, worklogs, attachments, remote links or history
//!   (beyond later touches) yet.
//! - A deleted issue is gone as in Jira: from both searches (JQL naming its key or id is a
//!   400), `issue/{key}` and its child endpoints (404, "Issue does not exist or you do not have
//!   permission to see it."), `changelog/bulkfetch`, boards, sprints and epics, and the other
//!   issues' `issuelinks`; its sub-tasks are deleted with it, its epic's issues lose their
//!   parent, its worklogs are listed by `worklog/deleted`. Each deletion adds an audit record
//!   (`summary` "Issue deleted", `category` "issue management", `objectItem` `{id, name: key,
//!   typeName: "ISSUE"}`, the project in `associatedItems`). Other issues keep their `updated`.
//! - An archived project ([`Sim::archive_project`]) is left out of Cloud's `project/search`
//!   unless `status` asks for `archived` (Jira's default is `live`) and of `project` unless
//!   `includeArchived=true` (Data Center), as Jira's REST reference says; listed, it is
//!   `archived: true`. Its issues are hidden apart ([`Sim::hide_issue`]).
//! - A deleted worklog is gone from its issue (embedded and `issue/{key}/worklog`),
//!   `worklog/updated` and `worklog/list`, and listed by `worklog/deleted` (paged as
//!   `worklog/updated`, `updatedTime` the deletion time). Its issue keeps its `updated`.
//!   Both lists leave out the last minute's changes, as Jira does
//!   ([`Sim::set_worklog_settling_ms`]).
//! - Custom fields added, removed or retyped at run time show at once in `/field`, contexts
//!   and options, issues (a new field has values on about two issues in three), and the
//!   `names` / `schema` expansions; each change adds Jira's audit record (category "fields").
//!   Issues keep their `updated`.
//! - Beyond issues: reference lists (`issuetype`, `status`, `statuscategory`, `priority`,
//!   Cloud's `priority/search` and `label`, `issueLinkType`, `configuration`,
//!   `applicationrole`), setup lists (`workflow` on Server, Cloud's `workflow/search`,
//!   `workflowscheme`, `screens`, `screenscheme`, `issuetypescheme`, `issuetypescreenscheme`,
//!   `fieldconfiguration`, `fieldconfigurationscheme`, `priorityscheme`, `filter/search` and
//!   `field/{id}/context[/{id}/option]`; `notificationscheme` and `dashboard` on both), groups
//!   (Cloud's `group/bulk`, Server's `groups/picker`), per project `statuses`, `role[/{id}]`
//!   and `permissionscheme`, `permissionscheme[/{id}/permission]`, `issuesecurityschemes[/{id}]`
//!   and Cloud's `issuesecurityschemes/level/member`, `auditing/record` (403 without
//!   [`SimConfig::admin`]), and Jira Software's `/rest/agile/1.0/` boards, configurations,
//!   sprints (400 for kanban boards), board and sprint issues and epics (404 everywhere without
//!   [`SimConfig::jira_software`]). Page beans honour `startAt` / `maxResults` and cap pages as
//!   Jira does (agile 50, `group/member` 50, the others 50 to 1000).

mod auth;
mod chaos;
mod config;
pub mod creds;
mod faults;
mod handlers;
mod jql;
mod load;
pub mod proxy;
mod render;
mod requests;
mod rng;
mod search;
mod select;
mod server;
mod site;
mod state;
mod times;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

pub use chaos::Chaos;
pub use config::{Deployment, Language, SimConfig};
pub use faults::Fault;
pub use load::LoadStats;
pub use proxy::{ProxiedRequest, RunningProxy, spawn_proxy};
pub use requests::{AuthSeen, RequestRecord};
pub use server::{RunningSim, no_delay, spawn};
pub use site::ListedWorklog;
pub use site::deletion::{DeletedIssue, DeletedWorklog};
pub use site::fields::CustomFieldType;
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
    /// `/oauth/token`, and the admin endpoints `/_sim/stats`, `/_sim/load`, `/_sim/touch`,
    /// `/_sim/delete-issues`, `/_sim/delete-worklogs` and `/_sim/fields[/{id}]`.
    pub fn router(&self) -> axum::Router {
        let router = axum::Router::new()
            .fallback(handlers::handle)
            .with_state(self.shared.clone());
        if self.shared.cfg.gzip {
            router.layer(tower_http::compression::CompressionLayer::new())
        } else {
            router
        }
    }

    /// Issues on the site now (deleted ones not counted).
    pub fn issue_count(&self) -> usize {
        self.shared.site().live_issues().count()
    }

    pub fn project_count(&self) -> usize {
        self.shared.site().projects.len()
    }

    /// Users on the site: what `/users/search` (Cloud: humans, the app user and the former
    /// user) or `/user/list` (Server) returns in total; `/user/search?username=.` lists at
    /// most the first 1000 of them (100 from Data Center 10).
    pub fn user_count(&self) -> usize {
        self.shared.site().users().len()
    }

    /// Entries of `/field` (custom fields added or removed at run time counted).
    pub fn field_count(&self) -> usize {
        self.shared.site().fields.len()
    }

    /// How many records a complete sync of this site emits for the stream the tap names
    /// `stream`, or `None` for a stream the simulator knows nothing of (so that a new stream
    /// without simulator support fails its test), or that this deployment does not have (the
    /// Cloud-only streams on Server: `labels`, `custom_field_contexts`,
    /// `custom_field_options`, `workflow_schemes`, `screens`, `screen_schemes`,
    /// `issue_type_schemes`, `issue_type_screen_schemes`, `field_configurations`,
    /// `field_configuration_schemes`, `priority_schemes`, `filters`,
    /// `issue_security_level_members`).
    ///
    /// Site-wide streams: `projects`, `fields`, `users` (see [`Sim::user_count`]), `issues`,
    /// `versions`, `components`, `project_types`, `project_categories`, `resolutions`, `roles`.
    /// Per issue: `worklogs`, `issue_comments`, `changelogs` (histories),
    /// `issue_field_history` (one per item of every history), `issue_transitions` (transitions
    /// offered), `issue_links` (each issue's `issuelinks` entries, so a link counts once at each
    /// end), `issue_remote_links`, `issue_watchers`, `issue_votes` (voters) and `attachments`.
    ///
    /// Reference and setup lists, one row per item: `issue_types`, `statuses`,
    /// `status_categories` (the four, "No Category" included), `priorities`, `labels` (the
    /// distinct labels issues carry), `issue_link_types`, `workflows`, `workflow_schemes`,
    /// `screens`, `screen_schemes`, `issue_type_schemes`, `issue_type_screen_schemes`,
    /// `field_configurations`, `field_configuration_schemes`, `notification_schemes`,
    /// `priority_schemes`, `filters` (one per board, then personal ones), `dashboards`,
    /// `application_roles`, `permission_schemes`, `issue_security_schemes`, `groups`; one row
    /// each: `time_tracking` (`configuration`) and `server_info`.
    ///
    /// Rows after the tap's row rules:
    /// - `custom_field_contexts`: the contexts of the custom fields only (each has its global
    ///   one; single selects also a second);
    /// - `custom_field_options`: the options of every context of the custom fields whose
    ///   `schema.custom` ends in `:select`, `:multiselect`, `:radiobuttons`, `:multicheckboxes`
    ///   or `:cascadingselect` (a cascading select's children are rows too);
    /// - `project_statuses`: projects × issue types; `project_roles`: projects × roles;
    ///   `project_role_actors`: the sum of every project role's actors in every project;
    ///   `project_permission_schemes`: one per project;
    /// - `group_members`: the sum over groups of their members, inactive users included;
    /// - `permission_grants`: the grants of every scheme; `issue_security_levels`: the levels of
    ///   every scheme; `issue_security_level_members`: the members of every level;
    /// - `boards` and `board_configurations`: one per board; `sprints`: the boards' sprints, each
    ///   once though one sprint is on two boards; `sprint_issues`: (sprint, issue) memberships,
    ///   from the issues' Sprint field, over those distinct sprints; `board_issues`: the sum over
    ///   boards of their issues; `epics`: the boards' epics, each once (kanban and team boards
    ///   list their project's epics too). All 0 with `jira_software: false`;
    /// - `audit_records`: every audit record (0 with `admin: false`).
    ///
    /// With `issue_ids` (ids or keys), per-issue streams count only those issues' children and
    /// `issues` counts those that exist; site-wide streams ignore it. `None` means every issue.
    /// Deleted issues and worklogs count nowhere (a deleted issue's links are gone from the
    /// other end too), nor do hidden worklogs ([`SimConfig::hidden_worklogs_every`]) or the
    /// hidden boards' rows ([`SimConfig::hidden_boards_every`]); run-time
    /// audit records and custom fields count.
    pub fn expected_records(&self, stream: &str, issue_ids: Option<&[String]>) -> Option<usize> {
        use site::reference::{
            ISSUE_TYPES, LINK_TYPES, PRIORITIES, RESOLUTIONS, ROLES, STATUS_CATEGORIES, STATUSES,
            application_roles, project_types_of,
        };
        let site = self.shared.site();
        let cfg = &self.shared.cfg;
        let cloud = site.is_cloud();
        let indexes: Vec<usize> = match issue_ids {
            None => site.live_issues().collect(),
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
        let access = &site.access;
        let agile = |count: &dyn Fn() -> usize| if cfg.jira_software { count() } else { 0 };
        const OPTION_TYPES: &[&str] = &[
            ":select",
            ":multiselect",
            ":radiobuttons",
            ":multicheckboxes",
            ":cascadingselect",
        ];
        let count = match stream {
            "projects" => projects.len(),
            "fields" => site.fields.len(),
            "users" => site.users().len(),
            "issues" => indexes.len(),
            "versions" => projects.iter().map(|p| p.versions.len()).sum(),
            "components" => projects.iter().map(|p| p.components.len()).sum(),
            "project_types" => project_types_of(cloud).count(),
            "project_categories" => site::projects::CATEGORIES.len(),
            "resolutions" => RESOLUTIONS.len(),
            "roles" => ROLES.len(),
            "worklogs" => per_issue(&|i| site.visible_worklogs(i).len()),
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
            "issue_types" => ISSUE_TYPES.len(),
            "statuses" => STATUSES.len(),
            "status_categories" => STATUS_CATEGORIES.len(),
            "priorities" => PRIORITIES.len(),
            "labels" if cloud => site.all_labels().len(),
            "issue_link_types" => LINK_TYPES.len(),
            "custom_field_contexts" if cloud => site
                .fields
                .iter()
                .filter(|f| f.is_custom())
                .map(|f| f.contexts().len())
                .sum(),
            "custom_field_options" if cloud => site
                .fields
                .iter()
                .filter(|f| {
                    f.schema
                        .as_ref()
                        .and_then(|s| s.custom)
                        .is_some_and(|c| OPTION_TYPES.iter().any(|t| c.ends_with(t)))
                })
                .flat_map(|f| f.contexts())
                .map(|c| c.options.len())
                .sum(),
            "workflows" => site.workflows().len(),
            "workflow_schemes" if cloud => site.workflow_schemes().len(),
            "screens" if cloud => site.screens().len(),
            "screen_schemes" if cloud => site.screen_schemes().len(),
            "issue_type_schemes" if cloud => site.issue_type_schemes().len(),
            "issue_type_screen_schemes" if cloud => site.issue_type_screen_schemes().len(),
            "field_configurations" if cloud => site.field_configurations().len(),
            "field_configuration_schemes" if cloud => site.field_configuration_schemes().len(),
            "notification_schemes" => site.notification_schemes().len(),
            "priority_schemes" if cloud => site.priority_schemes().len(),
            "time_tracking" | "server_info" => 1,
            "filters" if cloud => site.filters().len(),
            "dashboards" => site.dashboards().len(),
            "project_statuses" => projects.len() * ISSUE_TYPES.len(),
            "groups" => site.people.groups.len(),
            "group_members" => site.people.groups.iter().map(|g| g.members.len()).sum(),
            "project_roles" => projects.len() * ROLES.len(),
            "project_role_actors" => projects
                .iter()
                .flat_map(|p| p.role_actors.iter())
                .map(Vec::len)
                .sum(),
            "permission_schemes" => access.permission_schemes.len(),
            "permission_grants" => access
                .permission_schemes
                .iter()
                .map(|s| s.grants.len())
                .sum(),
            "project_permission_schemes" => projects.len(),
            "issue_security_schemes" => access.security_schemes.len(),
            "issue_security_levels" => access.security_schemes.iter().map(|s| s.levels.len()).sum(),
            "issue_security_level_members" if cloud => access
                .security_schemes
                .iter()
                .flat_map(|s| s.levels.iter())
                .map(|l| l.members.len())
                .sum(),
            "application_roles" => application_roles(cloud, cfg.jira_software).len(),
            "boards" | "board_configurations" => agile(&|| site.visible_boards().count()),
            "sprints" => agile(&|| site.distinct_board_sprints().len()),
            "sprint_issues" => agile(&|| {
                site.distinct_board_sprints()
                    .into_iter()
                    .map(|s| site.sprint_issues(s).len())
                    .sum()
            }),
            "board_issues" => agile(&|| {
                site.visible_boards()
                    .map(|b| site.board_issues(b).len())
                    .sum()
            }),
            "epics" => agile(&|| {
                let mut epics: Vec<usize> = site
                    .visible_boards()
                    .flat_map(|b| site.board_epics(b))
                    .collect();
                epics.sort_unstable();
                epics.dedup();
                epics.len()
            }),
            "audit_records" => {
                if cfg.admin {
                    site.audit.len()
                } else {
                    0
                }
            }
            _ => return None,
        };
        Some(count)
    }

    /// Who may see an issue (by id or key): the Cloud account ids (on Server the user keys) of
    /// the active human users who hold `BROWSE_PROJECTS` in the permission scheme of the
    /// issue's project and, when the issue has a security level (`fields.security`), are also
    /// members of that level. Grants and level members count as Jira counts them: a group
    /// means its members; a project role the role's actors in the issue's project (user
    /// actors, and the members of group actors); `projectLead` the project's lead; `reporter`
    /// the issue's reporter; `user` that user. Grants to `anyone` and to application roles
    /// are not counted (they name nobody in particular). Empty for an unknown issue.
    ///
    /// On the default site the authenticated user may browse every issue; others may not see
    /// the issues of the projects with the restricted scheme (even project indexes) or the
    /// issues with a security level.
    pub fn who_may_browse(&self, issue_id_or_key: &str) -> BTreeSet<String> {
        let site = self.shared.site();
        let Some(index) = site.find_issue(issue_id_or_key) else {
            return BTreeSet::new();
        };
        site.may_browse(index)
            .into_iter()
            .map(|u| {
                let user = &site.users()[u];
                if site.is_cloud() {
                    user.account_id.clone()
                } else {
                    user.key.clone()
                }
            })
            .collect()
    }

    /// Ids of the busy issues: those with more comments, worklogs and histories than Jira
    /// embeds in an issue (see [`SimConfig::busy_every`]).
    pub fn busy_issue_ids(&self) -> Vec<String> {
        let site = self.shared.site();
        site.issues
            .iter()
            .filter(|i| i.busy && i.is_live())
            .map(|i| i.id.to_string())
            .collect()
    }

    /// Members of `group`, inactive ones included (what `includeInactiveUsers=true` pages
    /// through); 0 for an unknown group. Groups: `jira-users` (every human account, and on
    /// Cloud the inactive former user), `jira-administrators`, `jira-software-users`,
    /// `security-team`.
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

    /// Appends `n` new issues, all created and updated at the same instant (now: one minute
    /// however many, as a bulk import gives), to a project (by key or id). Returns
    /// their ids. Panics when there is no such project.
    pub fn add_issues(&self, project_key: &str, n: usize) -> Vec<String> {
        self.shared
            .site_mut()
            .add_issues(project_key, n)
            .unwrap_or_else(|| panic!("the simulated site has no project '{project_key}'"))
    }

    /// Sets how far the site's clock is ahead of the machine's from now on (ms; negative:
    /// behind), as a server whose clock is corrected does: see `SimConfig::clock_offset_ms`.
    pub fn set_clock_offset_ms(&self, ms: i64) {
        self.shared.site_mut().clock_offset_ms = ms;
    }

    /// Deletes `n` issues (fewer when the site runs out): one in each project in turn, from a
    /// project picked by the seed, each an issue without sub-tasks picked by the seed; a given
    /// seed and history of calls deletes the same ones. Their worklogs go to
    /// `worklog/deleted`, their links leave the other issues, each writes an "Issue deleted"
    /// audit record at the deletion time (now).
    pub fn delete_issues(&self, n: usize) -> Vec<DeletedIssue> {
        self.shared.site_mut().delete_issues(n)
    }

    /// Deletes one issue by id or key, and with it its sub-tasks (each a deletion of its own,
    /// listed by [`Sim::deleted_issues`]). Returns the issue asked for; `None` when there is no
    /// such issue, or it is already deleted.
    pub fn delete_issue(&self, id_or_key: &str) -> Option<DeletedIssue> {
        self.shared
            .site_mut()
            .delete_issue(id_or_key)
            .and_then(|mut deleted| deleted.pop())
    }

    /// Gives a project (by key or id) a new key: its issues' keys change, their `updated` does
    /// not, and the old keys still resolve (paths, JQL). Panics when there is no such project.
    pub fn rename_project_key(&self, id_or_key: &str, new_key: &str) {
        assert!(
            self.shared
                .site_mut()
                .rename_project_key(id_or_key, new_key),
            "the simulated site has no project '{id_or_key}'"
        );
    }

    /// Archives a project (by key or id): Cloud's `project/search` leaves it out unless
    /// `status` asks for `archived` (the default is `live`), Data Center's `project` unless
    /// `includeArchived=true`; listed, it is `archived: true` (Cloud adds `archivedDate`). Its
    /// issues stay as they are: [`Sim::hide_issue`] takes them out of the searches. Panics when
    /// there is no such live project.
    pub fn archive_project(&self, id_or_key: &str) {
        assert!(
            self.shared.site_mut().archive_project(id_or_key),
            "the simulated site has no live project '{id_or_key}'"
        );
    }

    /// Hides the issue with this id for a while, as archiving its project, putting it in the
    /// trash or issue security does: gone from every answer (404 on `GET /issue/{id}`, absent
    /// from searches) until [`Sim::show_issue`]. False when there is no such live issue.
    pub fn hide_issue(&self, id: &str) -> bool {
        self.shared.site_mut().hide_issue(id)
    }

    /// Shows again an issue [`Sim::hide_issue`] hid, as it was: its `updated` unchanged, so an
    /// incremental search does not return it. False when it is not hidden.
    pub fn show_issue(&self, id: &str) -> bool {
        self.shared.site_mut().show_issue(id)
    }

    /// Every issue deleted so far, in the order they went.
    pub fn deleted_issues(&self) -> Vec<DeletedIssue> {
        self.shared.site().deleted_issues.clone()
    }

    /// Deletes `n` worklogs (fewer when the site has fewer) picked by the seed among all the
    /// site's worklogs. `worklog/deleted` lists them once the settling minute has passed (see
    /// [`Sim::set_worklog_settling_ms`]).
    pub fn delete_worklogs(&self, n: usize) -> Vec<DeletedWorklog> {
        self.shared.site_mut().delete_worklogs(n)
    }

    /// Every worklog on the site now, hidden ones included, as `worklog/updated` lists them:
    /// by `updated`, then id.
    pub fn worklogs(&self) -> Vec<ListedWorklog> {
        let site = self.shared.site();
        site.worklog_index()
            .iter()
            .map(|e| ListedWorklog {
                worklog_id: e.id,
                issue_id: site.issues[e.issue as usize].id.to_string(),
                updated_ms: e.updated,
                hidden: site.worklog_hidden(e.id),
            })
            .collect()
    }

    /// Every worklog deleted so far, on its own or with its issue, as `worklog/deleted` lists
    /// them: by deletion time, then id.
    pub fn deleted_worklogs(&self) -> Vec<DeletedWorklog> {
        self.shared.site().deleted_worklog_list()
    }

    /// How long `worklog/updated` and `worklog/deleted` leave changes out: Jira, and the
    /// simulator by default, the minute before the request. A test that cannot wait sets 0.
    pub fn set_worklog_settling_ms(&self, ms: u64) {
        self.shared.set_worklog_settling_ms(ms);
    }

    /// Adds a custom field of type `kind` named `name` with the next unused id
    /// (`customfield_<n>`, never one a removed field had). Returns the id. Issues have values
    /// for it at once (null on about a third), and keep their `updated`.
    pub fn add_custom_field(&self, name: &str, kind: CustomFieldType) -> String {
        self.shared.site_mut().add_custom_field(name, kind)
    }

    /// Deletes a custom field: gone from `/field`, its contexts and options, and issues.
    /// False for an unknown id, a system field, or a field Jira Software manages (Sprint,
    /// Epic Link, Story Points, Rank, Parent Link).
    pub fn remove_custom_field(&self, id: &str) -> bool {
        self.shared.site_mut().remove_custom_field(id).is_ok()
    }

    /// Gives a custom field another type, keeping its id and name: `/field` shows the new
    /// schema and issues hold values of the new type. False as for
    /// [`Sim::remove_custom_field`].
    pub fn retype_custom_field(&self, id: &str, kind: CustomFieldType) -> bool {
        self.shared.site_mut().retype_custom_field(id, kind).is_ok()
    }

    /// Gives a custom field another display name, keeping its id, type and values: `/field`
    /// shows the new name. False as for [`Sim::remove_custom_field`].
    pub fn rename_custom_field(&self, id: &str, name: &str) -> bool {
        self.shared.site_mut().rename_custom_field(id, name).is_ok()
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

    /// Forgets the requests, counts and unserved requests recorded so far, and restarts the
    /// [`Sim::load_stats`] (the peak in flight from the requests in flight now).
    pub fn reset_requests(&self) {
        self.shared.log().clear();
        self.shared.meter.reset();
    }

    /// The most requests (admin endpoints aside) handled at the same moment so far, counting
    /// the time each spends in the configured latency sleep.
    pub fn peak_in_flight(&self) -> usize {
        self.shared.meter.stats().peak_in_flight
    }

    /// Requests the rate limiter ([`SimConfig::rate_limit_per_second`]) answered with 429.
    /// Injected faults are not counted.
    pub fn rejected_429(&self) -> u64 {
        self.shared.meter.stats().rejected_429
    }

    /// Requests received, requests refused by the rate limiter, the peak in flight, and the time
    /// spent handling requests without the latency sleep (also served as `GET /_sim/load`).
    pub fn load_stats(&self) -> LoadStats {
        self.shared.meter.stats()
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
        self.schedule(
            path_contains,
            requests_before,
            ids,
            state::Change::TouchIssues,
        );
    }

    /// Deletes the issues with these ids just before answering the request whose path
    /// contains `path_contains` after `requests_before` such requests: a deletion made while a
    /// sync runs.
    pub fn delete_issues_before_request(
        &self,
        path_contains: &str,
        requests_before: u32,
        ids: Vec<String>,
    ) {
        self.schedule(
            path_contains,
            requests_before,
            ids,
            state::Change::DeleteIssues,
        );
    }

    /// Deletes the saved filters with these ids just before answering the request whose path
    /// contains `path_contains` after `requests_before` such requests: `filter/search` lists
    /// the rest, each after the deleted ones one place earlier, as Jira does while a sync pages.
    pub fn delete_filters_before_request(
        &self,
        path_contains: &str,
        requests_before: u32,
        ids: Vec<String>,
    ) {
        self.schedule(
            path_contains,
            requests_before,
            ids,
            state::Change::DeleteFilters,
        );
    }

    /// Makes `change` to the rows `ids` just before answering the request whose path contains
    /// `path_contains` after `requests_before` such requests.
    fn schedule(
        &self,
        path_contains: &str,
        requests_before: u32,
        ids: Vec<String>,
        change: state::Change,
    ) {
        let scheduled = state::ScheduledTouch {
            path_contains: path_contains.to_string(),
            requests_before,
            ids,
            change,
        };
        self.shared
            .scheduled
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(scheduled);
    }

    /// Answers the next `fault.times` requests whose path contains `fault.path_contains` with
    /// the fault's response instead of the real one.
    pub fn push_fault(&self, fault: Fault) {
        self.shared.faults().push(fault);
    }

    /// Replaces the random faults and edits (`SimConfig::chaos`) from the next request on:
    /// `Chaos::default()` calms the site.
    pub fn set_chaos(&self, chaos: Chaos) {
        self.shared.dice.set(chaos);
    }

    /// Requests answered with a random fault so far (`SimConfig::chaos`).
    pub fn chaos_faults(&self) -> u64 {
        self.shared.dice.faults()
    }
}
