//! The field catalog `/field` returns: system fields, custom fields of every common type, and
//! `extra_custom_fields` more that cycle through those types.

use std::fmt;
use std::str::FromStr;

use crate::config::Deployment;

/// The system fields the simulator knows how to fill.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum System {
    Summary,
    Description,
    Environment,
    Status,
    StatusCategory,
    StatusCategoryChangeDate,
    Priority,
    IssueType,
    Project,
    Assignee,
    Reporter,
    Creator,
    Created,
    Updated,
    Resolution,
    ResolutionDate,
    Labels,
    Components,
    FixVersions,
    Versions,
    DueDate,
    TimeTracking,
    TimeSpent,
    TimeEstimate,
    TimeOriginalEstimate,
    AggregateTimeSpent,
    AggregateTimeEstimate,
    AggregateTimeOriginalEstimate,
    WorkRatio,
    Progress,
    AggregateProgress,
    Watches,
    Votes,
    Comment,
    Worklog,
    IssueLinks,
    Attachment,
    Subtasks,
    Security,
    LastViewed,
    IssueRestriction,
    Parent,
    IssueKey,
    Thumbnail,
}

/// The custom field types the simulator generates values for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Custom {
    Float,
    TextField,
    TextArea,
    Select,
    MultiSelect,
    RadioButtons,
    MultiCheckboxes,
    Cascading,
    DatePicker,
    DateTime,
    UserPicker,
    MultiUserPicker,
    GroupPicker,
    MultiGroupPicker,
    Labels,
    Url,
    Version,
    MultiVersion,
    Project,
    Sprint,
    EpicLink,
    StoryPoints,
    Rank,
    ParentLink,
    /// A type defined by a Marketplace app, unknown to any schema mapping.
    AppMood,
}

impl Custom {
    /// Fields Jira Software and Advanced Roadmaps manage themselves (locked in Jira): boards,
    /// sprints and epics depend on them, so they are neither removed nor retyped.
    pub fn is_locked(self) -> bool {
        matches!(
            self,
            Custom::Sprint
                | Custom::EpicLink
                | Custom::StoryPoints
                | Custom::Rank
                | Custom::ParentLink
        )
    }

    /// The type's key, as `schema.custom` gives it.
    pub fn key(self) -> &'static str {
        spec_of(self).plugin
    }

    /// The type's name in Jira's administration (and in audit records).
    pub fn label(self) -> &'static str {
        match self {
            Custom::Float | Custom::StoryPoints => "Number Field",
            Custom::TextField => "Text Field (single line)",
            Custom::TextArea => "Text Field (multi-line)",
            Custom::Select => "Select List (single choice)",
            Custom::MultiSelect => "Select List (multiple choices)",
            Custom::RadioButtons => "Radio Buttons",
            Custom::MultiCheckboxes => "Checkboxes",
            Custom::Cascading => "Select List (cascading)",
            Custom::DatePicker => "Date Picker",
            Custom::DateTime => "Date Time Picker",
            Custom::UserPicker => "User Picker (single user)",
            Custom::MultiUserPicker => "User Picker (multiple users)",
            Custom::GroupPicker => "Group Picker (single group)",
            Custom::MultiGroupPicker => "Group Picker (multiple groups)",
            Custom::Labels => "Labels",
            Custom::Url => "URL Field",
            Custom::Version => "Version Picker (single version)",
            Custom::MultiVersion => "Version Picker (multiple versions)",
            Custom::Project => "Project Picker (single project)",
            Custom::Sprint => "Jira Sprint Field",
            Custom::EpicLink => "Epic Link Relationship",
            Custom::Rank => "Global Rank",
            Custom::ParentLink => "Parent Link",
            Custom::AppMood => "Mood",
        }
    }
}

