//! The tap's settings: read from one or more JSON files, validated once before any request, with
//! secrets wrapped. `SETTINGS` is the documentation of every key; `--about` renders it.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, NaiveDate, Utc};
use serde_json::{Map, Value};
use url::Url;

use crate::catalog::{DriftPolicy, FieldNames};
use crate::error::{ConfigProblem, Error, Result};
use crate::filters::{Filters, Window, is_project_key};
use crate::hashing::HashSettings;
use crate::input::{self, read_json_object};
use crate::jql::{has_order_by, parentheses_pair};
use crate::readable::RenderText;
use crate::secret::Secret;

/// What a setting holds, for `--about` and Meltano's plugin definition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    String,
    Integer,
    Number,
    Boolean,
    /// RFC 3339, or a bare `YYYY-MM-DD` (midnight UTC).
    DateTime,
    /// A string never printed (`secret`, `writeOnly`; Meltano's `sensitive`).
    Secret,
    /// Strings, as a JSON list or one comma-separated string.
    List,
    /// One of these words, the first being the default where the setting has one.
    OneOf(&'static [&'static str]),
}

impl Kind {
    /// The JSON type of a value of this kind (a `List` may also be given as one string).
    pub fn json_type(self) -> &'static str {
        match self {
            Kind::Integer => "integer",
            Kind::Number => "number",
            Kind::Boolean => "boolean",
            Kind::List => "array",
            Kind::String | Kind::DateTime | Kind::Secret | Kind::OneOf(_) => "string",
        }
    }

    /// The words a choice setting takes; empty for every other kind.
    pub fn words(self) -> &'static [&'static str] {
        match self {
            Kind::OneOf(words) => words,
            _ => &[],
        }
    }
}

/// A setting's default, typed as the setting is.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Preset {
    Text(&'static str),
    Integer(u64),
    Boolean(bool),
}

/// As a person writes it: text bare, for tables.
impl std::fmt::Display for Preset {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Preset::Text(text) => f.write_str(text),
            Preset::Integer(n) => write!(f, "{n}"),
            Preset::Boolean(b) => write!(f, "{b}"),
        }
    }
}

impl Preset {
    pub fn to_json(self) -> Value {
        match self {
            Preset::Text(text) => Value::from(text),
            Preset::Integer(n) => Value::from(n),
            Preset::Boolean(b) => Value::from(b),
        }
    }
}

/// One documented configuration key.
#[derive(Debug)]
pub struct Setting {
    pub name: &'static str,
    pub kind: Kind,
    pub description: &'static str,
    /// What the tap does when the key is absent, where that is one fixed value.
    pub default: Option<Preset>,
}

impl Setting {
    pub fn is_secret(&self) -> bool {
        self.kind == Kind::Secret
    }

    const fn with_default(mut self, default: Preset) -> Setting {
        self.default = Some(default);
        self
    }
}

const fn setting(name: &'static str, kind: Kind, description: &'static str) -> Setting {
    Setting {
        name,
        kind,
        description,
        default: None,
    }
}

/// A choice setting's words with the value each stands for, and the words alone for its
/// `Kind::OneOf`, from one list: what `--about` shows and what the parser accepts cannot differ.
macro_rules! words {
    ($words:ident, $values:ident: $t:ty = [$(($word:literal, $value:expr)),+ $(,)?]) => {
        const $values: &[(&str, $t)] = &[$(($word, $value)),+];
        const $words: &[&str] = &[$($word),+];
    };
}

words!(DEPLOYMENT_WORDS, DEPLOYMENTS: Deployment = [
    ("cloud", Deployment::Cloud),
    ("server", Deployment::Server),
]);
/// Other spellings accepted, not shown.
const DEPLOYMENT_ALIASES: &[(&str, Deployment)] = &[
    ("datacenter", Deployment::Server),
    ("data_center", Deployment::Server),
    ("dc", Deployment::Server),
];
words!(AUTH_TYPE_WORDS, AUTH_TYPES: AuthType = [
    ("api_token", AuthType::ApiToken),
    ("pat", AuthType::Pat),
    ("basic", AuthType::Basic),
    ("oauth2", AuthType::OAuth2),
    ("scoped_token", AuthType::ScopedToken),
    ("oauth2_dc", AuthType::OAuth2Dc),
]);
const AUTH_TYPE_ALIASES: &[(&str, AuthType)] = &[
    ("token", AuthType::ApiToken),
    ("personal_access_token", AuthType::Pat),
    ("bearer", AuthType::Pat),
    ("oauth", AuthType::OAuth2),
    ("service_account", AuthType::ScopedToken),
    ("scoped_api_token", AuthType::ScopedToken),
    ("oauth2_datacenter", AuthType::OAuth2Dc),
    ("oauth2_data_center", AuthType::OAuth2Dc),
    ("oauth2_server", AuthType::OAuth2Dc),
];
words!(SCHEMA_DRIFT_WORDS, SCHEMA_DRIFTS: DriftPolicy = [
    ("auto", DriftPolicy::Auto),
    ("block", DriftPolicy::Block),
]);
words!(RENDER_TEXT_WORDS, RENDER_TEXTS: RenderText = [
    ("markdown", RenderText::Markdown),
    ("plain", RenderText::Plain),
    ("none", RenderText::None),
]);
words!(DELETED_ISSUES_WORDS, DELETED_ISSUES: DeletedIssues = [
    ("audit", DeletedIssues::Audit),
    ("reconcile", DeletedIssues::Reconcile),
    ("off", DeletedIssues::Off),
]);
words!(RICH_TEXT_WORDS, RICH_TEXTS: RichText = [
    ("adf", RichText::Adf),
    ("wiki", RichText::Wiki),
]);
words!(FIELD_NAMES_WORDS, FIELD_NAMES: FieldNames = [
    ("id", FieldNames::Id),
    ("name", FieldNames::Name),
]);

/// The first word of a choice setting: its default.
const fn first(words: &'static [&'static str]) -> Preset {
    Preset::Text(words[0])
}

/// Where the site is: a URL, or Azure Data Factory's host name (with port, scheme and path).
const SITE: &[&str] = &["base_url", "host"];

/// A way to authenticate: `auth_type`'s word for it, and the settings it cannot do without.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthType {
    ApiToken,
    Pat,
    Basic,
    OAuth2,
    ScopedToken,
    OAuth2Dc,
}

impl AuthType {
    /// Every method, in `auth_type`'s order.
    pub fn all() -> impl Iterator<Item = (&'static str, AuthType)> {
        AUTH_TYPES.iter().copied()
    }

    /// The settings a config must give for this method, each satisfied by any one of its keys
    /// (the config check reports each one missing, naming its first key).
    pub fn needs(self) -> &'static [&'static [&'static str]] {
        match self {
            AuthType::ApiToken => &[SITE, &["email"], &["api_token"]],
            AuthType::Pat => &[SITE, &["personal_access_token"]],
            AuthType::Basic => &[SITE, &["username"], &["password"]],
            AuthType::OAuth2 => &[
                &["oauth_client_id"],
                &["oauth_client_secret"],
                &["refresh_token"],
                &["cloud_id"],
            ],
            // The cloud id, or the site to ask it of.
            AuthType::ScopedToken => &[
                &["cloud_id", "base_url", "host"],
                &["email"],
                &["api_token"],
            ],
            // Data Center's provider checks the redirect URI on every refresh, not only on the
            // code exchange.
            AuthType::OAuth2Dc => &[
                SITE,
                &["oauth_client_id"],
                &["oauth_client_secret"],
                &["oauth_redirect_uri"],
                &["refresh_token"],
            ],
        }
    }

    /// Whether the keys present point to this method when `auth_type` is absent: a scoped
    /// token's keys read as an API token's, so a config must name it.
    pub fn is_inferred(self) -> bool {
        self != AuthType::ScopedToken
    }

    /// The method in a sentence: "… is required for API token auth".
    pub fn name(self) -> &'static str {
        match self {
            AuthType::ApiToken => "API token auth",
            AuthType::Pat => "personal access token auth",
            AuthType::Basic => "basic auth",
            AuthType::OAuth2 => "OAuth 2.0",
            AuthType::ScopedToken => "scoped API token auth",
            AuthType::OAuth2Dc => "Data Center OAuth 2.0",
        }
    }

    /// For people: what the method is and where it applies.
    pub fn meaning(self) -> &'static str {
        match self {
            AuthType::ApiToken => "Jira Cloud: account email and API token",
            AuthType::Pat => "Server/Data Center 8.14+: personal access token",
            AuthType::Basic => "user name and password (on Cloud: email and API token)",
            AuthType::OAuth2 => "Jira Cloud: OAuth 2.0 (3LO) app and refresh token",
            AuthType::ScopedToken => {
                "Jira Cloud: a scoped API token (a service account's, or a person's), through \
                 Atlassian's API gateway"
            }
            AuthType::OAuth2Dc => {
                "Data Center 8.22+: OAuth 2.0 incoming link (client id and secret) and refresh token"
            }
        }
    }
}

pub const DEFAULT_START_DATE: &str = "1970-01-01T00:00:00Z";
pub const DEFAULT_REQUEST_TIMEOUT_SECS: u64 = 300;
pub const DEFAULT_LOOKBACK_MINUTES: u64 = 5;
/// A year: a longer look-back reads most of a site again each run.
const MAX_LOOKBACK_MINUTES: u64 = 60 * 24 * 365;
pub const DEFAULT_PAGE_SIZE: u32 = 100;
pub const DEFAULT_MAX_CONCURRENCY: usize = 8;
pub const DEFAULT_MAX_RETRIES: u32 = 8;
/// Retries of one request at most; `retry_budget_seconds` bounds their time too.
const MAX_RETRIES: u64 = 100;
pub const DEFAULT_RETRY_BUDGET_SECS: u64 = 900;
pub const DEFAULT_MAX_RESPONSE_MB: u64 = 256;
pub const DEFAULT_PROGRESS_INTERVAL_SECS: u64 = 60;
pub const DEFAULT_OAUTH_TOKEN_URL: &str = "https://auth.atlassian.com/oauth/token";
/// Data Center's token endpoint, below the site root.
pub const DATA_CENTER_TOKEN_PATH: &str = "rest/oauth2/latest/token";
pub const DEFAULT_OAUTH_AUTHORIZE_URL: &str = "https://auth.atlassian.com/authorize";
/// Data Center's authorization page, below the site root.
pub const DATA_CENTER_AUTHORIZE_PATH: &str = "rest/oauth2/latest/authorize";
pub const DEFAULT_CLOUD_SCOPES: &str = "read:jira-work read:jira-user offline_access";
pub const DEFAULT_DATA_CENTER_SCOPES: &str = "READ";
pub const DEFAULT_OAUTH_GATEWAY_URL: &str = "https://api.atlassian.com";

