//! OAuth 2.0: the page where a person allows access (Cloud's `/authorize`, Data Center's
//! `/rest/oauth2/latest/authorize`), the token endpoint with codes and rotating refresh tokens
//! (`/oauth/token`, `/rest/oauth2/latest/token`), and the sites a Cloud token can reach.

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
            code: field("code"),
            redirect_uri: field("redirect_uri"),
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
            "code" => request.code = value,
            "redirect_uri" => request.redirect_uri = value,
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
    let outcome = shared.oauth().grant(&request);
    match outcome {
        Ok(issued) => respond_json(
            200,
            &json!({
                "access_token": issued.access_token,
                "refresh_token": issued.refresh_token,
                "expires_in": match (shared.cfg.expires_in_reported, shared.cfg.expires_in_as_string) {
                    (Some(reported), _) => json!(reported),
                    (None, true) => json!(issued.expires_in.to_string()),
                    (None, false) => json!(issued.expires_in),
                },
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
        // Atlassian's documented answer to a refresh token already used (rotated away) or revoked.
        Err(TokenError::BadRefreshToken) => respond_json(
            403,
            &json!({ "error": "invalid_grant", "error_description": "Unknown or invalid refresh token." }),
        ),
        Err(TokenError::BadCode) => respond_json(
            403,
            &json!({ "error": "invalid_grant", "error_description": "Invalid authorization code" }),
        ),
        // Data Center names nothing: a refresh without the client's redirect URI is a bad grant.
        Err(TokenError::BadRedirect) => respond_json(
            400,
            &json!({ "error": "invalid_grant", "error_description": "Invalid grant" }),
        ),
    }
}

/// `GET /authorize` (Cloud) or `/rest/oauth2/latest/authorize` (Data Center): where a person
/// signs in and allows access. The simulator's person always allows at once: the answer is the
/// redirect to `redirect_uri` with a code and the request's `state`.
pub(crate) fn authorize(shared: &Shared, req: &Req) -> Response {
    let (Some(client_id), Some(redirect_uri)) = (req.param("client_id"), req.param("redirect_uri"))
    else {
        return respond_json(
            400,
            &json!({ "error": "invalid_request", "error_description": "client_id and redirect_uri are required" }),
        );
    };
    if req.param("response_type") != Some("code") {
        return respond_json(
            400,
            &json!({ "error": "unsupported_response_type", "error_description": "response_type must be code" }),
        );
    }
    let Ok(code) = shared.oauth().authorize(client_id, redirect_uri) else {
        return respond_json(
            400,
            &json!({ "error": "invalid_client", "error_description": "Unknown client" }),
        );
    };
    let mut back: String = format!("code={code}");
    if let Some(state) = req.param("state") {
        let state: String = form_urlencoded::byte_serialize(state.as_bytes()).collect();
        back.push_str(&format!("&state={state}"));
    }
    let separator = if redirect_uri.contains('?') { '&' } else { '?' };
    let location = format!("{redirect_uri}{separator}{back}");
    Response::builder()
        .status(302)
        .header(header::LOCATION, location)
        .body(axum::body::Body::empty())
        .unwrap_or_default()
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
