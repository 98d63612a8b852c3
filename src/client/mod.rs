//! The Jira HTTP client: one place that sends requests, applies credentials, retries, slows the
//! whole tap down on 429, and turns Jira's answers into JSON or a clear error.

mod auth;
mod body;
mod known;
mod limits;
mod page_reader;
mod pages;
mod record;
mod retry;
mod split;
mod transport;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::Utc;
use rand::RngExt;
use reqwest::header::{CONTENT_TYPE, HeaderMap, LOCATION};
use serde_json::Value;
use url::Url;

pub use auth::{
    AccessibleSite, Tokens, accessible_sites, check_token_file_writable, exchange_code,
    finish_refreshes, save_keys, save_refresh_token,
};
pub use page_reader::{PageReader, SplitBody};
pub use pages::{
    List, Page, PageSize, Pagination, Progress, fingerprint, pages, read_page, read_page_kept,
    split_page, split_page_with_serde, split_record, warn_moved,
};
pub use record::{RawRecord, Scanned};
pub use retry::{Decision, Outcome, RetryPolicy};
pub use transport::{PROXY_VARIABLES, http_client, proxy_url};

use crate::catalog::TextForm;
use crate::config::{CloudId, Config, Deployment, RichText, Site, gateway_root, is_cloud_id};
use crate::error::{Error, Result};
use crate::raw::Opening;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Get,
    Post,
}

/// One request, relative to the site root; pagination adds its parameters to the query (GET) or
/// to the JSON body (POST).
#[derive(Debug, Clone)]
pub struct ApiRequest {
    pub method: Method,
    pub path: String,
    pub query: Vec<(String, String)>,
    pub body: Option<Value>,
    /// Sent without credentials: for what the site tells anyone (`/_edge/tenant_info`).
    pub anonymous: bool,
    /// For a page: its records taken apart while they are checked, with these objects opened
    /// (`RawRecord::take_scanned`), so that they need not be read again.
    pub taking_apart: Option<Arc<[Opening]>>,
}

impl ApiRequest {
    pub fn get(path: impl Into<String>) -> Self {
        ApiRequest {
            method: Method::Get,
            path: path.into(),
            query: Vec::new(),
            body: None,
            anonymous: false,
            taking_apart: None,
        }
    }

    pub fn post(path: impl Into<String>, body: Value) -> Self {
        ApiRequest {
            method: Method::Post,
            path: path.into(),
            query: Vec::new(),
            body: Some(body),
            anonymous: false,
            taking_apart: None,
        }
    }

    /// Without credentials: they are not needed, so they do not travel.
    pub fn anonymous(mut self) -> Self {
        self.anonymous = true;
        self
    }

    /// A page whose records are taken apart as they are checked, with `opening`'s objects.
    pub fn taking_apart(mut self, opening: Arc<[Opening]>) -> Self {
        self.taking_apart = Some(opening);
        self
    }

    /// `taking_apart` at the records' top level only.
    pub fn taking_records_apart(self) -> Self {
        self.taking_apart(Arc::new([]))
    }

    pub fn query(mut self, key: &str, value: impl Into<String>) -> Self {
        self.query.push((key.into(), value.into()));
        self
    }

    /// Sets a parameter, replacing an earlier value: in the body for POST, in the query for GET.
    pub fn set_param(&mut self, key: &str, value: Value) {
        match &mut self.body {
            Some(Value::Object(body)) => {
                body.insert(key.into(), value);
            }
            _ => {
                let text = match value {
                    Value::String(s) => s,
                    other => other.to_string(),
                };
                self.query.retain(|(k, _)| k != key);
                self.query.push((key.into(), text));
            }
        }
    }

    /// How requests are counted: method and path, without the query, with ids and issue keys
    /// folded to `{id}` so that per-issue endpoints count as one.
    fn label(&self) -> String {
        let method = match self.method {
            Method::Get => "GET",
            Method::Post => "POST",
        };
        let segments: Vec<&str> = self.path.split('/').collect();
        let path: Vec<&str> = segments
            .iter()
            .enumerate()
            .map(|(i, &segment)| {
                // The number after `api/` is the API version.
                let version = i > 0 && segments[i - 1] == "api";
                if !version && is_identifier(segment) {
                    "{id}"
                } else {
                    segment
                }
            })
            .collect();
        format!("{method} /{}", path.join("/"))
    }
}

/// A path segment that names one record: a number, or an issue key such as `WEB-12`.
fn is_identifier(segment: &str) -> bool {
    let number = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    match segment.rsplit_once('-') {
        Some((project, n)) => {
            number(n)
                && project.starts_with(|c: char| c.is_ascii_uppercase())
                && project
                    .bytes()
                    .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
        }
        // Custom field ids (`customfield_10020`) name one field of many, like an issue key.
        None => number(segment) || segment.strip_prefix("customfield_").is_some_and(number),
    }
}

/// Requests and time spent, per endpoint, for the summary at the end of a run.
#[derive(Debug, Default, Clone)]
pub struct EndpointStats {
    pub requests: u64,
    pub retries: u64,
    pub total_time: Duration,
}