/// Every key the tap reads. Anything else in a config file draws a warning.
pub const SETTINGS: &[Setting] = &[
    setting(
        "base_url",
        Kind::String,
        "Your Jira site: `https://your-site.atlassian.net` (Cloud) or `https://jira.example.com:8443/jira` \
         (Server/Data Center; port and context path allowed). Not needed with Cloud OAuth (`oauth2`), \
         which goes through Atlassian's API gateway. `host` and its keys say the same in Azure Data Factory's terms.",
    ),
    setting(
        "host",
        Kind::String,
        "Instead of `base_url` (Azure Data Factory's keys): the site's host name alone, e.g. \
         `jira.example.com` or `your-site.atlassian.net`; with `port`, `use_encrypted_endpoints` and \
         `context_path` it makes the base URL.",
    ),
    setting(
        "port",
        Kind::Integer,
        "With `host`: the port Jira listens on (default 443 with encrypted endpoints, 8080 without).",
    ),
    setting(
        "use_encrypted_endpoints",
        Kind::Boolean,
        "With `host`: `true` for https://, `false` for http:// (which also needs `allow_http`). \
         `base_url` says it with its scheme.",
    )
    .with_default(Preset::Boolean(true)),
    setting(
        "context_path",
        Kind::String,
        "With `host`: the path Jira is served under, e.g. `/jira` (default: none).",
    ),
    setting(
        "deployment",
        Kind::OneOf(DEPLOYMENT_WORDS),
        "`cloud` or `server` (Server and Data Center). Read from the site's address (`*.atlassian.net` and `*.jira.com` are Cloud) or from /serverInfo when absent.",
    ),
    setting(
        "auth_type",
        Kind::OneOf(AUTH_TYPE_WORDS),
        "`api_token`, `pat`, `basic`, `oauth2` (Cloud), `scoped_token` (a scoped API token, such \
         as a service account's, which only Atlassian's API gateway takes) or `oauth2_dc` (Data \
         Center's OAuth 2.0). Inferred from the credential keys present when absent, except \
         `scoped_token`: nothing in a token tells it is scoped.",
    ),
    setting(
        "email",
        Kind::String,
        "Cloud: the Atlassian account email (or service account) that owns `api_token`.",
    ),
    setting(
        "api_token",
        Kind::Secret,
        "Cloud: an API token (id.atlassian.com → Security → API tokens), or with `scoped_token` a \
         scoped one.",
    ),
    setting(
        "personal_access_token",
        Kind::Secret,
        "Server/Data Center 8.14+: a personal access token, sent as a Bearer token.",
    ),
    setting(
        "username",
        Kind::String,
        "Basic auth user name (Server/Data Center). On Cloud: the account email (Stitch-compatible).",
    ),
    setting(
        "password",
        Kind::Secret,
        "Basic auth password (Server/Data Center). On Cloud: an API token (Stitch-compatible).",
    ),
    setting(
        "oauth_client_id",
        Kind::String,
        "OAuth 2.0 client id: Cloud's 3LO app, or Data Center's incoming link.",
    ),
    setting(
        "oauth_client_secret",
        Kind::Secret,
        "OAuth 2.0 client secret (of the same app or incoming link).",
    ),
    setting(
        "refresh_token",
        Kind::Secret,
        "OAuth 2.0 refresh token (on Cloud, needs the offline_access scope). It rotates on every \
         refresh: the tap writes the new one back into the config file it came from (or \
         `oauth_token_file`).",
    ),
    setting(
        "oauth_token_file",
        Kind::String,
        "OAuth 2.0: a JSON file the tap keeps the rotated refresh token in, read before the config's \
         `refresh_token`. Use it when the config file is generated for each run (Meltano) or read-only.",
    ),
    setting(
        "oauth_redirect_uri",
        Kind::String,
        "`tap-jira authorize`: the callback URL registered with the OAuth app or incoming link. \
         The browser is sent there with a code, which you paste back; nothing needs to listen there. \
         Data Center (`oauth2_dc`) needs it on every run: its token endpoint checks it on each refresh.",
    ),
    setting(
        "oauth_scopes",
        Kind::String,
        "`tap-jira authorize`: the scopes asked for, space-separated (default `read:jira-work \
         read:jira-user offline_access` on Cloud, `READ` on Data Center; the audit log also needs \
         `manage:jira-configuration`, or `ADMIN`).",
    ),
    setting(
        "oauth_authorize_url",
        Kind::String,
        "`tap-jira authorize`: where you allow access (default `https://auth.atlassian.com/authorize` \
         on Cloud, `{base_url}/rest/oauth2/latest/authorize` on Data Center).",
    ),
    setting(
        "access_token",
        Kind::Secret,
        "OAuth 2.0 access token to start with (optional; refreshed when it expires).",
    ),
    setting(
        "cloud_id",
        Kind::String,
        "The site's cloud id, for Atlassian's API gateway (OAuth 2.0: from \
         /oauth/token/accessible-resources). Scoped tokens read it from the site's \
         `/_edge/tenant_info` when it is left out.",
    ),
    // No fixed default: a generated config carrying Cloud's would send Data Center's tokens there.
    setting(
        "oauth_token_url",
        Kind::String,
        "OAuth 2.0 token endpoint (default: `https://auth.atlassian.com/oauth/token` on Cloud, \
         `{base_url}/rest/oauth2/latest/token` on Data Center).",
    ),
    setting(
            "oauth_gateway_url",
            Kind::String,
            "Atlassian's API gateway (OAuth 2.0 and scoped tokens); requests go to \
             `{this}/ex/jira/{cloud_id}`.",
        ).with_default(Preset::Text(DEFAULT_OAUTH_GATEWAY_URL)),
    setting(
            "start_date",
            Kind::DateTime,
            "Sync issues updated at or after this instant (RFC 3339 or `YYYY-MM-DD`, UTC) on the first run.",
        ).with_default(Preset::Text(DEFAULT_START_DATE)),
    setting(
            "lookback_minutes",
            Kind::Integer,
            "Minutes behind the bookmark each incremental run reads again, to catch issues Jira's search \
             index showed late; versions already written are not written again (at most 525600, a year).",
        ).with_default(Preset::Integer(DEFAULT_LOOKBACK_MINUTES)),
    setting(
            "request_timeout",
            Kind::Number,
            "Seconds to wait for one HTTP response, fractions allowed (0 or empty: the default).",
        ).with_default(Preset::Integer(DEFAULT_REQUEST_TIMEOUT_SECS)),
    setting(
            "page_size",
            Kind::Integer,
            "Records asked for per page (1–1000; Jira may return fewer).",
        ).with_default(Preset::Integer(DEFAULT_PAGE_SIZE as u64)),
    setting(
            "max_concurrency",
            Kind::Integer,
            "Requests in flight at once, across the whole tap (1–64; 1 is one at a time).",
        ).with_default(Preset::Integer(DEFAULT_MAX_CONCURRENCY as u64)),
    setting(
        "max_requests_per_second",
        Kind::Number,
        "Most requests started per second (none: as fast as max_concurrency and Jira allow).",
    ),
    setting(
            "max_retries",
            Kind::Integer,
            "Retries of one request on 408, 429, 500, 502, 503 and 504, timeouts and connection errors \
             (at most 100).",
        ).with_default(Preset::Integer(DEFAULT_MAX_RETRIES as u64)),
    setting(
            "retry_budget_seconds",
            Kind::Integer,
            "Longest time spent retrying one request before giving up.",
        ).with_default(Preset::Integer(DEFAULT_RETRY_BUDGET_SECS)),
    setting(
            "max_response_mb",
            Kind::Integer,
            "Largest response body read, in MiB: a larger (or endless) answer stops the run with an error \
             instead of filling memory.",
        ).with_default(Preset::Integer(DEFAULT_MAX_RESPONSE_MB)),
    setting(
        "progress_interval_seconds",
        Kind::Integer,
        "Seconds between progress lines on stderr (records so far and per second for each \
         active stream, with the time left where Jira gives a total) and `record_count` \
         METRIC lines; 0 reports only at the end.",
    )
    .with_default(Preset::Integer(DEFAULT_PROGRESS_INTERVAL_SECS)),
    setting(
        "user_agent",
        Kind::String,
        "User-Agent header sent with every request.",
    ),
    setting(
            "allow_http",
            Kind::Boolean,
            "Allow a plain `http://` base URL (credentials then cross the network in clear).",
        ).with_default(Preset::Boolean(false)),
    setting(
        "ca_bundle",
        Kind::String,
        "Path of a PEM file of extra CA certificates, for self-hosted sites signed by a private CA.",
    ),
    setting(
        "client_certificate",
        Kind::String,
        "Mutual TLS: path of the PEM client certificate (with any intermediates) the site asks for.",
    ),
    setting(
        "client_key",
        Kind::String,
        "Mutual TLS: path of the client certificate's PEM private key, unencrypted (PKCS#8, PKCS#1 \
         or SEC1); may be left out when `client_certificate`'s file holds the key too.",
    ),
    setting(
        "proxy_url",
        Kind::Secret,
        "HTTP(S) proxy for every request, e.g. `http://user:password@proxy.example.com:3128` \
         (credentials are never logged). Without it the tap uses `HTTPS_PROXY` / `HTTP_PROXY` / \
         `ALL_PROXY`; `NO_PROXY` applies to both.",
    ),
    setting(
        "groups",
        Kind::List,
        "Group names (a list or comma-separated): when set, the `users` stream holds the members of these groups \
         (Stitch's behaviour) instead of every user of the site.",
    ),
    setting(
            "schema_drift",
            Kind::OneOf(SCHEMA_DRIFT_WORDS),
            "A sync from a saved catalog reads the site's fields again: `auto` adds fields that \
             appeared since discovery to the SCHEMA and syncs them, `block` keeps the catalog's \
             fields only. Either way a field whose type changed has its schema widened, and every \
             change is logged.",
        ).with_default(first(SCHEMA_DRIFT_WORDS)),
    setting(
            "render_text",
            Kind::OneOf(RENDER_TEXT_WORDS),
            "Cloud's rich text (descriptions, environments, comment and worklog bodies, rich-text \
             custom fields) arrives as ADF: it is kept, and `markdown` adds a Markdown rendering \
             beside it (`description_markdown`), `plain` a plain-text one (`description_text`), \
             `none` nothing.",
        ).with_default(first(RENDER_TEXT_WORDS)),
    setting(
            "deleted_issues",
            Kind::OneOf(DELETED_ISSUES_WORDS),
            "How issues deleted from Jira are found, each becoming an `issues` record with \
             `_sdc_deleted_at`: `audit` reads the audit log (needs Administer Jira), `reconcile` \
             lists every issue id each run and asks after those that went (no admin needed; \
             keeps the ids in the state), `off` does neither.",
        ).with_default(first(DELETED_ISSUES_WORDS)),
    setting(
            "rich_text",
            Kind::OneOf(RICH_TEXT_WORDS),
            "How Cloud's rich text is read: `adf` (REST v3: ADF objects, with the `render_text` \
             rendering beside them) or `wiki` (REST v2: wiki-markup strings, as Stitch's tap \
             read them). Server/Data Center always sends wiki markup.",
        ).with_default(first(RICH_TEXT_WORDS)),
    setting(
            "custom_field_names",
            Kind::OneOf(FIELD_NAMES_WORDS),
            "How discovery names custom fields in `issues` → `fields`: `id` (`customfield_10016`, \
             as Stitch's tap) or `name`, the snake_case of the display name (`story_points`; a \
             name that collides with another takes the field id after it, \
             `team_customfield_10001`), with the id in the property's metadata \
             (`tap-jira.field-id`). A sync keeps the names of the catalog it is given; fields \
             that appeared since discovery are named by this setting.",
        ).with_default(first(FIELD_NAMES_WORDS)),
    setting(
        "projects",
        Kind::List,
        "Project keys to sync (a list or comma-separated; default: all). Applies to issues, their \
         children, `worklogs` and the project-level streams.",
    ),
    setting(
        "exclude_projects",
        Kind::List,
        "Project keys to leave out (a list or comma-separated).",
    ),
    setting(
        "created_after",
        Kind::DateTime,
        "Only issues created at or after this instant (RFC 3339 or `YYYY-MM-DD`, UTC).",
    ),
    setting(
        "created_before",
        Kind::DateTime,
        "Only issues created before this instant.",
    ),
    setting(
        "updated_after",
        Kind::DateTime,
        "Only issues updated at or after this instant, on every run (`start_date` only sets where \
         the first run starts).",
    ),
    setting(
        "updated_before",
        Kind::DateTime,
        "Only issues last updated before this instant.",
    ),
    setting(
        "jql",
        Kind::String,
        "JQL of your own, ANDed with the tap's clauses (no ORDER BY); Jira checks it before the sync starts.",
    ),
    setting(
        "hash_salt",
        Kind::Secret,
        "Secret salt (16 characters or more) for hashed fields: a field whose catalog metadata has \
         `\"tap-jira.hash\": true` leaves the tap as the hex SHA-256 of this salt followed by the \
         value's canonical JSON. Keep it to keep hashes stable across runs.",
    ),
    setting(
            "hash_pii",
            Kind::Boolean,
            "Hash every `emailAddress` and `displayName`, at any depth of every stream (reporters, \
             assignees, authors, user custom fields, `users`). Needs `hash_salt`.",
        ).with_default(Preset::Boolean(false)),
    setting(
        "flattening_enabled",
        Kind::Boolean,
        "Flatten nested objects into columns named by their path joined with `__` \
         (`fields__status__name`), in the SCHEMA and every RECORD, down to \
         `flattening_max_depth` (the Meltano SDK's setting). Arrays, objects below that depth \
         and objects whose schema lists no properties (rich text, custom fields of unknown \
         shape) become string columns of JSON text.",
    )
    .with_default(Preset::Boolean(false)),
    setting(
        "flattening_max_depth",
        Kind::Integer,
        "With `flattening_enabled`, which needs it: how many levels of objects become columns. \
         `1` gives `fields__summary` with `fields__status` as JSON text, `2` \
         `fields__status__name`; `0` keeps the top-level columns and writes objects as JSON text.",
    ),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Deployment {
    Cloud,
    Server,
}

impl Deployment {
    /// The REST API version the tap speaks to this deployment.
    pub fn api_version(self) -> u8 {
        match self {
            Deployment::Cloud => 3,
            Deployment::Server => 2,
        }
    }

    /// As config and metadata spell it.
    pub fn name(self) -> &'static str {
        match self {
            Deployment::Cloud => "cloud",
            Deployment::Server => "server",
        }
    }
}

