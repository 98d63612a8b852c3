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

/// The first characters of the username prefixes searched: a username starting with another
/// (`.`, `_`, ...) is read only where one of these prefixes finds it by its email or display
/// name, for `.` and `_` alone match every user (JRA-29069).
const FIRST_CHARACTERS: &str = "abcdefghijklmnopqrstuvwxyz0123456789";

/// The characters a prefix that reached the cap is extended by: those of Data Center usernames,
/// beside any the capped page's usernames show next.
const NEXT_CHARACTERS: &str = "abcdefghijklmnopqrstuvwxyz0123456789._-@";

/// Longer prefixes are not searched (Jira's usernames have 255 characters at most).
const MAX_PREFIX: usize = 255;

/// Searches one pass may make: a site of 100,000 users on Data Center 10.0 needs some 50,000
/// (40 for each prefix that reaches the cap of 100). A server that answers a longer prefix with
/// as many users as the shorter one, in a way `explains` cannot tell, would otherwise be
/// searched without end.
const MAX_SEARCHES: usize = 100_000;

/// Whether `/user/search` listing `listed` users stopped at its cap on a site of `version`
/// (either cap where the version was not read).
fn reached_cap(version: Option<(u64, u64)>, listed: usize) -> bool {
    match version {
        Some(version) if version >= (10, 0) => listed >= USER_SEARCH_CAPS[0],
        Some(_) => listed >= USER_SEARCH_CAPS[1],
        None => USER_SEARCH_CAPS.contains(&listed) || listed > USER_SEARCH_CAPS[1],
    }
}

/// Whether Jira's `/user/search?username=` could have listed `user` for `prefix`: its name,
/// display name or email (where shown), or a word of one of them, starts with the prefix's
/// letters and digits before any other character (whatever Jira makes of a `.`, `_` or `@` in
/// the query). A server whose capped page holds a user it cannot explain does not search as
/// Jira does, and narrowing the prefix would not narrow its answer.
fn explains(user: &Value, prefix: &str) -> bool {
    let core: String = prefix.chars().take_while(|c| c.is_alphanumeric()).collect();
    if core.is_empty() {
        return true;
    }
    ["name", "displayName", "emailAddress"]
        .iter()
        .filter_map(|field| user.get(field).and_then(Value::as_str))
        .any(|part| {
            let part = part.to_lowercase();
            part.starts_with(&core)
                || part
                    .split(|c: char| !c.is_alphanumeric())
                    .any(|word| word.starts_with(&core))
        })
}

