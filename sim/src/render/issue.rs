//! Issues as Jira writes them: the envelope (`expand`, `id`, `self`, `key`), each requested
//! field with a value of its type, and the embedded comment, worklog and link objects.

use serde_json::{Map, Value, json};

use crate::render::richtext::{Doc, Size};
use crate::render::{self as r, Ctx, object};
use crate::render::{custom, history};
use crate::rng::{Rng, RngExt, stream, topic};
use crate::select::{Expand, Selection};
use crate::site::fields::{Custom, FieldDef, Kind, System};
use crate::site::reference::{BUG, LINK_TYPES};
use crate::times::{self, Offset};

const DAY_MS: i64 = 86_400_000;

/// Comments an issue embeds in its `comment` field; the rest are paged by `issue/{key}/comment`.
pub(crate) const EMBEDDED_COMMENTS: usize = 50;
/// Worklogs an issue embeds in its `worklog` field (always `maxResults: 20`).
pub(crate) const EMBEDDED_WORKLOGS: usize = 20;

/// What Jira lists in each issue's `expand` attribute.
const CLOUD_EXPAND: &str =
    "renderedFields,names,schema,operations,editmeta,changelog,versionedRepresentations";
const SERVER_EXPAND: &str = "operations,versionedRepresentations,editmeta,changelog,renderedFields";

/// Salts for the random streams of system fields, so each draws independently.
mod salt {
    pub const DESCRIPTION: u64 = 1_000_001;
    pub const ENVIRONMENT: u64 = 1_000_002;
    pub const VERSIONS: u64 = 1_000_004;
    pub const DUE: u64 = 1_000_005;
    pub const ESTIMATE: u64 = 1_000_006;
}

pub(crate) fn issue_self(ctx: &Ctx, index: usize) -> String {
    let id = ctx.site.issues[index].id;
    if ctx.cloud() {
        ctx.rest(&format!("issue/{id}"))
    } else {
        // Server writes issue links on the `latest` alias.
        format!("{}/rest/api/latest/issue/{id}", ctx.base)
    }
}

/// One issue with the selected fields and expansions.
pub(crate) fn issue(ctx: &Ctx, index: usize, selection: &Selection, expand: &Expand) -> Value {
    let site = ctx.site;
    let id = site.issues[index].id.to_string();
    if selection.bare && !expand.adds_to_issue() {
        return json!({ "id": id });
    }
    let mut out = Map::new();
    let expand_attr = if ctx.cloud() {
        CLOUD_EXPAND
    } else {
        SERVER_EXPAND
    };
    out.insert("expand".into(), json!(expand_attr));
    out.insert("id".into(), json!(id));
    out.insert("self".into(), json!(issue_self(ctx, index)));
    out.insert("key".into(), json!(site.issue_key(index)));
    if expand.rendered_fields {
        let rendered: Map<String, Value> = selection
            .fields
            .iter()
            .map(|&f| {
                (
                    site.fields[f].id.clone(),
                    rendered_value(ctx, index, &site.fields[f]),
                )
            })
            .collect();
        out.insert("renderedFields".into(), Value::Object(rendered));
    }
    if expand.transitions {
        out.insert("transitions".into(), history::transitions(ctx, index));
    }
    if expand.changelog {
        out.insert(
            "changelog".into(),
            history::changelog_embedded(ctx, index, expand.changelog_cap),
        );
    }
    let mut fields = Map::new();
    for &f in &selection.fields {
        let field = &site.fields[f];
        if let Some(value) = field_value(ctx, index, field) {
            fields.insert(field.id.clone(), value);
        }
    }
    out.insert("fields".into(), Value::Object(fields));
    Value::Object(out)
}

/// The value of one field of one issue; `None` when Jira leaves the key out (`parent` on an
/// issue without one).
pub(crate) fn field_value(ctx: &Ctx, index: usize, field: &FieldDef) -> Option<Value> {
    if is_rich_text(field.kind) {
        return Some(rich_doc(ctx, index, field).map_or(Value::Null, |doc| doc.render(ctx)));
    }
    match field.kind {
        Kind::System(system) => system_value(ctx, index, system),
        Kind::Custom(kind) => Some(custom::value(ctx, index, field, kind)),
    }
}

