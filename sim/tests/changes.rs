//! Changes made to the site between runs, seen over HTTP on both deployments: deleted issues
//! (gone from searches, 404, links, boards, worklogs, `expected_records`; an audit record),
//! deleted worklogs (`worklog/deleted` pages, gone from their issue and the worklog lists),
//! custom fields added, retyped and removed (`/field`, contexts, issues, `names`/`schema`), and
//! the admin endpoints that make these changes.

mod common;

use std::collections::{BTreeSet, HashSet};

use common::{client, send};
use jira_sim::{CustomFieldType, Deployment, RunningSim, SimConfig, creds, spawn};
use reqwest::Method;
use reqwest::blocking::RequestBuilder;
use serde_json::{Value, json};

const MISSING: &str = "Issue does not exist or you do not have permission to see it.";

fn both() -> [Deployment; 2] {
    [Deployment::Cloud, Deployment::Server]
}

fn site(deployment: Deployment) -> RunningSim {
    spawn(SimConfig {
        deployment,
        ..SimConfig::default()
    })
}

fn cloud(sim: &RunningSim) -> bool {
    sim.sim.config().deployment == Deployment::Cloud
}

fn root(sim: &RunningSim) -> &'static str {
    if cloud(sim) {
        "/rest/api/3"
    } else {
        "/rest/api/2"
    }
}

fn authed(sim: &RunningSim, request: RequestBuilder) -> RequestBuilder {
    if cloud(sim) {
        request.basic_auth(creds::EMAIL, Some(creds::API_TOKEN))
    } else {
        request.basic_auth(creds::USERNAME, Some(creds::PASSWORD))
    }
}

fn fetch(sim: &RunningSim, path: &str) -> Value {
    let response = send(sim, path);
    assert_eq!(response.status(), 200, "GET {path}");
    response.json().unwrap()
}

fn status_of(sim: &RunningSim, path: &str) -> (u16, Value) {
    let response = send(sim, path);
    (response.status().as_u16(), response.json().unwrap())
}

fn post(sim: &RunningSim, path: &str, body: &Value) -> (u16, Value) {
    let request = client().post(format!("{}{path}", sim.url)).json(body);
    let response = authed(sim, request).send().unwrap();
    (response.status().as_u16(), response.json().unwrap())
}

/// An admin call (no credentials, as people make them).
fn admin(sim: &RunningSim, method: Method, path: &str) -> (u16, Value) {
    let response = client()
        .request(method, format!("{}{path}", sim.url))
        .send()
        .unwrap();
    (response.status().as_u16(), response.json().unwrap())
}

fn expected(sim: &RunningSim, stream: &str) -> usize {
    sim.sim.expected_records(stream, None).unwrap()
}

fn expected_for(sim: &RunningSim, stream: &str, keys: &[String]) -> usize {
    sim.sim.expected_records(stream, Some(keys)).unwrap()
}

fn array(value: &Value) -> Vec<Value> {
    value.as_array().cloned().unwrap_or_default()
}

/// Every issue a complete search returns (`/search/jql` by token on Cloud, `/search` by offset
/// on Server) with `fields`, and the page's `names` / `schema` of the first page.
fn search(sim: &RunningSim, fields: &str, expand: &str) -> (Vec<Value>, Value) {
    let jql = "project in (WEB, OPS, MOB) ORDER BY key ASC";
    let mut issues: Vec<Value> = Vec::new();
    let mut first: Option<Value> = None;
    let mut token: Option<String> = None;
    loop {
        let mut body =
            json!({ "jql": jql, "fields": [fields], "expand": [expand], "maxResults": 25 });
        let path = if cloud(sim) {
            if let Some(token) = &token {
                body["nextPageToken"] = json!(token);
            }
            format!("{}/search/jql", root(sim))
        } else {
            body["startAt"] = json!(issues.len());
            format!("{}/search", root(sim))
        };
        let (status, page) = post(sim, &path, &body);
        assert_eq!(status, 200, "{page}");
        let got = array(&page["issues"]);
        issues.extend(got.iter().cloned());
        let done = if cloud(sim) {
            token = page["nextPageToken"].as_str().map(String::from);
            token.is_none()
        } else {
            issues.len() as u64 >= page["total"].as_u64().unwrap() || got.is_empty()
        };
        first.get_or_insert(page);
        if done {
            return (issues, first.unwrap_or_default());
        }
    }
}

fn keys_of(issues: &[Value]) -> BTreeSet<String> {
    issues
        .iter()
        .map(|i| i["key"].as_str().unwrap().to_string())
        .collect()
}

