//! The simulator over real HTTP: endpoints, auth, OAuth rotation, paging and faults, as a
//! client sees them.

use std::collections::HashSet;

use jira_sim::{Deployment, Fault, RunningSim, SimConfig, creds, spawn};
use reqwest::blocking::{Client, RequestBuilder, Response};
use serde_json::{Value, json};

fn client() -> Client {
    // In the workspace reqwest is built without a default crypto provider (the tap installs ring).
    let _ = rustls::crypto::ring::default_provider().install_default();
    Client::new()
}

fn cloud(req: RequestBuilder) -> RequestBuilder {
    req.basic_auth(creds::EMAIL, Some(creds::API_TOKEN))
}

fn server(req: RequestBuilder) -> RequestBuilder {
    req.basic_auth(creds::USERNAME, Some(creds::PASSWORD))
}

fn body(response: Response) -> Value {
    response.json().expect("a JSON body")
}

fn get(sim: &RunningSim, path: &str) -> Value {
    let response = cloud(client().get(format!("{}{path}", sim.url)))
        .send()
        .unwrap();
    assert_eq!(response.status(), 200, "GET {path}");
    body(response)
}

/// Data Center refuses an offset search whose page reaches past its search window (`startAt`
/// plus the page), with a 500 "Search limit exceeded"; within the window it answers.
#[test]
fn server_search_is_refused_past_the_search_window() {
    let sim = spawn(SimConfig {
        deployment: Deployment::Server,
        search_window: 50,
        ..SimConfig::default()
    });
    let search = |start: u32, max: u32| {
        server(client().post(format!("{}/rest/api/2/search", sim.url)))
            .json(&json!({"jql": "id > 0 ORDER BY id", "startAt": start, "maxResults": max}))
            .send()
            .unwrap()
    };
    let inside = search(40, 10);
    assert_eq!(inside.status(), 200);
    assert_eq!(body(inside)["issues"].as_array().unwrap().len(), 10);
    let past = search(45, 10);
    assert_eq!(past.status(), 500);
    let refusal = body(past);
    assert!(
        refusal["errorMessages"][0]
            .as_str()
            .unwrap()
            .starts_with("Search limit exceeded."),
        "{refusal}"
    );
    assert_eq!(refusal["errors"], json!({}));
}

#[test]
fn cloud_metadata_endpoints_answer_in_jira_shapes() {
    let sim = spawn(SimConfig::default());
    let info = get(&sim, "/rest/api/3/serverInfo");
    assert_eq!(info["deploymentType"], "Cloud");
    assert_eq!(info["versionNumbers"], json!([1001, 0, 0]));

    let me = get(&sim, "/rest/api/3/myself");
    assert_eq!(me["timeZone"], "America/Los_Angeles");
    assert_eq!(me["emailAddress"], creds::EMAIL);
    assert!(me["accountId"].is_string() && me.get("name").is_none());

    let fields = get(&sim, "/rest/api/3/field");
    assert_eq!(fields.as_array().unwrap().len(), sim.sim.field_count());
    let sprint = fields
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == "Sprint")
        .unwrap();
    assert_eq!(sprint["schema"]["items"], "json");

    let projects = get(
        &sim,
        "/rest/api/3/project/search?maxResults=2&expand=lead,description",
    );
    assert_eq!(projects["total"], sim.sim.project_count());
    assert_eq!(projects["isLast"], false);
    assert!(projects["nextPage"].as_str().unwrap().contains("startAt=2"));
    assert!(projects["values"][0]["lead"]["accountId"].is_string());

    let users = get(&sim, "/rest/api/3/users/search?maxResults=1000");
    let users = users.as_array().unwrap();
    assert_eq!(users.len(), sim.sim.user_count());
    assert!(
        users
            .iter()
            .any(|u| u["accountType"] == "app" && u.get("emailAddress").is_none())
    );
    assert!(
        users
            .iter()
            .any(|u| u["displayName"] == "Former user" && u["active"] == false)
    );

    let members = get(
        &sim,
        "/rest/api/3/group/member?groupname=jira-users&includeInactiveUsers=true&maxResults=5",
    );
    assert_eq!(members["total"], sim.sim.group_member_count("jira-users"));
    assert_eq!(members["values"].as_array().unwrap().len(), 5);
    let missing = cloud(client().get(format!(
        "{}/rest/api/3/group/member?groupname=nope",
        sim.url
    )))
    .send()
    .unwrap();
    assert_eq!(missing.status(), 404);
    assert_eq!(
        body(missing)["errorMessages"][0],
        "The group 'nope' does not exist."
    );
}

#[test]
fn credentials_are_checked_on_every_rest_route() {
    let sim = spawn(SimConfig::default());
    let anonymous = client()
        .get(format!("{}/rest/api/3/myself", sim.url))
        .send()
        .unwrap();
    assert_eq!(anonymous.status(), 401);
    assert!(anonymous.headers().contains_key("www-authenticate"));
    assert_eq!(
        body(anonymous)["errorMessages"][0],
        "You are not authenticated. Authentication required to perform this operation."
    );
    let wrong = client()
        .get(format!("{}/rest/api/3/myself", sim.url))
        .basic_auth(creds::EMAIL, Some("wrong"))
        .send()
        .unwrap();
    assert_eq!(wrong.status(), 401);
    let pat_on_cloud = client()
        .get(format!("{}/rest/api/3/myself", sim.url))
        .bearer_auth(creds::PAT)
        .send()
        .unwrap();
    assert_eq!(pat_on_cloud.status(), 401);
    let unknown = cloud(client().get(format!("{}/rest/api/3/nothing/here", sim.url)))
        .send()
        .unwrap();
    assert_eq!(unknown.status(), 404);
    assert!(body(unknown)["errorMessages"].is_array());

    let seen: Vec<_> = sim
        .sim
        .requests()
        .into_iter()
        .map(|r| (r.status, r.auth))
        .collect();
    assert_eq!(seen[0], (401, jira_sim::AuthSeen::None));
    assert_eq!(seen[1], (401, jira_sim::AuthSeen::Invalid));
    assert_eq!(
        seen[3].1,
        jira_sim::AuthSeen::Basic {
            user: creds::EMAIL.to_string()
        }
    );
    assert_eq!(sim.sim.request_counts()["GET /rest/api/3/myself"], 3);
}

