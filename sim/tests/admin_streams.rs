//! The endpoints behind the reference, setup, permission and Jira Software streams, read over
//! HTTP the way the tap reads them (paging through every list, walking parents to children),
//! and checked against `Sim::expected_records`; then the switches (no Jira Software, not an
//! administrator), the kanban 400, the audit log's filters and `Sim::who_may_browse`.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use common::{client, send};
use jira_sim::{Deployment, RunningSim, SimConfig, creds, spawn};
use serde_json::Value;

fn fetch(sim: &RunningSim, path: &str) -> Value {
    let response = send(sim, path);
    assert_eq!(response.status(), 200, "GET {path}");
    response.json().unwrap()
}

fn with(path: &str, query: &str) -> String {
    let separator = if path.contains('?') { '&' } else { '?' };
    format!("{path}{separator}{query}")
}

/// Every item of a `startAt`/`maxResults` list (page beans under `values`, or `key`), asking
/// `ask` a page and checking no page is larger than `cap`.
fn all_pages(sim: &RunningSim, path: &str, key: &str, ask: usize, cap: usize) -> Vec<Value> {
    let mut items = Vec::new();
    loop {
        let page = fetch(
            sim,
            &with(path, &format!("startAt={}&maxResults={ask}", items.len())),
        );
        let got = page[key].as_array().unwrap().clone();
        assert!(got.len() <= cap, "{path}: {} > {cap}", got.len());
        assert_eq!(page["startAt"].as_u64(), Some(items.len() as u64), "{path}");
        assert!(
            page["maxResults"].as_u64().unwrap() as usize <= cap,
            "{path}"
        );
        items.extend(got.iter().cloned());
        let done = match page.get("isLast").and_then(Value::as_bool) {
            Some(last) => last,
            None => items.len() as u64 >= page["total"].as_u64().unwrap(),
        };
        if let Some(total) = page.get("total").and_then(Value::as_u64) {
            assert_eq!(
                done,
                items.len() as u64 >= total,
                "{path}: isLast and total agree"
            );
        }
        if done || got.is_empty() {
            return items;
        }
    }
}

fn values(sim: &RunningSim, path: &str) -> Vec<Value> {
    all_pages(sim, path, "values", 2, 2)
}

fn array(value: &Value) -> Vec<Value> {
    value.as_array().unwrap().clone()
}

fn text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

const OPTION_TYPES: &[&str] = &[
    ":select",
    ":multiselect",
    ":radiobuttons",
    ":multicheckboxes",
    ":cascadingselect",
];