/// A custom field type a test may add a field of, or turn a field into, at run time: Jira's
/// generic types and one defined by an app (not the one-per-site Jira Software fields).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CustomFieldType {
    /// Number (`float`).
    Float,
    TextField,
    /// Multi-line rich text (ADF on v3, wiki markup on v2).
    TextArea,
    Select,
    MultiSelect,
    RadioButtons,
    MultiCheckboxes,
    CascadingSelect,
    DatePicker,
    DateTime,
    UserPicker,
    MultiUserPicker,
    GroupPicker,
    MultiGroupPicker,
    Labels,
    Url,
    Version,
    MultiVersion,
    Project,
    /// A Marketplace app's type (`com.example.app:mood`), unknown to any schema mapping.
    AppMood,
}

impl CustomFieldType {
    pub const ALL: [CustomFieldType; 20] = [
        CustomFieldType::Float,
        CustomFieldType::TextField,
        CustomFieldType::TextArea,
        CustomFieldType::Select,
        CustomFieldType::MultiSelect,
        CustomFieldType::RadioButtons,
        CustomFieldType::MultiCheckboxes,
        CustomFieldType::CascadingSelect,
        CustomFieldType::DatePicker,
        CustomFieldType::DateTime,
        CustomFieldType::UserPicker,
        CustomFieldType::MultiUserPicker,
        CustomFieldType::GroupPicker,
        CustomFieldType::MultiGroupPicker,
        CustomFieldType::Labels,
        CustomFieldType::Url,
        CustomFieldType::Version,
        CustomFieldType::MultiVersion,
        CustomFieldType::Project,
        CustomFieldType::AppMood,
    ];

    pub(crate) fn kind(self) -> Custom {
        match self {
            CustomFieldType::Float => Custom::Float,
            CustomFieldType::TextField => Custom::TextField,
            CustomFieldType::TextArea => Custom::TextArea,
            CustomFieldType::Select => Custom::Select,
            CustomFieldType::MultiSelect => Custom::MultiSelect,
            CustomFieldType::RadioButtons => Custom::RadioButtons,
            CustomFieldType::MultiCheckboxes => Custom::MultiCheckboxes,
            CustomFieldType::CascadingSelect => Custom::Cascading,
            CustomFieldType::DatePicker => Custom::DatePicker,
            CustomFieldType::DateTime => Custom::DateTime,
            CustomFieldType::UserPicker => Custom::UserPicker,
            CustomFieldType::MultiUserPicker => Custom::MultiUserPicker,
            CustomFieldType::GroupPicker => Custom::GroupPicker,
            CustomFieldType::MultiGroupPicker => Custom::MultiGroupPicker,
            CustomFieldType::Labels => Custom::Labels,
            CustomFieldType::Url => Custom::Url,
            CustomFieldType::Version => Custom::Version,
            CustomFieldType::MultiVersion => Custom::MultiVersion,
            CustomFieldType::Project => Custom::Project,
            CustomFieldType::AppMood => Custom::AppMood,
        }
    }

    /// The type's key, as `schema.custom` gives it
    /// (`com.atlassian.jira.plugin.system.customfieldtypes:float`).
    pub fn key(self) -> &'static str {
        self.kind().key()
    }
}

impl fmt::Display for CustomFieldType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.key())
    }
}

impl FromStr for CustomFieldType {
    type Err = String;

    /// The type's key, or its last part (`float`, `select`, `cascadingselect`, `mood`...),
    /// case-insensitively.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let text = text.trim();
        let short = |t: &CustomFieldType| t.key().rsplit(':').next().unwrap_or_default();
        CustomFieldType::ALL
            .into_iter()
            .find(|t| t.key().eq_ignore_ascii_case(text) || short(t).eq_ignore_ascii_case(text))
            .ok_or_else(|| {
                let known: Vec<&str> = CustomFieldType::ALL.iter().map(short).collect();
                format!(
                    "unknown custom field type '{text}': expected one of {}",
                    known.join(", ")
                )
            })
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    System(System),
    Custom(Custom),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Schema {
    pub type_: &'static str,
    pub items: Option<&'static str>,
    pub system: Option<&'static str>,
    pub custom: Option<&'static str>,
    pub custom_id: Option<u64>,
}

#[derive(Clone, Debug)]
pub(crate) struct FieldDef {
    pub id: String,
    pub name: String,
    pub kind: Kind,
    pub navigable: bool,
    pub orderable: bool,
    pub searchable: bool,
    pub clause_names: Vec<String>,
    /// `None` for the fields Jira describes without a schema (`parent`, `issuekey`, ...).
    pub schema: Option<Schema>,
    /// Issue payloads carry this field (`issuekey` and `thumbnail` are catalog-only).
    pub in_issue: bool,
}

impl FieldDef {
    pub fn is_custom(&self) -> bool {
        matches!(self.kind, Kind::Custom(_))
    }

