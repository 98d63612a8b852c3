//! Credentials on requests: Basic (API token or password), Bearer PAT, and OAuth 2.0 with refresh
//! before expiry and on 401. Atlassian rotates the refresh token on every refresh, so the new one is
//! written back, atomically, to the config file it came from: losing it would lock the user out.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::sync::{Mutex, RwLock};

use crate::config::{Auth, Deployment, OAuthClient, OAuthConfig, OAuthProvider, TokenFile};
use crate::error::{Error, Result};
use crate::secret::Secret;

/// Refresh this long before the access token expires (a third of its life if that is shorter), so
/// a request never races its expiry.
const EXPIRY_MARGIN: Duration = Duration::from_secs(120);

/// A shorter `expires_in` is no lifetime a request could use (0 is some servers' "not said"):
/// such a token is used until Jira refuses it, not refreshed before every request.
const MIN_TOKEN_LIFE: Duration = Duration::from_secs(2);

/// A token answer is a few hundred bytes: more is not a token endpoint.
const MAX_TOKEN_ANSWER_BYTES: u64 = 1 << 20;

/// Held (shared) by every refresh under way; `finish_refreshes` takes it for good.
static REFRESHES: RwLock<()> = RwLock::const_new(());

pub struct Authenticator {
    auth: Auth,
    /// Shared with the task each refresh runs in.
    oauth: Option<Arc<Mutex<OAuthSession>>>,
    /// The newest OAuth generation Jira answered a request for (see `accepted`).
    accepted: AtomicU64,
}

struct OAuthSession {
    access_token: Option<Secret>,
    /// When to refresh: shortly before the access token expires.
    refresh_at: Option<Instant>,
    refresh_token: Secret,
    /// Bumped on every refresh, so concurrent 401s trigger one refresh, not one each.
    generation: u64,
    /// The access token was refreshed because Jira refused the one before it.
    after_refusal: bool,
    /// Why the last refresh failed, after its own retries: the requests that waited for it fail
    /// with it too, rather than each asking the endpoint again (and holding up the exit).
    failed: Option<String>,
    /// `retry_budget_seconds`: bounds the waits the token endpoint asks for, as Jira's.
    retry_budget: Duration,
}

/// A token endpoint's answer to a grant, read leniently: the rotated refresh token it carries
/// must be saved even when another field is not what the tap expects.
struct TokenResponse {
    /// Absent from an answer that is not a token after all: a failure, once the refresh token
    /// is saved.
    access_token: Option<String>,
    refresh_token: Option<String>,
    expires_in: Option<u64>,
}

impl TokenResponse {
    fn parse(text: &str) -> std::result::Result<TokenResponse, serde_json::Error> {
        let answer: serde_json::Map<String, Value> = serde_json::from_str(text)?;
        let text_of = |key: &str| {
            answer
                .get(key)
                .and_then(Value::as_str)
                .filter(|s| !s.trim().is_empty())
                .map(|s| s.trim().to_string())
        };
        // A number in RFC 6749, but a string (`"3600"`) or a fraction from some endpoints;
        // without it the token is refreshed when the site refuses it.
        let seconds = match answer.get("expires_in") {
            Some(Value::Number(n)) => n.as_f64(),
            Some(Value::String(s)) => s.trim().parse::<f64>().ok(),
            _ => None,
        };
        let expires_in = seconds
            .filter(|s| s.is_finite() && *s >= 0.0)
            .map(|s| s as u64);
        Ok(TokenResponse {
            access_token: text_of("access_token"),
            refresh_token: text_of("refresh_token"),
            expires_in,
        })
    }
}

impl Authenticator {
    pub fn new(auth: Auth, retry_budget: Duration) -> Self {
        let oauth = match &auth {
            Auth::OAuth(o) => Some(Arc::new(Mutex::new(OAuthSession {
                access_token: o.access_token.clone(),
                refresh_at: None,
                refresh_token: o.refresh_token.clone(),
                generation: 0,
                after_refusal: false,
                failed: None,
                retry_budget,
            }))),
            _ => None,
        };
        Authenticator {
            auth,
            oauth,
            accepted: AtomicU64::new(0),
        }
    }

