//! Issues deleted from Jira, which no search shows: read from the audit log (administrators
//! only), or found by listing the ids Jira still has and asking after each one that went.

use std::collections::HashSet;
use std::pin::pin;
use std::sync::Arc;

use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};
use futures::{Stream, StreamExt, TryStreamExt};
use serde_json::{Value, json};

use super::AUDIT_LOG;
use super::issues::offset_paging::{minute_by_id, one_minute};
use super::issues::{self, JqlZone};
use crate::client::{ApiRequest, JiraClient, Progress, RawRecord, fingerprint, pages, read_page};
use crate::config::Deployment;
use crate::error::{Error, Result};
use crate::jql::{Jql, Order, local_minute_at_or_before};
use crate::raw::{self, Node, RawObject};
use crate::timestamp::{format_jira, parse_jira};

/// An issue the audit log says was deleted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeletedIssue {
    pub id: String,
    pub key: Option<String>,
    pub at: DateTime<Utc>,
}

/// One page of the audit log: the deletions it records, and its newest record's time.
pub struct AuditPage {
    pub deleted: Vec<DeletedIssue>,
    pub newest: Option<DateTime<Utc>>,
    /// Deletion records without an issue id to key a record by.
    pub unusable: usize,
    /// Other records of an issue, which may be its deletion written in the site's language:
    /// only Jira can tell (`confirm_gone`).
    pub unconfirmed: Vec<DeletedIssue>,
    /// Ids of the records dated after `ahead_of` (Jira's time when the log was read).
    pub ahead: Vec<u64>,
}

/// Audit log pages from `since` on (Jira reads `from` inclusively; records at `since` are left
/// out, having been read before). Records dated after `ahead_of` have their ids listed
/// (`AuditPage::ahead`); those among `read` were read by the last run and are skipped.
pub fn audit_pages(
    client: &JiraClient,
    since: DateTime<Utc>,
    ahead_of: Option<DateTime<Utc>>,
    read: HashSet<u64>,
) -> impl Stream<Item = Result<AuditPage>> + '_ {
    let read = Arc::new(read);
    let (request, pagination) = AUDIT_LOG.unbound(client);
    // Jira reads this parameter with its own offset format, not RFC 3339's `Z`.
    let request = request.query("from", format_jira(since));
    // A page's records are kept as text and read as values one at a time: a page of many small
    // records turned into values whole cost ten times its size.
    pages::<RawRecord>(client, request, pagination, 1000).and_then(move |page| {
        let read = Arc::clone(&read);
        async move {
            let mut out = AuditPage {
                deleted: Vec::new(),
                newest: None,
                unusable: 0,
                unconfirmed: Vec::new(),
                ahead: Vec::new(),
            };
            for record in &page.items {
                let record = &record.value(AUDIT_LOG.path)?;
                let Some(at) = record
                    .get("created")
                    .and_then(Value::as_str)
                    .and_then(parse_jira)
                else {
                    continue;
                };
                if at <= since {
                    continue;
                }
                out.newest = out.newest.max(Some(at));
                let id = record.get("id").and_then(Value::as_u64);
                if let Some(id) = id.filter(|_| ahead_of.is_some_and(|now| at > now)) {
                    out.ahead.push(id);
                }
                // Read by the last run past its place: skipped also once Jira's clock is past it.
                if id.is_some_and(|id| read.contains(&id)) {
                    continue;
                }
                match deletion_in(record) {
                    Some(Audited::Deleted(Some((id, key)))) => {
                        out.deleted.push(DeletedIssue { id, key, at })
                    }
                    Some(Audited::Deleted(None)) => out.unusable += 1,
                    Some(Audited::Other(id, key)) => {
                        out.unconfirmed.push(DeletedIssue { id, key, at })
                    }
                    None => {}
                }
            }
            Ok(out)
        }
    })
}

/// What an audit record of an issue says of it.
#[derive(Debug, PartialEq, Eq)]
enum Audited {
    /// Its deletion, with the issue's id and key (`None` when it names no numeric id).
    Deleted(Option<(String, Option<String>)>),
    /// Something else, or its deletion in another language: Jira writes `summary` and
    /// `category` in the site's default language ("Vorgang gelöscht"), and only `typeName`
    /// is the same everywhere.
    Other(String, Option<String>),
}