/// Rows of every new stream, read as the tap reads them.
fn rows(sim: &RunningSim) -> BTreeMap<&'static str, usize> {
    let cloud = sim.sim.config().deployment == Deployment::Cloud;
    let root = if cloud { "/rest/api/3" } else { "/rest/api/2" };
    let agile = "/rest/agile/1.0";
    let mut rows = BTreeMap::new();
    let mut put = |name: &'static str, n: usize| {
        rows.insert(name, n);
    };
    put(
        "issue_types",
        array(&fetch(sim, &format!("{root}/issuetype"))).len(),
    );
    put(
        "statuses",
        array(&fetch(sim, &format!("{root}/status"))).len(),
    );
    put(
        "status_categories",
        array(&fetch(sim, &format!("{root}/statuscategory"))).len(),
    );
    put(
        "issue_link_types",
        array(&fetch(sim, &format!("{root}/issueLinkType"))["issueLinkTypes"]).len(),
    );
    put(
        "notification_schemes",
        values(sim, &format!("{root}/notificationscheme")).len(),
    );
    let configuration = fetch(sim, &format!("{root}/configuration"));
    assert!(configuration["timeTrackingConfiguration"]["workingHoursPerDay"].is_number());
    put("time_tracking", 1);
    let dashboards = all_pages(sim, &format!("{root}/dashboard"), "dashboards", 2, 2);
    put("dashboards", dashboards.len());
    put(
        "server_info",
        usize::from(fetch(sim, &format!("{root}/serverInfo"))["baseUrl"].is_string()),
    );
    put(
        "application_roles",
        array(&fetch(sim, &format!("{root}/applicationrole"))).len(),
    );

    // Projects, and what hangs off each.
    let projects = array(&fetch(sim, &format!("{root}/project")));
    let roles = array(&fetch(sim, &format!("{root}/role")));
    let (mut statuses, mut project_roles, mut actors, mut project_schemes) = (0, 0, 0, 0);
    for project in &projects {
        let id = text(&project["id"]);
        let types = array(&fetch(sim, &format!("{root}/project/{id}/statuses")));
        assert!(types.iter().all(|t| !array(&t["statuses"]).is_empty()));
        statuses += types.len();
        for role in &roles {
            let one = fetch(sim, &format!("{root}/project/{id}/role/{}", role["id"]));
            assert_eq!(one["id"], role["id"]);
            project_roles += 1;
            actors += array(&one["actors"]).len();
        }
        let scheme = fetch(sim, &format!("{root}/project/{id}/permissionscheme"));
        assert!(scheme["id"].is_u64());
        project_schemes += 1;
    }
    put("project_statuses", statuses);
    put("project_roles", project_roles);
    put("project_role_actors", actors);
    put("project_permission_schemes", project_schemes);

    // Groups and their members.
    let groups: Vec<(String, Option<String>)> = if cloud {
        values(sim, &format!("{root}/group/bulk"))
            .iter()
            .map(|g| (text(&g["name"]), Some(text(&g["groupId"]))))
            .collect()
    } else {
        let picked = fetch(sim, &format!("{root}/groups/picker?maxResults=10000"));
        assert_eq!(picked["total"], array(&picked["groups"]).len());
        array(&picked["groups"])
            .iter()
            .map(|g| (text(&g["name"]), None))
            .collect()
    };
    put("groups", groups.len());
    let members: usize = groups
        .iter()
        .map(|(name, id)| {
            let query = match id {
                Some(id) => format!("groupId={id}"),
                None => format!("groupname={name}"),
            };
            all_pages(
                sim,
                &format!("{root}/group/member?{query}&includeInactiveUsers=true"),
                "values",
                1000,
                50,
            )
            .len()
        })
        .sum();
    put("group_members", members);

    // Permission and issue security schemes.
    let schemes = array(&fetch(sim, &format!("{root}/permissionscheme"))["permissionSchemes"]);
    put("permission_schemes", schemes.len());
    let grants: usize = schemes
        .iter()
        .map(|s| {
            array(
                &fetch(
                    sim,
                    &format!("{root}/permissionscheme/{}/permission", s["id"]),
                )["permissions"],
            )
            .len()
        })
        .sum();
    put("permission_grants", grants);
    let security =
        array(&fetch(sim, &format!("{root}/issuesecurityschemes"))["issueSecuritySchemes"]);
    put("issue_security_schemes", security.len());
    let levels: usize = security
        .iter()
        .map(|s| {
            array(&fetch(sim, &format!("{root}/issuesecurityschemes/{}", s["id"]))["levels"]).len()
        })
        .sum();
    put("issue_security_levels", levels);

    if cloud {
        put(
            "priorities",
            values(sim, &format!("{root}/priority/search")).len(),
        );
        put("labels", values(sim, &format!("{root}/label")).len());
        let fields = array(&fetch(sim, &format!("{root}/field")));
        let (mut contexts, mut options) = (0, 0);
        for field in fields.iter().filter(|f| f["custom"] == true) {
            let id = text(&field["id"]);
            let kind = field["schema"]["custom"].as_str().unwrap_or_default();
            for context in values(sim, &format!("{root}/field/{id}/context")) {
                contexts += 1;
                if OPTION_TYPES.iter().any(|t| kind.ends_with(t)) {
                    options += values(
                        sim,
                        &format!("{root}/field/{id}/context/{}/option", text(&context["id"])),
                    )
                    .len();
                }
            }
        }
        put("custom_field_contexts", contexts);
        put("custom_field_options", options);
        let workflows = values(
            sim,
            &format!("{root}/workflow/search?expand=statuses,transitions"),
        );
        assert!(
            workflows
                .iter()
                .all(|w| w["id"]["name"].is_string() && w["id"]["entityId"].is_string())
        );
        put("workflows", workflows.len());
        for (name, path) in [
            ("workflow_schemes", "workflowscheme"),
            ("screens", "screens"),
            ("screen_schemes", "screenscheme"),
            ("issue_type_schemes", "issuetypescheme"),
            ("issue_type_screen_schemes", "issuetypescreenscheme"),
            ("field_configurations", "fieldconfiguration"),
            ("field_configuration_schemes", "fieldconfigurationscheme"),
            ("priority_schemes", "priorityscheme"),
            (
                "filters",
                "filter/search?expand=description,owner,jql,viewUrl,searchUrl,favourite,favouritedCount,sharePermissions,editPermissions",
            ),
        ] {
            put(name, values(sim, &format!("{root}/{path}")).len());
        }
        let members: usize = security
            .iter()
            .map(|s| {
                values(
                    sim,
                    &format!(
                        "{root}/issuesecurityschemes/level/member?schemeId={}",
                        s["id"]
                    ),
                )
                .len()
            })
            .sum();
        put("issue_security_level_members", members);
    } else {
        put(
            "priorities",
            array(&fetch(sim, &format!("{root}/priority"))).len(),
        );
        let workflows = array(&fetch(sim, &format!("{root}/workflow")));
        assert!(
            workflows
                .iter()
                .all(|w| w["name"].is_string() && w["steps"].is_u64())
        );
        put("workflows", workflows.len());
    }

    // Jira Software.
    let boards = values(sim, &format!("{agile}/board"));
    put("boards", boards.len());
    let mut sprints = BTreeSet::new();
    let mut epics = BTreeSet::new();
    let (mut configurations, mut board_issues) = (0, 0);
    for board in &boards {
        let id = &board["id"];
        let configuration = fetch(sim, &format!("{agile}/board/{id}/configuration"));
        assert_eq!(&configuration["id"], id);
        configurations += 1;
        let response = send(sim, &format!("{agile}/board/{id}/sprint"));
        if board["type"] == "kanban" {
            assert_eq!(response.status(), 400);
        } else {
            assert_eq!(response.status(), 200);
            for sprint in values(sim, &format!("{agile}/board/{id}/sprint")) {
                sprints.insert(sprint["id"].as_u64().unwrap());
            }
        }
        board_issues += all_pages(
            sim,
            &format!("{agile}/board/{id}/issue?fields=key"),
            "issues",
            7,
            50,
        )
        .len();
        for epic in values(sim, &format!("{agile}/board/{id}/epic")) {
            epics.insert(epic["id"].as_u64().unwrap());
        }
    }
    put("board_configurations", configurations);
    put("sprints", sprints.len());
    put("board_issues", board_issues);
    put("epics", epics.len());
    let memberships: usize = sprints
        .iter()
        .map(|s| {
            all_pages(
                sim,
                &format!("{agile}/sprint/{s}/issue?fields=key"),
                "issues",
                3,
                50,
            )
            .len()
        })
        .sum();
    put("sprint_issues", memberships);

    // The audit log, by offset and limit.
    let mut records = Vec::new();
    loop {
        let page = fetch(
            sim,
            &format!("{root}/auditing/record?offset={}&limit=4", records.len()),
        );
        let got = array(&page["records"]);
        assert_eq!(page["offset"], records.len());
        records.extend(got.iter().cloned());
        if got.is_empty() || records.len() as u64 >= page["total"].as_u64().unwrap() {
            break;
        }
    }
    put("audit_records", records.len());
    rows
}