    pub fn method_name(&self) -> &'static str {
        self.auth.method_name()
    }

    /// Adds the credentials to a request; returns the OAuth generation they belong to.
    pub async fn apply(
        &self,
        http: &reqwest::Client,
        request: reqwest::RequestBuilder,
    ) -> Result<(reqwest::RequestBuilder, u64)> {
        Ok(match &self.auth {
            Auth::ApiToken { email, token } | Auth::ScopedToken { email, token } => {
                (request.basic_auth(email, Some(token.expose())), 0)
            }
            Auth::Basic { username, password } => {
                (request.basic_auth(username, Some(password.expose())), 0)
            }
            Auth::Pat { token } => (request.bearer_auth(token.expose()), 0),
            Auth::OAuth(config) => {
                let Some(session) = &self.oauth else {
                    return Err(Error::OAuth("no OAuth session".into()));
                };
                let usable = session.lock().await.usable();
                let (token, generation) = match usable {
                    Some(usable) => usable,
                    // Unless another request refreshed it while this one waited for the lock.
                    None => {
                        refresh_apart(http, config, session, false, |s| s.usable().is_none())
                            .await?
                    }
                };
                (request.bearer_auth(token.expose()), generation)
            }
        })
    }

    /// Whether a refusal of these credentials counts as a failed login: a password on
    /// Server/Data Center (on Cloud, basic auth carries an API token).
    pub fn counts_failed_logins(&self, deployment: Deployment) -> bool {
        matches!(self.auth, Auth::Basic { .. }) && deployment != Deployment::Cloud
    }

    /// What to check when the site refuses these credentials (`deployment`: when known).
    pub fn refusal_hint(&self, deployment: Option<Deployment>) -> &'static str {
        match (&self.auth, deployment) {
            (Auth::ScopedToken { .. }, _) => {
                "check email and api_token: a scoped token needs the read:jira-work and \
                 read:jira-user scopes on this site, and expires (after a day to a year); a token \
                 created without scopes goes to the site itself (auth_type: api_token)"
            }
            // Nothing in a token says it is scoped: the site answers 401 to one, as to a typo.
            // API tokens are Cloud's, whatever the deployment is known to be yet.
            (Auth::ApiToken { .. }, _) | (Auth::Basic { .. }, Some(Deployment::Cloud)) => {
                "check the email and API token. A scoped API token (a service account's, or one \
                 created with scopes) is refused by the site URL: it must call \
                 https://api.atlassian.com/ex/jira/{cloudId}; set auth_type: scoped_token and the \
                 tap goes there, reading the cloud id from base_url. Passwords and personal access \
                 tokens do not work on Cloud"
            }
            // Only Server/Data Center issues these tokens, and they expire: a refusal is seldom
            // a wrong method, and never a CAPTCHA (a token counts no failed login).
            (Auth::Pat { .. }, None | Some(Deployment::Server)) => {
                "check personal_access_token: Jira refuses one that expired or was revoked (its \
                 owner sees both under Profile > Personal Access Tokens) or that was made on \
                 another site; create a new one there"
            }
            // A password refused on Server/Data Center, or before the deployment is known
            // (/serverInfo refuses a wrong one too): the settings to fix, and why not to retry.
            (Auth::Basic { .. }, None | Some(Deployment::Server)) => {
                "check username and password (on Cloud: the account's email and an API token as \
                 the password); after several failed logins Server/Data Center demands a CAPTCHA \
                 in a browser login before it takes the password again"
            }
            // Refused though just refreshed (a 401 refreshes first): not the refresh token but
            // what it was granted; Cloud answers `scope does not match`.
            (Auth::OAuth(oauth), _) => match oauth.client.provider {
                OAuthProvider::Atlassian => {
                    "the access token was refused though just refreshed: the app's authorisation \
                     must grant read:jira-work and read:jira-user (oauth_scopes) on the site of \
                     cloud_id; run `tap-jira authorize --config …` again to grant them"
                }
                OAuthProvider::DataCenter => {
                    "the access token was refused though just refreshed: the incoming link must \
                     grant at least READ (oauth_scopes), to a user who may use Jira; run \
                     `tap-jira authorize --config …` again to grant it"
                }
            },
            (Auth::Pat { .. }, Some(Deployment::Cloud)) => {
                "check the credentials: Cloud wants email + api_token (or OAuth 2.0); passwords and \
                 personal access tokens do not work there"
            }
        }
    }

    /// What to check when the site knows these credentials but refuses them its API (a 403 on
    /// `/myself`, which needs nothing but a login).
    pub fn forbidden_hint(&self, deployment: Option<Deployment>) -> &'static str {
        match (&self.auth, deployment) {
            (Auth::ScopedToken { .. }, _) => {
                "the scoped token needs the read:jira-work and read:jira-user scopes, and its \
                 account access to Jira on this site; create one with them (or set auth_type: \
                 api_token for a token without scopes)"
            }
            (Auth::Basic { .. }, None | Some(Deployment::Server)) => {
                "an administrator may have turned basic auth off on this site: use a \
                 personal_access_token instead (or ask for this account to be allowed), and \
                 check that the account may use Jira"
            }
            (Auth::Pat { .. }, _) => {
                "the account the personal_access_token belongs to may not use Jira (deactivated, \
                 or without Jira access): check it with an administrator, or use another \
                 account's token"
            }
            _ => {
                "the account these credentials belong to has no access to Jira on this site: \
                 check its product access with a site administrator, or use another account's \
                 credentials"
            }
        }
    }

    /// After a 401: refresh the OAuth token (unless another request already did) and say whether a
    /// retry may succeed. Other methods cannot recover.
    pub async fn recover_from_401(&self, http: &reqwest::Client, generation: u64) -> Result<bool> {
        let (Auth::OAuth(config), Some(session)) = (&self.auth, &self.oauth) else {
            return Ok(false);
        };
        // Refused though refreshed for a refusal, and answered for no request since (this one
        // may have started after the refresh): another refresh would be refused the same way.
        let refused_again = {
            let s = session.lock().await;
            s.generation == generation
                && s.after_refusal
                && self.accepted.load(Ordering::Relaxed) < generation
        };
        if refused_again {
            return Ok(false);
        }
        refresh_apart(http, config, session, true, move |s| {
            s.generation == generation
        })
        .await?;
        Ok(true)
    }

    /// Jira answered a request whose credentials were of OAuth `generation`: that token works.
    pub fn accepted(&self, generation: u64) {
        self.accepted.fetch_max(generation, Ordering::Relaxed);
    }
}

