//! The lists an issue has (comments, changelog, transitions, links, …): where each sits in the
//! search result, how to get what Jira left out of it, and how its items become child rows.

use std::borrow::Cow;

use super::{Endpoint, PerDeployment};
use crate::client::Pagination;
use crate::error::Result;
use crate::raw::{self, Node, RawObject};
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
    pub fn truncated(&self, issue: &RawObject<'_>) -> bool {
        let Some(embedded) = &self.embedded else {
            return false;
        };
        let embedded_len = match issue.node_at(embedded.list) {
            // Counted when it was taken apart.
            Some(Node::List(list)) => list.len,
            _ => issue
                .pointer(embedded.list)
                .and_then(raw::array_items)
                .map_or(0, |items| items.len()),
        };
        self.total(issue)
            .is_some_and(|total| total > embedded_len as u64)
    }

    /// Whether the child endpoint must be read for this issue (`Some`), and how many items it will
    /// give, as far as the issue says (at least 1).
    pub fn rest_items(&self, issue: &RawObject<'_>) -> Option<u64> {
        match self.rest.map(|r| r.when) {
            None => None,
            Some(When::Truncated) => self
                .truncated(issue)
                .then(|| self.total(issue).unwrap_or(1)),
            Some(When::CountAbove0 { pointer, .. }) => {
                // No count in the issue (a field hidden from the account): ask, to be safe.
                match issue.pointer(pointer).and_then(raw::as_u64) {
                    Some(0) => None,
                    Some(n) => Some(n),
                    None => Some(1),
                }
            }
            Some(When::Always) => Some(1),
        }
    }

    /// The `total` of the page object around the embedded list.
    fn total(&self, issue: &RawObject<'_>) -> Option<u64> {
        self.embedded?
            .page
            .and_then(|page| issue.pointer_then(page, "total"))
            .and_then(raw::as_u64)
    }

    /// Moves the embedded items out of the issue record, so the issue does not carry them twice
    /// once a child stream has them.
    pub fn take_from<'a>(&self, issue: &mut RawObject<'a>) -> Vec<RawObject<'a>> {
        let Some(embedded) = &self.embedded else {
            return Vec::new();
        };
        let (parent, key) = embedded
            .list
            .rsplit_once('/')
            .unwrap_or(("", embedded.list));
        let parent = if parent.is_empty() {
            Some(issue)
        } else {
            issue.pointer_mut(parent)
        };
        match parent.and_then(|p| p.remove(key)) {
            Some(Node::List(list)) => list.objects,
            Some(Node::Text(list)) => raw::array_objects(list).unwrap_or_default(),
            _ => Vec::new(),
        }
    }
}

/// The issue a child row belongs to.
pub struct IssueRef<'a> {
    pub id: &'a str,
    /// `id` as a JSON string, where the issue's text has it so: its rows then share it.
    pub id_json: Option<&'a str>,
    pub key: Option<&'a str>,
}

impl<'a> IssueRef<'a> {
    /// The issue's id as a JSON string, `id_json` when there is one.
    fn id_node(&self) -> Node<'a> {
        self.id_json
            .map_or_else(|| Node::string(self.id), Node::Text)
    }
}

impl Rows {
    /// The rows one list item gives, as JSON objects, each handed to `row` as it is made. An
    /// item lent is copied only where its rows are made of it whole.
    pub fn each<'a>(
        self,
        issue: &IssueRef<'a>,
        item: Cow<'_, RawObject<'a>>,
        mut row: impl FnMut(RawObject<'a>) -> Result<()>,
    ) -> Result<()> {
        match self {
            Rows::AsIs => {
                let mut item = item.into_owned();
                item.insert("\"issueId\"", issue.id_node());
                row(item)
            }
            Rows::Links => row(link_row(issue, item.into_owned())),
            Rows::FieldHistory => field_history_rows(issue, &item, row),
        }
    }

    /// Whether the rows are made of the item whole, which an item lent would be copied for.
    pub fn take_items(self) -> bool {
        !matches!(self, Rows::FieldHistory)
    }
}

