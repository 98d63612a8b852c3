//! Issues deleted from Jira, which no search shows: read from the audit log (administrators
//! only), or found by listing the ids Jira still has and asking after each one that went.

use std::pin::pin;

use chrono::{DateTime, Utc};
use futures::{Stream, StreamExt, TryStreamExt};
use serde_json::Value;

use super::AUDIT_LOG;
use super::issues::{self, JqlZone};
use crate::client::{ApiRequest, JiraClient, RawRecord, pages};
use crate::error::{Error, Result};
use crate::jql::{Jql, local_minute_at_or_before};
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
}

/// Audit log pages from `since` on (Jira reads `from` inclusively; records at `since` are left
/// out, having been read before).
pub fn audit_pages(
    client: &JiraClient,
    since: DateTime<Utc>,
) -> impl Stream<Item = Result<AuditPage>> + '_ {
    let (request, pagination) = AUDIT_LOG.unbound(client);
    // Jira reads this parameter with its own offset format, not RFC 3339's `Z`.
    let request = request.query("from", format_jira(since));
    // A page's records are kept as text and read as values one at a time: a page of many small
    // records turned into values whole cost ten times its size.
    pages::<RawRecord>(client, request, pagination, 1000).and_then(move |page| async move {
        let mut out = AuditPage {
            deleted: Vec::new(),
            newest: None,
            unusable: 0,
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
            match deletion_in(record) {
                Some(Some((id, key))) => out.deleted.push(DeletedIssue { id, key, at }),
                Some(None) => out.unusable += 1,
                None => {}
            }
        }
        Ok(out)
    })
}

/// Whether an audit record is an issue's deletion (`Some`), and if so the issue's id and key
/// (`Some(None)` when it names no numeric id). Jira writes `summary` "Issue deleted" with an
/// `ISSUE` object; some versions type the object `ISSUE_DELETE`.
fn deletion_in(record: &Value) -> Option<Option<(String, Option<String>)>> {
    let object = record.get("objectItem")?;
    let kind = object.get("typeName").and_then(Value::as_str).unwrap_or("");
    let summary = record.get("summary").and_then(Value::as_str).unwrap_or("");
    let deletion = kind.eq_ignore_ascii_case("ISSUE_DELETE")
        || (kind.eq_ignore_ascii_case("ISSUE") && summary.eq_ignore_ascii_case("Issue deleted"));
    if !deletion {
        return None;
    }
    let id = object
        .get("id")
        .and_then(super::id_text)
        .filter(|id| !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()));
    let key = object.get("name").and_then(Value::as_str).map(String::from);
    Some(id.map(|id| (id, key)))
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
    let jql = Jql::new()
        .and(filter)
        .at_or_after("created", since_ever)
        .render();
    let mut ids = Vec::new();
    let mut found = pin!(issues::search(client, jql, &["id"], 5000));
    while let Some(page) = found.try_next().await? {
        for issue in page.items.iter().filter_map(|i| RawObject::parse(i.get())) {
            if let Some(id) = issue
                .get("id")
                .and_then(Node::text)
                .and_then(raw::id_text)
                .and_then(|id| id.parse::<u64>().ok())
            {
                ids.push(id);
            }
        }
    }
    ids.sort_unstable();
    ids.dedup();
    Ok(ids)
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
        let found = Some(Some(("10012".to_string(), Some("WEB-12".to_string()))));
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
            Some(None)
        );
        assert_eq!(
            deletion_in(&record("Workflow updated", "WORKFLOW", json!("1"))),
            None
        );
        assert_eq!(
            deletion_in(&record("Issue created", "ISSUE", json!("1"))),
            None
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