#[test]
fn oauth_refresh_tokens_rotate_and_the_gateway_takes_access_tokens() {
    let sim = spawn(SimConfig::default());
    let token_url = format!("{}/oauth/token", sim.url);
    let form = |refresh: &str| {
        client()
            .post(&token_url)
            .form(&[
                ("grant_type", "refresh_token"),
                ("client_id", creds::OAUTH_CLIENT_ID),
                ("client_secret", creds::OAUTH_CLIENT_SECRET),
                ("refresh_token", refresh),
            ])
            .send()
            .unwrap()
    };
    let first = body(form(creds::INITIAL_REFRESH_TOKEN));
    assert_eq!(first["token_type"], "Bearer");
    assert_eq!(first["expires_in"], 3600);
    assert_eq!(
        first["scope"],
        "read:jira-work read:jira-user offline_access"
    );
    let access = first["access_token"].as_str().unwrap();
    let refresh = first["refresh_token"].as_str().unwrap();
    assert_eq!(sim.sim.current_refresh_token(), refresh);

    let reused = form(creds::INITIAL_REFRESH_TOKEN);
    assert_eq!(reused.status(), 403);
    assert_eq!(body(reused)["error"], "invalid_grant");

    let resources = client()
        .get(format!("{}/oauth/token/accessible-resources", sim.url))
        .bearer_auth(access)
        .send()
        .unwrap();
    let resources = body(resources);
    assert_eq!(resources[0]["id"], creds::CLOUD_ID);

    let me = client()
        .get(format!("{}/rest/api/3/myself", sim.gateway_url()))
        .bearer_auth(access)
        .send()
        .unwrap();
    assert_eq!(me.status(), 200);
    assert!(body(me)["self"].as_str().unwrap().contains("/ex/jira/"));
    let wrong_site = client()
        .get(format!(
            "{}/ex/jira/00000000-0000-4000-8000-000000000000/rest/api/3/myself",
            sim.url
        ))
        .bearer_auth(access)
        .send()
        .unwrap();
    assert_eq!(wrong_site.status(), 404);

    sim.sim.expire_access_tokens();
    let expired = client()
        .get(format!("{}/rest/api/3/myself", sim.gateway_url()))
        .bearer_auth(access)
        .send()
        .unwrap();
    assert_eq!(expired.status(), 401);

    // JSON bodies work too, and the rotated token is the one that counts.
    let second = client()
        .post(&token_url)
        .json(&json!({
            "grant_type": "refresh_token",
            "client_id": creds::OAUTH_CLIENT_ID,
            "client_secret": creds::OAUTH_CLIENT_SECRET,
            "refresh_token": refresh,
        }))
        .send()
        .unwrap();
    assert_eq!(second.status(), 200);
    let bad_client = client()
        .post(&token_url)
        .form(&[
            ("grant_type", "refresh_token"),
            ("client_id", "nope"),
            ("client_secret", "nope"),
            ("refresh_token", "x"),
        ])
        .send()
        .unwrap();
    assert_eq!(bad_client.status(), 401);
    assert_eq!(body(bad_client)["error"], "access_denied");
}

/// Follows `nextPageToken` to the end; returns the ids in order.
fn all_pages(sim: &RunningSim, jql: &str, max_results: usize) -> Vec<String> {
    let mut ids = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let mut request = json!({ "jql": jql, "maxResults": max_results, "fields": ["updated"] });
        if let Some(token) = &token {
            request["nextPageToken"] = json!(token);
        }
        let page = body(
            cloud(client().post(format!("{}/rest/api/3/search/jql", sim.url)))
                .json(&request)
                .send()
                .unwrap(),
        );
        assert!(page.get("total").is_none() && page.get("startAt").is_none());
        for issue in page["issues"].as_array().unwrap() {
            ids.push(issue["id"].as_str().unwrap().to_string());
        }
        match page["nextPageToken"].as_str() {
            Some(next) => {
                assert_eq!(page["isLast"], false);
                token = Some(next.to_string());
            }
            None => {
                assert_eq!(page["isLast"], true);
                return ids;
            }
        }
    }
}

#[test]
fn cloud_search_pages_by_token_and_caps_pages() {
    let sim = spawn(SimConfig {
        max_page_size: 25,
        ..SimConfig::default()
    });
    let ids = all_pages(
        &sim,
        "project in (WEB, OPS, MOB) ORDER BY updated ASC, key ASC",
        1000,
    );
    assert_eq!(ids.len(), sim.sim.issue_count());
    assert_eq!(ids.iter().collect::<HashSet<_>>().len(), ids.len());
    assert!(
        sim.sim.request_counts()["POST /rest/api/3/search/jql"] >= 3,
        "pages capped at 25"
    );

    // Default fields: ids only.
    let bare = get(
        &sim,
        "/rest/api/3/search/jql?jql=project%20%3D%20WEB&maxResults=2",
    );
    assert_eq!(bare["issues"][0], json!({ "id": bare["issues"][0]["id"] }));

    let bad = |query: &str| {
        let response = cloud(client().get(format!("{}/rest/api/3/{query}", sim.url)))
            .send()
            .unwrap();
        (response.status().as_u16(), body(response))
    };
    let (status, unbounded) = bad("search/jql?jql=ORDER%20BY%20updated");
    assert_eq!(status, 400);
    assert_eq!(
        unbounded["errorMessages"][0],
        "Unbounded JQL queries are not allowed here. Please add a search restriction to your query."
    );
    let (status, gone) = bad("search?jql=project%20%3D%20WEB");
    assert_eq!(status, 410);
    assert!(
        gone["errorMessages"][0]
            .as_str()
            .unwrap()
            .contains("CHANGE-2046")
    );
    let first = get(
        &sim,
        "/rest/api/3/search/jql?jql=project%20%3D%20WEB&maxResults=2",
    );
    let token = first["nextPageToken"].as_str().unwrap();
    let (status, _) = bad(&format!(
        "search/jql?jql=project%20%3D%20OPS&nextPageToken={token}"
    ));
    assert_eq!(status, 400, "a token only works with its own query");
    let (status, parse_error) = bad("search/jql?jql=project%20WEB");
    assert_eq!(status, 400);
    assert!(
        parse_error["errorMessages"][0]
            .as_str()
            .unwrap()
            .starts_with("Error in the JQL Query:")
    );
}

