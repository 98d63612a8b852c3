//! Mistakes a user can make, and what Jira can throw at the tap: one clear line, the right exit.

mod common;

use common::{Site, assert_valid_singer_output, tap};
use jira_sim::Fault;
use serde_json::{Value, json};

fn error_lines(run: &common::Run) -> Vec<&str> {
    run.stderr.lines().filter(|l| l.contains("ERROR")).collect()
}

#[test]
fn config_mistakes_each_give_their_message() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, text: &str| {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        path
    };
    let bad_pem = write(
        "bad-ca.pem",
        "-----BEGIN CERTIFICATE-----\nMIIBAAAA\n-----END CERTIFICATE-----\n",
    );
    let bad_ca = json!({"base_url": "https://x.atlassian.net", "email": "a",
                        "api_token": "SECRET-TOKEN-1", "ca_bundle": bad_pem});
    let cases = [
        (
            write("bad-ca.json", &bad_ca.to_string()),
            "config `ca_bundle`: certificate 1 of",
        ),
        (write("empty.json", ""), "is empty"),
        (write("broken.json", "{\"base_url\": "), "is not valid JSON"),
        (write("list.json", "[]"), "must hold a JSON object"),
        (
            write(
                "no-url.json",
                r#"{"email": "a@b.c", "api_token": "SECRET-TOKEN-1"}"#,
            ),
            "config `base_url`: is required",
        ),
        (
            write(
                "http.json",
                r#"{"host": "jira.example.com", "use_encrypted_endpoints": false, "personal_access_token": "SECRET-TOKEN-1"}"#,
            ),
            "allow_http",
        ),
        (
            write(
                "bad-url.json",
                r#"{"base_url": "https://jira example.com", "personal_access_token": "SECRET-TOKEN-1"}"#,
            ),
            "is not a URL",
        ),
        (
            write("no-auth.json", r#"{"base_url": "https://x.atlassian.net"}"#),
            "no credentials found",
        ),
        (
            write(
                "half-oauth.json",
                r#"{"oauth_client_id": "x", "refresh_token": "SECRET-TOKEN-1"}"#,
            ),
            "config `oauth_client_secret`: is required",
        ),
        (
            write(
                "pat-cloud.json",
                r#"{"base_url": "https://x.atlassian.net", "deployment": "cloud", "personal_access_token": "SECRET-TOKEN-1"}"#,
            ),
            "Cloud refuses it",
        ),
        (
            write(
                "timeout.json",
                r#"{"base_url": "https://x.atlassian.net", "email": "a", "api_token": "SECRET-TOKEN-1", "request_timeout": "soon"}"#,
            ),
            "config `request_timeout`",
        ),
        (
            write(
                "ca.json",
                r#"{"base_url": "https://jira.example.com", "personal_access_token": "SECRET-TOKEN-1", "ca_bundle": "/no/such/ca.pem"}"#,
            ),
            "config `ca_bundle`: /no/such/ca.pem is not a readable file",
        ),
        (
            write(
                "auth-type.json",
                r#"{"base_url": "https://jira.example.com", "auth_type": "kerberos", "password": "SECRET-TOKEN-1"}"#,
            ),
            "config `auth_type`: `kerberos` is not known",
        ),
        (
            write(
                "concurrency.json",
                r#"{"base_url": "https://x.atlassian.net", "email": "a", "api_token": "SECRET-TOKEN-1", "max_concurrency": 0}"#,
            ),
            "config `max_concurrency`: 0 is out of range",
        ),
        (
            write(
                "retries.json",
                r#"{"base_url": "https://x.atlassian.net", "email": "a", "api_token": "SECRET-TOKEN-1", "max_retries": 1000}"#,
            ),
            "config `max_retries`: 1000 is out of range",
        ),
        (
            write(
                "lookback.json",
                r#"{"base_url": "https://x.atlassian.net", "email": "a", "api_token": "SECRET-TOKEN-1", "lookback_minutes": 18446744073709551615}"#,
            ),
            "config `lookback_minutes`: 18446744073709551615 is out of range",
        ),
        (
            write(
                "rate.json",
                r#"{"base_url": "https://x.atlassian.net", "email": "a", "api_token": "SECRET-TOKEN-1", "max_requests_per_second": -2}"#,
            ),
            "config `max_requests_per_second`: must be at least 0.01",
        ),
        (
            write(
                "rate-tiny.json",
                r#"{"base_url": "https://x.atlassian.net", "email": "a", "api_token": "SECRET-TOKEN-1", "max_requests_per_second": 1e-300}"#,
            ),
            "config `max_requests_per_second`: must be at least 0.01",
        ),
        (
            write(
                "progress.json",
                r#"{"base_url": "https://x.atlassian.net", "email": "a", "api_token": "SECRET-TOKEN-1", "progress_interval_seconds": 18446744073709551615}"#,
            ),
            "config `progress_interval_seconds`: 18446744073709551615 is more than a day",
        ),
        (
            write(
                "user-agent.json",
                r#"{"base_url": "https://x.atlassian.net", "email": "a", "api_token": "SECRET-TOKEN-1", "user_agent": "a\nb"}"#,
            ),
            "config `user_agent`: is not a valid HTTP header value",
        ),
        (
            write(
                "rate-text.json",
                r#"{"base_url": "https://x.atlassian.net", "email": "a", "api_token": "SECRET-TOKEN-1", "max_requests_per_second": "fast"}"#,
            ),
            "config `max_requests_per_second`: must be a number",
        ),
    ];
    for (path, expected) in &cases {
        let run = tap(&[&"--config", path, &"--discover"]);
        assert_eq!(run.code, 1, "{expected}: {}", run.stderr);
        assert!(
            run.stderr.contains(expected),
            "expected `{expected}` in:\n{}",
            run.stderr
        );
        assert!(
            !run.stderr.contains("SECRET-TOKEN-1"),
            "a secret leaked:\n{}",
            run.stderr
        );
        assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
        assert!(run.stdout.is_empty());
    }
    let missing = tap(&[&"--config", &dir.path().join("nope.json"), &"--discover"]);
    assert_eq!(missing.code, 1);
    assert!(missing.stderr.contains("cannot be read"));
    let none = tap(&[&"--discover"]);
    assert_eq!(none.code, 1);
    assert!(none.stderr.contains("no config file given"));
}

