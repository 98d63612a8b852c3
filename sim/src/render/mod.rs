//! Rendering the site as Jira's JSON: the request context (which API version, which base URL)
//! and the small objects every response embeds (users, projects, statuses, options...).

mod custom;
pub(crate) mod history;
pub(crate) mod issue;
pub(crate) mod richtext;

use std::cell::RefCell;
use std::collections::HashMap;

use serde_json::{Map, Value, json};

use crate::site::Site;
use crate::site::people::{AccountKind, Email};
use crate::site::projects::{Component, Project, Sprint, Version};
use crate::site::reference::{ISSUE_TYPES, PRIORITIES, RESOLUTIONS, STATUSES, StatusCategory};
use crate::times::{self, Offset};

/// REST API version of the request: v3 writes rich text as ADF, v2 as wiki markup.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Api {
    V2,
    V3,
}

impl Api {
    pub fn number(self) -> u8 {
        match self {
            Api::V2 => 2,
            Api::V3 => 3,
        }
    }
}

/// Everything a renderer needs to know about the request it answers.
pub(crate) struct Ctx<'a> {
    pub site: &'a Site,
    /// Root that `self` links hang from: the site, or the OAuth gateway `.../ex/jira/{cloudId}`.
    pub base: String,
    /// The site's own root: icons and attachments stay on it even through the gateway.
    pub host: String,
    pub api: Api,
    /// Users already rendered for this response: a page names the same few people many times.
    users: RefCell<HashMap<usize, Value>>,
}

