//! What happened on an issue, derived on demand from its seed: summary, comments, worklogs,
//! attachments and change history. Nothing here is stored, so 100k issues stay small.

use crate::rng::{Rng, RngExt, stream, topic};
use crate::site::Site;
use crate::site::reference::{DONE, IN_PROGRESS, IN_REVIEW, TO_DO};
use crate::site::words;

const MINUTE_MS: i64 = 60_000;

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
}

pub(crate) struct HistoryFacts {
    pub id: u64,
    pub author: usize,
    pub created: i64,
    pub changes: Vec<Change>,
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

    /// The issue's summary now; each touch appends a revision mark.
    pub fn summary(&self, index: usize) -> String {
        self.summary_at(index, self.issues[index].revision)
    }

    pub fn comments(&self, index: usize) -> Vec<CommentFacts> {
        let issue = &self.issues[index];
        let mut rng = stream(self.seed, &[topic::COMMENT, index as u64]);
        let count = [0, 0, 1, 1, 2, 3, 4][rng.random_range(0..7)];
        let times = spread(&mut rng, issue.created, issue.activity_until, count);
        times
            .into_iter()
            .enumerate()
            .map(|(k, created)| {
                let author = self.someone(&mut rng);
                let edited = rng.random_bool(0.25) && created < issue.activity_until;
                CommentFacts {
                    id: 10000 + index as u64 * 5 + k as u64,
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

    pub fn worklogs(&self, index: usize) -> Vec<WorklogFacts> {
        let issue = &self.issues[index];
        let mut rng = stream(self.seed, &[topic::WORKLOG, index as u64]);
        let count = [0, 0, 0, 1, 1, 2, 3][rng.random_range(0..7)];
        let times = spread(&mut rng, issue.created, issue.activity_until, count);
        times
            .into_iter()
            .enumerate()
            .map(|(k, created)| {
                let seconds = 900 * rng.random_range(1..=40u64);
                WorklogFacts {
                    id: 10000 + index as u64 * 4 + k as u64,
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

    pub fn attachments(&self, index: usize) -> Vec<AttachmentFacts> {
        const FILES: &[(&str, &str)] = &[
            ("screenshot.png", "image/png"),
            ("trace.log", "text/plain"),
            ("spec.pdf", "application/pdf"),
            ("export.csv", "text/csv"),
            ("voice-note.mp3", "audio/mpeg"),
        ];
        let issue = &self.issues[index];
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

    /// The status path to the current status, with the last change at `activity_until`;
    /// plus the summary change of the latest touch.
    pub fn history(&self, index: usize) -> Vec<HistoryFacts> {
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
            entries.push((at, changes));
        }
        entries.sort_by_key(|(at, _)| *at);
        let mut history: Vec<HistoryFacts> = entries
            .into_iter()
            .enumerate()
            .map(|(k, (created, changes))| HistoryFacts {
                id: 10000 + index as u64 * 6 + k as u64,
                author: self.someone(&mut rng),
                created,
                changes,
            })
            .collect();
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