/// How the tap proves who it is.
#[derive(Debug, Clone)]
pub enum Auth {
    /// Cloud: Basic `email:api_token`.
    ApiToken { email: String, token: Secret },
    /// Server/DC: `Authorization: Bearer <pat>`.
    Pat { token: Secret },
    /// Basic `username:password` (on Cloud: email and API token).
    Basic { username: String, password: Secret },
    /// OAuth 2.0 (Cloud's 3LO apps, or Data Center's incoming links) with refresh-token rotation.
    OAuth(OAuthConfig),
    /// Cloud: Basic `email:api_token` with a scoped token, which only the API gateway takes.
    ScopedToken { email: String, token: Secret },
}

impl Auth {
    pub fn method_name(&self) -> &'static str {
        match self {
            Auth::ApiToken { .. } => "API token (email + api_token)",
            Auth::Pat { .. } => "personal access token",
            Auth::Basic { .. } => "basic auth (username + password)",
            Auth::OAuth(oauth) => match oauth.client.provider {
                OAuthProvider::Atlassian => "OAuth 2.0",
                OAuthProvider::DataCenter => "OAuth 2.0 (Data Center)",
            },
            Auth::ScopedToken { .. } => {
                "scoped API token (email + api_token, through Atlassian's API gateway)"
            }
        }
    }
}

/// Who issues the OAuth 2.0 tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OAuthProvider {
    /// Jira Cloud's 3LO apps: auth.atlassian.com, requests through the API gateway.
    Atlassian,
    /// Jira Data Center 8.22+ as its own provider (an incoming link), requests to the site.
    DataCenter,
}

/// An OAuth 2.0 client: who issues its tokens, where, and its credentials.
#[derive(Debug, Clone)]
pub struct OAuthClient {
    pub provider: OAuthProvider,
    pub client_id: String,
    pub client_secret: Secret,
    pub token_url: Url,
}

#[derive(Debug, Clone)]
pub struct OAuthConfig {
    pub client: OAuthClient,
    pub refresh_token: Secret,
    pub access_token: Option<Secret>,
    /// Data Center: the incoming link's redirect URI, which its provider wants on a refresh too
    /// (as `tap-jira authorize` sent it).
    pub redirect_uri: Option<String>,
    /// The file that holds `refresh_token` (`oauth_token_file`, or the config file): the
    /// rotated token is written back there.
    pub refresh_token_file: Option<TokenFile>,
}

/// Where the tap sends its requests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Site {
    /// The site itself: `base_url`, or `host` and its keys; always ending in `/`.
    Direct(Url),
    /// Atlassian's API gateway, `{gateway}/ex/jira/{cloud_id}/` (OAuth 2.0 and scoped tokens).
    Gateway { gateway: Url, cloud_id: CloudId },
}

/// The cloud id the gateway wants: given in the config, or to be asked of the site.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CloudId {
    Given(String),
    /// Read from the site's `/_edge/tenant_info`, which answers without credentials.
    OfSite(Url),
}

impl Site {
    /// The root requests go to, when no request is needed to know it.
    pub fn known_root(&self) -> Option<Url> {
        match self {
            Site::Direct(url) => Some(url.clone()),
            Site::Gateway {
                gateway,
                cloud_id: CloudId::Given(id),
            } => gateway_root(gateway, id),
            Site::Gateway { .. } => None,
        }
    }
}

/// `{gateway}/ex/jira/{cloud_id}/`.
pub fn gateway_root(gateway: &Url, cloud_id: &str) -> Option<Url> {
    let mut root = gateway.clone();
    root.path_segments_mut()
        .ok()?
        .pop_if_empty()
        .extend(["ex", "jira", cloud_id, ""]);
    Some(root)
}

/// The validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where requests go.
    pub site: Site,
    pub deployment: Option<Deployment>,
    pub auth: Auth,
    pub start_date: DateTime<Utc>,
    pub lookback: chrono::Duration,
    /// How connections are made.
    pub network: Network,
    pub page_size: u32,
    pub max_concurrency: usize,
    pub max_requests_per_second: Option<f64>,
    pub max_retries: u32,
    pub retry_budget: Duration,
    /// `max_response_mb` in bytes.
    pub max_response_bytes: u64,
    /// How often progress and record counts are reported; `None`: only at the end.
    pub progress_interval: Option<Duration>,
    pub groups: Option<Vec<String>>,
    /// The salt and `hash_pii`, for fields hashed before they leave the process.
    pub hashing: HashSettings,
    /// Which projects and issues a sync covers.
    pub filters: Filters,
    /// What a sync from a saved catalog does with fields that appeared on the site since.
    pub schema_drift: DriftPolicy,
    /// The rendering added beside Cloud's rich text.
    pub render_text: RenderText,
    /// How discovery (and schema drift) names custom fields.
    pub custom_field_names: FieldNames,
    /// How Cloud's rich text is read.
    pub rich_text: RichText,
    /// How deleted issues are found.
    pub deleted_issues: DeletedIssues,
    /// With `flattening_enabled`: `flattening_max_depth`, how many levels of objects become
    /// columns.
    pub flattening: Option<usize>,
}

/// What the HTTP client needs, whatever it is used for (a run, or `tap-jira authorize`).
#[derive(Debug, Clone)]
pub struct Network {
    pub request_timeout: Duration,
    pub user_agent: String,
    pub ca_bundle: Option<PathBuf>,
    /// Mutual TLS: the certificate the tap shows the site.
    pub client_certificate: Option<ClientCertificate>,
    /// The proxy every request goes through (else the environment's, if any).
    pub proxy_url: Option<Secret>,
}

/// Mutual TLS: PEM files of the client certificate and its private key (which may sit in the
/// certificate's file).
#[derive(Debug, Clone)]
pub struct ClientCertificate {
    pub certificate: PathBuf,
    pub key: Option<PathBuf>,
}

/// Config `deleted_issues`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum DeletedIssues {
    /// From the audit log's "Issue deleted" records.
    #[default]
    Audit,
    /// By listing the ids Jira still has and comparing with the last run's.
    Reconcile,
    Off,
}

/// Config `rich_text`: Cloud's rich text as ADF (REST v3) or wiki markup (REST v2).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum RichText {
    #[default]
    Adf,
    Wiki,
}

/// Config files merged in order (later keys win), remembering which file each key came from.
#[derive(Default)]
pub struct RawConfig {
    values: Map<String, Value>,
    origin: HashMap<String, PathBuf>,
}

/// Keys only: the values hold secrets.
impl std::fmt::Debug for RawConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_set().entries(self.values.keys()).finish()
    }
}

impl RawConfig {
    pub fn load(paths: &[PathBuf]) -> Result<RawConfig> {
        let mut raw = RawConfig::default();
        for path in paths {
            let object = read_json_object(path, input::CONFIG)?;
            for (key, value) in object {
                raw.origin.insert(key.clone(), path.clone());
                raw.values.insert(key, value);
            }
        }
        Ok(raw)
    }

    pub fn from_map(values: Map<String, Value>) -> RawConfig {
        RawConfig {
            values,
            origin: HashMap::new(),
        }
    }

    /// Every key and value as given: the redactor learns the secrets from them.
    pub fn values(&self) -> impl Iterator<Item = (&str, &Value)> {
        self.values.iter().map(|(k, v)| (k.as_str(), v))
    }

    /// Keys no setting documents: probably a typo, worth a warning.
    pub fn unknown_keys(&self) -> Vec<&str> {
        self.values
            .keys()
            .filter(|k| !SETTINGS.iter().any(|s| s.name == k.as_str()))
            .map(String::as_str)
            .collect()
    }
}

/// Collects every problem before failing, so one run shows them all.
struct Reader<'a> {
    raw: &'a RawConfig,
    problems: Vec<ConfigProblem>,
}

impl<'a> Reader<'a> {
    fn problem(&mut self, key: &str, problem: impl Into<String>, hint: impl Into<String>) {
        self.problems.push(ConfigProblem {
            key: key.into(),
            problem: problem.into(),
            hint: hint.into(),
        });
    }

