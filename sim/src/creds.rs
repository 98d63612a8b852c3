//! The credentials the simulator accepts; tests configure the tap with these.

/// Cloud Basic auth user (an email address), with [`API_TOKEN`] as the password.
pub const EMAIL: &str = "sim-user@example.com";
/// Cloud API token, the Basic auth password paired with [`EMAIL`].
pub const API_TOKEN: &str = "sim-api-token";
/// Server / Data Center Basic auth username, with [`PASSWORD`].
pub const USERNAME: &str = "sim.admin";
/// Server / Data Center Basic auth password.
pub const PASSWORD: &str = "sim-password";
/// Server / Data Center personal access token (`Authorization: Bearer PAT`).
pub const PAT: &str = "sim-personal-access-token";
/// OAuth 2.0 (3LO) client id accepted by `POST /oauth/token`.
pub const OAUTH_CLIENT_ID: &str = "sim-oauth-client-id";
/// OAuth 2.0 (3LO) client secret accepted by `POST /oauth/token`.
pub const OAUTH_CLIENT_SECRET: &str = "sim-oauth-client-secret";
/// The refresh token valid when the simulator starts; it rotates on every refresh.
pub const INITIAL_REFRESH_TOKEN: &str = "sim-refresh-token-0";
/// The site's cloud id, used in the OAuth gateway paths `/ex/jira/{CLOUD_ID}/rest/api/3/...`.
pub const CLOUD_ID: &str = "5a1e7c3d-0b2f-4c6d-9e8f-1a2b3c4d5e6f";
/// A Cloud service account's email; with [`SCOPED_API_TOKEN`] it is taken on the gateway only.
pub const SERVICE_ACCOUNT_EMAIL: &str = "sim-bot@serviceaccount.atlassian.com";
/// A scoped API token: Basic auth with [`SERVICE_ACCOUNT_EMAIL`] through the gateway
/// `/ex/jira/{CLOUD_ID}/...`; the site itself answers 401 to it, as Jira Cloud does.
pub const SCOPED_API_TOKEN: &str = "sim-scoped-api-token";
