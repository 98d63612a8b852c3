//! Ways of reaching the site: Azure Data Factory's host and port, the settings each auth method
//! needs (checked before any request), proxies, mutual TLS, compressed answers, and the first
//! requests of a run.

mod common;

use std::time::{Duration, Instant};

use common::tls::{mtls, mutual_tls_front};
use common::{Site, tap, tap_with_env};
use jira_sim::{AuthSeen, Deployment, Fault, SimConfig, creds, spawn_proxy};
use serde_json::{Value, json};

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

#[test]
fn a_proxy_sees_every_request_when_configured_and_none_when_no_proxy_matches() {
    let site = Site::server();
    let proxy = spawn_proxy();
    let config = site.file("config.json", &site.server_config());
    let discover = |config: &std::path::Path, env: &[(&str, &str)]| {
        site.sim.sim.reset_requests();
        let before = proxy.requests().len();
        let run = tap_with_env(&[&"--config", &config, &"--discover"], env);
        run.assert_success();
        let served = site.sim.sim.requests();
        assert!(!served.is_empty());
        (run, proxy.requests()[before..].to_vec(), served)
    };
    let site_root = format!("{}/rest/", site.sim.url);

    // From the environment: every request goes through the proxy, in absolute form.
    let (run, proxied, served) = discover(&config, &[("HTTP_PROXY", &proxy.url)]);
    // Requests sent together may reach the proxy and the site in different orders.
    let mut lines: Vec<&str> = proxied.iter().map(|r| r.line.as_str()).collect();
    lines.sort_unstable();
    let mut expected: Vec<String> = served
        .iter()
        .map(|answered| {
            format!("{} {}{}", answered.method, site.sim.url, answered.path)
                + &if answered.query.is_empty() {
                    String::new()
                } else {
                    format!("?{}", answered.query)
                }
        })
        .collect();
    expected.sort_unstable();
    assert_eq!(lines, expected);
    for request in &proxied {
        assert!(request.line.contains(&site_root), "{}", request.line);
        assert_eq!(request.credentials, None);
    }
    assert!(
        run.stderr.contains(&format!("proxy={}/", proxy.url)) && run.stderr.contains("HTTP_PROXY"),
        "the log names the proxy: {}",
        run.stderr
    );

    // NO_PROXY naming the site: straight there.
    let (_, proxied, _) = discover(
        &config,
        &[("HTTP_PROXY", &proxy.url), ("NO_PROXY", "127.0.0.1")],
    );
    assert!(proxied.is_empty(), "{proxied:?}");

    // `proxy_url` with credentials: sent to the proxy, never printed.
    let with_credentials = proxy
        .url
        .replace("http://", "http://tap-user:s3cret-proxy-pass@");
    let mut proxied_config = site.server_config();
    proxied_config["proxy_url"] = json!(with_credentials);
    let proxied_config = site.file("proxied.json", &proxied_config);
    let (run, proxied, served) = discover(&proxied_config, &[]);
    assert_eq!(proxied.len(), served.len());
    assert!(
        proxied
            .iter()
            .all(|r| r.credentials.as_deref() == Some("tap-user:s3cret-proxy-pass")),
        "{proxied:?}"
    );
    assert!(!run.stderr.contains("s3cret-proxy-pass"), "{}", run.stderr);
    assert!(
        run.stderr.contains(&format!("proxy={}/", proxy.url)),
        "{}",
        run.stderr
    );
    let (_, proxied, _) = discover(&proxied_config, &[("NO_PROXY", "127.0.0.1")]);
    assert!(
        proxied.is_empty(),
        "NO_PROXY applies to proxy_url too: {proxied:?}"
    );
}