impl OAuthSession {
    /// The access token and its generation, unless there is none or it is due for a refresh.
    fn usable(&self) -> Option<(Secret, u64)> {
        // After a failed refresh the token is known dead: the request gets the failure instead.
        if self.failed.is_some() {
            return None;
        }
        let token = self.access_token.clone()?;
        let fresh = self.refresh_at.is_none_or(|at| Instant::now() < at);
        fresh.then_some((token, self.generation))
    }
}

/// Refreshes the session if `due` says it still needs it once the lock is held, in a task of its
/// own: a request given up halfway (its stream stopped, SIGTERM) must not take down a refresh
/// whose endpoint may already have rotated the refresh token, which would then be lost. Gives
/// the session's access token and generation; `after_refusal` when Jira refused the last token.
async fn refresh_apart(
    http: &reqwest::Client,
    config: &OAuthConfig,
    session: &Arc<Mutex<OAuthSession>>,
    after_refusal: bool,
    due: impl FnOnce(&OAuthSession) -> bool + Send + 'static,
) -> Result<(Secret, u64)> {
    let (http, config, session) = (http.clone(), config.clone(), Arc::clone(session));
    let task = tokio::spawn(async move {
        let _under_way = REFRESHES.read().await;
        let mut session = session.lock().await;
        if let Some(why) = &session.failed {
            return Err(Error::OAuth(why.clone()));
        }
        if due(&session) {
            match refresh(&http, &config, &mut session).await {
                Ok(()) => session.after_refusal = after_refusal,
                Err(Error::OAuth(why)) => {
                    session.failed = Some(why.clone());
                    return Err(Error::OAuth(why));
                }
                Err(e) => return Err(e),
            }
        }
        let token = session
            .access_token
            .clone()
            .unwrap_or_else(|| Secret::new(""));
        Ok((token, session.generation))
    });
    task.await
        .map_err(|e| Error::Internal(format!("an OAuth refresh stopped: {e}")))?
}

