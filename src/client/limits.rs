//! The tap's request budget: how many requests may be in flight at once (`max_concurrency`), how
//! fast they may start (`max_requests_per_second`), and when Jira said to wait. Every attempt
//! takes a slot before its credentials are added (an OAuth token stamped on a request that then
//! queues could expire on the way); the slot is given back when the response has been read.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::{Semaphore, SemaphorePermit};
use tokio::time::Instant;

pub struct Limits {
    permits: Semaphore,
    max_concurrency: usize,
    /// The least time between two request starts, from `max_requests_per_second`.
    spacing: Option<Duration>,
    /// The spacing Jira's own rate headers call for while its bucket is nearly empty, and until
    /// when the bucket is full again (`None`: until a later answer says it has filled).
    paced: Mutex<Option<(Duration, Option<Instant>)>>,
    next_start: Mutex<Instant>,
    /// Until when Jira asked everything (`None` key) or one endpoint to wait.
    paused: Mutex<HashMap<Option<String>, Instant>>,
    in_flight: AtomicUsize,
    peak: AtomicUsize,
    /// The time slots were held, summed over requests, and since when: their ratio is how many
    /// requests were in flight on average.
    held_nanos: AtomicU64,
    since: Instant,
}

/// A request's place in the budget; dropping it frees the place.
pub struct Slot<'a> {
    _permit: Option<SemaphorePermit<'a>>,
    limits: &'a Limits,
    taken: Instant,
}

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        self.limits.in_flight.fetch_sub(1, Ordering::Relaxed);
        let held = u64::try_from(self.taken.elapsed().as_nanos()).unwrap_or(u64::MAX);
        self.limits.held_nanos.fetch_add(held, Ordering::Relaxed);
    }
}

impl Limits {
    pub fn new(max_concurrency: usize, max_per_second: Option<f64>) -> Limits {
        Limits {
            permits: Semaphore::new(max_concurrency.max(1)),
            max_concurrency: max_concurrency.max(1),
            paced: Mutex::new(None),
            spacing: max_per_second.and_then(spacing),
            next_start: Mutex::new(Instant::now()),
            paused: Mutex::new(HashMap::new()),
            in_flight: AtomicUsize::new(0),
            peak: AtomicUsize::new(0),
            held_nanos: AtomicU64::new(0),
            since: Instant::now(),
        }
    }

