//! Each auth method sends the right credentials; OAuth refreshes and saves the rotated token.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use common::{Site, tap};
use jira_sim::{AuthSeen, Deployment, SimConfig, creds};
use serde_json::{Value, json};

fn discover_with(site: &Site, config: Value) -> common::Run {
    let config = site.file("config.json", &config);
    tap(&[&"--config", &config, &"--discover"])
}

fn auth_seen(site: &Site) -> Vec<AuthSeen> {
    site.sim
        .sim
        .requests()
        .into_iter()
        .map(|r| r.auth)
        .collect()
}

#[test]
fn api_token_is_basic_auth_with_the_email() {
    let site = Site::cloud();
    discover_with(&site, site.cloud_config()).assert_success();
    let seen = auth_seen(&site);
    assert!(!seen.is_empty());
    assert!(
        seen.iter().all(|a| *a
            == AuthSeen::Basic {
                user: creds::EMAIL.into()
            }),
        "{seen:?}"
    );
}

#[test]
fn stitch_username_and_password_on_cloud_are_the_email_and_api_token() {
    let site = Site::cloud();
    let config = json!({"base_url": site.sim.url, "allow_http": true, "username": creds::EMAIL,
        "password": creds::API_TOKEN, "start_date": "2024-01-01T00:00:00Z", "request_timeout": ""});
    discover_with(&site, config).assert_success();
    assert!(auth_seen(&site).iter().all(|a| *a
        == AuthSeen::Basic {
            user: creds::EMAIL.into()
        }));
}

#[test]
fn personal_access_token_is_a_bearer_token() {
    let site = Site::server();
    discover_with(&site, site.server_config()).assert_success();
    assert!(auth_seen(&site).iter().all(|a| *a == AuthSeen::BearerPat));
}

#[test]
fn basic_auth_with_username_and_password_on_server() {
    let site = Site::server();
    let config = json!({"base_url": site.sim.url, "allow_http": true, "username": creds::USERNAME,
        "password": creds::PASSWORD});
    discover_with(&site, config).assert_success();
    assert!(auth_seen(&site).iter().all(|a| *a
        == AuthSeen::Basic {
            user: creds::USERNAME.into()
        }));
}

fn oauth_config(site: &Site) -> Value {
    json!({
        "oauth_client_id": creds::OAUTH_CLIENT_ID,
        "oauth_client_secret": creds::OAUTH_CLIENT_SECRET,
        "refresh_token": creds::INITIAL_REFRESH_TOKEN,
        "cloud_id": creds::CLOUD_ID,
        "oauth_token_url": format!("{}/oauth/token", site.sim.url),
        "oauth_gateway_url": site.sim.url,
        "allow_http": true,
        "start_date": "2000-01-01"
    })
}

#[test]
fn oauth_refreshes_uses_the_new_token_and_saves_the_rotated_refresh_token() {
    let site = Site::cloud();
    let config = site.file("config.json", &oauth_config(&site));
    let run = tap(&[&"--config", &config, &"--discover"]);
    run.assert_success();

    let requests = site.sim.sim.requests();
    assert!(
        requests.iter().any(|r| r.path == "/oauth/token"),
        "the token endpoint was called"
    );
    let api: Vec<_> = requests
        .iter()
        .filter(|r| r.path.starts_with("/ex/jira/"))
        .collect();
    assert!(
        !api.is_empty() && api.iter().all(|r| r.auth == AuthSeen::BearerOAuth),
        "{api:?}"
    );

    // The rotated refresh token is in the config file, the rest of the file unchanged.
    let saved: Value = serde_json::from_str(&std::fs::read_to_string(&config).unwrap()).unwrap();
    assert_eq!(
        saved["refresh_token"],
        json!(site.sim.sim.current_refresh_token())
    );
    assert_ne!(saved["refresh_token"], json!(creds::INITIAL_REFRESH_TOKEN));
    assert_eq!(saved["cloud_id"], json!(creds::CLOUD_ID));
    assert!(
        run.stderr.contains("rotated"),
        "the log says the token was saved"
    );
    assert!(
        !run.stderr.contains(creds::OAUTH_CLIENT_SECRET)
            && !run.stderr.contains(&site.sim.sim.current_refresh_token())
    );

    // A second run works with what was saved, and an expired access token is refreshed on 401.
    let run = tap(&[&"--config", &config, &"--discover"]);
    run.assert_success();
    site.sim.sim.expire_access_tokens();
    let with_access = {
        let mut c: Value =
            serde_json::from_str(&std::fs::read_to_string(&config).unwrap()).unwrap();
        c["access_token"] = json!("stale-token");
        site.file("config-stale.json", &c)
    };
    let run = tap(&[&"--config", &with_access, &"--discover"]);
    run.assert_success();
}

#[test]
fn oauth_refreshes_before_the_access_token_expires() {
    // Tokens that live three seconds, and a sync slowed down to outlive several of them.
    let site = Site::new(SimConfig {
        access_token_ttl_secs: 3,
        latency_ms: 300,
        ..SimConfig::default()
    });
    let mut config = oauth_config(&site);
    config["page_size"] = json!(5);
    let config = site.file("config.json", &config);
    let run = tap(&[&"--config", &config]);
    run.assert_success();
    let requests = site.sim.sim.requests();
    let refreshes = requests.iter().filter(|r| r.path == "/oauth/token").count();
    assert!(refreshes >= 2, "refreshed along the way: {refreshes}");
    assert!(
        requests.iter().all(|r| r.status != 401),
        "no request went out with an expired token"
    );
    let saved: Value = serde_json::from_str(&std::fs::read_to_string(&config).unwrap()).unwrap();
    assert_eq!(
        saved["refresh_token"],
        json!(site.sim.sim.current_refresh_token())
    );
}

#[test]
fn a_refused_refresh_token_is_a_clear_error() {
    let site = Site::cloud();
    let mut config = oauth_config(&site);
    config["refresh_token"] = json!("revoked-token");
    let run = discover_with(&site, config);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("OAuth token refresh failed"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("revoked-token"));
    // Atlassian's invalid_grant is the refresh token, spent or revoked: one line that says to
    // authorize again, not to check a client id and secret the endpoint took, asked once.
    let errors: Vec<&str> = run.stderr.lines().filter(|l| l.contains("ERROR")).collect();
    assert_eq!(errors.len(), 1, "{}", run.stderr);
    assert!(
        errors[0].contains("invalid_grant") && errors[0].contains("run `tap-jira authorize"),
        "{}",
        errors[0]
    );
    assert!(
        !errors[0].contains("oauth_client_secret") && !errors[0].contains(".."),
        "{}",
        errors[0]
    );
    let asked = site.sim.sim.requests();
    assert_eq!(
        asked.iter().filter(|r| r.path == "/oauth/token").count(),
        1,
        "{asked:?}"
    );
}

/// A token endpoint nothing listens at: the line says why (the connection was refused) and which
/// setting names it, not only that a request could not be sent.
#[test]
fn an_unreachable_token_endpoint_says_why_and_what_to_check() {
    let site = Site::cloud();
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let mut config = oauth_config(&site);
    config["oauth_token_url"] = json!(format!("http://127.0.0.1:{port}/oauth/token"));
    let run = discover_with(&site, config);
    assert_eq!(run.code, 1);
    assert!(run.stdout.is_empty(), "{}", run.stdout);
    let errors: Vec<&str> = run.stderr.lines().filter(|l| l.contains("ERROR")).collect();
    assert_eq!(errors.len(), 1, "one clear line:\n{}", run.stderr);
    assert!(
        errors[0].to_lowercase().contains("connection refused"),
        "{}",
        run.stderr
    );
    assert!(errors[0].contains("oauth_token_url"), "{}", run.stderr);
    assert!(!run.stderr.contains(creds::OAUTH_CLIENT_SECRET));
}

