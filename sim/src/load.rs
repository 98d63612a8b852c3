//! Load on the simulator: the rate limiter (one token bucket for the site, as
//! [`SimConfig::rate_limit_per_second`](crate::SimConfig::rate_limit_per_second) sets it) and
//! the accounting a benchmark reads: requests, 429s, requests in flight and busy time.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde::Serialize;

/// A token bucket: `capacity` tokens (a one-second burst, at least one), refilled at `rate`
/// tokens a second; each request takes one.
pub(crate) struct TokenBucket {
    rate: f64,
    capacity: f64,
    /// Tokens left at the instant, and that instant.
    state: Mutex<(f64, Instant)>,
}

/// What the bucket said to one request.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Admission {
    /// Took a token: `remaining` whole tokens are left; the bucket is full again in `full_in`.
    Admitted { remaining: u64, full_in: Duration },
    /// No token: the next one is there in `wait`.
    Refused { wait: Duration },
}

impl TokenBucket {
    /// A full bucket for `rate` requests a second; `None` for a rate that is not a positive
    /// number (no limit).
    pub fn new(rate: f64) -> Option<TokenBucket> {
        (rate.is_finite() && rate > 0.0).then(|| {
            let capacity = rate.max(1.0);
            TokenBucket {
                rate,
                capacity,
                state: Mutex::new((capacity, Instant::now())),
            }
        })
    }

    pub fn rate(&self) -> f64 {
        self.rate
    }

    /// The burst: how many requests a full bucket admits at once.
    pub fn capacity(&self) -> f64 {
        self.capacity
    }

    /// Takes a token at `now`, if there is one.
    pub fn take(&self, now: Instant) -> Admission {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let (tokens, last) = *state;
        let elapsed = now.saturating_duration_since(last).as_secs_f64();
        let tokens = (tokens + elapsed * self.rate).min(self.capacity);
        // A clock read before the last one (another thread's `now`) must not move `last` back.
        let now = now.max(last);
        if tokens >= 1.0 {
            let left = tokens - 1.0;
            *state = (left, now);
            Admission::Admitted {
                remaining: left.floor() as u64,
                full_in: Duration::from_secs_f64((self.capacity - left) / self.rate),
            }
        } else {
            *state = (tokens, now);
            Admission::Refused {
                wait: Duration::from_secs_f64((1.0 - tokens) / self.rate),
            }
        }
    }
}

/// The load the simulator has seen (admin endpoints are not counted).
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct LoadStats {
    /// Requests received, the refused ones included.
    pub requests: u64,
    /// Requests the rate limiter answered with 429.
    pub rejected_429: u64,
    /// The most requests being handled at the same moment, the latency sleep included.
    pub peak_in_flight: usize,
    /// Time spent handling requests, the latency sleep excluded: roughly the simulator's own
    /// CPU time (summed over concurrent requests).
    pub busy_seconds: f64,
}

#[derive(Default)]
pub(crate) struct Meter {
    requests: AtomicU64,
    rejected_429: AtomicU64,
    in_flight: AtomicUsize,
    peak_in_flight: AtomicUsize,
    busy_nanos: AtomicU64,
}

/// A request being handled; dropping it (also when the client went away mid-request) ends it.
pub(crate) struct InFlight<'a> {
    meter: &'a Meter,
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.meter.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Meter {
    /// Counts a request as received and in flight until the guard is dropped.
    pub fn enter(&self) -> InFlight<'_> {
        self.requests.fetch_add(1, Ordering::Relaxed);
        let now = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        self.peak_in_flight.fetch_max(now, Ordering::SeqCst);
        InFlight { meter: self }
    }

    pub fn rejected(&self) {
        self.rejected_429.fetch_add(1, Ordering::Relaxed);
    }

    pub fn add_busy(&self, busy: Duration) {
        let nanos = u64::try_from(busy.as_nanos()).unwrap_or(u64::MAX);
        self.busy_nanos.fetch_add(nanos, Ordering::Relaxed);
    }

    pub fn stats(&self) -> LoadStats {
        LoadStats {
            requests: self.requests.load(Ordering::Relaxed),
            rejected_429: self.rejected_429.load(Ordering::Relaxed),
            peak_in_flight: self.peak_in_flight.load(Ordering::SeqCst),
            busy_seconds: self.busy_nanos.load(Ordering::Relaxed) as f64 / 1e9,
        }
    }

    /// Starts counting afresh; the peak restarts at the requests in flight now.
    pub fn reset(&self) {
        self.requests.store(0, Ordering::Relaxed);
        self.rejected_429.store(0, Ordering::Relaxed);
        self.busy_nanos.store(0, Ordering::Relaxed);
        let now = self.in_flight.load(Ordering::SeqCst);
        self.peak_in_flight.store(now, Ordering::SeqCst);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bucket_admits_a_burst_then_refills_at_its_rate() {
        let bucket = TokenBucket::new(4.0).unwrap();
        let start = Instant::now();
        for left in (0..4).rev() {
            match bucket.take(start) {
                Admission::Admitted { remaining, .. } => assert_eq!(remaining, left),
                refused => panic!("refused within the burst: {refused:?}"),
            }
        }
        let Admission::Refused { wait } = bucket.take(start) else {
            panic!("admitted beyond the burst");
        };
        assert_eq!(wait, Duration::from_millis(250));
        let Admission::Admitted { remaining, full_in } =
            bucket.take(start + Duration::from_millis(250))
        else {
            panic!("refused once a token was back");
        };
        assert_eq!(remaining, 0);
        assert_eq!(full_in, Duration::from_secs(1));
        // Never more than the burst, however long the bucket rests.
        let later = start + Duration::from_secs(60);
        assert!(matches!(
            bucket.take(later),
            Admission::Admitted { remaining: 3, .. }
        ));
    }

    #[test]
    fn slow_rates_still_admit_one_request() {
        let bucket = TokenBucket::new(0.5).unwrap();
        assert_eq!(bucket.capacity(), 1.0);
        let start = Instant::now();
        assert!(matches!(bucket.take(start), Admission::Admitted { .. }));
        assert_eq!(
            bucket.take(start),
            Admission::Refused {
                wait: Duration::from_secs(2)
            }
        );
        assert!(TokenBucket::new(0.0).is_none());
        assert!(TokenBucket::new(f64::NAN).is_none());
    }

    #[test]
    fn the_meter_keeps_the_peak_of_requests_in_flight() {
        let meter = Meter::default();
        let a = meter.enter();
        let b = meter.enter();
        drop(a);
        let c = meter.enter();
        drop(b);
        drop(c);
        let _d = meter.enter();
        let stats = meter.stats();
        assert_eq!((stats.requests, stats.peak_in_flight), (4, 2));
        meter.reset();
        assert_eq!(meter.stats().peak_in_flight, 1);
        assert_eq!(meter.stats().requests, 0);
    }
}