/// A link as the issue lists it: the other issue sits under `outwardIssue` when this issue is
/// the link's source, under `inwardIssue` otherwise.
fn link_row<'a>(issue: &IssueRef<'a>, mut link: RawObject<'a>) -> RawObject<'a> {
    let (direction, other) = match link.get("outwardIssue") {
        Some(other) => ("outward", Some(other)),
        None => ("inward", link.get("inwardIssue")),
    };
    let other = other.and_then(Node::text);
    let other_of = |key| {
        other
            .and_then(|o| raw::field(o, key))
            .map_or(Node::Text("null"), Node::Text)
    };
    let (other_id, other_key) = (other_of("id"), other_of("key"));
    link.insert("\"issueId\"", issue.id_node());
    link.insert(
        "\"issueKey\"",
        issue.key.map_or(Node::Text("null"), Node::string),
    );
    link.insert("\"direction\"", Node::string(direction));
    link.insert("\"otherIssueId\"", other_id);
    link.insert("\"otherIssueKey\"", other_key);
    link
}

/// The keys of a changed item a field history row carries, in its order.
const ITEM_KEYS: [(&str, &str); 9] = [
    ("field", "\"field\""),
    ("fieldId", "\"fieldId\""),
    ("fieldtype", "\"fieldtype\""),
    ("from", "\"from\""),
    ("fromString", "\"fromString\""),
    ("to", "\"to\""),
    ("toString", "\"toString\""),
    ("tmpFromAccountId", "\"tmpFromAccountId\""),
    ("tmpToAccountId", "\"tmpToAccountId\""),
];

