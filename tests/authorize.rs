//! `tap-jira authorize` against the simulator: the person opens the printed address, the
//! simulator sends the browser back with a code, the person pastes where it landed, and the tap
//! saves a refresh token that the next run works with.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use common::{Site, tap};
use jira_sim::creds;
use serde_json::{Value, json};

const CALLBACK: &str = "https://tap.example.com/callback";

/// Runs `tap-jira authorize --config config`; when it prints the address to open, `person` is
/// given it and returns the line to paste. The exit code and stderr.
fn authorize(config: &Path, person: impl FnOnce(&str) -> String) -> (i32, String) {
    let mut child = Command::new(common::tap_binary())
        .args(["authorize", "--config"])
        .arg(config)
        .env_remove("RUST_LOG")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the tap binary runs");
    let (lines, heard) = mpsc::channel();
    let stderr = child.stderr.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = lines.send(line);
        }
    });
    let mut said = String::new();
    let mut stdin = child.stdin.take().unwrap();
    while let Ok(line) = heard.recv_timeout(Duration::from_secs(20)) {
        said.push_str(&line);
        said.push('\n');
        let line = line.trim();
        if line.starts_with("http") && line.contains("authorize?") {
            let _ = writeln!(stdin, "{}", person(line));
            break;
        }
    }
    drop(stdin);
    while let Ok(line) = heard.recv_timeout(Duration::from_secs(20)) {
        said.push_str(&line);
        said.push('\n');
    }
    let mut stdout = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut stdout)
        .unwrap();
    let status = child.wait().unwrap();
    assert_eq!(stdout, "", "nothing on stdout");
    (status.code().unwrap_or(-1), said)
}

/// What a browser does with the address: GET it, and note where the site sends it.
fn follow(address: &str) -> String {
    let url = url::Url::parse(address).unwrap();
    let authority = format!("{}:{}", url.host_str().unwrap(), url.port().unwrap());
    let mut stream = TcpStream::connect(&authority).unwrap();
    let target = format!("{}?{}", url.path(), url.query().unwrap_or(""));
    write!(
        stream,
        "GET {target} HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 302"), "{answer}");
    answer
        .lines()
        .find_map(|l| {
            let (name, value) = l.split_once(':')?;
            name.eq_ignore_ascii_case("location")
                .then(|| value.trim().to_string())
        })
        .expect("a Location header")
}

fn query(address: &str) -> std::collections::HashMap<String, String> {
    url::Url::parse(address)
        .unwrap()
        .query_pairs()
        .into_owned()
        .collect()
}

