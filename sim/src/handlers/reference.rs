//! Site-wide reference lists: project types, project categories, resolutions, project roles,
//! issue types, statuses and their categories, priorities, labels, issue link types, the global
//! settings (`configuration`) and the application roles.

use axum::response::Response;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};

use super::Call;
use super::respond::ok;
use crate::render::{self as r, Ctx, object};
use crate::site::projects::CATEGORIES;
use crate::site::reference::{
    ISSUE_TYPES, LINK_TYPES, PRIORITIES, RESOLUTIONS, ROLES, Role, STATUS_CATEGORIES, STATUSES,
    application_roles, project_types_of,
};

/// `GET project/type`: `{key, formattedKey, descriptionI18nKey, icon, color}`, the icon being a
/// base64 SVG document as Jira sends it.
pub(crate) fn project_types(call: &Call) -> Response {
    let list: Vec<Value> = project_types_of(call.cloud())
        .map(|t| {
            let svg = format!(
                "<?xml version=\"1.0\" encoding=\"utf-8\"?><svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 32 32\"><circle cx=\"16\" cy=\"16\" r=\"16\" fill=\"{}\"/></svg>",
                t.color
            );
            json!({
                "key": t.key,
                "formattedKey": t.formatted_key,
                "descriptionI18nKey": format!("jira.project.type.{}.description", t.key),
                "icon": STANDARD.encode(svg),
                "color": t.color,
            })
        })
        .collect();
    ok(&Value::Array(list))
}

/// `GET projectCategory`: `{self, id, description, name}`.
pub(crate) fn project_categories(call: &Call) -> Response {
    let site = call.shared.site();
    let ctx = call.ctx(&site);
    let list: Vec<Value> = CATEGORIES
        .iter()
        .map(|c| {
            json!({
                "self": ctx.rest(&format!("projectCategory/{}", c.id)),
                "id": c.id.to_string(),
                "description": c.description,
                "name": c.name,
            })
        })
        .collect();
    ok(&Value::Array(list))
}

/// `GET resolution`: `{self, id, description, name}`.
pub(crate) fn resolutions(call: &Call) -> Response {
    let site = call.shared.site();
    let ctx = call.ctx(&site);
    let list: Vec<Value> = (0..RESOLUTIONS.len() as u8)
        .map(|i| r::resolution(&ctx, i))
        .collect();
    ok(&Value::Array(list))
}

/// `GET role`: every project role with its default actor, a group.
pub(crate) fn roles(call: &Call) -> Response {
    let site = call.shared.site();
    let ctx = call.ctx(&site);
    let list: Vec<Value> = ROLES
        .iter()
        .enumerate()
        .map(|(k, role)| role_json(&ctx, k, role))
        .collect();
    ok(&Value::Array(list))
}

fn role_json(ctx: &Ctx, k: usize, role: &Role) -> Value {
    let group = ctx.site.people.groups.iter().find(|g| g.name == role.group);
    let actors: Vec<Value> = group
        .map(|g| {
            json!({
                "id": 10100 + k as u64 * 10,
                "displayName": g.name,
                "type": "atlassian-group-role-actor",
                "name": g.name,
                "actorGroup": object([
                    ("name", Some(json!(g.name))),
                    ("displayName", Some(json!(g.name))),
                    ("groupId", ctx.cloud().then(|| json!(g.group_id))),
                ]),
            })
        })
        .into_iter()
        .collect();
    json!({
        "self": ctx.rest(&format!("role/{}", role.id)),
        "name": role.name,
        "id": role.id,
        "description": role.description,
        "actors": actors,
    })
}

/// `GET issuetype`: every issue type (Cloud adds `untranslatedName` and `hierarchyLevel`).
pub(crate) fn issue_types(call: &Call) -> Response {
    let site = call.shared.site();
    let ctx = call.ctx(&site);
    let list: Vec<Value> = (0..ISSUE_TYPES.len() as u8)
        .map(|t| r::issue_type_listing(&ctx, t))
        .collect();
    ok(&Value::Array(list))
}

/// `GET status`: every status with its category.
pub(crate) fn statuses(call: &Call) -> Response {
    let site = call.shared.site();
    let ctx = call.ctx(&site);
    let list: Vec<Value> = (0..STATUSES.len() as u8)
        .map(|s| r::status_listing(&ctx, s))
        .collect();
    ok(&Value::Array(list))
}

/// `GET statuscategory`: the four categories, "No Category" first.
pub(crate) fn status_categories(call: &Call) -> Response {
    let site = call.shared.site();
    let ctx = call.ctx(&site);
    let list: Vec<Value> = STATUS_CATEGORIES
        .iter()
        .map(|c| r::status_category(&ctx, c))
        .collect();
    ok(&Value::Array(list))
}