/// A value quoted in a config problem may hold a line break (pasted from elsewhere): each problem
/// is still one line, starting with the setting it names.
#[test]
fn config_values_with_line_breaks_are_one_line_per_problem() {
    let site = Site::cloud();
    let mut config = site.cloud_config();
    config["start_date"] = json!("2024-01-01\nT00:00:00Z");
    config["request_timeout"] = json!("30\r\nseconds");
    let config = site.file("config.json", &config);
    let run = tap(&[&"--config", &config, &"--discover"]);
    assert_eq!(run.code, 1);
    assert!(run.stdout.is_empty(), "{}", run.stdout);
    let errors = error_lines(&run);
    assert_eq!(errors.len(), 2, "a line per problem:\n{}", run.stderr);
    assert!(
        errors.iter().all(|l| l.contains("config `")),
        "{}",
        run.stderr
    );
    assert_eq!(
        run.stderr.lines().count(),
        errors.len(),
        "no line without ERROR:\n{}",
        run.stderr
    );
}

#[test]
fn later_config_files_override_earlier_ones_and_unknown_keys_warn() {
    let site = Site::cloud();
    let mut base = site.cloud_config();
    base["api_token"] = json!("wrong");
    let base = site.file("base.json", &base);
    let secrets = site.file(
        "secrets.json",
        &json!({"api_token": jira_sim::creds::API_TOKEN, "colour": "blue"}),
    );
    let run = tap(&[&"--config", &base, &"--config", &secrets, &"--discover"]);
    run.assert_success();
    assert!(
        run.stderr.contains("colour"),
        "unknown key named in a warning"
    );
}

#[test]
fn bad_catalog_and_state_files_are_refused_before_any_request() {
    let site = Site::cloud();
    let config = site.file("config.json", &site.cloud_config());
    let catalog = site.file(
        "catalog.json",
        &json!({"streams": [{"tap_stream_id": "issues"}]}),
    );
    let run = tap(&[&"--config", &config, &"--catalog", &catalog]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("catalog: stream #1 (issues)"),
        "{}",
        run.stderr
    );
    let catalog = site.file("catalog2.json", &site.discover(&config));
    site.sim.sim.reset_requests();
    let state = site.file(
        "state.json",
        &json!({"bookmarks": {"issues": {"updated": "last tuesday"}}}),
    );
    let run = tap(&[
        &"--config",
        &config,
        &"--catalog",
        &catalog,
        &"--state",
        &state,
    ]);
    assert_eq!(run.code, 1);
    assert!(
        site.sim.sim.requests().is_empty(),
        "refused before any request"
    );
    assert!(
        run.stderr.contains("state: bookmarks.issues.updated"),
        "{}",
        run.stderr
    );
    assert_eq!(
        error_lines(&run).len(),
        1,
        "one clear line:\n{}",
        run.stderr
    );
    // Every incremental stream's bookmark is checked up front, not only the first one synced.
    let state = site.file(
        "state2.json",
        &json!({"bookmarks": {"issues": {"updated": "2024-01-01T00:00:00Z"}, "worklogs": {"updated": 17}}}),
    );
    let run = tap(&[
        &"--config",
        &config,
        &"--catalog",
        &catalog,
        &"--state",
        &state,
    ]);
    assert_eq!(run.code, 1);
    assert!(
        site.sim.sim.requests().is_empty(),
        "refused before any request"
    );
    assert!(
        run.stderr.contains("state: bookmarks.worklogs"),
        "{}",
        run.stderr
    );
}