#[test]
fn touched_issues_come_back_in_an_incremental_query_read_in_the_user_zone() {
    let sim = spawn(SimConfig {
        time_zone: "Asia/Kolkata".into(),
        ..SimConfig::default()
    });
    let before = chrono::Utc::now().with_timezone(&chrono_tz::Asia::Kolkata);
    let touched = sim.sim.touch_issues(4);
    let added = sim.sim.add_issues("OPS", 2);
    // The bookmark, converted into the user's zone and rounded down to the minute.
    let since = before.format("%Y/%m/%d %H:%M").to_string();
    let ids = all_pages(
        &sim,
        &format!("updated >= \"{since}\" ORDER BY updated ASC"),
        50,
    );
    let expected: HashSet<String> = touched.iter().chain(&added).cloned().collect();
    assert_eq!(ids.iter().cloned().collect::<HashSet<_>>(), expected);
    assert_eq!(sim.sim.issue_count(), 62);
}

#[test]
fn server_answers_v2_with_offsets_usernames_and_wiki_markup() {
    let sim = spawn(SimConfig {
        deployment: Deployment::Server,
        ..SimConfig::default()
    });
    let info = body(
        server(client().get(format!("{}/rest/api/2/serverInfo", sim.url)))
            .send()
            .unwrap(),
    );
    assert_eq!(info["deploymentType"], "Server");
    let v3 = server(client().get(format!("{}/rest/api/3/serverInfo", sim.url)))
        .send()
        .unwrap();
    assert_eq!(v3.status(), 404);
    let pat = client()
        .get(format!("{}/rest/api/2/myself", sim.url))
        .bearer_auth(creds::PAT)
        .send()
        .unwrap();
    let me = body(pat);
    assert_eq!(me["name"], creds::USERNAME);
    assert!(me.get("accountId").is_none());

    let page = body(
        server(client().get(format!(
            "{}/rest/api/2/search?jql=project%20%3D%20WEB%20ORDER%20BY%20key&startAt=5&maxResults=10",
            sim.url
        )))
        .send()
        .unwrap(),
    );
    assert_eq!(
        (page["startAt"].as_u64(), page["total"].as_u64()),
        (Some(5), Some(20))
    );
    assert_eq!(page["issues"].as_array().unwrap().len(), 10);
    assert_eq!(page["issues"][0]["key"], "WEB-6");
    let fields = &page["issues"][0]["fields"];
    assert!(fields.get("comment").is_none(), "comment is not navigable");
    assert!(fields["summary"].is_string());
    assert!(fields["description"].is_string() || fields["description"].is_null());

    let users = body(
        server(client().get(format!(
            "{}/rest/api/2/user/search?username=.&maxResults=100",
            sim.url
        )))
        .send()
        .unwrap(),
    );
    let users = users.as_array().unwrap();
    assert_eq!(users.len(), sim.sim.user_count());
    assert!(users.iter().any(|u| {
        u["emailAddress"]
            .as_str()
            .is_some_and(|e| e.contains(" at "))
    }));
    assert!(users.iter().any(|u| u.get("emailAddress").is_none()));
}

/// Data Center 10.3 lists every user through `user/list`, a cursor leading from page to page,
/// while `user/search` stops at 100; before 10.3 `user/list` answers 404.
#[test]
fn data_center_lists_users_by_cursor_from_10_3_and_searches_only_100() {
    let sim = spawn(SimConfig {
        deployment: Deployment::Server,
        server_version: [10, 3, 0],
        users: 130,
        ..SimConfig::default()
    });
    let fetch = |path: &str| {
        server(client().get(format!("{}{path}", sim.url)))
            .send()
            .unwrap()
    };
    let info = body(fetch("/rest/api/2/serverInfo"));
    assert_eq!(info["versionNumbers"], json!([10, 3, 0]));
    let searched = body(fetch(
        "/rest/api/2/user/search?username=.&startAt=50&maxResults=100",
    ));
    assert_eq!(searched.as_array().unwrap().len(), 50, "the first 100 only");
    let mut keys = HashSet::new();
    let mut path = "/rest/api/2/user/list?maxResults=50".to_string();
    let mut pages = 0;
    loop {
        let page = body(fetch(&path));
        pages += 1;
        for user in page["values"].as_array().unwrap() {
            assert!(
                keys.insert(user["key"].as_str().unwrap().to_string()),
                "a user twice"
            );
        }
        if page["isLast"] == json!(true) {
            assert!(page.get("nextCursor").is_none());
            break;
        }
        let cursor = page["nextCursor"].as_str().unwrap();
        path = format!("/rest/api/2/user/list?cursor={cursor}&maxResults=50");
    }
    assert_eq!((keys.len(), pages), (sim.sim.user_count(), 3));

    let older = spawn(SimConfig {
        deployment: Deployment::Server,
        server_version: [10, 2, 1],
        ..SimConfig::default()
    });
    let list = server(client().get(format!("{}/rest/api/2/user/list", older.url)))
        .send()
        .unwrap();
    assert_eq!(list.status(), 404);
    assert!(
        older.sim.unserved().is_empty(),
        "a 404 Jira gives, not a missing route"
    );
}

