//! Reference data every issue points at: issue types, statuses and their categories,
//! priorities, resolutions and issue link types.

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
}

pub(crate) const PRIORITIES: &[Priority] = &[
    Priority {
        id: "1",
        name: "Highest",
        icon: "highest.svg",
    },
    Priority {
        id: "2",
        name: "High",
        icon: "high.svg",
    },
    Priority {
        id: "3",
        name: "Medium",
        icon: "medium.svg",
    },
    Priority {
        id: "4",
        name: "Low",
        icon: "low.svg",
    },
    Priority {
        id: "5",
        name: "Lowest",
        icon: "lowest.svg",
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
