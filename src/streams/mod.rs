//! The stream table: one plain entry per stream, in discover order, saying what each stream is
//! (name, schema, keys, replication) and where its records come from (source, parent). The sync
//! engine is driven by it; adding a stream touches this table, one schema file and a test.

pub mod agile;
pub mod bulk;
pub mod children;
pub mod deletions;
pub mod issues;
pub mod projects;
pub mod shape;
pub mod users;
pub mod worklogs;

use crate::client::{ApiRequest, JiraClient, Pagination};
use crate::config::Deployment;
use crate::error::{Error, Result};
pub use children::{Ask, Embedded, IssueList, Rest, Rows, When};
pub use shape::{Bound, Shape};

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

/// One API endpoint, under `rest/api/{2|3}/` unless its path starts with `rest/` (the agile API).
/// `{name}` in the path or a query value is bound to the parent's value of that name.
#[derive(Debug, Clone, Copy)]
pub struct Endpoint {
    pub path: &'static str,
    pub query: &'static [(&'static str, &'static str)],
    pub pagination: Pagination,
}

impl Endpoint {
    /// The request on this client's API version, for an endpoint with nothing to bind.
    pub fn unbound(&self, client: &JiraClient) -> (ApiRequest, Pagination) {
        self.bound_request(client, &[])
    }

    /// The request on this client's API version, with the parent's ids bound into the path.
    /// An id of `.` or `..` bound into the path is refused: URL resolution reads it as a step up
    /// the path, encoded or not, so the request would go elsewhere on the site. No Jira id that
    /// goes into a path has that form.
    pub fn request(
        &self,
        client: &JiraClient,
        bind: &[(&str, &str)],
    ) -> Result<(ApiRequest, Pagination)> {
        // Any other value is encoded (a `%` too), so only these two are read as dot segments;
        // in the query (a group's name) they are harmless.
        let in_path = |name: &str| self.path.contains(&format!("{{{name}}}"));
        if let Some((name, value)) = bind
            .iter()
            .find(|(name, value)| matches!(*value, "." | "..") && in_path(name))
        {
            return Err(Error::Shape {
                url: self.path.to_string(),
                problem: format!(
                    "the server gave `{value}` as a `{name}`, which cannot be put in a request path"
                ),
            });
        }
        Ok(self.bound_request(client, bind))
    }

