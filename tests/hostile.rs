//! A server that misbehaves on purpose: the tap never hangs, never fills memory, never loops, and
//! ends with one line that names the problem.

mod common;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use common::hostile::{Bounded, Hostile, Reply, run_bounded};
use serde_json::{Value, json};

/// Well under what the server sends (gigabytes), well over what the tap needs.
const MAX_RSS_MIB: u64 = 200;

/// The default `max_response_mb` (256) and the rest of the process: the body's buffer grows in
/// place up to the limit and no further (measured: 266 MiB).
const DEFAULT_LIMIT_RSS_MIB: u64 = 320;

const MYSELF: &str = "/rest/api/3/myself";

fn write(dir: &tempfile::TempDir, name: &str, value: &Value) -> PathBuf {
    let path = dir.path().join(name);
    std::fs::write(&path, value.to_string()).expect("write a test file");
    path
}

/// Discovery against `server` with `extra` config.
fn discover(server: &Hostile, extra: Value, limit: Duration) -> Bounded {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = write(&dir, "config.json", &server.config(extra));
    run_bounded(&[&"--config", &config, &"--discover"], limit)
}

#[test]
fn an_endless_chunked_body_stops_at_max_response_mb() {
    let server = Hostile::start(|r| (r.path == MYSELF).then_some(Reply::EndlessChunked));
    assert_myself_stopped_at_the_limit(&server, json!({"max_response_mb": 16}), 20);
}

/// Discovery against `server`, whose `/myself` answer is too large: the run fails within
/// `seconds`, in bounded memory, naming the limit and the endpoint, and asks only once.
fn assert_myself_stopped_at_the_limit(server: &Hostile, extra: Value, seconds: u64) {
    let run = discover(server, extra, Duration::from_secs(30));
    run.assert_failed_cleanly(
        Duration::from_secs(seconds),
        MAX_RSS_MIB,
        &["max_response_mb", "/rest/api/3/myself"],
    );
    assert_eq!(
        server.count(MYSELF),
        1,
        "a body too large is not asked for again"
    );
}

#[test]
fn a_compressed_body_that_decompresses_past_max_response_mb_is_stopped() {
    // 64 KiB on the wire, 64 MiB once decompressed: the limit counts what the tap would hold.
    let mut bomb = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    bomb.write_all(b"[").unwrap();
    let zeros = "0,".repeat(1 << 20);
    for _ in 0..32 {
        bomb.write_all(zeros.as_bytes()).unwrap();
    }
    bomb.write_all(b"0]").unwrap();
    let bomb = bomb.finish().unwrap();
    assert!(bomb.len() < 1 << 20, "{}", bomb.len());
    let server = Hostile::start(move |r| (r.path == MYSELF).then(|| Reply::Gzip(bomb.clone())));
    assert_myself_stopped_at_the_limit(&server, json!({"max_response_mb": 16}), 20);
}

#[test]
fn a_huge_content_length_is_refused_before_reading() {
    let server =
        Hostile::start(|r| (r.path == MYSELF).then_some(Reply::HugeLength { declared: 50 << 30 }));
    // The default limit (256 MiB) is below what is declared: nothing is read.
    assert_myself_stopped_at_the_limit(&server, json!({}), 10);
}

#[test]
fn a_body_that_trickles_forever_times_out_and_gives_up() {
    let server = Hostile::start(|r| {
        (r.path == MYSELF).then_some(Reply::Trickle {
            every: Duration::from_millis(100),
        })
    });
    let run = discover(
        &server,
        json!({"request_timeout": 1, "max_retries": 1}),
        Duration::from_secs(30),
    );
    run.assert_failed_cleanly(
        Duration::from_secs(15),
        MAX_RSS_MIB,
        &["giving up", "timed out"],
    );
}

/// Timing out on every attempt says which setting bounds the wait, so that a site this slow can
/// be given more time.
#[test]
fn timing_out_to_the_end_names_request_timeout() {
    let server = Hostile::start(|r| {
        (r.path == MYSELF).then_some(Reply::Trickle {
            every: Duration::from_millis(100),
        })
    });
    let run = discover(
        &server,
        json!({"request_timeout": 1, "max_retries": 1}),
        Duration::from_secs(30),
    );
    run.assert_failed_cleanly(
        Duration::from_secs(15),
        MAX_RSS_MIB,
        &["timed out", "request_timeout"],
    );
}

#[test]
fn a_retry_after_of_days_fails_at_once() {
    let server = Hostile::start(|r| {
        (r.path == MYSELF).then_some(Reply::Status {
            status: 429,
            headers: vec![("Retry-After", "864000".into())],
            body: String::new(),
        })
    });
    let run = discover(
        &server,
        json!({"retry_budget_seconds": 900}),
        Duration::from_secs(30),
    );
    run.assert_failed_cleanly(
        Duration::from_secs(10),
        MAX_RSS_MIB,
        &["Retry-After of 864000s", "retry_budget_seconds"],
    );
    assert_eq!(server.count(MYSELF), 1, "no wait, no second attempt");
}

/// Rate headers only pace the requests that follow: a bucket they say fills again in more
/// seconds than a clock can hold (a limit of 10^20 tokens at ten a second) is a bucket that
/// does not fill while the tap runs, not a crash on an answer that came back whole.
#[test]
fn rate_headers_of_a_bucket_that_never_fills_do_not_end_the_run() {
    let server = Hostile::start(|r| {
        (r.path == MYSELF).then(|| Reply::Status {
            status: 200,
            headers: vec![
                ("Content-Type", "application/json".into()),
                ("X-RateLimit-Limit", "100000000000000000000".into()),
                ("X-RateLimit-Remaining", "0".into()),
                ("X-RateLimit-FillRate", "10".into()),
                ("X-RateLimit-Interval-Seconds", "1".into()),
            ],
            body: json!({
                "accountId": "5b10a2844c20165700ede21g", "displayName": "Hostile",
                "timeZone": "UTC", "active": true,
            })
            .to_string(),
        })
    });
    let run = discover(&server, json!({}), Duration::from_secs(60));
    let stderr = &run.run.stderr;
    assert!(!stderr.contains("panicked"), "the tap panicked:\n{stderr}");
    assert_eq!(run.run.code, 0, "{stderr}");
    let catalog: Value = serde_json::from_str(&run.run.stdout).expect("a catalog");
    assert!(
        catalog["streams"].as_array().is_some_and(|s| !s.is_empty()),
        "{stderr}"
    );
}

/// Whether `messages` hold an ACTIVATE_VERSION of `stream`.
fn activates(messages: &[Value], stream: &str) -> bool {
    messages
        .iter()
        .any(|m| m["type"] == "ACTIVATE_VERSION" && m["stream"] == stream)
}

/// Discovers against `server`, selects only `stream`, and syncs it.
fn sync_only(server: &Hostile, stream: &str, extra: Value, limit: Duration) -> Bounded {
    sync_only_from(server, stream, extra, None, limit)
}

/// `sync_only`, from `state` when given.
fn sync_only_from(
    server: &Hostile,
    stream: &str,
    extra: Value,
    state: Option<&Value>,
    limit: Duration,
) -> Bounded {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = write(&dir, "config.json", &server.config(extra));
    let discovered = run_bounded(&[&"--config", &config, &"--discover"], limit);
    assert_eq!(
        discovered.run.code, 0,
        "discovery failed:\n{}",
        discovered.run.stderr
    );
    let mut catalog: Value =
        serde_json::from_str(&discovered.run.stdout).expect("discover prints a catalog");
    for entry in catalog["streams"].as_array_mut().expect("streams") {
        let on = entry["tap_stream_id"] == stream;
        for m in entry["metadata"].as_array_mut().expect("metadata") {
            if m["breadcrumb"] == json!([]) {
                m["metadata"]["selected"] = json!(on);
            }
        }
    }
    let catalog = write(&dir, "catalog.json", &catalog);
    sync_files(&dir, &config, &catalog, state, limit)
}

/// A sync of the config and catalog written in `dir`, from `state` when given (written there).
fn sync_files(
    dir: &tempfile::TempDir,
    config: &Path,
    catalog: &Path,
    state: Option<&Value>,
    limit: Duration,
) -> Bounded {
    match state {
        Some(state) => {
            let state = write(dir, "state.json", state);
            run_bounded(
                &[
                    &"--config",
                    &config,
                    &"--catalog",
                    &catalog,
                    &"--state",
                    &state,
                ],
                limit,
            )
        }
        None => run_bounded(&[&"--config", &config, &"--catalog", &catalog], limit),
    }
}

fn user(n: u32) -> Value {
    json!({"accountId": format!("acc-{n}"), "accountType": "atlassian", "displayName": format!("User {n}"), "active": true})
}

#[test]
fn an_offset_pager_that_ignores_start_at_stops_without_duplicates() {
    // A bare array: no `isLast`, no `total`, the same users whatever `startAt` says.
    let server = Hostile::start(|r| {
        (r.path == "/rest/api/3/users/search").then(|| Reply::Json(json!([user(1), user(2)])))
    });
    let run = sync_only(&server, "users", json!({}), Duration::from_secs(30));
    run.assert_failed_cleanly(
        Duration::from_secs(20),
        MAX_RSS_MIB,
        &["rest/api/3/users/search", "paging does not advance"],
    );
    let ids: Vec<Value> = run
        .run
        .records("users")
        .iter()
        .map(|u| u["accountId"].clone())
        .collect();
    assert_eq!(ids, vec![json!("acc-1"), json!("acc-2")], "each user once");
    assert!(server.count("/rest/api/3/users/search") <= 4);
}

#[test]
fn an_offset_pager_that_ignores_start_at_but_honours_max_results_stops_without_duplicates() {
    // A bare array of 150 users that always starts at the first, whatever `startAt` says, and
    // gives as many as `maxResults` asks: a page asked from the last row read is the first page
    // again, not a page moved on.
    let server = Hostile::start(|r| {
        (r.path == "/rest/api/3/users/search").then(|| {
            let max = r.param("maxResults").unwrap_or(50).min(150) as u32;
            Reply::Json(json!((0..max).map(user).collect::<Vec<_>>()))
        })
    });
    let run = sync_only(&server, "users", json!({}), Duration::from_secs(30));
    run.assert_failed_cleanly(
        Duration::from_secs(20),
        MAX_RSS_MIB,
        &["rest/api/3/users/search", "paging does not advance"],
    );
    let ids: Vec<Value> = run
        .run
        .records("users")
        .iter()
        .map(|u| u["accountId"].clone())
        .collect();
    let unique: std::collections::BTreeSet<String> = ids.iter().map(Value::to_string).collect();
    assert_eq!(
        unique.len(),
        ids.len(),
        "each user once: {} written",
        ids.len()
    );
}

