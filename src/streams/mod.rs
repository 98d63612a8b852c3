//! The stream table: one plain entry per stream, in discover order, saying what each stream is
//! (name, schema, keys, replication) and where its records come from (source, parent). The sync
//! engine is driven by it; adding a stream touches this table, one schema file and a test.

pub mod bulk;
pub mod children;
pub mod issues;
pub mod users;
pub mod worklogs;

use crate::client::{ApiRequest, JiraClient, Pagination};
use crate::config::Deployment;
pub use children::{Ask, Embedded, IssueList, Rest, Rows, When};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Replication {
    /// Every run reads everything; records are versioned and the table is activated at the end.
    Full,
    /// Each run reads what changed since the stream's own bookmark on `key`.
    Incremental { key: &'static str },
    /// A child read with its parent: the parent's bookmark decides which children a run reads.
    WithParent,
}

impl Replication {
    /// The Singer replication method (`forced-replication-method`).
    pub fn method(self) -> &'static str {
        match self {
            Replication::Full => "FULL_TABLE",
            Replication::Incremental { .. } | Replication::WithParent => "INCREMENTAL",
        }
    }

    pub fn key(self) -> Option<&'static str> {
        match self {
            Replication::Incremental { key } => Some(key),
            _ => None,
        }
    }
}

/// Primary keys; some streams are keyed differently on Cloud (`accountId`) and Server/DC (`key`).
#[derive(Debug, Clone, Copy)]
pub enum Keys {
    Same(&'static [&'static str]),
    PerDeployment {
        cloud: &'static [&'static str],
        server: &'static [&'static str],
    },
}

impl Keys {
    pub fn for_deployment(&self, deployment: Deployment) -> &'static [&'static str] {
        match (self, deployment) {
            (Keys::Same(keys), _) => keys,
            (Keys::PerDeployment { cloud, .. }, Deployment::Cloud) => cloud,
            (Keys::PerDeployment { server, .. }, Deployment::Server) => server,
        }
    }
}

/// One API endpoint, under `rest/api/{2|3}/`. `{projectId}` and `{issueId}` in the path are
/// bound to the parent's id.
#[derive(Debug, Clone, Copy)]
pub struct Endpoint {
    pub path: &'static str,
    pub query: &'static [(&'static str, &'static str)],
    pub pagination: Pagination,
}

impl Endpoint {
    /// The request on this client's API version, with the parent's ids bound into the path.
    pub fn request(&self, client: &JiraClient, bind: &[(&str, &str)]) -> (ApiRequest, Pagination) {
        let mut path = self.path.to_string();
        for (name, value) in bind {
            path = path.replace(&format!("{{{name}}}"), value);
        }
        let mut request = ApiRequest::get(client.api_path(&path));
        for (key, value) in self.query {
            request = request.query(key, *value);
        }
        (request, self.pagination)
    }
}

/// A value that may differ per deployment.
#[derive(Debug, Clone, Copy)]
pub struct PerDeployment<T> {
    pub cloud: T,
    pub server: T,
}

impl<T: Copy> PerDeployment<T> {
    pub const fn same(value: T) -> Self {
        PerDeployment {
            cloud: value,
            server: value,
        }
    }

    pub fn on(&self, deployment: Deployment) -> T {
        match deployment {
            Deployment::Cloud => self.cloud,
            Deployment::Server => self.server,
        }
    }
}

/// Where a stream's records come from.
#[derive(Debug, Clone, Copy)]
pub enum Source {
    /// A list endpoint, read whole.
    Endpoint(PerDeployment<Endpoint>),
    /// One list per project (`{projectId}` in the path); the parent is `projects`.
    PerProject(PerDeployment<Endpoint>),
    /// Every user of the site, or the members of the configured groups.
    Users,
    /// JQL search, incremental on `updated`.
    IssueSearch,
    /// Rows made from one of an issue's lists; the parent is `issues`.
    IssueChild {
        list: &'static IssueList,
        rows: Rows,
    },
    /// `/worklog/updated` since the bookmark, bodies from `/worklog/list`.
    WorklogUpdates,
}

