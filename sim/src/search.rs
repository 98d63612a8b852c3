//! Issue search over the site: each query runs once per site version and later pages read the
//! cached, ordered result, by page token on Cloud (`/search/jql`) or by offset on Server.

use std::cmp::Ordering;
use std::collections::VecDeque;
use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE;
use serde::{Deserialize, Serialize};

use crate::jql::{Plan, SortRow};
use crate::site::Site;

/// How many distinct queries keep their results.
const CACHED_QUERIES: usize = 16;

struct Cached {
    jql: String,
    version: u64,
    hits: Arc<Vec<u32>>,
}

/// Ordered results of recent queries, dropped when the site changes.
#[derive(Default)]
pub(crate) struct ResultCache {
    entries: VecDeque<Cached>,
}

impl ResultCache {
    pub fn get(&mut self, jql: &str, version: u64) -> Option<Arc<Vec<u32>>> {
        self.entries.retain(|e| e.version == version);
        let position = self.entries.iter().position(|e| e.jql == jql)?;
        let entry = self.entries.remove(position)?;
        let hits = entry.hits.clone();
        self.entries.push_front(entry);
        Some(hits)
    }

    pub fn put(&mut self, jql: &str, version: u64, hits: Arc<Vec<u32>>) {
        self.entries.retain(|e| e.jql != jql);
        self.entries.push_front(Cached {
            jql: jql.to_string(),
            version,
            hits,
        });
        self.entries.truncate(CACHED_QUERIES);
    }
}

/// Where the previous page ended, in sort-key terms (Jira's tokens hold the last sort values).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct LastRow {
    pub updated: i64,
    pub created: i64,
    pub key: String,
    pub id: u64,
}

impl LastRow {
    pub fn of(site: &Site, index: usize) -> LastRow {
        let issue = &site.issues[index];
        LastRow {
            updated: issue.updated,
            created: issue.created,
            key: site.issue_key(index),
            id: issue.id,
        }
    }

    fn sort_row(&self) -> SortRow<'_> {
        let (project_key, number) = self.key.rsplit_once('-').unwrap_or((&self.key, "0"));
        SortRow {
            updated: self.updated,
            created: self.created,
            project_key,
            number: number.parse().unwrap_or(0),
            id: self.id,
        }
    }
}

/// The content of a `nextPageToken`: the query it belongs to and where the last page ended.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct PageToken {
    pub jql: String,
    pub last: LastRow,
    /// Issues returned so far, for the curious.
    pub seen: u64,
}

impl PageToken {
    /// URL-safe base64 with `=` padding, as Jira's tokens are.
    pub fn encode(&self) -> String {
        URL_SAFE.encode(serde_json::to_vec(self).unwrap_or_default())
    }

    pub fn decode(text: &str) -> Option<PageToken> {
        let bytes = URL_SAFE
            .decode(text.trim())
            .or_else(|_| base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(text.trim()))
            .ok()?;
        serde_json::from_slice(&bytes).ok()
    }
}

/// The ordered hits of `plan`, from the cache when the site has not changed since.
pub(crate) fn hits(
    cache: &std::sync::Mutex<ResultCache>,
    jql: &str,
    site: &Site,
    plan: &Plan,
) -> Arc<Vec<u32>> {
    let cached = cache.lock().ok().and_then(|mut c| c.get(jql, site.version));
    if let Some(hits) = cached {
        return hits;
    }
    let hits = Arc::new(plan.run(site));
    if let Ok(mut c) = cache.lock() {
        c.put(jql, site.version, hits.clone());
    }
    hits
}

/// The position right after `last` in `hits`: keyset paging, so issues that moved (touched
/// during the sync) are seen again at their new place instead of shifting others out.
pub(crate) fn position_after(hits: &[u32], site: &Site, plan: &Plan, last: &LastRow) -> usize {
    let last = last.sort_row();
    hits.partition_point(|&i| {
        plan.compare(&SortRow::of(site, i as usize), &last) != Ordering::Greater
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::SimConfig;
    use crate::jql;

    #[test]
    fn tokens_round_trip_and_reject_garbage() {
        let token = PageToken {
            jql: "project = WEB ORDER BY updated".into(),
            last: LastRow {
                updated: 1,
                created: 0,
                key: "WEB-1".into(),
                id: 10000,
            },
            seen: 50,
        };
        let text = token.encode();
        assert!(
            text.chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_=".contains(c))
        );
        assert_eq!(PageToken::decode(&text), Some(token));
        assert_eq!(PageToken::decode("not a token"), None);
    }

    #[test]
    fn keyset_paging_visits_every_issue_once_even_with_ties() {
        let site = Site::generate(&SimConfig {
            issues_per_project: 60,
            ..SimConfig::default()
        });
        let query = jql::parse("updated >= 0 ORDER BY updated ASC", site.tz).unwrap();
        let plan = jql::bind(&query, &site).unwrap();
        let cache = std::sync::Mutex::new(ResultCache::default());
        let all = hits(&cache, "q", &site, &plan);
        let mut seen: Vec<u32> = Vec::new();
        let mut start = 0;
        while start < all.len() {
            let page: Vec<u32> = all[start..].iter().take(7).copied().collect();
            seen.extend(&page);
            let last = LastRow::of(&site, *page.last().unwrap() as usize);
            start = position_after(&all, &site, &plan, &last);
        }
        assert_eq!(seen.len(), site.issues.len());
        let ties = all
            .windows(2)
            .filter(|w| site.issues[w[0] as usize].updated == site.issues[w[1] as usize].updated);
        assert!(ties.count() >= 1, "the generated site has updated ties");
    }
}
