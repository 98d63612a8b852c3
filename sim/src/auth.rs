//! Who is calling: Basic credentials, Server personal access tokens, and OAuth 2.0 access tokens
//! (Cloud's through the gateway, Data Center's on the site itself), issued against refresh tokens
//! that rotate on every use.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use crate::config::Deployment;
use crate::creds;
use crate::requests::AuthSeen;
use crate::rng::{RngExt, stream, topic};

/// Which way a request came in: the site itself, or Cloud's OAuth gateway `/ex/jira/{cloudId}`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Door {
    Site,
    Gateway,
}

/// Judges the `Authorization` header of a request that came in through `door`.
pub(crate) fn judge(
    deployment: Deployment,
    door: Door,
    header: Option<&str>,
    tokens: &OAuthTokens,
) -> AuthSeen {
    let Some(header) = header else {
        return AuthSeen::None;
    };
    let (scheme, value) = header.trim().split_once(' ').unwrap_or((header, ""));
    let value = value.trim();
    match (deployment, door, scheme.to_ascii_lowercase().as_str()) {
        (Deployment::Cloud, Door::Site, "basic") => match basic(value) {
            Some((user, password)) if user == creds::EMAIL && password == creds::API_TOKEN => {
                AuthSeen::Basic { user }
            }
            _ => AuthSeen::Invalid,
        },
        (Deployment::Cloud, Door::Gateway, "bearer") if tokens.is_valid_access(value) => {
            AuthSeen::BearerOAuth
        }
        // Scoped tokens go through the gateway only, and only they do.
        (Deployment::Cloud, Door::Gateway, "basic") => match basic(value) {
            Some((user, password))
                if user == creds::SERVICE_ACCOUNT_EMAIL && password == creds::SCOPED_API_TOKEN =>
            {
                AuthSeen::Basic { user }
            }
            _ => AuthSeen::Invalid,
        },
        (Deployment::Server, Door::Site, "basic") => match basic(value) {
            Some((user, password)) if user == creds::USERNAME && password == creds::PASSWORD => {
                AuthSeen::Basic { user }
            }
            _ => AuthSeen::Invalid,
        },
        (Deployment::Server, Door::Site, "bearer") if value == creds::PAT => AuthSeen::BearerPat,
        // Data Center as its own OAuth 2.0 provider: its access tokens are taken by the site.
        (Deployment::Server, Door::Site, "bearer") if tokens.is_valid_access(value) => {
            AuthSeen::BearerOAuth
        }
        _ => AuthSeen::Invalid,
    }
}

/// `user:password` from a Basic credential.
fn basic(encoded: &str) -> Option<(String, String)> {
    let decoded = String::from_utf8(STANDARD.decode(encoded).ok()?).ok()?;
    let (user, password) = decoded.split_once(':')?;
    Some((user.to_string(), password.to_string()))
}

/// The fields of a `POST /oauth/token` body.
#[derive(Clone, Debug, Default)]
pub(crate) struct TokenRequest {
    pub grant_type: Option<String>,
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
    pub refresh_token: Option<String>,
    pub code: Option<String>,
    pub redirect_uri: Option<String>,
}

/// A successful refresh.
pub(crate) struct Issued {
    pub access_token: String,
    pub refresh_token: String,
    pub expires_in: u64,
}

#[derive(Debug, PartialEq, Eq)]
pub(crate) enum TokenError {
    UnsupportedGrant,
    /// Wrong client id or secret.
    BadClient,
    /// Unknown, already used (rotated away) refresh token.
    BadRefreshToken,
    /// Unknown or already used code, or another redirect URI than the code was issued for.
    BadCode,
    /// Data Center: a refresh without the redirect URI the client was authorised with, or with
    /// another one (its provider checks it on the refresh grant too).
    BadRedirect,
}

