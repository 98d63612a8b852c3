//! Deleting issues and worklogs at run time, as Jira does. A deleted issue is gone from every
//! answer; its sub-tasks go with it, its worklogs are listed by `worklog/deleted`, its links are
//! removed from the other issues, its epic's issues lose their parent, and each deletion writes
//! an "Issue deleted" audit record. A deleted worklog is gone from its issue and listed by
//! `worklog/deleted`. Nothing else changes: other issues keep their `updated`.

use std::mem;
use std::sync::OnceLock;

use crate::config::Language;
use crate::rng::{RngExt, stream, topic};
use crate::site::reference::SUBTASK;
use crate::site::setup::AuditItem;
use crate::site::{Site, WorklogEntry};

/// An issue deleted at run time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeletedIssue {
    pub id: String,
    pub key: String,
    /// When it was deleted (epoch ms): its audit record's `created`, and the `updatedTime`
    /// of its worklogs in `worklog/deleted`.
    pub deleted_at_ms: i64,
}

/// A worklog deleted at run time, on its own or with its issue.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeletedWorklog {
    pub worklog_id: u64,
    pub issue_id: String,
    /// When it was deleted (epoch ms): its `updatedTime` in `worklog/deleted`.
    pub deleted_at_ms: i64,
}

impl Site {
    /// Deletes `n` issues (fewer when the site runs out of them): one in each project in turn,
    /// starting at a project picked by the seed, each picked by the seed among the project's
    /// issues without sub-tasks (so that each takes nothing else with it).
    pub fn delete_issues(&mut self, n: usize) -> Vec<DeletedIssue> {
        let mut rng = stream(self.seed, &[topic::DELETION, 0, self.deletions]);
        self.deletions += 1;
        let projects = self.projects.len();
        let mut pools: Vec<Vec<usize>> = (0..projects)
            .map(|p| {
                self.live_project_issues(p)
                    .filter(|&i| !self.has_subtasks(i))
                    .collect()
            })
            .collect();
        let now = self.now_ms();
        let mut deleted = Vec::new();
        let mut project = if projects > 0 {
            rng.random_range(0..projects)
        } else {
            0
        };
        let mut exhausted = 0;
        while deleted.len() < n && exhausted < projects {
            let pool = &mut pools[project];
            if pool.is_empty() {
                exhausted += 1;
            } else {
                exhausted = 0;
                let index = pool.swap_remove(rng.random_range(0..pool.len()));
                deleted.extend(self.delete_index(index, now));
            }
            project = (project + 1) % projects;
        }
        self.after_deletion();
        deleted
    }

    /// Deletes the issue with this id or key, and its sub-tasks. Returns every issue deleted,
    /// the sub-tasks first; `None` when there is no such issue (or it is already deleted).
    pub fn delete_issue(&mut self, id_or_key: &str) -> Option<Vec<DeletedIssue>> {
        let index = self.find_issue(id_or_key)?;
        let deleted = self.delete_index(index, self.now_ms());
        self.after_deletion();
        Some(deleted)
    }

    /// Deletes `n` worklogs (fewer when the site has fewer), picked by the seed among every
    /// worklog of the site.
    pub fn delete_worklogs(&mut self, n: usize) -> Vec<DeletedWorklog> {
        let mut pool: Vec<WorklogEntry> = self.worklog_index().to_vec();
        let mut rng = stream(self.seed, &[topic::DELETION, 1, self.deletions]);
        self.deletions += 1;
        let n = n.min(pool.len());
        for i in 0..n {
            let j = rng.random_range(i..pool.len());
            pool.swap(i, j);
        }
        let now = self.now_ms();
        let mut deleted = Vec::with_capacity(n);
        for entry in &pool[..n] {
            self.deleted_worklogs.insert(entry.id);
            self.worklog_deletions.push(WorklogEntry {
                updated: now,
                ..*entry
            });
            deleted.push(DeletedWorklog {
                worklog_id: entry.id,
                issue_id: self.issues[entry.issue as usize].id.to_string(),
                deleted_at_ms: now,
            });
        }
        self.after_deletion();
        deleted
    }

