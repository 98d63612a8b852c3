//! Who may see what: permission schemes and their grants, the actors of each project role in
//! each project, issue security schemes with their levels and level members, and from all of
//! these the answer to "who may browse this issue" ([`Site::may_browse`]).
//!
//! The site has two permission schemes: "Default Permission Scheme" (id 0) grants
//! `BROWSE_PROJECTS` to the Viewers, Developers and Administrators roles (Viewers holds
//! `jira-users`: everyone); "Restricted Permission Scheme" (id 10000) only to the group
//! `jira-administrators`, the Developers role, the project lead, the reporter and one user.
//! Projects with an even index use the restricted one. Projects `i % 3 == 0` use the issue
//! security scheme "Confidential issues", `i % 3 == 1` "Internal", the others none; about one
//! issue in seven of a project with a scheme has a level. The authenticated user (a member of
//! `jira-administrators`, `jira-users` and `jira-software-users`) may browse every issue, so
//! searches hide nothing from it.

use std::collections::BTreeSet;

use crate::rng::{RngExt, stream, topic};
use crate::site::Site;
use crate::site::issues::Issue;
use crate::site::people::People;
use crate::site::projects::Project;
use crate::site::reference::ROLES;

/// Project role ids (see `reference::ROLES`).
pub(crate) const ADMINISTRATORS: u64 = 10002;
pub(crate) const DEVELOPERS: u64 = 10001;
pub(crate) const VIEWERS: u64 = 10000;

pub(crate) const BROWSE: &str = "BROWSE_PROJECTS";

/// Who a permission grant or a security level member names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Holder {
    /// Anyone, logged in or not.
    Anyone,
    /// Users with access to an application (`None`: any logged-in user).
    ApplicationRole(Option<&'static str>),
    /// A group, by index into the site's groups.
    Group(usize),
    /// A user, by index into the site's users.
    User(usize),
    /// A project role, by id.
    ProjectRole(u64),
    ProjectLead,
    Reporter,
    Assignee,
}

impl Holder {
    /// The holder `type` Jira writes.
    pub fn type_name(self) -> &'static str {
        match self {
            Holder::Anyone => "anyone",
            Holder::ApplicationRole(_) => "applicationRole",
            Holder::Group(_) => "group",
            Holder::User(_) => "user",
            Holder::ProjectRole(_) => "projectRole",
            Holder::ProjectLead => "projectLead",
            Holder::Reporter => "reporter",
            Holder::Assignee => "assignee",
        }
    }
}

pub(crate) struct Grant {
    pub id: u64,
    pub permission: &'static str,
    pub holder: Holder,
}

pub(crate) struct PermissionScheme {
    pub id: u64,
    pub name: &'static str,
    pub description: &'static str,
    pub grants: Vec<Grant>,
}

pub(crate) struct LevelMember {
    pub id: u64,
    pub holder: Holder,
}

pub(crate) struct SecurityLevel {
    pub id: u64,
    pub name: &'static str,
    pub description: &'static str,
    pub members: Vec<LevelMember>,
}

pub(crate) struct SecurityScheme {
    pub id: u64,
    pub name: &'static str,
    pub description: &'static str,
    pub default_level: Option<u64>,
    pub levels: Vec<SecurityLevel>,
}

/// Who holds a project role in a project.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Actor {
    User(usize),
    Group(usize),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct RoleActor {
    /// Unique across the site, as Jira's role actor ids are.
    pub id: u64,
    pub actor: Actor,
}

pub(crate) struct Access {
    pub permission_schemes: Vec<PermissionScheme>,
    pub security_schemes: Vec<SecurityScheme>,
}

impl Access {
    pub fn security_level(&self, id: u64) -> Option<(&SecurityScheme, &SecurityLevel)> {
        self.security_schemes.iter().find_map(|scheme| {
            scheme
                .levels
                .iter()
                .find(|l| l.id == id)
                .map(|level| (scheme, level))
        })
    }
}