/// Waits for the refreshes under way (their new refresh tokens saved), then keeps any other from
/// starting: for the end of the process, which would drop them halfway.
pub async fn finish_refreshes() {
    // Never given back: the process is ending.
    std::mem::forget(REFRESHES.write().await);
}

async fn refresh(
    http: &reqwest::Client,
    config: &OAuthConfig,
    session: &mut OAuthSession,
) -> Result<()> {
    // Runs that share a token file (partitions side by side) take turns: each spends the token
    // the last one saved, not the one it read at its start, which the other may have spent.
    let token_file = config.refresh_token_file.as_ref();
    let _turn = match token_file {
        Some(file) => Some(TokenFileTurn::take(file.path()).await?),
        None => None,
    };
    if let Some(saved) = token_file
        .map(TokenFile::path)
        .and_then(saved_refresh_token)
        && saved != session.refresh_token.expose()
    {
        crate::secret::register(&saved);
        tracing::info!("the token file holds a newer refresh token (another run rotated it)");
        session.refresh_token = Secret::new(saved);
    }
    tracing::info!("refreshing the OAuth 2.0 access token");
    let mut grant = vec![
        ("grant_type", "refresh_token"),
        ("client_id", config.client.client_id.as_str()),
        ("client_secret", config.client.client_secret.expose()),
        ("refresh_token", session.refresh_token.expose()),
    ];
    // Data Center's provider refuses a refresh without the link's redirect URI (an invalid_grant
    // that names nothing), though RFC 6749 does not ask for it.
    if let Some(redirect_uri) = &config.redirect_uri {
        grant.push(("redirect_uri", redirect_uri.as_str()));
    }
    let token = match request_tokens(http, &config.client, &grant, session.retry_budget).await {
        Ok(token) => token,
        Err(TokenFailure::Refused { why, bad_grant }) => {
            let source = token_file
                .map(|f| format!(" (the refresh token was read from {})", f.path().display()))
                .unwrap_or_default();
            // invalid_grant is the refresh token itself (the client was taken): only a new
            // authorisation helps. Data Center says the same of a redirect URI it does not know.
            let check = match (bad_grant, config.client.provider) {
                (true, OAuthProvider::Atlassian) => {
                    "the refresh token was already used (by another run or tool) or revoked"
                }
                (true, OAuthProvider::DataCenter) => {
                    "the refresh token was already used (by another run or tool) or revoked, or \
                     oauth_redirect_uri is not the incoming link's redirect URL (check it first)"
                }
                (false, _) => {
                    "check oauth_client_id and oauth_client_secret; if they are right, the refresh \
                     token was used elsewhere or revoked"
                }
            };
            return Err(Error::OAuth(format!(
                "{why}: {check}; run `tap-jira authorize --config …` to get a new one{source}"
            )));
        }
        Err(TokenFailure::Failed(why)) => return Err(Error::OAuth(why)),
    };
    // The old refresh token is spent: the new one is saved before anything else may fail.
    if let Some(rotated) = token
        .refresh_token
        .filter(|t| t != session.refresh_token.expose())
    {
        session.refresh_token = Secret::new(rotated);
        match token_file {
            Some(file) => {
                save_refresh_token(file, &session.refresh_token)?;
                tracing::info!(file = %file.path().display(), "OAuth refresh token rotated; the new one is saved to the config file");
            }
            None => tracing::warn!(
                "OAuth refresh token rotated but it did not come from a config file, so it cannot be saved; \
                 the old one no longer works"
            ),
        }
    }
    let access_token = token.access_token.ok_or_else(|| {
        Error::OAuth(format!(
            "unexpected answer from {}: no access_token",
            config.client.token_url
        ))
    })?;
    session.access_token = Some(Secret::new(access_token));
    session.refresh_at = token
        .expires_in
        .map(Duration::from_secs)
        .filter(|life| *life >= MIN_TOKEN_LIFE)
        .and_then(|life| Instant::now().checked_add(life - EXPIRY_MARGIN.min(life / 3)));
    session.generation += 1;
    Ok(())
}