#[test]
fn every_new_stream_reads_as_many_rows_as_expected_on_both_deployments() {
    for deployment in [Deployment::Cloud, Deployment::Server] {
        let sim = spawn(SimConfig {
            deployment,
            ..SimConfig::default()
        });
        let rows = rows(&sim);
        for (stream, got) in &rows {
            let expected = sim.sim.expected_records(stream, None);
            assert_eq!(Some(*got), expected, "{deployment}: {stream}");
            assert!(*got > 0, "{deployment}: {stream} has rows");
        }
        if deployment == Deployment::Server {
            for cloud_only in ["labels", "filters", "screens", "custom_field_options"] {
                assert_eq!(sim.sim.expected_records(cloud_only, None), None);
            }
        } else {
            assert_eq!(rows.len(), 41, "every stream of the table");
        }
        assert!(sim.sim.unserved().is_empty(), "{:?}", sim.sim.unserved());
    }
}

#[test]
fn agile_pages_cap_at_50_and_the_gateway_serves_them_too() {
    let sim = spawn(SimConfig {
        issues_per_project: 70,
        ..SimConfig::default()
    });
    let page = fetch(
        &sim,
        "/rest/agile/1.0/board/1/issue?fields=key&maxResults=500",
    );
    assert_eq!(page["maxResults"], 50);
    assert_eq!(page["total"], 70);
    assert_eq!(array(&page["issues"]).len(), 50);
    let issue = &page["issues"][0];
    assert_eq!(issue["key"], "WEB-1");
    assert!(
        issue["self"]
            .as_str()
            .unwrap()
            .contains("/rest/agile/1.0/issue/")
    );
    let sprints = fetch(&sim, "/rest/agile/1.0/board/1/sprint?maxResults=2");
    assert_eq!(sprints["isLast"], false);
    assert!(sprints.get("total").is_none(), "sprint pages have no total");
    let future = fetch(&sim, "/rest/agile/1.0/board/1/sprint?state=future");
    assert_eq!(array(&future["values"]).len(), 1);
    assert!(future["values"][0].get("startDate").is_none());

    let token = client()
        .post(format!("{}/oauth/token", sim.url))
        .form(&[
            ("grant_type", "refresh_token"),
            ("client_id", creds::OAUTH_CLIENT_ID),
            ("client_secret", creds::OAUTH_CLIENT_SECRET),
            ("refresh_token", creds::INITIAL_REFRESH_TOKEN),
        ])
        .send()
        .unwrap()
        .json::<Value>()
        .unwrap();
    let through_gateway = client()
        .get(format!("{}/rest/agile/1.0/board", sim.gateway_url()))
        .bearer_auth(token["access_token"].as_str().unwrap())
        .send()
        .unwrap();
    assert_eq!(through_gateway.status(), 200);
    let boards: Value = through_gateway.json().unwrap();
    assert!(
        boards["values"][0]["self"]
            .as_str()
            .unwrap()
            .starts_with(&sim.gateway_url())
    );
    let anonymous = client()
        .get(format!("{}/rest/agile/1.0/board", sim.url))
        .send()
        .unwrap();
    assert_eq!(anonymous.status(), 401);
    assert!(sim.sim.unserved().is_empty());
}