#[test]
fn wrong_credentials_name_the_method_tried() {
    let site = Site::new(SimConfig {
        deployment: Deployment::Cloud,
        ..SimConfig::default()
    });
    let mut config = site.cloud_config();
    config["api_token"] = json!("wrong-secret-value");
    let run = discover_with(&site, config);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("authentication failed: HTTP 401"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("API token"), "{}", run.stderr);
    assert!(!run.stderr.contains("wrong-secret-value") && run.stdout.is_empty());
}

/// The scopes `authorize` asks for by default (read:jira-work, read:jira-user) do not cover the
/// audit log or the admin streams: Atlassian's gateway answers those endpoints 401 "scope does
/// not match", the token being good for the rest of the API. They are skipped with a warning,
/// as a 403 is, and no refresh is spent on them.
#[test]
fn an_endpoint_outside_the_oauth_scopes_is_skipped_and_the_sync_goes_on() {
    let site = Site::cloud();
    let config = site.file("config.json", &oauth_config(&site));
    let catalog = site.file("catalog.json", &site.discover(&config));
    site.sim
        .sim
        .push_fault(jira_sim::Fault::scope_mismatch("/auditing/record").times(9));
    site.sim
        .sim
        .push_fault(jira_sim::Fault::scope_mismatch("/field/{fieldId}/context$").times(1000));
    let refreshes = || {
        site.sim
            .sim
            .requests()
            .iter()
            .filter(|r| r.path == "/oauth/token")
            .count()
    };
    let before = refreshes();
    let run = tap(&[&"--config", &config, &"--catalog", &catalog]);
    run.assert_success();
    common::assert_valid_singer_output(&run);
    assert_eq!(run.records("issues").len(), site.sim.sim.issue_count());
    assert!(run.records("custom_field_contexts").is_empty());
    assert!(
        run.stderr.contains("custom_field_contexts") && run.stderr.contains("scope does not match"),
        "{}",
        run.stderr
    );
    assert_eq!(refreshes() - before, 1, "only the run's first access token");
}

/// Wherever a 403 is skipped, so is an endpoint refused for the token's scopes: the site's fields
/// (the catalog is synced as it is), the project list (the issues are read in one search), the
/// changelog's bulk endpoint (read issue by issue instead). The run goes on and writes every
/// issue and every changelog entry.
#[test]
fn endpoints_refused_for_the_token_scopes_are_skipped_where_a_403_is() {
    let site = Site::cloud();
    let config = site.file("config.json", &oauth_config(&site));
    let catalog = site.file("catalog.json", &site.discover(&config));
    for path in ["/field$", "/project/search", "/changelog/bulkfetch"] {
        site.sim
            .sim
            .push_fault(jira_sim::Fault::scope_mismatch(path).times(1000));
    }
    let run = tap(&[&"--config", &config, &"--catalog", &catalog]);
    run.assert_success();
    common::assert_valid_singer_output(&run);
    assert_eq!(run.records("issues").len(), site.sim.sim.issue_count());
    let changelogs = site.sim.sim.expected_records("changelogs", None);
    assert_eq!(Some(run.records("changelogs").len()), changelogs);
    let refused = |path: &str| {
        site.sim
            .sim
            .requests()
            .iter()
            .any(|r| r.path.ends_with(path) && r.status == 401)
    };
    for path in ["/field", "/project/search", "/changelog/bulkfetch"] {
        assert!(refused(path), "{path} was not asked");
    }
    for says in [
        "could not read the site's fields",
        "could not list the projects",
        "bulk endpoint refused",
    ] {
        assert!(run.stderr.contains(says), "{says}: {}", run.stderr);
    }
}

/// A token whose authorisation lacks `read:jira-work` (oauth_scopes set without it, or granular
/// scopes that miss one) is refused the issue search itself with the gateway's 401 "scope does
/// not match" (raycast/extensions#11212). Skipped like an admin stream, the issues and every
/// issue stream were left out and the run exited 0: a scheduled sync that reads nothing,
/// reported as a success. The tap cannot do without these scopes: the run fails saying so.
#[test]
fn the_issue_search_refused_for_the_token_scopes_fails_the_run() {
    let site = Site::cloud();
    site.sim
        .sim
        .push_fault(jira_sim::Fault::scope_mismatch("/search/jql").times(1000));
    let config = site.file("config.json", &oauth_config(&site));
    let run = tap(&[&"--config", &config]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.records("issues").is_empty());
    let errors: Vec<&str> = run.stderr.lines().filter(|l| l.contains("ERROR")).collect();
    assert_eq!(errors.len(), 1, "one line:\n{}", run.stderr);
    for says in ["scope does not match", "oauth_scopes", "tap-jira authorize"] {
        assert!(errors[0].contains(says), "{says}: {}", errors[0]);
    }
    assert!(!run.stderr.contains(creds::OAUTH_CLIENT_SECRET));
}

/// Meltano writes a fresh config file for every run: the rotated token must live elsewhere.
#[test]
fn a_token_file_keeps_the_rotated_refresh_token_across_generated_configs() {
    let site = Site::cloud();
    let token_file = site.dir.path().join("tokens").with_extension("json");
    let mut config = oauth_config(&site);
    config["oauth_token_file"] = json!(token_file);
    // Each run gets a config regenerated from the same settings, holding the first refresh token.
    for run in 0..3 {
        let path = site.file(&format!("generated-{run}.json"), &config);
        let result = tap(&[&"--config", &path, &"--discover"]);
        result.assert_success();
        let saved: Value =
            serde_json::from_str(&std::fs::read_to_string(&token_file).unwrap()).unwrap();
        assert_eq!(
            saved["refresh_token"],
            json!(site.sim.sim.current_refresh_token()),
            "run {run}"
        );
        let generated: Value =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        assert_eq!(
            generated["refresh_token"],
            json!(creds::INITIAL_REFRESH_TOKEN),
            "the config is left alone"
        );
    }
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&token_file).unwrap().permissions().mode();
    assert_eq!(mode & 0o077, 0, "the token file is private to its owner");
}

/// The refresh token a token file holds is as secret as one in the config: a token endpoint
/// that echoes the request does not get it printed.
#[test]
fn a_refresh_token_from_the_token_file_is_never_printed() {
    let site = Site::cloud();
    let token_file = site.file(
        "tokens.json",
        &json!({"refresh_token": "SECRET-FILE-REFRESH-1"}),
    );
    let mut config = oauth_config(&site);
    config["oauth_token_file"] = json!(token_file);
    site.sim.sim.push_fault(jira_sim::Fault {
        path_contains: "/oauth/token".into(),
        status: 400,
        body: json!({"error": "invalid_grant",
                     "error_description": "unknown refresh_token SECRET-FILE-REFRESH-1"})
        .to_string(),
        content_type: "application/json".into(),
        ..jira_sim::Fault::default()
    });
    let run = discover_with(&site, config);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr.contains("OAuth token refresh failed"),
        "{}",
        run.stderr
    );
    assert!(
        !run.stderr.contains("SECRET-FILE-REFRESH") && !run.stdout.contains("SECRET-FILE"),
        "{}",
        run.stderr
    );
}

