//! What happened on an issue, derived on demand from its seed: summary, comments, worklogs,
//! attachments, change history, remote links, watchers and voters. Nothing here is stored, so
//! 100k issues stay small.

use crate::rng::{Rng, RngExt, stream, topic};
use crate::site::Site;
use crate::site::fields::{Custom, Kind};
use crate::site::reference::{DONE, IN_PROGRESS, IN_REVIEW, TO_DO};
use crate::site::words;

const MINUTE_MS: i64 = 60_000;
/// Salt of the `labels` field's random stream (the renderer's field streams use the same key).
const LABELS_SALT: u64 = 1_000_003;

/// Ids of a busy issue's comments, worklogs and histories: `BUSY_IDS + index * 1000 + k`, far
/// above the ids of ordinary issues (`10000 + index * 4..6 + k`), which leave no room for 60.
const BUSY_IDS: u64 = 500_000_000;

/// The id of the `k`-th comment, worklog or history of an issue; `stride` is the most an
/// ordinary issue has. `wide`: the issue may have up to 1000 of them (busy issues, and every
/// issue when the configuration sets an average for the kind).
fn child_id(wide: bool, index: usize, stride: u64, k: usize) -> u64 {
    if wide {
        BUSY_IDS + index as u64 * 1000 + k as u64
    } else {
        10000 + index as u64 * stride + k as u64
    }
}

pub(crate) struct CommentFacts {
    pub id: u64,
    pub author: usize,
    pub update_author: usize,
    pub created: i64,
    pub updated: i64,
    /// Seeds the comment's rich-text body.
    pub body_seed: u64,
    /// Restricted to a project role, as some comments are.
    pub role_visibility: Option<&'static str>,
}

pub(crate) struct WorklogFacts {
    pub id: u64,
    pub author: usize,
    pub created: i64,
    pub updated: i64,
    pub started: i64,
    pub seconds: u64,
    /// Seeds the comment; `None` when the worklog has no `comment` key at all.
    pub comment_seed: Option<u64>,
}

pub(crate) struct AttachmentFacts {
    pub id: u64,
    pub author: usize,
    pub created: i64,
    pub filename: &'static str,
    pub mime_type: &'static str,
    pub size: u64,
}

pub(crate) enum Change {
    Status {
        from: u8,
        to: u8,
    },
    Resolution {
        to: u8,
    },
    Assignee {
        from: Option<usize>,
        to: Option<usize>,
    },
    Summary {
        from: String,
        to: String,
    },
    Labels {
        to: &'static str,
    },
    Priority {
        from: u8,
        to: u8,
    },
    /// A user custom field (the site's first user picker) set to a person.
    UserField {
        id: String,
        name: String,
        to: usize,
    },
}

impl Change {
    /// The `fieldId` of the history item this change is written as.
    pub fn field_id(&self) -> &str {
        match self {
            Change::UserField { id, .. } => id,
            Change::Status { .. } => "status",
            Change::Resolution { .. } => "resolution",
            Change::Assignee { .. } => "assignee",
            Change::Summary { .. } => "summary",
            Change::Labels { .. } => "labels",
            Change::Priority { .. } => "priority",
        }
    }
}

pub(crate) struct HistoryFacts {
    pub id: u64,
    pub author: usize,
    pub created: i64,
    pub changes: Vec<Change>,
}

/// A link from an issue to something outside Jira (a wiki page, a pull request, a ticket).
pub(crate) struct RemoteLinkFacts {
    pub id: u64,
    pub kind: &'static RemoteKind,
    /// Number of the remote object in its application (page id, pull request number...).
    pub number: u64,
    pub resolved: bool,
}

/// What a remote link points at, and how the application that made it describes it.
pub(crate) struct RemoteKind {
    pub app_type: &'static str,
    pub app_name: &'static str,
    pub relationship: &'static str,
    /// URL of the object, with `{n}` standing for its number.
    pub url: &'static str,
    pub title: &'static str,
    pub summary: &'static str,
    pub icon_url: &'static str,
    pub icon_title: &'static str,
}

