//! Issues, kept compact: the few facts that searches filter and sort on. Everything else (custom
//! field values, comments, worklogs, history) is derived from the site seed and the issue's
//! index when rendered.

use crate::rng::{Rng, RngExt, stream, topic};
use crate::site::people::People;
use crate::site::projects::Project;
use crate::site::reference::{
    BUG, DONE, EPIC, IN_PROGRESS, IN_REVIEW, LINK_TYPES, STORY, SUBTASK, TASK, TO_DO,
};
use crate::times::{HISTORY_END_MS, HISTORY_START_MS};

const HOUR_MS: i64 = 3_600_000;
pub(crate) const FIRST_ISSUE_ID: u64 = 10000;

/// One end of an issue link; the other issue holds the mirror entry.
#[derive(Clone, Debug)]
pub(crate) struct Link {
    pub id: u64,
    pub other: u32,
    pub type_index: u8,
    /// This issue is the link's source (`outwardIssue` is the other one).
    pub outward: bool,
}

#[derive(Clone, Debug)]
pub(crate) struct Issue {
    pub id: u64,
    /// Index into the site's projects.
    pub project: u32,
    /// The number in the key: `KEY-<number>`.
    pub number: u32,
    pub issue_type: u8,
    pub status: u8,
    pub priority: u8,
    pub resolution: Option<u8>,
    pub assignee: Option<u32>,
    pub reporter: u32,
    /// Epoch milliseconds.
    pub created: i64,
    /// Epoch milliseconds; moves to "now" when the issue is touched.
    pub updated: i64,
    /// End of the generated activity (comments, worklogs, history). Touching an issue moves
    /// `updated` but not this, so earlier comments keep their dates.
    pub activity_until: i64,
    /// How many times the issue was touched at run time; changes the summary.
    pub revision: u32,
    pub parent: Option<u32>,
    pub children: Vec<u32>,
    pub links: Vec<Link>,
    /// Has more comments, worklogs and histories than Jira embeds (see `SimConfig::busy_every`).
    pub busy: bool,
    /// Added at run time: no comments, worklogs, attachments, remote links or history of its
    /// own yet (nothing a since-query could miss for being a few seconds old).
    pub quiet: bool,
    /// Id of the issue's security level (one of its project's security scheme), if any.
    pub security: Option<u64>,
    /// When the issue was deleted (epoch ms). A deleted issue keeps its index, so that the
    /// ids and seeds of every other issue's children stay as they were, but is gone from
    /// every answer.
    pub deleted: Option<i64>,
    /// Hidden for a while (its project archived or in the trash, or a security level it has
    /// lifted only later): gone from every answer, as a deleted issue is, until shown again
    /// with everything it had, `updated` included (see `hiding`).
    pub hidden: bool,
}

impl Issue {
    pub fn is_done(&self) -> bool {
        self.status == DONE
    }

    pub fn is_live(&self) -> bool {
        self.deleted.is_none() && !self.hidden
    }
}

/// Generates every project's issues, fills `Project::issues`, and returns them in index order.
pub(crate) fn generate(
    seed: u64,
    projects: &mut [Project],
    per_project: usize,
    busy_every: usize,
    people: &People,
) -> Vec<Issue> {
    let mut issues: Vec<Issue> = Vec::with_capacity(projects.len() * per_project);
    for (p, project) in projects.iter_mut().enumerate() {
        let mut family = Family::default();
        for n in 0..per_project {
            let index = issues.len();
            let slot = Slot {
                project: p,
                number: n,
                per_project,
                index,
            };
            let busy = busy_every > 0 && index % busy_every == busy_every / 2;
            let issue = generated_issue(seed, slot, busy, &family, people);
            family.note(&issue, index);
            project.issues.push(index as u32);
            issues.push(issue);
        }
    }
    add_ties(seed, &mut issues);
    add_links(seed, &mut issues, projects);
    for index in 0..issues.len() {
        if let Some(parent) = issues[index].parent {
            issues[parent as usize].children.push(index as u32);
        }
    }
    issues
}

/// Where an issue goes: its project, its position there, and its index on the site.
struct Slot {
    project: usize,
    number: usize,
    per_project: usize,
    index: usize,
}

/// The earlier issues of a project that a new one may hang under.
#[derive(Default)]
struct Family {
    epics: Vec<u32>,
    /// Stories, tasks and bugs: the issues that may have sub-tasks.
    standard: Vec<u32>,
}

impl Family {
    fn note(&mut self, issue: &Issue, index: usize) {
        match issue.issue_type {
            EPIC => self.epics.push(index as u32),
            SUBTASK => {}
            _ => self.standard.push(index as u32),
        }
    }
}

fn any_of(rng: &mut Rng, candidates: &[u32]) -> Option<u32> {
    (!candidates.is_empty()).then(|| candidates[rng.random_range(0..candidates.len())])
}

