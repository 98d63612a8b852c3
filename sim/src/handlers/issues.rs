//! One issue and its children: `issue/{key}`, its comments, worklogs and (Cloud) changelog.

use serde_json::{Value, json};

use super::Call;
use super::respond::{Rejection, Reply, ok};
use crate::render::history::changelog_page;
use crate::render::issue::{comment, issue, worklog};
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
    let expand = Expand::parse(&call.req.params("expand"));
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
    let all = site.worklogs(index);
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
