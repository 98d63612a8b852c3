//! The generated Jira site: people, projects, fields and issues, built once from the seed and
//! changed only by the `Sim` methods that touch, add or delete issues, delete worklogs and
//! change custom fields.

pub(crate) mod access;
pub(crate) mod activity;
pub(crate) mod agile;
pub(crate) mod deletion;
pub(crate) mod drift;
pub(crate) mod fields;
pub(crate) mod hiding;
pub(crate) mod issues;
pub(crate) mod people;
pub(crate) mod projects;
pub(crate) mod reference;
pub(crate) mod setup;
pub(crate) mod words;

use std::collections::HashSet;
use std::sync::OnceLock;

use chrono_tz::Tz;

use crate::config::{Deployment, Language, SimConfig};
use crate::rng::{RngExt, stream, topic};
use crate::times;
use fields::FieldDef;
use issues::{FIRST_ISSUE_ID, Issue};
use people::{People, User};
use projects::Project;

pub(crate) struct Site {
    pub seed: u64,
    pub deployment: Deployment,
    /// Zone of the authenticated user: JQL dates are read in it, some timestamps written in it.
    pub tz: Tz,
    pub people: People,
    pub projects: Vec<Project>,
    pub fields: Vec<FieldDef>,
    pub issues: Vec<Issue>,
    /// Permission schemes and issue security schemes (projects point into them).
    pub access: access::Access,
    /// Jira Software boards.
    pub boards: Vec<agile::Board>,
    /// The audit log, oldest first: generated, then appended to by run-time changes.
    pub audit: Vec<setup::AuditRecord>,
    /// Bumped on every change, so cached search results know they are stale.
    pub version: u64,
    /// Average children of the issues that are not busy, where the configuration sets them.
    pub shape: Shape,
    /// Worklogs whose id is a multiple of this are hidden from the account (0: none).
    hidden_worklogs_every: u64,
    /// Boards whose id is a multiple of this are hidden from the account (0: none).
    hidden_boards_every: u64,
    /// How many times issues were touched: seeds the choice of the next ones.
    touches: u64,
    /// Every worklog, ordered as `worklog/updated` lists them; built on first use and again
    /// after a deletion (touches leave worklogs alone, added issues have none).
    worklog_index: OnceLock<Vec<WorklogEntry>>,
    /// Ids of the worklogs deleted at run time on their own (a deleted issue's worklogs go
    /// with it).
    pub deleted_worklogs: HashSet<u64>,
    /// The same as `worklog/deleted` lists them: `updated` is the deletion time; ascending.
    pub worklog_deletions: Vec<WorklogEntry>,
    /// Ids of the saved filters deleted at run time: gone from `filter/search`.
    pub deleted_filters: HashSet<u64>,
    /// Issues deleted at run time, in the order they went.
    pub deleted_issues: Vec<deletion::DeletedIssue>,
    /// How many times issues or worklogs were picked for deletion: seeds the next choice.
    deletions: u64,
    /// Number of the next custom field, `customfield_<n>`: Jira never reuses one.
    next_custom_number: u64,
    /// The language audit records of deletions are written in.
    pub language: Language,
    /// How far the site's clock is ahead of the machine's (ms; `SimConfig::clock_offset_ms`).
    pub clock_offset_ms: i64,
    /// JQL's `id > N` (and `>=`, `<`, `<=`) is refused when no issue has id N
    /// (`SimConfig::id_ranges_need_an_issue`).
    pub id_ranges_need_an_issue: bool,
}

/// The configured averages of comments, worklogs and histories of the issues that are not
/// busy (`SimConfig::comments_mean` and the others); `None` keeps the generator's own spread.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Shape {
    pub comments: Option<f64>,
    pub worklogs: Option<f64>,
    pub histories: Option<f64>,
}

impl Shape {
    fn of(cfg: &SimConfig) -> Shape {
        // A mean that is not a finite number, or is negative, counts as 0.
        let sane = |mean: Option<f64>| mean.map(|m| if m.is_finite() { m.max(0.0) } else { 0.0 });
        Shape {
            comments: sane(cfg.comments_mean),
            worklogs: sane(cfg.worklogs_mean),
            histories: sane(cfg.histories_mean),
        }
    }
}

/// One worklog as `worklog/updated` lists it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct WorklogEntry {
    pub updated: i64,
    pub id: u64,
    /// Index of the worklog's issue.
    pub issue: u32,
}

