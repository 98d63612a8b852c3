//! Requests within the budget: never more in flight than `max_concurrency`, never faster than
//! `max_requests_per_second`, and a rate-limited Jira synced whole with few refusals, on both
//! deployments. The records are the same whatever the concurrency, and a stream alone uses the
//! whole budget.

mod common;

use std::time::{Duration, Instant};

use common::{Run, Site, assert_valid_singer_output, select_only};
use jira_sim::{Deployment, Fault, RequestRecord, SimConfig};
use serde_json::{Value, json};
use tap_jira::streams::{Only, PROJECTS_STREAM, STREAMS, Source};

/// A sync of every stream selected by default, with these extra settings.
fn sync_with(site: &Site, extra: Value) -> Run {
    let config = site.file("config.json", &site.config_with(extra));
    let catalog = site.discover(&config);
    site.file("catalog.json", &catalog);
    site.sim.sim.reset_requests();
    site.sync_from(&site.file("state.json", &json!({})))
}

#[test]
fn requests_in_flight_stay_within_max_concurrency_and_records_do_not_change() {
    let site = Site::new(SimConfig {
        latency_ms: 20,
        ..SimConfig::default()
    });
    let sequential = sync_with(&site, json!({"max_concurrency": 1}));
    sequential.assert_success();
    assert_eq!(site.sim.sim.peak_in_flight(), 1, "1 means one at a time");
    let concurrent = sync_with(&site, json!({"max_concurrency": 3}));
    concurrent.assert_success();
    assert_valid_singer_output(&concurrent);
    let peak = site.sim.sim.peak_in_flight();
    assert!(
        (2..=3).contains(&peak),
        "at most 3 in flight, and more than one used: {peak}"
    );
    assert_eq!(concurrent.record_counts(), sequential.record_counts());
    assert!(
        concurrent
            .stderr
            .contains("most requests in flight at once peak="),
        "{}",
        concurrent.stderr
    );
}

#[test]
fn max_requests_per_second_spaces_the_requests() {
    let site = Site::cloud();
    let started = Instant::now();
    let run = sync_with(
        &site,
        json!({"max_requests_per_second": 50, "max_concurrency": 8}),
    );
    let elapsed = started.elapsed().as_secs_f64();
    run.assert_success();
    let requests: u64 = site.sim.sim.request_counts().values().sum();
    assert!(requests > 100, "{requests}");
    assert!(
        elapsed >= (requests - 1) as f64 / 50.0,
        "{requests} requests in {elapsed:.2} s is faster than 50 per second"
    );
}

#[test]
fn a_rate_limited_site_is_synced_whole_with_few_refusals() {
    for deployment in [Deployment::Cloud, Deployment::Server] {
        let free = Site::new(SimConfig {
            deployment,
            ..SimConfig::default()
        });
        let expected = sync_with(&free, json!({}));
        expected.assert_success();
        let limited = Site::new(SimConfig {
            deployment,
            rate_limit_per_second: Some(40.0),
            ..SimConfig::default()
        });
        let run = sync_with(&limited, json!({}));
        run.assert_success();
        assert_valid_singer_output(&run);
        assert_eq!(
            run.record_counts(),
            expected.record_counts(),
            "{deployment}"
        );
        let stats = limited.sim.sim.load_stats();
        assert!(
            stats.rejected_429 * 100 <= stats.requests * 5,
            "{deployment}: {} of {} requests refused",
            stats.rejected_429,
            stats.requests
        );
    }
}

#[test]
fn a_stream_read_per_parent_alone_uses_the_whole_budget() {
    // The first stream the table reads once per project, selected alone: its parents are read
    // at once, as many as `max_concurrency` allows, not half of them.
    let per_project = STREAMS
        .iter()
        .find(|def| match def.source {
            Source::PerParent(per) => {
                per.parents.len() == 1
                    && per.parents[0].stream == PROJECTS_STREAM
                    && matches!(per.parents[0].only, Only::All | Only::NotTrue(_))
            }
            _ => false,
        })
        .expect("the table reads some stream once per project");
    let site = Site::new(SimConfig {
        projects: 6,
        // Long enough that all six are in flight together, even on a loaded machine.
        latency_ms: 250,
        ..SimConfig::default()
    });
    let config = site.file(
        "config.json",
        &site.config_with(json!({"max_concurrency": 6})),
    );
    let mut catalog = site.discover(&config);
    select_only(&mut catalog, &[per_project.name]);
    site.file("catalog.json", &catalog);
    site.sim.sim.reset_requests();
    let run = site.sync_from(&site.file("state.json", &json!({})));
    run.assert_success();
    assert_eq!(run.record_counts().len(), 1, "{}", per_project.name);
    assert_eq!(
        site.sim.sim.peak_in_flight(),
        6,
        "{}: one request per project at once",
        per_project.name
    );
}

/// The requests the simulator received within `from..to` after `at`, as lines to show.
fn received_between(
    requests: &[RequestRecord],
    at: Instant,
    from: Duration,
    to: Duration,
) -> Vec<String> {
    requests
        .iter()
        .filter(|r| r.received > at + from && r.received < at + to)
        .map(|r| {
            format!(
                "{:.2}s {} {}",
                (r.received - at).as_secs_f64(),
                r.method,
                r.path
            )
        })
        .collect()
}