/// The random stream of one field of one issue.
pub(super) fn rng_for(ctx: &Ctx, index: usize, salt: u64) -> Rng {
    stream(ctx.site.seed, &[topic::FIELD, index as u64, salt])
}

fn is_rich_text(kind: Kind) -> bool {
    matches!(
        kind,
        Kind::System(System::Description | System::Environment) | Kind::Custom(Custom::TextArea)
    )
}

/// The document a rich-text field holds, or `None` when the field is empty.
fn rich_doc(ctx: &Ctx, index: usize, field: &FieldDef) -> Option<Doc> {
    let (salt, empty_chance, size) = match field.kind {
        Kind::System(System::Description) => (salt::DESCRIPTION, 0.15, Size::Long),
        Kind::System(System::Environment) => (salt::ENVIRONMENT, 0.8, Size::Short),
        Kind::Custom(Custom::TextArea) => (field.custom_number(), 0.35, Size::Short),
        _ => return None,
    };
    let mut rng = rng_for(ctx, index, salt);
    if rng.random_bool(empty_chance) {
        return None;
    }
    Some(Doc::generate(
        rng.random_range(0..u64::MAX),
        ctx.site.people.humans,
        size,
    ))
}

fn system_value(ctx: &Ctx, index: usize, system: System) -> Option<Value> {
    let site = ctx.site;
    let issue = &site.issues[index];
    let project = &site.projects[issue.project as usize];
    let value = match system {
        System::Summary => json!(site.summary(index)),
        // Rich text is written by `rich_doc`.
        System::Description | System::Environment => Value::Null,
        System::Status => r::status(ctx, issue.status),
        System::StatusCategory => r::status_category(
            ctx,
            crate::site::reference::STATUSES[issue.status as usize].category,
        ),
        System::StatusCategoryChangeDate => {
            json!(times::timestamp(site.status_changed_at(index), ctx.local()))
        }
        System::Priority => r::priority(ctx, issue.priority),
        System::IssueType => r::issue_type(ctx, issue.issue_type),
        System::Project => r::project_ref(ctx, issue.project as usize),
        System::Assignee => issue
            .assignee
            .map_or(Value::Null, |u| r::user(ctx, u as usize)),
        System::Reporter | System::Creator => r::user(ctx, issue.reporter as usize),
        System::Created => json!(times::timestamp(issue.created, Offset::Utc)),
        System::Updated => json!(times::timestamp(issue.updated, Offset::Utc)),
        System::Resolution => issue
            .resolution
            .map_or(Value::Null, |res| r::resolution(ctx, res)),
        System::ResolutionDate => match issue.is_done() {
            // Written with a different offset on purpose: consumers must normalise.
            true => json!(times::timestamp(
                issue.activity_until,
                Offset::Fixed(-8 * 3600)
            )),
            false => Value::Null,
        },
        System::Labels => json!(site.labels(index)),
        System::Components => {
            let count = component_count(ctx, index);
            json!(
                project.components[..count]
                    .iter()
                    .map(|c| r::component(ctx, c))
                    .collect::<Vec<_>>()
            )
        }
        System::FixVersions => {
            let versions: Vec<Value> = if issue.is_done() {
                let k = (issue.number as usize) % project.versions.len().max(1);
                project
                    .versions
                    .get(k)
                    .map(|v| r::version(ctx, v))
                    .into_iter()
                    .collect()
            } else {
                Vec::new()
            };
            json!(versions)
        }
        System::Versions => {
            let versions: Vec<Value> = if issue.issue_type == BUG {
                project
                    .versions
                    .first()
                    .map(|v| r::version(ctx, v))
                    .into_iter()
                    .collect()
            } else {
                Vec::new()
            };
            json!(versions)
        }
        System::DueDate => {
            let mut rng = rng_for(ctx, index, salt::DUE);
            if rng.random_bool(0.3) {
                json!(times::date(
                    issue.created + rng.random_range(7..60) * DAY_MS
                ))
            } else {
                Value::Null
            }
        }
        System::TimeTracking => time_tracking(ctx, index),
        System::TimeSpent | System::AggregateTimeSpent => opt_number(estimates(ctx, index).spent),
        System::TimeEstimate | System::AggregateTimeEstimate => {
            opt_number(estimates(ctx, index).remaining)
        }
        System::TimeOriginalEstimate | System::AggregateTimeOriginalEstimate => {
            opt_number(estimates(ctx, index).original)
        }
        System::WorkRatio => {
            let e = estimates(ctx, index);
            match (e.original, e.spent) {
                (Some(original), spent) if original > 0 => {
                    json!(spent.unwrap_or(0) * 100 / original)
                }
                _ => json!(-1),
            }
        }
        System::Progress | System::AggregateProgress => {
            let e = estimates(ctx, index);
            let progress = e.spent.unwrap_or(0);
            let total = progress + e.remaining.unwrap_or(0);
            if total > 0 {
                json!({ "progress": progress, "total": total, "percent": progress * 100 / total })
            } else {
                json!({ "progress": 0, "total": 0 })
            }
        }
        // The same people `issue/{key}/watchers` and `issue/{key}/votes` list.
        System::Watches => {
            let watchers = site.watchers(index);
            json!({
                "self": ctx.rest(&format!("issue/{}/watchers", site.issue_key(index))),
                "watchCount": watchers.len(),
                "isWatching": watchers.contains(&site.myself()),
            })
        }
        System::Votes => {
            let voters = site.voters(index);
            json!({
                "self": ctx.rest(&format!("issue/{}/votes", site.issue_key(index))),
                "votes": voters.len(),
                "hasVoted": voters.contains(&site.myself()),
            })
        }
        System::Comment => comment_page_embedded(ctx, index),
        System::Worklog => {
            let all = site.visible_worklogs(index);
            let worklogs: Vec<Value> = all
                .iter()
                .take(EMBEDDED_WORKLOGS)
                .map(|w| worklog(ctx, index, w))
                .collect();
            json!({
                "startAt": 0,
                "maxResults": EMBEDDED_WORKLOGS,
                "total": all.len(),
                "worklogs": worklogs,
            })
        }
        System::IssueLinks => json!(issue.links.iter().map(|l| link(ctx, l)).collect::<Vec<_>>()),
        System::Attachment => json!(
            site.attachments(index)
                .iter()
                .map(|a| attachment(ctx, a))
                .collect::<Vec<_>>()
        ),
        System::Subtasks => json!(
            issue
                .children
                .iter()
                .map(|&c| linked_issue(ctx, c as usize))
                .collect::<Vec<_>>()
        ),
        System::Security => issue
            .security
            .and_then(|id| site.access.security_level(id))
            .map_or(Value::Null, |(_, level)| r::security_level(ctx, level)),
        System::LastViewed => match issue.number % 4 {
            0 => json!(times::timestamp(
                issue.activity_until + 3_600_000,
                Offset::Utc
            )),
            _ => Value::Null,
        },
        System::IssueRestriction => json!({ "issuerestrictions": {}, "shouldDisplay": false }),
        System::Parent => return issue.parent.map(|p| linked_issue(ctx, p as usize)),
        System::IssueKey | System::Thumbnail => return None,
    };
    Some(value)
}