#[test]
fn proxy_urls_the_tap_cannot_use_are_refused_without_their_credentials() {
    let site = Site::server();
    for (proxy_url, says) in [
        ("socks5://u:hidden-pass-1@127.0.0.1:1080", "SOCKS"),
        (
            "http://u:hidden-pass-1@proxy.example.com:3128/some/path",
            "has a path",
        ),
        ("proxy.example.com:3128", "scheme"),
    ] {
        let mut config = site.server_config();
        config["proxy_url"] = json!(proxy_url);
        let config = site.file("config.json", &config);
        let run = tap(&[&"--config", &config, &"--discover"]);
        assert_eq!(run.code, 1);
        assert!(
            run.stderr.contains("config `proxy_url`") && run.stderr.contains(says),
            "{proxy_url}: {}",
            run.stderr
        );
        assert!(!run.stderr.contains("hidden-pass-1"), "{}", run.stderr);
    }
    assert!(site.sim.sim.requests().is_empty());
}

/// Stitch's tap puts `https://` before a `base_url` given without a scheme
/// (`your-domain.atlassian.net`), so its users' configs hold such URLs: they reach the site over
/// HTTPS here too.
#[test]
fn a_stitch_base_url_without_a_scheme_is_reached_over_https() {
    let site = Site::server();
    let front = mutual_tls_front(&site.sim.url);
    let config = json!({"base_url": front.url.trim_start_matches("https://"),
        "username": creds::USERNAME, "password": creds::PASSWORD,
        "start_date": "2024-01-01T00:00:00Z", "user_agent": "tap-jira <me@example.com>",
        "request_timeout": "", "ca_bundle": mtls("ca.pem"),
        "client_certificate": mtls("client.pem"), "client_key": mtls("client-key.pem")});
    let path = site.file("config.json", &config);
    let run = tap(&[&"--config", &path, &"--discover"]);
    run.assert_success();
    assert!(!front.handshakes().is_empty(), "reached over TLS");
    let served = site.sim.sim.requests();
    assert!(
        !served.is_empty()
            && served.iter().all(|r| r.auth
                == AuthSeen::Basic {
                    user: creds::USERNAME.into()
                })
    );
}

/// Stitch's tap replaces a `base_url`'s `http://` with `https://`, so a Stitch user's config may
/// say `http://` for a site it always reached over HTTPS: without `allow_http`, it is reached over
/// HTTPS here too, not refused.
#[test]
fn a_stitch_base_url_with_http_is_reached_over_https() {
    let site = Site::server();
    let front = mutual_tls_front(&site.sim.url);
    let base_url = front.url.replacen("https://", "http://", 1);
    let config = json!({"base_url": base_url,
        "username": creds::USERNAME, "password": creds::PASSWORD,
        "start_date": "2024-01-01T00:00:00Z", "user_agent": "tap-jira <me@example.com>",
        "ca_bundle": mtls("ca.pem"), "client_certificate": mtls("client.pem"),
        "client_key": mtls("client-key.pem")});
    let path = site.file("config.json", &config);
    let run = tap(&[&"--config", &path, &"--discover"]);
    run.assert_success();
    assert!(!front.handshakes().is_empty(), "reached over TLS");
    assert!(!site.sim.sim.requests().is_empty());
}

