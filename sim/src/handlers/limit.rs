//! The rate limiter's answers: Jira's 429 when the site's token bucket is empty, and the
//! `X-RateLimit-*` headers every admitted response carries while a limit is on.

use std::time::Duration;

use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{SecondsFormat, Utc};

use super::respond;
use crate::config::Deployment;
use crate::load::TokenBucket;

/// Cloud's body (cloud-error-429.json: JSON with an extra numeric `status`).
const CLOUD_BODY: &str = r#"{"errorMessages":["The request has been rate-limited. Please try again later."],"errors":{},"status":429}"#;

/// Server / Data Center's answer: Tomcat's error page (server-error-429.html).
const SERVER_BODY: &str = "<!doctype html><html lang=\"en\"><head><title>HTTP Status 429 \u{2013} Too Many Requests</title><style type=\"text/css\">body {font-family:Tahoma,Arial,sans-serif;} h1, h2, h3, b {color:white;background-color:#525D76;} h1 {font-size:22px;} h2 {font-size:16px;} h3 {font-size:14px;} p {font-size:12px;} a {color:black;} .line {height:1px;background-color:#525D76;border:none;}</style></head><body><h1>HTTP Status 429 \u{2013} Too Many Requests</h1><hr class=\"line\" /><p><b>Type</b> Status Report</p><p><b>Message</b> Rate limit exceeded.</p><p><b>Description</b> The user has sent too many requests in a given amount of time (\"rate limiting\").</p><hr class=\"line\" /><h3>Apache Tomcat/9.0.95</h3></body></html>";

/// `X-RateLimit-Limit`: the burst, rounded (the rate itself from 1 a second up).
fn limit(bucket: &TokenBucket) -> u64 {
    bucket.capacity().round() as u64
}

/// Data Center states its rate as `FillRate` tokens every `Interval-Seconds` (whole numbers).
fn fill_rate_and_interval(bucket: &TokenBucket) -> (u64, u64) {
    let rate = bucket.rate();
    let interval = if rate >= 1.0 {
        1
    } else {
        (1.0 / rate).ceil() as u64
    };
    let fill = ((rate * interval as f64).round() as u64).max(1);
    (fill, interval)
}

/// An ISO 8601 UTC instant `after` from now, to the millisecond.
fn instant_after(after: Duration) -> String {
    let after = chrono::Duration::from_std(after).unwrap_or(chrono::Duration::zero());
    (Utc::now() + after).to_rfc3339_opts(SecondsFormat::Millis, true)
}

fn set(headers: &mut HeaderMap, name: &'static str, value: String) {
    if let Ok(value) = HeaderValue::from_str(&value) {
        headers.insert(HeaderName::from_static(name), value);
    }
}

/// 429 for a request that found the bucket empty; the next token is there in `wait`.
pub(crate) fn refused(deployment: Deployment, bucket: &TokenBucket, wait: Duration) -> Response {
    let retry_after = (wait.as_secs_f64().ceil() as u64).max(1);
    let mut response = match deployment {
        Deployment::Cloud => {
            respond::json(429, &serde_json::from_str(CLOUD_BODY).unwrap_or_default())
        }
        Deployment::Server => (
            StatusCode::TOO_MANY_REQUESTS,
            [(header::CONTENT_TYPE, "text/html;charset=utf-8")],
            SERVER_BODY,
        )
            .into_response(),
    };
    let headers = response.headers_mut();
    set(headers, "retry-after", retry_after.to_string());
    set(headers, "x-ratelimit-limit", limit(bucket).to_string());
    set(headers, "x-ratelimit-remaining", "0".to_string());
    match deployment {
        Deployment::Cloud => {
            set(headers, "x-ratelimit-reset", instant_after(wait));
            set(headers, "ratelimit-reason", "jira-burst-based".into());
        }
        Deployment::Server => server_rate(headers, bucket),
    }
    response
}

fn server_rate(headers: &mut HeaderMap, bucket: &TokenBucket) {
    let (fill, interval) = fill_rate_and_interval(bucket);
    set(
        headers,
        "x-ratelimit-interval-seconds",
        interval.to_string(),
    );
    set(headers, "x-ratelimit-fillrate", fill.to_string());
}

/// The limit headers of an admitted request: `remaining` whole tokens are left, and the bucket
/// is full again in `full_in`. Headers the response already has (an injected fault's) stay.
pub(crate) fn admitted(
    deployment: Deployment,
    bucket: &TokenBucket,
    remaining: u64,
    full_in: Duration,
    response: Response,
) -> Response {
    let mut extra = HeaderMap::new();
    set(&mut extra, "x-ratelimit-limit", limit(bucket).to_string());
    set(&mut extra, "x-ratelimit-remaining", remaining.to_string());
    match deployment {
        Deployment::Cloud => {
            set(&mut extra, "x-ratelimit-reset", instant_after(full_in));
            // Cloud warns when less than a fifth of the budget is left.
            if (remaining as f64) < 0.2 * bucket.capacity() {
                set(&mut extra, "x-ratelimit-nearlimit", "true".into());
            }
        }
        Deployment::Server => server_rate(&mut extra, bucket),
    }
    let mut response = response;
    let headers = response.headers_mut();
    for (name, value) in extra {
        if let Some(name) = name
            && !headers.contains_key(&name)
        {
            headers.insert(name, value);
        }
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_center_states_slow_rates_over_longer_intervals() {
        let rate = |r: f64| fill_rate_and_interval(&TokenBucket::new(r).unwrap());
        assert_eq!(rate(5.0), (5, 1));
        assert_eq!(rate(1.0), (1, 1));
        assert_eq!(rate(0.5), (1, 2));
        assert_eq!(rate(0.3), (1, 4));
        assert_eq!(limit(&TokenBucket::new(0.3).unwrap()), 1);
        assert_eq!(limit(&TokenBucket::new(12.4).unwrap()), 12);
    }
}