#[test]
fn kanban_boards_refuse_sprints_and_without_jira_software_agile_is_404() {
    let sim = spawn(SimConfig::default());
    let boards = values(&sim, "/rest/agile/1.0/board");
    let kanban = boards.iter().find(|b| b["type"] == "kanban").unwrap();
    let refused = send(
        &sim,
        &format!("/rest/agile/1.0/board/{}/sprint", kanban["id"]),
    );
    assert_eq!(refused.status(), 400);
    assert_eq!(
        refused.json::<Value>().unwrap(),
        serde_json::json!({"errorMessages": ["The board does not support sprints"], "errors": {}})
    );
    assert_eq!(send(&sim, "/rest/agile/1.0/board/999/sprint").status(), 404);
    assert!(sim.sim.unserved().is_empty());

    let plain = spawn(SimConfig {
        jira_software: false,
        ..SimConfig::default()
    });
    for path in [
        "/rest/agile/1.0/board",
        "/rest/agile/1.0/board/1/sprint",
        "/rest/agile/1.0/sprint/1/issue",
    ] {
        assert_eq!(send(&plain, path).status(), 404, "{path}");
    }
    assert!(
        plain.sim.unserved().is_empty(),
        "{:?}",
        plain.sim.unserved()
    );
    for stream in [
        "boards",
        "sprints",
        "sprint_issues",
        "board_issues",
        "epics",
    ] {
        assert_eq!(
            plain.sim.expected_records(stream, None),
            Some(0),
            "{stream}"
        );
    }
    let roles = array(&fetch(&plain, "/rest/api/3/applicationrole"));
    assert!(roles.iter().all(|r| r["key"] != "jira-software"));
    assert_eq!(
        plain.sim.expected_records("application_roles", None),
        Some(roles.len())
    );
}