/// A refresh spends the old token: if the new one could not be saved, the user would be locked
/// out. So an unwritable place is refused before any request.
#[test]
fn an_unwritable_token_file_is_refused_before_the_token_is_spent() {
    let site = Site::cloud();
    let mut config = oauth_config(&site);
    config["oauth_token_file"] = json!(site.dir.path().join("no-such-dir").join("tokens.json"));
    let config = site.file("config.json", &config);
    let run = tap(&[&"--config", &config, &"--discover"]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("cannot save rotated refresh tokens"),
        "{}",
        run.stderr
    );
    assert!(
        site.sim.sim.requests().is_empty(),
        "no request, so the refresh token is not spent"
    );
    assert_eq!(
        site.sim.sim.current_refresh_token(),
        creds::INITIAL_REFRESH_TOKEN
    );
}

fn scoped_config(site: &Site) -> Value {
    json!({"auth_type": "scoped_token", "base_url": site.sim.url, "oauth_gateway_url": site.sim.url,
        "allow_http": true, "email": creds::SERVICE_ACCOUNT_EMAIL,
        "api_token": creds::SCOPED_API_TOKEN, "start_date": "2000-01-01"})
}

/// A service account's scoped token: Basic auth through the gateway, the cloud id read from the
/// site without credentials, and nothing else sent to the site.
#[test]
fn a_scoped_token_goes_through_the_gateway_with_the_cloud_id_the_site_gives() {
    let site = Site::cloud();
    let run = discover_with(&site, scoped_config(&site));
    run.assert_success();
    let requests = site.sim.sim.requests();
    assert_eq!(requests[0].path, "/_edge/tenant_info");
    assert_eq!(
        requests[0].auth,
        AuthSeen::None,
        "no credentials for the tenant info"
    );
    let api = &requests[1..];
    assert!(!api.is_empty());
    for request in api {
        assert!(
            request
                .path
                .starts_with(&format!("/ex/jira/{}/rest/", creds::CLOUD_ID)),
            "{request:?}"
        );
        assert_eq!(
            request.auth,
            AuthSeen::Basic {
                user: creds::SERVICE_ACCOUNT_EMAIL.into()
            }
        );
    }
    assert!(
        run.stderr.contains(&format!(
            "base_url={}/ex/jira/{}/",
            site.sim.url,
            creds::CLOUD_ID
        )),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains(creds::SCOPED_API_TOKEN));

    // With the cloud id given, the site is not asked, and need not be named.
    site.sim.sim.reset_requests();
    let mut config = scoped_config(&site);
    config.as_object_mut().unwrap().remove("base_url");
    config["cloud_id"] = json!(creds::CLOUD_ID);
    discover_with(&site, config).assert_success();
    assert!(
        site.sim
            .sim
            .requests()
            .iter()
            .all(|r| r.path.starts_with("/ex/jira/"))
    );
}

/// Nothing in a token says it is scoped: the site's 401 must say where scoped tokens go.
#[test]
fn a_scoped_token_sent_to_the_site_url_fails_saying_it_must_call_the_gateway() {
    let site = Site::cloud();
    let mut config = scoped_config(&site);
    config.as_object_mut().unwrap().remove("auth_type");
    let run = discover_with(&site, config);
    assert_eq!(run.code, 1);
    let last = run.stderr.lines().last().unwrap_or("");
    for says in [
        "authentication failed: HTTP 401",
        "scoped API token",
        "is refused by the site URL: it must call https://api.atlassian.com/ex/jira/{cloudId}",
        "set auth_type: scoped_token",
    ] {
        assert!(last.contains(says), "{says}: {last}");
    }
    assert!(!run.stderr.contains(creds::SCOPED_API_TOKEN));
}

#[test]
fn a_scoped_token_for_a_site_without_a_cloud_id_is_a_clear_error() {
    let site = Site::server();
    let run = discover_with(&site, scoped_config(&site));
    assert_eq!(run.code, 1);
    let last = run.stderr.lines().last().unwrap_or("");
    assert!(
        last.contains("config `base_url`: gives no cloud id (HTTP 404")
            && last.contains("cloud_id"),
        "{last}"
    );
    assert_eq!(
        site.sim.sim.requests().len(),
        1,
        "only the tenant info was asked for"
    );
}

/// The incoming link's callback: Data Center checks it on every refresh.
const DATA_CENTER_CALLBACK: &str = "https://localhost/tap-jira/callback";

fn data_center_oauth_config(site: &Site) -> Value {
    json!({
        "base_url": site.sim.url,
        "allow_http": true,
        "oauth_client_id": creds::OAUTH_CLIENT_ID,
        "oauth_client_secret": creds::OAUTH_CLIENT_SECRET,
        "oauth_redirect_uri": DATA_CENTER_CALLBACK,
        "refresh_token": creds::INITIAL_REFRESH_TOKEN,
        "start_date": "2000-01-01"
    })
}

/// Data Center as its own OAuth 2.0 provider: the site's token endpoint, a form body, Bearer
/// access tokens to the site, and the rotated refresh token kept across runs.
#[test]
fn data_center_oauth_refreshes_at_the_site_and_its_rotated_token_survives_two_runs() {
    let site = Site::server();
    // No auth_type: OAuth keys with a site and no cloud id are Data Center's.
    let config = site.file("config.json", &data_center_oauth_config(&site));
    let mut spent = vec![creds::INITIAL_REFRESH_TOKEN.to_string()];
    for run in 0..2 {
        site.sim.sim.reset_requests();
        let result = tap(&[&"--config", &config, &"--discover"]);
        result.assert_success();
        let requests = site.sim.sim.requests();
        let token = &requests[0];
        assert_eq!(
            (token.method.as_str(), token.path.as_str()),
            ("POST", "/rest/oauth2/latest/token"),
            "run {run}"
        );
        let form: std::collections::HashMap<String, String> =
            url::form_urlencoded::parse(token.body.as_bytes())
                .into_owned()
                .collect();
        assert_eq!(form["grant_type"], "refresh_token");
        assert_eq!(form["client_id"], creds::OAUTH_CLIENT_ID);
        assert_eq!(&form["refresh_token"], spent.last().unwrap(), "run {run}");
        // Data Center's provider refuses a refresh without the link's redirect URI.
        assert_eq!(form["redirect_uri"], DATA_CENTER_CALLBACK, "run {run}");
        let api = &requests[1..];
        assert!(!api.is_empty());
        assert!(
            api.iter()
                .all(|r| r.path.starts_with("/rest/api/2/") && r.auth == AuthSeen::BearerOAuth),
            "{api:?}"
        );
        let saved: Value =
            serde_json::from_str(&std::fs::read_to_string(&config).unwrap()).unwrap();
        let current = site.sim.sim.current_refresh_token();
        assert_eq!(saved["refresh_token"], json!(current), "run {run}");
        assert!(!spent.contains(&current), "rotated on run {run}");
        assert!(
            !result.stderr.contains(&current)
                && !result.stderr.contains(creds::OAUTH_CLIENT_SECRET)
        );
        spent.push(current);
    }

    // An access token Data Center no longer takes is refreshed on its 401.
    site.sim.sim.expire_access_tokens();
    let mut stale: Value =
        serde_json::from_str(&std::fs::read_to_string(&config).unwrap()).unwrap();
    stale["access_token"] = json!("stale-data-center-token");
    stale["auth_type"] = json!("oauth2_dc");
    let stale = site.file("stale.json", &stale);
    site.sim.sim.reset_requests();
    tap(&[&"--config", &stale, &"--discover"]).assert_success();
    // /myself and /field go out together: both are refused, and the token is refreshed once.
    // The simulator logs a request when it answers, so the second refusal may be logged after
    // the refresh: what matters is that only the stale token was refused.
    let requests = site.sim.sim.requests();
    let is_refresh = |r: &&jira_sim::RequestRecord| r.path == "/rest/oauth2/latest/token";
    let refresh = requests
        .iter()
        .position(|r| is_refresh(&r))
        .expect("a refresh");
    let seen: Vec<(u16, &AuthSeen)> = requests.iter().map(|r| (r.status, &r.auth)).collect();
    assert!(
        refresh > 0 && seen[..refresh].iter().all(|(s, _)| *s == 401),
        "the stale token was tried first: {seen:?}"
    );
    assert_eq!(requests.iter().filter(is_refresh).count(), 1, "{seen:?}");
    let api = requests.iter().filter(|r| !is_refresh(r));
    let (refused, answered): (Vec<_>, Vec<_>) = api.partition(|r| r.status == 401);
    assert!(
        refused.iter().all(|r| r.auth == AuthSeen::Invalid)
            && refused
                .iter()
                .enumerate()
                .all(|(i, r)| refused[..i].iter().all(|e| e.path != r.path)),
        "only the stale token is refused, once per request: {seen:?}"
    );
    assert!(
        answered
            .iter()
            .all(|r| r.status == 200 && r.auth == AuthSeen::BearerOAuth)
            && refused
                .iter()
                .all(|r| answered.iter().any(|a| a.path == r.path)),
        "every refused request is retried with the new token: {seen:?}"
    );
}

