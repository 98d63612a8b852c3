//! The one retry policy, decided purely: given what happened and how long we have tried, wait how
//! long or give up. Clock and randomness come from the caller, so tests never sleep.

use std::time::Duration;

use chrono::{DateTime, Datelike, NaiveDateTime, Utc};

/// What a failed attempt looked like.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Status {
        status: u16,
        retry_after: Option<Duration>,
        /// Jira's burst limit, which is per endpoint (`RateLimit-Reason: jira-burst-based`):
        /// slowing that endpoint is enough.
        burst: bool,
    },
    Timeout,
    Connection(String),
    /// The body broke off, or a login page came instead of JSON: the transfer failed.
    BrokenBody(String),
    /// The body arrived whole but is not the JSON it should be: the server may hold it so.
    InvalidBody(String),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Decision {
    /// `counted`: the retry counts against `max_retries` (it is not a wait Jira asked for).
    Retry {
        after: Duration,
        reason: String,
        counted: bool,
    },
    GiveUp {
        reason: String,
    },
}

/// The shortest `Retry-After` taken as Jira asking for a pause.
pub const MIN_ASKED_WAIT: Duration = Duration::from_secs(1);

/// A `Retry-After` longer than this is cut to it.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(600);

#[derive(Debug, Clone)]
pub struct RetryPolicy {
    pub max_retries: u32,
    /// Wall-clock time one request may spend retrying.
    pub budget: Duration,
    pub base_backoff: Duration,
    pub max_backoff: Duration,
    /// A `Retry-After` longer than this is cut to it.
    pub max_retry_after: Duration,
}

impl RetryPolicy {
    pub fn new(max_retries: u32, budget: Duration) -> Self {
        RetryPolicy {
            max_retries,
            budget,
            base_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(60),
            max_retry_after: MAX_RETRY_AFTER,
        }
    }

    /// `retries` is how many retries were already made; `jitter` is uniform in [0, 1).
    pub fn decide(
        &self,
        retries: u32,
        outcome: &Outcome,
        elapsed: Duration,
        jitter: f64,
    ) -> Decision {
        let reason = describe(outcome);
        let retry_after = match outcome {
            Outcome::Status {
                status,
                retry_after,
                ..
            } if is_transient_status(*status) => *retry_after,
            Outcome::Status { .. } => return Decision::GiveUp { reason },
            Outcome::Timeout
            | Outcome::Connection(_)
            | Outcome::BrokenBody(_)
            | Outcome::InvalidBody(_) => None,
        };
        // A wait Jira asked for is bounded by the budget alone (below), not by `max_retries`;
        // one under a second (`Retry-After: 0`, a date already past) is no wait at all, and
        // retrying on it at once would be a loop.
        let asked = retry_after.filter(|wait| *wait >= MIN_ASKED_WAIT);
        if retries >= self.max_retries && asked.is_none() {
            return Decision::GiveUp {
                reason: format!("{reason} (after {} retries){}", retries, fix(outcome)),
            };
        }
        let left = self.budget.saturating_sub(elapsed);
        if let Some(wait) = asked
            && wait > left
        {
            // Sleeping on it would only end in giving up, hours or days from now.
            return Decision::GiveUp {
                reason: format!(
                    "{reason} with Retry-After of {}s, more than the {}s left of retry_budget_seconds",
                    wait.as_secs(),
                    left.as_secs()
                ),
            };
        }
        let after = match asked {
            Some(wait) => wait.min(self.max_retry_after),
            None => {
                let exp = self.base_backoff.saturating_mul(1u32 << retries.min(16));
                exp.min(self.max_backoff)
                    .mul_f64(0.5 + jitter.clamp(0.0, 1.0) / 2.0)
            }
        };
        if elapsed + after > self.budget {
            return Decision::GiveUp {
                reason: format!(
                    "{reason} (retry budget of {}s spent){}",
                    self.budget.as_secs(),
                    fix(outcome)
                ),
            };
        }
        Decision::Retry {
            after,
            reason,
            counted: asked.is_none(),
        }
    }
}

