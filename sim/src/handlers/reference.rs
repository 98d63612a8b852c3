//! Site-wide reference lists, each a bare array: project types, project categories,
//! resolutions and project roles.

use axum::response::Response;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};

use super::Call;
use super::respond::ok;
use crate::render::{self as r, Ctx, object};
use crate::site::projects::CATEGORIES;
use crate::site::reference::{RESOLUTIONS, ROLES, Role, project_types_of};

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
