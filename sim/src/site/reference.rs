//! Reference data every issue points at: issue types, statuses and their categories,
//! priorities, resolutions and issue link types; and the site's project roles and types.

pub(crate) struct IssueType {
    pub id: &'static str,
    pub name: &'static str,
    pub description: &'static str,
    pub icon: &'static str,
    pub avatar_id: u64,
    pub subtask: bool,
    pub hierarchy_level: i64,
}

pub(crate) const EPIC: u8 = 0;
pub(crate) const STORY: u8 = 1;
pub(crate) const TASK: u8 = 2;
pub(crate) const BUG: u8 = 3;
pub(crate) const SUBTASK: u8 = 4;

pub(crate) const ISSUE_TYPES: &[IssueType] = &[
    IssueType {
        id: "10000",
        name: "Epic",
        description: "A big user story that needs to be broken down.",
        icon: "epic.svg",
        avatar_id: 10307,
        subtask: false,
        hierarchy_level: 1,
    },
    IssueType {
        id: "10001",
        name: "Story",
        description: "Functionality or a feature expressed as a user goal.",
        icon: "story.svg",
        avatar_id: 10315,
        subtask: false,
        hierarchy_level: 0,
    },
    IssueType {
        id: "10002",
        name: "Task",
        description: "A small, distinct piece of work.",
        icon: "task.svg",
        avatar_id: 10318,
        subtask: false,
        hierarchy_level: 0,
    },
    IssueType {
        id: "10003",
        name: "Bug",
        description: "A problem or error.",
        icon: "bug.svg",
        avatar_id: 10303,
        subtask: false,
        hierarchy_level: 0,
    },
    IssueType {
        id: "10004",
        name: "Sub-task",
        description: "A small piece of work that's part of a larger task.",
        icon: "subtask.svg",
        avatar_id: 10316,
        subtask: true,
        hierarchy_level: -1,
    },
];

pub(crate) struct StatusCategory {
    pub id: u64,
    pub key: &'static str,
    pub color: &'static str,
    pub name: &'static str,
}

pub(crate) const CATEGORY_UNDEFINED: StatusCategory = StatusCategory {
    id: 1,
    key: "undefined",
    color: "medium-gray",
    name: "No Category",
};
pub(crate) const CATEGORY_NEW: StatusCategory = StatusCategory {
    id: 2,
    key: "new",
    color: "blue-gray",
    name: "To Do",
};
pub(crate) const CATEGORY_IN_PROGRESS: StatusCategory = StatusCategory {
    id: 4,
    key: "indeterminate",
    color: "yellow",
    name: "In Progress",
};
pub(crate) const CATEGORY_DONE: StatusCategory = StatusCategory {
    id: 3,
    key: "done",
    color: "green",
    name: "Done",
};

/// Every status category, as `statuscategory` lists them (no status uses "No Category").
pub(crate) const STATUS_CATEGORIES: &[&StatusCategory] = &[
    &CATEGORY_UNDEFINED,
    &CATEGORY_NEW,
    &CATEGORY_IN_PROGRESS,
    &CATEGORY_DONE,
];

pub(crate) struct Status {
    pub id: &'static str,
    pub name: &'static str,
    pub description: &'static str,
    /// Path of the icon under the site root; empty means the bare site root, as Jira does.
    pub icon: &'static str,
    pub category: &'static StatusCategory,
}

pub(crate) const TO_DO: u8 = 0;
pub(crate) const IN_PROGRESS: u8 = 1;
pub(crate) const IN_REVIEW: u8 = 2;
pub(crate) const DONE: u8 = 3;

pub(crate) const STATUSES: &[Status] = &[
    Status {
        id: "10000",
        name: "To Do",
        description: "",
        icon: "",
        category: &CATEGORY_NEW,
    },
    Status {
        id: "3",
        name: "In Progress",
        description: "This issue is being actively worked on at the moment by the assignee.",
        icon: "images/icons/statuses/inprogress.png",
        category: &CATEGORY_IN_PROGRESS,
    },
    Status {
        id: "10001",
        name: "In Review",
        description: "",
        icon: "",
        category: &CATEGORY_IN_PROGRESS,
    },
    Status {
        id: "10002",
        name: "Done",
        description: "",
        icon: "",
        category: &CATEGORY_DONE,
    },
];

pub(crate) struct Priority {
    pub id: &'static str,
    pub name: &'static str,
    pub icon: &'static str,
    pub color: &'static str,
    pub description: &'static str,
}