/// Runners pass `--state` to every invocation; discovery reads no bookmarks, so no state file,
/// however broken, stops it.
#[test]
fn discovery_ignores_the_state_file() {
    let site = Site::cloud();
    let config = site.file("config.json", &site.cloud_config());
    let dir = site.dir.path();
    std::fs::write(dir.join("not-json.json"), "not json").unwrap();
    let wrong_shape = site.file("wrong-shape.json", &json!({"bookmarks": 5}));
    for state in [
        dir.join("not-json.json"),
        wrong_shape,
        dir.join("missing.json"),
    ] {
        let run = tap(&[&"--config", &config, &"--discover", &"--state", &state]);
        run.assert_success();
        let catalog: Value = serde_json::from_str(&run.stdout).expect("one JSON catalog");
        assert!(catalog["streams"].as_array().is_some_and(|s| !s.is_empty()));
        assert!(error_lines(&run).is_empty(), "{}", run.stderr);
    }
}

#[test]
fn rate_limits_and_server_errors_are_retried() {
    let site = Site::cloud();
    let config = site.file("config.json", &site.cloud_config());
    let catalog = site.file("catalog.json", &site.discover(&config));
    site.sim.sim.push_fault(Fault {
        path_contains: "/search/jql".into(),
        status: 429,
        body: r#"{"errorMessages":["Rate limit exceeded."],"status":429}"#.into(),
        content_type: "application/json".into(),
        headers: vec![("Retry-After".into(), "1".into())],
        times: 2,
    });
    site.sim.sim.push_fault(Fault {
        path_contains: "/project/search".into(),
        status: 503,
        body: "<html>busy</html>".into(),
        content_type: "text/html".into(),
        headers: vec![],
        times: 1,
    });
    let started = std::time::Instant::now();
    let run = tap(&[&"--config", &config, &"--catalog", &catalog]);
    run.assert_success();
    assert_valid_singer_output(&run);
    assert_eq!(run.records("issues").len(), site.sim.sim.issue_count());
    // The two refusals may meet two searches running together: each waits its one second.
    assert!(
        started.elapsed() >= std::time::Duration::from_secs(1),
        "Retry-After was honoured"
    );
    assert!(run.stderr.contains("HTTP 429"), "{}", run.stderr);
}

#[test]
fn a_forbidden_stream_is_skipped_and_the_sync_goes_on() {
    let site = Site::cloud();
    let config = site.file("config.json", &site.cloud_config());
    let catalog = site.file("catalog.json", &site.discover(&config));
    site.sim.sim.push_fault(Fault {
        path_contains: "/users/search".into(),
        status: 403,
        body: r#"{"errorMessages":["You do not have permission to browse users."],"errors":{}}"#
            .into(),
        content_type: "application/json".into(),
        headers: vec![],
        times: 1,
    });
    let run = tap(&[&"--config", &config, &"--catalog", &catalog]);
    run.assert_success();
    assert_valid_singer_output(&run);
    assert_eq!(run.records("users").len(), 0);
    assert_eq!(run.records("issues").len(), site.sim.sim.issue_count());
    assert!(
        run.stderr.contains("permission to browse users"),
        "{}",
        run.stderr
    );
}