pub struct JiraClient {
    http: reqwest::Client,
    base: Url,
    /// Shared with each request's task, which adds the credentials once it has its slot.
    auth: Arc<auth::Authenticator>,
    policy: RetryPolicy,
    deployment: Deployment,
    /// False until the config or /serverInfo said which deployment this is.
    deployment_known: bool,
    /// The site's version (major, minor) from /serverInfo's `versionNumbers`, when it was asked:
    /// not when the config sets `deployment`.
    version: Option<(u64, u64)>,
    /// Config `rich_text`: on Cloud, `wiki` reads through REST v2.
    rich_text: RichText,
    /// The account the tap runs as (`/myself`): proves the base URL and credentials, and gives the
    /// time zone JQL dates are read in.
    myself: Value,
    /// The request budget, and the pauses Jira asked for.
    limits: Arc<limits::Limits>,
    /// `max_response_mb`, in bytes: no body is read past it.
    max_response_bytes: u64,
    stats: Mutex<BTreeMap<String, EndpointStats>>,
    /// Endpoints (as `ApiRequest::label` names them) Atlassian's gateway refused for the token's
    /// scopes, with its words: a grant covers every object or none, so they are not asked again.
    scope_refused: Mutex<BTreeMap<String, String>>,
    /// Whether the site has answered any request yet (see `transport`).
    answered: AtomicBool,
    /// Set once `/myself` answered: the credentials work, so a later login page is a hiccup,
    /// not a refusal.
    proven: AtomicBool,
}

impl JiraClient {
    /// Builds the client and learns the deployment (from config, or from /serverInfo), before the
    /// credentials are proven: `/myself` (`ask_myself`, then `proved`) comes next, and other
    /// requests beside it only where `may_ask_before_proven` says so.
    pub async fn open(config: &Config) -> Result<JiraClient> {
        let mut client = JiraClient::new(config, config.deployment.unwrap_or(Deployment::Cloud))?;
        if let Site::Gateway {
            gateway,
            cloud_id: CloudId::OfSite(_),
        } = &config.site
        {
            let cloud_id = client.tenant_cloud_id().await?;
            client.base = gateway_root(gateway, &cloud_id).ok_or_else(|| {
                Error::config("oauth_gateway_url", "cannot hold a cloud id path", "")
            })?;
        }
        tracing::info!(base_url = %client.base, auth = client.auth.method_name(), "connecting to Jira");
        client.deployment_known = config.deployment.is_some();
        match config.deployment {
            Some(deployment) => tracing::info!(?deployment, "deployment set in config"),
            // Atlassian's own domains hold Cloud sites only: no need to ask.
            None if is_cloud_address(&client.base) => {
                client.deployment = Deployment::Cloud;
                client.deployment_known = true;
                tracing::info!(deployment = ?client.deployment, "deployment read from the site's address");
            }
            None => {
                // The first request of a site whose deployment is not set: a 404 here is a
                // base_url whose context path is wrong, as on `/myself`.
                let info = match client
                    .send_json(ApiRequest::get("rest/api/2/serverInfo"))
                    .await
                {
                    Err(Error::Http {
                        status: 404, url, ..
                    }) => {
                        return Err(Error::config(
                            "base_url",
                            format!("{url} does not exist"),
                            "check base_url: a Server/Data Center site may have a context path \
                             (https://jira.example.com/jira), which base_url must include",
                        ));
                    }
                    info => info?,
                };
                client.deployment = detect_deployment(&info);
                client.deployment_known = true;
                client.version = version_numbers(&info);
                let version = info.get("version").and_then(Value::as_str).unwrap_or("?");
                tracing::info!(deployment = ?client.deployment, version, "detected the Jira deployment from /serverInfo");
            }
        }
        Ok(client)
    }

    /// `/myself`: the account the tap runs as, and the proof that the base URL and credentials
    /// work (/serverInfo answers anyone).
    pub async fn ask_myself(&self) -> Result<Value> {
        let myself = ApiRequest::get(self.api_path("myself"));
        match self.send_json(myself).await {
            Ok(myself) => Ok(myself),
            Err(Error::Http {
                status: 404, url, ..
            }) => Err(Error::config(
                "base_url",
                format!("{url} does not exist"),
                "check base_url (a Server/Data Center context path such as /jira) and `deployment` \
                 (Cloud speaks REST v3, Server/Data Center REST v2)",
            )),
            // The gateway's 401 for the token's scopes (`read:jira-user`): not the account's
            // access to check, but the grant to widen, which the refusal says how.
            Err(Error::ScopeRefused { url, excerpt }) => Err(Error::Auth {
                method: self.auth.method_name(),
                endpoint: Url::parse(&url).map_or(url, |u| u.path().to_string()),
                status: 401,
                hint: excerpt,
            }),
            // /myself needs only a login: a 403 is these credentials refused the API, and says
            // what to change with Jira's own words beside it.
            Err(Error::Http {
                status: 403,
                url,
                excerpt,
            }) => {
                let deployment = self.deployment_known.then_some(self.deployment);
                let hint = self.auth.forbidden_hint(deployment);
                Err(Error::Auth {
                    method: self.auth.method_name(),
                    endpoint: Url::parse(&url).map_or(url, |u| u.path().to_string()),
                    status: 403,
                    hint: match excerpt.trim() {
                        "" => hint.into(),
                        said => format!("Jira says \"{said}\"; {hint}"),
                    },
                })
            }
            Err(e) => Err(e),
        }
    }

