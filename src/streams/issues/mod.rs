//! The `issues` stream: JQL search in `updated` order (Cloud `/search/jql` with `nextPageToken`,
//! Server/DC `/search` with `startAt`), and the bookmark that makes it incremental and resumable.

use std::collections::HashSet;
use std::pin::pin;
use std::sync::Arc;

use chrono::{DateTime, Duration, NaiveDateTime, Utc};
use chrono_tz::Tz;
use futures::{Stream, TryStreamExt};
use serde_json::{Value, json};

use crate::client::{ApiRequest, JiraClient, Page, PageSize, Pagination, pages};
use crate::config::Deployment;
use crate::error::{Error, Result};
use crate::filters::Filters;
use crate::jql::{Jql, Order, local_minute_at_or_before};
use crate::raw::{self, Node, Opening, RawObject};
use crate::timestamp::parse_jira;

mod bookmark;
pub(crate) mod offset_paging;
mod partitions;
pub use bookmark::Bookmark;
pub use partitions::{Plan, Progress};

/// The JQL of the first page: issues in `scope` updated from `from` on, in the user's zone.
pub fn jql_from(from: DateTime<Utc>, tz: Tz, scope: &Scope, filter: &Jql) -> String {
    updated_since_jql(local_minute_at_or_before(from, tz), scope, filter)
}

/// Which issues a search covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// Every issue the account may browse.
    Site,
    /// The issues of these projects, by id.
    Projects(Vec<String>),
    /// The issues of every project but these: projects created after the list was read, and any
    /// the project list does not show.
    OtherThan(Vec<String>),
}

/// Pages of the issues updated from `from` on (widened by the zone's slack), oldest first; the
/// caller drops rows it has already written. Cloud's `nextPageToken` carries the last row's sort
/// values, so its pages never shift; Server's `startAt` offsets do (see `offset_paging`).
pub fn issue_pages<'a>(
    client: &'a JiraClient,
    scope: &'a Scope,
    filter: &'a Jql,
    from: DateTime<Utc>,
    zone: JqlZone,
    query: &'a IssueQuery,
    page_size: u32,
) -> impl Stream<Item = Result<Page>> + 'a {
    async_stream::try_stream! {
        match client.deployment() {
            Deployment::Cloud => {
                let jql = jql_from(from - zone.slack, zone.tz, scope, filter);
                let mut body = json!({"jql": jql, "fields": query.fields});
                if !query.expand.is_empty() {
                    // `/search/jql` takes expansions as one comma-separated string.
                    body["expand"] = json!(query.expand.join(","));
                }
                let request = ApiRequest::post(client.api_path("search/jql"), body)
                    .taking_apart(query.opening.clone());
                let size = query.page_size(page_size);
                let mut all = pin!(pages(client, request, Pagination::Token { items: "issues" }, size));
                while let Some(page) = all.try_next().await? {
                    yield page;
                }
            }
            Deployment::Server => {
                let mut all = pin!(offset_paging::server_pages(client, scope, filter, from, zone, query, page_size));
                while let Some(page) = all.try_next().await? {
                    yield page;
                }
            }
        }
    }
}

/// Pages of the issues `ids` the filter keeps, bringing what `query` asks, by one search a
/// hundred ids (a JQL well within Jira's length limits), each batch in `updated` order: for
/// issues read apart from the search by `updated`. An id Jira no longer has is left out.
pub fn issues_with_ids<'a>(
    client: &'a JiraClient,
    ids: &'a [String],
    filter: &'a Jql,
    query: &'a IssueQuery,
    page_size: u32,
) -> impl Stream<Item = Result<Page>> + 'a {
    async_stream::try_stream! {
        for batch in ids.chunks(ID_BATCH) {
            let mut batch = batch.to_vec();
            // Jira refuses the whole search when one of the ids is gone (deleted or hidden
            // again since it was listed): the rest are asked again.
            'batch: while !batch.is_empty() {
                // In `updated` order, as the caller writes a search's pages.
                let jql = Jql::new()
                    .field_in("id", &batch, false)
                    .and(filter)
                    .order_by("updated", Order::Asc)
                    .order_by("key", Order::Asc)
                    .render();
                let mut found = pin!(search_bringing(client, jql, query, page_size));
                let mut first = true;
                loop {
                    match found.try_next().await {
                        Ok(Some(page)) => {
                            first = false;
                            yield page;
                        }
                        Ok(None) => break 'batch,
                        Err(Error::Http { status: 400, excerpt, .. })
                            if first && batch.iter().any(|id| named_as_missing(&excerpt, id)) =>
                        {
                            batch.retain(|id| !named_as_missing(&excerpt, id));
                            continue 'batch;
                        }
                        Err(e) => Err(e)?,
                    }
                }
            }
        }
    }
}