    /// Waits for a place: a free slot, the end of any pause that covers `endpoint`, and this
    /// request's turn under the rate.
    pub async fn slot(&self, endpoint: &str) -> Slot<'_> {
        let permit = loop {
            // A pause is waited out without a place: a request to an endpoint Jira's burst limit
            // paused must not hold a place the other endpoints could use. A pause can be
            // extended while a request waits: look again after each wait.
            while let Some(until) = self.paused_until(endpoint) {
                tokio::time::sleep_until(until).await;
            }
            // The semaphore is never closed; without a permit the request simply goes.
            let permit = self.permits.acquire().await.ok();
            if self.paused_until(endpoint).is_some() {
                continue;
            }
            let paced = self.pacing();
            let Some(spacing) = self.spacing.max(paced) else {
                break permit;
            };
            let start = match self.next_start.lock() {
                Ok(mut next) => {
                    let start = (*next).max(Instant::now());
                    *next = start + spacing;
                    start
                }
                Err(_) => Instant::now(),
            };
            tokio::time::sleep_until(start).await;
            // A pause Jira asked for while this request waited its turn holds it too: it takes
            // a new turn once the pause is over.
            if self.paused_until(endpoint).is_none() {
                break permit;
            }
        };
        let now = self.in_flight.fetch_add(1, Ordering::Relaxed) + 1;
        self.peak.fetch_max(now, Ordering::Relaxed);
        Slot {
            _permit: permit,
            limits: self,
            taken: Instant::now(),
        }
    }

    /// The spacing Jira's rate headers call for now: none once the bucket is full again.
    fn pacing(&self) -> Option<Duration> {
        let mut paced = self.paced.lock().ok()?;
        match *paced {
            Some((_, Some(full_at))) if full_at <= Instant::now() => {
                *paced = None;
                None
            }
            Some((spacing, _)) => Some(spacing),
            None => None,
        }
    }

    /// Every request waits until `until`, or only those to `endpoint`.
    pub fn pause(&self, endpoint: Option<&str>, until: Instant) {
        if let Ok(mut paused) = self.paused.lock() {
            let entry = paused.entry(endpoint.map(String::from)).or_insert(until);
            *entry = (*entry).max(until);
        }
    }

    fn paused_until(&self, endpoint: &str) -> Option<Instant> {
        let now = Instant::now();
        let mut paused = self.paused.lock().ok()?;
        paused.retain(|_, until| *until > now);
        let all = paused.get(&None).copied();
        let this = paused.get(&Some(endpoint.to_string())).copied();
        all.max(this)
    }

    /// Paces requests to Jira's refill rate while its bucket is nearly empty, so that the tap slows
    /// before it is refused; full speed again once the bucket has filled.
    pub fn observe(&self, rate: &RateHeaders) {
        let Some(remaining) = rate.remaining else {
            return;
        };
        let low = self.max_concurrency as f64;
        if let Ok(mut paced) = self.paced.lock() {
            if remaining <= low {
                if let Some(spacing) = rate.refill_per_second.and_then(spacing) {
                    // Cloud sends its rate headers with refusals only: no later answer may say
                    // that the bucket has filled, so the pacing ends when it is full again. A
                    // time past what the clock can hold is never, as far as this run goes.
                    let full_at = rate
                        .full_in
                        .and_then(|full_in| Instant::now().checked_add(full_in));
                    *paced = Some((spacing, full_at));
                }
            } else if remaining > 2.0 * low {
                *paced = None;
            }
        }
    }

    /// Requests in flight on average since the limits were made.
    pub fn mean_in_flight(&self) -> f64 {
        let held = self.held_nanos.load(Ordering::Relaxed) as f64;
        let wall = self.since.elapsed().as_nanos() as f64;
        if wall > 0.0 { held / wall } else { 0.0 }
    }

    /// The most requests that were in flight at once.
    pub fn peak_in_flight(&self) -> usize {
        self.peak.load(Ordering::Relaxed)
    }
}

/// The most time between two request starts: a rate header below one request in 100 s is taken
/// as that rather than a sync that never ends (config `max_requests_per_second` is at least 0.01).
const MAX_SPACING: Duration = Duration::from_secs(100);

/// The time between two request starts at `per_second`; None when that is not a positive rate.
fn spacing(per_second: f64) -> Option<Duration> {
    if per_second.is_nan() || per_second <= 0.0 {
        return None;
    }
    Some(Duration::try_from_secs_f64(1.0 / per_second).map_or(MAX_SPACING, |d| d.min(MAX_SPACING)))
}

/// The furthest `X-RateLimit-Reset` taken at its word: Jira Cloud's quotas are counted over an
/// hour at most. One further off is a broken header or a clock an hour behind the site's, and
/// paced by, it held every later request of the run 100 s apart.
const MAX_RESET_SECONDS: f64 = 3600.0;

/// What Jira's rate-limit headers say: tokens left, and how fast they come back — Data Center
/// gives the fill rate, Cloud the instant the bucket is full again.
#[derive(Debug, Default, PartialEq)]
pub struct RateHeaders {
    pub remaining: Option<f64>,
    pub refill_per_second: Option<f64>,
    /// When the bucket is full again, from now (Cloud's `X-RateLimit-Reset`, or the tokens
    /// missing from `X-RateLimit-Limit` at the refill rate).
    pub full_in: Option<Duration>,
}

