//! Who may do what: permission schemes and their grants, the scheme a project uses, project
//! roles with their actors in a project, and issue security schemes, levels and level members.

use axum::response::Response;
use serde_json::{Map, Value, json};

use super::Call;
use super::respond::{Rejection, Reply, ok};
use crate::render::{self as r, Ctx, object};
use crate::site::Site;
use crate::site::access::{Actor, Grant, Holder, PermissionScheme, SecurityScheme};
use crate::site::reference::ROLES;

/// Which holder details `expand` asks to embed (`user`, `group`, `projectRole`, `all`).
struct HolderExpand(Vec<String>);

impl HolderExpand {
    fn from(call: &Call) -> HolderExpand {
        HolderExpand(
            call.req
                .params("expand")
                .iter()
                .flat_map(|v| v.split(','))
                .map(|s| s.trim().to_string())
                .collect(),
        )
    }

    fn has(&self, what: &str) -> bool {
        self.0.iter().any(|e| e == what || e == "all")
    }
}

/// A grant's or level member's `holder`: Cloud names groups by name (`parameter`) and id
/// (`value`), users by account id; Server by group name, user key and role id alone.
fn holder_json(ctx: &Ctx, holder: Holder, expand: &HolderExpand) -> Value {
    let site = ctx.site;
    let cloud = ctx.cloud();
    let (parameter, value, kind): (Option<String>, Option<String>, Option<&str>) = match holder {
        Holder::Anyone | Holder::ProjectLead | Holder::Reporter | Holder::Assignee => {
            (None, None, None)
        }
        Holder::ApplicationRole(key) => (
            key.map(String::from),
            key.filter(|_| cloud).map(String::from),
            None,
        ),
        Holder::Group(g) => {
            let group = &site.people.groups[g];
            (
                Some(group.name.to_string()),
                cloud.then(|| group.group_id.clone()),
                Some("group"),
            )
        }
        Holder::User(u) => {
            let user = &site.users()[u];
            let id = if cloud { &user.account_id } else { &user.key };
            (Some(id.clone()), cloud.then(|| id.clone()), Some("user"))
        }
        Holder::ProjectRole(id) => (
            Some(id.to_string()),
            cloud.then(|| id.to_string()),
            Some("projectRole"),
        ),
    };
    let mut value = object([
        ("type", Some(json!(holder.type_name()))),
        ("parameter", parameter.map(|p| json!(p))),
        ("value", value.map(|v| json!(v))),
        ("expand", kind.map(|k| json!(k))),
    ]);
    match holder {
        Holder::Group(g) if expand.has("group") => value["group"] = r::group(ctx, g),
        Holder::User(u) if expand.has("user") => value["user"] = r::user(ctx, u),
        Holder::ProjectRole(id) if expand.has("projectRole") => {
            if let Some(role) = ROLES.iter().find(|role| role.id == id) {
                value["projectRole"] = json!({
                    "self": ctx.rest(&format!("role/{id}")),
                    "name": role.name,
                    "id": role.id,
                    "description": role.description,
                });
            }
        }
        _ => {}
    }
    value
}

fn grant_json(ctx: &Ctx, scheme: &PermissionScheme, grant: &Grant, expand: &HolderExpand) -> Value {
    json!({
        "id": grant.id,
        "self": ctx.rest(&format!("permissionscheme/{}/permission/{}", scheme.id, grant.id)),
        "holder": holder_json(ctx, grant.holder, expand),
        "permission": grant.permission,
    })
}

const SCHEME_EXPAND: &str = "permissions,user,group,projectRole,field,all";

fn scheme_json(ctx: &Ctx, scheme: &PermissionScheme, expand: &HolderExpand) -> Value {
    let permissions = expand.has("permissions").then(|| {
        json!(
            scheme
                .grants
                .iter()
                .map(|g| grant_json(ctx, scheme, g, expand))
                .collect::<Vec<_>>()
        )
    });
    object([
        ("expand", Some(json!(SCHEME_EXPAND))),
        ("id", Some(json!(scheme.id))),
        (
            "self",
            Some(json!(ctx.rest(&format!("permissionscheme/{}", scheme.id)))),
        ),
        ("name", Some(json!(scheme.name))),
        ("description", Some(json!(scheme.description))),
        ("permissions", permissions),
    ])
}

/// `GET permissionscheme`: `{permissionSchemes: [...]}`, grants with `expand=permissions`.
pub(crate) fn permission_schemes(call: &Call) -> Response {
    let site = call.shared.site();
    let ctx = call.ctx(&site);
    let expand = HolderExpand::from(call);
    let list: Vec<Value> = site
        .access
        .permission_schemes
        .iter()
        .map(|s| scheme_json(&ctx, s, &expand))
        .collect();
    ok(&json!({ "permissionSchemes": list }))
}