    /// The number in `customfield_NNNNN`, which also seeds the field's option ids.
    pub fn custom_number(&self) -> u64 {
        self.id
            .strip_prefix("customfield_")
            .and_then(|n| n.parse().ok())
            .unwrap_or(0)
    }

    /// Id of the field's `k`-th option (ids are unique across fields).
    pub fn option_id(&self, k: usize) -> u64 {
        20000 + self.custom_number().saturating_sub(FIRST_CUSTOM_ID) * 20 + k as u64
    }

    /// Whether the field's type keeps a list of options (select lists, radio buttons,
    /// checkboxes, cascading selects).
    pub fn has_options(&self) -> bool {
        matches!(
            self.kind,
            Kind::Custom(
                Custom::Select
                    | Custom::MultiSelect
                    | Custom::RadioButtons
                    | Custom::MultiCheckboxes
                    | Custom::Cascading
            )
        )
    }

    /// The field's contexts (`field/{id}/context`): every custom field has its global default
    /// context; select lists also a project-scoped one for bugs with options of their own.
    /// System fields have none.
    pub fn contexts(&self) -> Vec<FieldContext> {
        let Kind::Custom(kind) = self.kind else {
            return Vec::new();
        };
        let offset = self.custom_number().saturating_sub(FIRST_CUSTOM_ID);
        let option = |k: usize, value: &'static str, parent: Option<u64>| FieldOption {
            id: self.option_id(k),
            value,
            parent,
            disabled: false,
        };
        let options: Vec<FieldOption> = match kind {
            Custom::Cascading => {
                let parents = REGIONS
                    .iter()
                    .enumerate()
                    .map(|(k, (name, _))| option(k, name, None));
                let children = REGIONS.iter().enumerate().flat_map(|(k, (_, children))| {
                    children
                        .iter()
                        .enumerate()
                        .map(move |(c, child)| (3 + k * 2 + c, *child, k))
                });
                let children: Vec<FieldOption> = children
                    .map(|(id, child, k)| option(id, child, Some(self.option_id(k))))
                    .collect();
                parents.chain(children).collect()
            }
            _ => option_values(kind)
                .iter()
                .enumerate()
                .map(|(k, value)| option(k, value, None))
                .collect(),
        };
        let mut contexts = vec![FieldContext {
            id: 10100 + offset * 2,
            name: format!("Default Configuration Scheme for {}", self.name),
            description: "Default configuration scheme generated by Jira",
            global: true,
            any_issue_type: true,
            options,
        }];
        if kind == Custom::Select {
            contexts.push(FieldContext {
                id: 10101 + offset * 2,
                name: format!("{} for bugs", self.name),
                description: "",
                global: false,
                any_issue_type: false,
                options: ["Low", "High"]
                    .iter()
                    .enumerate()
                    .map(|(k, value)| FieldOption {
                        id: self.option_id(10 + k),
                        value,
                        parent: None,
                        // Retired in this context, still on old issues elsewhere.
                        disabled: k == 1,
                    })
                    .collect(),
            });
        }
        contexts
    }
}

/// A custom field context: where the field applies, and its options there.
pub(crate) struct FieldContext {
    pub id: u64,
    pub name: String,
    pub description: &'static str,
    pub global: bool,
    pub any_issue_type: bool,
    /// Empty for the types without options.
    pub options: Vec<FieldOption>,
}

