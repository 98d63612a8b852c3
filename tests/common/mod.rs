//! Shared helpers of the black-box tests: run the real binary against the simulator over HTTP and
//! read back what it printed.
#![allow(dead_code)]

pub mod hostile;
pub mod tls;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use jira_sim::{Deployment, RunningSim, SimConfig, creds};
use serde_json::{Value, json};
use tempfile::TempDir;

/// What one run of the tap printed.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
    /// stdout parsed once: tests read a run's messages many times, and parsing them again each
    /// time (unoptimised, in a test build) was most of the suite's CPU.
    messages: OnceLock<Vec<Value>>,
}

impl Run {
    pub fn new(code: i32, stdout: String, stderr: String) -> Run {
        Run {
            code,
            stdout,
            stderr,
            messages: OnceLock::new(),
        }
    }

    /// RECORD messages per stream.
    pub fn record_counts(&self) -> BTreeMap<String, u64> {
        let mut counts = BTreeMap::new();
        for m in self.messages() {
            if m["type"] == "RECORD" {
                *counts
                    .entry(m["stream"].as_str().unwrap().to_string())
                    .or_default() += 1;
            }
        }
        counts
    }

    /// stdout as Singer messages; fails the test on a line that is not JSON.
    pub fn messages(&self) -> &[Value] {
        self.messages.get_or_init(|| {
            self.stdout
                .lines()
                .map(|line| {
                    serde_json::from_str(line)
                        .unwrap_or_else(|e| panic!("stdout line is not JSON ({e}): {line}"))
                })
                .collect()
        })
    }

    pub fn records(&self, stream: &str) -> Vec<Value> {
        self.messages()
            .iter()
            .filter(|m| m["type"] == "RECORD" && m["stream"] == stream)
            .map(|m| m["record"].clone())
            .collect()
    }

    pub fn states(&self) -> Vec<Value> {
        self.messages()
            .iter()
            .filter(|m| m["type"] == "STATE")
            .map(|m| m["value"].clone())
            .collect()
    }

    pub fn last_state(&self) -> Value {
        self.states().pop().expect("the run emitted a STATE")
    }

    pub fn assert_success(&self) -> &Self {
        assert_eq!(self.code, 0, "tap failed.\nstderr:\n{}", self.stderr);
        self
    }
}

/// The tap binary the tests run: the one `cargo test` built, or the one `TAP_JIRA_BINARY` names.
/// CI points it at the optimised build it makes anyway for the real targets and the benchmark:
/// the suite then spends its time on what it checks, not in an unoptimised tap (about 30% less).
pub fn tap_binary() -> std::ffi::OsString {
    std::env::var_os("TAP_JIRA_BINARY").unwrap_or_else(|| env!("CARGO_BIN_EXE_tap-jira").into())
}

pub fn tap(args: &[&dyn AsRef<std::ffi::OsStr>]) -> Run {
    tap_with_env(args, &[])
}

/// The proxy variables the tap (through reqwest) reads, and the exceptions to them: tests start
/// from none of them, since the simulator is on this machine.
fn proxy_variables() -> impl Iterator<Item = &'static str> {
    let exceptions = ["NO_PROXY", "no_proxy"];
    tap_jira::client::PROXY_VARIABLES
        .iter()
        .copied()
        .chain(exceptions)
}