/// The OAuth state of the site: live access tokens, the one valid refresh token, and the
/// authorization codes not yet exchanged.
pub(crate) struct OAuthTokens {
    /// Access token → when it stops working.
    access: HashMap<String, Instant>,
    /// Code → the redirect URI it was issued for.
    codes: HashMap<String, String>,
    codes_issued: u64,
    refresh: String,
    issued: u64,
    seed: u64,
    ttl: Duration,
    /// Data Center's provider: a refresh must carry the client's redirect URI.
    refresh_needs_redirect: bool,
    /// The redirect URI of the last code exchanged, which a Data Center refresh must repeat.
    redirect: Option<String>,
}

impl OAuthTokens {
    pub fn new(seed: u64, ttl_secs: u64) -> OAuthTokens {
        OAuthTokens {
            access: HashMap::new(),
            codes: HashMap::new(),
            codes_issued: 0,
            refresh: creds::INITIAL_REFRESH_TOKEN.to_string(),
            issued: 0,
            seed,
            ttl: Duration::from_secs(ttl_secs),
            refresh_needs_redirect: false,
            redirect: None,
        }
    }

    /// As Data Center's provider: a refresh grant without the client's `redirect_uri` is refused.
    pub fn data_center(mut self) -> OAuthTokens {
        self.refresh_needs_redirect = true;
        self
    }

    pub fn is_valid_access(&self, token: &str) -> bool {
        self.access
            .get(token)
            .is_some_and(|expiry| Instant::now() < *expiry)
    }

    pub fn current_refresh(&self) -> String {
        self.refresh.clone()
    }

    /// Every access token issued so far stops working.
    pub fn expire_all(&mut self) {
        self.access.clear();
    }

    /// A person allowed access: a code for `redirect_uri`, good for one exchange. Only the
    /// simulator's client may ask.
    pub fn authorize(&mut self, client_id: &str, redirect_uri: &str) -> Result<String, TokenError> {
        if client_id != creds::OAUTH_CLIENT_ID {
            return Err(TokenError::BadClient);
        }
        self.codes_issued += 1;
        let mut rng = stream(self.seed, &[topic::TOKEN, u64::MAX - self.codes_issued]);
        let code: String = (0..16)
            .map(|_| char::from_digit(rng.random_range(0..36), 36).unwrap_or('x'))
            .collect();
        let code = format!("sim-code-{code}");
        self.codes.insert(code.clone(), redirect_uri.to_string());
        Ok(code)
    }