fn find_scheme<'s>(site: &'s Site, id: &str) -> Result<&'s PermissionScheme, Rejection> {
    site.access
        .permission_schemes
        .iter()
        .find(|s| s.id.to_string() == id)
        .ok_or_else(|| {
            Rejection::new(
                404,
                format!("A permission scheme with the ID '{id}' does not exist."),
            )
        })
}

/// `GET permissionscheme/{id}`: one scheme.
pub(crate) fn permission_scheme(call: &Call, id: &str) -> Reply {
    let site = call.shared.site();
    let scheme = find_scheme(&site, id)?;
    let ctx = call.ctx(&site);
    Ok(ok(&scheme_json(&ctx, scheme, &HolderExpand::from(call))))
}

/// `GET permissionscheme/{id}/permission`: `{expand, permissions: [{id, self, holder,
/// permission}]}`.
pub(crate) fn permission_grants(call: &Call, id: &str) -> Reply {
    let site = call.shared.site();
    let scheme = find_scheme(&site, id)?;
    let ctx = call.ctx(&site);
    let expand = HolderExpand::from(call);
    let grants: Vec<Value> = scheme
        .grants
        .iter()
        .map(|g| grant_json(&ctx, scheme, g, &expand))
        .collect();
    Ok(ok(
        &json!({ "expand": "user,group,projectRole,field,all", "permissions": grants }),
    ))
}

fn find_project(site: &Site, id_or_key: &str) -> Result<usize, Rejection> {
    site.find_project(id_or_key).ok_or_else(|| {
        Rejection::new(
            404,
            format!("No project could be found with key '{id_or_key}'."),
        )
    })
}

/// `GET project/{idOrKey}/permissionscheme`: the scheme the project uses.
pub(crate) fn project_permission_scheme(call: &Call, id_or_key: &str) -> Reply {
    let site = call.shared.site();
    let p = find_project(&site, id_or_key)?;
    let ctx = call.ctx(&site);
    let scheme = &site.access.permission_schemes[site.projects[p].permission_scheme];
    Ok(ok(&scheme_json(&ctx, scheme, &HolderExpand::from(call))))
}

/// `GET project/{idOrKey}/role`: role name → URL of the role in this project.
pub(crate) fn project_roles(call: &Call, id_or_key: &str) -> Reply {
    let site = call.shared.site();
    let p = find_project(&site, id_or_key)?;
    let ctx = call.ctx(&site);
    let project = &site.projects[p];
    let map: Map<String, Value> = ROLES
        .iter()
        .map(|role| {
            (
                role.name.to_string(),
                json!(ctx.rest(&format!("project/{}/role/{}", project.id, role.id))),
            )
        })
        .collect();
    Ok(ok(&Value::Object(map)))
}

/// `GET project/{idOrKey}/role/{id}`: the role with its actors in this project. Cloud writes
/// `actorUser.accountId` and `actorGroup{name, displayName, groupId}`; Server the user's
/// username (or the group's name) as `name`, and an avatar.
pub(crate) fn project_role(call: &Call, id_or_key: &str, role_id: &str) -> Reply {
    let site = call.shared.site();
    let p = find_project(&site, id_or_key)?;
    let Some(k) = ROLES.iter().position(|r| r.id.to_string() == role_id) else {
        return Err(Rejection::new(
            404,
            format!("Could not find project role with id '{role_id}'."),
        ));
    };
    let ctx = call.ctx(&site);
    let cloud = call.cloud();
    let project = &site.projects[p];
    let role = &ROLES[k];
    let actors: Vec<Value> = project.role_actors[k]
        .iter()
        .map(|a| match a.actor {
            Actor::User(u) => {
                let user = &site.users()[u];
                object([
                    ("id", Some(json!(a.id))),
                    ("displayName", Some(json!(user.display_name))),
                    ("type", Some(json!("atlassian-user-role-actor"))),
                    ("name", (!cloud).then(|| json!(user.name))),
                    (
                        "avatarUrl",
                        (!cloud).then(|| {
                            json!(format!(
                                "{}/secure/useravatar?size=xsmall&ownerId={}&avatarId={}",
                                ctx.host,
                                user.name,
                                10100 + u
                            ))
                        }),
                    ),
                    (
                        "actorUser",
                        cloud.then(|| json!({ "accountId": user.account_id })),
                    ),
                ])
            }
            Actor::Group(g) => {
                let group = &site.people.groups[g];
                object([
                    ("id", Some(json!(a.id))),
                    ("displayName", Some(json!(group.name))),
                    ("type", Some(json!("atlassian-group-role-actor"))),
                    ("name", Some(json!(group.name))),
                    (
                        "avatarUrl",
                        (!cloud).then(|| {
                            json!(format!(
                                "{}/secure/useravatar?size=xsmall&avatarId=10123",
                                ctx.host
                            ))
                        }),
                    ),
                    (
                        "actorGroup",
                        Some(object([
                            ("name", Some(json!(group.name))),
                            ("displayName", Some(json!(group.name))),
                            ("groupId", cloud.then(|| json!(group.group_id))),
                        ])),
                    ),
                ])
            }
        })
        .collect();
    Ok(ok(&object([
        (
            "self",
            Some(json!(
                ctx.rest(&format!("project/{}/role/{}", project.id, role.id))
            )),
        ),
        ("name", Some(json!(role.name))),
        ("id", Some(json!(role.id))),
        ("description", Some(json!(role.description))),
        ("actors", Some(json!(actors))),
        ("translatedName", cloud.then(|| json!(role.name))),
    ])))
}

