//! Injected faults: canned responses that replace the next few answers on matching paths, so
//! tests can provoke 429s, 5xx, 403s or an HTML login page.

/// The next `times` requests whose path contains `path_contains` get this response instead of
/// the real one; a `path_contains` ending in `$` matches only paths that end with it
/// (`/rest/api/3/field$` is not `/rest/api/3/fieldconfiguration`), and a `{name}` in it matches
/// any one path segment (`/project/{id}/version$`: every project's versions).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fault {
    pub path_contains: String,
    pub status: u16,
    pub body: String,
    pub content_type: String,
    pub headers: Vec<(String, String)>,
    pub times: u32,
}

impl Default for Fault {
    fn default() -> Self {
        Fault {
            path_contains: String::new(),
            status: 500,
            body: r#"{"errorMessages":["Internal server error"],"errors":{}}"#.to_string(),
            content_type: "application/json;charset=UTF-8".to_string(),
            headers: Vec::new(),
            times: 1,
        }
    }
}

impl Fault {
    /// `status` with a Jira error body, once.
    pub fn status(path_contains: &str, status: u16) -> Fault {
        let message = match status {
            401 => "You are not authenticated. Authentication required to perform this operation.",
            403 => "You do not have permission to perform this operation.",
            404 => "The requested resource could not be found.",
            429 => "Rate limit exceeded.",
            503 => "Service unavailable.",
            _ => "Internal server error",
        };
        Fault {
            path_contains: path_contains.to_string(),
            status,
            body: format!(r#"{{"errorMessages":["{message}"],"errors":{{}}}}"#),
            ..Fault::default()
        }
    }

    /// 429 with `Retry-After: secs` and Cloud's rate-limit headers, `times` times.
    pub fn rate_limited(path_contains: &str, retry_after_secs: u64, times: u32) -> Fault {
        Fault {
            headers: vec![
                ("Retry-After".to_string(), retry_after_secs.to_string()),
                ("X-RateLimit-Limit".to_string(), "100".to_string()),
                ("X-RateLimit-Remaining".to_string(), "0".to_string()),
                (
                    "RateLimit-Reason".to_string(),
                    "jira-quota-tenant-based".to_string(),
                ),
            ],
            times,
            ..Fault::status(path_contains, 429)
        }
    }

    /// Atlassian's gateway refusing an OAuth 2.0 (or scoped) token the scope an endpoint needs:
    /// 401 in the gateway's own shape, though the token is good for the rest of the API.
    pub fn scope_mismatch(path_contains: &str) -> Fault {
        Fault {
            path_contains: path_contains.to_string(),
            status: 401,
            body: r#"{"code":401,"message":"Unauthorized; scope does not match"}"#.to_string(),
            ..Fault::default()
        }
    }

    /// Server's login page served with status 200, as Jira does on some paths when a session
    /// is not accepted: the caller must check the content type.
    pub fn html_login_page(path_contains: &str) -> Fault {
        Fault {
            path_contains: path_contains.to_string(),
            status: 200,
            body: "<!DOCTYPE html>\n<html><head><title>Log in - Jira</title></head>\n<body id=\"jira\"><form id=\"login-form\" action=\"/login.jsp\" method=\"post\"><input name=\"os_username\"><input name=\"os_password\" type=\"password\"></form></body></html>\n".to_string(),
            content_type: "text/html;charset=UTF-8".to_string(),
            headers: vec![("X-Seraph-LoginReason".to_string(), "AUTHENTICATION_DENIED".to_string())],
            times: 1,
        }
    }

    /// The same fault for the next `times` matching requests.
    pub fn times(mut self, times: u32) -> Fault {
        self.times = times;
        self
    }
}

/// Faults waiting to fire, first pushed first served.
#[derive(Default)]
pub(crate) struct FaultQueue {
    pending: Vec<Fault>,
}

impl FaultQueue {
    pub fn push(&mut self, fault: Fault) {
        if fault.times > 0 {
            self.pending.push(fault);
        }
    }

    /// The fault for this path, if one is due; uses up one of its `times`.
    pub fn take(&mut self, path: &str) -> Option<Fault> {
        let position = self
            .pending
            .iter()
            .position(|f| matches(&f.path_contains, path))?;
        let fault = &mut self.pending[position];
        fault.times -= 1;
        let fired = fault.clone();
        if fault.times == 0 {
            self.pending.remove(position);
        }
        Some(fired)
    }
}

/// Whether `path` contains `pattern` (ends with it, when it ends in `$`), a `{name}` in the pattern
/// standing for any one segment.
fn matches(pattern: &str, path: &str) -> bool {
    let (pattern, anchored) = match pattern.strip_suffix('$') {
        Some(pattern) => (pattern, true),
        None => (pattern, false),
    };
    if !pattern.contains('{') {
        return match anchored {
            true => path.ends_with(pattern),
            false => path.contains(pattern),
        };
    }
    (0..=path.len())
        .filter(|at| path.is_char_boundary(*at))
        .any(|at| matches_at(pattern, &path[at..], anchored))
}

/// Whether `path` starts with `pattern` (is all of it, when `anchored`).
fn matches_at(pattern: &str, path: &str, anchored: bool) -> bool {
    match pattern.split_once('{') {
        None => match anchored {
            true => path == pattern,
            false => path.starts_with(pattern),
        },
        Some((literal, rest)) => {
            let Some(path) = path.strip_prefix(literal) else {
                return false;
            };
            let rest = rest.split_once('}').map_or("", |(_, rest)| rest);
            let segment = path.find('/').unwrap_or(path.len());
            segment > 0 && matches_at(rest, &path[segment..], anchored)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn faults_fire_the_given_number_of_times_on_matching_paths() {
        let mut queue = FaultQueue::default();
        queue.push(Fault::rate_limited("/search", 2, 2));
        assert!(queue.take("/rest/api/3/myself").is_none());
        queue.push(Fault::status("/field$", 404));
        assert!(queue.take("/rest/api/3/fieldconfiguration").is_none());
        assert!(queue.take("/rest/api/3/field").is_some());
        let fired = queue.take("/rest/api/3/search/jql").unwrap();
        assert_eq!(fired.status, 429);
        assert!(
            fired
                .headers
                .contains(&("Retry-After".to_string(), "2".to_string()))
        );
        assert!(queue.take("/rest/api/3/search/jql").is_some());
        assert!(queue.take("/rest/api/3/search/jql").is_none());
    }

    #[test]
    fn a_placeholder_matches_one_segment() {
        let mut queue = FaultQueue::default();
        queue.push(Fault::status("/issuesecurityschemes/{schemeId}$", 403).times(9));
        assert!(queue.take("/rest/api/3/issuesecurityschemes").is_none());
        assert!(queue.take("/rest/api/3/issuesecurityschemes/").is_none());
        assert!(
            queue
                .take("/rest/api/3/issuesecurityschemes/level/member")
                .is_none()
        );
        assert!(
            queue
                .take("/rest/api/3/issuesecurityschemes/10000")
                .is_some()
        );
        queue.push(Fault::status("/project/{id}/role/{id}$", 403));
        assert!(queue.take("/rest/api/3/project/10000/role").is_none());
        assert!(queue.take("/rest/api/3/project/10000/role/10002").is_some());
    }
}