impl<'a> Ctx<'a> {
    pub fn new(site: &'a Site, base: String, host: String, api: Api) -> Ctx<'a> {
        Ctx {
            site,
            base,
            host,
            api,
            users: RefCell::new(HashMap::new()),
        }
    }

    /// A REST URL of this API version: `{base}/rest/api/{v}/{path}`.
    pub fn rest(&self, path: &str) -> String {
        format!("{}/rest/api/{}/{}", self.base, self.api.number(), path)
    }

    /// A Jira Software REST URL: `{base}/rest/agile/1.0/{path}`.
    pub fn agile(&self, path: &str) -> String {
        format!("{}/rest/agile/1.0/{}", self.base, path)
    }

    /// Whether rich text is written as ADF documents (v3) rather than wiki markup (v2).
    pub fn adf(&self) -> bool {
        self.api == Api::V3
    }

    pub fn cloud(&self) -> bool {
        self.site.is_cloud()
    }

    /// Timestamps in the authenticated user's zone, as Jira writes some of them.
    pub fn local(&self) -> Offset {
        Offset::Zone(self.site.tz)
    }
}

/// Builds a JSON object from `(key, value)` pairs, skipping `None` values entirely (Jira omits
/// keys rather than writing null in several places).
pub(crate) fn object<const N: usize>(pairs: [(&str, Option<Value>); N]) -> Value {
    let mut map = Map::new();
    for (key, value) in pairs {
        if let Some(value) = value {
            map.insert(key.to_string(), value);
        }
    }
    Value::Object(map)
}

fn avatar_set(small: String, medium: String, large_24: String, large: String) -> Value {
    json!({ "48x48": large, "24x24": large_24, "16x16": small, "32x32": medium })
}

fn user_avatars(ctx: &Ctx, index: usize) -> Value {
    let user = &ctx.site.users()[index];
    if ctx.cloud() {
        let url = if user.kind == AccountKind::Former {
            "https://avatar-management--avatars.us-west-2.prod.public.atl-paas.net/default-avatar.png".to_string()
        } else {
            format!(
                "https://secure.gravatar.com/avatar/{}?d=https%3A%2F%2Favatar-management--avatars.us-west-2.prod.public.atl-paas.net%2Finitials%2F{}-{}.png",
                user.avatar_hash,
                user.initials(),
                index % 7
            )
        };
        avatar_set(url.clone(), url.clone(), url.clone(), url)
    } else {
        let base = format!(
            "{}/secure/useravatar?ownerId={}&avatarId={}",
            ctx.host,
            user.name,
            10100 + index
        );
        let sized = |size: &str| {
            format!(
                "{}/secure/useravatar?size={size}&ownerId={}&avatarId={}",
                ctx.host,
                user.name,
                10100 + index
            )
        };
        avatar_set(sized("xsmall"), sized("medium"), sized("small"), base)
    }
}

/// A user as embedded in issues (no locale).
pub(crate) fn user(ctx: &Ctx, index: usize) -> Value {
    if let Some(cached) = ctx.users.borrow().get(&index) {
        return cached.clone();
    }
    let value = user_with(ctx, index, false);
    ctx.users.borrow_mut().insert(index, value.clone());
    value
}

/// A user as listed by `/users/search`, `/user/search`, `/group/member` and `/myself`.
pub(crate) fn user_listing(ctx: &Ctx, index: usize) -> Value {
    user_with(ctx, index, true)
}

fn user_with(ctx: &Ctx, index: usize, with_locale: bool) -> Value {
    let user = &ctx.site.users()[index];
    let email = match &user.email {
        Email::Address(a) | Email::Masked(a) => Some(json!(a)),
        Email::Hidden => None,
    };
    let time_zone = user.time_zone.as_ref().map(|z| json!(z));
    let locale = user.locale.filter(|_| with_locale).map(|l| json!(l));
    if ctx.cloud() {
        let account_type = match user.kind {
            AccountKind::App => "app",
            _ => "atlassian",
        };
        object([
            (
                "self",
                Some(json!(ctx.rest(&format!(
                    "user?accountId={}",
                    user.account_id.replace(':', "%3A")
                )))),
            ),
            ("accountId", Some(json!(user.account_id))),
            ("accountType", Some(json!(account_type))),
            ("emailAddress", email),
            ("avatarUrls", Some(user_avatars(ctx, index))),
            ("displayName", Some(json!(user.display_name))),
            ("active", Some(json!(user.active))),
            ("timeZone", time_zone),
            ("locale", locale),
        ])
    } else {
        object([
            (
                "self",
                Some(json!(ctx.rest(&format!("user?username={}", user.name)))),
            ),
            ("name", Some(json!(user.name))),
            ("key", Some(json!(user.key))),
            ("emailAddress", email),
            ("avatarUrls", Some(user_avatars(ctx, index))),
            ("displayName", Some(json!(user.display_name))),
            ("active", Some(json!(user.active))),
            ("timeZone", time_zone),
            ("locale", locale),
        ])
    }
}

pub(crate) fn project_avatars(ctx: &Ctx, project: &Project) -> Value {
    let url = |size: Option<&str>| match size {
        Some(size) => format!(
            "{}/secure/projectavatar?size={size}&pid={}&avatarId=10011",
            ctx.host, project.id
        ),
        None => format!(
            "{}/secure/projectavatar?pid={}&avatarId=10011",
            ctx.host, project.id
        ),
    };
    avatar_set(
        url(Some("xsmall")),
        url(Some("medium")),
        url(Some("small")),
        url(None),
    )
}

pub(crate) fn project_category(ctx: &Ctx, project: &Project) -> Option<Value> {
    project.category.map(|c| {
        json!({
            "self": ctx.rest(&format!("projectCategory/{}", c.id)),
            "id": c.id.to_string(),
            "description": c.description,
            "name": c.name,
        })
    })
}

/// A project as embedded in issues and custom fields.
pub(crate) fn project_ref(ctx: &Ctx, index: usize) -> Value {
    let project = &ctx.site.projects[index];
    object([
        (
            "self",
            Some(json!(ctx.rest(&format!("project/{}", project.id)))),
        ),
        ("id", Some(json!(project.id.to_string()))),
        ("key", Some(json!(project.key))),
        ("name", Some(json!(project.name))),
        ("projectTypeKey", Some(json!(project.type_key))),
        ("simplified", ctx.cloud().then(|| json!(project.simplified))),
        ("avatarUrls", Some(project_avatars(ctx, project))),
        ("projectCategory", project_category(ctx, project)),
    ])
}

pub(crate) fn status_category(ctx: &Ctx, category: &StatusCategory) -> Value {
    json!({
        "self": ctx.rest(&format!("statuscategory/{}", category.id)),
        "id": category.id,
        "key": category.key,
        "colorName": category.color,
        "name": category.name,
    })
}

pub(crate) fn status(ctx: &Ctx, index: u8) -> Value {
    let status = &STATUSES[index as usize];
    json!({
        "self": ctx.rest(&format!("status/{}", status.id)),
        "description": status.description,
        "iconUrl": format!("{}/{}", ctx.host, status.icon),
        "name": status.name,
        "id": status.id,
        "statusCategory": status_category(ctx, status.category),
    })
}

/// A status as the status lists give it (`status`, `project/{key}/statuses`): Cloud adds the
/// untranslated name.
pub(crate) fn status_listing(ctx: &Ctx, index: u8) -> Value {
    let mut value = status(ctx, index);
    if ctx.cloud() {
        value["untranslatedName"] = json!(STATUSES[index as usize].name);
    }
    value
}

/// An issue type as `issuetype` lists it: Cloud adds the untranslated name.
pub(crate) fn issue_type_listing(ctx: &Ctx, index: u8) -> Value {
    let mut value = issue_type(ctx, index);
    if ctx.cloud() {
        value["untranslatedName"] = json!(ISSUE_TYPES[index as usize].name);
    }
    value
}

/// A priority as `priority` and `priority/search` list it: with its colour and description
/// (and on Cloud whether it is the default).
pub(crate) fn priority_listing(ctx: &Ctx, index: u8) -> Value {
    let p = &PRIORITIES[index as usize];
    object([
        ("self", Some(json!(ctx.rest(&format!("priority/{}", p.id))))),
        ("statusColor", Some(json!(p.color))),
        ("description", Some(json!(p.description))),
        (
            "iconUrl",
            Some(json!(format!(
                "{}/images/icons/priorities/{}",
                ctx.host, p.icon
            ))),
        ),
        ("name", Some(json!(p.name))),
        ("id", Some(json!(p.id))),
        ("isDefault", ctx.cloud().then(|| json!(index == 2))),
    ])
}

/// An issue security level `{self, id, name, description}`, as the issue's `security` field
/// and a scheme's `levels` hold it.
pub(crate) fn security_level(ctx: &Ctx, level: &crate::site::access::SecurityLevel) -> Value {
    json!({
        "self": ctx.rest(&format!("securitylevel/{}", level.id)),
        "id": level.id.to_string(),
        "description": level.description,
        "name": level.name,
    })
}

pub(crate) fn priority(ctx: &Ctx, index: u8) -> Value {
    let priority = &PRIORITIES[index as usize];
    json!({
        "self": ctx.rest(&format!("priority/{}", priority.id)),
        "iconUrl": format!("{}/images/icons/priorities/{}", ctx.host, priority.icon),
        "name": priority.name,
        "id": priority.id,
    })
}

pub(crate) fn issue_type(ctx: &Ctx, index: u8) -> Value {
    let t = &ISSUE_TYPES[index as usize];
    if ctx.cloud() {
        json!({
            "self": ctx.rest(&format!("issuetype/{}", t.id)),
            "id": t.id,
            "description": t.description,
            "iconUrl": format!("{}/rest/api/2/universal_avatar/view/type/issuetype/avatar/{}?size=medium", ctx.host, t.avatar_id),
            "name": t.name,
            "subtask": t.subtask,
            "avatarId": t.avatar_id,
            "hierarchyLevel": t.hierarchy_level,
        })
    } else {
        json!({
            "self": ctx.rest(&format!("issuetype/{}", t.id)),
            "id": t.id,
            "description": t.description,
            "iconUrl": format!("{}/images/icons/issuetypes/{}", ctx.host, t.icon),
            "name": t.name,
            "subtask": t.subtask,
            "avatarId": t.avatar_id,
        })
    }
}

pub(crate) fn resolution(ctx: &Ctx, index: u8) -> Value {
    let r = &RESOLUTIONS[index as usize];
    json!({
        "self": ctx.rest(&format!("resolution/{}", r.id)),
        "id": r.id,
        "description": r.description,
        "name": r.name,
    })
}

pub(crate) fn version(ctx: &Ctx, version: &Version) -> Value {
    object([
        (
            "self",
            Some(json!(ctx.rest(&format!("version/{}", version.id)))),
        ),
        ("id", Some(json!(version.id.to_string()))),
        (
            "description",
            version.description.as_ref().map(|d| json!(d)),
        ),
        ("name", Some(json!(version.name))),
        ("archived", Some(json!(version.archived))),
        ("released", Some(json!(version.released))),
        (
            "releaseDate",
            version.release_date.map(|d| json!(times::date(d))),
        ),
    ])
}

pub(crate) fn component(ctx: &Ctx, component: &Component) -> Value {
    object([
        (
            "self",
            Some(json!(ctx.rest(&format!("component/{}", component.id)))),
        ),
        ("id", Some(json!(component.id.to_string()))),
        ("name", Some(json!(component.name))),
        (
            "description",
            component.description.as_ref().map(|d| json!(d)),
        ),
    ])
}

/// A version as its project lists it (`project/{key}/version[s]`): with the project's id, and
/// the release date in the user's format too.
pub(crate) fn project_version(ctx: &Ctx, project: &Project, v: &Version) -> Value {
    let mut value = version(ctx, v);
    if let Some(date) = v.release_date {
        value["userReleaseDate"] = json!(times::user_date(date));
    }
    value["projectId"] = json!(project.id);
    value
}

/// A component as its project lists it (`project/{key}/component[s]`): who issues go to, and
/// whose project it is. A component with a lead assigns to the lead; the others to the
/// project's default assignee, which Jira reports as not a valid assignee type.
pub(crate) fn project_component(ctx: &Ctx, project: &Project, c: &Component) -> Value {
    let mut value = component(ctx, c);
    let (assignee_type, valid) = match c.lead {
        Some(_) => ("COMPONENT_LEAD", true),
        None => ("PROJECT_DEFAULT", false),
    };
    let lead = c.lead.map(|u| user(ctx, u));
    let extra = object([
        ("lead", lead.clone()),
        ("assigneeType", Some(json!(assignee_type))),
        ("assignee", lead.clone()),
        ("realAssigneeType", Some(json!(assignee_type))),
        ("realAssignee", lead),
        ("isAssigneeTypeValid", Some(json!(valid))),
        ("project", Some(json!(project.key))),
        ("projectId", Some(json!(project.id))),
    ]);
    if let (Value::Object(map), Value::Object(extra)) = (&mut value, extra) {
        map.extend(extra);
    }
    value
}

pub(crate) fn group(ctx: &Ctx, index: usize) -> Value {
    let group = &ctx.site.people.groups[index];
    object([
        ("name", Some(json!(group.name))),
        ("groupId", ctx.cloud().then(|| json!(group.group_id))),
        (
            "self",
            Some(json!(ctx.rest(&format!("group?groupname={}", group.name)))),
        ),
    ])
}

/// A select-list option `{self, value, id}`.
pub(crate) fn option(ctx: &Ctx, id: u64, value: &str) -> Value {
    json!({
        "self": ctx.rest(&format!("customFieldOption/{id}")),
        "value": value,
        "id": id.to_string(),
    })
}

/// A sprint as the sprint custom field holds it: an object on Cloud, and on Server the
/// `toString` of GreenHopper's Java object.
pub(crate) fn sprint(ctx: &Ctx, sprint: &Sprint) -> Value {
    let zulu = |ms: i64| {
        chrono::DateTime::from_timestamp_millis(ms)
            .unwrap_or_default()
            .format("%Y-%m-%dT%H:%M:%S%.3fZ")
            .to_string()
    };
    if ctx.cloud() {
        object([
            ("id", Some(json!(sprint.id))),
            ("name", Some(json!(sprint.name))),
            ("state", Some(json!(sprint.state))),
            ("boardId", Some(json!(sprint.board_id))),
            ("goal", Some(json!(sprint.goal))),
            ("startDate", sprint.start.map(|t| json!(zulu(t)))),
            ("endDate", sprint.end.map(|t| json!(zulu(t)))),
            ("completeDate", sprint.complete.map(|t| json!(zulu(t)))),
        ])
    } else {
        let legacy = |t: Option<i64>| match t {
            Some(t) => times::timestamp(t, Offset::Fixed(-4 * 3600)),
            None => "<null>".to_string(),
        };
        json!(format!(
            "com.atlassian.greenhopper.service.sprint.Sprint@{:x}[id={},rapidViewId={},state={},name={},startDate={},endDate={},completeDate={},sequence={},goal={}]",
            0x4263_b21c_u64 + sprint.id,
            sprint.id,
            sprint.board_id,
            sprint.state.to_uppercase(),
            sprint.name,
            legacy(sprint.start),
            legacy(sprint.end),
            legacy(sprint.complete),
            sprint.id,
            sprint.goal
        ))
    }
}
