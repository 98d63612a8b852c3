//! OAuth 2.0: the token endpoint with rotating refresh tokens (Cloud's `/oauth/token`, Data
//! Center's `/rest/oauth2/latest/token`), and the list of sites a Cloud token can reach.

use axum::http::header;
use axum::response::Response;
use serde_json::{Value, json};

use super::Req;
use super::respond::{gateway_error, json as respond_json};
use crate::auth::{TokenError, TokenRequest};
use crate::creds;
use crate::requests::AuthSeen;
use crate::state::Shared;

const SCOPE: &str = "read:jira-work read:jira-user offline_access";

/// The token request from a form-encoded or JSON body.
fn token_request(req: &Req) -> TokenRequest {
    let is_json = req
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("json"))
        || req.body.first() == Some(&b'{');
    if is_json {
        let body = req.json().unwrap_or(Value::Null);
        let field = |name: &str| body.get(name).and_then(Value::as_str).map(String::from);
        return TokenRequest {
            grant_type: field("grant_type"),
            client_id: field("client_id"),
            client_secret: field("client_secret"),
            refresh_token: field("refresh_token"),
        };
    }
    let mut request = TokenRequest::default();
    for (key, value) in form_urlencoded::parse(&req.body) {
        let value = Some(value.into_owned());
        match key.as_ref() {
            "grant_type" => request.grant_type = value,
            "client_id" => request.client_id = value,
            "client_secret" => request.client_secret = value,
            "refresh_token" => request.refresh_token = value,
            _ => {}
        }
    }
    request
}

/// `POST /oauth/token` (Cloud) or `/rest/oauth2/latest/token` (Data Center).
pub(crate) fn token(shared: &Shared, req: &Req) -> Response {
    if req.method != axum::http::Method::POST {
        return gateway_error(405, "Method Not Allowed");
    }
    let request = token_request(req);
    let outcome = shared.oauth().refresh(&request);
    match outcome {
        Ok(issued) => respond_json(
            200,
            &json!({
                "access_token": issued.access_token,
                "refresh_token": issued.refresh_token,
                "expires_in": issued.expires_in,
                "scope": SCOPE,
                "token_type": "Bearer",
            }),
        ),
        Err(TokenError::UnsupportedGrant) => respond_json(
            400,
            &json!({ "error": "unsupported_grant_type", "error_description": "Unsupported grant type" }),
        ),
        Err(TokenError::BadClient) => respond_json(
            401,
            &json!({ "error": "access_denied", "error_description": "Unauthorized" }),
        ),
        Err(TokenError::BadRefreshToken) => respond_json(
            403,
            &json!({ "error": "unauthorized_client", "error_description": "refresh_token is invalid" }),
        ),
    }
}

/// `GET /oauth/token/accessible-resources`: the one site this simulator is.
pub(crate) fn accessible_resources(req: &Req, auth: &AuthSeen) -> Response {
    // This endpoint sits beside the gateway: judge the bearer token as the gateway does.
    if *auth != AuthSeen::BearerOAuth {
        return gateway_error(401, "Unauthorized");
    }
    respond_json(
        200,
        &json!([{
            "id": creds::CLOUD_ID,
            "url": req.origin,
            "name": "sim",
            "scopes": ["read:jira-work", "read:jira-user"],
            "avatarUrl": "https://site-admin-avatar-cdn.prod.public.atl-paas.net/avatars/240/rocket.png",
        }]),
    )
}
