//! The stream table: one plain entry per stream, in discover order. Adding a stream touches this
//! table, one schema file and a test.

pub mod issues;
pub mod users;

use crate::client::Pagination;
use crate::config::Deployment;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Replication {
    Full,
    Incremental { key: &'static str },
}

/// Primary keys; users are keyed differently on Cloud (`accountId`) and Server/DC (`key`).
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

/// One API endpoint, under `rest/api/{2|3}/`.
#[derive(Debug, Clone, Copy)]
pub struct Endpoint {
    pub path: &'static str,
    pub query: &'static [(&'static str, &'static str)],
    pub pagination: Pagination,
}

/// Where a stream's records come from.
#[derive(Debug, Clone, Copy)]
pub enum Source {
    /// A plain endpoint, which may differ per deployment.
    Endpoint { cloud: Endpoint, server: Endpoint },
    /// Every user of the site, or the members of the configured groups.
    Users,
    /// JQL search, incremental on `updated`.
    IssueSearch,
}

impl Source {
    /// The endpoint this deployment reads, for plain endpoint streams.
    pub fn endpoint(&self, deployment: Deployment) -> Option<Endpoint> {
        match (self, deployment) {
            (Source::Endpoint { cloud, .. }, Deployment::Cloud) => Some(*cloud),
            (Source::Endpoint { server, .. }, Deployment::Server) => Some(*server),
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
}

impl StreamDef {
    pub fn find(name: &str) -> Option<&'static StreamDef> {
        STREAMS.iter().find(|s| s.name == name)
    }
}

pub static STREAMS: &[StreamDef] = &[
    StreamDef {
        name: "projects",
        schema: include_str!("../../schemas/projects.json"),
        keys: Keys::Same(&["id"]),
        replication: Replication::Full,
        source: Source::Endpoint {
            cloud: Endpoint {
                path: "project/search",
                query: &[(
                    "expand",
                    "description,lead,issueTypes,url,projectKeys,insight",
                )],
                pagination: Pagination::Offset {
                    items: Some("values"),
                },
            },
            server: Endpoint {
                path: "project",
                query: &[("expand", "description,lead,url,projectKeys")],
                pagination: Pagination::Single { items: None },
            },
        },
    },
    StreamDef {
        name: "fields",
        schema: include_str!("../../schemas/fields.json"),
        keys: Keys::Same(&["id"]),
        replication: Replication::Full,
        source: Source::Endpoint {
            cloud: FIELDS_ENDPOINT,
            server: FIELDS_ENDPOINT,
        },
    },
    StreamDef {
        name: "users",
        schema: include_str!("../../schemas/users.json"),
        keys: Keys::PerDeployment {
            cloud: &["accountId"],
            server: &["key"],
        },
        replication: Replication::Full,
        source: Source::Users,
    },
    StreamDef {
        name: "issues",
        schema: include_str!("../../schemas/issues.json"),
        keys: Keys::Same(&["id"]),
        replication: Replication::Incremental { key: "updated" },
        source: Source::IssueSearch,
    },
];

pub const FIELDS_ENDPOINT: Endpoint = Endpoint {
    path: "field",
    query: &[],
    pagination: Pagination::Single { items: None },
};

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    #[test]
    fn every_stream_is_consistent_with_its_schema() {
        for stream in STREAMS {
            let schema: Value = serde_json::from_str(stream.schema)
                .unwrap_or_else(|e| panic!("{}: schema is not JSON: {e}", stream.name));
            let properties = schema["properties"]
                .as_object()
                .expect("schema has properties");
            for deployment in [Deployment::Cloud, Deployment::Server] {
                for key in stream.keys.for_deployment(deployment) {
                    assert!(
                        properties.contains_key(*key),
                        "{}: key {key} not in schema",
                        stream.name
                    );
                }
            }
            if let Replication::Incremental { key } = stream.replication {
                assert!(
                    properties.contains_key(key),
                    "{}: replication key {key} not in schema",
                    stream.name
                );
            }
            assert_eq!(
                StreamDef::find(stream.name).map(|s| s.name),
                Some(stream.name)
            );
        }
    }
}