    /// A string setting; empty strings and nulls count as absent (Stitch configs use "" for unset).
    fn string(&mut self, key: &str) -> Option<String> {
        match self.raw.values.get(key) {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) if s.trim().is_empty() => None,
            Some(Value::String(s)) => Some(s.trim().to_string()),
            Some(Value::Number(n)) => Some(n.to_string()),
            Some(_) => {
                self.problem(key, "must be a string", "");
                None
            }
        }
    }

    /// Whether the config gives `key` a value (empty strings and nulls count as absent).
    fn given(&self, key: &str) -> bool {
        match self.raw.values.get(key) {
            None | Some(Value::Null) => false,
            Some(Value::String(s)) => !s.trim().is_empty(),
            Some(_) => true,
        }
    }

    fn secret(&mut self, key: &str) -> Option<Secret> {
        match self.raw.values.get(key) {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) if s.is_empty() => None,
            Some(Value::String(s)) => Some(Secret::new(s.clone())),
            // Digits unquoted in meltano.yml (`password: 20241231`) reach the config as a number.
            Some(Value::Number(n)) => Some(Secret::new(n.to_string())),
            Some(_) => {
                self.problem(key, "must be a string", "");
                None
            }
        }
    }

    /// A token or client secret: `secret`, without the spaces and line break a copy and paste
    /// (or `echo` into a file) leaves around it, which no token holds and no header may.
    fn token(&mut self, key: &str) -> Option<Secret> {
        let token = self.secret(key)?;
        let trimmed = token.expose().trim();
        if trimmed.is_empty() {
            return None;
        }
        Some(match trimmed.len() == token.expose().len() {
            true => token,
            false => Secret::new(trimmed.to_string()),
        })
    }

    /// A number (fractions allowed), given as a number or a numeric string.
    fn number(&mut self, key: &str) -> Option<f64> {
        let parsed = match self.raw.values.get(key) {
            None | Some(Value::Null) => return None,
            Some(Value::String(s)) if s.trim().is_empty() => return None,
            Some(Value::String(s)) => s.trim().parse::<f64>().ok(),
            Some(Value::Number(n)) => n.as_f64(),
            Some(_) => None,
        };
        let parsed = parsed.filter(|n| n.is_finite());
        if parsed.is_none() {
            self.problem(key, "must be a number", "");
        }
        parsed
    }

    /// A non-negative integer, given as a number or a numeric string.
    fn integer(&mut self, key: &str) -> Option<u64> {
        let parsed = self.whole_number(key)?;
        if parsed.is_none() {
            self.problem(key, "must be a whole number of 0 or more", "");
        }
        parsed
    }

    /// A TCP port, 1 to 65535; one check, so `0` and `-1` are told the same.
    fn port(&mut self, key: &str) -> Option<u64> {
        let parsed = self.whole_number(key)?.filter(|p| (1..=65535).contains(p));
        if parsed.is_none() {
            self.problem(key, "is not a TCP port", "use 1 to 65535");
        }
        parsed
    }

    /// `None` when `key` is not given, `Some(None)` when it is not a whole number of 0 or more.
    fn whole_number(&self, key: &str) -> Option<Option<u64>> {
        Some(match self.raw.values.get(key) {
            None | Some(Value::Null) => return None,
            Some(Value::String(s)) if s.trim().is_empty() => return None,
            Some(Value::String(s)) => s.trim().parse::<u64>().ok(),
            Some(Value::Number(n)) => n.as_u64().or_else(|| {
                n.as_f64()
                    .filter(|f| f.fract() == 0.0 && *f >= 0.0)
                    .map(|f| f as u64)
            }),
            Some(_) => None,
        })
    }

    /// A date setting: RFC 3339 or `YYYY-MM-DD`, in the years a state can hold.
    fn date(&mut self, key: &str) -> Option<DateTime<Utc>> {
        let text = self.string(key)?;
        match parse_start_date(&text) {
            Some(t) if crate::timestamp::in_range(t) => Some(t),
            None if !crate::timestamp::beyond_four_digit_years(&text) => {
                self.problem(
                    key,
                    format!("`{text}` is not a date"),
                    "use RFC 3339 (2024-01-31T00:00:00Z) or YYYY-MM-DD",
                );
                None
            }
            _ => {
                self.problem(
                    key,
                    format!(
                        "`{text}` is outside the {} that tap-jira accepts",
                        crate::timestamp::YEARS
                    ),
                    "use a date such as 2024-01-31T00:00:00Z",
                );
                None
            }
        }
    }

    /// One of a choice setting's words (any case), or one of its other spellings; anything else
    /// is a problem naming the words.
    fn choice<T: Copy>(
        &mut self,
        key: &str,
        words: &[(&str, T)],
        aliases: &[(&str, T)],
    ) -> Option<T> {
        let given = self.string(key)?;
        let found = words
            .iter()
            .chain(aliases)
            .find(|(word, _)| word.eq_ignore_ascii_case(&given))
            .map(|(_, value)| *value);
        if found.is_none() {
            let names: Vec<&str> = words.iter().map(|(word, _)| *word).collect();
            let hint = match names.split_last() {
                Some((last, rest)) if !rest.is_empty() => {
                    format!("use {} or {last}", rest.join(", "))
                }
                _ => format!("use {}", names.join("")),
            };
            self.problem(key, format!("`{given}` is not known"), hint);
        }
        found
    }

    fn boolean(&mut self, key: &str) -> Option<bool> {
        match self.raw.values.get(key) {
            None | Some(Value::Null) => None,
            Some(Value::Bool(b)) => Some(*b),
            Some(Value::String(s)) if s.eq_ignore_ascii_case("true") => Some(true),
            Some(Value::String(s)) if s.eq_ignore_ascii_case("false") => Some(false),
            Some(_) => {
                self.problem(key, "must be true or false", "");
                None
            }
        }
    }

    fn url(&mut self, key: &str, value: &str, allow_http: bool) -> Option<Url> {
        let mut url = match Url::parse(value) {
            Ok(url) => url,
            Err(e) => {
                self.problem(
                    key,
                    format!("`{}` is not a URL ({e})", without_userinfo(value)),
                    "write it in full, e.g. https://your-site.atlassian.net",
                );
                return None;
            }
        };
        match url.scheme() {
            "https" => {}
            "http" if allow_http => {}
            "http" => {
                self.problem(
                    key,
                    "uses http://, which would send credentials in clear",
                    "use https://, or set allow_http: true for a test server",
                );
                return None;
            }
            other => {
                self.problem(key, format!("has scheme `{other}`"), "use https://");
                return None;
            }
        }
        if url.host_str().is_none_or(str::is_empty) {
            self.problem(key, "has no host", "e.g. https://your-site.atlassian.net");
            return None;
        }
        if url.query().is_some() || url.fragment().is_some() {
            self.problem(key, "must not have a query (?…) or fragment (#…)", "");
            return None;
        }
        if !url.username().is_empty() || url.password().is_some() {
            self.problem(
                key,
                "must not carry credentials",
                "put them in the auth keys instead",
            );
            return None;
        }
        if url.path().contains("/rest/") {
            self.problem(
                key,
                "includes a /rest/ path",
                "give the site root only, e.g. https://jira.example.com/jira",
            );
            return None;
        }
        if !url.path().ends_with('/') {
            let path = format!("{}/", url.path());
            url.set_path(&path);
        }
        Some(url)
    }
}

impl Config {
    /// Validates the merged files. Every problem is reported, each on its own line.
    pub fn from_raw(raw: &RawConfig) -> Result<Config> {
        let mut r = Reader {
            raw,
            problems: Vec::new(),
        };
        let allow_http = r.boolean("allow_http").unwrap_or(false);
        // The method says where requests go; the site, where Data Center's token endpoint is.
        let method = choose_auth(&mut r);
        let site = match method {
            Some(AuthType::OAuth2 | AuthType::ScopedToken) => read_gateway(&mut r, allow_http),
            _ => read_site(&mut r, allow_http).map(Site::Direct),
        };
        let auth = method.and_then(|method| read_auth(&mut r, method, site.as_ref(), allow_http));
        let deployment = r.choice("deployment", DEPLOYMENTS, DEPLOYMENT_ALIASES);
        if method == Some(AuthType::OAuth2Dc) && deployment == Some(Deployment::Cloud) {
            r.problem(
                "deployment",
                "is cloud, but oauth2_dc is Data Center's OAuth 2.0",
                "on Cloud use auth_type: oauth2 with cloud_id",
            );
        }
        let gateway = matches!(site, Some(Site::Gateway { .. }));
        if gateway && deployment == Some(Deployment::Server) {
            r.problem(
                "deployment",
                "is server, but Atlassian's API gateway serves Jira Cloud only",
                "on Server/Data Center use a personal_access_token or username + password",
            );
        }
        let deployment = match method {
            _ if gateway => Some(Deployment::Cloud),
            Some(AuthType::OAuth2Dc) => Some(Deployment::Server),
            _ => deployment,
        };
        if let (Some(Auth::Pat { .. }), Some(Deployment::Cloud)) = (&auth, deployment) {
            r.problem(
                "personal_access_token",
                "is a Server/Data Center credential and Cloud refuses it",
                "on Cloud use email + api_token",
            );
        }

        let start_date = r.date("start_date").unwrap_or(DateTime::<Utc>::UNIX_EPOCH);
        let lookback = r
            .integer("lookback_minutes")
            .unwrap_or(DEFAULT_LOOKBACK_MINUTES);
        if lookback > MAX_LOOKBACK_MINUTES {
            r.problem(
                "lookback_minutes",
                format!("{lookback} is out of range"),
                format!("use 0 to {MAX_LOOKBACK_MINUTES} (a year)"),
            );
        }
        let network = read_network(&mut r);
        let page_size = r.integer("page_size").unwrap_or(DEFAULT_PAGE_SIZE as u64);
        if !(1..=1000).contains(&page_size) {
            r.problem(
                "page_size",
                format!("{page_size} is out of range"),
                "use 1 to 1000",
            );
        }
        let max_concurrency = r
            .integer("max_concurrency")
            .unwrap_or(DEFAULT_MAX_CONCURRENCY as u64);
        if !(1..=64).contains(&max_concurrency) {
            r.problem(
                "max_concurrency",
                format!("{max_concurrency} is out of range"),
                "use 1 to 64 (Jira Cloud suits about 8)",
            );
        }
        let max_requests_per_second = r.number("max_requests_per_second");
        if max_requests_per_second.is_some_and(|rate| rate.is_nan() || rate < 0.01) {
            r.problem(
                "max_requests_per_second",
                "must be at least 0.01 (one request in 100 s)",
                "leave it out for no limit of the tap's own",
            );
        }
        let max_retries = r
            .integer("max_retries")
            .unwrap_or(DEFAULT_MAX_RETRIES as u64);
        if max_retries > MAX_RETRIES {
            r.problem(
                "max_retries",
                format!("{max_retries} is out of range"),
                format!("use 0 to {MAX_RETRIES}; retry_budget_seconds bounds the time they take"),
            );
        }
        let retry_budget = r
            .integer("retry_budget_seconds")
            .unwrap_or(DEFAULT_RETRY_BUDGET_SECS);
        let max_response_mb = r
            .integer("max_response_mb")
            .unwrap_or(DEFAULT_MAX_RESPONSE_MB);
        if !(1..=1 << 20).contains(&max_response_mb) {
            r.problem(
                "max_response_mb",
                format!("{max_response_mb} is out of range"),
                "use 1 to 1048576 (MiB)",
            );
        }
        let progress_interval = r
            .integer("progress_interval_seconds")
            .unwrap_or(DEFAULT_PROGRESS_INTERVAL_SECS);
        if progress_interval > 86_400 {
            r.problem(
                "progress_interval_seconds",
                format!("{progress_interval} is more than a day"),
                "use 0 to 86400 (0: only at the end)",
            );
        }
        let groups = read_groups(&mut r);
        let filters = read_filters(&mut r);
        // Absent: the first word, as `--about` shows it.
        let render_text = r
            .choice("render_text", RENDER_TEXTS, &[])
            .unwrap_or(RENDER_TEXTS[0].1);
        let rich_text = r
            .choice("rich_text", RICH_TEXTS, &[])
            .unwrap_or(RICH_TEXTS[0].1);
        let deleted_issues = r
            .choice("deleted_issues", DELETED_ISSUES, &[])
            .unwrap_or(DELETED_ISSUES[0].1);
        let schema_drift = r
            .choice("schema_drift", SCHEMA_DRIFTS, &[])
            .unwrap_or(SCHEMA_DRIFTS[0].1);
        let custom_field_names = r
            .choice("custom_field_names", FIELD_NAMES, &[])
            .unwrap_or(FIELD_NAMES[0].1);
        let hashing = HashSettings {
            salt: r.secret("hash_salt"),
            pii: r.boolean("hash_pii").unwrap_or(false),
        };
        if hashing.salt.as_ref().is_some_and(|s| s.expose().len() < 16) {
            r.problem(
                "hash_salt",
                "is shorter than 16 characters",
                "a short salt lets anyone guess hashed emails and names by trying them: use a long random secret",
            );
        }

        let flattening = read_flattening(&mut r);

        if !r.problems.is_empty() {
            return Err(Error::Config(r.problems));
        }
        let (Some(auth), Some(site)) = (auth, site) else {
            return Err(Error::config("auth", "could not be read", ""));
        };
        Ok(Config {
            site,
            deployment,
            auth,
            start_date,
            lookback: chrono::Duration::minutes(lookback.min(MAX_LOOKBACK_MINUTES) as i64),
            network,
            page_size: page_size as u32,
            max_concurrency: max_concurrency as usize,
            max_requests_per_second,
            max_retries: max_retries.min(MAX_RETRIES) as u32,
            retry_budget: Duration::from_secs(retry_budget),
            max_response_bytes: max_response_mb << 20,
            progress_interval: (progress_interval > 0)
                .then(|| Duration::from_secs(progress_interval)),
            groups,
            hashing,
            filters,
            schema_drift,
            render_text,
            rich_text,
            deleted_issues,
            custom_field_names,
            flattening,
        })
    }
}

