//! Ways of reaching the site: Azure Data Factory's host and port, and the settings each auth
//! method needs, checked before any request.

mod common;

use common::{Site, tap};
use jira_sim::{AuthSeen, creds};
use serde_json::json;

/// The simulator's `127.0.0.1` and port, as Azure Data Factory's keys.
fn host_and_port(site: &Site) -> (String, u16) {
    let url = url::Url::parse(&site.sim.url).unwrap();
    (url.host_str().unwrap().to_string(), url.port().unwrap())
}

#[test]
fn host_port_and_unencrypted_endpoints_reach_the_site_named_once_in_the_log() {
    let site = Site::server();
    let (host, port) = host_and_port(&site);
    let config = json!({"host": host, "port": port, "use_encrypted_endpoints": false,
        "allow_http": true, "personal_access_token": creds::PAT});
    let config = site.file("config.json", &config);
    let run = tap(&[&"--config", &config, &"--discover"]);
    run.assert_success();
    let expected = format!("{}/", site.sim.url);
    let named: Vec<&str> = run
        .stderr
        .lines()
        .filter(|l| l.contains("connecting to Jira"))
        .collect();
    assert_eq!(named.len(), 1, "{}", run.stderr);
    assert!(named[0].contains(&expected), "{}", named[0]);
    let requests = site.sim.sim.requests();
    assert!(!requests.is_empty());
    assert!(requests.iter().all(|r| r.auth == AuthSeen::BearerPat));
}

#[test]
fn unencrypted_endpoints_without_allow_http_are_refused_before_any_request() {
    let site = Site::server();
    let (host, port) = host_and_port(&site);
    let config = json!({"host": host, "port": port, "use_encrypted_endpoints": false,
        "personal_access_token": creds::PAT});
    let config = site.file("config.json", &config);
    let run = tap(&[&"--config", &config, &"--discover"]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr
            .contains("config `use_encrypted_endpoints`: is false"),
        "{}",
        run.stderr
    );
    assert!(site.sim.sim.requests().is_empty());
}

/// Each missing setting is named on a line of its own, and nothing is sent.
#[test]
fn every_missing_setting_of_the_chosen_method_is_named_before_any_request() {
    let site = Site::cloud();
    for (config, missing) in [
        (
            json!({"auth_type": "api_token", "port": 443}),
            &[
                "`base_url`: is required for API token auth",
                "`email`",
                "`api_token`",
            ][..],
        ),
        (
            json!({"auth_type": "pat", "host": "jira.example.com"}),
            &["`personal_access_token`: is required for personal access token auth"],
        ),
        (
            json!({"auth_type": "basic", "base_url": site.sim.url, "allow_http": true,
                   "username": "u"}),
            &["`password`: is required for basic auth"],
        ),
        (
            json!({"auth_type": "oauth2", "oauth_client_id": "id"}),
            &["`oauth_client_secret`", "`refresh_token`", "`cloud_id`"],
        ),
    ] {
        let path = site.file("config.json", &config);
        let run = tap(&[&"--config", &path, &"--discover"]);
        assert_eq!(run.code, 1, "{config}");
        for says in missing {
            assert!(
                run.stderr
                    .lines()
                    .any(|l| l.contains("ERROR") && l.contains(&format!("config {says}"))),
                "{config}: {says}\n{}",
                run.stderr
            );
        }
    }
    assert!(site.sim.sim.requests().is_empty());
}