pub(crate) struct FieldOption {
    pub id: u64,
    pub value: &'static str,
    /// The parent option of a cascading select's child.
    pub parent: Option<u64>,
    pub disabled: bool,
}

/// Option values of the select-like types (cascading selects use [`REGIONS`]).
pub(crate) fn option_values(kind: Custom) -> &'static [&'static str] {
    match kind {
        Custom::Select => &["Low", "Medium", "High", "Critical"],
        Custom::MultiSelect => &["Web", "iOS", "Android", "Desktop"],
        Custom::RadioButtons => &["Minor", "Major", "Blocker"],
        Custom::MultiCheckboxes => &["Impediment"],
        _ => &[],
    }
}

/// A cascading select's parent options and each one's two children.
pub(crate) const REGIONS: &[(&str, [&str; 2])] = &[
    ("Europe", ["France", "Germany"]),
    ("Americas", ["Costa Rica", "Canada"]),
    ("Asia", ["Japan", "India"]),
];

/// One row of the system field table.
struct SystemSpec {
    field: System,
    id: &'static str,
    name: &'static str,
    /// `(type, items)`; `None` means no schema at all.
    schema: Option<(&'static str, Option<&'static str>)>,
    navigable: bool,
    orderable: bool,
    searchable: bool,
    clauses: &'static [&'static str],
    cloud_only: bool,
    in_issue: bool,
}

const fn sys(
    field: System,
    id: &'static str,
    name: &'static str,
    schema: Option<(&'static str, Option<&'static str>)>,
    flags: (bool, bool, bool),
    clauses: &'static [&'static str],
) -> SystemSpec {
    SystemSpec {
        field,
        id,
        name,
        schema,
        navigable: flags.0,
        orderable: flags.1,
        searchable: flags.2,
        clauses,
        cloud_only: false,
        in_issue: true,
    }
}

const fn cloud_only(mut spec: SystemSpec) -> SystemSpec {
    spec.cloud_only = true;
    spec
}

const fn catalog_only(mut spec: SystemSpec) -> SystemSpec {
    spec.in_issue = false;
    spec
}

/// Flags are (navigable, orderable, searchable), as Jira reports them.
const NAV: (bool, bool, bool) = (true, false, true);
const NAV_EDIT: (bool, bool, bool) = (true, true, true);
const NAV_ONLY: (bool, bool, bool) = (true, false, false);
const HIDDEN_EDIT: (bool, bool, bool) = (false, true, true);