/// Pages of a search for `jql` bringing what `query` asks, on either deployment.
fn search_bringing<'a>(
    client: &'a JiraClient,
    jql: String,
    query: &'a IssueQuery,
    page_size: u32,
) -> impl Stream<Item = Result<Page>> + 'a {
    let mut body = json!({"jql": jql, "fields": query.fields});
    let (path, pagination) = match client.deployment() {
        Deployment::Cloud => {
            if !query.expand.is_empty() {
                // `/search/jql` takes expansions as one comma-separated string.
                body["expand"] = json!(query.expand.join(","));
            }
            ("search/jql", Pagination::Token { items: "issues" })
        }
        Deployment::Server => {
            if !query.expand.is_empty() {
                body["expand"] = json!(query.expand);
            }
            let pagination = Pagination::Offset {
                items: Some("issues"),
            };
            ("search", pagination)
        }
    };
    let request = ApiRequest::post(client.api_path(path), body).taking_apart(query.opening.clone());
    pages(client, request, pagination, query.page_size(page_size))
}

/// Which of the issues `ids` the filters keep, by one search a hundred ids: for rows read apart
/// from the issue search, such as worklogs, that belong to an issue.
pub async fn ids_matching(
    client: &JiraClient,
    ids: &[String],
    filters: &Filters,
    zone: JqlZone,
) -> Result<HashSet<String>> {
    let filter = filters.jql(zone);
    let mut kept = HashSet::new();
    for batch in ids.chunks(ID_BATCH) {
        let mut batch = batch.to_vec();
        // Jira refuses the whole search when one of the ids is gone (an issue deleted since its
        // rows were listed): that issue keeps nothing, and the rest are asked again.
        while !batch.is_empty() {
            match matching(client, &batch, filters, &filter, &mut kept).await {
                Err(Error::Http {
                    status: 400,
                    excerpt,
                    ..
                }) if batch.iter().any(|id| named_as_missing(&excerpt, id)) => {
                    batch.retain(|id| !named_as_missing(&excerpt, id));
                }
                result => {
                    result?;
                    break;
                }
            }
        }
    }
    Ok(kept)
}

/// Adds to `kept` the issues of `batch` the filters keep, by one search.
async fn matching(
    client: &JiraClient,
    batch: &[String],
    filters: &Filters,
    filter: &Jql,
    kept: &mut HashSet<String>,
) -> Result<()> {
    let jql = Jql::new().field_in("id", batch, false).and(filter).render();
    let fields = ["id", "created", "updated"];
    let mut found = pin!(search(client, jql, &fields, ID_BATCH as u32));
    while let Some(page) = found.try_next().await? {
        for issue in page.items.iter().filter_map(|i| RawObject::parse(i.get())) {
            let inside = windows_keep(filters, &issue).unwrap_or(!filters.has_windows());
            if let Some(id) = issue.get("id").and_then(Node::text).and_then(raw::id_text)
                && inside
            {
                kept.insert(id);
            }
        }
    }
    Ok(())
}

/// Whether Jira's refusal of a search names the issue `id` as one that does not exist
/// ("An issue with key '10040' does not exist for field 'id'.").
fn named_as_missing(excerpt: &str, id: &str) -> bool {
    excerpt.contains(&format!("An issue with key '{id}' does not exist"))
}

/// Whether the filters' windows keep an issue, by its `fields.created` and `fields.updated`;
/// `None` when it has no `updated` to judge by.
pub fn windows_keep(filters: &Filters, issue: &RawObject<'_>) -> Option<bool> {
    let instant = |pointer: &str| {
        issue
            .pointer(pointer)
            .and_then(raw::as_str)
            .and_then(|t| parse_jira(&t))
    };
    let updated = instant("/fields/updated")?;
    Some(filters.keeps_issue(instant("/fields/created"), updated))
}

/// Issue ids asked about in one search.
const ID_BATCH: usize = 100;

/// Pages of a search for `jql` bringing `fields`, on either deployment.
pub fn search<'a>(
    client: &'a JiraClient,
    jql: String,
    fields: &[&str],
    page_size: u32,
) -> impl Stream<Item = Result<Page>> + 'a {
    let body = json!({"jql": jql, "fields": fields});
    let (path, pagination) = match client.deployment() {
        Deployment::Cloud => ("search/jql", Pagination::Token { items: "issues" }),
        Deployment::Server => (
            "search",
            Pagination::Offset {
                items: Some("issues"),
            },
        ),
    };
    pages(
        client,
        ApiRequest::post(client.api_path(path), body),
        pagination,
        page_size,
    )
}