    /// Keeps `/myself`'s answer: the credentials work, so a later login page is a hiccup.
    pub fn proved(&mut self, myself: Value) {
        self.myself = myself;
        self.proven.store(true, Ordering::Relaxed);
    }

    /// Whether other requests may go out beside `/myself`, before it has proven the credentials:
    /// not with a password on Server/Data Center, where each refused request counts as a failed
    /// login and a few of them lock the account behind a CAPTCHA. Tokens (Cloud's API tokens,
    /// personal access tokens, OAuth) are refused without counting against anyone.
    pub fn may_ask_before_proven(&self) -> bool {
        !self.auth.counts_failed_logins(self.deployment)
    }

    /// The site's cloud id, from `/_edge/tenant_info` (which answers without credentials, so
    /// none are sent: a scoped token is of no use to the site itself).
    async fn tenant_cloud_id(&self) -> Result<String> {
        let tenant = match self
            .send_json(ApiRequest::get("_edge/tenant_info").anonymous())
            .await
        {
            Ok(tenant) => tenant,
            Err(Error::Http { status, url, .. }) => {
                return Err(no_cloud_id(&url, &format!("HTTP {status}")));
            }
            Err(Error::NotJson { url, .. }) => return Err(no_cloud_id(&url, "not JSON")),
            Err(e) => return Err(e),
        };
        let url = display_url(
            &self
                .base
                .join("_edge/tenant_info")
                .unwrap_or(self.base.clone()),
        );
        match tenant.get("cloudId").and_then(Value::as_str) {
            Some(id) if is_cloud_id(id) => {
                tracing::info!(cloud_id = id, "read the site's cloud id from {url}");
                Ok(id.to_string())
            }
            _ => Err(no_cloud_id(&url, "no cloudId in the answer")),
        }
    }

    fn new(config: &Config, deployment: Deployment) -> Result<JiraClient> {
        // Before the cloud id is known, requests go to the site to ask for it.
        let base = match &config.site {
            Site::Gateway {
                cloud_id: CloudId::OfSite(site),
                ..
            } => Some(site.clone()),
            site => site.known_root(),
        };
        let base = base.ok_or_else(|| Error::config("cloud_id", "cannot be put in a URL", ""))?;
        let http = transport::http_client(&config.network, &base)?;
        Ok(JiraClient {
            http,
            base,
            auth: Arc::new(auth::Authenticator::new(
                config.auth.clone(),
                config.retry_budget,
            )),
            policy: RetryPolicy::new(config.max_retries, config.retry_budget),
            deployment,
            deployment_known: false,
            version: None,
            rich_text: config.rich_text,
            myself: Value::Null,
            limits: Arc::new(limits::Limits::new(
                config.max_concurrency,
                config.max_requests_per_second,
            )),
            max_response_bytes: config.max_response_bytes,
            stats: Mutex::new(BTreeMap::new()),
            scope_refused: Mutex::new(BTreeMap::new()),
            answered: AtomicBool::new(false),
            proven: AtomicBool::new(false),
        })
    }

    pub fn deployment(&self) -> Deployment {
        self.deployment
    }

    /// The site's version (major, minor), when /serverInfo was read (see `open`).
    pub fn version(&self) -> Option<(u64, u64)> {
        self.version
    }

    /// `/myself`, as read when connecting.
    pub fn myself(&self) -> &Value {
        &self.myself
    }

    /// `rest/api/{2|3}/{path}`: v3 on Cloud, v2 on Server/DC and on Cloud when rich text is read
    /// as wiki markup (v2 and v3 differ in nothing else).
    pub fn api_path(&self, path: &str) -> String {
        let version = match self.text_form() {
            TextForm::Wiki => 2,
            TextForm::Adf => self.deployment.api_version(),
        };
        format!("rest/api/{version}/{path}")
    }

    /// What rich text the site sends this client.
    pub fn text_form(&self) -> TextForm {
        TextForm::of(self.deployment, self.rich_text)
    }

    /// The most requests that were in flight at once in this run.
    pub fn mean_in_flight(&self) -> f64 {
        self.limits.mean_in_flight()
    }

    pub fn peak_in_flight(&self) -> usize {
        self.limits.peak_in_flight()
    }

    pub fn stats(&self) -> BTreeMap<String, EndpointStats> {
        self.stats.lock().map(|s| s.clone()).unwrap_or_default()
    }

    /// Sends the request until it succeeds or the retry policy gives up.
    pub async fn send_json(&self, request: ApiRequest) -> Result<Value> {
        self.send_with(request, |body| serde_json::from_str(body))
            .await
    }

    /// Sends `request` like `send_json`, reading the body with `parse`; a body it refuses counts
    /// as a broken response, retried like one.
    pub async fn send_with<T>(
        &self,
        request: ApiRequest,
        parse: impl Fn(&str) -> serde_json::Result<T>,
    ) -> Result<T> {
        self.send_reading(request, None, |received| parse(received.text()?))
            .await
    }