#[test]
fn pagers_that_cycle_through_pages_stop_without_duplicates() {
    // Two pages of users in turn, forever, by `startAt` (no total).
    let server = Hostile::start(|r| match r.path.as_str() {
        "/rest/api/3/users/search" => {
            let odd = r.param("startAt").unwrap_or(0) / 2 % 2 == 1;
            let page = if odd {
                [user(3), user(4)]
            } else {
                [user(1), user(2)]
            };
            Some(Reply::Json(json!(page)))
        }
        _ => None,
    });
    let run = sync_only(&server, "users", json!({}), Duration::from_secs(30));
    run.assert_failed_cleanly(
        Duration::from_secs(20),
        MAX_RSS_MIB,
        &["rest/api/3/users/search", "paging does not advance"],
    );
    assert_eq!(run.run.records("users").len(), 4, "each user once");
    assert!(server.count("/rest/api/3/users/search") <= 6);
}

#[test]
fn worklog_pages_that_creep_forward_without_worklogs_end_the_sync_past_them() {
    // Empty pages that are not the last, each `until` a millisecond after its `since`, for ever:
    // what a run of worklogs hidden from the account looks like, without end.
    let base = 1_704_067_200_000_u64;
    let server = Hostile::start(move |r| match r.path.as_str() {
        "/rest/api/3/worklog/updated" => {
            let since = r.param("since").unwrap_or(0).max(base);
            Some(Reply::Json(
                json!({"values": [], "since": since, "until": since + 1, "lastPage": false}),
            ))
        }
        "/rest/api/3/worklog/deleted" => Some(Reply::Json(
            json!({"values": [], "since": base, "until": base, "lastPage": true}),
        )),
        _ => None,
    });
    let run = sync_only(
        &server,
        "worklogs",
        json!({"start_date": "2024-01-01T00:00:00Z"}),
        Duration::from_secs(60),
    );
    assert_eq!(run.run.code, 0, "{}", run.run.stderr);
    assert!(
        run.elapsed < Duration::from_secs(50),
        "took {:?}",
        run.elapsed
    );
    assert!(
        run.run
            .stderr
            .contains("brought no worklog this account may see"),
        "{}",
        run.run.stderr
    );
    assert_eq!(server.count("/rest/api/3/worklog/updated"), 200);
    // The bookmark moved past the pages read, so the next sync does not read them again.
    assert_eq!(
        run.run.last_state()["bookmarks"]["worklogs"]["updated"],
        json!("2024-01-01T00:00:00.200Z")
    );
}

#[test]
fn empty_worklog_pages_the_bookmark_cannot_follow_fail_the_sync() {
    // Empty pages that are not the last, their `until` two days ahead and creeping: a bookmark
    // there would skip every change until then, so the sync cannot end as if it had moved past
    // them. On `worklog/deleted`, which Jira does not thin, any such run is a server that loops.
    let base = 1_704_067_200_000_u64;
    let future =
        u64::try_from(chrono::Utc::now().timestamp_millis()).expect("after 1970") + 2 * 86_400_000;
    let creeping = move |r: &common::hostile::Request, from: u64| {
        let since = r.param("since").unwrap_or(0).max(from);
        Reply::Json(json!({"values": [], "since": since, "until": since + 1, "lastPage": false}))
    };
    let server = Hostile::start(move |r| match r.path.as_str() {
        "/rest/api/3/worklog/updated" => Some(creeping(r, future)),
        _ => None,
    });
    let config = json!({"start_date": "2024-01-01T00:00:00Z"});
    let run = sync_only(&server, "worklogs", config.clone(), Duration::from_secs(60));
    run.assert_failed_cleanly(
        Duration::from_secs(50),
        MAX_RSS_MIB,
        &["rest/api/3/worklog/updated", "paging does not advance"],
    );
    let server = Hostile::start(move |r| match r.path.as_str() {
        "/rest/api/3/worklog/updated" => Some(Reply::Json(
            json!({"values": [], "since": base, "until": base, "lastPage": true}),
        )),
        "/rest/api/3/worklog/deleted" => Some(creeping(r, base)),
        _ => None,
    });
    let run = sync_only(&server, "worklogs", config, Duration::from_secs(60));
    run.assert_failed_cleanly(
        Duration::from_secs(50),
        MAX_RSS_MIB,
        &["rest/api/3/worklog/deleted", "paging does not advance"],
    );
}

#[test]
fn worklog_pages_that_hide_worklogs_are_read_through() {
    // Jira leaves out worklogs the account may not see after it has paged them: pages that
    // are not the last may be empty, or end after their youngest worklog.
    let base = 1_704_067_200_000_u64;
    let server = Hostile::start(move |r| match r.path.as_str() {
        "/rest/api/3/worklog/updated" => {
            let since = r.param("since").unwrap_or(0).max(base);
            let page = (since - base) / 5000;
            let values = match page {
                0 => json!([{"worklogId": 1, "updatedTime": since + 10}]),
                1 => json!([]),
                _ => json!([{"worklogId": 2, "updatedTime": since + 10}]),
            };
            Some(Reply::Json(json!({"values": values, "since": since,
                "until": base + (page + 1) * 5000, "lastPage": page >= 2})))
        }
        "/rest/api/3/worklog/deleted" => Some(Reply::Json(
            json!({"values": [], "since": base, "until": base, "lastPage": true}),
        )),
        "/rest/api/3/worklog/list" => Some(Reply::Json(json!([
            {"id": "1", "issueId": "10000", "updated": "2024-01-01T00:00:00.010+0000"},
            {"id": "2", "issueId": "10000", "updated": "2024-01-01T00:00:10.010+0000"},
        ]))),
        _ => None,
    });
    let run = sync_only(&server, "worklogs", json!({}), Duration::from_secs(30));
    assert_eq!(run.run.code, 0, "{}", run.run.stderr);
    assert_eq!(server.count("/rest/api/3/worklog/updated"), 3);
}

#[test]
fn a_server_search_over_a_list_that_repeats_stops() {
    // Server/Data Center: `startAt` honoured over seven issues that repeat without end, and a
    // total always a page ahead.
    let server = Hostile::start(|r| {
        (r.path == "/rest/api/2/search").then(|| {
            let body: Value = serde_json::from_str(&r.body).unwrap_or_default();
            let start = body["startAt"].as_u64().unwrap_or(0);
            let size = body["maxResults"].as_u64().unwrap_or(50);
            let issues: Vec<Value> = (start..start + size)
                .map(|i| {
                    let n = i % 7;
                    json!({"id": format!("{}", 10_000 + n), "key": format!("R-{n}"),
                           "fields": {"updated": format!("2024-05-01T10:00:0{n}.000+0000")}})
                })
                .collect();
            Reply::Json(json!({"startAt": start, "maxResults": size,
                               "total": start + size + 1, "issues": issues}))
        })
    });
    let server_pat = json!({"deployment": "server", "email": null, "api_token": null,
                            "personal_access_token": "HOSTILE-SECRET-PAT"});
    let run = sync_only(&server, "issues", server_pat, Duration::from_secs(30));
    run.assert_failed_cleanly(
        Duration::from_secs(20),
        MAX_RSS_MIB,
        &["rest/api/2/search", "paging does not advance"],
    );
    assert_eq!(run.run.records("issues").len(), 7, "each issue once");
    // Its pages lie in one minute: that minute's id listing and reads by id come on top.
    let searches = server.count("/rest/api/2/search");
    assert!(searches <= 14, "{searches} searches");
}

#[test]
fn an_offset_pager_that_moves_on_still_reads_every_page() {
    // Fewer rows than asked, no `total`: the pager reads on until an empty page.
    let server = Hostile::start(|r| {
        (r.path == "/rest/api/3/users/search").then(|| {
            let start = r.param("startAt").unwrap_or(0) as u32;
            let page: Vec<Value> = (start..(start + 7).min(30)).map(user).collect();
            Reply::Json(json!(page))
        })
    });
    let run = sync_only(&server, "users", json!({}), Duration::from_secs(30));
    assert_eq!(run.run.code, 0, "{}", run.run.stderr);
    assert_eq!(run.run.records("users").len(), 30);
}

#[test]
fn a_token_pager_with_fresh_tokens_and_empty_pages_stops() {
    let pages = std::sync::atomic::AtomicU64::new(0);
    let server = Hostile::start(move |r| {
        (r.path == "/rest/api/3/search/jql").then(|| {
            let n = pages.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            Reply::Json(
                json!({"issues": [], "nextPageToken": format!("token-{n}"), "isLast": false}),
            )
        })
    });
    let run = sync_only(&server, "issues", json!({}), Duration::from_secs(30));
    run.assert_failed_cleanly(
        Duration::from_secs(20),
        MAX_RSS_MIB,
        &["rest/api/3/search/jql", "paging does not advance"],
    );
    assert!(server.count("/rest/api/3/search/jql") <= 4);
}

#[test]
fn value_pagers_that_ignore_start_at_stop_too() {
    // `values` pages without `isLast` or `total`, the same whatever `startAt` says: projects, and
    // the members of a configured group. Two projects: a page of one that comes again from one
    // row before (the last row read, asked again) is a list of one that ends there.
    let server = Hostile::start(|r| match r.path.as_str() {
        "/rest/api/3/project/search" => Some(Reply::Json(json!({
            "startAt": r.param("startAt").unwrap_or(0), "maxResults": 50,
            "values": [{"id": "10000", "key": "WEB", "name": "Web"},
                       {"id": "10001", "key": "APP", "name": "App"}],
        }))),
        "/rest/api/3/group/member" => Some(Reply::Json(json!({
            "startAt": r.param("startAt").unwrap_or(0), "maxResults": 50,
            "values": [user(1), user(2), user(3)],
        }))),
        _ => None,
    });
    let run = sync_only(&server, "projects", json!({}), Duration::from_secs(30));
    run.assert_failed_cleanly(
        Duration::from_secs(20),
        MAX_RSS_MIB,
        &["rest/api/3/project/search", "paging does not advance"],
    );
    assert_eq!(run.run.records("projects").len(), 2, "each project once");

    let run = sync_only(
        &server,
        "users",
        json!({"groups": "staff"}),
        Duration::from_secs(30),
    );
    run.assert_failed_cleanly(
        Duration::from_secs(20),
        MAX_RSS_MIB,
        &["rest/api/3/group/member", "paging does not advance"],
    );
    assert_eq!(run.run.records("users").len(), 3, "each member once");
}

#[test]
fn an_endless_body_under_the_default_limit_costs_about_the_limit_in_memory() {
    let server = Hostile::start(|r| (r.path == MYSELF).then_some(Reply::EndlessChunked));
    let run = discover(&server, json!({}), Duration::from_secs(60));
    // The default `max_response_mb` is 256: the body is read up to it, and no further.
    run.assert_failed_cleanly(
        Duration::from_secs(30),
        DEFAULT_LIMIT_RSS_MIB,
        &["max_response_mb", "/rest/api/3/myself"],
    );
}

