//! Users and groups: Cloud's `users/search`, Server's `user/search` and `user/list`, one
//! `user`, the paged members of a group, and the group lists (Cloud's `group/bulk`, Server's `groups/picker`).

use axum::response::Response;
use serde_json::{Value, json};

use super::Call;
use super::respond::{error1, not_found, ok, page_bean};
use crate::render::{user, user_listing};
use crate::site::people::Email;

/// Cloud: `GET users/search` (and `users`): every account, humans, apps and former users alike.
pub(crate) fn cloud_list(call: &Call) -> Response {
    let site = call.shared.site();
    let ctx = call.ctx(&site);
    let (start_at, max_results) = call.page(50, 1000);
    let users: Vec<Value> = (0..site.users().len())
        .skip(start_at)
        .take(max_results)
        .map(|i| user_listing(&ctx, i))
        .collect();
    ok(&Value::Array(users))
}

/// Server: `GET user/search?username=`: users whose name, email (where shown) or display name,
/// or a word of one of them, starts with the text, whatever the case: Jira splits them into
/// words at spaces, `@` and `.` and matches the start of each (`UserMatcherPredicate`,
/// `UserSearchUtilities`), so `smi` finds `john.smith` and `John Smith`, and `exa` everyone at
/// `example.com`; `ith` finds neither. `.` matches everyone (JRA-29069). Only the first 1000
/// matches are ever listed, 100 from Data Center 10, whatever `startAt` and `maxResults` say
/// (JRASERVER-65089, JRASERVER-78520).
pub(crate) fn server_search(call: &Call) -> Response {
    let Some(wanted) = call.req.param("username") else {
        return error1(400, "The username query parameter was not provided");
    };
    let wanted = wanted.to_lowercase();
    let site = call.shared.site();
    let ctx = call.ctx(&site);
    let (start_at, max_results) = call.page(50, 1000);
    let users: Vec<Value> = site
        .users()
        .iter()
        .enumerate()
        .filter(|(_, u)| {
            let email = match &u.email {
                Email::Address(a) => a.as_str(),
                _ => "",
            };
            wanted == "."
                || [u.name.as_str(), email, u.display_name.as_str()]
                    .iter()
                    .any(|part| starts_a_word(part, &wanted))
        })
        .take(user_search_cap(call.shared.cfg.server_version))
        .skip(start_at)
        .take(max_results)
        .map(|(i, _)| user_listing(&ctx, i))
        .collect();
    ok(&Value::Array(users))
}

/// Whether `part`, or one of its words (split at whitespace, `@` and `.`), starts with the
/// lower-case `wanted`, whatever the case.
fn starts_a_word(part: &str, wanted: &str) -> bool {
    let part = part.to_lowercase();
    part.starts_with(wanted)
        || part
            .split(|c: char| c.is_whitespace() || c == '@' || c == '.')
            .any(|word| !word.is_empty() && word.starts_with(wanted))
}

/// The most users `user/search` lists on a Server / Data Center of `version`.
fn user_search_cap(version: [u32; 3]) -> usize {
    if version[0] >= 10 { 100 } else { 1000 }
}

/// Server: `GET user/list?cursor=&maxResults=` (Data Center 10.3 and 11; 404 before): every
/// user, active or not, in pages of `maxResults` (2000 by default) led by a cursor, without a
/// total: `{"self", "maxResults", "isLast", "nextCursor", "nextPage", "values"}`, the last two
/// only while there is more. The cursor is opaque to the client; here the index of the next
/// user. A cursor it never gave is no 404: it lists nothing more.
pub(crate) fn server_list(call: &Call) -> Response {
    let [major, minor, _] = call.shared.cfg.server_version;
    if (major, minor) < (10, 3) {
        return not_found(&call.req.uri());
    }
    let site = call.shared.site();
    let ctx = call.ctx(&site);
    let total = site.users().len();
    let start = match call.req.param("cursor") {
        None => 0,
        Some(cursor) => cursor.trim().parse::<usize>().unwrap_or(total).min(total),
    };
    let max_results = call
        .req
        .number("maxResults")
        .map_or(2000, |m| m.clamp(1, 2000) as usize);
    let end = (start + max_results).min(total);
    let values: Vec<Value> = (start..end).map(|i| user_listing(&ctx, i)).collect();
    let self_url = ctx.rest(&format!("user/list?maxResults={max_results}"));
    let mut page = json!({
        "self": self_url,
        "maxResults": max_results,
        "isLast": end >= total,
        "values": values,
    });
    if end < total {
        page["nextCursor"] = json!(end.to_string());
        page["nextPage"] =
            json!(ctx.rest(&format!("user/list?cursor={end}&maxResults={max_results}")));
    }
    ok(&page)
}