    /// Sends `request` for a page whose records sit under `items` (see `PageReader::new`): the
    /// body is split into records as it arrives, and `parse` given the parts, or the whole text
    /// when the body is not one `PageReader` follows.
    pub async fn send_page<T>(
        &self,
        request: ApiRequest,
        items: Option<&'static str>,
        parse: impl Fn(Received<'_>) -> serde_json::Result<T>,
    ) -> Result<T> {
        self.send_reading(request, Some(items), parse).await
    }

    async fn send_reading<T>(
        &self,
        request: ApiRequest,
        page: Option<Option<&'static str>>,
        parse: impl Fn(Received<'_>) -> serde_json::Result<T>,
    ) -> Result<T> {
        let url = self.url(&request)?;
        let label = request.label();
        if let Some(excerpt) = self.refused_for_scope(&label) {
            return Err(Error::ScopeRefused {
                url: display_url(&url),
                excerpt,
            });
        }
        let started = Instant::now();
        // Retries that count against `max_retries`: a wait Jira asked for with `Retry-After` is
        // flow control, bounded by the retry budget alone.
        let mut retries = 0u32;
        let mut attempts = 1u32;
        let mut refreshed = false;
        let mut last_invalid: Option<String> = None;
        loop {
            let attempt_started = Instant::now();
            let mut status = None;
            let result = self
                .attempt(&request, &url, &label, page, &parse, &mut status)
                .await;
            let failed = !matches!(result, Ok(_) | Err(Failure::Fatal(_)));
            let elapsed = attempt_started.elapsed();
            self.record(&label, elapsed, failed);
            crate::metrics::request_timed(&label, elapsed, status, result.is_ok());
            let outcome = match result {
                Ok(value) => return Ok(value),
                Err(Failure::Fatal(e)) => {
                    self.remember_scope_refusal(&label, &e);
                    return Err(e);
                }
                Err(Failure::Unauthorized(generation)) => {
                    if !refreshed && self.auth.recover_from_401(&self.http, generation).await? {
                        refreshed = true;
                        continue;
                    }
                    return Err(self.auth_error(&url, 401));
                }
                Err(Failure::Transient(outcome)) => outcome,
            };
            // A whole body that is not valid JSON twice in the same way is what the server holds,
            // not a transfer that broke: retrying cannot help. (Bodies cut off twice are retried.)
            if let Outcome::InvalidBody(text) = &outcome {
                if last_invalid.as_ref() == Some(text) {
                    return Err(Error::GaveUp {
                        url: display_url(&url),
                        attempts,
                        reason: format!("the same invalid body twice: {text}"),
                    });
                }
                last_invalid = Some(text.clone());
            }
            if let Outcome::Connection(text) = &outcome
                && let Some((problem, hint)) =
                    transport::final_failure(text, self.answered.load(Ordering::Relaxed))
            {
                return Err(Error::Unreachable {
                    url: display_url(&url),
                    problem,
                    hint,
                });
            }
            let jitter = rand::rng().random::<f64>();
            match self
                .policy
                .decide(retries, &outcome, started.elapsed(), jitter)
            {
                Decision::Retry {
                    after,
                    reason,
                    counted,
                } => {
                    tracing::warn!(endpoint = %label, retry_in_ms = after.as_millis() as u64, "{reason}; retrying");
                    // Jira's "slow down" holds every request it covers, not only the one told.
                    if let Outcome::Status {
                        status: 429 | 503,
                        burst,
                        ..
                    } = outcome
                    {
                        let scope = burst.then_some(label.as_str());
                        self.limits
                            .pause(scope, tokio::time::Instant::now() + after);
                    } else {
                        tokio::time::sleep(after).await;
                    }
                    if counted {
                        retries += 1;
                    }
                    attempts += 1;
                }
                Decision::GiveUp { reason } => {
                    return Err(Error::GaveUp {
                        url: display_url(&url),
                        attempts,
                        reason,
                    });
                }
            }
        }
    }

    async fn attempt<T>(
        &self,
        request: &ApiRequest,
        url: &Url,
        label: &str,
        page: Option<Option<&'static str>>,
        parse: &impl Fn(Received<'_>) -> serde_json::Result<T>,
        status_seen: &mut Option<u16>,
    ) -> Result<T, Failure> {
        let builder = match request.method {
            Method::Get => self.http.get(url.clone()),
            Method::Post => self.http.post(url.clone()),
        };
        let builder = if request.query.is_empty() {
            builder
        } else {
            builder.query(&request.query)
        };
        let builder = match &request.body {
            Some(body) => builder.json(body),
            None => builder,
        };
        let credentials = (!request.anonymous).then(|| (Arc::clone(&self.auth), self.http.clone()));
        let exchange = Exchange(tokio::spawn(exchange(
            Arc::clone(&self.limits),
            credentials,
            label.to_string(),
            builder,
            self.max_response_bytes,
            page.map(|key| PageReader::new(key).taking_apart(request.taking_apart.clone())),
        )));
        let (status, headers, body, generation) = exchange.await?;
        *status_seen = Some(status);
        self.answered.store(true, Ordering::Relaxed);
        // Server/DC after too many failed logins: a CAPTCHA only a browser login lifts.
        if let Some(reason) = headers
            .get("X-Authentication-Denied-Reason")
            .and_then(|v| v.to_str().ok())
            .filter(|v| v.to_ascii_uppercase().contains("CAPTCHA"))
        {
            return Err(Failure::Fatal(self.captcha_error(url, status, reason)));
        }
        if status == 401 {
            // Atlassian's gateway refuses a token the scope one endpoint needs (the audit log,
            // admin lists) with a 401 of its own; the token is good for the rest of the API. No
            // refresh changes a grant: it is a refusal of this endpoint, as Jira's 403 is.
            let body = body.into_whole();
            let excerpt = error_excerpt(&body);
            if excerpt.contains(SCOPE_REFUSAL) {
                return Err(Failure::Fatal(Error::ScopeRefused {
                    url: display_url(url),
                    excerpt: format!(
                        "{excerpt} (Atlassian's gateway: the token was not granted \
                         the scope this endpoint needs; with OAuth 2.0, add it to oauth_scopes \
                         and run `tap-jira authorize` again)"
                    ),
                }));
            }
            return Err(Failure::Unauthorized(generation));
        }
        if (200..300).contains(&status) {
            self.auth.accepted(generation);
        }
        if status == 407 {
            return Err(Failure::Fatal(Error::Unreachable {
                url: display_url(url),
                problem: "the proxy asks for credentials (HTTP 407)",
                hint: "put them in proxy_url (http://user:password@proxy:3128) or HTTP_PROXY / HTTPS_PROXY",
            }));
        }
        let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
        let content_type = header(CONTENT_TYPE.as_str())
            .unwrap_or("")
            .to_ascii_lowercase();
        // A login page (200, HTML) after these credentials were already accepted is Server/DC
        // dropping a session now and then, not a refusal: retried like any transient failure.
        let proven = self.proven.load(Ordering::Relaxed);
        if proven && status == 200 && !content_type.contains("json") {
            return Err(Failure::Transient(Outcome::BrokenBody(format!(
                "a login page ({}) instead of JSON, though the credentials were accepted before",
                if content_type.is_empty() {
                    "no content type"
                } else {
                    &content_type
                }
            ))));
        }
        // Server/DC after too many failed logins: every request is refused with this header.
        if header("X-Seraph-LoginReason").is_some_and(|v| v.contains("AUTHENTICATION_DENIED")) {
            return Err(Failure::Fatal(self.auth_error(url, status)));
        }
        if retry::is_transient_status(status) {
            let retry_after =
                header("Retry-After").and_then(|v| retry::parse_retry_after(v, Utc::now()));
            let burst = header("RateLimit-Reason").is_some_and(is_burst);
            return Err(Failure::Transient(Outcome::Status {
                status,
                retry_after,
                burst,
            }));
        }
        if (300..400).contains(&status) {
            let location = headers
                .get(LOCATION)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| url.join(v).ok())
                .map_or_else(|| "elsewhere".to_string(), |to| display_url(&to));
            return Err(Failure::Fatal(Error::Http {
                status,
                url: display_url(url),
                excerpt: format!(
                    "redirected to {location}; set base_url to the address Jira answers on \
                     (redirects are not followed, so credentials never travel to another host)"
                ),
            }));
        }
        if !(200..300).contains(&status) {
            return Err(Failure::Fatal(Error::Http {
                status,
                url: display_url(url),
                excerpt: error_excerpt(&body.into_whole()),
            }));
        }
        if !content_type.contains("json") {
            return Err(Failure::Fatal(Error::NotJson {
                url: display_url(url),
                content_type: if content_type.is_empty() {
                    "no content type".into()
                } else {
                    content_type
                },
                hint: "Server/Data Center answers a login page like this when the credentials are refused \
                       or the base_url (context path) is wrong: check both",
            }));
        }
        let invalid = |e| Failure::Transient(Outcome::InvalidBody(format!("invalid JSON: {e}")));
        let body = match body {
            Body::Page(reader) => match reader.finish() {
                Ok(split) => return parse(Received::Split(split)).map_err(invalid),
                Err(whole) => bytes::Bytes::from(whole),
            },
            Body::Whole(body) => body,
        };
        let text = std::str::from_utf8(&body).map_err(|e| {
            Failure::Transient(Outcome::InvalidBody(format!(
                "invalid JSON: not UTF-8 at byte {}",
                e.valid_up_to()
            )))
        })?;
        // Strict JSON readers refuse a lone surrogate escape: read again with U+FFFD in its place.
        parse(Received::Text(text)).or_else(|e| match crate::surrogates::replaced(text) {
            Some(fixed) => parse(Received::Text(&fixed)).map_err(invalid),
            None => Err(invalid(e)),
        })
    }

    /// Jira Server/DC demands a CAPTCHA (`X-Authentication-Denied-Reason: CAPTCHA_CHALLENGE;
    /// login-url=…`): no request lifts it, so the error says where to log in.
    fn captcha_error(&self, url: &Url, status: u16, reason: &str) -> Error {
        let login = reason
            .split(';')
            .find_map(|part| part.trim().strip_prefix("login-url="))
            .map(str::trim)
            .filter(|login| !login.is_empty());
        let at = login.map_or_else(String::new, |login| format!(" at {login}"));
        Error::Auth {
            method: self.auth.method_name(),
            endpoint: url.path().to_string(),
            status,
            hint: format!(
                "Jira demands a CAPTCHA after repeated failed logins of this account: log in once \
                 in a browser{at} and answer it, then run the tap again (a personal_access_token \
                 is never locked out this way)"
            ),
        }
    }

    fn auth_error(&self, url: &Url, status: u16) -> Error {
        let deployment = self.deployment_known.then_some(self.deployment);
        Error::Auth {
            method: self.auth.method_name(),
            endpoint: url.path().to_string(),
            status,
            hint: self.auth.refusal_hint(deployment).into(),
        }
    }

    fn url(&self, request: &ApiRequest) -> Result<Url> {
        self.base.join(&request.path).map_err(|e| Error::Shape {
            url: request.path.clone(),
            problem: format!("cannot build a URL: {e}"),
        })
    }

    /// What the gateway said when it refused `label` for the token's scopes earlier this run.
    fn refused_for_scope(&self, label: &str) -> Option<String> {
        self.scope_refused.lock().ok()?.get(label).cloned()
    }

    /// Keeps a refusal for the token's scopes, saying once that the endpoint is not asked again:
    /// a token without `read:comment:jira` would otherwise be refused once for every issue.
    fn remember_scope_refusal(&self, label: &str, e: &Error) {
        let Error::ScopeRefused { excerpt, .. } = e else {
            return;
        };
        let Ok(mut refused) = self.scope_refused.lock() else {
            return;
        };
        if refused.insert(label.to_string(), excerpt.clone()).is_none() {
            tracing::warn!(
                endpoint = label,
                "refused for the token's scopes; not asked again this run: {excerpt}"
            );
        }
    }

    fn record(&self, label: &str, elapsed: Duration, failed: bool) {
        if let Ok(mut stats) = self.stats.lock() {
            let entry = stats.entry(label.to_string()).or_default();
            entry.requests += 1;
            entry.retries += u64::from(failed);
            entry.total_time += elapsed;
        }
    }
}

/// What came back for one request: status, headers, the body, and the OAuth generation of the
/// credentials sent (0 for none).
type Answer = (u16, HeaderMap, Body, u64);

/// A body as an exchange read it: whole, or split into records as it arrived.
enum Body {
    Whole(bytes::Bytes),
    /// Boxed: a reader is much larger than a body's handle.
    Page(Box<PageReader>),
}

impl Body {
    fn into_whole(self) -> bytes::Bytes {
        match self {
            Body::Whole(body) => body,
            Body::Page(reader) => reader.into_body().into(),
        }
    }
}

/// A successful body as `parse` gets it.
pub enum Received<'a> {
    Text(&'a str),
    /// Split as it arrived (only when asked for with `send_page`).
    Split(SplitBody),
}

impl<'a> Received<'a> {
    /// The body's text; a body already split has none, and is refused.
    fn text(self) -> serde_json::Result<&'a str> {
        match self {
            Received::Text(text) => Ok(text),
            Received::Split(_) => Err(serde::de::Error::custom(
                "the body was split into records where its text was needed",
            )),
        }
    }
}

/// One request sent and its whole body read, on the runtime's workers: the request's slot is
/// given back as soon as the body is in, however busy the task that asked for it is. The slot
/// is taken before the credentials are added: an OAuth token added before the wait could expire
/// in the queue.
async fn exchange(
    limits: Arc<limits::Limits>,
    credentials: Option<(Arc<auth::Authenticator>, reqwest::Client)>,
    label: String,
    builder: reqwest::RequestBuilder,
    max_bytes: u64,
    page: Option<PageReader>,
) -> Result<Answer, Failure> {
    let _slot = limits.slot(&label).await;
    let (builder, generation) = match credentials {
        None => (builder, 0),
        Some((auth, http)) => auth.apply(&http, builder).await.map_err(Failure::Fatal)?,
    };
    let response = match builder.send().await {
        Ok(response) => response,
        Err(e) if e.is_timeout() => return Err(Failure::Transient(Outcome::Timeout)),
        // Nothing was sent: the same request would fail the same way.
        Err(e) if e.is_builder() => {
            return Err(Failure::Fatal(Error::Unreachable {
                url: label,
                problem: "the request could not be built",
                hint: "a setting it carries holds a character no HTTP header may (a line break, \
                       a letter outside ASCII): check email, username, api_token, password, \
                       personal_access_token and access_token",
            }));
        }
        Err(e) => {
            return Err(Failure::Transient(Outcome::Connection(error_chain(
                &e.without_url(),
            ))));
        }
    };
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    // Jira's rate headers pace the requests that follow, before this body is read; those of
    // Cloud's burst limit are one endpoint's bucket, which its pause (`Retry-After`) slows alone.
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    if !header("RateLimit-Reason").is_some_and(is_burst) {
        limits.observe(&limits::RateHeaders::read(header, Utc::now()));
    }
    // Only a JSON page is split as it arrives: error pages and login pages are read whole.
    let json =
        header(CONTENT_TYPE.as_str()).is_some_and(|t| t.to_ascii_lowercase().contains("json"));
    let read = match page {
        Some(reader) if (200..300).contains(&status) && json => {
            body::read_split(response, max_bytes, reader)
                .await
                .map(|reader| Body::Page(Box::new(reader)))
        }
        _ => body::read_limited(response, max_bytes)
            .await
            .map(Body::Whole),
    };
    match read {
        Ok(body) => Ok((status, headers, body, generation)),
        Err(body::BodyError::TooLarge) => Err(Failure::Fatal(Error::ResponseTooLarge {
            endpoint: label,
            limit_mb: max_bytes >> 20,
        })),
        Err(body::BodyError::Timeout) => Err(Failure::Transient(Outcome::Timeout)),
        Err(body::BodyError::Broken(e)) => Err(Failure::Transient(Outcome::BrokenBody(e))),
    }
}

/// A spawned exchange, stopped when the request that waits for it is dropped.
struct Exchange(tokio::task::JoinHandle<Result<Answer, Failure>>);

impl std::future::Future for Exchange {
    type Output = Result<Answer, Failure>;