/// `flattening_max_depth` when `flattening_enabled`; the SDK's rule: no depth, no flattening.
fn read_flattening(r: &mut Reader<'_>) -> Option<usize> {
    let depth = r.integer("flattening_max_depth");
    if !r.boolean("flattening_enabled").unwrap_or(false) {
        return None;
    }
    // A depth given but not a number is already reported as such.
    if depth.is_none() && !r.given("flattening_max_depth") {
        r.problem(
            "flattening_max_depth",
            "is required when flattening_enabled is true",
            "set how many levels of objects become columns: 2 gives fields__status__name",
        );
    }
    // Deeper than any schema is as deep as the schema.
    depth.map(|d| usize::try_from(d).unwrap_or(usize::MAX))
}

/// `auth_type`, or the method the credential keys present point to. Scoped tokens are never
/// guessed: nothing in a token tells them apart.
fn choose_auth(r: &mut Reader<'_>) -> Option<AuthType> {
    let problems = r.problems.len();
    let given = r.choice("auth_type", AUTH_TYPES, AUTH_TYPE_ALIASES);
    if r.problems.len() > problems {
        // An auth_type refused is reported; guessing another from the keys would mislead.
        return None;
    }
    let any = |r: &Reader<'_>, keys: &[&str]| keys.iter().any(|key| r.given(key));
    Some(match given {
        Some(t) => t,
        // OAuth with a cloud id is Cloud's; with a site and no cloud id, Data Center's.
        None if any(r, &["oauth_client_id", "refresh_token"]) => {
            if !r.given("cloud_id") && any(r, SITE) {
                AuthType::OAuth2Dc
            } else {
                AuthType::OAuth2
            }
        }
        None if any(r, &["personal_access_token"]) => AuthType::Pat,
        None if any(r, &["api_token", "email"]) => AuthType::ApiToken,
        None if any(r, &["username", "password"]) => AuthType::Basic,
        None => {
            r.problem(
                "auth_type",
                "no credentials found",
                "give email + api_token (Cloud), personal_access_token (Server/DC), username + password, \
                 or oauth_client_id + oauth_client_secret + refresh_token (+ cloud_id on Cloud)",
            );
            return None;
        }
    })
}

/// What `tap-jira authorize` needs besides Data Center's site: the client, and where the browser
/// goes back to.
pub const AUTHORIZE_NEEDS: &[&[&str]] = &[
    &["oauth_client_id"],
    &["oauth_client_secret"],
    &["oauth_redirect_uri"],
];

/// What `tap-jira authorize` needs: the OAuth client, where the person allows access, and where
/// the refresh token goes.
#[derive(Debug)]
pub struct Authorization {
    pub client: OAuthClient,
    pub authorize_url: Url,
    pub redirect_uri: Url,
    pub scopes: String,
    /// Cloud without `cloud_id`: the gateway that says which sites the token reaches.
    pub find_cloud_id: Option<Url>,
    /// Where the refresh token is written, as runs will read it.
    pub token_file: TokenFile,
    pub network: Network,
}

/// Where a refresh token is kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenFile {
    /// `oauth_token_file`.
    Own(PathBuf),
    /// The config file that holds (or will hold) `refresh_token`.
    Config(PathBuf),
}

impl TokenFile {
    pub fn path(&self) -> &Path {
        match self {
            TokenFile::Own(path) | TokenFile::Config(path) => path,
        }
    }
}

impl Authorization {
    /// Reads the OAuth settings of a config that has no refresh token yet.
    pub fn from_raw(raw: &RawConfig) -> Result<Authorization> {
        let mut r = Reader {
            raw,
            problems: Vec::new(),
        };
        let allow_http = r.boolean("allow_http").unwrap_or(false);
        let method = match choose_auth(&mut r) {
            Some(m @ (AuthType::OAuth2 | AuthType::OAuth2Dc)) => Some(m),
            Some(other) => {
                r.problem(
                    "auth_type",
                    format!("is {}, which has nothing to authorize", other.name()),
                    "tap-jira authorize is for oauth2 (Cloud) and oauth2_dc (Data Center)",
                );
                None
            }
            None => None,
        };
        let site = match method {
            Some(AuthType::OAuth2Dc) => read_site(&mut r, allow_http).map(Site::Direct),
            _ => None,
        };
        if let Some(method) = method {
            let needs = match method {
                AuthType::OAuth2Dc => [&[SITE], AUTHORIZE_NEEDS].concat(),
                _ => AUTHORIZE_NEEDS.to_vec(),
            };
            require(&mut r, &needs, "tap-jira authorize", |r, key| r.given(key));
        }
        let client = method.and_then(|m| read_oauth_client(&mut r, m, site.as_ref(), allow_http));
        let redirect_uri = read_redirect_uri(&mut r);
        let data_center = method == Some(AuthType::OAuth2Dc);
        let scopes = r.string("oauth_scopes").unwrap_or_else(|| {
            match data_center {
                true => DEFAULT_DATA_CENTER_SCOPES,
                false => DEFAULT_CLOUD_SCOPES,
            }
            .into()
        });
        let authorize_url = match (r.string("oauth_authorize_url"), &site) {
            (Some(given), _) => r
                .url("oauth_authorize_url", &given, allow_http)
                .map(endpoint),
            (None, Some(Site::Direct(root))) => root.join(DATA_CENTER_AUTHORIZE_PATH).ok(),
            (None, _) if !data_center => Url::parse(DEFAULT_OAUTH_AUTHORIZE_URL).ok(),
            (None, _) => None,
        };
        let find_cloud_id = match (data_center, r.string("cloud_id")) {
            (false, None) => {
                let gateway = r
                    .string("oauth_gateway_url")
                    .unwrap_or_else(|| DEFAULT_OAUTH_GATEWAY_URL.into());
                r.url("oauth_gateway_url", &gateway, allow_http)
            }
            _ => None,
        };
        let token_file = match r.string("oauth_token_file") {
            Some(path) => Some(TokenFile::Own(PathBuf::from(path))),
            None => ["refresh_token", "oauth_client_id"]
                .iter()
                .find_map(|key| r.raw.origin.get(*key))
                .map(|path| TokenFile::Config(path.clone())),
        };
        if token_file.is_none() && method.is_some() {
            r.problem(
                "oauth_token_file",
                "is needed: no config file to save the refresh token in",
                "give the config as a file (--config config.json), or set oauth_token_file",
            );
        }
        let network = read_network(&mut r);
        if !r.problems.is_empty() {
            return Err(Error::Config(r.problems));
        }
        match (client, authorize_url, redirect_uri, token_file) {
            (Some(client), Some(authorize_url), Some(redirect_uri), Some(token_file)) => {
                Ok(Authorization {
                    client,
                    authorize_url,
                    redirect_uri,
                    scopes,
                    find_cloud_id,
                    token_file,
                    network,
                })
            }
            _ => Err(Error::config("auth", "could not be read", "")),
        }
    }
}

/// `oauth_redirect_uri`: the callback URL registered with the OAuth client.
fn read_redirect_uri(r: &mut Reader<'_>) -> Option<Url> {
    r.string("oauth_redirect_uri").and_then(|given| {
        match Url::parse(&given) {
            Ok(url) if matches!(url.scheme(), "http" | "https") => Some(url),
            _ => {
                r.problem(
                    "oauth_redirect_uri",
                    format!("`{}` is not an http(s) URL", without_userinfo(&given)),
                    "give the callback URL registered with the app, e.g. https://localhost/callback",
                );
                None
            }
        }
    })
}

/// The credentials of the chosen method, each missing need reported.
fn read_auth(
    r: &mut Reader<'_>,
    chosen: AuthType,
    site: Option<&Site>,
    allow_http: bool,
) -> Option<Auth> {
    let email = r.string("email");
    let api_token = r.token("api_token");
    let pat = r.token("personal_access_token");
    let username = r.string("username");
    let password = r.secret("password");
    let refresh_token = r.token("refresh_token");
    let access_token = r.token("access_token");
    // A token file, once written, holds the newest refresh token: it wins over the config.
    let token_file = match chosen {
        AuthType::OAuth2 | AuthType::OAuth2Dc => r.string("oauth_token_file").map(PathBuf::from),
        _ => None,
    };
    let saved = token_file
        .as_deref()
        .and_then(|path| saved_refresh_token(r, path));
    let refresh_token = saved.or(refresh_token);
    let saved = refresh_token.is_some();
    require(r, chosen.needs(), chosen.name(), |r, key| {
        r.given(key) || (key == "refresh_token" && saved)
    });
    match chosen {
        AuthType::ApiToken => Some(Auth::ApiToken {
            email: email?,
            token: api_token?,
        }),
        AuthType::ScopedToken => Some(Auth::ScopedToken {
            email: email?,
            token: api_token?,
        }),
        AuthType::Pat => Some(Auth::Pat { token: pat? }),
        AuthType::Basic => Some(Auth::Basic {
            username: username?,
            password: password?,
        }),
        AuthType::OAuth2 | AuthType::OAuth2Dc => Some(Auth::OAuth(OAuthConfig {
            client: read_oauth_client(r, chosen, site, allow_http)?,
            refresh_token: refresh_token?,
            access_token,
            redirect_uri: match chosen {
                AuthType::OAuth2Dc => Some(read_redirect_uri(r)?.into()),
                _ => None,
            },
            refresh_token_file: token_file.map(TokenFile::Own).or_else(|| {
                let origin = r.raw.origin.get("refresh_token");
                origin.cloned().map(TokenFile::Config)
            }),
        })),
    }
}