/// Runs the tap with `env` set on top of this process's environment, less `RUST_LOG` and the
/// proxy variables.
pub fn tap_with_env(args: &[&dyn AsRef<std::ffi::OsStr>], env: &[(&str, &str)]) -> Run {
    let mut command = Command::new(tap_binary());
    command
        .args(args.iter().map(|a| a.as_ref()))
        .env_remove("RUST_LOG");
    for name in proxy_variables() {
        command.env_remove(name);
    }
    let output = command
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .output()
        .expect("the tap binary runs");
    Run::new(
        output.status.code().unwrap_or(-1),
        String::from_utf8(output.stdout).expect("stdout is UTF-8"),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// A simulator plus a scratch directory for the config, catalog and state files. When it is
/// dropped, the test fails if the tap called a path the simulator does not serve (a mistyped
/// endpoint), unless the test said it means to.
pub struct Site {
    pub sim: RunningSim,
    pub dir: TempDir,
    unserved_expected: std::cell::Cell<bool>,
}

impl Drop for Site {
    fn drop(&mut self) {
        let unserved = self.sim.sim.unserved();
        if !self.unserved_expected.get() && !unserved.is_empty() && !std::thread::panicking() {
            panic!("the tap called paths the simulator does not serve: {unserved:?}");
        }
    }
}

impl Site {
    pub fn new(config: SimConfig) -> Site {
        Site {
            sim: jira_sim::spawn(config),
            dir: tempfile::tempdir().expect("temp dir"),
            unserved_expected: std::cell::Cell::new(false),
        }
    }

    /// For tests that point the tap at a wrong path on purpose.
    pub fn expect_unserved_paths(&self) {
        self.unserved_expected.set(true);
    }

    pub fn cloud() -> Site {
        Site::new(SimConfig::default())
    }

    pub fn server() -> Site {
        Site::new(SimConfig {
            deployment: Deployment::Server,
            ..SimConfig::default()
        })
    }

    pub fn file(&self, name: &str, value: &Value) -> PathBuf {
        let path = self.dir.path().join(name);
        std::fs::write(&path, serde_json::to_string_pretty(value).unwrap()).unwrap();
        path
    }

    /// Cloud API-token config, over plain HTTP to the local simulator.
    pub fn cloud_config(&self) -> Value {
        json!({"base_url": self.sim.url, "allow_http": true, "email": creds::EMAIL, "api_token": creds::API_TOKEN,
               "start_date": "2000-01-01T00:00:00Z"})
    }

    pub fn server_config(&self) -> Value {
        json!({"base_url": self.sim.url, "allow_http": true, "personal_access_token": creds::PAT,
               "start_date": "2000-01-01T00:00:00Z"})
    }

    /// The deployment's usual config, with `extra`'s keys added or replaced.
    pub fn config_with(&self, extra: Value) -> Value {
        let mut config = match self.sim.sim.config().deployment {
            Deployment::Cloud => self.cloud_config(),
            Deployment::Server => self.server_config(),
        };
        for (key, value) in extra.as_object().into_iter().flatten() {
            config[key] = value.clone();
        }
        config
    }

    /// A sync from `state`, with the `config.json` and `catalog.json` already in this site's directory.
    pub fn sync_from(&self, state: &Path) -> Run {
        let config = self.dir.path().join("config.json");
        let catalog = self.dir.path().join("catalog.json");
        tap(&[
            &"--config",
            &config,
            &"--catalog",
            &catalog,
            &"--state",
            &state,
        ])
    }

    /// The JSON body of the first issue search the simulator received.
    pub fn first_search_body(&self) -> Value {
        let search = self
            .sim
            .sim
            .requests()
            .into_iter()
            .find(|r| r.path.ends_with("/search/jql") || r.path.ends_with("/rest/api/2/search"))
            .expect("an issue search was sent");
        serde_json::from_str(&search.body).expect("the search body is JSON")
    }

    pub fn discover(&self, config: &Path) -> Value {
        let run = tap(&[&"--config", &config, &"--discover"]);
        run.assert_success();
        serde_json::from_str(&run.stdout).expect("discover prints one JSON catalog")
    }
}

/// Checks the Singer rules every run must keep: SCHEMA before a stream's RECORDs, every RECORD
/// valid against its stream's SCHEMA (formats included) and carrying its keys, a STATE last.
pub fn assert_valid_singer_output(run: &Run) {
    let messages = run.messages();
    let mut validators: HashMap<String, (jsonschema::Validator, Vec<String>)> = HashMap::new();
    for message in messages {
        let stream = message["stream"].as_str().unwrap_or("").to_string();
        match message["type"].as_str() {
            Some("SCHEMA") => {
                let validator = jsonschema::options()
                    .should_validate_formats(true)
                    .build(&message["schema"])
                    .unwrap_or_else(|e| {
                        panic!("SCHEMA of {stream} is not a valid JSON schema: {e}")
                    });
                let keys = message["key_properties"]
                    .as_array()
                    .expect("key_properties")
                    .iter()
                    .map(|k| k.as_str().unwrap().to_string())
                    .collect();
                validators.insert(stream, (validator, keys));
            }
            Some("RECORD") => {
                let (validator, keys) = validators
                    .get(&stream)
                    .unwrap_or_else(|| panic!("RECORD of {stream} before its SCHEMA"));
                let record = &message["record"];
                if let Some(error) = validator.iter_errors(record).next() {
                    panic!(
                        "RECORD of {stream} does not match its SCHEMA: {error} at {}\n{record}",
                        error.instance_path()
                    );
                }
                for key in keys {
                    assert!(
                        !record[key].is_null(),
                        "RECORD of {stream} lacks key {key}: {record}"
                    );
                }
            }
            Some("STATE") | Some("ACTIVATE_VERSION") => {}
            other => panic!("unknown message type {other:?}"),
        }
    }
    assert_eq!(
        messages.last().map(|m| m["type"].clone()),
        Some(json!("STATE")),
        "a run ends with a STATE"
    );
    // A STATE is not written twice in a row: the second says nothing new.
    for pair in messages.windows(2) {
        assert!(
            !(pair[0]["type"] == "STATE" && pair[0] == pair[1]),
            "the same STATE twice in a row: {}",
            pair[1]
        );
    }
    // No issue version is written twice within a run.
    let mut versions = std::collections::HashSet::new();
    for m in messages
        .iter()
        .filter(|m| m["type"] == "RECORD" && m["stream"] == "issues")
    {
        let version = (
            m["record"]["id"].to_string(),
            m["record"]["updated"].to_string(),
        );
        assert!(
            versions.insert(version.clone()),
            "issue version written twice: {version:?}"
        );
    }
    assert!(
        !run.stdout.contains("+0000"),
        "a Jira-style offset left the tap"
    );
}

/// Where a listing by id last goes on after an issue (`id > N`) in a search whose JQL has
/// `also`: the number of `/rest/api/2/search` requests before that one, and N.
pub fn last_page_after_an_id(sim: &jira_sim::Sim, also: &str) -> (u32, String) {
    let searches: Vec<String> = sim
        .requests()
        .into_iter()
        .filter(|r| r.path.contains("/rest/api/2/search"))
        .map(|r| r.body)
        .collect();
    searches
        .iter()
        .enumerate()
        .rev()
        .find_map(|(k, body)| {
            let body: Value = serde_json::from_str(body).ok()?;
            let jql = body["jql"].as_str()?;
            let after = jql.split("id > ").nth(1).filter(|_| jql.contains(also))?;
            let id: String = after.chars().take_while(char::is_ascii_digit).collect();
            Some((k as u32, id))
        })
        .expect("a listing by id went on after an issue")
}

/// Whether Jira refused (400) a request whose body has `part`.
pub fn refused(sim: &jira_sim::Sim, part: &str) -> bool {
    sim.requests()
        .iter()
        .any(|r| r.status == 400 && r.body.contains(part))
}

/// Selects `streams` in a catalog and deselects every other (stream-level metadata only).
pub fn select_only(catalog: &mut Value, streams: &[&str]) {
    for stream in catalog["streams"].as_array_mut().unwrap() {
        let on = streams.contains(&stream["tap_stream_id"].as_str().unwrap());
        for m in stream["metadata"].as_array_mut().unwrap() {
            if m["breadcrumb"] == json!([]) {
                m["metadata"]["selected"] = json!(on);
            }
        }
    }
}

/// Every distinct `id` among records.
pub fn ids(records: &[Value]) -> Vec<String> {
    let mut ids: Vec<String> = records
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_string())
        .collect();
    ids.sort();
    ids
}

/// `(stream, key)` of every RECORD in `lines`, keys as the SCHEMA messages declare them.
pub fn record_keys(
    lines: &[Value],
    keys: &mut BTreeMap<String, Vec<String>>,
) -> BTreeSet<(String, String)> {
    let mut out = BTreeSet::new();
    for message in lines {
        let stream = message["stream"].as_str().unwrap_or_default().to_string();
        match message["type"].as_str() {
            Some("SCHEMA") => {
                let declared = message["key_properties"].as_array().unwrap();
                keys.insert(
                    stream,
                    declared
                        .iter()
                        .map(|k| k.as_str().unwrap().to_string())
                        .collect(),
                );
            }
            Some("RECORD") => {
                let names = &keys[&stream];
                let key: Vec<String> = names
                    .iter()
                    .map(|k| message["record"][k].to_string())
                    .collect();
                out.insert((stream, key.join("|")));
            }
            _ => {}
        }
    }
    out
}

/// The catalog entry of `stream`, to change.
pub fn entry_mut<'a>(catalog: &'a mut Value, stream: &str) -> &'a mut Value {
    catalog["streams"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|s| s["tap_stream_id"] == stream)
        .unwrap()
}