#[test]
fn a_parent_id_that_is_a_dot_segment_is_refused_not_followed_up_the_path() {
    // `project/../version` would resolve to `version`: another endpoint of the same site.
    let server = Hostile::start(|r| match r.path.as_str() {
        "/rest/api/3/project/search" => Some(Reply::Json(json!({
            "startAt": 0, "maxResults": 50, "isLast": true,
            "values": [{"id": "..", "key": "DOTS", "name": "Dots"}],
        }))),
        _ => None,
    });
    let run = sync_only(&server, "versions", json!({}), Duration::from_secs(30));
    run.assert_failed_cleanly(
        Duration::from_secs(20),
        MAX_RSS_MIB,
        &[
            "project/{projectId}/version",
            "`..`",
            "cannot be put in a request path",
        ],
    );
    let paths: Vec<String> = server.requests().into_iter().map(|r| r.path).collect();
    assert!(
        paths.iter().all(|p| !p.contains("version")),
        "no request for versions went out: {paths:?}"
    );

    // In a query, as a group's name, the same value is harmless: the group's members are read.
    let server = Hostile::start(|r| match r.path.as_str() {
        "/rest/api/3/group/bulk" => Some(Reply::Json(json!({
            "startAt": 0, "maxResults": 50, "isLast": true,
            "values": [{"name": "..", "groupId": "g-1"}],
        }))),
        "/rest/api/3/group/member" => Some(Reply::Json(json!({
            "startAt": 0, "maxResults": 50, "isLast": true, "values": [user(1)],
        }))),
        _ => None,
    });
    let run = sync_only(&server, "group_members", json!({}), Duration::from_secs(30));
    assert_eq!(run.run.code, 0, "{}", run.run.stderr);
    assert_eq!(run.run.records("group_members").len(), 1);
}

/// `Retry-After: 0` (or a date already past) on a 503 that never ends is no wait Jira asked for:
/// each retry counts against `max_retries` and waits the usual backoff. (Uncounted, the request
/// was sent again at once, over and over, until `retry_budget_seconds` ran out.)
#[test]
fn a_retry_after_of_zero_does_not_retry_without_end_or_pause() {
    let server = Hostile::start(|r| {
        (r.path == "/rest/api/3/myself").then(|| Reply::Status {
            status: 503,
            headers: vec![
                ("Retry-After", "0".into()),
                ("Content-Type", "application/json".into()),
            ],
            body: json!({"errorMessages": ["Service unavailable."]}).to_string(),
        })
    });
    let dir = tempfile::tempdir().expect("temp dir");
    let config = write(
        &dir,
        "config.json",
        &server.config(json!({"max_retries": 2, "retry_budget_seconds": 3})),
    );
    let run = run_bounded(
        &[&"--config", &config, &"--discover"],
        Duration::from_secs(30),
    );
    assert_ne!(run.run.code, 0);
    let asked = server.count("/rest/api/3/myself");
    assert!(
        asked <= 10,
        "max_retries is 2, yet /myself was asked {asked} times in {:?}",
        run.elapsed
    );
}

/// `deleted_issues: reconcile` on Server/DC lists every issue id with offset pages (Jira's
/// default order, newest key first): when an issue listed on an earlier page is deleted while
/// the listing pages, every later row moves up one place and the row at the page boundary is
/// listed by no page. That issue, found still there, stays in the stored id set: deleted before
/// the next run, its deletion is still reported.
#[test]
fn an_issue_skipped_by_a_shifting_reconcile_listing_still_has_its_deletion_reported() {
    use std::sync::{Arc, Mutex};
    // Issue ids 10001..=10010 (keys P-1..P-10); the alive ones, and how many listing pages of
    // the current run were served (the page cap is 4).
    let alive: Arc<Mutex<Vec<u64>>> = Arc::new(Mutex::new((10001..=10010).collect()));
    let pages_served = Arc::new(Mutex::new(0u32));
    // Deleted before the listing's second page of the second run.
    let delete_during_listing = Arc::new(Mutex::new(None::<u64>));
    const CAP: u64 = 4;
    let (a, p, d) = (
        alive.clone(),
        pages_served.clone(),
        delete_during_listing.clone(),
    );
    let server = Hostile::start(move |r| {
        let issue = |id: u64| json!({"expand": "", "id": id.to_string(), "self": format!("http://jira/rest/api/2/issue/{id}"), "key": format!("P-{}", id - 10000)});
        match r.path.as_str() {
            "/rest/api/2/search" => {
                let body: Value = serde_json::from_str(&r.body).unwrap_or_default();
                let jql = body["jql"].as_str().unwrap_or("");
                let start = r.param("startAt").unwrap_or(0);
                if !jql.contains("created >=") {
                    // The issue search: nothing was updated.
                    return Some(Reply::Json(
                        json!({"startAt": start, "maxResults": 50, "total": 0, "issues": []}),
                    ));
                }
                let mut served = p.lock().unwrap();
                *served += 1;
                if *served == 2
                    && let Some(id) = d.lock().unwrap().take()
                {
                    a.lock().unwrap().retain(|x| *x != id);
                }
                // Jira's default order: newest key first.
                let mut ids = a.lock().unwrap().clone();
                ids.sort_unstable_by(|x, y| y.cmp(x));
                let page: Vec<Value> = ids
                    .iter()
                    .skip(start as usize)
                    .take(CAP as usize)
                    .map(|id| issue(*id))
                    .collect();
                Some(Reply::Json(
                    json!({"startAt": start, "maxResults": CAP, "total": ids.len(), "issues": page}),
                ))
            }
            path if path.starts_with("/rest/api/2/issue/") => {
                let id: u64 = path.trim_start_matches("/rest/api/2/issue/").parse().ok()?;
                if a.lock().unwrap().contains(&id) {
                    Some(Reply::Json(
                        json!({"id": id.to_string(), "key": format!("P-{}", id - 10000), "fields": {}}),
                    ))
                } else {
                    Some(Reply::Status {
                        status: 404,
                        headers: vec![("Content-Type", "application/json".into())],
                        body: json!({"errorMessages": ["Issue does not exist or you do not have permission to see it."]}).to_string(),
                    })
                }
            }
            _ => None,
        }
    });
    let dir = tempfile::tempdir().expect("temp dir");
    let config = write(
        &dir,
        "config.json",
        &server.config(json!({"deployment": "server", "deleted_issues": "reconcile"})),
    );
    let limit = Duration::from_secs(60);
    let discovered = run_bounded(&[&"--config", &config, &"--discover"], limit);
    assert_eq!(discovered.run.code, 0, "{}", discovered.run.stderr);
    let mut catalog: Value = serde_json::from_str(&discovered.run.stdout).unwrap();
    for entry in catalog["streams"].as_array_mut().unwrap() {
        let on = entry["tap_stream_id"] == "issues";
        for m in entry["metadata"].as_array_mut().unwrap() {
            if m["breadcrumb"] == json!([]) {
                m["metadata"]["selected"] = json!(on);
            }
        }
    }
    let catalog = write(&dir, "catalog.json", &catalog);
    let sync = |state: Option<&Value>| {
        *pages_served.lock().unwrap() = 0;
        let run = sync_files(&dir, &config, &catalog, state, limit);
        assert_eq!(run.run.code, 0, "{}", run.run.stderr);
        run
    };
    // Run 1 lists the ten ids.
    let first = sync(None);
    // Run 2: P-10 is deleted after the listing's first page (P-10..P-7): P-6 moves from the
    // second page's start to the first page's end and is listed by neither.
    *delete_during_listing.lock().unwrap() = Some(10010);
    let second = sync(Some(&first.run.last_state()));
    let deleted = |run: &Bounded| -> Vec<Value> {
        run.run
            .records("issues")
            .iter()
            .filter(|r| r.get("_sdc_deleted_at").is_some())
            .map(|r| r["id"].clone())
            .collect()
    };
    // Run 3: P-6 (alive all along until now) is deleted, and P-10 is finally noticed.
    alive.lock().unwrap().retain(|x| *x != 10006);
    let third = sync(Some(&second.run.last_state()));
    let reported: Vec<Value> = deleted(&second)
        .into_iter()
        .chain(deleted(&third))
        .collect();
    assert!(
        reported.contains(&json!("10006")),
        "issue 10006 was deleted, but no run reported it (reported: {reported:?}); state after run 2: {}",
        second.run.last_state()
    );
}

fn server_user(n: u32) -> Value {
    json!({"self": format!("http://jira/rest/api/2/user?username=u{n}"), "key": format!("JIRAUSER{n}"),
           "name": format!("u{n}"), "displayName": format!("User {n}"), "active": true, "timeZone": "UTC"})
}

/// A Data Center search of this many issues, issue i created 10 s after the one before from
/// 2024-01-01 00:00 UTC, refused past its 10,000th row.
const WINDOWED_ISSUES: u64 = 10_500;
const SEARCH_WINDOW: u64 = 10_000;

fn windowed_created(i: u64) -> i64 {
    1_704_067_200 + 10 * i as i64
}

/// The minute of the JQL's `created >= "…"` clause, as a Unix time; the start of time without one.
fn created_from(jql: &str) -> i64 {
    jql.find("created >= \"").map_or(i64::MIN, |at| {
        chrono::NaiveDateTime::parse_from_str(&jql[at + 12..at + 28], "%Y/%m/%d %H:%M")
            .map_or(i64::MIN, |t| t.and_utc().timestamp())
    })
}

/// The page of `hits` from `start`, or Data Center's refusal of a page past its window.
fn windowed_page(hits: &[u64], start: u64, max: u64) -> Reply {
    if start + max > SEARCH_WINDOW {
        return Reply::Status {
            status: 500,
            headers: vec![("Content-Type", "application/json".into())],
            body: json!({"errorMessages": [format!("Search limit exceeded. We couldn't complete \
                your search because it requests {} results which exceeded the search platform \
                limit of {SEARCH_WINDOW}.", start + max)], "errors": {}})
            .to_string(),
        };
    }
    let page: Vec<Value> = hits
        .iter()
        .skip(start as usize)
        .take(max as usize)
        .map(|i| {
            let at = chrono::DateTime::from_timestamp(windowed_created(*i), 0).unwrap();
            json!({"id": (10001 + i).to_string(), "key": format!("P-{}", i + 1),
                   "fields": {"created": at.format("%Y-%m-%dT%H:%M:%S.000+0000").to_string()}})
        })
        .collect();
    Reply::Json(json!({"startAt": start, "maxResults": max, "total": hits.len(), "issues": page}))
}