/// The OAuth client of `method` (`oauth2` or `oauth2_dc`): its token endpoint is
/// `oauth_token_url`, else Atlassian's on Cloud and the site's own on Data Center.
fn read_oauth_client(
    r: &mut Reader<'_>,
    method: AuthType,
    site: Option<&Site>,
    allow_http: bool,
) -> Option<OAuthClient> {
    let client_id = r.string("oauth_client_id");
    let client_secret = r.token("oauth_client_secret");
    let provider = match method {
        AuthType::OAuth2Dc => OAuthProvider::DataCenter,
        _ => OAuthProvider::Atlassian,
    };
    let token_url = match (r.string("oauth_token_url"), provider, site) {
        (Some(given), _, _) => r.url("oauth_token_url", &given, allow_http).map(endpoint),
        (None, OAuthProvider::Atlassian, _) => Url::parse(DEFAULT_OAUTH_TOKEN_URL).ok(),
        (None, OAuthProvider::DataCenter, Some(Site::Direct(root))) => {
            root.join(DATA_CENTER_TOKEN_PATH).ok()
        }
        (None, OAuthProvider::DataCenter, _) => None,
    };
    Some(OAuthClient {
        provider,
        client_id: client_id?,
        client_secret: client_secret?,
        token_url: token_url?,
    })
}

/// An endpoint is a full URL, not a site root: without the slash `Reader::url` adds.
fn endpoint(mut url: Url) -> Url {
    let path = url.path().trim_end_matches('/').to_string();
    url.set_path(&path);
    url
}

/// Reports each need none of whose keys `has`, naming its first key.
fn require(
    r: &mut Reader<'_>,
    needs: &[&[&str]],
    what: &str,
    has: impl Fn(&Reader<'_>, &str) -> bool,
) {
    for need in needs {
        if !need.iter().any(|key| has(r, key)) {
            r.problem(need[0], format!("is required for {what}"), need_hint(need));
        }
    }
}

/// What to say beside a missing need: the other keys that would do, and where to find a value.
fn need_hint(need: &[&str]) -> String {
    let example = match need[0] {
        "base_url" => "e.g. https://your-site.atlassian.net or https://jira.example.com/jira",
        "cloud_id" => "find it at https://api.atlassian.com/oauth/token/accessible-resources",
        _ => "",
    };
    let others = need[1..]
        .iter()
        .map(|key| format!("`{key}`"))
        .collect::<Vec<_>>()
        .join(" or ");
    match (others.is_empty(), example.is_empty()) {
        (true, _) => example.to_string(),
        (false, true) => format!("or give {others}"),
        (false, false) => format!("{example}; or give {others}"),
    }
}

/// Atlassian's API gateway and the site's cloud id: `cloud_id` when given, else the site
/// (`base_url` or `host`) to ask it of. A missing one is reported with the method's needs.
fn read_gateway(r: &mut Reader<'_>, allow_http: bool) -> Option<Site> {
    let gateway = r
        .string("oauth_gateway_url")
        .unwrap_or_else(|| DEFAULT_OAUTH_GATEWAY_URL.into());
    let gateway = r.url("oauth_gateway_url", &gateway, allow_http);
    let cloud_id = match r.string("cloud_id") {
        Some(id) if is_cloud_id(&id) => Some(CloudId::Given(id)),
        Some(id) => {
            r.problem(
                "cloud_id",
                format!("`{id}` is not a cloud id"),
                "a cloud id is a UUID such as 5a1e7c3d-0b2f-4c6d-9e8f-1a2b3c4d5e6f, not a URL",
            );
            return None;
        }
        None => read_site(r, allow_http).map(CloudId::OfSite),
    };
    Some(Site::Gateway {
        gateway: gateway?,
        cloud_id: cloud_id?,
    })
}

/// Whether `id` can be a cloud id (a UUID on Atlassian's sites): one path segment, not a URL.
pub fn is_cloud_id(id: &str) -> bool {
    !id.trim().is_empty() && !id.contains(['/', '?', '#', '\\'])
}

/// The site's root URL: `base_url`, or `host` with `port`, `use_encrypted_endpoints` and
/// `context_path` (Azure Data Factory's way of saying the same). Neither is reported with the
/// auth method's needs.
fn read_site(r: &mut Reader<'_>, allow_http: bool) -> Option<Url> {
    let base_url = r.string("base_url");
    let host = r.string("host");
    let encrypted = r.boolean("use_encrypted_endpoints");
    let context_path = r.string("context_path");
    match (base_url, host) {
        (Some(_), Some(_)) => {
            r.problem(
                "host",
                "is given as well as base_url",
                "give one: base_url, or host with port, use_encrypted_endpoints and context_path",
            );
            None
        }
        (Some(base_url), None) => {
            for (key, given) in [
                ("port", r.given("port")),
                ("context_path", context_path.is_some()),
            ] {
                if given {
                    r.problem(
                        key,
                        "goes with host, not base_url",
                        "put it in base_url, e.g. https://jira.example.com:8443/jira",
                    );
                }
            }
            // Stitch's tap puts `https://` before a site given without a scheme, and in place of
            // `http://`: its users' configs reach an https site either way. So do we; only
            // `allow_http` means plain http.
            let base_url = match base_url.split_once("://") {
                None => format!("https://{base_url}"),
                Some((scheme, site)) if scheme.eq_ignore_ascii_case("http") && !allow_http => {
                    tracing::warn!(
                        "base_url is http://; it is reached over https://, as Stitch's tap does \
                         (set allow_http: true for plain http)"
                    );
                    format!("https://{site}")
                }
                Some(_) => base_url,
            };
            let url = r.url("base_url", &base_url, allow_http)?;
            // `true` is the default a generated config may carry beside any base_url.
            if encrypted == Some(false) && url.scheme() == "https" {
                r.problem(
                    "use_encrypted_endpoints",
                    "is false but base_url is https://",
                    "leave it out: base_url's scheme says it",
                );
            }
            Some(url)
        }
        (None, Some(host)) => {
            // Read here only: beside base_url, the port is told to go in it, whatever its value.
            let port = r.port("port");
            let encrypted = encrypted.unwrap_or(true);
            url_of_host(
                r,
                &host,
                port,
                encrypted,
                context_path.as_deref(),
                allow_http,
            )
        }
        (None, None) => {
            // Still checked: the site missing is reported with the auth method's needs.
            r.port("port");
            None
        }
    }
}

/// `https://host[:port]/context/` (or `http://`, port 8080 by default, as Azure Data Factory).
fn url_of_host(
    r: &mut Reader<'_>,
    host: &str,
    port: Option<u64>,
    encrypted: bool,
    context_path: Option<&str>,
    allow_http: bool,
) -> Option<Url> {
    let mut ok = true;
    let bracketed_ipv6 = host.starts_with('[') && host.ends_with(']');
    if host.contains("://") {
        r.problem(
            "host",
            format!("`{}` is a URL", without_userinfo(host)),
            "give the host name alone (jira.example.com), or the URL as base_url",
        );
        ok = false;
    } else if host.contains(['/', '?', '#', '@', ' ']) || (host.contains(':') && !bracketed_ipv6) {
        r.problem(
            "host",
            format!("`{}` is not a host name", without_userinfo(host)),
            "give the name alone, e.g. jira.example.com; the port goes in `port`, a path in `context_path`",
        );
        ok = false;
    }
    if let Some(path) = context_path
        && path.contains(['?', '#', ' '])
    {
        r.problem(
            "context_path",
            format!("`{path}` is not a path"),
            "e.g. /jira",
        );
        ok = false;
    }
    if !encrypted && !allow_http {
        r.problem(
            "use_encrypted_endpoints",
            "is false, which sends credentials in clear over http://",
            "set allow_http: true as well (for a test server), or leave it true",
        );
        ok = false;
    }
    if !ok {
        return None;
    }
    let (scheme, default_port) = if encrypted {
        ("https", 443)
    } else {
        ("http", 8080)
    };
    let port = port.unwrap_or(default_port);
    let path = context_path.unwrap_or("").trim_matches('/');
    r.url("host", &format!("{scheme}://{host}:{port}/{path}"), true)
}

/// The refresh token saved in `oauth_token_file` by an earlier run, if there is one.
fn saved_refresh_token(r: &mut Reader<'_>, path: &Path) -> Option<Secret> {
    if !path.exists() {
        return None;
    }
    match read_json_object(path, input::TOKEN_FILE) {
        // Trimmed like the config's, and as the refresh reads the file again.
        Ok(saved) => match saved
            .get("refresh_token")
            .and_then(Value::as_str)
            .map(str::trim)
        {
            Some(token) if !token.is_empty() => {
                // Not in the config, so not registered with it: a token endpoint that echoes
                // the request must not print it.
                crate::secret::register(token);
                Some(Secret::new(token.to_string()))
            }
            _ => {
                r.problem(
                    "oauth_token_file",
                    format!("{} has no refresh_token", path.display()),
                    "",
                );
                None
            }
        },
        Err(e) => {
            r.problem("oauth_token_file", e.to_string(), "");
            None
        }
    }
}

fn read_filters(r: &mut Reader<'_>) -> Filters {
    let mut keys = |key: &str| -> Vec<String> {
        let named: Vec<String> = match r.raw.values.get(key) {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::String(s)) => s.split(',').map(|k| k.trim().to_string()).collect(),
            // An id is a number in a list Meltano writes (`projects: [10000]`): that project.
            Some(Value::Array(items)) if items.iter().all(is_key_or_id) => items
                .iter()
                .filter_map(|k| match k {
                    Value::String(k) => Some(k.trim().to_string()),
                    Value::Number(n) => Some(n.to_string()),
                    _ => None,
                })
                .collect(),
            Some(_) => {
                r.problem(
                    key,
                    "must be project keys, as a list or comma-separated",
                    "e.g. [\"WEB\", \"OPS\"] or \"WEB, OPS\"",
                );
                Vec::new()
            }
        };
        let named: Vec<String> = named.into_iter().filter(|k| !k.is_empty()).collect();
        // JQL takes a project's name as well as its key, the project streams do not: a name
        // would narrow the issues alone.
        for text in named.iter().filter(|k| !is_project_key(k)) {
            r.problem(
                key,
                format!("`{text}` is not a project key"),
                "name projects by key (letters, digits and `_`, e.g. WEB) or by id, not by name",
            );
        }
        named.iter().map(|k| k.to_ascii_uppercase()).collect()
    };
    let projects = keys("projects");
    let exclude_projects = keys("exclude_projects");
    let mut window = |name: &str| {
        let mut bound = |end: &str| r.date(&format!("{name}_{end}"));
        let window = Window {
            after: bound("after"),
            before: bound("before"),
        };
        if let (Some(after), Some(before)) = (window.after, window.before)
            && after >= before
        {
            r.problem(
                &format!("{name}_before"),
                format!("is not after {name}_after"),
                "the window is [after, before)",
            );
        }
        window
    };
    let created = window("created");
    let updated = window("updated");
    let jql = r.string("jql");
    if jql.as_deref().is_some_and(has_order_by) {
        r.problem(
            "jql",
            "has an ORDER BY",
            "leave ordering to the tap, which reads issues in `updated` order for its bookmark",
        );
    }
    if jql.as_deref().is_some_and(|jql| !parentheses_pair(jql)) {
        r.problem(
            "jql",
            "has a parenthesis without its pair",
            "close every `(` after it: the tap ANDs the JQL, in parentheses, with its own clauses",
        );
    }
    Filters {
        projects,
        exclude_projects,
        created,
        updated,
        jql,
    }
}

