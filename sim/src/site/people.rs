//! Users and groups: human users, Cloud's app user and inactive "Former user", and the groups
//! `jira-users`, `jira-administrators`, `jira-software-users` and `security-team`.

use crate::config::Deployment;
use crate::creds;
use crate::rng::{Rng, RngExt, pick, stream, topic};
use crate::site::words::{FIRST_NAMES, LAST_NAMES, TIME_ZONES};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum AccountKind {
    Human,
    /// A Cloud app account (`accountType: "app"`): no email, time zone or locale.
    App,
    /// A deleted Cloud account shown as "Former user": inactive, no email, time zone or locale.
    Former,
}

/// What Jira reveals of a user's email address.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Email {
    Address(String),
    /// Server's "masked" visibility: `user at example dot com`, not an address.
    Masked(String),
    /// No `emailAddress` key at all.
    Hidden,
}

#[derive(Clone, Debug)]
pub(crate) struct User {
    pub kind: AccountKind,
    pub display_name: String,
    /// Cloud identity, in the "557058:uuid" or 24-hex form.
    pub account_id: String,
    /// Server username.
    pub name: String,
    /// Server user key: "JIRAUSER10001" for some users, the username for others.
    pub key: String,
    pub email: Email,
    pub time_zone: Option<String>,
    pub locale: Option<&'static str>,
    pub active: bool,
    /// Hex digest standing in for the gravatar hash in avatar URLs.
    pub avatar_hash: String,
}

impl User {
    pub fn initials(&self) -> String {
        self.display_name
            .split_whitespace()
            .filter_map(|w| w.chars().next())
            .take(2)
            .collect::<String>()
            .to_uppercase()
    }
}

#[derive(Clone, Debug)]
pub(crate) struct Group {
    pub name: &'static str,
    /// Cloud's group id (a UUID).
    pub group_id: String,
    /// Indexes into the site's users.
    pub members: Vec<usize>,
}

/// The generated people. User 0 is the account the simulator's credentials log in as.
pub(crate) struct People {
    pub users: Vec<User>,
    pub groups: Vec<Group>,
    /// Users 0..humans are people; Cloud's app and former users come after them.
    pub humans: usize,
}

impl People {
    /// The group with this name (the site's groups are fixed, so callers may rely on it).
    pub fn group(&self, name: &str) -> Option<usize> {
        self.groups.iter().position(|g| g.name == name)
    }

    pub fn app_user(&self) -> Option<usize> {
        self.users.iter().position(|u| u.kind == AccountKind::App)
    }

    pub fn former_user(&self) -> Option<usize> {
        self.users
            .iter()
            .position(|u| u.kind == AccountKind::Former)
    }
}

pub(crate) fn hex(rng: &mut Rng, len: usize) -> String {
    (0..len)
        .map(|_| char::from_digit(rng.random_range(0..16), 16).unwrap_or('0'))
        .collect()
}

pub(crate) fn uuid(rng: &mut Rng) -> String {
    format!(
        "{}-{}-4{}-{}{}-{}",
        hex(rng, 8),
        hex(rng, 4),
        hex(rng, 3),
        pick(rng, &['8', '9', 'a', 'b']),
        hex(rng, 3),
        hex(rng, 12)
    )
}

pub(crate) fn generate(seed: u64, deployment: Deployment, humans: usize, my_zone: &str) -> People {
    let humans = humans.max(1);
    let mut users: Vec<User> = (0..humans)
        .map(|i| human(seed, deployment, i, my_zone))
        .collect();
    if deployment == Deployment::Cloud {
        let mut rng = stream(seed, &[topic::USER, humans as u64]);
        users.push(User {
            kind: AccountKind::App,
            display_name: "Automation for Jira".to_string(),
            account_id: hex(&mut rng, 24),
            name: String::new(),
            key: String::new(),
            email: Email::Hidden,
            time_zone: None,
            locale: None,
            active: true,
            avatar_hash: hex(&mut rng, 32),
        });
        let mut rng = stream(seed, &[topic::USER, humans as u64 + 1]);
        users.push(User {
            kind: AccountKind::Former,
            display_name: "Former user".to_string(),
            account_id: format!("557058:{}", uuid(&mut rng)),
            name: String::new(),
            key: String::new(),
            email: Email::Hidden,
            time_zone: None,
            locale: None,
            active: false,
            avatar_hash: hex(&mut rng, 32),
        });
    }
    let groups = groups(seed, &users, humans);
    People {
        users,
        groups,
        humans,
    }
}

