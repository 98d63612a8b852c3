//! The one error type at the edge of the tap: every failure a user can cause, phrased as what to do.

use std::fmt;

/// One problem found in the configuration, reported on its own line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigProblem {
    pub key: String,
    pub problem: String,
    pub hint: String,
}

impl fmt::Display for ConfigProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "config `{}`: {}", self.key, self.problem)?;
        if !self.hint.is_empty() {
            write!(f, " ({})", self.hint)?;
        }
        Ok(())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Every configuration problem at once, so the user fixes them in one go.
    #[error("{}", join_lines(.0))]
    Config(Vec<ConfigProblem>),

    /// A file named on the command line could not be read or parsed.
    #[error("{what} {path}: {problem}")]
    InputFile {
        what: &'static str,
        path: String,
        problem: String,
    },

    #[error("catalog: {0}")]
    Catalog(String),

    #[error("state: {0}")]
    State(String),

    /// Jira refused the credentials.
    #[error("authentication failed: HTTP {status} from {endpoint} using {method}; {hint}")]
    Auth {
        method: &'static str,
        endpoint: String,
        status: u16,
        hint: String,
    },

    /// The OAuth token endpoint refused to refresh the access token.
    #[error("OAuth token refresh failed: {0}")]
    OAuth(String),

    /// `tap-jira authorize` could not get a refresh token.
    #[error("authorization failed: {0}")]
    Authorize(String),

    /// Jira answered with an error status that is not worth retrying.
    #[error("HTTP {status} from {url}: {excerpt}")]
    Http {
        status: u16,
        url: String,
        excerpt: String,
    },

    /// Atlassian's gateway refused the token the scope one endpoint needs (its 401 "scope does
    /// not match"): a refusal of that endpoint, as Jira's 403 is, not of the token. The excerpt
    /// says which scope to add, and how.
    #[error("HTTP 401 from {url}: {excerpt}")]
    ScopeRefused { url: String, excerpt: String },

    /// A 2xx answer that is not JSON (a login page, a proxy's error page).
    #[error("{url} answered {content_type} where JSON was expected: {hint}")]
    NotJson {
        url: String,
        content_type: String,
        hint: &'static str,
    },

    /// JSON that does not have the shape Jira documents.
    #[error("unexpected response from {url}: {problem}")]
    Shape { url: String, problem: String },

    /// A response body above `max_response_mb` (or endless): not retried, it would come back alike.
    #[error(
        "the response to {endpoint} is larger than max_response_mb ({limit_mb} MiB); stopped reading it. \
         Raise max_response_mb if Jira really sends this much, otherwise the server or a proxy is misbehaving"
    )]
    ResponseTooLarge { endpoint: String, limit_mb: u64 },

    /// Retries exhausted on a transient failure.
    #[error("cannot reach {url}: {problem}; {hint}")]
    Unreachable {
        url: String,
        problem: &'static str,
        hint: &'static str,
    },

    #[error("giving up on {url} after {attempts} attempts: {reason}")]
    GaveUp {
        url: String,
        attempts: u32,
        reason: String,
    },

    /// Every selected stream was refused: the account sees nothing, or the site is not Jira.
    #[error(
        "every selected stream was refused ({0}); check the account's permissions and base_url"
    )]
    NothingSynced(String),

    /// A stream table entry the engine cannot run: a bug in tap-jira, not in the input.
    #[error("tap-jira bug, please report it: {0}")]
    Internal(String),

    /// The target stopped reading stdout: not a failure of the tap.
    #[error("the target closed its input")]
    BrokenPipe,

    #[error("writing output: {0}")]
    Output(std::io::Error),
}

impl Error {
    pub fn config(
        key: impl Into<String>,
        problem: impl Into<String>,
        hint: impl Into<String>,
    ) -> Self {
        Error::Config(vec![ConfigProblem {
            key: key.into(),
            problem: problem.into(),
            hint: hint.into(),
        }])
    }

    /// Whether Jira keeps what was asked from these credentials: refused (403, or the token's
    /// scopes) or hidden as absent (404). What the account may not see is skipped, not an error.
    pub fn is_not_shown(&self) -> bool {
        matches!(
            self,
            Error::Http {
                status: 403 | 404,
                ..
            } | Error::ScopeRefused { .. }
        )
    }
}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            Error::BrokenPipe
        } else {
            Error::Output(e)
        }
    }
}

fn join_lines(problems: &[ConfigProblem]) -> String {
    problems
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n")
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