/// The site behind mutual TLS: the tap shows its certificate, and through a proxy it tunnels.
#[test]
fn mutual_tls_with_a_test_ca_reaches_the_site_and_a_missing_certificate_is_named_at_once() {
    let site = Site::server();
    let front = mutual_tls_front(&site.sim.url);
    let config = json!({"base_url": front.url, "personal_access_token": creds::PAT,
        "ca_bundle": mtls("ca.pem"), "client_certificate": mtls("client.pem"),
        "client_key": mtls("client-key.pem")});
    let path = site.file("config.json", &config);
    let run = tap(&[&"--config", &path, &"--discover"]);
    run.assert_success();
    let handshakes = front.handshakes();
    assert!(!handshakes.is_empty());
    assert!(
        handshakes.iter().all(|h| h.client_certificates == 1),
        "{handshakes:?}"
    );
    let served = site.sim.sim.requests();
    assert!(!served.is_empty() && served.iter().all(|r| r.auth == AuthSeen::BearerPat));
    let key = std::fs::read_to_string(mtls("client-key.pem")).unwrap();
    let key_line = key.lines().nth(1).unwrap();
    assert!(!run.stderr.contains(key_line));

    // Through a proxy, HTTPS is a CONNECT tunnel to the site.
    let proxy = spawn_proxy();
    let run = tap_with_env(
        &[&"--config", &path, &"--discover"],
        &[("HTTPS_PROXY", &proxy.url)],
    );
    run.assert_success();
    let tunnels = proxy.requests();
    let authority = front.url.trim_start_matches("https://");
    assert!(!tunnels.is_empty());
    assert!(
        tunnels
            .iter()
            .all(|r| r.line == format!("CONNECT {authority}")),
        "{tunnels:?}"
    );

    // Without the certificate: one clear line, at once, not retried.
    let mut without = config.clone();
    without
        .as_object_mut()
        .unwrap()
        .remove("client_certificate");
    without.as_object_mut().unwrap().remove("client_key");
    let without = site.file("without.json", &without);
    let started = Instant::now();
    let run = tap(&[&"--config", &without, &"--discover"]);
    assert_eq!(run.code, 1);
    assert!(started.elapsed() < Duration::from_secs(10));
    let last = run.stderr.lines().last().unwrap_or("");
    assert!(last.contains("client_certificate"), "{}", run.stderr);
    assert!(!run.stderr.contains("retrying"), "{}", run.stderr);

    // A key file that holds no key is refused before any request, its content unprinted.
    let mut wrong = config.clone();
    wrong["client_key"] = json!(mtls("ca.pem"));
    let wrong = site.file("wrong.json", &wrong);
    site.sim.sim.reset_requests();
    let run = tap(&[&"--config", &wrong, &"--discover"]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("config `client_certificate`"),
        "{}",
        run.stderr
    );
    assert!(site.sim.sim.requests().is_empty());
}

/// A site whose certificate a private CA signed, without `ca_bundle`: the one line the tap writes
/// says what to set, and no line of a library's beside it repeats the failure without the fix.
#[test]
fn a_certificate_that_does_not_verify_is_one_error_line() {
    let site = Site::server();
    let front = mutual_tls_front(&site.sim.url);
    let config = json!({"base_url": front.url, "personal_access_token": creds::PAT});
    let path = site.file("config.json", &config);
    let run = tap(&[&"--config", &path, &"--discover"]);
    assert_eq!(run.code, 1);
    assert!(run.stdout.is_empty(), "{}", run.stdout);
    let errors: Vec<&str> = run.stderr.lines().filter(|l| l.contains("ERROR")).collect();
    assert_eq!(errors.len(), 1, "one clear line:\n{}", run.stderr);
    assert!(errors[0].contains("ca_bundle"), "{}", run.stderr);
}

/// `https://` to a port that answers plain HTTP says the same every time: it fails at once, in
/// one line naming what to check, rather than being retried for minutes.
#[test]
fn https_to_a_plain_http_port_fails_at_once_in_one_line() {
    let site = Site::server();
    let base_url = site.sim.url.replacen("http://", "https://", 1);
    let config = json!({"base_url": base_url, "personal_access_token": creds::PAT});
    let path = site.file("config.json", &config);
    let started = Instant::now();
    let run = tap(&[&"--config", &path, &"--discover"]);
    assert_eq!(run.code, 1);
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("retrying"), "{}", run.stderr);
    assert!(run.stdout.is_empty(), "{}", run.stdout);
    let errors: Vec<&str> = run.stderr.lines().filter(|l| l.contains("ERROR")).collect();
    assert_eq!(errors.len(), 1, "one clear line:\n{}", run.stderr);
    assert!(
        errors[0].contains("base_url") && errors[0].contains("allow_http"),
        "{}",
        run.stderr
    );
}

