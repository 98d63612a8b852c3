//! `GET auditing/record`: the audit log, newest first, `{offset, limit, total, records}`.
//! Needs the *Administer Jira* permission (`SimConfig::admin`), 403 otherwise.

use chrono::{DateTime, NaiveDate, NaiveDateTime};
use serde_json::{Value, json};

use super::Call;
use super::respond::{Rejection, Reply, ok};
use crate::render::object;
use crate::rng::{stream, topic};
use crate::site::Site;
use crate::site::people::uuid;
use crate::site::setup::{AuditItem, AuditRecord};
use crate::times::{self, Offset};

pub(crate) const NOT_ADMIN: &str =
    "You do not have permission to view the audit log. Only Jira administrators can do that.";

/// Reads a `from` / `to` value: Jira's timestamp (`2024-01-31T13:05:00.000+0000`), ISO 8601
/// with a `Z` or colon offset, a date-time or date without zone (UTC), or epoch milliseconds.
fn parse_instant(text: &str) -> Option<i64> {
    let text = text.trim();
    if let Ok(ms) = text.parse::<i64>() {
        return Some(ms);
    }
    times::parse_timestamp(text)
        .or_else(|| {
            DateTime::parse_from_rfc3339(text)
                .ok()
                .map(|t| t.timestamp_millis())
        })
        .or_else(|| {
            [
                "%Y-%m-%dT%H:%M:%S%.f",
                "%Y-%m-%dT%H:%M:%S",
                "%Y-%m-%dT%H:%M",
            ]
            .iter()
            .find_map(|f| NaiveDateTime::parse_from_str(text, f).ok())
            .map(|t| t.and_utc().timestamp_millis())
        })
        .or_else(|| {
            NaiveDate::parse_from_str(text, "%Y-%m-%d")
                .ok()
                .and_then(|d| d.and_hms_opt(0, 0, 0))
                .map(|t| t.and_utc().timestamp_millis())
        })
}

fn bound(call: &Call, name: &str) -> Result<Option<i64>, Rejection> {
    match call.req.param(name) {
        None | Some("") => Ok(None),
        Some(text) => parse_instant(text).map(Some).ok_or_else(|| {
            Rejection::new(
                400,
                format!("The '{name}' date '{text}' could not be read."),
            )
        }),
    }
}

fn item_json(item: &AuditItem) -> Value {
    object([
        ("id", item.id.as_ref().map(|i| json!(i))),
        ("name", Some(json!(item.name))),
        ("typeName", Some(json!(item.type_name))),
        ("parentId", item.parent.map(|(id, _)| json!(id))),
        ("parentName", item.parent.map(|(_, name)| json!(name))),
    ])
}

fn record_json(site: &Site, record: &AuditRecord) -> Value {
    let cloud = site.is_cloud();
    let author = record.author.map(|u| &site.users()[u]);
    let author_key = record.author.map(|u| {
        if cloud {
            format!(
                "ug:{}",
                uuid(&mut stream(site.seed, &[topic::AUDIT, 1, u as u64]))
            )
        } else {
            site.users()[u].key.clone()
        }
    });
    let changed: Vec<Value> = record
        .changed
        .iter()
        .map(|(field, from, to)| {
            object([
                ("fieldName", Some(json!(field))),
                ("changedFrom", from.as_ref().map(|f| json!(f))),
                ("changedTo", Some(json!(to))),
            ])
        })
        .collect();
    object([
        ("id", Some(json!(record.id))),
        ("summary", Some(json!(record.summary))),
        (
            "remoteAddress",
            record.remote_address.as_ref().map(|a| json!(a)),
        ),
        ("authorKey", author_key.map(|k| json!(k))),
        (
            "authorAccountId",
            author.filter(|_| cloud).map(|u| json!(u.account_id)),
        ),
        (
            "created",
            Some(json!(times::timestamp(record.created, Offset::Utc))),
        ),
        ("category", Some(json!(record.category))),
        ("eventSource", Some(json!(""))),
        ("description", record.description.as_ref().map(|d| json!(d))),
        ("objectItem", Some(item_json(&record.object))),
        (
            "changedValues",
            (!changed.is_empty()).then(|| json!(changed)),
        ),
        (
            "associatedItems",
            (!record.associated.is_empty())
                .then(|| json!(record.associated.iter().map(item_json).collect::<Vec<_>>())),
        ),
    ])
}

/// Whether every word of `filter` is found (case-insensitively) in one of the fields Jira
/// searches.
fn matches(record: &AuditRecord, words: &[String]) -> bool {
    let mut haystack = vec![
        record.summary.to_string(),
        record.category.to_string(),
        record.object.name.clone(),
        record.object.type_name.to_string(),
        record.remote_address.clone().unwrap_or_default(),
    ];
    if let Some((_, parent)) = record.object.parent {
        haystack.push(parent.to_string());
    }
    for (_, from, to) in &record.changed {
        haystack.push(from.clone().unwrap_or_default());
        haystack.push(to.clone());
    }
    let haystack: Vec<String> = haystack.iter().map(|h| h.to_lowercase()).collect();
    words
        .iter()
        .all(|w| haystack.iter().any(|h| h.contains(&w.to_lowercase())))
}

/// `GET auditing/record?offset=&limit=&from=&to=&filter=`: records created at or after `from`
/// and at or before `to`, newest first (ties by id, highest first); `limit` 1000 at most.
pub(crate) fn records(call: &Call) -> Reply {
    if !call.shared.cfg.admin {
        return Err(Rejection::new(403, NOT_ADMIN));
    }
    let from = bound(call, "from")?;
    let to = bound(call, "to")?;
    let words: Vec<String> = call
        .req
        .param("filter")
        .unwrap_or_default()
        .split_whitespace()
        .map(String::from)
        .collect();
    let site = call.shared.site();
    let mut chosen: Vec<&AuditRecord> = site
        .audit
        .iter()
        .filter(|r| from.is_none_or(|f| r.created >= f))
        .filter(|r| to.is_none_or(|t| r.created <= t))
        .filter(|r| matches(r, &words))
        .collect();
    chosen.sort_by(|a, b| b.created.cmp(&a.created).then(b.id.cmp(&a.id)));
    let offset = call.req.number("offset").unwrap_or(0).max(0) as usize;
    let limit = call
        .req
        .number("limit")
        .map_or(1000, |l| l.clamp(0, 1000) as usize);
    let page: Vec<Value> = chosen
        .iter()
        .skip(offset)
        .take(limit)
        .map(|r| record_json(&site, r))
        .collect();
    Ok(ok(&json!({
        "offset": offset,
        "limit": limit,
        "total": chosen.len(),
        "records": page,
    })))
}