fn read(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// A Cloud site's authorisation config, the person's browser sent back to `callback`.
fn cloud_config(site: &Site, callback: &str) -> Value {
    json!({
        "oauth_client_id": creds::OAUTH_CLIENT_ID,
        "oauth_client_secret": creds::OAUTH_CLIENT_SECRET,
        "oauth_redirect_uri": callback,
        "oauth_authorize_url": format!("{}/authorize", site.sim.url),
        "oauth_token_url": format!("{}/oauth/token", site.sim.url),
        "oauth_gateway_url": site.sim.url,
        "allow_http": true,
        "start_date": "2000-01-01"
    })
}

#[test]
fn cloud_authorization_saves_a_refresh_token_and_the_cloud_id_that_the_next_run_uses() {
    let site = Site::cloud();
    let config = site.file("config.json", &cloud_config(&site, CALLBACK));
    let mut asked = Default::default();
    let (code, said) = authorize(&config, |address| {
        asked = query(address);
        follow(address)
    });
    assert_eq!(code, 0, "{said}");
    assert_eq!(asked["client_id"], creds::OAUTH_CLIENT_ID);
    assert_eq!(asked["redirect_uri"], CALLBACK);
    assert_eq!(asked["response_type"], "code");
    assert_eq!(asked["audience"], "api.atlassian.com");
    assert_eq!(
        asked["scope"],
        "read:jira-work read:jira-user offline_access"
    );
    assert_eq!(asked["prompt"], "consent");

    let saved = read(&config);
    assert_eq!(
        saved["refresh_token"],
        json!(site.sim.sim.current_refresh_token())
    );
    assert_eq!(saved["cloud_id"], json!(creds::CLOUD_ID));
    assert_eq!(
        saved["oauth_redirect_uri"],
        json!(CALLBACK),
        "other keys kept"
    );
    assert!(said.contains("Authorized"), "{said}");
    assert!(!said.contains(&site.sim.sim.current_refresh_token()));
    assert!(!said.contains(creds::OAUTH_CLIENT_SECRET));
    let paths: Vec<String> = site
        .sim
        .sim
        .requests()
        .iter()
        .map(|r| r.path.clone())
        .collect();
    assert_eq!(
        paths,
        [
            "/authorize",
            "/oauth/token",
            "/oauth/token/accessible-resources"
        ]
    );

    // The next run needs nothing else.
    let run = tap(&[&"--config", &config, &"--discover"]);
    run.assert_success();
    assert_eq!(
        read(&config)["refresh_token"],
        json!(site.sim.sim.current_refresh_token())
    );
}

#[test]
fn data_center_authorization_takes_the_code_alone_and_the_next_run_uses_the_token() {
    let site = Site::server();
    let token_file = site.dir.path().join("tokens.json");
    let config = site.file(
        "config.json",
        &json!({
            "base_url": site.sim.url,
            "allow_http": true,
            "oauth_client_id": creds::OAUTH_CLIENT_ID,
            "oauth_client_secret": creds::OAUTH_CLIENT_SECRET,
            "oauth_redirect_uri": CALLBACK,
            "oauth_token_file": token_file,
            "start_date": "2000-01-01"
        }),
    );
    let mut asked = Default::default();
    let (code, said) = authorize(&config, |address| {
        assert!(
            address.starts_with(&format!("{}/rest/oauth2/latest/authorize?", site.sim.url)),
            "{address}"
        );
        asked = query(address);
        query(&follow(address))["code"].clone()
    });
    assert_eq!(code, 0, "{said}");
    assert_eq!(asked["scope"], "READ");
    assert!(!asked.contains_key("audience"));
    assert_eq!(
        read(&token_file)["refresh_token"],
        json!(site.sim.sim.current_refresh_token())
    );
    assert!(
        read(&config).get("refresh_token").is_none(),
        "the config is left alone"
    );
    let token = site
        .sim
        .sim
        .requests()
        .into_iter()
        .find(|r| r.path == "/rest/oauth2/latest/token")
        .unwrap();
    let form = query(&format!("http://x/?{}", token.body));
    assert_eq!(form["grant_type"], "authorization_code");
    assert_eq!(form["redirect_uri"], CALLBACK);

    tap(&[&"--config", &config, &"--discover"]).assert_success();
}

#[test]
fn a_refused_or_foreign_answer_fails_clearly_and_saves_nothing() {
    let site = Site::server();
    let settings = json!({
        "base_url": site.sim.url,
        "allow_http": true,
        "oauth_client_id": creds::OAUTH_CLIENT_ID,
        "oauth_client_secret": creds::OAUTH_CLIENT_SECRET,
        "oauth_redirect_uri": CALLBACK
    });
    let config = site.file("config.json", &settings);
    for (answer, says) in [
        (
            format!("{CALLBACK}?error=access_denied&error_description=denied&state=x"),
            "access was not granted (access_denied",
        ),
        (
            format!("{CALLBACK}?code=sim-code-abc&state=not-the-one"),
            "another attempt",
        ),
        ("sim-code-never-issued".to_string(), "invalid_grant"),
        (String::new(), "no code was given"),
    ] {
        let (code, said) = authorize(&config, |_| answer.clone());
        assert_eq!(code, 1, "{answer}: {said}");
        let last = said.lines().last().unwrap_or("");
        assert!(
            last.contains("authorization failed") && last.contains(says),
            "{answer}: {said}"
        );
        assert_eq!(read(&config), settings, "nothing saved");
    }

    // Settings a person can fix before going to the browser.
    let unusable = site.file(
        "unusable.json",
        &json!({"base_url": site.sim.url, "allow_http": true, "personal_access_token": "p"}),
    );
    let (code, said) = authorize(&unusable, |_| unreachable!("no address is printed"));
    assert_eq!(code, 1);
    assert!(said.contains("config `auth_type`"), "{said}");
    let half = site.file(
        "half.json",
        &json!({"oauth_client_id": creds::OAUTH_CLIENT_ID}),
    );
    let (code, said) = authorize(&half, |_| unreachable!("no address is printed"));
    assert_eq!(code, 1);
    for key in ["oauth_client_secret", "oauth_redirect_uri"] {
        assert!(
            said.contains(&format!("config `{key}`: is required")),
            "{said}"
        );
    }
}

/// A callback with a query (`?source=tap-jira-prod`) is printed whole in the address to open:
/// taken for a credential and blanked to `****`, the `redirect_uri` no longer matched the app's.
#[test]
fn a_callback_with_a_query_is_printed_whole_in_the_address_to_open() {
    let site = Site::cloud();
    let callback = "https://tap.example.com/callback?source=tap-jira-prod";
    let config = site.file("config.json", &cloud_config(&site, callback));
    let mut asked = Default::default();
    let (_, said) = authorize(&config, |address| {
        asked = query(address);
        follow(address)
    });
    assert_eq!(asked["redirect_uri"], callback, "{said}");
}
