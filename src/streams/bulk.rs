//! Lists of many issues in one request: Cloud's `POST /changelog/bulkfetch` gives the changelogs
//! of up to 1000 issues, paged by `nextPageToken` across their histories, so a page of issues
//! whose embedded changelogs were cut short costs one request instead of one (or more) each.

use std::collections::HashMap;
use std::pin::pin;

use futures::{Stream, TryStreamExt};

use serde_json::{Value, json};

use crate::client::{
    ApiRequest, JiraClient, List, Progress, RawRecord, fingerprint, read_page, split_record,
};
use crate::config::Deployment;
use crate::error::{Error, Result};
use crate::streams::id_text;

/// A bulk endpoint for one of an issue's lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bulk {
    /// Cloud's `POST changelog/bulkfetch`.
    CloudChangelogs,
}

/// One issue's part of a bulk page; its histories stay JSON text, slices of the page.
struct IssueChangelog {
    issue_id: Value,
    histories: List<RawRecord>,
}

impl IssueChangelog {
    fn of(record: &RawRecord) -> serde_json::Result<IssueChangelog> {
        let (rest, histories) = split_record(record, "changeHistories")?;
        Ok(IssueChangelog {
            issue_id: rest.get("issueId").cloned().unwrap_or_default(),
            histories,
        })
    }
}

/// Most issues one bulk request takes.
const MAX_ISSUES: usize = 1000;
/// Histories asked for per page (Jira's default; it caps at 10,000).
const PAGE_SIZE: u32 = 1000;

impl Bulk {
    pub fn available_on(self, deployment: Deployment) -> bool {
        match self {
            Bulk::CloudChangelogs => deployment == Deployment::Cloud,
        }
    }

    /// Every list item of these issues, by issue id.
    pub async fn fetch(
        self,
        client: &JiraClient,
        issue_ids: &[String],
    ) -> Result<HashMap<String, Vec<RawRecord>>> {
        let mut lists: HashMap<String, Vec<RawRecord>> = HashMap::new();
        let mut pages = pin!(self.pages(client, issue_ids.to_vec()));
        while let Some(page) = pages.try_next().await? {
            for (id, items) in page {
                // One issue's histories may continue on the next page.
                lists.entry(id).or_default().extend(items);
            }
        }
        Ok(lists)
    }

    /// The list items of these issues a page at a time, each page's by issue id (an issue's list
    /// may go on over several pages).
    pub fn pages(
        self,
        client: &JiraClient,
        issue_ids: Vec<String>,
    ) -> impl Stream<Item = Result<Vec<(String, Vec<RawRecord>)>>> + '_ {
        let path = client.api_path("changelog/bulkfetch");
        async_stream::try_stream! {
            for batch in issue_ids.chunks(MAX_ISSUES) {
                let mut token: Option<String> = None;
                let mut progress = Progress::default();
                loop {
                    let mut body = json!({"issueIdsOrKeys": batch, "maxResults": PAGE_SIZE});
                    if let Some(token) = &token {
                        body["nextPageToken"] = json!(token);
                    }
                    let (page, records) = read_page::<RawRecord>(
                        client,
                        ApiRequest::post(path.clone(), body),
                        Some("issueChangeLogs"),
                    )
                    .await?;
                    let changelogs = records
                        .iter()
                        .map(IssueChangelog::of)
                        .collect::<serde_json::Result<Vec<_>>>()
                        .map_err(|e| Error::Shape {
                            url: path.clone(),
                            problem: format!("an issue's changelog could not be read: {e}"),
                        })?;
                    token = page
                        .get("nextPageToken")
                        .and_then(Value::as_str)
                        .filter(|t| !t.is_empty())
                        .map(String::from);
                    let histories = changelogs.iter().flat_map(|c| match &c.histories {
                        List::Items(items) => items.as_slice(),
                        _ => &[],
                    });
                    let page_print = fingerprint(histories.map(RawRecord::get));
                    // A repeated page's histories are in already.
                    if progress.judge(page_print, token.is_some(), &path)? {
                        yield changelogs
                            .into_iter()
                            .filter_map(|changelog| match changelog.histories {
                                List::Items(histories) => {
                                    Some((id_text(&changelog.issue_id)?, histories))
                                }
                                _ => None,
                            })
                            .collect();
                    }
                    match &token {
                        None => break,
                        Some(t) => progress.next_token(t, &path)?,
                    }
                }
            }
        }
    }
}