pub fn is_transient_status(status: u16) -> bool {
    matches!(status, 408 | 429 | 500 | 502 | 503 | 504)
}

/// What to change when retrying did not help, where a setting can: a site slower to answer than
/// `request_timeout` allows times out on every attempt alike.
fn fix(outcome: &Outcome) -> &'static str {
    match outcome {
        Outcome::Timeout => {
            "; raise request_timeout if Jira is this slow to answer, otherwise check the network \
             between here and the site"
        }
        _ => "",
    }
}

fn describe(outcome: &Outcome) -> String {
    match outcome {
        Outcome::Status { status, .. } => format!("HTTP {status}"),
        Outcome::Timeout => "timed out".into(),
        Outcome::Connection(e) => format!("connection failed: {e}"),
        Outcome::BrokenBody(e) => format!("response body broken: {e}"),
        Outcome::InvalidBody(e) => format!("response body invalid: {e}"),
    }
}

/// `Retry-After` as seconds or as an HTTP date.
pub fn parse_retry_after(value: &str, now: DateTime<Utc>) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<f64>() {
        // Capped only so that any number fits a Duration: a long wait is judged by the caller.
        return (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs.min(1e12)));
    }
    let at = parse_http_date(value, now)?;
    Some((at - now).to_std().unwrap_or(Duration::ZERO))
}