/// Data Center refuses a refresh without the incoming link's redirect URI (an `invalid_grant`
/// that names nothing): a config without it is named before any request, not after a refusal.
#[test]
fn data_center_oauth_without_the_redirect_uri_names_it_before_any_request() {
    let site = Site::server();
    let mut config = data_center_oauth_config(&site);
    config.as_object_mut().unwrap().remove("oauth_redirect_uri");
    let run = discover_with(&site, config);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("config `oauth_redirect_uri`"),
        "{}",
        run.stderr
    );
    assert!(site.sim.sim.requests().is_empty(), "no request went out");
    assert_eq!(
        site.sim.sim.current_refresh_token(),
        creds::INITIAL_REFRESH_TOKEN
    );
}

#[test]
fn data_center_oauth_keeps_a_token_file_and_refuses_cloud_settings() {
    let site = Site::server();
    let token_file = site.dir.path().join("dc-tokens.json");
    let mut config = data_center_oauth_config(&site);
    config["auth_type"] = json!("oauth2_dc");
    config["oauth_token_file"] = json!(token_file);
    for run in 0..2 {
        let path = site.file(&format!("generated-{run}.json"), &config);
        tap(&[&"--config", &path, &"--discover"]).assert_success();
        let saved: Value =
            serde_json::from_str(&std::fs::read_to_string(&token_file).unwrap()).unwrap();
        assert_eq!(
            saved["refresh_token"],
            json!(site.sim.sim.current_refresh_token())
        );
    }

    let mut cloud = data_center_oauth_config(&site);
    cloud["auth_type"] = json!("oauth2_dc");
    cloud["deployment"] = json!("cloud");
    cloud.as_object_mut().unwrap().remove("base_url");
    let run = discover_with(&site, cloud);
    assert_eq!(run.code, 1);
    for says in [
        "config `base_url`: is required for Data Center OAuth 2.0",
        "config `deployment`: is cloud",
    ] {
        assert!(run.stderr.contains(says), "{says}: {}", run.stderr);
    }
}

/// The README: config files "in UTF-8 (a byte-order mark is fine)", the file the rotated refresh
/// token is written back to included: refused there, the refresh has already spent the old token,
/// the new one is never saved, and the user is locked out.
#[test]
fn a_config_file_with_a_byte_order_mark_keeps_its_rotated_refresh_token() {
    let site = Site::cloud();
    let config = site.dir.path().join("config.json");
    let mut bytes = b"\xEF\xBB\xBF".to_vec();
    bytes.extend(serde_json::to_vec_pretty(&oauth_config(&site)).unwrap());
    std::fs::write(&config, bytes).unwrap();

    let run = tap(&[&"--config", &config, &"--discover"]);
    let rotated = site.sim.sim.current_refresh_token();
    assert_ne!(rotated, creds::INITIAL_REFRESH_TOKEN, "the token was spent");
    let text = std::fs::read_to_string(&config).unwrap();
    assert!(
        text.contains(&rotated),
        "the rotated refresh token is not in the config file, which still holds the spent one \
         (exit {}):\n{}",
        run.code,
        run.stderr
    );
    run.assert_success();
}

/// The same with `oauth_token_file`, a token file the user created with a BOM.
#[test]
fn a_token_file_with_a_byte_order_mark_keeps_its_rotated_refresh_token() {
    let site = Site::cloud();
    let token_file = site.dir.path().join("tokens.json");
    let mut bytes = b"\xEF\xBB\xBF".to_vec();
    bytes.extend(
        serde_json::to_vec(&json!({"refresh_token": creds::INITIAL_REFRESH_TOKEN})).unwrap(),
    );
    std::fs::write(&token_file, bytes).unwrap();
    let mut config = oauth_config(&site);
    config["oauth_token_file"] = json!(token_file);
    let config = site.file("config.json", &config);

    let run = tap(&[&"--config", &config, &"--discover"]);
    let rotated = site.sim.sim.current_refresh_token();
    assert_ne!(rotated, creds::INITIAL_REFRESH_TOKEN);
    let text = std::fs::read_to_string(&token_file).unwrap();
    assert!(
        text.contains(&rotated),
        "the rotated refresh token was lost (exit {}):\n{}",
        run.code,
        run.stderr
    );
    run.assert_success();
}

/// A personal access token with a trailing newline (pasted from `cat token.txt`, a secrets
/// file) is read trimmed: tokens hold no whitespace, and a header may not. (Untrimmed, the
/// request could not be built, and that was retried for 101 s as a connection failure.)
#[test]
fn a_personal_access_token_with_a_trailing_newline_is_not_retried_as_a_connection_failure() {
    let site = Site::server();
    let config = site.file(
        "config.json",
        &site.config_with(json!({
            "personal_access_token": format!("{}\n", creds::PAT),
            // Keeps the failing run short; the defaults take 101 s.
            "max_retries": 2,
        })),
    );
    let started = Instant::now();
    let run = tap(&[&"--config", &config, &"--discover"]);
    let took = started.elapsed();
    assert!(
        run.code == 0 || run.stderr.contains("personal_access_token"),
        "neither worked nor named the setting (took {took:?}):\n{}",
        run.stderr
    );
    assert!(
        !run.stderr.contains("retrying"),
        "a header that cannot be built was retried:\n{}",
        run.stderr
    );
    assert!(took < Duration::from_secs(5), "took {took:?}");
}