pub(crate) const PRIORITIES: &[Priority] = &[
    Priority {
        id: "1",
        name: "Highest",
        icon: "highest.svg",
        color: "#d04437",
        description: "This problem will block progress.",
    },
    Priority {
        id: "2",
        name: "High",
        icon: "high.svg",
        color: "#f15C75",
        description: "Serious problem that could block progress.",
    },
    Priority {
        id: "3",
        name: "Medium",
        icon: "medium.svg",
        color: "#f79232",
        description: "Has the potential to affect progress.",
    },
    Priority {
        id: "4",
        name: "Low",
        icon: "low.svg",
        color: "#707070",
        description: "Minor problem or easily worked around.",
    },
    Priority {
        id: "5",
        name: "Lowest",
        icon: "lowest.svg",
        color: "#999999",
        description: "Trivial problem with little or no impact on progress.",
    },
];

pub(crate) struct Resolution {
    pub id: &'static str,
    pub name: &'static str,
    pub description: &'static str,
}

pub(crate) const RESOLUTIONS: &[Resolution] = &[
    Resolution {
        id: "10000",
        name: "Done",
        description: "Work has been completed on this issue.",
    },
    Resolution {
        id: "10001",
        name: "Won't Do",
        description: "This issue won't be actioned.",
    },
    Resolution {
        id: "10002",
        name: "Duplicate",
        description: "The problem is a duplicate of an existing issue.",
    },
];

pub(crate) struct LinkType {
    pub id: &'static str,
    pub name: &'static str,
    pub inward: &'static str,
    pub outward: &'static str,
}

pub(crate) const LINK_TYPES: &[LinkType] = &[
    LinkType {
        id: "10000",
        name: "Blocks",
        inward: "is blocked by",
        outward: "blocks",
    },
    LinkType {
        id: "10001",
        name: "Cloners",
        inward: "is cloned by",
        outward: "clones",
    },
    LinkType {
        id: "10002",
        name: "Duplicate",
        inward: "is duplicated by",
        outward: "duplicates",
    },
    LinkType {
        id: "10003",
        name: "Relates",
        inward: "relates to",
        outward: "relates to",
    },
];

/// A project role, with the group Jira lists as its default actor.
pub(crate) struct Role {
    pub id: u64,
    pub name: &'static str,
    pub description: &'static str,
    /// Name of the site group that holds the role (see `people::groups`).
    pub group: &'static str,
}

pub(crate) const ROLES: &[Role] = &[
    Role {
        id: 10002,
        name: "Administrators",
        description: "A project role that represents administrators in a project",
        group: "jira-administrators",
    },
    Role {
        id: 10001,
        name: "Developers",
        description: "A project role that represents developers in a project",
        group: "jira-software-users",
    },
    Role {
        id: 10000,
        name: "Viewers",
        description: "A project role that represents viewers in a project",
        group: "jira-users",
    },
];

pub(crate) struct ProjectType {
    pub key: &'static str,
    pub formatted_key: &'static str,
    pub color: &'static str,
    /// Only Cloud has Jira Service Management installed.
    pub cloud_only: bool,
}

pub(crate) const PROJECT_TYPES: &[ProjectType] = &[
    ProjectType {
        key: "software",
        formatted_key: "Software",
        color: "#AAAAAA",
        cloud_only: false,
    },
    ProjectType {
        key: "business",
        formatted_key: "Business",
        color: "#FFFFFF",
        cloud_only: false,
    },
    ProjectType {
        key: "service_desk",
        formatted_key: "Service management",
        color: "#67AB49",
        cloud_only: true,
    },
];

/// The project types of a deployment (Server has no Service Management installed).
pub(crate) fn project_types_of(cloud: bool) -> impl Iterator<Item = &'static ProjectType> {
    PROJECT_TYPES.iter().filter(move |t| cloud || !t.cloud_only)
}

/// An application (product) installed on the site, as `applicationrole` lists it.
pub(crate) struct ApplicationRole {
    pub key: &'static str,
    pub name: &'static str,
    /// Names of the groups granting access.
    pub groups: &'static [&'static str],
    pub default_groups: &'static [&'static str],
    pub platform: bool,
    pub seats: i64,
}

/// The applications of a deployment: Cloud has Jira Software and Jira Service Management,
/// Server the Jira platform and Jira Software; a site without Jira Software lacks it.
pub(crate) fn application_roles(cloud: bool, software: bool) -> Vec<ApplicationRole> {
    let mut roles = Vec::new();
    if !cloud {
        roles.push(ApplicationRole {
            key: "jira-core",
            name: "Jira Core",
            groups: &["jira-users"],
            default_groups: &["jira-users"],
            platform: true,
            seats: -1,
        });
    }
    if software {
        roles.push(ApplicationRole {
            key: "jira-software",
            name: "Jira Software",
            groups: &["jira-software-users", "jira-administrators"],
            default_groups: &["jira-software-users"],
            platform: false,
            seats: 35,
        });
    }
    if cloud {
        roles.push(ApplicationRole {
            key: "jira-servicedesk",
            name: "Jira Service Management",
            groups: &["jira-administrators"],
            default_groups: &["jira-administrators"],
            platform: false,
            seats: 3,
        });
    }
    roles
}
