//! The site's setup as administrators see it: workflows (Cloud's paged `workflow/search`,
//! Server's `workflow` array), workflow schemes, screens, screen schemes, issue type schemes,
//! issue type screen schemes, field configurations and their schemes, notification and
//! priority schemes, filters, dashboards, and custom field contexts and options.

use axum::response::Response;
use serde_json::{Value, json};

use super::Call;
use super::respond::{Rejection, Reply, ok};
use crate::render::{self as r, Ctx, object};
use crate::site::fields::FieldDef;
use crate::site::reference::{PRIORITIES, STATUSES};
use crate::site::setup::{Named, Share, Workflow};
use crate::times::{self, Offset};

/// The comma-separated `expand` values of a request.
fn expansions(call: &Call) -> Vec<String> {
    call.req
        .params("expand")
        .iter()
        .flat_map(|v| v.split(','))
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

fn named_json(item: &Named) -> Value {
    json!({ "id": item.id, "name": item.name, "description": item.description })
}

fn transitions(workflow: &Workflow) -> Value {
    let status = |k: u8| STATUSES[k as usize].id;
    let mut list = vec![json!({
        "id": "1", "name": "Create", "description": "", "from": [], "to": status(workflow.statuses[0]),
        "type": "initial",
    })];
    if workflow.simplified {
        for (k, &s) in workflow.statuses.iter().enumerate() {
            list.push(json!({
                "id": (11 + 10 * k).to_string(),
                "name": STATUSES[s as usize].name,
                "description": "",
                "from": [],
                "to": status(s),
                "type": "global",
            }));
        }
    } else {
        let steps = &workflow.statuses;
        for (k, pair) in steps.windows(2).enumerate() {
            list.push(json!({
                "id": (11 + 10 * k).to_string(),
                "name": if k == 0 { "Start Progress" } else { "Done" },
                "description": "",
                "from": [status(pair[0])],
                "to": status(pair[1]),
                "type": "directed",
            }));
        }
        if let (Some(&first), Some(&last)) = (steps.first(), steps.last()) {
            list.push(json!({
                "id": (11 + 10 * steps.len()).to_string(),
                "name": "Reopen",
                "description": "",
                "from": [status(last)],
                "to": status(first),
                "type": "directed",
            }));
        }
    }
    json!(list)
}

/// Cloud: `GET workflow/search`, a page bean (50 a page at most) of `{id: {name, entityId},
/// description, transitions?, statuses?, isDefault?, created?, updated?}`, `expand` choosing
/// `transitions`, `statuses` and `default`.
pub(crate) fn workflow_search(call: &Call) -> Response {
    let site = call.shared.site();
    let expand = expansions(call);
    let has = |what: &str| {
        expand
            .iter()
            .any(|e| e == what || e.starts_with(&format!("{what}.")))
    };
    let status_properties = expand.iter().any(|e| e == "statuses.properties");
    let names = call.req.params("workflowName");
    let workflows: Vec<Workflow> = site
        .workflows()
        .into_iter()
        .filter(|w| names.is_empty() || names.contains(&w.name))
        .collect();
    call.paged(&workflows, 50, 50, "workflow/search", |w| {
        let statuses = has("statuses").then(|| {
            json!(
                w.statuses
                    .iter()
                    .map(|&s| {
                        let status = &STATUSES[s as usize];
                        object([
                            ("id", Some(json!(status.id))),
                            ("name", Some(json!(status.name))),
                            (
                                "properties",
                                status_properties.then(|| json!({ "jira.issue.editable": "true" })),
                            ),
                        ])
                    })
                    .collect::<Vec<_>>()
            )
        });
        object([
            (
                "id",
                Some(json!({ "name": w.name, "entityId": w.entity_id })),
            ),
            ("description", Some(json!(w.description))),
            ("transitions", has("transitions").then(|| transitions(w))),
            ("statuses", statuses),
            ("isDefault", has("default").then(|| json!(w.default))),
            (
                "created",
                w.modified
                    .map(|(at, _)| json!(times::timestamp(at, Offset::Utc))),
            ),
            (
                "updated",
                w.modified
                    .map(|(at, _)| json!(times::timestamp(at, Offset::Utc))),
            ),
        ])
    })
}

/// Server: `GET workflow`, every workflow in one bare array: `{name, description,
/// lastModifiedDate?, lastModifiedUser?, lastModifiedUserName?, steps, default}` (the system
/// workflow was never modified).
pub(crate) fn workflow_list(call: &Call) -> Response {
    let site = call.shared.site();
    let list: Vec<Value> = site
        .workflows()
        .iter()
        .map(|w| {
            let when = w.modified.map(|(at, _)| {
                let local = chrono::DateTime::from_timestamp_millis(at)
                    .unwrap_or_default()
                    .with_timezone(&site.tz);
                json!(local.format("%d/%b/%y %-I:%M %p").to_string())
            });
            let who = w.modified.map(|(_, u)| &site.users()[u]);
            object([
                ("name", Some(json!(w.name))),
                ("description", Some(json!(w.description))),
                ("lastModifiedDate", when),
                ("lastModifiedUser", who.map(|u| json!(u.display_name))),
                ("lastModifiedUserName", who.map(|u| json!(u.name))),
                ("steps", Some(json!(w.statuses.len()))),
                ("default", Some(json!(w.default))),
            ])
        })
        .collect();
    ok(&Value::Array(list))
}

/// Cloud: `GET workflowscheme`, a page bean (50 at most) of `{id, name, description,
/// defaultWorkflow, issueTypeMappings, self}`.
pub(crate) fn workflow_schemes(call: &Call) -> Response {
    let site = call.shared.site();
    let ctx = call.ctx(&site);
    call.paged(&site.workflow_schemes(), 50, 50, "workflowscheme", |s| {
        json!({
            "id": s.id,
            "name": s.name,
            "description": s.description,
            "defaultWorkflow": s.default_workflow,
            "issueTypeMappings": {},
            "self": ctx.rest(&format!("workflowscheme/{}", s.id)),
        })
    })
}

/// Cloud: `GET screens`, a page bean (100 at most) of `{id, name, description}`.
pub(crate) fn screens(call: &Call) -> Response {
    let site = call.shared.site();
    call.paged(&site.screens(), 100, 100, "screens", named_json)
}

/// Cloud: `GET screenscheme`, a page bean (100 at most) of `{id, name, description,
/// screens: {default}}`.
pub(crate) fn screen_schemes(call: &Call) -> Response {
    let site = call.shared.site();
    call.paged(&site.screen_schemes(), 25, 100, "screenscheme", |s| {
        json!({
            "id": s.id,
            "name": s.name,
            "description": s.description,
            "screens": { "default": s.default_screen },
        })
    })
}

/// Cloud: `GET issuetypescheme`, a page bean (50 at most) of `{id, name, description,
/// defaultIssueTypeId?, isDefault?}`.
pub(crate) fn issue_type_schemes(call: &Call) -> Response {
    let site = call.shared.site();
    call.paged(&site.issue_type_schemes(), 50, 50, "issuetypescheme", |s| {
        object([
            ("id", Some(json!(s.id.to_string()))),
            ("name", Some(json!(s.name))),
            ("description", Some(json!(s.description))),
            ("defaultIssueTypeId", s.default_issue_type.map(|t| json!(t))),
            ("isDefault", s.is_default.then(|| json!(true))),
        ])
    })
}

/// Cloud: `GET issuetypescreenscheme`, a page bean (50 at most) of `{id, name, description}`.
pub(crate) fn issue_type_screen_schemes(call: &Call) -> Response {
    let site = call.shared.site();
    call.paged(
        &site.issue_type_screen_schemes(),
        50,
        50,
        "issuetypescreenscheme",
        |s| json!({ "id": s.id.to_string(), "name": s.name, "description": s.description }),
    )
}

/// Cloud: `GET fieldconfiguration`, a page bean (50 at most) of `{id, name, description,
/// isDefault?}`.
pub(crate) fn field_configurations(call: &Call) -> Response {
    let site = call.shared.site();
    let all = site.field_configurations();
    call.paged(&all, 50, 50, "fieldconfiguration", |c| {
        let mut value = named_json(c);
        if c.id == all[0].id {
            value["isDefault"] = json!(true);
        }
        value
    })
}

/// Cloud: `GET fieldconfigurationscheme`, a page bean (50 at most) of `{id, name,
/// description}`.
pub(crate) fn field_configuration_schemes(call: &Call) -> Response {
    let site = call.shared.site();
    call.paged(
        &site.field_configuration_schemes(),
        50,
        50,
        "fieldconfigurationscheme",
        |s| json!({ "id": s.id.to_string(), "name": s.name, "description": s.description }),
    )
}

/// `GET notificationscheme`, a page bean (50 at most) of `{expand, id, self, name,
/// description}`, with `notificationSchemeEvents` when expanded.
pub(crate) fn notification_schemes(call: &Call) -> Response {
    let site = call.shared.site();
    let ctx = call.ctx(&site);
    let expand = expansions(call);
    let events = expand
        .iter()
        .any(|e| e == "notificationSchemeEvents" || e == "all");
    call.paged(
        &site.notification_schemes(),
        50,
        50,
        "notificationscheme",
        |s| {
            object([
                (
                    "expand",
                    Some(json!(
                        "notificationSchemeEvents,user,group,projectRole,field,all"
                    )),
                ),
                ("id", Some(json!(s.id))),
                (
                    "self",
                    Some(json!(ctx.rest(&format!("notificationscheme/{}", s.id)))),
                ),
                ("name", Some(json!(s.name))),
                ("description", Some(json!(s.description))),
                (
                    "notificationSchemeEvents",
                    events.then(|| {
                        json!([{
                            "event": {
                                "id": 1,
                                "name": "Issue Created",
                                "description": "This is the 'issue created' event.",
                            },
                            "notifications": [
                                { "id": s.id * 10 + 1, "notificationType": "CurrentAssignee" },
                                { "id": s.id * 10 + 2, "notificationType": "Reporter" },
                            ],
                        }])
                    }),
                ),
            ])
        },
    )
}

/// A nested page bean holding everything (as priority schemes embed their lists).
fn whole_page(values: Vec<Value>) -> Value {
    json!({
        "maxResults": 50,
        "startAt": 0,
        "total": values.len(),
        "isLast": true,
        "values": values,
    })
}

/// Cloud: `GET priorityscheme`, a page bean (50 at most) of `{id, name, description,
/// isDefault, defaultPriorityId, self}`, `expand` adding `priorities` and `projects` pages.
pub(crate) fn priority_schemes(call: &Call) -> Response {
    let site = call.shared.site();
    let ctx = call.ctx(&site);
    let expand = expansions(call);
    let has = |what: &str| expand.iter().any(|e| e == what);
    call.paged(&site.priority_schemes(), 50, 50, "priorityscheme", |s| {
        object([
            ("id", Some(json!(s.id.to_string()))),
            ("name", Some(json!(s.name))),
            ("description", Some(json!(s.description))),
            ("isDefault", Some(json!(s.is_default))),
            (
                "defaultPriorityId",
                Some(json!(PRIORITIES[s.default_priority as usize].id)),
            ),
            (
                "self",
                Some(json!(ctx.rest(&format!("priorityscheme/{}", s.id)))),
            ),
            (
                "priorities",
                has("priorities").then(|| {
                    whole_page(
                        s.priorities
                            .iter()
                            .map(|&p| r::priority_listing(&ctx, p))
                            .collect(),
                    )
                }),
            ),
            (
                "projects",
                has("projects").then(|| {
                    whole_page(
                        s.projects
                            .iter()
                            .map(|&p| r::project_ref(&ctx, p))
                            .collect(),
                    )
                }),
            ),
        ])
    })
}

fn share_json(ctx: &Ctx, share: Share, id: u64) -> Value {
    match share {
        Share::Global => json!({ "id": id, "type": "global" }),
        Share::Group(g) => json!({ "id": id, "type": "group", "group": r::group(ctx, g) }),
        Share::Project(p) => {
            json!({ "id": id, "type": "project", "project": r::project_ref(ctx, p) })
        }
    }
}

const FILTER_EXPAND: &str = "description,owner,jql,viewUrl,searchUrl,favourite,favouritedCount,sharePermissions,editPermissions,isWritable,approximateLastUsed,subscriptions";

/// Cloud: `GET filter/search`, a page bean (100 at most) of filters ordered by name (or
/// `orderBy=id`), `filterName` matching part of the name; `expand` adds the details.
pub(crate) fn filter_search(call: &Call) -> Response {
    let site = call.shared.site();
    let ctx = call.ctx(&site);
    let expand = expansions(call);
    let has = |what: &str| expand.iter().any(|e| e == what);
    let wanted = call
        .req
        .param("filterName")
        .unwrap_or_default()
        .to_lowercase();
    let mut filters: Vec<_> = site
        .filters()
        .into_iter()
        .filter(|f| f.name.to_lowercase().contains(&wanted))
        .collect();
    match call.req.param("orderBy").unwrap_or("name") {
        "id" | "+id" => filters.sort_by_key(|f| f.id),
        "-id" => filters.sort_by_key(|f| std::cmp::Reverse(f.id)),
        "-name" => filters.sort_by(|a, b| b.name.cmp(&a.name)),
        _ => filters.sort_by(|a, b| a.name.cmp(&b.name)),
    }
    call.paged(&filters, 50, 100, "filter/search", |f| {
        let search = format!(
            "jql={}",
            form_urlencoded::byte_serialize(f.jql.as_bytes()).collect::<String>()
        );
        object([
            ("expand", Some(json!(FILTER_EXPAND))),
            ("self", Some(json!(ctx.rest(&format!("filter/{}", f.id))))),
            ("id", Some(json!(f.id.to_string()))),
            ("name", Some(json!(f.name))),
            (
                "description",
                f.description
                    .as_ref()
                    .filter(|_| has("description"))
                    .map(|d| json!(d)),
            ),
            ("owner", has("owner").then(|| r::user(&ctx, f.owner))),
            ("jql", has("jql").then(|| json!(f.jql))),
            (
                "viewUrl",
                has("viewUrl").then(|| json!(format!("{}/issues/?filter={}", ctx.host, f.id))),
            ),
            (
                "searchUrl",
                has("searchUrl").then(|| json!(ctx.rest(&format!("search/jql?{search}")))),
            ),
            ("favourite", has("favourite").then(|| json!(f.favourite))),
            (
                "favouritedCount",
                has("favouritedCount").then(|| json!(f.favourited_count)),
            ),
            (
                "sharePermissions",
                has("sharePermissions").then(|| {
                    json!(
                        f.shares
                            .iter()
                            .enumerate()
                            .map(|(k, &s)| share_json(&ctx, s, f.id * 10 + k as u64))
                            .collect::<Vec<_>>()
                    )
                }),
            ),
            ("editPermissions", has("editPermissions").then(|| json!([]))),
        ])
    })
}

/// `GET dashboard`: `{startAt, maxResults, total, prev?, next?, dashboards}` (20 a page by
/// default, 1000 at most); `filter=favourite` or `filter=my` narrows it.
pub(crate) fn dashboards(call: &Call) -> Response {
    let site = call.shared.site();
    let ctx = call.ctx(&site);
    let me = site.myself();
    let all: Vec<_> = site
        .dashboards()
        .into_iter()
        .filter(|d| match call.req.param("filter") {
            Some("favourite") => d.favourite,
            Some("my") => d.owner == Some(me),
            _ => true,
        })
        .collect();
    let (start_at, max_results) = call.page(20, 1000);
    let page: Vec<Value> = all
        .iter()
        .skip(start_at)
        .take(max_results)
        .map(|d| {
            object([
                ("id", Some(json!(d.id.to_string()))),
                ("isFavourite", Some(json!(d.favourite))),
                ("name", Some(json!(d.name))),
                ("owner", d.owner.map(|u| r::user(&ctx, u))),
                ("popularity", Some(json!(d.popularity))),
                (
                    "self",
                    Some(json!(ctx.rest(&format!("dashboard/{}", d.id)))),
                ),
                (
                    "sharePermissions",
                    Some(json!(
                        d.shares
                            .iter()
                            .enumerate()
                            .map(|(k, &s)| share_json(&ctx, s, d.id * 10 + k as u64))
                            .collect::<Vec<_>>()
                    )),
                ),
                (
                    "view",
                    Some(json!(format!(
                        "{}/secure/Dashboard.jspa?selectPageId={}",
                        ctx.host, d.id
                    ))),
                ),
            ])
        })
        .collect();
    let link = |start: usize| {
        json!(ctx.rest(&format!(
            "dashboard?startAt={start}&maxResults={max_results}"
        )))
    };
    let end = start_at + page.len();
    ok(&object([
        ("startAt", Some(json!(start_at))),
        ("maxResults", Some(json!(max_results))),
        ("total", Some(json!(all.len()))),
        (
            "prev",
            (start_at > 0).then(|| link(start_at.saturating_sub(max_results))),
        ),
        ("next", (end < all.len()).then(|| link(end))),
        ("dashboards", Some(json!(page))),
    ]))
}

fn custom_field<'s>(
    site: &'s crate::site::Site,
    field_id: &str,
) -> Result<&'s FieldDef, Rejection> {
    site.fields
        .iter()
        .find(|f| f.id == field_id && f.is_custom())
        .ok_or_else(|| Rejection::new(404, "The custom field was not found."))
}

