//! The user's filters: which projects (`projects`, `exclude_projects`), which issues by when they
//! were created and updated (`created_after`, `created_before`, `updated_after`,
//! `updated_before`), and any JQL of their own (`jql`). They narrow the issue search, so what is
//! filtered out is never fetched, and they apply to the issues' children, to `worklogs`, and to
//! the project-level streams.

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use crate::jql::{Jql, local_minute_after, local_minute_at_or_before};
use crate::streams::issues::JqlZone;
use crate::timestamp::format_utc;

/// Whether `text` can name a project as `project/{key}` does: a key (letters, digits and `_`;
/// a site's key pattern may allow letters beyond ASCII) or an id. JQL takes a project's name
/// too; the project streams, told apart by key and id, do not.
pub fn is_project_key(text: &str) -> bool {
    !text.is_empty() && text.chars().all(|c| c.is_alphanumeric() || c == '_')
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Filters {
    /// Project keys to keep (all when empty), upper-cased.
    pub projects: Vec<String>,
    /// Project keys to leave out, upper-cased.
    pub exclude_projects: Vec<String>,
    pub created: Window,
    pub updated: Window,
    pub jql: Option<String>,
}

/// `[after, before)`: either end may be open.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Window {
    pub after: Option<DateTime<Utc>>,
    pub before: Option<DateTime<Utc>>,
}

impl Window {
    pub fn contains(&self, t: DateTime<Utc>) -> bool {
        self.after.is_none_or(|after| t >= after) && self.before.is_none_or(|before| t < before)
    }

    fn is_open(&self) -> bool {
        self.after.is_none() && self.before.is_none()
    }

    fn to_value(self) -> Value {
        json!({"after": self.after.map(format_utc), "before": self.before.map(format_utc)})
    }
}

impl Filters {
    pub fn is_empty(&self) -> bool {
        *self == Filters::default()
    }

    /// Whether only some projects are synced (which, by id: `streams::projects`).
    pub fn narrows_projects(&self) -> bool {
        !self.projects.is_empty() || !self.exclude_projects.is_empty()
    }

    /// Whether issues are judged by when they were created or updated.
    pub fn has_windows(&self) -> bool {
        !(self.created.is_open() && self.updated.is_open())
    }

    /// Whether the windows keep an issue. JQL dates are minute-granular in the user's zone and
    /// the search is widened to be safe, so the exact bounds are checked here.
    pub fn keeps_issue(&self, created: Option<DateTime<Utc>>, updated: DateTime<Utc>) -> bool {
        self.updated.contains(updated)
            && (self.created.is_open() || created.is_some_and(|c| self.created.contains(c)))
    }

    /// The clauses every issue search is ANDed with, dates in the user's zone: a lower bound at
    /// the minute at or before it, an upper bound a minute after it (the exact check is
    /// `keeps_issue`), both widened by the zone's slack.
    pub fn jql(&self, zone: JqlZone) -> Jql {
        let mut jql = Jql::new();
        if !self.projects.is_empty() {
            jql = jql.project_in(&self.projects, false);
        }
        if !self.exclude_projects.is_empty() {
            jql = jql.project_in(&self.exclude_projects, true);
        }
        for (field, window) in [("created", self.created), ("updated", self.updated)] {
            if let Some(after) = window.after {
                jql = jql.at_or_after(
                    field,
                    local_minute_at_or_before(after - zone.slack, zone.tz),
                );
            }
            if let Some(before) = window.before {
                jql = jql.before(field, local_minute_after(before + zone.slack, zone.tz));
            }
        }
        if let Some(own) = &self.jql {
            jql = jql.users(own);
        }
        jql
    }

    /// What the state remembers of the filters a sync was made with, to notice a change.
    pub fn to_value(&self) -> Value {
        json!({
            "projects": self.projects,
            "exclude_projects": self.exclude_projects,
            "created": self.created.to_value(),
            "updated": self.updated.to_value(),
            "jql": self.jql,
        })
    }

    /// Whether a state's filters (`to_value` of an earlier run; `None`: no filters) are these.
    /// The project lists are sets: another order, case or a repeat names the same projects,
    /// and must not make a large site be read again from `start_date`.
    pub fn same_as_saved(&self, saved: Option<&Value>) -> bool {
        let now = (!self.is_empty()).then(|| self.to_value());
        now.as_ref().map(projects_as_sets) == saved.map(projects_as_sets)
    }
}

/// `value` with its project lists sorted, upper-cased and without repeats, to compare.
fn projects_as_sets(value: &Value) -> Value {
    let mut value = value.clone();
    for list in ["projects", "exclude_projects"] {
        if let Some(Value::Array(keys)) = value.get_mut(list) {
            // Keys are upper-cased when read, ASCII only: a key beyond ASCII may differ in case.
            let mut set: Vec<Value> = keys
                .iter()
                .map(|k| match k {
                    Value::String(k) => Value::String(k.to_uppercase()),
                    other => other.clone(),
                })
                .collect();
            set.sort_by_key(|k| k.to_string());
            set.dedup();
            *keys = set;
        }
    }
    value
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn projects_windows_and_own_jql_make_one_restriction() {
        let filters = Filters {
            projects: vec!["WEB".into(), "OPS".into()],
            exclude_projects: vec!["OPS".into()],
            created: Window {
                after: Some(utc("2024-01-31T13:05:42Z")),
                before: None,
            },
            updated: Window {
                after: None,
                before: Some(utc("2024-03-01T00:00:00Z")),
            },
            jql: Some("labels = x OR priority = High".into()),
        };
        let zone = JqlZone {
            tz: chrono_tz::Tz::UTC,
            slack: Duration::zero(),
        };
        assert_eq!(
            filters.jql(zone).render(),
            r#"project in ("WEB", "OPS") AND project not in ("OPS") AND created >= "2024/01/31 13:05" AND updated < "2024/03/01 00:01" AND (labels = x OR priority = High)"#
        );
        let inside = utc("2024-02-01T00:00:00Z");
        assert!(filters.keeps_issue(Some(inside), inside));
        assert!(!filters.keeps_issue(Some(utc("2024-01-31T13:05:10Z")), inside));
        assert!(
            !filters.keeps_issue(None, inside),
            "no created date: not known to be inside"
        );
        assert!(!filters.keeps_issue(Some(inside), utc("2024-03-01T00:00:00Z")));
    }

    #[test]
    fn project_lists_are_compared_as_sets() {
        let filters = |projects: &[&str], excluded: &[&str]| Filters {
            projects: projects.iter().map(|k| k.to_string()).collect(),
            exclude_projects: excluded.iter().map(|k| k.to_string()).collect(),
            ..Filters::default()
        };
        let saved = filters(&["WEB", "OPS", "éQUIPE"], &["SEC", "DATA"]).to_value();
        assert!(
            filters(&["OPS", "ÉQUIPE", "WEB", "OPS"], &["DATA", "SEC"]).same_as_saved(Some(&saved))
        );
        assert!(!filters(&["OPS", "WEB"], &["DATA", "SEC"]).same_as_saved(Some(&saved)));
        assert!(!filters(&["OPS", "WEB", "ÉQUIPE"], &["DATA"]).same_as_saved(Some(&saved)));
        assert!(!filters(&["OPS"], &[]).same_as_saved(None));
        assert!(Filters::default().same_as_saved(None));
        assert!(!Filters::default().same_as_saved(Some(&saved)));
    }
}