pub(crate) const REMOTE_KINDS: &[RemoteKind] = &[
    RemoteKind {
        app_type: "com.atlassian.confluence",
        app_name: "Confluence",
        relationship: "Wiki Page",
        url: "https://wiki.example.com/pages/viewpage.action?pageId={n}",
        title: "Design notes {n}",
        summary: "Decisions and open questions",
        icon_url: "https://wiki.example.com/images/icons/favicon.png",
        icon_title: "Page",
    },
    RemoteKind {
        app_type: "com.github.integration",
        app_name: "GitHub",
        relationship: "links to",
        url: "https://github.example.com/acme/shop/pull/{n}",
        title: "Pull request #{n}",
        summary: "Fixes the reported behaviour",
        icon_url: "https://github.example.com/favicon.ico",
        icon_title: "Pull request",
    },
    RemoteKind {
        app_type: "com.acme.tracker",
        app_name: "Acme Support",
        relationship: "causes",
        url: "https://support.example.com/tickets/{n}",
        title: "TSTSUP-{n}",
        summary: "Customer support ticket",
        icon_url: "https://support.example.com/ticket.png",
        icon_title: "Support Ticket",
    },
];

/// The average histories of an issue that is not busy as generated without
/// `SimConfig::histories_mean`: a label with probability 0.4, and the status path (0 steps in
/// To Do, 20% of issues; 1 in In Progress, 25%; 2 in In Review, 10%, or Done, 45%).
const GENERATED_HISTORIES_MEAN: f64 = 1.75;

/// Jira's embed caps, which the children of issues that are not busy stay within.
const COMMENTS_EMBEDDED: usize = 50;
const WORKLOGS_EMBEDDED: usize = 20;
const HISTORIES_EMBEDDED: usize = 40;

/// A count drawn evenly from 0 to `2 * mean` (rounded at random, so `mean` is its average),
/// at most `cap`.
fn count_with_mean(rng: &mut Rng, mean: f64, cap: usize) -> usize {
    if mean.is_nan() || mean <= 0.0 {
        return 0;
    }
    let x = rng.random_range(0.0..=2.0 * mean);
    let count = x.floor() as usize + usize::from(rng.random_bool(x.fract()));
    count.min(cap)
}

/// Times spread evenly (with jitter) between `from` and `to`, oldest first.
fn spread(rng: &mut Rng, from: i64, to: i64, count: usize) -> Vec<i64> {
    let span = (to - from).max(0);
    let mut times: Vec<i64> = (0..count)
        .map(|_| {
            from + if span > 0 {
                rng.random_range(0..=span)
            } else {
                0
            }
        })
        .collect();
    times.sort_unstable();
    times
}

impl Site {
    /// A human, or on Cloud now and then the app user (automation writes comments too).
    fn someone(&self, rng: &mut Rng) -> usize {
        match self.people.app_user() {
            Some(app) if rng.random_bool(0.12) => app,
            _ => rng.random_range(0..self.people.humans),
        }
    }