/// Every user of a Server / Data Center site without `/user/list`, each once. `/user/search`
/// lists only its first 1000 matches (100 on Data Center 10.0 to 10.2): where `.` (every user)
/// reaches that cap, users are searched by username prefix, `a` to `z` and `0` to `9`, and a
/// prefix that reaches the cap is searched again one character longer (with the user whose name
/// is the prefix itself looked up), until no search reaches it (Atlassian's workaround,
/// JRASERVER-78660). A user matches several prefixes (Jira matches names, emails and display
/// names): the keys seen are kept to write each once.
fn users_by_prefix(
    client: &JiraClient,
    page_size: u32,
) -> impl Stream<Item = Result<Page<Value>>> + '_ {
    async_stream::try_stream! {
        let mut seen: HashSet<String> = HashSet::new();
        let mut first_seen = |user: &Value| match user.get("key").and_then(Value::as_str) {
            Some(key) => seen.insert(key.to_string()),
            None => true,
        };
        // Searched depth first, in order: the stack holds at most NEXT_CHARACTERS prefixes a
        // level. `.` matches every user: a site within the cap is read in one search.
        let mut prefixes: Vec<String> = vec![".".to_string()];
        let mut searches = 0usize;
        while let Some(prefix) = prefixes.pop() {
            let request = ApiRequest::get(client.api_path("user/search"))
                .query("username", prefix.as_str())
                .query("includeInactive", "true");
            let mut found = std::pin::pin!(pages(client, request, Pagination::Offset { items: None }, page_size.max(100)));
            searches += 1;
            let mut listed = 0;
            let mut unexplained = false;
            let mut has_itself = false;
            let mut next: Vec<char> = NEXT_CHARACTERS.chars().collect();
            while let Some(page) = found.try_next().await? {
                listed += page.items.len();
                for user in &page.items {
                    unexplained |= !explains(user, &prefix);
                    let name = user.get("name").and_then(Value::as_str).unwrap_or_default().to_lowercase();
                    has_itself |= name == prefix;
                    // A character of usernames beyond NEXT_CHARACTERS, where the page shows one.
                    if let Some(c) = name.strip_prefix(prefix.as_str()).and_then(|rest| rest.chars().next())
                        && !next.contains(&c)
                    {
                        next.push(c);
                    }
                }
                let items: Vec<Value> = page.items.into_iter().filter(|user| first_seen(user)).collect();
                yield Page { items, cut_short: page.cut_short };
            }
            if !reached_cap(client.version(), listed) {
                continue;
            }
            if unexplained || prefix.chars().count() >= MAX_PREFIX || searches >= MAX_SEARCHES {
                tracing::warn!(
                    "/user/search listed {listed} users for `{prefix}`, the most Jira Server and \
                     Data Center list whatever the paging (1000; 100 on Data Center 10), and \
                     longer prefixes cannot narrow it (after {searches} searches): the site may \
                     have more users, so the pass \
                     is not activated; set `groups` to read the users by group membership, \
                     which is paged without that limit"
                );
                // The pass may lack users: it must not be activated.
                yield Page { items: Vec::new(), cut_short: true };
                return;
            }
            if prefix == "." {
                prefixes.extend(FIRST_CHARACTERS.chars().rev().map(String::from));
                continue;
            }
            // Longer prefixes do not find the user whose name is the prefix itself.
            if !has_itself {
                let request = ApiRequest::get(client.api_path("user")).query("username", prefix.as_str());
                match client.send_json(request).await {
                    Ok(user) if user.is_object() => {
                        let items: Vec<Value> = Some(user).into_iter().filter(|user| first_seen(user)).collect();
                        yield Page { items, cut_short: false };
                    }
                    Ok(_) | Err(Error::Http { status: 404, .. }) => {}
                    Err(e) => Err(e)?,
                }
            }
            prefixes.extend(next.into_iter().rev().map(|c| format!("{prefix}{c}")));
        }
        if searches > 1 {
            tracing::info!(
                "users read through {searches} searches of /user/search by username prefix \
                 (Data Center before 10.3 lists at most 1000 users a search, 100 on 10.0 to 10.2)"
            );
        }
    }
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
                if client.deployment() == Deployment::Server {
                    let mut by_prefix = std::pin::pin!(users_by_prefix(client, page_size));
                    while let Some(page) = by_prefix.try_next().await? {
                        yield page;
                    }
                    return;
                }
                let request = ApiRequest::get(client.api_path("users/search"));
                let mut all = std::pin::pin!(pages(client, request, Pagination::Offset { items: None }, page_size.max(100)));
                while let Some(page) = all.try_next().await? {
                    yield page;
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

    #[test]
    fn a_search_reached_the_cap_of_its_version() {
        assert!(reached_cap(Some((10, 0)), 100));
        assert!(!reached_cap(Some((9, 12)), 100));
        assert!(reached_cap(Some((9, 12)), 1000));
        assert!(reached_cap(None, 100));
        assert!(!reached_cap(None, 99));
        assert!(reached_cap(None, 1000));
    }

    #[test]
    fn a_listed_user_is_explained_by_a_word_of_its_name_display_name_or_email() {
        let user = serde_json::json!({"name": "john.smith7", "displayName": "John Smith",
                                      "emailAddress": "jsmith@example.com"});
        for prefix in ["jo", "smi", "js", "exa", "com", "john.", "john_s", "."] {
            assert!(explains(&user, prefix), "{prefix}");
        }
        for prefix in ["ith", "x", "7"] {
            assert!(!explains(&user, prefix), "{prefix}");
        }
    }
}