/// How many of its project's components an issue is in (the first ones).
pub(crate) fn component_count(ctx: &Ctx, index: usize) -> usize {
    let project = &ctx.site.projects[ctx.site.issues[index].project as usize];
    let mut rng = rng_for(ctx, index, salt::VERSIONS);
    rng.random_range(0..=project.components.len())
}

fn opt_number(n: Option<u64>) -> Value {
    n.map_or(Value::Null, |n| json!(n))
}

struct Estimates {
    original: Option<u64>,
    remaining: Option<u64>,
    spent: Option<u64>,
}

/// Original and remaining estimates, with time spent equal to the worklogs' sum (hidden ones
/// included: Jira restricts who sees a worklog, not what it adds to the issue).
fn estimates(ctx: &Ctx, index: usize) -> Estimates {
    let mut rng = rng_for(ctx, index, salt::ESTIMATE);
    let original = rng
        .random_bool(0.5)
        .then(|| 3600 * [1, 2, 4, 8, 16, 24][rng.random_range(0..6)]);
    let spent: u64 = ctx.site.worklogs(index).iter().map(|w| w.seconds).sum();
    let spent = (spent > 0).then_some(spent);
    Estimates {
        original,
        remaining: original.map(|o| o.saturating_sub(spent.unwrap_or(0))),
        spent,
    }
}