/// The tokens a person's authorisation gives: `code` from the redirect, exchanged once.
pub async fn exchange_code(
    http: &reqwest::Client,
    client: &OAuthClient,
    code: &str,
    redirect_uri: &str,
) -> Result<Tokens> {
    let grant = [
        ("grant_type", "authorization_code"),
        ("client_id", client.client_id.as_str()),
        ("client_secret", client.client_secret.expose()),
        ("code", code),
        ("redirect_uri", redirect_uri),
    ];
    // A person is waiting, with no retry budget of a run: the longest wait Jira may ask for.
    match request_tokens(http, client, &grant, super::retry::MAX_RETRY_AFTER).await {
        Ok(TokenResponse {
            access_token: Some(access_token),
            refresh_token,
            ..
        }) => Ok(Tokens {
            access_token: Secret::new(access_token),
            refresh_token: refresh_token.map(Secret::new),
        }),
        Ok(_) => Err(Error::Authorize(format!(
            "unexpected answer from {}: no access_token",
            client.token_url
        ))),
        Err(TokenFailure::Refused { why, .. }) => Err(Error::Authorize(format!(
            "{why}. A code works once and for a few minutes: run `tap-jira authorize` again; and \
             check oauth_client_id, oauth_client_secret and oauth_redirect_uri (the one registered \
             with the app)"
        ))),
        Err(TokenFailure::Failed(why)) => Err(Error::Authorize(why)),
    }
}

/// What a token endpoint gave for a grant.
pub struct Tokens {
    pub access_token: Secret,
    /// Absent when the app was not granted offline access.
    pub refresh_token: Option<Secret>,
}

/// A site an OAuth 2.0 (3LO) token reaches.
pub struct AccessibleSite {
    pub cloud_id: String,
    pub url: String,
}

/// The sites a Cloud access token reaches, from the gateway's `oauth/token/accessible-resources`.
pub async fn accessible_sites(
    http: &reqwest::Client,
    gateway: &url::Url,
    access_token: &Secret,
) -> Result<Vec<AccessibleSite>> {
    let url = gateway
        .join("oauth/token/accessible-resources")
        .map_err(|e| {
            Error::Authorize(format!("no accessible-resources URL below {gateway}: {e}"))
        })?;
    let fail = |why: String| {
        Error::Authorize(format!(
            "cannot list the sites the token reaches ({url}): {why}"
        ))
    };
    let response = http
        .get(url.clone())
        .bearer_auth(access_token.expose())
        .send()
        .await
        .map_err(|e| fail(e.without_url().to_string()))?;
    let status = response.status();
    let body = super::body::read_limited(response, MAX_TOKEN_ANSWER_BYTES)
        .await
        .map_err(|_| fail("the answer broke off or is too large".into()))?;
    if !status.is_success() {
        return Err(fail(format!("HTTP {}", status.as_u16())));
    }
    let sites: Value = serde_json::from_slice(&body).map_err(|e| fail(format!("not JSON: {e}")))?;
    let sites = sites.as_array().map(Vec::as_slice).unwrap_or_default();
    Ok(sites
        .iter()
        .filter_map(|site| {
            Some(AccessibleSite {
                cloud_id: site.get("id")?.as_str()?.to_string(),
                url: site
                    .get("url")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string(),
            })
        })
        .collect())
}

/// Why a token request gave no tokens.
enum TokenFailure {
    /// The endpoint answered and said no: `HTTP 403 from …: invalid_grant …`; `bad_grant` when
    /// it was the grant it refused (`invalid_grant`: a spent, revoked or unknown refresh token or
    /// code), not the client.
    Refused { why: String, bad_grant: bool },
    /// No answer, or one that is not a token.
    Failed(String),
}

