//! What leaves the process: records and STATE survive a closed stderr or a SIGTERM, stdout only
//! ever carries whole lines, secrets a server echoes never reach stdout or stderr, and a login
//! page in the middle of a sync is a hiccup, not a credentials error.

mod common;

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{Site, assert_valid_singer_output, tap};
use jira_sim::{Deployment, Fault, SimConfig, creds};
use serde_json::{Value, json};

fn spawn_tap(args: &[&std::ffi::OsStr]) -> Child {
    Command::new(common::tap_binary())
        .args(args)
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the tap binary runs")
}

/// Reads all of a pipe on a thread, so the tap never blocks on it.
fn drain(pipe: impl Read + Send + 'static) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = BufReader::new(pipe).read_to_end(&mut bytes);
        String::from_utf8(bytes).expect("UTF-8")
    })
}

/// A site slow enough that a sync is still running when the test acts on it.
fn slow_site() -> Site {
    Site::new(SimConfig {
        latency_ms: 30,
        issues_per_project: 60,
        ..SimConfig::default()
    })
}

/// Every stdout line is a complete JSON message, and the output ends with a newline.
fn assert_whole_lines(stdout: &str) -> Vec<Value> {
    assert!(
        stdout.is_empty() || stdout.ends_with('\n'),
        "stdout ends mid-line: …{}",
        &stdout[stdout.len().saturating_sub(200)..]
    );
    stdout
        .lines()
        .map(|line| {
            serde_json::from_str(line).unwrap_or_else(|e| panic!("partial line ({e}): {line}"))
        })
        .collect()
}

#[test]
fn a_closed_stderr_loses_the_log_not_the_records_or_the_state() {
    let site = slow_site();
    let mut config = site.cloud_config();
    config["page_size"] = json!(10);
    let config = site.file("config.json", &config);
    let mut child = spawn_tap(&["--config".as_ref(), config.as_os_str()]);
    let stdout = drain(child.stdout.take().unwrap());
    // Read the first log line, then hang up: everything logged after that meets a closed pipe.
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut first = String::new();
    stderr.read_line(&mut first).unwrap();
    assert!(!first.is_empty());
    drop(stderr);
    let status = child.wait().unwrap();
    let stdout = stdout.join().unwrap();
    assert_eq!(status.code(), Some(0), "no panic, a normal end");
    let messages = assert_whole_lines(&stdout);
    assert_eq!(messages.last().unwrap()["type"], "STATE");
    let issues = messages
        .iter()
        .filter(|m| m["type"] == "RECORD" && m["stream"] == "issues")
        .count();
    assert_eq!(issues, site.sim.sim.issue_count(), "every record written");
}

#[test]
fn closed_stdout_and_stderr_end_the_run_cleanly() {
    let site = Site::new(SimConfig {
        issues_per_project: 400,
        ..SimConfig::default()
    });
    let config = site.file("config.json", &site.cloud_config());
    let mut child = spawn_tap(&["--config".as_ref(), config.as_os_str()]);
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    stdout.read_line(&mut first).unwrap();
    drop(stdout);
    drop(child.stderr.take());
    let status = child.wait().unwrap();
    // A panic would end with 101.
    assert_eq!(status.code(), Some(0));
}

