//! Issue search: Cloud's `/search/jql` (page tokens, bounded JQL only), Server's `/search`
//! (offsets and totals), and the 410 Cloud now gives for the old `/search`.

use axum::response::Response;
use serde_json::{Map, Value, json};

use super::Call;
use super::respond::{Rejection, Reply, error1, ok};
use crate::jql;
use crate::render::issue::issue;
use crate::render::{Ctx, object};
use crate::search::{LastRow, PageToken, hits, position_after};
use crate::select::{self, DefaultFields, Expand, Selection};
use crate::site::Site;

const UNBOUNDED: &str =
    "Unbounded JQL queries are not allowed here. Please add a search restriction to your query.";
const REMOVED: &str = "The requested API has been removed. Please migrate to the /rest/api/3/search/jql API. A full migration guideline is available at https://developer.atlassian.com/changelog/#CHANGE-2046";
const BAD_TOKEN: &str =
    "The provided next page token is invalid or expired, or does not belong to this query.";

/// Search parameters, from the query string (GET) or the JSON body (POST).
#[derive(Default)]
struct SearchInput {
    jql: String,
    next_page_token: Option<String>,
    start_at: Option<i64>,
    max_results: Option<i64>,
    fields: Vec<String>,
    expand: Vec<String>,
}

/// A JSON value that may be a string or an array of strings, as `fields` and `expand` may.
fn strings(value: Option<&Value>) -> Vec<String> {
    match value {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(|v| v.as_str().map(String::from))
            .collect(),
        _ => Vec::new(),
    }
}

fn input(call: &Call) -> Result<SearchInput, Rejection> {
    let req = call.req;
    if req.method == axum::http::Method::POST {
        let Some(body) = req.json() else {
            return Err(Rejection::new(
                400,
                "Unexpected character in the request body: it must be JSON.",
            ));
        };
        return Ok(SearchInput {
            jql: body
                .get("jql")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string(),
            next_page_token: body
                .get("nextPageToken")
                .and_then(Value::as_str)
                .map(String::from),
            start_at: body.get("startAt").and_then(Value::as_i64),
            max_results: body.get("maxResults").and_then(Value::as_i64),
            fields: strings(body.get("fields")),
            expand: strings(body.get("expand")),
        });
    }
    Ok(SearchInput {
        jql: req.param("jql").unwrap_or_default().to_string(),
        next_page_token: req.param("nextPageToken").map(String::from),
        start_at: req.number("startAt"),
        max_results: req.number("maxResults"),
        fields: req.params("fields"),
        expand: req.params("expand"),
    })
}

/// Parses and binds the JQL; a Jira 400 otherwise.
pub(super) fn plan(
    site: &Site,
    jql_text: &str,
    bounded_only: bool,
) -> Result<jql::Plan, Rejection> {
    let query = jql::parse(jql_text, site.tz).map_err(|message| Rejection::new(400, message))?;
    if bounded_only && !query.is_bounded() {
        return Err(Rejection::new(400, UNBOUNDED));
    }
    jql::bind(&query, site).map_err(|messages| Rejection {
        status: 400,
        messages,
    })
}

/// `names` and `schema` maps for the returned fields, when expanded.
fn add_names_and_schema(
    body: &mut Map<String, Value>,
    ctx: &Ctx,
    selection: &Selection,
    expand: &Expand,
) {
    let fields = || selection.fields.iter().map(|&f| &ctx.site.fields[f]);
    if expand.names {
        let names: Map<String, Value> = fields().map(|f| (f.id.clone(), json!(f.name))).collect();
        body.insert("names".into(), Value::Object(names));
    }
    if expand.schema {
        let schema: Map<String, Value> = fields()
            .filter_map(|f| {
                let s = f.schema.as_ref()?;
                let value = object([
                    ("type", Some(json!(s.type_))),
                    ("items", s.items.map(|i| json!(i))),
                    ("system", s.system.map(|x| json!(x))),
                    ("custom", s.custom.map(|x| json!(x))),
                    ("customId", s.custom_id.map(|x| json!(x))),
                ]);
                Some((f.id.clone(), value))
            })
            .collect();
        body.insert("schema".into(), Value::Object(schema));
    }
}