/// Cloud: `GET field/{fieldId}/context`, a page bean (100 at most) of `{id, name,
/// description, isGlobalContext, isAnyIssueType}`; 404 for system fields.
pub(crate) fn field_contexts(call: &Call, field_id: &str) -> Reply {
    let site = call.shared.site();
    let field = custom_field(&site, field_id)?;
    let contexts = field.contexts();
    Ok(call.paged(
        &contexts,
        50,
        100,
        &format!("field/{field_id}/context"),
        |c| {
            json!({
                "id": c.id.to_string(),
                "name": c.name,
                "description": c.description,
                "isGlobalContext": c.global,
                "isAnyIssueType": c.any_issue_type,
            })
        },
    ))
}

/// Cloud: `GET field/{fieldId}/context/{contextId}/option`, a page bean (100 at most) of
/// `{id, value, disabled, optionId?}` (`optionId`: a cascading child's parent).
pub(crate) fn field_options(call: &Call, field_id: &str, context_id: &str) -> Reply {
    let site = call.shared.site();
    let field = custom_field(&site, field_id)?;
    let context = field
        .contexts()
        .into_iter()
        .find(|c| c.id.to_string() == context_id)
        .ok_or_else(|| Rejection::new(404, "The context was not found."))?;
    if !field.has_options() {
        return Err(Rejection::new(
            400,
            "The custom field doesn't support options.",
        ));
    }
    Ok(call.paged(
        &context.options,
        100,
        100,
        &format!("field/{field_id}/context/{context_id}/option"),
        |o| {
            object([
                ("id", Some(json!(o.id.to_string()))),
                ("value", Some(json!(o.value))),
                ("optionId", o.parent.map(|p| json!(p.to_string()))),
                ("disabled", Some(json!(o.disabled))),
            ])
        },
    ))
}