/// `GET user?accountId=` (Cloud) or `user?username=` / `user?key=` (Server).
pub(crate) fn one(call: &Call) -> Response {
    let site = call.shared.site();
    let ctx = call.ctx(&site);
    let found = if call.cloud() {
        call.req
            .param("accountId")
            .and_then(|id| site.users().iter().position(|u| u.account_id == id))
    } else {
        let by_name = call
            .req
            .param("username")
            .and_then(|n| site.users().iter().position(|u| u.name == n));
        by_name.or_else(|| {
            call.req
                .param("key")
                .and_then(|k| site.users().iter().position(|u| u.key == k))
        })
    };
    match found {
        Some(index) => ok(&user_listing(&ctx, index)),
        None if call.cloud() => error1(
            404,
            "Specified user does not exist or you do not have required permissions",
        ),
        None => error1(
            404,
            &format!(
                "The user named '{}' does not exist",
                call.req
                    .param("username")
                    .or(call.req.param("key"))
                    .unwrap_or_default()
            ),
        ),
    }
}

/// `GET group/member?groupname=|groupId=&includeInactiveUsers=&startAt=&maxResults=`: a page
/// bean of at most 50 members. Inactive members are left out unless asked for.
pub(crate) fn group_member(call: &Call) -> Response {
    let site = call.shared.site();
    let ctx = call.ctx(&site);
    let by_name = call.req.param("groupname");
    let by_id = call.req.param("groupId").filter(|_| call.cloud());
    let group = site
        .people
        .groups
        .iter()
        .find(|g| Some(g.name) == by_name || Some(g.group_id.as_str()) == by_id);
    let Some(group) = group else {
        return match by_name.or(by_id) {
            Some(name) => error1(404, &format!("The group '{name}' does not exist.")),
            None => error1(400, "You must specify a group name or id."),
        };
    };
    let include_inactive = call.req.param("includeInactiveUsers") == Some("true");
    let members: Vec<usize> = group
        .members
        .iter()
        .copied()
        .filter(|&u| include_inactive || site.users()[u].active)
        .collect();
    let (start_at, max_results) = call.page(50, 50);
    let values: Vec<Value> = members
        .iter()
        .skip(start_at)
        .take(max_results)
        .map(|&u| user(&ctx, u))
        .collect();
    let total = members.len();
    page_bean(values, start_at, max_results, total, |start| {
        ctx.rest(&format!(
            "group/member?groupname={}&includeInactiveUsers={include_inactive}&startAt={start}&maxResults={max_results}",
            group.name
        ))
    })
}

/// Cloud: `GET group/bulk`, a page bean of `{name, groupId}` (50 a page at most); `groupName`
/// and `groupId` narrow it.
pub(crate) fn group_bulk(call: &Call) -> Response {
    let site = call.shared.site();
    let names = call.req.params("groupName");
    let ids = call.req.params("groupId");
    let groups: Vec<&crate::site::people::Group> = site
        .people
        .groups
        .iter()
        .filter(|g| names.is_empty() || names.iter().any(|n| n == g.name))
        .filter(|g| ids.is_empty() || ids.contains(&g.group_id))
        .collect();
    call.paged(
        &groups,
        50,
        50,
        "group/bulk",
        |g| json!({ "name": g.name, "groupId": g.group_id }),
    )
}

/// `GET groups/picker?query=&maxResults=`: groups whose name contains the query (all without
/// one), `{header, total, groups: [{name, html, labels}]}`, the match in bold; 20 unless
/// `maxResults` says otherwise.
pub(crate) fn groups_picker(call: &Call) -> Response {
    let site = call.shared.site();
    let query = call.req.param("query").unwrap_or_default().to_lowercase();
    let excluded = call.req.params("exclude");
    let max_results = call
        .req
        .number("maxResults")
        .map_or(20, |n| n.max(0) as usize);
    let matching: Vec<&crate::site::people::Group> = site
        .people
        .groups
        .iter()
        .filter(|g| g.name.to_lowercase().contains(&query))
        .filter(|g| !excluded.iter().any(|e| e == g.name))
        .collect();
    let shown: Vec<Value> = matching
        .iter()
        .take(max_results)
        .map(|g| {
            let html = match g.name.to_lowercase().find(&query) {
                Some(at) if !query.is_empty() => format!(
                    "{}<b>{}</b>{}",
                    &g.name[..at],
                    &g.name[at..at + query.len()],
                    &g.name[at + query.len()..]
                ),
                _ => g.name.to_string(),
            };
            json!({ "name": g.name, "html": html, "labels": [] })
        })
        .collect();
    ok(&json!({
        "header": format!("Showing {} of {} matching groups", shown.len(), matching.len()),
        "total": matching.len(),
        "groups": shown,
    }))
}