/// One worklog as `worklog/updated` would list it to an account that sees every worklog.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListedWorklog {
    pub worklog_id: u64,
    pub issue_id: String,
    /// Its `updatedTime` (epoch ms).
    pub updated_ms: i64,
    /// Hidden from the simulator's account (`SimConfig::hidden_worklogs_every`).
    pub hidden: bool,
}

impl Site {
    pub fn generate(cfg: &SimConfig) -> Site {
        let people = people::generate(cfg.seed, cfg.deployment, cfg.users, &cfg.time_zone);
        let mut projects = projects::generate(cfg.seed, cfg.projects, people.humans);
        let mut issues = issues::generate(
            cfg.seed,
            &mut projects,
            cfg.issues_per_project,
            cfg.busy_every,
            &people,
        );
        let access = access::generate(cfg.seed, &people, &mut projects, &mut issues);
        let boards = agile::generate(&projects);
        let audit = setup::audit_log(cfg.seed, cfg.deployment, &people, &projects);
        let fields = fields::catalog(cfg.deployment, cfg.extra_custom_fields);
        let next_custom_number = fields
            .iter()
            .map(|f| f.custom_number() + 1)
            .max()
            .unwrap_or(0)
            .max(fields::FIRST_CUSTOM_ID);
        Site {
            seed: cfg.seed,
            deployment: cfg.deployment,
            tz: times::zone(&cfg.time_zone),
            people,
            projects,
            fields,
            issues,
            access,
            boards,
            audit,
            version: 0,
            shape: Shape::of(cfg),
            hidden_worklogs_every: cfg.hidden_worklogs_every,
            hidden_boards_every: cfg.hidden_boards_every,
            touches: 0,
            worklog_index: OnceLock::new(),
            deleted_worklogs: HashSet::new(),
            deleted_filters: HashSet::new(),
            worklog_deletions: Vec::new(),
            deleted_issues: Vec::new(),
            deletions: 0,
            next_custom_number,
            language: cfg.language,
            clock_offset_ms: cfg.clock_offset_ms,
            id_ranges_need_an_issue: cfg.id_ranges_need_an_issue,
        }
    }

    /// The site's clock (epoch ms): the machine's, off by `clock_offset_ms`.
    pub(crate) fn now_ms(&self) -> i64 {
        times::now_ms().saturating_add(self.clock_offset_ms)
    }

    /// Every worklog of the site, ascending by `updated` then id.
    pub fn worklog_index(&self) -> &[WorklogEntry] {
        self.worklog_index.get_or_init(|| {
            let mut all: Vec<WorklogEntry> = (0..self.issues.len())
                .flat_map(|index| {
                    self.worklogs(index).into_iter().map(move |w| WorklogEntry {
                        updated: w.updated,
                        id: w.id,
                        issue: index as u32,
                    })
                })
                .collect();
            all.sort_unstable();
            all
        })
    }

    pub fn is_cloud(&self) -> bool {
        self.deployment == Deployment::Cloud
    }

    pub fn users(&self) -> &[User] {
        &self.people.users
    }

    /// The account the simulator's credentials log in as.
    pub fn myself(&self) -> usize {
        0
    }

    pub fn issue_key(&self, index: usize) -> String {
        let issue = &self.issues[index];
        format!(
            "{}-{}",
            self.projects[issue.project as usize].key, issue.number
        )
    }

    /// Finds an issue by numeric id or by key (case-insensitive), as Jira paths accept both.
    /// A deleted issue is not found.
    pub fn find_issue(&self, id_or_key: &str) -> Option<usize> {
        let index = if let Ok(id) = id_or_key.parse::<u64>() {
            let index = id.checked_sub(FIRST_ISSUE_ID)? as usize;
            (index < self.issues.len()).then_some(index)?
        } else {
            let (key, number) = id_or_key.rsplit_once('-')?;
            let number: usize = number.parse().ok()?;
            let project = self.find_project_by_key(key)?;
            *self.projects[project].issues.get(number.checked_sub(1)?)? as usize
        };
        self.issues[index].is_live().then_some(index)
    }