#[rustfmt::skip]
const SYSTEM_FIELDS: &[SystemSpec] = &[
    sys(System::Summary, "summary", "Summary", Some(("string", None)), NAV_EDIT, &["summary"]),
    sys(System::IssueType, "issuetype", "Issue Type", Some(("issuetype", None)), NAV_EDIT, &["issuetype", "type"]),
    sys(System::Parent, "parent", "Parent", None, (true, false, false), &["parent"]),
    sys(System::Project, "project", "Project", Some(("project", None)), NAV, &["project"]),
    sys(System::Status, "status", "Status", Some(("status", None)), NAV, &["status"]),
    cloud_only(sys(System::StatusCategory, "statusCategory", "Status Category", None, NAV, &["statusCategory"])),
    sys(System::StatusCategoryChangeDate, "statuscategorychangedate", "Status Category Changed", Some(("datetime", None)), NAV, &["statusCategoryChangedDate"]),
    sys(System::Priority, "priority", "Priority", Some(("priority", None)), NAV_EDIT, &["priority"]),
    sys(System::Resolution, "resolution", "Resolution", Some(("resolution", None)), NAV_EDIT, &["resolution"]),
    sys(System::ResolutionDate, "resolutiondate", "Resolved", Some(("datetime", None)), NAV, &["resolutiondate", "resolved"]),
    sys(System::Assignee, "assignee", "Assignee", Some(("user", None)), NAV_EDIT, &["assignee"]),
    sys(System::Reporter, "reporter", "Reporter", Some(("user", None)), NAV_EDIT, &["reporter"]),
    sys(System::Creator, "creator", "Creator", Some(("user", None)), NAV, &["creator"]),
    sys(System::Created, "created", "Created", Some(("datetime", None)), NAV, &["created", "createdDate"]),
    sys(System::Updated, "updated", "Updated", Some(("datetime", None)), NAV, &["updated", "updatedDate"]),
    sys(System::DueDate, "duedate", "Due date", Some(("date", None)), NAV_EDIT, &["due", "duedate"]),
    sys(System::Description, "description", "Description", Some(("string", None)), NAV_EDIT, &["description"]),
    sys(System::Environment, "environment", "Environment", Some(("string", None)), NAV_EDIT, &["environment"]),
    sys(System::Labels, "labels", "Labels", Some(("array", Some("string"))), NAV_EDIT, &["labels"]),
    sys(System::Components, "components", "Components", Some(("array", Some("component"))), NAV_EDIT, &["component"]),
    sys(System::FixVersions, "fixVersions", "Fix versions", Some(("array", Some("version"))), NAV_EDIT, &["fixVersion"]),
    sys(System::Versions, "versions", "Affects versions", Some(("array", Some("version"))), NAV_EDIT, &["affectedVersion"]),
    sys(System::Security, "security", "Security Level", Some(("securitylevel", None)), NAV_EDIT, &["level"]),
    sys(System::TimeTracking, "timetracking", "Time tracking", Some(("timetracking", None)), HIDDEN_EDIT, &[]),
    sys(System::TimeSpent, "timespent", "Time Spent", Some(("number", None)), NAV_ONLY, &["timespent"]),
    sys(System::TimeEstimate, "timeestimate", "Remaining Estimate", Some(("number", None)), NAV_ONLY, &["remainingEstimate", "timeestimate"]),
    sys(System::TimeOriginalEstimate, "timeoriginalestimate", "Original estimate", Some(("number", None)), NAV_ONLY, &["originalEstimate", "timeoriginalestimate"]),
    sys(System::AggregateTimeSpent, "aggregatetimespent", "Σ Time Spent", Some(("number", None)), NAV_ONLY, &[]),
    sys(System::AggregateTimeEstimate, "aggregatetimeestimate", "Σ Remaining Estimate", Some(("number", None)), NAV_ONLY, &[]),
    sys(System::AggregateTimeOriginalEstimate, "aggregatetimeoriginalestimate", "Σ Original Estimate", Some(("number", None)), NAV_ONLY, &[]),
    sys(System::WorkRatio, "workratio", "Work Ratio", Some(("number", None)), NAV, &["workratio"]),
    sys(System::Progress, "progress", "Progress", Some(("progress", None)), NAV_ONLY, &["progress"]),
    sys(System::AggregateProgress, "aggregateprogress", "Σ Progress", Some(("progress", None)), NAV_ONLY, &[]),
    sys(System::Watches, "watches", "Watchers", Some(("watches", None)), NAV_ONLY, &["watchers"]),
    sys(System::Votes, "votes", "Votes", Some(("votes", None)), NAV_ONLY, &["votes"]),
    sys(System::Comment, "comment", "Comment", Some(("comments-page", None)), HIDDEN_EDIT, &["comment"]),
    sys(System::Worklog, "worklog", "Log Work", Some(("array", Some("worklog"))), HIDDEN_EDIT, &[]),
    sys(System::IssueLinks, "issuelinks", "Linked Issues", Some(("array", Some("issuelinks"))), NAV_EDIT, &["issueLink"]),
    sys(System::Attachment, "attachment", "Attachment", Some(("array", Some("attachment"))), HIDDEN_EDIT, &["attachments"]),
    sys(System::Subtasks, "subtasks", "Sub-tasks", Some(("array", Some("issuelinks"))), NAV_ONLY, &["subtasks"]),
    sys(System::LastViewed, "lastViewed", "Last Viewed", Some(("datetime", None)), NAV_ONLY, &["lastViewed"]),
    cloud_only(sys(System::IssueRestriction, "issuerestriction", "Restrict to", Some(("issuerestriction", None)), HIDDEN_EDIT, &[])),
    catalog_only(sys(System::IssueKey, "issuekey", "Key", None, NAV_ONLY, &["id", "issue", "issuekey", "key"])),
    catalog_only(sys(System::Thumbnail, "thumbnail", "Images", None, NAV_ONLY, &[])),
];