/// `api_token` is read trimmed like `email`: the same copy-paste newline made a valid API token
/// a 401.
#[test]
fn an_api_token_with_a_trailing_newline_is_trimmed_like_the_email() {
    let site = Site::cloud();
    let config = site.file(
        "config.json",
        &site.config_with(json!({"email": format!(" {} ", creds::EMAIL),
                                 "api_token": format!("{}\n", creds::API_TOKEN)})),
    );
    tap(&[&"--config", &config, &"--discover"]).assert_success();
}

/// README "Scaling out" runs one extraction per set of projects side by side (Meltano inherited
/// extractors, which share `oauth_token_file`). Both read the same refresh token at start; the
/// first refresh rotates it (Atlassian disables the one used), so each run takes its turn at the
/// token file and spends the token the last one saved.
#[test]
fn two_partitions_side_by_side_share_an_oauth_token_file() {
    let site = Site::new(jira_sim::SimConfig {
        latency_ms: 300,
        ..jira_sim::SimConfig::default()
    });
    let token_file = site.dir.path().join("tokens.json");
    let mut big = oauth_config(&site);
    big["oauth_token_file"] = json!(token_file);
    let mut rest = big.clone();
    big["projects"] = json!(["P1"]);
    rest["exclude_projects"] = json!(["P1"]);
    let big = site.file("big.json", &big);
    let rest = site.file("rest.json", &rest);
    let runs: Vec<common::Run> = std::thread::scope(|s| {
        let a = s.spawn(|| tap(&[&"--config", &big, &"--discover"]));
        let b = s.spawn(|| tap(&[&"--config", &rest, &"--discover"]));
        vec![a.join().unwrap(), b.join().unwrap()]
    });
    for run in &runs {
        run.assert_success();
    }
}

/// After a few refused passwords Jira Server/Data Center demands a CAPTCHA: every basic-auth
/// request, with the right password too, is answered 403 with `X-Seraph-LoginReason:
/// AUTHENTICATION_DENIED` and `X-Authentication-Denied-Reason: CAPTCHA_CHALLENGE;
/// login-url=…`. Nothing the tap can send lifts it, only a login in a browser: the error must
/// say so, and where, whether `deployment` is set or read from `/serverInfo` (refused alike).
#[test]
fn a_captcha_demanded_by_server_is_named_with_where_to_log_in() {
    for deployment in [None, Some("server")] {
        let site = Site::server();
        let login = format!("{}/login.jsp", site.sim.url.trim_end_matches('/'));
        site.sim.sim.push_fault(jira_sim::Fault {
            path_contains: "/rest/".into(),
            status: 403,
            body: String::new(),
            content_type: "text/html;charset=UTF-8".into(),
            headers: vec![
                (
                    "X-Seraph-LoginReason".into(),
                    "AUTHENTICATION_DENIED".into(),
                ),
                (
                    "X-Authentication-Denied-Reason".into(),
                    format!("CAPTCHA_CHALLENGE; login-url={login}"),
                ),
            ],
            times: 10,
        });
        let mut config = json!({"base_url": site.sim.url, "allow_http": true,
                                "username": creds::USERNAME, "password": creds::PASSWORD,
                                "start_date": "2000-01-01T00:00:00Z"});
        if let Some(deployment) = deployment {
            config["deployment"] = json!(deployment);
        }
        let run = discover_with(&site, config);
        assert_eq!(run.code, 1, "{deployment:?}: {}", run.stderr);
        assert!(
            run.stderr.contains("CAPTCHA") && run.stderr.contains(&login),
            "{deployment:?}: the error must say Jira demands a CAPTCHA and where to log in:\n{}",
            run.stderr
        );
        assert_eq!(
            site.sim.sim.requests().len(),
            1,
            "{deployment:?}: one refused request, not retried"
        );
    }
}

/// A run killed while saving the rotated token (a second Ctrl-C, an OOM kill) leaves the
/// temporary file it was writing beside the config. In a container the tap is pid 1 on every
/// run, so the next run has the same pid as the one killed: that leftover must not stop it.
#[test]
fn a_temp_file_left_by_a_killed_run_of_the_same_pid_does_not_stop_the_next() {
    let site = Site::cloud();
    let config = site.file("config.json", &oauth_config(&site));
    // `exec` keeps the shell's pid (`$$`): the tap runs as the pid whose leftover is there.
    let mut command = std::process::Command::new("sh");
    for name in tap_jira::client::PROXY_VARIABLES {
        command.env_remove(name);
    }
    let output = command
        .arg("-c")
        .arg(r#"printf '{"refresh_token": "half-writ' > "$1/.config.json.$$.tmp" && exec "$2" --config "$1/config.json" --discover"#)
        .arg("sh")
        .arg(site.dir.path())
        .arg(common::tap_binary())
        .env_remove("RUST_LOG")
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    let saved: Value = serde_json::from_str(&std::fs::read_to_string(&config).unwrap()).unwrap();
    assert_eq!(
        saved["refresh_token"],
        json!(site.sim.sim.current_refresh_token())
    );
}

/// A client's connection to a token endpoint in front of the simulator's, with what is written
/// to it kept back, to be sent as the endpoint chooses.
struct HeldBack {
    stream: std::net::TcpStream,
    answer: Vec<u8>,
}

impl std::io::Read for HeldBack {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.stream.read(buf)
    }
}

impl std::io::Write for HeldBack {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.answer.extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// A token endpoint in front of the simulator's: each request is passed on at once (the
/// simulator rotates the refresh token then), its answer held back for `delay`. `rotated` is
/// set once the simulator has answered.
fn slow_token_endpoint(site: &Site, delay: Duration, rotated: Arc<AtomicBool>) -> String {
    use std::io::Write;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let upstream = site.sim.url.trim_start_matches("http://").to_string();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let (upstream, rotated) = (upstream.clone(), Arc::clone(&rotated));
            std::thread::spawn(move || {
                let mut client = HeldBack {
                    stream,
                    answer: Vec::new(),
                };
                let head = jira_sim::proxy::Head::read(&mut client.stream)?;
                jira_sim::proxy::relay(&mut client, head, &upstream)?;
                rotated.store(true, Ordering::SeqCst);
                std::thread::sleep(delay);
                client.stream.write_all(&client.answer)
            });
        }
    });
    url
}

/// Meltano and schedulers stop a run with SIGTERM. One that arrives while a refresh is under
/// way, after the token endpoint rotated the refresh token but before its answer is in, must
/// not lose the new token: the old one no longer works, and the user would have to authorize
/// again. The refresh is let finish (within the grace period) and its token saved.
#[test]
fn sigterm_during_a_refresh_still_saves_the_rotated_refresh_token() {
    let site = Site::cloud();
    let rotated = Arc::new(AtomicBool::new(false));
    let endpoint = slow_token_endpoint(&site, Duration::from_secs(3), Arc::clone(&rotated));
    let mut config = oauth_config(&site);
    config["oauth_token_url"] = json!(format!("{endpoint}/oauth/token"));
    let config = site.file("config.json", &config);
    let mut command = std::process::Command::new(common::tap_binary());
    for name in tap_jira::client::PROXY_VARIABLES {
        command.env_remove(name);
    }
    let child = command
        .args([
            "--config".as_ref(),
            config.as_os_str(),
            "--discover".as_ref(),
        ])
        .env_remove("RUST_LOG")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while !rotated.load(Ordering::SeqCst) {
        assert!(started.elapsed() < Duration::from_secs(30), "no refresh");
        std::thread::sleep(Duration::from_millis(20));
    }
    // SAFETY: sends a signal to the child this test spawned.
    assert_eq!(
        unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGTERM) },
        0
    );
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(143), "{stderr}");
    let saved: Value = serde_json::from_str(&std::fs::read_to_string(&config).unwrap()).unwrap();
    assert_eq!(
        saved["refresh_token"],
        json!(site.sim.sim.current_refresh_token()),
        "the rotated refresh token is saved: {stderr}"
    );
}