fn time_tracking(ctx: &Ctx, index: usize) -> Value {
    let e = estimates(ctx, index);
    let text = |s: Option<u64>| s.map(|s| json!(duration(s)));
    object([
        ("originalEstimate", text(e.original)),
        ("remainingEstimate", text(e.remaining)),
        ("timeSpent", text(e.spent)),
        ("originalEstimateSeconds", e.original.map(|s| json!(s))),
        ("remainingEstimateSeconds", e.remaining.map(|s| json!(s))),
        ("timeSpentSeconds", e.spent.map(|s| json!(s))),
    ])
}

/// Jira's duration text: "1w 2d 3h 20m", with 8-hour days and 5-day weeks.
pub(crate) fn duration(seconds: u64) -> String {
    let minutes = seconds / 60;
    let parts = [
        (minutes / (60 * 8 * 5), "w"),
        (minutes / (60 * 8) % 5, "d"),
        (minutes / 60 % 8, "h"),
        (minutes % 60, "m"),
    ];
    let text: Vec<String> = parts
        .iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, unit)| format!("{n}{unit}"))
        .collect();
    if text.is_empty() {
        "0m".to_string()
    } else {
        text.join(" ")
    }
}

/// The comment page embedded in an issue's `comment` field: the oldest 50, with `total` and
/// `maxResults` as Jira writes them (`maxResults` is the count below the cap).
pub(crate) fn comment_page_embedded(ctx: &Ctx, index: usize) -> Value {
    let all = ctx.site.comments(index);
    let comments: Vec<Value> = all
        .iter()
        .take(EMBEDDED_COMMENTS)
        .map(|c| comment(ctx, index, c))
        .collect();
    let (total, embedded) = (all.len(), comments.len());
    object([
        ("comments", Some(json!(comments))),
        (
            "self",
            ctx.cloud()
                .then(|| json!(ctx.rest(&format!("issue/{}/comment", ctx.site.issues[index].id)))),
        ),
        ("maxResults", Some(json!(embedded))),
        ("total", Some(json!(total))),
        ("startAt", Some(json!(0))),
    ])
}

pub(crate) fn comment(ctx: &Ctx, index: usize, c: &crate::site::activity::CommentFacts) -> Value {
    let issue_id = ctx.site.issues[index].id;
    let body = Doc::generate(c.body_seed, ctx.site.people.humans, Size::Short).render(ctx);
    object([
        (
            "self",
            Some(json!(
                ctx.rest(&format!("issue/{issue_id}/comment/{}", c.id))
            )),
        ),
        ("id", Some(json!(c.id.to_string()))),
        ("author", Some(r::user(ctx, c.author))),
        ("body", Some(body)),
        ("updateAuthor", Some(r::user(ctx, c.update_author))),
        (
            "created",
            Some(json!(times::timestamp(c.created, ctx.local()))),
        ),
        (
            "updated",
            Some(json!(times::timestamp(c.updated, ctx.local()))),
        ),
        (
            "visibility",
            c.role_visibility
                .map(|role| json!({ "type": "role", "value": role })),
        ),
        ("jsdPublic", ctx.cloud().then(|| json!(true))),
    ])
}