/// One custom field type: its plugin key, schema and the name of the first field of the type.
struct CustomSpec {
    kind: Custom,
    plugin: &'static str,
    type_: &'static str,
    items: Option<&'static str>,
    name: &'static str,
}

/// Plugin key of a type shipped with Jira.
macro_rules! std_type {
    ($name:literal) => {
        concat!("com.atlassian.jira.plugin.system.customfieldtypes:", $name)
    };
}

macro_rules! custom {
    ($kind:ident, $plugin:expr, $type_:expr, $items:expr, $name:expr) => {
        CustomSpec {
            kind: Custom::$kind,
            plugin: $plugin,
            type_: $type_,
            items: $items,
            name: $name,
        }
    };
}

/// The built-in custom fields, in id order from `customfield_10000`.
#[rustfmt::skip]
const CUSTOM_FIELDS: &[CustomSpec] = &[
    custom!(Float, std_type!("float"), "number", None, "Budget"),
    custom!(TextField, std_type!("textfield"), "string", None, "Customer"),
    custom!(TextArea, std_type!("textarea"), "string", None, "Acceptance criteria"),
    custom!(Select, std_type!("select"), "option", None, "Impact"),
    custom!(MultiSelect, std_type!("multiselect"), "array", Some("option"), "Platforms"),
    custom!(RadioButtons, std_type!("radiobuttons"), "option", None, "Severity"),
    custom!(MultiCheckboxes, std_type!("multicheckboxes"), "array", Some("option"), "Flagged"),
    custom!(Cascading, std_type!("cascadingselect"), "option-with-child", None, "Region"),
    custom!(DatePicker, std_type!("datepicker"), "date", None, "Start date"),
    custom!(DateTime, std_type!("datetime"), "datetime", None, "Change window start"),
    custom!(UserPicker, std_type!("userpicker"), "user", None, "Reviewer"),
    custom!(MultiUserPicker, std_type!("multiuserpicker"), "array", Some("user"), "Approvers"),
    custom!(GroupPicker, std_type!("grouppicker"), "group", None, "Owning group"),
    custom!(MultiGroupPicker, std_type!("multigrouppicker"), "array", Some("group"), "Notify groups"),
    custom!(Labels, std_type!("labels"), "array", Some("string"), "Tags"),
    custom!(Url, std_type!("url"), "string", None, "Design doc"),
    custom!(Version, std_type!("version"), "version", None, "Target release"),
    custom!(MultiVersion, std_type!("multiversion"), "array", Some("version"), "Affected releases"),
    custom!(Project, std_type!("project"), "project", None, "Related project"),
    custom!(Sprint, "com.pyxis.greenhopper.jira:gh-sprint", "array", Some("json"), "Sprint"),
    custom!(EpicLink, "com.pyxis.greenhopper.jira:gh-epic-link", "any", None, "Epic Link"),
    custom!(StoryPoints, std_type!("float"), "number", None, "Story Points"),
    custom!(Rank, "com.pyxis.greenhopper.jira:gh-lexo-rank", "any", None, "Rank"),
    custom!(ParentLink, "com.atlassian.jpo:jpo-custom-field-parent", "any", None, "Parent Link"),
    custom!(AppMood, "com.example.app:mood", "mood", None, "Mood"),
];

pub(crate) const FIRST_CUSTOM_ID: u64 = 10000;