/// A simulated site answering after 250 ms, so that requests sent together are seen together,
/// even on a loaded machine.
fn slow_site(deployment: Deployment) -> Site {
    Site::new(SimConfig {
        deployment,
        latency_ms: 250,
        ..SimConfig::default()
    })
}

/// The site's config with these credentials instead of its usual ones.
fn with_credentials(site: &Site, credentials: serde_json::Value) -> serde_json::Value {
    let mut config = json!({"base_url": site.sim.url, "allow_http": true});
    for (key, value) in credentials.as_object().into_iter().flatten() {
        config[key] = value.clone();
    }
    config
}

/// The paths the simulator was asked, in order.
fn paths(site: &Site) -> Vec<String> {
    site.sim
        .sim
        .requests()
        .into_iter()
        .map(|r| r.path)
        .collect()
}

#[test]
fn a_token_is_proven_beside_the_first_read_of_the_fields() {
    // A refused token counts against no one: /myself and /field go out together.
    let cloud_basic = json!({"auth_type": "basic", "username": creds::EMAIL,
                             "password": creds::API_TOKEN});
    for (deployment, credentials) in [
        (Deployment::Cloud, None),
        (Deployment::Server, None),
        (Deployment::Cloud, Some(cloud_basic)),
    ] {
        let site = slow_site(deployment);
        let config = match credentials {
            Some(credentials) => with_credentials(&site, credentials),
            None => site.config_with(json!({})),
        };
        let config = site.file("config.json", &config);
        site.discover(&config);
        let asked = paths(&site);
        assert_eq!(
            asked.iter().filter(|p| p.ends_with("/field")).count(),
            1,
            "{deployment:?}: {asked:?}"
        );
        assert_eq!(
            site.sim.sim.peak_in_flight(),
            2,
            "{deployment:?}: /myself and /field at once: {asked:?}"
        );
    }
}

#[test]
fn a_server_password_is_proven_before_any_other_request() {
    // On Server/Data Center each refused password is a failed login, and a few of them lock the
    // account behind a CAPTCHA: nothing else goes out until /myself accepted it.
    let site = slow_site(Deployment::Server);
    let basic = json!({"username": creds::USERNAME, "password": creds::PASSWORD});
    let config = site.file("config.json", &with_credentials(&site, basic.clone()));
    site.discover(&config);
    assert_eq!(site.sim.sim.peak_in_flight(), 1, "{:?}", paths(&site));
    assert!(paths(&site).iter().any(|p| p.ends_with("/field")));

    let mut wrong = with_credentials(&site, basic);
    wrong["password"] = json!("not-the-password");
    wrong["deployment"] = json!("server");
    site.sim.sim.reset_requests();
    let run = tap(&[&"--config", &site.file("wrong.json", &wrong), &"--discover"]);
    assert_ne!(run.code, 0);
    assert_eq!(
        paths(&site),
        ["/rest/api/2/myself"],
        "one failed login, no more"
    );
    assert!(!run.stderr.contains("not-the-password"));
}

#[test]
fn a_refused_token_is_told_as_the_refusal_of_myself() {
    // /field is refused too, at the same time: the one error is /myself's, with its hint.
    let site = slow_site(Deployment::Server);
    let config = site.config_with(json!({"personal_access_token": "not-the-token",
                                         "deployment": "server"}));
    let run = tap(&[
        &"--config",
        &site.file("config.json", &config),
        &"--discover",
    ]);
    assert_ne!(run.code, 0);
    let mut asked = paths(&site);
    asked.sort();
    assert_eq!(asked, ["/rest/api/2/field", "/rest/api/2/myself"]);
    let errors: Vec<&str> = run.stderr.lines().filter(|l| l.contains("ERROR")).collect();
    assert_eq!(errors.len(), 1, "{}", run.stderr);
    assert!(errors[0].contains("/myself"), "{}", errors[0]);
    assert!(!run.stderr.contains("not-the-token"));
}