    fn bound_request(
        &self,
        client: &JiraClient,
        bind: &[(&str, &str)],
    ) -> (ApiRequest, Pagination) {
        let bound = |text: &str, encode: fn(&str) -> String| {
            bind.iter().fold(text.to_string(), |text, (name, value)| {
                text.replace(&format!("{{{name}}}"), &encode(value))
            })
        };
        // A `/`, `?` or `#` in a value from the server would point the request elsewhere on the
        // site: encoded, it stays in its segment. Query values are encoded when the request is
        // built.
        let path = bound(self.path, crate::secret::percent_encoded);
        let path = if path.starts_with("rest/") {
            path
        } else {
            client.api_path(&path)
        };
        let mut request = ApiRequest::get(path);
        for (key, value) in self.query {
            request = request.query(key, bound(value, str::to_string));
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

/// A parent stream whose records a child's requests are made for.
#[derive(Debug, Clone, Copy)]
pub struct Parent {
    pub stream: &'static str,
    /// Values taken from each parent record, `(name, JSON pointer)`: bound into the child's
    /// path and query as `{name}`, and what `stamp` may write into the child's rows.
    pub binds: &'static [(&'static str, &'static str)],
    /// Which parent records have children at all.
    pub only: Only,
}

/// A test on the values bound from a parent record (those of its own parents included).
#[derive(Debug, Clone, Copy)]
pub enum Only {
    All,
    /// The named value is `true`.
    True(&'static str),
    /// The named value is not `true` (absent, or anything else).
    NotTrue(&'static str),
    /// The named value is a string ending in one of these.
    EndsWith(&'static str, &'static [&'static str]),
}

/// One request (or paged list) per parent record, or per pair of records of two parents.
#[derive(Debug, Clone, Copy)]
pub struct PerParent {
    pub parents: &'static [Parent],
    pub endpoint: PerDeployment<Endpoint>,
    /// Bound values written into every row under their name, with the parent's JSON type.
    pub stamp: &'static [&'static str],
}

/// Where a stream's records come from.
#[derive(Debug, Clone, Copy)]
pub enum Source {
    /// A list endpoint, read whole.
    Endpoint(PerDeployment<Endpoint>),
    /// One list per record of a parent stream.
    PerParent(&'static PerParent),
    /// A list newest first, asked for what was created since the bookmark (`param`).
    Since {
        endpoint: PerDeployment<Endpoint>,
        param: &'static str,
    },
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
            Source::PerParent(per) => per.parents.first().map(|p| p.stream),
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
    pub shape: Shape,
    /// What the site or the account needs for this stream, said when Jira refuses it.
    pub needs: Option<&'static str>,
}

/// Columns copied from elsewhere in their row by code rather than by `Shape::lift`: `(stream,
/// column, JSON pointer of the source)`.
const COPIED_IN_CODE: &[(&str, &str, &str)] = &[
    ("issues", "created", "/fields/created"),
    ("issues", "updated", "/fields/updated"),
    (
        "issue_field_history",
        "authorAccountId",
        "/author/accountId",
    ),
    ("issue_field_history", "authorKey", "/author/key"),
];

impl StreamDef {
    pub fn find(name: &str) -> Option<&'static StreamDef> {
        STREAMS.iter().find(|s| s.name == name)
    }

    /// The columns this stream's rows copy from another of their fields, `(column, JSON pointer
    /// of the source)`: what hides the source must hide the copy too.
    pub fn copied_columns(&self) -> impl Iterator<Item = (&'static str, &'static str)> + '_ {
        let in_code = COPIED_IN_CODE
            .iter()
            .filter(|(stream, _, _)| *stream == self.name)
            .map(|(_, column, source)| (*column, *source));
        self.shape.lift.iter().copied().chain(in_code)
    }

    pub fn exists_on(&self, deployment: Deployment) -> bool {
        self.only_on.is_none_or(|only| only == deployment)
    }

    /// The values this stream's children bind from its records, `(name, JSON pointer)`, each once.
    pub fn child_binds(&self) -> Vec<(&'static str, &'static str)> {
        let mut binds: Vec<(&'static str, &'static str)> = Vec::new();
        for child in STREAMS {
            if let Source::PerParent(per) = child.source {
                for parent in per.parents.iter().filter(|p| p.stream == self.name) {
                    for bind in parent.binds {
                        if !binds.contains(bind) {
                            binds.push(*bind);
                        }
                    }
                }
            }
        }
        binds
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

/// The audit log (administrators only): newest first, `from=` a time.
pub const AUDIT_LOG: Endpoint = endpoint(
    "auditing/record",
    Pagination::OffsetLimit { items: "records" },
);
const VALUES: Pagination = Pagination::Offset {
    items: Some("values"),
};

pub const FIELDS_ENDPOINT: Endpoint = endpoint("field", ARRAY);

/// The projects, without the expansions the `projects` stream asks for: for their ids.
pub const PROJECT_IDS_ENDPOINT: PerDeployment<Endpoint> = PerDeployment {
    cloud: endpoint("project/search", VALUES),
    server: endpoint("project", ARRAY),
};

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
        shape: Shape::AS_IS,
        needs: None,
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
        shape: Shape::AS_IS,
        needs: None,
    }
}

const ONE: Pagination = Pagination::One;

/// Under a key of the response object, unpaged, which Jira always sends (`[]` for none): a body
/// without it is no answer of the endpoint, not an empty list (see `Pagination::Object`).
const fn under(key: &'static str) -> Pagination {
    Pagination::Object { items: key }
}

/// Under a key of an object read for its list (a role's actors, a scheme's levels): Jira may
/// leave an empty one out, as no answer shows it does not, so a body without it reads as none.
const fn property(key: &'static str) -> Pagination {
    Pagination::Single { items: Some(key) }
}

/// What Jira asks of the account or the site for some streams, named when it refuses them.
const ADMIN: Option<&str> = Some("the account needs the Administer Jira global permission");
const SOFTWARE: Option<&str> = Some("the site needs Jira Software (the agile API)");

/// The `projects` stream: the parent of the project-level streams, and what the `projects` and
/// `exclude_projects` filters narrow.
pub const PROJECTS_STREAM: &str = "projects";

// An archived project is a row of `projects` (it still exists, read-only, and may be restored),
// but its versions, components and roles are read as before: of live projects only.
const PROJECTS: Parent = Parent {
    stream: PROJECTS_STREAM,
    binds: &[("projectId", "/id"), ("archived", "/archived")],
    only: Only::NotTrue("archived"),
};

const BOARDS: Parent = Parent {
    stream: "boards",
    binds: &[("boardId", "/id")],
    only: Only::All,
};

/// A reference list read whole, from the same endpoint everywhere.
const fn reference(
    name: &'static str,
    schema: &'static str,
    keys: &'static [&'static str],
    path: &'static str,
    pagination: Pagination,
) -> StreamDef {
    full_table(name, schema, keys, everywhere(path, pagination))
}

/// A Cloud-only list that needs an administrator, keyed by `id`.
const fn cloud_admin_list(
    name: &'static str,
    schema: &'static str,
    path: &'static str,
) -> StreamDef {
    StreamDef {
        only_on: Some(Deployment::Cloud),
        needs: ADMIN,
        ..reference(name, schema, &["id"], path, VALUES)
    }
}

/// An agile stream read per board.
const fn per_board(
    name: &'static str,
    schema: &'static str,
    keys: &'static [&'static str],
    per: &'static PerParent,
) -> StreamDef {
    StreamDef {
        needs: SOFTWARE,
        ..full_table(name, schema, keys, Source::PerParent(per))
    }
}

/// An issue of an agile list, as membership: its id and key.
const ISSUE_MEMBERSHIP: Shape = Shape {
    pick: &[("issueId", "/id"), ("issueKey", "/key")],
    ..Shape::AS_IS
};

/// Grants and security-level members hold their holder flat, so SQL joins need no JSON.
const HOLDER: Shape = Shape {
    lift: &[
        ("holderType", "/holder/type"),
        ("holderParameter", "/holder/parameter"),
        ("holderValue", "/holder/value"),
    ],
    ..Shape::AS_IS
};

/// The custom field types whose values are options.
const OPTION_TYPES: &[&str] = &[
    ":select",
    ":multiselect",
    ":radiobuttons",
    ":multicheckboxes",
    ":cascadingselect",
];

/// Every project with every role: the role's actors in that project.
const PROJECT_ROLE: PerParent = PerParent {
    parents: &[
        PROJECTS,
        Parent {
            stream: "roles",
            binds: &[("roleId", "/id")],
            only: Only::All,
        },
    ],
    endpoint: PerDeployment::same(endpoint("project/{projectId}/role/{roleId}", ONE)),
    stamp: &["projectId"],
};

const SECURITY_SCHEMES: Parent = Parent {
    stream: "issue_security_schemes",
    binds: &[("schemeId", "/id")],
    only: Only::All,
};

const DEDUPE: Shape = Shape {
    dedupe: true,
    ..Shape::AS_IS
};

/// An agile issue list asked for the issue keys only: membership rows need no more.
const AGILE_ISSUES_OF_SPRINT: Endpoint = Endpoint {
    path: "rest/agile/1.0/sprint/{sprintId}/issue",
    query: &[("fields", "key")],
    pagination: Pagination::Offset {
        items: Some("issues"),
    },
};

const AGILE_ISSUES_OF_BOARD: Endpoint = Endpoint {
    path: "rest/agile/1.0/board/{boardId}/issue",
    ..AGILE_ISSUES_OF_SPRINT
};

/// A stream read whole from one endpoint with a query, the same everywhere.
const fn everywhere_with(
    path: &'static str,
    query: &'static [(&'static str, &'static str)],
    pagination: Pagination,
) -> Source {
    Source::Endpoint(PerDeployment::same(Endpoint {
        path,
        query,
        pagination,
    }))
}

/// Watchers and voters are users, keyed like `users` plus the issue.
const PEOPLE_KEYS: Keys = Keys::PerDeployment {
    cloud: &["issueId", "accountId"],
    server: &["issueId", "key"],
};

pub static STREAMS: &[StreamDef] = &[
    full_table(
        PROJECTS_STREAM,
        include_str!("../../schemas/projects.json"),
        &["id"],
        Source::Endpoint(PerDeployment {
            // Archived projects still exist, but the lists leave them out unless asked: without
            // them the pass's version would delete their rows in the target.
            cloud: Endpoint {
                path: "project/search",
                query: &[
                    (
                        "expand",
                        "description,lead,issueTypes,url,projectKeys,insight",
                    ),
                    ("status", "live"),
                    ("status", "archived"),
                ],
                pagination: VALUES,
            },
            server: Endpoint {
                path: "project",
                query: &[
                    ("expand", "description,lead,url,projectKeys"),
                    ("includeArchived", "true"),
                ],
                pagination: ARRAY,
            },
        }),
    ),
    full_table(
        "versions",
        include_str!("../../schemas/versions.json"),
        &["id"],
        Source::PerParent(&PerParent {
            parents: &[PROJECTS],
            endpoint: PerDeployment::same(Endpoint {
                path: "project/{projectId}/version",
                query: &[("orderBy", "sequence")],
                pagination: VALUES,
            }),
            stamp: &[],
        }),
    ),
    full_table(
        "components",
        include_str!("../../schemas/components.json"),
        &["id"],
        Source::PerParent(&PerParent {
            parents: &[PROJECTS],
            endpoint: PerDeployment {
                cloud: endpoint("project/{projectId}/component", VALUES),
                // Server/DC lists a project's components unpaged.
                server: endpoint("project/{projectId}/components", ARRAY),
            },
            stamp: &[],
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
        shape: Shape::AS_IS,
        needs: None,
    },
    StreamDef {
        name: "issues",
        schema: include_str!("../../schemas/issues.json"),
        keys: Keys::Same(&["id"]),
        replication: Replication::Incremental { key: "updated" },
        source: Source::IssueSearch,
        only_on: None,
        selected_by_default: true,
        shape: Shape::AS_IS,
        needs: None,
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
        shape: Shape::AS_IS,
        needs: None,
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
    reference(
        "issue_types",
        include_str!("../../schemas/issue_types.json"),
        &["id"],
        "issuetype",
        ARRAY,
    ),
    reference(
        "statuses",
        include_str!("../../schemas/statuses.json"),
        &["id"],
        "status",
        ARRAY,
    ),
    reference(
        "status_categories",
        include_str!("../../schemas/status_categories.json"),
        &["id"],
        "statuscategory",
        ARRAY,
    ),
    full_table(
        "priorities",
        include_str!("../../schemas/priorities.json"),
        &["id"],
        Source::Endpoint(PerDeployment {
            cloud: endpoint("priority/search", VALUES),
            server: endpoint("priority", ARRAY),
        }),
    ),
    StreamDef {
        only_on: Some(Deployment::Cloud),
        // Jira lists labels as bare strings.
        shape: Shape {
            pick: &[("label", "")],
            ..Shape::AS_IS
        },
        ..reference(
            "labels",
            include_str!("../../schemas/labels.json"),
            &["label"],
            "label",
            VALUES,
        )
    },
    reference(
        "issue_link_types",
        include_str!("../../schemas/issue_link_types.json"),
        &["id"],
        "issueLinkType",
        under("issueLinkTypes"),
    ),
    StreamDef {
        only_on: Some(Deployment::Cloud),
        needs: ADMIN,
        ..full_table(
            "custom_field_contexts",
            include_str!("../../schemas/custom_field_contexts.json"),
            &["id"],
            Source::PerParent(&PerParent {
                parents: &[Parent {
                    stream: "fields",
                    binds: &[
                        ("fieldId", "/id"),
                        ("custom", "/custom"),
                        ("fieldType", "/schema/custom"),
                    ],
                    only: Only::True("custom"),
                }],
                endpoint: PerDeployment::same(endpoint("field/{fieldId}/context", VALUES)),
                stamp: &["fieldId"],
            }),
        )
    },
    StreamDef {
        only_on: Some(Deployment::Cloud),
        needs: ADMIN,
        ..full_table(
            "custom_field_options",
            include_str!("../../schemas/custom_field_options.json"),
            &["id"],
            Source::PerParent(&PerParent {
                parents: &[Parent {
                    stream: "custom_field_contexts",
                    binds: &[("contextId", "/id")],
                    only: Only::EndsWith("fieldType", OPTION_TYPES),
                }],
                endpoint: PerDeployment::same(endpoint(
                    "field/{fieldId}/context/{contextId}/option",
                    VALUES,
                )),
                stamp: &["fieldId", "contextId"],
            }),
        )
    },
    StreamDef {
        needs: ADMIN,
        // Cloud's workflow id is an object; its name is the key on both deployments.
        shape: Shape {
            lift: &[("name", "/id/name"), ("entityId", "/id/entityId")],
            ..Shape::AS_IS
        },
        ..full_table(
            "workflows",
            include_str!("../../schemas/workflows.json"),
            &["name"],
            Source::Endpoint(PerDeployment {
                cloud: Endpoint {
                    path: "workflow/search",
                    query: &[("expand", "statuses,transitions")],
                    pagination: VALUES,
                },
                server: endpoint("workflow", ARRAY),
            }),
        )
    },
    cloud_admin_list(
        "workflow_schemes",
        include_str!("../../schemas/workflow_schemes.json"),
        "workflowscheme",
    ),
    cloud_admin_list(
        "screens",
        include_str!("../../schemas/screens.json"),
        "screens",
    ),
    cloud_admin_list(
        "screen_schemes",
        include_str!("../../schemas/screen_schemes.json"),
        "screenscheme",
    ),
    cloud_admin_list(
        "issue_type_schemes",
        include_str!("../../schemas/issue_type_schemes.json"),
        "issuetypescheme",
    ),
    cloud_admin_list(
        "issue_type_screen_schemes",
        include_str!("../../schemas/issue_type_screen_schemes.json"),
        "issuetypescreenscheme",
    ),
    cloud_admin_list(
        "field_configurations",
        include_str!("../../schemas/field_configurations.json"),
        "fieldconfiguration",
    ),
    cloud_admin_list(
        "field_configuration_schemes",
        include_str!("../../schemas/field_configuration_schemes.json"),
        "fieldconfigurationscheme",
    ),
    reference(
        "notification_schemes",
        include_str!("../../schemas/notification_schemes.json"),
        &["id"],
        "notificationscheme",
        VALUES,
    ),
    cloud_admin_list(
        "priority_schemes",
        include_str!("../../schemas/priority_schemes.json"),
        "priorityscheme",
    ),
    reference(
        "time_tracking",
        include_str!("../../schemas/time_tracking.json"),
        // One record of site settings: nothing to key it by.
        &[],
        "configuration",
        ONE,
    ),
    StreamDef {
        only_on: Some(Deployment::Cloud),
        ..full_table(
            "filters",
            include_str!("../../schemas/filters.json"),
            &["id"],
            everywhere_with(
                "filter/search",
                &[
                    (
                        "expand",
                        "description,owner,jql,viewUrl,searchUrl,favourite,favouritedCount,\
                         sharePermissions,editPermissions",
                    ),
                    // Jira's default order is by name, which filters of different owners
                    // share: ties broken apart from one page to the next would look like a
                    // list that moved (`client::pages`).
                    ("orderBy", "id"),
                ],
                VALUES,
            ),
        )
    },
    reference(
        "dashboards",
        include_str!("../../schemas/dashboards.json"),
        &["id"],
        "dashboard",
        Pagination::Offset {
            items: Some("dashboards"),
        },
    ),
    reference(
        "server_info",
        include_str!("../../schemas/server_info.json"),
        &["baseUrl"],
        "serverInfo",
        ONE,
    ),
    full_table(
        "project_statuses",
        include_str!("../../schemas/project_statuses.json"),
        &["projectId", "id"],
        Source::PerParent(&PerParent {
            parents: &[PROJECTS],
            endpoint: PerDeployment::same(endpoint("project/{projectId}/statuses", ARRAY)),
            stamp: &["projectId"],
        }),
    ),
    full_table(
        "groups",
        include_str!("../../schemas/groups.json"),
        &["name"],
        Source::Endpoint(PerDeployment {
            cloud: endpoint("group/bulk", VALUES),
            // Server/DC has no list of groups but the picker, which takes a limit and no offset.
            server: Endpoint {
                path: "groups/picker",
                query: &[("maxResults", "100000")],
                pagination: under("groups"),
            },
        }),
    ),
    StreamDef {
        keys: Keys::PerDeployment {
            cloud: &["groupId", "accountId"],
            server: &["groupName", "key"],
        },
        // A request per group: opt-in.
        selected_by_default: false,
        ..full_table(
            "group_members",
            include_str!("../../schemas/group_members.json"),
            &[],
            Source::PerParent(&PerParent {
                parents: &[Parent {
                    stream: "groups",
                    binds: &[("groupName", "/name"), ("groupId", "/groupId")],
                    only: Only::All,
                }],
                endpoint: PerDeployment {
                    cloud: Endpoint {
                        path: "group/member",
                        query: &[("groupId", "{groupId}"), ("includeInactiveUsers", "true")],
                        pagination: VALUES,
                    },
                    server: Endpoint {
                        path: "group/member",
                        query: &[
                            ("groupname", "{groupName}"),
                            ("includeInactiveUsers", "true"),
                        ],
                        pagination: VALUES,
                    },
                },
                stamp: &["groupName", "groupId"],
            }),
        )
    },
    StreamDef {
        // A request per project and role: opt-in.
        selected_by_default: false,
        ..full_table(
            "project_roles",
            include_str!("../../schemas/project_roles.json"),
            &["projectId", "id"],
            Source::PerParent(&PROJECT_ROLE),
        )
    },
    StreamDef {
        selected_by_default: false,
        shape: Shape {
            lift: &[
                ("actorAccountId", "/actorUser/accountId"),
                ("actorGroupName", "/actorGroup/name"),
                ("actorGroupId", "/actorGroup/groupId"),
            ],
            ..Shape::AS_IS
        },
        ..full_table(
            "project_role_actors",
            include_str!("../../schemas/project_role_actors.json"),
            &["projectId", "roleId", "id"],
            Source::PerParent(&PerParent {
                endpoint: PerDeployment::same(endpoint(
                    "project/{projectId}/role/{roleId}",
                    property("actors"),
                )),
                stamp: &["projectId", "roleId"],
                ..PROJECT_ROLE
            }),
        )
    },
    reference(
        "permission_schemes",
        include_str!("../../schemas/permission_schemes.json"),
        &["id"],
        "permissionscheme",
        under("permissionSchemes"),
    ),
    StreamDef {
        shape: HOLDER,
        ..full_table(
            "permission_grants",
            include_str!("../../schemas/permission_grants.json"),
            &["id"],
            Source::PerParent(&PerParent {
                parents: &[Parent {
                    stream: "permission_schemes",
                    binds: &[("schemeId", "/id")],
                    only: Only::All,
                }],
                endpoint: PerDeployment::same(endpoint(
                    "permissionscheme/{schemeId}/permission",
                    under("permissions"),
                )),
                stamp: &["schemeId"],
            }),
        )
    },
    full_table(
        "project_permission_schemes",
        include_str!("../../schemas/project_permission_schemes.json"),
        &["projectId"],
        Source::PerParent(&PerParent {
            parents: &[PROJECTS],
            endpoint: PerDeployment::same(endpoint("project/{projectId}/permissionscheme", ONE)),
            stamp: &["projectId"],
        }),
    ),
    StreamDef {
        needs: ADMIN,
        ..reference(
            "issue_security_schemes",
            include_str!("../../schemas/issue_security_schemes.json"),
            &["id"],
            "issuesecurityschemes",
            under("issueSecuritySchemes"),
        )
    },
    StreamDef {
        needs: ADMIN,
        ..full_table(
            "issue_security_levels",
            include_str!("../../schemas/issue_security_levels.json"),
            &["id"],
            Source::PerParent(&PerParent {
                parents: &[SECURITY_SCHEMES],
                endpoint: PerDeployment::same(endpoint(
                    "issuesecurityschemes/{schemeId}",
                    property("levels"),
                )),
                stamp: &["schemeId"],
            }),
        )
    },
    StreamDef {
        only_on: Some(Deployment::Cloud),
        needs: ADMIN,
        shape: HOLDER,
        ..full_table(
            "issue_security_level_members",
            include_str!("../../schemas/issue_security_level_members.json"),
            &["id"],
            Source::PerParent(&PerParent {
                parents: &[SECURITY_SCHEMES],
                endpoint: PerDeployment::same(Endpoint {
                    path: "issuesecurityschemes/level/member",
                    query: &[("schemeId", "{schemeId}")],
                    pagination: VALUES,
                }),
                stamp: &[],
            }),
        )
    },
    reference(
        "application_roles",
        include_str!("../../schemas/application_roles.json"),
        &["key"],
        "applicationrole",
        ARRAY,
    ),
    StreamDef {
        needs: SOFTWARE,
        ..reference(
            "boards",
            include_str!("../../schemas/boards.json"),
            &["id"],
            "rest/agile/1.0/board",
            VALUES,
        )
    },
    per_board(
        "board_configurations",
        include_str!("../../schemas/board_configurations.json"),
        &["id"],
        &PerParent {
            parents: &[BOARDS],
            endpoint: PerDeployment::same(endpoint(
                "rest/agile/1.0/board/{boardId}/configuration",
                ONE,
            )),
            stamp: &[],
        },
    ),
    StreamDef {
        shape: DEDUPE,
        ..per_board(
            "sprints",
            include_str!("../../schemas/sprints.json"),
            &["id"],
            &PerParent {
                parents: &[BOARDS],
                endpoint: PerDeployment::same(endpoint(
                    "rest/agile/1.0/board/{boardId}/sprint",
                    VALUES,
                )),
                stamp: &[],
            },
        )
    },
    StreamDef {
        shape: ISSUE_MEMBERSHIP,
        // A request per sprint: opt-in.
        selected_by_default: false,
        ..per_board(
            "sprint_issues",
            include_str!("../../schemas/sprint_issues.json"),
            &["sprintId", "issueId"],
            &PerParent {
                parents: &[Parent {
                    stream: "sprints",
                    binds: &[("sprintId", "/id")],
                    only: Only::All,
                }],
                endpoint: PerDeployment::same(AGILE_ISSUES_OF_SPRINT),
                stamp: &["sprintId"],
            },
        )
    },
    StreamDef {
        shape: ISSUE_MEMBERSHIP,
        selected_by_default: false,
        ..per_board(
            "board_issues",
            include_str!("../../schemas/board_issues.json"),
            &["boardId", "issueId"],
            &PerParent {
                parents: &[BOARDS],
                endpoint: PerDeployment::same(AGILE_ISSUES_OF_BOARD),
                stamp: &["boardId"],
            },
        )
    },
    StreamDef {
        shape: DEDUPE,
        ..per_board(
            "epics",
            include_str!("../../schemas/epics.json"),
            &["id"],
            &PerParent {
                parents: &[BOARDS],
                endpoint: PerDeployment::same(endpoint(
                    "rest/agile/1.0/board/{boardId}/epic",
                    VALUES,
                )),
                stamp: &[],
            },
        )
    },
    StreamDef {
        name: "audit_records",
        schema: include_str!("../../schemas/audit_records.json"),
        keys: Keys::Same(&["id"]),
        replication: Replication::Incremental { key: "created" },
        source: Source::Since {
            endpoint: PerDeployment::same(AUDIT_LOG),
            param: "from",
        },
        only_on: None,
        // Administrators only: opt-in.
        selected_by_default: false,
        shape: Shape::AS_IS,
        needs: ADMIN,
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

    /// The names a stream's requests may bind: those its parents (and theirs) give.
    fn bound_names(source: &Source) -> Vec<&'static str> {
        match source {
            Source::PerParent(per) => per
                .parents
                .iter()
                .flat_map(|parent| {
                    let grandparents = StreamDef::find(parent.stream)
                        .map(|p| bound_names(&p.source))
                        .unwrap_or_default();
                    grandparents
                        .into_iter()
                        .chain(parent.binds.iter().map(|(name, _)| *name))
                })
                .collect(),
            Source::IssueChild { .. } => vec!["issueId"],
            _ => vec![],
        }
    }

    fn texts(source: &Source) -> Vec<&'static str> {
        let all = |e: &PerDeployment<Endpoint>| {
            [e.cloud, e.server]
                .into_iter()
                .flat_map(|e| std::iter::once(e.path).chain(e.query.iter().map(|(_, v)| *v)))
                .collect()
        };
        match source {
            Source::Endpoint(e) | Source::Since { endpoint: e, .. } => all(e),
            Source::PerParent(per) => all(&per.endpoint),
            Source::IssueChild { list, .. } => {
                list.rest.map(|r| all(&r.endpoint)).unwrap_or_default()
            }
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
            assert_eq!(
                matches!(
                    stream.source,
                    Source::IssueSearch | Source::WorklogUpdates | Source::Since { .. }
                ),
                matches!(stream.replication, Replication::Incremental { .. }),
                "{}: incremental sources, and only those, replicate incrementally",
                stream.name
            );
            let bound = bound_names(&stream.source);
            for text in texts(&stream.source) {
                for name in placeholders(text) {
                    assert!(
                        bound.contains(&name),
                        "{}: {text} binds {{{name}}}, which its parent does not give",
                        stream.name
                    );
                }
            }
            if let Source::PerParent(per) = stream.source {
                for name in per.stamp {
                    assert!(
                        bound.contains(name),
                        "{}: stamps unbound {name}",
                        stream.name
                    );
                    assert!(
                        properties.contains_key(*name),
                        "{}: stamped {name} not in schema",
                        stream.name
                    );
                }
                match per.parents[0].only {
                    Only::All => {}
                    Only::True(name) | Only::NotTrue(name) | Only::EndsWith(name, _) => assert!(
                        bound.contains(&name),
                        "{}: filters on unbound {name}",
                        stream.name
                    ),
                }
            }
            for (name, _) in stream.shape.pick.iter().chain(stream.shape.lift) {
                assert!(
                    properties.contains_key(*name),
                    "{}: {name} not in schema",
                    stream.name
                );
            }
            // Siblings bind a name from the same place in their parent's records.
            let binds = stream.child_binds();
            for (name, pointer) in &binds {
                assert!(
                    binds.iter().all(|(n, p)| n != name || p == pointer),
                    "{}: children bind {name} differently",
                    stream.name
                );
            }
            assert_eq!(
                StreamDef::find(stream.name).map(|s| s.name),
                Some(stream.name),
                "stream names are unique"
            );
        }
    }

    #[test]
    fn the_readme_stream_table_lists_every_stream_with_its_keys_and_replication() {
        let readme = include_str!("../../README.md");
        let (_, streams_section) = readme
            .split_once("## Streams")
            .expect("README.md has a Streams section");
        for stream in STREAMS {
            let row = streams_section
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
            let replication = match stream.replication {
                Replication::Full => "full table".to_string(),
                Replication::Incremental { key } => format!("incremental on `{key}`"),
                Replication::WithParent => "with its issue".to_string(),
            };
            assert_eq!(
                row.split('|').nth(4).map(str::trim),
                Some(replication.as_str()),
                "README row of {}: its replication",
                stream.name
            );
        }
        // And no row names a stream the tap does not have (rows of other tables there name a
        // setting's values: `deleted_issues`' table).
        for row in streams_section
            .lines()
            .filter(|line| line.starts_with("| `"))
        {
            let name = row.split('`').nth(1).unwrap_or_default();
            let other_table = ["deleted_issues", "audit", "reconcile", "off"].contains(&name);
            assert!(
                other_table || StreamDef::find(name).is_some(),
                "README's stream table has a row for {name}, which is no stream"
            );
        }
    }
}