#[test]
fn audit_records_need_an_administrator_and_filter_from_newest_first() {
    let sim = spawn(SimConfig::default());
    let all = array(&fetch(&sim, "/rest/api/3/auditing/record")["records"]);
    assert_eq!(all.len(), 15);
    let created: Vec<i64> = all
        .iter()
        .map(|r| jira_sim::parse_timestamp(r["created"].as_str().unwrap()).unwrap())
        .collect();
    assert!(created.windows(2).all(|w| w[0] >= w[1]), "newest first");
    assert!(created.iter().all(|&c| c < jira_sim::HISTORY_END_MS));
    // Two records share a millisecond: `from` on it returns both (inclusive).
    let tie = created.windows(2).position(|w| w[0] == w[1]).unwrap();
    let from = all[tie]["created"].as_str().unwrap().replace('+', "%2B");
    let since = fetch(&sim, &format!("/rest/api/3/auditing/record?from={from}"));
    assert_eq!(since["total"], tie + 2);
    assert_eq!(array(&since["records"]).len(), tie + 2);
    let page = fetch(&sim, "/rest/api/3/auditing/record?offset=14&limit=5");
    assert_eq!(
        (page["offset"].as_u64(), page["total"].as_u64()),
        (Some(14), Some(15))
    );
    assert_eq!(array(&page["records"]).len(), 1);
    assert_eq!(
        fetch(&sim, "/rest/api/3/auditing/record")["records"],
        Value::Array(all)
    );
    assert_eq!(
        send(&sim, "/rest/api/3/auditing/record?from=yesterday").status(),
        400
    );

    let user = spawn(SimConfig {
        admin: false,
        ..SimConfig::default()
    });
    let refused = send(&user, "/rest/api/3/auditing/record");
    assert_eq!(refused.status(), 403);
    let body: Value = refused.json().unwrap();
    assert!(
        body["errorMessages"][0]
            .as_str()
            .unwrap()
            .starts_with("You do not have permission")
    );
    assert_eq!(body["errors"], serde_json::json!({}));
    assert_eq!(user.sim.expected_records("audit_records", None), Some(0));
    assert!(user.sim.unserved().is_empty());
}

/// Who may browse an issue, worked out from what the API says (grants, role actors, group
/// members, level members), as a consumer of the streams would.
fn browsers_from_the_api(sim: &RunningSim, key: &str) -> BTreeSet<String> {
    let issue = fetch(
        sim,
        &format!("/rest/api/3/issue/{key}?fields=project,reporter,security"),
    );
    let project = text(&issue["fields"]["project"]["id"]);
    let reporter = text(&issue["fields"]["reporter"]["accountId"]);
    let detail = fetch(sim, &format!("/rest/api/3/project/{project}"));
    let lead = text(&detail["lead"]["accountId"]);
    let group_members = |group_id: &str| -> BTreeSet<String> {
        all_pages(
            sim,
            &format!("/rest/api/3/group/member?groupId={group_id}&includeInactiveUsers=false"),
            "values",
            50,
            50,
        )
        .iter()
        .filter(|u| u["accountType"] == "atlassian")
        .map(|u| text(&u["accountId"]))
        .collect()
    };
    let holders = |holder: &Value| -> BTreeSet<String> {
        match holder["type"].as_str().unwrap() {
            "group" => group_members(holder["value"].as_str().unwrap()),
            "user" => BTreeSet::from([text(&holder["value"])]),
            "projectLead" => BTreeSet::from([lead.clone()]),
            "reporter" => BTreeSet::from([reporter.clone()]),
            "projectRole" => {
                let role = fetch(
                    sim,
                    &format!(
                        "/rest/api/3/project/{project}/role/{}",
                        text(&holder["value"])
                    ),
                );
                array(&role["actors"])
                    .iter()
                    .flat_map(|a| match a["type"].as_str().unwrap() {
                        "atlassian-user-role-actor" => {
                            BTreeSet::from([text(&a["actorUser"]["accountId"])])
                        }
                        _ => group_members(a["actorGroup"]["groupId"].as_str().unwrap()),
                    })
                    .collect()
            }
            _ => BTreeSet::new(),
        }
    };
    let scheme = fetch(
        sim,
        &format!("/rest/api/3/project/{project}/permissionscheme"),
    );
    let grants = fetch(
        sim,
        &format!("/rest/api/3/permissionscheme/{}/permission", scheme["id"]),
    );
    let mut allowed: BTreeSet<String> = array(&grants["permissions"])
        .iter()
        .filter(|g| g["permission"] == "BROWSE_PROJECTS")
        .flat_map(|g| holders(&g["holder"]))
        .collect();
    if let Some(level) = issue["fields"]["security"]["id"].as_str() {
        let members = values(
            sim,
            &format!("/rest/api/3/issuesecurityschemes/level/member?levelId={level}"),
        );
        let level_users: BTreeSet<String> =
            members.iter().flat_map(|m| holders(&m["holder"])).collect();
        allowed.retain(|u| level_users.contains(u));
    }
    allowed
}