    /// Every worklog deleted so far, as `worklog/deleted` lists them (oldest first).
    pub fn deleted_worklog_list(&self) -> Vec<DeletedWorklog> {
        self.worklog_deletions
            .iter()
            .map(|e| DeletedWorklog {
                worklog_id: e.id,
                issue_id: self.issues[e.issue as usize].id.to_string(),
                deleted_at_ms: e.updated,
            })
            .collect()
    }

    fn has_subtasks(&self, index: usize) -> bool {
        self.issues[index]
            .children
            .iter()
            .any(|&c| self.issues[c as usize].issue_type == SUBTASK)
    }

    /// Deletes the issue at `index` and, first, its sub-tasks (Jira deletes them with their
    /// parent, each as a deletion of its own). Returns the deleted issues in that order.
    fn delete_index(&mut self, index: usize, now: i64) -> Vec<DeletedIssue> {
        let subtasks: Vec<usize> = self.issues[index]
            .children
            .iter()
            .map(|&c| c as usize)
            .filter(|&c| self.issues[c].issue_type == SUBTASK)
            .collect();
        let mut deleted: Vec<DeletedIssue> = subtasks
            .into_iter()
            .flat_map(|s| self.delete_index(s, now))
            .collect();
        // Read before the issue is marked: a deleted issue has no worklogs.
        for worklog in self.worklogs(index) {
            self.worklog_deletions.push(WorklogEntry {
                updated: now,
                id: worklog.id,
                issue: index as u32,
            });
        }
        // Jira removes the link from the other issue too, without a history item there.
        for link in mem::take(&mut self.issues[index].links) {
            self.issues[link.other as usize]
                .links
                .retain(|l| l.id != link.id);
        }
        if let Some(parent) = self.issues[index].parent {
            self.issues[parent as usize]
                .children
                .retain(|&c| c as usize != index);
        }
        // What is left are an epic's issues: they stay, without a parent.
        for child in mem::take(&mut self.issues[index].children) {
            self.issues[child as usize].parent = None;
        }
        self.issues[index].deleted = Some(now);
        self.audit_issue_deletion(index, now);
        let gone = DeletedIssue {
            id: self.issues[index].id.to_string(),
            key: self.issue_key(index),
            deleted_at_ms: now,
        };
        self.deleted_issues.push(gone.clone());
        deleted.push(gone);
        deleted
    }

    /// "Issue deleted" in the audit log: the issue (key as name) and its project.
    fn audit_issue_deletion(&mut self, index: usize, at: i64) {
        let issue = &self.issues[index];
        let project = &self.projects[issue.project as usize];
        let object = AuditItem {
            id: Some(issue.id.to_string()),
            name: self.issue_key(index),
            type_name: "ISSUE",
            parent: None,
        };
        let associated = vec![AuditItem {
            id: Some(project.id.to_string()),
            name: project.name.clone(),
            type_name: "PROJECT",
            parent: None,
        }];
        let (summary, category) = match self.language {
            Language::English => ("Issue deleted", "issue management"),
            Language::German => ("Vorgang gelöscht", "Vorgangsverwaltung"),
        };
        self.add_audit_record(summary, category, at, object, Vec::new(), associated);
    }

