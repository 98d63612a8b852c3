//! The lists an issue has (comments, changelog, transitions, links, …): where each sits in the
//! search result, how to get what Jira left out of it, and how its items become child rows.

use serde_json::{Map, Value, json};

use super::{Endpoint, PerDeployment};
use crate::client::Pagination;
use crate::streams::bulk::Bulk;

/// How the issue search is asked to embed a list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ask {
    /// A field of the issue (`fields=comment`).
    Field(&'static str),
    /// An expansion (`expand=changelog`).
    Expand(&'static str),
}

/// Where a list sits inside an issue of a search page.
#[derive(Debug, Clone, Copy)]
pub struct Embedded {
    pub ask: Ask,
    /// JSON pointer to the list.
    pub list: &'static str,
    /// JSON pointer to the page object around it (`{startAt, maxResults, total, …}`), when Jira
    /// may cut the list short; `None` when the embedded list is always whole.
    pub page: Option<&'static str>,
}

/// When the child endpoint is called for an issue.
#[derive(Debug, Clone, Copy)]
pub enum When {
    /// When the embedded list is shorter than its `total`; the whole list is then read again.
    Truncated,
    /// When a count the issue carries (a field, at a pointer) is above zero.
    CountAbove0 {
        field: &'static str,
        pointer: &'static str,
    },
    /// For every issue: Jira says nothing about the list in the issue.
    Always,
}

/// The endpoint that gives a list whole (paged), `{issueId}` bound to the issue.
#[derive(Debug, Clone, Copy)]
pub struct Rest {
    pub endpoint: PerDeployment<Endpoint>,
    pub when: When,
}

/// One of an issue's lists; several streams may share one (changelogs, field history).
#[derive(Debug)]
pub struct IssueList {
    pub name: &'static str,
    pub embedded: Option<Embedded>,
    pub rest: Option<Rest>,
    /// An endpoint that gives this list for many issues at once, preferred where it exists.
    pub bulk: Option<Bulk>,
}

/// How a list's items become rows of a stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rows {
    /// The item as Jira wrote it, plus `issueId`.
    AsIs,
    /// One row per changed item of each history.
    FieldHistory,
    /// One row per link, with its direction and the other issue named.
    Links,
}

pub static COMMENTS: IssueList = IssueList {
    name: "comments",
    embedded: Some(Embedded {
        ask: Ask::Field("comment"),
        list: "/fields/comment/comments",
        page: Some("/fields/comment"),
    }),
    rest: Some(Rest {
        endpoint: PerDeployment::same(Endpoint {
            path: "issue/{issueId}/comment",
            query: &[("orderBy", "created")],
            pagination: Pagination::Offset {
                items: Some("comments"),
            },
        }),
        when: When::Truncated,
    }),
    bulk: None,
};

pub static CHANGELOG: IssueList = IssueList {
    name: "changelog",
    embedded: Some(Embedded {
        ask: Ask::Expand("changelog"),
        list: "/changelog/histories",
        page: Some("/changelog"),
    }),
    rest: Some(Rest {
        endpoint: PerDeployment {
            cloud: Endpoint {
                path: "issue/{issueId}/changelog",
                query: &[],
                pagination: Pagination::Offset {
                    items: Some("values"),
                },
            },
            // Server/DC has no changelog endpoint; the issue itself carries it whole.
            server: Endpoint {
                path: "issue/{issueId}",
                query: &[("fields", "created"), ("expand", "changelog")],
                pagination: Pagination::Single {
                    items: Some("/changelog/histories"),
                },
            },
        },
        when: When::Truncated,
    }),
    bulk: Some(Bulk::CloudChangelogs),
};

pub static TRANSITIONS: IssueList = IssueList {
    name: "transitions",
    embedded: Some(Embedded {
        ask: Ask::Expand("transitions"),
        list: "/transitions",
        page: None,
    }),
    rest: None,
    bulk: None,
};

pub static LINKS: IssueList = IssueList {
    name: "issue links",
    embedded: Some(Embedded {
        ask: Ask::Field("issuelinks"),
        list: "/fields/issuelinks",
        page: None,
    }),
    rest: None,
    bulk: None,
};

pub static ATTACHMENTS: IssueList = IssueList {
    name: "attachments",
    embedded: Some(Embedded {
        ask: Ask::Field("attachment"),
        list: "/fields/attachment",
        page: None,
    }),
    rest: None,
    bulk: None,
};

pub static WATCHERS: IssueList = IssueList {
    name: "watchers",
    embedded: None,
    rest: Some(Rest {
        endpoint: PerDeployment::same(Endpoint {
            path: "issue/{issueId}/watchers",
            query: &[],
            pagination: Pagination::Single {
                items: Some("watchers"),
            },
        }),
        when: When::CountAbove0 {
            field: "watches",
            pointer: "/fields/watches/watchCount",
        },
    }),
    bulk: None,
};