impl RateHeaders {
    pub fn read<'h>(header: impl Fn(&str) -> Option<&'h str>, now: DateTime<Utc>) -> RateHeaders {
        let number = |name: &str| header(name).and_then(|v| v.trim().parse::<f64>().ok());
        let remaining = number("X-RateLimit-Remaining");
        let limit = number("X-RateLimit-Limit");
        let (refill_per_second, full_in) = match (
            number("X-RateLimit-FillRate"),
            number("X-RateLimit-Interval-Seconds"),
        ) {
            (Some(fill), Some(interval)) if interval > 0.0 => {
                let rate = fill / interval;
                let full_in = match (limit, remaining) {
                    (Some(limit), Some(remaining)) if rate > 0.0 && remaining < limit => {
                        Duration::try_from_secs_f64((limit - remaining) / rate).ok()
                    }
                    _ => None,
                };
                (Some(rate), full_in)
            }
            _ => {
                let full_at = header("X-RateLimit-Reset")
                    .and_then(|v| DateTime::parse_from_rfc3339(v.trim()).ok());
                match (limit, remaining, full_at) {
                    (Some(limit), Some(remaining), Some(full_at)) if remaining < limit => {
                        let seconds =
                            (full_at.with_timezone(&Utc) - now).num_milliseconds() as f64 / 1000.0;
                        if seconds > 0.0 && seconds <= MAX_RESET_SECONDS {
                            (
                                Some((limit - remaining) / seconds),
                                Some(Duration::from_secs_f64(seconds)),
                            )
                        } else {
                            (None, None)
                        }
                    }
                    _ => (None, None),
                }
            }
        };
        RateHeaders {
            remaining,
            refill_per_second,
            full_in,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn rate_spaces_starts_and_concurrency_caps_slots() {
        let limits = Limits::new(2, Some(10.0));
        let started = Instant::now();
        let a = limits.slot("GET /a").await;
        let b = limits.slot("GET /a").await;
        assert_eq!(limits.peak_in_flight(), 2);
        assert!(
            started.elapsed() >= Duration::from_millis(100),
            "10 per second"
        );
        drop(a);
        let _c = limits.slot("GET /a").await;
        assert_eq!(
            limits.peak_in_flight(),
            2,
            "never more than max_concurrency"
        );
        drop(b);
    }

    #[test]
    fn a_rate_too_small_to_be_meant_is_one_request_in_100_seconds() {
        assert_eq!(spacing(4.0), Some(Duration::from_millis(250)));
        for tiny in [1e-6, 1e-19, 1e-300, f64::MIN_POSITIVE] {
            assert_eq!(spacing(tiny), Some(MAX_SPACING), "{tiny}");
        }
        for none in [0.0, -1.0, f64::NAN] {
            assert_eq!(spacing(none), None, "{none}");
        }
        let limits = Limits::new(1, Some(1e-300));
        limits.observe(&RateHeaders {
            remaining: Some(0.0),
            refill_per_second: Some(1e-300),
            full_in: None,
        });
        assert_eq!(limits.spacing, Some(MAX_SPACING));
    }

    #[tokio::test(start_paused = true)]
    async fn the_mean_in_flight_weighs_each_slot_by_how_long_it_was_held() {
        let limits = Limits::new(8, None);
        let a = limits.slot("GET /a").await;
        let b = limits.slot("GET /b").await;
        tokio::time::advance(Duration::from_millis(100)).await;
        drop((a, b));
        tokio::time::advance(Duration::from_millis(100)).await;
        assert!((limits.mean_in_flight() - 1.0).abs() < 0.01);
    }

    #[test]
    fn refill_rate_from_data_center_or_cloud_headers() {
        let now = DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let read = |pairs: &[(&'static str, &'static str)]| {
            RateHeaders::read(
                |name| pairs.iter().find(|(n, _)| *n == name).map(|(_, v)| *v),
                now,
            )
        };
        let dc = read(&[
            ("X-RateLimit-Remaining", "3"),
            ("X-RateLimit-FillRate", "10"),
            ("X-RateLimit-Interval-Seconds", "2"),
        ]);
        assert_eq!((dc.remaining, dc.refill_per_second), (Some(3.0), Some(5.0)));
        let cloud = read(&[
            ("X-RateLimit-Remaining", "0"),
            ("X-RateLimit-Limit", "20"),
            ("X-RateLimit-Reset", "2026-01-01T00:00:02Z"),
        ]);
        assert_eq!(cloud.refill_per_second, Some(10.0));
        assert_eq!(cloud.full_in, Some(Duration::from_secs(2)));
        // A reset past Jira's longest window (a broken header, or a clock an hour or more
        // behind the site's) paces nothing: taken at its word, it held every later request of
        // the run 100 s apart, without a word. Retry-After still stands.
        for far in ["2099-01-01T00:00:00Z", "2026-01-01T01:00:01Z"] {
            let pairs = [
                ("X-RateLimit-Remaining", "0"),
                ("X-RateLimit-Limit", "20"),
                ("X-RateLimit-Reset", far),
            ];
            assert_eq!(read(&pairs).refill_per_second, None, "{far}");
        }
        assert_eq!(read(&[]), RateHeaders::default());
    }

    #[tokio::test(start_paused = true)]
    async fn an_emptying_bucket_paces_requests_until_it_fills() {
        let limits = Limits::new(2, None);
        let low = RateHeaders {
            remaining: Some(1.0),
            refill_per_second: Some(4.0),
            full_in: None,
        };
        limits.observe(&low);
        let started = Instant::now();
        drop(limits.slot("GET /a").await);
        drop(limits.slot("GET /a").await);
        drop(limits.slot("GET /a").await);
        assert!(
            started.elapsed() >= Duration::from_millis(500),
            "4 per second"
        );
        limits.observe(&RateHeaders {
            remaining: Some(50.0),
            refill_per_second: Some(4.0),
            full_in: None,
        });
        let fast = Instant::now();
        drop(limits.slot("GET /a").await);
        drop(limits.slot("GET /a").await);
        assert!(
            fast.elapsed() <= Duration::from_millis(250),
            "full speed again"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_pause_told_while_a_request_waits_its_turn_holds_it() {
        let limits = std::sync::Arc::new(Limits::new(4, Some(1.0)));
        let started = Instant::now();
        drop(limits.slot("GET /a").await);
        let queued = {
            let limits = std::sync::Arc::clone(&limits);
            tokio::spawn(async move {
                drop(limits.slot("GET /a").await);
                Instant::now()
            })
        };
        tokio::time::advance(Duration::from_millis(100)).await;
        limits.pause(None, started + Duration::from_secs(5));
        let went = queued.await.unwrap();
        assert!(
            went >= started + Duration::from_secs(5),
            "{:?}",
            went - started
        );
    }

    #[tokio::test(start_paused = true)]
    async fn pacing_ends_when_the_bucket_is_full_again_without_a_later_header() {
        let limits = Limits::new(2, None);
        limits.observe(&RateHeaders {
            remaining: Some(0.0),
            refill_per_second: Some(1.0),
            full_in: Some(Duration::from_secs(3)),
        });
        assert_eq!(limits.pacing(), Some(Duration::from_secs(1)));
        tokio::time::advance(Duration::from_secs(3)).await;
        let fast = Instant::now();
        for _ in 0..4 {
            drop(limits.slot("GET /a").await);
        }
        assert!(
            fast.elapsed() < Duration::from_millis(10),
            "full speed again"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn requests_waiting_out_an_endpoints_pause_leave_the_places_to_others() {
        let limits = std::sync::Arc::new(Limits::new(1, None));
        let started = Instant::now();
        limits.pause(Some("GET /slow"), started + Duration::from_secs(5));
        let waiting = {
            let limits = std::sync::Arc::clone(&limits);
            tokio::spawn(async move { drop(limits.slot("GET /slow").await) })
        };
        tokio::time::advance(Duration::from_millis(10)).await;
        drop(limits.slot("GET /other").await);
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "other endpoints go on"
        );
        waiting.await.unwrap();
        assert!(started.elapsed() >= Duration::from_secs(5));
    }

    #[tokio::test(start_paused = true)]
    async fn a_pause_holds_its_endpoint_or_everything() {
        let limits = Limits::new(4, None);
        let started = Instant::now();
        limits.pause(Some("GET /slow"), started + Duration::from_secs(2));
        drop(limits.slot("GET /other").await);
        assert!(
            started.elapsed() < Duration::from_millis(10),
            "other endpoints go on"
        );
        drop(limits.slot("GET /slow").await);
        assert!(started.elapsed() >= Duration::from_secs(2));
        limits.pause(None, Instant::now() + Duration::from_secs(3));
        drop(limits.slot("GET /other").await);
        assert!(
            started.elapsed() >= Duration::from_secs(5),
            "a global pause holds all"
        );
    }
}
