//! Jira Software's REST API below `/rest/agile/1.0/`: boards, a board's configuration,
//! sprints (kanban boards answer 400), issues and epics, and a sprint and its issues. The issue
//! lists honour `jql` as `/search` reads it (ANDed, its ORDER BY replacing the board's). Pages hold
//! 50 at most. Sprint and epic pages carry `isLast` but no `total`, as Jira's do. Boards the
//! account may not see (`SimConfig::hidden_boards_every`) answer 404, and leave a board page
//! only after it is cut, as Jira's do.

use axum::response::Response;
use serde_json::{Value, json};

use super::respond::{Rejection, Reply, ok};
use super::{Call, search};
use crate::jql::SortRow;
use crate::render::issue::issue;
use crate::render::{Ctx, object};
use crate::select::{self, DefaultFields, Expand};
use crate::site::Site;
use crate::site::agile::{Board, BoardKind};
use crate::site::fields::{Custom, Kind};
use crate::site::projects::Sprint;
use crate::site::reference::{DONE, IN_PROGRESS, IN_REVIEW, STATUSES, TO_DO};

/// Largest page of every agile list.
const CAP: usize = 50;

const NO_BOARD: &str = "Board does not exist or you do not have permission to see it.";
const NO_SPRINT: &str = "The requested sprint cannot be viewed because it either does not exist or you do not have permission to view it.";
pub(crate) const NO_SPRINTS: &str = "The board does not support sprints";

/// An agile page: `{maxResults, startAt, total?, isLast, values}`; `cut` is how many items the
/// page was cut with, before any were left out.
fn page(
    values: Vec<Value>,
    cut: usize,
    start_at: usize,
    max_results: usize,
    total: usize,
    with_total: bool,
) -> Response {
    let is_last = start_at + cut >= total;
    ok(&object([
        ("maxResults", Some(json!(max_results))),
        ("startAt", Some(json!(start_at))),
        ("total", with_total.then(|| json!(total))),
        ("isLast", Some(json!(is_last))),
        ("values", Some(json!(values))),
    ]))
}

fn paged<T>(call: &Call, items: &[T], with_total: bool, render: impl Fn(&T) -> Value) -> Response {
    let (values, start_at, max_results) = call.slice(items, CAP, CAP, render);
    let cut = values.len();
    page(values, cut, start_at, max_results, items.len(), with_total)
}

fn find_board<'s>(site: &'s Site, id: &str) -> Result<&'s Board, Rejection> {
    id.parse()
        .ok()
        .and_then(|id| site.board(id))
        .ok_or_else(|| Rejection::new(404, NO_BOARD))
}

fn board_json(ctx: &Ctx, board: &Board) -> Value {
    let project = &ctx.site.projects[board.project];
    let label = format!("{} ({})", project.name, project.key);
    let location = object([
        ("projectId", Some(json!(project.id))),
        ("displayName", Some(json!(label))),
        ("projectName", Some(json!(project.name))),
        ("projectKey", Some(json!(project.key))),
        ("projectTypeKey", Some(json!(project.type_key))),
        (
            "avatarURI",
            ctx.cloud().then(|| {
                json!(format!(
                    "/secure/projectavatar?size=small&s=small&pid={}&avatarId=10011",
                    project.id
                ))
            }),
        ),
        ("name", Some(json!(label))),
    ]);
    json!({
        "id": board.id,
        "self": ctx.agile(&format!("board/{}", board.id)),
        "name": board.name,
        "type": board.kind.as_str(),
        "location": location,
    })
}

/// A sprint as the agile API writes it: dates as `...Z` on Cloud and with a colon offset in
/// the user's zone on Server; a future sprint without a goal has no `goal`.
fn sprint_json(ctx: &Ctx, sprint: &Sprint) -> Value {
    let date = |ms: i64| {
        let at = chrono::DateTime::from_timestamp_millis(ms).unwrap_or_default();
        if ctx.cloud() {
            json!(at.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string())
        } else {
            json!(
                at.with_timezone(&ctx.site.tz)
                    .format("%Y-%m-%dT%H:%M:%S%.3f%:z")
                    .to_string()
            )
        }
    };
    let goal = (!(sprint.state == "future" && sprint.goal.is_empty())).then(|| json!(sprint.goal));
    object([
        ("id", Some(json!(sprint.id))),
        (
            "self",
            Some(json!(ctx.agile(&format!("sprint/{}", sprint.id)))),
        ),
        ("state", Some(json!(sprint.state))),
        ("name", Some(json!(sprint.name))),
        ("startDate", sprint.start.map(date)),
        ("endDate", sprint.end.map(date)),
        ("completeDate", sprint.complete.map(date)),
        ("originBoardId", Some(json!(sprint.board_id))),
        ("goal", goal),
    ])
}