#[test]
fn faults_replace_answers_then_stop() {
    let sim = spawn(SimConfig::default());
    sim.sim.push_fault(Fault::rate_limited("/search/jql", 3, 1));
    sim.sim.push_fault(Fault::html_login_page("/myself"));
    let url = format!("{}/rest/api/3/search/jql?jql=project%20%3D%20WEB", sim.url);
    let limited = cloud(client().get(&url)).send().unwrap();
    assert_eq!(limited.status(), 429);
    assert_eq!(limited.headers()["retry-after"], "3");
    assert_eq!(cloud(client().get(&url)).send().unwrap().status(), 200);
    let login = cloud(client().get(format!("{}/rest/api/3/myself", sim.url)))
        .send()
        .unwrap();
    assert_eq!(login.status(), 200);
    assert!(
        login.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let statuses: Vec<u16> = sim.sim.requests().iter().map(|r| r.status).collect();
    assert_eq!(statuses, [429, 200, 200]);
    sim.sim.reset_requests();
    assert!(sim.sim.requests().is_empty());
}

#[test]
fn admin_endpoints_report_counts_and_touch_issues() {
    let sim = spawn(SimConfig::default());
    get(&sim, "/rest/api/3/serverInfo");
    let stats = body(
        client()
            .get(format!("{}/_sim/stats", sim.url))
            .send()
            .unwrap(),
    );
    assert_eq!(stats["GET /rest/api/3/serverInfo"], 1);
    let touched = body(
        client()
            .post(format!("{}/_sim/touch?n=3", sim.url))
            .send()
            .unwrap(),
    );
    assert_eq!(touched["touched"].as_array().unwrap().len(), 3);
}

#[test]
fn latency_delays_every_answer() {
    let sim = spawn(SimConfig {
        latency_ms: 60,
        ..SimConfig::default()
    });
    let started = std::time::Instant::now();
    get(&sim, "/rest/api/3/serverInfo");
    assert!(started.elapsed() >= std::time::Duration::from_millis(60));
}

/// GET with the credentials of the simulator's deployment; asserts a 200.
fn fetch(sim: &RunningSim, path: &str) -> Value {
    let request = client().get(format!("{}{path}", sim.url));
    let response = match sim.sim.config().deployment {
        Deployment::Cloud => cloud(request),
        Deployment::Server => server(request),
    }
    .send()
    .unwrap();
    assert_eq!(response.status(), 200, "GET {path}");
    body(response)
}

/// POST a JSON body with the deployment's credentials; the status and the body.
fn post(sim: &RunningSim, path: &str, json_body: &Value) -> (u16, Value) {
    let request = client().post(format!("{}{path}", sim.url)).json(json_body);
    let response = match sim.sim.config().deployment {
        Deployment::Cloud => cloud(request),
        Deployment::Server => server(request),
    }
    .send()
    .unwrap();
    (response.status().as_u16(), body(response))
}

fn server_sim() -> RunningSim {
    spawn(SimConfig {
        deployment: Deployment::Server,
        ..SimConfig::default()
    })
}

fn expected(sim: &RunningSim, stream: &str) -> usize {
    sim.sim
        .expected_records(stream, None)
        .unwrap_or_else(|| panic!("the simulator knows {stream}"))
}

fn len(value: &Value) -> usize {
    value.as_array().map_or(0, Vec::len)
}

/// Every issue key of the default site.
fn keys() -> Vec<String> {
    ["WEB", "OPS", "MOB"]
        .iter()
        .flat_map(|p| (1..=20).map(move |n| format!("{p}-{n}")))
        .collect()
}

#[test]
fn project_and_reference_lists_answer_in_jira_shapes_on_both_deployments() {
    for (sim, api) in [(spawn(SimConfig::default()), 3), (server_sim(), 2)] {
        let cloud = sim.sim.config().deployment == Deployment::Cloud;
        let root = format!("/rest/api/{api}");
        let (mut versions, mut components) = (0, 0);
        for project in ["WEB", "10001", "MOB"] {
            let page = fetch(
                &sim,
                &format!("{root}/project/{project}/version?orderBy=name"),
            );
            assert_eq!(
                (page["startAt"].as_u64(), page["maxResults"].as_u64()),
                (Some(0), Some(50))
            );
            assert_eq!(page["isLast"], true);
            let values = page["values"].as_array().unwrap();
            assert_eq!(page["total"].as_u64(), Some(values.len() as u64));
            assert!(values[0]["id"].is_string() && values[0]["projectId"].is_u64());
            assert!(
                values
                    .iter()
                    .all(|v| v["projectId"] == values[0]["projectId"])
            );
            versions += values.len();
            let list = fetch(&sim, &format!("{root}/project/{project}/components"));
            for c in list.as_array().unwrap() {
                assert!(c["id"].is_string() && c["projectId"].is_u64() && c["project"].is_string());
                for key in [
                    "self",
                    "name",
                    "assigneeType",
                    "realAssigneeType",
                    "isAssigneeTypeValid",
                ] {
                    assert!(c.get(key).is_some(), "component {key}");
                }
            }
            components += len(&list);
        }
        assert_eq!(versions, expected(&sim, "versions"));
        assert_eq!(components, expected(&sim, "components"));
        let small = fetch(&sim, &format!("{root}/project/WEB/version?maxResults=2"));
        assert_eq!(small["isLast"], false);
        assert!(small["nextPage"].as_str().unwrap().contains("startAt=2"));

        let paged = client().get(format!("{}{root}/project/WEB/component", sim.url));
        let paged = if cloud {
            self::cloud(paged)
        } else {
            server(paged)
        }
        .send()
        .unwrap();
        if cloud {
            let paged = body(paged);
            assert_eq!(paged["total"], 2);
            assert!(paged["values"][0]["issueCount"].is_u64());
        } else {
            assert_eq!(paged.status(), 404, "the paged component list is Cloud's");
        }

        let types = fetch(&sim, &format!("{root}/project/type"));
        assert_eq!(len(&types), expected(&sim, "project_types"));
        assert_eq!(len(&types), if cloud { 3 } else { 2 });
        for t in types.as_array().unwrap() {
            for key in ["key", "formattedKey", "descriptionI18nKey", "icon", "color"] {
                assert!(t[key].is_string(), "project type {key}");
            }
        }
        let categories = fetch(&sim, &format!("{root}/projectCategory"));
        assert_eq!(len(&categories), expected(&sim, "project_categories"));
        assert!(categories[0]["id"].is_string() && categories[0]["self"].is_string());
        let resolutions = fetch(&sim, &format!("{root}/resolution"));
        assert_eq!(len(&resolutions), expected(&sim, "resolutions"));
        assert!(resolutions[0]["id"].is_string() && resolutions[0]["description"].is_string());
        let roles = fetch(&sim, &format!("{root}/role"));
        assert_eq!(len(&roles), expected(&sim, "roles"));
        let actor = &roles[0]["actors"][0];
        assert!(roles[0]["id"].is_u64() && actor["id"].is_u64());
        assert_eq!(actor["type"], "atlassian-group-role-actor");
        assert_eq!(actor["actorGroup"]["groupId"].is_string(), cloud);

        let missing = client().get(format!("{}{root}/project/NOPE/version", sim.url));
        let missing = if cloud {
            self::cloud(missing)
        } else {
            server(missing)
        }
        .send()
        .unwrap();
        assert_eq!(missing.status(), 404);
        let unserved = sim.sim.unserved();
        assert_eq!(unserved.len(), usize::from(!cloud), "{unserved:?}");
    }
}

#[test]
fn issue_children_agree_with_what_issues_embed() {
    for (sim, api) in [(spawn(SimConfig::default()), 3), (server_sim(), 2)] {
        let root = format!("/rest/api/{api}");
        let mut counts = std::collections::BTreeMap::<&str, usize>::new();
        for key in keys() {
            let issue = fetch(
                &sim,
                &format!("{root}/issue/{key}?fields=watches,votes,issuelinks&expand=transitions"),
            );
            let fields = &issue["fields"];
            let watchers = fetch(&sim, &format!("{root}/issue/{key}/watchers"));
            assert_eq!(
                watchers["watchCount"], fields["watches"]["watchCount"],
                "{key}"
            );
            assert_eq!(
                watchers["watchCount"].as_u64(),
                Some(len(&watchers["watchers"]) as u64)
            );
            assert_eq!(watchers["isWatching"], fields["watches"]["isWatching"]);
            let votes = fetch(&sim, &format!("{root}/issue/{key}/votes"));
            assert_eq!(votes["votes"], fields["votes"]["votes"], "{key}");
            assert_eq!(votes["votes"].as_u64(), Some(len(&votes["voters"]) as u64));
            let transitions = fetch(&sim, &format!("{root}/issue/{key}/transitions"));
            assert_eq!(transitions["expand"], "transitions");
            assert_eq!(transitions["transitions"], issue["transitions"]);
            let links = fetch(&sim, &format!("{root}/issue/{key}/remotelink"));
            for link in links.as_array().unwrap() {
                assert!(link["id"].is_u64() && link["globalId"].is_string());
                assert!(link["application"]["type"].is_string());
                assert!(link["object"]["status"]["resolved"].is_boolean());
                assert!(link["object"]["icon"]["url16x16"].is_string());
            }
            *counts.entry("issue_watchers").or_default() += len(&watchers["watchers"]);
            *counts.entry("issue_votes").or_default() += len(&votes["voters"]);
            *counts.entry("issue_transitions").or_default() += len(&transitions["transitions"]);
            *counts.entry("issue_remote_links").or_default() += len(&links);
            *counts.entry("issue_links").or_default() += len(&fields["issuelinks"]);
        }
        for (stream, count) in counts {
            assert_eq!(count, expected(&sim, stream), "{stream}");
        }
        let remote = expected(&sim, "issue_remote_links");
        assert!(
            (5..=60).contains(&remote),
            "a third of the issues have remote links: {remote}"
        );
        let missing = client().get(format!("{}{root}/issue/NOPE-1/watchers", sim.url));
        let missing = if api == 3 {
            cloud(missing)
        } else {
            server(missing)
        }
        .send()
        .unwrap();
        assert_eq!(missing.status(), 404);
        assert!(
            sim.sim.unserved().is_empty(),
            "an unknown issue is a served 404"
        );
    }
}

/// `(maxResults, total, embedded)` of an embedded list.
fn cut(page: &Value, items: &str) -> (u64, u64, usize) {
    (
        page["maxResults"].as_u64().unwrap(),
        page["total"].as_u64().unwrap(),
        len(&page[items]),
    )
}

/// Every item of a child endpoint, following `startAt`.
fn all_children(sim: &RunningSim, path: &str, items: &str) -> Vec<Value> {
    let mut all = Vec::new();
    loop {
        let page = fetch(sim, &format!("{path}?startAt={}", all.len()));
        let got = page[items].as_array().unwrap().clone();
        let total = page["total"].as_u64().unwrap() as usize;
        all.extend(got.iter().cloned());
        if got.is_empty() || all.len() >= total {
            assert_eq!(all.len(), total);
            return all;
        }
    }
}

#[test]
fn busy_issues_embed_what_jira_embeds_and_children_page_through_the_rest() {
    let cloud_sim = spawn(SimConfig::default());
    let busy = cloud_sim.sim.busy_issue_ids();
    assert_eq!(busy.len(), 3, "issues 10, 30 and 50 of 60");
    let one = |stream: &str, id: &str| {
        cloud_sim
            .sim
            .expected_records(stream, Some(&[id.to_string()]))
            .unwrap()
    };
    for id in &busy {
        let (comments, worklogs, histories) = (
            one("issue_comments", id),
            one("worklogs", id),
            one("changelogs", id),
        );
        assert!(
            comments > 50 && worklogs > 20 && histories > 100,
            "{id} is busy"
        );
        let jql =
            format!("/rest/api/3/search/jql?jql=id%3D{id}&fields=comment,worklog&expand=changelog");
        let found = &fetch(&cloud_sim, &jql)["issues"][0];
        let (c, w, n) = (comments as u64, worklogs as u64, histories as u64);
        assert_eq!(cut(&found["fields"]["comment"], "comments"), (50, c, 50));
        assert_eq!(cut(&found["fields"]["worklog"], "worklogs"), (20, w, 20));
        assert_eq!(cut(&found["changelog"], "histories"), (40, n, 40));
        let issue = fetch(
            &cloud_sim,
            &format!("/rest/api/3/issue/{id}?expand=changelog"),
        );
        assert_eq!(cut(&issue["changelog"], "histories"), (100, n, 100));
        assert_eq!(cut(&issue["fields"]["comment"], "comments"), (50, c, 50));
        let comment_path = format!("/rest/api/3/issue/{id}/comment");
        assert_eq!(
            all_children(&cloud_sim, &comment_path, "comments").len(),
            comments
        );
        let worklog_path = format!("/rest/api/3/issue/{id}/worklog");
        assert_eq!(
            all_children(&cloud_sim, &worklog_path, "worklogs").len(),
            worklogs
        );
        let changelog_path = format!("/rest/api/3/issue/{id}/changelog");
        let paged = all_children(&cloud_sim, &changelog_path, "values");
        assert_eq!(paged.len(), histories);
        assert_eq!(
            paged[..40],
            found["changelog"]["histories"].as_array().unwrap()[..]
        );
    }
    // A quiet issue embeds everything, with `maxResults` its count (comments) or 20 (worklogs).
    let quiet = &fetch(
        &cloud_sim,
        "/rest/api/3/issue/WEB-2?fields=comment,worklog&expand=changelog",
    );
    let comments = cut(&quiet["fields"]["comment"], "comments");
    assert_eq!(
        (comments.0, comments.1),
        (comments.2 as u64, comments.2 as u64)
    );
    assert_eq!(quiet["fields"]["worklog"]["maxResults"], 20);

    let server_sim = server_sim();
    let id = &server_sim.sim.busy_issue_ids()[0];
    let histories = server_sim
        .sim
        .expected_records("changelogs", Some(std::slice::from_ref(id)))
        .unwrap() as u64;
    let search = fetch(
        &server_sim,
        &format!("/rest/api/2/search?jql=id%3D{id}&fields=comment&expand=changelog"),
    );
    assert_eq!(
        cut(&search["issues"][0]["changelog"], "histories"),
        (100, histories, 100)
    );
    for fields in ["", "&fields=created", "&fields=key"] {
        let issue = fetch(
            &server_sim,
            &format!("/rest/api/2/issue/{id}?expand=changelog{fields}"),
        );
        let full = (histories, histories, histories as usize);
        assert_eq!(
            cut(&issue["changelog"], "histories"),
            full,
            "fields: {fields}"
        );
        assert_eq!(issue["id"], json!(id));
    }
    let comments = all_children(
        &server_sim,
        &format!("/rest/api/2/issue/{id}/comment"),
        "comments",
    );
    assert_eq!(
        comments.len(),
        server_sim
            .sim
            .expected_records("issue_comments", Some(std::slice::from_ref(id)))
            .unwrap()
    );
}

/// Pages `worklog/updated` from `since=0` to `lastPage`; the ids in order, and each page's
/// `(first, last)` updatedTime.
fn updated_worklogs(sim: &RunningSim, root: &str) -> (Vec<u64>, Vec<(i64, i64)>) {
    let mut ids = Vec::new();
    let mut bounds = Vec::new();
    let mut path = format!("{root}/worklog/updated?since=0");
    for _ in 0..100 {
        let page = fetch(sim, &path);
        let values = page["values"].as_array().unwrap();
        assert!(values.len() <= 1000);
        let times: Vec<i64> = values
            .iter()
            .map(|v| v["updatedTime"].as_i64().unwrap())
            .collect();
        assert!(
            times.windows(2).all(|w| w[0] <= w[1]),
            "ascending updatedTime"
        );
        assert_eq!(page["until"].as_i64(), times.last().copied());
        bounds.push((times[0], *times.last().unwrap()));
        ids.extend(values.iter().map(|v| v["worklogId"].as_u64().unwrap()));
        if page["lastPage"] == true {
            assert!(page.get("nextPage").is_none());
            return (ids, bounds);
        }
        let next = page["nextPage"].as_str().unwrap();
        assert!(next.ends_with(&format!("since={}", page["until"])));
        path = next.trim_start_matches(&sim.url).to_string();
    }
    panic!("worklog/updated never reached its last page");
}

#[test]
fn worklog_updated_pages_cover_every_worklog_and_worklog_list_returns_them() {
    // Every issue busy: about 2,700 worklogs, three pages, ties in every issue.
    for deployment in [Deployment::Cloud, Deployment::Server] {
        let sim = spawn(SimConfig {
            deployment,
            busy_every: 1,
            ..SimConfig::default()
        });
        let root = if deployment == Deployment::Cloud {
            "/rest/api/3"
        } else {
            "/rest/api/2"
        };
        let (ids, bounds) = updated_worklogs(&sim, root);
        assert!(bounds.len() >= 3, "{bounds:?}");
        let unique: HashSet<u64> = ids.iter().copied().collect();
        assert_eq!(unique.len(), expected(&sim, "worklogs"));
        // Only the rows of a boundary millisecond may come twice.
        let repeats = ids.len() - unique.len();
        let boundaries = bounds.windows(2).filter(|w| w[0].1 == w[1].0).count();
        assert!(
            repeats >= boundaries,
            "each boundary repeats its millisecond"
        );
        assert!(repeats <= 3 * (bounds.len() - 1), "{repeats} repeats");

        let sorted: Vec<u64> = {
            let mut v: Vec<u64> = unique.into_iter().collect();
            v.sort_unstable();
            v
        };
        let mut listed = 0;
        for chunk in sorted.chunks(1000) {
            let (status, worklogs) = post(
                &sim,
                &format!("{root}/worklog/list"),
                &json!({ "ids": chunk }),
            );
            assert_eq!(status, 200);
            for (w, id) in worklogs.as_array().unwrap().iter().zip(chunk) {
                assert_eq!(w["id"], json!(id.to_string()));
                assert!(w["issueId"].is_string() && w["timeSpentSeconds"].is_u64());
            }
            listed += len(&worklogs);
        }
        assert_eq!(listed, sorted.len());
        let (status, some) = post(
            &sim,
            &format!("{root}/worklog/list"),
            &json!({ "ids": [sorted[0], 1, "nope"] }),
        );
        assert_eq!((status, len(&some)), (200, 1), "unknown ids are left out");
        let (status, refused) = post(
            &sim,
            &format!("{root}/worklog/list"),
            &json!({ "ids": sorted[..1001] }),
        );
        assert_eq!(status, 400);
        assert!(refused["errorMessages"][0].is_string());
    }
}

#[test]
fn hidden_worklogs_thin_worklog_updated_pages_and_show_nowhere() {
    // Every other worklog hidden, pages of 3 rows: a run of 3 hidden rows makes an empty page.
    let sim = spawn(SimConfig {
        hidden_worklogs_every: 2,
        worklog_page_size: 3,
        ..SimConfig::default()
    });
    let all = sim.sim.worklogs();
    let visible: HashSet<u64> = all
        .iter()
        .filter(|w| !w.hidden)
        .map(|w| w.worklog_id)
        .collect();
    let hidden: HashSet<u64> = all
        .iter()
        .filter(|w| w.hidden)
        .map(|w| w.worklog_id)
        .collect();
    assert!(!visible.is_empty() && !hidden.is_empty());
    assert!(hidden.iter().all(|id| id.is_multiple_of(2)));
    assert_eq!(visible.len(), expected(&sim, "worklogs"));

    // Each page is cut over every worklog, then loses its hidden ones: `until` and `lastPage`
    // still tell the truth, so pages come short or empty and point further all the same.
    let (mut listed, mut short, mut empty) = (HashSet::new(), 0, 0);
    let mut path = "/rest/api/3/worklog/updated?since=0".to_string();
    for pages in 1.. {
        assert!(
            pages <= all.len(),
            "worklog/updated never reached its last page"
        );
        let page = get(&sim, &path);
        let (since, until) = (
            page["since"].as_i64().unwrap(),
            page["until"].as_i64().unwrap(),
        );
        let ids: Vec<u64> = page["values"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v["worklogId"].as_u64().unwrap())
            .collect();
        assert!(ids.iter().all(|id| visible.contains(id)), "{page}");
        let before_until = all
            .iter()
            .filter(|w| !w.hidden && (since..until).contains(&w.updated_ms));
        assert!(before_until.clone().all(|w| ids.contains(&w.worklog_id)));
        listed.extend(ids.iter().copied());
        if page["lastPage"] == true {
            assert!(page.get("nextPage").is_none());
            break;
        }
        empty += usize::from(ids.is_empty());
        short += usize::from(!ids.is_empty() && ids.len() < 3);
        assert!(until > since, "{page}");
        path = page["nextPage"]
            .as_str()
            .unwrap()
            .trim_start_matches(&sim.url)
            .to_string();
    }
    assert_eq!(listed, visible, "every visible worklog, to the last page");
    assert!(
        empty > 0 && short > 0,
        "{empty} empty and {short} short pages"
    );

    // Asked for by id, hidden worklogs are unknown ones.
    let mut ids: Vec<u64> = visible.iter().chain(&hidden).copied().collect();
    ids.sort_unstable();
    let (status, worklogs) = post(&sim, "/rest/api/3/worklog/list", &json!({ "ids": ids }));
    assert_eq!(status, 200);
    let returned: HashSet<u64> = worklogs
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["id"].as_str().unwrap().parse().unwrap())
        .collect();
    assert_eq!(returned, visible);

    // Their issue neither lists nor embeds them, nor counts them in `total`.
    let issue = &all.iter().find(|w| w.hidden).unwrap().issue_id;
    let mut own: Vec<u64> = all
        .iter()
        .filter(|w| &w.issue_id == issue && !w.hidden)
        .map(|w| w.worklog_id)
        .collect();
    own.sort_unstable();
    let worklog_ids = |field: &Value| -> Vec<u64> {
        let worklogs = field["worklogs"].as_array().unwrap();
        worklogs
            .iter()
            .map(|w| w["id"].as_str().unwrap().parse().unwrap())
            .collect()
    };
    let page = get(&sim, &format!("/rest/api/3/issue/{issue}/worklog"));
    let embedded = get(&sim, &format!("/rest/api/3/issue/{issue}?fields=worklog"));
    for field in [&page, &embedded["fields"]["worklog"]] {
        let mut ids = worklog_ids(field);
        ids.sort_unstable();
        assert_eq!(
            (ids, field["total"].as_u64()),
            (own.clone(), Some(own.len() as u64))
        );
    }
    let issues = [issue.clone()];
    assert_eq!(
        sim.sim.expected_records("worklogs", Some(&issues)),
        Some(own.len())
    );
}