/// `GET priority`: every priority in one bare array (Server's list; deprecated on Cloud).
pub(crate) fn priorities(call: &Call) -> Response {
    let site = call.shared.site();
    let ctx = call.ctx(&site);
    let list: Vec<Value> = (0..PRIORITIES.len() as u8)
        .map(|p| r::priority_listing(&ctx, p))
        .collect();
    ok(&Value::Array(list))
}

/// Cloud: `GET priority/search`, a page bean of priorities (50 a page at most).
pub(crate) fn priority_search(call: &Call) -> Response {
    let site = call.shared.site();
    let ctx = call.ctx(&site);
    let all: Vec<u8> = (0..PRIORITIES.len() as u8).collect();
    call.paged(&all, 50, 50, "priority/search", |&p| {
        r::priority_listing(&ctx, p)
    })
}

/// Cloud: `GET label`, a page bean of the labels issues carry (1000 a page at most).
pub(crate) fn labels(call: &Call) -> Response {
    let site = call.shared.site();
    let all = site.all_labels();
    call.paged(&all, 1000, 1000, "label", |label| json!(label))
}

/// `GET issueLinkType`: `{issueLinkTypes: [{id, name, inward, outward, self}]}`.
pub(crate) fn link_types(call: &Call) -> Response {
    let site = call.shared.site();
    let ctx = call.ctx(&site);
    let list: Vec<Value> = LINK_TYPES
        .iter()
        .map(|t| {
            json!({
                "id": t.id,
                "name": t.name,
                "inward": t.inward,
                "outward": t.outward,
                "self": ctx.rest(&format!("issueLinkType/{}", t.id)),
            })
        })
        .collect();
    ok(&json!({ "issueLinkTypes": list }))
}

/// `GET configuration`: the global settings, time tracking included.
pub(crate) fn configuration(_call: &Call) -> Response {
    ok(&json!({
        "votingEnabled": true,
        "watchingEnabled": true,
        "unassignedIssuesAllowed": true,
        "subTasksEnabled": true,
        "issueLinkingEnabled": true,
        "timeTrackingEnabled": true,
        "attachmentsEnabled": true,
        "timeTrackingConfiguration": {
            "workingHoursPerDay": 8.0,
            "workingDaysPerWeek": 5.0,
            "timeFormat": "pretty",
            "defaultUnit": "minute",
        },
    }))
}

/// `GET applicationrole`: the installed applications with their groups and seats.
pub(crate) fn application_roles_list(call: &Call) -> Response {
    let site = call.shared.site();
    let ctx = call.ctx(&site);
    let cloud = call.cloud();
    let list: Vec<Value> = application_roles(cloud, call.shared.cfg.jira_software)
        .iter()
        .map(|role| {
            let members: std::collections::BTreeSet<usize> = role
                .groups
                .iter()
                .filter_map(|g| site.people.group(g))
                .flat_map(|g| site.people.groups[g].members.iter().copied())
                .filter(|&u| site.users()[u].active)
                .collect();
            let details = |names: &[&str]| -> Value {
                json!(
                    names
                        .iter()
                        .filter_map(|g| site.people.group(g))
                        .map(|g| r::group(&ctx, g))
                        .collect::<Vec<_>>()
                )
            };
            let unlimited = role.seats < 0;
            let count = members.len() as i64;
            object([
                ("key", Some(json!(role.key))),
                ("groups", Some(json!(role.groups))),
                ("groupDetails", cloud.then(|| details(role.groups))),
                ("name", Some(json!(role.name))),
                ("defaultGroups", Some(json!(role.default_groups))),
                (
                    "defaultGroupsDetails",
                    cloud.then(|| details(role.default_groups)),
                ),
                ("selectedByDefault", Some(json!(false))),
                ("defined", Some(json!(true))),
                ("numberOfSeats", Some(json!(role.seats))),
                (
                    "remainingSeats",
                    Some(json!(if unlimited { -1 } else { role.seats - count })),
                ),
                ("userCount", Some(json!(count))),
                (
                    "userCountDescription",
                    Some(json!(format!(
                        "{count} {}",
                        if role.key == "jira-software" {
                            "developers"
                        } else {
                            "users"
                        }
                    ))),
                ),
                ("hasUnlimitedSeats", Some(json!(unlimited))),
                ("platform", Some(json!(role.platform))),
            ])
        })
        .collect();
    ok(&Value::Array(list))
}