/// A project as a filter list may name it: a key or id as text, or an id as a whole number.
fn is_key_or_id(item: &Value) -> bool {
    item.is_string() || item.is_u64()
}

fn read_network(r: &mut Reader<'_>) -> Network {
    // Read as Stitch's tap reads it (`float()`): fractions too, and 0 (`"0.0"`) is the default.
    let request_timeout = match r.number("request_timeout") {
        None | Some(0.0) => Duration::from_secs(DEFAULT_REQUEST_TIMEOUT_SECS),
        Some(secs) => Duration::try_from_secs_f64(secs).unwrap_or_else(|_| {
            r.problem(
                "request_timeout",
                "must be a number of seconds of 0 or more",
                "",
            );
            Duration::from_secs(DEFAULT_REQUEST_TIMEOUT_SECS)
        }),
    };
    let user_agent = r
        .string("user_agent")
        .unwrap_or_else(|| format!("tap-jira/{}", env!("CARGO_PKG_VERSION")));
    if reqwest::header::HeaderValue::from_str(&user_agent).is_err() {
        r.problem(
            "user_agent",
            "is not a valid HTTP header value",
            "use printable characters on one line",
        );
    }
    let ca_bundle = r.string("ca_bundle").map(PathBuf::from);
    if let Some(path) = &ca_bundle
        && !path.is_file()
    {
        r.problem(
            "ca_bundle",
            format!("{} is not a readable file", path.display()),
            "give the path of a PEM file",
        );
    }
    Network {
        request_timeout,
        user_agent,
        ca_bundle,
        client_certificate: read_client_certificate(r),
        proxy_url: read_proxy_url(r),
    }
}

fn read_client_certificate(r: &mut Reader<'_>) -> Option<ClientCertificate> {
    let certificate = r.string("client_certificate").map(PathBuf::from);
    let key = r.string("client_key").map(PathBuf::from);
    for (name, path) in [("client_certificate", &certificate), ("client_key", &key)] {
        if let Some(path) = path
            && !path.is_file()
        {
            r.problem(
                name,
                format!("{} is not a readable file", path.display()),
                "give the path of a PEM file",
            );
        }
    }
    if key.is_some() && certificate.is_none() {
        r.problem(
            "client_certificate",
            "is required with client_key",
            "the PEM certificate that goes with the key",
        );
    }
    Some(ClientCertificate {
        certificate: certificate?,
        key,
    })
}

/// `proxy_url`, checked as far as can be without connecting: an HTTP or HTTPS proxy's root.
fn read_proxy_url(r: &mut Reader<'_>) -> Option<Secret> {
    let proxy = r.secret("proxy_url")?;
    let shown = without_userinfo(proxy.expose());
    let problem = match Url::parse(proxy.expose()) {
        Err(e) => Some((
            format!("`{shown}` is not a URL ({e})"),
            "e.g. http://proxy.example.com:3128",
        )),
        Ok(url) => match url.scheme() {
            "http" | "https" if url.host_str().is_none_or(str::is_empty) => {
                Some(("has no host".into(), "e.g. http://proxy.example.com:3128"))
            }
            "http" | "https" if url.path() != "/" || url.query().is_some() => Some((
                format!("`{shown}` has a path"),
                "a proxy is named by its scheme, host and port alone",
            )),
            "http" | "https" => None,
            scheme if scheme.starts_with("socks") => Some((
                "is a SOCKS proxy, which tap-jira does not speak".into(),
                "use an HTTP proxy (http://host:port)",
            )),
            scheme => Some((format!("has scheme `{scheme}`"), "use http:// or https://")),
        },
    };
    match problem {
        Some((problem, hint)) => {
            r.problem("proxy_url", problem, hint);
            None
        }
        None => Some(proxy),
    }
}

fn read_groups(r: &mut Reader<'_>) -> Option<Vec<String>> {
    let groups: Vec<String> = match r.raw.values.get("groups") {
        None | Some(Value::Null) => return None,
        Some(Value::String(s)) => s.split(',').map(|g| g.trim().to_string()).collect(),
        // A name of digits is a number in a list Meltano writes (`groups: [1234]`): that group.
        Some(Value::Array(items)) => {
            let names: Option<Vec<String>> = items
                .iter()
                .map(|v| match v {
                    Value::String(s) => Some(s.trim().to_string()),
                    Value::Number(n) if n.is_u64() || n.is_i64() => Some(n.to_string()),
                    _ => None,
                })
                .collect();
            match names {
                Some(names) => names,
                None => return groups_refused(r),
            }
        }
        Some(_) => return groups_refused(r),
    };
    let groups: Vec<String> = groups.into_iter().filter(|g| !g.is_empty()).collect();
    (!groups.is_empty()).then_some(groups)
}

/// `groups` holds something other than names: reported, and no group read (never every user).
fn groups_refused(r: &mut Reader<'_>) -> Option<Vec<String>> {
    r.problem(
        "groups",
        "must be group names, as a list or comma-separated",
        "e.g. \"jira-users, jira-administrators\"",
    );
    None
}

/// A URL as typed, with any `user:password@` replaced, for messages.
fn without_userinfo(value: &str) -> String {
    let rest_at = value.find("://").map_or(0, |i| i + 3);
    // Up to the last `@`, wherever it is: a text that is not a URL has no known end of its
    // authority, and a password may hold `/`, `?` or `#`. A path's `@` hides a little more.
    match value[rest_at..].rfind('@') {
        Some(at) => format!("{}****{}", &value[..rest_at], &value[rest_at + at..]),
        None => value.to_string(),
    }
}