/// Jira Data Center pages a search no deeper than its search platform's window: a page that
/// reaches past the 10,000th row (`startAt` plus the page) is refused with a 500, "Search limit
/// exceeded" (Atlassian's KB "Handling JQL REST API searching exceeding max_result_window").
/// `deleted_issues: reconcile` lists every issue id: on a site of 10,500 issues, it must not page
/// that deep.
#[test]
fn a_reconcile_listing_of_more_issues_than_the_data_center_search_window_completes() {
    let server = Hostile::start(move |r| {
        if r.path != "/rest/api/2/search" {
            return None;
        }
        let body: Value = serde_json::from_str(&r.body).unwrap_or_default();
        let jql = body["jql"].as_str().unwrap_or("");
        let start = r.param("startAt").unwrap_or(0);
        if !jql.contains("created >= \"") {
            // The issue search: nothing was updated.
            return Some(Reply::Json(
                json!({"startAt": start, "maxResults": 50, "total": 0, "issues": []}),
            ));
        }
        let max = r.param("maxResults").unwrap_or(50).min(1000);
        // In order of creation, which is also the order of ids.
        let hits: Vec<u64> = (0..WINDOWED_ISSUES)
            .filter(|i| windowed_created(*i) >= created_from(jql))
            .collect();
        Some(windowed_page(&hits, start, max))
    });
    let run = sync_only(
        &server,
        "issues",
        json!({"deployment": "server", "deleted_issues": "reconcile", "max_retries": 1}),
        Duration::from_secs(120),
    );
    assert_eq!(run.run.code, 0, "{}", run.run.stderr);
}

/// The agile API's issue lists are the same search on Data Center (the board's filter, ANDed
/// with the `jql` parameter, whose `ORDER BY` replaces the board's order): a board of 10,500
/// issues is refused past the 10,000th row like `/search`. `board_issues` must list the whole
/// board, or else not activate a pass that would delete from the target the rows it never read,
/// and say so; not fail the sync, nor end short as if the board were whole.
#[test]
fn a_board_of_more_issues_than_the_data_center_search_window_is_listed_whole_or_not_activated() {
    let server = Hostile::start(move |r| match r.path.as_str() {
        "/rest/agile/1.0/board" => Some(Reply::Json(json!({
            "startAt": 0, "maxResults": 50, "total": 1, "isLast": true,
            "values": [{"id": 1, "name": "Everything", "type": "kanban"}],
        }))),
        "/rest/agile/1.0/board/1/issue" => {
            let jql = r.query.get("jql").map_or("", String::as_str);
            let start = r.param("startAt").unwrap_or(0);
            let max = r.param("maxResults").unwrap_or(50).min(1000);
            let mut hits: Vec<u64> = (0..WINDOWED_ISSUES)
                .filter(|i| windowed_created(*i) >= created_from(jql))
                .collect();
            // The board's own order is its rank (here the newest first), unless the JQL orders.
            if !jql.contains("ORDER BY created") {
                hits.reverse();
            }
            Some(windowed_page(&hits, start, max))
        }
        _ => None,
    });
    let run = sync_only(
        &server,
        "board_issues",
        json!({"deployment": "server", "max_retries": 1}),
        Duration::from_secs(120),
    );
    assert_eq!(run.run.code, 0, "{}", run.run.stderr);
    let listed: std::collections::HashSet<String> = run
        .run
        .records("board_issues")
        .iter()
        .filter_map(|r| r["issueId"].as_str().map(String::from))
        .collect();
    let messages = run.run.messages();
    let is_row = |m: &Value| m["type"] == "RECORD" && m["stream"] == "board_issues";
    let first_row = messages.iter().position(is_row).unwrap_or(messages.len());
    let activated = activates(&messages[first_row..], "board_issues");
    let whole = listed.len() as u64 == WINDOWED_ISSUES;
    assert!(
        whole || (!activated && run.run.stderr.contains("WARN")),
        "the board has {WINDOWED_ISSUES} issues; the tap listed {} and activated the pass: {activated}\n{}",
        listed.len(),
        run.run.stderr
    );
}

/// Jira Data Center 10 limits `/rest/api/2/user/search` to the first 100 results whatever
/// `startAt` says (JRASERVER-78520, "not a bug"). A site of 150 users: the tap cannot list more
/// than 100 that way, and says so, with what to do, rather than end as if it had them all.
#[test]
fn server_users_beyond_the_data_center_10_search_cap_are_not_silently_dropped() {
    const USERS: u32 = 150;
    const CAP: u64 = 100;
    let server = Hostile::start(|r| match r.path.as_str() {
        "/rest/api/2/user/search" => {
            let start = r.param("startAt").unwrap_or(0);
            let max = r.param("maxResults").unwrap_or(50).min(CAP);
            let end = (start + max).min(CAP).min(u64::from(USERS));
            let page: Vec<Value> = (start..end.max(start))
                .map(|n| server_user(n as u32))
                .collect();
            Some(Reply::Json(json!(page)))
        }
        _ => None,
    });
    let run = sync_only(
        &server,
        "users",
        json!({"deployment": "server"}),
        Duration::from_secs(60),
    );
    let users = run.run.records("users").len();
    let warned = run.run.stderr.contains("WARN") && run.run.stderr.to_lowercase().contains("user");
    assert!(
        users == USERS as usize || run.run.code != 0 || warned,
        "the site has {USERS} users; the tap wrote {users}, exited {} and said nothing:\n{}",
        run.run.code,
        run.run.stderr
    );
    // Nor is the pass activated after its records (a first sync's opening one creates the
    // table): a target honouring ACTIVATE_VERSION would delete the users the search could not
    // list.
    let messages: Vec<Value> = run
        .run
        .stdout
        .lines()
        .filter_map(|line| serde_json::from_str(line).ok())
        .collect();
    let is_user = |m: &Value| m["type"] == "RECORD" && m["stream"] == "users";
    let first_user = messages.iter().position(is_user).unwrap_or(messages.len());
    let activated = activates(&messages[first_user..], "users");
    assert!(
        users == USERS as usize || !activated,
        "{users} of {USERS} users listed, and the users table activated"
    );
}

/// Jira Server and Data Center before 10 list at most the first 1000 users of
/// `/rest/api/2/user/search` whatever `startAt` says (JRASERVER-65089). A site of 1500 users:
/// the tap cannot list more than 1000 that way, and says so rather than activate a pass that
/// lacks a third of them.
#[test]
fn server_users_beyond_the_user_search_cap_of_1000_are_not_silently_dropped() {
    const USERS: u64 = 1500;
    const CAP: u64 = 1000;
    let server = Hostile::start(|r| match r.path.as_str() {
        "/rest/api/2/user/search" => {
            let start = r.param("startAt").unwrap_or(0);
            let max = r.param("maxResults").unwrap_or(50).min(CAP);
            let end = (start + max).min(CAP).min(USERS);
            let page: Vec<Value> = (start..end.max(start))
                .map(|n| server_user(n as u32))
                .collect();
            Some(Reply::Json(json!(page)))
        }
        _ => None,
    });
    let run = sync_only(
        &server,
        "users",
        json!({"deployment": "server"}),
        Duration::from_secs(60),
    );
    let users = run.run.records("users").len();
    assert_eq!(users, CAP as usize, "{}", run.run.stderr);
    let messages: Vec<Value> = run
        .run
        .stdout
        .lines()
        .filter_map(|line| serde_json::from_str(line).ok())
        .collect();
    let is_user = |m: &Value| m["type"] == "RECORD" && m["stream"] == "users";
    let first_user = messages.iter().position(is_user).unwrap_or(messages.len());
    let activated = activates(&messages[first_user..], "users");
    assert!(
        !activated,
        "{users} of {USERS} users listed, and the users table activated:\n{}",
        run.run.stderr
    );
    assert!(
        run.run.stderr.contains("WARN") && run.run.stderr.contains("/user/search listed 1000"),
        "nothing said of the cap:\n{}",
        run.run.stderr
    );
}

