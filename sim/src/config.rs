//! Simulator settings: which kind of Jira to imitate and how big the generated site is.

use std::fmt;
use std::str::FromStr;

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
    /// Numbered custom fields added after the built-in ones, cycling through the field types.
    pub extra_custom_fields: usize,
    /// IANA time zone of the authenticated user (`/myself`), in which JQL dates are read.
    pub time_zone: String,
    /// Milliseconds to sleep before answering each request.
    pub latency_ms: u64,
    /// Largest issue page a search returns, whatever `maxResults` asked for.
    pub max_page_size: usize,
    /// Lifetime of OAuth access tokens, in seconds.
    pub access_token_ttl_secs: u64,
    /// Every issue whose index `i` (0-based, across projects) has `i % busy_every ==
    /// busy_every / 2` is "busy": about 60 comments, 45 worklogs and 130 change histories, more
    /// than Jira embeds in an issue. 0 means no busy issues.
    pub busy_every: usize,
    /// Jira Software is installed: boards, sprints and epics under `/rest/agile/1.0/`. Without
    /// it every `/rest/agile/` path answers 404 (a served answer, not an unserved path), and the
    /// `jira-software` application role is gone.
    pub jira_software: bool,
    /// The account the simulator's credentials log in as holds the *Administer Jira* global
    /// permission. Without it `/auditing/record` answers 403, as Jira does.
    pub admin: bool,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            seed: 42,
            deployment: Deployment::Cloud,
            projects: 3,
            issues_per_project: 20,
            users: 12,
            extra_custom_fields: 0,
            time_zone: "America/Los_Angeles".to_string(),
            latency_ms: 0,
            max_page_size: 100,
            access_token_ttl_secs: 3600,
            busy_every: 20,
            jira_software: true,
            admin: true,
        }
    }
}