pub static VOTES: IssueList = IssueList {
    name: "voters",
    embedded: None,
    rest: Some(Rest {
        endpoint: PerDeployment::same(Endpoint {
            path: "issue/{issueId}/votes",
            query: &[],
            pagination: Pagination::Single {
                items: Some("voters"),
            },
        }),
        when: When::CountAbove0 {
            field: "votes",
            pointer: "/fields/votes/votes",
        },
    }),
    bulk: None,
};

pub static REMOTE_LINKS: IssueList = IssueList {
    name: "remote links",
    embedded: None,
    rest: Some(Rest {
        endpoint: PerDeployment::same(Endpoint {
            path: "issue/{issueId}/remotelink",
            query: &[],
            pagination: Pagination::Single { items: None },
        }),
        when: When::Always,
    }),
    bulk: None,
};

impl IssueList {
    /// Whether the embedded list is shorter than the `total` of the page around it.
    pub fn truncated(&self, issue: &Value) -> bool {
        let Some(embedded) = &self.embedded else {
            return false;
        };
        let embedded_len = issue
            .pointer(embedded.list)
            .and_then(Value::as_array)
            .map_or(0, Vec::len);
        embedded
            .page
            .and_then(|page| issue.pointer(page))
            .and_then(|page| page.get("total"))
            .and_then(Value::as_u64)
            .is_some_and(|total| total > embedded_len as u64)
    }

    /// Whether the child endpoint must be read for this issue.
    pub fn needs_rest(&self, issue: &Value, truncated: bool) -> bool {
        match self.rest.map(|r| r.when) {
            None => false,
            Some(When::Truncated) => truncated,
            Some(When::CountAbove0 { pointer, .. }) => {
                // No count in the issue (a field hidden from the account): ask, to be safe.
                issue
                    .pointer(pointer)
                    .and_then(Value::as_u64)
                    .is_none_or(|n| n > 0)
            }
            Some(When::Always) => true,
        }
    }

    /// Moves the embedded items out of the issue record (no copy), so the issue does not carry
    /// them twice once a child stream has them.
    pub fn take_from(&self, issue: &mut Value) -> Vec<Value> {
        let Some(embedded) = &self.embedded else {
            return Vec::new();
        };
        let (parent, key) = embedded
            .list
            .rsplit_once('/')
            .unwrap_or(("", embedded.list));
        let parent = if parent.is_empty() {
            Some(&mut *issue)
        } else {
            issue.pointer_mut(parent)
        };
        match parent {
            Some(Value::Object(map)) => match map.remove(key) {
                Some(Value::Array(items)) => items,
                _ => Vec::new(),
            },
            _ => Vec::new(),
        }
    }
}

/// The issue a child row belongs to.
pub struct IssueRef<'a> {
    pub id: &'a str,
    pub key: Option<&'a str>,
}

impl Rows {
    /// The rows one list item gives.
    pub fn of(self, issue: &IssueRef<'_>, item: Value) -> Vec<Value> {
        let Value::Object(mut map) = item else {
            return Vec::new();
        };
        match self {
            Rows::AsIs => {
                map.insert("issueId".into(), json!(issue.id));
                vec![Value::Object(map)]
            }
            Rows::Links => vec![link_row(issue, map)],
            Rows::FieldHistory => field_history_rows(issue, &map),
        }
    }
}

/// A link as the issue lists it: the other issue sits under `outwardIssue` when this issue is
/// the link's source, under `inwardIssue` otherwise.
fn link_row(issue: &IssueRef<'_>, mut link: Map<String, Value>) -> Value {
    let (direction, other) = if link.contains_key("outwardIssue") {
        ("outward", link.get("outwardIssue"))
    } else {
        ("inward", link.get("inwardIssue"))
    };
    let other_id = other.and_then(|o| o.get("id")).cloned();
    let other_key = other.and_then(|o| o.get("key")).cloned();
    link.insert("issueId".into(), json!(issue.id));
    link.insert("issueKey".into(), json!(issue.key));
    link.insert("direction".into(), json!(direction));
    link.insert("otherIssueId".into(), other_id.unwrap_or(Value::Null));
    link.insert("otherIssueKey".into(), other_key.unwrap_or(Value::Null));
    Value::Object(link)
}