/// POSTs a grant to the client's token endpoint; the tokens it returns are redacted from then on.
async fn request_tokens(
    http: &reqwest::Client,
    client: &OAuthClient,
    grant: &[(&str, &str)],
    budget: Duration,
) -> Result<TokenResponse, TokenFailure> {
    let (status, text) = post_with_retries(http, client, grant, budget)
        .await
        .map_err(TokenFailure::Failed)?;
    if !status.is_success() {
        let answer = serde_json::from_str::<Value>(&text).ok();
        let error = answer
            .as_ref()
            .and_then(|v| v.get("error")?.as_str())
            .map(str::trim);
        let why = answer
            .as_ref()
            .and_then(|v| {
                let detail = v
                    .get("error_description")
                    .and_then(Value::as_str)
                    .unwrap_or("");
                Some(format!("{} {detail}", error?).trim().to_string())
            })
            .unwrap_or_else(|| "no error description".into());
        return Err(TokenFailure::Refused {
            // Its own sentence follows: "…refresh token.." otherwise.
            why: format!(
                "HTTP {} from {}: {}",
                status.as_u16(),
                client.token_url,
                why.trim_end_matches('.')
            ),
            bad_grant: error == Some("invalid_grant"),
        });
    }
    let token = TokenResponse::parse(&text).map_err(|e| {
        TokenFailure::Failed(format!("unexpected answer from {}: {e}", client.token_url))
    })?;
    // Learned at run time: from now on blanked out of whatever the tap prints, like the config's.
    for secret in [&token.access_token, &token.refresh_token]
        .into_iter()
        .flatten()
    {
        crate::secret::register(secret);
    }
    Ok(token)
}

/// The token request, retried a few times when the token endpoint is briefly unavailable or its
/// answer is lost on the way: the grant may then be spent, but Atlassian takes a refresh token
/// again for a short while after rotating it, so retrying is safe. A wait the endpoint asks
/// for (`Retry-After`) is kept to, within `budget` as Jira's are. Fails with what went wrong.
async fn post_with_retries(
    http: &reqwest::Client,
    client: &OAuthClient,
    params: &[(&str, &str)],
    budget: Duration,
) -> Result<(reqwest::StatusCode, String), String> {
    use super::retry::{MAX_RETRY_AFTER, MIN_ASKED_WAIT, parse_retry_after};
    let started = Instant::now();
    let mut backoff = Duration::from_secs(1);
    for attempt in 1..=4 {
        let request = http
            .post(client.token_url.clone())
            .header("Accept", "application/json");
        // Atlassian's endpoint documents JSON; Data Center's takes the standard form.
        let request = match client.provider {
            OAuthProvider::Atlassian => {
                let body: serde_json::Map<String, Value> = params
                    .iter()
                    .map(|(k, v)| (k.to_string(), Value::from(*v)))
                    .collect();
                request.json(&body)
            }
            OAuthProvider::DataCenter => request.form(params),
        };
        let sent = request.send().await;
        let (transient, asked) = match sent {
            Ok(response) if !super::retry::is_transient_status(response.status().as_u16()) => {
                use super::body::BodyError;
                let status = response.status();
                match super::body::read_limited(response, MAX_TOKEN_ANSWER_BYTES).await {
                    Ok(body) => {
                        return Ok((status, String::from_utf8_lossy(&body).into_owned()));
                    }
                    // An answer cut off carried tokens never read: asked again like no answer.
                    Err(BodyError::Broken(e)) => (format!("the answer broke off: {e}"), None),
                    Err(BodyError::Timeout) => ("the answer timed out".to_string(), None),
                    Err(BodyError::TooLarge) => return Ok((status, String::new())),
                }
            }
            Ok(response) => {
                let asked = response
                    .headers()
                    .get(reqwest::header::RETRY_AFTER)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| parse_retry_after(v, chrono::Utc::now()))
                    .filter(|wait| *wait >= MIN_ASKED_WAIT);
                (format!("HTTP {}", response.status().as_u16()), asked)
            }
            // With its causes: reqwest's own words are only "error sending request".
            Err(e) => (super::error_chain(&e.without_url()), None),
        };
        if attempt == 4 {
            return Err(format!(
                "{} unavailable: {transient}; check that this machine reaches it (and the proxy, \
                 if one is set), or set oauth_token_url to where the token endpoint is",
                client.token_url
            ));
        }
        let wait = match asked {
            Some(asked) => {
                let left = budget.saturating_sub(started.elapsed());
                // Asking earlier would only be refused again.
                if asked > left {
                    return Err(format!(
                        "{} unavailable: {transient} with Retry-After of {}s, more than the {}s \
                         left to retry",
                        client.token_url,
                        asked.as_secs(),
                        left.as_secs()
                    ));
                }
                asked.min(MAX_RETRY_AFTER)
            }
            None => backoff,
        };
        tracing::warn!(
            "OAuth token endpoint: {transient}; retrying in {}s",
            wait.as_secs()
        );
        tokio::time::sleep(wait).await;
        backoff *= 2;
    }
    Err(format!("{} unavailable", client.token_url))
}