#[test]
fn fields_refused_before_the_credentials_are_proven_are_read_again_after() {
    // A login page on /field while /myself is still out reads as a refusal; once /myself has
    // accepted the token it is a hiccup, and /field is asked again instead of failing the run.
    let site = Site::server();
    site.sim.sim.push_fault(Fault::html_login_page("/field"));
    let config = site.file("config.json", &site.server_config());
    site.discover(&config);
    let asked = paths(&site);
    assert_eq!(
        asked.iter().filter(|p| p.ends_with("/field")).count(),
        2,
        "{asked:?}"
    );
}

/// Every RECORD of a sync of the streams selected by default, without the times of the run (its
/// extraction time, table version, the site's clock), with the site's address replaced, in one order whatever the order of the requests.
fn synced_records(site: &Site) -> Vec<String> {
    let config = site.file("config.json", &site.config_with(json!({})));
    let catalog = site.discover(&config);
    site.file("catalog.json", &catalog);
    let run = site.sync_from(&site.file("state.json", &json!({})));
    run.assert_success();
    let mut records: Vec<String> = run
        .messages()
        .iter()
        .filter(|m| m["type"] == "RECORD")
        .cloned()
        .map(|mut m| {
            let message = m.as_object_mut().unwrap();
            message.remove("time_extracted");
            message.remove("version");
            if let Some(record) = message.get_mut("record").and_then(Value::as_object_mut) {
                record.remove("serverTime");
            }
            // Links name the site's address, which is each simulator's own.
            m.to_string().replace(&site.sim.url, "SITE")
        })
        .collect();
    records.sort();
    records
}

#[test]
fn a_site_that_compresses_its_answers_gives_the_same_records() {
    // Jira Cloud answers gzip to a client that takes it: several times fewer bytes on the wire.
    for deployment in [Deployment::Cloud, Deployment::Server] {
        let plain = Site::new(SimConfig {
            deployment,
            ..SimConfig::default()
        });
        let gzip = Site::new(SimConfig {
            deployment,
            gzip: true,
            ..SimConfig::default()
        });
        let records = synced_records(&gzip);
        assert!(records.len() > 100, "{deployment:?}: {}", records.len());
        assert!(records == synced_records(&plain), "{deployment:?}");
        let requests = gzip.sim.sim.requests();
        assert!(
            requests.iter().all(|r| r.accepts_gzip),
            "{deployment:?}: every request takes gzip"
        );
    }
}

/// The log names a proxy without credentials (`proxy_url` is redacted for its password only).
#[test]
fn a_proxy_url_without_credentials_is_named_in_the_log() {
    let site = Site::server();
    let proxy = spawn_proxy();
    let config = site.file(
        "config.json",
        &site.config_with(json!({"proxy_url": proxy.url})),
    );
    let run = tap(&[&"--config", &config, &"--discover"]);
    run.assert_success();
    assert!(
        run.stderr.contains(&format!("proxy={}/", proxy.url)),
        "{}",
        run.stderr
    );
}

/// A proxy host that does not resolve: the error names the proxy, not only base_url.
#[test]
fn an_unresolvable_proxy_is_not_blamed_on_base_url() {
    let site = Site::server();
    site.expect_unserved_paths();
    let config = site.file(
        "config.json",
        &site.config_with(json!({"proxy_url": "http://no-such-proxy.invalid:3128"})),
    );
    let run = tap(&[&"--config", &config, &"--discover"]);
    assert_eq!(run.code, 1);
    let error = run
        .stderr
        .lines()
        .find(|l| l.contains("ERROR"))
        .unwrap_or_default();
    assert!(
        error.contains("proxy"),
        "the error names base_url, not the proxy: {error}"
    );
}

