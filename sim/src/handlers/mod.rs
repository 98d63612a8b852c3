//! The HTTP front: one entry point that records each request, applies latency, the rate limit
//! and injected faults, checks credentials, and dispatches to the endpoint handlers by path.

mod access;
mod admin;
mod agile;
mod audit;
mod changelogs;
mod issues;
mod limit;
mod meta;
mod oauth;
mod projects;
mod reference;
pub(crate) mod respond;
mod search;
mod setup;
mod users;
mod worklogs;

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::{Bytes, to_bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, header};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use crate::auth::{self, Door};
use crate::chaos::Mischief;
use crate::config::Deployment;
use crate::creds;
use crate::faults::Fault;
use crate::load::Admission;
use crate::render::{Api, Ctx};
use crate::requests::{AuthSeen, RequestRecord};
use crate::site::Site;
use crate::state::Shared;
use respond::{Unserved, gateway_error, unauthenticated, unserved};

/// Largest request body read (search bodies with long JQL fit easily).
const MAX_BODY: usize = 8 * 1024 * 1024;

/// A request, read once and handed to the handlers.
pub(crate) struct Req {
    pub method: Method,
    pub path: String,
    pub raw_query: String,
    pub query: Vec<(String, String)>,
    pub headers: HeaderMap,
    pub body: Bytes,
    /// `http://host:port`, as the client addressed the simulator.
    pub origin: String,
    /// When the request arrived.
    pub received: Instant,
}

impl Req {
    /// The first value of a query parameter.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Every value of a repeatable query parameter (`fields=a&fields=b`).
    pub fn params(&self, name: &str) -> Vec<String> {
        self.query
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .collect()
    }

    pub fn number(&self, name: &str) -> Option<i64> {
        self.param(name).and_then(|v| v.trim().parse().ok())
    }

    /// The body as JSON, when it is JSON.
    pub fn json(&self) -> Option<Value> {
        serde_json::from_slice(&self.body).ok()
    }

    pub fn uri(&self) -> String {
        if self.raw_query.is_empty() {
            format!("{}{}", self.origin, self.path)
        } else {
            format!("{}{}?{}", self.origin, self.path, self.raw_query)
        }
    }
}

/// A request that passed authentication, with what the handler needs to answer it.
pub(crate) struct Call<'a> {
    pub shared: &'a Shared,
    pub req: &'a Req,
    pub api: Api,
    /// Root of `self` links: the site origin, or the gateway's `/ex/jira/{cloudId}` root.
    pub base: String,
    /// The authenticated user (index into the site's users).
    pub user: usize,
}

impl Call<'_> {
    pub fn ctx<'s>(&self, site: &'s Site) -> Ctx<'s> {
        Ctx::new(site, self.base.clone(), self.req.origin.clone(), self.api)
    }

    pub fn cloud(&self) -> bool {
        self.shared.cfg.deployment == Deployment::Cloud
    }

    /// A page bean (`self`, `nextPage`, `startAt`, `maxResults`, `total`, `isLast`,
    /// `values`) of `items` at `startAt`, `maxResults` defaulting to `default_max` and capped at
    /// `cap`. `path` is the list's path below the REST root; page links keep the request's
    /// other query parameters.
    pub fn paged<T>(
        &self,
        items: &[T],
        default_max: usize,
        cap: usize,
        path: &str,
        render: impl Fn(&T) -> Value,
    ) -> Response {
        let (values, start_at, max_results) = self.slice(items, default_max, cap, render);
        let kept: String = self
            .req
            .query
            .iter()
            .filter(|(k, _)| k != "startAt" && k != "maxResults")
            .map(|(k, v)| {
                let v: String = form_urlencoded::byte_serialize(v.as_bytes()).collect();
                format!("{k}={v}&")
            })
            .collect();
        let root = format!("{}/rest/api/{}/", self.base, self.api.number());
        respond::page_bean(values, start_at, max_results, items.len(), |start| {
            format!("{root}{path}?{kept}startAt={start}&maxResults={max_results}")
        })
    }

    /// The page of `items` this request asks for, rendered, with its `startAt` and `maxResults`.
    pub fn slice<T>(
        &self,
        items: &[T],
        default_max: usize,
        cap: usize,
        render: impl Fn(&T) -> Value,
    ) -> (Vec<Value>, usize, usize) {
        let (start_at, max_results) = self.page(default_max, cap);
        let values = items
            .iter()
            .skip(start_at)
            .take(max_results)
            .map(render)
            .collect();
        (values, start_at, max_results)
    }

    /// `startAt` and `maxResults` (default `default_max`, capped at `cap`), as page beans take.
    pub fn page(&self, default_max: usize, cap: usize) -> (usize, usize) {
        let start_at = self.req.number("startAt").unwrap_or(0).max(0) as usize;
        let max = self
            .req
            .number("maxResults")
            .map_or(default_max, |m| m.max(0) as usize);
        (start_at, max.min(cap))
    }
}