/// Fails unless the rotated refresh token could be saved to `path`: checked before any request,
/// since a refresh spends the old token and a token that cannot be saved locks the user out.
pub fn check_token_file_writable(path: &Path) -> Result<()> {
    let temp = sibling_temp_path(&through_links(path));
    create_private(&temp)
        .and_then(|_| std::fs::remove_file(&temp))
        .map_err(|e| {
            Error::OAuth(format!(
                "cannot save rotated refresh tokens next to {}: {e}. Make that directory writable, or set \
                 oauth_token_file to a writable path",
                path.display()
            ))
        })
}

/// Replaces `refresh_token` in the JSON file, keeping every other key.
pub fn save_refresh_token(file: &TokenFile, token: &Secret) -> Result<()> {
    save_keys(file, &[("refresh_token", token.expose())])
}

/// Sets `keys` in the JSON file, keeping every other key: write a sibling file, flush it to disk,
/// then rename it over the original, so a crash leaves the old file or the new one.
pub fn save_keys(file: &TokenFile, keys: &[(&str, &str)]) -> Result<()> {
    let path = file.path();
    let fail = |e: &dyn std::fmt::Display| {
        Error::OAuth(format!(
            "could not save the new refresh token to {}: {e}. The one in that file no longer works: \
             make the file writable and run `tap-jira authorize` again",
            path.display()
        ))
    };
    // Renamed over a link, the new file would replace the link and leave the spent token in the
    // file it names, where another path (or the link made again) still reads it.
    let target = through_links(path);
    let path = target.as_path();
    // A token file the tap has not written yet starts empty.
    let mut config: serde_json::Map<String, Value> = match std::fs::read_to_string(path) {
        // A byte-order mark is read past, as when the file was loaded.
        Ok(text) => serde_json::from_str(text.strip_prefix('\u{feff}').unwrap_or(&text))
            .map_err(|e| fail(&e))?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => serde_json::Map::new(),
        Err(e) => return Err(fail(&e)),
    };
    for (key, value) in keys {
        config.insert(key.to_string(), Value::String(value.to_string()));
    }
    let mut rendered = serde_json::to_string_pretty(&config).map_err(|e| fail(&e))?;
    rendered.push('\n');
    let temp = sibling_temp_path(path);
    let write = || -> std::io::Result<()> {
        use std::io::Write;
        let mut written = create_private(&temp)?;
        // A config file keeps its mode; a token file stays readable by its owner only, as
        // created, whatever mode it was written with by hand.
        if let TokenFile::Config(_) = file
            && let Ok(meta) = std::fs::metadata(path)
        {
            written.set_permissions(meta.permissions())?;
        }
        written.write_all(rendered.as_bytes())?;
        written.sync_all()?;
        std::fs::rename(&temp, path)?;
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty())
            && let Ok(dir) = std::fs::File::open(dir)
        {
            let _ = dir.sync_all();
        }
        Ok(())
    };
    write().map_err(|e| {
        let _ = std::fs::remove_file(&temp);
        fail(&e)
    })
}

/// The file `path` names once symbolic links are followed: where a new version of it must be
/// written. A link to nowhere yet gives the file it would name.
fn through_links(path: &Path) -> PathBuf {
    let mut path = path.to_path_buf();
    // As many links as the kernel follows (ELOOP beyond): past them, opening the file fails.
    for _ in 0..40 {
        let Ok(target) = std::fs::read_link(&path) else {
            break;
        };
        path = match path.parent() {
            Some(dir) => dir.join(target),
            None => target,
        };
    }
    path
}