/// One row per changed item of a changelog history: the table analysts otherwise build by hand.
fn field_history_rows<'a>(
    issue: &IssueRef<'a>,
    history: &RawObject<'a>,
    mut row: impl FnMut(RawObject<'a>) -> Result<()>,
) -> Result<()> {
    let Some(items) = history
        .get("items")
        .and_then(Node::text)
        .and_then(raw::array_items)
    else {
        return Ok(());
    };
    let text_or_null = |node: Option<&Node<'a>>| node.and_then(Node::text).unwrap_or("null");
    let author = text_or_null(history.get("author"));
    let author_account_id = raw::field(author, "accountId");
    let author_key = raw::field(author, "key");
    let history_id = text_or_null(history.get("id"));
    let created = text_or_null(history.get("created"));
    for (index, item) in items.into_iter().enumerate() {
        // Seven keys of the history's, then the item's.
        let mut fields = RawObject::with_capacity(7 + ITEM_KEYS.len());
        fields.push("\"issueId\"", issue.id_node());
        fields.push("\"historyId\"", Node::Text(history_id));
        fields.push(
            "\"itemIndex\"",
            DIGITS
                .get(index)
                .map_or_else(|| Node::Owned(index.to_string()), |digit| Node::Text(digit)),
        );
        fields.push("\"author\"", Node::Text(author));
        if let Some(id) = author_account_id {
            fields.push("\"authorAccountId\"", Node::Text(id));
        }
        if let Some(key) = author_key {
            fields.push("\"authorKey\"", Node::Text(key));
        }
        fields.push("\"created\"", Node::Text(created));
        // The item's keys read once each; the first of a key counts, as `get` finds it.
        let mut values: [Option<&'a str>; ITEM_KEYS.len()] = [None; ITEM_KEYS.len()];
        let item = RawObject::parse(item).unwrap_or_default();
        for (token, value) in item.entries() {
            let name = raw::key_name(token);
            if let Some(at) = ITEM_KEYS.iter().position(|(known, _)| *known == name) {
                values[at] = values[at].or(value.text());
            }
        }
        for ((_, key), value) in ITEM_KEYS.into_iter().zip(values) {
            if let Some(value) = value {
                fields.push(key, Node::Text(value));
            }
        }
        row(fields)?;
    }
    Ok(())
}

/// Item indexes as JSON text, for the few each history has.
const DIGITS: [&str; 10] = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"];

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn parse(value: &Value) -> String {
        value.to_string()
    }

    fn text(o: &RawObject<'_>) -> Value {
        let mut out = String::new();
        o.write_to(&mut out);
        serde_json::from_str(&out).unwrap()
    }

    const ISSUE: IssueRef<'static> = IssueRef {
        id: "10001",
        id_json: None,
        key: Some("WEB-2"),
    };

    /// The rows `rows` makes of `item`, for `ISSUE`.
    fn rows_of<'a>(rows: Rows, item: &'a str) -> Vec<RawObject<'a>> {
        let mut made = Vec::new();
        rows.each(&ISSUE, Cow::Owned(RawObject::parse(item).unwrap()), |row| {
            made.push(row);
            Ok(())
        })
        .unwrap();
        made
    }

    #[test]
    fn a_list_short_of_its_total_is_truncated() {
        let issue = parse(
            &json!({"fields": {"comment": {"comments": [{"id": "1"}], "total": 3, "maxResults": 1}}}),
        );
        let mut issue = RawObject::parse(&issue).unwrap();
        assert!(COMMENTS.truncated(&issue));
        assert!(COMMENTS.rest_items(&issue).is_some());
        assert_eq!(COMMENTS.take_from(&mut issue).len(), 1);
        let whole = parse(&json!({"fields": {"comment": {"comments": [{"id": "1"}], "total": 1}}}));
        let whole = RawObject::parse(&whole).unwrap();
        assert!(!COMMENTS.truncated(&whole));
        assert!(COMMENTS.rest_items(&whole).is_none());
    }

    #[test]
    fn counts_decide_whether_watchers_are_asked_for() {
        let needs = |list: &IssueList, issue: Value| {
            list.rest_items(&RawObject::parse(&parse(&issue)).unwrap())
                .is_some()
        };
        assert!(!needs(
            &WATCHERS,
            json!({"fields": {"watches": {"watchCount": 0}}})
        ));
        assert!(needs(
            &WATCHERS,
            json!({"fields": {"watches": {"watchCount": 2}}})
        ));
        assert!(needs(&WATCHERS, json!({"fields": {}})));
        assert!(needs(&REMOTE_LINKS, json!({})));
    }

    #[test]
    fn lists_are_taken_out_of_the_issue() {
        let issue = parse(
            &json!({"id": "1", "changelog": {"histories": []}, "transitions": [],
                               "fields": {"comment": {"comments": [], "total": 0}}}),
        );
        let mut issue = RawObject::parse(&issue).unwrap();
        assert!(COMMENTS.take_from(&mut issue).is_empty());
        assert!(TRANSITIONS.take_from(&mut issue).is_empty());
        assert_eq!(
            text(&issue),
            json!({"id": "1", "changelog": {"histories": []}, "fields": {"comment": {"total": 0}}})
        );
    }

    #[test]
    fn links_name_their_direction_and_the_other_issue() {
        let link = parse(
            &json!({"id": "5", "type": {"name": "Blocks"}, "inwardIssue": {"id": "10009", "key": "WEB-9"}}),
        );
        let row = rows_of(Rows::Links, &link);
        assert_eq!(row.len(), 1);
        let row = &text(&row[0]);
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
        let history = parse(&history);
        let rows: Vec<Value> = rows_of(Rows::FieldHistory, &history)
            .iter()
            .map(text)
            .collect();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0]["historyId"], json!("77"));
        assert_eq!(rows[0]["itemIndex"], json!(0));
        assert_eq!(rows[0]["toString"], json!("In Progress"));
        assert_eq!(rows[1]["authorAccountId"], json!("abc"));
        assert_eq!(rows[1]["tmpToAccountId"], json!("abc"));
        assert_eq!(rows[1]["itemIndex"], json!(1));
        assert_eq!(
            rows[0].as_object().unwrap().keys().collect::<Vec<_>>(),
            [
                "issueId",
                "historyId",
                "itemIndex",
                "author",
                "authorAccountId",
                "created",
                "field",
                "fieldId",
                "fieldtype",
                "from",
                "fromString",
                "to",
                "toString"
            ]
        );
    }

    #[test]
    fn as_is_rows_carry_the_issue_id_in_place_or_last() {
        let as_is = |item| rows_of(Rows::AsIs, item);
        let rows = as_is(r#"{"id":"1","issueId":10001,"x":2}"#);
        assert_eq!(
            text(&rows[0]),
            json!({"id": "1", "issueId": "10001", "x": 2})
        );
        let mut out = String::new();
        as_is(r#"{"id":"1"}"#)[0].write_to(&mut out);
        assert_eq!(out, r#"{"id":"1","issueId":"10001"}"#);
    }
}