/// What an audit record says of an issue, `None` when it is of something else. Jira writes
/// `summary` "Issue deleted" with an `ISSUE` object; some versions type the object
/// `ISSUE_DELETE`.
fn deletion_in(record: &Value) -> Option<Audited> {
    let object = record.get("objectItem")?;
    let kind = object.get("typeName").and_then(Value::as_str).unwrap_or("");
    let summary = record.get("summary").and_then(Value::as_str).unwrap_or("");
    let issue = kind.eq_ignore_ascii_case("ISSUE");
    if !issue && !kind.eq_ignore_ascii_case("ISSUE_DELETE") {
        return None;
    }
    let id = object
        .get("id")
        .and_then(super::id_text)
        .filter(|id| !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()));
    let key = object.get("name").and_then(Value::as_str).map(String::from);
    if !issue || summary.eq_ignore_ascii_case("Issue deleted") {
        return Some(Audited::Deleted(id.map(|id| (id, key))));
    }
    id.map(|id| Audited::Other(id, key))
}

/// Jira's clock now (`serverInfo`'s `serverTime`), which dates its audit records; `None` when
/// it does not say.
pub async fn server_time(client: &JiraClient) -> Result<Option<DateTime<Utc>>> {
    let request = ApiRequest::get(client.api_path("serverInfo"));
    let info = client.send_json(request).await?;
    Ok(info
        .get("serverTime")
        .and_then(Value::as_str)
        .and_then(parse_jira))
}

/// The project key an issue key starts with (`WEB` of `WEB-12`).
pub fn project_of(key: &str) -> Option<&str> {
    key.rsplit_once('-').map(|(project, _)| project)
}

/// Every issue id the search `filter` covers, sorted: pages of ids only (Jira gives up to 5000
/// a page for them). Ids take eight bytes each here.
pub async fn live_issue_ids(client: &JiraClient, filter: &Jql, zone: JqlZone) -> Result<Vec<u64>> {
    // Cloud refuses a search without a restriction; this one holds every issue.
    let since_ever = local_minute_at_or_before(DateTime::UNIX_EPOCH, zone.tz);
    let mut ids = Vec::new();
    if client.deployment() == Deployment::Server {
        server_issue_ids(client, filter, zone, since_ever, &mut ids).await?;
    } else {
        let jql = Jql::new()
            .and(filter)
            .at_or_after("created", since_ever)
            .render();
        let mut found = pin!(issues::search(client, jql, &["id"], 5000));
        while let Some(page) = found.try_next().await? {
            ids.extend(page.items.iter().filter_map(|i| issue_id(i.get())));
        }
    }
    ids.sort_unstable();
    ids.dedup();
    Ok(ids)
}

/// Issues a Server/DC listing page asks for: the most Jira gives a page.
const SERVER_LISTING_PAGE: u64 = 1000;

/// Adds the ids of the issues `filter` covers, in order of creation. Data Center refuses a page
/// past its search platform's window (10,000 rows: "Search limit exceeded"), so each query starts
/// again at the minute of the newest issue read, its offsets staying within a page or two; the
/// rows read again are dropped with the other repeats. A minute in which more issues were created
/// than a page holds (a bulk import) would walk the offsets through all of them: it is listed by
/// id instead, and the listing goes on at the next minute.
async fn server_issue_ids(
    client: &JiraClient,
    filter: &Jql,
    zone: JqlZone,
    mut from: NaiveDateTime,
    ids: &mut Vec<u64>,
) -> Result<()> {
    let path = client.api_path("search");
    let mut start = 0u64;
    let mut progress = Progress::default();
    loop {
        let jql = Jql::new()
            .and(filter)
            .at_or_after("created", from)
            .order_by("created", Order::Asc)
            .order_by("key", Order::Asc)
            .render();
        let body = json!({"jql": jql, "fields": ["id", "created"], "startAt": start,
                          "maxResults": SERVER_LISTING_PAGE});
        let request = ApiRequest::post(path.clone(), body);
        let (response, items) = read_page::<RawRecord>(client, request, Some("issues")).await?;
        let mut newest: Option<DateTime<Utc>> = None;
        let mut created_at = Vec::with_capacity(items.len());
        for item in &items {
            ids.extend(issue_id(item.get()));
            let created = RawObject::parse(item.get())
                .and_then(|issue| issue.pointer("/fields/created").and_then(raw::as_str))
                .and_then(|t| parse_jira(&t));
            newest = newest.max(created);
            created_at.extend(created);
        }
        let n = items.len() as u64;
        let last = n == 0
            || response
                .get("total")
                .and_then(Value::as_u64)
                .is_some_and(|total| start + n >= total);
        progress.judge(fingerprint(items.iter().map(RawRecord::get)), !last, &path)?;
        if last {
            return Ok(());
        }
        // A page past the query's first, wholly inside one minute: it holds more issues than a
        // page, which offsets would have to walk through.
        let crowded = (start > 0 && created_at.len() == items.len())
            .then(|| one_minute(&created_at, zone))
            .flatten()
            // Only a minute the query reaches, not one listed already and brought again.
            .filter(|(minute, _)| *minute >= from);
        if let Some((minute, next)) = crowded {
            let listed = minute_by_id(client, filter, "created", minute, next).await?;
            ids.extend(listed.into_iter().map(|(id, _)| id));
            from = next;
            start = 0;
            continue;
        }
        // A local minute a DST change repeats may be read as its later instant, past rows not
        // yet read: the query goes on by offset.
        let next = newest
            .map(|t| local_minute_at_or_before(t - zone.slack, zone.tz))
            .filter(|minute| zone.tz.from_local_datetime(minute).single().is_some());
        match next {
            Some(minute) if minute > from => {
                from = minute;
                start = 0;
            }
            _ => start += n,
        }
    }
}