#[test]
fn changelog_bulkfetch_pages_cover_every_history() {
    let sim = spawn(SimConfig::default());
    let ids: Vec<String> = (10000..10060).map(|i| i.to_string()).collect();
    let mut token: Option<String> = None;
    let mut seen: Vec<(String, String)> = Vec::new();
    let mut pages = 0;
    loop {
        let mut request = json!({ "issueIdsOrKeys": ids, "maxResults": 50 });
        if let Some(token) = &token {
            request["nextPageToken"] = json!(token);
        }
        let (status, page) = post(&sim, "/rest/api/3/changelog/bulkfetch", &request);
        assert_eq!(status, 200);
        let in_page: usize = page["issueChangeLogs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|log| {
                for h in log["changeHistories"].as_array().unwrap() {
                    assert!(h["items"].as_array().is_some_and(|i| !i.is_empty()));
                    seen.push((
                        log["issueId"].as_str().unwrap().into(),
                        h["id"].as_str().unwrap().into(),
                    ));
                }
                len(&log["changeHistories"])
            })
            .sum();
        pages += 1;
        match page["nextPageToken"].as_str() {
            Some(next) => {
                assert_eq!(in_page, 50);
                token = Some(next.to_string());
            }
            None => break,
        }
    }
    assert_eq!(seen.len(), expected(&sim, "changelogs"));
    assert_eq!(seen.iter().collect::<HashSet<_>>().len(), seen.len());
    assert!(pages > 3);
    // Issue by issue, in id order, each issue's histories as its own changelog lists them.
    let busy = &sim.sim.busy_issue_ids()[0];
    let own: Vec<String> = all_children(
        &sim,
        &format!("/rest/api/3/issue/{busy}/changelog"),
        "values",
    )
    .iter()
    .map(|h| h["id"].as_str().unwrap().to_string())
    .collect();
    let fetched: Vec<String> = seen
        .iter()
        .filter(|(i, _)| i == busy)
        .map(|(_, h)| h.clone())
        .collect();
    assert_eq!(fetched, own);

    // `fieldIds` keeps only those fields' items (a busy issue has many priority moves).
    let (status, only_priority) = post(
        &sim,
        "/rest/api/3/changelog/bulkfetch",
        &json!({ "issueIdsOrKeys": [busy], "fieldIds": ["priority"] }),
    );
    assert_eq!(status, 200);
    let histories = only_priority["issueChangeLogs"][0]["changeHistories"]
        .as_array()
        .unwrap();
    assert!(!histories.is_empty() && histories.len() < own.len());
    for h in histories {
        let items = h["items"].as_array().unwrap();
        assert!(items.iter().all(|i| i["fieldId"] == "priority"));
    }
    let too_many: Vec<String> = (0..1001).map(|i| (10000 + i).to_string()).collect();
    let (status, _) = post(
        &sim,
        "/rest/api/3/changelog/bulkfetch",
        &json!({ "issueIdsOrKeys": too_many }),
    );
    assert_eq!(status, 400);
    let (status, _) = post(
        &sim,
        "/rest/api/3/changelog/bulkfetch",
        &json!({ "issueIdsOrKeys": ["WEB-1"], "nextPageToken": "garbage" }),
    );
    assert_eq!(status, 400);

    let server = server_sim();
    let (status, _) = post(
        &server,
        "/rest/api/2/changelog/bulkfetch",
        &json!({ "issueIdsOrKeys": ["WEB-1"] }),
    );
    assert_eq!(status, 404, "bulkfetch is Cloud's");
    assert_eq!(
        server.sim.unserved(),
        ["POST /rest/api/2/changelog/bulkfetch"]
    );
}