fn security_scheme_json(ctx: &Ctx, scheme: &SecurityScheme, with_levels: bool) -> Value {
    let levels = with_levels.then(|| {
        json!(
            scheme
                .levels
                .iter()
                .map(|level| {
                    let mut value = r::security_level(ctx, level);
                    if ctx.cloud() {
                        value["isDefault"] = json!(scheme.default_level == Some(level.id));
                        value["issueSecuritySchemeId"] = json!(scheme.id.to_string());
                    }
                    value
                })
                .collect::<Vec<_>>()
        )
    });
    object([
        (
            "self",
            Some(json!(
                ctx.rest(&format!("issuesecurityschemes/{}", scheme.id))
            )),
        ),
        ("id", Some(json!(scheme.id))),
        ("name", Some(json!(scheme.name))),
        ("description", Some(json!(scheme.description))),
        (
            "defaultSecurityLevelId",
            scheme.default_level.map(|l| json!(l)),
        ),
        ("levels", levels),
    ])
}

/// `GET issuesecurityschemes`: `{issueSecuritySchemes: [...]}`, without levels.
pub(crate) fn security_schemes(call: &Call) -> Response {
    let site = call.shared.site();
    let ctx = call.ctx(&site);
    let list: Vec<Value> = site
        .access
        .security_schemes
        .iter()
        .map(|s| security_scheme_json(&ctx, s, false))
        .collect();
    ok(&json!({ "issueSecuritySchemes": list }))
}

/// `GET issuesecurityschemes/{id}`: one scheme with its `levels`.
pub(crate) fn security_scheme(call: &Call, id: &str) -> Reply {
    let site = call.shared.site();
    let scheme = site
        .access
        .security_schemes
        .iter()
        .find(|s| s.id.to_string() == id)
        .ok_or_else(|| {
            Rejection::new(
                404,
                format!("The issue security scheme with ID {id} does not exist."),
            )
        })?;
    let ctx = call.ctx(&site);
    Ok(ok(&security_scheme_json(&ctx, scheme, true)))
}

/// Cloud: `GET issuesecurityschemes/level/member?schemeId=&levelId=&id=`, a page bean of
/// `{id, issueSecurityLevelId, issueSecuritySchemeId, holder}` (50 a page at most). The
/// filters add up: members of any named scheme, level or id; all members without filters.
pub(crate) fn security_level_members(call: &Call) -> Response {
    let site = call.shared.site();
    let ctx = call.ctx(&site);
    let expand = HolderExpand::from(call);
    let (schemes, levels, ids) = (
        call.req.params("schemeId"),
        call.req.params("levelId"),
        call.req.params("id"),
    );
    let unfiltered = schemes.is_empty() && levels.is_empty() && ids.is_empty();
    let members: Vec<(u64, u64, &crate::site::access::LevelMember)> = site
        .access
        .security_schemes
        .iter()
        .flat_map(|s| {
            s.levels
                .iter()
                .flat_map(move |l| l.members.iter().map(move |m| (s.id, l.id, m)))
        })
        .filter(|(scheme, level, member)| {
            unfiltered
                || schemes.contains(&scheme.to_string())
                || levels.contains(&level.to_string())
                || ids.contains(&member.id.to_string())
        })
        .collect();
    call.paged(
        &members,
        50,
        50,
        "issuesecurityschemes/level/member",
        |(scheme, level, member)| {
            json!({
                "id": member.id.to_string(),
                "issueSecurityLevelId": level.to_string(),
                "issueSecuritySchemeId": scheme.to_string(),
                "holder": holder_json(&ctx, member.holder, &expand),
            })
        },
    )
}