#[test]
fn sigterm_stops_with_143_and_leaves_only_whole_messages() {
    let site = slow_site();
    let mut config = site.cloud_config();
    config["page_size"] = json!(5);
    let config = site.file("config.json", &config);
    let mut child = spawn_tap(&["--config".as_ref(), config.as_os_str()]);
    let stderr = drain(child.stderr.take().unwrap());
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut seen = String::new();
    // Wait until the sync is well under way: a few issue records are out.
    while seen.matches(r#""stream":"issues""#).count() < 3 {
        let mut line = String::new();
        assert!(stdout.read_line(&mut line).unwrap() > 0, "the sync ended");
        seen.push_str(&line);
    }
    // SAFETY: sends a signal to the child this test spawned.
    assert_eq!(
        unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGTERM) },
        0
    );
    let mut rest = String::new();
    stdout.read_to_string(&mut rest).unwrap();
    seen.push_str(&rest);
    let status = child.wait().unwrap();
    let stderr = stderr.join().unwrap();
    assert_eq!(status.code(), Some(143), "{stderr}");
    assert_whole_lines(&seen);
    assert!(stderr.contains("SIGTERM received"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(
        site.sim.sim.issue_count() > seen.matches(r#""stream":"issues""#).count(),
        "stopped before the end"
    );
}

/// `--about` into a file on a full disk (here `/dev/full`): Meltano reads the settings from it, so
/// nothing written is a failure, said on stderr, not an empty success.
#[cfg(target_os = "linux")]
#[test]
fn about_to_a_full_disk_fails_and_says_why() {
    let output = Command::new(common::tap_binary())
        .args(["--about", "--format", "json"])
        .env_remove("RUST_LOG")
        .stdout(std::fs::File::create("/dev/full").expect("/dev/full"))
        .stderr(Stdio::piped())
        .output()
        .expect("the tap binary runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("No space left on device"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

// `F_GETPIPE_SZ` is Linux's, as is the tap's own pipe enlarging.
#[cfg(target_os = "linux")]
#[test]
fn sigterm_with_stdout_blocked_still_ends_the_run_after_the_grace_period() {
    let site = Site::cloud();
    let config = site.file("config.json", &site.cloud_config());
    let mut child = spawn_tap(&["--config".as_ref(), config.as_os_str()]);
    let stderr = drain(child.stderr.take().unwrap());
    // Nobody reads stdout: once the pipe is full, the tap is stuck writing to it.
    let stdout = child.stdout.take().unwrap();
    wait_until_full(&stdout);
    // SAFETY: sends a signal to the child this test spawned.
    assert_eq!(
        unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGTERM) },
        0
    );
    let signalled = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(
            signalled.elapsed() < tap_jira::signals::GRACE + Duration::from_secs(5),
            "still running {}s after SIGTERM",
            signalled.elapsed().as_secs()
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    drop(stdout);
    let stderr = stderr.join().unwrap();
    assert_eq!(status.code(), Some(143), "{stderr}");
    assert!(stderr.contains("took longer than"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

/// Returns once the tap has filled `pipe` (the tap enlarges it, so how long that takes depends
/// on the machine): what it holds has reached half its size and stopped growing.
#[cfg(target_os = "linux")]
fn wait_until_full(pipe: &std::process::ChildStdout) {
    use std::os::fd::AsRawFd;
    let fd = pipe.as_raw_fd();
    let queued = || {
        let mut bytes: libc::c_int = 0;
        // SAFETY: FIONREAD writes one int for this test's own open pipe.
        assert_eq!(unsafe { libc::ioctl(fd, libc::FIONREAD, &mut bytes) }, 0);
        bytes
    };
    let started = Instant::now();
    let mut last = (queued(), Instant::now());
    loop {
        std::thread::sleep(Duration::from_millis(100));
        let now = queued();
        // SAFETY: F_GETPIPE_SZ only reads the size of this test's own open pipe. Read each
        // time: the tap enlarges the pipe once it starts.
        let size = unsafe { libc::fcntl(fd, libc::F_GETPIPE_SZ) };
        assert!(size > 0, "F_GETPIPE_SZ");
        if now != last.0 {
            last = (now, Instant::now());
        } else if now >= size / 2 && last.1.elapsed() >= Duration::from_secs(1) {
            return;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the tap did not fill its stdout pipe ({now} of {size} bytes)"
        );
    }
}

/// The 400 answer a proxy or a confused server gives, repeating what it was sent.
fn echo(path: &str, status: u16, text: &str) -> Fault {
    Fault {
        path_contains: path.into(),
        status,
        body: json!({"errorMessages": [format!("ECHO-MARK {text}")], "errors": {}}).to_string(),
        content_type: "application/json".into(),
        headers: vec![],
        times: 1,
    }
}

fn assert_never_printed(run: &common::Run, secrets: &[&str]) {
    for secret in secrets {
        assert!(
            !run.stderr.contains(secret) && !run.stdout.contains(secret),
            "{secret} leaked:\n{}",
            run.stderr
        );
    }
}

fn base64(text: &str) -> String {
    // The test's own encoder, so the tap's is checked against an independent one.
    let table = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let bits: String = text.bytes().map(|b| format!("{b:08b}")).collect();
    let mut out: String = bits
        .as_bytes()
        .chunks(6)
        .map(|c| {
            let mut s = String::from_utf8(c.to_vec()).unwrap();
            while s.len() < 6 {
                s.push('0');
            }
            table[usize::from_str_radix(&s, 2).unwrap()] as char
        })
        .collect();
    while !out.len().is_multiple_of(4) {
        out.push('=');
    }
    out
}

#[test]
fn an_echoed_api_token_and_basic_header_are_redacted() {
    let site = Site::cloud();
    let config = site.file("config.json", &site.cloud_config());
    let basic = base64(&format!("{}:{}", creds::EMAIL, creds::API_TOKEN));
    assert_eq!(
        base64("Aladdin:open sesame"),
        "QWxhZGRpbjpvcGVuIHNlc2FtZQ=="
    );
    let text = format!(
        "Authorization: Basic {basic} (password {}) url ?t={}",
        creds::API_TOKEN,
        creds::API_TOKEN
    );
    site.sim.sim.push_fault(echo("/search/jql", 400, &text));
    let run = tap(&[&"--config", &config]);
    assert!(run.stderr.contains("ECHO-MARK"), "{}", run.stderr);
    assert_never_printed(&run, &[creds::API_TOKEN, &basic]);
}

#[test]
fn an_echoed_personal_access_token_and_password_are_redacted() {
    let site = Site::server();
    let config = site.file("config.json", &site.server_config());
    let text = format!("Authorization: Bearer {} refused", creds::PAT);
    site.sim
        .sim
        .push_fault(echo("/rest/api/2/search", 400, &text));
    let run = tap(&[&"--config", &config]);
    assert!(run.stderr.contains("ECHO-MARK"), "{}", run.stderr);
    assert_never_printed(&run, &[creds::PAT]);

    let site = Site::server();
    let config = site.file(
        "config.json",
        &json!({"base_url": site.sim.url, "allow_http": true, "username": creds::USERNAME,
                "password": creds::PASSWORD, "start_date": "2000-01-01T00:00:00Z"}),
    );
    let basic = base64(&format!("{}:{}", creds::USERNAME, creds::PASSWORD));
    let text = format!("header Basic {basic} password {}", creds::PASSWORD);
    site.sim.sim.push_fault(echo("/project", 400, &text));
    let run = tap(&[&"--config", &config]);
    assert!(run.stderr.contains("ECHO-MARK"), "{}", run.stderr);
    assert_never_printed(&run, &[creds::PASSWORD, &basic]);
}

/// A user name of digits as meltano.yml holds it unquoted (`username: 104233`, a number, which
/// the tap reads as the name): the Basic header a server echoes is redacted all the same.
#[test]
fn an_echoed_basic_header_of_a_username_of_digits_is_redacted() {
    let site = Site::server();
    let config = site.file(
        "config.json",
        &json!({"base_url": site.sim.url, "allow_http": true, "username": 104233,
                "password": creds::PASSWORD, "start_date": "2000-01-01T00:00:00Z"}),
    );
    let basic = base64(&format!("104233:{}", creds::PASSWORD));
    let text = format!("header Basic {basic}");
    site.sim.sim.push_fault(echo("/rest/api/2/", 400, &text));
    let run = tap(&[&"--config", &config, &"--discover"]);
    assert!(run.stderr.contains("ECHO-MARK"), "{}", run.stderr);
    assert_never_printed(&run, &[creds::PASSWORD, &basic]);
}

/// Secrets of digits as meltano.yml holds them unquoted (`password: 20241231`, which Meltano
/// writes into the config as a number, as it does a user name of digits): read as their text,
/// as the user name is, and redacted when a server echoes them.
#[test]
fn secrets_of_digits_are_read_as_their_text_and_redacted() {
    let site = Site::server();
    for (key, config) in [
        (
            "personal_access_token",
            json!({"base_url": site.sim.url, "allow_http": true,
                   "personal_access_token": 73512094}),
        ),
        (
            "password",
            json!({"base_url": site.sim.url, "allow_http": true, "username": creds::USERNAME,
                   "password": 73512094}),
        ),
    ] {
        let config = site.file("config.json", &config);
        site.sim
            .sim
            .push_fault(echo("/rest/api/2/", 400, "credential 73512094"));
        let run = tap(&[&"--config", &config, &"--discover"]);
        assert!(
            !run.stderr.contains(&format!("config `{key}`")),
            "{key} of digits refused:\n{}",
            run.stderr
        );
        assert!(run.stderr.contains("ECHO-MARK"), "{key}: {}", run.stderr);
        assert_never_printed(&run, &["73512094"]);
    }
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
fn an_oauth_error_repeating_the_refresh_token_and_client_secret_is_redacted() {
    let site = Site::cloud();
    let config = site.file("config.json", &oauth_config(&site));
    let body = json!({"error": "invalid_grant", "error_description": format!(
        "ECHO-MARK refresh_token={} client_secret={}", creds::INITIAL_REFRESH_TOKEN, creds::OAUTH_CLIENT_SECRET)});
    site.sim.sim.push_fault(Fault {
        path_contains: "/oauth/token".into(),
        status: 400,
        body: body.to_string(),
        content_type: "application/json".into(),
        headers: vec![],
        times: 1,
    });
    let run = tap(&[&"--config", &config, &"--discover"]);
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("ECHO-MARK"), "{}", run.stderr);
    assert_never_printed(
        &run,
        &[creds::INITIAL_REFRESH_TOKEN, creds::OAUTH_CLIENT_SECRET],
    );
}

/// Tokens handed out during the run are secrets too, though no config file held them.
#[test]
fn a_refresh_token_learned_at_run_time_is_redacted() {
    // Same seed, same token sequence: a twin site says which refresh token the run will get.
    let twin = Site::cloud();
    tap(&[
        &"--config",
        &twin.file("config.json", &oauth_config(&twin)),
        &"--discover",
    ])
    .assert_success();
    let rotated = twin.sim.sim.current_refresh_token();
    assert_ne!(rotated, creds::INITIAL_REFRESH_TOKEN);

    let site = Site::cloud();
    let config = site.file("config.json", &oauth_config(&site));
    site.sim
        .sim
        .push_fault(echo("/project/search", 400, &format!("token {rotated}")));
    let run = tap(&[&"--config", &config]);
    assert!(run.stderr.contains("ECHO-MARK"), "{}", run.stderr);
    assert_eq!(site.sim.sim.current_refresh_token(), rotated);
    assert_never_printed(&run, &[&rotated]);
}

#[test]
fn a_token_in_the_base_url_query_is_never_printed() {
    let site = Site::cloud();
    for base_url in [
        format!("{}/?token=QUERY-SECRET-1", site.sim.url),
        "http://bad host/?token=QUERY-SECRET-1&other=QUERY-SECRET-2".to_string(),
    ] {
        let config = site.file(
            "config.json",
            &site.config_with(json!({ "base_url": base_url })),
        );
        let run = tap(&[&"--config", &config, &"--discover"]);
        assert_eq!(run.code, 1, "{}", run.stderr);
        assert!(run.stderr.contains("base_url"), "{}", run.stderr);
        assert_never_printed(&run, &["QUERY-SECRET-1", "QUERY-SECRET-2"]);
    }
}

#[test]
fn intermittent_login_pages_mid_sync_are_retried_and_lose_no_record() {
    let clean_site = Site::server();
    let clean = tap(&[
        &"--config",
        &clean_site.file("config.json", &clean_site.server_config()),
    ]);
    clean.assert_success();

    let site = Site::server();
    let config = site.file("config.json", &site.server_config());
    site.sim
        .sim
        .push_fault(Fault::html_login_page("/rest/api/2/search").times(3));
    let run = tap(&[&"--config", &config]);
    run.assert_success();
    assert_valid_singer_output(&run);
    assert!(run.stderr.contains("login page"), "{}", run.stderr);
    let count = |run: &common::Run| {
        run.messages()
            .iter()
            .filter(|m| m["type"] == "RECORD")
            .count()
    };
    assert_eq!(count(&run), count(&clean));
    assert_eq!(run.records("issues").len(), site.sim.sim.issue_count());
}

#[test]
fn a_login_page_for_myself_is_still_a_credentials_error() {
    let site = Site::new(SimConfig {
        deployment: Deployment::Server,
        ..SimConfig::default()
    });
    let config = site.file("config.json", &site.server_config());
    site.sim.sim.push_fault(Fault::html_login_page("/myself"));
    let run = tap(&[&"--config", &config, &"--discover"]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("authentication failed"),
        "{}",
        run.stderr
    );
}