    /// The issue's labels (the `labels` field), sorted, without repeats.
    pub fn labels(&self, index: usize) -> Vec<&'static str> {
        let mut rng = stream(self.seed, &[topic::FIELD, index as u64, LABELS_SALT]);
        let count = [0, 0, 1, 1, 2, 3][rng.random_range(0..6)];
        let mut labels: Vec<&'static str> = (0..count)
            .map(|_| crate::rng::pick(&mut rng, words::LABELS))
            .collect();
        labels.sort_unstable();
        labels.dedup();
        labels
    }

    /// Every label some issue carries, sorted (what `label` lists).
    pub fn all_labels(&self) -> Vec<&'static str> {
        let mut all: Vec<&'static str> = self.live_issues().flat_map(|i| self.labels(i)).collect();
        all.sort_unstable();
        all.dedup();
        all
    }

    /// The issue's summary now; each touch appends a revision mark.
    pub fn summary(&self, index: usize) -> String {
        self.summary_at(index, self.issues[index].revision)
    }

    pub fn comments(&self, index: usize) -> Vec<CommentFacts> {
        let issue = &self.issues[index];
        if issue.quiet {
            return Vec::new();
        }
        let mut rng = stream(self.seed, &[topic::COMMENT, index as u64]);
        let mut count = [0, 0, 1, 1, 2, 3, 4][rng.random_range(0..7)];
        let mean = self.shape.comments;
        if issue.busy {
            count = rng.random_range(56..=64);
        } else if let Some(mean) = mean {
            count = count_with_mean(&mut rng, mean, COMMENTS_EMBEDDED);
        }
        let wide = issue.busy || mean.is_some();
        let times = spread(&mut rng, issue.created, issue.activity_until, count);
        times
            .into_iter()
            .enumerate()
            .map(|(k, created)| {
                let author = self.someone(&mut rng);
                let edited = rng.random_bool(0.25) && created < issue.activity_until;
                CommentFacts {
                    id: child_id(wide, index, 5, k),
                    author,
                    update_author: if edited && rng.random_bool(0.3) {
                        self.someone(&mut rng)
                    } else {
                        author
                    },
                    created,
                    updated: if edited {
                        rng.random_range(created..=issue.activity_until)
                    } else {
                        created
                    },
                    body_seed: rng.random_range(0..u64::MAX),
                    role_visibility: rng.random_bool(0.1).then_some("Administrators"),
                }
            })
            .collect()
    }

    /// The issue's worklogs, oldest first; none once the issue is deleted, and without the
    /// worklogs deleted at run time.
    pub fn worklogs(&self, index: usize) -> Vec<WorklogFacts> {
        let mut worklogs = self.generated_worklogs(index);
        if !self.deleted_worklogs.is_empty() {
            worklogs.retain(|w| !self.deleted_worklogs.contains(&w.id));
        }
        worklogs
    }

    /// The issue's worklogs the account may see (see `worklog_hidden`), oldest first.
    pub fn visible_worklogs(&self, index: usize) -> Vec<WorklogFacts> {
        let mut worklogs = self.worklogs(index);
        worklogs.retain(|w| !self.worklog_hidden(w.id));
        worklogs
    }

    /// The worklog is restricted to a group the account is not in
    /// (`SimConfig::hidden_worklogs_every`): Jira shows it to the account nowhere.
    pub fn worklog_hidden(&self, id: u64) -> bool {
        self.hidden_worklogs_every != 0 && id.is_multiple_of(self.hidden_worklogs_every)
    }

    /// The worklogs the issue was generated with.
    fn generated_worklogs(&self, index: usize) -> Vec<WorklogFacts> {
        let issue = &self.issues[index];
        if issue.quiet || !issue.is_live() {
            return Vec::new();
        }
        let mut rng = stream(self.seed, &[topic::WORKLOG, index as u64]);
        let mut count = [0, 0, 0, 1, 1, 2, 3][rng.random_range(0..7)];
        let mean = self.shape.worklogs;
        if issue.busy {
            count = rng.random_range(42..=48);
        } else if let Some(mean) = mean {
            count = count_with_mean(&mut rng, mean, WORKLOGS_EMBEDDED);
        }
        let wide = issue.busy || mean.is_some();
        let mut times = spread(&mut rng, issue.created, issue.activity_until, count);
        if issue.busy {
            // Logged in bulk: every seventh worklog shares the previous one's millisecond, so
            // `worklog/updated` has ties at its page boundaries.
            for k in (7..times.len()).step_by(7) {
                times[k] = times[k - 1];
            }
        }
        times
            .into_iter()
            .enumerate()
            .map(|(k, created)| {
                let seconds = 900 * rng.random_range(1..=40u64);
                WorklogFacts {
                    id: child_id(wide, index, 4, k),
                    author: rng.random_range(0..self.people.humans),
                    created,
                    updated: created,
                    started: created - seconds as i64 * 1000 - rng.random_range(0..120) * MINUTE_MS,
                    seconds,
                    comment_seed: rng.random_bool(0.7).then(|| rng.random_range(0..u64::MAX)),
                }
            })
            .collect()
    }

    /// The worklog with this id and the index of its issue, when there is one.
    pub fn worklog_by_id(&self, id: u64) -> Option<(usize, WorklogFacts)> {
        // Ids encode the issue (see `child_id`).
        let index = if id >= BUSY_IDS {
            (id - BUSY_IDS) / 1000
        } else {
            id.checked_sub(10000)? / 4
        };
        let index = usize::try_from(index)
            .ok()
            .filter(|&i| i < self.issues.len())?;
        let worklog = self.worklogs(index).into_iter().find(|w| w.id == id)?;
        Some((index, worklog))
    }

    pub fn attachments(&self, index: usize) -> Vec<AttachmentFacts> {
        const FILES: &[(&str, &str)] = &[
            ("screenshot.png", "image/png"),
            ("trace.log", "text/plain"),
            ("spec.pdf", "application/pdf"),
            ("export.csv", "text/csv"),
            ("voice-note.mp3", "audio/mpeg"),
        ];
        let issue = &self.issues[index];
        if issue.quiet {
            return Vec::new();
        }
        let mut rng = stream(self.seed, &[topic::ATTACHMENT, index as u64]);
        let count = [0, 0, 0, 1, 2][rng.random_range(0..5)];
        let times = spread(&mut rng, issue.created, issue.activity_until, count);
        times
            .into_iter()
            .enumerate()
            .map(|(k, created)| {
                let (filename, mime_type) = FILES[rng.random_range(0..FILES.len())];
                AttachmentFacts {
                    id: 10000 + index as u64 * 2 + k as u64,
                    author: rng.random_range(0..self.people.humans),
                    created,
                    filename,
                    mime_type,
                    size: rng.random_range(200..3_000_000),
                }
            })
            .collect()
    }

    /// The status path to the current status, with the last change at `activity_until`; on a
    /// busy issue about 125 summary, label and priority edits before it (on others as many as
    /// `SimConfig::histories_mean` asks for); plus the summary change of the latest touch.
    /// Oldest first.
    pub fn history(&self, index: usize) -> Vec<HistoryFacts> {
        let issue = &self.issues[index];
        let mut history = if issue.quiet {
            Vec::new()
        } else {
            self.generated_history(index)
        };
        if issue.revision > 0 {
            let before = self.summary_at(index, issue.revision - 1);
            history.push(HistoryFacts {
                id: 1_000_000_000 + index as u64 * 1000 + u64::from(issue.revision % 1000),
                author: self.myself(),
                created: issue.updated,
                changes: vec![Change::Summary {
                    from: before,
                    to: self.summary(index),
                }],
            });
        }
        history
    }

    fn generated_history(&self, index: usize) -> Vec<HistoryFacts> {
        let issue = &self.issues[index];
        let mut rng = stream(self.seed, &[topic::HISTORY, index as u64]);
        let path: &[u8] = match issue.status {
            IN_PROGRESS => &[TO_DO, IN_PROGRESS],
            IN_REVIEW => &[TO_DO, IN_PROGRESS, IN_REVIEW],
            DONE => &[TO_DO, IN_PROGRESS, DONE],
            _ => &[TO_DO],
        };
        let mut entries: Vec<(i64, Vec<Change>)> = Vec::new();
        if rng.random_bool(0.4) {
            let at =
                issue.created + rng.random_range(0..=(issue.activity_until - issue.created) / 3);
            entries.push((
                at,
                vec![Change::Labels {
                    to: words::LABELS[rng.random_range(0..words::LABELS.len())],
                }],
            ));
        }
        let steps = path.len() - 1;
        let mut times = spread(&mut rng, issue.created, issue.activity_until, steps);
        if let Some(last) = times.last_mut() {
            *last = issue.activity_until;
        }
        for (step, at) in times.into_iter().enumerate() {
            let (from, to) = (path[step], path[step + 1]);
            let mut changes = vec![Change::Status { from, to }];
            if to == IN_PROGRESS && issue.assignee.is_some() {
                changes.push(Change::Assignee {
                    from: None,
                    to: issue.assignee.map(|a| a as usize),
                });
            }
            if let (DONE, Some(resolution)) = (to, issue.resolution) {
                changes.push(Change::Resolution { to: resolution });
            }
            if to == IN_REVIEW
                && let Some(field) = self
                    .fields
                    .iter()
                    .find(|f| matches!(f.kind, Kind::Custom(Custom::UserPicker)))
            {
                changes.push(Change::UserField {
                    id: field.id.clone(),
                    name: field.name.clone(),
                    to: (index * 7 + 3) % self.people.humans,
                });
            }
            entries.push((at, changes));
        }
        if issue.busy {
            entries.extend(self.busy_edits(index));
        } else if let Some(mean) = self.shape.histories {
            let mut rng = stream(self.seed, &[topic::HISTORY, index as u64, 2]);
            let extra = count_with_mean(
                &mut rng,
                mean - GENERATED_HISTORIES_MEAN,
                HISTORIES_EMBEDDED.saturating_sub(entries.len()),
            );
            entries.extend(self.edits(index, rng, extra));
        }
        let wide = issue.busy || self.shape.histories.is_some();
        // Stable: at the same millisecond a status change stays before a busy edit.
        entries.sort_by_key(|(at, _)| *at);
        entries
            .into_iter()
            .enumerate()
            .map(|(k, (created, changes))| HistoryFacts {
                id: child_id(wide, index, 6, k),
                author: self.someone(&mut rng),
                created,
                changes,
            })
            .collect()
    }

    /// A busy issue's extra edits (see `edits`).
    fn busy_edits(&self, index: usize) -> Vec<(i64, Vec<Change>)> {
        let mut rng = stream(self.seed, &[topic::HISTORY, index as u64, 1]);
        let count = rng.random_range(122..=130);
        self.edits(index, rng, count)
    }

    /// `count` edits before the issue's last status change: summary drafts ending in the
    /// current summary, labels added, and priority moves ending in the current priority.
    fn edits(&self, index: usize, mut rng: Rng, count: usize) -> Vec<(i64, Vec<Change>)> {
        let issue = &self.issues[index];
        let times = spread(
            &mut rng,
            issue.created,
            (issue.activity_until - 1).max(issue.created),
            count,
        );
        let kinds: Vec<u8> = (0..count).map(|_| rng.random_range(0..3)).collect();
        let summaries = kinds.iter().filter(|&&k| k == 0).count();
        let priorities = kinds.iter().filter(|&&k| k == 2).count();
        // The priority before each move, walking back from the current one.
        let mut chain = vec![issue.priority; priorities + 1];
        for j in (0..priorities).rev() {
            chain[j] = (chain[j + 1] + 1 + rng.random_range(0..4)) % 5;
        }
        let base = self.summary_at(index, 0);
        let draft = |j: usize| {
            if j == summaries {
                base.clone()
            } else {
                format!("{base} (draft {})", j + 1)
            }
        };
        let (mut s, mut p) = (0, 0);
        times
            .into_iter()
            .zip(kinds)
            .map(|(at, kind)| {
                let change = match kind {
                    0 => {
                        s += 1;
                        Change::Summary {
                            from: draft(s - 1),
                            to: draft(s),
                        }
                    }
                    1 => Change::Labels {
                        to: words::LABELS[rng.random_range(0..words::LABELS.len())],
                    },
                    _ => {
                        p += 1;
                        Change::Priority {
                            from: chain[p - 1],
                            to: chain[p],
                        }
                    }
                };
                (at, vec![change])
            })
            .collect()
    }

    /// About a third of the issues link to one to three things outside Jira.
    pub fn remote_links(&self, index: usize) -> Vec<RemoteLinkFacts> {
        if self.issues[index].quiet {
            return Vec::new();
        }
        let mut rng = stream(self.seed, &[topic::REMOTE_LINK, index as u64]);
        let count = match rng.random_range(0..9) {
            0 | 1 => 1,
            2 => rng.random_range(2..=3),
            _ => 0,
        };
        (0..count)
            .map(|k| RemoteLinkFacts {
                id: 10000 + index as u64 * 3 + k as u64,
                kind: &REMOTE_KINDS[rng.random_range(0..REMOTE_KINDS.len())],
                number: rng.random_range(100..100_000),
                resolved: rng.random_bool(0.4),
            })
            .collect()
    }

    /// Who watches the issue: its reporter (Jira adds them) and up to three other people.
    pub fn watchers(&self, index: usize) -> Vec<usize> {
        let issue = &self.issues[index];
        let mut rng = stream(self.seed, &[topic::SOCIAL, index as u64, 0]);
        let mut watchers = vec![issue.reporter as usize];
        let extra = if issue.quiet {
            0
        } else {
            rng.random_range(0..=3)
        };
        for _ in 0..extra {
            let user = rng.random_range(0..self.people.humans);
            if !watchers.contains(&user) {
                watchers.push(user);
            }
        }
        watchers
    }

    /// Who voted for the issue: on one issue in five (votes are rare on real sites), 1 to 3
    /// people, never the reporter (Jira forbids it).
    pub fn voters(&self, index: usize) -> Vec<usize> {
        let issue = &self.issues[index];
        let mut rng = stream(self.seed, &[topic::SOCIAL, index as u64, 1]);
        let candidates: Vec<usize> = (0..self.people.humans)
            .filter(|&u| u != issue.reporter as usize)
            .collect();
        let wanted = if issue.number % 5 == 1 {
            1 + (issue.number / 5 % 3) as usize
        } else {
            0
        };
        let mut voters: Vec<usize> = Vec::new();
        while voters.len() < wanted.min(candidates.len()) {
            let user = candidates[rng.random_range(0..candidates.len())];
            if !voters.contains(&user) {
                voters.push(user);
            }
        }
        voters
    }

    fn summary_at(&self, index: usize, revision: u32) -> String {
        let mut rng = stream(self.seed, &[topic::ISSUE, index as u64, 1]);
        let base = words::summary(&mut rng);
        match revision {
            0 => base,
            r => format!("{base} (rev {r})"),
        }
    }

    /// When the status last changed category: the last status change, or creation.
    pub fn status_changed_at(&self, index: usize) -> i64 {
        let issue = &self.issues[index];
        if issue.status == TO_DO {
            issue.created
        } else {
            issue.activity_until
        }
    }
}
