//! Projects: Cloud's paged `project/search`, the unpaged `project` list, one project, and its
//! versions and components.

use axum::response::Response;
use serde_json::{Value, json};

use super::Call;
use super::respond::{Rejection, Reply, error1, ok, page_bean};
use crate::render::issue::component_count;
use crate::render::{self as r, Ctx, object};
use crate::site::reference::ISSUE_TYPES;
use crate::times::{self, Offset};

/// The `expand` options of project endpoints.
#[derive(Default)]
struct ProjectExpand {
    description: bool,
    lead: bool,
    url: bool,
    project_keys: bool,
    issue_types: bool,
    insight: bool,
}

impl ProjectExpand {
    fn from(call: &Call) -> ProjectExpand {
        let mut e = ProjectExpand::default();
        for item in call.req.params("expand").iter().flat_map(|v| v.split(',')) {
            match item.trim() {
                "description" => e.description = true,
                "lead" => e.lead = true,
                "url" => e.url = true,
                "projectKeys" => e.project_keys = true,
                "issueTypes" => e.issue_types = true,
                "insight" => e.insight = true,
                _ => {}
            }
        }
        e
    }
}

fn project_json(ctx: &Ctx, index: usize, expand: &ProjectExpand) -> Value {
    let site = ctx.site;
    let project = &site.projects[index];
    let cloud = ctx.cloud();
    let issue_types = expand.issue_types.then(|| {
        json!(
            (0..ISSUE_TYPES.len() as u8)
                .map(|t| r::issue_type(ctx, t))
                .collect::<Vec<_>>()
        )
    });
    let insight = (expand.insight && cloud).then(|| {
        let live: Vec<usize> = site.live_project_issues(index).collect();
        let last = live.iter().map(|&i| site.issues[i].updated).max();
        object([
            ("totalIssueCount", Some(json!(live.len()))),
            (
                "lastIssueUpdateTime",
                last.map(|t| json!(times::timestamp(t, Offset::Utc))),
            ),
        ])
    });
    object([
        (
            "expand",
            Some(json!(
                "description,lead,issueTypes,url,projectKeys,permissions,insight"
            )),
        ),
        (
            "self",
            Some(json!(ctx.rest(&format!("project/{}", project.id)))),
        ),
        ("id", Some(json!(project.id.to_string()))),
        ("key", Some(json!(project.key))),
        (
            "description",
            expand.description.then(|| json!(project.description)),
        ),
        ("lead", expand.lead.then(|| r::user(ctx, project.lead))),
        ("issueTypes", issue_types),
        ("name", Some(json!(project.name))),
        ("avatarUrls", Some(r::project_avatars(ctx, project))),
        (
            "projectKeys",
            expand.project_keys.then(|| json!([project.key])),
        ),
        (
            "url",
            expand.url.then(|| {
                json!(format!(
                    "https://{}.example.com",
                    project.key.to_lowercase()
                ))
            }),
        ),
        ("projectCategory", r::project_category(ctx, project)),
        ("projectTypeKey", Some(json!(project.type_key))),
        ("simplified", cloud.then(|| json!(project.simplified))),
        (
            "style",
            cloud.then(|| {
                json!(if project.simplified {
                    "next-gen"
                } else {
                    "classic"
                })
            }),
        ),
        ("isPrivate", cloud.then(|| json!(false))),
        ("archived", project.archived.map(|_| json!(true))),
        (
            "archivedDate",
            project
                .archived
                .filter(|_| cloud)
                .map(|t| json!(times::timestamp(t, Offset::Utc))),
        ),
        ("properties", cloud.then(|| json!({}))),
        ("insight", insight),
    ])
}

/// Cloud: `GET project/search`, a page bean of at most 50 projects.
pub(crate) fn search(call: &Call) -> Response {
    let site = call.shared.site();
    let ctx = call.ctx(&site);
    let expand = ProjectExpand::from(call);
    let (start_at, max_results) = call.page(50, 50);
    // `status` (repeated, or comma-separated) is `live` unless asked otherwise.
    let status: Vec<String> = call
        .req
        .params("status")
        .iter()
        .flat_map(|v| v.split(','))
        .map(|v| v.trim().to_string())
        .collect();
    let wanted = |archived: bool| {
        let want = if archived { "archived" } else { "live" };
        if status.is_empty() {
            !archived
        } else {
            status.iter().any(|s| s == want)
        }
    };
    let listed: Vec<usize> = (0..site.projects.len())
        .filter(|&i| wanted(site.projects[i].archived.is_some()))
        .collect();
    let total = listed.len();
    let values: Vec<Value> = listed
        .iter()
        .skip(start_at)
        .take(max_results)
        .map(|&i| project_json(&ctx, i, &expand))
        .collect();
    let status_query: String = status.iter().map(|s| format!("&status={s}")).collect();
    page_bean(values, start_at, max_results, total, |start| {
        ctx.rest(&format!(
            "project/search?startAt={start}&maxResults={max_results}{status_query}"
        ))
    })
}

