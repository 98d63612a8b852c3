//! Building responses: JSON bodies with Jira's content type, and Jira's error shapes.

use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::faults::Fault;

const JSON: &str = "application/json;charset=UTF-8";

pub(crate) const NOT_AUTHENTICATED: &str =
    "You are not authenticated. Authentication required to perform this operation.";

pub(crate) fn json(status: u16, body: &Value) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let bytes = serde_json::to_vec(body).unwrap_or_default();
    (status, [(header::CONTENT_TYPE, JSON)], bytes).into_response()
}

pub(crate) fn ok(body: &Value) -> Response {
    json(200, body)
}

/// Jira's usual error body: `{"errorMessages": [...], "errors": {}}`.
/// An offset "page bean" (`/project/search`, `/group/member`): `self`, `nextPage` while there is
/// more, and the page's position; `page_url` gives the URL of the page at a start index.
pub(crate) fn page_bean(
    values: Vec<Value>,
    start_at: usize,
    max_results: usize,
    total: usize,
    page_url: impl Fn(usize) -> String,
) -> Response {
    let is_last = start_at + values.len() >= total;
    let next_page = (!is_last).then(|| json!(page_url(start_at + values.len())));
    ok(&crate::render::object([
        ("self", Some(json!(page_url(start_at)))),
        ("nextPage", next_page),
        ("maxResults", Some(json!(max_results))),
        ("startAt", Some(json!(start_at))),
        ("total", Some(json!(total))),
        ("isLast", Some(json!(is_last))),
        ("values", Some(json!(values))),
    ]))
}

pub(crate) fn error(status: u16, messages: &[String]) -> Response {
    json(status, &json!({ "errorMessages": messages, "errors": {} }))
}

pub(crate) fn error1(status: u16, message: &str) -> Response {
    error(status, &[message.to_string()])
}

/// A request Jira refuses: the status and the `errorMessages` to send. Handlers that can
/// refuse return `Result<Response, Rejection>` and use `?`.
#[derive(Debug)]
pub(crate) struct Rejection {
    pub status: u16,
    pub messages: Vec<String>,
}

impl Rejection {
    pub fn new(status: u16, message: impl Into<String>) -> Rejection {
        Rejection {
            status,
            messages: vec![message.into()],
        }
    }
}

impl IntoResponse for Rejection {
    fn into_response(self) -> Response {
        error(self.status, &self.messages)
    }
}

/// What a handler that may refuse returns.
pub(crate) type Reply = Result<Response, Rejection>;

/// An unknown resource, in Jersey's words.
pub(crate) fn not_found(uri: &str) -> Response {
    error1(404, &format!("null for uri: {uri}"))
}

/// Marks a response to a request that matched no route (see `Sim::unserved`).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Unserved;

/// `not_found` for a path the simulator has no route for, marked so the request is logged as
/// unserved (a 404 for an unknown issue is a served answer, and is not marked).
pub(crate) fn unserved(uri: &str) -> Response {
    let mut response = not_found(uri);
    response.extensions_mut().insert(Unserved);
    response
}

pub(crate) fn with_header(mut response: Response, name: &'static str, value: &str) -> Response {
    if let Ok(value) = HeaderValue::from_str(value) {
        response
            .headers_mut()
            .insert(HeaderName::from_static(name), value);
    }
    response
}

/// 401 for a site request without acceptable credentials.
pub(crate) fn unauthenticated(realm: &str, credentials_were_wrong: bool) -> Response {
    let response = with_header(error1(401, NOT_AUTHENTICATED), "www-authenticate", realm);
    if credentials_were_wrong {
        // Server tells why in this header; after many failures it demands a CAPTCHA.
        with_header(response, "x-seraph-loginreason", "AUTHENTICATED_FAILED")
    } else {
        response
    }
}

/// The OAuth gateway's own error shape: `{"code": 401, "message": "Unauthorized"}`.
pub(crate) fn gateway_error(status: u16, message: &str) -> Response {
    json(status, &json!({ "code": status, "message": message }))
}

pub(crate) fn fault(fault: Fault) -> Response {
    let status = StatusCode::from_u16(fault.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = (status, fault.body).into_response();
    if let Ok(value) = HeaderValue::from_str(&fault.content_type) {
        response.headers_mut().insert(header::CONTENT_TYPE, value);
    }
    for (name, value) in fault.headers {
        if let (Ok(name), Ok(value)) = (HeaderName::try_from(name), HeaderValue::from_str(&value)) {
            response.headers_mut().insert(name, value);
        }
    }
    response
}