/// Cloud: `GET`/`POST /search/jql`: `{issues, nextPageToken?, isLast}`, no totals.
pub(crate) fn token_search(call: &Call) -> Reply {
    let input = input(call)?;
    let site = call.shared.site();
    let plan = plan(&site, &input.jql, true)?;
    let previous = match &input.next_page_token {
        None => None,
        Some(text) => match PageToken::decode(text) {
            Some(token) if token.jql == input.jql => Some(token),
            _ => return Err(Rejection::new(400, BAD_TOKEN)),
        },
    };
    let all = hits(&call.shared.results, &input.jql, &site, &plan);
    let start = previous
        .as_ref()
        .map_or(0, |token| position_after(&all, &site, &plan, &token.last));
    let limit = input
        .max_results
        .unwrap_or(50)
        .clamp(1, call.shared.cfg.max_page_size.max(1) as i64) as usize;
    let page = &all[start.min(all.len())..(start + limit).min(all.len())];
    let is_last = start + page.len() >= all.len();

    let ctx = call.ctx(&site);
    let selection = select::fields(&site, &input.fields, DefaultFields::IdOnly);
    let expand = Expand::parse(&input.expand).with_changelog_cap(Some(40));
    let issues: Vec<Value> = page
        .iter()
        .map(|&i| issue(&ctx, i as usize, &selection, &expand))
        .collect();
    let mut body = Map::new();
    body.insert("issues".into(), Value::Array(issues));
    add_names_and_schema(&mut body, &ctx, &selection, &expand);
    if let (false, Some(&last)) = (is_last, page.last()) {
        let token = PageToken {
            jql: input.jql.clone(),
            last: LastRow::of(&site, last as usize),
            seen: previous.map_or(0, |t| t.seen) + page.len() as u64,
        };
        body.insert("nextPageToken".into(), json!(token.encode()));
    }
    body.insert("isLast".into(), json!(is_last));
    Ok(ok(&Value::Object(body)))
}

/// Server (and old Cloud): `GET`/`POST /search`: `{expand, startAt, maxResults, total, issues}`.
pub(crate) fn offset_search(call: &Call) -> Reply {
    let input = input(call)?;
    let site = call.shared.site();
    let plan = plan(&site, &input.jql, false)?;
    let all = hits(&call.shared.results, &input.jql, &site, &plan);
    let start_at = input.start_at.unwrap_or(0).max(0) as usize;
    let max_results = input
        .max_results
        .unwrap_or(50)
        .clamp(0, call.shared.cfg.max_page_size as i64) as usize;
    let window = call.shared.cfg.search_window;
    if !site.is_cloud() && start_at + max_results > window {
        return Err(Rejection::new(
            500,
            format!(
                "Search limit exceeded. We couldn't complete your search because it requests {} \
                 results which exceeded the search platform limit of {window}.",
                start_at + max_results
            ),
        ));
    }
    let ctx = call.ctx(&site);
    let selection = select::fields(&site, &input.fields, DefaultFields::Navigable);
    let expand = Expand::parse(&input.expand).with_changelog_cap(Some(100));
    let issues: Vec<Value> = all
        .iter()
        .skip(start_at)
        .take(max_results)
        .map(|&i| issue(&ctx, i as usize, &selection, &expand))
        .collect();
    let mut body = Map::new();
    body.insert("expand".into(), json!("names,schema"));
    body.insert("startAt".into(), json!(start_at));
    body.insert("maxResults".into(), json!(max_results));
    body.insert("total".into(), json!(all.len()));
    body.insert("issues".into(), Value::Array(issues));
    add_names_and_schema(&mut body, &ctx, &selection, &expand);
    Ok(ok(&Value::Object(body)))
}

/// Cloud's answer to the removed `/rest/api/{2,3}/search`.
pub(crate) fn removed() -> Response {
    error1(410, REMOVED)
}