impl Source {
    /// The stream whose records this one hangs off (`parent-tap-stream-id`).
    pub fn parent(&self) -> Option<&'static str> {
        match self {
            Source::PerProject(_) => Some("projects"),
            Source::IssueChild { .. } => Some("issues"),
            _ => None,
        }
    }
}

#[derive(Debug)]
pub struct StreamDef {
    /// Stitch-compatible stream name.
    pub name: &'static str,
    /// The JSON schema, embedded so the binary needs no files at run time.
    pub schema: &'static str,
    pub keys: Keys,
    pub replication: Replication,
    pub source: Source,
    /// The one deployment that has this stream; `None` when both do. A stream a deployment lacks
    /// is left out of its catalog.
    pub only_on: Option<Deployment>,
    /// Whether discover marks it selected by default; streams that cost a request per record
    /// are not.
    pub selected_by_default: bool,
}

impl StreamDef {
    pub fn find(name: &str) -> Option<&'static StreamDef> {
        STREAMS.iter().find(|s| s.name == name)
    }

    pub fn exists_on(&self, deployment: Deployment) -> bool {
        self.only_on.is_none_or(|only| only == deployment)
    }
}

/// A Jira id as text: Jira writes the same ids as strings in some places and numbers in others
/// (worklog ids, project ids).
pub fn id_text(value: &serde_json::Value) -> Option<String> {
    match value {
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// The streams a deployment has, in table order.
pub fn streams_on(deployment: Deployment) -> impl Iterator<Item = &'static StreamDef> {
    STREAMS.iter().filter(move |s| s.exists_on(deployment))
}

const fn endpoint(path: &'static str, pagination: Pagination) -> Endpoint {
    Endpoint {
        path,
        query: &[],
        pagination,
    }
}

const ARRAY: Pagination = Pagination::Single { items: None };
const VALUES: Pagination = Pagination::Offset {
    items: Some("values"),
};

pub const FIELDS_ENDPOINT: Endpoint = endpoint("field", ARRAY);

/// A stream read whole, from the same endpoint everywhere.
const fn everywhere(path: &'static str, pagination: Pagination) -> Source {
    Source::Endpoint(PerDeployment::same(endpoint(path, pagination)))
}

const fn full_table(
    name: &'static str,
    schema: &'static str,
    keys: &'static [&'static str],
    source: Source,
) -> StreamDef {
    StreamDef {
        name,
        schema,
        keys: Keys::Same(keys),
        replication: Replication::Full,
        source,
        only_on: None,
        selected_by_default: true,
    }
}

const fn issue_child(
    name: &'static str,
    schema: &'static str,
    keys: Keys,
    list: &'static IssueList,
    rows: Rows,
) -> StreamDef {
    StreamDef {
        name,
        schema,
        keys,
        replication: Replication::WithParent,
        source: Source::IssueChild { list, rows },
        only_on: None,
        selected_by_default: true,
    }
}

/// Watchers and voters are users, keyed like `users` plus the issue.
const PEOPLE_KEYS: Keys = Keys::PerDeployment {
    cloud: &["issueId", "accountId"],
    server: &["issueId", "key"],
};