    /// Answers a token request: a refresh token or an authorization code, exchanged for a new
    /// access token and a new refresh token; the refresh token used (or held before the code)
    /// is invalid from then on.
    pub fn grant(&mut self, request: &TokenRequest) -> Result<Issued, TokenError> {
        let grant = request.grant_type.as_deref();
        if !matches!(grant, Some("refresh_token" | "authorization_code")) {
            return Err(TokenError::UnsupportedGrant);
        }
        if request.client_id.as_deref() != Some(creds::OAUTH_CLIENT_ID)
            || request.client_secret.as_deref() != Some(creds::OAUTH_CLIENT_SECRET)
        {
            return Err(TokenError::BadClient);
        }
        if grant == Some("refresh_token") {
            if request.refresh_token.as_deref() != Some(self.refresh.as_str()) {
                return Err(TokenError::BadRefreshToken);
            }
            let redirect = request.redirect_uri.as_deref();
            if self.refresh_needs_redirect
                && (redirect.is_none()
                    || self.redirect.is_some() && self.redirect.as_deref() != redirect)
            {
                return Err(TokenError::BadRedirect);
            }
        } else {
            let issued_for = request
                .code
                .as_deref()
                .and_then(|code| self.codes.remove(code));
            if issued_for.is_none() || issued_for.as_deref() != request.redirect_uri.as_deref() {
                return Err(TokenError::BadCode);
            }
            self.redirect = issued_for;
        }
        self.issued += 1;
        let mut rng = stream(self.seed, &[topic::TOKEN, self.issued]);
        let secret: String = (0..24)
            .map(|_| char::from_digit(rng.random_range(0..36), 36).unwrap_or('x'))
            .collect();
        let access_token = format!("sim-at-{}-{secret}", self.issued);
        let refresh_token = format!("sim-rt-{}-{}", self.issued, &secret[..12]);
        let now = Instant::now();
        self.access.retain(|_, expiry| *expiry > now);
        self.access.insert(access_token.clone(), now + self.ttl);
        self.refresh = refresh_token.clone();
        Ok(Issued {
            access_token,
            refresh_token,
            expires_in: self.ttl.as_secs(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn basic_header(user: &str, password: &str) -> String {
        format!("Basic {}", STANDARD.encode(format!("{user}:{password}")))
    }

    fn refresh_request(token: &str) -> TokenRequest {
        TokenRequest {
            grant_type: Some("refresh_token".into()),
            client_id: Some(creds::OAUTH_CLIENT_ID.into()),
            client_secret: Some(creds::OAUTH_CLIENT_SECRET.into()),
            refresh_token: Some(token.into()),
            ..TokenRequest::default()
        }
    }

    #[test]
    fn cloud_accepts_email_and_api_token_only() {
        let tokens = OAuthTokens::new(1, 60);
        let good = basic_header(creds::EMAIL, creds::API_TOKEN);
        let judge_cloud = |h: Option<&str>| judge(Deployment::Cloud, Door::Site, h, &tokens);
        assert_eq!(
            judge_cloud(Some(&good)),
            AuthSeen::Basic {
                user: creds::EMAIL.into()
            }
        );
        assert_eq!(
            judge_cloud(Some(&basic_header(creds::USERNAME, creds::PASSWORD))),
            AuthSeen::Invalid
        );
        assert_eq!(
            judge_cloud(Some(&format!("Bearer {}", creds::PAT))),
            AuthSeen::Invalid
        );
        assert_eq!(judge_cloud(Some("Basic !!!")), AuthSeen::Invalid);
        // A scoped token is refused by the site and taken by the gateway, a classic one the
        // other way round.
        let scoped = basic_header(creds::SERVICE_ACCOUNT_EMAIL, creds::SCOPED_API_TOKEN);
        assert_eq!(judge_cloud(Some(&scoped)), AuthSeen::Invalid);
        let through_gateway = |h: &str| judge(Deployment::Cloud, Door::Gateway, Some(h), &tokens);
        assert_eq!(
            through_gateway(&scoped),
            AuthSeen::Basic {
                user: creds::SERVICE_ACCOUNT_EMAIL.into()
            }
        );
        assert_eq!(through_gateway(&good), AuthSeen::Invalid);
        assert_eq!(judge_cloud(None), AuthSeen::None);
    }

    #[test]
    fn server_accepts_password_and_pat() {
        let tokens = OAuthTokens::new(1, 60);
        let judge_server = |h: &str| judge(Deployment::Server, Door::Site, Some(h), &tokens);
        assert_eq!(
            judge_server(&basic_header(creds::USERNAME, creds::PASSWORD)),
            AuthSeen::Basic {
                user: creds::USERNAME.into()
            }
        );
        assert_eq!(
            judge_server(&format!("Bearer {}", creds::PAT)),
            AuthSeen::BearerPat
        );
        assert_eq!(
            judge_server(&format!("bearer {}", creds::PAT)),
            AuthSeen::BearerPat
        );
        assert_eq!(judge_server("Bearer nope"), AuthSeen::Invalid);
        assert_eq!(
            judge_server(&basic_header(creds::EMAIL, creds::API_TOKEN)),
            AuthSeen::Invalid
        );
    }

    #[test]
    fn refresh_tokens_rotate_and_access_tokens_expire() {
        let mut tokens = OAuthTokens::new(7, 60);
        let first = tokens
            .grant(&refresh_request(creds::INITIAL_REFRESH_TOKEN))
            .ok()
            .unwrap();
        assert_eq!(first.expires_in, 60);
        let bearer = format!("Bearer {}", first.access_token);
        assert_eq!(
            judge(Deployment::Cloud, Door::Gateway, Some(&bearer), &tokens),
            AuthSeen::BearerOAuth
        );
        // The gateway does not take Basic, and the site does not take OAuth tokens.
        assert_eq!(
            judge(Deployment::Cloud, Door::Site, Some(&bearer), &tokens),
            AuthSeen::Invalid
        );
        // The used refresh token is dead; the new one works once.
        assert_eq!(
            tokens
                .grant(&refresh_request(creds::INITIAL_REFRESH_TOKEN))
                .err(),
            Some(TokenError::BadRefreshToken)
        );
        assert_eq!(tokens.current_refresh(), first.refresh_token);
        let second = tokens
            .grant(&refresh_request(&first.refresh_token))
            .ok()
            .unwrap();
        assert_ne!(second.refresh_token, first.refresh_token);
        let mut wrong_client = refresh_request(&second.refresh_token);
        wrong_client.client_secret = Some("nope".into());
        assert_eq!(
            tokens.grant(&wrong_client).err(),
            Some(TokenError::BadClient)
        );
        tokens.expire_all();
        assert_eq!(
            judge(Deployment::Cloud, Door::Gateway, Some(&bearer), &tokens),
            AuthSeen::Invalid
        );
    }

    #[test]
    fn a_code_is_exchanged_once_for_the_redirect_it_was_issued_for() {
        let mut tokens = OAuthTokens::new(7, 60);
        assert_eq!(
            tokens.authorize("someone-else", "https://cb").err(),
            Some(TokenError::BadClient)
        );
        let code = tokens
            .authorize(creds::OAUTH_CLIENT_ID, "https://cb")
            .unwrap();
        let exchange = |redirect: &str| TokenRequest {
            grant_type: Some("authorization_code".into()),
            client_id: Some(creds::OAUTH_CLIENT_ID.into()),
            client_secret: Some(creds::OAUTH_CLIENT_SECRET.into()),
            code: Some(code.clone()),
            redirect_uri: Some(redirect.into()),
            ..TokenRequest::default()
        };
        let issued = tokens.grant(&exchange("https://cb")).ok().unwrap();
        assert_eq!(tokens.current_refresh(), issued.refresh_token);
        assert!(tokens.is_valid_access(&issued.access_token));
        assert_eq!(
            tokens.grant(&exchange("https://cb")).err(),
            Some(TokenError::BadCode),
            "used once"
        );
        let other = tokens
            .authorize(creds::OAUTH_CLIENT_ID, "https://cb")
            .unwrap();
        assert_ne!(other, code);
    }

    #[test]
    fn a_data_center_refresh_needs_the_redirect_uri() {
        let mut tokens = OAuthTokens::new(7, 60).data_center();
        let mut request = refresh_request(creds::INITIAL_REFRESH_TOKEN);
        assert_eq!(tokens.grant(&request).err(), Some(TokenError::BadRedirect));
        request.redirect_uri = Some("https://cb".into());
        let issued = tokens.grant(&request).ok().unwrap();
        // Once a code was exchanged for one redirect URI, a refresh must repeat that one.
        let code = tokens
            .authorize(creds::OAUTH_CLIENT_ID, "https://cb/2")
            .unwrap();
        let exchange = TokenRequest {
            grant_type: Some("authorization_code".into()),
            client_id: Some(creds::OAUTH_CLIENT_ID.into()),
            client_secret: Some(creds::OAUTH_CLIENT_SECRET.into()),
            code: Some(code),
            redirect_uri: Some("https://cb/2".into()),
            ..TokenRequest::default()
        };
        assert_ne!(
            issued.refresh_token,
            tokens.grant(&exchange).ok().unwrap().refresh_token
        );
        let mut again = refresh_request(&tokens.current_refresh());
        again.redirect_uri = Some("https://cb".into());
        assert_eq!(tokens.grant(&again).err(), Some(TokenError::BadRedirect));
        again.redirect_uri = Some("https://cb/2".into());
        assert!(tokens.grant(&again).is_ok());
    }

    #[test]
    fn access_tokens_die_after_their_ttl() {
        let mut tokens = OAuthTokens::new(7, 0);
        let issued = tokens
            .grant(&refresh_request(creds::INITIAL_REFRESH_TOKEN))
            .ok()
            .unwrap();
        assert!(!tokens.is_valid_access(&issued.access_token));
    }
}