/// An issue's numeric id, from its JSON text.
pub(super) fn issue_id(text: &str) -> Option<u64> {
    RawObject::parse(text)?
        .get("id")
        .and_then(Node::text)
        .and_then(raw::id_text)
        .and_then(|id| id.parse::<u64>().ok())
}

/// Requests asking after vanished ids at once.
const ASKED_AT_ONCE: usize = 8;

/// Of `candidates` (ids a listing no longer had), those Jira no longer has: it answers 404 for
/// them. An issue that only left the listing (its page shifted, it moved out of the filters) is
/// still there and is not reported.
pub async fn confirm_gone(client: &JiraClient, candidates: Vec<u64>) -> Result<Vec<u64>> {
    let asks = futures::stream::iter(candidates).map(|id| async move {
        let request =
            ApiRequest::get(client.api_path(&format!("issue/{id}"))).query("fields", "id");
        match client.send_json(request).await {
            Ok(_) => Ok(None),
            Err(Error::Http { status: 404, .. }) => Ok(Some(id)),
            Err(e) => Err(e),
        }
    });
    let mut gone: Vec<u64> = asks
        .buffer_unordered(ASKED_AT_ONCE)
        .try_filter_map(|id| async move { Ok(id) })
        .try_collect()
        .await?;
    gone.sort_unstable();
    Ok(gone)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn issue_deletions_are_told_from_other_audit_records() {
        let record = |summary: &str, kind: &str, id: Value| {
            json!({"summary": summary, "created": "2024-01-01T00:00:00.000+0000",
                   "objectItem": {"id": id, "name": "WEB-12", "typeName": kind}})
        };
        let found = Some(Audited::Deleted(Some((
            "10012".to_string(),
            Some("WEB-12".to_string()),
        ))));
        assert_eq!(
            deletion_in(&record("Issue deleted", "ISSUE", json!("10012"))),
            found
        );
        assert_eq!(
            deletion_in(&record("Deleted", "ISSUE_DELETE", json!(10012))),
            found
        );
        assert_eq!(
            deletion_in(&record("Issue deleted", "ISSUE", json!("WEB-12"))),
            Some(Audited::Deleted(None))
        );
        assert_eq!(
            deletion_in(&record("Workflow updated", "WORKFLOW", json!("1"))),
            None
        );
        // Perhaps a deletion in another language: Jira is asked.
        assert_eq!(
            deletion_in(&record("Vorgang gelöscht", "ISSUE", json!("1"))),
            Some(Audited::Other("1".into(), Some("WEB-12".into())))
        );
        assert_eq!(deletion_in(&json!({"summary": "Issue deleted"})), None);
    }

    #[test]
    fn issue_keys_name_their_project() {
        assert_eq!(project_of("WEB-12"), Some("WEB"));
        assert_eq!(project_of("A_B-1"), Some("A_B"));
        assert_eq!(project_of("nokey"), None);
    }
}