fn epic_json(ctx: &Ctx, index: usize) -> Value {
    let site = ctx.site;
    let epic = &site.issues[index];
    let summary = site.summary(index);
    json!({
        "id": epic.id,
        "key": site.issue_key(index),
        "self": ctx.agile(&format!("epic/{}", epic.id)),
        "name": summary,
        "summary": summary,
        "color": { "key": format!("color_{}", 1 + epic.id % 14) },
        "done": epic.is_done(),
    })
}

/// `GET board?type=&name=&projectKeyOrId=`: every board, with its location.
pub(crate) fn boards(call: &Call) -> Response {
    let site = call.shared.site();
    let ctx = call.ctx(&site);
    let types = call.req.param("type").unwrap_or_default();
    let name = call.req.param("name").unwrap_or_default().to_lowercase();
    let project = call
        .req
        .param("projectKeyOrId")
        .map(|p| site.find_project(p));
    let list: Vec<&Board> = site
        .boards
        .iter()
        .filter(|b| types.is_empty() || types.split(',').any(|t| t == b.kind.as_str()))
        .filter(|b| b.name.to_lowercase().contains(&name))
        .filter(|b| project.is_none_or(|p| p == Some(b.project)))
        .collect();
    // The page, its `total` and `isLast` are cut over every board; the boards the account may
    // not see leave only then, so a page comes short or empty though not last.
    let (values, start_at, max_results) =
        call.slice(&list, CAP, CAP, |b| match site.board_hidden(b) {
            true => Value::Null,
            false => board_json(&ctx, b),
        });
    let cut = values.len();
    let values = values.into_iter().filter(|v| !v.is_null()).collect();
    page(values, cut, start_at, max_results, list.len(), true)
}

/// `GET board/{id}`.
pub(crate) fn board(call: &Call, id: &str) -> Reply {
    let site = call.shared.site();
    let board = find_board(&site, id)?;
    let ctx = call.ctx(&site);
    Ok(ok(&board_json(&ctx, board)))
}

fn custom_field_of(site: &Site, kind: Custom) -> Option<&crate::site::fields::FieldDef> {
    site.fields.iter().find(|f| f.kind == Kind::Custom(kind))
}

/// `GET board/{id}/configuration`: location, filter, columns (kanban boards with limits and a
/// sub-query), the estimation field (scrum) and the rank field.
pub(crate) fn configuration(call: &Call, id: &str) -> Reply {
    let site = call.shared.site();
    let board = find_board(&site, id)?;
    let ctx = call.ctx(&site);
    let project = &site.projects[board.project];
    let kanban = board.kind == BoardKind::Kanban;
    let status = |k: u8| {
        let id = STATUSES[k as usize].id;
        json!({ "id": id, "self": ctx.rest(&format!("status/{id}")) })
    };
    let columns: Vec<Value> = if kanban {
        vec![
            json!({ "name": "Backlog", "statuses": [status(TO_DO)] }),
            json!({ "name": "In Progress", "statuses": [status(IN_PROGRESS)], "min": 1, "max": 5 }),
            json!({ "name": "Review", "statuses": [status(IN_REVIEW)], "max": 3 }),
            json!({ "name": "Done", "statuses": [status(DONE)] }),
        ]
    } else {
        vec![
            json!({ "name": "To Do", "statuses": [status(TO_DO)] }),
            json!({ "name": "In Progress", "statuses": [status(IN_PROGRESS), status(IN_REVIEW)] }),
            json!({ "name": "Done", "statuses": [status(DONE)] }),
        ]
    };
    let estimation = (!kanban)
        .then(|| custom_field_of(&site, Custom::StoryPoints))
        .flatten()
        .map(|f| {
            json!({
                "type": "field",
                "field": { "fieldId": f.id, "displayName": f.name },
            })
        });
    let ranking = custom_field_of(&site, Custom::Rank)
        .map(|f| json!({ "rankCustomFieldId": f.custom_number() }));
    Ok(ok(&object([
        ("id", Some(json!(board.id))),
        ("name", Some(json!(board.name))),
        ("type", Some(json!(board.kind.as_str()))),
        (
            "self",
            Some(json!(
                ctx.agile(&format!("board/{}/configuration", board.id))
            )),
        ),
        (
            "location",
            Some(json!({
                "type": "project",
                "key": project.key,
                "id": project.id.to_string(),
                "self": ctx.rest(&format!("project/{}", project.id)),
                "name": project.name,
            })),
        ),
        (
            "filter",
            Some(json!({
                "id": board.filter_id.to_string(),
                "self": ctx.rest(&format!("filter/{}", board.filter_id)),
            })),
        ),
        (
            "subQuery",
            kanban.then(
                || json!({ "query": "fixVersion in unreleasedVersions() OR fixVersion is EMPTY" }),
            ),
        ),
        (
            "columnConfig",
            Some(json!({
                "columns": columns,
                "constraintType": if kanban { "issueCount" } else { "none" },
            })),
        ),
        ("estimation", estimation),
        ("ranking", ranking),
    ])))
}