/// The single axum handler behind every path.
pub(crate) async fn handle(State(shared): State<Arc<Shared>>, request: Request) -> Response {
    let started = Instant::now();
    let (parts, body) = request.into_parts();
    let body = to_bytes(body, MAX_BODY).await.unwrap_or_default();
    let host = parts
        .headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost")
        .to_string();
    let raw_query = parts.uri.query().unwrap_or("").to_string();
    let req = Req {
        method: parts.method,
        path: parts.uri.path().to_string(),
        query: form_urlencoded::parse(raw_query.as_bytes())
            .into_owned()
            .collect(),
        raw_query,
        headers: parts.headers,
        body,
        origin: format!("http://{host}"),
        received: started,
    };
    if req.path.starts_with("/_sim/") {
        // Admin endpoints are for people and tests: not logged, never delayed, limited or faulted.
        return admin::route(&shared, &req);
    }
    let _in_flight = shared.meter.enter();
    let mut slept = Duration::ZERO;
    if shared.cfg.latency_ms > 0 {
        let before = Instant::now();
        tokio::time::sleep(Duration::from_millis(shared.cfg.latency_ms)).await;
        slept = before.elapsed();
    }
    // Answered on a thread of its own, as a servlet container answers: a heavy search page
    // must not hold up the small requests queued behind it on the runtime's two workers.
    let response = {
        let shared = Arc::clone(&shared);
        tokio::task::spawn_blocking(move || answer(&shared, &req)).await
    };
    let Ok(response) = response else {
        return respond::fault(Fault::status("", 500));
    };
    shared
        .meter
        .add_busy(started.elapsed().saturating_sub(slept));
    if response.extensions().get::<CutBody>().is_some() {
        return cut_body(response).await;
    }
    response
}

/// Marks an answer whose body must break off (see [`Mischief::CutBody`]).
#[derive(Clone, Copy, Debug)]
struct CutBody;

/// The answer with its full `Content-Length` but only the first half of its body, then an error
/// that makes the server drop the connection: what a client sees when a proxy or the network
/// gives up mid-transfer.
async fn cut_body(response: Response) -> Response {
    let (mut parts, body) = response.into_parts();
    let whole = to_bytes(body, usize::MAX).await.unwrap_or_default();
    parts
        .headers
        .insert(header::CONTENT_LENGTH, whole.len().into());
    let half = whole.slice(..whole.len() / 2);
    let broken = futures_util::stream::iter([
        Ok(half),
        Err(std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "the simulator cut this body off",
        )),
    ]);
    Response::from_parts(parts, axum::body::Body::from_stream(broken))
}

/// Answers a request after its latency: credentials, the rate limiter, injected faults, the
/// route; logs the answer.
fn answer(shared: &Shared, req: &Req) -> Response {
    // The OAuth endpoints judge bearer tokens as the gateway does.
    let door = if req.path.starts_with("/ex/jira/") || req.path.starts_with("/oauth/") {
        Door::Gateway
    } else {
        Door::Site
    };
    let header = req
        .headers
        .get(header::AUTHORIZATION)
        .and_then(|h| h.to_str().ok());
    let auth = auth::judge(shared.cfg.deployment, door, header, &shared.oauth());
    // The limit is the site's: OAuth's endpoints on Cloud are Atlassian's, not the site's.
    let limiter = shared
        .limiter
        .as_ref()
        .filter(|_| !req.path.starts_with("/oauth/") && req.path != "/authorize");
    let response = match limiter.map(|bucket| (bucket, bucket.take(Instant::now()))) {
        Some((bucket, Admission::Refused { wait })) => {
            shared.meter.rejected();
            limit::refused(shared.cfg.deployment, bucket, wait)
        }
        Some((bucket, Admission::Admitted { remaining, full_in })) => {
            let response = serve(shared, req, &auth);
            limit::admitted(shared.cfg.deployment, bucket, remaining, full_in, response)
        }
        None => serve(shared, req, &auth),
    };
    log(shared, req, auth, &response);
    response
}

