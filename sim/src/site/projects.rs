//! Projects and what hangs off them: categories, versions, components and sprints.

use crate::rng::{RngExt, stream, topic};
use crate::site::words;
use crate::times::{HISTORY_END_MS, HISTORY_START_MS};

const DAY_MS: i64 = 86_400_000;

/// Names of the first projects; one keeps Jira's stray leading/trailing spaces.
const NAMES: &[(&str, &str)] = &[
    ("WEB", "Web Storefront"),
    ("OPS", " Platform Ops "),
    ("MOB", "Mobile Apps"),
    ("DATA", "Data Pipeline"),
    ("SEC", "Security"),
    ("DOC", "Documentation"),
    ("INFRA", "Infrastructure"),
    ("BILL", "Billing"),
];

pub(crate) struct Category {
    pub id: u64,
    pub name: &'static str,
    pub description: &'static str,
}

pub(crate) const CATEGORIES: &[Category] = &[
    Category {
        id: 10000,
        name: "Product",
        description: "Customer-facing products",
    },
    Category {
        id: 10001,
        name: "Internal",
        description: "Tools and platforms used inside the company",
    },
];

pub(crate) struct Version {
    pub id: u64,
    pub name: String,
    pub description: Option<String>,
    pub released: bool,
    pub archived: bool,
    pub release_date: Option<i64>,
}

pub(crate) struct Component {
    pub id: u64,
    pub name: String,
    pub description: Option<String>,
    /// Component lead (index into the site's users); issues of a led component go to the lead.
    pub lead: Option<usize>,
}

pub(crate) struct Sprint {
    pub id: u64,
    pub name: String,
    pub state: &'static str,
    pub board_id: u64,
    pub goal: String,
    pub start: Option<i64>,
    pub end: Option<i64>,
    pub complete: Option<i64>,
}

pub(crate) struct Project {
    pub id: u64,
    pub key: String,
    /// Keys the project had before it was renamed: Jira still resolves them, in paths, issue
    /// keys and JQL, to the project.
    pub former_keys: Vec<String>,
    pub name: String,
    pub description: String,
    /// Index into the site's users.
    pub lead: usize,
    pub category: Option<&'static Category>,
    pub type_key: &'static str,
    /// Team-managed ("next-gen") project.
    pub simplified: bool,
    pub versions: Vec<Version>,
    pub components: Vec<Component>,
    pub sprints: Vec<Sprint>,
    /// Indexes of the project's issues, in key-number order (`KEY-1` first).
    pub issues: Vec<u32>,
    /// Index into the site's permission schemes (set by `access::generate`).
    pub permission_scheme: usize,
    /// Index into the site's issue security schemes, when the project uses one.
    pub security_scheme: Option<usize>,
    /// The actors of each project role, parallel to `reference::ROLES`.
    pub role_actors: Vec<Vec<crate::site::access::RoleActor>>,
    /// When it was archived (epoch ms), `None` while live: see `Site::archive_project`.
    pub archived: Option<i64>,
}

pub(crate) fn generate(seed: u64, count: usize, humans: usize) -> Vec<Project> {
    (0..count).map(|i| project(seed, i, humans)).collect()
}

fn project(seed: u64, i: usize, humans: usize) -> Project {
    let mut rng = stream(seed, &[topic::PROJECT, i as u64]);
    let (key, name) = match NAMES.get(i) {
        Some((key, name)) => (key.to_string(), name.to_string()),
        None => (format!("PRJ{i}"), format!("Project {i}")),
    };
    let id = 10000 + i as u64;
    let versions = (0..3u64)
        .map(|k| {
            let release = HISTORY_START_MS + (k as i64 + 1) * 150 * DAY_MS;
            Version {
                id: 10000 + id * 10 + k,
                name: format!("{}.{}", 1 + k / 2, k % 2),
                description: (k != 1).then(|| words::sentence(&mut rng)),
                released: release < HISTORY_END_MS - 30 * DAY_MS,
                archived: k == 0,
                release_date: (k != 2 || i.is_multiple_of(2)).then_some(release),
            }
        })
        .collect();
    let components = (0..2u64)
        .map(|k| Component {
            id: 10000 + id * 10 + k,
            name: ["API", "UI", "Storage", "Jobs"][((i as u64 + k) % 4) as usize].to_string(),
            description: (k == 0).then(|| words::sentence(&mut rng)),
            lead: (k == 0).then_some((i + 1) % humans.max(1)),
        })
        .collect();
    let board_id = i as u64 + 1;
    let sprints = [("closed", 4), ("active", 2), ("future", 0)]
        .iter()
        .enumerate()
        .map(|(k, (state, weeks_ago))| {
            let start = HISTORY_END_MS - weeks_ago * 7 * DAY_MS;
            let dated = *state != "future";
            Sprint {
                id: i as u64 * 3 + k as u64 + 1,
                name: format!("{key} Sprint {}", k + 1),
                state,
                board_id,
                goal: if k == 0 {
                    words::phrase(&mut rng)
                } else {
                    String::new()
                },
                start: dated.then_some(start),
                end: dated.then_some(start + 14 * DAY_MS),
                complete: (*state == "closed").then_some(start + 14 * DAY_MS + 3_600_000),
            }
        })
        .collect();
    Project {
        id,
        key,
        former_keys: Vec::new(),
        name,
        description: words::sentence(&mut rng),
        lead: rng.random_range(0..humans.max(1)),
        category: match i % 3 {
            0 => Some(&CATEGORIES[0]),
            1 => Some(&CATEGORIES[1]),
            _ => None,
        },
        type_key: if i % 4 == 3 { "business" } else { "software" },
        simplified: i % 3 == 2,
        versions,
        components,
        sprints,
        issues: Vec::new(),
        permission_scheme: 0,
        security_scheme: None,
        role_actors: Vec::new(),
        archived: None,
    }
}