/// Asks Jira to judge the filter's JQL before anything is synced: a mistake is one clear line,
/// not a failure halfway through the issues.
pub async fn check_filter(client: &JiraClient, filter: &Jql) -> Result<()> {
    let jql = filter.render();
    let mut probe = pin!(search(client, jql.clone(), &["id"], 1));
    match probe.try_next().await {
        Ok(_) => Ok(()),
        Err(Error::Http {
            status: 400,
            excerpt,
            ..
        }) => Err(Error::config(
            "jql",
            format!("Jira refused the search `{jql}`: {excerpt}"),
            "fix the JQL; it is ANDed with the tap's own clauses and the project and date filters",
        )),
        Err(e) => Err(e),
    }
}

/// What each issue of a search brings: its fields (`fields=`) and expansions (`expand=`), and
/// how it is taken apart when it is read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IssueQuery {
    pub fields: Vec<String>,
    pub expand: Vec<String>,
    /// The objects of each issue taken apart as its page is checked (`ApiRequest::taking_apart`).
    pub opening: Arc<[Opening]>,
}

impl IssueQuery {
    /// Pages of at most `largest` issues, the first asked smaller when many fields are: a site
    /// of thousands of custom fields gives issues of up to a megabyte.
    fn page_size(&self, largest: u32) -> PageSize {
        PageSize::for_fields(largest, self.fields.len())
    }
}

/// `[project …] AND [the user's filters] AND updated >= "<local minute>" ORDER BY updated ASC,
/// key ASC`.
fn updated_since_jql(local_minute: NaiveDateTime, scope: &Scope, filter: &Jql) -> String {
    scope_jql(scope)
        .and(filter)
        .at_or_after("updated", local_minute)
        .order_by("updated", Order::Asc)
        .order_by("key", Order::Asc)
        .render()
}

/// `[project …]`: the issues `scope` covers.
fn scope_jql(scope: &Scope) -> Jql {
    match scope {
        Scope::Site => Jql::new(),
        Scope::Projects(ids) => Jql::new().project_in(ids, false),
        Scope::OtherThan(ids) if ids.is_empty() => Jql::new(),
        Scope::OtherThan(ids) => Jql::new().project_in(ids, true),
    }
}

/// The zone JQL dates are read in, and how far to widen a date bound because of it.
#[derive(Debug, Clone, Copy)]
pub struct JqlZone {
    pub tz: Tz,
    pub slack: Duration,
}

/// The Jira user's time zone (`/myself` → `timeZone`). When Jira does not say, dates are written
/// in UTC and bounds widened by the largest UTC offset, so no zone can make them start late.
pub fn user_time_zone(myself: &Value) -> JqlZone {
    let zone = myself.get("timeZone").and_then(Value::as_str);
    match zone.map(str::parse::<Tz>) {
        Some(Ok(tz)) => JqlZone {
            tz,
            slack: Duration::zero(),
        },
        _ => {
            tracing::warn!(time_zone = ?zone, "the Jira user's time zone is unknown; searching from 14 hours early");
            JqlZone {
                tz: Tz::UTC,
                slack: Duration::hours(14),
            }
        }
    }
}

/// The issue's id and `updated` instant, which order and bookmark the stream.
pub fn cursor_of(issue: &RawObject<'_>) -> Option<(String, DateTime<Utc>)> {
    let id = raw::id_text(issue.get("id")?.text()?)?;
    let updated = parse_jira(&raw::as_str(issue.pointer("/fields/updated")?)?)?;
    Some((id, updated))
}

/// Copies `fields.updated` and `fields.created` to the top level, where Singer expects the
/// replication key.
pub fn hoist_timestamps(issue: &mut RawObject<'_>) {
    for (pointer, key) in [
        ("/fields/updated", "\"updated\""),
        ("/fields/created", "\"created\""),
    ] {
        if let Some(value) = issue.pointer(pointer) {
            issue.insert(key, Node::Text(value));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        parse_jira(s).unwrap()
    }

    #[test]
    fn jql_starts_at_the_minute_in_the_users_zone() {
        let from = utc("2024-01-31T13:05:42Z");
        assert_eq!(
            jql_from(from, chrono_tz::Asia::Kolkata, &Scope::Site, &Jql::new()),
            r#"updated >= "2024/01/31 18:35" ORDER BY updated ASC, key ASC"#
        );
        assert_eq!(
            jql_from(
                from - Duration::minutes(10),
                Tz::UTC,
                &Scope::Site,
                &Jql::new()
            ),
            r#"updated >= "2024/01/31 12:55" ORDER BY updated ASC, key ASC"#
        );
    }

    #[test]
    fn an_unknown_user_zone_widens_the_bound() {
        assert_eq!(
            user_time_zone(&json!({"timeZone": "Asia/Kolkata"})).slack,
            Duration::zero()
        );
        let unknown = user_time_zone(&json!({"timeZone": "Mars/Olympus"}));
        assert_eq!((unknown.tz, unknown.slack), (Tz::UTC, Duration::hours(14)));
    }
}