#[test]
fn unserved_lists_requests_no_route_matched() {
    let sim = spawn(SimConfig::default());
    get(&sim, "/rest/api/3/serverInfo");
    let typo = cloud(client().get(format!("{}/rest/api/3/projekt/WEB/versions?x=1", sim.url)))
        .send()
        .unwrap();
    assert_eq!(typo.status(), 404);
    let unknown_issue = cloud(client().get(format!("{}/rest/api/3/issue/WEB-999", sim.url)))
        .send()
        .unwrap();
    assert_eq!(unknown_issue.status(), 404);
    let wrong_method = cloud(client().delete(format!("{}/rest/api/3/issue/WEB-1/votes", sim.url)))
        .send()
        .unwrap();
    assert_eq!(wrong_method.status(), 404);
    assert_eq!(
        sim.sim.unserved(),
        [
            "GET /rest/api/3/projekt/WEB/versions",
            "DELETE /rest/api/3/issue/WEB-1/votes"
        ]
    );
    sim.sim.reset_requests();
    assert!(sim.sim.unserved().is_empty());
}

#[test]
fn expected_records_names_the_taps_streams_and_filters_by_issue() {
    let sim = spawn(SimConfig::default());
    assert_eq!(sim.sim.expected_records("no_such_stream", None), None);
    assert_eq!(expected(&sim, "issues"), sim.sim.issue_count());
    assert_eq!(expected(&sim, "projects"), sim.sim.project_count());
    assert_eq!(expected(&sim, "users"), sim.sim.user_count());
    assert_eq!(expected(&sim, "fields"), sim.sim.field_count());
    let some: Vec<String> = vec![
        "10000".into(),
        "WEB-1".into(),
        "OPS-3".into(),
        "NOPE-1".into(),
    ];
    assert_eq!(sim.sim.expected_records("issues", Some(&some)), Some(2));
    assert_eq!(
        sim.sim.expected_records("issue_transitions", Some(&some)),
        Some(6)
    );
    let all = expected(&sim, "issue_field_history");
    assert!(
        all > expected(&sim, "changelogs"),
        "histories hold one or more items"
    );
    // What the embedded pages of every issue add up to.
    let mut attachments = 0;
    for key in keys() {
        let issue = fetch(&sim, &format!("/rest/api/3/issue/{key}?fields=attachment"));
        attachments += len(&issue["fields"]["attachment"]);
    }
    assert_eq!(attachments, expected(&sim, "attachments"));
    let added = sim.sim.add_issues("WEB", 2);
    assert_eq!(sim.sim.expected_records("worklogs", Some(&added)), Some(0));
    assert_eq!(
        sim.sim.expected_records("issue_watchers", Some(&added)),
        Some(2)
    );
}