/// What an admitted request gets: an injected fault, a random one, or the route's answer.
fn serve(shared: &Shared, req: &Req, auth: &AuthSeen) -> Response {
    shared.run_scheduled_touches(&req.path);
    if let Some(fault) = shared.faults().take(&req.path) {
        return respond::fault(fault);
    }
    let (edit, mischief) = shared.dice.roll();
    if let Some(edit) = edit {
        shared.apply_edit(edit);
    }
    match mischief {
        None => route(shared, req, auth),
        Some(Mischief::ServerError(status)) => respond::fault(Fault::status(&req.path, status)),
        Some(Mischief::RateLimited) => respond::fault(Fault::rate_limited(&req.path, 1, 1)),
        Some(Mischief::LoginPage) => respond::fault(Fault::html_login_page(&req.path)),
        Some(Mischief::CutBody) => {
            let mut response = route(shared, req, auth);
            if response.status().is_success() {
                response.extensions_mut().insert(CutBody);
            }
            response
        }
    }
}

fn log(shared: &Shared, req: &Req, auth: AuthSeen, response: &Response) {
    if response.extensions().get::<Unserved>().is_some() {
        shared
            .log()
            .record_unserved(format!("{} {}", req.method, req.path));
    }
    shared.log().record(RequestRecord {
        method: req.method.to_string(),
        path: req.path.clone(),
        query: req.raw_query.clone(),
        body: if req.method == Method::POST {
            String::from_utf8_lossy(&req.body).into_owned()
        } else {
            String::new()
        },
        auth,
        received: req.received,
        status: response.status().as_u16(),
        accepts_gzip: req
            .headers
            .get_all(header::ACCEPT_ENCODING)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .any(|v| v.split(',').any(|coding| coding.trim().starts_with("gzip"))),
    });
}

fn route(shared: &Shared, req: &Req, auth: &AuthSeen) -> Response {
    let segments: Vec<&str> = req
        .path
        .trim_start_matches('/')
        .trim_end_matches('/')
        .split('/')
        .collect();
    let cloud = shared.cfg.deployment == Deployment::Cloud;
    match segments.as_slice() {
        ["_edge", "tenant_info"] if req.method == Method::GET => meta::tenant_info(shared),
        ["oauth", "token"] if cloud => oauth::token(shared, req),
        // Data Center 8.22+ is its own OAuth 2.0 provider.
        ["rest", "oauth2", "latest", "token"] if !cloud => oauth::token(shared, req),
        ["authorize"] if cloud && req.method == Method::GET => oauth::authorize(shared, req),
        ["rest", "oauth2", "latest", "authorize"] if !cloud && req.method == Method::GET => {
            oauth::authorize(shared, req)
        }
        ["oauth", "token", "accessible-resources"] if cloud => {
            oauth::accessible_resources(req, auth)
        }
        [
            "ex",
            "jira",
            cloud_id,
            "rest",
            family @ ("api" | "agile"),
            version,
            rest @ ..,
        ] if cloud => {
            if *cloud_id != creds::CLOUD_ID {
                return gateway_error(404, "Not Found");
            }
            if !matches!(auth, AuthSeen::BearerOAuth | AuthSeen::Basic { .. }) {
                return gateway_error(401, "Unauthorized");
            }
            let base = format!("{}/ex/jira/{cloud_id}", req.origin);
            match *family {
                "api" => api(shared, req, version, rest, base),
                _ => agile_api(shared, req, version, rest, base),
            }
        }
        ["rest", family @ ("api" | "agile"), version, rest @ ..] => match auth {
            AuthSeen::None | AuthSeen::Invalid => {
                let realm = if cloud {
                    "Basic realm=\"protected-area\"".to_string()
                } else {
                    format!(
                        "OAuth realm=\"{}\"",
                        req.origin.replace(':', "%3A").replace('/', "%2F")
                    )
                };
                unauthenticated(&realm, *auth == AuthSeen::Invalid && !cloud)
            }
            _ if *family == "api" => api(shared, req, version, rest, req.origin.clone()),
            _ => agile_api(shared, req, version, rest, req.origin.clone()),
        },
        _ => unserved(&req.uri()),
    }
}