/// A token endpoint in front of the simulator's whose first answer breaks off halfway (a proxy or
/// load balancer dropping the connection): the simulator has rotated the refresh token by then.
/// Atlassian takes the refresh token just spent again for a short while (its reuse window): the
/// next request is given the answer that broke off, whole; later ones are passed on.
fn token_endpoint_breaking_off_once(site: &Site) -> String {
    use std::io::Write;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let upstream = site.sim.url.trim_start_matches("http://").to_string();
    std::thread::spawn(move || {
        let mut broken: Option<Vec<u8>> = None;
        for (n, stream) in listener.incoming().flatten().enumerate() {
            let mut client = HeldBack {
                stream,
                answer: Vec::new(),
            };
            let Ok(head) = jira_sim::proxy::Head::read(&mut client.stream) else {
                continue;
            };
            match (n, broken.take()) {
                (0, _) => {
                    if jira_sim::proxy::relay(&mut client, head, &upstream).is_err() {
                        continue;
                    }
                    let answer = std::mem::take(&mut client.answer);
                    let end = answer.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
                    let half = end + (answer.len() - end) / 2;
                    let _ = client.stream.write_all(&answer[..half]);
                    broken = Some(answer);
                }
                (_, Some(answer)) => {
                    // The request's body is read (and dropped) before the answer.
                    let _ = jira_sim::proxy::relay(&mut client, head, &upstream);
                    let _ = client.stream.write_all(&answer);
                }
                (_, None) => {
                    if jira_sim::proxy::relay(&mut client, head, &upstream).is_ok() {
                        let _ = client.stream.write_all(&client.answer);
                    }
                }
            }
        }
    });
    url
}

/// A token answer that breaks off has already spent the refresh token, and carried the new one
/// the tap never read: the refresh failed at once ("unexpected answer … EOF while parsing"), the
/// sync with it, and the refresh token in the config was spent. A refresh that got no answer
/// is retried (within Atlassian's reuse window the spent token is taken again); one whose
/// answer broke off is retried the same way, and the token it gives saved.
#[test]
fn a_token_answer_that_breaks_off_is_retried_and_the_rotated_token_saved() {
    let site = Site::cloud();
    let endpoint = token_endpoint_breaking_off_once(&site);
    let mut config = oauth_config(&site);
    config["oauth_token_url"] = json!(format!("{endpoint}/oauth/token"));
    let config = site.file("config.json", &config);
    let run = tap(&[&"--config", &config, &"--discover"]);
    run.assert_success();
    let saved: Value = serde_json::from_str(&std::fs::read_to_string(&config).unwrap()).unwrap();
    assert_eq!(
        saved["refresh_token"],
        json!(site.sim.sim.current_refresh_token()),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains(creds::OAUTH_CLIENT_SECRET));
}

/// RFC 6749 makes `expires_in` a number, but some token endpoints send it as a string
/// (`"3600"`). The answer still carries the rotated refresh token, and the one sent is spent:
/// refused for a field the tap can do without, the new token was never saved and the user was
/// locked out.
#[test]
fn a_token_answer_with_expires_in_as_a_string_keeps_its_rotated_refresh_token() {
    let site = Site::new(SimConfig {
        expires_in_as_string: true,
        ..SimConfig::default()
    });
    let config = site.file("config.json", &oauth_config(&site));
    let run = tap(&[&"--config", &config, &"--discover"]);
    let rotated = site.sim.sim.current_refresh_token();
    assert_ne!(rotated, creds::INITIAL_REFRESH_TOKEN, "the token was spent");
    let saved: Value = serde_json::from_str(&std::fs::read_to_string(&config).unwrap()).unwrap();
    assert_eq!(
        saved["refresh_token"],
        json!(rotated),
        "the rotated refresh token was lost (exit {}):\n{}",
        run.code,
        run.stderr
    );
    run.assert_success();
}

/// A token file or config file that is a symbolic link (kept in a shared or managed directory,
/// linked into each project): the rotated refresh token is written to the file the link names,
/// and the link stays. Renamed over the link, it replaced the link with a file of its own and
/// left the spent token in the target, which the next run through another link was refused.
#[test]
fn a_symlinked_token_file_or_config_keeps_the_rotated_refresh_token_in_its_target() {
    for linked in ["oauth_token_file", "config"] {
        let site = Site::cloud();
        let shared = site.dir.path().join("shared");
        std::fs::create_dir(&shared).unwrap();
        let mut config = oauth_config(&site);
        let (link, target) = match linked {
            "oauth_token_file" => {
                let target = shared.join("tokens.json");
                let tokens = json!({"refresh_token": creds::INITIAL_REFRESH_TOKEN});
                std::fs::write(&target, tokens.to_string()).unwrap();
                let link = site.dir.path().join("tokens.json");
                config["oauth_token_file"] = json!(link);
                (link, target)
            }
            _ => {
                let target = shared.join("config.json");
                std::fs::write(&target, config.to_string()).unwrap();
                (site.dir.path().join("config.json"), target)
            }
        };
        // Relative, as `ln -s shared/tokens.json` makes it.
        let relative = target.strip_prefix(site.dir.path()).unwrap();
        std::os::unix::fs::symlink(relative, &link).unwrap();
        let config = match linked {
            "oauth_token_file" => site.file("config.json", &config),
            _ => link.clone(),
        };

        let run = tap(&[&"--config", &config, &"--discover"]);
        run.assert_success();
        let rotated = site.sim.sim.current_refresh_token();
        assert_ne!(
            rotated,
            creds::INITIAL_REFRESH_TOKEN,
            "{linked}: the token was spent"
        );
        let saved: Value =
            serde_json::from_str(&std::fs::read_to_string(&target).unwrap()).unwrap();
        assert_eq!(
            saved["refresh_token"],
            json!(rotated),
            "{linked}: the file the link names still holds the spent token:\n{}",
            run.stderr
        );
        assert!(
            std::fs::symlink_metadata(&link).unwrap().is_symlink(),
            "{linked}: the link was replaced by a file"
        );
        if linked == "config" {
            assert_eq!(
                saved["cloud_id"],
                json!(creds::CLOUD_ID),
                "the other keys are kept"
            );
        }
    }
}

/// A refresh token saved in `oauth_token_file` with a trailing newline (written by hand, `echo`,
/// a secrets tool) is read trimmed, as in the config: read untrimmed at start and trimmed before
/// the refresh, the two differed, and the log said another run had rotated the token.
#[test]
fn a_token_file_refresh_token_with_a_trailing_newline_is_not_taken_for_another_runs() {
    let site = Site::cloud();
    let token_file = site.file(
        "tokens.json",
        &json!({"refresh_token": format!("{}\n", creds::INITIAL_REFRESH_TOKEN)}),
    );
    let mut config = oauth_config(&site);
    config["oauth_token_file"] = json!(token_file);
    let run = discover_with(&site, config);
    run.assert_success();
    assert!(
        !run.stderr.contains("another run"),
        "no other run rotated the token:\n{}",
        run.stderr
    );
}

