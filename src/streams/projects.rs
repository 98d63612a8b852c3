//! Which projects the filters name, as Jira resolves a key: a project whose key was changed is
//! still named by its old one (`project/{key}` and JQL answer for it), while lists show its new
//! key. Projects are told apart by id, each key asked about once a run.

use std::cell::RefCell;
use std::collections::HashMap;
use std::pin::pin;

use futures::TryStreamExt;
use serde_json::Value;

use super::PROJECT_IDS_ENDPOINT;
use crate::client::{ApiRequest, JiraClient, pages};
use crate::error::{Error, Result};
use crate::filters::{Filters, is_project_key};

/// Projects listed per request, looking for one by its name.
const PROJECT_PAGE_SIZE: u32 = 100;

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
        Err(e) if e.is_not_shown() => Ok(None),
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

    /// Stops the run, before anything is written, when a project filter names a project Jira
    /// does not resolve by key or id. JQL takes a project's name too: a name (one word passes
    /// for a key) would narrow the issues and not the project streams. And a project Jira does
    /// not know makes it refuse every search, which is better said of the setting than of
    /// the search.
    pub async fn check_filters(&self, client: &JiraClient, filters: &Filters) -> Result<()> {
        for (setting, keys) in [
            ("projects", &filters.projects),
            ("exclude_projects", &filters.exclude_projects),
        ] {
            for key in keys {
                if self.id(client, key).await?.is_none() {
                    return Err(unresolved(client, setting, key).await?);
                }
            }
        }
        Ok(())
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

/// Why `text` of the filter `setting` names no project: it is a project's name (found in the
/// project list, as JQL would find it), or names none the account may browse.
async fn unresolved(client: &JiraClient, setting: &str, text: &str) -> Result<Error> {
    let (request, pagination) = PROJECT_IDS_ENDPOINT.on(client.deployment()).unbound(client);
    let mut listed = pin!(pages::<Value>(
        client,
        request,
        pagination,
        PROJECT_PAGE_SIZE
    ));
    while let Some(page) = listed.try_next().await? {
        let named = page.items.iter().find(|project| {
            project
                .get("name")
                .and_then(Value::as_str)
                .is_some_and(|name| name.trim().to_lowercase() == text.to_lowercase())
        });
        if let Some(project) = named {
            let key = project.get("key").and_then(Value::as_str).unwrap_or("");
            let name = project.get("name").and_then(Value::as_str).unwrap_or("");
            return Ok(Error::config(
                setting,
                format!(
                    "`{text}` is the name of project {key} (\"{}\"), not a key",
                    name.trim()
                ),
                format!("name projects by key or id, here \"{key}\""),
            ));
        }
    }
    Ok(Error::config(
        setting,
        format!("Jira knows no project `{text}`, by key or id, that this account may browse"),
        "check the key, which begins each of its issues' keys, and the account's Browse \
         projects permission; remove a project that was deleted",
    ))
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
