//! Admin endpoints for people driving the simulator by hand: `GET /_sim/stats` (request counts),
//! `GET /_sim/load` (requests, 429s, peak in flight, busy seconds), `POST /_sim/touch?n=5`
//! (touch issues now), `POST /_sim/delete-issues?n=3` (or `?issue=KEY`),
//! `POST /_sim/delete-worklogs?n=5`, and custom field drift: `POST /_sim/fields?name=&type=`
//! (add), `DELETE /_sim/fields/{id}` (remove), `PUT /_sim/fields/{id}?type=` (retype). Each
//! change answers what it changed.

use axum::http::Method;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::Req;
use super::respond::{Rejection, Reply, error1, json, ok};
use crate::site::deletion::{DeletedIssue, DeletedWorklog};
use crate::site::fields::CustomFieldType;
use crate::state::Shared;

pub(crate) fn route(shared: &Shared, req: &Req) -> Response {
    let count = || req.number("n").unwrap_or(1).max(0) as usize;
    match (&req.method, req.path.as_str()) {
        (&Method::GET, "/_sim/stats") => ok(&json!(shared.log().counts())),
        (&Method::GET, "/_sim/load") => ok(&json!(shared.meter.stats())),
        (&Method::POST, "/_sim/touch") => {
            let touched = shared.site_mut().touch(count());
            ok(&json!({ "touched": touched }))
        }
        (&Method::POST, "/_sim/delete-issues") => {
            let deleted = match req.param("issue") {
                Some(issue) => match shared.site_mut().delete_issue(issue) {
                    Some(deleted) => deleted,
                    None => return error1(404, &format!("No issue '{issue}' to delete")),
                },
                None => shared.site_mut().delete_issues(count()),
            };
            ok(&json!({ "deleted": deleted.iter().map(issue_json).collect::<Vec<_>>() }))
        }
        (&Method::POST, "/_sim/delete-worklogs") => {
            let deleted = shared.site_mut().delete_worklogs(count());
            ok(&json!({ "deleted": deleted.iter().map(worklog_json).collect::<Vec<_>>() }))
        }
        (&Method::POST, "/_sim/fields") => add_field(shared, req).into_response(),
        (method, path) if path.starts_with("/_sim/fields/") => {
            let id = path.trim_start_matches("/_sim/fields/");
            match *method {
                Method::DELETE => remove_field(shared, id).into_response(),
                Method::PUT => retype_field(shared, req, id).into_response(),
                _ => not_admin(req),
            }
        }
        _ => not_admin(req),
    }
}

fn not_admin(req: &Req) -> Response {
    error1(
        404,
        &format!("No admin endpoint {} {}", req.method, req.path),
    )
}

fn issue_json(d: &DeletedIssue) -> Value {
    json!({ "id": d.id, "key": d.key, "deletedAt": d.deleted_at_ms })
}

fn worklog_json(d: &DeletedWorklog) -> Value {
    json!({ "worklogId": d.worklog_id, "issueId": d.issue_id, "deletedAt": d.deleted_at_ms })
}

/// The `type` parameter, or the 400 that names the accepted values.
fn field_type(req: &Req) -> Result<CustomFieldType, Rejection> {
    req.param("type")
        .unwrap_or_default()
        .parse()
        .map_err(|message: String| Rejection::new(400, message))
}

fn add_field(shared: &Shared, req: &Req) -> Reply {
    let name = req
        .param("name")
        .filter(|n| !n.trim().is_empty())
        .ok_or_else(|| Rejection::new(400, "A field needs a name: ?name=...&type=..."))?;
    let kind = field_type(req)?;
    let id = shared.site_mut().add_custom_field(name, kind);
    Ok(json(
        201,
        &json!({ "added": { "id": id, "name": name, "type": kind.key() } }),
    ))
}

fn remove_field(shared: &Shared, id: &str) -> Reply {
    let field = shared
        .site_mut()
        .remove_custom_field(id)
        .map_err(|refusal| Rejection::new(refusal.status(), refusal.message(id)))?;
    let kind = field.schema.as_ref().and_then(|s| s.custom);
    Ok(ok(
        &json!({ "removed": { "id": field.id, "name": field.name, "type": kind } }),
    ))
}

fn retype_field(shared: &Shared, req: &Req, id: &str) -> Reply {
    let kind = field_type(req)?;
    let retyped = shared
        .site_mut()
        .retype_custom_field(id, kind)
        .map_err(|refusal| Rejection::new(refusal.status(), refusal.message(id)))?;
    Ok(ok(&json!({ "retyped": {
        "id": retyped.id,
        "name": retyped.name,
        "from": retyped.from.key(),
        "to": retyped.to.key(),
    } })))
}