    fn poll(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Self::Output> {
        std::pin::Pin::new(&mut self.0).poll(cx).map(|joined| {
            joined.unwrap_or_else(|e| {
                Err(Failure::Fatal(Error::Internal(format!(
                    "a request's task ended early: {e}"
                ))))
            })
        })
    }
}

impl Drop for Exchange {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// A `RateLimit-Reason` of Cloud's per-endpoint burst limit (`jira-burst-based`).
fn is_burst(reason: &str) -> bool {
    reason.contains("burst")
}

/// Why one attempt did not produce JSON.
enum Failure {
    Transient(Outcome),
    /// A 401, with the OAuth generation whose token was refused.
    Unauthorized(u64),
    Fatal(Error),
}

/// The site gave no cloud id: it is not Jira Cloud, or not the site meant.
fn no_cloud_id(url: &str, why: &str) -> Error {
    Error::config(
        "base_url",
        format!(
            "gives no cloud id ({why} from {url}), so Atlassian's API gateway cannot be reached"
        ),
        "scoped tokens and service accounts are for Jira Cloud: check base_url (or host), or give cloud_id",
    )
}

/// Whether `url` is on a domain where Atlassian hosts Cloud sites (`your-site.atlassian.net`, and
/// the older `your-site.jira.com`), which no Server or Data Center can be on.
fn is_cloud_address(url: &Url) -> bool {
    url.host_str().is_some_and(|host| {
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        [".atlassian.net", ".jira.com"]
            .iter()
            .any(|domain| host.ends_with(domain))
    })
}

/// What Atlassian's gateway says when it refuses a token the scope an endpoint needs.
const SCOPE_REFUSAL: &str = "scope does not match";

/// `deploymentType`, with fallbacks for old servers that do not send it (Cloud versions start at 1000).
pub fn detect_deployment(server_info: &Value) -> Deployment {
    match server_info.get("deploymentType").and_then(Value::as_str) {
        Some(t) if t.eq_ignore_ascii_case("cloud") => Deployment::Cloud,
        Some(_) => Deployment::Server,
        None => {
            let major = server_info
                .get("versionNumbers")
                .and_then(|v| v.get(0))
                .and_then(Value::as_u64)
                .unwrap_or(0);
            if major >= 1000 {
                Deployment::Cloud
            } else {
                Deployment::Server
            }
        }
    }
}

/// `versionNumbers`' major and minor: `[10, 3, 1]` is (10, 3).
fn version_numbers(server_info: &Value) -> Option<(u64, u64)> {
    let numbers = server_info.get("versionNumbers")?;
    let number = |i: usize| numbers.get(i).and_then(Value::as_u64);
    number(0).zip(number(1))
}

/// The URL as shown in messages: no credentials, no query (JQL can be long).
fn display_url(url: &Url) -> String {
    let mut shown = url.clone();
    let _ = shown.set_username("");
    let _ = shown.set_password(None);
    shown.set_query(None);
    shown.to_string()
}

/// Jira's error messages in any of the shapes it uses, or the start of the body; at most 512 chars.
fn error_excerpt(body: &[u8]) -> String {
    let text = match serde_json::from_slice::<Value>(body) {
        Ok(mut json) => {
            // Each string as the server meant it: a secret it echoed with a `"` or a tab is
            // escaped in the body, and would be escaped again in `json.to_string()`.
            redact_strings(&mut json);
            let mut parts: Vec<String> = Vec::new();
            for key in ["errorMessages", "warningMessages"] {
                if let Some(list) = json.get(key).and_then(Value::as_array) {
                    parts.extend(list.iter().filter_map(Value::as_str).map(String::from));
                }
            }
            if let Some(errors) = json.get("errors").and_then(Value::as_object) {
                parts.extend(
                    errors
                        .iter()
                        .map(|(k, v)| format!("{k}: {}", v.as_str().unwrap_or(""))),
                );
            }
            for key in ["message", "error_description", "error"] {
                if let Some(m) = json.get(key).and_then(Value::as_str) {
                    parts.push(m.to_string());
                }
            }
            if parts.is_empty() {
                json.to_string()
            } else {
                parts.join("; ")
            }
        }
        Err(_) => {
            let text = String::from_utf8_lossy(body);
            if text.trim_start().starts_with('<') {
                "an HTML page instead of JSON".to_string()
            } else {
                // Before the whitespace is squeezed, which would change a secret that holds some.
                let text = crate::secret::redact(&text);
                text.split_whitespace().collect::<Vec<_>>().join(" ")
            }
        }
    };
    // Before cutting: a secret the server echoed must not survive as a cut-off prefix.
    let text = crate::secret::redact(&text).into_owned();
    if text.chars().count() > 512 {
        text.chars().take(509).collect::<String>() + "..."
    } else {
        text
    }
}

/// Every string in `json` (keys too) with the secrets the tap knows masked.
fn redact_strings(json: &mut Value) {
    match json {
        Value::String(text) => {
            if let std::borrow::Cow::Owned(masked) = crate::secret::redact(text) {
                *text = masked;
            }
        }
        Value::Array(items) => items.iter_mut().for_each(redact_strings),
        Value::Object(map) => {
            *map = std::mem::take(map)
                .into_iter()
                .map(|(key, mut value)| {
                    redact_strings(&mut value);
                    (crate::secret::redact(&key).into_owned(), value)
                })
                .collect();
        }
        _ => {}
    }
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut message = e.to_string();
    let mut source = e.source();
    while let Some(inner) = source {
        message.push_str(": ");
        message.push_str(&inner.to_string());
        source = inner.source();
    }
    message
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn atlassian_domains_are_cloud_and_nothing_else_is() {
        let cloud = |url: &str| is_cloud_address(&Url::parse(url).unwrap());
        assert!(cloud("https://acme.atlassian.net"));
        assert!(cloud("https://ACME.Atlassian.NET./jira"));
        assert!(cloud("https://acme.jira.com"));
        for other in [
            "https://jira.acme.com",
            "https://atlassian.net.acme.com",
            "https://acme-atlassian.net",
            "http://127.0.0.1:8080",
            "https://api.atlassian.com/ex/jira/5a1e7c3d-0b2f-4c6d-9e8f-1a2b3c4d5e6f",
        ] {
            assert!(!cloud(other), "{other}");
        }
    }

    #[test]
    fn reads_every_jira_error_shape() {
        let excerpt = |v: Value| error_excerpt(v.to_string().as_bytes());
        assert_eq!(
            excerpt(json!({"errorMessages": ["bad jql"], "errors": {}})),
            "bad jql"
        );
        assert_eq!(
            excerpt(json!({"errorMessages": [], "errors": {"jql": "nope"}})),
            "jql: nope"
        );
        assert_eq!(
            excerpt(json!({"code": 401, "message": "Unauthorized"})),
            "Unauthorized"
        );
        assert_eq!(
            excerpt(json!({"message": "Client must be authenticated", "status-code": 401})),
            "Client must be authenticated"
        );
        assert_eq!(
            error_excerpt(b"<html><body>Login</body></html>"),
            "an HTML page instead of JSON"
        );
        assert_eq!(error_excerpt("x".repeat(2000).as_bytes()).len(), 512);
    }

    #[test]
    fn echoed_secrets_are_masked_whatever_whitespace_or_escapes_they_hold() {
        crate::secret::register("SPACED  SECRET\tX");
        crate::secret::register("QUOTED\"SECRET\\Y");
        let plain = error_excerpt(b"you sent: bob:SPACED  SECRET\tX");
        assert!(
            !plain.contains("SPACED") && plain.contains("****"),
            "{plain}"
        );
        let body = json!({"echo": {"QUOTED\"SECRET\\Y": ["SPACED  SECRET\tX"]}}).to_string();
        let json = error_excerpt(body.as_bytes());
        assert!(!json.contains("SECRET"), "{json}");
    }

    #[test]
    fn requests_are_counted_per_endpoint_not_per_record() {
        let label = |path: &str| ApiRequest::get(path).label();
        assert_eq!(
            label("rest/api/3/issue/10010/comment"),
            "GET /rest/api/3/issue/{id}/comment"
        );
        assert_eq!(
            label("rest/api/3/field/customfield_10020/context/10031/option"),
            "GET /rest/api/3/field/{id}/context/{id}/option"
        );
        assert_eq!(
            label("rest/api/2/issue/WEB-12/votes"),
            "GET /rest/api/2/issue/{id}/votes"
        );
        assert_eq!(
            label("rest/api/3/project/type"),
            "GET /rest/api/3/project/type"
        );
        assert_eq!(label("rest/api/3/search/jql"), "GET /rest/api/3/search/jql");
    }

    #[test]
    fn detects_the_deployment_with_fallbacks() {
        assert_eq!(
            detect_deployment(&json!({"deploymentType": "Cloud"})),
            Deployment::Cloud
        );
        assert_eq!(
            detect_deployment(&json!({"deploymentType": "DataCenter"})),
            Deployment::Server
        );
        assert_eq!(
            detect_deployment(&json!({"versionNumbers": [1000, 1323, 0]})),
            Deployment::Cloud
        );
        assert_eq!(
            detect_deployment(&json!({"version": "4.2"})),
            Deployment::Server
        );
    }

    #[test]
    fn reads_the_major_and_minor_version() {
        let version = |info: Value| version_numbers(&info);
        assert_eq!(
            version(json!({"versionNumbers": [10, 3, 1]})),
            Some((10, 3))
        );
        assert_eq!(version(json!({"versionNumbers": [9]})), None);
        assert_eq!(version(json!({"version": "10.3.1"})), None);
    }
}