/// `GET board/{id}/sprint?state=`: the board's sprints, closed, active, then future; 400 for a
/// kanban board.
pub(crate) fn board_sprints(call: &Call, id: &str) -> Reply {
    let site = call.shared.site();
    let board = find_board(&site, id)?;
    if board.kind == BoardKind::Kanban {
        return Err(Rejection::new(400, NO_SPRINTS));
    }
    let ctx = call.ctx(&site);
    let states = call.req.param("state").unwrap_or_default();
    let sprints: Vec<&Sprint> = board
        .sprints
        .iter()
        .filter_map(|&s| site.sprint(s).map(|(_, sprint)| sprint))
        .filter(|s| states.is_empty() || states.split(',').any(|w| w.trim() == s.state))
        .collect();
    Ok(paged(call, &sprints, false, |s| sprint_json(&ctx, s)))
}

/// `GET board/{id}/epic?done=`: the epics of the board's project.
pub(crate) fn board_epics(call: &Call, id: &str) -> Reply {
    let site = call.shared.site();
    let board = find_board(&site, id)?;
    let ctx = call.ctx(&site);
    let done = call.req.param("done").and_then(|d| d.parse::<bool>().ok());
    let epics: Vec<usize> = site
        .board_epics(board)
        .into_iter()
        .filter(|&i| done.is_none_or(|d| site.issues[i].is_done() == d))
        .collect();
    Ok(paged(call, &epics, false, |&i| epic_json(&ctx, i)))
}

/// An issue page `{expand, startAt, maxResults, total, issues}`, issues rendered with the
/// requested `fields` (all navigable ones by default; `fields=key` gives only the envelope),
/// their `self` on the agile API.
fn issue_page(call: &Call, site: &Site, all: &[usize]) -> Response {
    let ctx = call.ctx(site);
    let selection = select::fields(site, &call.req.params("fields"), DefaultFields::Navigable);
    let expand = Expand::parse(&call.req.params("expand")).with_changelog_cap(Some(100));
    let (issues, start_at, max_results) = call.slice(all, CAP, CAP, |&i| {
        let mut value = issue(&ctx, i, &selection, &expand);
        value["self"] = json!(ctx.agile(&format!("issue/{}", site.issues[i].id)));
        value
    });
    ok(&json!({
        "expand": "schema,names",
        "startAt": start_at,
        "maxResults": max_results,
        "total": all.len(),
        "issues": issues,
    }))
}

/// The issues of `all` that the `jql` parameter keeps: Jira ANDs it with the board's filter, and
/// its ORDER BY replaces the board's order.
fn with_jql(call: &Call, site: &Site, mut all: Vec<usize>) -> Result<Vec<usize>, Rejection> {
    let Some(text) = call.req.param("jql") else {
        return Ok(all);
    };
    let plan = search::plan(site, text, false)?;
    all.retain(|&i| plan.matches(site, i));
    if plan.is_ordered() {
        all.sort_by(|&a, &b| plan.compare(&SortRow::of(site, a), &SortRow::of(site, b)));
    }
    Ok(all)
}

/// `GET board/{id}/issue?jql=`: the issues of the board, in key order unless `jql` orders them.
pub(crate) fn board_issues(call: &Call, id: &str) -> Reply {
    let site = call.shared.site();
    let board = find_board(&site, id)?;
    let all = with_jql(call, &site, site.board_issues(board))?;
    Ok(issue_page(call, &site, &all))
}

fn find_sprint<'s>(site: &'s Site, id: &str) -> Result<&'s Sprint, Rejection> {
    id.parse()
        .ok()
        .and_then(|id| site.sprint(id))
        .map(|(_, s)| s)
        .ok_or_else(|| Rejection::new(404, NO_SPRINT))
}

/// `GET sprint/{id}`.
pub(crate) fn sprint(call: &Call, id: &str) -> Reply {
    let site = call.shared.site();
    let sprint = find_sprint(&site, id)?;
    let ctx = call.ctx(&site);
    Ok(ok(&sprint_json(&ctx, sprint)))
}

/// `GET sprint/{id}/issue?jql=`: the issues whose Sprint field holds the sprint, in key order
/// unless `jql` orders them.
pub(crate) fn sprint_issues(call: &Call, id: &str) -> Reply {
    let site = call.shared.site();
    let sprint = find_sprint(&site, id)?;
    let all = with_jql(call, &site, site.sprint_issues(sprint.id))?;
    Ok(issue_page(call, &site, &all))
}