    /// After deletions: `worklog/deleted` in order, worklog ids listed again, searches rerun.
    fn after_deletion(&mut self) {
        self.worklog_deletions.sort_unstable();
        self.worklog_index = OnceLock::new();
        self.version += 1;
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use crate::config::SimConfig;
    use crate::site::Site;
    use crate::site::reference::{EPIC, SUBTASK};

    #[test]
    fn deleting_issues_spreads_over_projects_and_leaves_no_dangling_references() {
        let mut site = Site::generate(&SimConfig::default());
        let before = site.live_issues().count();
        let gone = site.delete_issues(6);
        assert_eq!(gone.len(), 6);
        let projects: HashSet<&str> = gone
            .iter()
            .map(|d| d.key.split('-').next().unwrap())
            .collect();
        assert_eq!(projects.len(), 3, "two in each of the three projects");
        assert_eq!(site.live_issues().count(), before - 6);
        for d in &gone {
            assert_eq!(site.find_issue(&d.id), None);
            assert_eq!(site.find_issue(&d.key), None);
        }
        for i in site.live_issues() {
            let issue = &site.issues[i];
            assert!(
                issue
                    .links
                    .iter()
                    .all(|l| site.issues[l.other as usize].is_live())
            );
            assert!(
                issue
                    .children
                    .iter()
                    .all(|&c| site.issues[c as usize].is_live())
            );
            assert!(
                issue
                    .parent
                    .is_none_or(|p| site.issues[p as usize].is_live())
            );
        }
        // The same seed deletes the same issues.
        let mut again = Site::generate(&SimConfig::default());
        let keys = |d: &[super::DeletedIssue]| d.iter().map(|d| d.key.clone()).collect::<Vec<_>>();
        assert_eq!(keys(&again.delete_issues(6)), keys(&gone));
    }

    #[test]
    fn a_parent_takes_its_subtasks_and_an_epic_leaves_its_issues() {
        let mut site = Site::generate(&SimConfig::default());
        let parent = site
            .live_issues()
            .find(|&i| {
                let children = &site.issues[i].children;
                !children.is_empty()
                    && children
                        .iter()
                        .all(|&c| site.issues[c as usize].issue_type == SUBTASK)
            })
            .unwrap();
        let subtasks = site.issues[parent].children.len();
        let key = site.issue_key(parent);
        let gone = site.delete_issue(&key).unwrap();
        assert_eq!(gone.len(), subtasks + 1);
        assert_eq!(gone.last().unwrap().key, key, "the sub-tasks go first");
        assert_eq!(site.deleted_issues.len(), subtasks + 1);
        assert_eq!(site.delete_issue(&key), None, "already gone");

        let epic = site
            .live_issues()
            .find(|&i| site.issues[i].issue_type == EPIC && !site.issues[i].children.is_empty())
            .unwrap();
        let children: Vec<u32> = site.issues[epic].children.clone();
        let id = site.issues[epic].id.to_string();
        assert_eq!(site.delete_issue(&id).unwrap().len(), 1);
        for c in children {
            assert!(site.issues[c as usize].is_live());
            assert_eq!(site.issues[c as usize].parent, None);
        }
    }

    #[test]
    fn deleted_worklogs_leave_their_issue_and_are_listed_once() {
        let mut site = Site::generate(&SimConfig::default());
        let all = site.worklog_index().len();
        let gone = site.delete_worklogs(5);
        assert_eq!(gone.len(), 5);
        assert_eq!(site.worklog_index().len(), all - 5);
        for d in &gone {
            let index = site.find_issue(&d.issue_id).unwrap();
            assert!(site.worklogs(index).iter().all(|w| w.id != d.worklog_id));
            assert!(site.worklog_by_id(d.worklog_id).is_none());
        }
        // An issue's deletion lists its remaining worklogs, at the issue's deletion time.
        let index = site
            .live_issues()
            .find(|&i| site.worklogs(i).len() >= 2)
            .unwrap();
        let ids: Vec<u64> = site.worklogs(index).iter().map(|w| w.id).collect();
        let key = site.issue_key(index);
        let at = site
            .delete_issue(&key)
            .unwrap()
            .last()
            .unwrap()
            .deleted_at_ms;
        let listed = site.deleted_worklog_list();
        assert_eq!(listed.len(), 5 + ids.len());
        for id in ids {
            let entry = listed.iter().find(|d| d.worklog_id == id).unwrap();
            assert_eq!(entry.deleted_at_ms, at);
        }
        assert_eq!(site.worklog_index().len(), all - listed.len());
    }
}
