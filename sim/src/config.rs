//! Simulator settings: which kind of Jira to imitate and how big the generated site is.

use std::fmt;
use std::str::FromStr;

use crate::chaos::Chaos;

/// Which Jira product the simulator imitates.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Deployment {
    /// Jira Cloud: REST v3 and v2, accountIds, ADF, `/search/jql` with page tokens, OAuth gateway.
    Cloud,
    /// Jira Server / Data Center: REST v2 only, usernames and keys, wiki markup, offset search.
    Server,
}

impl Deployment {
    /// The value Jira reports as `deploymentType` in `serverInfo`.
    pub fn as_str(self) -> &'static str {
        match self {
            Deployment::Cloud => "Cloud",
            Deployment::Server => "Server",
        }
    }
}

impl fmt::Display for Deployment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Deployment {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "cloud" => Ok(Deployment::Cloud),
            "server" | "datacenter" | "dc" => Ok(Deployment::Server),
            other => Err(format!(
                "unknown deployment '{other}': expected cloud or server"
            )),
        }
    }
}

/// The site's default language: Jira writes an audit record's `summary` and `category` in it
/// when the record is made, so a site set up in German reads "Vorgang gelöscht".
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Language {
    #[default]
    English,
    German,
}

/// The shape and size of the simulated site. Everything generated follows from these values.
#[derive(Clone, Debug)]
pub struct SimConfig {
    /// Seed of every generated value: the same seed and sizes give the same site.
    pub seed: u64,
    /// Cloud or Server / Data Center.
    pub deployment: Deployment,
    /// Number of projects.
    pub projects: usize,
    /// Issues generated in each project.
    pub issues_per_project: usize,
    /// Human users (at least 1). Cloud adds one app user and one inactive "Former user".
    pub users: usize,
    /// The Server / Data Center version `serverInfo` reports (`versionNumbers`). It decides
    /// how users are listed: `user/search` gives at most its first 1000 users (100 from 10.0),
    /// and `user/list`, which pages through them all by a cursor, exists from 10.3 (answering
    /// 404 before). Ignored on Cloud.
    pub server_version: [u32; 3],
    /// Numbered custom fields added after the built-in ones, cycling through the field types.
    pub extra_custom_fields: usize,
    /// IANA time zone of the authenticated user (`/myself`), in which JQL dates are read.
    pub time_zone: String,
    /// Milliseconds to sleep before answering each request.
    pub latency_ms: u64,
    /// Largest issue page a search returns, whatever `maxResults` asked for.
    pub max_page_size: usize,
    /// Server / Data Center only: the deepest row an offset search (`/search`) serves. A page
    /// reaching past it (`startAt` plus the page, after the `max_page_size` cap) is refused
    /// with Data Center's 500 "Search limit exceeded" (its search platform's
    /// `max_result_window`, 10,000 rows; Atlassian's KB "Handling JQL REST API searching
    /// exceeding max_result_window"). A small window lets a test reach it without 10,000 issues.
    pub search_window: usize,
    /// JQL comparing `id` with `>`, `>=`, `<` or `<=` to an id no issue has (one deleted since)
    /// is refused, 400 "An issue with key 'N' does not exist for field 'id'.", as Jira refuses
    /// `key = X` for a missing issue. Off: any number is taken, as a bound.
    pub id_ranges_need_an_issue: bool,
    /// Lifetime of OAuth access tokens, in seconds.
    pub access_token_ttl_secs: u64,
    /// Token answers give `expires_in` as a string (`"3600"`), as some OAuth servers do (Azure
    /// AD's v1 endpoint); Atlassian's give a number.
    pub expires_in_as_string: bool,
    /// The `expires_in` token answers give instead of the tokens' real lifetime: 0 (some
    /// servers' "not said"), a negative or a tiny number.
    pub expires_in_reported: Option<i64>,
    /// Every issue whose index `i` (0-based, across projects) has `i % busy_every ==
    /// busy_every / 2` is "busy": about 60 comments, 45 worklogs and 130 change histories, more
    /// than Jira embeds in an issue. 0 means no busy issues. Per issue on average (busy ones
    /// included, without the `*_mean` settings): 20 gives about 4.5 comments, 3.2 worklogs and
    /// 8 histories; 40 about 3, 2 and 5; 0 about 1.6, 1 and 1.75.
    pub busy_every: usize,
    /// Jira Software is installed: boards, sprints and epics under `/rest/agile/1.0/`. Without
    /// it every `/rest/agile/` path answers 404 (a served answer, not an unserved path), and the
    /// `jira-software` application role is gone.
    pub jira_software: bool,
    /// The account the simulator's credentials log in as holds the *Administer Jira* global
    /// permission. Without it `/auditing/record` answers 403, as Jira does.
    pub admin: bool,
    /// Requests a second the site admits (`None`: no limit). One token bucket for the whole
    /// site holds `max(1, R)` tokens (a one-second burst) and refills at `R` a second; every
    /// request but `/oauth/token` ones takes a token (after the `latency_ms` sleep, when the
    /// answer is made), and one that finds none is answered 429 as Jira does (see the crate
    /// documentation). Not a positive number: no limit.
    pub rate_limit_per_second: Option<f64>,
    /// Average comments of the issues that are not busy. `None` keeps the generator's own
    /// spread (0 to 4, about 1.6 on average); a value `m` draws each issue's count evenly from
    /// 0 to `2m`, capped at the 50 Jira embeds, so only busy issues go beyond. Busy issues keep
    /// their 56 to 64.
    pub comments_mean: Option<f64>,
    /// Average worklogs of the issues that are not busy. `None` keeps the generator's own
    /// spread (0 to 3, 1 on average); a value `m` draws each count evenly from 0 to `2m`, capped
    /// at the 20 Jira embeds. Busy issues keep their 42 to 48.
    pub worklogs_mean: Option<f64>,
    /// Average change histories of the issues that are not busy. `None` keeps the generator's
    /// own: the status path (0 to 2 entries) and now and then a label, about 1.75 on average; a
    /// value `m` above that adds summary, label and priority edits, `m - 1.75` on average
    /// (evenly from 0 to twice that), up to 40 histories an issue (what `/search/jql` embeds).
    /// Busy issues keep their 122 to 130 edits.
    pub histories_mean: Option<f64>,
    /// Every worklog whose id is a multiple of this is restricted to a group the account is
    /// not in, and the account sees it nowhere: not in `worklog/list`, its issue's `worklog`
    /// field or `issue/{key}/worklog`. `worklog/updated` leaves it out of a page only after
    /// the page's rows, `until` and `lastPage` are chosen, as Jira does, so pages come short
    /// or empty though not last. Time spent still counts it. 0: every worklog is visible.
    pub hidden_worklogs_every: u64,
    /// Every board whose id is a multiple of this has a saved filter not shared with the
    /// account, which sees it nowhere: `board/{id}` and what is under it answer 404, and
    /// `board` cuts a page, its `total` and `isLast` over every board and only then drops the
    /// hidden ones, as Jira does, so pages come short or empty though not last. 0: none.
    pub hidden_boards_every: u64,
    /// Most rows a `worklog/updated` or `worklog/deleted` page holds (Jira: 1000); fewer let a
    /// small site page (0 counts as 1). `worklog/list` takes 1000 ids whatever this is.
    pub worklog_page_size: usize,
    /// Faults drawn at random and edits made while a sync pages (none by default).
    pub chaos: Chaos,
    /// Answers gzip-compressed to a client that takes it, as Jira Cloud does (off by default:
    /// compressing costs the simulator CPU that the tap's, on the same cores, would share).
    pub gzip: bool,
    /// The site's default language, which its issue deletions' audit records are written in.
    pub language: Language,
    /// How far the site's clock is ahead of the machine's, in milliseconds (negative: behind):
    /// the times it writes at run time (edits, deletions and their audit records, `serverTime`)
    /// are shifted by it, as a server whose clock is off writes them.
    pub clock_offset_ms: i64,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            seed: 42,
            deployment: Deployment::Cloud,
            projects: 3,
            issues_per_project: 20,
            users: 12,
            server_version: [9, 12, 15],
            extra_custom_fields: 0,
            time_zone: "America/Los_Angeles".to_string(),
            latency_ms: 0,
            max_page_size: 100,
            search_window: 10_000,
            id_ranges_need_an_issue: false,
            access_token_ttl_secs: 3600,
            expires_in_as_string: false,
            expires_in_reported: None,
            busy_every: 20,
            jira_software: true,
            admin: true,
            rate_limit_per_second: None,
            comments_mean: None,
            worklogs_mean: None,
            histories_mean: None,
            hidden_worklogs_every: 0,
            hidden_boards_every: 0,
            worklog_page_size: 1000,
            chaos: Chaos::default(),
            gzip: false,
            language: Language::English,
            clock_offset_ms: 0,
        }
    }
}
