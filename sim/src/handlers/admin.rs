//! Admin endpoints for people driving the simulator by hand: `GET /_sim/stats` (request counts),
//! `GET /_sim/load` (requests, 429s, peak in flight, busy seconds) and `POST /_sim/touch?n=5`
//! (touch issues now).

use axum::http::Method;
use axum::response::Response;
use serde_json::json;

use super::Req;
use super::respond::{error1, ok};
use crate::state::Shared;

pub(crate) fn route(shared: &Shared, req: &Req) -> Response {
    match (&req.method, req.path.as_str()) {
        (&Method::GET, "/_sim/stats") => ok(&json!(shared.log().counts())),
        (&Method::GET, "/_sim/load") => ok(&json!(shared.meter.stats())),
        (&Method::POST, "/_sim/touch") => {
            let n = req.number("n").unwrap_or(1).max(0) as usize;
            let touched = shared.site_mut().touch(n);
            ok(&json!({ "touched": touched }))
        }
        _ => error1(
            404,
            &format!("No admin endpoint {} {}", req.method, req.path),
        ),
    }
}
