//! One issue and its children: `issue/{key}`, its comments, worklogs, (Cloud) changelog,
//! transitions, remote links, watchers and votes.

use serde_json::{Value, json};

use super::Call;
use super::respond::{Rejection, Reply, ok};
use crate::render::history::{changelog_page, transitions as transition_list};
use crate::render::issue::{comment, issue, remote_link, worklog};
use crate::render::user;
use crate::select::{self, DefaultFields, Expand};
use crate::site::Site;

const MISSING: &str = "Issue does not exist or you do not have permission to see it.";

fn find(site: &Site, id_or_key: &str) -> Result<usize, Rejection> {
    site.find_issue(id_or_key)
        .ok_or_else(|| Rejection::new(404, MISSING))
}

/// Page size of the child endpoints: Cloud hands out up to 5000, Server 50.
fn child_page(call: &Call) -> (usize, usize) {
    if call.cloud() {
        call.page(5000, 5000)
    } else {
        call.page(50, 50)
    }
}

pub(crate) fn one(call: &Call, id_or_key: &str) -> Reply {
    let site = call.shared.site();
    let index = find(&site, id_or_key)?;
    let ctx = call.ctx(&site);
    let selection = select::fields(&site, &call.req.params("fields"), DefaultFields::All);
    // Server embeds the whole changelog here; Cloud the first 100 (the rest is paged).
    let cap = call.cloud().then_some(100);
    let expand = Expand::parse(&call.req.params("expand")).with_changelog_cap(cap);
    Ok(ok(&issue(&ctx, index, &selection, &expand)))
}

pub(crate) fn comments(call: &Call, id_or_key: &str) -> Reply {
    let site = call.shared.site();
    let index = find(&site, id_or_key)?;
    let ctx = call.ctx(&site);
    let all = site.comments(index);
    let (start_at, max_results) = child_page(call);
    let page: Vec<Value> = all
        .iter()
        .skip(start_at)
        .take(max_results)
        .map(|c| comment(&ctx, index, c))
        .collect();
    Ok(ok(
        &json!({ "startAt": start_at, "maxResults": max_results, "total": all.len(), "comments": page }),
    ))
}

pub(crate) fn worklogs(call: &Call, id_or_key: &str) -> Reply {
    let site = call.shared.site();
    let index = find(&site, id_or_key)?;
    let ctx = call.ctx(&site);
    let all = site.visible_worklogs(index);
    let (start_at, max_results) = child_page(call);
    let page: Vec<Value> = all
        .iter()
        .skip(start_at)
        .take(max_results)
        .map(|w| worklog(&ctx, index, w))
        .collect();
    Ok(ok(
        &json!({ "startAt": start_at, "maxResults": max_results, "total": all.len(), "worklogs": page }),
    ))
}

/// Cloud: `GET issue/{key}/changelog`, a page bean of histories.
pub(crate) fn changelog(call: &Call, id_or_key: &str) -> Reply {
    let site = call.shared.site();
    let index = find(&site, id_or_key)?;
    let ctx = call.ctx(&site);
    let (start_at, max_results) = call.page(100, 100);
    let self_url = ctx.rest(&format!(
        "issue/{id_or_key}/changelog?startAt={start_at}&maxResults={max_results}"
    ));
    Ok(ok(&changelog_page(
        &ctx,
        index,
        start_at,
        max_results,
        self_url,
    )))
}

/// `GET issue/{key}/transitions`: the transitions `expand=transitions` embeds.
pub(crate) fn transitions(call: &Call, id_or_key: &str) -> Reply {
    let site = call.shared.site();
    let index = find(&site, id_or_key)?;
    let ctx = call.ctx(&site);
    Ok(ok(
        &json!({ "expand": "transitions", "transitions": transition_list(&ctx, index) }),
    ))
}

/// `GET issue/{key}/remotelink`: a bare array, empty for most issues.
pub(crate) fn remote_links(call: &Call, id_or_key: &str) -> Reply {
    let site = call.shared.site();
    let index = find(&site, id_or_key)?;
    let ctx = call.ctx(&site);
    let links: Vec<Value> = site
        .remote_links(index)
        .iter()
        .map(|l| remote_link(&ctx, index, l))
        .collect();
    Ok(ok(&Value::Array(links)))
}

/// `GET issue/{key}/watchers`: everyone `fields.watches.watchCount` counts.
pub(crate) fn watchers(call: &Call, id_or_key: &str) -> Reply {
    let site = call.shared.site();
    let index = find(&site, id_or_key)?;
    let ctx = call.ctx(&site);
    let watchers = site.watchers(index);
    Ok(ok(&json!({
        "self": ctx.rest(&format!("issue/{}/watchers", site.issue_key(index))),
        "isWatching": watchers.contains(&site.myself()),
        "watchCount": watchers.len(),
        "watchers": watchers.iter().map(|&u| user(&ctx, u)).collect::<Vec<_>>(),
    })))
}

/// `GET issue/{key}/votes`: everyone `fields.votes.votes` counts.
pub(crate) fn votes(call: &Call, id_or_key: &str) -> Reply {
    let site = call.shared.site();
    let index = find(&site, id_or_key)?;
    let ctx = call.ctx(&site);
    let voters = site.voters(index);
    Ok(ok(&json!({
        "self": ctx.rest(&format!("issue/{}/votes", site.issue_key(index))),
        "votes": voters.len(),
        "hasVoted": voters.contains(&site.myself()),
        "voters": voters.iter().map(|&u| user(&ctx, u)).collect::<Vec<_>>(),
    })))
}