/// Jira's error messages may span lines (a stack trace, a JQL error with its context): the
/// error is still one line on stderr.
#[test]
fn an_error_message_with_line_breaks_is_one_line() {
    let site = Site::cloud();
    let config = site.file("config.json", &site.cloud_config());
    site.sim.sim.push_fault(Fault {
        path_contains: "/serverInfo".into(),
        status: 400,
        body: r#"{"errorMessages":["Bad request:\nthe second line\r\nand a third"],"errors":{}}"#
            .into(),
        content_type: "application/json".into(),
        headers: vec![],
        times: 1,
    });
    let run = tap(&[&"--config", &config, &"--discover"]);
    assert_eq!(run.code, 1);
    assert!(run.stdout.is_empty(), "{}", run.stdout);
    assert_eq!(
        error_lines(&run).len(),
        1,
        "one clear line:\n{}",
        run.stderr
    );
    assert!(
        error_lines(&run)[0].contains("Bad request: the second line and a third"),
        "{}",
        run.stderr
    );
}

#[test]
fn an_html_login_page_is_a_clear_error_not_a_parse_panic() {
    let site = Site::server();
    let config = site.file("config.json", &site.server_config());
    site.sim.sim.push_fault(Fault {
        path_contains: "/serverInfo".into(),
        status: 200,
        body: "<html><head><title>Log in - Jira</title></head><body>login</body></html>".into(),
        content_type: "text/html;charset=UTF-8".into(),
        headers: vec![],
        times: 1,
    });
    let run = tap(&[&"--config", &config, &"--discover"]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("where JSON was expected"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("panicked"));
}

#[test]
fn about_works_with_any_flags_meltano_passes() {
    let run = tap(&[
        &"--about",
        &"--format",
        &"json",
        &"--config",
        &"does-not-matter.json",
    ]);
    run.assert_success();
    let about: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(about["name"], "tap-jira");
    assert!(
        about["capabilities"]
            .as_array()
            .unwrap()
            .contains(&json!("discover"))
    );
    assert_eq!(
        about["settings"]["properties"]["api_token"]["secret"],
        json!(true)
    );
    let markdown = tap(&[&"--format=markdown", &"--about"]);
    assert!(markdown.stdout.contains("| `base_url` |"));
}

#[test]
fn a_target_that_stops_reading_is_not_a_failure() {
    use std::io::{BufRead, BufReader};
    let site = Site::new(jira_sim::SimConfig {
        issues_per_project: 400,
        ..Default::default()
    });
    let config = site.file("config.json", &site.cloud_config());
    let mut child = std::process::Command::new(common::tap_binary())
        .args(["--config".as_ref(), config.as_os_str()])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    stdout.read_line(&mut first).unwrap();
    assert!(first.contains("\"type\""));
    drop(stdout);
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn a_redirect_is_not_followed_and_says_where_to_point_base_url() {
    let site = Site::server();
    let config = site.file("config.json", &site.server_config());
    site.sim.sim.push_fault(Fault {
        path_contains: "/serverInfo".into(),
        status: 301,
        body: String::new(),
        content_type: "text/html".into(),
        headers: vec![(
            "Location".into(),
            "https://jira.example.com/jira/rest/api/2/serverInfo".into(),
        )],
        times: 1,
    });
    let run = tap(&[&"--config", &config, &"--discover"]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr
            .contains("redirected to https://jira.example.com/jira/rest/api/2/serverInfo"),
        "{}",
        run.stderr
    );
    assert_eq!(
        site.sim.sim.requests().len(),
        1,
        "the redirect was not followed"
    );
}

#[test]
fn a_wrong_deployment_or_context_path_is_a_clear_error_not_an_empty_success() {
    let site = Site::server();
    site.expect_unserved_paths();
    let mut config = site.server_config();
    config["deployment"] = json!("cloud");
    config["personal_access_token"] = json!(null);
    config["username"] = json!(jira_sim::creds::USERNAME);
    config["password"] = json!(jira_sim::creds::PASSWORD);
    let config = site.file("config.json", &config);
    let run = tap(&[&"--config", &config]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr.contains("/rest/api/3/myself does not exist"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("context path"), "{}", run.stderr);
}

/// The Server config the README shows has no `deployment`: the first request is `/serverInfo`,
/// and a wrong context path (`/jira` where Jira has none, or none where it has one) is a 404
/// there. It must say to check base_url's context path, as a 404 on `/myself` does, not leave
/// the user with Jira's bare "null for uri".
#[test]
fn a_wrong_context_path_without_a_deployment_setting_is_a_clear_error() {
    let site = Site::server();
    site.expect_unserved_paths();
    let mut config = site.server_config();
    config["base_url"] = json!(format!("{}/jira", site.sim.url.trim_end_matches('/')));
    let config = site.file("config.json", &config);
    let run = tap(&[&"--config", &config, &"--discover"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("/jira/rest/api/2/serverInfo does not exist"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("context path"), "{}", run.stderr);
}

#[test]
fn a_missing_stream_is_skipped_but_a_run_where_every_stream_is_refused_fails() {
    let site = Site::cloud();
    let config = site.file("config.json", &site.cloud_config());
    let catalog = site.file("catalog.json", &site.discover(&config));
    // `/field` is read twice: to compare with the catalog (schema drift), and as a stream.
    site.sim
        .sim
        .push_fault(Fault::status("/rest/api/3/field$", 404).times(2));
    let run = tap(&[&"--config", &config, &"--catalog", &catalog]);
    run.assert_success();
    assert_eq!(run.records("fields").len(), 0);
    assert_eq!(run.records("issues").len(), site.sim.sim.issue_count());

    // Only the streams these paths feed are selected; every one of them is refused.
    let mut narrow: Value =
        serde_json::from_str(&std::fs::read_to_string(&catalog).unwrap()).unwrap();
    for stream in narrow["streams"].as_array_mut().unwrap() {
        let keep = ["projects", "fields", "users", "issues"]
            .contains(&stream["tap_stream_id"].as_str().unwrap());
        stream["metadata"][0]["metadata"]["selected"] = json!(keep);
    }
    let catalog = site.file("narrow.json", &narrow);
    // The project list is read twice: by the issue search, to partition it, and as a stream.
    site.sim
        .sim
        .push_fault(Fault::status("/project/search", 403).times(2));
    site.sim
        .sim
        .push_fault(Fault::status("/rest/api/3/field$", 403).times(2));
    for path in ["/users/search", "/search/jql"] {
        site.sim.sim.push_fault(Fault::status(path, 403));
    }
    let run = tap(&[&"--config", &config, &"--catalog", &catalog]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr.contains("every selected stream was refused"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_run_that_fails_mid_stream_still_ends_with_a_state_after_its_last_record() {
    let site = Site::cloud();
    // One request at a time, so the first project's versions come before the second's refusal
    // (read together, the refusal could come first and end the stream before any version).
    let config = site.file(
        "config.json",
        &site.config_with(json!({"max_concurrency": 1})),
    );
    let mut catalog = site.discover(&config);
    common::select_only(&mut catalog, &["projects", "versions"]);
    let catalog = site.file("catalog.json", &catalog);
    // The second project's versions are refused with an error that is not retried, after the
    // first project's were written.
    site.sim
        .sim
        .push_fault(Fault::status("/project/10001/version", 400).times(10));
    let run = tap(&[&"--config", &config, &"--catalog", &catalog]);
    assert_ne!(run.code, 0, "{}", run.stderr);
    assert!(
        !run.records("versions").is_empty(),
        "the first project's versions were written"
    );
    let last = run.messages().last().expect("the run wrote messages");
    assert_eq!(
        last["type"], "STATE",
        "a failed run ends with a STATE after its last RECORD; its last message: {last}"
    );
}

/// RFC 9110 lets `Retry-After` be an HTTP date in any of its three forms, and a recipient must
/// read all three. Only the first (`Sun, 06 Nov 1994 08:49:37 GMT`) was read: a 429 dated in the
/// obsolete RFC 850 form was retried at the tap's own backoff (half a second), before the time
/// the server gave.
#[test]
fn a_retry_after_date_in_the_rfc_850_form_is_waited_for() {
    let site = Site::cloud();
    let config = site.file("config.json", &site.cloud_config());
    // Whole seconds: three to four ahead, two or more by the time the request comes.
    let at = chrono::Utc::now() + chrono::Duration::seconds(4);
    site.sim.sim.push_fault(Fault {
        headers: vec![(
            "Retry-After".into(),
            at.format("%A, %d-%b-%y %H:%M:%S GMT").to_string(),
        )],
        ..Fault::status("/myself", 429)
    });
    let run = tap(&[&"--config", &config, &"--discover"]);
    run.assert_success();
    let asked: Vec<_> = site
        .sim
        .sim
        .requests()
        .into_iter()
        .filter(|r| r.path.ends_with("/myself"))
        .collect();
    assert!(asked.len() >= 2 && asked[0].status == 429, "{asked:?}");
    let waited = asked[1].received - asked[0].received;
    assert!(
        waited >= std::time::Duration::from_millis(1500),
        "retried after {waited:?}, not at the time Retry-After gave"
    );
}