/// An access token that dies while requests are in flight, and a token endpoint that is down
/// (503 on every try): each refused request waited for the refresh under way, then, the token
/// still the old one, tried the refresh again itself, each with its own retries. The failing
/// endpoint was asked once per request in flight, the exit held back until every one had
/// given up. One refresh (with its retries) fails them all.
#[test]
fn a_refresh_that_fails_is_tried_once_not_once_per_request_in_flight() {
    let site = Site::new(SimConfig {
        latency_ms: 300,
        ..SimConfig::default()
    });
    let mut config = oauth_config(&site);
    config["page_size"] = json!(5);
    let config = site.file("config.json", &config);
    let run = std::thread::scope(|s| {
        let run = s.spawn(|| tap(&[&"--config", &config]));
        // Mid-run, with requests in flight: every access token dies, the endpoint goes down.
        wait_for_requests(&site, 12);
        site.sim.sim.push_fault(jira_sim::Fault {
            times: 1000,
            ..jira_sim::Fault::status("/oauth/token", 503)
        });
        site.sim.sim.expire_access_tokens();
        run.join().unwrap()
    });
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr.contains("OAuth token refresh failed") && run.stderr.contains("unavailable"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains(creds::OAUTH_CLIENT_SECRET));
    let refused = site
        .sim
        .sim
        .requests()
        .iter()
        .filter(|r| r.path == "/oauth/token" && r.status == 503)
        .count();
    assert_eq!(refused, 4, "one refresh and its retries: {}", run.stderr);
}

/// README: with `oauth_token_file` "the tap keeps the newest refresh token there (readable by
/// its owner only)". A token file written by hand (`echo … > tokens.json`, mode 644 under the
/// usual umask) kept its mode, so every rotated refresh token was readable by every user.
#[test]
fn a_token_file_written_by_hand_is_private_once_the_tap_rotates_its_token() {
    use std::os::unix::fs::PermissionsExt;
    let site = Site::cloud();
    let token_file = site.file(
        "tokens.json",
        &json!({"refresh_token": creds::INITIAL_REFRESH_TOKEN}),
    );
    std::fs::set_permissions(&token_file, std::fs::Permissions::from_mode(0o644)).unwrap();
    let mut config = oauth_config(&site);
    config["oauth_token_file"] = json!(token_file);
    discover_with(&site, config).assert_success();
    let saved: Value =
        serde_json::from_str(&std::fs::read_to_string(&token_file).unwrap()).unwrap();
    assert_eq!(
        saved["refresh_token"],
        json!(site.sim.sim.current_refresh_token())
    );
    let mode = std::fs::metadata(&token_file).unwrap().permissions().mode();
    assert_eq!(mode & 0o077, 0, "the token file is private: {mode:o}");
}

/// A token endpoint that is busy (429) says with `Retry-After` when to ask again: the refresh
/// asked again after its own second instead, early, and when the endpoint asked for more than the
/// 7 s of its three retries the run failed, though the endpoint would have answered in time.
#[test]
fn a_refresh_refused_with_retry_after_waits_as_told_then_succeeds() {
    let site = Site::cloud();
    site.sim.sim.push_fault(jira_sim::Fault {
        headers: vec![("Retry-After".into(), "3".into())],
        ..jira_sim::Fault::status("/oauth/token", 429)
    });
    let run = discover_with(&site, oauth_config(&site));
    run.assert_success();
    let asked: Vec<_> = site
        .sim
        .sim
        .requests()
        .into_iter()
        .filter(|r| r.path == "/oauth/token")
        .collect();
    assert!(
        asked.len() == 2 && asked[0].status == 429 && asked[1].status == 200,
        "{asked:?}"
    );
    let waited = asked[1].received - asked[0].received;
    assert!(
        waited >= Duration::from_millis(2500),
        "asked again after {waited:?}, not the 3 s Retry-After gave"
    );
}

/// A personal access token Jira refuses has most likely expired or been revoked (Data Center
/// tokens carry an expiry date): the message names the token and says so, whether or not the
/// config sets `deployment`, and does not send the user after a password or a CAPTCHA, which
/// a token never meets.
#[test]
fn a_refused_personal_access_token_is_named_and_said_to_have_maybe_expired() {
    for deployment in [None, Some("server")] {
        let site = Site::server();
        let mut config = site.server_config();
        config["personal_access_token"] = json!("expired-pat-value");
        if let Some(deployment) = deployment {
            config["deployment"] = json!(deployment);
        }
        let run = discover_with(&site, config);
        assert_eq!(run.code, 1, "{deployment:?}: {}", run.stderr);
        let failure = run
            .stderr
            .lines()
            .find(|l| l.contains("authentication failed: HTTP 401"))
            .unwrap_or_else(|| panic!("{deployment:?}: {}", run.stderr));
        assert!(
            failure.contains("personal_access_token") && failure.contains("expired"),
            "{deployment:?}: {failure}"
        );
        for elsewhere in ["password", "CAPTCHA", "api_token"] {
            assert!(!failure.contains(elsewhere), "{deployment:?}: {failure}");
        }
        assert!(!run.stderr.contains("expired-pat-value") && run.stdout.is_empty());
    }
}

/// `/myself` needs nothing but a login, so a 403 there is the site refusing these credentials
/// the API though it knows them (Data Center with basic auth turned off, an account without
/// access to Jira, a scoped token without its scopes): one line naming the method and what to
/// check, not a bare `HTTP 403`.
#[test]
fn a_403_on_myself_names_the_method_and_what_to_check() {
    /// A site, its config, what /myself answers, the method named, and what the line must say.
    type Case = (
        Site,
        fn(&Site) -> Value,
        &'static str,
        &'static str,
        &'static [&'static str],
    );
    let disabled = r#"{"message":"Basic Authentication has been disabled on this instance."}"#;
    let cases: [Case; 3] = [
        (
            Site::server(),
            |site| {
                json!({"base_url": site.sim.url, "allow_http": true, "username": creds::USERNAME,
                          "password": creds::PASSWORD, "start_date": "2000-01-01"})
            },
            disabled,
            "basic auth",
            &[
                "personal_access_token",
                "Basic Authentication has been disabled",
            ],
        ),
        (
            Site::server(),
            |site| site.server_config(),
            "",
            "personal access token",
            &["personal_access_token"],
        ),
        (
            Site::cloud(),
            scoped_config,
            r#"{"errorMessages":["You do not have permission to perform this operation."]}"#,
            "scoped API token",
            &["read:jira-user"],
        ),
    ];
    for (site, config, body, method, names) in cases {
        site.sim.sim.push_fault(jira_sim::Fault {
            path_contains: "/myself".into(),
            status: 403,
            body: body.into(),
            content_type: "application/json".into(),
            times: 10,
            ..jira_sim::Fault::default()
        });
        let run = discover_with(&site, config(&site));
        assert_eq!(run.code, 1, "{method}: {}", run.stderr);
        let errors: Vec<&str> = run.stderr.lines().filter(|l| l.contains("ERROR")).collect();
        assert_eq!(errors.len(), 1, "{method}: one line:\n{}", run.stderr);
        assert!(
            errors[0].contains("authentication failed: HTTP 403")
                && errors[0].contains(&format!("using {method}")),
            "{method}: {}",
            errors[0]
        );
        for name in names {
            assert!(errors[0].contains(name), "{method}: {name}: {}", errors[0]);
        }
        for secret in [creds::PASSWORD, creds::PAT, creds::SCOPED_API_TOKEN] {
            assert!(!run.stderr.contains(secret), "{method}: {}", run.stderr);
        }
    }
}

