//! Site metadata: `serverInfo`, `myself`, the field catalog, and Cloud's tenant info.

use axum::response::Response;
use serde_json::{Value, json};

use super::Call;
use super::respond::{not_found, ok};
use crate::config::Deployment;
use crate::creds;
use crate::render::{object, user_listing};
use crate::site::fields::FieldDef;
use crate::state::Shared;
use crate::times::{self, Offset};

/// `GET /_edge/tenant_info`: Cloud tells anyone its cloud id; Server has no such page.
pub(crate) fn tenant_info(shared: &Shared) -> Response {
    match shared.cfg.deployment {
        Deployment::Cloud => ok(&json!({ "cloudId": creds::CLOUD_ID })),
        Deployment::Server => not_found("/_edge/tenant_info"),
    }
}

pub(crate) fn server_info(call: &Call) -> Response {
    let now = call.shared.site().now_ms();
    let now = times::timestamp(now, Offset::Utc);
    let body = if call.cloud() {
        json!({
            "baseUrl": call.req.origin,
            "version": "1001.0.0-SNAPSHOT",
            "versionNumbers": [1001, 0, 0],
            "deploymentType": "Cloud",
            "buildNumber": 100_282,
            "buildDate": "2025-09-18T06:02:11.000+0000",
            "serverTime": now,
            "scmInfo": "5d2d8c1e4f7f3a2b9c0d1e2f3a4b5c6d7e8f9a0b",
            "serverTitle": "Jira",
            "defaultLocale": { "locale": "en_US" },
        })
    } else {
        let [major, minor, patch] = call.shared.cfg.server_version;
        let build = u64::from(major) * 1_000_000 + u64::from(minor) * 10_000 + u64::from(patch);
        json!({
            "baseUrl": call.req.origin,
            "version": format!("{major}.{minor}.{patch}"),
            "versionNumbers": [major, minor, patch],
            "deploymentType": "Server",
            "buildNumber": build,
            "buildDate": "2024-11-06T00:00:00.000+0000",
            "databaseBuildNumber": build,
            "serverTime": now,
            "scmInfo": "4d9c4bd7a744d02f6fd1c40b1e7bc5cff95adbdc",
            "serverTitle": "Jira Simulator",
        })
    };
    ok(&body)
}

pub(crate) fn myself(call: &Call) -> Response {
    let site = call.shared.site();
    let ctx = call.ctx(&site);
    let mut me = user_listing(&ctx, call.user);
    // The authenticated user's own profile always shows the configured zone and locale.
    me["timeZone"] = json!(call.shared.cfg.time_zone);
    me["locale"] = json!("en_US");
    // Without `expand=groups` Jira gives only the count.
    let groups = site
        .people
        .groups
        .iter()
        .filter(|g| g.members.contains(&call.user))
        .count();
    me["groups"] = json!({ "size": groups, "items": [] });
    me["applicationRoles"] = json!({ "size": 1, "items": [] });
    me["expand"] = json!("groups,applicationRoles");
    ok(&me)
}

fn field_json(field: &FieldDef, cloud: bool) -> Value {
    let schema = field.schema.as_ref().map(|s| {
        object([
            ("type", Some(json!(s.type_))),
            ("items", s.items.map(|i| json!(i))),
            ("system", s.system.map(|x| json!(x))),
            ("custom", s.custom.map(|x| json!(x))),
            ("customId", s.custom_id.map(|x| json!(x))),
        ])
    });
    let untranslated = (cloud && field.is_custom()).then(|| json!(field.name));
    object([
        ("id", Some(json!(field.id))),
        ("key", Some(json!(field.id))),
        ("name", Some(json!(field.name))),
        ("untranslatedName", untranslated),
        ("custom", Some(json!(field.is_custom()))),
        ("orderable", Some(json!(field.orderable))),
        ("navigable", Some(json!(field.navigable))),
        ("searchable", Some(json!(field.searchable))),
        ("clauseNames", Some(json!(field.clause_names))),
        ("schema", schema),
    ])
}

pub(crate) fn fields(call: &Call) -> Response {
    let site = call.shared.site();
    let list: Vec<Value> = site
        .fields
        .iter()
        .map(|f| field_json(f, call.cloud()))
        .collect();
    ok(&Value::Array(list))
}