/// The keys an issue's `issuelinks` point at.
fn linked_keys(issue: &Value) -> Vec<String> {
    array(&issue["fields"]["issuelinks"])
        .iter()
        .map(|l| {
            let other = l.get("outwardIssue").or_else(|| l.get("inwardIssue"));
            other.unwrap()["key"].as_str().unwrap().to_string()
        })
        .collect()
}

/// Pages `{path}?since={since}` (`worklog/updated` or `worklog/deleted`) to its last page; the
/// rows `(worklogId, updatedTime)` in order and the number of pages.
fn changed_worklogs(sim: &RunningSim, path: &str, since: i64) -> (Vec<(u64, i64)>, usize) {
    let mut rows = Vec::new();
    let mut next = format!("{}/{path}?since={since}", root(sim));
    for pages in 1..100 {
        let page = fetch(sim, &next);
        let values = array(&page["values"]);
        assert!(values.len() <= 1000);
        let times: Vec<i64> = values
            .iter()
            .map(|v| v["updatedTime"].as_i64().unwrap())
            .collect();
        assert!(times.windows(2).all(|w| w[0] <= w[1]), "oldest first");
        assert_eq!(
            page["until"].as_i64(),
            Some(
                times
                    .last()
                    .copied()
                    .unwrap_or(page["since"].as_i64().unwrap())
            )
        );
        assert!(page["self"].as_str().unwrap().ends_with(&next));
        for v in &values {
            assert_eq!(v["properties"], json!([]));
            rows.push((
                v["worklogId"].as_u64().unwrap(),
                v["updatedTime"].as_i64().unwrap(),
            ));
        }
        if page["lastPage"] == true {
            assert!(page.get("nextPage").is_none());
            return (rows, pages);
        }
        let url = page["nextPage"].as_str().unwrap();
        assert!(url.ends_with(&format!("{path}?since={}", page["until"])));
        next = url.trim_start_matches(&sim.url).to_string();
    }
    panic!("{path} never reached its last page");
}

fn worklog_ids(sim: &RunningSim, key: &str) -> Vec<u64> {
    array(&fetch(sim, &format!("{}/issue/{key}/worklog", root(sim)))["worklogs"])
        .iter()
        .map(|w| w["id"].as_str().unwrap().parse().unwrap())
        .collect()
}

/// The audit records whose words match `filter`, newest first.
fn audit(sim: &RunningSim, filter: &str) -> Vec<Value> {
    let filter: String = filter.replace(' ', "%20");
    array(
        &fetch(
            sim,
            &format!("{}/auditing/record?filter={filter}", root(sim)),
        )["records"],
    )
}

