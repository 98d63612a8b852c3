//! What orchestrators and people watch on stderr while a sync runs: singer-python's metric lines
//! (`METRIC: {...}`: `record_count` per stream, `http_request_duration` per request), which
//! Singer runners parse, and one human progress line per active stream at a steady interval.
//!
//! Counting is an atomic add per record; the lines are written by one reporter task, so the
//! record path never formats anything for them.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use serde::Serialize;
use serde_json::json;

/// Where the metric lines go: `RUST_LOG=info,metrics=off` silences them and nothing else.
const TARGET: &str = "metrics";

/// One stream's counts, shared by its emitters and the reporter.
#[derive(Debug, Default)]
pub struct StreamCounts {
    records: AtomicU64,
    /// How many records Jira said there are (0: unknown), for the estimate.
    expected: AtomicU64,
}

impl StreamCounts {
    pub fn add_record(&self) {
        self.records.fetch_add(1, Ordering::Relaxed);
    }

    /// Jira's total for the records still to come (a search's `total`), added to what is known.
    pub fn expect(&self, more: u64) {
        self.expected.fetch_add(more, Ordering::Relaxed);
    }
}

/// What was last reported of a stream.
struct Reported {
    counts: Arc<StreamCounts>,
    records: u64,
    at: Instant,
    started: Instant,
}

fn registry() -> MutexGuard<'static, BTreeMap<&'static str, Reported>> {
    static STREAMS: Mutex<BTreeMap<&'static str, Reported>> = Mutex::new(BTreeMap::new());
    STREAMS.lock().unwrap_or_else(|e| e.into_inner())
}

/// The counts of `stream`, created on first use.
pub fn stream(stream: &'static str) -> Arc<StreamCounts> {
    let now = Instant::now();
    let mut streams = registry();
    let entry = streams.entry(stream).or_insert_with(|| Reported {
        counts: Arc::default(),
        records: 0,
        at: now,
        started: now,
    });
    Arc::clone(&entry.counts)
}

/// singer-python's timer for one HTTP request; `http_status_code` is absent when no answer came
/// (the connection failed or timed out).
pub fn request_timed(endpoint: &str, elapsed: Duration, http_status: Option<u16>, succeeded: bool) {
    // Laid out by serde from borrowed fields: every request writes one, and building it as a
    // `Value` made a map and a dozen allocations of it each time.
    let metric = Timer {
        kind: "timer",
        metric: "http_request_duration",
        value: (elapsed.as_secs_f64() * 1e6).round() / 1e6,
        tags: TimerTags {
            endpoint,
            status: if succeeded { "succeeded" } else { "failed" },
            http_status_code: http_status,
        },
    };
    if let Ok(metric) = serde_json::to_string(&metric) {
        tracing::info!(target: TARGET, "METRIC: {metric}");
    }
}

#[derive(Serialize)]
struct Timer<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    metric: &'static str,
    value: f64,
    tags: TimerTags<'a>,
}

#[derive(Serialize)]
struct TimerTags<'a> {
    endpoint: &'a str,
    status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    http_status_code: Option<u16>,
}

/// Reports every stream whose count moved since the last report: a `record_count` metric with
/// what was added (as singer-python's counter does, so the lines sum to the total) and a
/// progress line with the rate and, where Jira gave a total, an estimate of the time left.
pub fn report() {
    let now = Instant::now();
    let mut streams = registry();
    for (name, reported) in streams.iter_mut() {
        let records = reported.counts.records.load(Ordering::Relaxed);
        let added = records - reported.records.min(records);
        if added == 0 {
            continue;
        }
        let metric = json!({
            "type": "counter",
            "metric": "record_count",
            "value": added,
            "tags": {"endpoint": name},
        });
        tracing::info!(target: TARGET, "METRIC: {metric}");
        let seconds = now.duration_since(reported.at).as_secs_f64().max(1e-3);
        let rate = added as f64 / seconds;
        let expected = reported.counts.expected.load(Ordering::Relaxed);
        match estimate(records, expected, now.duration_since(reported.started)) {
            Some((percent, left)) => tracing::info!(
                stream = name,
                records,
                per_second = format!("{rate:.0}"),
                of = expected,
                done = format!("{percent:.0}%"),
                left = format!("{}s", left.as_secs()),
                "progress"
            ),
            None => tracing::info!(
                stream = name,
                records,
                per_second = format!("{rate:.0}"),
                "progress"
            ),
        }
        reported.records = records;
        reported.at = now;
    }
}

/// How far along a stream is, and the time left at its average rate so far, when Jira gave a
/// total it has not yet passed.
fn estimate(records: u64, expected: u64, elapsed: Duration) -> Option<(f64, Duration)> {
    if expected == 0 || records == 0 || records >= expected {
        return None;
    }
    // A total far beyond the records so far (a server can say anything) is no estimate.
    let left = Duration::try_from_secs_f64(
        elapsed.as_secs_f64() * ((expected - records) as f64 / records as f64),
    )
    .ok()?;
    Some((records as f64 * 100.0 / expected as f64, left))
}

/// Reports every `every` until dropped, then once more, so the last counts are always out.
pub struct Reporter {
    task: Option<tokio::task::JoinHandle<()>>,
}

impl Reporter {
    /// `None`: no progress lines; the metrics are still reported when the reporter is dropped.
    pub fn start(every: Option<Duration>) -> Reporter {
        let task = every.filter(|d| !d.is_zero()).map(|every| {
            tokio::spawn(async move {
                let mut ticks =
                    tokio::time::interval_at(tokio::time::Instant::now() + every, every);
                loop {
                    ticks.tick().await;
                    report();
                }
            })
        });
        Reporter { task }
    }
}

impl Drop for Reporter {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
        report();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn estimates_only_below_a_known_total() {
        let minute = Duration::from_secs(60);
        assert_eq!(estimate(0, 100, minute), None);
        assert_eq!(estimate(50, 0, minute), None);
        assert_eq!(estimate(100, 100, minute), None);
        let (percent, left) = estimate(25, 100, minute).unwrap();
        assert_eq!(percent, 25.0);
        assert_eq!(left, Duration::from_secs(180));
        assert_eq!(
            estimate(5, u64::MAX, Duration::from_secs(10)),
            None,
            "no Duration"
        );
    }

    #[test]
    fn counts_are_shared_per_stream() {
        let a = stream("metrics-test-a");
        let again = stream("metrics-test-a");
        a.add_record();
        again.add_record();
        assert_eq!(a.records.load(Ordering::Relaxed), 2);
        report();
        assert_eq!(registry()["metrics-test-a"].records, 2);
    }
}