/// An HTTPS site through a proxy that cannot be reached (nothing listens at its port, its host
/// does not resolve): the line says so, rather than that the proxy refused a tunnel and its
/// credentials are to be checked.
#[test]
fn a_proxy_that_cannot_be_reached_is_not_blamed_on_its_credentials() {
    let site = Site::server();
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let base_url = site.sim.url.replacen("http://", "https://", 1);
    for (proxy, expected) in [
        (format!("http://127.0.0.1:{port}"), "refused"),
        ("http://no-such-proxy.invalid:3128".to_string(), "resolve"),
    ] {
        let config = json!({"base_url": base_url, "personal_access_token": creds::PAT,
            "proxy_url": proxy});
        let config = site.file("config.json", &config);
        let run = tap(&[&"--config", &config, &"--discover"]);
        assert_eq!(run.code, 1);
        let errors: Vec<&str> = run.stderr.lines().filter(|l| l.contains("ERROR")).collect();
        assert_eq!(errors.len(), 1, "one clear line:\n{}", run.stderr);
        assert!(
            errors[0].contains("proxy") && errors[0].contains(expected),
            "{proxy}: {}",
            run.stderr
        );
        assert!(!errors[0].contains("credentials"), "{}", run.stderr);
        assert!(!run.stderr.contains("retrying"), "{}", run.stderr);
    }
}

/// The proxy logged is the one the requests take. An empty `HTTP_PROXY` (set to turn a proxy
/// off) is passed over for `ALL_PROXY`, which the requests then take: the log said nothing.
/// Under CGI (`REQUEST_METHOD` set) the environment's proxies are ignored, as a request's
/// `Proxy:` header could set them: the log named one the requests did not take.
#[test]
fn the_proxy_logged_is_the_one_the_requests_take() {
    let site = Site::server();
    let proxy = spawn_proxy();
    let config = site.file("config.json", &site.server_config());
    for (env, proxied) in [
        (
            vec![("HTTP_PROXY", ""), ("ALL_PROXY", proxy.url.as_str())],
            true,
        ),
        (
            vec![
                ("HTTP_PROXY", proxy.url.as_str()),
                ("REQUEST_METHOD", "GET"),
            ],
            false,
        ),
    ] {
        let before = proxy.requests().len();
        let run = tap_with_env(&[&"--config", &config, &"--discover"], &env);
        run.assert_success();
        let went_through = proxy.requests().len() > before;
        assert_eq!(went_through, proxied, "{env:?}");
        let logged = run.stderr.contains(&format!("proxy={}/", proxy.url));
        assert_eq!(
            logged, proxied,
            "{env:?}: the requests went through the proxy: {went_through}; the log:\n{}",
            run.stderr
        );
    }
}

/// A proxy variable whose password holds an `@` as typed (`http://u:s3cret@tail@proxy:3128`):
/// reqwest cuts the credentials at the first `@`, so the proxy got a wrong password and the
/// debug log named the rest of it as the proxy's user. It is refused before any request, with
/// how to write it.
#[test]
fn a_proxy_variable_with_an_at_sign_in_its_password_is_refused_without_it() {
    let site = Site::server();
    let proxy = spawn_proxy();
    let config = site.file("config.json", &site.server_config());
    let with_at = proxy
        .url
        .replace("http://", "http://tap-user:s3cret@tail-secret-77@");
    let run = tap_with_env(
        &[
            &"--config",
            &config,
            &"--discover",
            &"--log-level",
            &"debug",
        ],
        &[("HTTP_PROXY", &with_at)],
    );
    assert!(
        !run.stderr.contains("tail-secret-77") && !run.stderr.contains("s3cret"),
        "part of the proxy's password was printed:\n{}",
        run.stderr
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    let errors: Vec<&str> = run.stderr.lines().filter(|l| l.contains("ERROR")).collect();
    assert_eq!(errors.len(), 1, "one clear line:\n{}", run.stderr);
    assert!(
        errors[0].contains("HTTP_PROXY") && errors[0].contains("%40"),
        "{}",
        errors[0]
    );
    assert!(proxy.requests().is_empty(), "refused before any request");
    assert!(site.sim.sim.requests().is_empty());
}