    /// Indexes of the issues that are not deleted, in index order.
    pub fn live_issues(&self) -> impl Iterator<Item = usize> + '_ {
        (0..self.issues.len()).filter(|&i| self.issues[i].is_live())
    }

    /// Indexes of a project's issues that are not deleted, in key order.
    pub fn live_project_issues(&self, project: usize) -> impl Iterator<Item = usize> + '_ {
        self.projects[project]
            .issues
            .iter()
            .map(|&i| i as usize)
            .filter(|&i| self.issues[i].is_live())
    }

    /// By its key, or by a key it had before it was renamed (Jira resolves those too).
    fn find_project_by_key(&self, key: &str) -> Option<usize> {
        self.projects
            .iter()
            .position(|p| p.key.eq_ignore_ascii_case(key))
            .or_else(|| {
                self.projects
                    .iter()
                    .position(|p| p.former_keys.iter().any(|k| k.eq_ignore_ascii_case(key)))
            })
    }

    /// Gives the project with this key or id a new key, as Jira's project settings do: its
    /// issues' keys change with it, and nothing's `updated` does; the old key still resolves to
    /// the project, and the old issue keys to the issues. False when there is no such project.
    pub fn rename_project_key(&mut self, id_or_key: &str, new_key: &str) -> bool {
        let Some(project) = self.find_project(id_or_key) else {
            return false;
        };
        let project = &mut self.projects[project];
        let old = std::mem::replace(&mut project.key, new_key.to_string());
        project.former_keys.push(old);
        self.version += 1;
        true
    }

    /// Archives the project with this key or id, as Jira Cloud (Premium, Enterprise) and Data
    /// Center do: the project lists leave it out unless asked for archived projects (Cloud's
    /// `project/search?status=archived`, Data Center's `project?includeArchived=true`), where
    /// it is `archived: true`. Its issues are not hidden here (`hide_issue` does that). False
    /// when there is no such project, or it is archived already.
    pub fn archive_project(&mut self, id_or_key: &str) -> bool {
        let now = self.now_ms();
        let Some(project) = self.find_project(id_or_key) else {
            return false;
        };
        let project = &mut self.projects[project];
        if project.archived.is_some() {
            return false;
        }
        project.archived = Some(now);
        self.version += 1;
        true
    }

    /// Finds a project by id or key, as Jira paths and JQL accept both.
    pub fn find_project(&self, id_or_key: &str) -> Option<usize> {
        self.projects
            .iter()
            .position(|p| p.id.to_string() == id_or_key)
            .or_else(|| self.find_project_by_key(id_or_key))
    }

    /// Sets `updated` to now on the issues with these ids (a change made while a sync reads).
    /// Returns how many were found.
    pub fn touch_ids(&mut self, ids: &[String]) -> usize {
        let now = self.now_ms();
        let mut found = 0;
        for issue in self
            .issues
            .iter_mut()
            .filter(|i| i.is_live() && ids.contains(&i.id.to_string()))
        {
            issue.updated = now;
            issue.revision += 1;
            found += 1;
        }
        self.version += 1;
        found
    }

    /// Sets one issue's `updated` to `at_ms` (epoch ms), as an edit that search shows only late.
    pub fn set_updated(&mut self, id: &str, at_ms: i64) -> bool {
        let Some(issue) = self
            .issues
            .iter_mut()
            .find(|i| i.is_live() && i.id.to_string() == id)
        else {
            return false;
        };
        issue.updated = at_ms;
        issue.revision += 1;
        self.version += 1;
        true
    }

    /// Picks `n` distinct issues (deterministically from the seed and how many touches came
    /// before), sets their `updated` to now and changes their summary. Returns their ids.
    pub fn touch(&mut self, n: usize) -> Vec<String> {
        // Without deletions, every index in order: the same picks as before deletions existed.
        let mut order: Vec<u32> = self.live_issues().map(|i| i as u32).collect();
        let total = order.len();
        let n = n.min(total);
        let mut rng = stream(self.seed, &[topic::TOUCH, self.touches]);
        self.touches += 1;
        for i in 0..n {
            let j = rng.random_range(i..total);
            order.swap(i, j);
        }
        let now = self.now_ms();
        let touched: Vec<String> = order[..n]
            .iter()
            .map(|&index| {
                let issue = &mut self.issues[index as usize];
                issue.updated = now;
                issue.revision += 1;
                issue.id.to_string()
            })
            .collect();
        self.version += 1;
        touched
    }

    /// Appends `n` new tasks, all created and updated at the same instant (now), to the project with this key or id.
    /// Returns their ids, or `None` when there is no such project.
    pub fn add_issues(&mut self, project_key: &str, n: usize) -> Option<Vec<String>> {
        let project = self.find_project(project_key)?;
        let mut ids = Vec::with_capacity(n);
        // One instant for them all, as a bulk import gives: they share a minute however many.
        let now = self.now_ms();
        for _ in 0..n {
            let index = self.issues.len();
            let number = self.projects[project].issues.len() as u32 + 1;
            let issue = issues::new_issue(index, project as u32, number, 0, now);
            ids.push(issue.id.to_string());
            self.projects[project].issues.push(index as u32);
            self.issues.push(issue);
        }
        self.version += 1;
        Some(ids)
    }
}