/// An HTTP date in any of the three forms a recipient must accept (RFC 9110 §5.6.7): IMF-fixdate
/// (`Sun, 06 Nov 1994 08:49:37 GMT`), the obsolete RFC 850 form (`Sunday, 06-Nov-94 08:49:37 GMT`)
/// and asctime (`Sun Nov  6 08:49:37 1994`), all in UTC.
fn parse_http_date(value: &str, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    if let Ok(at) = DateTime::parse_from_rfc2822(value) {
        return Some(at.with_timezone(&Utc));
    }
    // The weekday is left out of the obsolete forms: it only repeats the date, and in the RFC 850
    // form it is checked against the century the two-digit year has before that is settled.
    if let Some((_, rest)) = value.split_once(", ")
        && let Ok(at) = NaiveDateTime::parse_from_str(rest.trim(), "%d-%b-%y %H:%M:%S GMT")
    {
        // The two-digit year is of this century, unless that is more than 50 years ahead: then
        // of the one before (not chrono's fixed 1970–2069).
        let now = now.naive_utc();
        let years = |at: NaiveDateTime, by: i32| at.with_year(at.year() + by);
        let mut at = years(at, now.year() / 100 * 100 - at.year() / 100 * 100)?;
        if at > years(now, 50)? {
            at = years(at, -100)?;
        }
        return Some(at.and_utc());
    }
    let (_, rest) = value.split_once(' ')?;
    let at = NaiveDateTime::parse_from_str(rest.trim(), "%b %e %H:%M:%S %Y").ok()?;
    Some(at.and_utc())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> RetryPolicy {
        RetryPolicy::new(3, Duration::from_secs(100))
    }

    fn status(status: u16, retry_after: Option<u64>) -> Outcome {
        Outcome::Status {
            status,
            retry_after: retry_after.map(Duration::from_secs),
            burst: false,
        }
    }

    #[test]
    fn honours_retry_after() {
        let d = policy().decide(0, &status(429, Some(7)), Duration::ZERO, 0.9);
        assert_eq!(
            d,
            Decision::Retry {
                after: Duration::from_secs(7),
                reason: "HTTP 429".into(),
                counted: false,
            }
        );
    }

    #[test]
    fn a_retry_after_under_a_second_is_a_counted_retry_with_backoff() {
        // `Retry-After: 0` (or a date already past) asks for no pause: retried on it at once
        // and uncounted, a failing site was asked again and again until the budget ran out.
        let p = policy();
        match p.decide(0, &status(503, Some(0)), Duration::ZERO, 1.0) {
            Decision::Retry { after, counted, .. } => {
                assert!(counted);
                assert_eq!(after, Duration::from_millis(500));
            }
            other => panic!("{other:?}"),
        }
        let spent = p.max_retries;
        assert!(matches!(
            p.decide(spent, &status(503, Some(0)), Duration::ZERO, 1.0),
            Decision::GiveUp { .. }
        ));
        assert!(matches!(
            p.decide(spent, &status(503, Some(1)), Duration::ZERO, 1.0),
            Decision::Retry { counted: false, .. }
        ));
    }

    #[test]
    fn backs_off_exponentially_with_jitter() {
        let p = policy();
        let after =
            |retries, jitter| match p.decide(retries, &Outcome::Timeout, Duration::ZERO, jitter) {
                Decision::Retry { after, .. } => after,
                other => panic!("{other:?}"),
            };
        assert_eq!(after(0, 0.0), Duration::from_millis(250));
        assert_eq!(after(0, 1.0), Duration::from_millis(500));
        assert_eq!(after(2, 1.0), Duration::from_secs(2));
    }

    #[test]
    fn gives_up_on_client_errors_retries_and_budget() {
        let p = policy();
        assert!(matches!(
            p.decide(0, &status(400, None), Duration::ZERO, 0.0),
            Decision::GiveUp { .. }
        ));
        assert!(matches!(
            p.decide(0, &status(404, None), Duration::ZERO, 0.0),
            Decision::GiveUp { .. }
        ));
        assert!(matches!(
            p.decide(3, &status(503, None), Duration::ZERO, 0.0),
            Decision::GiveUp { .. }
        ));
        let d = p.decide(0, &status(429, Some(30)), Duration::from_secs(80), 0.0);
        assert!(matches!(d, Decision::GiveUp { reason } if reason.contains("budget")));
    }

    #[test]
    fn a_retry_after_beyond_the_budget_gives_up_at_once() {
        let d = policy().decide(0, &status(429, Some(864_000)), Duration::ZERO, 0.0);
        assert_eq!(
            d,
            Decision::GiveUp {
                reason: "HTTP 429 with Retry-After of 864000s, more than the 100s left of \
                         retry_budget_seconds"
                    .into()
            }
        );
        let d = policy().decide(0, &status(503, Some(60)), Duration::from_secs(50), 0.0);
        assert!(matches!(d, Decision::GiveUp { reason } if reason.contains("50s left")));
        assert!(matches!(
            policy().decide(0, &status(429, Some(60)), Duration::from_secs(30), 0.0),
            Decision::Retry { .. }
        ));
    }

    #[test]
    fn reads_both_retry_after_forms() {
        let now = DateTime::parse_from_rfc3339("2015-10-21T07:28:00Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(parse_retry_after("5", now), Some(Duration::from_secs(5)));
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:30 GMT", now),
            Some(Duration::from_secs(30))
        );
        assert_eq!(parse_retry_after("soon", now), None);
    }

    #[test]
    fn reads_all_three_http_date_forms() {
        // RFC 9110 §5.6.7: IMF-fixdate, the obsolete RFC 850 form and asctime, all the same time.
        let now = DateTime::parse_from_rfc3339("1994-11-06T08:49:00Z")
            .unwrap()
            .with_timezone(&Utc);
        for date in [
            "Sun, 06 Nov 1994 08:49:37 GMT",
            "Sunday, 06-Nov-94 08:49:37 GMT",
            "Sun Nov  6 08:49:37 1994",
        ] {
            assert_eq!(
                parse_retry_after(date, now),
                Some(Duration::from_secs(37)),
                "{date}"
            );
        }
        // A two-digit year more than 50 years ahead is of the century before.
        let now = DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(
            parse_retry_after("Thursday, 01-Jan-26 00:00:10 GMT", now),
            Some(Duration::from_secs(10))
        );
        assert_eq!(
            parse_retry_after("Saturday, 01-Jan-77 00:00:10 GMT", now),
            Some(Duration::ZERO),
            "1977, long past"
        );
        assert_eq!(
            parse_retry_after("Wednesday, 01-Jan-76 00:00:00 GMT", now),
            Some(Duration::from_secs(50 * 365 * 86400 + 12 * 86400)),
            "2076, 50 years ahead"
        );
    }
}
