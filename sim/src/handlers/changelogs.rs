//! Cloud's `POST changelog/bulkfetch`: the histories of up to 1000 issues, paged across issues
//! with an opaque `nextPageToken`.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

use super::Call;
use super::respond::{Rejection, Reply, ok};
use crate::render::history::history_filtered;
use crate::render::object;
use crate::rng::mix;

const MAX_ISSUES: usize = 1000;
const MAX_FIELDS: usize = 10;
const DEFAULT_PAGE: i64 = 1000;
const MAX_PAGE: i64 = 10_000;
const BAD_TOKEN: &str =
    "The provided next page token is invalid or does not belong to this request.";

/// A list of strings (numbers read as their text), or `None` when `value` is not an array.
fn texts(value: Option<&Value>) -> Option<Vec<String>> {
    let items = value?.as_array()?;
    Some(
        items
            .iter()
            .filter_map(|v| match v {
                Value::String(s) => Some(s.trim().to_string()),
                Value::Number(n) => Some(n.to_string()),
                _ => None,
            })
            .collect(),
    )
}

/// Ties a token to the request it continues: the issues and fields asked for.
fn fingerprint(issues: &[usize], fields: &[String]) -> u64 {
    let from_issues = issues.iter().fold(1, |acc, &i| mix(acc ^ i as u64));
    fields
        .iter()
        .flat_map(|f| f.bytes())
        .fold(from_issues, |acc, b| mix(acc ^ u64::from(b)))
}

fn encode_token(fingerprint: u64, offset: usize) -> String {
    URL_SAFE_NO_PAD.encode(format!("{fingerprint:016x}.{offset}"))
}

fn decode_token(text: &str, fingerprint: u64) -> Option<usize> {
    let bytes = URL_SAFE_NO_PAD
        .decode(text.trim().trim_end_matches('='))
        .ok()?;
    let text = String::from_utf8(bytes).ok()?;
    let (fp, offset) = text.split_once('.')?;
    (u64::from_str_radix(fp, 16).ok()? == fingerprint).then(|| offset.parse().ok())?
}

/// `POST changelog/bulkfetch` with `{issueIdsOrKeys, fieldIds?, maxResults?, nextPageToken?}`:
/// `{issueChangeLogs: [{issueId, changeHistories}], nextPageToken?}`. Issues come in id order,
/// each with its histories oldest first; `maxResults` (default 1000, at most 10000) counts
/// histories, so one issue's histories may be split across pages. With `fieldIds`, only items
/// of those fields are kept, and histories left with none are dropped. Unknown issues are left
/// out.
pub(crate) fn bulk_fetch(call: &Call) -> Reply {
    let body = call
        .req
        .json()
        .filter(Value::is_object)
        .ok_or_else(|| Rejection::new(400, "The request body must be a JSON object."))?;
    let wanted = texts(body.get("issueIdsOrKeys")).unwrap_or_default();
    if wanted.is_empty() {
        return Err(Rejection::new(400, "issueIdsOrKeys must not be empty."));
    }
    if wanted.len() > MAX_ISSUES {
        return Err(Rejection::new(
            400,
            format!("issueIdsOrKeys must not contain more than {MAX_ISSUES} items."),
        ));
    }
    let fields = texts(body.get("fieldIds")).unwrap_or_default();
    if fields.len() > MAX_FIELDS {
        return Err(Rejection::new(
            400,
            format!("fieldIds must not contain more than {MAX_FIELDS} items."),
        ));
    }
    let max_results = body
        .get("maxResults")
        .and_then(Value::as_i64)
        .unwrap_or(DEFAULT_PAGE)
        .clamp(1, MAX_PAGE) as usize;

    let site = call.shared.site();
    let ctx = call.ctx(&site);
    let mut issues: Vec<usize> = wanted.iter().filter_map(|w| site.find_issue(w)).collect();
    issues.sort_unstable();
    issues.dedup();
    let fingerprint = fingerprint(&issues, &fields);
    let offset = match body.get("nextPageToken").and_then(Value::as_str) {
        None => 0,
        Some(token) => {
            decode_token(token, fingerprint).ok_or_else(|| Rejection::new(400, BAD_TOKEN))?
        }
    };

    // Walk every kept history in order, rendering only this page's.
    let mut position = 0;
    let mut logs: Vec<Value> = Vec::new();
    for &index in &issues {
        let mut page_histories = Vec::new();
        for h in site.history(index) {
            let kept = fields.is_empty()
                || h.changes
                    .iter()
                    .any(|c| fields.iter().any(|f| f == c.field_id()));
            if !kept {
                continue;
            }
            if position >= offset && position < offset + max_results {
                page_histories.push(history_filtered(&ctx, &h, &fields));
            }
            position += 1;
        }
        if !page_histories.is_empty() {
            logs.push(json!({
                "issueId": site.issues[index].id.to_string(),
                "changeHistories": page_histories,
            }));
        }
    }
    let next = offset + max_results;
    Ok(ok(&object([
        ("issueChangeLogs", Some(json!(logs))),
        (
            "nextPageToken",
            (next < position).then(|| json!(encode_token(fingerprint, next))),
        ),
    ])))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_only_continue_their_own_request() {
        let a = fingerprint(&[1, 2], &[]);
        let b = fingerprint(&[1, 3], &[]);
        let token = encode_token(a, 40);
        assert_eq!(decode_token(&token, a), Some(40));
        assert_eq!(decode_token(&token, b), None);
        assert_eq!(decode_token("not a token", a), None);
        assert_ne!(a, fingerprint(&[1, 2], &["status".to_string()]));
    }
}
