//! Which projects the filters name, as Jira resolves a key: a project whose key was changed is
//! still named by its old one (`project/{key}` and JQL answer for it), while lists show its new
//! key. Projects are told apart by id, each key asked about once a run.

use std::cell::RefCell;
use std::collections::HashMap;

use crate::client::{ApiRequest, JiraClient};
use crate::error::{Error, Result};
use crate::filters::{Filters, is_project_key};

/// The id of the project a key names, as Jira resolves it: its current key, or one it had before
/// it was renamed. `None` when Jira knows no such project (deleted, or hidden from the account),
/// or the text cannot be a project key.
pub async fn project_id(client: &JiraClient, key: &str) -> Result<Option<String>> {
    if !is_project_key(key) {
        return Ok(None);
    }
    let request = ApiRequest::get(client.api_path(&format!("project/{key}")));
    match client.send_json(request).await {
        Ok(project) => Ok(project.get("id").and_then(super::id_text)),
        Err(Error::Http {
            status: 403 | 404, ..
        }) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Project ids by key, for a run: each key is asked about once.
#[derive(Debug, Default)]
pub struct ProjectIds(RefCell<HashMap<String, Option<String>>>);

impl ProjectIds {
    pub async fn id(&self, client: &JiraClient, key: &str) -> Result<Option<String>> {
        let key = key.to_ascii_uppercase();
        if let Some(id) = self.0.borrow().get(&key) {
            return Ok(id.clone());
        }
        let id = project_id(client, &key).await?;
        self.0.borrow_mut().insert(key, id.clone());
        Ok(id)
    }

    /// The projects `filters` keep, their keys resolved to ids.
    pub async fn kept(&self, client: &JiraClient, filters: &Filters) -> Result<KeptProjects> {
        Ok(KeptProjects {
            projects: self.named(client, &filters.projects).await?,
            excluded: self.named(client, &filters.exclude_projects).await?,
        })
    }

    async fn named(&self, client: &JiraClient, keys: &[String]) -> Result<Named> {
        let mut ids = Vec::with_capacity(keys.len());
        for key in keys {
            ids.extend(self.id(client, key).await?);
        }
        Ok(Named {
            keys: keys.to_vec(),
            ids,
        })
    }
}

/// The projects the filters keep: by id, or by current key for a key Jira did not resolve.
#[derive(Debug)]
pub struct KeptProjects {
    /// All when it names none.
    projects: Named,
    excluded: Named,
}

#[derive(Debug)]
struct Named {
    /// Upper-cased, as the filters hold them.
    keys: Vec<String>,
    ids: Vec<String>,
}

impl Named {
    fn names(&self, id: Option<&str>, key: &str) -> bool {
        id.is_some_and(|id| self.ids.iter().any(|i| i == id))
            || self.keys.contains(&key.to_ascii_uppercase())
    }
}

impl KeptProjects {
    /// Whether the project with this id (when known) and current key is synced.
    pub fn keeps(&self, id: Option<&str>, key: &str) -> bool {
        (self.projects.keys.is_empty() || self.projects.names(id, key))
            && !self.excluded.names(id, key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn named(keys: &[&str], ids: &[&str]) -> Named {
        Named {
            keys: keys.iter().map(|k| k.to_string()).collect(),
            ids: ids.iter().map(|i| i.to_string()).collect(),
        }
    }

    #[test]
    fn a_project_is_named_by_its_id_or_by_its_current_key() {
        // WEB and OPS resolved; OPS is now PLAT. NOPE named no project Jira knows.
        let kept = KeptProjects {
            projects: named(&["WEB", "OPS", "NOPE"], &["1", "2"]),
            excluded: named(&["OPS"], &["2"]),
        };
        assert!(kept.keeps(Some("1"), "web"));
        assert!(!kept.keeps(Some("2"), "PLAT"), "excluded by its old key");
        assert!(kept.keeps(None, "nope"));
        assert!(!kept.keeps(Some("3"), "HR"));
        let all = KeptProjects {
            projects: named(&[], &[]),
            excluded: named(&["OPS"], &["2"]),
        };
        assert!(all.keeps(Some("3"), "HR") && !all.keeps(Some("2"), "PLAT"));
    }
}