/// RFC 3339 with any offset, a date-time without one taken as UTC (as Stitch's tap reads it), or
/// a bare date taken as midnight UTC. Seconds may be left out, as dateutil (Stitch's reader)
/// allows.
pub fn parse_start_date(s: &str) -> Option<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.with_timezone(&Utc));
    }
    if let Some(t) = crate::timestamp::parse_jira(s) {
        return Some(t);
    }
    for format in ["%Y-%m-%dT%H:%M%#z", "%Y-%m-%d %H:%M%#z"] {
        if let Ok(t) = DateTime::parse_from_str(s, format) {
            return Some(t.with_timezone(&Utc));
        }
    }
    for format in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M",
    ] {
        if let Ok(t) = chrono::NaiveDateTime::parse_from_str(s, format) {
            return Some(t.and_utc());
        }
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn config(value: Value) -> Result<Config> {
        let Value::Object(map) = value else {
            unreachable!()
        };
        Config::from_raw(&RawConfig::from_map(map))
    }

    fn problems(value: Value) -> String {
        match config(value) {
            Err(e) => e.to_string(),
            Ok(c) => panic!("expected an error, got {c:?}"),
        }
    }

    #[test]
    fn every_setting_is_documented() {
        for s in SETTINGS {
            assert!(s.description.len() > 10, "{} has no description", s.name);
        }
    }

    /// Configs that read every setting there is: API-token auth, and OAuth (which alone reads
    /// the `oauth_*` URLs).
    fn bases() -> [Value; 2] {
        [
            json!({"base_url": "https://x.atlassian.net", "email": "a@b.c", "api_token": "t"}),
            json!({"oauth_client_id": "id", "oauth_client_secret": "s", "refresh_token": "r",
                   "cloud_id": "abc"}),
        ]
    }

    fn with(base: &Value, key: &str, value: Value) -> Value {
        let mut config = base.clone();
        config[key] = value;
        config
    }

    #[test]
    fn every_default_has_its_settings_type_and_means_what_leaving_it_out_means() {
        for s in SETTINGS {
            let Some(default) = s.default else { continue };
            let value = default.to_json();
            let typed = match s.kind {
                Kind::Integer => value.is_u64(),
                Kind::Boolean => value.is_boolean(),
                Kind::String => value.is_string(),
                Kind::DateTime => value.as_str().and_then(parse_start_date).is_some(),
                // The first word, as the parser falls back to.
                Kind::OneOf(words) => value.as_str() == words.first().copied(),
                Kind::Number => value.is_number(),
                Kind::Secret | Kind::List => false,
            };
            assert!(typed, "{}: default {value} is not a {:?}", s.name, s.kind);
            for base in bases() {
                let given = config(with(&base, s.name, value.clone())).unwrap();
                let absent = config(base).unwrap();
                assert_eq!(
                    format!("{given:?}"),
                    format!("{absent:?}"),
                    "{}: {value} is not what the tap does without it",
                    s.name
                );
            }
        }
    }

    #[test]
    fn every_word_of_a_choice_setting_is_read_and_any_other_refused() {
        // Basic auth, which leaves `deployment` alone (OAuth makes it Cloud).
        let everything = json!({"auth_type": "basic", "base_url": "https://x.atlassian.net", "email": "a@b.c",
            "api_token": "t", "personal_access_token": "p", "username": "u", "password": "pw",
            "oauth_client_id": "id", "oauth_client_secret": "s", "refresh_token": "r",
            "cloud_id": "abc", "oauth_redirect_uri": "https://localhost/callback"});
        let mut choices = 0;
        for s in SETTINGS {
            let words = s.kind.words();
            if words.is_empty() {
                continue;
            }
            choices += 1;
            let mut seen = std::collections::HashSet::new();
            for word in words {
                let c = config(with(&everything, s.name, json!(word)))
                    .unwrap_or_else(|e| panic!("{}: `{word}` refused: {e}", s.name));
                // Each word means something of its own to the tap.
                assert!(
                    seen.insert(format!("{c:?}")),
                    "{}: `{word}` changes nothing",
                    s.name
                );
                let shouted = config(with(&everything, s.name, json!(word.to_uppercase())));
                assert_eq!(format!("{:?}", shouted.unwrap()), format!("{c:?}"));
            }
            let e = problems(with(&everything, s.name, json!("sideways")));
            let line = e
                .lines()
                .find(|l| l.contains(&format!("config `{}`", s.name)));
            let line = line.unwrap_or_else(|| panic!("{}: no problem in {e}", s.name));
            assert!(line.contains("`sideways` is not known"), "{line}");
            assert!(words.iter().all(|w| line.contains(w)), "{line}");
        }
        assert_eq!(choices, 7, "deployment, auth_type and five ways of syncing");
    }

    #[test]
    fn each_auth_method_needs_exactly_the_settings_it_lists() {
        let value = |key: &str| match key {
            "base_url" => json!("https://x.atlassian.net"),
            "host" => json!("x.atlassian.net"),
            "oauth_redirect_uri" => json!("https://localhost/callback"),
            _ => json!("value-1234"),
        };
        for (word, method) in AuthType::all() {
            // Each of a need's keys will do on its own.
            for pick in 0..method.needs().iter().map(|n| n.len()).max().unwrap_or(1) {
                let mut complete = json!({"auth_type": word});
                for need in method.needs() {
                    let key = need[pick.min(need.len() - 1)];
                    complete[key] = value(key);
                }
                if let Err(e) = config(complete.clone()) {
                    panic!("{word} with {complete} only: {e}");
                }
                for need in method.needs() {
                    let mut short = complete.clone();
                    for key in *need {
                        short.as_object_mut().unwrap().remove(*key);
                    }
                    let e = problems(short);
                    let line = e
                        .lines()
                        .find(|l| l.contains(&format!("config `{}`: is required", need[0])))
                        .unwrap_or_else(|| panic!("{word} without {need:?}: {e}"));
                    for key in &need[1..] {
                        assert!(line.contains(&format!("`{key}`")), "{line}");
                    }
                }
            }
        }
    }

    #[test]
    fn host_port_and_encryption_make_the_base_url() {
        let with = |extra: Value| {
            let mut c = json!({"personal_access_token": "p", "host": "jira.example.com"});
            for (k, v) in extra.as_object().unwrap() {
                c[k] = v.clone();
            }
            config(c)
        };
        let url = |extra: Value| with(extra).unwrap().site.known_root().unwrap().to_string();
        assert_eq!(url(json!({})), "https://jira.example.com/");
        assert_eq!(
            url(json!({"port": 8443, "context_path": "/jira"})),
            "https://jira.example.com:8443/jira/"
        );
        assert_eq!(
            url(json!({"port": "443", "use_encrypted_endpoints": true})),
            "https://jira.example.com/"
        );
        assert_eq!(
            url(json!({"use_encrypted_endpoints": false, "allow_http": true})),
            "http://jira.example.com:8080/"
        );
        assert_eq!(
            url(
                json!({"use_encrypted_endpoints": "false", "allow_http": true, "port": 80,
                       "context_path": "a/b/"})
            ),
            "http://jira.example.com/a/b/"
        );
        let problem = |extra: Value, key: &str, says: &str| {
            let e = with(extra).unwrap_err().to_string();
            assert!(
                e.lines()
                    .any(|l| l.contains(&format!("config `{key}`")) && l.contains(says)),
                "{key}: {e}"
            );
        };
        problem(
            json!({"use_encrypted_endpoints": false}),
            "use_encrypted_endpoints",
            "allow_http",
        );
        problem(json!({"port": 70000}), "port", "1 to 65535");
        problem(
            json!({"host": "https://jira.example.com"}),
            "host",
            "is a URL",
        );
        problem(json!({"host": "jira.example.com:8443"}), "host", "`port`");
        problem(
            json!({"base_url": "https://jira.example.com"}),
            "host",
            "as well as base_url",
        );
        problem(
            json!({"context_path": "/jira?x"}),
            "context_path",
            "not a path",
        );
        // With base_url, the host keys have nothing to add.
        let base = |extra: Value| {
            let mut c = json!({"personal_access_token": "p", "base_url": "https://j.example.com"});
            for (k, v) in extra.as_object().unwrap() {
                c[k] = v.clone();
            }
            config(c)
        };
        assert!(base(json!({"use_encrypted_endpoints": true})).is_ok());
        for (extra, key) in [
            (json!({"port": 8443}), "port"),
            (json!({"context_path": "/jira"}), "context_path"),
            (
                json!({"use_encrypted_endpoints": false}),
                "use_encrypted_endpoints",
            ),
        ] {
            let e = base(extra).unwrap_err().to_string();
            assert!(e.contains(&format!("config `{key}`")), "{e}");
        }
    }

    #[test]
    fn infers_api_token_auth_and_normalises_the_url() {
        let c = config(
            json!({"base_url": "https://x.atlassian.net", "email": "a@b.c", "api_token": "t"}),
        )
        .unwrap();
        assert!(matches!(c.auth, Auth::ApiToken { .. }));
        assert_eq!(
            c.site.known_root().unwrap().as_str(),
            "https://x.atlassian.net/"
        );
        assert_eq!(c.network.request_timeout, Duration::from_secs(300));
    }

    #[test]
    fn keeps_a_server_context_path_and_port() {
        let c = config(
            json!({"base_url": "https://jira.example.com:8443/jira", "personal_access_token": "p"}),
        )
        .unwrap();
        assert_eq!(
            c.site.known_root().unwrap().as_str(),
            "https://jira.example.com:8443/jira/"
        );
        assert!(matches!(c.auth, Auth::Pat { .. }));
    }

    #[test]
    fn reads_start_dates_without_seconds() {
        let at = |s: &str| parse_start_date(s).map(|t| t.to_rfc3339());
        let utc = Some("2024-05-01T10:30:00+00:00".to_string());
        for s in ["2024-05-01T10:30", "2024-05-01 10:30", "2024-05-01T10:30Z"] {
            assert_eq!(at(s), utc, "{s}");
        }
        assert_eq!(at("2024-05-01T12:30+02:00"), utc);
    }

    #[test]
    fn sends_nothing_over_http_unless_allowed() {
        // Stitch's tap reached an http:// base_url over https, and so do we.
        let c = config(json!({"base_url": "http://x.example", "username": "u", "password": "p"}));
        assert_eq!(
            c.unwrap().site.known_root().unwrap().as_str(),
            "https://x.example/"
        );
        let c = config(
            json!({"base_url": "http://x.example", "username": "u", "password": "p", "allow_http": true}),
        );
        assert_eq!(
            c.unwrap().site.known_root().unwrap().as_str(),
            "http://x.example/"
        );
        let e = problems(
            json!({"host": "x.example", "use_encrypted_endpoints": false, "username": "u", "password": "p"}),
        );
        assert!(e.contains("allow_http"), "{e}");
    }

    #[test]
    fn reports_every_problem_on_its_own_line() {
        let e = problems(json!({"email": "a@b.c", "page_size": 0, "start_date": "yesterday"}));
        assert!(e.contains("config `api_token`: is required"), "{e}");
        assert!(e.contains("config `base_url`: is required"), "{e}");
        assert!(e.contains("config `page_size`"), "{e}");
        assert!(e.contains("config `start_date`"), "{e}");
        assert!(e.lines().count() >= 4);
    }

    #[test]
    fn stitch_config_keys_work() {
        let c = config(json!({"base_url": "https://x.atlassian.net", "username": "a@b.c", "password": "token",
            "start_date": "2024-01-01T00:00:00Z", "request_timeout": "", "user_agent": "me", "groups": "a, b"}))
        .unwrap();
        assert!(matches!(c.auth, Auth::Basic { .. }));
        assert_eq!(c.groups, Some(vec!["a".to_string(), "b".to_string()]));
        assert_eq!(c.network.user_agent, "me");
    }

    #[test]
    fn oauth_goes_through_the_gateway() {
        let c = config(
            json!({"oauth_client_id": "id", "oauth_client_secret": "s", "refresh_token": "r",
            "cloud_id": "abc", "start_date": "2024-01-01"}),
        )
        .unwrap();
        assert_eq!(
            c.site.known_root().unwrap().as_str(),
            "https://api.atlassian.com/ex/jira/abc/"
        );
        assert_eq!(c.deployment, Some(Deployment::Cloud));
        let e = problems(
            json!({"oauth_client_id": "id", "oauth_client_secret": "s", "refresh_token": "r"}),
        );
        assert!(e.contains("cloud_id"), "{e}");
        let gateway = Url::parse("https://proxy.example.com/atlassian/").unwrap();
        assert_eq!(
            gateway_root(&gateway, "abc").unwrap().as_str(),
            "https://proxy.example.com/atlassian/ex/jira/abc/"
        );
        let e = problems(
            json!({"auth_type": "scoped_token", "email": "a@b.c", "api_token": "t",
                   "cloud_id": "https://x.atlassian.net"}),
        );
        assert!(
            e.contains("config `cloud_id`: `https://x.atlassian.net` is not a cloud id"),
            "{e}"
        );
    }

    #[test]
    fn urls_in_messages_lose_their_credentials() {
        let e = problems(
            json!({"base_url": "https://bob:hunter2@jira example.com/x", "personal_access_token": "p"}),
        );
        assert!(
            !e.contains("hunter2") && e.contains("https://****@jira example.com/x"),
            "{e}"
        );
        for (given, shown) in [
            ("https://jira.example.com/a", "https://jira.example.com/a"),
            ("http://user:SECRET/PW@host:1x", "http://****@host:1x"),
            ("https://u:SECRET#PW@host/x@y", "https://****@y"),
            ("u:SECRET?PW@host", "****@host"),
        ] {
            assert_eq!(without_userinfo(given), shown);
        }
        let raw = RawConfig::from_map(
            json!({"api_token": "SECRET-1"})
                .as_object()
                .unwrap()
                .clone(),
        );
        assert_eq!(format!("{raw:?}"), r#"{"api_token"}"#);
    }

    #[test]
    fn secrets_stay_out_of_debug_output() {
        let c = config(json!({"base_url": "https://x.atlassian.net", "email": "a@b.c", "api_token": "SECRET-123"})).unwrap();
        assert!(!format!("{c:?}").contains("SECRET-123"));
    }

    #[test]
    fn an_order_by_in_jql_is_found_outside_quotes_with_any_whitespace() {
        let [base, _] = bases();
        for ordered in [
            "project = WEB ORDER BY key",
            "project = WEB order by key",
            "project = WEB ORDER  BY key",
            "project = WEB ORDER\nBY key",
            "project = WEB\tOrder\r\n\tby key",
            "ORDER BY created",
            "summary ~ \"order by\" ORDER BY key",
            "summary ~ 'it\\'s' order by key",
            "project = WEB ORDER BY",
        ] {
            let e = problems(with(&base, "jql", json!(ordered)));
            assert!(e.contains("ORDER BY"), "{ordered:?}: {e}");
        }
        for valid in [
            "summary ~ \"order by\"",
            "summary ~ 'ORDER  BY'",
            "summary ~ \"say \\\"order by\\\" twice\"",
            "summary ~ 'it\\'s order by'",
            "labels = reorder AND labels = by",
            "labels = order_by",
            "\"Order by\" = x",
        ] {
            let c = config(with(&base, "jql", json!(valid)));
            assert!(c.is_ok(), "{valid:?}: {c:?}");
        }
    }

    /// The tap puts `jql` in parentheses before ANDing its own clauses: a `)` that closes them
    /// early leaves an `OR` outside, where the project, date and `updated >=` clauses bind to its
    /// last part only (and Jira's check, of the parenthesised text, passes).
    #[test]
    fn jql_whose_parentheses_do_not_pair_is_refused() {
        let [base, _] = bases();
        for unpaired in [
            "labels = a) OR (labels = b",
            "labels = a) OR labels = b",
            "(labels = a",
            "labels = a)",
            "status in (Done",
        ] {
            let e = problems(with(&base, "jql", json!(unpaired)));
            assert!(e.contains("config `jql`"), "{unpaired:?}: {e}");
        }
        for valid in [
            "(labels = a OR labels = b) AND status in (Done, \"In Progress\")",
            "summary ~ \"a)\" OR summary ~ 'b('",
            "summary ~ \"say \\\")\\\" twice\"",
        ] {
            let c = config(with(&base, "jql", json!(valid)));
            assert!(c.is_ok(), "{valid:?}: {c:?}");
        }
    }
}
