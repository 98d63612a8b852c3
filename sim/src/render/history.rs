//! Change history and workflow: the `changelog` an issue embeds (or pages on Cloud) and the
//! `transitions` it offers.

use serde_json::{Value, json};

use crate::render::{self as r, Ctx, object};
use crate::site::activity::{Change, HistoryFacts};
use crate::site::people::AccountKind;
use crate::site::reference::{PRIORITIES, RESOLUTIONS, STATUSES};
use crate::times;

/// A history item of a system field. Server and Data Center name the field and send no
/// `fieldId`.
fn item(
    ctx: &Ctx,
    field: &str,
    from: Option<String>,
    from_string: Option<String>,
    to: Option<String>,
    to_string: Option<String>,
) -> Value {
    let mut item = json!({
        "field": field,
        "fieldtype": "jira",
        "fieldId": field,
        "from": from,
        "fromString": from_string,
        "to": to,
        "toString": to_string,
    });
    if !ctx.cloud()
        && let Some(item) = item.as_object_mut()
    {
        item.remove("fieldId");
    }
    item
}

fn change_item(ctx: &Ctx, change: &Change) -> Value {
    match change {
        Change::Status { from, to } => {
            let (from, to) = (&STATUSES[*from as usize], &STATUSES[*to as usize]);
            item(
                ctx,
                "status",
                Some(from.id.into()),
                Some(from.name.into()),
                Some(to.id.into()),
                Some(to.name.into()),
            )
        }
        Change::Resolution { to } => {
            let to = &RESOLUTIONS[*to as usize];
            item(
                ctx,
                "resolution",
                None,
                None,
                Some(to.id.into()),
                Some(to.name.into()),
            )
        }
        Change::Assignee { from, to } => {
            let users = ctx.site.users();
            let identity = |u: &Option<usize>| {
                u.map(|u| {
                    if ctx.cloud() {
                        users[u].account_id.clone()
                    } else {
                        users[u].key.clone()
                    }
                })
            };
            let name = |u: &Option<usize>| u.map(|u| users[u].display_name.clone());
            let mut value = item(
                ctx,
                "assignee",
                identity(from),
                name(from),
                identity(to),
                name(to),
            );
            if ctx.cloud() {
                value["tmpFromAccountId"] = json!(identity(from));
                value["tmpToAccountId"] = json!(identity(to));
            }
            // A former user's account id is kept, its name is not.
            if matches!(to, Some(u) if users[*u].kind == AccountKind::Former) {
                value["toString"] = json!("Former user");
            }
            value
        }
        Change::Summary { from, to } => item(
            ctx,
            "summary",
            None,
            Some(from.clone()),
            None,
            Some(to.clone()),
        ),
        Change::Labels { to } => item(
            ctx,
            "labels",
            None,
            Some(String::new()),
            None,
            Some(to.to_string()),
        ),
        Change::UserField { id, name, to } => {
            let user = &ctx.site.users()[*to];
            if ctx.cloud() {
                json!({
                    "field": name,
                    "fieldtype": "custom",
                    "fieldId": id,
                    "from": null,
                    "fromString": null,
                    "to": user.account_id,
                    "toString": user.display_name,
                    "tmpFromAccountId": null,
                    "tmpToAccountId": user.account_id,
                })
            } else {
                // Server names a custom field by its display name, and has no `fieldId`.
                json!({
                    "field": name,
                    "fieldtype": "custom",
                    "from": null,
                    "fromString": null,
                    "to": user.key,
                    "toString": user.display_name,
                })
            }
        }
        Change::Priority { from, to } => {
            let (from, to) = (&PRIORITIES[*from as usize], &PRIORITIES[*to as usize]);
            item(
                ctx,
                "priority",
                Some(from.id.into()),
                Some(from.name.into()),
                Some(to.id.into()),
                Some(to.name.into()),
            )
        }
    }
}

/// One history `{id, author, created, items}`, as every changelog shape holds it; with
/// `only_fields`, just the items of those field ids.
pub(crate) fn history_filtered(ctx: &Ctx, h: &HistoryFacts, only_fields: &[String]) -> Value {
    let items: Vec<Value> = h
        .changes
        .iter()
        .filter(|c| only_fields.is_empty() || only_fields.iter().any(|f| f == c.field_id()))
        .map(|c| change_item(ctx, c))
        .collect();
    json!({
        "id": h.id.to_string(),
        "author": r::user(ctx, h.author),
        "created": times::timestamp(h.created, ctx.local()),
        "items": items,
    })
}

fn history(ctx: &Ctx, h: &HistoryFacts) -> Value {
    history_filtered(ctx, h, &[])
}

/// `expand=changelog`: the oldest `cap` histories (all of them for `None`), with `total`
/// telling how many there are; below the cap `maxResults` is the count, as Jira writes it.
pub(crate) fn changelog_embedded(ctx: &Ctx, index: usize, cap: Option<usize>) -> Value {
    let all = ctx.site.history(index);
    let histories: Vec<Value> = all
        .iter()
        .take(cap.unwrap_or(usize::MAX))
        .map(|h| history(ctx, h))
        .collect();
    json!({
        "startAt": 0,
        "maxResults": cap.map_or(all.len(), |cap| cap.min(all.len())),
        "total": all.len(),
        "histories": histories,
    })
}

/// Cloud's `GET /issue/{key}/changelog` page.
pub(crate) fn changelog_page(
    ctx: &Ctx,
    index: usize,
    start_at: usize,
    max_results: usize,
    self_url: String,
) -> Value {
    let all = ctx.site.history(index);
    let values: Vec<Value> = all
        .iter()
        .skip(start_at)
        .take(max_results)
        .map(|h| history(ctx, h))
        .collect();
    let is_last = start_at + values.len() >= all.len();
    object([
        ("self", Some(json!(self_url))),
        ("maxResults", Some(json!(max_results))),
        ("startAt", Some(json!(start_at))),
        ("total", Some(json!(all.len()))),
        ("isLast", Some(json!(is_last))),
        ("values", Some(json!(values))),
    ])
}

/// Every status but the current one is one global transition away.
pub(crate) fn transitions(ctx: &Ctx, index: usize) -> Value {
    let current = ctx.site.issues[index].status;
    let list: Vec<Value> = (0..STATUSES.len() as u8)
        .filter(|&s| s != current)
        .map(|s| {
            json!({
                "id": ((s as u64 + 1) * 10 + 1).to_string(),
                "name": STATUSES[s as usize].name,
                "to": r::status(ctx, s),
                "hasScreen": false,
                "isGlobal": true,
                "isInitial": false,
                "isAvailable": true,
                "isConditional": false,
                "isLooped": false,
            })
        })
        .collect();
    json!(list)
}