pub(crate) fn worklog(ctx: &Ctx, index: usize, w: &crate::site::activity::WorklogFacts) -> Value {
    let issue_id = ctx.site.issues[index].id;
    let comment = w
        .comment_seed
        .map(|seed| Doc::generate(seed, ctx.site.people.humans, Size::Short).render(ctx));
    object([
        (
            "self",
            Some(json!(
                ctx.rest(&format!("issue/{issue_id}/worklog/{}", w.id))
            )),
        ),
        ("author", Some(r::user(ctx, w.author))),
        ("updateAuthor", Some(r::user(ctx, w.author))),
        ("comment", comment),
        (
            "created",
            Some(json!(times::timestamp(w.created, ctx.local()))),
        ),
        (
            "updated",
            Some(json!(times::timestamp(w.updated, ctx.local()))),
        ),
        // Logged by someone in India: yet another offset.
        (
            "started",
            Some(json!(times::timestamp(w.started, Offset::Fixed(19800)))),
        ),
        ("timeSpent", Some(json!(duration(w.seconds)))),
        ("timeSpentSeconds", Some(json!(w.seconds))),
        ("id", Some(json!(w.id.to_string()))),
        ("issueId", Some(json!(issue_id.to_string()))),
    ])
}

/// A remote issue link as `issue/{key}/remotelink` lists it.
pub(crate) fn remote_link(
    ctx: &Ctx,
    index: usize,
    link: &crate::site::activity::RemoteLinkFacts,
) -> Value {
    let kind = link.kind;
    let number = link.number.to_string();
    let url = kind.url.replace("{n}", &number);
    json!({
        "id": link.id,
        "self": ctx.rest(&format!("issue/{}/remotelink/{}", ctx.site.issue_key(index), link.id)),
        "globalId": format!("system={}&id={number}", kind.app_type),
        "application": { "type": kind.app_type, "name": kind.app_name },
        "relationship": kind.relationship,
        "object": {
            "url": url,
            "title": kind.title.replace("{n}", &number),
            "summary": kind.summary,
            "icon": { "url16x16": kind.icon_url, "title": kind.icon_title },
            "status": { "resolved": link.resolved, "icon": {} },
        },
    })
}

fn attachment(ctx: &Ctx, a: &crate::site::activity::AttachmentFacts) -> Value {
    let content = format!("{}/secure/attachment/{}/{}", ctx.host, a.id, a.filename);
    let thumbnail = a.mime_type.starts_with("image/").then(|| {
        json!(format!(
            "{}/secure/thumbnail/{}/{}",
            ctx.host, a.id, a.filename
        ))
    });
    object([
        (
            "self",
            Some(json!(ctx.rest(&format!("attachment/{}", a.id)))),
        ),
        ("id", Some(json!(a.id.to_string()))),
        ("filename", Some(json!(a.filename))),
        ("author", Some(r::user(ctx, a.author))),
        (
            "created",
            Some(json!(times::timestamp(a.created, ctx.local()))),
        ),
        ("size", Some(json!(a.size))),
        ("mimeType", Some(json!(a.mime_type))),
        ("content", Some(json!(content))),
        ("thumbnail", thumbnail),
    ])
}

/// Another issue as embedded in links, sub-tasks and `parent`.
pub(super) fn linked_issue(ctx: &Ctx, index: usize) -> Value {
    let issue = &ctx.site.issues[index];
    json!({
        "id": issue.id.to_string(),
        "key": ctx.site.issue_key(index),
        "self": issue_self(ctx, index),
        "fields": {
            "summary": ctx.site.summary(index),
            "status": r::status(ctx, issue.status),
            "priority": r::priority(ctx, issue.priority),
            "issuetype": r::issue_type(ctx, issue.issue_type),
        }
    })
}

fn link(ctx: &Ctx, link: &crate::site::issues::Link) -> Value {
    let t = &LINK_TYPES[link.type_index as usize];
    let side = if link.outward {
        "outwardIssue"
    } else {
        "inwardIssue"
    };
    let mut value = json!({
        "id": link.id.to_string(),
        "self": ctx.rest(&format!("issueLink/{}", link.id)),
        "type": {
            "id": t.id,
            "name": t.name,
            "inward": t.inward,
            "outward": t.outward,
            "self": ctx.rest(&format!("issueLinkType/{}", t.id)),
        },
    });
    value[side] = linked_issue(ctx, link.other as usize);
    value
}

