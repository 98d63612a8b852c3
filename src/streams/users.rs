//! The `users` stream's source: every user of the site, or, when `groups` is configured (Stitch's
//! behaviour), the members of those groups, each user once.

use std::collections::HashSet;

use futures::{Stream, TryStreamExt};
use serde_json::Value;

use crate::client::{ApiRequest, JiraClient, Page, Pagination, pages};
use crate::config::Deployment;
use crate::error::{Error, Result};

/// The most users `/user/search` gives, whatever `startAt` and `maxResults` say: its first 1000
/// on Server and Data Center up to 8.5 at least (JRASERVER-65089), its first 100 on Data Center
/// 10 (JRASERVER-78520). A listing of exactly that many may lack users.
const USER_SEARCH_CAPS: [usize; 2] = [100, 1000];

/// Whether a Server/Data Center site of `version` may have `/user/list`, which lists every user
/// (Data Center 10.3 and 11 on). A site whose version was not read (`deployment` set in config)
/// is asked too: older ones answer 404.
fn may_list_users(version: Option<(u64, u64)>) -> bool {
    version.is_none_or(|version| version >= (10, 3))
}

pub fn user_pages<'a>(
    client: &'a JiraClient,
    groups: Option<&'a [String]>,
    page_size: u32,
) -> impl Stream<Item = Result<Page<Value>>> + 'a {
    async_stream::try_stream! {
        match groups {
            None => {
                // `/user/list` pages through every user by a cursor; where it is missing (404:
                // it gives none otherwise, not even for a cursor it never gave), only the
                // capped `/user/search` is left.
                let mut listed_all = false;
                if client.deployment() == Deployment::Server && may_list_users(client.version()) {
                    let request = ApiRequest::get(client.api_path("user/list"));
                    let mut all = std::pin::pin!(pages(client, request, Pagination::Cursor { items: "values" }, page_size.max(100)));
                    let mut read = false;
                    loop {
                        match all.try_next().await {
                            Ok(Some(page)) => {
                                read = true;
                                yield page;
                            }
                            Ok(None) => {
                                listed_all = true;
                                break;
                            }
                            Err(Error::Http { status: 404, .. }) if !read => {
                                tracing::info!("/user/list is not there (Data Center before 10.3): users are read through /user/search");
                                break;
                            }
                            Err(e) => Err(e)?,
                        }
                    }
                }
                if listed_all {
                    return;
                }
                let request = match client.deployment() {
                    Deployment::Cloud => ApiRequest::get(client.api_path("users/search")),
                    // Before 10.3, Server/DC lists users only through a search; "." matches every
                    // user name.
                    Deployment::Server => ApiRequest::get(client.api_path("user/search"))
                        .query("username", ".")
                        .query("includeInactive", "true"),
                };
                let mut all = std::pin::pin!(pages(client, request, Pagination::Offset { items: None }, page_size.max(100)));
                let mut listed = 0;
                while let Some(page) = all.try_next().await? {
                    listed += page.items.len();
                    yield page;
                }
                if client.deployment() == Deployment::Server && USER_SEARCH_CAPS.contains(&listed) {
                    tracing::warn!(
                        "/user/search listed {listed} users, the most Jira Server and Data Center \
                         list whatever the paging (1000; 100 on Data Center 10): the site may \
                         have more, so the pass is not activated; set `groups` to read the \
                         users by group membership, which is paged without that limit"
                    );
                    // The pass may lack users: it must not be activated.
                    yield Page { items: Vec::new(), cut_short: true };
                }
            }
            Some(groups) => {
                let key = match client.deployment() {
                    Deployment::Cloud => "accountId",
                    Deployment::Server => "key",
                };
                let mut seen: HashSet<String> = HashSet::new();
                for group in groups {
                    let request = ApiRequest::get(client.api_path("group/member"))
                        .query("groupname", group.as_str())
                        .query("includeInactiveUsers", "true");
                    let members = pages::<Value>(client, request, Pagination::Offset { items: Some("values") }, page_size.min(50));
                    let mut members = std::pin::pin!(members);
                    loop {
                        let page = match members.try_next().await {
                            Ok(Some(page)) => page,
                            Ok(None) => break,
                            Err(Error::Http { status: 404, .. }) => {
                                tracing::warn!(group = %group, "group not found; its members are skipped");
                                break;
                            }
                            Err(e) => Err(e)?,
                        };
                        let cut_short = page.cut_short;
                        let items: Vec<Value> = page
                            .items
                            .into_iter()
                            .filter(|user| match user.get(key).and_then(Value::as_str) {
                                Some(id) => seen.insert(id.to_string()),
                                None => true,
                            })
                            .collect();
                        yield Page { items, cut_short };
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_list_is_asked_from_data_center_10_3_or_when_the_version_is_unknown() {
        assert!(may_list_users(Some((10, 3))));
        assert!(may_list_users(Some((11, 0))));
        assert!(may_list_users(None));
        assert!(!may_list_users(Some((10, 2))));
        assert!(!may_list_users(Some((9, 12))));
    }
}