#[test]
fn a_pause_jira_asks_for_holds_requests_already_queued_under_max_requests_per_second() {
    // Under `max_requests_per_second` the requests waiting for a place have each been given
    // their start time: a 429 that comes meanwhile must hold them too, not only those that ask
    // for a place after it.
    let site = Site::new(SimConfig {
        projects: 2,
        issues_per_project: 10,
        ..SimConfig::default()
    });
    let config = site.file(
        "config.json",
        &site.config_with(json!({"max_requests_per_second": 5, "max_concurrency": 8})),
    );
    // One request per custom field, all ready at once: at 5 a second, the turns of the eight
    // in flight span more than a second.
    let mut catalog = site.discover(&config);
    select_only(&mut catalog, &["custom_field_contexts"]);
    site.file("catalog.json", &catalog);
    // Asked among many requests waiting their turn; the whole site (`jira-quota-tenant-based`)
    // says to wait 4 s.
    let refused = "/field/customfield_10001/context";
    site.sim.sim.push_fault(Fault::rate_limited(refused, 4, 1));
    site.sim.sim.reset_requests();
    let run = site.sync_from(&site.file("state.json", &json!({})));
    run.assert_success();
    let requests = site.sim.sim.requests();
    let told = requests
        .iter()
        .find(|r| r.status == 429)
        .expect("the refusal was sent")
        .received;
    // Wide margins: the tap learns of the pause a moment after the simulator sent it.
    let during = received_between(
        &requests,
        told,
        Duration::from_millis(500),
        Duration::from_millis(3500),
    );
    assert!(
        during.is_empty(),
        "requests sent while Jira asked for a 4 s pause: {during:?}"
    );
}

/// A Cloud 429 for `path`, once: wait `retry_after` seconds; the bucket of `limit` is empty and
/// full again in `full_in` seconds (`X-RateLimit-Reset`, from now), for this `reason`.
fn cloud_429(path: &str, retry_after: u64, limit: u64, full_in: i64, reason: &str) -> Fault {
    let reset = (chrono::Utc::now() + chrono::Duration::seconds(full_in))
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    Fault {
        headers: vec![
            ("Retry-After".into(), retry_after.to_string()),
            ("X-RateLimit-Limit".into(), limit.to_string()),
            ("X-RateLimit-Remaining".into(), "0".into()),
            ("X-RateLimit-Reset".into(), reset),
            ("RateLimit-Reason".into(), reason.into()),
        ],
        ..Fault::status(path, 429)
    }
}

/// A sync of a small Cloud site whose early `/project/type` request is answered `fault`, and
/// the time from that refusal to the last request of the sync.
fn sync_after_a_refusal(fault: Fault) -> (Run, Duration) {
    let site = Site::new(SimConfig {
        projects: 2,
        issues_per_project: 10,
        ..SimConfig::default()
    });
    let config = site.file("config.json", &site.config_with(json!({})));
    site.file("catalog.json", &site.discover(&config));
    site.sim.sim.push_fault(fault);
    site.sim.sim.reset_requests();
    let run = site.sync_from(&site.file("state.json", &json!({})));
    run.assert_success();
    let requests = site.sim.sim.requests();
    let told = requests
        .iter()
        .find(|r| r.status == 429)
        .expect("the refusal was sent")
        .received;
    let last = requests.last().expect("requests were sent").received;
    eprintln!("{} requests", requests.len());
    (run, last - told)
}

#[test]
fn the_tap_goes_at_full_speed_again_once_jiras_bucket_is_full() {
    // A quota 429: the bucket of 10 is full again in 3 s. Paced at its refill rate until then
    // (about 3 a second), the sync's other hundred requests must go at full speed after it,
    // though no later answer carries rate headers (Cloud sends them with refusals).
    let (_, took) = sync_after_a_refusal(cloud_429(
        "/project/type",
        1,
        10,
        3,
        "jira-quota-tenant-based",
    ));
    assert!(
        took < Duration::from_secs(12),
        "the sync took {took:?} after the refusal: still paced long after the bucket was full"
    );
}

#[test]
fn a_burst_limit_on_one_endpoint_does_not_pace_the_others() {
    // Cloud's burst limit is per endpoint: its refusal says that endpoint's bucket of 100 is
    // empty until 20 s from now. The other endpoints have buckets of their own.
    let (_, took) =
        sync_after_a_refusal(cloud_429("/project/type", 1, 100, 20, "jira-burst-based"));
    assert!(
        took < Duration::from_secs(10),
        "the sync took {took:?} after one endpoint's burst refusal: every endpoint was paced"
    );
}

#[test]
fn a_burst_limit_on_one_endpoint_does_not_hold_up_the_others() {
    // The custom fields' contexts are read many at once: one of them is refused by the burst
    // limit for 8 s. The other contexts wait that long; the other endpoints go on.
    let site = Site::new(SimConfig {
        projects: 2,
        issues_per_project: 10,
        // Slow enough that the other streams are still being read while the contexts wait.
        latency_ms: 100,
        ..SimConfig::default()
    });
    let config = site.file("config.json", &site.config_with(json!({})));
    site.file("catalog.json", &site.discover(&config));
    site.sim.sim.push_fault(cloud_429(
        "/customfield_10001/context",
        8,
        100,
        1,
        "jira-burst-based",
    ));
    site.sim.sim.reset_requests();
    let run = site.sync_from(&site.file("state.json", &json!({})));
    run.assert_success();
    let requests = site.sim.sim.requests();
    let told = requests
        .iter()
        .find(|r| r.status == 429)
        .expect("the refusal was sent")
        .received;
    // Other streams go on while the contexts wait (those read after the contexts in their
    // lane wait with them).
    let went_on: Vec<String> = received_between(
        &requests,
        told,
        Duration::from_millis(500),
        Duration::from_secs(7),
    )
    .into_iter()
    .filter(|line| !line.contains("/context"))
    .collect();
    assert!(
        went_on.len() >= 3,
        "other endpoints held up by one endpoint's burst pause: {went_on:?}"
    );
}
