//! The request log: every request the simulator answered, and counts per endpoint with ids and
//! keys in paths folded to `{id}`.

use std::collections::{BTreeMap, VecDeque};

/// The credentials a request carried, as the simulator judged them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AuthSeen {
    /// No `Authorization` header.
    None,
    /// Valid Basic credentials for `user` (an email on Cloud, a username on Server).
    Basic { user: String },
    /// A valid Server / Data Center personal access token.
    BearerPat,
    /// A valid, unexpired OAuth 2.0 access token (Cloud gateway).
    BearerOAuth,
    /// An `Authorization` header that was not accepted: wrong, expired, or in the wrong place.
    Invalid,
}

/// One answered request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequestRecord {
    pub method: String,
    pub path: String,
    /// The raw query string, without `?`.
    pub query: String,
    /// The request body (for POST), as text.
    pub body: String,
    pub auth: AuthSeen,
    /// When the request arrived (before the configured latency).
    pub received: std::time::Instant,
    pub status: u16,
    /// The request's `Accept-Encoding` took gzip.
    pub accepts_gzip: bool,
}

/// Records kept in full; older ones are dropped (counts stay exact) so that long benchmark
/// runs do not grow without bound.
const MAX_RECORDS: usize = 200_000;

#[derive(Default)]
pub(crate) struct RequestLog {
    records: VecDeque<RequestRecord>,
    counts: BTreeMap<String, u64>,
    /// `"GET /rest/api/3/xyz"` for each request no route matched (the latest 200,000).
    unserved: VecDeque<String>,
}

impl RequestLog {
    pub fn record(&mut self, record: RequestRecord) {
        *self
            .counts
            .entry(route_key(&record.method, &record.path))
            .or_default() += 1;
        if self.records.len() == MAX_RECORDS {
            self.records.pop_front();
        }
        self.records.push_back(record);
    }

    pub fn record_unserved(&mut self, request: String) {
        if self.unserved.len() == MAX_RECORDS {
            self.unserved.pop_front();
        }
        self.unserved.push_back(request);
    }

    pub fn unserved(&self) -> Vec<String> {
        self.unserved.iter().cloned().collect()
    }

    pub fn records(&self) -> Vec<RequestRecord> {
        self.records.iter().cloned().collect()
    }

    pub fn counts(&self) -> BTreeMap<String, u64> {
        self.counts.clone()
    }

    pub fn clear(&mut self) {
        self.records.clear();
        self.counts.clear();
        self.unserved.clear();
    }
}

/// `"GET /rest/api/3/issue/{id}/comment"`: the method and the path with every id, issue key,
/// project key or UUID segment replaced by `{id}`.
pub(crate) fn route_key(method: &str, path: &str) -> String {
    let segments: Vec<&str> = path.split('/').collect();
    let normalised: Vec<&str> = segments
        .iter()
        .enumerate()
        .map(|(i, &segment)| {
            // The number after `/api/` (or `/agile/`) is the API version, not an id.
            let version = i > 0 && matches!(segments[i - 1], "api" | "agile" | "auth");
            if !version && is_identifier(segment) {
                "{id}"
            } else {
                segment
            }
        })
        .collect();
    format!("{method} {}", normalised.join("/"))
}

fn is_identifier(segment: &str) -> bool {
    let numeric = !segment.is_empty() && segment.bytes().all(|b| b.is_ascii_digit());
    let upper_key = segment.len() >= 2
        && segment.starts_with(|c: char| c.is_ascii_uppercase())
        && segment
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_' || b == b'-');
    let uuid = segment.len() == 36
        && segment.bytes().enumerate().all(|(i, b)| {
            if [8, 13, 18, 23].contains(&i) {
                b == b'-'
            } else {
                b.is_ascii_hexdigit()
            }
        });
    numeric || upper_key || uuid
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_fold_ids_keys_and_uuids() {
        assert_eq!(
            route_key("GET", "/rest/api/3/search/jql"),
            "GET /rest/api/3/search/jql"
        );
        assert_eq!(
            route_key("GET", "/rest/api/3/issue/WEB-12/comment"),
            "GET /rest/api/3/issue/{id}/comment"
        );
        assert_eq!(
            route_key("GET", "/rest/api/2/issue/10001"),
            "GET /rest/api/2/issue/{id}"
        );
        assert_eq!(
            route_key("GET", "/rest/api/2/project/WEB"),
            "GET /rest/api/2/project/{id}"
        );
        assert_eq!(
            route_key(
                "POST",
                "/ex/jira/5a1e7c3d-0b2f-4c6d-9e8f-1a2b3c4d5e6f/rest/api/3/search/jql"
            ),
            "POST /ex/jira/{id}/rest/api/3/search/jql"
        );
        assert_eq!(
            route_key("GET", "/rest/api/3/serverInfo"),
            "GET /rest/api/3/serverInfo"
        );
    }
}