pub(crate) fn catalog(deployment: Deployment, extra: usize) -> Vec<FieldDef> {
    let cloud = deployment == Deployment::Cloud;
    let mut fields: Vec<FieldDef> = SYSTEM_FIELDS
        .iter()
        .filter(|s| cloud || !s.cloud_only)
        .map(|s| FieldDef {
            id: s.id.to_string(),
            name: s.name.to_string(),
            kind: Kind::System(s.field),
            navigable: s.navigable,
            orderable: s.orderable,
            searchable: s.searchable,
            clause_names: s.clauses.iter().map(|c| c.to_string()).collect(),
            schema: s.schema.map(|(type_, items)| Schema {
                type_,
                items,
                system: Some(s.id),
                custom: None,
                custom_id: None,
            }),
            in_issue: s.in_issue,
        })
        .collect();
    let specs = CUSTOM_FIELDS
        .iter()
        .map(|spec| (spec, spec.name.to_string()))
        .chain((0..extra).map(|n| {
            // Every generic type in turn, not the one-per-site Jira Software fields.
            let types = CustomFieldType::ALL;
            let spec = spec_of(types[n % types.len()].kind());
            (spec, format!("{} {}", spec.name, n / types.len() + 2))
        }));
    for (offset, (spec, name)) in specs.enumerate() {
        fields.push(custom_field(
            FIRST_CUSTOM_ID + offset as u64,
            name,
            spec.kind,
            deployment,
        ));
    }
    fields
}

/// The custom field `customfield_{number}` of type `kind`.
pub(crate) fn custom_field(
    number: u64,
    name: String,
    kind: Custom,
    deployment: Deployment,
) -> FieldDef {
    FieldDef {
        id: format!("customfield_{number}"),
        clause_names: vec![format!("cf[{number}]"), name.clone()],
        name,
        kind: Kind::Custom(kind),
        navigable: true,
        orderable: true,
        searchable: true,
        schema: Some(custom_schema(number, kind, deployment)),
        in_issue: true,
    }
}

/// The schema of a custom field of type `kind`.
pub(crate) fn custom_schema(number: u64, kind: Custom, deployment: Deployment) -> Schema {
    let spec = spec_of(kind);
    // Server's legacy sprint field holds strings, and says so.
    let items = match (kind, deployment) {
        (Custom::Sprint, Deployment::Server) => Some("string"),
        _ => spec.items,
    };
    Schema {
        type_: spec.type_,
        items,
        system: None,
        custom: Some(spec.plugin),
        custom_id: Some(number),
    }
}

fn spec_of(kind: Custom) -> &'static CustomSpec {
    CUSTOM_FIELDS
        .iter()
        .find(|s| s.kind == kind)
        .unwrap_or(&CUSTOM_FIELDS[0])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalog_has_every_type_and_numbered_extras() {
        let fields = catalog(Deployment::Cloud, 45);
        let customs: Vec<&FieldDef> = fields.iter().filter(|f| f.is_custom()).collect();
        assert_eq!(customs.len(), CUSTOM_FIELDS.len() + 45);
        assert_eq!(customs[0].id, "customfield_10000");
        let last = customs.last().unwrap();
        assert_eq!(
            last.id,
            format!("customfield_{}", 10000 + CUSTOM_FIELDS.len() + 44)
        );
        for fixed in ["parent", "issuekey", "statusCategory"] {
            let f = fields.iter().find(|f| f.id == fixed).unwrap();
            assert!(f.schema.is_none(), "{fixed} has no schema in Jira");
        }
        let ids: std::collections::HashSet<&str> = fields.iter().map(|f| f.id.as_str()).collect();
        assert_eq!(ids.len(), fields.len(), "field ids are unique");
    }

    #[test]
    fn server_has_no_cloud_only_fields_and_string_sprints() {
        let fields = catalog(Deployment::Server, 0);
        assert!(fields.iter().all(|f| f.id != "statusCategory"));
        let sprint = fields.iter().find(|f| f.name == "Sprint").unwrap();
        assert_eq!(sprint.schema.as_ref().unwrap().items, Some("string"));
    }
}