fn generated_issue(seed: u64, slot: Slot, busy: bool, family: &Family, people: &People) -> Issue {
    let mut rng = stream(seed, &[topic::ISSUE, slot.index as u64]);
    let roll = rng.random_range(0..100);
    let (issue_type, parent) = if slot.number == 0 || roll < 8 {
        (EPIC, None)
    } else if roll < 22 {
        match any_of(&mut rng, &family.standard) {
            Some(parent) => (SUBTASK, Some(parent)),
            None => (TASK, None),
        }
    } else {
        let issue_type = [STORY, STORY, TASK, BUG][rng.random_range(0..4)];
        let epic = if rng.random_bool(0.4) {
            any_of(&mut rng, &family.epics)
        } else {
            None
        };
        (issue_type, epic)
    };

    // Creation times grow with the key number, as in a real project.
    let span = HISTORY_END_MS - HISTORY_START_MS - 48 * HOUR_MS;
    let step = span / slot.per_project.max(1) as i64;
    let created = HISTORY_START_MS + step * slot.number as i64 + rng.random_range(0..step.max(1));
    let r: f64 = rng.random_range(0.0..1.0);
    let mut updated = created + ((HISTORY_END_MS - HOUR_MS - created) as f64 * r * r * r) as i64;
    if busy {
        // A month or more of activity, so that a hundred-odd events do not share a few minutes.
        updated = updated.max((created + 30 * 24 * HOUR_MS).min(HISTORY_END_MS - HOUR_MS));
    }

    let status = match rng.random_range(0..100) {
        0..20 => TO_DO,
        20..45 => IN_PROGRESS,
        45..55 => IN_REVIEW,
        _ => DONE,
    };
    let resolution = (status == DONE).then(|| match rng.random_range(0..10) {
        0 => 1,
        1 => 2,
        _ => 0,
    });
    let humans = people.humans as u32;
    let assignee = match rng.random_range(0..100) {
        0..15 => None,
        15..20 => people.former_user().map(|u| u as u32).or(Some(0)),
        _ => Some(rng.random_range(0..humans)),
    };
    Issue {
        id: FIRST_ISSUE_ID + slot.index as u64,
        project: slot.project as u32,
        number: slot.number as u32 + 1,
        issue_type,
        status,
        priority: [0, 1, 2, 2, 2, 3, 4][rng.random_range(0..7)],
        resolution,
        assignee,
        reporter: rng.random_range(0..humans),
        created,
        updated,
        activity_until: updated,
        revision: 0,
        parent,
        children: Vec::new(),
        links: Vec::new(),
        busy,
        quiet: false,
        security: None,
        deleted: None,
        hidden: false,
    }
}

/// Makes a few groups of issues share the exact same `updated` millisecond: a bookmark on
/// `updated` alone must cope with ties.
fn add_ties(seed: u64, issues: &mut [Issue]) {
    if issues.len() < 2 {
        return;
    }
    let mut rng = stream(seed, &[topic::TIES]);
    let groups = (issues.len() / 25).max(1);
    for g in 0..groups {
        let size = if g % 2 == 0 && issues.len() >= 3 {
            3
        } else {
            2
        };
        let mut members: Vec<usize> = Vec::with_capacity(size);
        while members.len() < size {
            let i = rng.random_range(0..issues.len());
            if !members.contains(&i) {
                members.push(i);
            }
        }
        // The latest of the group is after every member's creation.
        let shared = members
            .iter()
            .map(|&i| issues[i].updated)
            .max()
            .unwrap_or_default();
        for &i in &members {
            issues[i].updated = shared;
            issues[i].activity_until = shared;
        }
    }
}

/// Links about one issue in seven to an earlier issue of its project.
fn add_links(seed: u64, issues: &mut [Issue], projects: &[Project]) {
    let mut rng = stream(seed, &[topic::LINKS]);
    let mut next_id = 10000;
    for project in projects {
        for (pos, &index) in project.issues.iter().enumerate() {
            if pos == 0 || !rng.random_bool(1.0 / 7.0) {
                continue;
            }
            let other = project.issues[rng.random_range(0..pos)];
            let type_index = rng.random_range(0..LINK_TYPES.len()) as u8;
            issues[index as usize].links.push(Link {
                id: next_id,
                other,
                type_index,
                outward: true,
            });
            issues[other as usize].links.push(Link {
                id: next_id,
                other: index,
                type_index,
                outward: false,
            });
            next_id += 1;
        }
    }
}

/// A task created and updated at `now`, appended to `project`.
pub(crate) fn new_issue(index: usize, project: u32, number: u32, reporter: u32, now: i64) -> Issue {
    Issue {
        id: FIRST_ISSUE_ID + index as u64,
        project,
        number,
        issue_type: TASK,
        status: TO_DO,
        priority: 2,
        resolution: None,
        assignee: None,
        reporter,
        created: now,
        updated: now,
        activity_until: now,
        revision: 0,
        parent: None,
        children: Vec::new(),
        links: Vec::new(),
        busy: false,
        quiet: true,
        security: None,
        deleted: None,
        hidden: false,
    }
}