/// Jira Software's API, below `/rest/agile/1.0/`. Without Jira Software every path is a
/// plain 404 (served: the site simply has no such API).
fn agile_api(shared: &Shared, req: &Req, version: &str, rest: &[&str], base: String) -> Response {
    if !shared.cfg.jira_software {
        return respond::not_found(&req.uri());
    }
    if version != "1.0" || req.method != Method::GET {
        return unserved(&req.uri());
    }
    let call = Call {
        shared,
        req,
        api: Api::V2,
        base,
        user: 0,
    };
    match rest {
        ["board"] => agile::boards(&call),
        ["board", id] => agile::board(&call, id).into_response(),
        ["board", id, "configuration"] => agile::configuration(&call, id).into_response(),
        ["board", id, "sprint"] => agile::board_sprints(&call, id).into_response(),
        ["board", id, "issue"] => agile::board_issues(&call, id).into_response(),
        ["board", id, "epic"] => agile::board_epics(&call, id).into_response(),
        ["sprint", id] => agile::sprint(&call, id).into_response(),
        ["sprint", id, "issue"] => agile::sprint_issues(&call, id).into_response(),
        _ => unserved(&req.uri()),
    }
}

/// The REST API proper, below `/rest/api/{version}/`.
fn api(shared: &Shared, req: &Req, version: &str, rest: &[&str], base: String) -> Response {
    let cloud = shared.cfg.deployment == Deployment::Cloud;
    let api = match (version, cloud) {
        ("3", true) => Api::V3,
        ("2" | "latest", _) => Api::V2,
        _ => return unserved(&req.uri()),
    };
    let call = Call {
        shared,
        req,
        api,
        base,
        user: 0,
    };
    let get = req.method == Method::GET;
    let post = req.method == Method::POST;
    match rest {
        ["serverInfo"] if get => meta::server_info(&call),
        ["myself"] if get => meta::myself(&call),
        ["field"] if get => meta::fields(&call),
        ["field", field, "context"] if get && cloud => {
            setup::field_contexts(&call, field).into_response()
        }
        ["field", field, "context", context, "option"] if get && cloud => {
            setup::field_options(&call, field, context).into_response()
        }
        ["issuetype"] if get => reference::issue_types(&call),
        ["status"] if get => reference::statuses(&call),
        ["statuscategory"] if get => reference::status_categories(&call),
        ["priority"] if get => reference::priorities(&call),
        ["priority", "search"] if get && cloud => reference::priority_search(&call),
        ["label"] if get && cloud => reference::labels(&call),
        ["issueLinkType"] if get => reference::link_types(&call),
        ["configuration"] if get => reference::configuration(&call),
        ["applicationrole"] if get => reference::application_roles_list(&call),
        ["workflow", "search"] if get && cloud => setup::workflow_search(&call),
        ["workflow"] if get => setup::workflow_list(&call),
        ["workflowscheme"] if get && cloud => setup::workflow_schemes(&call),
        ["screens"] if get && cloud => setup::screens(&call),
        ["screenscheme"] if get && cloud => setup::screen_schemes(&call),
        ["issuetypescheme"] if get && cloud => setup::issue_type_schemes(&call),
        ["issuetypescreenscheme"] if get && cloud => setup::issue_type_screen_schemes(&call),
        ["fieldconfiguration"] if get && cloud => setup::field_configurations(&call),
        ["fieldconfigurationscheme"] if get && cloud => setup::field_configuration_schemes(&call),
        ["notificationscheme"] if get => setup::notification_schemes(&call),
        ["priorityscheme"] if get && cloud => setup::priority_schemes(&call),
        ["filter", "search"] if get && cloud => setup::filter_search(&call),
        ["dashboard"] if get => setup::dashboards(&call),
        ["permissionscheme"] if get => access::permission_schemes(&call),
        ["permissionscheme", id] if get => access::permission_scheme(&call, id).into_response(),
        ["permissionscheme", id, "permission"] if get => {
            access::permission_grants(&call, id).into_response()
        }
        ["issuesecurityschemes"] if get => access::security_schemes(&call),
        ["issuesecurityschemes", "level", "member"] if get && cloud => {
            access::security_level_members(&call)
        }
        ["issuesecurityschemes", id] if get => access::security_scheme(&call, id).into_response(),
        ["auditing", "record"] if get => audit::records(&call).into_response(),
        ["project", "search"] if get && cloud => projects::search(&call),
        ["project", "type"] if get => reference::project_types(&call),
        ["project"] if get => projects::list(&call),
        ["project", id_or_key] if get => projects::one(&call, id_or_key),
        ["project", id_or_key, "version"] if get => {
            projects::versions_page(&call, id_or_key).into_response()
        }
        ["project", id_or_key, "versions"] if get => {
            projects::versions_list(&call, id_or_key).into_response()
        }
        ["project", id_or_key, "components"] if get => {
            projects::components_list(&call, id_or_key).into_response()
        }
        ["project", id_or_key, "component"] if get && cloud => {
            projects::components_page(&call, id_or_key).into_response()
        }
        ["project", id_or_key, "statuses"] if get => {
            projects::statuses(&call, id_or_key).into_response()
        }
        ["project", id_or_key, "role"] if get => {
            access::project_roles(&call, id_or_key).into_response()
        }
        ["project", id_or_key, "role", role] if get => {
            access::project_role(&call, id_or_key, role).into_response()
        }
        ["project", id_or_key, "permissionscheme"] if get => {
            access::project_permission_scheme(&call, id_or_key).into_response()
        }
        ["projectCategory"] if get => reference::project_categories(&call),
        ["resolution"] if get => reference::resolutions(&call),
        ["role"] if get => reference::roles(&call),
        ["users", "search"] | ["users"] if get && cloud => users::cloud_list(&call),
        ["user", "search"] if get && !cloud => users::server_search(&call),
        ["user", "list"] if get && !cloud => users::server_list(&call),
        ["user"] if get => users::one(&call),
        ["group", "member"] if get => users::group_member(&call),
        ["group", "bulk"] if get && cloud => users::group_bulk(&call),
        ["groups", "picker"] if get => users::groups_picker(&call),
        ["search", "jql"] if (get || post) && cloud => search::token_search(&call).into_response(),
        ["search"] if (get || post) && cloud => search::removed(),
        ["search"] if get || post => search::offset_search(&call).into_response(),
        ["issue", id_or_key] if get => issues::one(&call, id_or_key).into_response(),
        ["issue", id_or_key, "comment"] if get => {
            issues::comments(&call, id_or_key).into_response()
        }
        ["issue", id_or_key, "worklog"] if get => {
            issues::worklogs(&call, id_or_key).into_response()
        }
        ["issue", id_or_key, "changelog"] if get && cloud => {
            issues::changelog(&call, id_or_key).into_response()
        }
        ["issue", id_or_key, "transitions"] if get => {
            issues::transitions(&call, id_or_key).into_response()
        }
        ["issue", id_or_key, "remotelink"] if get => {
            issues::remote_links(&call, id_or_key).into_response()
        }
        ["issue", id_or_key, "watchers"] if get => {
            issues::watchers(&call, id_or_key).into_response()
        }
        ["issue", id_or_key, "votes"] if get => issues::votes(&call, id_or_key).into_response(),
        ["worklog", "updated"] if get => worklogs::updated(&call),
        ["worklog", "deleted"] if get => worklogs::deleted(&call),
        ["worklog", "list"] if post => worklogs::list(&call).into_response(),
        ["changelog", "bulkfetch"] if post && cloud => {
            changelogs::bulk_fetch(&call).into_response()
        }
        _ => unserved(&req.uri()),
    }
}
