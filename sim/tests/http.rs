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
    assert_eq!(body(reused)["error"], "unauthorized_client");

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