#[test]
fn a_deleted_issue_is_gone_from_every_answer_on_both_deployments() {
    for deployment in both() {
        let sim = site(deployment);
        let root = root(&sim);
        let (before, _) = search(&sim, "issuelinks,subtasks,worklog,updated", "");
        let total = before.len();
        let links_before = expected(&sim, "issue_links");
        let worklogs_before = expected(&sim, "worklogs");
        let audit_before = expected(&sim, "audit_records");
        // One issue with links, one with worklogs, one in a sprint: none with sub-tasks.
        let leaf = |i: &&Value| array(&i["fields"]["subtasks"]).is_empty();
        let linked = before
            .iter()
            .filter(leaf)
            .find(|i| !linked_keys(i).is_empty())
            .unwrap();
        let logged = before
            .iter()
            .filter(leaf)
            .find(|i| i["fields"]["worklog"]["total"].as_u64() > Some(1) && *i != linked)
            .unwrap();
        let sprint = fetch(&sim, "/rest/agile/1.0/board/2/sprint")["values"][0]["id"].clone();
        let sprint_path = format!("/rest/agile/1.0/sprint/{sprint}/issue?maxResults=50");
        let in_sprint = array(&fetch(&sim, &sprint_path)["issues"]);
        let leaves: BTreeSet<String> =
            keys_of(&before.iter().filter(leaf).cloned().collect::<Vec<_>>());
        let planned = in_sprint
            .iter()
            .map(|i| i["key"].as_str().unwrap())
            .find(|k| leaves.contains(*k) && ![&linked["key"], &logged["key"]].contains(&&json!(k)))
            .map(String::from)
            .unwrap();
        let victims: Vec<String> = vec![
            linked["key"].as_str().unwrap().to_string(),
            logged["key"].as_str().unwrap().to_string(),
            planned.clone(),
        ];
        let their_links = expected_for(&sim, "issue_links", &victims);
        // The other ends of the victims' links, on issues that stay.
        let pointing: usize = before
            .iter()
            .filter(|i| !victims.contains(&i["key"].as_str().unwrap().to_string()))
            .map(|i| {
                linked_keys(i)
                    .iter()
                    .filter(|k| victims.contains(k))
                    .count()
            })
            .sum();
        let their_worklogs = expected_for(&sim, "worklogs", &victims);
        let logged_ids = worklog_ids(&sim, &victims[1]);
        let ends = linked_keys(linked);
        let board_before =
            fetch(&sim, "/rest/agile/1.0/board/2/issue?maxResults=1")["total"].clone();

        let started = jira_sim::HISTORY_END_MS.max(now_ms());
        let mut gone = Vec::new();
        for key in &victims {
            // On Server through the admin endpoint, on Cloud through the `Sim` method.
            let deleted = if cloud(&sim) {
                sim.sim.delete_issue(key).unwrap()
            } else {
                let (status, body) = admin(
                    &sim,
                    Method::POST,
                    &format!("/_sim/delete-issues?issue={key}"),
                );
                assert_eq!(status, 200);
                let last = array(&body["deleted"]).pop().unwrap();
                jira_sim::DeletedIssue {
                    id: last["id"].as_str().unwrap().to_string(),
                    key: last["key"].as_str().unwrap().to_string(),
                    deleted_at_ms: last["deletedAt"].as_i64().unwrap(),
                }
            };
            assert_eq!(&deleted.key, key);
            gone.push(deleted);
        }
        let finished = now_ms();
        assert_eq!(sim.sim.deleted_issues(), gone);

        // 404 on the issue and every child, by key and by id.
        for d in &gone {
            for path in [
                format!("issue/{}", d.key),
                format!("issue/{}", d.id),
                format!("issue/{}/comment", d.key),
                format!("issue/{}/worklog", d.id),
                format!("issue/{}/transitions", d.key),
                format!("issue/{}/remotelink", d.key),
                format!("issue/{}/watchers", d.key),
                format!("issue/{}/votes", d.key),
            ] {
                let (status, body) = status_of(&sim, &format!("{root}/{path}"));
                assert_eq!((status, &body["errorMessages"][0]), (404, &json!(MISSING)));
            }
            if cloud(&sim) {
                let (status, _) = status_of(&sim, &format!("{root}/issue/{}/changelog", d.key));
                assert_eq!(status, 404);
            }
            // JQL naming it is refused, as for any key that does not exist.
            let (status, body) = post(
                &sim,
                &format!(
                    "{root}/{}",
                    if cloud(&sim) { "search/jql" } else { "search" }
                ),
                &json!({ "jql": format!("key = {}", d.key) }),
            );
            assert_eq!(status, 400, "{body}");
        }

        // Searches, counts and the other ends of the links.
        let (after, _) = search(&sim, "issuelinks", "");
        let keys = keys_of(&after);
        assert_eq!(after.len(), total - 3);
        assert!(victims.iter().all(|v| !keys.contains(v)));
        assert_eq!(sim.sim.issue_count(), total - 3);
        assert_eq!(expected(&sim, "issues"), total - 3);
        let links: usize = after.iter().map(|i| linked_keys(i).len()).sum();
        assert_eq!(links, expected(&sim, "issue_links"));
        assert_eq!(links, links_before - their_links - pointing, "both ends go");
        assert!(pointing > 0);
        for end in ends.iter().filter(|e| !victims.contains(e)) {
            let other = fetch(&sim, &format!("{root}/issue/{end}?fields=issuelinks"));
            assert!(
                linked_keys(&other).iter().all(|k| !victims.contains(k)),
                "{end}"
            );
        }

        // Worklogs: gone from the lists, listed as deleted (once the minute has passed).
        assert_eq!(expected(&sim, "worklogs"), worklogs_before - their_worklogs);
        let (status, listed) = post(
            &sim,
            &format!("{root}/worklog/list"),
            &json!({ "ids": logged_ids }),
        );
        assert_eq!((status, listed), (200, json!([])));
        let (updated, _) = changed_worklogs(&sim, "worklog/updated", 0);
        assert!(updated.iter().all(|(id, _)| !logged_ids.contains(id)));
        assert_eq!(updated.len(), expected(&sim, "worklogs"));
        sim.sim.set_worklog_settling_ms(0);
        let (deleted, _) = changed_worklogs(&sim, "worklog/deleted", 0);
        assert_eq!(deleted.len(), their_worklogs);
        for id in &logged_ids {
            let at = deleted.iter().find(|(d, _)| d == id).unwrap().1;
            assert_eq!(at, gone[1].deleted_at_ms);
        }

        // Boards and sprints.
        let board = fetch(&sim, "/rest/agile/1.0/board/2/issue?maxResults=50");
        let on_board = keys_of(&array(&board["issues"]));
        assert!(victims.iter().all(|v| !on_board.contains(v)));
        assert!(board["total"].as_u64() < board_before.as_u64());
        let sprint_keys = keys_of(&array(&fetch(&sim, &sprint_path)["issues"]));
        let mut staying = keys_of(&in_sprint);
        staying.retain(|k| !victims.contains(k));
        assert_eq!(sprint_keys, staying);
        assert!(!sprint_keys.contains(&planned));

        if cloud(&sim) {
            let live = after
                .iter()
                .find(|i| {
                    expected_for(&sim, "changelogs", &[i["key"].as_str().unwrap().into()]) > 0
                })
                .unwrap();
            let (live, live_id) = (live["key"].as_str().unwrap(), &live["id"]);
            let (status, logs) = post(
                &sim,
                &format!("{root}/changelog/bulkfetch"),
                &json!({ "issueIdsOrKeys": [victims[0], live, gone[2].id] }),
            );
            assert_eq!(status, 200);
            let ids: Vec<&Value> = logs["issueChangeLogs"]
                .as_array()
                .unwrap()
                .iter()
                .map(|l| &l["issueId"])
                .collect();
            assert_eq!(ids, [live_id], "only the live issue");
        }

        // One audit record each, newest first, in Jira's shape.
        let me = fetch(&sim, &format!("{root}/myself"));
        let records = audit(&sim, "Issue deleted");
        assert_eq!(records.len(), 3);
        assert_eq!(expected(&sim, "audit_records"), audit_before + 3);
        for (record, d) in records.iter().zip(gone.iter().rev()) {
            assert_eq!(record["summary"], "Issue deleted");
            assert_eq!(record["category"], "issue management");
            assert_eq!(record["eventSource"], "");
            assert_eq!(
                record["objectItem"],
                json!({ "id": d.id, "name": d.key, "typeName": "ISSUE" })
            );
            let project = fetch(
                &sim,
                &format!("{root}/project/{}", d.key.split('-').next().unwrap()),
            );
            assert_eq!(
                record["associatedItems"],
                json!([{ "id": project["id"], "name": project["name"], "typeName": "PROJECT" }])
            );
            let created = jira_sim::parse_timestamp(record["created"].as_str().unwrap()).unwrap();
            assert_eq!(created, d.deleted_at_ms);
            assert!(started <= created + 1 && created <= finished);
            assert!(record["remoteAddress"].is_string());
            if cloud(&sim) {
                assert_eq!(record["authorAccountId"], me["accountId"]);
            } else {
                assert_eq!(record["authorKey"], me["key"]);
                assert!(record.get("authorAccountId").is_none());
            }
        }
        // `from` and `to` bound them as any record; the newest come first without a filter.
        let created =
            |r: &Value| jira_sim::parse_timestamp(r["created"].as_str().unwrap()).unwrap();
        let middle = created(&records[1]);
        let from = records[1]["created"].as_str().unwrap().replace('+', "%2B");
        let since = array(&fetch(&sim, &format!("{root}/auditing/record?from={from}"))["records"]);
        assert!(since.len() >= 2 && since.iter().all(|r| created(r) >= middle));
        assert!(since.contains(&records[0]) && since.contains(&records[1]));
        let until = array(&fetch(&sim, &format!("{root}/auditing/record?to={from}"))["records"]);
        assert!(until.contains(&records[1]) && until.iter().all(|r| created(r) <= middle));
        assert_eq!(
            since.len() + until.len(),
            expected(&sim, "audit_records") + until.iter().filter(|r| created(r) == middle).count()
        );
        let newest = fetch(&sim, &format!("{root}/auditing/record?limit=1"));
        assert_eq!(newest["records"][0], records[0]);
        assert!(sim.sim.unserved().is_empty());
    }
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

#[test]
fn issues_are_deleted_across_projects_with_their_subtasks_and_epics_keep_their_issues() {
    for deployment in both() {
        let sim = site(deployment);
        let root = root(&sim);
        let gone = sim.sim.delete_issues(3);
        let projects: BTreeSet<&str> = gone
            .iter()
            .map(|d| d.key.split('-').next().unwrap())
            .collect();
        assert_eq!(projects.len(), 3, "one in each project");
        assert!(
            gone.windows(2)
                .all(|w| w[0].deleted_at_ms <= w[1].deleted_at_ms)
        );
        // The same seed picks the same issues.
        let again = site(deployment).sim.delete_issues(3);
        assert_eq!(
            again.iter().map(|d| &d.key).collect::<Vec<_>>(),
            gone.iter().map(|d| &d.key).collect::<Vec<_>>()
        );

        // A parent takes its sub-tasks; an epic leaves its issues without a parent.
        let (issues, _) = search(&sim, "subtasks,issuetype,parent", "");
        let parent = issues
            .iter()
            .find(|i| {
                let subtasks = array(&i["fields"]["subtasks"]);
                !subtasks.is_empty() && i["fields"]["issuetype"]["name"] != "Epic"
            })
            .unwrap();
        let subtasks: Vec<String> = array(&parent["fields"]["subtasks"])
            .iter()
            .map(|s| s["key"].as_str().unwrap().to_string())
            .collect();
        let key = parent["key"].as_str().unwrap();
        let deleted = sim.sim.delete_issue(key).unwrap();
        assert_eq!(deleted.key, key);
        assert!(sim.sim.delete_issue(key).is_none(), "already deleted");
        let all: Vec<String> = sim
            .sim
            .deleted_issues()
            .into_iter()
            .map(|d| d.key)
            .collect();
        for s in &subtasks {
            assert!(all.contains(s), "{s} went with {key}");
            assert_eq!(status_of(&sim, &format!("{root}/issue/{s}")).0, 404);
        }
        assert_eq!(audit(&sim, "Issue deleted").len(), 3 + 1 + subtasks.len());

        let epic = issues
            .iter()
            .find(|i| {
                i["fields"]["issuetype"]["name"] == "Epic"
                    && !array(&i["fields"]["subtasks"]).is_empty()
                    && !all.contains(&i["key"].as_str().unwrap().to_string())
            })
            .unwrap();
        let children: Vec<String> = array(&epic["fields"]["subtasks"])
            .iter()
            .map(|s| s["key"].as_str().unwrap().to_string())
            .collect();
        assert!(sim.sim.delete_issue(epic["id"].as_str().unwrap()).is_some());
        for child in &children {
            let issue = fetch(&sim, &format!("{root}/issue/{child}?fields=parent,summary"));
            assert!(
                issue["fields"].get("parent").is_none(),
                "{child} has no parent now"
            );
        }
        let epics = fetch(&sim, "/rest/agile/1.0/board/1/epic");
        assert!(
            array(&epics["values"])
                .iter()
                .all(|e| e["key"] != epic["key"])
        );
        assert_eq!(
            expected(&sim, "issues"),
            issues.len() - 1 - subtasks.len() - 1
        );
    }
}

#[test]
fn worklog_deleted_pages_like_worklog_updated_on_both_deployments() {
    for deployment in both() {
        // Every issue busy: about 2,700 worklogs.
        let sim = spawn(SimConfig {
            deployment,
            busy_every: 1,
            ..SimConfig::default()
        });
        let root = root(&sim);
        let none = fetch(&sim, &format!("{root}/worklog/deleted?since=0"));
        assert_eq!(
            (
                &none["values"],
                &none["since"],
                &none["until"],
                &none["lastPage"]
            ),
            (&json!([]), &json!(0), &json!(0), &json!(true))
        );
        let before = expected(&sim, "worklogs");

        // Deleted now: held back for a minute, as Jira does.
        let first = sim.sim.delete_worklogs(600);
        assert_eq!(first.len(), 600);
        let at = first[0].deleted_at_ms;
        assert!(changed_worklogs(&sim, "worklog/deleted", 0).0.is_empty());
        sim.sim.set_worklog_settling_ms(0);
        std::thread::sleep(std::time::Duration::from_millis(3));
        let second = sim.sim.delete_worklogs(600);
        std::thread::sleep(std::time::Duration::from_millis(3));
        let third = sim.sim.delete_worklogs(600);
        let all: Vec<jira_sim::DeletedWorklog> =
            first.iter().chain(&second).chain(&third).cloned().collect();
        assert_eq!(sim.sim.deleted_worklogs().len(), 1800);

        // Pages of 1000 at most, restarting at `until`; every deletion at its time.
        let (rows, pages) = changed_worklogs(&sim, "worklog/deleted", 0);
        assert!(pages >= 2, "{pages} pages");
        let listed: HashSet<u64> = rows.iter().map(|(id, _)| *id).collect();
        let wanted: HashSet<u64> = all.iter().map(|d| d.worklog_id).collect();
        assert_eq!(listed, wanted);
        for d in &all {
            assert!(rows.contains(&(d.worklog_id, d.deleted_at_ms)));
        }
        let (later, _) = changed_worklogs(&sim, "worklog/deleted", third[0].deleted_at_ms);
        assert_eq!(later.len(), 600, "since is inclusive");
        assert!(changed_worklogs(&sim, "worklog/deleted", at - 1).0.len() >= 1800);

        // Gone from worklog/updated, worklog/list, and their issues.
        assert_eq!(expected(&sim, "worklogs"), before - 1800);
        let (updated, _) = changed_worklogs(&sim, "worklog/updated", 0);
        let updated: HashSet<u64> = updated.iter().map(|(id, _)| *id).collect();
        assert_eq!(updated.len(), before - 1800);
        assert!(updated.is_disjoint(&wanted));
        let live = *updated.iter().next().unwrap();
        let (status, listed) = post(
            &sim,
            &format!("{root}/worklog/list"),
            &json!({ "ids": [all[0].worklog_id, live, all[1].worklog_id] }),
        );
        assert_eq!(status, 200);
        assert_eq!(array(&listed).len(), 1);
        assert_eq!(listed[0]["id"], json!(live.to_string()));
        let issue = &all[0].issue_id;
        let page = fetch(&sim, &format!("{root}/issue/{issue}/worklog?maxResults=50"));
        let remaining = sim
            .sim
            .expected_records("worklogs", Some(std::slice::from_ref(issue)))
            .unwrap();
        assert_eq!(page["total"].as_u64(), Some(remaining as u64));
        let embedded = fetch(&sim, &format!("{root}/issue/{issue}?fields=worklog"));
        assert_eq!(embedded["fields"]["worklog"]["total"], page["total"]);
        let ids = worklog_ids(&sim, issue);
        assert!(all.iter().all(|d| !ids.contains(&d.worklog_id)));

        // An issue's deletion lists its remaining worklogs, at the issue's deletion time.
        let key = all
            .iter()
            .map(|d| d.issue_id.clone())
            .find(|id| {
                let issue = fetch(&sim, &format!("{root}/issue/{id}?fields=subtasks"));
                array(&issue["fields"]["subtasks"]).is_empty()
            })
            .unwrap();
        let left = worklog_ids(&sim, &key);
        let gone = sim.sim.delete_issue(&key).unwrap();
        let (rows, _) = changed_worklogs(&sim, "worklog/deleted", gone.deleted_at_ms);
        let at_deletion: Vec<u64> = rows
            .iter()
            .filter(|(_, t)| *t == gone.deleted_at_ms)
            .map(|(id, _)| *id)
            .collect();
        assert_eq!(
            at_deletion.iter().collect::<BTreeSet<_>>(),
            left.iter().collect::<BTreeSet<_>>()
        );
        assert_eq!(sim.sim.deleted_worklogs().len(), 1800 + left.len());
        assert!(sim.sim.unserved().is_empty());
    }
}

/// Each issue's value of `field` (Null when the issue has it but empty), by key; issues without
/// the key at all are left out.
fn values_of(issues: &[Value], field: &str) -> Vec<(String, Value)> {
    issues
        .iter()
        .filter_map(|i| {
            let value = i["fields"].get(field)?;
            Some((i["key"].as_str().unwrap().to_string(), value.clone()))
        })
        .collect()
}

fn field_entry(sim: &RunningSim, id: &str) -> Option<Value> {
    array(&fetch(sim, &format!("{}/field", root(sim))))
        .into_iter()
        .find(|f| f["id"] == id)
}

#[test]
fn custom_fields_appear_change_type_and_disappear_on_both_deployments() {
    for deployment in both() {
        let sim = site(deployment);
        let root = root(&sim);
        let fields_before = sim.sim.field_count();
        let (issues_before, _) = search(&sim, "updated", "");
        let updated_before = values_of(&issues_before, "updated");

        // Added: next free id, in /field, in issues with values on some, in names and schema.
        let id = sim
            .sim
            .add_custom_field("Risk score", CustomFieldType::Float);
        assert_eq!(id, "customfield_10025");
        assert_eq!(sim.sim.field_count(), fields_before + 1);
        assert_eq!(expected(&sim, "fields"), fields_before + 1);
        let entry = field_entry(&sim, &id).unwrap();
        assert_eq!(entry["name"], "Risk score");
        assert_eq!(entry["custom"], true);
        assert_eq!(entry["clauseNames"], json!(["cf[10025]", "Risk score"]));
        assert_eq!(
            entry["schema"],
            json!({
                "type": "number",
                "custom": "com.atlassian.jira.plugin.system.customfieldtypes:float",
                "customId": 10025,
            })
        );
        assert_eq!(entry.get("untranslatedName").is_some(), cloud(&sim));
        let (issues, page) = search(&sim, &format!("{id},updated"), "names,schema");
        assert_eq!(page["names"][&id], "Risk score");
        assert_eq!(page["schema"][&id]["type"], "number");
        let numbers = values_of(&issues, &id);
        assert_eq!(numbers.len(), issues.len(), "every issue has the key");
        let set: Vec<&(String, Value)> = numbers.iter().filter(|(_, v)| !v.is_null()).collect();
        assert!(
            set.len() > issues.len() / 3 && set.len() < issues.len(),
            "{}",
            set.len()
        );
        assert!(set.iter().all(|(_, v)| v.is_f64()));
        assert_eq!(
            values_of(&issues, "updated"),
            updated_before,
            "updated stays"
        );
        let one = &set[0].0;
        let issue = fetch(&sim, &format!("{root}/issue/{one}"));
        assert_eq!(issue["fields"][&id], set[0].1);
        // The same again: values are deterministic.
        assert_eq!(values_of(&search(&sim, &id, "").0, &id), numbers);

        // Retyped: the same id and name, a text field now, text values.
        assert!(sim.sim.retype_custom_field(&id, CustomFieldType::TextField));
        let entry = field_entry(&sim, &id).unwrap();
        assert_eq!(entry["name"], "Risk score");
        assert_eq!(entry["schema"]["type"], "string");
        assert_eq!(
            entry["schema"]["custom"],
            "com.atlassian.jira.plugin.system.customfieldtypes:textfield"
        );
        let (issues, page) = search(&sim, &id, "schema");
        assert_eq!(page["schema"][&id]["type"], "string");
        let texts = values_of(&issues, &id);
        assert!(texts.iter().any(|(_, v)| v.is_string()));
        assert!(texts.iter().all(|(_, v)| v.is_string() || v.is_null()));

        // A select list brings its contexts and options (Cloud lists them).
        let select = sim.sim.add_custom_field("Tier", CustomFieldType::Select);
        assert_eq!(select, "customfield_10026");
        let (issues, _) = search(&sim, &select, "");
        let options: Vec<Value> = values_of(&issues, &select)
            .into_iter()
            .map(|(_, v)| v)
            .filter(|v| !v.is_null())
            .collect();
        assert!(!options.is_empty());
        assert!(
            options
                .iter()
                .all(|o| o["value"].is_string() && o["id"].is_string())
        );
        if cloud(&sim) {
            let contexts = array(&fetch(&sim, &format!("{root}/field/{select}/context"))["values"]);
            assert_eq!(contexts.len(), 2);
            let global = contexts[0]["id"].as_str().unwrap();
            let path = format!("{root}/field/{select}/context/{global}/option");
            let listed = array(&fetch(&sim, &path)["values"]);
            assert_eq!(listed.len(), 4);
            for option in &options {
                assert!(listed.iter().any(|o| o["id"] == option["id"]), "{option}");
            }
        }

        // Removed: gone from /field, contexts, issues and their names.
        assert!(sim.sim.remove_custom_field(&id));
        assert!(!sim.sim.remove_custom_field(&id), "already gone");
        assert!(field_entry(&sim, &id).is_none());
        assert_eq!(expected(&sim, "fields"), fields_before + 1);
        let (issues, page) = search(&sim, "*all", "names");
        assert!(issues.iter().all(|i| i["fields"].get(&id).is_none()));
        assert!(issues.iter().all(|i| i["fields"].get(&select).is_some()));
        assert!(page["names"].get(&id).is_none());
        let one = fetch(&sim, &format!("{root}/issue/{one}"));
        assert!(one["fields"].get(&id).is_none());
        if cloud(&sim) {
            assert_eq!(
                status_of(&sim, &format!("{root}/field/{id}/context")).0,
                404
            );
        }
        // Ids are not reused.
        assert_eq!(
            sim.sim
                .add_custom_field("Risk score", CustomFieldType::Float),
            "customfield_10027"
        );

        // System fields and the fields Jira Software manages stay as they are.
        let sprint = array(&fetch(&sim, &format!("{root}/field")))
            .into_iter()
            .find(|f| f["name"] == "Sprint")
            .unwrap();
        let sprint = sprint["id"].as_str().unwrap();
        assert!(!sim.sim.remove_custom_field(sprint));
        assert!(
            !sim.sim
                .retype_custom_field(sprint, CustomFieldType::TextField)
        );
        assert!(!sim.sim.remove_custom_field("summary"));
        assert!(
            !sim.sim
                .retype_custom_field("customfield_99999", CustomFieldType::Url)
        );

        // Jira's audit records of the changes.
        let records = audit(&sim, "Custom field");
        let mine: Vec<(&Value, &Value)> = records
            .iter()
            .filter(|r| r["objectItem"]["id"] == id)
            .map(|r| (&r["summary"], &r["category"]))
            .collect();
        let fields = json!("fields");
        assert_eq!(
            mine,
            [
                (&json!("Custom field deleted"), &fields),
                (&json!("Custom field updated"), &fields),
                (&json!("Custom field created"), &fields),
            ]
        );
        let updated = records
            .iter()
            .find(|r| r["summary"] == "Custom field updated")
            .unwrap();
        assert_eq!(
            updated["changedValues"],
            json!([{ "fieldName": "Type", "changedFrom": "Number Field", "changedTo": "Text Field (single line)" }])
        );
        assert_eq!(updated["objectItem"]["typeName"], "CUSTOM_FIELD");
        assert!(sim.sim.unserved().is_empty());
    }
}

#[test]
fn admin_endpoints_delete_and_change_fields_and_are_not_logged() {
    for deployment in both() {
        let sim = site(deployment);
        let worklogs_before = expected(&sim, "worklogs");
        let (status, deleted) = admin(&sim, Method::POST, "/_sim/delete-issues?n=2");
        assert_eq!(status, 200);
        let deleted = array(&deleted["deleted"]);
        assert_eq!(deleted.len(), 2);
        for d in &deleted {
            assert!(d["id"].is_string() && d["key"].is_string() && d["deletedAt"].is_i64());
        }
        assert_eq!(
            admin(&sim, Method::POST, "/_sim/delete-issues?issue=NOPE-1").0,
            404
        );
        let (status, worklogs) = admin(&sim, Method::POST, "/_sim/delete-worklogs?n=3");
        assert_eq!(status, 200);
        let worklogs = array(&worklogs["deleted"]);
        assert_eq!(worklogs.len(), 3);
        for w in &worklogs {
            assert!(w["worklogId"].is_u64() && w["issueId"].is_string() && w["deletedAt"].is_i64());
        }

        let (status, added) = admin(&sim, Method::POST, "/_sim/fields?name=Tier&type=select");
        assert_eq!(status, 201);
        let id = added["added"]["id"].as_str().unwrap().to_string();
        assert_eq!(
            added["added"],
            json!({
                "id": id,
                "name": "Tier",
                "type": "com.atlassian.jira.plugin.system.customfieldtypes:select",
            })
        );
        let (status, retyped) = admin(
            &sim,
            Method::PUT,
            &format!("/_sim/fields/{id}?type=multiselect"),
        );
        assert_eq!(status, 200);
        assert_eq!(
            retyped["retyped"]["to"],
            "com.atlassian.jira.plugin.system.customfieldtypes:multiselect"
        );
        assert_eq!(retyped["retyped"]["from"], added["added"]["type"]);
        assert_eq!(field_entry(&sim, &id).unwrap()["schema"]["items"], "option");
        let (status, bad) = admin(&sim, Method::PUT, &format!("/_sim/fields/{id}?type=sprint"));
        assert_eq!(status, 400);
        assert!(
            bad["errorMessages"][0]
                .as_str()
                .unwrap()
                .contains("multiselect")
        );
        assert_eq!(admin(&sim, Method::POST, "/_sim/fields?type=float").0, 400);
        let (status, removed) = admin(&sim, Method::DELETE, &format!("/_sim/fields/{id}"));
        assert_eq!(status, 200);
        assert_eq!(removed["removed"]["id"], json!(id));
        assert_eq!(
            admin(&sim, Method::DELETE, &format!("/_sim/fields/{id}")).0,
            404
        );
        assert_eq!(admin(&sim, Method::DELETE, "/_sim/fields/summary").0, 400);
        let logged = sim.sim.requests();
        assert!(
            logged.iter().all(|r| !r.path.starts_with("/_sim")),
            "admin calls are not logged"
        );
        assert!(
            sim.sim
                .request_counts()
                .keys()
                .all(|k| !k.contains("/_sim"))
        );
        assert_eq!(sim.sim.deleted_issues().len(), 2);
        // The three, and those of the two deleted issues.
        let listed = sim.sim.deleted_worklogs();
        assert_eq!(listed.len(), worklogs_before - expected(&sim, "worklogs"));
        for w in &worklogs {
            assert!(listed.iter().any(|d| json!(d.worklog_id) == w["worklogId"]));
        }
    }
}