/// `GET project`: every project in one bare array (Server's way; Cloud still answers it).
pub(crate) fn list(call: &Call) -> Response {
    let site = call.shared.site();
    let ctx = call.ctx(&site);
    let expand = ProjectExpand::from(call);
    let archived_too = call.req.param("includeArchived") == Some("true");
    let all: Vec<Value> = (0..site.projects.len())
        .filter(|&i| archived_too || site.projects[i].archived.is_none())
        .map(|i| project_json(&ctx, i, &expand))
        .collect();
    ok(&Value::Array(all))
}

fn missing(id_or_key: &str) -> Rejection {
    Rejection::new(
        404,
        format!("No project could be found with key '{id_or_key}'."),
    )
}

/// `GET project/{idOrKey}`: one project, with description, lead and issue types.
pub(crate) fn one(call: &Call, id_or_key: &str) -> Response {
    let site = call.shared.site();
    let ctx = call.ctx(&site);
    match site.find_project(id_or_key) {
        Some(index) => {
            let expand = ProjectExpand {
                description: true,
                lead: true,
                issue_types: true,
                ..ProjectExpand::from(call)
            };
            ok(&project_json(&ctx, index, &expand))
        }
        None => error1(
            404,
            &format!("No project could be found with key '{id_or_key}'."),
        ),
    }
}

/// `GET project/{idOrKey}/version`: a page bean of the project's versions (50 a page at most).
/// `orderBy`, `query` and `status` are accepted and ignored: versions come in creation order.
pub(crate) fn versions_page(call: &Call, id_or_key: &str) -> Reply {
    let site = call.shared.site();
    let index = site
        .find_project(id_or_key)
        .ok_or_else(|| missing(id_or_key))?;
    let ctx = call.ctx(&site);
    let project = &site.projects[index];
    let (start_at, max_results) = call.page(50, 50);
    let total = project.versions.len();
    let values: Vec<Value> = project
        .versions
        .iter()
        .skip(start_at)
        .take(max_results)
        .map(|v| r::project_version(&ctx, project, v))
        .collect();
    Ok(page_bean(values, start_at, max_results, total, |start| {
        ctx.rest(&format!(
            "project/{id_or_key}/version?startAt={start}&maxResults={max_results}"
        ))
    }))
}

/// `GET project/{idOrKey}/versions`: every version in one bare array.
pub(crate) fn versions_list(call: &Call, id_or_key: &str) -> Reply {
    let site = call.shared.site();
    let index = site
        .find_project(id_or_key)
        .ok_or_else(|| missing(id_or_key))?;
    let ctx = call.ctx(&site);
    let project = &site.projects[index];
    let all: Vec<Value> = project
        .versions
        .iter()
        .map(|v| r::project_version(&ctx, project, v))
        .collect();
    Ok(ok(&Value::Array(all)))
}

/// `GET project/{idOrKey}/components`: every component in one bare array.
pub(crate) fn components_list(call: &Call, id_or_key: &str) -> Reply {
    let site = call.shared.site();
    let index = site
        .find_project(id_or_key)
        .ok_or_else(|| missing(id_or_key))?;
    let ctx = call.ctx(&site);
    let project = &site.projects[index];
    let all: Vec<Value> = project
        .components
        .iter()
        .map(|c| r::project_component(&ctx, project, c))
        .collect();
    Ok(ok(&Value::Array(all)))
}

/// Cloud: `GET project/{idOrKey}/component`, a page bean of the components with their issue
/// counts (50 a page at most).
pub(crate) fn components_page(call: &Call, id_or_key: &str) -> Reply {
    let site = call.shared.site();
    let index = site
        .find_project(id_or_key)
        .ok_or_else(|| missing(id_or_key))?;
    let ctx = call.ctx(&site);
    let project = &site.projects[index];
    // Issues are in the first `component_count` components of their project.
    let counts: Vec<usize> = site
        .live_project_issues(index)
        .map(|i| component_count(&ctx, i))
        .collect();
    let (start_at, max_results) = call.page(50, 50);
    let total = project.components.len();
    let values: Vec<Value> = project
        .components
        .iter()
        .enumerate()
        .skip(start_at)
        .take(max_results)
        .map(|(k, c)| {
            let mut value = r::project_component(&ctx, project, c);
            value["issueCount"] = json!(counts.iter().filter(|&&n| n > k).count());
            value
        })
        .collect();
    Ok(page_bean(values, start_at, max_results, total, |start| {
        ctx.rest(&format!(
            "project/{id_or_key}/component?startAt={start}&maxResults={max_results}"
        ))
    }))
}

/// `GET project/{idOrKey}/statuses`: each issue type of the project with the statuses its
/// workflow has: `[{self, id, name, subtask, statuses}]`.
pub(crate) fn statuses(call: &Call, id_or_key: &str) -> Reply {
    let site = call.shared.site();
    site.find_project(id_or_key)
        .ok_or_else(|| missing(id_or_key))?;
    let ctx = call.ctx(&site);
    let statuses: Vec<Value> = (0..crate::site::reference::STATUSES.len() as u8)
        .map(|s| r::status_listing(&ctx, s))
        .collect();
    let list: Vec<Value> = ISSUE_TYPES
        .iter()
        .map(|t| {
            json!({
                "self": ctx.rest(&format!("issuetype/{}", t.id)),
                "id": t.id,
                "name": t.name,
                "subtask": t.subtask,
                "statuses": statuses,
            })
        })
        .collect();
    Ok(ok(&Value::Array(list)))
}