pub static STREAMS: &[StreamDef] = &[
    full_table(
        "projects",
        include_str!("../../schemas/projects.json"),
        &["id"],
        Source::Endpoint(PerDeployment {
            cloud: Endpoint {
                path: "project/search",
                query: &[(
                    "expand",
                    "description,lead,issueTypes,url,projectKeys,insight",
                )],
                pagination: VALUES,
            },
            server: Endpoint {
                path: "project",
                query: &[("expand", "description,lead,url,projectKeys")],
                pagination: ARRAY,
            },
        }),
    ),
    full_table(
        "versions",
        include_str!("../../schemas/versions.json"),
        &["id"],
        Source::PerProject(PerDeployment::same(Endpoint {
            path: "project/{projectId}/version",
            query: &[("orderBy", "sequence")],
            pagination: VALUES,
        })),
    ),
    full_table(
        "components",
        include_str!("../../schemas/components.json"),
        &["id"],
        Source::PerProject(PerDeployment {
            cloud: endpoint("project/{projectId}/component", VALUES),
            // Server/DC lists a project's components unpaged.
            server: endpoint("project/{projectId}/components", ARRAY),
        }),
    ),
    full_table(
        "project_types",
        include_str!("../../schemas/project_types.json"),
        &["key"],
        everywhere("project/type", ARRAY),
    ),
    full_table(
        "project_categories",
        include_str!("../../schemas/project_categories.json"),
        &["id"],
        everywhere("projectCategory", ARRAY),
    ),
    full_table(
        "resolutions",
        include_str!("../../schemas/resolutions.json"),
        &["id"],
        everywhere("resolution", ARRAY),
    ),
    full_table(
        "roles",
        include_str!("../../schemas/roles.json"),
        &["id"],
        everywhere("role", ARRAY),
    ),
    full_table(
        "fields",
        include_str!("../../schemas/fields.json"),
        &["id"],
        Source::Endpoint(PerDeployment::same(FIELDS_ENDPOINT)),
    ),
    StreamDef {
        name: "users",
        schema: include_str!("../../schemas/users.json"),
        keys: Keys::PerDeployment {
            cloud: &["accountId"],
            server: &["key"],
        },
        replication: Replication::Full,
        source: Source::Users,
        only_on: None,
        selected_by_default: true,
    },
    StreamDef {
        name: "issues",
        schema: include_str!("../../schemas/issues.json"),
        keys: Keys::Same(&["id"]),
        replication: Replication::Incremental { key: "updated" },
        source: Source::IssueSearch,
        only_on: None,
        selected_by_default: true,
    },
    issue_child(
        "issue_comments",
        include_str!("../../schemas/issue_comments.json"),
        Keys::Same(&["id"]),
        &children::COMMENTS,
        Rows::AsIs,
    ),
    issue_child(
        "changelogs",
        include_str!("../../schemas/changelogs.json"),
        Keys::Same(&["id"]),
        &children::CHANGELOG,
        Rows::AsIs,
    ),
    issue_child(
        "issue_transitions",
        include_str!("../../schemas/issue_transitions.json"),
        Keys::Same(&["id", "issueId"]),
        &children::TRANSITIONS,
        Rows::AsIs,
    ),
    StreamDef {
        name: "worklogs",
        schema: include_str!("../../schemas/worklogs.json"),
        keys: Keys::Same(&["id"]),
        replication: Replication::Incremental { key: "updated" },
        source: Source::WorklogUpdates,
        only_on: None,
        selected_by_default: true,
    },
    issue_child(
        "issue_field_history",
        include_str!("../../schemas/issue_field_history.json"),
        Keys::Same(&["historyId", "itemIndex"]),
        &children::CHANGELOG,
        Rows::FieldHistory,
    ),
    issue_child(
        "issue_links",
        include_str!("../../schemas/issue_links.json"),
        Keys::Same(&["id", "issueId"]),
        &children::LINKS,
        Rows::Links,
    ),
    issue_child(
        "attachments",
        include_str!("../../schemas/attachments.json"),
        Keys::Same(&["id"]),
        &children::ATTACHMENTS,
        Rows::AsIs,
    ),
    StreamDef {
        // Jira makes the reporter a watcher, so nearly every issue costs a request: opt-in.
        selected_by_default: false,
        ..issue_child(
            "issue_watchers",
            include_str!("../../schemas/issue_watchers.json"),
            PEOPLE_KEYS,
            &children::WATCHERS,
            Rows::AsIs,
        )
    },
    issue_child(
        "issue_votes",
        include_str!("../../schemas/issue_votes.json"),
        PEOPLE_KEYS,
        &children::VOTES,
        Rows::AsIs,
    ),
    StreamDef {
        // Jira has no count of remote links in the issue: one request per issue, so opt-in.
        selected_by_default: false,
        ..issue_child(
            "issue_remote_links",
            include_str!("../../schemas/issue_remote_links.json"),
            Keys::Same(&["id", "issueId"]),
            &children::REMOTE_LINKS,
            Rows::AsIs,
        )
    },
];

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    fn placeholders(path: &str) -> Vec<&str> {
        path.split('{')
            .skip(1)
            .filter_map(|rest| rest.split_once('}').map(|(name, _)| name))
            .collect()
    }

    /// The placeholders a source's paths may use: its parent's id, nothing else.
    fn allowed_placeholders(source: &Source) -> &'static [&'static str] {
        match source {
            Source::PerProject(_) => &["projectId"],
            Source::IssueChild { .. } => &["issueId"],
            _ => &[],
        }
    }

    fn paths(source: &Source) -> Vec<&'static str> {
        let both = |e: &PerDeployment<Endpoint>| vec![e.cloud.path, e.server.path];
        match source {
            Source::Endpoint(e) | Source::PerProject(e) => both(e),
            Source::IssueChild { list, .. } => list
                .rest
                .map(|r| vec![r.endpoint.cloud.path, r.endpoint.server.path])
                .unwrap_or_default(),
            _ => vec![],
        }
    }

    #[test]
    fn every_stream_is_consistent_with_its_schema_parent_and_paths() {
        for stream in STREAMS {
            let schema: Value = serde_json::from_str(stream.schema)
                .unwrap_or_else(|e| panic!("{}: schema is not JSON: {e}", stream.name));
            let properties = schema["properties"]
                .as_object()
                .unwrap_or_else(|| panic!("{}: schema has no properties", stream.name));
            for deployment in [Deployment::Cloud, Deployment::Server] {
                for key in stream.keys.for_deployment(deployment) {
                    assert!(
                        properties.contains_key(*key),
                        "{}: key {key} not in schema",
                        stream.name
                    );
                }
            }
            if let Some(key) = stream.replication.key() {
                assert!(
                    properties.contains_key(key),
                    "{}: replication key {key} not in schema",
                    stream.name
                );
            }
            if let Some(parent) = stream.source.parent() {
                let parent = StreamDef::find(parent)
                    .unwrap_or_else(|| panic!("{}: parent {parent} is no stream", stream.name));
                assert!(
                    STREAMS.iter().position(|s| s.name == parent.name)
                        < STREAMS.iter().position(|s| s.name == stream.name),
                    "{}: its parent comes first",
                    stream.name
                );
            }
            assert_eq!(
                matches!(stream.source, Source::IssueChild { .. }),
                stream.replication == Replication::WithParent,
                "{}: children, and only children, replicate with their parent",
                stream.name
            );
            for path in paths(&stream.source) {
                for name in placeholders(path) {
                    assert!(
                        allowed_placeholders(&stream.source).contains(&name),
                        "{}: {path} binds {{{name}}}, which its parent does not give",
                        stream.name
                    );
                }
            }
            assert_eq!(
                StreamDef::find(stream.name).map(|s| s.name),
                Some(stream.name),
                "stream names are unique"
            );
        }
    }

    #[test]
    fn the_readme_stream_table_lists_every_stream_with_its_keys() {
        let readme = include_str!("../../README.md");
        for stream in STREAMS {
            let row = readme
                .lines()
                .find(|line| line.starts_with(&format!("| `{}` |", stream.name)))
                .unwrap_or_else(|| panic!("README.md has no stream-table row for {}", stream.name));
            for deployment in [Deployment::Cloud, Deployment::Server] {
                for key in stream.keys.for_deployment(deployment) {
                    assert!(
                        row.contains(&format!("`{key}`")),
                        "README row of {} lacks key {key}",
                        stream.name
                    );
                }
            }
            if let Some(parent) = stream.source.parent() {
                assert!(
                    row.ends_with(&format!("| `{parent}` |")),
                    "README row of {} names its parent",
                    stream.name
                );
            }
        }
    }
}