#[test]
fn new_endpoints_answer_on_cloud_v2_and_through_the_oauth_gateway() {
    let sim = spawn(SimConfig::default());
    let token = body(
        client()
            .post(format!("{}/oauth/token", sim.url))
            .form(&[
                ("grant_type", "refresh_token"),
                ("client_id", creds::OAUTH_CLIENT_ID),
                ("client_secret", creds::OAUTH_CLIENT_SECRET),
                ("refresh_token", creds::INITIAL_REFRESH_TOKEN),
            ])
            .send()
            .unwrap(),
    );
    let access = token["access_token"].as_str().unwrap();
    let paths = [
        "project/WEB/version",
        "project/WEB/components",
        "project/WEB/component",
        "project/type",
        "projectCategory",
        "resolution",
        "role",
        "issue/WEB-3/transitions",
        "issue/WEB-3/remotelink",
        "issue/WEB-3/watchers",
        "issue/WEB-3/votes",
        "worklog/updated?since=0",
    ];
    for path in paths {
        let through_gateway = client()
            .get(format!("{}/rest/api/3/{path}", sim.gateway_url()))
            .bearer_auth(access)
            .send()
            .unwrap();
        assert_eq!(through_gateway.status(), 200, "gateway {path}");
        let v2 = get(&sim, &format!("/rest/api/2/{path}"));
        // Same body on v2 but for the links, which name their API version.
        let text = serde_json::to_string(&body(through_gateway)).unwrap();
        let gateway_root = format!("{}/rest/api/3/", sim.gateway_url());
        let site_root = format!("{}/rest/api/2/", sim.url);
        assert_eq!(
            text.replace(&gateway_root, &site_root),
            serde_json::to_string(&v2).unwrap(),
            "{path}"
        );
    }
    // Worklog comments: ADF on v3, wiki markup on v2.
    let ids: Vec<u64> = get(&sim, "/rest/api/3/worklog/updated?since=0")["values"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["worklogId"].as_u64().unwrap())
        .collect();
    let comments = |api: u8| {
        let (status, listed) = post(
            &sim,
            &format!("/rest/api/{api}/worklog/list"),
            &json!({ "ids": ids }),
        );
        assert_eq!((status, len(&listed)), (200, ids.len()));
        listed
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|w| w.get("comment").cloned())
            .collect::<Vec<_>>()
    };
    assert!(comments(3).iter().all(|c| c["type"] == "doc"));
    let wiki = comments(2);
    assert!(!wiki.is_empty() && wiki.iter().all(Value::is_string));
    assert!(sim.sim.unserved().is_empty());
}