/// One page of one issue whose `description` is the JSON text `description`.
fn issue_page(description: &str) -> String {
    issue_page_with(&format!(r#","summary":"s","description":{description}"#))
}

/// One page of one issue with `fields` (`,"key":value…`) among its fields.
/// Comment `i` of issue 10000 (id `20000 + i`), with `body`.
fn comment(i: u64, body: &str) -> Value {
    json!({"id": (20000 + i).to_string(), "body": body,
        "created": "2024-04-02T05:28:53.041+0000", "updated": "2024-04-02T05:28:53.041+0000"})
}

/// A page of `/issue/{id}/comment` holding the comments `ids`, as asked from `start`.
fn comment_page(ids: std::ops::Range<u64>, body: &str, start: u64, max: u64, total: u64) -> Reply {
    let comments: Vec<Value> = ids.map(|i| comment(i, body)).collect();
    Reply::Json(json!({"startAt": start, "maxResults": max, "total": total, "comments": comments}))
}

fn issue_page_with(fields: &str) -> String {
    format!(
        r#"{{"issues":[{{"id":"10000","key":"P-1","fields":{{"created":"2024-04-02T05:28:53.041+0000","updated":"2024-12-27T16:27:38.301+0000"{fields}}}}}],"isLast":true}}"#
    )
}

fn serve_issue_page(body: String) -> Hostile {
    Hostile::start(move |r| {
        (r.path == "/rest/api/3/search/jql").then(|| Reply::Status {
            status: 200,
            headers: vec![("Content-Type", "application/json".into())],
            body: body.clone(),
        })
    })
}

/// Every stdout line is JSON a strict reader takes (serde_json; Python's `json` and then a
/// UTF-8 encoder, in every Python target).
fn assert_strict_json_lines(run: &Bounded) {
    for line in run.run.stdout.lines() {
        if let Err(e) = serde_json::from_str::<Value>(line) {
            panic!("not strict JSON ({e}): {}", &line[..line.len().min(400)]);
        }
    }
}

/// A lone surrogate escape (`\ud800`: a Java string cut in the middle of an emoji) is valid JSON
/// syntax but no Unicode: written as it came, it was a line strict readers refuse. U+FFFD
/// takes its place, in an issue passed through as text and in an ADF document rendered.
#[test]
fn a_lone_surrogate_in_an_issue_leaves_as_the_replacement_character() {
    let server = serve_issue_page(issue_page(r#""lone \ud800 surrogate""#));
    let run = sync_only(&server, "issues", json!({}), Duration::from_secs(60));
    assert_eq!(run.run.code, 0, "{}", run.run.stderr);
    assert_strict_json_lines(&run);
    let issues = run.run.records("issues");
    assert_eq!(
        issues[0]["fields"]["description"],
        json!("lone \u{fffd} surrogate")
    );
    let adf = r#"{"type":"doc","version":1,"content":[{"type":"paragraph","content":[{"type":"text","text":"cut \ud83d"}]}]}"#;
    let server = serve_issue_page(issue_page(adf));
    for extra in [
        json!({}),
        json!({"render_text": "plain"}),
        json!({"flattening_enabled": true, "flattening_max_depth": 3}),
    ] {
        let run = sync_only(&server, "issues", extra.clone(), Duration::from_secs(60));
        assert_eq!(run.run.code, 0, "{extra}: {}", run.run.stderr);
        assert_strict_json_lines(&run);
    }
}

#[test]
fn a_lone_surrogate_in_a_reference_stream_is_not_fatal() {
    // The same in a list read whole with serde_json, which refused it: the run failed.
    let server = Hostile::start(|r| {
        (r.path == "/rest/api/3/resolution").then(|| Reply::Status {
            status: 200,
            headers: vec![("Content-Type", "application/json".into())],
            body: r#"[{"id":"1","name":"Done \ud800","description":"x"},{"id":"2","name":"ok","description":"y"}]"#.into(),
        })
    });
    let run = sync_only(&server, "resolutions", json!({}), Duration::from_secs(60));
    assert_eq!(run.run.code, 0, "{}", run.run.stderr);
    assert_strict_json_lines(&run);
    let names: Vec<Value> = run
        .run
        .records("resolutions")
        .iter()
        .map(|r| r["name"].clone())
        .collect();
    assert_eq!(names, vec![json!("Done \u{fffd}"), json!("ok")]);
}

/// A number beyond what a double holds (`1e400`) is valid JSON syntax, but serde_json, Go's
/// `encoding/json` and other strict readers refuse it. A reference list read whole refused it;
/// an issue, split as its page arrived, wrote it as it came: a line strict targets refuse.
#[test]
fn a_number_beyond_a_double_in_an_issue_is_refused_as_in_a_list_read_whole() {
    let server = serve_issue_page(issue_page_with(r#","customfield_10001":1e400"#));
    let run = sync_only(&server, "issues", json!({}), Duration::from_secs(60));
    assert_strict_json_lines(&run);
    assert!(run.run.records("issues").is_empty(), "{}", run.run.stdout);
    assert_ne!(run.run.code, 0, "{}", run.run.stderr);
    assert!(
        run.last_error().contains("number out of range"),
        "{}",
        run.run.stderr
    );
}

/// Date-times at the edges: finer than a millisecond (kept, not cut), a "never" date that is in
/// year 10000 in UTC (in its own offset, with the colon RFC 3339 asks for: RFC 3339 has four-digit
/// years), and text with spaces that chrono's parser would have read as one (left alone).
#[test]
fn date_times_at_the_edges_leave_as_the_same_instant_or_as_they_came() {
    let server = serve_issue_page(issue_page_with(concat!(
        r#","resolutiondate":"2024-01-31T13:05:00.123456+0000","lastViewed":"2024-01-31T13:05:00.123456Z""#,
        r#","duedate":"9999-12-31T23:00:00.000-0500""#,
        r#","summary":"2024-01-31T 3:05:00.000 +0000""#,
    )));
    let run = sync_only(&server, "issues", json!({}), Duration::from_secs(60));
    assert_eq!(run.run.code, 0, "{}", run.run.stderr);
    let issues = run.run.records("issues");
    let fields = &issues[0]["fields"];
    assert_eq!(
        fields["resolutiondate"],
        json!("2024-01-31T13:05:00.123456Z")
    );
    assert_eq!(fields["lastViewed"], json!("2024-01-31T13:05:00.123456Z"));
    assert_eq!(fields["duedate"], json!("9999-12-31T23:00:00.000-05:00"));
    assert_eq!(fields["summary"], json!("2024-01-31T 3:05:00.000 +0000"));
}

/// A sync of `resolutions` alone, whose endpoint answers a bare array of `n` small records in
/// one body; with the body's size in MiB.
fn sync_resolutions(n: usize) -> (Bounded, u64) {
    let mut body = String::from("[");
    for i in 0..n {
        if i > 0 {
            body.push(',');
        }
        body.push_str(&format!(r#"{{"id":"{i}","name":"R{i}"}}"#));
    }
    body.push(']');
    let mib = (body.len() as u64).div_ceil(1 << 20);
    let server = Hostile::start(move |r| {
        (r.path == "/rest/api/3/resolution").then(|| Reply::Status {
            status: 200,
            headers: vec![("Content-Type", "application/json".into())],
            body: body.clone(),
        })
    });
    let run = sync_only(
        &server,
        "resolutions",
        json!({"max_response_mb": 16}),
        Duration::from_secs(60),
    );
    assert_eq!(run.run.code, 0, "{}", run.run.stderr);
    assert_eq!(run.run.records("resolutions").len(), n);
    (run, mib)
}

/// A page under `max_response_mb` costs about its size, not many times it: a reference list
/// that is one bare array (`/resolution`, `/priority` and `/project` on Server, a project's
/// statuses, …) of 300,000 small records, 9 MiB, took 170 MiB more than a list of 10, its
/// records all turned into JSON values at once (about 600 bytes each), so that a list near the
/// default limit (256 MiB) would need gigabytes: an out-of-memory kill, not the clean error
/// `max_response_mb` promises.
#[test]
fn a_bare_array_page_of_small_records_costs_about_its_size_in_memory() {
    let (small, _) = sync_resolutions(10);
    let (large, mib) = sync_resolutions(300_000);
    assert!(
        large.peak_rss_mib < small.peak_rss_mib + 4 * mib,
        "peak RSS {} MiB for 10 records, {} MiB for 300,000 ({mib} MiB of JSON)",
        small.peak_rss_mib,
        large.peak_rss_mib
    );
}

/// A sync of `issues` alone from a site of `fields` text custom fields, every one filled on each
/// of its `n` issues with a 300-byte text (about a megabyte an issue at 3,000 fields). The
/// search gives what `maxResults` asks, and a token to the next page.
fn sync_issues_of_many_fields(n: u64, fields: u64) -> (Bounded, Vec<u64>) {
    let custom: Vec<Value> = (0..fields)
        .map(|i| {
            let id = format!("customfield_{}", 10_000 + i);
            json!({"id": id, "key": id, "name": format!("Field {i}"), "custom": true,
                "orderable": true, "navigable": true, "searchable": true,
                "clauseNames": [format!("cf[{}]", 10_000 + i)],
                "schema": {"type": "string", "customId": 10_000 + i,
                    "custom": "com.atlassian.jira.plugin.system.customfieldtypes:textfield"}})
        })
        .collect();
    let text = "x".repeat(300);
    let filled: String = (0..fields)
        .map(|i| format!(r#","customfield_{}":"{text}""#, 10_000 + i))
        .collect();
    let server = Hostile::start(move |r| match r.path.as_str() {
        "/rest/api/3/field" => Some(Reply::Json(json!(custom))),
        "/rest/api/3/search/jql" => {
            let body: Value = serde_json::from_str(&r.body).unwrap_or_default();
            let from: u64 = body["nextPageToken"]
                .as_str()
                .and_then(|t| t.parse().ok())
                .unwrap_or(0);
            let to = (from + r.param("maxResults").unwrap_or(50)).min(n);
            let issues: Vec<String> = (from..to)
                .map(|i| {
                    let at = format!("2024-04-02T05:{:02}:{:02}.000+0000", i / 60, i % 60);
                    format!(
                        r#"{{"id":"{id}","key":"P-{id}","fields":{{"created":"{at}","updated":"{at}"{filled}}}}}"#,
                        id = 10_000 + i
                    )
                })
                .collect();
            let next = match to < n {
                true => format!(r#","nextPageToken":"{to}","isLast":false"#),
                false => r#","isLast":true"#.to_string(),
            };
            Some(Reply::Status {
                status: 200,
                headers: vec![("Content-Type", "application/json".into())],
                body: format!(r#"{{"issues":[{}]{next}}}"#, issues.join(",")),
            })
        }
        _ => None,
    });
    let run = sync_only(&server, "issues", json!({}), Duration::from_secs(120));
    assert_eq!(run.run.code, 0, "{}", run.run.stderr);
    assert_eq!(run.run.records("issues").len() as u64, n);
    let asked = server
        .requests()
        .iter()
        .filter(|r| r.path == "/rest/api/3/search/jql")
        .filter_map(|r| r.param("maxResults"))
        .collect();
    (run, asked)
}

/// A site of thousands of custom fields gives issues of a megabyte: a first page of a hundred
/// was 100 MB held at once, and the page size, halved after each heavy page down to 20, kept
/// pages at 20 MB or more (a sync of 200 such issues peaked at 340 MiB). The first page is now
/// asked as small as the fields asked for suggest, and later ones as small as the issues read
/// show, down to one issue.
#[test]
fn issues_of_thousands_of_fields_are_read_in_pages_of_bounded_size() {
    let (small, _) = sync_issues_of_many_fields(2, 3_000);
    let (large, asked) = sync_issues_of_many_fields(40, 3_000);
    assert!(
        asked.iter().all(|n| *n <= 8),
        "pages of more than 8 issues of a megabyte asked: {asked:?}"
    );
    assert!(
        large.peak_rss_mib < small.peak_rss_mib + 24,
        "peak RSS {} MiB for 2 issues of a megabyte, {} MiB for 40 (pages asked {asked:?})",
        small.peak_rss_mib,
        large.peak_rss_mib
    );
}

/// A token without the scope one list needs (`read:comment:jira`) is refused by Atlassian's
/// gateway for every issue alike: the endpoint is asked a request at a time once, not once an
/// issue, and the log says so once; the issues' embedded comments are still written.
#[test]
fn an_endpoint_refused_for_the_tokens_scopes_is_not_asked_again() {
    let issue = |i: u64| {
        let at = format!("2024-04-02T05:{:02}:53.041+0000", i);
        json!({"id": (10_000 + i).to_string(), "key": format!("P-{i}"), "fields": {
            "created": at, "updated": at,
            "comment": {"comments": [comment(i, "embedded")], "maxResults": 1, "total": 5,
                "startAt": 0}}})
    };
    let search = json!({"issues": (0..40).map(issue).collect::<Vec<_>>(), "isLast": true});
    let server = Hostile::start(move |r| {
        if r.path == "/rest/api/3/search/jql" {
            return Some(Reply::Json(search.clone()));
        }
        (r.path.starts_with("/rest/api/3/issue/") && r.path.ends_with("/comment")).then(|| {
            Reply::Status {
                status: 401,
                headers: vec![("Content-Type", "application/json".into())],
                body: r#"{"code":401,"message":"Unauthorized; scope does not match"}"#.into(),
            }
        })
    });
    let run = sync_only(
        &server,
        "issue_comments",
        json!({"max_concurrency": 2}),
        Duration::from_secs(60),
    );
    assert_eq!(run.run.code, 0, "{}", run.run.stderr);
    assert_eq!(run.run.records("issue_comments").len(), 40);
    let asked = server
        .requests()
        .iter()
        .filter(|r| r.path.ends_with("/comment"))
        .count();
    assert!(asked <= 2, "asked {asked} times for 40 issues' comments");
    let told = run.run.stderr.matches("scope does not match").count();
    assert_eq!(told, 1, "{}", run.run.stderr);
}

/// A sync of `worklogs` alone, from one `worklog/updated` page that lists `n` worklogs (each
/// about 8 KB once listed), all at one millisecond.
fn sync_one_worklog_page(n: u64) -> Bounded {
    let base = 1_704_067_200_000_u64;
    let text = "x".repeat(8000);
    let server = Hostile::start(move |r| match r.path.as_str() {
        "/rest/api/3/worklog/updated" => {
            let values: Vec<Value> = (1..=n)
                .map(|id| json!({"worklogId": id, "updatedTime": base + 5}))
                .collect();
            Some(Reply::Json(
                json!({"values": values, "since": base, "until": base + 5, "lastPage": true}),
            ))
        }
        "/rest/api/3/worklog/list" => {
            let asked: Value = serde_json::from_str(&r.body).ok()?;
            let worklogs: Vec<Value> = asked["ids"]
                .as_array()?
                .iter()
                .map(|id| {
                    json!({"id": id.to_string(), "issueId": "10000", "comment": text,
                        "started": "2024-01-01T00:00:00.005+0000",
                        "updated": "2024-01-01T00:00:00.005+0000"})
                })
                .collect();
            Some(Reply::Json(json!(worklogs)))
        }
        "/rest/api/3/worklog/deleted" => Some(Reply::Json(
            json!({"values": [], "since": base, "until": base, "lastPage": true}),
        )),
        _ => None,
    });
    let run = sync_only(&server, "worklogs", json!({}), Duration::from_secs(60));
    assert_eq!(run.run.code, 0, "{}", run.run.stderr);
    assert_eq!(run.run.records("worklogs").len() as u64, n);
    run
}

/// A `worklog/updated` page is written a `worklog/list` batch (1,000) at a time, not gathered
/// whole: Jira lists 1,000 a page, but a server that lists 20,000 on one page had all of them,
/// 160 MB here, held before the first was written (and a page of millions, without bound).
#[test]
fn a_worklog_page_listing_many_worklogs_is_written_in_bounded_memory() {
    let small = sync_one_worklog_page(2_000);
    let large = sync_one_worklog_page(20_000);
    assert!(
        large.peak_rss_mib < small.peak_rss_mib + 40,
        "peak RSS {} MiB for 2,000 worklogs, {} MiB for 20,000: the page's worklogs are held whole",
        small.peak_rss_mib,
        large.peak_rss_mib
    );
}

/// A sync of `worklogs` alone, from one `worklog/updated` page that lists `n` worklogs, at one
/// millisecond or each at its own, all deleted before they could be listed.
fn sync_worklog_ids(n: u64, at_one_millisecond: bool) -> Bounded {
    let base = 1_704_067_200_000_u64;
    let server = Hostile::start(move |r| match r.path.as_str() {
        "/rest/api/3/worklog/updated" => {
            let at = |id: u64| {
                if at_one_millisecond {
                    base + 5
                } else {
                    base + id
                }
            };
            let values: Vec<Value> = (1..=n)
                .map(|id| json!({"worklogId": id, "updatedTime": at(id)}))
                .collect();
            Some(Reply::Json(
                json!({"values": values, "since": base, "until": at(n), "lastPage": true}),
            ))
        }
        "/rest/api/3/worklog/list" => Some(Reply::Json(json!([]))),
        "/rest/api/3/worklog/deleted" => Some(Reply::Json(
            json!({"values": [], "since": base, "until": base, "lastPage": true}),
        )),
        _ => None,
    });
    let run = sync_only(&server, "worklogs", json!({}), Duration::from_secs(120));
    assert_eq!(run.run.code, 0, "{}", run.run.stderr);
    run
}

/// The worklogs written at the bookmark's millisecond are looked up, not searched one by one:
/// a page listing 100,000 worklogs at one millisecond took 11 times as long as one of 25,000
/// (30 s against 2.8 s), each id compared with every one before it, so that a page of a million
/// would run for most of an hour.
#[test]
fn worklogs_at_one_millisecond_are_checked_in_linear_time() {
    let quarter = sync_worklog_ids(25_000, true).elapsed;
    let whole = sync_worklog_ids(100_000, true).elapsed;
    assert!(
        whole < quarter * 6,
        "{quarter:?} for 25,000 worklogs at one millisecond, {whole:?} for 100,000"
    );
}

/// An audit log page of `n` small records, none of them a deletion.
fn audit_page(n: usize) -> String {
    let mut records = String::new();
    for i in 0..n {
        if i > 0 {
            records.push(',');
        }
        records.push_str(&format!(
            r#"{{"id":{i},"summary":"s","created":"2024-06-01T00:00:00.000+0000"}}"#
        ));
    }
    format!(r#"{{"offset":0,"limit":{n},"total":{n},"records":[{records}]}}"#)
}

/// A sync of `audit_records` alone, whose first page holds `n` small records; with the body's
/// size in MiB.
fn sync_audit_records(n: usize) -> (Bounded, u64) {
    let body = audit_page(n);
    let mib = (body.len() as u64).div_ceil(1 << 20);
    let server = Hostile::start(move |r| {
        (r.path == "/rest/api/3/auditing/record").then(|| Reply::Status {
            status: 200,
            headers: vec![("Content-Type", "application/json".into())],
            body: body.clone(),
        })
    });
    let run = sync_only(
        &server,
        "audit_records",
        json!({"max_response_mb": 32}),
        Duration::from_secs(60),
    );
    assert_eq!(run.run.code, 0, "{}", run.run.stderr);
    assert_eq!(run.run.records("audit_records").len(), n);
    (run, mib)
}

/// The audit log's pages too cost about their size: a page of 200,000 small records (13 MiB),
/// which a server that ignores `limit` sends, was turned into JSON values whole.
#[test]
fn an_audit_log_page_of_small_records_costs_about_its_size_in_memory() {
    let (small, _) = sync_audit_records(10);
    let (large, mib) = sync_audit_records(200_000);
    assert!(
        large.peak_rss_mib < small.peak_rss_mib + 4 * mib,
        "peak RSS {} MiB for 10 records, {} MiB for 200,000 ({mib} MiB of JSON)",
        small.peak_rss_mib,
        large.peak_rss_mib
    );
}

/// A `worklog/updated` page costs about its size: one listing 300,000 worklogs (14 MiB), as a
/// server that pages by its own rules may send, was read whole as JSON values (an object of two
/// entries per worklog) and took 150 MiB more than a page of ten.
#[test]
fn a_worklog_changes_page_costs_about_its_size_in_memory() {
    let small = sync_worklog_ids(10, false);
    let large = sync_worklog_ids(300_000, false);
    let mib = 14;
    assert!(
        large.peak_rss_mib < small.peak_rss_mib + 4 * mib,
        "peak RSS {} MiB for 10 worklogs, {} MiB for 300,000 ({mib} MiB of JSON)",
        small.peak_rss_mib,
        large.peak_rss_mib
    );
}

/// A sync of `issues` (none) that reads deletions from the audit log, whose first page holds `n`
/// small records; with the body's size in MiB.
fn sync_deletions_from_the_audit_log(n: usize) -> (Bounded, u64) {
    let body = audit_page(n);
    let mib = (body.len() as u64).div_ceil(1 << 20);
    let server = Hostile::start(move |r| match r.path.as_str() {
        "/rest/api/3/auditing/record" => Some(Reply::Status {
            status: 200,
            headers: vec![("Content-Type", "application/json".into())],
            body: body.clone(),
        }),
        "/rest/api/3/search/jql" => Some(Reply::Json(json!({"issues": [], "isLast": true}))),
        _ => None,
    });
    let run = sync_only(
        &server,
        "issues",
        json!({"max_response_mb": 32, "deleted_issues": "audit"}),
        Duration::from_secs(60),
    );
    assert_eq!(run.run.code, 0, "{}", run.run.stderr);
    assert!(server.count("/rest/api/3/auditing/record") > 0);
    (run, mib)
}

/// The audit log read for deleted issues costs about its pages' size too: a page of 200,000
/// small records (13 MiB) was turned into JSON values whole.
#[test]
fn an_audit_log_page_read_for_deletions_costs_about_its_size_in_memory() {
    let (small, _) = sync_deletions_from_the_audit_log(10);
    let (large, mib) = sync_deletions_from_the_audit_log(200_000);
    assert!(
        large.peak_rss_mib < small.peak_rss_mib + 4 * mib,
        "peak RSS {} MiB for 10 records, {} MiB for 200,000 ({mib} MiB of JSON)",
        small.peak_rss_mib,
        large.peak_rss_mib
    );
}

/// A sync of `project_roles` alone on a site of `projects` projects and 50 roles, whose first
/// project role answers 500: the run fails there, having set out to read every pair.
fn sync_project_roles(projects: u64) -> Bounded {
    let server = Hostile::start(move |r| match r.path.as_str() {
        "/rest/api/3/project/search" => {
            let start = r.param("startAt").unwrap_or(0);
            let max = r.param("maxResults").unwrap_or(50).min(1000);
            let end = (start + max).min(projects);
            let values: Vec<Value> = (start..end)
                .map(
                    |i| json!({"id": (10000 + i).to_string(), "key": format!("P{i}"), "name": "p"}),
                )
                .collect();
            Some(Reply::Json(json!({"startAt": start, "maxResults": max,
                "total": projects, "isLast": end >= projects, "values": values})))
        }
        "/rest/api/3/role" => Some(Reply::Json(json!(
            (0..50)
                .map(|i| json!({"id": 100 + i, "name": format!("r{i}")}))
                .collect::<Vec<_>>()
        ))),
        path if path.contains("/role/") => Some(Reply::Status {
            status: 500,
            headers: vec![],
            body: "down".into(),
        }),
        _ => None,
    });
    let run = sync_only(
        &server,
        "project_roles",
        json!({"max_retries": 0}),
        Duration::from_secs(60),
    );
    assert_ne!(run.run.code, 0, "{}", run.run.stderr);
    assert!(run.last_error().contains("HTTP 500"), "{}", run.run.stderr);
    run
}

/// The pairs of a stream read per pair of parents (each project with each role) are made as they
/// are read, not all held first: 20,000 projects and 50 roles, a million pairs, took 220 MiB
/// more than 2,000 projects before the first pair was asked for (and a site ten times larger
/// gigabytes).
#[test]
fn the_pairs_of_two_parents_are_not_all_held_at_once() {
    let small = sync_project_roles(2_000);
    let large = sync_project_roles(20_000);
    assert!(
        large.peak_rss_mib < small.peak_rss_mib + 40,
        "peak RSS {} MiB for 2,000 projects x 50 roles, {} MiB for 20,000 x 50",
        small.peak_rss_mib,
        large.peak_rss_mib
    );
}

/// A sync of `issue_comments` alone, of one issue whose embedded comments Jira cut short of the
/// `n` it has (each about 4 KB), served by the comment endpoint a page at a time.
fn sync_one_long_comment_thread(n: u64) -> Bounded {
    sync_long_comment_thread_after("", n)
}

/// As `sync_one_long_comment_thread`, with the issues of `before` (JSON texts, each followed by
/// a comma) ahead of the long one on its search page.
fn sync_long_comment_thread_after(before: &str, n: u64) -> Bounded {
    let text = "x".repeat(4000);
    let search = issue_page_with(&format!(
        r#","comment":{{"comments":[],"maxResults":0,"total":{n},"startAt":0}}"#
    ))
    .replacen(r#"{"issues":["#, &format!(r#"{{"issues":[{before}"#), 1);
    let server = Hostile::start(move |r| match r.path.as_str() {
        "/rest/api/3/search/jql" => Some(Reply::Status {
            status: 200,
            headers: vec![("Content-Type", "application/json".into())],
            body: search.clone(),
        }),
        "/rest/api/3/issue/10000/comment" => {
            let start = r.param("startAt").unwrap_or(0);
            let max = r.param("maxResults").unwrap_or(50).min(1000);
            Some(comment_page(
                start..(start + max).min(n),
                &text,
                start,
                max,
                n,
            ))
        }
        _ => None,
    });
    let run = sync_only(
        &server,
        "issue_comments",
        json!({}),
        Duration::from_secs(120),
    );
    assert_eq!(run.run.code, 0, "{}", run.run.stderr);
    let comments = run.run.records("issue_comments");
    let ids: std::collections::HashSet<&str> =
        comments.iter().filter_map(|c| c["id"].as_str()).collect();
    assert_eq!(ids.len() as u64, n, "every comment once");
    run
}

/// An issue's list that Jira cut short is read from its endpoint and written a page at a time:
/// 20,000 comments of one issue (80 MB) were all held before the first was written.
#[test]
fn a_long_comment_thread_is_written_a_page_at_a_time() {
    let small = sync_one_long_comment_thread(2_000);
    let large = sync_one_long_comment_thread(20_000);
    assert!(
        large.peak_rss_mib < small.peak_rss_mib + 40,
        "peak RSS {} MiB for 2,000 comments, {} MiB for 20,000: the list is held whole",
        small.peak_rss_mib,
        large.peak_rss_mib
    );
}

/// A sync of `changelogs` alone, of one issue whose embedded changelog Jira cut short of the
/// `n` histories it has (each about 4 KB), read from Cloud's bulk endpoint, or where the site
/// has none (`bulk` false: a 404) from the issue's own.
fn sync_one_long_changelog(n: u64, bulk: bool) -> Bounded {
    let text = "x".repeat(4000);
    let history = move |i: u64| {
        json!({"id": (30000 + i).to_string(), "created": "2024-04-02T05:28:53.041+0000",
            "items": [{"field": "summary", "fieldtype": "jira", "fieldId": "summary",
                "from": null, "fromString": text, "to": null, "toString": "b"}]})
    };
    let search = format!(
        r#"{{"issues":[{{"id":"10000","key":"P-1","fields":{{"created":"2024-04-02T05:28:53.041+0000","updated":"2024-12-27T16:27:38.301+0000"}},"changelog":{{"histories":[],"maxResults":0,"total":{n},"startAt":0}}}}],"isLast":true}}"#
    );
    let server = Hostile::start(move |r| match r.path.as_str() {
        "/rest/api/3/search/jql" => Some(Reply::Status {
            status: 200,
            headers: vec![("Content-Type", "application/json".into())],
            body: search.clone(),
        }),
        "/rest/api/3/changelog/bulkfetch" if bulk => {
            let asked: Value = serde_json::from_str(&r.body).ok()?;
            let start: u64 = asked["nextPageToken"]
                .as_str()
                .unwrap_or("0")
                .parse()
                .ok()?;
            let end = (start + 1000).min(n);
            let histories: Vec<Value> = (start..end).map(&history).collect();
            let mut page = json!({"issueChangeLogs": [{"issueId": "10000",
                "changeHistories": histories}]});
            if end < n {
                page["nextPageToken"] = json!(end.to_string());
            }
            Some(Reply::Json(page))
        }
        "/rest/api/3/issue/10000/changelog" => {
            let start = r.param("startAt").unwrap_or(0);
            let max = r.param("maxResults").unwrap_or(50).min(1000);
            let end = (start + max).min(n);
            let values: Vec<Value> = (start..end).map(&history).collect();
            Some(Reply::Json(
                json!({"startAt": start, "maxResults": max, "total": n,
                "isLast": end >= n, "values": values}),
            ))
        }
        _ => None,
    });
    let run = sync_only(&server, "changelogs", json!({}), Duration::from_secs(120));
    assert_eq!(run.run.code, 0, "{}", run.run.stderr);
    let histories = run.run.records("changelogs");
    let ids: std::collections::HashSet<&str> =
        histories.iter().filter_map(|c| c["id"].as_str()).collect();
    assert_eq!(ids.len() as u64, n, "every history once");
    run
}

/// A long changelog too is written a page at a time, from the bulk endpoint or the issue's own.
#[test]
fn a_long_changelog_is_written_a_page_at_a_time() {
    for bulk in [true, false] {
        let small = sync_one_long_changelog(2_000, bulk);
        let large = sync_one_long_changelog(20_000, bulk);
        assert!(
            large.peak_rss_mib < small.peak_rss_mib + 40,
            "bulk {bulk}: peak RSS {} MiB for 2,000 histories, {} MiB for 20,000",
            small.peak_rss_mib,
            large.peak_rss_mib
        );
    }
}

/// Cloud's bulk endpoint answers a long changelog's first page, then refuses (a token that lost
/// a permission, a site that turned it off): the rest is read from the issue's own endpoint, as
/// when it refuses the first page, and every history is written once.
#[test]
fn a_long_changelog_whose_bulk_read_is_refused_after_its_first_page_goes_on_issue_by_issue() {
    let n: u64 = 2_500;
    let history = |i: u64| {
        json!({"id": (30000 + i).to_string(), "created": "2024-04-02T05:28:53.041+0000",
            "items": [{"field": "summary", "fieldtype": "jira", "fieldId": "summary",
                "from": null, "fromString": "a", "to": null, "toString": "b"}]})
    };
    let search = format!(
        r#"{{"issues":[{{"id":"10000","key":"P-1","fields":{{"created":"2024-04-02T05:28:53.041+0000","updated":"2024-12-27T16:27:38.301+0000"}},"changelog":{{"histories":[],"maxResults":0,"total":{n},"startAt":0}}}}],"isLast":true}}"#
    );
    for status in [400, 403, 404] {
        let search = search.clone();
        let server = Hostile::start(move |r| match r.path.as_str() {
            "/rest/api/3/search/jql" => Some(Reply::Status {
                status: 200,
                headers: vec![("Content-Type", "application/json".into())],
                body: search.clone(),
            }),
            "/rest/api/3/changelog/bulkfetch" => {
                let asked: Value = serde_json::from_str(&r.body).ok()?;
                if asked.get("nextPageToken").is_some() {
                    return Some(Reply::Status {
                        status,
                        headers: vec![("Content-Type", "application/json".into())],
                        body: r#"{"errorMessages":["You do not have permission to perform this operation."],"errors":{}}"#.into(),
                    });
                }
                let histories: Vec<Value> = (0..1000).map(history).collect();
                Some(Reply::Json(json!({"issueChangeLogs": [{"issueId": "10000",
                    "changeHistories": histories}], "nextPageToken": "1000"})))
            }
            "/rest/api/3/issue/10000/changelog" => {
                let start = r.param("startAt").unwrap_or(0);
                let max = r.param("maxResults").unwrap_or(50).min(1000);
                let end = (start + max).min(n);
                let values: Vec<Value> = (start..end).map(history).collect();
                Some(Reply::Json(
                    json!({"startAt": start, "maxResults": max, "total": n,
                    "isLast": end >= n, "values": values}),
                ))
            }
            _ => None,
        });
        let run = sync_only(&server, "changelogs", json!({}), Duration::from_secs(120));
        assert_eq!(run.run.code, 0, "{status}: {}", run.run.stderr);
        let histories = run.run.records("changelogs");
        let ids: std::collections::HashSet<&str> =
            histories.iter().filter_map(|c| c["id"].as_str()).collect();
        assert_eq!(ids.len() as u64, n, "{status}: every history");
        assert_eq!(histories.len() as u64, n, "{status}: each once");
        assert!(
            run.run.stderr.contains("bulk endpoint refused"),
            "{status}: {}",
            run.run.stderr
        );
        assert!(server.count("/rest/api/3/issue/10000/changelog") > 0);
    }
}

/// A list the search embeds none of (voters), refused for an issue hidden since its search page,
/// is said to be skipped for that issue, not to keep embedded items it never had.
#[test]
fn a_list_with_nothing_embedded_whose_endpoint_404s_is_skipped_for_that_issue() {
    let server = serve_issue_page(issue_page_with(r#","votes":{"votes":2,"hasVoted":false}"#));
    let run = sync_only(&server, "issue_votes", json!({}), Duration::from_secs(60));
    assert_eq!(run.run.code, 0, "{}", run.run.stderr);
    assert!(run.run.records("issue_votes").is_empty());
    assert!(
        run.run.stderr.contains("skipped this issue's list")
            && !run.run.stderr.contains("embedded"),
        "{}",
        run.run.stderr
    );
    assert_eq!(server.count("/rest/api/3/issue/10000/votes"), 1);
}

/// An issue hidden or deleted between its search page and its long list keeps what its search
/// page embedded: the endpoint's 404 is not the run's end.
#[test]
fn a_long_list_whose_endpoint_404s_keeps_the_embedded_items() {
    let embedded: Vec<Value> = (0..3).map(|i| comment(i, "x")).collect();
    let search = issue_page_with(&format!(
        r#","comment":{{"comments":{},"maxResults":3,"total":5000,"startAt":0}}"#,
        json!(embedded)
    ));
    let server = Hostile::start(move |r| {
        (r.path == "/rest/api/3/search/jql").then(|| Reply::Status {
            status: 200,
            headers: vec![("Content-Type", "application/json".into())],
            body: search.clone(),
        })
    });
    let run = sync_only(
        &server,
        "issue_comments",
        json!({}),
        Duration::from_secs(60),
    );
    assert_eq!(run.run.code, 0, "{}", run.run.stderr);
    assert_eq!(run.run.records("issue_comments").len(), 3);
    assert!(
        run.run.stderr.contains("kept the embedded items only"),
        "{}",
        run.run.stderr
    );
    assert_eq!(server.count("/rest/api/3/issue/10000/comment"), 1);
}

/// An issue of a search page with no comment cut short, ahead of one with 20,000: the long
/// thread is still written a page at a time (it shared a chunk with the issue before it, and
/// was read whole).
#[test]
fn a_long_comment_thread_after_an_issue_that_needs_nothing_is_written_a_page_at_a_time() {
    let before = r#"{"id":"10001","key":"P-2","fields":{"created":"2024-04-02T05:28:53.041+0000","updated":"2024-12-27T16:27:38.301+0000","comment":{"comments":[],"maxResults":0,"total":0,"startAt":0}}},"#;
    let small = sync_long_comment_thread_after(before, 2_000);
    let large = sync_long_comment_thread_after(before, 20_000);
    assert!(
        large.peak_rss_mib < small.peak_rss_mib + 40,
        "peak RSS {} MiB for 2,000 comments, {} MiB for 20,000: the list is held whole",
        small.peak_rss_mib,
        large.peak_rss_mib
    );
}

/// An issue Jira sent without an id, ahead of one with a long comment thread: the long thread is
/// written whole (its pages were read for the issue before it, which has none, and the long
/// issue kept only what was embedded).
#[test]
fn a_long_comment_thread_after_an_issue_without_id_is_written_whole() {
    let before = r#"{"key":"P-2","fields":{"created":"2024-04-02T05:28:53.041+0000","updated":"2024-12-27T16:27:38.301+0000"}},"#;
    sync_long_comment_thread_after(before, 1_500);
}

/// A search page whose second issue came back out of `updated` order, hours older than the first
/// (a search index catching up), each with 600 comments Jira cut short, or 1,500: the late issue
/// is written with its comments, though the two fill a chunk each (it was judged written by the
/// issue of the chunk before, and never written, nor read again by the next run).
#[test]
fn an_issue_out_of_order_in_a_chunk_of_its_own_is_written() {
    for n in [600, 1_500] {
        sync_late_issue_in_a_chunk_of_its_own(n);
    }
}

fn sync_late_issue_in_a_chunk_of_its_own(n: u64) {
    let comments = move |issue: u64| {
        (0..n)
            .map(|i| {
                json!({"id": (issue * 1000 + i).to_string(), "body": "x",
                "created": "2024-04-02T05:28:53.041+0000", "updated": "2024-04-02T05:28:53.041+0000"})
            })
            .collect::<Vec<Value>>()
    };
    let issue = |id: u64, updated: &str| {
        json!({"id": id.to_string(), "key": format!("P-{id}"), "fields": {
            "created": "2024-04-02T05:28:53.041+0000", "updated": updated,
            "comment": {"comments": [], "maxResults": 0, "total": n, "startAt": 0}}})
    };
    let search = json!({"issues": [issue(10000, "2024-12-27T16:27:38.301+0000"),
        issue(10001, "2024-12-27T10:00:00.000+0000")], "isLast": true})
    .to_string();
    let server = Hostile::start(move |r| {
        let id = match r.path.as_str() {
            "/rest/api/3/search/jql" => {
                return Some(Reply::Status {
                    status: 200,
                    headers: vec![("Content-Type", "application/json".into())],
                    body: search.clone(),
                });
            }
            "/rest/api/3/issue/10000/comment" => 10000,
            "/rest/api/3/issue/10001/comment" => 10001,
            _ => return None,
        };
        let start = r.param("startAt").unwrap_or(0);
        let page: Vec<Value> = comments(id)
            .into_iter()
            .skip(start as usize)
            .take(1000)
            .collect();
        Some(Reply::Json(
            json!({"startAt": start, "maxResults": 1000, "total": n, "comments": page}),
        ))
    });
    let run = sync_only(
        &server,
        "issue_comments",
        json!({}),
        Duration::from_secs(60),
    );
    assert_eq!(run.run.code, 0, "{}", run.run.stderr);
    let written = run.run.records("issue_comments");
    let of_late = written.iter().filter(|c| c["issueId"] == "10001").count();
    assert_eq!(
        (written.len(), of_late),
        (2 * n as usize, n as usize),
        "{}",
        run.run.stderr
    );
}

/// An issue deleted while its long list is read: what was read is written once; the embedded
/// items, among those already written, are not written again.
#[test]
fn a_long_list_refused_after_its_first_page_writes_nothing_twice() {
    let embedded: Vec<Value> = (0..3).map(|i| comment(i, "x")).collect();
    let search = issue_page_with(&format!(
        r#","comment":{{"comments":{},"maxResults":3,"total":5000,"startAt":0}}"#,
        json!(embedded)
    ));
    let server = Hostile::start(move |r| match r.path.as_str() {
        "/rest/api/3/search/jql" => Some(Reply::Status {
            status: 200,
            headers: vec![("Content-Type", "application/json".into())],
            body: search.clone(),
        }),
        "/rest/api/3/issue/10000/comment" if r.param("startAt") == Some(0) => {
            let max = r.param("maxResults").unwrap_or(50).min(1000);
            Some(comment_page(0..max, "x", 0, max, 5000))
        }
        _ => None,
    });
    let run = sync_only(
        &server,
        "issue_comments",
        json!({}),
        Duration::from_secs(60),
    );
    assert_eq!(run.run.code, 0, "{}", run.run.stderr);
    let comments = run.run.records("issue_comments");
    let ids: std::collections::HashSet<&str> =
        comments.iter().filter_map(|c| c["id"].as_str()).collect();
    assert_eq!(ids.len(), comments.len(), "comments written twice");
}

/// Two comments of an issue, first on its list, are deleted in Jira after the first page of the
/// list was read: every later comment moves two places back, so one that still exists slips into
/// the page already read. Every comment that still exists is written, once, whether the list is
/// read whole with its chunk (150 comments) or written a page at a time (1,500).
#[test]
fn comments_deleted_while_their_list_is_paged_lose_no_other_comment() {
    for n in [150, 1_500] {
        sync_comments_deleted_after_the_first_page(n);
    }
}

fn sync_comments_deleted_after_the_first_page(n: u64) {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    let search = issue_page_with(&format!(
        r#","comment":{{"comments":[],"maxResults":0,"total":{n},"startAt":0}}"#
    ));
    let deleted = Arc::new(AtomicBool::new(false));
    let server = Hostile::start(move |r| match r.path.as_str() {
        "/rest/api/3/search/jql" => Some(Reply::Status {
            status: 200,
            headers: vec![("Content-Type", "application/json".into())],
            body: search.clone(),
        }),
        "/rest/api/3/issue/10000/comment" => {
            // The first two comments are gone once the first page was answered.
            let first = if deleted.swap(true, Ordering::SeqCst) {
                2
            } else {
                0
            };
            let total = n - first;
            let start = r.param("startAt").unwrap_or(0);
            let max = r.param("maxResults").unwrap_or(50).min(100);
            let ids = first + start..(first + start + max).min(n);
            Some(comment_page(ids, "x", start, max, total))
        }
        _ => None,
    });
    let run = sync_only(
        &server,
        "issue_comments",
        json!({}),
        Duration::from_secs(60),
    );
    assert_eq!(run.run.code, 0, "{n}: {}", run.run.stderr);
    let comments = run.run.records("issue_comments");
    let ids: Vec<&str> = comments.iter().filter_map(|c| c["id"].as_str()).collect();
    let unique: std::collections::HashSet<&str> = ids.iter().copied().collect();
    assert_eq!(unique.len(), ids.len(), "{n}: comments written twice");
    let missing: Vec<String> = (2..n)
        .map(|i| (20000 + i).to_string())
        .filter(|id| !unique.contains(id.as_str()))
        .collect();
    assert!(
        missing.is_empty(),
        "{n}: comments that still exist were not written: {missing:?}\n{}",
        run.run.stderr
    );
}

fn priority(n: u64) -> Value {
    json!({"id": n.to_string(), "name": format!("P{n}"), "statusColor": "#ff0000"})
}

#[test]
fn a_page_without_its_list_does_not_activate_a_version_that_deletes_the_table() {
    // A 200 answer of `priority/search` without `values` (a proxy, a misconfigured app, a glitch):
    // Jira's page beans always carry their list, `[]` when empty, so this is no page of it. The
    // target holds the priorities of an earlier pass (its version in the state): activating this
    // pass would delete them all.
    // The body answered for a page from `startAt`.
    type Answer = fn(u64) -> Value;
    let pages: [(&str, Answer); 3] = [
        ("an empty object", |_| json!({})),
        (
            "offsets and no list",
            |start| json!({"startAt": start, "maxResults": 2}),
        ),
        ("a later page without its list", |start| match start {
            0 => json!({"startAt": 0, "maxResults": 2, "total": 4, "isLast": false,
                        "values": [priority(1), priority(2)]}),
            _ => json!({"startAt": start, "maxResults": 2}),
        }),
    ];
    let state = json!({"bookmarks": {"priorities": {"version": 1}}});
    for (case, page) in pages {
        let server = Hostile::start(move |r| {
            (r.path == "/rest/api/3/priority/search")
                .then(|| Reply::Json(page(r.param("startAt").unwrap_or(0))))
        });
        let run = sync_only_from(
            &server,
            "priorities",
            json!({}),
            Some(&state),
            Duration::from_secs(60),
        );
        let stderr = &run.run.stderr;
        assert!(
            !activates(run.run.messages(), "priorities"),
            "{case}: a pass that read no list must not be activated:\n{stderr}"
        );
        assert!(
            stderr
                .lines()
                .any(|l| l.contains("priority/search") && l.contains("`values`")),
            "{case}: the log says the list is missing:\n{stderr}"
        );
    }
}

#[test]
fn an_unpaged_list_without_its_key_does_not_activate_a_version_that_deletes_the_table() {
    // A 200 answer of `{}` (a proxy, a misconfigured app, a glitch) where Jira's unpaged object
    // always carries its list, `[]` when empty: read as an empty list, the pass was activated
    // and the target deleted every row the earlier pass (its version in the state) wrote.
    // The stream, the path answered `{}`, the missing key, and what else is answered.
    // A path answered as Jira would, and its answer.
    type Other = Option<(&'static str, Value)>;
    let scheme = json!({"permissionSchemes": [{"id": 10000, "name": "Default"}]});
    let cases: [(&str, &str, &str, Other); 3] = [
        (
            "issue_link_types",
            "/rest/api/3/issueLinkType",
            "issueLinkTypes",
            None,
        ),
        (
            "permission_schemes",
            "/rest/api/3/permissionscheme",
            "permissionSchemes",
            None,
        ),
        (
            "permission_grants",
            "/rest/api/3/permissionscheme/10000/permission",
            "permissions",
            Some(("/rest/api/3/permissionscheme", scheme)),
        ),
    ];
    for (stream, path, key, other) in cases {
        let server = Hostile::start(move |r| {
            if r.path == path {
                return Some(Reply::Json(json!({})));
            }
            other
                .as_ref()
                .filter(|(p, _)| r.path == *p)
                .map(|(_, body)| Reply::Json(body.clone()))
        });
        let state = json!({"bookmarks": {stream: {"version": 1}}});
        let run = sync_only_from(
            &server,
            stream,
            json!({}),
            Some(&state),
            Duration::from_secs(60),
        );
        let stderr = &run.run.stderr;
        assert!(
            !activates(run.run.messages(), stream),
            "{stream}: a pass that read no list must not be activated:\n{stderr}"
        );
        let tail = path.trim_start_matches("/rest/api/3/");
        assert!(
            stderr
                .lines()
                .any(|l| l.contains(tail) && l.contains(&format!("`{key}`"))),
            "{stream}: the log says the list is missing:\n{stderr}"
        );
    }
}