/// One row per changed item of a changelog history: the table analysts otherwise build by hand.
fn field_history_rows(issue: &IssueRef<'_>, history: &Map<String, Value>) -> Vec<Value> {
    let Some(items) = history.get("items").and_then(Value::as_array) else {
        return Vec::new();
    };
    let author = history.get("author").cloned().unwrap_or(Value::Null);
    let author_account_id = author.get("accountId").cloned();
    let author_key = author.get("key").cloned();
    items
        .iter()
        .enumerate()
        .map(|(index, item)| {
            let mut row = Map::new();
            row.insert("issueId".into(), json!(issue.id));
            row.insert(
                "historyId".into(),
                history.get("id").cloned().unwrap_or(Value::Null),
            );
            row.insert("itemIndex".into(), json!(index));
            row.insert("author".into(), author.clone());
            if let Some(id) = &author_account_id {
                row.insert("authorAccountId".into(), id.clone());
            }
            if let Some(key) = &author_key {
                row.insert("authorKey".into(), key.clone());
            }
            row.insert(
                "created".into(),
                history.get("created").cloned().unwrap_or(Value::Null),
            );
            for key in [
                "field",
                "fieldId",
                "fieldtype",
                "from",
                "fromString",
                "to",
                "toString",
                "tmpFromAccountId",
                "tmpToAccountId",
            ] {
                if let Some(value) = item.get(key) {
                    row.insert(key.into(), value.clone());
                }
            }
            Value::Object(row)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const ISSUE: IssueRef<'static> = IssueRef {
        id: "10001",
        key: Some("WEB-2"),
    };

    #[test]
    fn a_list_short_of_its_total_is_truncated() {
        let mut issue = json!({"fields": {"comment": {"comments": [{"id": "1"}], "total": 3, "maxResults": 1}}});
        let truncated = COMMENTS.truncated(&issue);
        assert!(truncated);
        assert!(COMMENTS.needs_rest(&issue, truncated));
        assert_eq!(COMMENTS.take_from(&mut issue).len(), 1);
        let whole = json!({"fields": {"comment": {"comments": [{"id": "1"}], "total": 1}}});
        let truncated = COMMENTS.truncated(&whole);
        assert!(!COMMENTS.needs_rest(&whole, truncated));
    }

    #[test]
    fn counts_decide_whether_watchers_are_asked_for() {
        assert!(!WATCHERS.needs_rest(&json!({"fields": {"watches": {"watchCount": 0}}}), false));
        assert!(WATCHERS.needs_rest(&json!({"fields": {"watches": {"watchCount": 2}}}), false));
        assert!(WATCHERS.needs_rest(&json!({"fields": {}}), false));
        assert!(REMOTE_LINKS.needs_rest(&json!({}), false));
    }

    #[test]
    fn lists_are_taken_out_of_the_issue() {
        let mut issue = json!({"id": "1", "changelog": {"histories": []}, "transitions": [],
                               "fields": {"comment": {"comments": [], "total": 0}}});
        assert!(COMMENTS.take_from(&mut issue).is_empty());
        assert!(TRANSITIONS.take_from(&mut issue).is_empty());
        assert_eq!(
            issue,
            json!({"id": "1", "changelog": {"histories": []}, "fields": {"comment": {"total": 0}}})
        );
    }

    #[test]
    fn links_name_their_direction_and_the_other_issue() {
        let row = Rows::Links.of(
            &ISSUE,
            json!({"id": "5", "type": {"name": "Blocks"}, "inwardIssue": {"id": "10009", "key": "WEB-9"}}),
        );
        assert_eq!(row.len(), 1);
        let row = &row[0];
        assert_eq!(
            (
                &row["issueId"],
                &row["direction"],
                &row["otherIssueId"],
                &row["otherIssueKey"]
            ),
            (
                &json!("10001"),
                &json!("inward"),
                &json!("10009"),
                &json!("WEB-9")
            )
        );
    }

    #[test]
    fn each_changed_item_is_a_field_history_row() {
        let history = json!({"id": "77", "created": "2024-01-02T03:04:05.000+0000",
        "author": {"accountId": "abc", "displayName": "A"},
        "items": [
            {"field": "status", "fieldtype": "jira", "fieldId": "status", "from": "1", "fromString": "To Do", "to": "3", "toString": "In Progress"},
            {"field": "assignee", "fieldtype": "jira", "tmpFromAccountId": null, "tmpToAccountId": "abc"}
        ]});
        let rows = Rows::FieldHistory.of(&ISSUE, history);
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0]["historyId"], json!("77"));
        assert_eq!(rows[0]["itemIndex"], json!(0));
        assert_eq!(rows[0]["toString"], json!("In Progress"));
        assert_eq!(rows[1]["authorAccountId"], json!("abc"));
        assert_eq!(rows[1]["tmpToAccountId"], json!("abc"));
        assert_eq!(rows[1]["itemIndex"], json!(1));
    }
}
