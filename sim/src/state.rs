//! The simulator's shared state: the site and everything that changes while it serves.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, RwLock, RwLockReadGuard, RwLockWriteGuard};

use crate::auth::OAuthTokens;
use crate::chaos::{Dice, Edit};
use crate::config::{Deployment, SimConfig};
use crate::faults::FaultQueue;
use crate::load::{Meter, TokenBucket};
use crate::requests::RequestLog;
use crate::search::ResultCache;
use crate::site::Site;

pub(crate) struct Shared {
    pub cfg: SimConfig,
    pub site: RwLock<Site>,
    pub results: Mutex<ResultCache>,
    pub oauth: Mutex<OAuthTokens>,
    pub log: Mutex<RequestLog>,
    pub faults: Mutex<FaultQueue>,
    pub scheduled: Mutex<Vec<ScheduledTouch>>,
    /// The site's rate limit, when `rate_limit_per_second` sets one.
    pub limiter: Option<TokenBucket>,
    /// Requests received, refused, in flight and the time spent on them.
    pub meter: Meter,
    /// Random faults and edits, as `cfg.chaos` sets them.
    pub dice: Dice,
    /// How long `worklog/updated` and `worklog/deleted` hold changes back (Jira: a minute).
    worklog_settling_ms: AtomicU64,
}

/// Jira leaves out of `worklog/updated` and `worklog/deleted` what changed in the minute
/// before the request.
const WORKLOG_SETTLING_MS: u64 = 60_000;

/// Issues (or saved filters) to change when a given request arrives: how Jira looks to a sync
/// when people keep working while it pages.
pub(crate) struct ScheduledTouch {
    pub path_contains: String,
    /// Matching requests still answered before the change happens.
    pub requests_before: u32,
    pub ids: Vec<String>,
    pub change: Change,
}

/// What a scheduled change does to the objects it names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Change {
    TouchIssues,
    DeleteIssues,
    DeleteFilters,
}

impl Shared {
    pub fn new(cfg: SimConfig) -> Shared {
        Shared {
            site: RwLock::new(Site::generate(&cfg)),
            results: Mutex::new(ResultCache::default()),
            oauth: Mutex::new({
                let tokens = OAuthTokens::new(cfg.seed, cfg.access_token_ttl_secs);
                match cfg.deployment {
                    Deployment::Cloud => tokens,
                    Deployment::Server => tokens.data_center(),
                }
            }),
            log: Mutex::new(RequestLog::default()),
            faults: Mutex::new(FaultQueue::default()),
            scheduled: Mutex::new(Vec::new()),
            limiter: cfg.rate_limit_per_second.and_then(TokenBucket::new),
            meter: Meter::default(),
            dice: Dice::new(cfg.chaos.clone(), cfg.seed),
            worklog_settling_ms: AtomicU64::new(WORKLOG_SETTLING_MS),
            cfg,
        }
    }

    // A panic while holding a lock must not take the whole simulator down with it: the data
    // behind these locks stays consistent between statements, so poisoning is ignored.

    pub fn site(&self) -> RwLockReadGuard<'_, Site> {
        self.site.read().unwrap_or_else(|e| e.into_inner())
    }

    pub fn site_mut(&self) -> RwLockWriteGuard<'_, Site> {
        self.site.write().unwrap_or_else(|e| e.into_inner())
    }

    pub fn oauth(&self) -> MutexGuard<'_, OAuthTokens> {
        self.oauth.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn log(&self) -> MutexGuard<'_, RequestLog> {
        self.log.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn faults(&self) -> MutexGuard<'_, FaultQueue> {
        self.faults.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn worklog_settling_ms(&self) -> u64 {
        self.worklog_settling_ms.load(Ordering::Relaxed)
    }

    pub fn set_worklog_settling_ms(&self, ms: u64) {
        self.worklog_settling_ms.store(ms, Ordering::Relaxed);
    }

    /// Someone edits the site while a sync pages: an issue changes, or a new one appears (in
    /// each project in turn).
    pub fn apply_edit(&self, edit: Edit) {
        let mut site = self.site_mut();
        match edit {
            Edit::TouchIssue => {
                site.touch(1);
            }
            Edit::AddIssue => {
                let turn = site.version as usize % site.projects.len().max(1);
                if let Some(key) = site.projects.get(turn).map(|p| p.key.clone()) {
                    site.add_issues(&key, 1);
                }
            }
        }
    }

    /// Applies the scheduled changes due before answering a request to `path`.
    pub fn run_scheduled_touches(&self, path: &str) {
        let due: Vec<(Vec<String>, Change)> = {
            let mut scheduled = self.scheduled.lock().unwrap_or_else(|e| e.into_inner());
            let mut due = Vec::new();
            scheduled.retain_mut(|touch| {
                if !path.contains(&touch.path_contains) {
                    return true;
                }
                if touch.requests_before == 0 {
                    due.push((std::mem::take(&mut touch.ids), touch.change));
                    return false;
                }
                touch.requests_before -= 1;
                true
            });
            due
        };
        for (ids, change) in due {
            let mut site = self.site_mut();
            match change {
                Change::TouchIssues => {
                    site.touch_ids(&ids);
                }
                Change::DeleteIssues => {
                    for id in &ids {
                        site.delete_issue(id);
                    }
                }
                Change::DeleteFilters => {
                    let ids = ids.iter().filter_map(|id| id.parse::<u64>().ok());
                    site.deleted_filters.extend(ids);
                    site.version += 1;
                }
            }
        }
    }
}