/// Builds the schemes, sets each project's schemes and role actors, and gives about one issue
/// in seven of the projects with a security scheme a level.
pub(crate) fn generate(
    seed: u64,
    people: &People,
    projects: &mut [Project],
    issues: &mut [Issue],
) -> Access {
    let group = |name: &str| people.group(name).unwrap_or(0);
    let admins = group("jira-administrators");
    let everyone = group("jira-users");
    let developers = group("jira-software-users");
    let security_team = group("security-team");
    let humans = people.humans.max(1);
    // One user the restricted scheme and two levels name directly.
    let named_user = humans - 1;

    let mut next_grant = 10000;
    let mut grants = |list: &[(&'static str, Holder)]| -> Vec<Grant> {
        list.iter()
            .map(|&(permission, holder)| {
                next_grant += 1;
                Grant {
                    id: next_grant,
                    permission,
                    holder,
                }
            })
            .collect()
    };
    let role = Holder::ProjectRole;
    let default_scheme = PermissionScheme {
        id: 0,
        name: "Default Permission Scheme",
        description: "This is the default Permission Scheme. Any new projects that are created will be assigned this scheme.",
        grants: grants(&[
            (BROWSE, role(VIEWERS)),
            (BROWSE, role(DEVELOPERS)),
            (BROWSE, role(ADMINISTRATORS)),
            ("CREATE_ISSUES", role(DEVELOPERS)),
            ("CREATE_ISSUES", role(ADMINISTRATORS)),
            ("EDIT_ISSUES", role(DEVELOPERS)),
            ("ASSIGNABLE_USER", role(DEVELOPERS)),
            ("ASSIGN_ISSUES", role(DEVELOPERS)),
            ("RESOLVE_ISSUES", Holder::Assignee),
            ("RESOLVE_ISSUES", role(DEVELOPERS)),
            ("ADD_COMMENTS", Holder::ApplicationRole(None)),
            (
                "VIEW_VOTERS_AND_WATCHERS",
                Holder::ApplicationRole(Some("jira-software")),
            ),
            ("VIEW_READONLY_WORKFLOW", Holder::Anyone),
            ("MANAGE_SPRINTS_PERMISSION", role(DEVELOPERS)),
            ("SET_ISSUE_SECURITY", role(ADMINISTRATORS)),
            ("ADMINISTER_PROJECTS", role(ADMINISTRATORS)),
            ("ADMINISTER_PROJECTS", Holder::Group(admins)),
        ]),
    };
    let restricted_scheme = PermissionScheme {
        id: 10000,
        name: "Restricted Permission Scheme",
        description: "Only the team, the lead and the reporters see these projects.",
        grants: grants(&[
            (BROWSE, Holder::Group(admins)),
            (BROWSE, role(DEVELOPERS)),
            (BROWSE, Holder::ProjectLead),
            (BROWSE, Holder::Reporter),
            (BROWSE, Holder::User(named_user)),
            ("CREATE_ISSUES", role(DEVELOPERS)),
            ("CREATE_ISSUES", Holder::ProjectLead),
            ("EDIT_ISSUES", role(DEVELOPERS)),
            ("ASSIGNABLE_USER", role(DEVELOPERS)),
            ("RESOLVE_ISSUES", Holder::Assignee),
            ("ADD_COMMENTS", role(DEVELOPERS)),
            ("ADD_COMMENTS", Holder::Reporter),
            ("SET_ISSUE_SECURITY", role(ADMINISTRATORS)),
            ("ADMINISTER_PROJECTS", Holder::Group(admins)),
            ("ADMINISTER_PROJECTS", Holder::ProjectLead),
        ]),
    };

    let mut next_member = 10300;
    let mut level = |id: u64,
                     name: &'static str,
                     description: &'static str,
                     holders: &[Holder]|
     -> SecurityLevel {
        let members = holders
            .iter()
            .map(|&holder| {
                next_member += 1;
                LevelMember {
                    id: next_member,
                    holder,
                }
            })
            .collect();
        SecurityLevel {
            id,
            name,
            description,
            members,
        }
    };
    let confidential = SecurityScheme {
        id: 10000,
        name: "Confidential issues",
        description: "Levels for issues only some people may see.",
        default_level: None,
        levels: vec![
            level(
                10100,
                "Staff only",
                "Administrators and developers.",
                &[Holder::Group(admins), role(DEVELOPERS)],
            ),
            level(
                10101,
                "Reporter and admins",
                "The reporter and the project's administrators.",
                &[Holder::Reporter, role(ADMINISTRATORS)],
            ),
            level(
                10102,
                "Security team",
                "Security incidents.",
                &[
                    Holder::Group(security_team),
                    Holder::User(named_user),
                    role(ADMINISTRATORS),
                ],
            ),
        ],
    };
    let internal = SecurityScheme {
        id: 10001,
        name: "Internal",
        description: "",
        default_level: None,
        levels: vec![
            level(
                10200,
                "Internal",
                "Staff with Jira Software access.",
                &[Holder::Group(developers)],
            ),
            level(
                10201,
                "Managers",
                "",
                &[
                    Holder::User(named_user),
                    Holder::Reporter,
                    Holder::Group(admins),
                ],
            ),
        ],
    };
    let access = Access {
        permission_schemes: vec![default_scheme, restricted_scheme],
        security_schemes: vec![confidential, internal],
    };

    let mut next_actor = 10200;
    for (p, project) in projects.iter_mut().enumerate() {
        project.permission_scheme = if p % 2 == 0 { 1 } else { 0 };
        project.security_scheme = match p % 3 {
            0 => Some(0),
            1 => Some(1),
            _ => None,
        };
        project.role_actors = ROLES
            .iter()
            .map(|role| {
                let mut actors = match role.id {
                    ADMINISTRATORS => vec![Actor::Group(admins), Actor::User(project.lead)],
                    DEVELOPERS => {
                        let mut list = vec![Actor::User((2 * p + 1) % humans)];
                        let second = Actor::User((2 * p + 4) % humans);
                        if !list.contains(&second) {
                            list.push(second);
                        }
                        if p % 2 == 1 {
                            list.push(Actor::Group(developers));
                        }
                        list
                    }
                    _ => vec![Actor::Group(everyone)],
                };
                actors.dedup();
                actors
                    .into_iter()
                    .map(|actor| {
                        next_actor += 1;
                        RoleActor {
                            id: next_actor,
                            actor,
                        }
                    })
                    .collect()
            })
            .collect();
    }
    for project in projects.iter() {
        let Some(scheme) = project.security_scheme else {
            continue;
        };
        let levels = &access.security_schemes[scheme].levels;
        for &index in &project.issues {
            let mut rng = stream(seed, &[topic::SECURITY, index as u64]);
            if rng.random_bool(1.0 / 7.0) {
                let level = &levels[rng.random_range(0..levels.len())];
                issues[index as usize].security = Some(level.id);
            }
        }
    }
    access
}

impl Site {
    /// Users (indexes) that a holder names for one issue: group members, a role's actors in
    /// the issue's project (members of group actors included), the lead, reporter or assignee.
    /// `Anyone` and application roles name nobody in particular: empty.
    pub fn holder_users(&self, holder: Holder, index: usize) -> BTreeSet<usize> {
        let issue = &self.issues[index];
        let project = &self.projects[issue.project as usize];
        let members = |g: usize| self.people.groups[g].members.iter().copied();
        match holder {
            Holder::Anyone | Holder::ApplicationRole(_) => BTreeSet::new(),
            Holder::Group(g) => members(g).collect(),
            Holder::User(u) => BTreeSet::from([u]),
            Holder::ProjectLead => BTreeSet::from([project.lead]),
            Holder::Reporter => BTreeSet::from([issue.reporter as usize]),
            Holder::Assignee => issue.assignee.map(|u| u as usize).into_iter().collect(),
            Holder::ProjectRole(role_id) => {
                let Some(k) = ROLES.iter().position(|r| r.id == role_id) else {
                    return BTreeSet::new();
                };
                project.role_actors[k]
                    .iter()
                    .flat_map(|a| match a.actor {
                        Actor::User(u) => vec![u],
                        Actor::Group(g) => members(g).collect(),
                    })
                    .collect()
            }
        }
    }

    /// The active human users who may see an issue: holders of `BROWSE_PROJECTS` in its
    /// project's permission scheme (not counting `anyone` and application-role grants) who,
    /// when the issue has a security level, are also members of that level.
    pub fn may_browse(&self, index: usize) -> BTreeSet<usize> {
        let issue = &self.issues[index];
        let project = &self.projects[issue.project as usize];
        let scheme = &self.access.permission_schemes[project.permission_scheme];
        let mut allowed: BTreeSet<usize> = scheme
            .grants
            .iter()
            .filter(|g| g.permission == BROWSE)
            .flat_map(|g| self.holder_users(g.holder, index))
            .collect();
        if let Some((_, level)) = issue.security.and_then(|id| self.access.security_level(id)) {
            let members: BTreeSet<usize> = level
                .members
                .iter()
                .flat_map(|m| self.holder_users(m.holder, index))
                .collect();
            allowed.retain(|u| members.contains(u));
        }
        allowed.retain(|&u| {
            let user = &self.users()[u];
            user.active && user.kind == crate::site::people::AccountKind::Human
        });
        allowed
    }
}

#[cfg(test)]
mod tests {
    use crate::config::{Deployment, SimConfig};
    use crate::site::Site;

    #[test]
    fn the_authenticated_user_sees_everything_but_others_do_not() {
        for deployment in [Deployment::Cloud, Deployment::Server] {
            let site = Site::generate(&SimConfig {
                deployment,
                ..SimConfig::default()
            });
            let humans = site.people.humans;
            let mut restricted = 0;
            let mut secured = 0;
            for index in 0..site.issues.len() {
                let allowed = site.may_browse(index);
                assert!(allowed.contains(&site.myself()), "issue {index}");
                assert!(!allowed.is_empty() && allowed.len() <= humans);
                if allowed.len() < humans {
                    restricted += 1;
                }
                if site.issues[index].security.is_some() {
                    secured += 1;
                }
            }
            assert!(restricted > 0 && restricted < site.issues.len());
            assert!(secured > 0 && secured < site.issues.len() / 3);
        }
    }
}