fn human(seed: u64, deployment: Deployment, i: usize, my_zone: &str) -> User {
    let mut rng = stream(seed, &[topic::USER, i as u64]);
    let first = FIRST_NAMES[i % FIRST_NAMES.len()];
    let last = pick(&mut rng, LAST_NAMES);
    let mut display_name = format!("{first} {last}");
    let login = format!("{}.{}", ascii_lower(first), ascii_lower(last));
    let mut name = if i < FIRST_NAMES.len() {
        login.clone()
    } else {
        format!("{login}{i}")
    };
    let mut address = format!("{name}@example.com");
    let account_id = if i % 3 == 1 {
        hex(&mut rng, 24)
    } else {
        format!("557058:{}", uuid(&mut rng))
    };
    let mut email = Email::Address(address.clone());
    let mut time_zone = pick(&mut rng, TIME_ZONES).to_string();
    let avatar_hash = hex(&mut rng, 32);
    if i == 0 {
        // The account the simulator's credentials belong to.
        display_name = "Sim Admin".to_string();
        time_zone = my_zone.to_string();
        match deployment {
            Deployment::Cloud => address = creds::EMAIL.to_string(),
            Deployment::Server => {
                name = creds::USERNAME.to_string();
                address = format!("{name}@example.com");
            }
        }
        email = Email::Address(address.clone());
    }
    match deployment {
        // Cloud users choose whether their email is visible: every fourth hides it.
        Deployment::Cloud if i % 4 == 3 => email = Email::Hidden,
        Deployment::Server if i == 1 => {
            email = Email::Masked(address.replace('@', " at ").replace('.', " dot "));
        }
        Deployment::Server if i == 2 => email = Email::Hidden,
        // On Server some display names are the email address itself.
        Deployment::Server if i == 3 => display_name = address.clone(),
        _ => {}
    }
    let key = if deployment == Deployment::Server && i % 2 == 1 {
        format!("JIRAUSER{}", 10000 + i)
    } else {
        name.clone()
    };
    User {
        kind: AccountKind::Human,
        display_name,
        account_id,
        name,
        key,
        email,
        time_zone: Some(time_zone),
        locale: if i % 5 == 4 {
            Some("de_DE")
        } else {
            Some("en_US")
        },
        active: true,
        avatar_hash,
    }
}

fn ascii_lower(name: &str) -> String {
    name.chars()
        .filter_map(|c| match c {
            'ü' => Some('u'),
            'ë' => Some('e'),
            'í' => Some('i'),
            '\'' => None,
            c => Some(c.to_ascii_lowercase()),
        })
        .collect()
}

fn groups(seed: u64, users: &[User], humans: usize) -> Vec<Group> {
    let mut rng = stream(seed, &[topic::USER, u64::MAX]);
    let everyone: Vec<usize> = users
        .iter()
        .enumerate()
        .filter(|(_, u)| u.kind != AccountKind::App)
        .map(|(i, _)| i)
        .collect();
    vec![
        Group {
            name: "jira-users",
            group_id: uuid(&mut rng),
            members: everyone,
        },
        Group {
            name: "jira-administrators",
            group_id: uuid(&mut rng),
            members: (0..humans.min(3)).collect(),
        },
        Group {
            name: "jira-software-users",
            group_id: uuid(&mut rng),
            members: (0..humans).filter(|i| i % 2 == 0).collect(),
        },
        Group {
            name: "security-team",
            group_id: uuid(&mut rng),
            members: (0..humans).filter(|i| i % 3 == 1).collect(),
        },
    ]
}