/// An OAuth 2.0 access token refused even fresh from a refresh is not a password or an API token
/// gone wrong: Cloud answers 401 `scope does not match` to a token without the scopes the tap
/// needs, and a token stands for the person who authorised it. The line names OAuth's own
/// settings (the scopes, authorising again), not the other methods' nor a CAPTCHA.
#[test]
fn an_oauth_token_refused_after_its_refresh_names_the_scopes_and_authorize() {
    /// A site, its config, and the method named.
    type Case = (Site, fn(&Site) -> Value, &'static str);
    let configs: [Case; 2] = [
        (Site::cloud(), oauth_config, "OAuth 2.0"),
        (
            Site::server(),
            data_center_oauth_config,
            "OAuth 2.0 (Data Center)",
        ),
    ];
    for (site, config, method) in configs {
        site.sim.sim.push_fault(jira_sim::Fault {
            path_contains: "/myself".into(),
            status: 401,
            body: r#"{"code":401,"message":"Unauthorized; scope does not match"}"#.into(),
            content_type: "application/json".into(),
            times: 10,
            ..jira_sim::Fault::default()
        });
        let run = discover_with(&site, config(&site));
        assert_eq!(run.code, 1, "{method}: {}", run.stderr);
        let errors: Vec<&str> = run.stderr.lines().filter(|l| l.contains("ERROR")).collect();
        assert_eq!(errors.len(), 1, "{method}: one line:\n{}", run.stderr);
        let line = errors[0];
        assert!(
            line.contains("authentication failed: HTTP 401")
                && line.contains(&format!("using {method};")),
            "{method}: {line}"
        );
        for says in ["oauth_scopes", "tap-jira authorize"] {
            assert!(line.contains(says), "{method}: {says}: {line}");
        }
        for elsewhere in ["personal_access_token", "password", "CAPTCHA", "api_token"] {
            assert!(!line.contains(elsewhere), "{method}: {elsewhere}: {line}");
        }
        assert!(!run.stderr.contains(creds::OAUTH_CLIENT_SECRET));
    }
}

/// A wrong password on Server/Data Center is refused on `/serverInfo` too, before the tap knows
/// the deployment: the line names the settings to fix (`username`, `password`) and the CAPTCHA
/// that more failed logins bring, not every method of every deployment.
#[test]
fn a_wrong_password_on_server_names_username_and_password() {
    let site = Site::server();
    let config = json!({"base_url": site.sim.url, "allow_http": true, "username": creds::USERNAME,
                        "password": "wrong-password-value", "start_date": "2000-01-01"});
    let run = discover_with(&site, config);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let errors: Vec<&str> = run.stderr.lines().filter(|l| l.contains("ERROR")).collect();
    assert_eq!(errors.len(), 1, "one line:\n{}", run.stderr);
    let line = errors[0];
    assert!(
        line.contains("authentication failed: HTTP 401") && line.contains("serverInfo"),
        "{line}"
    );
    let hint = line
        .split_once("(username + password); ")
        .map_or("", |(_, hint)| hint);
    for says in ["check username and password", "CAPTCHA"] {
        assert!(hint.contains(says), "{says}: {line}");
    }
    assert!(!hint.contains("personal_access_token or"), "{line}");
    assert!(!run.stderr.contains("wrong-password-value") && run.stdout.is_empty());
    assert_eq!(
        site.sim.sim.requests().len(),
        1,
        "one failed login, not retried"
    );
}

/// A token answer whose `expires_in` is 0 (some servers' "not said"), negative or a second:
/// the token is used until Jira refuses it, not refreshed before every request.
#[test]
fn an_expires_in_of_zero_or_less_does_not_refresh_before_every_request() {
    for reported in [0, -30, 1] {
        let site = Site::new(SimConfig {
            expires_in_reported: Some(reported),
            latency_ms: 100,
            ..SimConfig::default()
        });
        let mut config = oauth_config(&site);
        config["page_size"] = json!(5);
        let config = site.file("config.json", &config);
        let run = tap(&[&"--config", &config]);
        run.assert_success();
        let requests = site.sim.sim.requests();
        let refreshes = requests.iter().filter(|r| r.path == "/oauth/token").count();
        let api = requests.len() - refreshes;
        assert!(api > 10, "{reported}: a sync of several requests: {api}");
        assert_eq!(refreshes, 1, "{reported}: one refresh for {api} requests");
        let saved: Value =
            serde_json::from_str(&std::fs::read_to_string(&config).unwrap()).unwrap();
        assert_eq!(
            saved["refresh_token"],
            json!(site.sim.sim.current_refresh_token()),
            "{reported}"
        );
    }
}

/// Cloud's gateway refusing every access token mid-run (its 401 `Client must be authenticated`;
/// a `scope does not match` refuses one endpoint, not the token, and is not refreshed): the first 401
/// refreshes once, and a request refused again with the new token, even one that started after
/// the refresh, stops the run with the line for a token refused though just refreshed, not with
/// another refresh.
#[test]
fn a_token_refused_again_after_its_refresh_is_not_refreshed_again() {
    let site = Site::new(SimConfig {
        latency_ms: 300,
        ..SimConfig::default()
    });
    let mut config = oauth_config(&site);
    config["page_size"] = json!(5);
    config["max_concurrency"] = json!(1);
    let config = site.file("config.json", &config);
    let run = std::thread::scope(|s| {
        let run = s.spawn(|| tap(&[&"--config", &config]));
        // Mid-run, with requests in flight: every access token is refused from now on.
        wait_for_requests(&site, 12);
        site.sim.sim.push_fault(jira_sim::Fault {
            path_contains: "/ex/jira/".into(),
            status: 401,
            body: r#"{"message":"Client must be authenticated to access this resource.","status-code":401}"#.into(),
            content_type: "application/json".into(),
            times: 1000,
            ..jira_sim::Fault::default()
        });
        run.join().unwrap()
    });
    assert_eq!(run.code, 1, "{}", run.stderr);
    let errors: Vec<&str> = run.stderr.lines().filter(|l| l.contains("ERROR")).collect();
    assert_eq!(errors.len(), 1, "one line:\n{}", run.stderr);
    assert!(
        errors[0].contains("authentication failed: HTTP 401")
            && errors[0].contains("refused though just refreshed"),
        "{}",
        errors[0]
    );
    let requests = site.sim.sim.requests();
    let refused = requests.iter().position(|r| r.status == 401).unwrap();
    let refreshes = requests[refused..]
        .iter()
        .filter(|r| r.path == "/oauth/token")
        .count();
    assert_eq!(
        refreshes, 1,
        "one refresh after the first refusal: {}",
        run.stderr
    );
    assert!(!run.stderr.contains(creds::OAUTH_CLIENT_SECRET));
}

/// Waits until the simulator has had `n` requests (a run under way), a minute at most.
fn wait_for_requests(site: &Site, n: usize) {
    let started = Instant::now();
    while site.sim.sim.requests().len() < n {
        assert!(started.elapsed() < Duration::from_secs(60), "no requests");
        std::thread::sleep(Duration::from_millis(10));
    }
}