/// `renderedFields`: HTML for rich text, display text for dates, null for everything else.
fn rendered_value(ctx: &Ctx, index: usize, field: &FieldDef) -> Value {
    let issue = &ctx.site.issues[index];
    let display = |ms: i64| {
        let local = chrono::DateTime::from_timestamp_millis(ms)
            .unwrap_or_default()
            .with_timezone(&ctx.site.tz);
        json!(local.format("%d/%b/%y %-I:%M %p").to_string())
    };
    if is_rich_text(field.kind) {
        return rich_doc(ctx, index, field).map_or(Value::Null, |doc| json!(doc.to_html(ctx)));
    }
    match field.kind {
        Kind::System(System::Created) => display(issue.created),
        Kind::System(System::Updated) => display(issue.updated),
        Kind::System(System::ResolutionDate) if issue.is_done() => display(issue.activity_until),
        _ => Value::Null,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Deployment, SimConfig};
    use crate::render::Api;
    use crate::select::{self, DefaultFields};
    use crate::site::Site;

    /// Every issue with every field and expansion, as one JSON text.
    fn everything(site: &Site, api: Api) -> String {
        let ctx = Ctx::new(
            site,
            "https://sim.example".into(),
            "https://sim.example".into(),
            api,
        );
        let selection = select::fields(site, &["*all".to_string()], DefaultFields::IdOnly);
        let expand = Expand::parse(&["changelog,transitions,renderedFields".to_string()]);
        let issues: Vec<Value> = (0..site.issues.len())
            .map(|i| issue(&ctx, i, &selection, &expand))
            .collect();
        serde_json::to_string(&issues).unwrap()
    }

    #[test]
    fn the_same_seed_renders_the_same_site() {
        let cfg = SimConfig {
            extra_custom_fields: 25,
            ..SimConfig::default()
        };
        let a = Site::generate(&cfg);
        let b = Site::generate(&cfg);
        assert_eq!(everything(&a, Api::V3), everything(&b, Api::V3));
        assert_eq!(everything(&a, Api::V2), everything(&b, Api::V2));
        let other = Site::generate(&SimConfig { seed: 7, ..cfg });
        assert_ne!(everything(&a, Api::V3), everything(&other, Api::V3));
    }

    #[test]
    fn rich_text_is_adf_on_v3_and_wiki_on_v2_and_server() {
        let site = Site::generate(&SimConfig::default());
        let v3 = everything(&site, Api::V3);
        assert!(v3.contains(r#""type":"doc""#));
        assert!(v3.contains(r#""type":"mention""#) && v3.contains(r#""type":"emoji""#));
        let v2 = everything(&site, Api::V2);
        assert!(!v2.contains(r#""type":"doc""#));
        assert!(v2.contains('\u{a0}'), "wiki text keeps no-break spaces");
        let server = Site::generate(&SimConfig {
            deployment: Deployment::Server,
            ..SimConfig::default()
        });
        let text = everything(&server, Api::V2);
        assert!(text.contains("com.atlassian.greenhopper.service.sprint.Sprint@"));
        assert!(!text.contains("accountId"));
    }

    #[test]
    fn timestamps_parse_and_vary_in_offset() {
        let site = Site::generate(&SimConfig::default());
        let text = everything(&site, Api::V3);
        for offset in ["+0000\"", "-0800\"", "+0530\"", "+1000\""] {
            assert!(text.contains(offset), "some timestamp ends in {offset}");
        }
        let value: Value = serde_json::from_str(&text).unwrap();
        for issue in value.as_array().unwrap() {
            let fields = &issue["fields"];
            let created = times::parse_timestamp(fields["created"].as_str().unwrap()).unwrap();
            let updated = times::parse_timestamp(fields["updated"].as_str().unwrap()).unwrap();
            assert!(created <= updated);
            assert_eq!(
                fields["resolution"].is_null(),
                fields["resolutiondate"].is_null()
            );
            for comment in fields["comment"]["comments"].as_array().unwrap() {
                let at = times::parse_timestamp(comment["created"].as_str().unwrap()).unwrap();
                assert!(created <= at && at <= updated);
            }
        }
    }

    #[test]
    fn durations_use_jira_units() {
        assert_eq!(duration(12000), "3h 20m");
        assert_eq!(duration(28800), "1d");
        assert_eq!(duration(8 * 3600 * 7 + 1800), "1w 2d 30m");
        assert_eq!(duration(0), "0m");
    }
}