#[test]
fn who_may_browse_follows_grants_roles_groups_and_security_levels() {
    let sim = spawn(SimConfig::default());
    let humans: BTreeSet<String> = array(&fetch(&sim, "/rest/api/3/users/search?maxResults=1000"))
        .iter()
        .filter(|u| u["accountType"] == "atlassian" && u["active"] == true)
        .map(|u| text(&u["accountId"]))
        .collect();
    let me = text(&fetch(&sim, "/rest/api/3/myself")["accountId"]);
    let secured: Vec<String> = array(
        &fetch(&sim, "/rest/api/3/search/jql?jql=project%20in%20(WEB,OPS,MOB)&fields=security&maxResults=100")["issues"],
    )
    .iter()
    .filter(|i| i["fields"]["security"].is_object())
    .map(|i| text(&i["key"]))
    .collect();
    assert!(!secured.is_empty(), "some issues have a security level");
    let (mut everyone, mut some) = (0, 0);
    let keys = ["WEB", "OPS", "MOB"]
        .iter()
        .flat_map(|p| (1..=20).map(move |n| format!("{p}-{n}")));
    for key in keys {
        let allowed = sim.sim.who_may_browse(&key);
        assert!(allowed.contains(&me), "{key}: the site's own user sees it");
        assert!(allowed.is_subset(&humans), "{key}");
        if allowed == humans {
            everyone += 1;
        } else {
            some += 1;
        }
        if key.ends_with("-1") || key.ends_with("-2") || secured.contains(&key) {
            assert_eq!(allowed, browsers_from_the_api(&sim, &key), "{key}");
        }
    }
    assert!(
        everyone > 0 && some > 0,
        "{everyone} open, {some} restricted"
    );
    assert!(sim.sim.who_may_browse("NOPE-1").is_empty());

    let server = spawn(SimConfig {
        deployment: Deployment::Server,
        ..SimConfig::default()
    });
    let keys: BTreeSet<String> = array(&fetch(
        &server,
        "/rest/api/2/user/search?username=.&maxResults=1000",
    ))
    .iter()
    .map(|u| text(&u["key"]))
    .collect();
    let allowed = server.sim.who_may_browse("WEB-1");
    assert!(!allowed.is_empty() && allowed.is_subset(&keys) && allowed.len() < keys.len());
}

#[test]
fn issue_security_and_labels_show_in_issues_as_the_lists_say() {
    let sim = spawn(SimConfig::default());
    let issues = array(
        &fetch(
            &sim,
            "/rest/api/3/search/jql?jql=project%20in%20(WEB,OPS,MOB)&fields=security,labels&maxResults=100",
        )["issues"],
    );
    let labels: BTreeSet<String> = issues
        .iter()
        .flat_map(|i| array(&i["fields"]["labels"]))
        .map(|l| text(&l))
        .collect();
    let listed: BTreeSet<String> = values(&sim, "/rest/api/3/label").iter().map(text).collect();
    assert_eq!(labels, listed);
    let levels: BTreeSet<String> =
        array(&fetch(&sim, "/rest/api/3/issuesecurityschemes")["issueSecuritySchemes"])
            .iter()
            .flat_map(|s| {
                array(
                    &fetch(
                        &sim,
                        &format!("/rest/api/3/issuesecurityschemes/{}", s["id"]),
                    )["levels"],
                )
            })
            .map(|l| text(&l["id"]))
            .collect();
    for issue in &issues {
        let security = &issue["fields"]["security"];
        if security.is_object() {
            assert!(levels.contains(&text(&security["id"])));
            for key in ["self", "id", "name", "description"] {
                assert!(security.get(key).is_some(), "security.{key}");
            }
        } else {
            assert!(security.is_null());
        }
    }
    // Sprint members are the issues whose Sprint field names the sprint.
    let sprint_field = array(&fetch(&sim, "/rest/api/3/field"))
        .into_iter()
        .find(|f| f["name"] == "Sprint")
        .unwrap();
    let field = text(&sprint_field["id"]);
    let all = array(
        &fetch(
            &sim,
            &format!(
                "/rest/api/3/search/jql?jql=project%20%3D%20WEB&fields={field}&maxResults=100"
            ),
        )["issues"],
    );
    let in_sprint_2: BTreeSet<String> = all
        .iter()
        .filter(|i| {
            i["fields"][&field]
                .as_array()
                .is_some_and(|s| s.iter().any(|s| s["id"] == 2))
        })
        .map(|i| text(&i["key"]))
        .collect();
    let listed: BTreeSet<String> = all_pages(
        &sim,
        "/rest/agile/1.0/sprint/2/issue?fields=key",
        "issues",
        50,
        50,
    )
    .iter()
    .map(|i| text(&i["key"]))
    .collect();
    assert_eq!(in_sprint_2, listed);
}