/// A new file for secrets: readable by its owner only from the start, and never an existing file
/// or a link someone planted at that name.
fn create_private(path: &Path) -> std::io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)
}

/// The refresh token a token (or config) file holds now; `None` when it cannot be read.
fn saved_refresh_token(path: &Path) -> Option<String> {
    let saved = crate::input::read_json_object(path, crate::input::TOKEN_FILE).ok()?;
    let token = saved.get("refresh_token")?.as_str()?.trim();
    (!token.is_empty()).then(|| token.to_string())
}

/// This process's turn at a token file: an exclusive lock on `.{name}.lock` beside it, held
/// while its refresh token is spent and the next one saved, and let go when dropped. (The file
/// itself cannot carry the lock: saving replaces it.)
struct TokenFileTurn {
    #[cfg(unix)]
    _lock: Option<std::fs::File>,
}

impl TokenFileTurn {
    #[cfg(unix)]
    async fn take(path: &Path) -> Result<TokenFileTurn> {
        use std::os::fd::AsRawFd;
        // Beside the file itself, so runs that reach it through different links share the lock.
        let path = &through_links(path);
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "config.json".into());
        let lock_path = path.with_file_name(format!(".{name}.lock"));
        let fail = |e: std::io::Error| {
            Error::OAuth(format!(
                "could not lock {} to refresh the OAuth token: {e}",
                lock_path.display()
            ))
        };
        // A directory the tap may not write in (a read-only config whose token is not
        // rotated) has no room for the lock: the refresh goes on without taking turns.
        let Ok(file) = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
        else {
            return Ok(TokenFileTurn { _lock: None });
        };
        // Another run holds it for one token request at most: waited for off the runtime.
        let locked = tokio::task::spawn_blocking(move || {
            // SAFETY: flock only locks the descriptor this process holds open.
            match unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX) } {
                0 => Ok(file),
                _ => Err(std::io::Error::last_os_error()),
            }
        })
        .await
        .map_err(|e| fail(std::io::Error::other(e)))?
        .map_err(fail)?;
        Ok(TokenFileTurn {
            _lock: Some(locked),
        })
    }

    #[cfg(not(unix))]
    async fn take(_path: &Path) -> Result<TokenFileTurn> {
        Ok(TokenFileTurn {})
    }
}

/// A name beside `path` no other run holds: the pid alone is not enough, since a run killed while
/// saving leaves its file behind and a container's tap has the same pid (1) every time.
fn sibling_temp_path(path: &Path) -> PathBuf {
    use rand::RngExt;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "config.json".into());
    let nonce: u64 = rand::rng().random();
    path.with_file_name(format!(".{name}.{}.{nonce:016x}.tmp", std::process::id()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn token_answers_are_read_leniently() {
        let read = |text: &str| {
            let t = TokenResponse::parse(text).unwrap();
            (t.access_token, t.refresh_token, t.expires_in)
        };
        let tokens = |expires_in| (Some("a".to_string()), Some("r".to_string()), expires_in);
        for (expires_in, seconds) in [
            ("3600", Some(3600)),
            ("\"3600\"", Some(3600)),
            ("3599.7", Some(3599)),
            ("\"soon\"", None),
            ("-1", None),
            ("null", None),
        ] {
            let text = format!(
                r#"{{"access_token": "a", "refresh_token": "r", "expires_in": {expires_in}}}"#
            );
            assert_eq!(read(&text), tokens(seconds), "{expires_in}");
        }
        assert_eq!(
            read(r#"{"refresh_token": "r", "access_token": 7}"#),
            (None, Some("r".into()), None)
        );
        assert!(TokenResponse::parse("[]").is_err());
    }

    #[test]
    fn saving_keeps_other_keys() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.json");
        std::fs::write(
            &path,
            r#"{"cloud_id": "c", "refresh_token": "old", "start_date": "2024-01-01"}"#,
        )
        .unwrap();
        save_refresh_token(&TokenFile::Config(path.clone()), &Secret::new("new")).unwrap();
        let saved: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        assert_eq!(
            saved,
            json!({"cloud_id": "c", "refresh_token": "new", "start_date": "2024-01-01"})
        );
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            1,
            "no temp file left behind"
        );
    }
}
